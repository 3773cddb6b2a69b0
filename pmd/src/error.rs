//! The driver's error type: every failure says what went wrong in words a user can act on,
//! and maps to the negative errno an ethdev callback returns.

use core::fmt;
use std::time::Duration;

use fbnic_hw::tlv::TlvError;
use fbnic_hw::version::FwVersion;

/// Errno values ethdev callbacks return (negated).
pub mod errno {
    /// Operation not permitted.
    pub const EPERM: i32 = 1;
    /// No such entry.
    pub const ENOENT: i32 = 2;
    /// I/O error.
    pub const EIO: i32 = 5;
    /// Try again.
    pub const EAGAIN: i32 = 11;
    /// Out of memory.
    pub const ENOMEM: i32 = 12;
    /// Device or resource busy.
    pub const EBUSY: i32 = 16;
    /// No such device.
    pub const ENODEV: i32 = 19;
    /// Invalid argument.
    pub const EINVAL: i32 = 22;
    /// No space left.
    pub const ENOSPC: i32 = 28;
    /// Protocol error.
    pub const EPROTO: i32 = 71;
    /// Operation not supported.
    pub const ENOTSUP: i32 = 95;
    /// Timed out.
    pub const ETIMEDOUT: i32 = 110;
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A user-supplied value is out of range or malformed.
    InvalidArg(String),
    /// The request is valid but the device or driver state does not allow it now.
    Busy(String),
    /// The driver does not support the request.
    NotSupported(String),
    /// DMA memory could not be allocated or mapped.
    NoMemory(String),
    /// A device table (such as the action TCAM) has no room for the request.
    NoSpace(String),
    /// The device stopped answering register reads (surprise removal).
    DeviceGone,
    /// A wait ran out of time.
    Timeout {
        /// What was being waited for.
        what: &'static str,
        /// How long the driver waited.
        waited: Duration,
    },
    /// The firmware sent something the driver cannot accept.
    Firmware(String),
    /// The firmware runs a version older than the driver supports.
    FirmwareTooOld {
        /// The version the firmware reported.
        found: FwVersion,
        /// The oldest version the driver accepts.
        required: FwVersion,
    },
    /// A hardware queue did not go idle or refused its configuration.
    Hardware(String),
    /// A secondary process's request to the primary failed (no answer, a malformed one).
    Ipc(String),
}

impl Error {
    /// The negative errno an ethdev callback returns for this error.
    pub fn to_errno(&self) -> i32 {
        -match self {
            Self::InvalidArg(_) => errno::EINVAL,
            Self::Busy(_) => errno::EBUSY,
            Self::NotSupported(_) => errno::ENOTSUP,
            Self::NoMemory(_) => errno::ENOMEM,
            Self::NoSpace(_) => errno::ENOSPC,
            Self::DeviceGone => errno::ENODEV,
            Self::Timeout { .. } => errno::ETIMEDOUT,
            Self::Firmware(_) | Self::FirmwareTooOld { .. } => errno::EPROTO,
            Self::Hardware(_) | Self::Ipc(_) => errno::EIO,
        }
    }

    /// Shorthand for [`Error::InvalidArg`].
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::InvalidArg(msg.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidArg(m) => write!(f, "invalid argument: {m}"),
            Self::Busy(m) => write!(f, "busy: {m}"),
            Self::NotSupported(m) => write!(f, "not supported: {m}"),
            Self::NoMemory(m) => write!(f, "out of DMA memory: {m}"),
            Self::NoSpace(m) => write!(f, "no room: {m}"),
            Self::DeviceGone => f.write_str("device is gone (BAR reads return all-ones)"),
            Self::Timeout { what, waited } => {
                write!(
                    f,
                    "timed out after {} ms waiting for {what}",
                    waited.as_millis()
                )
            }
            Self::Firmware(m) => write!(f, "firmware error: {m}"),
            Self::FirmwareTooOld { found, required } => {
                write!(
                    f,
                    "firmware {found} is older than the minimum supported {required}"
                )
            }
            Self::Hardware(m) => write!(f, "hardware error: {m}"),
            Self::Ipc(m) => write!(f, "multi-process request: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<TlvError> for Error {
    fn from(e: TlvError) -> Self {
        Self::Firmware(format!("malformed mailbox message: {e}"))
    }
}

/// The driver's result type.
pub type Result<T, E = Error> = core::result::Result<T, E>;
