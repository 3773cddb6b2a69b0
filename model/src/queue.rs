//! Per-queue state: rings, their configuration, and counters (spec 3).

use fbnic_hw::regs::{self, QReg, QueueCtl, RdeCtl0, RdeCtl1, RingSize, RING_BASE_ALIGN};

use crate::dma::{DmaFault, DmaTable, RingMap};
use crate::regfile::RegFile;

/// Whether a ring runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum RingState {
    /// Disabled (or in reset).
    #[default]
    Off,
    /// Enabled with a valid configuration.
    Running,
    /// Enabled but refused: invalid configuration, or a DMA fault on the ring itself. Stays so
    /// until the next RESET/ENABLE.
    Faulted,
}

/// One descriptor ring as the device sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ring {
    pub state: RingState,
    pub base: u64,
    pub entries: u32,
    pub mask: u32,
    /// The device's index: consumer head (TWQ, BDQ) or producer tail (TCQ, RCQ).
    pub idx: u32,
    /// DONE phase to write next (completion rings).
    pub phase: bool,
    /// The last valid doorbell value (TWQ/BDQ tail, TCQ/RCQ head).
    pub sw: u32,
    /// The last raw doorbell value seen (to count a bad value once).
    pub last_raw: u32,
    /// Cached translation of the ring memory.
    pub map: RingMap,
}

impl Default for Ring {
    fn default() -> Self {
        Self {
            state: RingState::Off,
            base: 0,
            entries: 0,
            mask: 0,
            idx: 0,
            phase: true,
            sw: 0,
            last_raw: 0,
            map: RingMap::default(),
        }
    }
}

/// Why a ring refused to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RingConfigError {
    Size,
    Align,
}

impl Ring {
    /// Forgets everything: pointers zero, DONE phase back to 1, not running.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Loads the configuration (BAL/BAH/SIZE) and starts running, or refuses.
    pub fn enable(
        &mut self,
        regs: &RegFile,
        bal: u32,
        bah: u32,
        size: u32,
    ) -> Result<(), RingConfigError> {
        let base = (regs.get(bah) as u64) << 32 | regs.get(bal) as u64;
        let entries = RingSize::from_raw(regs.get(size)).entries();
        self.state = RingState::Faulted;
        let entries = entries.ok_or(RingConfigError::Size)?;
        if base % RING_BASE_ALIGN != 0 || base >= 1 << regs::DMA_ADDR_BITS {
            return Err(RingConfigError::Align);
        }
        self.base = base;
        self.entries = entries;
        self.mask = entries - 1;
        self.idx &= self.mask;
        self.sw &= self.mask;
        self.map = RingMap::default();
        self.state = RingState::Running;
        Ok(())
    }

    /// Whether the ring runs.
    #[inline(always)]
    pub fn running(&self) -> bool {
        self.state == RingState::Running
    }

    /// Reads descriptor `i` (modulo the ring size).
    #[inline(always)]
    pub fn read(&mut self, dma: &mut DmaTable, i: u32) -> Result<u64, DmaFault> {
        let off = 8 * (i & self.mask) as u64;
        dma.ring_read(&mut self.map, self.base, 8 * self.entries as u64, off)
    }

    /// Reads descriptor `i` (modulo the ring size) if the ring's memory is known to be mapped;
    /// never counts a fault.
    #[inline]
    pub fn peek(&mut self, dma: &mut DmaTable, i: u32) -> Option<u64> {
        let off = 8 * (i & self.mask) as u64;
        dma.ring_peek(&mut self.map, self.base, 8 * self.entries as u64, off)
    }

    /// Writes descriptor `i` (modulo the ring size).
    #[inline(always)]
    pub fn write(&mut self, dma: &mut DmaTable, i: u32, v: u64) -> Result<(), DmaFault> {
        let off = 8 * (i & self.mask) as u64;
        dma.ring_write(&mut self.map, self.base, 8 * self.entries as u64, off, v)
    }

    /// Hints that descriptor `i` (modulo the ring size) will be read or written soon.
    #[inline(always)]
    pub fn prefetch(&mut self, dma: &mut DmaTable, i: u32, write: bool) {
        if self.running() {
            let off = 8 * (i & self.mask) as u64;
            dma.ring_prefetch(
                &mut self.map,
                self.base,
                8 * self.entries as u64,
                off,
                write,
            );
        }
    }

    /// Reads a doorbell register; a value beyond the ring is an error, counted once per
    /// distinct bad value and otherwise ignored. Returns true when a bad value was seen.
    #[inline]
    pub fn doorbell(&mut self, regs: &RegFile, reg: u32) -> bool {
        let raw = regs.get(reg);
        if raw == self.last_raw {
            return false;
        }
        self.last_raw = raw;
        if raw < self.entries {
            self.sw = raw;
            false
        } else {
            true
        }
    }

    /// Entries the driver has posted and the device not consumed (TWQ, BDQ).
    #[inline(always)]
    pub fn pending(&self) -> u32 {
        self.sw.wrapping_sub(self.idx) & self.mask
    }

    /// Completion slots free (TCQ, RCQ): one slot is always left empty.
    #[inline(always)]
    pub fn free(&self) -> u32 {
        self.mask - (self.idx.wrapping_sub(self.sw) & self.mask)
    }

    /// Advances the device index by `n`, flipping the phase on each wrap.
    #[inline(always)]
    pub fn advance(&mut self, n: u32) {
        let next = self.idx + n;
        if next > self.mask {
            self.phase = !self.phase;
        }
        self.idx = next & self.mask;
    }
}

/// Per-queue counters (free-running u32, published once per batch).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct QCounters {
    pub twq_pkt: u32,
    pub twq_err: u32,
    pub twq_bytes: u64,
    pub rde_pkt: u32,
    pub rde_err: u32,
    pub cq_drop: u32,
    pub bdq_drop: u32,
    pub rde_bytes: u64,
}

/// One queue index: two Tx rings, the Tx completion ring, the Rx rings.
#[derive(Clone, Debug, Default)]
pub(crate) struct Queue {
    pub twq: [Ring; 2],
    pub tcq: Ring,
    pub rcq: Ring,
    pub hpq: Ring,
    pub ppq: Ring,
    pub cnt: QCounters,
    /// RDE_CTL0, RDE_CTL1 and BDQ_CTL as last written (cached: the engine reads them per
    /// frame, and BDQ_CTL shares a cache line with the PPQ doorbell).
    pub rde_ctl0: RdeCtl0,
    pub rde_ctl1: RdeCtl1,
    pub bdq_ctl: QueueCtl,
    /// Counters or pointers changed since the last publish.
    pub dirty: bool,
    /// RCQ completions taken but not yet written (written at the end of the Rx pass).
    pub rcd_stage: Vec<u64>,
    /// The RCQ slot of `rcd_stage[0]`.
    pub stage_idx: u32,
    /// The queue is in the device's list of queues with staged completions.
    pub stage_listed: bool,
    /// The PPQ head whose buffer [`crate::rx::prime`] last asked for (with the ring's
    /// phase in bit 31), so an idle engine asks once per buffer.
    pub primed: u32,
    /// Since when the RCQ has held unread completions (the interrupt coalescing timer;
    /// tracked only while a vector is armed, see [`crate::irq`]).
    pub unread_since: Option<std::time::Instant>,
}

/// The register set of one of a queue's rings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RingRegs {
    pub bal: QReg,
    pub bah: QReg,
    pub size: QReg,
}

pub(crate) const TWQ_REGS: [RingRegs; 2] = [
    RingRegs {
        bal: regs::TWQ0_BAL,
        bah: regs::TWQ0_BAH,
        size: regs::TWQ0_SIZE,
    },
    RingRegs {
        bal: regs::TWQ1_BAL,
        bah: regs::TWQ1_BAH,
        size: regs::TWQ1_SIZE,
    },
];
pub(crate) const TCQ_REGS: RingRegs = RingRegs {
    bal: regs::TCQ_BAL,
    bah: regs::TCQ_BAH,
    size: regs::TCQ_SIZE,
};
pub(crate) const RCQ_REGS: RingRegs = RingRegs {
    bal: regs::RCQ_BAL,
    bah: regs::RCQ_BAH,
    size: regs::RCQ_SIZE,
};
pub(crate) const HPQ_REGS: RingRegs = RingRegs {
    bal: regs::BDQ_HPQ_BAL,
    bah: regs::BDQ_HPQ_BAH,
    size: regs::BDQ_HPQ_SIZE,
};
pub(crate) const PPQ_REGS: RingRegs = RingRegs {
    bal: regs::BDQ_PPQ_BAL,
    bah: regs::BDQ_PPQ_BAH,
    size: regs::BDQ_PPQ_SIZE,
};

/// Applies a CTL write to `ring`: RESET clears it (and the doorbell registers listed), ENABLE
/// without RESET loads its configuration. Returns Err when ENABLE was refused.
pub(crate) fn apply_ctl(
    regs: &RegFile,
    q: u32,
    ring: &mut Ring,
    rr: RingRegs,
    ctl: QueueCtl,
    enable: bool,
    doorbells: &[QReg],
) -> Result<(), RingConfigError> {
    if ctl.reset() || !enable {
        if ctl.reset() {
            ring.reset();
            for d in doorbells {
                regs.set(d.at(q), 0);
            }
        } else {
            ring.state = RingState::Off;
        }
        return Ok(());
    }
    if ring.state != RingState::Off {
        return Ok(());
    }
    ring.enable(regs, rr.bal.at(q), rr.bah.at(q), rr.size.at(q))
}

/// Publishes a queue's Tx counters (before a Tx completion is written).
#[inline]
pub(crate) fn publish_tx_counters(regs: &RegFile, qi: u32, c: &QCounters) {
    regs.set(regs::TWQ0_PKT_CNT.at(qi), c.twq_pkt);
    regs.set(regs::TWQ0_ERR_CNT.at(qi), c.twq_err);
    regs.set(regs::TWQ0_BYTE_CNT.at(qi), c.twq_bytes as u32);
    regs.set(regs::TWQ0_BYTE_CNT_HI.at(qi), (c.twq_bytes >> 32) as u32);
}

/// Publishes a queue's counters (its PTRS registers are computed when read).
pub(crate) fn publish(regs: &RegFile, qi: u32, q: &mut Queue) {
    if !q.dirty {
        return;
    }
    q.dirty = false;
    let c = &q.cnt;
    regs.set(regs::TWQ0_PKT_CNT.at(qi), c.twq_pkt);
    regs.set(regs::TWQ0_ERR_CNT.at(qi), c.twq_err);
    regs.set(regs::TWQ0_BYTE_CNT.at(qi), c.twq_bytes as u32);
    regs.set(regs::TWQ0_BYTE_CNT_HI.at(qi), (c.twq_bytes >> 32) as u32);
    regs.set(regs::RDE_PKT_CNT.at(qi), c.rde_pkt);
    regs.set(regs::RDE_PKT_ERR.at(qi), c.rde_err);
    regs.set(regs::RDE_CQ_DROP.at(qi), c.cq_drop);
    regs.set(regs::RDE_BDQ_DROP.at(qi), c.bdq_drop);
    regs.set(regs::RDE_BYTE_CNT.at(qi), c.rde_bytes as u32);
    regs.set(regs::RDE_BYTE_CNT_HI.at(qi), (c.rde_bytes >> 32) as u32);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_arithmetic() {
        let mut r = Ring {
            entries: 16,
            mask: 15,
            state: RingState::Running,
            ..Default::default()
        };
        assert_eq!(r.free(), 15);
        r.advance(15);
        assert_eq!(r.free(), 0);
        assert!(r.phase);
        r.sw = 10;
        assert_eq!(r.free(), 10);
        r.advance(3);
        assert!(!r.phase, "wrapped");
        assert_eq!(r.idx, 2);
        r.sw = 2;
        assert_eq!(r.pending(), 0);
        r.sw = 1;
        assert_eq!(r.pending(), 15);
    }
}
