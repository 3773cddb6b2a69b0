//! The fabric: a set of devices, the wires between them, and the engine thread that runs
//! their data paths.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::device::{Device, DeviceConfig};
use crate::wire::{
    GenShared, Generator, GeneratorHandle, Outside, OutsideHandle, OutsideShared, SinkHandle,
    WireEnd,
};
use crate::{panic_text, ModelError};

/// How the engine behaves when there is nothing to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdlePolicy {
    /// Keep polling (yielding the core between passes) this long after the last work.
    pub spin: Duration,
    /// Then sleep this long between passes.
    pub sleep: Duration,
}

impl Default for IdlePolicy {
    fn default() -> Self {
        Self {
            spin: Duration::from_micros(200),
            sleep: Duration::from_micros(50),
        }
    }
}

/// How a fabric is built.
#[derive(Clone, Debug, Default)]
pub struct FabricConfig {
    /// Pin the engine thread to this CPU (core_affinity's core id).
    pub engine_cpu: Option<usize>,
    /// Idle behaviour of the engine.
    pub idle: IdlePolicy,
}

/// What the engine and the fabric share.
#[derive(Debug)]
pub(crate) struct Shared {
    devices: Mutex<Vec<Arc<Device>>>,
    gen: AtomicU64,
    seen_gen: AtomicU64,
    stop: AtomicBool,
    engine_running: AtomicBool,
    /// The engine thread's kernel thread id (0 until it has started).
    engine_tid: AtomicI32,
    idle: IdlePolicy,
    passes: AtomicU64,
    busy_ns: AtomicU64,
    idle_sleeps: AtomicU64,
}

/// A set of devices, the wires between them, and the model's threads.
#[derive(Debug)]
pub struct Fabric {
    shared: Arc<Shared>,
    engine: Mutex<Option<JoinHandle<()>>>,
    next_id: AtomicU64,
}

impl Fabric {
    /// Starts a fabric and its engine thread.
    pub fn new(cfg: FabricConfig) -> Arc<Fabric> {
        let shared = Arc::new(Shared {
            devices: Mutex::new(Vec::new()),
            gen: AtomicU64::new(1),
            seen_gen: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            engine_running: AtomicBool::new(true),
            engine_tid: AtomicI32::new(0),
            idle: cfg.idle,
            passes: AtomicU64::new(0),
            busy_ns: AtomicU64::new(0),
            idle_sleeps: AtomicU64::new(0),
        });
        let s = shared.clone();
        let cpu = cfg.engine_cpu;
        let h = std::thread::Builder::new()
            .name("fbnic-engine".into())
            .spawn(move || {
                s.engine_tid.store(current_tid(), Ordering::Release);
                if let Some(cpu) = cpu {
                    if !core_affinity::set_for_current(core_affinity::CoreId { id: cpu }) {
                        log::warn!("could not pin the engine to CPU {cpu}");
                    }
                }
                engine(&s);
                // The id may be reused once the thread is gone: nobody may use it after this.
                s.engine_tid.store(0, Ordering::Release);
                s.engine_running.store(false, Ordering::Release);
            })
            .expect("spawn engine thread");
        // The thread's id is its first store: wait for it (bounded), so that the engine can
        // be named to the scheduler as soon as the fabric exists.
        let t = Instant::now();
        while shared.engine_tid.load(Ordering::Acquire) == 0 && t.elapsed() < ENGINE_START {
            std::thread::sleep(Duration::from_micros(20));
        }
        Arc::new(Fabric {
            shared,
            engine: Mutex::new(Some(h)),
            next_id: AtomicU64::new(0),
        })
    }

    /// The engine thread's kernel thread id (as in `/proc/<pid>/task/<tid>`), None if it never
    /// started or has stopped.
    pub fn engine_tid(&self) -> Option<i32> {
        Some(self.shared.engine_tid.load(Ordering::Acquire)).filter(|&t| t > 0)
    }

    /// Sets the engine thread's nice value (-20..=19). The engine is the device: on a CPU it
    /// shares with a busy thread (an application's main lcore spinning while it waits for its
    /// workers) the scheduler splits the CPU between them, and the device runs at half speed;
    /// a negative nice value gives the engine the CPU whenever it has work. Lowering it below
    /// the current value needs CAP_SYS_NICE.
    pub fn set_engine_nice(&self, nice: i32) -> std::io::Result<()> {
        if !(NICE_MIN..=NICE_MAX).contains(&nice) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("nice value {nice} is not {NICE_MIN}..{NICE_MAX}"),
            ));
        }
        let tid = self.engine_tid().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the engine thread is not running",
            )
        })?;
        // SAFETY: setpriority takes plain integers and touches no memory of ours; on Linux,
        // PRIO_PROCESS with a thread id sets that one thread's nice value.
        let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// Adds a device and boots its firmware agent.
    pub fn add_device(self: &Arc<Self>, cfg: DeviceConfig) -> Arc<Device> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let dev = Device::new(id, cfg);
        dev.fw.start(&dev);
        self.shared.devices.lock().push(dev.clone());
        self.shared.gen.fetch_add(1, Ordering::AcqRel);
        dev
    }

    fn contains(&self, d: &Device) -> bool {
        self.shared
            .devices
            .lock()
            .iter()
            .any(|x| std::ptr::eq(&**x, d))
    }

    /// Waits until the engine no longer uses a device list older than now.
    fn sync_engine(&self) {
        let want = self.shared.gen.fetch_add(1, Ordering::AcqRel) + 1;
        let t = Instant::now();
        while self.shared.engine_running.load(Ordering::Acquire)
            && self.shared.seen_gen.load(Ordering::Acquire) < want
            && t.elapsed() < Duration::from_secs(5)
        {
            std::thread::sleep(Duration::from_micros(20));
        }
    }

    /// Removes a device: the engine stops serving it, its wire is detached (the peer sees its
    /// link go down) and its firmware thread is stopped.
    pub fn remove_device(&self, dev: &Device) {
        let removed = {
            let mut l = self.shared.devices.lock();
            let before = l.len();
            l.retain(|x| !std::ptr::eq(&**x, dev));
            before != l.len()
        };
        if !removed {
            return;
        }
        self.sync_engine();
        detach(dev);
        dev.fw.stop();
    }

    fn check(&self, a: &Device) -> Result<(), ModelError> {
        if self.contains(a) {
            Ok(())
        } else {
            Err(ModelError::NotInFabric)
        }
    }

    /// Plugs a cable between `a` and `b` (replacing any wire either had).
    pub fn connect(&self, a: &Device, b: &Device) -> Result<(), ModelError> {
        self.check(a)?;
        self.check(b)?;
        if std::ptr::eq(a, b) {
            return Err(ModelError::SameDevice);
        }
        let (aa, bb) = {
            let l = self.shared.devices.lock();
            let f = |d: &Device| l.iter().find(|x| std::ptr::eq(&***x, d)).cloned();
            (f(a), f(b))
        };
        let (Some(aa), Some(bb)) = (aa, bb) else {
            return Err(ModelError::NotInFabric);
        };
        detach(a);
        detach(b);
        set_wire(a, WireEnd::Cable(Arc::downgrade(&bb)));
        set_wire(b, WireEnd::Cable(Arc::downgrade(&aa)));
        a.update_link();
        b.update_link();
        Ok(())
    }

    /// Replaces `a`'s wire with `end` (a device of this fabric).
    fn plug(&self, a: &Device, end: WireEnd) -> Result<(), ModelError> {
        self.check(a)?;
        detach(a);
        set_wire(a, end);
        a.update_link();
        Ok(())
    }

    /// Plugs an external loopback plug into `a` (its frames come back to it).
    pub fn loop_back(&self, a: &Device) -> Result<(), ModelError> {
        self.plug(a, WireEnd::Loop)
    }

    /// Attaches a frame generator to `a`'s MAC Rx (replacing its wire).
    pub fn attach_generator(
        &self,
        a: &Device,
        gen: Generator,
    ) -> Result<GeneratorHandle, ModelError> {
        let shared = GenShared::new(gen);
        self.plug(a, WireEnd::Generator(shared.clone()))?;
        Ok(GeneratorHandle { shared })
    }

    /// Attaches a sink that collects what `a` transmits (replacing its wire). It keeps
    /// copies of the first 1024 frames ([`SinkHandle::set_copy_limit`]).
    pub fn attach_sink(&self, a: &Device) -> SinkHandle {
        detach(a);
        let s = SinkHandle::new(1024);
        set_wire(a, WireEnd::Sink(s.shared.clone()));
        a.update_link();
        s
    }

    /// Connects `a` to a link partner outside the model (a TAP interface, say): what `a`
    /// transmits goes to `partner`, what `partner` has arrives at `a`'s MAC (padded to the
    /// minimum frame), with pause honoured. Replaces whatever `a` was connected to.
    pub fn attach_outside(
        &self,
        a: &Device,
        partner: Box<dyn Outside>,
    ) -> Result<OutsideHandle, ModelError> {
        let shared = OutsideShared::new(partner);
        self.plug(a, WireEnd::Outside(shared.clone()))?;
        Ok(OutsideHandle { shared })
    }

    /// Unplugs whatever wire `a` has.
    pub fn disconnect(&self, a: &Device) {
        detach(a);
    }

    /// Engine passes so far (for tests and diagnostics).
    pub fn engine_passes(&self) -> u64 {
        self.shared.passes.load(Ordering::Relaxed)
    }

    /// Nanoseconds the engine spent in passes that did work (for throughput diagnostics:
    /// busy time per packet is the engine's cost per packet, whatever the driver's speed).
    pub fn engine_busy_ns(&self) -> u64 {
        self.shared.busy_ns.load(Ordering::Relaxed)
    }

    /// Times the engine slept between passes because it had been idle longer than
    /// [`IdlePolicy::spin`].
    pub fn engine_idle_sleeps(&self) -> u64 {
        self.shared.idle_sleeps.load(Ordering::Relaxed)
    }

    /// Stops and joins every thread (engine and firmware agents). Idempotent; also done on
    /// drop. Devices stay readable but nothing moves any more.
    pub fn shutdown(&self) {
        self.shared.stop.store(true, Ordering::Release);
        let h = self.engine.lock().take();
        if let Some(h) = h {
            h.thread().unpark();
            let _ = h.join();
        }
        let devs: Vec<Arc<Device>> = self.shared.devices.lock().clone();
        for d in devs {
            d.fw.stop();
        }
    }
}

impl Drop for Fabric {
    fn drop(&mut self) {
        self.shutdown();
        // Break cable cycles (they are Weak, but clear them anyway).
        for d in self.shared.devices.lock().drain(..) {
            *d.wire.lock() = WireEnd::None;
        }
    }
}

/// Replaces `d`'s wire between two engine passes (under the device lock, which the engine
/// holds for a whole pass), so a wire change is never half seen. Returns the old wire.
fn set_wire(d: &Device, w: WireEnd) -> WireEnd {
    let _pass = d.state.lock();
    std::mem::replace(&mut *d.wire.lock(), w)
}

/// Unplugs `a`'s wire; a cable peer loses its end too.
fn detach(a: &Device) {
    let old = set_wire(a, WireEnd::None);
    if let WireEnd::Cable(p) = old {
        if let Some(p) = p.upgrade() {
            let _pass = p.state.lock();
            let mut w = p.wire.lock();
            if matches!(&*w, WireEnd::Cable(x) if std::ptr::eq(x.as_ptr(), a)) {
                *w = WireEnd::None;
            }
            drop(w);
            drop(_pass);
            p.update_link();
        }
    }
    a.update_link();
}

/// How long [`Fabric::new`] waits for the engine thread to start.
const ENGINE_START: Duration = Duration::from_secs(5);
/// The scheduler's nice range.
const NICE_MIN: i32 = -20;
const NICE_MAX: i32 = 19;

/// The calling thread's kernel thread id.
fn current_tid() -> i32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::gettid() }
}

/// Idle passes after which the engine readies the next Rx buffer of every queue
/// ([`Device::prime_rx`]): once per idle spell, and late enough that a busy port's short gaps
/// between bursts do not trigger it.
const IDLE_PRIME_AFTER: u32 = 8;
/// Idle passes between two looks at the clock while spinning.
const IDLE_CLOCK_EVERY: u32 = 64;
/// Idle passes between two yields of the core while spinning (a driver thread sharing the
/// core gets to run; a core of its own loses little).
const IDLE_YIELD_EVERY: u32 = 256;

/// The engine thread: serves every device, spins while there is work, backs off when idle.
fn engine(s: &Shared) {
    let mut devs: Vec<Arc<Device>> = Vec::new();
    let mut gen = 0;
    let mut last_work = Instant::now();
    let mut last_link = Instant::now();
    let mut passes = 0u64;
    let mut busy = 0u64;
    let mut idle_passes = 0u32;
    while !s.stop.load(Ordering::Acquire) {
        let g = s.gen.load(Ordering::Acquire);
        if g != gen {
            devs = s.devices.lock().clone();
            gen = g;
            s.seen_gen.store(g, Ordering::Release);
        }
        // Passes with work are timed (busy time); idle passes look at the clock only now and
        // then, so an idle spin costs a few loads per pass, not a clock read.
        let pass_start = (idle_passes == 0).then(Instant::now);
        let mut work = false;
        for d in &devs {
            if d.is_failed() {
                continue;
            }
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| d.service())) {
                Ok(w) => work |= w,
                Err(e) => {
                    log::error!(
                        "engine panicked serving device {}: {}; device marked failed",
                        d.id,
                        panic_text(&e)
                    );
                    d.fail();
                }
            }
        }
        passes += 1;
        s.passes.store(passes, Ordering::Relaxed);
        if work {
            idle_passes = 0;
            last_work = Instant::now();
            if let Some(t) = pass_start {
                busy += last_work.duration_since(t).as_nanos() as u64;
                s.busy_ns.store(busy, Ordering::Relaxed);
            }
            continue;
        }
        idle_passes = idle_passes.wrapping_add(1);
        if idle_passes == IDLE_PRIME_AFTER {
            for d in &devs {
                if !d.is_failed()
                    && std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| d.prime_rx()))
                        .is_err()
                {
                    d.fail();
                }
            }
        }
        if idle_passes % IDLE_CLOCK_EVERY != 0 {
            std::hint::spin_loop();
            continue;
        }
        let now = Instant::now();
        if now.duration_since(last_link) > Duration::from_millis(1) {
            last_link = now;
            for d in &devs {
                d.update_link();
            }
        }
        if devs.is_empty() {
            std::thread::park_timeout(Duration::from_millis(5));
        } else if now.duration_since(last_work) > s.idle.spin {
            s.idle_sleeps.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(s.idle.sleep);
        } else if idle_passes % IDLE_YIELD_EVERY == 0 {
            std::thread::yield_now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Waits (up to 10 s) until `f` holds.
    fn wait_for(mut f: impl FnMut() -> bool) -> bool {
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if f() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        false
    }

    #[test]
    fn idle_engine_sleeps_after_the_spin_time_and_not_before() {
        // Default policy: 200 us of polling, then sleeps between passes.
        let f = Fabric::new(FabricConfig::default());
        let _d = f.add_device(DeviceConfig::default());
        assert!(
            wait_for(|| f.engine_idle_sleeps() > 0),
            "the engine never slept"
        );
        f.shutdown();

        // An hour of polling: the engine keeps passing over the idle device, never sleeps.
        let f = Fabric::new(FabricConfig {
            idle: IdlePolicy {
                spin: Duration::from_secs(3600),
                ..Default::default()
            },
            ..Default::default()
        });
        let _d = f.add_device(DeviceConfig::default());
        let p0 = f.engine_passes();
        assert!(
            wait_for(|| f.engine_passes() > p0 + 100_000),
            "the engine did not poll"
        );
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(f.engine_idle_sleeps(), 0);
        f.shutdown();
    }

    /// The nice value of thread `tid` of this process, from /proc (field 19 of its stat
    /// line, counted after the command name, which may hold spaces).
    fn nice_of(tid: i32) -> i32 {
        let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap();
        let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
        after_comm.split(' ').nth(16).unwrap().parse().unwrap()
    }

    #[test]
    fn engine_nice_value_is_set_on_the_engine_thread_only() {
        let f = Fabric::new(FabricConfig::default());
        let tid = f.engine_tid().expect("the engine started");
        assert_ne!(tid, current_tid());
        let ours = nice_of(current_tid());
        assert_eq!(
            nice_of(tid),
            ours,
            "the engine inherits the creator's value"
        );

        // Raising the value (lower priority) needs no privilege.
        f.set_engine_nice(7).unwrap();
        assert_eq!(nice_of(tid), 7);
        assert_eq!(nice_of(current_tid()), ours, "only the engine changed");

        // Out of range: refused before the kernel sees it (it would clamp silently).
        for bad in [-21, 20, i32::MIN] {
            let e = f.set_engine_nice(bad).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{bad}");
            assert_eq!(nice_of(tid), 7);
        }

        // Lowering it needs CAP_SYS_NICE: done as root, a clear error otherwise.
        // SAFETY: geteuid takes no arguments and cannot fail.
        let root = unsafe { libc::geteuid() } == 0;
        match f.set_engine_nice(-5) {
            Ok(()) => {
                assert!(root, "lowered without privilege");
                assert_eq!(nice_of(tid), -5);
            }
            Err(e) => {
                assert!(!root, "refused as root: {e}");
                assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied);
                assert_eq!(nice_of(tid), 7);
            }
        }
        // Once the engine is gone its id may belong to another thread: nothing is set.
        f.shutdown();
        assert_eq!(f.engine_tid(), None);
        let e = f.set_engine_nice(0).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    }
}
