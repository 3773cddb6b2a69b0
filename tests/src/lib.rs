//! Helpers for the net_fbnic integration tests (`tests/tests/*.rs`), which run real DPDK
//! applications against the installed PMD: dpdk-testpmd (every forwarding mode, a scripted
//! interactive session, bad input), dpdk-test (pmd_perf_autotest, pcapng_autotest),
//! dpdk-proc-info and dpdk-dumpcap (secondary processes), dpdk-pmdinfo.py, and the
//! fbnic-apps programs (fbnic-rss-check, fbnic-cycles, fbnic-ptp-check).
//!
//! * [`setup`]: builds and installs the PMD once per test run (the scheme is described
//!   there) and knows the paths;
//! * [`lock`]: DPDK processes run one at a time (a lock file), since each busy-polls both
//!   cores and takes hugepages;
//! * [`process`]: child processes with collected output, timeouts and kill-on-drop;
//! * [`dpdk`]: EAL arguments, one-shot runs, scripted testpmd sessions;
//! * [`parse`]: what testpmd and friends print, as numbers;
//! * [`pcap`]: pcap files for net_pcap; [`pcapng`]: the pcapng files dpdk-dumpcap writes.
//!
//! Every DPDK process runs with `-l 0-1 --in-memory --no-pci --socket-limit=512`.

pub mod dpdk;
pub mod lock;
pub mod parse;
pub mod pcap;
pub mod pcapng;
pub mod process;
pub mod setup;

pub use dpdk::{eal_args, TestPmd};
pub use lock::dpdk_lock;
pub use setup::env;

/// Prints a result line that shows in the test run's output even when the test passes
/// (cargo captures print! of passing tests, not direct writes to stderr), and appends it to
/// `target/fbnic-it/report.txt`.
pub fn report(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "fbnic-it: {line}");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(env().scratch.join("report.txt"))
    {
        let _ = writeln!(f, "{line}");
    }
}
