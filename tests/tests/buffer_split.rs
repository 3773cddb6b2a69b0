//! Buffer split (`RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT`) in dpdk-testpmd: net_fbnic queues with a
//! header pool and a payload pool receive each frame as a header mbuf chained to a payload
//! mbuf, cut after the protocol headers testpmd asks for (`--rxhdrs`) or at a length
//! (`--rxpkts`); the chains forward intact. (Where exactly each frame type is cut, byte for
//! byte, is checked in the PMD's own tests, pmd/tests/split.rs.)

use std::time::Duration;

use fbnic_it::dpdk::TestPmd;
use fbnic_it::parse::{get, sum_where};

/// Sends one burst per Tx queue (`nb_txq` per port) in rxonly/verbose mode and returns
/// testpmd's per-packet dump lines (one per received packet).
fn dumped_packets(tp: &mut TestPmd, nb_txq: u64) -> Vec<String> {
    let n = 32 * nb_txq;
    tp.cmd("set fwd rxonly");
    tp.cmd("set verbose 1");
    tp.cmd("clear port stats all");
    let from = tp.text().len();
    tp.cmd_racing(
        "start tx_first 1",
        "queue 0: received",
        Duration::from_secs(30),
    );
    tp.wait_until(
        "both ports to receive a burst per Tx queue",
        Duration::from_secs(30),
        |t| get(&t.stats(0), "RX-packets") == n && get(&t.stats(1), "RX-packets") == n,
    );
    tp.cmd("stop");
    tp.cmd("set verbose 0");
    tp.text()[from..]
        .lines()
        .filter(|l| l.contains(" - nb_segs="))
        .map(str::to_string)
        .collect()
}

/// Every dumped packet has `len` bytes, `segs` segments and its first mbuf from the header
/// pool (testpmd's first pool, mb_pool_0).
fn check_dumps(tp: &TestPmd, dumps: &[String], n: usize, len: u32, segs: u32) {
    tp.check(dumps.len() == n, || {
        format!("{n} packet dumps expected, {} found", dumps.len())
    });
    let want_len = format!(" - length={len} - ");
    let want_segs = format!(" - nb_segs={segs} - ");
    for d in dumps {
        tp.check(
            d.contains(" - pool=mb_pool_0 - ") && d.contains(&want_len) && d.contains(&want_segs),
            || format!("expected a {len}-byte packet in {segs} segments headed by a header-pool mbuf: {d}"),
        );
    }
}

/// io forwarding of the split packets for a second: every packet goes out again whole
/// (testpmd's byte counters: `len` bytes per packet each way) and none is lost or errored.
fn forward_split_packets(tp: &mut TestPmd, len: u64) {
    tp.cmd("set fwd io");
    tp.cmd("clear port stats all");
    tp.cmd("start tx_first 4");
    std::thread::sleep(Duration::from_secs(1));
    tp.cmd("stop");
    let settled = tp.settle(&[0, 1]);
    for p in 0..2u16 {
        let s = tp.stats(p);
        let (rx, tx) = (get(&s, "RX-packets"), get(&s, "TX-packets"));
        tp.check(rx > 10_000, || {
            format!("port {p}: only {rx} packets forwarded")
        });
        tp.check(get(&s, "RX-bytes") == rx * len, || {
            format!(
                "port {p}: RX-bytes {} for {rx} packets of {len}",
                get(&s, "RX-bytes")
            )
        });
        tp.check(get(&s, "TX-bytes") == tx * len, || {
            format!(
                "port {p}: TX-bytes {} for {tx} packets of {len}",
                get(&s, "TX-bytes")
            )
        });
        for k in ["RX-errors", "RX-missed", "TX-errors"] {
            tp.check(get(&s, k) == 0, || format!("port {p}: {k} {}", get(&s, k)));
        }
        // The queues' own counts: no bad completion, no dropped or errored packet.
        let x = &settled[p as usize];
        let bad = sum_where(x, |k| {
            k.starts_with("rx_q")
                && ["errors", "bad_descriptors", "drops"]
                    .iter()
                    .any(|e| k.ends_with(e))
        });
        tp.check(bad == 0, || {
            format!("port {p}: Rx queue errors/drops: {x:?}")
        });
        // Frames still on the Rx rings when forwarding stopped are the MAC's, not testpmd's.
        tp.check(get(x, "mac_rx_frames_ok") >= rx, || {
            format!(
                "port {p}: MAC received {} frames, testpmd {rx}",
                get(x, "mac_rx_frames_ok")
            )
        });
    }
    // What one port's MAC sent, the other's received (the cable loses nothing).
    let (x0, x1) = (&settled[0], &settled[1]);
    tp.check(
        get(x0, "mac_tx_frames_ok") == get(x1, "mac_rx_frames_ok")
            && get(x1, "mac_tx_frames_ok") == get(x0, "mac_rx_frames_ok"),
        || format!("MAC counts disagree: {x0:?} / {x1:?}"),
    );
}

/// `--rxhdrs=ipv4-udp`: testpmd's UDP/IPv4 frames arrive as header (from the 256-byte pool)
/// + payload, on both queues of both ports, and forward whole.
#[test]
fn protocol_split_after_udp_headers() {
    let mut tp = TestPmd::start(
        "buffer-split-proto",
        &["net_fbnic0", "net_fbnic1"],
        &[],
        &[
            "--nb-cores=1",
            "--rxq=2",
            "--txq=2",
            "--rss-udp",
            "--txonly-multi-flow",
            "--mbuf-size=256,2176",
            "--rxhdrs=ipv4-udp",
            "--rx-offloads=0x100000",
            "--txpkts=200",
        ],
    );
    tp.cmd_expect("show port 0 rx_offload configuration", &["BUFFER_SPLIT"]);
    let dumps = dumped_packets(&mut tp, 2);
    check_dumps(&tp, &dumps, 128, 200, 2);
    for q in 0..2 {
        let on_q = dumps
            .iter()
            .filter(|d| d.contains(&format!("Receive queue=0x{q}")))
            .count();
        tp.check(on_q > 0, || format!("no packet on Rx queue {q}"));
    }
    forward_split_packets(&mut tp, 200);
    tp.quit();
}

/// `--rxpkts=100,2176`: a length split: 300-byte frames arrive in two segments, 64-byte
/// frames fit the 100-byte header segment alone.
#[test]
fn length_split_at_100_bytes() {
    let mut tp = TestPmd::start(
        "buffer-split-len",
        &["net_fbnic0", "net_fbnic1"],
        &[],
        &[
            "--nb-cores=1",
            "--mbuf-size=256,2176",
            "--rxpkts=100,2176",
            "--rx-offloads=0x100000",
            // Sent as two 150-byte segments (testpmd takes Tx segments from its first pool).
            "--txpkts=150,150",
        ],
    );
    let dumps = dumped_packets(&mut tp, 1);
    check_dumps(&tp, &dumps, 64, 300, 2);
    tp.cmd("set txpkts 64");
    let dumps = dumped_packets(&mut tp, 1);
    check_dumps(&tp, &dumps, 64, 64, 1);
    forward_split_packets(&mut tp, 64);
    tp.quit();
}

/// A split the device cannot make (after SCTP headers) is refused at queue setup with the
/// reason, and the port does not start.
#[test]
fn unsupported_split_is_refused() {
    let tp = TestPmd::start_with_failures(
        "buffer-split-bad",
        &["net_fbnic0", "net_fbnic1"],
        &[],
        &[
            "--mbuf-size=256,2176",
            "--rxhdrs=ipv4-sctp",
            "--rx-offloads=0x100000",
        ],
    );
    let text = tp.quit();
    assert!(
        text.contains("is not supported") && text.contains("Fail to configure port 0 rx queues"),
        "expected ethdev's refusal and testpmd's port failure:\n{text}"
    );
}
