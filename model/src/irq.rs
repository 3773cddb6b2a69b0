//! Rx completion interrupts (the RIM block of each queue and the MSI-X vectors it signals).
//!
//! Register facts follow the public Linux driver (the spec names the RIM registers and the
//! INTR / INTR_CQ blocks; it notes that a poll-mode driver masks them):
//! - RIM_CTL bits 7:0 name the RCQ's MSI-X vector, RIM_THRESHOLD bits 14:0 the number of
//!   unread completions (RCDs) that make it signal, RIM_MASK bit 0 masks the queue.
//! - INTR_CQ_REARM(v) with UNMASK arms vector `v`; with RCQ_TIMEOUT_UPD it takes RCQ_TIMEOUT,
//!   in microseconds.
//! - INTR_MASK(n) holds a mask bit per vector (written through INTR_MASK_SET/CLEAR(n));
//!   INTR_STATUS(n) latches the vectors that signalled (INTR_CLEAR(n) clears them).
//!
//! An armed, unmasked vector signals once a queue pointing at it (RIM unmasked) has
//! `threshold` unread completions, or has had at least one for RCQ_TIMEOUT microseconds since
//! the vector was armed or the completion written, whichever is later; then it masks itself
//! (auto-mask) until re-armed. "Unread" is what lies between the RCQ's tail and the head the
//! driver last wrote. Arming with enough unread completions signals at once, so a driver that
//! polls, finds the ring empty, arms and sleeps cannot miss a frame that arrived in between.
//!
//! The MSI-X message itself is a [`MsixTrigger`] the host registers per vector
//! ([`crate::Device::set_msix_trigger`], the model's counterpart of programming the MSI-X
//! table, or VFIO's eventfd per vector): it is called from the engine thread, or from the
//! thread whose register write armed the vector.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fbnic_hw::regs::{self, CqRearm};

use crate::queue::Queue;
use crate::regfile::RegFile;

/// What the device does to send vector `v`'s MSI-X message (write an eventfd, wake a thread).
pub type MsixTrigger = Arc<dyn Fn() + Send + Sync>;

/// One MSI-X vector.
#[derive(Clone, Default)]
struct Vector {
    armed: bool,
    /// When it was armed (the coalescing timer starts no earlier).
    armed_at: Option<Instant>,
    timeout: Duration,
    trigger: Option<MsixTrigger>,
}

/// The device's MSI-X vectors (built by [`Msix::new`] with all 256: no `Default`, which
/// would leave none and make `check` index out of range).
pub(crate) struct Msix {
    vectors: Vec<Vector>,
    /// Vectors armed now: the engine looks at Rx queues only while this is not zero.
    armed: u32,
    /// Messages sent (for tests and the model's statistics).
    pub sent: u64,
}

impl std::fmt::Debug for Msix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Msix")
            .field("armed", &self.armed)
            .field("sent", &self.sent)
            .finish()
    }
}

impl Msix {
    pub fn new() -> Self {
        Self {
            vectors: vec![Vector::default(); regs::MSIX_VECTORS as usize],
            armed: 0,
            sent: 0,
        }
    }

    /// Whether any vector is armed (the engine's per-pass check).
    #[inline]
    pub fn any_armed(&self) -> bool {
        self.armed != 0
    }

    pub fn set_trigger(&mut self, v: u32, trigger: Option<MsixTrigger>) {
        if let Some(vec) = self.vectors.get_mut(v as usize) {
            vec.trigger = trigger;
        }
    }

    /// INTR_CQ_REARM(v) written.
    pub fn rearm(&mut self, v: u32, val: CqRearm) {
        let Some(vec) = self.vectors.get_mut(v as usize) else {
            return;
        };
        if val.rcq_timeout_upd() {
            vec.timeout = Duration::from_micros(val.rcq_timeout() as u64);
        }
        if val.unmask() && !vec.armed {
            vec.armed = true;
            vec.armed_at = Some(Instant::now());
            self.armed += 1;
        }
    }

    /// Looks at Rx queue `qi`: signals its vector if it is due. `now` is read lazily (only
    /// a queue below its threshold needs the clock).
    pub fn check(&mut self, r: &RegFile, qi: u32, q: &mut Queue, now: &mut Option<Instant>) {
        if !q.rcq.running() || r.get(regs::RIM_MASK.at(qi)) & 1 != 0 {
            q.unread_since = None;
            return;
        }
        let v = r.get(regs::RIM_CTL.at(qi)) & regs::RIM_CTL_VECTOR;
        let vec = &mut self.vectors[v as usize];
        let head = r.get(regs::RCQ_HEAD.at(qi)) & q.rcq.mask;
        let written = q.rcq.idx.wrapping_sub(q.rcd_stage.len() as u32);
        let unread = written.wrapping_sub(head) & q.rcq.mask;
        if unread == 0 {
            q.unread_since = None;
            return;
        }
        let t = *now.get_or_insert_with(Instant::now);
        let since = *q.unread_since.get_or_insert(t);
        if !vec.armed || r.get(regs::intr_mask(v / 32)) & (1 << (v % 32)) != 0 {
            return;
        }
        let threshold = (r.get(regs::RIM_THRESHOLD.at(qi)) & regs::RIM_THRESHOLD_RCD).max(1);
        let start = vec.armed_at.map_or(since, |a| a.max(since));
        if unread < threshold && t.duration_since(start) < vec.timeout {
            return;
        }
        vec.armed = false;
        vec.armed_at = None;
        self.armed -= 1;
        self.sent += 1;
        r.or(regs::intr_status(v / 32), 1 << (v % 32));
        if let Some(trigger) = &vec.trigger {
            trigger();
        }
    }

    /// Looks at every running Rx queue that points at vector `v` (after it was armed).
    pub fn check_vector(&mut self, r: &RegFile, v: u32, qs: &mut [Queue], rx: &[u16]) {
        let mut now = None;
        for &qi in rx {
            if r.get(regs::RIM_CTL.at(qi as u32)) & regs::RIM_CTL_VECTOR == v {
                self.check(r, qi as u32, &mut qs[qi as usize], &mut now);
            }
        }
    }
}
