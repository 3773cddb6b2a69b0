//! A port: one fbnic PCI function and its control path.
//!
//! [`Port::start`] is the firmware handshake and bring-up of spec 5.2, in order:
//! signs of life and mailbox, capabilities (version check, BMC, link mode), ownership, first
//! heartbeat, BMC rules, RSS, link, queues, Rx filters. [`Port::stop`] runs it in reverse and
//! ends by releasing ownership. [`Port::service`] is the periodic task (heartbeat, link,
//! counters, firmware restart recovery). Every method takes `&self`: control state sits behind
//! one mutex, so ethdev callbacks and the EAL alarm thread can share a port.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use fbnic_hw::link::{Fec, LinkSpeed};
use fbnic_hw::mac::MacAddr;
use fbnic_hw::msg::Msg;
use fbnic_hw::regdump;
use fbnic_hw::regs::{self, Bar, MacCommandConfig, RmiConfig};
use fbnic_hw::version::FwVersion;

use crate::error::{Error, Result};
use crate::flow::{FlowId, FlowRule, FlowTable};
use crate::fw::{Firmware, FwEvent, FwTimeouts};
use crate::module::{page_reads, ModuleInfo};
use crate::ptp::{self, Stamps};
use crate::rpc::{self, BmcInfo, HostRules, MacDaTable, RssConfig, RssHash, RxFilters, SplitHdrs};
use crate::stats::HwCounters;
use crate::transport::{DmaAllocator, Transport};

/// Smallest MTU accepted (**[project choice]** for DPDK, spec 1).
pub const MIN_MTU: u16 = 68;
/// Largest frame the device handles.
pub const MAX_FRAME: u32 = 9742;
/// Ethernet header plus one VLAN tag: the frame overhead on top of the MTU.
pub const FRAME_OVERHEAD: u32 = 14 + 4;
/// Largest MTU accepted.
pub const MAX_MTU: u16 = (MAX_FRAME - FRAME_OVERHEAD) as u16;
/// Default MTU.
pub const DEFAULT_MTU: u16 = 1500;
/// RPC_RMI_CONFIG overhead bytes (spec 6).
const RMI_OH_BYTES: u32 = 20;

/// The queues of a port, as whoever owns them (the ethdev glue, a test) holds them.
pub trait QueueSet {
    /// Starts every configured queue (rings programmed, Rx buffers posted). `rss` is what the
    /// device hashes (an Rx queue may report hash validity per packet type from it).
    fn start_queues(&mut self, rss: RssHash) -> Result<()>;
    /// Stops every queue and takes back every buffer.
    fn stop_queues(&mut self) -> Result<()>;
}

/// Where [`Port::service_notify`] is in restoring the port after a firmware restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FwRecovery {
    /// A restart was seen: ownership and the rules are being restored.
    Started,
    /// Restored: the port is as it was before the restart.
    Succeeded,
    /// Restoring failed (logged): the firmware does not serve the port (no ownership, or
    /// rules not written); stop and start it, or reset it.
    Failed,
}

/// Link state as the driver reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkStatus {
    /// The PCS reports link.
    pub up: bool,
    /// The mode the firmware reported (known after the first start).
    pub speed: Option<LinkSpeed>,
    /// The FEC the firmware reported.
    pub fec: Option<Fec>,
}

/// Port settings chosen before start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSettings {
    /// Rx queues the port uses.
    pub nb_rx_queues: u16,
    /// Tx queues the port uses.
    pub nb_tx_queues: u16,
    /// MAC loopback (DPDK `lpbk_mode` 1).
    pub loopback: bool,
    /// The MTU.
    pub mtu: u16,
    /// Stamp every received frame (DPDK `RTE_ETH_RX_OFFLOAD_TIMESTAMP`).
    pub rx_timestamp: bool,
    /// Link speeds (Mbit/s) the application accepts (DPDK `link_speeds`); empty: any. The
    /// device does not negotiate: the link runs at the mode of the module in its cage,
    /// which the firmware reports, and a start fails if that mode is not among these.
    pub link_speeds: Vec<u32>,
}

impl Default for PortSettings {
    fn default() -> Self {
        Self {
            nb_rx_queues: 1,
            nb_tx_queues: 1,
            loopback: false,
            mtu: DEFAULT_MTU,
            rx_timestamp: false,
            link_speeds: Vec::new(),
        }
    }
}

/// IEEE 802.3x pause (link flow control), per direction (MAC_COMMAND_CONFIG TX_PAUSE_DIS,
/// RX_PAUSE_DIS, spec 6). Both on by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowControl {
    /// Stop sending while the link partner asks (honour received pause frames).
    pub rx_pause: bool,
    /// Ask the link partner to stop (send pause frames) when the Rx buffer fills, instead of
    /// dropping what arrives.
    pub tx_pause: bool,
}

impl Default for FlowControl {
    fn default() -> Self {
        Self {
            rx_pause: true,
            tx_pause: true,
        }
    }
}

#[derive(Debug)]
struct Inner {
    fw: Firmware,
    started: bool,
    settings: PortSettings,
    flow_control: FlowControl,
    /// The application set the link down (`rte_eth_dev_set_link_down`): the MAC stays off.
    admin_down: bool,
    filters: RxFilters,
    rss: RssConfig,
    /// Flow rules (rte_flow), kept across stop/start.
    flows: FlowTable,
    counters: HwCounters,
    link_up: bool,
    /// IEEE 1588 mode (`rte_eth_timesync_enable`).
    timesync: bool,
    /// Where header-split queues cut frames (the actions' DMA hint), if any queue splits.
    hdr_split: Option<SplitHdrs>,
    /// rte_flow isolated mode: only the flow rules deliver to the host (no RSS rules).
    isolated: bool,
}

impl Inner {
    /// A stopped port's state after attach (or reset), keeping `flows`' rule ids.
    fn initial(
        tp: &dyn Transport,
        dma: &dyn DmaAllocator,
        perm_addr: MacAddr,
        flows: FlowTable,
    ) -> Result<Self> {
        Ok(Self {
            fw: Firmware::new(dma)?,
            started: false,
            settings: PortSettings::default(),
            filters: RxFilters {
                primary: perm_addr,
                ..Default::default()
            },
            rss: RssConfig::spread(1, Default::default()),
            flows,
            counters: HwCounters::new(tp, 1),
            link_up: false,
            flow_control: FlowControl::default(),
            admin_down: false,
            timesync: false,
            hdr_split: None,
            isolated: false,
        })
    }

    /// Whether host-bound frames get an Rx timestamp (TS_ENA in their actions).
    fn rx_stamp(&self) -> bool {
        self.timesync || self.settings.rx_timestamp
    }
}

/// One fbnic port.
#[derive(Debug)]
pub struct Port {
    tp: Arc<dyn Transport>,
    dma: Arc<dyn DmaAllocator>,
    timeouts: FwTimeouts,
    perm_addr: MacAddr,
    stamps: Arc<Stamps>,
    inner: Mutex<Inner>,
}

impl Port {
    /// Attaches to a device: checks it answers, derives the MAC address from the DSN (unless
    /// `mac` overrides it) and puts the datapath in a known, closed state.
    pub fn new(
        tp: Arc<dyn Transport>,
        dma: Arc<dyn DmaAllocator>,
        timeouts: FwTimeouts,
        mac: Option<MacAddr>,
    ) -> Result<Self> {
        if tp.read32(Bar::Bar0, regs::MASTER_SPARE_0) == u32::MAX {
            return Err(Error::DeviceGone);
        }
        let perm_addr = mac.unwrap_or_else(|| MacAddr::from_dsn(tp.dsn()));
        if !perm_addr.is_valid_unicast() {
            return Err(Error::invalid(format!(
                "MAC address {perm_addr} is not a valid unicast address"
            )));
        }
        let inner = Inner::initial(tp.as_ref(), dma.as_ref(), perm_addr, FlowTable::default())?;
        // The clock runs from attach, set to the host's real time.
        let realtime = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        ptp::start(tp.as_ref(), realtime);
        let stamps = Arc::new(Stamps::default());
        stamps.set_reference(ptp::read(tp.as_ref())?);
        let port = Self {
            tp,
            dma,
            timeouts,
            perm_addr,
            stamps,
            inner: Mutex::new(inner),
        };
        port.close_datapath(&port.lock());
        Ok(port)
    }

    /// Returns a stopped port to the state [`Port::new`] leaves it in (DPDK's
    /// `rte_eth_dev_reset`): the firmware conversation starts over at the next start (a fresh
    /// mailbox; signs of life, capabilities and ownership asked again), and settings, RSS,
    /// Rx filters (the permanent address only), flow control, link admin state and
    /// timestamping are the defaults; no flow rule is left (nor isolated mode), and rule ids
    /// keep counting, so a handle from before the reset never names a rule made after it.
    /// Hardware counters restart from zero. The device's clock keeps running.
    pub fn reset(&self) -> Result<()> {
        let mut g = self.lock();
        if g.started {
            return Err(Error::Busy("stop the port before resetting it".into()));
        }
        let tp = self.tp.as_ref();
        let mut flows = std::mem::take(&mut g.flows);
        flows.clear();
        let fresh = Inner::initial(tp, self.dma.as_ref(), self.perm_addr, flows)?;
        g.fw.shut_down(tp);
        *g = fresh;
        self.close_datapath(&g);
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock (a driver bug) must not wedge the port forever:
        // the state is still consistent enough to stop and close.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The transport (queues use it to program their registers).
    pub fn transport(&self) -> &dyn Transport {
        self.tp.as_ref()
    }

    /// A shared handle to the transport.
    pub fn transport_arc(&self) -> Arc<dyn Transport> {
        self.tp.clone()
    }

    /// The DMA allocator (queues allocate their rings from it).
    pub fn dma(&self) -> &dyn DmaAllocator {
        self.dma.as_ref()
    }

    /// The firmware timeouts in force.
    pub fn timeouts(&self) -> FwTimeouts {
        self.timeouts
    }

    /// The address derived from the DSN (or given at attach).
    pub fn perm_addr(&self) -> MacAddr {
        self.perm_addr
    }

    /// Whether the port is started.
    pub fn is_started(&self) -> bool {
        self.lock().started
    }

    /// Applies queue counts, loopback and MTU (the port must be stopped). Resets RSS to the
    /// default key and a round-robin table over the Rx queues if the queue count changed.
    pub fn configure(&self, settings: PortSettings, rss: Option<RssConfig>) -> Result<()> {
        let mut g = self.lock();
        if g.started {
            return Err(Error::Busy("stop the port before configuring it".into()));
        }
        check_mtu(settings.mtu)?;
        for (what, n) in [("Rx", settings.nb_rx_queues), ("Tx", settings.nb_tx_queues)] {
            if n == 0 || n as u32 > regs::MAX_QUEUES {
                return Err(Error::invalid(format!(
                    "{n} {what} queues: the device has 1 to {}",
                    regs::MAX_QUEUES
                )));
            }
        }
        let rss = match rss {
            Some(r) => r,
            None if settings.nb_rx_queues != g.settings.nb_rx_queues => {
                RssConfig::spread(settings.nb_rx_queues, g.rss.hash)
            }
            None => g.rss.clone(),
        };
        rss.check(settings.nb_rx_queues)?;
        if let Some(q) = g.flows.max_queue().filter(|&q| q >= settings.nb_rx_queues) {
            return Err(Error::invalid(format!(
                "a flow rule sends to Rx queue {q}, which {} Rx queues would not have: destroy \
                 the rule first",
                settings.nb_rx_queues
            )));
        }
        let nq = settings.nb_rx_queues.max(settings.nb_tx_queues) as u32;
        if nq != g.counters.nb_queues() {
            g.counters = HwCounters::new(self.tp.as_ref(), nq);
        }
        g.settings = settings;
        g.rss = rss;
        Ok(())
    }

    /// The current settings.
    pub fn settings(&self) -> PortSettings {
        self.lock().settings.clone()
    }

    /// Brings the port up (spec 5.2 order). On failure everything done so far is undone and
    /// the port stays stopped.
    pub fn start(&self, queues: &mut dyn QueueSet) -> Result<()> {
        let mut g = self.lock();
        if g.started {
            return Ok(());
        }
        let tp = self.tp.as_ref();
        let t = self.timeouts;
        let res = (|| {
            g.fw.bring_up(tp, &t)?;
            let caps = g.fw.request_caps(tp, &t)?.clone();
            check_link_speed(caps.link_speed, &g.settings.link_speeds)?;
            log::info!(
                "firmware {} (commit {}), link {}, BMC {}",
                caps.version,
                caps.commit.as_deref().unwrap_or("?"),
                caps.link_speed.map_or("unknown", |s| s.name()),
                if caps.bmc_present {
                    "present"
                } else {
                    "absent"
                }
            );
            g.fw.take_ownership(tp, &t)?;
            g.fw.first_heartbeat(tp, &t)?;
            // BMC rules, then flow and RSS rules, key and table; no host address is
            // accepted yet.
            self.write_rules(&g, false)?;
            rpc::write_rss(tp, &g.rss);
            self.write_host_actions(&g, &g.flows)?;
            self.link_up(&g);
            queues.start_queues(g.rss.hash)?;
            // Rx filters last: traffic starts flowing into ready queues.
            self.write_rules(&g, true)?;
            self.sync_filters_to_fw(&mut g);
            Ok(())
        })();
        match res {
            Ok(()) => {
                g.started = true;
                g.link_up = self.read_link();
                Ok(())
            }
            Err(e) => {
                // The caller reports `e`; undo what was done.
                if let Err(e2) = queues.stop_queues() {
                    log::error!("while undoing the start: {e2}");
                }
                self.close_datapath(&g);
                if let Err(e2) = g.fw.release_ownership(tp, &t) {
                    log::warn!("while undoing the start: {e2}");
                }
                g.fw.shut_down(tp);
                Err(e)
            }
        }
    }

    /// Takes the port down in the reverse order of start and releases ownership.
    pub fn stop(&self, queues: &mut dyn QueueSet) -> Result<()> {
        let mut g = self.lock();
        if !g.started {
            return Ok(());
        }
        let tp = self.tp.as_ref();
        // Host filters off first: nothing new reaches the queues while they drain.
        self.host_rules_off(&g);
        let qres = queues.stop_queues();
        self.close_datapath(&g);
        g.counters.update(tp);
        if let Err(e) = g.fw.release_ownership(tp, &self.timeouts) {
            log::warn!("releasing ownership: {e}");
        }
        g.fw.shut_down(tp);
        g.started = false;
        g.link_up = false;
        qres
    }

    /// Removes the host's rules, leaving the BMC's (this cannot fail: no flow rule is
    /// written).
    fn host_rules_off(&self, g: &Inner) {
        if let Err(e) = self.write_rules(g, false) {
            log::error!("removing the host's Rx rules: {e}");
        }
    }

    /// Writes the MAC DA TCAM, action TCAM and RSS tables for the current wanted state; with
    /// `host` false only the BMC's rules remain. Fails, before any host address is accepted,
    /// if the flow rules do not fit the action TCAM.
    fn write_rules(&self, g: &Inner, host: bool) -> Result<()> {
        let tp = self.tp.as_ref();
        let bmc = bmc_of(g);
        let t = MacDaTable::build(&g.filters, bmc.as_ref(), host);
        if t.uc_overflow {
            log::warn!(
                "unicast address list exceeds {} entries: falling back to promiscuous",
                rpc::MAX_EXTRA_UC
            );
        }
        if t.mc_overflow {
            log::warn!(
                "multicast list exceeds {} entries: falling back to all-multicast",
                rpc::MAX_MC
            );
        }
        // Order: actions and RSS before addresses are accepted; addresses removed first.
        if host {
            rpc::write_rss(tp, &g.rss);
            self.write_host_actions(g, &g.flows)?;
            t.write(tp);
        } else {
            t.write(tp);
            rpc::write_actions(
                tp,
                &g.rss,
                &g.flows,
                bmc.as_ref(),
                HostRules::Off,
                false,
                None,
            )?;
        }
        Ok(())
    }

    /// Writes the action TCAM with the host's rules (flow rules `flows`, RSS unless
    /// isolated) as the port's state says: its RSS hash types, the BMC's rules, Rx
    /// timestamps on or off.
    fn write_host_actions(&self, g: &Inner, flows: &FlowTable) -> Result<()> {
        let bmc = bmc_of(g);
        let host = if g.isolated {
            HostRules::Isolated
        } else {
            HostRules::All
        };
        rpc::write_actions(
            self.tp.as_ref(),
            &g.rss,
            flows,
            bmc.as_ref(),
            host,
            g.rx_stamp(),
            g.hdr_split,
        )
    }

    /// Tells the firmware the host's Rx filter (RPC_MAC_SYNC_REQ), best effort.
    fn sync_filters_to_fw(&self, g: &mut Inner) {
        let f = &g.filters;
        let mut rx_flags = 4; // broadcast
        if f.promisc {
            rx_flags |= 1;
        }
        if f.allmulti {
            rx_flags |= 2;
        }
        let mut uc = vec![f.primary];
        uc.extend(f.uc.iter().copied());
        uc.truncate(8);
        let mut mc = f.mc.clone();
        mc.truncate(8);
        let msg = Msg::RpcMacSyncReq { rx_flags, uc, mc };
        if let Err(e) = g.fw.post(self.tp.as_ref(), &msg) {
            log::warn!("could not sync Rx filters to the firmware: {e}");
        }
    }

    /// MAC and Rx parser on (spec 6): Tx/Rx enable, padding, loopback as configured.
    fn link_up(&self, g: &Inner) {
        let tp = self.tp.as_ref();
        let frame = g.settings.mtu as u32 + FRAME_OVERHEAD;
        // The link set down turns the MAC off, unless a BMC shares the port and needs it
        // (set_link_admin refuses that once the firmware has said so; before the first
        // start it cannot know).
        let mac_on = !g.admin_down || bmc_of(g).is_some();
        if g.admin_down && mac_on {
            log::warn!("link kept up although set down: a BMC shares the port and needs it");
        }
        tp.write32(
            Bar::Bar0,
            regs::RPC_RMI_CONFIG,
            RmiConfig::default()
                .with_oh_bytes(RMI_OH_BYTES)
                .with_enable(true)
                .with_mtu(frame)
                .raw(),
        );
        tp.write32(
            Bar::Bar0,
            regs::MAC_COMMAND_CONFIG,
            MacCommandConfig::default()
                .with_tx_ena(mac_on)
                .with_rx_ena(mac_on)
                .with_tx_pad(true)
                .with_loopback(g.settings.loopback)
                .with_tx_pause_dis(!g.flow_control.tx_pause)
                .with_rx_pause_dis(!g.flow_control.rx_pause)
                .raw(),
        );
    }

    /// Host datapath closed: MAC off unless a BMC still needs it, host rules gone.
    fn close_datapath(&self, g: &Inner) {
        let tp = self.tp.as_ref();
        let bmc = bmc_of(g);
        if bmc.is_none() {
            tp.write32(Bar::Bar0, regs::MAC_COMMAND_CONFIG, 0);
            tp.write32(
                Bar::Bar0,
                regs::RPC_RMI_CONFIG,
                RmiConfig::default().with_oh_bytes(RMI_OH_BYTES).raw(),
            );
        }
        self.host_rules_off(g);
    }

    fn read_link(&self) -> bool {
        self.tp.read32(Bar::Bar0, regs::SIG_PCS_OUT0) & regs::SIG_PCS_OUT0_LINK != 0
    }

    /// Link state (reads the PCS; cheap).
    pub fn link(&self) -> LinkStatus {
        let mut g = self.lock();
        let up = g.started && self.read_link();
        g.link_up = up;
        let caps = g.fw.caps();
        LinkStatus {
            up,
            speed: caps.and_then(|c| c.link_speed),
            fec: caps.and_then(|c| c.link_fec),
        }
    }

    /// The periodic task (from an EAL alarm, about once a second): firmware heartbeat and
    /// restart recovery, link state, counter accumulation.
    pub fn service(&self) {
        self.service_notify(|_| {});
    }

    /// [`Port::service`], telling `note` when it restores the port after a firmware restart
    /// ([`FwRecovery::Started`], then `Succeeded` or `Failed`). `note` runs without the
    /// port's lock held, so it may call back into the port. The queues keep running
    /// throughout: the firmware does not own them.
    pub fn service_notify(&self, mut note: impl FnMut(FwRecovery)) {
        let event = {
            let mut g = self.lock();
            let tp = self.tp.as_ref();
            g.counters.update(tp);
            // A fresh reference for extending 40-bit stamps (they wrap every 18 minutes).
            if let Ok(ns) = ptp::read(tp) {
                self.stamps.set_reference(ns);
            }
            if !g.started {
                return;
            }
            let event = g.fw.service(tp, &self.timeouts);
            let up = self.read_link();
            if up != g.link_up {
                log::info!("link {}", if up { "up" } else { "down" });
                g.link_up = up;
            }
            event
        };
        if event == FwEvent::Restarted {
            note(FwRecovery::Started);
            note(match self.recover_after_fw_restart() {
                Ok(()) => FwRecovery::Succeeded,
                Err(e) => {
                    log::error!("restoring the port after a firmware restart failed: {e}");
                    FwRecovery::Failed
                }
            });
        }
    }

    /// After a firmware restart: takes ownership again, rewrites the Rx rules and tells the
    /// firmware the host's filters. Each step is tried even if one before it failed (the
    /// rules are the host's registers, worth restoring with or without ownership); the
    /// first failure is the result.
    fn recover_after_fw_restart(&self) -> Result<()> {
        let mut g = self.lock();
        if !g.started {
            // Stopped meanwhile: the next start does all of it.
            return Ok(());
        }
        log::warn!("firmware restarted: taking ownership again and rewriting the rules");
        let t = self.timeouts;
        let owned = g.fw.take_ownership(self.tp.as_ref(), &t);
        let rules = self.write_rules(&g, true);
        self.sync_filters_to_fw(&mut g);
        owned.and(rules)
    }

    /// The firmware version, once the port has talked to the firmware.
    pub fn fw_version(&self) -> Option<FwVersion> {
        self.lock().fw.version()
    }

    /// Asks the firmware for its version, bringing the mailbox up just for that if the port
    /// is stopped (DPDK lets applications ask before the first start).
    pub fn query_fw_version(&self) -> Result<FwVersion> {
        let mut g = self.lock();
        if let Some(v) = g.fw.version() {
            return Ok(v);
        }
        self.fw_query(&mut g, |fw, tp, t| {
            fw.request_caps(tp, t).map(|c| c.version)
        })
    }

    /// The link mode and FEC the firmware reports for the module in the port's cage (asked
    /// for, with the mailbox brought up just for that, if the port has not talked to the
    /// firmware yet). The host cannot change either: the firmware sets them.
    pub fn link_mode(&self) -> Result<(Option<LinkSpeed>, Option<Fec>)> {
        let mut g = self.lock();
        if let Some(c) = g.fw.caps() {
            return Ok((c.link_speed, c.link_fec));
        }
        self.fw_query(&mut g, |fw, tp, t| {
            fw.request_caps(tp, t).map(|c| (c.link_speed, c.link_fec))
        })
    }

    /// What the module in the port's cage is and how long its EEPROM is (read through the
    /// firmware; works on a stopped port too).
    pub fn module_info(&self) -> Result<ModuleInfo> {
        let mut g = self.lock();
        self.fw_query(&mut g, read_module_head)
    }

    /// Reads `buf.len()` bytes of the module EEPROM from `offset`, in the flat layout of
    /// [`crate::module`]; the range must lie inside the module's EEPROM.
    pub fn read_module_eeprom(&self, offset: u32, buf: &mut [u8]) -> Result<()> {
        let len = u32::try_from(buf.len())
            .map_err(|_| Error::invalid("module EEPROM read too long".to_string()))?;
        let mut g = self.lock();
        self.fw_query(&mut g, |fw, tp, t| {
            let info = read_module_head(fw, tp, t)?;
            if len == 0 || offset.checked_add(len).is_none_or(|end| end > info.len) {
                return Err(Error::invalid(format!(
                    "module EEPROM bytes {offset}+{len}: the module has {}",
                    info.len
                )));
            }
            let mut at = 0;
            for r in page_reads(offset, len) {
                let data = fw.read_qsfp(tp, t, r.page, r.offset, r.len)?;
                buf[at..at + data.len()].copy_from_slice(&data);
                at += data.len();
            }
            Ok(())
        })
    }

    /// Runs a firmware query, bringing the mailbox up just for it if the port is stopped. A
    /// query, not a bring-up: a firmware that is not there fails it quickly (an application
    /// may ask on every `show port info`).
    fn fw_query<T>(
        &self,
        g: &mut Inner,
        f: impl FnOnce(&mut Firmware, &dyn Transport, &FwTimeouts) -> Result<T>,
    ) -> Result<T> {
        let tp = self.tp.as_ref();
        let mut t = self.timeouts;
        t.alive = t.alive.min(Duration::from_millis(500));
        t.response = t.response.min(Duration::from_millis(500));
        let was_up = g.fw.is_up();
        let res = g.fw.bring_up(tp, &t).and_then(|_| f(&mut g.fw, tp, &t));
        if !was_up && !g.started {
            g.fw.shut_down(tp);
        }
        res
    }

    /// Messages from the firmware that did not decode.
    pub fn fw_malformed(&self) -> u64 {
        self.lock().fw.malformed
    }

    /// Whether the firmware is considered dead (missed heartbeat).
    pub fn fw_dead(&self) -> bool {
        self.lock().fw.is_dead()
    }

    /// Whether the host holds ownership of the device.
    pub fn fw_owner(&self) -> bool {
        self.lock().fw.is_owner()
    }

    /// The BMC the firmware reported, if any.
    pub fn bmc(&self) -> Option<BmcInfo> {
        bmc_of(&self.lock())
    }

    /// Changes the Rx filters (`f` edits a copy; it is applied if valid).
    pub fn update_filters(&self, f: impl FnOnce(&mut RxFilters) -> Result<()>) -> Result<()> {
        let mut g = self.lock();
        let mut filters = g.filters.clone();
        f(&mut filters)?;
        if !filters.primary.is_valid_unicast() {
            return Err(Error::invalid(format!(
                "{} is not a valid unicast address",
                filters.primary
            )));
        }
        g.filters = filters;
        if g.started {
            self.write_rules(&g, true)?;
            self.sync_filters_to_fw(&mut g);
        }
        Ok(())
    }

    /// The Rx filters.
    pub fn filters(&self) -> RxFilters {
        self.lock().filters.clone()
    }

    /// Changes RSS (`f` edits a copy; it is checked against the Rx queue count and applied).
    pub fn update_rss(&self, f: impl FnOnce(&mut RssConfig) -> Result<()>) -> Result<()> {
        let mut g = self.lock();
        let mut rss = g.rss.clone();
        f(&mut rss)?;
        rss.check(g.settings.nb_rx_queues)?;
        g.rss = rss;
        if g.started {
            rpc::write_rss(self.tp.as_ref(), &g.rss);
            self.write_host_actions(&g, &g.flows)?;
        }
        Ok(())
    }

    /// Checks that `rule` could be added: the rule itself, and room for it in the action
    /// TCAM (with the BMC, if one is known).
    pub fn flow_validate(&self, rule: FlowRule) -> Result<()> {
        let g = self.lock();
        self.flows_with(&g, rule).map(|_| ())
    }

    fn flows_with(&self, g: &Inner, rule: FlowRule) -> Result<(FlowTable, FlowId)> {
        rule.check(g.settings.nb_rx_queues)?;
        let (t, id) = g.flows.with(rule);
        rpc::check_flows(&t, &g.rss, bmc_of(g).as_ref())?;
        Ok((t, id))
    }

    /// Adds a flow rule (in force at once on a started port, and at every start).
    pub fn flow_create(&self, rule: FlowRule) -> Result<FlowId> {
        let mut g = self.lock();
        let (t, id) = self.flows_with(&g, rule)?;
        if g.started {
            self.write_host_actions(&g, &t)?;
        }
        g.flows = t;
        Ok(id)
    }

    /// Removes flow rule `id`.
    pub fn flow_destroy(&self, id: FlowId) -> Result<()> {
        let mut g = self.lock();
        g.flows.remove(id)?;
        self.rewrite_flows(&g);
        Ok(())
    }

    /// Removes every flow rule.
    pub fn flow_flush(&self) {
        let mut g = self.lock();
        g.flows.clear();
        self.rewrite_flows(&g);
    }

    /// After rules were removed: rewrites the action TCAM of a started port (fewer rules
    /// always fit).
    fn rewrite_flows(&self, g: &Inner) {
        if g.started {
            if let Err(e) = self.write_host_actions(g, &g.flows) {
                log::error!("rewriting the flow rules: {e}");
            }
        }
    }

    /// Enters (`on`) or leaves rte_flow isolated mode: only the flow rules deliver to the
    /// host, what no rule takes is dropped (the RSS rules are left out of the action TCAM).
    /// The MAC address filter still applies in front of the rules. In force at once on a
    /// started port, and at every start; a reset leaves it.
    pub fn set_isolated(&self, on: bool) -> Result<()> {
        let mut g = self.lock();
        if g.isolated == on {
            return Ok(());
        }
        g.isolated = on;
        if g.started {
            if let Err(e) = self.write_host_actions(&g, &g.flows) {
                g.isolated = !on;
                return Err(e);
            }
        }
        Ok(())
    }

    /// Whether the port is in rte_flow isolated mode.
    pub fn isolated(&self) -> bool {
        self.lock().isolated
    }

    /// The flow rules, in match order.
    pub fn flows(&self) -> FlowTable {
        self.lock().flows.clone()
    }

    /// What the port's queues share about time (clock reference, IEEE 1588 stamps).
    pub fn stamps(&self) -> Arc<Stamps> {
        self.stamps.clone()
    }

    /// Reads the device clock (ns).
    pub fn clock(&self) -> Result<u64> {
        let ns = ptp::read(self.tp.as_ref())?;
        self.stamps.set_reference(ns);
        Ok(ns)
    }

    /// Sets the device clock.
    pub fn set_clock(&self, ns: u64) {
        let _g = self.lock();
        ptp::write(self.tp.as_ref(), ns);
        self.stamps.set_reference(ns);
    }

    /// Steps the device clock by `delta_ns`.
    pub fn step_clock(&self, delta_ns: i64) -> Result<()> {
        let _g = self.lock();
        ptp::step(self.tp.as_ref(), delta_ns)?;
        self.stamps.set_reference(ptp::read(self.tp.as_ref())?);
        Ok(())
    }

    /// Turns IEEE 1588 mode on or off: every host-bound frame is stamped while it is on,
    /// PTP frames are flagged and their stamps latched, and Tx stamps are latched.
    pub fn set_timesync(&self, on: bool) -> Result<()> {
        let mut g = self.lock();
        let was = g.rx_stamp();
        g.timesync = on;
        self.stamps.set_timesync(on);
        if g.started && g.rx_stamp() != was {
            self.write_host_actions(&g, &g.flows)?;
        }
        Ok(())
    }

    /// Sets where the header-split queues cut frames (None: no queue splits); applied to
    /// the actions at once when started.
    pub fn set_hdr_split(&self, split: Option<SplitHdrs>) -> Result<()> {
        let mut g = self.lock();
        if g.hdr_split == split {
            return Ok(());
        }
        let was = g.hdr_split;
        g.hdr_split = split;
        if g.started {
            if let Err(e) = self.write_host_actions(&g, &g.flows) {
                g.hdr_split = was;
                return Err(e);
            }
        }
        Ok(())
    }

    /// Where the header-split queues cut frames.
    pub fn hdr_split(&self) -> Option<SplitHdrs> {
        self.lock().hdr_split
    }

    /// The RSS configuration.
    pub fn rss(&self) -> RssConfig {
        self.lock().rss.clone()
    }

    /// Sets the MTU (applied at once when started).
    pub fn set_mtu(&self, mtu: u16) -> Result<()> {
        check_mtu(mtu)?;
        let mut g = self.lock();
        g.settings.mtu = mtu;
        if g.started {
            self.link_up(&g);
        }
        Ok(())
    }

    /// Sets the link administratively up or down (`rte_eth_dev_set_link_up/down`): down
    /// turns the MAC off, so this port and its link partner see the link go down and nothing
    /// is sent or received; up turns it back on. At once on a started port, else from the
    /// next start. Refused while a BMC shares the port (it needs the link).
    pub fn set_link_admin(&self, up: bool) -> Result<()> {
        let mut g = self.lock();
        if !up && bmc_of(&g).is_some() {
            return Err(Error::NotSupported(
                "setting the link down: a BMC shares the port and needs it".into(),
            ));
        }
        g.admin_down = !up;
        if g.started {
            self.link_up(&g);
        }
        Ok(())
    }

    /// The link flow control the port applies.
    pub fn flow_control(&self) -> FlowControl {
        self.lock().flow_control
    }

    /// Sets link flow control: at once on a started port, else from the next start.
    pub fn set_flow_control(&self, fc: FlowControl) {
        let mut g = self.lock();
        g.flow_control = fc;
        if g.started {
            self.link_up(&g);
        }
    }

    /// Hardware counters, updated now.
    pub fn counters(&self) -> HwCounters {
        let mut g = self.lock();
        g.counters.update(self.tp.as_ref());
        g.counters.clone()
    }

    /// Reads `out.len()` registers of a register dump from slot `first` on (the layout:
    /// [`fbnic_hw::regdump`]; a whole dump is `regdump::LEN` registers). Reading has no side
    /// effect on the device.
    pub fn dump_regs(&self, first: usize, out: &mut [u32]) -> Result<()> {
        if first > regdump::LEN || out.len() > regdump::LEN - first {
            return Err(Error::invalid(format!(
                "registers {first}..{} requested, the dump has {}",
                first.saturating_add(out.len()),
                regdump::LEN
            )));
        }
        let tp = self.tp.as_ref();
        for (slot, reg) in out.iter_mut().zip(regdump::registers().skip(first)) {
            *slot = tp.read32(Bar::Bar0, reg);
        }
        Ok(())
    }

    /// Restarts every hardware counter total from zero.
    pub fn reset_counters(&self) {
        let mut g = self.lock();
        g.counters.reset(self.tp.as_ref());
    }

    /// Releases ownership and shuts the mailbox (port close). Queues must be stopped first.
    pub fn close(&self) {
        let mut g = self.lock();
        let tp = self.tp.as_ref();
        self.close_datapath(&g);
        if let Err(e) = g.fw.release_ownership(tp, &self.timeouts) {
            log::warn!("releasing ownership at close: {e}");
        }
        g.fw.shut_down(tp);
        g.started = false;
    }
}

/// Refuses a start when the application asked for link speeds (`wanted`, Mbit/s; empty =
/// any) the module's mode (`mode`, from the firmware) is not among.
fn check_link_speed(mode: Option<LinkSpeed>, wanted: &[u32]) -> Result<()> {
    if wanted.is_empty() || mode.is_some_and(|m| wanted.contains(&m.mbps())) {
        return Ok(());
    }
    let wanted: Vec<String> = wanted
        .iter()
        .map(|s| format!("{} Gb/s", s / 1000))
        .collect();
    Err(Error::invalid(match mode {
        Some(m) => format!(
            "link speed {}: the link runs at {} Gb/s ({}, the mode of the module the firmware \
             reports; the device does not negotiate)",
            wanted.join(" or "),
            m.mbps() / 1000,
            m.name()
        ),
        None => format!(
            "link speed {}: the firmware reported no link mode",
            wanted.join(" or ")
        ),
    }))
}

/// Reads the module's identifier, revision and status bytes and what they say.
fn read_module_head(fw: &mut Firmware, tp: &dyn Transport, t: &FwTimeouts) -> Result<ModuleInfo> {
    let head = fw.read_qsfp(tp, t, 0, 0, 3)?;
    ModuleInfo::from_head([head[0], head[1], head[2]])
}

fn bmc_of(g: &Inner) -> Option<BmcInfo> {
    let caps = g.fw.caps()?;
    caps.bmc_present.then(|| BmcInfo {
        macs: caps.bmc_macs.clone(),
        all_multi: caps.bmc_all_multi,
    })
}

fn check_mtu(mtu: u16) -> Result<()> {
    if !(MIN_MTU..=MAX_MTU).contains(&mtu) {
        return Err(Error::invalid(format!(
            "MTU {mtu}: must be from {MIN_MTU} to {MAX_MTU}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_speed_requests_against_the_module_mode() {
        assert!(check_link_speed(Some(LinkSpeed::G100Cr2), &[]).is_ok());
        assert!(check_link_speed(None, &[]).is_ok());
        assert!(check_link_speed(Some(LinkSpeed::G100Cr2), &[100_000]).is_ok());
        assert!(check_link_speed(Some(LinkSpeed::G50Cr), &[25_000, 50_000]).is_ok());
        let e = check_link_speed(Some(LinkSpeed::G100Cr2), &[25_000]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid argument: link speed 25 Gb/s: the link runs at 100 Gb/s (100G-CR2, the \
             mode of the module the firmware reports; the device does not negotiate)"
        );
        let e = check_link_speed(None, &[25_000, 50_000]).unwrap_err();
        assert!(e
            .to_string()
            .contains("25 Gb/s or 50 Gb/s: the firmware reported no link mode"));
    }
}
