//! Criterion micro-benchmarks of the pure parts of net_fbnic and of the model's pipeline.
//!
//! ```text
//! cargo bench -p fbnic-perf                    # full run
//! cargo bench -p fbnic-perf -- --quick         # smoke run (short warm-up and measurement)
//! cargo bench -p fbnic-perf -- toeplitz        # one group
//! ```
//!
//! Groups:
//! - `toeplitz`: [`ToeplitzTable::hash`] (table lookup per input byte) and the bitwise
//!   reference [`toeplitz::hash`] over IPv4 (12-byte) and IPv6 (36-byte) 4-tuples;
//! - `tlv`: [`Msg::encode`] / [`Msg::decode`] of FW_CAP_RESP and HEARTBEAT_RESP (and the
//!   empty HEARTBEAT_REQ);
//! - `desc`: building and parsing the descriptors of a 32-packet burst: TWD (META + LAST_AL
//!   per packet, as the Tx burst writes them) and RCD (META + PAY_AL per packet, as the
//!   device completes them), through their little-endian ring encodings;
//! - `driver`: the driver's Rx burst on its own, one thread, no device behind it: a fake
//!   device's RCQ holds 32 one-buffer packets (PAY_AL + META each, written untimed before
//!   each burst) and `RxQueue::burst` takes them, refilling the buffer queue as it does in
//!   a real run (native buffers, freed untimed after the burst). The driver's per-packet
//!   Rx work with every line in the cache: what the cross-core runs add on top is transfers.
//!   `tx_burst32_native`: `TxQueue::burst` of 32 one-buffer packets, the device reporting
//!   each burst sent (untimed) so the bursts' reclaims free them;
//! - `model`: the model's per-packet pipeline through public API only: a cabled pair on the
//!   embedded model, the engine thread pinned to CPU 1, the driver core (native buffers) on
//!   CPU 0 forwarding every frame B receives (RSS over 4 queues) back out of A. One iteration
//!   is one frame delivered: the time is the pipeline's per-frame cost at full load, bounded
//!   by the slower of the engine and the driver loop (`fbnic-perf model-mpps` separates them
//!   with the engine's busy time).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use fbnic_hw::desc::{L3Type, L4Type, Rcd, RcdType, Twd};
use fbnic_hw::link::{Fec, LinkSpeed};
use fbnic_hw::mac::MacAddr;
use fbnic_hw::msg::{FwCapResp, Msg};
use fbnic_hw::toeplitz::{self, RssInput, ToeplitzTable, MS_DEFAULT_KEY};
use fbnic_hw::version::FwVersion;
use fbnic_perf::pipeline::{self, Pipeline};

fn v4_inputs() -> Vec<RssInput> {
    (0..256u16)
        .map(|i| {
            RssInput::ipv4(
                [10, 0, (i >> 8) as u8, i as u8],
                [192, 168, 1, 2],
                Some((1024 + i, 443)),
            )
        })
        .collect()
}

fn v6_inputs() -> Vec<RssInput> {
    (0..256u16)
        .map(|i| {
            let mut s = [0u8; 16];
            s[0] = 0x20;
            s[1] = 0x01;
            s[14] = (i >> 8) as u8;
            s[15] = i as u8;
            let mut d = [0u8; 16];
            d[0] = 0xfe;
            d[15] = 1;
            RssInput::ipv6(s, d, Some((1024 + i, 443)))
        })
        .collect()
}

fn bench_toeplitz(c: &mut Criterion) {
    let table = ToeplitzTable::new(&MS_DEFAULT_KEY);
    let mut g = c.benchmark_group("toeplitz");
    g.throughput(Throughput::Elements(1));
    for (name, inputs) in [("ipv4_4tuple", v4_inputs()), ("ipv6_4tuple", v6_inputs())] {
        g.bench_with_input(BenchmarkId::new("table", name), &inputs, |b, inputs| {
            let mut i = 0usize;
            b.iter(|| {
                i = (i + 1) & 255;
                table.hash(black_box(inputs[i].as_bytes()))
            })
        });
        g.bench_with_input(BenchmarkId::new("bitwise", name), &inputs, |b, inputs| {
            let mut i = 0usize;
            b.iter(|| {
                i = (i + 1) & 255;
                toeplitz::hash(black_box(&MS_DEFAULT_KEY), black_box(inputs[i].as_bytes()))
            })
        });
    }
    g.bench_function("table_build", |b| {
        b.iter(|| ToeplitzTable::new(black_box(&MS_DEFAULT_KEY)))
    });
    g.finish();
}

fn fw_caps() -> Msg {
    Msg::FwCapResp(FwCapResp {
        version: FwVersion::new(25, 5, 3, 0),
        bmc_present: true,
        bmc_macs: vec![MacAddr([2, 0x1d, 0x9b, 0, 0xb0, 1])],
        bmc_all_multi: false,
        stored_version: Some(FwVersion::new(25, 5, 3, 0)),
        active_slot: Some(1),
        commit: Some("0123456789abcdef".into()),
        link_speed: Some(LinkSpeed::G100Cr2),
        link_fec: Some(Fec::Rs),
        uefi_version: Some(FwVersion::new(1, 2, 3, 4)),
    })
}

fn bench_tlv(c: &mut Criterion) {
    let mut g = c.benchmark_group("tlv");
    let msgs = [
        ("FW_CAP_RESP", fw_caps()),
        (
            "HEARTBEAT_RESP",
            Msg::HeartbeatResp {
                uptime: 123_456_789,
                messages: 42,
            },
        ),
        ("HEARTBEAT_REQ", Msg::HeartbeatReq),
    ];
    for (name, m) in &msgs {
        let bytes = m.encode().expect("encodes");
        assert_eq!(&Msg::decode(&bytes).expect("decodes"), m, "round trip");
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_with_input(BenchmarkId::new("encode", name), m, |b, m| {
            b.iter(|| black_box(m).encode())
        });
        g.bench_with_input(BenchmarkId::new("decode", name), &bytes, |b, bytes| {
            b.iter(|| Msg::decode(black_box(bytes)))
        });
    }
    g.finish();
}

const BURST: usize = 32;

fn bench_desc(c: &mut Criterion) {
    let mut g = c.benchmark_group("desc");
    g.throughput(Throughput::Elements(BURST as u64));
    // Tx: what the Tx burst writes per packet (META with a completion request on the last
    // packet, then one LAST_AL), into a ring of little-endian words.
    let addrs: Vec<u64> = (0..BURST as u64)
        .map(|i| 0x1_0000_0000 + i * 2048)
        .collect();
    g.bench_function("twd_encode_burst32", |b| {
        let mut ring = [0u64; 2 * BURST];
        b.iter(|| {
            for (i, &a) in black_box(&addrs).iter().enumerate() {
                ring[2 * i] = Twd::meta()
                    .with_dest_mac(true)
                    .with_req_completion(i == BURST - 1)
                    .to_le();
                ring[2 * i + 1] = Twd::al(a, 60, true).to_le();
            }
            black_box(&ring);
        })
    });
    let twds: Vec<u64> = addrs
        .iter()
        .flat_map(|&a| {
            [
                Twd::meta().with_dest_mac(true).to_le(),
                Twd::al(a, 60, true).to_le(),
            ]
        })
        .collect();
    g.bench_function("twd_decode_burst32", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for w in black_box(&twds).chunks_exact(2) {
                let m = Twd::from_le(w[0]);
                let d = Twd::from_le(w[1]);
                acc += u64::from(m.dest_mac()) + d.addr() + d.len() + d.ty() as u64;
            }
            acc
        })
    });
    // Rx: the device's completions for 32 single-buffer packets (META with hash and packet
    // types, then PAY_AL), decoded as the Rx burst does.
    let rcds: Vec<u64> = (0..BURST as u16)
        .flat_map(|i| {
            let meta = Rcd::meta()
                .with_rss_hash(0x9e37_79b9u64.wrapping_mul(u64::from(i)) & 0xffff_ffff)
                .with_l3_type_bits(L3Type::Ipv4 as u64)
                .with_l4_type_bits(L4Type::Udp as u64)
                .with_l4_csum_unnecessary(true)
                .with_done(true);
            let al = Rcd::al(RcdType::PayAl, i, 128, 60, true).with_done(true);
            [meta.to_le(), al.to_le()]
        })
        .collect();
    g.bench_function("rcd_encode_burst32", |b| {
        let mut ring = [0u64; 2 * BURST];
        b.iter(|| {
            for i in 0..BURST {
                let h = black_box(i as u64).wrapping_mul(0x9e37_79b9) & 0xffff_ffff;
                ring[2 * i] = Rcd::meta()
                    .with_rss_hash(h)
                    .with_l3_type_bits(L3Type::Ipv4 as u64)
                    .with_l4_type_bits(L4Type::Udp as u64)
                    .with_l4_csum_unnecessary(true)
                    .with_done(true)
                    .to_le();
                ring[2 * i + 1] = Rcd::al(RcdType::PayAl, i as u16, 128, 60, true)
                    .with_done(true)
                    .to_le();
            }
            black_box(&ring);
        })
    });
    g.bench_function("rcd_decode_burst32", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for &w in black_box(&rcds) {
                let r = Rcd::from_le(w);
                if !r.done() {
                    break;
                }
                acc += match r.ty() {
                    RcdType::Meta => {
                        r.rss_hash()
                            + r.l3_type() as u64
                            + r.l4_type() as u64
                            + u64::from(r.l4_csum_unnecessary())
                            + u64::from(r.uncorrectable_error())
                    }
                    _ => r.buff_id() + r.len() + r.off() + u64::from(r.page_fin()),
                };
            }
            acc
        })
    });
    g.finish();
}

fn bench_driver(c: &mut Criterion) {
    use fbnic_hw::desc::Tcd;
    use rte_net_fbnic::buf::PktBuf;
    use rte_net_fbnic::fake::FakeDevice;
    use rte_net_fbnic::native::{NativeDma, NativePool};
    use rte_net_fbnic::{RxConfig, RxQueue, Transport, TxConfig, TxQueue};
    use std::mem::MaybeUninit;
    use std::sync::Arc;
    use std::time::Instant;

    const DESC: u32 = 1024;
    const RCQ: u32 = 2 * DESC;
    const BURST: usize = 32;
    let dev = Arc::new(FakeDevice::new());
    let tp: Arc<dyn Transport> = dev.clone();
    let dma = NativeDma::new(tp.clone());
    let pool = NativePool::new(dma.as_ref(), 4096, 2048, 128).expect("native pool");
    let cfg = RxConfig {
        nb_desc: DESC,
        drop_en: false,
        scatter: false,
        split: None,
    };
    let mut q = RxQueue::new(&tp, dma.as_ref(), 0, cfg, pool).expect("rx queue");
    q.start().expect("rx queue start");
    // The device's next RCQ slot and next buffer (the driver posts slots in order).
    let (mut tail, mut buf) = (0u32, 0u32);
    let mut out = [MaybeUninit::uninit(); BURST];
    let mut g = c.benchmark_group("driver");
    g.throughput(Throughput::Elements(BURST as u64));
    g.bench_function("rx_burst32_native", |b| {
        b.iter_custom(|iters| {
            let mut t = Duration::ZERO;
            for _ in 0..iters {
                for k in 0..BURST as u32 {
                    let pay = Rcd::al(RcdType::PayAl, buf as u16, 0, 60, true);
                    let meta = Rcd::meta()
                        .with_rss_hash(k as u64)
                        .with_l3_type_bits(L3Type::Ipv4 as u64)
                        .with_l4_type_bits(L4Type::Udp as u64)
                        .with_l4_csum_unnecessary(true);
                    assert!(
                        dev.complete_rx(0, RCQ, tail, pay)
                            && dev.complete_rx(0, RCQ, tail + 1, meta)
                    );
                    tail = tail.wrapping_add(2);
                    buf = (buf + 1) % DESC;
                }
                let start = Instant::now();
                let n = q.burst(black_box(&mut out));
                t += start.elapsed();
                assert_eq!(n, BURST, "a burst took every packet");
                for p in &out[..n] {
                    // SAFETY: burst initialised the first n entries.
                    unsafe { p.assume_init() }.free_pkt();
                }
            }
            t
        })
    });
    assert_eq!(q.stats.errors.get() + q.stats.bad_descriptors.get(), 0);
    drop(q);

    // Tx: 32 single-buffer packets per burst; after each burst the device (untimed) reports
    // everything sent with a TCQ head update, so the bursts' reclaims free them as in a run.
    let pool = NativePool::new(dma.as_ref(), 4096, 2048, 128).expect("native pool");
    let cfg = TxConfig {
        nb_desc: DESC,
        fast_free: false,
    };
    let mut q = TxQueue::new(&tp, dma.as_ref(), 0, cfg).expect("tx queue");
    q.start().expect("tx queue start");
    let frame = [0x5au8; 60];
    let (mut tcq_tail, mut twq_tail) = (0u32, 0u32);
    g.bench_function("tx_burst32_native", |b| {
        b.iter_custom(|iters| {
            let mut t = Duration::ZERO;
            for _ in 0..iters {
                let pkts: Vec<_> = (0..BURST)
                    .map(|_| pool.packet(&frame).expect("a free buffer"))
                    .collect();
                let start = Instant::now();
                let n = q.burst(black_box(&pkts));
                t += start.elapsed();
                assert_eq!(n, BURST, "a burst took every packet");
                twq_tail = (twq_tail + 2 * BURST as u32) % DESC;
                let tcd = Tcd::default().with_head0(twq_tail as u64);
                assert!(dev.complete_tx(0, DESC, tcq_tail, tcd));
                tcq_tail = tcq_tail.wrapping_add(1);
            }
            t
        })
    });
    g.finish();
    assert_eq!(q.stats.errors.get() + q.stats.bad_descriptors.get(), 0);
}

fn bench_model(c: &mut Criterion) {
    let mut p = match Pipeline::new(pipeline::Config::default()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("model pipeline bench skipped: {e}");
            return;
        }
    };
    let mut g = c.benchmark_group("model");
    g.throughput(Throughput::Elements(1));
    g.bench_function("cabled_pair_rss4_64B_per_frame", |b| {
        b.iter_custom(|iters| {
            let m = p.run_packets(iters);
            // run_packets may overshoot by up to one loop pass: scale to `iters` frames.
            Duration::from_secs_f64(m.secs * iters as f64 / m.packets.max(1) as f64)
        })
    });
    g.finish();
    let m = p.run_for(Duration::from_millis(500));
    println!(
        "model: {:.2} Mpps wall, {:.2} Mpps of engine busy time ({:.1} ns/frame)",
        m.wall_mpps(),
        m.engine_mpps(),
        m.engine_ns_per_pkt()
    );
}

fn main() {
    // `--quick`: short enough for CI smoke runs (criterion's own --quick only shortens the
    // measurement; this also shortens the warm-up). Explicit flags still win.
    let quick = std::env::args().any(|a| a == "--quick");
    let mut c = Criterion::default();
    if quick {
        c = c
            .warm_up_time(Duration::from_millis(100))
            .measurement_time(Duration::from_millis(300))
            .sample_size(10);
    }
    let mut c = c.configure_from_args();
    bench_toeplitz(&mut c);
    bench_tlv(&mut c);
    bench_desc(&mut c);
    bench_driver(&mut c);
    bench_model(&mut c);
    c.final_summary();
}
