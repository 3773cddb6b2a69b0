//! Data path: Tx -> cable -> Rx, scatter, DONE phase, counters, RSS, TCAMs, drops, faults.

mod common;

use std::time::Duration;

use common::*;
use fbnic_hw::desc::{L3Type, L4Type, Twd};
use fbnic_hw::regs::*;

const T: Duration = Duration::from_secs(5);

#[test]
fn frame_crosses_a_cable_intact() {
    let (_f, a, b) = cabled_pair();
    let mut tx = TxQ::new(&a, 0, 64, 0x1000_0000, 1 << 20);
    let mut rx = RxQ::new(&b, 0, 0x2000_0000, &RxCfg::default());
    let frame = udp4(b.mac_addr(), [10, 0, 0, 1], [10, 0, 0, 2], 1000, 2000, 100);
    assert!(tx.send1(&frame));
    let got = rx.recv(1, T);
    assert_eq!(got.len(), 1);
    let g = &got[0];
    assert_eq!(g.data, frame);
    assert_eq!(g.als.len(), 1);
    assert_eq!(g.als[0].off() as usize, 128);
    assert!(g.als[0].page_fin());
    assert_eq!(g.meta.l3_type(), L3Type::Ipv4);
    assert_eq!(g.meta.l4_type(), L4Type::Udp);
    assert!(g.meta.l4_csum_unnecessary());
    assert!(!g.meta.err_parser() && !g.meta.uncorrectable_error());
    assert!(wait_until(T, || r(&b, RDE_PKT_CNT.at(0)) == 1));
    assert_eq!(r(&a, TWQ0_PKT_CNT.at(0)), 1);
    assert_eq!(r(&a, TWQ0_BYTE_CNT.at(0)), frame.len() as u32);
    assert_eq!(r(&b, RDE_BYTE_CNT.at(0)), frame.len() as u32);
    assert_eq!(b.read_mac_stat(mac_stat::RX_OK), 1);
    assert_eq!(a.read_mac_stat(mac_stat::TX_OK), 1);
    assert_eq!(
        a.read_mac_stat(mac_stat::TX_BYTES),
        frame.len() as u64 + 4,
        "MAC byte counters include the FCS"
    );
    assert_eq!(TwqPtrs::from_raw(r(&a, TWQ0_PTRS.at(0))).head(), tx.tail);
}

#[test]
fn sizes_60_to_9000_scatter_and_done_phase_wraps() {
    let (_f, a, b) = cabled_pair();
    let mut tx = TxQ::new(&a, 0, 64, 0x1000_0000, 4 << 20);
    let cfg = RxCfg {
        rcq_entries: 32,
        ppq_entries: 64,
        buf_len: 2048,
        hroom: 192,
        troom: 64,
        ..Default::default()
    };
    let mut rx = RxQ::new(&b, 0, 0x2000_0000, &cfg);
    let sizes = [60usize, 61, 127, 1514, 1600, 1792, 1793, 2048, 4000, 9000];
    let mut sent = 0u64;
    let mut bytes = 0u64;
    for round in 0..6u8 {
        for (k, &size) in sizes.iter().enumerate() {
            let f = udp4(
                b.mac_addr(),
                [10, 0, 0, round],
                [10, 0, 0, 2],
                5,
                6,
                size - 42,
            );
            assert_eq!(f.len(), size);
            tx.queue_frame(
                &f,
                1 + (k % 3),
                Twd::meta().with_dest_mac(true).with_req_completion(true),
            );
            tx.doorbell();
            let got = rx.recv(1, T);
            assert_eq!(got.len(), 1, "size {size} round {round}");
            let g = &got[0];
            assert_eq!(g.data.len(), size);
            assert!(g.data == f, "size {size}: bytes intact");
            // Buffer layout: the first at MIN_HROOM, the rest at 0, MIN_TROOM free at the end.
            let cap0 = 2048 - 192 - 64;
            let capn = 2048 - 64;
            let want = if size <= cap0 {
                1
            } else {
                1 + (size - cap0).div_ceil(capn)
            };
            assert_eq!(g.als.len(), want, "size {size}");
            assert_eq!(g.als[0].off(), 192);
            for al in &g.als[1..] {
                assert_eq!(al.off(), 0);
            }
            assert!(g.als.iter().all(|al| al.page_fin()));
            assert!(g.meta.l4_csum_unnecessary(), "size {size}");
            assert!(!g.meta.err_truncated());
            sent += 1;
            bytes += size as u64;
            assert!(tx.wait_head(tx.tail));
        }
    }
    assert!(wait_until(T, || r(&b, RDE_PKT_CNT.at(0)) as u64 == sent));
    assert_eq!(r(&b, RDE_BYTE_CNT.at(0)) as u64, bytes);
    assert_eq!(r(&a, TWQ0_PKT_CNT.at(0)) as u64, sent);
    assert_eq!(b.read_mac_stat(mac_stat::RX_1519_MAX), 6 * 6);
    assert_eq!(b.read_mac_stat(mac_stat::RX_64), 6);
    assert_eq!(b.read_mac_stat(mac_stat::RX_65_127), 6);
    assert_eq!(b.read_mac_stat(mac_stat::RX_128_255), 6);
    assert_eq!(a.read_mac_stat(mac_stat::TX_1024_1518), 6);
    assert_eq!(b.read_mac_stat(mac_stat::RX_BYTES), bytes + 4 * sent);
}

#[test]
fn tx_pad_and_runts() {
    let (_f, a, b) = cabled_pair();
    let mut tx = TxQ::new(&a, 0, 64, 0x1000_0000, 1 << 20);
    let mut rx = RxQ::new(&b, 0, 0x2000_0000, &RxCfg::default());
    let short = udp4(b.mac_addr(), [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 0); // 42 bytes
    assert!(tx.send1(&short));
    let got = rx.recv(1, T);
    assert_eq!(got[0].data.len(), 60);
    assert_eq!(&got[0].data[..42], &short[..]);
    assert!(got[0].data[42..].iter().all(|&x| x == 0));
    assert!(
        got[0].meta.l4_csum_unnecessary(),
        "padding is not part of the datagram"
    );
    // Without TX_PAD the 42-byte frame is a runt at the receiver.
    w(
        &a,
        MAC_COMMAND_CONFIG,
        MacCommandConfig::default()
            .with_tx_ena(true)
            .with_rx_ena(true)
            .raw(),
    );
    assert!(tx.send(&[short]));
    assert!(wait_until(T, || b.read_mac_stat(mac_stat::RX_UNDERSIZE) == 1));
    assert!(rx.recv(1, Duration::from_millis(50)).is_empty());
}

#[test]
fn checksum_offload() {
    let (_f, a, b) = cabled_pair();
    let mut tx = TxQ::new(&a, 0, 64, 0x1000_0000, 1 << 20);
    let mut rx = RxQ::new(&b, 0, 0x2000_0000, &RxCfg::default());
    for tcp in [true, false] {
        let good = if tcp {
            tcp4(b.mac_addr(), [10, 1, 1, 1], [10, 1, 1, 2], 333, 444, 333)
        } else {
            udp4(b.mac_addr(), [10, 1, 1, 1], [10, 1, 1, 2], 333, 444, 333)
        };
        // The driver leaves the pseudo-header sum in the checksum field and a zero IP checksum.
        let mut f = good.clone();
        let l4len = f.len() - 34;
        let pseudo = csum_fold(csum_add(0, &f[26..34]) + if tcp { 6 } else { 17 } + l4len as u64);
        let co = if tcp { 34 + 16 } else { 34 + 6 };
        f[co..co + 2].copy_from_slice(&pseudo.to_be_bytes());
        f[24] = 0;
        f[25] = 0;
        let meta = Twd::meta()
            .with_dest_mac(true)
            .with_req_completion(true)
            .with_req_cso(true)
            .with_l2_hlen(7)
            .with_l3_type(L3Type::Ipv4 as u64)
            .with_l3_ihlen(10)
            .with_l4_type(if tcp { L4Type::Tcp } else { L4Type::Udp } as u64)
            .with_csum_offset(if tcp { 8 } else { 3 });
        tx.queue_frame(&f, 2, meta);
        tx.doorbell();
        let got = rx.recv(1, T);
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].data, good,
            "tcp={tcp}: device computed both checksums"
        );
        assert!(got[0].meta.l4_csum_unnecessary());
    }
    // A bad L4 checksum is delivered without L4_CSUM_UNNECESSARY; a bad IPv4 header checksum
    // sets ERR_PARSER (still delivered).
    let mut bad = udp4(b.mac_addr(), [10, 1, 1, 1], [10, 1, 1, 2], 1, 2, 20);
    *bad.last_mut().unwrap() ^= 0xff;
    let mut badip = udp4(b.mac_addr(), [10, 1, 1, 1], [10, 1, 1, 2], 1, 2, 20);
    badip[24] ^= 1;
    assert!(tx.send(&[bad, badip]));
    let got = rx.recv(2, T);
    assert!(!got[0].meta.l4_csum_unnecessary() && !got[0].meta.err_parser());
    assert!(got[1].meta.err_parser() && !got[1].meta.uncorrectable_error());
}

fn ms_key(dev: &fbnic_model::Device) {
    let k = fbnic_hw::toeplitz::MS_DEFAULT_KEY;
    for i in 0..10u32 {
        let b = &k[i as usize * 4..i as usize * 4 + 4];
        w(
            dev,
            rpc_rss_key(i),
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        );
    }
}

fn rss_rule(dev: &fbnic_model::Device, e: u32, v6: bool, l4: Option<bool>, ena: ActTbl1) {
    let mut flags = ActKey1::default().with_ip_valid(true).with_ip_is_v6(v6);
    let mut care = ActKey1::default()
        .with_ip_valid(true)
        .with_ip_is_v6(true)
        .with_l4_valid(true);
    if let Some(udp) = l4 {
        flags = flags.with_l4_valid(true).with_l4_is_udp(udp);
        care = care.with_l4_is_udp(true);
    }
    set_act(
        dev,
        e,
        &[(1, key1_word(flags, care))],
        ActTbl0::default().with_dest(ACT_DEST_HOST),
        ena,
    );
}

#[test]
fn rss_queue_is_table_of_toeplitz() {
    let (_f, a, b) = cabled_pair();
    ms_key(&b);
    // Table: entry i -> queue (i * 7) % 4.
    for i in 0..256 {
        w(&b, rpc_rss_tbl(0, i), (i * 7) % 4);
    }
    let all = ActTbl1::default()
        .with_ip_src(true)
        .with_ip_dst(true)
        .with_l4_src(true)
        .with_l4_dst(true);
    let ip_only = ActTbl1::default().with_ip_src(true).with_ip_dst(true);
    rss_rule(&b, 50, false, Some(true), all);
    rss_rule(&b, 51, false, Some(false), all);
    rss_rule(&b, 52, true, Some(true), all);
    rss_rule(&b, 53, true, Some(false), all);
    rss_rule(&b, 54, false, None, ip_only);
    let mut tx = TxQ::new(&a, 0, 256, 0x1000_0000, 1 << 20);
    let mut rxs: Vec<RxQ> = (0..4)
        .map(|q| {
            RxQ::new(
                &b,
                q,
                0x2000_0000 + q as u64 * 0x1000_0000,
                &RxCfg::default(),
            )
        })
        .collect();
    // Microsoft verification vectors (IPv4 TCP and IPv6 TCP).
    let v4 = tcp4(
        b.mac_addr(),
        [66, 9, 149, 187],
        [161, 142, 100, 80],
        2794,
        1766,
        10,
    );
    let v6src: [u8; 16] = [
        0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x1f, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x07,
    ];
    let v6dst: [u8; 16] = [
        0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 0x01,
    ];
    let v6 = ipv6_frame(b.mac_addr(), true, v6src, v6dst, 2794, 1766, 10);
    let key = &fbnic_hw::toeplitz::MS_DEFAULT_KEY;
    let mut cases: Vec<(Vec<u8>, u32)> = vec![(v4, 0x51cc_c178), (v6, 0x4020_7d3d)];
    for i in 0..40u8 {
        let sp = 1000 + i as u16 * 37;
        let src = [10, 0, i, 1];
        let dst = [192, 168, 1, 255 - i];
        let mut input = Vec::new();
        input.extend_from_slice(&src);
        input.extend_from_slice(&dst);
        input.extend_from_slice(&sp.to_be_bytes());
        input.extend_from_slice(&53u16.to_be_bytes());
        let h = fbnic_hw::toeplitz::hash(key, &input);
        cases.push((udp4(b.mac_addr(), src, dst, sp, 53, 8), h));
        let s6: [u8; 16] = std::array::from_fn(|k| (k as u8).wrapping_mul(i));
        let d6: [u8; 16] = std::array::from_fn(|k| (k as u8) ^ i);
        let mut input = Vec::new();
        input.extend_from_slice(&s6);
        input.extend_from_slice(&d6);
        input.extend_from_slice(&sp.to_be_bytes());
        input.extend_from_slice(&80u16.to_be_bytes());
        let h = fbnic_hw::toeplitz::hash(key, &input);
        cases.push((ipv6_frame(b.mac_addr(), i % 2 == 0, s6, d6, sp, 80, 8), h));
    }
    // IPv4 without L4 (ip_only rule): hash over the addresses.
    let mut icmp = udp4(
        b.mac_addr(),
        [66, 9, 149, 187],
        [161, 142, 100, 80],
        1,
        2,
        8,
    );
    icmp[23] = 1; // protocol ICMP
    icmp[24] = 0;
    icmp[25] = 0;
    let c = !csum_fold(csum_add(0, &icmp[14..34]));
    icmp[24..26].copy_from_slice(&c.to_be_bytes());
    cases.push((icmp, 0x323e_8fc2));
    for (f, h) in &cases {
        assert!(tx.send1(f));
        let q = ((h & 0xff) * 7) % 4;
        let got = rxs[q as usize].recv(1, T);
        assert_eq!(got.len(), 1, "frame must arrive on queue {q} (hash {h:#x})");
        assert_eq!(got[0].meta.rss_hash() as u32, *h);
        assert_eq!(&got[0].data[..f.len()], &f[..]);
    }
}

#[test]
fn macda_tcam_filters() {
    let (_f, a, b) = cabled_pair();
    let mut tx = TxQ::new(&a, 0, 64, 0x1000_0000, 1 << 20);
    let mut rx = RxQ::new(&b, 0, 0x2000_0000, &RxCfg::default());
    let other = fbnic_hw::MacAddr([2, 9, 9, 9, 9, 9]);
    let mc = fbnic_hw::MacAddr([1, 0, 0x5e, 0, 0, 1]);
    let mc2 = fbnic_hw::MacAddr([1, 0, 0x5e, 0, 0, 2]);
    let fr = |d| udp4(d, [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 20);
    // Unicast exact, broadcast: in. Another unicast, an unlisted multicast: out.
    assert!(tx.send(&[
        fr(b.mac_addr()),
        fr(fbnic_hw::MacAddr::BROADCAST),
        fr(other),
        fr(mc)
    ]));
    let got = rx.recv(2, T);
    assert_eq!(got.len(), 2);
    assert!(wait_until(T, || r(&b, RPC_CNTR_MACDA_MISS) == 2));
    // A multicast entry.
    set_macda(&b, MACDA_IDX_MC_FIRST, mc.0, [0; 6]);
    assert!(tx.send(&[fr(mc), fr(mc2)]));
    assert_eq!(rx.recv(1, T).len(), 1);
    assert!(wait_until(T, || r(&b, RPC_CNTR_MACDA_MISS) == 3));
    // All-multicast in entry 31.
    set_macda(
        &b,
        MACDA_IDX_PROMISC,
        [1, 0, 0, 0, 0, 0],
        [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff],
    );
    assert!(tx.send(&[fr(mc2), fr(other)]));
    assert_eq!(rx.recv(1, T).len(), 1);
    assert!(wait_until(T, || r(&b, RPC_CNTR_MACDA_MISS) == 4));
    // Promiscuous in entry 31.
    set_macda(&b, MACDA_IDX_PROMISC, [0; 6], [0xff; 6]);
    assert!(tx.send(&[fr(other)]));
    assert_eq!(rx.recv(1, T).len(), 1);
    // Invalidate entry 31 and 30: the host address is no longer accepted.
    w(&b, rpc_tcam_macda(31, 3), 0);
    w(&b, rpc_tcam_macda(30, 3), 0);
    assert!(tx.send(&[fr(b.mac_addr()), fr(other)]));
    assert!(wait_until(T, || r(&b, RPC_CNTR_MACDA_MISS) == 6));
    assert!(rx.recv(1, Duration::from_millis(30)).is_empty());
}

#[test]
fn action_tcam_precedence_and_drop() {
    let (_f, a, b) = cabled_pair();
    let mut tx = TxQ::new(&a, 0, 64, 0x1000_0000, 1 << 20);
    let mut rxs: Vec<RxQ> = (0..3)
        .map(|q| {
            RxQ::new(
                &b,
                q,
                0x2000_0000 + q as u64 * 0x1000_0000,
                &RxCfg::default(),
            )
        })
        .collect();
    let udp = ActKey1::default()
        .with_ip_valid(true)
        .with_l4_valid(true)
        .with_l4_is_udp(true);
    let care = udp.with_ip_is_v6(true);
    let to = |q: u32| {
        ActTbl0::default()
            .with_dest(ACT_DEST_HOST)
            .with_q_sel(true)
            .with_q_id(q)
    };
    // 20: UDP dport 53 -> q2. 30: any UDP -> q1. 40: UDP dport 53 -> q0 (shadowed by 20).
    set_act(
        &b,
        30,
        &[(1, key1_word(udp, care))],
        to(1),
        ActTbl1::default(),
    );
    set_act(
        &b,
        40,
        &[(1, key1_word(udp, care)), (4, TcamWord::exact(53))],
        to(0),
        ActTbl1::default(),
    );
    set_act(
        &b,
        20,
        &[(1, key1_word(udp, care)), (4, TcamWord::exact(53))],
        to(2),
        ActTbl1::default(),
    );
    // 10: UDP sport 7 -> drop.
    set_act(
        &b,
        10,
        &[(1, key1_word(udp, care)), (3, TcamWord::exact(7))],
        ActTbl0::default().with_drop(true),
        ActTbl1::default(),
    );
    // Default: drop.
    w(
        &b,
        RPC_ACT_TBL0_DEFAULT,
        ActTbl0::default().with_drop(true).raw(),
    );
    let m = b.mac_addr();
    assert!(tx.send(&[
        udp4(m, [1, 1, 1, 1], [2, 2, 2, 2], 1000, 53, 10),
        udp4(m, [1, 1, 1, 1], [2, 2, 2, 2], 1000, 54, 10),
        udp4(m, [1, 1, 1, 1], [2, 2, 2, 2], 7, 53, 10),
        tcp4(m, [1, 1, 1, 1], [2, 2, 2, 2], 1000, 53, 10),
    ]));
    assert_eq!(rxs[2].recv(1, T).len(), 1);
    assert_eq!(rxs[1].recv(1, T).len(), 1);
    assert!(wait_until(T, || r(&b, RPC_CNTR_ACT_DROP) == 2));
    assert!(rxs[0].recv(1, Duration::from_millis(30)).is_empty());
    // Invalidating entry 20 exposes entry 30 (40 stays shadowed); invalidating 30 exposes 40.
    w(&b, rpc_tcam_act(20, 11), 0);
    assert!(tx.send(&[udp4(m, [1, 1, 1, 1], [2, 2, 2, 2], 1000, 53, 10)]));
    assert_eq!(rxs[1].recv(1, T).len(), 1);
    w(&b, rpc_tcam_act(30, 11), 0);
    assert!(tx.send(&[udp4(m, [1, 1, 1, 1], [2, 2, 2, 2], 1000, 53, 10)]));
    assert_eq!(rxs[0].recv(1, T).len(), 1);
}

#[test]
fn bmc_frames_go_to_the_bmc_only() {
    let f = fabric();
    let bmc_mac = fbnic_hw::MacAddr([0x02, 0xbb, 0, 0, 0, 1]);
    let mut cfg = dev_cfg(2);
    cfg.bmc = Some(fbnic_model::BmcConfig {
        macs: vec![bmc_mac],
        all_multi: false,
    });
    let a = f.add_device(dev_cfg(1));
    let b = f.add_device(cfg);
    f.connect(&a, &b).unwrap();
    port_up(&a, 0);
    port_up(&b, 0);
    set_macda(&b, 0, bmc_mac.0, [0; 6]);
    let m0 = ActKey1::default().with_macda_valid(true).with_macda_idx(0);
    let care = m0.with_macda_idx(31);
    set_act(
        &b,
        0,
        &[(1, key1_word(m0, care))],
        ActTbl0::default().with_dest(ACT_DEST_BMC),
        ActTbl1::default(),
    );
    let mut tx = TxQ::new(&a, 0, 64, 0x1000_0000, 1 << 20);
    let mut rx = RxQ::new(&b, 0, 0x2000_0000, &RxCfg::default());
    let to_bmc = udp4(bmc_mac, [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 30);
    let to_host = udp4(b.mac_addr(), [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 30);
    assert!(tx.send(&[to_bmc.clone(), to_host.clone()]));
    let got = rx.recv(1, T);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].data, to_host);
    let bmc = b.bmc().unwrap();
    assert!(wait_until(T, || bmc.received() == 1));
    assert_eq!(bmc.frames(), vec![to_bmc]);
    assert!(rx.recv(1, Duration::from_millis(30)).is_empty());
    assert_eq!(r(&b, RPC_CNTR_TO_BMC), 1);
    // The BMC transmits onto the wire: A receives it.
    let mut rxa = RxQ::new(&a, 0, 0x3000_0000, &RxCfg::default());
    let from_bmc = udp4(a.mac_addr(), [3, 3, 3, 3], [4, 4, 4, 4], 9, 9, 30);
    assert!(bmc.transmit(&from_bmc));
    let got = rxa.recv(1, T);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].data, from_bmc);
}

#[test]
fn ei_action_sends_frames_back_out() {
    let (_f, a, b) = cabled_pair();
    let mut tx = TxQ::new(&a, 0, 64, 0x1000_0000, 1 << 20);
    let mut rxa = RxQ::new(&a, 0, 0x3000_0000, &RxCfg::default());
    // B reflects everything for A's MAC back onto the wire.
    set_macda(&b, 10, a.mac_addr().0, [0; 6]);
    let k = ActKey1::default().with_macda_valid(true).with_macda_idx(10);
    set_act(
        &b,
        3,
        &[(1, key1_word(k, k.with_macda_idx(31)))],
        ActTbl0::default().with_dest(ACT_DEST_EI),
        ActTbl1::default(),
    );
    let fr = udp4(a.mac_addr(), [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 64);
    assert!(tx.send1(&fr));
    let got = rxa.recv(1, T);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].data, fr);
    assert_eq!(b.stats().ei_frames, 1);
}

#[test]
fn timestamps_and_action_in_opt_meta() {
    let (_f, a, b) = cabled_pair();
    let mut tx = TxQ::new(&a, 0, 64, 0x1000_0000, 1 << 20);
    let mut rx = RxQ::new(&b, 0, 0x2000_0000, &RxCfg::default());
    let udp = ActKey1::default()
        .with_ip_valid(true)
        .with_l4_valid(true)
        .with_l4_is_udp(true);
    set_act(
        &b,
        7,
        &[(1, key1_word(udp, udp))],
        ActTbl0::default()
            .with_dest(ACT_DEST_HOST)
            .with_q_sel(true)
            .with_ts_ena(true),
        ActTbl1::default(),
    );
    // Both clocks set near a 40-bit boundary and running: stamps are the low 40 bits of the
    // counter between a read before and a read after.
    let clock = |d: &fbnic_model::Device| loop {
        let hi = r(d, PTP_CTR_VAL_HI);
        let lo = r(d, PTP_CTR_VAL_LO);
        if r(d, PTP_CTR_VAL_HI) == hi {
            break (hi as u64) << 32 | lo as u64;
        }
    };
    let start = (7u64 << 40) - 5_000_000;
    for d in [&a, &b] {
        assert_eq!(clock(d), 0, "the counter holds at 0 after reset");
        w(d, PTP_INIT_HI, (start >> 32) as u32);
        w(d, PTP_INIT_LO, start as u32);
        w(d, PTP_ADJUST, PtpAdjust::default().with_init(true).raw());
        w(d, PTP_CTRL, PtpCtrl::default().with_en(true).raw());
        assert_eq!(r(d, PTP_ADJUST), 0, "a command register");
    }
    let in_window = |ts: u64, lo: u64, hi: u64| ts.wrapping_sub(lo) & ((1 << 40) - 1) <= hi - lo;
    let fr = udp4(b.mac_addr(), [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 64);
    let before = clock(&b);
    assert!(before >= start);
    assert!(tx.send1(&fr));
    let got = rx.recv(1, T);
    let after = clock(&b);
    let o = got[0].opt.expect("OPT_META");
    assert!(o.ts_valid());
    assert!(
        after - before < 1 << 30 && in_window(o.ts(), before, after),
        "Rx stamp {:#x} outside [{before:#x}, {after:#x}]",
        o.ts()
    );
    assert!(o.action_valid());
    assert_eq!(o.action(), 7);
    // Tx timestamp completion (TCD type 1), from the sender's clock; a step of the clock
    // shows in the next stamp.
    w(&a, PTP_NUDGE_NS, 1 << 20);
    w(&a, PTP_NUDGE_SUBNS, 0);
    w(
        &a,
        PTP_ADJUST,
        PtpAdjust::default().with_add_nudge(true).raw(),
    );
    let before = clock(&a);
    assert!(before >= start + (1 << 20));
    tx.queue_frame(&fr, 1, Twd::meta().with_dest_mac(true).with_req_ts(true));
    tx.doorbell();
    let mut ts = None;
    assert!(wait_until(T, || {
        let t = fbnic_hw::desc::Tcd::from_raw(tx.cq.read_u64(tx.cq_head as usize * 8));
        if t.done() == tx.cq_phase && t.ty() == fbnic_hw::desc::TCD_TYPE_TS {
            ts = Some(t.ts());
        }
        ts.is_some()
    }));
    let after = clock(&a);
    assert!(in_window(ts.unwrap(), before, after), "Tx stamp {ts:x?}");
}

#[test]
fn twq1_and_tcq_back_pressure() {
    let (_f, a, b) = cabled_pair();
    let mut tx = TxQ::new(&a, 0, 64, 0x1000_0000, 1 << 20);
    let mut rx = RxQ::new(&b, 0, 0x2000_0000, &RxCfg::default());
    // TWQ1 of queue 0 shares the TCQ; its completions carry TWQ1 and HEAD1.
    let ring1 = HostMem::new(&a, 0x5000_0000, 64 * 8);
    w(
        &a,
        TWQ1_CTL.at(0),
        QueueCtl::default().with_reset(true).raw(),
    );
    w(&a, TWQ1_BAL.at(0), ring1.iova as u32);
    w(&a, TWQ1_BAH.at(0), 0);
    w(
        &a,
        TWQ1_SIZE.at(0),
        RingSize::for_entries(64).unwrap().raw(),
    );
    w(
        &a,
        TWQ1_CTL.at(0),
        QueueCtl::default().with_enable(true).raw(),
    );
    let fr = udp4(b.mac_addr(), [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 30);
    let addr = tx.stage(&fr);
    ring1.write_u64(
        0,
        Twd::meta()
            .with_dest_mac(true)
            .with_req_completion(true)
            .raw(),
    );
    ring1.write_u64(8, Twd::al(addr, fr.len() as u16, true).raw());
    w(&a, TWQ1_TAIL.at(0), 2);
    assert_eq!(rx.recv(1, T)[0].data, fr);
    assert!(wait_until(T, || {
        let t = fbnic_hw::desc::Tcd::from_raw(tx.cq.read_u64(0));
        t.done() && t.twq1() && t.head1() == 2
    }));
    assert!(wait_until(T, || TwqPtrs::from_raw(r(&a, TWQ1_PTRS.at(0)))
        .head()
        == 2));
    tx.cq_head = 1;
    w(&a, TCQ_HEAD.at(0), 1);

    // TCQ back-pressure: a 16-entry TCQ, one completion per packet, none released: the TWQ
    // stalls with 15 completions outstanding and resumes when the driver releases them.
    let mut tx2 = TxQ::new(&a, 1, 64, 0x6000_0000, 1 << 20);
    w(
        &a,
        TCQ_CTL.at(1),
        QueueCtl::default().with_reset(true).raw(),
    );
    w(&a, TCQ_SIZE.at(1), RingSize::for_entries(16).unwrap().raw());
    w(&a, TCQ_BAL.at(1), tx2.cq.iova as u32);
    w(
        &a,
        TCQ_CTL.at(1),
        QueueCtl::default().with_enable(true).raw(),
    );
    tx2.entries = 64;
    for _ in 0..20 {
        tx2.queue_frame(
            &fr,
            1,
            Twd::meta().with_dest_mac(true).with_req_completion(true),
        );
    }
    tx2.doorbell();
    assert_eq!(
        rx.recv(15, T).len(),
        15,
        "15 completions fit a 16-entry TCQ"
    );
    std::thread::sleep(Duration::from_millis(20));
    assert!(rx.poll().is_empty(), "the TWQ is stalled on the full TCQ");
    assert_eq!(TwqPtrs::from_raw(r(&a, TWQ0_PTRS.at(1))).head(), 30);
    w(&a, TCQ_HEAD.at(1), 15);
    assert_eq!(rx.recv(5, T).len(), 5, "released: the rest goes");
}

// ---------------------------------------------------------------------------------------------
// Header-split Rx (RDE_CTL0.EN_HDR_SPLIT = 1, PAYLD_PACK = 0)
// ---------------------------------------------------------------------------------------------

/// Sets the default action: host queue `q`, with `hint` as DMA_HINT (and a timestamp).
fn default_to(dev: &fbnic_model::Device, q: u32, hint: u32, ts: bool) {
    w(
        dev,
        RPC_ACT_TBL0_DEFAULT,
        ActTbl0::default()
            .with_dest(ACT_DEST_HOST)
            .with_q_sel(true)
            .with_q_id(q)
            .with_dma_hint(hint)
            .with_ts_ena(ts)
            .raw(),
    );
}

/// An IPv4/TCP frame whose TCP header carries `optlen` bytes of options (NOPs), with
/// correct checksums.
fn tcp4_opts(dst: fbnic_hw::MacAddr, optlen: usize, pay: usize) -> Vec<u8> {
    let mut f = tcp4(dst, [10, 0, 0, 1], [10, 0, 0, 2], 4000, 80, optlen + pay);
    f[34 + 12] = (((20 + optlen) / 4) << 4) as u8;
    f[54..54 + optlen].fill(1);
    f[50..52].copy_from_slice(&[0, 0]);
    let acc = csum_add(
        csum_add(0, &f[26..34]) + 6 + (f.len() - 34) as u64,
        &f[34..],
    );
    let c = !csum_fold(acc);
    f[50..52].copy_from_slice(&c.to_be_bytes());
    f
}

/// A frame of `len` bytes with a non-IP ethertype, optionally behind a VLAN tag.
fn other_frame(dst: fbnic_hw::MacAddr, len: usize, vlan: bool) -> Vec<u8> {
    let mut f = dst.0.to_vec();
    f.extend_from_slice(&[0x02, 0xaa, 0, 0, 0, 1]);
    if vlan {
        f.extend_from_slice(&[0x81, 0x00, 0x00, 0x05]);
    }
    f.extend_from_slice(&0x88b5u16.to_be_bytes());
    while f.len() < len {
        f.push((f.len() * 13) as u8);
    }
    f
}

/// A header-split case: what, frame, DMA_HINT, header length, layer reported, OVERFLOW.
type HsCase = (&'static str, Vec<u8>, u32, usize, u32, bool);

/// The next HPQ and PPQ buffer ids the device takes.
struct NextIds {
    hpq: u32,
    ppq: u32,
}

/// Checks one header-split frame: HDR_AL (at `hroom`, `h` bytes, DMA_HINT `layer`, OVERFLOW
/// `overflow`) holding the frame's first `h` bytes, then one PAY_AL per `cap` bytes of the
/// rest (offset 0), [OPT_META], META; buffer ids in ring order.
#[allow(clippy::too_many_arguments)]
fn check_hs(
    what: &str,
    g: &HsFrame,
    f: &[u8],
    hroom: usize,
    h: usize,
    layer: u32,
    overflow: bool,
    cap: usize,
    ids: &mut NextIds,
    rx: &HsRxQ,
) {
    let npay = (f.len() - h).div_ceil(cap);
    let mut want = vec![fbnic_hw::desc::RcdType::HdrAl];
    want.extend(std::iter::repeat(fbnic_hw::desc::RcdType::PayAl).take(npay));
    if g.opt.is_some() {
        want.push(fbnic_hw::desc::RcdType::OptMeta);
    }
    want.push(fbnic_hw::desc::RcdType::Meta);
    assert_eq!(g.types, want, "{what}: completion sequence");
    let hdr = g.als[0];
    assert_eq!(hdr.off() as usize, hroom, "{what}");
    assert_eq!(hdr.len() as usize, h, "{what}: header length");
    assert!(hdr.page_fin(), "{what}");
    assert_eq!(hdr.dma_hint() as u32, layer, "{what}: DMA_HINT");
    assert_eq!(hdr.overflow(), overflow, "{what}: OVERFLOW");
    assert_eq!(hdr.buff_id() as u32, ids.hpq, "{what}: HPQ buffer id");
    ids.hpq = (ids.hpq + 1) % rx.hpq_entries;
    assert_eq!(g.pieces[0], &f[..h], "{what}: header bytes");
    let mut off = h;
    for (al, piece) in g.als[1..].iter().zip(&g.pieces[1..]) {
        let n = cap.min(f.len() - off);
        assert_eq!(al.off(), 0, "{what}");
        assert_eq!(al.len() as usize, n, "{what}: payload piece at {off}");
        assert!(al.page_fin(), "{what}");
        assert_eq!(al.buff_id() as u32, ids.ppq, "{what}: PPQ buffer id");
        ids.ppq = (ids.ppq + 1) % rx.ppq_entries;
        assert_eq!(piece, &f[off..off + n], "{what}: payload bytes at {off}");
        off += n;
    }
    assert_eq!(off, f.len(), "{what}");
    assert_eq!(g.data(), f, "{what}: reassembled");
    assert!(
        !g.meta.err_truncated() && !g.meta.uncorrectable_error(),
        "{what}"
    );
}

#[test]
fn header_split_places_headers_by_dma_hint() {
    let (_f, a, b) = cabled_pair();
    let mut tx = TxQ::new(&a, 0, 64, 0x1000_0000, 1 << 20);
    let cfg = HsCfg::default(); // MAX_HDR 80, MIN_HROOM 64, MIN_TROOM 32, 256-byte payloads
    let mut rx = HsRxQ::new(&b, 0, 0x2000_0000, &cfg);
    let cap = 256 - 32;
    let m = b.mac_addr();
    let v6s: [u8; 16] = std::array::from_fn(|i| i as u8);
    let v6d: [u8; 16] = std::array::from_fn(|i| 0xf0 | i as u8);
    let u4 = |pay| udp4(m, [1, 1, 1, 1], [2, 2, 2, 2], 5, 6, pay);
    let t4 = |pay| tcp4(m, [1, 1, 1, 1], [2, 2, 2, 2], 5, 6, pay);
    let u6 = |pay| ipv6_frame(m, false, v6s, v6d, 5, 6, pay);
    let to = |opt, pay| tcp4_opts(m, opt, pay);
    let eth = |vlan| other_frame(m, 100, vlan);
    let cases: Vec<HsCase> = vec![
        (
            "TCP4+opts L4",
            to(12, 300),
            DMA_HINT_L4,
            66,
            DMA_HINT_L4,
            false,
        ),
        ("UDP4 L4", u4(100), DMA_HINT_L4, 42, DMA_HINT_L4, false),
        ("UDP6 L3", u6(50), DMA_HINT_L3, 54, DMA_HINT_L3, false),
        ("UDP6 L4", u6(50), DMA_HINT_L4, 62, DMA_HINT_L4, false),
        ("TCP4 hint 3: L3", t4(100), 3, 34, DMA_HINT_L3, false),
        ("UDP4 hint 7: L4", u4(100), 7, 42, DMA_HINT_L4, false),
        ("UDP4 L2", u4(100), DMA_HINT_L2, 14, DMA_HINT_L2, false),
        (
            "non-IP L4->L2",
            eth(false),
            DMA_HINT_L4,
            14,
            DMA_HINT_L2,
            false,
        ),
        (
            "VLAN L3->L2",
            eth(true),
            DMA_HINT_L3,
            18,
            DMA_HINT_L2,
            false,
        ),
        (
            "length split",
            u4(200),
            DMA_HINT_NONE,
            80,
            DMA_HINT_NONE,
            false,
        ),
        ("hint 0x100: NONE", u4(200), 0x100, 80, DMA_HINT_NONE, false),
        (
            "hdr > MAX_HDR",
            to(40, 20),
            DMA_HINT_L4,
            80,
            DMA_HINT_L4,
            true,
        ),
        (
            "all hdr, L4",
            to(12, 0),
            DMA_HINT_L4,
            66,
            DMA_HINT_L4,
            false,
        ),
        (
            "all hdr, NONE",
            u4(18),
            DMA_HINT_NONE,
            60,
            DMA_HINT_NONE,
            false,
        ),
        ("1500B", u4(1458), DMA_HINT_L4, 42, DMA_HINT_L4, false),
        ("9000B", u4(8958), DMA_HINT_L4, 42, DMA_HINT_L4, false),
    ];
    let mut ids = NextIds { hpq: 0, ppq: 0 };
    let mut bytes = 0u64;
    for (what, f, hint, h, layer, overflow) in &cases {
        default_to(&b, 0, *hint, false);
        assert!(tx.send1(f), "{what}");
        let got = rx.recv(1, T);
        assert_eq!(got.len(), 1, "{what}");
        check_hs(
            what, &got[0], f, 64, *h, *layer, *overflow, cap, &mut ids, &rx,
        );
        assert!(got[0].opt.is_none());
        if f[12..14] == [0x08, 0x00] {
            assert_eq!(got[0].meta.l3_type(), L3Type::Ipv4, "{what}");
            assert!(got[0].meta.l4_csum_unnecessary(), "{what}: META as before");
        }
        bytes += f.len() as u64;
    }
    // The last two cases used 7 and 40 payload buffers.
    assert_eq!((cases[14].1.len() - 42).div_ceil(cap), 7);
    assert_eq!((cases[15].1.len() - 42).div_ceil(cap), 40);

    // A timestamp: HDR_AL, PAY_AL, OPT_META, META.
    default_to(&b, 0, DMA_HINT_L4, true);
    let f = u4(100);
    assert!(tx.send1(&f));
    let got = rx.recv(1, T);
    assert!(got[0].opt.expect("OPT_META").ts_valid());
    check_hs(
        "timestamped",
        &got[0],
        &f,
        64,
        42,
        DMA_HINT_L4,
        false,
        cap,
        &mut ids,
        &rx,
    );
    bytes += f.len() as u64;

    // 32-byte payload buffers, no tailroom: a 9000-byte frame needs 1 + 281 buffers, more
    // than the 64 a frame may use. It is cut after the header and 63 payload buffers.
    default_to(&b, 0, DMA_HINT_L4, false);
    w(
        &b,
        RDE_CTL0.at(0),
        RdeCtl0::default()
            .with_en_hdr_split(true)
            .with_min_hroom(64)
            .raw(),
    );
    w(
        &b,
        RDE_CTL1.at(0),
        RdeCtl1::default()
            .with_max_hdr(80)
            .with_payld_pg_cl(7)
            .raw(),
    );
    let f = u4(8958);
    assert!(tx.send1(&f));
    let got = rx.recv(1, T);
    let g = &got[0];
    assert_eq!(g.als.len(), 64);
    assert_eq!(g.als[0].len(), 42);
    assert!(g.als[1..].iter().all(|al| al.len() == 32 && al.off() == 0));
    assert_eq!(g.data(), &f[..42 + 63 * 32]);
    assert!(g.meta.err_truncated() && !g.meta.l4_csum_unnecessary());
    bytes += f.len() as u64;

    let frames = cases.len() as u32 + 2;
    assert!(wait_until(T, || r(&b, RDE_PKT_CNT.at(0)) == frames));
    assert_eq!(r(&b, RDE_BYTE_CNT.at(0)) as u64, bytes);
    assert_eq!(r(&b, RDE_PKT_ERR.at(0)), 1, "the cut frame");
    assert_eq!(r(&b, RDE_BDQ_DROP.at(0)), 0);
    assert_eq!(b.stats().rx_page_mode_drops, 0);
}

#[test]
fn header_split_needs_a_header_buffer() {
    let (_f, a, b) = cabled_pair();
    let mut tx = TxQ::new(&a, 0, 64, 0x1000_0000, 1 << 20);
    let m = b.mac_addr();
    let f = udp4(m, [1, 1, 1, 1], [2, 2, 2, 2], 5, 6, 300);
    let cap = 256 - 32;

    // Immediate drop mode, no HPQ buffer posted (the PPQ has plenty): a counted BDQ drop,
    // nothing written, no buffer taken.
    let no_hdr = HsCfg {
        post_hpq: false,
        ..Default::default()
    };
    let mut rx1 = HsRxQ::new(&b, 1, 0x2000_0000, &no_hdr);
    rx1.hbufs.fill(0xee);
    rx1.pbufs.fill(0xee);
    default_to(&b, 1, DMA_HINT_L4, false);
    assert!(tx.send1(&f));
    assert!(wait_until(T, || r(&b, RDE_BDQ_DROP.at(1)) == 1));
    assert!(rx1.poll().is_empty());
    assert_eq!(rx1.rcq.read_u64(0), 0, "no completion written");
    assert!(rx1.hbufs.read_bytes(0, 4096).iter().all(|&x| x == 0xee));
    assert!(rx1.pbufs.read_bytes(0, 1024).iter().all(|&x| x == 0xee));
    assert_eq!(RingPtrs::from_raw(r(&b, BDQ_HPQ_PTRS.at(1))).head(), 0);
    assert_eq!(RingPtrs::from_raw(r(&b, BDQ_PPQ_PTRS.at(1))).head(), 0);
    assert_eq!(r(&b, RDE_PKT_CNT.at(1)), 0);
    assert_eq!(b.stats().rx_queue_drops, 0, "the queue runs");
    // Header buffers posted: the next frame goes through, in the first buffers.
    rx1.post_hpq(15);
    assert!(tx.send1(&f));
    let got = rx1.recv(1, T);
    assert_eq!(got.len(), 1);
    let mut ids = NextIds { hpq: 0, ppq: 0 };
    check_hs(
        "after posting",
        &got[0],
        &f,
        64,
        42,
        DMA_HINT_L4,
        false,
        cap,
        &mut ids,
        &rx1,
    );
    assert_eq!(r(&b, RDE_BDQ_DROP.at(1)), 1);

    // An HPQ that does not run (its SIZE refused): the queue is not running.
    let errs = b.stats().ring_config_errors;
    let bad = HsCfg {
        hpq_size_raw: Some(3),
        ..Default::default()
    };
    let rx3 = HsRxQ::new(&b, 3, 0x6000_0000, &bad);
    assert_eq!(b.stats().ring_config_errors, errs + 1);
    default_to(&b, 3, DMA_HINT_L4, false);
    assert!(tx.send1(&f));
    assert!(wait_until(T, || r(&b, RDE_BDQ_DROP.at(3)) == 1));
    assert_eq!(b.stats().rx_queue_drops, 1);
    assert_eq!(rx3.rcq.read_u64(0), 0);

    // Wait mode: the frame waits for a header buffer, then arrives intact.
    let wait = HsCfg {
        post_hpq: false,
        drop_mode: DROP_MODE_WAIT,
        ..Default::default()
    };
    let mut rx2 = HsRxQ::new(&b, 2, 0x4000_0000, &wait);
    default_to(&b, 2, DMA_HINT_L4, false);
    assert!(tx.send1(&f));
    assert!(rx2.recv(1, Duration::from_millis(50)).is_empty());
    assert_eq!(r(&b, RDE_BDQ_DROP.at(2)), 0);
    rx2.post_hpq(1);
    let got = rx2.recv(1, T);
    assert_eq!(got.len(), 1);
    let mut ids = NextIds { hpq: 0, ppq: 0 };
    check_hs(
        "waited",
        &got[0],
        &f,
        64,
        42,
        DMA_HINT_L4,
        false,
        cap,
        &mut ids,
        &rx2,
    );
    assert_eq!(r(&b, RDE_BDQ_DROP.at(2)), 0);
}

#[test]
fn payload_packing_is_dropped_and_counted() {
    let (_f, a, b) = cabled_pair();
    let mut tx = TxQ::new(&a, 0, 64, 0x1000_0000, 1 << 20);
    let m = b.mac_addr();
    let f = udp4(m, [1, 1, 1, 1], [2, 2, 2, 2], 5, 6, 300);
    // Header split with PAYLD_PACK = 1.
    let packed = HsCfg {
        payld_pack: PAYLD_PACK_ALL,
        ..Default::default()
    };
    let mut rx0 = HsRxQ::new(&b, 0, 0x2000_0000, &packed);
    default_to(&b, 0, DMA_HINT_L4, false);
    assert!(tx.send1(&f));
    assert!(wait_until(T, || r(&b, RDE_PKT_ERR.at(0)) == 1));
    assert_eq!(b.stats().rx_page_mode_drops, 1);
    assert!(rx0.poll().is_empty());
    assert_eq!(rx0.rcq.read_u64(0), 0);
    assert_eq!(RingPtrs::from_raw(r(&b, BDQ_HPQ_PTRS.at(0))).head(), 0);
    assert_eq!(RingPtrs::from_raw(r(&b, BDQ_PPQ_PTRS.at(0))).head(), 0);
    assert_eq!(r(&b, RDE_PKT_CNT.at(0)), 0);
    assert_eq!(r(&b, RDE_BDQ_DROP.at(0)), 0);
    // No header split, PAYLD_PACK = 2: the same.
    let mut rx1 = RxQ::new(&b, 1, 0x4000_0000, &RxCfg::default());
    w(
        &b,
        RDE_CTL1.at(1),
        RdeCtl1::default()
            .with_max_hdr(2048)
            .with_payld_pack(PAYLD_PACK_RSS)
            .raw(),
    );
    default_to(&b, 1, DMA_HINT_NONE, false);
    assert!(tx.send1(&f));
    assert!(wait_until(T, || r(&b, RDE_PKT_ERR.at(1)) == 1));
    assert_eq!(b.stats().rx_page_mode_drops, 2);
    assert!(rx1.poll().is_empty());
    assert_eq!(r(&b, RDE_PKT_CNT.at(1)), 0);
}

#[test]
fn header_split_dma_faults() {
    let (_f, a, b) = cabled_pair();
    let mut tx = TxQ::new(&a, 0, 64, 0x1000_0000, 1 << 20);
    let m = b.mac_addr();
    let f = udp4(m, [1, 1, 1, 1], [2, 2, 2, 2], 5, 6, 300);
    let mut rx = HsRxQ::new(&b, 0, 0x2000_0000, &HsCfg::default());
    default_to(&b, 0, DMA_HINT_L4, false);
    // The next header buffer lies where nothing is mapped: the frame is cut (every buffer
    // taken is still returned, empty), the fault counted.
    let slot = 0;
    rx.hpq.write_u64(
        slot * 8,
        fbnic_hw::desc::BdqDesc::new(0x7700_0000, slot as u16).raw(),
    );
    assert!(tx.send1(&f));
    let got = rx.recv(1, T);
    assert_eq!(got.len(), 1);
    let g = &got[0];
    assert!(g.meta.err_truncated() && g.meta.uncorrectable_error());
    assert_eq!(g.als[0].ty(), fbnic_hw::desc::RcdType::HdrAl);
    assert_eq!(g.als[0].len(), 0);
    assert_eq!(
        g.als.len(),
        1 + 2,
        "the payload buffers it needed, returned empty"
    );
    assert!(g.als.iter().all(|al| al.len() == 0 && al.page_fin()));
    assert_eq!(b.stats().dma_faults, 1);
    assert!(wait_until(T, || r(&b, RDE_PKT_ERR.at(0)) == 1));
    // The HPQ ring itself unmapped: the ring stops (a fault), the frame is cut with no
    // buffer; later frames find the queue not running.
    b.dma_unmap(rx.hpq.iova, rx.hpq.len()).unwrap();
    assert!(tx.send1(&f));
    let got = rx.recv(1, T);
    assert_eq!(got.len(), 1);
    assert!(got[0].als.is_empty() && got[0].meta.err_truncated());
    assert_eq!(b.stats().ring_faults, 1);
    assert!(tx.send1(&f));
    assert!(wait_until(T, || b.stats().rx_queue_drops == 1));
    assert_eq!(r(&b, RDE_BDQ_DROP.at(0)), 1);
    assert!(rx.recv(1, Duration::from_millis(30)).is_empty());
}
