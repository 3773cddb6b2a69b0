//! Entry points for the fuzz targets (feature `fuzzing`, not part of the model's API): the
//! device's parser of frames from the wire, which any link partner (or any driver, through
//! Tx) controls byte for byte.

use crate::parse::{self, L3TypeP, L4TypeP};

/// What the RPC's parser made of a frame, and the sums the Rx META would carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameParse {
    /// Ethertype after an optional VLAN tag.
    pub ethertype: u16,
    /// Start of the L3 header.
    pub l3_off: usize,
    /// End of the IP datagram (the frame's end when there is none).
    pub l3_end: usize,
    /// IPv4 / IPv6 found (header present).
    pub ipv4: bool,
    pub ipv6: bool,
    /// Start of the TCP or UDP header, when the parser found one.
    pub l4_off: Option<usize>,
    /// The L4 header is TCP (else UDP), when `l4_off` is set.
    pub tcp: bool,
    /// L4 ports (0 without L4).
    pub sport: u16,
    pub dport: u16,
    /// A fragment.
    pub frag: bool,
    /// A header was truncated, or the IPv4 header checksum is wrong.
    pub err: bool,
    /// A header ran past the frame or datagram.
    pub trunc: bool,
    /// RCD L2_CSUM: the folded sum of everything from the L3 header on.
    pub l2_csum: u16,
    /// RCD L4_CSUM_UNNECESSARY: the TCP/UDP checksum verified.
    pub l4_csum_ok: bool,
}

/// Parses `f` and computes its sums as the RPC does for a received frame.
pub fn parse_frame(f: &[u8]) -> FrameParse {
    let p = parse::parse(f);
    let sums = parse::sums(f, &p);
    FrameParse {
        ethertype: p.ethertype,
        l3_off: p.l3_off as usize,
        l3_end: p.l3_end as usize,
        ipv4: p.l3 == L3TypeP::V4,
        ipv6: p.l3 == L3TypeP::V6,
        l4_off: (p.l4 != L4TypeP::Other).then_some(p.l4_off as usize),
        tcp: p.l4 == L4TypeP::Tcp,
        sport: p.sport,
        dport: p.dport,
        frag: p.frag,
        err: p.err,
        trunc: p.trunc,
        l2_csum: sums.l2,
        l4_csum_ok: sums.l4_ok,
    }
}
