//! `wire=tap:NAME`: a net_fbnic port whose link partner is the Linux network stack, through a
//! TAP interface. Real dpdk-testpmd answers `ping` from the kernel in icmpecho mode.
//!
//! The TAP interface is moved into a network namespace of its own before it gets an address,
//! so the test never touches the machine's own interfaces and routes (whatever addresses
//! they use).

use std::process::Command;

use fbnic_it::dpdk::{driver_log_lines, TestPmd};
use fbnic_it::parse::get;

/// Runs a command; its output, or a panic saying what failed.
fn sh(args: &[&str]) -> String {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{args:?} failed:\n{text}");
    text
}

/// A network namespace, deleted on drop.
struct Netns(String);

impl Netns {
    fn new(name: String) -> Self {
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        sh(&["ip", "netns", "add", &name]);
        Self(name)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

/// testpmd in icmpecho mode on net_fbnic0 wired to TAP interface T; T moved into a fresh
/// namespace with 198.51.100.1/24 and up. `ping 198.51.100.2` from there: the kernel asks
/// for the address by ARP (broadcast, 42 bytes: padded to 60 by the partner's MAC), testpmd
/// answers with the port's address, then echoes each request: every ping answered, the
/// neighbour entry holds the port's MAC, and testpmd's and the port's counters agree with
/// what crossed (one ARP reply and five echo replies sent; the kernel's own IPv6 chatter
/// received and dropped by icmpecho, never answered).
#[test]
fn kernel_pings_testpmd_through_a_tap_wire() {
    let tap = format!("fbnit{}", std::process::id() % 100_000);
    let mut tp = TestPmd::start(
        "tap-icmpecho",
        &[&format!("net_fbnic0,wire=tap:{tap}")],
        &[],
        &["--nb-cores=1", "--total-num-mbufs=4096"],
    );
    tp.cmd_expect("set fwd icmpecho", &["Set icmpecho packet forwarding mode"]);
    let out = tp.cmd("start");
    tp.check(out.contains("packet forwarding"), || {
        format!("start:\n{out}")
    });
    let ns = Netns::new(format!("fbnic-it-{}", std::process::id()));
    sh(&["ip", "link", "set", &tap, "netns", &ns.0]);
    sh(&["ip", "-n", &ns.0, "link", "set", &tap, "up"]);
    sh(&[
        "ip",
        "-n",
        &ns.0,
        "addr",
        "add",
        "198.51.100.1/24",
        "dev",
        &tap,
    ]);
    let ping = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.0,
            "ping",
            "-c",
            "5",
            "-i",
            "0.2",
            "-W",
            "3",
            "198.51.100.2",
        ])
        .output()
        .expect("ping");
    let ping_out = String::from_utf8_lossy(&ping.stdout).to_string();
    let neigh = sh(&["ip", "-n", &ns.0, "neigh", "show", "dev", &tap]);
    let stop = tp.cmd("stop");
    let st = tp.stats(0);
    let x = tp.xstats(0);
    let text = tp.quit();
    assert!(
        ping.status.success() && ping_out.contains("5 packets transmitted, 5 received"),
        "ping through the TAP wire:\n{ping_out}{}\n---- testpmd ----\n{}",
        String::from_utf8_lossy(&ping.stderr),
        fbnic_it::dpdk::last_lines(&text, 60)
    );
    assert!(
        neigh.contains("198.51.100.2 lladdr 02:1d:9b:00:00:00"),
        "neighbour entry: {neigh}"
    );
    // One ARP reply and five echo replies; what testpmd sent left the MAC.
    let tx = get(&st, "TX-packets");
    assert_eq!(tx, 6, "testpmd sent {tx}:\n{stop}");
    assert_eq!(get(&x, "mac_tx_frames_ok"), tx);
    // It received the ARP request and the five echo requests, and whatever else the
    // kernel sent on a new interface (IPv6 solicitations and reports); none was missed.
    let rx = get(&st, "RX-packets");
    assert!(rx >= 6, "testpmd received {rx}:\n{stop}");
    assert!(get(&x, "mac_rx_frames_ok") >= rx);
    assert_eq!(get(&st, "RX-missed"), 0);
    fbnic_it::dpdk::assert_no_driver_lines(&text);
}

/// A TAP name that belongs to another kind of interface (the loopback) fails the probe with
/// the kernel's refusal and the likely reason; the interface is left alone and a good port
/// beside it works.
#[test]
fn a_name_taken_by_another_interface_fails_the_probe() {
    let lo_before = sh(&["ip", "-o", "link", "show", "lo"]);
    let tp = TestPmd::start(
        "tap-taken",
        &["net_fbnic0,wire=tap:lo", "net_fbnic1,wire=loop"],
        &[],
        &["--total-num-mbufs=4096"],
    );
    let text = tp.quit();
    let logs = driver_log_lines(&text);
    assert!(
        logs.len() == 1
            && logs[0].contains("net_fbnic0: probe: hardware error: tap:lo: TUNSETIFF: ")
            && logs[0].contains("is the name another interface's"),
        "driver lines: {logs:?}"
    );
    assert!(text.contains("failed to initialize net_fbnic0 device"));
    assert!(
        text.contains("Port 0: 02:1D:9B:00:00:01"),
        "the good port probed"
    );
    assert_eq!(sh(&["ip", "-o", "link", "show", "lo"]), lo_before);
}
