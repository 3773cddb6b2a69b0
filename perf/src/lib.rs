//! fbnic-perf: how fast net_fbnic is, measured next to DPDK's own PMDs in the same run.
//!
//! - [`harness`]: runs the real `dpdk-testpmd` (io forwarding, one forwarding lcore) on
//!   net_fbnic, net_null, net_memif and net_ring in interleaved rounds, then a burst-size
//!   sweep on net_fbnic and `dpdk-test pmd_perf_autotest`, and writes a table (stdout, CSV)
//!   and SVG charts. Everything it reports is a figure of one run: ratios, not absolutes,
//!   are what survive a noisy machine.
//! - [`pipeline`]: the device model's own throughput, driven natively by the driver core
//!   (`rte_net_fbnic` with native buffers and the embedded model) without DPDK.
//! - The criterion benches (`benches/micro.rs`) cover the pure parts: Toeplitz, TLV, the
//!   descriptor codecs, and the model's per-packet pipeline through [`pipeline`].
//!
//! The pieces the harness is built from ([`testpmd`] output parsing, [`stats`], [`svg`],
//! [`report`]) are plain functions with unit tests; only [`proc`] and [`pipeline`] touch
//! the system.

pub mod autotest;
pub mod cli;
pub mod frames;
pub mod harness;
pub mod pipeline;
pub mod proc;
pub mod report;
pub mod result_line;
pub mod sched;
pub mod stats;
pub mod svg;
pub mod testpmd;
