//! Where a latency tail comes from: how long the threads that move the frames (the model's
//! engine, the measuring lcore) waited for a CPU during a measurement, and which other
//! threads on the machine ran meanwhile. Read from `/proc/<pid>/task/<tid>/schedstat`
//! (nanoseconds on a CPU, nanoseconds runnable but waiting, timeslices): while the engine or
//! the lcore waits, no frame moves, and with the sender's schedule kept (coordinated
//! omission) every frame due in that time is charged the wait.

use std::collections::HashMap;

/// One thread's counters.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Thread {
    name: String,
    /// Ours (this process) or another process's.
    own: bool,
    run_ns: u64,
    wait_ns: u64,
}

/// Every thread on the machine at one instant, by (pid, tid).
#[derive(Clone, Debug, Default)]
pub struct Snapshot(HashMap<(u32, u32), Thread>);

/// What changed between two snapshots.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Waits {
    /// Milliseconds the model's engine thread waited for a CPU.
    pub engine_ms: f64,
    /// Milliseconds the measuring lcore's thread waited for a CPU.
    pub lcore_ms: f64,
    /// Milliseconds of CPU time other processes' threads used, and the three that used most
    /// (name, ms).
    pub others_ms: f64,
    pub top_others: Vec<(String, f64)>,
    /// Of the engine and the lcore thread, how many were found (2 when both were).
    pub found: u32,
}

/// Parses a schedstat line: `run_ns wait_ns timeslices`.
fn parse_schedstat(s: &str) -> Option<(u64, u64)> {
    let mut it = s.split_whitespace().map(|w| w.parse::<u64>().ok());
    Some((it.next()??, it.next()??))
}

/// Reads every thread of every process (threads that vanish while being read are skipped).
pub fn snapshot() -> Snapshot {
    let me = std::process::id();
    let mut all = HashMap::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Snapshot(all);
    };
    for p in procs.flatten() {
        let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(tasks) = std::fs::read_dir(p.path().join("task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let Some(tid) = t.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let path = t.path();
            let (Ok(comm), Ok(stat)) = (
                std::fs::read_to_string(path.join("comm")),
                std::fs::read_to_string(path.join("schedstat")),
            ) else {
                continue;
            };
            if let Some((run_ns, wait_ns)) = parse_schedstat(&stat) {
                let name = comm.trim().to_string();
                all.insert(
                    (pid, tid),
                    Thread {
                        name,
                        own: pid == me,
                        run_ns,
                        wait_ns,
                    },
                );
            }
        }
    }
    Snapshot(all)
}

/// The waits from `before` to `after`. Ours: the engine is the thread named `fbnic-engine`;
/// the measuring lcore is the DPDK worker thread whose name ends in `-<lcore>`.
pub fn between(before: &Snapshot, after: &Snapshot, lcore: u32) -> Waits {
    let ms = |ns: u64| ns as f64 / 1e6;
    let lcore_suffix = format!("-{lcore}");
    let mut w = Waits::default();
    let mut others: HashMap<&str, u64> = HashMap::new();
    for (key, a) in &after.0 {
        // A thread that started during the measurement counts from zero.
        let (run0, wait0) = before.0.get(key).map_or((0, 0), |b| (b.run_ns, b.wait_ns));
        let (run, wait) = (
            a.run_ns.saturating_sub(run0),
            a.wait_ns.saturating_sub(wait0),
        );
        if a.own {
            if a.name == "fbnic-engine" {
                w.engine_ms += ms(wait);
                w.found += 1;
            } else if a.name.ends_with(&lcore_suffix) && a.name.contains("worker") {
                w.lcore_ms += ms(wait);
                w.found += 1;
            }
        } else if run > 0 {
            *others.entry(a.name.as_str()).or_default() += run;
            w.others_ms += ms(run);
        }
    }
    let mut top: Vec<(&str, u64)> = others.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    w.top_others = top
        .into_iter()
        .take(3)
        .map(|(n, ns)| (n.to_string(), ms(ns)))
        .collect();
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread(name: &str, own: bool, run_ns: u64, wait_ns: u64) -> Thread {
        Thread {
            name: name.into(),
            own,
            run_ns,
            wait_ns,
        }
    }

    #[test]
    fn waits_of_our_threads_and_cpu_time_of_the_others() {
        assert_eq!(parse_schedstat("123 456 7\n"), Some((123, 456)));
        assert_eq!(parse_schedstat("123"), None);
        let before = Snapshot(HashMap::from([
            ((10, 11), thread("fbnic-engine", true, 0, 1_000_000)),
            ((10, 12), thread("rte-worker-1", true, 0, 0)),
            ((10, 13), thread("rte-worker-2", true, 0, 0)),
            ((77, 77), thread("kdamond.0", false, 5_000_000, 0)),
            ((90, 90), thread("sshd", false, 1_000_000, 0)),
        ]));
        let after = Snapshot(HashMap::from([
            ((10, 11), thread("fbnic-engine", true, 9, 3_500_000)),
            ((10, 12), thread("rte-worker-1", true, 9, 250_000)),
            ((10, 13), thread("rte-worker-2", true, 9, 9_000_000)),
            ((77, 77), thread("kdamond.0", false, 9_000_000, 0)),
            ((90, 90), thread("sshd", false, 1_000_000, 0)),
            // Started during the run.
            ((91, 91), thread("cron", false, 500_000, 0)),
        ]));
        let w = between(&before, &after, 1);
        assert_eq!(w.engine_ms, 2.5);
        assert_eq!(w.lcore_ms, 0.25);
        assert_eq!(w.found, 2);
        assert_eq!(w.others_ms, 4.5);
        assert_eq!(
            w.top_others,
            [("kdamond.0".to_string(), 4.0), ("cron".to_string(), 0.5)]
        );
    }
}
