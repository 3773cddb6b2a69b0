//! DPDK memory seen by the device: every hugepage segment is mapped into each port's DMA
//! region table (its IOMMU) at the segment's IOVA, whether EAL runs in PA or VA mode, and
//! kept in step with EAL's memory hotplug events. Rings and mailbox pages are memzones.

use core::ffi::c_void;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, Ordering};
use std::ffi::CString;
use std::sync::{Arc, Mutex, Weak};

use dpdk_sys as sys;

use crate::error::{Error, Result};
use crate::transport::{DmaAllocator, DmaMem, Transport};

/// Transports that want DPDK memory mapped; the memory-event callback walks them.
static DEVICES: Mutex<Vec<Weak<dyn Transport>>> = Mutex::new(Vec::new());
static CALLBACK_REGISTERED: Mutex<bool> = Mutex::new(false);

fn devices() -> std::sync::MutexGuard<'static, Vec<Weak<dyn Transport>>> {
    DEVICES.lock().unwrap_or_else(|e| e.into_inner())
}

/// A memory segment: host address, device address, length.
#[derive(Clone, Copy, Debug)]
struct Seg {
    va: *mut u8,
    iova: u64,
    len: usize,
}

unsafe extern "C" fn collect_seg(
    _msl: *const sys::rte_memseg_list,
    ms: *const sys::rte_memseg,
    arg: *mut c_void,
) -> i32 {
    // SAFETY: EAL passes a valid memseg; arg is the Vec<Seg> passed to rte_memseg_walk.
    let (ms, out) = unsafe { (&*ms, &mut *(arg as *mut Vec<Seg>)) };
    // SAFETY: the memseg's address union holds a pointer.
    let va = unsafe { ms.__bindgen_anon_1.addr } as *mut u8;
    if !va.is_null() && ms.iova != u64::MAX {
        out.push(Seg {
            va,
            iova: ms.iova,
            len: ms.len,
        });
    }
    0
}

fn segments() -> Vec<Seg> {
    let mut segs: Vec<Seg> = Vec::new();
    // SAFETY: collect_seg matches rte_memseg_walk_t and only writes into `segs`.
    unsafe { sys::rte_memseg_walk(Some(collect_seg), (&mut segs as *mut Vec<Seg>).cast()) };
    segs
}

/// Maps all current DPDK memory into `tp`'s device and keeps it mapped as memory comes and
/// goes, until the transport is dropped.
pub fn register(tp: &Arc<dyn Transport>) -> Result<()> {
    let segs = segments();
    for s in &segs {
        // SAFETY: hugepage segments stay valid until EAL frees them, and the memory event
        // callback unmaps them from every device before that (RTE_MEM_EVENT_FREE).
        unsafe { tp.dma_map(s.iova, s.va, s.len) }?;
    }
    log::debug!("mapped {} DPDK memory segments for DMA", segs.len());
    devices().push(Arc::downgrade(tp));
    let mut reg = CALLBACK_REGISTERED
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if !*reg {
        // SAFETY: the callback has the right signature and lives as long as the library.
        let rc = unsafe {
            sys::rte_mem_event_callback_register(
                c"net_fbnic".as_ptr(),
                Some(mem_event),
                core::ptr::null_mut(),
            )
        };
        // -ENOTSUP (legacy memory: no hotplug) is fine: memory never changes then.
        if rc == 0 {
            *reg = true;
        }
    }
    Ok(())
}

/// Stops following memory events for `tp` (its mappings die with its device).
pub fn unregister(tp: &Arc<dyn Transport>) {
    let me = Arc::downgrade(tp);
    devices().retain(|w| w.strong_count() > 0 && !w.ptr_eq(&me));
}

unsafe extern "C" fn mem_event(
    ev: sys::rte_mem_event,
    addr: *const c_void,
    len: usize,
    _arg: *mut c_void,
) {
    let r = std::panic::catch_unwind(|| {
        // Page by page: each has its own IOVA in PA mode.
        let mut segs = Vec::new();
        let mut off = 0;
        while off < len {
            let va = (addr as usize + off) as *const c_void;
            // SAFETY: EAL reports an address range it manages; lookups are read-only.
            let ms = unsafe { sys::rte_mem_virt2memseg(va, core::ptr::null()) };
            if ms.is_null() {
                break;
            }
            // SAFETY: non-null memseg from EAL.
            let ms = unsafe { &*ms };
            let l = ms.len;
            if l == 0 {
                break;
            }
            // SAFETY: as in collect_seg.
            let base = unsafe { ms.__bindgen_anon_1.addr } as *mut u8;
            segs.push(Seg {
                va: base,
                iova: ms.iova,
                len: l,
            });
            off = (base as usize + l) - addr as usize;
        }
        let devs: Vec<Arc<dyn Transport>> = devices().iter().filter_map(Weak::upgrade).collect();
        for tp in devs {
            for s in &segs {
                let res = if ev == sys::RTE_MEM_EVENT_ALLOC {
                    // SAFETY: a freshly allocated segment, valid until its FREE event.
                    unsafe { tp.dma_map(s.iova, s.va, s.len) }
                } else {
                    tp.dma_unmap(s.iova, s.len)
                };
                if let Err(e) = res {
                    log::warn!("memory event: segment at IOVA {:#x}: {e}", s.iova);
                }
            }
        }
    });
    if r.is_err() {
        log::error!("panic in the memory event callback (ignored)");
    }
}

/// Rings and mailbox pages from IOVA-contiguous memzones.
#[derive(Debug)]
pub struct MemzoneDma {
    prefix: String,
    socket: i32,
}

static MEMZONE_SEQ: AtomicU32 = AtomicU32::new(0);

impl MemzoneDma {
    /// Memzones named after `port_name`, on NUMA `socket`.
    pub fn new(port_name: &str, socket: i32) -> Arc<Self> {
        let prefix: String = port_name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(12)
            .collect();
        Arc::new(Self { prefix, socket })
    }
}

impl DmaAllocator for MemzoneDma {
    fn alloc(&self, len: usize, align: usize) -> Result<DmaMem> {
        let seq = MEMZONE_SEQ.fetch_add(1, Ordering::Relaxed);
        let name = CString::new(format!("fbnic_{}_{seq}", self.prefix)).expect("no NUL");
        // SAFETY: valid name; EAL returns NULL on failure.
        let mz = unsafe {
            sys::rte_memzone_reserve_aligned(
                name.as_ptr(),
                len,
                self.socket,
                sys::RTE_MEMZONE_IOVA_CONTIG,
                align as u32,
            )
        };
        let Some(mz) = NonNull::new(mz as *mut sys::rte_memzone) else {
            // SAFETY: reads EAL's thread-local errno.
            let errno = unsafe { sys::fbnic_rte_errno() };
            return Err(Error::NoMemory(format!(
                "memzone of {len} bytes (rte_errno {errno})"
            )));
        };
        // SAFETY: the memzone is valid until freed below.
        let (va, iova) = unsafe {
            (
                mz.as_ref().__bindgen_anon_1.addr as *mut u8,
                mz.as_ref().iova,
            )
        };
        let Some(va) = NonNull::new(va) else {
            return Err(Error::NoMemory("memzone without an address".into()));
        };
        // SAFETY: the memzone spans at least `len` bytes from `va`.
        unsafe { core::ptr::write_bytes(va.as_ptr(), 0, len) };
        let mz_addr = mz.as_ptr() as usize;
        let release = Box::new(move |_va: NonNull<u8>, _iova: u64, _len: usize| {
            // SAFETY: the memzone reserved above, freed once.
            unsafe { sys::rte_memzone_free(mz_addr as *const sys::rte_memzone) };
        });
        // SAFETY: valid, zeroed, exclusively ours, reachable at iova (hugepage memory is
        // mapped into every port's device by `register`).
        Ok(unsafe { DmaMem::new(va, iova, len, release) })
    }
}
