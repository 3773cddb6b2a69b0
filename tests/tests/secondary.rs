//! Secondary processes: the real `dpdk-proc-info` attaches to a running dpdk-testpmd (the
//! primary, which owns two cabled net_fbnic ports with 4 queues each and has forwarded
//! traffic) and reads the ports through the driver: statistics, extended statistics,
//! firmware version, port and queue information, RSS key and redirection table, the register
//! dump, the private and descriptor dumps, and a statistics reset that the primary then
//! shows. Every figure
//! is compared with what testpmd itself shows for the same port.

use std::collections::BTreeMap;
use std::time::Duration;

use fbnic_hw::regdump;
use fbnic_hw::regs;
use fbnic_it::dpdk::{self, remove_prefix_files, secondary_args, TestPmd};
use fbnic_it::parse::{self, get, Counters};
use regex::Regex;

const PREFIX: &str = "fbnic-it-secondary";
const QUEUES: usize = 4;

/// The part of `text` from the heading for `port` up to the next port's heading (or the end).
fn section<'a>(text: &'a str, heading: &str, port: u16) -> &'a str {
    let start = text
        .find(&format!("{heading} {port}"))
        .unwrap_or_else(|| panic!("no \"{heading} {port}\" in:\n{text}"));
    let rest = &text[start..];
    let end = rest[1..].find(heading).map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

/// Runs dpdk-proc-info with `opts` against the primary; its output (exit status 0).
fn proc_info(opts: &[&str]) -> String {
    let mut args = secondary_args(PREFIX, &[]);
    args.push("--".into());
    args.extend(opts.iter().map(|s| s.to_string()));
    let run = dpdk::run(
        "proc-info",
        "dpdk-proc-info",
        &args,
        Duration::from_secs(60),
    );
    run.check(run.status().success(), || "dpdk-proc-info failed".into());
    run.text()
}

#[test]
fn proc_info_reads_ports_of_a_running_testpmd() {
    remove_prefix_files(PREFIX);
    let mut tp = TestPmd::start_primary(
        "testpmd-primary",
        PREFIX,
        &["net_fbnic0", "net_fbnic1"],
        &[
            "--nb-cores=1",
            "--rxq=4",
            "--txq=4",
            "--rss-ip",
            "--txonly-multi-flow",
        ],
    );
    tp.cmd("set fwd io");
    tp.cmd("start tx_first 4");
    std::thread::sleep(Duration::from_millis(1500));
    tp.cmd("stop");
    let x = tp.settle(&[0, 1]);
    let stats: Vec<Counters> = (0..2).map(|p| tp.stats(p)).collect();
    let info = tp.cmd("show port info 0");
    let fw = Regex::new(r"Firmware-version: (\S+)")
        .unwrap()
        .captures(&info)
        .map(|c| c[1].to_string())
        .unwrap_or_else(|| tp.fail("testpmd shows no firmware version"));
    tp.check(get(&stats[0], "RX-packets") > 1000, || {
        format!("too little traffic to compare: {stats:?}")
    });

    // --- basic and extended statistics: what testpmd shows, from the other process.
    // (proc-info shows one of --stats and --xstats per run.)
    let out = proc_info(&["--stats"]);
    let xout = proc_info(&["--xstats"]);
    for p in 0..2u16 {
        // The port's totals: what comes before the per-queue "Stats reg" lines.
        let block = section(&out, "NIC statistics for port", p);
        let s = parse::port_stats(&block[..block.find("Stats reg").unwrap_or(block.len())]);
        for k in [
            "RX-packets",
            "RX-bytes",
            "RX-errors",
            "TX-packets",
            "TX-bytes",
        ] {
            tp.check(s.get(k) == stats[p as usize].get(k), || {
                format!(
                    "port {p} {k}: proc-info {:?}, testpmd {:?}\n{out}",
                    s.get(k),
                    stats[p as usize].get(k)
                )
            });
        }
        let theirs = parse::xstats(section(&xout, "NIC extended statistics for port", p));
        tp.check(theirs == x[p as usize], || {
            let diff: Vec<_> = x[p as usize]
                .iter()
                .filter(|(k, v)| theirs.get(*k) != Some(v))
                .map(|(k, v)| format!("{k}: testpmd {v}, proc-info {:?}", theirs.get(k)))
                .collect();
            format!(
                "port {p} xstats differ ({} vs {} names): {diff:?}",
                x[p as usize].len(),
                theirs.len()
            )
        });
        // The device's own counters are there too, and the cable adds up.
        let q: u64 = (0..QUEUES)
            .map(|q| get(&theirs, &format!("rx_q{q}_packets")))
            .sum();
        tp.check(q == get(&theirs, "rx_good_packets"), || {
            format!("port {p}: queues sum to {q}")
        });
    }
    let x0 = parse::xstats(section(&xout, "NIC extended statistics for port", 0));
    let x1 = parse::xstats(section(&xout, "NIC extended statistics for port", 1));
    tp.check(
        get(&x0, "mac_tx_frames_ok") == get(&x1, "mac_rx_frames_ok"),
        || "port 0 sent what port 1's MAC received".into(),
    );
    tp.check(
        (0..QUEUES).all(|q| get(&x0, &format!("rx_q{q}_packets")) > 0),
        || format!("RSS used every queue: {x0:?}"),
    );

    // --- firmware version, port and queue information, RSS.
    let out = proc_info(&["--firmware-version", "--show-port", "--show-rss-reta"]);
    for p in 0..2 {
        tp.check(
            out.contains(&format!("Ethdev port {p} firmware version: {fw}")),
            || format!("firmware version {fw} for port {p}:\n{out}"),
        );
    }
    let port0 = section(&out, "===== Port", 0);
    for want in [
        "driver net_fbnic device net_fbnic0",
        "Link up at 100 Gbps",
        "mac 02:1D:9B:00:00:00",
        "flow control mode full",
        "key len : 40",
        "key (hex) : 6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa",
        "burst mode : Scalar, one doorbell per burst",
    ] {
        tp.check(port0.contains(want), || format!("{want:?} missing:\n{port0}"));
    }
    for q in 0..QUEUES {
        let rx = format!("-- {q} descriptors 1024 rx buffer size");
        tp.check(port0.contains(&rx), || format!("{rx:?} missing:\n{port0}"));
    }
    let re = Regex::new(r"RSS RETA configuration: hash index=(\d+), queue=(\d+)").unwrap();
    let reta_text = &out[out.find("RSS RETA").unwrap_or(0)..];
    let reta_text = &reta_text[..reta_text.find("===== Port 1").unwrap_or(reta_text.len())];
    let theirs: BTreeMap<usize, u16> = re
        .captures_iter(reta_text)
        .map(|c| (c[1].parse().unwrap(), c[2].parse().unwrap()))
        .collect();
    let ours = tp.reta(0);
    tp.check(ours.len() == 256 && theirs == ours, || {
        format!(
            "RETA: proc-info {} entries, testpmd {}; differ",
            theirs.len(),
            ours.len()
        )
    });

    // --- the register dump: the file proc-info writes holds the primary's registers.
    let dir = &fbnic_it::setup::env().scratch;
    let file = dir.join("secondary-regs");
    let out = proc_info(&["--dump-regs", &file.display().to_string()]);
    tp.check(
        out.contains(
            "Device (net_fbnic0) regs dumped successfully, driver:net_fbnic version:0X00010013",
        ),
        || format!("register dump:\n{out}"),
    );
    let bytes = std::fs::read(format!("{}-port0", file.display())).expect("the dump file");
    tp.check(bytes.len() == regdump::LEN * 4, || {
        format!("{} bytes, want {}", bytes.len(), regdump::LEN * 4)
    });
    let word = |reg: u32| {
        let i = regdump::index_of(reg).expect("a dumped register") * 4;
        u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap())
    };
    tp.check(word(regs::rpc_rss_key(0)) == 0x6d5a_56da, || {
        format!("RSS key word 0 reads {:#x}", word(regs::rpc_rss_key(0)))
    });
    let frames: u64 = (0..QUEUES as u32)
        .map(|q| u64::from(word(regs::RDE_PKT_CNT.at(q))))
        .sum();
    let hw: u64 = (0..QUEUES)
        .map(|q| get(&x0, &format!("rx_q{q}_hw_packets")) % (1 << 32))
        .sum();
    tp.check(frames == hw, || {
        format!("RDE_PKT_CNT sums to {frames}, the device counters to {hw}")
    });

    // --- the private dump, from the primary: the port's state and each ring as the device's
    // registers show it. Forwarding stopped with frames in flight: what the device
    // completed and the driver has not taken (two completions a frame, from the driver's
    // head doorbell to the device's tail) is what the extended statistics say the device
    // delivered and the application did not receive.
    let out = proc_info(&["--show-port-private"]);
    let dump = section(&out, "===== Port", 0);
    let num = |line: &str, after: &str| -> u64 {
        line.split(after)
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {after:?} number in {line}"))
    };
    tp.check(
        dump.contains("\nnet_fbnic0: net_fbnic port state\n")
            && dump.contains("started: yes, link: up")
            && dump.contains("owner yes")
            && dump.contains("table entries per queue [64, 64, 64, 64]"),
        || format!("private dump of port 0:\n{out}"),
    );
    let rxq: Vec<&str> = dump.lines().filter(|l| l.contains(" rxq ")).collect();
    let txq: Vec<&str> = dump.lines().filter(|l| l.contains(" txq ")).collect();
    tp.check(rxq.len() == QUEUES && txq.len() == QUEUES, || {
        format!("{QUEUES} Rx and Tx queue lines expected:\n{dump}")
    });
    for (q, line) in rxq.iter().enumerate() {
        let hw = get(&x0, &format!("rx_q{q}_hw_packets"));
        let waiting = hw - get(&x0, &format!("rx_q{q}_packets"));
        let size = num(line, "RCQ enabled, ");
        let pending = (num(line, "device tail ") + size - num(line, "driver head ")) % size;
        tp.check(
            num(line, "packets ") == hw % (1 << 32) && pending == 2 * waiting,
            || format!("rxq {q}: {line} (rx_q{q}_hw_packets {hw}, {waiting} not received)"),
        );
    }
    for (q, line) in txq.iter().enumerate() {
        tp.check(
            num(line, "driver tail ") == num(line, "device head ") && num(line, "packets ") > 0,
            || format!("txq {q}: {line}"),
        );
    }

    // --- the descriptor dumps, from the primary. Rx queue 0 from the driver's head: the
    // completions the private dump counted as waiting are written (a PAY_AL then a META per
    // frame), the rest hold the previous lap's.
    let (size, head, tail) = (
        num(rxq[0], "RCQ enabled, "),
        num(rxq[0], "driver head "),
        num(rxq[0], "device tail "),
    );
    let pending = (tail + size - head) % size;
    let out = proc_info(&["--show-rx-descriptor", "0:0:8"]);
    let d = section(&out, "Dump ethdev Rx descriptor for port", 0);
    let slots: Vec<&str> = d.lines().filter(|l| l.starts_with("  [")).collect();
    tp.check(
        d.contains(&format!(
            "rxq 0: {size} entries, RCQ driver head {head}, device tail {tail}; 8 from offset 0:"
        )) && slots.len() == 8,
        || format!("Rx descriptor dump of queue 0 (head {head}, tail {tail}):\n{out}"),
    );
    for (k, line) in slots.iter().enumerate() {
        let k = k as u64;
        let want_slot = format!("  [{:5}] ", (head + k) % size);
        let ok = if k < pending {
            let ty = if k % 2 == 0 {
                "PAY_AL buf "
            } else {
                "META hash "
            };
            line.contains(ty) && line.ends_with("(written, waiting for the driver)")
        } else {
            line.ends_with("(previous lap)")
        };
        tp.check(line.starts_with(&want_slot) && ok, || {
            format!("Rx slot {k} of the dump ({pending} waiting): {line}\n{out}")
        });
    }
    let out = proc_info(&["--show-rx-descriptor", &format!("0:{size}:2")]);
    tp.check(
        out.contains("Error dumping ethdev Rx descriptor: Invalid argument"),
        || format!("an offset past the ring must be refused:\n{out}"),
    );
    // Tx queue 0: forwarding stopped, the device consumed everything (every slot free); the
    // two slots before the tail are the last burst's last frame: its META (no offloads in io
    // forwarding; the burst's completion asked on it), then one 64-byte piece.
    let (size, tail) = (num(txq[0], "TWQ enabled, "), num(txq[0], "driver tail "));
    let out = proc_info(&["--show-tx-descriptor", &format!("0:{}:2", size - 2)]);
    let d = section(&out, "Dump ethdev Tx descriptor for port", 0);
    let slots: Vec<&str> = d.lines().filter(|l| l.starts_with("  [")).collect();
    tp.check(
        d.contains(&format!(
            "txq 0: {size} entries, TWQ driver tail {tail}, device head {tail}; 2 from offset {}:",
            size - 2
        )) && slots.len() == 2
            && slots[0].contains(" META completion to mac ")
            && slots[1].contains(" LAST_AL addr ")
            && slots[1].contains(" len 64 (free)")
            && slots.iter().all(|l| l.ends_with("(free)")),
        || format!("Tx descriptor dump of queue 0 (tail {tail}):\n{out}"),
    );

    // --- a reset from the secondary clears the primary's counters.
    proc_info(&["--stats-reset"]);
    let after = tp.stats(0);
    tp.check(get(&after, "RX-packets") == 0, || {
        format!("after proc-info --stats-reset: {after:?}")
    });

    tp.quit();
    remove_prefix_files(PREFIX);
}

/// DPDK's telemetry (`dpdk-telemetry.py`, the socket monitoring agents read) on a running
/// testpmd: ethdev's own handlers call the driver, so what it shows is what the driver
/// answers. The link, the private dump (ethdev writes it into an 8 KiB memory stream, which
/// 24 queues' lines overflow: the start arrives, the rest is cut), the
/// module EEPROM decoded by ethdev's SFF-8636 parser from what the driver reads through the
/// firmware, and the extended statistics (the first 256: telemetry's dictionary limit),
/// equal to testpmd's own once forwarding stopped.
#[test]
fn telemetry_reads_ports_of_a_running_testpmd() {
    const TPREFIX: &str = "fbnic-it-telemetry";
    remove_prefix_files(TPREFIX);
    let mut tp = TestPmd::start_primary(
        "testpmd-telemetry",
        TPREFIX,
        &["net_fbnic0", "net_fbnic1"],
        &[
            "--nb-cores=1",
            "--rxq=24",
            "--txq=24",
            "--rss-ip",
            "--txonly-multi-flow",
        ],
    );
    tp.cmd("set fwd io");
    tp.cmd("start tx_first 4");
    std::thread::sleep(Duration::from_millis(1000));
    tp.cmd("stop");
    let x = tp.settle(&[0])[0].clone();

    let cmds = [
        "/ethdev/link_status,0",
        "/ethdev/dump_priv,0",
        "/ethdev/module_eeprom,0",
        "/ethdev/xstats,0",
    ];
    let script = format!(
        "printf '{}\\n' | python3 /usr/bin/dpdk-telemetry.py -f {TPREFIX}",
        cmds.join("\\n")
    );
    let run = dpdk::run(
        "telemetry",
        "sh",
        &["-c".to_string(), script],
        Duration::from_secs(60),
    );
    run.check(run.status().success(), || "dpdk-telemetry.py failed".into());
    let out = run.text();
    let reply = |cmd: &str| -> String {
        let key = format!("{{\"{}\": ", cmd.split(',').next().unwrap());
        out.lines()
            .find(|l| l.starts_with(&key))
            .unwrap_or_else(|| tp.fail(&format!("no reply to {cmd} in:\n{out}")))
            .to_string()
    };
    let link = reply(cmds[0]);
    tp.check(
        link.contains("\"status\": \"UP\"") && link.contains("\"speed\": 100000"),
        || format!("link status: {link}"),
    );
    // 24 queues make a dump longer than telemetry's 8 KiB stream: the port's state and the
    // first queues arrive, the rest is cut (not the whole reply lost).
    let dump = reply(cmds[1]);
    tp.check(
        dump.contains(
            "net_fbnic0: net_fbnic port state\\n  started: yes, link: up, 100G-CR2, FEC RS",
        ) && dump.contains("\\n  rxq 0: RCQ enabled")
            && dump.contains("\\n  rxq 20: RCQ enabled")
            && !dump.contains("\\n  txq 23: ")
            && dump.len() > 8000,
        || format!("private dump ({} bytes): {dump}", dump.len()),
    );
    let eeprom = reply(cmds[2]);
    for want in [
        "\"Identifier\": \"0x11 (QSFP28)\"",
        "\"Transceiver type\": \"100G Ethernet: 100G Base-CR4 or 25G Base-CR CA-L\"",
        "\"Vendor name\": \"FBNIC-MODEL\"",
        "\"Length (Copper or Active cable)\": \"1m\"",
    ] {
        tp.check(eeprom.contains(want), || {
            format!("module EEPROM: {want} expected in {eeprom}")
        });
    }
    let xstats = reply(cmds[3]);
    let re = Regex::new(r#""([a-z0-9_]+)": (\d+)"#).unwrap();
    let theirs: BTreeMap<String, u64> = re
        .captures_iter(&xstats)
        .map(|c| (c[1].to_string(), c[2].parse().unwrap()))
        .collect();
    // Telemetry's dictionaries hold 256 entries (RTE_TEL_MAX_DICT_ENTRIES): with 24 queues
    // the port has more, and the first 256 arrive, each equal to testpmd's.
    let wrong: Vec<_> = theirs
        .iter()
        .filter(|(k, v)| x.get(*k) != Some(v))
        .map(|(k, v)| format!("{k}: telemetry {v}, testpmd {:?}", x.get(k)))
        .collect();
    tp.check(
        x.len() > 256 && theirs.len() == 256 && wrong.is_empty(),
        || {
            format!(
                "xstats: {} from telemetry, {} in testpmd; differing: {wrong:?}",
                theirs.len(),
                x.len()
            )
        },
    );
    tp.quit();
    remove_prefix_files(TPREFIX);
}
