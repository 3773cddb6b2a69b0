//! Descriptors (spec section 4): 64-bit little-endian words shared with the device.
//!
//! Each descriptor format is a newtype over `u64`. Rings hold the little-endian encoding;
//! [`to_le`](Twd::to_le)/`from_le` convert.

use crate::bitfields;

/// The DONE phase bit of completion descriptors (TCD, RCD).
pub const DESC_DONE: u64 = 1 << 63;

// ---------------------------------------------------------------------------------------------
// Tx work descriptors
// ---------------------------------------------------------------------------------------------

/// TWD TYPE values (bits 47:46).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum TwdType {
    /// Starts a packet: offload metadata.
    Meta = 0,
    /// Optional second metadata word.
    OptMeta = 1,
    /// An address/length piece of the packet.
    Al = 2,
    /// The last address/length piece.
    LastAl = 3,
}

impl TwdType {
    /// Decodes the two-bit TYPE field.
    #[inline]
    pub const fn from_bits(bits: u64) -> Self {
        match bits & 3 {
            0 => Self::Meta,
            1 => Self::OptMeta,
            2 => Self::Al,
            _ => Self::LastAl,
        }
    }
}

/// L3 type in TWD META and RCD META.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum L3Type {
    /// Not IP.
    Other = 0,
    /// IPv4.
    Ipv4 = 1,
    /// IPv6.
    Ipv6 = 2,
    /// IPv6 in IPv6.
    V6V6 = 3,
}

impl L3Type {
    /// Decodes the two-bit field.
    #[inline]
    pub const fn from_bits(bits: u64) -> Self {
        match bits & 3 {
            0 => Self::Other,
            1 => Self::Ipv4,
            2 => Self::Ipv6,
            _ => Self::V6V6,
        }
    }
}

/// L4 type in TWD META and RCD META.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum L4Type {
    /// Not TCP or UDP (or not parsed).
    Other = 0,
    /// TCP.
    Tcp = 1,
    /// UDP.
    Udp = 2,
}

impl L4Type {
    /// Decodes the two-bit field; the reserved value 3 reads as `Other`.
    #[inline]
    pub const fn from_bits(bits: u64) -> Self {
        match bits & 3 {
            1 => Self::Tcp,
            2 => Self::Udp,
            _ => Self::Other,
        }
    }
}

bitfields! {
    /// A Tx work descriptor: META, OPT_META, AL or LAST_AL depending on TYPE.
    ///
    /// META fields apply when `ty() == Meta`; ADDR/LEN when `ty()` is `Al` or `LastAl`.
    pub struct Twd(u64) {
        /// META: L2 header length in 2-byte units.
        field l2_hlen, with_l2_hlen: 5, 0;
        /// META: L3 type ([`L3Type`]).
        field l3_type, with_l3_type: 7, 6;
        /// META: outer L3 header length in 2-byte units.
        field l3_ohlen, with_l3_ohlen: 15, 8;
        /// META: inner L3 header length in 2-byte units.
        field l3_ihlen, with_l3_ihlen: 23, 16;
        /// META: offset of the L4 checksum inside the L4 header, in 2-byte units.
        field csum_offset, with_csum_offset: 27, 24;
        /// META: L4 header length in 4-byte units.
        field l4_hlen, with_l4_hlen: 31, 28;
        /// META: L4 type ([`L4Type`]).
        field l4_type, with_l4_type: 33, 32;
        /// META: request a Tx timestamp.
        flag req_ts, with_req_ts: 34;
        /// META: request segmentation offload.
        flag req_lso, with_req_lso: 35;
        /// META: request checksum offload.
        flag req_cso, with_req_cso: 36;
        /// META: request a completion (TCD) once this packet is done.
        flag req_completion, with_req_completion: 37;
        /// META: send to the network.
        flag dest_mac, with_dest_mac: 43;
        /// META: send to the BMC.
        flag dest_bmc, with_dest_bmc: 44;
        /// META: send to the firmware.
        flag dest_fw, with_dest_fw: 45;
        /// Descriptor type ([`TwdType`]).
        field ty_bits, with_ty_bits: 47, 46;
        /// META: maximum segment size for LSO.
        field mss, with_mss: 61, 48;
        /// AL: DMA address of the piece.
        field addr, with_addr: 45, 0;
        /// AL: length of the piece in bytes.
        field len, with_len: 63, 48;
    }
}

impl Twd {
    /// A META descriptor with no offloads.
    #[inline]
    pub const fn meta() -> Self {
        Self(0)
    }

    /// An AL (or, if `last`, LAST_AL) descriptor.
    #[inline]
    pub const fn al(addr: u64, len: u16, last: bool) -> Self {
        let ty = if last { TwdType::LastAl } else { TwdType::Al };
        Self(0)
            .with_ty_bits(ty as u64)
            .with_addr(addr & ((1 << 46) - 1))
            .with_len(len as u64)
    }

    /// The descriptor type.
    #[inline]
    pub const fn ty(self) -> TwdType {
        TwdType::from_bits(self.ty_bits())
    }

    /// The little-endian encoding stored in the ring.
    #[inline]
    pub const fn to_le(self) -> u64 {
        self.0.to_le()
    }

    /// Decodes a ring word.
    #[inline]
    pub const fn from_le(word: u64) -> Self {
        Self(u64::from_le(word))
    }
}

// ---------------------------------------------------------------------------------------------
// Tx completion descriptors
// ---------------------------------------------------------------------------------------------

bitfields! {
    /// A Tx completion descriptor.
    pub struct Tcd(u64) {
        /// Type 0: TWQ0 head (the next descriptor not yet done).
        field head0, with_head0: 15, 0;
        /// Type 0: TWQ1 head.
        field head1, with_head1: 31, 16;
        /// Type 1: timestamp in ns.
        field ts, with_ts: 39, 0;
        /// Type 1: timestamp status (b48 TS_INVALID, b49 ILLEGAL_TS_REQ).
        field status, with_status: 59, 48;
        /// The completion reports TWQ1 rather than TWQ0.
        flag twq1, with_twq1: 60;
        /// Type: 0 head update, 1 timestamp.
        field ty, with_ty: 62, 61;
        /// The DONE phase bit.
        flag done, with_done: 63;
    }
}

/// **[project choice]** Smallest TWD META MSS the device segments with (LSO).
pub const LSO_MIN_MSS: usize = 64;
/// Largest MSS: the width of TWD META MSS (61:48).
pub const LSO_MAX_MSS: usize = (1 << 14) - 1;
/// **[project choice]** Largest packet, headers included, one LSO request may describe.
pub const LSO_MAX_BYTES: usize = 256 * 1024;

/// TCD type: head update.
pub const TCD_TYPE_HEAD: u64 = 0;
/// TCD type: timestamp.
pub const TCD_TYPE_TS: u64 = 1;

impl Tcd {
    /// The little-endian encoding stored in the ring.
    #[inline]
    pub const fn to_le(self) -> u64 {
        self.0.to_le()
    }

    /// Decodes a ring word.
    #[inline]
    pub const fn from_le(word: u64) -> Self {
        Self(u64::from_le(word))
    }
}

// ---------------------------------------------------------------------------------------------
// Buffer descriptors
// ---------------------------------------------------------------------------------------------

bitfields! {
    /// A buffer descriptor (HPQ or PPQ entry).
    ///
    /// ADDR 45:12 is the 4 KiB-aligned part of the buffer address; **[project choice]**
    /// bits 11:0 carry a byte offset inside that page, so [`addr`](Self::addr) is the full
    /// byte address of the buffer.
    pub struct BdqDesc(u64) {
        /// The buffer's byte address (page address 45:12 plus offset 11:0).
        field addr, with_addr: 45, 0;
        /// The buffer's id, reported back in AL completions (the ring slot).
        field id, with_id: 63, 48;
    }
}

impl BdqDesc {
    /// A descriptor for the buffer at `addr` with id `id`.
    #[inline]
    pub const fn new(addr: u64, id: u16) -> Self {
        Self(0).with_addr(addr & ((1 << 46) - 1)).with_id(id as u64)
    }

    /// The little-endian encoding stored in the ring.
    #[inline]
    pub const fn to_le(self) -> u64 {
        self.0.to_le()
    }

    /// Decodes a ring word.
    #[inline]
    pub const fn from_le(word: u64) -> Self {
        Self(u64::from_le(word))
    }
}

// ---------------------------------------------------------------------------------------------
// Rx completion descriptors
// ---------------------------------------------------------------------------------------------

/// RCD TYPE values (bits 62:61).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RcdType {
    /// A header buffer piece.
    HdrAl = 0,
    /// A payload buffer piece.
    PayAl = 1,
    /// Optional metadata (timestamp, action).
    OptMeta = 2,
    /// Ends the packet: hash, types, checksum, errors.
    Meta = 3,
}

impl RcdType {
    /// Decodes the two-bit TYPE field.
    #[inline]
    pub const fn from_bits(bits: u64) -> Self {
        match bits & 3 {
            0 => Self::HdrAl,
            1 => Self::PayAl,
            2 => Self::OptMeta,
            _ => Self::Meta,
        }
    }
}

bitfields! {
    /// An Rx completion descriptor. Which fields apply depends on [`ty`](Self::ty).
    pub struct Rcd(u64) {
        /// AL: the buffer's id (as posted in the BDQ).
        field buff_id, with_buff_id: 15, 0;
        /// AL: bytes written to the buffer.
        field len, with_len: 28, 16;
        /// AL: offset in the buffer where the bytes start.
        field off, with_off: 43, 32;
        /// HDR_AL: the header overflowed MAX_HDR.
        flag overflow, with_overflow: 53;
        /// HDR_AL: DMA hint.
        field dma_hint, with_dma_hint: 59, 54;
        /// AL: the device is done with this buffer (page).
        flag page_fin, with_page_fin: 60;
        /// OPT_META: timestamp.
        field ts, with_ts: 39, 0;
        /// OPT_META: action id.
        field action, with_action: 45, 40;
        /// OPT_META: ACTION is valid.
        flag action_valid, with_action_valid: 57;
        /// OPT_META: TS is valid.
        flag ts_valid, with_ts_valid: 58;
        /// OPT_META: optional metadata type.
        field opt_type, with_opt_type: 60, 59;
        /// META: RSS hash.
        field rss_hash, with_rss_hash: 31, 0;
        /// META: L2 checksum (ones' complement sum over the frame after the L2 header).
        field l2_csum, with_l2_csum: 47, 32;
        /// META: L3 type ([`L3Type`]).
        field l3_type_bits, with_l3_type_bits: 49, 48;
        /// META: L4 type ([`L4Type`]).
        field l4_type_bits, with_l4_type_bits: 51, 50;
        /// META: the L4 checksum was verified good.
        flag l4_csum_unnecessary, with_l4_csum_unnecessary: 52;
        /// META: the MAC reported an error at end of packet.
        flag err_mac_eop, with_err_mac_eop: 53;
        /// META: the frame was truncated.
        flag err_truncated, with_err_truncated: 54;
        /// META: the parser hit an error.
        flag err_parser, with_err_parser: 55;
        /// META: ECN congestion experienced.
        flag ecn, with_ecn: 60;
        /// Descriptor type ([`RcdType`]).
        field ty_bits, with_ty_bits: 62, 61;
        /// The DONE phase bit.
        flag done, with_done: 63;
    }
}

impl Rcd {
    /// An AL completion of `ty` (`HdrAl` or `PayAl`).
    #[inline]
    pub const fn al(ty: RcdType, buff_id: u16, off: u16, len: u16, page_fin: bool) -> Self {
        Self(0)
            .with_ty_bits(ty as u64)
            .with_buff_id(buff_id as u64)
            .with_off(off as u64 & 0xfff)
            .with_len(len as u64 & 0x1fff)
            .with_page_fin(page_fin)
    }

    /// A META completion with no flags set.
    #[inline]
    pub const fn meta() -> Self {
        Self(0).with_ty_bits(RcdType::Meta as u64)
    }

    /// The descriptor type.
    #[inline]
    pub const fn ty(self) -> RcdType {
        RcdType::from_bits(self.ty_bits())
    }

    /// META: the L3 type.
    #[inline]
    pub const fn l3_type(self) -> L3Type {
        L3Type::from_bits(self.l3_type_bits())
    }

    /// META: the L4 type.
    #[inline]
    pub const fn l4_type(self) -> L4Type {
        L4Type::from_bits(self.l4_type_bits())
    }

    /// META: an error that means the packet must be dropped (spec 4.4: b53 or b54).
    #[inline]
    pub const fn uncorrectable_error(self) -> bool {
        self.err_mac_eop() || self.err_truncated()
    }

    /// The little-endian encoding stored in the ring.
    #[inline]
    pub const fn to_le(self) -> u64 {
        self.0.to_le()
    }

    /// Decodes a ring word.
    #[inline]
    pub const fn from_le(word: u64) -> Self {
        Self(u64::from_le(word))
    }
}

// ---------------------------------------------------------------------------------------------
// Mailbox descriptors
// ---------------------------------------------------------------------------------------------

bitfields! {
    /// A firmware mailbox descriptor (BAR4; low dword at the slot's index, high dword next).
    pub struct MbxDesc(u64) {
        /// The host has handed this descriptor to the firmware.
        flag host_cmpl, with_host_cmpl: 0;
        /// The firmware has finished with this descriptor.
        flag fw_cmpl, with_fw_cmpl: 1;
        /// The firmware reports an error for this descriptor.
        flag fw_err, with_fw_err: 2;
        /// Host DMA address of the page, bits 45:3 (8-byte aligned).
        field addr_qw, with_addr_qw: 45, 3;
        /// End of message.
        flag eom, with_eom: 46;
        /// Length in bytes.
        field len, with_len: 63, 48;
    }
}

impl MbxDesc {
    /// The page's DMA address.
    #[inline]
    pub const fn addr(self) -> u64 {
        self.addr_qw() << 3
    }

    /// This descriptor pointing at `addr` (8-byte aligned; low bits are dropped).
    #[must_use]
    #[inline]
    pub const fn with_addr(self, addr: u64) -> Self {
        self.with_addr_qw((addr >> 3) & ((1 << 43) - 1))
    }

    /// The low dword.
    #[inline]
    pub const fn lo(self) -> u32 {
        self.0 as u32
    }

    /// The high dword.
    #[inline]
    pub const fn hi(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// Assembles a descriptor from its dwords.
    #[inline]
    pub const fn from_dwords(lo: u32, hi: u32) -> Self {
        Self((hi as u64) << 32 | lo as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twd_meta_bit_positions() {
        let m = Twd::meta()
            .with_l2_hlen(7)
            .with_l3_type(L3Type::Ipv4 as u64)
            .with_l3_ihlen(10)
            .with_csum_offset(8)
            .with_l4_hlen(5)
            .with_l4_type(L4Type::Tcp as u64)
            .with_req_cso(true)
            .with_req_completion(true)
            .with_dest_mac(true);
        assert_eq!(m.ty(), TwdType::Meta);
        assert_eq!(m.raw() & 0x3f, 7);
        assert_eq!((m.raw() >> 6) & 3, 1);
        assert_eq!((m.raw() >> 16) & 0xff, 10);
        assert_eq!((m.raw() >> 24) & 0xf, 8);
        assert_eq!((m.raw() >> 28) & 0xf, 5);
        assert_eq!((m.raw() >> 32) & 3, 1);
        assert_ne!(m.raw() & (1 << 36), 0);
        assert_ne!(m.raw() & (1 << 37), 0);
        assert_ne!(m.raw() & (1 << 43), 0);
        assert_eq!(Twd::meta().with_req_ts(true).raw(), 1 << 34);
        assert_eq!(Twd::meta().with_req_lso(true).raw(), 1 << 35);
        assert_eq!(Twd::meta().with_dest_bmc(true).raw(), 1 << 44);
        assert_eq!(Twd::meta().with_dest_fw(true).raw(), 1 << 45);
        assert_eq!(Twd::meta().with_mss(0x3fff).raw(), 0x3fff << 48);
        assert_eq!(Twd::meta().with_l3_ohlen(0xff).raw(), 0xff << 8);
    }

    #[test]
    fn twd_al_layout() {
        let a = Twd::al(0x3fff_ffff_fff8, 0xffff, true);
        assert_eq!(a.ty(), TwdType::LastAl);
        assert_eq!(
            a.raw(),
            0xffff_0000_0000_0000 | (3 << 46) | 0x3fff_ffff_fff8
        );
        assert_eq!(a.addr(), 0x3fff_ffff_fff8);
        assert_eq!(a.len(), 0xffff);
        let b = Twd::al(0x1000, 64, false);
        assert_eq!(b.ty(), TwdType::Al);
        assert_eq!(b.raw(), (64 << 48) | (2 << 46) | 0x1000);
        assert_eq!(Twd::from_le(b.to_le()), b);
    }

    #[test]
    fn tcd_layout() {
        let t = Tcd::default().with_head0(0x1234).with_done(true);
        assert_eq!(t.raw(), (1 << 63) | 0x1234);
        assert_eq!(Tcd::default().with_head1(0xffff).raw(), 0xffff << 16);
        assert_eq!(Tcd::default().with_twq1(true).raw(), 1 << 60);
        assert_eq!(Tcd::default().with_ty(TCD_TYPE_TS).raw(), 1 << 61);
        assert_eq!(Tcd::default().with_status(3).raw(), 3 << 48);
        assert_eq!(Tcd::default().with_ts((1 << 40) - 1).raw(), (1 << 40) - 1);
    }

    #[test]
    fn bdq_layout() {
        let d = BdqDesc::new(0x0000_1234_5678_9080, 0xabcd);
        assert_eq!(d.raw(), (0xabcd << 48) | 0x1234_5678_9080);
        assert_eq!(d.addr() & !0xfff, 0x1234_5678_9000, "ADDR 45:12 page part");
        assert_eq!(d.addr() & 0xfff, 0x080, "byte offset in the low 12 bits");
        assert_eq!(d.id(), 0xabcd);
    }

    #[test]
    fn rcd_al_layout() {
        let r = Rcd::al(RcdType::PayAl, 0x1234, 0x80, 0x1fff, true).with_done(true);
        assert_eq!(r.ty(), RcdType::PayAl);
        assert_eq!(
            r.raw(),
            (1 << 63) | (1 << 61) | (1 << 60) | (0x80 << 32) | (0x1fff << 16) | 0x1234
        );
        let h = Rcd::al(RcdType::HdrAl, 1, 0, 64, false)
            .with_overflow(true)
            .with_dma_hint(0x3f);
        assert_eq!(h.ty(), RcdType::HdrAl);
        assert_eq!(h.raw() >> 53 & 1, 1);
        assert_eq!(h.raw() >> 54 & 0x3f, 0x3f);
    }

    #[test]
    fn rcd_meta_layout() {
        let m = Rcd::meta()
            .with_rss_hash(0xdead_beef)
            .with_l2_csum(0xffff)
            .with_l3_type_bits(L3Type::Ipv6 as u64)
            .with_l4_type_bits(L4Type::Udp as u64)
            .with_l4_csum_unnecessary(true)
            .with_done(true);
        assert_eq!(m.ty(), RcdType::Meta);
        assert_eq!(m.rss_hash(), 0xdead_beef);
        assert_eq!((m.raw() >> 32) & 0xffff, 0xffff);
        assert_eq!((m.raw() >> 48) & 3, 2);
        assert_eq!((m.raw() >> 50) & 3, 2);
        assert_eq!((m.raw() >> 52) & 1, 1);
        assert_eq!((m.raw() >> 61) & 3, 3);
        assert_eq!(m.l3_type(), L3Type::Ipv6);
        assert_eq!(m.l4_type(), L4Type::Udp);
        assert!(!m.uncorrectable_error());
        assert!(Rcd::meta().with_err_mac_eop(true).uncorrectable_error());
        assert!(Rcd::meta().with_err_truncated(true).uncorrectable_error());
        assert!(!Rcd::meta().with_err_parser(true).uncorrectable_error());
        assert_eq!(Rcd::meta().with_err_mac_eop(true).raw() >> 53 & 1, 1);
        assert_eq!(Rcd::meta().with_err_truncated(true).raw() >> 54 & 1, 1);
        assert_eq!(Rcd::meta().with_err_parser(true).raw() >> 55 & 1, 1);
        assert_eq!(Rcd::meta().with_ecn(true).raw() >> 60 & 1, 1);
    }

    #[test]
    fn rcd_opt_meta_layout() {
        let o = Rcd::default()
            .with_ty_bits(RcdType::OptMeta as u64)
            .with_ts(0xff_ffff_ffff)
            .with_action(0x3f)
            .with_action_valid(true)
            .with_ts_valid(true)
            .with_opt_type(3);
        assert_eq!(o.ty(), RcdType::OptMeta);
        assert_eq!(o.raw() & 0xff_ffff_ffff, 0xff_ffff_ffff);
        assert_eq!(o.raw() >> 40 & 0x3f, 0x3f);
        assert_eq!(o.raw() >> 57 & 1, 1);
        assert_eq!(o.raw() >> 58 & 1, 1);
        assert_eq!(o.raw() >> 59 & 3, 3);
    }

    #[test]
    fn mbx_desc_layout() {
        let d = MbxDesc::default()
            .with_addr(0x3fff_ffff_f000)
            .with_len(4096)
            .with_eom(true)
            .with_host_cmpl(true);
        assert_eq!(d.addr(), 0x3fff_ffff_f000);
        assert_eq!(d.raw(), (4096 << 48) | (1 << 46) | 0x3fff_ffff_f000 | 1);
        assert_eq!(MbxDesc::default().with_fw_cmpl(true).raw(), 2);
        assert_eq!(MbxDesc::default().with_fw_err(true).raw(), 4);
        assert_eq!(MbxDesc::from_dwords(d.lo(), d.hi()), d);
    }

    #[test]
    fn types_decode_every_value() {
        for bits in 0..4u64 {
            assert_eq!(TwdType::from_bits(bits) as u64, bits);
            assert_eq!(RcdType::from_bits(bits) as u64, bits);
            assert_eq!(L3Type::from_bits(bits) as u64, bits);
        }
        assert_eq!(L4Type::from_bits(3), L4Type::Other);
    }
}
