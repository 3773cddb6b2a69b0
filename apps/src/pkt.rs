//! Test frames: Ethernet + IPv4/IPv6 + TCP/UDP (or a bare IP payload), built with correct
//! checksums and parsed back. Pure Rust, no DPDK.
//!
//! Every frame carries a 32-bit tag (a sequence number) at the start of its payload, then a
//! byte pattern derived from the tag, so a receiver can tell which frame it got and that the
//! bytes arrived intact.

/// IP protocol number used for "other" (not TCP/UDP) flows: 253, reserved for experiments
/// (RFC 3692).
pub const PROTO_EXPERIMENT: u8 = 253;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const ETH_HLEN: usize = 14;
/// Smallest Ethernet frame without FCS.
pub const MIN_FRAME: usize = 60;

/// The transport of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum L4 {
    /// TCP (20-byte header, no options).
    Tcp,
    /// UDP.
    Udp,
    /// No transport header: IP protocol [`PROTO_EXPERIMENT`].
    Other,
}

/// Source and destination addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Addrs {
    /// IPv4.
    V4 {
        /// Source.
        src: [u8; 4],
        /// Destination.
        dst: [u8; 4],
    },
    /// IPv6.
    V6 {
        /// Source.
        src: [u8; 16],
        /// Destination.
        dst: [u8; 16],
    },
}

/// A flow: what RSS hashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Flow {
    /// Addresses.
    pub addrs: Addrs,
    /// Transport.
    pub l4: L4,
    /// Source port (ignored for [`L4::Other`]).
    pub sport: u16,
    /// Destination port (ignored for [`L4::Other`]).
    pub dport: u16,
}

/// The six kinds of flow the RSS check sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kind {
    /// IPv6 (else IPv4).
    pub v6: bool,
    /// Transport.
    pub l4: L4,
}

impl Kind {
    /// Every kind, in a fixed order.
    pub const ALL: [Kind; 6] = [
        Kind {
            v6: false,
            l4: L4::Tcp,
        },
        Kind {
            v6: false,
            l4: L4::Udp,
        },
        Kind {
            v6: false,
            l4: L4::Other,
        },
        Kind {
            v6: true,
            l4: L4::Tcp,
        },
        Kind {
            v6: true,
            l4: L4::Udp,
        },
        Kind {
            v6: true,
            l4: L4::Other,
        },
    ];

    /// A short name (`ipv4-tcp`, `ipv6-other`, ...), as testpmd spells RSS types.
    pub fn name(self) -> &'static str {
        match (self.v6, self.l4) {
            (false, L4::Tcp) => "ipv4-tcp",
            (false, L4::Udp) => "ipv4-udp",
            (false, L4::Other) => "ipv4-other",
            (true, L4::Tcp) => "ipv6-tcp",
            (true, L4::Udp) => "ipv6-udp",
            (true, L4::Other) => "ipv6-other",
        }
    }
}

/// A small deterministic generator (xorshift64*), so runs are reproducible.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeded generator (a zero seed is replaced).
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Random bytes.
    pub fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

impl Flow {
    /// A random flow of `kind` (unicast-looking addresses, ports above 1023).
    pub fn random(kind: Kind, rng: &mut Rng) -> Self {
        let addrs = if kind.v6 {
            let (mut src, mut dst) = ([0u8; 16], [0u8; 16]);
            rng.fill(&mut src);
            rng.fill(&mut dst);
            // Global unicast 2001:db8::/32 (documentation prefix) keeps them obviously fake.
            src[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
            dst[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
            Addrs::V6 { src, dst }
        } else {
            let (mut src, mut dst) = ([0u8; 4], [0u8; 4]);
            rng.fill(&mut src);
            rng.fill(&mut dst);
            src[0] = 10;
            dst[0] = 10 + (dst[0] % 100);
            Addrs::V4 { src, dst }
        };
        let (sport, dport) = if kind.l4 == L4::Other {
            (0, 0)
        } else {
            let r = rng.next_u64();
            (1024 + (r as u16 % 64000), 1024 + ((r >> 16) as u16 % 64000))
        };
        Self {
            addrs,
            l4: kind.l4,
            sport,
            dport,
        }
    }

    /// The flow's kind.
    pub fn kind(&self) -> Kind {
        Kind {
            v6: matches!(self.addrs, Addrs::V6 { .. }),
            l4: self.l4,
        }
    }

    /// The RSS input as `rte_softrss()` takes it: 32-bit words in host order (source
    /// address, destination address, then `sport << 16 | dport` for TCP/UDP).
    pub fn rss_tuple(&self) -> Vec<u32> {
        let mut t = Vec::with_capacity(9);
        let words = |b: &[u8], t: &mut Vec<u32>| {
            for w in b.chunks(4) {
                t.push(u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
            }
        };
        match &self.addrs {
            Addrs::V4 { src, dst } => {
                words(src, &mut t);
                words(dst, &mut t);
            }
            Addrs::V6 { src, dst } => {
                words(src, &mut t);
                words(dst, &mut t);
            }
        }
        if self.l4 != L4::Other {
            t.push((self.sport as u32) << 16 | self.dport as u32);
        }
        t
    }

    /// The frame for this flow carrying `tag`, at least `len` bytes long (without FCS; at
    /// least [`MIN_FRAME`]), with valid IP and L4 checksums.
    pub fn frame(&self, dst_mac: [u8; 6], src_mac: [u8; 6], tag: u32, len: usize) -> Vec<u8> {
        let (l3_len, ethertype) = match self.addrs {
            Addrs::V4 { .. } => (20, 0x0800u16),
            Addrs::V6 { .. } => (40, 0x86dd),
        };
        let l4_len = match self.l4 {
            L4::Tcp => 20,
            L4::Udp => 8,
            L4::Other => 0,
        };
        let hdrs = ETH_HLEN + l3_len + l4_len;
        let payload_len = len.max(MIN_FRAME).saturating_sub(hdrs).max(4);
        let mut payload = Vec::with_capacity(payload_len);
        payload.extend_from_slice(&tag.to_be_bytes());
        payload.extend((4..payload_len).map(|i| pattern_byte(tag, i)));

        let proto = match self.l4 {
            L4::Tcp => PROTO_TCP,
            L4::Udp => PROTO_UDP,
            L4::Other => PROTO_EXPERIMENT,
        };
        // L4 header and payload.
        let mut l4 = Vec::with_capacity(l4_len + payload_len);
        match self.l4 {
            L4::Tcp => {
                l4.extend_from_slice(&self.sport.to_be_bytes());
                l4.extend_from_slice(&self.dport.to_be_bytes());
                l4.extend_from_slice(&tag.to_be_bytes()); // sequence number
                l4.extend_from_slice(&0u32.to_be_bytes()); // ack
                l4.extend_from_slice(&[0x50, 0x18]); // 5 words, PSH|ACK
                l4.extend_from_slice(&0xffffu16.to_be_bytes()); // window
                l4.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent
            }
            L4::Udp => {
                l4.extend_from_slice(&self.sport.to_be_bytes());
                l4.extend_from_slice(&self.dport.to_be_bytes());
                l4.extend_from_slice(&((8 + payload_len) as u16).to_be_bytes());
                l4.extend_from_slice(&[0, 0]);
            }
            L4::Other => {}
        }
        l4.extend_from_slice(&payload);
        let csum_at = match self.l4 {
            L4::Tcp => Some(16),
            L4::Udp => Some(6),
            L4::Other => None,
        };
        if let Some(at) = csum_at {
            let mut c = match &self.addrs {
                Addrs::V4 { src, dst } => pseudo_sum(src, dst, proto, l4.len()),
                Addrs::V6 { src, dst } => pseudo_sum(src, dst, proto, l4.len()),
            };
            c = sum_bytes(c, &l4);
            let mut v = fold(c);
            if v == 0 && self.l4 == L4::Udp {
                v = 0xffff;
            }
            l4[at..at + 2].copy_from_slice(&v.to_be_bytes());
        }

        let mut f = Vec::with_capacity(hdrs + payload_len);
        f.extend_from_slice(&dst_mac);
        f.extend_from_slice(&src_mac);
        f.extend_from_slice(&ethertype.to_be_bytes());
        match &self.addrs {
            Addrs::V4 { src, dst } => {
                let mut ip = [0u8; 20];
                ip[0] = 0x45;
                ip[2..4].copy_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
                ip[4..6].copy_from_slice(&(tag as u16).to_be_bytes());
                ip[6] = 0x40; // DF
                ip[8] = 64;
                ip[9] = proto;
                ip[12..16].copy_from_slice(src);
                ip[16..20].copy_from_slice(dst);
                let c = fold(sum_bytes(0, &ip));
                ip[10..12].copy_from_slice(&c.to_be_bytes());
                f.extend_from_slice(&ip);
            }
            Addrs::V6 { src, dst } => {
                f.extend_from_slice(&[0x60, 0, 0, 0]);
                f.extend_from_slice(&(l4.len() as u16).to_be_bytes());
                f.push(proto);
                f.push(64);
                f.extend_from_slice(src);
                f.extend_from_slice(dst);
            }
        }
        f.extend_from_slice(&l4);
        f
    }

    /// The frame as an application hands it to a NIC for checksum offload (DPDK's
    /// convention): the IPv4 header checksum zero and the TCP/UDP checksum field holding the
    /// pseudo-header sum (not complemented). Also returns (l2_len, l3_len).
    pub fn frame_for_cso(
        &self,
        dst_mac: [u8; 6],
        src_mac: [u8; 6],
        tag: u32,
        len: usize,
    ) -> (Vec<u8>, usize, usize) {
        let mut f = self.frame(dst_mac, src_mac, tag, len);
        let l3 = ETH_HLEN;
        let (l3_len, l4) = match self.addrs {
            Addrs::V4 { .. } => {
                f[l3 + 10] = 0;
                f[l3 + 11] = 0;
                (20, l3 + 20)
            }
            Addrs::V6 { .. } => (40, l3 + 40),
        };
        let at = match self.l4 {
            L4::Tcp => Some(l4 + 16),
            L4::Udp => Some(l4 + 6),
            L4::Other => None,
        };
        if let Some(at) = at {
            let seg_len = f.len() - l4;
            let proto = if self.l4 == L4::Tcp {
                PROTO_TCP
            } else {
                PROTO_UDP
            };
            let acc = match &self.addrs {
                Addrs::V4 { src, dst } => pseudo_sum(src, dst, proto, seg_len),
                Addrs::V6 { src, dst } => pseudo_sum(src, dst, proto, seg_len),
            };
            let v = !fold(acc);
            f[at..at + 2].copy_from_slice(&v.to_be_bytes());
        }
        (f, ETH_HLEN, l3_len)
    }

    /// Parses a frame built by [`Flow::frame`]: the flow and the tag, or why not.
    /// The payload pattern and (for IPv4) the header checksum are verified.
    pub fn parse(frame: &[u8]) -> Result<(Flow, u32), String> {
        if frame.len() < ETH_HLEN + 20 {
            return Err(format!("frame of {} bytes is too short", frame.len()));
        }
        let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
        let l3 = &frame[ETH_HLEN..];
        let (addrs, proto, l4) = match ethertype {
            0x0800 => {
                if l3[0] != 0x45 {
                    return Err(format!("IPv4 version/IHL byte {:#x}", l3[0]));
                }
                if fold(sum_bytes(0, &l3[..20])) != 0 {
                    return Err("bad IPv4 header checksum".into());
                }
                let total = u16::from_be_bytes([l3[2], l3[3]]) as usize;
                if total < 20 || total > l3.len() {
                    return Err(format!("IPv4 total length {total} vs {} bytes", l3.len()));
                }
                let mut src = [0u8; 4];
                let mut dst = [0u8; 4];
                src.copy_from_slice(&l3[12..16]);
                dst.copy_from_slice(&l3[16..20]);
                (Addrs::V4 { src, dst }, l3[9], &l3[20..total])
            }
            0x86dd => {
                if l3.len() < 40 || l3[0] >> 4 != 6 {
                    return Err("bad IPv6 header".into());
                }
                let plen = u16::from_be_bytes([l3[4], l3[5]]) as usize;
                if 40 + plen > l3.len() {
                    return Err(format!("IPv6 payload length {plen} vs {} bytes", l3.len()));
                }
                let mut src = [0u8; 16];
                let mut dst = [0u8; 16];
                src.copy_from_slice(&l3[8..24]);
                dst.copy_from_slice(&l3[24..40]);
                (Addrs::V6 { src, dst }, l3[6], &l3[40..40 + plen])
            }
            t => return Err(format!("ethertype {t:#06x}")),
        };
        let (l4k, hlen) = match proto {
            PROTO_TCP => (L4::Tcp, 20),
            PROTO_UDP => (L4::Udp, 8),
            PROTO_EXPERIMENT => (L4::Other, 0),
            p => return Err(format!("IP protocol {p}")),
        };
        if l4.len() < hlen + 4 {
            return Err("L4 payload too short".into());
        }
        let (sport, dport) = if hlen > 0 {
            (
                u16::from_be_bytes([l4[0], l4[1]]),
                u16::from_be_bytes([l4[2], l4[3]]),
            )
        } else {
            (0, 0)
        };
        let payload = &l4[hlen..];
        let tag = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
        if let Some(i) = (4..payload.len()).find(|&i| payload[i] != pattern_byte(tag, i)) {
            return Err(format!("payload byte {i} of frame tag {tag} corrupted"));
        }
        Ok((
            Flow {
                addrs,
                l4: l4k,
                sport,
                dport,
            },
            tag,
        ))
    }
}

fn pattern_byte(tag: u32, i: usize) -> u8 {
    (tag as usize).wrapping_mul(31).wrapping_add(i) as u8
}

fn sum_bytes(mut acc: u32, b: &[u8]) -> u32 {
    let mut chunks = b.chunks_exact(2);
    for c in &mut chunks {
        acc = acc.wrapping_add(u16::from_be_bytes([c[0], c[1]]) as u32);
        acc = (acc & 0xffff) + (acc >> 16);
    }
    if let [last] = chunks.remainder() {
        acc = acc.wrapping_add((*last as u32) << 8);
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc
}

fn pseudo_sum(src: &[u8], dst: &[u8], proto: u8, len: usize) -> u32 {
    let mut acc = sum_bytes(0, src);
    acc = sum_bytes(acc, dst);
    acc = sum_bytes(acc, &[0, proto]);
    sum_bytes(acc, &(len as u32).to_be_bytes())
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// Verifies the L4 checksum of a parsed frame (TCP/UDP over IPv4/IPv6): true if correct.
pub fn l4_checksum_ok(frame: &[u8]) -> bool {
    let Ok((flow, _)) = Flow::parse(frame) else {
        return false;
    };
    let l3 = &frame[ETH_HLEN..];
    let (proto, l4) = match flow.addrs {
        Addrs::V4 { .. } => {
            let total = u16::from_be_bytes([l3[2], l3[3]]) as usize;
            (l3[9], &l3[20..total])
        }
        Addrs::V6 { .. } => {
            let plen = u16::from_be_bytes([l3[4], l3[5]]) as usize;
            (l3[6], &l3[40..40 + plen])
        }
    };
    if flow.l4 == L4::Other {
        return true;
    }
    let acc = match &flow.addrs {
        Addrs::V4 { src, dst } => pseudo_sum(src, dst, proto, l4.len()),
        Addrs::V6 { src, dst } => pseudo_sum(src, dst, proto, l4.len()),
    };
    fold(sum_bytes(acc, l4)) == 0
}

/// Formats a MAC address as `XX:XX:XX:XX:XX:XX`.
pub fn mac_str(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Parses a hex string (no separators) into bytes.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    if s.len() % 2 != 0 {
        return Err(format!("hex string of odd length {}", s.len()));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| format!("hex '{}': {e}", &s[i..i + 2]))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [u8; 6] = [2, 0, 0, 0, 0, 1];
    const B: [u8; 6] = [2, 0, 0, 0, 0, 2];

    #[test]
    fn frames_round_trip_with_valid_checksums() {
        let mut rng = Rng::new(7);
        for kind in Kind::ALL {
            for (i, len) in [60usize, 64, 128, 1000].into_iter().enumerate() {
                let flow = Flow::random(kind, &mut rng);
                let f = flow.frame(A, B, 1000 + i as u32, len);
                assert!(f.len() >= len.max(MIN_FRAME), "{kind:?} {len}: {}", f.len());
                assert_eq!(&f[..6], &A);
                let (back, tag) = Flow::parse(&f).unwrap();
                assert_eq!(back, flow);
                assert_eq!(tag, 1000 + i as u32);
                assert!(l4_checksum_ok(&f), "{kind:?}");
                assert_eq!(flow.kind(), kind);
            }
        }
    }

    #[test]
    fn cso_frames_complete_to_valid_ones() {
        let mut rng = Rng::new(11);
        for kind in Kind::ALL {
            let flow = Flow::random(kind, &mut rng);
            let good = flow.frame(A, B, 9, 90);
            let (mut f, l2, l3) = flow.frame_for_cso(A, B, 9, 90);
            assert_eq!(f.len(), good.len());
            // What a device does: IPv4 header checksum, then the L4 sum over the segment.
            if !kind.v6 {
                let c = fold(sum_bytes(0, &f[l2..l2 + l3]));
                f[l2 + 10..l2 + 12].copy_from_slice(&c.to_be_bytes());
            }
            let at = match kind.l4 {
                L4::Tcp => Some(16),
                L4::Udp => Some(6),
                L4::Other => None,
            };
            if let Some(at) = at {
                let start = l2 + l3;
                let c = fold(sum_bytes(0, &f[start..]));
                f[start + at..start + at + 2].copy_from_slice(&c.to_be_bytes());
            }
            assert_eq!(f, good, "{kind:?}");
        }
    }

    #[test]
    fn corruption_is_detected() {
        let flow = Flow::random(Kind::ALL[1], &mut Rng::new(3));
        let mut f = flow.frame(A, B, 5, 100);
        let n = f.len();
        f[n - 1] ^= 0xff;
        assert!(Flow::parse(&f).unwrap_err().contains("corrupted"));
        assert!(!l4_checksum_ok(&f));
    }

    #[test]
    fn rss_tuple_layout() {
        let flow = Flow {
            addrs: Addrs::V4 {
                src: [66, 9, 149, 187],
                dst: [161, 142, 100, 80],
            },
            l4: L4::Tcp,
            sport: 2794,
            dport: 1766,
        };
        assert_eq!(
            flow.rss_tuple(),
            vec![0x4209_95bb, 0xa18e_6450, (2794 << 16) | 1766]
        );
        let other = Flow {
            l4: L4::Other,
            ..flow
        };
        assert_eq!(other.rss_tuple().len(), 2);
        let v6 = Flow::random(Kind::ALL[3], &mut Rng::new(1));
        assert_eq!(v6.rss_tuple().len(), 9);
    }

    #[test]
    fn hex() {
        assert_eq!(parse_hex("00ff10").unwrap(), vec![0, 255, 16]);
        assert!(parse_hex("0").is_err());
        assert!(parse_hex("zz").is_err());
        assert_eq!(mac_str([2, 0x1d, 0x9b, 0, 0, 1]), "02:1D:9B:00:00:01");
    }
}
