//! RSS: the Toeplitz key and the hash over the fields an action enables (spec 7.3).
//!
//! The hash input is the standard one (source address, destination address, source port,
//! destination port, network byte order), restricted to the fields ACT_TBL1 enables
//! (IP_SRC, IP_DST, L4_SRC, L4_DST), so with all four enabled the hash equals DPDK's
//! `rte_softrss()` over the same tuple and key. The other ACT_TBL1 hash fields are not
//! modelled (they contribute nothing). The lookup table is rebuilt lazily after a key write.

use fbnic_hw::regs::{self, ActTbl1, RSS_KEY_DWORDS};
use fbnic_hw::toeplitz::ToeplitzTable;

use crate::parse::{L3TypeP, L4TypeP, Parsed};
use crate::regfile::RegFile;

/// Key bytes held by the RPC_RSS_KEY registers.
const KEY_BYTES: usize = RSS_KEY_DWORDS as usize * 4;

/// The RSS key as a lookup table.
#[derive(Debug, Default)]
pub(crate) struct Rss {
    table: Option<ToeplitzTable>,
}

impl Rss {
    /// A key register changed.
    pub fn key_written(&mut self) {
        self.table = None;
    }

    #[inline]
    fn table(&mut self, regs: &RegFile) -> &ToeplitzTable {
        self.table.get_or_insert_with(|| Self::build(regs))
    }

    #[cold]
    fn build(regs: &RegFile) -> ToeplitzTable {
        let mut key = [0u8; KEY_BYTES];
        for (i, b) in key.iter_mut().enumerate() {
            let w = regs.get(regs::rpc_rss_key(i as u32 / 4));
            *b = (w >> (24 - 8 * (i % 4))) as u8;
        }
        ToeplitzTable::new(&key)
    }

    /// The hash of frame `f` over the fields `ena` selects.
    #[inline]
    pub fn hash(&mut self, regs: &RegFile, f: &[u8], p: &Parsed, ena: ActTbl1) -> u32 {
        let (alen, src) = match p.l3 {
            L3TypeP::V4 => (4, p.l3_off as usize + 12),
            L3TypeP::V6 => (16, p.l3_off as usize + 8),
            L3TypeP::Other => return 0,
        };
        if alen == 4 && ena.raw() & 0xf == 0xf && p.l4 != L4TypeP::Other {
            // The common case: the IPv4 4-tuple, 12 bytes straight from the frame.
            let mut input = [0u8; 12];
            input[..8].copy_from_slice(&f[src..src + 8]);
            input[8..10].copy_from_slice(&p.sport.to_be_bytes());
            input[10..12].copy_from_slice(&p.dport.to_be_bytes());
            return self.table(regs).hash(&input);
        }
        let mut input = [0u8; 36];
        let mut n = 0;
        if ena.ip_src() {
            input[n..n + alen].copy_from_slice(&f[src..src + alen]);
            n += alen;
        }
        if ena.ip_dst() {
            input[n..n + alen].copy_from_slice(&f[src + alen..src + 2 * alen]);
            n += alen;
        }
        if p.l4 != L4TypeP::Other {
            if ena.l4_src() {
                input[n..n + 2].copy_from_slice(&p.sport.to_be_bytes());
                n += 2;
            }
            if ena.l4_dst() {
                input[n..n + 2].copy_from_slice(&p.dport.to_be_bytes());
                n += 2;
            }
        }
        if n == 0 {
            return 0;
        }
        self.table(regs).hash(&input[..n])
    }
}
