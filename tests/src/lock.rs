//! Advisory file locks (`flock`): one DPDK process at a time, one build at a time.
//!
//! A lock is per open file, so it excludes other threads of this process as well as other
//! processes (other test binaries, or a colleague's test run on the same machine).

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A held lock; released on drop (closing the file).
#[derive(Debug)]
pub struct FileLock {
    _file: File,
    path: PathBuf,
}

impl FileLock {
    /// Takes the exclusive lock on `path` (created if missing), waiting at most `timeout`.
    pub fn acquire(path: &Path, timeout: Duration) -> Result<Self, String> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| format!("opening lock file {}: {e}", path.display()))?;
        let start = Instant::now();
        let mut told = false;
        loop {
            // SAFETY: flock on a file descriptor we own; no memory is involved.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                return Ok(Self {
                    _file: file,
                    path: path.to_path_buf(),
                });
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(format!("locking {}: {err}", path.display()));
            }
            if start.elapsed() > timeout {
                return Err(format!(
                    "waited {timeout:?} for the lock {} (another DPDK test or build holds it)",
                    path.display()
                ));
            }
            if !told && start.elapsed() > Duration::from_secs(10) {
                eprintln!("fbnic-it: waiting for {}", path.display());
                told = true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The lock every test that starts a DPDK process holds while it runs: DPDK processes
/// busy-poll both cores and take hugepages (2 GiB on this machine), so they run one at a time,
/// machine-wide. `$FBNIC_IT_LOCK` overrides the path (default `/run/lock/net_fbnic-dpdk.lock`).
pub fn dpdk_lock() -> FileLock {
    let path = std::env::var_os("FBNIC_IT_LOCK")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let run = Path::new("/run/lock");
            if run.is_dir() {
                run.join("net_fbnic-dpdk.lock")
            } else {
                std::env::temp_dir().join("net_fbnic-dpdk.lock")
            }
        });
    FileLock::acquire(&path, Duration::from_secs(40 * 60)).unwrap_or_else(|e| panic!("{e}"))
}
