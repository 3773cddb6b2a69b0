//! TCP/UDP checksum verdicts from the device's complete checksum.
//!
//! The device marks a TCP/UDP checksum it verified with META L4_CSUM_UNNECESSARY. When the
//! bit is clear the checksum is bad, or the device did not check it (a first fragment, UDP
//! over IPv4 without a checksum, ...). Every META also carries L2_CSUM, the folded ones'
//! complement sum of everything after the L2 header (Linux uses it as CHECKSUM_COMPLETE).
//! From it and the headers alone, without summing the payload, the driver tells the cases
//! apart: the L4 segment's sum is L2_CSUM less the IP header's and the Ethernet padding's,
//! and with the pseudo-header added a right checksum sums to all-ones.
//!
//! Ones' complement sums are sums modulo 0xffff; subtracting a sum is adding its complement.

use fbnic_hw::csum::{add, fold};

/// What a frame's TCP/UDP checksum is, as far as the driver can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L4Verdict {
    Good,
    Bad,
    /// Not a TCP/UDP datagram the checksum covers whole (fragment, no checksum, truncated,
    /// not IP), so there is nothing to verify.
    Unknown,
}

/// Where a frame's TCP/UDP segment lies, and its pseudo-header sum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct L4Layout {
    /// Start of the IP header (after Ethernet and at most one 802.1Q tag).
    pub l3: usize,
    /// Start of the TCP/UDP header.
    pub l4: usize,
    /// End of the IP datagram (frame padding follows).
    pub end: usize,
    /// Pseudo-header sum (addresses, protocol, segment length), not folded.
    pub pseudo: u64,
}

const ETH_P_IPV4: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;
const ETH_P_VLAN: u16 = 0x8100;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;

#[inline]
fn be16(f: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*f.get(at)?, *f.get(at + 1)?]))
}

/// The TCP/UDP segment of a frame whose checksum covers it whole: an unfragmented IPv4 or
/// IPv6 (no extension header) datagram carrying TCP or UDP with a checksum, its headers
/// complete within the frame. `None` for anything else.
pub fn layout(f: &[u8]) -> Option<L4Layout> {
    let mut et = be16(f, 12)?;
    let mut l3 = 14;
    if et == ETH_P_VLAN {
        et = be16(f, 16)?;
        l3 = 18;
    }
    let (l4, end, proto, pseudo) = match et {
        ETH_P_IPV4 => {
            let h = f.get(l3..l3 + 20)?;
            let ihl = (h[0] & 0xf) as usize * 4;
            let total = be16(f, l3 + 2)? as usize;
            if h[0] >> 4 != 4 || ihl < 20 || total < ihl || f.len() < l3 + total {
                return None;
            }
            // Any fragment (more-fragments or an offset): the checksum covers the datagram.
            if be16(f, l3 + 6)? & 0x3fff != 0 {
                return None;
            }
            let proto = h[9];
            let len = (total - ihl) as u64;
            (
                l3 + ihl,
                l3 + total,
                proto,
                add(len + proto as u64, &h[12..20]),
            )
        }
        ETH_P_IPV6 => {
            let h = f.get(l3..l3 + 40)?;
            let plen = be16(f, l3 + 4)? as usize;
            if h[0] >> 4 != 6 || f.len() < l3 + 40 + plen {
                return None;
            }
            let proto = h[6];
            (
                l3 + 40,
                l3 + 40 + plen,
                proto,
                add(plen as u64 + proto as u64, &h[8..40]),
            )
        }
        _ => return None,
    };
    let hdr = match proto {
        IPPROTO_TCP => 20,
        IPPROTO_UDP => 8,
        _ => return None,
    };
    if end < l4 + hdr {
        return None;
    }
    if proto == IPPROTO_TCP && end < l4 + (f[l4 + 12] >> 4) as usize * 4 {
        return None;
    }
    // UDP over IPv4 with a zero checksum field carries no checksum.
    if proto == IPPROTO_UDP && et == ETH_P_IPV4 && be16(f, l4 + 6)? == 0 {
        return None;
    }
    Some(L4Layout {
        l3,
        l4,
        end,
        pseudo,
    })
}

/// The verdict on frame `f`'s TCP/UDP checksum from `l2_csum`, the device's folded sum of
/// everything after the L2 header (META L2_CSUM). Reads only the headers and the padding.
pub fn verdict(f: &[u8], l2_csum: u16) -> L4Verdict {
    let Some(l) = layout(f) else {
        return L4Verdict::Unknown;
    };
    let ip_hdr = fold(add(0, &f[l.l3..l.l4]));
    // Padding that starts an odd number of bytes into the L3 region was summed with its
    // bytes in the other halves of the words: swapped, which is a factor of 256.
    let mut pad = fold(add(0, &f[l.end..]));
    if (l.end - l.l3) % 2 == 1 {
        pad = pad.swap_bytes();
    }
    let sum = l2_csum as u64 + !ip_hdr as u64 + !pad as u64 + l.pseudo;
    if fold(sum) == 0xffff {
        L4Verdict::Good
    } else {
        L4Verdict::Bad
    }
}

/// The verdict from summing the segment itself (the reference [`verdict`] must agree with).
pub fn verdict_by_summing(f: &[u8]) -> L4Verdict {
    match layout(f) {
        None => L4Verdict::Unknown,
        Some(l) if fold(add(l.pseudo, &f[l.l4..l.end])) == 0xffff => L4Verdict::Good,
        Some(_) => L4Verdict::Bad,
    }
}

/// What the device reports as L2_CSUM for frame `f` whose IP header starts at `l3`.
pub fn l2_csum(f: &[u8], l3: usize) -> u16 {
    fold(add(0, f.get(l3..).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ethernet (+ VLAN) / IPv4 or IPv6 / TCP or UDP with a right checksum, `pay` payload
    /// bytes and `pad` bytes of Ethernet padding.
    fn frame(v6: bool, tcp: bool, vlan: bool, pay: usize, pad: usize) -> Vec<u8> {
        let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
        if vlan {
            f.extend_from_slice(&[0x81, 0x00, 0x00, 0x05]);
        }
        let l4len = if tcp { 20 } else { 8 } + pay;
        let proto = if tcp { 6 } else { 17 };
        let l3 = f.len() + 2;
        if v6 {
            f.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0]);
            f.extend_from_slice(&(l4len as u16).to_be_bytes());
            f.extend_from_slice(&[proto, 64]);
            f.extend((0..32).map(|i| 0x20 + i as u8));
        } else {
            f.extend_from_slice(&[0x08, 0x00, 0x45, 0]);
            f.extend_from_slice(&((20 + l4len) as u16).to_be_bytes());
            f.extend_from_slice(&[0, 1, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
            let c = !fold(add(0, &f[l3..l3 + 20]));
            f[l3 + 10..l3 + 12].copy_from_slice(&c.to_be_bytes());
        }
        let l4 = f.len();
        f.extend_from_slice(&[0x30, 0x39, 0x00, 0x50]);
        if tcp {
            f.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0]);
        } else {
            f.extend_from_slice(&(l4len as u16).to_be_bytes());
            f.extend_from_slice(&[0, 0]);
        }
        f.extend((0..pay).map(|i| (i * 7 + 3) as u8));
        let at = l4 + if tcp { 16 } else { 6 };
        let l = pseudo_sum(&f, l3, v6, proto, l4len);
        let c = !fold(add(l, &f[l4..]));
        f[at..at + 2].copy_from_slice(&c.to_be_bytes());
        f.extend((0..pad).map(|i| 0xa0 + i as u8));
        f
    }

    /// The pseudo-header sum, computed independently of [`layout`].
    fn pseudo_sum(f: &[u8], l3: usize, v6: bool, proto: u8, len: usize) -> u64 {
        let addrs = if v6 {
            &f[l3 + 8..l3 + 40]
        } else {
            &f[l3 + 12..l3 + 20]
        };
        add(proto as u64 + len as u64, addrs)
    }

    fn l3_of(f: &[u8]) -> usize {
        if f[12] == 0x81 {
            18
        } else {
            14
        }
    }

    #[test]
    fn right_checksums_are_good_and_a_flipped_bit_is_bad() {
        for v6 in [false, true] {
            for tcp in [false, true] {
                for vlan in [false, true] {
                    for pay in [0, 1, 2, 17, 18, 100] {
                        for pad in [0, 1, 2, 3, 7] {
                            let f = frame(v6, tcp, vlan, pay, pad);
                            let l2 = l2_csum(&f, l3_of(&f));
                            let what = format!("v6 {v6} tcp {tcp} vlan {vlan} pay {pay} pad {pad}");
                            assert_eq!(verdict(&f, l2), L4Verdict::Good, "{what}");
                            assert_eq!(verdict_by_summing(&f), L4Verdict::Good, "{what}");
                            // Corrupt one payload (or header) bit after the device summed it.
                            let mut bad = f.clone();
                            let l4 = layout(&f).unwrap().l4;
                            bad[l4 + 4 + pay.min(3)] ^= 0x10;
                            let l2 = l2_csum(&bad, l3_of(&bad));
                            assert_eq!(verdict(&bad, l2), L4Verdict::Bad, "{what}");
                            assert_eq!(verdict_by_summing(&bad), L4Verdict::Bad, "{what}");
                            // A device sum that does not match the frame is caught too.
                            assert_eq!(verdict(&f, l2_csum(&f, l3_of(&f)) ^ 1), L4Verdict::Bad);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn nothing_to_verify_is_unknown() {
        let f = frame(false, false, false, 18, 0);
        let l2 = l2_csum(&f, 14);
        // UDP over IPv4 without a checksum.
        let mut g = f.clone();
        g[40] = 0;
        g[41] = 0;
        assert_eq!(verdict(&g, l2_csum(&g, 14)), L4Verdict::Unknown);
        // IPv4 fragments: more-fragments, or an offset.
        for bits in [0x20u8, 0x00] {
            let mut g = f.clone();
            g[20] = bits;
            g[21] = if bits == 0 { 8 } else { 0 };
            assert_eq!(verdict(&g, l2), L4Verdict::Unknown);
        }
        // An IPv6 extension header (the fragment header) in front of the L4 header.
        let mut g = frame(true, true, false, 10, 0);
        g[20] = 44;
        assert_eq!(verdict(&g, l2_csum(&g, 14)), L4Verdict::Unknown);
        // Not TCP/UDP, not IP, truncated headers, a total length past the frame.
        let mut g = f.clone();
        g[23] = 1;
        assert_eq!(verdict(&g, l2), L4Verdict::Unknown);
        let mut g = f.clone();
        g[12] = 0x08;
        g[13] = 0x06;
        assert_eq!(verdict(&g, l2), L4Verdict::Unknown);
        for n in 0..f.len() {
            assert_eq!(verdict(&f[..n], l2), L4Verdict::Unknown, "cut at {n}");
        }
        let mut g = f.clone();
        g[17] += 1;
        assert_eq!(verdict(&g, l2), L4Verdict::Unknown);
        // A TCP data offset past the datagram.
        let mut g = frame(false, true, false, 0, 0);
        g[46] = 0x60;
        assert_eq!(verdict(&g, l2_csum(&g, 14)), L4Verdict::Unknown);
    }

    #[test]
    fn udp_over_ipv6_with_a_zero_checksum_is_bad() {
        // IPv6 makes the UDP checksum mandatory: zero is not "none".
        let mut f = frame(true, false, false, 12, 0);
        f[60] = 0;
        f[61] = 0;
        assert_eq!(verdict(&f, l2_csum(&f, 14)), L4Verdict::Bad);
    }
}
