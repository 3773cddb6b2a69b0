//! A child process whose stdout and stderr go, interleaved in order, into one pipe that a
//! thread collects; every wait has a timeout, and a process still running when its handle is
//! dropped (a failed test) is killed. Output is kept in `target/fbnic-it/logs/<name>.log`.

use std::fs;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
struct Buf {
    data: Vec<u8>,
    eof: bool,
}

#[derive(Debug, Default)]
struct Shared {
    buf: Mutex<Buf>,
    cv: Condvar,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Buf> {
        self.buf.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running (or finished) child process.
#[derive(Debug)]
pub struct Proc {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    out: Arc<Shared>,
    reader: Option<JoinHandle<()>>,
    log: PathBuf,
    status: Option<ExitStatus>,
}

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 writes two new descriptors into fds.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are new and owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

impl Proc {
    /// Starts `cmd` with stdout and stderr captured (and stdin piped if `stdin`). `name`
    /// names the log file under `<scratch>/logs`.
    pub fn spawn(name: &str, mut cmd: Command, stdin: bool, scratch: &Path) -> Proc {
        let (r, w) = pipe();
        let w2 = w.try_clone().expect("dup pipe");
        cmd.stdout(Stdio::from(w))
            .stderr(Stdio::from(w2))
            .stdin(if stdin { Stdio::piped() } else { Stdio::null() });
        let desc = format!("{cmd:?}");
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {desc}: {e}"));
        // Our copies of the write end must go, or the reader never sees EOF.
        drop(cmd);
        let out = Arc::new(Shared::default());
        {
            let mut b = out.lock();
            b.data.extend_from_slice(format!("$ {desc}\n").as_bytes());
        }
        let o = out.clone();
        let reader = std::thread::spawn(move || {
            let mut f = fs::File::from(r);
            let mut chunk = [0u8; 16384];
            loop {
                match f.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        o.lock().data.extend_from_slice(&chunk[..n]);
                        o.cv.notify_all();
                    }
                }
            }
            o.lock().eof = true;
            o.cv.notify_all();
        });
        let logs = scratch.join("logs");
        let _ = fs::create_dir_all(&logs);
        Proc {
            name: name.to_string(),
            stdin: child.stdin.take(),
            child,
            out,
            reader: Some(reader),
            log: logs.join(format!("{name}.log")),
            status: None,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The nice value of each of the process's threads named `comm` (from /proc: field 19
    /// of a thread's stat line, counted after the command name, which may hold spaces).
    pub fn thread_nice(&self, comm: &str) -> Vec<i32> {
        let Ok(dir) = std::fs::read_dir(format!("/proc/{}/task", self.pid())) else {
            return Vec::new();
        };
        dir.flatten()
            .filter(|t| {
                std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim_end() == comm)
            })
            .filter_map(|t| {
                let stat = std::fs::read_to_string(t.path().join("stat")).ok()?;
                let after_comm = stat.get(stat.rfind(')')? + 2..)?;
                after_comm.split(' ').nth(16)?.parse().ok()
            })
            .collect()
    }

    /// Everything printed so far (lossy UTF-8), starting with the command line.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().data).into_owned()
    }

    /// Bytes of output so far (an offset for [`Proc::wait_for`]).
    pub fn len(&self) -> usize {
        self.out.lock().data.len()
    }

    /// Whether no output arrived yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The output from byte `from` on.
    pub fn text_from(&self, from: usize) -> String {
        let b = self.out.lock();
        String::from_utf8_lossy(&b.data[from.min(b.data.len())..]).into_owned()
    }

    /// Waits until `pat` appears in the output at or after byte `from`: the byte range of the
    /// match. Fails if the process closes its output first or `timeout` passes.
    pub fn wait_for(
        &self,
        from: usize,
        pat: &str,
        timeout: Duration,
    ) -> Result<(usize, usize), String> {
        let deadline = Instant::now() + timeout;
        let pat_b = pat.as_bytes();
        let mut b = self.out.lock();
        loop {
            if let Some(i) = find(&b.data[from.min(b.data.len())..], pat_b) {
                let at = from + i;
                return Ok((at, at + pat_b.len()));
            }
            if b.eof {
                return Err(format!("{} ended without printing {pat:?}", self.name));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(format!(
                    "{} did not print {pat:?} within {timeout:?}",
                    self.name
                ));
            }
            b = self
                .out
                .cv
                .wait_timeout(b, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Writes `line` and a newline to the process's stdin.
    pub fn send(&mut self, line: &str) -> Result<(), String> {
        let s = self
            .stdin
            .as_mut()
            .ok_or_else(|| format!("{}: stdin is not a pipe", self.name))?;
        s.write_all(line.as_bytes())
            .and_then(|_| s.write_all(b"\n"))
            .and_then(|_| s.flush())
            .map_err(|e| format!("{}: writing {line:?} to stdin: {e}", self.name))
    }

    /// Closes stdin (EOF for the process).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Sends a signal (`libc::SIGINT`, ...).
    pub fn signal(&self, sig: i32) {
        if self.status.is_some() {
            return;
        }
        // SAFETY: kill(2) on our own child's pid; it has not been reaped (status is None), so
        // the pid cannot have been reused.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// Waits for the process to exit, at most `timeout`; then kills it (SIGKILL) and fails.
    /// Also waits for the output to be collected.
    pub fn wait(&mut self, timeout: Duration) -> Result<ExitStatus, String> {
        let deadline = Instant::now() + timeout;
        let st = loop {
            if let Some(st) = self.status {
                break st;
            }
            match self.child.try_wait() {
                Ok(Some(st)) => {
                    self.status = Some(st);
                    break st;
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(None) => {
                    self.kill();
                    return Err(format!(
                        "{} still running after {timeout:?}: killed",
                        self.name
                    ));
                }
                Err(e) => return Err(format!("{}: wait: {e}", self.name)),
            }
        };
        // The output pipe closes when the process (and any child holding it) is gone.
        let _ = self.wait_eof(Duration::from_secs(10));
        Ok(st)
    }

    fn wait_eof(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut b = self.out.lock();
        while !b.eof {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            b = self
                .out
                .cv
                .wait_timeout(b, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Kills the process (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            if let Ok(st) = self.child.wait() {
                self.status = Some(st);
            }
        }
    }

    /// The exit status, once known.
    pub fn status(&self) -> Option<ExitStatus> {
        self.status
    }

    /// Writes the output to the log file: its path.
    pub fn save_log(&self) -> &Path {
        let _ = fs::write(&self.log, self.out.lock().data.as_slice());
        &self.log
    }

    /// Panics with `msg`, the tail of the output and where the whole log is.
    pub fn fail(&self, msg: &str) -> ! {
        let log = self.save_log().to_path_buf();
        let text = self.text();
        panic!(
            "{msg}\n---- output of {} (last 200 lines; all of it in {}) ----\n{}\n---- end of output ----",
            self.name,
            log.display(),
            tail(&text, 200)
        );
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
        self.stdin = None;
        let _ = self.wait_eof(Duration::from_secs(5));
        if let Some(r) = self.reader.take() {
            if self.out.lock().eof {
                let _ = r.join();
            }
        }
        self.save_log();
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The last `n` lines of `s`.
pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
