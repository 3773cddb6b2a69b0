//! The narrow interface between the driver and a device: what a PCI function offers.
//!
//! - 32-bit reads and writes of BAR0 and BAR4 registers, with the side effects the spec
//!   defines ([`Transport::read32`], [`Transport::write32`]);
//! - fast-path doorbells: one atomic store to a register address, no call ([`Doorbell`]);
//! - DMA: the device reaches host memory by IOVA, only inside regions the driver mapped
//!   ([`Transport::dma_map`]);
//! - the PCIe Device Serial Number (from which the MAC address derives).
//!
//! The embedded device model, a model in another process, or a real PCI BAR can each
//! implement it; nothing above this module knows which one is underneath.

use core::fmt;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, Ordering};

use fbnic_hw::regs::{Bar, Reg};

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::irq::IrqEvent;

/// Access to one fbnic PCI function.
pub trait Transport: Send + Sync + fmt::Debug {
    /// Reads a 32-bit register.
    fn read32(&self, bar: Bar, reg: Reg) -> u32;

    /// Writes a 32-bit register; its side effects have happened when this returns.
    fn write32(&self, bar: Bar, reg: Reg, val: u32);

    /// A doorbell for BAR0 register `reg`, valid as long as this transport lives.
    fn doorbell(&self, reg: Reg) -> Option<Doorbell>;

    /// The PCIe Device Serial Number.
    fn dsn(&self) -> u64;

    /// Lets the device reach `[va, va + len)` at `[iova, iova + len)`.
    ///
    /// # Safety
    /// The memory must stay valid for reads and writes (by the device, from any thread) until
    /// [`dma_unmap`](Self::dma_unmap) of the same range returns.
    unsafe fn dma_map(&self, iova: u64, va: *mut u8, len: usize) -> Result<()>;

    /// Revokes a mapping made by [`dma_map`](Self::dma_map).
    fn dma_unmap(&self, iova: u64, len: usize) -> Result<()>;

    /// Routes MSI-X vector `vector` to `event` (None: its messages go nowhere), as VFIO's
    /// per-vector eventfds do. The device keeps the event until it is routed elsewhere.
    fn set_msix(&self, vector: u32, event: Option<Arc<IrqEvent>>) -> Result<()> {
        let _ = event;
        Err(Error::NotSupported(format!(
            "MSI-X vector {vector}: this transport delivers no interrupts"
        )))
    }
}

/// A register the fast path writes with a single store: a ring tail or head.
#[derive(Clone, Copy)]
pub struct Doorbell(NonNull<AtomicU32>);

// SAFETY: a Doorbell is an address of device memory; ringing it is an atomic store, which any
// thread may do. Who may ring it (one lcore per queue) is the queue's business.
unsafe impl Send for Doorbell {}
// SAFETY: as above; the only operation is an atomic store.
unsafe impl Sync for Doorbell {}

impl Doorbell {
    /// Wraps the address of a doorbell register.
    ///
    /// # Safety
    /// `reg` must point at a register that stays mapped for as long as the doorbell (and every
    /// copy of it) is used.
    pub unsafe fn new(reg: NonNull<AtomicU32>) -> Self {
        Self(reg)
    }

    /// Hints that the doorbell will be rung soon (the device polls its line; fetching it
    /// early keeps the final store from waiting).
    #[inline(always)]
    pub fn prepare(self) {
        crate::prefetch::write(self.0.as_ptr().cast());
    }

    /// Writes `value`, ordered after every earlier write to descriptor memory (Release): the
    /// device sees the descriptors before it sees the new index.
    #[inline(always)]
    pub fn ring(self, value: u32) {
        // SAFETY: `new`'s contract keeps the register mapped while the doorbell is used.
        unsafe { self.0.as_ref() }.store(value, Ordering::Release);
    }
}

impl fmt::Debug for Doorbell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Doorbell({:p})", self.0)
    }
}

/// Unmaps and frees a [`DmaMem`] block: called once with its address, IOVA and length.
pub type DmaRelease = Box<dyn FnOnce(NonNull<u8>, u64, usize) + Send + Sync>;

/// A block of memory the device can reach by DMA.
///
/// The memory is zeroed when allocated and released (unmapped, freed) when dropped.
pub struct DmaMem {
    va: NonNull<u8>,
    iova: u64,
    len: usize,
    release: Option<DmaRelease>,
}

// SAFETY: DmaMem owns its block exclusively (like a Box<[u8]>); the release closure is Send.
unsafe impl Send for DmaMem {}
// SAFETY: shared access only hands out raw pointers; all reads and writes through them are the
// caller's responsibility (descriptor rings use atomics).
unsafe impl Sync for DmaMem {}

impl DmaMem {
    /// Wraps a block. `release` runs once, on drop, to unmap and free it.
    ///
    /// # Safety
    /// `[va, va + len)` must be valid, zeroed, exclusively owned memory that the device reaches
    /// at `iova`, until `release` runs.
    pub unsafe fn new(va: NonNull<u8>, iova: u64, len: usize, release: DmaRelease) -> Self {
        Self {
            va,
            iova,
            len,
            release: Some(release),
        }
    }

    /// The host address.
    pub fn va(&self) -> NonNull<u8> {
        self.va
    }

    /// The device address.
    pub fn iova(&self) -> u64 {
        self.iova
    }

    /// The size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the block is empty (never, for blocks the allocators return).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Zeroes the whole block.
    pub fn zero(&self) {
        // SAFETY: the block is valid for `len` bytes (construction contract); callers only
        // zero memory the device is not using (rings in reset, pages not posted).
        unsafe { core::ptr::write_bytes(self.va.as_ptr(), 0, self.len) }
    }

    /// Copies `data` to offset `off`. Panics if it does not fit (a driver bug, not input).
    pub fn write(&self, off: usize, data: &[u8]) {
        assert!(off
            .checked_add(data.len())
            .is_some_and(|end| end <= self.len));
        // SAFETY: bounds checked above; the block is valid and the device is not reading this
        // part (it has not been handed over yet).
        unsafe {
            core::ptr::copy_nonoverlapping(data.as_ptr(), self.va.as_ptr().add(off), data.len())
        }
    }

    /// Copies `out.len()` bytes from offset `off`. Panics if the range does not fit.
    pub fn read(&self, off: usize, out: &mut [u8]) {
        assert!(off
            .checked_add(out.len())
            .is_some_and(|end| end <= self.len));
        // SAFETY: bounds checked above; the device has handed this part back (its completion
        // was observed with Acquire ordering).
        unsafe {
            core::ptr::copy_nonoverlapping(self.va.as_ptr().add(off), out.as_mut_ptr(), out.len())
        }
    }
}

impl Drop for DmaMem {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            release(self.va, self.iova, self.len);
        }
    }
}

impl fmt::Debug for DmaMem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DmaMem {{ va: {:p}, iova: {:#x}, len: {} }}",
            self.va, self.iova, self.len
        )
    }
}

/// Where the driver gets memory for rings and mailbox pages.
pub trait DmaAllocator: Send + Sync + fmt::Debug {
    /// A zeroed block of `len` bytes aligned to `align` (a power of two), reachable by the
    /// device and contiguous in IOVA space.
    fn alloc(&self, len: usize, align: usize) -> Result<DmaMem>;
}
