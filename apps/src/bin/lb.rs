//! fbnic-lb: a layer-4 load balancer on net_fbnic ports, and the check of what it does.
//!
//! The balancer serves one virtual service (VIP 10.0.0.1, TCP and UDP port 80) with a pool
//! of backends (192.168.1.1, .2, ...). It polls the Rx queues of its front port, where the
//! NIC spreads client flows by RSS (Toeplitz over the IPv4 4-tuple). For each packet to the service it picks the backend from a Maglev table
//! ([`fbnic_apps::maglev`]) indexed by the NIC's RSS hash (`hash.rss`: no hashing in
//! software, no per-flow state), encapsulates the client's IPv4 packet in IPv4
//! ([`fbnic_apps::lb`], RFC 2003; the outer header checksum by the NIC's Tx offload) and
//! sends it out of its back port on the Tx queue of the same index. Everything else is
//! dropped and counted. The backend pool can change while it runs: the main lcore builds
//! the new table and each worker takes it between bursts.
//!
//! Every worker lcore EAL is given runs the balancer on its share of the front queues
//! (queue `q` to worker `q % workers`), as a balancer's workers each own queues.
//!
//! Four ports, cabled in pairs (`wire=pair`): `net_fbnic0` (the clients) <-> `net_fbnic1`
//! (the balancer's front), `net_fbnic2` (the balancer's back) <-> `net_fbnic3` (the
//! backends). The main lcore plays clients and backends:
//!
//! 1. sends `--packets-per-flow` packets of each of `--flows` client flows (TCP and UDP) to
//!    the service, and frames the balancer must drop (other addresses, ports, protocols,
//!    IPv6), then takes what reaches the backends: every service packet exactly once, on
//!    the backend `table[hash % size]` names for the Toeplitz hash of its 4-tuple under the
//!    front port's key, intact inside a well-formed outer header with a correct checksum;
//!    the flows spread over the backends as their table shares say;
//! 2. removes backend `--remove` from the pool, waits for the worker to take the new table,
//!    and sends every flow again: none reaches the removed backend, the flows it had move,
//!    each to the backend the new table names, and of the others only those whose table
//!    entries changed move (Maglev's few);
//! 3. compares the counts: the balancer's, each port's, every front queue used.
//!
//! Usage: `fbnic-lb <EAL args> --vdev net_fbnic0 ... --vdev net_fbnic3 -- [--queues 4]
//! [--backends 8] [--flows 2000] [--packets-per-flow 4] [--remove 3] [--table-size 65537]`.
//! Exits 0 when every check passed, 1 when one failed, 2 on errors.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dpdk_sys as sys;
use fbnic_apps::dpdk::{self, Mbuf, Pool, PortConf};
use fbnic_apps::lb::{self, Outer, Verdict, Vip, ENCAP_GROWTH};
use fbnic_apps::maglev::{self, Backend, Table};
use fbnic_apps::pkt::{Addrs, Flow, Kind, Rng, L4};
use fbnic_apps::{check_args, opt_num, softrss, Checks, TEST_RSS_KEY};

const P: &str = "fbnic-lb";
const VIP: Vip = Vip {
    addr: [10, 0, 0, 1],
    port: 80,
};
const LB_IP: [u8; 4] = [192, 168, 0, 1];
const RSS_HF: u64 = sys::RTE_ETH_RSS_NONFRAG_IPV4_TCP | sys::RTE_ETH_RSS_NONFRAG_IPV4_UDP;
const BURST: usize = 32;

fn main() {
    fbnic_apps::exit_with(P, run())
}

fn backend_ip(id: u16) -> [u8; 4] {
    [192, 168, 1, id as u8 + 1]
}

fn backends(n: u16, without: Option<u16>) -> Vec<Backend> {
    (0..n)
        .filter(|&i| Some(i) != without)
        .map(|i| Backend {
            id: i,
            name: backend_ip(i).to_vec(),
        })
        .collect()
}

/// What a worker counted (in its own variables: nothing shared per burst; handed over when
/// it stops).
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    rx: u64,
    to_backends: u64,
    not_service: u64,
    malformed: u64,
    /// Service packets without the NIC's RSS hash (hashed in software).
    sw_hashed: u64,
    /// Packets the back port's Tx queue did not take (dropped).
    tx_full: u64,
}

impl std::ops::Add for Counts {
    type Output = Counts;

    fn add(self, o: Counts) -> Counts {
        Counts {
            rx: self.rx + o.rx,
            to_backends: self.to_backends + o.to_backends,
            not_service: self.not_service + o.not_service,
            malformed: self.malformed + o.malformed,
            sw_hashed: self.sw_hashed + o.sw_hashed,
            tx_full: self.tx_full + o.tx_full,
        }
    }
}

/// The balancer's shared state: the table in force and its generation.
struct Shared {
    stop: AtomicBool,
    table: Mutex<Arc<Table>>,
    /// Bumped by the main lcore after it replaced `table`.
    generation: AtomicU64,
    /// The generation each worker runs with.
    taken: Vec<AtomicU64>,
    /// Each worker's counts, written when it stops.
    counts: Vec<Mutex<Counts>>,
}

/// The balancer's ports and addresses.
#[derive(Clone, Copy)]
struct Lb {
    front: u16,
    back: u16,
    queues: u16,
    outer: Outer,
}

/// Worker `w` of `n`: the balancer on the front queues `q` with `q % n == w` (and the
/// back port's Tx queues of the same index). Returns 0 (its counts are in `sh.counts[w]`).
fn balance(lb: Lb, sh: &Shared, w: usize, n: usize) -> i32 {
    let queues: Vec<u16> = (0..lb.queues).filter(|&q| q as usize % n == w).collect();
    let mut table = sh.table.lock().unwrap().clone();
    let mut generation = sh.generation.load(Ordering::Acquire);
    sh.taken[w].store(generation, Ordering::Release);
    let mut rx = Vec::with_capacity(BURST);
    let mut tx = Vec::with_capacity(BURST);
    let mut id: u16 = 0;
    let mut c = Counts::default();
    while !sh.stop.load(Ordering::Acquire) {
        let g = sh.generation.load(Ordering::Acquire);
        if g != generation {
            table = sh.table.lock().unwrap().clone();
            generation = g;
            sh.taken[w].store(g, Ordering::Release);
        }
        for &q in &queues {
            if dpdk::rx_burst(lb.front, q, &mut rx, BURST) == 0 {
                continue;
            }
            c.rx += rx.len() as u64;
            for mut m in rx.drain(..) {
                match lb::classify(m.data(), VIP) {
                    Verdict::Service => {}
                    Verdict::NotService => {
                        c.not_service += 1;
                        continue;
                    }
                    Verdict::Malformed(_) => {
                        c.malformed += 1;
                        continue;
                    }
                }
                let hash = if m.ol_flags() & sys::RTE_MBUF_F_RX_RSS_HASH != 0 {
                    m.rss_hash()
                } else {
                    c.sw_hashed += 1;
                    sw_hash(m.data())
                };
                let b = table.lookup(hash);
                if m.prepend(ENCAP_GROWTH as u16).is_err() {
                    c.malformed += 1;
                    continue;
                }
                id = id.wrapping_add(1);
                let o = Outer {
                    dst_ip: backend_ip(b),
                    ..lb.outer
                };
                lb::encapsulate(m.data_mut(), &o, id);
                m.set_tx_offload(
                    sys::RTE_MBUF_F_TX_IPV4 | sys::RTE_MBUF_F_TX_IP_CKSUM,
                    lb::ETH_HLEN,
                    lb::IPV4_HLEN,
                );
                tx.push(m);
            }
            let to_send = tx.len() as u64;
            // The back port's Tx queue drains as the device sends; a short wait at most.
            for _ in 0..1000 {
                if tx.is_empty() {
                    break;
                }
                dpdk::tx_burst(lb.back, q, &mut tx);
            }
            let full = tx.len() as u64;
            tx.clear();
            c.to_backends += to_send - full;
            c.tx_full += full;
        }
    }
    *sh.counts[w].lock().unwrap() = c;
    0
}

/// The 4-tuple hash the NIC would have given (a service packet: IPv4, TCP/UDP).
fn sw_hash(frame: &[u8]) -> u32 {
    let ip = &frame[lb::ETH_HLEN..];
    let ihl = (ip[0] & 0xf) as usize * 4;
    let w = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    softrss(
        &[w(&ip[12..16]), w(&ip[16..20]), w(&ip[ihl..ihl + 4])],
        &TEST_RSS_KEY,
    )
}

/// What the backends received of one phase: tag -> backend, and what went wrong.
#[derive(Debug, Default)]
struct Received {
    backend: HashMap<u32, u16>,
    duplicates: u64,
    bad: Vec<String>,
    bad_count: u64,
    csum_bad: u64,
}

impl Received {
    fn bad(&mut self, s: String) {
        self.bad_count += 1;
        if self.bad.len() < 8 {
            self.bad.push(s);
        }
    }
}

struct Run {
    clients: u16,
    backends_port: u16,
    front_mac: [u8; 6],
    clients_mac: [u8; 6],
    outer: Outer,
    flows: Vec<Flow>,
    per_flow: u32,
    nb_backends: u16,
}

const PHASE_SHIFT: u32 = 28;
const FLOW_SHIFT: u32 = 8;

fn tag(phase: u32, flow: usize, k: u32) -> u32 {
    phase << PHASE_SHIFT | (flow as u32) << FLOW_SHIFT | k
}

impl Run {
    /// One phase's service frames: every flow, `per_flow` packets each (sizes vary).
    fn service_frames(&self, phase: u32) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for k in 0..self.per_flow {
            for (i, f) in self.flows.iter().enumerate() {
                let len = 64 + (i * 37 + k as usize * 101) % 900;
                out.push(f.frame(self.front_mac, self.clients_mac, tag(phase, i, k), len));
            }
        }
        out
    }

    /// Sends `frames` from the clients' port while taking what reaches the backends (the
    /// links are lossless: a backend side that stopped taking frames would pause the
    /// balancer), then takes the rest until `want` came or 10 s passed, and 200 ms more for
    /// frames that should not come.
    fn exchange(
        &self,
        phase: u32,
        frames: &[Vec<u8>],
        want: usize,
        pool: &Pool,
    ) -> Result<Received, String> {
        let mut r = Received::default();
        let mut got = 0;
        let mut rx = Vec::with_capacity(BURST);
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut receive = |r: &mut Received| -> usize {
            let n = dpdk::rx_burst(self.backends_port, 0, &mut rx, BURST);
            for m in rx.drain(..) {
                self.take(phase, m.data(), r);
            }
            n
        };
        for chunk in frames.chunks(BURST) {
            let mut pkts = chunk
                .iter()
                .map(|f| pool.mbuf_from(f))
                .collect::<Result<Vec<Mbuf>, String>>()?;
            while !pkts.is_empty() {
                dpdk::tx_burst(self.clients, 0, &mut pkts);
                got += receive(&mut r);
                if Instant::now() > deadline {
                    return Err("the clients' port stopped taking frames".into());
                }
            }
        }
        let mut quiet_until = None;
        loop {
            let now = Instant::now();
            if now > deadline || quiet_until.is_some_and(|t| now > t) {
                break;
            }
            let n = receive(&mut r);
            got += n;
            if n == 0 {
                std::thread::sleep(Duration::from_micros(50));
            }
            if got >= want && quiet_until.is_none() {
                quiet_until = Some(now + Duration::from_millis(200));
            }
        }
        Ok(r)
    }

    fn take(&self, phase: u32, frame: &[u8], r: &mut Received) {
        let d = match lb::decapsulate(frame) {
            Ok(d) => d,
            Err(e) => return r.bad(format!("not IP-in-IP: {e}")),
        };
        if !d.outer_csum_ok {
            r.csum_bad += 1;
        }
        let o = d.outer;
        let b = o.dst_ip[3].wrapping_sub(1) as u16;
        if o.src_mac != self.outer.src_mac
            || o.dst_mac != self.outer.dst_mac
            || o.src_ip != LB_IP
            || o.dst_ip[..3] != [192, 168, 1]
            || b >= self.nb_backends
        {
            return r.bad(format!("outer headers {o:?}"));
        }
        // The client's packet, behind an Ethernet header again, as the client sent it.
        let mut inner = vec![0u8; lb::ETH_HLEN];
        inner[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        inner.extend_from_slice(d.inner);
        let (flow, t) = match Flow::parse(&inner) {
            Ok(x) => x,
            Err(e) => return r.bad(format!("inner packet: {e}")),
        };
        let i = (t >> FLOW_SHIFT & ((1 << (PHASE_SHIFT - FLOW_SHIFT)) - 1)) as usize;
        if t >> PHASE_SHIFT != phase || self.flows.get(i) != Some(&flow) {
            return r.bad(format!(
                "tag {t:#x} ({flow:?}) is not a service packet of phase {phase}"
            ));
        }
        if r.backend.insert(t, b).is_some() {
            r.duplicates += 1;
        }
    }
}

fn run() -> Result<bool, String> {
    let args: Vec<String> = std::env::args().collect();
    let app = dpdk::eal_init(&args)?;
    check_args(
        &app,
        &[
            "--queues",
            "--backends",
            "--flows",
            "--packets-per-flow",
            "--remove",
            "--table-size",
        ],
    )?;
    let queues: u16 = opt_num(&app, "--queues", 4)?;
    let nb_backends: u16 = opt_num(&app, "--backends", 8)?;
    let nb_flows: usize = opt_num(&app, "--flows", 2000)?;
    let per_flow: u32 = opt_num(&app, "--packets-per-flow", 4)?;
    let remove: u16 = opt_num(&app, "--remove", 3)?;
    let size: usize = opt_num(&app, "--table-size", maglev::DEFAULT_SIZE)?;
    if !(1..=16).contains(&queues) {
        return Err(format!("--queues {queues}: 1 to 16"));
    }
    if !(2..=200).contains(&nb_backends) || remove >= nb_backends {
        return Err(format!(
            "--backends {nb_backends} (2 to 200), --remove {remove} (one of them)"
        ));
    }
    if nb_flows == 0 || nb_flows >= 1 << (PHASE_SHIFT - FLOW_SHIFT) || !(1..256).contains(&per_flow)
    {
        return Err("--flows 1..1048575, --packets-per-flow 1..255".into());
    }
    let workers = dpdk::worker_lcores().len();
    if workers == 0 || workers > queues as usize {
        return Err(format!(
            "{workers} worker lcores for {queues} front queues: give EAL 1 to {queues} besides the main one"
        ));
    }
    let port = |n: &str| dpdk::port_by_name(n);
    let (clients, front, back, backends_port) = (
        port("net_fbnic0")?,
        port("net_fbnic1")?,
        port("net_fbnic2")?,
        port("net_fbnic3")?,
    );
    let pool = Pool::create("fbnic_lb", 32767, 256)?;
    let avail0 = pool.avail();
    let one = PortConf {
        nb_txd: 1024,
        nb_rxd: 1024,
        ..Default::default()
    };
    dpdk::configure(clients, &one, &pool)?;
    dpdk::configure(backends_port, &one, &pool)?;
    dpdk::configure(
        front,
        &PortConf {
            nb_rxq: queues,
            nb_txq: 1,
            nb_rxd: 1024,
            rss_hf: RSS_HF,
            rss_key: Some(TEST_RSS_KEY.to_vec()),
            rx_offloads: sys::RTE_ETH_RX_OFFLOAD_RSS_HASH,
            ..Default::default()
        },
        &pool,
    )?;
    dpdk::configure(
        back,
        &PortConf {
            nb_rxq: 1,
            nb_txq: queues,
            nb_txd: 1024,
            tx_offloads: sys::RTE_ETH_TX_OFFLOAD_IPV4_CKSUM,
            ..Default::default()
        },
        &pool,
    )?;
    for p in [clients, front, back, backends_port] {
        dpdk::start(p)?;
    }
    for p in [clients, front, back, backends_port] {
        dpdk::wait_link_up(p, Duration::from_secs(5))?;
    }
    let outer = Outer {
        src_mac: dpdk::mac_addr(back)?,
        dst_mac: dpdk::mac_addr(backends_port)?,
        src_ip: LB_IP,
        dst_ip: [0; 4],
    };
    let mut rng = Rng::new(0x10ad_ba1a);
    let flows: Vec<Flow> = (0..nb_flows)
        .map(|i| {
            let l4 = if i % 2 == 0 { L4::Tcp } else { L4::Udp };
            let mut f = Flow::random(Kind { v6: false, l4 }, &mut rng);
            if let Addrs::V4 { dst, .. } = &mut f.addrs {
                *dst = VIP.addr;
            }
            f.dport = VIP.port;
            f
        })
        .collect();
    let tables = [
        Table::build(&backends(nb_backends, None), size)?,
        Table::build(&backends(nb_backends, Some(remove)), size)?,
    ];
    let sh = Shared {
        stop: AtomicBool::new(false),
        table: Mutex::new(Arc::new(tables[0].clone())),
        generation: AtomicU64::new(0),
        taken: (0..workers).map(|_| AtomicU64::new(u64::MAX)).collect(),
        counts: (0..workers).map(|_| Mutex::default()).collect(),
    };
    let r = Run {
        clients,
        backends_port,
        front_mac: dpdk::mac_addr(front)?,
        clients_mac: dpdk::mac_addr(clients)?,
        outer,
        flows,
        per_flow,
        nb_backends,
    };
    println!(
        "{P}: VIP 10.0.0.1:80, {nb_backends} backends, Maglev table of {size}, {queues} front queues polled by {workers} worker lcore(s), {nb_flows} flows x {per_flow} packets per phase"
    );
    let lb = Lb {
        front,
        back,
        queues,
        outer,
    };
    let (rcs, phases) = dpdk::run_beside_workers(
        &sh.stop,
        |w, n| balance(lb, &sh, w, n),
        || -> Result<(Received, Received, u64), String> {
            let want = nb_flows * per_flow as usize;
            let deadline = Instant::now() + Duration::from_secs(5);
            let all_took = |g| sh.taken.iter().all(|t| t.load(Ordering::Acquire) == g);
            while !all_took(0) {
                if Instant::now() > deadline {
                    return Err("the balancer did not start".into());
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            // Phase 1, with frames the balancer must drop among the service's.
            let mut frames = r.service_frames(1);
            let drops = drop_frames(&r, &mut rng);
            let nb_drops = drops.len() as u64;
            for (i, d) in drops.into_iter().enumerate() {
                frames.insert(i * 7 % frames.len(), d);
            }
            let first = r.exchange(1, &frames, want, &pool)?;
            // A backend leaves: the new table, taken by the worker between bursts.
            *sh.table.lock().unwrap() = Arc::new(tables[1].clone());
            sh.generation.store(1, Ordering::Release);
            let deadline = Instant::now() + Duration::from_secs(5);
            while !all_took(1) {
                if Instant::now() > deadline {
                    return Err("the balancer did not take the new table".into());
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            let second = r.exchange(2, &r.service_frames(2), want, &pool)?;
            Ok((first, second, nb_drops))
        },
    )?;
    let (first, second, nb_drops) = phases?;
    if rcs.iter().any(|&rc| rc != 0) {
        return Err(format!("the balancer's lcores returned {rcs:?}"));
    }
    let mut c = Checks::new(P);
    let hashes: Vec<u32> = r
        .flows
        .iter()
        .map(|f| softrss(&f.rss_tuple(), &TEST_RSS_KEY))
        .collect();
    let phase_checks = |c: &mut Checks, name: &str, got: &Received, t: &Table, phase: u32| {
        let want = nb_flows as u64 * per_flow as u64;
        c.check(
            &format!("{name}: every service packet reached a backend once"),
            got.backend.len() as u64 == want && got.duplicates == 0 && got.bad_count == 0,
            format!(
                "{} of {want}, {} duplicates, {} bad{}",
                got.backend.len(),
                got.duplicates,
                got.bad_count,
                if got.bad.is_empty() {
                    String::new()
                } else {
                    format!(": {}", got.bad.join("; "))
                }
            ),
        );
        c.check(
            &format!("{name}: outer IPv4 checksums (the NIC's Tx offload) right"),
            got.csum_bad == 0 && !got.backend.is_empty(),
            format!("{} wrong", got.csum_bad),
        );
        let wrong: Vec<String> = got
            .backend
            .iter()
            .filter_map(|(&tg, &b)| {
                let i = (tg >> FLOW_SHIFT & 0xf_ffff) as usize;
                let want = t.lookup(hashes[i]);
                (b != want).then(|| format!("tag {tg:#x}: backend {b}, table says {want}"))
            })
            .take(5)
            .collect();
        c.check(
            &format!("{name}: each packet on the backend the table names for the Toeplitz hash of its 4-tuple"),
            wrong.is_empty(),
            if wrong.is_empty() {
                format!("{} packets, the key's hash = the NIC's", got.backend.len())
            } else {
                wrong.join("; ")
            },
        );
        let mut per_backend: BTreeMap<u16, usize> = BTreeMap::new();
        for i in 0..nb_flows {
            if let Some(&b) = got.backend.get(&tag(phase, i, 0)) {
                *per_backend.entry(b).or_default() += 1;
            }
        }
        per_backend
    };
    let spread1 = phase_checks(&mut c, "phase 1", &first, &tables[0], 1);
    let fair = nb_flows as f64 / nb_backends as f64;
    let (lo, hi) = (
        spread1.values().min().copied().unwrap_or(0),
        spread1.values().max().copied().unwrap_or(0),
    );
    c.check(
        "phase 1: the flows spread over every backend",
        spread1.len() == nb_backends as usize && lo as f64 > fair * 0.5 && (hi as f64) < fair * 1.5,
        format!("flows per backend {spread1:?} (even: {fair:.0})"),
    );
    let spread2 = phase_checks(&mut c, "phase 2", &second, &tables[1], 2);
    c.check(
        &format!("phase 2: nothing for removed backend {remove}"),
        !spread2.contains_key(&remove) && !second.backend.values().any(|&b| b == remove),
        format!("flows per backend {spread2:?}"),
    );
    let (mut orphans, mut moved_others, mut stayed) = (0, 0, 0);
    for i in 0..nb_flows {
        let (Some(&a), Some(&b)) = (
            first.backend.get(&tag(1, i, 0)),
            second.backend.get(&tag(2, i, 0)),
        ) else {
            continue;
        };
        if a == remove {
            orphans += 1;
        } else if a != b {
            moved_others += 1;
        } else {
            stayed += 1;
        }
    }
    let others = moved_others + stayed;
    c.check(
        "phase 2: the removed backend's flows moved, few others did",
        orphans == spread1.get(&remove).copied().unwrap_or(0)
            && others > 0
            && moved_others * 100 < others * 5,
        format!(
            "{orphans} flows moved off backend {remove}; {moved_others} of the other {others} moved ({:.2}%; table entries changed: {})",
            moved_others as f64 * 100.0 / others.max(1) as f64,
            tables[0].moved(&tables[1]) - tables[0].shares()[&remove]
        ),
    );
    let per_worker: Vec<Counts> = sh.counts.iter().map(|m| *m.lock().unwrap()).collect();
    let cnt = per_worker.iter().fold(Counts::default(), |a, &b| a + b);
    let service = 2 * nb_flows as u64 * per_flow as u64;
    let st = |p| dpdk::stats(p);
    let (sc, sf, sb, sk) = (st(clients)?, st(front)?, st(back)?, st(backends_port)?);
    c.check(
        "balancer counts: received = sent by the clients; to backends = the service packets; the rest dropped as not for the service",
        cnt.rx == sc.opackets
            && sf.ipackets == sc.opackets
            && cnt.to_backends == service
            && cnt.not_service == nb_drops
            && cnt.malformed == 0
            && cnt.tx_full == 0
            && sb.opackets == service
            && sk.ipackets == service
            && sf.imissed == 0
            && sk.imissed == 0,
        format!(
            "clients sent {}, front received {} (missed {}), balancer rx {} to backends {} not for the service {} (sent {nb_drops}) malformed {} Tx full {}, back sent {}, backends received {} (missed {})",
            sc.opackets, sf.ipackets, sf.imissed, cnt.rx, cnt.to_backends,
            cnt.not_service, cnt.malformed, cnt.tx_full, sb.opackets,
            sk.ipackets, sk.imissed
        ),
    );
    c.check(
        "every service packet carried the NIC's RSS hash",
        cnt.sw_hashed == 0,
        format!("{} hashed in software", cnt.sw_hashed),
    );
    let per_q = &sf.q_ipackets[..queues as usize];
    c.check(
        "RSS spread the flows over every front queue",
        per_q.iter().all(|&n| n > 0) && per_q.iter().sum::<u64>() == sf.ipackets,
        format!("{per_q:?}"),
    );
    let per_worker_rx: Vec<u64> = per_worker.iter().map(|w| w.rx).collect();
    c.check(
        "every worker lcore balanced its queues' packets",
        per_worker_rx.iter().all(|&n| n > 0),
        format!("received per worker {per_worker_rx:?}"),
    );
    for p in [clients, front, back, backends_port] {
        dpdk::stop(p)?;
        dpdk::close(p)?;
    }
    c.check(
        "the mbuf pool is whole again after close",
        pool.avail() == avail0,
        format!("{} of {avail0}", pool.avail()),
    );
    Ok(c.finish())
}

/// Frames the balancer must drop: to another address, to another port, another protocol,
/// IPv6. Tagged outside the service's phases.
fn drop_frames(r: &Run, rng: &mut Rng) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (i, kind) in [
        (false, L4::Tcp),
        (false, L4::Udp),
        (false, L4::Other),
        (true, L4::Udp),
    ]
    .into_iter()
    .enumerate()
    {
        for j in 0..8u32 {
            let mut f = Flow::random(
                Kind {
                    v6: kind.0,
                    l4: kind.1,
                },
                rng,
            );
            if let Addrs::V4 { dst, .. } = &mut f.addrs {
                // Half to the VIP on another port (TCP/UDP), half to another address.
                if j % 2 == 0 && kind.1 != L4::Other {
                    *dst = VIP.addr;
                    f.dport = 443;
                }
            }
            out.push(f.frame(r.front_mac, r.clients_mac, tag(3, i, j), 80));
        }
    }
    out
}
