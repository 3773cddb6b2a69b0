//! Header split (DPDK buffer split) through the model: each frame's headers land in a
//! buffer of the header pool, the rest in payload buffers, cut where the port's choice of
//! headers says for that frame's type.

mod common;

use std::time::Duration;

use common::pkt::{frame, Flow};
use common::{cabled_pair, PortSpec, TestPort};
use fbnic_hw::mac::MacAddr;
use rte_net_fbnic::buf::PktBuf;
use rte_net_fbnic::native::NativeBuf;
use rte_net_fbnic::rpc::SplitHdrs;

/// The segments of a received packet.
fn segments(b: NativeBuf) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut seg = Some(b);
    while let Some(s) = seg {
        out.push(s.seg_data().to_vec());
        seg = s.next_seg();
    }
    out
}

/// A frame of a type the parser does not know (IEEE local experimental EtherType).
fn raw_frame(dst: MacAddr, src: MacAddr, len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len];
    f[0..6].copy_from_slice(&dst.0);
    f[6..12].copy_from_slice(&src.0);
    f[12..14].copy_from_slice(&0x88b5u16.to_be_bytes());
    for (i, b) in f[14..].iter_mut().enumerate() {
        *b = i as u8;
    }
    f
}

/// Sends `frames` from `tx` to `rx` and returns each received packet's segments, in order
/// (one Rx queue, one cable: the order is kept).
fn exchange(tx: &mut TestPort, rx: &mut TestPort, frames: &[Vec<u8>]) -> Vec<Vec<Vec<u8>>> {
    let pkts: Vec<_> = frames
        .iter()
        .map(|f| tx.pool.packet(f).expect("tx buffers"))
        .collect();
    tx.send_all(0, &pkts);
    let got = rx.recv(frames.len(), Duration::from_secs(10));
    tx.settle_tx();
    got.into_iter()
        .map(|(_, b)| {
            assert_eq!(b.nb_segs() as usize, segments(b).len(), "nb_segs");
            let segs = segments(b);
            assert_eq!(
                b.pkt_len() as usize,
                segs.iter().map(Vec::len).sum::<usize>(),
                "pkt_len"
            );
            b.free_pkt();
            segs
        })
        .collect()
}

/// A pair whose port `b` splits every Rx queue's frames as `split` says (header buffers of
/// `hdr_room` bytes, MAX_HDR `max_hdr`, payload buffers of `pay_room`).
fn split_pair(
    split: SplitHdrs,
    hdr_room: u32,
    max_hdr: u32,
    pay_room: u32,
    scatter: bool,
) -> (TestPort, TestPort) {
    let spec_b = PortSpec {
        buf_room: pay_room,
        scatter,
        mtu: 1500,
        split: Some((split, hdr_room, max_hdr)),
        ..Default::default()
    };
    let (mut a, mut b) = cabled_pair(&PortSpec::default(), &spec_b);
    a.start().unwrap();
    b.start().unwrap();
    (a, b)
}

/// Every buffer is back in its pool once the port stops.
fn assert_buffers_back(p: &mut TestPort) {
    p.stop().unwrap();
    for (what, pool) in [
        ("payload", &p.pool),
        ("header", p.hdr_pool.as_ref().unwrap()),
    ] {
        assert_eq!(pool.available(), pool.capacity(), "{what} buffers back");
    }
}

#[test]
fn split_after_tcp_headers_and_the_deepest_header_other_types_share() {
    let (mut a, mut b) = split_pair(
        SplitHdrs::L4 {
            v6: false,
            udp: false,
        },
        256,
        256,
        2048,
        false,
    );
    let (dst, src) = (b.port.perm_addr(), a.port.perm_addr());
    let v4 = |tcp| Flow::v4(tcp, [10, 0, 0, 1], [10, 0, 0, 2], 1000, 2000);
    let v6 = |tcp| Flow::v6(tcp, [1; 16], [2; 16], 1000, 2000);
    // (frame, expected header bytes)
    let cases = [
        (frame(dst, src, &v4(true), 60, 1), 54), // TCP/IPv4: after the TCP header
        (frame(dst, src, &v4(true), 1514, 2), 54),
        (frame(dst, src, &v4(false), 300, 3), 34), // UDP/IPv4: after the IPv4 header
        (frame(dst, src, &v6(true), 400, 4), 14),  // IPv6: after the Ethernet header
        (frame(dst, src, &v6(false), 90, 5), 14),
        (raw_frame(dst, src, 200), 14), // not IP: after the Ethernet header
    ];
    let frames: Vec<_> = cases.iter().map(|(f, _)| f.clone()).collect();
    let got = exchange(&mut a, &mut b, &frames);
    assert_eq!(got.len(), cases.len(), "every frame arrives");
    for (i, ((f, h), segs)) in cases.iter().zip(&got).enumerate() {
        assert_eq!(segs.len(), 2, "frame {i}: header and payload segments");
        assert_eq!(
            segs[0],
            f[..*h],
            "frame {i}: the header segment holds the headers"
        );
        assert_eq!(
            segs[1],
            f[*h..],
            "frame {i}: the payload segment holds the rest"
        );
    }
    assert_eq!(b.rx[0].stats.packets.get(), cases.len() as u64);
    assert_eq!(b.rx[0].stats.errors.get(), 0);
    assert_buffers_back(&mut b);
}

#[test]
fn split_after_udp6_and_ipv6_headers() {
    let (mut a, mut b) = split_pair(
        SplitHdrs::L4 {
            v6: true,
            udp: true,
        },
        256,
        256,
        2048,
        false,
    );
    let (dst, src) = (b.port.perm_addr(), a.port.perm_addr());
    let v6 = |tcp| Flow::v6(tcp, [1; 16], [2; 16], 1000, 2000);
    let v4 = Flow::v4(false, [10, 0, 0, 1], [10, 0, 0, 2], 1, 2);
    let cases = [
        (frame(dst, src, &v6(false), 500, 1), 62), // UDP/IPv6: after the UDP header
        (frame(dst, src, &v6(true), 500, 2), 54),  // TCP/IPv6: after the IPv6 header
        (frame(dst, src, &v4, 500, 3), 14),        // IPv4: after the Ethernet header
    ];
    let frames: Vec<_> = cases.iter().map(|(f, _)| f.clone()).collect();
    let got = exchange(&mut a, &mut b, &frames);
    assert_eq!(got.len(), cases.len());
    for (i, ((f, h), segs)) in cases.iter().zip(&got).enumerate() {
        assert_eq!(segs.len(), 2, "frame {i}");
        assert_eq!(segs[0], f[..*h], "frame {i}: headers");
        assert_eq!(segs[1], f[*h..], "frame {i}: payload");
    }
    assert_buffers_back(&mut b);
}

#[test]
fn length_split_and_frames_that_fit_the_header_buffer() {
    let (mut a, mut b) = split_pair(SplitHdrs::Length, 256, 100, 2048, false);
    let (dst, src) = (b.port.perm_addr(), a.port.perm_addr());
    let flow = Flow::v4(true, [10, 0, 0, 1], [10, 0, 0, 2], 1000, 2000);
    let frames = [
        frame(dst, src, &flow, 1000, 1),
        frame(dst, src, &flow, 100, 2),
        frame(dst, src, &flow, 64, 3),
        raw_frame(dst, src, 101),
    ];
    let got = exchange(&mut a, &mut b, &frames);
    assert_eq!(got.len(), frames.len());
    for (i, (f, segs)) in frames.iter().zip(&got).enumerate() {
        if f.len() <= 100 {
            assert_eq!(
                segs.len(),
                1,
                "frame {i} fits the header buffer: one segment"
            );
            assert_eq!(&segs[0], f, "frame {i}");
        } else {
            assert_eq!(segs.len(), 2, "frame {i}");
            assert_eq!(segs[0], f[..100], "frame {i}: the first 100 bytes");
            assert_eq!(segs[1], f[100..], "frame {i}: the rest");
        }
    }
    assert_buffers_back(&mut b);
}

#[test]
fn headers_longer_than_max_hdr_continue_in_the_payload() {
    // MAX_HDR 40 < the 54 bytes of TCP/IPv4 headers: the device fills the header buffer and
    // the packet is still whole.
    let (mut a, mut b) = split_pair(
        SplitHdrs::L4 {
            v6: false,
            udp: false,
        },
        64,
        40,
        2048,
        false,
    );
    let (dst, src) = (b.port.perm_addr(), a.port.perm_addr());
    let flow = Flow::v4(true, [10, 0, 0, 1], [10, 0, 0, 2], 1000, 2000);
    let f = frame(dst, src, &flow, 700, 9);
    let got = exchange(&mut a, &mut b, std::slice::from_ref(&f));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].len(), 2);
    assert_eq!(got[0][0], f[..40]);
    assert_eq!(got[0][1], f[40..]);
    assert_buffers_back(&mut b);
}

#[test]
fn payloads_beyond_one_buffer_need_scatter() {
    // Payload buffers of 512 bytes: a 1514-byte TCP frame is 54 bytes of headers and three
    // payload buffers.
    let flow = Flow::v4(true, [10, 0, 0, 1], [10, 0, 0, 2], 1000, 2000);
    let (mut a, mut b) = split_pair(
        SplitHdrs::L4 {
            v6: false,
            udp: false,
        },
        256,
        256,
        512,
        true,
    );
    let (dst, src) = (b.port.perm_addr(), a.port.perm_addr());
    let f = frame(dst, src, &flow, 1514, 1);
    let small = frame(dst, src, &flow, 300, 2);
    let got = exchange(&mut a, &mut b, &[f.clone(), small.clone()]);
    assert_eq!(got.len(), 2);
    let lens: Vec<_> = got[0].iter().map(Vec::len).collect();
    assert_eq!(lens, [54, 512, 512, 1514 - 54 - 1024]);
    assert_eq!(got[0].concat(), f);
    assert_eq!(got[1].concat(), small);
    assert_buffers_back(&mut b);

    // Without scatter the long frame is dropped (counted), the short one still arrives.
    let (mut a, mut b) = split_pair(
        SplitHdrs::L4 {
            v6: false,
            udp: false,
        },
        256,
        256,
        512,
        false,
    );
    let (dst, src) = (b.port.perm_addr(), a.port.perm_addr());
    let f = frame(dst, src, &flow, 1514, 1);
    let small = frame(dst, src, &flow, 300, 2);
    let pkts = [a.pool.packet(&f).unwrap(), a.pool.packet(&small).unwrap()];
    a.send_all(0, &pkts);
    let got = b.recv(2, Duration::from_secs(2));
    a.settle_tx();
    assert_eq!(
        got.len(),
        1,
        "only the frame that fits header + one payload buffer"
    );
    assert_eq!(got[0].1.to_vec(), small);
    got[0].1.free_pkt();
    assert_eq!(
        b.rx[0].stats.errors.get(),
        1,
        "the long frame is a counted error"
    );
    assert_buffers_back(&mut b);
}
