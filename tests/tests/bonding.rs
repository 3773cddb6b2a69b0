//! Link bonding over net_fbnic ports, as a load balancer deploys it: DPDK's net_bonding in
//! active-backup mode (mode 1) over two net_fbnic ports on each side of two cables
//! (fbnic0 <-> fbnic1, fbnic2 <-> fbnic3; bond 4 = {0, 2}, bond 5 = {1, 3}), testpmd sending
//! through the bonds. Taking the primary's link down (`set link-down port 0`, which also
//! takes the cable's other end down) must move both bonds to their backups, through the
//! link-status events net_fbnic raises, and traffic must follow; bringing it back up must
//! return the bond to its primary. Also round robin (mode 0): both slaves carry the bond's
//! traffic and the bond's counters are the sum of its slaves'.

use std::time::Duration;

use fbnic_it::parse::{get, Counters};
use fbnic_it::TestPmd;
use regex::Regex;

const FBNIC: [&str; 4] = ["net_fbnic0", "net_fbnic1", "net_fbnic2", "net_fbnic3"];

fn start(mode: u8, args: &[&str]) -> TestPmd {
    let b0 =
        format!("net_bonding0,mode={mode},slave=net_fbnic0,slave=net_fbnic2,primary=net_fbnic0");
    let b1 =
        format!("net_bonding1,mode={mode},slave=net_fbnic1,slave=net_fbnic3,primary=net_fbnic1");
    let vdevs: Vec<&str> = FBNIC.iter().copied().chain([&b0[..], &b1[..]]).collect();
    TestPmd::start(&format!("testpmd-bonding-mode{mode}"), &vdevs, &[], args)
}

/// "Active Slaves" and "Primary" of bond `port`.
fn bond_state(tp: &mut TestPmd, port: u16) -> (Vec<u16>, Option<u16>) {
    let out = tp.cmd(&format!("show bonding config {port}"));
    let list = |label: &str| -> Option<Vec<u16>> {
        let re = Regex::new(&format!(r"{label}[^\[]*\[([0-9 ]*)\]")).unwrap();
        re.captures(&out).map(|c| {
            c[1].split_whitespace()
                .map(|s| s.parse().unwrap())
                .collect()
        })
    };
    let active = list("Active Slaves").unwrap_or_default();
    let primary = list("Primary").and_then(|v| v.first().copied());
    (active, primary)
}

/// TX-packets of every port (0..6).
fn tx(tp: &mut TestPmd) -> Vec<u64> {
    (0..6).map(|p| get(&tp.stats(p), "TX-packets")).collect()
}

/// How much each port's TX-packets grows over `d`, measured after `settle`.
fn tx_growth(tp: &mut TestPmd, settle: Duration, d: Duration) -> Vec<u64> {
    std::thread::sleep(settle);
    let a = tx(tp);
    std::thread::sleep(d);
    let b = tx(tp);
    b.iter().zip(&a).map(|(b, a)| b - a).collect()
}

#[test]
fn active_backup_fails_over_on_link_down_and_back_on_link_up() {
    // txonly through the bonds; the receivers drop what they cannot take (no pause frames
    // holding the senders back, since nobody polls the slaves' Rx queues).
    let mut tp = start(
        1,
        &[
            "--forward-mode=txonly",
            "--portmask=0x30",
            "--enable-drop-en",
        ],
    );
    for (bond, slaves, primary) in [(4, vec![0, 2], 0), (5, vec![1, 3], 1)] {
        let st = bond_state(&mut tp, bond);
        tp.check(st == (slaves.clone(), Some(primary)), || {
            format!("bond {bond} at start: {st:?}")
        });
    }
    tp.cmd("start");
    let g = tx_growth(&mut tp, Duration::from_millis(500), Duration::from_secs(1));
    tp.check(
        g[0] > 10_000 && g[2] == 0 && g[1] > 10_000 && g[3] == 0,
        || format!("before: the primaries carry the traffic, the backups nothing: {g:?}"),
    );

    tp.cmd("set link-down port 0");
    tp.wait_until(
        "both bonds on their backups",
        Duration::from_secs(10),
        |tp| bond_state(tp, 4).0 == [2] && bond_state(tp, 5).0 == [3],
    );
    let g = tx_growth(&mut tp, Duration::from_millis(500), Duration::from_secs(1));
    tp.check(
        g[2] > 10_000 && g[0] == 0 && g[3] > 10_000 && g[1] == 0,
        || format!("after link down: the backups carry the traffic: {g:?}"),
    );
    let x3: Counters = tp.xstats(3);
    tp.check(get(&x3, "mac_rx_frames_ok") > 10_000, || {
        format!("port 3's MAC received what port 2 sent: {x3:?}")
    });

    tp.cmd("set link-up port 0");
    tp.wait_until(
        "bond 4 back on its primary",
        Duration::from_secs(10),
        |tp| {
            let (active, primary) = bond_state(tp, 4);
            primary == Some(0) && active.contains(&0)
        },
    );
    let g = tx_growth(&mut tp, Duration::from_millis(500), Duration::from_secs(1));
    tp.check(g[0] > 10_000 && g[2] == 0, || {
        format!("after link up: the primary carries bond 4's traffic again: {g:?}")
    });
    tp.cmd("stop");
    tp.quit();
}

#[test]
fn round_robin_spreads_over_both_slaves() {
    let mut tp = start(0, &["--forward-mode=io", "--portmask=0x30"]);
    tp.cmd("start tx_first");
    std::thread::sleep(Duration::from_secs(2));
    tp.cmd("stop");
    let s: Vec<Counters> = (0..6).map(|p| tp.stats(p)).collect();
    for (bond, a, b) in [(4usize, 0usize, 2usize), (5, 1, 3)] {
        for k in ["RX-packets", "TX-packets", "RX-bytes", "TX-bytes"] {
            let sum = get(&s[a], k) + get(&s[b], k);
            tp.check(get(&s[bond], k) == sum, || {
                format!("bond {bond} {k} {} != slaves' {sum}", get(&s[bond], k))
            });
        }
        let (ta, tb) = (get(&s[a], "TX-packets"), get(&s[b], "TX-packets"));
        tp.check(ta > 100_000 && tb > 100_000, || {
            format!("bond {bond}: slaves sent {ta} and {tb}")
        });
        // Round robin: the two slaves' shares differ by at most a burst per bond Tx call
        // that did not fill, which the whole run keeps well under 1%.
        tp.check(ta.abs_diff(tb) * 100 < ta + tb, || {
            format!("bond {bond}: uneven round robin {ta} vs {tb}")
        });
    }
    tp.quit();
}
