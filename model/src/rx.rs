//! The Rx engine: a classified frame -> HPQ/PPQ buffers and RCQ completions (spec 4.3-4.5).
//!
//! One-buffer-per-frame mode (RDE_CTL0.EN_HDR_SPLIT = 0, RDE_CTL1.PAYLD_PACK = 0): each PPQ
//! buffer is RDE_CTL1.MAX_HDR bytes **[project choice, hw RdeCtl1]**; a frame starts at
//! MIN_HROOM in a fresh buffer and continues at offset 0 in further buffers, leaving MIN_TROOM
//! unused at each buffer's end; one PAY_AL per buffer (PAGE_FIN = 1), then OPT_META when the
//! action asks for a timestamp, then META.
//!
//! Header-split mode (EN_HDR_SPLIT = 1, PAYLD_PACK = 0; the queue's HPQ must run too)
//! **[project choice]**: the frame's action (ACT_TBL0.DMA_HINT) names the deepest header layer
//! the header buffer takes: L4 if hint & 4, else L3 if hint & 2, else L2 if hint & 1, else
//! none. The split point is the end of that header in the frame ([`parse::hdr_ends`]: after
//! the TCP/UDP header, the IP header, the Ethernet header); a frame that lacks the header
//! falls back to the next layer down (L4 -> L3 -> L2 -> none); with no layer the split is a
//! length split at MAX_HDR. The header, h = min(split point, MAX_HDR, frame length) bytes,
//! goes at MIN_HROOM into one HPQ buffer: HDR_AL (OFF = MIN_HROOM, LEN = h, PAGE_FIN = 1,
//! DMA_HINT = the layer used as 4/2/1/0, OVERFLOW when the split point was past MAX_HDR). The
//! rest of the frame goes into PPQ buffers of 4096 >> RDE_CTL1.PAYLD_PG_CL bytes, each from
//! offset 0 and leaving MIN_TROOM unused: one PAY_AL each (none when the header buffer took
//! the whole frame). Then OPT_META and META as above. The frame is parsed again here, only for
//! such queues (the classification carries nothing but the hint).
//!
//! Payload packing (PAYLD_PACK != 0) is not modelled: frames for such a queue are dropped and
//! counted in RDE_PKT_ERR (and `rx_page_mode_drops`).

use fbnic_hw::desc::{BdqDesc, Rcd, RcdType};
use fbnic_hw::regs::{
    self, DMA_HINT_L2, DMA_HINT_L3, DMA_HINT_L4, DMA_HINT_NONE, DROP_MODE_IMMEDIATE,
    PAYLD_PACK_NONE,
};

use crate::dma::DmaTable;
use crate::parse;
use crate::queue::{Queue, Ring, RingState};
use crate::regfile::RegFile;
use crate::stats::Counters;

/// **[project choice]** Most buffers one frame may use (header and payload buffers together);
/// a frame that needs more is cut (ERR_TRUNCATED). Also bounded by the ring sizes so a frame
/// always fits an empty RCQ and a full PPQ.
pub(crate) const MAX_RX_BUFS: u32 = 64;

/// What the META (and OPT_META) completion of a frame reports.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RxInfo {
    pub meta: Rcd,
    /// Timestamp for OPT_META (when the action set TS_ENA).
    pub ts: Option<u64>,
    /// Matching action TCAM entry, for OPT_META.
    pub action: Option<u8>,
    /// The action's DMA_HINT (header-split queues only look at it).
    pub dma_hint: u32,
}

/// What became of a frame sent to a queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Delivered (possibly truncated, which the META says).
    Done,
    /// Dropped and counted.
    Dropped,
    /// No room now, and the queue's DROP_MODE says to wait.
    Wait,
}

/// Completions staged before they are written (see [`flush`]).
const STAGE_MAX: usize = 256;

/// Stages one completion for the RCQ; the slot is taken now, the write happens at
/// [`flush`] (end of the engine's Rx pass, or when the stage is full), so each cache line of
/// the ring is written in one go rather than raced against the polling driver.
#[inline(always)]
fn write_rcd(dma: &mut DmaTable, q: &mut Queue, rcd: Rcd, cnt: &mut Counters) -> bool {
    if q.rcd_stage.is_empty() {
        q.stage_idx = q.rcq.idx;
    } else if q.rcd_stage.len() >= STAGE_MAX {
        flush(dma, q, cnt);
        q.stage_idx = q.rcq.idx;
    }
    if !q.rcq.running() {
        return false;
    }
    q.rcd_stage.push(rcd.with_done(q.rcq.phase).raw());
    q.rcq.advance(1);
    true
}

/// How far ahead of the completion being written the flush asks for RCQ lines (descriptors).
const FLUSH_AHEAD: u32 = 32;

/// Writes the staged completions of `q`, in order (each with Release, after the frame data).
pub(crate) fn flush(dma: &mut DmaTable, q: &mut Queue, cnt: &mut Counters) {
    let Queue {
        rcq,
        rcd_stage,
        stage_idx,
        stage_listed,
        ..
    } = q;
    *stage_listed = false;
    // The driver may hold these lines (it polls the ring): the run asks for them a few lines
    // ahead of the store, so the transfers overlap instead of each store waiting in turn.
    if rcq.state == RingState::Running
        && dma
            .ring_write_run(
                &mut rcq.map,
                rcq.base,
                rcq.entries,
                *stage_idx,
                rcd_stage,
                FLUSH_AHEAD,
            )
            .is_err()
    {
        rcq.state = RingState::Faulted;
        cnt.ring_faults += 1;
    }
    rcd_stage.clear();
}

/// An idle engine's look ahead: asks for the cache line the next frame to `q` will start in
/// (the PPQ head buffer, at the headroom), in an exclusive state. The driver's core last
/// touched that buffer (it read the frame the buffer held before), so without this the
/// first store of the next frame waits for the line to come over, and the completion
/// written after it waits too: one cross-core transfer less on the round trip of a frame
/// that arrives at an idle port. Once per buffer; nothing when the ring is empty.
pub(crate) fn prime(dma: &mut DmaTable, q: &mut Queue) {
    if !q.ppq.running() || q.ppq.pending() == 0 {
        return;
    }
    let key = q.ppq.idx | (q.ppq.phase as u32) << 31;
    if q.primed == key {
        return;
    }
    q.primed = key;
    if let Some(raw) = q.ppq.peek(dma, q.ppq.idx) {
        let bd = BdqDesc::from_raw(raw);
        dma.prefetch_write(bd.addr() + q.rde_ctl0.min_hroom() as u64);
    }
}

/// Takes the buffer at the head of a buffer queue (HPQ or PPQ); None, with the ring stopped
/// and the fault counted, when its descriptor cannot be read.
#[inline(always)]
fn take_buffer(dma: &mut DmaTable, ring: &mut Ring, cnt: &mut Counters) -> Option<BdqDesc> {
    let head = ring.idx;
    let Ok(raw) = ring.read(dma, head) else {
        ring.state = RingState::Faulted;
        cnt.ring_faults += 1;
        return None;
    };
    ring.advance(1);
    // The driver writes buffer descriptors in batches: fetch the line after next early.
    if head & 7 == 0 {
        ring.prefetch(dma, head + 16, false);
    }
    Some(BdqDesc::from_raw(raw))
}

/// A frame that finds no room (no RCQ slots when `cq_short`, else too few buffers): held
/// while the queue's DROP_MODE says wait, else dropped and counted.
#[inline]
fn no_room(q: &mut Queue, cq_short: bool) -> Delivery {
    if q.rde_ctl0.drop_mode() != DROP_MODE_IMMEDIATE {
        return Delivery::Wait;
    }
    if cq_short {
        q.cnt.cq_drop = q.cnt.cq_drop.wrapping_add(1);
    } else {
        q.cnt.bdq_drop = q.cnt.bdq_drop.wrapping_add(1);
    }
    Delivery::Dropped
}

/// Delivers frame `f` to queue `qi`.
#[inline]
pub(crate) fn deliver(
    regs: &RegFile,
    dma: &mut DmaTable,
    cnt: &mut Counters,
    qi: u32,
    q: &mut Queue,
    f: &[u8],
    info: &RxInfo,
) -> Delivery {
    let (ctl0, ctl1, bdq) = (q.rde_ctl0, q.rde_ctl1, q.bdq_ctl);
    // One test for everything but the common case (kept out of line).
    if !q.rcq.running()
        || !q.ppq.running()
        || !bdq.ppq_enable()
        || ctl0.en_hdr_split()
        || ctl1.payld_pack() != PAYLD_PACK_NONE
    {
        return deliver_slow(regs, dma, cnt, qi, q, f, info);
    }
    q.dirty = true;
    let buf_len = ctl1.max_hdr() as usize;
    let hroom = ctl0.min_hroom() as usize;
    let troom = ctl0.min_troom() as usize;
    let cap0 = buf_len.saturating_sub(hroom + troom);
    let capn = buf_len.saturating_sub(troom);
    let len = f.len();
    let opt = info.ts.is_some() as u32;
    // Buffers: the first holds cap0, each further one capn.
    // Never more buffers than an empty RCQ and a full PPQ can give (else WAIT would block the
    // port for good): a frame that needs more is cut.
    let max_bufs = MAX_RX_BUFS
        .min(q.rcq.mask.saturating_sub(1 + opt))
        .min(q.ppq.mask)
        .max(1);
    let mut nbufs = if len <= cap0 || capn == 0 {
        1
    } else {
        1 + (len - cap0).div_ceil(capn) as u32
    };
    if nbufs > max_bufs {
        nbufs = max_bufs;
    }
    let slots = nbufs + 1 + opt;

    // Room? Refresh the doorbells only when the cached view says no.
    if q.rcq.free() < slots && q.rcq.doorbell(regs, regs::RCQ_HEAD.at(qi)) {
        cnt.bad_doorbells += 1;
    }
    if q.ppq.pending() < nbufs && q.ppq.doorbell(regs, regs::BDQ_PPQ_TAIL.at(qi)) {
        cnt.bad_doorbells += 1;
    }
    let cq_short = q.rcq.free() < slots;
    let bdq_short = q.ppq.pending() < nbufs;
    if cq_short || bdq_short {
        return no_room(q, cq_short);
    }

    let mut off = 0usize;
    let mut truncated = false;
    for i in 0..nbufs {
        let Some(bd) = take_buffer(dma, &mut q.ppq, cnt) else {
            truncated = true;
            break;
        };
        let (boff, cap) = if i == 0 { (hroom, cap0) } else { (0, capn) };
        let n = if truncated { 0 } else { cap.min(len - off) };
        let mut wrote = n;
        if n > 0
            && dma
                .write(bd.addr() + boff as u64, &f[off..off + n])
                .is_err()
        {
            truncated = true;
            wrote = 0;
        }
        off += n;
        let al = Rcd::al(
            RcdType::PayAl,
            bd.id() as u16,
            boff as u16,
            wrote as u16,
            true,
        );
        if !write_rcd(dma, q, al, cnt) {
            return Delivery::Dropped;
        }
    }
    if off < len {
        truncated = true;
    }
    finish(dma, cnt, q, info, truncated, len)
}

/// A frame steered to a queue that is not running.
#[cold]
fn not_running(regs: &RegFile, cnt: &mut Counters, qi: u32, q: &mut Queue) -> Delivery {
    // [project choice] A frame steered to a queue that is not running is counted as that
    // queue's no-buffer drop, so the host sees it (imissed).
    cnt.rx_queue_drops += 1;
    q.cnt.bdq_drop = q.cnt.bdq_drop.wrapping_add(1);
    // The queue is not on the active list that publishes counters: publish this one now.
    regs.set(regs::RDE_BDQ_DROP.at(qi), q.cnt.bdq_drop);
    Delivery::Dropped
}

/// Ends a frame whose buffers are written: OPT_META (when the action asks for a timestamp),
/// META (with ERR_TRUNCATED when `truncated`), counters.
#[inline(always)]
fn finish(
    dma: &mut DmaTable,
    cnt: &mut Counters,
    q: &mut Queue,
    info: &RxInfo,
    truncated: bool,
    len: usize,
) -> Delivery {
    if let Some(ts) = info.ts {
        let mut o = Rcd::default()
            .with_ty_bits(RcdType::OptMeta as u64)
            .with_ts(ts & ((1 << 40) - 1))
            .with_ts_valid(true);
        if let Some(a) = info.action {
            o = o.with_action(a as u64).with_action_valid(true);
        }
        if !write_rcd(dma, q, o, cnt) {
            return Delivery::Dropped;
        }
    }
    let mut meta = info.meta;
    if truncated {
        meta = meta
            .with_err_truncated(true)
            .with_l4_csum_unnecessary(false);
        q.cnt.rde_err = q.cnt.rde_err.wrapping_add(1);
    }
    if !write_rcd(dma, q, meta, cnt) {
        return Delivery::Dropped;
    }
    q.cnt.rde_pkt = q.cnt.rde_pkt.wrapping_add(1);
    q.cnt.rde_bytes = q.cnt.rde_bytes.wrapping_add(len as u64);
    Delivery::Done
}

/// Where the header buffer's part of `f` ends for the action's DMA hint `hint`, before
/// MAX_HDR applies, and the layer that split point belongs to (a `regs::DMA_HINT_*` value:
/// HDR_AL reports it the same way). A
/// frame that lacks the asked-for header falls back to the next layer down; with no layer
/// left the split is at `max_hdr` (a length split).
fn split_point(f: &[u8], hint: u32, max_hdr: usize) -> (usize, u32) {
    let want = if hint & DMA_HINT_L4 != 0 {
        DMA_HINT_L4
    } else if hint & DMA_HINT_L3 != 0 {
        DMA_HINT_L3
    } else if hint & DMA_HINT_L2 != 0 {
        DMA_HINT_L2
    } else {
        return (max_hdr, DMA_HINT_NONE);
    };
    let e = parse::hdr_ends(f, &parse::parse(f));
    [
        (DMA_HINT_L4, e.l4),
        (DMA_HINT_L3, e.l3),
        (DMA_HINT_L2, e.l2),
    ]
    .into_iter()
    .filter(|&(layer, _)| layer <= want)
    .find_map(|(layer, end)| end.map(|x| (x as usize, layer)))
    .unwrap_or((max_hdr, DMA_HINT_NONE))
}

/// Delivers frame `f` to queue `qi` when the queue does not run or is in page mode
/// (EN_HDR_SPLIT = 1 or PAYLD_PACK != 0). Kept out of line: the one-buffer path does not pay
/// for it.
#[cold]
#[inline(never)]
fn deliver_slow(
    regs: &RegFile,
    dma: &mut DmaTable,
    cnt: &mut Counters,
    qi: u32,
    q: &mut Queue,
    f: &[u8],
    info: &RxInfo,
) -> Delivery {
    let (ctl0, ctl1) = (q.rde_ctl0, q.rde_ctl1);
    if !q.rcq.running() || !q.ppq.running() || !q.bdq_ctl.ppq_enable() {
        return not_running(regs, cnt, qi, q);
    }
    if ctl1.payld_pack() != PAYLD_PACK_NONE {
        // Payload packing is not modelled.
        q.dirty = true;
        q.cnt.rde_err = q.cnt.rde_err.wrapping_add(1);
        cnt.rx_page_mode_drops += 1;
        return Delivery::Dropped;
    }
    if !q.hpq.running() {
        return not_running(regs, cnt, qi, q);
    }
    q.dirty = true;
    let len = f.len();
    let max_hdr = ctl1.max_hdr() as usize;
    let (split, layer) = split_point(f, info.dma_hint, max_hdr);
    let h = split.min(max_hdr).min(len);
    let overflow = split > max_hdr;
    let hroom = ctl0.min_hroom() as usize;
    let troom = ctl0.min_troom() as usize;
    // [project choice] Payload buffers are 4096 >> PAYLD_PG_CL bytes (0: 4 KiB pages).
    let cap = (4096usize >> ctl1.payld_pg_cl()).saturating_sub(troom);
    let rest = len - h;
    let opt = info.ts.is_some() as u32;
    // As in one-buffer mode: at most MAX_RX_BUFS buffers in all (the header buffer
    // included), never more than an empty RCQ and a full PPQ can give.
    let max_bufs = MAX_RX_BUFS.min(q.rcq.mask.saturating_sub(1 + opt)).max(1);
    let max_pay = (max_bufs - 1).min(q.ppq.mask);
    let npay = if rest == 0 {
        0
    } else if cap == 0 {
        1
    } else {
        rest.div_ceil(cap) as u32
    }
    .min(max_pay);
    let slots = 1 + npay + 1 + opt;

    // Room? Refresh the doorbells only when the cached view says no.
    if q.rcq.free() < slots && q.rcq.doorbell(regs, regs::RCQ_HEAD.at(qi)) {
        cnt.bad_doorbells += 1;
    }
    if q.hpq.pending() == 0 && q.hpq.doorbell(regs, regs::BDQ_HPQ_TAIL.at(qi)) {
        cnt.bad_doorbells += 1;
    }
    if q.ppq.pending() < npay && q.ppq.doorbell(regs, regs::BDQ_PPQ_TAIL.at(qi)) {
        cnt.bad_doorbells += 1;
    }
    let cq_short = q.rcq.free() < slots;
    let bdq_short = q.hpq.pending() == 0 || q.ppq.pending() < npay;
    if cq_short || bdq_short {
        return no_room(q, cq_short);
    }

    // The header buffer.
    let Some(hbd) = take_buffer(dma, &mut q.hpq, cnt) else {
        return finish(dma, cnt, q, info, true, len);
    };
    let mut truncated = false;
    let mut wrote = h;
    if h > 0 && dma.write(hbd.addr() + hroom as u64, &f[..h]).is_err() {
        truncated = true;
        wrote = 0;
    }
    let al = Rcd::al(
        RcdType::HdrAl,
        hbd.id() as u16,
        hroom as u16,
        wrote as u16,
        true,
    )
    .with_dma_hint(layer as u64)
    .with_overflow(overflow);
    if !write_rcd(dma, q, al, cnt) {
        return Delivery::Dropped;
    }

    // The payload buffers.
    let mut off = h;
    for _ in 0..npay {
        let Some(bd) = take_buffer(dma, &mut q.ppq, cnt) else {
            truncated = true;
            break;
        };
        let n = if truncated { 0 } else { cap.min(len - off) };
        let mut wrote = n;
        if n > 0 && dma.write(bd.addr(), &f[off..off + n]).is_err() {
            truncated = true;
            wrote = 0;
        }
        off += n;
        let al = Rcd::al(RcdType::PayAl, bd.id() as u16, 0, wrote as u16, true);
        if !write_rcd(dma, q, al, cnt) {
            return Delivery::Dropped;
        }
    }
    if off < len {
        truncated = true;
    }
    finish(dma, cnt, q, info, truncated, len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::Ring;

    /// A queue whose PPQ (16 entries, in `ring`) is mapped at IOVA 0x1000 and running.
    fn queue_with_ppq(dma: &mut DmaTable, ring: &mut [u64; 16]) -> Queue {
        dma.map(0x1000, ring.as_mut_ptr().cast(), 16 * 8).unwrap();
        Queue {
            ppq: Ring {
                state: RingState::Running,
                base: 0x1000,
                entries: 16,
                mask: 15,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn split_point_takes_the_deepest_asked_layer_present() {
        let udp = crate::parse::tests::ipv4_frame(false, [1, 2, 3, 4], [5, 6, 7, 8], 1, 2, 40);
        for (hint, want) in [
            (0, (80, DMA_HINT_NONE)),
            (1, (14, DMA_HINT_L2)),
            (2, (34, DMA_HINT_L3)),
            (3, (34, DMA_HINT_L3)),
            (4, (42, DMA_HINT_L4)),
            (5, (42, DMA_HINT_L4)),
            (0xf8, (80, DMA_HINT_NONE)),
        ] {
            assert_eq!(split_point(&udp, hint, 80), want, "hint {hint:#x}");
        }
        // A later IPv4 fragment has no L4 header: L4 falls back to L3.
        let mut frag = udp.clone();
        frag[20] = 0x00;
        frag[21] = 0x10;
        frag[24..26].copy_from_slice(&[0, 0]);
        let c = crate::csum::checksum(&frag[14..34]);
        frag[24..26].copy_from_slice(&c.to_be_bytes());
        assert_eq!(split_point(&frag, DMA_HINT_L4, 80), (34, DMA_HINT_L3));
        // Too short for an Ethernet header: a length split.
        assert_eq!(
            split_point(&udp[..10], DMA_HINT_L4, 80),
            (80, DMA_HINT_NONE)
        );
    }

    #[test]
    fn prime_looks_ahead_once_per_buffer_and_never_faults() {
        let mut dma = DmaTable::default();
        let mut ring = [0u64; 16];
        let mut buf = vec![0u8; 4096];
        // Entry 0: a mapped buffer; entry 1: an address nothing maps.
        ring[0] = BdqDesc::new(0x10_0000, 0).raw();
        ring[1] = BdqDesc::new(0x20_0000, 1).raw();
        let mut q = queue_with_ppq(&mut dma, &mut ring);
        dma.map(0x10_0000, buf.as_mut_ptr(), buf.len()).unwrap();

        // Nothing posted yet: nothing to look at.
        prime(&mut dma, &mut q);
        assert_eq!(q.primed, 0);
        q.ppq.sw = 2;
        prime(&mut dma, &mut q);
        let key = 1 << 31; // head 0, phase 1
        assert_eq!(q.primed, key);
        // The head moves on to the unmapped buffer: looked at, no fault counted (the write
        // of a frame there will count it).
        q.ppq.advance(1);
        prime(&mut dma, &mut q);
        assert_eq!(q.primed, 1 | key);
        assert_eq!((dma.faults, dma.dirty), (0, false));
        // A ring the region table does not hold: no fault either.
        q.ppq.base = 0x9000;
        q.ppq.map = Default::default();
        q.ppq.advance(1);
        q.ppq.sw = 5;
        prime(&mut dma, &mut q);
        assert_eq!(q.primed, 2 | key);
        assert_eq!(dma.faults, 0);
    }
}
