//! The DPDK ethdev glue: `net_fbnic` as a vdev PMD in `librte_net_fbnic.so`.
//!
//! A constructor registers the vdev driver and the logtypes. Probe parses the devargs,
//! creates the port's device (the embedded model), maps DPDK memory into the device's DMA
//! region table, and allocates the ethdev with `ops::OPS`. Every callback is an
//! `extern "C"` function that catches panics and returns a negative errno; the burst
//! functions are the driver core's loops over `rte_mbuf`s.

mod flow;
mod intr;
mod log;
mod mbuf;
mod mem;
mod mp;
mod ops;

use core::ffi::{c_char, c_int, c_void, CStr};
use core::ptr::NonNull;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use dpdk_sys as sys;
use fbnic_hw::link::LinkSpeed;

use crate::devargs::{self, Devargs};
use crate::embedded::{EmbeddedTransport, ModelOptions};
use crate::error::{errno, Error, Result};
use crate::fw::FwTimeouts;
use crate::port::{FwRecovery, Port};
use crate::queue::QueueStats;
use crate::ring::RingRef;
use crate::rpc::SplitHdrs;
use crate::rx::RxConfig;
use crate::transport::Transport;
use crate::tx::TxConfig;

pub use mbuf::{Mbuf, MbufRxPool};

/// The driver's name.
pub const DRIVER_NAME: &CStr = c"net_fbnic";
/// How often the service alarm runs.
const SERVICE_PERIOD_US: u64 = 100_000;
/// Alarm ticks between runs of the port's service routine (heartbeat, counters): 1 s.
const SERVICE_EVERY: u64 = 10;
/// MAC addresses a port accepts: its own plus the extra unicast entries of the MAC DA TCAM.
const MAX_MAC_ADDRS: u32 = 1 + crate::rpc::MAX_EXTRA_UC as u32;

dpdk_sys::rte_pmd_info!(
    net_fbnic_pmd_info,
    name: "net_fbnic",
    params: "wire=pair|loop|cable:<name>|tap:<ifname> mac=<XX:XX:XX:XX:XX:XX> link=25G-CR|50G-CR2|50G-CR|100G-CR2 bmc=0|1 model_cpu=<cpu>|none model_poll_us=<us> model_nice=<-20..19> fw_version=<major.minor.patch.build> fw_fault=none|no_life|no_ownership|malformed|no_heartbeat|crash:<ms> fw_timeout_ms=<ms> rx_intr_usecs=<0..16383> rx_intr_frames=<1..16383>"
);

/// What the driver keeps about one Rx queue besides the queue itself (readable by control
/// callbacks while the queue runs on its lcore).
#[derive(Debug, Clone)]
struct RxInfo {
    cfg: RxConfig,
    /// The mempool (with header split: the payload buffers' pool).
    mp: NonNull<sys::rte_mempool>,
    /// Header split: the header buffers' pool and where the port cuts frames.
    split: Option<(NonNull<sys::rte_mempool>, SplitHdrs)>,
    stats: Arc<QueueStats>,
    deferred: bool,
    offloads: u64,
    free_thresh: u16,
    /// The queue's completion ring, for the descriptor dump (set once the queue exists; the
    /// entry leaves this table before the queue is freed).
    rcq: Option<RingRef>,
}

/// The same for a Tx queue.
#[derive(Debug, Clone)]
struct TxInfo {
    cfg: TxConfig,
    stats: Arc<QueueStats>,
    deferred: bool,
    offloads: u64,
    /// The queue's work ring, for the descriptor dump (as `RxInfo::rcq`).
    twq: RingRef,
}

#[derive(Debug, Default)]
struct QueueTable {
    rx: Vec<Option<RxInfo>>,
    tx: Vec<Option<TxInfo>>,
}

/// A port's private state (`dev_private` points at it).
struct Adapter {
    port: Port,
    tp: Arc<EmbeddedTransport>,
    name: String,
    eth_dev: *mut sys::rte_eth_dev,
    queues: Mutex<QueueTable>,
    closing: AtomicBool,
    /// Service alarm ticks so far.
    ticks: AtomicU64,
    /// Rx queue interrupts, while installed (started with `intr_conf.rxq`).
    rx_intr: Mutex<Option<intr::RxIntr>>,
    /// Rx interrupt moderation for every queue (devargs).
    rx_intr_coalesce: crate::rx::IntrCoalesce,
}

// SAFETY: the raw eth_dev pointer is DPDK's process-global port structure, valid until the
// port is released (after dev_close, which frees the adapter).
unsafe impl Send for Adapter {}
// SAFETY: as above; mutable state is behind the Port's and the queue table's mutexes.
unsafe impl Sync for Adapter {}

impl Adapter {
    fn queues(&self) -> std::sync::MutexGuard<'_, QueueTable> {
        self.queues.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn rx_intr(&self) -> std::sync::MutexGuard<'_, Option<intr::RxIntr>> {
        self.rx_intr.lock().unwrap_or_else(|e| e.into_inner())
    }

    // The data lives in DPDK's shared memory, reached through a raw pointer.
    #[allow(clippy::mut_from_ref)]
    fn data(&self) -> &mut sys::rte_eth_dev_data {
        // SAFETY: eth_dev and its data live until release_port, after our dev_close; ethdev
        // serialises control callbacks on a port, which are the only writers here.
        unsafe { &mut *(*self.eth_dev).data }
    }
}

/// The adapter of `dev`, if the port is still open.
///
/// # Safety
/// `dev` must be a port this driver created.
unsafe fn adapter<'a>(dev: *const sys::rte_eth_dev) -> Option<&'a Adapter> {
    // SAFETY: ethdev passes the port it calls us for; dev_private holds our pointer or null.
    unsafe {
        let data = (*dev).data;
        if data.is_null() || (*data).dev_private.is_null() {
            return None;
        }
        (*((*data).dev_private as *const *const Adapter)).as_ref()
    }
}

/// Runs a control callback body: panics are caught and logged, errors logged and turned into
/// negative errno values.
fn guard(what: &str, port: Option<&str>, f: impl FnOnce() -> Result<c_int>) -> c_int {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            ::log::error!(
                "{}{what}: {e}",
                port.map(|p| format!("{p}: ")).unwrap_or_default()
            );
            e.to_errno()
        }
        Err(_) => {
            ::log::error!("{what}: internal error (panic caught); the port may need a restart");
            -errno::EIO
        }
    }
}

/// A DSN for a port named `name`: the number at the end of the name if there is one (so
/// net_fbnic0 gets 02:1d:9b:00:00:00 and net_fbnic1 gets ...:01), else a hash of the name.
fn dsn_for(name: &str) -> u64 {
    let digits: String = name
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let n = digits.chars().rev().collect::<String>().parse::<u64>().ok();
    let low = n.unwrap_or_else(|| {
        name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
        })
    }) & 0xff_ffff;
    // MAC = DSN bytes 63:56, 55:48, 47:40, 23:16, 15:8, 7:0 = 02:1d:9b:xx:xx:xx.
    0x021d_9b00_0000_0000 | low
}

fn timeouts(d: &Devargs) -> FwTimeouts {
    let mut t = FwTimeouts::default();
    if let Some(ms) = d.fw_timeout_ms {
        let cap = std::time::Duration::from_millis(ms);
        t.alive = t.alive.min(cap);
        t.response = t.response.min(cap);
        t.ownership = t.ownership.min(cap);
    }
    t
}

/// The UTF-8 text of a C string, None for NULL or invalid UTF-8.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives `'a`.
unsafe fn cstr_opt<'a>(p: *const c_char) -> Option<&'a str> {
    if p.is_null() {
        return None;
    }
    // SAFETY: DPDK hands us NUL-terminated strings.
    unsafe { CStr::from_ptr(p) }.to_str().ok()
}

unsafe extern "C" fn probe(vdev: *mut sys::rte_vdev_device) -> c_int {
    // SAFETY: EAL passes a valid vdev.
    let name = unsafe { cstr_opt(sys::fbnic_vdev_device_name(vdev)) }
        .unwrap_or("net_fbnic?")
        .to_string();
    // SAFETY: as above; args may be NULL.
    let args = unsafe { cstr_opt(sys::fbnic_vdev_device_args(vdev)) }
        .unwrap_or("")
        .to_string();
    let n = name.clone();
    guard("probe", Some(&n), || {
        // SAFETY: plain EAL query.
        if unsafe { sys::rte_eal_process_type() } != sys::RTE_PROC_PRIMARY {
            // SAFETY: as above.
            return unsafe { probe_secondary(vdev, &name) };
        }
        let devargs: Devargs = args
            .parse()
            .map_err(|e: devargs::DevargsError| Error::InvalidArg(e.to_string()))?;
        // SAFETY: as above.
        unsafe { probe_port(vdev, &name, devargs) }
    })
}

/// Attaches a secondary process to the primary's port `name` (see [`mp`]).
///
/// # Safety
/// `vdev` is the valid device EAL passed to [`probe`].
unsafe fn probe_secondary(vdev: *mut sys::rte_vdev_device, name: &str) -> Result<c_int> {
    let cname = std::ffi::CString::new(name).map_err(|_| Error::invalid("port name"))?;
    // SAFETY: a NUL-terminated name; ethdev looks the port up in the shared data.
    let eth_dev = unsafe { sys::rte_eth_dev_attach_secondary(cname.as_ptr()) };
    if eth_dev.is_null() {
        return Err(Error::invalid(format!(
            "{name}: the primary process has no such port"
        )));
    }
    // SAFETY: the port just attached (this process's ethdev entry, the shared data); the
    // vdev outlives it.
    unsafe {
        (*eth_dev).device = &mut (*vdev).device;
        (*eth_dev).dev_ops = &mp::SECONDARY_OPS;
        (*eth_dev).rx_pkt_burst = Some(mp::rx_burst);
        (*eth_dev).tx_pkt_burst = Some(mp::tx_burst);
        sys::rte_eth_dev_probing_finish(eth_dev);
    }
    ::log::info!("{name}: attached (secondary process: statistics and information only)");
    Ok(0)
}

/// Creates port `name` on its model device and allocates its ethdev.
///
/// # Safety
/// `vdev` is the valid device EAL passed to [`probe`].
unsafe fn probe_port(
    vdev: *mut sys::rte_vdev_device,
    name: &str,
    devargs: Devargs,
) -> Result<c_int> {
    let mut opts = ModelOptions::new(name, dsn_for(name));
    opts.wire = devargs.wire.clone();
    opts.link = devargs.link.unwrap_or(LinkSpeed::G100Cr2);
    opts.bmc = devargs.bmc;
    opts.fw_version = devargs.fw_version;
    opts.fw_fault = devargs.fw_fault;
    opts.engine_cpu = match devargs.model_cpu {
        Some(cpu) => cpu,
        // Default: the main lcore's CPU (it mostly sleeps; forwarding lcores are others).
        // SAFETY: plain EAL queries.
        None => unsafe {
            usize::try_from(sys::rte_lcore_to_cpu_id(sys::rte_get_main_lcore() as c_int)).ok()
        },
    };
    opts.engine_poll = devargs.model_poll_us.map(std::time::Duration::from_micros);
    opts.engine_nice = devargs.model_nice;
    let tp = EmbeddedTransport::attach(&opts)?;
    mp::register_primary();
    let dyn_tp: Arc<dyn Transport> = tp.clone();
    // From here on, undo on failure (the embedded transport detaches on drop).
    let undo_mem = |tp: &Arc<dyn Transport>| mem::unregister(tp);
    mem::register(&dyn_tp)?;
    // SAFETY: plain EAL query.
    let socket = unsafe { sys::rte_socket_id() } as i32;
    let dma = mem::MemzoneDma::new(name, socket);
    let port = match Port::new(dyn_tp.clone(), dma, timeouts(&devargs), devargs.mac) {
        Ok(p) => p,
        Err(e) => {
            undo_mem(&dyn_tp);
            return Err(e);
        }
    };
    // SAFETY: vdev is valid; the private area holds one pointer.
    let eth_dev =
        unsafe { sys::fbnic_eth_vdev_allocate(vdev, core::mem::size_of::<*mut Adapter>()) };
    if eth_dev.is_null() {
        undo_mem(&dyn_tp);
        return Err(Error::NoMemory(format!(
            "{name}: could not allocate the ethdev"
        )));
    }
    // SAFETY: a zeroed area of MAX_MAC_ADDRS addresses; ethdev frees it at release.
    let macs = unsafe {
        sys::rte_zmalloc(
            c"fbnic_mac_addrs".as_ptr(),
            MAX_MAC_ADDRS as usize * core::mem::size_of::<sys::rte_ether_addr>(),
            0,
        )
    } as *mut sys::rte_ether_addr;
    if macs.is_null() {
        // SAFETY: the port we just allocated.
        unsafe { sys::rte_eth_dev_release_port(eth_dev) };
        undo_mem(&dyn_tp);
        return Err(Error::NoMemory(format!("{name}: MAC address table")));
    }
    let perm = port.perm_addr();
    let adapter = Box::new(Adapter {
        port,
        tp,
        name: name.to_string(),
        eth_dev,
        queues: Mutex::new(QueueTable::default()),
        closing: AtomicBool::new(false),
        ticks: AtomicU64::new(0),
        rx_intr: Mutex::new(None),
        rx_intr_coalesce: devargs.rx_intr,
    });
    // SAFETY: eth_dev is freshly allocated and ours; data and dev_private are valid.
    unsafe {
        let data = &mut *(*eth_dev).data;
        (*macs).addr_bytes = perm.0;
        data.mac_addrs = macs;
        data.dev_flags |= sys::RTE_ETH_DEV_AUTOFILL_QUEUE_XSTATS | sys::RTE_ETH_DEV_INTR_LSC;
        // A vdev has no NUMA node (SOCKET_ID_ANY); report the socket the port's rings and
        // DMA memory come from, as applications match ports to lcores by it (dpdk-test's
        // pmd_perf_autotest stops only the ports on its lcore's socket).
        data.numa_node = socket;
        data.dev_link = sys::rte_eth_link {
            link_speed: sys::RTE_ETH_SPEED_NUM_NONE,
            ..core::mem::zeroed()
        };
        (*eth_dev).dev_ops = &ops::OPS;
        (*eth_dev).rx_pkt_burst = Some(ops::rx_burst);
        (*eth_dev).tx_pkt_burst = Some(ops::tx_burst);
        (*eth_dev).tx_pkt_prepare = Some(ops::tx_prepare);
        (*eth_dev).rx_queue_count = Some(ops::rx_queue_count);
        (*eth_dev).rx_descriptor_status = Some(ops::rx_descriptor_status);
        (*eth_dev).tx_descriptor_status = Some(ops::tx_descriptor_status);
        *(data.dev_private as *mut *mut Adapter) = Box::into_raw(adapter);
        arm_alarm(eth_dev);
        sys::rte_eth_dev_probing_finish(eth_dev);
    }
    ::log::info!("{name}: probed, MAC {perm}");
    Ok(0)
}

unsafe extern "C" fn service_alarm(arg: *mut c_void) {
    let eth_dev = arg as *mut sys::rte_eth_dev;
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the alarm is cancelled in dev_close before the adapter is freed.
        let Some(a) = (unsafe { adapter(eth_dev) }) else {
            return false;
        };
        if a.closing.load(Ordering::Acquire) {
            return false;
        }
        // The link every tick (the device raises no interrupt here: a link change is seen
        // within a tick, and reported as an LSC event when the application asked for them);
        // heartbeat and counters every SERVICE_EVERY ticks.
        let tick = a.ticks.fetch_add(1, Ordering::Relaxed);
        if tick % SERVICE_EVERY == 0 {
            // A firmware restart: the port restores itself and says so with ethdev's error
            // recovery events (the data path runs on meanwhile: the firmware does not own
            // the queues).
            a.port.service_notify(|r| {
                let event = match r {
                    FwRecovery::Started => sys::RTE_ETH_EVENT_ERR_RECOVERING,
                    FwRecovery::Succeeded => sys::RTE_ETH_EVENT_RECOVERY_SUCCESS,
                    FwRecovery::Failed => sys::RTE_ETH_EVENT_RECOVERY_FAILED,
                };
                // SAFETY: our port, from the EAL interrupt thread (as the LSC event below);
                // the port's lock is not held, so callbacks may use the port.
                unsafe { sys::rte_eth_dev_callback_process(eth_dev, event, core::ptr::null_mut()) };
            });
        }
        if ops::update_link(a, false) && a.data().dev_conf.intr_conf.lsc() != 0 {
            // SAFETY: our port; called from the EAL interrupt thread, as for any PMD's
            // interrupt handler.
            unsafe {
                sys::rte_eth_dev_callback_process(
                    eth_dev,
                    sys::RTE_ETH_EVENT_INTR_LSC,
                    core::ptr::null_mut(),
                )
            };
        }
        true
    }));
    match r {
        Ok(true) => {
            // SAFETY: still open (checked above); re-arming from the callback is allowed.
            unsafe { arm_alarm(eth_dev) }
        }
        Ok(false) => {}
        Err(_) => ::log::error!("panic in the service alarm; it stops"),
    }
}

/// Arms the next run of the service routine (heartbeat, link polling) for `eth_dev`.
///
/// # Safety
/// `eth_dev` is a port of this driver that stays allocated until `dev_close` cancels the
/// alarm.
unsafe fn arm_alarm(eth_dev: *mut sys::rte_eth_dev) {
    // SAFETY: the callback and its argument stay valid until cancelled in dev_close.
    let rc =
        unsafe { sys::rte_eal_alarm_set(SERVICE_PERIOD_US, Some(service_alarm), eth_dev.cast()) };
    if rc != 0 {
        ::log::error!("could not arm the service alarm ({rc}): no heartbeat or link polling");
    }
}

unsafe extern "C" fn remove(vdev: *mut sys::rte_vdev_device) -> c_int {
    // SAFETY: EAL passes a valid vdev.
    let name = unsafe { sys::fbnic_vdev_device_name(vdev) };
    guard("remove", None, || {
        // SAFETY: name is a valid string; the lookup is read-only.
        let eth_dev = unsafe { sys::rte_eth_dev_allocated(name) };
        if eth_dev.is_null() {
            return Ok(0);
        }
        // SAFETY: plain EAL query.
        if unsafe { sys::rte_eal_process_type() } != sys::RTE_PROC_PRIMARY {
            // SAFETY: a port this secondary attached; releasing it frees only this
            // process's entry (the shared data stays the primary's).
            return Ok(unsafe { sys::rte_eth_dev_release_port(eth_dev) });
        }
        // SAFETY: a port of ours; close runs dev_close then releases it.
        let port_id = unsafe { (*(*eth_dev).data).port_id };
        // SAFETY: as above.
        Ok(unsafe { sys::rte_eth_dev_close(port_id) })
    })
}

/// Registers the driver with the vdev bus (library constructor).
extern "C" fn register() {
    log::init();
    // SAFETY: an all-zero rte_vdev_driver is valid (null pointers, no flags); the driver
    // lives for the life of the process (leaked), as DPDK keeps a pointer to it.
    let drv: &'static mut sys::rte_vdev_driver =
        Box::leak(Box::new(unsafe { core::mem::zeroed() }));
    drv.driver.name = DRIVER_NAME.as_ptr();
    drv.probe = Some(probe);
    drv.remove = Some(remove);
    // SAFETY: registering a fully initialised driver with the vdev bus.
    unsafe { sys::rte_vdev_register(drv) };
}

dpdk_sys::rte_init!(register);
