//! `rte_mbuf` and `rte_mempool` behind the fast path's buffer traits.
//!
//! Rx refills take raw mbufs from the mempool (its per-lcore cache, one call per burst) and
//! initialise each with a single 8-byte store of the "rearm" word (data_off, refcnt, nb_segs,
//! port), as DPDK's vector PMDs do. Packet type and offload flags come from a small table
//! indexed by the META completion's type and checksum bits, built once per queue.

use core::mem::MaybeUninit;
use core::ptr::NonNull;

use dpdk_sys as sys;
use fbnic_hw::csum;
use fbnic_hw::desc::{L3Type, L4Type, Rcd, Twd};

use crate::buf::{PktBuf, RxPool};
use crate::error::{Error, Result};
use crate::prefetch;
use crate::rpc::{self, RssHash};

const HEADROOM: u16 = sys::RTE_PKTMBUF_HEADROOM as u16;
const REARM_OFF: usize = core::mem::offset_of!(sys::rte_mbuf, rearm_data);

/// An `rte_mbuf` pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(transparent)]
pub struct Mbuf(NonNull<sys::rte_mbuf>);

impl Mbuf {
    /// Wraps a pointer from DPDK.
    #[inline(always)]
    pub fn new(m: *mut sys::rte_mbuf) -> Option<Self> {
        NonNull::new(m).map(Self)
    }

    /// The raw pointer.
    #[inline(always)]
    pub fn as_ptr(self) -> *mut sys::rte_mbuf {
        self.0.as_ptr()
    }

    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    fn m(&self) -> &mut sys::rte_mbuf {
        // SAFETY: an Mbuf handle is only created for mbufs the holder owns (taken from a
        // mempool, handed to tx_burst, or held in a ring slot); DPDK's ownership rule makes the
        // holder the only one touching it, and no reference escapes the call.
        unsafe { &mut *self.0.as_ptr() }
    }

    #[inline(always)]
    fn set_rearm(self, word: u64) {
        // SAFETY: rearm_data is the 8-byte aligned 8 bytes (data_off, refcnt, nb_segs, port)
        // at offset 16 of the mbuf (pinned by dpdk-sys layout tests); we own the mbuf.
        unsafe {
            self.0
                .as_ptr()
                .cast::<u8>()
                .add(REARM_OFF)
                .cast::<u64>()
                .write(word)
        }
    }
}

/// Packet type and offload flags for one combination of META bits.
#[derive(Clone, Copy, Debug, Default)]
struct RxFlags {
    ptype: u32,
    ol_flags: u64,
    /// A TCP/UDP checksum the device did not mark verified, with L4 checksum offload on:
    /// the driver works out good or bad from META L2_CSUM ([`crate::rxcsum`]).
    verify_l4: bool,
}

/// Index into the flags table: META bits 48..55, i.e. L3 type (2 bits), L4 type (2 bits),
/// L4 checksum verified, MAC and truncation errors (packets with those never get here:
/// their entries repeat the ones without) and parser error, as they lie in the word.
#[inline(always)]
fn flags_index(meta: Rcd) -> usize {
    (meta.raw() >> FLAGS_SHIFT) as usize & (FLAGS - 1)
}

/// META bit where [`flags_index`] starts (L3 type), and the table's size.
const FLAGS_SHIFT: u32 = 48;
const FLAGS: usize = 256;

/// The mempool an Rx queue refills from, and how it fills mbufs.
#[derive(Debug)]
pub struct MbufRxPool {
    mp: NonNull<sys::rte_mempool>,
    rearm: u64,
    room: u32,
    flags: Box<[RxFlags; FLAGS]>,
    /// The Rx timestamp dynamic field's offset and flag, when the offload is on.
    stamp: Option<(usize, u64)>,
}

// SAFETY: the mempool is a process-shared DPDK object designed for use from any lcore; the
// queue owning this pool is used by one lcore at a time.
unsafe impl Send for MbufRxPool {}

impl MbufRxPool {
    /// A pool over `mp` for port `port_id`, reporting the offloads enabled in `rx_offloads`
    /// and RSS hashes for the packet kinds `rss` hashes. With the timestamp offload, it
    /// registers DPDK's Rx timestamp dynamic field and flag (if no one has yet) and reports
    /// timestamps there; that registration is what can fail.
    ///
    /// # Safety
    /// `mp` must be a valid pktmbuf pool that outlives the queue.
    pub unsafe fn new(
        mp: NonNull<sys::rte_mempool>,
        port_id: u16,
        rx_offloads: u64,
        rss: RssHash,
    ) -> Result<Self> {
        // SAFETY: mp is a valid pktmbuf pool (caller).
        let data_room = unsafe { sys::fbnic_pktmbuf_data_room_size(mp.as_ptr()) } as u32;
        let rearm = HEADROOM as u64 | 1 << 16 | 1 << 32 | (port_id as u64) << 48;
        let mut flags = Box::new([RxFlags::default(); FLAGS]);
        let ip_ck = rx_offloads & sys::RTE_ETH_RX_OFFLOAD_IPV4_CKSUM != 0;
        let l4_ck = rx_offloads
            & (sys::RTE_ETH_RX_OFFLOAD_TCP_CKSUM | sys::RTE_ETH_RX_OFFLOAD_UDP_CKSUM)
            != 0;
        let hash = rx_offloads & sys::RTE_ETH_RX_OFFLOAD_RSS_HASH != 0;
        for (i, f) in flags.iter_mut().enumerate() {
            let meta = Rcd::from_raw((i as u64) << FLAGS_SHIFT);
            let l3 = meta.l3_type();
            let l4 = meta.l4_type();
            let l4_good = meta.l4_csum_unnecessary();
            let parser_err = meta.err_parser();
            let mut ptype = sys::RTE_PTYPE_L2_ETHER;
            let mut ol = 0u64;
            match l3 {
                L3Type::Ipv4 => {
                    ptype |= sys::RTE_PTYPE_L3_IPV4_EXT_UNKNOWN;
                    if ip_ck {
                        ol |= if parser_err {
                            sys::RTE_MBUF_F_RX_IP_CKSUM_BAD
                        } else {
                            sys::RTE_MBUF_F_RX_IP_CKSUM_GOOD
                        };
                    }
                }
                L3Type::Ipv6 | L3Type::V6V6 => ptype |= sys::RTE_PTYPE_L3_IPV6_EXT_UNKNOWN,
                L3Type::Other => {}
            }
            if l3 != L3Type::Other {
                match l4 {
                    L4Type::Tcp => ptype |= sys::RTE_PTYPE_L4_TCP,
                    L4Type::Udp => ptype |= sys::RTE_PTYPE_L4_UDP,
                    L4Type::Other => {}
                }
                // L4_CSUM_UNNECESSARY clear is not "bad": the device also leaves it clear for
                // checksums it does not verify (UDP over IPv4 without a checksum, fragments),
                // as Linux's CHECKSUM_COMPLETE fallback. The driver then looks at the headers
                // and works it out from L2_CSUM (`rx_complete`).
                if l4 != L4Type::Other && l4_ck && l4_good {
                    ol |= sys::RTE_MBUF_F_RX_L4_CKSUM_GOOD;
                }
            }
            let verify_l4 = l3 != L3Type::Other && l4 != L4Type::Other && l4_ck && !l4_good;
            if hash && rpc::is_hashed(l3, l4, rss) {
                ol |= sys::RTE_MBUF_F_RX_RSS_HASH;
            }
            *f = RxFlags {
                ptype,
                ol_flags: ol,
                // An IPv4 header with a bad checksum (the parser error) ends the verdicts.
                verify_l4: verify_l4 && !parser_err,
            };
        }
        let stamp = if rx_offloads & sys::RTE_ETH_RX_OFFLOAD_TIMESTAMP != 0 {
            Some(rx_timestamp_field()?)
        } else {
            None
        };
        Ok(Self {
            mp,
            rearm,
            room: data_room.saturating_sub(HEADROOM as u32),
            flags,
            stamp,
        })
    }

    /// The mempool.
    pub fn mempool(&self) -> NonNull<sys::rte_mempool> {
        self.mp
    }
}

impl RxPool for MbufRxPool {
    type Buf = Mbuf;

    #[inline(always)]
    fn alloc_bulk(&mut self, out: &mut [MaybeUninit<Mbuf>]) -> bool {
        // SAFETY: Mbuf is a transparent non-null pointer, so out is an array of `void *` slots;
        // the mempool fills all of them or none (returns non-zero).
        unsafe {
            sys::fbnic_mempool_get_bulk(self.mp.as_ptr(), out.as_mut_ptr().cast(), out.len() as u32)
                == 0
        }
    }

    fn free_unused(&mut self, bufs: &[Mbuf]) {
        // SAFETY: these mbufs came from this pool by alloc_bulk and were never modified (refcnt
        // 1, one segment, no next), so a raw put is correct.
        unsafe {
            sys::fbnic_mempool_put_bulk(self.mp.as_ptr(), bufs.as_ptr().cast(), bufs.len() as u32)
        }
    }

    #[inline(always)]
    fn data_room(&self) -> u32 {
        self.room
    }

    #[inline(always)]
    fn rx_dma_addr(&self, buf: Mbuf) -> u64 {
        buf.m().buf_iova + HEADROOM as u64
    }

    #[inline(always)]
    fn rx_first(&self, buf: Mbuf, off: u16, len: u16) {
        // `next` is already NULL: the mempool only holds mbufs with next == NULL and
        // nb_segs == 1 (DPDK's raw free contract), so the second cache line stays untouched.
        buf.set_rearm(self.rearm + off as u64);
        let m = buf.m();
        m.data_len = len;
        m.pkt_len = len as u32;
    }

    #[inline(always)]
    fn rx_append(&self, _head: Mbuf, last: Mbuf, seg: Mbuf, off: u16, len: u16) {
        seg.set_rearm(self.rearm + off as u64);
        let s = seg.m();
        s.data_len = len;
        s.ol_flags = 0;
        last.m().next = seg.as_ptr();
    }

    #[inline(always)]
    fn rx_complete(&self, buf: Mbuf, pkt_len: u32, nb_segs: u16, meta: Rcd) -> bool {
        let f = self.flags[flags_index(meta)];
        let m = buf.m();
        m.pkt_len = pkt_len;
        if nb_segs != 1 {
            m.nb_segs = nb_segs;
        }
        m.ol_flags = f.ol_flags;
        m.__bindgen_anon_1.packet_type = f.ptype;
        m.__bindgen_anon_2.hash.rss = meta.rss_hash() as u32;
        if f.verify_l4 && nb_segs == 1 {
            // The headers and the padding: the first and the last line of the data.
            let data = (m.buf_addr as *const u8).wrapping_add(m.data_off as usize);
            prefetch::read(data);
            prefetch::read(data.wrapping_add(pkt_len.saturating_sub(1) as usize));
            return true;
        }
        false
    }

    #[inline(never)]
    #[cold]
    fn rx_inspect(&self, buf: Mbuf, meta: Rcd) {
        let m = buf.m();
        m.ol_flags |= l4_verdict(m, meta.l2_csum() as u16);
    }

    #[cold]
    fn rx_stamp(&self, buf: Mbuf, ns: u64, ieee1588: bool) -> bool {
        let m = buf.m();
        if let Some((off, flag)) = self.stamp {
            // SAFETY: the dynamic field registered for rte_mbuf_timestamp_t (u64) lies at
            // `off` inside every mbuf, 8-byte aligned (DPDK's registration contract).
            unsafe { ((m as *mut sys::rte_mbuf).cast::<u8>().add(off) as *mut u64).write(ns) };
            m.ol_flags |= flag;
        }
        if !ieee1588 || m.data_len < 14 {
            return false;
        }
        // SAFETY: the first segment holds data_len >= 14 bytes from buf_addr + data_off.
        let et = unsafe {
            let p = (m.buf_addr as *const u8).add(m.data_off as usize + 12);
            u16::from_be_bytes([*p, *p.add(1)])
        };
        let ptp = et == crate::ptp::ETHER_TYPE_PTP;
        if ptp {
            m.ol_flags |= sys::RTE_MBUF_F_RX_IEEE1588_PTP | sys::RTE_MBUF_F_RX_IEEE1588_TMST;
        }
        ptp
    }
}

/// The META for a packet's checksum and segmentation offload requests (`ol`: its ol_flags).
fn offload_meta(m: &mut sys::rte_mbuf, ol: u64) -> Twd {
    const SEG: u64 = sys::RTE_MBUF_F_TX_TCP_SEG | sys::RTE_MBUF_F_TX_UDP_SEG;
    if ol & (sys::RTE_MBUF_F_TX_IP_CKSUM | sys::RTE_MBUF_F_TX_L4_MASK | SEG) == 0 {
        return Twd::meta();
    }
    // SAFETY: tx_offload is the u64 view of the l2_len/l3_len/... bitfields.
    let tx = unsafe { m.__bindgen_anon_3.tx_offload };
    let l2_len = tx & 0x7f;
    let l3_len = (tx >> 7) & 0x1ff;
    let l3 = if ol & sys::RTE_MBUF_F_TX_IPV6 != 0 {
        L3Type::Ipv6
    } else {
        L3Type::Ipv4
    };
    if ol & SEG != 0 {
        // LSO (checked by tx_prepare): it implies the checksums (no REQ_CSO). Without
        // tx_prepare a value too wide for its field goes as 0, which the device refuses
        // (a counted Tx error that still returns the buffers), never truncated.
        let fit = |v: u64, max: u64| if v > max { 0 } else { v };
        let l4_hlen = fit(((tx >> 16) & 0xff) / 4, 0xf);
        let mss = fit((tx >> 24) & 0xffff, fbnic_hw::desc::LSO_MAX_MSS as u64);
        let tcp = ol & sys::RTE_MBUF_F_TX_TCP_SEG != 0;
        let (l4, csum_off) = if tcp {
            (L4Type::Tcp, 16 / 2)
        } else {
            (L4Type::Udp, 6 / 2)
        };
        return Twd::meta()
            .with_req_lso(true)
            .with_l2_hlen(l2_len / 2)
            .with_l3_type(l3 as u64)
            .with_l3_ihlen(l3_len / 2)
            .with_l4_type(l4 as u64)
            .with_l4_hlen(l4_hlen)
            .with_csum_offset(csum_off)
            .with_mss(mss);
    }
    let (l4, csum_off) = match ol & sys::RTE_MBUF_F_TX_L4_MASK {
        sys::RTE_MBUF_F_TX_TCP_CKSUM => (L4Type::Tcp, 16 / 2),
        sys::RTE_MBUF_F_TX_UDP_CKSUM => (L4Type::Udp, 6 / 2),
        _ => (L4Type::Other, 0),
    };
    if l4 == L4Type::Other {
        // Only the IPv4 header checksum was asked for. REQ_CSO always stores an L4
        // checksum at CSUM_OFFSET (it would land in the payload), so compute this one here.
        if ol & sys::RTE_MBUF_F_TX_IP_CKSUM != 0 && l3 == L3Type::Ipv4 {
            ipv4_header_checksum(m, l2_len as usize, l3_len as usize);
        }
        return Twd::meta();
    }
    Twd::meta()
        .with_req_cso(true)
        .with_l2_hlen(l2_len / 2)
        .with_l3_type(l3 as u64)
        .with_l3_ihlen(l3_len / 2)
        .with_l4_type(l4 as u64)
        .with_csum_offset(csum_off)
}

/// DPDK's Rx timestamp dynamic field and flag mask, registered if no one has yet.
fn rx_timestamp_field() -> Result<(usize, u64)> {
    let mut off = 0;
    let mut flag = 0u64;
    // SAFETY: two out-parameters of the documented types.
    let rc = unsafe { sys::rte_mbuf_dyn_rx_timestamp_register(&mut off, &mut flag) };
    if rc != 0 || off < 0 {
        return Err(Error::NoMemory(
            "cannot register the mbuf Rx timestamp dynamic field".into(),
        ));
    }
    Ok((off as usize, flag))
}

/// The L4 checksum flag of a received single-segment packet the device did not mark
/// verified: from its headers and padding and the device's complete sum.
fn l4_verdict(m: &sys::rte_mbuf, l2_csum: u16) -> u64 {
    // SAFETY: a received single-segment mbuf holds data_len bytes from buf_addr + data_off
    // (the device wrote them before the completion the driver has just read); the driver
    // owns the mbuf until rx_burst returns it.
    let frame = unsafe {
        core::slice::from_raw_parts(
            (m.buf_addr as *const u8).add(m.data_off as usize),
            m.data_len as usize,
        )
    };
    match crate::rxcsum::verdict(frame, l2_csum) {
        crate::rxcsum::L4Verdict::Good => sys::RTE_MBUF_F_RX_L4_CKSUM_GOOD,
        crate::rxcsum::L4Verdict::Bad => sys::RTE_MBUF_F_RX_L4_CKSUM_BAD,
        crate::rxcsum::L4Verdict::Unknown => 0,
    }
}

/// Fills in the IPv4 header checksum of a packet to transmit (first segment, at `l2_len`).
/// A request whose header does not fit the first segment is left alone.
#[cold]
fn ipv4_header_checksum(m: &mut sys::rte_mbuf, l2_len: usize, l3_len: usize) {
    if l3_len < 20 || l2_len + l3_len > m.data_len as usize {
        return;
    }
    // SAFETY: the first segment holds data_len bytes from buf_addr + data_off and the header
    // lies within them (checked); the driver owns the mbuf during tx_burst.
    let hdr = unsafe {
        core::slice::from_raw_parts_mut(
            (m.buf_addr as *mut u8).add(m.data_off as usize + l2_len),
            l3_len,
        )
    };
    hdr[10] = 0;
    hdr[11] = 0;
    let sum = csum::fold(csum::add(0, hdr));
    hdr[10..12].copy_from_slice(&(!sum).to_be_bytes());
}

impl PktBuf for Mbuf {
    fn free_pkt(self) {
        // SAFETY: we own the packet; rte_pktmbuf_free handles chains and refcounts.
        unsafe { sys::fbnic_pktmbuf_free(self.as_ptr()) }
    }

    #[inline(always)]
    fn tx_nb_segs(self) -> u16 {
        self.m().nb_segs
    }

    #[inline(always)]
    fn tx_seg(self) -> (u64, u16) {
        let m = self.m();
        (m.buf_iova + m.data_off as u64, m.data_len)
    }

    #[inline(always)]
    fn tx_next(self) -> Option<Self> {
        Mbuf::new(self.m().next)
    }

    #[inline(always)]
    fn tx_meta(self) -> Twd {
        const SEG: u64 = sys::RTE_MBUF_F_TX_TCP_SEG | sys::RTE_MBUF_F_TX_UDP_SEG;
        const TS: u64 = sys::RTE_MBUF_F_TX_IEEE1588_TMST;
        let ol = self.m().ol_flags;
        if ol & (sys::RTE_MBUF_F_TX_IP_CKSUM | sys::RTE_MBUF_F_TX_L4_MASK | SEG | TS) == 0 {
            return Twd::meta();
        }
        // A Tx timestamp (TCD type 1) goes with whatever else the packet asks for.
        offload_meta(self.m(), ol).with_req_ts(ol & TS != 0)
    }

    #[inline(always)]
    fn free_sent(pkts: &[Self], fast: bool) {
        if pkts.is_empty() {
            return;
        }
        if fast {
            let mp = pkts[0].m().pool;
            // SAFETY: fast free: the application guarantees one pool and refcount 1, and these
            // are single-segment packets the device has finished with.
            unsafe { sys::fbnic_mempool_put_bulk(mp, pkts.as_ptr().cast(), pkts.len() as u32) }
        } else {
            // SAFETY: the device has finished with these packets; rte_pktmbuf_free_bulk handles
            // chains, refcounts and mixed pools. It does not modify the pointer array.
            unsafe {
                sys::rte_pktmbuf_free_bulk(
                    pkts.as_ptr() as *mut *mut sys::rte_mbuf,
                    pkts.len() as u32,
                )
            }
        }
    }
}
