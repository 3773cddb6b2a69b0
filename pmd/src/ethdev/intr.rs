//! Rx queue interrupts for DPDK (`intr_conf.rxq`, `rte_eth_dev_rx_intr_enable/disable`,
//! `rte_eth_dev_rx_intr_ctl_q`): one eventfd per Rx queue, routed to the queue's MSI-X vector
//! and handed to EAL in the port's interrupt handle, the way a vdev PMD offers them (handle
//! type VDEV, an 8-byte counter EAL reads to re-arm epoll).

use std::ptr::NonNull;
use std::sync::Arc;

use dpdk_sys as sys;

use super::Adapter;
use crate::error::{Error, Result};
use crate::irq::IrqEvent;
use crate::rx::RX_VECTOR_BASE;
use crate::transport::Transport;

/// A port's installed Rx interrupts.
pub(super) struct RxIntr {
    handle: NonNull<sys::rte_intr_handle>,
    events: Vec<Arc<IrqEvent>>,
}

fn check(what: &str, rc: i32) -> Result<()> {
    if rc < 0 {
        Err(Error::NoMemory(format!(
            "Rx interrupts: {what} failed ({rc})"
        )))
    } else {
        Ok(())
    }
}

/// Sets up the interrupts when the application asked for them (`intr_conf.rxq`): called at
/// start, once the queues run.
pub(super) fn install(a: &Adapter) -> Result<()> {
    let d = a.data();
    let n = d.nb_rx_queues;
    if d.dev_conf.intr_conf.rxq() == 0 || n == 0 {
        return Ok(());
    }
    let mut events = Vec::with_capacity(n as usize);
    for _ in 0..n {
        events.push(Arc::new(IrqEvent::new()?));
    }
    // SAFETY: allocates a handle in process-private memory; null on failure.
    let raw = unsafe { sys::rte_intr_instance_alloc(sys::RTE_INTR_INSTANCE_F_PRIVATE) };
    let handle =
        NonNull::new(raw).ok_or_else(|| Error::NoMemory("Rx interrupts: handle".into()))?;
    let rx = RxIntr { handle, events };
    if let Err(e) = fill(&rx, n) {
        free(a, rx);
        return Err(e);
    }
    for (q, ev) in rx.events.iter().enumerate() {
        if let Err(e) = a.tp.set_msix(RX_VECTOR_BASE + q as u32, Some(ev.clone())) {
            free(a, rx);
            return Err(e);
        }
    }
    // SAFETY: eth_dev is our port; the handle lives until `uninstall` clears this again.
    unsafe { (*a.eth_dev).intr_handle = handle.as_ptr() };
    *a.rx_intr() = Some(rx);
    Ok(())
}

fn fill(rx: &RxIntr, n: u16) -> Result<()> {
    let h = rx.handle.as_ptr();
    // SAFETY: h is a valid handle of ours; the name is a NUL-terminated literal; indexes are
    // below the sizes allocated just before; the fds stay open while the handle holds them
    // (`rx.events` outlives it).
    unsafe {
        check(
            "type",
            sys::rte_intr_type_set(h, sys::RTE_INTR_HANDLE_VDEV as _),
        )?;
        check("counter size", sys::rte_intr_efd_counter_size_set(h, 8))?;
        check(
            "vector list",
            sys::rte_intr_vec_list_alloc(h, c"net_fbnic_rxq".as_ptr(), n as i32),
        )?;
        for (q, ev) in rx.events.iter().enumerate() {
            let vec = sys::RTE_INTR_VEC_RXTX_OFFSET as i32 + q as i32;
            check("vector", sys::rte_intr_vec_list_index_set(h, q as i32, vec))?;
            check(
                "event fd",
                sys::rte_intr_efds_index_set(h, q as i32, ev.fd()),
            )?;
        }
        check("event count", sys::rte_intr_nb_efd_set(h, n as i32))?;
        check("vector count", sys::rte_intr_max_intr_set(h, n as i32 + 1))?;
    }
    Ok(())
}

/// Takes the interrupts down (at stop and close): the vectors go nowhere, the handle is
/// freed, the events closed.
pub(super) fn uninstall(a: &Adapter) {
    if let Some(rx) = a.rx_intr().take() {
        // SAFETY: eth_dev is our port; nothing else set its handle.
        unsafe { (*a.eth_dev).intr_handle = core::ptr::null_mut() };
        free(a, rx);
    }
}

fn free(a: &Adapter, rx: RxIntr) {
    for q in 0..rx.events.len() {
        let _ = a.tp.set_msix(RX_VECTOR_BASE + q as u32, None);
    }
    let h = rx.handle.as_ptr();
    // SAFETY: h is our handle, no longer reachable through the port: take its fds out of
    // any epoll set they were added to, free its lists, then the handle itself.
    unsafe {
        sys::rte_intr_free_epoll_fd(h);
        sys::rte_intr_vec_list_free(h);
        sys::rte_intr_instance_free(h);
    }
    drop(rx.events);
}

/// Whether Rx interrupts are installed (the queue ops refuse otherwise).
pub(super) fn installed(a: &Adapter) -> bool {
    a.rx_intr().is_some()
}
