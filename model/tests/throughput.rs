//! Throughput of a cabled pair driven by a minimal in-test driver (64-byte frames, RSS).
//! Run: `cargo test -p fbnic-model --release --test throughput -- --ignored --nocapture`.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use fbnic_hw::desc::Twd;
use fbnic_hw::regs::*;
use fbnic_hw::toeplitz::MS_DEFAULT_KEY;
use fbnic_model::{Fabric, FabricConfig};

const QUEUES: u32 = 4;

fn rss_setup(dev: &fbnic_model::Device) {
    for i in 0..10u32 {
        let k = &MS_DEFAULT_KEY[i as usize * 4..i as usize * 4 + 4];
        w(
            dev,
            rpc_rss_key(i),
            u32::from_be_bytes([k[0], k[1], k[2], k[3]]),
        );
    }
    for i in 0..256 {
        w(dev, rpc_rss_tbl(0, i), i % QUEUES);
    }
    let flags = ActKey1::default()
        .with_ip_valid(true)
        .with_l4_valid(true)
        .with_l4_is_udp(true);
    let care = flags.with_ip_is_v6(true);
    set_act(
        dev,
        50,
        &[(1, key1_word(flags, care))],
        ActTbl0::default().with_dest(ACT_DEST_HOST),
        ActTbl1::default()
            .with_ip_src(true)
            .with_ip_dst(true)
            .with_l4_src(true)
            .with_l4_dst(true),
    );
}

#[test]
#[ignore]
fn throughput_64b_rss_cabled_pair() {
    let fab = Fabric::new(FabricConfig {
        engine_cpu: Some(1),
        ..Default::default()
    });
    let a = fab.add_device(dev_cfg(1));
    let b = fab.add_device(dev_cfg(2));
    fab.connect(&a, &b).unwrap();
    port_up(&a, 0);
    port_up(&b, 0);
    rss_setup(&b);
    let _ = core_affinity_pin(0);
    let entries = 4096;
    let mut tx = TxQ::new(&a, 0, entries, 0x1000_0000, 1 << 20);
    let rxcfg = RxCfg {
        rcq_entries: 4096,
        ppq_entries: 2048,
        buf_len: 2048,
        hroom: 128,
        ..Default::default()
    };
    let mut rxs: Vec<RxQ> = (0..QUEUES)
        .map(|q| RxQ::new(&b, q, 0x4000_0000 + q as u64 * 0x1000_0000, &rxcfg))
        .collect();
    // 256 flows, pre-staged.
    let flows: Vec<(u64, u16)> = (0..256u16)
        .map(|i| {
            let f = udp4(b.mac_addr(), [10, 0, 0, 1], [10, 0, 1, 2], 1000 + i, 80, 18);
            assert_eq!(f.len(), 60);
            (tx.stage(&f), f.len() as u16)
        })
        .collect();
    let meta = Twd::meta().with_dest_mac(true);
    let dur = Duration::from_secs(3);
    let start = Instant::now();
    let mut sent = 0u64;
    let mut recv = 0u64;
    let mut i = 0usize;
    let mut iter = 0u32;
    loop {
        iter += 1;
        if iter % 64 == 0 && start.elapsed() >= dur {
            break;
        }
        let free = tx.free();
        if free >= 64 {
            let n = (free / 2).min(256);
            for k in 0..n {
                let (addr, len) = flows[i & 255];
                i += 1;
                tx.push_desc(meta.with_req_completion(k + 1 == n));
                tx.push_desc(Twd::al(addr, len, true));
            }
            tx.doorbell();
            sent += n as u64;
        }
        tx.reap();
        for rx in rxs.iter_mut() {
            recv += rx.poll_count(1024).0 as u64;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let busy = fab.engine_busy_ns();
    // Drain.
    let t = Instant::now();
    while recv < sent && t.elapsed() < Duration::from_secs(2) {
        for rx in rxs.iter_mut() {
            recv += rx.poll_count(1024).0 as u64;
        }
    }
    let drops: u64 = (0..QUEUES)
        .map(|q| (r(&b, RDE_CQ_DROP.at(q)) + r(&b, RDE_BDQ_DROP.at(q))) as u64)
        .sum();
    let per_q: Vec<u32> = (0..QUEUES).map(|q| r(&b, RDE_PKT_CNT.at(q))).collect();
    println!(
        "engine: {:.1} ns of busy time per packet ({:.1} Mpps if the driver kept up)",
        busy as f64 / recv as f64,
        recv as f64 / busy as f64 * 1e3
    );
    println!(
        "throughput: sent {sent} received {recv} in {secs:.2}s: {:.2} Mpps (64B frames incl. FCS, RSS over {QUEUES} queues; per queue {per_q:?}; drops {drops}; rxb drops {})",
        recv as f64 / secs / 1e6,
        b.stats().rxb_drops
    );
    assert!(recv > 0);
    drop(Arc::clone(&fab));
}

fn core_affinity_pin(cpu: usize) -> bool {
    // The test thread plays the driver: keep it off the engine's core.
    core_affinity::set_for_current(core_affinity::CoreId { id: cpu })
}

/// The engine's own cost per packet: the driver fills the rings while the engine is idle,
/// rings one doorbell, and the engine's busy time for the round is divided by the packets.
/// Independent of how fast the in-test driver is (and of other load on the driver's core).
#[test]
#[ignore]
fn engine_cost_64b_rss_cabled_pair() {
    let fab = Fabric::new(FabricConfig {
        engine_cpu: Some(1),
        ..Default::default()
    });
    let a = fab.add_device(dev_cfg(1));
    let b = fab.add_device(dev_cfg(2));
    fab.connect(&a, &b).unwrap();
    port_up(&a, 0);
    port_up(&b, 0);
    rss_setup(&b);
    let _ = core_affinity_pin(0);
    let mut tx = TxQ::new(&a, 0, 65536, 0x1000_0000, 1 << 20);
    let rxcfg = RxCfg {
        rcq_entries: 65536,
        ppq_entries: 16384,
        buf_len: 256,
        hroom: 64,
        drop_mode: DROP_MODE_WAIT,
        ..Default::default()
    };
    let mut rxs: Vec<RxQ> = (0..QUEUES)
        .map(|q| RxQ::new(&b, q, 0x4000_0000 + q as u64 * 0x1000_0000, &rxcfg))
        .collect();
    let flows: Vec<(u64, u16)> = (0..256u16)
        .map(|i| {
            let f = udp4(b.mac_addr(), [10, 0, 0, 1], [10, 0, 1, 2], 1000 + i, 80, 18);
            (tx.stage(&f), f.len() as u16)
        })
        .collect();
    let per_round = 32000u32;
    let mut total = 0u64;
    let mut busy = 0u64;
    for _ in 0..10 {
        // Let the engine go idle, then fill the ring.
        std::thread::sleep(Duration::from_millis(2));
        for k in 0..per_round {
            let (addr, len) = flows[k as usize & 255];
            tx.push_desc(
                Twd::meta()
                    .with_dest_mac(true)
                    .with_req_completion(k + 1 == per_round),
            );
            tx.push_desc(Twd::al(addr, len, true));
        }
        let b0 = fab.engine_busy_ns();
        tx.doorbell();
        let mut got = 0u64;
        let t = Instant::now();
        while got < per_round as u64 && t.elapsed() < Duration::from_secs(10) {
            got = (0..QUEUES)
                .map(|q| r(&b, RDE_PKT_CNT.at(q)) as u64)
                .sum::<u64>()
                - total;
            std::hint::spin_loop();
        }
        assert_eq!(got, per_round as u64);
        // Wait for the engine to finish the pass, then read its busy time.
        std::thread::sleep(Duration::from_millis(1));
        busy += fab.engine_busy_ns() - b0;
        total += got;
        // Consume completions and repost buffers (engine idle meanwhile).
        assert!(tx.wait_head(tx.tail));
        for rx in rxs.iter_mut() {
            while rx.poll_count(65536).0 > 0 {}
        }
    }
    println!(
        "engine cost: {:.1} ns/packet over {total} packets ({:.1} Mpps on one core), 64B, RSS over {QUEUES} queues, cabled pair",
        busy as f64 / total as f64,
        total as f64 / busy as f64 * 1e3
    );
}
