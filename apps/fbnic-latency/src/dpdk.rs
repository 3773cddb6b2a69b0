//! The FFI edge: the few DPDK calls the tool makes, wrapped so the rest is safe Rust.

use core::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::Thread;
use std::time::{Duration, Instant};

use dpdk_sys as sys;

/// A DPDK error: what failed and DPDK's text for the errno.
#[derive(Debug)]
pub struct DpdkError(pub String);

impl std::fmt::Display for DpdkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DpdkError {}

fn strerror(rc: c_int) -> String {
    // SAFETY: rte_strerror returns a pointer to a static or thread-local string for any value.
    let p = unsafe { sys::rte_strerror(rc.abs()) };
    if p.is_null() {
        return format!("error {rc}");
    }
    // SAFETY: non-null, NUL-terminated (rte_strerror's contract).
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn check(what: &str, rc: c_int) -> Result<c_int, DpdkError> {
    if rc < 0 {
        Err(DpdkError(format!("{what}: {}", strerror(rc))))
    } else {
        Ok(rc)
    }
}

/// The initialised EAL (cleaned up on drop).
#[derive(Debug)]
pub struct Eal {
    _args: Vec<CString>,
}

impl Eal {
    /// `rte_eal_init` with `args` (args[0] is the program name).
    pub fn init(args: &[String]) -> Result<Self, DpdkError> {
        let cargs: Vec<CString> = args
            .iter()
            .map(|a| CString::new(a.as_str()))
            .collect::<Result<_, _>>()
            .map_err(|e| DpdkError(format!("EAL argument with a NUL byte: {e}")))?;
        let mut argv: Vec<*mut c_char> = cargs.iter().map(|c| c.as_ptr().cast_mut()).collect();
        argv.push(core::ptr::null_mut());
        // SAFETY: argv holds argc valid NUL-terminated strings plus a NULL, all alive in
        // `cargs`, which the returned Eal keeps (EAL may keep pointers into argv).
        let rc = unsafe { sys::rte_eal_init(args.len() as c_int, argv.as_mut_ptr()) };
        check("rte_eal_init", rc)?;
        // EAL may permute argv but does not free it: keep the strings for the process.
        std::mem::forget(argv);
        Ok(Self { _args: cargs })
    }

    /// The TSC frequency.
    pub fn tsc_hz(&self) -> u64 {
        // SAFETY: plain EAL query after init.
        unsafe { sys::rte_get_tsc_hz() }
    }

    /// The first worker lcore (not the main one).
    pub fn first_worker(&self) -> Option<u32> {
        // SAFETY: plain EAL query after init.
        let l = unsafe { sys::rte_get_next_lcore(u32::MAX, 1, 0) };
        (l < sys::RTE_MAX_LCORE).then_some(l)
    }

    /// A port's id by device name.
    pub fn port_by_name(&self, name: &str) -> Result<u16, DpdkError> {
        let c = CString::new(name).map_err(|e| DpdkError(e.to_string()))?;
        let mut id = 0u16;
        // SAFETY: c is a valid string; id is a valid out pointer.
        let rc = unsafe { sys::rte_eth_dev_get_port_by_name(c.as_ptr(), &mut id) };
        check(&format!("no port named {name}"), rc)?;
        Ok(id)
    }

    /// Runs `job` on lcore `lcore` and waits for it without spinning on this core (the main
    /// lcore shares its CPU with the device model's engine thread).
    pub fn run_on<J: FnMut() -> bool + Send>(
        &self,
        lcore: u32,
        job: &mut J,
    ) -> Result<bool, DpdkError> {
        /// What the lcore gets: the job, and how it tells this thread it has finished.
        struct Launch<J> {
            job: *mut J,
            done: AtomicBool,
            waiter: Thread,
        }
        unsafe extern "C" fn trampoline<J: FnMut() -> bool + Send>(arg: *mut c_void) -> c_int {
            // SAFETY: `arg` is the `Launch` below, alive until the launching thread has seen
            // `done`; that thread only reads `done` meanwhile, so a shared reference is sound.
            let launch = unsafe { &*arg.cast::<Launch<J>>() };
            // SAFETY: `job` points to the caller's `&mut J`, which only this lcore uses until
            // `done` is set.
            let job = unsafe { &mut *launch.job };
            // A panic must not unwind into EAL's C code.
            let rc = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)) {
                Ok(true) => 0,
                Ok(false) => -1,
                Err(_) => -2,
            };
            let waiter = launch.waiter.clone();
            launch.done.store(true, Ordering::Release);
            // `launch` may be gone from here on: only the cloned handle is used.
            waiter.unpark();
            rc
        }
        let launch = Launch {
            job: job as *mut J,
            done: AtomicBool::new(false),
            waiter: std::thread::current(),
        };
        let arg: *const Launch<J> = &launch;
        // SAFETY: trampoline matches lcore_function_t; `launch` outlives the lcore's use of
        // it (we wait for `done` below before returning).
        let rc = unsafe {
            sys::rte_eal_remote_launch(Some(trampoline::<J>), arg.cast_mut().cast(), lcore)
        };
        check("rte_eal_remote_launch", rc)?;
        // Sleep until the job says it has finished (rte_eal_wait_lcore spins, and this thread
        // shares its CPU with the model's engine). The timeout only bounds a lost wakeup.
        while !launch.done.load(Ordering::Acquire) {
            std::thread::park_timeout(Duration::from_secs(1));
        }
        // SAFETY: the job has returned; this only collects its return value (the lcore reaches
        // WAIT right after its function returns).
        let rc = unsafe { sys::rte_eal_wait_lcore(lcore) };
        match rc {
            0 => Ok(true),
            -1 => Ok(false),
            _ => Err(DpdkError("the measurement panicked".into())),
        }
    }
}

impl Drop for Eal {
    fn drop(&mut self) {
        // SAFETY: every port and pool is released before the Eal (drop order in main).
        unsafe { sys::rte_eal_cleanup() };
    }
}

/// A packet mempool.
#[derive(Debug)]
pub struct Pool(*mut sys::rte_mempool);

// SAFETY: rte_mempool is thread-safe (per-lcore caches, lock-free ring).
unsafe impl Send for Pool {}
// SAFETY: as above.
unsafe impl Sync for Pool {}

impl Pool {
    /// `n` mbufs of the default size on this socket.
    pub fn new(name: &str, n: u32) -> Result<Self, DpdkError> {
        let c = CString::new(name).map_err(|e| DpdkError(e.to_string()))?;
        // SAFETY: valid name; the rest are plain values.
        let mp = unsafe {
            sys::rte_pktmbuf_pool_create(
                c.as_ptr(),
                n,
                256,
                0,
                sys::RTE_MBUF_DEFAULT_BUF_SIZE as u16,
                sys::rte_socket_id() as c_int,
            )
        };
        if mp.is_null() {
            return Err(DpdkError(format!(
                "rte_pktmbuf_pool_create({name}, {n}) failed (hugepages?)"
            )));
        }
        Ok(Self(mp))
    }

    /// Fills `out` with fresh mbufs (all or nothing).
    pub fn alloc(&self, out: &mut [*mut sys::rte_mbuf]) -> bool {
        // SAFETY: out has room for out.len() pointers; the pool is valid.
        unsafe { sys::fbnic_pktmbuf_alloc_bulk(self.0, out.as_mut_ptr(), out.len() as c_uint) == 0 }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // SAFETY: no mbuf of the pool is in use any more (ports closed first).
        unsafe { sys::rte_mempool_free(self.0) };
    }
}

/// Frees mbufs.
pub fn free(m: &mut [*mut sys::rte_mbuf]) {
    if !m.is_empty() {
        // SAFETY: every pointer is an mbuf we own (received or allocated, not handed to Tx).
        unsafe { sys::rte_pktmbuf_free_bulk(m.as_mut_ptr(), m.len() as c_uint) };
    }
}

/// Writes `data` as the whole packet of a freshly allocated single-segment mbuf.
pub fn fill(m: *mut sys::rte_mbuf, data: &[u8]) {
    // SAFETY: m is a fresh mbuf from our pool (data_off = headroom, 2048 bytes of room, more
    // than any frame here); nobody else references it.
    unsafe {
        let mb = &mut *m;
        let dst = mb.buf_addr.cast::<u8>().add(usize::from(mb.data_off));
        core::ptr::copy_nonoverlapping(data.as_ptr(), dst, data.len());
        mb.data_len = data.len() as u16;
        mb.pkt_len = data.len() as u32;
    }
}

/// Overwrites `data.len()` bytes at `off` of a packet built by [`fill`].
pub fn patch(m: *mut sys::rte_mbuf, off: usize, data: &[u8]) {
    // SAFETY: as in `fill`; off + len is within the frame written there (callers patch the
    // payload of their own frames).
    unsafe {
        let mb = &mut *m;
        let dst = mb.buf_addr.cast::<u8>().add(usize::from(mb.data_off) + off);
        core::ptr::copy_nonoverlapping(data.as_ptr(), dst, data.len());
    }
}

/// The first segment's bytes of a received mbuf.
pub fn data<'a>(m: *mut sys::rte_mbuf) -> &'a [u8] {
    // SAFETY: m is a received mbuf we own until we free it; its first segment holds
    // data_len bytes at buf_addr + data_off. The slice is used before the free.
    unsafe {
        let mb = &*m;
        core::slice::from_raw_parts(
            mb.buf_addr.cast::<u8>().add(usize::from(mb.data_off)),
            usize::from(mb.data_len),
        )
    }
}

/// The TSC.
#[inline]
pub fn tsc() -> u64 {
    // SAFETY: reads the time-stamp counter; no memory is touched.
    unsafe { sys::fbnic_get_tsc_cycles() }
}

/// One configured and started port with one Rx and one Tx queue.
#[derive(Debug)]
pub struct EthPort {
    /// The port id.
    pub id: u16,
}

impl EthPort {
    /// Configures and starts port `id` (promiscuous); see [`wait_link`](Self::wait_link).
    pub fn start(id: u16, pool: &Pool, nb_desc: u16) -> Result<Self, DpdkError> {
        // SAFETY: rte_eth_conf is a plain C struct for which all zeroes means defaults.
        let conf: sys::rte_eth_conf = unsafe { core::mem::zeroed() };
        // SAFETY: valid port id (from port_by_name) and a valid conf.
        check("rte_eth_dev_configure", unsafe {
            sys::rte_eth_dev_configure(id, 1, 1, &conf)
        })?;
        // SAFETY: plain query.
        let socket = unsafe { sys::rte_socket_id() };
        // SAFETY: NULL confs mean the driver's defaults; pool is a valid pktmbuf pool.
        check("rte_eth_rx_queue_setup", unsafe {
            sys::rte_eth_rx_queue_setup(id, 0, nb_desc, socket, core::ptr::null(), pool.0)
        })?;
        // SAFETY: as above.
        check("rte_eth_tx_queue_setup", unsafe {
            sys::rte_eth_tx_queue_setup(id, 0, nb_desc, socket, core::ptr::null())
        })?;
        // SAFETY: configured above.
        check("rte_eth_dev_start", unsafe { sys::rte_eth_dev_start(id) })?;
        let port = Self { id };
        // SAFETY: started port.
        check("rte_eth_promiscuous_enable", unsafe {
            sys::rte_eth_promiscuous_enable(id)
        })?;
        Ok(port)
    }

    /// Waits up to 10 s for the link (a cable's link needs both ends started).
    pub fn wait_link(&self) -> Result<(), DpdkError> {
        let id = self.id;
        let t = Instant::now();
        loop {
            // SAFETY: rte_eth_link is plain data; all zeroes is a valid value.
            let mut link: sys::rte_eth_link = unsafe { core::mem::zeroed() };
            // SAFETY: valid port, valid out pointer.
            let rc = unsafe { sys::rte_eth_link_get_nowait(id, &mut link) };
            if rc == 0 && link.link_status() != 0 {
                return Ok(());
            }
            if t.elapsed() > Duration::from_secs(10) {
                return Err(DpdkError(format!("port {id}: link did not come up")));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Receives up to `out.len()` packets.
    #[inline]
    pub fn rx(&self, out: &mut [*mut sys::rte_mbuf]) -> usize {
        // SAFETY: started port, queue 0 exists; out has room for out.len() pointers. Only the
        // measuring lcore polls it.
        usize::from(unsafe {
            sys::fbnic_eth_rx_burst(self.id, 0, out.as_mut_ptr(), out.len().min(512) as u16)
        })
    }

    /// Sends packets; returns how many the driver took (the rest are still ours).
    #[inline]
    pub fn tx(&self, pkts: &mut [*mut sys::rte_mbuf]) -> usize {
        // SAFETY: started port, queue 0; pkts are mbufs we own; the driver takes the first n.
        usize::from(unsafe {
            sys::fbnic_eth_tx_burst(self.id, 0, pkts.as_mut_ptr(), pkts.len().min(512) as u16)
        })
    }
}

impl Drop for EthPort {
    fn drop(&mut self) {
        // SAFETY: the port was started by us; nothing polls it any more.
        unsafe {
            sys::rte_eth_dev_stop(self.id);
            sys::rte_eth_dev_close(self.id);
        }
    }
}
