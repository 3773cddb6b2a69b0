//! fbnic-ptp-check: the device clock and timestamps through DPDK's ethdev API.
//!
//! Two cabled ports (net_fbnic0 sends, net_fbnic1 receives with `RTE_ETH_RX_OFFLOAD_TIMESTAMP`).
//! Checked: `rte_eth_read_clock` and `rte_eth_timesync_read_time` agree and follow the host's
//! real time; `timesync_write_time` and `timesync_adjust_time` move the clock by what they say,
//! and bad times are refused with -EINVAL; with IEEE 1588 on, every received frame carries the
//! timestamp dynamic field within the receiver's clock readings before and after, in arrival
//! order, exactly the PTP frame (EtherType 0x88F7) is flagged `RTE_MBUF_F_RX_IEEE1588_PTP |
//! TMST`, `timesync_read_rx_timestamp` returns its stamp once, and the PTP frame sent with
//! `RTE_MBUF_F_TX_IEEE1588_TMST` gives a Tx stamp within the sender's clock readings.
//!
//! Usage: `fbnic-ptp-check <EAL args> --vdev net_fbnic0 --vdev net_fbnic1 -- [--frames N]`.
//! Exits 0 when every check passes, 1 when one fails, 2 on errors.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dpdk_sys as sys;
use fbnic_apps::dpdk::{self, Mbuf, Pool, PortConf};
use fbnic_apps::pkt::{Flow, Kind, Rng};
use fbnic_apps::Checks;
use fbnic_apps::{check_args, opt_num};

const P: &str = "fbnic-ptp-check";
const EINVAL: i32 = 22;
const PTP_FLAGS: u64 = sys::RTE_MBUF_F_RX_IEEE1588_PTP | sys::RTE_MBUF_F_RX_IEEE1588_TMST;
/// Slack for a clock reading taken around a call (the calls themselves take microseconds).
const SLACK: u64 = 100_000_000;

fn main() {
    fbnic_apps::exit_with(P, run())
}

/// Collects named checks and prints each.
/// A PTPv2 Sync message over Ethernet with sequence id `seq`.
fn ptp_sync(dst: [u8; 6], src: [u8; 6], seq: u16) -> Vec<u8> {
    let mut f = Vec::with_capacity(60);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x88, 0xf7]);
    let mut msg = [0u8; 44];
    msg[1] = 0x02; // versionPTP 2; messageType 0 (Sync)
    msg[2..4].copy_from_slice(&44u16.to_be_bytes());
    msg[30..32].copy_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&msg);
    f
}

fn host_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Sends `frames` from `tx` (the PTP one, at `ptp_at`, asking for a Tx stamp) and receives as
/// many on `rx`.
fn exchange(
    pool: &Pool,
    tx: u16,
    rx: u16,
    frames: &[Vec<u8>],
    ptp_at: Option<usize>,
) -> Result<Vec<Mbuf>, String> {
    let mut pending = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let mut m = pool.mbuf_from(f)?;
        if Some(i) == ptp_at {
            m.add_ol_flags(sys::RTE_MBUF_F_TX_IEEE1588_TMST);
        }
        pending.push(m);
    }
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while (got.len() < frames.len() || !pending.is_empty()) && Instant::now() < deadline {
        dpdk::tx_burst(tx, 0, &mut pending);
        dpdk::rx_burst(rx, 0, &mut got, 32);
    }
    if got.len() != frames.len() {
        return Err(format!(
            "{} of {} frames arrived ({} not sent)",
            got.len(),
            frames.len(),
            pending.len()
        ));
    }
    Ok(got)
}

fn clock_checks(c: &mut Checks, p: u16) -> Result<(), String> {
    let clock = dpdk::read_clock(p)?;
    let time = dpdk::read_time(p)?;
    c.check(
        "read_clock and read_time agree",
        time >= clock && time - clock < SLACK,
        format!("{clock} then {time}"),
    );
    let host = host_ns();
    c.check(
        "clock follows real time",
        time.abs_diff(host) < 2_000_000_000,
        format!("device {time}, host {host}"),
    );
    let rc = dpdk::write_time(p, 1_000_000, 250);
    let t = dpdk::read_time(p)?;
    let set = 1_000_000 * 1_000_000_000 + 250;
    c.check(
        "write_time",
        rc == 0 && (set..set + SLACK).contains(&t),
        format!("rc {rc}, then {t}"),
    );
    for delta in [5_000_000_000i64, -2_000_000_000, 123] {
        let before = dpdk::read_time(p)?;
        dpdk::adjust_time(p, delta)?;
        let moved = dpdk::read_time(p)? as i128 - before as i128;
        c.check(
            &format!("adjust_time {delta}"),
            moved >= delta as i128 && moved < delta as i128 + SLACK as i128,
            format!("moved {moved} ns"),
        );
    }
    for (sec, nsec) in [(0i64, 1_000_000_000i64), (-1, 0), (0, -1)] {
        let rc = dpdk::write_time(p, sec, nsec);
        c.check(
            &format!("write_time {sec} s {nsec} ns refused"),
            rc == -EINVAL,
            format!("rc {rc}"),
        );
    }
    // Back to real time for the rest.
    let now = host_ns();
    let rc = dpdk::write_time(
        p,
        (now / 1_000_000_000) as i64,
        (now % 1_000_000_000) as i64,
    );
    c.check("write_time now", rc == 0, format!("rc {rc}"));
    Ok(())
}

fn run() -> Result<bool, String> {
    let args: Vec<String> = std::env::args().collect();
    let app = dpdk::eal_init(&args)?;
    check_args(&app, &["--frames"])?;
    let n: usize = opt_num(&app, "--frames", 32)?;
    let ports = [
        dpdk::port_by_name("net_fbnic0")?,
        dpdk::port_by_name("net_fbnic1")?,
    ];
    let macs = [dpdk::mac_addr(ports[0])?, dpdk::mac_addr(ports[1])?];
    let pool = Pool::create("ptp", 4095, 64)?;
    dpdk::configure(ports[0], &PortConf::default(), &pool)?;
    let rx_conf = PortConf {
        rx_offloads: sys::RTE_ETH_RX_OFFLOAD_TIMESTAMP,
        ..Default::default()
    };
    dpdk::configure(ports[1], &rx_conf, &pool)?;
    for &p in &ports {
        dpdk::start(p)?;
    }
    for &p in &ports {
        dpdk::wait_link_up(p, Duration::from_secs(10))?;
    }
    let field = dpdk::rx_timestamp_field()
        .ok_or("no Rx timestamp dynamic field after configuring the offload")?;
    let mut c = Checks::new(P);
    let mut err = None;
    let rc = dpdk::run_on_worker(
        || match datapath_checks(&mut c, &pool, ports, macs, field, n) {
            Ok(()) => 0,
            Err(e) => {
                err = Some(e);
                -1
            }
        },
    )?;
    if let Some(e) = err {
        return Err(e);
    }
    if rc != 0 {
        return Err(format!("worker returned {rc}"));
    }
    for &p in &ports {
        dpdk::stop(p)?;
        dpdk::close(p)?;
    }
    Ok(c.finish())
}

fn datapath_checks(
    c: &mut Checks,
    pool: &Pool,
    ports: [u16; 2],
    macs: [[u8; 6]; 2],
    field: (usize, u64),
    n: usize,
) -> Result<(), String> {
    let [tx, rx] = ports;
    clock_checks(c, tx)?;
    let none = dpdk::read_rx_timestamp(rx);
    c.check(
        "read_rx_timestamp before any PTP frame",
        none == Err(-EINVAL),
        format!("{none:?}"),
    );
    dpdk::timesync(tx, true)?;
    dpdk::timesync(rx, true)?;
    let mut rng = Rng::new(0x1588);
    let mut frames: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            Flow::random(Kind::ALL[i % Kind::ALL.len()], &mut rng)
                .frame(macs[1], macs[0], i as u32, 60)
        })
        .collect();
    let ptp_at = n / 3;
    frames.insert(ptp_at, ptp_sync(macs[1], macs[0], 0x5a5a));
    let (tx_before, rx_before) = (dpdk::read_clock(tx)?, dpdk::read_clock(rx)?);
    let got = exchange(pool, tx, rx, &frames, Some(ptp_at))?;
    let rx_after = dpdk::read_clock(rx)?;
    let mut stamps = Vec::new();
    let mut ptp_stamp = None;
    let mut flagged = 0;
    for m in &got {
        let ts = m.rx_timestamp(field);
        stamps.push(ts);
        let is_ptp = m.data().get(12..14) == Some(&[0x88, 0xf7][..]);
        if m.ol_flags() & PTP_FLAGS == PTP_FLAGS {
            flagged += 1;
            if is_ptp {
                ptp_stamp = ts;
            }
        } else if m.ol_flags() & PTP_FLAGS != 0 || is_ptp {
            flagged += 1000; // a partial flag or an unflagged PTP frame
        }
    }
    let stamped = stamps.iter().flatten().count();
    c.check(
        "every frame has the Rx timestamp field",
        stamped == got.len(),
        format!("{stamped} of {}", got.len()),
    );
    let all: Vec<u64> = stamps.iter().flatten().copied().collect();
    c.check(
        "Rx timestamps within the receiver's clock readings",
        all.iter().all(|t| (rx_before..=rx_after).contains(t)),
        format!(
            "[{rx_before}, {rx_after}], first {:?} last {:?}",
            all.first(),
            all.last()
        ),
    );
    c.check(
        "Rx timestamps in arrival order",
        all.windows(2).all(|w| w[0] <= w[1]),
        format!("{} stamps", all.len()),
    );
    c.check(
        "exactly the PTP frame flagged IEEE1588_PTP|TMST",
        flagged == 1 && ptp_stamp.is_some(),
        format!("flag count {flagged}"),
    );
    let latched = dpdk::read_rx_timestamp(rx);
    c.check(
        "read_rx_timestamp gives the PTP frame's stamp",
        ptp_stamp.is_some() && latched == Ok(ptp_stamp.unwrap()),
        format!("{latched:?} vs field {ptp_stamp:?}"),
    );
    let again = dpdk::read_rx_timestamp(rx);
    c.check(
        "read_rx_timestamp is taken once",
        again == Err(-EINVAL),
        format!("{again:?}"),
    );
    let mut tx_ts = Err(0);
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(1) {
        tx_ts = dpdk::read_tx_timestamp(tx);
        if tx_ts.is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    let tx_after = dpdk::read_clock(tx)?;
    c.check(
        "Tx timestamp within the sender's clock readings",
        tx_ts.is_ok_and(|t| (tx_before..=tx_after).contains(&t)),
        format!("{tx_ts:?} in [{tx_before}, {tx_after}]"),
    );
    println!(
        "{P}: received {} frames, {stamped} stamped, PTP Rx stamp {ptp_stamp:?}, Tx stamp {tx_ts:?}, Tx stamp to Rx stamp {:?} ns",
        got.len(),
        match (tx_ts, ptp_stamp) {
            (Ok(t), Some(r)) => Some(r as i128 - t as i128),
            _ => None,
        }
    );
    drop(got);
    // IEEE 1588 off on the receiver: the offload still stamps, nothing is flagged.
    dpdk::timesync(rx, false)?;
    let frames = vec![ptp_sync(macs[1], macs[0], 1), ptp_sync(macs[1], macs[0], 2)];
    let got = exchange(pool, tx, rx, &frames, None)?;
    c.check(
        "timesync off: still stamped, not flagged",
        got.iter()
            .all(|m| m.rx_timestamp(field).is_some() && m.ol_flags() & PTP_FLAGS == 0),
        format!("{} frames", got.len()),
    );
    dpdk::timesync(tx, false)?;
    Ok(())
}
