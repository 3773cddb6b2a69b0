//! net_fbnic's Rx and Tx bursts over real `rte_mbuf`s, next to net_null's, on one thread.
//!
//! ```text
//! cargo bench -p fbnic-pmd --bench mbuf_burst                 # criterion
//! cargo bench -p fbnic-pmd --bench mbuf_burst -- --quick      # criterion, short
//! FBNIC_BENCH_BATCHES=2000 cargo bench -p fbnic-pmd --bench mbuf_burst
//!                                                             # fixed count, no criterion
//! bash perf/insns.sh                                          # instructions per packet
//! ```
//!
//! What testpmd's io forwarding does per burst, without testpmd and without a device on
//! another core: EAL comes up in this process (on hugepages when some are free, else, or
//! with `FBNIC_BENCH_NO_HUGE=1`, on 4 KiB pages with `--no-huge`: any machine, and valgrind
//! can run it), one pktmbuf pool (8191 mbufs, cache 250: testpmd's shapes) feeds
//! - **net_fbnic**: the driver core's `RxQueue<MbufRxPool>` and `TxQueue<Mbuf>` (the types
//!   the PMD's burst callbacks run; Tx with `MBUF_FAST_FREE`, as testpmd sets it up) on a
//!   [`FakeDevice`]: before each timed batch the "device"
//!   writes the completions of 8 x 32 one-buffer 64-byte UDP packets (PAY_AL + META each)
//!   into the RCQ, and after it reports every packet sent in the TCQ, both untimed; the
//!   batch is 8 x (Rx burst of 32, Tx burst of what it got), so the driver refills its
//!   buffer queue from the mempool, fills the mbufs, writes the TWQ and rings doorbells,
//!   and the Tx bursts' reclaims free the mbufs of the batch before, as in a real run;
//! - **net_null** (`--vdev net_null0`, the harness's floor): the same batch through
//!   `rte_eth_rx_burst` / `rte_eth_tx_burst` (a mempool bulk get and a loop of stores; a
//!   loop of frees).
//!
//! With every line in this core's cache, the ratio is the driver's own work against the
//! floor: what testpmd's cross-core runs add on top is line transfers from the device's
//! core. net_null's side goes through ethdev's inline burst functions (one more call and a
//! function-pointer load per burst); net_fbnic's calls the queues directly, as its burst
//! callbacks do after that dispatch.
//!
//! With `FBNIC_BENCH_BATCHES=N` it runs N batches of each (alternating) without criterion,
//! prints the median TSC cycles per packet of each and their ratio, and is what
//! `perf/insns.sh` runs under callgrind: the inclusive instruction counts of
//! [`fbnic_batch`] and [`null_batch`] per packet, deterministic on a guest without a PMU.
//! Either way it checks every burst moved 32 packets and, at the end, that the pool has all
//! its mbufs back.

use std::hint::black_box;
use std::mem::MaybeUninit;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use dpdk_sys as sys;
use fbnic_apps::dpdk::{self as app, Pool, PortConf};
use fbnic_hw::desc::{L3Type, L4Type, Rcd, RcdType, Tcd};
use rte_net_fbnic::ethdev::{Mbuf, MbufRxPool};
use rte_net_fbnic::fake::FakeDevice;
use rte_net_fbnic::native::NativeDma;
use rte_net_fbnic::rpc::RssHash;
use rte_net_fbnic::{RxConfig, RxQueue, Transport, TxConfig, TxQueue};

/// Packets per burst (the harness's `--burst=32`).
const BURST: usize = 32;
/// Rx + Tx burst pairs per timed batch.
const BATCH: usize = 8;
/// Descriptors per ring (the harness's `--rxd=1024 --txd=1024`).
const DESC: u32 = 1024;
/// RCQ entries: two completions per one-buffer packet.
const RCQ: u32 = 2 * DESC;
/// TWQ descriptors per one-buffer packet (META + LAST_AL).
const TWDS_PER_PKT: u32 = 2;
/// Mbufs in the pool and its per-lcore cache (testpmd's defaults for one port pair).
const POOL: u32 = 8191;
const CACHE: u32 = 250;
/// A 64-byte frame less its FCS, as the device reports it.
const FRAME_LEN: u16 = 60;

/// net_fbnic's queues on a fake device, and where the "device" is in each ring.
struct Fbnic {
    dev: Arc<FakeDevice>,
    rxq: RxQueue<MbufRxPool>,
    txq: TxQueue<Mbuf>,
    /// Next RCQ slot and next buffer id the device completes (free-running; the driver
    /// posts buffers in order).
    rcq_tail: u32,
    buf: u32,
    /// Next TCQ slot, and the TWQ head reported so far.
    tcq_tail: u32,
    twq_head: u32,
}

impl Fbnic {
    fn new(pool: &Pool) -> Self {
        let dev = Arc::new(FakeDevice::new());
        let tp: Arc<dyn Transport> = dev.clone();
        let dma = NativeDma::new(tp.clone());
        let mp = core::ptr::NonNull::new(pool.as_ptr()).expect("a pool");
        // SAFETY: mp is a pktmbuf pool that lives until the process ends (never freed).
        let rx_pool = unsafe { MbufRxPool::new(mp, 0, 0, RssHash::default()) }.expect("rx pool");
        let rx_cfg = RxConfig {
            nb_desc: DESC,
            drop_en: false,
            scatter: false,
            split: None,
        };
        let mut rxq = RxQueue::new(&tp, dma.as_ref(), 0, rx_cfg, rx_pool).expect("rx queue");
        rxq.start().expect("rx queue start");
        // testpmd asks for MBUF_FAST_FREE when the PMD offers it, as net_fbnic does.
        let tx_cfg = TxConfig {
            nb_desc: DESC,
            fast_free: true,
        };
        let mut txq = TxQueue::new(&tp, dma.as_ref(), 0, tx_cfg).expect("tx queue");
        txq.start().expect("tx queue start");
        Self {
            dev,
            rxq,
            txq,
            rcq_tail: 0,
            buf: 0,
            tcq_tail: 0,
            twq_head: 0,
        }
    }

    /// The device's side before a batch: a batch of packets received (untimed).
    fn receive(&mut self) {
        for k in 0..(BATCH * BURST) as u64 {
            let pay = Rcd::al(RcdType::PayAl, self.buf as u16, 0, FRAME_LEN, true);
            let meta = Rcd::meta()
                .with_rss_hash(k)
                .with_l3_type_bits(L3Type::Ipv4 as u64)
                .with_l4_type_bits(L4Type::Udp as u64)
                .with_l4_csum_unnecessary(true);
            assert!(
                self.dev.complete_rx(0, RCQ, self.rcq_tail, pay)
                    && self.dev.complete_rx(0, RCQ, self.rcq_tail + 1, meta),
                "the RCQ is mapped"
            );
            self.rcq_tail = self.rcq_tail.wrapping_add(2);
            self.buf = (self.buf + 1) % DESC;
        }
    }

    /// The device's side after a batch: `sent` packets sent, reported with one TCQ head
    /// update (untimed); the next batch's Tx bursts reclaim them.
    fn transmit_done(&mut self, sent: usize) {
        self.twq_head = (self.twq_head + TWDS_PER_PKT * sent as u32) % DESC;
        let tcd = Tcd::default().with_head0(self.twq_head as u64);
        assert!(
            self.dev.complete_tx(0, DESC, self.tcq_tail, tcd),
            "the TCQ is mapped"
        );
        self.tcq_tail = self.tcq_tail.wrapping_add(1);
    }

    /// Stops both queues: every mbuf goes back to the pool.
    fn stop(mut self) {
        self.rxq.stop().expect("rx queue stop");
        self.txq.stop().expect("tx queue stop");
        let errors = self.rxq.stats.errors.get() + self.rxq.stats.bad_descriptors.get();
        let tx_errors = self.txq.stats.errors.get() + self.txq.stats.bad_descriptors.get();
        assert_eq!((errors, tx_errors), (0, 0), "Rx and Tx errors");
    }
}

/// The timed part for net_fbnic: a batch of Rx bursts each forwarded by a Tx burst. Returns
/// the packets forwarded.
#[inline(never)]
fn fbnic_batch(
    rxq: &mut RxQueue<MbufRxPool>,
    txq: &mut TxQueue<Mbuf>,
    out: &mut [MaybeUninit<Mbuf>; BURST],
) -> usize {
    let mut fwd = 0;
    for _ in 0..BATCH {
        let n = rxq.burst(out);
        // SAFETY: the burst initialised the first n entries; MaybeUninit<Mbuf> has Mbuf's
        // layout.
        let pkts = unsafe { core::slice::from_raw_parts(out.as_ptr().cast::<Mbuf>(), n) };
        let sent = txq.burst(pkts);
        for p in &pkts[sent..] {
            rte_net_fbnic::buf::PktBuf::free_pkt(*p);
        }
        fwd += sent;
    }
    fwd
}

/// The same batch through net_null's port.
#[inline(never)]
fn null_batch(port: u16, raw: &mut [*mut sys::rte_mbuf; BURST]) -> usize {
    let mut fwd = 0;
    for _ in 0..BATCH {
        // SAFETY: raw has room for BURST mbuf pointers; the port and its queue 0 are
        // started; the packets received are ours to hand to tx_burst.
        let n = unsafe { sys::fbnic_eth_rx_burst(port, 0, raw.as_mut_ptr(), BURST as u16) };
        // SAFETY: the first n entries are mbufs we own; net_null takes them all.
        let sent = unsafe { sys::fbnic_eth_tx_burst(port, 0, raw.as_mut_ptr(), n) };
        fwd += sent as usize;
    }
    fwd
}

/// Both sides, and the buffers their batches fill.
struct Rig {
    pool: Pool,
    fbnic: Fbnic,
    null_port: u16,
    out: [MaybeUninit<Mbuf>; BURST],
    raw: [*mut sys::rte_mbuf; BURST],
}

impl Rig {
    fn new() -> Self {
        let pool = Pool::create("mbuf_burst", POOL, CACHE).expect("mbuf pool");
        let null_port = app::port_by_name("net_null0").expect("the net_null0 vdev");
        let conf = PortConf {
            nb_rxd: DESC as u16,
            nb_txd: DESC as u16,
            ..Default::default()
        };
        app::configure(null_port, &conf, &pool).expect("net_null0 configure");
        app::start(null_port).expect("net_null0 start");
        let fbnic = Fbnic::new(&pool);
        Self {
            pool,
            fbnic,
            null_port,
            out: [MaybeUninit::uninit(); BURST],
            raw: [core::ptr::null_mut(); BURST],
        }
    }

    /// One net_fbnic batch: the device's side untimed, the bursts timed by `time`.
    fn fbnic<T>(&mut self, time: impl FnOnce(&mut Self) -> (usize, T)) -> T {
        self.fbnic.receive();
        let (fwd, t) = time(self);
        assert_eq!(fwd, BATCH * BURST, "every burst forwarded 32 packets");
        self.fbnic.transmit_done(fwd);
        t
    }

    fn fbnic_timed(&mut self) -> u64 {
        self.fbnic(|r| {
            let start = tsc();
            let fwd = fbnic_batch(&mut r.fbnic.rxq, &mut r.fbnic.txq, black_box(&mut r.out));
            (fwd, tsc() - start)
        })
    }

    fn null_timed(&mut self) -> u64 {
        let start = tsc();
        let fwd = null_batch(self.null_port, black_box(&mut self.raw));
        let t = tsc() - start;
        assert_eq!(fwd, BATCH * BURST, "every burst forwarded 32 packets");
        t
    }

    /// Stops everything and checks no mbuf was lost.
    fn finish(self) {
        self.fbnic.stop();
        app::stop(self.null_port).expect("net_null0 stop");
        assert_eq!(self.pool.avail(), POOL, "every mbuf is back in the pool");
    }
}

/// The TSC (what testpmd's `--record-core-cycles` counts in).
#[inline(always)]
fn tsc() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: RDTSC has no preconditions on x86-64.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        use std::sync::OnceLock;
        static T0: OnceLock<Instant> = OnceLock::new();
        T0.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }
}

fn median(v: &mut [u64]) -> f64 {
    v.sort_unstable();
    v[v.len() / 2] as f64
}

/// `FBNIC_BENCH_BATCHES=N`: N batches of each side, alternating.
fn fixed(rig: &mut Rig, batches: usize) {
    let (mut f, mut n) = (Vec::with_capacity(batches), Vec::with_capacity(batches));
    for _ in 0..batches {
        f.push(rig.fbnic_timed());
        n.push(rig.null_timed());
    }
    let pkts = (BATCH * BURST) as f64;
    let (fc, nc) = (median(&mut f) / pkts, median(&mut n) / pkts);
    println!(
        "mbuf_burst: {batches} batches of {BATCH} x {BURST} packets per side (Rx burst + Tx \
         burst, one core, lines in cache): net_fbnic {fc:.1} TSC cycles/packet, net_null \
         {nc:.1} (median batch); net_fbnic / net_null {:.2}",
        fc / nc
    );
}

fn bench(c: &mut Criterion, rig: &mut Rig) {
    let mut g = c.benchmark_group("mbuf");
    g.throughput(Throughput::Elements((BATCH * BURST) as u64));
    g.bench_function("fbnic_rx_tx_burst32", |b| {
        b.iter_custom(|iters| {
            let mut t = Duration::ZERO;
            for _ in 0..iters {
                t += rig.fbnic(|r| {
                    let start = Instant::now();
                    let fwd =
                        fbnic_batch(&mut r.fbnic.rxq, &mut r.fbnic.txq, black_box(&mut r.out));
                    (fwd, start.elapsed())
                });
            }
            t
        })
    });
    g.bench_function("null_rx_tx_burst32", |b| {
        b.iter_custom(|iters| {
            let mut t = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let fwd = null_batch(rig.null_port, black_box(&mut rig.raw));
                t += start.elapsed();
                assert_eq!(fwd, BATCH * BURST, "every burst forwarded 32 packets");
            }
            t
        })
    });
    g.finish();
}

/// Whether hugepages are free to use (as `scripts/setup.sh` reserves them); without them,
/// or with `FBNIC_BENCH_NO_HUGE=1` (valgrind cannot map hugepages), EAL runs on 4 KiB pages.
fn hugepages_free() -> bool {
    if std::env::var_os("FBNIC_BENCH_NO_HUGE").is_some_and(|v| v != "0") {
        return false;
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let field = |name: &str| {
        meminfo
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // The pool needs ~20 MiB; ask for headroom.
    field("HugePages_Free:") * field("Hugepagesize:") >= 128 * 1024
}

fn main() {
    let mem: &[&str] = if hugepages_free() {
        &["--in-memory"]
    } else {
        &["--no-huge", "-m", "256", "--no-shconf"]
    };
    let eal: Vec<String> = ["mbuf_burst"]
        .iter()
        .chain(mem)
        .chain(&[
            "--no-pci",
            "--iova-mode=va",
            "--no-telemetry",
            "-l",
            "0",
            "--log-level=*:warning",
            "--vdev",
            "net_null0",
        ])
        .map(|s| s.to_string())
        .collect();
    app::eal_init(&eal).unwrap_or_else(|e| panic!("{e}"));
    let mut rig = Rig::new();
    match std::env::var("FBNIC_BENCH_BATCHES") {
        Ok(n) => {
            let n = n
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .unwrap_or_else(|| panic!("FBNIC_BENCH_BATCHES={n}: want a count above 0"));
            fixed(&mut rig, n);
        }
        Err(_) => {
            let mut c = Criterion::default().configure_from_args();
            bench(&mut c, &mut rig);
            c.final_summary();
        }
    }
    rig.finish();
}
