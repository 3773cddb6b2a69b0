//! DPDK's own tests, from dpdk-test, against net_fbnic ports.

use std::path::PathBuf;
use std::time::Duration;

use fbnic_it::dpdk::{driver_log_lines, unbuffered};
use fbnic_it::process::Proc;
use fbnic_it::{dpdk_lock, eal_args, env, report};
use regex::Regex;

fn dpdk_test(name: &str, test: &str, vdevs: &[&str]) -> Proc {
    let env = env();
    let mut cmd = unbuffered("dpdk-test", &eal_args(env, vdevs, &[]));
    cmd.env("DPDK_TEST", test);
    Proc::spawn(name, cmd, false, &env.scratch)
}

fn num(p: &Proc, text: &str, re: &str) -> u64 {
    match Regex::new(re).unwrap().captures(text) {
        Some(c) => c[1].parse().unwrap(),
        None => p.fail(&format!("no match for {re:?}")),
    }
}

/// pmd_perf_autotest on net_fbnic0 and net_fbnic1: it configures both ports with
/// `lpbk_mode = 1` (MAC loopback: each port's Tx comes back to its own Rx), primes them with
/// as many packets as the Tx rings take, and forwards them back out of the port they came in
/// on from one lcore, measuring cycles per packet.
///
/// The test runs until it counted the packets 2 s at link speed would carry (600 million at
/// 100G, minutes for the model), or until SIGUSR1, its documented "stop" signal: sent after
/// 5 s of measurement. Checked: "Test OK"; at least 100000 packets forwarded; no more
/// packets came back when the ports were drained than were injected less those dropped; both
/// ports' links came up at 100 Gbps; the ports were stopped at the end (no "Cannot close
/// started device"); the model's engine thread runs at the nice value `model_nice=-20` asks
/// for, and only it. The cycles-per-packet line is reported.
#[test]
fn pmd_perf_autotest() {
    let _lock = dpdk_lock();
    let mut p = dpdk_test(
        "pmd_perf_autotest",
        "pmd_perf_autotest",
        &["net_fbnic0,model_nice=-20", "net_fbnic1"],
    );
    if let Err(e) = p.wait_for(0, "Test will stop after at least", Duration::from_secs(60)) {
        p.fail(&e);
    }
    // The main lcore spins while it waits for the worker, on the model's CPU: the engine
    // runs at nice -20 (model_nice), the application's threads as they were.
    let engine = p.thread_nice("fbnic-engine");
    let main = p.thread_nice("dpdk-test");
    if engine != [-20] || main != [0] {
        p.fail(&format!(
            "nice values: engine {engine:?} (want [-20]), main thread {main:?} (want [0])"
        ));
    }
    std::thread::sleep(Duration::from_secs(5));
    p.signal(libc::SIGUSR1);
    match p.wait(Duration::from_secs(120)) {
        Ok(st) if st.success() => {}
        Ok(st) => p.fail(&format!("dpdk-test exited with {st}")),
        Err(e) => p.fail(&e),
    }
    let text = p.text();
    for want in [
        "Test OK",
        "Port 0 Link up at 100 Gbps",
        "Port 1 Link up at 100 Gbps",
        "Force Stop!",
    ] {
        if !text.contains(want) {
            p.fail(&format!("expected {want:?}"));
        }
    }
    for bad in ["Cannot close started device", "Test Failed", "err="] {
        if text.contains(bad) {
            p.fail(&format!("unexpected {bad:?}"));
        }
    }
    let injected = num(&p, &text, r"Total packets inject to prime ports = (\d+)");
    let count = num(&p, &text, r"(\d+) packet, \d+ drop, \d+ idle");
    let drop = num(&p, &text, r"\d+ packet, (\d+) drop, \d+ idle");
    let cycles = num(&p, &text, r"Result: (\d+) cycles per packet");
    let freed: u64 = Regex::new(r"free (\d+) \(expected \d+\) mbuf left in port (\d+)")
        .unwrap()
        .captures_iter(&text)
        .map(|c| c[1].parse::<u64>().unwrap())
        .sum();
    if injected == 0 || count < 100_000 {
        p.fail(&format!("{injected} packets injected, {count} forwarded"));
    }
    // The test drains each port for 10000 empty polls (well under a millisecond): what is
    // still in flight in the device model then is not counted, so only "no more than sent"
    // holds for sure.
    if freed + drop > injected {
        p.fail(&format!(
            "{injected} packets injected and {drop} dropped by the test, but {freed} came back when draining"
        ));
    }
    let logs = driver_log_lines(&text);
    if !logs.is_empty() {
        p.fail("driver warnings or errors");
    }
    report(&format!(
        "pmd_perf_autotest: Result: {cycles} cycles per packet ({count} packets forwarded in loopback, {drop} dropped, {injected} primed, {freed} drained at the end)"
    ));
}

/// pcapng_autotest with net_fbnic0 as port 0: the test writes packets and statistics of
/// port 0 to a pcapng file and reads them back. Checked: all its cases pass, and the file
/// names net_fbnic0 as the capture interface. The test leaves the file in /tmp: removed.
#[test]
fn pcapng_autotest() {
    let _lock = dpdk_lock();
    let mut p = dpdk_test("pcapng_autotest", "pcapng_autotest", &["net_fbnic0"]);
    match p.wait(Duration::from_secs(120)) {
        Ok(st) if st.success() => {}
        Ok(st) => p.fail(&format!("dpdk-test exited with {st}")),
        Err(e) => p.fail(&e),
    }
    let text = p.text();
    let file = Regex::new(r"pcapng: output file (\S+\.pcapng)")
        .unwrap()
        .captures(&text)
        .map(|c| PathBuf::from(&c[1]));
    let contents = file.as_ref().and_then(|f| std::fs::read(f).ok());
    if let Some(f) = &file {
        let _ = std::fs::remove_file(f);
    }
    if !text.contains("Test OK") {
        p.fail("pcapng_autotest did not pass");
    }
    let executed = num(&p, &text, r"Tests Executed :\s+(\d+)");
    let passed = num(&p, &text, r"Tests Passed :\s+(\d+)");
    let failed = num(&p, &text, r"Tests Failed :\s+(\d+)");
    if executed == 0 || passed != executed || failed != 0 {
        p.fail(&format!(
            "{executed} executed, {passed} passed, {failed} failed"
        ));
    }
    let Some(contents) = contents else {
        p.fail("the pcapng file the test wrote was not found");
    };
    let has = |s: &[u8]| contents.windows(s.len()).any(|w| w == s);
    if !has(b"net_fbnic0") {
        p.fail("the pcapng file does not name net_fbnic0 as its interface");
    }
    let logs = driver_log_lines(&text);
    if !logs.is_empty() {
        p.fail("driver warnings or errors");
    }
    report(&format!(
        "pcapng_autotest: {passed}/{executed} cases passed on net_fbnic0"
    ));
}
