//! The packet side of `fbnic-lb`: which frames belong to the virtual service, and the
//! IP-in-IP encapsulation (RFC 2003) that carries them to a backend, which answers clients
//! directly (direct server return, as Maglev and Katran do). Pure Rust, no DPDK.

/// Ethernet header bytes.
pub const ETH_HLEN: usize = 14;
/// IPv4 header bytes without options.
pub const IPV4_HLEN: usize = 20;
/// What encapsulation adds to a frame: the outer IPv4 header (the outer Ethernet header
/// takes the place of the client's).
pub const ENCAP_GROWTH: usize = IPV4_HLEN;
/// IP protocol number of IPv4-in-IPv4.
pub const PROTO_IPIP: u8 = 4;
const ETHERTYPE_IPV4: u16 = 0x0800;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;

/// The virtual service: an IPv4 address and a TCP/UDP port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vip {
    /// Address.
    pub addr: [u8; 4],
    /// Port (TCP and UDP).
    pub port: u16,
}

/// What becomes of a received frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A TCP/UDP packet to the service: to a backend.
    Service,
    /// Well formed, not for the service (another address or port, another protocol, not
    /// IPv4, a fragment): dropped.
    NotService,
    /// Not a well-formed IPv4 packet: dropped.
    Malformed(&'static str),
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Classifies a frame (Ethernet first).
pub fn classify(frame: &[u8], vip: Vip) -> Verdict {
    if frame.len() < ETH_HLEN {
        return Verdict::Malformed("shorter than an Ethernet header");
    }
    if be16(frame, 12) != ETHERTYPE_IPV4 {
        return Verdict::NotService;
    }
    let ip = &frame[ETH_HLEN..];
    if ip.len() < IPV4_HLEN || ip[0] >> 4 != 4 {
        return Verdict::Malformed("not an IPv4 header");
    }
    let ihl = (ip[0] & 0xf) as usize * 4;
    let total = be16(ip, 2) as usize;
    if ihl < IPV4_HLEN || total < ihl || total > ip.len() {
        return Verdict::Malformed("IPv4 header or total length out of the frame");
    }
    if be16(ip, 6) & 0x3fff != 0 {
        // A fragment: only the first carries the ports.
        return Verdict::NotService;
    }
    if !matches!(ip[9], PROTO_TCP | PROTO_UDP) {
        return Verdict::NotService;
    }
    if total < ihl + 4 {
        return Verdict::Malformed("TCP/UDP packet without its ports");
    }
    if ip[16..20] == vip.addr && be16(ip, ihl + 2) == vip.port {
        Verdict::Service
    } else {
        Verdict::NotService
    }
}

/// The outer headers of an encapsulated packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outer {
    /// Ethernet source (the balancer's backend-side port).
    pub src_mac: [u8; 6],
    /// Ethernet destination (the next hop to the backend).
    pub dst_mac: [u8; 6],
    /// IPv4 source (the balancer).
    pub src_ip: [u8; 4],
    /// IPv4 destination (the backend).
    pub dst_ip: [u8; 4],
}

/// Writes the outer headers at the front of `pkt`, which holds [`ENCAP_GROWTH`] bytes of
/// room followed by a frame [`classify`] found for the service (its Ethernet header
/// included): `pkt` becomes Ethernet, outer IPv4 (protocol 4, don't fragment, TTL 64,
/// identification `id`, the client's DSCP/ECN), then the client's IPv4 packet and whatever
/// padding followed it. The outer header checksum is left 0 for the NIC to compute
/// (`RTE_MBUF_F_TX_IP_CKSUM`).
pub fn encapsulate(pkt: &mut [u8], o: &Outer, id: u16) {
    let inner = ETH_HLEN + IPV4_HLEN;
    let inner_total = be16(pkt, inner + 2) + IPV4_HLEN as u16;
    let tos = pkt[inner + 1];
    pkt[0..6].copy_from_slice(&o.dst_mac);
    pkt[6..12].copy_from_slice(&o.src_mac);
    pkt[12..14].copy_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    let h = &mut pkt[ETH_HLEN..inner];
    h[0] = 0x45;
    h[1] = tos;
    h[2..4].copy_from_slice(&inner_total.to_be_bytes());
    h[4..6].copy_from_slice(&id.to_be_bytes());
    h[6..8].copy_from_slice(&0x4000u16.to_be_bytes());
    h[8] = 64;
    h[9] = PROTO_IPIP;
    h[10..12].fill(0);
    h[12..16].copy_from_slice(&o.src_ip);
    h[16..20].copy_from_slice(&o.dst_ip);
}

/// An encapsulated packet as a backend sees it.
#[derive(Debug, PartialEq, Eq)]
pub struct Decap<'a> {
    /// The outer Ethernet and IPv4 addresses.
    pub outer: Outer,
    /// Whether the outer IPv4 header checksum is right.
    pub outer_csum_ok: bool,
    /// The client's IPv4 packet (without the padding after it).
    pub inner: &'a [u8],
}

/// One's complement sum of `b` (16-bit big-endian words), folded.
fn ones_sum(b: &[u8]) -> u16 {
    let mut s: u32 = b
        .chunks(2)
        .map(|c| be16(&[c[0], *c.get(1).unwrap_or(&0)], 0) as u32)
        .sum();
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// The IPv4 header checksum of a 20-byte header (its checksum field taken as 0).
pub fn ipv4_header_checksum(h: &[u8]) -> u16 {
    let mut c = [0u8; IPV4_HLEN];
    c.copy_from_slice(&h[..IPV4_HLEN]);
    c[10..12].fill(0);
    !ones_sum(&c)
}

/// Takes an encapsulated frame apart.
pub fn decapsulate(frame: &[u8]) -> Result<Decap<'_>, String> {
    let inner = ETH_HLEN + IPV4_HLEN;
    if frame.len() < inner + IPV4_HLEN {
        return Err(format!("{} bytes: too short for IP-in-IP", frame.len()));
    }
    if be16(frame, 12) != ETHERTYPE_IPV4 {
        return Err(format!("EtherType {:#06x}", be16(frame, 12)));
    }
    let h = &frame[ETH_HLEN..inner];
    if h[0] != 0x45 || h[9] != PROTO_IPIP {
        return Err(format!(
            "outer header {:#04x}, protocol {}: not IPv4-in-IPv4",
            h[0], h[9]
        ));
    }
    let total = be16(h, 2) as usize;
    let inner_total = be16(frame, inner + 2) as usize;
    if total != IPV4_HLEN + inner_total || ETH_HLEN + total > frame.len() {
        return Err(format!(
            "outer length {total}, inner {inner_total}, frame {}",
            frame.len()
        ));
    }
    let mac = |at: usize| -> [u8; 6] { frame[at..at + 6].try_into().unwrap() };
    let ip = |at: usize| -> [u8; 4] { h[at..at + 4].try_into().unwrap() };
    Ok(Decap {
        outer: Outer {
            dst_mac: mac(0),
            src_mac: mac(6),
            src_ip: ip(12),
            dst_ip: ip(16),
        },
        outer_csum_ok: ones_sum(h) == 0xffff,
        inner: &frame[inner..inner + inner_total],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pkt::{Addrs, Flow, L4};

    const VIP: Vip = Vip {
        addr: [10, 0, 0, 1],
        port: 80,
    };

    fn flow(dst: [u8; 4], dport: u16, l4: L4) -> Flow {
        Flow {
            addrs: Addrs::V4 {
                src: [10, 1, 2, 3],
                dst,
            },
            l4,
            sport: 40_000,
            dport,
        }
    }

    fn frame(f: &Flow, len: usize) -> Vec<u8> {
        f.frame([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2], 7, len)
    }

    #[test]
    fn only_tcp_and_udp_to_the_service_are_taken() {
        for l4 in [L4::Tcp, L4::Udp] {
            assert_eq!(
                classify(&frame(&flow(VIP.addr, 80, l4), 64), VIP),
                Verdict::Service
            );
            assert_eq!(
                classify(&frame(&flow(VIP.addr, 443, l4), 64), VIP),
                Verdict::NotService
            );
            assert_eq!(
                classify(&frame(&flow([10, 0, 0, 2], 80, l4), 64), VIP),
                Verdict::NotService
            );
        }
        assert_eq!(
            classify(&frame(&flow(VIP.addr, 80, L4::Other), 64), VIP),
            Verdict::NotService
        );
        let v6 = Flow {
            addrs: Addrs::V6 {
                src: [1; 16],
                dst: [2; 16],
            },
            ..flow(VIP.addr, 80, L4::Udp)
        };
        assert_eq!(classify(&frame(&v6, 90), VIP), Verdict::NotService);
        // A later fragment of a service packet: no ports to go by.
        let mut frag = frame(&flow(VIP.addr, 80, L4::Udp), 64);
        frag[ETH_HLEN + 7] = 0x10;
        assert_eq!(classify(&frag, VIP), Verdict::NotService);
    }

    #[test]
    fn malformed_frames_are_named() {
        let good = frame(&flow(VIP.addr, 80, L4::Tcp), 64);
        assert!(matches!(classify(&good[..10], VIP), Verdict::Malformed(_)));
        assert!(matches!(classify(&good[..30], VIP), Verdict::Malformed(_)));
        let mut long = good.clone();
        long[ETH_HLEN + 2..ETH_HLEN + 4].copy_from_slice(&2000u16.to_be_bytes());
        assert!(matches!(classify(&long, VIP), Verdict::Malformed(_)));
        let mut ihl = good.clone();
        ihl[ETH_HLEN] = 0x44;
        assert!(matches!(classify(&ihl, VIP), Verdict::Malformed(_)));
        let mut v = good;
        v[ETH_HLEN] = 0x65;
        assert!(matches!(classify(&v, VIP), Verdict::Malformed(_)));
    }

    #[test]
    fn encapsulation_round_trips_and_keeps_the_client_packet() {
        let o = Outer {
            src_mac: [2, 0, 0, 0, 0, 0xb],
            dst_mac: [2, 0, 0, 0, 0, 0xc],
            src_ip: [192, 168, 0, 1],
            dst_ip: [192, 168, 1, 4],
        };
        for (l4, len) in [(L4::Udp, 60), (L4::Tcp, 200)] {
            let client = frame(&flow(VIP.addr, 80, l4), len);
            let ip_len = be16(&client, ETH_HLEN + 2) as usize;
            let mut pkt = vec![0u8; ENCAP_GROWTH];
            pkt.extend_from_slice(&client);
            encapsulate(&mut pkt, &o, 0x1234);
            assert_eq!(pkt.len(), client.len() + ENCAP_GROWTH);
            let d = decapsulate(&pkt).unwrap();
            assert_eq!(d.outer, o);
            assert_eq!(d.inner, &client[ETH_HLEN..ETH_HLEN + ip_len]);
            assert!(!d.outer_csum_ok, "left for the NIC");
            // What the NIC's checksum offload writes.
            let c = ipv4_header_checksum(&pkt[ETH_HLEN..]);
            pkt[ETH_HLEN + 10..ETH_HLEN + 12].copy_from_slice(&c.to_be_bytes());
            let d = decapsulate(&pkt).unwrap();
            assert!(d.outer_csum_ok);
            assert_eq!(be16(&pkt, ETH_HLEN + 4), 0x1234);
            assert_eq!(pkt[ETH_HLEN + 8], 64);
        }
    }

    #[test]
    fn decapsulation_refuses_what_is_not_ip_in_ip() {
        let client = frame(&flow(VIP.addr, 80, L4::Udp), 64);
        assert!(decapsulate(&client).unwrap_err().contains("protocol 17"));
        assert!(decapsulate(&client[..40])
            .unwrap_err()
            .contains("too short"));
        let mut pkt = vec![0u8; ENCAP_GROWTH];
        pkt.extend_from_slice(&client);
        let o = Outer {
            src_mac: [0; 6],
            dst_mac: [0; 6],
            src_ip: [1, 1, 1, 1],
            dst_ip: [2, 2, 2, 2],
        };
        encapsulate(&mut pkt, &o, 1);
        pkt[ETH_HLEN + 3] ^= 1;
        assert!(decapsulate(&pkt).unwrap_err().contains("outer length"));
    }
}
