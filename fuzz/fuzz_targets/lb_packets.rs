//! Fuzzes fbnic-lb's packet handling (`apps/src/lb.rs`), which takes frames off the wire:
//! `classify` on any frame gives a verdict without panicking, and a frame it takes for the
//! service encapsulates and decapsulates back to the client's IPv4 packet; `decapsulate` on
//! any frame returns the inner packet inside the frame or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The module is plain Rust, but its crate (fbnic-apps) links DPDK: take the file alone.
#[path = "../../apps/src/lb.rs"]
#[allow(dead_code)]
mod lb;

use lb::{Outer, Verdict, Vip, ENCAP_GROWTH, ETH_HLEN, IPV4_HLEN};

const VIP: Vip = Vip {
    addr: [10, 0, 0, 1],
    port: 80,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = lb::decapsulate(data) {
        let start = d.inner.as_ptr() as usize - data.as_ptr() as usize;
        assert_eq!(start, ETH_HLEN + IPV4_HLEN);
        assert!(start + d.inner.len() <= data.len());
    }
    if lb::classify(data, VIP) != Verdict::Service {
        return;
    }
    let total = u16::from_be_bytes([data[ETH_HLEN + 2], data[ETH_HLEN + 3]]) as usize;
    let mut pkt = vec![0u8; ENCAP_GROWTH];
    pkt.extend_from_slice(data);
    let o = Outer {
        src_mac: [2, 0, 0, 0, 0, 1],
        dst_mac: [2, 0, 0, 0, 0, 2],
        src_ip: [192, 168, 0, 1],
        dst_ip: [192, 168, 1, 1],
    };
    lb::encapsulate(&mut pkt, &o, 7);
    let c = lb::ipv4_header_checksum(&pkt[ETH_HLEN..]);
    pkt[ETH_HLEN + 10..ETH_HLEN + 12].copy_from_slice(&c.to_be_bytes());
    let d = lb::decapsulate(&pkt).expect("a service packet decapsulates");
    assert_eq!(d.outer, o);
    assert!(d.outer_csum_ok);
    assert_eq!(d.inner, &data[ETH_HLEN..ETH_HLEN + total]);
});
