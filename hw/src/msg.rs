//! Typed schemas for every firmware mailbox message (spec 5.1).
//!
//! [`Msg`] has one variant per message of the spec's table. [`Msg::encode`] builds the TLV
//! bytes with [`MsgBuilder`]; [`Msg::decode`] validates the structure with
//! [`RawMsg::parse`] and then the schema:
//!
//! - an unknown message id is [`TlvError::UnknownMessage`];
//! - an attribute the message's schema does not list is skipped, unless it has CANNOT_IGNORE
//!   set ([`TlvError::UnknownRequired`]);
//! - a required attribute that is absent is [`TlvError::Missing`];
//! - every value must have its type's exact size ([`TlvError::WrongSize`]); strings must be
//!   NUL-terminated UTF-8; enumerations must hold a known value ([`TlvError::BadValue`]);
//! - limits: at most [`BMC_MACS_MAX`] BMC MACs, [`MAC_SYNC_MAX`] MACs per RPC_MAC_SYNC array,
//!   [`LOG_MSG_MAX`]-byte log strings, [`COMMIT_STR_MAX`]-byte commit strings,
//!   [`DATA_CHUNK_MAX`]-byte data chunks, [`LOG_HISTORY_MAX`] logs per LOG_MSG.
//!
//! [`Msg::encode`] applies the same limits, so whatever it produces decodes to an equal
//! value, and whatever decodes re-encodes.
//!
//! Attribute ids, types, directions and limits are the public Linux driver's facts
//! (drivers/net/ethernet/meta/fbnic); where it says nothing the choice is marked
//! **[project choice]**. Integer attributes absent from a message read as 0 where the Linux
//! driver reads them with a default of 0 (offsets, error codes), and are required where the
//! message is meaningless without them.

use crate::link::{Fec, LinkSpeed};
use crate::mac::MacAddr;
use crate::tlv::{AttrSet, MsgBuilder, NestedBuilder, RawAttr, RawMsg, TlvError, DATA_CHUNK_MAX};
use crate::version::FwVersion;

/// Message ids (TYPE of the message header).
pub mod id {
    /// Mailbox self-test; the firmware echoes it back.
    pub const TEST: u16 = 0x00;
    /// Host asks for the firmware's capabilities.
    pub const HOST_CAP_REQ: u16 = 0x10;
    /// Firmware capabilities.
    pub const FW_CAP_RESP: u16 = 0x11;
    /// Host takes or releases ownership of the NIC.
    pub const OWNERSHIP_REQ: u16 = 0x12;
    /// Ownership acknowledged.
    pub const OWNERSHIP_RESP: u16 = 0x13;
    /// Host heartbeat.
    pub const HEARTBEAT_REQ: u16 = 0x14;
    /// Firmware heartbeat answer.
    pub const HEARTBEAT_RESP: u16 = 0x15;
    /// Host asks whether a coredump exists (optionally creating one).
    pub const COREDUMP_GET_INFO_REQ: u16 = 0x18;
    /// Coredump availability and size.
    pub const COREDUMP_GET_INFO_RESP: u16 = 0x19;
    /// Host asks for a coredump section.
    pub const COREDUMP_READ_REQ: u16 = 0x20;
    /// A coredump section.
    pub const COREDUMP_READ_RESP: u16 = 0x21;
    /// Host starts a firmware upgrade.
    pub const FW_START_UPGRADE_REQ: u16 = 0x22;
    /// Firmware accepts or refuses the upgrade.
    pub const FW_START_UPGRADE_RESP: u16 = 0x23;
    /// Firmware asks the host for an image chunk.
    pub const FW_WRITE_CHUNK_REQ: u16 = 0x24;
    /// Host sends the image chunk.
    pub const FW_WRITE_CHUNK_RESP: u16 = 0x25;
    /// Host asks the firmware to verify the image.
    pub const FW_VERIFY_IMAGE_REQ: u16 = 0x26;
    /// Verification result.
    pub const FW_VERIFY_IMAGE_RESP: u16 = 0x27;
    /// Firmware reports the upgrade finished.
    pub const FW_FINISH_UPGRADE_REQ: u16 = 0x28;
    /// Host acknowledges the finished upgrade.
    pub const FW_FINISH_UPGRADE_RESP: u16 = 0x29;
    /// Host reads the QSFP module EEPROM (I2C address 0x50).
    pub const QSFP_READ_REQ: u16 = 0x38;
    /// QSFP EEPROM bytes.
    pub const QSFP_READ_RESP: u16 = 0x39;
    /// Host reads the temperature and voltage sensors.
    pub const TSENE_READ_REQ: u16 = 0x3c;
    /// Sensor readings.
    pub const TSENE_READ_RESP: u16 = 0x3d;
    /// Host turns firmware log forwarding on or off.
    pub const LOG_SEND_LOGS_REQ: u16 = 0x43;
    /// Firmware sends log lines.
    pub const LOG_MSG_REQ: u16 = 0x44;
    /// Host acknowledges log lines.
    pub const LOG_MSG_RESP: u16 = 0x45;
    /// Host tells the firmware its Rx MAC filters.
    pub const RPC_MAC_SYNC_REQ: u16 = 0x46;

    /// Every message id, ascending.
    pub const ALL: [u16; 27] = [
        TEST,
        HOST_CAP_REQ,
        FW_CAP_RESP,
        OWNERSHIP_REQ,
        OWNERSHIP_RESP,
        HEARTBEAT_REQ,
        HEARTBEAT_RESP,
        COREDUMP_GET_INFO_REQ,
        COREDUMP_GET_INFO_RESP,
        COREDUMP_READ_REQ,
        COREDUMP_READ_RESP,
        FW_START_UPGRADE_REQ,
        FW_START_UPGRADE_RESP,
        FW_WRITE_CHUNK_REQ,
        FW_WRITE_CHUNK_RESP,
        FW_VERIFY_IMAGE_REQ,
        FW_VERIFY_IMAGE_RESP,
        FW_FINISH_UPGRADE_REQ,
        FW_FINISH_UPGRADE_RESP,
        QSFP_READ_REQ,
        QSFP_READ_RESP,
        TSENE_READ_REQ,
        TSENE_READ_RESP,
        LOG_SEND_LOGS_REQ,
        LOG_MSG_REQ,
        LOG_MSG_RESP,
        RPC_MAC_SYNC_REQ,
    ];
}

/// Attribute ids, one module per message (or message pair).
pub mod attr {
    /// TEST attributes; the NESTED attribute holds the same set again, one level deep.
    pub mod test {
        /// u64.
        pub const U64: u16 = 0x0;
        /// i64.
        pub const S64: u16 = 0x1;
        /// u32.
        pub const U32: u16 = 0x2;
        /// i32.
        pub const S32: u16 = 0x3;
        /// A u16 carried in a 4-byte integer.
        pub const U16: u16 = 0x4;
        /// An i16 carried in a 4-byte integer.
        pub const S16: u16 = 0x5;
        /// MAC address; also the entry id of ARRAY.
        pub const MAC_ADDR: u16 = 0x6;
        /// Flag that is sent (true).
        pub const FLAG_TRUE: u16 = 0x7;
        /// Flag that is not sent (false).
        pub const FLAG_FALSE: u16 = 0x8;
        /// String of at most [`TEST_STRING_MAX`](crate::msg::TEST_STRING_MAX) bytes.
        pub const STRING: u16 = 0x9;
        /// Nested copy of the set.
        pub const NESTED: u16 = 0xa;
        /// Array of MAC_ADDR entries (at most 4).
        pub const ARRAY: u16 = 0xb;
    }

    /// FW_CAP_RESP attributes.
    pub mod fw_cap {
        /// Running firmware version (u32, required).
        pub const VERSION: u16 = 0x0;
        /// Flag: a BMC shares the port.
        pub const BMC_PRESENT: u16 = 0x1;
        /// A BMC MAC address: the entry id of BMC_MAC_ARRAY.
        pub const BMC_MAC_ADDR: u16 = 0x2;
        /// Array of BMC_MAC_ADDR entries (at most 4); required when BMC_PRESENT.
        pub const BMC_MAC_ARRAY: u16 = 0x3;
        /// Version stored in flash (u32).
        pub const STORED_VERSION: u16 = 0x4;
        /// Active firmware slot (u32).
        pub const ACTIVE_FW_SLOT: u16 = 0x5;
        /// Commit id string of the running firmware.
        pub const VERSION_COMMIT_STR: u16 = 0x6;
        /// The BMC wants all multicast (u32, non-zero = yes).
        pub const BMC_ALL_MULTI: u16 = 0x8;
        /// Link mode (u32: 1 25G-CR, 2 50G-CR2, 3 50G-CR, 4 100G-CR2).
        pub const LINK_SPEED: u16 = 0xa;
        /// FEC (u32: 1 none, 2 RS, 3 BASE-R).
        pub const LINK_FEC: u16 = 0xb;
        /// UEFI driver version (u32).
        pub const UEFI_VERSION: u16 = 0x11;
    }

    /// OWNERSHIP_REQ / OWNERSHIP_RESP attributes.
    pub mod ownership {
        /// Request flag: present = take ownership, absent = release.
        pub const FLAG: u16 = 0x0;
        /// Response: firmware time in ms (u64).
        pub const TIME: u16 = 0x1;
    }

    /// HEARTBEAT_RESP attributes.
    pub mod heartbeat {
        /// Firmware uptime in ms (u64, required).
        pub const UPTIME: u16 = 0x0;
        /// Messages the firmware has handled (u64) **[project choice: the type]**.
        pub const NUMBER_OF_MESSAGES: u16 = 0x1;
    }

    /// COREDUMP_GET_INFO_REQ / _RESP attributes.
    pub mod coredump_info {
        /// Request flag: create a coredump if there is none.
        pub const CREATE: u16 = 0x0;
        /// Response flag: a coredump is available.
        pub const AVAILABLE: u16 = 0x0;
        /// Response: coredump size in bytes (u32).
        pub const SIZE: u16 = 0x1;
        /// Response: error code (i32, 0 = none).
        pub const ERROR: u16 = 0x2;
    }

    /// COREDUMP_READ_REQ / _RESP attributes.
    pub mod coredump_read {
        /// Byte offset into the coredump (u32).
        pub const OFFSET: u16 = 0x0;
        /// Bytes requested / carried (u32).
        pub const LENGTH: u16 = 0x1;
        /// Response: the bytes (at most 3584).
        pub const DATA: u16 = 0x2;
        /// Response: error code (i32, 0 = none).
        pub const ERROR: u16 = 0x3;
    }

    /// FW_START_UPGRADE_REQ / _RESP attributes.
    pub mod start_upgrade {
        /// Response: error code (i32, 0 = none).
        pub const ERROR: u16 = 0x0;
        /// Request: flash section to write (u32).
        pub const SECTION: u16 = 0x1;
        /// Request: image length in bytes (u32).
        pub const IMAGE_LENGTH: u16 = 0x2;
    }

    /// FW_WRITE_CHUNK_REQ / _RESP attributes.
    pub mod write_chunk {
        /// Byte offset into the image (u32).
        pub const OFFSET: u16 = 0x0;
        /// Bytes requested / carried (u32).
        pub const LENGTH: u16 = 0x1;
        /// Response: the bytes (at most 3584).
        pub const DATA: u16 = 0x2;
        /// Response: error code (i32, 0 = none).
        pub const ERROR: u16 = 0x3;
    }

    /// FW_VERIFY_IMAGE_RESP attributes.
    pub mod verify_image {
        /// Error code (i32, 0 = none).
        pub const ERROR: u16 = 0x0;
    }

    /// FW_FINISH_UPGRADE_REQ / _RESP attributes.
    pub mod finish_upgrade {
        /// Error code (i32, 0 = none).
        pub const ERROR: u16 = 0x0;
    }

    /// QSFP_READ_REQ / _RESP attributes.
    pub mod qsfp {
        /// Bank (u32).
        pub const BANK: u16 = 0x0;
        /// Page (u32).
        pub const PAGE: u16 = 0x1;
        /// Byte offset in the page (u32).
        pub const OFFSET: u16 = 0x2;
        /// Bytes requested / carried (u32).
        pub const LENGTH: u16 = 0x3;
        /// Response: error code (i32, 0 = none).
        pub const ERROR: u16 = 0x4;
        /// Response: the bytes (at most 3584).
        pub const DATA: u16 = 0x5;
    }

    /// TSENE_READ_RESP attributes.
    pub mod tsene {
        /// Temperature in milli-degrees Celsius (i32).
        pub const THERM: u16 = 0x0;
        /// Voltage in millivolts (i32).
        pub const VOLT: u16 = 0x1;
        /// Error code (i32, 0 = none).
        pub const ERROR: u16 = 0x2;
    }

    /// LOG_SEND_LOGS_REQ attributes.
    pub mod send_logs {
        /// Flag: send logs (absent = stop).
        pub const SEND_LOGS: u16 = 0x0;
        /// Log format version the host wants (u32; Linux sends 1).
        pub const VERSION: u16 = 0x1;
        /// Flag: also send the stored history.
        pub const HISTORY: u16 = 0x2;
    }

    /// LOG_MSG_REQ attributes. The first log line is MSEC/INDEX/MSG; LENGTH more lines follow
    /// in three parallel arrays whose entries have the ids MSEC, INDEX and MSG.
    pub mod log {
        /// Time stamp in ms (u32).
        pub const MSEC: u16 = 0x0;
        /// Sequence number (u64).
        pub const INDEX: u16 = 0x1;
        /// The line (string of at most 256 bytes with its NUL).
        pub const MSG: u16 = 0x2;
        /// Number of lines in the arrays (u32).
        pub const LENGTH: u16 = 0x3;
        /// Array of MSEC entries.
        pub const MSEC_ARRAY: u16 = 0x4;
        /// Array of INDEX entries.
        pub const INDEX_ARRAY: u16 = 0x5;
        /// Array of MSG entries.
        pub const MSG_ARRAY: u16 = 0x6;
    }

    /// RPC_MAC_SYNC_REQ attributes.
    pub mod mac_sync {
        /// Rx flags (u32): [`RX_FLAG_PROMISC`](crate::msg::RX_FLAG_PROMISC) and friends.
        pub const RX_FLAGS: u16 = 0x0;
        /// Array of unicast MAC_ADDR entries (at most 8).
        pub const UC_ARRAY: u16 = 0x1;
        /// Array of multicast MAC_ADDR entries (at most 8).
        pub const MC_ARRAY: u16 = 0x2;
        /// The entry id of the arrays.
        pub const MAC_ADDR: u16 = 0x3;
    }
}

/// Most BMC MAC addresses in FW_CAP_RESP.
pub const BMC_MACS_MAX: usize = 4;
/// Most MAC addresses in each RPC_MAC_SYNC_REQ array.
pub const MAC_SYNC_MAX: usize = 8;
/// Most bytes in a log line, its NUL included.
pub const LOG_MSG_MAX: usize = 256;
/// Most log lines in one LOG_MSG_REQ: the first plus 13 in the arrays (what fits a page).
pub const LOG_HISTORY_MAX: usize = 14;
/// Most bytes in a FW_CAP_RESP commit string, its NUL included (Linux's buffer).
pub const COMMIT_STR_MAX: usize = 19;
/// Most bytes in the TEST string, its NUL included.
pub const TEST_STRING_MAX: usize = 32;
/// Most MAC addresses in the TEST array.
pub const TEST_MACS_MAX: usize = 4;

/// RPC_MAC_SYNC_REQ RX_FLAGS: promiscuous.
pub const RX_FLAG_PROMISC: u32 = 1;
/// RPC_MAC_SYNC_REQ RX_FLAGS: all multicast.
pub const RX_FLAG_ALLMULTI: u32 = 2;
/// RPC_MAC_SYNC_REQ RX_FLAGS: broadcast.
pub const RX_FLAG_BROADCAST: u32 = 4;

/// The firmware's capabilities (FW_CAP_RESP, FW -> host).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FwCapResp {
    /// Running firmware version (VERSION, required). The host refuses firmware older than
    /// [`FwVersion::MIN_SUPPORTED`].
    pub version: FwVersion,
    /// A BMC shares the port (BMC_PRESENT).
    pub bmc_present: bool,
    /// The BMC's MAC addresses (BMC_MAC_ARRAY, at most [`BMC_MACS_MAX`]); the array is sent
    /// whenever `bmc_present` is set, and then required.
    pub bmc_macs: Vec<MacAddr>,
    /// The BMC wants all multicast (BMC_ALL_MULTI).
    pub bmc_all_multi: bool,
    /// Version stored in flash (STORED_VERSION).
    pub stored_version: Option<FwVersion>,
    /// Active firmware slot (ACTIVE_FW_SLOT).
    pub active_slot: Option<u32>,
    /// Commit id of the running firmware (VERSION_COMMIT_STR): at most
    /// [`COMMIT_STR_MAX`] - 1 bytes of text.
    pub commit: Option<String>,
    /// Link mode (LINK_SPEED).
    pub link_speed: Option<LinkSpeed>,
    /// FEC (LINK_FEC).
    pub link_fec: Option<Fec>,
    /// UEFI driver version (UEFI_VERSION).
    pub uefi_version: Option<FwVersion>,
}

/// The attributes of a TEST message (and of its one nested level).
///
/// Linux fills every field with random data, sends it, and the firmware echoes the message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TestAttrs {
    /// U64.
    pub u64: Option<u64>,
    /// S64.
    pub s64: Option<i64>,
    /// U32.
    pub u32: Option<u32>,
    /// S32.
    pub s32: Option<i32>,
    /// U16 (4 bytes on the wire; a value above 0xffff is [`TlvError::BadValue`]).
    pub u16: Option<u16>,
    /// S16 (4 bytes on the wire, sign extended).
    pub s16: Option<i16>,
    /// MAC_ADDR.
    pub mac: Option<MacAddr>,
    /// FLAG_TRUE present.
    pub flag_true: bool,
    /// FLAG_FALSE present.
    pub flag_false: bool,
    /// STRING (at most [`TEST_STRING_MAX`] - 1 bytes of text).
    pub string: Option<String>,
    /// ARRAY of MAC_ADDR entries (at most [`TEST_MACS_MAX`]).
    pub mac_array: Vec<MacAddr>,
}

/// One firmware log line (LOG_MSG_REQ).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogEntry {
    /// Time stamp in ms (MSEC).
    pub msec: u32,
    /// Sequence number (INDEX).
    pub index: u64,
    /// The text (MSG): at most [`LOG_MSG_MAX`] - 1 bytes.
    pub msg: String,
}

/// A firmware mailbox message: one variant per message id of the spec's table.
///
/// Each variant says which side sends it. Integer fields that stand for optional attributes
/// read as 0 when absent (the Linux driver's default) and are sent when non-zero, unless the
/// variant says otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg {
    /// TEST (both ways: the host sends, the firmware echoes).
    Test {
        /// The top-level attributes.
        attrs: TestAttrs,
        /// The NESTED attribute (a copy of the set, one level deep).
        nested: Option<TestAttrs>,
    },
    /// HOST_CAP_REQ (host -> FW): no attributes.
    HostCapReq,
    /// FW_CAP_RESP (FW -> host).
    FwCapResp(FwCapResp),
    /// OWNERSHIP_REQ (host -> FW).
    OwnershipReq {
        /// FLAG present: take ownership; absent: release it.
        take: bool,
    },
    /// OWNERSHIP_RESP (FW -> host).
    OwnershipResp {
        /// Firmware time in ms (TIME, required).
        time: u64,
    },
    /// HEARTBEAT_REQ (host -> FW): no attributes.
    HeartbeatReq,
    /// HEARTBEAT_RESP (FW -> host).
    HeartbeatResp {
        /// Firmware uptime in ms (UPTIME, required). Going backwards means the FW restarted.
        uptime: u64,
        /// Messages handled (NUMBER_OF_MESSAGES, optional; always sent).
        messages: u64,
    },
    /// COREDUMP_GET_INFO_REQ (host -> FW).
    CoredumpGetInfoReq {
        /// CREATE flag: make a coredump if there is none.
        create: bool,
    },
    /// COREDUMP_GET_INFO_RESP (FW -> host).
    CoredumpGetInfoResp {
        /// AVAILABLE flag.
        available: bool,
        /// SIZE in bytes.
        size: u32,
        /// ERROR (0 = none).
        error: i32,
    },
    /// COREDUMP_READ_REQ (host -> FW).
    CoredumpReadReq {
        /// OFFSET.
        offset: u32,
        /// LENGTH, at most [`DATA_CHUNK_MAX`].
        length: u32,
    },
    /// COREDUMP_READ_RESP (FW -> host). Without an error, DATA is required and LENGTH equals
    /// its size; OFFSET and LENGTH are always sent.
    CoredumpReadResp {
        /// OFFSET.
        offset: u32,
        /// LENGTH.
        length: u32,
        /// DATA, at most [`DATA_CHUNK_MAX`] bytes (empty = absent).
        data: Vec<u8>,
        /// ERROR (0 = none).
        error: i32,
    },
    /// FW_START_UPGRADE_REQ (host -> FW): both attributes required.
    FwStartUpgradeReq {
        /// SECTION: flash section.
        section: u32,
        /// IMAGE_LENGTH in bytes.
        image_length: u32,
    },
    /// FW_START_UPGRADE_RESP (FW -> host).
    FwStartUpgradeResp {
        /// ERROR (0 = none).
        error: i32,
    },
    /// FW_WRITE_CHUNK_REQ (FW -> host): the firmware asks for a piece of the image.
    FwWriteChunkReq {
        /// OFFSET.
        offset: u32,
        /// LENGTH (required), at most [`DATA_CHUNK_MAX`].
        length: u32,
    },
    /// FW_WRITE_CHUNK_RESP (host -> FW): the piece. Without an error, DATA is required and
    /// LENGTH equals its size; OFFSET and LENGTH are always sent.
    FwWriteChunkResp {
        /// OFFSET.
        offset: u32,
        /// LENGTH.
        length: u32,
        /// DATA, at most [`DATA_CHUNK_MAX`] bytes (empty = absent).
        data: Vec<u8>,
        /// ERROR (0 = none).
        error: i32,
    },
    /// FW_VERIFY_IMAGE_REQ (host -> FW): no attributes.
    FwVerifyImageReq,
    /// FW_VERIFY_IMAGE_RESP (FW -> host).
    FwVerifyImageResp {
        /// ERROR (0 = none).
        error: i32,
    },
    /// FW_FINISH_UPGRADE_REQ (FW -> host): the upgrade is over.
    FwFinishUpgradeReq {
        /// ERROR (0 = none).
        error: i32,
    },
    /// FW_FINISH_UPGRADE_RESP (host -> FW) **[project choice: the Linux driver defines the
    /// id only; the message carries the ERROR attribute of its request]**.
    FwFinishUpgradeResp {
        /// ERROR (0 = none).
        error: i32,
    },
    /// QSFP_READ_REQ (host -> FW): read the module EEPROM at I2C address 0x50.
    QsfpReadReq {
        /// BANK.
        bank: u32,
        /// PAGE.
        page: u32,
        /// OFFSET.
        offset: u32,
        /// LENGTH (required), at most [`DATA_CHUNK_MAX`].
        length: u32,
    },
    /// QSFP_READ_RESP (FW -> host). Without an error, DATA is required and LENGTH equals its
    /// size; BANK, PAGE, OFFSET and LENGTH are always sent.
    QsfpReadResp {
        /// BANK.
        bank: u32,
        /// PAGE.
        page: u32,
        /// OFFSET.
        offset: u32,
        /// LENGTH.
        length: u32,
        /// DATA, at most [`DATA_CHUNK_MAX`] bytes (empty = absent).
        data: Vec<u8>,
        /// ERROR (0 = none).
        error: i32,
    },
    /// TSENE_READ_REQ (host -> FW): no attributes.
    TseneReadReq,
    /// TSENE_READ_RESP (FW -> host). Without an error, THERM and VOLT are required; both are
    /// always sent.
    TseneReadResp {
        /// THERM: temperature in milli-degrees Celsius.
        therm: i32,
        /// VOLT: voltage in millivolts.
        volt: i32,
        /// ERROR (0 = none).
        error: i32,
    },
    /// LOG_SEND_LOGS_REQ (host -> FW).
    LogSendLogsReq {
        /// SEND_LOGS flag: forward logs (false: stop).
        enable: bool,
        /// VERSION of the log format wanted (Linux sends 1 when enabling).
        version: Option<u32>,
        /// HISTORY flag: also send the stored history.
        history: bool,
    },
    /// LOG_MSG_REQ (FW -> host): one log line, and up to 13 more in the arrays.
    LogMsg {
        /// MSEC of the first line (required).
        msec: u32,
        /// INDEX of the first line (required).
        index: u64,
        /// MSG of the first line (required), at most [`LOG_MSG_MAX`] - 1 bytes.
        msg: String,
        /// Further lines (LENGTH, MSEC_ARRAY, INDEX_ARRAY, MSG_ARRAY), at most
        /// [`LOG_HISTORY_MAX`] - 1.
        more: Vec<LogEntry>,
    },
    /// LOG_MSG_RESP (host -> FW) **[project choice: an acknowledgement without attributes;
    /// the Linux driver does not send it yet]**.
    LogMsgResp,
    /// RPC_MAC_SYNC_REQ (host -> FW): the host's Rx filters, so the firmware can keep them.
    RpcMacSyncReq {
        /// RX_FLAGS (required): [`RX_FLAG_PROMISC`], [`RX_FLAG_ALLMULTI`],
        /// [`RX_FLAG_BROADCAST`].
        rx_flags: u32,
        /// UC_ARRAY: unicast addresses, at most [`MAC_SYNC_MAX`] (empty: not sent).
        uc: Vec<MacAddr>,
        /// MC_ARRAY: multicast addresses, at most [`MAC_SYNC_MAX`] (empty: not sent).
        mc: Vec<MacAddr>,
    },
}

// ---------------------------------------------------------------------------------------------
// Decoding helpers
// ---------------------------------------------------------------------------------------------

fn opt<'a, T>(
    set: &AttrSet<'a>,
    id: u16,
    f: impl FnOnce(&RawAttr<'a>) -> Result<T, TlvError>,
) -> Result<Option<T>, TlvError> {
    set.get(id).map(|a| f(&a)).transpose()
}

fn flag(set: &AttrSet<'_>, id: u16) -> Result<bool, TlvError> {
    Ok(opt(set, id, RawAttr::as_flag)?.unwrap_or(false))
}

fn u32_or_0(set: &AttrSet<'_>, id: u16) -> Result<u32, TlvError> {
    Ok(opt(set, id, RawAttr::as_u32)?.unwrap_or(0))
}

fn i32_or_0(set: &AttrSet<'_>, id: u16) -> Result<i32, TlvError> {
    Ok(opt(set, id, RawAttr::as_i32)?.unwrap_or(0))
}

fn data(set: &AttrSet<'_>, id: u16) -> Result<Vec<u8>, TlvError> {
    Ok(opt(set, id, |a| a.as_bytes_max(DATA_CHUNK_MAX))?
        .unwrap_or_default()
        .to_vec())
}

fn string(set: &AttrSet<'_>, id: u16, max: usize) -> Result<Option<String>, TlvError> {
    Ok(opt(set, id, |a| a.as_str_max(max))?.map(str::to_owned))
}

/// A u32 enumeration: absent, or a value `parse` knows ([`TlvError::BadValue`] otherwise).
fn wire_enum<T>(
    set: &AttrSet<'_>,
    id: u16,
    parse: fn(u32) -> Option<T>,
) -> Result<Option<T>, TlvError> {
    opt(set, id, |a| {
        let v = a.as_u32()?;
        parse(v).ok_or(TlvError::BadValue {
            id,
            value: v.into(),
        })
    })
}

/// An array of MAC entries with id `entry`, at most `max` of them.
fn mac_list(a: &RawAttr<'_>, entry: u16, max: usize) -> Result<Vec<MacAddr>, TlvError> {
    let arr = a.array(entry)?;
    if arr.len() > max {
        return Err(TlvError::TooMany {
            id: a.id(),
            max,
            got: arr.len(),
        });
    }
    arr.iter().map(|e| e.as_mac()).collect()
}

fn opt_macs(set: &AttrSet<'_>, id: u16, entry: u16, max: usize) -> Result<Vec<MacAddr>, TlvError> {
    Ok(opt(set, id, |a| mac_list(a, entry, max))?.unwrap_or_default())
}

/// The entries of a LOG_MSG_REQ array: exactly `count` of them; absent only when `count` is 0.
fn log_array<'a>(
    set: &AttrSet<'a>,
    id: u16,
    entry: u16,
    count: usize,
) -> Result<Vec<RawAttr<'a>>, TlvError> {
    match set.get(id) {
        None if count == 0 => Ok(Vec::new()),
        None => Err(TlvError::Missing(id)),
        Some(a) => {
            let arr = a.array(entry)?;
            if arr.len() != count {
                return Err(TlvError::Inconsistent {
                    id,
                    why: "the array's entry count differs from LENGTH",
                });
            }
            Ok(arr.iter().collect())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validation shared by encode and decode
// ---------------------------------------------------------------------------------------------

fn check_str(id: u16, s: &str, max: usize) -> Result<(), TlvError> {
    if s.as_bytes().contains(&0) {
        return Err(TlvError::BadString {
            id,
            why: "has a NUL before its end",
        });
    }
    if s.len() + 1 > max {
        return Err(TlvError::ValueTooLong {
            id,
            max,
            got: s.len() + 1,
        });
    }
    Ok(())
}

fn check_count(id: u16, got: usize, max: usize) -> Result<(), TlvError> {
    if got > max {
        return Err(TlvError::TooMany { id, max, got });
    }
    Ok(())
}

/// A requested LENGTH must fit one data chunk.
fn check_request_len(id: u16, length: u32) -> Result<(), TlvError> {
    if length as usize > DATA_CHUNK_MAX {
        return Err(TlvError::BadValue {
            id,
            value: length.into(),
        });
    }
    Ok(())
}

/// A response's DATA: at most a chunk; required without an error; LENGTH equals its size.
fn check_data(
    len_id: u16,
    data_id: u16,
    length: u32,
    data: &[u8],
    error: i32,
) -> Result<(), TlvError> {
    if data.len() > DATA_CHUNK_MAX {
        return Err(TlvError::ValueTooLong {
            id: data_id,
            max: DATA_CHUNK_MAX,
            got: data.len(),
        });
    }
    if error == 0 && data.is_empty() {
        return Err(TlvError::Missing(data_id));
    }
    if !data.is_empty() && length as usize != data.len() {
        return Err(TlvError::Inconsistent {
            id: len_id,
            why: "LENGTH differs from the size of DATA",
        });
    }
    Ok(())
}

impl FwCapResp {
    fn validate(&self) -> Result<(), TlvError> {
        use attr::fw_cap::*;
        check_count(BMC_MAC_ARRAY, self.bmc_macs.len(), BMC_MACS_MAX)?;
        if let Some(c) = &self.commit {
            check_str(VERSION_COMMIT_STR, c, COMMIT_STR_MAX)?;
        }
        Ok(())
    }

    fn decode(set: &AttrSet<'_>) -> Result<Self, TlvError> {
        use attr::fw_cap::*;
        set.check_known(&[
            VERSION,
            BMC_PRESENT,
            BMC_MAC_ADDR,
            BMC_MAC_ARRAY,
            STORED_VERSION,
            ACTIVE_FW_SLOT,
            VERSION_COMMIT_STR,
            BMC_ALL_MULTI,
            LINK_SPEED,
            LINK_FEC,
            UEFI_VERSION,
        ])?;
        let version = FwVersion::from_raw(set.require(VERSION)?.as_u32()?);
        let bmc_present = flag(set, BMC_PRESENT)?;
        // A lone BMC_MAC_ADDR at the top level is well formed but carries nothing the
        // schema keeps (the addresses travel in BMC_MAC_ARRAY): check it, then skip it.
        opt(set, BMC_MAC_ADDR, RawAttr::as_mac)?;
        let bmc_macs = match set.get(BMC_MAC_ARRAY) {
            Some(a) => mac_list(&a, BMC_MAC_ADDR, BMC_MACS_MAX)?,
            None if bmc_present => return Err(TlvError::Missing(BMC_MAC_ARRAY)),
            None => Vec::new(),
        };
        Ok(Self {
            version,
            bmc_present,
            bmc_macs,
            bmc_all_multi: u32_or_0(set, BMC_ALL_MULTI)? != 0,
            stored_version: opt(set, STORED_VERSION, RawAttr::as_u32)?.map(FwVersion::from_raw),
            active_slot: opt(set, ACTIVE_FW_SLOT, RawAttr::as_u32)?,
            commit: string(set, VERSION_COMMIT_STR, COMMIT_STR_MAX)?,
            link_speed: wire_enum(set, LINK_SPEED, LinkSpeed::from_wire)?,
            link_fec: wire_enum(set, LINK_FEC, Fec::from_wire)?,
            uefi_version: opt(set, UEFI_VERSION, RawAttr::as_u32)?.map(FwVersion::from_raw),
        })
    }

    fn encode(&self) -> MsgBuilder {
        use attr::fw_cap::*;
        let mut b = MsgBuilder::new(id::FW_CAP_RESP).u32(VERSION, self.version.raw());
        if self.bmc_present {
            b = b.flag(BMC_PRESENT);
        }
        if self.bmc_present || !self.bmc_macs.is_empty() {
            b = b.mac_array(BMC_MAC_ARRAY, BMC_MAC_ADDR, &self.bmc_macs);
        }
        if let Some(v) = self.stored_version {
            b = b.u32(STORED_VERSION, v.raw());
        }
        if let Some(s) = self.active_slot {
            b = b.u32(ACTIVE_FW_SLOT, s);
        }
        if let Some(c) = &self.commit {
            b = b.string(VERSION_COMMIT_STR, c);
        }
        if self.bmc_present || self.bmc_all_multi {
            b = b.u32(BMC_ALL_MULTI, self.bmc_all_multi.into());
        }
        if let Some(s) = self.link_speed {
            b = b.u32(LINK_SPEED, s.to_wire());
        }
        if let Some(f) = self.link_fec {
            b = b.u32(LINK_FEC, f.to_wire());
        }
        if let Some(v) = self.uefi_version {
            b = b.u32(UEFI_VERSION, v.raw());
        }
        b
    }
}

impl TestAttrs {
    fn validate(&self) -> Result<(), TlvError> {
        use attr::test::*;
        if let Some(s) = &self.string {
            check_str(STRING, s, TEST_STRING_MAX)?;
        }
        check_count(ARRAY, self.mac_array.len(), TEST_MACS_MAX)
    }

    /// Decodes one level. At the nested level NESTED is not part of the schema (Linux nests
    /// once), so there it is skipped like any unknown attribute.
    fn decode(set: &AttrSet<'_>, top: bool) -> Result<Self, TlvError> {
        use attr::test::*;
        let known: &[u16] = &[
            U64, S64, U32, S32, U16, S16, MAC_ADDR, FLAG_TRUE, FLAG_FALSE, STRING, ARRAY, NESTED,
        ];
        set.check_known(if top {
            known
        } else {
            &known[..known.len() - 1]
        })?;
        let narrow = |id, v: i64| TlvError::BadValue {
            id,
            value: v as u64,
        };
        Ok(Self {
            u64: opt(set, U64, RawAttr::as_u64)?,
            s64: opt(set, S64, RawAttr::as_i64)?,
            u32: opt(set, U32, RawAttr::as_u32)?,
            s32: opt(set, S32, RawAttr::as_i32)?,
            u16: opt(set, U16, |a| {
                let v = a.as_u32()?;
                u16::try_from(v).map_err(|_| narrow(U16, v.into()))
            })?,
            s16: opt(set, S16, |a| {
                let v = a.as_i32()?;
                i16::try_from(v).map_err(|_| narrow(S16, v.into()))
            })?,
            mac: opt(set, MAC_ADDR, RawAttr::as_mac)?,
            flag_true: flag(set, FLAG_TRUE)?,
            flag_false: flag(set, FLAG_FALSE)?,
            string: string(set, STRING, TEST_STRING_MAX)?,
            mac_array: opt_macs(set, ARRAY, MAC_ADDR, TEST_MACS_MAX)?,
        })
    }

    fn encode(&self) -> NestedBuilder {
        use attr::test::*;
        let mut b = NestedBuilder::new();
        if let Some(v) = self.u64 {
            b = b.u64(U64, v);
        }
        if let Some(v) = self.s64 {
            b = b.i64(S64, v);
        }
        if let Some(v) = self.u32 {
            b = b.u32(U32, v);
        }
        if let Some(v) = self.s32 {
            b = b.i32(S32, v);
        }
        if let Some(v) = self.u16 {
            b = b.u32(U16, v.into());
        }
        if let Some(v) = self.s16 {
            b = b.i32(S16, v.into());
        }
        if let Some(m) = &self.mac {
            b = b.mac(MAC_ADDR, m);
        }
        if self.flag_true {
            b = b.flag(FLAG_TRUE);
        }
        if self.flag_false {
            b = b.flag(FLAG_FALSE);
        }
        if let Some(s) = &self.string {
            b = b.string(STRING, s);
        }
        if !self.mac_array.is_empty() {
            b = b.mac_array(ARRAY, MAC_ADDR, &self.mac_array);
        }
        b
    }
}

impl Msg {
    /// The message id of this variant.
    pub fn id(&self) -> u16 {
        match self {
            Self::Test { .. } => id::TEST,
            Self::HostCapReq => id::HOST_CAP_REQ,
            Self::FwCapResp(_) => id::FW_CAP_RESP,
            Self::OwnershipReq { .. } => id::OWNERSHIP_REQ,
            Self::OwnershipResp { .. } => id::OWNERSHIP_RESP,
            Self::HeartbeatReq => id::HEARTBEAT_REQ,
            Self::HeartbeatResp { .. } => id::HEARTBEAT_RESP,
            Self::CoredumpGetInfoReq { .. } => id::COREDUMP_GET_INFO_REQ,
            Self::CoredumpGetInfoResp { .. } => id::COREDUMP_GET_INFO_RESP,
            Self::CoredumpReadReq { .. } => id::COREDUMP_READ_REQ,
            Self::CoredumpReadResp { .. } => id::COREDUMP_READ_RESP,
            Self::FwStartUpgradeReq { .. } => id::FW_START_UPGRADE_REQ,
            Self::FwStartUpgradeResp { .. } => id::FW_START_UPGRADE_RESP,
            Self::FwWriteChunkReq { .. } => id::FW_WRITE_CHUNK_REQ,
            Self::FwWriteChunkResp { .. } => id::FW_WRITE_CHUNK_RESP,
            Self::FwVerifyImageReq => id::FW_VERIFY_IMAGE_REQ,
            Self::FwVerifyImageResp { .. } => id::FW_VERIFY_IMAGE_RESP,
            Self::FwFinishUpgradeReq { .. } => id::FW_FINISH_UPGRADE_REQ,
            Self::FwFinishUpgradeResp { .. } => id::FW_FINISH_UPGRADE_RESP,
            Self::QsfpReadReq { .. } => id::QSFP_READ_REQ,
            Self::QsfpReadResp { .. } => id::QSFP_READ_RESP,
            Self::TseneReadReq => id::TSENE_READ_REQ,
            Self::TseneReadResp { .. } => id::TSENE_READ_RESP,
            Self::LogSendLogsReq { .. } => id::LOG_SEND_LOGS_REQ,
            Self::LogMsg { .. } => id::LOG_MSG_REQ,
            Self::LogMsgResp => id::LOG_MSG_RESP,
            Self::RpcMacSyncReq { .. } => id::RPC_MAC_SYNC_REQ,
        }
    }

    /// The spec's name of message `id` (e.g. `"FW_CAP_RESP"`), for logs.
    pub fn name_of(msg_id: u16) -> Option<&'static str> {
        Some(match msg_id {
            id::TEST => "TEST",
            id::HOST_CAP_REQ => "HOST_CAP_REQ",
            id::FW_CAP_RESP => "FW_CAP_RESP",
            id::OWNERSHIP_REQ => "OWNERSHIP_REQ",
            id::OWNERSHIP_RESP => "OWNERSHIP_RESP",
            id::HEARTBEAT_REQ => "HEARTBEAT_REQ",
            id::HEARTBEAT_RESP => "HEARTBEAT_RESP",
            id::COREDUMP_GET_INFO_REQ => "COREDUMP_GET_INFO_REQ",
            id::COREDUMP_GET_INFO_RESP => "COREDUMP_GET_INFO_RESP",
            id::COREDUMP_READ_REQ => "COREDUMP_READ_REQ",
            id::COREDUMP_READ_RESP => "COREDUMP_READ_RESP",
            id::FW_START_UPGRADE_REQ => "FW_START_UPGRADE_REQ",
            id::FW_START_UPGRADE_RESP => "FW_START_UPGRADE_RESP",
            id::FW_WRITE_CHUNK_REQ => "FW_WRITE_CHUNK_REQ",
            id::FW_WRITE_CHUNK_RESP => "FW_WRITE_CHUNK_RESP",
            id::FW_VERIFY_IMAGE_REQ => "FW_VERIFY_IMAGE_REQ",
            id::FW_VERIFY_IMAGE_RESP => "FW_VERIFY_IMAGE_RESP",
            id::FW_FINISH_UPGRADE_REQ => "FW_FINISH_UPGRADE_REQ",
            id::FW_FINISH_UPGRADE_RESP => "FW_FINISH_UPGRADE_RESP",
            id::QSFP_READ_REQ => "QSFP_READ_REQ",
            id::QSFP_READ_RESP => "QSFP_READ_RESP",
            id::TSENE_READ_REQ => "TSENE_READ_REQ",
            id::TSENE_READ_RESP => "TSENE_READ_RESP",
            id::LOG_SEND_LOGS_REQ => "LOG_SEND_LOGS_REQ",
            id::LOG_MSG_REQ => "LOG_MSG_REQ",
            id::LOG_MSG_RESP => "LOG_MSG_RESP",
            id::RPC_MAC_SYNC_REQ => "RPC_MAC_SYNC_REQ",
            _ => return None,
        })
    }

    /// The spec's name of this message (e.g. `"FW_CAP_RESP"`).
    pub fn name(&self) -> &'static str {
        Self::name_of(self.id()).unwrap_or("?")
    }

    /// Checks the limits and the relations between fields that the wire format imposes
    /// (what [`encode`](Self::encode) needs and [`decode`](Self::decode) guarantees).
    pub fn validate(&self) -> Result<(), TlvError> {
        match self {
            Self::Test { attrs, nested } => {
                attrs.validate()?;
                nested.as_ref().map_or(Ok(()), TestAttrs::validate)
            }
            Self::FwCapResp(c) => c.validate(),
            Self::CoredumpReadReq { length, .. } => {
                check_request_len(attr::coredump_read::LENGTH, *length)
            }
            Self::CoredumpReadResp {
                length,
                data,
                error,
                ..
            } => {
                use attr::coredump_read::*;
                check_data(LENGTH, DATA, *length, data, *error)
            }
            Self::FwWriteChunkReq { length, .. } => {
                check_request_len(attr::write_chunk::LENGTH, *length)
            }
            Self::FwWriteChunkResp {
                length,
                data,
                error,
                ..
            } => {
                use attr::write_chunk::*;
                check_data(LENGTH, DATA, *length, data, *error)
            }
            Self::QsfpReadReq { length, .. } => check_request_len(attr::qsfp::LENGTH, *length),
            Self::QsfpReadResp {
                length,
                data,
                error,
                ..
            } => {
                use attr::qsfp::*;
                check_data(LENGTH, DATA, *length, data, *error)
            }
            Self::LogMsg { msg, more, .. } => {
                use attr::log::*;
                check_str(MSG, msg, LOG_MSG_MAX)?;
                check_count(MSG_ARRAY, more.len(), LOG_HISTORY_MAX - 1)?;
                more.iter()
                    .try_for_each(|e| check_str(MSG, &e.msg, LOG_MSG_MAX))
            }
            Self::RpcMacSyncReq { uc, mc, .. } => {
                use attr::mac_sync::*;
                check_count(UC_ARRAY, uc.len(), MAC_SYNC_MAX)?;
                check_count(MC_ARRAY, mc.len(), MAC_SYNC_MAX)
            }
            Self::HostCapReq
            | Self::OwnershipReq { .. }
            | Self::OwnershipResp { .. }
            | Self::HeartbeatReq
            | Self::HeartbeatResp { .. }
            | Self::CoredumpGetInfoReq { .. }
            | Self::CoredumpGetInfoResp { .. }
            | Self::FwStartUpgradeReq { .. }
            | Self::FwStartUpgradeResp { .. }
            | Self::FwVerifyImageReq
            | Self::FwVerifyImageResp { .. }
            | Self::FwFinishUpgradeReq { .. }
            | Self::FwFinishUpgradeResp { .. }
            | Self::TseneReadReq
            | Self::TseneReadResp { .. }
            | Self::LogSendLogsReq { .. }
            | Self::LogMsgResp => Ok(()),
        }
    }

    /// The message as TLV bytes (at most 4 KiB). Fails if a field breaks a limit of the
    /// schema (see [`validate`](Self::validate)).
    pub fn encode(&self) -> Result<Vec<u8>, TlvError> {
        self.validate()?;
        let b = MsgBuilder::new(self.id());
        let b = match self {
            Self::Test { attrs, nested } => {
                let mut b = b.append(attrs.encode());
                if let Some(n) = nested {
                    b = b.nested(attr::test::NESTED, |_| n.encode());
                }
                b
            }
            Self::HostCapReq
            | Self::HeartbeatReq
            | Self::FwVerifyImageReq
            | Self::TseneReadReq
            | Self::LogMsgResp => b,
            Self::FwCapResp(c) => c.encode(),
            Self::OwnershipReq { take } => {
                if *take {
                    b.flag(attr::ownership::FLAG)
                } else {
                    b
                }
            }
            Self::OwnershipResp { time } => b.u64(attr::ownership::TIME, *time),
            Self::HeartbeatResp { uptime, messages } => b
                .u64(attr::heartbeat::UPTIME, *uptime)
                .u64(attr::heartbeat::NUMBER_OF_MESSAGES, *messages),
            Self::CoredumpGetInfoReq { create } => {
                if *create {
                    b.flag(attr::coredump_info::CREATE)
                } else {
                    b
                }
            }
            Self::CoredumpGetInfoResp {
                available,
                size,
                error,
            } => {
                use attr::coredump_info::*;
                let b = if *available { b.flag(AVAILABLE) } else { b };
                put_error(b.u32(SIZE, *size), ERROR, *error)
            }
            Self::CoredumpReadReq { offset, length } => {
                use attr::coredump_read::*;
                put_nonzero(put_nonzero(b, OFFSET, *offset), LENGTH, *length)
            }
            Self::CoredumpReadResp {
                offset,
                length,
                data,
                error,
            } => {
                use attr::coredump_read::*;
                put_error(
                    put_data(b.u32(OFFSET, *offset).u32(LENGTH, *length), DATA, data),
                    ERROR,
                    *error,
                )
            }
            Self::FwStartUpgradeReq {
                section,
                image_length,
            } => {
                use attr::start_upgrade::*;
                b.u32(SECTION, *section).u32(IMAGE_LENGTH, *image_length)
            }
            Self::FwStartUpgradeResp { error } => put_error(b, attr::start_upgrade::ERROR, *error),
            Self::FwWriteChunkReq { offset, length } => {
                use attr::write_chunk::*;
                put_nonzero(b, OFFSET, *offset).u32(LENGTH, *length)
            }
            Self::FwWriteChunkResp {
                offset,
                length,
                data,
                error,
            } => {
                use attr::write_chunk::*;
                put_error(
                    put_data(b.u32(OFFSET, *offset).u32(LENGTH, *length), DATA, data),
                    ERROR,
                    *error,
                )
            }
            Self::FwVerifyImageResp { error } => put_error(b, attr::verify_image::ERROR, *error),
            Self::FwFinishUpgradeReq { error } | Self::FwFinishUpgradeResp { error } => {
                put_error(b, attr::finish_upgrade::ERROR, *error)
            }
            Self::QsfpReadReq {
                bank,
                page,
                offset,
                length,
            } => {
                use attr::qsfp::*;
                let b = put_nonzero(put_nonzero(b, BANK, *bank), PAGE, *page);
                put_nonzero(b, OFFSET, *offset).u32(LENGTH, *length)
            }
            Self::QsfpReadResp {
                bank,
                page,
                offset,
                length,
                data,
                error,
            } => {
                use attr::qsfp::*;
                let b = b
                    .u32(BANK, *bank)
                    .u32(PAGE, *page)
                    .u32(OFFSET, *offset)
                    .u32(LENGTH, *length);
                put_data(put_error(b, ERROR, *error), DATA, data)
            }
            Self::TseneReadResp { therm, volt, error } => {
                use attr::tsene::*;
                put_error(b.i32(THERM, *therm).i32(VOLT, *volt), ERROR, *error)
            }
            Self::LogSendLogsReq {
                enable,
                version,
                history,
            } => {
                use attr::send_logs::*;
                let mut b = if *enable { b.flag(SEND_LOGS) } else { b };
                if let Some(v) = version {
                    b = b.u32(VERSION, *v);
                }
                if *history {
                    b = b.flag(HISTORY);
                }
                b
            }
            Self::LogMsg {
                msec,
                index,
                msg,
                more,
            } => {
                use attr::log::*;
                let mut b = b.u32(MSEC, *msec).u64(INDEX, *index).string(MSG, msg);
                if !more.is_empty() {
                    // At most 13 entries (validated), so the count fits in a u32.
                    b = b
                        .u32(LENGTH, more.len() as u32)
                        .array(MSEC_ARRAY, MSEC, |a| {
                            more.iter().fold(a, |a, e| a.u32(e.msec))
                        })
                        .array(INDEX_ARRAY, INDEX, |a| {
                            more.iter().fold(a, |a, e| a.u64(e.index))
                        })
                        .array(MSG_ARRAY, MSG, |a| {
                            more.iter().fold(a, |a, e| a.string(&e.msg))
                        });
                }
                b
            }
            Self::RpcMacSyncReq { rx_flags, uc, mc } => {
                use attr::mac_sync::*;
                let mut b = b.u32(RX_FLAGS, *rx_flags);
                if !uc.is_empty() {
                    b = b.mac_array(UC_ARRAY, MAC_ADDR, uc);
                }
                if !mc.is_empty() {
                    b = b.mac_array(MC_ARRAY, MAC_ADDR, mc);
                }
                b
            }
        };
        b.finish()
    }

    /// Decodes and validates one message: the TLV structure ([`RawMsg::parse`]) and then the
    /// message's schema (see the module docs).
    pub fn decode(buf: &[u8]) -> Result<Msg, TlvError> {
        Self::from_raw(&RawMsg::parse(buf)?)
    }

    /// Decodes an already parsed message against its schema.
    pub fn from_raw(raw: &RawMsg<'_>) -> Result<Msg, TlvError> {
        let set = raw.attr_set();
        let s = &set;
        let known = |ids: &[u16]| set.check_known(ids);
        let msg = match raw.id() {
            id::TEST => {
                let attrs = TestAttrs::decode(s, true)?;
                let nested = opt(s, attr::test::NESTED, |a| {
                    TestAttrs::decode(&a.nested()?, false)
                })?;
                Self::Test { attrs, nested }
            }
            id::HOST_CAP_REQ => {
                known(&[])?;
                Self::HostCapReq
            }
            id::FW_CAP_RESP => Self::FwCapResp(FwCapResp::decode(s)?),
            id::OWNERSHIP_REQ => {
                use attr::ownership::*;
                known(&[FLAG])?;
                Self::OwnershipReq {
                    take: flag(s, FLAG)?,
                }
            }
            id::OWNERSHIP_RESP => {
                use attr::ownership::*;
                known(&[TIME])?;
                Self::OwnershipResp {
                    time: s.require(TIME)?.as_u64()?,
                }
            }
            id::HEARTBEAT_REQ => {
                known(&[])?;
                Self::HeartbeatReq
            }
            id::HEARTBEAT_RESP => {
                use attr::heartbeat::*;
                known(&[UPTIME, NUMBER_OF_MESSAGES])?;
                Self::HeartbeatResp {
                    uptime: s.require(UPTIME)?.as_u64()?,
                    messages: opt(s, NUMBER_OF_MESSAGES, RawAttr::as_u64)?.unwrap_or(0),
                }
            }
            id::COREDUMP_GET_INFO_REQ => {
                use attr::coredump_info::*;
                known(&[CREATE])?;
                Self::CoredumpGetInfoReq {
                    create: flag(s, CREATE)?,
                }
            }
            id::COREDUMP_GET_INFO_RESP => {
                use attr::coredump_info::*;
                known(&[AVAILABLE, SIZE, ERROR])?;
                Self::CoredumpGetInfoResp {
                    available: flag(s, AVAILABLE)?,
                    size: u32_or_0(s, SIZE)?,
                    error: i32_or_0(s, ERROR)?,
                }
            }
            id::COREDUMP_READ_REQ => {
                use attr::coredump_read::*;
                known(&[OFFSET, LENGTH])?;
                Self::CoredumpReadReq {
                    offset: u32_or_0(s, OFFSET)?,
                    length: u32_or_0(s, LENGTH)?,
                }
            }
            id::COREDUMP_READ_RESP => {
                use attr::coredump_read::*;
                known(&[OFFSET, LENGTH, DATA, ERROR])?;
                Self::CoredumpReadResp {
                    offset: u32_or_0(s, OFFSET)?,
                    length: u32_or_0(s, LENGTH)?,
                    data: data(s, DATA)?,
                    error: i32_or_0(s, ERROR)?,
                }
            }
            id::FW_START_UPGRADE_REQ => {
                use attr::start_upgrade::*;
                known(&[SECTION, IMAGE_LENGTH])?;
                Self::FwStartUpgradeReq {
                    section: s.require(SECTION)?.as_u32()?,
                    image_length: s.require(IMAGE_LENGTH)?.as_u32()?,
                }
            }
            id::FW_START_UPGRADE_RESP => {
                use attr::start_upgrade::*;
                known(&[ERROR])?;
                Self::FwStartUpgradeResp {
                    error: i32_or_0(s, ERROR)?,
                }
            }
            id::FW_WRITE_CHUNK_REQ => {
                use attr::write_chunk::*;
                known(&[OFFSET, LENGTH])?;
                Self::FwWriteChunkReq {
                    offset: u32_or_0(s, OFFSET)?,
                    length: s.require(LENGTH)?.as_u32()?,
                }
            }
            id::FW_WRITE_CHUNK_RESP => {
                use attr::write_chunk::*;
                known(&[OFFSET, LENGTH, DATA, ERROR])?;
                Self::FwWriteChunkResp {
                    offset: u32_or_0(s, OFFSET)?,
                    length: u32_or_0(s, LENGTH)?,
                    data: data(s, DATA)?,
                    error: i32_or_0(s, ERROR)?,
                }
            }
            id::FW_VERIFY_IMAGE_REQ => {
                known(&[])?;
                Self::FwVerifyImageReq
            }
            id::FW_VERIFY_IMAGE_RESP => {
                use attr::verify_image::*;
                known(&[ERROR])?;
                Self::FwVerifyImageResp {
                    error: i32_or_0(s, ERROR)?,
                }
            }
            id::FW_FINISH_UPGRADE_REQ | id::FW_FINISH_UPGRADE_RESP => {
                use attr::finish_upgrade::*;
                known(&[ERROR])?;
                let error = i32_or_0(s, ERROR)?;
                if raw.id() == id::FW_FINISH_UPGRADE_REQ {
                    Self::FwFinishUpgradeReq { error }
                } else {
                    Self::FwFinishUpgradeResp { error }
                }
            }
            id::QSFP_READ_REQ => {
                use attr::qsfp::*;
                known(&[BANK, PAGE, OFFSET, LENGTH])?;
                Self::QsfpReadReq {
                    bank: u32_or_0(s, BANK)?,
                    page: u32_or_0(s, PAGE)?,
                    offset: u32_or_0(s, OFFSET)?,
                    length: s.require(LENGTH)?.as_u32()?,
                }
            }
            id::QSFP_READ_RESP => {
                use attr::qsfp::*;
                known(&[BANK, PAGE, OFFSET, LENGTH, ERROR, DATA])?;
                Self::QsfpReadResp {
                    bank: u32_or_0(s, BANK)?,
                    page: u32_or_0(s, PAGE)?,
                    offset: u32_or_0(s, OFFSET)?,
                    length: u32_or_0(s, LENGTH)?,
                    data: data(s, DATA)?,
                    error: i32_or_0(s, ERROR)?,
                }
            }
            id::TSENE_READ_REQ => {
                known(&[])?;
                Self::TseneReadReq
            }
            id::TSENE_READ_RESP => {
                use attr::tsene::*;
                known(&[THERM, VOLT, ERROR])?;
                let error = i32_or_0(s, ERROR)?;
                let reading = |id| match s.get(id) {
                    Some(a) => a.as_i32(),
                    None if error != 0 => Ok(0),
                    None => Err(TlvError::Missing(id)),
                };
                Self::TseneReadResp {
                    therm: reading(THERM)?,
                    volt: reading(VOLT)?,
                    error,
                }
            }
            id::LOG_SEND_LOGS_REQ => {
                use attr::send_logs::*;
                known(&[SEND_LOGS, VERSION, HISTORY])?;
                Self::LogSendLogsReq {
                    enable: flag(s, SEND_LOGS)?,
                    version: opt(s, VERSION, RawAttr::as_u32)?,
                    history: flag(s, HISTORY)?,
                }
            }
            id::LOG_MSG_REQ => Self::decode_log(s)?,
            id::LOG_MSG_RESP => {
                known(&[])?;
                Self::LogMsgResp
            }
            id::RPC_MAC_SYNC_REQ => {
                use attr::mac_sync::*;
                known(&[RX_FLAGS, UC_ARRAY, MC_ARRAY])?;
                Self::RpcMacSyncReq {
                    rx_flags: s.require(RX_FLAGS)?.as_u32()?,
                    uc: opt_macs(s, UC_ARRAY, MAC_ADDR, MAC_SYNC_MAX)?,
                    mc: opt_macs(s, MC_ARRAY, MAC_ADDR, MAC_SYNC_MAX)?,
                }
            }
            other => return Err(TlvError::UnknownMessage(other)),
        };
        msg.validate()?;
        Ok(msg)
    }

    fn decode_log(s: &AttrSet<'_>) -> Result<Msg, TlvError> {
        use attr::log::*;
        s.check_known(&[MSEC, INDEX, MSG, LENGTH, MSEC_ARRAY, INDEX_ARRAY, MSG_ARRAY])?;
        let msec = s.require(MSEC)?.as_u32()?;
        let index = s.require(INDEX)?.as_u64()?;
        let msg = s.require(MSG)?.as_str_max(LOG_MSG_MAX)?.to_owned();
        let length = u32_or_0(s, LENGTH)?;
        let count = length as usize;
        if count > LOG_HISTORY_MAX - 1 {
            return Err(TlvError::TooMany {
                id: LENGTH,
                max: LOG_HISTORY_MAX - 1,
                got: count,
            });
        }
        let msecs = log_array(s, MSEC_ARRAY, MSEC, count)?;
        let indexes = log_array(s, INDEX_ARRAY, INDEX, count)?;
        let msgs = log_array(s, MSG_ARRAY, MSG, count)?;
        let more = msecs
            .iter()
            .zip(&indexes)
            .zip(&msgs)
            .map(|((m, i), t)| {
                Ok(LogEntry {
                    msec: m.as_u32()?,
                    index: i.as_u64()?,
                    msg: t.as_str_max(LOG_MSG_MAX)?.to_owned(),
                })
            })
            .collect::<Result<Vec<_>, TlvError>>()?;
        Ok(Self::LogMsg {
            msec,
            index,
            msg,
            more,
        })
    }

    /// One populated example of every message (every optional field set), for tests, fuzz
    /// seeds and self-checks. Each encodes and decodes back to itself.
    pub fn examples() -> Vec<Msg> {
        let mac = |n: u8| MacAddr([0x02, 0x1b, 0x9d, 0, 0, n]);
        let test = TestAttrs {
            u64: Some(0x0123_4567_89ab_cdef),
            s64: Some(-0x0123_4567_89ab),
            u32: Some(0xdead_beef),
            s32: Some(-123_456),
            u16: Some(0xbeef),
            s16: Some(-1234),
            mac: Some(mac(1)),
            flag_true: true,
            flag_false: false,
            string: Some("fbnic tlv test".into()),
            mac_array: vec![mac(2), mac(3), mac(4), mac(5)],
        };
        vec![
            Self::Test {
                attrs: test.clone(),
                nested: Some(test),
            },
            Self::HostCapReq,
            Self::FwCapResp(FwCapResp {
                version: FwVersion::new(0, 10, 6, 0),
                bmc_present: true,
                bmc_macs: vec![mac(0x10), mac(0x11), mac(0x12), mac(0x13)],
                bmc_all_multi: true,
                stored_version: Some(FwVersion::new(0, 10, 7, 1)),
                active_slot: Some(1),
                commit: Some("0123456789abcdef00".into()),
                link_speed: Some(LinkSpeed::G50Cr2),
                link_fec: Some(Fec::Rs),
                uefi_version: Some(FwVersion::new(1, 2, 3, 4)),
            }),
            Self::OwnershipReq { take: true },
            Self::OwnershipResp { time: 123_456_789 },
            Self::HeartbeatReq,
            Self::HeartbeatResp {
                uptime: 987_654_321,
                messages: 42,
            },
            Self::CoredumpGetInfoReq { create: true },
            Self::CoredumpGetInfoResp {
                available: true,
                size: 65536,
                error: 0,
            },
            Self::CoredumpReadReq {
                offset: 3584,
                length: 3584,
            },
            Self::CoredumpReadResp {
                offset: 3584,
                length: 16,
                data: (0..16).collect(),
                error: 0,
            },
            Self::FwStartUpgradeReq {
                section: 1,
                image_length: 1 << 20,
            },
            Self::FwStartUpgradeResp { error: -16 },
            Self::FwWriteChunkReq {
                offset: 7168,
                length: 3584,
            },
            Self::FwWriteChunkResp {
                offset: 7168,
                length: DATA_CHUNK_MAX as u32,
                data: vec![0xa5; DATA_CHUNK_MAX],
                error: 0,
            },
            Self::FwVerifyImageReq,
            Self::FwVerifyImageResp { error: -22 },
            Self::FwFinishUpgradeReq { error: -5 },
            Self::FwFinishUpgradeResp { error: -125 },
            Self::QsfpReadReq {
                bank: 1,
                page: 3,
                offset: 128,
                length: 128,
            },
            Self::QsfpReadResp {
                bank: 1,
                page: 3,
                offset: 128,
                length: 4,
                data: vec![0x11, 0x22, 0x33, 0x44],
                error: 0,
            },
            Self::TseneReadReq,
            Self::TseneReadResp {
                therm: 45_250,
                volt: 850,
                error: 0,
            },
            Self::LogSendLogsReq {
                enable: true,
                version: Some(1),
                history: true,
            },
            Self::LogMsg {
                msec: 1000,
                index: 7,
                msg: "link up".into(),
                more: (0..3)
                    .map(|i| LogEntry {
                        msec: 1001 + i,
                        index: 8 + u64::from(i),
                        msg: format!("line {i}"),
                    })
                    .collect(),
            },
            Self::LogMsgResp,
            Self::RpcMacSyncReq {
                rx_flags: RX_FLAG_ALLMULTI | RX_FLAG_BROADCAST,
                uc: (0..8).map(mac).collect(),
                mc: (0..8)
                    .map(|n| MacAddr([0x01, 0x00, 0x5e, 0, 0, n]))
                    .collect(),
            },
        ]
    }
}

fn put_nonzero(b: MsgBuilder, id: u16, v: u32) -> MsgBuilder {
    if v != 0 {
        b.u32(id, v)
    } else {
        b
    }
}

fn put_error(b: MsgBuilder, id: u16, error: i32) -> MsgBuilder {
    if error != 0 {
        b.i32(id, error)
    } else {
        b
    }
}

fn put_data(b: MsgBuilder, id: u16, data: &[u8]) -> MsgBuilder {
    if data.is_empty() {
        b
    } else {
        b.bytes(id, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlv::TlvHeader;

    fn roundtrip(m: &Msg) {
        let bytes = m.encode().unwrap_or_else(|e| panic!("{}: {e}", m.name()));
        assert!(bytes.len() <= crate::tlv::MSG_MAX_LEN);
        assert_eq!(RawMsg::parse(&bytes).unwrap().id(), m.id());
        assert_eq!(Msg::decode(&bytes).as_ref(), Ok(m), "{}", m.name());
    }

    #[test]
    fn every_message_round_trips() {
        let examples = Msg::examples();
        // One example per message id, in id order.
        let ids: Vec<u16> = examples.iter().map(Msg::id).collect();
        assert_eq!(ids, id::ALL);
        for m in &examples {
            roundtrip(m);
            assert_eq!(Msg::name_of(m.id()), Some(m.name()));
        }
    }

    #[test]
    fn sparse_variants_round_trip() {
        let sparse = [
            Msg::Test {
                attrs: TestAttrs::default(),
                nested: None,
            },
            Msg::FwCapResp(FwCapResp {
                version: FwVersion::new(0, 10, 6, 0),
                ..FwCapResp::default()
            }),
            Msg::FwCapResp(FwCapResp {
                version: FwVersion::new(0, 11, 0, 0),
                bmc_present: true,
                commit: Some(String::new()),
                ..FwCapResp::default()
            }),
            Msg::OwnershipReq { take: false },
            Msg::HeartbeatResp {
                uptime: 0,
                messages: 0,
            },
            Msg::CoredumpGetInfoReq { create: false },
            Msg::CoredumpGetInfoResp {
                available: false,
                size: 0,
                error: -2,
            },
            Msg::CoredumpReadReq {
                offset: 0,
                length: 0,
            },
            Msg::CoredumpReadResp {
                offset: 0,
                length: 0,
                data: vec![],
                error: -61,
            },
            Msg::FwStartUpgradeResp { error: 0 },
            Msg::FwWriteChunkReq {
                offset: 0,
                length: 1,
            },
            Msg::FwWriteChunkResp {
                offset: 0,
                length: 9,
                data: vec![],
                error: -125,
            },
            Msg::QsfpReadReq {
                bank: 0,
                page: 0,
                offset: 0,
                length: 1,
            },
            Msg::TseneReadResp {
                therm: 0,
                volt: 0,
                error: -5,
            },
            Msg::TseneReadResp {
                therm: -40_000,
                volt: 0,
                error: 0,
            },
            Msg::LogSendLogsReq {
                enable: false,
                version: None,
                history: false,
            },
            Msg::LogMsg {
                msec: 0,
                index: 0,
                msg: String::new(),
                more: vec![],
            },
            Msg::RpcMacSyncReq {
                rx_flags: RX_FLAG_PROMISC,
                uc: vec![],
                mc: vec![],
            },
        ];
        for m in &sparse {
            roundtrip(m);
        }
    }

    #[test]
    fn largest_messages_fit() {
        let long = "x".repeat(LOG_MSG_MAX - 1);
        let m = Msg::LogMsg {
            msec: u32::MAX,
            index: u64::MAX,
            msg: long.clone(),
            more: (0..LOG_HISTORY_MAX as u32 - 1)
                .map(|i| LogEntry {
                    msec: i,
                    index: i.into(),
                    msg: long.clone(),
                })
                .collect(),
        };
        roundtrip(&m);
        let m = Msg::QsfpReadResp {
            bank: u32::MAX,
            page: u32::MAX,
            offset: u32::MAX,
            length: DATA_CHUNK_MAX as u32,
            data: vec![0xff; DATA_CHUNK_MAX],
            error: -1,
        };
        roundtrip(&m);
    }

    #[test]
    fn encoder_enforces_limits() {
        let mac = MacAddr([2, 0, 0, 0, 0, 1]);
        let cases: Vec<(Msg, TlvError)> = vec![
            (
                Msg::FwCapResp(FwCapResp {
                    bmc_present: true,
                    bmc_macs: vec![mac; 5],
                    ..FwCapResp::default()
                }),
                TlvError::TooMany {
                    id: attr::fw_cap::BMC_MAC_ARRAY,
                    max: 4,
                    got: 5,
                },
            ),
            (
                Msg::FwCapResp(FwCapResp {
                    commit: Some("x".repeat(COMMIT_STR_MAX)),
                    ..FwCapResp::default()
                }),
                TlvError::ValueTooLong {
                    id: attr::fw_cap::VERSION_COMMIT_STR,
                    max: COMMIT_STR_MAX,
                    got: COMMIT_STR_MAX + 1,
                },
            ),
            (
                Msg::RpcMacSyncReq {
                    rx_flags: 0,
                    uc: vec![],
                    mc: vec![mac; 9],
                },
                TlvError::TooMany {
                    id: attr::mac_sync::MC_ARRAY,
                    max: 8,
                    got: 9,
                },
            ),
            (
                Msg::LogMsg {
                    msec: 0,
                    index: 0,
                    msg: "y".repeat(LOG_MSG_MAX),
                    more: vec![],
                },
                TlvError::ValueTooLong {
                    id: attr::log::MSG,
                    max: LOG_MSG_MAX,
                    got: LOG_MSG_MAX + 1,
                },
            ),
            (
                Msg::LogMsg {
                    msec: 0,
                    index: 0,
                    msg: "a\0b".into(),
                    more: vec![],
                },
                TlvError::BadString {
                    id: attr::log::MSG,
                    why: "has a NUL before its end",
                },
            ),
            (
                Msg::LogMsg {
                    msec: 0,
                    index: 0,
                    msg: String::new(),
                    more: vec![LogEntry::default(); LOG_HISTORY_MAX],
                },
                TlvError::TooMany {
                    id: attr::log::MSG_ARRAY,
                    max: LOG_HISTORY_MAX - 1,
                    got: LOG_HISTORY_MAX,
                },
            ),
            (
                Msg::FwWriteChunkResp {
                    offset: 0,
                    length: DATA_CHUNK_MAX as u32 + 1,
                    data: vec![0; DATA_CHUNK_MAX + 1],
                    error: 0,
                },
                TlvError::ValueTooLong {
                    id: attr::write_chunk::DATA,
                    max: DATA_CHUNK_MAX,
                    got: DATA_CHUNK_MAX + 1,
                },
            ),
            (
                Msg::QsfpReadResp {
                    bank: 0,
                    page: 0,
                    offset: 0,
                    length: 3,
                    data: vec![1, 2],
                    error: 0,
                },
                TlvError::Inconsistent {
                    id: attr::qsfp::LENGTH,
                    why: "LENGTH differs from the size of DATA",
                },
            ),
            (
                Msg::CoredumpReadResp {
                    offset: 0,
                    length: 0,
                    data: vec![],
                    error: 0,
                },
                TlvError::Missing(attr::coredump_read::DATA),
            ),
            (
                Msg::QsfpReadReq {
                    bank: 0,
                    page: 0,
                    offset: 0,
                    length: 4096,
                },
                TlvError::BadValue {
                    id: attr::qsfp::LENGTH,
                    value: 4096,
                },
            ),
            (
                Msg::Test {
                    attrs: TestAttrs {
                        string: Some("z".repeat(TEST_STRING_MAX)),
                        ..TestAttrs::default()
                    },
                    nested: None,
                },
                TlvError::ValueTooLong {
                    id: attr::test::STRING,
                    max: TEST_STRING_MAX,
                    got: TEST_STRING_MAX + 1,
                },
            ),
        ];
        for (m, want) in cases {
            assert_eq!(m.encode(), Err(want), "{}", m.name());
        }
    }

    /// FW_CAP_RESP with a hand-made attribute list.
    fn cap(f: impl FnOnce(MsgBuilder) -> MsgBuilder) -> Vec<u8> {
        f(MsgBuilder::new(id::FW_CAP_RESP).u32(attr::fw_cap::VERSION, 0x000a_0600))
            .finish()
            .unwrap()
    }

    #[test]
    fn malformed_messages_are_rejected_specifically() {
        use attr::fw_cap::*;
        let mac = MacAddr([2, 0, 0, 0, 0, 1]);
        let cases: Vec<(&str, Vec<u8>, TlvError)> = vec![
            (
                "unknown message id",
                MsgBuilder::new(0x7ff).finish().unwrap(),
                TlvError::UnknownMessage(0x7ff),
            ),
            (
                "missing required VERSION",
                MsgBuilder::new(id::FW_CAP_RESP).finish().unwrap(),
                TlvError::Missing(VERSION),
            ),
            (
                "u32 stored in 8 bytes",
                MsgBuilder::new(id::FW_CAP_RESP)
                    .u64(VERSION, 0x000a_0600)
                    .finish()
                    .unwrap(),
                TlvError::WrongSize {
                    id: VERSION,
                    expected: 4,
                    got: 8,
                },
            ),
            (
                "u64 stored in 4 bytes",
                MsgBuilder::new(id::OWNERSHIP_RESP)
                    .u32(attr::ownership::TIME, 5)
                    .finish()
                    .unwrap(),
                TlvError::WrongSize {
                    id: attr::ownership::TIME,
                    expected: 8,
                    got: 4,
                },
            ),
            (
                "flag with a value",
                cap(|b| b.u32(BMC_PRESENT, 1)),
                TlvError::WrongSize {
                    id: BMC_PRESENT,
                    expected: 0,
                    got: 4,
                },
            ),
            (
                "MAC of 5 bytes",
                cap(|b| {
                    b.flag(BMC_PRESENT)
                        .array(BMC_MAC_ARRAY, BMC_MAC_ADDR, |a| a.bytes(&[2, 0, 0, 0, 1]))
                }),
                TlvError::WrongSize {
                    id: BMC_MAC_ADDR,
                    expected: 6,
                    got: 5,
                },
            ),
            (
                "string without NUL",
                cap(|b| b.bytes(VERSION_COMMIT_STR, b"abc")),
                TlvError::BadString {
                    id: VERSION_COMMIT_STR,
                    why: "is not NUL terminated",
                },
            ),
            (
                "commit string too long",
                cap(|b| b.string(VERSION_COMMIT_STR, &"c".repeat(COMMIT_STR_MAX))),
                TlvError::ValueTooLong {
                    id: VERSION_COMMIT_STR,
                    max: COMMIT_STR_MAX,
                    got: COMMIT_STR_MAX + 1,
                },
            ),
            (
                "too many BMC MACs",
                cap(|b| {
                    b.flag(BMC_PRESENT)
                        .mac_array(BMC_MAC_ARRAY, BMC_MAC_ADDR, &[mac; 5])
                }),
                TlvError::TooMany {
                    id: BMC_MAC_ARRAY,
                    max: 4,
                    got: 5,
                },
            ),
            (
                "BMC present without its array",
                cap(|b| b.flag(BMC_PRESENT)),
                TlvError::Missing(BMC_MAC_ARRAY),
            ),
            (
                "BMC array of the wrong entry id",
                cap(|b| b.mac_array(BMC_MAC_ARRAY, 7, &[mac])),
                TlvError::WrongArrayEntry {
                    array: BMC_MAC_ARRAY,
                    expected: BMC_MAC_ADDR,
                    got: 7,
                },
            ),
            (
                "unknown LINK_SPEED",
                cap(|b| b.u32(LINK_SPEED, 5)),
                TlvError::BadValue {
                    id: LINK_SPEED,
                    value: 5,
                },
            ),
            (
                "LINK_SPEED 0",
                cap(|b| b.u32(LINK_SPEED, 0)),
                TlvError::BadValue {
                    id: LINK_SPEED,
                    value: 0,
                },
            ),
            (
                "unknown LINK_FEC",
                cap(|b| b.u32(LINK_FEC, 4)),
                TlvError::BadValue {
                    id: LINK_FEC,
                    value: 4,
                },
            ),
            (
                "unknown attribute with CANNOT_IGNORE",
                cap(|b| b.u32(0x1f, 1).cannot_ignore()),
                TlvError::UnknownRequired(0x1f),
            ),
            (
                "duplicate attribute",
                {
                    let mut v = cap(|b| b);
                    let dup = v[4..12].to_vec();
                    v.extend_from_slice(&dup);
                    v[2] = (v.len() / 4) as u8;
                    v
                },
                TlvError::Duplicate(VERSION),
            ),
            (
                "too many sync MACs",
                MsgBuilder::new(id::RPC_MAC_SYNC_REQ)
                    .u32(attr::mac_sync::RX_FLAGS, 0)
                    .mac_array(
                        attr::mac_sync::UC_ARRAY,
                        attr::mac_sync::MAC_ADDR,
                        &[mac; 9],
                    )
                    .finish()
                    .unwrap(),
                TlvError::TooMany {
                    id: attr::mac_sync::UC_ARRAY,
                    max: 8,
                    got: 9,
                },
            ),
            (
                "log string too long",
                MsgBuilder::new(id::LOG_MSG_REQ)
                    .u32(attr::log::MSEC, 0)
                    .u64(attr::log::INDEX, 0)
                    .string(attr::log::MSG, &"l".repeat(LOG_MSG_MAX))
                    .finish()
                    .unwrap(),
                TlvError::ValueTooLong {
                    id: attr::log::MSG,
                    max: LOG_MSG_MAX,
                    got: LOG_MSG_MAX + 1,
                },
            ),
            (
                "log arrays shorter than LENGTH",
                MsgBuilder::new(id::LOG_MSG_REQ)
                    .u32(attr::log::MSEC, 0)
                    .u64(attr::log::INDEX, 0)
                    .string(attr::log::MSG, "a")
                    .u32(attr::log::LENGTH, 2)
                    .array(attr::log::MSEC_ARRAY, attr::log::MSEC, |a| a.u32(1).u32(2))
                    .array(attr::log::INDEX_ARRAY, attr::log::INDEX, |a| a.u64(1))
                    .array(attr::log::MSG_ARRAY, attr::log::MSG, |a| {
                        a.string("b").string("c")
                    })
                    .finish()
                    .unwrap(),
                TlvError::Inconsistent {
                    id: attr::log::INDEX_ARRAY,
                    why: "the array's entry count differs from LENGTH",
                },
            ),
            (
                "log LENGTH without arrays",
                MsgBuilder::new(id::LOG_MSG_REQ)
                    .u32(attr::log::MSEC, 0)
                    .u64(attr::log::INDEX, 0)
                    .string(attr::log::MSG, "a")
                    .u32(attr::log::LENGTH, 1)
                    .finish()
                    .unwrap(),
                TlvError::Missing(attr::log::MSEC_ARRAY),
            ),
            (
                "data chunk over 3584 bytes",
                MsgBuilder::new(id::COREDUMP_READ_RESP)
                    .u32(attr::coredump_read::LENGTH, 3585)
                    .bytes(attr::coredump_read::DATA, &[0; 3585])
                    .finish()
                    .unwrap(),
                TlvError::ValueTooLong {
                    id: attr::coredump_read::DATA,
                    max: DATA_CHUNK_MAX,
                    got: DATA_CHUNK_MAX + 1,
                },
            ),
            (
                "sensor reading missing",
                MsgBuilder::new(id::TSENE_READ_RESP)
                    .i32(attr::tsene::THERM, 1)
                    .finish()
                    .unwrap(),
                TlvError::Missing(attr::tsene::VOLT),
            ),
            (
                "TEST u16 out of range",
                MsgBuilder::new(id::TEST)
                    .u32(attr::test::U16, 0x1_0000)
                    .finish()
                    .unwrap(),
                TlvError::BadValue {
                    id: attr::test::U16,
                    value: 0x1_0000,
                },
            ),
            (
                "nested garbage in TEST",
                MsgBuilder::new(id::TEST)
                    .bytes(attr::test::NESTED, &[1, 2, 3])
                    .finish()
                    .unwrap(),
                TlvError::Misaligned {
                    id: attr::test::NESTED,
                    len: 3,
                },
            ),
            (
                "IS_MSG clear",
                {
                    let mut v = cap(|b| b);
                    v[1] &= 0x7f;
                    v
                },
                TlvError::NotAMessage,
            ),
            (
                "message over 4 KiB",
                {
                    let mut v = vec![0u8; 4100];
                    v[..4].copy_from_slice(&TlvHeader::message(id::TEST, 1025).to_le_bytes());
                    v
                },
                TlvError::TooLong(4100),
            ),
        ];
        for (what, buf, want) in cases {
            assert_eq!(Msg::decode(&buf), Err(want), "{what}");
        }
    }

    #[test]
    fn unknown_attributes_are_skipped_unless_required() {
        use attr::fw_cap::*;
        // Linux's FW_CAP_RESP has attributes this schema does not keep (FW_STATE 9,
        // STORED_COMMIT_STR 0xc, ...): they are skipped.
        let buf = cap(|b| {
            b.u32(9, 4)
                .string(0xc, "abc")
                .nested(0x1e, |n| n.u32(0, 1))
                .mac(BMC_MAC_ADDR, &MacAddr([2, 0, 0, 0, 0, 9]))
        });
        let Msg::FwCapResp(c) = Msg::decode(&buf).unwrap() else {
            panic!("not FW_CAP_RESP")
        };
        assert_eq!(c.version, FwVersion::MIN_SUPPORTED);
        assert!(!c.bmc_present && c.bmc_macs.is_empty() && c.link_speed.is_none());
        // The same unknown attribute marked CANNOT_IGNORE is an error.
        let buf = cap(|b| b.u32(9, 4).cannot_ignore());
        assert_eq!(Msg::decode(&buf), Err(TlvError::UnknownRequired(9)));
        // Unknown attributes are skipped in messages with no attributes too.
        let buf = MsgBuilder::new(id::HEARTBEAT_REQ)
            .u64(3, 1)
            .finish()
            .unwrap();
        assert_eq!(Msg::decode(&buf), Ok(Msg::HeartbeatReq));
        let buf = MsgBuilder::new(id::HEARTBEAT_REQ)
            .u64(3, 1)
            .cannot_ignore()
            .finish()
            .unwrap();
        assert_eq!(Msg::decode(&buf), Err(TlvError::UnknownRequired(3)));
        // A known attribute may carry CANNOT_IGNORE.
        let buf = MsgBuilder::new(id::OWNERSHIP_REQ)
            .flag(attr::ownership::FLAG)
            .cannot_ignore()
            .finish()
            .unwrap();
        assert_eq!(Msg::decode(&buf), Ok(Msg::OwnershipReq { take: true }));
    }

    #[test]
    fn fw_cap_resp_reads_the_linux_layout() {
        use attr::fw_cap::*;
        let m1 = MacAddr([0x02, 0, 0, 0, 0, 1]);
        let m2 = MacAddr([0x02, 0, 0, 0, 0, 2]);
        let buf = cap(|b| {
            b.flag(BMC_PRESENT)
                .mac_array(BMC_MAC_ARRAY, BMC_MAC_ADDR, &[m1, m2])
                .u32(BMC_ALL_MULTI, 7)
                .u32(LINK_SPEED, 4)
                .u32(LINK_FEC, 2)
                .string(VERSION_COMMIT_STR, "abcdef")
        });
        let want = FwCapResp {
            version: FwVersion::new(0, 10, 6, 0),
            bmc_present: true,
            bmc_macs: vec![m1, m2],
            bmc_all_multi: true,
            commit: Some("abcdef".into()),
            link_speed: Some(LinkSpeed::G100Cr2),
            link_fec: Some(Fec::Rs),
            ..FwCapResp::default()
        };
        assert_eq!(Msg::decode(&buf), Ok(Msg::FwCapResp(want)));
    }

    #[test]
    fn ownership_flag_is_the_take_bit() {
        let take = Msg::OwnershipReq { take: true }.encode().unwrap();
        let release = Msg::OwnershipReq { take: false }.encode().unwrap();
        assert_eq!(take, [0x12, 0x80, 2, 0, 0, 0, 4, 0]);
        assert_eq!(release, [0x12, 0x80, 1, 0]);
    }
}
