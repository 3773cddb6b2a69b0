//! The receive side of a queue: the RCQ (completions) and the PPQ (buffers), in
//! one-buffer-per-frame mode (spec 4.5): every frame starts in a fresh buffer and continues in
//! further buffers when it does not fit (scattered Rx).
//!
//! The burst loop reads completions while their DONE bit matches the ring pass, builds
//! packets from PAY_AL descriptors (one per buffer) and finishes them at META, then refills
//! the PPQ in bulk and rings each doorbell once.

use core::mem::MaybeUninit;

use fbnic_hw::desc::{BdqDesc, Rcd, RcdType};
use fbnic_hw::regs::{self, Bar, QueueCtl, RdeCtl0, RdeCtl1, RingSize};

use crate::buf::{PktBuf, RxPool};
use crate::error::{Error, Result};
use crate::ptp::Stamps;
use crate::queue::{self, QueueStats};
use crate::ring::DescRing;
use std::sync::Arc;

use crate::transport::{DmaAllocator, Doorbell, Transport};

/// Refill the PPQ once at least this many buffers are missing.
const REFILL_BATCH: u32 = 32;
/// Packets of one burst whose inspection (`RxPool::rx_inspect`) waits for the end of the
/// burst; any more are inspected at once.
const INSPECT_BATCH: usize = 32;
/// Largest buffer length RDE_CTL1.MAX_HDR can express.
const MAX_BUF_LEN: u32 = 8191;

/// How an Rx queue is set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RxConfig {
    /// Buffers on the PPQ (a power of two); the RCQ gets twice as many entries.
    pub nb_desc: u32,
    /// Drop frames at once when no buffer is posted (DPDK `rx_drop_en`); otherwise the device
    /// holds them until buffers arrive, pausing the link partner when full.
    pub drop_en: bool,
    /// Deliver frames larger than one buffer as chained segments; without it they are dropped.
    pub scatter: bool,
}

/// A packet being assembled from AL completions.
#[derive(Clone, Copy)]
struct Partial<B> {
    head: B,
    last: B,
    nb_segs: u16,
    len: u32,
    bad: bool,
    /// The OPT_META timestamp (40 bits), or [`NO_STAMP`].
    stamp: u64,
}

/// [`Partial::stamp`] of a packet the device did not stamp.
const NO_STAMP: u64 = u64::MAX;

/// The state of one Rx buffer slot (DPDK's `RTE_ETH_RX_DESC_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxDescStatus {
    /// Posted: the device may fill it.
    Avail,
    /// Filled by the device, waiting for the driver.
    Done,
    /// Neither: held by the driver or not posted.
    Unavail,
}

/// The MSI-X vector of Rx queue 0 (see [`RxQueue::irq_vector`]).
pub const RX_VECTOR_BASE: u32 = 2;

/// The receive half of queue `qid`.
pub struct RxQueue<P: RxPool> {
    rcq: DescRing,
    ppq: DescRing,
    /// Next RCQ entry to read (free-running).
    rcq_head: u32,
    /// Next PPQ slot to post (free-running).
    ppq_tail: u32,
    /// Buffers the driver has posted and not yet taken back.
    posted: u32,
    rcq_db: Doorbell,
    ppq_db: Doorbell,
    sw: Box<[Option<P::Buf>]>,
    partial: Option<Partial<P::Buf>>,
    pool: P,
    buf_len: u32,
    cfg: RxConfig,
    qid: u32,
    running: bool,
    /// Keeps the device (and the doorbells' registers) alive as long as the queue.
    tp: Arc<dyn Transport>,
    /// Software counters (shared: control threads read them while the queue runs).
    pub stats: Arc<QueueStats>,
    /// The port's clock reference and IEEE 1588 latches.
    stamps: Arc<Stamps>,
}

impl<P: RxPool> RxQueue<P> {
    /// Allocates the rings of queue `qid`. Nothing is written to the device until
    /// [`start`](Self::start).
    pub fn new(
        tp: &Arc<dyn Transport>,
        dma: &dyn DmaAllocator,
        qid: u32,
        cfg: RxConfig,
        pool: P,
    ) -> Result<Self> {
        queue::check_qid("Rx", qid)?;
        queue::check_desc_count("Rx", cfg.nb_desc, queue::MAX_RX_DESC)?;
        let room = pool.data_room();
        if room < 64 {
            return Err(Error::invalid(format!(
                "Rx queue {qid}: mempool buffers hold {room} bytes of data, need at least 64"
            )));
        }
        let ppq = DescRing::new(dma, cfg.nb_desc)?;
        let rcq = DescRing::new(dma, cfg.nb_desc * 2)?;
        let doorbell = |r: regs::QReg| {
            tp.doorbell(r.at(qid)).ok_or_else(|| {
                Error::Hardware(format!("no doorbell for queue {qid} register {:#x}", r.0))
            })
        };
        Ok(Self {
            rcq_db: doorbell(regs::RCQ_HEAD)?,
            ppq_db: doorbell(regs::BDQ_PPQ_TAIL)?,
            rcq,
            ppq,
            rcq_head: 0,
            ppq_tail: 0,
            posted: 0,
            sw: (0..cfg.nb_desc).map(|_| None).collect(),
            partial: None,
            buf_len: room.min(MAX_BUF_LEN),
            pool,
            cfg,
            qid,
            running: false,
            tp: tp.clone(),
            stats: Arc::new(QueueStats::default()),
            stamps: Arc::new(Stamps::default()),
        })
    }

    /// Shares the port's [`Stamps`]: device timestamps are extended against its clock
    /// reference, and PTP frames' stamps latched there in IEEE 1588 mode.
    pub fn with_stamps(mut self, stamps: Arc<Stamps>) -> Self {
        self.stamps = stamps;
        self
    }

    /// The queue index.
    pub fn qid(&self) -> u32 {
        self.qid
    }

    /// The configuration.
    pub fn config(&self) -> RxConfig {
        self.cfg
    }

    /// Whether the queue is started.
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// The pool (for tests and queue info).
    pub fn pool(&self) -> &P {
        &self.pool
    }

    /// The pool, to change how it fills buffers (only while the queue is stopped).
    pub fn pool_mut(&mut self) -> &mut P {
        &mut self.pool
    }

    /// Buffers currently posted to the device.
    pub fn posted(&self) -> u32 {
        self.posted
    }

    /// Programs and enables the queue, then posts buffers (spec 3 enable order).
    pub fn start(&mut self) -> Result<()> {
        let tp = self.tp.clone();
        let tp = tp.as_ref();
        if self.running {
            return Ok(());
        }
        let q = self.qid;
        let w = |r: regs::QReg, v: u32| tp.write32(Bar::Bar0, r.at(q), v);
        self.rcq.clear();
        self.ppq.clear();
        self.rcq_head = 0;
        self.ppq_tail = 0;

        // BDQ: only the PPQ carries buffers in one-buffer-per-frame mode; the HPQ stays empty.
        w(regs::BDQ_CTL, QueueCtl::default().with_reset(true).raw());
        w(regs::BDQ_HPQ_BAL, 0);
        w(regs::BDQ_HPQ_BAH, 0);
        w(
            regs::BDQ_HPQ_SIZE,
            RingSize::for_entries(regs::RING_MIN_ENTRIES)
                .expect("16 is valid")
                .raw(),
        );
        self.ppq.program(
            tp,
            q,
            regs::BDQ_PPQ_BAL,
            regs::BDQ_PPQ_BAH,
            regs::BDQ_PPQ_SIZE,
        );
        w(
            regs::BDQ_CTL,
            QueueCtl::default()
                .with_enable(true)
                .with_ppq_enable(true)
                .raw(),
        );

        // RCQ.
        let drop_mode = if self.cfg.drop_en {
            regs::DROP_MODE_IMMEDIATE
        } else {
            regs::DROP_MODE_WAIT
        };
        w(
            regs::RDE_CTL0,
            RdeCtl0::default().with_drop_mode(drop_mode).raw(),
        );
        w(
            regs::RDE_CTL1,
            RdeCtl1::default()
                .with_payld_pack(regs::PAYLD_PACK_NONE)
                .with_max_hdr(self.buf_len)
                .raw(),
        );
        w(regs::RCQ_CTL, QueueCtl::default().with_reset(true).raw());
        self.rcq
            .program(tp, q, regs::RCQ_BAL, regs::RCQ_BAH, regs::RCQ_SIZE);
        // The completion interrupt: this queue's vector, signalled from the first unread
        // completion on; masked until the application arms it (irq_arm).
        w(regs::RIM_CTL, self.irq_vector());
        w(regs::RIM_THRESHOLD, 1);
        w(regs::RIM_MASK, 1);
        w(regs::RCQ_CTL, QueueCtl::default().with_enable(true).raw());

        self.running = true;
        self.refill(self.cfg.nb_desc - 1);
        if self.posted == 0 {
            self.stop()?;
            return Err(Error::NoMemory(format!(
                "Rx queue {q}: the mempool has no buffers to post"
            )));
        }
        Ok(())
    }

    /// The MSI-X vector of this queue's completion interrupt (**[project choice]**: vectors 0
    /// and 1 are the firmware mailbox's and the link's, as in the Linux driver; Rx queue `q`
    /// signals vector 2 + `q`).
    pub fn irq_vector(&self) -> u32 {
        RX_VECTOR_BASE + self.qid
    }

    /// Arms the completion interrupt: the queue's vector signals once there is a completion
    /// the driver has not read (at once if there is one already), then stays quiet until
    /// armed again. For an application that has polled the queue empty and wants to sleep.
    pub fn irq_arm(&self) -> Result<()> {
        if !self.running {
            return Err(Error::Busy(format!("Rx queue {}: not started", self.qid)));
        }
        let tp = self.tp.as_ref();
        let v = self.irq_vector();
        tp.write32(Bar::Bar0, regs::RIM_MASK.at(self.qid), 0);
        tp.write32(Bar::Bar0, regs::intr_mask_clear(v / 32), 1 << (v % 32));
        let arm = regs::CqRearm::default()
            .with_rcq_timeout_upd(true)
            .with_unmask(true);
        tp.write32(Bar::Bar0, regs::intr_cq_rearm(v), arm.raw());
        Ok(())
    }

    /// Masks the completion interrupt again (the queue is polled).
    pub fn irq_disarm(&self) {
        if self.running {
            self.tp
                .as_ref()
                .write32(Bar::Bar0, regs::RIM_MASK.at(self.qid), 1);
        }
    }

    /// Disables the queue, waits until the device is idle, and takes back every buffer.
    pub fn stop(&mut self) -> Result<()> {
        let tp = self.tp.clone();
        let tp = tp.as_ref();
        if !self.running {
            return Ok(());
        }
        let q = self.qid;
        let idle = [
            regs::idle_bit(regs::qm_rcq_idle, q),
            regs::idle_bit(regs::qm_hpq_idle, q),
            regs::idle_bit(regs::qm_ppq_idle, q),
        ];
        let waited = queue::quiesce(tp, "Rx", q, &[regs::RCQ_CTL, regs::BDQ_CTL], &idle);
        self.running = false;
        self.reclaim_all();
        waited
    }

    /// Frees every buffer the queue holds (posted or in a partial packet).
    fn reclaim_all(&mut self) {
        if let Some(p) = self.partial.take() {
            p.head.free_pkt();
        }
        let mut batch: [MaybeUninit<P::Buf>; 64] = [MaybeUninit::uninit(); 64];
        let mut n = 0;
        for slot in self.sw.iter_mut() {
            if let Some(b) = slot.take() {
                batch[n].write(b);
                n += 1;
                if n == batch.len() {
                    self.pool.free_unused(init_slice(&batch[..n]));
                    n = 0;
                }
            }
        }
        if n > 0 {
            self.pool.free_unused(init_slice(&batch[..n]));
        }
        self.posted = 0;
    }

    /// Posts up to `want` buffers (bounded by free slots) and rings the PPQ doorbell once.
    fn refill(&mut self, want: u32) {
        let free = self.cfg.nb_desc - 1 - self.posted;
        let mut n = want.min(free) as usize;
        self.ppq.prefetch_write(self.ppq_tail, n as u32);
        let mut fresh: [MaybeUninit<P::Buf>; 64] = [MaybeUninit::uninit(); 64];
        let mask = self.ppq.mask();
        let mut posted_any = false;
        while n > 0 {
            let chunk = n.min(fresh.len());
            if !self.pool.alloc_bulk(&mut fresh[..chunk]) {
                self.stats.alloc_failures.add(1);
                break;
            }
            for (i, b) in init_slice(&fresh[..chunk]).iter().enumerate() {
                let slot = (self.ppq_tail & mask) as usize;
                if self.sw[slot].is_some() {
                    // The device returned buffers out of order: this slot still holds one.
                    // Give back what is left of the chunk and post no further.
                    self.pool.free_unused(&init_slice(&fresh[..chunk])[i..]);
                    self.stats.bad_descriptors.add(1);
                    n = chunk;
                    break;
                }
                self.ppq.store(
                    self.ppq_tail,
                    BdqDesc::new(self.pool.rx_dma_addr(*b), slot as u16).raw(),
                );
                self.sw[slot] = Some(*b);
                self.ppq_tail = self.ppq_tail.wrapping_add(1);
                self.posted += 1;
                posted_any = true;
            }
            n -= chunk;
        }
        if posted_any {
            self.ppq_db.ring(self.ppq_tail & mask);
        }
    }

    /// Buffers the device has filled and the driver has not taken yet, counting no further
    /// than `limit` (DPDK `rx_queue_count`): the buffer completions waiting in the RCQ, read
    /// without consuming them.
    pub fn filled(&self, limit: u32) -> u32 {
        if !self.running {
            return 0;
        }
        let mut n = 0;
        let mut head = self.rcq_head;
        for _ in 0..self.rcq.size() {
            let rcd = Rcd::from_raw(self.rcq.load(head));
            if n >= limit || rcd.done() != self.rcq.done_phase(head) {
                break;
            }
            if matches!(rcd.ty(), RcdType::PayAl | RcdType::HdrAl) {
                n += 1;
            }
            head = head.wrapping_add(1);
        }
        n
    }

    /// The state of the buffer `offset` places after the next one the driver will take
    /// (DPDK `rx_descriptor_status`); None when `offset` is not below the ring size.
    pub fn descriptor_status(&self, offset: u32) -> Option<RxDescStatus> {
        if offset >= self.cfg.nb_desc {
            return None;
        }
        Some(if !self.running || offset >= self.posted {
            RxDescStatus::Unavail
        } else if offset < self.filled(offset + 1) {
            RxDescStatus::Done
        } else {
            RxDescStatus::Avail
        })
    }

    /// Receives up to `out.len()` packets; returns how many were written to `out`.
    #[inline]
    pub fn burst(&mut self, out: &mut [MaybeUninit<P::Buf>]) -> usize {
        if !self.running {
            return 0;
        }
        let mut nb = 0;
        let mut head = self.rcq_head;
        let mut bytes = 0u64;
        let sw_mask = self.ppq.mask();
        let mut prefetched = false;
        // Packets whose completion leaves work that reads their data (rare): done last.
        let mut open = [const { MaybeUninit::<(P::Buf, Rcd)>::uninit() }; INSPECT_BATCH];
        let mut n_open = 0;
        while nb < out.len() {
            let rcd = Rcd::from_raw(self.rcq.load(head));
            if rcd.done() != self.rcq.done_phase(head) {
                break;
            }
            if !prefetched {
                // Completions are here: fetch the lines the rest of this burst will read
                // (two per packet: a buffer and a META) together, and the lines this burst
                // will write to the device (the doorbells it rings at the end).
                prefetched = true;
                self.rcq.prefetch(head + 8, 2 * out.len() as u32);
                self.rcq_db.prepare();
                self.ppq_db.prepare();
            }
            head = head.wrapping_add(1);
            match rcd.ty() {
                RcdType::PayAl | RcdType::HdrAl => {
                    let id = rcd.buff_id() as u32;
                    let taken = if id <= sw_mask {
                        self.sw[id as usize].take()
                    } else {
                        None
                    };
                    let Some(buf) = taken else {
                        // A buffer id the driver never posted (or already got back).
                        self.stats.bad_descriptors.add(1);
                        if let Some(p) = self.partial.as_mut() {
                            p.bad = true;
                        }
                        continue;
                    };
                    self.posted -= 1;
                    let (off, len) = (rcd.off() as u16, rcd.len() as u16);
                    let fits = off as u32 + len as u32 <= self.buf_len;
                    match self.partial.as_mut() {
                        None => {
                            self.pool.rx_first(buf, off, len);
                            self.partial = Some(Partial {
                                head: buf,
                                last: buf,
                                nb_segs: 1,
                                len: len as u32,
                                bad: !fits,
                                stamp: NO_STAMP,
                            });
                        }
                        Some(p) => {
                            self.pool.rx_append(p.head, p.last, buf, off, len);
                            p.last = buf;
                            p.nb_segs = p.nb_segs.saturating_add(1);
                            p.len += len as u32;
                            p.bad |= !fits || !self.cfg.scatter;
                        }
                    }
                }
                RcdType::OptMeta => {
                    if let Some(p) = self.partial.as_mut().filter(|_| rcd.ts_valid()) {
                        p.stamp = rcd.ts();
                    }
                }
                RcdType::Meta => {
                    let Some(p) = self.partial.take() else {
                        self.stats.bad_descriptors.add(1);
                        continue;
                    };
                    if p.bad || rcd.uncorrectable_error() {
                        p.head.free_pkt();
                        self.stats.errors.add(1);
                        continue;
                    }
                    let open_it = self.pool.rx_complete(p.head, p.len, p.nb_segs, rcd);
                    if p.stamp != NO_STAMP {
                        self.stamp(p.head, p.stamp);
                    }
                    if open_it {
                        if n_open == open.len() {
                            self.pool.rx_inspect(p.head, rcd);
                        } else {
                            open[n_open].write((p.head, rcd));
                            n_open += 1;
                        }
                    }
                    out[nb].write(p.head);
                    nb += 1;
                    bytes += p.len as u64;
                }
            }
        }
        if head != self.rcq_head {
            self.rcq_head = head;
            self.rcq_db.ring(head & self.rcq.mask());
        }
        if self.cfg.nb_desc - 1 - self.posted >= REFILL_BATCH {
            self.refill(self.cfg.nb_desc - 1 - self.posted);
        }
        if nb > 0 {
            self.stats.packets.add(nb as u64);
            self.stats.bytes.add(bytes);
        }
        // Last, so the data fetches rx_complete started had the doorbells' time to land.
        for &(buf, meta) in init_slice(&open[..n_open]) {
            self.pool.rx_inspect(buf, meta);
        }
        nb
    }
}

impl<P: RxPool> RxQueue<P> {
    /// Gives a packet its device timestamp; latches it if it is a PTP frame in IEEE 1588
    /// mode.
    #[cold]
    fn stamp(&self, buf: P::Buf, ts40: u64) {
        let ns = self.stamps.extend(ts40);
        if self.pool.rx_stamp(buf, ns, self.stamps.timesync()) {
            self.stamps.latch_rx(ns);
        }
    }
}

impl<P: RxPool> Drop for RxQueue<P> {
    fn drop(&mut self) {
        // A queue dropped while running (device gone, port closed without stop) still returns
        // its buffers; the device can no longer write them once its rings are freed, because
        // the owner disabled it or the device is gone.
        self.reclaim_all();
    }
}

impl<P: RxPool> core::fmt::Debug for RxQueue<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RxQueue")
            .field("qid", &self.qid)
            .field("cfg", &self.cfg)
            .field("running", &self.running)
            .field("posted", &self.posted)
            .field("rcq_head", &self.rcq_head)
            .finish_non_exhaustive()
    }
}

/// The initialised prefix of a buffer array.
#[inline(always)]
pub(crate) fn init_slice<T: Copy>(s: &[MaybeUninit<T>]) -> &[T] {
    // SAFETY: callers pass only the prefix they wrote; MaybeUninit<T> has T's layout.
    unsafe { &*(s as *const [MaybeUninit<T>] as *const [T]) }
}
