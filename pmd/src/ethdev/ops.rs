//! The ethdev callbacks (`eth_dev_ops`) and the burst functions.

use core::ffi::{c_char, c_int, c_uint, c_void};
use core::mem::MaybeUninit;
use core::ptr::NonNull;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dpdk_sys as sys;
use fbnic_hw::desc::Rcd;
use fbnic_hw::link::{Fec, LinkSpeed};
use fbnic_hw::mac::MacAddr;
use fbnic_hw::regdump;

use super::{adapter, guard, Adapter, Mbuf, MbufRxPool, RxInfo, TxInfo, MAX_MAC_ADDRS};
use crate::error::{errno, Error, Result};
use crate::module::ModuleStandard;
use crate::port::{self, PortSettings, QueueSet};
use crate::queue::{self, Counter, QueueStats, MAX_TX_SEGS, MIN_DESC};
use crate::rpc::{self, RssHash, SplitHdrs, RETA_SIZE, RSS_KEY_LEN};
use crate::rx::{RxConfig, RxDescStatus, RxQueue, RxSplit};
use crate::tx::{TxConfig, TxDescStatus, TxQueue};

type RxQ = RxQueue<MbufRxPool>;
type TxQ = TxQueue<Mbuf>;

const RX_OFFLOADS: u64 = sys::RTE_ETH_RX_OFFLOAD_RSS_HASH
    | sys::RTE_ETH_RX_OFFLOAD_IPV4_CKSUM
    | sys::RTE_ETH_RX_OFFLOAD_UDP_CKSUM
    | sys::RTE_ETH_RX_OFFLOAD_TCP_CKSUM
    | sys::RTE_ETH_RX_OFFLOAD_SCATTER
    | sys::RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT;
/// Rx offloads for the whole port only: timestamps (the device stamps per action, and the
/// actions are the port's).
const RX_PORT_OFFLOADS: u64 = RX_OFFLOADS | sys::RTE_ETH_RX_OFFLOAD_TIMESTAMP;
const TX_OFFLOADS: u64 = sys::RTE_ETH_TX_OFFLOAD_MULTI_SEGS
    | sys::RTE_ETH_TX_OFFLOAD_IPV4_CKSUM
    | sys::RTE_ETH_TX_OFFLOAD_UDP_CKSUM
    | sys::RTE_ETH_TX_OFFLOAD_TCP_CKSUM
    | sys::RTE_ETH_TX_OFFLOAD_TCP_TSO
    | sys::RTE_ETH_TX_OFFLOAD_UDP_TSO
    | sys::RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
const RSS_IPV4: u64 =
    sys::RTE_ETH_RSS_IPV4 | sys::RTE_ETH_RSS_FRAG_IPV4 | sys::RTE_ETH_RSS_NONFRAG_IPV4_OTHER;
const RSS_IPV6: u64 =
    sys::RTE_ETH_RSS_IPV6 | sys::RTE_ETH_RSS_FRAG_IPV6 | sys::RTE_ETH_RSS_NONFRAG_IPV6_OTHER;
pub(super) const RSS_OFFLOADS: u64 = RSS_IPV4
    | RSS_IPV6
    | sys::RTE_ETH_RSS_NONFRAG_IPV4_TCP
    | sys::RTE_ETH_RSS_NONFRAG_IPV4_UDP
    | sys::RTE_ETH_RSS_NONFRAG_IPV6_TCP
    | sys::RTE_ETH_RSS_NONFRAG_IPV6_UDP;
/// Descriptor counts DPDK may ask for (u16): power of two up to 32768.
const MAX_DESC_U16: u32 = 32768;

pub(super) fn hash_from_hf(hf: u64) -> RssHash {
    RssHash {
        ipv4: hf & RSS_IPV4 != 0,
        ipv4_tcp: hf & sys::RTE_ETH_RSS_NONFRAG_IPV4_TCP != 0,
        ipv4_udp: hf & sys::RTE_ETH_RSS_NONFRAG_IPV4_UDP != 0,
        ipv6: hf & RSS_IPV6 != 0,
        ipv6_tcp: hf & sys::RTE_ETH_RSS_NONFRAG_IPV6_TCP != 0,
        ipv6_udp: hf & sys::RTE_ETH_RSS_NONFRAG_IPV6_UDP != 0,
    }
}

fn hf_from_hash(h: RssHash) -> u64 {
    let mut hf = 0;
    for (on, bits) in [
        (h.ipv4, RSS_IPV4),
        (h.ipv4_tcp, sys::RTE_ETH_RSS_NONFRAG_IPV4_TCP),
        (h.ipv4_udp, sys::RTE_ETH_RSS_NONFRAG_IPV4_UDP),
        (h.ipv6, RSS_IPV6),
        (h.ipv6_tcp, sys::RTE_ETH_RSS_NONFRAG_IPV6_TCP),
        (h.ipv6_udp, sys::RTE_ETH_RSS_NONFRAG_IPV6_UDP),
    ] {
        if on {
            hf |= bits;
        }
    }
    hf
}

fn check_hf(hf: u64) -> Result<()> {
    if hf & !RSS_OFFLOADS != 0 {
        return Err(Error::invalid(format!(
            "RSS hash types {:#x} not supported (supported: {RSS_OFFLOADS:#x})",
            hf & !RSS_OFFLOADS
        )));
    }
    Ok(())
}

/// Control callbacks share this shape: find the adapter, run the body under the guard.
macro_rules! with_adapter {
    ($dev:expr, $what:literal, |$a:ident| $body:expr) => {{
        // SAFETY: ethdev passes a port of this driver.
        match unsafe { adapter($dev) } {
            Some($a) => guard($what, Some(&$a.name), || $body),
            None => -errno::ENODEV,
        }
    }};
}

// ----------------------------------------------------------------------------------------
// Queues as the port sees them
// ----------------------------------------------------------------------------------------

/// The port's queues, reached through the ethdev data.
struct DevQueues<'a> {
    a: &'a Adapter,
}

impl DevQueues<'_> {
    // The queue lives in DPDK-owned memory reached through a raw pointer, not in `self`.
    #[allow(clippy::mut_from_ref)]
    fn rxq(&self, i: u16) -> Option<&mut RxQ> {
        let d = self.a.data();
        if i >= d.nb_rx_queues || d.rx_queues.is_null() {
            return None;
        }
        // SAFETY: rx_queues holds nb_rx_queues slots, each null or a Box<RxQ> from setup;
        // control callbacks are serialised per port, and a stopped queue's lcore does not run
        // its burst (DPDK's rule).
        unsafe { ((*d.rx_queues.add(i as usize)) as *mut RxQ).as_mut() }
    }

    #[allow(clippy::mut_from_ref)]
    fn txq(&self, i: u16) -> Option<&mut TxQ> {
        let d = self.a.data();
        if i >= d.nb_tx_queues || d.tx_queues.is_null() {
            return None;
        }
        // SAFETY: as for rxq.
        unsafe { ((*d.tx_queues.add(i as usize)) as *mut TxQ).as_mut() }
    }
}

impl QueueSet for DevQueues<'_> {
    fn start_queues(&mut self, rss: RssHash) -> Result<()> {
        let d = self.a.data();
        let (nrx, ntx) = (d.nb_rx_queues, d.nb_tx_queues);
        let table = self.a.queues().clone_infos();
        for i in 0..nrx {
            let Some(q) = self.rxq(i) else {
                return Err(Error::invalid(format!("Rx queue {i} is not set up")));
            };
            let info = table.rx.get(i as usize).cloned().flatten();
            if info.as_ref().is_some_and(|inf| inf.deferred) {
                continue;
            }
            if let Some(inf) = &info {
                // Packet types and hash flags follow the RSS configuration in force now.
                renew_pools(q, inf, d.port_id, rss)?;
            }
            q.start()?;
            d.rx_queue_state[i as usize] = sys::RTE_ETH_QUEUE_STATE_STARTED as u8;
        }
        for i in 0..ntx {
            let Some(q) = self.txq(i) else {
                return Err(Error::invalid(format!("Tx queue {i} is not set up")));
            };
            if table
                .tx
                .get(i as usize)
                .cloned()
                .flatten()
                .is_some_and(|inf| inf.deferred)
            {
                continue;
            }
            q.start()?;
            d.tx_queue_state[i as usize] = sys::RTE_ETH_QUEUE_STATE_STARTED as u8;
        }
        Ok(())
    }

    fn stop_queues(&mut self) -> Result<()> {
        let d = self.a.data();
        let mut res = Ok(());
        for i in 0..d.nb_rx_queues {
            if let Some(q) = self.rxq(i) {
                if let Err(e) = q.stop() {
                    res = Err(e);
                }
            }
            d.rx_queue_state[i as usize] = sys::RTE_ETH_QUEUE_STATE_STOPPED as u8;
        }
        for i in 0..d.nb_tx_queues {
            if let Some(q) = self.txq(i) {
                if let Err(e) = q.stop() {
                    res = Err(e);
                }
            }
            d.tx_queue_state[i as usize] = sys::RTE_ETH_QUEUE_STATE_STOPPED as u8;
        }
        res
    }
}

impl super::QueueTable {
    fn clone_infos(&self) -> super::QueueTable {
        super::QueueTable {
            rx: self.rx.clone(),
            tx: self.tx.clone(),
        }
    }
}

// ----------------------------------------------------------------------------------------
// Burst functions
// ----------------------------------------------------------------------------------------

static BURST_PANIC: AtomicBool = AtomicBool::new(false);

#[cold]
fn burst_panicked() {
    if !BURST_PANIC.swap(true, Ordering::Relaxed) {
        ::log::error!("panic in a burst function (caught); the queue may need a restart");
    }
}

/// Runs a fast-path callback (burst, prepare, descriptor status, cleanup): a panic stops at
/// this edge, is logged once, and is answered with `on_panic`.
#[inline(always)]
fn fast_path<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        burst_panicked();
        on_panic
    })
}

/// `rx_pkt_burst`.
pub(super) unsafe extern "C" fn rx_burst(
    q: *mut c_void,
    pkts: *mut *mut sys::rte_mbuf,
    n: u16,
) -> u16 {
    fast_path(0, || {
        // SAFETY: ethdev passes the queue set up for this lcore (one lcore per queue) and an
        // array of n mbuf pointers to fill; Mbuf is a transparent mbuf pointer.
        let (q, out) = unsafe {
            (
                &mut *(q as *mut RxQ),
                core::slice::from_raw_parts_mut(pkts as *mut MaybeUninit<Mbuf>, n as usize),
            )
        };
        q.burst(out) as u16
    })
}

/// An Rx completion's DONE bit, in place.
const RCD_DONE: u64 = Rcd::from_raw(0).with_done(true).raw();

/// The power monitor's check of the watched completion word (`rte_power_monitor_clb_t`):
/// -1 (do not sleep) when its DONE bit has the value a new completion carries
/// (`opaque[0]`), 0 otherwise.
unsafe extern "C" fn monitor_check(val: u64, opaque: *const u64) -> c_int {
    // SAFETY: rte_power_monitor passes the condition's opaque array (4 words) that
    // get_monitor_addr filled.
    let want = unsafe { *opaque };
    if u64::from_le(val) & RCD_DONE == want {
        -1
    } else {
        0
    }
}

/// `get_monitor_addr` (`rte_eth_get_monitor_addr`, the power library's MONITOR mode): the
/// slot where the queue's next completion will appear, watched for the device's write.
unsafe extern "C" fn get_monitor_addr(
    q: *mut c_void,
    pmc: *mut sys::rte_power_monitor_cond,
) -> c_int {
    fast_path(-errno::EINVAL, || {
        // SAFETY: ethdev passes an Rx queue of ours, from the queue's lcore (the power
        // library calls this from the queue's Rx callback), and the caller's condition.
        let (q, pmc) = unsafe { (&*(q as *const RxQ), pmc.as_mut()) };
        let Some(pmc) = pmc else {
            return -errno::EINVAL;
        };
        let (addr, phase) = q.next_completion();
        pmc.addr = addr as *mut c_void;
        pmc.size = 8;
        pmc.fn_ = Some(monitor_check);
        pmc.opaque = [if phase { RCD_DONE } else { 0 }, 0, 0, 0];
        0
    })
}

/// `rx_queue_count` (`rte_eth_rx_queue_count`): buffers filled and not yet received.
pub(super) unsafe extern "C" fn rx_queue_count(q: *mut c_void) -> u32 {
    fast_path(0, || {
        // SAFETY: ethdev passes an Rx queue of ours; like the burst, this runs on the queue's
        // lcore (DPDK's rule for these fast-path calls).
        let q = unsafe { &*(q as *const RxQ) };
        q.filled(u32::MAX)
    })
}

/// `rx_descriptor_status` (`rte_eth_rx_descriptor_status`).
pub(super) unsafe extern "C" fn rx_descriptor_status(q: *mut c_void, offset: u16) -> c_int {
    fast_path(-errno::EIO, || {
        // SAFETY: as in rx_queue_count.
        let q = unsafe { &*(q as *const RxQ) };
        match q.descriptor_status(offset as u32) {
            Some(RxDescStatus::Avail) => sys::RTE_ETH_RX_DESC_AVAIL as c_int,
            Some(RxDescStatus::Done) => sys::RTE_ETH_RX_DESC_DONE as c_int,
            Some(RxDescStatus::Unavail) => sys::RTE_ETH_RX_DESC_UNAVAIL as c_int,
            None => -errno::EINVAL,
        }
    })
}

/// `tx_descriptor_status` (`rte_eth_tx_descriptor_status`).
pub(super) unsafe extern "C" fn tx_descriptor_status(q: *mut c_void, offset: u16) -> c_int {
    fast_path(-errno::EIO, || {
        // SAFETY: ethdev passes a Tx queue of ours, on the queue's lcore.
        let q = unsafe { &*(q as *const TxQ) };
        match q.descriptor_status(offset as u32) {
            Some(TxDescStatus::Full) => sys::RTE_ETH_TX_DESC_FULL as c_int,
            Some(TxDescStatus::Done) => sys::RTE_ETH_TX_DESC_DONE as c_int,
            Some(TxDescStatus::Unavail) => sys::RTE_ETH_TX_DESC_UNAVAIL as c_int,
            None => -errno::EINVAL,
        }
    })
}

/// `tx_pkt_burst`.
pub(super) unsafe extern "C" fn tx_burst(
    q: *mut c_void,
    pkts: *mut *mut sys::rte_mbuf,
    n: u16,
) -> u16 {
    fast_path(0, || {
        // SAFETY: as for rx_burst; the array holds n valid mbuf pointers.
        let (q, pkts) = unsafe {
            (
                &mut *(q as *mut TxQ),
                core::slice::from_raw_parts(pkts as *const Mbuf, n as usize),
            )
        };
        q.burst(pkts) as u16
    })
}

/// Tx offload flags the driver can act on.
const TX_OL_SUPPORTED: u64 = sys::RTE_MBUF_F_TX_IPV4
    | sys::RTE_MBUF_F_TX_IPV6
    | sys::RTE_MBUF_F_TX_IP_CKSUM
    | sys::RTE_MBUF_F_TX_L4_MASK
    | TX_SEG;

/// Segmentation requests (TSO, UDP segmentation): the device's LSO.
const TX_SEG: u64 = sys::RTE_MBUF_F_TX_TCP_SEG | sys::RTE_MBUF_F_TX_UDP_SEG;

/// `tx_pkt_prepare` (`rte_eth_tx_prepare`): checks each packet's offload request and puts in
/// the packet what the device needs. The device computes a TCP/UDP checksum over the segment
/// with the checksum field holding the pseudo-header sum (as Linux's CHECKSUM_PARTIAL), so
/// that field gets the sum; for segmentation (LSO) the sum leaves out the length, which the
/// device adds per segment. Returns how many packets are ready; rte_errno says why the next
/// one is not.
pub(super) unsafe extern "C" fn tx_prepare(
    _q: *mut c_void,
    pkts: *mut *mut sys::rte_mbuf,
    n: u16,
) -> u16 {
    fast_path(0, || {
        for i in 0..n as usize {
            // SAFETY: ethdev passes n valid mbufs that the application is about to send; until
            // then nobody else touches them.
            let m = unsafe { &mut **pkts.add(i) };
            if let Err(e) = prepare_one(m) {
                // SAFETY: sets EAL's thread-local errno.
                unsafe { sys::fbnic_set_rte_errno(e) };
                return i as u16;
            }
        }
        n
    })
}

fn be16(b: &[u8], at: usize) -> u32 {
    u16::from_be_bytes([b[at], b[at + 1]]) as u32
}

/// Prepares one packet for transmission (see [`tx_prepare`]): a positive errno if it cannot be
/// sent as asked.
fn prepare_one(m: &mut sys::rte_mbuf) -> core::result::Result<(), i32> {
    let ol = m.ol_flags;
    if ol & sys::RTE_MBUF_F_TX_OFFLOAD_MASK & !TX_OL_SUPPORTED != 0 {
        return Err(errno::ENOTSUP);
    }
    if m.nb_segs == 0 || m.nb_segs > MAX_TX_SEGS {
        return Err(errno::EINVAL);
    }
    // SAFETY: tx_offload is the u64 view of the l2_len/l3_len/... bitfields.
    let tx = unsafe { m.__bindgen_anon_3.tx_offload };
    let (l2, l3) = ((tx & 0x7f) as usize, ((tx >> 7) & 0x1ff) as usize);
    let seg = ol & TX_SEG;
    let (proto, field, l4_hlen) = match (seg, ol & sys::RTE_MBUF_F_TX_L4_MASK) {
        (0, 0) => return Ok(()),
        (sys::RTE_MBUF_F_TX_TCP_SEG, _) => (6u32, 16usize, ((tx >> 16) & 0xff) as usize),
        (sys::RTE_MBUF_F_TX_UDP_SEG, _) => (17, 6, ((tx >> 16) & 0xff) as usize),
        (0, sys::RTE_MBUF_F_TX_TCP_CKSUM) => (6, 16, 20),
        (0, sys::RTE_MBUF_F_TX_UDP_CKSUM) => (17, 6, 8),
        _ => return Err(errno::ENOTSUP),
    };
    let v6 = ol & sys::RTE_MBUF_F_TX_IPV6 != 0;
    let min_l3 = if v6 { 40 } else { 20 };
    if l3 < min_l3 || l2 + l3 + l4_hlen > m.data_len as usize {
        // The headers must be in the first segment.
        return Err(errno::EINVAL);
    }
    // SAFETY: the first segment holds data_len bytes from buf_addr + data_off and the headers
    // lie within them (checked above); the packet is the application's, handed to us to send.
    let hdr = unsafe {
        core::slice::from_raw_parts_mut(
            (m.buf_addr as *mut u8).add(m.data_off as usize + l2),
            l3 + l4_hlen,
        )
    };
    let (addrs, l4_len) = if v6 {
        // Payload length counts extension headers, which l3_len includes.
        (8..40, (be16(hdr, 4) + 40).checked_sub(l3 as u32))
    } else {
        (12..20, be16(hdr, 2).checked_sub(l3 as u32))
    };
    let len_in_sum = if seg != 0 {
        // The device sets each segment's lengths; the packet's own may be anything.
        check_lso(m, hdr, l2, l3, l4_hlen, seg, v6, tx)?;
        0
    } else {
        l4_len.ok_or(errno::EINVAL)?
    };
    let sum = fbnic_hw::csum::fold(fbnic_hw::csum::add(
        (proto + len_in_sum) as u64,
        &hdr[addrs],
    ));
    hdr[l3 + field..l3 + field + 2].copy_from_slice(&sum.to_be_bytes());
    Ok(())
}

/// The device's LSO rules (`fbnic_hw::desc::LSO_*`, the model's `lso` module): a packet it
/// would refuse is refused here, with EINVAL, instead of being counted as a Tx error.
#[allow(clippy::too_many_arguments)]
fn check_lso(
    m: &sys::rte_mbuf,
    hdr: &[u8],
    l2: usize,
    l3: usize,
    l4_hlen: usize,
    seg: u64,
    v6: bool,
    tx: u64,
) -> core::result::Result<(), i32> {
    use fbnic_hw::desc::{LSO_MAX_BYTES, LSO_MAX_MSS, LSO_MIN_MSS};
    let mss = ((tx >> 24) & 0xffff) as usize;
    let total = m.pkt_len as usize;
    let hdrs = l2 + l3 + l4_hlen;
    let l3_ok = if v6 {
        hdr[0] >> 4 == 6
    } else {
        hdr[0] >> 4 == 4 && (hdr[0] & 0xf) as usize * 4 == l3
    };
    let l4_ok = if seg == sys::RTE_MBUF_F_TX_TCP_SEG {
        l4_hlen >= 20 && (hdr[l3 + 12] >> 4) as usize * 4 == l4_hlen
    } else {
        l4_hlen == 8
    };
    let ok = (LSO_MIN_MSS..=LSO_MAX_MSS).contains(&mss)
        && total > hdrs
        && total <= LSO_MAX_BYTES
        && hdrs + mss.min(total - hdrs) <= crate::port::MAX_FRAME as usize
        && l2.is_multiple_of(2)
        && l3.is_multiple_of(2)
        && l3_ok
        && l4_ok;
    if ok {
        Ok(())
    } else {
        Err(errno::EINVAL)
    }
}

/// `tx_done_cleanup`: frees what the device has sent (free_cnt 0 = all; the driver frees
/// whole completion batches, so it may free more than asked).
unsafe extern "C" fn tx_done_cleanup(q: *mut c_void, _free_cnt: u32) -> c_int {
    fast_path(-errno::EIO, || {
        // SAFETY: ethdev passes a Tx queue of ours; the caller owns the queue's lcore role.
        let q = unsafe { &mut *(q as *mut TxQ) };
        q.cleanup() as c_int
    })
}

// ----------------------------------------------------------------------------------------
// Device level
// ----------------------------------------------------------------------------------------

/// The speeds the device's modes run at, as ethdev names them, and in Mbit/s.
const SPEEDS: [(u32, u32); 3] = [
    (sys::RTE_ETH_LINK_SPEED_25G, 25_000),
    (sys::RTE_ETH_LINK_SPEED_50G, 50_000),
    (sys::RTE_ETH_LINK_SPEED_100G, 100_000),
];

/// `rte_eth_conf.link_speeds` as the speeds (Mbit/s) the port may run at (empty: any).
/// Speeds the device has no mode for, and a fixed speed that is not exactly one, are refused.
/// With the device negotiating nothing, a fixed speed and an autonegotiation mask of one
/// speed ask for the same: the module's mode must be it (checked at start).
fn link_speeds_mbps(link_speeds: u32) -> Result<Vec<u32>> {
    let bits = link_speeds & !sys::RTE_ETH_LINK_SPEED_FIXED;
    let known = SPEEDS.iter().fold(0, |m, (b, _)| m | b);
    if bits & !known != 0 {
        return Err(Error::invalid(format!(
            "link_speeds {link_speeds:#x}: the device runs at 25, 50 or 100 Gb/s, full duplex"
        )));
    }
    if link_speeds & sys::RTE_ETH_LINK_SPEED_FIXED != 0 && bits.count_ones() != 1 {
        return Err(Error::invalid(format!(
            "link_speeds {link_speeds:#x}: a fixed speed names exactly one speed"
        )));
    }
    Ok(SPEEDS
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|&(_, mbps)| mbps)
        .collect())
}

unsafe extern "C" fn dev_configure(dev: *mut sys::rte_eth_dev) -> c_int {
    with_adapter!(dev, "configure", |a| {
        let d = a.data();
        let conf = &d.dev_conf;
        let lpbk = conf.lpbk_mode;
        if lpbk > 1 {
            return Err(Error::invalid(format!(
                "lpbk_mode {lpbk}: only 0 (none) and 1 (MAC loopback) exist"
            )));
        }
        let rx_off = conf.rxmode.offloads;
        if rx_off & !RX_PORT_OFFLOADS != 0 {
            return Err(Error::invalid(format!(
                "Rx offloads {:#x} not supported",
                rx_off & !RX_PORT_OFFLOADS
            )));
        }
        let tx_off = conf.txmode.offloads;
        if tx_off & !TX_OFFLOADS != 0 {
            return Err(Error::invalid(format!(
                "Tx offloads {:#x} not supported",
                tx_off & !TX_OFFLOADS
            )));
        }
        let link_speeds = link_speeds_mbps(conf.link_speeds)?;
        let rss_on = conf.rxmode.mq_mode & sys::RTE_ETH_MQ_RX_RSS_FLAG != 0;
        let rss_conf = &conf.rx_adv_conf.rss_conf;
        let mut rss = a.port.rss();
        if rss_on {
            check_hf(rss_conf.rss_hf)?;
            rss.hash = hash_from_hf(rss_conf.rss_hf);
            if !rss_conf.rss_key.is_null() {
                if rss_conf.rss_key_len as usize != RSS_KEY_LEN {
                    return Err(Error::invalid(format!(
                        "RSS key of {} bytes: the key is {RSS_KEY_LEN} bytes",
                        rss_conf.rss_key_len
                    )));
                }
                // SAFETY: the application's key buffer of rss_key_len bytes.
                rss.key.copy_from_slice(unsafe {
                    core::slice::from_raw_parts(rss_conf.rss_key, RSS_KEY_LEN)
                });
            }
        } else {
            rss.hash = RssHash::default();
        }
        if rss_on {
            // As in-tree PMDs do: with RSS on, the hash goes in every mbuf whether or not
            // the application asked for the offload (applications written before it existed
            // read hash.rss; testpmd does not ask; neither does pdump, which records it).
            d.dev_conf.rxmode.offloads |= sys::RTE_ETH_RX_OFFLOAD_RSS_HASH;
        }
        let nrx = d.nb_rx_queues;
        if nrx != a.port.settings().nb_rx_queues || rss.check(nrx).is_err() {
            rss.reta = rpc::RssConfig::spread(nrx, rss.hash).reta;
        }
        let settings = PortSettings {
            nb_rx_queues: nrx,
            nb_tx_queues: d.nb_tx_queues,
            loopback: lpbk == 1,
            mtu: d.mtu,
            rx_timestamp: rx_off & sys::RTE_ETH_RX_OFFLOAD_TIMESTAMP != 0,
            link_speeds,
        };
        a.port.configure(settings, Some(rss))?;
        let mut t = a.queues();
        t.rx.resize(nrx as usize, None);
        t.tx.resize(d.nb_tx_queues as usize, None);
        Ok(0)
    })
}

unsafe extern "C" fn dev_start(dev: *mut sys::rte_eth_dev) -> c_int {
    with_adapter!(dev, "start", |a| {
        a.port.set_hdr_split(port_split(a))?;
        let mut qs = DevQueues { a };
        a.port.start(&mut qs)?;
        if let Err(e) = super::intr::install(a) {
            let _ = a.port.stop(&mut qs);
            return Err(e);
        }
        update_link(a, false);
        Ok(0)
    })
}

unsafe extern "C" fn dev_stop(dev: *mut sys::rte_eth_dev) -> c_int {
    with_adapter!(dev, "stop", |a| {
        super::intr::uninstall(a);
        let mut qs = DevQueues { a };
        let r = a.port.stop(&mut qs);
        update_link(a, false);
        r.map(|_| 0)
    })
}

unsafe extern "C" fn dev_close(dev: *mut sys::rte_eth_dev) -> c_int {
    // SAFETY: ethdev passes a port of this driver.
    let Some(a) = (unsafe { adapter(dev) }) else {
        return 0;
    };
    let name = a.name.clone();
    guard("close", Some(&name), || {
        a.closing.store(true, Ordering::Release);
        // SAFETY: waits for a running alarm callback, removes pending ones.
        unsafe { sys::rte_eal_alarm_cancel(Some(super::service_alarm), dev.cast()) };
        super::intr::uninstall(a);
        let mut qs = DevQueues { a };
        if let Err(e) = a.port.stop(&mut qs) {
            ::log::warn!("{name}: stop at close: {e}");
        }
        // SAFETY: our port, stopped.
        unsafe { release_queues(dev, a) };
        a.port.close();
        super::mem::unregister(&(a.tp.clone() as Arc<dyn crate::transport::Transport>));
        // SAFETY: dev_private holds the adapter from probe; nothing refers to it any more
        // (alarm cancelled, queues released). ethdev frees the private area itself.
        unsafe {
            let slot = (*(*dev).data).dev_private as *mut *mut Adapter;
            drop(Box::from_raw(*slot));
            *slot = core::ptr::null_mut();
        }
        ::log::info!("{name}: closed");
        Ok(0)
    })
}

/// `rte_eth_dev_reset` (ethdev has stopped the port first): the port goes back to the state
/// probe left it in and keeps its port id. Its queues are released, the MAC address table
/// holds the permanent address only, and the port's own state starts over
/// ([`crate::port::Port::reset`]: firmware conversation, settings, RSS, filters, flow rules,
/// counters). The application configures it, sets up queues and starts it again, as after
/// probe.
unsafe extern "C" fn dev_reset(dev: *mut sys::rte_eth_dev) -> c_int {
    with_adapter!(dev, "reset", |a| {
        if a.port.is_started() {
            return Err(Error::Busy("stop the port before resetting it".into()));
        }
        super::intr::uninstall(a);
        // SAFETY: our port, stopped.
        unsafe { release_queues(dev, a) };
        a.port.reset()?;
        let d = a.data();
        if !d.mac_addrs.is_null() {
            // SAFETY: mac_addrs holds MAX_MAC_ADDRS entries (probe allocated them).
            let macs =
                unsafe { core::slice::from_raw_parts_mut(d.mac_addrs, MAX_MAC_ADDRS as usize) };
            for (i, m) in macs.iter_mut().enumerate() {
                m.addr_bytes = if i == 0 { a.port.perm_addr().0 } else { [0; 6] };
            }
        }
        d.mac_pool_sel.fill(0);
        update_link(a, false);
        ::log::info!("{}: reset", a.name);
        Ok(0)
    })
}

/// Releases every Rx and Tx queue of `dev` (close, reset).
///
/// # Safety
/// `dev` is a stopped port of this driver and `a` its adapter.
unsafe fn release_queues(dev: *mut sys::rte_eth_dev, a: &Adapter) {
    let d = a.data();
    for i in 0..d.nb_rx_queues {
        // SAFETY: our port, stopped (the caller's contract).
        unsafe { rx_queue_release(dev, i) };
    }
    for i in 0..d.nb_tx_queues {
        // SAFETY: as above.
        unsafe { tx_queue_release(dev, i) };
    }
}

/// Refreshes the link status ethdev keeps for the port; true when it changed.
pub(super) fn update_link(a: &Adapter, wait: bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut st = a.port.link();
    while wait && !st.up && a.port.is_started() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        st = a.port.link();
    }
    // SAFETY: rte_eth_link is plain data; all-zero is "down, no speed".
    let mut link: sys::rte_eth_link = unsafe { core::mem::zeroed() };
    link.link_speed = if st.up {
        st.speed
            .map_or(sys::RTE_ETH_SPEED_NUM_UNKNOWN, |s| s.mbps())
    } else {
        sys::RTE_ETH_SPEED_NUM_NONE
    };
    link.set_link_duplex(sys::RTE_ETH_LINK_FULL_DUPLEX as u16);
    link.set_link_autoneg(sys::RTE_ETH_LINK_FIXED as u16);
    link.set_link_status(st.up as u16);
    // SAFETY: our port; the helper stores the link atomically.
    unsafe { sys::fbnic_eth_linkstatus_set(a.eth_dev, &link) == 0 }
}

unsafe extern "C" fn link_update(dev: *mut sys::rte_eth_dev, wait: c_int) -> c_int {
    with_adapter!(dev, "link_update", |a| Ok(if update_link(a, wait != 0) {
        0
    } else {
        -1
    }))
}

unsafe extern "C" fn dev_infos_get(
    dev: *mut sys::rte_eth_dev,
    info: *mut sys::rte_eth_dev_info,
) -> c_int {
    with_adapter!(dev, "infos_get", |a| {
        let _ = a;
        // SAFETY: ethdev passes a zeroed info structure to fill.
        let i = unsafe { &mut *info };
        i.min_mtu = port::MIN_MTU;
        i.max_mtu = port::MAX_MTU;
        i.min_rx_bufsize = 64 + sys::RTE_PKTMBUF_HEADROOM;
        i.max_rx_pktlen = port::MAX_FRAME;
        i.max_rx_queues = fbnic_hw::regs::MAX_QUEUES as u16;
        i.max_tx_queues = fbnic_hw::regs::MAX_QUEUES as u16;
        i.max_mac_addrs = MAX_MAC_ADDRS;
        i.rx_offload_capa = RX_PORT_OFFLOADS;
        i.tx_offload_capa = TX_OFFLOADS;
        i.rx_queue_offload_capa = RX_OFFLOADS;
        // Buffer split: a header pool and a payload pool, no offsets.
        i.rx_seg_capa.max_nseg = 2;
        i.rx_seg_capa.set_multi_pools(1);
        i.rx_seg_capa.set_offset_allowed(0);
        i.tx_queue_offload_capa = TX_OFFLOADS;
        i.reta_size = RETA_SIZE as u16;
        i.hash_key_size = RSS_KEY_LEN as u8;
        i.flow_type_rss_offloads = RSS_OFFLOADS;
        // A stopped queue of a started port can be set up again (new rings, pool, sizes),
        // then started: each queue's rings are its own. Flow rules stay across stop/start
        // (the port rewrites them at every start).
        i.dev_capa = sys::RTE_ETH_DEV_CAPA_RUNTIME_RX_QUEUE_SETUP
            | sys::RTE_ETH_DEV_CAPA_RUNTIME_TX_QUEUE_SETUP
            | sys::RTE_ETH_DEV_CAPA_FLOW_RULE_KEEP;
        i.rx_desc_lim.nb_max = queue::MAX_RX_DESC.min(MAX_DESC_U16) as u16;
        i.rx_desc_lim.nb_min = MIN_DESC as u16;
        i.rx_desc_lim.nb_align = 1;
        i.tx_desc_lim.nb_max = queue::MAX_TX_DESC.min(MAX_DESC_U16) as u16;
        i.tx_desc_lim.nb_min = MIN_DESC as u16;
        i.tx_desc_lim.nb_align = 1;
        i.tx_desc_lim.nb_seg_max = MAX_TX_SEGS;
        i.tx_desc_lim.nb_mtu_seg_max = MAX_TX_SEGS;
        // The port recovers from a firmware restart by itself, announcing it with the
        // ERR_RECOVERING and RECOVERY_* events.
        i.err_handle_mode = sys::RTE_ETH_ERROR_HANDLE_MODE_PROACTIVE;
        i.speed_capa = SPEEDS.iter().fold(0, |m, (b, _)| m | b);
        i.default_rxconf.rx_free_thresh = 32;
        i.default_rxconf.rx_drop_en = 0;
        i.default_txconf.tx_free_thresh = 32;
        i.default_rxportconf.burst_size = 32;
        i.default_rxportconf.ring_size = 1024;
        i.default_rxportconf.nb_queues = 1;
        i.default_txportconf.burst_size = 32;
        i.default_txportconf.ring_size = 1024;
        i.default_txportconf.nb_queues = 1;
        Ok(0)
    })
}

unsafe extern "C" fn dev_supported_ptypes_get(_dev: *mut sys::rte_eth_dev) -> *const u32 {
    static PTYPES: [u32; 8] = [
        sys::RTE_PTYPE_L2_ETHER,
        sys::RTE_PTYPE_L3_IPV4_EXT_UNKNOWN,
        sys::RTE_PTYPE_L3_IPV6_EXT_UNKNOWN,
        sys::RTE_PTYPE_L4_TCP,
        sys::RTE_PTYPE_L4_UDP,
        sys::RTE_PTYPE_UNKNOWN,
        sys::RTE_PTYPE_UNKNOWN,
        sys::RTE_PTYPE_UNKNOWN,
    ];
    PTYPES.as_ptr()
}

unsafe extern "C" fn mtu_set(dev: *mut sys::rte_eth_dev, mtu: u16) -> c_int {
    with_adapter!(dev, "mtu_set", |a| {
        let frame = mtu as u32 + port::FRAME_OVERHEAD;
        let t = a.queues();
        for (i, inf) in t.rx.iter().enumerate() {
            let Some(inf) = inf else { continue };
            let room = rx_frame_room(inf);
            if !inf.cfg.scatter && frame > room {
                return Err(Error::invalid(format!(
                    "MTU {mtu}: frames of {frame} bytes do not fit Rx queue {i}'s {room}-byte buffers without the SCATTER offload"
                )));
            }
        }
        drop(t);
        a.port.set_mtu(mtu)?;
        Ok(0)
    })
}

unsafe extern "C" fn fw_version_get(
    dev: *mut sys::rte_eth_dev,
    buf: *mut c_char,
    size: usize,
) -> c_int {
    with_adapter!(dev, "fw_version_get", |a| {
        let v = match a.port.fw_version() {
            Some(v) => v,
            None => a.port.query_fw_version()?,
        };
        let s = format!("{v}");
        let need = s.len() + 1;
        if size < need || buf.is_null() {
            return Ok(need as c_int);
        }
        // SAFETY: the caller's buffer holds `size` >= need bytes.
        unsafe {
            core::ptr::copy_nonoverlapping(s.as_ptr(), buf as *mut u8, s.len());
            *buf.add(s.len()) = 0;
        }
        Ok(0)
    })
}

/// Writes a dump to a C stream (the application's `FILE *`): 0, or -EIO for a null stream
/// or one that took nothing. A stream that fills up part way keeps what it took and the
/// call succeeds (telemetry hands the private dump an 8 KiB memory stream: a port with many
/// queues shows its state and its first queues rather than nothing); the cut is logged.
pub(super) fn write_dump(file: *mut sys::FILE, text: &str) -> c_int {
    if file.is_null() {
        return -errno::EIO;
    }
    // SAFETY: ethdev passes the application's open stream (it checked it is not null); the
    // bytes are `text`'s, valid for its length.
    let n = unsafe { libc::fwrite(text.as_ptr().cast(), 1, text.len(), file.cast()) };
    if n == text.len() {
        0
    } else if n > 0 {
        ::log::info!(
            "dump cut at {n} of {} bytes: the output stream is full",
            text.len()
        );
        0
    } else {
        -errno::EIO
    }
}

/// The text of the port's private dump (also what a secondary process is sent).
pub(super) fn priv_dump_text(a: &Adapter) -> String {
    let d = a.data();
    crate::dump::port_state(&a.port, &a.name, d.nb_rx_queues, d.nb_tx_queues)
}

/// `eth_dev_priv_dump` (`rte_eth_dev_priv_dump`, `dpdk-proc-info --show-port-private`): the
/// port's state and its queues as the device's registers show them ([`crate::dump`]).
unsafe extern "C" fn priv_dump(dev: *mut sys::rte_eth_dev, file: *mut sys::FILE) -> c_int {
    with_adapter!(dev, "priv_dump", |a| {
        Ok(write_dump(file, &priv_dump_text(a)))
    })
}

/// The text of a queue's descriptor dump (`rx`: the RCQ from the driver's head, else the
/// TWQ from its tail; [`crate::dump`]), read under the queue table's lock so the ring cannot
/// be freed meanwhile. Also what a secondary process is sent.
pub(super) fn desc_dump_text(
    a: &Adapter,
    rx: bool,
    q: u16,
    offset: u16,
    num: u16,
) -> Result<String> {
    let t = a.queues();
    let ring = if rx {
        t.rx.get(q as usize)
            .and_then(|i| i.as_ref())
            .and_then(|i| i.rcq)
    } else {
        t.tx.get(q as usize).and_then(|i| i.as_ref()).map(|i| i.twq)
    };
    let kind = if rx { "Rx" } else { "Tx" };
    let ring = ring.ok_or_else(|| Error::invalid(format!("{kind} queue {q} is not set up")))?;
    // SAFETY: the ring belongs to a queue in the table, and the table's lock, held until
    // the dump is done, keeps its release (which leaves the table first) from freeing it.
    let read = |slot: u32| unsafe { ring.load(slot) };
    let tp = a.port.transport();
    if rx {
        crate::dump::rx_descriptors(tp, q, offset, num, ring.size(), read)
    } else {
        crate::dump::tx_descriptors(tp, q, offset, num, ring.size(), read)
    }
}

/// `eth_rx_descriptor_dump` (`rte_eth_rx_descriptor_dump`, `dpdk-proc-info
/// --show-rx-descriptor`): [`desc_dump_text`].
unsafe extern "C" fn rx_descriptor_dump(
    dev: *const sys::rte_eth_dev,
    q: u16,
    offset: u16,
    num: u16,
    file: *mut sys::FILE,
) -> c_int {
    with_adapter!(dev, "rx_descriptor_dump", |a| {
        Ok(write_dump(file, &desc_dump_text(a, true, q, offset, num)?))
    })
}

/// `eth_tx_descriptor_dump` (`rte_eth_tx_descriptor_dump`, `dpdk-proc-info
/// --show-tx-descriptor`): [`desc_dump_text`].
unsafe extern "C" fn tx_descriptor_dump(
    dev: *const sys::rte_eth_dev,
    q: u16,
    offset: u16,
    num: u16,
    file: *mut sys::FILE,
) -> c_int {
    with_adapter!(dev, "tx_descriptor_dump", |a| {
        Ok(write_dump(file, &desc_dump_text(a, false, q, offset, num)?))
    })
}

/// The ethdev FEC capability bit of `fec` (`RTE_ETH_FEC_MODE_TO_CAPA`).
fn fec_capa(fec: Fec) -> u32 {
    1 << match fec {
        Fec::None => sys::RTE_ETH_FEC_NOFEC,
        Fec::BaseR => sys::RTE_ETH_FEC_BASER,
        Fec::Rs => sys::RTE_ETH_FEC_RS,
    }
}

/// What `fec_set` accepts and the capability lists: the FEC the link runs, or `auto`.
fn fec_settable(fec: Fec) -> u32 {
    fec_capa(fec) | 1 << sys::RTE_ETH_FEC_AUTO
}

/// The link's mode and FEC, both known (the firmware reports them).
fn fec_mode(a: &Adapter) -> Result<(LinkSpeed, Fec)> {
    match a.port.link_mode()? {
        (Some(speed), Some(fec)) => Ok((speed, fec)),
        _ => Err(Error::Firmware(
            "the firmware reported no link mode or FEC".into(),
        )),
    }
}

/// `rte_eth_fec_get_capability`: one entry, the link's speed with the FEC it runs and
/// `auto`. The firmware sets the FEC for the module's mode; the host cannot choose another.
unsafe extern "C" fn fec_get_capability(
    dev: *mut sys::rte_eth_dev,
    capa: *mut sys::rte_eth_fec_capa,
    num: c_uint,
) -> c_int {
    with_adapter!(dev, "fec_get_capability", |a| {
        let (speed, fec) = fec_mode(a)?;
        if capa.is_null() || num < 1 {
            return Ok(1);
        }
        // SAFETY: the caller's array holds `num` >= 1 entries.
        let c = unsafe { &mut *capa };
        c.speed = speed.mbps();
        c.capa = fec_settable(fec);
        Ok(1)
    })
}

/// `rte_eth_fec_get`: the FEC the link runs.
unsafe extern "C" fn fec_get(dev: *mut sys::rte_eth_dev, mode: *mut u32) -> c_int {
    with_adapter!(dev, "fec_get", |a| {
        let (_, fec) = fec_mode(a)?;
        // SAFETY: ethdev checked the pointer.
        unsafe { *mode = fec_capa(fec) };
        Ok(0)
    })
}

/// `rte_eth_fec_set`: `auto` or the FEC the link already runs; any other is refused, saying
/// why (the firmware sets it for the module's mode).
unsafe extern "C" fn fec_set(dev: *mut sys::rte_eth_dev, mode: u32) -> c_int {
    with_adapter!(dev, "fec_set", |a| {
        let (speed, fec) = fec_mode(a)?;
        if mode == 0 || mode & !fec_settable(fec) != 0 {
            return Err(Error::invalid(format!(
                "FEC mode {mode:#x}: the link's FEC is {} ({}), which the firmware sets for \
                 the module's mode; only that or auto can be asked for",
                fec.name(),
                speed.name()
            )));
        }
        Ok(0)
    })
}

/// `dev_set_link_up` / `dev_set_link_down`. With link state change events on, the service
/// alarm sees the change within a tick and reports it (for this port as for its partner);
/// without, the status is refreshed here.
fn set_link(a: &Adapter, up: bool) -> Result<c_int> {
    a.port.set_link_admin(up)?;
    if a.data().dev_conf.intr_conf.lsc() == 0 {
        update_link(a, up);
    }
    Ok(0)
}

unsafe extern "C" fn dev_set_link_up(dev: *mut sys::rte_eth_dev) -> c_int {
    with_adapter!(dev, "set_link_up", |a| set_link(a, true))
}

unsafe extern "C" fn dev_set_link_down(dev: *mut sys::rte_eth_dev) -> c_int {
    with_adapter!(dev, "set_link_down", |a| set_link(a, false))
}

/// DPDK's flow control modes and the pause directions each stands for (Rx, Tx).
const FC_MODES: [(sys::rte_eth_fc_mode, bool, bool); 4] = [
    (sys::RTE_ETH_FC_NONE, false, false),
    (sys::RTE_ETH_FC_RX_PAUSE, true, false),
    (sys::RTE_ETH_FC_TX_PAUSE, false, true),
    (sys::RTE_ETH_FC_FULL, true, true),
];

/// `flow_ctrl_get`: the pause directions in use. The device has no pause thresholds, timer or
/// autonegotiation of pause, and pause frames end at the MAC: those fields read 0.
unsafe extern "C" fn flow_ctrl_get(
    dev: *mut sys::rte_eth_dev,
    fc: *mut sys::rte_eth_fc_conf,
) -> c_int {
    with_adapter!(dev, "flow_ctrl_get", |a| {
        // SAFETY: ethdev passes the caller's structure (it checked it is not null).
        let Some(fc) = (unsafe { fc.as_mut() }) else {
            return Err(Error::invalid("null flow control conf".to_string()));
        };
        let f = a.port.flow_control();
        // SAFETY: plain integers; all zero is a valid value.
        *fc = unsafe { core::mem::zeroed() };
        fc.mode = FC_MODES
            .iter()
            .find(|&&(_, rx, tx)| (rx, tx) == (f.rx_pause, f.tx_pause))
            .map_or(sys::RTE_ETH_FC_FULL, |m| m.0);
        Ok(0)
    })
}

/// `flow_ctrl_set`: which pause directions to use; anything the device cannot do is refused
/// (see [`flow_ctrl_get`]).
unsafe extern "C" fn flow_ctrl_set(
    dev: *mut sys::rte_eth_dev,
    fc: *mut sys::rte_eth_fc_conf,
) -> c_int {
    with_adapter!(dev, "flow_ctrl_set", |a| {
        // SAFETY: ethdev passes the caller's structure (it checked it is not null).
        let Some(fc) = (unsafe { fc.as_ref() }) else {
            return Err(Error::invalid("null flow control conf".to_string()));
        };
        if fc.mac_ctrl_frame_fwd != 0 {
            return Err(Error::NotSupported(
                "forwarding MAC control frames: pause frames end at the MAC".into(),
            ));
        }
        if fc.autoneg != 0 {
            return Err(Error::NotSupported(
                "pause autonegotiation: set the directions explicitly".into(),
            ));
        }
        if fc.high_water != 0 || fc.low_water != 0 || fc.pause_time != 0 || fc.send_xon != 0 {
            return Err(Error::invalid(format!(
                "high_water {}, low_water {}, pause_time {}, send_xon {}: the device pauses \
                 when its Rx buffer is full and has no thresholds or timer to set (use 0)",
                fc.high_water, fc.low_water, fc.pause_time, fc.send_xon
            )));
        }
        let Some(&(_, rx_pause, tx_pause)) = FC_MODES.iter().find(|m| m.0 == fc.mode) else {
            return Err(Error::invalid(format!("flow control mode {}", fc.mode)));
        };
        a.port
            .set_flow_control(port::FlowControl { rx_pause, tx_pause });
        Ok(0)
    })
}

/// Writes a burst function's description into `mode` (`rx/tx_burst_mode_get`).
fn burst_mode(mode: *mut sys::rte_eth_burst_mode, what: &str) -> Result<c_int> {
    // SAFETY: ethdev passes the caller's structure, zeroed (rte_eth_rx/tx_burst_mode_get).
    let Some(m) = (unsafe { mode.as_mut() }) else {
        return Err(Error::invalid("null burst mode".to_string()));
    };
    let n = what.len().min(m.info.len() - 1);
    for (d, &b) in m.info.iter_mut().zip(&what.as_bytes()[..n]) {
        *d = b as c_char;
    }
    m.info[n] = 0;
    Ok(0)
}

unsafe extern "C" fn rx_burst_mode_get(
    dev: *mut sys::rte_eth_dev,
    _qid: u16,
    mode: *mut sys::rte_eth_burst_mode,
) -> c_int {
    with_adapter!(dev, "rx_burst_mode_get", |_a| burst_mode(
        mode,
        "Scalar, one doorbell per burst, bulk mbuf allocation"
    ))
}

unsafe extern "C" fn tx_burst_mode_get(
    dev: *mut sys::rte_eth_dev,
    _qid: u16,
    mode: *mut sys::rte_eth_burst_mode,
) -> c_int {
    with_adapter!(dev, "tx_burst_mode_get", |_a| burst_mode(
        mode,
        "Scalar, one doorbell and one completion per burst"
    ))
}

/// `get_module_info`: the standard and EEPROM length of the module in the cage, from its
/// first bytes (read through the firmware).
unsafe extern "C" fn get_module_info(
    dev: *mut sys::rte_eth_dev,
    modinfo: *mut sys::rte_eth_dev_module_info,
) -> c_int {
    with_adapter!(dev, "get_module_info", |a| {
        if modinfo.is_null() {
            return Err(Error::invalid("null module info".to_string()));
        }
        let info = a.port.module_info()?;
        let ty = match info.standard {
            ModuleStandard::Sff8436 => sys::RTE_ETH_MODULE_SFF_8436,
            ModuleStandard::Sff8636 => sys::RTE_ETH_MODULE_SFF_8636,
        };
        // SAFETY: ethdev passes the caller's module info (checked non-null above).
        unsafe {
            (*modinfo).type_ = ty;
            (*modinfo).eeprom_len = info.len;
        }
        Ok(0)
    })
}

/// `get_module_eeprom`: `length` bytes of the module EEPROM from `offset` (ethdev has checked
/// that `data` is set and `length` is not zero).
unsafe extern "C" fn get_module_eeprom(
    dev: *mut sys::rte_eth_dev,
    info: *mut sys::rte_dev_eeprom_info,
) -> c_int {
    with_adapter!(dev, "get_module_eeprom", |a| {
        // SAFETY: ethdev passes the caller's request; it is only read here.
        let Some(req) = (unsafe { info.as_ref() }) else {
            return Err(Error::invalid("null EEPROM request".to_string()));
        };
        if req.data.is_null() {
            return Err(Error::invalid("null EEPROM buffer".to_string()));
        }
        // SAFETY: the caller's buffer holds `length` bytes (the ethdev API contract).
        let buf =
            unsafe { core::slice::from_raw_parts_mut(req.data as *mut u8, req.length as usize) };
        a.port.read_module_eeprom(req.offset, buf)?;
        Ok(0)
    })
}

/// `rx_queue_intr_enable`: arms queue `qid`'s interrupt (its event fires once a packet
/// waits, at once if one does already). Needs `intr_conf.rxq` at start.
unsafe extern "C" fn rx_queue_intr_enable(dev: *mut sys::rte_eth_dev, qid: u16) -> c_int {
    with_adapter!(dev, "rx_queue_intr_enable", |a| {
        rx_intr_queue(a, qid, |q| q.irq_arm())?;
        Ok(0)
    })
}

/// `rx_queue_intr_disable`: masks queue `qid`'s interrupt again.
unsafe extern "C" fn rx_queue_intr_disable(dev: *mut sys::rte_eth_dev, qid: u16) -> c_int {
    with_adapter!(dev, "rx_queue_intr_disable", |a| {
        rx_intr_queue(a, qid, |q| {
            q.irq_disarm();
            Ok(())
        })?;
        Ok(0)
    })
}

/// Runs `f` on Rx queue `qid`, when its interrupt can be used.
fn rx_intr_queue(a: &Adapter, qid: u16, f: impl FnOnce(&RxQ) -> Result<()>) -> Result<()> {
    if !super::intr::installed(a) {
        return Err(Error::NotSupported(
            "Rx interrupts are off: configure the port with intr_conf.rxq = 1 and start it".into(),
        ));
    }
    let qs = DevQueues { a };
    let q = qs
        .rxq(qid)
        .ok_or_else(|| Error::invalid(format!("Rx queue {qid} is not set up")))?;
    f(q)
}

/// `get_reg`: a register dump (layout and `version`: `fbnic_hw::regdump`). With no buffer it
/// reports the size (length in registers, width 4); with one it fills `length` registers from
/// slot `offset`, or the whole rest of the dump from `offset` when `length` is 0 (as
/// dpdk-proc-info asks).
unsafe extern "C" fn get_reg(
    dev: *mut sys::rte_eth_dev,
    info: *mut sys::rte_dev_reg_info,
) -> c_int {
    with_adapter!(dev, "get_reg", |a| {
        // SAFETY: ethdev passes the caller's request (checked for null first).
        let req =
            unsafe { info.as_mut() }.ok_or_else(|| Error::invalid("null register request"))?;
        req.width = 4;
        req.version = regdump::VERSION;
        if req.data.is_null() {
            req.length = regdump::LEN as u32;
            return Ok(0);
        }
        let first = req.offset as usize;
        let len = match req.length {
            0 => regdump::LEN.saturating_sub(first),
            n => n as usize,
        };
        if len > regdump::LEN {
            return Err(Error::invalid(format!(
                "{len} registers requested, the dump has {}",
                regdump::LEN
            )));
        }
        let mut regs = vec![0u32; len];
        a.port.dump_regs(first, &mut regs)?;
        // SAFETY: the caller's buffer holds `length` registers of `width` bytes, or the whole
        // dump from `offset` when `length` is 0 (the ethdev API contract); it is written as
        // bytes, so it need not be aligned.
        unsafe {
            core::ptr::copy_nonoverlapping(
                regs.as_ptr().cast::<u8>(),
                req.data.cast::<u8>(),
                len * 4,
            )
        };
        req.length = len as u32;
        Ok(0)
    })
}

// ----------------------------------------------------------------------------------------
// Queues
// ----------------------------------------------------------------------------------------

unsafe extern "C" fn rx_queue_setup(
    dev: *mut sys::rte_eth_dev,
    qid: u16,
    nb_desc: u16,
    _socket: c_uint,
    conf: *const sys::rte_eth_rxconf,
    mp: *mut sys::rte_mempool,
) -> c_int {
    with_adapter!(dev, "rx_queue_setup", |a| {
        let d = a.data();
        if qid >= d.nb_rx_queues {
            return Err(Error::invalid(format!(
                "Rx queue {qid}: only {} configured",
                d.nb_rx_queues
            )));
        }
        // SAFETY: ethdev passes a valid rxconf.
        let conf = unsafe { &*conf };
        let offloads = d.dev_conf.rxmode.offloads | conf.offloads;
        if offloads & !RX_PORT_OFFLOADS != 0 {
            return Err(Error::invalid(format!(
                "Rx offloads {:#x} not supported",
                offloads & !RX_PORT_OFFLOADS
            )));
        }
        let split = if offloads & sys::RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT != 0 {
            Some(rx_split_request(qid, conf)?)
        } else {
            None
        };
        let mp = match &split {
            Some(s) => s.payload,
            None => NonNull::new(mp).ok_or_else(|| Error::invalid("Rx queue without a mempool"))?,
        };
        if let Some(s) = &split {
            // The cut is the port's (the actions' DMA hint): every splitting queue shares it.
            let others = a.queues();
            let clash = others.rx.iter().enumerate().find_map(|(i, inf)| {
                let (_, hdrs) = inf.as_ref()?.split?;
                (i != qid as usize && hdrs != s.hdrs).then_some((i, hdrs))
            });
            if let Some((i, hdrs)) = clash {
                return Err(Error::invalid(format!(
                    "Rx queue {qid}: buffer split {:?} differs from Rx queue {i}'s {hdrs:?}; the device cuts every queue of a port at the same place (its action table's DMA hint)",
                    s.hdrs
                )));
            }
        }
        let cfg = RxConfig {
            nb_desc: nb_desc as u32,
            drop_en: conf.rx_drop_en != 0,
            scatter: offloads & sys::RTE_ETH_RX_OFFLOAD_SCATTER != 0,
            split: split.as_ref().map(|s| RxSplit { max_hdr: s.max_hdr }),
        };
        let max = if split.is_some() {
            crate::rx::MAX_SPLIT_DESC
        } else {
            queue::MAX_RX_DESC
        };
        queue::check_desc_count("Rx", cfg.nb_desc, max.min(MAX_DESC_U16))?;
        let inf = RxInfo {
            cfg,
            mp,
            split: split.as_ref().map(|s| (s.header, s.hdrs)),
            stats: Arc::default(),
            deferred: conf.rx_deferred_start != 0,
            offloads,
            free_thresh: conf.rx_free_thresh,
            rcq: None,
        };
        let (pool, hdr_pool) = queue_pools(&inf, d.port_id, a.port.rss().hash)?;
        let frame = d.mtu as u32 + port::FRAME_OVERHEAD;
        let room = rx_frame_room(&inf);
        if !cfg.scatter && frame > room {
            return Err(Error::invalid(format!(
                "Rx queue {qid}: MTU {} needs {frame}-byte buffers but the mempool offers {room}; enable the SCATTER offload or use larger mbufs",
                d.mtu,
            )));
        }
        if let Some(s) = &split {
            if let Some(len) = s.payload_len.filter(|&l| l < room) {
                return Err(Error::invalid(format!(
                    "Rx queue {qid}: payload segment length {len}: the device fills payload buffers of {room} bytes from this mempool; give length 0 (the whole buffer)"
                )));
            }
        }
        // SAFETY: our port; replacing a queue releases the old one first.
        unsafe { rx_queue_release(dev, qid) };
        let tp = a.port.transport_arc();
        let q = match hdr_pool {
            Some(h) => RxQ::new_split(&tp, a.port.dma(), qid as u32, cfg, pool, h)?,
            None => RxQ::new(&tp, a.port.dma(), qid as u32, cfg, pool)?,
        }
        .with_stamps(a.port.stamps())
        .with_intr_coalesce(a.rx_intr_coalesce);
        let info = RxInfo {
            stats: q.stats.clone(),
            rcq: Some(q.rcq_ref()),
            ..inf
        };
        // SAFETY: rx_queues has nb_rx_queues slots; the released slot is null.
        unsafe { *d.rx_queues.add(qid as usize) = Box::into_raw(Box::new(q)).cast() };
        a.queues().rx[qid as usize] = Some(info);
        if a.port.is_started() {
            // A queue set up on a running port: its cut applies now.
            a.port.set_hdr_split(port_split(a))?;
        }
        Ok(0)
    })
}

/// A queue's buffer split request (DPDK `rte_eth_rxseg_split`), checked.
struct SplitRequest {
    header: NonNull<sys::rte_mempool>,
    payload: NonNull<sys::rte_mempool>,
    hdrs: SplitHdrs,
    max_hdr: u32,
    /// The payload segment's length, when the application limited it.
    payload_len: Option<u32>,
}

/// Reads the segments of a buffer split: exactly two, the first for the headers (cut after
/// a protocol header, or at a length), the second for the rest.
fn rx_split_request(qid: u16, conf: &sys::rte_eth_rxconf) -> Result<SplitRequest> {
    if conf.rx_nseg != 2 || conf.rx_seg.is_null() {
        return Err(Error::invalid(format!(
            "Rx queue {qid}: buffer split takes two segments (headers, payload), got {}",
            conf.rx_nseg
        )));
    }
    // SAFETY: ethdev checked rx_seg holds rx_nseg segments (rte_eth_rx_queue_check_split);
    // with BUFFER_SPLIT each is an rte_eth_rxseg_split.
    let segs = unsafe { core::slice::from_raw_parts(conf.rx_seg, 2) };
    // SAFETY: as above: the union's split member is the one in use.
    let (h, p) = unsafe { (segs[0].split, segs[1].split) };
    let (Some(header), Some(payload)) = (NonNull::new(h.mp), NonNull::new(p.mp)) else {
        return Err(Error::invalid(format!(
            "Rx queue {qid}: a buffer split segment without a mempool"
        )));
    };
    if h.offset != 0 || p.offset != 0 {
        return Err(Error::invalid(format!(
            "Rx queue {qid}: buffer split offsets are not supported"
        )));
    }
    if p.proto_hdr != 0 {
        return Err(Error::invalid(format!(
            "Rx queue {qid}: the payload segment cannot be cut again (proto_hdr {:#x})",
            p.proto_hdr
        )));
    }
    // SAFETY: the application's pktmbuf pool.
    let hroom = (unsafe { sys::fbnic_pktmbuf_data_room_size(header.as_ptr()) } as u32)
        .saturating_sub(sys::RTE_PKTMBUF_HEADROOM);
    let (hdrs, max_hdr) = if h.proto_hdr == 0 {
        let len = if h.length == 0 {
            hroom
        } else {
            h.length as u32
        };
        (SplitHdrs::Length, len)
    } else {
        let hdrs = split_hdrs(h.proto_hdr).ok_or_else(|| {
            Error::invalid(format!(
                "Rx queue {qid}: buffer split after protocol headers {:#x} is not supported",
                h.proto_hdr
            ))
        })?;
        (hdrs, hroom)
    };
    Ok(SplitRequest {
        header,
        payload,
        hdrs,
        max_hdr,
        payload_len: (p.length != 0).then_some(p.length as u32),
    })
}

/// The protocol header chains a buffer split may cut after, and where the device cuts for
/// each. Ethernet is always the first header (the device's parser starts there).
const SPLIT_PTYPES: [(u32, SplitHdrs); 7] = [
    (sys::RTE_PTYPE_L2_ETHER, SplitHdrs::L2),
    (
        sys::RTE_PTYPE_L2_ETHER | sys::RTE_PTYPE_L3_IPV4_EXT_UNKNOWN,
        SplitHdrs::L3 { v6: false },
    ),
    (
        sys::RTE_PTYPE_L2_ETHER | sys::RTE_PTYPE_L3_IPV6_EXT_UNKNOWN,
        SplitHdrs::L3 { v6: true },
    ),
    (
        sys::RTE_PTYPE_L2_ETHER | sys::RTE_PTYPE_L3_IPV4_EXT_UNKNOWN | sys::RTE_PTYPE_L4_TCP,
        SplitHdrs::L4 {
            v6: false,
            udp: false,
        },
    ),
    (
        sys::RTE_PTYPE_L2_ETHER | sys::RTE_PTYPE_L3_IPV4_EXT_UNKNOWN | sys::RTE_PTYPE_L4_UDP,
        SplitHdrs::L4 {
            v6: false,
            udp: true,
        },
    ),
    (
        sys::RTE_PTYPE_L2_ETHER | sys::RTE_PTYPE_L3_IPV6_EXT_UNKNOWN | sys::RTE_PTYPE_L4_TCP,
        SplitHdrs::L4 {
            v6: true,
            udp: false,
        },
    ),
    (
        sys::RTE_PTYPE_L2_ETHER | sys::RTE_PTYPE_L3_IPV6_EXT_UNKNOWN | sys::RTE_PTYPE_L4_UDP,
        SplitHdrs::L4 {
            v6: true,
            udp: true,
        },
    ),
];

/// Where the device cuts for a buffer split after the headers `ptype`.
fn split_hdrs(ptype: u32) -> Option<SplitHdrs> {
    SPLIT_PTYPES
        .iter()
        .find(|&&(p, _)| p == ptype)
        .map(|&(_, h)| h)
}

/// `buffer_split_supported_hdr_ptypes_get`: the header chains of [`SPLIT_PTYPES`].
unsafe extern "C" fn buffer_split_ptypes(_dev: *mut sys::rte_eth_dev) -> *const u32 {
    static PTYPES: [u32; SPLIT_PTYPES.len() + 1] = {
        let mut t = [sys::RTE_PTYPE_UNKNOWN; SPLIT_PTYPES.len() + 1];
        let mut i = 0;
        while i < SPLIT_PTYPES.len() {
            t[i] = SPLIT_PTYPES[i].0;
            i += 1;
        }
        t
    };
    PTYPES.as_ptr()
}

/// The cut the port's splitting queues share (checked at queue setup), if any splits.
fn port_split(a: &Adapter) -> Option<SplitHdrs> {
    a.queues()
        .rx
        .iter()
        .flatten()
        .find_map(|inf| inf.split.map(|(_, h)| h))
}

/// The pools of a queue (payload, and header with split), filling mbufs for the offloads
/// and RSS hash types in force.
fn queue_pools(
    inf: &RxInfo,
    port_id: u16,
    rss: RssHash,
) -> Result<(MbufRxPool, Option<MbufRxPool>)> {
    // SAFETY: the queue's mempools: the application keeps them while the queue exists.
    let pool = unsafe { MbufRxPool::new(inf.mp, port_id, inf.offloads, rss) }?;
    let hdr = match inf.split {
        // SAFETY: as above.
        Some((h, _)) => Some(unsafe { MbufRxPool::new(h, port_id, inf.offloads, rss) }?),
        None => None,
    };
    Ok((pool, hdr))
}

/// Rebuilds a queue's pools (see [`queue_pools`]) before it starts.
fn renew_pools(q: &mut RxQ, inf: &RxInfo, port_id: u16, rss: RssHash) -> Result<()> {
    let (pool, hdr) = queue_pools(inf, port_id, rss)?;
    let (p, h) = q.pools_mut();
    *p = pool;
    if let (Some(h), Some(new)) = (h, hdr) {
        *h = new;
    }
    Ok(())
}

/// The longest frame a queue takes in one buffer: the mbuf data room, or with header split
/// the payload buffer length the device uses (a frame always fits its payload buffer then).
fn rx_frame_room(inf: &RxInfo) -> u32 {
    // SAFETY: the queue's mempool stays valid while the queue exists.
    let room = (unsafe { sys::fbnic_pktmbuf_data_room_size(inf.mp.as_ptr()) } as u32)
        .saturating_sub(sys::RTE_PKTMBUF_HEADROOM);
    match inf.split {
        Some(_) => crate::rx::payload_buf_len(room).map_or(0, |(len, _)| len),
        None => room,
    }
}

unsafe extern "C" fn rx_queue_release(dev: *mut sys::rte_eth_dev, qid: u16) {
    // SAFETY: ethdev passes a port of this driver.
    let Some(a) = (unsafe { adapter(dev) }) else {
        return;
    };
    guard("rx_queue_release", Some(&a.name), || {
        // First out of the table: a descriptor dump reads the queue's ring through it (under
        // its lock), and the ring goes with the queue below.
        if let Some(e) = a.queues().rx.get_mut(qid as usize) {
            *e = None;
        }
        let d = a.data();
        if d.rx_queues.is_null() || qid >= d.nb_rx_queues {
            return Ok(0);
        }
        // SAFETY: the slot holds null or a Box<RxQ> from rx_queue_setup.
        let slot = unsafe { &mut *d.rx_queues.add(qid as usize) };
        if !slot.is_null() {
            // SAFETY: as above; taken out of the slot exactly once.
            let mut q = unsafe { Box::from_raw(*slot as *mut RxQ) };
            *slot = core::ptr::null_mut();
            if let Err(e) = q.stop() {
                ::log::warn!("{}: Rx queue {qid} release: {e}", a.name);
            }
        }
        Ok(0)
    });
}

unsafe extern "C" fn tx_queue_setup(
    dev: *mut sys::rte_eth_dev,
    qid: u16,
    nb_desc: u16,
    _socket: c_uint,
    conf: *const sys::rte_eth_txconf,
) -> c_int {
    with_adapter!(dev, "tx_queue_setup", |a| {
        let d = a.data();
        if qid >= d.nb_tx_queues {
            return Err(Error::invalid(format!(
                "Tx queue {qid}: only {} configured",
                d.nb_tx_queues
            )));
        }
        // SAFETY: ethdev passes a valid txconf.
        let conf = unsafe { &*conf };
        let offloads = d.dev_conf.txmode.offloads | conf.offloads;
        if offloads & !TX_OFFLOADS != 0 {
            return Err(Error::invalid(format!(
                "Tx offloads {:#x} not supported",
                offloads & !TX_OFFLOADS
            )));
        }
        let cfg = TxConfig {
            nb_desc: nb_desc as u32,
            fast_free: offloads & sys::RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE != 0,
        };
        queue::check_desc_count("Tx", cfg.nb_desc, queue::MAX_TX_DESC.min(MAX_DESC_U16))?;
        // SAFETY: our port; replacing a queue releases the old one first.
        unsafe { tx_queue_release(dev, qid) };
        let tp = a.port.transport_arc();
        let q = TxQ::new(&tp, a.port.dma(), qid as u32, cfg)?.with_stamps(a.port.stamps());
        let stats = q.stats.clone();
        let twq = q.twq_ref();
        // SAFETY: tx_queues has nb_tx_queues slots; the released slot is null.
        unsafe { *d.tx_queues.add(qid as usize) = Box::into_raw(Box::new(q)).cast() };
        a.queues().tx[qid as usize] = Some(TxInfo {
            cfg,
            stats,
            deferred: conf.tx_deferred_start != 0,
            offloads,
            twq,
        });
        Ok(0)
    })
}

unsafe extern "C" fn tx_queue_release(dev: *mut sys::rte_eth_dev, qid: u16) {
    // SAFETY: ethdev passes a port of this driver.
    let Some(a) = (unsafe { adapter(dev) }) else {
        return;
    };
    guard("tx_queue_release", Some(&a.name), || {
        // First out of the table: a descriptor dump reads the queue's ring through it (under
        // its lock), and the ring goes with the queue below.
        if let Some(e) = a.queues().tx.get_mut(qid as usize) {
            *e = None;
        }
        let d = a.data();
        if d.tx_queues.is_null() || qid >= d.nb_tx_queues {
            return Ok(0);
        }
        // SAFETY: the slot holds null or a Box<TxQ> from tx_queue_setup.
        let slot = unsafe { &mut *d.tx_queues.add(qid as usize) };
        if !slot.is_null() {
            // SAFETY: as above; taken out of the slot exactly once.
            let mut q = unsafe { Box::from_raw(*slot as *mut TxQ) };
            *slot = core::ptr::null_mut();
            if let Err(e) = q.stop() {
                ::log::warn!("{}: Tx queue {qid} release: {e}", a.name);
            }
        }
        Ok(0)
    });
}

unsafe extern "C" fn rx_queue_start(dev: *mut sys::rte_eth_dev, qid: u16) -> c_int {
    with_adapter!(dev, "rx_queue_start", |a| {
        let qs = DevQueues { a };
        let q = qs
            .rxq(qid)
            .ok_or_else(|| Error::invalid(format!("Rx queue {qid} is not set up")))?;
        if let Some(inf) = a.queues().rx.get(qid as usize).cloned().flatten() {
            renew_pools(q, &inf, a.data().port_id, a.port.rss().hash)?;
        }
        q.start()?;
        a.data().rx_queue_state[qid as usize] = sys::RTE_ETH_QUEUE_STATE_STARTED as u8;
        Ok(0)
    })
}

unsafe extern "C" fn rx_queue_stop(dev: *mut sys::rte_eth_dev, qid: u16) -> c_int {
    with_adapter!(dev, "rx_queue_stop", |a| {
        let qs = DevQueues { a };
        let q = qs
            .rxq(qid)
            .ok_or_else(|| Error::invalid(format!("Rx queue {qid} is not set up")))?;
        q.stop()?;
        a.data().rx_queue_state[qid as usize] = sys::RTE_ETH_QUEUE_STATE_STOPPED as u8;
        Ok(0)
    })
}

unsafe extern "C" fn tx_queue_start(dev: *mut sys::rte_eth_dev, qid: u16) -> c_int {
    with_adapter!(dev, "tx_queue_start", |a| {
        let qs = DevQueues { a };
        let q = qs
            .txq(qid)
            .ok_or_else(|| Error::invalid(format!("Tx queue {qid} is not set up")))?;
        q.start()?;
        a.data().tx_queue_state[qid as usize] = sys::RTE_ETH_QUEUE_STATE_STARTED as u8;
        Ok(0)
    })
}

unsafe extern "C" fn tx_queue_stop(dev: *mut sys::rte_eth_dev, qid: u16) -> c_int {
    with_adapter!(dev, "tx_queue_stop", |a| {
        let qs = DevQueues { a };
        let q = qs
            .txq(qid)
            .ok_or_else(|| Error::invalid(format!("Tx queue {qid} is not set up")))?;
        q.stop()?;
        a.data().tx_queue_state[qid as usize] = sys::RTE_ETH_QUEUE_STATE_STOPPED as u8;
        Ok(0)
    })
}

unsafe extern "C" fn rxq_info_get(
    dev: *mut sys::rte_eth_dev,
    qid: u16,
    info: *mut sys::rte_eth_rxq_info,
) {
    with_adapter!(dev, "rxq_info_get", |a| {
        let Some(inf) = a.queues().rx.get(qid as usize).cloned().flatten() else {
            return Ok(0);
        };
        // SAFETY: ethdev passes a zeroed info to fill.
        let i = unsafe { &mut *info };
        i.mp = inf.mp.as_ptr();
        i.nb_desc = inf.cfg.nb_desc as u16;
        i.scattered_rx = inf.cfg.scatter as u8;
        i.conf.rx_drop_en = inf.cfg.drop_en as u8;
        i.conf.rx_free_thresh = inf.free_thresh;
        i.conf.rx_deferred_start = inf.deferred as u8;
        i.conf.offloads = inf.offloads;
        // SAFETY: the queue's mempool.
        i.rx_buf_size = unsafe { sys::fbnic_pktmbuf_data_room_size(inf.mp.as_ptr()) }
            - sys::RTE_PKTMBUF_HEADROOM as u16;
        Ok(0)
    });
}

unsafe extern "C" fn txq_info_get(
    dev: *mut sys::rte_eth_dev,
    qid: u16,
    info: *mut sys::rte_eth_txq_info,
) {
    with_adapter!(dev, "txq_info_get", |a| {
        let Some(inf) = a.queues().tx.get(qid as usize).cloned().flatten() else {
            return Ok(0);
        };
        // SAFETY: ethdev passes a zeroed info to fill.
        let i = unsafe { &mut *info };
        i.nb_desc = inf.cfg.nb_desc as u16;
        i.conf.tx_deferred_start = inf.deferred as u8;
        i.conf.offloads = inf.offloads;
        Ok(0)
    });
}

// ----------------------------------------------------------------------------------------
// Statistics
// ----------------------------------------------------------------------------------------

unsafe extern "C" fn stats_get(dev: *mut sys::rte_eth_dev, st: *mut sys::rte_eth_stats) -> c_int {
    with_adapter!(dev, "stats_get", |a| {
        // SAFETY: ethdev passes a zeroed stats structure.
        let s = unsafe { &mut *st };
        let hw = a.port.counters();
        let t = a.queues();
        let nq = sys::RTE_ETHDEV_QUEUE_STAT_CNTRS as usize;
        for (i, inf) in t.rx.iter().enumerate() {
            let Some(inf) = inf else { continue };
            let q = &inf.stats;
            let h = hw.queue(i as u32);
            s.ipackets += q.packets.get();
            s.ibytes += q.bytes.get();
            s.ierrors += q.errors.get() + q.bad_descriptors.get();
            s.rx_nombuf += q.alloc_failures.get();
            s.imissed += h.rx_bdq_drops + h.rx_cq_drops;
            if i < nq {
                s.q_ipackets[i] = q.packets.get();
                s.q_ibytes[i] = q.bytes.get();
                s.q_errors[i] = q.errors.get() + q.bad_descriptors.get();
            }
        }
        s.imissed += hw.device("rxb_host_drops").unwrap_or(0);
        for (i, inf) in t.tx.iter().enumerate() {
            let Some(inf) = inf else { continue };
            let q = &inf.stats;
            s.opackets += q.packets.get();
            s.obytes += q.bytes.get();
            s.oerrors += q.errors.get() + q.bad_descriptors.get() + hw.queue(i as u32).tx_errors;
            if i < nq {
                s.q_opackets[i] = q.packets.get();
                s.q_obytes[i] = q.bytes.get();
            }
        }
        Ok(0)
    })
}

unsafe extern "C" fn stats_reset(dev: *mut sys::rte_eth_dev) -> c_int {
    with_adapter!(dev, "stats_reset", |a| {
        a.port.reset_counters();
        let t = a.queues();
        for inf in t.rx.iter().flatten() {
            inf.stats.reset();
        }
        for inf in t.tx.iter().flatten() {
            inf.stats.reset();
        }
        Ok(0)
    })
}

/// Every extended statistic, in a fixed order: device counters, then per queue.
fn xstats(a: &Adapter) -> Vec<(String, u64)> {
    let hw = a.port.counters();
    let mut v: Vec<(String, u64)> = hw.named().map(|(n, x)| (n.to_string(), x)).collect();
    v.push(("fw_malformed_messages".into(), a.port.fw_malformed()));
    let t = a.queues();
    for (i, inf) in t.rx.iter().enumerate() {
        let h = hw.queue(i as u32);
        let sw = inf.as_ref().map(|q| &*q.stats);
        let sw = |f: fn(&QueueStats) -> &Counter| sw.map_or(0, |s| f(s).get());
        v.extend([
            (format!("rx_q{i}_hw_packets"), h.rx_packets),
            (format!("rx_q{i}_hw_bytes"), h.rx_bytes),
            (format!("rx_q{i}_hw_errors"), h.rx_errors),
            (format!("rx_q{i}_cq_full_drops"), h.rx_cq_drops),
            (format!("rx_q{i}_no_buffer_drops"), h.rx_bdq_drops),
            (
                format!("rx_q{i}_bad_descriptors"),
                sw(|s| &s.bad_descriptors),
            ),
            (
                format!("rx_q{i}_mbuf_alloc_failures"),
                sw(|s| &s.alloc_failures),
            ),
            (format!("rx_q{i}_bursts"), sw(|s| &s.bursts)),
            (format!("rx_q{i}_empty_polls"), sw(|s| &s.empty_polls)),
            (format!("rx_q{i}_doorbells"), sw(|s| &s.doorbells)),
        ]);
    }
    for (i, inf) in t.tx.iter().enumerate() {
        let h = hw.queue(i as u32);
        let sw = inf.as_ref().map(|q| &*q.stats);
        let sw = |f: fn(&QueueStats) -> &Counter| sw.map_or(0, |s| f(s).get());
        v.extend([
            (format!("tx_q{i}_hw_packets"), h.tx_packets),
            (format!("tx_q{i}_hw_bytes"), h.tx_bytes),
            (format!("tx_q{i}_hw_errors"), h.tx_errors),
            (
                format!("tx_q{i}_bad_completions"),
                sw(|s| &s.bad_descriptors),
            ),
            (format!("tx_q{i}_bursts"), sw(|s| &s.bursts)),
            (format!("tx_q{i}_doorbells"), sw(|s| &s.doorbells)),
            (format!("tx_q{i}_reclaims"), sw(|s| &s.reclaims)),
        ]);
    }
    v
}

unsafe extern "C" fn xstats_get(
    dev: *mut sys::rte_eth_dev,
    out: *mut sys::rte_eth_xstat,
    n: c_uint,
) -> c_int {
    with_adapter!(dev, "xstats_get", |a| {
        let v = xstats(a);
        if out.is_null() || (n as usize) < v.len() {
            return Ok(v.len() as c_int);
        }
        for (i, (_, val)) in v.iter().enumerate() {
            // SAFETY: the caller's array has n >= v.len() entries.
            unsafe {
                *out.add(i) = sys::rte_eth_xstat {
                    id: i as u64,
                    value: *val,
                }
            };
        }
        Ok(v.len() as c_int)
    })
}

unsafe extern "C" fn xstats_get_names(
    dev: *mut sys::rte_eth_dev,
    out: *mut sys::rte_eth_xstat_name,
    n: c_uint,
) -> c_int {
    with_adapter!(dev, "xstats_get_names", |a| {
        let v = xstats(a);
        if out.is_null() || (n as usize) < v.len() {
            return Ok(v.len() as c_int);
        }
        for (i, (name, _)) in v.iter().enumerate() {
            // SAFETY: as in xstats_get; each name buffer holds RTE_ETH_XSTATS_NAME_SIZE bytes.
            let dst = unsafe { &mut (*out.add(i)).name };
            let len = name.len().min(dst.len() - 1);
            for (d, s) in dst.iter_mut().zip(name.as_bytes()[..len].iter()) {
                *d = *s as c_char;
            }
            dst[len] = 0;
        }
        Ok(v.len() as c_int)
    })
}

unsafe extern "C" fn xstats_reset(dev: *mut sys::rte_eth_dev) -> c_int {
    // SAFETY: forwarding the same port.
    unsafe { stats_reset(dev) }
}

// ----------------------------------------------------------------------------------------
// Filters and RSS
// ----------------------------------------------------------------------------------------

fn set_flag(dev: *mut sys::rte_eth_dev, f: impl FnOnce(&mut rpc::RxFilters)) -> c_int {
    with_adapter!(dev, "rx filter", |a| {
        a.port.update_filters(|x| {
            f(x);
            Ok(())
        })?;
        Ok(0)
    })
}

unsafe extern "C" fn promiscuous_enable(dev: *mut sys::rte_eth_dev) -> c_int {
    set_flag(dev, |f| f.promisc = true)
}
unsafe extern "C" fn promiscuous_disable(dev: *mut sys::rte_eth_dev) -> c_int {
    set_flag(dev, |f| f.promisc = false)
}
unsafe extern "C" fn allmulticast_enable(dev: *mut sys::rte_eth_dev) -> c_int {
    set_flag(dev, |f| f.allmulti = true)
}
unsafe extern "C" fn allmulticast_disable(dev: *mut sys::rte_eth_dev) -> c_int {
    set_flag(dev, |f| f.allmulti = false)
}

fn mac_of(addr: *const sys::rte_ether_addr) -> Result<MacAddr> {
    if addr.is_null() {
        return Err(Error::invalid("no MAC address given"));
    }
    // SAFETY: ethdev passes a valid address.
    Ok(MacAddr(unsafe { (*addr).addr_bytes }))
}

unsafe extern "C" fn mac_addr_set(
    dev: *mut sys::rte_eth_dev,
    addr: *mut sys::rte_ether_addr,
) -> c_int {
    with_adapter!(dev, "mac_addr_set", |a| {
        let mac = mac_of(addr)?;
        a.port.update_filters(|f| {
            f.uc.retain(|m| *m != mac);
            f.primary = mac;
            Ok(())
        })?;
        Ok(0)
    })
}

unsafe extern "C" fn mac_addr_add(
    dev: *mut sys::rte_eth_dev,
    addr: *mut sys::rte_ether_addr,
    index: u32,
    _vmdq: u32,
) -> c_int {
    with_adapter!(dev, "mac_addr_add", |a| {
        let mac = mac_of(addr)?;
        if !mac.is_valid_unicast() {
            return Err(Error::invalid(format!(
                "{mac} is not a unicast address (use the multicast list)"
            )));
        }
        if index == 0 || index >= MAX_MAC_ADDRS {
            return Err(Error::invalid(format!(
                "MAC index {index}: 1..{MAX_MAC_ADDRS}"
            )));
        }
        a.port.update_filters(|f| {
            if f.primary != mac && !f.uc.contains(&mac) {
                f.uc.push(mac);
            }
            Ok(())
        })?;
        Ok(0)
    })
}

unsafe extern "C" fn mac_addr_remove(dev: *mut sys::rte_eth_dev, index: u32) {
    with_adapter!(dev, "mac_addr_remove", |a| {
        let d = a.data();
        if index == 0 || index >= MAX_MAC_ADDRS || d.mac_addrs.is_null() {
            return Ok(0);
        }
        // SAFETY: mac_addrs holds MAX_MAC_ADDRS entries; ethdev clears the entry after us.
        let mac = MacAddr(unsafe { (*d.mac_addrs.add(index as usize)).addr_bytes });
        a.port.update_filters(|f| {
            f.uc.retain(|m| *m != mac);
            Ok(())
        })?;
        Ok(0)
    });
}

unsafe extern "C" fn set_mc_addr_list(
    dev: *mut sys::rte_eth_dev,
    list: *mut sys::rte_ether_addr,
    n: u32,
) -> c_int {
    with_adapter!(dev, "set_mc_addr_list", |a| {
        let mut mc = Vec::with_capacity(n as usize);
        for i in 0..n as usize {
            // SAFETY: ethdev passes n addresses.
            let m = MacAddr(unsafe { (*list.add(i)).addr_bytes });
            if !m.is_multicast() {
                return Err(Error::invalid(format!(
                    "{m} in the multicast list is not multicast"
                )));
            }
            mc.push(m);
        }
        a.port.update_filters(|f| {
            f.mc = mc;
            Ok(())
        })?;
        Ok(0)
    })
}

unsafe extern "C" fn rss_hash_update(
    dev: *mut sys::rte_eth_dev,
    conf: *mut sys::rte_eth_rss_conf,
) -> c_int {
    with_adapter!(dev, "rss_hash_update", |a| {
        // SAFETY: ethdev passes a valid rss_conf.
        let c = unsafe { &*conf };
        check_hf(c.rss_hf)?;
        let key = if c.rss_key.is_null() {
            None
        } else {
            if c.rss_key_len as usize != RSS_KEY_LEN {
                return Err(Error::invalid(format!(
                    "RSS key of {} bytes: the key is {RSS_KEY_LEN} bytes",
                    c.rss_key_len
                )));
            }
            let mut k = [0u8; RSS_KEY_LEN];
            // SAFETY: rss_key_len bytes.
            k.copy_from_slice(unsafe { core::slice::from_raw_parts(c.rss_key, RSS_KEY_LEN) });
            Some(k)
        };
        a.port.update_rss(|r| {
            r.hash = hash_from_hf(c.rss_hf);
            if let Some(k) = key {
                r.key = k;
            }
            Ok(())
        })?;
        Ok(0)
    })
}

unsafe extern "C" fn rss_hash_conf_get(
    dev: *mut sys::rte_eth_dev,
    conf: *mut sys::rte_eth_rss_conf,
) -> c_int {
    with_adapter!(dev, "rss_hash_conf_get", |a| {
        // SAFETY: ethdev passes a valid rss_conf.
        let c = unsafe { &mut *conf };
        let r = a.port.rss();
        if !c.rss_key.is_null() {
            if (c.rss_key_len as usize) < RSS_KEY_LEN && c.rss_key_len != 0 {
                return Err(Error::invalid(format!(
                    "RSS key buffer of {} bytes; need {RSS_KEY_LEN}",
                    c.rss_key_len
                )));
            }
            // SAFETY: the caller's buffer holds at least hash_key_size bytes.
            unsafe { core::ptr::copy_nonoverlapping(r.key.as_ptr(), c.rss_key, RSS_KEY_LEN) };
        }
        c.rss_key_len = RSS_KEY_LEN as u8;
        c.rss_hf = hf_from_hash(r.hash);
        Ok(0)
    })
}

pub(super) fn reta_groups<'a>(
    conf: *mut sys::rte_eth_rss_reta_entry64,
    size: u16,
) -> Result<&'a mut [sys::rte_eth_rss_reta_entry64]> {
    if size as usize != RETA_SIZE {
        return Err(Error::invalid(format!(
            "RSS table size {size}: the table has {RETA_SIZE} entries"
        )));
    }
    if conf.is_null() {
        return Err(Error::invalid("no RSS table given"));
    }
    // SAFETY: ethdev passes size / 64 groups.
    Ok(unsafe {
        core::slice::from_raw_parts_mut(conf, RETA_SIZE / sys::RTE_ETH_RETA_GROUP_SIZE as usize)
    })
}

unsafe extern "C" fn reta_update(
    dev: *mut sys::rte_eth_dev,
    conf: *mut sys::rte_eth_rss_reta_entry64,
    size: u16,
) -> c_int {
    with_adapter!(dev, "reta_update", |a| {
        let groups = reta_groups(conf, size)?;
        let nrx = a.data().nb_rx_queues;
        a.port.update_rss(|r| {
            for (i, e) in r.reta.iter_mut().enumerate() {
                let g = &groups[i / 64];
                if g.mask & (1 << (i % 64)) != 0 {
                    let q = g.reta[i % 64];
                    if q >= nrx {
                        return Err(Error::invalid(format!(
                            "RSS table entry {i}: queue {q} >= {nrx} Rx queues"
                        )));
                    }
                    *e = q;
                }
            }
            Ok(())
        })?;
        Ok(0)
    })
}

unsafe extern "C" fn reta_query(
    dev: *mut sys::rte_eth_dev,
    conf: *mut sys::rte_eth_rss_reta_entry64,
    size: u16,
) -> c_int {
    with_adapter!(dev, "reta_query", |a| {
        let groups = reta_groups(conf, size)?;
        let r = a.port.rss();
        for (i, q) in r.reta.iter().enumerate() {
            let g = &mut groups[i / 64];
            if g.mask & (1 << (i % 64)) != 0 {
                g.reta[i % 64] = *q;
            }
        }
        Ok(0)
    })
}

// ----------------------------------------------------------------------------------------
// Time: the device clock and IEEE 1588
// ----------------------------------------------------------------------------------------

const NS_PER_SEC: u64 = 1_000_000_000;

fn to_timespec(ns: u64, ts: *mut sys::timespec) -> Result<()> {
    // SAFETY: ethdev passes the application's timespec (checked for null first).
    let ts = unsafe { ts.as_mut() }.ok_or_else(|| Error::invalid("null timespec"))?;
    ts.tv_sec = (ns / NS_PER_SEC) as _;
    ts.tv_nsec = (ns % NS_PER_SEC) as _;
    Ok(())
}

unsafe extern "C" fn timesync_enable(dev: *mut sys::rte_eth_dev) -> c_int {
    with_adapter!(dev, "timesync_enable", |a| {
        a.port.set_timesync(true)?;
        Ok(0)
    })
}

unsafe extern "C" fn timesync_disable(dev: *mut sys::rte_eth_dev) -> c_int {
    with_adapter!(dev, "timesync_disable", |a| {
        a.port.set_timesync(false)?;
        Ok(0)
    })
}

/// The Rx stamp of the last PTP frame received (taken: the next read waits for the next
/// frame); -EINVAL, quietly, when there is none (applications poll).
unsafe extern "C" fn timesync_read_rx_timestamp(
    dev: *mut sys::rte_eth_dev,
    ts: *mut sys::timespec,
    _flags: u32,
) -> c_int {
    with_adapter!(dev, "timesync_read_rx_timestamp", |a| {
        match a.port.stamps().take_rx() {
            Some(ns) => to_timespec(ns, ts).map(|_| 0),
            None => Ok(-errno::EINVAL),
        }
    })
}

/// The stamp of the last packet sent with `RTE_MBUF_F_TX_IEEE1588_TMST`. Reads the Tx
/// completions first, so call it where the port's Tx queues are used (as
/// `rte_eth_tx_done_cleanup`), e.g. on the lcore that sent the packet, as testpmd's ieee1588
/// engine does; -EINVAL, quietly, while the stamp has not come back.
unsafe extern "C" fn timesync_read_tx_timestamp(
    dev: *mut sys::rte_eth_dev,
    ts: *mut sys::timespec,
) -> c_int {
    with_adapter!(dev, "timesync_read_tx_timestamp", |a| {
        let qs = DevQueues { a };
        // The caller's contract (above, as for tx_done_cleanup): no tx_burst runs on these
        // queues meanwhile, so reading their completions here is the queues' own work.
        for i in 0..a.data().nb_tx_queues {
            if let Some(q) = qs.txq(i) {
                q.cleanup();
            }
        }
        match a.port.stamps().take_tx() {
            Some(ns) => to_timespec(ns, ts).map(|_| 0),
            None => Ok(-errno::EINVAL),
        }
    })
}

unsafe extern "C" fn timesync_adjust_time(dev: *mut sys::rte_eth_dev, delta: i64) -> c_int {
    with_adapter!(dev, "timesync_adjust_time", |a| {
        a.port.step_clock(delta)?;
        Ok(0)
    })
}

unsafe extern "C" fn timesync_read_time(
    dev: *mut sys::rte_eth_dev,
    ts: *mut sys::timespec,
) -> c_int {
    with_adapter!(dev, "timesync_read_time", |a| {
        to_timespec(a.port.clock()?, ts).map(|_| 0)
    })
}

unsafe extern "C" fn timesync_write_time(
    dev: *mut sys::rte_eth_dev,
    ts: *const sys::timespec,
) -> c_int {
    with_adapter!(dev, "timesync_write_time", |a| {
        // SAFETY: ethdev passes the application's timespec (checked for null first).
        let ts = unsafe { ts.as_ref() }.ok_or_else(|| Error::invalid("null timespec"))?;
        let (sec, nsec) = (ts.tv_sec, ts.tv_nsec);
        if sec < 0 || !(0..NS_PER_SEC as i64).contains(&nsec) {
            return Err(Error::invalid(format!(
                "time {sec} s {nsec} ns: seconds must not be negative and nanoseconds below 10^9"
            )));
        }
        let ns = (sec as u64)
            .checked_mul(NS_PER_SEC)
            .and_then(|v| v.checked_add(nsec as u64))
            .ok_or_else(|| Error::invalid(format!("time {sec} s does not fit the clock")))?;
        a.port.set_clock(ns);
        Ok(0)
    })
}

/// The device clock in the unit of the Rx timestamp field (ns).
unsafe extern "C" fn read_clock(dev: *mut sys::rte_eth_dev, clock: *mut u64) -> c_int {
    with_adapter!(dev, "read_clock", |a| {
        // SAFETY: ethdev passes the application's u64 (checked for null first).
        let out = unsafe { clock.as_mut() }.ok_or_else(|| Error::invalid("null clock"))?;
        *out = a.port.clock()?;
        Ok(0)
    })
}

/// The callbacks.
pub(super) static OPS: sys::eth_dev_ops = {
    // SAFETY: an all-None eth_dev_ops is valid; every callback used is set below.
    let mut o: sys::eth_dev_ops = unsafe { core::mem::zeroed() };
    o.dev_configure = Some(dev_configure);
    o.dev_start = Some(dev_start);
    o.dev_stop = Some(dev_stop);
    o.dev_close = Some(dev_close);
    o.dev_reset = Some(dev_reset);
    o.link_update = Some(link_update);
    o.dev_infos_get = Some(dev_infos_get);
    o.dev_supported_ptypes_get = Some(dev_supported_ptypes_get);
    o.mtu_set = Some(mtu_set);
    o.fw_version_get = Some(fw_version_get);
    o.fec_get_capability = Some(fec_get_capability);
    o.fec_get = Some(fec_get);
    o.fec_set = Some(fec_set);
    o.get_module_info = Some(get_module_info);
    o.get_module_eeprom = Some(get_module_eeprom);
    o.get_reg = Some(get_reg);
    o.eth_dev_priv_dump = Some(priv_dump);
    o.get_monitor_addr = Some(get_monitor_addr);
    o.eth_rx_descriptor_dump = Some(rx_descriptor_dump);
    o.eth_tx_descriptor_dump = Some(tx_descriptor_dump);
    o.rx_queue_intr_enable = Some(rx_queue_intr_enable);
    o.rx_queue_intr_disable = Some(rx_queue_intr_disable);
    o.dev_set_link_up = Some(dev_set_link_up);
    o.dev_set_link_down = Some(dev_set_link_down);
    o.flow_ctrl_get = Some(flow_ctrl_get);
    o.flow_ctrl_set = Some(flow_ctrl_set);
    o.rx_burst_mode_get = Some(rx_burst_mode_get);
    o.buffer_split_supported_hdr_ptypes_get = Some(buffer_split_ptypes);
    o.tx_burst_mode_get = Some(tx_burst_mode_get);
    o.rx_queue_setup = Some(rx_queue_setup);
    o.rx_queue_release = Some(rx_queue_release);
    o.tx_queue_setup = Some(tx_queue_setup);
    o.tx_queue_release = Some(tx_queue_release);
    o.tx_done_cleanup = Some(tx_done_cleanup);
    o.rx_queue_start = Some(rx_queue_start);
    o.rx_queue_stop = Some(rx_queue_stop);
    o.tx_queue_start = Some(tx_queue_start);
    o.tx_queue_stop = Some(tx_queue_stop);
    o.rxq_info_get = Some(rxq_info_get);
    o.txq_info_get = Some(txq_info_get);
    o.stats_get = Some(stats_get);
    o.stats_reset = Some(stats_reset);
    o.xstats_get = Some(xstats_get);
    o.xstats_get_names = Some(xstats_get_names);
    o.xstats_reset = Some(xstats_reset);
    o.promiscuous_enable = Some(promiscuous_enable);
    o.promiscuous_disable = Some(promiscuous_disable);
    o.allmulticast_enable = Some(allmulticast_enable);
    o.allmulticast_disable = Some(allmulticast_disable);
    o.mac_addr_set = Some(mac_addr_set);
    o.mac_addr_add = Some(mac_addr_add);
    o.mac_addr_remove = Some(mac_addr_remove);
    o.set_mc_addr_list = Some(set_mc_addr_list);
    o.rss_hash_update = Some(rss_hash_update);
    o.rss_hash_conf_get = Some(rss_hash_conf_get);
    o.reta_update = Some(reta_update);
    o.reta_query = Some(reta_query);
    o.flow_ops_get = Some(super::flow::flow_ops_get);
    o.timesync_enable = Some(timesync_enable);
    o.timesync_disable = Some(timesync_disable);
    o.timesync_read_rx_timestamp = Some(timesync_read_rx_timestamp);
    o.timesync_read_tx_timestamp = Some(timesync_read_tx_timestamp);
    o.timesync_adjust_time = Some(timesync_adjust_time);
    o.timesync_read_time = Some(timesync_read_time);
    o.timesync_write_time = Some(timesync_write_time);
    o.read_clock = Some(read_clock);
    o
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dumps_fill_a_small_stream_as_far_as_it_goes() {
        let mut buf = [0u8; 16];
        // SAFETY: a memory stream over `buf` (15 bytes and the terminating NUL), closed below
        // while `buf` lives.
        let f = unsafe { libc::fmemopen(buf.as_mut_ptr().cast(), buf.len(), c"w".as_ptr()) };
        assert!(!f.is_null());
        // Unbuffered, so each write reaches the memory at once (as a stdio buffer's flush
        // does when it fills).
        // SAFETY: the open stream, before any I/O on it.
        let rc = unsafe { libc::setvbuf(f, core::ptr::null_mut(), libc::_IONBF, 0) };
        assert_eq!(rc, 0);
        assert_eq!(write_dump(f.cast(), "0123456789"), 0);
        assert_eq!(
            write_dump(f.cast(), "abcdefghij"),
            0,
            "cut part way: kept, not an error"
        );
        assert_eq!(
            write_dump(f.cast(), "more"),
            -errno::EIO,
            "a full stream takes nothing"
        );
        // SAFETY: the stream opened above.
        unsafe { libc::fclose(f) };
        assert_eq!(&buf[..15], b"0123456789abcde");
        assert_eq!(write_dump(core::ptr::null_mut(), "x"), -errno::EIO);
    }
}
