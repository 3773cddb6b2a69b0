//! The firmware mailbox's TLV codec (spec 5.1), strict in both directions.
//!
//! # Wire format
//! Every header is one little-endian dword ([`TlvHeader`]): TYPE 11:0 (message or attribute
//! id), reserved 13:12, CANNOT_IGNORE b14, IS_MSG b15, LEN 31:16.
//!
//! - A **message** starts with a header that has IS_MSG set; its LEN counts *dwords*, the
//!   header included. The attributes follow back to back. A message fits in one 4 KiB mailbox
//!   page ([`MSG_MAX_LEN`]).
//! - An **attribute** header has IS_MSG clear; its LEN counts *bytes*, the 4-byte header
//!   included. The value follows and is zero padded to the next dword, so every header is
//!   4-byte aligned. Attribute ids are 0..=[`ATTR_MAX_ID`].
//! - Values: a flag is a header alone (present = true); integers are little endian, exactly 4
//!   or 8 bytes; a MAC address is 6 bytes; a string carries its terminating NUL; a nested
//!   attribute holds an attribute set; an **array** is a nested attribute holding repeated
//!   entries that all have the same attribute id (the entry id), e.g. FW_CAP_RESP's
//!   BMC_MAC_ARRAY holds BMC_MAC_ADDR entries.
//!
//! # Strictness
//! [`RawMsg::parse`] validates the whole structure before anything reads a value: the
//! message header (IS_MSG, LEN, at most 4 KiB, the buffer holding exactly LEN dwords), and for
//! every top-level attribute its header (IS_MSG clear, id < 32, LEN >= 4), that it fits in the
//! message, that its padding is zero and that no id repeats. Nested and array attributes are
//! validated the same way when [`RawAttr::nested`] or [`RawAttr::array`] opens them. Value
//! accessors check sizes exactly. Unknown attributes are a schema question: the message
//! schemas ([`crate::msg`]) call [`AttrSet::check_known`], which fails on an unknown attribute
//! that has CANNOT_IGNORE set and skips the others.
//!
//! Nothing in the decoder indexes out of bounds or overflows: every input either parses or
//! yields a [`TlvError`] that names what was wrong (the decoder is fuzzed: see `fuzz/`).
//!
//! [`MsgBuilder`] is the encoder. It refuses what the decoder would reject: ids out of range,
//! duplicates, strings with an inner NUL, messages over 4 KiB.

use core::fmt;

use crate::bitfields;
use crate::mac::MacAddr;

/// The largest message in bytes: one 4 KiB mailbox page.
pub const MSG_MAX_LEN: usize = 4096;
/// The largest attribute id (the parser keeps one slot per id, 0..=31).
pub const ATTR_MAX_ID: u16 = 31;
/// The largest data chunk an attribute carries (coredump, firmware image, QSFP reads):
/// a page less 512 bytes of headroom for the other attributes, 3584 bytes.
pub const DATA_CHUNK_MAX: usize = 3584;
/// The largest message id (TYPE is 12 bits).
pub const MSG_ID_MAX: u16 = 0xfff;
/// Bytes in a TLV header.
pub const HDR_LEN: usize = 4;

bitfields! {
    /// A TLV header: the first dword of a message or of an attribute (little endian on the
    /// wire; see [`from_le_bytes`](Self::from_le_bytes)).
    pub struct TlvHeader(u32) {
        /// TYPE: the message id or attribute id.
        field id, with_id: 11, 0;
        /// Reserved; written as 0, ignored when read.
        field rsvd, with_rsvd: 13, 12;
        /// CANNOT_IGNORE: a receiver that does not know this attribute must reject the
        /// message instead of skipping the attribute.
        flag cannot_ignore, with_cannot_ignore: 14;
        /// IS_MSG: this header starts a message (LEN in dwords), not an attribute.
        flag is_msg, with_is_msg: 15;
        /// LEN: dwords (message, header included) or bytes (attribute, header included).
        field len, with_len: 31, 16;
    }
}

impl TlvHeader {
    /// A message header: `id` (12 bits) and the message length in dwords, header included.
    pub const fn message(id: u16, len_dwords: u16) -> Self {
        Self::from_raw((id as u32 & MSG_ID_MAX as u32) | (1 << 15) | ((len_dwords as u32) << 16))
    }

    /// An attribute header: `id` (12 bits) and the attribute length in bytes, header included
    /// and padding excluded.
    pub const fn attribute(id: u16, len_bytes: u16) -> Self {
        Self::from_raw((id as u32 & MSG_ID_MAX as u32) | ((len_bytes as u32) << 16))
    }

    /// Decodes the wire bytes.
    pub const fn from_le_bytes(b: [u8; 4]) -> Self {
        Self::from_raw(u32::from_le_bytes(b))
    }

    /// The wire bytes.
    pub const fn to_le_bytes(self) -> [u8; 4] {
        self.raw().to_le_bytes()
    }

    /// TYPE as a `u16` (it is 12 bits wide).
    pub const fn type_id(self) -> u16 {
        self.id() as u16
    }

    /// LEN as a `u16`.
    pub const fn len_field(self) -> u16 {
        self.len() as u16
    }
}

/// Why a TLV message or attribute was rejected (decoding) or could not be built (encoding).
///
/// Each failure has its own variant; attribute ids are named where one is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlvError {
    /// The buffer ends early: before a whole header, or before the LEN its message header
    /// announces.
    Truncated {
        /// Bytes the header or message needs.
        needed: usize,
        /// Bytes there are.
        got: usize,
    },
    /// The message header's LEN is 0 dwords; a message counts at least its own header.
    BadMessageLength(u16),
    /// The message is longer than a 4 KiB mailbox page ([`MSG_MAX_LEN`]).
    TooLong(usize),
    /// The buffer holds bytes past the end of the message its header describes.
    TrailingBytes {
        /// The message's length from its header, in bytes.
        msg_len: usize,
        /// The buffer's length.
        buf_len: usize,
    },
    /// The first header does not have IS_MSG set: this is not the start of a message.
    NotAMessage,
    /// A message id wider than TYPE's 12 bits (encoder).
    BadMessageId(u16),
    /// An attribute header has IS_MSG set.
    AttrIsMessage(u16),
    /// An attribute id above [`ATTR_MAX_ID`].
    IdOutOfRange(u16),
    /// An attribute's LEN is shorter than its own 4-byte header.
    BadAttrLength {
        /// Attribute id.
        id: u16,
        /// Its LEN in bytes.
        len: usize,
    },
    /// An attribute (with its padding) runs past the end of its message or enclosing
    /// attribute.
    AttrOverrun {
        /// Attribute id.
        id: u16,
        /// Its LEN in bytes.
        len: usize,
        /// Bytes left in the message or enclosing attribute, its header included.
        room: usize,
    },
    /// The padding after an attribute's value is not zero.
    NonZeroPadding(u16),
    /// A nested or array attribute whose value is not a whole number of dwords, so it cannot
    /// hold aligned attributes.
    Misaligned {
        /// Attribute id.
        id: u16,
        /// Its value length in bytes.
        len: usize,
    },
    /// The same attribute id appears twice in one attribute set.
    Duplicate(u16),
    /// An attribute the schema does not know, with CANNOT_IGNORE set.
    UnknownRequired(u16),
    /// A fixed-size value (integer, MAC address, flag) of the wrong size.
    WrongSize {
        /// Attribute id.
        id: u16,
        /// The size the type has.
        expected: usize,
        /// The size on the wire.
        got: usize,
    },
    /// A string attribute that is not a NUL-terminated UTF-8 string without inner NULs.
    BadString {
        /// Attribute id.
        id: u16,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A string or data value longer than its attribute allows.
    ValueTooLong {
        /// Attribute id.
        id: u16,
        /// The most bytes allowed (a string's count includes its NUL).
        max: usize,
        /// Bytes on the wire.
        got: usize,
    },
    /// An array with more entries than its attribute allows.
    TooMany {
        /// Array attribute id.
        id: u16,
        /// The most entries allowed.
        max: usize,
        /// Entries there are.
        got: usize,
    },
    /// An array entry whose id is not the array's entry id.
    WrongArrayEntry {
        /// Array attribute id.
        array: u16,
        /// The entry id the array holds.
        expected: u16,
        /// The id found.
        got: u16,
    },
    /// A required attribute is absent.
    Missing(u16),
    /// A value outside the range its attribute defines (e.g. an unknown LINK_SPEED).
    BadValue {
        /// Attribute id.
        id: u16,
        /// The value found.
        value: u64,
    },
    /// Attributes that contradict each other (e.g. LENGTH and the size of DATA).
    Inconsistent {
        /// The attribute found wrong.
        id: u16,
        /// How.
        why: &'static str,
    },
    /// A message id the schema table does not have.
    UnknownMessage(u16),
    /// The encoder was used wrongly (e.g. CANNOT_IGNORE marked before any attribute).
    Misuse(&'static str),
}

impl fmt::Display for TlvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Truncated { needed, got } => {
                write!(f, "TLV buffer truncated: needs {needed} bytes, has {got}")
            }
            Self::BadMessageLength(len) => write!(
                f,
                "TLV message header LEN is {len} dwords; it must count at least the header"
            ),
            Self::TooLong(len) => write!(
                f,
                "TLV message of {len} bytes exceeds the {MSG_MAX_LEN}-byte mailbox page"
            ),
            Self::TrailingBytes { msg_len, buf_len } => write!(
                f,
                "buffer of {buf_len} bytes holds {} bytes past the {msg_len}-byte TLV message",
                buf_len.saturating_sub(msg_len)
            ),
            Self::NotAMessage => f.write_str("TLV header lacks IS_MSG: not the start of a message"),
            Self::BadMessageId(id) => {
                write!(f, "message id {id:#x} does not fit the 12-bit TYPE field")
            }
            Self::AttrIsMessage(id) => write!(f, "attribute {id} has IS_MSG set"),
            Self::IdOutOfRange(id) => {
                write!(f, "attribute id {id} is out of range (max {ATTR_MAX_ID})")
            }
            Self::BadAttrLength { id, len } => write!(
                f,
                "attribute {id} has LEN {len}, shorter than its {HDR_LEN}-byte header"
            ),
            Self::AttrOverrun { id, len, room } => write!(
                f,
                "attribute {id} of {len} bytes (padded to {}) runs past the end of its container \
                 ({room} bytes left)",
                pad4(len)
            ),
            Self::NonZeroPadding(id) => write!(f, "attribute {id} has non-zero padding"),
            Self::Misaligned { id, len } => write!(
                f,
                "nested attribute {id} holds {len} bytes, not a whole number of dwords"
            ),
            Self::Duplicate(id) => write!(f, "attribute {id} appears more than once"),
            Self::UnknownRequired(id) => {
                write!(f, "unknown attribute {id} is marked CANNOT_IGNORE")
            }
            Self::WrongSize { id, expected, got } => write!(
                f,
                "attribute {id} holds {got} bytes, its type needs exactly {expected}"
            ),
            Self::BadString { id, why } => write!(f, "string attribute {id} {why}"),
            Self::ValueTooLong { id, max, got } => write!(
                f,
                "attribute {id} holds {got} bytes, more than its maximum of {max}"
            ),
            Self::TooMany { id, max, got } => write!(
                f,
                "array attribute {id} holds {got} entries, more than its maximum of {max}"
            ),
            Self::WrongArrayEntry {
                array,
                expected,
                got,
            } => write!(
                f,
                "array attribute {array} holds an entry with id {got}; its entries have id {expected}"
            ),
            Self::Missing(id) => write!(f, "required attribute {id} is missing"),
            Self::BadValue { id, value } => {
                write!(f, "attribute {id} has the out-of-range value {value}")
            }
            Self::Inconsistent { id, why } => write!(f, "attribute {id}: {why}"),
            Self::UnknownMessage(id) => write!(f, "unknown message id {id:#x}"),
            Self::Misuse(what) => write!(f, "TLV builder misuse: {what}"),
        }
    }
}

impl std::error::Error for TlvError {}

/// `len` rounded up to a whole number of dwords.
const fn pad4(len: usize) -> usize {
    (len + 3) & !3
}

// =============================================================================================
// Decoder
// =============================================================================================

/// Reads the header at `off` in `buf`, if four bytes are there.
fn header_at(buf: &[u8], off: usize) -> Option<TlvHeader> {
    let b = buf.get(off..off.checked_add(HDR_LEN)?)?;
    let mut w = [0u8; 4];
    w.copy_from_slice(b);
    Some(TlvHeader::from_le_bytes(w))
}

/// One attribute read from `buf` at `off`: header, value and the offset after its padding.
struct Walked<'a> {
    off: usize,
    hdr: TlvHeader,
    value: &'a [u8],
    next: usize,
}

/// Validates the attribute at `off` (which must be < `buf.len()`): header present, IS_MSG
/// clear, id in range, LEN sane, fits with its padding, padding zero.
fn walk_one(buf: &[u8], off: usize) -> Result<Walked<'_>, TlvError> {
    let room = buf.len().saturating_sub(off);
    let hdr = header_at(buf, off).ok_or(TlvError::Truncated {
        needed: HDR_LEN,
        got: room,
    })?;
    let id = hdr.type_id();
    if hdr.is_msg() {
        return Err(TlvError::AttrIsMessage(id));
    }
    if id > ATTR_MAX_ID {
        return Err(TlvError::IdOutOfRange(id));
    }
    let len = usize::from(hdr.len_field());
    if len < HDR_LEN {
        return Err(TlvError::BadAttrLength { id, len });
    }
    let padded = pad4(len);
    if padded > room {
        return Err(TlvError::AttrOverrun { id, len, room });
    }
    let overrun = TlvError::AttrOverrun { id, len, room };
    let value = buf.get(off + HDR_LEN..off + len).ok_or(overrun)?;
    let padding = buf.get(off + len..off + padded).ok_or(overrun)?;
    if padding.iter().any(|&b| b != 0) {
        return Err(TlvError::NonZeroPadding(id));
    }
    Ok(Walked {
        off,
        hdr,
        value,
        next: off + padded,
    })
}

/// A validated set of attributes: each id at most once, all well formed. The body of a
/// message ([`RawMsg::attr_set`]) or of a nested attribute ([`RawAttr::nested`]).
#[derive(Clone, Copy)]
pub struct AttrSet<'a> {
    buf: &'a [u8],
    /// Offset of each present attribute's header, by id.
    offs: [u16; ATTR_MAX_ID as usize + 1],
    /// Bit `id` set = attribute `id` present.
    present: u32,
}

impl<'a> AttrSet<'a> {
    /// Validates `buf` as a sequence of attributes covering it exactly (see the module docs
    /// for the rules). `buf` is at most [`MSG_MAX_LEN`] bytes.
    pub fn parse(buf: &'a [u8]) -> Result<Self, TlvError> {
        if buf.len() > MSG_MAX_LEN {
            return Err(TlvError::TooLong(buf.len()));
        }
        let mut set = Self {
            buf,
            offs: [0; ATTR_MAX_ID as usize + 1],
            present: 0,
        };
        let mut off = 0;
        while off < buf.len() {
            let w = walk_one(buf, off)?;
            let id = w.hdr.type_id();
            let bit = 1u32 << id;
            if set.present & bit != 0 {
                return Err(TlvError::Duplicate(id));
            }
            set.present |= bit;
            // `off` < 4096 (checked above), so it fits in a u16.
            if let Some(slot) = set.offs.get_mut(usize::from(id)) {
                *slot = u16::try_from(w.off).map_err(|_| TlvError::TooLong(buf.len()))?;
            }
            off = w.next;
        }
        Ok(set)
    }

    /// The attribute `id`, if present.
    pub fn get(&self, id: u16) -> Option<RawAttr<'a>> {
        if id > ATTR_MAX_ID || self.present & (1 << id) == 0 {
            return None;
        }
        let off = usize::from(*self.offs.get(usize::from(id))?);
        walk_one(self.buf, off).ok().map(|w| RawAttr {
            hdr: w.hdr,
            value: w.value,
        })
    }

    /// The attribute `id`, or [`TlvError::Missing`].
    pub fn require(&self, id: u16) -> Result<RawAttr<'a>, TlvError> {
        self.get(id).ok_or(TlvError::Missing(id))
    }

    /// Whether attribute `id` is present.
    pub fn contains(&self, id: u16) -> bool {
        id <= ATTR_MAX_ID && self.present & (1 << id) != 0
    }

    /// A bitmap of the ids present (bit `id` set = present).
    pub fn present_mask(&self) -> u32 {
        self.present
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.present.count_ones() as usize
    }

    /// Whether the set has no attributes.
    pub fn is_empty(&self) -> bool {
        self.present == 0
    }

    /// The attributes in wire order.
    pub fn iter(&self) -> AttrIter<'a> {
        AttrIter {
            buf: self.buf,
            off: 0,
        }
    }

    /// The schema check for unknown attributes (spec 5.1): an attribute whose id is not in
    /// `known` is skipped, unless it has CANNOT_IGNORE set, which fails with
    /// [`TlvError::UnknownRequired`].
    pub fn check_known(&self, known: &[u16]) -> Result<(), TlvError> {
        for a in self.iter() {
            if a.cannot_ignore() && !known.contains(&a.id()) {
                return Err(TlvError::UnknownRequired(a.id()));
            }
        }
        Ok(())
    }

    /// The raw bytes of the set (attributes with their headers and padding).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }
}

impl fmt::Debug for AttrSet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for AttrSet<'a> {
    type Item = RawAttr<'a>;
    type IntoIter = AttrIter<'a>;

    fn into_iter(self) -> AttrIter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &AttrSet<'a> {
    type Item = RawAttr<'a>;
    type IntoIter = AttrIter<'a>;

    fn into_iter(self) -> AttrIter<'a> {
        self.iter()
    }
}

/// Iterates over already-validated attributes in wire order (from [`AttrSet::iter`],
/// [`RawMsg::attrs`] or [`AttrArray::iter`]).
#[derive(Clone, Debug)]
pub struct AttrIter<'a> {
    buf: &'a [u8],
    off: usize,
}

impl<'a> Iterator for AttrIter<'a> {
    type Item = RawAttr<'a>;

    fn next(&mut self) -> Option<RawAttr<'a>> {
        if self.off >= self.buf.len() {
            return None;
        }
        match walk_one(self.buf, self.off) {
            Ok(w) => {
                self.off = w.next;
                Some(RawAttr {
                    hdr: w.hdr,
                    value: w.value,
                })
            }
            // Unreachable for a validated buffer; end the iteration rather than panic.
            Err(_) => {
                self.off = self.buf.len();
                None
            }
        }
    }
}

/// One attribute: its header and its value bytes (padding excluded).
///
/// The accessors interpret the value and check its size; errors name the attribute id.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RawAttr<'a> {
    hdr: TlvHeader,
    value: &'a [u8],
}

impl<'a> RawAttr<'a> {
    /// The attribute id.
    pub fn id(&self) -> u16 {
        self.hdr.type_id()
    }

    /// The header as on the wire.
    pub fn header(&self) -> TlvHeader {
        self.hdr
    }

    /// Whether CANNOT_IGNORE is set.
    pub fn cannot_ignore(&self) -> bool {
        self.hdr.cannot_ignore()
    }

    /// Bytes in the value (LEN less the header).
    pub fn value_len(&self) -> usize {
        self.value.len()
    }

    fn fixed<const N: usize>(&self) -> Result<[u8; N], TlvError> {
        <[u8; N]>::try_from(self.value).map_err(|_| TlvError::WrongSize {
            id: self.id(),
            expected: N,
            got: self.value.len(),
        })
    }

    /// The value as raw bytes (binary data).
    pub fn as_bytes(&self) -> Result<&'a [u8], TlvError> {
        Ok(self.value)
    }

    /// The value as raw bytes, at most `max` of them ([`TlvError::ValueTooLong`]).
    pub fn as_bytes_max(&self, max: usize) -> Result<&'a [u8], TlvError> {
        if self.value.len() > max {
            return Err(TlvError::ValueTooLong {
                id: self.id(),
                max,
                got: self.value.len(),
            });
        }
        Ok(self.value)
    }

    /// A little-endian `u32`: exactly 4 bytes.
    pub fn as_u32(&self) -> Result<u32, TlvError> {
        self.fixed::<4>().map(u32::from_le_bytes)
    }

    /// A little-endian `u64`: exactly 8 bytes.
    pub fn as_u64(&self) -> Result<u64, TlvError> {
        self.fixed::<8>().map(u64::from_le_bytes)
    }

    /// A little-endian two's-complement `i32`: exactly 4 bytes.
    pub fn as_i32(&self) -> Result<i32, TlvError> {
        self.fixed::<4>().map(i32::from_le_bytes)
    }

    /// A little-endian two's-complement `i64`: exactly 8 bytes.
    pub fn as_i64(&self) -> Result<i64, TlvError> {
        self.fixed::<8>().map(i64::from_le_bytes)
    }

    /// A flag: a header with no value. Its presence is the `true`; an absent flag is false.
    pub fn as_flag(&self) -> Result<bool, TlvError> {
        self.fixed::<0>().map(|_| true)
    }

    /// A MAC address: exactly 6 bytes, in wire order.
    pub fn as_mac(&self) -> Result<MacAddr, TlvError> {
        self.fixed::<6>().map(MacAddr)
    }

    /// A string: UTF-8 followed by exactly one NUL, which ends the value. Returns the text
    /// without the NUL.
    pub fn as_str(&self) -> Result<&'a str, TlvError> {
        let bad = |why| TlvError::BadString { id: self.id(), why };
        let (last, text) = self
            .value
            .split_last()
            .ok_or(bad("is empty: it must hold at least its NUL"))?;
        if *last != 0 {
            return Err(bad("is not NUL terminated"));
        }
        if text.contains(&0) {
            return Err(bad("has a NUL before its end"));
        }
        core::str::from_utf8(text).map_err(|_| bad("is not valid UTF-8"))
    }

    /// A string of at most `max` bytes including its NUL ([`TlvError::ValueTooLong`]).
    pub fn as_str_max(&self, max: usize) -> Result<&'a str, TlvError> {
        self.as_bytes_max(max)?;
        self.as_str()
    }

    /// A nested attribute: its value validated as an attribute set (whole dwords, well-formed
    /// attributes, no duplicate ids).
    pub fn nested(&self) -> Result<AttrSet<'a>, TlvError> {
        self.aligned()?;
        AttrSet::parse(self.value)
    }

    /// An array: a nested attribute whose entries all have id `entry_id`. Every entry is
    /// validated before this returns; iterating the result cannot fail.
    pub fn array(&self, entry_id: u16) -> Result<AttrArray<'a>, TlvError> {
        self.aligned()?;
        let mut count = 0;
        let mut off = 0;
        while off < self.value.len() {
            let w = walk_one(self.value, off)?;
            if w.hdr.type_id() != entry_id {
                return Err(TlvError::WrongArrayEntry {
                    array: self.id(),
                    expected: entry_id,
                    got: w.hdr.type_id(),
                });
            }
            count += 1;
            off = w.next;
        }
        Ok(AttrArray {
            id: self.id(),
            entry_id,
            buf: self.value,
            count,
        })
    }

    fn aligned(&self) -> Result<(), TlvError> {
        if self.value.len() & 3 != 0 {
            return Err(TlvError::Misaligned {
                id: self.id(),
                len: self.value.len(),
            });
        }
        Ok(())
    }
}

impl fmt::Debug for RawAttr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawAttr")
            .field("id", &self.id())
            .field("cannot_ignore", &self.cannot_ignore())
            .field("value", &self.value)
            .finish()
    }
}

/// A validated array attribute: entries that all have the same id.
#[derive(Clone, Copy, Debug)]
pub struct AttrArray<'a> {
    id: u16,
    entry_id: u16,
    buf: &'a [u8],
    count: usize,
}

impl<'a> AttrArray<'a> {
    /// The array attribute's id.
    pub fn id(&self) -> u16 {
        self.id
    }

    /// The id every entry has.
    pub fn entry_id(&self) -> u16 {
        self.entry_id
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the array has no entries.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The entries in wire order.
    pub fn iter(&self) -> AttrIter<'a> {
        AttrIter {
            buf: self.buf,
            off: 0,
        }
    }
}

impl<'a> IntoIterator for AttrArray<'a> {
    type Item = RawAttr<'a>;
    type IntoIter = AttrIter<'a>;

    fn into_iter(self) -> AttrIter<'a> {
        self.iter()
    }
}

/// A validated TLV message borrowed from a receive buffer.
#[derive(Clone, Copy, Debug)]
pub struct RawMsg<'a> {
    hdr: TlvHeader,
    attrs: AttrSet<'a>,
}

impl<'a> RawMsg<'a> {
    /// Validates `buf` as exactly one message (see the module docs). The buffer must hold
    /// exactly the header's LEN dwords: a mailbox descriptor's LEN gives the message size, so
    /// shorter is [`TlvError::Truncated`] and longer is [`TlvError::TrailingBytes`].
    pub fn parse(buf: &'a [u8]) -> Result<Self, TlvError> {
        let hdr = header_at(buf, 0).ok_or(TlvError::Truncated {
            needed: HDR_LEN,
            got: buf.len(),
        })?;
        if !hdr.is_msg() {
            return Err(TlvError::NotAMessage);
        }
        let dwords = hdr.len_field();
        if dwords == 0 {
            return Err(TlvError::BadMessageLength(0));
        }
        let msg_len = usize::from(dwords) * 4;
        if msg_len > MSG_MAX_LEN {
            return Err(TlvError::TooLong(msg_len));
        }
        if buf.len() < msg_len {
            return Err(TlvError::Truncated {
                needed: msg_len,
                got: buf.len(),
            });
        }
        if buf.len() > msg_len {
            return Err(TlvError::TrailingBytes {
                msg_len,
                buf_len: buf.len(),
            });
        }
        let body = buf.get(HDR_LEN..msg_len).ok_or(TlvError::Truncated {
            needed: msg_len,
            got: buf.len(),
        })?;
        Ok(Self {
            hdr,
            attrs: AttrSet::parse(body)?,
        })
    }

    /// The message id.
    pub fn id(&self) -> u16 {
        self.hdr.type_id()
    }

    /// The message header as on the wire.
    pub fn header(&self) -> TlvHeader {
        self.hdr
    }

    /// The message length in bytes, header included.
    pub fn msg_len(&self) -> usize {
        usize::from(self.hdr.len_field()) * 4
    }

    /// The top-level attribute `id`, if present.
    pub fn get(&self, id: u16) -> Option<RawAttr<'a>> {
        self.attrs.get(id)
    }

    /// The top-level attributes in wire order.
    pub fn attrs(&self) -> AttrIter<'a> {
        self.attrs.iter()
    }

    /// The top-level attributes as a set.
    pub fn attr_set(&self) -> AttrSet<'a> {
        self.attrs
    }

    /// See [`AttrSet::check_known`].
    pub fn check_known(&self, known: &[u16]) -> Result<(), TlvError> {
        self.attrs.check_known(known)
    }
}

// =============================================================================================
// Encoder
// =============================================================================================

/// The attribute writer shared by the builders.
#[derive(Clone, Debug, Default)]
struct Writer {
    buf: Vec<u8>,
    /// Ids written so far (sets reject duplicates).
    used: u32,
    /// Offset of the last attribute's header (for CANNOT_IGNORE).
    last: Option<usize>,
    err: Option<TlvError>,
}

impl Writer {
    fn fail(&mut self, e: TlvError) {
        if self.err.is_none() {
            self.err = Some(e);
        }
    }

    /// Appends attribute `id` with `value`. `set` = part of an attribute set (ids unique).
    fn put(&mut self, id: u16, value: &[u8], set: bool) {
        if self.err.is_some() {
            return;
        }
        if id > ATTR_MAX_ID {
            return self.fail(TlvError::IdOutOfRange(id));
        }
        if set && self.used & (1 << id) != 0 {
            return self.fail(TlvError::Duplicate(id));
        }
        let len = HDR_LEN + value.len();
        // No attribute can be longer than a message's room; this also keeps LEN in 16 bits.
        if len > MSG_MAX_LEN - HDR_LEN || self.buf.len() + pad4(len) > MSG_MAX_LEN - HDR_LEN {
            return self.fail(TlvError::TooLong(HDR_LEN + self.buf.len() + pad4(len)));
        }
        self.used |= 1 << id;
        self.last = Some(self.buf.len());
        // `len` <= 4092, so it fits in LEN.
        self.buf
            .extend_from_slice(&TlvHeader::attribute(id, len as u16).to_le_bytes());
        self.buf.extend_from_slice(value);
        self.buf.resize(self.buf.len() + (pad4(len) - len), 0);
    }

    fn put_str(&mut self, id: u16, s: &str, set: bool) {
        if s.as_bytes().contains(&0) {
            return self.fail(TlvError::BadString {
                id,
                why: "has a NUL before its end",
            });
        }
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s.as_bytes());
        v.push(0);
        self.put(id, &v, set);
    }

    /// Appends a nested or array attribute built by `inner`.
    fn put_inner(&mut self, id: u16, inner: Writer, set: bool) {
        if let Some(e) = inner.err {
            return self.fail(e);
        }
        self.put(id, &inner.buf, set);
    }

    /// Appends the attributes of another set at this level.
    fn append(&mut self, other: Writer) {
        if self.err.is_some() {
            return;
        }
        if let Some(e) = other.err {
            return self.fail(e);
        }
        let common = self.used & other.used;
        if common != 0 {
            return self.fail(TlvError::Duplicate(common.trailing_zeros() as u16));
        }
        let total = self.buf.len() + other.buf.len();
        if total > MSG_MAX_LEN - HDR_LEN {
            return self.fail(TlvError::TooLong(HDR_LEN + total));
        }
        if let Some(last) = other.last {
            self.last = Some(self.buf.len() + last);
        }
        self.used |= other.used;
        self.buf.extend_from_slice(&other.buf);
    }

    fn mark_cannot_ignore(&mut self) {
        match self.last {
            // Bit 14 of the little-endian header is bit 6 of its second byte.
            Some(off) => match self.buf.get_mut(off + 1) {
                Some(b) => *b |= 0x40,
                None => self.fail(TlvError::Misuse("CANNOT_IGNORE lost its attribute")),
            },
            None => self.fail(TlvError::Misuse(
                "cannot_ignore() called before any attribute was added",
            )),
        }
    }
}

/// Generates the attribute methods shared by [`MsgBuilder`] and [`NestedBuilder`].
macro_rules! set_methods {
    () => {
        /// Adds a `u32` attribute (4 bytes, little endian).
        #[must_use]
        pub fn u32(mut self, id: u16, v: u32) -> Self {
            self.w.put(id, &v.to_le_bytes(), true);
            self
        }

        /// Adds a `u64` attribute (8 bytes, little endian).
        #[must_use]
        pub fn u64(mut self, id: u16, v: u64) -> Self {
            self.w.put(id, &v.to_le_bytes(), true);
            self
        }

        /// Adds an `i32` attribute (4 bytes, little endian).
        #[must_use]
        pub fn i32(mut self, id: u16, v: i32) -> Self {
            self.w.put(id, &v.to_le_bytes(), true);
            self
        }

        /// Adds an `i64` attribute (8 bytes, little endian).
        #[must_use]
        pub fn i64(mut self, id: u16, v: i64) -> Self {
            self.w.put(id, &v.to_le_bytes(), true);
            self
        }

        /// Adds a flag attribute (header only: present = true).
        #[must_use]
        pub fn flag(mut self, id: u16) -> Self {
            self.w.put(id, &[], true);
            self
        }

        /// Adds a MAC address attribute (6 bytes).
        #[must_use]
        pub fn mac(mut self, id: u16, mac: &MacAddr) -> Self {
            self.w.put(id, &mac.0, true);
            self
        }

        /// Adds a string attribute (its bytes and a NUL). A string holding a NUL is an error.
        #[must_use]
        pub fn string(mut self, id: u16, s: &str) -> Self {
            self.w.put_str(id, s, true);
            self
        }

        /// Adds a binary attribute.
        #[must_use]
        pub fn bytes(mut self, id: u16, data: &[u8]) -> Self {
            self.w.put(id, data, true);
            self
        }

        /// Adds a nested attribute whose set `f` builds.
        #[must_use]
        pub fn nested(mut self, id: u16, f: impl FnOnce(NestedBuilder) -> NestedBuilder) -> Self {
            let inner = f(NestedBuilder::new());
            self.w.put_inner(id, inner.w, true);
            self
        }

        /// Adds an array attribute whose entries (all with id `entry_id`) `f` builds.
        #[must_use]
        pub fn array(
            mut self,
            id: u16,
            entry_id: u16,
            f: impl FnOnce(ArrayBuilder) -> ArrayBuilder,
        ) -> Self {
            let inner = f(ArrayBuilder::new(entry_id));
            self.w.put_inner(id, inner.w, true);
            self
        }

        /// Adds an array attribute of MAC address entries with id `entry_id`.
        #[must_use]
        pub fn mac_array(self, id: u16, entry_id: u16, macs: &[MacAddr]) -> Self {
            self.array(id, entry_id, |a| macs.iter().fold(a, |a, m| a.mac(m)))
        }

        /// Sets CANNOT_IGNORE on the attribute added last: a receiver that does not know it
        /// must reject the message.
        #[must_use]
        pub fn cannot_ignore(mut self) -> Self {
            self.w.mark_cannot_ignore();
            self
        }

        /// Appends, at this level, the attributes `set` holds (ids must not repeat).
        #[must_use]
        pub fn append(mut self, set: NestedBuilder) -> Self {
            self.w.append(set.w);
            self
        }
    };
}

/// Builds a message (the encoder). Methods chain by value; the first error sticks and
/// [`finish`](Self::finish) reports it.
///
/// ```
/// use fbnic_hw::tlv::{MsgBuilder, RawMsg};
/// let bytes = MsgBuilder::new(0x13).u64(1, 12345).finish().unwrap();
/// let msg = RawMsg::parse(&bytes).unwrap();
/// assert_eq!(msg.id(), 0x13);
/// assert_eq!(msg.get(1).unwrap().as_u64(), Ok(12345));
/// ```
#[derive(Clone, Debug)]
pub struct MsgBuilder {
    id: u16,
    w: Writer,
}

impl MsgBuilder {
    /// Starts message `msg_id` (12 bits; a wider id fails at [`finish`](Self::finish)).
    pub fn new(msg_id: u16) -> Self {
        Self {
            id: msg_id,
            w: Writer::default(),
        }
    }

    set_methods!();

    /// The message's size in bytes so far, header included.
    pub fn encoded_len(&self) -> usize {
        HDR_LEN + self.w.buf.len()
    }

    /// The message bytes: header and attributes, at most [`MSG_MAX_LEN`] bytes. Fails with
    /// the first error any call hit.
    pub fn finish(self) -> Result<Vec<u8>, TlvError> {
        if let Some(e) = self.w.err {
            return Err(e);
        }
        if self.id > MSG_ID_MAX {
            return Err(TlvError::BadMessageId(self.id));
        }
        let total = HDR_LEN + self.w.buf.len();
        if total > MSG_MAX_LEN {
            return Err(TlvError::TooLong(total));
        }
        let mut out = Vec::with_capacity(total);
        // `total` <= 4096 and a multiple of 4, so total / 4 fits in LEN.
        out.extend_from_slice(&TlvHeader::message(self.id, (total / 4) as u16).to_le_bytes());
        out.extend_from_slice(&self.w.buf);
        Ok(out)
    }
}

/// Builds the attribute set of a nested attribute (see [`MsgBuilder::nested`]).
#[derive(Clone, Debug, Default)]
pub struct NestedBuilder {
    w: Writer,
}

impl NestedBuilder {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    set_methods!();
}

/// Builds the entries of an array attribute, all with one entry id (see
/// [`MsgBuilder::array`]).
#[derive(Clone, Debug)]
pub struct ArrayBuilder {
    entry_id: u16,
    w: Writer,
}

impl ArrayBuilder {
    /// An empty array whose entries have id `entry_id`.
    pub fn new(entry_id: u16) -> Self {
        Self {
            entry_id,
            w: Writer::default(),
        }
    }

    /// Number of entries so far.
    pub fn len(&self) -> usize {
        let mut n = 0;
        let mut off = 0;
        while let Ok(w) = walk_one(&self.w.buf, off) {
            n += 1;
            off = w.next;
        }
        n
    }

    /// Whether no entry was added.
    pub fn is_empty(&self) -> bool {
        self.w.buf.is_empty()
    }

    /// Adds a `u32` entry.
    #[must_use]
    pub fn u32(mut self, v: u32) -> Self {
        self.w.put(self.entry_id, &v.to_le_bytes(), false);
        self
    }

    /// Adds a `u64` entry.
    #[must_use]
    pub fn u64(mut self, v: u64) -> Self {
        self.w.put(self.entry_id, &v.to_le_bytes(), false);
        self
    }

    /// Adds an `i32` entry.
    #[must_use]
    pub fn i32(mut self, v: i32) -> Self {
        self.w.put(self.entry_id, &v.to_le_bytes(), false);
        self
    }

    /// Adds an `i64` entry.
    #[must_use]
    pub fn i64(mut self, v: i64) -> Self {
        self.w.put(self.entry_id, &v.to_le_bytes(), false);
        self
    }

    /// Adds a MAC address entry.
    #[must_use]
    pub fn mac(mut self, mac: &MacAddr) -> Self {
        self.w.put(self.entry_id, &mac.0, false);
        self
    }

    /// Adds a string entry (its bytes and a NUL).
    #[must_use]
    pub fn string(mut self, s: &str) -> Self {
        self.w.put_str(self.entry_id, s, false);
        self
    }

    /// Adds a binary entry.
    #[must_use]
    pub fn bytes(mut self, data: &[u8]) -> Self {
        self.w.put(self.entry_id, data, false);
        self
    }

    /// Adds a nested entry whose set `f` builds.
    #[must_use]
    pub fn nested(mut self, f: impl FnOnce(NestedBuilder) -> NestedBuilder) -> Self {
        let inner = f(NestedBuilder::new());
        self.w.put_inner(self.entry_id, inner.w, false);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-assembled message: header words then raw attribute bytes.
    fn msg(id: u16, body: &[u8]) -> Vec<u8> {
        assert_eq!(body.len() % 4, 0);
        let mut v = TlvHeader::message(id, (1 + body.len() / 4) as u16)
            .to_le_bytes()
            .to_vec();
        v.extend_from_slice(body);
        v
    }

    fn attr(id: u16, len: u16, value: &[u8]) -> Vec<u8> {
        let mut v = TlvHeader::attribute(id, len).to_le_bytes().to_vec();
        v.extend_from_slice(value);
        v
    }

    #[test]
    fn header_layout() {
        let h = TlvHeader::message(0x11, 3);
        assert_eq!(h.raw(), 0x0003_8011);
        assert!(h.is_msg() && !h.cannot_ignore());
        assert_eq!((h.type_id(), h.len_field()), (0x11, 3));
        let a = TlvHeader::attribute(5, 8).with_cannot_ignore(true);
        assert_eq!(a.raw(), 0x0008_4005);
        assert_eq!(TlvHeader::from_le_bytes(a.to_le_bytes()), a);
        assert_eq!(a.to_le_bytes(), [0x05, 0x40, 0x08, 0x00]);
    }

    #[test]
    fn builder_layout_matches_the_spec() {
        let mac = MacAddr([1, 2, 3, 4, 5, 6]);
        let b = MsgBuilder::new(0x46)
            .u32(0, 0x0102_0304)
            .flag(1)
            .mac(2, &mac)
            .string(3, "ab")
            .u64(4, 0x1122_3344_5566_7788)
            .finish()
            .unwrap();
        #[rustfmt::skip]
        let expect: Vec<u8> = [
            &TlvHeader::message(0x46, 12).to_le_bytes()[..],
            &[0, 0, 8, 0], &[4, 3, 2, 1],              // u32: LEN 8
            &[1, 0, 4, 0],                              // flag: LEN 4
            &[2, 0, 10, 0], &[1, 2, 3, 4, 5, 6, 0, 0],  // mac: LEN 10, 2 pad bytes
            &[3, 0, 7, 0], &[b'a', b'b', 0, 0],         // string "ab\0": LEN 7, 1 pad byte
            &[4, 0, 12, 0], &[0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11],
        ]
        .concat();
        assert_eq!(b, expect);
        let m = RawMsg::parse(&b).unwrap();
        assert_eq!(m.id(), 0x46);
        assert_eq!(m.msg_len(), 48);
        assert_eq!(m.get(0).unwrap().as_u32(), Ok(0x0102_0304));
        assert_eq!(m.get(1).unwrap().as_flag(), Ok(true));
        assert_eq!(m.get(2).unwrap().as_mac(), Ok(mac));
        assert_eq!(m.get(3).unwrap().as_str(), Ok("ab"));
        assert_eq!(m.get(4).unwrap().as_u64(), Ok(0x1122_3344_5566_7788));
        assert!(m.get(5).is_none() && m.get(99).is_none());
        let ids: Vec<u16> = m.attrs().map(|a| a.id()).collect();
        assert_eq!(ids, [0, 1, 2, 3, 4]);
        assert_eq!(m.attr_set().len(), 5);
    }

    #[test]
    fn nested_and_arrays_round_trip() {
        let macs = [MacAddr([2, 0, 0, 0, 0, 1]), MacAddr([2, 0, 0, 0, 0, 2])];
        let b = MsgBuilder::new(0)
            .nested(10, |n| n.u32(2, 7).string(9, "x").mac_array(11, 6, &macs))
            .mac_array(3, 2, &macs)
            .array(4, 1, |a| a.u32(1).u32(2).u32(3))
            .i32(5, -2)
            .i64(6, -3)
            .finish()
            .unwrap();
        let m = RawMsg::parse(&b).unwrap();
        let n = m.get(10).unwrap().nested().unwrap();
        assert_eq!(n.get(2).unwrap().as_u32(), Ok(7));
        assert_eq!(n.get(9).unwrap().as_str(), Ok("x"));
        let inner: Vec<MacAddr> = n
            .get(11)
            .unwrap()
            .array(6)
            .unwrap()
            .iter()
            .map(|a| a.as_mac().unwrap())
            .collect();
        assert_eq!(inner, macs);
        let arr = m.get(3).unwrap().array(2).unwrap();
        assert_eq!((arr.len(), arr.entry_id(), arr.id()), (2, 2, 3));
        let ints: Vec<u32> = m
            .get(4)
            .unwrap()
            .array(1)
            .unwrap()
            .into_iter()
            .map(|a| a.as_u32().unwrap())
            .collect();
        assert_eq!(ints, [1, 2, 3]);
        assert_eq!(
            m.get(3).unwrap().array(7).unwrap_err(),
            TlvError::WrongArrayEntry {
                array: 3,
                expected: 7,
                got: 2
            }
        );
        // An array with repeated ids is not a set.
        assert_eq!(
            m.get(4).unwrap().nested().unwrap_err(),
            TlvError::Duplicate(1)
        );
        assert_eq!(m.get(5).unwrap().as_i32(), Ok(-2));
        assert_eq!(m.get(6).unwrap().as_i64(), Ok(-3));
        // An empty nested attribute and an empty array are legal.
        let b = MsgBuilder::new(1)
            .nested(0, |n| n)
            .array(1, 2, |a| a)
            .finish()
            .unwrap();
        let m = RawMsg::parse(&b).unwrap();
        assert!(m.get(0).unwrap().nested().unwrap().is_empty());
        assert!(m.get(1).unwrap().array(2).unwrap().is_empty());
    }

    #[test]
    fn cannot_ignore_and_check_known() {
        let b = MsgBuilder::new(0x10)
            .u32(0, 1)
            .u32(7, 2)
            .cannot_ignore()
            .u32(8, 3)
            .finish()
            .unwrap();
        let m = RawMsg::parse(&b).unwrap();
        assert!(m.get(7).unwrap().cannot_ignore());
        assert!(!m.get(8).unwrap().cannot_ignore());
        assert_eq!(m.check_known(&[0, 7]), Ok(()), "8 is skippable");
        assert_eq!(m.check_known(&[0, 8]), Err(TlvError::UnknownRequired(7)));
        assert_eq!(
            MsgBuilder::new(1).cannot_ignore().finish(),
            Err(TlvError::Misuse(
                "cannot_ignore() called before any attribute was added"
            ))
        );
    }

    #[test]
    fn encoder_refuses_what_the_decoder_rejects() {
        assert_eq!(
            MsgBuilder::new(1).u32(32, 0).finish(),
            Err(TlvError::IdOutOfRange(32))
        );
        assert_eq!(
            MsgBuilder::new(1).u32(3, 0).flag(3).finish(),
            Err(TlvError::Duplicate(3))
        );
        assert_eq!(
            MsgBuilder::new(0x1000).finish(),
            Err(TlvError::BadMessageId(0x1000))
        );
        assert!(matches!(
            MsgBuilder::new(1).string(1, "a\0b").finish(),
            Err(TlvError::BadString { id: 1, .. })
        ));
        // 4096 exactly fits: header + attribute header + 4088 bytes.
        let b = MsgBuilder::new(1).bytes(0, &[7; 4088]).finish().unwrap();
        assert_eq!(b.len(), MSG_MAX_LEN);
        assert!(RawMsg::parse(&b).is_ok());
        assert_eq!(
            MsgBuilder::new(1).bytes(0, &[7; 4089]).finish(),
            Err(TlvError::TooLong(4100))
        );
        assert_eq!(
            MsgBuilder::new(1)
                .bytes(0, &[0; 2048])
                .bytes(1, &[0; 2048])
                .finish(),
            Err(TlvError::TooLong(4108))
        );
        assert!(matches!(
            MsgBuilder::new(1)
                .nested(0, |n| n.bytes(0, &[0; 3000]).bytes(1, &[0; 3000]))
                .finish(),
            Err(TlvError::TooLong(_))
        ));
        // Errors inside nested builders surface.
        assert_eq!(
            MsgBuilder::new(1).nested(0, |n| n.u32(40, 1)).finish(),
            Err(TlvError::IdOutOfRange(40))
        );
        assert_eq!(
            MsgBuilder::new(1).array(0, 33, |a| a.u32(1)).finish(),
            Err(TlvError::IdOutOfRange(33))
        );
        let a = ArrayBuilder::new(1).u32(1).u32(2);
        assert_eq!(a.len(), 2);
        assert!(!a.is_empty());
    }

    #[test]
    fn append_merges_sets() {
        let set = NestedBuilder::new().u32(1, 10).flag(2);
        let b = MsgBuilder::new(5)
            .u32(0, 1)
            .append(set.clone())
            .cannot_ignore()
            .finish()
            .unwrap();
        let m = RawMsg::parse(&b).unwrap();
        assert_eq!(m.attr_set().len(), 3);
        assert_eq!(m.get(1).unwrap().as_u32(), Ok(10));
        assert!(
            m.get(2).unwrap().cannot_ignore(),
            "marks the appended set's last"
        );
        assert_eq!(
            MsgBuilder::new(5).flag(2).append(set).finish(),
            Err(TlvError::Duplicate(2))
        );
    }

    #[test]
    fn malformed_messages_get_specific_errors() {
        let u32_attr = attr(1, 8, &[1, 0, 0, 0]);
        let good = msg(0x14, &u32_attr);
        assert!(RawMsg::parse(&good).is_ok());

        let mut long = vec![0u8; 4100];
        long[..4].copy_from_slice(&TlvHeader::message(1, 1025).to_le_bytes());
        let mut max_len_buf = vec![0u8; 4100];
        max_len_buf[..4].copy_from_slice(&TlvHeader::message(1, 1024).to_le_bytes());
        let mut not_msg = good.clone();
        not_msg[1] &= !0x80;

        let cases: Vec<(&str, Vec<u8>, TlvError)> = vec![
            (
                "empty buffer",
                vec![],
                TlvError::Truncated { needed: 4, got: 0 },
            ),
            (
                "truncated header",
                vec![0x14, 0x80],
                TlvError::Truncated { needed: 4, got: 2 },
            ),
            (
                "message LEN beyond the buffer (truncated attribute)",
                good[..8].to_vec(),
                TlvError::Truncated { needed: 12, got: 8 },
            ),
            (
                "buffer longer than the message",
                [&good[..], &[0, 0, 0, 0]].concat(),
                TlvError::TrailingBytes {
                    msg_len: 12,
                    buf_len: 16,
                },
            ),
            (
                "message LEN 0",
                TlvHeader::message(1, 0).to_le_bytes().to_vec(),
                TlvError::BadMessageLength(0),
            ),
            ("IS_MSG clear", not_msg, TlvError::NotAMessage),
            ("message over 4 KiB", long, TlvError::TooLong(4100)),
            (
                "4 KiB message in a longer buffer",
                max_len_buf,
                TlvError::TrailingBytes {
                    msg_len: 4096,
                    buf_len: 4100,
                },
            ),
            (
                "attribute LEN < 4",
                msg(1, &attr(2, 3, &[])),
                TlvError::BadAttrLength { id: 2, len: 3 },
            ),
            (
                "attribute LEN 0",
                msg(1, &attr(2, 0, &[])),
                TlvError::BadAttrLength { id: 2, len: 0 },
            ),
            (
                "attribute cut by the message end",
                msg(1, &attr(2, 12, &[1, 2, 3, 4])),
                TlvError::AttrOverrun {
                    id: 2,
                    len: 12,
                    room: 8,
                },
            ),
            (
                "attribute padding runs past the message",
                msg(1, &attr(2, 9, &[1, 2, 3, 4])),
                TlvError::AttrOverrun {
                    id: 2,
                    len: 9,
                    room: 8,
                },
            ),
            (
                "oversized attribute LEN",
                msg(1, &attr(2, 0xffff, &[1, 2, 3, 4])),
                TlvError::AttrOverrun {
                    id: 2,
                    len: 0xffff,
                    room: 8,
                },
            ),
            (
                "id 32",
                msg(1, &attr(32, 4, &[])),
                TlvError::IdOutOfRange(32),
            ),
            (
                "id 0xfff",
                msg(1, &attr(0xfff, 4, &[])),
                TlvError::IdOutOfRange(0xfff),
            ),
            (
                "duplicate attribute",
                msg(1, &[u32_attr.clone(), u32_attr.clone()].concat()),
                TlvError::Duplicate(1),
            ),
            (
                "attribute with IS_MSG",
                msg(1, &TlvHeader::message(3, 1).to_le_bytes()),
                TlvError::AttrIsMessage(3),
            ),
            (
                "non-zero padding",
                msg(1, &attr(4, 6, &[0xaa, 0xbb, 0, 1])),
                TlvError::NonZeroPadding(4),
            ),
        ];
        for (what, buf, want) in cases {
            assert_eq!(RawMsg::parse(&buf).unwrap_err(), want, "{what}");
            // Every error has a human message.
            assert!(!want.to_string().is_empty());
        }
    }

    #[test]
    fn accessors_check_sizes() {
        let b = MsgBuilder::new(1)
            .bytes(0, &[1, 2, 3, 4, 5, 6, 7, 8])
            .bytes(1, &[1, 2, 3, 4, 5])
            .bytes(2, b"abc")
            .bytes(3, b"a\0c\0")
            .bytes(4, &[0xff, 0xfe, 0])
            .bytes(5, &[])
            .bytes(6, &[1, 2, 3])
            .finish()
            .unwrap();
        let m = RawMsg::parse(&b).unwrap();
        let a0 = m.get(0).unwrap();
        assert_eq!(
            a0.as_u32(),
            Err(TlvError::WrongSize {
                id: 0,
                expected: 4,
                got: 8
            }),
            "a u32 stored in 8 bytes is rejected"
        );
        assert_eq!(a0.as_u64(), Ok(0x0807_0605_0403_0201));
        assert_eq!(
            a0.as_flag(),
            Err(TlvError::WrongSize {
                id: 0,
                expected: 0,
                got: 8
            })
        );
        assert_eq!(
            m.get(1).unwrap().as_mac(),
            Err(TlvError::WrongSize {
                id: 1,
                expected: 6,
                got: 5
            })
        );
        let s = |id| m.get(id).unwrap().as_str().unwrap_err();
        assert!(matches!(s(2), TlvError::BadString { id: 2, .. }), "no NUL");
        assert!(
            matches!(s(3), TlvError::BadString { id: 3, .. }),
            "inner NUL"
        );
        assert!(
            matches!(s(4), TlvError::BadString { id: 4, .. }),
            "not UTF-8"
        );
        assert!(matches!(s(5), TlvError::BadString { id: 5, .. }), "empty");
        assert_eq!(
            m.get(6).unwrap().nested().unwrap_err(),
            TlvError::Misaligned { id: 6, len: 3 }
        );
        assert_eq!(
            m.get(6).unwrap().array(0).unwrap_err(),
            TlvError::Misaligned { id: 6, len: 3 }
        );
        assert_eq!(
            m.get(0).unwrap().as_bytes_max(7),
            Err(TlvError::ValueTooLong {
                id: 0,
                max: 7,
                got: 8
            })
        );
        let b = MsgBuilder::new(1).string(0, "hello").finish().unwrap();
        let m = RawMsg::parse(&b).unwrap();
        assert_eq!(m.get(0).unwrap().as_str_max(6), Ok("hello"));
        assert!(matches!(
            m.get(0).unwrap().as_str_max(5),
            Err(TlvError::ValueTooLong {
                id: 0,
                max: 5,
                got: 6
            })
        ));
    }

    #[test]
    fn nested_contents_are_validated_when_opened() {
        // A nested attribute whose inner attribute overruns it.
        let inner = attr(1, 12, &[0, 0, 0, 0]);
        let b = msg(1, &attr(5, 12, &inner));
        let m = RawMsg::parse(&b).unwrap();
        assert_eq!(
            m.get(5).unwrap().nested().unwrap_err(),
            TlvError::AttrOverrun {
                id: 1,
                len: 12,
                room: 8
            }
        );
        assert_eq!(
            m.get(5).unwrap().array(1).unwrap_err(),
            TlvError::AttrOverrun {
                id: 1,
                len: 12,
                room: 8
            }
        );
    }
}
