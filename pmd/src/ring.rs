//! Descriptor rings in DMA memory, shared with the device.
//!
//! A ring is a power-of-two array of 64-bit little-endian descriptors. The driver and the
//! device run on different threads (or different sides of PCIe), so every descriptor access is
//! an atomic 64-bit load or store: a completion's DONE bit and the rest of its word arrive
//! together, and the Acquire load of a DONE descriptor orders the packet data the device wrote
//! before it. On x86 these are plain `mov`s.
//!
//! Indexes are free-running `u32` counters: the slot is `index & mask`, and the DONE phase the
//! device writes on the pass containing `index` is `(index >> log2(size)) & 1 == 0`.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicU64, Ordering};

use fbnic_hw::regs::{self, Bar, QReg, RingSize};

use crate::error::{Error, Result};
use crate::prefetch;
use crate::transport::{DmaAllocator, DmaMem, Transport};

/// A ring of 64-bit descriptors.
#[derive(Debug)]
pub struct DescRing {
    mem: DmaMem,
    size: u32,
    mask: u32,
    shift: u32,
}

impl DescRing {
    /// Allocates a zeroed ring of `entries` descriptors (a power of two, 16..=65536), rounded
    /// up to 4 KiB of memory and 128-byte aligned as the BAL register requires.
    pub fn new(dma: &dyn DmaAllocator, entries: u32) -> Result<Self> {
        if RingSize::for_entries(entries).is_none() {
            return Err(Error::invalid(format!(
                "ring of {entries} entries: must be a power of two from {} to {}",
                regs::RING_MIN_ENTRIES,
                regs::RING_MAX_ENTRIES
            )));
        }
        let bytes = (entries as usize * 8).next_multiple_of(regs::RING_MEM_ALIGN as usize);
        let mem = dma.alloc(bytes, regs::RING_MEM_ALIGN as usize)?;
        if !mem.iova().is_multiple_of(regs::RING_BASE_ALIGN)
            || !(mem.va().as_ptr() as usize).is_multiple_of(8)
        {
            return Err(Error::NoMemory(format!("ring memory misaligned: {mem:?}")));
        }
        Ok(Self {
            mem,
            size: entries,
            mask: entries - 1,
            shift: entries.trailing_zeros(),
        })
    }

    /// Entries in the ring.
    #[inline(always)]
    pub fn size(&self) -> u32 {
        self.size
    }

    /// `size - 1`.
    #[inline(always)]
    pub fn mask(&self) -> u32 {
        self.mask
    }

    /// The ring's device address.
    pub fn iova(&self) -> u64 {
        self.mem.iova()
    }

    /// The DONE value the device writes into the slot of free-running `index`.
    #[inline(always)]
    pub fn done_phase(&self, index: u32) -> bool {
        (index >> self.shift) & 1 == 0
    }

    #[inline(always)]
    fn slot(&self, index: u32) -> &AtomicU64 {
        let i = (index & self.mask) as usize;
        // SAFETY: `i < size` and the ring memory holds `size` 8-byte aligned u64s for as long as
        // `self.mem` lives; the memory is only ever accessed atomically (here and by the
        // device), so handing out a shared atomic reference is sound.
        unsafe { AtomicU64::from_ptr(self.mem.va().as_ptr().cast::<u64>().add(i)) }
    }

    /// Starts fetching the cache lines of descriptors `[index, index + n)` for reading: the
    /// device wrote them on another core (or over PCIe), and asking for all the lines at once
    /// lets the transfers overlap instead of each load waiting in turn.
    #[inline(always)]
    pub fn prefetch(&self, index: u32, n: u32) {
        self.for_each_line(index, n, prefetch::read);
    }

    /// The same for descriptors about to be written (the device last read those lines).
    #[inline(always)]
    pub fn prefetch_write(&self, index: u32, n: u32) {
        self.for_each_line(index, n, prefetch::write);
    }

    #[inline(always)]
    fn for_each_line(&self, index: u32, n: u32, f: fn(*const u8)) {
        let mut k = 0;
        while k < n {
            f((self.slot(index.wrapping_add(k)) as *const AtomicU64).cast());
            // Next line: 8 descriptors per 64-byte line.
            k += 8 - (index.wrapping_add(k) & 7);
        }
    }

    /// Reads the descriptor at `index` (Acquire: data the device wrote before it is visible).
    #[inline(always)]
    pub fn load(&self, index: u32) -> u64 {
        load(self.slot(index))
    }

    /// The ring's geometry as values, for a loop that also stores through packet buffers:
    /// the compiler cannot tell those stores from writes to the ring's fields and would
    /// reload them after each one.
    #[inline(always)]
    pub fn view(&self) -> RingView<'_> {
        RingView {
            slots: self.mem.va().as_ptr().cast::<AtomicU64>(),
            mask: self.mask,
            shift: self.shift,
            _ring: core::marker::PhantomData,
        }
    }

    /// Writes the descriptor at `index`. The doorbell that hands it to the device orders it.
    #[inline(always)]
    pub fn store(&self, index: u32, desc: u64) {
        store(self.slot(index), desc)
    }

    /// The address of the slot of free-running `index` (for `rte_power_monitor`, which
    /// watches it for the device's write).
    pub fn slot_addr(&self, index: u32) -> *const u64 {
        (self.slot(index) as *const AtomicU64).cast()
    }

    /// A handle on the ring's slots for readers outside the queue (the descriptor dumps),
    /// valid as long as the ring is: see [`RingRef::load`].
    pub fn raw_ref(&self) -> RingRef {
        RingRef {
            slots: self.mem.va().cast(),
            size: self.size,
        }
    }

    /// Zeroes every descriptor (the ring must be in reset or disabled).
    pub fn clear(&self) {
        self.mem.zero();
    }

    /// Programs the ring's base and size registers of queue `q`.
    pub fn program(&self, tp: &dyn Transport, q: u32, bal: QReg, bah: QReg, size: QReg) {
        let log2 = RingSize::for_entries(self.size).expect("validated in new");
        tp.write32(Bar::Bar0, bal.at(q), self.iova() as u32);
        tp.write32(Bar::Bar0, bah.at(q), (self.iova() >> 32) as u32);
        tp.write32(Bar::Bar0, size.at(q), log2.raw());
    }
}

/// A view of a [`DescRing`] whose geometry lives in the view itself (see
/// [`DescRing::view`]); it borrows the ring, so the memory outlives it.
#[derive(Clone, Copy, Debug)]
pub struct RingView<'a> {
    slots: *const AtomicU64,
    mask: u32,
    shift: u32,
    _ring: core::marker::PhantomData<&'a DescRing>,
}

impl RingView<'_> {
    /// [`DescRing::load`].
    #[inline(always)]
    pub fn load(&self, index: u32) -> u64 {
        // SAFETY: the slot is `index & mask < size`, inside the ring memory the borrowed
        // DescRing owns (8-byte aligned, `size` u64s, only ever accessed atomically).
        let slot = unsafe { &*self.slots.add((index & self.mask) as usize) };
        load(slot)
    }

    /// [`DescRing::store`].
    #[inline(always)]
    pub fn store(&self, index: u32, desc: u64) {
        // SAFETY: as in `load`.
        let slot = unsafe { &*self.slots.add((index & self.mask) as usize) };
        store(slot, desc)
    }

    /// `size - 1`.
    #[inline(always)]
    pub fn mask(&self) -> u32 {
        self.mask
    }

    /// [`DescRing::done_phase`].
    #[inline(always)]
    pub fn done_phase(&self, index: u32) -> bool {
        (index >> self.shift) & 1 == 0
    }

    /// The slots from `index` to the ring's end, `index` included (1..=size of them): the
    /// rest of `index`'s lap, so in a completion ring all hold descriptors of `index`'s DONE
    /// phase once written.
    #[inline(always)]
    pub fn to_end(&self, index: u32) -> &[AtomicU64] {
        let i = (index & self.mask) as usize;
        // SAFETY: `i <= mask`, and the `mask + 1 - i` slots from `i` are the end of the ring
        // memory the borrowed DescRing owns (8-byte aligned u64s, only ever accessed
        // atomically), alive for the borrow.
        unsafe { core::slice::from_raw_parts(self.slots.add(i), self.mask as usize + 1 - i) }
    }
}

/// A descriptor ring's slots seen from outside the queue that owns them (the descriptor
/// dumps, from a control thread while the queue runs): reads only, atomic like the device's.
#[derive(Clone, Copy, Debug)]
pub struct RingRef {
    slots: NonNull<AtomicU64>,
    size: u32,
}

// SAFETY: a RingRef only reads ring slots atomically; whoever holds one keeps the ring alive
// while using it (the contract of `load`).
unsafe impl Send for RingRef {}
// SAFETY: as above.
unsafe impl Sync for RingRef {}

impl RingRef {
    /// Entries in the ring.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Reads slot `index` (modulo the size).
    ///
    /// # Safety
    /// The ring this came from ([`DescRing::raw_ref`]) must not have been dropped.
    pub unsafe fn load(&self, index: u32) -> u64 {
        let i = (index & (self.size - 1)) as usize;
        // SAFETY: `i < size`, and the ring's memory holds `size` aligned u64s while it lives
        // (the caller's contract); ring memory is only accessed atomically.
        load(unsafe { self.slots.add(i).as_ref() })
    }
}

/// Reads a descriptor slot (Acquire: data the device wrote before it is visible).
#[inline(always)]
pub fn load(slot: &AtomicU64) -> u64 {
    u64::from_le(slot.load(Ordering::Acquire))
}

/// Writes a descriptor slot (the doorbell that hands it to the device orders it).
#[inline(always)]
pub fn store(slot: &AtomicU64, desc: u64) {
    slot.store(desc.to_le(), Ordering::Relaxed)
}

/// Of the `n` slots from `index` (free-running), how many come before the last line boundary
/// among them: the slots of the lines they fill from `index` on, leaving out the line they
/// end part-way into (whose other slots belong to someone else, such as the device).
#[inline(always)]
pub fn before_last_line(index: u32, n: u32) -> u32 {
    let k = index.wrapping_add(n) & !7;
    let k = k.wrapping_sub(index);
    if k <= n {
        k
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeDevice;
    use crate::native::NativeDma;
    use std::sync::Arc;

    #[test]
    fn a_view_sees_and_writes_what_the_ring_holds_in_every_pass() {
        let dma = NativeDma::new(Arc::new(FakeDevice::new()));
        let ring = DescRing::new(dma.as_ref(), 16).unwrap();
        for i in 0..16u32 {
            ring.store(i, 0x1000 + i as u64);
        }
        ring.view().store(21, 0x2005);
        assert_eq!(ring.load(5), 0x2005);
        ring.store(5, 0x1005);
        let r = ring.view();
        for index in [0u32, 5, 15, 16, 21, 31, 32, u32::MAX] {
            assert_eq!(r.load(index), ring.load(index), "index {index}");
            assert_eq!(r.load(index), 0x1000 + (index & 15) as u64);
            assert_eq!(r.done_phase(index), ring.done_phase(index), "index {index}");
        }
        assert!(r.done_phase(3) && !r.done_phase(19) && r.done_phase(35));
        for (index, left) in [
            (0u32, 16u32),
            (5, 11),
            (15, 1),
            (16, 16),
            (31, 1),
            (u32::MAX, 1),
        ] {
            let rest = r.to_end(index);
            assert_eq!(rest.len() as u32, left, "index {index}");
            for (k, slot) in rest.iter().enumerate() {
                assert_eq!(
                    load(slot),
                    r.load(index.wrapping_add(k as u32)),
                    "index {index}"
                );
            }
            let last = index.wrapping_add(left - 1);
            assert_eq!(
                r.done_phase(last),
                r.done_phase(index),
                "same lap to {last}"
            );
            assert_ne!(
                r.done_phase(last.wrapping_add(1)),
                r.done_phase(index),
                "next lap"
            );
        }
    }

    #[test]
    fn before_last_line_stops_at_the_last_boundary() {
        assert_eq!(before_last_line(0, 16), 16);
        assert_eq!(before_last_line(0, 15), 8);
        assert_eq!(before_last_line(5, 10), 3);
        assert_eq!(before_last_line(5, 2), 0, "no boundary among them");
        assert_eq!(before_last_line(8, 7), 0);
        assert_eq!(
            before_last_line(u32::MAX - 2, 8),
            3,
            "across the index wrap"
        );
        assert_eq!(before_last_line(3, 0), 0);
    }
}
