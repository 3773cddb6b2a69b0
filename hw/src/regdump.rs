//! The layout of a register dump (`rte_eth_dev_get_reg_info`; **[project choice]**: the spec
//! defines the registers, not a dump format).
//!
//! A dump is a flat array of 32-bit BAR0 registers: every register of each [`BLOCKS`] range,
//! in order, then, for each queue index `0..MAX_QUEUES`, every register of each
//! [`QUEUE_RANGES`] range inside that queue's block. Every range covers whole hardware blocks
//! or the defined part of one (the spec's BAR0 map, section 2, and the per-queue map, section
//! 3), so a dump reads no register outside them and none with a side effect on read. The
//! dump's `version` ([`VERSION`]) names this layout; a decoder finds a register's slot with
//! [`index_of`].

use core::ops::RangeInclusive;

use crate::regs::{Reg, MAX_QUEUES, QUEUE_BASE, QUEUE_STRIDE};

/// A named range of BAR0 dword indexes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The block's name (the spec's).
    pub name: &'static str,
    /// First and last dword index.
    pub regs: RangeInclusive<Reg>,
}

const fn block(name: &'static str, first: Reg, last: Reg) -> Block {
    Block {
        name,
        regs: first..=last,
    }
}

/// The device-wide blocks, in dump order.
pub const BLOCKS: &[Block] = &[
    block("INTR", 0x00000, 0x0005f),
    block("INTR_CQ", 0x00400, 0x007fe),
    block("QM_TX", 0x00800, 0x00873),
    block("QM_RX", 0x00c00, 0x00c34),
    block("TCE", 0x04000, 0x04050),
    block("TCE_RAM", 0x04200, 0x0421f),
    block("TMI", 0x04400, 0x0443f),
    block("PTP", 0x04800, 0x04809),
    block("RXB", 0x08000, 0x081b1),
    block("RPC", 0x08400, 0x0856b),
    block("RPC_RAM", 0x08800, 0x08f1f),
    block("MASTER", 0x0c400, 0x0c452),
    block("RSFEC", 0x10800, 0x1083f),
    block("MAC", 0x11000, 0x1107f),
    block("SIG", 0x11800, 0x1184f),
    block("MAC_STAT", 0x11a00, 0x11a5f),
    block("PUL", 0x31000, 0x3107f),
];

/// The dumped part of every queue block (offsets inside it): the Tx side (TWQ0/1, TCQ, TIM)
/// and the Rx side (RCQ, BDQ, RDE, RIM).
pub const QUEUE_RANGES: [RangeInclusive<u32>; 2] = [0x000..=0x0c4, 0x200..=0x2c4];

/// The layout's version, the dump's `version`: the PCI device ID (0x0013) in the low half
/// and this layout's revision (1) above it.
pub const VERSION: u32 = 1 << 16 | 0x0013;

const fn span(r: &RangeInclusive<u32>) -> usize {
    (*r.end() - *r.start() + 1) as usize
}

const fn device_len() -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < BLOCKS.len() {
        n += span(&BLOCKS[i].regs);
        i += 1;
    }
    n
}

/// Dwords dumped per queue.
pub const QUEUE_LEN: usize = span(&QUEUE_RANGES[0]) + span(&QUEUE_RANGES[1]);

/// Dwords of the device-wide blocks (the first part of a dump).
pub const DEVICE_LEN: usize = device_len();

/// Dwords in a whole dump.
pub const LEN: usize = DEVICE_LEN + QUEUE_LEN * MAX_QUEUES as usize;

/// Every dumped register, in dump order.
pub fn registers() -> impl Iterator<Item = Reg> {
    let device = BLOCKS.iter().flat_map(|b| b.regs.clone());
    let queues = (0..MAX_QUEUES).flat_map(|q| {
        QUEUE_RANGES.iter().flat_map(move |r| {
            r.clone()
                .map(move |off| QUEUE_BASE + QUEUE_STRIDE * q + off)
        })
    });
    device.chain(queues)
}

/// Where register `reg` sits in a dump, if it is dumped.
pub fn index_of(reg: Reg) -> Option<usize> {
    let mut at = 0;
    for b in BLOCKS {
        if b.regs.contains(&reg) {
            return Some(at + (reg - b.regs.start()) as usize);
        }
        at += span(&b.regs);
    }
    let rel = reg.checked_sub(QUEUE_BASE)?;
    let (q, off) = (rel / QUEUE_STRIDE, rel % QUEUE_STRIDE);
    if q >= MAX_QUEUES {
        return None;
    }
    let mut at = DEVICE_LEN + q as usize * QUEUE_LEN;
    for r in &QUEUE_RANGES {
        if r.contains(&off) {
            return Some(at + (off - r.start()) as usize);
        }
        at += span(r);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regs;

    #[test]
    fn layout_is_ordered_disjoint_and_indexed_consistently() {
        for w in BLOCKS.windows(2) {
            assert!(
                w[0].regs.end() < w[1].regs.start(),
                "{} / {}",
                w[0].name,
                w[1].name
            );
        }
        assert!(*BLOCKS.last().unwrap().regs.end() < QUEUE_BASE);
        assert!(QUEUE_RANGES[0].end() < QUEUE_RANGES[1].start());
        assert!(*QUEUE_RANGES[1].end() < QUEUE_STRIDE);
        assert_eq!(registers().count(), LEN);
        for (i, r) in registers().enumerate() {
            assert_eq!(index_of(r), Some(i), "register {r:#x}");
        }
        // Registers outside the layout have no slot.
        for r in [
            0x60,
            0x3ff,
            0x4810,
            0x12000,
            QUEUE_BASE + 0x100,
            regs::BAR0_DWORDS,
        ] {
            assert_eq!(index_of(r), None, "register {r:#x}");
        }
    }

    #[test]
    fn the_registers_a_driver_programs_are_in_the_dump() {
        let wanted = [
            regs::intr_status(0),
            regs::qm_rcq_idle(3),
            regs::PTP_CTRL,
            regs::PTP_CTR_VAL_LO,
            regs::RPC_RMI_CONFIG,
            regs::rpc_rss_key(9),
            regs::rpc_rss_tbl(1, 255),
            regs::rpc_tcam_act(63, 0),
            regs::rpc_tcam_macda(31, 3),
            regs::rxb_drop_frms_sts(regs::RXB_FIFO_HOST),
            regs::MASTER_DMA_FAULT_ADDR_HI,
            regs::RSFEC_NCCW_LO,
            regs::MAC_COMMAND_CONFIG,
            regs::SIG_PCS_INTR_STS,
            regs::mac_stat::TX_CONTROL + 1,
            regs::PUL_OB_TLP_HDR_AR_CFG,
            regs::TWQ1_BAH.at(127),
            regs::TIM_MASK.at(0),
            regs::RCQ_PTRS.at(5),
            regs::BDQ_PPQ_BAL.at(64),
            regs::RDE_CQ_DROP.at(1),
            regs::RIM_MASK.at(127),
        ];
        for r in wanted {
            assert!(index_of(r).is_some(), "register {r:#x} is not dumped");
        }
        assert_eq!(index_of(regs::intr_status(0)), Some(0));
        assert_eq!(index_of(regs::TWQ0_CTL.at(0)), Some(DEVICE_LEN));
        assert_eq!(
            index_of(regs::RCQ_CTL.at(1)),
            Some(DEVICE_LEN + QUEUE_LEN + 0xc5)
        );
    }
}
