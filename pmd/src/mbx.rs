//! The host side of the firmware mailbox (spec 5): two rings of 16 descriptors in BAR4, one
//! 4 KiB DMA page per descriptor.
//!
//! - Mailbox 1 (host to firmware): the host copies a TLV message into a page, writes 0 to the
//!   low dword of the slot after the tail (a stop marker for the firmware), then the slot's
//!   high dword, then its low dword with HOST_CMPL. The firmware sets FW_CMPL when done.
//! - Mailbox 0 (firmware to host): the host posts empty pages (EOM clear, LEN = page size)
//!   the same way; the firmware fills one, sets LEN and FW_CMPL.
//!
//! A ring is full when `head == tail + 1`. Reset writes descriptor 0 as zeroes and 15..1 as
//! FW_CMPL|HOST_CMPL ("skip"), low dword first.

use fbnic_hw::desc::MbxDesc;
use fbnic_hw::msg::Msg;
use fbnic_hw::regs::{self, Bar, MBX_DESC_COUNT, MBX_PAGE_SIZE, MBX_RX, MBX_TX};
use fbnic_hw::tlv::{TlvError, TlvHeader};

use crate::error::{Error, Result};
use crate::transport::{DmaAllocator, DmaMem, Transport};

const N: u32 = MBX_DESC_COUNT;

/// One mailbox ring with its pages.
#[derive(Debug)]
struct Ring {
    idx: u32,
    pages: DmaMem,
    head: u32,
    tail: u32,
}

impl Ring {
    fn new(dma: &dyn DmaAllocator, idx: u32) -> Result<Self> {
        let pages = dma.alloc(N as usize * MBX_PAGE_SIZE, MBX_PAGE_SIZE)?;
        Ok(Self {
            idx,
            pages,
            head: 0,
            tail: 0,
        })
    }

    fn page_iova(&self, slot: u32) -> u64 {
        self.pages.iova() + slot as u64 * MBX_PAGE_SIZE as u64
    }

    fn read_desc(&self, tp: &dyn Transport, slot: u32) -> MbxDesc {
        let lo = regs::mbx_desc_lo(self.idx, slot);
        MbxDesc::from_dwords(tp.read32(Bar::Bar4, lo), tp.read32(Bar::Bar4, lo + 1))
    }

    /// Reset state: slot 0 zeroed, the rest marked complete so the firmware skips them.
    fn reset(&mut self, tp: &dyn Transport) {
        for slot in (0..N).rev() {
            let lo = regs::mbx_desc_lo(self.idx, slot);
            let v = if slot == 0 {
                MbxDesc::default()
            } else {
                MbxDesc::default().with_fw_cmpl(true).with_host_cmpl(true)
            };
            tp.write32(Bar::Bar4, lo, v.lo());
            tp.write32(Bar::Bar4, lo + 1, 0);
        }
        self.head = 0;
        self.tail = 0;
    }

    fn is_full(&self) -> bool {
        self.head == (self.tail + 1) % N
    }

    /// Hands the page of slot `tail` to the firmware with `len` bytes and `eom`.
    fn post(&mut self, tp: &dyn Transport, len: usize, eom: bool) {
        let slot = self.tail;
        let desc = MbxDesc::default()
            .with_addr(self.page_iova(slot))
            .with_len(len as u64)
            .with_eom(eom)
            .with_host_cmpl(true);
        self.tail = (slot + 1) % N;
        tp.write32(Bar::Bar4, regs::mbx_desc_lo(self.idx, self.tail), 0);
        let lo = regs::mbx_desc_lo(self.idx, slot);
        tp.write32(Bar::Bar4, lo + 1, desc.hi());
        tp.write32(Bar::Bar4, lo, desc.lo());
    }
}

/// What the host received from the firmware.
#[derive(Debug)]
pub enum Received {
    /// A message that decoded.
    Msg(Box<Msg>),
    /// A message that did not: its TLV type (if the header was readable) and the reason.
    Malformed {
        /// The TLV message type from the header, when there was a header.
        msg_type: Option<u16>,
        /// Why it was rejected.
        error: TlvError,
    },
    /// A completed descriptor whose length is impossible (zero or beyond the page).
    BadDescriptor(MbxDesc),
}

/// The host side of both mailbox rings.
#[derive(Debug)]
pub struct Mailbox {
    tx: Ring,
    rx: Ring,
    ready: bool,
}

impl Mailbox {
    /// Allocates the pages of both rings.
    pub fn new(dma: &dyn DmaAllocator) -> Result<Self> {
        Ok(Self {
            tx: Ring::new(dma, MBX_TX)?,
            rx: Ring::new(dma, MBX_RX)?,
            ready: false,
        })
    }

    /// Whether [`enable`](Self::enable) ran and [`disable`](Self::disable) has not.
    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// Stops firmware DMA and resets both rings (Linux: before waiting for signs of life,
    /// and at teardown).
    pub fn reset(&mut self, tp: &dyn Transport) {
        tp.write32(
            Bar::Bar0,
            regs::PUL_OB_TLP_HDR_AW_CFG,
            regs::PUL_OB_TLP_HDR_FLUSH,
        );
        tp.write32(
            Bar::Bar0,
            regs::PUL_OB_TLP_HDR_AR_CFG,
            regs::PUL_OB_TLP_HDR_FLUSH,
        );
        self.rx.reset(tp);
        self.tx.reset(tp);
        self.ready = false;
    }

    /// Enables firmware DMA in both directions and posts every Rx page but one.
    pub fn enable(&mut self, tp: &dyn Transport) {
        tp.write32(
            Bar::Bar0,
            regs::PUL_OB_TLP_HDR_AW_CFG,
            regs::PUL_OB_TLP_HDR_BME,
        );
        self.post_rx_pages(tp);
        tp.write32(
            Bar::Bar0,
            regs::PUL_OB_TLP_HDR_AR_CFG,
            regs::PUL_OB_TLP_HDR_BME,
        );
        self.ready = true;
    }

    /// Resets the rings and leaves firmware DMA off.
    pub fn disable(&mut self, tp: &dyn Transport) {
        self.reset(tp);
    }

    fn post_rx_pages(&mut self, tp: &dyn Transport) {
        while !self.rx.is_full() {
            self.rx.post(tp, MBX_PAGE_SIZE, false);
        }
    }

    /// Frees Tx slots the firmware has completed.
    pub fn reclaim_tx(&mut self, tp: &dyn Transport) {
        while self.tx.head != self.tx.tail {
            if !self.tx.read_desc(tp, self.tx.head).fw_cmpl() {
                break;
            }
            self.tx.head = (self.tx.head + 1) % N;
        }
    }

    /// Sends `msg` to the firmware.
    pub fn send(&mut self, tp: &dyn Transport, msg: &Msg) -> Result<()> {
        if !self.ready {
            return Err(Error::Busy("the firmware mailbox is not up".into()));
        }
        let bytes = msg.encode()?;
        self.reclaim_tx(tp);
        if self.tx.is_full() {
            return Err(Error::Busy(
                "the firmware mailbox is full (firmware not consuming)".into(),
            ));
        }
        let slot = self.tx.tail;
        self.tx.pages.write(slot as usize * MBX_PAGE_SIZE, &bytes);
        self.tx.post(tp, bytes.len(), true);
        Ok(())
    }

    /// Takes every message the firmware has completed, calling `f` for each, and posts the
    /// pages back.
    pub fn receive(&mut self, tp: &dyn Transport, mut f: impl FnMut(Received)) {
        if !self.ready {
            return;
        }
        let mut page = vec![0u8; MBX_PAGE_SIZE];
        while self.rx.head != self.rx.tail {
            let slot = self.rx.head;
            let desc = self.rx.read_desc(tp, slot);
            if !desc.fw_cmpl() {
                break;
            }
            let len = desc.len() as usize;
            if len == 0 || len > MBX_PAGE_SIZE {
                f(Received::BadDescriptor(desc));
            } else {
                self.rx
                    .pages
                    .read(slot as usize * MBX_PAGE_SIZE, &mut page[..len]);
                f(match Msg::decode(&page[..len]) {
                    Ok(m) => Received::Msg(Box::new(m)),
                    Err(error) => Received::Malformed {
                        msg_type: peek_type(&page[..len]),
                        error,
                    },
                });
            }
            self.rx.head = (slot + 1) % N;
        }
        self.post_rx_pages(tp);
    }
}

/// The TLV message type in a header, if there is a header.
fn peek_type(buf: &[u8]) -> Option<u16> {
    let b: [u8; 4] = buf.get(..4)?.try_into().ok()?;
    Some(TlvHeader::from_raw(u32::from_le_bytes(b)).id() as u16)
}
