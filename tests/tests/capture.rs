//! Packet capture: the real `dpdk-dumpcap` (a secondary process, one per port) captures both directions of
//! two cabled net_fbnic ports while dpdk-testpmd (the primary) sends and receives on 4
//! queues with RSS. The capture must hold exactly the frames testpmd counted, each Rx frame
//! with the queue it arrived on and its RSS hash, both consistent with the port's RSS key
//! and redirection table, and what one port sent must be what the other received.
//!
//! dumpcap has no `-d`: the PMD is preloaded (`LD_PRELOAD`), its constructor registers the
//! driver before EAL starts. So are the mempool drivers testpmd links directly: a secondary
//! must register mempool drivers in the primary's order (the pool dumpcap creates names its
//! driver by index), and Debian's testpmd links one (dpaa) that dumpcap does not, which
//! otherwise shifts every index by one and makes every copy into dumpcap's pool fail.

use std::collections::BTreeMap;
use std::time::Duration;

use fbnic_hw::toeplitz::{self, RssInput};
use fbnic_it::dpdk::{remove_prefix_files, unbuffered, TestPmd};
use fbnic_it::parse::get;
use fbnic_it::pcapng::{self, Direction, Packet, HASH_TOEPLITZ};
use fbnic_it::process::Proc;
use fbnic_it::{env, report};

const PREFIX: &str = "fbnic-it-capture";
const QUEUES: u32 = 4;
const PORTS: [&str; 2] = ["net_fbnic0", "net_fbnic1"];

/// The mempool driver libraries dpdk-testpmd links directly, in its load order.
fn testpmd_mempool_libs() -> Vec<String> {
    let out = std::process::Command::new("ldd")
        .arg(which("dpdk-testpmd"))
        .output()
        .expect("running ldd");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (name, rest) = l.trim().split_once(" => ")?;
            name.starts_with("librte_mempool_")
                .then(|| rest.split_whitespace().next().map(str::to_string))?
        })
        .collect()
}

fn which(program: &str) -> String {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(program))
                .find(|f| f.is_file())
        })
        .unwrap_or_else(|| panic!("{program} is not on PATH"))
        .display()
        .to_string()
}

/// The RSS key testpmd shows for `port` ("RSS key:" then hex).
fn rss_key(tp: &mut TestPmd, port: u16) -> Vec<u8> {
    let out = tp.cmd(&format!("show port {port} rss-hash key"));
    let hex: String = out
        .split("RSS key:")
        .nth(1)
        .unwrap_or_else(|| tp.fail("testpmd shows no RSS key"))
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex key"))
        .collect()
}

/// What the device hashes for the IPv4 frames testpmd sends with `--rss-ip`: the addresses.
fn ipv4_hash(key: &[u8], frame: &[u8]) -> Option<u32> {
    if frame.len() < 34 || frame[12..14] != [0x08, 0x00] {
        return None;
    }
    let src: [u8; 4] = frame[26..30].try_into().ok()?;
    let dst: [u8; 4] = frame[30..34].try_into().ok()?;
    Some(toeplitz::hash(
        key,
        RssInput::ipv4(src, dst, None).as_bytes(),
    ))
}

/// Frame bytes -> how many times they occur.
fn multiset<'a>(pkts: impl Iterator<Item = &'a Packet>) -> BTreeMap<Vec<u8>, u32> {
    let mut m = BTreeMap::new();
    for p in pkts {
        *m.entry(p.data.clone()).or_insert(0) += 1;
    }
    m
}

#[test]
fn dumpcap_captures_both_directions_with_queue_and_rss_hash() {
    remove_prefix_files(PREFIX);
    let env = env();
    let mut tp = TestPmd::start_primary(
        "testpmd-capture",
        PREFIX,
        &PORTS,
        &[
            "--nb-cores=1",
            "--rxq=4",
            "--txq=4",
            "--rss-ip",
            "--txonly-multi-flow",
        ],
    );
    tp.cmd("set fwd rxonly");
    let keys: Vec<Vec<u8>> = (0..2).map(|p| rss_key(&mut tp, p)).collect();
    let retas: Vec<BTreeMap<usize, u16>> = (0..2).map(|p| tp.reta(p)).collect();
    tp.check(
        keys.iter().all(|k| k.len() == 40) && retas.iter().all(|r| r.len() == 256),
        || format!("RSS key or RETA unreadable: {keys:?} {retas:?}"),
    );

    // One dumpcap per port (22.11's dumpcap captures one interface).
    let dir = env.scratch_dir("capture");
    let mut preload = testpmd_mempool_libs();
    preload.push(env.pmd.display().to_string());
    let files: Vec<_> = PORTS
        .iter()
        .map(|p| dir.join(format!("{p}.pcapng")))
        .collect();
    let mut dumpcaps: Vec<Proc> = PORTS
        .iter()
        .zip(&files)
        .map(|(port, file)| {
            let args = [
                format!("--file-prefix={PREFIX}"),
                "-i".into(),
                port.to_string(),
                "-w".into(),
                file.display().to_string(),
            ];
            let mut cmd = unbuffered("dpdk-dumpcap", &args);
            cmd.env("LD_PRELOAD", preload.join(" "));
            let dc = Proc::spawn(&format!("dumpcap-{port}"), cmd, false, &env.scratch);
            // dumpcap prints its counter once capture is enabled in the primary.
            if let Err(e) = dc.wait_for(0, "Packets captured:", Duration::from_secs(30)) {
                tp.fail(&format!("dumpcap did not start: {e}\n{}", dc.text()));
            }
            dc
        })
        .collect();

    // rxonly with tx_first: every stream sends 4 bursts, the other port receives them.
    tp.cmd("start tx_first 4");
    std::thread::sleep(Duration::from_millis(1000));
    tp.cmd("stop");
    tp.settle(&[0, 1]);
    let stats: Vec<_> = (0..2).map(|p| tp.stats(p)).collect();
    // dumpcap stops at ^C without draining its ring: wait (bounded) until each file holds
    // every frame testpmd counted, then stop it as a user would. Short files fail below.
    for (p, file) in files.iter().enumerate() {
        let want = (get(&stats[p], "RX-packets") + get(&stats[p], "TX-packets")) as usize;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline
            && pcapng::read(file).map_or(true, |c| c.packets.len() < want)
        {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let mut caps = Vec::new();
    for (p, (dc, file)) in dumpcaps.iter_mut().zip(&files).enumerate() {
        dc.signal(libc::SIGINT);
        match dc.wait(Duration::from_secs(30)) {
            Ok(st) if st.success() => {}
            other => tp.fail(&format!("dumpcap: {other:?}\n{}", dc.text())),
        }
        dc.save_log();
        let (rx, tx) = (get(&stats[p], "RX-packets"), get(&stats[p], "TX-packets"));
        tp.check(rx > 0 && tx > 0, || {
            format!("port {p}: no traffic {stats:?}")
        });
        let want = format!(
            "Packets received/dropped on interface '{}': {}/0",
            PORTS[p],
            rx + tx
        );
        tp.check(dc.text().contains(&want), || {
            format!("dumpcap should report {want:?}:\n{}", dc.text())
        });
        let cap = pcapng::read(file).unwrap_or_else(|e| tp.fail(&e));
        // The file declares every port ("dpdk:N"); the frames are all on this one.
        let iface = cap.interface(&format!("dpdk:{p}"));
        tp.check(
            iface.is_some() && cap.packets.iter().all(|k| Some(k.interface) == iface),
            || format!("{}: interfaces {:?}", PORTS[p], cap.interfaces),
        );
        caps.push(cap.packets);
    }

    let mut queues_used = [[0u64; QUEUES as usize]; 2];
    for (p, name) in PORTS.iter().enumerate() {
        let mine = || caps[p].iter();
        let rx: Vec<&Packet> = mine()
            .filter(|k| k.direction == Direction::Inbound)
            .collect();
        let tx: Vec<&Packet> = mine()
            .filter(|k| k.direction == Direction::Outbound)
            .collect();
        tp.check(rx.len() as u64 == get(&stats[p], "RX-packets"), || {
            format!("{name}: {} Rx frames captured, testpmd {stats:?}", rx.len())
        });
        tp.check(tx.len() as u64 == get(&stats[p], "TX-packets"), || {
            format!("{name}: {} Tx frames captured, testpmd {stats:?}", tx.len())
        });
        for k in mine() {
            tp.check(k.data.len() == 64 && k.orig_len == 64, || {
                format!(
                    "{name}: a {}-byte frame (orig {})",
                    k.data.len(),
                    k.orig_len
                )
            });
            tp.check(k.queue.is_some_and(|q| q < QUEUES), || {
                format!("{name}: queue {:?}", k.queue)
            });
        }
        for k in &rx {
            let want = ipv4_hash(&keys[p], &k.data)
                .unwrap_or_else(|| tp.fail(&format!("{name}: not IPv4: {:02x?}", k.data)));
            let got = match &k.hash {
                Some((HASH_TOEPLITZ, h)) if h.len() == 4 => {
                    u32::from_le_bytes(h[..].try_into().unwrap())
                }
                other => tp.fail(&format!("{name}: Rx frame hash option {other:?}")),
            };
            tp.check(got == want, || {
                format!("{name}: RSS hash {got:#010x}, Toeplitz of the addresses {want:#010x}")
            });
            let q = k.queue.unwrap();
            let steer = u32::from(retas[p][&((want & 0xff) as usize)]);
            tp.check(q == steer, || {
                format!("{name}: hash {want:#x} arrived on queue {q}, RETA says {steer}")
            });
            queues_used[p][q as usize] += 1;
        }
        tp.check(tx.iter().all(|k| k.hash.is_none()), || {
            format!("{name}: a Tx frame carries an Rx hash")
        });
    }
    // The cable: what each port sent is what the other received, byte for byte.
    for (a, b) in [(0usize, 1usize), (1, 0)] {
        let sent = multiset(
            caps[a]
                .iter()
                .filter(|k| k.direction == Direction::Outbound),
        );
        let got = multiset(caps[b].iter().filter(|k| k.direction == Direction::Inbound));
        tp.check(sent == got, || {
            format!(
                "{} sent {} distinct frames, {} received {} (or different counts)",
                PORTS[a],
                sent.len(),
                PORTS[b],
                got.len()
            )
        });
    }
    // testpmd's multi-flow frames spread over every queue.
    tp.check(queues_used.iter().flatten().all(|&n| n > 0), || {
        format!("frames per Rx queue (ports 0, 1): {queues_used:?}")
    });
    report(&format!(
        "dumpcap: {} frames captured on 2 ports; Rx per queue {queues_used:?}",
        caps[0].len() + caps[1].len()
    ));

    tp.quit();
    remove_prefix_files(PREFIX);
}
