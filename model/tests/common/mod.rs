//! A minimal in-test driver: programs registers and rings directly, through the transport
//! surface only (BAR reads/writes, doorbell stores, DMA-mapped host memory).
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fbnic_hw::desc::{BdqDesc, Rcd, RcdType, Twd, DESC_DONE};
use fbnic_hw::regs::*;
use fbnic_hw::MacAddr;
use fbnic_model::{Bar, Device, DeviceConfig, Fabric, FabricConfig};

/// One 4 KiB page of host memory, viewed as atomics so the device may write it concurrently.
#[repr(C, align(4096))]
pub struct Page(pub [AtomicU64; 512]);

/// DMA-mapped host memory.
pub struct HostMem {
    pages: Box<[Page]>,
    pub iova: u64,
    dev: Arc<Device>,
}

impl HostMem {
    /// Allocates `bytes` (rounded up to pages) and maps them at `iova`.
    pub fn new(dev: &Arc<Device>, iova: u64, bytes: usize) -> Self {
        let n = bytes.div_ceil(4096).max(1);
        let pages: Box<[Page]> = (0..n)
            .map(|_| Page(std::array::from_fn(|_| AtomicU64::new(0))))
            .collect();
        let va = pages.as_ptr() as *mut u8;
        // SAFETY: the pages live in `self` until Drop, which unmaps them first; they are
        // atomics, so the device writing them from another thread is sound.
        unsafe { dev.dma_map(iova, va, n * 4096) }.expect("dma_map");
        Self {
            pages,
            iova,
            dev: dev.clone(),
        }
    }

    pub fn len(&self) -> usize {
        self.pages.len() * 4096
    }

    fn word(&self, off: usize) -> &AtomicU64 {
        &self.pages[off / 4096].0[(off % 4096) / 8]
    }

    pub fn read_u64(&self, off: usize) -> u64 {
        u64::from_le(self.word(off).load(Ordering::Acquire))
    }

    pub fn write_u64(&self, off: usize, v: u64) {
        self.word(off).store(v.to_le(), Ordering::Release)
    }

    pub fn write_bytes(&self, off: usize, data: &[u8]) {
        for (i, b) in data.iter().enumerate() {
            let o = off + i;
            let w = self.word(o & !7);
            let shift = (o % 8) * 8;
            let old = w.load(Ordering::Relaxed);
            w.store(
                (old & !(0xff << shift)) | ((*b as u64) << shift),
                Ordering::Relaxed,
            );
        }
        std::sync::atomic::fence(Ordering::Release);
    }

    pub fn read_bytes(&self, off: usize, len: usize) -> Vec<u8> {
        std::sync::atomic::fence(Ordering::Acquire);
        (0..len)
            .map(|i| {
                let o = off + i;
                (self.word(o & !7).load(Ordering::Relaxed) >> ((o % 8) * 8)) as u8
            })
            .collect()
    }

    pub fn fill(&self, byte: u8) {
        let v = u64::from_ne_bytes([byte; 8]);
        for p in self.pages.iter() {
            for w in p.0.iter() {
                w.store(v, Ordering::Relaxed);
            }
        }
        std::sync::atomic::fence(Ordering::Release);
    }
}

impl Drop for HostMem {
    fn drop(&mut self) {
        let _ = self.dev.dma_unmap(self.iova, self.pages.len() * 4096);
    }
}

pub fn w(dev: &Device, r: u32, v: u32) {
    dev.write32(Bar::Bar0, r, v)
}

pub fn r(dev: &Device, reg: u32) -> u32 {
    dev.read32(Bar::Bar0, reg)
}

/// A fabric with a quick idle policy.
pub fn fabric() -> Arc<Fabric> {
    Fabric::new(FabricConfig::default())
}

pub fn dev_cfg(n: u64) -> DeviceConfig {
    DeviceConfig::with_dsn(0x0002_1b9d_0000_0000 + n)
}

pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while t.elapsed() < timeout {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    f()
}

/// Writes MAC DA TCAM entry `e` to match `mac` under `mask` (mask bit 1 = don't care).
pub fn set_macda(dev: &Device, e: u32, mac: [u8; 6], mask: [u8; 6]) {
    for (wd, i) in [(2u32, 0usize), (1, 2), (0, 4)] {
        let v = u16::from_be_bytes([mac[i], mac[i + 1]]) as u32;
        let m = u16::from_be_bytes([mask[i], mask[i + 1]]) as u32;
        w(
            dev,
            rpc_tcam_macda(e, wd),
            TcamWord::default().with_value(v).with_mask(m).raw(),
        );
    }
    w(dev, rpc_tcam_macda(e, 3), TCAM_VALIDATE);
}

/// Writes action TCAM entry `e`: `words[i]` for the given words, ANY elsewhere.
pub fn set_act(dev: &Device, e: u32, words: &[(u32, TcamWord)], tbl0: ActTbl0, tbl1: ActTbl1) {
    w(dev, rpc_act_tbl0(e), tbl0.raw());
    w(dev, rpc_act_tbl1(e), tbl1.raw());
    for wd in 0..TCAM_ACT_DATA_WORDS {
        let v = words
            .iter()
            .find(|(i, _)| *i == wd)
            .map_or(TcamWord::ANY, |x| x.1);
        w(dev, rpc_tcam_act(e, wd), v.raw());
    }
    w(dev, rpc_tcam_act(e, 11), TCAM_VALIDATE);
}

/// A key-word-1 TCAM word requiring exactly these flag bits (others don't care).
pub fn key1_word(flags: ActKey1, care: ActKey1) -> TcamWord {
    TcamWord::default()
        .with_value(flags.raw() & 0xffff)
        .with_mask(!care.raw() & 0xffff)
}

/// Brings a port up: MAC TX/RX enabled with padding, RMI enabled with MTU 9742, host MAC at
/// TCAM 30, broadcast at 4, default action = host queue `q` (Q_SEL).
pub fn port_up(dev: &Device, q: u32) {
    w(
        dev,
        MAC_COMMAND_CONFIG,
        MacCommandConfig::default()
            .with_tx_ena(true)
            .with_rx_ena(true)
            .with_tx_pad(true)
            .raw(),
    );
    w(
        dev,
        RPC_RMI_CONFIG,
        RmiConfig::default()
            .with_enable(true)
            .with_mtu(9742)
            .with_oh_bytes(20)
            .raw(),
    );
    set_macda(dev, MACDA_IDX_PRIMARY, dev.mac_addr().0, [0; 6]);
    set_macda(dev, MACDA_IDX_BROADCAST, [0xff; 6], [0; 6]);
    w(
        dev,
        RPC_ACT_TBL0_DEFAULT,
        ActTbl0::default()
            .with_dest(ACT_DEST_HOST)
            .with_q_sel(true)
            .with_q_id(q)
            .raw(),
    );
}

// ---------------------------------------------------------------------------------------------
// Tx
// ---------------------------------------------------------------------------------------------

/// A TWQ (TWQ0) with its TCQ and a buffer area.
pub struct TxQ {
    pub dev: Arc<Device>,
    pub q: u32,
    pub ring: HostMem,
    pub cq: HostMem,
    pub bufs: HostMem,
    pub entries: u32,
    pub tail: u32,
    pub head: u32,
    pub cq_head: u32,
    pub cq_phase: bool,
    pub buf_off: usize,
    tail_ptr: std::ptr::NonNull<std::sync::atomic::AtomicU32>,
}

impl TxQ {
    /// Sets up TWQ0 + TCQ of queue `q` with `entries` descriptors; IOVAs from `iova_base`.
    pub fn new(dev: &Arc<Device>, q: u32, entries: u32, iova_base: u64, buf_bytes: usize) -> Self {
        let ring = HostMem::new(dev, iova_base, entries as usize * 8);
        let cq = HostMem::new(dev, iova_base + 0x100_0000, entries as usize * 8);
        let bufs = HostMem::new(dev, iova_base + 0x200_0000, buf_bytes);
        let size = RingSize::for_entries(entries).unwrap().raw();
        w(
            dev,
            TWQ0_CTL.at(q),
            QueueCtl::default().with_reset(true).raw(),
        );
        w(dev, TWQ0_BAL.at(q), ring.iova as u32);
        w(dev, TWQ0_BAH.at(q), (ring.iova >> 32) as u32);
        w(dev, TWQ0_SIZE.at(q), size);
        w(
            dev,
            TWQ0_CTL.at(q),
            QueueCtl::default().with_enable(true).raw(),
        );
        w(
            dev,
            TCQ_CTL.at(q),
            QueueCtl::default().with_reset(true).raw(),
        );
        w(dev, TCQ_BAL.at(q), cq.iova as u32);
        w(dev, TCQ_BAH.at(q), (cq.iova >> 32) as u32);
        w(dev, TCQ_SIZE.at(q), size);
        w(dev, TIM_MASK.at(q), 1);
        w(
            dev,
            TCQ_CTL.at(q),
            QueueCtl::default().with_enable(true).raw(),
        );
        let tail_ptr = dev.reg_ptr(Bar::Bar0, TWQ0_TAIL.at(q)).unwrap();
        Self {
            dev: dev.clone(),
            q,
            ring,
            cq,
            bufs,
            entries,
            tail: 0,
            head: 0,
            cq_head: 0,
            cq_phase: true,
            buf_off: 0,
            tail_ptr,
        }
    }

    pub fn free(&self) -> u32 {
        self.entries - 1 - (self.tail.wrapping_sub(self.head) & (self.entries - 1))
    }

    /// Writes one descriptor at the tail (no doorbell).
    pub fn push_desc(&mut self, d: Twd) {
        self.ring.write_u64(self.tail as usize * 8, d.raw());
        self.tail = (self.tail + 1) & (self.entries - 1);
    }

    /// Copies `data` into the buffer area and returns its IOVA.
    pub fn stage(&mut self, data: &[u8]) -> u64 {
        if self.buf_off + data.len() > self.bufs.len() {
            self.buf_off = 0;
        }
        let off = self.buf_off;
        self.bufs.write_bytes(off, data);
        self.buf_off = (off + data.len() + 63) & !63;
        self.bufs.iova + off as u64
    }

    /// Queues one frame split into `pieces` (approximately equal), META from `meta`.
    pub fn queue_frame(&mut self, frame: &[u8], pieces: usize, meta: Twd) {
        self.push_desc(meta);
        let per = frame.len().div_ceil(pieces.max(1)).max(1);
        let chunks: Vec<&[u8]> = frame.chunks(per).collect();
        let n = chunks.len();
        for (i, c) in chunks.into_iter().enumerate() {
            let a = self.stage(c);
            self.push_desc(Twd::al(a, c.len() as u16, i + 1 == n));
        }
    }

    pub fn doorbell(&self) {
        // SAFETY: reg_ptr's pointer stays valid for the device's life, and `self.dev` keeps
        // the device alive; the register is an AtomicU32, shared by design.
        unsafe { self.tail_ptr.as_ref() }.store(self.tail, Ordering::Release);
    }

    /// Sends frames (one piece each) with a completion request on the last; waits for the
    /// completion. Returns false on timeout.
    pub fn send(&mut self, frames: &[Vec<u8>]) -> bool {
        for (i, f) in frames.iter().enumerate() {
            let meta = Twd::meta()
                .with_dest_mac(true)
                .with_req_completion(i + 1 == frames.len());
            self.queue_frame(f, 1, meta);
        }
        self.doorbell();
        self.wait_head(self.tail)
    }

    /// Sends one frame and waits for its completion.
    pub fn send1(&mut self, frame: &[u8]) -> bool {
        self.send(&[frame.to_vec()])
    }

    /// Reads completions until the head reaches `target`.
    pub fn wait_head(&mut self, target: u32) -> bool {
        let t = Instant::now();
        while self.head != target {
            if !self.reap() {
                if t.elapsed() > Duration::from_secs(5) {
                    return false;
                }
                std::thread::yield_now();
            }
        }
        true
    }

    /// Consumes available TCDs; true if any.
    pub fn reap(&mut self) -> bool {
        let mut any = false;
        loop {
            let tcd = fbnic_hw::desc::Tcd::from_raw(self.cq.read_u64(self.cq_head as usize * 8));
            if tcd.done() != self.cq_phase {
                break;
            }
            if tcd.ty() == fbnic_hw::desc::TCD_TYPE_HEAD {
                self.head = tcd.head0() as u32;
            }
            self.cq_head = (self.cq_head + 1) & (self.entries - 1);
            if self.cq_head == 0 {
                self.cq_phase = !self.cq_phase;
            }
            any = true;
        }
        if any {
            w(&self.dev, TCQ_HEAD.at(self.q), self.cq_head);
        }
        any
    }
}

// ---------------------------------------------------------------------------------------------
// Rx
// ---------------------------------------------------------------------------------------------

/// Programs queue `q`'s PPQ (ring at `ppq.0`, `ppq.1` entries) and enables its buffer
/// queues (BDQ_CTL, reset before by the caller), then its RCQ: the tail of both test
/// drivers' Rx queue set-up.
pub fn enable_ppq_and_rcq(dev: &Device, q: u32, ppq: (u64, u32), rcq: (u64, u32)) {
    w(dev, BDQ_PPQ_BAL.at(q), ppq.0 as u32);
    w(dev, BDQ_PPQ_BAH.at(q), (ppq.0 >> 32) as u32);
    w(
        dev,
        BDQ_PPQ_SIZE.at(q),
        RingSize::for_entries(ppq.1).unwrap().raw(),
    );
    w(
        dev,
        BDQ_CTL.at(q),
        QueueCtl::default()
            .with_enable(true)
            .with_ppq_enable(true)
            .raw(),
    );
    enable_rcq(dev, q, rcq.0, rcq.1);
}

/// Resets, programs (ring at `iova`, `entries` long, interrupt masked) and enables RCQ `q`,
/// in the spec's order.
pub fn enable_rcq(dev: &Device, q: u32, iova: u64, entries: u32) {
    w(
        dev,
        RCQ_CTL.at(q),
        QueueCtl::default().with_reset(true).raw(),
    );
    w(dev, RCQ_BAL.at(q), iova as u32);
    w(dev, RCQ_BAH.at(q), (iova >> 32) as u32);
    w(
        dev,
        RCQ_SIZE.at(q),
        RingSize::for_entries(entries).unwrap().raw(),
    );
    w(dev, RIM_MASK.at(q), 1);
    w(
        dev,
        RCQ_CTL.at(q),
        QueueCtl::default().with_enable(true).raw(),
    );
}

/// A received frame as the in-test driver reassembles it.
#[derive(Clone, Debug)]
pub struct RxFrame {
    pub data: Vec<u8>,
    pub als: Vec<Rcd>,
    pub opt: Option<Rcd>,
    pub meta: Rcd,
}

/// An RCQ + PPQ in one-buffer-per-frame mode.
pub struct RxQ {
    pub dev: Arc<Device>,
    pub q: u32,
    pub rcq: HostMem,
    pub ppq: HostMem,
    pub bufs: HostMem,
    pub rcq_entries: u32,
    pub ppq_entries: u32,
    pub buf_len: usize,
    pub hroom: usize,
    pub rcq_head: u32,
    pub phase: bool,
    pub ppq_tail: u32,
    pending: Vec<Rcd>,
    pending_opt: Option<Rcd>,
}

pub struct RxCfg {
    pub rcq_entries: u32,
    pub ppq_entries: u32,
    pub buf_len: usize,
    pub hroom: usize,
    pub troom: usize,
    pub drop_mode: u32,
}

impl Default for RxCfg {
    fn default() -> Self {
        Self {
            rcq_entries: 256,
            ppq_entries: 128,
            buf_len: 2048,
            hroom: 128,
            troom: 0,
            drop_mode: DROP_MODE_IMMEDIATE,
        }
    }
}

impl RxQ {
    pub fn new(dev: &Arc<Device>, q: u32, iova_base: u64, c: &RxCfg) -> Self {
        let rcq = HostMem::new(dev, iova_base, c.rcq_entries as usize * 8);
        let ppq = HostMem::new(dev, iova_base + 0x100_0000, c.ppq_entries as usize * 8);
        let bufs = HostMem::new(
            dev,
            iova_base + 0x200_0000,
            c.ppq_entries as usize * c.buf_len,
        );
        w(
            dev,
            RDE_CTL0.at(q),
            RdeCtl0::default()
                .with_min_hroom(c.hroom as u32)
                .with_min_troom(c.troom as u32)
                .with_drop_mode(c.drop_mode)
                .raw(),
        );
        w(
            dev,
            RDE_CTL1.at(q),
            RdeCtl1::default().with_max_hdr(c.buf_len as u32).raw(),
        );
        w(
            dev,
            BDQ_CTL.at(q),
            QueueCtl::default().with_reset(true).raw(),
        );
        enable_ppq_and_rcq(dev, q, (ppq.iova, c.ppq_entries), (rcq.iova, c.rcq_entries));
        let mut me = Self {
            dev: dev.clone(),
            q,
            rcq,
            ppq,
            bufs,
            rcq_entries: c.rcq_entries,
            ppq_entries: c.ppq_entries,
            buf_len: c.buf_len,
            hroom: c.hroom,
            rcq_head: 0,
            phase: true,
            ppq_tail: 0,
            pending: Vec::new(),
            pending_opt: None,
        };
        // Post every buffer but one (a full ring would read as empty).
        for _ in 0..c.ppq_entries - 1 {
            me.post_one();
        }
        me.ppq_doorbell();
        me
    }

    fn post_one(&mut self) {
        let slot = self.ppq_tail;
        let addr = self.bufs.iova + slot as u64 * self.buf_len as u64;
        self.ppq
            .write_u64(slot as usize * 8, BdqDesc::new(addr, slot as u16).raw());
        self.ppq_tail = (slot + 1) & (self.ppq_entries - 1);
    }

    pub fn ppq_doorbell(&self) {
        w(&self.dev, BDQ_PPQ_TAIL.at(self.q), self.ppq_tail);
    }

    /// Reads completed frames (reposting their buffers unless `hold`).
    pub fn poll_with(&mut self, repost: bool) -> Vec<RxFrame> {
        let mut out = Vec::new();
        let mut used = 0;
        loop {
            let raw = self.rcq.read_u64(self.rcq_head as usize * 8);
            let rcd = Rcd::from_raw(raw);
            if (raw & DESC_DONE != 0) != self.phase {
                break;
            }
            self.rcq_head = (self.rcq_head + 1) & (self.rcq_entries - 1);
            if self.rcq_head == 0 {
                self.phase = !self.phase;
            }
            match rcd.ty() {
                RcdType::HdrAl | RcdType::PayAl => {
                    self.pending.push(rcd);
                    used += 1;
                }
                RcdType::OptMeta => self.pending_opt = Some(rcd),
                RcdType::Meta => {
                    let als = std::mem::take(&mut self.pending);
                    let mut data = Vec::new();
                    for a in &als {
                        let off = a.buff_id() as usize * self.buf_len + a.off() as usize;
                        data.extend(self.bufs.read_bytes(off, a.len() as usize));
                    }
                    out.push(RxFrame {
                        data,
                        als,
                        opt: self.pending_opt.take(),
                        meta: rcd,
                    });
                }
            }
        }
        if repost {
            for _ in 0..used {
                self.post_one();
            }
            if used > 0 {
                self.ppq_doorbell();
            }
        }
        if !out.is_empty() || used > 0 {
            w(&self.dev, RCQ_HEAD.at(self.q), self.rcq_head);
        }
        out
    }

    /// Counts completed frames without reading their data; reposts buffers. Fast.
    pub fn poll_count(&mut self, budget: u32) -> (u32, u64) {
        let mut frames = 0;
        let mut bytes = 0u64;
        let mut used = 0;
        let mut n = 0;
        while n < budget {
            let raw = self.rcq.read_u64(self.rcq_head as usize * 8);
            if (raw & DESC_DONE != 0) != self.phase {
                break;
            }
            n += 1;
            self.rcq_head = (self.rcq_head + 1) & (self.rcq_entries - 1);
            if self.rcq_head == 0 {
                self.phase = !self.phase;
            }
            let rcd = Rcd::from_raw(raw);
            match rcd.ty() {
                RcdType::HdrAl | RcdType::PayAl => {
                    used += 1;
                    bytes += rcd.len();
                }
                RcdType::OptMeta => {}
                RcdType::Meta => frames += 1,
            }
        }
        if n > 0 {
            for _ in 0..used {
                self.post_one();
            }
            self.ppq_doorbell();
            w(&self.dev, RCQ_HEAD.at(self.q), self.rcq_head);
        }
        (frames, bytes)
    }

    pub fn poll(&mut self) -> Vec<RxFrame> {
        self.poll_with(true)
    }

    /// Polls until `n` frames arrived or the timeout passes.
    pub fn recv(&mut self, n: usize, timeout: Duration) -> Vec<RxFrame> {
        let t = Instant::now();
        let mut v = Vec::new();
        while v.len() < n && t.elapsed() < timeout {
            let got = self.poll();
            if got.is_empty() {
                std::thread::sleep(Duration::from_micros(50));
            }
            v.extend(got);
        }
        v
    }
}

/// A header-split Rx queue's configuration (RDE_CTL0.EN_HDR_SPLIT = 1).
pub struct HsCfg {
    pub rcq_entries: u32,
    pub hpq_entries: u32,
    pub ppq_entries: u32,
    pub hroom: usize,
    pub troom: usize,
    /// RDE_CTL1.MAX_HDR.
    pub max_hdr: usize,
    /// RDE_CTL1.PAYLD_PG_CL: payload buffers of 4096 >> pg_cl bytes.
    pub pg_cl: u32,
    pub drop_mode: u32,
    /// RDE_CTL1.PAYLD_PACK.
    pub payld_pack: u32,
    /// Post HPQ buffers at setup (else the HPQ is left empty).
    pub post_hpq: bool,
    /// A raw HPQ SIZE register value instead of the one for `hpq_entries`.
    pub hpq_size_raw: Option<u32>,
}

impl Default for HsCfg {
    fn default() -> Self {
        Self {
            rcq_entries: 256,
            hpq_entries: 64,
            ppq_entries: 128,
            hroom: 64,
            troom: 32,
            max_hdr: 80,
            pg_cl: 4,
            drop_mode: DROP_MODE_IMMEDIATE,
            payld_pack: PAYLD_PACK_NONE,
            post_hpq: true,
            hpq_size_raw: None,
        }
    }
}

/// A frame received on a header-split queue, as the in-test driver sees it.
#[derive(Clone, Debug)]
pub struct HsFrame {
    /// Completion types in ring order (the frame's ALs, OPT_META, META).
    pub types: Vec<RcdType>,
    /// The frame's AL completions in order.
    pub als: Vec<Rcd>,
    /// The bytes each AL names, read from its HPQ or PPQ buffer.
    pub pieces: Vec<Vec<u8>>,
    pub opt: Option<Rcd>,
    pub meta: Rcd,
}

impl HsFrame {
    /// The frame, reassembled.
    pub fn data(&self) -> Vec<u8> {
        self.pieces.concat()
    }
}

/// Bytes between header buffers (each stands for a 4 KiB page).
pub const HS_HBUF_LEN: usize = 4096;

/// An RCQ + HPQ + PPQ in header-split mode.
pub struct HsRxQ {
    pub dev: Arc<Device>,
    pub q: u32,
    pub rcq: HostMem,
    pub hpq: HostMem,
    pub ppq: HostMem,
    pub hbufs: HostMem,
    pub pbufs: HostMem,
    pub rcq_entries: u32,
    pub hpq_entries: u32,
    pub ppq_entries: u32,
    /// Bytes between payload buffers (4096 >> PAYLD_PG_CL at setup).
    pub pbuf_len: usize,
    pub rcq_head: u32,
    pub phase: bool,
    pub hpq_tail: u32,
    pub ppq_tail: u32,
    pending: Vec<(RcdType, Rcd)>,
}

impl HsRxQ {
    pub fn new(dev: &Arc<Device>, q: u32, iova_base: u64, c: &HsCfg) -> Self {
        let pbuf_len = 4096usize >> c.pg_cl;
        let rcq = HostMem::new(dev, iova_base, c.rcq_entries as usize * 8);
        let hpq = HostMem::new(dev, iova_base + 0x100_0000, c.hpq_entries as usize * 8);
        let ppq = HostMem::new(dev, iova_base + 0x180_0000, c.ppq_entries as usize * 8);
        let hbufs = HostMem::new(
            dev,
            iova_base + 0x200_0000,
            c.hpq_entries as usize * HS_HBUF_LEN,
        );
        let pbufs = HostMem::new(
            dev,
            iova_base + 0x400_0000,
            c.ppq_entries as usize * pbuf_len,
        );
        w(
            dev,
            RDE_CTL0.at(q),
            RdeCtl0::default()
                .with_en_hdr_split(true)
                .with_min_hroom(c.hroom as u32)
                .with_min_troom(c.troom as u32)
                .with_drop_mode(c.drop_mode)
                .raw(),
        );
        w(
            dev,
            RDE_CTL1.at(q),
            RdeCtl1::default()
                .with_max_hdr(c.max_hdr as u32)
                .with_payld_pg_cl(c.pg_cl)
                .with_payld_pack(c.payld_pack)
                .raw(),
        );
        w(
            dev,
            BDQ_CTL.at(q),
            QueueCtl::default().with_reset(true).raw(),
        );
        w(dev, BDQ_HPQ_BAL.at(q), hpq.iova as u32);
        w(dev, BDQ_HPQ_BAH.at(q), (hpq.iova >> 32) as u32);
        w(
            dev,
            BDQ_HPQ_SIZE.at(q),
            c.hpq_size_raw
                .unwrap_or_else(|| RingSize::for_entries(c.hpq_entries).unwrap().raw()),
        );
        enable_ppq_and_rcq(dev, q, (ppq.iova, c.ppq_entries), (rcq.iova, c.rcq_entries));
        let mut me = Self {
            dev: dev.clone(),
            q,
            rcq,
            hpq,
            ppq,
            hbufs,
            pbufs,
            rcq_entries: c.rcq_entries,
            hpq_entries: c.hpq_entries,
            ppq_entries: c.ppq_entries,
            pbuf_len,
            rcq_head: 0,
            phase: true,
            hpq_tail: 0,
            ppq_tail: 0,
            pending: Vec::new(),
        };
        // Post every buffer but one (a full ring would read as empty).
        if c.post_hpq {
            me.post_hpq(c.hpq_entries - 1);
        }
        me.post_ppq(c.ppq_entries - 1);
        me
    }

    /// Posts `n` header buffers and rings the HPQ doorbell.
    pub fn post_hpq(&mut self, n: u32) {
        for _ in 0..n {
            let slot = self.hpq_tail;
            let addr = self.hbufs.iova + slot as u64 * HS_HBUF_LEN as u64;
            self.hpq
                .write_u64(slot as usize * 8, BdqDesc::new(addr, slot as u16).raw());
            self.hpq_tail = (slot + 1) & (self.hpq_entries - 1);
        }
        w(&self.dev, BDQ_HPQ_TAIL.at(self.q), self.hpq_tail);
    }

    /// Posts `n` payload buffers and rings the PPQ doorbell.
    pub fn post_ppq(&mut self, n: u32) {
        for _ in 0..n {
            let slot = self.ppq_tail;
            let addr = self.pbufs.iova + slot as u64 * self.pbuf_len as u64;
            self.ppq
                .write_u64(slot as usize * 8, BdqDesc::new(addr, slot as u16).raw());
            self.ppq_tail = (slot + 1) & (self.ppq_entries - 1);
        }
        w(&self.dev, BDQ_PPQ_TAIL.at(self.q), self.ppq_tail);
    }

    /// Reads completed frames and reposts their buffers.
    pub fn poll(&mut self) -> Vec<HsFrame> {
        let mut out = Vec::new();
        let (mut hdrs, mut pays) = (0, 0);
        loop {
            let raw = self.rcq.read_u64(self.rcq_head as usize * 8);
            if (raw & DESC_DONE != 0) != self.phase {
                break;
            }
            let rcd = Rcd::from_raw(raw);
            self.rcq_head = (self.rcq_head + 1) & (self.rcq_entries - 1);
            if self.rcq_head == 0 {
                self.phase = !self.phase;
            }
            match rcd.ty() {
                RcdType::HdrAl => hdrs += 1,
                RcdType::PayAl => pays += 1,
                _ => {}
            }
            if rcd.ty() != RcdType::Meta {
                self.pending.push((rcd.ty(), rcd));
                continue;
            }
            let run = std::mem::take(&mut self.pending);
            let mut types: Vec<RcdType> = run.iter().map(|x| x.0).collect();
            types.push(RcdType::Meta);
            let als: Vec<Rcd> = run
                .iter()
                .filter(|x| matches!(x.0, RcdType::HdrAl | RcdType::PayAl))
                .map(|x| x.1)
                .collect();
            let pieces = als
                .iter()
                .map(|a| {
                    let (mem, stride) = if a.ty() == RcdType::HdrAl {
                        (&self.hbufs, HS_HBUF_LEN)
                    } else {
                        (&self.pbufs, self.pbuf_len)
                    };
                    let off = a.buff_id() as usize * stride + a.off() as usize;
                    mem.read_bytes(off, a.len() as usize)
                })
                .collect();
            let opt = run.iter().find(|x| x.0 == RcdType::OptMeta).map(|x| x.1);
            out.push(HsFrame {
                types,
                als,
                pieces,
                opt,
                meta: rcd,
            });
        }
        if hdrs > 0 {
            self.post_hpq(hdrs);
        }
        if pays > 0 {
            self.post_ppq(pays);
        }
        if !out.is_empty() {
            w(&self.dev, RCQ_HEAD.at(self.q), self.rcq_head);
        }
        out
    }

    /// Polls until `n` frames arrived or the timeout passes.
    pub fn recv(&mut self, n: usize, timeout: Duration) -> Vec<HsFrame> {
        let t = Instant::now();
        let mut v = Vec::new();
        while v.len() < n && t.elapsed() < timeout {
            let got = self.poll();
            if got.is_empty() {
                std::thread::sleep(Duration::from_micros(50));
            }
            v.extend(got);
        }
        v
    }
}

// ---------------------------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------------------------

pub fn csum_add(mut acc: u64, d: &[u8]) -> u64 {
    for c in d.chunks(2) {
        acc += (c[0] as u64) << 8 | *c.get(1).unwrap_or(&0) as u64;
    }
    acc
}

pub fn csum_fold(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// Ethernet + IPv4 + TCP/UDP frame with correct checksums and `pay` payload bytes.
pub fn ipv4_frame(
    dst: MacAddr,
    tcp: bool,
    src_ip: [u8; 4],
    dst_ip: [u8; 4],
    sp: u16,
    dp: u16,
    pay: usize,
) -> Vec<u8> {
    let l4len = if tcp { 20 } else { 8 };
    let total = 20 + l4len + pay;
    let mut f = vec![0u8; 14 + total];
    f[0..6].copy_from_slice(&dst.0);
    f[6..12].copy_from_slice(&[0x02, 0xaa, 0, 0, 0, 1]);
    f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    f[14] = 0x45;
    f[16..18].copy_from_slice(&(total as u16).to_be_bytes());
    f[22] = 64;
    f[23] = if tcp { 6 } else { 17 };
    f[26..30].copy_from_slice(&src_ip);
    f[30..34].copy_from_slice(&dst_ip);
    let c = !csum_fold(csum_add(0, &f[14..34]));
    f[24..26].copy_from_slice(&c.to_be_bytes());
    let pseudo = csum_add(0, &f[26..34]);
    l4_finish_ports(&mut f, 34, tcp, pay, pseudo, sp, dp);
    f
}

/// Ethernet + IPv6 + TCP/UDP frame.
pub fn ipv6_frame(
    dst: MacAddr,
    tcp: bool,
    src_ip: [u8; 16],
    dst_ip: [u8; 16],
    sp: u16,
    dp: u16,
    pay: usize,
) -> Vec<u8> {
    let l4len = if tcp { 20 } else { 8 };
    let plen = l4len + pay;
    let mut f = vec![0u8; 14 + 40 + plen];
    f[0..6].copy_from_slice(&dst.0);
    f[6..12].copy_from_slice(&[0x02, 0xaa, 0, 0, 0, 1]);
    f[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
    f[14] = 0x60;
    f[18..20].copy_from_slice(&(plen as u16).to_be_bytes());
    f[20] = if tcp { 6 } else { 17 };
    f[21] = 64;
    f[22..38].copy_from_slice(&src_ip);
    f[38..54].copy_from_slice(&dst_ip);
    let pseudo = csum_add(0, &f[22..54]);
    l4_finish_ports(&mut f, 54, tcp, pay, pseudo, sp, dp);
    f
}

fn l4_finish_ports(f: &mut [u8], l4: usize, tcp: bool, pay: usize, pseudo: u64, sp: u16, dp: u16) {
    let l4len = if tcp { 20 } else { 8 };
    f[l4..l4 + 2].copy_from_slice(&sp.to_be_bytes());
    f[l4 + 2..l4 + 4].copy_from_slice(&dp.to_be_bytes());
    for (i, b) in f[l4 + l4len..].iter_mut().enumerate() {
        *b = (i * 7 + 3) as u8;
    }
    if tcp {
        f[l4 + 12] = 5 << 4;
    } else {
        f[l4 + 4..l4 + 6].copy_from_slice(&((8 + pay) as u16).to_be_bytes());
    }
    let proto = if tcp { 6 } else { 17 };
    let acc = csum_add(pseudo + proto + (l4len + pay) as u64, &f[l4..]);
    let mut c = !csum_fold(acc);
    if !tcp && c == 0 {
        c = 0xffff;
    }
    let co = if tcp { l4 + 16 } else { l4 + 6 };
    f[co..co + 2].copy_from_slice(&c.to_be_bytes());
}

/// An IPv4/UDP frame.
pub fn udp4(
    dst: MacAddr,
    src_ip: [u8; 4],
    dst_ip: [u8; 4],
    sp: u16,
    dp: u16,
    pay: usize,
) -> Vec<u8> {
    ipv4_frame(dst, false, src_ip, dst_ip, sp, dp, pay)
}

/// An IPv4/TCP frame.
pub fn tcp4(
    dst: MacAddr,
    src_ip: [u8; 4],
    dst_ip: [u8; 4],
    sp: u16,
    dp: u16,
    pay: usize,
) -> Vec<u8> {
    ipv4_frame(dst, true, src_ip, dst_ip, sp, dp, pay)
}

/// A pipe of two cabled devices with both ports up.
pub fn cabled_pair() -> (Arc<Fabric>, Arc<Device>, Arc<Device>) {
    let f = fabric();
    let a = f.add_device(dev_cfg(1));
    let b = f.add_device(dev_cfg(2));
    f.connect(&a, &b).unwrap();
    port_up(&a, 0);
    port_up(&b, 0);
    (f, a, b)
}

// ---------------------------------------------------------------------------------------------
// Firmware mailbox (host side)
// ---------------------------------------------------------------------------------------------

use fbnic_hw::desc::MbxDesc;
use fbnic_hw::msg::Msg;

/// The host side of the firmware mailbox.
pub struct Mbx {
    pub dev: Arc<Device>,
    pub mem: HostMem,
    tx_tail: u32,
    tx_head: u32,
    rx_tail: u32,
    rx_head: u32,
}

const MBX_TX_PAGES: usize = 16;

fn wd4(dev: &Device, mbx: u32, d: u32, v: MbxDesc) {
    let lo = mbx_desc_lo(mbx, d);
    dev.write32(Bar::Bar4, lo + 1, v.hi());
    dev.write32(Bar::Bar4, lo, v.lo());
}

pub fn rd4(dev: &Device, mbx: u32, d: u32) -> MbxDesc {
    let lo = mbx_desc_lo(mbx, d);
    MbxDesc::from_dwords(dev.read32(Bar::Bar4, lo), dev.read32(Bar::Bar4, lo + 1))
}

impl Mbx {
    /// Waits for signs of life, resets both rings, enables DMA and posts Rx pages.
    pub fn open(dev: &Arc<Device>, iova: u64) -> Self {
        assert!(
            wait_until(Duration::from_secs(5), || r(dev, intr_status(0))
                & INTR_STATUS0_FW_MBX
                != 0),
            "no signs of life"
        );
        Self::open_no_wait(dev, iova)
    }

    pub fn open_no_wait(dev: &Arc<Device>, iova: u64) -> Self {
        let mem = HostMem::new(dev, iova, 32 * 4096);
        for m in [MBX_RX, MBX_TX] {
            wd4(dev, m, 0, MbxDesc::default());
            for d in (1..16).rev() {
                wd4(
                    dev,
                    m,
                    d,
                    MbxDesc::default().with_fw_cmpl(true).with_host_cmpl(true),
                );
            }
        }
        w(dev, PUL_OB_TLP_HDR_AR_CFG, PUL_OB_TLP_HDR_BME);
        w(dev, PUL_OB_TLP_HDR_AW_CFG, PUL_OB_TLP_HDR_BME);
        let mut me = Self {
            dev: dev.clone(),
            mem,
            tx_tail: 0,
            tx_head: 0,
            rx_tail: 0,
            rx_head: 0,
        };
        me.post_rx_pages();
        me
    }

    fn rx_page(&self, slot: u32) -> usize {
        (MBX_TX_PAGES + slot as usize) * 4096
    }

    /// Posts empty pages on every free Rx slot.
    pub fn post_rx_pages(&mut self) {
        while (self.rx_tail + 1) % 16 != self.rx_head {
            let slot = self.rx_tail;
            self.rx_tail = (slot + 1) % 16;
            wd4(&self.dev, MBX_RX, self.rx_tail, MbxDesc::default());
            let addr = self.mem.iova + self.rx_page(slot) as u64;
            wd4(
                &self.dev,
                MBX_RX,
                slot,
                MbxDesc::default()
                    .with_addr(addr)
                    .with_len(4096)
                    .with_host_cmpl(true),
            );
        }
    }

    /// Posts raw bytes as one message. Returns the slot.
    pub fn send_raw(&mut self, bytes: &[u8]) -> u32 {
        self.reap_tx();
        let slot = self.tx_tail;
        assert_ne!((slot + 1) % 16, self.tx_head, "mailbox full");
        let off = slot as usize * 4096;
        self.mem.write_bytes(off, bytes);
        self.tx_tail = (slot + 1) % 16;
        wd4(&self.dev, MBX_TX, self.tx_tail, MbxDesc::default());
        wd4(
            &self.dev,
            MBX_TX,
            slot,
            MbxDesc::default()
                .with_addr(self.mem.iova + off as u64)
                .with_len(bytes.len() as u64)
                .with_eom(true)
                .with_host_cmpl(true),
        );
        slot
    }

    pub fn send(&mut self, m: &Msg) -> u32 {
        self.send_raw(&m.encode().unwrap())
    }

    fn reap_tx(&mut self) {
        while self.tx_head != self.tx_tail && rd4(&self.dev, MBX_TX, self.tx_head).fw_cmpl() {
            self.tx_head = (self.tx_head + 1) % 16;
        }
    }

    /// Waits for the Tx descriptor in `slot` to complete; returns it.
    pub fn wait_tx(&self, slot: u32) -> Option<MbxDesc> {
        let mut d = None;
        wait_until(Duration::from_secs(5), || {
            let x = rd4(&self.dev, MBX_TX, slot);
            d = Some(x);
            x.fw_cmpl()
        })
        .then_some(d?)
    }

    /// Receives raw messages that arrived (and reposts pages).
    pub fn recv_raw(&mut self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while self.rx_head != self.rx_tail {
            let d = rd4(&self.dev, MBX_RX, self.rx_head);
            if !d.fw_cmpl() {
                break;
            }
            out.push(
                self.mem
                    .read_bytes(self.rx_page(self.rx_head), d.len() as usize),
            );
            self.rx_head = (self.rx_head + 1) % 16;
        }
        if !out.is_empty() {
            self.post_rx_pages();
        }
        out
    }

    /// Waits for the next decodable message matching `pred`, skipping others.
    pub fn wait_msg(
        &mut self,
        timeout: Duration,
        mut pred: impl FnMut(&Msg) -> bool,
    ) -> Option<Msg> {
        let t = Instant::now();
        while t.elapsed() < timeout {
            for raw in self.recv_raw() {
                if let Ok(m) = Msg::decode(&raw) {
                    if pred(&m) {
                        return Some(m);
                    }
                }
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        None
    }

    /// Sends `m` and waits for a response matching `pred`.
    pub fn call(&mut self, m: &Msg, pred: impl FnMut(&Msg) -> bool) -> Option<Msg> {
        self.send(m);
        self.wait_msg(Duration::from_secs(5), pred)
    }
}
