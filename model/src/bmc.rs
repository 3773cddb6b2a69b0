//! The BMC stub: a management controller sharing the port (spec 7, 9).
//!
//! Its MAC addresses are reported by the firmware (FW_CAP_RESP); frames the RPC sends to DEST
//! BMC arrive here (counted, copies kept up to a limit), never at host queues unless the
//! action also names the host. Tests can make the BMC transmit: the frame goes out through
//! the port's MAC onto the wire on the engine's next pass.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use fbnic_hw::MacAddr;
use parking_lot::Mutex;

/// A BMC's configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BmcConfig {
    /// The BMC's unicast addresses (at most 4).
    pub macs: Vec<MacAddr>,
    /// The BMC wants every multicast frame.
    pub all_multi: bool,
}

/// Most frames a BMC keeps copies of by default.
const DEFAULT_COPY_LIMIT: usize = 1024;
/// Most frames the BMC may have waiting to go out.
const TX_QUEUE_MAX: usize = 1024;

#[derive(Debug)]
struct BmcRx {
    copies: Vec<Vec<u8>>,
    limit: usize,
}

/// The BMC's state, shared by the device and handles.
#[derive(Debug)]
pub(crate) struct BmcShared {
    pub(crate) cfg: BmcConfig,
    received: AtomicU64,
    rx: Mutex<BmcRx>,
    tx: Mutex<VecDeque<Vec<u8>>>,
    pub(crate) tx_pending: AtomicBool,
}

impl BmcShared {
    pub(crate) fn new(cfg: BmcConfig) -> Arc<Self> {
        Arc::new(Self {
            cfg,
            received: AtomicU64::new(0),
            rx: Mutex::new(BmcRx {
                copies: Vec::new(),
                limit: DEFAULT_COPY_LIMIT,
            }),
            tx: Mutex::new(VecDeque::new()),
            tx_pending: AtomicBool::new(false),
        })
    }

    /// A frame for the BMC.
    pub(crate) fn receive(&self, f: &[u8]) {
        self.received.fetch_add(1, Ordering::Relaxed);
        let mut rx = self.rx.lock();
        if rx.copies.len() < rx.limit {
            rx.copies.push(f.to_vec());
        }
    }

    /// The next frame the BMC wants to send.
    pub(crate) fn next_tx(&self) -> Option<Vec<u8>> {
        let mut q = self.tx.lock();
        let f = q.pop_front();
        if q.is_empty() {
            self.tx_pending.store(false, Ordering::Release);
        }
        f
    }
}

/// The test's view of a device's BMC.
#[derive(Clone, Debug)]
pub struct BmcHandle {
    pub(crate) shared: Arc<BmcShared>,
}

impl BmcHandle {
    /// The BMC's configuration.
    pub fn config(&self) -> &BmcConfig {
        &self.shared.cfg
    }

    /// Frames the BMC received.
    pub fn received(&self) -> u64 {
        self.shared.received.load(Ordering::Relaxed)
    }

    /// Copies of the frames received (up to the copy limit), oldest first.
    pub fn frames(&self) -> Vec<Vec<u8>> {
        self.shared.rx.lock().copies.clone()
    }

    /// Keeps copies of at most `limit` frames.
    pub fn set_copy_limit(&self, limit: usize) {
        self.shared.rx.lock().limit = limit;
    }

    /// Queues a frame for the BMC to transmit onto the wire; false if the queue is full.
    pub fn transmit(&self, frame: &[u8]) -> bool {
        let mut q = self.shared.tx.lock();
        if q.len() >= TX_QUEUE_MAX {
            return false;
        }
        q.push_back(frame.to_vec());
        self.shared.tx_pending.store(true, Ordering::Release);
        true
    }
}
