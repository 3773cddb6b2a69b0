//! fbnic-model: an open, faithful model of Meta's fbnic NIC (PCI 1d9b:0013).
//!
//! The model is the device spec (`shared/spec/fbnic-device.md`) made executable. A driver
//! talks to a [`Device`] exactly as to silicon over PCI: 32-bit register reads and writes on
//! BAR0 and BAR4 ([`Device::read32`], [`Device::write32`]), doorbells as plain atomic stores
//! through [`Device::reg_ptr`], DMA into host memory it mapped into the device's region table
//! ([`Device::dma_map`], an IOMMU), and the PCIe DSN ([`Device::dsn`]). Everything else on
//! `Device` ([`stats`](Device::stats), [`fw_state`](Device::fw_state),
//! [`set_fw_faults`](Device::set_fw_faults), [`bmc`](Device::bmc)) is for tests.
//!
//! ```no_run
//! use fbnic_model::{DeviceConfig, Fabric, FabricConfig};
//! let fabric = Fabric::new(FabricConfig::default());
//! let a = fabric.add_device(DeviceConfig::with_dsn(0x0002_1b9d_0000_0001));
//! let b = fabric.add_device(DeviceConfig::with_dsn(0x0002_1b9d_0000_0002));
//! fabric.connect(&a, &b).unwrap();
//! // ... a driver programs a and b through read32/write32/reg_ptr/dma_map ...
//! fabric.shutdown();
//! ```
//!
//! # Architecture
//!
//! **Threads.** A [`Fabric`] owns one *engine* thread that runs the data path of all its
//! devices (optionally pinned with [`FabricConfig::engine_cpu`]), and each device has a
//! *firmware agent* thread. The engine, per pass and per device: Tx (TWQs, EI egress, BMC
//! frames -> MAC -> wire), generator feed, RXB -> RPC -> queues, then publishes counters. It
//! spins while there is work and, after [`IdlePolicy::spin`] without work, sleeps
//! [`IdlePolicy::sleep`] between passes. The firmware agent sleeps on a condvar, woken by BAR4
//! and PUL writes and by its own timers. [`Fabric::shutdown`] (also on drop) stops and joins
//! every thread. A panic in a model thread is caught at the top: it is logged, the device is
//! marked failed and from then on reads all-ones (MASTER_SPARE_0 included), like a lost PCI
//! device; other devices go on.
//!
//! **Logging** goes through the `log` crate (targets `fbnic_model::*`): panics of model
//! threads (error), DMA faults (warn; the 1st, 2nd, 4th, 8th... only), refused ring enables
//! (warn), firmware boots (info), undecodable mailbox messages (debug). Nothing is logged per
//! packet.
//!
//! **Locks.** Each device has one lock over its state (rings, TCAMs, DMA table, counters). The
//! engine takes it once per pass (never per packet); register writes with side effects take it
//! too, so their effects are synchronous and ordered, never dependent on the engine polling at
//! the right moment. A port's receive side (MAC Rx counters + RXB) has its own leaf lock so a
//! cable peer's Tx can fill it; the order is always device state -> RXB, and only the engine
//! ever holds two locks, so there is no lock-order cycle. The firmware agent takes its own lock,
//! then the device lock only for mailbox DMA.
//!
//! **Register file.** BAR0 ([`fbnic_hw::regs::BAR0_DWORDS`]) and BAR4 are `Box<[AtomicU32]>`,
//! so register pointers are stable. Reads are plain atomic loads: the engine keeps idle bits,
//! link bits and counters current in the array, once per pass. PTRS registers are computed
//! when read (under the device lock), not published: each shares a cache line with the
//! doorbell the driver writes, and publishing them every pass would bounce that line between
//! the driver's core and the engine's. Registers the device owns (PTRS, counters, idle bits,
//! link status, MASTER_SPARE_0, DMA fault registers) ignore writes.
//!
//! **DMA.** [`Device::dma_map`] registers `[iova, iova + len) -> va`; overlaps are refused; up
//! to [`MAX_REGIONS`] regions, found through a small hashed cache of recent regions, then a
//! binary search. Ring memory is translated once per ring and generation of the table. An
//! access may span adjacent regions. An access that touches any unmapped byte is a DMA fault:
//! counted (MASTER_DMA_FAULT_CNT, first unmapped IOVA in MASTER_DMA_FAULT_ADDR_LO/HI), nothing
//! else done with it (no partial write). Descriptor words are 64-bit atomics (Acquire reads,
//! Release writes); frame data is copied before the completion that hands it over.
//!
//! **Fast path.** Per pass the engine takes up to 256 packets from each running TWQ and up to
//! 512 frames from each port's RXB. Nothing is allocated, locked, hashed or dispatched
//! dynamically per packet: DMA lookups go through a direct-mapped cache of regions (and ring
//! memory through a per-ring translation), the action TCAM through a table precomputed per
//! TCAM generation, the Toeplitz hash through per-byte tables; counters are kept in plain
//! integers and published once per pass; RCQ completions are staged and written in order at
//! the end of the Rx pass (after the frame data), so each ring cache line is written once.
//!
//! Measured on the 2-core development machine (64-byte frames, RSS over 4 queues, a cabled
//! pair, release build; best of several runs on a shared machine): the engine costs about
//! 54-56 ns per packet on one core (Tx of one device, cable, RPC, Rx of the other: 17.8-18.6
//! Mpps; `device::bench::engine_cost_single_thread`). Driven by an in-test driver on the other
//! core the pair carries 9-12.3 Mpps end to end (`tests/throughput.rs`; the engine is the
//! bottleneck there at 80-110 ns of busy time per packet, because descriptor, buffer and
//! completion cache lines cross cores). The project's target is 20 Mpps on one core.
//!
//! # What is modelled
//!
//! - Queues (spec 3, 4): TWQ0 and TWQ1 (META \[OPT_META\] AL* LAST_AL; TX_PAD; REQ_CSO with the
//!   pseudo-header sum taken from the checksum field; REQ_LSO segmentation of TCP and UDP
//!   over IPv4/IPv6 (`lso` module docs); REQ_TS timestamps as TCD type 1
//!   (from the PTP clock, `ptp` module);
//!   DEST_MAC/DEST_BMC/DEST_FW), TCQ (head-update completions with the DONE phase; a full TCQ
//!   stalls the TWQ), PPQ buffers and RCQ completions in one-buffer-per-frame mode (PAY_AL per
//!   buffer, OPT_META when the action asks for a timestamp, META with RSS hash, L2 checksum,
//!   L3/L4 types, L4_CSUM_UNNECESSARY, ERR_PARSER, ERR_TRUNCATED), header-split mode
//!   (EN_HDR_SPLIT=1, PAYLD_PACK=0: the header in one HPQ buffer with HDR_AL, split where the
//!   action's DMA_HINT says, the payload in PPQ buffers with PAY_ALs; `rx` module docs),
//!   DROP_MODE immediate / wait / never, ring RESET/ENABLE with validation, doorbells, QM idle
//!   bits, per-queue counters.
//! - MAC: TX_ENA/RX_ENA, PROMISC (accepted, no effect: the TCAMs filter), LOOPBACK, TX_PAD,
//!   pause (TX_PAUSE_DIS/RX_PAUSE_DIS), link status and latched link interrupts, IEEE/RMON
//!   counters ([`fbnic_hw::regs::mac_stat`]), runt/oversize drops; RSFEC counters read 0.
//! - RXB: a bounded FIFO per port ([`DeviceConfig::rxb_bytes`]) with pause back-pressure and
//!   a drop counter; with DROP_MODE wait it holds frames head-of-line, so a cabled pair is
//!   lossless when the driver asks for it.
//! - RPC (spec 7): parser (Ethernet, one VLAN tag, IPv4 with options and fragments, IPv6 with
//!   a fragment header, TCP, UDP), MTU, MAC DA TCAM (32), action TCAM (64) + action table +
//!   defaults, DEST host/BMC/EI, Q_SEL, RSS (Toeplitz over IP_SRC/IP_DST/L4_SRC/L4_DST, two
//!   indirection tables), RPC counters.
//! - Firmware (spec 5): signs of life, the mailbox rings, every message of the spec's table
//!   (see [`FwConfig`], [`FwFaults`], [`FwState`]), a BMC stub ([`BmcHandle`]).
//! - Wires (spec 9): cable, loopback plug, [`Generator`], sink ([`SinkHandle`]), a partner
//!   outside the model ([`Outside`], e.g. a TAP interface; frames from it padded to 60 bytes),
//!   none.
//!
//! # Not modelled
//!
//! - Payload packing (RDE_CTL1.PAYLD_PACK!=0, several frames' payloads in one PPQ page):
//!   frames for such a queue are dropped and counted in RDE_PKT_ERR (and
//!   [`DeviceStats::rx_page_mode_drops`]). PAYLD_OFF and PADLEN are ignored.
//! - Interrupts other than INTR_STATUS(0) bit 0 (the firmware mailbox) and the Rx completion
//!   interrupts (RIM, INTR_CQ_REARM Rx side, INTR_MASK; see the `irq` module): the TIM (Tx
//!   completion) registers and the Tx timeout are plain storage, MSIX_CTRL maps nothing.
//! - The Tx classifier (TCE) and its TCAM: host frames reach the BMC only with TWD DEST_BMC.
//! - IP address TCAMs, tunnels (OUTER_IP_VALID is never set), IPv6 extension headers other
//!   than the fragment header, ACT_TBL1 hash fields other than the four address/port ones.
//! - FCS: wire frames carry none; MAC counters count 4 FCS bytes per frame.
//! - Firmware upgrade and coredumps (answered with an error / "not available").
//!
//! # Project choices
//!
//! Items the spec leaves open, decided here (each also documented where it lives):
//! - DMA mappings must have `va` congruent to `iova` modulo 8 (as IOMMU page offsets are), so
//!   descriptor words are naturally aligned atomics.
//! - Ring ENABLE validates SIZE (log2 4..=15 or 0) and base alignment (128 bytes, inside the
//!   46-bit space); whether the memory is mapped is checked at use. A refused enable is counted
//!   ([`DeviceStats::ring_config_errors`]); a DMA fault on ring memory stops that ring
//!   ([`DeviceStats::ring_faults`]) until RESET or a fresh ENABLE. RESET also zeroes the ring's
//!   doorbell registers. Clearing ENABLE without RESET keeps the pointers. A queue's idle bits
//!   read 1 exactly when its rings are disabled (nothing is ever in flight between passes).
//!   QM_TWQ_IDLE(4..7) read all-ones.
//! - A doorbell value beyond its ring is ignored and counted once (TWQ: in TWQ0_ERR_CNT;
//!   all: [`DeviceStats::bad_doorbells`]).
//! - Completion rings keep one slot free (full = `size - 1` entries outstanding).
//! - TWD: at most 64 address pieces per packet; a packet with no DEST bit goes to the MAC;
//!   TWQ1 packets are counted in the queue's TWQ0_* counters; with REQ_CSO and L3_TYPE IPv4 the
//!   IPv4 header checksum is also computed; a UDP checksum that computes to 0 is sent as
//!   0xffff; a ring full of descriptors with no complete packet is consumed as malformed.
//! - A TCQ that is not running loses completions ([`DeviceStats::tcq_lost_completions`]).
//! - Rx one-buffer mode: at most 64 buffers per frame (and never more than fit an empty RCQ);
//!   a frame cut short is delivered with ERR_TRUNCATED, every buffer used is returned through
//!   its PAY_AL. The frame's META reports the matching action entry in OPT_META when present.
//!   UDP over IPv4 with a zero checksum is not reported as verified. First fragments keep
//!   their L4 header for classification (no checksum verification); later fragments have none.
//! - Rx header-split mode: ACT_TBL0.DMA_HINT picks the split point (hint & 4: after the
//!   TCP/UDP header, else & 2: after the IP header, else & 1: after the Ethernet header, else
//!   a length split at MAX_HDR); a frame without that header falls back a layer (L4 -> L3 ->
//!   L2 -> length split) and HDR_AL DMA_HINT reports the layer used (4/2/1/0). The header
//!   (at most MAX_HDR bytes; OVERFLOW when the split point is past it) goes at MIN_HROOM in
//!   one HPQ buffer; the payload fills PPQ buffers of 4096 >> PAYLD_PG_CL bytes from offset 0,
//!   MIN_TROOM unused at each end, one PAY_AL each. The 64-buffer bound counts both kinds.
//! - Action TCAM key: word 1 = ActKey1 (bits 4:0 read 0), words 3/4 = L4 ports, all other words
//!   read 0 (the rpc module's source docs). TCAM entries latch their
//!   staged words when their VALIDATE word is written.
//! - MAC: a frame reaching a port whose MAC has RX_ENA clear, or whose RMI ENABLE is clear, is
//!   dropped and counted in [`DeviceStats::rx_disabled_drops`]; frames sent while TX_ENA is
//!   clear are consumed and dropped ([`DeviceStats::tx_mac_disabled`]); runts (< 60 bytes
//!   without FCS) and frames over 9742 bytes are dropped by the receiving MAC. MAC control
//!   (ethertype 0x8808) frames are counted and end at the MAC. Pause stalls the sender for as
//!   long as the receiver's RXB lacks room; each stalled pass counts one XOFF each way.
//! - Firmware: power-on mailbox state written by the device; a ring that holds exactly the
//!   reset pattern after a BAR4 write sends the firmware's position back to slot 0; a crash
//!   keeps ring positions, drops pending responses and ownership; TIME and UPTIME are in ms;
//!   QSFP reads serve bank 0 page 0 (offsets 0..256) of a stored 100G DAC module and answer
//!   anything else with ERROR -EINVAL; upgrade requests answer -EOPNOTSUPP; the mailbox only
//!   moves pages while the PUL bus-master enable bits are set.
//! - Generators and outside partners honour pause; BMC transmissions go through the port's MAC.
//! - MASTER_SPARE_0 reads [`MASTER_SPARE_0_VALUE`].
#![warn(missing_docs)]

mod bmc;
mod csum;
mod device;
mod dma;
mod fabric;
mod fifo;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod fw;
mod irq;
mod lso;
mod mac;
mod parse;
mod prefetch;
mod ptp;
mod queue;
mod regfile;
mod rpc;
mod rss;
mod rx;
mod stats;
mod tx;
mod wire;

pub use bmc::{BmcConfig, BmcHandle};
pub use device::{Device, DeviceConfig, MASTER_SPARE_0_VALUE};
pub use dma::MAX_REGIONS;
pub use fabric::{Fabric, FabricConfig, IdlePolicy};
pub use fbnic_hw::regs::Bar;
pub use fw::{FwConfig, FwFaults, FwState, MacSync, HISTORY_LEN};
pub use irq::MsixTrigger;
pub use stats::DeviceStats;
pub use wire::{GenFn, GenSource, Generator, GeneratorHandle, Outside, OutsideHandle, SinkHandle};

/// The message of a caught panic (for the log line of the thread that caught it).
pub(crate) fn panic_text(e: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = e.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = e.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

/// Errors of the model's control API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelError {
    /// A DMA mapping is empty, wraps, leaves the 46-bit space or breaks the alignment rule.
    InvalidMapping(&'static str),
    /// A DMA mapping overlaps an existing one.
    Overlap,
    /// No mapping starts at that IOVA with that length.
    NotMapped,
    /// The region table is full.
    TooManyRegions,
    /// The device does not belong to this fabric (or was removed).
    NotInFabric,
    /// A cable needs two different devices.
    SameDevice,
}

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidMapping(why) => write!(f, "invalid DMA mapping: {why}"),
            Self::Overlap => f.write_str("DMA mapping overlaps an existing one"),
            Self::NotMapped => f.write_str("no such DMA mapping"),
            Self::TooManyRegions => f.write_str("DMA region table full"),
            Self::NotInFabric => f.write_str("device is not part of this fabric"),
            Self::SameDevice => f.write_str("a cable needs two different devices"),
        }
    }
}

impl std::error::Error for ModelError {}
