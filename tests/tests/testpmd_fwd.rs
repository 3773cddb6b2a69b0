//! Real dpdk-testpmd, every forwarding mode, on two net_fbnic ports cabled to each other
//! (net_fbnic0 <-> net_fbnic1, the default `wire=pair`), driven interactively.
//!
//! After each run the forwarding is stopped, the device is left to finish what is in flight,
//! and the counters are checked for consistency in both directions (a -> b):
//!
//! * what testpmd handed to port a (TX-packets) left a's MAC, and arrived at b's MAC;
//! * everything that arrived at b's MAC was delivered to an Rx queue or dropped and counted
//!   (`*_drops` xstats, RX-missed): `tx(a) == Σ rx_qN_hw_packets(b) + drops(b)`;
//! * testpmd received (RX-packets) what was delivered, less what still sits in the Rx rings;
//! * nothing counted an error, the driver logged no warning or error, testpmd said Bye...
//!
//! and for each mode what "consistent" means for it (see each test).

use std::time::Duration;

use fbnic_it::dpdk::{assert_no_driver_lines, driver_log_lines, show, TestPmd};
use fbnic_it::parse::{self, get, sum_where, Counters};
use fbnic_it::process::Proc;
use fbnic_it::{dpdk_lock, eal_args, env, pcap};

const PORTS: [&str; 2] = ["net_fbnic0", "net_fbnic1"];
/// Packets a forwarding run must at least move (the pair forwards millions a second; this is far
/// below what even a loaded 2-core machine does in the run time).
const MIN_PACKETS: u64 = 10_000;
const RXD: u64 = 1024;

/// Frames dropped at port `x` and counted (queue drops, RXB drops, RPC drops, to the BMC).
fn drops(x: &Counters) -> u64 {
    sum_where(x, |k| k.ends_with("_drops")) + x.get("rpc_to_bmc").copied().unwrap_or(0)
}

fn rx_hw(x: &Counters) -> u64 {
    sum_where(x, |k| k.starts_with("rx_q") && k.ends_with("_hw_packets"))
}

fn rx_hw_bytes(x: &Counters) -> u64 {
    sum_where(x, |k| k.starts_with("rx_q") && k.ends_with("_hw_bytes"))
}

fn tx_hw_bytes(x: &Counters) -> u64 {
    sum_where(x, |k| k.starts_with("tx_q") && k.ends_with("_hw_bytes"))
}

fn errors(x: &Counters) -> Vec<(String, u64)> {
    x.iter()
        .filter(|(k, v)| {
            // rx_missed_errors is ethdev's name for the drops checked against RX-missed.
            **v != 0
                && k.as_str() != "rx_missed_errors"
                && (k.contains("error")
                    || k.contains("bad_")
                    || k.contains("fault")
                    || k.contains("malformed")
                    || k.contains("nombuf")
                    || k.contains("alloc_fail"))
        })
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// How a mode is run.
struct Mode {
    /// Test name (log file name).
    name: &'static str,
    /// testpmd forwarding mode.
    fwd: &'static str,
    /// Extra EAL arguments.
    eal: &'static [&'static str],
    /// Extra testpmd arguments.
    args: &'static [&'static str],
    /// Commands before the start.
    setup: &'static [&'static str],
    /// The start command.
    start: &'static str,
    /// Rx/Tx queues per port.
    queues: u16,
    /// Forwarding lcores (`--nb-cores`).
    cores: u16,
}

impl Mode {
    /// Forwarding mode `fwd` on one queue per port, started with `start tx_first`.
    fn new(name: &'static str, fwd: &'static str) -> Self {
        Self {
            name,
            fwd,
            eal: &[],
            args: &[],
            setup: &[],
            start: "start tx_first",
            queues: 1,
            cores: 1,
        }
    }
}

/// The numbers of one run.
struct Outcome {
    /// testpmd's forward statistics per port (from `stop`).
    fwd: std::collections::BTreeMap<u16, Counters>,
    /// Extended statistics per port after the device settled.
    x: [Counters; 2],
    /// `show port stats` per port.
    s: [Counters; 2],
    /// All output.
    text: String,
}

/// Starts testpmd, runs `m`, waits for `enough` (polled with the session), stops, settles,
/// reads the counters and quits; then checks what holds for every mode.
fn run_mode(m: &Mode, enough: &mut dyn FnMut(&mut TestPmd) -> bool) -> Outcome {
    let q = m.queues.to_string();
    let cores = format!("--nb-cores={}", m.cores);
    let mut args = vec![
        cores.as_str(),
        "--total-num-mbufs=16384",
        "--rxq",
        &q,
        "--txq",
        &q,
    ];
    args.extend_from_slice(m.args);
    let mut tp = TestPmd::start(m.name, &PORTS, m.eal, &args);
    tp.cmd_expect(
        &format!("set fwd {}", m.fwd),
        &[&format!("Set {} packet forwarding mode", m.fwd)],
    );
    for c in m.setup {
        let out = tp.cmd(c);
        tp.check(
            !out.contains("Fail") && !out.contains("rror") && !out.contains("nvalid"),
            || format!("setup command {c:?} failed:\n{out}"),
        );
    }
    let out = tp.cmd(m.start);
    tp.check(out.contains("packet forwarding"), || {
        format!("{:?} did not start forwarding:\n{out}", m.start)
    });
    std::thread::sleep(Duration::from_millis(500));
    tp.wait_until("traffic", Duration::from_secs(60), |t| enough(t));
    let stop = tp.cmd("stop");
    let fwd = parse::fwd_stats(&stop);
    tp.check(fwd.len() == 2, || {
        format!("no forward statistics for both ports in:\n{stop}")
    });
    let settled = tp.settle(&[0, 1]);
    let x = [settled[0].clone(), settled[1].clone()];
    let s = [tp.stats(0), tp.stats(1)];
    let text = tp.quit();
    let o = Outcome { fwd, x, s, text };
    common_checks(m, &o);
    o
}

fn fail(o: &Outcome, msg: &str) -> ! {
    panic!(
        "{msg}\nport 0 xstats: {}\nport 1 xstats: {}\nport stats: {:?}\nforward stats: {:?}\n---- testpmd output (tail) ----\n{}",
        show(&o.x[0]),
        show(&o.x[1]),
        o.s,
        o.fwd,
        fbnic_it::dpdk::last_lines(&o.text, 120)
    )
}

fn check(o: &Outcome, cond: bool, msg: impl FnOnce() -> String) {
    if !cond {
        fail(o, &msg());
    }
}

fn common_checks(m: &Mode, o: &Outcome) {
    for a in 0..2usize {
        let b = 1 - a;
        let (xa, xb, sa, sb) = (&o.x[a], &o.x[b], &o.s[a], &o.s[b]);
        let tx = get(sa, "TX-packets");
        check(o, tx == get(xa, "mac_tx_frames_ok"), || {
            format!(
                "port {a}: testpmd handed {tx} packets to Tx but the MAC sent {}",
                get(xa, "mac_tx_frames_ok")
            )
        });
        check(
            o,
            get(xa, "mac_tx_frames_ok") == get(xb, "mac_rx_frames_ok"),
            || {
                format!(
                    "port {a} MAC sent {} frames, port {b} MAC received {}",
                    get(xa, "mac_tx_frames_ok"),
                    get(xb, "mac_rx_frames_ok")
                )
            },
        );
        let (delivered, dropped) = (rx_hw(xb), drops(xb));
        check(o, tx == delivered + dropped, || {
            format!(
                "port {a} sent {tx}; port {b} delivered {delivered} to its Rx queues and dropped {dropped}: {} unaccounted",
                tx as i64 - (delivered + dropped) as i64
            )
        });
        check(o, get(sb, "RX-missed") == dropped, || {
            format!(
                "port {b}: RX-missed {} but {dropped} frames were dropped",
                get(sb, "RX-missed")
            )
        });
        let got = get(sb, "RX-packets");
        let in_rings = m.queues as u64 * RXD;
        check(o, got <= delivered && delivered - got <= in_rings, || {
            format!(
                "port {b}: testpmd received {got}, the device delivered {delivered} (at most {in_rings} may wait in the Rx rings)"
            )
        });
        if dropped == 0 {
            check(o, get(sa, "TX-bytes") == tx_hw_bytes(xa), || {
                format!(
                    "port {a}: TX-bytes {} vs {} bytes sent by the Tx queues",
                    get(sa, "TX-bytes"),
                    tx_hw_bytes(xa)
                )
            });
            check(o, tx_hw_bytes(xa) == rx_hw_bytes(xb), || {
                format!(
                    "port {a} queues sent {} bytes, port {b} queues received {}",
                    tx_hw_bytes(xa),
                    rx_hw_bytes(xb)
                )
            });
        }
        for (what, st) in [("port", sa), ("port", sb)] {
            for k in ["RX-errors", "TX-errors", "RX-nombuf"] {
                check(o, get(st, k) == 0, || {
                    format!("{what}: {k} = {}", get(st, k))
                });
            }
        }
        let errs = errors(xa);
        check(o, errs.is_empty(), || {
            format!("port {a}: error counters: {errs:?}")
        });
    }
    let logs = driver_log_lines(&o.text);
    check(o, logs.is_empty(), || {
        format!("the driver logged warnings or errors:\n{}", logs.join("\n"))
    });
}

/// Checks for modes that forward what they receive to the other port (io, mac, macswap,
/// 5tswap), started with `tx_first` (one burst of 32 per port): every packet received
/// on a is sent to b or counted as dropped by testpmd, and the link is lossless.
fn forwarding_checks(o: &Outcome, queues: u16) {
    // tx_first sends one burst of 32 on every stream (one per queue).
    let first = 32 * queues as u64;
    for a in 0..2u16 {
        let b = 1 - a;
        let rx = get(&o.fwd[&a], "RX-packets");
        let tx_total = get(&o.fwd[&b], "TX-total");
        check(o, tx_total == rx + first, || {
            format!("port {a} received {rx}, port {b} TX-total {tx_total} (expected received + the {first} of tx_first)")
        });
        check(o, rx >= MIN_PACKETS, || {
            format!("port {a} forwarded only {rx} packets")
        });
        check(o, get(&o.fwd[&a], "RX-dropped") == 0, || {
            format!("port {a}: RX-dropped on a lossless link")
        });
    }
}

/// Waits until port 1 has received at least MIN_PACKETS (testpmd's count).
fn until_min_rx(t: &mut TestPmd) -> bool {
    get(&t.stats(1), "RX-packets") >= MIN_PACKETS && get(&t.stats(0), "RX-packets") >= MIN_PACKETS
}

fn until_min_tx(t: &mut TestPmd) -> bool {
    get(&t.stats(0), "TX-packets") >= MIN_PACKETS && get(&t.stats(1), "TX-packets") >= MIN_PACKETS
}

fn io_mode(name: &'static str, eal: &'static [&'static str], iova: &str) {
    let m = Mode {
        name,
        fwd: "io",
        eal,
        args: &["--rss-ip", "--txonly-multi-flow"],
        setup: &[],
        start: "start tx_first",
        queues: 4,
        cores: 1,
    };
    let o = run_mode(&m, &mut until_min_rx);
    check(
        &o,
        o.text.contains(&format!("Selected IOVA mode '{iova}'")),
        || format!("EAL did not select IOVA mode {iova}"),
    );
    forwarding_checks(&o, 4);
    // RSS spreads the multi-flow traffic over the 4 Rx queues of each port.
    for p in 0..2 {
        for q in 0..4 {
            let n = get(&o.x[p], &format!("rx_q{q}_hw_packets"));
            check(&o, n > 0, || {
                format!("port {p} Rx queue {q} received nothing")
            });
        }
    }
}

/// io forwarding, 4 queues per port, RSS: EAL in IOVA-as-PA mode (the default as root with
/// --no-pci).
#[test]
fn io_iova_pa() {
    io_mode("fwd-io-pa", &["--iova-mode=pa"], "PA");
}

/// The same with EAL in IOVA-as-VA mode: the device must reach mbufs by virtual address.
#[test]
fn io_iova_va() {
    io_mode("fwd-io-va", &["--iova-mode=va"], "VA");
}

/// io forwarding by two lcores that share one CPU (`--lcores 0@0,1@1,2@1`), 4 queues per
/// port, RSS: testpmd gives lcore 1 queues 0-1 and lcore 2 queues 2-3 of both ports, so
/// each queue is polled and sent on by one lcore while the other lcore preempts it in the
/// middle of its bursts (a scheduler tick ends each one's turn), as a load balancer's
/// workers may run. Nothing the queues of a port
/// share may lose or double-count a packet: the common checks hold, every stream of both
/// lcores moved packets, and what each stream received is exactly what the driver counted
/// on that queue.
#[test]
fn io_two_lcores() {
    let m = Mode {
        eal: &["--lcores=0@0,1@1,2@1"],
        args: &["--rss-ip", "--txonly-multi-flow"],
        queues: 4,
        cores: 2,
        ..Mode::new("fwd-io-2lcores", "io")
    };
    // Some seconds of forwarding: hundreds of preemptions of each lcore.
    let o = run_mode(&m, &mut |t| {
        (0..2).all(|p| get(&t.stats(p), "RX-packets") >= 2_000_000)
    });
    forwarding_checks(&o, 4);
    let owners = stream_lcores(&o.text);
    check(&o, owners.len() == 8, || {
        format!("expected 8 streams (4 queues, 2 ports) in the forwarding configuration, found {owners:?}")
    });
    for lcore in [1u16, 2] {
        let queues: std::collections::BTreeSet<u16> = owners
            .iter()
            .filter(|s| s.0 == lcore)
            .map(|s| s.2)
            .collect();
        let want: std::collections::BTreeSet<u16> = if lcore == 1 { [0, 1] } else { [2, 3] }.into();
        check(&o, queues == want, || {
            format!("lcore {lcore} forwards queues {queues:?}, expected {want:?}")
        });
    }
    let streams = stream_stats(&o.text);
    check(&o, streams.len() == 8, || {
        format!("expected forward statistics of 8 streams, found {streams:?}")
    });
    for ((p, q), rx) in &streams {
        check(&o, *rx > 0, || {
            format!(
                "stream port {p} queue {q} (lcore {}) moved nothing",
                if *q < 2 { 1 } else { 2 }
            )
        });
        let counted = get(&o.x[*p as usize], &format!("rx_q{q}_packets"));
        check(&o, *rx == counted, || {
            format!(
                "port {p} queue {q}: testpmd's stream received {rx}, the driver counted {counted}"
            )
        });
    }
    for p in 0..2u16 {
        let sum: u64 = streams.iter().filter(|s| s.0 .0 == p).map(|s| s.1).sum();
        check(&o, sum == get(&o.fwd[&p], "RX-packets"), || {
            format!(
                "port {p}: the streams received {sum}, the port {}",
                get(&o.fwd[&p], "RX-packets")
            )
        });
    }
}

/// Which lcore forwards which stream, from the forwarding configurations testpmd printed:
/// (lcore, Rx port, Rx queue) per "RX P=p/Q=q" line under "Logical Core N".
fn stream_lcores(text: &str) -> std::collections::BTreeSet<(u16, u16, u16)> {
    let core = regex::Regex::new(r"^Logical Core (\d+) ").unwrap();
    let stream = regex::Regex::new(r"^\s+RX P=(\d+)/Q=(\d+) ").unwrap();
    let mut lcore = None;
    let mut out = std::collections::BTreeSet::new();
    for l in text.lines() {
        if let Some(c) = core.captures(l) {
            lcore = c[1].parse().ok();
        } else if let (Some(c), Some(n)) = (stream.captures(l), lcore) {
            out.insert((n, c[1].parse().unwrap(), c[2].parse().unwrap()));
        } else {
            lcore = None;
        }
    }
    out
}

/// RX-packets of each stream ((Rx port, Rx queue) -> packets) in the statistics `stop`
/// printed (the last of each, should the text hold several).
fn stream_stats(text: &str) -> std::collections::BTreeMap<(u16, u16), u64> {
    let re = regex::Regex::new(
        r"Forward Stats for RX Port=\s*(\d+)/Queue=\s*(\d+) -> TX Port=\s*\d+/Queue=\s*\d+ -+\s*\n\s*RX-packets:\s*(\d+)",
    )
    .unwrap();
    re.captures_iter(text)
        .map(|c| {
            (
                (c[1].parse().unwrap(), c[2].parse().unwrap()),
                c[3].parse().unwrap(),
            )
        })
        .collect()
}

/// io forwarding of 8144-byte frames (MTU 9000): sent as 4-segment mbufs (Tx MULTI_SEGS),
/// received into 2 KiB mbufs as chains (Rx SCATTER), forwarded as they came.
#[test]
fn io_jumbo_scatter() {
    let m = Mode {
        args: &[
            "--enable-scatter",
            "--max-pkt-len=9018",
            "--tx-offloads=0x8000",
        ],
        setup: &["set txpkts 2048,2048,2048,2000"],
        ..Mode::new("fwd-io-jumbo", "io")
    };
    let o = run_mode(&m, &mut until_min_rx);
    forwarding_checks(&o, 1);
    for p in 0..2 {
        let (x, s) = (&o.x[p], &o.s[p]);
        let frames = get(x, "mac_rx_frames_ok");
        check(&o, get(x, "mac_rx_size_1519_max") == frames, || {
            format!("port {p}: not all frames were jumbo")
        });
        check(
            &o,
            get(s, "RX-bytes") == get(s, "RX-packets") * 8144,
            || {
                format!(
                    "port {p}: RX-bytes {} for {} packets of 8144 bytes",
                    get(s, "RX-bytes"),
                    get(s, "RX-packets")
                )
            },
        );
    }
}

/// mac: the source address becomes the port's, the destination the peer's
/// (02:00:00:00:00:0x, received thanks to testpmd's default promiscuous mode).
#[test]
fn mac() {
    let m = Mode::new("fwd-mac", "mac");
    forwarding_checks(&run_mode(&m, &mut until_min_rx), 1);
}

/// macswap: source and destination addresses swapped.
#[test]
fn macswap() {
    let m = Mode::new("fwd-macswap", "macswap");
    forwarding_checks(&run_mode(&m, &mut until_min_rx), 1);
}

/// 5tswap: MAC, IP addresses and UDP ports swapped (tx_first sends UDP/IPv4).
#[test]
fn five_tuple_swap() {
    let m = Mode::new("fwd-5tswap", "5tswap");
    forwarding_checks(&run_mode(&m, &mut until_min_rx), 1);
}

/// csum with the checksums computed by the device. tx_first's UDP packets carry no UDP
/// checksum (testpmd leaves those alone), so TCP and UDP frames with real checksums come in
/// from a pcap file (net_pcap0), as in [`icmpecho`], with port topology "chained":
///
/// 1. io, ports 2,0: N frames (IPv4/IPv6 x TCP/UDP, 60 to ~700 bytes) go out of net_fbnic0
///    and wait in net_fbnic1's Rx ring;
/// 2. csum, ports 0,1: the N frames circulate (port 0 Tx -> port 1 Rx, then, moved over,
///    port 1 Tx -> port 0 Rx); at every hop testpmd asks for IPv4, TCP and UDP checksum
///    offload (checksum fields cleared or set to the pseudo-header sum), the sending device
///    computes them and the receiving device verifies them (Rx checksum offload on). Some of
///    the frames from the pcap file carry a wrong TCP/UDP or IPv4 header checksum: testpmd
///    counts exactly those as bad the first time net_fbnic1 receives them (the TCP/UDP ones
///    from the driver's verdict on META L2_CSUM), and none after the sending device has
///    computed them, over many thousands of hops;
/// 3. io, ports 0,2: every frame ends in a pcap file, where each must be one of the N sent,
///    exactly once, with the same IP header and payload and correct checksums.
#[test]
fn csum() {
    use fbnic_apps::pkt::{l4_checksum_ok, Flow, Kind, Rng, L4};
    const N: usize = 256;
    let env = env();
    let dir = env.scratch_dir("fwd-csum");
    let (in_path, out_path) = (dir.join("in.pcap"), dir.join("out.pcap"));
    let port1_mac = [0x02, 0x1d, 0x9b, 0, 0, 1];
    let mut rng = Rng::new(0xc5c5);
    let kinds: Vec<Kind> = Kind::ALL
        .into_iter()
        .filter(|k| k.l4 != L4::Other)
        .collect();
    let frames: Vec<Vec<u8>> = (0..N)
        .map(|i| {
            let flow = Flow::random(kinds[i % kinds.len()], &mut rng);
            flow.frame(
                port1_mac,
                [2, 0, 0, 0, 0, 0xaa],
                i as u32,
                60 + (i * 37) % 640,
            )
        })
        .collect();
    // Every 7th frame from the 4th has a wrong TCP/UDP checksum (7 and the 4 kinds are
    // coprime: all kinds get some), every 7th from the 6th a wrong IPv4 header checksum if
    // it is IPv4.
    let (mut bad_l4, mut bad_ip) = (0u64, 0u64);
    let sent: Vec<Vec<u8>> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut f = f.clone();
            let v4 = f[12..14] == [0x08, 0x00];
            if i % 7 == 3 {
                let l4 = 14 + if v4 { 20 } else { 40 };
                let at = l4
                    + if f[if v4 { 23 } else { 20 }] == 6 {
                        16
                    } else {
                        6
                    };
                f[at + 1] ^= 0x01;
                if f[at..at + 2] == [0, 0] {
                    f[at + 1] = 0x02; // zero is "no checksum" for UDP over IPv4
                }
                bad_l4 += 1;
            } else if i % 7 == 5 && v4 {
                f[25] ^= 0x01;
                bad_ip += 1;
            }
            f
        })
        .collect();
    assert!(bad_l4 > 0 && bad_ip > 0);
    pcap::write(&in_path, &sent).expect("writing the input pcap");
    let pcap_vdev = format!(
        "net_pcap0,rx_pcap={},tx_pcap={}",
        in_path.display(),
        out_path.display()
    );
    let mut tp = TestPmd::start(
        "fwd-csum",
        &["net_fbnic0", "net_fbnic1", pcap_vdev.as_str()],
        &[],
        &[
            "--nb-cores=1",
            "--total-num-mbufs=8192",
            "--port-topology=chained",
            "--no-flush-rx",
        ],
    );
    tp.cmd("port stop all");
    for p in 0..2 {
        for proto in ["ip", "tcp", "udp"] {
            tp.cmd_expect(
                &format!("csum set {proto} hw {p}"),
                &["checksum offload is hw"],
            );
        }
        // Checksum verification on Rx (net_pcap0 has none, so not --enable-rx-cksum).
        for off in ["ipv4_cksum", "udp_cksum", "tcp_cksum"] {
            let out = tp.cmd(&format!("port config {p} rx_offload {off} on"));
            tp.check(!out.contains("rror") && !out.contains("nvalid"), || {
                format!("enabling Rx {off} on port {p}:\n{out}")
            });
        }
    }
    for p in 0..2 {
        let out = tp.cmd(&format!("csum show {p}"));
        tp.check(
            ["IP", "TCP", "UDP"]
                .iter()
                .all(|x| out.contains(&format!("{x} checksum offload is hw"))),
            || format!("checksum offload not enabled on port {p}:\n{out}"),
        );
    }
    let out = tp.cmd("port start all");
    tp.check(!out.contains("Fail"), || format!("port start all:\n{out}"));
    let out = tp.cmd("show port 0 rx_offload configuration");
    tp.check(
        ["IPV4_CKSUM", "UDP_CKSUM", "TCP_CKSUM"]
            .iter()
            .all(|x| out.contains(x)),
        || format!("Rx checksum offloads not on:\n{out}"),
    );
    // 1. in.pcap -> net_fbnic0 -> net_fbnic1's Rx ring.
    tp.cmd("set fwd io");
    tp.cmd("set portlist 2,0");
    tp.cmd("start");
    tp.wait_until(
        "the frames to reach net_fbnic1",
        Duration::from_secs(30),
        |t| get(&t.xstats(1), "rx_q0_hw_packets") == N as u64,
    );
    tp.cmd("stop");
    // 2. Circulate with checksum offload. With ports 0,1 a frame received on port r is sent
    // by port 1 - r and comes back to r over the cable: first the frames loop through
    // port 1's Rx and port 0's Tx, then (moved by io on port 1 alone) through port 0's Rx and
    // port 1's Tx.
    for (rx, tx) in [(1u16, 0u16), (0, 1)] {
        if rx == 0 {
            let before = get(&tp.xstats(0), "rx_q0_hw_packets");
            tp.cmd("set fwd io");
            tp.cmd("set portlist 1");
            tp.cmd("start");
            tp.wait_until(
                "the frames to move to net_fbnic0",
                Duration::from_secs(30),
                |t| get(&t.xstats(0), "rx_q0_hw_packets") == before + N as u64,
            );
            tp.cmd("stop");
        }
        tp.cmd_expect("set fwd csum", &["Set csum packet forwarding mode"]);
        tp.cmd("set portlist 0,1");
        tp.cmd("clear port stats all");
        tp.cmd("start");
        std::thread::sleep(Duration::from_millis(500));
        tp.wait_until("forwarding", Duration::from_secs(60), |t| {
            get(&t.stats(rx), "RX-packets") >= MIN_PACKETS
        });
        let stop = tp.cmd("stop");
        let f = parse::fwd_stats(&stop);
        let c = f.get(&rx).cloned().unwrap_or_default();
        // The frames from the pcap file arrive on port 1 first; the first hop's Tx fixed them.
        let (want_ip, want_l4) = if rx == 1 { (bad_ip, bad_l4) } else { (0, 0) };
        for (k, want) in [
            ("Bad-ipcsum", want_ip),
            ("Bad-l4csum", want_l4),
            ("RX-dropped", 0),
        ] {
            let v = c.get(k).copied();
            tp.check(v == Some(want), || {
                format!("port {rx}: {k} = {v:?} (expected {want}):\n{stop}")
            });
        }
        let t = f.get(&tx).cloned().unwrap_or_default();
        tp.check(t.get("TX-dropped") == Some(&0), || {
            format!("port {tx}: frames dropped on Tx:\n{stop}")
        });
        let n = c.get("RX-packets").copied().unwrap_or(0);
        tp.check(n >= MIN_PACKETS, || {
            format!("port {rx} verified only {n} checksums:\n{stop}")
        });
    }
    // 3. everything to out.pcap.
    let out = drain_to_pcap(tp, 0, N, &out_path);
    let mut seen = vec![false; N];
    for (i, fr) in out.iter().enumerate() {
        let (_, tag) = Flow::parse(fr).unwrap_or_else(|e| panic!("frame {i}: {e}: {fr:02x?}"));
        let t = tag as usize;
        assert!(
            t < N && !seen[t],
            "frame {i}: tag {tag} unknown or seen twice"
        );
        seen[t] = true;
        assert!(
            l4_checksum_ok(fr),
            "frame {i} (tag {tag}): bad TCP/UDP checksum: {fr:02x?}"
        );
        assert_eq!(
            &fr[12..],
            &frames[t][12..],
            "frame {i} (tag {tag}): differs beyond the MAC addresses"
        );
    }
}

/// The last step of the pcap-fed tests: io from fbnic port `port` to the pcap port (2)
/// until `n` frames are written; quits testpmd (the driver must have logged nothing) and
/// returns the frames of `out_path`, exactly `n` of them.
fn drain_to_pcap(mut tp: TestPmd, port: u16, n: usize, out_path: &std::path::Path) -> Vec<Vec<u8>> {
    tp.cmd("set fwd io");
    tp.cmd(&format!("set portlist {port},2"));
    tp.cmd("start");
    tp.wait_until(
        "the frames to reach the pcap port",
        Duration::from_secs(30),
        |t| get(&t.stats(2), "TX-packets") == n as u64,
    );
    tp.cmd("stop");
    let text = tp.quit();
    assert_no_driver_lines(&text);
    let out = pcap::read(out_path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.len(), n, "frames written to {}", out_path.display());
    out
}

/// rxonly: nothing is forwarded, so only `tx_first 8` (8 bursts of 32 per port) is sent;
/// each port receives exactly the 256 packets its peer sent.
#[test]
fn rxonly() {
    let m = Mode {
        start: "start tx_first 8",
        ..Mode::new("fwd-rxonly", "rxonly")
    };
    let o = run_mode(&m, &mut |t| {
        get(&t.stats(0), "RX-packets") == 256 && get(&t.stats(1), "RX-packets") == 256
    });
    for p in 0..2u16 {
        let f = &o.fwd[&p];
        check(
            &o,
            get(f, "TX-packets") == 256 && get(f, "RX-packets") == 256,
            || format!("port {p}: expected exactly 256 sent and 256 received"),
        );
        check(&o, get(&o.x[p as usize], "rx_q0_hw_packets") == 256, || {
            format!("port {p}: the device delivered other than 256")
        });
    }
}

/// txonly: both ports transmit as fast as they can and nobody receives, so the Rx rings fill;
/// with rx_drop_en (--enable-drop-en) the device then drops and counts. Every packet sent is
/// either in the receiver's ring (at most the ring size) or counted as missed.
#[test]
fn txonly() {
    let m = Mode {
        args: &["--enable-drop-en"],
        start: "start",
        ..Mode::new("fwd-txonly", "txonly")
    };
    let o = run_mode(&m, &mut until_min_tx);
    for a in 0..2u16 {
        let b = 1 - a;
        let f = &o.fwd[&a];
        check(&o, get(f, "TX-packets") >= MIN_PACKETS, || {
            format!("port {a} sent only {}", get(f, "TX-packets"))
        });
        check(&o, get(&o.fwd[&b], "RX-packets") == 0, || {
            format!("txonly received on port {b}")
        });
        let delivered = get(&o.x[b as usize], "rx_q0_hw_packets");
        check(&o, delivered > 0 && delivered < RXD, || {
            format!("port {b}: {delivered} frames delivered to a ring of {RXD}")
        });
        check(&o, get(&o.s[b as usize], "RX-missed") > 0, || {
            format!("port {b}: a full ring but no frame counted as missed")
        });
        // testpmd's RX-dropped of the receiving port is the port's imissed when forwarding
        // stopped (the Tx rings drained after that, into more drops).
        check(
            &o,
            get(&o.fwd[&b], "RX-dropped") > 0
                && get(&o.fwd[&b], "RX-dropped") <= get(&o.s[b as usize], "RX-missed"),
            || format!("port {b}: forward statistics RX-dropped vs RX-missed"),
        );
    }
}

/// flowgen: both ports generate 1024 UDP flows and drop what they receive; with 2 queues and
/// RSS the flows spread over both Rx queues. Everything received is counted by testpmd.
#[test]
fn flowgen() {
    let m = Mode {
        args: &["--rss-ip"],
        start: "start",
        queues: 2,
        ..Mode::new("fwd-flowgen", "flowgen")
    };
    let o = run_mode(&m, &mut until_min_rx);
    for p in 0..2u16 {
        let f = &o.fwd[&p];
        check(&o, get(f, "RX-packets") >= MIN_PACKETS, || {
            format!("port {p} received only {}", get(f, "RX-packets"))
        });
        for q in 0..2 {
            let n = get(&o.x[p as usize], &format!("rx_q{q}_hw_packets"));
            check(&o, n > 0, || format!("port {p} Rx queue {q} got no flow"));
        }
    }
}

/// A well-formed ICMP echo request from 02:00:00:00:00:aa / 192.0.2.1 to `dst_mac` /
/// 192.0.2.2, identifier 0x4242, sequence `seq`, 32 bytes of payload.
fn icmp_echo_request(dst_mac: [u8; 6], seq: u16) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&dst_mac);
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0xaa]);
    f.extend_from_slice(&[0x08, 0x00]);
    let mut icmp = vec![8u8, 0, 0, 0, 0x42, 0x42];
    icmp.extend_from_slice(&seq.to_be_bytes());
    icmp.extend((0..32u8).map(|i| i.wrapping_mul(7).wrapping_add(seq as u8)));
    let c = inet_csum(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let mut ip = vec![0x45u8, 0];
    ip.extend_from_slice(&((20 + icmp.len()) as u16).to_be_bytes());
    ip.extend_from_slice(&seq.to_be_bytes());
    ip.extend_from_slice(&[0, 0, 64, 1, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2]);
    let c = inet_csum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&icmp);
    f
}

fn inet_csum(b: &[u8]) -> u16 {
    let mut s: u32 = 0;
    for c in b.chunks(2) {
        s += u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]) as u32;
    }
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// icmpecho: ICMP echo requests must arrive at a net_fbnic port and the replies go back over
/// the wire. testpmd cannot generate ICMP, so a third port, net_pcap0, reads N requests from a
/// pcap file and the forwarding is staged (port topology "chained", port lists changed
/// between runs, Rx queues not flushed at start):
///
/// 1. io, ports 2,0: the requests go from the pcap port out of net_fbnic0 and wait in
///    net_fbnic1's Rx ring;
/// 2. icmpecho, port 1 only: net_fbnic1 answers each request on its own link; the replies
///    wait in net_fbnic0's Rx ring;
/// 3. io, ports 0,2: net_fbnic0's replies go to the pcap port, which writes them to a file.
///
/// Checked: port 1 received and answered exactly N, port 0 received exactly N, and each
/// reply in the file is the correct echo reply to its request (addresses swapped, type 0,
/// same identifier, sequence and payload, valid checksums).
#[test]
fn icmpecho() {
    const N: usize = 64;
    let env = env();
    let dir = env.scratch_dir("fwd-icmpecho");
    let req_path = dir.join("requests.pcap");
    let out_path = dir.join("replies.pcap");
    let port1_mac = [0x02, 0x1d, 0x9b, 0, 0, 1];
    let requests: Vec<Vec<u8>> = (0..N as u16)
        .map(|s| icmp_echo_request(port1_mac, s))
        .collect();
    pcap::write(&req_path, &requests).expect("writing the request pcap");
    let pcap_vdev = format!(
        "net_pcap0,rx_pcap={},tx_pcap={}",
        req_path.display(),
        out_path.display()
    );
    let vdevs = ["net_fbnic0", "net_fbnic1", pcap_vdev.as_str()];
    let mut tp = TestPmd::start(
        "fwd-icmpecho",
        &vdevs,
        &[],
        &[
            "--nb-cores=1",
            "--total-num-mbufs=8192",
            "--port-topology=chained",
            // Keep what waits in the Rx rings between the stages.
            "--no-flush-rx",
        ],
    );
    let info = tp.cmd("show port summary all");
    tp.check(
        info.contains("net_pcap0") && info.contains("net_fbnic1"),
        || format!("expected ports net_fbnic0, net_fbnic1, net_pcap0:\n{info}"),
    );
    // 1. requests: pcap -> net_fbnic0 -> wire -> net_fbnic1's Rx ring.
    tp.cmd("set fwd io");
    tp.cmd("set portlist 2,0");
    tp.cmd("start");
    tp.wait_until(
        "the requests to reach net_fbnic1",
        Duration::from_secs(30),
        |t| get(&t.xstats(1), "rx_q0_hw_packets") == N as u64,
    );
    tp.cmd("stop");
    // 2. replies: net_fbnic1 answers on its own link -> net_fbnic0's Rx ring.
    tp.cmd_expect("set fwd icmpecho", &["Set icmpecho packet forwarding mode"]);
    tp.cmd("set portlist 1");
    tp.cmd("start");
    tp.wait_until(
        "the replies to reach net_fbnic0",
        Duration::from_secs(30),
        |t| get(&t.xstats(0), "rx_q0_hw_packets") == N as u64,
    );
    let stop = tp.cmd("stop");
    let f = parse::fwd_stats(&stop);
    let p1 = f.get(&1).cloned().unwrap_or_default();
    tp.check(
        p1.get("RX-packets") == Some(&(N as u64)) && p1.get("TX-packets") == Some(&(N as u64)),
        || format!("icmpecho on port 1: expected {N} requests in and {N} replies out:\n{stop}"),
    );
    // 3. replies: net_fbnic0 -> pcap file.
    tp.cmd("set fwd io");
    tp.cmd("set portlist 0,2");
    tp.cmd("start");
    tp.wait_until(
        "the replies to reach the pcap port",
        Duration::from_secs(30),
        |t| get(&t.stats(0), "RX-packets") == N as u64,
    );
    tp.cmd("stop");
    let x = [tp.xstats(0), tp.xstats(1)];
    let text = tp.quit();
    assert_no_driver_lines(&text);
    for (p, xp) in x.iter().enumerate() {
        for k in ["mac_rx_frames_ok", "mac_tx_frames_ok"] {
            assert_eq!(get(xp, k), N as u64, "port {p} {k}: {}", show(xp));
        }
    }

    let replies = pcap::read(&out_path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(replies.len(), N, "replies written by net_pcap0");
    for (i, (req, rep)) in requests.iter().zip(&replies).enumerate() {
        let ctx = || format!("reply {i}: {rep:02x?}\nrequest: {req:02x?}");
        assert!(rep.len() >= req.len(), "{}", ctx());
        assert_eq!(
            &rep[0..6],
            &req[6..12],
            "destination MAC = request source; {}",
            ctx()
        );
        assert_eq!(
            &rep[6..12],
            &req[0..6],
            "source MAC = request destination; {}",
            ctx()
        );
        assert_eq!(&rep[12..14], &[0x08, 0x00], "{}", ctx());
        let (ip_q, ip_r) = (&req[14..34], &rep[14..34]);
        assert_eq!(&ip_r[12..16], &ip_q[16..20], "IP source; {}", ctx());
        assert_eq!(&ip_r[16..20], &ip_q[12..16], "IP destination; {}", ctx());
        assert_eq!(inet_csum(ip_r), 0, "IP header checksum; {}", ctx());
        let (ic_q, ic_r) = (&req[34..], &rep[34..34 + (req.len() - 34)]);
        assert_eq!(
            (ic_r[0], ic_r[1]),
            (0, 0),
            "ICMP echo reply type/code; {}",
            ctx()
        );
        assert_eq!(
            &ic_r[4..],
            &ic_q[4..],
            "identifier, sequence, payload; {}",
            ctx()
        );
        assert_eq!(inet_csum(ic_r), 0, "ICMP checksum; {}", ctx());
    }
}

/// The demo's way (scripts/demo.sh): non-interactive testpmd with --tx-first and
/// --stats-period, ended by SIGINT: periodic statistics show traffic, and the final forward
/// statistics are consistent, then a clean shutdown.
#[test]
fn io_noninteractive_sigint() {
    let _lock = dpdk_lock();
    let env = env();
    let mut a = eal_args(env, &PORTS, &[]);
    a.extend(
        [
            "--",
            "--forward-mode=io",
            "--nb-cores=1",
            "--total-num-mbufs=8192",
            "--tx-first",
            "--stats-period",
            "1",
        ]
        .map(String::from),
    );
    let mut p = Proc::spawn(
        "fwd-io-sigint",
        fbnic_it::dpdk::unbuffered("dpdk-testpmd", &a),
        false,
        &env.scratch,
    );
    // Two periodic reports with traffic.
    let mut from = 0;
    for _ in 0..3 {
        match p.wait_for(
            from,
            "Throughput (since last show)",
            Duration::from_secs(30),
        ) {
            Ok((_, end)) => from = end,
            Err(e) => p.fail(&e),
        }
    }
    p.signal(libc::SIGINT);
    let st = match p.wait(Duration::from_secs(60)) {
        Ok(st) => st,
        Err(e) => p.fail(&e),
    };
    let text = p.text();
    if !st.success() || !text.contains("Bye...") {
        p.fail(&format!("unclean shutdown on SIGINT ({st})"));
    }
    let f = parse::fwd_stats(&text);
    if f.len() != 2 {
        p.fail("no final forward statistics");
    }
    for a in 0..2u16 {
        let b = 1 - a;
        let rx = get(&f[&a], "RX-packets");
        if get(&f[&b], "TX-total") != rx + 32 || rx < MIN_PACKETS {
            p.fail(&format!(
                "port {a} received {rx}, port {b} TX-total {}",
                get(&f[&b], "TX-total")
            ));
        }
    }
    let logs = driver_log_lines(&text);
    if !logs.is_empty() {
        p.fail("driver warnings or errors");
    }
}

/// TCP frames (IPv4 and IPv6, `3000 + 67 i` bytes, tag = sequence number = i) for the TSO
/// tests, the length of their headers, and a key naming each one's flow.
fn tso_frames(n: usize) -> Vec<Vec<u8>> {
    use fbnic_apps::pkt::{Flow, Kind, Rng, L4};
    let port1_mac = [0x02, 0x1d, 0x9b, 0, 0, 1];
    let mut rng = Rng::new(0x750);
    let kinds: Vec<Kind> = Kind::ALL.into_iter().filter(|k| k.l4 == L4::Tcp).collect();
    (0..n)
        .map(|i| {
            let flow = Flow::random(kinds[i % kinds.len()], &mut rng);
            flow.frame(port1_mac, [2, 0, 0, 0, 0, 0xaa], i as u32, 3000 + i * 67)
        })
        .collect()
}

/// The headers' length of a [`tso_frames`] frame or segment (Ethernet, IP, 20-byte TCP).
fn tso_hdr(f: &[u8]) -> usize {
    if f[12..14] == [0x86, 0xdd] {
        74
    } else {
        54
    }
}

/// testpmd on net_fbnic0, net_fbnic1 and a pcap port reading `frames`, with IP/TCP checksum
/// offload on both fbnic ports and `tso set <segsz> 0`; the frames have been moved (io,
/// whole) out of net_fbnic0 into net_fbnic1's Rx ring. Returns testpmd (stopped) and the
/// output pcap's path.
fn tso_setup(name: &str, frames: &[Vec<u8>], segsz: usize) -> (TestPmd, std::path::PathBuf) {
    let env = env();
    let dir = env.scratch_dir(name);
    let (in_path, out_path) = (dir.join("in.pcap"), dir.join("out.pcap"));
    pcap::write(&in_path, frames).expect("writing the input pcap");
    let pcap_vdev = format!(
        "net_pcap0,rx_pcap={},tx_pcap={}",
        in_path.display(),
        out_path.display()
    );
    let mut tp = TestPmd::start(
        name,
        &["net_fbnic0", "net_fbnic1", pcap_vdev.as_str()],
        &[],
        &[
            "--nb-cores=1",
            "--total-num-mbufs=4096",
            "--mbuf-size=10240",
            "--max-pkt-len=9018",
            "--port-topology=chained",
            "--no-flush-rx",
        ],
    );
    tp.cmd("port stop all");
    for p in 0..2 {
        for proto in ["ip", "tcp"] {
            tp.cmd_expect(
                &format!("csum set {proto} hw {p}"),
                &["checksum offload is hw"],
            );
        }
    }
    tp.cmd_expect(
        &format!("tso set {segsz} 0"),
        &[&format!(
            "TSO segment size for non-tunneled packets is {segsz}"
        )],
    );
    let out = tp.cmd("port start all");
    tp.check(!out.contains("Fail"), || format!("port start all:\n{out}"));
    let out = tp.cmd("show port 0 tx_offload configuration");
    tp.check(out.contains("TCP_TSO"), || format!("TSO not on:\n{out}"));
    // in.pcap -> net_fbnic0 (whole) -> net_fbnic1's Rx ring.
    tp.cmd("set fwd io");
    tp.cmd("set portlist 2,0");
    tp.cmd("start");
    let n = frames.len() as u64;
    tp.wait_until(
        "the frames to reach net_fbnic1",
        Duration::from_secs(30),
        |t| get(&t.xstats(1), "rx_q0_hw_packets") == n,
    );
    tp.cmd("stop");
    (tp, out_path)
}

/// TSO: testpmd's csum engine with `tso set` hands net_fbnic TCP packets larger than the
/// MSS with RTE_MBUF_F_TX_TCP_SEG; the driver's tx_prepare and descriptors ask the device to
/// cut them (LSO), and what arrives on the other port is checked frame by frame. As in
/// [`csum`], the frames come from a pcap file (IPv4 and IPv6 TCP, 3000-4000 bytes) with
/// topology "chained":
///
/// 1. io, ports 2,0: the N large frames go out of net_fbnic0 (no offload: whole) and wait in
///    net_fbnic1's Rx ring (MTU 9000 on both ports, 10 KiB mbufs);
/// 2. csum, ports 0,1, `tso set 1000 0`: net_fbnic1 -> net_fbnic0, which sends each as
///    ceil(payload / 1000) frames; they come back to net_fbnic1 and go round again (now
///    small, as plain checksum offload) until stopped;
/// 3. io, ports 1,2: every frame ends in a pcap file: exactly the segments of the N packets,
///    each at most 1000 payload bytes, with right IPv4 header and TCP checksums, and per
///    flow the payloads, ordered by sequence number, are the original payload.
#[test]
fn tso() {
    use std::collections::HashMap;
    const N: usize = 16;
    const MSS: usize = 1000;
    let frames = tso_frames(N);
    let hdr = tso_hdr;
    // A packet's addresses and ports (its segments' payloads carry no tag).
    let key = |f: &[u8]| {
        let h = hdr(f);
        let addrs = if h == 74 { 22..54 } else { 26..34 };
        let mut k = f[addrs].to_vec();
        k.extend_from_slice(&f[h - 20..h - 16]);
        k
    };
    let segments: usize = frames
        .iter()
        .map(|f| (f.len() - hdr(f)).div_ceil(MSS))
        .sum();
    let (mut tp, out_path) = tso_setup("fwd-tso", &frames, MSS);
    // 2. Cut by net_fbnic0's device, then round and round.
    tp.cmd_expect("set fwd csum", &["Set csum packet forwarding mode"]);
    tp.cmd("set portlist 0,1");
    tp.cmd("start");
    tp.wait_until("the segments to come round", Duration::from_secs(30), |t| {
        get(&t.xstats(1), "rx_q0_hw_packets") >= (N + 4 * segments) as u64
    });
    let stop = tp.cmd("stop");
    let f = parse::fwd_stats(&stop);
    for p in [0u16, 1] {
        let c = f.get(&p).cloned().unwrap_or_default();
        for k in ["TX-dropped", "RX-dropped", "Bad-ipcsum", "Bad-l4csum"] {
            tp.check(c.get(k).copied().unwrap_or(0) == 0, || {
                format!("port {p}: {k}:\n{stop}")
            });
        }
    }
    // 3. everything to out.pcap.
    let out = drain_to_pcap(tp, 1, segments, &out_path);
    let mut by_flow: HashMap<Vec<u8>, Vec<(u32, Vec<u8>)>> = HashMap::new();
    for (i, fr) in out.iter().enumerate() {
        let h = hdr(fr);
        assert!(
            fr.len() - h <= MSS,
            "frame {i}: {} payload bytes",
            fr.len() - h
        );
        // TCP checksum: pseudo-header (addresses, protocol, length) and segment sum to ~0.
        let addrs = if h == 74 { 22..54 } else { 26..34 };
        let words = |b: &[u8]| -> u32 {
            b.chunks(2)
                .map(|w| u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)]) as u32)
                .sum()
        };
        let mut t = words(&fr[addrs]) + 6 + (fr.len() - (h - 20)) as u32 + words(&fr[h - 20..]);
        while t > 0xffff {
            t = (t & 0xffff) + (t >> 16);
        }
        assert_eq!(t, 0xffff, "frame {i}: TCP checksum");
        if fr[12..14] == [0x08, 0x00] {
            let s: u32 = fr[14..34]
                .chunks(2)
                .map(|w| u16::from_be_bytes([w[0], w[1]]) as u32)
                .sum();
            assert_eq!(
                (s & 0xffff) + (s >> 16),
                0xffff,
                "frame {i}: IPv4 header checksum"
            );
        }
        let seq_at = h - 20 + 4;
        let seq = u32::from_be_bytes(fr[seq_at..seq_at + 4].try_into().unwrap());
        by_flow
            .entry(key(fr))
            .or_default()
            .push((seq, fr[h..].to_vec()));
    }
    assert_eq!(by_flow.len(), N, "segments of every packet");
    for (i, orig) in frames.iter().enumerate() {
        let mut segs = by_flow.remove(&key(orig)).unwrap_or_default();
        segs.sort_by_key(|s| s.0);
        let h = hdr(orig);
        let expect_seqs: Vec<u32> = (0..segs.len()).map(|k| (i + k * MSS) as u32).collect();
        let seqs: Vec<u32> = segs.iter().map(|s| s.0).collect();
        assert_eq!(seqs, expect_seqs, "packet {i}: sequence numbers");
        let payload: Vec<u8> = segs.into_iter().flat_map(|s| s.1).collect();
        assert_eq!(payload, orig[h..], "packet {i}: payload");
    }
}

/// TSO the device cannot do is refused before it reaches the ring: with `tso set 40 0` (an
/// MSS under the device's 64) the driver's tx_prepare refuses every large packet with
/// EINVAL, testpmd's csum engine reports it and drops them (TX-dropped), nothing goes out on
/// the wire and the device counts no Tx error; the driver logs nothing.
#[test]
fn tso_refused_below_the_minimum_mss() {
    const N: usize = 4;
    let frames = tso_frames(N);
    let (mut tp, _) = tso_setup("fwd-tso-refused", &frames, 40);
    tp.cmd_expect("set fwd csum", &["Set csum packet forwarding mode"]);
    tp.cmd("set portlist 0,1");
    tp.cmd("clear port stats all");
    let tx0 = get(&tp.xstats(0), "tx_q0_hw_packets");
    // testpmd's report of the refusal comes from the forwarding lcore, racing the prompt.
    let refused = "Preparing packet burst to transmit failed: Invalid argument";
    tp.cmd_racing("start", refused, Duration::from_secs(30));
    tp.wait_until("the packets to be taken", Duration::from_secs(30), |t| {
        get(&t.stats(1), "RX-packets") >= N as u64
    });
    let stop = tp.cmd("stop");
    let f = parse::fwd_stats(&stop);
    let c = f.get(&0).cloned().unwrap_or_default();
    tp.check(c.get("TX-dropped").copied() == Some(N as u64), || {
        format!("port 0: {N} packets refused and dropped:\n{stop}")
    });
    let x = tp.xstats(0);
    tp.check(get(&x, "tx_q0_hw_packets") == tx0, || {
        "nothing sent on the wire".into()
    });
    tp.check(get(&x, "tx_q0_hw_errors") == 0, || {
        "no device Tx error".into()
    });
    let text = tp.quit();
    assert_no_driver_lines(&text);
}
