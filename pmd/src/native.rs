//! Packet buffers and DMA memory without DPDK, for tests, benchmarks and tools.
//!
//! [`NativeDma`] allocates host memory (2 MiB pages for large blocks, as DPDK's) and maps
//! each block into the device at a synthetic IOVA (below 2^46, so the device's 46-bit
//! addressing works and IOVA differs from VA, which exercises the device's translation).
//! [`NativePool`] is a fixed set of equal buffers in one DMA block, with a small metadata
//! record per buffer playing the role of an `rte_mbuf`.

use core::alloc::Layout;
use core::mem::MaybeUninit;
use core::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use fbnic_hw::desc::{Rcd, Twd};

use crate::buf::{PktBuf, RxPool};
use crate::error::{Error, Result};
use crate::transport::{DmaAllocator, DmaMem, Transport};

/// First synthetic IOVA handed out (well away from zero, below 2^46).
const IOVA_BASE: u64 = 0x10_0000_0000;

/// Host memory mapped into one device, or into several at the same IOVA (as one IOMMU domain
/// shared by several functions: buffers of one pool can then be received by one port and sent
/// by another).
#[derive(Debug)]
pub struct NativeDma {
    tps: Vec<Arc<dyn Transport>>,
    next_iova: AtomicU64,
}

impl NativeDma {
    /// An allocator mapping into `tp`'s device.
    pub fn new(tp: Arc<dyn Transport>) -> Arc<Self> {
        Self::shared(vec![tp], IOVA_BASE)
    }

    /// An allocator mapping every block into each of `tps`, handing out IOVAs from
    /// `iova_base` up (keep it apart from other allocators mapping into the same devices).
    pub fn shared(tps: Vec<Arc<dyn Transport>>, iova_base: u64) -> Arc<Self> {
        Arc::new(Self {
            tps,
            next_iova: AtomicU64::new(iova_base),
        })
    }
}

/// Unmaps `[iova, iova + len)` from every device; true if all succeeded.
fn unmap_all(tps: &[Arc<dyn Transport>], iova: u64, len: usize) -> bool {
    tps.iter()
        .fold(true, |ok, tp| match tp.dma_unmap(iova, len) {
            Ok(()) => ok,
            Err(e) => {
                log::error!("unmapping {len} bytes at IOVA {iova:#x}: {e}");
                false
            }
        })
}

/// Blocks from this size up are backed by 2 MiB pages, as DPDK's memory is. A pool of
/// thousands of buffers in 4 KiB pages spreads over more pages than the TLBs hold, so the
/// device's reads and writes of frame data pay page walks the same traffic never pays under
/// DPDK: `fbnic-perf model-mpps` (26 MiB pool) had 4.9 M dTLB load misses on the engine's
/// CPU in 2 s with heap memory, 3.5 M with this, and the engine moved 17.5-17.7 Mpps against
/// 17.0-17.5 (six interleaved pairs).
const HUGE_PAGE: usize = 2 << 20;

/// Where a block's host memory came from.
#[derive(Clone, Copy, Debug)]
enum Backing {
    /// `std::alloc` with this layout.
    Heap(Layout),
    /// `mmap` (2 MiB pages: hugetlbfs's pool, else transparent huge pages); `munmap` frees.
    Mapped,
}

/// Zeroed host memory of at least `len` bytes aligned to `align`: 2 MiB pages from the
/// reserved hugetlbfs pool for large blocks (the pages DPDK uses), else anonymous memory
/// advised into transparent huge pages, else (small blocks, or no mapping) the heap.
fn host_alloc(len: usize, align: usize) -> Result<(NonNull<u8>, usize, Backing)> {
    if len >= HUGE_PAGE && align <= HUGE_PAGE {
        let size = len.next_multiple_of(HUGE_PAGE);
        if let Some(va) = map_huge(size) {
            return Ok((va, size, Backing::Mapped));
        }
    }
    let align = align.max(4096);
    let size = len.next_multiple_of(4096).max(4096);
    let layout = Layout::from_size_align(size, align)
        .map_err(|e| Error::NoMemory(format!("{len} bytes: {e}")))?;
    // SAFETY: the layout has a non-zero size.
    let va = NonNull::new(unsafe { std::alloc::alloc_zeroed(layout) })
        .ok_or_else(|| Error::NoMemory(format!("{size} bytes from the heap")))?;
    Ok((va, size, Backing::Heap(layout)))
}

/// `size` (a multiple of 2 MiB) bytes of zeroed anonymous memory on 2 MiB boundaries, in
/// 2 MiB pages when the system gives them: MAP_HUGETLB first (all or nothing: the pages are
/// reserved at the mmap), else an ordinary mapping trimmed to 2 MiB alignment with
/// MADV_HUGEPAGE (transparent huge pages, as far as the kernel finds them).
fn map_huge(size: usize) -> Option<NonNull<u8>> {
    let prot = libc::PROT_READ | libc::PROT_WRITE;
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
    // SAFETY: a fresh anonymous mapping; no existing memory is touched.
    let p = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            size,
            prot,
            flags | libc::MAP_HUGETLB,
            -1,
            0,
        )
    };
    if p != libc::MAP_FAILED {
        return NonNull::new(p.cast());
    }
    // SAFETY: as above, with room to align the block inside.
    let p = unsafe { libc::mmap(core::ptr::null_mut(), size + HUGE_PAGE, prot, flags, -1, 0) };
    if p == libc::MAP_FAILED {
        return None;
    }
    let start = p as usize;
    let aligned = start.next_multiple_of(HUGE_PAGE);
    let (head, tail) = (aligned - start, start + size + HUGE_PAGE - (aligned + size));
    // SAFETY: both ranges are the unused ends of the mapping just made (page-aligned, since
    // mmap returns page-aligned addresses and HUGE_PAGE is a multiple of the page size), and
    // the advice only changes how the kept part is backed.
    unsafe {
        if head > 0 {
            libc::munmap(p, head);
        }
        if tail > 0 {
            libc::munmap((aligned + size) as *mut libc::c_void, tail);
        }
        libc::madvise(aligned as *mut libc::c_void, size, libc::MADV_HUGEPAGE);
    }
    NonNull::new(aligned as *mut u8)
}

/// Frees what [`host_alloc`] returned.
///
/// # Safety
/// `va`, `size` and `backing` must come from one `host_alloc` call, and nothing may use the
/// block afterwards.
unsafe fn host_free(va: NonNull<u8>, size: usize, backing: Backing) {
    match backing {
        // SAFETY: allocated by `host_alloc` with this layout (the caller's contract).
        Backing::Heap(layout) => unsafe { std::alloc::dealloc(va.as_ptr(), layout) },
        // SAFETY: mapped by `map_huge` with this size (the caller's contract).
        Backing::Mapped => unsafe {
            libc::munmap(va.as_ptr().cast(), size);
        },
    }
}

impl DmaAllocator for NativeDma {
    fn alloc(&self, len: usize, align: usize) -> Result<DmaMem> {
        let (va, size, backing) = host_alloc(len, align)?;
        let align = align.max(4096);
        let iova = self
            .next_iova
            .fetch_add(size.next_multiple_of(align) as u64, Ordering::Relaxed)
            .next_multiple_of(align as u64);
        for (i, tp) in self.tps.iter().enumerate() {
            // SAFETY: the block is ours, zeroed and valid until the release closure frees it,
            // which unmaps it from every device first.
            if let Err(e) = unsafe { tp.dma_map(iova, va.as_ptr(), size) } {
                if unmap_all(&self.tps[..i], iova, size) {
                    // SAFETY: from host_alloc just above; no device maps it any more.
                    unsafe { host_free(va, size, backing) };
                }
                return Err(e);
            }
        }
        let tps = self.tps.clone();
        let release = Box::new(move |va: NonNull<u8>, iova: u64, len: usize| {
            // A device that still maps the block could write into whatever the heap reuses
            // it for: leak it rather than free it then.
            if unmap_all(&tps, iova, len) {
                // SAFETY: from host_alloc in `alloc` (len is its size); unmapped from every
                // device.
                unsafe { host_free(va, len, backing) };
            }
        });
        // SAFETY: as required by DmaMem::new: valid, zeroed, exclusively ours, mapped at iova.
        Ok(unsafe { DmaMem::new(va, iova, size, release) })
    }
}

/// The per-buffer record (the part of an mbuf the driver and tests use).
#[derive(Debug)]
struct Meta {
    data: NonNull<u8>,
    iova: u64,
    off: u16,
    len: u16,
    pkt_len: u32,
    nb_segs: u16,
    next: Option<NativeBuf>,
    rx_meta: Rcd,
    /// The device's Rx timestamp (ns), and whether the packet was flagged as PTP.
    rx_stamp: Option<u64>,
    ptp: bool,
    tx_meta: Twd,
    free: bool,
    pool: NonNull<Shared>,
}

#[derive(Debug)]
struct Shared {
    mem: DmaMem,
    metas: Box<[core::cell::UnsafeCell<Meta>]>,
    free: Mutex<Vec<NativeBuf>>,
    room: u32,
    headroom: u32,
}

/// A buffer of a [`NativePool`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NativeBuf(NonNull<Meta>);

// SAFETY: a NativeBuf is a handle; its record is only touched by whoever owns the buffer
// (exactly one of: the pool's free list, a queue, the application), as with rte_mbuf.
unsafe impl Send for NativeBuf {}

impl NativeBuf {
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    fn meta(&self) -> &mut Meta {
        // SAFETY: the record lives as long as its pool's shared block (which is leaked rather
        // than freed while buffers are out); the current owner of the buffer is the only one
        // touching it, and no reference outlives the call that took it.
        unsafe { &mut *self.0.as_ptr() }
    }

    fn shared(&self) -> &Shared {
        // SAFETY: see `meta`: the shared block outlives its buffers.
        unsafe { self.meta().pool.as_ref() }
    }

    /// This segment's bytes.
    pub fn seg_data(&self) -> &[u8] {
        let m = self.meta();
        // SAFETY: off + len was checked against the data room when set.
        unsafe { core::slice::from_raw_parts(m.data.as_ptr().add(m.off as usize), m.len as usize) }
    }

    /// The whole packet's bytes (all segments).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.meta().pkt_len as usize);
        let mut seg = Some(*self);
        while let Some(s) = seg {
            v.extend_from_slice(s.seg_data());
            seg = s.meta().next;
        }
        v
    }

    /// The start of this buffer's data room (past the headroom), whatever it holds.
    pub fn data_room_ptr(&self) -> *const u8 {
        let m = self.meta();
        // SAFETY: the headroom is inside the buffer.
        unsafe { m.data.as_ptr().add(m.pool_headroom() as usize) }
    }

    /// The next segment of the packet, if any.
    pub fn next_seg(&self) -> Option<NativeBuf> {
        self.meta().next
    }

    /// The packet's segment count.
    pub fn nb_segs(&self) -> u16 {
        self.meta().nb_segs
    }

    /// The packet's length.
    pub fn pkt_len(&self) -> u32 {
        self.meta().pkt_len
    }

    /// The META completion the packet arrived with.
    pub fn rx_meta(&self) -> Rcd {
        self.meta().rx_meta
    }

    /// The device's Rx timestamp (ns), if the device stamped the packet.
    pub fn rx_stamp(&self) -> Option<u64> {
        self.meta().rx_stamp
    }

    /// Whether the packet was flagged as a PTP frame (IEEE 1588 mode).
    pub fn is_ptp(&self) -> bool {
        self.meta().ptp
    }

    /// Sets the META descriptor transmitted with this packet (offload requests).
    pub fn set_tx_meta(&self, meta: Twd) {
        self.meta().tx_meta = meta;
    }

    /// A handle whose address the device cannot reach: for fault-injection tests, the same
    /// buffer but claiming IOVA `iova`.
    pub fn with_bogus_iova(&self, iova: u64) {
        self.meta().iova = iova;
    }

    /// A malformed packet, for tests of what a queue does with one: the head claims `n`
    /// segments, whatever the chain holds.
    pub fn claim_nb_segs(&self, n: u16) {
        self.meta().nb_segs = n;
    }

    fn set_seg(self, off: u16, len: u16) {
        let m = self.meta();
        let hr = m.pool_headroom();
        m.off = hr.saturating_add(off).min(hr + m.room_len());
        m.len = len.min(m.room_len() - (m.off - hr));
        m.next = None;
        m.nb_segs = 1;
        m.pkt_len = m.len as u32;
    }

    fn release_seg(self) {
        let sh = self.shared();
        let mut free = sh.free.lock().unwrap_or_else(|e| e.into_inner());
        self.reset_into(&mut free);
    }

    /// Resets the buffer's record and puts it on its pool's free list (`free`, locked by the
    /// caller).
    fn reset_into(self, free: &mut Vec<NativeBuf>) {
        let m = self.meta();
        assert!(!m.free, "native buffer freed twice");
        m.free = true;
        m.next = None;
        m.nb_segs = 1;
        m.tx_meta = Twd::meta();
        let sh = self.shared();
        m.iova = sh.mem.iova() + (m.data.as_ptr() as u64 - sh.mem.va().as_ptr() as u64);
        free.push(self);
    }
}

impl PktBuf for NativeBuf {
    fn free_pkt(self) {
        let mut seg = Some(self);
        while let Some(s) = seg {
            seg = s.meta().next;
            s.release_seg();
        }
    }

    #[inline]
    fn tx_nb_segs(self) -> u16 {
        self.meta().nb_segs
    }

    #[inline]
    fn tx_seg(self) -> (u64, u16) {
        let m = self.meta();
        (m.iova + m.off as u64, m.len)
    }

    #[inline]
    fn tx_next(self) -> Option<Self> {
        self.meta().next
    }

    #[inline]
    fn tx_meta(self) -> Twd {
        self.meta().tx_meta
    }

    fn free_sent(pkts: &[Self], _fast: bool) {
        // The common batch: single-segment packets of one pool, freed under one lock.
        let Some(first) = pkts.first() else {
            return;
        };
        let pool = first.meta().pool;
        if pkts
            .iter()
            .all(|p| p.meta().pool == pool && p.meta().next.is_none())
        {
            let mut free = first
                .shared()
                .free
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            for p in pkts {
                p.reset_into(&mut free);
            }
        } else {
            for p in pkts {
                p.free_pkt();
            }
        }
    }
}

impl Meta {
    fn pool_headroom(&self) -> u16 {
        // SAFETY: the shared block outlives its records.
        unsafe { self.pool.as_ref() }.headroom as u16
    }

    fn room_len(&self) -> u16 {
        // SAFETY: as above.
        unsafe { self.pool.as_ref() }.room as u16
    }
}

/// Owns the pool's shared block: frees it when the last handle goes, unless buffers are
/// still out, in which case it is leaked (their records must stay valid).
#[derive(Debug)]
struct Owner(NonNull<Shared>);

impl Drop for Owner {
    fn drop(&mut self) {
        // SAFETY: the block came from Box::into_raw in NativePool::new and is still alive.
        let sh = unsafe { self.0.as_ref() };
        let free = sh.free.lock().unwrap_or_else(|e| e.into_inner()).len();
        if free == sh.metas.len() {
            // SAFETY: every buffer is back, so no record is referenced any more; the block
            // is freed exactly once.
            drop(unsafe { Box::from_raw(self.0.as_ptr()) });
        } else {
            log::error!(
                "native pool dropped with {} buffers out; leaking its memory",
                sh.metas.len() - free
            );
        }
    }
}

/// A pool of equal buffers in one DMA block.
#[derive(Debug, Clone)]
pub struct NativePool(Arc<Owner>);

// SAFETY: the free list is behind a mutex; records are owned per buffer (see NativeBuf).
unsafe impl Send for NativePool {}
// SAFETY: as above.
unsafe impl Sync for NativePool {}
// SAFETY: the Owner only frees the block; see NativePool.
unsafe impl Send for Owner {}
// SAFETY: as above.
unsafe impl Sync for Owner {}

impl NativePool {
    /// `count` buffers each offering `room` bytes after `headroom` bytes (as an mbuf's data
    /// room after RTE_PKTMBUF_HEADROOM).
    pub fn new(dma: &dyn DmaAllocator, count: u32, room: u32, headroom: u32) -> Result<Self> {
        if count == 0 || room == 0 || room > u16::MAX as u32 / 2 || headroom > 1024 {
            return Err(Error::invalid(format!(
                "pool of {count} x {room}+{headroom} bytes"
            )));
        }
        let stride = (headroom + room).next_multiple_of(64) as usize;
        let mem = dma.alloc(stride * count as usize, 4096)?;
        let base = mem.va();
        let iova = mem.iova();
        let shared = NonNull::from(Box::leak(Box::new(Shared {
            mem,
            metas: Box::new([]),
            free: Mutex::new(Vec::with_capacity(count as usize)),
            room,
            headroom,
        })));
        let metas: Box<[_]> = (0..count as usize)
            .map(|i| {
                core::cell::UnsafeCell::new(Meta {
                    // SAFETY: i * stride is inside the block of count * stride bytes.
                    data: unsafe { NonNull::new_unchecked(base.as_ptr().add(i * stride)) },
                    iova: iova + (i * stride) as u64,
                    off: headroom as u16,
                    len: 0,
                    pkt_len: 0,
                    nb_segs: 1,
                    next: None,
                    rx_meta: Rcd::default(),
                    rx_stamp: None,
                    ptp: false,
                    tx_meta: Twd::meta(),
                    free: true,
                    pool: shared,
                })
            })
            .collect();
        // SAFETY: the block was just created and nothing else references it yet.
        let sh = unsafe { &mut *shared.as_ptr() };
        sh.metas = metas;
        let free = sh.free.get_mut().unwrap_or_else(|e| e.into_inner());
        free.extend(
            sh.metas
                .iter()
                .rev()
                .map(|m| NativeBuf(NonNull::new(m.get()).expect("non-null cell"))),
        );
        Ok(Self(Arc::new(Owner(shared))))
    }

    fn shared(&self) -> &Shared {
        // SAFETY: the Owner keeps the block alive while this handle exists.
        unsafe { self.0 .0.as_ref() }
    }

    /// The device address range of the pool's buffers (for fault-injection tests that unmap
    /// it).
    pub fn dma_range(&self) -> (u64, usize) {
        (self.shared().mem.iova(), self.shared().mem.len())
    }

    /// The host address of the pool's block (to map it again after [`dma_range`]).
    ///
    /// [`dma_range`]: Self::dma_range
    pub fn dma_range_va(&self) -> *mut u8 {
        self.shared().mem.va().as_ptr()
    }

    /// Buffers in the pool.
    pub fn capacity(&self) -> usize {
        self.shared().metas.len()
    }

    /// Buffers available (not handed out).
    pub fn available(&self) -> usize {
        self.shared()
            .free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// One buffer, if any is free.
    pub fn get(&self) -> Option<NativeBuf> {
        let b = self
            .shared()
            .free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()?;
        b.meta().free = false;
        Some(b)
    }

    /// A packet holding `data`, chained over as many buffers as it needs.
    pub fn packet(&self, data: &[u8]) -> Option<NativeBuf> {
        let room = self.shared().room as usize;
        let chunks: Vec<&[u8]> = if data.is_empty() {
            vec![&[][..]]
        } else {
            data.chunks(room).collect()
        };
        let mut segs = Vec::with_capacity(chunks.len());
        for _ in &chunks {
            match self.get() {
                Some(b) => segs.push(b),
                None => {
                    segs.into_iter().for_each(NativeBuf::release_seg);
                    return None;
                }
            }
        }
        for (i, (seg, chunk)) in segs.iter().zip(&chunks).enumerate() {
            let m = seg.meta();
            m.off = self.shared().headroom as u16;
            m.len = chunk.len() as u16;
            // SAFETY: chunk fits the data room (chunks of at most `room` bytes).
            unsafe {
                core::ptr::copy_nonoverlapping(
                    chunk.as_ptr(),
                    m.data.as_ptr().add(m.off as usize),
                    chunk.len(),
                )
            };
            m.next = segs.get(i + 1).copied();
        }
        let h = segs[0].meta();
        h.nb_segs = segs.len() as u16;
        h.pkt_len = data.len() as u32;
        Some(segs[0])
    }
}

impl RxPool for NativePool {
    type Buf = NativeBuf;

    fn alloc_bulk(&mut self, out: &mut [MaybeUninit<NativeBuf>]) -> bool {
        let mut free = self.shared().free.lock().unwrap_or_else(|e| e.into_inner());
        if free.len() < out.len() {
            return false;
        }
        let at = free.len() - out.len();
        for (o, b) in out.iter_mut().zip(free.drain(at..)) {
            b.meta().free = false;
            o.write(b);
        }
        true
    }

    fn free_unused(&mut self, bufs: &[NativeBuf]) {
        for b in bufs {
            b.release_seg();
        }
    }

    fn data_room(&self) -> u32 {
        self.shared().room
    }

    #[inline]
    fn rx_dma_addr(&self, buf: NativeBuf) -> u64 {
        buf.meta().iova + self.shared().headroom as u64
    }

    #[inline]
    fn rx_first(&self, buf: NativeBuf, off: u16, len: u16) {
        buf.set_seg(off, len);
    }

    #[inline]
    fn rx_append(&self, head: NativeBuf, last: NativeBuf, seg: NativeBuf, off: u16, len: u16) {
        seg.set_seg(off, len);
        last.meta().next = Some(seg);
        let h = head.meta();
        h.nb_segs += 1;
        h.pkt_len += seg.meta().len as u32;
    }

    #[inline]
    fn rx_complete(&self, buf: NativeBuf, pkt_len: u32, nb_segs: u16, meta: Rcd) -> bool {
        let m = buf.meta();
        m.pkt_len = pkt_len;
        m.nb_segs = nb_segs;
        m.rx_meta = meta;
        m.rx_stamp = None;
        m.ptp = false;
        false
    }

    fn rx_stamp(&self, buf: NativeBuf, ns: u64, ieee1588: bool) -> bool {
        let ptp = ieee1588
            && buf.seg_data().get(12..14) == Some(&crate::ptp::ETHER_TYPE_PTP.to_be_bytes()[..]);
        let m = buf.meta();
        m.rx_stamp = Some(ns);
        m.ptp = ptp;
        ptp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_blocks_sit_on_2mib_boundaries_zeroed_and_free_cleanly() {
        for len in [HUGE_PAGE, 3 * HUGE_PAGE + 100] {
            let (va, size, backing) = host_alloc(len, 4096).unwrap();
            assert!(matches!(backing, Backing::Mapped), "{len}: {backing:?}");
            assert_eq!(va.as_ptr() as usize % HUGE_PAGE, 0);
            assert_eq!(size, len.next_multiple_of(HUGE_PAGE));
            // SAFETY: `size` bytes at `va` are ours until host_free below.
            let block = unsafe { core::slice::from_raw_parts_mut(va.as_ptr(), size) };
            assert!(block.iter().all(|&b| b == 0));
            block[0] = 1;
            block[size - 1] = 2;
            assert_eq!(block[0] + block[size - 1], 3);
            // SAFETY: from host_alloc above; nothing uses it afterwards.
            unsafe { host_free(va, size, backing) };
        }
    }

    #[test]
    fn small_blocks_come_from_the_heap_with_the_asked_alignment() {
        let (va, size, backing) = host_alloc(100, 8192).unwrap();
        assert!(matches!(backing, Backing::Heap(_)));
        assert_eq!(va.as_ptr() as usize % 8192, 0);
        assert_eq!(size, 4096);
        // SAFETY: from host_alloc above; nothing uses it afterwards.
        unsafe { host_free(va, size, backing) };
    }

    #[test]
    fn a_pool_larger_than_a_huge_page_holds_every_buffer() {
        let tp = Arc::new(crate::fake::FakeDevice::new());
        let dma = NativeDma::new(tp);
        // 2048 x 2176 bytes: 4.25 MiB, three 2 MiB pages.
        let pool = NativePool::new(dma.as_ref(), 2048, 2048, 128).unwrap();
        let bufs: Vec<NativeBuf> = (0..2048u32)
            .map(|i| pool.packet(&i.to_le_bytes().repeat(16)).unwrap())
            .collect();
        assert!(
            pool.packet(&[0; 64]).is_none(),
            "the pool gave more than it holds"
        );
        for (i, b) in bufs.into_iter().enumerate() {
            assert_eq!(b.to_vec(), (i as u32).to_le_bytes().repeat(16));
            b.free_pkt();
        }
        pool.packet(&[0; 64])
            .expect("freed buffers return")
            .free_pkt();
    }
}
