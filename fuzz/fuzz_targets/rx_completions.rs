//! Fuzzes the driver's Rx completion parsing: arbitrary RCQ descriptors, written by a fake
//! device with the DONE phase the driver expects, must never panic the burst loop, never hand
//! out a buffer twice, never lose one (the pools are full again after the queue stops), and
//! never take a completion the device has not written: the RCQ head the driver rings never
//! passes the device's tail (past it, slots hold the previous lap's completions, which a
//! phase compare alone can mistake for new ones near a lap's end).
//! Control bit 2 runs the queue in header-split mode (HDR_AL buffers from a second pool).
#![no_main]

use std::mem::MaybeUninit;
use std::sync::Arc;

use fbnic_hw::desc::Rcd;
use fbnic_hw::regs::{self, Bar};
use libfuzzer_sys::fuzz_target;
use rte_net_fbnic::buf::PktBuf;
use rte_net_fbnic::fake::FakeDevice;
use rte_net_fbnic::native::{NativeDma, NativePool};
use rte_net_fbnic::rx::RxSplit;
use rte_net_fbnic::{RxConfig, RxQueue, Transport};

const DESC: u32 = 64;

fuzz_target!(|data: &[u8]| {
    let Some((&cfg, data)) = data.split_first() else {
        return;
    };
    let dev = Arc::new(FakeDevice::new());
    let tp: Arc<dyn Transport> = dev.clone();
    let dma = NativeDma::new(tp.clone());
    let pool = NativePool::new(dma.as_ref(), 256, 512, 64).unwrap();
    let hdr_pool = NativePool::new(dma.as_ref(), 256, 128, 64).unwrap();
    let split = cfg & 4 != 0;
    let rx_cfg = RxConfig {
        nb_desc: DESC,
        drop_en: cfg & 1 != 0,
        scatter: cfg & 2 != 0,
        split: split.then_some(RxSplit { max_hdr: 128 }),
    };
    let mut q = if split {
        RxQueue::new_split(&tp, dma.as_ref(), 0, rx_cfg, pool.clone(), hdr_pool.clone())
    } else {
        RxQueue::new(&tp, dma.as_ref(), 0, rx_cfg, pool.clone())
    }
    .unwrap();
    q.start().unwrap();
    // The RCQ: twice the buffers, four times with header split.
    let rcq = if split { DESC * 4 } else { DESC * 2 };
    let mut tail = 0u32; // the device's next RCQ slot (free-running)
    let mut taken = 0u32; // the driver's RCQ head (free-running), from the doorbell
    let mut out = [MaybeUninit::uninit(); 32];
    // Chunks: one control byte (descriptors to write, burst size), then 8 bytes per descriptor.
    let mut rest = data;
    while let Some((&ctl, r)) = rest.split_first() {
        let n = (ctl & 0x1f) as usize;
        let burst = ((ctl >> 5) as usize * 5).clamp(1, 32);
        let take = (n * 8).min(r.len());
        let (words, r) = r.split_at(take);
        rest = r;
        // The device may not overrun the driver's head (what it last rang on RCQ_HEAD).
        let head = dev.read32(Bar::Bar0, regs::RCQ_HEAD.at(0));
        for w in words.chunks_exact(8) {
            let used = tail.wrapping_sub(head) % rcq;
            if tail.wrapping_sub(head) >= rcq - 1 || used >= rcq - 1 {
                break;
            }
            let rcd = Rcd::from_raw(u64::from_le_bytes(w.try_into().unwrap()));
            assert!(dev.complete_rx(0, rcq, tail, rcd));
            tail = tail.wrapping_add(1);
        }
        let got = q.burst(&mut out[..burst]);
        let head = dev.read32(Bar::Bar0, regs::RCQ_HEAD.at(0));
        // Fewer than `rcq` written completions wait at any time, so a burst that reads
        // only written ones advances the doorbell by less than the ring, and one that
        // overruns shows up past `tail` (unless it overran by a whole ring).
        taken = taken.wrapping_add(head.wrapping_sub(taken) % rcq);
        assert!(
            (tail.wrapping_sub(taken) as i32) >= 0,
            "the driver took {} completions past the {tail} written",
            taken.wrapping_sub(tail)
        );
        for b in &out[..got] {
            // SAFETY: burst initialised `got` entries.
            let b = unsafe { b.assume_init() };
            assert!(
                b.pkt_len() as usize == b.to_vec().len(),
                "packet length disagrees with its segments"
            );
            b.free_pkt();
        }
    }
    q.stop().unwrap();
    assert_eq!(pool.available(), pool.capacity(), "a buffer was lost");
    assert_eq!(
        hdr_pool.available(),
        hdr_pool.capacity(),
        "a header buffer was lost"
    );
});
