//! The plug-in module's EEPROM, which the firmware reads for the host (QSFP_READ_REQ, spec
//! 5.1): which standard the module follows, and how the flat EEPROM that DPDK (like ethtool)
//! presents maps onto the module's pages.
//!
//! The flat layout is SFF-8636's as Linux dumps it: lower page 00h at 0-127, upper page 00h at
//! 128-255, and for a module with paged memory upper pages 01h, 02h and 03h at 256, 384 and
//! 512 (640 bytes). A flat-memory module has only the first 256.

use crate::error::{Error, Result};

/// SFF-8024 identifier: QSFP (INF-8438).
const ID_QSFP: u8 = 0x0c;
/// SFF-8024 identifier: QSFP+ (SFF-8436 or SFF-8636, by the revision byte).
const ID_QSFP_PLUS: u8 = 0x0d;
/// SFF-8024 identifier: QSFP28 (SFF-8636).
const ID_QSFP28: u8 = 0x11;
/// Byte 2 (status): upper memory is flat (page 00h only).
const STATUS_FLAT_MEM: u8 = 0x04;
/// Byte 1 value from which a QSFP+ module follows SFF-8636 (revision 1.3 and later).
const REV_SFF8636: u8 = 0x03;

/// Bytes of a page as the host addresses it (lower page, or one upper page).
const HALF: u32 = 128;
/// Length of a flat-memory module's EEPROM (lower page and upper page 00h).
pub const FLAT_LEN: u32 = 256;
/// Length of a paged module's EEPROM (lower page and upper pages 00h-03h).
pub const PAGED_LEN: u32 = 640;

/// The management interface standard a module follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModuleStandard {
    /// SFF-8436 (QSFP+).
    Sff8436,
    /// SFF-8636 (QSFP28 and later QSFP+).
    Sff8636,
}

/// What the module's first bytes say about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModuleInfo {
    /// Its standard.
    pub standard: ModuleStandard,
    /// The length of its EEPROM in the flat layout ([`FLAT_LEN`] or [`PAGED_LEN`]).
    pub len: u32,
}

impl ModuleInfo {
    /// Reads the identifier (byte 0), revision compliance (byte 1) and status (byte 2).
    pub fn from_head(head: [u8; 3]) -> Result<Self> {
        let [id, rev, status] = head;
        let standard = match id {
            ID_QSFP => ModuleStandard::Sff8436,
            ID_QSFP_PLUS if rev >= REV_SFF8636 => ModuleStandard::Sff8636,
            ID_QSFP_PLUS => ModuleStandard::Sff8436,
            ID_QSFP28 => ModuleStandard::Sff8636,
            0 => return Err(Error::NotSupported("no module in the cage".into())),
            other => {
                return Err(Error::NotSupported(format!(
                    "module identifier {other:#04x} is not a QSFP"
                )))
            }
        };
        let len = if status & STATUS_FLAT_MEM != 0 {
            FLAT_LEN
        } else {
            PAGED_LEN
        };
        Ok(Self { standard, len })
    }
}

/// One firmware read: `len` bytes of page `page` from byte `offset` (0-255) of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRead {
    /// The page (upper pages are selected by it; the lower half is always page 00h's).
    pub page: u32,
    /// The first byte, in the page's 0-255 address space.
    pub offset: u32,
    /// Bytes.
    pub len: u32,
}

/// The page reads that cover `[offset, offset + len)` of the flat layout, in order (the
/// caller has checked the range against the module's length).
pub fn page_reads(offset: u32, len: u32) -> impl Iterator<Item = PageRead> {
    let end = offset.saturating_add(len);
    let mut pos = offset;
    std::iter::from_fn(move || {
        if pos >= end {
            return None;
        }
        let r = if pos < FLAT_LEN {
            // Lower page and upper page 00h: one read.
            PageRead {
                page: 0,
                offset: pos,
                len: end.min(FLAT_LEN) - pos,
            }
        } else {
            // Upper page N sits at 128 * (N + 1) in the flat layout.
            let page = pos / HALF - 1;
            let next = (pos / HALF + 1) * HALF;
            PageRead {
                page,
                offset: HALF + pos % HALF,
                len: end.min(next) - pos,
            }
        };
        pos += r.len;
        Some(r)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifies_qsfp_modules_and_refuses_others() {
        let info = |h| ModuleInfo::from_head(h);
        assert_eq!(
            info([0x11, 0x07, 0x04]).unwrap(),
            ModuleInfo {
                standard: ModuleStandard::Sff8636,
                len: FLAT_LEN
            }
        );
        assert_eq!(
            info([0x11, 0x07, 0x00]).unwrap(),
            ModuleInfo {
                standard: ModuleStandard::Sff8636,
                len: PAGED_LEN
            }
        );
        assert_eq!(
            info([0x0d, 0x02, 0x00]).unwrap().standard,
            ModuleStandard::Sff8436
        );
        assert_eq!(
            info([0x0d, 0x03, 0x00]).unwrap().standard,
            ModuleStandard::Sff8636
        );
        assert_eq!(
            info([0x0c, 0x00, 0x04]).unwrap().standard,
            ModuleStandard::Sff8436
        );
        // An SFP (0x03) or an empty cage.
        for h in [[0x03, 0, 0], [0, 0, 0]] {
            assert!(matches!(info(h), Err(Error::NotSupported(_))), "{h:?}");
        }
    }

    #[test]
    fn flat_offsets_map_to_pages() {
        let reads = |o, n| page_reads(o, n).collect::<Vec<_>>();
        let r = |page, offset, len| PageRead { page, offset, len };
        assert_eq!(reads(0, 256), [r(0, 0, 256)]);
        assert_eq!(reads(100, 50), [r(0, 100, 50)]);
        assert_eq!(
            reads(0, 640),
            [r(0, 0, 256), r(1, 128, 128), r(2, 128, 128), r(3, 128, 128)]
        );
        assert_eq!(
            reads(250, 140),
            [r(0, 250, 6), r(1, 128, 128), r(2, 128, 6)]
        );
        assert_eq!(reads(600, 40), [r(3, 216, 40)]);
        assert!(reads(10, 0).is_empty());
        // Every byte of the layout is read exactly once, whatever the split.
        for (o, n) in [(0u32, 640u32), (1, 639), (255, 2), (383, 3), (129, 400)] {
            let total: u32 = page_reads(o, n).map(|p| p.len).sum();
            assert_eq!(total, n, "{o}+{n}");
            assert!(page_reads(o, n).all(|p| p.offset + p.len <= 256 && p.len > 0));
        }
    }
}
