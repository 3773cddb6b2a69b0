//! The MAC: statistics, the receive gate into the RXB, pause, and link state (spec 6, 8).
//!
//! **[project choice]** Frames on the model's wires carry no FCS. The MAC counts a frame's
//! bytes and size bucket as the wire would carry it, with its 4-byte FCS (a padded 60-byte
//! frame is a 64-byte frame), like real MAC counters.

use fbnic_hw::regs::{self, mac_stat, MacCommandConfig, RmiConfig};

use crate::fifo::FrameFifo;
use crate::regfile::RegFile;

/// Largest frame (without FCS) the device sends or receives (spec 1).
pub(crate) const MAX_FRAME: usize = 9742;
/// Smallest frame (without FCS) the MAC receives; shorter ones are runts.
pub(crate) const MIN_FRAME: usize = 60;
/// FCS bytes the counters add per frame.
const FCS: u64 = 4;

/// Counters of one direction of a MAC.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct MacDirStats {
    pub ok: u64,
    pub bytes: u64,
    pub multicast: u64,
    pub broadcast: u64,
    pub buckets: [u64; 7],
    pub control: u64,
    /// Tx side only: pause frames received (the sender was stalled).
    pub xoff: u64,
    pub undersize: u64,
    pub oversize: u64,
    pub dirty: bool,
}

/// What the MAC counters need to know about a frame, worked out once per frame and counted
/// by both the sending and the receiving MAC.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FrameClass {
    /// Bytes on the wire (with FCS).
    bytes: u64,
    bucket: u8,
    multicast: bool,
    broadcast: bool,
    control: bool,
}

impl FrameClass {
    /// Classifies frame `f` (at least 14 bytes for the DA and ethertype to count).
    #[inline]
    pub fn of(f: &[u8]) -> Self {
        let bytes = f.len() as u64 + FCS;
        let group = f.first().is_some_and(|b| b & 1 != 0);
        let broadcast = group && f.len() >= 6 && f[..6] == [0xff; 6];
        let bucket = match bytes {
            0..=64 => 0,
            65..=127 => 1,
            128..=255 => 2,
            256..=511 => 3,
            512..=1023 => 4,
            1024..=1518 => 5,
            _ => 6,
        };
        Self {
            bytes,
            bucket,
            multicast: group && !broadcast,
            broadcast,
            control: f.len() >= 14 && f[12] == 0x88 && f[13] == 0x08,
        }
    }
}

impl MacDirStats {
    /// Counts a good frame.
    #[inline]
    pub fn add(&mut self, c: FrameClass) {
        self.ok += 1;
        self.bytes += c.bytes;
        self.multicast += c.multicast as u64;
        self.broadcast += c.broadcast as u64;
        self.control += c.control as u64;
        self.buckets[c.bucket as usize] += 1;
        self.dirty = true;
    }

    /// Publishes as Rx (`rx`) or Tx counters.
    pub fn publish(&mut self, regs: &RegFile, rx: bool) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        use mac_stat::*;
        let buckets = if rx {
            [
                RX_64,
                RX_65_127,
                RX_128_255,
                RX_256_511,
                RX_512_1023,
                RX_1024_1518,
                RX_1519_MAX,
            ]
        } else {
            [
                TX_64,
                TX_65_127,
                TX_128_255,
                TX_256_511,
                TX_512_1023,
                TX_1024_1518,
                TX_1519_MAX,
            ]
        };
        for (r, v) in buckets.iter().zip(self.buckets) {
            regs.set64(*r, v);
        }
        if rx {
            regs.set64(RX_OK, self.ok);
            regs.set64(RX_BYTES, self.bytes);
            regs.set64(RX_MULTICAST, self.multicast);
            regs.set64(RX_BROADCAST, self.broadcast);
            regs.set64(RX_CONTROL, self.control);
            regs.set64(RX_UNDERSIZE, self.undersize);
            regs.set64(RX_OVERSIZE, self.oversize);
        } else {
            regs.set64(TX_OK, self.ok);
            regs.set64(TX_BYTES, self.bytes);
            regs.set64(TX_MULTICAST, self.multicast);
            regs.set64(TX_BROADCAST, self.broadcast);
            regs.set64(TX_CONTROL, self.control);
            // Pause frames this port's MAC received (its sender was stalled).
            regs.set64(RX_XOFF, self.xoff);
        }
    }
}

/// The receive side of a port: MAC Rx counters and the RXB FIFO. Locked on its own (a
/// leaf lock), so a cable peer's transmit path can fill it.
#[derive(Debug)]
pub(crate) struct PortRx {
    pub fifo: FrameFifo,
    pub mac: MacDirStats,
    /// XOFF frames this port's MAC sent (a peer stalled on our full RXB).
    pub tx_xoff: u64,
    /// Frames dropped for lack of RXB space.
    pub rxb_drops: u32,
    /// Frames dropped because MAC RX_ENA or RMI ENABLE was clear.
    pub disabled_drops: u64,
    /// Scratch for frames that are counted but not stored.
    pub scratch: Box<[u8]>,
    pub dirty: bool,
}

/// What became of a frame offered to a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Offer {
    /// Stored in the RXB.
    Accepted,
    /// Dropped at the receiver (counted there).
    Dropped,
    /// The receiver is full and paused the sender: try again later.
    Paused,
    /// The sender could not produce the frame (DMA fault): nothing was stored.
    Fault,
}

impl PortRx {
    pub fn new(rxb_bytes: usize) -> Self {
        Self {
            fifo: FrameFifo::new(rxb_bytes),
            mac: MacDirStats::default(),
            tx_xoff: 0,
            rxb_drops: 0,
            disabled_drops: 0,
            scratch: vec![0; MAX_FRAME + 64].into_boxed_slice(),
            dirty: false,
        }
    }

    /// Offers a frame of `len` bytes from the wire. `fill` writes the frame into the buffer
    /// it is given and returns its [`FrameClass`], or None on a DMA fault. `honours_pause` says
    /// whether the sender stops when this port sends pause.
    #[inline]
    pub fn offer(
        &mut self,
        regs: &RegFile,
        len: usize,
        honours_pause: bool,
        fill: impl FnOnce(&mut [u8]) -> Option<FrameClass>,
    ) -> Offer {
        let cfg = MacCommandConfig::from_raw(regs.get(regs::MAC_COMMAND_CONFIG));
        if !cfg.rx_ena() {
            // Not receiving: the frame is lost on the wire.
            self.disabled_drops += 1;
            return Offer::Dropped;
        }
        if !(MIN_FRAME..=MAX_FRAME).contains(&len) {
            if len < MIN_FRAME {
                self.mac.undersize += 1;
            } else {
                self.mac.oversize += 1;
            }
            self.mac.dirty = true;
            return Offer::Dropped;
        }
        let rmi = RmiConfig::from_raw(regs.get(regs::RPC_RMI_CONFIG));
        if rmi.enable() {
            if let Some(slot) = self.fifo.reserve(len) {
                let Some(c) = fill(slot) else {
                    return Offer::Fault;
                };
                self.mac.add(c);
                self.fifo.commit(len);
                return Offer::Accepted;
            }
            if honours_pause && !cfg.tx_pause_dis() {
                self.tx_xoff += 1;
                self.dirty = true;
                return Offer::Paused;
            }
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        let class = fill(&mut scratch[..len]);
        let ok = class.is_some();
        if let Some(c) = class {
            self.mac.add(c);
            if rmi.enable() {
                self.rxb_drops = self.rxb_drops.wrapping_add(1);
            } else {
                self.disabled_drops += 1;
            }
            self.dirty = true;
        }
        self.scratch = scratch;
        if ok {
            Offer::Dropped
        } else {
            Offer::Fault
        }
    }

    /// Publishes the MAC Rx counters and the RXB drop counter.
    pub fn publish(&mut self, regs: &RegFile) {
        self.mac.publish(regs, true);
        if self.dirty {
            self.dirty = false;
            regs.set(regs::rxb_drop_frms_sts(regs::RXB_FIFO_HOST), self.rxb_drops);
            regs.set64(mac_stat::TX_XOFF, self.tx_xoff);
        }
    }
}

/// Whether a MAC with this configuration has its link up given whether its wire has a live
/// partner (spec 6).
pub(crate) fn link_up(cfg: MacCommandConfig, partner_live: bool) -> bool {
    cfg.tx_ena() && cfg.rx_ena() && (cfg.loopback() || partner_live)
}

/// Sets SIG_PCS_OUT0.LINK and latches UP/DOWN in SIG_PCS_INTR_STS on a change.
pub(crate) fn set_link(regs: &RegFile, up: bool) {
    let old = regs.get(regs::SIG_PCS_OUT0);
    let new = if up {
        old | regs::SIG_PCS_OUT0_LINK
    } else {
        old & !regs::SIG_PCS_OUT0_LINK
    };
    if old == new {
        return;
    }
    let prev =
        regs.bar0[regs::SIG_PCS_OUT0 as usize].swap(new, std::sync::atomic::Ordering::AcqRel);
    if (prev & regs::SIG_PCS_OUT0_LINK != 0) != up {
        regs.or(
            regs::SIG_PCS_INTR_STS,
            if up {
                regs::SIG_PCS_INTR_LINK_UP
            } else {
                regs::SIG_PCS_INTR_LINK_DOWN
            },
        );
    }
}
