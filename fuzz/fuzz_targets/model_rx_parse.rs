//! Fuzzes the device model's parser of received frames (the RPC: Ethernet, one VLAN tag,
//! IPv4, IPv6 with a fragment header, TCP, UDP) and the sums its Rx META carries. For any
//! frame: nothing panics, every offset it reports lies inside the frame in order, and the
//! checksums agree with a plain byte-by-byte summing written here, independently of the model:
//! L2_CSUM is the sum of everything from the L3 header on, the IPv4 header checksum error is
//! set exactly when the header does not sum to all-ones, and L4_CSUM_UNNECESSARY is set
//! exactly when a complete, unfragmented TCP/UDP datagram's checksum verifies (UDP over IPv4
//! without a checksum is not verified).
#![no_main]

use fbnic_model::fuzzing::parse_frame;
use libfuzzer_sys::fuzz_target;

/// The folded 16-bit ones' complement sum of `d` (big-endian words, an odd last byte high).
fn sum(mut acc: u64, d: &[u8]) -> u64 {
    for (i, &b) in d.iter().enumerate() {
        acc += if i % 2 == 0 {
            (b as u64) << 8
        } else {
            b as u64
        };
    }
    acc
}

fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc >> 16) + (acc & 0xffff);
    }
    acc as u16
}

fuzz_target!(|f: &[u8]| {
    check(f);
    // Most mutations of an IPv4 header break its checksum, and a frame with a bad header
    // checksum stops short of L4 (and of the model's one-pass parser of common frames): check
    // the frame again with its header checksum made right.
    let l3 = if f.len() >= 18 && f[12..14] == [0x81, 0x00] {
        18
    } else {
        14
    };
    if f.len() >= l3 + 20 && f[l3 - 2..l3] == [0x08, 0x00] && f[l3] >> 4 == 4 {
        let ihl = (f[l3] & 0xf) as usize * 4;
        if ihl >= 20 && f.len() >= l3 + ihl {
            let mut g = f.to_vec();
            g[l3 + 10..l3 + 12].fill(0);
            let c = !fold(sum(0, &g[l3..l3 + ihl]));
            g[l3 + 10..l3 + 12].copy_from_slice(&c.to_be_bytes());
            check(&g);
        }
    }
});

/// Checks the parse of one frame against the summing here.
fn check(f: &[u8]) {
    let p = parse_frame(f);
    let len = f.len();
    assert!(p.l3_off <= len.max(14), "{p:?}");
    if !(p.ipv4 || p.ipv6) {
        assert!(p.l4_off.is_none() && !p.frag, "{p:?}");
    }
    if p.ipv4 || p.ipv6 {
        assert!(p.l3_off < p.l3_end && p.l3_end <= len, "{p:?}");
    }
    if let Some(l4) = p.l4_off {
        let hdr = if p.tcp { 20 } else { 8 };
        assert!(p.l3_off < l4 && l4 + hdr <= p.l3_end, "{p:?}");
        assert_eq!(
            (p.sport, p.dport),
            (
                u16::from_be_bytes([f[l4], f[l4 + 1]]),
                u16::from_be_bytes([f[l4 + 2], f[l4 + 3]])
            )
        );
    } else {
        assert_eq!((p.sport, p.dport), (0, 0), "{p:?}");
    }

    // L2_CSUM: everything from the L3 header to the end of the frame (padding included).
    let l3 = p.l3_off.min(len);
    let want = fold(sum(0, &f[l3..]));
    // 0 and 0xffff are the same ones' complement number; a non-empty region that sums to a
    // multiple of 0xffff may fold to either depending on how it was split.
    let same = |a: u16, b: u16| a == b || (a.is_multiple_of(0xffff) && b.is_multiple_of(0xffff));
    assert!(
        same(p.l2_csum, want),
        "L2_CSUM {:#06x}, summing gives {want:#06x}: {p:?}",
        p.l2_csum
    );

    // The IPv4 header checksum.
    if p.ipv4 && !p.trunc {
        let ihl = (f[p.l3_off] & 0xf) as usize * 4;
        let ok = fold(sum(0, &f[p.l3_off..p.l3_off + ihl])) == 0xffff;
        assert_eq!(p.err, !ok, "IPv4 header checksum: {p:?}");
    }

    // The TCP/UDP checksum.
    let mut want_ok = false;
    if let Some(l4) = p.l4_off {
        let udp_v4_no_csum = !p.tcp && p.ipv4 && f[l4 + 6] == 0 && f[l4 + 7] == 0;
        if !p.frag && !p.err && !udp_v4_no_csum {
            let proto = if p.tcp { 6 } else { 17 };
            let seg = &f[l4..p.l3_end];
            let addrs = if p.ipv4 {
                &f[p.l3_off + 12..p.l3_off + 20]
            } else {
                &f[p.l3_off + 8..p.l3_off + 40]
            };
            let acc = sum(sum(proto + seg.len() as u64, addrs), seg);
            want_ok = fold(acc) == 0xffff;
        }
    }
    assert_eq!(p.l4_csum_ok, want_ok, "L4 checksum: {p:?}");
}
