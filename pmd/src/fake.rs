//! A register file with no device behind it, for unit tests and fuzzing of the driver's
//! parsers: writes are stored, reads return what was written (idle bits read as set, so
//! queue stops complete), doorbells point into the same memory, and DMA mappings are only
//! recorded so a test can play the device: find a ring by its BAL/BAH registers and write
//! completions into it.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use fbnic_hw::desc::{Rcd, Tcd, Twd};
use fbnic_hw::regs::{self, Bar, QReg, Reg};

use crate::error::{Error, Result};
use crate::transport::{Doorbell, Transport};

/// A device that only remembers register writes and DMA mappings.
#[derive(Debug)]
pub struct FakeDevice {
    bar0: Box<[AtomicU32]>,
    bar4: Box<[AtomicU32]>,
    maps: Mutex<Vec<(u64, usize, usize)>>,
}

impl Default for FakeDevice {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeDevice {
    /// A fresh register file: every idle bit set, MASTER_SPARE_0 readable.
    pub fn new() -> Self {
        let bar0: Box<[AtomicU32]> = (0..regs::BAR0_DWORDS).map(|_| AtomicU32::new(0)).collect();
        for bank in [
            regs::qm_twq_idle,
            regs::qm_tcq_idle,
            regs::qm_rcq_idle,
            regs::qm_hpq_idle,
            regs::qm_ppq_idle,
        ] {
            for n in 0..regs::MAX_QUEUES / 32 {
                bar0[bank(n) as usize].store(u32::MAX, Ordering::Relaxed);
            }
        }
        Self {
            bar0,
            bar4: (0..regs::BAR4_DWORDS).map(|_| AtomicU32::new(0)).collect(),
            maps: Mutex::new(Vec::new()),
        }
    }

    fn bar(&self, bar: Bar) -> &[AtomicU32] {
        match bar {
            Bar::Bar0 => &self.bar0,
            Bar::Bar4 => &self.bar4,
        }
    }

    /// The host address of `len` bytes at `iova`, if one mapping covers them.
    pub fn translate(&self, iova: u64, len: usize) -> Option<*mut u8> {
        let maps = self.maps.lock().unwrap_or_else(|e| e.into_inner());
        maps.iter().find_map(|&(base, va, l)| {
            let off = iova.checked_sub(base)? as usize;
            (off.checked_add(len)? <= l).then_some((va + off) as *mut u8)
        })
    }

    /// The IOVA programmed in queue `q`'s BAL/BAH pair.
    pub fn ring_iova(&self, q: u32, bal: QReg, bah: QReg) -> u64 {
        let lo = self.read32(Bar::Bar0, bal.at(q)) as u64;
        let hi = self.read32(Bar::Bar0, bah.at(q)) as u64;
        hi << 32 | lo
    }

    /// Plays the device writing Rx completion `rcd` into slot `at` (free-running) of queue
    /// `q`'s RCQ of `entries` entries, with the DONE bit of lap `at / entries` (the phase the
    /// driver expects on that lap). False when the RCQ is not mapped.
    pub fn complete_rx(&self, q: u32, entries: u32, at: u32, rcd: Rcd) -> bool {
        self.complete((q, regs::RCQ_BAL, regs::RCQ_BAH), entries, at, rcd.raw())
    }

    /// The same for Tx completion `tcd` in queue `q`'s TCQ.
    pub fn complete_tx(&self, q: u32, entries: u32, at: u32, tcd: Tcd) -> bool {
        self.complete((q, regs::TCQ_BAL, regs::TCQ_BAH), entries, at, tcd.raw())
    }

    /// Plays the device reading slot `at` (free-running) of queue `q`'s TWQ of `entries`
    /// entries: the work descriptor the driver wrote there. None when the TWQ is not mapped.
    pub fn twd(&self, q: u32, entries: u32, at: u32) -> Option<Twd> {
        let base = self.ring_iova(q, regs::TWQ0_BAL, regs::TWQ0_BAH);
        let p = self.translate(base + (at % entries) as u64 * 8, 8)?;
        // SAFETY: as in `complete`: inside a live, 8-byte aligned ring mapping that the
        // driver only accesses atomically.
        let slot = unsafe { core::sync::atomic::AtomicU64::from_ptr(p.cast()) };
        Some(Twd::from_le(slot.load(Ordering::Acquire)))
    }

    /// Writes completion word `desc` (DONE, bit 63, set for the lap) into a completion ring.
    fn complete(&self, (q, bal, bah): (u32, QReg, QReg), entries: u32, at: u32, desc: u64) -> bool {
        let base = self.ring_iova(q, bal, bah);
        let done = if (at / entries).is_multiple_of(2) {
            1u64 << 63
        } else {
            0
        };
        let Some(p) = self.translate(base + (at % entries) as u64 * 8, 8) else {
            return false;
        };
        // SAFETY: `p` is inside a live mapping (ring memory the driver allocated, 8-byte
        // aligned: descriptor rings are); the driver only accesses ring words atomically.
        let slot = unsafe { core::sync::atomic::AtomicU64::from_ptr(p.cast()) };
        slot.store(((desc & !(1 << 63)) | done).to_le(), Ordering::Release);
        true
    }
}

impl Transport for FakeDevice {
    fn read32(&self, bar: Bar, reg: Reg) -> u32 {
        self.bar(bar)
            .get(reg as usize)
            .map_or(u32::MAX, |r| r.load(Ordering::Acquire))
    }

    fn write32(&self, bar: Bar, reg: Reg, val: u32) {
        if let Some(r) = self.bar(bar).get(reg as usize) {
            r.store(val, Ordering::Release);
        }
    }

    fn doorbell(&self, reg: Reg) -> Option<Doorbell> {
        let r = self.bar0.get(reg as usize)?;
        // SAFETY: the register array lives as long as the FakeDevice, which every queue keeps
        // alive through its Arc<dyn Transport>.
        Some(unsafe { Doorbell::new(NonNull::from(r)) })
    }

    fn dsn(&self) -> u64 {
        0x021d_9b00_00fa_ce00
    }

    unsafe fn dma_map(&self, iova: u64, va: *mut u8, len: usize) -> Result<()> {
        let mut maps = self.maps.lock().unwrap_or_else(|e| e.into_inner());
        if maps
            .iter()
            .any(|&(b, _, l)| iova < b + l as u64 && b < iova + len as u64)
        {
            return Err(Error::invalid(format!("overlapping mapping at {iova:#x}")));
        }
        maps.push((iova, va as usize, len));
        Ok(())
    }

    fn dma_unmap(&self, iova: u64, len: usize) -> Result<()> {
        let mut maps = self.maps.lock().unwrap_or_else(|e| e.into_inner());
        let before = maps.len();
        maps.retain(|&(b, _, l)| !(b == iova && l == len));
        if maps.len() == before {
            return Err(Error::invalid(format!("no mapping at {iova:#x}")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::mem::MaybeUninit;
    use std::sync::Arc;

    use fbnic_hw::desc::{Rcd, RcdType};

    use super::*;
    use crate::buf::PktBuf;
    use crate::native::{NativeBuf, NativeDma, NativePool};
    use crate::rx::{RxConfig, RxQueue};

    /// Plays the device: writes completions `rcds` into queue 0's RCQ (128 entries: twice the
    /// 64 buffers of `setup`) from slot `at`, each with the DONE phase of the first pass.
    fn complete(dev: &FakeDevice, at: u32, rcds: &[Rcd]) {
        for (i, r) in rcds.iter().enumerate() {
            assert!(dev.complete_rx(0, 128, at + i as u32, *r), "RCQ mapped");
        }
    }

    fn setup(scatter: bool) -> (Arc<FakeDevice>, NativePool, RxQueue<NativePool>) {
        let dev = Arc::new(FakeDevice::new());
        let tp: Arc<dyn Transport> = dev.clone();
        let dma = NativeDma::new(tp.clone());
        let pool = NativePool::new(dma.as_ref(), 128, 256, 64).unwrap();
        let mut q = RxQueue::new(
            &tp,
            dma.as_ref(),
            0,
            RxConfig {
                nb_desc: 64,
                drop_en: true,
                scatter,
                split: None,
            },
            pool.clone(),
        )
        .unwrap();
        q.start().unwrap();
        (dev, pool, q)
    }

    fn recv(q: &mut RxQueue<NativePool>) -> Vec<NativeBuf> {
        let mut out = [MaybeUninit::uninit(); 32];
        let n = q.burst(&mut out);
        // SAFETY: burst initialised n entries.
        out[..n]
            .iter()
            .map(|b| unsafe { b.assume_init() })
            .collect()
    }

    #[test]
    fn bad_completions_are_counted_and_lose_no_buffer() {
        let (dev, pool, mut q) = setup(true);
        assert_eq!(q.posted(), 63);
        let al = |id: u16, len: u16| Rcd::al(RcdType::PayAl, id, 0, len, true);
        complete(
            &dev,
            0,
            &[
                Rcd::meta(), // META without a buffer: bad descriptor
                al(500, 60), // a buffer id never posted
                al(0, 60),   // a good packet...
                Rcd::meta().with_rss_hash(7),
                al(1, 300), // longer than the 256-byte buffer: dropped
                Rcd::meta(),
                al(2, 60), // the device reports a truncated frame: dropped
                Rcd::meta().with_err_truncated(true),
                al(0, 60),  // buffer 0 again: the driver already has it back
                al(3, 100), // a two-buffer packet
                al(4, 20),
                Rcd::meta().with_rss_hash(9),
            ],
        );
        let got = recv(&mut q);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].pkt_len(), got[0].rx_meta().rss_hash()), (60, 7));
        assert_eq!(
            (
                got[1].pkt_len(),
                got[1].nb_segs(),
                got[1].rx_meta().rss_hash()
            ),
            (120, 2, 9)
        );
        assert_eq!(
            q.stats.bad_descriptors.get(),
            3,
            "META alone, unknown id, id twice"
        );
        assert_eq!(q.stats.errors.get(), 2, "oversize and truncated");
        got.into_iter().for_each(|p| p.free_pkt());
        q.stop().unwrap();
        assert_eq!(pool.available(), pool.capacity());
    }

    #[test]
    fn multi_buffer_frames_without_scatter_are_dropped() {
        let (dev, pool, mut q) = setup(false);
        complete(
            &dev,
            0,
            &[
                Rcd::al(RcdType::PayAl, 0, 0, 256, true),
                Rcd::al(RcdType::PayAl, 1, 0, 10, true),
                Rcd::meta(),
            ],
        );
        assert!(recv(&mut q).is_empty());
        assert_eq!(q.stats.errors.get(), 1);
        q.stop().unwrap();
        assert_eq!(pool.available(), pool.capacity());
    }
}
