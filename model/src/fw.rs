//! The firmware agent on the BAR4 mailbox (spec 5).
//!
//! One thread per device sleeps on a condvar, woken by BAR4 writes, PUL bus-master writes and
//! its own timers (boot, delayed responses); it never busy-waits.
//!
//! Mailbox protocol as modelled:
//! - Power-on state (**[project choice]**: the firmware writes it when the device powers on;
//!   afterwards the host rewrites it when it initialises, as Linux does): in both rings desc 0
//!   = 0 and descs 15..1 = FW_CMPL | HOST_CMPL ("skip" descriptors).
//! - The firmware keeps a head per ring and walks from it (at most 16 steps per wake): a
//!   descriptor with HOST_CMPL and FW_CMPL both set is skipped, one without HOST_CMPL stops the
//!   walk (the host's stop marker), one with HOST_CMPL only is work. Skipping makes the head
//!   resynchronise by itself after the host resets a ring or the firmware reboots.
//! - Host -> FW (mailbox 1): only while PUL_OB_TLP_HDR_AR_CFG.BME is set, the firmware
//!   DMA-reads LEN bytes at ADDR, decodes them with [`Msg::decode`], handles the message and
//!   writes the low dword back with FW_CMPL (plus FW_ERR on a DMA fault, an oversize LEN or an
//!   undecodable message, which are counted and otherwise ignored).
//! - FW -> host (mailbox 0): only while PUL_OB_TLP_HDR_AW_CFG.BME is set, the firmware writes
//!   a message into the next posted page, then the high dword (LEN, EOM) and the low dword
//!   (FW_CMPL). Responses wait in a bounded queue while no page is posted.
//! - When a BAR4 write leaves a ring holding exactly the reset pattern, the firmware's position
//!   in that ring returns to slot 0 (the host re-initialised it). A firmware crash keeps the
//!   ring positions (**[project choice]**: they are mailbox hardware state), so the host may
//!   keep using the rings or reset them.
//! - Each completion (and the first boot) raises INTR_STATUS(0) bit 0.

use std::collections::VecDeque;
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use fbnic_hw::desc::MbxDesc;
use fbnic_hw::msg::{FwCapResp, LogEntry, Msg};
use fbnic_hw::regs::{self, MBX_DESC_COUNT, MBX_PAGE_SIZE, MBX_RX, MBX_TX};
use fbnic_hw::tlv::TlvHeader;
use fbnic_hw::version::FwVersion;
use fbnic_hw::MacAddr;
use parking_lot::{Condvar, Mutex};

use crate::device::Device;
use crate::panic_text;
use crate::regfile::RegFile;

/// Responses the firmware holds while the host posts no page.
const OUT_QUEUE_MAX: usize = 64;
/// Log lines the firmware keeps.
const LOG_KEEP: usize = 64;
/// Lines per LOG_MSG (spec: up to 14).
const LOG_LINES_PER_MSG: usize = 14;
/// -EINVAL.
const EINVAL: i32 = -22;
/// -EOPNOTSUPP.
const EOPNOTSUPP: i32 = -95;

/// What the firmware does wrong, for tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FwFaults {
    /// Never raise signs of life and never serve the mailbox (a dead firmware).
    pub no_signs_of_life: bool,
    /// Ignore OWNERSHIP_REQ (no response, ownership unchanged).
    pub ignore_ownership: bool,
    /// Send responses whose TLV is corrupt (an attribute overruns the message).
    pub malformed_response: bool,
    /// Ignore HEARTBEAT_REQ.
    pub stop_heartbeat: bool,
    /// Reboot now (one-shot: uptime restarts from 0, ownership is lost, pending responses are
    /// lost, signs of life come again after the boot delay).
    pub crash: bool,
    /// Crash (as `crash`) once, when this long has passed since power-on: a reboot at a set
    /// time, for a host that cannot call [`Device::set_fw_faults`] while it runs. Cleared
    /// when it fires.
    pub crash_after: Option<Duration>,
    /// Report this version instead of the configured one.
    pub version_override: Option<FwVersion>,
    /// Delay every response by this much.
    pub response_delay: Duration,
}

/// How the firmware is built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FwConfig {
    /// The running version (FW_CAP_RESP VERSION).
    pub version: FwVersion,
    /// Time from power-on (or a crash) to signs of life.
    pub boot_delay: Duration,
    /// Initial fault injection.
    pub faults: FwFaults,
}

impl Default for FwConfig {
    fn default() -> Self {
        Self {
            version: FwVersion::new(1, 2, 3, 0),
            boot_delay: Duration::from_millis(5),
            faults: FwFaults::default(),
        }
    }
}

/// The host's Rx filters as the last RPC_MAC_SYNC_REQ gave them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MacSync {
    /// RX_FLAGS.
    pub rx_flags: u32,
    /// Unicast addresses.
    pub uc: Vec<MacAddr>,
    /// Multicast addresses.
    pub mc: Vec<MacAddr>,
}

/// What the firmware agent knows, for tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FwState {
    /// Signs of life were given (since the last boot).
    pub alive: bool,
    /// Boots so far (1 after power-on, +1 per crash).
    pub boots: u32,
    /// The host holds ownership.
    pub owner: bool,
    /// OWNERSHIP_REQ messages received.
    pub ownership_requests: u64,
    /// HEARTBEAT_RESP messages sent.
    pub heartbeats_answered: u64,
    /// FW_CAP_RESP messages sent.
    pub caps_answered: u64,
    /// The last RPC_MAC_SYNC_REQ.
    pub last_mac_sync: Option<MacSync>,
    /// The host asked for log messages.
    pub logs_enabled: bool,
    /// LOG_MSG messages sent.
    pub log_messages_sent: u64,
    /// TEST messages echoed.
    pub tests_echoed: u64,
    /// Messages received (good or bad).
    pub messages_seen: u64,
    /// Messages that could not be read or decoded.
    pub messages_bad: u64,
    /// Messages sent to the host.
    pub messages_sent: u64,
    /// Name of the last message received.
    pub last_request: Option<&'static str>,
    /// Names of the messages received, oldest first (the last [`HISTORY_LEN`] of them), so a
    /// test can check the order of the host's conversation.
    pub history: Vec<&'static str>,
}

/// Messages [`FwState::history`] keeps.
pub const HISTORY_LEN: usize = 64;

/// Counters for [`DeviceStats`](crate::DeviceStats).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FwCounts {
    pub seen: u64,
    pub bad: u64,
    pub sent: u64,
    pub dropped: u64,
}

#[derive(Debug)]
struct Inner {
    cfg: FwConfig,
    faults: FwFaults,
    state: FwState,
    boot_at: Instant,
    /// When the device powered on (the reference of [`FwFaults::crash_after`]).
    power_on: Instant,
    kick: bool,
    stop: bool,
    tx_head: u32,
    rx_head: u32,
    out: VecDeque<(Instant, Vec<u8>)>,
    log: VecDeque<LogEntry>,
    log_index: u64,
    log_sent: u64,
    dropped: u64,
}

/// The firmware agent's shared state.
#[derive(Debug)]
pub(crate) struct FwShared {
    inner: Mutex<Inner>,
    cv: Condvar,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Writes the power-on mailbox state.
pub(crate) fn reset_mailbox(regs: &RegFile) {
    for mbx in [MBX_RX, MBX_TX] {
        for d in 0..MBX_DESC_COUNT {
            let v = if d == 0 {
                MbxDesc::default()
            } else {
                MbxDesc::default().with_fw_cmpl(true).with_host_cmpl(true)
            };
            regs.set4(regs::mbx_desc_lo(mbx, d) + 1, v.hi());
            regs.set4(regs::mbx_desc_lo(mbx, d), v.lo());
        }
    }
}

fn read_desc(regs: &RegFile, mbx: u32, d: u32) -> MbxDesc {
    let lo = regs::mbx_desc_lo(mbx, d);
    MbxDesc::from_dwords(regs.get4(lo), regs.get4(lo + 1))
}

impl FwShared {
    pub(crate) fn new(cfg: FwConfig) -> Arc<Self> {
        let faults = cfg.faults.clone();
        Arc::new(Self {
            inner: Mutex::new(Inner {
                cfg,
                faults,
                state: FwState {
                    boots: 1,
                    ..Default::default()
                },
                boot_at: Instant::now(),
                power_on: Instant::now(),
                kick: false,
                stop: false,
                tx_head: 0,
                rx_head: 0,
                out: VecDeque::new(),
                log: VecDeque::new(),
                log_index: 0,
                log_sent: 0,
                dropped: 0,
            }),
            cv: Condvar::new(),
            thread: Mutex::new(None),
        })
    }

    /// Starts the agent thread for `dev`.
    pub(crate) fn start(self: &Arc<Self>, dev: &Arc<Device>) {
        let me = self.clone();
        let weak = Arc::downgrade(dev);
        let name = format!("fbnic-fw-{}", dev.id);
        let h = std::thread::Builder::new()
            .name(name)
            .spawn(move || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| me.run(&weak)));
                if let Err(e) = r {
                    let msg = panic_text(&e);
                    log::error!("firmware agent panicked: {msg}; device marked failed");
                    if let Some(d) = weak.upgrade() {
                        d.fail();
                    }
                }
            })
            .expect("spawn firmware thread");
        *self.thread.lock() = Some(h);
    }

    /// Stops and joins the agent thread (idempotent).
    pub(crate) fn stop(&self) {
        self.inner.lock().stop = true;
        self.cv.notify_all();
        let h = self.thread.lock().take();
        if let Some(h) = h {
            let _ = h.join();
        }
    }

    /// A BAR4 register was written: wake the agent; if a mailbox ring now holds exactly the
    /// reset pattern, the host has (re)initialised it and the firmware's position in that
    /// ring goes back to slot 0 before it looks at the ring again.
    pub(crate) fn bar4_written(&self, regs: &RegFile, idx: u32) {
        let first = regs::mbx_desc_lo(MBX_RX, 0);
        let end = regs::mbx_desc_lo(MBX_TX + 1, 0);
        let mut g = self.inner.lock();
        if (first..end).contains(&idx) {
            let mbx = (idx - first) / (2 * MBX_DESC_COUNT);
            let skip = MbxDesc::default().with_fw_cmpl(true).with_host_cmpl(true);
            let is_reset = read_desc(regs, mbx, 0).raw() == 0
                && (1..MBX_DESC_COUNT).all(|d| read_desc(regs, mbx, d) == skip);
            if is_reset {
                if mbx == MBX_TX {
                    g.tx_head = 0;
                } else {
                    g.rx_head = 0;
                }
            }
        }
        g.kick = true;
        drop(g);
        self.cv.notify_all();
    }

    /// Wakes the agent (a BAR4 or PUL write).
    pub(crate) fn kick(&self) {
        self.inner.lock().kick = true;
        self.cv.notify_all();
    }

    pub(crate) fn set_faults(&self, mut f: FwFaults) {
        let mut g = self.inner.lock();
        if f.crash {
            f.crash = false;
            g.reboot();
        }
        g.faults = f;
        g.kick = true;
        drop(g);
        self.cv.notify_all();
    }

    pub(crate) fn state(&self) -> FwState {
        self.inner.lock().state.clone()
    }

    pub(crate) fn counts(&self) -> FwCounts {
        let g = self.inner.lock();
        FwCounts {
            seen: g.state.messages_seen,
            bad: g.state.messages_bad,
            sent: g.state.messages_sent,
            dropped: g.dropped,
        }
    }

    fn run(&self, dev: &Weak<Device>) {
        let mut g = self.inner.lock();
        loop {
            if g.stop {
                return;
            }
            let Some(d) = dev.upgrade() else { return };
            if d.is_failed() {
                return;
            }
            let now = Instant::now();
            let mut deadline: Option<Instant> = None;
            if !g.faults.no_signs_of_life {
                if !g.state.alive {
                    let at = g.boot_at + g.cfg.boot_delay;
                    if now >= at {
                        g.boot(&d);
                    } else {
                        deadline = Some(at);
                    }
                }
                if let (true, Some(after)) = (g.state.alive, g.faults.crash_after) {
                    let at = g.power_on + after;
                    if now >= at {
                        g.faults.crash_after = None;
                        log::info!("device {}: firmware crash (crash_after {after:?})", d.id);
                        g.reboot();
                        drop(d);
                        continue;
                    }
                    deadline = Some(deadline.map_or(at, |x| x.min(at)));
                }
                if g.state.alive {
                    g.serve_tx(&d);
                    g.flush(&d);
                    if let Some((due, _)) = g.out.front() {
                        if *due > Instant::now() {
                            deadline = Some(deadline.map_or(*due, |x| x.min(*due)));
                        }
                    }
                }
            }
            drop(d);
            if g.kick {
                g.kick = false;
                continue;
            }
            let until = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(1));
            let _ = self.cv.wait_until(&mut g, until);
        }
    }
}

/// A stored 100G DAC module's EEPROM (SFF-8636): lower page 0 and upper page 0.
fn qsfp_page0() -> [u8; 256] {
    let mut m = [0u8; 256];
    m[0] = 0x11; // identifier: QSFP28
    m[1] = 0x07; // revision compliance: SFF-8636 rev 2.8
    m[2] = 0x04; // flat memory (no upper pages beyond 0)
    m[22] = 35; // temperature MSB: 35 C
    m[26] = 0x80; // supply voltage 3.3 V (0x80e8 * 100 uV)
    m[27] = 0xe8;
    m[128] = 0x11; // identifier
    m[129] = 0x00; // power class 1
    m[130] = 0x23; // connector: no separable connector (DAC)
    m[131] = 0x80; // Ethernet compliance: extended, see byte 192
    m[139] = 0x05; // encoding: 64B/66B
    m[140] = 0xff; // nominal rate: see extended
    m[146] = 1; // copper length: 1 m
    m[147] = 0xa0; // device technology: copper cable, unequalized
    m[148..164].copy_from_slice(b"FBNIC-MODEL     ");
    m[165..168].copy_from_slice(&[0x00, 0x1b, 0x9d]);
    m[168..184].copy_from_slice(b"DAC-100G-1M     ");
    m[184..186].copy_from_slice(b"A0");
    m[192] = 0x0b; // extended compliance: 100GBASE-CR4 / 25GBASE-CR CA-L
    m[222] = 103; // nominal rate per lane, 250 Mb/s units (byte 140 = 0xff): 25.75 Gb/s
    m[196..212].copy_from_slice(b"MDL0000000000001");
    m[212..220].copy_from_slice(b"240101  ");
    m[191] = m[128..191].iter().fold(0u8, |a, b| a.wrapping_add(*b));
    m[223] = m[192..223].iter().fold(0u8, |a, b| a.wrapping_add(*b));
    m
}

impl Inner {
    fn uptime_ms(&self) -> u64 {
        self.boot_at.elapsed().as_millis() as u64
    }

    fn reboot(&mut self) {
        self.boot_at = Instant::now();
        self.state.alive = false;
        self.state.owner = false;
        self.state.logs_enabled = false;
        self.state.boots += 1;
        // The mailbox rings and the positions in them are hardware state: they survive.
        self.out.clear();
        self.log.clear();
    }

    fn boot(&mut self, d: &Device) {
        self.state.alive = true;
        log::info!("device {}: firmware up (boot {})", d.id, self.state.boots);
        d.regs.or(regs::intr_status(0), regs::INTR_STATUS0_FW_MBX);
        let v = self.version();
        self.log_line(format!(
            "fbnic model firmware {}.{}.{}.{} booted (boot {})",
            v.major(),
            v.minor(),
            v.patch(),
            v.build(),
            self.state.boots
        ));
        self.log_line(format!("link up {} fec {:?}", d.cfg.link.name(), d.cfg.fec));
        if let Some(b) = &d.cfg.bmc {
            self.log_line(format!("BMC present with {} MAC(s)", b.macs.len()));
        }
    }

    fn version(&self) -> FwVersion {
        self.faults.version_override.unwrap_or(self.cfg.version)
    }

    fn log_line(&mut self, msg: String) {
        let e = LogEntry {
            msec: self.uptime_ms() as u32,
            index: self.log_index,
            msg,
        };
        self.log_index += 1;
        if self.log.len() == LOG_KEEP {
            self.log.pop_front();
        }
        self.log.push_back(e);
    }

    /// Queues LOG_MSG messages for log lines not yet sent (when logs are enabled).
    fn send_logs(&mut self) {
        if !self.state.logs_enabled {
            return;
        }
        loop {
            let pending: Vec<LogEntry> = self
                .log
                .iter()
                .filter(|e| e.index >= self.log_sent)
                .take(LOG_LINES_PER_MSG)
                .cloned()
                .collect();
            let Some(first) = pending.first().cloned() else {
                return;
            };
            self.log_sent = pending.last().map_or(self.log_sent, |e| e.index + 1);
            self.respond(Msg::LogMsg {
                msec: first.msec,
                index: first.index,
                msg: first.msg,
                more: pending[1..].to_vec(),
            });
            self.state.log_messages_sent += 1;
        }
    }

    /// Queues a message to the host.
    fn respond(&mut self, m: Msg) {
        let mut bytes = match m.encode() {
            Ok(b) => b,
            Err(e) => {
                log::error!("firmware could not encode {}: {e:?}", m.name());
                self.dropped += 1;
                return;
            }
        };
        if self.faults.malformed_response {
            corrupt(&mut bytes);
        }
        if self.out.len() >= OUT_QUEUE_MAX {
            self.out.pop_front();
            self.dropped += 1;
        }
        self.out
            .push_back((Instant::now() + self.faults.response_delay, bytes));
    }

    /// Handles host -> FW descriptors.
    fn serve_tx(&mut self, d: &Device) {
        let regs = &d.regs;
        for _ in 0..MBX_DESC_COUNT {
            let slot = self.tx_head;
            let desc = read_desc(regs, MBX_TX, slot);
            if !desc.host_cmpl() {
                break;
            }
            if desc.fw_cmpl() {
                self.tx_head = (slot + 1) % MBX_DESC_COUNT;
                continue;
            }
            if regs.get(regs::PUL_OB_TLP_HDR_AR_CFG) & regs::PUL_OB_TLP_HDR_BME == 0 {
                break;
            }
            let len = desc.len() as usize;
            let mut buf = vec![0u8; len.min(MBX_PAGE_SIZE)];
            let ok = len <= MBX_PAGE_SIZE && d.state.lock().dma.read(desc.addr(), &mut buf).is_ok();
            self.state.messages_seen += 1;
            let handled = ok && self.handle(d, &buf);
            if !handled {
                self.state.messages_bad += 1;
                log::debug!(
                    "device {}: bad mailbox message in slot {slot} (len {len})",
                    d.id
                );
            }
            let done = desc.with_fw_cmpl(true).with_fw_err(!handled);
            regs.set4(regs::mbx_desc_lo(MBX_TX, slot), done.lo());
            regs.or(regs::intr_status(0), regs::INTR_STATUS0_FW_MBX);
            self.tx_head = (slot + 1) % MBX_DESC_COUNT;
        }
        self.send_logs();
    }

    /// Writes queued messages into posted Rx pages.
    fn flush(&mut self, d: &Device) {
        let regs = &d.regs;
        let now = Instant::now();
        let mut steps = 0;
        while let Some((due, _)) = self.out.front() {
            if *due > now || steps >= MBX_DESC_COUNT {
                return;
            }
            let slot = self.rx_head;
            let desc = read_desc(regs, MBX_RX, slot);
            if !desc.host_cmpl() {
                return;
            }
            steps += 1;
            if desc.fw_cmpl() {
                self.rx_head = (slot + 1) % MBX_DESC_COUNT;
                continue;
            }
            if regs.get(regs::PUL_OB_TLP_HDR_AW_CFG) & regs::PUL_OB_TLP_HDR_BME == 0 {
                return;
            }
            let Some((_, msg)) = self.out.pop_front() else {
                return;
            };
            let fits = msg.len() <= desc.len() as usize;
            let ok = fits && d.state.lock().dma.write(desc.addr(), &msg).is_ok();
            let done = if ok {
                self.state.messages_sent += 1;
                desc.with_len(msg.len() as u64)
                    .with_eom(true)
                    .with_fw_cmpl(true)
            } else {
                self.dropped += 1;
                desc.with_len(0)
                    .with_eom(true)
                    .with_fw_cmpl(true)
                    .with_fw_err(true)
            };
            let lo = regs::mbx_desc_lo(MBX_RX, slot);
            regs.set4(lo + 1, done.hi());
            regs.set4(lo, done.lo());
            regs.or(regs::intr_status(0), regs::INTR_STATUS0_FW_MBX);
            self.rx_head = (slot + 1) % MBX_DESC_COUNT;
        }
    }

    /// Handles one message; false if it was not a valid host message.
    fn handle(&mut self, d: &Device, buf: &[u8]) -> bool {
        let m = match Msg::decode(buf) {
            Ok(m) => m,
            Err(_) => return false,
        };
        self.state.last_request = Some(m.name());
        if self.state.history.len() == HISTORY_LEN {
            self.state.history.remove(0);
        }
        self.state.history.push(m.name());
        match m {
            Msg::HostCapReq => {
                let (bmc_present, bmc_macs, bmc_all_multi) = match &d.cfg.bmc {
                    Some(b) => (true, b.macs.iter().take(4).copied().collect(), b.all_multi),
                    None => (false, Vec::new(), false),
                };
                let v = self.version();
                self.respond(Msg::FwCapResp(FwCapResp {
                    version: v,
                    bmc_present,
                    bmc_macs,
                    bmc_all_multi,
                    stored_version: Some(v),
                    active_slot: Some(1),
                    commit: Some(format!("fbnic-model-{}", env!("CARGO_PKG_VERSION"))),
                    link_speed: Some(d.cfg.link),
                    link_fec: Some(d.cfg.fec),
                    uefi_version: None,
                }));
                self.state.caps_answered += 1;
            }
            Msg::OwnershipReq { take } => {
                self.state.ownership_requests += 1;
                if !self.faults.ignore_ownership {
                    if self.state.owner != take {
                        self.log_line(format!(
                            "host {} ownership",
                            if take { "took" } else { "released" }
                        ));
                    }
                    self.state.owner = take;
                    let time = self.uptime_ms();
                    self.respond(Msg::OwnershipResp { time });
                }
            }
            Msg::HeartbeatReq => {
                if !self.faults.stop_heartbeat {
                    let uptime = self.uptime_ms();
                    let messages = self.state.messages_seen;
                    self.respond(Msg::HeartbeatResp { uptime, messages });
                    self.state.heartbeats_answered += 1;
                }
            }
            Msg::TseneReadReq => {
                let wobble = (self.uptime_ms() / 1000 % 5) as i32 * 100;
                self.respond(Msg::TseneReadResp {
                    therm: 45_000 + wobble,
                    volt: 850,
                    error: 0,
                });
            }
            Msg::QsfpReadReq {
                bank,
                page,
                offset,
                length,
            } => {
                let ok =
                    bank == 0 && page == 0 && length > 0 && (offset as u64 + length as u64) <= 256;
                let (data, error) = if ok {
                    let m = qsfp_page0();
                    (m[offset as usize..(offset + length) as usize].to_vec(), 0)
                } else {
                    (Vec::new(), EINVAL)
                };
                self.respond(Msg::QsfpReadResp {
                    bank,
                    page,
                    offset,
                    length: if ok { length } else { 0 },
                    data,
                    error,
                });
            }
            Msg::LogSendLogsReq {
                enable, history, ..
            } => {
                self.state.logs_enabled = enable;
                if enable && !history {
                    // Only lines from now on.
                    self.log_sent = self.log_index;
                } else if enable {
                    self.log_sent = self.log.front().map_or(self.log_index, |e| e.index);
                }
            }
            Msg::RpcMacSyncReq { rx_flags, uc, mc } => {
                self.state.last_mac_sync = Some(MacSync { rx_flags, uc, mc });
            }
            m @ Msg::Test { .. } => {
                self.state.tests_echoed += 1;
                self.respond(m);
            }
            Msg::CoredumpGetInfoReq { .. } => self.respond(Msg::CoredumpGetInfoResp {
                available: false,
                size: 0,
                error: 0,
            }),
            Msg::CoredumpReadReq { offset, length } => self.respond(Msg::CoredumpReadResp {
                offset,
                length,
                data: Vec::new(),
                error: EOPNOTSUPP,
            }),
            Msg::FwStartUpgradeReq { .. } => {
                self.respond(Msg::FwStartUpgradeResp { error: EOPNOTSUPP })
            }
            Msg::FwVerifyImageReq => self.respond(Msg::FwVerifyImageResp { error: EOPNOTSUPP }),
            Msg::FwWriteChunkResp { .. } | Msg::FwFinishUpgradeResp { .. } => {
                // No upgrade is ever started.
                return false;
            }
            Msg::LogMsgResp => {}
            // Messages only the firmware sends.
            Msg::FwCapResp(_)
            | Msg::OwnershipResp { .. }
            | Msg::HeartbeatResp { .. }
            | Msg::CoredumpGetInfoResp { .. }
            | Msg::CoredumpReadResp { .. }
            | Msg::FwStartUpgradeResp { .. }
            | Msg::FwWriteChunkReq { .. }
            | Msg::FwVerifyImageResp { .. }
            | Msg::FwFinishUpgradeReq { .. }
            | Msg::QsfpReadResp { .. }
            | Msg::TseneReadResp { .. }
            | Msg::LogMsg { .. } => return false,
        }
        true
    }
}

/// Makes an encoded message undecodable: its first attribute claims to run past the end.
fn corrupt(bytes: &mut Vec<u8>) {
    if bytes.len() < 8 {
        // No attribute: add one.
        let hdr = TlvHeader::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let hdr = hdr.with_len(hdr.len() + 1);
        bytes[..4].copy_from_slice(&hdr.raw().to_le_bytes());
        bytes.extend_from_slice(&[0; 4]);
    }
    let a = TlvHeader::from_raw(0).with_id(1).with_len(0xfffc);
    bytes[4..8].copy_from_slice(&a.raw().to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every response the agent builds encodes (an encode error would silently drop it).
    #[test]
    fn every_response_encodes() {
        let v = FwVersion::new(1, 2, 3, 0);
        let page = qsfp_page0();
        let msgs = vec![
            Msg::FwCapResp(FwCapResp {
                version: v,
                bmc_present: true,
                bmc_macs: vec![MacAddr([2, 0, 0, 0, 0, 1]); 4],
                bmc_all_multi: true,
                stored_version: Some(v),
                active_slot: Some(1),
                commit: Some(format!("fbnic-model-{}", env!("CARGO_PKG_VERSION"))),
                link_speed: Some(fbnic_hw::LinkSpeed::G100Cr2),
                link_fec: Some(fbnic_hw::Fec::Rs),
                uefi_version: None,
            }),
            Msg::FwCapResp(FwCapResp {
                version: v,
                ..Default::default()
            }),
            Msg::OwnershipResp { time: 0 },
            Msg::HeartbeatResp {
                uptime: 0,
                messages: 0,
            },
            Msg::TseneReadResp {
                therm: 45_000,
                volt: 850,
                error: 0,
            },
            Msg::QsfpReadResp {
                bank: 0,
                page: 0,
                offset: 0,
                length: 256,
                data: page.to_vec(),
                error: 0,
            },
            Msg::QsfpReadResp {
                bank: 1,
                page: 9,
                offset: 300,
                length: 0,
                data: Vec::new(),
                error: EINVAL,
            },
            Msg::CoredumpGetInfoResp {
                available: false,
                size: 0,
                error: 0,
            },
            Msg::CoredumpReadResp {
                offset: 0,
                length: 100,
                data: Vec::new(),
                error: EOPNOTSUPP,
            },
            Msg::FwStartUpgradeResp { error: EOPNOTSUPP },
            Msg::FwVerifyImageResp { error: EOPNOTSUPP },
            Msg::LogMsg {
                msec: 1,
                index: 0,
                msg: "x".repeat(200),
                more: (1..LOG_LINES_PER_MSG as u64)
                    .map(|i| LogEntry {
                        msec: 2,
                        index: i,
                        msg: "link up 100G-CR2".into(),
                    })
                    .collect(),
            },
        ];
        for m in msgs {
            let bytes = m.encode().unwrap_or_else(|e| panic!("{m:?}: {e:?}"));
            assert!(bytes.len() <= MBX_PAGE_SIZE);
            assert_eq!(Msg::decode(&bytes).as_ref(), Ok(&m));
            let mut bad = bytes.clone();
            corrupt(&mut bad);
            assert!(Msg::decode(&bad).is_err());
        }
    }

    #[test]
    fn qsfp_page_is_sff8636() {
        let m = qsfp_page0();
        assert_eq!(m[0], 0x11);
        assert_eq!(m[128], 0x11);
        assert_eq!(&m[148..164], b"FBNIC-MODEL     ");
        let cc_base = m[128..191].iter().fold(0u8, |a, b| a.wrapping_add(*b));
        assert_eq!(m[191], cc_base);
        let cc_ext = m[192..223].iter().fold(0u8, |a, b| a.wrapping_add(*b));
        assert_eq!(m[223], cc_ext);
    }
}
