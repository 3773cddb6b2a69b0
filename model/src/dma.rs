//! DMA through a region table: the model's IOMMU.
//!
//! The driver maps host memory into the device's IOVA space with [`Device::dma_map`]; every
//! access the device makes goes through [`DmaTable`], which translates an IOVA range to host
//! virtual addresses. Any access that touches a byte outside every mapped region is a **DMA
//! fault**: it is counted, its first unmapped IOVA is remembered, and nothing else happens
//! (no partial copy). This module and the register file are the only places that use `unsafe`.
//!
//! The table is part of the device state and is only used under the device lock (the engine
//! holds it for a whole batch, the firmware agent for one mailbox message), so lookups need no
//! lock of their own. Lookups are a last-hit cache check, then a binary search.
//!
//! [`Device::dma_map`]: crate::Device::dma_map

use std::sync::atomic::{AtomicU64, Ordering};

use crate::ModelError;

/// Most regions a device can map at once.
pub const MAX_REGIONS: usize = 65536;

/// Entries of the recently-used region cache, direct-mapped by 2 MiB page of IOVA (so a
/// contiguous IOVA space of up to 512 MiB, as DPDK's hugepage segments make, never collides).
const HOT: usize = 256;

/// The cache slot of an IOVA.
#[inline(always)]
fn hot_slot(iova: u64) -> usize {
    (iova >> 21) as usize % HOT
}

/// The first IOVA that is not device-addressable (46-bit DMA).
const IOVA_LIMIT: u64 = 1 << fbnic_hw::regs::DMA_ADDR_BITS;

/// Copies `n` bytes from `src` to `dst` (non-overlapping); frames of 16 to 64 bytes, the
/// common small packet, take two overlapping unaligned vector moves instead of a call.
///
/// # Safety
/// `src` must be valid for reads and `dst` for writes of `n` bytes, and they must not overlap.
#[inline(always)]
unsafe fn copy(src: *const u8, dst: *mut u8, n: usize) {
    if (16..=32).contains(&n) {
        // SAFETY: n >= 16, so [0, 16) and [n - 16, n) are inside both ranges (the caller's
        // contract); unaligned reads and writes of plain bytes are allowed.
        unsafe {
            let head = std::ptr::read_unaligned(src.cast::<[u8; 16]>());
            let tail = std::ptr::read_unaligned(src.add(n - 16).cast::<[u8; 16]>());
            std::ptr::write_unaligned(dst.cast::<[u8; 16]>(), head);
            std::ptr::write_unaligned(dst.add(n - 16).cast::<[u8; 16]>(), tail);
        }
    } else if (33..=64).contains(&n) {
        // SAFETY: as above with 32-byte halves: n >= 33 > 32.
        unsafe {
            let head = std::ptr::read_unaligned(src.cast::<[u8; 32]>());
            let tail = std::ptr::read_unaligned(src.add(n - 32).cast::<[u8; 32]>());
            std::ptr::write_unaligned(dst.cast::<[u8; 32]>(), head);
            std::ptr::write_unaligned(dst.add(n - 32).cast::<[u8; 32]>(), tail);
        }
    } else {
        // SAFETY: the caller's contract.
        unsafe { std::ptr::copy_nonoverlapping(src, dst, n) }
    }
}

/// One mapped range: `[iova, iova + len)` is host memory at `va`.
#[derive(Clone, Copy, Debug)]
struct Region {
    iova: u64,
    len: u64,
    va: *mut u8,
}

// SAFETY: a Region is a plain description of host memory; the `dma_map` contract makes the
// memory valid for reads and writes from any thread until it is unmapped, and the table is only
// used under the device lock, which `dma_unmap` also takes before it returns.
unsafe impl Send for Region {}

/// A DMA access touched an unmapped byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DmaFault {
    /// The first unmapped IOVA of the access.
    pub addr: u64,
}

/// The device's region table and its fault counter.
#[derive(Debug)]
pub(crate) struct DmaTable {
    regions: Vec<Region>,
    /// Recently used region indexes (a small cache in front of the binary search).
    hot: [usize; HOT],
    /// DMA faults so far (free-running).
    pub faults: u64,
    /// First unmapped IOVA of the most recent fault.
    pub last_fault: u64,
    /// Set when `faults` changed and the MASTER registers need publishing.
    pub dirty: bool,
    /// Bumped by every map and unmap: cached ring translations ([`RingMap`]) are valid only
    /// for the generation they were made in.
    gen: u64,
}

/// A ring's cached translation: the host address of its first byte, when the whole ring
/// lies in one region (0 = not resolvable in generation `gen`).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RingMap {
    host: usize,
    gen: u64,
}

impl Default for DmaTable {
    fn default() -> Self {
        Self {
            regions: Vec::new(),
            hot: [0; HOT],
            faults: 0,
            last_fault: 0,
            dirty: false,
            gen: 1,
        }
    }
}

impl DmaTable {
    /// Publishes the fault counter and last fault address (MASTER) if they changed.
    #[inline]
    pub fn publish(&mut self, regs: &crate::regfile::RegFile) {
        if self.dirty {
            self.dirty = false;
            regs.set(fbnic_hw::regs::MASTER_DMA_FAULT_CNT, self.faults as u32);
            regs.set(
                fbnic_hw::regs::MASTER_DMA_FAULT_ADDR_LO,
                self.last_fault as u32,
            );
            regs.set(
                fbnic_hw::regs::MASTER_DMA_FAULT_ADDR_HI,
                (self.last_fault >> 32) as u32,
            );
        }
    }

    /// Number of mapped regions.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.regions.len()
    }

    /// Adds `[iova, iova + len) -> va`.
    pub fn map(&mut self, iova: u64, va: *mut u8, len: usize) -> Result<(), ModelError> {
        let len = len as u64;
        if len == 0 || va.is_null() {
            return Err(ModelError::InvalidMapping("empty range or null address"));
        }
        let end = iova
            .checked_add(len)
            .ok_or(ModelError::InvalidMapping("range wraps"))?;
        if end > IOVA_LIMIT {
            return Err(ModelError::InvalidMapping("beyond 46-bit DMA space"));
        }
        if (va as usize as u64 ^ iova) & 7 != 0 {
            return Err(ModelError::InvalidMapping(
                "va and iova must be congruent modulo 8 (as IOMMU page offsets are)",
            ));
        }
        if self.regions.len() >= MAX_REGIONS {
            return Err(ModelError::TooManyRegions);
        }
        let pos = self.regions.partition_point(|r| r.iova < iova);
        if pos > 0 {
            let prev = &self.regions[pos - 1];
            if prev.iova + prev.len > iova {
                return Err(ModelError::Overlap);
            }
        }
        if let Some(next) = self.regions.get(pos) {
            if next.iova < end {
                return Err(ModelError::Overlap);
            }
        }
        self.regions.insert(pos, Region { iova, len, va });
        self.hot = [0; HOT];
        self.gen += 1;
        Ok(())
    }

    /// Removes the region that starts at `iova` and has exactly `len` bytes.
    pub fn unmap(&mut self, iova: u64, len: usize) -> Result<(), ModelError> {
        let pos = self.regions.partition_point(|r| r.iova < iova);
        match self.regions.get(pos) {
            Some(r) if r.iova == iova && r.len == len as u64 => {
                self.regions.remove(pos);
                self.hot = [0; HOT];
                self.gen += 1;
                Ok(())
            }
            _ => Err(ModelError::NotMapped),
        }
    }

    /// Index of the region holding `iova`.
    #[inline]
    fn find(&mut self, iova: u64) -> Option<usize> {
        let slot = hot_slot(iova);
        let h = self.hot[slot];
        if let Some(r) = self.regions.get(h) {
            if iova.wrapping_sub(r.iova) < r.len {
                return Some(h);
            }
        }
        let pos = self.regions.partition_point(|r| r.iova + r.len <= iova);
        let r = self.regions.get(pos)?;
        if iova >= r.iova {
            self.hot[slot] = pos;
            Some(pos)
        } else {
            None
        }
    }

    fn fault(&mut self, addr: u64) -> DmaFault {
        self.faults += 1;
        if self.faults.is_power_of_two() {
            log::warn!("DMA fault at IOVA {addr:#x} (fault #{})", self.faults);
        }
        self.last_fault = addr;
        self.dirty = true;
        DmaFault { addr }
    }

    /// Checks that `[iova, iova + len)` is mapped; returns the region index of `iova`.
    #[inline(always)]
    fn check(&mut self, iova: u64, len: usize) -> Result<usize, DmaFault> {
        // Fast path: the cached region holds the whole access.
        let h = self.hot[hot_slot(iova)];
        if let Some(r) = self.regions.get(h) {
            let off = iova.wrapping_sub(r.iova);
            if off < r.len && len as u64 <= r.len - off {
                return Ok(h);
            }
        }
        self.check_slow(iova, len)
    }

    /// [`check`](Self::check) through the binary search, across adjacent regions.
    #[inline(never)]
    fn check_slow(&mut self, iova: u64, len: usize) -> Result<usize, DmaFault> {
        let Some(first) = self.find(iova) else {
            return Err(self.fault(iova));
        };
        let end = iova.saturating_add(len as u64);
        let mut i = first;
        let mut covered = self.regions[i].iova + self.regions[i].len;
        while covered < end {
            i += 1;
            match self.regions.get(i) {
                Some(r) if r.iova == covered => covered += r.len,
                _ => return Err(self.fault(covered)),
            }
        }
        Ok(first)
    }

    /// Copies `dst.len()` bytes from device address `iova` into `dst`.
    #[inline]
    pub fn read(&mut self, iova: u64, dst: &mut [u8]) -> Result<(), DmaFault> {
        if dst.is_empty() {
            return Ok(());
        }
        let mut i = self.check(iova, dst.len())?;
        let mut addr = iova;
        let mut done = 0;
        while done < dst.len() {
            let r = self.regions[i];
            let off = addr - r.iova;
            let n = ((r.len - off) as usize).min(dst.len() - done);
            // SAFETY: `check` proved [addr, addr + n) lies inside region `r`, whose memory the
            // dma_map contract keeps valid for reads until it is unmapped; unmapping needs the
            // device lock, which our caller holds. `dst[done..]` has at least `n` bytes and is
            // our own buffer, which cannot overlap host DMA memory that the device only reaches
            // through this table. The driver does not write buffers it handed to the device,
            // so there is no concurrent writer.
            unsafe { copy(r.va.add(off as usize), dst[done..].as_mut_ptr(), n) };
            done += n;
            addr += n as u64;
            i += 1;
        }
        Ok(())
    }

    /// Copies `src` to device address `iova`.
    #[inline]
    pub fn write(&mut self, iova: u64, src: &[u8]) -> Result<(), DmaFault> {
        if src.is_empty() {
            return Ok(());
        }
        let mut i = self.check(iova, src.len())?;
        let mut addr = iova;
        let mut done = 0;
        while done < src.len() {
            let r = self.regions[i];
            let off = addr - r.iova;
            let n = ((r.len - off) as usize).min(src.len() - done);
            // SAFETY: `check` proved [addr, addr + n) lies inside region `r`, valid for writes
            // under the dma_map contract until unmapped (unmapping needs the device lock, held
            // by our caller); `src[done..]` has at least `n` bytes. The driver has handed this
            // buffer to the device and does not access it until a completion (written after
            // this copy, with Release) returns it.
            unsafe { copy(src[done..].as_ptr(), r.va.add(off as usize), n) };
            done += n;
            addr += n as u64;
            i += 1;
        }
        Ok(())
    }

    /// The host address of an 8-byte word at `iova` if it lies inside one region and is
    /// 8-byte aligned there.
    #[inline]
    fn word_ptr(&mut self, iova: u64) -> Result<Option<*mut u64>, DmaFault> {
        let i = self.check(iova, 8)?;
        let r = self.regions[i];
        let off = iova - r.iova;
        if off + 8 <= r.len {
            // SAFETY: off + 8 <= r.len, so the pointer stays inside the region.
            let p = unsafe { r.va.add(off as usize) };
            if (p as usize) % 8 == 0 {
                return Ok(Some(p.cast()));
            }
        }
        Ok(None)
    }

    /// Reads a little-endian descriptor word with Acquire ordering.
    #[inline]
    pub fn read_u64(&mut self, iova: u64) -> Result<u64, DmaFault> {
        match self.word_ptr(iova)? {
            Some(p) => {
                // SAFETY: `p` is 8-byte aligned and inside a mapped region valid for reads and
                // writes from any thread (dma_map contract) while we hold the device lock;
                // ring memory is shared with the driver, which accesses it atomically or not at
                // all while the device owns the slot, so an atomic view is sound.
                let a = unsafe { AtomicU64::from_ptr(p) };
                Ok(u64::from_le(a.load(Ordering::Acquire)))
            }
            None => {
                let mut b = [0u8; 8];
                self.read(iova, &mut b)?;
                Ok(u64::from_le_bytes(b))
            }
        }
    }

    /// Writes a little-endian descriptor word with Release ordering, so every earlier write
    /// (frame data, earlier descriptors) is visible before it.
    #[inline]
    pub fn write_u64(&mut self, iova: u64, val: u64) -> Result<(), DmaFault> {
        match self.word_ptr(iova)? {
            Some(p) => {
                // SAFETY: as in `read_u64`: aligned, mapped, valid for writes from any thread.
                let a = unsafe { AtomicU64::from_ptr(p) };
                a.store(val.to_le(), Ordering::Release);
                Ok(())
            }
            None => {
                std::sync::atomic::fence(Ordering::Release);
                self.write(iova, &val.to_le_bytes())
            }
        }
    }

    /// The host address of the 8-byte word `off` bytes into the ring at `base` (`bytes`
    /// long), through the ring's cached translation; None when the ring does not lie in one
    /// region (then the caller takes the per-access path, which also counts faults).
    #[inline(always)]
    fn ring_word(
        &mut self,
        map: &mut RingMap,
        base: u64,
        bytes: u64,
        off: u64,
    ) -> Option<*mut u64> {
        if map.gen != self.gen {
            map.gen = self.gen;
            map.host = 0;
            if let Some(i) = self.find(base) {
                let r = self.regions[i];
                let rel = base - r.iova;
                if rel + bytes <= r.len {
                    let va = r.va as usize + rel as usize;
                    if va % 8 == 0 {
                        map.host = va;
                    }
                }
            }
        }
        if map.host == 0 || off + 8 > bytes {
            return None;
        }
        Some((map.host + off as usize) as *mut u64)
    }

    /// Hints that a ring's word `off` bytes into it will be read (`write` false) or written
    /// soon. Does nothing when the ring has no cached translation.
    #[inline(always)]
    pub fn ring_prefetch(
        &mut self,
        map: &mut RingMap,
        base: u64,
        bytes: u64,
        off: u64,
        write: bool,
    ) {
        if let Some(p) = self.ring_word(map, base, bytes, off) {
            if write {
                crate::prefetch::write(p as *const u8);
            } else {
                crate::prefetch::read(p as *const u8);
            }
        }
    }

    /// Reads a ring's descriptor word `off` bytes into it (Acquire), through its cached
    /// translation when it has one.
    #[inline(always)]
    pub fn ring_read(
        &mut self,
        map: &mut RingMap,
        base: u64,
        bytes: u64,
        off: u64,
    ) -> Result<u64, DmaFault> {
        match self.ring_peek(map, base, bytes, off) {
            Some(v) => Ok(v),
            None => self.read_u64(base + off),
        }
    }

    /// Reads a ring's descriptor word (Acquire) when the ring has a cached translation; None
    /// otherwise. Never counts a fault (for looks ahead that the real access will repeat).
    #[inline(always)]
    pub fn ring_peek(&mut self, map: &mut RingMap, base: u64, bytes: u64, off: u64) -> Option<u64> {
        let p = self.ring_word(map, base, bytes, off)?;
        // SAFETY: `ring_word` returned a pointer inside one mapped region (the whole ring lies
        // in it) that was resolved in the current generation, so the region has not been
        // unmapped since; the device lock (held by our caller) keeps it so. The address is
        // 8-byte aligned, and ring memory is shared with the driver, so an atomic view is the
        // sound one.
        let a = unsafe { AtomicU64::from_ptr(p) };
        Some(u64::from_le(a.load(Ordering::Acquire)))
    }

    /// Writes a ring's descriptor word (Release), through its cached translation when it has
    /// one.
    #[inline(always)]
    pub fn ring_write(
        &mut self,
        map: &mut RingMap,
        base: u64,
        bytes: u64,
        off: u64,
        val: u64,
    ) -> Result<(), DmaFault> {
        match self.ring_word(map, base, bytes, off) {
            Some(p) => {
                // SAFETY: as in `ring_peek`.
                let a = unsafe { AtomicU64::from_ptr(p) };
                a.store(val.to_le(), Ordering::Release);
                Ok(())
            }
            None => self.write_u64(base + off, val),
        }
    }

    /// Writes `vals` into consecutive descriptor words of a ring of `entries` words at `base`,
    /// from slot `first` on (wrapping at the ring's end), each with Release, in order; a
    /// prefetch asks for the line `ahead` slots past each line the run starts writing. One
    /// translation for the whole run when the ring lies in one region; otherwise word by
    /// word through [`ring_write`](Self::ring_write). Stops at the first fault.
    pub fn ring_write_run(
        &mut self,
        map: &mut RingMap,
        base: u64,
        entries: u32,
        first: u32,
        vals: &[u64],
        ahead: u32,
    ) -> Result<(), DmaFault> {
        let bytes = 8 * entries as u64;
        let mask = entries - 1;
        let Some(host) = self.ring_word(map, base, bytes, 0) else {
            for (k, &v) in vals.iter().enumerate() {
                let at = first.wrapping_add(k as u32) & mask;
                self.ring_write(map, base, bytes, 8 * at as u64, v)?;
            }
            return Ok(());
        };
        // SAFETY: `ring_word` resolved the whole ring (`bytes` from its first word) inside one
        // region mapped in the current generation, 8-byte aligned; the device lock (held by
        // our caller) keeps it mapped while this slice lives. The driver shares ring memory
        // and accesses it atomically, so atomic views are the sound ones.
        let slots =
            unsafe { std::slice::from_raw_parts(host as *const AtomicU64, entries as usize) };
        let n = vals.len() as u32;
        for k in (0..n.min(ahead)).step_by(8) {
            crate::prefetch::write(
                slots[(first.wrapping_add(k) & mask) as usize]
                    .as_ptr()
                    .cast(),
            );
        }
        for (k, &v) in vals.iter().enumerate() {
            let at = first.wrapping_add(k as u32) & mask;
            if at & 7 == 0 && (k as u32) + ahead < n {
                let next = &slots[((at + ahead) & mask) as usize];
                crate::prefetch::write(next.as_ptr().cast());
            }
            slots[at as usize].store(v.to_le(), Ordering::Release);
        }
        Ok(())
    }

    /// Hints that the byte at device address `iova` will be written soon, when the region
    /// cache already knows its region (no lookup, and never a fault: the write itself checks).
    #[inline]
    pub fn prefetch_write(&self, iova: u64) {
        if let Some(r) = self.regions.get(self.hot[hot_slot(iova)]) {
            let off = iova.wrapping_sub(r.iova);
            if off < r.len {
                crate::prefetch::write(r.va.wrapping_add(off as usize));
            }
        }
    }

    /// Whether `[iova, iova + len)` is entirely mapped (no fault is counted).
    #[cfg(test)]
    pub fn is_mapped(&mut self, iova: u64, len: usize) -> bool {
        let (faults, last, dirty) = (self.faults, self.last_fault, self.dirty);
        let ok = self.check(iova, len).is_ok();
        (self.faults, self.last_fault, self.dirty) = (faults, last, dirty);
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_with(bufs: &mut [Vec<u64>], iovas: &[u64]) -> DmaTable {
        let mut t = DmaTable::default();
        for (b, &iova) in bufs.iter_mut().zip(iovas) {
            t.map(iova, b.as_mut_ptr().cast(), b.len() * 8).unwrap();
        }
        t
    }

    #[test]
    fn map_rejects_overlap_and_bad_ranges() {
        let mut a = vec![0u64; 512];
        let mut t = DmaTable::default();
        t.map(0x1000, a.as_mut_ptr().cast(), 4096).unwrap();
        assert_eq!(
            t.map(0x1800, a.as_mut_ptr().cast(), 8),
            Err(ModelError::Overlap)
        );
        assert_eq!(
            t.map(0x0ff8, a.as_mut_ptr().cast(), 16),
            Err(ModelError::Overlap)
        );
        assert!(
            t.map(0x1003, a.as_mut_ptr().cast(), 8).is_err(),
            "congruence"
        );
        assert!(t.map(IOVA_LIMIT - 8, a.as_mut_ptr().cast(), 16).is_err());
        assert!(t.map(0x9000, a.as_mut_ptr().cast(), 0).is_err());
        assert_eq!(t.unmap(0x1000, 8), Err(ModelError::NotMapped));
        t.unmap(0x1000, 4096).unwrap();
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn access_spans_adjacent_regions_and_faults_cleanly() {
        let mut bufs = vec![vec![0u64; 2], vec![0u64; 2], vec![0u64; 2]];
        // Two adjacent regions, then a gap, then a third.
        let mut t = table_with(&mut bufs, &[0x100, 0x110, 0x200]);
        let data: Vec<u8> = (1..=32).collect();
        t.write(0x104, &data[..20]).unwrap();
        let mut back = [0u8; 20];
        t.read(0x104, &mut back).unwrap();
        assert_eq!(&back, &data[..20]);
        // Touches the gap at 0x120: fault, nothing written.
        let before = bufs.clone();
        assert_eq!(t.write(0x118, &data), Err(DmaFault { addr: 0x120 }));
        assert_eq!(t.faults, 1);
        assert_eq!(t.last_fault, 0x120);
        assert_eq!(bufs, before, "no partial write");
        assert_eq!(t.read_u64(0x300), Err(DmaFault { addr: 0x300 }));
        assert_eq!(t.faults, 2);
        t.write_u64(0x200, 0x1122_3344_5566_7788).unwrap();
        assert_eq!(t.read_u64(0x200).unwrap(), 0x1122_3344_5566_7788);
        assert!(t.is_mapped(0x100, 0x20));
        assert!(!t.is_mapped(0x100, 0x21));
        assert_eq!(t.faults, 2, "is_mapped does not count");
    }

    #[test]
    fn copies_of_every_small_size() {
        let src: Vec<u8> = (0..200u8).collect();
        for n in 0..130 {
            let mut dst = vec![0xeeu8; 200];
            // SAFETY: both buffers hold 200 bytes, n < 130, and they are distinct.
            unsafe { copy(src.as_ptr().add(3), dst.as_mut_ptr().add(5), n) };
            assert_eq!(&dst[5..5 + n], &src[3..3 + n], "n = {n}");
            assert!(
                dst[..5].iter().chain(&dst[5 + n..]).all(|&b| b == 0xee),
                "n = {n}"
            );
        }
    }

    #[test]
    fn ring_write_run_wraps_falls_back_across_regions_and_faults() {
        let vals: Vec<u64> = (1..=20).map(|i| 0x0100_0000_0000_0000 | i).collect();
        // One region: a 16-slot ring, a run of 20 from slot 10 wraps (and laps once).
        let mut one = vec![vec![0u64; 16]];
        let mut t = table_with(&mut one, &[0x1000]);
        let mut map = RingMap::default();
        t.ring_write_run(&mut map, 0x1000, 16, 10, &vals, 8)
            .unwrap();
        let mut want = [0u64; 16];
        for (k, &v) in vals.iter().enumerate() {
            want[(10 + k) % 16] = v;
        }
        assert_eq!(one[0], want);
        // The ring across two adjacent regions: word by word, same result.
        let mut two = vec![vec![0u64; 8], vec![0u64; 8]];
        let mut t = table_with(&mut two, &[0x2000, 0x2040]);
        let mut map = RingMap::default();
        t.ring_write_run(&mut map, 0x2000, 16, 10, &vals, 8)
            .unwrap();
        assert_eq!([two[0].clone(), two[1].clone()].concat(), want);
        // Half of the ring unmapped: the words before the gap written, then the fault.
        let mut half = vec![vec![0u64; 8]];
        let mut t = table_with(&mut half, &[0x3000]);
        let mut map = RingMap::default();
        assert_eq!(
            t.ring_write_run(&mut map, 0x3000, 16, 6, &vals[..4], 8),
            Err(DmaFault { addr: 0x3040 })
        );
        assert_eq!(&half[0][6..], &vals[..2]);
        assert_eq!(t.faults, 1);
    }

    #[test]
    fn many_regions_binary_search() {
        let mut bufs: Vec<Vec<u64>> = (0..9000).map(|_| vec![0u64; 1]).collect();
        let iovas: Vec<u64> = (0..9000).map(|i| 0x10_0000 + i * 0x1000).collect();
        let mut t = table_with(&mut bufs, &iovas);
        assert_eq!(t.len(), 9000);
        for i in (0..9000).rev().step_by(7) {
            t.write_u64(iovas[i as usize], i).unwrap();
        }
        for i in (0..9000).rev().step_by(7) {
            assert_eq!(t.read_u64(iovas[i as usize]).unwrap(), i);
            assert!(t.read_u64(iovas[i as usize] + 8).is_err());
        }
    }
}
