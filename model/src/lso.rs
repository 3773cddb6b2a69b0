//! Large send offload (TWD META REQ_LSO, spec 4.1): one packet of headers and a long payload
//! leaves the MAC as frames of at most MSS payload bytes, each with its own headers.
//!
//! The spec gives the fields (L2_HLEN, L3_TYPE, L3_IHLEN, CSUM_OFFSET, L4_HLEN, L4_TYPE,
//! MSS); what it leaves open is modelled as the Linux driver expects it
//! **[project choice]**:
//! - TCP or UDP over IPv4 or IPv6 (not tunnels: L3_TYPE 3 and L3_OHLEN are refused);
//!   REQ_LSO implies the checksums, REQ_CSO is not needed;
//! - the L4 checksum field holds the pseudo-header sum *without* the L4 length; the device
//!   adds each segment's length, sums the segment and writes the complement (0xffff for a
//!   UDP zero);
//! - per segment k of n: IPv4 total length, identification (+k) and header checksum; IPv6
//!   payload length; TCP sequence number (+k x MSS), FIN and PSH on the last segment only,
//!   CWR on the first only; UDP length;
//! - MSS 64..16383 bytes (`fbnic_hw::desc::LSO_MIN_MSS`, the field's width), headers and
//!   one segment within the 9742-byte frame limit, at most 256 KiB per packet
//!   (`LSO_MAX_BYTES`); anything else makes the packet an error (TWQ0_ERR_CNT).

use fbnic_hw::csum;
use fbnic_hw::desc::{L3Type, L4Type, Twd, LSO_MAX_BYTES, LSO_MIN_MSS};

use crate::mac::MAX_FRAME;

/// Largest packet one LSO request may describe (headers included).
pub(crate) const MAX_LSO_BYTES: usize = LSO_MAX_BYTES;

/// The Tx engine's LSO state.
#[derive(Debug, Default)]
pub(crate) struct LsoState {
    /// Where a packet is gathered before it is cut.
    pub buf: Vec<u8>,
    /// Packets a pause stopped part way (at most one per TWQ; usually none).
    pub resume: Vec<LsoResume>,
}

/// Where to go on with the LSO packet at the head of a TWQ.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LsoResume {
    /// The queue and which of its TWQs.
    pub qi: u16,
    pub twq: u8,
    /// Segments already sent.
    pub sent: u32,
}

/// How a packet is cut: from its META and its own headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Start of the L3 header.
    l3: usize,
    /// Start of the L4 header.
    l4: usize,
    /// Bytes of headers (L2 + L3 + L4): copied into every segment.
    pub hdr: usize,
    /// The L4 checksum field.
    field: usize,
    v4: bool,
    tcp: bool,
    /// Payload bytes per segment (the last may have fewer).
    pub mss: usize,
    /// Segments.
    pub count: usize,
}

/// Checks META's offsets against the gathered packet `pkt`; None when the request is
/// malformed (the packet is then an error).
pub(crate) fn plan(meta: Twd, pkt: &[u8]) -> Option<Plan> {
    let v4 = match L3Type::from_bits(meta.l3_type()) {
        L3Type::Ipv4 => true,
        L3Type::Ipv6 => false,
        _ => return None,
    };
    let tcp = match L4Type::from_bits(meta.l4_type()) {
        L4Type::Tcp => true,
        L4Type::Udp => false,
        _ => return None,
    };
    if meta.l3_ohlen() != 0 || pkt.len() > MAX_LSO_BYTES {
        return None;
    }
    let l3 = meta.l2_hlen() as usize * 2;
    let l4 = l3 + meta.l3_ihlen() as usize * 2;
    let hdr = l4 + meta.l4_hlen() as usize * 4;
    let field = l4 + meta.csum_offset() as usize * 2;
    let mss = meta.mss() as usize;
    if hdr >= pkt.len() || field + 2 > hdr || mss < LSO_MIN_MSS {
        return None;
    }
    let payload = pkt.len() - hdr;
    if hdr + mss.min(payload) > MAX_FRAME {
        return None;
    }
    let l3_len = l4 - l3;
    let header_ok = if v4 {
        // The IPv4 header is exactly L3_IHLEN long (no room for anything between it and L4).
        l3_len >= 20 && (pkt[l3] & 0xf) as usize * 4 == l3_len && pkt[l3] >> 4 == 4
    } else {
        l3_len >= 40 && pkt[l3] >> 4 == 6
    };
    let l4_ok = if tcp {
        hdr - l4 >= 20 && (pkt[l4 + 12] >> 4) as usize * 4 == hdr - l4
    } else {
        hdr - l4 == 8
    };
    if !header_ok || !l4_ok {
        return None;
    }
    Some(Plan {
        l3,
        l4,
        hdr,
        field,
        v4,
        tcp,
        mss,
        count: payload.div_ceil(mss),
    })
}

impl Plan {
    /// Length of segment `k` (headers included).
    pub fn seg_len(&self, pkt_len: usize, k: usize) -> usize {
        let start = self.hdr + k * self.mss;
        self.hdr + (pkt_len - start).min(self.mss)
    }

    /// Writes segment `k` of `pkt` into `out` (exactly [`seg_len`](Self::seg_len) bytes).
    pub fn write_segment(&self, pkt: &[u8], k: usize, out: &mut [u8]) {
        let start = self.hdr + k * self.mss;
        let n = out.len() - self.hdr;
        out[..self.hdr].copy_from_slice(&pkt[..self.hdr]);
        out[self.hdr..].copy_from_slice(&pkt[start..start + n]);
        let (l3, l4) = (self.l3, self.l4);
        let l4_len = out.len() - l4;
        if self.v4 {
            put16(out, l3 + 2, (out.len() - l3) as u16);
            put16(out, l3 + 4, get16(pkt, l3 + 4).wrapping_add(k as u16));
            put16(out, l3 + 10, 0);
            let c = csum::checksum(&out[l3..l4]);
            put16(out, l3 + 10, c);
        } else {
            put16(out, l3 + 4, (out.len() - l3 - 40) as u16);
        }
        if self.tcp {
            let seq = u32::from_be_bytes([pkt[l4 + 4], pkt[l4 + 5], pkt[l4 + 6], pkt[l4 + 7]]);
            let seq = seq.wrapping_add((k * self.mss) as u32);
            out[l4 + 4..l4 + 8].copy_from_slice(&seq.to_be_bytes());
            if k + 1 < self.count {
                out[l4 + 13] &= !(0x01 | 0x08); // FIN, PSH: last segment only
            }
            if k > 0 {
                out[l4 + 13] &= !0x80; // CWR: first segment only
            }
        } else {
            put16(out, l4 + 4, l4_len as u16);
        }
        // The field holds the pseudo-header sum without the length.
        let sum = csum::add(l4_len as u64, &out[l4..]);
        let mut c = !csum::fold(sum);
        if c == 0 && !self.tcp {
            c = 0xffff;
        }
        put16(out, self.field, c);
    }
}

fn get16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TCP/IPv4 or UDP/IPv6 packet with `payload` bytes, its L4 checksum field holding the
    /// pseudo-header sum without the length (as a driver prepares it), and its META.
    fn packet(tcp: bool, v6: bool, payload: usize, mss: u64) -> (Vec<u8>, Twd) {
        let mut p = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
        p.extend_from_slice(if v6 { &[0x86, 0xdd] } else { &[0x08, 0x00] });
        let proto = if tcp { 6u8 } else { 17 };
        let l4h = if tcp { 20 } else { 8 };
        if v6 {
            p.extend_from_slice(&[0x60, 0, 0, 0, 0, 0, proto, 64]);
            p.extend((0..32u8).map(|i| i + 1));
        } else {
            p.extend_from_slice(&[0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, proto, 0, 0]);
            p.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        }
        let l4 = p.len();
        p.extend_from_slice(&[0x30, 0x39, 0x00, 0x50]);
        if tcp {
            // seq 0xfffff000 (wraps), ack 1, 5 words, flags CWR|PSH|ACK|FIN.
            p.extend_from_slice(&[0xff, 0xff, 0xf0, 0x00, 0, 0, 0, 1, 0x50, 0x99, 0xff, 0xff]);
            p.extend_from_slice(&[0, 0, 0, 0]);
        } else {
            p.extend_from_slice(&[0, 0, 0, 0]);
        }
        let addrs = if v6 { 22..54 } else { 26..34 };
        let pseudo = csum::fold(csum::add(proto as u64, &p[addrs]));
        let field = l4 + if tcp { 16 } else { 6 };
        put16(&mut p, field, pseudo);
        p.extend((0..payload).map(|i| (i * 7 + 3) as u8));
        let meta = Twd::meta()
            .with_dest_mac(true)
            .with_req_lso(true)
            .with_l2_hlen(7)
            .with_l3_type(if v6 { 2 } else { 1 })
            .with_l3_ihlen(if v6 { 20 } else { 10 })
            .with_csum_offset(if tcp { 8 } else { 3 })
            .with_l4_hlen(l4h / 4)
            .with_l4_type(if tcp { 1 } else { 2 })
            .with_mss(mss);
        (p, meta)
    }

    /// The ones' complement sum of an L4 segment with its pseudo-header, as a receiver checks it.
    fn l4_verifies(f: &[u8], v6: bool, proto: u8) -> bool {
        let l4 = if v6 { 54 } else { 34 };
        let addrs = if v6 { 22..54 } else { 26..34 };
        let acc = csum::add(proto as u64 + (f.len() - l4) as u64, &f[addrs]);
        csum::fold(csum::add(acc, &f[l4..])) == 0xffff
    }

    #[test]
    fn tcp_over_ipv4_segments_with_their_own_headers() {
        let (p, meta) = packet(true, false, 2500, 1000);
        let plan = plan(meta, &p).expect("a valid request");
        assert_eq!((plan.hdr, plan.count), (54, 3));
        let mut payload = Vec::new();
        for k in 0..plan.count {
            let mut f = vec![0u8; plan.seg_len(p.len(), k)];
            plan.write_segment(&p, k, &mut f);
            let n = f.len() - 54;
            assert_eq!(n, [1000, 1000, 500][k]);
            assert_eq!(get16(&f, 16) as usize, f.len() - 14, "IPv4 total length");
            assert_eq!(get16(&f, 18), 0x1234 + k as u16, "IPv4 identification");
            assert_eq!(
                csum::fold(csum::add(0, &f[14..34])),
                0xffff,
                "IPv4 checksum"
            );
            let seq = u32::from_be_bytes([f[38], f[39], f[40], f[41]]);
            assert_eq!(
                seq,
                0xffff_f000u32.wrapping_add(k as u32 * 1000),
                "sequence"
            );
            let flags = f[47];
            assert_eq!(flags & 0x80 != 0, k == 0, "CWR on the first only");
            assert_eq!(flags & 0x09 != 0, k == 2, "FIN/PSH on the last only");
            assert_eq!(flags & 0x10, 0x10, "ACK kept");
            assert!(l4_verifies(&f, false, 6), "TCP checksum of segment {k}");
            payload.extend_from_slice(&f[54..]);
        }
        assert_eq!(payload, p[54..], "the payload, in order, once");
    }

    #[test]
    fn udp_over_ipv6_segments_are_datagrams() {
        let (p, meta) = packet(false, true, 300, 128);
        let plan = plan(meta, &p).expect("a valid request");
        assert_eq!((plan.hdr, plan.count), (62, 3));
        for k in 0..3 {
            let mut f = vec![0u8; plan.seg_len(p.len(), k)];
            plan.write_segment(&p, k, &mut f);
            assert_eq!(get16(&f, 18) as usize, f.len() - 54, "IPv6 payload length");
            assert_eq!(get16(&f, 58) as usize, f.len() - 54, "UDP length");
            assert!(l4_verifies(&f, true, 17), "UDP checksum of segment {k}");
            assert_eq!(f[62..], p[62 + k * 128..(62 + k * 128 + f.len() - 62)]);
        }
    }

    #[test]
    fn malformed_requests_are_refused() {
        let (p, meta) = packet(true, false, 2000, 1000);
        assert!(plan(meta, &p).is_some());
        for (why, m) in [
            ("MSS too small", meta.with_mss(63)),
            ("not TCP/UDP", meta.with_l4_type(0)),
            ("no L3 type", meta.with_l3_type(0)),
            ("tunnel", meta.with_l3_type(3)),
            ("outer header", meta.with_l3_ohlen(10)),
            ("IPv4 header length disagrees", meta.with_l3_ihlen(12)),
            ("TCP header length disagrees", meta.with_l4_hlen(6)),
            ("checksum outside the L4 header", meta.with_csum_offset(10)),
            (
                "headers past the packet",
                meta.with_l2_hlen(63).with_l3_ihlen(255),
            ),
        ] {
            assert_eq!(plan(m, &p), None, "{why}");
        }
        let (p, meta) = packet(true, false, 12000, 9700);
        assert_eq!(plan(meta, &p), None, "a segment over the frame limit");
        let (p, meta) = packet(true, false, 0, 1000);
        assert_eq!(plan(meta, &p), None, "no payload");
    }
}
