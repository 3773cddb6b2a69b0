//! Entry points for the fuzz targets (feature `fuzzing`, not part of the model's API): the
//! device's parser of frames from the wire, which any link partner (or any driver, through
//! Tx) controls byte for byte, and its Tx engine's handling of the work descriptors a driver
//! posts, which a buggy driver controls bit for bit.

use std::sync::atomic::{AtomicU64, Ordering};

use fbnic_hw::regs::{self, Bar, MacCommandConfig, RingSize};

use crate::device::{Device, DeviceConfig};
use crate::parse::{self, L3TypeP, L4TypeP};
use crate::wire::{SinkHandle, WireEnd};

/// What the RPC's parser made of a frame, and the sums the Rx META would carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameParse {
    /// Ethertype after an optional VLAN tag.
    pub ethertype: u16,
    /// Start of the L3 header.
    pub l3_off: usize,
    /// End of the IP datagram (the frame's end when there is none).
    pub l3_end: usize,
    /// IPv4 / IPv6 found (header present).
    pub ipv4: bool,
    pub ipv6: bool,
    /// Start of the TCP or UDP header, when the parser found one.
    pub l4_off: Option<usize>,
    /// The L4 header is TCP (else UDP), when `l4_off` is set.
    pub tcp: bool,
    /// L4 ports (0 without L4).
    pub sport: u16,
    pub dport: u16,
    /// A fragment.
    pub frag: bool,
    /// A header was truncated, or the IPv4 header checksum is wrong.
    pub err: bool,
    /// A header ran past the frame or datagram.
    pub trunc: bool,
    /// RCD L2_CSUM: the folded sum of everything from the L3 header on.
    pub l2_csum: u16,
    /// RCD L4_CSUM_UNNECESSARY: the TCP/UDP checksum verified.
    pub l4_csum_ok: bool,
}

/// Parses `f` and computes its sums as the RPC does for a received frame.
pub fn parse_frame(f: &[u8]) -> FrameParse {
    let p = parse::parse(f);
    let sums = parse::sums(f, &p);
    FrameParse {
        ethertype: p.ethertype,
        l3_off: p.l3_off as usize,
        l3_end: p.l3_end as usize,
        ipv4: p.l3 == L3TypeP::V4,
        ipv6: p.l3 == L3TypeP::V6,
        l4_off: (p.l4 != L4TypeP::Other).then_some(p.l4_off as usize),
        tcp: p.l4 == L4TypeP::Tcp,
        sport: p.sport,
        dport: p.dport,
        frag: p.frag,
        err: p.err,
        trunc: p.trunc,
        l2_csum: sums.l2,
        l4_csum_ok: sums.l4_ok,
    }
}

/// Entries of the Tx work ring [`tx_ring`] sets up (so at most 127 descriptors are pending).
pub const TX_RING_ENTRIES: usize = 128;
/// Entries of its completion ring: two completions per descriptor fit, so it never fills.
pub const TX_CMPL_ENTRIES: usize = 512;
/// Where [`tx_ring`] maps the frame data (the only memory a TWD may point at).
pub const TX_DATA_IOVA: u64 = 0x4000_0000;
/// Bytes mapped at [`TX_DATA_IOVA`].
pub const TX_DATA_BYTES: usize = 4096;
const TWQ_IOVA: u64 = 0x1000_0000;
const TCQ_IOVA: u64 = 0x1100_0000;
/// Engine passes after a doorbell before the run counts as a hang.
const MAX_PASSES: usize = 64;

/// One Tx run: descriptors posted on queue 0, rung in two doorbells.
#[derive(Clone, Copy, Debug)]
pub struct TxRun<'a> {
    /// TWDs from ring slot 0 on (at most `TX_RING_ENTRIES - 1`).
    pub descs: &'a [u64],
    /// The first doorbell's tail (at most `descs.len()`); the second is `descs.len()`.
    pub first_tail: usize,
    /// Frame data at [`TX_DATA_IOVA`] (at most [`TX_DATA_BYTES`]; the rest of the region is
    /// zero).
    pub data: &'a [u8],
    /// MAC_COMMAND_CONFIG.TX_PAD (pad frames shorter than 60 bytes).
    pub pad: bool,
    /// Post on TWQ1 instead of TWQ0.
    pub twq1: bool,
}

/// What the device did with a [`TxRun`].
#[derive(Clone, Debug, Default)]
pub struct TxOutcome {
    /// The TWQ head (TWQn_PTRS.HEAD) after each doorbell's engine passes.
    pub heads: [u32; 2],
    /// Frames the MAC put on the wire, in order.
    pub frames: Vec<Vec<u8>>,
    /// TWQ0_PKT_CNT and TWQ0_ERR_CNT (both TWQs of the queue count there).
    pub sent: u32,
    /// See `sent`.
    pub errors: u32,
    /// TCQ entries written (DONE set), in ring order.
    pub completions: Vec<u64>,
    /// MASTER_DMA_FAULT_CNT.
    pub dma_faults: u32,
}

/// Host memory the device reaches by DMA: 8-byte words, so ring slots have an atomic view.
struct Mem(Box<[AtomicU64]>);

impl Mem {
    fn new(bytes: usize) -> Self {
        Self((0..bytes / 8).map(|_| AtomicU64::new(0)).collect())
    }
    fn ptr(&self) -> *mut u8 {
        self.0.as_ptr() as *mut u8
    }
    fn bytes(&self) -> usize {
        self.0.len() * 8
    }
}

/// Posts `run.descs` on a fresh device's Tx queue 0 (TWQ and TCQ enabled in the spec's
/// order, the MAC sending into a sink), rings the two doorbells, runs the engine until it has
/// nothing left to do after each, and reports what came out.
///
/// # Panics
/// When the run's limits are exceeded (a fuzz target's error, not the device's), or when the
/// engine still finds work after [`MAX_PASSES`] passes (a hang).
pub fn tx_ring(run: &TxRun<'_>) -> TxOutcome {
    assert!(run.descs.len() < TX_RING_ENTRIES && run.first_tail <= run.descs.len());
    assert!(run.data.len() <= TX_DATA_BYTES);
    let twq = Mem::new(TX_RING_ENTRIES * 8);
    let tcq = Mem::new(TX_CMPL_ENTRIES * 8);
    let data = Mem::new(TX_DATA_BYTES);
    for (w, d) in twq.0.iter().zip(run.descs) {
        w.store(d.to_le(), Ordering::Relaxed);
    }
    for (w, c) in data.0.iter().zip(run.data.chunks(8)) {
        let mut b = [0u8; 8];
        b[..c.len()].copy_from_slice(c);
        w.store(u64::from_ne_bytes(b), Ordering::Relaxed);
    }

    let dev = Device::new(0, DeviceConfig::with_dsn(1));
    // Room for every frame: LSO cuts 4 KiB into up to 64 segments per packet.
    let sink = SinkHandle::new(TX_RING_ENTRIES * TX_DATA_BYTES / 64);
    *dev.wire.lock() = WireEnd::Sink(sink.shared.clone());
    let maps = [(TWQ_IOVA, &twq), (TCQ_IOVA, &tcq), (TX_DATA_IOVA, &data)];
    for (iova, m) in maps {
        // SAFETY: each Mem lives until after the unmap below, and the device touches it only
        // during `service`, which runs on this thread while nothing else accesses the memory
        // (the words are atomics, so the device's atomic view of ring slots is sound too).
        unsafe { dev.dma_map(iova, m.ptr(), m.bytes()) }.expect("fuzz mapping");
    }
    let cfg = MacCommandConfig::default()
        .with_tx_ena(true)
        .with_tx_pad(run.pad);
    dev.write32(Bar::Bar0, regs::MAC_COMMAND_CONFIG, cfg.raw());
    use regs::{TWQ0_BAH, TWQ0_BAL, TWQ0_CTL, TWQ0_PTRS, TWQ0_SIZE, TWQ0_TAIL};
    use regs::{TWQ1_BAH, TWQ1_BAL, TWQ1_CTL, TWQ1_PTRS, TWQ1_SIZE, TWQ1_TAIL};
    let [ctl, tail, ptrs, size, bal, bah] = if run.twq1 {
        [
            TWQ1_CTL, TWQ1_TAIL, TWQ1_PTRS, TWQ1_SIZE, TWQ1_BAL, TWQ1_BAH,
        ]
    } else {
        [
            TWQ0_CTL, TWQ0_TAIL, TWQ0_PTRS, TWQ0_SIZE, TWQ0_BAL, TWQ0_BAH,
        ]
    };
    let entries = |n: usize| RingSize::for_entries(n as u32).expect("ring size").raw();
    for (ctl, bal, bah, size, iova, n) in [
        (ctl, bal, bah, size, TWQ_IOVA, TX_RING_ENTRIES),
        (
            regs::TCQ_CTL,
            regs::TCQ_BAL,
            regs::TCQ_BAH,
            regs::TCQ_SIZE,
            TCQ_IOVA,
            TX_CMPL_ENTRIES,
        ),
    ] {
        dev.write32(Bar::Bar0, ctl.at(0), 1);
        dev.write32(Bar::Bar0, bal.at(0), iova as u32);
        dev.write32(Bar::Bar0, bah.at(0), (iova >> 32) as u32);
        dev.write32(Bar::Bar0, size.at(0), entries(n));
        dev.write32(Bar::Bar0, ctl.at(0), 2);
    }

    let mut heads = [0; 2];
    for (k, t) in [run.first_tail, run.descs.len()].into_iter().enumerate() {
        dev.write32(Bar::Bar0, tail.at(0), t as u32);
        let mut passes = 0;
        while dev.service() {
            passes += 1;
            assert!(passes < MAX_PASSES, "the Tx engine did not settle");
        }
        heads[k] = dev.read32(Bar::Bar0, ptrs.at(0)) >> 16;
    }
    let out = TxOutcome {
        heads,
        frames: sink.take_copies(),
        sent: dev.read32(Bar::Bar0, regs::TWQ0_PKT_CNT.at(0)),
        errors: dev.read32(Bar::Bar0, regs::TWQ0_ERR_CNT.at(0)),
        completions: tcq
            .0
            .iter()
            .map(|w| u64::from_le(w.load(Ordering::Relaxed)))
            .take_while(|c| c >> 63 == 1)
            .collect(),
        dma_faults: dev.read32(Bar::Bar0, regs::MASTER_DMA_FAULT_CNT),
    };
    for (iova, m) in maps {
        dev.dma_unmap(iova, m.bytes()).expect("fuzz unmapping");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use fbnic_hw::desc::Twd;

    /// The harness itself: a good packet goes out padded and completes, a malformed chain
    /// is an error that still completes, and an incomplete packet waits for its doorbell.
    #[test]
    fn tx_ring_reports_frames_counters_and_completions() {
        let data: Vec<u8> = (0..100u8).collect();
        let meta = Twd::meta().with_dest_mac(true).with_req_completion(true);
        let descs = [
            meta.raw(),
            Twd::al(TX_DATA_IOVA + 10, 20, false).raw(),
            Twd::al(TX_DATA_IOVA + 40, 30, true).raw(),
            // An address descriptor without a META: one error, completed by the next META's
            // packet only (it has none of its own).
            Twd::al(TX_DATA_IOVA, 8, true).raw(),
            meta.raw(),
            Twd::al(TX_DATA_IOVA + 4090, 8, true).raw(),
            meta.raw(),
            Twd::al(TX_DATA_IOVA, 8, false).raw(),
        ];
        let out = tx_ring(&TxRun {
            descs: &descs,
            first_tail: 1,
            data: &data,
            pad: true,
            twq1: false,
        });
        // Nothing is complete after the first doorbell; the last packet never is.
        assert_eq!(out.heads, [0, 6]);
        let mut want = data[10..30].to_vec();
        want.extend_from_slice(&data[40..70]);
        want.resize(60, 0);
        assert_eq!(out.frames, vec![want]);
        // The piece that runs past the data region is a DMA fault.
        assert_eq!((out.sent, out.errors, out.dma_faults), (1, 2, 1));
        let heads: Vec<u64> = out.completions.iter().map(|c| c & 0xffff).collect();
        assert_eq!(heads, [3, 6]);
    }
}
