//! One fbnic device: its register file, the side effects of register writes, its DMA table,
//! and the engine's per-device pass (Tx, RXB -> RPC -> queues, counter publishing).

use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use fbnic_hw::desc::Rcd;
use fbnic_hw::regs::{
    self, idle_bit, Bar, MacCommandConfig, QReg, QueueCtl, RcqPtrs, RdeCtl0, RdeCtl1, RingPtrs,
    RmiConfig, TcqPtrs, TwqPtrs, ACT_DEST_BMC, ACT_DEST_EI, ACT_DEST_HOST, BAR0_DWORDS,
    BAR4_DWORDS, MAX_QUEUES,
};
use fbnic_hw::{Fec, LinkSpeed, MacAddr};
use parking_lot::Mutex;

use crate::bmc::{BmcConfig, BmcHandle, BmcShared};
use crate::dma::DmaTable;
use crate::fifo::FrameFifo;
use crate::fw::{FwConfig, FwFaults, FwShared, FwState};
use crate::irq::{Msix, MsixTrigger};
use crate::lso::LsoState;
use crate::mac::{self, MacDirStats, Offer, PortRx, MAX_FRAME};
use crate::parse;
use crate::ptp::PtpClock;
use crate::queue::{self, Queue, RingState};
use crate::rpc::Rpc;
use crate::rss::Rss;
use crate::rx::{self, Delivery, RxInfo};
use crate::stats::{Counters, DeviceStats};
use crate::tx::{self, Out, TxEnv, MAX_PIECES, TX_BATCH};
use crate::wire::WireEnd;
use crate::ModelError;

/// The value MASTER_SPARE_0 reads on a live device (**[project choice]**: any value but
/// all-ones would do).
pub const MASTER_SPARE_0_VALUE: u32 = 0x0000_0000;

/// Frames the Rx side takes from the RXB per engine pass.
const RX_BATCH: usize = 512;
/// Bytes of the egress (EI) queue.
const EGRESS_BYTES: usize = 64 * 1024;

/// How a device is built.
#[derive(Clone, Debug)]
pub struct DeviceConfig {
    /// PCIe Device Serial Number (the MAC address derives from it, spec 1).
    pub dsn: u64,
    /// Link mode the firmware reports.
    pub link: LinkSpeed,
    /// FEC the firmware reports.
    pub fec: Fec,
    /// A BMC shares the port.
    pub bmc: Option<BmcConfig>,
    /// The firmware agent.
    pub fw: FwConfig,
    /// Capacity of the port's Rx buffer FIFO in bytes.
    pub rxb_bytes: usize,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        Self {
            dsn: 0x0002_1b9d_0000_0001,
            link: LinkSpeed::G100Cr2,
            fec: Fec::Rs,
            bmc: None,
            fw: FwConfig::default(),
            rxb_bytes: 256 * 1024,
        }
    }
}

impl DeviceConfig {
    /// The default configuration with this DSN.
    pub fn with_dsn(dsn: u64) -> Self {
        Self {
            dsn,
            ..Self::default()
        }
    }

    /// The port's MAC address (from the DSN).
    pub fn mac(&self) -> MacAddr {
        MacAddr::from_dsn(self.dsn)
    }
}

/// The RPC's decision for the RXB head frame.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Held {
    /// The frame's RXB sequence number.
    seq: u64,
    /// What the RPC counters say of the parse, counted when the frame leaves the RPC.
    findings: parse::Findings,
    dest: u32,
    /// Queue and completion metadata, when the frame goes to the host.
    host: Option<(u32, RxInfo)>,
}

/// State changed by register writes and used by the engine, under the device lock.
#[derive(Debug)]
pub(crate) struct DevState {
    pub dma: DmaTable,
    pub q: Box<[Queue]>,
    /// Queues with a running TWQ.
    pub active_tx: Vec<u16>,
    /// Queues whose Rx side is enabled (for publishing).
    pub active_rx: Vec<u16>,
    pub rpc: Rpc,
    pub rss: Rss,
    pub mac_tx: MacDirStats,
    pub egress: FrameFifo,
    /// The RXB head frame's classification while it waits for room in its queue (DROP_MODE
    /// WAIT): classified once at ingress, as the hardware does, not again on every pass.
    pub rx_hold: Option<Held>,
    pub cnt: Counters,
    pub scratch: Box<[u8]>,
    pub pieces: Box<[(u64, u16); MAX_PIECES]>,
    /// LSO: the gather buffer and the packets a pause stopped part way.
    pub lso: LsoState,
    /// Queues with staged RCQ completions.
    pub staged: Vec<u16>,
    /// MSI-X vectors of the Rx completion interrupts.
    pub msix: Msix,
}

impl DevState {
    fn new() -> Self {
        Self {
            dma: DmaTable::default(),
            q: vec![Queue::default(); MAX_QUEUES as usize].into_boxed_slice(),
            active_tx: Vec::new(),
            active_rx: Vec::new(),
            rpc: Rpc::new(),
            rss: Rss::default(),
            mac_tx: MacDirStats::default(),
            egress: FrameFifo::new(EGRESS_BYTES),
            rx_hold: None,
            cnt: Counters::default(),
            scratch: vec![0; MAX_FRAME + 64].into_boxed_slice(),
            pieces: Box::new([(0, 0); MAX_PIECES]),
            lso: LsoState::default(),
            staged: Vec::with_capacity(MAX_QUEUES as usize),
            msix: Msix::new(),
        }
    }
}

/// One fbnic PCI function with its port, firmware and (optionally) BMC.
#[derive(Debug)]
pub struct Device {
    pub(crate) id: u64,
    pub(crate) cfg: DeviceConfig,
    pub(crate) regs: RegFileRef,
    pub(crate) state: Mutex<DevState>,
    pub(crate) rx: Mutex<PortRx>,
    pub(crate) wire: Mutex<WireEnd>,
    pub(crate) fw: Arc<FwShared>,
    pub(crate) bmc: Option<Arc<BmcShared>>,
    pub(crate) failed: AtomicBool,
    /// The PTP clock (stamps frames; the PTP_* registers).
    pub(crate) ptp: PtpClock,
    /// Test hook: the engine panics on its next pass over this device.
    inject_panic: AtomicBool,
}

pub(crate) type RegFileRef = crate::regfile::RegFile;

/// The PTRS registers of a queue block (computed when read).
fn is_ptrs(r: regs::QReg) -> bool {
    matches!(
        r,
        regs::TWQ0_PTRS
            | regs::TWQ1_PTRS
            | regs::TCQ_PTRS
            | regs::RCQ_PTRS
            | regs::BDQ_HPQ_PTRS
            | regs::BDQ_PPQ_PTRS
    )
}

/// Which registers the device owns (writes are ignored).
fn read_only(idx: u32) -> bool {
    if let Some((_, r)) = regs::queue_of(idx) {
        return is_ptrs(r)
            || matches!(
                r,
                regs::TWQ0_PKT_CNT
                    | regs::TWQ0_ERR_CNT
                    | regs::TWQ0_BYTE_CNT
                    | regs::TWQ0_BYTE_CNT_HI
                    | regs::RDE_PKT_CNT
                    | regs::RDE_PKT_ERR
                    | regs::RDE_CQ_DROP
                    | regs::RDE_BDQ_DROP
                    | regs::RDE_BYTE_CNT
                    | regs::RDE_BYTE_CNT_HI
            );
    }
    // QM idle banks: TWQ lists 8 registers in the spec's table, the others 4 (a bit per queue).
    let idle = [
        (regs::qm_twq_idle as fn(u32) -> regs::Reg, 8),
        (regs::qm_tcq_idle, 4),
        (regs::qm_tqs_idle, 4),
        (regs::qm_tde_idle, 4),
        (regs::qm_rcq_idle, 4),
        (regs::qm_hpq_idle, 4),
        (regs::qm_ppq_idle, 4),
    ];
    idle.iter().any(|&(bank, n)| (bank(0)..bank(n)).contains(&idx))
        || matches!(idx,
            regs::RPC_CNTR_UNKN_ETYPE..=regs::RPC_CNTR_TO_BMC
            | regs::MASTER_SPARE_0
            | regs::MASTER_DMA_FAULT_CNT..=regs::MASTER_DMA_FAULT_ADDR_HI
            | regs::SIG_PCS_OUT0
            | regs::PTP_CTR_VAL_HI
            | regs::PTP_CTR_VAL_LO
        )
        || regs::MAC_STAT_BLOCK.contains(&idx)
        // The two 64-bit RSFEC counters (LO, HI each).
        || (regs::RSFEC_CCW_LO..regs::RSFEC_NCCW_LO + 2).contains(&idx)
        || (regs::rxb_drop_frms_sts(0)..regs::rxb_drop_frms_sts(8)).contains(&idx)
}

impl Device {
    pub(crate) fn new(id: u64, cfg: DeviceConfig) -> Arc<Self> {
        let bmc = cfg.bmc.clone().map(BmcShared::new);
        let dev = Arc::new(Self {
            id,
            regs: RegFileRef::new(),
            state: Mutex::new(DevState::new()),
            rx: Mutex::new(PortRx::new(cfg.rxb_bytes)),
            wire: Mutex::new(WireEnd::None),
            fw: FwShared::new(cfg.fw.clone()),
            bmc,
            failed: AtomicBool::new(false),
            ptp: PtpClock::default(),
            inject_panic: AtomicBool::new(false),
            cfg,
        });
        dev.power_on();
        dev
    }

    /// Register reset values.
    fn power_on(&self) {
        let r = &self.regs;
        r.set(regs::MASTER_SPARE_0, MASTER_SPARE_0_VALUE);
        for n in 0..8 {
            r.set(regs::qm_twq_idle(n), u32::MAX);
        }
        for bank in [
            regs::qm_tcq_idle as fn(u32) -> u32,
            regs::qm_tqs_idle,
            regs::qm_tde_idle,
            regs::qm_rcq_idle,
            regs::qm_hpq_idle,
            regs::qm_ppq_idle,
        ] {
            for n in 0..4 {
                r.set(bank(n), u32::MAX);
            }
        }
        crate::fw::reset_mailbox(r);
    }

    // -----------------------------------------------------------------------------------------
    // The transport surface
    // -----------------------------------------------------------------------------------------

    /// Reads a 32-bit register. Out of range (or a failed device): 0xffff_ffff.
    pub fn read32(&self, bar: Bar, idx: u32) -> u32 {
        let arr = match bar {
            Bar::Bar0 => &self.regs.bar0,
            Bar::Bar4 => &self.regs.bar4,
        };
        match arr.get(idx as usize) {
            Some(_) if self.failed.load(Ordering::Relaxed) => u32::MAX,
            Some(r) => match (bar, regs::queue_of(idx)) {
                (Bar::Bar0, Some((q, reg))) if is_ptrs(reg) => self.ptrs(q, reg),
                (Bar::Bar0, None) if idx == regs::PTP_CTR_VAL_HI => {
                    (self.ptp.now_ns() >> 32) as u32
                }
                (Bar::Bar0, None) if idx == regs::PTP_CTR_VAL_LO => self.ptp.now_ns() as u32,
                _ => r.load(Ordering::Acquire),
            },
            None => u32::MAX,
        }
    }

    /// A PTRS register's value, from the queue's rings now. PTRS is computed when read rather
    /// than published into the register array every pass: it shares a cache line with the
    /// doorbell the driver writes, and publishing it would bounce that line between the
    /// driver's core and the engine's on every pass.
    fn ptrs(&self, qi: u32, reg: regs::QReg) -> u32 {
        let st = self.state.lock();
        let q = &st.q[qi as usize];
        let tail = |r: regs::QReg, ring: &crate::queue::Ring| self.regs.get(r.at(qi)) & ring.mask;
        match reg {
            regs::TWQ0_PTRS => TwqPtrs::default().with_head(q.twq[0].idx).raw(),
            regs::TWQ1_PTRS => TwqPtrs::default().with_head(q.twq[1].idx).raw(),
            regs::TCQ_PTRS => TcqPtrs::default().with_tail(q.tcq.idx).raw(),
            regs::RCQ_PTRS => RcqPtrs::default()
                .with_tail(q.rcq.idx)
                .with_head(tail(regs::RCQ_HEAD, &q.rcq))
                .raw(),
            regs::BDQ_HPQ_PTRS => RingPtrs::default()
                .with_head(q.hpq.idx)
                .with_tail(tail(regs::BDQ_HPQ_TAIL, &q.hpq))
                .raw(),
            _ => RingPtrs::default()
                .with_head(q.ppq.idx)
                .with_tail(tail(regs::BDQ_PPQ_TAIL, &q.ppq))
                .raw(),
        }
    }

    /// Writes a 32-bit register and applies its side effects synchronously, in order.
    pub fn write32(&self, bar: Bar, idx: u32, val: u32) {
        if self.failed.load(Ordering::Acquire) {
            return;
        }
        match bar {
            Bar::Bar0 if idx < BAR0_DWORDS => self.write_bar0(idx, val),
            Bar::Bar4 if idx < BAR4_DWORDS => {
                self.regs.set4(idx, val);
                self.fw.bar4_written(&self.regs, idx);
            }
            _ => {}
        }
    }

    /// A pointer to a register, stable for the device's life: doorbells are plain atomic
    /// stores through it (only doorbell and other side-effect-free registers may be written
    /// this way; registers with side effects need [`write32`](Self::write32)).
    pub fn reg_ptr(&self, bar: Bar, idx: u32) -> Option<NonNull<AtomicU32>> {
        let arr = match bar {
            Bar::Bar0 => &self.regs.bar0,
            Bar::Bar4 => &self.regs.bar4,
        };
        arr.get(idx as usize).map(NonNull::from)
    }

    /// The PCIe Device Serial Number.
    pub fn dsn(&self) -> u64 {
        self.cfg.dsn
    }

    /// Maps `[iova, iova + len)` to host memory at `va` for device DMA.
    ///
    /// # Safety
    /// `[va, va + len)` must be valid for reads and writes from any thread until
    /// [`dma_unmap`](Self::dma_unmap) of this range returns (or the device is dropped). The
    /// device writes it only while it owns a buffer or ring slot under the ring protocol.
    pub unsafe fn dma_map(&self, iova: u64, va: *mut u8, len: usize) -> Result<(), ModelError> {
        self.state.lock().dma.map(iova, va, len)
    }

    /// Unmaps a range mapped by [`dma_map`](Self::dma_map) (same `iova` and `len`). When this
    /// returns, the device no longer touches the memory.
    pub fn dma_unmap(&self, iova: u64, len: usize) -> Result<(), ModelError> {
        self.state.lock().dma.unmap(iova, len)
    }

    // -----------------------------------------------------------------------------------------
    // Inspection and fault injection (tests)
    // -----------------------------------------------------------------------------------------

    /// What the device counted.
    pub fn stats(&self) -> DeviceStats {
        let (c, dma_faults, last_dma_fault) = {
            let st = self.state.lock();
            (st.cnt, st.dma.faults, st.dma.last_fault)
        };
        let (rxb_drops, rx_disabled_drops, rxb_frames) = {
            let rx = self.rx.lock();
            (rx.rxb_drops as u64, rx.disabled_drops, rx.fifo.len() as u64)
        };
        let fw = self.fw.counts();
        DeviceStats {
            dma_faults,
            last_dma_fault,
            ring_faults: c.ring_faults,
            ring_config_errors: c.ring_config_errors,
            bad_doorbells: c.bad_doorbells,
            frames_to_bmc: c.frames_to_bmc,
            host_frames_to_bmc: c.host_to_bmc,
            bmc_absent_drops: c.bmc_absent_drops,
            ei_frames: c.ei_frames,
            ei_drops: c.ei_drops,
            rxb_drops,
            rx_disabled_drops,
            rxb_frames,
            rx_queue_drops: c.rx_queue_drops,
            rx_page_mode_drops: c.rx_page_mode_drops,
            tx_mac_disabled: c.tx_mac_disabled,
            tx_no_wire: c.tx_no_wire,
            tx_to_fw: c.tx_to_fw,
            tcq_lost_completions: c.tcq_lost,
            fw_messages_seen: fw.seen,
            fw_messages_bad: fw.bad,
            fw_messages_sent: fw.sent,
            fw_messages_dropped: fw.dropped,
        }
    }

    /// Injects FEC errors: adds to the RSFEC corrected and uncorrected codeword counters.
    pub fn inject_fec_errors(&self, corrected: u64, uncorrected: u64) {
        let _st = self.state.lock();
        let r = &self.regs;
        let read = |lo: u32| (r.get(lo + 1) as u64) << 32 | r.get(lo) as u64;
        r.set64(
            regs::RSFEC_CCW_LO,
            read(regs::RSFEC_CCW_LO).wrapping_add(corrected),
        );
        r.set64(
            regs::RSFEC_NCCW_LO,
            read(regs::RSFEC_NCCW_LO).wrapping_add(uncorrected),
        );
    }

    /// Changes the firmware's fault injection (a `crash` reboots the firmware now).
    pub fn set_fw_faults(&self, f: FwFaults) {
        self.fw.set_faults(f);
    }

    /// What the firmware agent knows.
    pub fn fw_state(&self) -> FwState {
        self.fw.state()
    }

    /// The BMC, if the device has one.
    pub fn bmc(&self) -> Option<BmcHandle> {
        self.bmc.as_ref().map(|s| BmcHandle { shared: s.clone() })
    }

    /// The device's configuration.
    pub fn config(&self) -> &DeviceConfig {
        &self.cfg
    }

    /// The port's MAC address (from the DSN).
    pub fn mac_addr(&self) -> MacAddr {
        self.cfg.mac()
    }

    /// Whether the device failed (a model thread panicked while serving it): every register
    /// reads all-ones, like a lost PCI device.
    pub fn is_failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// Test hook: makes the engine panic while serving this device, to exercise the failure
    /// path (the device is marked failed and reads all-ones; other devices continue).
    #[doc(hidden)]
    pub fn debug_inject_engine_panic(&self) {
        self.inject_panic.store(true, Ordering::Release);
    }

    /// Routes MSI-X vector `v` (0..256) to `trigger` (None: the vector's messages go
    /// nowhere, as with an MSI-X table entry that is masked). The model's counterpart of
    /// programming the MSI-X table (the model's `irq` module says when a vector signals).
    pub fn set_msix_trigger(&self, v: u32, trigger: Option<MsixTrigger>) {
        self.state.lock().msix.set_trigger(v, trigger);
    }

    /// MSI-X messages the device has sent.
    pub fn msix_sent(&self) -> u64 {
        self.state.lock().msix.sent
    }

    /// Marks the device failed.
    pub(crate) fn fail(&self) {
        self.regs.poison();
        self.failed.store(true, Ordering::Release);
    }

    // -----------------------------------------------------------------------------------------
    // Register side effects
    // -----------------------------------------------------------------------------------------

    fn write_bar0(&self, idx: u32, val: u32) {
        if read_only(idx) {
            return;
        }
        let r = &self.regs;
        if let Some((q, off)) = regs::queue_of(idx) {
            r.set(idx, val);
            match off {
                regs::TWQ0_CTL | regs::TWQ1_CTL | regs::TCQ_CTL | regs::RCQ_CTL | regs::BDQ_CTL => {
                    let mut st = self.state.lock();
                    if off == regs::BDQ_CTL {
                        st.q[q as usize].bdq_ctl = QueueCtl::from_raw(val);
                    }
                    self.queue_ctl(&mut st, q, off, QueueCtl::from_raw(val));
                }
                regs::RDE_CTL0 => self.state.lock().q[q as usize].rde_ctl0 = RdeCtl0::from_raw(val),
                regs::RDE_CTL1 => self.state.lock().q[q as usize].rde_ctl1 = RdeCtl1::from_raw(val),
                _ => {}
            }
            return;
        }
        match idx {
            regs::SIG_PCS_INTR_STS => r.clear(idx, val),
            regs::PTP_CTRL => {
                r.set(idx, val);
                self.ptp.set_ctrl(regs::PtpCtrl::from_raw(val));
            }
            // A command register: it acts and reads back as 0.
            regs::PTP_ADJUST => self.ptp.adjust(regs::PtpAdjust::from_raw(val), r),
            i if (regs::intr_clear(0)..regs::intr_clear(8)).contains(&i) => {
                r.clear(regs::intr_status(i - regs::intr_clear(0)), val);
            }
            i if (regs::intr_mask_set(0)..regs::intr_mask_set(8)).contains(&i) => {
                r.or(regs::intr_mask(i - regs::intr_mask_set(0)), val);
            }
            i if (regs::intr_mask_clear(0)..regs::intr_mask_clear(8)).contains(&i) => {
                r.clear(regs::intr_mask(i - regs::intr_mask_clear(0)), val);
            }
            i if (regs::intr_cq_rearm(0)..regs::intr_cq_rearm(regs::MSIX_VECTORS)).contains(&i)
                && (i - regs::intr_cq_rearm(0)) % 4 == 0 =>
            {
                r.set(idx, val);
                let v = (i - regs::intr_cq_rearm(0)) / 4;
                let rearm = regs::CqRearm::from_raw(val);
                let mut guard = self.state.lock();
                let DevState {
                    q, active_rx, msix, ..
                } = &mut *guard;
                msix.rearm(v, rearm);
                if rearm.unmask() {
                    msix.check_vector(r, v, q, active_rx);
                }
            }
            regs::MAC_COMMAND_CONFIG => {
                // Under the device lock: an engine pass (which reads the configuration once,
                // at its start) sees all of it old or all of it new, so a frame queued after
                // this write is never sent with the old TX_PAD.
                {
                    let _st = self.state.lock();
                    r.set(idx, val);
                }
                self.update_link();
                let peer = match &*self.wire.lock() {
                    WireEnd::Cable(p) => p.upgrade(),
                    _ => None,
                };
                if let Some(p) = peer {
                    p.update_link();
                }
            }
            regs::PUL_OB_TLP_HDR_AR_CFG | regs::PUL_OB_TLP_HDR_AW_CFG => {
                r.set(idx, val);
                self.fw.kick();
            }
            i if (regs::rpc_tcam_macda(0, regs::TCAM_MACDA_VALIDATE_WORD)
                ..regs::rpc_tcam_macda(0, regs::TCAM_MACDA_VALIDATE_WORD)
                    + regs::MACDA_ENTRIES)
                .contains(&i) =>
            {
                r.set(idx, val);
                let e = i - regs::rpc_tcam_macda(0, regs::TCAM_MACDA_VALIDATE_WORD);
                self.state.lock().rpc.latch_macda(r, e);
            }
            i if (regs::rpc_tcam_act(0, regs::TCAM_ACT_VALIDATE_WORD)
                ..regs::rpc_tcam_act(0, regs::TCAM_ACT_VALIDATE_WORD) + regs::ACT_ENTRIES)
                .contains(&i) =>
            {
                r.set(idx, val);
                let e = i - regs::rpc_tcam_act(0, regs::TCAM_ACT_VALIDATE_WORD);
                self.state.lock().rpc.latch_act(r, e);
            }
            i if (regs::rpc_rss_key(0)..regs::rpc_rss_key(regs::RSS_KEY_DWORDS)).contains(&i) => {
                r.set(idx, val);
                self.state.lock().rss.key_written();
            }
            _ => r.set(idx, val),
        }
    }

    fn queue_ctl(&self, st: &mut DevState, qi: u32, off: QReg, ctl: QueueCtl) {
        let r = &self.regs;
        let q = &mut st.q[qi as usize];
        let res = match off {
            regs::TWQ0_CTL | regs::TWQ1_CTL => {
                let w = (off == regs::TWQ1_CTL) as usize;
                let db = if w == 0 {
                    regs::TWQ0_TAIL
                } else {
                    regs::TWQ1_TAIL
                };
                if ctl.reset() {
                    st.lso
                        .resume
                        .retain(|r| (r.qi, r.twq) != (qi as u16, w as u8));
                }
                let q = &mut st.q[qi as usize];
                queue::apply_ctl(
                    r,
                    qi,
                    &mut q.twq[w],
                    queue::TWQ_REGS[w],
                    ctl,
                    ctl.enable(),
                    &[db],
                )
            }
            regs::TCQ_CTL => queue::apply_ctl(
                r,
                qi,
                &mut q.tcq,
                queue::TCQ_REGS,
                ctl,
                ctl.enable(),
                &[regs::TCQ_HEAD],
            ),
            regs::RCQ_CTL => queue::apply_ctl(
                r,
                qi,
                &mut q.rcq,
                queue::RCQ_REGS,
                ctl,
                ctl.enable(),
                &[regs::RCQ_HEAD],
            ),
            _ => {
                let a = queue::apply_ctl(
                    r,
                    qi,
                    &mut q.hpq,
                    queue::HPQ_REGS,
                    ctl,
                    ctl.enable(),
                    &[regs::BDQ_HPQ_TAIL],
                );
                let b = queue::apply_ctl(
                    r,
                    qi,
                    &mut q.ppq,
                    queue::PPQ_REGS,
                    ctl,
                    ctl.enable() && ctl.ppq_enable(),
                    &[regs::BDQ_PPQ_TAIL],
                );
                a.and(b)
            }
        };
        if let Err(e) = res {
            log::warn!("queue {qi}: ring enable refused ({e:?})");
            st.cnt.ring_config_errors += 1;
        }
        let q = &mut st.q[qi as usize];
        q.dirty = true;
        // Pointers (zeroed by a reset) are visible at once.
        queue::publish(r, qi, q);
        let tx_on = q.twq.iter().any(|t| t.running());
        let twq_idle = q.twq.iter().all(|t| t.state == RingState::Off);
        let tcq_idle = q.tcq.state == RingState::Off;
        let rcq_idle = q.rcq.state == RingState::Off;
        let hpq_idle = q.hpq.state == RingState::Off;
        let ppq_idle = q.ppq.state == RingState::Off;
        let rx_on = !(rcq_idle && hpq_idle && ppq_idle);
        set_list(&mut st.active_tx, qi, tx_on);
        set_list(&mut st.active_rx, qi, rx_on);
        for (bank, idle) in [
            (regs::qm_twq_idle as fn(u32) -> u32, twq_idle),
            (regs::qm_tqs_idle, twq_idle),
            (regs::qm_tde_idle, twq_idle),
            (regs::qm_tcq_idle, tcq_idle),
            (regs::qm_rcq_idle, rcq_idle),
            (regs::qm_hpq_idle, hpq_idle),
            (regs::qm_ppq_idle, ppq_idle),
        ] {
            let (reg, bit) = idle_bit(bank, qi);
            if idle {
                r.or(reg, bit);
            } else {
                r.clear(reg, bit);
            }
        }
    }

    /// Whether this port's wire has a live partner.
    fn partner_live(&self) -> bool {
        match &*self.wire.lock() {
            WireEnd::None => false,
            WireEnd::Loop => {
                let c = MacCommandConfig::from_raw(self.regs.get(regs::MAC_COMMAND_CONFIG));
                c.tx_ena() && c.rx_ena()
            }
            WireEnd::Cable(p) => p.upgrade().is_some_and(|p| {
                let c = MacCommandConfig::from_raw(p.regs.get(regs::MAC_COMMAND_CONFIG));
                !p.is_failed() && c.tx_ena() && c.rx_ena()
            }),
            WireEnd::Generator(_) | WireEnd::Sink(_) | WireEnd::Outside(_) => true,
        }
    }

    /// Recomputes SIG_PCS_OUT0.LINK.
    pub(crate) fn update_link(&self) {
        if self.is_failed() {
            return;
        }
        let cfg = MacCommandConfig::from_raw(self.regs.get(regs::MAC_COMMAND_CONFIG));
        let up = mac::link_up(cfg, self.partner_live());
        mac::set_link(&self.regs, up);
    }

    // -----------------------------------------------------------------------------------------
    // The engine's pass
    // -----------------------------------------------------------------------------------------

    /// One engine pass over this device. Returns whether it did any work.
    pub(crate) fn service(self: &Arc<Self>) -> bool {
        if self.inject_panic.load(Ordering::Relaxed) {
            panic!("injected engine panic");
        }
        let mut guard = self.state.lock();
        let st = &mut *guard;
        let regs = &self.regs;
        let wire = self.wire.lock().clone();
        let cfg = MacCommandConfig::from_raw(regs.get(regs::MAC_COMMAND_CONFIG));
        let mut work = false;

        // ---- Tx: TWQs, EI egress and BMC frames -> MAC -> wire.
        let bmc_tx = self
            .bmc
            .as_ref()
            .is_some_and(|b| b.tx_pending.load(Ordering::Acquire));
        if !st.active_tx.is_empty() || !st.egress.is_empty() || bmc_tx {
            let peer;
            let mut peer_rx;
            let mut own_rx;
            let mut sink;
            let out = if cfg.loopback() {
                own_rx = self.rx.lock();
                Out::Port {
                    rx: &mut own_rx,
                    regs,
                }
            } else {
                match &wire {
                    WireEnd::Loop => {
                        own_rx = self.rx.lock();
                        Out::Port {
                            rx: &mut own_rx,
                            regs,
                        }
                    }
                    WireEnd::Cable(w) => match w.upgrade().filter(|p| !p.is_failed()) {
                        Some(p) => {
                            peer = p;
                            peer_rx = peer.rx.lock();
                            Out::Port {
                                rx: &mut peer_rx,
                                regs: &peer.regs,
                            }
                        }
                        None => Out::Nowhere,
                    },
                    WireEnd::Sink(s) => {
                        sink = s.inner.lock();
                        Out::Sink(&mut sink)
                    }
                    WireEnd::Outside(o) => Out::Outside(o),
                    WireEnd::Generator(_) | WireEnd::None => Out::Nowhere,
                }
            };
            let DevState {
                dma,
                q,
                active_tx,
                mac_tx,
                egress,
                cnt,
                scratch,
                pieces,
                lso,
                ..
            } = st;
            let mut env = TxEnv {
                regs,
                dma,
                cfg,
                out,
                mac: mac_tx,
                cnt,
                bmc: self.bmc.as_deref(),
                scratch,
                lso,
                ptp: &self.ptp,
                paused: false,
            };
            for &qi in active_tx.iter() {
                let queue = &mut q[qi as usize];
                for w in 0..2 {
                    if tx::service_twq(&mut env, pieces, qi as u32, queue, w, TX_BATCH) > 0 {
                        work = true;
                    }
                }
            }
            // Frames an EI action sends back out.
            while let Some(f) = egress.front() {
                let len = f.len();
                match env.transmit(len, |_, buf| {
                    buf.copy_from_slice(f);
                    true
                }) {
                    Offer::Paused => break,
                    _ => {
                        egress.pop();
                        work = true;
                    }
                }
            }
            if bmc_tx {
                if let Some(b) = self.bmc.as_ref() {
                    while let Some(f) = b.next_tx() {
                        if !f.is_empty() && f.len() <= MAX_FRAME {
                            let _ = env.transmit(f.len(), |_, buf| {
                                buf.copy_from_slice(&f);
                                true
                            });
                        }
                        work = true;
                    }
                }
            }
        }

        // ---- Rx: generator -> RXB -> RPC -> queues.
        let mut rxg = self.rx.lock();
        match &wire {
            WireEnd::Generator(g) => work |= g.feed(&mut rxg, regs, RX_BATCH),
            WireEnd::Outside(o) => work |= o.feed(&mut rxg, regs, RX_BATCH),
            _ => {}
        }
        if !rxg.fifo.is_empty() {
            let mut n = 0;
            while n < RX_BATCH {
                let seq = rxg.fifo.head_seq();
                let Some(f) = rxg.fifo.front() else { break };
                if !self.rx_frame(st, f, seq) {
                    break;
                }
                rxg.fifo.pop();
                n += 1;
            }
            if n > 0 {
                work = true;
            }
        }
        rxg.publish(regs);
        drop(rxg);

        // ---- Publish counters, then write the staged Rx completions: a completion the
        // driver sees is covered by the counters it then reads.
        st.mac_tx.publish(regs, false);
        st.rpc.publish(regs);
        st.dma.publish(regs);
        let DevState {
            q,
            active_tx,
            active_rx,
            staged,
            dma,
            cnt,
            ..
        } = st;
        for &qi in active_tx.iter().chain(active_rx.iter()) {
            queue::publish(regs, qi as u32, &mut q[qi as usize]);
        }
        for qi in staged.drain(..) {
            rx::flush(dma, &mut q[qi as usize], cnt);
        }

        // A DMA fault while flushing (a bad RCQ base) shows at once too.
        dma.publish(regs);

        // Rx completion interrupts: only while a vector is armed (a polling driver arms none).
        if st.msix.any_armed() {
            let DevState {
                q, active_rx, msix, ..
            } = st;
            let mut now = None;
            for &qi in active_rx.iter() {
                msix.check(regs, qi as u32, &mut q[qi as usize], &mut now);
            }
        }
        work
    }

    /// Asks for the next Rx buffer's first line on every running Rx queue (see
    /// [`rx::prime`]). The engine calls this once an idle spell has lasted a few passes: not
    /// while it is busy, where the PPQ line it reads is the one the driver is refilling.
    pub(crate) fn prime_rx(&self) {
        let mut guard = self.state.lock();
        let DevState {
            q, active_rx, dma, ..
        } = &mut *guard;
        for &qi in active_rx.iter() {
            rx::prime(dma, &mut q[qi as usize]);
        }
    }

    /// Classifies the RXB head frame (sequence number `seq`) and delivers it. False = it must
    /// wait (DROP_MODE); its classification is then kept for the next try.
    #[inline]
    fn rx_frame(&self, st: &mut DevState, f: &[u8], seq: u64) -> bool {
        let held = match st.rx_hold.take() {
            Some(h) if h.seq == seq => h,
            _ => match self.classify(st, f, seq) {
                Some(h) => h,
                None => return true,
            },
        };
        let regs = &self.regs;
        // `info` by reference: a copy of it would be made in memory for every frame, since
        // `rx::deliver` passes its address on (to the slow path).
        if let Some((qi, ref info)) = held.host {
            let q = &mut st.q[qi as usize];
            let res = rx::deliver(regs, &mut st.dma, &mut st.cnt, qi, q, f, info);
            if !q.rcd_stage.is_empty() && !q.stage_listed {
                q.stage_listed = true;
                st.staged.push(qi as u16);
            }
            if let Delivery::Wait = res {
                st.rx_hold = Some(held);
                return false;
            }
        }
        count_parse(&mut st.rpc, held.findings);
        if held.dest & ACT_DEST_BMC != 0 {
            st.rpc.cnt.to_bmc = st.rpc.cnt.to_bmc.wrapping_add(1);
            st.rpc.dirty = true;
            match &self.bmc {
                Some(b) => {
                    st.cnt.frames_to_bmc += 1;
                    b.receive(f);
                }
                None => st.cnt.bmc_absent_drops += 1,
            }
        }
        if held.dest & ACT_DEST_EI != 0 {
            if st.egress.push(f) {
                st.cnt.ei_frames += 1;
            } else {
                st.cnt.ei_drops += 1;
            }
        }
        true
    }

    /// The RPC's decision for a frame: None when it ends here (oversize, pause, no MAC DA
    /// match, dropped by its action; counted).
    #[inline]
    fn classify(&self, st: &mut DevState, f: &[u8], seq: u64) -> Option<Held> {
        let regs = &self.regs;
        let rmi = RmiConfig::from_raw(regs.get(regs::RPC_RMI_CONFIG));
        let cnt = &mut st.rpc.cnt;
        if f.len() > rmi.mtu() as usize {
            cnt.ovr_size = cnt.ovr_size.wrapping_add(1);
            st.rpc.dirty = true;
            return None;
        }
        if p_ethertype(f) == parse::ETH_P_PAUSE {
            // MAC control (pause) frames end at the MAC.
            return None;
        }
        let p = parse::parse(f);
        let Some(macda) = st.rpc.macda_lookup(&f[..6]) else {
            count_parse(&mut st.rpc, p.findings());
            st.rpc.cnt.macda_miss = st.rpc.cnt.macda_miss.wrapping_add(1);
            st.rpc.dirty = true;
            return None;
        };
        let act = st.rpc.classify(regs, &p, macda);
        if act.tbl0.drop() {
            count_parse(&mut st.rpc, p.findings());
            st.rpc.cnt.act_drop = st.rpc.cnt.act_drop.wrapping_add(1);
            st.rpc.dirty = true;
            return None;
        }
        let dest = act.tbl0.dest();
        let mut host = None;
        if dest & ACT_DEST_HOST != 0 {
            let hash = st.rss.hash(regs, f, &p, act.tbl1);
            let qi = if act.tbl0.q_sel() {
                act.tbl0.q_id()
            } else {
                regs.get(regs::rpc_rss_tbl(
                    act.tbl0.rss_ctxt_id() as u32,
                    hash & 0xff,
                ))
            };
            if qi >= MAX_QUEUES {
                st.cnt.rx_queue_drops += 1;
            } else {
                let sums = parse::sums(f, &p);
                let meta = Rcd::meta()
                    .with_rss_hash(hash as u64)
                    .with_l2_csum(sums.l2 as u64)
                    .with_l3_type_bits(p.l3.hw() as u64)
                    .with_l4_type_bits(p.l4.hw() as u64)
                    .with_l4_csum_unnecessary(sums.l4_ok)
                    .with_err_parser(p.err);
                let info = RxInfo {
                    meta,
                    ts: act.tbl0.ts_ena().then(|| self.ptp.stamp()),
                    action: act.entry,
                    dma_hint: act.tbl0.dma_hint(),
                };
                host = Some((qi, info));
            }
        }
        Some(Held {
            seq,
            findings: p.findings(),
            dest,
            host,
        })
    }

    /// Reads a 64-bit MAC statistic (LO/HI pair) as a driver would (hi, lo, hi).
    pub fn read_mac_stat(&self, lo: u32) -> u64 {
        loop {
            let hi = self.read32(Bar::Bar0, lo + 1);
            let l = self.read32(Bar::Bar0, lo);
            if self.read32(Bar::Bar0, lo + 1) == hi {
                return (hi as u64) << 32 | l as u64;
            }
        }
    }
}

/// Counts the parser's findings for a frame that leaves the RPC.
#[inline(always)]
fn count_parse(rpc: &mut Rpc, f: parse::Findings) {
    if f.is_empty() {
        return;
    }
    let c = &mut rpc.cnt;
    if f.contains(parse::Findings::UNKNOWN_ETYPE) {
        c.unkn_etype = c.unkn_etype.wrapping_add(1);
    }
    if f.contains(parse::Findings::IPV4_FRAG) {
        c.ipv4_frag = c.ipv4_frag.wrapping_add(1);
    }
    if f.contains(parse::Findings::IPV6_FRAG) {
        c.ipv6_frag = c.ipv6_frag.wrapping_add(1);
    }
    if f.contains(parse::Findings::TRUNC) {
        c.out_of_hdr = c.out_of_hdr.wrapping_add(1);
    }
    rpc.dirty = true;
}

fn set_list(list: &mut Vec<u16>, qi: u32, on: bool) {
    let pos = list.iter().position(|&x| x as u32 == qi);
    match (pos, on) {
        (None, true) => list.push(qi as u16),
        (Some(p), false) => {
            list.swap_remove(p);
        }
        _ => {}
    }
}

/// The outer ethertype of a frame (0 if too short).
#[inline]
fn p_ethertype(f: &[u8]) -> u16 {
    if f.len() < 14 {
        0
    } else {
        u16::from_be_bytes([f[12], f[13]])
    }
}

#[cfg(test)]
mod bench {
    //! The engine's per-packet cost on one thread, without cross-core traffic: the test
    //! plays the driver between engine passes it runs itself.
    use super::*;
    use fbnic_hw::desc::{BdqDesc, Twd};
    use fbnic_hw::regs::*;
    use std::sync::atomic::AtomicU64;

    #[repr(C, align(4096))]
    struct Page([AtomicU64; 512]);

    struct Mem {
        pages: Box<[Page]>,
        iova: u64,
    }

    impl Mem {
        fn new(dev: &Device, iova: u64, bytes: usize) -> Self {
            let n = bytes.div_ceil(4096);
            let pages: Box<[Page]> = (0..n)
                .map(|_| Page(std::array::from_fn(|_| AtomicU64::new(0))))
                .collect();
            // SAFETY: the pages outlive the devices in this test (dropped after them... the
            // devices are dropped first at the end of the test function).
            unsafe { dev.dma_map(iova, pages.as_ptr() as *mut u8, n * 4096) }.unwrap();
            Self { pages, iova }
        }
        fn w(&self, off: usize, v: u64) {
            self.pages[off / 4096].0[(off % 4096) / 8].store(v, Ordering::Relaxed)
        }
        fn r(&self, off: usize) -> u64 {
            self.pages[off / 4096].0[(off % 4096) / 8].load(Ordering::Relaxed)
        }
    }

    #[test]
    #[ignore]
    fn engine_cost_single_thread() {
        let a = Device::new(0, DeviceConfig::with_dsn(1));
        let b = Device::new(1, DeviceConfig::with_dsn(2));
        *a.wire.lock() = WireEnd::Cable(Arc::downgrade(&b));
        *b.wire.lock() = WireEnd::Cable(Arc::downgrade(&a));
        let on = MacCommandConfig::default()
            .with_tx_ena(true)
            .with_rx_ena(true)
            .with_tx_pad(true)
            .raw();
        for d in [&a, &b] {
            d.write32(Bar::Bar0, MAC_COMMAND_CONFIG, on);
            d.write32(
                Bar::Bar0,
                RPC_RMI_CONFIG,
                RmiConfig::default().with_enable(true).with_mtu(9742).raw(),
            );
        }
        let mac = b.cfg.mac().0;
        for (w, i) in [(2u32, 0usize), (1, 2), (0, 4)] {
            b.write32(
                Bar::Bar0,
                rpc_tcam_macda(30, w),
                u16::from_be_bytes([mac[i], mac[i + 1]]) as u32,
            );
        }
        b.write32(Bar::Bar0, rpc_tcam_macda(30, 3), TCAM_VALIDATE);
        let key = fbnic_hw::toeplitz::MS_DEFAULT_KEY;
        for i in 0..10u32 {
            let k = &key[i as usize * 4..];
            b.write32(
                Bar::Bar0,
                rpc_rss_key(i),
                u32::from_be_bytes([k[0], k[1], k[2], k[3]]),
            );
        }
        for i in 0..256 {
            b.write32(Bar::Bar0, rpc_rss_tbl(0, i), i % 4);
        }
        b.write32(
            Bar::Bar0,
            RPC_ACT_TBL0_DEFAULT,
            ActTbl0::default().with_dest(ACT_DEST_HOST).raw(),
        );
        b.write32(Bar::Bar0, RPC_ACT_TBL1_DEFAULT, 0xf);
        let n = 4096u32;
        let twq = Mem::new(&a, 0x1000_0000, n as usize * 8);
        let tcq = Mem::new(&a, 0x1100_0000, n as usize * 8);
        let tbuf = Mem::new(&a, 0x1200_0000, 256 * 64);
        let size = RingSize::for_entries(n).unwrap().raw();
        for (ctl, bal, sz, m) in [
            (TWQ0_CTL, TWQ0_BAL, TWQ0_SIZE, &twq),
            (TCQ_CTL, TCQ_BAL, TCQ_SIZE, &tcq),
        ] {
            a.write32(Bar::Bar0, ctl.at(0), 1);
            a.write32(Bar::Bar0, bal.at(0), m.iova as u32);
            a.write32(Bar::Bar0, sz.at(0), size);
            a.write32(Bar::Bar0, ctl.at(0), 2);
        }
        let mut rcqs = Vec::new();
        for q in 0..4u32 {
            let rcq = Mem::new(&b, 0x2000_0000 + q as u64 * 0x100_0000, n as usize * 8);
            let ppq = Mem::new(&b, 0x3000_0000 + q as u64 * 0x100_0000, 2048 * 8);
            let bufs = Mem::new(&b, 0x4000_0000 + q as u64 * 0x100_0000, 2048 * 256);
            b.write32(
                Bar::Bar0,
                RDE_CTL0.at(q),
                RdeCtl0::default().with_min_hroom(64).raw(),
            );
            b.write32(
                Bar::Bar0,
                RDE_CTL1.at(q),
                RdeCtl1::default().with_max_hdr(256).raw(),
            );
            b.write32(Bar::Bar0, BDQ_CTL.at(q), 1);
            b.write32(Bar::Bar0, BDQ_PPQ_BAL.at(q), ppq.iova as u32);
            b.write32(Bar::Bar0, BDQ_PPQ_SIZE.at(q), 11);
            b.write32(
                Bar::Bar0,
                BDQ_CTL.at(q),
                QueueCtl::default()
                    .with_enable(true)
                    .with_ppq_enable(true)
                    .raw(),
            );
            b.write32(Bar::Bar0, RCQ_CTL.at(q), 1);
            b.write32(Bar::Bar0, RCQ_BAL.at(q), rcq.iova as u32);
            b.write32(Bar::Bar0, RCQ_SIZE.at(q), size);
            b.write32(Bar::Bar0, RCQ_CTL.at(q), 2);
            for i in 0..2048u64 {
                ppq.w(
                    i as usize * 8,
                    BdqDesc::new(bufs.iova + i * 256, i as u16).raw(),
                );
            }
            b.write32(Bar::Bar0, BDQ_PPQ_TAIL.at(q), 2047);
            rcqs.push((rcq, ppq, bufs));
        }
        for i in 0..256u16 {
            let mut f = crate::parse::tests::ipv4_frame(
                false,
                [10, 0, 0, 1],
                [10, 0, 1, 2],
                1000 + i,
                80,
                18,
            );
            f[..6].copy_from_slice(&mac);
            for (k, c) in f.chunks(8).enumerate() {
                let mut w = [0u8; 8];
                w[..c.len()].copy_from_slice(c);
                tbuf.w(i as usize * 64 + k * 8, u64::from_le_bytes(w));
            }
        }
        let batch = 1024u32;
        let rounds: u32 = std::env::var("FBNIC_BENCH_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300);
        let mut tail = 0u32;
        let mut rcq_head = [0u32; 4];
        let mut ppq_tail = [2047u32; 4];
        let mut busy = std::time::Duration::ZERO;
        for _ in 0..rounds {
            for k in 0..batch {
                let meta = Twd::meta()
                    .with_dest_mac(true)
                    .with_req_completion(k + 1 == batch);
                twq.w(tail as usize * 8, meta.raw());
                let al = Twd::al(tbuf.iova + (k as u64 & 255) * 64, 60, true);
                twq.w(((tail + 1) & (n - 1)) as usize * 8, al.raw());
                tail = (tail + 2) & (n - 1);
            }
            a.write32(Bar::Bar0, TWQ0_TAIL.at(0), tail);
            let t = std::time::Instant::now();
            while a.service() | b.service() {}
            busy += t.elapsed();
            // The driver: consume completions, repost buffers.
            for q in 0..4 {
                let used = RcqPtrs::from_raw(b.read32(Bar::Bar0, RCQ_PTRS.at(q))).tail();
                let got = used.wrapping_sub(rcq_head[q as usize]) & (n - 1);
                rcq_head[q as usize] = used;
                b.write32(Bar::Bar0, RCQ_HEAD.at(q), used);
                ppq_tail[q as usize] = (ppq_tail[q as usize] + got / 2) & 2047;
                b.write32(Bar::Bar0, BDQ_PPQ_TAIL.at(q), ppq_tail[q as usize]);
            }
            a.write32(
                Bar::Bar0,
                TCQ_HEAD.at(0),
                TcqPtrs::from_raw(a.read32(Bar::Bar0, TCQ_PTRS.at(0))).tail(),
            );
        }
        let pkts: u32 = (0..4).map(|q| b.read32(Bar::Bar0, RDE_PKT_CNT.at(q))).sum();
        assert_eq!(pkts, batch * rounds);
        let _ = rcqs[0].0.r(0);
        println!(
            "single-thread engine cost: {:.1} ns/packet ({:.1} Mpps), 64B, RSS over 4 queues, cabled pair",
            busy.as_nanos() as f64 / pkts as f64,
            pkts as f64 / busy.as_nanos() as f64 * 1e3
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_registers_are_the_device_owned_ones() {
        // QM idle banks (TWQ 8 registers, the others 4), each with its neighbours.
        for (first, last) in [
            (0x800, 0x807),
            (0x821, 0x824),
            (0x830, 0x833),
            (0x853, 0x856),
            (0xc00, 0xc03),
            (0xc0f, 0xc12),
            (0xc13, 0xc16),
        ] {
            for r in first..=last {
                assert!(read_only(r), "{r:#x}");
            }
        }
        for r in [
            0x808, 0x820, 0x825, 0x82f, 0x834, 0x852, 0x857, 0xbff, 0xc04, 0xc17,
        ] {
            assert!(!read_only(r), "{r:#x}");
        }
        // MAC statistics, RSFEC counters, RXB drop counters, DMA fault and link status.
        assert!(read_only(regs::mac_stat::RX_XOFF) && read_only(regs::mac_stat::TX_CONTROL + 1));
        assert!(!read_only(0x119ff) && !read_only(0x11a60));
        for r in regs::RSFEC_CCW_LO..regs::RSFEC_NCCW_LO + 2 {
            assert!(read_only(r), "{r:#x}");
        }
        assert!(!read_only(regs::RSFEC_CCW_LO - 1) && !read_only(regs::RSFEC_NCCW_LO + 2));
        assert!(read_only(regs::rxb_drop_frms_sts(7)) && !read_only(regs::rxb_drop_frms_sts(8)));
        assert!(read_only(regs::MASTER_DMA_FAULT_CNT) && read_only(regs::SIG_PCS_OUT0));
        // Queue blocks: PTRS and counters are the device's, control and doorbells are not.
        for r in [
            regs::TWQ0_PTRS,
            regs::RCQ_PTRS,
            regs::BDQ_PPQ_PTRS,
            regs::RDE_BYTE_CNT_HI,
        ] {
            assert!(read_only(r.at(5)), "{r:?}");
        }
        for r in [
            regs::TWQ0_CTL,
            regs::TWQ0_TAIL,
            regs::RCQ_HEAD,
            regs::BDQ_PPQ_TAIL,
        ] {
            assert!(!read_only(r.at(5)), "{r:?}");
        }
    }
}
