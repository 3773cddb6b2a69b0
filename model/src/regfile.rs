//! The register file: BAR0 and BAR4 backed by atomics.
//!
//! Both BARs are `Box<[AtomicU32]>`, allocated once per device, so a pointer to a register
//! ([`Device::reg_ptr`](crate::Device::reg_ptr)) stays valid for the device's life. Reads are
//! plain atomic loads. The engine publishes pointers, idle bits, link bits and counters into
//! the array; writes with side effects go through [`Device::write32`](crate::Device::write32).

use std::sync::atomic::{AtomicU32, Ordering};

use fbnic_hw::regs::{Reg, BAR0_DWORDS, BAR4_DWORDS};

/// BAR0 and BAR4 of one device.
#[derive(Debug)]
pub(crate) struct RegFile {
    pub bar0: Box<[AtomicU32]>,
    pub bar4: Box<[AtomicU32]>,
}

impl RegFile {
    pub fn new() -> Self {
        Self {
            bar0: (0..BAR0_DWORDS).map(|_| AtomicU32::new(0)).collect(),
            bar4: (0..BAR4_DWORDS).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    /// A BAR0 register (Acquire: pairs with the driver's Release store of a doorbell).
    #[inline(always)]
    pub fn get(&self, r: Reg) -> u32 {
        self.bar0[r as usize].load(Ordering::Acquire)
    }

    /// Sets a BAR0 register (Release: everything written before is visible to a reader).
    #[inline(always)]
    pub fn set(&self, r: Reg, v: u32) {
        self.bar0[r as usize].store(v, Ordering::Release)
    }

    /// Sets bits in a BAR0 register.
    pub fn or(&self, r: Reg, bits: u32) {
        self.bar0[r as usize].fetch_or(bits, Ordering::AcqRel);
    }

    /// Clears bits in a BAR0 register.
    pub fn clear(&self, r: Reg, bits: u32) {
        self.bar0[r as usize].fetch_and(!bits, Ordering::AcqRel);
    }

    /// Publishes a 64-bit counter as a LO/HI pair: LO first, then HI.
    #[inline]
    pub fn set64(&self, lo: Reg, v: u64) {
        self.set(lo, v as u32);
        self.set(lo + 1, (v >> 32) as u32);
    }

    /// A BAR4 register.
    #[inline(always)]
    pub fn get4(&self, r: Reg) -> u32 {
        self.bar4[r as usize].load(Ordering::Acquire)
    }

    /// Sets a BAR4 register.
    #[inline(always)]
    pub fn set4(&self, r: Reg, v: u32) {
        self.bar4[r as usize].store(v, Ordering::Release)
    }

    /// Sets every register of both BARs to all-ones (a lost PCI device).
    pub fn poison(&self) {
        for r in self.bar0.iter().chain(self.bar4.iter()) {
            r.store(u32::MAX, Ordering::Release);
        }
    }
}
