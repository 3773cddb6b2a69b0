//! fbnic-intr-check: Rx queue interrupts and the power monitor address through DPDK's API,
//! as a power-aware application (l3fwd-power) uses them.
//!
//! net_fbnic0 (configured with `intr_conf.rxq = 1`) receives from net_fbnic1 (cabled). Its Rx
//! queue's event is added to the thread's epoll set (`rte_eth_dev_rx_intr_ctl_q`); then,
//! checked with `rte_epoll_wait`: armed on an empty queue it stays quiet; it wakes a thread
//! sleeping in epoll when a frame sent later (from another thread) arrives, not before; once
//! (no second wake without re-arming); at once when armed with a frame already waiting;
//! never once disabled again; the same after a stop and start (new events). A port started
//! without `intr_conf.rxq` refuses `rx_intr_enable` and `rx_intr_ctl_q` with -ENOTSUP.
//! Then the power monitor address (`rte_eth_get_monitor_addr`, the power library's MONITOR
//! mode): the watched word's callback says "sleep" on an empty queue, "wake" once a frame's
//! completion is written (and for a new condition while it waits), "sleep" again on the next
//! slot after the burst took it.
//!
//! Usage: `fbnic-intr-check <EAL args> --vdev net_fbnic0 --vdev net_fbnic1`.
//! Exits 0 when every check passes, 1 when one fails, 2 on errors.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dpdk_sys as sys;
use fbnic_apps::dpdk::{self, Mbuf, Pool, PortConf};
use fbnic_apps::pkt::{Flow, Kind, Rng};
use fbnic_apps::Checks;

const P: &str = "fbnic-intr-check";
const ENOTSUP: i32 = 95;

fn main() {
    fbnic_apps::exit_with(P, run())
}

/// An mbuf moved to the sending thread (owned by exactly one thread at a time).
struct Moved(Mbuf);
// SAFETY: the mbuf is handed over whole; only the receiving thread touches it afterwards.
unsafe impl Send for Moved {}

/// Waits up to `ms` in the calling thread's epoll set; returns the events and the time taken.
fn epoll(ms: i32) -> (i32, Duration) {
    let mut ev: [sys::rte_epoll_event; 4] = Default::default();
    let t = Instant::now();
    // SAFETY: ev has room for 4 events; the per-thread epoll set is EAL's.
    let n = unsafe { sys::rte_epoll_wait(sys::RTE_EPOLL_PER_THREAD, ev.as_mut_ptr(), 4, ms) };
    (n, t.elapsed())
}

fn intr_enable(port: u16, on: bool) -> i32 {
    // SAFETY: plain ethdev calls.
    unsafe {
        if on {
            sys::rte_eth_dev_rx_intr_enable(port, 0)
        } else {
            sys::rte_eth_dev_rx_intr_disable(port, 0)
        }
    }
}

fn ctl_add(port: u16) -> i32 {
    // SAFETY: adds queue 0's event to this thread's epoll set; no user data.
    unsafe {
        sys::rte_eth_dev_rx_intr_ctl_q(
            port,
            0,
            sys::RTE_EPOLL_PER_THREAD,
            sys::RTE_INTR_EVENT_ADD as i32,
            core::ptr::null_mut(),
        )
    }
}

/// Receives what waits on queue 0 of `port` (up to `want` frames within a second).
fn drain(port: u16, want: usize) -> usize {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(1);
    while got.len() < want && Instant::now() < deadline {
        dpdk::rx_burst(port, 0, &mut got, 32);
    }
    got.len()
}

fn send(pool: &Pool, port: u16, frame: &[u8]) -> Result<(), String> {
    let mut v = vec![pool.mbuf_from(frame)?];
    let deadline = Instant::now() + Duration::from_secs(1);
    while !v.is_empty() && Instant::now() < deadline {
        dpdk::tx_burst(port, 0, &mut v);
    }
    if v.is_empty() {
        Ok(())
    } else {
        Err(format!("port {port}: a frame could not be sent"))
    }
}

/// The checks on a started receiver `rx` whose event is in this thread's epoll set.
fn round(
    c: &mut Checks,
    tag: &str,
    pool: &Pool,
    rx: u16,
    tx: u16,
    frame: &[u8],
) -> Result<(), String> {
    // Armed on an empty queue: quiet.
    c.check(
        &format!("{tag}enable"),
        intr_enable(rx, true) == 0,
        "rx_intr_enable".into(),
    );
    let (n, t) = epoll(200);
    c.check(
        &format!("{tag}quiet while nothing arrives"),
        n == 0,
        format!("{n} events in {t:?}"),
    );

    // A frame sent 100 ms later from another thread wakes this one.
    let m = Moved(pool.mbuf_from(frame)?);
    let sender = std::thread::spawn(move || {
        let m = m;
        std::thread::sleep(Duration::from_millis(100));
        let mut v = vec![m.0];
        let deadline = Instant::now() + Duration::from_secs(1);
        while !v.is_empty() && Instant::now() < deadline {
            dpdk::tx_burst(tx, 0, &mut v);
        }
        v.is_empty()
    });
    let (n, t) = epoll(3000);
    let sent = sender.join().unwrap_or(false);
    c.check(
        &format!("{tag}woken by the frame"),
        sent && n == 1 && t >= Duration::from_millis(90) && t < Duration::from_millis(2500),
        format!("{n} event after {t:?} (sent 100 ms in)"),
    );
    c.check(
        &format!("{tag}disable"),
        intr_enable(rx, false) == 0,
        "rx_intr_disable".into(),
    );
    c.check(
        &format!("{tag}the frame is there"),
        drain(rx, 1) == 1,
        "rx_burst".into(),
    );

    // Once per arming: re-armed, one frame wakes; the next one (not re-armed) does not.
    intr_enable(rx, true);
    send(pool, tx, frame)?;
    let (n1, _) = epoll(2000);
    send(pool, tx, frame)?;
    let (n2, t2) = epoll(200);
    intr_enable(rx, false);
    c.check(
        &format!("{tag}once per arming"),
        n1 == 1 && n2 == 0,
        format!("{n1} event for the first frame, {n2} for the second ({t2:?})"),
    );
    c.check(
        &format!("{tag}both frames there"),
        drain(rx, 2) == 2,
        "rx_burst".into(),
    );

    // Armed with a frame already waiting: at once.
    send(pool, tx, frame)?;
    // The device delivers in microseconds; give it plenty.
    std::thread::sleep(Duration::from_millis(50));
    intr_enable(rx, true);
    let (n, t) = epoll(1000);
    intr_enable(rx, false);
    c.check(
        &format!("{tag}at once when a frame waits"),
        n == 1 && t < Duration::from_millis(500),
        format!("{n} event after {t:?}"),
    );
    drain(rx, 1);

    // Enabled then disabled: a frame does not wake.
    intr_enable(rx, true);
    intr_enable(rx, false);
    send(pool, tx, frame)?;
    let (n, t) = epoll(200);
    c.check(
        &format!("{tag}quiet when disabled"),
        n == 0,
        format!("{n} events in {t:?}"),
    );
    c.check(
        &format!("{tag}that frame is there"),
        drain(rx, 1) == 1,
        "rx_burst".into(),
    );
    Ok(())
}

/// The power monitor condition of queue 0 of `port` (`rte_eth_get_monitor_addr`).
fn monitor_cond(port: u16) -> (i32, sys::rte_power_monitor_cond) {
    // SAFETY: plain data; all-zero is an empty condition for the driver to fill.
    let mut pmc: sys::rte_power_monitor_cond = unsafe { core::mem::zeroed() };
    // SAFETY: a configured port's queue 0 and a condition to fill.
    let rc = unsafe { sys::rte_eth_get_monitor_addr(port, 0, &mut pmc) };
    (rc, pmc)
}

/// What `rte_power_monitor` decides about a condition now: the driver's callback on the
/// watched word's current value (-1: do not sleep, a completion is there; 0: sleep).
fn monitor_verdict(pmc: &sys::rte_power_monitor_cond) -> i32 {
    // SAFETY: the driver's condition names a live, 8-byte aligned ring word (size 8) that
    // the device writes atomically; read it the same way.
    let v = unsafe { (*(pmc.addr as *const AtomicU64)).load(Ordering::Acquire) };
    match pmc.fn_ {
        // SAFETY: the driver's callback, with its own opaque data.
        Some(f) => unsafe { f(v, pmc.opaque.as_ptr()) },
        None => 0,
    }
}

/// The power library's MONITOR mode (`rte_power_ethdev_pmgmt_queue_enable`): it asks the
/// driver where the next completion will be written and sleeps (UMONITOR/UMWAIT) until that
/// word changes, unless the driver's callback says a completion is already there. Checked
/// on the started receiver `rx` with an empty queue.
fn monitor(c: &mut Checks, pool: &Pool, rx: u16, tx: u16, frame: &[u8]) -> Result<(), String> {
    let (rc, pmc) = monitor_cond(rx);
    c.check(
        "monitor: condition",
        rc == 0 && !pmc.addr.is_null() && pmc.size == 8 && pmc.fn_.is_some(),
        format!("rte_eth_get_monitor_addr: {rc}, size {}", pmc.size),
    );
    if rc != 0 || pmc.addr.is_null() {
        return Ok(());
    }
    c.check(
        "monitor: sleeps on an empty queue",
        monitor_verdict(&pmc) == 0,
        "the callback on the watched word".into(),
    );
    send(pool, tx, frame)?;
    // The device's write to the watched word is what ends the sleep.
    let deadline = Instant::now() + Duration::from_secs(1);
    while monitor_verdict(&pmc) == 0 && Instant::now() < deadline {
        std::hint::spin_loop();
    }
    c.check(
        "monitor: the frame's completion ends the sleep",
        monitor_verdict(&pmc) == -1,
        "the watched word within a second of the frame".into(),
    );
    let (rc, again) = monitor_cond(rx);
    c.check(
        "monitor: no sleep with a frame waiting",
        rc == 0 && again.addr == pmc.addr && monitor_verdict(&again) == -1,
        format!("rc {rc}, same word: {}", again.addr == pmc.addr),
    );
    c.check(
        "monitor: the frame is there",
        drain(rx, 1) == 1,
        "rx_burst".into(),
    );
    let (rc, next) = monitor_cond(rx);
    c.check(
        "monitor: the next completion watched after the burst",
        rc == 0 && next.addr != pmc.addr && monitor_verdict(&next) == 0,
        format!("rc {rc}, moved: {}", next.addr != pmc.addr),
    );
    // The EAL call itself: -ENOTSUP on CPUs without UMONITOR/UMWAIT (DPDK 22.11 on x86);
    // otherwise it returns at once (deadline 0) having accepted the condition.
    // SAFETY: a filled condition.
    let rc = unsafe { sys::rte_power_monitor(&next, 0) };
    c.check(
        "monitor: rte_power_monitor accepts the condition",
        rc == 0 || rc == -ENOTSUP,
        format!("rte_power_monitor: {rc}"),
    );
    Ok(())
}

fn run() -> Result<bool, String> {
    let args: Vec<String> = std::env::args().collect();
    let app = dpdk::eal_init(&args)?;
    fbnic_apps::check_args(&app, &[])?;
    let rx = dpdk::port_by_name("net_fbnic0")?;
    let tx = dpdk::port_by_name("net_fbnic1")?;
    let pool = Pool::create("intr_check", 4095, 256)?;
    let conf = PortConf {
        rx_intr: true,
        ..Default::default()
    };
    dpdk::configure(rx, &conf, &pool)?;
    dpdk::configure(tx, &PortConf::default(), &pool)?;
    dpdk::start(rx)?;
    dpdk::start(tx)?;
    dpdk::wait_link_up(rx, Duration::from_secs(5))?;
    let dst = dpdk::mac_addr(rx)?;
    let src = dpdk::mac_addr(tx)?;
    let flow = Flow::random(Kind::ALL[0], &mut Rng::new(7));
    let frame = flow.frame(dst, src, 1, 64);

    let mut c = Checks::new(P);
    c.check(
        "event added to epoll",
        ctl_add(rx) == 0,
        "rx_intr_ctl_q ADD".into(),
    );
    round(&mut c, "", &pool, rx, tx, &frame)?;
    monitor(&mut c, &pool, rx, tx, &frame)?;

    // Stop and start: the interrupts are set up again (new events to add).
    dpdk::stop(rx)?;
    dpdk::start(rx)?;
    c.check(
        "event added after restart",
        ctl_add(rx) == 0,
        "rx_intr_ctl_q ADD".into(),
    );
    round(&mut c, "after restart: ", &pool, rx, tx, &frame)?;

    // A port started without intr_conf.rxq has none.
    let rc = intr_enable(tx, true);
    c.check(
        "refused without intr_conf.rxq",
        rc == -ENOTSUP,
        format!("rx_intr_enable: {rc}"),
    );
    let rc = ctl_add(tx);
    c.check(
        "no handle without intr_conf.rxq",
        rc == -ENOTSUP,
        format!("rx_intr_ctl_q: {rc}"),
    );

    dpdk::stop(tx)?;
    dpdk::stop(rx)?;
    dpdk::close(tx)?;
    dpdk::close(rx)?;
    let pass = c.finish();
    dpdk::eal_cleanup();
    Ok(pass)
}
