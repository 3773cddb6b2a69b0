//! Helpers shared by the net_fbnic DPDK applications (`fbnic-lb`, `fbnic-rss-check`,
//! `fbnic-cycles`, `fbnic-ptp-check`, `fbnic-intr-check`): a small safe layer over the DPDK
//! calls they make ([`dpdk`]), test frames ([`pkt`]), and the load balancer's parts
//! ([`maglev`], [`lb`]).
//!
//! The applications are ordinary DPDK programs: they load the PMD with `-d` and create
//! ports with `--vdev net_fbnic0 --vdev net_fbnic1`, e.g.
//!
//! ```text
//! fbnic-rss-check -l 0-1 --in-memory --no-pci -d /opt/net_fbnic/lib/librte_net_fbnic.so \
//!     --vdev net_fbnic0 --vdev net_fbnic1
//! ```

pub mod dpdk;
pub mod lb;
pub mod maglev;
pub mod pkt;

use dpdk_sys as sys;

/// Named checks of a checker application, each printed as it is made:
/// `<prog>: check <name>: ok (<detail>)` or `... FAIL (<detail>)`.
#[derive(Debug)]
pub struct Checks {
    prog: &'static str,
    /// Checks that failed.
    pub failed: u32,
    /// Checks that passed.
    pub passed: u32,
}

impl Checks {
    /// No checks yet, for application `prog`.
    pub fn new(prog: &'static str) -> Self {
        Self {
            prog,
            failed: 0,
            passed: 0,
        }
    }

    /// Records and prints one check.
    pub fn check(&mut self, name: &str, ok: bool, detail: String) {
        let prog = self.prog;
        if ok {
            self.passed += 1;
            println!("{prog}: check {name}: ok ({detail})");
        } else {
            self.failed += 1;
            println!("{prog}: check {name}: FAIL ({detail})");
        }
    }

    /// Prints the summary line (`<prog>: N checks passed, M failed: PASS|FAIL`): whether
    /// every check passed.
    pub fn finish(&self) -> bool {
        let pass = self.failed == 0;
        println!(
            "{}: {} checks passed, {} failed: {}",
            self.prog,
            self.passed,
            self.failed,
            if pass { "PASS" } else { "FAIL" }
        );
        pass
    }
}

/// Ends an application with the project's exit codes: 0 when `outcome` is `Ok(true)` (every
/// check passed), 1 for `Ok(false)` (a check failed, already reported), 2 for an error, which
/// is printed as `<prog>: ERROR: <e>`.
pub fn exit_with(prog: &str, outcome: Result<bool, String>) -> ! {
    let code = match outcome {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            println!("{prog}: ERROR: {e}");
            2
        }
    };
    std::process::exit(code)
}

/// DPDK's own software Toeplitz hash, `rte_softrss()`, over `tuple` (host-order 32-bit
/// words) with `key`.
///
/// # Panics
/// If the key is shorter than the tuple needs (`4 * tuple.len() + 4` bytes).
pub fn softrss(tuple: &[u32], key: &[u8]) -> u32 {
    assert!(
        key.len() >= tuple.len() * 4 + 4,
        "a {}-word tuple needs a key of at least {} bytes",
        tuple.len(),
        tuple.len() * 4 + 4
    );
    // SAFETY: rte_softrss reads tuple.len() words and at most 4 * len + 4 key bytes (checked).
    unsafe { sys::fbnic_softrss(tuple.as_ptr(), tuple.len() as u32, key.as_ptr()) }
}

/// A non-default 40-byte RSS key (random-looking, fixed so runs are reproducible).
pub const TEST_RSS_KEY: [u8; 40] = [
    0x3c, 0x9e, 0x21, 0x07, 0xb4, 0x5d, 0xe8, 0x16, 0x7a, 0xc3, 0x92, 0x4f, 0x0b, 0xd1, 0x66, 0x28,
    0xf5, 0x13, 0x8a, 0x5c, 0x2e, 0x97, 0x41, 0xbd, 0x6f, 0x08, 0xca, 0x35, 0x74, 0xe2, 0x19, 0xa6,
    0x53, 0xdf, 0x0c, 0x81, 0x3b, 0x6e, 0xf0, 0x24,
];

/// Splits `args` at the first `--`: (EAL part with `argv[0]`, application part).
pub fn split_args(args: Vec<String>) -> (Vec<String>, Vec<String>) {
    match args.iter().position(|a| a == "--") {
        Some(i) => (args[..i].to_vec(), args[i + 1..].to_vec()),
        None => (args, Vec::new()),
    }
}

/// Reads `--name value` from application arguments (None if absent).
pub fn opt_value(args: &[String], name: &str) -> Result<Option<String>, String> {
    match args.iter().position(|a| a == name) {
        Some(i) => args
            .get(i + 1)
            .cloned()
            .map(Some)
            .ok_or_else(|| format!("{name} needs a value")),
        None => Ok(None),
    }
}

/// Reads a numeric `--name value` with a default.
pub fn opt_num<T: core::str::FromStr>(
    args: &[String],
    name: &str,
    default: T,
) -> Result<T, String> {
    match opt_value(args, name)? {
        Some(v) => v.parse().map_err(|_| format!("{name}: bad number '{v}'")),
        None => Ok(default),
    }
}

/// Fails on application arguments that are not in `known` (names of `--name value` options).
pub fn check_args(args: &[String], known: &[&str]) -> Result<(), String> {
    let mut i = 0;
    while i < args.len() {
        if !known.contains(&args[i].as_str()) {
            return Err(format!(
                "unknown argument '{}' (known: {})",
                args[i],
                known.join(" ")
            ));
        }
        i += 2;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args() {
        let (eal, app) = split_args(
            ["x", "-l", "0-1", "--", "--flows", "7"]
                .map(String::from)
                .to_vec(),
        );
        assert_eq!(eal, ["x", "-l", "0-1"]);
        assert_eq!(opt_num(&app, "--flows", 1u32).unwrap(), 7);
        assert_eq!(opt_num(&app, "--other", 3u32).unwrap(), 3);
        assert!(check_args(&app, &["--flows"]).is_ok());
        assert!(check_args(&app, &["--x"]).is_err());
    }

    /// The reference hash itself (no EAL needed): the Microsoft RSS verification suite's
    /// first IPv4/TCP vector.
    #[test]
    fn softrss_matches_the_published_vector() {
        let key: [u8; 40] = [
            0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
            0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
            0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
        ];
        // 66.9.149.187:2794 -> 161.142.100.80:1766
        let t = [0x4209_95bb, 0xa18e_6450, (2794u32 << 16) | 1766];
        assert_eq!(softrss(&t, &key), 0x51cc_c178);
        assert_eq!(softrss(&t[..2], &key), 0x323e_8fc2);
    }
}
