//! The device model's throughput, driven by the driver core without DPDK.
//!
//! Two ports on the embedded model are cabled to each other (port A sends, port B receives
//! with RSS over several queues). Both ports' Rx buffers come from one [`NativePool`] that is
//! mapped into both devices at the same IOVA ([`NativeDma::shared`]), so a frame received on B can be
//! sent again from A without a copy: a fixed population of 64-byte UDP frames (256 flows)
//! circulates A -> cable -> B (RSS) -> driver loop -> A. The driver loop runs on one core,
//! the model's engine thread is pinned to the other.
//!
//! Two figures come out:
//! - **wall Mpps**: frames B delivered per second of wall time (the pair as a whole, bounded
//!   by the slower of the driver loop and the model);
//! - **engine Mpps**: frames per second of the engine's busy time
//!   ([`Fabric::engine_busy_ns`]: time in passes that did work), i.e. what the model alone
//!   would sustain on its core if the driver kept up.

use core::mem::MaybeUninit;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fbnic_model::Fabric;
use rte_net_fbnic::buf::PktBuf;
use rte_net_fbnic::devargs::Wire;
use rte_net_fbnic::embedded::{EmbeddedTransport, ModelOptions};
use rte_net_fbnic::fw::FwTimeouts;
use rte_net_fbnic::native::{NativeBuf, NativeDma, NativePool};
use rte_net_fbnic::rpc::{RssConfig, RssHash};
use rte_net_fbnic::{
    Error, Port, PortSettings, QueueSet, Result, RxConfig, RxQueue, Transport, TxConfig, TxQueue,
};

use crate::frames;

/// First IOVA of the shared pool's blocks: far above where each port's own [`NativeDma`]
/// hands out ring memory, so the two never overlap in either device.
const SHARED_IOVA_BASE: u64 = 0x20_0000_0000;

/// How the pipeline is built.
#[derive(Clone, Debug)]
pub struct Config {
    /// Rx queues on the receiving port (RSS spreads over them) and Tx queues on the sender.
    pub queues: u16,
    /// Rx buffers per queue (PPQ entries).
    pub rx_desc: u32,
    /// Tx descriptors per queue (a 64-byte frame takes two).
    pub tx_desc: u32,
    /// Frames circulating.
    pub inflight: u32,
    /// Distinct UDP flows (source ports).
    pub flows: u16,
    /// CPU for the model's engine thread.
    pub engine_cpu: Option<usize>,
    /// CPU for the driver loop (the calling thread is pinned there).
    pub driver_cpu: Option<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            queues: 4,
            rx_desc: 1024,
            tx_desc: 2048,
            inflight: 4096,
            flows: 256,
            engine_cpu: Some(1),
            driver_cpu: Some(0),
        }
    }
}

/// One port with its queues.
struct Side {
    rx: Vec<RxQueue<NativePool>>,
    tx: Vec<TxQueue<NativeBuf>>,
    port: Port,
    /// The model device (detached from the fabric when the last reference goes).
    _tp: Arc<EmbeddedTransport>,
}

struct Queues<'a> {
    rx: &'a mut [RxQueue<NativePool>],
    tx: &'a mut [TxQueue<NativeBuf>],
}

impl QueueSet for Queues<'_> {
    fn start_queues(&mut self, _rss: RssHash) -> Result<()> {
        self.rx.iter_mut().try_for_each(RxQueue::start)?;
        self.tx.iter_mut().try_for_each(TxQueue::start)
    }

    fn stop_queues(&mut self) -> Result<()> {
        // Stop everything even if one fails; report the last failure.
        let mut res = Ok(());
        for r in self.rx.iter_mut().map(RxQueue::stop) {
            res = res.and(r);
        }
        for r in self.tx.iter_mut().map(TxQueue::stop) {
            res = res.and(r);
        }
        res
    }
}

impl Side {
    fn start(&mut self) -> Result<()> {
        let mut qs = Queues {
            rx: &mut self.rx,
            tx: &mut self.tx,
        };
        self.port.start(&mut qs)
    }

    fn stop(&mut self) -> Result<()> {
        let mut qs = Queues {
            rx: &mut self.rx,
            tx: &mut self.tx,
        };
        self.port.stop(&mut qs)
    }
}

static SEQ: AtomicU64 = AtomicU64::new(0);

fn attach(name: &str, cable: &str, engine_cpu: Option<usize>) -> Result<Arc<EmbeddedTransport>> {
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let dsn = 0x021d_9b00_00f0_0000 | (u64::from(std::process::id() & 0xfff) << 8) | (n & 0xff);
    let mut o = ModelOptions::new(name, dsn);
    o.wire = Wire::Cable(cable.to_string());
    o.engine_cpu = engine_cpu;
    EmbeddedTransport::attach(&o)
}

/// What one measurement gave.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    /// Frames delivered by the receiving port.
    pub packets: u64,
    /// Wall time.
    pub secs: f64,
    /// Engine busy time in the interval, ns.
    pub busy_ns: u64,
    /// Engine passes in the interval (with or without work).
    pub passes: u64,
    /// Frames per Rx queue.
    pub per_queue: Vec<u64>,
}

impl Measurement {
    /// Frames per second of wall time, millions.
    pub fn wall_mpps(&self) -> f64 {
        self.packets as f64 / self.secs / 1e6
    }

    /// Frames per second of engine busy time, millions.
    pub fn engine_mpps(&self) -> f64 {
        if self.busy_ns == 0 {
            return f64::NAN;
        }
        self.packets as f64 / self.busy_ns as f64 * 1e3
    }

    /// Engine busy nanoseconds per frame.
    pub fn engine_ns_per_pkt(&self) -> f64 {
        self.busy_ns as f64 / self.packets.max(1) as f64
    }
}

/// A running cabled pair with frames circulating.
pub struct Pipeline {
    // Field order is drop order: queues go before the pool, the pool before the ports.
    a: Side,
    b: Side,
    pool: NativePool,
    fabric: Arc<Fabric>,
    per_queue: Vec<u64>,
    cfg: Config,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Builds the pair, starts both ports and puts `cfg.inflight` frames in flight.
    pub fn new(cfg: Config) -> Result<Self> {
        if cfg.queues == 0 || cfg.inflight == 0 || cfg.flows == 0 {
            return Err(Error::invalid("queues, inflight and flows must be > 0"));
        }
        if let Some(cpu) = cfg.driver_cpu {
            core_affinity::set_for_current(core_affinity::CoreId { id: cpu });
        }
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let tag = format!("{}x{n}", std::process::id());
        let cable = format!("perf{tag}");
        let tp_a = attach(&format!("perfA{tag}"), &cable, cfg.engine_cpu)?;
        let tp_b = attach(&format!("perfB{tag}"), &cable, cfg.engine_cpu)?;
        let fabric = tp_a
            .fabric()
            .ok_or_else(|| Error::Hardware("the model has no fabric".into()))?;
        let dyn_a: Arc<dyn Transport> = tp_a.clone();
        let dyn_b: Arc<dyn Transport> = tp_b.clone();
        let q = cfg.queues;
        let port_a = Port::new(
            dyn_a.clone(),
            NativeDma::new(dyn_a.clone()),
            FwTimeouts::default(),
            None,
        )?;
        let port_b = Port::new(
            dyn_b.clone(),
            NativeDma::new(dyn_b.clone()),
            FwTimeouts::default(),
            None,
        )?;
        let settings = |rx: u16, tx: u16| PortSettings {
            nb_rx_queues: rx,
            nb_tx_queues: tx,
            loopback: false,
            mtu: 1500,
            rx_timestamp: false,
            link_speeds: Vec::new(),
        };
        port_a.configure(settings(1, q), None)?;
        port_b.configure(settings(q, 1), Some(RssConfig::spread(q, RssHash::ALL)))?;
        let shared = NativeDma::shared(vec![dyn_a.clone(), dyn_b.clone()], SHARED_IOVA_BASE);
        let count =
            (u32::from(q) + 1) * cfg.rx_desc + u32::from(q) * cfg.tx_desc / 2 + cfg.inflight + 1024;
        let pool = NativePool::new(shared.as_ref(), count, 2048, 128)?;
        let rxc = RxConfig {
            nb_desc: cfg.rx_desc,
            drop_en: false,
            scatter: false,
            split: None,
        };
        let txc = TxConfig {
            nb_desc: cfg.tx_desc,
            fast_free: false,
        };
        let mk_side = |tp: Arc<EmbeddedTransport>,
                       dtp: &Arc<dyn Transport>,
                       port: Port,
                       nrx: u16,
                       ntx: u16|
         -> Result<Side> {
            let rx = (0..u32::from(nrx))
                .map(|i| RxQueue::new(dtp, port.dma(), i, rxc, pool.clone()))
                .collect::<Result<Vec<_>>>()?;
            let tx = (0..u32::from(ntx))
                .map(|i| TxQueue::new(dtp, port.dma(), i, txc))
                .collect::<Result<Vec<_>>>()?;
            Ok(Side {
                rx,
                tx,
                port,
                _tp: tp,
            })
        };
        let mut a = mk_side(tp_a, &dyn_a, port_a, 1, q)?;
        let mut b = mk_side(tp_b, &dyn_b, port_b, q, 1)?;
        b.start()?;
        a.start()?;
        let t = Instant::now();
        while !(a.port.link().up && b.port.link().up) {
            if t.elapsed() > Duration::from_secs(5) {
                return Err(Error::Hardware("the cable's link did not come up".into()));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let mut p = Self {
            per_queue: vec![0; q as usize],
            a,
            b,
            pool,
            fabric,
            cfg,
        };
        p.inject()?;
        Ok(p)
    }

    fn inject(&mut self) -> Result<()> {
        let dst = self.b.port.perm_addr().0;
        let src = self.a.port.perm_addr().0;
        let flows: Vec<Vec<u8>> = (0..self.cfg.flows)
            .map(|i| {
                frames::udp4(
                    dst,
                    src,
                    ([10, 0, 0, 1], [10, 0, 1, 2]),
                    (1024 + i, 4791),
                    &[0u8; 18],
                    60,
                )
            })
            .collect();
        let q = self.a.tx.len();
        let mut sent = 0u32;
        let t = Instant::now();
        while sent < self.cfg.inflight {
            let n = 32.min(self.cfg.inflight - sent);
            let pkts: Vec<NativeBuf> = (sent..sent + n)
                .map(|i| self.pool.packet(&flows[i as usize % flows.len()]))
                .collect::<Option<_>>()
                .ok_or_else(|| Error::NoMemory("the pool ran out while priming".into()))?;
            let qi = (sent / 32) as usize % q;
            let mut done = 0;
            while done < pkts.len() {
                done += self.a.tx[qi].burst(&pkts[done..]);
                if done < pkts.len() {
                    // The ring is full: let the model drain it, keep B's queues serviced.
                    self.forward_once();
                    if t.elapsed() > Duration::from_secs(10) {
                        return Err(Error::Hardware("could not prime the Tx rings".into()));
                    }
                }
            }
            sent += n;
        }
        Ok(())
    }

    /// One pass of the driver loop: every B queue's Rx burst is sent again from A's queue of
    /// the same number. Returns the frames received.
    #[inline]
    fn forward_once(&mut self) -> u64 {
        let mut buf = [MaybeUninit::<NativeBuf>::uninit(); 32];
        let mut got = 0u64;
        let ntx = self.a.tx.len();
        for (qi, rx) in self.b.rx.iter_mut().enumerate() {
            let n = rx.burst(&mut buf);
            if n == 0 {
                continue;
            }
            // SAFETY: burst initialised the first n entries.
            let pkts: &[NativeBuf] =
                unsafe { core::slice::from_raw_parts(buf.as_ptr().cast::<NativeBuf>(), n) };
            let tx = &mut self.a.tx[qi % ntx];
            let sent = tx.burst(pkts);
            for p in &pkts[sent..] {
                p.free_pkt();
            }
            self.per_queue[qi] += n as u64;
            got += n as u64;
        }
        if got == 0 {
            // Nothing arrived: reclaim Tx completions so buffers flow back to the pool.
            for tx in self.a.tx.iter_mut() {
                tx.burst(&[]);
            }
        }
        got
    }

    /// Runs the loop for `dur`.
    pub fn run_for(&mut self, dur: Duration) -> Measurement {
        self.run_until(|pkts, t| {
            let _ = pkts;
            t >= dur
        })
    }

    /// Runs the loop until `n` frames were received (or 30 s passed).
    pub fn run_packets(&mut self, n: u64) -> Measurement {
        self.run_until(|pkts, t| pkts >= n || t >= Duration::from_secs(30))
    }

    fn run_until(&mut self, mut done: impl FnMut(u64, Duration) -> bool) -> Measurement {
        let q0 = self.per_queue.clone();
        let busy0 = self.fabric.engine_busy_ns();
        let passes0 = self.fabric.engine_passes();
        let start = Instant::now();
        let mut pkts = 0u64;
        let mut iter = 0u32;
        loop {
            pkts += self.forward_once();
            iter = iter.wrapping_add(1);
            if iter & 63 == 0 && done(pkts, start.elapsed()) {
                break;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        Measurement {
            packets: pkts,
            secs,
            busy_ns: self.fabric.engine_busy_ns() - busy0,
            passes: self.fabric.engine_passes() - passes0,
            per_queue: self.per_queue.iter().zip(&q0).map(|(a, b)| a - b).collect(),
        }
    }

    /// Frames B dropped for lack of buffers or completion space (hardware counters).
    pub fn rx_drops(&self) -> u64 {
        self.b.port.service();
        let c = self.b.port.counters();
        (0..u32::from(self.cfg.queues))
            .map(|q| {
                let s = c.queue(q);
                s.rx_bdq_drops + s.rx_cq_drops
            })
            .sum()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        for side in [&mut self.a, &mut self.b] {
            if let Err(e) = side.stop() {
                eprintln!("fbnic-perf: stopping a port: {e}");
            }
            side.port.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_circulate_with_rss() {
        let mut p = Pipeline::new(Config {
            queues: 4,
            rx_desc: 256,
            tx_desc: 512,
            inflight: 512,
            flows: 64,
            engine_cpu: None,
            driver_cpu: None,
        })
        .expect("pipeline");
        let m = p.run_packets(20_000);
        assert!(m.packets >= 20_000, "{m:?}");
        assert!(m.per_queue.iter().all(|&c| c > 0), "RSS spread: {m:?}");
        assert_eq!(p.rx_drops(), 0);
        assert!(m.wall_mpps() > 0.0);
    }
}
