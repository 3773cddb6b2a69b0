//! fbnic-model: an open, faithful model of Meta's fbnic NIC.
//!
//! (Crate documentation: see the end of this file's doc block, written below.)
#![warn(missing_docs)]

mod bmc;
mod csum;
mod device;
mod dma;
mod fabric;
mod fifo;
mod fw;
mod mac;
mod parse;
mod queue;
mod regfile;
mod rpc;
mod rss;
mod rx;
mod stats;
mod tx;
mod wire;

pub use bmc::{BmcConfig, BmcHandle};
pub use device::{Device, DeviceConfig, MASTER_SPARE_0_VALUE};
pub use dma::MAX_REGIONS;
pub use fabric::{Fabric, FabricConfig, IdlePolicy};
pub use fbnic_hw::regs::Bar;
pub use fw::{FwConfig, FwFaults, FwState, MacSync};
pub use stats::DeviceStats;
pub use wire::{GenFn, GenSource, Generator, GeneratorHandle, SinkHandle};

/// Errors of the model's control API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelError {
    /// A DMA mapping is empty, wraps, leaves the 46-bit space or breaks the alignment rule.
    InvalidMapping(&'static str),
    /// A DMA mapping overlaps an existing one.
    Overlap,
    /// No mapping starts at that IOVA with that length.
    NotMapped,
    /// The region table is full.
    TooManyRegions,
    /// The device does not belong to this fabric (or was removed).
    NotInFabric,
    /// A cable needs two different devices.
    SameDevice,
}

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidMapping(why) => write!(f, "invalid DMA mapping: {why}"),
            Self::Overlap => f.write_str("DMA mapping overlaps an existing one"),
            Self::NotMapped => f.write_str("no such DMA mapping"),
            Self::TooManyRegions => f.write_str("DMA region table full"),
            Self::NotInFabric => f.write_str("device is not part of this fabric"),
            Self::SameDevice => f.write_str("a cable needs two different devices"),
        }
    }
}

impl std::error::Error for ModelError {}
