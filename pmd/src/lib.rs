//! net_fbnic: a poll-mode driver for Meta's fbnic NIC.
//!
//! The crate has three layers:
//! - the **driver core**: [`Port`] (control path: firmware handshake, link, classification
//!   and RSS rules, counters) and the queues [`RxQueue`] / [`TxQueue`] (fast path), generic
//!   over the packet buffers they move ([`buf`]) and talking to the device only through a
//!   [`Transport`] (registers, doorbells, DMA);
//! - the **embedded transport** (feature `embedded`, on by default): starts the fbnic device
//!   model in-process and hands the driver a BAR and DMA view of it;
//! - the **ethdev glue** (feature `dpdk`): the C ABI that makes all this the DPDK PMD
//!   `net_fbnic` in `librte_net_fbnic.so`.
//!
//! [`native`] provides heap-backed buffers and DMA memory for tests and tools.

pub mod buf;
pub mod devargs;
pub mod dump;
pub mod error;
pub mod fake;
pub mod flow;
pub mod fw;
pub mod irq;
pub mod mbx;
pub mod module;
pub mod native;
pub mod port;
pub mod prefetch;
pub mod ptp;
pub mod queue;
pub mod ring;
pub mod rpc;
pub mod rx;
pub mod rxcsum;
pub mod stats;
pub mod transport;
pub mod tx;

#[cfg(feature = "embedded")]
pub mod embedded;
#[cfg(feature = "embedded")]
pub mod tap;

#[cfg(feature = "dpdk")]
pub mod ethdev;

pub use error::{Error, Result};
pub use port::{FwRecovery, LinkStatus, Port, PortSettings, QueueSet};
pub use rx::{IntrCoalesce, RxConfig, RxQueue};
pub use transport::{DmaAllocator, DmaMem, Doorbell, Transport};
pub use tx::{TxConfig, TxQueue};
