//! The Tx engine: TWQ descriptors -> frames -> MAC, and TCQ completions (spec 4.1, 4.2).
//!
//! A packet is `META [OPT_META] AL* LAST_AL`; it is processed only when its LAST_AL is before
//! the tail doorbell. Malformed packets (AL without META, a zero-length piece, more than
//! [`MAX_PIECES`] pieces, a frame over 9742 bytes, checksum offsets outside the frame, an LSO
//! request the device cannot cut, a DMA fault) are dropped and counted in TWQ0_ERR_CNT, but
//! their descriptors are still consumed and completed, so the driver gets its buffers back.
//! An LSO packet ([`crate::lso`]) leaves as several frames, each counted in TWQ0_PKT_CNT; a
//! pause part way through one resumes at the next segment.

use fbnic_hw::desc::{L3Type, L4Type, Tcd, Twd, TwdType, TCD_TYPE_TS};
use fbnic_hw::regs::{self, MacCommandConfig};

use crate::csum;
use crate::dma::DmaTable;
use crate::lso::{self, LsoResume, LsoState, MAX_LSO_BYTES};
use crate::mac::{FrameClass, MacDirStats, Offer, PortRx, MAX_FRAME, MIN_FRAME};
use crate::queue::{QCounters, Queue, Ring, RingState};
use crate::regfile::RegFile;
use crate::stats::Counters;
use crate::wire::{OutsideShared, SinkInner};

/// **[project choice]** Most address descriptors one packet may use.
pub(crate) const MAX_PIECES: usize = 64;
/// How far ahead of the descriptor being read the Tx engine fetches (descriptors).
const PREFETCH_AHEAD: u32 = 32;
/// Packets one TWQ processes per engine pass.
pub(crate) const TX_BATCH: usize = 256;

/// Where the MAC's transmitted frames go this batch.
pub(crate) enum Out<'a> {
    /// Into a port's RXB (a cable peer, a loop plug, or MAC loopback).
    Port {
        rx: &'a mut PortRx,
        regs: &'a RegFile,
    },
    /// Into a sink.
    Sink(&'a mut SinkInner),
    /// To a link partner outside the model.
    Outside(&'a OutsideShared),
    /// No wire: counted and discarded.
    Nowhere,
}

/// Everything the Tx engine needs for one device's batch.
pub(crate) struct TxEnv<'a> {
    pub regs: &'a RegFile,
    pub dma: &'a mut DmaTable,
    pub cfg: MacCommandConfig,
    pub out: Out<'a>,
    pub mac: &'a mut MacDirStats,
    pub cnt: &'a mut Counters,
    pub bmc: Option<&'a crate::bmc::BmcShared>,
    pub scratch: &'a mut [u8],
    /// LSO's gather buffer and resume points.
    pub lso: &'a mut LsoState,
    /// The clock that stamps frames sent with REQ_TS.
    pub ptp: &'a crate::ptp::PtpClock,
    /// A pause stalled the sender during this batch.
    pub paused: bool,
}

impl TxEnv<'_> {
    /// Sends one frame of `len` bytes that `fill` produces through the MAC onto the wire.
    #[inline]
    pub fn transmit<F>(&mut self, len: usize, mut fill: F) -> Offer
    where
        F: FnMut(&mut DmaTable, &mut [u8]) -> bool,
    {
        if !self.cfg.tx_ena() {
            self.cnt.tx_mac_disabled += 1;
            return Offer::Dropped;
        }
        let honours = !self.cfg.rx_pause_dis();
        let dma = &mut *self.dma;
        let mac = &mut *self.mac;
        match &mut self.out {
            Out::Port { rx, regs } => {
                let mut filled = false;
                let r = rx.offer(regs, len, honours, |buf| {
                    filled = true;
                    if !fill(dma, buf) {
                        return None;
                    }
                    let c = FrameClass::of(buf);
                    mac.add(c);
                    Some(c)
                });
                match r {
                    Offer::Dropped if !filled => {
                        let buf = &mut self.scratch[..len];
                        if fill(dma, buf) {
                            mac.add(FrameClass::of(buf));
                            Offer::Dropped
                        } else {
                            Offer::Fault
                        }
                    }
                    Offer::Paused => {
                        if !self.paused {
                            self.paused = true;
                            mac.xoff += 1;
                            mac.dirty = true;
                        }
                        Offer::Paused
                    }
                    r => r,
                }
            }
            out => {
                // Not into a port: the frame leaves through the scratch buffer.
                let buf = &mut self.scratch[..len];
                if !fill(dma, buf) {
                    return Offer::Fault;
                }
                mac.add(FrameClass::of(buf));
                match out {
                    Out::Sink(s) => {
                        s.record(buf);
                        Offer::Accepted
                    }
                    Out::Outside(o) => {
                        o.send(buf);
                        Offer::Accepted
                    }
                    _ => {
                        self.cnt.tx_no_wire += 1;
                        Offer::Dropped
                    }
                }
            }
        }
    }
}

/// Result of scanning one packet's descriptors.
struct Scan {
    /// Descriptors the packet spans.
    n: u32,
    meta: Option<Twd>,
    pieces: usize,
    total: usize,
    bad: bool,
}

/// Scans the packet at the ring head; None = incomplete (wait for more descriptors) or a ring
/// fault (the ring is then marked faulted).
fn scan(
    ring: &mut Ring,
    dma: &mut DmaTable,
    pieces: &mut [(u64, u16); MAX_PIECES],
    cnt: &mut Counters,
) -> Option<Scan> {
    let avail = ring.pending();
    let mut s = Scan {
        n: 0,
        meta: None,
        pieces: 0,
        total: 0,
        bad: false,
    };
    let mut i = 0;
    while i < avail {
        let at = ring.idx + i;
        let raw = match ring.read(dma, at) {
            Ok(v) => v,
            Err(_) => {
                ring.state = RingState::Faulted;
                cnt.ring_faults += 1;
                return None;
            }
        };
        let d = Twd::from_raw(raw);
        match d.ty() {
            TwdType::Meta => {
                if i > 0 {
                    // A new packet starts before this one ended: this one is malformed.
                    s.n = i;
                    s.bad = true;
                    return Some(s);
                }
                s.meta = Some(d);
            }
            TwdType::OptMeta => {
                if i != 1 || s.meta.is_none() {
                    s.bad = true;
                }
            }
            TwdType::Al | TwdType::LastAl => {
                if s.meta.is_none() || d.len() == 0 {
                    s.bad = true;
                }
                if s.pieces < MAX_PIECES {
                    pieces[s.pieces] = (d.addr(), d.len() as u16);
                } else {
                    s.bad = true;
                }
                s.pieces += 1;
                s.total += d.len() as usize;
                if d.ty() == TwdType::LastAl {
                    s.n = i + 1;
                    return Some(s);
                }
            }
        }
        i += 1;
    }
    if avail == ring.mask && avail > 0 {
        // The ring is full and holds no complete packet: consume it all as malformed so the
        // queue cannot deadlock.
        s.n = avail;
        s.bad = true;
        return Some(s);
    }
    None
}

/// Reads a packet's pieces into the start of `buf` (at least their total long); the bytes
/// gathered, or None on a DMA fault.
#[inline(always)]
fn gather(dma: &mut DmaTable, pieces: &[(u64, u16)], buf: &mut [u8]) -> Option<usize> {
    let mut off = 0;
    for &(addr, len) in pieces {
        let len = len as usize;
        dma.read(addr, &mut buf[off..off + len]).ok()?;
        off += len;
    }
    Some(off)
}

/// Gathers a packet into `buf` (already sized to the padded length) and applies checksum
/// offloads. False on a DMA fault or an offload that does not fit the frame.
fn build(
    dma: &mut DmaTable,
    pieces: &[(u64, u16)],
    meta: Twd,
    total: usize,
    buf: &mut [u8],
) -> bool {
    let Some(off) = gather(dma, pieces, buf) else {
        return false;
    };
    if off < buf.len() {
        buf[off..].fill(0);
    }
    if meta.req_cso() {
        let l2 = meta.l2_hlen() as usize * 2;
        let start = l2 + meta.l3_ihlen() as usize * 2;
        let field = start + meta.csum_offset() as usize * 2;
        if field + 2 > total || start >= total {
            return false;
        }
        if L3Type::from_bits(meta.l3_type()) == L3Type::Ipv4 {
            // [project choice] also (re)compute the IPv4 header checksum.
            if l2 + 20 > total {
                return false;
            }
            let ihl = (buf[l2] & 0xf) as usize * 4;
            if ihl < 20 || l2 + ihl > total {
                return false;
            }
            buf[l2 + 10] = 0;
            buf[l2 + 11] = 0;
            let c = csum::checksum(&buf[l2..l2 + ihl]);
            buf[l2 + 10..l2 + 12].copy_from_slice(&c.to_be_bytes());
        }
        // The field holds the pseudo-header sum; the result covers [start, total).
        let mut c = !csum::fold(csum::add(0, &buf[start..total]));
        if c == 0 && L4Type::from_bits(meta.l4_type()) == L4Type::Udp {
            c = 0xffff;
        }
        buf[field..field + 2].copy_from_slice(&c.to_be_bytes());
    }
    true
}

/// What became of an LSO packet.
enum Lso {
    /// Every segment went to the MAC: `frames` of `bytes` in all.
    Done { frames: u32, bytes: usize },
    /// The link partner paused us after `sent` segments: the rest go on the next pass.
    Paused { sent: u32 },
    /// Malformed, or a DMA fault: an error, nothing (more) sent.
    Bad,
}

/// Sends the LSO packet at the head of a TWQ (resuming after the segments a pause left
/// sent) and counts it. True = paused: the packet stays at the head for the next pass.
#[cold]
#[inline(never)]
fn lso_packet(
    env: &mut TxEnv<'_>,
    (qi, twq): (u16, u8),
    cnt: &mut QCounters,
    pieces: &[(u64, u16)],
    meta: Twd,
    total: usize,
) -> bool {
    let at = env
        .lso
        .resume
        .iter()
        .position(|r| (r.qi, r.twq) == (qi, twq));
    let from = at.map_or(0, |i| env.lso.resume[i].sent);
    if let Some(i) = at {
        env.lso.resume.swap_remove(i);
    }
    match send_lso(env, pieces, meta, total, from) {
        Lso::Paused { sent } => {
            env.lso.resume.push(LsoResume { qi, twq, sent });
            return true;
        }
        Lso::Done { frames, bytes } => {
            cnt.twq_pkt = cnt.twq_pkt.wrapping_add(frames);
            cnt.twq_bytes = cnt.twq_bytes.wrapping_add(bytes as u64);
        }
        Lso::Bad => cnt.twq_err = cnt.twq_err.wrapping_add(1),
    }
    false
}

/// Gathers an LSO packet and sends its segments from `from` on (see [`crate::lso`]).
fn send_lso(env: &mut TxEnv<'_>, pieces: &[(u64, u16)], meta: Twd, total: usize, from: u32) -> Lso {
    // [project choice] LSO is for the MAC: not to the BMC or the firmware.
    if meta.dest_bmc() || meta.dest_fw() || total > MAX_LSO_BYTES {
        return Lso::Bad;
    }
    let mut pkt = std::mem::take(&mut env.lso.buf);
    pkt.resize(total, 0);
    let gathered = gather(env.dma, pieces, &mut pkt).is_some();
    let res = match lso::plan(meta, &pkt).filter(|_| gathered) {
        None => Lso::Bad,
        Some(plan) => {
            let tx_pad = env.cfg.tx_pad();
            let pad = |len: usize| if tx_pad { len.max(MIN_FRAME) } else { len };
            let mut res = None;
            for k in from as usize..plan.count {
                let len = plan.seg_len(total, k);
                let offer = env.transmit(pad(len), |_, buf| {
                    plan.write_segment(&pkt, k, &mut buf[..len]);
                    buf[len..].fill(0);
                    true
                });
                if let Offer::Paused = offer {
                    res = Some(Lso::Paused { sent: k as u32 });
                    break;
                }
            }
            res.unwrap_or_else(|| Lso::Done {
                frames: plan.count as u32,
                bytes: (0..plan.count).map(|k| pad(plan.seg_len(total, k))).sum(),
            })
        }
    };
    env.lso.buf = pkt;
    res
}

/// Writes one TCD; false if the TCQ cannot take it.
fn write_tcd(dma: &mut DmaTable, tcq: &mut Ring, tcd: Tcd, cnt: &mut Counters) {
    if !tcq.running() {
        cnt.tcq_lost += 1;
        return;
    }
    let tcd = tcd.with_done(tcq.phase);
    let idx = tcq.idx;
    if tcq.write(dma, idx, tcd.raw()).is_err() {
        tcq.state = RingState::Faulted;
        cnt.ring_faults += 1;
        return;
    }
    tcq.advance(1);
}

/// Processes up to `budget` packets of TWQ `which` of queue `qi`. Returns packets done.
pub(crate) fn service_twq(
    env: &mut TxEnv<'_>,
    pieces: &mut [(u64, u16); MAX_PIECES],
    qi: u32,
    q: &mut Queue,
    which: usize,
    budget: usize,
) -> usize {
    let tail_reg = if which == 0 {
        regs::TWQ0_TAIL
    } else {
        regs::TWQ1_TAIL
    };
    let Queue {
        twq,
        tcq,
        cnt,
        dirty,
        ..
    } = q;
    let ring = &mut twq[which];
    if !ring.running() {
        return 0;
    }
    if ring.doorbell(env.regs, tail_reg.at(qi)) {
        cnt.twq_err = cnt.twq_err.wrapping_add(1);
        env.cnt.bad_doorbells += 1;
        *dirty = true;
    }
    if tcq.running() && tcq.doorbell(env.regs, regs::TCQ_HEAD.at(qi)) {
        env.cnt.bad_doorbells += 1;
    }
    // The driver wrote these descriptors on another core: fetch a few lines ahead of the one
    // being read (a window, not the whole batch: the core tracks only so many misses).
    for k in (0..PREFETCH_AHEAD).step_by(8) {
        ring.prefetch(env.dma, ring.idx + k, false);
    }
    let mut done = 0;
    while done < budget && ring.pending() != 0 {
        if ring.idx & 7 < 2 {
            ring.prefetch(env.dma, (ring.idx & !7) + PREFETCH_AHEAD, false);
        }
        let Some(s) = scan(ring, env.dma, pieces, env.cnt) else {
            break;
        };
        let meta = s.meta.unwrap_or_default();
        let want_cmpl = s.meta.is_some() && meta.req_completion();
        let want_ts = s.meta.is_some() && meta.req_ts();
        let need = want_cmpl as u32 + want_ts as u32;
        if need > 0 && tcq.running() && tcq.free() < need {
            let _ = tcq.doorbell(env.regs, regs::TCQ_HEAD.at(qi));
            if tcq.free() < need {
                break;
            }
        }
        // LSO takes the error path's branch, out of line, so the small-frame path is as it
        // was without it.
        let lso = meta.req_lso() && !s.bad;
        let mut bad = s.bad || lso || s.total > MAX_FRAME;
        let mut sent_len = 0;
        if !bad {
            let len = if env.cfg.tx_pad() {
                s.total.max(MIN_FRAME)
            } else {
                s.total
            };
            let pieces = &pieces[..s.pieces];
            let to_mac = meta.dest_mac() || !(meta.dest_bmc() || meta.dest_fw());
            if meta.dest_bmc() {
                let buf = &mut env.scratch[..len];
                if build(env.dma, pieces, meta, s.total, buf) {
                    match env.bmc {
                        Some(b) => {
                            env.cnt.host_to_bmc += 1;
                            b.receive(buf)
                        }
                        None => env.cnt.bmc_absent_drops += 1,
                    }
                } else {
                    bad = true;
                }
            }
            if meta.dest_fw() {
                env.cnt.tx_to_fw += 1;
            }
            if to_mac && !bad {
                let total = s.total;
                match env.transmit(len, |dma, buf| build(dma, pieces, meta, total, buf)) {
                    Offer::Paused => break,
                    Offer::Fault => bad = true,
                    Offer::Accepted | Offer::Dropped => {}
                }
            }
            sent_len = len;
        }
        if !bad {
            cnt.twq_pkt = cnt.twq_pkt.wrapping_add(1);
            cnt.twq_bytes = cnt.twq_bytes.wrapping_add(sent_len as u64);
        } else if !lso {
            cnt.twq_err = cnt.twq_err.wrapping_add(1);
        } else if lso_packet(
            env,
            (qi as u16, which as u8),
            cnt,
            &pieces[..s.pieces],
            meta,
            s.total,
        ) {
            break;
        }
        ring.advance(s.n);
        if want_cmpl || want_ts {
            // A completion the driver sees is covered by the counters it then reads.
            crate::queue::publish_tx_counters(env.regs, qi, cnt);
            env.dma.publish(env.regs);
        }
        if want_cmpl {
            let tcd = if which == 0 {
                Tcd::default().with_head0(ring.idx as u64)
            } else {
                Tcd::default().with_head1(ring.idx as u64).with_twq1(true)
            };
            write_tcd(env.dma, tcq, tcd, env.cnt);
        }
        if want_ts {
            let tcd = Tcd::default()
                .with_ty(TCD_TYPE_TS)
                .with_ts(env.ptp.stamp())
                .with_twq1(which == 1);
            write_tcd(env.dma, tcq, tcd, env.cnt);
        }
        *dirty = true;
        done += 1;
    }
    done
}
