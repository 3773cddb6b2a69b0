//! Cache prefetch hints for memory the device shares with the driver. A prefetch has no
//! architectural effect (it never faults, whatever the address); it only starts moving a
//! cache line so that a later access does not wait for the device's core or for memory.

/// Starts bringing the line holding `p` in for reading.
#[inline(always)]
pub fn read(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHh is a hint: no fault, no architectural effect, for any address.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Starts bringing the line holding `p` in for writing (PREFETCHW: an exclusive copy, so the
/// store that follows does not wait for the other core to let go of the line).
#[inline(always)]
pub fn write(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHW is a hint: no fault, no architectural effect, for any address (CPUs
    // without it execute it as a NOP).
    unsafe {
        core::arch::asm!("prefetchw [{0}]", in(reg) p, options(nostack, readonly, preserves_flags))
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
