//! RPC: MAC DA TCAM, action TCAM and RSS (spec 7), compiled for a fast per-frame lookup.
//!
//! TCAM entries are staged in their registers; the write of the VALIDATE word (MAC DA word 3,
//! action word 11) latches the staged words into the live entry (or invalidates it), so an
//! entry becomes live atomically as of that write. The MAC DA TCAM is compiled at once into a
//! short list of valid entries; the action TCAM is compiled lazily (before the next frame is
//! classified, under the same device lock, so the effect is the same) into a 2048-slot table
//! indexed by key word 1 bits 15:5, each slot holding the first matching entry that ignores L4
//! ports plus the (usually empty) list of earlier entries that constrain ports.
//!
//! **[project choice]** Action TCAM key words: word 1 is [`ActKey1`] (bits 4:0 read 0), words
//! 3 and 4 are the L4 source and destination ports (0 without L4). Every other word (0, 2, 5 to
//! 10) reads 0: the model has no IP address TCAMs (Linux's word 0 holds their indexes and valid
//! bits, all clear here) and no further key fields, so an entry matches only if those words
//! accept 0.

use fbnic_hw::regs::{
    self, ActKey1, ActTbl0, ActTbl1, TcamWord, ACT_ENTRIES, MACDA_ENTRIES, TCAM_ACT_DATA_WORDS,
    TCAM_VALIDATE,
};

use crate::parse::{L3TypeP, L4TypeP, Parsed};
use crate::regfile::RegFile;

/// A compiled MAC DA TCAM entry.
#[derive(Clone, Copy, Debug)]
struct MacdaEntry {
    idx: u8,
    value: u64,
    care: u64,
}

/// An action TCAM entry that constrains L4 ports.
#[derive(Clone, Copy, Debug)]
struct PortRule {
    idx: u8,
    sport: TcamWord,
    dport: TcamWord,
}

/// One slot of the action lookup table.
#[derive(Clone, Copy, Debug, Default)]
struct ActSlot {
    /// First matching entry that ignores ports; `NO_ENTRY` = the default action.
    fallback: u8,
    /// Port rules to try first: `rules[start..start + len]`.
    start: u32,
    len: u16,
}

const NO_ENTRY: u8 = 0xff;
const KEY1_SLOTS: usize = 1 << 11;

/// Counters kept by the RPC (free-running u32, published per batch).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RpcCounters {
    pub unkn_etype: u32,
    pub ipv4_frag: u32,
    pub ipv6_frag: u32,
    pub out_of_hdr: u32,
    pub ovr_size: u32,
    pub macda_miss: u32,
    pub act_drop: u32,
    pub to_bmc: u32,
}

/// The classifier state of one device.
#[derive(Debug)]
pub(crate) struct Rpc {
    macda: Vec<MacdaEntry>,
    /// Latched action entries (data words 0..11), `None` when not valid.
    act: Box<[Option<[TcamWord; TCAM_ACT_DATA_WORDS as usize]>]>,
    act_dirty: bool,
    lut: Box<[ActSlot]>,
    rules: Vec<PortRule>,
    /// The last LUT index used and its slot (traffic tends to repeat its classification).
    last: (usize, ActSlot),
    pub cnt: RpcCounters,
    pub dirty: bool,
}

/// The outcome of classification.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Action {
    /// Matching action TCAM entry, if any (else the default action).
    pub entry: Option<u8>,
    pub tbl0: ActTbl0,
    pub tbl1: ActTbl1,
}

impl Default for Rpc {
    fn default() -> Self {
        Self::new()
    }
}

impl Rpc {
    pub fn new() -> Self {
        Self {
            macda: Vec::with_capacity(MACDA_ENTRIES as usize),
            act: vec![None; ACT_ENTRIES as usize].into_boxed_slice(),
            act_dirty: true,
            lut: vec![ActSlot::default(); KEY1_SLOTS].into_boxed_slice(),
            rules: Vec::new(),
            last: (usize::MAX, ActSlot::default()),
            cnt: RpcCounters::default(),
            dirty: false,
        }
    }

    /// Latches MAC DA entry `entry` from its staged words (called on a word-3 write).
    pub fn latch_macda(&mut self, regs: &RegFile, entry: u32) {
        self.macda.retain(|e| e.idx as u32 != entry);
        if regs.get(regs::rpc_tcam_macda(entry, 3)) & TCAM_VALIDATE != 0 {
            let mut value = 0u64;
            let mut mask = 0u64;
            // Word 2 holds bytes 0-1 (most significant), word 0 bytes 4-5.
            for w in [2, 1, 0] {
                let t = TcamWord::from_raw(regs.get(regs::rpc_tcam_macda(entry, w)));
                value = value << 16 | t.value() as u64;
                mask = mask << 16 | t.mask() as u64;
            }
            let care = !mask & 0xffff_ffff_ffff;
            let e = MacdaEntry {
                idx: entry as u8,
                value: value & care,
                care,
            };
            let pos = self.macda.partition_point(|x| (x.idx as u32) < entry);
            self.macda.insert(pos, e);
        }
    }

    /// Latches action entry `entry` from its staged words (called on a word-11 write).
    pub fn latch_act(&mut self, regs: &RegFile, entry: u32) {
        let valid =
            regs.get(regs::rpc_tcam_act(entry, regs::TCAM_ACT_VALIDATE_WORD)) & TCAM_VALIDATE;
        self.act[entry as usize] = (valid != 0).then(|| {
            let mut w = [TcamWord::ANY; TCAM_ACT_DATA_WORDS as usize];
            for (i, t) in w.iter_mut().enumerate() {
                *t = TcamWord::from_raw(regs.get(regs::rpc_tcam_act(entry, i as u32)));
            }
            w
        });
        self.act_dirty = true;
    }

    /// The lowest MAC DA TCAM entry matching `da` (6 bytes, wire order).
    #[inline]
    pub fn macda_lookup(&self, da: &[u8]) -> Option<u8> {
        let k = u64::from_be_bytes([0, 0, da[0], da[1], da[2], da[3], da[4], da[5]]);
        self.macda
            .iter()
            .find(|e| (k & e.care) == e.value)
            .map(|e| e.idx)
    }

    fn compile_act(&mut self) {
        self.rules.clear();
        for k in 0..KEY1_SLOTS {
            let key1 = (k as u16) << 5;
            let start = self.rules.len() as u32;
            let mut fallback = NO_ENTRY;
            for (idx, e) in self.act.iter().enumerate() {
                let Some(w) = e else { continue };
                let fixed_ok = w.iter().enumerate().all(|(i, t)| match i as u32 {
                    regs::TCAM_ACT_WORD_FLAGS => t.matches(key1),
                    regs::TCAM_ACT_WORD_L4_SRC | regs::TCAM_ACT_WORD_L4_DST => true,
                    _ => t.matches(0),
                });
                if !fixed_ok {
                    continue;
                }
                let sport = w[regs::TCAM_ACT_WORD_L4_SRC as usize];
                let dport = w[regs::TCAM_ACT_WORD_L4_DST as usize];
                if sport.mask() == 0xffff && dport.mask() == 0xffff {
                    fallback = idx as u8;
                    break;
                }
                self.rules.push(PortRule {
                    idx: idx as u8,
                    sport,
                    dport,
                });
            }
            self.lut[k] = ActSlot {
                fallback,
                start,
                len: (self.rules.len() as u32 - start) as u16,
            };
        }
        self.act_dirty = false;
        self.last = (usize::MAX, ActSlot::default());
    }

    /// The action for a frame whose MAC DA matched entry `macda`.
    #[inline(always)]
    pub fn classify(&mut self, regs: &RegFile, p: &Parsed, macda: u8) -> Action {
        if self.act_dirty {
            self.compile_act();
        }
        let key1 = ActKey1::default()
            .with_macda_idx(macda as u32)
            .with_macda_valid(true)
            .with_ip_valid(p.l3 != L3TypeP::Other)
            .with_ip_is_v6(p.l3 == L3TypeP::V6)
            .with_l4_valid(p.l4 != L4TypeP::Other)
            .with_l4_is_udp(p.l4 == L4TypeP::Udp);
        let li = (key1.raw() >> 5) as usize & (KEY1_SLOTS - 1);
        let slot = if self.last.0 == li {
            self.last.1
        } else {
            let s = self.lut[li];
            self.last = (li, s);
            s
        };
        let mut hit = slot.fallback;
        if slot.len != 0 {
            let rules = &self.rules[slot.start as usize..slot.start as usize + slot.len as usize];
            if let Some(r) = rules
                .iter()
                .find(|r| r.sport.matches(p.sport) && r.dport.matches(p.dport))
            {
                hit = r.idx;
            }
        }
        if hit == NO_ENTRY {
            Action {
                entry: None,
                tbl0: ActTbl0::from_raw(regs.get(regs::RPC_ACT_TBL0_DEFAULT)),
                tbl1: ActTbl1::from_raw(regs.get(regs::RPC_ACT_TBL1_DEFAULT)),
            }
        } else {
            Action {
                entry: Some(hit),
                tbl0: ActTbl0::from_raw(regs.get(regs::rpc_act_tbl0(hit as u32))),
                tbl1: ActTbl1::from_raw(regs.get(regs::rpc_act_tbl1(hit as u32))),
            }
        }
    }

    /// Publishes the counters.
    pub fn publish(&mut self, regs: &RegFile) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        let c = &self.cnt;
        regs.set(regs::RPC_CNTR_UNKN_ETYPE, c.unkn_etype);
        regs.set(regs::RPC_CNTR_IPV4_FRAG, c.ipv4_frag);
        regs.set(regs::RPC_CNTR_IPV6_FRAG, c.ipv6_frag);
        regs.set(regs::RPC_CNTR_OUT_OF_HDR_ERR, c.out_of_hdr);
        regs.set(regs::RPC_CNTR_OVR_SIZE_ERR, c.ovr_size);
        regs.set(regs::RPC_CNTR_MACDA_MISS, c.macda_miss);
        regs.set(regs::RPC_CNTR_ACT_DROP, c.act_drop);
        regs.set(regs::RPC_CNTR_TO_BMC, c.to_bmc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fbnic_hw::regs::{rpc_act_tbl0, rpc_tcam_act, rpc_tcam_macda};

    fn set_macda(regs: &RegFile, rpc: &mut Rpc, e: u32, mac: [u8; 6], mask: [u8; 6]) {
        for (w, i) in [(2u32, 0usize), (1, 2), (0, 4)] {
            let v = u16::from_be_bytes([mac[i], mac[i + 1]]);
            let m = u16::from_be_bytes([mask[i], mask[i + 1]]);
            regs.set(
                rpc_tcam_macda(e, w),
                TcamWord::default()
                    .with_value(v as u32)
                    .with_mask(m as u32)
                    .raw(),
            );
        }
        regs.set(rpc_tcam_macda(e, 3), TCAM_VALIDATE);
        rpc.latch_macda(regs, e);
    }

    #[test]
    fn macda_lowest_index_wins() {
        let regs = RegFile::new();
        let mut rpc = Rpc::new();
        set_macda(&regs, &mut rpc, 31, [0; 6], [0xff; 6]);
        set_macda(&regs, &mut rpc, 30, [2, 0, 0, 0, 0, 1], [0; 6]);
        set_macda(&regs, &mut rpc, 4, [0xff; 6], [0; 6]);
        set_macda(&regs, &mut rpc, 5, [1, 0, 0x5e, 0, 0, 1], [0; 6]);
        assert_eq!(rpc.macda_lookup(&[2, 0, 0, 0, 0, 1]), Some(30));
        assert_eq!(rpc.macda_lookup(&[2, 0, 0, 0, 0, 2]), Some(31));
        assert_eq!(rpc.macda_lookup(&[0xff; 6]), Some(4));
        assert_eq!(rpc.macda_lookup(&[1, 0, 0x5e, 0, 0, 1]), Some(5));
        regs.set(rpc_tcam_macda(31, 3), 0);
        rpc.latch_macda(&regs, 31);
        assert_eq!(rpc.macda_lookup(&[2, 0, 0, 0, 0, 2]), None);
        // Staging words without VALIDATE does not change the live entry.
        regs.set(rpc_tcam_macda(30, 0), 0x0002);
        assert_eq!(rpc.macda_lookup(&[2, 0, 0, 0, 0, 1]), Some(30));
    }

    fn set_act(regs: &RegFile, rpc: &mut Rpc, e: u32, w1: TcamWord, sport: TcamWord, tbl0: u32) {
        for w in 0..TCAM_ACT_DATA_WORDS {
            regs.set(rpc_tcam_act(e, w), TcamWord::ANY.raw());
        }
        regs.set(rpc_tcam_act(e, 1), w1.raw());
        regs.set(rpc_tcam_act(e, 3), sport.raw());
        regs.set(rpc_act_tbl0(e), tbl0);
        regs.set(rpc_tcam_act(e, 11), TCAM_VALIDATE);
        rpc.latch_act(regs, e);
    }

    #[test]
    fn action_precedence_and_ports() {
        let regs = RegFile::new();
        let mut rpc = Rpc::new();
        regs.set(
            regs::RPC_ACT_TBL0_DEFAULT,
            ActTbl0::default().with_drop(true).raw(),
        );
        let udp = ActKey1::default()
            .with_l4_valid(true)
            .with_l4_is_udp(true)
            .raw();
        let udp_w = TcamWord::default().with_value(udp).with_mask(0xffff & !udp);
        // Entry 10: UDP, any port -> queue 3. Entry 5: UDP sport 53 -> queue 7.
        set_act(
            &regs,
            &mut rpc,
            10,
            udp_w,
            TcamWord::ANY,
            ActTbl0::default().with_q_id(3).raw(),
        );
        set_act(
            &regs,
            &mut rpc,
            5,
            udp_w,
            TcamWord::exact(53),
            ActTbl0::default().with_q_id(7).raw(),
        );
        let mut p = Parsed {
            l3: L3TypeP::V4,
            l4: L4TypeP::Udp,
            sport: 53,
            dport: 9,
            ..Default::default()
        };
        let a = rpc.classify(&regs, &p, 30);
        assert_eq!((a.entry, a.tbl0.q_id()), (Some(5), 7));
        p.sport = 54;
        let a = rpc.classify(&regs, &p, 30);
        assert_eq!((a.entry, a.tbl0.q_id()), (Some(10), 3));
        p.l4 = L4TypeP::Tcp;
        let a = rpc.classify(&regs, &p, 30);
        assert_eq!(a.entry, None);
        assert!(a.tbl0.drop());
        // Entry 2 with a non-zero requirement on word 0 never matches.
        for w in 0..TCAM_ACT_DATA_WORDS {
            regs.set(rpc_tcam_act(2, w), TcamWord::ANY.raw());
        }
        regs.set(rpc_tcam_act(2, 0), TcamWord::exact(1).raw());
        regs.set(rpc_tcam_act(2, 11), TCAM_VALIDATE);
        rpc.latch_act(&regs, 2);
        p.l4 = L4TypeP::Udp;
        assert_eq!(rpc.classify(&regs, &p, 30).entry, Some(10));
    }
}

#[cfg(test)]
mod bench {
    use super::*;
    use crate::parse;
    use crate::rss::Rss;

    /// Cost of the per-frame RPC work (parse, TCAMs, RSS, checksums) for a 60-byte frame.
    #[test]
    #[ignore]
    fn rpc_cost_per_frame() {
        let regs = RegFile::new();
        let mut rpc = Rpc::new();
        let mut rss = Rss::default();
        let mac = [2u8, 0, 0, 0, 0, 1];
        for (w, i) in [(2u32, 0usize), (1, 2), (0, 4)] {
            let v = u16::from_be_bytes([mac[i], mac[i + 1]]) as u32;
            regs.set(regs::rpc_tcam_macda(30, w), v);
        }
        regs.set(regs::rpc_tcam_macda(30, 3), TCAM_VALIDATE);
        rpc.latch_macda(&regs, 30);
        let udp = ActKey1::default()
            .with_ip_valid(true)
            .with_l4_valid(true)
            .with_l4_is_udp(true);
        for w in 0..TCAM_ACT_DATA_WORDS {
            regs.set(regs::rpc_tcam_act(50, w), TcamWord::ANY.raw());
        }
        regs.set(
            regs::rpc_tcam_act(50, 1),
            TcamWord::default()
                .with_value(udp.raw())
                .with_mask(!udp.raw() & 0xffff)
                .raw(),
        );
        regs.set(regs::rpc_act_tbl1(50), 0xf);
        regs.set(regs::rpc_tcam_act(50, 11), TCAM_VALIDATE);
        rpc.latch_act(&regs, 50);
        let frames: Vec<Vec<u8>> = (0..256u16)
            .map(|i| {
                parse::tests::ipv4_frame(false, [10, 0, 0, 1], [10, 0, 1, 2], 1000 + i, 80, 18)
            })
            .map(|mut f| {
                f[..6].copy_from_slice(&mac);
                f
            })
            .collect();
        let n = 2_000_000u32;
        let mut acc = 0u64;
        for stage in 0..5 {
            let t = std::time::Instant::now();
            for i in 0..n {
                let f = std::hint::black_box(&frames[(i & 255) as usize]);
                let p = parse::parse(f);
                acc = acc.wrapping_add(p.sport as u64);
                if stage >= 1 {
                    let m = rpc.macda_lookup(&f[..6]).unwrap();
                    acc += m as u64;
                    if stage >= 2 {
                        let a = rpc.classify(&regs, &p, m);
                        acc += a.tbl1.raw() as u64;
                        if stage >= 3 {
                            acc += rss.hash(&regs, f, &p, a.tbl1) as u64;
                        }
                    }
                }
                if stage >= 4 {
                    acc += parse::sums(f, &p).l2 as u64;
                }
            }
            let ns = t.elapsed().as_nanos() as f64 / n as f64;
            println!("stage {stage}: {ns:.1} ns/frame");
        }
        let ns = 0.0;
        println!("rpc cost: {ns:.1} ns/frame ({acc})");
    }
}
