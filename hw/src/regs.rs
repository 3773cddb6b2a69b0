//! The BAR0 and BAR4 register maps (spec sections 2, 3, 5, 6, 7, 8).
//!
//! Offsets are dword indexes into a BAR, as in the spec (byte address = index x 4). Registers
//! with fields are `bitfields!` newtypes; the constant of the same name in SCREAMING case is
//! the register's index. Per-queue registers are [`QReg`] offsets inside a queue's block ([`QReg::at`]).
//!
//! Registers the spec leaves open are marked **[project choice]** and documented here.

use crate::bitfields;

/// A dword index into a BAR.
pub type Reg = u32;

/// Which BAR a register lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bar {
    /// CSRs.
    Bar0,
    /// Firmware mailbox.
    Bar4,
}

/// Number of dwords in BAR0 the model backs (up to the end of QUEUE(127)).
pub const BAR0_DWORDS: u32 = QUEUE_BASE + QUEUE_STRIDE * MAX_QUEUES;
/// Number of dwords in BAR4 (mailbox descriptors end at 0x6040).
pub const BAR4_DWORDS: u32 = 0x8000;

/// Queue indexes the device has (each with a Tx and an Rx side).
pub const MAX_QUEUES: u32 = 128;

/// Bits of a DMA address the device drives.
pub const DMA_ADDR_BITS: u32 = 46;

/// PCI identity.
pub const PCI_VENDOR_ID: u16 = 0x1d9b;
/// PCI device id of the ASIC.
pub const PCI_DEVICE_ID: u16 = 0x0013;

// ---------------------------------------------------------------------------------------------
// INTR
// ---------------------------------------------------------------------------------------------

/// Interrupt cause bank `n` (0..8). Bank 0 bit 0 is the firmware's "signs of life".
pub const fn intr_status(n: u32) -> Reg {
    n
}
/// Interrupt mask bank `n`.
pub const fn intr_mask(n: u32) -> Reg {
    0x008 + n
}
/// Write-1-to-clear for interrupt bank `n`.
pub const fn intr_clear(n: u32) -> Reg {
    0x018 + n
}
/// INTR_STATUS(0) bit 0: the firmware mailbox interrupt, raised once the FW is alive.
pub const INTR_STATUS0_FW_MBX: u32 = 1 << 0;
/// Write-1-to-set for bits of interrupt mask bank `n` (a bit per MSI-X vector).
pub const fn intr_mask_set(n: u32) -> Reg {
    0x030 + n
}
/// Write-1-to-clear (unmask) for bits of interrupt mask bank `n`.
pub const fn intr_mask_clear(n: u32) -> Reg {
    0x038 + n
}
/// MSI-X vectors (and bits in the 8 interrupt banks).
pub const MSIX_VECTORS: u32 = 256;
/// INTR_CQ_REARM of MSI-X vector `v` (0..256): re-arms the vector's completion interrupt.
pub const fn intr_cq_rearm(v: u32) -> Reg {
    0x400 + 4 * v
}
bitfields! {
    /// INTR_CQ_REARM fields (facts from the public Linux driver; the spec names the block).
    pub struct CqRearm(u32) {
        /// Rx coalescing timeout in microseconds (taken when `rcq_timeout_upd` is set).
        field rcq_timeout, with_rcq_timeout: 13, 0;
        /// Update the Rx timeout.
        flag rcq_timeout_upd, with_rcq_timeout_upd: 14;
        /// Tx coalescing timeout in microseconds.
        field tcq_timeout, with_tcq_timeout: 28, 15;
        /// Update the Tx timeout.
        flag tcq_timeout_upd, with_tcq_timeout_upd: 29;
        /// Reload the timers.
        flag reload, with_reload: 30;
        /// Unmask (arm) the vector: it signals once, then masks itself until re-armed.
        flag unmask, with_unmask: 31;
    }
}

// ---------------------------------------------------------------------------------------------
// QM idle bits (a bit per queue, 4 registers each)
// ---------------------------------------------------------------------------------------------

/// QM_TWQ_IDLE(n): TWQ idle, bit q%32 of register q/32.
pub const fn qm_twq_idle(n: u32) -> Reg {
    0x800 + n
}
/// QM_TCQ_IDLE(n).
pub const fn qm_tcq_idle(n: u32) -> Reg {
    0x821 + n
}
/// QM_TQS_IDLE(n).
pub const fn qm_tqs_idle(n: u32) -> Reg {
    0x830 + n
}
/// QM_TDE_IDLE(n).
pub const fn qm_tde_idle(n: u32) -> Reg {
    0x853 + n
}
/// QM_RCQ_IDLE(n).
pub const fn qm_rcq_idle(n: u32) -> Reg {
    0xc00 + n
}
/// QM_HPQ_IDLE(n).
pub const fn qm_hpq_idle(n: u32) -> Reg {
    0xc0f + n
}
/// QM_PPQ_IDLE(n).
pub const fn qm_ppq_idle(n: u32) -> Reg {
    0xc13 + n
}

/// The idle register and bit that report queue `q` in one of the `qm_*_idle` banks.
pub fn idle_bit(bank: fn(u32) -> Reg, q: u32) -> (Reg, u32) {
    (bank(q / 32), 1 << (q % 32))
}

// ---------------------------------------------------------------------------------------------
// PTP: the device clock that stamps frames
// ---------------------------------------------------------------------------------------------

/// PTP_CTRL: clock control.
pub const PTP_CTRL: Reg = 0x4800;
bitfields! {
    /// PTP_CTRL fields.
    pub struct PtpCtrl(u32) {
        /// The counter runs (it holds its value while clear).
        flag en, with_en: 0;
        /// Monotonic companion counter enable.
        flag mono_en, with_mono_en: 4;
        /// Timestamps are delivered to the Tx queue scheduler.
        flag tqs_out_en, with_tqs_out_en: 8;
        /// Interval of the time updates sent to the MAC.
        field mac_out_ival, with_mac_out_ival: 16, 12;
        /// Tick interval.
        field tick_ival, with_tick_ival: 23, 20;
    }
}
/// PTP_ADJUST: one-shot commands (each bit acts when written as 1; reads back as 0).
pub const PTP_ADJUST: Reg = 0x4801;
bitfields! {
    /// PTP_ADJUST commands.
    pub struct PtpAdjust(u32) {
        /// Load the counter from PTP_INIT_HI/LO (sub-nanoseconds cleared).
        flag init, with_init: 0;
        /// Subtract PTP_NUDGE_NS/SUBNS from the counter.
        flag sub_nudge, with_sub_nudge: 8;
        /// Add PTP_NUDGE_NS/SUBNS to the counter.
        flag add_nudge, with_add_nudge: 16;
        /// Take PTP_ADD_VAL_NS/SUBNS as the increment per reference clock period.
        flag addend_set, with_addend_set: 24;
    }
}
/// PTP_INIT_HI / LO: the value `init` loads (ns, high and low 32 bits).
pub const PTP_INIT_HI: Reg = 0x4802;
/// See [`PTP_INIT_HI`].
pub const PTP_INIT_LO: Reg = 0x4803;
/// PTP_NUDGE_NS / SUBNS: the step `add_nudge`/`sub_nudge` applies (ns, then 2^-32 ns).
pub const PTP_NUDGE_NS: Reg = 0x4804;
/// See [`PTP_NUDGE_NS`].
pub const PTP_NUDGE_SUBNS: Reg = 0x4805;
/// PTP_ADD_VAL_NS (15:0) / SUBNS: the counter's increment per reference clock period, in ns
/// and 2^-32 ns (taken by `addend_set`).
pub const PTP_ADD_VAL_NS: Reg = 0x4806;
/// Width mask of PTP_ADD_VAL_NS.
pub const PTP_ADD_VAL_NS_MASK: u32 = 0xffff;
/// See [`PTP_ADD_VAL_NS`].
pub const PTP_ADD_VAL_SUBNS: Reg = 0x4807;
/// PTP_CTR_VAL_HI / LO: the counter now (ns). Read HI, LO, then HI again: a changed HI means
/// LO wrapped between the reads.
pub const PTP_CTR_VAL_HI: Reg = 0x4808;
/// See [`PTP_CTR_VAL_HI`].
pub const PTP_CTR_VAL_LO: Reg = 0x4809;
/// **[project choice]** The model's reference clock: one period per nanosecond of host
/// time (1 GHz), so the nominal increment is 1.0 ns (PTP_ADD_VAL_NS = 1, SUBNS = 0), the
/// value the counter runs at after reset.
pub const PTP_REF_CLOCK_HZ: u64 = 1_000_000_000;
/// Bits of the counter a descriptor timestamp carries (TCD type 1, RCD OPT_META: 39:0).
pub const PTP_TS_BITS: u32 = 40;

// ---------------------------------------------------------------------------------------------
// RPC
// ---------------------------------------------------------------------------------------------

/// RPC_RMI_CONFIG: global Rx enable and MTU.
pub const RPC_RMI_CONFIG: Reg = 0x8400;
bitfields! {
    /// RPC_RMI_CONFIG fields.
    pub struct RmiConfig(u32) {
        /// Overhead bytes added per frame for rate accounting (20).
        field oh_bytes, with_oh_bytes: 4, 0;
        /// Frames carry their FCS into the parser.
        flag fcs_present, with_fcs_present: 8;
        /// Global Rx enable: when clear, every received frame is dropped.
        flag enable, with_enable: 12;
        /// Largest L2 frame accepted (bytes, without FCS); longer frames are dropped.
        field mtu, with_mtu: 31, 16;
    }
}

/// Default action (ACT_TBL0) for frames no action TCAM entry matches.
pub const RPC_ACT_TBL0_DEFAULT: Reg = 0x840a;
/// Default RSS enables (ACT_TBL1) for frames no action TCAM entry matches.
pub const RPC_ACT_TBL1_DEFAULT: Reg = 0x840b;

/// RSS key dword `n` (0..14). Key byte `i` is in dword `i/4`, bits `31-8*(i%4)`..`24-8*(i%4)`.
pub const fn rpc_rss_key(n: u32) -> Reg {
    0x840c + n
}
/// Dwords of RSS key.
pub const RSS_KEY_DWORDS: u32 = 14;
/// Bytes of RSS key the device uses (425 bits, rounded up).
pub const RSS_KEY_BYTES: usize = 54;
/// Bits of RSS key.
pub const RSS_KEY_BITS: u32 = 425;

/// RPC counter: frames with an unknown ethertype.
pub const RPC_CNTR_UNKN_ETYPE: Reg = 0x849f;
/// RPC counter: IPv4 fragments.
pub const RPC_CNTR_IPV4_FRAG: Reg = 0x84a0;
/// RPC counter: IPv6 fragments.
pub const RPC_CNTR_IPV6_FRAG: Reg = 0x84a1;
/// RPC counter: frames whose headers ran past the frame (parser errors).
pub const RPC_CNTR_OUT_OF_HDR_ERR: Reg = 0x84a5;
/// RPC counter: frames longer than RMI_CONFIG.MTU.
pub const RPC_CNTR_OVR_SIZE_ERR: Reg = 0x84a6;
/// **[project choice]** RPC counter: frames dropped because no MAC DA TCAM entry matched
/// (inside the RPC block, after the parser counters).
pub const RPC_CNTR_MACDA_MISS: Reg = 0x84a7;
/// **[project choice]** RPC counter: frames dropped by an action (default or TCAM entry).
pub const RPC_CNTR_ACT_DROP: Reg = 0x84a8;
/// **[project choice]** RPC counter: frames delivered to the BMC.
pub const RPC_CNTR_TO_BMC: Reg = 0x84a9;

/// ACT_TBL0(n), n < 64.
pub const fn rpc_act_tbl0(n: u32) -> Reg {
    0x8800 + n
}
/// ACT_TBL1(n), n < 64.
pub const fn rpc_act_tbl1(n: u32) -> Reg {
    0x8840 + n
}
/// Entries in the action table and the action TCAM.
pub const ACT_ENTRIES: u32 = 64;

bitfields! {
    /// An action table entry, word 0 (ACT_TBL0).
    pub struct ActTbl0(u32) {
        /// Drop the frame.
        flag drop, with_drop: 0;
        /// Destination bitmap: [`ACT_DEST_HOST`], [`ACT_DEST_BMC`], [`ACT_DEST_EI`].
        field dest, with_dest: 3, 1;
        /// Deliver to queue Q_ID instead of the RSS-selected queue.
        flag q_sel, with_q_sel: 4;
        /// Queue for Q_SEL.
        field q_id, with_q_id: 15, 8;
        /// DMA hint: with header split, the deepest header the header buffer takes
        /// ([`DMA_HINT_L2`], [`DMA_HINT_L3`], [`DMA_HINT_L4`]; 0: a split at MAX_HDR bytes);
        /// HDR_AL reports the one used.
        field dma_hint, with_dma_hint: 24, 16;
        /// Request an Rx timestamp.
        flag ts_ena, with_ts_ena: 28;
        /// Which RSS indirection table (context) to use.
        flag rss_ctxt_id, with_rss_ctxt_id: 30;
    }
}
/// ACT_TBL0.DMA_HINT / HDR_AL.DMA_HINT: no header boundary (a split at MAX_HDR bytes).
pub const DMA_HINT_NONE: u32 = 0;
/// DMA hint: after the Ethernet header.
pub const DMA_HINT_L2: u32 = 1;
/// DMA hint: after the IP header.
pub const DMA_HINT_L3: u32 = 2;
/// DMA hint: after the TCP or UDP header.
pub const DMA_HINT_L4: u32 = 4;
/// ACT_TBL0.DEST: the host queues.
pub const ACT_DEST_HOST: u32 = 1;
/// ACT_TBL0.DEST: the BMC.
pub const ACT_DEST_BMC: u32 = 2;
/// ACT_TBL0.DEST: the egress interface (loop back to the wire).
pub const ACT_DEST_EI: u32 = 4;

bitfields! {
    /// An action table entry, word 1 (ACT_TBL1): which fields feed the RSS hash.
    pub struct ActTbl1(u32) {
        /// Hash the IP source address.
        flag ip_src, with_ip_src: 0;
        /// Hash the IP destination address.
        flag ip_dst, with_ip_dst: 1;
        /// Hash the L4 source port.
        flag l4_src, with_l4_src: 2;
        /// Hash the L4 destination port.
        flag l4_dst, with_l4_dst: 3;
        /// Hash the L2 destination address.
        flag l2_da, with_l2_da: 4;
        /// Hash an L4 RSS byte.
        flag l4_rss_byte, with_l4_rss_byte: 5;
        /// Hash the inner IPv6 flow label.
        flag iv6_fl, with_iv6_fl: 6;
        /// Hash the outer IPv6 flow label.
        flag ov6_fl, with_ov6_fl: 7;
        /// Hash the DSCP.
        flag dscp, with_dscp: 8;
        /// Hash the L3 protocol.
        flag l3_prot, with_l3_prot: 9;
        /// Hash the L4 protocol.
        flag l4_prot, with_l4_prot: 10;
    }
}

/// TCAM_ACT(entry, word): word 0..11 of action TCAM entry 0..64.
pub const fn rpc_tcam_act(entry: u32, word: u32) -> Reg {
    0x8880 + 0x40 * word + entry
}
/// Data words of an action TCAM entry (word 11 holds VALIDATE).
pub const TCAM_ACT_DATA_WORDS: u32 = 11;
/// The action TCAM word that holds VALIDATE.
pub const TCAM_ACT_VALIDATE_WORD: u32 = 11;

bitfields! {
    /// A TCAM data word: VALUE 15:0, MASK 31:16 (mask bit 1 = don't care).
    pub struct TcamWord(u32) {
        /// The value compared.
        field value, with_value: 15, 0;
        /// Bits that do not take part in the match.
        field mask, with_mask: 31, 16;
    }
}

impl TcamWord {
    /// A word that matches anything.
    pub const ANY: Self = Self(0xffff_0000);

    /// A word that matches exactly `value`.
    pub const fn exact(value: u16) -> Self {
        Self(value as u32)
    }

    /// Whether `key` matches this word.
    pub const fn matches(self, key: u16) -> bool {
        ((key as u32 ^ self.value()) & !self.mask() & 0xffff) == 0
    }
}

/// VALIDATE bit of the last word of a TCAM entry (MAC DA word 3, action word 11).
pub const TCAM_VALIDATE: u32 = 1 << 31;

bitfields! {
    /// Action TCAM word 1: the frame's classification as the parser saw it.
    pub struct ActKey1(u32) {
        /// MAC DA TCAM entry that matched.
        field macda_idx, with_macda_idx: 9, 5;
        /// A MAC DA TCAM entry matched.
        flag macda_valid, with_macda_valid: 10;
        /// The IP header is IPv6.
        flag ip_is_v6, with_ip_is_v6: 11;
        /// There is an IP header.
        flag ip_valid, with_ip_valid: 12;
        /// There is an outer (tunnel) IP header.
        flag outer_ip_valid, with_outer_ip_valid: 13;
        /// The L4 header is UDP (else TCP).
        flag l4_is_udp, with_l4_is_udp: 14;
        /// There is a TCP or UDP header.
        flag l4_valid, with_l4_valid: 15;
    }
}
/// Action TCAM word holding the frame classification ([`ActKey1`]).
pub const TCAM_ACT_WORD_FLAGS: u32 = 1;
/// Action TCAM word holding the L4 source port.
pub const TCAM_ACT_WORD_L4_SRC: u32 = 3;
/// Action TCAM word holding the L4 destination port.
pub const TCAM_ACT_WORD_L4_DST: u32 = 4;

/// TCAM_MACDA(entry, word): word 0..4 of MAC DA TCAM entry 0..32.
pub const fn rpc_tcam_macda(entry: u32, word: u32) -> Reg {
    0x8b80 + 0x20 * word + entry
}
/// Entries in the MAC DA TCAM.
pub const MACDA_ENTRIES: u32 = 32;
/// The MAC DA TCAM word that holds VALIDATE.
pub const TCAM_MACDA_VALIDATE_WORD: u32 = 3;

/// MAC DA TCAM plan (spec 7.1): first BMC unicast entry.
pub const MACDA_IDX_BMC_FIRST: u32 = 0;
/// MAC DA TCAM plan: last BMC unicast entry.
pub const MACDA_IDX_BMC_LAST: u32 = 3;
/// MAC DA TCAM plan: broadcast.
pub const MACDA_IDX_BROADCAST: u32 = 4;
/// MAC DA TCAM plan: first multicast entry.
pub const MACDA_IDX_MC_FIRST: u32 = 5;
/// MAC DA TCAM plan: boundary between multicast (below) and extra unicast (at and above).
pub const MACDA_IDX_BOUNDARY: u32 = 24;
/// MAC DA TCAM plan: last extra unicast entry.
pub const MACDA_IDX_UC_LAST: u32 = 29;
/// MAC DA TCAM plan: the host's primary MAC.
pub const MACDA_IDX_PRIMARY: u32 = 30;
/// MAC DA TCAM plan: promiscuous or all-multicast.
pub const MACDA_IDX_PROMISC: u32 = 31;

/// RSS indirection table `t` (0..2), entry `i` (0..256): the queue.
pub const fn rpc_rss_tbl(t: u32, i: u32) -> Reg {
    0x8d20 + 0x100 * t + i
}
/// Entries per indirection table.
pub const RSS_TBL_ENTRIES: u32 = 256;
/// Indirection tables.
pub const RSS_TBL_COUNT: u32 = 2;

// ---------------------------------------------------------------------------------------------
// MASTER
// ---------------------------------------------------------------------------------------------

/// MASTER_SPARE_0: reads a known value; all-ones here confirms the device is gone.
pub const MASTER_SPARE_0: Reg = 0xc41b;
/// **[project choice]** DMA faults: accesses outside every mapped region (free-running).
pub const MASTER_DMA_FAULT_CNT: Reg = 0xc450;
/// **[project choice]** IOVA of the last DMA fault, low 32 bits.
pub const MASTER_DMA_FAULT_ADDR_LO: Reg = 0xc451;
/// **[project choice]** IOVA of the last DMA fault, high bits.
pub const MASTER_DMA_FAULT_ADDR_HI: Reg = 0xc452;

// ---------------------------------------------------------------------------------------------
// PUL (PCIe user logic): bus mastering for the firmware mailbox
// ---------------------------------------------------------------------------------------------

/// PUL_OB_TLP_HDR_AW_CFG: outbound write (device -> host) TLP configuration.
pub const PUL_OB_TLP_HDR_AW_CFG: Reg = 0x3103d;
/// PUL_OB_TLP_HDR_AR_CFG: outbound read (host memory -> device) TLP configuration.
pub const PUL_OB_TLP_HDR_AR_CFG: Reg = 0x3103e;
/// Bus master enable bit in both PUL_OB_TLP_HDR_*_CFG registers. The firmware mailbox only
/// moves pages (reads for AR, writes for AW) while it is set ("enables DMA", spec 5).
pub const PUL_OB_TLP_HDR_BME: u32 = 1 << 18;
/// Flush bit in both PUL_OB_TLP_HDR_*_CFG registers.
pub const PUL_OB_TLP_HDR_FLUSH: u32 = 1 << 19;

// ---------------------------------------------------------------------------------------------
// MAC / PCS / SIG / MAC_STAT
// ---------------------------------------------------------------------------------------------

/// RSFEC corrected codewords (64-bit, LO then HI) of engine 0.
pub const RSFEC_CCW_LO: Reg = 0x10802;
/// RSFEC uncorrected codewords (64-bit, LO then HI) of engine 0.
pub const RSFEC_NCCW_LO: Reg = 0x10804;

/// MAC_COMMAND_CONFIG.
pub const MAC_COMMAND_CONFIG: Reg = 0x11002;
bitfields! {
    /// MAC_COMMAND_CONFIG fields.
    pub struct MacCommandConfig(u32) {
        /// Transmit enable.
        flag tx_ena, with_tx_ena: 0;
        /// Receive enable.
        flag rx_ena, with_rx_ena: 1;
        /// Accept frames for any destination at the MAC (the RPC TCAMs still filter).
        flag promisc, with_promisc: 4;
        /// MAC loopback: transmitted frames come back to this port's receive path.
        flag loopback, with_loopback: 10;
        /// Pad short frames to 60 bytes on transmit.
        flag tx_pad, with_tx_pad: 11;
        /// Disable fault handling.
        flag flt_hdl_dis, with_flt_hdl_dis: 27;
        /// Do not send pause frames.
        flag tx_pause_dis, with_tx_pause_dis: 28;
        /// Ignore received pause frames.
        flag rx_pause_dis, with_rx_pause_dis: 29;
    }
}

/// SIG_PCS_OUT0: LINK b27.
pub const SIG_PCS_OUT0: Reg = 0x11808;
/// SIG_PCS_OUT0.LINK.
pub const SIG_PCS_OUT0_LINK: u32 = 1 << 27;
/// SIG_PCS_INTR_STS: UP b0, DOWN b1 (write 1 to clear).
pub const SIG_PCS_INTR_STS: Reg = 0x11814;
/// SIG_PCS_INTR_STS.UP.
pub const SIG_PCS_INTR_LINK_UP: u32 = 1 << 0;
/// SIG_PCS_INTR_STS.DOWN.
pub const SIG_PCS_INTR_LINK_DOWN: u32 = 1 << 1;

/// A 64-bit MAC statistics counter: LO dword index; HI is LO + 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacStat {
    /// Counter name as xstats reports it.
    pub name: &'static str,
    /// Dword index of the low half.
    pub lo: Reg,
}

/// MAC statistics (spec section 8; offsets as the hardware lays them out from 0x11a00).
pub mod mac_stat {
    use super::{MacStat, Reg};

    macro_rules! stats {
        ($($id:ident = $lo:literal, $name:literal;)*) => {
            $(
                #[doc = concat!("MAC statistic `", $name, "`.")]
                pub const $id: Reg = $lo;
            )*
            /// Every MAC statistic with its xstats name.
            pub const ALL: &[MacStat] = &[$(MacStat { name: $name, lo: $lo },)*];
        };
    }

    stats! {
        RX_XOFF = 0x11a00, "mac_rx_xoff_frames";
        TX_XOFF = 0x11a04, "mac_tx_xoff_frames";
        RX_BYTES = 0x11a08, "mac_rx_bytes";
        RX_ALIGN_ERROR = 0x11a0a, "mac_rx_align_errors";
        RX_TOOLONG = 0x11a0e, "mac_rx_toolong";
        RX_OK = 0x11a12, "mac_rx_frames_ok";
        RX_BAD_FCS = 0x11a14, "mac_rx_fcs_errors";
        RX_IFINERRORS = 0x11a18, "mac_rx_if_in_errors";
        RX_MULTICAST = 0x11a1c, "mac_rx_multicast";
        RX_BROADCAST = 0x11a1e, "mac_rx_broadcast";
        RX_UNDERSIZE = 0x11a24, "mac_rx_undersize";
        RX_64 = 0x11a26, "mac_rx_size_64";
        RX_65_127 = 0x11a28, "mac_rx_size_65_127";
        RX_128_255 = 0x11a2a, "mac_rx_size_128_255";
        RX_256_511 = 0x11a2c, "mac_rx_size_256_511";
        RX_512_1023 = 0x11a2e, "mac_rx_size_512_1023";
        RX_1024_1518 = 0x11a30, "mac_rx_size_1024_1518";
        RX_1519_MAX = 0x11a32, "mac_rx_size_1519_max";
        RX_OVERSIZE = 0x11a34, "mac_rx_oversize";
        RX_JABBER = 0x11a36, "mac_rx_jabber";
        RX_FRAGMENT = 0x11a38, "mac_rx_fragments";
        RX_CONTROL = 0x11a3c, "mac_rx_control_frames";
        TX_BYTES = 0x11a3e, "mac_tx_bytes";
        TX_OK = 0x11a42, "mac_tx_frames_ok";
        TX_IFOUTERRORS = 0x11a46, "mac_tx_if_out_errors";
        TX_MULTICAST = 0x11a4a, "mac_tx_multicast";
        TX_BROADCAST = 0x11a4c, "mac_tx_broadcast";
        TX_64 = 0x11a4e, "mac_tx_size_64";
        TX_65_127 = 0x11a50, "mac_tx_size_65_127";
        TX_128_255 = 0x11a52, "mac_tx_size_128_255";
        TX_256_511 = 0x11a54, "mac_tx_size_256_511";
        TX_512_1023 = 0x11a56, "mac_tx_size_512_1023";
        TX_1024_1518 = 0x11a58, "mac_tx_size_1024_1518";
        TX_1519_MAX = 0x11a5a, "mac_tx_size_1519_max";
        TX_CONTROL = 0x11a5e, "mac_tx_control_frames";
    }
}

/// The MAC statistics block (every [`mac_stat`] register, read-only).
pub const MAC_STAT_BLOCK: core::ops::RangeInclusive<Reg> = 0x11a00..=0x11a5f;

/// RXB drop counter per FIFO (frames dropped for lack of Rx buffer space).
pub const fn rxb_drop_frms_sts(n: u32) -> Reg {
    0x8057 + n
}
/// RXB FIFO index of host traffic.
pub const RXB_FIFO_HOST: u32 = 4;

// ---------------------------------------------------------------------------------------------
// Per-queue registers
// ---------------------------------------------------------------------------------------------

/// First dword of QUEUE(0).
pub const QUEUE_BASE: Reg = 0x40000;
/// Dwords between consecutive queue blocks.
pub const QUEUE_STRIDE: u32 = 0x400;

/// A register's offset inside a queue block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct QReg(pub u32);

impl QReg {
    /// This register of queue `q`.
    pub const fn at(self, q: u32) -> Reg {
        QUEUE_BASE + QUEUE_STRIDE * q + self.0
    }
}

/// The queue index and per-queue offset of a BAR0 register inside the queue blocks.
pub const fn queue_of(reg: Reg) -> Option<(u32, QReg)> {
    if reg < QUEUE_BASE || reg >= BAR0_DWORDS {
        return None;
    }
    let rel = reg - QUEUE_BASE;
    Some((rel / QUEUE_STRIDE, QReg(rel % QUEUE_STRIDE)))
}

/// TWQ0_CTL.
pub const TWQ0_CTL: QReg = QReg(0x000);
/// TWQ1_CTL.
pub const TWQ1_CTL: QReg = QReg(0x001);
/// TWQ0_TAIL: doorbell, the new tail index.
pub const TWQ0_TAIL: QReg = QReg(0x002);
/// TWQ1_TAIL.
pub const TWQ1_TAIL: QReg = QReg(0x003);
/// TWQ0_PTRS: HEAD 31:16.
pub const TWQ0_PTRS: QReg = QReg(0x004);
/// TWQ1_PTRS.
pub const TWQ1_PTRS: QReg = QReg(0x005);
/// TWQ0_SIZE.
pub const TWQ0_SIZE: QReg = QReg(0x00a);
/// TWQ1_SIZE.
pub const TWQ1_SIZE: QReg = QReg(0x00b);
/// TWQ0_BAL.
pub const TWQ0_BAL: QReg = QReg(0x020);
/// TWQ0_BAH.
pub const TWQ0_BAH: QReg = QReg(0x021);
/// TWQ1_BAL.
pub const TWQ1_BAL: QReg = QReg(0x022);
/// TWQ1_BAH.
pub const TWQ1_BAH: QReg = QReg(0x023);
/// TWQ0_PKT_CNT: frames sent (free-running).
pub const TWQ0_PKT_CNT: QReg = QReg(0x062);
/// TWQ0_ERR_CNT: frames dropped for a bad descriptor or DMA fault.
pub const TWQ0_ERR_CNT: QReg = QReg(0x063);
/// **[project choice]** TWQ0_BYTE_CNT: bytes sent, 64-bit free-running, low half (the high
/// half is [`TWQ0_BYTE_CNT_HI`]; read high, low, high). 32 bits would wrap every 0.34 s at
/// 100 Gb/s, faster than a driver's periodic task polls.
pub const TWQ0_BYTE_CNT: QReg = QReg(0x064);
/// **[project choice]** High half of [`TWQ0_BYTE_CNT`].
pub const TWQ0_BYTE_CNT_HI: QReg = QReg(0x065);

/// TCQ_CTL.
pub const TCQ_CTL: QReg = QReg(0x080);
/// TCQ_HEAD: doorbell, the software head.
pub const TCQ_HEAD: QReg = QReg(0x081);
/// TCQ_PTRS: TAIL 31:16.
pub const TCQ_PTRS: QReg = QReg(0x082);
/// TCQ_SIZE.
pub const TCQ_SIZE: QReg = QReg(0x084);
/// TCQ_BAL.
pub const TCQ_BAL: QReg = QReg(0x0a0);
/// TCQ_BAH.
pub const TCQ_BAH: QReg = QReg(0x0a1);

/// TIM_CTL (Tx interrupt; unused in poll mode).
pub const TIM_CTL: QReg = QReg(0x0c0);
/// TIM_THRESHOLD.
pub const TIM_THRESHOLD: QReg = QReg(0x0c1);
/// TIM_MASK: 1 = masked.
pub const TIM_MASK: QReg = QReg(0x0c4);

/// RCQ_CTL.
pub const RCQ_CTL: QReg = QReg(0x200);
/// RCQ_HEAD: doorbell, the software head.
pub const RCQ_HEAD: QReg = QReg(0x201);
/// RCQ_PTRS: TAIL 31:16, HEAD 15:0.
pub const RCQ_PTRS: QReg = QReg(0x202);
/// RCQ_SIZE.
pub const RCQ_SIZE: QReg = QReg(0x204);
/// RCQ_BAL.
pub const RCQ_BAL: QReg = QReg(0x220);
/// RCQ_BAH.
pub const RCQ_BAH: QReg = QReg(0x221);

/// BDQ_CTL: RESET b0, ENABLE b1, PPQ_ENABLE b30.
pub const BDQ_CTL: QReg = QReg(0x240);
/// BDQ_HPQ_TAIL: doorbell.
pub const BDQ_HPQ_TAIL: QReg = QReg(0x241);
/// BDQ_PPQ_TAIL: doorbell.
pub const BDQ_PPQ_TAIL: QReg = QReg(0x242);
/// HPQ_PTRS: HEAD 31:16, TAIL 15:0.
pub const BDQ_HPQ_PTRS: QReg = QReg(0x243);
/// PPQ_PTRS: HEAD 31:16, TAIL 15:0.
pub const BDQ_PPQ_PTRS: QReg = QReg(0x244);
/// HPQ_SIZE.
pub const BDQ_HPQ_SIZE: QReg = QReg(0x247);
/// PPQ_SIZE.
pub const BDQ_PPQ_SIZE: QReg = QReg(0x248);
/// HPQ_BAL.
pub const BDQ_HPQ_BAL: QReg = QReg(0x260);
/// HPQ_BAH.
pub const BDQ_HPQ_BAH: QReg = QReg(0x261);
/// PPQ_BAL.
pub const BDQ_PPQ_BAL: QReg = QReg(0x262);
/// PPQ_BAH.
pub const BDQ_PPQ_BAH: QReg = QReg(0x263);

/// RDE_CTL0.
pub const RDE_CTL0: QReg = QReg(0x2a0);
/// RDE_CTL1.
pub const RDE_CTL1: QReg = QReg(0x2a1);
/// RDE_PKT_CNT: frames delivered (free-running).
pub const RDE_PKT_CNT: QReg = QReg(0x2a2);
/// RDE_PKT_ERR: frames delivered with an error (truncated, DMA fault).
pub const RDE_PKT_ERR: QReg = QReg(0x2a3);
/// RDE_CQ_DROP: frames dropped because the RCQ was full.
pub const RDE_CQ_DROP: QReg = QReg(0x2a4);
/// RDE_BDQ_DROP: frames dropped because no buffer was posted.
pub const RDE_BDQ_DROP: QReg = QReg(0x2a5);
/// **[project choice]** RDE_BYTE_CNT: bytes delivered, 64-bit free-running, low half (the
/// high half is [`RDE_BYTE_CNT_HI`]; read high, low, high).
pub const RDE_BYTE_CNT: QReg = QReg(0x2a6);
/// **[project choice]** High half of [`RDE_BYTE_CNT`].
pub const RDE_BYTE_CNT_HI: QReg = QReg(0x2a7);

/// RIM_CTL (the Rx interrupt manager): bits 7:0 = the MSI-X vector the RCQ signals.
pub const RIM_CTL: QReg = QReg(0x2c0);
/// RIM_CTL: the vector field.
pub const RIM_CTL_VECTOR: u32 = 0xff;
/// RIM_THRESHOLD: bits 14:0 = unread completions (RCDs) that make the RCQ signal.
pub const RIM_THRESHOLD: QReg = QReg(0x2c1);
/// RIM_THRESHOLD: the count field.
pub const RIM_THRESHOLD_RCD: u32 = 0x7fff;
/// RIM_MASK: 1 = masked (the RCQ never signals).
pub const RIM_MASK: QReg = QReg(0x2c4);

bitfields! {
    /// A queue CTL register (TWQ, TCQ, RCQ, BDQ).
    pub struct QueueCtl(u32) {
        /// Hold the ring in reset: pointers zeroed, nothing processed.
        flag reset, with_reset: 0;
        /// Process the ring.
        flag enable, with_enable: 1;
        /// BDQ only: the payload page queue is in use.
        flag ppq_enable, with_ppq_enable: 30;
    }
}

bitfields! {
    /// A ring SIZE register: log2(entries) & 0xf (65536 entries is 0).
    pub struct RingSize(u32) {
        /// log2 of the entry count, modulo 16.
        field log2, with_log2: 3, 0;
    }
}

/// Smallest ring, in entries.
pub const RING_MIN_ENTRIES: u32 = 16;
/// Largest ring, in entries.
pub const RING_MAX_ENTRIES: u32 = 65536;

impl RingSize {
    /// The SIZE value for a ring of `entries` (a power of two, 16..=65536).
    pub const fn for_entries(entries: u32) -> Option<Self> {
        if !entries.is_power_of_two() || entries < RING_MIN_ENTRIES || entries > RING_MAX_ENTRIES {
            return None;
        }
        Some(Self(entries.trailing_zeros() & 0xf))
    }

    /// The number of entries this value selects (0 means 65536; values below 16 entries
    /// other than 0 are not valid ring sizes and yield `None`).
    pub const fn entries(self) -> Option<u32> {
        match self.log2() {
            0 => Some(RING_MAX_ENTRIES),
            n if n >= 4 => Some(1 << n),
            _ => None,
        }
    }
}

/// Ring base address alignment (BAL bits 6:0 are zero).
pub const RING_BASE_ALIGN: u64 = 128;
/// Ring memory is allocated in multiples of this.
pub const RING_MEM_ALIGN: u64 = 4096;

bitfields! {
    /// A BDQ PTRS register (HPQ_PTRS, PPQ_PTRS): HEAD 31:16, TAIL 15:0. RCQ_PTRS has the
    /// halves the other way round ([`RcqPtrs`]); TWQ and TCQ have [`TwqPtrs`] / [`TcqPtrs`].
    pub struct RingPtrs(u32) {
        /// The ring's tail (producer index).
        field tail, with_tail: 15, 0;
        /// The ring's head (consumer index).
        field head, with_head: 31, 16;
    }
}

bitfields! {
    /// RCQ_PTRS (spec 3): the device's TAIL 31:16 and the software HEAD 15:0 it has seen.
    pub struct RcqPtrs(u32) {
        /// The software head (last valid RCQ_HEAD doorbell).
        field head, with_head: 15, 0;
        /// The device's tail (next completion slot it writes).
        field tail, with_tail: 31, 16;
    }
}

bitfields! {
    /// TWQ0_PTRS / TWQ1_PTRS (spec 3): HEAD 31:16, the next descriptor the device reads.
    pub struct TwqPtrs(u32) {
        /// The device's head.
        field head, with_head: 31, 16;
    }
}

bitfields! {
    /// TCQ_PTRS (spec 3): TAIL 31:16, the next completion slot the device writes.
    pub struct TcqPtrs(u32) {
        /// The device's tail.
        field tail, with_tail: 31, 16;
    }
}

/// RDE_CTL0.DROP_MODE: drop at once when no buffer is posted.
pub const DROP_MODE_IMMEDIATE: u32 = 0;
/// RDE_CTL0.DROP_MODE: hold frames in the Rx buffer until a buffer is posted.
pub const DROP_MODE_WAIT: u32 = 1;
/// RDE_CTL0.DROP_MODE: never drop (back-pressure the wire).
pub const DROP_MODE_NEVER: u32 = 2;

bitfields! {
    /// RDE_CTL0.
    pub struct RdeCtl0(u32) {
        /// Minimum tailroom left at the end of a buffer.
        field min_troom, with_min_troom: 19, 11;
        /// Bytes left free before the frame in its first buffer.
        field min_hroom, with_min_hroom: 28, 20;
        /// What to do when no buffer is posted: [`DROP_MODE_IMMEDIATE`] etc.
        field drop_mode, with_drop_mode: 30, 29;
        /// Split headers into HPQ buffers (page mode).
        flag en_hdr_split, with_en_hdr_split: 31;
    }
}

/// RDE_CTL1.PAYLD_PACK: one frame per buffer (**[project choice]**, see [`RdeCtl1`]).
pub const PAYLD_PACK_NONE: u32 = 0;
/// RDE_CTL1.PAYLD_PACK: pack all payloads into pages.
pub const PAYLD_PACK_ALL: u32 = 1;
/// RDE_CTL1.PAYLD_PACK: pack payloads by RSS.
pub const PAYLD_PACK_RSS: u32 = 2;

bitfields! {
    /// RDE_CTL1.
    ///
    /// **[project choice]** In one-buffer-per-frame mode (EN_HDR_SPLIT = 0 and
    /// PAYLD_PACK = 0, spec 4.5) there are no header buffers, so MAX_HDR holds the length of
    /// each PPQ buffer in bytes (1..=8191). A frame is written at MIN_HROOM in a fresh buffer
    /// and continues, from offset 0, in further buffers while it does not fit.
    pub struct RdeCtl1(u32) {
        /// PAYLD_PACK: [`PAYLD_PACK_NONE`], [`PAYLD_PACK_ALL`], [`PAYLD_PACK_RSS`].
        field payld_pack, with_payld_pack: 1, 0;
        /// Padding length (page mode).
        field padlen, with_padlen: 5, 2;
        /// Payload page cluster (page mode).
        field payld_pg_cl, with_payld_pg_cl: 8, 6;
        /// Payload offset (page mode).
        field payld_off, with_payld_off: 11, 9;
        /// Page mode: largest header in an HPQ buffer. One-buffer mode: buffer length.
        field max_hdr, with_max_hdr: 24, 12;
    }
}

// ---------------------------------------------------------------------------------------------
// BAR4: firmware mailbox
// ---------------------------------------------------------------------------------------------

/// Descriptors per mailbox ring.
pub const MBX_DESC_COUNT: u32 = 16;
/// Mailbox 0: firmware to host (host posts empty pages, firmware fills them).
pub const MBX_RX: u32 = 0;
/// Mailbox 1: host to firmware.
pub const MBX_TX: u32 = 1;
/// Size of a mailbox page.
pub const MBX_PAGE_SIZE: usize = 4096;

/// BAR4 index of the low dword of mailbox `mbx`, slot `desc`; the high dword follows.
pub const fn mbx_desc_lo(mbx: u32, desc: u32) -> Reg {
    0x6000 + 2 * (MBX_DESC_COUNT * mbx + desc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_register_addresses() {
        assert_eq!(TWQ0_CTL.at(0), 0x40000);
        assert_eq!(RCQ_HEAD.at(1), 0x40601);
        assert_eq!(BDQ_PPQ_TAIL.at(127), 0x40000 + 0x400 * 127 + 0x242);
        assert_eq!(BAR0_DWORDS, 0x60000);
        assert_eq!(queue_of(RCQ_HEAD.at(5)), Some((5, RCQ_HEAD)));
        assert_eq!(queue_of(0x3ffff), None);
        assert_eq!(queue_of(BAR0_DWORDS), None);
    }

    #[test]
    fn rpc_ram_addresses() {
        assert_eq!(rpc_tcam_macda(31, 3), 0x8b80 + 0x60 + 31);
        assert_eq!(rpc_tcam_act(63, 11), 0x8880 + 0x40 * 11 + 63);
        assert_eq!(rpc_rss_tbl(1, 255), 0x8d20 + 0x100 + 255);
        assert_eq!(rpc_rss_tbl(1, 255), 0x8f1f, "last register of RPC_RAM");
        assert_eq!(rpc_rss_key(13), 0x8419);
        assert_eq!(mbx_desc_lo(MBX_TX, 15), 0x6000 + 2 * 31);
    }

    #[test]
    fn idle_bits() {
        assert_eq!(idle_bit(qm_rcq_idle, 0), (0xc00, 1));
        assert_eq!(idle_bit(qm_twq_idle, 33), (0x801, 2));
        assert_eq!(idle_bit(qm_ppq_idle, 127), (0xc16, 1 << 31));
    }

    #[test]
    fn ring_size_encoding() {
        assert_eq!(RingSize::for_entries(16).unwrap().raw(), 4);
        assert_eq!(RingSize::for_entries(1024).unwrap().raw(), 10);
        assert_eq!(RingSize::for_entries(65536).unwrap().raw(), 0);
        assert_eq!(RingSize::from_raw(0).entries(), Some(65536));
        assert_eq!(RingSize::from_raw(3).entries(), None);
        assert!(RingSize::for_entries(8).is_none());
        assert!(RingSize::for_entries(1000).is_none());
        assert!(RingSize::for_entries(131072).is_none());
        for log2 in 4..=16 {
            let n = 1u32 << log2;
            assert_eq!(RingSize::for_entries(n).unwrap().entries(), Some(n));
        }
    }

    #[test]
    fn field_positions() {
        assert_eq!(
            MacCommandConfig::default().with_loopback(true).raw(),
            1 << 10
        );
        assert_eq!(
            MacCommandConfig::default().with_rx_pause_dis(true).raw(),
            1 << 29
        );
        assert_eq!(RmiConfig::default().with_enable(true).raw(), 1 << 12);
        assert_eq!(RmiConfig::default().with_mtu(9742).raw(), 9742 << 16);
        assert_eq!(QueueCtl::default().with_ppq_enable(true).raw(), 1 << 30);
        assert_eq!(RdeCtl0::default().with_drop_mode(2).raw(), 2 << 29);
        assert_eq!(RdeCtl0::default().with_min_hroom(0x1ff).raw(), 0x1ff << 20);
        assert_eq!(RdeCtl0::default().with_min_troom(0x1ff).raw(), 0x1ff << 11);
        assert_eq!(RdeCtl1::default().with_max_hdr(0x1fff).raw(), 0x1fff << 12);
        assert_eq!(ActTbl0::default().with_dest(ACT_DEST_BMC).raw(), 2 << 1);
        assert_eq!(ActTbl0::default().with_q_id(0xff).raw(), 0xff << 8);
        assert_eq!(ActTbl0::default().with_rss_ctxt_id(true).raw(), 1 << 30);
        assert_eq!(ActKey1::default().with_macda_idx(31).raw(), 31 << 5);
        assert_eq!(ActKey1::default().with_l4_valid(true).raw(), 1 << 15);
        assert_eq!(RingPtrs::from_raw(0x1234_5678).head(), 0x1234);
        assert_eq!(RingPtrs::from_raw(0x1234_5678).tail(), 0x5678);
        assert_eq!(RcqPtrs::from_raw(0x1234_5678).tail(), 0x1234);
        assert_eq!(RcqPtrs::from_raw(0x1234_5678).head(), 0x5678);
        assert_eq!(TwqPtrs::default().with_head(0xffff).raw(), 0xffff_0000);
        assert_eq!(TcqPtrs::default().with_tail(3).raw(), 3 << 16);
    }

    #[test]
    fn tcam_word_matching() {
        let w = TcamWord::exact(0x0102);
        assert!(w.matches(0x0102));
        assert!(!w.matches(0x0103));
        assert!(TcamWord::ANY.matches(0xbeef));
        let mc = TcamWord::default().with_value(0x0100).with_mask(0xfeff);
        assert!(mc.matches(0x0100));
        assert!(mc.matches(0x33ff));
        assert!(!mc.matches(0x0200));
    }

    #[test]
    fn mac_stats_are_distinct_and_in_block() {
        for (i, a) in mac_stat::ALL.iter().enumerate() {
            assert!((0x11a00..0x11a60).contains(&a.lo), "{}", a.name);
            for b in &mac_stat::ALL[i + 1..] {
                assert_ne!(a.lo, b.lo);
                assert_ne!(a.name, b.name);
            }
        }
    }
}
