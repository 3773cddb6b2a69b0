//! The firmware conversation (spec 5.2): signs of life, capabilities, ownership, heartbeat.
//!
//! Every wait polls the mailbox with a deadline and fails with a line that says what did not
//! happen. Messages that arrive while waiting for something else (logs, late heartbeat
//! responses) are handled on the way.

use std::time::{Duration, Instant};

use fbnic_hw::msg::{FwCapResp, Msg};
use fbnic_hw::regs::{self, Bar};
use fbnic_hw::version::{FwVersion, MIN_SUPPORTED};

use crate::error::{Error, Result};
use crate::mbx::{Mailbox, Received};
use crate::transport::{DmaAllocator, Transport};

/// How long each step of the firmware conversation may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FwTimeouts {
    /// From mailbox reset to the firmware's signs of life (Linux: 10 s).
    pub alive: Duration,
    /// For a capabilities or heartbeat response.
    pub response: Duration,
    /// For the ownership response (Linux: 50 x 200 ms).
    pub ownership: Duration,
    /// Between heartbeats; a heartbeat unanswered by the next one means the firmware is dead.
    pub heartbeat: Duration,
}

impl Default for FwTimeouts {
    fn default() -> Self {
        Self {
            alive: Duration::from_secs(10),
            response: Duration::from_secs(2),
            ownership: Duration::from_secs(10),
            heartbeat: Duration::from_secs(1),
        }
    }
}

/// Something the periodic service noticed about the firmware.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FwEvent {
    /// Nothing new.
    None,
    /// A heartbeat went unanswered: the firmware is considered dead.
    Unresponsive,
    /// The firmware answers again after having restarted (uptime went backwards, or it came
    /// back after being unresponsive): ownership and rules must be restored.
    Restarted,
}

#[derive(Debug, Default)]
struct Heartbeat {
    last_request: Option<Instant>,
    last_response: Option<Instant>,
    last_uptime: Option<u64>,
    dead: bool,
    restarted: bool,
}

/// The driver's side of the firmware.
#[derive(Debug)]
pub struct Firmware {
    mbx: Mailbox,
    caps: Option<FwCapResp>,
    owner: bool,
    hb: Heartbeat,
    /// Messages the firmware sent that did not decode (and were ignored).
    pub malformed: u64,
}

impl Firmware {
    /// Allocates the mailbox.
    pub fn new(dma: &dyn DmaAllocator) -> Result<Self> {
        Ok(Self {
            mbx: Mailbox::new(dma)?,
            caps: None,
            owner: false,
            hb: Heartbeat::default(),
            malformed: 0,
        })
    }

    /// The capabilities the firmware last reported.
    pub fn caps(&self) -> Option<&FwCapResp> {
        self.caps.as_ref()
    }

    /// Whether the host holds ownership.
    pub fn is_owner(&self) -> bool {
        self.owner
    }

    /// Whether the mailbox is up.
    pub fn is_up(&self) -> bool {
        self.mbx.is_ready()
    }

    /// Waits for signs of life and enables the mailbox (spec 5: reset the rings, wait for
    /// INTR_STATUS(0) bit 0, then enable DMA and post Rx pages).
    pub fn bring_up(&mut self, tp: &dyn Transport, t: &FwTimeouts) -> Result<()> {
        if self.mbx.is_ready() {
            return Ok(());
        }
        let start = Instant::now();
        loop {
            // Resetting the host-to-firmware ring prompts a live firmware to raise its
            // mailbox interrupt again (Linux does the same).
            self.mbx.reset(tp);
            std::thread::sleep(Duration::from_millis(20).min(t.alive));
            let status = tp.read32(Bar::Bar0, regs::intr_status(0));
            if status == u32::MAX && tp.read32(Bar::Bar0, regs::MASTER_SPARE_0) == u32::MAX {
                return Err(Error::DeviceGone);
            }
            if status & regs::INTR_STATUS0_FW_MBX != 0 {
                tp.write32(Bar::Bar0, regs::intr_clear(0), regs::INTR_STATUS0_FW_MBX);
                break;
            }
            if start.elapsed() >= t.alive {
                self.mbx.reset(tp);
                return Err(Error::Timeout {
                    what: "firmware signs of life (INTR_STATUS0 bit 0)",
                    waited: start.elapsed(),
                });
            }
        }
        self.mbx.enable(tp);
        self.hb = Heartbeat::default();
        Ok(())
    }

    /// Resets the mailbox and stops firmware DMA. Ownership is not released here.
    pub fn shut_down(&mut self, tp: &dyn Transport) {
        self.mbx.disable(tp);
        self.owner = false;
        self.hb = Heartbeat::default();
    }

    /// Sends `req` and waits for the first message `want` accepts.
    fn request(
        &mut self,
        tp: &dyn Transport,
        req: &Msg,
        what: &'static str,
        timeout: Duration,
        want: impl Fn(&Msg) -> bool,
    ) -> Result<Msg> {
        self.mbx.send(tp, req)?;
        let want_type = response_type(req);
        let start = Instant::now();
        loop {
            let mut got = None;
            let mut err = None;
            let mut others = Vec::new();
            let mut malformed = 0;
            self.mbx.receive(tp, |r| match r {
                Received::Msg(m) if got.is_none() && want(&m) => got = Some(*m),
                Received::Msg(m) => others.push(*m),
                Received::Malformed { msg_type, error } => {
                    malformed += 1;
                    if msg_type.is_none() || msg_type == want_type {
                        err.get_or_insert(Error::Firmware(format!(
                            "malformed reply while waiting for {what}: {error}"
                        )));
                    } else {
                        log::warn!(
                            "ignoring malformed firmware message (type {msg_type:?}): {error}"
                        );
                    }
                }
                Received::BadDescriptor(d) => {
                    malformed += 1;
                    err.get_or_insert(Error::Firmware(format!(
                        "mailbox descriptor with impossible length: {d:?}"
                    )));
                }
            });
            self.malformed += malformed;
            for m in &others {
                self.hb_note(m);
            }
            if let Some(m) = got {
                return Ok(m);
            }
            if let Some(e) = err {
                return Err(e);
            }
            if start.elapsed() >= timeout {
                return Err(Error::Timeout {
                    what,
                    waited: start.elapsed(),
                });
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// HOST_CAP_REQ -> FW_CAP_RESP; refuses firmware older than 0.10.6.0.
    pub fn request_caps(&mut self, tp: &dyn Transport, t: &FwTimeouts) -> Result<&FwCapResp> {
        let m = self.request(
            tp,
            &Msg::HostCapReq,
            "the capabilities response (FW_CAP_RESP)",
            t.response,
            |m| matches!(m, Msg::FwCapResp(_)),
        )?;
        let Msg::FwCapResp(caps) = m else {
            unreachable!("filtered by the predicate")
        };
        if caps.version < MIN_SUPPORTED {
            return Err(Error::FirmwareTooOld {
                found: caps.version,
                required: MIN_SUPPORTED,
            });
        }
        if caps.bmc_present && caps.bmc_macs.is_empty() {
            return Err(Error::Firmware(
                "capabilities report a BMC but no BMC MAC address".into(),
            ));
        }
        Ok(self.caps.insert(caps))
    }

    /// OWNERSHIP_REQ(take) -> OWNERSHIP_RESP.
    pub fn take_ownership(&mut self, tp: &dyn Transport, t: &FwTimeouts) -> Result<()> {
        self.request(
            tp,
            &Msg::OwnershipReq { take: true },
            "the ownership response (OWNERSHIP_RESP)",
            t.ownership,
            |m| matches!(m, Msg::OwnershipResp { .. }),
        )?;
        self.owner = true;
        // The ownership response counts as a heartbeat response (as in Linux).
        self.hb.last_response = Some(Instant::now());
        Ok(())
    }

    /// OWNERSHIP_REQ without the flag; waits briefly for the response but succeeds without
    /// it (the port is going down either way).
    pub fn release_ownership(&mut self, tp: &dyn Transport, t: &FwTimeouts) -> Result<()> {
        if !self.owner {
            return Ok(());
        }
        self.owner = false;
        self.request(
            tp,
            &Msg::OwnershipReq { take: false },
            "the ownership release response",
            t.response,
            |m| matches!(m, Msg::OwnershipResp { .. }),
        )
        .map(|_| ())
    }

    /// The first heartbeat after taking ownership, waited for.
    pub fn first_heartbeat(&mut self, tp: &dyn Transport, t: &FwTimeouts) -> Result<()> {
        let now = Instant::now();
        let m = self.request(
            tp,
            &Msg::HeartbeatReq,
            "the first heartbeat response (HEARTBEAT_RESP)",
            t.response,
            |m| matches!(m, Msg::HeartbeatResp { .. }),
        )?;
        self.hb.last_request = Some(now);
        self.hb_note(&m);
        self.hb.restarted = false;
        Ok(())
    }

    /// QSFP_READ_REQ -> QSFP_READ_RESP: `len` bytes of the module EEPROM's page `page` (bank
    /// 0) from byte `offset` of it.
    pub fn read_qsfp(
        &mut self,
        tp: &dyn Transport,
        t: &FwTimeouts,
        page: u32,
        offset: u32,
        len: u32,
    ) -> Result<Vec<u8>> {
        let req = Msg::QsfpReadReq {
            bank: 0,
            page,
            offset,
            length: len,
        };
        let m = self.request(
            tp,
            &req,
            "the module EEPROM read response (QSFP_READ_RESP)",
            t.response,
            |m| matches!(m, Msg::QsfpReadResp { bank: 0, page: p, offset: o, .. } if *p == page && *o == offset),
        )?;
        let Msg::QsfpReadResp { data, error, .. } = m else {
            unreachable!("filtered by the predicate")
        };
        if error != 0 {
            return Err(Error::Firmware(format!(
                "module EEPROM read of page {page} bytes {offset}..{} failed: error {error}",
                offset + len
            )));
        }
        if data.len() != len as usize {
            return Err(Error::Firmware(format!(
                "module EEPROM read of {len} bytes returned {}",
                data.len()
            )));
        }
        Ok(data)
    }

    /// Sends one message without waiting for an answer.
    pub fn post(&mut self, tp: &dyn Transport, msg: &Msg) -> Result<()> {
        self.mbx.send(tp, msg)
    }

    /// Notes heartbeat and log traffic that arrives outside a request.
    fn hb_note(&mut self, m: &Msg) {
        match m {
            Msg::HeartbeatResp { uptime, .. } => {
                if self.hb.last_uptime.is_some_and(|prev| *uptime < prev) {
                    log::warn!(
                        "firmware uptime went backwards ({uptime} < {:?}): it restarted",
                        self.hb.last_uptime
                    );
                    self.hb.restarted = true;
                }
                if self.hb.dead {
                    log::warn!("firmware answers heartbeats again");
                    self.hb.restarted = true;
                    self.hb.dead = false;
                }
                if self.hb.restarted {
                    // A restarted firmware has forgotten its owner (and one that went
                    // silent may have): ours again only once it answers OWNERSHIP_REQ.
                    self.owner = false;
                }
                self.hb.last_uptime = Some(*uptime);
                self.hb.last_response = Some(Instant::now());
            }
            Msg::OwnershipResp { .. } => self.hb.last_response = Some(Instant::now()),
            Msg::LogMsg { .. } => log::info!("firmware: {m:?}"),
            other => log::debug!("unsolicited firmware message: {other:?}"),
        }
    }

    /// The periodic task: drains the mailbox, checks the last heartbeat was answered, sends
    /// the next one.
    pub fn service(&mut self, tp: &dyn Transport, t: &FwTimeouts) -> FwEvent {
        if !self.mbx.is_ready() {
            return FwEvent::None;
        }
        let mut msgs = Vec::new();
        let mut malformed = 0;
        self.mbx.receive(tp, |r| match r {
            Received::Msg(m) => msgs.push(*m),
            Received::Malformed { msg_type, error } => {
                malformed += 1;
                log::warn!("ignoring malformed firmware message (type {msg_type:?}): {error}");
            }
            Received::BadDescriptor(d) => {
                malformed += 1;
                log::warn!("ignoring bad mailbox descriptor {d:?}");
            }
        });
        self.malformed += malformed;
        for m in &msgs {
            self.hb_note(m);
        }
        let now = Instant::now();
        let mut event = FwEvent::None;
        if std::mem::take(&mut self.hb.restarted) {
            event = FwEvent::Restarted;
        }
        let due = self
            .hb
            .last_request
            .is_none_or(|r| now.duration_since(r) >= t.heartbeat);
        if due {
            let answered = match (self.hb.last_request, self.hb.last_response) {
                (Some(req), Some(resp)) => resp >= req,
                (Some(_), None) => false,
                (None, _) => true,
            };
            if !answered && !self.hb.dead {
                log::error!("firmware did not answer the last heartbeat: considering it dead");
                self.hb.dead = true;
                event = FwEvent::Unresponsive;
            }
            match self.mbx.send(tp, &Msg::HeartbeatReq) {
                Ok(()) => self.hb.last_request = Some(now),
                Err(e) => log::warn!("could not send a heartbeat: {e}"),
            }
        }
        event
    }

    /// Whether the firmware is considered dead.
    pub fn is_dead(&self) -> bool {
        self.hb.dead
    }

    /// The firmware's running version, if capabilities were received.
    pub fn version(&self) -> Option<FwVersion> {
        self.caps.as_ref().map(|c| c.version)
    }
}

/// The TLV type of the response a request expects.
fn response_type(req: &Msg) -> Option<u16> {
    use fbnic_hw::msg::id;
    Some(match req {
        Msg::HostCapReq => id::FW_CAP_RESP,
        Msg::OwnershipReq { .. } => id::OWNERSHIP_RESP,
        Msg::HeartbeatReq => id::HEARTBEAT_RESP,
        Msg::QsfpReadReq { .. } => id::QSFP_READ_RESP,
        _ => return None,
    })
}
