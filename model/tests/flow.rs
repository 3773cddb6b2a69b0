//! Drop modes, pause and back-pressure, DMA faults, ring control, link, wires, lifecycle.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use fbnic_hw::desc::{Twd, TwdType};
use fbnic_hw::regs::*;
use fbnic_model::{Bar, Fabric, FabricConfig, GenSource, Generator, Outside};

const T: Duration = Duration::from_secs(5);

fn frames(dst: fbnic_hw::MacAddr, n: usize, pay: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| udp4(dst, [10, 0, 0, 1], [10, 0, 0, 2], i as u16, 9, pay))
        .collect()
}

fn sport(f: &[u8]) -> u16 {
    u16::from_be_bytes([f[34], f[35]])
}

/// Sends `fr` through `tx` without waiting for completions (ring must be big enough).
fn push_all(tx: &mut TxQ, fr: &[Vec<u8>]) {
    for (i, f) in fr.iter().enumerate() {
        tx.queue_frame(
            f,
            1,
            Twd::meta()
                .with_dest_mac(true)
                .with_req_completion(i + 1 == fr.len()),
        );
    }
    tx.doorbell();
}

#[test]
fn drop_mode_immediate_counts_drops() {
    let (_f, a, b) = cabled_pair();
    let mut tx = TxQ::new(&a, 0, 1024, 0x1000_0000, 1 << 20);
    let cfg = RxCfg {
        rcq_entries: 64,
        ppq_entries: 16,
        ..Default::default()
    };
    let mut rx = RxQ::new(&b, 0, 0x2000_0000, &cfg);
    let fr = frames(b.mac_addr(), 200, 100);
    push_all(&mut tx, &fr);
    assert!(tx.wait_head(tx.tail), "Tx never stalls in immediate mode");
    // The receiver catches up after the sender's completion.
    assert!(wait_until(T, || r(&b, RDE_BDQ_DROP.at(0)) == 185));
    assert_eq!(r(&b, RDE_PKT_CNT.at(0)), 15);
    let got = rx.poll_with(false);
    assert_eq!(got.len(), 15, "15 buffers posted");
    assert_eq!(b.read_mac_stat(mac_stat::RX_OK), 200);
}

#[test]
fn drop_mode_wait_with_pause_is_lossless_and_ordered() {
    let f = fabric();
    let mut cfgb = dev_cfg(2);
    cfgb.rxb_bytes = 8 * 1024; // small RXB: pause kicks in fast
    let a = f.add_device(dev_cfg(1));
    let b = f.add_device(cfgb);
    f.connect(&a, &b).unwrap();
    port_up(&a, 0);
    port_up(&b, 0);
    let mut tx = TxQ::new(&a, 0, 1024, 0x1000_0000, 1 << 20);
    let cfg = RxCfg {
        rcq_entries: 64,
        ppq_entries: 16,
        drop_mode: DROP_MODE_WAIT,
        ..Default::default()
    };
    let mut rx = RxQ::new(&b, 0, 0x2000_0000, &cfg);
    let fr = frames(b.mac_addr(), 300, 200);
    push_all(&mut tx, &fr);
    std::thread::sleep(Duration::from_millis(50));
    // B has 15 buffers, an 8 KiB RXB; A is paused with descriptors still queued.
    tx.reap();
    assert_ne!(tx.head, tx.tail, "A's TWQ is stalled by pause");
    assert!(a.read_mac_stat(mac_stat::RX_XOFF) > 0, "A received pause");
    assert!(b.read_mac_stat(mac_stat::TX_XOFF) > 0, "B sent pause");
    let mut got = Vec::new();
    let t = Instant::now();
    while got.len() < 300 && t.elapsed() < T {
        got.extend(rx.poll());
    }
    assert_eq!(got.len(), 300);
    for (i, g) in got.iter().enumerate() {
        assert_eq!(sport(&g.data), i as u16, "in order");
    }
    assert_eq!(r(&b, RDE_BDQ_DROP.at(0)) + r(&b, RDE_CQ_DROP.at(0)), 0);
    assert_eq!(r(&b, rxb_drop_frms_sts(RXB_FIFO_HOST)), 0);
    assert!(tx.wait_head(tx.tail));
}

#[test]
fn rxb_overflow_without_pause_drops_and_counts() {
    let f = fabric();
    let mut cfgb = dev_cfg(2);
    cfgb.rxb_bytes = 4 * 1024;
    let a = f.add_device(dev_cfg(1));
    let b = f.add_device(cfgb);
    f.connect(&a, &b).unwrap();
    port_up(&a, 0);
    port_up(&b, 0);
    // A ignores pause.
    w(
        &a,
        MAC_COMMAND_CONFIG,
        MacCommandConfig::default()
            .with_tx_ena(true)
            .with_rx_ena(true)
            .with_tx_pad(true)
            .with_rx_pause_dis(true)
            .raw(),
    );
    let mut tx = TxQ::new(&a, 0, 1024, 0x1000_0000, 1 << 20);
    let cfg = RxCfg {
        rcq_entries: 64,
        ppq_entries: 16,
        drop_mode: DROP_MODE_WAIT,
        ..Default::default()
    };
    let mut rx = RxQ::new(&b, 0, 0x2000_0000, &cfg);
    let fr = frames(b.mac_addr(), 100, 200);
    push_all(&mut tx, &fr);
    assert!(tx.wait_head(tx.tail), "A never stalls");
    let mut got = Vec::new();
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(200) {
        got.extend(rx.poll());
    }
    let dropped = r(&b, rxb_drop_frms_sts(RXB_FIFO_HOST)) as usize;
    assert!(dropped > 0);
    assert_eq!(got.len() + dropped, 100, "every frame delivered or counted");
    assert_eq!(b.stats().rxb_drops as usize, dropped);
}

#[test]
fn dma_faults_are_counted_and_contained() {
    let (_f, a, b) = cabled_pair();
    let mut tx = TxQ::new(&a, 0, 64, 0x1000_0000, 1 << 20);
    let mut tx1 = TxQ::new(&a, 1, 64, 0x5000_0000, 1 << 20);
    let mut rx = RxQ::new(
        &b,
        0,
        0x2000_0000,
        &RxCfg {
            ppq_entries: 16,
            ..Default::default()
        },
    );
    // 1. Bad Tx buffer address: dropped, ERR_CNT, DMA fault, completion still written.
    tx.push_desc(Twd::meta().with_dest_mac(true).with_req_completion(true));
    tx.push_desc(Twd::al(0xdead_0000, 100, true));
    tx.doorbell();
    assert!(tx.wait_head(tx.tail), "completion for the bad packet");
    assert_eq!(r(&a, TWQ0_ERR_CNT.at(0)), 1);
    assert_eq!(r(&a, MASTER_DMA_FAULT_CNT), 1);
    assert_eq!(r(&a, MASTER_DMA_FAULT_ADDR_LO), 0xdead_0000);
    // Other queues keep working.
    let good = udp4(b.mac_addr(), [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 50);
    assert!(tx1.send1(&good));
    assert_eq!(rx.recv(1, T)[0].data, good);

    // 2. Bad Rx buffer address: the frame is cut (ERR_TRUNCATED), the buffer still returned,
    //    nothing written anywhere else (canary).
    let canary = HostMem::new(&b, 0x6000_0000, 8192);
    canary.fill(0x5a);
    let slot = rx.ppq_tail;
    rx.ppq.write_u64(
        slot as usize * 8,
        fbnic_hw::desc::BdqDesc::new(0x6000_2000 - 64, slot as u16).raw(),
    );
    // Post exactly this one next: it straddles the canary's end into unmapped memory.
    let _ = slot;
    // Consume the buffers already posted first, so the bad one is used.
    let posted = (rx.ppq_entries - 1) as usize;
    let fill = frames(b.mac_addr(), posted, 10);
    assert!(tx.send(&fill));
    assert_eq!(rx.recv(posted, T).len(), posted);
    // Now the device head is at `slot` (poll reposted other buffers after it: rewrite slot).
    let dev_head = RingPtrs::from_raw(r(&b, BDQ_PPQ_PTRS.at(0))).head();
    rx.ppq.write_u64(
        dev_head as usize * 8,
        fbnic_hw::desc::BdqDesc::new(0x6000_2000 - 64, 999).raw(),
    );
    let faults_before = r(&b, MASTER_DMA_FAULT_CNT);
    assert!(tx.send(&[udp4(b.mac_addr(), [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 300)]));
    let got = rx.recv(1, T);
    assert_eq!(got.len(), 1);
    assert!(got[0].meta.err_truncated());
    assert_eq!(got[0].als.len(), 1);
    assert_eq!(got[0].als[0].buff_id(), 999, "the buffer comes back");
    assert_eq!(got[0].als[0].len(), 0);
    assert_eq!(r(&b, MASTER_DMA_FAULT_CNT), faults_before + 1);
    assert!(
        canary.read_bytes(0, 8192).iter().all(|&x| x == 0x5a),
        "no stray write"
    );
    assert_eq!(r(&b, RDE_PKT_ERR.at(0)), 1);

    // 3. Bad ring base: the ring faults (counted), the other queue works.
    w(
        &a,
        TWQ0_CTL.at(2),
        QueueCtl::default().with_reset(true).raw(),
    );
    w(&a, TWQ0_BAL.at(2), 0x7700_0000);
    w(&a, TWQ0_BAH.at(2), 0);
    w(
        &a,
        TWQ0_SIZE.at(2),
        RingSize::for_entries(64).unwrap().raw(),
    );
    w(
        &a,
        TWQ0_CTL.at(2),
        QueueCtl::default().with_enable(true).raw(),
    );
    w(&a, TWQ0_TAIL.at(2), 2);
    assert!(wait_until(T, || a.stats().ring_faults == 1));
    assert!(tx1.send1(&good));
    assert_eq!(rx.recv(1, T)[0].data, good);
}

#[test]
fn malformed_tx_sequences_are_consumed_and_completed() {
    let (_f, a, b) = cabled_pair();
    let mut tx = TxQ::new(&a, 0, 256, 0x1000_0000, 1 << 20);
    let mut rx = RxQ::new(&b, 0, 0x2000_0000, &RxCfg::default());
    let f = udp4(b.mac_addr(), [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 50);
    let addr = tx.stage(&f);
    // Too many pieces (65 of 2 bytes).
    tx.push_desc(Twd::meta().with_dest_mac(true));
    for i in 0..65 {
        tx.push_desc(Twd::al(addr + 2 * i, 2, i == 64));
    }
    // AL without META.
    tx.push_desc(Twd::al(addr, f.len() as u16, true));
    // META then a zero-length piece.
    tx.push_desc(Twd::meta().with_dest_mac(true));
    tx.push_desc(Twd::al(addr, 0, true));
    // LSO (not modelled).
    tx.push_desc(Twd::meta().with_dest_mac(true).with_req_lso(true));
    tx.push_desc(Twd::al(addr, f.len() as u16, true));
    // Oversize (10000 bytes in two pieces).
    tx.push_desc(Twd::meta().with_dest_mac(true));
    tx.push_desc(Twd::al(addr, 5000, false));
    tx.push_desc(Twd::al(addr, 5000, true));
    // A good one with a completion.
    tx.push_desc(Twd::meta().with_dest_mac(true).with_req_completion(true));
    tx.push_desc(Twd::al(addr, f.len() as u16, true));
    tx.doorbell();
    assert!(tx.wait_head(tx.tail));
    assert_eq!(r(&a, TWQ0_ERR_CNT.at(0)), 5);
    assert_eq!(r(&a, TWQ0_PKT_CNT.at(0)), 1);
    assert_eq!(rx.recv(1, T)[0].data, f);
    // A tail beyond the ring is ignored and counted.
    let errs = r(&a, TWQ0_ERR_CNT.at(0));
    w(&a, TWQ0_TAIL.at(0), 256);
    assert!(wait_until(T, || r(&a, TWQ0_ERR_CNT.at(0)) == errs + 1));
    assert!(tx.send1(&f));
    assert_eq!(rx.recv(1, T)[0].data, f);
    let _ = TwdType::Meta;
}

#[test]
fn ring_reset_enable_disable_and_idle_bits() {
    let f = fabric();
    let a = f.add_device(dev_cfg(1));
    let idle = |bank: fn(u32) -> u32, q: u32| {
        let (reg, bit) = idle_bit(bank, q);
        r(&a, reg) & bit != 0
    };
    assert!(idle(qm_twq_idle, 5) && idle(qm_rcq_idle, 5) && idle(qm_ppq_idle, 5));
    assert_eq!(
        r(&a, qm_twq_idle(6)),
        u32::MAX,
        "unused TWQ idle registers read all-ones"
    );
    let _tx = TxQ::new(&a, 5, 64, 0x1000_0000, 4096);
    assert!(!idle(qm_twq_idle, 5) && !idle(qm_tcq_idle, 5));
    assert!(idle(qm_twq_idle, 4) && idle(qm_twq_idle, 6));
    let _rx = RxQ::new(&a, 5, 0x2000_0000, &RxCfg::default());
    assert!(!idle(qm_rcq_idle, 5) && !idle(qm_ppq_idle, 5));
    // PPQ_PTRS shows the posted tail.
    assert!(wait_until(T, || RingPtrs::from_raw(r(
        &a,
        BDQ_PPQ_PTRS.at(5)
    ))
    .tail()
        == 127));
    // Disable: idle again at once.
    w(&a, TWQ0_CTL.at(5), 0);
    w(&a, RCQ_CTL.at(5), 0);
    w(&a, BDQ_CTL.at(5), 0);
    w(&a, TCQ_CTL.at(5), 0);
    assert!(
        idle(qm_twq_idle, 5)
            && idle(qm_rcq_idle, 5)
            && idle(qm_ppq_idle, 5)
            && idle(qm_tcq_idle, 5)
    );
    // Reset zeroes pointers and doorbells.
    w(
        &a,
        BDQ_CTL.at(5),
        QueueCtl::default().with_reset(true).raw(),
    );
    assert_eq!(r(&a, BDQ_PPQ_PTRS.at(5)), 0);
    assert_eq!(r(&a, BDQ_PPQ_TAIL.at(5)), 0);
    // Invalid size (log2 = 3) and misaligned base are refused and counted.
    w(
        &a,
        TWQ0_CTL.at(7),
        QueueCtl::default().with_reset(true).raw(),
    );
    w(&a, TWQ0_SIZE.at(7), 3);
    w(
        &a,
        TWQ0_CTL.at(7),
        QueueCtl::default().with_enable(true).raw(),
    );
    w(
        &a,
        TCQ_CTL.at(7),
        QueueCtl::default().with_reset(true).raw(),
    );
    w(&a, TCQ_SIZE.at(7), 4);
    w(&a, TCQ_BAL.at(7), 0x1040);
    w(
        &a,
        TCQ_CTL.at(7),
        QueueCtl::default().with_enable(true).raw(),
    );
    assert_eq!(a.stats().ring_config_errors, 2);
    // Counters and PTRS are read-only.
    w(&a, TWQ0_PKT_CNT.at(5), 77);
    assert_eq!(r(&a, TWQ0_PKT_CNT.at(5)), 0);
}

#[test]
fn link_bits_follow_wire_and_mac() {
    let f = fabric();
    let a = f.add_device(dev_cfg(1));
    let b = f.add_device(dev_cfg(2));
    let link = |d: &fbnic_model::Device| r(d, SIG_PCS_OUT0) & SIG_PCS_OUT0_LINK != 0;
    let on = MacCommandConfig::default()
        .with_tx_ena(true)
        .with_rx_ena(true)
        .raw();
    w(&a, MAC_COMMAND_CONFIG, on);
    assert!(!link(&a), "no wire");
    f.connect(&a, &b).unwrap();
    assert!(!link(&a), "peer MAC off");
    w(&b, MAC_COMMAND_CONFIG, on);
    assert!(link(&a) && link(&b));
    assert_eq!(
        r(&a, SIG_PCS_INTR_STS) & SIG_PCS_INTR_LINK_UP,
        SIG_PCS_INTR_LINK_UP
    );
    w(&a, SIG_PCS_INTR_STS, SIG_PCS_INTR_LINK_UP);
    assert_eq!(r(&a, SIG_PCS_INTR_STS), 0, "write 1 to clear");
    f.disconnect(&b);
    assert!(!link(&a) && !link(&b));
    assert_ne!(r(&a, SIG_PCS_INTR_STS) & SIG_PCS_INTR_LINK_DOWN, 0);
    // MAC loopback needs no wire.
    w(
        &a,
        MAC_COMMAND_CONFIG,
        MacCommandConfig::from_raw(on).with_loopback(true).raw(),
    );
    assert!(link(&a));
    w(&a, MAC_COMMAND_CONFIG, on);
    f.loop_back(&a).unwrap();
    assert!(link(&a));
    let _s = f.attach_sink(&b);
    assert!(link(&b));
    // FEC counters stay 0 unless a fault injects errors.
    assert_eq!(a.read_mac_stat(RSFEC_CCW_LO), 0);
    a.inject_fec_errors(5, 1);
    a.inject_fec_errors(0x1_0000_0000, 0);
    assert_eq!(a.read_mac_stat(RSFEC_CCW_LO), 0x1_0000_0005);
    assert_eq!(a.read_mac_stat(RSFEC_NCCW_LO), 1);
}

#[test]
fn loopbacks_generator_sink_and_mtu() {
    let f = fabric();
    let a = f.add_device(dev_cfg(1));
    port_up(&a, 0);
    let mut tx = TxQ::new(&a, 0, 64, 0x1000_0000, 1 << 20);
    let mut rx = RxQ::new(&a, 0, 0x2000_0000, &RxCfg::default());
    let fr = udp4(a.mac_addr(), [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 64);
    // MAC loopback.
    w(
        &a,
        MAC_COMMAND_CONFIG,
        MacCommandConfig::default()
            .with_tx_ena(true)
            .with_rx_ena(true)
            .with_tx_pad(true)
            .with_loopback(true)
            .raw(),
    );
    assert!(tx.send1(&fr));
    assert_eq!(rx.recv(1, T)[0].data, fr);
    // Loop plug.
    port_up(&a, 0);
    f.loop_back(&a).unwrap();
    assert!(tx.send1(&fr));
    assert_eq!(rx.recv(1, T)[0].data, fr);
    // Sink.
    let sink = f.attach_sink(&a);
    assert!(tx.send(&[fr.clone(), fr.clone()]));
    assert!(sink.wait_frames(2, T));
    assert_eq!(sink.copies(), vec![fr.clone(), fr.clone()]);
    assert_eq!(sink.bytes(), 2 * fr.len() as u64);
    // No wire: counted and discarded.
    f.disconnect(&a);
    assert!(tx.send1(&fr));
    assert_eq!(a.stats().tx_no_wire, 1);
    // Generator with a list, then MTU.
    let g = f
        .attach_generator(
            &a,
            Generator::once(vec![fr.clone(), fr.clone(), fr.clone()]),
        )
        .unwrap();
    assert!(g.wait_done(T));
    assert_eq!(rx.recv(3, T).len(), 3);
    let big = udp4(a.mac_addr(), [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 1600);
    w(
        &a,
        RPC_RMI_CONFIG,
        RmiConfig::default().with_enable(true).with_mtu(1514).raw(),
    );
    let g = f
        .attach_generator(&a, Generator::once(vec![big, fr.clone()]))
        .unwrap();
    assert!(g.wait_done(T));
    assert_eq!(rx.recv(1, T).len(), 1);
    assert!(wait_until(T, || r(&a, RPC_CNTR_OVR_SIZE_ERR) == 1));
    // A rate-limited closure generator.
    let mac = a.mac_addr();
    let g = f
        .attach_generator(
            &a,
            Generator {
                source: GenSource::Func(Box::new(move |seq, buf| {
                    let f = udp4(mac, [1, 1, 1, 1], [2, 2, 2, 2], seq as u16, 2, 30);
                    buf[..f.len()].copy_from_slice(&f);
                    f.len()
                })),
                rate_pps: Some(2000),
                count: Some(20),
            },
        )
        .unwrap();
    let t = Instant::now();
    assert!(g.wait_done(T));
    assert!(t.elapsed() >= Duration::from_millis(8), "rate limited");
    let got = rx.recv(20, T);
    assert_eq!(got.len(), 20);
    assert_eq!(sport(&got[19].data), 19);
}

/// A link partner outside the model for the test: frames queued for the port, frames the
/// port sent, and a switch that makes it refuse frames.
#[derive(Debug, Default)]
struct FakeOutside {
    to_port: Mutex<std::collections::VecDeque<Vec<u8>>>,
    from_port: Mutex<Vec<Vec<u8>>>,
    refuse: std::sync::atomic::AtomicBool,
}

/// The fake as the model holds it (the test keeps another reference).
#[derive(Debug)]
struct Partner(Arc<FakeOutside>);

impl Outside for Partner {
    fn send(&self, frame: &[u8]) -> bool {
        if self.0.refuse.load(std::sync::atomic::Ordering::Relaxed) {
            return false;
        }
        self.0.from_port.lock().unwrap().push(frame.to_vec());
        true
    }

    fn recv(&self, buf: &mut [u8]) -> Option<usize> {
        let f = self.0.to_port.lock().unwrap().pop_front()?;
        buf[..f.len()].copy_from_slice(&f);
        Some(f.len())
    }
}

/// A port wired to a partner outside the model (what `wire=tap:` uses): the link is up,
/// what the port sends reaches the partner as sent, what the partner has reaches the port's
/// queue (a 42-byte frame padded to 60 as a partner's MAC would), frames the partner
/// refuses are counted, and a port whose receiver is off drops the partner's frames and
/// counts them.
#[test]
fn outside_partner_sends_and_receives() {
    let f = fabric();
    let a = f.add_device(dev_cfg(1));
    port_up(&a, 0);
    let mut tx = TxQ::new(&a, 0, 64, 0x1000_0000, 1 << 20);
    let mut rx = RxQ::new(&a, 0, 0x2000_0000, &RxCfg::default());
    let partner = Arc::new(FakeOutside::default());
    let h = f
        .attach_outside(&a, Box::new(Partner(partner.clone())))
        .unwrap();
    assert_ne!(r(&a, SIG_PCS_OUT0) & SIG_PCS_OUT0_LINK, 0, "link up");
    let fr = udp4(a.mac_addr(), [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 64);
    assert!(tx.send(&[fr.clone(), fr.clone()]));
    assert!(wait_until(T, || h.sent() == 2));
    assert_eq!(
        *partner.from_port.lock().unwrap(),
        vec![fr.clone(), fr.clone()]
    );
    // From the partner: a full frame and a short one (an ARP request is 42 bytes).
    let mut short = fr[..42].to_vec();
    short[12..14].copy_from_slice(&[0x08, 0x06]);
    partner
        .to_port
        .lock()
        .unwrap()
        .extend([fr.clone(), short.clone()]);
    let got = rx.recv(2, T);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].data, fr);
    let mut padded = short.clone();
    padded.resize(60, 0);
    assert_eq!(got[1].data, padded);
    assert_eq!(h.received(), 2);
    assert_eq!(h.rx_dropped(), 0);
    // A partner that cannot take a frame: lost on the wire, counted.
    partner
        .refuse
        .store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(tx.send1(&fr));
    assert!(wait_until(T, || h.send_failed() == 1));
    assert_eq!(h.sent(), 2);
    // The port's receiver off: the partner's frame is dropped at the MAC and counted.
    w(
        &a,
        MAC_COMMAND_CONFIG,
        MacCommandConfig::default().with_tx_ena(true).raw(),
    );
    partner.to_port.lock().unwrap().push_back(fr.clone());
    assert!(wait_until(T, || h.rx_dropped() == 1));
    assert_eq!(h.received(), 3);
}

#[test]
fn disabled_receivers_drop_and_count() {
    let (_f, a, b) = cabled_pair();
    let mut tx = TxQ::new(&a, 0, 64, 0x1000_0000, 1 << 20);
    let fr = udp4(b.mac_addr(), [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 64);
    // No Rx queue on B yet: dropped as to an unconfigured queue.
    assert!(tx.send1(&fr));
    assert!(wait_until(T, || b.stats().rx_queue_drops == 1));
    w(&b, RPC_RMI_CONFIG, 0);
    assert!(tx.send1(&fr));
    assert!(wait_until(T, || b.stats().rx_disabled_drops == 1));
    w(&b, MAC_COMMAND_CONFIG, 0);
    assert!(tx.send(&[fr]));
    assert!(wait_until(T, || b.stats().rx_disabled_drops == 2));
}

#[test]
fn transport_surface_edges() {
    let f = fabric();
    let a = f.add_device(dev_cfg(1));
    assert_eq!(a.read32(Bar::Bar0, BAR0_DWORDS), u32::MAX);
    assert_eq!(a.read32(Bar::Bar4, BAR4_DWORDS + 5), u32::MAX);
    a.write32(Bar::Bar0, u32::MAX, 1); // ignored, no panic
    assert!(a.reg_ptr(Bar::Bar0, BAR0_DWORDS).is_none());
    assert_ne!(a.read32(Bar::Bar0, MASTER_SPARE_0), u32::MAX);
    assert_eq!(a.dsn(), dev_cfg(1).dsn);
    let p1 = a.reg_ptr(Bar::Bar0, TWQ0_TAIL.at(3)).unwrap();
    let p2 = a.reg_ptr(Bar::Bar0, TWQ0_TAIL.at(3)).unwrap();
    assert_eq!(p1, p2);
    // Overlapping maps are refused.
    let _m = HostMem::new(&a, 0x1000_0000, 8192);
    let mut other = vec![0u64; 1024];
    // SAFETY: `other` outlives the mapping attempt, which fails anyway.
    let e = unsafe { a.dma_map(0x1000_1000, other.as_mut_ptr().cast(), 8192) };
    assert_eq!(e, Err(fbnic_model::ModelError::Overlap));
}

#[test]
fn failed_device_reads_all_ones_and_others_continue() {
    let (f, a, b) = cabled_pair();
    let c = f.add_device(dev_cfg(3));
    a.debug_inject_engine_panic();
    assert!(wait_until(T, || a.is_failed()));
    assert_eq!(r(&a, MASTER_SPARE_0), u32::MAX);
    assert_eq!(r(&a, SIG_PCS_OUT0), u32::MAX);
    // b and c still work: c loops back to itself.
    port_up(&c, 0);
    f.loop_back(&c).unwrap();
    let mut tx = TxQ::new(&c, 0, 64, 0x1000_0000, 1 << 20);
    let mut rx = RxQ::new(&c, 0, 0x2000_0000, &RxCfg::default());
    let fr = udp4(c.mac_addr(), [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 64);
    assert!(tx.send1(&fr));
    assert_eq!(rx.recv(1, T)[0].data, fr);
    assert!(!b.is_failed());
}

#[test]
fn shutdown_and_remove_join_quickly() {
    let t = Instant::now();
    for _ in 0..5 {
        let f = Fabric::new(FabricConfig::default());
        let a = f.add_device(dev_cfg(1));
        let b = f.add_device(dev_cfg(2));
        f.connect(&a, &b).unwrap();
        port_up(&a, 0);
        port_up(&b, 0);
        f.remove_device(&b);
        assert_eq!(
            r(&a, SIG_PCS_OUT0) & SIG_PCS_OUT0_LINK,
            0,
            "peer removed: link down"
        );
        assert_eq!(f.connect(&a, &b), Err(fbnic_model::ModelError::NotInFabric));
        f.shutdown();
        f.shutdown();
        drop(f);
        // The device outlives the fabric and stays readable.
        assert_ne!(r(&a, MASTER_SPARE_0), u32::MAX);
    }
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_frame_bigger_than_the_rings_is_cut_not_stuck() {
    let (_f, a, b) = cabled_pair();
    let mut tx = TxQ::new(&a, 0, 64, 0x1000_0000, 1 << 20);
    // 16 PPQ buffers of 256 bytes: at most 15 buffers for a 9000-byte frame.
    let cfg = RxCfg {
        rcq_entries: 64,
        ppq_entries: 16,
        buf_len: 256,
        hroom: 0,
        drop_mode: DROP_MODE_WAIT,
        ..Default::default()
    };
    let mut rx = RxQ::new(&b, 0, 0x2000_0000, &cfg);
    let big = udp4(b.mac_addr(), [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 9000 - 42);
    let small = udp4(b.mac_addr(), [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 20);
    assert!(tx.send(&[big.clone(), small.clone()]));
    let got = rx.recv(2, T);
    assert_eq!(got.len(), 2);
    assert!(got[0].meta.err_truncated());
    assert_eq!(got[0].als.len(), 15);
    assert_eq!(got[0].data[..], big[..15 * 256]);
    assert_eq!(got[1].data, small);
}

#[test]
fn tx_destinations_and_disabled_mac() {
    let f = fabric();
    let mut cfg = dev_cfg(1);
    cfg.bmc = Some(fbnic_model::BmcConfig {
        macs: vec![fbnic_hw::MacAddr([2, 0xbb, 0, 0, 0, 1])],
        all_multi: false,
    });
    let a = f.add_device(cfg);
    let b = f.add_device(dev_cfg(2));
    f.connect(&a, &b).unwrap();
    port_up(&a, 0);
    port_up(&b, 0);
    let mut tx = TxQ::new(&a, 0, 64, 0x1000_0000, 1 << 20);
    let mut rx = RxQ::new(&b, 0, 0x2000_0000, &RxCfg::default());
    let fr = udp4(b.mac_addr(), [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 30);
    // DEST_BMC only: the BMC gets it, the wire does not.
    tx.queue_frame(
        &fr,
        1,
        Twd::meta().with_dest_bmc(true).with_req_completion(true),
    );
    // DEST_FW only: discarded by the firmware, counted.
    tx.queue_frame(
        &fr,
        1,
        Twd::meta().with_dest_fw(true).with_req_completion(true),
    );
    tx.doorbell();
    assert!(tx.wait_head(tx.tail));
    let bmc = a.bmc().unwrap();
    assert!(wait_until(T, || bmc.received() == 1));
    assert_eq!(a.stats().host_frames_to_bmc, 1);
    assert_eq!(a.stats().tx_to_fw, 1);
    assert!(rx.recv(1, Duration::from_millis(30)).is_empty());
    // TX_ENA clear: consumed and dropped, nothing on the wire.
    w(
        &a,
        MAC_COMMAND_CONFIG,
        MacCommandConfig::default().with_rx_ena(true).raw(),
    );
    assert!(tx.send1(&fr));
    assert_eq!(a.stats().tx_mac_disabled, 1);
    assert!(rx.recv(1, Duration::from_millis(30)).is_empty());
}

#[test]
fn generator_honours_pause() {
    let f = fabric();
    let mut cfg = dev_cfg(1);
    cfg.rxb_bytes = 4096;
    let a = f.add_device(cfg);
    port_up(&a, 0);
    let fr = udp4(a.mac_addr(), [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 200);
    let wait = RxCfg {
        rcq_entries: 64,
        ppq_entries: 16,
        drop_mode: DROP_MODE_WAIT,
        ..Default::default()
    };
    let mut rx = RxQ::new(&a, 0, 0x2000_0000, &wait);
    let g = f
        .attach_generator(
            &a,
            Generator {
                source: GenSource::List(vec![fr]),
                rate_pps: None,
                count: Some(100),
            },
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(30));
    assert!(!g.is_done(), "paused by the full RXB");
    let mut got = 0;
    let t = Instant::now();
    while got < 100 && t.elapsed() < T {
        got += rx.poll().len();
    }
    assert_eq!(got, 100);
    assert_eq!(g.dropped(), 0);
    assert!(g.wait_done(T));
}
