//! The RPC's frame parser: Ethernet (+ one 802.1Q tag), IPv4, IPv6, TCP, UDP.
//!
//! Never panics: every field read is bounds-checked; a header that runs past the frame (or an
//! IPv4 header with a bad checksum) sets [`Parsed::err`] and stops the parse there.

use fbnic_hw::desc::{L3Type, L4Type};

use crate::csum;

/// Ethertypes.
pub(crate) const ETH_P_IPV4: u16 = 0x0800;
pub(crate) const ETH_P_IPV6: u16 = 0x86dd;
pub(crate) const ETH_P_ARP: u16 = 0x0806;
pub(crate) const ETH_P_VLAN: u16 = 0x8100;
pub(crate) const ETH_P_PAUSE: u16 = 0x8808;

const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_FRAG: u8 = 44;

/// What the parser found in a frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// Ethertype after an optional VLAN tag.
    pub ethertype: u16,
    /// Start of the L3 header.
    pub l3_off: u16,
    /// IP version found (`Other` for non-IP or a truncated IP header).
    pub l3: L3TypeP,
    /// End of the IP datagram inside the frame (total length; frame padding excluded).
    pub l3_end: u16,
    /// Start of the L4 header (valid when `l4` is TCP or UDP).
    pub l4_off: u16,
    /// L4 protocol (TCP/UDP only when its header is present and this is a first fragment).
    pub l4: L4TypeP,
    /// The datagram is a fragment (IPv4 MF or offset; IPv6 fragment header).
    pub frag: bool,
    /// L4 source and destination ports (0 without L4).
    pub sport: u16,
    pub dport: u16,
    /// A header was truncated or the IPv4 header checksum is wrong.
    pub err: bool,
    /// A header ran past the frame (or the IP datagram).
    pub trunc: bool,
    /// The ethertype is not one the parser knows (IPv4, IPv6, ARP).
    pub unknown_etype: bool,
}

/// What a parse adds to the RPC's counters (RPC_CNTR_*), packed so a frame waiting in the
/// RXB carries one byte of it rather than the whole [`Parsed`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Findings(u8);

impl Findings {
    pub const UNKNOWN_ETYPE: Self = Self(1);
    pub const IPV4_FRAG: Self = Self(2);
    pub const IPV6_FRAG: Self = Self(4);
    pub const TRUNC: Self = Self(8);

    /// Nothing to count.
    #[inline(always)]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every finding of `other` is in `self`.
    #[inline(always)]
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl Parsed {
    /// The counter findings of this parse.
    #[inline(always)]
    pub fn findings(&self) -> Findings {
        let frag = if !self.frag {
            0
        } else if self.l3 == L3TypeP::V4 {
            Findings::IPV4_FRAG.0
        } else {
            Findings::IPV6_FRAG.0
        };
        let unknown = if self.unknown_etype {
            Findings::UNKNOWN_ETYPE.0
        } else {
            0
        };
        let trunc = if self.trunc { Findings::TRUNC.0 } else { 0 };
        Findings(unknown | frag | trunc)
    }
}

/// The checksums the Rx META reports, from one pass over the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sums {
    /// Folded ones' complement sum of everything after the L2 header (RCD L2_CSUM).
    pub l2: u16,
    /// The TCP/UDP checksum verifies.
    pub l4_ok: bool,
}

/// Computes [`Sums`] for a parsed frame: the payload is summed once and serves both.
#[inline]
pub(crate) fn sums(f: &[u8], p: &Parsed) -> Sums {
    let l3 = (p.l3_off as usize).min(f.len());
    let verify = p.l4 != L4TypeP::Other && !p.frag && !p.err && p.l3 != L3TypeP::Other;
    if !verify {
        return Sums {
            l2: csum::fold(csum::add(0, &f[l3..])),
            l4_ok: false,
        };
    }
    let (l4, end) = (p.l4_off as usize, p.l3_end as usize);
    // The L3 header length is even, so the header and segment sums add up; trailing padding
    // does too when the datagram length is even (else: sum the whole thing again, rare).
    let seg = csum::add(0, &f[l4..end]);
    let l2 = if (end - l3) % 2 == 0 {
        // A verified IPv4 header sums to 0xffff (its checksum is right: `err` is clear), so
        // it need not be summed again.
        let hdr = if p.l3 == L3TypeP::V4 {
            0xffff
        } else {
            csum::add(0, &f[l3..l4])
        };
        csum::fold(csum::add(seg + hdr, &f[end..]))
    } else {
        csum::fold(csum::add(0, &f[l3..]))
    };
    let l4_ok = if p.l4 == L4TypeP::Udp && p.l3 == L3TypeP::V4 && be16(f, l4 + 6) == 0 {
        false
    } else {
        let proto: u64 = if p.l4 == L4TypeP::Tcp { 6 } else { 17 };
        let mut acc = proto + (end - l4) as u64 + seg;
        acc = match p.l3 {
            L3TypeP::V4 => csum::add(acc, &f[l3 + 12..l3 + 20]),
            _ => csum::add(acc, &f[l3 + 8..l3 + 40]),
        };
        csum::fold(acc) == 0xffff
    };
    Sums { l2, l4_ok }
}

/// `L3Type` with a `Default` (the hw enums have none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum L3TypeP {
    #[default]
    Other,
    V4,
    V6,
}

impl L3TypeP {
    pub fn hw(self) -> L3Type {
        match self {
            Self::Other => L3Type::Other,
            Self::V4 => L3Type::Ipv4,
            Self::V6 => L3Type::Ipv6,
        }
    }
}

/// `L4Type` with a `Default`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum L4TypeP {
    #[default]
    Other,
    Tcp,
    Udp,
}

impl L4TypeP {
    pub fn hw(self) -> L4Type {
        match self {
            Self::Other => L4Type::Other,
            Self::Tcp => L4Type::Tcp,
            Self::Udp => L4Type::Udp,
        }
    }
}

#[inline(always)]
fn be16(f: &[u8], off: usize) -> u16 {
    u16::from_be_bytes([f[off], f[off + 1]])
}

/// Parses `f`.
#[inline]
pub(crate) fn parse(f: &[u8]) -> Parsed {
    let mut p = Parsed::default();
    if f.len() < 14 {
        p.err = true;
        p.trunc = true;
        return p;
    }
    let mut et = be16(f, 12);
    let mut off = 14usize;
    if et == ETH_P_VLAN {
        if f.len() < 18 {
            p.err = true;
            p.trunc = true;
            return p;
        }
        et = be16(f, 16);
        off = 18;
    }
    p.ethertype = et;
    p.l3_off = off as u16;
    p.l3_end = f.len() as u16;
    let proto;
    match et {
        ETH_P_IPV4 => {
            if f.len() < off + 20 || f[off] >> 4 != 4 {
                p.err = true;
                p.trunc = true;
                return p;
            }
            let ihl = (f[off] & 0xf) as usize * 4;
            let total = be16(f, off + 2) as usize;
            if ihl < 20 || f.len() < off + ihl || total < ihl || f.len() < off + total {
                p.err = true;
                p.trunc = true;
                return p;
            }
            p.l3 = L3TypeP::V4;
            p.l3_end = (off + total) as u16;
            if !csum::ipv4_header_ok(&f[off..off + ihl]) {
                p.err = true;
            }
            let frag = be16(f, off + 6);
            let mf = frag & 0x2000 != 0;
            let frag_off = frag & 0x1fff;
            p.frag = mf || frag_off != 0;
            if frag_off != 0 {
                return p;
            }
            proto = f[off + 9];
            off += ihl;
        }
        ETH_P_IPV6 => {
            if f.len() < off + 40 || f[off] >> 4 != 6 {
                p.err = true;
                p.trunc = true;
                return p;
            }
            let plen = be16(f, off + 4) as usize;
            if f.len() < off + 40 + plen {
                p.err = true;
                p.trunc = true;
                return p;
            }
            p.l3 = L3TypeP::V6;
            p.l3_end = (off + 40 + plen) as u16;
            let mut nh = f[off + 6];
            off += 40;
            if nh == IPPROTO_FRAG {
                if (p.l3_end as usize) < off + 8 {
                    p.err = true;
                    p.trunc = true;
                    return p;
                }
                p.frag = true;
                if be16(f, off + 2) & 0xfff8 != 0 {
                    return p;
                }
                nh = f[off];
                off += 8;
            }
            proto = nh;
        }
        ETH_P_ARP => return p,
        _ => {
            p.unknown_etype = true;
            return p;
        }
    }
    let end = p.l3_end as usize;
    match proto {
        IPPROTO_TCP => {
            if end < off + 20 || end < off + (f[off + 12] >> 4) as usize * 4 {
                p.err = true;
                p.trunc = true;
                return p;
            }
            p.l4 = L4TypeP::Tcp;
        }
        IPPROTO_UDP => {
            if end < off + 8 {
                p.err = true;
                p.trunc = true;
                return p;
            }
            p.l4 = L4TypeP::Udp;
        }
        _ => return p,
    }
    p.l4_off = off as u16;
    p.sport = be16(f, off);
    p.dport = be16(f, off + 2);
    p
}

/// Where a frame's header layers end (byte offsets into the frame), for the Rx header split
/// (`rx` module). A layer is `None` when the frame does not hold that header complete.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct HdrEnds {
    /// After the Ethernet header (14, or 18 with one VLAN tag).
    pub l2: Option<u16>,
    /// After the IP header: IPv4 L3 offset + IHL * 4; IPv6 L3 offset + 40, + 8 with a
    /// fragment header.
    pub l3: Option<u16>,
    /// After the TCP header (L4 offset + data offset * 4) or the UDP header (L4 offset + 8),
    /// when the parser found TCP or UDP.
    pub l4: Option<u16>,
}

/// The header ends of frame `f`, whose parse is `p`. Every end is bounds-checked against the
/// frame (and, for L3 and L4, the IP datagram); a malformed header (IPv4 IHL < 5, TCP data
/// offset < 5) has no end.
pub(crate) fn hdr_ends(f: &[u8], p: &Parsed) -> HdrEnds {
    let len = f.len();
    let within = |end: usize, limit: usize| (end <= limit.min(len)).then_some(end as u16);
    // `parse` sets the L3 offset only once the Ethernet header (and its tag) is complete.
    let l2 = if p.l3_off >= 14 {
        within(p.l3_off as usize, len)
    } else {
        None
    };
    let off = p.l3_off as usize;
    let dgram = p.l3_end as usize;
    let l3 = match p.l3 {
        L3TypeP::V4 => f
            .get(off)
            .map(|b| (b & 0xf) as usize * 4)
            .filter(|&ihl| ihl >= 20)
            .and_then(|ihl| within(off + ihl, dgram)),
        L3TypeP::V6 => f.get(off + 6).and_then(|&nh| {
            let hl = if nh == IPPROTO_FRAG { 48 } else { 40 };
            within(off + hl, dgram)
        }),
        L3TypeP::Other => None,
    };
    let l4 = if l3.is_none() {
        None
    } else {
        let o = p.l4_off as usize;
        match p.l4 {
            L4TypeP::Tcp => f
                .get(o + 12)
                .map(|b| (b >> 4) as usize * 4)
                .filter(|&hl| hl >= 20)
                .and_then(|hl| within(o + hl, dgram)),
            L4TypeP::Udp => within(o + 8, dgram),
            L4TypeP::Other => None,
        }
    };
    HdrEnds { l2, l3, l4 }
}

/// Whether the TCP/UDP checksum of a parsed, unfragmented datagram verifies (the reference
/// for [`sums`]).
#[cfg(test)]
pub(crate) fn l4_csum_ok(f: &[u8], p: &Parsed) -> bool {
    if p.l4 == L4TypeP::Other || p.frag || p.err {
        return false;
    }
    let (l3, l4, end) = (p.l3_off as usize, p.l4_off as usize, p.l3_end as usize);
    let proto: u64 = if p.l4 == L4TypeP::Tcp { 6 } else { 17 };
    if p.l4 == L4TypeP::Udp && p.l3 == L3TypeP::V4 && be16(f, l4 + 6) == 0 {
        // No checksum was sent: nothing to verify.
        return false;
    }
    let seg = (end - l4) as u64;
    let mut acc = proto + seg;
    acc = match p.l3 {
        L3TypeP::V4 => csum::add(acc, &f[l3 + 12..l3 + 20]),
        L3TypeP::V6 => csum::add(acc, &f[l3 + 8..l3 + 40]),
        L3TypeP::Other => return false,
    };
    acc = csum::add(acc, &f[l4..end]);
    csum::fold(acc) == 0xffff
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds an Ethernet/IPv4/UDP-or-TCP frame with correct checksums.
    pub fn ipv4_frame(
        tcp: bool,
        src: [u8; 4],
        dst: [u8; 4],
        sp: u16,
        dp: u16,
        pay: usize,
    ) -> Vec<u8> {
        let l4len = if tcp { 20 } else { 8 };
        let total = 20 + l4len + pay;
        let mut f = vec![0u8; 14 + total];
        f[0..6].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
        f[12..14].copy_from_slice(&ETH_P_IPV4.to_be_bytes());
        let ip = &mut f[14..34];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        ip[8] = 64;
        ip[9] = if tcp { 6 } else { 17 };
        ip[12..16].copy_from_slice(&src);
        ip[16..20].copy_from_slice(&dst);
        let c = csum::checksum(ip);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        for (i, b) in f[34 + l4len..].iter_mut().enumerate() {
            *b = i as u8;
        }
        let l4 = 34;
        f[l4..l4 + 2].copy_from_slice(&sp.to_be_bytes());
        f[l4 + 2..l4 + 4].copy_from_slice(&dp.to_be_bytes());
        if tcp {
            f[l4 + 12] = 5 << 4;
        } else {
            f[l4 + 4..l4 + 6].copy_from_slice(&((8 + pay) as u16).to_be_bytes());
        }
        let mut acc = (if tcp { 6 } else { 17 }) + (l4len + pay) as u64;
        acc = csum::add(acc, &f[26..34]);
        acc = csum::add(acc, &f[l4..]);
        let mut c = !csum::fold(acc);
        if !tcp && c == 0 {
            c = 0xffff;
        }
        let co = if tcp { l4 + 16 } else { l4 + 6 };
        f[co..co + 2].copy_from_slice(&c.to_be_bytes());
        f
    }

    #[test]
    fn parses_ipv4_udp_and_tcp() {
        for tcp in [false, true] {
            let f = ipv4_frame(tcp, [10, 0, 0, 1], [10, 0, 0, 2], 1234, 80, 30);
            let p = parse(&f);
            assert!(!p.err);
            assert_eq!(p.l3, L3TypeP::V4);
            assert_eq!(p.l4, if tcp { L4TypeP::Tcp } else { L4TypeP::Udp });
            assert_eq!((p.sport, p.dport), (1234, 80));
            assert!(l4_csum_ok(&f, &p));
            let mut bad = f.clone();
            *bad.last_mut().unwrap() ^= 1;
            assert!(!l4_csum_ok(&bad, &parse(&bad)));
            let mut badip = f.clone();
            badip[22] ^= 1; // TTL
            assert!(parse(&badip).err);
        }
    }

    #[test]
    fn one_pass_sums_match_separate_sums() {
        for pay in [0usize, 1, 2, 17, 18, 100, 1001] {
            for tcp in [false, true] {
                for padto in [0usize, 60, 64, 61] {
                    let mut f = ipv4_frame(tcp, [1, 2, 3, 4], [5, 6, 7, 8], 9, 10, pay);
                    if f.len() < padto {
                        f.resize(padto, 0x5a);
                    }
                    let p = parse(&f);
                    let s = sums(&f, &p);
                    assert_eq!(s.l4_ok, l4_csum_ok(&f, &p));
                    assert!(s.l4_ok);
                    assert_eq!(
                        s.l2,
                        csum::fold(csum::add(0, &f[14..])),
                        "pay {pay} pad {padto}"
                    );
                    let mut bad = f.clone();
                    bad[14 + 20 + 2] ^= 0x40;
                    let pb = parse(&bad);
                    assert!(!sums(&bad, &pb).l4_ok);
                }
            }
        }
    }

    #[test]
    fn padding_is_not_part_of_the_datagram() {
        let mut f = ipv4_frame(false, [1, 2, 3, 4], [5, 6, 7, 8], 1, 2, 0);
        assert_eq!(f.len(), 42);
        f.resize(60, 0xaa);
        let p = parse(&f);
        assert_eq!(p.l3_end, 42);
        assert!(l4_csum_ok(&f, &p));
    }

    #[test]
    fn fragments_and_vlan() {
        let mut f = ipv4_frame(true, [1, 2, 3, 4], [5, 6, 7, 8], 1, 2, 10);
        f[20] = 0x20; // MF, offset 0: first fragment keeps L4
        let c = csum::checksum(&{
            let mut h = f[14..34].to_vec();
            h[10] = 0;
            h[11] = 0;
            h
        });
        f[24..26].copy_from_slice(&c.to_be_bytes());
        let p = parse(&f);
        assert!(p.frag && p.l4 == L4TypeP::Tcp && !p.err);
        assert!(!l4_csum_ok(&f, &p));
        f[21] = 1; // offset 8: no L4
        let c = csum::checksum(&{
            let mut h = f[14..34].to_vec();
            h[10] = 0;
            h[11] = 0;
            h
        });
        f[24..26].copy_from_slice(&c.to_be_bytes());
        let p = parse(&f);
        assert!(p.frag && p.l4 == L4TypeP::Other && !p.err);

        let base = ipv4_frame(false, [1, 2, 3, 4], [5, 6, 7, 8], 9, 10, 4);
        let mut v = base[..12].to_vec();
        v.extend_from_slice(&[0x81, 0x00, 0x00, 0x05]);
        v.extend_from_slice(&base[12..]);
        let p = parse(&v);
        assert_eq!(p.l3_off, 18);
        assert_eq!((p.sport, p.dport), (9, 10));
        assert!(l4_csum_ok(&v, &p));
    }

    #[test]
    fn never_panics_on_truncation() {
        let f = ipv4_frame(true, [1, 2, 3, 4], [5, 6, 7, 8], 1, 2, 10);
        for n in 0..f.len() {
            let p = parse(&f[..n]);
            let _ = l4_csum_ok(&f[..n], &p);
            assert!(p.err || n < 14 || p.l3 == L3TypeP::Other);
        }
        let mut v6 = vec![0u8; 14 + 40 + 8];
        v6[12..14].copy_from_slice(&ETH_P_IPV6.to_be_bytes());
        v6[14] = 0x60;
        v6[18..20].copy_from_slice(&8u16.to_be_bytes());
        v6[20] = 44; // fragment header
        v6[54] = 17;
        let p = parse(&v6);
        assert!(p.frag && p.l4 == L4TypeP::Other, "{p:?}");
        for n in 0..v6.len() {
            let _ = parse(&v6[..n]);
        }
        let mut arp = vec![0u8; 60];
        arp[12..14].copy_from_slice(&ETH_P_ARP.to_be_bytes());
        assert!(!parse(&arp).unknown_etype);
        arp[12] = 0x12;
        assert!(parse(&arp).unknown_etype);
    }

    /// Inserts `opt` (a multiple of 4 bytes) as IPv4 options after the IPv4 header at 14 and
    /// fixes IHL, total length and the header checksum.
    fn with_ip_options(f: &[u8], opt: &[u8]) -> Vec<u8> {
        let mut v = f[..34].to_vec();
        v.extend_from_slice(opt);
        v.extend_from_slice(&f[34..]);
        v[14] = 0x40 | (5 + opt.len() / 4) as u8;
        let total = be16(&v, 16) as usize + opt.len();
        v[16..18].copy_from_slice(&(total as u16).to_be_bytes());
        v[24..26].copy_from_slice(&[0, 0]);
        let c = csum::checksum(&v[14..34 + opt.len()]);
        v[24..26].copy_from_slice(&c.to_be_bytes());
        v
    }

    /// An Ethernet/IPv6 frame: next header `nh`, then `rest` (payload length = its length).
    fn ipv6_with(nh: u8, rest: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 54];
        f[12..14].copy_from_slice(&ETH_P_IPV6.to_be_bytes());
        f[14] = 0x60;
        f[18..20].copy_from_slice(&(rest.len() as u16).to_be_bytes());
        f[20] = nh;
        f[21] = 64;
        f.extend_from_slice(rest);
        f
    }

    fn ends(f: &[u8]) -> (Option<u16>, Option<u16>, Option<u16>) {
        let e = hdr_ends(f, &parse(f));
        (e.l2, e.l3, e.l4)
    }

    #[test]
    fn header_ends_of_plain_tagged_and_optioned_frames() {
        let udp = ipv4_frame(false, [1, 2, 3, 4], [5, 6, 7, 8], 9, 10, 30);
        assert_eq!(ends(&udp), (Some(14), Some(34), Some(42)));
        let tcp = ipv4_frame(true, [1, 2, 3, 4], [5, 6, 7, 8], 9, 10, 30);
        assert_eq!(ends(&tcp), (Some(14), Some(34), Some(54)));
        // One VLAN tag moves everything by 4.
        let mut v = tcp[..12].to_vec();
        v.extend_from_slice(&[0x81, 0x00, 0x00, 0x07]);
        v.extend_from_slice(&tcp[12..]);
        assert_eq!(ends(&v), (Some(18), Some(38), Some(58)));
        // IPv4 options (IHL 7) and TCP options (data offset 8: 12 bytes of the payload).
        let mut o = with_ip_options(&tcp, &[1, 1, 1, 1, 1, 1, 1, 0]);
        assert!(!parse(&o).err);
        o[42 + 12] = 8 << 4;
        assert_eq!(ends(&o), (Some(14), Some(42), Some(42 + 32)));
        // A TCP data offset below 5 is no header; one past the datagram neither.
        o[42 + 12] = 4 << 4;
        assert_eq!(ends(&o), (Some(14), Some(42), None));
        o[42 + 12] = 15 << 4; // 60 bytes, the segment holds 50
        assert_eq!(ends(&o), (Some(14), Some(42), None));
        // A later fragment has no L4 header: the IP header still ends.
        let mut fr = udp.clone();
        fr[20] = 0x00;
        fr[21] = 0x10; // offset 16 * 8
        fr[24..26].copy_from_slice(&[0, 0]);
        let c = csum::checksum(&fr[14..34]);
        fr[24..26].copy_from_slice(&c.to_be_bytes());
        assert_eq!(ends(&fr), (Some(14), Some(34), None));
    }

    #[test]
    fn header_ends_of_ipv6_with_and_without_fragment_header() {
        let mut udp = vec![0u8; 8 + 20];
        udp[0..2].copy_from_slice(&5u16.to_be_bytes());
        udp[4..6].copy_from_slice(&28u16.to_be_bytes());
        let f = ipv6_with(17, &udp);
        assert_eq!(ends(&f), (Some(14), Some(54), Some(62)));
        // A first fragment: fragment header (next header UDP, offset 0, M set), then UDP.
        let mut rest = vec![17, 0, 0x00, 0x01, 0, 0, 0, 1];
        rest.extend_from_slice(&udp);
        let f = ipv6_with(44, &rest);
        assert!(parse(&f).frag);
        assert_eq!(ends(&f), (Some(14), Some(62), Some(70)));
        // A later fragment: the IP header (with its fragment header) ends, no L4.
        rest[2] = 0x01;
        let f = ipv6_with(44, &rest);
        assert_eq!(ends(&f), (Some(14), Some(62), None));
        // A fragment header cut by the payload length: no complete IP header.
        let f = ipv6_with(44, &rest[..4]);
        assert_eq!(ends(&f), (Some(14), None, None));
        // TCP over IPv6 with options (data offset 10).
        let mut tcp = vec![0u8; 40 + 5];
        tcp[12] = 10 << 4;
        let f = ipv6_with(6, &tcp);
        assert_eq!(ends(&f), (Some(14), Some(54), Some(94)));
    }

    #[test]
    fn header_ends_of_non_ip_and_truncated_frames() {
        let mut arp = vec![0u8; 60];
        arp[12..14].copy_from_slice(&ETH_P_ARP.to_be_bytes());
        assert_eq!(ends(&arp), (Some(14), None, None));
        arp[12..14].copy_from_slice(&0x88b5u16.to_be_bytes());
        assert_eq!(ends(&arp), (Some(14), None, None));
        let mut tagged = arp[..12].to_vec();
        tagged.extend_from_slice(&[0x81, 0x00, 0x00, 0x07]);
        tagged.extend_from_slice(&arp[12..]);
        assert_eq!(ends(&tagged), (Some(18), None, None));
        assert_eq!(ends(&tagged[..17]), (None, None, None), "tag cut short");
        assert_eq!(ends(&arp[..13]), (None, None, None));
        assert_eq!(ends(&[]), (None, None, None));
        // An IPv4 datagram too short for its TCP header: the IP header still ends.
        let mut t = ipv4_frame(true, [1, 2, 3, 4], [5, 6, 7, 8], 9, 10, 0);
        t[16..18].copy_from_slice(&30u16.to_be_bytes()); // 20 + 10: half a TCP header
        t[24..26].copy_from_slice(&[0, 0]);
        let c = csum::checksum(&t[14..34]);
        t[24..26].copy_from_slice(&c.to_be_bytes());
        assert!(parse(&t).trunc);
        assert_eq!(ends(&t), (Some(14), Some(34), None));
        // Every cut of a tagged frame with IP and TCP options: never past the cut, never a
        // panic, and the full set only once the whole frame is there.
        let tcp = ipv4_frame(true, [1, 2, 3, 4], [5, 6, 7, 8], 9, 10, 40);
        let mut o = with_ip_options(&tcp, &[1, 1, 1, 0]);
        o[38 + 12] = 7 << 4;
        let mut v = o[..12].to_vec();
        v.extend_from_slice(&[0x81, 0x00, 0x00, 0x07]);
        v.extend_from_slice(&o[12..]);
        assert_eq!(ends(&v), (Some(18), Some(42), Some(70)));
        for n in 0..v.len() {
            let (l2, l3, l4) = ends(&v[..n]);
            for e in [l2, l3, l4].into_iter().flatten() {
                assert!(e as usize <= n, "cut {n}: end {e}");
            }
            // A cut frame's IPv4 total length runs past it: no IP header is reported.
            assert_eq!(l3, None, "cut {n}");
            assert_eq!(l2.is_some(), n >= 18, "cut {n}");
        }
    }

    #[test]
    fn findings_name_the_counters() {
        let ok = ipv4_frame(false, [1, 2, 3, 4], [5, 6, 7, 8], 9, 10, 18);
        assert!(parse(&ok).findings().is_empty());
        // A bad IPv4 header checksum is an error but no counter of its own.
        let mut bad = ok.clone();
        bad[24] ^= 0xff;
        let p = parse(&bad);
        assert!(p.err && p.findings().is_empty());
        let mut frag = ok.clone();
        frag[20] = 0x20; // MF
        let f = parse(&frag).findings();
        assert!(f.contains(Findings::IPV4_FRAG) && !f.contains(Findings::IPV6_FRAG));
        let f = parse(&ok[..20]).findings();
        assert_eq!(f, Findings::TRUNC);
        let mut other = ok.clone();
        other[12] = 0x12;
        assert_eq!(parse(&other).findings(), Findings::UNKNOWN_ETYPE);
        let mut v6 = vec![0u8; 14 + 40 + 8];
        v6[12..14].copy_from_slice(&ETH_P_IPV6.to_be_bytes());
        v6[14] = 0x60;
        v6[18..20].copy_from_slice(&8u16.to_be_bytes());
        v6[20] = 44;
        let f = parse(&v6).findings();
        assert!(f.contains(Findings::IPV6_FRAG) && !f.contains(Findings::IPV4_FRAG));
    }
}
