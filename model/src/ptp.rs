//! The PTP clock: the nanosecond counter that stamps frames (Tx completions of type 1, Rx
//! OPT_META) and that software reads, sets, steps and trims through the PTP registers.
//!
//! The counter holds nanoseconds with 32 fractional bits and advances by PTP_ADD_VAL (ns and
//! 2^-32 ns) every period of the reference clock; **[project choice]** the model's reference
//! clock ticks once per nanosecond of host monotonic time ([`PTP_REF_CLOCK_HZ`]), so the
//! reset increment of 1.0 ns runs the counter at host speed. After reset the counter is 0 and
//! holds until PTP_CTRL.EN is set. Descriptor timestamps are its low 40 bits of nanoseconds.
//!
//! Register writes act at once (the write is the command); reads of PTP_CTR_VAL_* compute
//! the counter at the time of the read.

use std::time::Instant;

use fbnic_hw::regs::{
    PtpAdjust, PtpCtrl, PTP_ADD_VAL_NS, PTP_ADD_VAL_NS_MASK, PTP_ADD_VAL_SUBNS, PTP_INIT_HI,
    PTP_INIT_LO, PTP_NUDGE_NS, PTP_NUDGE_SUBNS, PTP_REF_CLOCK_HZ, PTP_TS_BITS,
};
use parking_lot::Mutex;

use crate::regfile::RegFile;

const _: () = assert!(
    PTP_REF_CLOCK_HZ == 1_000_000_000,
    "one reference period per ns"
);

/// The counter is 64 bits of ns plus 32 fractional bits.
const VALUE_MASK: u128 = (1 << 96) - 1;
/// The reset increment: 1.0 ns per reference period.
const NOMINAL_ADDEND: u64 = 1 << 32;

#[derive(Debug)]
struct Counter {
    /// The value at `at`, in 2^-32 ns.
    base: u128,
    /// Host time of `base`.
    at: Instant,
    /// Increment per reference period, ns in 16.32 fixed point.
    addend: u64,
    running: bool,
}

impl Counter {
    fn value(&self, now: Instant) -> u128 {
        if !self.running {
            return self.base;
        }
        let periods = now.saturating_duration_since(self.at).as_nanos();
        (self.base + periods * self.addend as u128) & VALUE_MASK
    }

    /// Folds the time run so far into `base`, so a change applies from now on.
    fn rebase(&mut self, now: Instant) {
        self.base = self.value(now);
        self.at = now;
    }
}

/// The device's PTP clock.
#[derive(Debug)]
pub struct PtpClock(Mutex<Counter>);

impl Default for PtpClock {
    fn default() -> Self {
        Self(Mutex::new(Counter {
            base: 0,
            at: Instant::now(),
            addend: NOMINAL_ADDEND,
            running: false,
        }))
    }
}

impl PtpClock {
    /// The counter now, in ns.
    pub fn now_ns(&self) -> u64 {
        (self.0.lock().value(Instant::now()) >> 32) as u64
    }

    /// A descriptor timestamp: the low 40 bits of [`now_ns`](Self::now_ns).
    pub fn stamp(&self) -> u64 {
        self.now_ns() & ((1 << PTP_TS_BITS) - 1)
    }

    /// PTP_CTRL was written: EN starts or holds the counter.
    pub fn set_ctrl(&self, ctrl: PtpCtrl) {
        let mut c = self.0.lock();
        let now = Instant::now();
        c.rebase(now);
        c.running = ctrl.en();
    }

    /// PTP_ADJUST was written: carries out its commands (init first, then the nudges, then
    /// the increment), from the operand registers in `regs`.
    pub fn adjust(&self, cmd: PtpAdjust, regs: &RegFile) {
        let mut c = self.0.lock();
        c.rebase(Instant::now());
        let pair = |hi, lo| (regs.get(hi) as u128) << 32 | regs.get(lo) as u128;
        if cmd.init() {
            c.base = pair(PTP_INIT_HI, PTP_INIT_LO) << 32;
        }
        let nudge = pair(PTP_NUDGE_NS, PTP_NUDGE_SUBNS);
        if cmd.add_nudge() {
            c.base = (c.base + nudge) & VALUE_MASK;
        }
        if cmd.sub_nudge() {
            c.base = c.base.wrapping_sub(nudge) & VALUE_MASK;
        }
        if cmd.addend_set() {
            c.addend = ((regs.get(PTP_ADD_VAL_NS) & PTP_ADD_VAL_NS_MASK) as u64) << 32
                | regs.get(PTP_ADD_VAL_SUBNS) as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn regs_with(vals: &[(u32, u32)]) -> RegFile {
        let r = RegFile::new();
        for &(i, v) in vals {
            r.set(i, v);
        }
        r
    }

    #[test]
    fn holds_until_enabled_then_runs_at_host_speed() {
        let c = PtpClock::default();
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(c.now_ns(), 0);
        // The host interval brackets the counter's (started before enable, read after
        // disable), so a preemption in between cannot make the counter look too fast.
        let t = Instant::now();
        c.set_ctrl(PtpCtrl::default().with_en(true));
        std::thread::sleep(Duration::from_millis(20));
        let v = c.now_ns();
        let host = t.elapsed().as_nanos() as u64;
        assert!(v >= 20_000_000 && v <= host + 1_000_000, "{v} vs {host}");
        c.set_ctrl(PtpCtrl::default());
        let held = c.now_ns();
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(c.now_ns(), held);
    }

    #[test]
    fn init_nudges_and_addend() {
        let c = PtpClock::default();
        let regs = regs_with(&[(PTP_INIT_HI, 0x12), (PTP_INIT_LO, 0x3456_7890)]);
        c.adjust(PtpAdjust::default().with_init(true), &regs);
        assert_eq!(c.now_ns(), 0x12_3456_7890);
        // Held (not enabled): steps are exact.
        regs.set(PTP_NUDGE_NS, 1000);
        regs.set(PTP_NUDGE_SUBNS, 0x8000_0000);
        c.adjust(PtpAdjust::default().with_add_nudge(true), &regs);
        c.adjust(PtpAdjust::default().with_add_nudge(true), &regs);
        assert_eq!(c.now_ns(), 0x12_3456_7890 + 2001);
        c.adjust(PtpAdjust::default().with_sub_nudge(true), &regs);
        assert_eq!(c.now_ns(), 0x12_3456_7890 + 1000);
        assert_eq!(c.stamp(), c.now_ns() & 0xff_ffff_ffff);
        // Below zero wraps around the 64-bit ns counter.
        regs.set(PTP_INIT_HI, 0);
        regs.set(PTP_INIT_LO, 5);
        regs.set(PTP_NUDGE_NS, 10);
        regs.set(PTP_NUDGE_SUBNS, 0);
        c.adjust(
            PtpAdjust::default().with_init(true).with_sub_nudge(true),
            &regs,
        );
        assert_eq!(c.now_ns(), u64::MAX - 4);
        // A doubled increment runs the counter at twice host speed.
        regs.set(PTP_ADD_VAL_NS, 2);
        regs.set(PTP_ADD_VAL_SUBNS, 0);
        regs.set(PTP_INIT_LO, 0);
        c.adjust(
            PtpAdjust::default().with_init(true).with_addend_set(true),
            &regs,
        );
        // The host interval brackets the counter's (started before enable, read after
        // disable), so a preemption in between cannot make the counter look too fast.
        let t = Instant::now();
        c.set_ctrl(PtpCtrl::default().with_en(true));
        std::thread::sleep(Duration::from_millis(20));
        c.set_ctrl(PtpCtrl::default());
        let host = t.elapsed().as_nanos() as u64;
        let v = c.now_ns();
        assert!(v >= 40_000_000 && v <= 2 * host, "{v} vs {host}");
    }
}
