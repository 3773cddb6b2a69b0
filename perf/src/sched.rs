//! Scheduler statistics of a process's threads (`/proc/<pid>/task/<tid>/schedstat`): time on
//! a CPU and time runnable but waiting for one. On a shared machine the waiting time is what
//! other work took from a polling thread, so each sample says how disturbed it was.

use std::time::Instant;

/// One thread's counters at one instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadTimes {
    /// Thread name (`comm`).
    pub name: String,
    /// Nanoseconds on a CPU.
    pub run_ns: u64,
    /// Nanoseconds runnable but waiting for a CPU.
    pub wait_ns: u64,
}

/// Parses a schedstat line: `run_ns wait_ns timeslices`.
pub fn parse_schedstat(s: &str) -> Option<(u64, u64)> {
    let mut it = s.split_whitespace().map(|w| w.parse::<u64>().ok());
    Some((it.next()??, it.next()??))
}

/// Every thread of `pid` (empty if the process is gone).
pub fn threads(pid: u32) -> Vec<ThreadTimes> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let p = e.ok()?.path();
        let name = std::fs::read_to_string(p.join("comm")).ok()?;
        let (run_ns, wait_ns) =
            parse_schedstat(&std::fs::read_to_string(p.join("schedstat")).ok()?)?;
        Some(ThreadTimes {
            name: name.trim().to_string(),
            run_ns,
            wait_ns,
        })
    })
    .collect()
}

/// The threads of a process at an instant.
#[derive(Clone, Debug)]
pub struct Probe {
    /// When.
    pub at: Instant,
    /// The threads.
    pub threads: Vec<ThreadTimes>,
}

impl Probe {
    /// Reads `pid`'s threads now.
    pub fn take(pid: u32) -> Self {
        Self {
            at: Instant::now(),
            threads: threads(pid),
        }
    }

    fn find(&self, prefix: &[&str]) -> Option<&ThreadTimes> {
        self.threads
            .iter()
            .find(|t| prefix.iter().any(|p| t.name.starts_with(p)))
    }
}

/// Percent of wall time a thread (first whose name starts with one of `prefix`) spent on a
/// CPU and waiting for one between two probes; NaN if absent.
pub fn shares(a: &Probe, b: &Probe, prefix: &[&str]) -> (f64, f64) {
    let wall = b.at.duration_since(a.at).as_nanos() as f64;
    match (a.find(prefix), b.find(prefix)) {
        (Some(x), Some(y)) if wall > 0.0 => (
            100.0 * y.run_ns.saturating_sub(x.run_ns) as f64 / wall,
            100.0 * y.wait_ns.saturating_sub(x.wait_ns) as f64 / wall,
        ),
        _ => (f64::NAN, f64::NAN),
    }
}

/// Name prefixes of DPDK's worker lcore threads (22.11: `rte-worker-N`; later `dpdk-worker`).
pub const WORKER: [&str; 3] = ["rte-worker", "lcore-worker", "dpdk-worker"];
/// Name of the device model's engine thread.
pub const ENGINE: [&str; 1] = ["fbnic-engine"];

/// Cache-line round trip between two CPUs, ns: two threads pinned to `a` and `b` bounce a
/// counter on one cache line, `batches` batches of 1000 round trips; the median batch is
/// returned (a batch in which either thread was preempted is an outlier, not a figure). It is
/// what a cross-core hand-over costs right now (the hypervisor may place the vCPUs nearer or
/// farther apart from run to run); a device model on one core and a driver on the other pay
/// it for every cache line they share. None if the threads could not be pinned or stalled.
pub fn pingpong_ns(a: usize, b: usize, batches: u32) -> Option<f64> {
    pingpong(a, b, batches, 1000, false)
}

/// The same, measured while both CPUs are busy polling (a forwarding run): 10 batches of 100
/// round trips by two SCHED_FIFO threads, which take their CPUs from the polling threads at
/// once and for as long as the probe lasts (about 0.1 ms with the CPUs near, 0.5 ms far),
/// so each second of a run can say where its vCPUs were. Without the privilege for
/// SCHED_FIFO (not root) the threads run at normal priority: slower to start, the same
/// figure.
pub fn pingpong_busy_ns(a: usize, b: usize) -> Option<f64> {
    pingpong(a, b, 10, 100, true)
}

fn pingpong(a: usize, b: usize, batches: u32, per_batch: u64, realtime: bool) -> Option<f64> {
    if a == b {
        // Two spinning threads on one CPU would only measure the scheduler.
        return None;
    }
    use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    #[repr(align(128))]
    struct Line(AtomicU64);

    // The writer turns 2k into 2k+1, the other side 2k+1 into 2k+2: one round trip per k.
    let side = move |line: &Line, start: &(Barrier, AtomicU32), cpu: usize, writer: bool| {
        if core_affinity::set_for_current(core_affinity::CoreId { id: cpu }) {
            if realtime {
                set_fifo();
            }
            start.1.fetch_add(1, Ordering::Relaxed);
        }
        // Both threads are on their CPUs (and real-time) before either spins: a spinning
        // real-time thread would keep the other from ever running on the same CPU.
        start.0.wait();
        if start.1.load(Ordering::Relaxed) != 2 {
            return None;
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut times = Vec::with_capacity(batches as usize);
        let mut k = 0u64;
        for _ in 0..batches {
            let t = Instant::now();
            for _ in 0..per_batch {
                let (wait_for, answer) = if writer {
                    (2 * k, 2 * k + 1)
                } else {
                    (2 * k + 1, 2 * k + 2)
                };
                let mut spins = 0u32;
                while line.0.load(Ordering::Acquire) != wait_for {
                    std::hint::spin_loop();
                    spins = spins.wrapping_add(1);
                    if spins & 0xffff == 0 && Instant::now() > deadline {
                        return None;
                    }
                }
                line.0.store(answer, Ordering::Release);
                k += 1;
            }
            times.push(t.elapsed().as_nanos() as f64 / per_batch as f64);
        }
        Some(times)
    };

    let line = Arc::new(Line(AtomicU64::new(0)));
    let start = Arc::new((Barrier::new(2), AtomicU32::new(0)));
    let (l1, s1) = (line.clone(), start.clone());
    let t1 = std::thread::spawn(move || side(&l1, &s1, a, true));
    let t2 = std::thread::spawn(move || side(&line, &start, b, false));
    let r1 = t1.join().ok().flatten();
    let r2 = t2.join().ok().flatten();
    r1.zip(r2).and_then(|(x, _)| crate::stats::median(&x))
}

/// Makes the calling thread SCHED_FIFO (priority 1) if permitted; it stays as it was if not.
fn set_fifo() {
    let param = libc::sched_param { sched_priority: 1 };
    // SAFETY: sched_setscheduler on the calling thread (pid 0) with a valid sched_param.
    unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) };
}

/// (busy, total) jiffies of all CPUs from /proc/stat's `cpu` line.
pub fn cpu_jiffies() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    parse_cpu_line(stat.lines().next()?)
}

/// (busy, total) from a `/proc/stat` `cpu` line: busy is everything but idle and iowait.
pub fn parse_cpu_line(line: &str) -> Option<(u64, u64)> {
    let mut it = line.split_whitespace();
    if it.next()? != "cpu" {
        return None;
    }
    let v: Vec<u64> = it.take(8).filter_map(|w| w.parse().ok()).collect();
    if v.len() < 5 {
        return None;
    }
    let total: u64 = v.iter().sum();
    Some((total - v[3] - v[4], total))
}

/// Waits (up to `max_wait`) until the machine's CPUs are less than `max_busy_pct` busy over
/// half a second, so that a run does not start while other work holds the CPUs its polling
/// threads need. Returns the busy share seen last, percent of all CPUs.
pub fn wait_quiet(max_busy_pct: f64, max_wait: std::time::Duration) -> f64 {
    let until = Instant::now() + max_wait;
    loop {
        let busy = match cpu_jiffies() {
            Some(a) => {
                std::thread::sleep(std::time::Duration::from_millis(500));
                match cpu_jiffies() {
                    Some(b) if b.1 > a.1 => 100.0 * (b.0 - a.0) as f64 / (b.1 - a.1) as f64,
                    _ => return f64::NAN,
                }
            }
            None => return f64::NAN,
        };
        if busy < max_busy_pct || Instant::now() >= until {
            return busy;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn reads_our_own_threads() {
        assert_eq!(parse_schedstat("12 34 5\n"), Some((12, 34)));
        assert_eq!(parse_schedstat("x"), None);
        let me = threads(std::process::id());
        assert!(!me.is_empty());
        let a = Probe::take(std::process::id());
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(30) {
            std::hint::spin_loop();
        }
        let b = Probe::take(std::process::id());
        let name = a
            .threads
            .first()
            .map(|t| t.name.clone())
            .unwrap_or_default();
        let (run, wait) = shares(&a, &b, &[name.as_str()]);
        assert!(run.is_finite() && wait.is_finite());
        assert!(shares(&a, &b, &["no-such-thread"]).0.is_nan());
    }

    #[test]
    fn cpu_lines() {
        assert_eq!(
            parse_cpu_line("cpu  10 0 5 80 5 0 0 0 0 0"),
            Some((15, 100))
        );
        assert_eq!(parse_cpu_line("cpu0 1 2 3 4 5"), None);
        assert!(cpu_jiffies().is_some());
    }

    #[test]
    fn pingpong_measures_a_round_trip_between_two_cpus() {
        assert_eq!(pingpong_ns(0, 0, 5), None, "one CPU has no round trip");
        let cpus = core_affinity::get_core_ids().map_or(0, |c| c.len());
        if cpus < 2 {
            return;
        }
        // A cache-line round trip takes tens to hundreds of nanoseconds; on a busy machine a
        // batch can be preempted, but the median of several is still a round trip.
        for ns in [pingpong_ns(0, cpus - 1, 5), pingpong_busy_ns(0, cpus - 1)] {
            let ns = ns.expect("two CPUs: a figure");
            assert!((1.0..100_000.0).contains(&ns), "{ns} ns");
        }
    }
}
