//! A scripted interactive dpdk-testpmd session on two cabled net_fbnic ports with 4 Rx and
//! 4 Tx queues each: every command's effect is checked, in what testpmd shows back and, where
//! it has one, in the traffic.
//!
//! Traffic in this session is `rxonly` with `start tx_first N`: every stream (4 per port)
//! sends N bursts of 32 UDP/IPv4 packets (`--txonly-multi-flow`: a different source address
//! per packet, so RSS spreads them) and nothing is forwarded, so port 0 receives exactly what
//! port 1 sent, or drops it and counts it.

use std::time::Duration;

use fbnic_it::dpdk::{assert_no_driver_lines, driver_log_lines, show, TestPmd};
use fbnic_it::parse::{get, sum_where, Counters};
use regex::Regex;

const QUEUES: usize = 4;
const DEFAULT_KEY: &str =
    "6D5A56DA255B0EC24167253D43A38FB0D0CA2BCBAE7B30B477CB2DA38030F20C6A42B73BBEAC01FA";
const NEW_KEY: &str =
    "3C9E2107B45DE8167AC3924F0BD16628F5138A5C2E9741BD6F08CA3574E219A653DF0C813B6EF024";
const ALL_RETA: &str =
    "(0xffffffffffffffff,0xffffffffffffffff,0xffffffffffffffff,0xffffffffffffffff)";

/// testpmd on 4 queues per port with RSS, sending UDP from port 1234 to 4789, a different
/// source address per packet (the flow rule and port reset sessions).
const RSS_UDP_ARGS: &[&str] = &[
    "--nb-cores=1",
    "--rxq=4",
    "--txq=4",
    "--total-num-mbufs=16384",
    "--rss-ip",
    "--txonly-multi-flow",
    "--tx-udp=1234,4789",
];

/// What one burst did at port 0.
struct Burst {
    /// Packets port 1 sent.
    sent: u64,
    /// Packets testpmd received on port 0.
    received: u64,
    /// Port 0's extended statistics.
    x: Counters,
    /// Port 0's statistics.
    s: Counters,
}

impl Burst {
    fn per_queue(&self) -> Vec<u64> {
        (0..QUEUES)
            .map(|q| get(&self.x, &format!("rx_q{q}_hw_packets")))
            .collect()
    }
}

/// Clears the counters, sends `bursts` tx_first bursts per stream and waits until port 1 sent
/// all of them and they reached port 0's MAC, then until port 0 settled; stops.
fn burst(tp: &mut TestPmd, bursts: u64) -> Burst {
    let want = QUEUES as u64 * 32 * bursts;
    tp.cmd("clear port stats all");
    tp.cmd(&format!("start tx_first {bursts}"));
    tp.wait_until(
        "port 1 to send and port 0's MAC to receive",
        Duration::from_secs(30),
        |t| get(&t.stats(1), "TX-packets") == want && get(&t.xstats(0), "mac_rx_frames_ok") == want,
    );
    // Whatever port 0 delivers, testpmd receives; wait until that count stops moving.
    let mut last = u64::MAX;
    tp.wait_until("port 0 to settle", Duration::from_secs(10), |t| {
        std::thread::sleep(Duration::from_millis(100));
        let now = get(&t.stats(0), "RX-packets");
        let done = now == last;
        last = now;
        done
    });
    tp.cmd("stop");
    let x = tp.xstats(0);
    let s = tp.stats(0);
    Burst {
        sent: want,
        received: get(&s, "RX-packets"),
        x,
        s,
    }
}

/// Sends a burst that port 0 must accept entirely.
fn expect_received(tp: &mut TestPmd, what: &str) -> Burst {
    let b = burst(tp, 1);
    tp.check(b.received == b.sent && rx_hw(&b) == b.sent, || {
        format!(
            "{what}: port 1 sent {}, port 0 received {} (device delivered {}): {}",
            b.sent,
            b.received,
            rx_hw(&b),
            show(&b.x)
        )
    });
    b
}

/// Sends a burst that port 0's MAC address filter must drop (and count).
fn expect_filtered(tp: &mut TestPmd, what: &str) -> Burst {
    let b = burst(tp, 1);
    tp.check(b.received == 0 && rx_hw(&b) == 0, || {
        format!(
            "{what}: port 0 received {} of {} packets it should have filtered: {}",
            b.received,
            b.sent,
            show(&b.x)
        )
    });
    tp.check(get(&b.x, "rpc_macda_miss_drops") == b.sent, || {
        format!(
            "{what}: {} packets filtered but rpc_macda_miss_drops = {}",
            b.sent,
            get(&b.x, "rpc_macda_miss_drops")
        )
    });
    b
}

fn rx_hw(b: &Burst) -> u64 {
    sum_where(&b.x, |k| {
        k.starts_with("rx_q") && k.ends_with("_hw_packets")
    })
}

/// `show port 0 rss reta 256 (...)`: the 256 entries.
fn reta(tp: &mut TestPmd) -> Vec<u16> {
    let out = tp.cmd(&format!("show port 0 rss reta 256 {ALL_RETA}"));
    let re = Regex::new(r"hash index=(\d+), queue=(\d+)").unwrap();
    let mut t = vec![u16::MAX; 256];
    for c in re.captures_iter(&out) {
        t[c[1].parse::<usize>().unwrap()] = c[2].parse().unwrap();
    }
    tp.check(t.iter().all(|&q| q != u16::MAX), || {
        format!("incomplete redirection table:\n{out}")
    });
    t
}

/// Writes every entry of port 0's redirection table (`port config 0 rss reta`, a dozen
/// entries per command: testpmd takes at most 127 characters of list).
fn set_reta(tp: &mut TestPmd, queue: impl Fn(usize) -> usize) {
    let entries: Vec<String> = (0..256).map(|i| format!("({i},{})", queue(i))).collect();
    for chunk in entries.chunks(12) {
        let c = format!("port config 0 rss reta {}", chunk.join(","));
        let out = tp.cmd(&c);
        tp.check(!out.contains("Bad") && !out.contains("rror"), || {
            format!("{c}:\n{out}")
        });
    }
}

/// `show port 0 rss-hash key`: (functions line, key).
fn rss_hash_key(tp: &mut TestPmd) -> (String, String) {
    let out = tp.cmd("show port 0 rss-hash key");
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    let funcs = lines
        .iter()
        .position(|l| *l == "RSS functions:")
        .and_then(|i| lines.get(i + 1))
        .map(|s| s.to_string());
    let key = lines
        .iter()
        .position(|l| *l == "RSS key:")
        .and_then(|i| lines.get(i + 1))
        .map(|s| s.to_string());
    match (funcs, key) {
        (Some(f), Some(k)) => (f, k),
        _ => tp.fail(&format!("cannot read the RSS configuration:\n{out}")),
    }
}

/// The bytes of an `rte_hexdump` ("00000010: 4E 49 ... | text" per line).
fn hexdump_bytes(out: &str) -> Vec<u8> {
    let line = Regex::new(r"(?m)^[0-9A-F]{8}:((?: [0-9A-F]{2})+)").unwrap();
    line.captures_iter(out)
        .flat_map(|c| {
            c[1].split_whitespace()
                .map(|b| u8::from_str_radix(b, 16).unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn functions(tp: &mut TestPmd) -> Vec<String> {
    let out = tp.cmd("show port 0 rss-hash");
    let i = out
        .find("RSS functions:")
        .unwrap_or_else(|| tp.fail(&format!("no RSS functions:\n{out}")));
    let mut f: Vec<String> = out[i + "RSS functions:".len()..]
        .split_whitespace()
        .map(String::from)
        .collect();
    f.sort();
    f
}

fn sorted(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn interactive_session() {
    let mut tp = TestPmd::start(
        "testpmd-session",
        &["net_fbnic0", "net_fbnic1"],
        &[],
        &[
            "--nb-cores=1",
            "--rxq=4",
            "--txq=4",
            "--total-num-mbufs=16384",
            "--rss-ip",
            "--txonly-multi-flow",
            "--print-event=intr_lsc",
        ],
    );

    // --- show port info: the driver's honest limits and state.
    let info = tp.cmd_expect(
        "show port info 0",
        &[
            "Driver name: net_fbnic",
            "Device name: net_fbnic0",
            "MAC address: 02:1D:9B:00:00:00",
            "Link status: up",
            "Link speed: 100 Gbps",
            "Link duplex: full-duplex",
            "MTU: 1500",
            "Promiscuous mode: enabled",
            "Allmulticast mode: disabled",
            "Maximum number of MAC addresses: 7",
            "Hash key size in bytes: 40",
            "Redirection table size: 256",
            "Current number of RX queues: 4",
            "Max possible RX queues: 128",
            "Current number of TX queues: 4",
            "Max possible TX queues: 128",
            "Max possible number of RXDs per queue: 32768",
            "Min possible number of RXDs per queue: 64",
            "Max segment number per packet: 32",
        ],
    );
    tp.check(
        Regex::new(r"Firmware-version: \d+\.\d+\.\d+\.\d+")
            .unwrap()
            .is_match(&info),
        || format!("no firmware version:\n{info}"),
    );
    for t in ["ipv4-tcp", "ipv4-udp", "ipv6-tcp", "ipv6-udp", "ipv4-other"] {
        tp.check(info.contains(t), || {
            format!("RSS type {t} not listed:\n{info}")
        });
    }
    tp.cmd_expect(
        "show port info 1",
        &["MAC address: 02:1D:9B:00:00:01", "Driver name: net_fbnic"],
    );

    // --- the module EEPROM, read by the driver through the firmware mailbox: testpmd dumps
    // it with rte_hexdump ("OFFSET: XX XX ... | text" lines).
    let dump = tp.cmd_expect(
        "show port 0 module_eeprom",
        &["Finish -- Port: 0 MODULE EEPROM length: 256 bytes"],
    );
    let eeprom = hexdump_bytes(&dump);
    tp.check(eeprom.len() == 256, || format!("256 bytes dumped:\n{dump}"));
    tp.check(eeprom.first() == Some(&0x11), || {
        format!("identifier QSFP28 (0x11):\n{dump}")
    });
    tp.check(
        eeprom.get(148..164) == Some(&b"FBNIC-MODEL     "[..]),
        || format!("vendor name at 148:\n{dump}"),
    );

    // --- link flow control: both pause directions by default; one turned off; settings
    // the device does not have are refused.
    tp.cmd_expect("show port 0 flow_ctrl", &["Rx pause: on", "Tx pause: on"]);
    tp.cmd("set flow_ctrl rx off 0");
    tp.cmd_expect("show port 0 flow_ctrl", &["Rx pause: off", "Tx pause: on"]);
    tp.cmd_expect(
        "set flow_ctrl pause_time 100 0",
        &["bad flow control parameter, return code = -22"],
    );
    tp.cmd_expect(
        "set flow_ctrl autoneg on 0",
        &["bad flow control parameter, return code = -95"],
    );
    tp.cmd("set flow_ctrl rx on 0");
    tp.cmd_expect("show port 0 flow_ctrl", &["Rx pause: on", "Tx pause: on"]);

    // --- link down and up: both ends of the cable see it, as link state change events
    // (raised from the driver's alarm, so they race testpmd's prompt).
    for (cmd, state) in [
        ("set link-down port 1", "down"),
        ("set link-up port 1", "up"),
    ] {
        let out = tp.cmd_racing(
            cmd,
            "Port 0: link state change event",
            Duration::from_secs(5),
        );
        tp.check(out.contains("Port 1: link state change event"), || {
            format!("{cmd}: no event from port 1:\n{out}")
        });
        for p in 0..2 {
            tp.cmd_expect(
                &format!("show port info {p}"),
                &[&format!("Link status: {state}")],
            );
        }
    }
    tp.cmd_expect("set fwd rxonly", &["Set rxonly packet forwarding mode"]);

    // --- stats and xstats: zero, then moved by traffic, then cleared.
    let s = tp.stats(0);
    tp.check(
        get(&s, "RX-packets") == 0 && get(&s, "TX-packets") == 0,
        || format!("counters not zero before any traffic: {s:?}"),
    );
    let b = expect_received(&mut tp, "plain traffic");
    tp.check(get(&b.s, "RX-bytes") == b.sent * 64, || {
        format!(
            "RX-bytes {} for {} 64-byte packets",
            get(&b.s, "RX-bytes"),
            b.sent
        )
    });
    tp.check(get(&b.s, "TX-packets") == b.sent, || {
        format!(
            "port 0 TX-packets {} (it sent as many as port 1)",
            get(&b.s, "TX-packets")
        )
    });
    for k in ["mac_rx_frames_ok", "mac_tx_frames_ok", "rx_good_packets"] {
        tp.check(get(&b.x, k) == b.sent, || {
            format!("{k} = {} after {}", get(&b.x, k), b.sent)
        });
    }
    for q in 0..QUEUES {
        // ethdev's per-queue counters (from our stats_get) agree with the device's.
        let (sw, hw) = (
            get(&b.x, &format!("rx_q{q}_packets")),
            get(&b.x, &format!("rx_q{q}_hw_packets")),
        );
        tp.check(sw == hw, || {
            format!("rx_q{q}_packets {sw} vs rx_q{q}_hw_packets {hw}")
        });
    }
    // Burst and doorbell xstats: each Rx burst that returned packets (at most 32) rang the
    // RCQ head; rxonly kept polling after the last frame; each Tx burst rang the TWQ tail
    // and each reclaim the TCQ head, nothing else.
    let mut tx_bursts = 0;
    for q in 0..QUEUES {
        let v = |k: &str| get(&b.x, &format!("{}_q{q}_{}", &k[..2], &k[3..]));
        let (pk, bu, db, ep) = (
            v("rx_packets"),
            v("rx_bursts"),
            v("rx_doorbells"),
            v("rx_empty_polls"),
        );
        tp.check(
            pk.div_ceil(32) <= bu && bu <= pk && db >= bu && ep > 0,
            || format!("rx queue {q}: packets {pk} bursts {bu} doorbells {db} empty polls {ep}"),
        );
        let (tbu, tre, tdb) = (v("tx_bursts"), v("tx_reclaims"), v("tx_doorbells"));
        tp.check(tdb == tbu + tre, || {
            format!("tx queue {q}: bursts {tbu} + reclaims {tre} != doorbells {tdb}")
        });
        tx_bursts += tbu;
    }
    tp.check(
        tx_bursts >= 1 && tx_bursts <= get(&b.s, "TX-packets"),
        || format!("tx bursts {tx_bursts}: {}", show(&b.x)),
    );
    let spread = b.per_queue();
    tp.check(spread.iter().filter(|&&n| n > 0).count() >= 2, || {
        format!("RSS (ip) used fewer than 2 of 4 queues: {spread:?}")
    });
    tp.cmd("clear port stats all");
    let x = tp.xstats(0);
    let s = tp.stats(0);
    tp.check(
        get(&s, "RX-packets") == 0
            && get(&x, "mac_rx_frames_ok") == 0
            && get(&x, "rx_q0_hw_packets") == 0,
        || format!("clear port stats left counters: {s:?} {}", show(&x)),
    );

    // --- RSS: key, hash types (shown back and in the traffic).
    let (funcs, key) = rss_hash_key(&mut tp);
    tp.check(key == DEFAULT_KEY, || format!("default key {key}"));
    tp.check(funcs.contains("ipv4") && funcs.contains("ipv6"), || {
        format!("RSS functions {funcs}")
    });
    tp.cmd("port config all rss tcp");
    let f = functions(&mut tp);
    tp.check(f == sorted(&["ipv4-tcp", "ipv6-tcp"]), || {
        format!("after 'rss tcp': {f:?}")
    });
    // UDP traffic is not hashed now: it all lands on one queue.
    let b = expect_received(&mut tp, "rss tcp");
    let q = b.per_queue();
    tp.check(q.iter().filter(|&&n| n > 0).count() == 1, || {
        format!("UDP traffic with TCP-only RSS spread over queues: {q:?}")
    });
    tp.cmd("port config all rss udp");
    let f = functions(&mut tp);
    tp.check(f == sorted(&["ipv4-udp", "ipv6-udp"]), || {
        format!("after 'rss udp': {f:?}")
    });
    let b = expect_received(&mut tp, "rss udp");
    let q = b.per_queue();
    tp.check(q.iter().filter(|&&n| n > 0).count() >= 2, || {
        format!("UDP traffic with UDP RSS did not spread: {q:?}")
    });
    tp.cmd("port config all rss ip");
    let f = functions(&mut tp);
    tp.check(
        f == sorted(&[
            "ipv4",
            "ipv4-frag",
            "ipv4-other",
            "ipv6",
            "ipv6-frag",
            "ipv6-other",
        ]),
        || format!("after 'rss ip': {f:?}"),
    );

    // --- Redirection table: four entries, then all to queue 2.
    let before = reta(&mut tp);
    tp.cmd_expect(
        "port config 0 rss reta (0,3),(1,2),(2,1),(3,0)",
        &["reta size of port 0 is 256"],
    );
    let after = reta(&mut tp);
    tp.check(
        after[..4] == [3, 2, 1, 0] && after[4..] == before[4..],
        || format!("RETA after updating entries 0-3: {:?}", &after[..16]),
    );
    set_reta(&mut tp, |_| 2);
    let all2 = reta(&mut tp);
    tp.check(all2.iter().all(|&q| q == 2), || {
        "RETA not all queue 2".to_string()
    });
    let b = expect_received(&mut tp, "reta all 2");
    let q = b.per_queue();
    tp.check(q[2] == b.sent, || {
        format!("with every RETA entry on queue 2, queues got {q:?}")
    });

    // --- RSS key.
    let out = tp.cmd(&format!("port config 0 rss-hash-key ipv4 {NEW_KEY}"));
    tp.check(
        !out.contains("nvalid") && !out.contains("NET_FBNIC"),
        || format!("setting the key:\n{out}"),
    );
    let (_, key) = rss_hash_key(&mut tp);
    tp.check(key == NEW_KEY, || format!("key after update: {key}"));
    // testpmd 22.11 also sets the hash types to the one named in the command.
    let f = functions(&mut tp);
    tp.check(f == sorted(&["ipv4", "ipv4-frag", "ipv4-other"]), || {
        format!("hash types after 'rss-hash-key ipv4': {f:?}")
    });

    // --- port stop/start: link goes down and up; RSS settings survive.
    tp.cmd("port stop 0");
    tp.cmd_expect("show port info 0", &["Link status: down"]);
    let sum = tp.cmd("show port summary all");
    tp.check(
        Regex::new(r"(?m)^0\s+02:1D:9B:00:00:00\s+net_fbnic0\s+net_fbnic\s+down")
            .unwrap()
            .is_match(&sum),
        || format!("port 0 not down:\n{sum}"),
    );
    let out = tp.cmd("port start 0");
    tp.check(!out.contains("Fail"), || format!("port start 0:\n{out}"));
    tp.cmd_expect(
        "show port info 0",
        &["Link status: up", "Link speed: 100 Gbps"],
    );
    let (_, key) = rss_hash_key(&mut tp);
    tp.check(key == NEW_KEY, || format!("key after stop/start: {key}"));
    let t = reta(&mut tp);
    tp.check(t.iter().all(|&q| q == 2), || {
        "RETA lost at stop/start".to_string()
    });
    let b = expect_received(&mut tp, "after port stop/start");
    tp.check(b.per_queue()[2] == b.sent, || {
        "RETA not in force after restart".into()
    });
    // Back to a spread table for what follows.
    set_reta(&mut tp, |i| i % QUEUES);

    // --- MAC address filter: promiscuous mode, extra unicast addresses, all-multicast.
    tp.cmd("set promisc 0 off");
    tp.cmd_expect("show port info 0", &["Promiscuous mode: disabled"]);
    tp.cmd("set eth-peer 1 02:AA:BB:CC:DD:EE");
    expect_filtered(&mut tp, "foreign unicast, promiscuous off");
    tp.cmd("mac_addr add 0 02:AA:BB:CC:DD:EE");
    tp.cmd_expect(
        "show port 0 macs",
        &[
            "Number of MAC address added: 2",
            "02:1D:9B:00:00:00",
            "02:AA:BB:CC:DD:EE",
        ],
    );
    expect_received(&mut tp, "an added unicast address");
    tp.cmd("mac_addr remove 0 02:AA:BB:CC:DD:EE");
    let macs = tp.cmd_expect("show port 0 macs", &["Number of MAC address added: 1"]);
    tp.check(!macs.contains("02:AA:BB:CC:DD:EE"), || {
        format!("removed address still listed:\n{macs}")
    });
    expect_filtered(&mut tp, "a removed unicast address");
    tp.cmd("set promisc 0 on");
    tp.cmd_expect("show port info 0", &["Promiscuous mode: enabled"]);
    expect_received(&mut tp, "foreign unicast, promiscuous on");
    tp.cmd("set promisc 0 off");
    tp.cmd("set eth-peer 1 02:1D:9B:00:00:00");
    expect_received(&mut tp, "the port's own address, promiscuous off");
    tp.cmd("set eth-peer 1 FF:FF:FF:FF:FF:FF");
    let b = expect_received(&mut tp, "broadcast, promiscuous off");
    tp.check(get(&b.x, "mac_rx_broadcast") == b.sent, || {
        format!("mac_rx_broadcast {}", get(&b.x, "mac_rx_broadcast"))
    });
    tp.cmd("set eth-peer 1 01:00:5E:00:00:42");
    tp.cmd("set allmulti 0 off");
    expect_filtered(&mut tp, "multicast, all-multicast off");
    tp.cmd("set allmulti 0 on");
    tp.cmd_expect("show port info 0", &["Allmulticast mode: enabled"]);
    let b = expect_received(&mut tp, "multicast, all-multicast on");
    tp.check(get(&b.x, "mac_rx_multicast") == b.sent, || {
        format!("mac_rx_multicast {}", get(&b.x, "mac_rx_multicast"))
    });
    tp.cmd("set allmulti 0 off");
    tp.cmd_expect("show port info 0", &["Allmulticast mode: disabled"]);
    // The multicast list: listed groups pass, others do not.
    tp.cmd("mcast_addr add 0 01:00:5E:00:00:42");
    tp.cmd_expect(
        "show port 0 mcast_macs",
        &[
            "Number of Multicast MAC address added: 1",
            "01:00:5E:00:00:42",
        ],
    );
    expect_received(&mut tp, "a multicast group in the list");
    tp.cmd("set eth-peer 1 01:00:5E:00:00:43");
    expect_filtered(&mut tp, "a multicast group not in the list");
    tp.cmd("set eth-peer 1 01:00:5E:00:00:42");
    tp.cmd("mcast_addr remove 0 01:00:5E:00:00:42");
    expect_filtered(&mut tp, "a multicast group removed from the list");
    // A new primary address: traffic to it passes, to the old one not.
    tp.cmd("mac_addr set 0 02:00:00:00:00:99");
    tp.cmd_expect("show port info 0", &["MAC address: 02:00:00:00:00:99"]);
    tp.cmd("set eth-peer 1 02:00:00:00:00:99");
    expect_received(&mut tp, "the new primary address");
    tp.cmd("set eth-peer 1 02:1D:9B:00:00:00");
    expect_filtered(&mut tp, "the old primary address");
    tp.cmd("mac_addr set 0 02:1D:9B:00:00:00");
    tp.cmd_expect("show port info 0", &["MAC address: 02:1D:9B:00:00:00"]);
    expect_received(&mut tp, "the primary address set back");

    // --- MTU: 1600-byte frames are too long for MTU 1500 and fine for MTU 2000.
    tp.cmd("port config mtu 1 2000");
    tp.cmd("set txpkts 1600");
    let b = burst(&mut tp, 1);
    tp.check(b.received == 0 && rx_hw(&b) == 0, || {
        format!(
            "{}-byte frames accepted with MTU 1500: {}",
            1600,
            show(&b.x)
        )
    });
    tp.check(
        get(&b.x, "rpc_oversize_drops")
            + get(&b.x, "mac_rx_toolong")
            + get(&b.x, "mac_rx_oversize")
            >= b.sent,
        || format!("oversize frames not counted: {}", show(&b.x)),
    );
    let out = tp.cmd("port config mtu 0 2000");
    tp.check(!out.contains("fail") && !out.contains("NET_FBNIC"), || {
        format!("MTU 2000:\n{out}")
    });
    tp.cmd_expect("show port info 0", &["MTU: 2000"]);
    let b = expect_received(&mut tp, "1600-byte frames with MTU 2000");
    tp.check(get(&b.s, "RX-bytes") == b.sent * 1600, || {
        format!("RX-bytes {}", get(&b.s, "RX-bytes"))
    });
    tp.cmd_expect(
        "port config mtu 0 9725",
        &["MTU (9725) > device max MTU (9724) for port_id 0"],
    );
    tp.cmd_expect("show port info 0", &["MTU: 2000"]);

    // --- descriptor status and Rx queue count. Idle: nothing waiting, every Tx slot free.
    tp.cmd_expect(
        "show port 0 rxq 0 desc used count",
        &["Used desc count = 0"],
    );
    tp.cmd_expect(
        "show port 0 rxq 0 desc 0 status",
        &["Desc status = AVAILABLE"],
    );
    tp.cmd_expect("show port 0 txq 0 desc 0 status", &["Desc status = DONE"]);
    tp.cmd_expect(
        "show port 0 rxq 0 desc 5000 status",
        &["Invalid input: queue id = 0, desc id = 5000"],
    );
    // io with tx_first: one burst of 32 per stream (2 ports x 4 queues) goes round; once
    // stopped, all 256 frames wait in the Rx rings.
    tp.cmd("set fwd io");
    tp.cmd("start tx_first");
    std::thread::sleep(Duration::from_millis(300));
    tp.cmd("stop");
    std::thread::sleep(Duration::from_millis(300));
    let mut waiting = 0;
    let used = Regex::new(r"Used desc count = (\d+)").unwrap();
    for p in 0..2 {
        for q in 0..4 {
            let out = tp.cmd(&format!("show port {p} rxq {q} desc used count"));
            let n: u64 = used.captures(&out).map_or(0, |c| c[1].parse().unwrap());
            if n > 0 {
                tp.cmd_expect(
                    &format!("show port {p} rxq {q} desc 0 status"),
                    &["Desc status = DONE"],
                );
                tp.cmd_expect(
                    &format!("show port {p} rxq {q} desc {n} status"),
                    &["Desc status = AVAILABLE"],
                );
            }
            waiting += n;
        }
    }
    tp.check(waiting == 256, || {
        format!("{waiting} frames waiting, not 256")
    });

    // The driver logged only the two flow control settings it refused, saying why.
    let text = tp.quit();
    let (refused, other): (Vec<_>, Vec<_>) = driver_log_lines(&text)
        .into_iter()
        .partition(|l| l.contains("flow_ctrl_set:"));
    assert!(
        other.is_empty(),
        "driver warnings or errors:\n{}",
        other.join("\n")
    );
    assert!(
        refused.len() == 2
            && refused[0].contains("pause_time 100")
            && refused[1].contains("pause autonegotiation"),
        "flow control refusals: {refused:?}"
    );
}

/// Devargs take effect: a MAC address, link modes (the speed the firmware reports, shown by
/// testpmd), and wiring: net_fbnic0 and net_fbnic2 share `wire=cable:a`, net_fbnic1 and
/// net_fbnic3 have loopback plugs (net_fbnic3 with a BMC). Traffic sent from each port lands
/// where its wire goes.
#[test]
fn devargs_take_effect() {
    let mut tp = TestPmd::start(
        "devargs",
        &[
            "net_fbnic0,wire=cable:a,mac=02:11:22:33:44:55,link=25G-CR",
            "net_fbnic1,wire=loop,link=50G-CR2",
            "net_fbnic2,wire=cable:a,link=25G-CR",
            "net_fbnic3,wire=loop,bmc=1",
        ],
        &[],
        &["--total-num-mbufs=16384"],
    );
    let sum = tp.cmd("show port summary all");
    for (p, mac, speed) in [
        (0, "02:11:22:33:44:55", "25 Gbps"),
        (1, "02:1D:9B:00:00:01", "50 Gbps"),
        (2, "02:1D:9B:00:00:02", "25 Gbps"),
        (3, "02:1D:9B:00:00:03", "100 Gbps"),
    ] {
        let re = Regex::new(&format!(
            r"(?m)^{p}\s+{mac}\s+net_fbnic{p}\s+net_fbnic\s+up\s+{speed}"
        ))
        .unwrap();
        tp.check(re.is_match(&sum), || {
            format!("port {p}: expected {mac}, up, {speed}:\n{sum}")
        });
    }
    tp.cmd_expect(
        "show port info 0",
        &["MAC address: 02:11:22:33:44:55", "Link speed: 25 Gbps"],
    );
    tp.cmd("set fwd rxonly");
    // Ports 0 and 1 send one burst each: 0's reach 2 (cable a), 1's come back to 1.
    // Then ports 2 and 3: 2's reach 0, 3's come back to 3.
    for (list, want) in [("0,1", [0u64, 32, 32, 0]), ("2,3", [32, 0, 0, 32])] {
        tp.cmd("clear port stats all");
        tp.cmd(&format!("set portlist {list}"));
        tp.cmd("start tx_first");
        tp.wait_until("the bursts to arrive", Duration::from_secs(30), |t| {
            (0..4).all(|p| get(&t.xstats(p), "mac_rx_frames_ok") == want[p as usize])
        });
        tp.cmd("stop");
        for p in 0..4u16 {
            let n = get(&tp.xstats(p), "mac_rx_frames_ok");
            tp.check(n == want[p as usize], || {
                format!(
                    "ports {list} sent: port {p} received {n}, expected {}",
                    want[p as usize]
                )
            });
        }
    }
    let text = tp.quit();
    assert_no_driver_lines(&text);
}

/// Hot plug: a port created at run time (`port attach`), started, forwarding alone on its
/// loopback plug, then stopped, closed and removed (`device detach`); five times with the same
/// name, then the two ports from the command line still forward.
#[test]
fn hotplug_attach_detach() {
    let mut tp = TestPmd::start(
        "hotplug",
        &["net_fbnic0", "net_fbnic1"],
        &[],
        &["--total-num-mbufs=16384"],
    );
    for round in 0..5 {
        tp.cmd_expect(
            "port attach net_fbnic2,wire=loop",
            &["Port 2 is attached. Now total ports is 3"],
        );
        tp.cmd_expect("show port summary all", &["net_fbnic2"]);
        let out = tp.cmd("port start 2");
        tp.check(!out.contains("Fail"), || {
            format!("round {round}: port start 2:\n{out}")
        });
        tp.cmd("set portlist 2");
        tp.cmd("clear port stats 2");
        tp.cmd("start tx_first");
        tp.wait_until(
            "traffic on the attached port",
            Duration::from_secs(30),
            |t| get(&t.stats(2), "RX-packets") >= 10_000,
        );
        tp.cmd("stop");
        tp.cmd("port stop 2");
        tp.cmd_expect("port close 2", &["Port 2 is closed"]);
        tp.cmd_expect(
            "device detach net_fbnic2",
            &["Device net_fbnic2 is detached"],
        );
        tp.cmd_expect("show port summary all", &["Number of available ports: 2"]);
    }
    tp.cmd("set portlist 0,1");
    tp.cmd("clear port stats all");
    tp.cmd("start tx_first");
    tp.wait_until("traffic on ports 0 and 1", Duration::from_secs(30), |t| {
        get(&t.stats(0), "RX-packets") >= 10_000
    });
    tp.cmd("stop");
    let text = tp.quit();
    assert_no_driver_lines(&text);
}

/// One rxonly `tx_first` burst into port 0 (from whichever streams testpmd runs): waits until
/// port 1's count stops moving and port 0's MAC received all of it. Port 0's counters after.
fn burst_settled(tp: &mut TestPmd) -> Counters {
    tp.cmd("clear port stats all");
    tp.cmd("start tx_first");
    let mut last = u64::MAX;
    tp.wait_until("the burst to reach port 0", Duration::from_secs(30), |t| {
        std::thread::sleep(Duration::from_millis(100));
        let sent = get(&t.stats(1), "TX-packets");
        let got = get(&t.xstats(0), "mac_rx_frames_ok");
        let done = sent > 0 && sent == last && got == sent;
        last = sent;
        done
    });
    std::thread::sleep(Duration::from_millis(200));
    tp.cmd("stop");
    tp.xstats(0)
}

/// Rx queues started late and stopped at run time: queue 1 of port 0 set up with
/// deferred_start stays stopped at port start (traffic steered to it does not arrive),
/// `port 0 rxq 1 start` starts it (traffic arrives), `port 0 rxq 0 stop` stops queue 0 while
/// queue 1 keeps receiving, `port 0 rxq 0 setup` sets it up again with another ring size
/// while the port runs (as `port 1 txq 0 setup` does the sender's Tx queue 0), and `port 0
/// rxq 0 start` brings it back; testpmd shows each queue's state.
///
/// Frames steered to a stopped queue are dropped by the device and counted as that queue's
/// no-buffer drops (`rx_qN_no_buffer_drops`, part of imissed).
#[test]
fn deferred_and_runtime_queue_control() {
    let mut tp = TestPmd::start(
        "queue-control",
        &["net_fbnic0", "net_fbnic1"],
        &[],
        &[
            "--nb-cores=1",
            "--rxq=2",
            "--txq=2",
            "--total-num-mbufs=16384",
            "--rss-ip",
            "--txonly-multi-flow",
        ],
    );
    tp.cmd("set fwd rxonly");
    tp.cmd("port stop 0");
    tp.cmd("port 0 rxq 1 deferred_start on");
    let out = tp.cmd("port start 0");
    tp.check(!out.contains("Fail"), || format!("port start 0:\n{out}"));
    tp.cmd_expect(
        "show rxq info 0 1",
        &["RX deferred start: on", "Rx queue state: stopped"],
    );
    tp.cmd_expect(
        "show rxq info 0 0",
        &[
            "Rx queue state: started",
            "Burst mode: Scalar, one doorbell per burst",
        ],
    );
    // Everything to queue 1, which is not started: nothing arrives.
    set_reta(&mut tp, |_| 1);
    let x = burst_settled(&mut tp);
    tp.check(
        get(&x, "rx_q1_hw_packets") == 0
            && get(&x, "rx_q0_hw_packets") == 0
            && get(&x, "rx_good_packets") == 0,
        || format!("traffic arrived on a queue not started: {}", show(&x)),
    );
    tp.check(
        get(&x, "mac_rx_frames_ok") > 0
            && get(&x, "rx_q1_no_buffer_drops") == get(&x, "mac_rx_frames_ok")
            && get(&x, "rx_missed_errors") == get(&x, "mac_rx_frames_ok"),
        || format!("drops to the stopped queue not counted: {}", show(&x)),
    );
    // Queue 1 started: it receives everything.
    tp.cmd("port 0 rxq 1 start");
    tp.cmd_expect("show rxq info 0 1", &["Rx queue state: started"]);
    let x = burst_settled(&mut tp);
    let n = get(&x, "mac_rx_frames_ok");
    tp.check(
        get(&x, "rx_q1_hw_packets") == n && get(&x, "rx_q1_packets") == n,
        || format!("queue 1 did not receive all {n}: {}", show(&x)),
    );
    // Spread over both, then queue 0 stopped at run time: only queue 1 receives.
    set_reta(&mut tp, |i| i % 2);
    tp.cmd("port 0 rxq 0 stop");
    tp.cmd_expect("show rxq info 0 0", &["Rx queue state: stopped"]);
    let x = burst_settled(&mut tp);
    tp.check(
        get(&x, "rx_q0_hw_packets") == 0 && get(&x, "rx_q1_hw_packets") > 0,
        || format!("with queue 0 stopped: {}", show(&x)),
    );
    // Queue 0 set up again while the port runs (new rings of another size), and the
    // sender's Tx queue 0 too (runtime queue setup), then both started.
    tp.cmd("port config 0 rxq 0 ring_size 512");
    let out = tp.cmd("port 0 rxq 0 setup");
    tp.check(!out.contains("Fail"), || {
        format!("runtime Rx queue setup:\n{out}")
    });
    tp.cmd_expect("show rxq info 0 0", &["Number of RXDs: 512"]);
    tp.cmd("port 1 txq 0 stop");
    tp.cmd("port config 1 txq 0 ring_size 2048");
    let out = tp.cmd("port 1 txq 0 setup");
    tp.check(!out.contains("Fail"), || {
        format!("runtime Tx queue setup:\n{out}")
    });
    tp.cmd("port 1 txq 0 start");
    tp.cmd_expect(
        "show txq info 1 0",
        &[
            "Number of TXDs: 2048",
            "Tx queue state: started",
            "Burst mode: Scalar, one doorbell and one completion per burst",
        ],
    );
    // Both started again: both receive, nothing lost.
    tp.cmd("port 0 rxq 0 start");
    tp.cmd_expect("show rxq info 0 0", &["Rx queue state: started"]);
    let x = burst_settled(&mut tp);
    let n = get(&x, "mac_rx_frames_ok");
    tp.check(
        get(&x, "rx_q0_hw_packets") > 0
            && get(&x, "rx_q1_hw_packets") > 0
            && get(&x, "rx_q0_hw_packets") + get(&x, "rx_q1_hw_packets") == n
            && get(&x, "rx_good_packets") == n,
        || format!("with both queues started again: {}", show(&x)),
    );
    let text = tp.quit();
    assert_no_driver_lines(&text);
}

/// Flow rules (rte_flow) through testpmd's `flow` commands on port 0, with port 1 sending
/// UDP/IPv4 from source port 1234 to 4789 (`--tx-udp`) from many source addresses: a QUEUE
/// rule takes every packet to its queue (the RSS spread is gone); a DROP rule of a better
/// priority drops them all (counted as rpc_action_drops); destroying it, the QUEUE rule is
/// back; flushing brings RSS back. (testpmd flushes a port's rules when it stops the port
/// whatever the driver keeps, so keeping them across stop/start is tested in
/// pmd/tests/control.rs.) Rules the device cannot
/// keep are refused with the reason: addresses, RSS actions, queues beyond the configured
/// ones, VLAN items, egress, and a seventh match-everything rule (no room).
#[test]
fn flow_rules_steer_and_drop() {
    let mut tp = TestPmd::start(
        "flow-rules",
        &["net_fbnic0", "net_fbnic1"],
        &[],
        RSS_UDP_ARGS,
    );
    tp.cmd("set fwd rxonly");
    let spread = |tp: &TestPmd, b: &Burst, what: &str| {
        let q = b.per_queue();
        tp.check(b.received == b.sent && q.iter().all(|&n| n > 0), || {
            format!("{what}: RSS spread expected, per queue {q:?} of {}", b.sent)
        });
    };
    let on_queue = |tp: &TestPmd, b: &Burst, queue: usize, what: &str| {
        let q = b.per_queue();
        let mut want = vec![0; QUEUES];
        want[queue] = b.sent;
        tp.check(b.received == b.sent && q == want, || {
            format!(
                "{what}: all {} on queue {queue} expected, per queue {q:?}",
                b.sent
            )
        });
    };

    let b = expect_received(&mut tp, "no rules");
    spread(&tp, &b, "no rules");

    let queue3 =
        "ingress priority 1 pattern eth / ipv4 / udp dst is 4789 / end actions queue index 3 / end";
    tp.cmd_expect(
        &format!("flow validate 0 {queue3}"),
        &["Flow rule validated"],
    );
    tp.cmd_expect(
        &format!("flow create 0 {queue3}"),
        &["Flow rule #0 created"],
    );
    let b = burst(&mut tp, 1);
    on_queue(&tp, &b, 3, "udp dst 4789 -> queue 3");

    // A rule for another port changes nothing; a better-priority DROP on the source port
    // takes everything.
    tp.cmd_expect(
        "flow create 0 ingress pattern eth / ipv4 / udp dst is 53 / end actions queue index 1 / end",
        &["Flow rule #1 created"],
    );
    let b = burst(&mut tp, 1);
    on_queue(&tp, &b, 3, "with a rule for port 53");
    tp.cmd_expect(
        "flow create 0 ingress priority 0 pattern eth type is 0x0800 / udp src is 1234 / end actions drop / end",
        &["Flow rule #2 created"],
    );
    let b = burst(&mut tp, 1);
    tp.check(
        b.received == 0 && get(&b.x, "rpc_action_drops") == b.sent,
        || format!("drop rule: received {}, {}", b.received, show(&b.x)),
    );
    tp.cmd_expect("flow destroy 0 rule 2", &["Flow rule #2 destroyed"]);
    let b = burst(&mut tp, 1);
    on_queue(&tp, &b, 3, "drop rule destroyed");

    tp.cmd("flow flush 0");
    let b = expect_received(&mut tp, "flushed");
    spread(&tp, &b, "flushed");

    // The IP items: an IPv6 rule leaves this IPv4 traffic to RSS; the IPv4 protocol UDP
    // takes it.
    tp.cmd_expect(
        "flow create 0 ingress pattern eth / ipv6 / udp / end actions queue index 1 / end",
        &["Flow rule #0 created"],
    );
    let b = expect_received(&mut tp, "ipv6 rule");
    spread(&tp, &b, "ipv6 rule, ipv4 traffic");
    tp.cmd_expect(
        "flow create 0 ingress pattern eth / ipv4 proto is 17 / end actions queue index 2 / end",
        &["Flow rule #1 created"],
    );
    let b = burst(&mut tp, 1);
    on_queue(&tp, &b, 2, "ipv4 proto 17 -> queue 2");
    tp.cmd("flow flush 0");

    // The RSS action: spread over queues 2 and 3 only (the device's second indirection
    // table); every RSS rule must use the same queues.
    tp.cmd_expect(
        "flow create 0 ingress pattern eth / ipv4 / udp dst is 4789 / end actions rss queues 3 2 end / end",
        &["Flow rule #0 created"],
    );
    let b = burst(&mut tp, 2);
    let q = b.per_queue();
    tp.check(
        b.received == b.sent && q[0] == 0 && q[1] == 0 && q[2] > 0 && q[3] > 0,
        || format!("rss queues 2 3: per queue {q:?} of {}", b.sent),
    );
    let out =
        tp.cmd("flow create 0 ingress pattern eth / ipv6 / end actions rss queues 0 1 end / end");
    tp.check(
        !out.contains("created")
            && tp
                .text()
                .contains("so every RSS rule spreads over the same queues"),
        || format!("a second queue set must be refused, saying why:\n{out}"),
    );
    tp.cmd_expect(
        "flow create 0 ingress pattern eth / ipv6 / end actions rss queues 2 3 end / end",
        &["Flow rule #1 created"],
    );
    tp.cmd_expect(
        "flow dump 0 all",
        &[
            "  rule ",
            ": priority 0: ipv4 udp src any dst 4789 -> rss queues 2 3; action TCAM entry 2\n",
        ],
    );
    tp.cmd("flow flush 0");
    let b = expect_received(&mut tp, "RSS rules flushed");
    let q = b.per_queue();
    tp.check(q.iter().all(|&n| n > 0), || {
        format!("RSS rules flushed: the port's spread over all queues expected, {q:?}")
    });

    // Refused, each with its reason.
    for (rule, why) in [
        (
            "ingress pattern eth / ipv4 src is 10.0.0.1 / end actions queue index 1 / end",
            "only the IPv4 protocol can be matched",
        ),
        (
            "ingress pattern eth dst is 02:1d:9b:00:00:00 / end actions drop / end",
            "only the EtherType can be matched",
        ),
        (
            "ingress pattern eth / ipv4 / udp / end actions mark id 7 / end",
            "action not supported (queue, rss, drop, void, end)",
        ),
        (
            "ingress pattern eth / ipv4 / udp / end actions rss queues 1 4 end / end",
            "queue index beyond the configured Rx queues",
        ),
        (
            "ingress pattern eth / ipv4 / udp / end actions rss func simple_xor queues 1 2 end / end",
            "RSS: the device hashes with Toeplitz only",
        ),
        (
            "ingress pattern eth / ipv4 / udp / end actions rss types ipv4-tcp end queues 1 2 end / end",
            "RSS: the port's hash types only",
        ),
        (
            "ingress pattern eth / ipv4 / tcp / end actions queue index 4 / end",
            "queue index beyond the configured Rx queues",
        ),
        (
            "ingress pattern eth / vlan / end actions drop / end",
            "item not supported",
        ),
        (
            "egress pattern eth / end actions drop / end",
            "egress rules are not supported",
        ),
        (
            "ingress pattern eth / ipv6 / udp / end actions drop / queue index 1 / end",
            "only one QUEUE, RSS or DROP action per rule",
        ),
        (
            "ingress pattern eth / tcp flags is 2 / end actions drop / end",
            "only TCP ports can be matched",
        ),
    ] {
        let out = tp.cmd(&format!("flow create 0 {rule}"));
        tp.check(out.contains(why) && !out.contains("created"), || {
            format!("flow create 0 {rule}: expected {why:?}:\n{out}")
        });
    }
    // Room: a match-everything rule takes 7 of the 48 entries (one per flow type).
    for i in 0..6 {
        tp.cmd_expect(
            "flow create 0 ingress pattern end actions drop / end",
            &[&format!("Flow rule #{i} created")],
        );
    }
    let out = tp.cmd("flow create 0 ingress pattern end actions drop / end");
    tp.check(
        out.contains("no room for the rule in the action TCAM") && !out.contains("created"),
        || format!("a seventh match-everything rule:\n{out}"),
    );
    tp.check(
        tp.text()
            .contains("flow create: no room: the flow rules need 49 action TCAM entries"),
        || "the driver log names the entries".into(),
    );
    tp.cmd("flow flush 0");
    let b = expect_received(&mut tp, "flushed again");
    spread(&tp, &b, "flushed again");
    tp.quit();
}

/// rte_flow isolated mode through testpmd: `flow isolate` on a started port, then
/// `--flow-isolate-all` (testpmd isolates every port before configuring it). Isolated, port
/// 0 delivers only what a flow rule takes; the rest is dropped by the action TCAM and
/// counted; out of it, RSS takes everything again.
#[test]
fn flow_isolation_restricts_ingress_to_the_rules() {
    let isolated_drops_all = |tp: &mut TestPmd, what: &str| {
        let b = burst(tp, 1);
        tp.check(
            b.received == 0 && rx_hw(&b) == 0 && get(&b.x, "rpc_action_drops") == b.sent,
            || {
                format!(
                    "{what}: nothing expected, got {}: {}",
                    b.received,
                    show(&b.x)
                )
            },
        );
    };
    let rule_takes_all = |tp: &mut TestPmd, what: &str| {
        let b = expect_received(tp, what);
        let q = b.per_queue();
        tp.check(q == [0, 0, 0, b.sent], || {
            format!(
                "{what}: all {} on queue 3 expected, per queue {q:?}",
                b.sent
            )
        });
    };
    let rule = "flow create 0 ingress pattern eth / ipv4 / udp dst is 4789 / end actions queue index 3 / end";

    let mut tp = TestPmd::start(
        "flow-isolate",
        &["net_fbnic0", "net_fbnic1"],
        &[],
        RSS_UDP_ARGS,
    );
    tp.cmd("set fwd rxonly");
    tp.cmd_expect(
        "flow isolate 0 true",
        &["Ingress traffic on port 0 is now restricted to the defined flow rules"],
    );
    isolated_drops_all(&mut tp, "isolated, no rule");
    tp.cmd_expect(rule, &["Flow rule #0 created"]);
    rule_takes_all(&mut tp, "isolated, udp dst 4789 -> queue 3");
    // The PMD's dump of its rules (rte_flow_dev_dump): the rule, where it sits in the
    // action TCAM, and what becomes of the rest.
    let line = "  rule 1: priority 0: ipv4 udp src any dst 4789 -> queue 3; action TCAM entry 2\n";
    tp.cmd_expect(
        "flow dump 0 all",
        &[
            "net_fbnic0: flow rules 1, action TCAM entries 1 of 48; frames no rule takes are dropped (isolated mode)\n",
            line,
            "Flow dump finished",
        ],
    );
    tp.cmd_expect("flow dump 0 rule 0", &[line, "Flow dump finished"]);
    // A rule for other traffic: this traffic is dropped again.
    tp.cmd("flow flush 0");
    tp.cmd_expect(
        "flow create 0 ingress pattern eth / ipv4 / udp dst is 53 / end actions queue index 1 / end",
        &["Flow rule #0 created"],
    );
    isolated_drops_all(&mut tp, "isolated, a rule for port 53 only");
    tp.cmd_expect(
        "flow isolate 0 false",
        &["Ingress traffic on port 0 is not restricted anymore to the defined flow rules"],
    );
    let b = expect_received(&mut tp, "isolation left");
    tp.check(b.per_queue().iter().all(|&n| n > 0), || {
        format!("RSS spread expected: {:?}", b.per_queue())
    });
    // A rule for any IP protocol takes one entry per IP flow type.
    tp.cmd_expect(
        "flow create 0 ingress priority 2 pattern eth / ipv6 / tcp src is 80 / end actions drop / end",
        &["Flow rule #1 created"],
    );
    tp.cmd_expect(
        "flow dump 0 all",
        &[
            "net_fbnic0: flow rules 2, action TCAM entries 2 of 48; frames no rule takes are spread by RSS\n",
            "  rule 2: priority 0: ipv4 udp src any dst 53 -> queue 1; action TCAM entry 2\n",
            "  rule 3: priority 2: ipv6 tcp src 80 dst any -> drop; action TCAM entry 3\n",
        ],
    );
    assert_no_driver_lines(&tp.quit());

    let args: Vec<&str> = RSS_UDP_ARGS
        .iter()
        .copied()
        .chain(["--flow-isolate-all"])
        .collect();
    let mut tp = TestPmd::start(
        "flow-isolate-all",
        &["net_fbnic0", "net_fbnic1"],
        &[],
        &args,
    );
    tp.check(
        tp.text()
            .contains("Ingress traffic on port 0 is now restricted to the defined flow rules"),
        || "testpmd isolates port 0 before configuring it".into(),
    );
    tp.cmd("set fwd rxonly");
    isolated_drops_all(&mut tp, "--flow-isolate-all, no rule");
    tp.cmd_expect(rule, &["Flow rule #0 created"]);
    rule_takes_all(&mut tp, "--flow-isolate-all, udp dst 4789 -> queue 3");
    // Kept across a stop/start (testpmd isolates again only when it reconfigures; it
    // flushes its rules when it stops a port).
    tp.cmd("port stop 0");
    tp.cmd_timeout("port start 0", Duration::from_secs(30));
    isolated_drops_all(&mut tp, "after stop/start (rules flushed by testpmd)");
    tp.cmd_expect(rule, &["Flow rule #0 created"]);
    rule_takes_all(&mut tp, "after stop/start, the rule again");
    assert_no_driver_lines(&tp.quit());
}

/// The timestamp lines (`- timestamp N`) of testpmd's verbose Rx dumps in `text`.
fn rx_timestamps(text: &str) -> Vec<u64> {
    let re = Regex::new(r" - timestamp (\d+) ").unwrap();
    re.captures_iter(text)
        .map(|c| c[1].parse().unwrap())
        .collect()
}

fn host_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// `--enable-rx-timestamp` (RTE_ETH_RX_OFFLOAD_TIMESTAMP): testpmd's verbose dump shows a
/// timestamp on every received packet, in the device clock's nanoseconds (set from the host's
/// real time at attach), non-decreasing per port; with the offload turned off again (`port
/// config <port> rx_offload timestamp off`) packets come without one.
#[test]
fn rx_timestamps_in_verbose_dumps() {
    let mut tp = TestPmd::start(
        "rx-timestamp",
        &["net_fbnic0", "net_fbnic1"],
        &[],
        &["--nb-cores=1", "--enable-rx-timestamp"],
    );
    tp.cmd_expect("show port 0 rx_offload configuration", &["TIMESTAMP"]);
    tp.cmd("set fwd rxonly");
    tp.cmd("set verbose 1");
    let exchange = |tp: &mut TestPmd| -> String {
        let from = tp.text().len();
        tp.cmd("clear port stats all");
        // The forwarding lcore's dumps race with testpmd's prompt.
        tp.cmd_racing(
            "start tx_first 1",
            "queue 0: received",
            Duration::from_secs(30),
        );
        tp.wait_until(
            "both ports to receive 32 packets",
            Duration::from_secs(30),
            |t| get(&t.stats(0), "RX-packets") == 32 && get(&t.stats(1), "RX-packets") == 32,
        );
        tp.cmd("stop");
        tp.text()[from..].to_string()
    };
    let before = host_ns();
    let out = exchange(&mut tp);
    let after = host_ns();
    let ts = rx_timestamps(&out);
    tp.check(ts.len() == 64, || {
        format!("64 packets with a timestamp expected, {} found", ts.len())
    });
    // Each port's 32 packets (told apart by the sender's MAC: testpmd prints a packet per
    // line, while its command output may land between dumps); their stamps do not go back.
    let per_port: Vec<Vec<u64>> = ["02:1D:9B:00:00:01", "02:1D:9B:00:00:00"]
        .iter()
        .map(|src| {
            out.lines()
                .filter(|l| l.contains(&format!("src={src} ")))
                .flat_map(rx_timestamps)
                .collect()
        })
        .collect();
    tp.check(
        per_port
            .iter()
            .all(|v| v.len() == 32 && v.windows(2).all(|w| w[0] <= w[1])),
        || format!("per-port stamps: {per_port:?}"),
    );
    tp.check(
        ts.iter()
            .all(|&t| t + 5_000_000_000 >= before && t <= after + 5_000_000_000),
        || format!("stamps {ts:?} not near the host's time [{before}, {after}]"),
    );

    tp.cmd("port stop all");
    for p in 0..2 {
        let out = tp.cmd(&format!("port config {p} rx_offload timestamp off"));
        tp.check(!out.contains("Bad") && !out.contains("rror"), || {
            format!("port config {p} rx_offload timestamp off: {out}")
        });
    }
    tp.cmd_expect(
        "show port 0 rx_offload configuration",
        &["Rx Offloading Configuration of port 0"],
    );
    tp.cmd("port start all");
    let out = exchange(&mut tp);
    tp.check(
        rx_timestamps(&out).is_empty() && out.contains("received 32 packets"),
        || format!("no timestamps expected with the offload off:\n{out}"),
    );
    assert_no_driver_lines(&tp.quit());
}

/// `port reset` (rte_eth_dev_reset) on a stopped port whose MAC address, redirection table
/// and flow rules were changed: testpmd reconfigures and restarts it, and it comes back as
/// probe left it (the permanent address, the default table spread over its 4 queues, no flow
/// rule: the old rule's handle is refused) and receives every packet. A started port is not
/// reset.
#[test]
fn port_reset_returns_the_port_to_probe_state() {
    let mut tp = TestPmd::start(
        "port-reset",
        &["net_fbnic0", "net_fbnic1"],
        &[],
        RSS_UDP_ARGS,
    );
    tp.cmd("set fwd rxonly");
    let mac = |tp: &mut TestPmd| {
        let out = tp.cmd("show port info 0");
        let re = Regex::new(r"MAC address: ([0-9A-F:]{17})").unwrap();
        match re.captures(&out) {
            Some(c) => c[1].to_string(),
            None => tp.fail(&format!("no MAC address in:\n{out}")),
        }
    };
    let perm = mac(&mut tp);
    let reta0 = reta(&mut tp);
    tp.check(
        reta0
            .iter()
            .enumerate()
            .all(|(i, &q)| q as usize == i % QUEUES),
        || format!("default table expected: {reta0:?}"),
    );
    let b = expect_received(&mut tp, "before the reset");
    tp.check(b.per_queue().iter().all(|&n| n > 0), || {
        format!("RSS spread expected: {:?}", b.per_queue())
    });

    tp.cmd_expect("port reset 0", &["please stop port(s) first"]);
    tp.cmd("port stop 0");
    tp.cmd("mac_addr set 0 02:00:00:00:00:99");
    let set = mac(&mut tp);
    tp.check(set == "02:00:00:00:00:99", || {
        format!("MAC address not set: {set}")
    });
    set_reta(&mut tp, |_| 1);
    tp.cmd_expect(
        "flow create 0 ingress pattern eth / ipv4 / udp dst is 4789 / end actions queue index 3 / end",
        &["Flow rule #0 created"],
    );
    let out = tp.cmd("port reset 0");
    tp.check(!out.contains("Failed to reset"), || {
        format!("port reset failed:\n{out}")
    });
    let out = tp.cmd_timeout("port start 0", Duration::from_secs(30));
    tp.check(!out.contains("Fail") && !out.contains("rror"), || {
        format!("port start after the reset:\n{out}")
    });

    let now = mac(&mut tp);
    tp.check(now == perm, || {
        format!("after the reset the MAC address is {now}, not the permanent {perm}")
    });
    let table = reta(&mut tp);
    tp.check(table == reta0, || {
        format!("after the reset the redirection table is {table:?}")
    });
    // testpmd still lists rule 0; the port has no such rule any more.
    let out = tp.cmd("flow destroy 0 rule 0");
    tp.check(out.contains("no such flow rule"), || {
        format!("the rule's old handle must be refused:\n{out}")
    });
    let b = expect_received(&mut tp, "after the reset");
    tp.check(b.per_queue().iter().all(|&n| n > 0), || {
        format!(
            "RSS spread over every queue expected after the reset (no rule, default table): {:?}",
            b.per_queue()
        )
    });
    let text = tp.quit();
    let lines: Vec<String> = driver_log_lines(&text)
        .into_iter()
        .filter(|l| !l.contains("no such flow rule"))
        .collect();
    assert!(
        lines.is_empty(),
        "driver warnings or errors:\n{}",
        lines.join("\n")
    );
}

/// A firmware crash while the port forwards (`fw_fault=crash:2500`: the model's firmware
/// reboots 2.5 s after probe): the port sees the restart at its next heartbeat, takes
/// ownership again and rewrites its rules by itself, and says so with ethdev's error
/// recovery events (testpmd prints them): "error recovering", then "error recovery
/// successful". Traffic goes on throughout and after.
#[test]
fn firmware_crash_is_recovered_with_recovery_events() {
    let mut tp = TestPmd::start(
        "fw-crash",
        &["net_fbnic0,fw_fault=crash:2500", "net_fbnic1"],
        &[],
        &["--nb-cores=1", "--total-num-mbufs=16384"],
    );
    tp.cmd_expect(
        "show port info 0",
        &["Device error handling mode: proactive"],
    );
    tp.cmd("set fwd io");
    tp.cmd("start tx_first");
    tp.wait_until("the recovery to finish", Duration::from_secs(20), |t| {
        t.text().contains("Port 0: error recovery")
    });
    let before = get(&tp.stats(0), "RX-packets");
    std::thread::sleep(Duration::from_millis(500));
    let after = get(&tp.stats(0), "RX-packets");
    tp.check(after > before, || {
        format!("port 0 stopped receiving after the recovery: {before} -> {after}")
    });
    tp.cmd("stop");
    let text = tp.quit();
    let started = text.find("Port 0: error recovering event");
    let done = text.find("Port 0: error recovery successful event");
    assert!(
        matches!((started, done), (Some(s), Some(d)) if s < d),
        "expected 'error recovering' then 'error recovery successful' for port 0"
    );
    assert!(!text.contains("error recovery failed"));
    assert!(
        !text.contains("Port 1: error recover"),
        "port 1's firmware did not crash"
    );
    assert_eq!(
        text.matches("Port 0: error recovering event").count(),
        1,
        "one crash, one recovery"
    );
    // What the driver logged: the restart seen and the rules restored, nothing else.
    let lines = driver_log_lines(&text);
    assert!(
        lines.len() == 2
            && lines[0].contains("firmware uptime went backwards")
            && lines[1].contains("firmware restarted: taking ownership again"),
        "driver log:\n{}",
        lines.join("\n")
    );
}

/// Link speeds (`port config N speed ...`) and FEC: the device negotiates nothing, its link
/// runs at the mode of the module (here `link=25G-CR`, no FEC; FEC other than that refused,
/// `auto` accepted): a start asking for another speed fails
/// saying which speed the link runs at, 25 Gb/s fixed starts and forwards, a speed the
/// device has no mode for is refused at configure, and `auto` is the default again.
#[test]
fn link_speed_requests_follow_the_module() {
    let mut tp = TestPmd::start(
        "link-speed",
        &["net_fbnic0,link=25G-CR", "net_fbnic1,link=25G-CR"],
        &[],
        &["--total-num-mbufs=16384"],
    );
    let start_0 = |tp: &mut TestPmd| tp.cmd_timeout("port start 0", Duration::from_secs(30));
    // FEC: the firmware's, for the mode (none at 25G-CR); only it or auto can be asked for.
    tp.cmd_expect("show port 0 fec capabilities", &["25 Gbps : off auto"]);
    tp.cmd_expect("show port 0 fec_mode", &["off"]);
    tp.cmd_expect(
        "set port 0 fec_mode rs",
        &["the link's FEC is none (25G-CR)", "Set FEC mode failed"],
    );
    let out = tp.cmd("set port 0 fec_mode auto");
    tp.check(!out.contains("fail"), || format!("fec_mode auto:\n{out}"));
    tp.cmd("port stop 0");
    tp.cmd("port config 0 speed 100000 duplex full");
    let out = start_0(&mut tp);
    tp.check(
        out.contains("link speed 100 Gb/s: the link runs at 25 Gb/s (25G-CR")
            && out.contains("Fail to start port 0"),
        || format!("a 100G start on a 25G module must fail:\n{out}"),
    );
    tp.cmd("port config 0 speed 10000 duplex full");
    let out = start_0(&mut tp);
    tp.check(
        out.contains("the device runs at 25, 50 or 100 Gb/s") && out.contains("Fail"),
        || format!("10G must be refused at configure:\n{out}"),
    );
    tp.cmd("port config 0 speed 25000 duplex full");
    let out = start_0(&mut tp);
    tp.check(!out.contains("Fail"), || {
        format!("25G fixed on a 25G module must start:\n{out}")
    });
    tp.cmd_expect(
        "show port info 0",
        &["Link status: up", "Link speed: 25 Gbps"],
    );
    tp.cmd("set fwd io");
    tp.cmd("start tx_first");
    tp.wait_until("traffic through port 0", Duration::from_secs(20), |t| {
        get(&t.stats(0), "RX-packets") > 1000
    });
    tp.cmd("stop");
    tp.cmd("port stop 0");
    tp.cmd("port config 0 speed auto duplex full");
    let out = start_0(&mut tp);
    tp.check(!out.contains("Fail"), || format!("auto must start:\n{out}"));
    let text = tp.quit();
    let lines = driver_log_lines(&text);
    assert!(
        lines.len() == 3
            && lines[0].contains("fec_set: invalid argument: FEC mode 0x8")
            && lines[1].contains("start: invalid argument: link speed 100 Gb/s")
            && lines[2].contains("configure: invalid argument: link_speeds"),
        "driver log:\n{}",
        lines.join("\n")
    );
}
