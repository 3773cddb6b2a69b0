//! The fbnic device's interface as Rust types.
//!
//! Everything both sides of the PCI boundary agree on lives here: the BAR0/BAR4 register map
//! ([`regs`]), descriptor formats ([`desc`]), the firmware mailbox's TLV codec ([`tlv`]) and
//! message schemas ([`msg`]), the firmware version ([`version`]), link modes ([`link`]), MAC
//! addresses ([`mac`]), the Toeplitz RSS hash ([`toeplitz`]) and the Internet checksum
//! arithmetic of the checksum offloads ([`csum`]). The crate does no I/O, has no
//! dependencies and no `unsafe`; the device model and the driver both build on it, so neither
//! invents private encodings.
//!
//! The functional spec is `shared/spec/fbnic-device.md`; items the spec leaves open are marked
//! **[project choice]** where they are declared.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bits;
pub mod csum;
pub mod desc;
pub mod link;
pub mod mac;
pub mod msg;
pub mod regdump;
pub mod regs;
pub mod tlv;
pub mod toeplitz;
pub mod version;

pub use link::{Fec, LinkSpeed};
pub use mac::MacAddr;
pub use msg::{FwCapResp, Msg};
pub use tlv::{MsgBuilder, RawAttr, RawMsg, TlvError};
pub use toeplitz::{RssInput, ToeplitzTable};
pub use version::FwVersion;
