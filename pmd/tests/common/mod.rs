//! Shared test harness: ports on the embedded model with native buffers, and a frame builder.
#![allow(dead_code)]

pub mod pkt;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fbnic_hw::regs;
use rte_net_fbnic::devargs::Wire;
use rte_net_fbnic::embedded::{EmbeddedTransport, ModelOptions};
use rte_net_fbnic::fw::FwTimeouts;
use rte_net_fbnic::native::{NativeBuf, NativeDma, NativePool};
use rte_net_fbnic::rpc::{RssHash, SplitHdrs};
use rte_net_fbnic::rx::RxSplit;
use rte_net_fbnic::{
    Port, PortSettings, QueueSet, Result, RxConfig, RxQueue, Transport, TxConfig, TxQueue,
};

/// Firmware timeouts short enough for tests that expect failures.
pub fn test_timeouts() -> FwTimeouts {
    FwTimeouts {
        alive: Duration::from_millis(1500),
        response: Duration::from_millis(500),
        ownership: Duration::from_millis(500),
        heartbeat: Duration::from_millis(100),
    }
}

static SEQ: AtomicU64 = AtomicU64::new(1);

/// A process-unique number (tests in one binary share the model's world).
pub fn unique() -> u64 {
    SEQ.fetch_add(1, Ordering::Relaxed) + (std::process::id() as u64 % 1000) * 1000
}

/// Model options for a port named uniquely, on `wire`.
pub fn model(name: &str, wire: Wire) -> ModelOptions {
    let n = unique();
    let mut o = ModelOptions::new(&format!("{name}{n}"), 0x021d_9b00_0000_0000 | n);
    o.wire = wire;
    o
}

/// A cable name no other test uses.
pub fn cable() -> Wire {
    Wire::Cable(format!("c{}", unique()))
}

/// How a test port is built.
#[derive(Clone, Debug)]
pub struct PortSpec {
    pub rx_queues: u16,
    pub tx_queues: u16,
    pub rx_desc: u32,
    pub tx_desc: u32,
    pub pool_size: u32,
    pub buf_room: u32,
    pub drop_en: bool,
    pub scatter: bool,
    pub mtu: u16,
    /// Give every Rx queue a pool of its own (else they share `pool`).
    pub pool_per_queue: bool,
    /// Header split on every Rx queue: where the port cuts, the header buffers' room and
    /// the queue's MAX_HDR (headers from a pool of their own, `hdr_pool`).
    pub split: Option<(SplitHdrs, u32, u32)>,
    /// Rx interrupt moderation of every Rx queue.
    pub intr: rte_net_fbnic::IntrCoalesce,
}

impl Default for PortSpec {
    fn default() -> Self {
        Self {
            rx_queues: 1,
            tx_queues: 1,
            rx_desc: 256,
            tx_desc: 512,
            pool_size: 4096,
            buf_room: 2048,
            drop_en: false,
            scatter: true,
            mtu: 1500,
            pool_per_queue: false,
            split: None,
            intr: Default::default(),
        }
    }
}

/// A port with its queues and pool.
pub struct TestPort {
    pub tp: Arc<EmbeddedTransport>,
    pub port: Port,
    pub pool: NativePool,
    /// The pool of each Rx queue (all `pool` unless `pool_per_queue`).
    pub rx_pools: Vec<NativePool>,
    /// The header buffers' pool of split queues.
    pub hdr_pool: Option<NativePool>,
    pub rx: Vec<RxQueue<NativePool>>,
    pub tx: Vec<TxQueue<NativeBuf>>,
}

struct Queues<'a> {
    rx: &'a mut Vec<RxQueue<NativePool>>,
    tx: &'a mut Vec<TxQueue<NativeBuf>>,
}

impl QueueSet for Queues<'_> {
    fn start_queues(&mut self, _rss: RssHash) -> Result<()> {
        for q in self.rx.iter_mut() {
            q.start()?;
        }
        for q in self.tx.iter_mut() {
            q.start()?;
        }
        Ok(())
    }

    fn stop_queues(&mut self) -> Result<()> {
        let mut res = Ok(());
        for q in self.rx.iter_mut() {
            if let Err(e) = q.stop() {
                res = Err(e);
            }
        }
        for q in self.tx.iter_mut() {
            if let Err(e) = q.stop() {
                res = Err(e);
            }
        }
        res
    }
}

impl TestPort {
    pub fn new(opts: &ModelOptions, spec: &PortSpec) -> Self {
        Self::with_timeouts(opts, spec, test_timeouts())
    }

    pub fn with_timeouts(opts: &ModelOptions, spec: &PortSpec, t: FwTimeouts) -> Self {
        let tp = EmbeddedTransport::attach(opts).expect("attach model device");
        let dyn_tp: Arc<dyn Transport> = tp.clone();
        let dma = NativeDma::new(dyn_tp.clone());
        let port = Port::new(dyn_tp.clone(), dma.clone(), t, None).expect("port");
        port.configure(
            PortSettings {
                nb_rx_queues: spec.rx_queues,
                nb_tx_queues: spec.tx_queues,
                loopback: false,
                mtu: spec.mtu,
                rx_timestamp: false,
                link_speeds: Vec::new(),
            },
            None,
        )
        .expect("configure");
        let pool = NativePool::new(dma.as_ref(), spec.pool_size, spec.buf_room, 128).expect("pool");
        let rx_pools: Vec<NativePool> = (0..spec.rx_queues)
            .map(|_| {
                if spec.pool_per_queue {
                    NativePool::new(dma.as_ref(), spec.pool_size, spec.buf_room, 128).expect("pool")
                } else {
                    pool.clone()
                }
            })
            .collect();
        let hdr_pool = spec.split.map(|(hdrs, room, _)| {
            port.set_hdr_split(Some(hdrs)).expect("split");
            NativePool::new(dma.as_ref(), spec.pool_size, room, 128).expect("header pool")
        });
        let rx = rx_pools
            .iter()
            .enumerate()
            .map(|(q, p)| {
                let cfg = RxConfig {
                    nb_desc: spec.rx_desc,
                    drop_en: spec.drop_en,
                    scatter: spec.scatter,
                    split: spec.split.map(|(_, _, max_hdr)| RxSplit { max_hdr }),
                };
                match &hdr_pool {
                    Some(h) => RxQueue::new_split(
                        &dyn_tp,
                        dma.as_ref(),
                        q as u32,
                        cfg,
                        p.clone(),
                        h.clone(),
                    ),
                    None => RxQueue::new(&dyn_tp, dma.as_ref(), q as u32, cfg, p.clone()),
                }
                .expect("rx queue")
                .with_stamps(port.stamps())
                .with_intr_coalesce(spec.intr)
            })
            .collect();
        let tx = (0..spec.tx_queues as u32)
            .map(|q| {
                TxQueue::new(
                    &dyn_tp,
                    dma.as_ref(),
                    q,
                    TxConfig {
                        nb_desc: spec.tx_desc,
                        fast_free: false,
                    },
                )
                .expect("tx queue")
                .with_stamps(port.stamps())
            })
            .collect();
        Self {
            tp,
            port,
            pool,
            rx_pools,
            hdr_pool,
            rx,
            tx,
        }
    }

    pub fn start(&mut self) -> Result<()> {
        let mut qs = Queues {
            rx: &mut self.rx,
            tx: &mut self.tx,
        };
        self.port.start(&mut qs)
    }

    pub fn stop(&mut self) -> Result<()> {
        let mut qs = Queues {
            rx: &mut self.rx,
            tx: &mut self.tx,
        };
        self.port.stop(&mut qs)
    }

    /// Sends every packet on Tx queue `q`, retrying while the ring is full (bounded).
    pub fn send_all(&mut self, q: usize, pkts: &[NativeBuf]) {
        let mut done = 0;
        let deadline = Instant::now() + Duration::from_secs(20);
        while done < pkts.len() {
            done += self.tx[q].burst(&pkts[done..]);
            if done < pkts.len() {
                assert!(
                    Instant::now() < deadline,
                    "Tx ring stuck: sent {done} of {}",
                    pkts.len()
                );
                std::thread::yield_now();
            }
        }
    }

    /// Polls every Rx queue until `n` packets arrived or `timeout` passed; returns them with
    /// the queue each came on.
    pub fn recv(&mut self, n: usize, timeout: Duration) -> Vec<(usize, NativeBuf)> {
        let mut got = Vec::with_capacity(n);
        let deadline = Instant::now() + timeout;
        let mut buf = [std::mem::MaybeUninit::uninit(); 32];
        while got.len() < n && Instant::now() < deadline {
            let mut any = false;
            for (qi, q) in self.rx.iter_mut().enumerate() {
                let k = q.burst(&mut buf);
                for b in &buf[..k] {
                    // SAFETY: burst initialised the first k entries.
                    got.push((qi, unsafe { b.assume_init() }));
                }
                any |= k > 0;
            }
            if !any {
                std::thread::yield_now();
            }
        }
        got
    }

    /// Drains every Tx queue's completions by sending nothing until all buffers are back.
    pub fn settle_tx(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        for q in self.tx.iter_mut() {
            while q.in_flight() > 0 && Instant::now() < deadline {
                q.cleanup();
                std::thread::yield_now();
            }
        }
    }

    pub fn reg(&self, r: u32) -> u32 {
        self.tp.read32(regs::Bar::Bar0, r)
    }
}

/// Two ports on one cable: `a` and `b`.
pub fn cabled_pair(spec_a: &PortSpec, spec_b: &PortSpec) -> (TestPort, TestPort) {
    let w = cable();
    let a = TestPort::new(&model("a", w.clone()), spec_a);
    let b = TestPort::new(&model("b", w), spec_b);
    (a, b)
}
