//! Device counters (spec 8): free-running hardware registers turned into 64-bit totals since
//! the last reset.
//!
//! 32-bit counters (packets, errors, drops) are read often enough (every service tick and
//! every stats read) that they cannot wrap twice in between; the delta from the previous raw
//! value is added to a 64-bit total. 64-bit counters (bytes, MAC statistics) are read high,
//! low, high and retried if the high half moved.

use fbnic_hw::regs::{self, mac_stat, Bar, QReg, Reg};

use crate::transport::Transport;

/// A 32-bit free-running counter and its 64-bit total.
#[derive(Clone, Copy, Debug, Default)]
struct Acc32 {
    last: u32,
    total: u64,
}

impl Acc32 {
    fn update(&mut self, raw: u32) {
        self.total += raw.wrapping_sub(self.last) as u64;
        self.last = raw;
    }

    fn rebase(&mut self, raw: u32) {
        self.last = raw;
        self.total = 0;
    }
}

/// A 64-bit counter (LO/HI registers) and its total since reset.
#[derive(Clone, Copy, Debug, Default)]
struct Acc64 {
    base: u64,
    last: u64,
}

/// Reads a 64-bit counter as high, low, high, retrying when the high half changed.
pub fn read64(tp: &dyn Transport, lo: Reg) -> u64 {
    for _ in 0..4 {
        let hi = tp.read32(Bar::Bar0, lo + 1);
        let l = tp.read32(Bar::Bar0, lo);
        if tp.read32(Bar::Bar0, lo + 1) == hi {
            return (hi as u64) << 32 | l as u64;
        }
    }
    // Four changes of the high half in a row: take the last consistent-enough reading.
    (tp.read32(Bar::Bar0, lo + 1) as u64) << 32 | tp.read32(Bar::Bar0, lo) as u64
}

/// Per-queue hardware counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueHwStats {
    /// Frames the device delivered to the RCQ.
    pub rx_packets: u64,
    /// Bytes of those frames.
    pub rx_bytes: u64,
    /// Frames delivered with an error.
    pub rx_errors: u64,
    /// Frames dropped: RCQ full.
    pub rx_cq_drops: u64,
    /// Frames dropped: no buffer posted.
    pub rx_bdq_drops: u64,
    /// Frames the device sent from the TWQ.
    pub tx_packets: u64,
    /// Bytes of those frames.
    pub tx_bytes: u64,
    /// Frames dropped for a bad descriptor or DMA fault.
    pub tx_errors: u64,
}

const QUEUE_COUNTERS: [QReg; 6] = [
    regs::RDE_PKT_CNT,
    regs::RDE_PKT_ERR,
    regs::RDE_CQ_DROP,
    regs::RDE_BDQ_DROP,
    regs::TWQ0_PKT_CNT,
    regs::TWQ0_ERR_CNT,
];

/// 64-bit per-queue counters (LO registers; HI follows).
const QUEUE_COUNTERS64: [QReg; 2] = [regs::RDE_BYTE_CNT, regs::TWQ0_BYTE_CNT];

/// Device-wide 32-bit counters reported as xstats.
pub const DEVICE_COUNTERS: &[(&str, Reg)] = &[
    ("rpc_unknown_ethertype", regs::RPC_CNTR_UNKN_ETYPE),
    ("rpc_ipv4_fragments", regs::RPC_CNTR_IPV4_FRAG),
    ("rpc_ipv6_fragments", regs::RPC_CNTR_IPV6_FRAG),
    ("rpc_parser_errors", regs::RPC_CNTR_OUT_OF_HDR_ERR),
    ("rpc_oversize_drops", regs::RPC_CNTR_OVR_SIZE_ERR),
    ("rpc_macda_miss_drops", regs::RPC_CNTR_MACDA_MISS),
    ("rpc_action_drops", regs::RPC_CNTR_ACT_DROP),
    ("rpc_to_bmc", regs::RPC_CNTR_TO_BMC),
    (
        "rxb_host_drops",
        regs::rxb_drop_frms_sts(regs::RXB_FIFO_HOST),
    ),
    ("dma_faults", regs::MASTER_DMA_FAULT_CNT),
];

/// Device-wide 64-bit counters reported as xstats (besides the MAC statistics).
pub const DEVICE_COUNTERS64: &[(&str, Reg)] = &[
    ("fec_corrected_codewords", regs::RSFEC_CCW_LO),
    ("fec_uncorrected_codewords", regs::RSFEC_NCCW_LO),
];

/// Every hardware counter of a port, as totals since the last reset.
#[derive(Debug, Clone)]
pub struct HwCounters {
    queues: Vec<[Acc32; QUEUE_COUNTERS.len()]>,
    queues64: Vec<[Acc64; QUEUE_COUNTERS64.len()]>,
    device: [Acc32; DEVICE_COUNTERS.len()],
    mac: Vec<Acc64>,
    dev64: [Acc64; DEVICE_COUNTERS64.len()],
}

impl HwCounters {
    /// Counters of `nb_queues` queues, based at the registers' current values.
    pub fn new(tp: &dyn Transport, nb_queues: u32) -> Self {
        let mut c = Self {
            queues: vec![[Acc32::default(); QUEUE_COUNTERS.len()]; nb_queues as usize],
            queues64: vec![[Acc64::default(); QUEUE_COUNTERS64.len()]; nb_queues as usize],
            device: [Acc32::default(); DEVICE_COUNTERS.len()],
            mac: vec![Acc64::default(); mac_stat::ALL.len()],
            dev64: [Acc64::default(); DEVICE_COUNTERS64.len()],
        };
        c.reset(tp);
        c
    }

    /// Number of queues tracked.
    pub fn nb_queues(&self) -> u32 {
        self.queues.len() as u32
    }

    /// Folds the registers' movement since the last call into the totals.
    pub fn update(&mut self, tp: &dyn Transport) {
        for (q, accs) in self.queues.iter_mut().enumerate() {
            for (acc, reg) in accs.iter_mut().zip(QUEUE_COUNTERS) {
                acc.update(tp.read32(Bar::Bar0, reg.at(q as u32)));
            }
        }
        for (q, accs) in self.queues64.iter_mut().enumerate() {
            for (acc, reg) in accs.iter_mut().zip(QUEUE_COUNTERS64) {
                acc.last = read64(tp, reg.at(q as u32));
            }
        }
        for (acc, (_, reg)) in self.device.iter_mut().zip(DEVICE_COUNTERS) {
            acc.update(tp.read32(Bar::Bar0, *reg));
        }
        for (acc, stat) in self.mac.iter_mut().zip(mac_stat::ALL) {
            acc.last = read64(tp, stat.lo);
        }
        for (acc, (_, reg)) in self.dev64.iter_mut().zip(DEVICE_COUNTERS64) {
            acc.last = read64(tp, *reg);
        }
    }

    /// Starts every total from zero at the registers' current values.
    pub fn reset(&mut self, tp: &dyn Transport) {
        for (q, accs) in self.queues.iter_mut().enumerate() {
            for (acc, reg) in accs.iter_mut().zip(QUEUE_COUNTERS) {
                acc.rebase(tp.read32(Bar::Bar0, reg.at(q as u32)));
            }
        }
        for (q, accs) in self.queues64.iter_mut().enumerate() {
            for (acc, reg) in accs.iter_mut().zip(QUEUE_COUNTERS64) {
                acc.base = read64(tp, reg.at(q as u32));
                acc.last = acc.base;
            }
        }
        for (acc, (_, reg)) in self.device.iter_mut().zip(DEVICE_COUNTERS) {
            acc.rebase(tp.read32(Bar::Bar0, *reg));
        }
        for (acc, stat) in self.mac.iter_mut().zip(mac_stat::ALL) {
            acc.base = read64(tp, stat.lo);
            acc.last = acc.base;
        }
        for (acc, (_, reg)) in self.dev64.iter_mut().zip(DEVICE_COUNTERS64) {
            acc.base = read64(tp, *reg);
            acc.last = acc.base;
        }
    }

    /// Queue `q`'s totals.
    pub fn queue(&self, q: u32) -> QueueHwStats {
        let (Some(a), Some(b)) = (self.queues.get(q as usize), self.queues64.get(q as usize))
        else {
            return QueueHwStats::default();
        };
        QueueHwStats {
            rx_packets: a[0].total,
            rx_bytes: b[0].last.wrapping_sub(b[0].base),
            rx_errors: a[1].total,
            rx_cq_drops: a[2].total,
            rx_bdq_drops: a[3].total,
            tx_packets: a[4].total,
            tx_bytes: b[1].last.wrapping_sub(b[1].base),
            tx_errors: a[5].total,
        }
    }

    /// A device-wide counter by its xstats name.
    pub fn device(&self, name: &str) -> Option<u64> {
        let i = DEVICE_COUNTERS.iter().position(|(n, _)| *n == name)?;
        Some(self.device[i].total)
    }

    /// Every device-wide counter with its name: the 32-bit ones, the MAC statistics, FEC.
    pub fn named(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        DEVICE_COUNTERS
            .iter()
            .zip(&self.device)
            .map(|((n, _), a)| (*n, a.total))
            .chain(
                mac_stat::ALL
                    .iter()
                    .zip(&self.mac)
                    .map(|(s, a)| (s.name, a.last.wrapping_sub(a.base))),
            )
            .chain(
                DEVICE_COUNTERS64
                    .iter()
                    .zip(&self.dev64)
                    .map(|((n, _), a)| (*n, a.last.wrapping_sub(a.base))),
            )
    }

    /// A MAC statistic by its register.
    pub fn mac(&self, lo: Reg) -> u64 {
        mac_stat::ALL
            .iter()
            .position(|s| s.lo == lo)
            .map(|i| self.mac[i].last.wrapping_sub(self.mac[i].base))
            .unwrap_or(0)
    }
}
