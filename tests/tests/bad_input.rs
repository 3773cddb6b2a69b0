//! Bad input: each mistake is rejected with an error line that names the problem, and
//! dpdk-testpmd exits cleanly (status 0 and "Bye..." when it can go on, status 1 from
//! rte_exit when testpmd itself gives up; never a signal or a hang).
//!
//! Where DPDK checks a value against what the driver reports in infos_get (queue counts,
//! descriptor limits, MTU range), the rejection comes from ethdev or testpmd, using our
//! limits; where only the driver knows (devargs, power-of-two rings, buffer sizes, RSS key
//! size), the line is the driver's `NET_FBNIC: ...`.

use std::time::Duration;

use fbnic_it::dpdk::{driver_log_lines, run, Run, TestPmd};
use fbnic_it::parse::get;
use fbnic_it::{dpdk_lock, eal_args, env};

/// Runs testpmd non-interactively (stdin closed) on two cabled ports with `args`.
fn testpmd_once(name: &str, args: &[&str]) -> Run {
    let _lock = dpdk_lock();
    let mut a = eal_args(env(), &["net_fbnic0", "net_fbnic1"], &[]);
    a.push("--".into());
    a.push("--total-num-mbufs=8192".into());
    a.extend(args.iter().map(|s| s.to_string()));
    run(name, "dpdk-testpmd", &a, Duration::from_secs(60))
}

/// testpmd gave up through rte_exit: exit status 1 (no signal), with the cause.
fn expect_rte_exit(r: &Run, lines: &[&str]) {
    r.check(r.status().code() == Some(1), || {
        format!("expected exit status 1 (rte_exit), got {}", r.status())
    });
    r.expect("EAL: Error - exiting with code: 1");
    for l in lines {
        r.expect(l);
    }
}

/// Sends traffic on a started session and checks it flows (port 0 receives at least 1000).
fn traffic_flows(tp: &mut TestPmd) {
    tp.cmd("start tx_first");
    tp.wait_until("traffic", Duration::from_secs(30), |t| {
        get(&t.stats(0), "RX-packets") >= 1000
    });
    tp.cmd("stop");
}

/// Devargs: an unknown key and bad values of wire=, mac=, link=, bmc=, model_nice= (and a
/// repeated key, and rx_intr_frames without rx_intr_usecs): each vdev's probe fails with a
/// line naming the device, the key and the reason; a good vdev given along with them (with
/// interrupt moderation) still works.
#[test]
fn bad_devargs() {
    let cases = [
        (
            "net_fbnic0,foo=1",
            "devarg 'foo': unknown key (known: wire, mac, link, bmc",
        ),
        (
            "net_fbnic1,wire=ring",
            "devarg 'wire': bad value 'ring': unknown wire (expected pair|loop|cable:<name>|tap:<ifname>)",
        ),
        (
            "net_fbnic2,wire=cable:",
            "devarg 'wire': bad value 'cable:': cable names are 1-32 letters",
        ),
        (
            "net_fbnic3,mac=01:00:00:00:00:01",
            "devarg 'mac': bad value '01:00:00:00:00:01': not a unicast address",
        ),
        (
            "net_fbnic4,mac=02:00:00:00:00",
            "devarg 'mac': bad value '02:00:00:00:00'",
        ),
        ("net_fbnic5,link=40G", "devarg 'link': bad value '40G'"),
        (
            "net_fbnic6,bmc=2",
            "devarg 'bmc': bad value '2': not 0 or 1",
        ),
        ("net_fbnic7,bmc=1,bmc=0", "devarg 'bmc': given twice"),
        (
            "net_fbnic8,model_nice=-21",
            "devarg 'model_nice': bad value '-21': not -20..19",
        ),
        (
            "net_fbnic9,rx_intr_frames=8",
            "devarg 'rx_intr_frames': needs rx_intr_usecs above 0",
        ),
        (
            "net_fbnic10,wire=tap:a/b",
            "devarg 'wire': bad value 'tap:a/b': interface names are 1-15 letters",
        ),
    ];
    let mut vdevs: Vec<&str> = cases.iter().map(|c| c.0).collect();
    vdevs.push("net_fbnic11,wire=loop,rx_intr_usecs=100,rx_intr_frames=8");
    let mut tp = TestPmd::start("bad-devargs", &vdevs, &[], &["--total-num-mbufs=8192"]);
    let text = tp.text();
    for (i, (vdev, why)) in cases.iter().enumerate() {
        let want = format!("NET_FBNIC: net_fbnic{i}: probe: invalid argument: {why}");
        tp.check(text.contains(&want), || {
            format!("{vdev}: expected {want:?}")
        });
        let failed = format!("failed to initialize net_fbnic{i} device");
        tp.check(text.contains(&failed), || {
            format!("{vdev}: expected {failed:?}")
        });
    }
    let errors = driver_log_lines(&text);
    tp.check(errors.len() == cases.len(), || {
        format!(
            "expected one driver line per bad vdev, got:\n{}",
            errors.join("\n")
        )
    });
    tp.cmd_expect(
        "show port summary all",
        &["Number of available ports: 1", "net_fbnic11"],
    );
    // The good port (an external loopback plug) forwards to itself.
    traffic_flows(&mut tp);
    tp.quit();
}

/// Descriptor counts: not a power of two (Rx 1000, Tx 100) is refused by the driver; zero by
/// testpmd; below the minimum the driver reports (32 < 64) by ethdev. Then in an interactive
/// session: a refused count leaves the ports stopped, a good count starts them and traffic
/// flows.
#[test]
fn bad_descriptor_counts() {
    let r = testpmd_once("bad-rxd-1000", &["--rxd=1000"]);
    expect_rte_exit(
        &r,
        &[
            "NET_FBNIC: net_fbnic0: rx_queue_setup: invalid argument: Rx descriptor count 1000: must be a power of two from 64 to 32768",
            "Fail to configure port 0 rx queues",
        ],
    );
    let r = testpmd_once("bad-txd-100", &["--txd=100"]);
    expect_rte_exit(
        &r,
        &[
            "NET_FBNIC: net_fbnic0: tx_queue_setup: invalid argument: Tx descriptor count 100: must be a power of two from 64 to 32768",
            "Fail to configure port 0 tx queues",
        ],
    );
    let r = testpmd_once("bad-rxd-0", &["--rxd=0"]);
    expect_rte_exit(&r, &["rxd(0) invalid - must be > 0"]);
    let r = testpmd_once("bad-txd-0", &["--txd=0"]);
    expect_rte_exit(&r, &["txd must be in > 0"]);
    let r = testpmd_once("bad-rxd-32", &["--rxd=32"]);
    expect_rte_exit(
        &r,
        &["Invalid value for nb_rx_desc(=32), should be: <= 32768, >= 64"],
    );

    let mut tp = TestPmd::start(
        "bad-desc-interactive",
        &["net_fbnic0", "net_fbnic1"],
        &[],
        &["--total-num-mbufs=8192"],
    );
    tp.cmd("port stop all");
    tp.cmd("port config all rxd 1000");
    tp.cmd_expect(
        "port start all",
        &[
            "NET_FBNIC: net_fbnic0: rx_queue_setup: invalid argument: Rx descriptor count 1000: must be a power of two",
            "Fail to configure port 0 rx queues",
        ],
    );
    tp.cmd_expect("show port summary all", &["down"]);
    tp.cmd("port config all rxd 512");
    tp.cmd("port config all txd 96");
    tp.cmd_expect(
        "port start all",
        &[
            "Tx descriptor count 96: must be a power of two",
            "Fail to configure port 0 tx queues",
        ],
    );
    tp.cmd("port config all txd 256");
    let out = tp.cmd("port start all");
    tp.check(!out.contains("Fail"), || format!("port start all:\n{out}"));
    tp.cmd_expect("show rxq info 0 0", &["Number of RXDs: 512"]);
    tp.cmd_expect("show txq info 0 0", &["Number of TXDs: 256"]);
    traffic_flows(&mut tp);
    tp.quit();
}

/// Queue counts above the 128 the driver reports are refused by testpmd (command line and
/// interactive); exactly 128 Rx and Tx queues per port work, with traffic.
#[test]
fn too_many_queues() {
    let r = testpmd_once("bad-rxq-129", &["--rxq=129"]);
    expect_rte_exit(
        &r,
        &["Fail: input rxq (129) can't be greater than max_rx_queues (128) of port 0"],
    );
    let r = testpmd_once("bad-txq-200", &["--txq=200"]);
    expect_rte_exit(
        &r,
        &["Fail: input txq (200) can't be greater than max_tx_queues (128) of port 0"],
    );

    let mut tp = TestPmd::start(
        "queues-128",
        &["net_fbnic0", "net_fbnic1"],
        &[],
        &["--total-num-mbufs=40960", "--rss-ip", "--txonly-multi-flow"],
    );
    tp.cmd("port stop all");
    tp.cmd_expect(
        "port config all rxq 129",
        &["Fail: input rxq (129) can't be greater than max_rx_queues (128) of port 0"],
    );
    tp.cmd_expect(
        "port config all txq 1000",
        &["Fail: input txq (1000) can't be greater than max_tx_queues (128) of port 0"],
    );
    tp.cmd("port config all rxd 64");
    tp.cmd("port config all txd 64");
    tp.cmd("port config all rxq 128");
    tp.cmd("port config all txq 128");
    let out = tp.cmd("port start all");
    tp.check(!out.contains("Fail"), || format!("port start all:\n{out}"));
    tp.cmd_expect(
        "show port info 0",
        &[
            "Current number of RX queues: 128",
            "Current number of TX queues: 128",
        ],
    );
    traffic_flows(&mut tp);
    // RSS spread the flows over many of the 128 queues.
    let x = tp.xstats(0);
    let used = (0..128)
        .filter(|q| x.get(&format!("rx_q{q}_hw_packets")).copied().unwrap_or(0) > 0)
        .count();
    tp.check(used >= 64, || {
        format!("only {used} of 128 Rx queues got traffic")
    });
    tp.quit();
}

/// MTU: above the maximum (9724) or below the minimum (68) the driver reports, ethdev
/// refuses; 9000 with 2 KiB mbufs and no scatter, the driver refuses (it would drop every big
/// frame); the MTU stays 1500. A valid MTU is taken. On the command line, --max-pkt-len too
/// big for the device or for the buffers stops testpmd with the reason.
#[test]
fn mtu_out_of_range() {
    let r = testpmd_once("bad-max-pkt-len-10000", &["--max-pkt-len=10000"]);
    expect_rte_exit(&r, &["MTU (9982) > device max MTU (9724) for port_id 0"]);
    let r = testpmd_once("bad-max-pkt-len-9000", &["--max-pkt-len=9000"]);
    expect_rte_exit(
        &r,
        &["NET_FBNIC: net_fbnic0: rx_queue_setup: invalid argument: Rx queue 0: MTU 8982 needs 9000-byte buffers but the mempool offers 2048; enable the SCATTER offload or use larger mbufs"],
    );

    let mut tp = TestPmd::start(
        "bad-mtu",
        &["net_fbnic0", "net_fbnic1"],
        &[],
        &["--total-num-mbufs=8192"],
    );
    tp.cmd_expect(
        "port config mtu 0 9725",
        &["MTU (9725) > device max MTU (9724) for port_id 0"],
    );
    tp.cmd_expect(
        "port config mtu 0 67",
        &["MTU (67) < device min MTU (68) for port_id 0"],
    );
    tp.cmd_expect(
        "port config mtu 0 9000",
        &[
            "NET_FBNIC: net_fbnic0: mtu_set: invalid argument: MTU 9000: frames of 9018 bytes do not fit Rx queue 0's 2048-byte buffers without the SCATTER offload",
            "Set MTU failed",
        ],
    );
    tp.cmd_expect("show port info 0", &["MTU: 1500"]);
    let out = tp.cmd("port config mtu 0 2000");
    tp.check(!out.contains("fail") && !out.contains("NET_FBNIC"), || {
        format!("MTU 2000 refused:\n{out}")
    });
    tp.cmd_expect("show port info 0", &["MTU: 2000"]);
    traffic_flows(&mut tp);
    tp.quit();
}

/// RSS keys of the wrong size, in testpmd: testpmd checks the length against the
/// hash_key_size the driver reports (40 bytes = 80 hex digits) and refuses; the key in force
/// does not change. (What the driver itself says about a wrong-size key given through the API
/// is checked by apps::rss_matches_rte_softrss.)
#[test]
fn wrong_size_rss_key() {
    let mut tp = TestPmd::start(
        "bad-rss-key",
        &["net_fbnic0", "net_fbnic1"],
        &[],
        &["--total-num-mbufs=8192", "--rxq=2", "--txq=2"],
    );
    let before = tp.cmd("show port 0 rss-hash key");
    tp.cmd_expect(
        "port config 0 rss-hash-key ipv4 abcd",
        &["key length: 4 invalid - key must be a string of 80 hexa-decimal numbers"],
    );
    let long = "1".repeat(82);
    tp.cmd_expect(
        &format!("port config 0 rss-hash-key ipv4 {long}"),
        &["key length: 82 invalid - key must be a string of 80 hexa-decimal numbers"],
    );
    let after = tp.cmd("show port 0 rss-hash key");
    tp.check(before == after, || {
        format!("the key changed:\n{before}\n->\n{after}")
    });
    traffic_flows(&mut tp);
    tp.quit();
}

/// A "timed out after N ms" in `line` (if any) says the driver waited at least the 300 ms
/// fw_timeout_ms asked for and gave up within a second of it: how far past 300 depends on
/// the machine's timer wake-ups (303-317 ms seen on a slow guest), so no exact figure.
fn timeout_respected(line: &str) -> bool {
    let Some((_, rest)) = line.split_once("timed out after ") else {
        return true;
    };
    rest.split_once(" ms")
        .and_then(|(n, _)| n.parse::<u64>().ok())
        .is_some_and(|ms| (300..1300).contains(&ms))
}

/// A port whose firmware misbehaves (the model's fw_fault= and fw_version= devargs): start
/// fails with the driver naming what it waited for or what it got, after the timeout given
/// (fw_timeout_ms=300), and fails the same way when asked again; the other port is
/// unaffected by the failure (its link is down only because its cable partner is); testpmd
/// quits cleanly.
#[test]
fn firmware_faults() {
    let cases = [
        (
            "fw_fault=no_life,fw_timeout_ms=300",
            "timed out after ",
            "waiting for firmware signs of life",
        ),
        (
            "fw_fault=no_ownership,fw_timeout_ms=300",
            "timed out after ",
            "waiting for the ownership response (OWNERSHIP_RESP)",
        ),
        (
            "fw_fault=no_heartbeat,fw_timeout_ms=300",
            "timed out after ",
            "waiting for the first heartbeat response (HEARTBEAT_RESP)",
        ),
        (
            "fw_fault=malformed,fw_timeout_ms=300",
            "firmware error: malformed reply",
            "while waiting for the capabilities response (FW_CAP_RESP)",
        ),
        (
            "fw_version=0.1.0.0",
            "firmware 0.1.0.0 is older than the minimum supported",
            "",
        ),
    ];
    for (i, (devargs, what, detail)) in cases.iter().enumerate() {
        let vdev = format!("net_fbnic0,{devargs}");
        let mut tp = TestPmd::start_with_failures(
            &format!("fw-fault-{i}"),
            &[vdev.as_str(), "net_fbnic1"],
            &[],
            &["--total-num-mbufs=8192"],
        );
        let startup = tp.text();
        let line = startup
            .lines()
            .find(|l| l.starts_with("NET_FBNIC: net_fbnic0: start: "))
            .map(str::to_string)
            .unwrap_or_else(|| tp.fail(&format!("{devargs}: no start error from the driver")));
        tp.check(line.contains(what) && line.contains(detail), || {
            format!("{devargs}: expected {what:?} and {detail:?} in {line:?}")
        });
        tp.check(timeout_respected(&line), || {
            format!("{devargs}: the wait did not last the 300 ms asked for (or ran on): {line:?}")
        });
        tp.check(startup.contains("Fail to start port 0"), || {
            format!("{devargs}: testpmd did not report the failed start")
        });
        let out = tp.cmd("port start 0");
        tp.check(
            out.contains("NET_FBNIC: net_fbnic0: start: ")
                && out.contains(what)
                && out.contains(detail)
                && out.contains("Fail to start port 0")
                && out.lines().all(timeout_respected),
            || format!("{devargs}: a second start did not fail the same way:\n{out}"),
        );
        tp.cmd_expect("show port info 0", &["Link status: down"]);
        tp.quit();
    }
}
