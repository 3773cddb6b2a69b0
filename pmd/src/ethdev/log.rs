//! `log` records to DPDK's `rte_log`, under logtype `pmd.net.fbnic` (driver) and
//! `pmd.net.fbnic.model` (the embedded device model).

use core::sync::atomic::{AtomicU32, Ordering};
use std::ffi::CString;
use std::io::Write;

use dpdk_sys as sys;

static DRIVER_LOGTYPE: AtomicU32 = AtomicU32::new(u32::MAX);
static MODEL_LOGTYPE: AtomicU32 = AtomicU32::new(u32::MAX);

struct RteLogger;

fn logtype_for(target: &str) -> u32 {
    let t = if target.starts_with("fbnic_model") {
        &MODEL_LOGTYPE
    } else {
        &DRIVER_LOGTYPE
    };
    t.load(Ordering::Relaxed)
}

fn rte_level(level: log::Level) -> u32 {
    match level {
        log::Level::Error => sys::RTE_LOG_ERR,
        log::Level::Warn => sys::RTE_LOG_WARNING,
        log::Level::Info => sys::RTE_LOG_INFO,
        log::Level::Debug | log::Level::Trace => sys::RTE_LOG_DEBUG,
    }
}

impl log::Log for RteLogger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        let lt = logtype_for(m.target());
        // SAFETY: rte_log_can_log only reads EAL's log configuration.
        lt != u32::MAX && unsafe { sys::rte_log_can_log(lt, rte_level(m.level())) }
    }

    fn log(&self, r: &log::Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let mut line = Vec::with_capacity(128);
        let who = if r.target().starts_with("fbnic_model") {
            "FBNIC_MODEL"
        } else {
            "NET_FBNIC"
        };
        let _ = writeln!(line, "{who}: {}", r.args());
        line.retain(|&b| b != 0);
        let msg = CString::new(line).expect("NULs removed");
        // SAFETY: msg is a valid NUL-terminated string; fbnic_log prints it with "%s".
        unsafe { sys::fbnic_log(rte_level(r.level()), logtype_for(r.target()), msg.as_ptr()) };
    }

    fn flush(&self) {}
}

static LOGGER: RteLogger = RteLogger;

/// Registers the logtypes (from the constructor) and routes `log` to them.
pub fn init() {
    // SAFETY: called from the library constructor; the names are valid C strings.
    unsafe {
        let d = sys::rte_log_register_type_and_pick_level(
            c"pmd.net.fbnic".as_ptr(),
            sys::RTE_LOG_NOTICE,
        );
        let m = sys::rte_log_register_type_and_pick_level(
            c"pmd.net.fbnic.model".as_ptr(),
            sys::RTE_LOG_NOTICE,
        );
        if d >= 0 {
            DRIVER_LOGTYPE.store(d as u32, Ordering::Relaxed);
        }
        if m >= 0 {
            MODEL_LOGTYPE.store(m as u32, Ordering::Relaxed);
        }
    }
    // The host application may have its own logger (a Rust app): then ours stays unused.
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
}
