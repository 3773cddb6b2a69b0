//! The transmit side of a queue: the TWQ (work descriptors) and its TCQ (completions).
//!
//! A packet is one META descriptor followed by one AL per segment, the last one LAST_AL
//! (spec 4.1). A burst writes all its packets, asks for a completion on the last one only, and
//! rings the tail doorbell once. Completions report the TWQ head; everything before it is
//! freed in bulk.

use core::mem::MaybeUninit;

use fbnic_hw::desc::{Tcd, Twd, TCD_TYPE_HEAD, TCD_TYPE_TS};
use fbnic_hw::regs::{self, Bar, QueueCtl};

use crate::buf::PktBuf;
use crate::error::{Error, Result};
use crate::ptp::Stamps;
use crate::queue::{self, QueueStats, MAX_TX_SEGS};
use crate::ring::{self, DescRing, RingRef};
use crate::rx::init_slice;
use std::sync::Arc;

use crate::transport::{DmaAllocator, Doorbell, Transport};

/// Free descriptors below which a burst first frees what the device completed.
const TX_FREE_THRESH: u32 = 64;

/// How a Tx queue is set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxConfig {
    /// TWQ descriptors (a power of two). A packet takes one plus one per segment.
    pub nb_desc: u32,
    /// Every mbuf comes from one pool with refcount 1 (DPDK `MBUF_FAST_FREE`).
    pub fast_free: bool,
}

/// In a packet's TWQ descriptor count ([`TxQueue`]'s `descs`): the packet is a chain (not
/// for fast free).
const CHAIN: u16 = 1 << 15;

/// The state of one TWQ slot (DPDK's `RTE_ETH_TX_DESC_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxDescStatus {
    /// Handed to the device, not yet done.
    Full,
    /// Free, or done by the device: the driver may write it.
    Done,
    /// The queue is not running.
    Unavail,
}

/// The transmit half of queue `qid`.
pub struct TxQueue<B: PktBuf> {
    twq: DescRing,
    tcq: DescRing,
    /// Next TWQ slot to write (free-running).
    tail: u32,
    /// Oldest TWQ slot not yet freed (free-running).
    clean: u32,
    /// Next TCQ entry to read (free-running).
    tcq_head: u32,
    twq_db: Doorbell,
    tcq_db: Doorbell,
    /// The packets in flight, oldest first, in a ring of their own (a packet takes two TWQ
    /// descriptors or more: half the TWQ's size suffices): the buffers side by side, so a
    /// reclaim hands a run of them to the pool straight from the ring, and each packet's
    /// TWQ descriptor count, with [`CHAIN`] for a chain.
    bufs: Box<[MaybeUninit<B>]>,
    descs: Box<[u16]>,
    /// Next packet slot to fill, oldest packet not yet freed (free-running; the packets of
    /// `[pkt_clean, pkt_tail)` hold the TWQ slots `[clean, tail)`).
    pkt_tail: u32,
    pkt_clean: u32,
    /// Chains among the packets in flight (none: every packet in flight takes two slots).
    chains: u32,
    cfg: TxConfig,
    qid: u32,
    running: bool,
    /// Keeps the device (and the doorbells' registers) alive as long as the queue.
    tp: Arc<dyn Transport>,
    /// Software counters (shared: control threads read them while the queue runs).
    pub stats: Arc<QueueStats>,
    /// The port's clock reference and the Tx stamp latch.
    stamps: Arc<Stamps>,
}

impl<B: PktBuf> TxQueue<B> {
    /// Allocates the rings of queue `qid`. Nothing is written to the device until
    /// [`start`](Self::start).
    pub fn new(
        tp: &Arc<dyn Transport>,
        dma: &dyn DmaAllocator,
        qid: u32,
        cfg: TxConfig,
    ) -> Result<Self> {
        queue::check_qid("Tx", qid)?;
        queue::check_desc_count("Tx", cfg.nb_desc, queue::MAX_TX_DESC)?;
        let twq = DescRing::new(dma, cfg.nb_desc)?;
        // At most one head completion per burst and one timestamp per packet, and each
        // packet takes two descriptors or more: the TWQ's size always suffices.
        let tcq = DescRing::new(dma, cfg.nb_desc.max(regs::RING_MIN_ENTRIES))?;
        let doorbell = |r: regs::QReg| {
            tp.doorbell(r.at(qid)).ok_or_else(|| {
                Error::Hardware(format!("no doorbell for queue {qid} register {:#x}", r.0))
            })
        };
        Ok(Self {
            twq_db: doorbell(regs::TWQ0_TAIL)?,
            tcq_db: doorbell(regs::TCQ_HEAD)?,
            twq,
            tcq,
            tail: 0,
            clean: 0,
            tcq_head: 0,
            bufs: (0..cfg.nb_desc / 2)
                .map(|_| MaybeUninit::uninit())
                .collect(),
            descs: vec![0; cfg.nb_desc as usize / 2].into_boxed_slice(),
            pkt_tail: 0,
            pkt_clean: 0,
            chains: 0,
            cfg,
            qid,
            running: false,
            tp: tp.clone(),
            stats: Arc::new(QueueStats::default()),
            stamps: Arc::new(Stamps::default()),
        })
    }

    /// Shares the port's [`Stamps`]: Tx timestamps are latched there.
    pub fn with_stamps(mut self, stamps: Arc<Stamps>) -> Self {
        self.stamps = stamps;
        self
    }

    /// The queue index.
    pub fn qid(&self) -> u32 {
        self.qid
    }

    /// The configuration.
    pub fn config(&self) -> TxConfig {
        self.cfg
    }

    /// Whether the queue is started.
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// Descriptors written and not yet freed.
    pub fn in_flight(&self) -> u32 {
        self.tail.wrapping_sub(self.clean)
    }

    /// Programs and enables the TWQ and TCQ (spec 3 enable order).
    pub fn start(&mut self) -> Result<()> {
        let tp = self.tp.clone();
        let tp = tp.as_ref();
        if self.running {
            return Ok(());
        }
        let q = self.qid;
        let w = |r: regs::QReg, v: u32| tp.write32(Bar::Bar0, r.at(q), v);
        self.twq.clear();
        self.tcq.clear();
        self.tail = 0;
        self.clean = 0;
        self.pkt_tail = 0;
        self.pkt_clean = 0;
        self.chains = 0;
        self.tcq_head = 0;

        w(regs::TWQ0_CTL, QueueCtl::default().with_reset(true).raw());
        self.twq
            .program(tp, q, regs::TWQ0_BAL, regs::TWQ0_BAH, regs::TWQ0_SIZE);
        w(regs::TWQ0_CTL, QueueCtl::default().with_enable(true).raw());

        w(regs::TCQ_CTL, QueueCtl::default().with_reset(true).raw());
        self.tcq
            .program(tp, q, regs::TCQ_BAL, regs::TCQ_BAH, regs::TCQ_SIZE);
        w(regs::TIM_MASK, 1);
        w(regs::TCQ_CTL, QueueCtl::default().with_enable(true).raw());
        self.running = true;
        Ok(())
    }

    /// Disables the queue, waits until the device is idle, and frees every packet in flight.
    pub fn stop(&mut self) -> Result<()> {
        let tp = self.tp.clone();
        let tp = tp.as_ref();
        if !self.running {
            return Ok(());
        }
        let q = self.qid;
        let idle = [
            regs::idle_bit(regs::qm_twq_idle, q),
            regs::idle_bit(regs::qm_tcq_idle, q),
        ];
        let waited = queue::quiesce(tp, "Tx", q, &[regs::TWQ0_CTL, regs::TCQ_CTL], &idle);
        self.running = false;
        self.free_until(self.tail);
        waited
    }

    /// Frees the packets whose TWQ slots all lie in `[clean, upto)`, oldest first (a packet
    /// the device is still reading stays, and so does `clean`, at its first slot). Returns
    /// how many packets were freed.
    fn free_until(&mut self, upto: u32) -> u32 {
        let first = self.pkt_clean;
        let in_flight = self.pkt_tail.wrapping_sub(first);
        let (n, chain) = if self.chains == 0 {
            // Every packet in flight is one segment in two slots.
            let n = (upto.wrapping_sub(self.clean) / 2).min(in_flight);
            self.clean = self.clean.wrapping_add(2 * n);
            (n, false)
        } else {
            self.count_done(upto)
        };
        // The run of buffers, in at most two slices (where the ring wraps).
        let pmask = self.bufs.len() as u32 - 1;
        let from = (first & pmask) as usize;
        let len = n as usize;
        let to_end = (self.bufs.len() - from).min(len);
        let fast = self.cfg.fast_free && !chain;
        for (a, b) in [(from, from + to_end), (0, len - to_end)] {
            if a != b {
                B::free_sent(init_slice(&self.bufs[a..b]), fast);
            }
        }
        self.pkt_clean = first.wrapping_add(n);
        n
    }

    /// With chains in flight: how many of the oldest packets lie wholly before `upto`, and
    /// whether a chain is among them; moves `clean` past them and counts the chains off.
    #[cold]
    fn count_done(&mut self, upto: u32) -> (u32, bool) {
        let pmask = self.bufs.len() as u32 - 1;
        let mut at = self.pkt_clean;
        let mut chain = false;
        while at != self.pkt_tail {
            let d = self.descs[(at & pmask) as usize];
            let n = (d & !CHAIN) as u32;
            if upto.wrapping_sub(self.clean) < n {
                break;
            }
            self.clean = self.clean.wrapping_add(n);
            if d & CHAIN != 0 {
                chain = true;
                self.chains -= 1;
            }
            at = at.wrapping_add(1);
        }
        (at.wrapping_sub(self.pkt_clean), chain)
    }

    /// Reads Tx completions and frees what the device has sent; returns packets freed.
    #[inline]
    fn reclaim(&mut self) -> u32 {
        let (head, done, stamped) = self.peek_completions();
        if head == self.tcq_head {
            return 0;
        }
        if stamped {
            self.latch_stamps(head);
        }
        self.tcq_head = head;
        self.tcq_db.ring(head & self.tcq.mask());
        self.stats.reclaims.add(1);
        self.stats.doorbells.add(1);
        match done {
            Some(Some(advance)) => self.free_until(self.clean.wrapping_add(advance)),
            Some(None) => {
                // The device reports a head outside what was handed to it.
                self.stats.bad_descriptors.add(1);
                0
            }
            None => 0,
        }
    }

    /// Latches the newest valid timestamp of completions `[tcq_head, head)`.
    #[cold]
    fn latch_stamps(&self, head: u32) {
        let mut at = self.tcq_head;
        while at != head {
            let tcd = Tcd::from_raw(self.tcq.load(at));
            // STATUS b48 TS_INVALID, b49 ILLEGAL_TS_REQ.
            if tcd.ty() == TCD_TYPE_TS && tcd.status() & 3 == 0 {
                self.stamps.latch_tx(self.stamps.extend(tcd.ts()));
            }
            at = at.wrapping_add(1);
        }
    }

    /// Reads the completions waiting in the TCQ without consuming them: the TCQ index after
    /// the last one, what the newest TWQ0 head update says (None: no head update;
    /// `Some(None)`: a head outside what was handed to the device; else how many slots in
    /// flight, from the oldest, the device is done with), and whether any is a timestamp.
    #[inline(always)]
    fn peek_completions(&self) -> (u32, Option<Option<u32>>, bool) {
        let mut head = self.tcq_head;
        let mut done_to = None;
        let mut stamped = false;
        for _ in 0..self.tcq.size() {
            let tcd = Tcd::from_raw(self.tcq.load(head));
            if tcd.done() != self.tcq.done_phase(head) {
                break;
            }
            head = head.wrapping_add(1);
            if tcd.ty() == TCD_TYPE_HEAD {
                if !tcd.twq1() {
                    done_to = Some(tcd.head0() as u32);
                }
            } else {
                stamped |= tcd.ty() == TCD_TYPE_TS;
            }
        }
        let mask = self.twq.mask();
        let done = done_to.map(|h| {
            let advance = h.wrapping_sub(self.clean & mask) & mask;
            (h <= mask && advance <= self.in_flight()).then_some(advance)
        });
        (head, done, stamped)
    }

    /// The work ring (TWQ)'s slots, for the descriptor dumps (valid while this queue lives).
    pub fn twq_ref(&self) -> RingRef {
        self.twq.raw_ref()
    }

    /// The state of the TWQ slot `offset` places after the tail, where the next packet goes
    /// (DPDK `tx_descriptor_status`); None when `offset` is not below the ring size. A slot
    /// still in flight is done once a completion waiting in the TCQ (read without consuming
    /// it) has the device's head past it.
    pub fn descriptor_status(&self, offset: u32) -> Option<TxDescStatus> {
        if offset >= self.cfg.nb_desc {
            return None;
        }
        if !self.running {
            return Some(TxDescStatus::Unavail);
        }
        let mask = self.twq.mask();
        // How far the slot is past the oldest one in flight.
        let k = self.tail.wrapping_add(offset).wrapping_sub(self.clean) & mask;
        if k >= self.in_flight() {
            return Some(TxDescStatus::Done);
        }
        let done = self.peek_completions().1.flatten().unwrap_or(0);
        Some(if k < done {
            TxDescStatus::Done
        } else {
            TxDescStatus::Full
        })
    }

    /// Frees every packet the device has completed (DPDK `tx_done_cleanup`); returns how
    /// many packets were freed.
    pub fn cleanup(&mut self) -> u32 {
        if self.running {
            self.reclaim()
        } else {
            0
        }
    }

    /// Sends up to `pkts.len()` packets; returns how many the queue took (sent, or dropped and
    /// counted as errors when malformed). The caller keeps ownership of the rest.
    #[inline]
    pub fn burst(&mut self, pkts: &[B]) -> usize {
        if !self.running {
            return 0;
        }
        // Completions live in memory the device writes: read them only when descriptors run
        // short, and then free a whole batch at once. Normally the previous burst did that
        // after its doorbell (below); here only when this burst would not fit otherwise.
        let want = if pkts.is_empty() {
            TX_FREE_THRESH
        } else {
            2 * pkts.len() as u32
        };
        if self.cfg.nb_desc - 1 - self.in_flight() < want {
            self.reclaim();
        }
        let mask = self.twq.mask();
        let free = self.cfg.nb_desc - 1 - self.in_flight();
        if pkts.is_empty() {
            return 0;
        }
        // The lines this burst writes were last read by the device: ask for them (and the
        // doorbell's) now, so the stores below do not wait for them one by one.
        self.twq
            .prefetch_write(self.tail, (2 * pkts.len() as u32).min(free));
        self.twq_db.prepare();
        if free < want + want.max(TX_FREE_THRESH) {
            // The reclaim after the doorbell will read the next completion: ask for its line
            // now, so it travels while the descriptors are written.
            self.tcq.prefetch(self.tcq_head, 1);
        }
        // The ring's geometry and the tail as values (the loop stores into the ring, and the
        // compiler cannot tell those stores from writes to the queue's fields), and as few
        // other live values as the loops can do with: the slots run out at `end`, sent is
        // packets taken less the dropped.
        let twq = self.twq.view();
        let mut tail = self.tail;
        let mut pkt_tail = self.pkt_tail;
        // The packet ring as slices of one length, `pmask + 1`: in the general path an index
        // `& pmask` needs no bounds check.
        let pmask = self.bufs.len() as u32 - 1;
        let bufs = &mut self.bufs[..pmask as usize + 1];
        let descs = &mut self.descs[..pmask as usize + 1];
        let end = tail.wrapping_add(free);
        let (mut taken, mut dropped, mut bytes) = (0, 0u64, 0u64);
        // Where the last packet sent has its META (the completion request goes there).
        let mut last_at = None;
        let mut segs: [(u64, u16); MAX_TX_SEGS as usize] = [(0, 0); MAX_TX_SEGS as usize];
        while taken < pkts.len() {
            // The common packet in a loop of its own: one segment with data. It walks the
            // packets zipped with pairs of the TWQ slots up to the room's end or the ring's,
            // and with the packet ring's slots up to its end, so it needs no index arithmetic
            // or bounds checks; the packet after a ring's end goes through the general path
            // below (a pair across the TWQ's end) or the next round.
            let run_start = tail;
            let slots = twq.to_end(tail);
            let slots = &slots[..slots.len().min(end.wrapping_sub(tail) as usize)];
            let p = (pkt_tail & pmask) as usize;
            let pkt_slots = bufs[p..].iter_mut().zip(descs[p..].iter_mut());
            let first = taken;
            for ((&pkt, pair), (buf, desc)) in pkts[first..]
                .iter()
                .zip(slots.chunks_exact(2))
                .zip(pkt_slots)
            {
                if pkt.tx_nb_segs() != 1 {
                    break;
                }
                let (addr, len) = pkt.tx_seg();
                if len == 0 {
                    break;
                }
                ring::store(&pair[0], pkt.tx_meta().raw());
                ring::store(&pair[1], Twd::al(addr, len, true).raw());
                buf.write(pkt);
                *desc = 2;
                bytes += len as u64;
                taken += 1;
            }
            let n = (taken - first) as u32;
            pkt_tail = pkt_tail.wrapping_add(n);
            tail = tail.wrapping_add(2 * n);
            if tail != run_start {
                last_at = Some(tail.wrapping_sub(2));
            }
            // Anything else, one packet at a time. A one-segment packet got here because the
            // ring is full, a ring ended, or it has no data.
            let Some(&pkt) = pkts.get(taken) else {
                break;
            };
            let nb_segs = pkt.tx_nb_segs();
            if nb_segs == 1 {
                if end.wrapping_sub(tail) < 2 {
                    break;
                }
                let (addr, len) = pkt.tx_seg();
                if len == 0 {
                    drop_bad(&self.stats, pkt);
                    dropped += 1;
                } else {
                    twq.store(tail, pkt.tx_meta().raw());
                    twq.store(tail.wrapping_add(1), Twd::al(addr, len, true).raw());
                    let p = (pkt_tail & pmask) as usize;
                    bufs[p].write(pkt);
                    descs[p] = 2;
                    pkt_tail = pkt_tail.wrapping_add(1);
                    last_at = Some(tail);
                    tail = tail.wrapping_add(2);
                    bytes += len as u64;
                }
            } else {
                // Walk the chain first: write nothing for a packet that cannot be sent.
                let mut n = 0usize;
                let mut seg = Some(pkt);
                let mut ok = nb_segs != 0 && nb_segs <= MAX_TX_SEGS;
                while ok {
                    let Some(s) = seg else { break };
                    if n == nb_segs as usize {
                        ok = false;
                        break;
                    }
                    let (addr, len) = s.tx_seg();
                    if len != 0 {
                        segs[n] = (addr, len);
                        n += 1;
                    }
                    seg = s.tx_next();
                }
                if !ok || n == 0 {
                    drop_bad(&self.stats, pkt);
                    dropped += 1;
                    taken += 1;
                    continue;
                }
                if end.wrapping_sub(tail) < n as u32 + 1 {
                    break;
                }
                let meta = pkt.tx_meta();
                twq.store(tail, meta.raw());
                for (i, &(addr, len)) in segs[..n].iter().enumerate() {
                    twq.store(
                        tail.wrapping_add(1 + i as u32),
                        Twd::al(addr, len, i + 1 == n).raw(),
                    );
                    bytes += len as u64;
                }
                let p = (pkt_tail & pmask) as usize;
                bufs[p].write(pkt);
                descs[p] = (1 + n as u16) | CHAIN;
                pkt_tail = pkt_tail.wrapping_add(1);
                self.chains += 1;
                last_at = Some(tail);
                tail = tail.wrapping_add(1 + n as u32);
            }
            taken += 1;
        }
        self.tail = tail;
        self.pkt_tail = pkt_tail;
        let sent = taken as u64 - dropped;
        debug_assert_eq!(sent > 0, last_at.is_some());
        if let Some(at) = last_at {
            // Read back from this core's cache, once per burst.
            let meta = Twd::from_raw(self.twq.load(at));
            self.twq.store(at, meta.with_req_completion(true).raw());
            self.twq_db.ring(self.tail & mask);
            self.stats.packets.add(sent);
            self.stats.bytes.add(bytes);
            self.stats.bursts.add(1);
            self.stats.doorbells.add(1);
            // The device has its work: now, not before the doorbell, wait for the completion
            // line and free what it finished, so the next burst of this size finds room.
            if self.cfg.nb_desc - 1 - self.in_flight() < want.max(TX_FREE_THRESH) {
                self.reclaim();
            }
            // The next burst of this size will write the lines after the tail, which the
            // device last read a lap ago: ask for them now, so they travel while the
            // application polls Rx. Only lines of free slots: the one the tail sits in, and
            // the one the free slots end in, may hold descriptors the device has yet to read.
            let next_line = self.tail.wrapping_add(7) & !7;
            let room = (self.cfg.nb_desc - 1 - self.in_flight())
                .saturating_sub(next_line.wrapping_sub(self.tail));
            let n = want.min(ring::before_last_line(next_line, room));
            self.twq.prefetch_write(next_line, n);
        }
        taken
    }
}

/// Frees a packet the queue cannot send and counts it.
#[cold]
fn drop_bad<B: PktBuf>(stats: &QueueStats, pkt: B) {
    pkt.free_pkt();
    stats.errors.add(1);
}

impl<B: PktBuf> Drop for TxQueue<B> {
    fn drop(&mut self) {
        self.free_until(self.tail);
    }
}

impl<B: PktBuf> core::fmt::Debug for TxQueue<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TxQueue")
            .field("qid", &self.qid)
            .field("cfg", &self.cfg)
            .field("running", &self.running)
            .field("tail", &self.tail)
            .field("clean", &self.clean)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeDevice;
    use crate::native::{NativeBuf, NativeDma, NativePool};
    use fbnic_hw::desc::TwdType;

    const ROOM: u32 = 256;

    struct Rig {
        dev: Arc<FakeDevice>,
        pool: NativePool,
        q: TxQueue<NativeBuf>,
    }

    fn rig(nb_desc: u32) -> Rig {
        let dev = Arc::new(FakeDevice::new());
        let tp: Arc<dyn Transport> = dev.clone();
        let dma = NativeDma::new(tp.clone());
        let pool = NativePool::new(dma.as_ref(), 512, ROOM, 0).unwrap();
        let mut q = TxQueue::new(
            &tp,
            dma.as_ref(),
            0,
            TxConfig {
                nb_desc,
                fast_free: false,
            },
        )
        .unwrap();
        q.start().unwrap();
        Rig { dev, pool, q }
    }

    impl Rig {
        /// TWQ descriptors `from..to` (free-running) as the device would read them.
        fn twds(&self, from: u32, to: u32) -> Vec<Twd> {
            (from..to)
                .map(|i| self.dev.twd(0, self.q.cfg.nb_desc, i).unwrap())
                .collect()
        }

        fn tail_register(&self) -> u32 {
            self.dev.read32(Bar::Bar0, regs::TWQ0_TAIL.at(0))
        }

        fn packet(&self, len: usize) -> NativeBuf {
            self.pool.packet(&vec![0x5a; len]).unwrap()
        }
    }

    /// The descriptor types the TWQ should hold for packets of `segs` segments each.
    fn layout(segs: &[usize]) -> Vec<TwdType> {
        segs.iter()
            .flat_map(|&n| {
                core::iter::once(TwdType::Meta)
                    .chain((1..n).map(|_| TwdType::Al))
                    .chain(core::iter::once(TwdType::LastAl))
            })
            .collect()
    }

    #[test]
    fn bad_packets_are_dropped_and_counted_between_good_ones() {
        let mut r = rig(256);
        let too_long = r.packet(ROOM as usize * (MAX_TX_SEGS as usize + 1));
        let lying = r.packet(ROOM as usize * 2 + 1);
        let chained = r.packet(ROOM as usize * 2 + 10);
        let pkts = [
            r.packet(60),
            r.pool.packet(&[]).unwrap(),
            chained,
            too_long,
            r.packet(100),
            r.pool.packet(&[]).unwrap(),
            lying,
            r.packet(1500 % ROOM as usize),
        ];
        // Its head claims fewer segments than the chain holds.
        lying.claim_nb_segs(2);
        let in_use = r.pool.capacity() - r.pool.available();
        assert_eq!(r.q.burst(&pkts), pkts.len(), "every packet is taken");
        assert_eq!(
            r.q.stats.errors.get(),
            4,
            "two empty, one too long, one lying"
        );
        assert_eq!(r.q.stats.packets.get(), 4);
        assert_eq!(
            r.q.stats.bytes.get(),
            60 + (2 * 256 + 10) + 100 + 1500 % 256
        );
        assert_eq!(
            r.pool.capacity() - r.pool.available(),
            in_use - (2 + MAX_TX_SEGS as usize + 1 + 3),
            "the dropped packets' buffers went back at once"
        );
        let want = layout(&[1, 3, 1, 1]);
        let got = r.twds(0, want.len() as u32);
        assert_eq!(got.iter().map(|d| d.ty()).collect::<Vec<_>>(), want);
        assert_eq!(
            r.tail_register(),
            want.len() as u32,
            "one doorbell at the end"
        );
        let metas: Vec<usize> = (0..want.len())
            .filter(|&i| want[i] == TwdType::Meta)
            .collect();
        for &i in &metas {
            assert_eq!(
                got[i].req_completion(),
                i == *metas.last().unwrap(),
                "completion asked once, on the burst's last packet (META at {i})"
            );
        }
        let lens: Vec<u64> = got
            .iter()
            .filter(|d| d.ty() != TwdType::Meta)
            .map(|d| d.len())
            .collect();
        assert_eq!(lens, [60, 256, 256, 10, 100, 1500 % 256]);
        r.q.stop().unwrap();
        assert_eq!(
            r.pool.available(),
            r.pool.capacity(),
            "nothing lost at stop"
        );
    }

    #[test]
    fn a_full_ring_takes_what_fits_and_leaves_the_rest_untouched() {
        let mut r = rig(64);
        // 63 usable slots: 31 one-segment packets (62), then nothing that needs two.
        let pkts: Vec<NativeBuf> = (0..40).map(|_| r.packet(64)).collect();
        assert_eq!(r.q.burst(&pkts), 31);
        assert_eq!(r.q.in_flight(), 62);
        assert_eq!(r.tail_register(), 62);
        // An empty packet at the full ring is not taken (nor counted) either.
        let empty = r.pool.packet(&[]).unwrap();
        assert_eq!(r.q.burst(&[empty]), 0);
        assert_eq!(r.q.stats.errors.get(), 0);
        assert_eq!(r.q.stats.packets.get(), 31);
        empty.free_pkt();
        pkts[31..].iter().for_each(|p| p.free_pkt());
        r.q.stop().unwrap();
        assert_eq!(r.pool.available(), r.pool.capacity());
    }

    #[test]
    fn completions_free_exactly_the_packets_wholly_before_the_head_over_many_laps() {
        // 63 usable slots, 32 packet entries: many laps of both rings, packets of one
        // segment (two slots) and chains of two and three (three and four slots: the tail
        // goes odd, so one-segment packets straddle the ring's end) in varying mixes, and
        // device heads at packet boundaries and inside packets. Each burst's descriptors
        // are read back as the device would.
        let mut r = rig(64);
        let entries = r.q.tcq.size();
        let mut tcq_tail = 0u32;
        // (first slot, slots, buffers) of each packet in flight, oldest first.
        let mut flight = std::collections::VecDeque::<(u32, u32, usize)>::new();
        let mut tail = 0u32;
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rand = |n: u32| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as u32 % n
        };
        let mut freed_total = 0u64;
        for round in 0..400 {
            // Send what fits of a burst of up to 12 packets.
            let mut pkts = Vec::new();
            let room = 63 - r.q.in_flight();
            let mut need = 0;
            for _ in 0..rand(12) + 1 {
                let segs = if round % 3 != 0 && rand(4) == 0 {
                    2 + rand(2) as usize
                } else {
                    1
                };
                let slots = segs as u32 + 1;
                if need + slots > room {
                    break;
                }
                need += slots;
                let len = if segs == 1 {
                    60
                } else {
                    ROOM as usize * (segs - 1) + 10
                };
                pkts.push((r.packet(len), slots, segs));
            }
            let bufs: Vec<NativeBuf> = pkts.iter().map(|p| p.0).collect();
            assert_eq!(r.q.burst(&bufs), bufs.len(), "round {round}: all fit");
            let segs: Vec<usize> = pkts.iter().map(|p| p.2).collect();
            let twds = r.twds(tail, tail.wrapping_add(need));
            let tys: Vec<TwdType> = twds.iter().map(|d| d.ty()).collect();
            assert_eq!(tys, layout(&segs), "round {round}: from slot {tail}");
            let lens: Vec<u64> = twds
                .iter()
                .filter(|d| d.ty() != TwdType::Meta)
                .map(|d| d.len())
                .collect();
            let want_lens: Vec<u64> = segs
                .iter()
                .flat_map(|&n| {
                    let full = (1..n).map(|_| ROOM as u64);
                    full.chain(core::iter::once(if n == 1 { 60 } else { 10 }))
                })
                .collect();
            assert_eq!(lens, want_lens, "round {round}");
            let asked: Vec<bool> = twds
                .iter()
                .filter(|d| d.ty() == TwdType::Meta)
                .map(|d| d.req_completion())
                .collect();
            assert!(
                asked.iter().rev().skip(1).all(|&a| !a) && asked.last() != Some(&false),
                "round {round}: completion asked on the last packet only: {asked:?}"
            );
            assert_eq!(r.tail_register(), tail.wrapping_add(need) % 64);
            for &(_, slots, nbufs) in &pkts {
                flight.push_back((tail, slots, nbufs));
                tail = tail.wrapping_add(slots);
            }
            // The device reports a head somewhere between the oldest slot and the tail.
            let oldest = flight.front().map_or(tail, |p| p.0);
            let head = oldest.wrapping_add(rand(tail.wrapping_sub(oldest) + 1));
            let tcd = Tcd::default().with_head0((head % 64) as u64);
            assert!(r.dev.complete_tx(0, entries, tcq_tail, tcd));
            tcq_tail = tcq_tail.wrapping_add(1);
            let mut want_freed = 0;
            while let Some(&(first, slots, _)) = flight.front() {
                if head.wrapping_sub(first) < slots {
                    break;
                }
                flight.pop_front();
                want_freed += 1;
            }
            let freed = r.q.cleanup();
            assert_eq!(freed, want_freed, "round {round}: head {head}");
            freed_total += freed as u64;
            let oldest = flight.front().map_or(tail, |p| p.0);
            assert_eq!(r.q.in_flight(), tail.wrapping_sub(oldest), "round {round}");
            let held: usize = flight.iter().map(|p| p.2).sum();
            assert_eq!(
                r.pool.capacity() - r.pool.available(),
                held,
                "round {round}: the buffers of the packets in flight, no more"
            );
        }
        assert!(freed_total > 1000, "many laps: {freed_total} packets");
        r.q.stop().unwrap();
        assert_eq!(
            r.pool.available(),
            r.pool.capacity(),
            "nothing lost at stop"
        );
    }
}
