//! The device's PTP clock, as the driver uses it: started and set to the host's real time at
//! attach, read, set and stepped through the PTP registers; 40-bit descriptor timestamps
//! extended to full nanoseconds against a recent reading.
//!
//! Rx timestamps (OPT_META) and Tx timestamps (TCD type 1) carry the low 40 bits of the
//! clock's nanoseconds, which wrap every 18.3 minutes. [`Stamps`] keeps the last
//! clock reading (the port's periodic service refreshes it every second), and a stamp is
//! taken as the value with those 40 bits nearest to it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use fbnic_hw::regs::{self, Bar, PtpAdjust, PtpCtrl, PTP_TS_BITS};

use crate::error::{Error, Result};
use crate::transport::Transport;

/// The EtherType of IEEE 1588 (PTP) over Ethernet: the frames IEEE 1588 mode flags.
pub const ETHER_TYPE_PTP: u16 = 0x88f7;

const TS_MASK: u64 = (1 << PTP_TS_BITS) - 1;
/// No stamp latched.
const NONE: u64 = u64::MAX;

/// Reads the clock (ns): HI, LO, HI again until HI holds still (a changed HI means LO wrapped
/// between the reads). Fails if the device is gone or HI never holds still.
pub fn read(tp: &dyn Transport) -> Result<u64> {
    for _ in 0..4 {
        let hi = tp.read32(Bar::Bar0, regs::PTP_CTR_VAL_HI);
        let lo = tp.read32(Bar::Bar0, regs::PTP_CTR_VAL_LO);
        let hi2 = tp.read32(Bar::Bar0, regs::PTP_CTR_VAL_HI);
        if hi == hi2 {
            if hi == u32::MAX
                && lo == u32::MAX
                && tp.read32(Bar::Bar0, regs::MASTER_SPARE_0) == u32::MAX
            {
                return Err(Error::DeviceGone);
            }
            return Ok((hi as u64) << 32 | lo as u64);
        }
    }
    Err(Error::Hardware(
        "the PTP clock's high word kept changing while it was read".into(),
    ))
}

/// Sets the clock to `ns`.
pub fn write(tp: &dyn Transport, ns: u64) {
    tp.write32(Bar::Bar0, regs::PTP_INIT_HI, (ns >> 32) as u32);
    tp.write32(Bar::Bar0, regs::PTP_INIT_LO, ns as u32);
    tp.write32(
        Bar::Bar0,
        regs::PTP_ADJUST,
        PtpAdjust::default().with_init(true).raw(),
    );
}

/// Steps the clock by `delta_ns` (either way). A step that fits NUDGE_NS (32 bits, about
/// 4.3 s) is a nudge, which keeps the clock running exactly; a larger one reads the clock and
/// sets it, losing the few nanoseconds between the read and the write.
pub fn step(tp: &dyn Transport, delta_ns: i64) -> Result<()> {
    let mag = delta_ns.unsigned_abs();
    let Ok(nudge) = u32::try_from(mag) else {
        let now = read(tp)?;
        write(tp, now.wrapping_add(delta_ns as u64));
        return Ok(());
    };
    tp.write32(Bar::Bar0, regs::PTP_NUDGE_NS, nudge);
    tp.write32(Bar::Bar0, regs::PTP_NUDGE_SUBNS, 0);
    let cmd = if delta_ns < 0 {
        PtpAdjust::default().with_sub_nudge(true)
    } else {
        PtpAdjust::default().with_add_nudge(true)
    };
    tp.write32(Bar::Bar0, regs::PTP_ADJUST, cmd.raw());
    Ok(())
}

/// Starts the clock at its nominal rate, set to `ns`.
pub fn start(tp: &dyn Transport, ns: u64) {
    let nominal_ns = (1_000_000_000 / regs::PTP_REF_CLOCK_HZ) as u32;
    tp.write32(Bar::Bar0, regs::PTP_ADD_VAL_NS, nominal_ns);
    tp.write32(Bar::Bar0, regs::PTP_ADD_VAL_SUBNS, 0);
    tp.write32(
        Bar::Bar0,
        regs::PTP_ADJUST,
        PtpAdjust::default().with_addend_set(true).raw(),
    );
    write(tp, ns);
    tp.write32(
        Bar::Bar0,
        regs::PTP_CTRL,
        PtpCtrl::default().with_en(true).raw(),
    );
}

/// The full nanosecond value of a 40-bit stamp: the one with those low bits nearest to
/// `reference` (a clock reading within 9 minutes of the stamp).
pub fn extend40(ts40: u64, reference: u64) -> u64 {
    let d = ts40.wrapping_sub(reference) & TS_MASK;
    // d as a signed 40-bit distance from the reference.
    let signed = ((d << (64 - PTP_TS_BITS)) as i64) >> (64 - PTP_TS_BITS);
    reference.wrapping_add(signed as u64)
}

/// What the port and its queues share about time: the clock reference, IEEE 1588 mode and
/// the stamps it latches for `rte_eth_timesync_read_{rx,tx}_timestamp`.
#[derive(Debug)]
pub struct Stamps {
    clock_ref: AtomicU64,
    timesync: AtomicBool,
    rx_ptp: AtomicU64,
    tx: AtomicU64,
}

impl Default for Stamps {
    fn default() -> Self {
        Self {
            clock_ref: AtomicU64::new(0),
            timesync: AtomicBool::new(false),
            rx_ptp: AtomicU64::new(NONE),
            tx: AtomicU64::new(NONE),
        }
    }
}

impl Stamps {
    /// Records a clock reading as the reference for extending stamps.
    pub fn set_reference(&self, ns: u64) {
        self.clock_ref.store(ns, Ordering::Relaxed);
    }

    /// A descriptor stamp in full nanoseconds.
    pub fn extend(&self, ts40: u64) -> u64 {
        extend40(ts40, self.clock_ref.load(Ordering::Relaxed))
    }

    /// Whether IEEE 1588 mode is on (PTP frames are flagged and their stamps latched).
    pub fn timesync(&self) -> bool {
        self.timesync.load(Ordering::Relaxed)
    }

    /// Turns IEEE 1588 mode on or off; either way the latched stamps are dropped.
    pub fn set_timesync(&self, on: bool) {
        self.rx_ptp.store(NONE, Ordering::Relaxed);
        self.tx.store(NONE, Ordering::Relaxed);
        self.timesync.store(on, Ordering::Relaxed);
    }

    /// Latches the Rx stamp of a PTP frame.
    pub fn latch_rx(&self, ns: u64) {
        self.rx_ptp.store(ns, Ordering::Relaxed);
    }

    /// Latches a Tx stamp.
    pub fn latch_tx(&self, ns: u64) {
        self.tx.store(ns, Ordering::Relaxed);
    }

    /// Takes the latched Rx stamp of the last PTP frame.
    pub fn take_rx(&self) -> Option<u64> {
        Some(self.rx_ptp.swap(NONE, Ordering::Relaxed)).filter(|&v| v != NONE)
    }

    /// Takes the latched Tx stamp.
    pub fn take_tx(&self) -> Option<u64> {
        Some(self.tx.swap(NONE, Ordering::Relaxed)).filter(|&v| v != NONE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extend40_takes_the_nearest_value() {
        let r = 0x1234_5678_9abc_def0u64;
        // The reference's own low bits, a little before and after it.
        assert_eq!(extend40(r & TS_MASK, r), r);
        assert_eq!(extend40((r - 1000) & TS_MASK, r), r - 1000);
        assert_eq!(extend40((r + 1000) & TS_MASK, r), r + 1000);
        // Across a 40-bit wrap, both ways.
        let w = 5u64 << 40;
        assert_eq!(extend40((w + 10) & TS_MASK, w - 10), w + 10);
        assert_eq!(extend40((w - 10) & TS_MASK, w + 10), w - 10);
        // Up to half the 40-bit range away either way.
        let half = 1u64 << 39;
        assert_eq!(extend40((r + half - 1) & TS_MASK, r), r + half - 1);
        assert_eq!(extend40((r - half) & TS_MASK, r), r - half);
        // Near zero.
        assert_eq!(extend40(TS_MASK, 3), u64::MAX);
        assert_eq!(extend40(2, 0), 2);
    }

    #[test]
    fn stamps_latch_and_take_once() {
        let s = Stamps::default();
        assert_eq!(s.take_rx(), None);
        s.latch_rx(5);
        s.latch_tx(7);
        assert_eq!(s.take_rx(), Some(5));
        assert_eq!(s.take_rx(), None);
        s.set_timesync(true);
        assert!(s.timesync());
        assert_eq!(s.take_tx(), None, "enabling drops old stamps");
        s.set_reference(1 << 41);
        assert_eq!(s.extend(7), (1 << 41) + 7);
    }
}
