//! fbnic-cycles: port stop/start and queue reconfiguration, many times, with traffic.
//!
//! Two cabled ports (net_fbnic0, net_fbnic1) share one mbuf pool. Every cycle reconfigures
//! both ports with a different shape (Rx/Tx queue counts, descriptor counts, RSS on or off),
//! starts them, passes frames both ways across every queue and checks that each arrives,
//! then stops the ports and checks that the pool's available count
//! (`rte_mempool_avail_count`) is back at its starting value. Cycles also vary what is left
//! behind at stop time: frames still waiting in Rx rings, frames just handed to Tx, an Rx and
//! a Tx queue stopped and restarted at run time.
//!
//! Usage: `fbnic-cycles <EAL args> --vdev net_fbnic0 --vdev net_fbnic1 -- [--cycles N]
//! [--frames PER_DIRECTION]`. Exits 0 on PASS, 1 on a leak or lost frame, 2 on errors.

use std::time::{Duration, Instant};

use dpdk_sys as sys;
use fbnic_apps::dpdk::{self, Mbuf, Pool, PortConf};
use fbnic_apps::pkt::{Flow, Kind, Rng};
use fbnic_apps::{check_args, opt_num};

const P: &str = "fbnic-cycles";
const POOL_SIZE: u32 = 16383;

fn main() {
    fbnic_apps::exit_with(P, run())
}

/// What the cycles did.
#[derive(Debug, Default)]
struct Totals {
    cycles: u32,
    sent: u64,
    received: u64,
    lost: u64,
    left_in_rx: u64,
    left_in_tx: u64,
    queue_restarts: u64,
    leaks: u32,
    min_avail: u32,
    max_avail: u32,
    failures: Vec<String>,
}

/// The shape of cycle `i`.
fn shape(i: u32) -> PortConf {
    let nb_rxq = [1u16, 2, 4, 8][(i % 4) as usize];
    let nb_txq = [1u16, 4, 2, 3][((i / 4) % 4) as usize];
    let nb_rxd = [64u16, 128, 256, 512, 1024][(i % 5) as usize];
    let nb_txd = [64u16, 256, 512, 1024][((i / 3) % 4) as usize];
    PortConf {
        nb_rxq,
        nb_txq,
        // Cap what the Rx rings hold (8 queues x 1024 x 2 ports would empty the pool).
        nb_rxd: if nb_rxq >= 4 { nb_rxd.min(256) } else { nb_rxd },
        nb_txd,
        rss_hf: if nb_rxq > 1 {
            sys::RTE_ETH_RSS_IPV4
                | sys::RTE_ETH_RSS_IPV6
                | sys::RTE_ETH_RSS_NONFRAG_IPV4_TCP
                | sys::RTE_ETH_RSS_NONFRAG_IPV4_UDP
                | sys::RTE_ETH_RSS_NONFRAG_IPV6_TCP
                | sys::RTE_ETH_RSS_NONFRAG_IPV6_UDP
        } else {
            0
        },
        rss_key: None,
        rx_offloads: 0,
        tx_offloads: 0,
        // Every third shape with Rx interrupts: installed at start, taken down at stop.
        rx_intr: i % 3 == 0,
    }
}

struct Link {
    ports: [u16; 2],
    macs: [[u8; 6]; 2],
}

/// Sends `n` frames each way (spread over every Tx queue) and receives them on every Rx
/// queue; returns how many arrived each way.
fn exchange(
    l: &Link,
    c: &PortConf,
    pool: &Pool,
    rng: &mut Rng,
    n: usize,
    cycle: u32,
) -> Result<[u64; 2], String> {
    let mut frames: [Vec<Vec<u8>>; 2] = [Vec::new(), Vec::new()];
    for (d, f) in frames.iter_mut().enumerate() {
        for t in 0..n {
            let flow = Flow::random(Kind::ALL[t % Kind::ALL.len()], rng);
            f.push(flow.frame(l.macs[1 - d], l.macs[d], (cycle << 16) | t as u32, 60));
        }
    }
    let mut next = [0usize; 2];
    let mut got = [0u64; 2];
    let mut pending: [Vec<Mbuf>; 2] = [Vec::new(), Vec::new()];
    let mut txq = [0u16; 2];
    let mut rx: Vec<Mbuf> = Vec::new();
    let mut last = Instant::now();
    while (got[0] < n as u64 || got[1] < n as u64) && last.elapsed() < Duration::from_secs(5) {
        for d in 0..2 {
            if pending[d].is_empty() && next[d] < n {
                let end = (next[d] + 32).min(n);
                for f in &frames[d][next[d]..end] {
                    pending[d].push(pool.mbuf_from(f)?);
                }
                next[d] = end;
            }
            if dpdk::tx_burst(l.ports[d], txq[d], &mut pending[d]) > 0 {
                last = Instant::now();
            }
            txq[d] = (txq[d] + 1) % c.nb_txq;
            // Frames sent from port d arrive on port 1 - d.
            for q in 0..c.nb_rxq {
                if dpdk::rx_burst(l.ports[1 - d], q, &mut rx, 32) > 0 {
                    last = Instant::now();
                }
                for m in rx.drain(..) {
                    match Flow::parse(m.data()) {
                        Ok((_, tag)) if tag >> 16 == cycle => got[d] += 1,
                        Ok((_, tag)) => {
                            return Err(format!(
                                "cycle {cycle}: a frame of cycle {} arrived on port {}",
                                tag >> 16,
                                l.ports[1 - d]
                            ))
                        }
                        Err(e) => return Err(format!("cycle {cycle}: bad frame: {e}")),
                    }
                }
            }
        }
    }
    Ok(got)
}

fn one_cycle(
    l: &Link,
    pool: &Pool,
    rng: &mut Rng,
    i: u32,
    n: usize,
    t: &mut Totals,
) -> Result<(), String> {
    let c = shape(i);
    for &p in &l.ports {
        dpdk::configure(p, &c, pool)?;
    }
    for &p in &l.ports {
        dpdk::start(p)?;
    }
    for &p in &l.ports {
        dpdk::wait_link_up(p, Duration::from_secs(5))?;
    }
    let check = |got: [u64; 2], what: &str, t: &mut Totals| {
        t.sent += 2 * n as u64;
        t.received += got[0] + got[1];
        let lost = 2 * n as u64 - got[0] - got[1];
        if lost > 0 {
            t.lost += lost;
            t.failures.push(format!(
                "cycle {i} ({c:?}) {what}: {} of {n} frames 0->1 and {} of {n} 1->0 arrived",
                got[0], got[1]
            ));
        }
    };
    let got = exchange(l, &c, pool, rng, n, i)?;
    check(got, "traffic", t);
    match i % 4 {
        1 => {
            // Run-time queue stop/start, then traffic again through every queue.
            let rq = c.nb_rxq - 1;
            dpdk::rx_queue_ctl(l.ports[1], rq, false)?;
            dpdk::tx_queue_ctl(l.ports[0], 0, false)?;
            dpdk::rx_queue_ctl(l.ports[1], rq, true)?;
            dpdk::tx_queue_ctl(l.ports[0], 0, true)?;
            t.queue_restarts += 2;
            let got = exchange(l, &c, pool, rng, n, i)?;
            check(got, "traffic after queue restart", t);
        }
        2 => {
            // Leave frames waiting in port 1's Rx rings at stop.
            let mut pending: Vec<Mbuf> = Vec::new();
            for k in 0..64u32 {
                let flow = Flow::random(Kind::ALL[k as usize % 6], rng);
                pending.push(pool.mbuf_from(&flow.frame(l.macs[1], l.macs[0], k, 60))?);
            }
            let deadline = Instant::now() + Duration::from_secs(2);
            while !pending.is_empty() && Instant::now() < deadline {
                t.left_in_rx += dpdk::tx_burst(l.ports[0], 0, &mut pending) as u64;
            }
            // Give the device time to deliver them, but do not receive them.
            std::thread::sleep(Duration::from_millis(5));
        }
        3 => {
            // Stop right after handing frames to Tx (some still in the Tx ring).
            let mut pending: Vec<Mbuf> = Vec::new();
            for k in 0..64u32 {
                let flow = Flow::random(Kind::ALL[k as usize % 6], rng);
                pending.push(pool.mbuf_from(&flow.frame(l.macs[0], l.macs[1], k, 60))?);
            }
            t.left_in_tx += dpdk::tx_burst(l.ports[1], 0, &mut pending) as u64;
        }
        _ => {}
    }
    for &p in &l.ports {
        dpdk::stop(p)?;
    }
    let avail = pool.avail();
    t.min_avail = t.min_avail.min(avail);
    t.max_avail = t.max_avail.max(avail);
    t.cycles += 1;
    Ok(())
}

fn run() -> Result<bool, String> {
    let args: Vec<String> = std::env::args().collect();
    let app = dpdk::eal_init(&args)?;
    check_args(&app, &["--cycles", "--frames"])?;
    let cycles: u32 = opt_num(&app, "--cycles", 200)?;
    let n: usize = opt_num(&app, "--frames", 256)?;
    let ports = [
        dpdk::port_by_name("net_fbnic0")?,
        dpdk::port_by_name("net_fbnic1")?,
    ];
    let l = Link {
        ports,
        macs: [dpdk::mac_addr(ports[0])?, dpdk::mac_addr(ports[1])?],
    };
    let pool = Pool::create("cycles", POOL_SIZE, 64)?;
    let avail0 = pool.avail();
    println!("{P}: {cycles} cycles on ports {ports:?}, {n} frames each way per cycle; mbuf pool: {avail0} available");
    let mut t = Totals {
        min_avail: u32::MAX,
        ..Default::default()
    };
    let started = Instant::now();
    let mut err: Option<String> = None;
    let rc = dpdk::run_on_worker(|| {
        let mut rng = Rng::new(0xc1c1e5);
        for i in 0..cycles {
            let before = t.leaks;
            if let Err(e) = one_cycle(&l, &pool, &mut rng, i, n, &mut t) {
                err = Some(format!("cycle {i} ({:?}): {e}", shape(i)));
                return -1;
            }
            let avail = pool.avail();
            if avail != avail0 {
                t.leaks += 1;
                t.failures.push(format!(
                    "cycle {i} ({:?}): pool has {avail} available after stop, {avail0} at start",
                    shape(i)
                ));
            }
            if (i + 1) % 20 == 0 || t.leaks != before {
                println!(
                    "{P}: cycle {}/{cycles}: {} frames received of {} sent so far; pool available after stop: {avail}",
                    i + 1,
                    t.received,
                    t.sent
                );
            }
        }
        0
    })?;
    let secs = started.elapsed().as_secs_f64();
    if let Some(e) = err {
        // Leave the ports in a state that closes cleanly.
        for &p in &ports {
            let _ = dpdk::stop(p);
        }
        return Err(e);
    }
    if rc != 0 {
        return Err(format!("worker lcore returned {rc}"));
    }
    for f in t.failures.iter().take(20) {
        println!("{P}: FAILURE: {f}");
    }
    for &p in &ports {
        dpdk::close(p)?;
    }
    let avail_end = pool.avail();
    println!(
        "{P}: summary: cycles {}/{cycles} in {secs:.1}s, frames sent {} received {} lost {}, left in Rx rings at stop {}, handed to Tx just before stop {}, run-time queue restarts {}",
        t.cycles, t.sent, t.received, t.lost, t.left_in_rx, t.left_in_tx, t.queue_restarts
    );
    println!(
        "{P}: mbuf pool: start {avail0}, after each stop min {} max {}, after close {avail_end}, cycles with a leak {}",
        t.min_avail, t.max_avail, t.leaks
    );
    let pass = t.cycles == cycles
        && t.lost == 0
        && t.leaks == 0
        && avail_end == avail0
        && t.min_avail == avail0
        && t.max_avail == avail0;
    println!("{P}: {}", if pass { "PASS" } else { "FAIL" });
    dpdk::eal_cleanup();
    Ok(pass)
}
