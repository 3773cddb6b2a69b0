//! A thin, safe-to-call layer over the few DPDK calls the apps make. Every `unsafe` block of
//! the apps' DPDK use lives here (the FFI edge); the binaries stay safe Rust.

use core::ffi::{c_char, c_int, c_void, CStr};
use core::ptr::NonNull;
use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use dpdk_sys as sys;

/// A DPDK error code (negative errno) in words: `-22 (Invalid argument)`.
pub fn err_str(rc: c_int) -> String {
    // SAFETY: rte_strerror returns a static or thread-local NUL-terminated string.
    let s = unsafe { CStr::from_ptr(sys::rte_strerror(rc.abs())) };
    format!("{rc} ({})", s.to_string_lossy())
}

fn check(what: &str, rc: c_int) -> Result<(), String> {
    if rc < 0 {
        Err(format!("{what}: {}", err_str(rc)))
    } else {
        Ok(())
    }
}

/// Initialises EAL with `args` (`argv[0]` first). Returns the application's arguments: what
/// follows EAL's options (after `--`).
pub fn eal_init(args: &[String]) -> Result<Vec<String>, String> {
    let cargs: Vec<CString> = args
        .iter()
        .map(|a| CString::new(a.as_str()).map_err(|_| format!("argument {a:?} contains NUL")))
        .collect::<Result<_, _>>()?;
    // EAL may keep pointers into argv for the life of the process: leak it.
    let argv: &'static mut [*mut c_char] = Vec::leak(
        cargs
            .into_iter()
            .map(|c| c.into_raw())
            .chain(core::iter::once(core::ptr::null_mut()))
            .collect(),
    );
    // SAFETY: argv holds args.len() valid NUL-terminated strings and a NULL terminator, and
    // lives forever.
    let n = unsafe { sys::rte_eal_init(args.len() as c_int, argv.as_mut_ptr()) };
    if n < 0 {
        // SAFETY: reads EAL's thread-local errno.
        let e = unsafe { sys::fbnic_rte_errno() };
        return Err(format!("rte_eal_init failed: {}", err_str(-e)));
    }
    // rte_eal_init returns how many arguments after argv[0] it consumed (the options and a
    // closing "--"): the application's arguments follow.
    let rest = &args[(n as usize + 1).min(args.len())..];
    Ok(rest.to_vec())
}

/// Releases EAL (ports must be closed first).
pub fn eal_cleanup() {
    // SAFETY: called once at the end of main, after every port is closed.
    unsafe { sys::rte_eal_cleanup() };
}

/// The port id of the ethdev named `name` (e.g. `net_fbnic0`).
pub fn port_by_name(name: &str) -> Result<u16, String> {
    let c = CString::new(name).map_err(|_| "port name with NUL".to_string())?;
    let mut id = 0u16;
    // SAFETY: c is a valid string; id is written on success.
    let rc = unsafe { sys::rte_eth_dev_get_port_by_name(c.as_ptr(), &mut id) };
    check(&format!("no port named {name}"), rc)?;
    Ok(id)
}

/// A pktmbuf pool.
#[derive(Debug)]
pub struct Pool(NonNull<sys::rte_mempool>);

impl Pool {
    /// Creates a pool of `n` mbufs with the default 2048-byte data room.
    pub fn create(name: &str, n: u32, cache: u32) -> Result<Self, String> {
        let c = CString::new(name).map_err(|_| "pool name with NUL".to_string())?;
        // SAFETY: plain EAL call with valid arguments; NULL on failure.
        let mp = unsafe {
            sys::rte_pktmbuf_pool_create(
                c.as_ptr(),
                n,
                cache,
                0,
                sys::RTE_MBUF_DEFAULT_BUF_SIZE as u16,
                sys::rte_socket_id() as c_int,
            )
        };
        NonNull::new(mp).map(Self).ok_or_else(|| {
            // SAFETY: reads EAL's thread-local errno.
            let e = unsafe { sys::fbnic_rte_errno() };
            format!("rte_pktmbuf_pool_create({name}, {n}): {}", err_str(-e))
        })
    }

    /// The raw pointer (for queue setup).
    pub fn as_ptr(&self) -> *mut sys::rte_mempool {
        self.0.as_ptr()
    }

    /// `rte_mempool_avail_count`: free mbufs, including those in per-lcore caches.
    pub fn avail(&self) -> u32 {
        // SAFETY: a valid pool.
        unsafe { sys::rte_mempool_avail_count(self.0.as_ptr()) }
    }

    /// `rte_mempool_in_use_count`.
    pub fn in_use(&self) -> u32 {
        // SAFETY: a valid pool.
        unsafe { sys::rte_mempool_in_use_count(self.0.as_ptr()) }
    }

    /// An mbuf holding `bytes` (one segment).
    pub fn mbuf_from(&self, bytes: &[u8]) -> Result<Mbuf, String> {
        // SAFETY: a valid pool; NULL when empty.
        let m = unsafe { sys::fbnic_pktmbuf_alloc(self.0.as_ptr()) };
        let m = NonNull::new(m).ok_or("mbuf pool empty")?;
        // SAFETY: a freshly reset mbuf we own: data_off is the headroom, the data room
        // follows it in buf_addr.
        unsafe {
            let mb = &mut *m.as_ptr();
            let room = mb.buf_len as usize - mb.data_off as usize;
            if bytes.len() > room {
                sys::fbnic_pktmbuf_free(m.as_ptr());
                return Err(format!(
                    "frame of {} bytes exceeds the {room}-byte mbuf",
                    bytes.len()
                ));
            }
            let dst = (mb.buf_addr as *mut u8).add(mb.data_off as usize);
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len());
            mb.data_len = bytes.len() as u16;
            mb.pkt_len = bytes.len() as u32;
        }
        Ok(Mbuf(m))
    }
}

/// An mbuf the application owns (from a pool or from rx_burst). Freed on drop unless handed
/// to [`tx_burst`].
#[derive(Debug)]
pub struct Mbuf(NonNull<sys::rte_mbuf>);

impl Mbuf {
    /// The first segment's bytes.
    pub fn data(&self) -> &[u8] {
        // SAFETY: we own the mbuf; data_len bytes from buf_addr + data_off are initialised.
        unsafe {
            let m = &*self.0.as_ptr();
            core::slice::from_raw_parts(
                (m.buf_addr as *const u8).add(m.data_off as usize),
                m.data_len as usize,
            )
        }
    }

    /// The first segment's bytes, to change.
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: we own the mbuf; data_len bytes from buf_addr + data_off are initialised.
        unsafe {
            let m = &mut *self.0.as_ptr();
            core::slice::from_raw_parts_mut(
                (m.buf_addr as *mut u8).add(m.data_off as usize),
                m.data_len as usize,
            )
        }
    }

    /// `rte_pktmbuf_prepend`: grows the packet by `n` bytes at the front, into the headroom
    /// (their content is what the headroom held: the caller writes them). Fails, changing
    /// nothing, when the headroom is shorter.
    pub fn prepend(&mut self, n: u16) -> Result<(), String> {
        // SAFETY: we own the mbuf; the fields are plain integers.
        let m = unsafe { &mut *self.0.as_ptr() };
        if n > m.data_off {
            return Err(format!(
                "{n} bytes do not fit the {}-byte headroom",
                m.data_off
            ));
        }
        m.data_off -= n;
        m.data_len += n;
        m.pkt_len += n as u32;
        Ok(())
    }

    fn m(&self) -> &sys::rte_mbuf {
        // SAFETY: we own the mbuf.
        unsafe { &*self.0.as_ptr() }
    }

    /// `pkt_len`.
    pub fn pkt_len(&self) -> u32 {
        self.m().pkt_len
    }

    /// `nb_segs`.
    pub fn nb_segs(&self) -> u16 {
        self.m().nb_segs
    }

    /// `ol_flags`.
    pub fn ol_flags(&self) -> u64 {
        self.m().ol_flags
    }

    /// `hash.rss`.
    pub fn rss_hash(&self) -> u32 {
        // SAFETY: the hash union's rss member is a plain u32.
        unsafe { self.m().__bindgen_anon_2.hash.rss }
    }

    /// `packet_type`.
    pub fn packet_type(&self) -> u32 {
        // SAFETY: the packet_type union member is a plain u32.
        unsafe { self.m().__bindgen_anon_1.packet_type }
    }

    /// `port`.
    pub fn port(&self) -> u16 {
        self.m().port
    }

    /// Asks for transmit offloads: `ol_flags` (`RTE_MBUF_F_TX_*`) and the header lengths.
    pub fn set_tx_offload(&mut self, ol_flags: u64, l2_len: usize, l3_len: usize) {
        // SAFETY: we own the mbuf; tx_offload is the u64 view of the l2_len (7 bits) and
        // l3_len (9 bits) bitfields, lowest first (pinned by dpdk-sys layout tests).
        unsafe {
            let m = &mut *self.0.as_ptr();
            m.ol_flags |= ol_flags;
            m.__bindgen_anon_3.tx_offload = (l2_len as u64 & 0x7f) | (l3_len as u64 & 0x1ff) << 7;
        }
    }
}

impl Drop for Mbuf {
    fn drop(&mut self) {
        // SAFETY: we own the mbuf (chains included) and give it back once.
        unsafe { sys::fbnic_pktmbuf_free(self.0.as_ptr()) }
    }
}

/// `rte_eth_rx_burst` of up to `max` packets into `out`.
pub fn rx_burst(port: u16, queue: u16, out: &mut Vec<Mbuf>, max: usize) -> usize {
    let mut raw = [core::ptr::null_mut::<sys::rte_mbuf>(); 64];
    let max = max.min(raw.len());
    // SAFETY: raw has room for `max` pointers; the returned ones are ours.
    let n = unsafe { sys::fbnic_eth_rx_burst(port, queue, raw.as_mut_ptr(), max as u16) } as usize;
    out.extend(raw[..n].iter().filter_map(|&m| NonNull::new(m).map(Mbuf)));
    n
}

/// `rte_eth_tx_burst` of the front of `pkts`: the packets taken are removed from `pkts`
/// (the PMD owns them now); returns how many.
pub fn tx_burst(port: u16, queue: u16, pkts: &mut Vec<Mbuf>) -> usize {
    let n = pkts.len().min(64);
    if n == 0 {
        return 0;
    }
    let mut raw = [core::ptr::null_mut::<sys::rte_mbuf>(); 64];
    for (r, m) in raw.iter_mut().zip(&pkts[..n]) {
        *r = m.0.as_ptr();
    }
    // SAFETY: raw holds n valid mbufs we own; the first `sent` now belong to the PMD.
    let sent = unsafe { sys::fbnic_eth_tx_burst(port, queue, raw.as_mut_ptr(), n as u16) } as usize;
    for m in pkts.drain(..sent) {
        core::mem::forget(m);
    }
    sent
}

/// `rte_eth_tx_prepare` (a static inline in DPDK, done here as it does): lets the PMD check
/// and prepare the packets' offload requests. Fails with the index of the first packet it
/// refused and rte_errno.
pub fn tx_prepare(port: u16, queue: u16, pkts: &mut [Mbuf]) -> Result<(), String> {
    if port as usize >= sys::RTE_MAX_ETHPORTS as usize {
        return Err(format!("port {port} out of range"));
    }
    // SAFETY: rte_eth_fp_ops is ethdev's fast-path table, an array of RTE_MAX_ETHPORTS
    // entries (index checked); a started port's entry and its queue array stay valid while
    // the port runs, as for rte_eth_tx_burst.
    let (prep, qd) = unsafe {
        let fp = &*core::ptr::addr_of!(sys::rte_eth_fp_ops[port as usize]);
        if fp.txq.data.is_null() {
            return Err(format!("port {port} has no Tx queues"));
        }
        (fp.tx_pkt_prepare, *fp.txq.data.add(queue as usize))
    };
    let Some(prep) = prep else {
        return Ok(());
    };
    let mut raw: Vec<*mut sys::rte_mbuf> = pkts.iter().map(|m| m.0.as_ptr()).collect();
    // SAFETY: the PMD's prepare callback on its own queue with valid mbufs we own.
    let n = unsafe { prep(qd, raw.as_mut_ptr(), raw.len() as u16) } as usize;
    if n < raw.len() {
        // SAFETY: reads EAL's thread-local errno.
        let e = unsafe { sys::fbnic_rte_errno() };
        return Err(format!("tx_prepare refused packet {n}: {}", err_str(-e)));
    }
    Ok(())
}

/// Polls the link until it is up (or `timeout`): its speed in Mb/s.
pub fn wait_link_up(port: u16, timeout: Duration) -> Result<u32, String> {
    let deadline = Instant::now() + timeout;
    loop {
        // SAFETY: rte_eth_link is plain data, written by the call.
        let mut link: sys::rte_eth_link = unsafe { core::mem::zeroed() };
        // SAFETY: a valid port id and a link structure to fill.
        let rc = unsafe { sys::rte_eth_link_get_nowait(port, &mut link) };
        check(&format!("port {port} link_get"), rc)?;
        if link.link_status() != 0 {
            return Ok(link.link_speed);
        }
        if Instant::now() > deadline {
            return Err(format!("port {port}: link still down after {timeout:?}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The port's MAC address.
pub fn mac_addr(port: u16) -> Result<[u8; 6], String> {
    // SAFETY: plain data written by the call.
    let mut a: sys::rte_ether_addr = unsafe { core::mem::zeroed() };
    // SAFETY: valid port and output.
    check("macaddr_get", unsafe {
        sys::rte_eth_macaddr_get(port, &mut a)
    })?;
    Ok(a.addr_bytes)
}

/// Basic statistics of a port.
pub fn stats(port: u16) -> Result<sys::rte_eth_stats, String> {
    // SAFETY: plain data written by the call.
    let mut s: sys::rte_eth_stats = unsafe { core::mem::zeroed() };
    // SAFETY: valid port and output.
    check("stats_get", unsafe { sys::rte_eth_stats_get(port, &mut s) })?;
    Ok(s)
}

/// Resets a port's basic statistics.
pub fn stats_reset(port: u16) -> Result<(), String> {
    // SAFETY: plain ethdev call.
    check("stats_reset", unsafe { sys::rte_eth_stats_reset(port) })
}

/// What [`configure`] sets up.
#[derive(Clone, Debug)]
pub struct PortConf {
    /// Rx queues.
    pub nb_rxq: u16,
    /// Tx queues.
    pub nb_txq: u16,
    /// Rx descriptors per queue.
    pub nb_rxd: u16,
    /// Tx descriptors per queue.
    pub nb_txd: u16,
    /// RSS hash types (`RTE_ETH_RSS_*`); 0 = RSS off.
    pub rss_hf: u64,
    /// The RSS key, if not the default one.
    pub rss_key: Option<Vec<u8>>,
    /// Rx offloads.
    pub rx_offloads: u64,
    /// Tx offloads.
    pub tx_offloads: u64,
    /// Rx queue interrupts (`intr_conf.rxq`).
    pub rx_intr: bool,
}

impl Default for PortConf {
    fn default() -> Self {
        Self {
            nb_rxq: 1,
            nb_txq: 1,
            nb_rxd: 512,
            nb_txd: 512,
            rss_hf: 0,
            rss_key: None,
            rx_offloads: 0,
            tx_offloads: 0,
            rx_intr: false,
        }
    }
}

/// `rte_eth_dev_configure` alone (no queue setup), returning DPDK's code.
pub fn dev_configure(port: u16, c: &PortConf) -> c_int {
    // SAFETY: an all-zero rte_eth_conf is the documented default configuration.
    let mut conf: sys::rte_eth_conf = unsafe { core::mem::zeroed() };
    let mut key = c.rss_key.clone().unwrap_or_default();
    if c.rss_hf != 0 {
        conf.rxmode.mq_mode = sys::RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf = c.rss_hf;
        if c.rss_key.is_some() {
            conf.rx_adv_conf.rss_conf.rss_key = key.as_mut_ptr();
            conf.rx_adv_conf.rss_conf.rss_key_len = key.len() as u8;
        }
    }
    conf.rxmode.offloads = c.rx_offloads;
    conf.txmode.offloads = c.tx_offloads;
    conf.intr_conf.set_rxq(c.rx_intr as u32);
    // SAFETY: conf (and the key it points to) are valid for the call; ethdev copies them.
    unsafe { sys::rte_eth_dev_configure(port, c.nb_rxq, c.nb_txq, &conf) }
}

/// Configures a stopped port and sets up its queues from `pool`.
pub fn configure(port: u16, c: &PortConf, pool: &Pool) -> Result<(), String> {
    check(
        &format!("port {port}: configure {c:?}"),
        dev_configure(port, c),
    )?;
    // SAFETY: plain EAL query.
    let socket = unsafe { sys::rte_eth_dev_socket_id(port) };
    let socket = if socket < 0 { 0 } else { socket as u32 };
    for q in 0..c.nb_rxq {
        // SAFETY: NULL rxconf = the PMD's defaults; the pool outlives the queue.
        let rc = unsafe {
            sys::rte_eth_rx_queue_setup(port, q, c.nb_rxd, socket, core::ptr::null(), pool.as_ptr())
        };
        check(&format!("port {port}: Rx queue {q} setup"), rc)?;
    }
    for q in 0..c.nb_txq {
        // SAFETY: NULL txconf = the PMD's defaults.
        let rc =
            unsafe { sys::rte_eth_tx_queue_setup(port, q, c.nb_txd, socket, core::ptr::null()) };
        check(&format!("port {port}: Tx queue {q} setup"), rc)?;
    }
    Ok(())
}

/// Starts a port.
pub fn start(port: u16) -> Result<(), String> {
    // SAFETY: plain ethdev call.
    check(&format!("port {port}: start"), unsafe {
        sys::rte_eth_dev_start(port)
    })
}

/// Stops a port.
pub fn stop(port: u16) -> Result<(), String> {
    // SAFETY: plain ethdev call.
    check(&format!("port {port}: stop"), unsafe {
        sys::rte_eth_dev_stop(port)
    })
}

/// Closes a port.
pub fn close(port: u16) -> Result<(), String> {
    // SAFETY: plain ethdev call.
    check(&format!("port {port}: close"), unsafe {
        sys::rte_eth_dev_close(port)
    })
}

/// Stops (`start` false) or starts one Rx queue of a started port.
pub fn rx_queue_ctl(port: u16, q: u16, start: bool) -> Result<(), String> {
    // SAFETY: plain ethdev calls.
    let rc = unsafe {
        if start {
            sys::rte_eth_dev_rx_queue_start(port, q)
        } else {
            sys::rte_eth_dev_rx_queue_stop(port, q)
        }
    };
    check(
        &format!(
            "port {port}: Rx queue {q} {}",
            if start { "start" } else { "stop" }
        ),
        rc,
    )
}

/// Stops or starts one Tx queue of a started port.
pub fn tx_queue_ctl(port: u16, q: u16, start: bool) -> Result<(), String> {
    // SAFETY: plain ethdev calls.
    let rc = unsafe {
        if start {
            sys::rte_eth_dev_tx_queue_start(port, q)
        } else {
            sys::rte_eth_dev_tx_queue_stop(port, q)
        }
    };
    check(
        &format!(
            "port {port}: Tx queue {q} {}",
            if start { "start" } else { "stop" }
        ),
        rc,
    )
}

/// Enables promiscuous mode.
pub fn promiscuous(port: u16) -> Result<(), String> {
    // SAFETY: plain ethdev call.
    check("promiscuous_enable", unsafe {
        sys::rte_eth_promiscuous_enable(port)
    })
}

/// `rte_eth_dev_rss_hash_update`, returning DPDK's code.
pub fn rss_hash_update(port: u16, hf: u64, key: Option<&[u8]>) -> c_int {
    let mut k = key.map(<[u8]>::to_vec).unwrap_or_default();
    let mut conf = sys::rte_eth_rss_conf {
        rss_key: if key.is_some() {
            k.as_mut_ptr()
        } else {
            core::ptr::null_mut()
        },
        rss_key_len: k.len() as u8,
        rss_hf: hf,
    };
    // SAFETY: conf and the key it points to are valid for the call.
    unsafe { sys::rte_eth_dev_rss_hash_update(port, &mut conf) }
}

/// `rte_eth_dev_rss_hash_conf_get`: (hash types, key).
pub fn rss_hash_conf(port: u16, key_len: usize) -> Result<(u64, Vec<u8>), String> {
    let mut key = vec![0u8; key_len];
    let mut conf = sys::rte_eth_rss_conf {
        rss_key: key.as_mut_ptr(),
        rss_key_len: key_len as u8,
        rss_hf: 0,
    };
    // SAFETY: conf points at a buffer of key_len bytes.
    let rc = unsafe { sys::rte_eth_dev_rss_hash_conf_get(port, &mut conf) };
    check("rss_hash_conf_get", rc)?;
    key.truncate(conf.rss_key_len as usize);
    Ok((conf.rss_hf, key))
}

/// Writes the whole redirection table (`reta.len()` entries, a multiple of 64).
pub fn reta_update(port: u16, reta: &[u16]) -> Result<(), String> {
    // SAFETY: plain data.
    let mut groups: Vec<sys::rte_eth_rss_reta_entry64> = (0..reta.len() / 64)
        .map(|_| unsafe { core::mem::zeroed() })
        .collect();
    for (i, q) in reta.iter().enumerate() {
        groups[i / 64].mask |= 1 << (i % 64);
        groups[i / 64].reta[i % 64] = *q;
    }
    // SAFETY: groups holds reta.len() / 64 entries.
    let rc =
        unsafe { sys::rte_eth_dev_rss_reta_update(port, groups.as_mut_ptr(), reta.len() as u16) };
    check("reta_update", rc)
}

/// Reads the whole redirection table of `size` entries.
pub fn reta_query(port: u16, size: usize) -> Result<Vec<u16>, String> {
    let mut groups: Vec<sys::rte_eth_rss_reta_entry64> = (0..size / 64)
        .map(|_| sys::rte_eth_rss_reta_entry64 {
            mask: u64::MAX,
            reta: [0; 64],
        })
        .collect();
    // SAFETY: groups holds size / 64 entries.
    let rc = unsafe { sys::rte_eth_dev_rss_reta_query(port, groups.as_mut_ptr(), size as u16) };
    check("reta_query", rc)?;
    Ok((0..size).map(|i| groups[i / 64].reta[i % 64]).collect())
}

/// The size of a port's register dump (`rte_eth_dev_get_reg_info` without a buffer):
/// registers, bytes per register, and the dump's version.
pub fn reg_dump_size(port: u16) -> Result<(u32, u32, u32), String> {
    let mut info = sys::rte_dev_reg_info::default();
    // SAFETY: info is a valid request with no buffer.
    let rc = unsafe { sys::rte_eth_dev_get_reg_info(port, &mut info) };
    check("get_reg_info", rc)?;
    Ok((info.length, info.width, info.version))
}

/// Reads `length` registers (0: the rest of the dump) from slot `offset` into `buf` (any
/// alignment) with `rte_eth_dev_get_reg_info`; returns its return code and the length it
/// reports. Refused here, before the call, when `buf` cannot hold what is asked for.
pub fn reg_dump(port: u16, offset: u32, length: u32, buf: &mut [u8]) -> Result<(i32, u32), String> {
    let (total, width, _) = reg_dump_size(port)?;
    let want = match length {
        0 => total.saturating_sub(offset),
        n => n,
    };
    if (buf.len() as u64) < want as u64 * width as u64 {
        return Err(format!(
            "reg_dump: {} bytes cannot hold {want} registers of {width} bytes",
            buf.len()
        ));
    }
    let mut info = sys::rte_dev_reg_info {
        data: buf.as_mut_ptr().cast(),
        offset,
        length,
        ..Default::default()
    };
    // SAFETY: info points at buf, which holds the registers asked for (checked above).
    let rc = unsafe { sys::rte_eth_dev_get_reg_info(port, &mut info) };
    Ok((rc, info.length))
}

/// Device limits the apps care about.
#[derive(Clone, Debug)]
pub struct DevInfo {
    /// Driver name.
    pub driver: String,
    /// RSS redirection table size.
    pub reta_size: u16,
    /// RSS key size.
    pub hash_key_size: u8,
    /// Supported RSS hash types.
    pub flow_type_rss_offloads: u64,
    /// Most Rx queues.
    pub max_rx_queues: u16,
}

/// `rte_eth_dev_info_get`.
pub fn dev_info(port: u16) -> Result<DevInfo, String> {
    // SAFETY: plain data written by the call.
    let mut i: sys::rte_eth_dev_info = unsafe { core::mem::zeroed() };
    // SAFETY: valid port and output.
    check("dev_info_get", unsafe {
        sys::rte_eth_dev_info_get(port, &mut i)
    })?;
    let driver = if i.driver_name.is_null() {
        String::new()
    } else {
        // SAFETY: the driver's static name.
        unsafe { CStr::from_ptr(i.driver_name) }
            .to_string_lossy()
            .into_owned()
    };
    Ok(DevInfo {
        driver,
        reta_size: i.reta_size,
        hash_key_size: i.hash_key_size,
        flow_type_rss_offloads: i.flow_type_rss_offloads,
        max_rx_queues: i.max_rx_queues,
    })
}

type Job<'a> = &'a mut dyn FnMut() -> i32;

unsafe extern "C" fn trampoline(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the `Job` that `launch`'s caller keeps alive until the lcore finishes.
    let job = unsafe { &mut *(arg as *mut Job<'_>) };
    catch_unwind(AssertUnwindSafe(job)).unwrap_or_else(|_| {
        eprintln!("panic on the worker lcore");
        -1
    })
}

/// Starts `job` on worker lcore `lcore`.
///
/// # Safety
/// `job` must stay where it is, alive, until `rte_eal_wait_lcore(lcore)` has returned.
unsafe fn launch(job: &mut Job<'_>, lcore: u32) -> Result<(), String> {
    // SAFETY: the trampoline gets a pointer to a live job (the caller's promise).
    let rc = unsafe {
        sys::rte_eal_remote_launch(Some(trampoline), (job as *mut Job<'_>).cast(), lcore)
    };
    check("rte_eal_remote_launch", rc)
}

/// The worker lcores EAL was given (every lcore but the main one).
pub fn worker_lcores() -> Vec<u32> {
    let mut out = Vec::new();
    // SAFETY: plain EAL queries; u32::MAX (-1) starts the search at lcore 0.
    let mut l = unsafe { sys::rte_get_next_lcore(u32::MAX, 1, 0) };
    while l < sys::RTE_MAX_LCORE {
        out.push(l);
        // SAFETY: as above.
        l = unsafe { sys::rte_get_next_lcore(l, 1, 0) };
    }
    out
}

const NO_WORKER: &str = "no worker lcore: give EAL two lcores (-l 0-1)";

/// Runs `f` on the first worker lcore (the main lcore's CPU is left to the device model's
/// engine thread) and waits for it: its return value.
pub fn run_on_worker(mut f: impl FnMut() -> i32) -> Result<i32, String> {
    let lcore = *worker_lcores().first().ok_or(NO_WORKER)?;
    let mut job: Job<'_> = &mut f;
    // SAFETY: `job` stays on this frame until rte_eal_wait_lcore below has returned.
    unsafe { launch(&mut job, lcore) }?;
    // SAFETY: waits for the launch above.
    Ok(unsafe { sys::rte_eal_wait_lcore(lcore) })
}

/// Runs `worker(i, n)` on each of the `n` worker lcores (`i` = 0..n) while `main` runs on
/// this thread; when `main` returns (or panics) sets `stop`, which the workers must watch,
/// and waits for them: (the workers' return values, `main`'s).
pub fn run_beside_workers<R>(
    stop: &core::sync::atomic::AtomicBool,
    worker: impl Fn(usize, usize) -> i32 + Sync,
    main: impl FnOnce() -> R,
) -> Result<(Vec<i32>, R), String> {
    let lcores = worker_lcores();
    if lcores.is_empty() {
        return Err(NO_WORKER.into());
    }
    let n = lcores.len();
    let worker = &worker;
    let mut closures: Vec<_> = (0..n).map(|i| move || worker(i, n)).collect();
    let mut jobs: Vec<Job<'_>> = closures.iter_mut().map(|c| c as Job<'_>).collect();
    let mut launched = Vec::new();
    let mut failed = None;
    for (job, &lcore) in jobs.iter_mut().zip(&lcores) {
        // SAFETY: `jobs` is neither moved nor dropped before every launched lcore has been
        // waited for below, whatever `main` does (a panic is caught until then).
        match unsafe { launch(job, lcore) } {
            Ok(()) => launched.push(lcore),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    let out = failed
        .is_none()
        .then(|| catch_unwind(AssertUnwindSafe(main)));
    stop.store(true, core::sync::atomic::Ordering::Release);
    // SAFETY: waits for the launches above.
    let rcs: Vec<i32> = launched
        .iter()
        .map(|&l| unsafe { sys::rte_eal_wait_lcore(l) })
        .collect();
    match out {
        Some(Ok(r)) => Ok((rcs, r)),
        Some(Err(p)) => std::panic::resume_unwind(p),
        None => Err(failed.unwrap_or_default()),
    }
}

/// `timespec` as nanoseconds.
fn ts_ns(ts: &sys::timespec) -> u64 {
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// `rte_eth_timesync_enable` / `_disable`.
pub fn timesync(port: u16, on: bool) -> Result<(), String> {
    // SAFETY: plain ethdev calls.
    let rc = unsafe {
        if on {
            sys::rte_eth_timesync_enable(port)
        } else {
            sys::rte_eth_timesync_disable(port)
        }
    };
    check(&format!("port {port}: timesync enable={on}"), rc)
}

/// `rte_eth_timesync_read_time` (ns).
pub fn read_time(port: u16) -> Result<u64, String> {
    // SAFETY: an all-zero timespec is valid; ethdev fills it.
    let mut ts: sys::timespec = unsafe { core::mem::zeroed() };
    // SAFETY: ts is valid for the call.
    check(&format!("port {port}: timesync_read_time"), unsafe {
        sys::rte_eth_timesync_read_time(port, &mut ts)
    })?;
    Ok(ts_ns(&ts))
}

/// `rte_eth_timesync_write_time` of `sec` s + `nsec` ns, returning DPDK's code.
pub fn write_time(port: u16, sec: i64, nsec: i64) -> c_int {
    // SAFETY: an all-zero timespec is valid.
    let mut ts: sys::timespec = unsafe { core::mem::zeroed() };
    ts.tv_sec = sec as _;
    ts.tv_nsec = nsec as _;
    // SAFETY: ts is valid for the call.
    unsafe { sys::rte_eth_timesync_write_time(port, &ts) }
}

/// `rte_eth_timesync_adjust_time`.
pub fn adjust_time(port: u16, delta_ns: i64) -> Result<(), String> {
    // SAFETY: plain ethdev call.
    check(&format!("port {port}: timesync_adjust_time"), unsafe {
        sys::rte_eth_timesync_adjust_time(port, delta_ns)
    })
}

/// `rte_eth_read_clock`.
pub fn read_clock(port: u16) -> Result<u64, String> {
    let mut c = 0u64;
    // SAFETY: c is valid for the call.
    check(&format!("port {port}: read_clock"), unsafe {
        sys::rte_eth_read_clock(port, &mut c)
    })?;
    Ok(c)
}

/// `rte_eth_timesync_read_rx_timestamp` (ns), or DPDK's negative code.
pub fn read_rx_timestamp(port: u16) -> Result<u64, c_int> {
    // SAFETY: an all-zero timespec is valid; ethdev fills it.
    let mut ts: sys::timespec = unsafe { core::mem::zeroed() };
    // SAFETY: ts is valid for the call.
    let rc = unsafe { sys::rte_eth_timesync_read_rx_timestamp(port, &mut ts, 0) };
    if rc < 0 {
        Err(rc)
    } else {
        Ok(ts_ns(&ts))
    }
}

/// `rte_eth_timesync_read_tx_timestamp` (ns), or DPDK's negative code.
pub fn read_tx_timestamp(port: u16) -> Result<u64, c_int> {
    // SAFETY: an all-zero timespec is valid; ethdev fills it.
    let mut ts: sys::timespec = unsafe { core::mem::zeroed() };
    // SAFETY: ts is valid for the call.
    let rc = unsafe { sys::rte_eth_timesync_read_tx_timestamp(port, &mut ts) };
    if rc < 0 {
        Err(rc)
    } else {
        Ok(ts_ns(&ts))
    }
}

/// The Rx timestamp dynamic field: its offset and flag bit, once a PMD registered them.
pub fn rx_timestamp_field() -> Option<(usize, u64)> {
    // SAFETY: NUL-terminated names; NULL params are allowed.
    let (off, bit) = unsafe {
        (
            sys::rte_mbuf_dynfield_lookup(
                sys::RTE_MBUF_DYNFIELD_TIMESTAMP_NAME.as_ptr().cast(),
                core::ptr::null_mut(),
            ),
            sys::rte_mbuf_dynflag_lookup(
                sys::RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME.as_ptr().cast(),
                core::ptr::null_mut(),
            ),
        )
    };
    (off >= 0 && bit >= 0).then(|| (off as usize, 1u64 << bit))
}

impl Mbuf {
    /// The Rx timestamp dynamic field (`field` from [`rx_timestamp_field`]), if its flag is
    /// set.
    pub fn rx_timestamp(&self, field: (usize, u64)) -> Option<u64> {
        let (off, flag) = field;
        if self.ol_flags() & flag == 0 {
            return None;
        }
        // SAFETY: the registered u64 dynamic field lies at `off` inside the mbuf, aligned.
        Some(unsafe { (self.0.as_ptr().cast::<u8>().add(off) as *const u64).read() })
    }

    /// Sets `ol_flags` bits (e.g. `RTE_MBUF_F_TX_IEEE1588_TMST`).
    pub fn add_ol_flags(&mut self, flags: u64) {
        // SAFETY: we own the mbuf.
        unsafe { (*self.0.as_ptr()).ol_flags |= flags };
    }
}
