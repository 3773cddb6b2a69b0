//! The application programs: RSS checked against DPDK's rte_softrss(), stop/start cycles, and
//! the latency tool.

use std::time::Duration;

use fbnic_it::dpdk::{driver_log_lines, run, Run};
use fbnic_it::{dpdk_lock, eal_args, env, report};
use regex::Regex;

fn app_args(eal: &[&str], extra: &[&str]) -> Vec<String> {
    let mut a = eal_args(env(), &["net_fbnic0", "net_fbnic1"], eal);
    a.push("--".into());
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn line<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.lines().find(|l| l.starts_with(prefix))
}

/// Runs checker application `app` (one that prints each check and a summary, apps/src/lib.rs
/// `Checks`) as test `name` with `args`: it must exit 0 with no check failed and `checks`
/// passed. The caller holds the DPDK lock.
fn run_checker(name: &str, app: &str, args: &[String], checks: u32) -> Run {
    let exe = env().app(app);
    let r = run(
        name,
        &exe.display().to_string(),
        args,
        Duration::from_secs(120),
    );
    let text = r.text();
    r.check(r.status().success(), || {
        format!("{app} exited with {}", r.status())
    });
    let fails: Vec<&str> = text.lines().filter(|l| l.contains(": FAIL")).collect();
    r.check(fails.is_empty(), || {
        format!("failed checks:\n{}", fails.join("\n"))
    });
    r.expect(&format!("{app}: {checks} checks passed, 0 failed: PASS"));
    r
}

/// fbnic-rss-check (apps/src/bin/rss_check.rs): port 0 with 8 Rx queues, RSS over IPv4/IPv6
/// and IPv4/IPv6 TCP/UDP with a non-default key and a scrambled table; 512 flows of each of
/// six kinds (ipv4/ipv6 x tcp/udp/other), two frames each, sent from port 1. Checked from its
/// summary: every frame arrived once, on queue reta[hash % 256], with RTE_MBUF_F_RX_RSS_HASH
/// and hash.rss equal to rte_softrss() of its tuple and the key; packet types and checksum
/// flags right; every queue used; the per-queue ethdev counters equal what the application
/// counted; RSS keys of the wrong size rejected with the driver naming the problem; Tx
/// checksum offload (three ways of handing frames over) gives correct checksums; the register
/// dump holds the key, the tables and per-queue frame counters; the mbuf pool is whole again
/// at the end.
#[test]
fn rss_matches_rte_softrss() {
    rss_check("fbnic-rss-check", &[]);
}

/// The same with EAL in IOVA-as-VA mode.
#[test]
fn rss_matches_rte_softrss_iova_va() {
    rss_check("fbnic-rss-check-va", &["--iova-mode=va"]);
}

fn rss_check(name: &str, eal: &[&str]) {
    let _lock = dpdk_lock();
    let exe = env().app("fbnic-rss-check");
    let r = run(
        name,
        &exe.display().to_string(),
        &app_args(
            eal,
            &["--queues", "8", "--flows", "512", "--packets-per-flow", "2"],
        ),
        Duration::from_secs(180),
    );
    let text = r.text();
    r.check(r.status().success(), || {
        format!("fbnic-rss-check exited with {}", r.status())
    });
    r.expect("fbnic-rss-check: PASS");
    let total = 512 * 6 * 2u64;
    let received = line(&text, "fbnic-rss-check: received ")
        .filter(|l| l.contains(" on port "))
        .unwrap_or_else(|| r.fail("no 'received' line"));
    let per_q: Vec<u64> = Regex::new(r"q(\d+) (\d+)")
        .unwrap()
        .captures_iter(received)
        .map(|c| c[2].parse().unwrap())
        .collect();
    r.check(per_q.len() == 8 && per_q.iter().all(|&n| n > 0), || {
        format!("expected all 8 queues used: {received}")
    });
    r.check(per_q.iter().sum::<u64>() == total, || {
        format!("expected {total} frames: {received}")
    });
    let checks =
        line(&text, "fbnic-rss-check: checks:").unwrap_or_else(|| r.fail("no checks line"));
    for c in Regex::new(r"([a-z-]+) (\d+)")
        .unwrap()
        .captures_iter(checks)
    {
        let (name, n): (&str, u64) = (c.get(1).unwrap().as_str(), c[2].parse().unwrap());
        let want = if name == "hash-ok" { total } else { 0 };
        r.check(n == want, || {
            format!("{name} = {n}, expected {want}: {checks}")
        });
    }
    // Wrong-size keys: refused, and the driver says why.
    for (what, log) in [
        (
            "configure with a 20-byte RSS key: rejected, -22",
            "NET_FBNIC: net_fbnic0: configure: invalid argument: RSS key of 20 bytes: the key is 40 bytes",
        ),
        (
            "rss_hash_update with a 52-byte RSS key: rejected, -22",
            "NET_FBNIC: net_fbnic0: rss_hash_update: invalid argument: RSS key of 52 bytes: the key is 40 bytes",
        ),
    ] {
        r.expect(what);
        r.expect(log);
    }
    let logs: Vec<String> = driver_log_lines(&text)
        .into_iter()
        .filter(|l| !l.contains("RSS key of") && !l.contains("get_reg: "))
        .collect();
    // The register dump (decoded by fbnic_hw::regdump): the key, both tables and the queue
    // counters as set and counted; a part equal to the whole's; a request past the end
    // refused, and the driver says why.
    r.expect(&format!(
        "register dump: {} registers of 4 bytes, version {:#x}: RSS key, 2 tables and 8 queue counters match",
        fbnic_hw::regdump::LEN,
        fbnic_hw::regdump::VERSION
    ));
    r.expect(&format!(
        "NET_FBNIC: net_fbnic0: get_reg: invalid argument: registers {}..{} requested, the dump has {}",
        fbnic_hw::regdump::LEN - 1,
        fbnic_hw::regdump::LEN + 1,
        fbnic_hw::regdump::LEN
    ));
    r.check(logs.is_empty(), || {
        format!("unexpected driver log lines:\n{}", logs.join("\n"))
    });
    let cso = line(&text, "fbnic-rss-check: tx-cso:").unwrap_or_else(|| r.fail("no tx-cso line"));
    let n: Vec<u64> = Regex::new(r"(\d+)")
        .unwrap()
        .captures_iter(cso)
        .map(|c| c[1].parse().unwrap())
        .collect();
    r.check(
        n.len() == 4 && n[0] > 0 && n.iter().all(|&x| x == n[0]),
        || format!("Tx checksum offload: {cso}"),
    );
    r.expect("ethdev stats port 0: ipackets 6144 imissed 0 ierrors 0");
    let iova = if eal.contains(&"--iova-mode=va") {
        "VA"
    } else {
        "PA"
    };
    r.expect(&format!("Selected IOVA mode '{iova}'"));
    for l in text.lines().filter(|l| {
        l.starts_with("fbnic-rss-check: received")
            || l.starts_with("fbnic-rss-check: checks")
            || l.starts_with("fbnic-rss-check: tx-cso")
    }) {
        report(&format!("[IOVA {iova}] {l}"));
    }
}

/// fbnic-intr-check (apps/src/bin/intr_check.rs): Rx queue interrupts through DPDK's API
/// (`intr_conf.rxq`, rx_intr_ctl_q, rx_intr_enable/disable, rte_epoll_wait), before and after
/// a stop and start: quiet on an empty queue, a sleeping thread woken by a frame sent 100 ms
/// later from another thread, once per arming, at once when armed with a frame waiting, quiet
/// when disabled; refused (-ENOTSUP) on a port started without them, the driver saying why.
/// And the power monitor address (`rte_eth_get_monitor_addr`): the driver's callback on the
/// watched completion word says sleep on an empty queue and wake once a frame's completion
/// is written, and the next slot is watched after the burst.
#[test]
fn rx_interrupts_wake_epoll() {
    let _lock = dpdk_lock();
    let r = run_checker(
        "fbnic-intr-check",
        "fbnic-intr-check",
        &app_args(&[], &[]),
        31,
    );
    let text = r.text();
    r.expect("check monitor: the frame's completion ends the sleep: ok");
    r.expect("check woken by the frame: ok (1 event after");
    r.expect("check after restart: woken by the frame: ok (1 event after");
    // The one driver line: the refusal on the port without interrupts, saying why.
    let logs = driver_log_lines(&text);
    r.check(
        logs.len() == 1
            && logs[0].contains("net_fbnic1: rx_queue_intr_enable: ")
            && logs[0].contains("configure the port with intr_conf.rxq = 1"),
        || format!("driver log lines:\n{}", logs.join("\n")),
    );
    if let Some(l) = line(&text, "fbnic-intr-check: check woken") {
        report(l);
    }
}

/// fbnic-cycles (apps/src/bin/cycles.rs): 200 cycles of reconfiguring both ports (1-8 Rx and
/// 1-4 Tx queues, 64-1024 descriptors, RSS on/off), starting them, passing 256 frames each
/// way over every queue, sometimes stopping/restarting a queue at run time or stopping with
/// frames still in the Rx rings or just handed to Tx, and stopping the ports. Checked: every
/// frame arrived, and rte_mempool_avail_count() of the shared pool equals its starting value
/// after every stop and after close.
#[test]
fn stop_start_cycles() {
    cycles("fbnic-cycles", &[]);
}

/// The same with EAL in IOVA-as-VA mode.
#[test]
fn stop_start_cycles_iova_va() {
    cycles("fbnic-cycles-va", &["--iova-mode=va"]);
}

fn cycles(name: &str, eal: &[&str]) {
    let _lock = dpdk_lock();
    let exe = env().app("fbnic-cycles");
    let r = run(
        name,
        &exe.display().to_string(),
        &app_args(eal, &["--cycles", "200", "--frames", "256"]),
        Duration::from_secs(600),
    );
    let text = r.text();
    r.check(r.status().success(), || {
        format!("fbnic-cycles exited with {}", r.status())
    });
    r.expect("fbnic-cycles: PASS");
    let summary = line(&text, "fbnic-cycles: summary:").unwrap_or_else(|| r.fail("no summary"));
    let pool = line(&text, "fbnic-cycles: mbuf pool:").unwrap_or_else(|| r.fail("no pool line"));
    r.check(
        summary.contains("cycles 200/200") && summary.contains(" lost 0,"),
        || format!("cycles: {summary}"),
    );
    let c = Regex::new(r"start (\d+), after each stop min (\d+) max (\d+), after close (\d+), cycles with a leak (\d+)")
        .unwrap()
        .captures(pool)
        .unwrap_or_else(|| r.fail(&format!("cannot parse {pool:?}")));
    let v: Vec<u64> = (1..=5).map(|i| c[i].parse().unwrap()).collect();
    r.check(
        v[0] > 0 && v[1] == v[0] && v[2] == v[0] && v[3] == v[0] && v[4] == 0,
        || format!("mbuf pool not whole again: {pool}"),
    );
    let logs = driver_log_lines(&text);
    r.check(logs.is_empty(), || {
        format!("driver warnings or errors:\n{}", logs.join("\n"))
    });
    let iova = if eal.contains(&"--iova-mode=va") {
        "VA"
    } else {
        "PA"
    };
    r.expect(&format!("Selected IOVA mode '{iova}'"));
    report(&format!("[IOVA {iova}] {summary}"));
    report(&format!("[IOVA {iova}] {pool}"));
}

/// fbnic-ptp-check (apps/src/bin/ptp_check.rs): the device clock and timestamps through the
/// ethdev API. Checked from its 19 check lines: read_clock and timesync_read_time agree and
/// follow real time; write_time and adjust_time (+5 s, -2 s, +123 ns) move the clock by
/// that much; bad times are refused with -EINVAL; with IEEE 1588 on, all 33 frames (32 UDP/
/// TCP/other, one PTPv2 Sync) carry the Rx timestamp dynamic field within the receiver's clock
/// readings, in order, only the Sync frame is flagged PTP|TMST, read_rx_timestamp returns its
/// stamp once, the Sync frame sent with RTE_MBUF_F_TX_IEEE1588_TMST gets a Tx stamp within
/// the sender's clock readings; with IEEE 1588 off frames are still stamped, never flagged.
#[test]
fn ptp_clock_and_timestamps() {
    let _lock = dpdk_lock();
    let r = run_checker(
        "fbnic-ptp-check",
        "fbnic-ptp-check",
        &app_args(&[], &["--frames", "32"]),
        19,
    );
    let text = r.text();
    r.expect("fbnic-ptp-check: received 33 frames, 33 stamped");
    // The only driver lines: the three refused times, each saying why.
    let logs = driver_log_lines(&text);
    r.check(
        logs.len() == 3
            && logs.iter().all(|l| {
                l.contains("timesync_write_time: invalid argument")
                    && l.contains("nanoseconds below 10^9")
            }),
        || format!("driver log lines:\n{}", logs.join("\n")),
    );
    if let Some(l) = line(&text, "fbnic-ptp-check: received") {
        report(l);
    }
}

/// fbnic-lb (apps/src/bin/lb.rs): a Maglev layer-4 load balancer between net_fbnic1 (front,
/// 4 RSS queues) and net_fbnic2 (back), with net_fbnic0 as the clients and net_fbnic3 as the
/// backends; run with one worker lcore polling all four queues and with two worker lcores
/// that share a CPU, two queues each. Checked from its summary: every service packet of
/// 2,000 flows reached a backend exactly once, on the backend the Maglev table names for the
/// Toeplitz hash of its 4-tuple under the port's key (the NIC's `hash.rss`, which the
/// balancer uses), inside an outer IPv4 header whose checksum the NIC's Tx offload computed;
/// the flows spread over all 8 backends; after a backend leaves, none reaches it and only a
/// few other flows move; frames not for the service dropped and counted; the balancer's and
/// every port's counts agree, every front queue and every worker carried traffic, and the
/// mbuf pool is whole after close.
#[test]
fn load_balancer_one_worker() {
    load_balancer("fbnic-lb-1", &[], 1);
}

#[test]
fn load_balancer_two_workers() {
    load_balancer("fbnic-lb-2", &["--lcores=0@0,1@1,2@1"], 2);
}

fn load_balancer(name: &str, eal: &[&str], workers: usize) {
    let _lock = dpdk_lock();
    let mut args = eal_args(
        env(),
        &["net_fbnic0", "net_fbnic1", "net_fbnic2", "net_fbnic3"],
        eal,
    );
    args.extend(
        [
            "--",
            "--queues",
            "4",
            "--flows",
            "2000",
            "--packets-per-flow",
            "4",
        ]
        .map(String::from),
    );
    let r = run_checker(name, "fbnic-lb", &args, 14);
    let text = r.text();
    r.expect(&format!(
        "4 front queues polled by {workers} worker lcore(s)"
    ));
    r.expect("every service packet reached a backend once: ok (8000 of 8000, 0 duplicates, 0 bad)");
    r.expect("Toeplitz hash of its 4-tuple: ok (8000 packets");
    r.expect("to backends 16000 not for the service 32 (sent 32) malformed 0 Tx full 0");
    let per_worker = line(&text, "fbnic-lb: check every worker lcore")
        .unwrap_or_else(|| r.fail("no per-worker line"));
    r.check(per_worker.matches(',').count() == workers - 1, || {
        format!("expected {workers} workers: {per_worker}")
    });
    let logs = driver_log_lines(&text);
    r.check(logs.is_empty(), || {
        format!("driver log lines:\n{}", logs.join("\n"))
    });
    if let Some(l) = line(&text, "fbnic-lb: check phase 2: the removed backend") {
        report(l);
    }
}

/// fbnic-latency (apps/fbnic-latency) at 20,000 frames per second for one second, through a
/// cabled pair (sent on port 0, reflected by port 1) and through a loopback plug. Checked from
/// its RESULT lines: every frame came back (sent = received = 20,000, none lost), the send
/// rate was the one asked for, and the percentiles are positive and ordered (the corrected
/// ones at least the uncorrected ones), and its CPU-wait report found the engine and the
/// measuring lcore threads. No figure is compared with a target here: that is the
/// benchmark's job (`perf/run.sh`).
#[test]
fn latency_tool_round_trips_every_frame() {
    let _lock = dpdk_lock();
    let exe = env().app("fbnic-latency");
    for mode in ["pair", "loop"] {
        let r = run(
            &format!("fbnic-latency-{mode}"),
            &exe.display().to_string(),
            &[
                "--pmd".to_string(),
                env().pmd.display().to_string(),
                "--mode".into(),
                mode.into(),
                "--rates".into(),
                "20000".into(),
                "--secs".into(),
                "1".into(),
                "--warmup".into(),
                "0.2".into(),
            ],
            Duration::from_secs(120),
        );
        let text = r.text();
        r.check(r.status().success(), || {
            format!("fbnic-latency --mode {mode} exited with {}", r.status())
        });
        let result = line(&text, "RESULT ").unwrap_or_else(|| r.fail("no RESULT line"));
        let kv: std::collections::HashMap<&str, f64> = result
            .split_whitespace()
            .filter_map(|f| f.split_once('='))
            .filter_map(|(k, v)| Some((k, v.parse().ok()?)))
            .collect();
        let get = |k: &str| {
            *kv.get(k)
                .unwrap_or_else(|| r.fail(&format!("no {k} in {result:?}")))
        };
        r.check(result.contains(&format!("mode={mode} ")), || {
            format!("wrong mode: {result}")
        });
        r.check(
            get("sent") == 20_000.0 && get("received") == 20_000.0 && get("lost") == 0.0,
            || format!("frames lost or missing: {result}"),
        );
        r.check((get("achieved_pps") - 20_000.0).abs() <= 200.0, || {
            format!("send rate off: {result}")
        });
        let co = [
            "co_p50_us",
            "co_p90_us",
            "co_p99_us",
            "co_p999_us",
            "co_max_us",
        ]
        .map(get);
        r.check(co[0] > 0.0 && co.windows(2).all(|w| w[0] <= w[1]), || {
            format!("corrected percentiles not positive and ordered: {result}")
        });
        r.check(
            get("raw_p50_us") <= co[0] && get("raw_p99_us") <= co[2] && get("raw_max_us") <= co[4],
            || format!("uncorrected above corrected: {result}"),
        );
        // The CPU-wait report found the model's engine thread and the measuring lcore's.
        r.check(
            get("wait_threads") == 2.0
                && ["engine_wait_ms", "lcore_wait_ms", "others_cpu_ms"]
                    .iter()
                    .all(|k| get(k) >= 0.0),
            || format!("CPU waits not measured: {result}"),
        );
        let logs = driver_log_lines(&text);
        r.check(logs.is_empty(), || {
            format!("driver warnings or errors:\n{}", logs.join("\n"))
        });
        report(&format!("[{mode}] {result}"));
    }
}

/// fbnic-latency with 64-descriptor rings at 5 Mpps for one second through the cabled pair:
/// the reflecting port receives up to 64 frames per poll into a Tx ring with room for 31, so
/// its Tx ring is full again and again. Frames it cannot send yet must wait, not be dropped
/// (the tool once freed them and reported them lost): every frame comes back.
#[test]
fn latency_tool_reflector_keeps_frames_its_tx_ring_cannot_take_yet() {
    let _lock = dpdk_lock();
    let exe = env().app("fbnic-latency");
    let args: Vec<String> = [
        "--pmd",
        &env().pmd.display().to_string(),
        "--mode",
        "pair",
        "--rates",
        "5000000",
        "--secs",
        "1",
        "--warmup",
        "0.2",
        "--desc",
        "64",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let r = run(
        "fbnic-latency-small-rings",
        &exe.display().to_string(),
        &args,
        Duration::from_secs(120),
    );
    let text = r.text();
    r.check(r.status().success(), || {
        format!("fbnic-latency exited with {}", r.status())
    });
    let result = line(&text, "RESULT ").unwrap_or_else(|| r.fail("no RESULT line"));
    let field = |k: &str| -> u64 {
        result
            .split_whitespace()
            .find_map(|f| f.strip_prefix(k)?.strip_prefix('=')?.parse().ok())
            .unwrap_or_else(|| r.fail(&format!("no {k} in {result:?}")))
    };
    r.check(
        field("sent") == 5_000_000 && field("received") == 5_000_000 && field("lost") == 0,
        || format!("frames lost: {result}"),
    );
    report(result);
}
