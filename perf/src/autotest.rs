//! `dpdk-test pmd_perf_autotest`: DPDK's own Rx/Tx cycle-cost test.
//!
//! The test configures every port with `lpbk_mode = 1` (MAC loopback), injects up to 2048
//! packets per port, then on one worker lcore polls Rx and sends every packet back on the
//! same port until it has received `2 s x link rate` packets (at 64-byte frames), and prints
//! `Result: N cycles per packet`: the worker's TSC cycles over the whole loop (empty polls
//! included) divided by the packets received. So the figure is wall time per packet on the
//! polling core: for a port behind a device it is bounded by how fast the device turns
//! packets around, not only by the driver's cost.
//!
//! net_null has no device and ignores `lpbk_mode`: its Rx returns fresh mbufs on every poll
//! and its Tx frees them, so the test runs and gives the driver-only floor. net_fbnic honours
//! `lpbk_mode` (the model loops the frames at its MAC); the port is given `wire=loop` so its
//! link is up, and a lower advertised link speed (`link=25G-CR` by default) to bound the
//! packet count (the model is not paced by the link speed).
//!
//! The test's main lcore does not sleep while the worker measures: it spins in
//! `rte_eal_wait_lcore`. On a two-CPU machine it shares its CPU with the model's engine, and
//! the scheduler splits that CPU between the two: the device then runs at half speed and the
//! figure doubles (measured: 346-348 cycles per packet at nice 0, 175-180 with the engine at
//! nice -20). Hardware does not share a CPU with the host, so the harness gives the engine
//! priority on its CPU (`model_nice=-20`, `--autotest-model-nice`).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::proc::{self, Output};
use crate::testpmd::Pmd;

/// How dpdk-test is run.
#[derive(Clone, Debug)]
pub struct Config {
    /// dpdk-test.
    pub dpdk_test: PathBuf,
    /// librte_net_fbnic.so.
    pub fbnic_lib: PathBuf,
    /// EAL `-l`.
    pub lcores: String,
    /// CPU for the model's engine (not the test's worker lcore).
    pub model_cpu: usize,
    /// `link=` devarg for net_fbnic (sets the packet count: 2 s at this rate).
    pub fbnic_link: String,
    /// `model_nice=` devarg for net_fbnic (None: not given).
    pub model_nice: Option<i32>,
    /// Deadline for one run.
    pub timeout: Duration,
}

/// What one run printed.
#[derive(Clone, Debug, PartialEq)]
pub struct AutotestResult {
    /// The PMD.
    pub pmd: Pmd,
    /// `Result: N cycles per packet`.
    pub cycles_per_pkt: u64,
    /// Packets received.
    pub packets: u64,
    /// Packets Tx refused.
    pub drops: u64,
    /// Empty polls.
    pub idle: u64,
    /// Packets the ports accepted when primed (`Total packets inject to prime ports`).
    pub injected: Option<u64>,
    /// Line-rate packets per second the test derived from the link speed (`Each port will
    /// do N packets per second`); it stops after 2 s worth of them.
    pub pps_target: Option<u64>,
    /// Wall time of the process.
    pub elapsed: Duration,
    /// The command line.
    pub cmdline: String,
}

fn after(line: &str, key: &str) -> Option<u64> {
    let rest = &line[line.find(key)? + key.len()..];
    let rest = rest.trim_start();
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Parses the test's output. None if it has no `Result:` line.
pub fn parse(pmd: Pmd, text: &str) -> Option<AutotestResult> {
    let mut r = AutotestResult {
        pmd,
        cycles_per_pkt: 0,
        packets: 0,
        drops: 0,
        idle: 0,
        injected: None,
        pps_target: None,
        elapsed: Duration::ZERO,
        cmdline: String::new(),
    };
    let mut found = false;
    for line in text.lines() {
        if let Some(v) = after(line, "Result:") {
            r.cycles_per_pkt = v;
            found = true;
        }
        if line.contains(" packet, ") && line.contains(" drop, ") && line.contains(" idle") {
            let nums: Vec<u64> = line
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|w| w.parse().ok())
                .collect();
            if let [p, d, i] = nums[..] {
                r.packets = p;
                r.drops = d;
                r.idle = i;
            }
        }
        if let Some(v) = after(line, "Total packets inject to prime ports =") {
            r.injected = Some(v);
        }
        if let Some(v) = after(line, "Each port will do") {
            r.pps_target = Some(v);
        }
    }
    found.then_some(r)
}

impl Config {
    /// The command for `pmd` (one port).
    pub fn command(&self, pmd: Pmd) -> Command {
        let mut c = Command::new(&self.dpdk_test);
        c.env("DPDK_TEST", "pmd_perf_autotest");
        c.args(["-l", &self.lcores, "--in-memory", "--no-pci"]);
        match pmd {
            Pmd::Fbnic => {
                c.arg("-d").arg(&self.fbnic_lib);
                let mut vdev = format!(
                    "net_fbnic0,wire=loop,link={},model_cpu={}",
                    self.fbnic_link, self.model_cpu
                );
                if let Some(n) = self.model_nice {
                    vdev += &format!(",model_nice={n}");
                }
                c.arg("--vdev").arg(vdev);
            }
            Pmd::Null => {
                c.args(["--vdev", "net_null0"]);
            }
            Pmd::Ring => {
                c.args(["--vdev", "net_ring0"]);
            }
            Pmd::Memif => {
                c.args(["--vdev", "net_memif0"]);
            }
        }
        c
    }

    /// Runs the test on `pmd`.
    pub fn run(&self, pmd: Pmd) -> Result<AutotestResult, (String, Option<Box<Output>>)> {
        let out = proc::run(self.command(pmd), self.timeout)
            .map_err(|e| (format!("dpdk-test: {e}"), None))?;
        match parse(pmd, &out.stdout) {
            Some(mut r) if out.success() && out.stdout.contains("Test OK") => {
                r.elapsed = out.elapsed;
                r.cmdline = out.cmdline.clone();
                Ok(r)
            }
            _ => Err((
                format!("pmd_perf_autotest on {} failed", pmd.driver()),
                Some(Box::new(out)),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUT: &str = "\
RTE>>pmd_perf_autotest
Start PMD RXTX cycles cost test.
Port 0 Link up at 25 Gbps FDX Fixed
Total packets inject to prime ports = 511
Each port will do 37202380 packets per second
Test will stop after at least 74404760 packets received
free 480 (expected 2048) mbuf left in port 0
74404765 packet, 31 drop, 3621634538 idle
Result: 1642 cycles per packet
Test OK
";

    #[test]
    fn parses_the_result() {
        let r = parse(Pmd::Fbnic, OUT).unwrap();
        assert_eq!(r.cycles_per_pkt, 1642);
        assert_eq!((r.packets, r.drops, r.idle), (74404765, 31, 3621634538));
        assert_eq!(r.injected, Some(511));
        assert_eq!(r.pps_target, Some(37202380));
        assert!(parse(Pmd::Null, "Test Failed\n").is_none());
    }

    #[test]
    fn commands() {
        let c = Config {
            dpdk_test: "/usr/bin/dpdk-test".into(),
            fbnic_lib: "/opt/l/librte_net_fbnic.so".into(),
            lcores: "0-1".into(),
            model_cpu: 0,
            fbnic_link: "25G-CR".into(),
            model_nice: Some(-20),
            timeout: Duration::from_secs(1),
        };
        let f = proc::cmdline(&c.command(Pmd::Fbnic));
        assert_eq!(f, "DPDK_TEST=pmd_perf_autotest /usr/bin/dpdk-test -l 0-1 --in-memory --no-pci -d /opt/l/librte_net_fbnic.so --vdev net_fbnic0,wire=loop,link=25G-CR,model_cpu=0,model_nice=-20");
        let c = Config {
            model_nice: None,
            ..c
        };
        let f = proc::cmdline(&c.command(Pmd::Fbnic));
        assert!(f.ends_with("link=25G-CR,model_cpu=0"), "{f}");
        let n = proc::cmdline(&c.command(Pmd::Null));
        assert!(n.ends_with("--no-pci --vdev net_null0"));
    }
}
