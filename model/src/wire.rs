//! What sits behind a port's MAC: a cable to another port, a loopback plug, a frame generator,
//! a sink (spec 9), or a link partner outside the model ([`Outside`], a TAP interface say).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::device::Device;
use crate::mac::{FrameClass, Offer, PortRx, MAX_FRAME, MIN_FRAME};
use crate::regfile::RegFile;

/// The far end of a port's wire.
#[derive(Clone, Debug, Default)]
pub(crate) enum WireEnd {
    /// Nothing: transmitted frames are counted and discarded; link down.
    #[default]
    None,
    /// A cable to another port of the same fabric.
    Cable(Weak<Device>),
    /// A loopback plug: own Tx comes back to own Rx.
    Loop,
    /// A frame generator feeding this port's Rx.
    Generator(Arc<GenShared>),
    /// A sink collecting what this port transmits.
    Sink(Arc<SinkShared>),
    /// A link partner outside the model.
    Outside(Arc<OutsideShared>),
}

/// A closure that writes frame number `seq` into a buffer and returns its length.
pub type GenFn = Box<dyn FnMut(u64, &mut [u8]) -> usize + Send>;

/// Where a generator's frames come from.
pub enum GenSource {
    /// These frames, cycled in order.
    List(Vec<Vec<u8>>),
    /// A closure that writes frame number `seq` into the buffer (9742 bytes) and returns its
    /// length (0 ends the stream).
    Func(GenFn),
}

impl std::fmt::Debug for GenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::List(l) => write!(f, "List({} frames)", l.len()),
            Self::Func(_) => f.write_str("Func"),
        }
    }
}

/// A frame generator: frames arrive at the port's MAC Rx, as from a link partner that
/// honours pause (it waits while the port's RXB is full and the port sends pause; otherwise
/// frames are dropped and counted at the port).
#[derive(Debug)]
pub struct Generator {
    /// The frames.
    pub source: GenSource,
    /// Frames per second; `None` = as fast as the port takes them.
    pub rate_pps: Option<u64>,
    /// Frames to send in all; `None` = endless.
    pub count: Option<u64>,
}

impl Generator {
    /// Sends each frame of `frames` once, as fast as possible.
    pub fn once(frames: Vec<Vec<u8>>) -> Self {
        let n = frames.len() as u64;
        Self {
            source: GenSource::List(frames),
            rate_pps: None,
            count: Some(n),
        }
    }
}

pub(crate) struct GenInner {
    source: GenSource,
    rate_pps: Option<u64>,
    count: Option<u64>,
    seq: u64,
    start: Option<Instant>,
    buf: Box<[u8]>,
    pending: usize,
}

impl std::fmt::Debug for GenInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenInner")
            .field("source", &self.source)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

/// A generator's state, shared by the engine and its handle.
#[derive(Debug)]
pub(crate) struct GenShared {
    inner: Mutex<GenInner>,
    sent: AtomicU64,
    dropped: AtomicU64,
    done: AtomicBool,
    stop: AtomicBool,
}

impl GenShared {
    pub(crate) fn new(g: Generator) -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::new(GenInner {
                source: g.source,
                rate_pps: g.rate_pps,
                count: g.count,
                seq: 0,
                start: None,
                buf: vec![0; MAX_FRAME].into_boxed_slice(),
                pending: 0,
            }),
            sent: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            done: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        })
    }

    /// Offers up to `budget` frames to `rx`. Returns true if it did anything.
    pub(crate) fn feed(&self, rx: &mut PortRx, regs: &RegFile, budget: usize) -> bool {
        if self.done.load(Ordering::Relaxed) {
            return false;
        }
        if self.stop.load(Ordering::Relaxed) {
            self.done.store(true, Ordering::Release);
            return false;
        }
        let mut g = self.inner.lock();
        let g = &mut *g;
        let start = *g.start.get_or_insert_with(Instant::now);
        let mut allowed = budget as u64;
        if let Some(rate) = g.rate_pps {
            let due = (start.elapsed().as_secs_f64() * rate as f64) as u64;
            allowed = allowed.min(due.saturating_sub(g.seq));
        }
        if let Some(c) = g.count {
            allowed = allowed.min(c.saturating_sub(g.seq));
        }
        let mut did = false;
        for _ in 0..allowed {
            if g.pending == 0 {
                let n = match &mut g.source {
                    GenSource::List(l) if l.is_empty() => 0,
                    GenSource::List(l) => {
                        let f = &l[(g.seq % l.len() as u64) as usize];
                        let n = f.len().min(MAX_FRAME);
                        g.buf[..n].copy_from_slice(&f[..n]);
                        n
                    }
                    GenSource::Func(func) => func(g.seq, &mut g.buf).min(MAX_FRAME),
                };
                if n == 0 {
                    self.done.store(true, Ordering::Release);
                    break;
                }
                g.pending = n;
            }
            match offer_copy(rx, regs, &g.buf[..g.pending]) {
                Offer::Paused => break,
                Offer::Accepted => {
                    self.sent.fetch_add(1, Ordering::Relaxed);
                }
                Offer::Dropped | Offer::Fault => {
                    self.sent.fetch_add(1, Ordering::Relaxed);
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
            g.pending = 0;
            g.seq += 1;
            did = true;
        }
        if g.count.is_some_and(|c| g.seq >= c) {
            self.done.store(true, Ordering::Release);
        }
        did
    }
}

/// Offers `frame` to a port's MAC Rx from a partner that honours pause.
fn offer_copy(rx: &mut PortRx, regs: &RegFile, frame: &[u8]) -> Offer {
    rx.offer(regs, frame.len(), true, |dst| {
        dst.copy_from_slice(frame);
        Some(FrameClass::of(dst))
    })
}

/// The test's view of an attached generator.
#[derive(Clone, Debug)]
pub struct GeneratorHandle {
    pub(crate) shared: Arc<GenShared>,
}

impl GeneratorHandle {
    /// Frames offered to the port so far (accepted or dropped there).
    pub fn sent(&self) -> u64 {
        self.shared.sent.load(Ordering::Relaxed)
    }

    /// Frames the port dropped on arrival (MAC disabled, runt, RXB full without pause).
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// The generator has sent everything (or was stopped).
    pub fn is_done(&self) -> bool {
        self.shared.done.load(Ordering::Acquire)
    }

    /// Stops the generator.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::Release);
    }

    /// Waits until the generator is done or `timeout` passes; true if done.
    pub fn wait_done(&self, timeout: Duration) -> bool {
        let t = Instant::now();
        while !self.is_done() {
            if t.elapsed() > timeout {
                return false;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        true
    }
}

/// Frames a sink has collected.
#[derive(Debug, Default)]
pub(crate) struct SinkInner {
    frames: u64,
    bytes: u64,
    copies: Vec<Vec<u8>>,
    limit: usize,
}

impl SinkInner {
    /// Records a transmitted frame.
    #[inline]
    pub(crate) fn record(&mut self, f: &[u8]) {
        self.frames += 1;
        self.bytes += f.len() as u64;
        if self.copies.len() < self.limit {
            self.copies.push(f.to_vec());
        }
    }
}

/// A sink's state, shared by the engine and its handle.
#[derive(Debug, Default)]
pub(crate) struct SinkShared {
    pub(crate) inner: Mutex<SinkInner>,
}

/// The test's view of an attached sink.
#[derive(Clone, Debug)]
pub struct SinkHandle {
    pub(crate) shared: Arc<SinkShared>,
}

impl SinkHandle {
    pub(crate) fn new(copy_limit: usize) -> Self {
        Self {
            shared: Arc::new(SinkShared {
                inner: Mutex::new(SinkInner {
                    limit: copy_limit,
                    ..Default::default()
                }),
            }),
        }
    }

    /// Frames collected.
    pub fn frames(&self) -> u64 {
        self.shared.inner.lock().frames
    }

    /// Bytes collected (frames without FCS).
    pub fn bytes(&self) -> u64 {
        self.shared.inner.lock().bytes
    }

    /// Copies of the first frames (up to the copy limit), oldest first.
    pub fn copies(&self) -> Vec<Vec<u8>> {
        self.shared.inner.lock().copies.clone()
    }

    /// Removes and returns the copies collected so far.
    pub fn take_copies(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.shared.inner.lock().copies)
    }

    /// Keeps copies of at most `limit` frames (the default is 1024).
    pub fn set_copy_limit(&self, limit: usize) {
        self.shared.inner.lock().limit = limit;
    }

    /// Waits until at least `n` frames arrived or `timeout` passes; true if they did.
    pub fn wait_frames(&self, n: u64, timeout: Duration) -> bool {
        let t = Instant::now();
        while self.frames() < n {
            if t.elapsed() > timeout {
                return false;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        true
    }
}

/// A link partner outside the model: it takes what the port transmits and has frames for
/// the port to receive. Called from the model's engine thread, so neither call may block.
pub trait Outside: Send + Sync + std::fmt::Debug {
    /// Takes a frame the port transmitted (without FCS); false if it could not (the frame
    /// is lost on the wire and counted).
    fn send(&self, frame: &[u8]) -> bool;

    /// Writes the next frame for the port into `buf` (9742 bytes, the largest frame): its
    /// length, or None when there is none now.
    fn recv(&self, buf: &mut [u8]) -> Option<usize>;
}

/// An outside partner's state, shared by the engine and its handle.
#[derive(Debug)]
pub(crate) struct OutsideShared {
    partner: Box<dyn Outside>,
    /// A frame received from the partner and not yet taken by the port (paused), with its
    /// length (0: none).
    pending: Mutex<(Box<[u8]>, usize)>,
    sent: AtomicU64,
    send_failed: AtomicU64,
    received: AtomicU64,
    rx_dropped: AtomicU64,
}

impl OutsideShared {
    pub(crate) fn new(partner: Box<dyn Outside>) -> Arc<Self> {
        Arc::new(Self {
            partner,
            pending: Mutex::new((vec![0; MAX_FRAME].into_boxed_slice(), 0)),
            sent: AtomicU64::new(0),
            send_failed: AtomicU64::new(0),
            received: AtomicU64::new(0),
            rx_dropped: AtomicU64::new(0),
        })
    }

    /// Hands a transmitted frame to the partner.
    pub(crate) fn send(&self, frame: &[u8]) {
        if self.partner.send(frame) {
            self.sent.fetch_add(1, Ordering::Relaxed);
        } else {
            self.send_failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Offers up to `budget` of the partner's frames to `rx`, padded to the minimum frame
    /// as a link partner's MAC pads them. Returns true if it did anything.
    pub(crate) fn feed(&self, rx: &mut PortRx, regs: &RegFile, budget: usize) -> bool {
        let mut guard = self.pending.lock();
        let (buf, pending) = &mut *guard;
        let mut did = false;
        for _ in 0..budget {
            if *pending == 0 {
                match self.partner.recv(buf) {
                    Some(n) if n > 0 => {
                        let n = n.min(MAX_FRAME);
                        if n < MIN_FRAME {
                            buf[n..MIN_FRAME].fill(0);
                        }
                        *pending = n.max(MIN_FRAME);
                        self.received.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => break,
                }
            }
            match offer_copy(rx, regs, &buf[..*pending]) {
                Offer::Paused => break,
                Offer::Accepted => {}
                Offer::Dropped | Offer::Fault => {
                    self.rx_dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
            *pending = 0;
            did = true;
        }
        did
    }
}

/// The view of an attached outside partner.
#[derive(Clone, Debug)]
pub struct OutsideHandle {
    pub(crate) shared: Arc<OutsideShared>,
}

impl OutsideHandle {
    /// Frames the port transmitted that the partner took.
    pub fn sent(&self) -> u64 {
        self.shared.sent.load(Ordering::Relaxed)
    }

    /// Frames the port transmitted that the partner could not take.
    pub fn send_failed(&self) -> u64 {
        self.shared.send_failed.load(Ordering::Relaxed)
    }

    /// Frames the partner had for the port.
    pub fn received(&self) -> u64 {
        self.shared.received.load(Ordering::Relaxed)
    }

    /// Of those, frames the port dropped on arrival (MAC disabled, oversize, RXB full
    /// without pause).
    pub fn rx_dropped(&self) -> u64 {
        self.shared.rx_dropped.load(Ordering::Relaxed)
    }
}
