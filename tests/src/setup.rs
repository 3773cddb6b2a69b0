//! Where things are, and the one scheme that makes every test run use a PMD built from the
//! current source.
//!
//! **The scheme.** The first test of a test binary that needs DPDK calls [`env()`], which,
//! holding a lock file in the target directory (so concurrent test binaries build once):
//!
//! 1. runs `cargo build --release -p fbnic-pmd -p fbnic-apps -p fbnic-latency` in the
//!    workspace (a no-op when nothing changed, which is the case under `scripts/test.sh`,
//!    which built it just before);
//! 2. installs `target/release/librte_net_fbnic.so` at `$NET_FBNIC_PMD` (default
//!    `/opt/net_fbnic/lib/librte_net_fbnic.so`: EAL refuses `-d` plugins below
//!    world-writable directories) if the installed file differs, atomically (a temporary file
//!    renamed over it, so a DPDK process still running keeps its copy).
//!
//! With `FBNIC_IT_PREBUILT=1` nothing is built: the installed PMD and the release binaries of
//! fbnic-apps and fbnic-latency must exist and be newer than every source file they are built
//! from, or the tests stop with a message saying to run `scripts/test.sh` (or to build and
//! install).

use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use crate::lock::FileLock;
use crate::process::Proc;

/// Default install location of the PMD (scripts/lib/common.sh uses the same).
pub const DEFAULT_PMD: &str = "/opt/net_fbnic/lib/librte_net_fbnic.so";

/// Paths of one test run.
#[derive(Debug)]
pub struct Env {
    /// The workspace root.
    pub root: PathBuf,
    /// Cargo's target directory.
    pub target: PathBuf,
    /// The installed PMD, loaded with `-d`.
    pub pmd: PathBuf,
    /// Where the release binaries of fbnic-apps are.
    pub bins: PathBuf,
    /// Scratch space for logs, pcap files and the like (`target/fbnic-it`).
    pub scratch: PathBuf,
}

impl Env {
    /// A release binary of fbnic-apps or fbnic-latency (`fbnic-rss-check`, ...).
    pub fn app(&self, name: &str) -> PathBuf {
        self.bins.join(name)
    }

    /// A fresh scratch directory for one test.
    pub fn scratch_dir(&self, test: &str) -> PathBuf {
        let d = self.scratch.join("run").join(test);
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap_or_else(|e| panic!("creating {}: {e}", d.display()));
        d
    }
}

static ENV: OnceLock<Result<Env, String>> = OnceLock::new();

/// The test environment: built and installed once per test binary (see the module docs).
/// Panics with a clear message if that fails.
pub fn env() -> &'static Env {
    match ENV.get_or_init(prepare) {
        Ok(e) => e,
        Err(msg) => panic!("{msg}"),
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// The PMD's install path: `$NET_FBNIC_PMD` or [`DEFAULT_PMD`].
pub fn pmd_path() -> PathBuf {
    std::env::var_os("NET_FBNIC_PMD")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PMD))
}

const HOW_TO_FIX: &str = "run `bash scripts/test.sh` (it builds and installs the PMD), or build and install it: `cargo build --release -p fbnic-pmd -p fbnic-apps -p fbnic-latency && install -D -m 0644 target/release/librte_net_fbnic.so $NET_FBNIC_PMD`";

fn prepare() -> Result<Env, String> {
    let root = root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root.join(p) })
        .unwrap_or_else(|| root.join("target"));
    let pmd = pmd_path();
    if !pmd.is_absolute() {
        return Err(format!(
            "NET_FBNIC_PMD={} must be an absolute path",
            pmd.display()
        ));
    }
    let bins = target.join("release");
    let scratch = target.join("fbnic-it");
    fs::create_dir_all(&scratch).map_err(|e| format!("creating {}: {e}", scratch.display()))?;
    let env = Env {
        root,
        target,
        pmd,
        bins,
        scratch,
    };
    check_dirs_not_world_writable(&env.pmd)?;
    let _lock = FileLock::acquire(
        &env.scratch.join("build.lock"),
        Duration::from_secs(30 * 60),
    )?;
    if std::env::var("FBNIC_IT_PREBUILT").is_ok_and(|v| v == "1") {
        check_prebuilt(&env)?;
    } else {
        build(&env)?;
        install(&env)?;
    }
    Ok(env)
}

fn build(env: &Env) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&env.root).args([
        "build",
        "--release",
        "-p",
        "fbnic-pmd",
        "-p",
        "fbnic-apps",
        "-p",
        "fbnic-latency",
    ]);
    let mut p = Proc::spawn("cargo-build", cmd, false, &env.scratch);
    match p.wait(Duration::from_secs(20 * 60)) {
        Ok(st) if st.success() => Ok(()),
        Ok(st) => Err(format!(
            "building the PMD and the apps failed ({st}):\n{}\n{HOW_TO_FIX}",
            p.text()
        )),
        Err(e) => Err(format!("building the PMD and the apps: {e}\n{HOW_TO_FIX}")),
    }
}

fn same_contents(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(mb)) = (fs::metadata(a), fs::metadata(b)) else {
        return false;
    };
    if ma.len() != mb.len() {
        return false;
    }
    let read = |p: &Path| -> Option<Vec<u8>> {
        let mut v = Vec::new();
        File::open(p).ok()?.read_to_end(&mut v).ok()?;
        Some(v)
    };
    matches!((read(a), read(b)), (Some(x), Some(y)) if x == y)
}

fn install(env: &Env) -> Result<(), String> {
    let built = env.bins.join("librte_net_fbnic.so");
    if !built.exists() {
        return Err(format!(
            "{} missing after the build\n{HOW_TO_FIX}",
            built.display()
        ));
    }
    if same_contents(&built, &env.pmd) {
        return Ok(());
    }
    let dir = env
        .pmd
        .parent()
        .ok_or_else(|| format!("{} has no directory", env.pmd.display()))?;
    fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        env.pmd.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    fs::copy(&built, &tmp).map_err(|e| format!("copying the PMD to {}: {e}", tmp.display()))?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o644))
        .map_err(|e| format!("chmod {}: {e}", tmp.display()))?;
    fs::rename(&tmp, &env.pmd).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        format!("installing {}: {e}", env.pmd.display())
    })?;
    eprintln!(
        "fbnic-it: installed {} (built from {})",
        env.pmd.display(),
        env.root.display()
    );
    Ok(())
}

/// EAL refuses a plugin with a world-writable directory on its path.
fn check_dirs_not_world_writable(pmd: &Path) -> Result<(), String> {
    for d in pmd.ancestors().skip(1) {
        if let Ok(m) = fs::metadata(d) {
            if m.permissions().mode() & 0o002 != 0 {
                return Err(format!(
                    "{} is under {}, which is world-writable: EAL refuses to load plugins from there; set NET_FBNIC_PMD to a path like {DEFAULT_PMD}",
                    pmd.display(),
                    d.display()
                ));
            }
        }
    }
    Ok(())
}

/// The newest modification time of the files under `dirs` (recursively) and `files`.
fn newest(dirs: &[PathBuf], files: &[PathBuf]) -> (SystemTime, PathBuf) {
    let mut best = (SystemTime::UNIX_EPOCH, PathBuf::new());
    let mut consider = |p: &Path| {
        if let Ok(t) = fs::metadata(p).and_then(|m| m.modified()) {
            if t > best.0 {
                best = (t, p.to_path_buf());
            }
        }
    };
    for f in files {
        consider(f);
    }
    let mut stack: Vec<PathBuf> = dirs.to_vec();
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                consider(&p);
            }
        }
    }
    best
}

fn check_prebuilt(env: &Env) -> Result<(), String> {
    let r = &env.root;
    let crates = ["hw", "model", "pmd", "ffi"];
    let dirs: Vec<PathBuf> = crates.iter().map(|c| r.join(c).join("src")).collect();
    let mut files: Vec<PathBuf> = crates
        .iter()
        .map(|c| r.join(c).join("Cargo.toml"))
        .collect();
    files.extend([
        r.join("Cargo.toml"),
        r.join("Cargo.lock"),
        r.join("ffi/build.rs"),
    ]);
    let (src_time, src_file) = newest(&dirs, &files);
    let pmd_time = fs::metadata(&env.pmd)
        .and_then(|m| m.modified())
        .map_err(|e| {
            format!(
                "the installed PMD {} is missing ({e})\n{HOW_TO_FIX}",
                env.pmd.display()
            )
        })?;
    if pmd_time < src_time {
        return Err(format!(
            "the installed PMD {} is older than the source ({} changed after it was built)\n{HOW_TO_FIX}",
            env.pmd.display(),
            src_file.display()
        ));
    }
    let (apps_time, apps_file) = newest(
        &[
            r.join("apps/src"),
            r.join("apps/fbnic-latency/src"),
            r.join("ffi/src"),
        ],
        &[
            r.join("apps/Cargo.toml"),
            r.join("apps/fbnic-latency/Cargo.toml"),
        ],
    );
    for b in [
        "fbnic-rss-check",
        "fbnic-cycles",
        "fbnic-latency",
        "fbnic-lb",
    ] {
        let p = env.app(b);
        let t = fs::metadata(&p)
            .and_then(|m| m.modified())
            .map_err(|e| format!("{} is missing ({e})\n{HOW_TO_FIX}", p.display()))?;
        if t < apps_time {
            return Err(format!(
                "{} is older than {}\n{HOW_TO_FIX}",
                p.display(),
                apps_file.display()
            ));
        }
    }
    Ok(())
}
