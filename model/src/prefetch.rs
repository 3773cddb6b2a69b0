//! Cache prefetch hints. A prefetch has no architectural effect (it never faults, whatever
//! the address), so these are safe to call with any pointer; they only start bringing a cache
//! line closer so that a later access does not wait for another core or for memory.

/// Starts bringing the line holding `p` in for reading.
#[inline(always)]
pub(crate) fn read(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHh is a hint: no fault, no architectural effect, for any address.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Starts bringing the line holding `p` in for writing (PREFETCHW where available).
#[inline(always)]
pub(crate) fn write(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as for `read`.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_ET0 }>(p.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
