//! What Rx and Tx queues share: configuration limits, software counters, idle waits.

use core::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fbnic_hw::regs::{self, Bar, QReg, QueueCtl, Reg};

use crate::error::{Error, Result};
use crate::transport::Transport;

/// Fewest descriptors a queue accepts.
pub const MIN_DESC: u32 = 64;
/// Most Rx buffers a queue accepts (its RCQ gets twice as many entries, at most 65536).
pub const MAX_RX_DESC: u32 = 32768;
/// Most Tx descriptors a queue accepts.
pub const MAX_TX_DESC: u32 = 65536;
/// Most segments a transmitted packet may have (one TWD each, plus the META).
pub const MAX_TX_SEGS: u16 = 32;
/// How long a disabled queue may take to go idle.
pub const IDLE_TIMEOUT: Duration = Duration::from_millis(500);

/// Checks that `qid` names one of the device's queues.
pub fn check_qid(what: &str, qid: u32) -> Result<()> {
    if qid >= regs::MAX_QUEUES {
        return Err(Error::invalid(format!(
            "{what} queue {qid}: the device has {} queues",
            regs::MAX_QUEUES
        )));
    }
    Ok(())
}

/// Checks a descriptor count from the user: a power of two within `[MIN_DESC, max]`.
pub fn check_desc_count(what: &str, n: u32, max: u32) -> Result<()> {
    if !n.is_power_of_two() || !(MIN_DESC..=max).contains(&n) {
        return Err(Error::invalid(format!(
            "{what} descriptor count {n}: must be a power of two from {MIN_DESC} to {max}"
        )));
    }
    Ok(())
}

/// A counter the fast path bumps and any thread may read. Only the queue's lcore writes it,
/// so an increment is a load and a store (no locked instruction).
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds `n` (single writer).
    #[inline(always)]
    pub fn add(&self, n: u64) {
        self.0.store(
            self.0.load(Ordering::Relaxed).wrapping_add(n),
            Ordering::Relaxed,
        );
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Resets to zero. Racy against a running burst by design: a reset that races a burst may
    /// lose that burst's increment, as with every PMD's software counters.
    pub fn reset(&self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

/// Software counters of one queue.
#[derive(Debug, Default)]
pub struct QueueStats {
    /// Packets delivered (Rx) or handed to the device (Tx).
    pub packets: Counter,
    /// Bytes of those packets.
    pub bytes: Counter,
    /// Packets dropped by the driver: errors reported by the device, malformed completions,
    /// packets the driver could not send.
    pub errors: Counter,
    /// Rx: times a refill found the mempool empty.
    pub alloc_failures: Counter,
    /// Descriptors from the device that broke the protocol (bad buffer id, META without a
    /// buffer, a completion for descriptors never posted).
    pub bad_descriptors: Counter,
    /// Bursts that moved packets: Rx bursts that returned at least one, Tx bursts that
    /// handed at least one to the device (packets / bursts is the mean burst).
    pub bursts: Counter,
    /// Rx: polls of a running queue that found no completion.
    pub empty_polls: Counter,
    /// Doorbell (tail or head register) writes: Rx RCQ head, PPQ and HPQ tails; Tx TWQ tail
    /// and TCQ head.
    pub doorbells: Counter,
    /// Tx: completion reads that found new completions (each frees what they cover).
    pub reclaims: Counter,
}

impl QueueStats {
    /// Zeroes every counter.
    pub fn reset(&self) {
        for c in [
            &self.packets,
            &self.bytes,
            &self.errors,
            &self.alloc_failures,
            &self.bad_descriptors,
            &self.bursts,
            &self.empty_polls,
            &self.doorbells,
            &self.reclaims,
        ] {
            c.reset();
        }
    }
}

/// Stops the rings whose CTL registers are `ctls` (queue `q`): clears ENABLE, waits until the
/// `idle` bits read set, then holds the rings in RESET. The rings are reset even if the wait
/// timed out (the error is returned after).
pub fn quiesce(
    tp: &dyn Transport,
    what: &'static str,
    q: u32,
    ctls: &[QReg],
    idle: &[(Reg, u32)],
) -> Result<()> {
    for c in ctls {
        tp.write32(Bar::Bar0, c.at(q), 0);
    }
    let waited = wait_idle(tp, what, q, idle);
    for c in ctls {
        tp.write32(
            Bar::Bar0,
            c.at(q),
            QueueCtl::default().with_reset(true).raw(),
        );
    }
    waited
}

/// Waits until every `(register, bit)` in `idle` reads set, or fails after [`IDLE_TIMEOUT`].
pub fn wait_idle(
    tp: &dyn Transport,
    what: &'static str,
    q: u32,
    idle: &[(Reg, u32)],
) -> Result<()> {
    let start = Instant::now();
    loop {
        let mut all = true;
        for &(reg, bit) in idle {
            let v = tp.read32(Bar::Bar0, reg);
            if v == u32::MAX && tp.read32(Bar::Bar0, regs::MASTER_SPARE_0) == u32::MAX {
                return Err(Error::DeviceGone);
            }
            all &= v & bit != 0;
        }
        if all {
            return Ok(());
        }
        if start.elapsed() > IDLE_TIMEOUT {
            return Err(Error::Hardware(format!(
                "queue {q}: {what} did not go idle within {} ms",
                IDLE_TIMEOUT.as_millis()
            )));
        }
        std::thread::sleep(Duration::from_micros(100));
    }
}
