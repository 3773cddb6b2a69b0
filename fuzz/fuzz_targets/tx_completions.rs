//! Fuzzes the driver's Tx completion handling: arbitrary TCQ descriptors (heads anywhere)
//! from a fake device must never panic, never free a packet twice or while the device may
//! still read it (it is only freed once a completion covers it, or at stop), and lose
//! nothing.
#![no_main]

use std::sync::Arc;

use fbnic_hw::desc::Tcd;
use fbnic_hw::regs::{self, Bar};
use libfuzzer_sys::fuzz_target;
use rte_net_fbnic::fake::FakeDevice;
use rte_net_fbnic::native::{NativeBuf, NativeDma, NativePool};
use rte_net_fbnic::{Transport, TxConfig, TxQueue};

const DESC: u32 = 64;
/// The driver sizes its TCQ like its TWQ (a head update per burst and a stamp per packet fit).
const TCQ: u32 = DESC;

fuzz_target!(|data: &[u8]| {
    let dev = Arc::new(FakeDevice::new());
    let tp: Arc<dyn Transport> = dev.clone();
    let dma = NativeDma::new(tp.clone());
    let pool = NativePool::new(dma.as_ref(), 256, 256, 0).unwrap();
    let mut q: TxQueue<NativeBuf> = TxQueue::new(
        &tp,
        dma.as_ref(),
        0,
        TxConfig {
            nb_desc: DESC,
            fast_free: false,
        },
    )
    .unwrap();
    q.start().unwrap();
    let base = dev.ring_iova(0, regs::TCQ_BAL, regs::TCQ_BAH);
    let mut tail = 0u32;
    for chunk in data.chunks(9) {
        let Some((&ctl, word)) = chunk.split_first() else {
            break;
        };
        // Send a few packets (1..=3 segments).
        let pkts: Vec<NativeBuf> = (0..ctl % 8)
            .filter_map(|i| pool.packet(&vec![i; 60 + (ctl as usize % 3) * 256]))
            .collect();
        let taken = q.burst(&pkts);
        for p in &pkts[taken..] {
            rte_net_fbnic::buf::PktBuf::free_pkt(*p);
        }
        if word.len() == 8 {
            let head = dev.read32(Bar::Bar0, regs::TCQ_HEAD.at(0));
            if tail.wrapping_sub(head) < TCQ - 1 {
                let phase = (tail / TCQ).is_multiple_of(2);
                let tcd =
                    Tcd::from_raw(u64::from_le_bytes(word.try_into().unwrap())).with_done(phase);
                let p = dev.translate(base + (tail % TCQ) as u64 * 8, 8).unwrap() as *mut u64;
                // SAFETY: inside the mapped TCQ; the driver reads it atomically.
                unsafe { p.write_volatile(tcd.to_le()) };
                tail = tail.wrapping_add(1);
            }
        }
    }
    q.cleanup();
    q.stop().unwrap();
    assert_eq!(pool.available(), pool.capacity(), "a buffer was lost");
});
