//! Running the DPDK applications: every process has a deadline, its output is captured as
//! it comes (so a failure can print it), and an interactive one can be fed commands.

use std::io::{self, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a finished (or stopped) process left behind.
#[derive(Debug, Clone)]
pub struct Output {
    /// The command line, for messages.
    pub cmdline: String,
    /// Everything it wrote to stdout.
    pub stdout: String,
    /// Everything it wrote to stderr.
    pub stderr: String,
    /// Its exit status (None if it had to be killed and could not be reaped).
    pub status: Option<ExitStatus>,
    /// It ran past its deadline and was stopped.
    pub timed_out: bool,
    /// Wall time from spawn to exit.
    pub elapsed: Duration,
}

impl Output {
    /// Whether it exited by itself with status 0.
    pub fn success(&self) -> bool {
        !self.timed_out && self.status.is_some_and(|s| s.success())
    }

    /// A report for a failure: what ran, how it ended, and its output (the last `max_lines`
    /// lines of each stream).
    pub fn failure_report(&self, max_lines: usize) -> String {
        let how = if self.timed_out {
            format!(
                "timed out after {:.1}s and was stopped",
                self.elapsed.as_secs_f64()
            )
        } else {
            match self.status {
                Some(s) => format!("exited with {s}"),
                None => "did not exit".to_string(),
            }
        };
        format!(
            "command: {}\n{how}\n--- stdout (last {max_lines} lines) ---\n{}\n--- stderr (last {max_lines} lines) ---\n{}",
            self.cmdline,
            tail(&self.stdout, max_lines),
            tail(&self.stderr, max_lines)
        )
    }
}

/// The last `n` lines of `s`.
pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A command as one shell-like line (for logs and reports).
pub fn cmdline(cmd: &Command) -> String {
    let mut parts = Vec::new();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            parts.push(format!("{}={}", k.to_string_lossy(), v.to_string_lossy()));
        }
    }
    parts.push(cmd.get_program().to_string_lossy().into_owned());
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

fn collect(mut r: impl Read + Send + 'static, buf: Arc<Mutex<String>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match r.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => buf
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push_str(&String::from_utf8_lossy(&chunk[..n])),
            }
        }
    })
}

/// A running process whose stdin we write and whose output we collect.
#[derive(Debug)]
pub struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
    started: Instant,
    deadline: Instant,
    cmdline: String,
    status: Option<ExitStatus>,
}

impl Session {
    /// Starts `cmd` with piped stdio; it must be done by `timeout` from now.
    pub fn spawn(mut cmd: Command, timeout: Duration) -> io::Result<Self> {
        let cmdline = cmdline(&cmd);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot start {cmdline}: {e}")))?;
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut readers = Vec::new();
        if let Some(o) = child.stdout.take() {
            readers.push(collect(o, stdout.clone()));
        }
        if let Some(e) = child.stderr.take() {
            readers.push(collect(e, stderr.clone()));
        }
        let started = Instant::now();
        Ok(Self {
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
            readers,
            started,
            deadline: started + timeout,
            cmdline,
            status: None,
        })
    }

    /// Stdout so far.
    pub fn stdout(&self) -> String {
        self.stdout
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has exited (reaping it if so).
    pub fn exited(&mut self) -> bool {
        if self.status.is_none() {
            if let Ok(Some(s)) = self.child.try_wait() {
                self.status = Some(s);
            }
        }
        self.status.is_some()
    }

    /// Waits until stdout contains `needle` (searched from byte `from`). Returns the offset
    /// just past it; fails if the process exits or `timeout` (or the deadline) passes first.
    pub fn wait_for(
        &mut self,
        needle: &str,
        from: usize,
        timeout: Duration,
    ) -> Result<usize, String> {
        let until = (Instant::now() + timeout).min(self.deadline);
        loop {
            {
                let out = self.stdout.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(i) = out.get(from..).and_then(|s| s.find(needle)) {
                    return Ok(from + i + needle.len());
                }
            }
            if self.exited() {
                return Err(format!("exited before printing '{needle}'"));
            }
            if Instant::now() >= until {
                return Err(format!("did not print '{needle}' in time"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Writes one command line to stdin; returns when it was written.
    pub fn send(&mut self, line: &str) -> io::Result<Instant> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| io::Error::new(io::ErrorKind::BrokenPipe, "stdin closed"))?;
        stdin.write_all(line.as_bytes())?;
        stdin.write_all(b"\n")?;
        stdin.flush()?;
        Ok(Instant::now())
    }

    /// Sleeps until `t` (or returns at once if it passed).
    pub fn sleep_until(t: Instant) {
        let now = Instant::now();
        if t > now {
            std::thread::sleep(t - now);
        }
    }

    /// Sends SIGINT (what Ctrl-C or `timeout --signal=INT` does): DPDK apps stop cleanly.
    pub fn interrupt(&mut self) {
        if !self.exited() {
            let _ = Command::new("kill")
                .arg("-INT")
                .arg(self.child.id().to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }

    /// Closes stdin and waits for the exit until the deadline; past it, SIGINT, then after
    /// `grace` SIGKILL. Collects all output.
    pub fn finish(mut self, grace: Duration) -> Output {
        drop(self.stdin.take());
        let mut timed_out = false;
        while !self.exited() {
            if Instant::now() >= self.deadline {
                timed_out = true;
                self.interrupt();
                let until = Instant::now() + grace;
                while !self.exited() && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(20));
                }
                if !self.exited() {
                    let _ = self.child.kill();
                    self.status = self.child.wait().ok();
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let elapsed = self.started.elapsed();
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        let take = |b: &Arc<Mutex<String>>| {
            std::mem::take(&mut *b.lock().unwrap_or_else(|e| e.into_inner()))
        };
        Output {
            cmdline: self.cmdline.clone(),
            stdout: take(&self.stdout),
            stderr: take(&self.stderr),
            status: self.status,
            timed_out,
            elapsed,
        }
    }

    /// Moves the deadline to `timeout` from now (e.g. to give a stop command its time).
    pub fn extend_deadline(&mut self, timeout: Duration) {
        self.deadline = Instant::now() + timeout;
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Never leave a DPDK app running behind us (it holds hugepages and CPUs).
        if !self.exited() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `cmd` to completion with stdin closed, within `timeout`.
pub fn run(cmd: Command, timeout: Duration) -> io::Result<Output> {
    let s = Session::spawn(cmd, timeout)?;
    Ok(s.finish(Duration::from_secs(10)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_status() {
        let mut c = Command::new("sh");
        c.args(["-c", "echo out; echo err >&2; exit 3"]);
        let o = run(c, Duration::from_secs(10)).unwrap();
        assert_eq!(o.stdout, "out\n");
        assert_eq!(o.stderr, "err\n");
        assert_eq!(o.status.and_then(|s| s.code()), Some(3));
        assert!(!o.success());
        assert!(o.failure_report(5).contains("exited with"));
    }

    #[test]
    fn deadline_stops_the_process() {
        let mut c = Command::new("sleep");
        c.arg("30");
        let t = Instant::now();
        let o = run(c, Duration::from_millis(200)).unwrap();
        assert!(o.timed_out);
        assert!(t.elapsed() < Duration::from_secs(10));
        assert!(o.failure_report(5).contains("timed out"));
    }

    #[test]
    fn interactive_session() {
        let mut c = Command::new("sh");
        c.args(["-c", "echo ready; read x; echo got $x"]);
        let mut s = Session::spawn(c, Duration::from_secs(10)).unwrap();
        let at = s.wait_for("ready", 0, Duration::from_secs(5)).unwrap();
        assert_eq!(at, 5);
        s.send("hello").unwrap();
        s.wait_for("got hello", at, Duration::from_secs(5)).unwrap();
        let o = s.finish(Duration::from_secs(1));
        assert!(o.success());
    }

    #[test]
    fn tail_keeps_the_end() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }
}
