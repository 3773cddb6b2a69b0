//! Running DPDK applications: EAL arguments, one-shot runs and scripted testpmd sessions.

use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use crate::lock::{dpdk_lock, FileLock};
use crate::parse::{self, Counters};
use crate::process::{tail, Proc};
use crate::setup::{env, Env};

/// Hugepage memory one DPDK process may take (MB): with 1024 x 2 MiB on the machine this
/// leaves room for someone else's process.
pub const SOCKET_LIMIT_MB: u32 = 512;
/// How long a testpmd command may take to print its prompt again.
pub const CMD_TIMEOUT: Duration = Duration::from_secs(60);

/// The EAL arguments every test uses: two lcores (`-l 0-1`, unless `extra` maps lcores to
/// CPUs itself with `--lcores`: EAL refuses both), no hugepage files left behind, no PCI
/// scan, bounded memory, our PMD, and the given vdevs, then `extra`.
pub fn eal_args(env: &Env, vdevs: &[&str], extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    if !extra.iter().any(|e| e.starts_with("--lcores")) {
        a.extend(["-l".into(), "0-1".into()]);
    }
    a.extend([
        "--in-memory".into(),
        "--no-pci".into(),
        format!("--socket-limit={SOCKET_LIMIT_MB}"),
        "-d".into(),
        env.pmd.display().to_string(),
    ]);
    for v in vdevs {
        a.push("--vdev".into());
        a.push((*v).to_string());
    }
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// A command running `program args...` with C stdio unbuffered (so output from the
/// application and from DPDK's log arrive in order).
pub fn unbuffered(program: &str, args: &[String]) -> Command {
    let mut c = Command::new("stdbuf");
    c.args(["-o0", "-e0", program]).args(args);
    c
}

/// Lines the driver or the device model logged (`NET_FBNIC: ...`, `FBNIC_MODEL: ...`).
/// At DPDK's default log level these are warnings and errors only.
pub fn driver_log_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains("NET_FBNIC:") || l.contains("FBNIC_MODEL:"))
        .map(str::to_string)
        .collect()
}

/// Asserts that the driver and the model logged nothing (see [`driver_log_lines`]), listing
/// what they did log otherwise.
#[track_caller]
pub fn assert_no_driver_lines(text: &str) {
    let logs = driver_log_lines(text);
    assert!(
        logs.is_empty(),
        "driver warnings or errors:\n{}",
        logs.join("\n")
    );
}

/// A finished one-shot run.
#[derive(Debug)]
pub struct Run {
    /// The process (its output and status).
    pub proc: Proc,
}

impl Run {
    /// All output.
    pub fn text(&self) -> String {
        self.proc.text()
    }

    /// The exit status.
    pub fn status(&self) -> ExitStatus {
        self.proc.status().expect("finished")
    }

    /// Fails the test with `msg` and the output.
    pub fn fail(&self, msg: &str) -> ! {
        self.proc.fail(msg)
    }

    /// Asserts `cond`, failing with `msg` and the output otherwise.
    pub fn check(&self, cond: bool, msg: impl FnOnce() -> String) {
        if !cond {
            self.fail(&msg());
        }
    }

    /// Asserts the output contains `s`.
    pub fn expect(&self, s: &str) {
        if !self.text().contains(s) {
            self.fail(&format!("expected {s:?} in the output"));
        }
    }
}

/// Runs `program` (with EAL `args`) to completion within `timeout`, stdin closed.
/// The caller holds the DPDK lock.
pub fn run(name: &str, program: &str, args: &[String], timeout: Duration) -> Run {
    let env = env();
    let mut p = Proc::spawn(name, unbuffered(program, args), false, &env.scratch);
    if let Err(e) = p.wait(timeout) {
        p.fail(&e);
    }
    Run { proc: p }
}

/// A scripted interactive dpdk-testpmd (`-i`): commands go to stdin, each command's output
/// is what testpmd prints before its next prompt.
#[derive(Debug)]
pub struct TestPmd {
    p: Proc,
    pos: usize,
    _lock: Option<FileLock>,
}

/// The prompt.
const PROMPT: &str = "testpmd> ";

impl TestPmd {
    /// Starts `dpdk-testpmd <EAL> -- -i <args>` on `vdevs`, holding the DPDK lock for its
    /// whole life, and waits for the first prompt. Fails if start-up reported a failure.
    pub fn start(name: &str, vdevs: &[&str], eal_extra: &[&str], args: &[&str]) -> TestPmd {
        Self::launch(name, vdevs, eal_extra, args, true)
    }

    /// [`TestPmd::start`] for sessions where start-up is expected to report failures (a port
    /// that cannot start): the caller checks them.
    /// [`TestPmd::start`] as a primary process secondaries can attach to: shared runtime
    /// files under `--file-prefix=prefix` instead of `--in-memory`. Call
    /// [`remove_prefix_files`] once it has quit.
    pub fn start_primary(name: &str, prefix: &str, vdevs: &[&str], args: &[&str]) -> TestPmd {
        let env = env();
        let eal: Vec<String> = eal_args(env, vdevs, &[])
            .into_iter()
            .map(|a| {
                if a == "--in-memory" {
                    format!("--file-prefix={prefix}")
                } else {
                    a
                }
            })
            .collect();
        Self::launch_eal(name, eal, args, true)
    }

    pub fn start_with_failures(
        name: &str,
        vdevs: &[&str],
        eal_extra: &[&str],
        args: &[&str],
    ) -> TestPmd {
        Self::launch(name, vdevs, eal_extra, args, false)
    }

    fn launch(
        name: &str,
        vdevs: &[&str],
        eal_extra: &[&str],
        args: &[&str],
        strict: bool,
    ) -> TestPmd {
        Self::launch_eal(name, eal_args(env(), vdevs, eal_extra), args, strict)
    }

    fn launch_eal(name: &str, eal: Vec<String>, args: &[&str], strict: bool) -> TestPmd {
        let lock = dpdk_lock();
        let env = env();
        let mut a = eal;
        a.push("--".into());
        a.push("-i".into());
        // net_fbnic reports link state changes (LSC events), which testpmd prints from the
        // interrupt thread whenever it likes, possibly in the middle of its prompt: sessions
        // that do not look at them (no --print-event of their own) do not print them.
        if !args.iter().any(|s| s.starts_with("--print-event")) {
            a.push("--mask-event=intr_lsc".into());
        }
        a.extend(args.iter().map(|s| s.to_string()));
        let p = Proc::spawn(name, unbuffered("dpdk-testpmd", &a), true, &env.scratch);
        let mut t = TestPmd {
            p,
            pos: 0,
            _lock: Some(lock),
        };
        match t.p.wait_for(0, PROMPT, CMD_TIMEOUT) {
            Ok((_, end)) => t.pos = end,
            Err(e) => t.fail(&format!("testpmd did not start: {e}")),
        }
        let startup = t.p.text();
        for bad in ["Fail", "Start ports failed", "No probed ethernet devices"] {
            if strict && startup.contains(bad) {
                t.fail(&format!("testpmd start-up printed {bad:?}"));
            }
        }
        t
    }

    /// Runs one command: what it printed (without the echoed command line).
    pub fn cmd(&mut self, c: &str) -> String {
        self.cmd_timeout(c, CMD_TIMEOUT)
    }

    /// [`TestPmd::cmd`] with a timeout.
    pub fn cmd_timeout(&mut self, c: &str, timeout: Duration) -> String {
        if let Err(e) = self.p.send(c) {
            self.fail(&e);
        }
        match self.p.wait_for(self.pos, PROMPT, timeout) {
            Ok((start, end)) => {
                let out = self.p.text_from(self.pos);
                let out = out[..start - self.pos].to_string();
                self.pos = end;
                // Drop the echoed command line.
                match out.find('\n') {
                    Some(i) => out[i + 1..].to_string(),
                    None => String::new(),
                }
            }
            Err(e) => self.fail(&format!("command {c:?}: {e}")),
        }
    }

    /// Runs a command whose output races with a line the forwarding lcore prints (testpmd's
    /// own messages can land inside its prompt): waits for `marker` rather than the prompt,
    /// lets the output settle, then finds a fresh prompt with an empty command. What was
    /// printed, marker included.
    pub fn cmd_racing(&mut self, c: &str, marker: &str, timeout: Duration) -> String {
        if let Err(e) = self.p.send(c) {
            self.fail(&e);
        }
        let end = match self.p.wait_for(self.pos, marker, timeout) {
            Ok((_, end)) => end,
            Err(e) => self.fail(&format!("command {c:?}: {e}")),
        };
        std::thread::sleep(Duration::from_millis(300));
        let out = self.p.text_from(self.pos);
        // Where the fresh prompt may start: measured before asking for it, or a quick
        // answer would land before this point and never be found.
        let settled = out.len().max(end - self.pos) + self.pos;
        if let Err(e) = self.p.send("") {
            self.fail(&e);
        }
        match self.p.wait_for(settled, PROMPT, timeout) {
            Ok((_, e)) => self.pos = e,
            Err(e) => self.fail(&format!("after {c:?}: {e}")),
        }
        out
    }

    /// Runs a command and checks its output contains every string of `want`.
    pub fn cmd_expect(&mut self, c: &str, want: &[&str]) -> String {
        let out = self.cmd(c);
        for w in want {
            if !out.contains(w) {
                self.fail(&format!(
                    "command {c:?}: expected {w:?} in its output:\n{out}"
                ));
            }
        }
        out
    }

    /// The port's RSS redirection table as testpmd shows it (first 256 entries): index ->
    /// queue.
    pub fn reta(&mut self, port: u16) -> std::collections::BTreeMap<usize, u16> {
        let out = self.cmd(&format!(
            "show port {port} rss reta 256 (0xffffffffffffffff,0xffffffffffffffff,0xffffffffffffffff,0xffffffffffffffff)"
        ));
        let re = regex::Regex::new(r"RSS RETA configuration: hash index=(\d+), queue=(\d+)")
            .expect("a valid regex");
        re.captures_iter(&out)
            .map(|c| (c[1].parse().unwrap(), c[2].parse().unwrap()))
            .collect()
    }

    /// `show port xstats <port>`.
    pub fn xstats(&mut self, port: u16) -> Counters {
        let out = self.cmd(&format!("show port xstats {port}"));
        let x = parse::xstats(&out);
        if x.is_empty() {
            self.fail(&format!("no extended statistics for port {port}:\n{out}"));
        }
        x
    }

    /// `show port stats <port>`.
    pub fn stats(&mut self, port: u16) -> Counters {
        let out = self.cmd(&format!("show port stats {port}"));
        let s = parse::port_stats(&out);
        if !s.contains_key("RX-packets") {
            self.fail(&format!("no statistics for port {port}:\n{out}"));
        }
        s
    }

    /// Polls the extended statistics of `ports` until two reads 200 ms apart agree (the
    /// device has finished with everything in flight): the final reads.
    pub fn settle(&mut self, ports: &[u16]) -> Vec<Counters> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last: Vec<Counters> = ports.iter().map(|&p| self.xstats(p)).collect();
        loop {
            std::thread::sleep(Duration::from_millis(200));
            let now: Vec<Counters> = ports.iter().map(|&p| self.xstats(p)).collect();
            if now == last {
                return now;
            }
            if Instant::now() > deadline {
                self.fail("the counters did not settle within 10 s of stopping");
            }
            last = now;
        }
    }

    /// Polls `f` (given this session) every 100 ms until it returns true, at most `timeout`.
    pub fn wait_until(
        &mut self,
        what: &str,
        timeout: Duration,
        mut f: impl FnMut(&mut Self) -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        while !f(self) {
            if Instant::now() > deadline {
                self.fail(&format!("timed out after {timeout:?} waiting for {what}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Everything testpmd printed so far.
    pub fn text(&self) -> String {
        self.p.text()
    }

    /// Fails the test with `msg` and testpmd's output.
    pub fn fail(&self, msg: &str) -> ! {
        self.p.fail(msg)
    }

    /// Asserts `cond`, failing with `msg` and the output otherwise.
    pub fn check(&self, cond: bool, msg: impl FnOnce() -> String) {
        if !cond {
            self.fail(&msg());
        }
    }

    /// `quit`: waits for testpmd to exit and checks it shut down cleanly (exit status 0,
    /// "Bye..."). Returns the whole output.
    pub fn quit(mut self) -> String {
        if let Err(e) = self.p.send("quit") {
            self.fail(&e);
        }
        match self.p.wait(CMD_TIMEOUT) {
            Ok(st) if st.success() => {}
            Ok(st) => self.fail(&format!("testpmd exited with {st} after quit")),
            Err(e) => self.fail(&e),
        }
        let text = self.p.text();
        if !text.contains("Bye...") {
            self.fail("testpmd did not say Bye... (unclean shutdown)");
        }
        for bad in ["Cannot close started device", "Segmentation fault", "panic"] {
            if text.contains(bad) {
                self.fail(&format!("{bad:?} in the output"));
            }
        }
        self.p.save_log();
        text
    }
}

/// EAL arguments of a secondary process attaching to the primary started with
/// [`TestPmd::start_primary`] under `prefix` (our PMD loaded, no PCI), then `extra`.
pub fn secondary_args(prefix: &str, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = vec![
        format!("--file-prefix={prefix}"),
        "--no-pci".into(),
        "-d".into(),
        env().pmd.display().to_string(),
    ];
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// Removes what a primary started with [`TestPmd::start_primary`] leaves behind (its
/// hugepage files and runtime directory), so the pages go back to the pool.
pub fn remove_prefix_files(prefix: &str) {
    if let Ok(dir) = std::fs::read_dir("/dev/hugepages") {
        for e in dir.flatten() {
            if e.file_name()
                .to_string_lossy()
                .starts_with(&format!("{prefix}map_"))
            {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let _ = std::fs::remove_dir_all(format!("/var/run/dpdk/{prefix}"));
}

/// Formats counters for a failure message.
pub fn show(c: &Counters) -> String {
    c.iter()
        .filter(|(_, v)| **v != 0)
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The last lines of a text (for messages).
pub fn last_lines(s: &str, n: usize) -> String {
    tail(s, n)
}
