//! Raw bindings to the installed DPDK 22.11: its public headers, the driver-SDK headers
//! (`ethdev_driver.h`, `ethdev_vdev.h`, `bus_vdev_driver.h`, ...) and the `fbnic_*` C shim
//! that wraps the `static inline` functions a driver needs. See `README.md`.
#![no_std]

pub mod pmdinfo;

#[allow(
    non_upper_case_globals,
    non_camel_case_types,
    non_snake_case,
    dead_code,
    missing_debug_implementations,
    unsafe_op_in_unsafe_fn,
    improper_ctypes,
    clippy::all,
    clippy::pedantic,
    clippy::undocumented_unsafe_blocks,
    clippy::missing_safety_doc
)]
mod bindings {
    include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
}

pub use bindings::*;
