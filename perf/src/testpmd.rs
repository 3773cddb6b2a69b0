//! One dpdk-testpmd run: io forwarding between two ports of one PMD on one forwarding lcore,
//! sampled once a second.
//!
//! testpmd runs interactively with its command line on a pipe. After the ports are up the
//! harness sends `start tx_first N` (N bursts per port put packets in flight), waits for the
//! warm-up, then sends `show fwd stats all` once a second, then `stop` and `quit`. With
//! `--record-core-cycles`, each `show fwd stats all` prints the forwarding lcore's busy
//! cycles and packet count so far; with `--record-burst-stats` the Rx and Tx burst counts
//! per port. The differences between consecutive snapshots give per-second figures:
//!
//! - cycles/packet = delta busy cycles / delta received packets. testpmd counts cycles only
//!   around Rx bursts that returned packets (and the Tx burst that follows), so polls that
//!   find nothing cost nothing here;
//! - Mpps = delta received packets / delta wall time (the harness's clock, at the instants
//!   the commands were written);
//! - average burst = delta received packets / delta Tx bursts: testpmd records one Tx burst
//!   per Rx burst that returned packets, so this is the mean size of non-empty Rx bursts;
//! - empty polls = the share of Rx bursts that returned nothing.
//!
//! testpmd's stdout goes through `stdbuf -oL` so that its stdio output and the command
//! line's echo (written unbuffered) only interleave at line boundaries.

use std::fmt;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::proc::{Output, Session};
use crate::sched::{self, Probe};

/// The PMDs the harness compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pmd {
    /// net_fbnic: two ports cabled to each other through the embedded model.
    Fbnic,
    /// net_null: no device at all (Rx allocates mbufs, Tx frees them): the floor.
    Null,
    /// net_memif: a server and a client port in one process over a shared-memory socket.
    Memif,
    /// net_ring: each port's Tx ring is its own Rx ring.
    Ring,
}

impl Pmd {
    /// Every PMD, in the harness's order.
    pub const ALL: [Pmd; 4] = [Pmd::Fbnic, Pmd::Null, Pmd::Memif, Pmd::Ring];

    /// The short name used on the command line, in tables and files.
    pub fn name(self) -> &'static str {
        match self {
            Pmd::Fbnic => "fbnic",
            Pmd::Null => "null",
            Pmd::Memif => "memif",
            Pmd::Ring => "ring",
        }
    }

    /// The DPDK driver name.
    pub fn driver(self) -> &'static str {
        match self {
            Pmd::Fbnic => "net_fbnic",
            Pmd::Null => "net_null",
            Pmd::Memif => "net_memif",
            Pmd::Ring => "net_ring",
        }
    }
}

impl fmt::Display for Pmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Pmd {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Pmd::ALL
            .into_iter()
            .find(|p| p.name() == s || p.driver() == s)
            .ok_or_else(|| "unknown PMD (known: fbnic, null, memif, ring)".to_string())
    }
}

/// How testpmd is run (the same for every PMD except the vdevs).
#[derive(Clone, Debug)]
pub struct Config {
    /// dpdk-testpmd.
    pub testpmd: PathBuf,
    /// librte_net_fbnic.so (loaded with `-d` for net_fbnic runs only).
    pub fbnic_lib: PathBuf,
    /// EAL `-l` (the main lcore is the first; the forwarding lcore the next).
    pub lcores: String,
    /// CPU for the model's engine thread (`model_cpu=`): not the forwarding lcore's.
    pub model_cpu: usize,
    /// CPU of the forwarding lcore (for the core-to-core latency probe before each run).
    pub fwd_cpu: usize,
    /// Packets each port puts in flight at start (`start tx_first <inflight / burst>`).
    pub inflight: u32,
    /// Rx and Tx descriptors per queue.
    pub ring_size: u32,
    /// Time from the first packets to the first sample.
    pub warmup: Duration,
    /// Number of one-second samples.
    pub secs: u32,
    /// Time between the prompt and the start (links come up; memif connects).
    pub settle: Duration,
    /// Directory (root-only) for the memif socket.
    pub memif_dir: PathBuf,
    /// Wrap testpmd in `stdbuf -oL` (line-buffered stdout).
    pub stdbuf: bool,
    /// Extra devargs for both net_fbnic ports (e.g. `link=25G-CR`).
    pub fbnic_devargs: String,
    /// Before each run, wait up to this long for the machine's CPUs to be mostly idle
    /// (other work on a shared machine steals from the polling threads).
    pub quiet_wait: Duration,
    /// Measure the core-to-core round trip in the middle of each sample
    /// ([`sched::pingpong_busy_ns`]): the vCPUs' placement moves within seconds.
    pub c2c_probe: bool,
}

impl Config {
    /// The EAL vdev arguments for `pmd`.
    pub fn vdevs(&self, pmd: Pmd, tag: &str) -> Vec<String> {
        let extra = if self.fbnic_devargs.is_empty() {
            String::new()
        } else {
            format!(",{}", self.fbnic_devargs)
        };
        let v = match pmd {
            Pmd::Fbnic => vec![
                format!("net_fbnic0,model_cpu={}{extra}", self.model_cpu),
                format!("net_fbnic1{extra}"),
            ],
            Pmd::Null => vec!["net_null0".into(), "net_null1".into()],
            Pmd::Memif => {
                let sock = self.memif_dir.join(format!("memif-{tag}.sock"));
                let s = sock.display();
                vec![
                    format!("net_memif0,role=server,id=0,socket={s},socket-abstract=no"),
                    format!("net_memif1,role=client,id=0,socket={s},socket-abstract=no"),
                ]
            }
            Pmd::Ring => vec!["net_ring0".into(), "net_ring1".into()],
        };
        v.into_iter()
            .flat_map(|d| ["--vdev".to_string(), d])
            .collect()
    }

    /// The testpmd command for `pmd` with burst size `burst`.
    pub fn command(&self, pmd: Pmd, burst: u32, tag: &str) -> Command {
        let mut c = if self.stdbuf {
            let mut c = Command::new("stdbuf");
            c.arg("-oL").arg(&self.testpmd);
            c
        } else {
            Command::new(&self.testpmd)
        };
        c.args(["-l", &self.lcores, "--in-memory", "--no-pci"]);
        if pmd == Pmd::Fbnic {
            c.arg("-d").arg(&self.fbnic_lib);
        }
        c.args(self.vdevs(pmd, tag));
        c.arg("--");
        c.args([
            "-i",
            "--forward-mode=io",
            "--nb-cores=1",
            "--rxq=1",
            "--txq=1",
            "--txpkts=64",
            "--record-core-cycles",
            "--record-burst-stats",
        ]);
        c.arg(format!("--burst={burst}"));
        c.arg(format!("--rxd={}", self.ring_size));
        c.arg(format!("--txd={}", self.ring_size));
        c
    }

    /// `start tx_first` bursts for `burst`: enough to keep `inflight` packets per port.
    pub fn txfirst_bursts(&self, burst: u32) -> u32 {
        (self.inflight / burst.max(1)).max(1)
    }
}

/// One port's section of `show fwd stats all`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortFwd {
    /// RX-packets.
    pub rx_packets: u64,
    /// TX-packets.
    pub tx_packets: u64,
    /// RX-bursts (every poll, including empty ones).
    pub rx_bursts: u64,
    /// TX-bursts (one per poll that returned packets).
    pub tx_bursts: u64,
}

/// One `show fwd stats all` (or the final one printed by `stop`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Per port, in order of appearance.
    pub ports: Vec<PortFwd>,
    /// Accumulated RX-packets.
    pub rx_total: u64,
    /// Accumulated TX-packets.
    pub tx_total: u64,
    /// `total cycles=` (busy cycles of the forwarding lcore), if printed.
    pub cycles: Option<u64>,
    /// `total io packets=`, if printed.
    pub cycle_packets: Option<u64>,
    /// `at N MHz Clock`, if printed.
    pub tsc_mhz: Option<u64>,
    /// `Rx-pps` of each port from the `show port stats all` that followed (testpmd's own
    /// rate over the time since its previous `show port stats`, timed with the TSC).
    pub rx_pps: Vec<u64>,
    /// Printed after "Telling cores to stop" (the final statistics).
    pub after_stop: bool,
}

impl Snapshot {
    /// Sum of Rx bursts over ports.
    pub fn rx_bursts(&self) -> u64 {
        self.ports.iter().map(|p| p.rx_bursts).sum()
    }

    /// Sum of Tx bursts over ports.
    pub fn tx_bursts(&self) -> u64 {
        self.ports.iter().map(|p| p.tx_bursts).sum()
    }
}

/// The first unsigned integer at or after the start of `s` (skipping non-digits).
fn first_u64(s: &str) -> Option<u64> {
    let start = s.find(|c: char| c.is_ascii_digit())?;
    let digits: &str = &s[start..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

/// The integer following `key` in `line`.
fn after(line: &str, key: &str) -> Option<u64> {
    line.find(key)
        .and_then(|i| first_u64(&line[i + key.len()..]))
}

/// Parses every forward-statistics snapshot in testpmd's output.
///
/// Lines are matched by the text they contain, not where it starts (the command line's
/// prompt may precede them).
pub fn parse_snapshots(text: &str) -> Vec<Snapshot> {
    #[derive(PartialEq)]
    enum In {
        Nothing,
        Port,
        Accum,
        Nic,
    }
    let mut out = Vec::new();
    let mut cur = Snapshot::default();
    let mut state = In::Nothing;
    let mut accum_seen = false;
    let mut stopping = false;
    for line in text.lines() {
        if line.contains("Telling cores to stop") {
            stopping = true;
        }
        if line.contains("Forward statistics for port") {
            if accum_seen {
                out.push(std::mem::take(&mut cur));
                accum_seen = false;
            }
            cur.after_stop = stopping;
            cur.ports.push(PortFwd::default());
            state = In::Port;
            continue;
        }
        if line.contains("Accumulated forward statistics") {
            state = In::Accum;
            accum_seen = true;
            continue;
        }
        if line.contains("NIC statistics for port") {
            state = In::Nic;
            continue;
        }
        if line.contains("CPU cycles/packet=") {
            cur.cycles = after(line, "total cycles=");
            cur.cycle_packets = after(line, "packets=");
            cur.tsc_mhz = after(line, ") at ");
            continue;
        }
        match state {
            In::Nothing => {}
            In::Port => {
                let Some(p) = cur.ports.last_mut() else {
                    continue;
                };
                if let Some(v) = after(line, "RX-packets:") {
                    p.rx_packets = v;
                }
                if let Some(v) = after(line, "TX-packets:") {
                    p.tx_packets = v;
                }
                if let Some(v) = after(line, "RX-bursts :") {
                    p.rx_bursts = v;
                }
                if let Some(v) = after(line, "TX-bursts :") {
                    p.tx_bursts = v;
                }
            }
            In::Nic => {
                if let Some(v) = after(line, "Rx-pps:") {
                    cur.rx_pps.push(v);
                }
            }
            In::Accum => {
                if let Some(v) = after(line, "RX-packets:") {
                    cur.rx_total = v;
                }
                if let Some(v) = after(line, "TX-packets:") {
                    cur.tx_total = v;
                }
            }
        }
    }
    if accum_seen {
        out.push(cur);
    }
    out
}

/// Figures over one interval between two snapshots.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Interval length in seconds (harness clock).
    pub secs: f64,
    /// Packets received in the interval.
    pub packets: u64,
    /// Busy cycles of the forwarding lcore in the interval.
    pub cycles: u64,
    /// cycles / packets (NaN if no packets).
    pub cycles_per_pkt: f64,
    /// Million packets received per second: testpmd's per-port Rx-pps summed when it printed
    /// them (timed by testpmd itself), else packets over the harness's interval.
    pub mpps: f64,
    /// Mean size of the Rx bursts that returned packets.
    pub avg_burst: f64,
    /// Percentage of Rx bursts that returned nothing.
    pub empty_polls_pct: f64,
    /// Percent of the interval the forwarding lcore's thread was on a CPU.
    pub fwd_run_pct: f64,
    /// Percent of the interval it was runnable but waiting (other work on its CPU).
    pub fwd_wait_pct: f64,
    /// Percent of the interval the model's engine thread was on a CPU (net_fbnic only).
    pub engine_run_pct: f64,
    /// Percent of the interval it was runnable but waiting.
    pub engine_wait_pct: f64,
    /// Core-to-core round trip measured in the middle of the interval, ns (NaN if not
    /// measured): where the vCPUs were during this sample.
    pub c2c_ns: f64,
}

impl Sample {
    /// Whether the polling threads had their CPUs: neither the forwarding lcore nor the
    /// model's engine waited for a CPU more than `max_wait_pct` percent of the interval
    /// (a thread that was not measured does not count).
    pub fn quiet(&self, max_wait_pct: f64) -> bool {
        let ok = |w: f64| w.is_nan() || w <= max_wait_pct;
        ok(self.fwd_wait_pct) && ok(self.engine_wait_pct)
    }

    /// The figures between snapshots `a` and `b` taken `secs` apart. None if a snapshot
    /// lacks the cycle counters or the counters went backwards.
    pub fn between(a: &Snapshot, b: &Snapshot, secs: f64) -> Option<Sample> {
        let cycles = b.cycles?.checked_sub(a.cycles?)?;
        let packets = b.rx_total.checked_sub(a.rx_total)?;
        let txb = b.tx_bursts().checked_sub(a.tx_bursts())?;
        let rxb = b.rx_bursts().checked_sub(a.rx_bursts())?;
        let div = |x: f64, y: f64| if y > 0.0 { x / y } else { f64::NAN };
        Some(Sample {
            secs,
            packets,
            cycles,
            cycles_per_pkt: div(cycles as f64, packets as f64),
            mpps: if b.rx_pps.iter().sum::<u64>() > 0 && !a.rx_pps.is_empty() {
                b.rx_pps.iter().sum::<u64>() as f64 / 1e6
            } else {
                div(packets as f64, secs * 1e6)
            },
            avg_burst: div(packets as f64, txb as f64),
            empty_polls_pct: if rxb > 0 {
                100.0 * (rxb.saturating_sub(txb)) as f64 / rxb as f64
            } else {
                f64::NAN
            },
            fwd_run_pct: f64::NAN,
            fwd_wait_pct: f64::NAN,
            engine_run_pct: f64::NAN,
            engine_wait_pct: f64::NAN,
            c2c_ns: f64::NAN,
        })
    }

    /// Adds the threads' CPU and wait shares between two probes.
    pub fn with_sched(mut self, a: &Probe, b: &Probe) -> Self {
        (self.fwd_run_pct, self.fwd_wait_pct) = sched::shares(a, b, &sched::WORKER);
        (self.engine_run_pct, self.engine_wait_pct) = sched::shares(a, b, &sched::ENGINE);
        self
    }
}

/// The result of one testpmd run.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// The PMD.
    pub pmd: Pmd,
    /// Burst size.
    pub burst: u32,
    /// Round number (from 0).
    pub round: u32,
    /// One sample per second after the warm-up.
    pub samples: Vec<Sample>,
    /// The whole measurement window (first to last sample snapshot).
    pub window: Sample,
    /// TSC frequency testpmd reported.
    pub tsc_mhz: Option<u64>,
    /// Packets sent per port at start.
    pub inflight: u32,
    /// Load average (1 min) before and after: other work on the machine.
    pub loadavg: (f64, f64),
    /// Cache-line round trip between the model's CPU and the forwarding CPU just before the
    /// run, ns ([`sched::pingpong_ns`]).
    pub c2c_ns: f64,
    /// The same round trip measured right after the run, ns.
    pub c2c_after_ns: f64,
    /// How busy the machine's CPUs were (percent) just before the run, when waited for.
    pub busy_before_pct: f64,
    /// The command line.
    pub cmdline: String,
}

/// A failed run: why, and the process's output.
#[derive(Debug)]
pub struct RunError {
    /// What went wrong.
    pub reason: String,
    /// The output, when the process ran.
    pub output: Option<Box<Output>>,
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.reason)?;
        if let Some(o) = &self.output {
            write!(f, "\n{}", o.failure_report(60))?;
        }
        Ok(())
    }
}

/// The 1-minute load average, NaN if unreadable.
pub fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// Runs testpmd once for `pmd` with burst size `burst` and samples it.
pub fn run(cfg: &Config, pmd: Pmd, burst: u32, round: u32) -> Result<RunResult, RunError> {
    let tag = format!("{}-{round}-{burst}", std::process::id());
    if pmd == Pmd::Memif {
        let _ = std::fs::remove_file(cfg.memif_dir.join(format!("memif-{tag}.sock")));
    }
    let busy_before_pct = if cfg.quiet_wait.is_zero() {
        f64::NAN
    } else {
        sched::wait_quiet(25.0, cfg.quiet_wait)
    };
    let c2c_ns = sched::pingpong_ns(cfg.model_cpu, cfg.fwd_cpu, 50).unwrap_or(f64::NAN);
    let cmd = cfg.command(pmd, burst, &tag);
    let budget = cfg.settle + cfg.warmup + Duration::from_secs(u64::from(cfg.secs) + 90);
    let load0 = loadavg();
    let mut s = Session::spawn(cmd, budget).map_err(|e| RunError {
        reason: e.to_string(),
        output: None,
    })?;
    let fail = |s: Session, reason: String| RunError {
        reason,
        output: Some(Box::new(s.finish(Duration::from_secs(5)))),
    };
    // Port start includes the firmware handshake on net_fbnic: allow a minute.
    let at = match s.wait_for("testpmd> ", 0, Duration::from_secs(60)) {
        Ok(at) => at,
        Err(e) => return Err(fail(s, format!("testpmd {e}"))),
    };
    std::thread::sleep(cfg.settle);
    let bursts = cfg.txfirst_bursts(burst);
    let t0 = match s.send(&format!("start tx_first {bursts}")) {
        Ok(t) => t,
        Err(e) => return Err(fail(s, format!("writing to testpmd: {e}"))),
    };
    if let Err(e) = s.wait_for("Logical Core", at, Duration::from_secs(10)) {
        return Err(fail(s, format!("forwarding did not start: testpmd {e}")));
    }
    let mut times = Vec::new();
    let mut probes = Vec::new();
    let mut c2c_during = Vec::new();
    let pid = s.pid();
    for k in 0..=cfg.secs {
        let second = t0 + cfg.warmup + Duration::from_secs(u64::from(k));
        Session::sleep_until(second);
        probes.push(Probe::take(pid));
        match s
            .send("show fwd stats all")
            .and_then(|t| s.send("show port stats all").map(|_| t))
        {
            Ok(t) => times.push(t),
            Err(e) => return Err(fail(s, format!("writing to testpmd: {e}"))),
        }
        if s.exited() {
            return Err(fail(s, "testpmd exited while forwarding".into()));
        }
        if cfg.c2c_probe && k < cfg.secs {
            Session::sleep_until(second + Duration::from_millis(500));
            c2c_during
                .push(sched::pingpong_busy_ns(cfg.model_cpu, cfg.fwd_cpu).unwrap_or(f64::NAN));
        }
    }
    // Let the last snapshot print before stopping.
    std::thread::sleep(Duration::from_millis(200));
    let _ = s.send("stop");
    let _ = s.send("quit");
    s.extend_deadline(Duration::from_secs(60));
    let out = s.finish(Duration::from_secs(10));
    let load1 = loadavg();
    let c2c_after_ns = sched::pingpong_ns(cfg.model_cpu, cfg.fwd_cpu, 50).unwrap_or(f64::NAN);
    let cmdline = out.cmdline.clone();
    if !out.success() {
        return Err(RunError {
            reason: format!("testpmd ({pmd}, burst {burst}) failed"),
            output: Some(Box::new(out)),
        });
    }
    let snaps: Vec<Snapshot> = parse_snapshots(&out.stdout)
        .into_iter()
        .filter(|s| !s.after_stop)
        .collect();
    if snaps.len() != times.len() {
        return Err(RunError {
            reason: format!(
                "expected {} statistics snapshots from testpmd, parsed {}",
                times.len(),
                snaps.len()
            ),
            output: Some(Box::new(out)),
        });
    }
    let mut samples = Vec::new();
    for i in 1..snaps.len() {
        let dt = times[i].duration_since(times[i - 1]).as_secs_f64();
        match Sample::between(&snaps[i - 1], &snaps[i], dt) {
            Some(mut x) => {
                x.c2c_ns = c2c_during.get(i - 1).copied().unwrap_or(f64::NAN);
                samples.push(x.with_sched(&probes[i - 1], &probes[i]))
            }
            None => {
                return Err(RunError {
                    reason: format!(
                    "snapshot {i} has no cycle counters or went backwards (no packets forwarded?)"
                ),
                    output: Some(Box::new(out)),
                })
            }
        }
    }
    let last = snaps.len() - 1;
    let window = Sample::between(
        &snaps[0],
        &snaps[last],
        times[last].duration_since(times[0]).as_secs_f64(),
    )
    .map(|w| {
        let mut w = w.with_sched(&probes[0], &probes[last]);
        // Rx-pps is per interval: the window's rate is their mean (equal intervals).
        let m: Vec<f64> = samples.iter().map(|s| s.mpps).collect();
        w.mpps = m.iter().sum::<f64>() / m.len().max(1) as f64;
        w
    });
    let Some(window) = window.filter(|w| w.packets > 0) else {
        return Err(RunError {
            reason: "no packets were forwarded in the measurement window".into(),
            output: Some(Box::new(out)),
        });
    };
    Ok(RunResult {
        pmd,
        burst,
        round,
        samples,
        window,
        tsc_mhz: snaps[last].tsc_mhz,
        inflight: bursts * burst,
        loadavg: (load0, load1),
        c2c_ns,
        c2c_after_ns,
        busy_before_pct,
        cmdline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two snapshots as testpmd 22.11 prints them, the second with the prompt echo glued to
    /// a line, then the final statistics after `stop`.
    const OUT: &str = "\
testpmd> show fwd stats all

  ---------------------- Forward statistics for port 0  ----------------------
  RX-packets: 1000           RX-dropped: 0             RX-total: 1000
  TX-packets: 1000           TX-dropped: 0             TX-total: 1000
  RX-bursts : 200 [50% of 0 pkts + 50% of 10 pkts]
  TX-bursts : 100 [100% of 10 pkts]
  ----------------------------------------------------------------------------

  ---------------------- Forward statistics for port 1  ----------------------
  RX-packets: 1000           RX-dropped: 0             RX-total: 1000
  TX-packets: 1000           TX-dropped: 0             TX-total: 1000
  RX-bursts : 200 [50% of 0 pkts + 50% of 10 pkts]
  TX-bursts : 100 [100% of 10 pkts]
  ----------------------------------------------------------------------------

  +++++++++++++++ Accumulated forward statistics for all ports+++++++++++++++
  RX-packets: 2000           RX-dropped: 0             RX-total: 2000
  TX-packets: 2000           TX-dropped: 0             TX-total: 2000
  ++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++

  CPU cycles/packet=50.00 (total cycles=100000 / total io packets=2000) at 2600 MHz Clock
testpmd> show port stats all

  ######################## NIC statistics for port 0  ########################
  RX-packets: 1000       RX-missed: 0          RX-bytes:  64000
  Throughput (since last show)
  Rx-pps:            0          Rx-bps:            0
  ############################################################################
testpmd> show fwd stats all

  ---------------------- Forward statistics for port 0  ----------------------
  RX-packets: 3000           RX-dropped: 0             RX-total: 3000
  TX-packets: 3000           TX-dropped: 0             TX-total: 3000
  RX-bursts : 400 [25% of 0 pkts + 75% of 10 pkts]
  TX-bursts : 300 [100% of 10 pkts]
  ----------------------------------------------------------------------------

testpmd>   ---------------------- Forward statistics for port 1  ----------------------
  RX-packets: 3000           RX-dropped: 0             RX-total: 3000
  TX-packets: 3000           TX-dropped: 0             TX-total: 3000
  RX-bursts : 400 [25% of 0 pkts + 75% of 10 pkts]
  TX-bursts : 300 [100% of 10 pkts]
  ----------------------------------------------------------------------------

  +++++++++++++++ Accumulated forward statistics for all ports+++++++++++++++
  RX-packets: 6000           RX-dropped: 0             RX-total: 6000
  TX-packets: 6000           TX-dropped: 0             TX-total: 6000
  ++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++

  CPU cycles/packet=50.00 (total cycles=300000 / total io packets=6000) at 2600 MHz Clock
testpmd> show port stats all

  ######################## NIC statistics for port 0  ########################
  RX-packets: 3000       RX-missed: 0          RX-bytes:  192000
  Throughput (since last show)
  Rx-pps:         4000          Rx-bps:      2048000
  ############################################################################

  ######################## NIC statistics for port 1  ########################
  RX-packets: 3000       RX-missed: 0          RX-bytes:  192000
  Throughput (since last show)
  Rx-pps:         4000          Rx-bps:      2048000
  ############################################################################
testpmd> stop
Telling cores to stop...
Waiting for lcores to finish...

  ---------------------- Forward statistics for port 0  ----------------------
  RX-packets: 3100           RX-dropped: 0             RX-total: 3100
  TX-packets: 3100           TX-dropped: 0             TX-total: 3100
  ----------------------------------------------------------------------------

  +++++++++++++++ Accumulated forward statistics for all ports+++++++++++++++
  RX-packets: 3100           RX-dropped: 0             RX-total: 3100
  TX-packets: 3100           TX-dropped: 0             TX-total: 3100
  ++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++

Done.
";

    #[test]
    fn parses_snapshots() {
        let s = parse_snapshots(OUT);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].ports.len(), 2);
        assert_eq!(s[0].rx_total, 2000);
        assert_eq!(s[0].cycles, Some(100_000));
        assert_eq!(s[0].cycle_packets, Some(2000));
        assert_eq!(s[0].tsc_mhz, Some(2600));
        assert_eq!(s[0].rx_bursts(), 400);
        assert_eq!(s[1].ports[1].tx_bursts, 300);
        assert_eq!(s[1].tx_bursts(), 600);
        assert!(!s[1].after_stop);
        assert!(s[2].after_stop);
        assert_eq!(s[2].cycles, None);
    }

    #[test]
    fn samples_are_differences() {
        let s = parse_snapshots(OUT);
        let x = Sample::between(&s[0], &s[1], 0.5).unwrap();
        assert_eq!(x.packets, 4000);
        assert_eq!(x.cycles, 200_000);
        assert_eq!(x.cycles_per_pkt, 50.0);
        assert_eq!(x.mpps, 8000.0 / 1e6, "testpmd's own Rx-pps");
        assert_eq!(s[1].rx_pps, vec![4000, 4000]);
        let mut a = s[0].clone();
        a.rx_pps.clear();
        let y = Sample::between(&a, &s[1], 0.5).unwrap();
        assert_eq!(
            y.mpps,
            4000.0 / 0.5 / 1e6,
            "no Rx-pps before: harness clock"
        );
        assert_eq!(x.avg_burst, 10.0);
        assert_eq!(x.empty_polls_pct, 0.0);
        assert!(
            Sample::between(&s[1], &s[2], 1.0).is_none(),
            "no cycles after stop"
        );
        assert!(Sample::between(&s[1], &s[0], 1.0).is_none(), "backwards");
    }

    #[test]
    fn commands_and_names() {
        let cfg = Config {
            testpmd: "/usr/bin/dpdk-testpmd".into(),
            fbnic_lib: "/opt/x/librte_net_fbnic.so".into(),
            lcores: "0-1".into(),
            model_cpu: 0,
            fwd_cpu: 1,
            inflight: 512,
            ring_size: 1024,
            warmup: Duration::from_secs(1),
            secs: 2,
            settle: Duration::from_secs(1),
            memif_dir: "/run/fbnic-perf".into(),
            stdbuf: true,
            fbnic_devargs: String::new(),
            quiet_wait: Duration::ZERO,
            c2c_probe: false,
        };
        let line = crate::proc::cmdline(&cfg.command(Pmd::Fbnic, 32, "t"));
        assert!(line.starts_with("stdbuf -oL /usr/bin/dpdk-testpmd -l 0-1 --in-memory --no-pci -d /opt/x/librte_net_fbnic.so --vdev net_fbnic0,model_cpu=0 --vdev net_fbnic1 -- -i"));
        assert!(line.contains("--burst=32 --rxd=1024 --txd=1024"));
        let memif = crate::proc::cmdline(&cfg.command(Pmd::Memif, 32, "t"));
        assert!(memif.contains("net_memif0,role=server,id=0,socket=/run/fbnic-perf/memif-t.sock"));
        assert!(memif.contains("net_memif1,role=client"));
        assert!(!memif.contains(" -d "));
        assert_eq!(cfg.txfirst_bursts(32), 16);
        assert_eq!(cfg.txfirst_bursts(1), 512);
        assert_eq!(cfg.txfirst_bursts(1024), 1);
        assert_eq!("net_null".parse::<Pmd>().unwrap(), Pmd::Null);
        assert_eq!("ring".parse::<Pmd>().unwrap(), Pmd::Ring);
        assert!("e1000".parse::<Pmd>().is_err());
    }
}
