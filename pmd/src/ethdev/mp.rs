//! Secondary processes: net_fbnic ports seen from another DPDK process (`dpdk-proc-info`,
//! `dpdk-pdump`, monitoring agents).
//!
//! The device model and the driver's state live in the primary's private memory, so a
//! secondary cannot touch them. Its ports are attached to the primary's shared ethdev data
//! and get [`SECONDARY_OPS`]: device information, statistics (basic, extended, resets),
//! firmware version, the register dump, the private dump and the descriptor dumps, each answered by the primary over EAL's
//! multi-process channel (`rte_mp_request_sync`, action [`MP_ACTION`]). The primary runs
//! its own callback for the port and returns the answer: the fixed part in the message, the
//! bytes (names, values, registers) in a memfd passed along with it. The link status needs
//! no request: the primary keeps it in the shared data. The data path stays in the primary:
//! a secondary's Rx and Tx bursts move nothing (and say so once in the log).

use core::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use dpdk_sys as sys;

use super::ops::OPS;
use crate::error::{errno, Error, Result};

/// The multi-process action the primary registers.
pub(super) const MP_ACTION: &CStr = c"net_fbnic_mp";

/// How long a secondary waits for the primary's answer.
const MP_TIMEOUT_S: i64 = 5;

/// Largest answer the primary sends (the register dump is 220 KB; xstats names a few KB).
const MAX_ANSWER: usize = 4 << 20;

/// What a secondary asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
enum Op {
    Info = 1,
    Stats = 2,
    StatsReset = 3,
    XstatsNames = 4,
    Xstats = 5,
    FwVersion = 6,
    Reg = 7,
    RxqInfo = 8,
    TxqInfo = 9,
    RxBurstMode = 10,
    TxBurstMode = 11,
    RssConf = 12,
    Reta = 13,
    FlowCtrl = 14,
    PrivDump = 15,
    RxDescDump = 16,
    TxDescDump = 17,
}

impl Op {
    fn from_raw(v: u32) -> Option<Self> {
        Some(match v {
            1 => Self::Info,
            2 => Self::Stats,
            3 => Self::StatsReset,
            4 => Self::XstatsNames,
            5 => Self::Xstats,
            6 => Self::FwVersion,
            7 => Self::Reg,
            8 => Self::RxqInfo,
            9 => Self::TxqInfo,
            10 => Self::RxBurstMode,
            11 => Self::TxBurstMode,
            12 => Self::RssConf,
            13 => Self::Reta,
            14 => Self::FlowCtrl,
            15 => Self::PrivDump,
            16 => Self::RxDescDump,
            17 => Self::TxDescDump,
            _ => return None,
        })
    }
}

/// A request (the message's parameter).
#[derive(Clone, Copy, Debug)]
#[repr(C)]
struct Request {
    op: u32,
    /// The queue (queue information, burst modes).
    queue: u32,
    /// Entries (xstats, names) or bytes (firmware version) the caller has room for; 0 asks
    /// for the size.
    room: u32,
    /// Register dump: first register, count (0 = to the end), whether data is wanted.
    reg_offset: u32,
    reg_length: u32,
    reg_data: u32,
    /// The port's ethdev name, NUL-terminated.
    port: [u8; sys::RTE_ETH_NAME_MAX_LEN as usize],
}

/// An answer (the reply's parameter); `bytes` more come in the memfd.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
struct Answer {
    rc: i32,
    reg_length: u32,
    reg_width: u32,
    reg_version: u32,
    reg_offset: u32,
    bytes: u64,
}

const _: () = assert!(core::mem::size_of::<Request>() <= sys::RTE_MP_MAX_PARAM_LEN as usize);
const _: () = assert!(core::mem::size_of::<Answer>() <= sys::RTE_MP_MAX_PARAM_LEN as usize);

/// Plain-data views of the structures that cross processes.
///
/// # Safety
/// Implementors are `repr(C)` structures of integers (and arrays of them, or pointers the
/// receiver never follows), for which every byte pattern is a valid value.
unsafe trait Pod: Copy {
    fn bytes(v: &[Self]) -> &[u8] {
        // SAFETY: Pod types are plain data; the slice covers exactly their bytes.
        unsafe { core::slice::from_raw_parts(v.as_ptr().cast(), core::mem::size_of_val(v)) }
    }

    /// Reads values from `b` (as many whole ones as it holds, at most `n`).
    fn from_bytes(b: &[u8], n: usize) -> Vec<Self> {
        let size = core::mem::size_of::<Self>();
        (0..n.min(b.len() / size.max(1)))
            .map(|i| {
                // SAFETY: the range lies in `b`; any bytes make a valid Pod; unaligned read.
                unsafe { b.as_ptr().add(i * size).cast::<Self>().read_unaligned() }
            })
            .collect()
    }
}

// SAFETY: all are repr(C) integer structures (rte_eth_dev_info's pointers are replaced by
// the secondary's own before anyone reads them).
unsafe impl Pod for Request {}
// SAFETY: as above.
unsafe impl Pod for Answer {}
// SAFETY: as above.
unsafe impl Pod for sys::rte_eth_stats {}
// SAFETY: as above.
unsafe impl Pod for sys::rte_eth_xstat {}
// SAFETY: as above.
unsafe impl Pod for sys::rte_eth_xstat_name {}
// SAFETY: as above.
unsafe impl Pod for sys::rte_eth_dev_info {}
// SAFETY: as above (the mempool pointer of rte_eth_rxq_info points into the memory
// primary and secondaries share at the same address; rx_seg is cleared on arrival).
unsafe impl Pod for sys::rte_eth_rxq_info {}
// SAFETY: as above.
unsafe impl Pod for sys::rte_eth_txq_info {}
// SAFETY: as above.
unsafe impl Pod for sys::rte_eth_burst_mode {}
// SAFETY: as above.
unsafe impl Pod for sys::rte_eth_rss_reta_entry64 {}
// SAFETY: as above.
unsafe impl Pod for sys::rte_eth_fc_conf {}
// SAFETY: u8 is plain data.
unsafe impl Pod for u8 {}

// ---- primary side ----

/// Registers the primary's handler (once per process). Without a multi-process channel
/// (`--in-memory`, `--no-shconf`) there are no secondaries to answer: that is not an error.
pub(super) fn register_primary() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: the name is a static C string and the handler lives for the process.
        let rc = unsafe { sys::rte_mp_action_register(MP_ACTION.as_ptr(), Some(handle)) };
        if rc != 0 {
            // SAFETY: plain EAL query.
            let e = unsafe { sys::fbnic_rte_errno() };
            ::log::debug!("no multi-process channel (errno {e}): secondaries cannot query ports");
        }
    });
}

/// The primary's handler: runs the port's own callback, answers the peer.
unsafe extern "C" fn handle(msg: *const sys::rte_mp_msg, peer: *const c_void) -> c_int {
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: EAL passes a valid message.
        let msg = unsafe { &*msg };
        let req = Request::from_bytes(&msg.param[..msg.len_param.max(0) as usize], 1)
            .first()
            .copied();
        let (answer, bytes) = match req {
            Some(req) => answer(&req).unwrap_or_else(|e| {
                ::log::warn!("secondary request: {e}");
                (
                    Answer {
                        rc: e.to_errno(),
                        ..Answer::default()
                    },
                    Vec::new(),
                )
            }),
            None => (
                Answer {
                    rc: -errno::EINVAL,
                    ..Answer::default()
                },
                Vec::new(),
            ),
        };
        reply(msg, peer, answer, &bytes)
    }));
    r.unwrap_or_else(|_| {
        ::log::error!("secondary request: internal error (panic caught)");
        -1
    })
}

/// Sends `answer` and `bytes` (in a memfd) to `peer`.
fn reply(req: &sys::rte_mp_msg, peer: *const c_void, mut answer: Answer, bytes: &[u8]) -> c_int {
    // SAFETY: an all-zero rte_mp_msg is valid.
    let mut out: sys::rte_mp_msg = unsafe { core::mem::zeroed() };
    out.name = req.name;
    let memfd = if bytes.is_empty() {
        None
    } else {
        match memfd_with(bytes) {
            Ok(fd) => Some(fd),
            Err(e) => {
                ::log::warn!("secondary request: {e}");
                answer = Answer {
                    rc: -errno::ENOMEM,
                    ..Answer::default()
                };
                None
            }
        }
    };
    if let Some(fd) = &memfd {
        answer.bytes = bytes.len() as u64;
        out.num_fds = 1;
        out.fds[0] = fd.as_raw_fd();
    }
    let a = Answer::bytes(core::slice::from_ref(&answer));
    out.param[..a.len()].copy_from_slice(a);
    out.len_param = a.len() as c_int;
    // SAFETY: a complete message; EAL duplicates the descriptor into the peer (SCM_RIGHTS)
    // before returning, so ours closes when `memfd` drops.
    unsafe { sys::rte_mp_reply(&mut out, peer.cast()) }
}

/// An anonymous file holding `bytes`.
fn memfd_with(bytes: &[u8]) -> std::io::Result<OwnedFd> {
    // SAFETY: a static name and valid flags.
    let fd = unsafe { libc::memfd_create(c"net_fbnic_mp".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a descriptor we just opened and own.
    let mut f = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    f.write_all(bytes)?;
    Ok(f.into())
}

/// Runs the request on the named port of this (primary) process.
fn answer(req: &Request) -> Result<(Answer, Vec<u8>)> {
    let op = Op::from_raw(req.op).ok_or_else(|| Error::invalid("unknown request"))?;
    let name = CStr::from_bytes_until_nul(&req.port)
        .map_err(|_| Error::invalid("port name without NUL"))?;
    // SAFETY: a NUL-terminated name; read-only lookup.
    let dev = unsafe { sys::rte_eth_dev_allocated(name.as_ptr()) };
    // SAFETY: a non-null port has valid dev_ops.
    if dev.is_null() || !core::ptr::eq(unsafe { (*dev).dev_ops }, &OPS) {
        return Err(Error::invalid(format!(
            "{}: no such net_fbnic port in the primary",
            name.to_string_lossy()
        )));
    }
    let mut a = Answer::default();
    let room = req.room as usize;
    let bytes = match op {
        Op::Info => {
            // SAFETY: an all-zero rte_eth_dev_info is valid; the ethdev API fills it as
            // it would for the secondary (defaults, our callback, then its own fields).
            let mut info: sys::rte_eth_dev_info = unsafe { core::mem::zeroed() };
            // SAFETY: a live port of ours.
            a.rc = unsafe { sys::rte_eth_dev_info_get((*(*dev).data).port_id, &mut info) };
            sys::rte_eth_dev_info::bytes(core::slice::from_ref(&info)).to_vec()
        }
        Op::Stats => {
            // SAFETY: as above, zeroed as ethdev passes it.
            let mut st: sys::rte_eth_stats = unsafe { core::mem::zeroed() };
            // SAFETY: our callback, for our port, with ethdev's arguments.
            a.rc = call(OPS.stats_get, |f| unsafe { f(dev, &mut st) });
            sys::rte_eth_stats::bytes(core::slice::from_ref(&st)).to_vec()
        }
        Op::StatsReset => {
            // SAFETY: as above.
            a.rc = call(OPS.stats_reset, |f| unsafe { f(dev) });
            Vec::new()
        }
        Op::XstatsNames => {
            let room = capped::<sys::rte_eth_xstat_name>(room);
            // SAFETY: zeroed names are valid.
            let mut v: Vec<sys::rte_eth_xstat_name> = vec![unsafe { core::mem::zeroed() }; room];
            let p = if room == 0 {
                core::ptr::null_mut()
            } else {
                v.as_mut_ptr()
            };
            // SAFETY: as above; `p` is null or has room for `room` names.
            a.rc = call(OPS.xstats_get_names, |f| unsafe {
                f(dev, p, room as c_uint)
            });
            v.truncate((a.rc.max(0) as usize).min(room));
            sys::rte_eth_xstat_name::bytes(&v).to_vec()
        }
        Op::Xstats => {
            let room = capped::<sys::rte_eth_xstat>(room);
            // SAFETY: as above.
            let mut v: Vec<sys::rte_eth_xstat> = vec![unsafe { core::mem::zeroed() }; room];
            let p = if room == 0 {
                core::ptr::null_mut()
            } else {
                v.as_mut_ptr()
            };
            // SAFETY: as above; `p` is null or has room for `room` values.
            a.rc = call(OPS.xstats_get, |f| unsafe { f(dev, p, room as c_uint) });
            v.truncate((a.rc.max(0) as usize).min(room));
            sys::rte_eth_xstat::bytes(&v).to_vec()
        }
        Op::FwVersion => {
            let mut v = vec![0u8; room.min(4096)];
            let len = v.len();
            // SAFETY: as above; `v` has `len` writable bytes.
            a.rc = call(OPS.fw_version_get, |f| unsafe {
                f(dev, v.as_mut_ptr().cast(), len)
            });
            v
        }
        Op::Reg => return reg(dev, req),
        Op::PrivDump => super::ops::priv_dump_text(driver_state(dev)?).into_bytes(),
        Op::RxDescDump | Op::TxDescDump => {
            let ad = driver_state(dev)?;
            let (q, offset, num) = (req.queue, req.reg_offset, req.reg_length);
            let (Ok(q), Ok(offset), Ok(num)) =
                (u16::try_from(q), u16::try_from(offset), u16::try_from(num))
            else {
                return Err(Error::invalid(
                    "descriptor dump: queue, offset or count too large",
                ));
            };
            match super::ops::desc_dump_text(ad, op == Op::RxDescDump, q, offset, num) {
                Ok(text) => text.into_bytes(),
                Err(e) => {
                    a.rc = e.to_errno();
                    Vec::new()
                }
            }
        }
        Op::RxqInfo => {
            let q = queue(dev, req.queue, true)?;
            // SAFETY: all-zero is valid, as ethdev passes it.
            let mut info: sys::rte_eth_rxq_info = unsafe { core::mem::zeroed() };
            // SAFETY: our callback, our port, a queue ethdev would accept.
            a.rc = call(OPS.rxq_info_get, |f| unsafe {
                f(dev, q, &mut info);
                0
            });
            sys::rte_eth_rxq_info::bytes(core::slice::from_ref(&info)).to_vec()
        }
        Op::TxqInfo => {
            let q = queue(dev, req.queue, false)?;
            // SAFETY: as above.
            let mut info: sys::rte_eth_txq_info = unsafe { core::mem::zeroed() };
            // SAFETY: as above.
            a.rc = call(OPS.txq_info_get, |f| unsafe {
                f(dev, q, &mut info);
                0
            });
            sys::rte_eth_txq_info::bytes(core::slice::from_ref(&info)).to_vec()
        }
        Op::RxBurstMode | Op::TxBurstMode => {
            let rx = op == Op::RxBurstMode;
            let q = queue(dev, req.queue, rx)?;
            // SAFETY: as above.
            let mut mode: sys::rte_eth_burst_mode = unsafe { core::mem::zeroed() };
            let f = if rx {
                OPS.rx_burst_mode_get
            } else {
                OPS.tx_burst_mode_get
            };
            // SAFETY: as above.
            a.rc = call(f, |f| unsafe { f(dev, q, &mut mode) });
            sys::rte_eth_burst_mode::bytes(core::slice::from_ref(&mode)).to_vec()
        }
        Op::RssConf => {
            // The hash functions (8 bytes), then the key.
            let mut key = vec![0u8; room.min(255)];
            // SAFETY: as above.
            let mut conf: sys::rte_eth_rss_conf = unsafe { core::mem::zeroed() };
            conf.rss_key = if key.is_empty() {
                core::ptr::null_mut()
            } else {
                key.as_mut_ptr()
            };
            conf.rss_key_len = key.len() as u8;
            // SAFETY: as above; the key buffer has rss_key_len bytes.
            a.rc = call(OPS.rss_hash_conf_get, |f| unsafe { f(dev, &mut conf) });
            key.truncate(conf.rss_key_len as usize);
            let mut v = conf.rss_hf.to_le_bytes().to_vec();
            v.extend_from_slice(&key);
            v
        }
        Op::Reta => {
            // Every entry of `room` (the table size), all masks set.
            let room = room.min(usize::from(u16::MAX));
            let groups = room.div_ceil(sys::RTE_ETH_RETA_GROUP_SIZE as usize);
            // SAFETY: as above.
            let mut v: Vec<sys::rte_eth_rss_reta_entry64> =
                vec![unsafe { core::mem::zeroed() }; groups];
            for g in &mut v {
                g.mask = u64::MAX;
            }
            // SAFETY: as above; `v` covers `room` entries.
            a.rc = call(OPS.reta_query, |f| unsafe {
                f(dev, v.as_mut_ptr(), room as u16)
            });
            sys::rte_eth_rss_reta_entry64::bytes(&v).to_vec()
        }
        Op::FlowCtrl => {
            // SAFETY: as above.
            let mut fc: sys::rte_eth_fc_conf = unsafe { core::mem::zeroed() };
            // SAFETY: as above.
            a.rc = call(OPS.flow_ctrl_get, |f| unsafe { f(dev, &mut fc) });
            sys::rte_eth_fc_conf::bytes(core::slice::from_ref(&fc)).to_vec()
        }
    };
    if bytes.len() > MAX_ANSWER {
        return Err(Error::invalid("answer too large"));
    }
    Ok((a, bytes))
}

/// The driver's state of `dev`, a live port of this driver (`answer` checked its ops).
fn driver_state<'a>(dev: *const sys::rte_eth_dev) -> Result<&'a super::Adapter> {
    // SAFETY: `answer` found `dev` allocated with this driver's ops.
    unsafe { super::adapter(dev) }.ok_or_else(|| Error::invalid("the port has no driver state"))
}

/// `room` entries of `T` cut to what one answer may carry: the count comes from another
/// process, and the buffer for it is allocated here before the callback runs.
fn capped<T>(room: usize) -> usize {
    room.min(MAX_ANSWER / core::mem::size_of::<T>().max(1))
}

/// A queue id the primary's port has (ethdev checks this before calling a queue callback).
fn queue(dev: *const sys::rte_eth_dev, q: u32, rx: bool) -> Result<u16> {
    // SAFETY: a live port's shared data.
    let (n, queues) = unsafe {
        let d = &*(*dev).data;
        if rx {
            (d.nb_rx_queues, d.rx_queues)
        } else {
            (d.nb_tx_queues, d.tx_queues)
        }
    };
    // SAFETY: ethdev's queue arrays have nb_*_queues entries.
    if q >= u32::from(n) || queues.is_null() || unsafe { (*queues.add(q as usize)).is_null() } {
        return Err(Error::invalid(format!("queue {q} is not set up")));
    }
    Ok(q as u16)
}

/// Calls a callback of [`OPS`] (all are set; a missing one answers -ENOTSUP).
fn call<F: Copy>(f: Option<F>, run: impl FnOnce(F) -> c_int) -> c_int {
    f.map_or(-errno::ENOTSUP, run)
}

/// The register dump request: the size (no data), or `length` registers (0 = to the end)
/// from `offset`.
fn reg(dev: *mut sys::rte_eth_dev, req: &Request) -> Result<(Answer, Vec<u8>)> {
    // SAFETY: all-zero is a valid rte_dev_reg_info (null data: the size query).
    let mut info: sys::rte_dev_reg_info = unsafe { core::mem::zeroed() };
    let mut a = Answer {
        // SAFETY: our callback, our port; null data asks for the length and width.
        rc: call(OPS.get_reg, |f| unsafe { f(dev, &mut info) }),
        ..Answer::default()
    };
    if a.rc != 0 || req.reg_data == 0 {
        (a.reg_length, a.reg_width, a.reg_version) = (info.length, info.width, info.version);
        return Ok((a, Vec::new()));
    }
    let total = info.length as usize;
    let width = info.width.max(1) as usize;
    let count = if req.reg_length == 0 {
        total.saturating_sub(req.reg_offset as usize)
    } else {
        req.reg_length as usize
    };
    if count * width > MAX_ANSWER {
        return Err(Error::invalid("register range too large"));
    }
    let mut data = vec![0u8; count * width];
    info.data = data.as_mut_ptr().cast();
    info.offset = req.reg_offset;
    info.length = req.reg_length;
    // SAFETY: `data` has room for `count` registers of `width` bytes.
    a.rc = call(OPS.get_reg, |f| unsafe { f(dev, &mut info) });
    (a.reg_length, a.reg_width, a.reg_version, a.reg_offset) =
        (info.length, info.width, info.version, info.offset);
    if a.rc != 0 {
        data.clear();
    }
    Ok((a, data))
}

// ---- secondary side ----

/// Asks the primary; returns its answer and bytes.
fn request(dev: *const sys::rte_eth_dev, mut req: Request) -> Result<(Answer, Vec<u8>)> {
    // SAFETY: ethdev passes a live port whose shared data holds its name.
    let name = unsafe { CStr::from_ptr((*(*dev).data).name.as_ptr()) };
    let n = name.to_bytes();
    req.port = [0; sys::RTE_ETH_NAME_MAX_LEN as usize];
    let len = n.len().min(req.port.len() - 1);
    req.port[..len].copy_from_slice(&n[..len]);
    // SAFETY: all-zero messages and replies are valid.
    let mut msg: sys::rte_mp_msg = unsafe { core::mem::zeroed() };
    let action = MP_ACTION.to_bytes_with_nul();
    for (d, &s) in msg.name.iter_mut().zip(action) {
        *d = s as c_char;
    }
    let r = Request::bytes(core::slice::from_ref(&req));
    msg.param[..r.len()].copy_from_slice(r);
    msg.len_param = r.len() as c_int;
    // SAFETY: as above.
    let mut rep: sys::rte_mp_reply = unsafe { core::mem::zeroed() };
    let ts = sys::timespec {
        tv_sec: MP_TIMEOUT_S,
        tv_nsec: 0,
    };
    // SAFETY: a complete message, a reply EAL fills (msgs malloc'ed, freed below).
    let rc = unsafe { sys::rte_mp_request_sync(&mut msg, &mut rep, &ts) };
    let msgs = Msgs(rep.msgs);
    if rc != 0 || rep.nb_received != 1 || msgs.0.is_null() {
        return Err(Error::Ipc(format!(
            "{}: the primary process did not answer (rc {rc}, {} answers)",
            name.to_string_lossy(),
            rep.nb_received
        )));
    }
    // SAFETY: one message received.
    let m = unsafe { &*msgs.0 };
    let fds = &m.fds[..m.num_fds.clamp(0, 8) as usize];
    // Own every descriptor that came, so each is closed whatever happens next.
    let owned: Vec<OwnedFd> = fds
        .iter()
        .filter(|&&fd| fd >= 0)
        // SAFETY: EAL received these descriptors for us; nothing else owns them.
        .map(|&fd| unsafe { OwnedFd::from_raw_fd(fd) })
        .collect();
    let answer = Answer::from_bytes(&m.param[..m.len_param.max(0) as usize], 1)
        .first()
        .copied()
        .ok_or_else(|| Error::Ipc("malformed answer from the primary".into()))?;
    let mut bytes = Vec::new();
    if answer.bytes > 0 {
        if answer.bytes as usize > MAX_ANSWER {
            return Err(Error::Ipc("oversized answer from the primary".into()));
        }
        let fd = owned
            .into_iter()
            .next()
            .ok_or_else(|| Error::Ipc("answer from the primary without its data".into()))?;
        let mut f = std::fs::File::from(fd);
        f.seek(SeekFrom::Start(0))
            .and_then(|_| {
                bytes.resize(answer.bytes as usize, 0);
                f.read_exact(&mut bytes)
            })
            .map_err(|e| Error::Ipc(format!("reading the primary's answer: {e}")))?;
    }
    Ok((answer, bytes))
}

/// The reply array EAL allocated with malloc.
struct Msgs(*mut sys::rte_mp_msg);

impl Drop for Msgs {
    fn drop(&mut self) {
        // SAFETY: EAL allocates `msgs` with malloc and leaves freeing it to the caller.
        unsafe { libc::free(self.0.cast()) }
    }
}

fn req(op: Op) -> Request {
    Request {
        op: op as u32,
        queue: 0,
        room: 0,
        reg_offset: 0,
        reg_length: 0,
        reg_data: 0,
        port: [0; sys::RTE_ETH_NAME_MAX_LEN as usize],
    }
}

/// Runs a secondary callback: errors logged once and turned into negative errno values.
fn secondary(what: &str, f: impl FnOnce() -> Result<c_int>) -> c_int {
    super::guard(what, Some("secondary"), f)
}

unsafe extern "C" fn dev_infos_get(
    dev: *mut sys::rte_eth_dev,
    info: *mut sys::rte_eth_dev_info,
) -> c_int {
    secondary("dev_infos_get", || {
        let (a, b) = request(dev, req(Op::Info))?;
        let got = sys::rte_eth_dev_info::from_bytes(&b, 1);
        let theirs = got
            .first()
            .filter(|_| a.rc == 0)
            .ok_or_else(|| Error::Ipc(format!("the primary answered {}", a.rc)))?;
        // SAFETY: ethdev passes its structure; the pointers in the primary's copy mean
        // nothing here: keep ours (ethdev sets driver_name and dev_flags after us).
        let out = unsafe { &mut *info };
        let device = out.device;
        *out = *theirs;
        out.device = device;
        out.driver_name = core::ptr::null();
        out.dev_flags = core::ptr::null();
        out.switch_info.name = core::ptr::null();
        Ok(0)
    })
}

unsafe extern "C" fn link_update(_dev: *mut sys::rte_eth_dev, _wait: c_int) -> c_int {
    // The primary polls the link and keeps it in the shared data ethdev reads.
    0
}

unsafe extern "C" fn stats_get(dev: *mut sys::rte_eth_dev, st: *mut sys::rte_eth_stats) -> c_int {
    secondary("stats_get", || {
        let (a, b) = request(dev, req(Op::Stats))?;
        if a.rc != 0 {
            return Ok(a.rc);
        }
        let s = sys::rte_eth_stats::from_bytes(&b, 1);
        let s = s
            .first()
            .ok_or_else(|| Error::Ipc("short stats answer".into()))?;
        // SAFETY: ethdev passes its structure.
        unsafe { *st = *s };
        Ok(0)
    })
}

unsafe extern "C" fn stats_reset(dev: *mut sys::rte_eth_dev) -> c_int {
    secondary("stats_reset", || {
        Ok(request(dev, req(Op::StatsReset))?.0.rc)
    })
}

unsafe extern "C" fn xstats_get(
    dev: *mut sys::rte_eth_dev,
    out: *mut sys::rte_eth_xstat,
    n: c_uint,
) -> c_int {
    secondary("xstats_get", || {
        let room = if out.is_null() { 0 } else { n };
        let (a, b) = request(
            dev,
            Request {
                room,
                ..req(Op::Xstats)
            },
        )?;
        let v = sys::rte_eth_xstat::from_bytes(&b, room as usize);
        if !out.is_null() {
            // SAFETY: ethdev gives room for `n` entries; `v` holds at most that many.
            unsafe { core::ptr::copy_nonoverlapping(v.as_ptr(), out, v.len()) };
        }
        Ok(a.rc)
    })
}

unsafe extern "C" fn xstats_get_names(
    dev: *mut sys::rte_eth_dev,
    out: *mut sys::rte_eth_xstat_name,
    n: c_uint,
) -> c_int {
    secondary("xstats_get_names", || {
        let room = if out.is_null() { 0 } else { n };
        let (a, b) = request(
            dev,
            Request {
                room,
                ..req(Op::XstatsNames)
            },
        )?;
        let v = sys::rte_eth_xstat_name::from_bytes(&b, room as usize);
        if !out.is_null() {
            // SAFETY: as above.
            unsafe { core::ptr::copy_nonoverlapping(v.as_ptr(), out, v.len()) };
        }
        Ok(a.rc)
    })
}

unsafe extern "C" fn fw_version_get(
    dev: *mut sys::rte_eth_dev,
    buf: *mut c_char,
    size: usize,
) -> c_int {
    secondary("fw_version_get", || {
        let room = size.min(4096) as u32;
        let (a, b) = request(
            dev,
            Request {
                room,
                ..req(Op::FwVersion)
            },
        )?;
        if !buf.is_null() {
            let n = b.len().min(size);
            // SAFETY: ethdev passes `size` writable bytes.
            unsafe { core::ptr::copy_nonoverlapping(b.as_ptr().cast(), buf, n) };
        }
        Ok(a.rc)
    })
}

unsafe extern "C" fn get_reg(
    dev: *mut sys::rte_eth_dev,
    info: *mut sys::rte_dev_reg_info,
) -> c_int {
    secondary("get_reg", || {
        // SAFETY: ethdev passes the application's structure (checked for null).
        let info = unsafe { info.as_mut() }.ok_or_else(|| Error::invalid("null reg info"))?;
        let r = Request {
            reg_offset: info.offset,
            reg_length: info.length,
            reg_data: u32::from(!info.data.is_null()),
            ..req(Op::Reg)
        };
        let (a, b) = request(dev, r)?;
        if a.rc == 0 {
            (info.length, info.width, info.version) = (a.reg_length, a.reg_width, a.reg_version);
            if !info.data.is_null() {
                // An explicit count bounds the copy; 0 means "to the end", which the caller
                // sized from the length the size query gave (the primary checked the range).
                let n = match r.reg_length {
                    0 => b.len(),
                    len => b.len().min(len as usize * a.reg_width.max(1) as usize),
                };
                // SAFETY: the caller has room for the registers it asked for, and `n` bytes
                // are at most those.
                unsafe { core::ptr::copy_nonoverlapping(b.as_ptr(), info.data.cast(), n) };
                info.offset = a.reg_offset;
            }
        }
        Ok(a.rc)
    })
}

unsafe extern "C" fn priv_dump(dev: *mut sys::rte_eth_dev, file: *mut sys::FILE) -> c_int {
    secondary("priv_dump", || dump(dev, req(Op::PrivDump), file))
}

/// A dump the primary writes as text (request `r`), written to `file`.
fn dump(dev: *const sys::rte_eth_dev, r: Request, file: *mut sys::FILE) -> Result<c_int> {
    let (a, b) = request(dev, r)?;
    if a.rc != 0 {
        return Ok(a.rc);
    }
    Ok(super::ops::write_dump(file, &String::from_utf8_lossy(&b)))
}

/// A descriptor dump from the primary, written to `file`.
fn desc_dump(
    dev: *const sys::rte_eth_dev,
    op: Op,
    q: u16,
    offset: u16,
    num: u16,
    file: *mut sys::FILE,
) -> Result<c_int> {
    let r = Request {
        queue: q.into(),
        reg_offset: offset.into(),
        reg_length: num.into(),
        ..req(op)
    };
    dump(dev, r, file)
}

unsafe extern "C" fn rx_descriptor_dump(
    dev: *const sys::rte_eth_dev,
    q: u16,
    offset: u16,
    num: u16,
    file: *mut sys::FILE,
) -> c_int {
    secondary("rx_descriptor_dump", || {
        desc_dump(dev, Op::RxDescDump, q, offset, num, file)
    })
}

unsafe extern "C" fn tx_descriptor_dump(
    dev: *const sys::rte_eth_dev,
    q: u16,
    offset: u16,
    num: u16,
    file: *mut sys::FILE,
) -> c_int {
    secondary("tx_descriptor_dump", || {
        desc_dump(dev, Op::TxDescDump, q, offset, num, file)
    })
}

/// Copies the primary's answer for a structure into `out`.
fn fetch<T: Pod>(dev: *const sys::rte_eth_dev, r: Request, out: *mut T) -> Result<c_int> {
    let (a, b) = request(dev, r)?;
    if a.rc != 0 {
        return Ok(a.rc);
    }
    let v = T::from_bytes(&b, 1);
    let v = v.first().ok_or_else(|| Error::Ipc("short answer".into()))?;
    // SAFETY: ethdev passes its (non-null) structure.
    unsafe { *out = *v };
    Ok(0)
}

unsafe extern "C" fn rxq_info_get(
    dev: *mut sys::rte_eth_dev,
    q: u16,
    info: *mut sys::rte_eth_rxq_info,
) {
    secondary("rxq_info_get", || {
        let r = fetch(
            dev,
            Request {
                queue: q.into(),
                ..req(Op::RxqInfo)
            },
            info,
        )?;
        // SAFETY: ethdev's structure, just written.
        let i = unsafe { &mut *info };
        i.conf.rx_seg = core::ptr::null_mut();
        i.conf.rx_nseg = 0;
        Ok(r)
    });
}

unsafe extern "C" fn txq_info_get(
    dev: *mut sys::rte_eth_dev,
    q: u16,
    info: *mut sys::rte_eth_txq_info,
) {
    secondary("txq_info_get", || {
        fetch(
            dev,
            Request {
                queue: q.into(),
                ..req(Op::TxqInfo)
            },
            info,
        )
    });
}

unsafe extern "C" fn rx_burst_mode_get(
    dev: *mut sys::rte_eth_dev,
    q: u16,
    mode: *mut sys::rte_eth_burst_mode,
) -> c_int {
    secondary("rx_burst_mode_get", || {
        fetch(
            dev,
            Request {
                queue: q.into(),
                ..req(Op::RxBurstMode)
            },
            mode,
        )
    })
}

unsafe extern "C" fn tx_burst_mode_get(
    dev: *mut sys::rte_eth_dev,
    q: u16,
    mode: *mut sys::rte_eth_burst_mode,
) -> c_int {
    secondary("tx_burst_mode_get", || {
        fetch(
            dev,
            Request {
                queue: q.into(),
                ..req(Op::TxBurstMode)
            },
            mode,
        )
    })
}

unsafe extern "C" fn flow_ctrl_get(
    dev: *mut sys::rte_eth_dev,
    fc: *mut sys::rte_eth_fc_conf,
) -> c_int {
    secondary("flow_ctrl_get", || fetch(dev, req(Op::FlowCtrl), fc))
}

unsafe extern "C" fn rss_hash_conf_get(
    dev: *mut sys::rte_eth_dev,
    conf: *mut sys::rte_eth_rss_conf,
) -> c_int {
    secondary("rss_hash_conf_get", || {
        // SAFETY: ethdev passes the application's structure.
        let c = unsafe { &mut *conf };
        let room = if c.rss_key.is_null() {
            0
        } else {
            c.rss_key_len
        };
        let (a, b) = request(
            dev,
            Request {
                room: room.into(),
                ..req(Op::RssConf)
            },
        )?;
        if a.rc != 0 {
            return Ok(a.rc);
        }
        let hf = b
            .first_chunk::<8>()
            .ok_or_else(|| Error::Ipc("short RSS answer".into()))?;
        c.rss_hf = u64::from_le_bytes(*hf);
        let key = &b[8..];
        if !c.rss_key.is_null() {
            let n = key.len().min(room as usize);
            // SAFETY: the application's key buffer has rss_key_len bytes.
            unsafe { core::ptr::copy_nonoverlapping(key.as_ptr(), c.rss_key, n) };
            c.rss_key_len = n as u8;
        }
        Ok(0)
    })
}

unsafe extern "C" fn reta_query(
    dev: *mut sys::rte_eth_dev,
    conf: *mut sys::rte_eth_rss_reta_entry64,
    size: u16,
) -> c_int {
    secondary("reta_query", || {
        let ours = super::ops::reta_groups(conf, size)?;
        let (a, b) = request(
            dev,
            Request {
                room: size.into(),
                ..req(Op::Reta)
            },
        )?;
        if a.rc != 0 {
            return Ok(a.rc);
        }
        let theirs = sys::rte_eth_rss_reta_entry64::from_bytes(&b, ours.len());
        for (o, t) in ours.iter_mut().zip(&theirs) {
            for (i, r) in o.reta.iter_mut().enumerate() {
                if o.mask >> i & 1 != 0 {
                    *r = t.reta[i];
                }
            }
        }
        Ok(0)
    })
}

unsafe extern "C" fn dev_close(_dev: *mut sys::rte_eth_dev) -> c_int {
    // Nothing of the secondary's own to free; the port belongs to the primary.
    0
}

static WARNED: AtomicBool = AtomicBool::new(false);

fn no_data_path() {
    if !WARNED.swap(true, Ordering::Relaxed) {
        ::log::warn!(
            "net_fbnic moves packets in the primary process only; a secondary's bursts return 0"
        );
    }
}

/// Rx burst of a secondary: nothing (the device's queues belong to the primary).
pub(super) unsafe extern "C" fn rx_burst(
    _q: *mut c_void,
    _pkts: *mut *mut sys::rte_mbuf,
    _n: u16,
) -> u16 {
    no_data_path();
    0
}

/// Tx burst of a secondary: nothing is sent (the caller keeps its mbufs).
pub(super) unsafe extern "C" fn tx_burst(
    _q: *mut c_void,
    _pkts: *mut *mut sys::rte_mbuf,
    _n: u16,
) -> u16 {
    no_data_path();
    0
}

/// The callbacks of a port in a secondary process.
pub(super) static SECONDARY_OPS: sys::eth_dev_ops = {
    // SAFETY: an all-None eth_dev_ops is valid; every callback used is set below.
    let mut o: sys::eth_dev_ops = unsafe { core::mem::zeroed() };
    o.dev_close = Some(dev_close);
    o.dev_infos_get = Some(dev_infos_get);
    o.link_update = Some(link_update);
    o.stats_get = Some(stats_get);
    o.stats_reset = Some(stats_reset);
    o.xstats_get = Some(xstats_get);
    o.xstats_get_names = Some(xstats_get_names);
    o.xstats_reset = Some(stats_reset);
    o.fw_version_get = Some(fw_version_get);
    o.get_reg = Some(get_reg);
    o.rxq_info_get = Some(rxq_info_get);
    o.txq_info_get = Some(txq_info_get);
    o.rx_burst_mode_get = Some(rx_burst_mode_get);
    o.tx_burst_mode_get = Some(tx_burst_mode_get);
    o.flow_ctrl_get = Some(flow_ctrl_get);
    o.eth_dev_priv_dump = Some(priv_dump);
    o.eth_rx_descriptor_dump = Some(rx_descriptor_dump);
    o.eth_tx_descriptor_dump = Some(tx_descriptor_dump);
    o.rss_hash_conf_get = Some(rss_hash_conf_get);
    o.reta_query = Some(reta_query);
    o
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_answers_round_trip_through_bytes() {
        let mut r = req(Op::Reg);
        r.reg_offset = 7;
        r.port[..4].copy_from_slice(b"abc\0");
        let b = Request::bytes(core::slice::from_ref(&r)).to_vec();
        let back = Request::from_bytes(&b, 1)[0];
        assert_eq!(Op::from_raw(back.op), Some(Op::Reg));
        assert_eq!(back.reg_offset, 7);
        assert_eq!(CStr::from_bytes_until_nul(&back.port).unwrap(), c"abc");
        // Short input gives nothing rather than reading past it.
        assert!(Request::from_bytes(&b[..b.len() - 1], 1).is_empty());
        assert!(Op::from_raw(0).is_none() && Op::from_raw(18).is_none());
        assert!((1..=17).all(|v| Op::from_raw(v).map(|o| o as u32) == Some(v)));
        let a = Answer {
            rc: -22,
            bytes: 5,
            ..Answer::default()
        };
        let back = Answer::from_bytes(Answer::bytes(&[a]), 3);
        assert_eq!((back.len(), back[0].rc, back[0].bytes), (1, -22, 5));
    }

    #[test]
    fn counts_from_a_secondary_are_capped() {
        assert_eq!(capped::<sys::rte_eth_xstat>(10), 10);
        let names = capped::<sys::rte_eth_xstat_name>(u32::MAX as usize);
        assert!(names * core::mem::size_of::<sys::rte_eth_xstat_name>() <= MAX_ANSWER);
        assert!(names > 1000);
    }

    #[test]
    fn memfd_holds_the_bytes() {
        let fd = memfd_with(b"hello").unwrap();
        let mut f = std::fs::File::from(fd);
        f.seek(SeekFrom::Start(0)).unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello");
    }
}
