//! fbnic-rss-check: RSS through DPDK, checked against DPDK's own `rte_softrss()`.
//!
//! Configures net_fbnic0 with N Rx queues (default 8), RSS on IPv4/IPv6 (2-tuple) and
//! IPv4/IPv6 TCP/UDP (4-tuple) with a non-default 40-byte key and a scrambled redirection
//! table, then sends crafted flows of six kinds (ipv4/ipv6 x tcp/udp/other) from net_fbnic1
//! (cabled to net_fbnic0) and checks every mbuf that arrives on port 0:
//!
//! * `RTE_MBUF_F_RX_RSS_HASH` is set and `hash.rss` equals `rte_softrss()` over the flow's
//!   tuple and the key;
//! * it arrived on queue `reta[hash % reta_size]` (the table read back from the port);
//! * its packet type and checksum flags match what was sent, its bytes are intact;
//! * every frame sent arrives exactly once, and the per-queue ethdev counters agree.
//!
//! After the traffic it reads the register dump (`rte_eth_dev_get_reg_info`, decoded with
//! `fbnic_hw::regdump`): the key, both indirection tables and each queue's frame counter must
//! be what was set and what arrived.
//!
//! Before that it checks that RSS keys of the wrong size are refused (configure and
//! rss_hash_update). Prints a summary; exits 0 on PASS, 1 on any mismatch, 2 on errors.
//!
//! Usage: `fbnic-rss-check <EAL args> --vdev net_fbnic0 --vdev net_fbnic1 -- [--queues N]
//! [--flows PER_KIND] [--packets-per-flow N] [--seed S]`

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use dpdk_sys as sys;
use fbnic_apps::dpdk::{self, Mbuf, Pool, PortConf};
use fbnic_apps::pkt::{Flow, Kind, Rng, L4};
use fbnic_apps::{check_args, opt_num, softrss, TEST_RSS_KEY};

const RSS_HF: u64 = sys::RTE_ETH_RSS_IPV4
    | sys::RTE_ETH_RSS_NONFRAG_IPV4_OTHER
    | sys::RTE_ETH_RSS_NONFRAG_IPV4_TCP
    | sys::RTE_ETH_RSS_NONFRAG_IPV4_UDP
    | sys::RTE_ETH_RSS_IPV6
    | sys::RTE_ETH_RSS_NONFRAG_IPV6_OTHER
    | sys::RTE_ETH_RSS_NONFRAG_IPV6_TCP
    | sys::RTE_ETH_RSS_NONFRAG_IPV6_UDP;
const RX_OFFLOADS: u64 = sys::RTE_ETH_RX_OFFLOAD_RSS_HASH
    | sys::RTE_ETH_RX_OFFLOAD_IPV4_CKSUM
    | sys::RTE_ETH_RX_OFFLOAD_TCP_CKSUM
    | sys::RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
const EINVAL: i32 = 22;
const P: &str = "fbnic-rss-check";

fn main() {
    fbnic_apps::exit_with(P, run())
}

/// Counts of everything checked.
#[derive(Debug, Default)]
struct Tally {
    received: u64,
    hash_ok: u64,
    hash_mismatch: u64,
    no_hash_flag: u64,
    wrong_queue: u64,
    ptype_mismatch: u64,
    cksum_flag_bad: u64,
    unexpected: u64,
    multi_seg: u64,
    per_queue: Vec<u64>,
    per_kind: BTreeMap<Kind, u64>,
    examples: Vec<String>,
}

impl Tally {
    fn example(&mut self, s: String) {
        if self.examples.len() < 12 {
            self.examples.push(s);
        }
    }
}

struct Traffic<'a> {
    frames: Vec<Vec<u8>>,
    flows: &'a [Flow],
    tag_flow: Vec<usize>,
    key: &'a [u8],
    reta: &'a [u16],
    nq: u16,
}

fn expected_ptype(k: Kind) -> u32 {
    let l3 = if k.v6 {
        sys::RTE_PTYPE_L3_IPV6_EXT_UNKNOWN
    } else {
        sys::RTE_PTYPE_L3_IPV4_EXT_UNKNOWN
    };
    let l4 = match k.l4 {
        L4::Tcp => sys::RTE_PTYPE_L4_TCP,
        L4::Udp => sys::RTE_PTYPE_L4_UDP,
        L4::Other => 0,
    };
    sys::RTE_PTYPE_L2_ETHER | l3 | l4
}

fn check_mbuf(t: &Traffic<'_>, tally: &mut Tally, seen: &mut [u32], q: u16, m: &Mbuf) {
    tally.received += 1;
    tally.per_queue[q as usize] += 1;
    if m.nb_segs() != 1 || m.pkt_len() as usize != m.data().len() {
        tally.multi_seg += 1;
    }
    let (flow, tag) = match Flow::parse(m.data()) {
        Ok(x) => x,
        Err(e) => {
            tally.unexpected += 1;
            tally.example(format!("queue {q}: unparsable frame: {e}"));
            return;
        }
    };
    let Some(&fi) = t.tag_flow.get(tag as usize) else {
        tally.unexpected += 1;
        tally.example(format!("queue {q}: frame with unknown tag {tag}"));
        return;
    };
    if t.flows[fi] != flow || t.frames[tag as usize].as_slice() != m.data() {
        tally.unexpected += 1;
        tally.example(format!(
            "queue {q}: frame tag {tag} differs from what was sent"
        ));
        return;
    }
    seen[tag as usize] += 1;
    let kind = flow.kind();
    *tally.per_kind.entry(kind).or_default() += 1;
    let want = softrss(&flow.rss_tuple(), t.key);
    let want_q = t.reta[want as usize % t.reta.len()];
    let ol = m.ol_flags();
    if ol & sys::RTE_MBUF_F_RX_RSS_HASH == 0 {
        tally.no_hash_flag += 1;
        tally.example(format!(
            "{} {flow:?}: no RTE_MBUF_F_RX_RSS_HASH (ol_flags {ol:#x})",
            kind.name()
        ));
    } else if m.rss_hash() != want {
        tally.hash_mismatch += 1;
        tally.example(format!(
            "{} {flow:?}: hash.rss {:#010x}, rte_softrss {want:#010x}",
            kind.name(),
            m.rss_hash()
        ));
    } else {
        tally.hash_ok += 1;
    }
    if q != want_q {
        tally.wrong_queue += 1;
        tally.example(format!(
            "{} {flow:?}: arrived on queue {q}, reta[{:#x} % {}] = {want_q}",
            kind.name(),
            want,
            t.reta.len()
        ));
    }
    let want_pt = expected_ptype(kind);
    let pt = m.packet_type()
        & (sys::RTE_PTYPE_L2_MASK | sys::RTE_PTYPE_L3_MASK | sys::RTE_PTYPE_L4_MASK);
    if pt != want_pt {
        tally.ptype_mismatch += 1;
        tally.example(format!(
            "{}: packet_type {pt:#x}, expected {want_pt:#x}",
            kind.name()
        ));
    }
    let ip_ok =
        kind.v6 || ol & sys::RTE_MBUF_F_RX_IP_CKSUM_MASK == sys::RTE_MBUF_F_RX_IP_CKSUM_GOOD;
    let l4_ok = kind.l4 == L4::Other
        || ol & sys::RTE_MBUF_F_RX_L4_CKSUM_MASK == sys::RTE_MBUF_F_RX_L4_CKSUM_GOOD;
    if !ip_ok || !l4_ok {
        tally.cksum_flag_bad += 1;
        tally.example(format!(
            "{}: checksum flags {:#x} for a frame with valid checksums",
            kind.name(),
            ol & (sys::RTE_MBUF_F_RX_IP_CKSUM_MASK | sys::RTE_MBUF_F_RX_L4_CKSUM_MASK)
        ));
    }
}

/// Sends every frame from `tx_port` and receives on all queues of `rx_port` (on a worker
/// lcore). Returns the tally, how many were sent, and which tags were seen how often.
fn exchange(
    t: &Traffic<'_>,
    pool: &Pool,
    rx_port: u16,
    tx_port: u16,
) -> Result<(Tally, usize, Vec<u32>), String> {
    let total = t.frames.len();
    let mut tally = Tally {
        per_queue: vec![0; t.nq as usize],
        ..Default::default()
    };
    let mut seen = vec![0u32; total];
    let mut sent = 0usize;
    let mut err: Option<String> = None;
    let rc = dpdk::run_on_worker(|| {
        let mut next = 0usize;
        let mut pending: Vec<Mbuf> = Vec::new();
        let mut got: Vec<Mbuf> = Vec::new();
        let mut last_progress = Instant::now();
        let hard_deadline = Instant::now() + Duration::from_secs(120);
        while (sent < total || tally.received < total as u64)
            && last_progress.elapsed() < Duration::from_secs(5)
            && Instant::now() < hard_deadline
        {
            if pending.is_empty() && next < total {
                let end = (next + 32).min(total);
                for f in &t.frames[next..end] {
                    match pool.mbuf_from(f) {
                        Ok(m) => pending.push(m),
                        Err(e) => {
                            err = Some(format!("building frame {next}: {e}"));
                            return -1;
                        }
                    }
                }
                next = end;
            }
            let n = dpdk::tx_burst(tx_port, 0, &mut pending);
            sent += n;
            let mut progress = n > 0;
            for q in 0..t.nq {
                if dpdk::rx_burst(rx_port, q, &mut got, 32) > 0 {
                    progress = true;
                }
                for m in got.drain(..) {
                    check_mbuf(t, &mut tally, &mut seen, q, &m);
                }
            }
            if progress {
                last_progress = Instant::now();
            }
        }
        0
    })?;
    if let Some(e) = err {
        return Err(e);
    }
    if rc != 0 {
        return Err(format!("worker lcore returned {rc}"));
    }
    Ok((tally, sent, seen))
}

/// How a frame asking for checksum offload is handed over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CsoWay {
    /// Checksum fields as an application that knows nothing about the NIC leaves them
    /// (here: already correct), then `rte_eth_tx_prepare`.
    Prepare,
    /// Garbage in the checksum fields, then `rte_eth_tx_prepare`.
    PrepareGarbage,
    /// No `rte_eth_tx_prepare`, the fields prepared by the application as most NICs need
    /// (IPv4 header checksum zero, pseudo-header sum in the TCP/UDP field).
    PseudoHeader,
}

/// Transmit checksum offload, three ways (see [`CsoWay`]), offload flags and header lengths
/// set. Each frame must arrive byte-for-byte equal to the frame with software-computed
/// checksums, and be flagged good by the receiver.
/// Returns (sent, received, correct, flagged good, examples).
fn tx_cso_check(
    pool: &Pool,
    flows: &[Flow],
    ports: (u16, u16),
    macs: ([u8; 6], [u8; 6]),
    nq: u16,
) -> Result<(usize, usize, usize, usize, Vec<String>), String> {
    let (rx_port, tx_port) = ports;
    let (dst, src) = macs;
    let mut want = Vec::new();
    let mut pkts = Vec::new();
    let mut per_kind = BTreeMap::<Kind, usize>::new();
    for f in flows {
        let n = per_kind.entry(f.kind()).or_default();
        if *n >= 48 {
            continue;
        }
        let way = [
            CsoWay::Prepare,
            CsoWay::PrepareGarbage,
            CsoWay::PseudoHeader,
        ][*n % 3];
        *n += 1;
        let tag = 0x4000_0000 + want.len() as u32;
        let len = 60 + (want.len() % 5) * 97;
        let good = f.frame(dst, src, tag, len);
        let (l2, l3) = (14, if f.kind().v6 { 40 } else { 20 });
        let frame = match way {
            CsoWay::Prepare => good.clone(),
            CsoWay::PrepareGarbage => {
                let mut g = good.clone();
                if !f.kind().v6 {
                    g[l2 + 10..l2 + 12].copy_from_slice(&[0xde, 0xad]);
                }
                let at = match f.l4 {
                    L4::Tcp => Some(16),
                    L4::Udp => Some(6),
                    L4::Other => None,
                };
                if let Some(at) = at {
                    g[l2 + l3 + at..l2 + l3 + at + 2].copy_from_slice(&[0xbe, 0xef]);
                }
                g
            }
            CsoWay::PseudoHeader => f.frame_for_cso(dst, src, tag, len).0,
        };
        let mut ol = if f.kind().v6 {
            sys::RTE_MBUF_F_TX_IPV6
        } else {
            sys::RTE_MBUF_F_TX_IPV4 | sys::RTE_MBUF_F_TX_IP_CKSUM
        };
        ol |= match f.l4 {
            L4::Tcp => sys::RTE_MBUF_F_TX_TCP_CKSUM,
            L4::Udp => sys::RTE_MBUF_F_TX_UDP_CKSUM,
            L4::Other => 0,
        };
        if ol == sys::RTE_MBUF_F_TX_IPV6 {
            continue; // nothing to offload
        }
        let mut m = pool.mbuf_from(&frame)?;
        m.set_tx_offload(ol, l2, l3);
        if way != CsoWay::PseudoHeader {
            dpdk::tx_prepare(tx_port, 0, core::slice::from_mut(&mut m))?;
        }
        pkts.push(m);
        want.push((good, f.kind()));
    }
    let total = want.len();
    let (mut sent, mut correct, mut good, mut seen) = (0usize, 0usize, 0usize, 0usize);
    let mut examples = Vec::new();
    let rc = dpdk::run_on_worker(|| {
        let mut got: Vec<Mbuf> = Vec::new();
        let mut last = Instant::now();
        while seen < total && last.elapsed() < Duration::from_secs(5) {
            let n = dpdk::tx_burst(tx_port, 0, &mut pkts);
            sent += n;
            if n > 0 {
                last = Instant::now();
            }
            for q in 0..nq {
                dpdk::rx_burst(rx_port, q, &mut got, 32);
            }
            for m in got.drain(..) {
                last = Instant::now();
                seen += 1;
                let tag = match Flow::parse(m.data()) {
                    Ok((_, t)) => t,
                    Err(e) => {
                        if examples.len() < 8 {
                            examples.push(format!("tx-cso: bad frame: {e}: {:02x?}", m.data()));
                        }
                        continue;
                    }
                };
                let Some((w, kind)) = tag
                    .checked_sub(0x4000_0000)
                    .and_then(|i| want.get(i as usize))
                else {
                    if examples.len() < 8 {
                        examples.push(format!("tx-cso: unknown frame {:02x?}", m.data()));
                    }
                    continue;
                };
                if m.data() == w.as_slice() {
                    correct += 1;
                } else if examples.len() < 8 {
                    examples.push(format!(
                        "tx-cso: {} frame tag {tag:#x} arrived as {:02x?}, expected {:02x?}",
                        kind.name(),
                        m.data(),
                        w
                    ));
                }
                let ol = m.ol_flags();
                let ip_ok = kind.v6
                    || ol & sys::RTE_MBUF_F_RX_IP_CKSUM_MASK == sys::RTE_MBUF_F_RX_IP_CKSUM_GOOD;
                let l4_ok = kind.l4 == L4::Other
                    || ol & sys::RTE_MBUF_F_RX_L4_CKSUM_MASK == sys::RTE_MBUF_F_RX_L4_CKSUM_GOOD;
                if ip_ok && l4_ok {
                    good += 1;
                }
            }
        }
        0
    })?;
    if rc != 0 {
        return Err(format!("worker lcore returned {rc}"));
    }
    Ok((sent, seen, correct, good, examples))
}

fn bad_key_checks(port: u16, pool: &Pool, nq: u16) -> Result<bool, String> {
    let mut ok = true;
    let conf = PortConf {
        nb_rxq: nq,
        rss_hf: RSS_HF,
        rss_key: Some(vec![0x5a; 20]),
        rx_offloads: RX_OFFLOADS,
        ..Default::default()
    };
    let rc = dpdk::dev_configure(port, &conf);
    let verdict = if rc == -EINVAL {
        "rejected"
    } else {
        "NOT rejected"
    };
    println!(
        "{P}: bad-key: configure with a 20-byte RSS key: {verdict}, {}",
        dpdk::err_str(rc)
    );
    ok &= rc == -EINVAL;
    // A correct configuration, then a 52-byte key through rss_hash_update.
    let good = PortConf {
        rss_key: None,
        ..conf
    };
    dpdk::configure(port, &good, pool)?;
    let rc = dpdk::rss_hash_update(port, RSS_HF, Some(&[0xa5; 52]));
    let verdict = if rc == -EINVAL {
        "rejected"
    } else {
        "NOT rejected"
    };
    println!(
        "{P}: bad-key: rss_hash_update with a 52-byte RSS key: {verdict}, {}",
        dpdk::err_str(rc)
    );
    ok &= rc == -EINVAL;
    Ok(ok)
}

/// The register dump (`rte_eth_dev_get_reg_info`, decoded with `fbnic_hw::regdump`) after
/// the traffic: its size and version, the RSS key and both indirection tables as this
/// application set them, each queue's frame counter equal to what arrived on it; a part read
/// from an offset into an unaligned buffer equals the same slots of the whole; a request past
/// the end refused with -EINVAL.
fn reg_dump_check(port: u16, key: &[u8], reta: &[u16], per_queue: &[u64]) -> Result<bool, String> {
    use fbnic_hw::regdump;
    use fbnic_hw::regs;
    let (len, width, version) = dpdk::reg_dump_size(port)?;
    let mut fails = Vec::new();
    if (len as usize, width, version) != (regdump::LEN, 4, regdump::VERSION) {
        fails.push(format!(
            "size: {len} registers of {width} bytes, version {version:#x}; expected {} of 4, {:#x}",
            regdump::LEN,
            regdump::VERSION
        ));
    }
    let mut raw = vec![0u8; regdump::LEN * 4];
    let (rc, got) = dpdk::reg_dump(port, 0, 0, &mut raw)?;
    if rc != 0 || got as usize != regdump::LEN {
        return Err(format!("full register dump: rc {rc}, {got} registers"));
    }
    let dump: Vec<u32> = raw
        .chunks_exact(4)
        .map(|c| u32::from_ne_bytes(c.try_into().expect("4 bytes")))
        .collect();
    let at = |r: u32| regdump::index_of(r).map(|i| dump[i]);
    for (i, k) in key.chunks_exact(4).enumerate() {
        let want = u32::from_be_bytes(k.try_into().expect("4 bytes"));
        if at(regs::rpc_rss_key(i as u32)) != Some(want) {
            fails.push(format!(
                "RSS key word {i}: {:?}, set {want:#010x}",
                at(regs::rpc_rss_key(i as u32))
            ));
        }
    }
    let reta_bad = (0..regs::RSS_TBL_COUNT)
        .flat_map(|t| reta.iter().enumerate().map(move |(i, &q)| (t, i, q)))
        .filter(|&(t, i, q)| at(regs::rpc_rss_tbl(t, i as u32)) != Some(q as u32))
        .count();
    if reta_bad != 0 {
        fails.push(format!(
            "{reta_bad} indirection table entries differ from the RETA set"
        ));
    }
    for (q, &n) in per_queue.iter().enumerate() {
        let frames = at(regs::RDE_PKT_CNT.at(q as u32));
        if frames != Some(n as u32) {
            fails.push(format!(
                "queue {q}: RDE_PKT_CNT {frames:?}, {n} frames arrived"
            ));
        }
    }
    // Ten registers from the key's slot, into a buffer one byte off alignment.
    let first = regdump::index_of(regs::rpc_rss_key(0)).expect("dumped") as u32;
    let mut part = [0u8; 41];
    let (rc, got) = dpdk::reg_dump(port, first, 10, &mut part[1..])?;
    if rc != 0 || got != 10 || part[1..] != raw[first as usize * 4..first as usize * 4 + 40] {
        fails.push(format!("part of 10 registers from slot {first}: rc {rc}, {got} registers, equal to the whole dump's: {}", part[1..] == raw[first as usize * 4..first as usize * 4 + 40]));
    }
    let (rc, _) = dpdk::reg_dump(port, len - 1, 2, &mut [0u8; 8])?;
    if rc != -EINVAL {
        fails.push(format!(
            "2 registers from the last slot: rc {rc}, expected -EINVAL"
        ));
    }
    for f in &fails {
        println!("{P}: mismatch: register dump: {f}");
    }
    println!(
        "{P}: register dump: {len} registers of {width} bytes, version {version:#x}: RSS key, {} tables and {} queue counters {}",
        regs::RSS_TBL_COUNT,
        per_queue.len(),
        if fails.is_empty() { "match" } else { "DO NOT MATCH" }
    );
    Ok(fails.is_empty())
}

fn run() -> Result<bool, String> {
    let args: Vec<String> = std::env::args().collect();
    let app = dpdk::eal_init(&args)?;
    check_args(
        &app,
        &["--queues", "--flows", "--packets-per-flow", "--seed"],
    )?;
    let nq: u16 = opt_num(&app, "--queues", 8)?;
    let per_kind: usize = opt_num(&app, "--flows", 256)?;
    let ppf: usize = opt_num(&app, "--packets-per-flow", 2)?;
    let seed: u64 = opt_num(&app, "--seed", 0x5eed)?;
    if !(1..=16).contains(&nq) {
        return Err(format!("--queues {nq}: 1 to 16"));
    }

    let rx_port = dpdk::port_by_name("net_fbnic0")?;
    let tx_port = dpdk::port_by_name("net_fbnic1")?;
    let info = dpdk::dev_info(rx_port)?;
    println!(
        "{P}: port {rx_port} net_fbnic0 (driver {}): reta_size {}, hash_key_size {}, rss types {:#x}",
        info.driver, info.reta_size, info.hash_key_size, info.flow_type_rss_offloads
    );
    if info.hash_key_size as usize != TEST_RSS_KEY.len() || info.reta_size == 0 {
        return Err(format!(
            "expected a {}-byte key and a redirection table, the port reports {} and {}",
            TEST_RSS_KEY.len(),
            info.hash_key_size,
            info.reta_size
        ));
    }
    let pool = Pool::create("rss_check", 16383, 256)?;
    let avail0 = pool.avail();

    let mut pass = bad_key_checks(rx_port, &pool, nq)?;

    let conf = PortConf {
        nb_rxq: nq,
        nb_txq: 1,
        rss_hf: RSS_HF,
        rss_key: Some(TEST_RSS_KEY.to_vec()),
        rx_offloads: RX_OFFLOADS,
        ..Default::default()
    };
    dpdk::configure(rx_port, &conf, &pool)?;
    dpdk::configure(
        tx_port,
        &PortConf {
            nb_txd: 1024,
            tx_offloads: sys::RTE_ETH_TX_OFFLOAD_IPV4_CKSUM
                | sys::RTE_ETH_TX_OFFLOAD_UDP_CKSUM
                | sys::RTE_ETH_TX_OFFLOAD_TCP_CKSUM,
            ..Default::default()
        },
        &pool,
    )?;

    // A scrambled table: entry i -> (i * 7 + i / 16) % nq, so neither round-robin nor blocks.
    let size = info.reta_size as usize;
    let want_reta: Vec<u16> = (0..size)
        .map(|i| ((i * 7 + i / 16) % nq as usize) as u16)
        .collect();
    dpdk::reta_update(rx_port, &want_reta)?;
    let reta = dpdk::reta_query(rx_port, size)?;
    if reta != want_reta {
        println!("{P}: reta read back differs from what was written");
        pass = false;
    }
    let (hf, key) = dpdk::rss_hash_conf(rx_port, TEST_RSS_KEY.len())?;
    let key_hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    // The device hashes by packet class, so it may report more types than asked for (the
    // fragment types with plain IP), never fewer.
    let conf_ok = key == TEST_RSS_KEY && hf & RSS_HF == RSS_HF;
    println!(
        "{P}: rss_hash_conf_get: types {hf:#x} (asked {RSS_HF:#x}), key {key_hex} ({})",
        if conf_ok {
            "as configured"
        } else {
            "DIFFERS from what was configured"
        }
    );
    pass &= conf_ok;
    println!(
        "{P}: reta[0..16] = {:?} ({nq} queues, {size} entries)",
        &reta[..16.min(size)]
    );

    dpdk::start(rx_port)?;
    dpdk::start(tx_port)?;
    let speed = dpdk::wait_link_up(rx_port, Duration::from_secs(5))?;
    dpdk::wait_link_up(tx_port, Duration::from_secs(5))?;
    let dst = dpdk::mac_addr(rx_port)?;
    let src = dpdk::mac_addr(tx_port)?;
    println!("{P}: link up at {speed} Mb/s");

    // Flows and frames: tag t is frame t; it carries flow t % nflows.
    let mut rng = Rng::new(seed);
    let mut flows = Vec::new();
    let mut uniq = HashMap::new();
    for i in 0..per_kind {
        for k in Kind::ALL {
            let f = Flow::random(k, &mut rng);
            if uniq.insert(f, i).is_none() {
                flows.push(f);
            }
        }
    }
    let total = flows.len() * ppf;
    let mut frames = Vec::with_capacity(total);
    let mut tag_flow = Vec::with_capacity(total);
    for t in 0..total {
        let fi = t % flows.len();
        let len = 60 + (t % 7) * 53;
        frames.push(flows[fi].frame(dst, src, t as u32, len));
        tag_flow.push(fi);
    }
    let traffic = Traffic {
        frames,
        flows: &flows,
        tag_flow,
        key: &TEST_RSS_KEY,
        reta: &reta,
        nq,
    };
    let started = Instant::now();
    let (tally, sent, seen) = exchange(&traffic, &pool, rx_port, tx_port)?;
    let secs = started.elapsed().as_secs_f64();
    let missing = seen.iter().filter(|&&n| n == 0).count();
    let duplicate = seen.iter().filter(|&&n| n > 1).count();

    let kinds: Vec<String> = Kind::ALL
        .iter()
        .map(|k| {
            format!(
                "{} {}",
                k.name(),
                flows.iter().filter(|f| f.kind() == *k).count()
            )
        })
        .collect();
    println!(
        "{P}: sent {sent} of {total} frames ({} flows: {}) from port {tx_port} in {secs:.2}s",
        flows.len(),
        kinds.join(", ")
    );
    let per_q: Vec<String> = tally
        .per_queue
        .iter()
        .enumerate()
        .map(|(q, n)| format!("q{q} {n}"))
        .collect();
    println!(
        "{P}: received {} on port {rx_port}: {}",
        tally.received,
        per_q.join(" ")
    );
    let per_k: Vec<String> = tally
        .per_kind
        .iter()
        .map(|(k, n)| format!("{} {n}", k.name()))
        .collect();
    println!("{P}: received per kind: {}", per_k.join(", "));
    println!(
        "{P}: checks: hash-ok {} hash-mismatch {} no-hash-flag {} wrong-queue {} missing {} duplicate {} unexpected {} ptype-mismatch {} cksum-flag-bad {} multi-seg {}",
        tally.hash_ok,
        tally.hash_mismatch,
        tally.no_hash_flag,
        tally.wrong_queue,
        missing,
        duplicate,
        tally.unexpected,
        tally.ptype_mismatch,
        tally.cksum_flag_bad,
        tally.multi_seg
    );
    for e in &tally.examples {
        println!("{P}: mismatch: {e}");
    }
    if missing > 0 {
        let first: Vec<usize> = seen
            .iter()
            .enumerate()
            .filter(|(_, &n)| n == 0)
            .map(|(t, _)| t)
            .take(10)
            .collect();
        println!("{P}: first missing tags: {first:?}");
    }

    // The PMD's own per-queue counters must agree with what the application saw.
    let st = dpdk::stats(rx_port)?;
    let nq_stats = (nq as usize).min(st.q_ipackets.len());
    let q_ok = (0..nq_stats).all(|q| st.q_ipackets[q] == tally.per_queue[q]);
    let stats_ok = q_ok && st.ipackets == tally.received && st.ierrors == 0 && st.imissed == 0;
    println!(
        "{P}: ethdev stats port {rx_port}: ipackets {} imissed {} ierrors {} per-queue {:?}: {}",
        st.ipackets,
        st.imissed,
        st.ierrors,
        &st.q_ipackets[..nq_stats],
        if stats_ok {
            "match"
        } else {
            "DO NOT MATCH the application's counts"
        }
    );

    let regs_ok = reg_dump_check(
        rx_port,
        &TEST_RSS_KEY,
        &reta,
        &tally.per_queue[..nq as usize],
    )?;

    let (cso_sent, cso_seen, cso_correct, cso_good, cso_examples) =
        tx_cso_check(&pool, &flows, (rx_port, tx_port), (dst, src), nq)?;
    for e in &cso_examples {
        println!("{P}: mismatch: {e}");
    }
    let cso_ok =
        cso_sent > 0 && cso_seen == cso_sent && cso_correct == cso_sent && cso_good == cso_sent;
    println!(
        "{P}: tx-cso: sent {cso_sent} frames with checksum offload, received {cso_seen}: {cso_correct} with correct checksums, {cso_good} flagged good by the receiver"
    );

    dpdk::stop(tx_port)?;
    dpdk::stop(rx_port)?;
    let avail_end = pool.avail();
    println!("{P}: mbuf pool: {avail0} available at start, {avail_end} after stopping the ports");
    dpdk::close(tx_port)?;
    dpdk::close(rx_port)?;

    pass &= sent == total
        && tally.received == total as u64
        && tally.hash_ok == total as u64
        && tally.hash_mismatch == 0
        && tally.no_hash_flag == 0
        && tally.wrong_queue == 0
        && missing == 0
        && duplicate == 0
        && tally.unexpected == 0
        && tally.ptype_mismatch == 0
        && tally.cksum_flag_bad == 0
        && tally.multi_seg == 0
        && stats_ok
        && regs_ok
        && cso_ok
        && avail_end == avail0;
    println!("{P}: {}", if pass { "PASS" } else { "FAIL" });
    dpdk::eal_cleanup();
    Ok(pass)
}
