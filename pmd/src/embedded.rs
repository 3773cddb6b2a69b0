//! The embedded transport: the fbnic device model running as threads inside this process.
//!
//! This is the one place in the driver that names the model. It keeps a process-wide
//! [`Fabric`] (created with the first port, shut down with the last), adds one model device
//! per port, cables ports as their devargs ask, and hands the driver a [`Transport`] over the
//! device: register reads and writes, doorbell addresses, DMA mappings, the DSN.

use core::ptr::NonNull;
use core::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use fbnic_hw::link::LinkSpeed;
use fbnic_hw::mac::MacAddr;
use fbnic_hw::regs::{Bar, Reg};
use fbnic_hw::version::FwVersion;
use fbnic_model::{
    BmcConfig, Device, DeviceConfig, Fabric, FabricConfig, FwConfig, FwFaults, IdlePolicy,
};

use crate::devargs::{FwFault, Wire};
use crate::error::{Error, Result};
use crate::irq::IrqEvent;
use crate::transport::{Doorbell, Transport};

/// What a port's model device looks like.
#[derive(Clone, Debug)]
pub struct ModelOptions {
    /// The port's name (for cables and logs).
    pub name: String,
    /// PCIe Device Serial Number.
    pub dsn: u64,
    /// What the port is cabled to.
    pub wire: Wire,
    /// Link mode the firmware reports.
    pub link: LinkSpeed,
    /// A BMC shares the port.
    pub bmc: bool,
    /// Firmware version to report (default: the model's).
    pub fw_version: Option<FwVersion>,
    /// Firmware misbehaviour to simulate.
    pub fw_fault: FwFault,
    /// Pin the model's engine thread (honoured when the fabric is created by this port).
    pub engine_cpu: Option<usize>,
    /// How long the engine keeps polling after its last work before it sleeps between passes
    /// (None: the model's default; honoured when the fabric is created by this port).
    pub engine_poll: Option<Duration>,
    /// The engine thread's nice value (None: inherited from the thread that creates the
    /// fabric; honoured when the fabric is created by this port).
    pub engine_nice: Option<i32>,
}

impl ModelOptions {
    /// Defaults for a port called `name` with serial number `dsn`.
    pub fn new(name: &str, dsn: u64) -> Self {
        Self {
            name: name.to_string(),
            dsn,
            wire: Wire::Pair,
            link: LinkSpeed::G100Cr2,
            bmc: false,
            fw_version: None,
            fw_fault: FwFault::None,
            engine_cpu: None,
            engine_poll: None,
            engine_nice: None,
        }
    }
}

/// The BMC's address for a port: the port's own address with the next-to-last byte flipped
/// (a distinct locally administered unicast address).
pub fn bmc_mac_for(port_mac: MacAddr) -> MacAddr {
    let mut b = port_mac.0;
    b[4] ^= 0xb0;
    MacAddr(b)
}

#[derive(Debug)]
struct Member {
    name: String,
    dev: Arc<Device>,
    wire: Wire,
    peer: Option<String>,
}

#[derive(Debug, Default)]
struct World {
    fabric: Option<Arc<Fabric>>,
    members: Vec<Member>,
}

static WORLD: Mutex<World> = Mutex::new(World {
    fabric: None,
    members: Vec::new(),
});

fn world() -> MutexGuard<'static, World> {
    WORLD.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts the process's fabric as the first port's options ask.
fn new_fabric(opts: &ModelOptions) -> Result<Arc<Fabric>> {
    let mut idle = IdlePolicy::default();
    if let Some(spin) = opts.engine_poll {
        idle.spin = spin;
    }
    let fabric = Fabric::new(FabricConfig {
        engine_cpu: opts.engine_cpu,
        idle,
    });
    if let Some(nice) = opts.engine_nice {
        if let Err(e) = fabric.set_engine_nice(nice) {
            fabric.shutdown();
            let why = if e.kind() == std::io::ErrorKind::PermissionDenied {
                " (a value below the current one needs CAP_SYS_NICE, e.g. root)"
            } else {
                ""
            };
            return Err(Error::invalid(format!(
                "model_nice={nice}: cannot set the model engine's nice value: {e}{why}"
            )));
        }
    }
    Ok(fabric)
}

/// A port's view of its model device.
#[derive(Debug)]
pub struct EmbeddedTransport {
    dev: Arc<Device>,
    name: String,
}

impl EmbeddedTransport {
    /// Creates the port's model device and cables it. Fails if the name is taken or the
    /// cable already has two ends.
    pub fn attach(opts: &ModelOptions) -> Result<Arc<Self>> {
        let mut w = world();
        if w.members.iter().any(|m| m.name == opts.name) {
            return Err(Error::invalid(format!(
                "a model device named {} exists already",
                opts.name
            )));
        }
        if let Wire::Cable(c) = &opts.wire {
            let ends = w.members.iter().filter(|m| m.wire == opts.wire).count();
            if ends >= 2 {
                return Err(Error::invalid(format!(
                    "cable '{c}' already connects two ports"
                )));
            }
        }
        let fabric = match &w.fabric {
            Some(f) => f.clone(),
            None => {
                let f = new_fabric(opts)?;
                w.fabric = Some(f.clone());
                f
            }
        };
        let mut fw = FwConfig::default();
        if let Some(v) = opts.fw_version {
            fw.version = v;
        }
        fw.faults = FwFaults {
            no_signs_of_life: opts.fw_fault == FwFault::NoLife,
            ignore_ownership: opts.fw_fault == FwFault::NoOwnership,
            malformed_response: opts.fw_fault == FwFault::Malformed,
            stop_heartbeat: opts.fw_fault == FwFault::NoHeartbeat,
            crash_after: match opts.fw_fault {
                FwFault::Crash(after) => Some(after),
                _ => None,
            },
            ..Default::default()
        };
        let mut cfg = DeviceConfig::with_dsn(opts.dsn);
        cfg.link = opts.link;
        cfg.fec = opts.link.default_fec();
        cfg.fw = fw;
        if opts.bmc {
            cfg.bmc = Some(BmcConfig {
                macs: vec![bmc_mac_for(cfg.mac())],
                all_multi: false,
            });
        }
        let dev = fabric.add_device(cfg);
        let mut me = Member {
            name: opts.name.clone(),
            dev: dev.clone(),
            wire: opts.wire.clone(),
            peer: None,
        };
        let cabled = match &opts.wire {
            Wire::Loop => fabric.loop_back(&dev).map(|_| None),
            Wire::Tap(name) => match crate::tap::Tap::open(name) {
                Ok(tap) => fabric.attach_outside(&dev, Box::new(tap)).map(|_| None),
                Err(e) => {
                    fabric.remove_device(&dev);
                    return Err(e);
                }
            },
            Wire::Pair | Wire::Cable(_) => {
                // Pair: the earliest pair port still waiting; cable: the other end.
                match w
                    .members
                    .iter_mut()
                    .find(|m| m.wire == opts.wire && m.peer.is_none())
                {
                    Some(other) => match fabric.connect(&other.dev, &dev) {
                        Ok(()) => {
                            other.peer = Some(opts.name.clone());
                            Ok(Some(other.name.clone()))
                        }
                        Err(e) => Err(e),
                    },
                    None => Ok(None),
                }
            }
        };
        match cabled {
            Ok(peer) => me.peer = peer,
            Err(e) => {
                fabric.remove_device(&dev);
                return Err(Error::Hardware(format!("cabling {}: {e}", opts.name)));
            }
        }
        log::info!(
            "{}: model device (DSN {:#018x}) {}",
            opts.name,
            opts.dsn,
            match (&opts.wire, &me.peer) {
                (Wire::Loop, _) => "with a loopback plug".to_string(),
                (Wire::Tap(t), _) => format!("cabled to TAP interface {t}"),
                (_, Some(p)) => format!("cabled to {p}"),
                (Wire::Cable(c), None) => format!("on cable '{c}', waiting for the other end"),
                (Wire::Pair, None) => "waiting for its pair".to_string(),
            }
        );
        w.members.push(me);
        Ok(Arc::new(Self {
            dev,
            name: opts.name.clone(),
        }))
    }

    /// The model device (for tests and fault injection).
    pub fn device(&self) -> &Arc<Device> {
        &self.dev
    }

    /// The fabric the device lives in.
    pub fn fabric(&self) -> Option<Arc<Fabric>> {
        world().fabric.clone()
    }

    /// Sets (or clears) the firmware faults of the device.
    pub fn set_fw_faults(&self, f: FwFaults) {
        self.dev.set_fw_faults(f);
    }
}

impl Drop for EmbeddedTransport {
    fn drop(&mut self) {
        let mut w = world();
        let Some(fabric) = w.fabric.clone() else {
            return;
        };
        fabric.remove_device(&self.dev);
        w.members.retain(|m| m.name != self.name);
        for m in w
            .members
            .iter_mut()
            .filter(|m| m.peer.as_deref() == Some(self.name.as_str()))
        {
            m.peer = None;
        }
        if w.members.is_empty() {
            fabric.shutdown();
            w.fabric = None;
        }
    }
}

impl Transport for EmbeddedTransport {
    fn read32(&self, bar: Bar, reg: Reg) -> u32 {
        self.dev.read32(bar, reg)
    }

    fn write32(&self, bar: Bar, reg: Reg, val: u32) {
        self.dev.write32(bar, reg, val)
    }

    fn doorbell(&self, reg: Reg) -> Option<Doorbell> {
        let p: NonNull<AtomicU32> = self.dev.reg_ptr(Bar::Bar0, reg)?;
        // SAFETY: the model keeps its register array at a fixed address for the Device's life,
        // and every queue holding a doorbell also holds the port's Arc<dyn Transport>, which
        // keeps this transport (and its Arc<Device>) alive.
        Some(unsafe { Doorbell::new(p) })
    }

    fn dsn(&self) -> u64 {
        self.dev.dsn()
    }

    unsafe fn dma_map(&self, iova: u64, va: *mut u8, len: usize) -> Result<()> {
        // SAFETY: forwarded contract: the caller keeps the memory valid until unmapped.
        unsafe { self.dev.dma_map(iova, va, len) }
            .map_err(|e| Error::NoMemory(format!("mapping {len} bytes at IOVA {iova:#x}: {e}")))
    }

    fn dma_unmap(&self, iova: u64, len: usize) -> Result<()> {
        self.dev
            .dma_unmap(iova, len)
            .map_err(|e| Error::Hardware(format!("unmapping IOVA {iova:#x}: {e}")))
    }

    fn set_msix(&self, vector: u32, event: Option<Arc<IrqEvent>>) -> Result<()> {
        if vector >= fbnic_hw::regs::MSIX_VECTORS {
            return Err(Error::invalid(format!(
                "MSI-X vector {vector}: the device has 256"
            )));
        }
        let trigger = event.map(|e| Arc::new(move || e.signal()) as fbnic_model::MsixTrigger);
        self.dev.set_msix_trigger(vector, trigger);
        Ok(())
    }
}
