//! Receive classification (spec 7): the MAC DA TCAM (which destination addresses are
//! accepted), the action TCAM (what happens to them: BMC, host queues, RSS fields) and the RSS
//! key and indirection table.
//!
//! The driver keeps the wanted state ([`RxFilters`], [`RssConfig`], the BMC's addresses) and
//! computes whole tables from it, so a firmware restart or a port restart rewrites exactly
//! the same rules.

use fbnic_hw::mac::MacAddr;
use fbnic_hw::regs::{self, ActKey1, ActTbl0, ActTbl1, Bar, TcamWord};

use crate::error::{Error, Result};
use crate::flow::{FlowAction, FlowId, FlowIp, FlowL4, FlowTable, PortMatch, QueueSet};
use crate::transport::Transport;

/// Bytes of RSS key the driver exposes: enough for the longest hash input (IPv6 with ports,
/// 36 bytes, needs 36 + 4); the device's remaining key bits are written as zero.
pub const RSS_KEY_LEN: usize = 40;
/// Entries in the RSS indirection table.
pub const RETA_SIZE: usize = regs::RSS_TBL_ENTRIES as usize;
/// Most extra unicast addresses (MAC DA entries boundary..=29).
pub const MAX_EXTRA_UC: usize = (regs::MACDA_IDX_UC_LAST - regs::MACDA_IDX_BOUNDARY + 1) as usize;
/// Most multicast addresses (MAC DA entries 5..boundary).
pub const MAX_MC: usize = (regs::MACDA_IDX_BOUNDARY - regs::MACDA_IDX_MC_FIRST) as usize;

/// The default RSS key (the well-known Microsoft key, as DPDK's testpmd uses).
pub const DEFAULT_RSS_KEY: [u8; RSS_KEY_LEN] = [
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
    0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
    0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
];

/// Which packets get hashed, and over what.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RssHash {
    /// IPv4 packets: source and destination address.
    pub ipv4: bool,
    /// TCP over IPv4: addresses and ports.
    pub ipv4_tcp: bool,
    /// UDP over IPv4: addresses and ports.
    pub ipv4_udp: bool,
    /// IPv6 packets: source and destination address.
    pub ipv6: bool,
    /// TCP over IPv6: addresses and ports.
    pub ipv6_tcp: bool,
    /// UDP over IPv6: addresses and ports.
    pub ipv6_udp: bool,
}

impl RssHash {
    /// Everything the device can hash.
    pub const ALL: Self = Self {
        ipv4: true,
        ipv4_tcp: true,
        ipv4_udp: true,
        ipv6: true,
        ipv6_tcp: true,
        ipv6_udp: true,
    };

    /// Whether any hashing is on.
    pub fn any(self) -> bool {
        self != Self::default()
    }
}

/// RSS key, table and hashed fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RssConfig {
    /// The Toeplitz key.
    pub key: [u8; RSS_KEY_LEN],
    /// Queue for each of the 256 hash buckets (`hash & 255`).
    pub reta: [u16; RETA_SIZE],
    /// What gets hashed.
    pub hash: RssHash,
}

impl RssConfig {
    /// The default key, buckets spread round-robin over `nb_queues`, hashing `hash`.
    pub fn spread(nb_queues: u16, hash: RssHash) -> Self {
        let n = nb_queues.max(1);
        Self {
            key: DEFAULT_RSS_KEY,
            reta: core::array::from_fn(|i| i as u16 % n),
            hash,
        }
    }

    /// Checks that every table entry names a queue below `nb_queues`.
    pub fn check(&self, nb_queues: u16) -> Result<()> {
        if let Some((i, q)) = self
            .reta
            .iter()
            .enumerate()
            .find(|(_, &q)| q >= nb_queues.max(1))
        {
            return Err(Error::invalid(format!(
                "RSS indirection entry {i} points at queue {q}, but only {nb_queues} Rx queues exist"
            )));
        }
        Ok(())
    }
}

/// Which destination addresses the host accepts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RxFilters {
    /// The port's own address.
    pub primary: MacAddr,
    /// Further unicast addresses.
    pub uc: Vec<MacAddr>,
    /// Multicast addresses.
    pub mc: Vec<MacAddr>,
    /// Accept everything.
    pub promisc: bool,
    /// Accept every multicast.
    pub allmulti: bool,
}

/// The BMC sharing the port, as the firmware reported it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BmcInfo {
    /// Its unicast addresses (at most 4).
    pub macs: Vec<MacAddr>,
    /// It wants every multicast frame too.
    pub all_multi: bool,
}

/// A MAC DA TCAM entry: match `value` on the bits `mask` does not mark don't-care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacDaEntry {
    value: MacAddr,
    /// 1 bits are don't care.
    dont_care: [u8; 6],
}

impl MacDaEntry {
    /// Exactly `mac`.
    pub const fn exact(mac: MacAddr) -> Self {
        Self {
            value: mac,
            dont_care: [0; 6],
        }
    }

    /// Every address.
    pub const ANY: Self = Self {
        value: MacAddr::ZERO,
        dont_care: [0xff; 6],
    };

    /// Every multicast (group bit set) address.
    pub const ANY_MULTICAST: Self = Self {
        value: MacAddr([1, 0, 0, 0, 0, 0]),
        dont_care: [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff],
    };

    /// The four TCAM words (spec 7.1): word 0 = bytes 4-5, word 1 = bytes 2-3, word 2 = bytes
    /// 0-1, big-endian 16-bit values.
    fn words(&self) -> [TcamWord; 3] {
        let v = &self.value.0;
        let m = &self.dont_care;
        let w = |i: usize| {
            TcamWord::default()
                .with_value(u16::from_be_bytes([v[i], v[i + 1]]) as u32)
                .with_mask(u16::from_be_bytes([m[i], m[i + 1]]) as u32)
        };
        [w(4), w(2), w(0)]
    }
}

/// The full MAC DA TCAM the filters call for, and whether lists overflowed into promiscuous
/// or all-multicast.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MacDaTable {
    /// Entry per index; `None` is invalid.
    pub entries: [Option<MacDaEntry>; regs::MACDA_ENTRIES as usize],
    /// The unicast list did not fit: entry 31 is promiscuous.
    pub uc_overflow: bool,
    /// The multicast list did not fit: entry 31 is all-multicast.
    pub mc_overflow: bool,
}

impl MacDaTable {
    /// Lays out the table per spec 7.1. With `host` false only the BMC entries are present
    /// (the host receives nothing).
    pub fn build(filters: &RxFilters, bmc: Option<&BmcInfo>, host: bool) -> Self {
        let mut t = Self {
            entries: [None; regs::MACDA_ENTRIES as usize],
            uc_overflow: false,
            mc_overflow: false,
        };
        if let Some(bmc) = bmc {
            for (i, mac) in bmc.macs.iter().take(4).enumerate() {
                t.entries[regs::MACDA_IDX_BMC_FIRST as usize + i] = Some(MacDaEntry::exact(*mac));
            }
        }
        if !host {
            return t;
        }
        t.entries[regs::MACDA_IDX_BROADCAST as usize] = Some(MacDaEntry::exact(MacAddr::BROADCAST));
        t.mc_overflow = filters.mc.len() > MAX_MC;
        if !t.mc_overflow {
            for (i, mac) in filters.mc.iter().enumerate() {
                t.entries[regs::MACDA_IDX_MC_FIRST as usize + i] = Some(MacDaEntry::exact(*mac));
            }
        }
        t.uc_overflow = filters.uc.len() > MAX_EXTRA_UC;
        if !t.uc_overflow {
            for (i, mac) in filters.uc.iter().enumerate() {
                t.entries[regs::MACDA_IDX_UC_LAST as usize - i] = Some(MacDaEntry::exact(*mac));
            }
        }
        t.entries[regs::MACDA_IDX_PRIMARY as usize] = Some(MacDaEntry::exact(filters.primary));
        t.entries[regs::MACDA_IDX_PROMISC as usize] = if filters.promisc || t.uc_overflow {
            Some(MacDaEntry::ANY)
        } else if filters.allmulti || t.mc_overflow {
            Some(MacDaEntry::ANY_MULTICAST)
        } else {
            None
        };
        t
    }

    /// Writes every entry: data words first, then VALIDATE (or 0 to invalidate).
    pub fn write(&self, tp: &dyn Transport) {
        for (idx, e) in self.entries.iter().enumerate() {
            let idx = idx as u32;
            // Invalidate first so the entry never matches half-written words.
            tp.write32(
                Bar::Bar0,
                regs::rpc_tcam_macda(idx, regs::TCAM_MACDA_VALIDATE_WORD),
                0,
            );
            if let Some(e) = e {
                for (w, word) in e.words().iter().enumerate() {
                    tp.write32(Bar::Bar0, regs::rpc_tcam_macda(idx, w as u32), word.raw());
                }
                tp.write32(
                    Bar::Bar0,
                    regs::rpc_tcam_macda(idx, regs::TCAM_MACDA_VALIDATE_WORD),
                    regs::TCAM_VALIDATE,
                );
            }
        }
    }
}

/// Flow types of the RSS rules, in rule order (most specific first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FlowType {
    Udp6,
    Udp4,
    Tcp6,
    Tcp4,
    Ip6,
    Ip4,
    Ether,
}

const FLOW_TYPES: [FlowType; 7] = [
    FlowType::Udp6,
    FlowType::Udp4,
    FlowType::Tcp6,
    FlowType::Tcp4,
    FlowType::Ip6,
    FlowType::Ip4,
    FlowType::Ether,
];

/// Where a port's header-split queues cut frames between header and payload buffers (DPDK
/// buffer split, `rte_eth_rxseg_split`): the action table's DMA hint, set per flow type, so
/// it is one choice for the whole port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitHdrs {
    /// At a fixed length (the queue's RDE_CTL1.MAX_HDR).
    Length,
    /// After the Ethernet header.
    L2,
    /// After the IPv4 (`v6` false) or IPv6 header.
    L3 { v6: bool },
    /// After the TCP (`udp` false) or UDP header over IPv4 or IPv6.
    L4 { v6: bool, udp: bool },
}

impl SplitHdrs {
    /// The DMA hint of the action entries of flow type `ft`: the deepest of the requested
    /// headers a frame of that type has (a TCP frame on a port split after UDP headers is
    /// cut after its IP header, an IPv6 frame on a port split after IPv4 headers after its
    /// Ethernet header).
    fn dma_hint(self, ft: FlowType) -> u32 {
        let (ip, l4) = match ft {
            FlowType::Udp6 => (Some(true), Some(true)),
            FlowType::Udp4 => (Some(false), Some(true)),
            FlowType::Tcp6 => (Some(true), Some(false)),
            FlowType::Tcp4 => (Some(false), Some(false)),
            FlowType::Ip6 => (Some(true), None),
            FlowType::Ip4 => (Some(false), None),
            FlowType::Ether => (None, None),
        };
        match self {
            Self::Length => regs::DMA_HINT_NONE,
            Self::L2 => regs::DMA_HINT_L2,
            Self::L3 { v6 } if ip == Some(v6) => regs::DMA_HINT_L3,
            Self::L4 { v6, udp } if ip == Some(v6) && l4 == Some(udp) => regs::DMA_HINT_L4,
            Self::L4 { v6, .. } if ip == Some(v6) => regs::DMA_HINT_L3,
            Self::L3 { .. } | Self::L4 { .. } => regs::DMA_HINT_L2,
        }
    }
}

/// First action TCAM entry of the RSS rules (spec 7.2 entry plan: 50-63).
const ACT_IDX_RSS_FIRST: u32 = 50;
/// First action TCAM entry of the flow rules (spec 7.2 entry plan: 2-49).
const ACT_IDX_FLOW_FIRST: u32 = 2;
/// Action TCAM entries for flow rules.
pub const FLOW_ENTRIES: usize = (ACT_IDX_RSS_FIRST - ACT_IDX_FLOW_FIRST) as usize;
/// Action TCAM entry steering BMC unicast to the BMC.
const ACT_IDX_BMC_UC: u32 = 0;

/// An action TCAM key word 1: value and don't-care mask built field by field.
#[derive(Clone, Copy)]
struct Key1 {
    value: ActKey1,
    care: ActKey1,
}

impl Key1 {
    fn any() -> Self {
        Self {
            value: ActKey1::default(),
            care: ActKey1::default(),
        }
    }

    fn word(self) -> TcamWord {
        TcamWord::default()
            .with_value(self.value.raw())
            .with_mask(!self.care.raw() & 0xffff)
    }

    fn flow(mut self, ft: FlowType) -> Self {
        let (ip, v6, l4, udp) = match ft {
            FlowType::Udp6 => (true, Some(true), Some(true), Some(true)),
            FlowType::Udp4 => (true, Some(false), Some(true), Some(true)),
            FlowType::Tcp6 => (true, Some(true), Some(true), Some(false)),
            FlowType::Tcp4 => (true, Some(false), Some(true), Some(false)),
            FlowType::Ip6 => (true, Some(true), None, None),
            FlowType::Ip4 => (true, Some(false), None, None),
            FlowType::Ether => (false, None, None, None),
        };
        if ip {
            self.value = self.value.with_ip_valid(true);
            self.care = self.care.with_ip_valid(true);
        }
        if let Some(v6) = v6 {
            self.value = self.value.with_ip_is_v6(v6);
            self.care = self.care.with_ip_is_v6(true);
        }
        if let Some(l4) = l4 {
            self.value = self.value.with_l4_valid(l4);
            self.care = self.care.with_l4_valid(true);
        }
        if let Some(udp) = udp {
            self.value = self.value.with_l4_is_udp(udp);
            self.care = self.care.with_l4_is_udp(true);
        }
        self
    }

    /// MAC DA entry index matches `idx` in its top bits, ignoring the low `low_bits` bits.
    fn macda(mut self, idx: u32, low_bits: u32) -> Self {
        let idx_mask = 0x1f & !((1u32 << low_bits) - 1);
        self.value = self
            .value
            .with_macda_valid(true)
            .with_macda_idx(idx & idx_mask);
        self.care = self.care.with_macda_valid(true).with_macda_idx(idx_mask);
        self
    }
}

fn rss_fields(ft: FlowType, h: RssHash) -> ActTbl1 {
    let addrs = ActTbl1::default().with_ip_src(true).with_ip_dst(true);
    let ports = addrs.with_l4_src(true).with_l4_dst(true);
    let (l4, l3) = match ft {
        FlowType::Udp6 => (h.ipv6_udp, h.ipv6),
        FlowType::Tcp6 => (h.ipv6_tcp, h.ipv6),
        FlowType::Udp4 => (h.ipv4_udp, h.ipv4),
        FlowType::Tcp4 => (h.ipv4_tcp, h.ipv4),
        FlowType::Ip6 => (false, h.ipv6),
        FlowType::Ip4 => (false, h.ipv4),
        FlowType::Ether => (false, false),
    };
    if l4 {
        ports
    } else if l3 {
        addrs
    } else {
        ActTbl1::default()
    }
}

/// Whether the device hashes a packet of this L3/L4 type under `h` (so the driver can tell
/// applications the hash is valid).
pub fn is_hashed(l3: fbnic_hw::desc::L3Type, l4: fbnic_hw::desc::L4Type, h: RssHash) -> bool {
    use fbnic_hw::desc::{L3Type, L4Type};
    let ft = match (l3, l4) {
        (L3Type::Ipv4, L4Type::Tcp) => FlowType::Tcp4,
        (L3Type::Ipv4, L4Type::Udp) => FlowType::Udp4,
        (L3Type::Ipv4, L4Type::Other) => FlowType::Ip4,
        (L3Type::Ipv6 | L3Type::V6V6, L4Type::Tcp) => FlowType::Tcp6,
        (L3Type::Ipv6 | L3Type::V6V6, L4Type::Udp) => FlowType::Udp6,
        (L3Type::Ipv6 | L3Type::V6V6, L4Type::Other) => FlowType::Ip6,
        (L3Type::Other, _) => FlowType::Ether,
    };
    rss_fields(ft, h) != ActTbl1::default()
}

/// One action TCAM entry: its key (word 1 and the L4 port words) and its action.
#[derive(Clone, Copy)]
struct ActEntry {
    key1: Key1,
    /// The flow type the entry matches (None: the BMC's entries).
    ft: Option<FlowType>,
    sport: TcamWord,
    dport: TcamWord,
    act0: ActTbl0,
    act1: ActTbl1,
}

impl ActEntry {
    /// An entry matching on word 1 only.
    fn new(key1: Key1, ft: Option<FlowType>, act0: ActTbl0, act1: ActTbl1) -> Self {
        Self {
            key1,
            ft,
            sport: TcamWord::ANY,
            dport: TcamWord::ANY,
            act0,
            act1,
        }
    }
}

/// A port match as a TCAM word (TCAM mask bits are the don't-care ones).
fn port_word(m: PortMatch) -> TcamWord {
    TcamWord::default()
        .with_value((m.value & m.mask) as u32)
        .with_mask(!m.mask as u32)
}

/// The flow types a rule's IP version and L4 protocol cover, in RSS rule order. A rule
/// becomes one entry per flow type, so that each can hash the fields the RSS rule of that
/// type would (the hash stays valid on frames a rule steers).
fn flow_types(ip: FlowIp, l4: FlowL4) -> impl Iterator<Item = FlowType> {
    FLOW_TYPES.into_iter().filter(move |ft| {
        let (v6, proto) = match ft {
            FlowType::Udp6 => (Some(true), FlowL4::Udp),
            FlowType::Udp4 => (Some(false), FlowL4::Udp),
            FlowType::Tcp6 => (Some(true), FlowL4::Tcp),
            FlowType::Tcp4 => (Some(false), FlowL4::Tcp),
            FlowType::Ip6 => (Some(true), FlowL4::Any),
            FlowType::Ip4 => (Some(false), FlowL4::Any),
            FlowType::Ether => (None, FlowL4::Any),
        };
        let ip_ok = match ip {
            FlowIp::Any => v6.is_some() || l4 == FlowL4::Any,
            FlowIp::V4 => v6 == Some(false),
            FlowIp::V6 => v6 == Some(true),
        };
        ip_ok && (l4 == FlowL4::Any || l4 == proto)
    })
}

/// The action TCAM entries of the flow rules, in match order. With a BMC that receives all
/// multicast, each rule takes two entries per flow type: one for the host's unicast
/// addresses, one for the rest, which still copies to the BMC what the RSS rules would.
/// Fails when they do not fit entries 2-49.
fn flow_entries(
    flows: &FlowTable,
    rss: &RssConfig,
    bmc: Option<&BmcInfo>,
) -> Result<Vec<ActEntry>> {
    let bmc_all_multi = bmc.is_some_and(|b| b.all_multi);
    if let [first, other, ..] = flows.rss_sets()[..] {
        let names = |s: QueueSet| {
            s.iter()
                .map(|q| q.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        return Err(Error::NotSupported(format!(
            "RSS rules over queues {} and over queues {}: the device has one indirection table for rules, so every RSS rule spreads over the same queues",
            names(first),
            names(other)
        )));
    }
    let mut out = Vec::new();
    for r in flows.rules() {
        let (host, bmc_copy) = match r.action {
            FlowAction::Queue(q) => {
                let a = ActTbl0::default()
                    .with_dest(regs::ACT_DEST_HOST)
                    .with_q_sel(true)
                    .with_q_id(q as u32);
                (a, a.with_dest(regs::ACT_DEST_HOST | regs::ACT_DEST_BMC))
            }
            FlowAction::Rss(_) => {
                // The hash picks the queue from the rules' indirection table (context 1).
                let a = ActTbl0::default()
                    .with_dest(regs::ACT_DEST_HOST)
                    .with_rss_ctxt_id(true);
                (a, a.with_dest(regs::ACT_DEST_HOST | regs::ACT_DEST_BMC))
            }
            FlowAction::Drop => (
                ActTbl0::default().with_drop(true),
                ActTbl0::default().with_dest(regs::ACT_DEST_BMC),
            ),
        };
        for ft in flow_types(r.ip, r.l4) {
            let e = ActEntry {
                key1: Key1::any().flow(ft),
                ft: Some(ft),
                sport: port_word(r.sport),
                dport: port_word(r.dport),
                act0: host,
                act1: rss_fields(ft, rss.hash),
            };
            if bmc_all_multi {
                out.push(ActEntry {
                    key1: e.key1.macda(regs::MACDA_IDX_BOUNDARY, 3),
                    ..e
                });
                out.push(ActEntry {
                    act0: bmc_copy,
                    ..e
                });
            } else {
                out.push(e);
            }
        }
    }
    if out.len() > FLOW_ENTRIES {
        return Err(Error::NoSpace(format!(
            "the flow rules need {} action TCAM entries, the device has {FLOW_ENTRIES} for them",
            out.len()
        )));
    }
    Ok(out)
}

/// Where the flow rules sit in the action TCAM: each rule's id and its entries (first,
/// count), in match order, as [`write_actions`] places them.
pub fn flow_placement(flows: &FlowTable, bmc: Option<&BmcInfo>) -> Vec<(FlowId, u32, u32)> {
    let per_type = if bmc.is_some_and(|b| b.all_multi) {
        2
    } else {
        1
    };
    let mut at = ACT_IDX_FLOW_FIRST;
    flows
        .with_ids()
        .map(|(id, r)| {
            let n = per_type * flow_types(r.ip, r.l4).count() as u32;
            at += n;
            (id, at - n, n)
        })
        .collect()
}

/// Checks that `flows` fit the action TCAM (with the BMC `bmc`, if known).
pub fn check_flows(flows: &FlowTable, rss: &RssConfig, bmc: Option<&BmcInfo>) -> Result<()> {
    flow_entries(flows, rss, bmc).map(|_| ())
}

fn write_act(tp: &dyn Transport, idx: u32, e: Option<ActEntry>) {
    tp.write32(
        Bar::Bar0,
        regs::rpc_tcam_act(idx, regs::TCAM_ACT_VALIDATE_WORD),
        0,
    );
    let Some(e) = e else { return };
    tp.write32(Bar::Bar0, regs::rpc_act_tbl0(idx), e.act0.raw());
    tp.write32(Bar::Bar0, regs::rpc_act_tbl1(idx), e.act1.raw());
    for w in 0..regs::TCAM_ACT_DATA_WORDS {
        let word = match w {
            regs::TCAM_ACT_WORD_FLAGS => e.key1.word(),
            regs::TCAM_ACT_WORD_L4_SRC => e.sport,
            regs::TCAM_ACT_WORD_L4_DST => e.dport,
            _ => TcamWord::ANY,
        };
        tp.write32(Bar::Bar0, regs::rpc_tcam_act(idx, w), word.raw());
    }
    tp.write32(
        Bar::Bar0,
        regs::rpc_tcam_act(idx, regs::TCAM_ACT_VALIDATE_WORD),
        regs::TCAM_VALIDATE,
    );
}

/// Which of the host's rules the action TCAM holds besides the BMC's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostRules {
    /// None: the port is stopped (only the BMC's traffic is delivered).
    Off,
    /// The flow rules only (rte_flow isolated mode): what no rule takes is dropped.
    Isolated,
    /// The flow rules, then the RSS rules for everything the MAC DA TCAM accepted.
    All,
}

/// Writes the action TCAM: the BMC rule (if any), the flow rules and the RSS rules as `host`
/// says, and a default action of DROP; with the flow rules, first the indirection table the
/// RSS flow rules select ([`rule_table`]). Entries not in the plan are invalidated. With
/// `stamp`, frames for the host get an Rx timestamp (TS_ENA); with `split`, their actions
/// carry the DMA hint that places the header-split queues' cut. Fails, writing nothing, if
/// the flow rules do not fit.
pub fn write_actions(
    tp: &dyn Transport,
    rss: &RssConfig,
    flows: &FlowTable,
    bmc: Option<&BmcInfo>,
    host: HostRules,
    stamp: bool,
    split: Option<SplitHdrs>,
) -> Result<()> {
    let flow_plan = if host == HostRules::Off {
        Vec::new()
    } else {
        let plan = flow_entries(flows, rss, bmc)?;
        // The rules' indirection table before the entries that select it.
        write_rule_table(tp, rss, flows);
        plan
    };
    tp.write32(
        Bar::Bar0,
        regs::RPC_ACT_TBL0_DEFAULT,
        ActTbl0::default().with_drop(true).raw(),
    );
    tp.write32(Bar::Bar0, regs::RPC_ACT_TBL1_DEFAULT, 0);
    let mut plan: [Option<ActEntry>; regs::ACT_ENTRIES as usize] =
        [None; regs::ACT_ENTRIES as usize];
    if bmc.is_some_and(|b| !b.macs.is_empty()) {
        plan[ACT_IDX_BMC_UC as usize] = Some(ActEntry::new(
            Key1::any().macda(regs::MACDA_IDX_BMC_FIRST, 2),
            None,
            ActTbl0::default().with_dest(regs::ACT_DEST_BMC),
            ActTbl1::default(),
        ));
    }
    for (i, e) in flow_plan.into_iter().enumerate() {
        plan[ACT_IDX_FLOW_FIRST as usize + i] = Some(e);
    }
    if host != HostRules::Off {
        let bmc_all_multi = bmc.is_some_and(|b| b.all_multi);
        let rss_on = host == HostRules::All;
        let n = FLOW_TYPES.len() as u32;
        for (i, &ft) in FLOW_TYPES.iter().enumerate() {
            let act1 = rss_fields(ft, rss.hash);
            // Host unicast: MAC DA entries boundary..=31 (extra unicast, primary, promiscuous).
            if rss_on {
                plan[(ACT_IDX_RSS_FIRST + i as u32) as usize] = Some(ActEntry::new(
                    Key1::any().flow(ft).macda(regs::MACDA_IDX_BOUNDARY, 3),
                    Some(ft),
                    ActTbl0::default().with_dest(regs::ACT_DEST_HOST),
                    act1,
                ));
            }
            // Anything else the MAC DA TCAM accepted (broadcast, multicast); isolated, the
            // BMC's copy of it stays.
            let dest = match (rss_on, bmc_all_multi) {
                (true, true) => regs::ACT_DEST_HOST | regs::ACT_DEST_BMC,
                (true, false) => regs::ACT_DEST_HOST,
                (false, true) => regs::ACT_DEST_BMC,
                (false, false) => continue,
            };
            plan[(ACT_IDX_RSS_FIRST + n + i as u32) as usize] = Some(ActEntry::new(
                Key1::any().flow(ft),
                Some(ft),
                ActTbl0::default().with_dest(dest),
                act1,
            ));
        }
    }
    for e in plan.iter_mut().flatten() {
        if e.act0.dest() & regs::ACT_DEST_HOST == 0 {
            continue;
        }
        if stamp {
            e.act0 = e.act0.with_ts_ena(true);
        }
        if let (Some(split), Some(ft)) = (split, e.ft) {
            e.act0 = e.act0.with_dma_hint(split.dma_hint(ft));
        }
    }
    for (idx, e) in plan.iter().enumerate() {
        write_act(tp, idx as u32, *e);
    }
    Ok(())
}

/// Writes the RSS key (key byte i in dword i/4, most significant byte first) and the port's
/// indirection table (table 0; [`write_actions`] writes table 1, the rules').
pub fn write_rss(tp: &dyn Transport, rss: &RssConfig) {
    let mut key = [0u8; regs::RSS_KEY_DWORDS as usize * 4];
    key[..RSS_KEY_LEN].copy_from_slice(&rss.key);
    for (i, chunk) in key.chunks_exact(4).enumerate() {
        let dword = u32::from_be_bytes(chunk.try_into().expect("chunks of 4"));
        tp.write32(Bar::Bar0, regs::rpc_rss_key(i as u32), dword);
    }
    for (i, &q) in rss.reta.iter().enumerate() {
        tp.write32(Bar::Bar0, regs::rpc_rss_tbl(0, i as u32), q as u32);
    }
}

/// The second indirection table, which the RSS flow rules' actions select (RSS_CTXT_ID 1):
/// their queues in turn, or a copy of the port's table when no rule spreads.
pub fn rule_table(rss: &RssConfig, flows: &FlowTable) -> [u16; RETA_SIZE] {
    match flows.rss_sets().first() {
        Some(set) => {
            let queues: Vec<u16> = set.iter().collect();
            core::array::from_fn(|i| queues[i % queues.len()])
        }
        None => rss.reta,
    }
}

/// Writes [`rule_table`] into the device.
fn write_rule_table(tp: &dyn Transport, rss: &RssConfig, flows: &FlowTable) {
    for (i, q) in rule_table(rss, flows).into_iter().enumerate() {
        tp.write32(Bar::Bar0, regs::rpc_rss_tbl(1, i as u32), q as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(last: u8) -> MacAddr {
        MacAddr([0x02, 0, 0, 0, 0, last])
    }

    #[test]
    fn macda_layout_follows_the_spec_plan() {
        let f = RxFilters {
            primary: mac(1),
            uc: vec![mac(2), mac(3)],
            mc: vec![MacAddr([1, 0, 0x5e, 0, 0, 1])],
            promisc: false,
            allmulti: false,
        };
        let bmc = BmcInfo {
            macs: vec![mac(0xb0), mac(0xb1)],
            all_multi: false,
        };
        let t = MacDaTable::build(&f, Some(&bmc), true);
        assert_eq!(t.entries[0], Some(MacDaEntry::exact(mac(0xb0))));
        assert_eq!(t.entries[1], Some(MacDaEntry::exact(mac(0xb1))));
        assert_eq!(t.entries[2], None);
        assert_eq!(t.entries[4], Some(MacDaEntry::exact(MacAddr::BROADCAST)));
        assert_eq!(
            t.entries[5],
            Some(MacDaEntry::exact(MacAddr([1, 0, 0x5e, 0, 0, 1])))
        );
        assert_eq!(
            t.entries[29],
            Some(MacDaEntry::exact(mac(2))),
            "extra unicast: highest free first"
        );
        assert_eq!(t.entries[28], Some(MacDaEntry::exact(mac(3))));
        assert_eq!(t.entries[30], Some(MacDaEntry::exact(mac(1))));
        assert_eq!(t.entries[31], None);

        let host_off = MacDaTable::build(&f, Some(&bmc), false);
        assert_eq!(
            host_off.entries.iter().flatten().count(),
            2,
            "only the BMC entries stay"
        );
    }

    #[test]
    fn full_lists_fall_back() {
        let f = RxFilters {
            primary: mac(1),
            uc: (0..=MAX_EXTRA_UC as u8).map(|i| mac(10 + i)).collect(),
            mc: (0..=MAX_MC as u8)
                .map(|i| MacAddr([1, 0, 0x5e, 0, 0, i]))
                .collect(),
            ..Default::default()
        };
        let t = MacDaTable::build(&f, None, true);
        assert!(t.uc_overflow && t.mc_overflow);
        assert_eq!(t.entries[31], Some(MacDaEntry::ANY));
        let f2 = RxFilters { uc: vec![], ..f };
        let t2 = MacDaTable::build(&f2, None, true);
        assert_eq!(t2.entries[31], Some(MacDaEntry::ANY_MULTICAST));
    }

    #[test]
    fn macda_words_are_big_endian_pairs() {
        let e = MacDaEntry::exact(MacAddr([0x01, 0x02, 0x03, 0x04, 0x05, 0x06]));
        let w = e.words();
        assert_eq!(w[0].raw(), 0x0000_0506);
        assert_eq!(w[1].raw(), 0x0000_0304);
        assert_eq!(w[2].raw(), 0x0000_0102);
        let m = MacDaEntry::ANY_MULTICAST.words();
        assert_eq!(m[2].raw(), 0xfeff_0100);
        assert_eq!(m[0].raw(), 0xffff_0000);
        assert!(m[2].matches(0x3333) && !m[2].matches(0x0200));
    }

    #[test]
    fn split_hints_cut_at_the_deepest_requested_header_each_type_has() {
        use FlowType::*;
        let hints = |s: SplitHdrs| FLOW_TYPES.map(|ft| s.dma_hint(ft));
        let (n, l2, l3, l4) = (
            regs::DMA_HINT_NONE,
            regs::DMA_HINT_L2,
            regs::DMA_HINT_L3,
            regs::DMA_HINT_L4,
        );
        // FLOW_TYPES order: Udp6, Udp4, Tcp6, Tcp4, Ip6, Ip4, Ether.
        assert_eq!(FLOW_TYPES, [Udp6, Udp4, Tcp6, Tcp4, Ip6, Ip4, Ether]);
        assert_eq!(hints(SplitHdrs::Length), [n; 7]);
        assert_eq!(hints(SplitHdrs::L2), [l2; 7]);
        assert_eq!(
            hints(SplitHdrs::L3 { v6: false }),
            [l2, l3, l2, l3, l2, l3, l2]
        );
        assert_eq!(
            hints(SplitHdrs::L4 {
                v6: false,
                udp: true
            }),
            [l2, l4, l2, l3, l2, l3, l2]
        );
        assert_eq!(
            hints(SplitHdrs::L4 {
                v6: true,
                udp: false
            }),
            [l3, l2, l4, l2, l3, l2, l2]
        );

        // Written to the action table: every host entry of a type carries its hint, the
        // BMC's entries none; without a split no entry has one.
        let dev = crate::fake::FakeDevice::new();
        let rss = RssConfig::spread(4, RssHash::ALL);
        let flows = FlowTable::default();
        let bmc = BmcInfo {
            macs: vec![mac(9)],
            all_multi: false,
        };
        let tp: &dyn Transport = &dev;
        let split = SplitHdrs::L4 {
            v6: false,
            udp: false,
        };
        write_actions(
            tp,
            &rss,
            &flows,
            Some(&bmc),
            HostRules::All,
            false,
            Some(split),
        )
        .unwrap();
        let act0 = |i: u32| ActTbl0::from_raw(tp.read32(Bar::Bar0, regs::rpc_act_tbl0(i)));
        assert_eq!(act0(ACT_IDX_BMC_UC).dma_hint(), 0);
        for (i, &ft) in FLOW_TYPES.iter().enumerate() {
            for idx in [
                ACT_IDX_RSS_FIRST + i as u32,
                ACT_IDX_RSS_FIRST + 7 + i as u32,
            ] {
                assert_eq!(act0(idx).dma_hint(), split.dma_hint(ft), "entry {idx}");
            }
        }
        assert_eq!(act0(ACT_IDX_RSS_FIRST + 3).dma_hint(), l4, "TCP/IPv4");
        write_actions(tp, &rss, &flows, Some(&bmc), HostRules::All, false, None).unwrap();
        assert!((0..regs::ACT_ENTRIES).all(|i| act0(i).dma_hint() == 0));
    }

    #[test]
    fn isolated_actions_keep_the_flow_rules_and_the_bmc_copy_only() {
        use crate::flow::{FlowRule, FlowTable};
        let dev = crate::fake::FakeDevice::new();
        let tp: &dyn Transport = &dev;
        let rss = RssConfig::spread(4, RssHash::ALL);
        let (flows, _) = FlowTable::default().with(FlowRule::any(FlowAction::Queue(1)));
        let valid = |i: u32| {
            tp.read32(
                Bar::Bar0,
                regs::rpc_tcam_act(i, regs::TCAM_ACT_VALIDATE_WORD),
            ) == regs::TCAM_VALIDATE
        };
        let dest = |i: u32| ActTbl0::from_raw(tp.read32(Bar::Bar0, regs::rpc_act_tbl0(i))).dest();
        let n = FLOW_TYPES.len() as u32;
        let rss_entries = ACT_IDX_RSS_FIRST..ACT_IDX_RSS_FIRST + 2 * n;
        for all_multi in [false, true] {
            let bmc = BmcInfo {
                macs: vec![mac(9)],
                all_multi,
            };
            for host in [HostRules::All, HostRules::Isolated] {
                write_actions(tp, &rss, &flows, Some(&bmc), host, false, None).unwrap();
                let what = format!("{host:?}, BMC all-multi {all_multi}");
                assert!(valid(ACT_IDX_BMC_UC), "{what}: the BMC's unicast rule");
                // The match-anything rule: one entry per flow type (two with the BMC's copy).
                let flow_n = if all_multi { 2 * n } else { n };
                let flow_entries = ACT_IDX_FLOW_FIRST..ACT_IDX_FLOW_FIRST + flow_n;
                assert!(flow_entries.clone().all(valid), "{what}: the flow rule");
                assert!(
                    !(ACT_IDX_FLOW_FIRST + flow_n..ACT_IDX_RSS_FIRST).any(valid),
                    "{what}: nothing after the flow rule"
                );
                for i in rss_entries.clone() {
                    let other = i >= ACT_IDX_RSS_FIRST + n;
                    let want = match (host, other, all_multi) {
                        (HostRules::All, false, _) => Some(regs::ACT_DEST_HOST),
                        (HostRules::All, true, false) => Some(regs::ACT_DEST_HOST),
                        (HostRules::All, true, true) => {
                            Some(regs::ACT_DEST_HOST | regs::ACT_DEST_BMC)
                        }
                        (_, true, true) => Some(regs::ACT_DEST_BMC),
                        _ => None,
                    };
                    assert_eq!(valid(i).then(|| dest(i)), want, "{what}: RSS entry {i}");
                }
            }
        }
    }

    #[test]
    fn rss_rules_select_the_second_table_which_holds_their_queues() {
        use crate::flow::{FlowRule, FlowTable, QueueSet};
        let dev = crate::fake::FakeDevice::new();
        let tp: &dyn Transport = &dev;
        let rss = RssConfig::spread(4, RssHash::ALL);
        let set = QueueSet::new(&[1, 3]).unwrap();
        let (flows, _) = FlowTable::default().with(FlowRule::any(FlowAction::Rss(set)));
        write_rss(tp, &rss);
        write_actions(tp, &rss, &flows, None, HostRules::All, false, None).unwrap();
        let tbl = |t: u32, i: u32| tp.read32(Bar::Bar0, regs::rpc_rss_tbl(t, i)) as u16;
        assert!((0..256).all(|i| tbl(0, i) == rss.reta[i as usize]));
        assert!((0..256).all(|i| tbl(1, i) == [1, 3][i as usize % 2]));
        // Every entry of the rule: to the host through context 1, no fixed queue.
        for i in 0..FLOW_TYPES.len() as u32 {
            let a =
                ActTbl0::from_raw(tp.read32(Bar::Bar0, regs::rpc_act_tbl0(ACT_IDX_FLOW_FIRST + i)));
            assert!(
                a.rss_ctxt_id() && !a.q_sel() && a.dest() == regs::ACT_DEST_HOST,
                "{a:?}"
            );
        }
        // A second queue set does not fit the one table.
        let other = FlowRule {
            priority: 1,
            ..FlowRule::any(FlowAction::Rss(QueueSet::new(&[0]).unwrap()))
        };
        let (two, _) = flows.with(other);
        let e = check_flows(&two, &rss, None).unwrap_err();
        assert!(matches!(e, Error::NotSupported(_)), "{e}");
        // No RSS rule: the second table is the port's.
        write_actions(
            tp,
            &rss,
            &FlowTable::default(),
            None,
            HostRules::All,
            false,
            None,
        )
        .unwrap();
        assert!((0..256).all(|i| tbl(1, i) == rss.reta[i as usize]));
    }

    #[test]
    fn flow_placement_follows_the_written_entries() {
        use crate::flow::{FlowRule, FlowTable};
        let rss = RssConfig::spread(4, RssHash::ALL);
        let mut flows = FlowTable::default();
        let mut ids = Vec::new();
        for (prio, ip, l4) in [
            (3, FlowIp::Any, FlowL4::Any),
            (1, FlowIp::V4, FlowL4::Udp),
            (2, FlowIp::Any, FlowL4::Tcp),
        ] {
            let r = FlowRule {
                priority: prio,
                ip,
                l4,
                ..FlowRule::any(FlowAction::Drop)
            };
            let (t, id) = flows.with(r);
            flows = t;
            ids.push(id);
        }
        for all_multi in [false, true] {
            let bmc = BmcInfo {
                macs: vec![mac(9)],
                all_multi,
            };
            let placed = flow_placement(&flows, Some(&bmc));
            let k = if all_multi { 2 } else { 1 };
            // Match order (priority), contiguous from entry 2: UDP/IPv4 one type, TCP two
            // (v4, v6), anything all seven.
            let want = vec![
                (ids[1], 2, k),
                (ids[2], 2 + k, 2 * k),
                (ids[0], 2 + 3 * k, 7 * k),
            ];
            assert_eq!(placed, want, "BMC all-multi {all_multi}");
            let total: u32 = placed.iter().map(|p| p.2).sum();
            assert_eq!(
                total as usize,
                flow_entries(&flows, &rss, Some(&bmc)).unwrap().len()
            );
        }
    }

    #[test]
    fn flow_rules_become_one_entry_per_flow_type() {
        use crate::flow::{FlowRule, FlowTable};
        let types = |ip, l4| flow_types(ip, l4).collect::<Vec<_>>();
        use FlowType::*;
        assert_eq!(types(FlowIp::Any, FlowL4::Any), FLOW_TYPES);
        assert_eq!(types(FlowIp::V4, FlowL4::Any), [Udp4, Tcp4, Ip4]);
        assert_eq!(types(FlowIp::V6, FlowL4::Udp), [Udp6]);
        assert_eq!(types(FlowIp::Any, FlowL4::Tcp), [Tcp6, Tcp4]);

        let rss = RssConfig::spread(4, RssHash::ALL);
        let rule = FlowRule {
            ip: FlowIp::V4,
            l4: FlowL4::Udp,
            dport: PortMatch::exact(4789),
            ..FlowRule::any(FlowAction::Queue(3))
        };
        let (t, _) = FlowTable::default().with(rule);
        let e = flow_entries(&t, &rss, None).unwrap();
        assert_eq!(e.len(), 1);
        let udp4 = ActKey1::default()
            .with_ip_valid(true)
            .with_l4_valid(true)
            .with_l4_is_udp(true)
            .with_macda_valid(true)
            .with_macda_idx(4);
        assert!(e[0].key1.word().matches(udp4.raw() as u16), "any MAC DA");
        assert!(!e[0]
            .key1
            .word()
            .matches(udp4.with_ip_is_v6(true).raw() as u16));
        assert!(e[0].dport.matches(4789) && !e[0].dport.matches(4788));
        assert!(e[0].sport.matches(1) && e[0].sport.matches(65535));
        assert_eq!(e[0].act0.dest(), regs::ACT_DEST_HOST);
        assert!(e[0].act0.q_sel() && e[0].act0.q_id() == 3 && !e[0].act0.drop());
        assert_eq!(
            e[0].act1,
            rss_fields(Udp4, RssHash::ALL),
            "the hash stays valid"
        );

        // A BMC taking all multicast: a host-unicast entry, then one copying the rest to it.
        let bmc = BmcInfo {
            macs: vec![],
            all_multi: true,
        };
        let (t, _) = t.with(FlowRule::any(FlowAction::Drop));
        let e = flow_entries(&t, &rss, Some(&bmc)).unwrap();
        assert_eq!(e.len(), 2 * (1 + FLOW_TYPES.len()));
        assert!(
            !e[0].key1.word().matches(udp4.raw() as u16),
            "broadcast: not host unicast"
        );
        assert!(e[0]
            .key1
            .word()
            .matches(udp4.with_macda_idx(30).raw() as u16));
        assert!(e[1].key1.word().matches(udp4.raw() as u16));
        assert_eq!(e[1].act0.dest(), regs::ACT_DEST_HOST | regs::ACT_DEST_BMC);
        assert!(e[2].act0.drop());
        assert!(!e[3].act0.drop() && e[3].act0.dest() == regs::ACT_DEST_BMC);

        // Room: 48 entries. Seven "any" rules take 49.
        let mut t = FlowTable::default();
        for _ in 0..6 {
            t = t.with(FlowRule::any(FlowAction::Drop)).0;
        }
        assert!(check_flows(&t, &rss, None).is_ok());
        let t = t.with(FlowRule::any(FlowAction::Drop)).0;
        let e = check_flows(&t, &rss, None).unwrap_err();
        assert_eq!(e.to_errno(), -crate::error::errno::ENOSPC);
        assert!(e.to_string().contains("need 49 action TCAM entries"), "{e}");
    }

    #[test]
    fn key1_matches_what_it_should() {
        let k = Key1::any()
            .flow(FlowType::Tcp4)
            .macda(regs::MACDA_IDX_BOUNDARY, 3)
            .word();
        let tcp4_primary = ActKey1::default()
            .with_ip_valid(true)
            .with_l4_valid(true)
            .with_macda_valid(true)
            .with_macda_idx(30);
        assert!(k.matches(tcp4_primary.raw() as u16));
        assert!(!k.matches(tcp4_primary.with_l4_is_udp(true).raw() as u16));
        assert!(!k.matches(tcp4_primary.with_ip_is_v6(true).raw() as u16));
        assert!(
            !k.matches(tcp4_primary.with_macda_idx(4).raw() as u16),
            "broadcast is not host unicast"
        );
        let bmc = Key1::any().macda(0, 2).word();
        for idx in 0..4 {
            assert!(bmc.matches(
                ActKey1::default()
                    .with_macda_valid(true)
                    .with_macda_idx(idx)
                    .raw() as u16
            ));
        }
        assert!(!bmc.matches(
            ActKey1::default()
                .with_macda_valid(true)
                .with_macda_idx(4)
                .raw() as u16
        ));
        assert!(Key1::any().flow(FlowType::Ether).word().matches(0x1234));
    }

    #[test]
    fn rss_fields_follow_the_hash_selection() {
        use fbnic_hw::desc::{L3Type, L4Type};
        let only_v4 = RssHash {
            ipv4: true,
            ..Default::default()
        };
        assert_eq!(
            rss_fields(FlowType::Tcp4, only_v4),
            ActTbl1::default().with_ip_src(true).with_ip_dst(true)
        );
        assert_eq!(rss_fields(FlowType::Tcp6, only_v4), ActTbl1::default());
        assert!(rss_fields(FlowType::Udp6, RssHash::ALL).l4_dst());
        assert!(is_hashed(L3Type::Ipv4, L4Type::Tcp, only_v4));
        assert!(!is_hashed(L3Type::Ipv6, L4Type::Udp, only_v4));
        assert!(!is_hashed(L3Type::Other, L4Type::Other, RssHash::ALL));
    }

    #[test]
    fn reta_check() {
        let mut r = RssConfig::spread(4, RssHash::ALL);
        assert_eq!(r.reta[5], 1);
        assert!(r.check(4).is_ok());
        r.reta[200] = 4;
        let e = r.check(4).unwrap_err().to_string();
        assert!(e.contains("entry 200") && e.contains("queue 4"), "{e}");
    }
}
