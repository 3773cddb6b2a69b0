//! The receive side of a queue: the RCQ (completions), the PPQ (buffers) and, with header
//! split, the HPQ (header buffers). In one-buffer-per-frame mode (spec 4.5) every frame
//! starts in a fresh buffer and continues in further buffers when it does not fit (scattered
//! Rx); with header split (DPDK buffer split) a frame's headers go to a buffer of the header
//! pool and the rest to payload buffers, and the packet is their chain.
//!
//! The burst loop reads completions while their DONE bit matches the ring pass, builds
//! packets from HDR_AL/PAY_AL descriptors (one per buffer) and finishes them at META, then
//! refills the buffer queues in bulk and rings each doorbell once.

use core::mem::MaybeUninit;

use fbnic_hw::desc::{BdqDesc, Rcd, RcdType};
use fbnic_hw::regs::{self, Bar, QueueCtl, RdeCtl0, RdeCtl1, RingSize};

use crate::buf::{PktBuf, RxPool};
use crate::error::{Error, Result};
use crate::ptp::Stamps;
use crate::queue::{self, QueueStats};
use crate::ring::{self, DescRing, RingRef};
use std::sync::Arc;

use crate::transport::{DmaAllocator, Doorbell, Transport};

/// Refill the PPQ once at least this many buffers are missing.
const REFILL_BATCH: u32 = 32;
/// Packets of one burst whose inspection (`RxPool::rx_inspect`) waits for the end of the
/// burst; any more are inspected at once.
const INSPECT_BATCH: usize = 32;
/// The DONE bit and the TYPE field of a completion, and TYPE's values for PAY_AL and META.
const DONE_AND_TYPE: u64 = Rcd::from_raw(0).with_done(true).with_ty_bits(3).raw();
const PAY_AL_TYPE: u64 = Rcd::from_raw(0).with_ty_bits(RcdType::PayAl as u64).raw();
const META_TYPE: u64 = Rcd::meta().raw();
/// Largest buffer length RDE_CTL1.MAX_HDR can express.
const MAX_BUF_LEN: u32 = 8191;

/// How an Rx queue is set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RxConfig {
    /// Buffers on the PPQ (a power of two); the RCQ gets twice as many entries (four times
    /// with header split).
    pub nb_desc: u32,
    /// Drop frames at once when no buffer is posted (DPDK `rx_drop_en`); otherwise the device
    /// holds them until buffers arrive, pausing the link partner when full.
    pub drop_en: bool,
    /// Deliver frames larger than one buffer as chained segments; without it they are dropped.
    pub scatter: bool,
    /// Header split (DPDK buffer split): each frame's headers go to a buffer of the header
    /// pool (the HPQ), the rest to payload buffers (the PPQ).
    pub split: Option<RxSplit>,
}

/// Rx interrupt moderation (devargs `rx_intr_usecs`, `rx_intr_frames`): an armed queue's
/// interrupt waits up to `usecs` microseconds after its first unread completion for `frames`
/// packets, then signals. The device counts completions (RIM_THRESHOLD) and times from the
/// arming or the first unread completion (INTR_CQ_REARM.RCQ_TIMEOUT); a one-buffer packet is
/// two completions (PAY_AL, META), so the threshold is twice `frames`. With `usecs` 0 (the
/// default) the first completion signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntrCoalesce {
    pub usecs: u16,
    pub frames: u16,
}

impl Default for IntrCoalesce {
    fn default() -> Self {
        Self {
            usecs: 0,
            frames: 1,
        }
    }
}

impl IntrCoalesce {
    /// The longest wait RCQ_TIMEOUT holds (14 bits of microseconds).
    pub const MAX_USECS: u16 = 0x3fff;
    /// The most packets RIM_THRESHOLD can count (two completions each).
    pub const MAX_FRAMES: u16 = (regs::RIM_THRESHOLD_RCD / 2) as u16;

    /// The RIM_THRESHOLD value.
    fn completions(self) -> u32 {
        (2 * self.frames.max(1) as u32).min(regs::RIM_THRESHOLD_RCD)
    }
}

/// A queue's header split (RDE_CTL0.EN_HDR_SPLIT, spec 4.5). Where a frame is cut is the
/// port's choice (the action table's DMA hint, see [`crate::rpc::SplitHdrs`]); the queue
/// bounds the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RxSplit {
    /// Most header bytes a header buffer takes (RDE_CTL1.MAX_HDR): the split length of a
    /// length split, the header buffers' room for a split at a protocol header (a longer
    /// header continues in the payload buffer, HDR_AL OVERFLOW).
    pub max_hdr: u32,
}

/// Most buffers a header-split queue accepts (its RCQ gets four times as many entries).
pub const MAX_SPLIT_DESC: u32 = queue::MAX_RX_DESC / 2;

/// A packet being assembled from AL completions.
#[derive(Clone, Copy)]
struct Partial<B> {
    head: B,
    last: B,
    nb_segs: u16,
    len: u32,
    bad: bool,
    /// The packet starts with a header buffer (header split): its first payload buffer is
    /// part of the packet even without scatter.
    split: bool,
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

/// A buffer descriptor queue (PPQ or HPQ) and the buffers posted on it, by slot (the buffer
/// descriptor's ID is its slot).
struct BufRing<B> {
    ring: DescRing,
    /// Next slot to post (free-running).
    tail: u32,
    /// Buffers posted and not yet taken back.
    posted: u32,
    /// Bytes the device may write in each buffer.
    buf_len: u32,
    db: Doorbell,
    sw: Box<[Option<B>]>,
}

impl<B: PktBuf> BufRing<B> {
    fn new(dma: &dyn DmaAllocator, entries: u32, buf_len: u32, db: Doorbell) -> Result<Self> {
        Ok(Self {
            ring: DescRing::new(dma, entries)?,
            tail: 0,
            posted: 0,
            buf_len,
            db,
            sw: (0..entries).map(|_| None).collect(),
        })
    }

    /// Slots the driver may still post to (one stays empty: a full ring reads as empty).
    #[inline(always)]
    fn free(&self) -> u32 {
        self.ring.size() - 1 - self.posted
    }

    /// Takes back the buffer in slot `id`; None for a slot the driver never posted to (or
    /// whose buffer it already has back).
    #[inline(always)]
    fn take(&mut self, id: u32) -> Option<B> {
        let b = if id <= self.ring.mask() {
            self.sw[id as usize].take()
        } else {
            None
        };
        if b.is_some() {
            self.posted -= 1;
        }
        b
    }

    /// Posts up to `want` buffers from `pool` (bounded by free slots) and rings the doorbell
    /// once.
    fn refill<P: RxPool<Buf = B>>(&mut self, pool: &mut P, stats: &QueueStats, want: u32) {
        let mut n = want.min(self.free()) as usize;
        self.ring.prefetch_write(self.tail, n as u32);
        let mut fresh: [MaybeUninit<B>; 64] = [MaybeUninit::uninit(); 64];
        let mask = self.ring.mask();
        // The tail as a value and the ring as a view: the descriptor stores would otherwise
        // make the compiler write the tail back and reload the ring's fields for every
        // buffer.
        let ring = self.ring.view();
        let (start, mut tail) = (self.tail, self.tail);
        'chunks: while n > 0 {
            let chunk = n.min(fresh.len());
            if !pool.alloc_bulk(&mut fresh[..chunk]) {
                stats.alloc_failures.add(1);
                break;
            }
            let mut bufs = init_slice(&fresh[..chunk]);
            // In runs to the ring's end: the buffers zipped with the descriptor slots and
            // the driver's slots from the tail on (no index arithmetic or bounds checks).
            while !bufs.is_empty() {
                let at = (tail & mask) as usize;
                let mut posted = 0;
                for ((b, desc), slot) in bufs.iter().zip(ring.to_end(tail)).zip(&mut self.sw[at..])
                {
                    if slot.is_some() {
                        break;
                    }
                    let id = (at + posted) as u16;
                    ring::store(desc, BdqDesc::new(pool.rx_dma_addr(*b), id).raw());
                    *slot = Some(*b);
                    posted += 1;
                }
                tail = tail.wrapping_add(posted as u32);
                bufs = &bufs[posted..];
                if !bufs.is_empty() && self.sw[(tail & mask) as usize].is_some() {
                    // The device returned buffers out of order: this slot still holds one.
                    // Give back what is left of the chunk and post no further.
                    pool.free_unused(bufs);
                    stats.bad_descriptors.add(1);
                    break 'chunks;
                }
            }
            n -= chunk;
        }
        self.tail = tail;
        self.posted += tail.wrapping_sub(start);
        if tail != start {
            self.db.ring(self.tail & mask);
            stats.doorbells.add(1);
        }
    }

    /// Asks for the lines of the slots the driver took buffers back from (the device read
    /// their descriptors, so their lines sit in its cache) ahead of the refill that writes
    /// them: whole lines only, since the one the free slots end in still holds descriptors
    /// the device has yet to read.
    #[inline(always)]
    fn prefetch_free(&self) {
        let n = ring::before_last_line(self.tail, self.free());
        self.ring.prefetch_write(self.tail, n);
    }

    /// Gives every posted buffer back to `pool`.
    fn reclaim<P: RxPool<Buf = B>>(&mut self, pool: &mut P) {
        let mut batch: [MaybeUninit<B>; 64] = [MaybeUninit::uninit(); 64];
        let mut n = 0;
        for slot in self.sw.iter_mut() {
            if let Some(b) = slot.take() {
                batch[n].write(b);
                n += 1;
                if n == batch.len() {
                    pool.free_unused(init_slice(&batch[..n]));
                    n = 0;
                }
            }
        }
        if n > 0 {
            pool.free_unused(init_slice(&batch[..n]));
        }
        self.posted = 0;
    }
}

/// The header side of a header-split queue: the HPQ and the pool its buffers come from.
struct HdrSide<P: RxPool> {
    hpq: BufRing<P::Buf>,
    pool: P,
    split: RxSplit,
}

/// The receive half of queue `qid`.
pub struct RxQueue<P: RxPool> {
    rcq: DescRing,
    ppq: BufRing<P::Buf>,
    /// Next RCQ entry to read (free-running).
    rcq_head: u32,
    rcq_db: Doorbell,
    partial: Option<Partial<P::Buf>>,
    pool: P,
    /// Header split: the HPQ and the header pool (boxed: the queue's hot fields stay
    /// together whether or not it splits).
    hdr: Option<Box<HdrSide<P>>>,
    cfg: RxConfig,
    qid: u32,
    running: bool,
    /// Keeps the device (and the doorbells' registers) alive as long as the queue.
    tp: Arc<dyn Transport>,
    /// Software counters (shared: control threads read them while the queue runs).
    pub stats: Arc<QueueStats>,
    /// The port's clock reference and IEEE 1588 latches.
    stamps: Arc<Stamps>,
    /// Interrupt moderation (see [`IntrCoalesce`]).
    intr: IntrCoalesce,
}

/// The payload buffer length of a header-split queue whose payload buffers hold `room`
/// bytes: 4096 >> RDE_CTL1.PAYLD_PG_CL, the largest that fits (**[project choice]**, see
/// the model's Rx engine). Returns (length, PAYLD_PG_CL).
pub fn payload_buf_len(room: u32) -> Option<(u32, u32)> {
    (0..8u32)
        .map(|cl| (4096 >> cl, cl))
        .find(|&(len, _)| len <= room)
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
        Self::build(tp, dma, qid, cfg, pool, None)
    }

    /// Allocates the rings of a header-split queue `qid` (`cfg.split` set): headers go to
    /// buffers of `hdr_pool`, payloads to buffers of `pool`.
    pub fn new_split(
        tp: &Arc<dyn Transport>,
        dma: &dyn DmaAllocator,
        qid: u32,
        cfg: RxConfig,
        pool: P,
        hdr_pool: P,
    ) -> Result<Self> {
        Self::build(tp, dma, qid, cfg, pool, Some(hdr_pool))
    }

    fn build(
        tp: &Arc<dyn Transport>,
        dma: &dyn DmaAllocator,
        qid: u32,
        cfg: RxConfig,
        pool: P,
        hdr_pool: Option<P>,
    ) -> Result<Self> {
        queue::check_qid("Rx", qid)?;
        let doorbell = |r: regs::QReg| {
            tp.doorbell(r.at(qid)).ok_or_else(|| {
                Error::Hardware(format!("no doorbell for queue {qid} register {:#x}", r.0))
            })
        };
        let room = pool.data_room();
        let (hdr, ppq_len, rcq_entries) = match (cfg.split, hdr_pool) {
            (None, None) => {
                queue::check_desc_count("Rx", cfg.nb_desc, queue::MAX_RX_DESC)?;
                if room < 64 {
                    return Err(Error::invalid(format!(
                        "Rx queue {qid}: mempool buffers hold {room} bytes of data, need at least 64"
                    )));
                }
                (None, room.min(MAX_BUF_LEN), cfg.nb_desc * 2)
            }
            (Some(split), Some(hdr_pool)) => {
                queue::check_desc_count("Rx (header split)", cfg.nb_desc, MAX_SPLIT_DESC)?;
                let hroom = hdr_pool.data_room().min(MAX_BUF_LEN);
                if split.max_hdr == 0 || split.max_hdr > hroom {
                    return Err(Error::invalid(format!(
                        "Rx queue {qid}: header split of up to {} bytes, but the header mempool's buffers hold {hroom} (1 to {MAX_BUF_LEN} bytes)",
                        split.max_hdr
                    )));
                }
                let Some((len, _)) = payload_buf_len(room) else {
                    return Err(Error::invalid(format!(
                        "Rx queue {qid}: payload mempool buffers hold {room} bytes of data, need at least 32"
                    )));
                };
                let hpq = BufRing::new(dma, cfg.nb_desc, hroom, doorbell(regs::BDQ_HPQ_TAIL)?)?;
                let side = Box::new(HdrSide {
                    hpq,
                    pool: hdr_pool,
                    split,
                });
                // A packet: HDR_AL, PAY_AL, META (and OPT_META when stamped).
                (Some(side), len, cfg.nb_desc * 4)
            }
            _ => {
                let why = "header split needs both a split configuration and a header pool";
                return Err(Error::invalid(format!("Rx queue {qid}: {why}")));
            }
        };
        Ok(Self {
            ppq: BufRing::new(dma, cfg.nb_desc, ppq_len, doorbell(regs::BDQ_PPQ_TAIL)?)?,
            rcq: DescRing::new(dma, rcq_entries)?,
            rcq_db: doorbell(regs::RCQ_HEAD)?,
            rcq_head: 0,
            partial: None,
            pool,
            hdr,
            cfg,
            qid,
            running: false,
            tp: tp.clone(),
            stats: Arc::new(QueueStats::default()),
            stamps: Arc::new(Stamps::default()),
            intr: IntrCoalesce::default(),
        })
    }

    /// Shares the port's [`Stamps`]: device timestamps are extended against its clock
    /// reference, and PTP frames' stamps latched there in IEEE 1588 mode.
    pub fn with_stamps(mut self, stamps: Arc<Stamps>) -> Self {
        self.stamps = stamps;
        self
    }

    /// Sets the interrupt moderation; it applies from the next start (the threshold) and the
    /// next arming (the wait).
    pub fn with_intr_coalesce(mut self, intr: IntrCoalesce) -> Self {
        self.intr = intr;
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

    /// The (payload) pool (for tests and queue info).
    pub fn pool(&self) -> &P {
        &self.pool
    }

    /// The pools, to change how they fill buffers (only while the queue is stopped): the
    /// payload pool and, with header split, the header pool.
    pub fn pools_mut(&mut self) -> (&mut P, Option<&mut P>) {
        (&mut self.pool, self.hdr.as_mut().map(|h| &mut h.pool))
    }

    /// Buffers currently posted to the device (with header split: header buffers, one per
    /// packet the queue can take).
    pub fn posted(&self) -> u32 {
        match &self.hdr {
            Some(h) => h.hpq.posted,
            None => self.ppq.posted,
        }
    }

    /// Bytes the device may write in each payload buffer.
    pub fn payload_buf_len(&self) -> u32 {
        self.ppq.buf_len
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
        self.ppq.ring.clear();
        self.ppq.tail = 0;
        self.rcq_head = 0;

        // BDQ: in one-buffer-per-frame mode only the PPQ carries buffers and the HPQ stays
        // empty; with header split the HPQ carries the header buffers.
        w(regs::BDQ_CTL, QueueCtl::default().with_reset(true).raw());
        match self.hdr.as_mut() {
            Some(h) => {
                h.hpq.ring.clear();
                h.hpq.tail = 0;
                h.hpq.ring.program(
                    tp,
                    q,
                    regs::BDQ_HPQ_BAL,
                    regs::BDQ_HPQ_BAH,
                    regs::BDQ_HPQ_SIZE,
                );
            }
            None => {
                w(regs::BDQ_HPQ_BAL, 0);
                w(regs::BDQ_HPQ_BAH, 0);
                w(
                    regs::BDQ_HPQ_SIZE,
                    RingSize::for_entries(regs::RING_MIN_ENTRIES)
                        .expect("16 is valid")
                        .raw(),
                );
            }
        }
        self.ppq.ring.program(
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
        let (ctl0, ctl1) = match &self.hdr {
            None => (
                RdeCtl0::default().with_drop_mode(drop_mode),
                RdeCtl1::default()
                    .with_payld_pack(regs::PAYLD_PACK_NONE)
                    .with_max_hdr(self.ppq.buf_len),
            ),
            Some(h) => {
                let (_, pg_cl) = payload_buf_len(self.ppq.buf_len).expect("checked at setup");
                (
                    RdeCtl0::default()
                        .with_drop_mode(drop_mode)
                        .with_en_hdr_split(true),
                    RdeCtl1::default()
                        .with_payld_pack(regs::PAYLD_PACK_NONE)
                        .with_max_hdr(h.split.max_hdr)
                        .with_payld_pg_cl(pg_cl),
                )
            }
        };
        w(regs::RDE_CTL0, ctl0.raw());
        w(regs::RDE_CTL1, ctl1.raw());
        w(regs::RCQ_CTL, QueueCtl::default().with_reset(true).raw());
        self.rcq
            .program(tp, q, regs::RCQ_BAL, regs::RCQ_BAH, regs::RCQ_SIZE);
        // The completion interrupt: this queue's vector, signalled once `intr.frames` packets
        // are unread (or sooner, see irq_arm); masked until the application arms it.
        w(regs::RIM_CTL, self.irq_vector());
        w(regs::RIM_THRESHOLD, self.intr.completions());
        w(regs::RIM_MASK, 1);
        w(regs::RCQ_CTL, QueueCtl::default().with_enable(true).raw());

        self.running = true;
        self.refill_all();
        let empty = self.ppq.posted == 0 || self.hdr.as_ref().is_some_and(|h| h.hpq.posted == 0);
        if empty {
            self.stop()?;
            return Err(Error::NoMemory(format!(
                "Rx queue {q}: the mempool has no buffers to post"
            )));
        }
        Ok(())
    }

    /// Fills every free slot of the buffer queues.
    fn refill_all(&mut self) {
        let want = self.ppq.free();
        self.ppq.refill(&mut self.pool, &self.stats, want);
        if let Some(h) = self.hdr.as_mut() {
            let want = h.hpq.free();
            h.hpq.refill(&mut h.pool, &self.stats, want);
        }
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
    /// With moderation ([`IntrCoalesce`]) it waits for `frames` packets, or `usecs` after
    /// the first.
    pub fn irq_arm(&self) -> Result<()> {
        if !self.running {
            return Err(Error::Busy(format!("Rx queue {}: not started", self.qid)));
        }
        let tp = self.tp.as_ref();
        let v = self.irq_vector();
        tp.write32(Bar::Bar0, regs::RIM_MASK.at(self.qid), 0);
        tp.write32(Bar::Bar0, regs::intr_mask_clear(v / 32), 1 << (v % 32));
        let arm = regs::CqRearm::default()
            .with_rcq_timeout(self.intr.usecs as u32)
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
        self.ppq.reclaim(&mut self.pool);
        if let Some(h) = self.hdr.as_mut() {
            h.hpq.reclaim(&mut h.pool);
        }
    }

    /// Buffers the device has filled and the application has not received yet, counting no
    /// further than `limit` (DPDK `rx_queue_count`): those of a packet a burst has started
    /// taking (its META was not written yet when the burst looked), then the buffer
    /// completions waiting in the RCQ, read without consuming them. With header split, the
    /// header buffers (one per packet).
    pub fn filled(&self, limit: u32) -> u32 {
        if !self.running {
            return 0;
        }
        let split = self.hdr.is_some();
        let mut n = match &self.partial {
            Some(_) if split => 1,
            Some(p) => p.nb_segs as u32,
            None => 0,
        }
        .min(limit);
        let mut head = self.rcq_head;
        for _ in 0..self.rcq.size() {
            let rcd = Rcd::from_raw(self.rcq.load(head));
            if n >= limit || rcd.done() != self.rcq.done_phase(head) {
                break;
            }
            match rcd.ty() {
                RcdType::HdrAl => n += 1,
                RcdType::PayAl if !split => n += 1,
                _ => {}
            }
            head = head.wrapping_add(1);
        }
        n
    }

    /// Where the next completion will appear and the DONE bit it will carry (DPDK
    /// `get_monitor_addr`: `rte_power_monitor` sleeps until that word is written). The
    /// address stays valid while this queue lives.
    pub fn next_completion(&self) -> (*const u64, bool) {
        (
            self.rcq.slot_addr(self.rcq_head),
            self.rcq.done_phase(self.rcq_head),
        )
    }

    /// The completion ring (RCQ)'s slots, for the descriptor dumps (valid while this queue lives).
    pub fn rcq_ref(&self) -> RingRef {
        self.rcq.raw_ref()
    }

    /// The state of the buffer `offset` places after the next one the driver will take
    /// (DPDK `rx_descriptor_status`); None when `offset` is not below the ring size.
    pub fn descriptor_status(&self, offset: u32) -> Option<RxDescStatus> {
        if offset >= self.cfg.nb_desc {
            return None;
        }
        Some(if !self.running || offset >= self.posted() {
            RxDescStatus::Unavail
        } else if offset < self.filled(offset + 1) {
            RxDescStatus::Done
        } else {
            RxDescStatus::Avail
        })
    }

    /// Takes back header buffer `id` (header split only).
    #[inline(always)]
    fn take_hdr(&mut self, id: u32) -> Option<P::Buf> {
        self.hdr.as_mut().and_then(|h| h.hpq.take(id))
    }

    /// Takes the run of common packets that starts at completion `head`: each a payload
    /// buffer completion whose META is the next completion, both written, with nothing in
    /// progress. Each becomes a one-segment packet in `out` (or is dropped and counted when
    /// the device flagged it or it overran its buffer) without the partial-packet state.
    /// Stops at `out`'s end or at the first completion that is anything else or not yet
    /// written, which [`assemble`](Self::assemble) then takes on its own. Returns (packets
    /// written, the next completion to read, their bytes).
    #[inline(always)]
    fn take_singles(
        &mut self,
        head: u32,
        out: &mut [MaybeUninit<P::Buf>],
        inspect: &mut Deferred<P::Buf>,
    ) -> (usize, u32, u64) {
        // Everything the loop reads from the queue, as values: the stores into the packets'
        // buffers would otherwise make the compiler reload the queue's fields each time.
        let rcq = self.rcq.view();
        let buf_len = self.ppq.buf_len;
        let sw = &mut self.ppq.sw[..];
        let pool = &self.pool;
        // Up to the end of the ring's lap the DONE phase is one value, so one compare checks
        // a completion's DONE bit and type together; a packet across the lap's end goes
        // through the general path. The loop reads no further than the lap's end (past it,
        // slots still hold the lap's first completions): every pair it reads is a packet
        // in `out`, or the last one it reads.
        let phase = Rcd::from_raw(0).with_done(rcq.done_phase(head)).raw();
        let (want_pay, want_meta) = (phase | PAY_AL_TYPE, phase | META_TYPE);
        let (mut nb, mut bytes, mut dropped) = (0, 0u64, 0u32);
        let pairs = rcq.to_end(head).chunks_exact(2);
        for (pair, slot) in pairs.zip(out.iter_mut()) {
            let (pay, meta) = (ring::load(&pair[0]), ring::load(&pair[1]));
            if pay & DONE_AND_TYPE != want_pay || meta & DONE_AND_TYPE != want_meta {
                break;
            }
            let (pay, meta) = (Rcd::from_raw(pay), Rcd::from_raw(meta));
            // The slots are the ring's (`sw.len()` is its size): an id past them is refused.
            let Some(buf) = sw.get_mut(pay.buff_id() as usize).and_then(Option::take) else {
                // A buffer the driver never posted: the general path counts it.
                break;
            };
            let (off, len) = (pay.off() as u16, pay.len() as u16);
            pool.rx_first(buf, off, len);
            if off as u32 + len as u32 > buf_len || meta.uncorrectable_error() {
                // Dropped: the packets after it go to the caller's next round. (Going on
                // here would also pass over this output slot, leaving it unwritten.)
                buf.free_pkt();
                dropped = 1;
                break;
            }
            if pool.rx_complete(buf, len as u32, 1, meta) {
                inspect.push(pool, buf, meta);
            }
            slot.write(buf);
            nb += 1;
            bytes += len as u64;
        }
        let taken = nb as u32 + dropped;
        self.ppq.posted -= taken;
        if dropped > 0 {
            self.stats.errors.add(1);
        }
        (nb, head.wrapping_add(2 * taken), bytes)
    }

    /// Takes one completion into the packet being assembled; returns the packet and its META
    /// when `rcd` is the META that ends it.
    #[inline(always)]
    fn assemble(&mut self, rcd: Rcd) -> Option<(Partial<P::Buf>, Rcd)> {
        let ty = rcd.ty();
        match ty {
            RcdType::PayAl | RcdType::HdrAl => {
                let id = rcd.buff_id() as u32;
                let (taken, buf_len) = if ty == RcdType::PayAl {
                    (self.ppq.take(id), self.ppq.buf_len)
                } else {
                    let len = self.hdr.as_ref().map_or(0, |h| h.hpq.buf_len);
                    (self.take_hdr(id), len)
                };
                let Some(buf) = taken else {
                    // A buffer id the driver never posted (or already got back).
                    self.stats.bad_descriptors.add(1);
                    if let Some(p) = self.partial.as_mut() {
                        p.bad = true;
                    }
                    return None;
                };
                let (off, len) = (rcd.off() as u16, rcd.len() as u16);
                let fits = off as u32 + len as u32 <= buf_len;
                match self.partial.as_mut() {
                    None => {
                        self.pool.rx_first(buf, off, len);
                        self.partial = Some(Partial {
                            head: buf,
                            last: buf,
                            nb_segs: 1,
                            len: len as u32,
                            bad: !fits,
                            split: ty == RcdType::HdrAl,
                            stamp: NO_STAMP,
                        });
                    }
                    Some(p) => {
                        self.pool.rx_append(p.head, p.last, buf, off, len);
                        // A header buffer only ever starts a packet; after it, one
                        // payload buffer belongs to the packet, more need scatter.
                        let chained_ok = self.cfg.scatter || (p.split && p.nb_segs == 1);
                        p.last = buf;
                        p.nb_segs = p.nb_segs.saturating_add(1);
                        p.len += len as u32;
                        p.bad |= !fits || !chained_ok || ty == RcdType::HdrAl;
                    }
                }
                None
            }
            RcdType::OptMeta => {
                if let Some(p) = self.partial.as_mut().filter(|_| rcd.ts_valid()) {
                    p.stamp = rcd.ts();
                }
                None
            }
            RcdType::Meta => {
                let p = self.partial.take();
                if p.is_none() {
                    self.stats.bad_descriptors.add(1);
                }
                p.map(|p| (p, rcd))
            }
        }
    }

    /// Posts buffers in the PPQ's empty slots once a batch of them is empty.
    #[inline(always)]
    fn refill_ppq(&mut self) {
        let free = self.ppq.free();
        if free >= REFILL_BATCH {
            self.ppq.refill(&mut self.pool, &self.stats, free);
        }
    }

    /// Posts buffers in the HPQ's empty slots once a batch of them is empty (header split).
    #[inline(always)]
    fn refill_hpq(&mut self) {
        if let Some(h) = self.hdr.as_mut() {
            let free = h.hpq.free();
            if free >= REFILL_BATCH {
                h.hpq.refill(&mut h.pool, &self.stats, free);
            }
        }
    }

    /// Receives up to `out.len()` packets; returns how many were written to `out`.
    #[inline]
    pub fn burst(&mut self, out: &mut [MaybeUninit<P::Buf>]) -> usize {
        if !self.running {
            return 0;
        }
        let mut head = self.rcq_head;
        let first = Rcd::from_raw(self.rcq.load(head));
        if out.is_empty() || first.done() != self.rcq.done_phase(head) {
            if !out.is_empty() {
                self.stats.empty_polls.add(1);
            }
            // A poll that found nothing still refills (after a mempool shortage, say).
            self.refill_ppq();
            self.refill_hpq();
            return 0;
        }
        // Completions are here: fetch the lines the rest of this burst will read (two per
        // packet: a buffer and a META) together, and the lines this burst will write to the
        // device (the doorbells it rings at the end).
        self.rcq
            .prefetch(head.wrapping_add(8), 2 * out.len() as u32);
        self.rcq_db.prepare();
        self.ppq.db.prepare();
        // While those lines come from the device's core: post fresh buffers in the slots
        // earlier bursts emptied (work that does not need them).
        self.refill_ppq();
        let mut nb = 0;
        let mut bytes = 0u64;
        // Packets whose completion leaves work that reads their data (rare): done last.
        let mut inspect = Deferred::new();
        while nb < out.len() {
            if self.partial.is_none() {
                let (n, next, b) = self.take_singles(head, &mut out[nb..], &mut inspect);
                nb += n;
                bytes += b;
                head = next;
                if nb == out.len() {
                    break;
                }
            }
            // Anything else, one completion at a time.
            let rcd = Rcd::from_raw(self.rcq.load(head));
            if rcd.done() != self.rcq.done_phase(head) {
                break;
            }
            head = head.wrapping_add(1);
            let Some((p, meta)) = self.assemble(rcd) else {
                continue;
            };
            if p.bad || meta.uncorrectable_error() {
                p.head.free_pkt();
                self.stats.errors.add(1);
                continue;
            }
            let inspect_it = self.pool.rx_complete(p.head, p.len, p.nb_segs, meta);
            if p.stamp != NO_STAMP {
                self.stamp(p.head, p.stamp);
            }
            if inspect_it {
                inspect.push(&self.pool, p.head, meta);
            }
            out[nb].write(p.head);
            nb += 1;
            bytes += p.len as u64;
        }
        if head != self.rcq_head {
            self.rcq_head = head;
            self.rcq_db.ring(head & self.rcq.mask());
            self.stats.doorbells.add(1);
        }
        self.refill_hpq();
        // The next burst's refill writes the slots this one emptied: their lines travel from
        // the device's core while the application works.
        self.ppq.prefetch_free();
        if nb > 0 {
            self.stats.packets.add(nb as u64);
            self.stats.bytes.add(bytes);
            self.stats.bursts.add(1);
        }
        // Last, so the data fetches rx_complete started had the doorbells' time to land.
        inspect.finish(&self.pool);
        nb
    }
}

/// Packets of one burst whose inspection ([`RxPool::rx_inspect`]) waits for the end of the
/// burst, so the data fetches `rx_complete` started have time to land; once full, further
/// packets are inspected at once.
struct Deferred<B> {
    items: [MaybeUninit<(B, Rcd)>; INSPECT_BATCH],
    n: usize,
}

impl<B: PktBuf> Deferred<B> {
    #[inline(always)]
    fn new() -> Self {
        Self {
            items: [const { MaybeUninit::uninit() }; INSPECT_BATCH],
            n: 0,
        }
    }

    #[inline(always)]
    fn push<P: RxPool<Buf = B>>(&mut self, pool: &P, buf: B, meta: Rcd) {
        if self.n == self.items.len() {
            pool.rx_inspect(buf, meta);
        } else {
            self.items[self.n].write((buf, meta));
            self.n += 1;
        }
    }

    #[inline(always)]
    fn finish<P: RxPool<Buf = B>>(&self, pool: &P) {
        for &(buf, meta) in init_slice(&self.items[..self.n]) {
            pool.rx_inspect(buf, meta);
        }
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
            .field("posted", &self.posted())
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

#[cfg(test)]
mod tests {
    //! The completion loop on a fake device: the test writes RCQ entries as the device would
    //! and checks what the burst makes of them, in one burst or spread over several.
    use super::*;
    use crate::fake::FakeDevice;
    use crate::native::{NativeBuf, NativeDma, NativePool};

    const DESC: u32 = 64;
    /// RCQ entries (twice the buffers).
    const RCQ: u32 = DESC * 2;

    struct Rig {
        dev: Arc<FakeDevice>,
        pool: NativePool,
        q: RxQueue<NativePool>,
        /// The device's next RCQ slot (free-running).
        tail: u32,
    }

    impl Rig {
        fn new(scatter: bool) -> Self {
            let dev = Arc::new(FakeDevice::new());
            let tp: Arc<dyn Transport> = dev.clone();
            let dma = NativeDma::new(tp.clone());
            let pool = NativePool::new(dma.as_ref(), 256, 512, 64).unwrap();
            let cfg = RxConfig {
                nb_desc: DESC,
                drop_en: false,
                scatter,
                split: None,
            };
            let mut q = RxQueue::new(&tp, dma.as_ref(), 0, cfg, pool.clone()).unwrap();
            q.start().unwrap();
            Self {
                dev,
                pool,
                q,
                tail: 0,
            }
        }

        /// Writes `rcd` into RCQ slot `at` with the DONE bit of lap `at / RCQ`.
        fn write(&self, at: u32, rcd: Rcd) {
            assert!(self.dev.complete_rx(0, RCQ, at, rcd));
        }

        /// Writes completions as the device does.
        fn complete(&mut self, rcds: &[Rcd]) {
            for &rcd in rcds {
                self.write(self.tail, rcd);
                self.tail = self.tail.wrapping_add(1);
            }
        }

        /// Leaves what a previous lap would have: a META of the other phase at `ahead`
        /// slots past the device's tail.
        fn stale_meta(&self, ahead: u32) {
            self.write(self.tail + ahead + RCQ, Rcd::meta().with_rss_hash(0xdead));
        }

        fn burst(&mut self, max: usize) -> Vec<NativeBuf> {
            let mut out = [MaybeUninit::uninit(); 32];
            let n = self.q.burst(&mut out[..max]);
            init_slice(&out[..n]).to_vec()
        }

        /// Bursts of 32 until one comes back empty, freeing what they return; how many
        /// packets they returned.
        fn drain(&mut self) -> usize {
            let mut got = 0;
            while let b @ [_, ..] = &self.burst(32)[..] {
                got += b.len();
                free(b.to_vec());
            }
            got
        }

        fn stop(mut self) {
            self.q.stop().unwrap();
            assert_eq!(
                self.pool.available(),
                self.pool.capacity(),
                "a buffer was lost"
            );
        }
    }

    fn pay(id: u16, len: u16) -> Rcd {
        Rcd::al(RcdType::PayAl, id, 0, len, true)
    }

    fn lens(bufs: &[NativeBuf]) -> Vec<u32> {
        bufs.iter().map(|b| b.pkt_len()).collect()
    }

    fn free(bufs: Vec<NativeBuf>) {
        for b in bufs {
            b.free_pkt();
        }
    }

    #[test]
    fn packets_complete_whether_their_meta_comes_in_the_same_burst_or_a_later_one() {
        let mut r = Rig::new(false);
        let hash = |h: u32| Rcd::meta().with_rss_hash(h as u64);
        // Two whole packets, then a buffer whose META the device has not written yet (its
        // slot still holds an old lap's META).
        r.stale_meta(5);
        r.complete(&[pay(0, 60), hash(7), pay(1, 100), hash(8), pay(2, 300)]);
        assert_eq!(r.q.filled(u32::MAX), 3);
        let got = r.burst(32);
        assert_eq!(lens(&got), [60, 100]);
        // The third packet's buffer is taken but not delivered: it still counts as waiting.
        assert_eq!(r.q.filled(u32::MAX), 1);
        assert_eq!(r.q.filled(0), 0);
        assert_eq!(
            got.iter()
                .map(|b| b.rx_meta().rss_hash())
                .collect::<Vec<_>>(),
            [7, 8]
        );
        free(got);
        // Its META arrives: the packet completes in the next burst, with the next packet.
        r.complete(&[hash(9), pay(3, 64), hash(10)]);
        assert_eq!(r.q.filled(u32::MAX), 2);
        let got = r.burst(32);
        assert_eq!(lens(&got), [300, 64]);
        assert_eq!(r.q.filled(u32::MAX), 0);
        assert_eq!(got[0].rx_meta().rss_hash(), 9);
        free(got);
        // A burst of one stops after one packet and leaves the next one whole.
        r.complete(&[pay(4, 70), hash(11), pay(5, 80), hash(12)]);
        let one = r.burst(1);
        assert_eq!(lens(&one), [70]);
        free(one);
        let next = r.burst(32);
        assert_eq!(lens(&next), [80]);
        free(next);
        assert_eq!(r.q.stats.packets.get(), 6);
        assert_eq!(r.q.stats.bytes.get(), 60 + 100 + 300 + 64 + 70 + 80);
        assert_eq!(r.q.stats.errors.get() + r.q.stats.bad_descriptors.get(), 0);
        r.stop();
    }

    #[test]
    fn a_timestamp_between_buffer_and_meta_and_broken_sequences_are_handled() {
        let mut r = Rig::new(false);
        let opt_meta = Rcd::meta().with_ty_bits(RcdType::OptMeta as u64);
        // PAY_AL, OPT_META (no valid stamp), META: one packet.
        r.complete(&[pay(0, 60), opt_meta, Rcd::meta()]);
        let got = r.burst(32);
        assert_eq!(lens(&got), [60]);
        free(got);
        // A buffer id the driver never posted (its META then ends nothing), a META on its
        // own, a buffer past its end, a device error: nothing delivered, each counted.
        r.complete(&[
            pay(200, 60),
            Rcd::meta(),
            Rcd::meta(),
            Rcd::al(RcdType::PayAl, 1, 500, 100, true),
            Rcd::meta(),
            pay(2, 60),
            Rcd::meta().with_err_truncated(true),
        ]);
        assert!(r.burst(32).is_empty());
        assert_eq!(r.q.stats.bad_descriptors.get(), 3);
        assert_eq!(r.q.stats.errors.get(), 2);
        // Two buffers for one packet without scatter: an error, both buffers freed.
        r.complete(&[pay(3, 512), pay(4, 10), Rcd::meta()]);
        assert!(r.burst(32).is_empty());
        assert_eq!(r.q.stats.errors.get(), 3);
        // The queue goes on: the next packet is whole.
        r.complete(&[pay(5, 64), Rcd::meta()]);
        let got = r.burst(32);
        assert_eq!(lens(&got), [64]);
        free(got);
        assert_eq!(r.q.stats.packets.get(), 2);
        // The device returns buffer 5 again (its slot is empty until a refill): counted,
        // nothing delivered, and the packet after it is whole.
        r.complete(&[pay(5, 64), Rcd::meta(), pay(6, 66), Rcd::meta()]);
        let got = r.burst(32);
        assert_eq!(lens(&got), [66]);
        free(got);
        assert_eq!(r.q.stats.bad_descriptors.get(), 5);
        assert_eq!(r.q.stats.packets.get(), 3);
        r.stop();
    }

    #[test]
    fn packets_across_the_completion_ring_end_over_many_laps() {
        let mut r = Rig::new(false);
        let opt_meta = Rcd::meta().with_ty_bits(RcdType::OptMeta as u64);
        let mut id = 0u16;
        // 40 bursts of 16 packets: the RCQ (128 entries) turns ten times; one OPT_META in
        // the first burst puts every later packet at an odd slot, so at each lap's end a
        // PAY_AL is the last entry and its META the next lap's first.
        for round in 0..40 {
            let mut c = Vec::new();
            for k in 0..16u16 {
                c.push(pay(id % DESC as u16, 60 + k));
                if round == 0 && k == 3 {
                    c.push(opt_meta);
                }
                c.push(Rcd::meta().with_rss_hash(u64::from(id)));
                id += 1;
            }
            r.complete(&c);
            let got = r.burst(32);
            assert_eq!(lens(&got), (60..76).collect::<Vec<u32>>(), "round {round}");
            free(got);
            // The empty poll after it posts the buffers back.
            assert!(r.burst(32).is_empty());
        }
        assert_eq!(r.q.stats.packets.get(), 640);
        assert_eq!(r.q.stats.errors.get() + r.q.stats.bad_descriptors.get(), 0);
        r.stop();

        // Packets up to the lap's last entry exactly, and a burst with room for more: the
        // next lap's first entries still hold the last lap's completions (their buffers
        // posted again since), which are not new packets.
        let mut r = Rig::new(false);
        let mut id = 0u16;
        for n in [48u16, 16] {
            let c: Vec<Rcd> = (0..n)
                .flat_map(|_| {
                    id += 1;
                    [pay((id - 1) % DESC as u16, 64), Rcd::meta()]
                })
                .collect();
            r.complete(&c);
            assert_eq!(r.drain(), n as usize);
        }
        assert_eq!(r.q.stats.packets.get(), 64);
        assert!(r.burst(32).is_empty());
        r.stop();
    }

    #[test]
    fn dropped_packets_at_a_laps_end_do_not_carry_the_burst_into_the_next_lap() {
        // 61 packets fill slots 0..122 of the 128-entry RCQ; the last three packets of the
        // lap (slots 122..128) start with one the driver drops (it overran its buffer).
        // The slots after them, the next lap's first, still hold this lap's first
        // completions, whose buffers are posted again: not new packets.
        let mut r = Rig::new(false);
        let mut id = 0u16;
        let mut next = |len: u16| {
            id += 1;
            [pay((id - 1) % DESC as u16, len), Rcd::meta()]
        };
        let first: Vec<Rcd> = (0..61).flat_map(|_| next(64)).collect();
        r.complete(&first);
        assert_eq!(r.drain(), 61);
        assert!(
            r.burst(32).is_empty(),
            "the empty poll posts the buffers back"
        );
        let last: Vec<Rcd> = [next(u16::MAX >> 3), next(64), next(64)].concat();
        r.complete(&last);
        let got = r.burst(32);
        assert_eq!(lens(&got), [64, 64], "two packets, not three");
        free(got);
        assert_eq!(r.q.stats.errors.get(), 1, "the overrun");
        assert_eq!(r.q.stats.packets.get(), 63);
        assert_eq!(r.q.stats.bad_descriptors.get(), 0);
        assert!(r.burst(32).is_empty());
        r.stop();
    }

    #[test]
    fn a_slot_still_holding_a_buffer_stops_the_refill_and_loses_nothing() {
        // 63 buffers posted in slots 0..63. The device returns 1..=40 but not 0, so the
        // refill that follows posts slot 63, finds slot 0 still full, and stops there.
        let mut r = Rig::new(false);
        assert_eq!(r.q.posted(), DESC - 1);
        let rcds: Vec<Rcd> = (1..=40).flat_map(|id| [pay(id, 64), Rcd::meta()]).collect();
        r.complete(&rcds);
        assert_eq!(r.drain(), 40);
        // Counted by each refill that found it: the second burst's (32 slots free) and the
        // empty poll's that ended the drain.
        assert_eq!(r.q.stats.bad_descriptors.get(), 2, "slot 0 was still full");
        assert_eq!(r.q.posted(), DESC - 1 - 40 + 1, "only slot 63 posted again");
        // The device returns buffer 0 after all; the next refill carries on from slot 0.
        r.complete(&[pay(0, 64), Rcd::meta()]);
        let b = r.burst(32);
        assert_eq!(lens(&b), [64]);
        free(b);
        assert!(r.burst(32).is_empty(), "the empty poll refills");
        assert_eq!(r.q.posted(), DESC - 1, "every slot but one posted again");
        assert_eq!(r.q.stats.errors.get(), 0);
        r.stop();
    }

    #[test]
    fn polls_bursts_and_doorbells_are_counted() {
        let mut r = Rig::new(false);
        let s = r.q.stats.clone();
        let counts = || (s.empty_polls.get(), s.bursts.get(), s.doorbells.get());
        // Start posted 63 buffers (one PPQ doorbell).
        assert_eq!(counts(), (0, 0, 1));
        assert!(r.burst(32).is_empty());
        assert!(r.burst(32).is_empty());
        assert_eq!(counts(), (2, 0, 1));
        // Two packets: one burst, the RCQ head doorbell; 2 empty slots are no refill.
        r.complete(&[pay(0, 60), Rcd::meta(), pay(1, 61), Rcd::meta()]);
        free(r.burst(32));
        assert_eq!(counts(), (2, 1, 2));
        // 32 more: one burst, the RCQ head; then 34 slots are empty and the next poll,
        // finding nothing, posts buffers in them (the PPQ tail).
        let more: Vec<Rcd> = (2..34).flat_map(|id| [pay(id, 64), Rcd::meta()]).collect();
        r.complete(&more);
        let got = r.burst(32);
        assert_eq!(got.len(), 32);
        free(got);
        assert_eq!(counts(), (2, 2, 3));
        assert!(r.burst(32).is_empty());
        assert_eq!(counts(), (3, 2, 4));
        assert_eq!(r.q.posted(), 63);
        s.reset();
        assert_eq!(counts(), (0, 0, 0));
        r.stop();
    }

    #[test]
    fn with_scatter_buffers_chain_into_one_packet() {
        let mut r = Rig::new(true);
        r.complete(&[pay(0, 512), pay(1, 512), pay(2, 100), Rcd::meta()]);
        let got = r.burst(32);
        assert_eq!(lens(&got), [1124]);
        assert_eq!(got[0].nb_segs(), 3);
        assert_eq!(got[0].to_vec().len(), 1124);
        free(got);
        r.stop();
    }
}
