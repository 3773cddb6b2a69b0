//! Control path against the model: Rx filters, the BMC, the firmware handshake and its
//! failures, DMA faults, and stop/start cycles that must not lose a buffer.

mod common;

use std::time::{Duration, Instant};

use common::pkt::{csum_add, csum_fold, frame, l4_csum_ok, parse_seq, Flow};
use common::{cable, cabled_pair, model, test_timeouts, PortSpec, TestPort};
use fbnic_hw::mac::MacAddr;
use fbnic_hw::regs::{self, Bar, MacCommandConfig};
use fbnic_hw::version::FwVersion;
use fbnic_model::FwFaults;
use rte_net_fbnic::buf::PktBuf;
use rte_net_fbnic::embedded::bmc_mac_for;
use rte_net_fbnic::native::NativeBuf;
use rte_net_fbnic::{Error, FwRecovery, Transport};

fn flow() -> Flow {
    Flow::v4(false, [10, 0, 0, 1], [10, 0, 0, 2], 1000, 2000)
}

/// Sends one frame to `dst` from `b` and returns how many frames `a` received within a short
/// wait (0 or 1).
fn deliver(a: &mut TestPort, b: &mut TestPort, dst: MacAddr, seq: u64) -> usize {
    deliver_flow(a, b, dst, &flow(), seq, Duration::from_millis(300)).len()
}

/// Sends one frame of `flow` to `dst` from `b` and returns the queues of `a` it arrived on
/// within `wait` (none or one; checked to be that frame).
fn deliver_flow(
    a: &mut TestPort,
    b: &mut TestPort,
    dst: MacAddr,
    flow: &Flow,
    seq: u64,
    wait: Duration,
) -> Vec<usize> {
    let f = frame(dst, b.port.perm_addr(), flow, 128, seq);
    let p = b.pool.packet(&f).unwrap();
    b.send_all(0, &[p]);
    let got = a.recv(1, wait);
    for (_, buf) in &got {
        assert_eq!(parse_seq(&buf.to_vec()), Some(seq), "{flow:?}");
    }
    let queues = got.iter().map(|(q, _)| *q).collect();
    got.into_iter().for_each(|(_, buf)| buf.free_pkt());
    b.settle_tx();
    queues
}

#[test]
fn mac_filters_unicast_multicast_broadcast_promiscuous() {
    let (mut a, mut b) = cabled_pair(&PortSpec::default(), &PortSpec::default());
    a.start().unwrap();
    b.start().unwrap();
    let own = a.port.perm_addr();
    let other = MacAddr([0x02, 0x77, 0, 0, 0, 1]);
    let mcast = MacAddr([0x01, 0x00, 0x5e, 0x00, 0x00, 0x07]);
    let miss0 = a.port.counters().device("rpc_macda_miss_drops").unwrap();

    assert_eq!(deliver(&mut a, &mut b, own, 1), 1, "own unicast accepted");
    assert_eq!(
        deliver(&mut a, &mut b, MacAddr::BROADCAST, 2),
        1,
        "broadcast accepted"
    );
    assert_eq!(
        deliver(&mut a, &mut b, other, 3),
        0,
        "other unicast dropped"
    );
    assert_eq!(
        deliver(&mut a, &mut b, mcast, 4),
        0,
        "unjoined multicast dropped"
    );
    let miss = a.port.counters().device("rpc_macda_miss_drops").unwrap() - miss0;
    assert_eq!(miss, 2, "the two drops are counted as MAC DA misses");

    a.port
        .update_filters(|f| {
            f.promisc = true;
            Ok(())
        })
        .unwrap();
    assert_eq!(
        deliver(&mut a, &mut b, other, 5),
        1,
        "promiscuous accepts other unicast"
    );
    assert_eq!(
        deliver(&mut a, &mut b, mcast, 6),
        1,
        "promiscuous accepts multicast"
    );
    a.port
        .update_filters(|f| {
            f.promisc = false;
            Ok(())
        })
        .unwrap();
    assert_eq!(
        deliver(&mut a, &mut b, other, 7),
        0,
        "promiscuous off again"
    );

    a.port
        .update_filters(|f| {
            f.mc.push(mcast);
            Ok(())
        })
        .unwrap();
    assert_eq!(
        deliver(&mut a, &mut b, mcast, 8),
        1,
        "joined multicast accepted"
    );
    assert_eq!(
        deliver(&mut a, &mut b, MacAddr([1, 0, 0x5e, 0, 0, 9]), 9),
        0,
        "other multicast dropped"
    );
    a.port
        .update_filters(|f| {
            f.mc.clear();
            f.allmulti = true;
            Ok(())
        })
        .unwrap();
    assert_eq!(
        deliver(&mut a, &mut b, MacAddr([1, 0, 0x5e, 0, 0, 9]), 10),
        1,
        "all-multicast"
    );
    assert_eq!(
        deliver(&mut a, &mut b, other, 11),
        0,
        "all-multicast is not promiscuous"
    );

    let extra = MacAddr([0x02, 0x55, 0, 0, 0, 2]);
    a.port
        .update_filters(|f| {
            f.uc.push(extra);
            Ok(())
        })
        .unwrap();
    assert_eq!(
        deliver(&mut a, &mut b, extra, 12),
        1,
        "extra unicast accepted"
    );
    // The sync is a mailbox message the firmware handles on its own thread: wait for it.
    let synced = |s: &Option<fbnic_model::MacSync>| {
        s.as_ref()
            .is_some_and(|s| s.uc.contains(&extra) && s.uc.contains(&own))
    };
    let t = Instant::now();
    while !synced(&a.tp.device().fw_state().last_mac_sync) && t.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(2));
    }
    let sync =
        a.tp.device()
            .fw_state()
            .last_mac_sync
            .expect("filters synced to the firmware");
    assert!(sync.uc.contains(&extra) && sync.uc.contains(&own));
    assert_eq!(sync.rx_flags & 2, 2, "all-multi flag synced");

    assert!(
        a.port
            .update_filters(|f| {
                f.primary = MacAddr([1, 2, 3, 4, 5, 6]);
                Ok(())
            })
            .is_err(),
        "a multicast primary address is refused"
    );

    a.stop().unwrap();
    b.stop().unwrap();
    assert_eq!(a.pool.available(), a.pool.capacity());
}

#[test]
fn bmc_frames_go_to_the_bmc_never_to_host_queues() {
    let w = cable();
    let mut oa = model("bmc", w.clone());
    oa.bmc = true;
    let mut a = TestPort::new(
        &oa,
        &PortSpec {
            rx_queues: 4,
            ..Default::default()
        },
    );
    let mut b = TestPort::new(&model("peer", w), &PortSpec::default());
    a.start().unwrap();
    b.start().unwrap();
    let bmc = a.tp.device().bmc().expect("model has a BMC");
    let bmc_mac = bmc_mac_for(a.port.perm_addr());
    assert_eq!(
        a.port.bmc().unwrap().macs,
        vec![bmc_mac],
        "the driver learned the BMC address"
    );
    // Even promiscuous, the host must not see the BMC's traffic.
    a.port
        .update_filters(|f| {
            f.promisc = true;
            Ok(())
        })
        .unwrap();
    let before = bmc.received();
    for seq in 0..50 {
        assert_eq!(
            deliver(&mut a, &mut b, bmc_mac, seq),
            0,
            "BMC frame {seq} reached the host"
        );
    }
    assert_eq!(
        bmc.received() - before,
        50,
        "the BMC got every frame addressed to it"
    );
    let own = a.port.perm_addr();
    assert_eq!(
        deliver(&mut a, &mut b, own, 99),
        1,
        "host traffic still flows"
    );
    assert_eq!(bmc.received() - before, 50, "and does not go to the BMC");
    a.stop().unwrap();
    // With the host stopped, the BMC keeps receiving (its rules and the MAC stay up).
    let f = frame(bmc_mac, b.port.perm_addr(), &flow(), 100, 1000);
    b.send_all(0, &[b.pool.packet(&f).unwrap()]);
    let t = Instant::now();
    while bmc.received() - before < 51 && t.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        bmc.received() - before,
        51,
        "BMC traffic survives the host port stop"
    );
    b.stop().unwrap();
}

#[test]
fn start_performs_caps_ownership_heartbeat() {
    let mut a = TestPort::new(&model("fw", cable()), &PortSpec::default());
    let fw0 = a.tp.device().fw_state();
    assert!(!fw0.owner && fw0.caps_answered == 0);
    a.start().unwrap();
    // The filter sync at the end of start is posted without waiting for a reply: give the
    // firmware a moment to read it.
    let t = Instant::now();
    while a.tp.device().fw_state().history.len() < 4 && t.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(2));
    }
    let fw = a.tp.device().fw_state();
    assert_eq!(
        &fw.history[..4],
        &[
            "HOST_CAP_REQ",
            "OWNERSHIP_REQ",
            "HEARTBEAT_REQ",
            "RPC_MAC_SYNC_REQ"
        ],
        "start talks to the firmware in the order of spec 5.2"
    );
    assert_eq!(fw.caps_answered, 1, "one capabilities exchange");
    assert!(fw.owner, "ownership taken");
    assert!(fw.heartbeats_answered >= 1, "first heartbeat answered");
    assert!(a.port.fw_owner());
    assert_eq!(a.port.fw_version(), Some(a.tp.device().config().fw.version));
    let link = a.port.link();
    assert_eq!(
        link.speed,
        Some(fbnic_hw::LinkSpeed::G100Cr2),
        "link speed from the firmware"
    );

    // The service routine keeps the heartbeat going.
    let hb = fw.heartbeats_answered;
    for _ in 0..5 {
        std::thread::sleep(test_timeouts().heartbeat);
        a.port.service();
    }
    assert!(a.tp.device().fw_state().heartbeats_answered >= hb + 3);
    assert!(!a.port.fw_dead());

    a.stop().unwrap();
    let fw = a.tp.device().fw_state();
    assert!(!fw.owner, "stop releases ownership");
    assert_eq!(
        fw.last_request,
        Some("OWNERSHIP_REQ"),
        "release is the last message"
    );
}

/// Start must fail within `limit` with an error matching `check`, and leave nothing running.
fn start_fails(
    faults: FwFaults,
    version: Option<FwVersion>,
    limit: Duration,
    check: impl Fn(&Error) -> bool,
) {
    let mut o = model("bad", cable());
    o.fw_version = version;
    let mut a = TestPort::new(&o, &PortSpec::default());
    a.tp.set_fw_faults(faults.clone());
    let t = Instant::now();
    let err = a.start().expect_err("start must fail");
    let took = t.elapsed();
    assert!(check(&err), "unexpected error for {faults:?}: {err}");
    assert!(took < limit, "start failed only after {took:?} ({err})");
    assert!(!err.to_string().is_empty());
    assert!(!a.port.is_started());
    assert!(!a.port.fw_owner());
    assert!(a.rx.iter().all(|q| !q.is_running()) && a.tx.iter().all(|q| !q.is_running()));
    assert_eq!(
        a.pool.available(),
        a.pool.capacity(),
        "no buffer posted after a failed start"
    );
    let mac = MacCommandConfig::from_raw(a.tp.read32(Bar::Bar0, regs::MAC_COMMAND_CONFIG));
    assert!(!mac.rx_ena() && !mac.tx_ena(), "MAC left disabled");
    assert_eq!(
        a.tp.read32(Bar::Bar0, regs::PUL_OB_TLP_HDR_AW_CFG) & regs::PUL_OB_TLP_HDR_BME,
        0,
        "mailbox DMA off"
    );
    // A healthy firmware afterwards: the same port starts.
    a.tp.set_fw_faults(FwFaults::default());
    if version.is_none() {
        a.start().expect("start after the fault is cleared");
        a.stop().unwrap();
    }
}

#[test]
fn firmware_without_signs_of_life_fails_start() {
    let t = test_timeouts();
    start_fails(
        FwFaults {
            no_signs_of_life: true,
            ..Default::default()
        },
        None,
        t.alive + Duration::from_millis(500),
        |e| matches!(e, Error::Timeout { what, .. } if what.contains("signs of life")),
    );
}

#[test]
fn firmware_ignoring_ownership_fails_start() {
    let t = test_timeouts();
    start_fails(
        FwFaults {
            ignore_ownership: true,
            ..Default::default()
        },
        None,
        t.ownership + Duration::from_millis(500),
        |e| matches!(e, Error::Timeout { what, .. } if what.contains("ownership")),
    );
}

#[test]
fn firmware_sending_malformed_messages_fails_start() {
    start_fails(
        FwFaults {
            malformed_response: true,
            ..Default::default()
        },
        None,
        Duration::from_secs(2),
        |e| matches!(e, Error::Firmware(m) if m.contains("malformed")),
    );
}

#[test]
fn old_firmware_is_refused() {
    start_fails(
        FwFaults::default(),
        Some(FwVersion::new(0, 10, 5, 9)),
        Duration::from_secs(2),
        |e| {
            matches!(e, Error::FirmwareTooOld { found, .. } if *found == FwVersion::new(0, 10, 5, 9))
                && e.to_string().contains("0.10.6.0")
        },
    );
}

#[test]
fn firmware_restart_is_detected_and_ownership_restored() {
    let mut a = TestPort::new(&model("crash", cable()), &PortSpec::default());
    a.start().unwrap();
    assert!(a.tp.device().fw_state().owner);
    // Let the firmware run a while, so that after the crash its uptime visibly restarts.
    for _ in 0..6 {
        std::thread::sleep(test_timeouts().heartbeat);
        a.port.service();
    }
    a.tp.set_fw_faults(FwFaults {
        crash: true,
        ..Default::default()
    });
    assert!(!a.tp.device().fw_state().owner, "the crash loses ownership");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut notes = Vec::new();
    while !(a.tp.device().fw_state().owner && a.tp.device().fw_state().boots >= 2) {
        assert!(
            Instant::now() < deadline,
            "ownership not restored after the firmware restart"
        );
        std::thread::sleep(test_timeouts().heartbeat);
        a.port.service_notify(|r| notes.push(r));
    }
    assert_eq!(notes, [FwRecovery::Started, FwRecovery::Succeeded]);
    assert!(!a.port.fw_dead());
    a.stop().unwrap();
}

#[test]
fn firmware_restart_refusing_ownership_reports_a_failed_recovery() {
    let mut a = TestPort::new(&model("crash-own", cable()), &PortSpec::default());
    a.start().unwrap();
    for _ in 0..6 {
        std::thread::sleep(test_timeouts().heartbeat);
        a.port.service();
    }
    a.tp.set_fw_faults(FwFaults {
        crash: true,
        ignore_ownership: true,
        ..Default::default()
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut notes = Vec::new();
    while notes.len() < 2 {
        assert!(Instant::now() < deadline, "no recovery reported: {notes:?}");
        std::thread::sleep(test_timeouts().heartbeat);
        a.port.service_notify(|r| notes.push(r));
    }
    assert_eq!(notes, [FwRecovery::Started, FwRecovery::Failed]);
    assert!(!a.port.fw_owner() && !a.tp.device().fw_state().owner);
    assert!(a.port.is_started(), "the port itself runs on");
    // Once the firmware behaves, a stop and start brings everything back.
    a.tp.set_fw_faults(FwFaults::default());
    a.stop().unwrap();
    a.start().unwrap();
    assert!(a.tp.device().fw_state().owner);
    a.stop().unwrap();
}

#[test]
fn unanswered_heartbeat_marks_firmware_dead() {
    let mut a = TestPort::new(&model("hb", cable()), &PortSpec::default());
    a.start().unwrap();
    a.tp.set_fw_faults(FwFaults {
        stop_heartbeat: true,
        ..Default::default()
    });
    for _ in 0..4 {
        std::thread::sleep(test_timeouts().heartbeat);
        a.port.service();
    }
    assert!(a.port.fw_dead(), "missed heartbeats detected");
    a.tp.set_fw_faults(FwFaults::default());
    for _ in 0..4 {
        std::thread::sleep(test_timeouts().heartbeat);
        a.port.service();
    }
    assert!(
        !a.port.fw_dead(),
        "recovered once the firmware answers again"
    );
    a.stop().unwrap();
}

#[test]
fn dma_fault_on_tx_is_counted_and_other_queues_continue() {
    let spec_b = PortSpec {
        tx_queues: 2,
        ..Default::default()
    };
    let (mut a, mut b) = cabled_pair(&PortSpec::default(), &spec_b);
    a.start().unwrap();
    b.start().unwrap();
    let faults0 = b.tp.device().stats().dma_faults;
    let (dst, src) = (a.port.perm_addr(), b.port.perm_addr());
    let bad: NativeBuf = b.pool.packet(&frame(dst, src, &flow(), 200, 1)).unwrap();
    bad.with_bogus_iova(0x3f00_0000_0000);
    b.send_all(0, &[bad]);
    let good: Vec<NativeBuf> = (2..34)
        .map(|s| b.pool.packet(&frame(dst, src, &flow(), 200, s)).unwrap())
        .collect();
    b.send_all(1, &good);
    let got = a.recv(32, Duration::from_secs(2));
    assert_eq!(got.len(), 32, "the other queue's frames all arrive");
    let mut seqs: Vec<u64> = got
        .iter()
        .map(|(_, p)| parse_seq(&p.to_vec()).unwrap())
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (2..34).collect::<Vec<_>>(), "and only those");
    got.into_iter().for_each(|(_, p)| p.free_pkt());
    b.settle_tx();
    let c = b.port.counters();
    assert!(
        b.tp.device().stats().dma_faults > faults0,
        "DMA fault counted by the device"
    );
    assert_eq!(
        c.device("dma_faults").unwrap(),
        b.tp.device().stats().dma_faults - faults0
    );
    assert_eq!(
        c.queue(0).tx_errors,
        1,
        "the faulting packet counted as a Tx error"
    );
    assert_eq!(c.queue(1).tx_packets, 32);
    // The faulting queue keeps working too.
    assert_eq!(deliver(&mut a, &mut b, dst, 100), 1);
    a.stop().unwrap();
    b.stop().unwrap();
    assert_eq!(
        b.pool.available(),
        b.pool.capacity(),
        "the faulting buffer came back"
    );
}

#[test]
fn dma_fault_on_rx_buffers_is_contained() {
    let spec_a = PortSpec {
        rx_queues: 2,
        pool_per_queue: true,
        pool_size: 1024,
        rx_desc: 128,
        ..Default::default()
    };
    let (mut a, mut b) = cabled_pair(&spec_a, &PortSpec::default());
    // Queue 0 gets even buckets, queue 1 odd ones; hash over UDP ports spreads the flows.
    a.port
        .update_rss(|r| {
            r.hash = rte_net_fbnic::rpc::RssHash::ALL;
            r.reta = core::array::from_fn(|i| (i % 2) as u16);
            Ok(())
        })
        .unwrap();
    a.start().unwrap();
    b.start().unwrap();
    // Fill queue 0's buffers with a canary, then take them away from the device.
    a.stop().unwrap();
    let p0 = a.rx_pools[0].clone();
    let canary: Vec<NativeBuf> = (0..p0.available())
        .map(|_| p0.packet(&[0xa5; 1500]).unwrap())
        .collect();
    canary.into_iter().for_each(|p| p.free_pkt());
    a.start().unwrap();
    let (iova, len) = p0.dma_range();
    a.tp.dma_unmap(iova, len).unwrap();

    let rss = a.port.rss();
    let table = fbnic_hw::toeplitz::ToeplitzTable::new(&rss.key);
    let (dst, src) = (a.port.perm_addr(), b.port.perm_addr());
    let mut to_q = [0u64; 2];
    let mut pkts = Vec::new();
    for s in 0..200u64 {
        let fl = Flow::v4(false, [10, 0, 0, 1], [10, 0, 0, 2], 1000 + s as u16, 2000);
        to_q[(fl.hash(&table) & 1) as usize] += 1;
        pkts.push(b.pool.packet(&frame(dst, src, &fl, 256, s)).unwrap());
    }
    b.send_all(0, &pkts);
    let got = a.recv(to_q[1] as usize, Duration::from_secs(3));
    assert!(
        got.iter().all(|(q, _)| *q == 1),
        "nothing delivered from the faulting queue"
    );
    assert_eq!(got.len() as u64, to_q[1], "queue 1 unaffected");
    got.into_iter().for_each(|(_, p)| p.free_pkt());
    // Let queue 0 see its faults.
    let t = Instant::now();
    while a.rx[0].stats.errors.get() < to_q[0].min(127) && t.elapsed() < Duration::from_secs(3) {
        a.recv(1, Duration::from_millis(10));
    }
    assert!(a.tp.device().stats().dma_faults > 0, "faults counted");
    assert!(
        a.rx[0].stats.errors.get() > 0,
        "faulted frames reported and dropped by the driver"
    );
    // The memory the device could not reach was never written; remapped, queue 0 works.
    a.stop().unwrap();
    assert_eq!(
        p0.available(),
        p0.capacity(),
        "faulted buffers returned to the pool"
    );
    let all: Vec<NativeBuf> = (0..p0.capacity()).map(|_| p0.get().unwrap()).collect();
    for buf in &all {
        // SAFETY: unused buffers: read the canary written above through the raw data room.
        let room = unsafe { core::slice::from_raw_parts(buf.data_room_ptr(), 1500) };
        assert!(
            room.iter().all(|&x| x == 0xa5),
            "a buffer was written while unmapped"
        );
    }
    all.into_iter().for_each(|p| p.free_pkt());
    // SAFETY: the pool's memory is alive (a owns it) and stays so until the port is dropped.
    unsafe { a.tp.dma_map(iova, p0.dma_range_va(), len).unwrap() };
    a.start().unwrap();
    let s = (0..64u16)
        .find(|s| {
            let fl = Flow::v4(false, [10, 0, 0, 1], [10, 0, 0, 2], 1000 + s, 2000);
            fl.hash(&table) & 1 == 0
        })
        .unwrap();
    let fl = Flow::v4(false, [10, 0, 0, 1], [10, 0, 0, 2], 1000 + s, 2000);
    b.send_all(
        0,
        &[b.pool.packet(&frame(dst, src, &fl, 256, 7777)).unwrap()],
    );
    let got = a.recv(1, Duration::from_secs(2));
    assert_eq!(got.len(), 1, "queue 0 receives again after the remap");
    assert_eq!(got[0].0, 0);
    got.into_iter().for_each(|(_, p)| p.free_pkt());
    a.stop().unwrap();
    b.stop().unwrap();
}

#[test]
fn hundred_stop_start_cycles_lose_no_buffer() {
    let spec = PortSpec {
        rx_queues: 4,
        tx_queues: 2,
        rx_desc: 128,
        tx_desc: 256,
        pool_size: 2048,
        ..Default::default()
    };
    let (mut a, mut b) = cabled_pair(&spec, &spec);
    a.port
        .update_rss(|r| {
            r.hash = rte_net_fbnic::rpc::RssHash::ALL;
            Ok(())
        })
        .unwrap();
    let (dst, src) = (a.port.perm_addr(), b.port.perm_addr());
    let mut seed = 9u64;
    for cycle in 0..100u64 {
        a.start().unwrap();
        b.start().unwrap();
        // Traffic in flight when stopping: send, receive a part, stop.
        let pkts: Vec<NativeBuf> = (0..64)
            .map(|i| {
                b.pool
                    .packet(&frame(
                        dst,
                        src,
                        &Flow::random(&mut seed),
                        300,
                        cycle * 100 + i,
                    ))
                    .unwrap()
            })
            .collect();
        b.send_all((cycle % 2) as usize, &pkts);
        let got = a.recv(16, Duration::from_secs(2));
        assert!(got.len() >= 16, "cycle {cycle}: traffic flows");
        got.into_iter().for_each(|(_, p)| p.free_pkt());
        // Queue-level stop/start too.
        let q = (cycle % 4) as usize;
        a.rx[q].stop().unwrap();
        a.rx[q].start().unwrap();
        b.tx[0].stop().unwrap();
        b.tx[0].start().unwrap();
        b.stop().unwrap();
        a.stop().unwrap();
        assert_eq!(
            a.pool.available(),
            a.pool.capacity(),
            "cycle {cycle}: Rx pool full"
        );
        assert_eq!(
            b.pool.available(),
            b.pool.capacity(),
            "cycle {cycle}: Tx pool full"
        );
    }
}

/// The module EEPROM, read through the firmware (QSFP_READ_REQ): on a stopped port (the
/// mailbox comes up just for it and goes down again) and a started one, whole and in parts,
/// with ranges outside the EEPROM refused.
#[test]
fn module_eeprom_through_the_firmware() {
    use rte_net_fbnic::module::{ModuleStandard, FLAT_LEN};
    let mut a = TestPort::new(&model("qsfp", cable()), &PortSpec::default());
    let qsfp_reads = |a: &TestPort| {
        let h = a.tp.device().fw_state().history;
        h.iter().filter(|m| **m == "QSFP_READ_REQ").count()
    };

    let info = a.port.module_info().unwrap();
    assert_eq!(info.standard, ModuleStandard::Sff8636, "a QSFP28 module");
    assert_eq!(info.len, FLAT_LEN, "flat memory: lower and upper page 00h");
    let mut whole = vec![0u8; FLAT_LEN as usize];
    a.port.read_module_eeprom(0, &mut whole).unwrap();
    assert_eq!(whole[0], 0x11, "identifier QSFP28");
    assert_eq!(whole[128], 0x11, "identifier again at the upper page");
    assert_eq!(&whole[148..164], b"FBNIC-MODEL     ", "vendor name");
    assert_eq!(&whole[168..184], b"DAC-100G-1M     ", "vendor part number");
    // module_info: one read of the head; the whole EEPROM: the head, then one page read.
    assert_eq!(qsfp_reads(&a), 3, "each read went to the firmware");
    assert!(
        !a.port.fw_owner(),
        "a query on a stopped port takes no ownership"
    );

    a.start().unwrap();
    let mut part = vec![0u8; 20];
    a.port.read_module_eeprom(146, &mut part).unwrap();
    assert_eq!(part, whole[146..166], "a part, with the port started");
    for (off, len) in [(250u32, 7usize), (256, 1), (u32::MAX, 1), (0, 0)] {
        let mut b = vec![0u8; len];
        assert!(
            matches!(
                a.port.read_module_eeprom(off, &mut b),
                Err(Error::InvalidArg(_))
            ),
            "{off}+{len}"
        );
    }
    assert!(a.port.fw_owner(), "the port still owns the device");
    a.stop().unwrap();
}

/// Link flow control (802.3x pause) per direction: with the receiver's Rx queue not polled
/// and its buffer full, a receiver that sends pause to a sender that honours it loses
/// nothing (the frames wait in the sender's ring); with either direction off the receiver
/// drops at its Rx buffer instead. The setting survives a stop/start.
#[test]
fn flow_control_pauses_or_drops() {
    use rte_net_fbnic::port::FlowControl;
    use rte_net_fbnic::stats::HwCounters;
    const N: usize = 500;
    let full = FlowControl::default();
    let fc = |rx_pause, tx_pause| FlowControl { rx_pause, tx_pause };
    for (rx_side, tx_side, paused) in [
        (full, full, true),
        (fc(true, false), full, false),
        (full, fc(false, true), false),
    ] {
        // Two descriptors a frame: room for all N in the sender's ring.
        let sender = PortSpec {
            tx_desc: 2048,
            ..PortSpec::default()
        };
        let (mut a, mut b) = cabled_pair(&PortSpec::default(), &sender);
        assert_eq!(a.port.flow_control(), full, "pause both ways by default");
        a.port.set_flow_control(rx_side);
        b.port.set_flow_control(tx_side);
        a.start().unwrap();
        b.start().unwrap();
        a.stop().unwrap();
        a.start().unwrap();
        assert_eq!(a.port.flow_control(), rx_side, "kept across stop/start");
        let cfg = MacCommandConfig::from_raw(a.reg(regs::MAC_COMMAND_CONFIG));
        assert_eq!(
            (cfg.rx_pause_dis(), cfg.tx_pause_dis()),
            (!rx_side.rx_pause, !rx_side.tx_pause),
            "MAC_COMMAND_CONFIG"
        );
        let before = |p: &TestPort| p.port.counters();
        let (a0, b0) = (before(&a), before(&b));

        // 256 Rx buffers and a 256 KiB Rx buffer hold ~440 of these; the rest must wait
        // (pause) or be dropped.
        let dst = a.port.perm_addr();
        let pkts: Vec<_> = (0..N as u64)
            .map(|s| {
                let f = frame(dst, b.port.perm_addr(), &flow(), 1400, s);
                b.pool.packet(&f).unwrap()
            })
            .collect();
        let sent = b.tx[0].burst(&pkts);
        assert_eq!(sent, N, "the Tx ring takes them all");
        std::thread::sleep(Duration::from_millis(300));
        let (a1, b1) = (a.port.counters(), b.port.counters());
        let delta = |c1: &HwCounters, c0: &HwCounters, r| c1.mac(r) - c0.mac(r);
        let drops = a1.device("rxb_host_drops").unwrap() - a0.device("rxb_host_drops").unwrap();
        let xoff_sent = delta(&a1, &a0, regs::mac_stat::TX_XOFF);
        let xoff_seen = delta(&b1, &b0, regs::mac_stat::RX_XOFF);
        let ctx = format!("{rx_side:?}/{tx_side:?}: drops {drops}, xoff {xoff_sent}/{xoff_seen}");
        if paused {
            assert_eq!(drops, 0, "{ctx}");
            assert!(xoff_sent > 0 && xoff_seen > 0, "{ctx}");
        } else {
            assert!(drops > 0, "{ctx}");
        }

        // Polling again drains everything that was not dropped, in order.
        let want = N - drops as usize;
        let mut got = a.recv(want, Duration::from_secs(5));
        got.extend(a.recv(1, Duration::from_millis(100)));
        let seqs: Vec<u64> = got
            .iter()
            .map(|(_, buf)| parse_seq(&buf.to_vec()).unwrap())
            .collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order; {ctx}");
        assert_eq!(seqs.len(), want, "every frame received or counted; {ctx}");
        got.into_iter().for_each(|(_, buf)| buf.free_pkt());
        b.settle_tx();
    }
}

/// LSO (TSO and UDP segmentation) through the driver's multi-segment Tx path and the device:
/// a 6000-byte packet in chained buffers leaves as MSS-sized frames whose headers, lengths
/// and checksums are each right, whose payloads add up to the packet's, in order. With the
/// receiver not polled the link partner pauses the sender part way through a packet; it
/// goes on from there when the receiver polls again, and nothing is lost or repeated.
#[test]
fn lso_cuts_packets_into_frames_across_pauses() {
    use fbnic_hw::desc::Twd;
    const MSS: usize = 1111;
    const LEN: usize = 6000;
    for (tcp, v6) in [(true, false), (false, true), (true, true)] {
        let sender = PortSpec {
            tx_desc: 2048,
            ..PortSpec::default()
        };
        let (mut a, mut b) = cabled_pair(&PortSpec::default(), &sender);
        a.start().unwrap();
        b.start().unwrap();
        let fl = if v6 {
            Flow::v6(tcp, [0x20; 16], [0x21; 16], 4000, 5000)
        } else {
            Flow::v4(tcp, [10, 0, 0, 1], [10, 0, 0, 2], 4000, 5000)
        };
        let (l3_len, l4_len) = (if v6 { 40 } else { 20 }, if tcp { 20 } else { 8 });
        let (l4, hdr) = (14 + l3_len, 14 + l3_len + l4_len);
        let field = l4 + if tcp { 16 } else { 6 };
        // Enough packets that the receiver's 256 buffers and Rx buffer fill part way through
        // one: 120 x 6 frames of ~1160 bytes.
        let n_pkts = 120u64;
        let mut sent = Vec::new();
        let pkts: Vec<_> = (0..n_pkts)
            .map(|seq| {
                let mut f = frame(a.port.perm_addr(), b.port.perm_addr(), &fl, LEN, seq);
                // The checksum field: the pseudo-header sum without the length.
                let addrs = if v6 { 22..54 } else { 26..34 };
                // (csum_fold complements: undo it for the plain sum.)
                let sum = !csum_fold(csum_add(if tcp { 6 } else { 17 }, &f[addrs]));
                f[field..field + 2].copy_from_slice(&sum.to_be_bytes());
                sent.push(f.clone());
                let p = b.pool.packet(&f).unwrap();
                p.set_tx_meta(
                    Twd::meta()
                        .with_req_lso(true)
                        .with_l2_hlen(7)
                        .with_l3_type(if v6 { 2 } else { 1 })
                        .with_l3_ihlen(l3_len as u64 / 2)
                        .with_l4_type(if tcp { 1 } else { 2 })
                        .with_l4_hlen(l4_len as u64 / 4)
                        .with_csum_offset(if tcp { 8 } else { 3 })
                        .with_mss(MSS as u64),
                );
                p
            })
            .collect();
        assert!(pkts[0].tx_nb_segs() > 1, "chained buffers");
        let c0 = a.port.counters();
        b.send_all(0, &pkts);
        std::thread::sleep(Duration::from_millis(200));
        let c1 = a.port.counters();
        let xoff = c1.mac(regs::mac_stat::TX_XOFF) - c0.mac(regs::mac_stat::TX_XOFF);
        assert!(xoff > 0, "the receiver paused the sender");
        // The frames that made it before the pause: not a whole number of packets, so the
        // pause came part way through one (the sizes here make that so in every case).
        let per_pkt = (LEN - hdr).div_ceil(MSS);
        let before = c1.mac(regs::mac_stat::RX_OK) - c0.mac(regs::mac_stat::RX_OK);
        assert_ne!(
            before % per_pkt as u64,
            0,
            "paused mid-packet ({before} frames)"
        );

        let want = n_pkts as usize * per_pkt;
        let mut got = a.recv(want, Duration::from_secs(10));
        got.extend(a.recv(1, Duration::from_millis(100)));
        let frames: Vec<Vec<u8>> = got.iter().map(|(_, buf)| buf.to_vec()).collect();
        got.into_iter().for_each(|(_, buf)| buf.free_pkt());
        let ctx = format!("tcp {tcp} v6 {v6}");
        assert_eq!(frames.len(), want, "{ctx}: every segment, once");
        let drops = a.port.counters().device("rxb_host_drops").unwrap()
            - c0.device("rxb_host_drops").unwrap();
        assert_eq!(drops, 0, "{ctx}");
        for (i, f) in frames.iter().enumerate() {
            let (p, k) = (i / per_pkt, i % per_pkt);
            let orig = &sent[p];
            let payload = &orig[hdr + k * MSS..(hdr + (k + 1) * MSS).min(LEN)];
            assert_eq!(f.len(), hdr + payload.len(), "{ctx}: frame {i} length");
            assert_eq!(&f[hdr..], payload, "{ctx}: frame {i} payload");
            assert!(l4_csum_ok(f, &fl), "{ctx}: frame {i} L4 checksum");
            if v6 {
                assert_eq!(be16(f, 18), f.len() - 54, "{ctx}: IPv6 payload length");
            } else {
                assert_eq!(be16(f, 16), f.len() - 14, "{ctx}: IPv4 total length");
                assert_eq!(be16(f, 18), k, "{ctx}: IPv4 identification");
                assert_eq!(
                    csum_fold(csum_add(0, &f[14..34])),
                    0,
                    "{ctx}: IPv4 header checksum"
                );
            }
            if tcp {
                let seq = u32::from_be_bytes(f[l4 + 4..l4 + 8].try_into().unwrap());
                assert_eq!(seq as usize, k * MSS, "{ctx}: TCP sequence number");
            } else {
                assert_eq!(be16(f, l4 + 4), f.len() - l4, "{ctx}: UDP length");
            }
        }
        b.settle_tx();
    }
}

fn be16(f: &[u8], at: usize) -> usize {
    u16::from_be_bytes([f[at], f[at + 1]]) as usize
}

/// Descriptor status and the Rx queue count (DPDK `rx_queue_count`,
/// `rx/tx_descriptor_status`), read from the rings without consuming anything: frames
/// waiting in the Rx ring are DONE buffers, the rest of the posted ones AVAIL, beyond them
/// UNAVAIL; Tx slots the device still holds (its link partner pauses it) are FULL, and DONE
/// once a completion says the device is past them, before the driver reclaims them.
#[test]
fn descriptor_status_and_rx_queue_count() {
    use rte_net_fbnic::rx::RxDescStatus;
    use rte_net_fbnic::tx::TxDescStatus;
    let sender = PortSpec {
        tx_desc: 2048,
        ..PortSpec::default()
    };
    let (mut a, mut b) = cabled_pair(&PortSpec::default(), &sender);
    let rxq = &a.rx[0];
    assert_eq!(
        rxq.descriptor_status(0),
        Some(RxDescStatus::Unavail),
        "stopped"
    );
    a.start().unwrap();
    b.start().unwrap();
    let posted = a.rx[0].posted();
    assert_eq!(posted, 255, "the ring full of buffers but one");
    assert_eq!(a.rx[0].filled(u32::MAX), 0);
    assert_eq!(a.rx[0].descriptor_status(0), Some(RxDescStatus::Avail));

    // 10 frames wait in a's ring.
    let dst = a.port.perm_addr();
    let pkts: Vec<_> = (0..10)
        .map(|s| {
            b.pool
                .packet(&frame(dst, b.port.perm_addr(), &flow(), 200, s))
                .unwrap()
        })
        .collect();
    b.send_all(0, &pkts);
    let t = Instant::now();
    while a.rx[0].filled(u32::MAX) < 10 && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let rxq = &a.rx[0];
    assert_eq!(rxq.filled(u32::MAX), 10, "rx_queue_count");
    assert_eq!(rxq.filled(4), 4, "counting stops at the limit");
    for (off, want) in [
        (0, RxDescStatus::Done),
        (9, RxDescStatus::Done),
        (10, RxDescStatus::Avail),
        (posted - 1, RxDescStatus::Avail),
        (posted, RxDescStatus::Unavail),
    ] {
        assert_eq!(rxq.descriptor_status(off), Some(want), "Rx offset {off}");
    }
    assert_eq!(rxq.descriptor_status(256), None, "past the ring");
    let got = a.recv(10, Duration::from_secs(2));
    assert_eq!(got.len(), 10);
    got.into_iter().for_each(|(_, buf)| buf.free_pkt());
    assert_eq!(a.rx[0].filled(u32::MAX), 0, "received: none left");
    b.settle_tx();

    // Tx: with a not polling, b's link partner pauses it and frames stay in b's ring.
    let txq = &b.tx[0];
    assert_eq!(
        txq.descriptor_status(0),
        Some(TxDescStatus::Done),
        "idle: all free"
    );
    let pkts: Vec<_> = (0..800)
        .map(|s| {
            b.pool
                .packet(&frame(dst, b.port.perm_addr(), &flow(), 1400, s))
                .unwrap()
        })
        .collect();
    assert_eq!(b.tx[0].burst(&pkts), 800);
    std::thread::sleep(Duration::from_millis(300));
    let txq = &b.tx[0];
    let in_flight = txq.in_flight();
    assert_eq!(in_flight, 1600, "two descriptors a frame");
    // The slots past the tail are free up to the oldest one in flight; the burst asked for
    // one completion, at its end, so until then every slot in flight is FULL.
    let free = 2048 - in_flight;
    assert_eq!(txq.descriptor_status(0), Some(TxDescStatus::Done));
    assert_eq!(txq.descriptor_status(free - 1), Some(TxDescStatus::Done));
    assert_eq!(
        txq.descriptor_status(free),
        Some(TxDescStatus::Full),
        "oldest in flight"
    );
    assert_eq!(
        txq.descriptor_status(2047),
        Some(TxDescStatus::Full),
        "newest in flight"
    );
    assert_eq!(txq.descriptor_status(2048), None, "past the ring");
    let got = a.recv(800, Duration::from_secs(10));
    assert_eq!(got.len(), 800);
    got.into_iter().for_each(|(_, buf)| buf.free_pkt());
    let t = Instant::now();
    while b.tx[0].descriptor_status(2047) != Some(TxDescStatus::Done)
        && t.elapsed() < Duration::from_secs(5)
    {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(
        b.tx[0].descriptor_status(2047),
        Some(TxDescStatus::Done),
        "all sent: done before the driver reclaims"
    );
    assert_eq!(b.tx[0].in_flight(), 1600, "nothing reclaimed by asking");
    b.settle_tx();
}

/// The link set administratively down turns the MAC off: this port and its link partner see
/// the link down and nothing crosses; set up again, both see it up and frames flow. The
/// setting holds across stop/start. Refused while a BMC shares the port.
#[test]
fn link_set_down_and_up() {
    let (mut a, mut b) = cabled_pair(&PortSpec::default(), &PortSpec::default());
    a.start().unwrap();
    b.start().unwrap();
    assert!(a.port.link().up && b.port.link().up);
    let dst = a.port.perm_addr();

    a.port.set_link_admin(false).unwrap();
    assert!(!a.port.link().up, "down here");
    assert!(!b.port.link().up, "and at the link partner");
    assert_eq!(
        deliver(&mut a, &mut b, dst, 1),
        0,
        "nothing crosses a down link"
    );
    a.stop().unwrap();
    a.start().unwrap();
    assert!(!a.port.link().up, "still down after stop/start");

    a.port.set_link_admin(true).unwrap();
    assert!(
        a.port.link().up && b.port.link().up,
        "up on both ends again"
    );
    assert_eq!(deliver(&mut a, &mut b, dst, 2), 1, "frames flow again");

    let w = cable();
    let mut oa = model("bmclink", w.clone());
    oa.bmc = true;
    let mut c = TestPort::new(&oa, &PortSpec::default());
    c.start().unwrap();
    assert!(matches!(
        c.port.set_link_admin(false),
        Err(Error::NotSupported(_))
    ));
    assert!(c.port.set_link_admin(true).is_ok());
}

/// A cabled pair, the first port with 4 Rx queues hashing every type, its RSS settings and
/// their Toeplitz table (to tell which queue RSS picks for a flow).
fn rss_pair() -> (
    TestPort,
    TestPort,
    rte_net_fbnic::rpc::RssConfig,
    fbnic_hw::toeplitz::ToeplitzTable,
) {
    let spec = PortSpec {
        rx_queues: 4,
        ..Default::default()
    };
    let (a, b) = cabled_pair(&spec, &PortSpec::default());
    a.port
        .update_rss(|r| {
            r.hash = rte_net_fbnic::rpc::RssHash::ALL;
            Ok(())
        })
        .unwrap();
    let rss = a.port.rss();
    let table = fbnic_hw::toeplitz::ToeplitzTable::new(&rss.key);
    (a, b, rss, table)
}

/// Flow rules against the model: TCP and UDP over IPv4 and IPv6, exact and masked ports,
/// priorities, DROP (counted), rules kept across stop/start, destroy and flush, and a queue
/// count below a rule's queue refused.
#[test]
fn flow_rules_steer_across_types_masks_and_restarts() {
    use rte_net_fbnic::flow::{FlowAction, FlowIp, FlowL4, FlowRule, PortMatch};
    let (mut a, mut b, rss, table) = rss_pair();
    // The queue RSS picks for a flow no rule matches.
    let rss_queue = |f: &Flow| rss.reta[(f.hash(&table) & 0xff) as usize];
    let rule = |priority, ip, l4, sport, dport, action| FlowRule {
        priority,
        ip,
        l4,
        sport,
        dport,
        action,
    };
    let any = PortMatch::ANY;
    let tcp80 = a
        .port
        .flow_create(rule(
            0,
            FlowIp::Any,
            FlowL4::Tcp,
            any,
            PortMatch::exact(80),
            FlowAction::Queue(1),
        ))
        .unwrap();
    let v6_udp_range = PortMatch {
        value: 0x1000,
        mask: 0xff00,
    };
    a.port
        .flow_create(rule(
            0,
            FlowIp::V6,
            FlowL4::Udp,
            v6_udp_range,
            any,
            FlowAction::Queue(2),
        ))
        .unwrap();
    let v4_rest = a
        .port
        .flow_create(rule(
            5,
            FlowIp::V4,
            FlowL4::Any,
            any,
            any,
            FlowAction::Queue(3),
        ))
        .unwrap();
    let dns = a
        .port
        .flow_create(rule(
            1,
            FlowIp::V4,
            FlowL4::Udp,
            any,
            PortMatch::exact(53),
            FlowAction::Drop,
        ))
        .unwrap();
    assert_eq!(a.port.flows().len(), 4);
    // Refused: a queue the port does not have; ports without TCP or UDP.
    let e = a
        .port
        .flow_create(FlowRule::any(FlowAction::Queue(4)))
        .unwrap_err();
    assert!(e.to_string().contains("queue 4 does not exist"), "{e}");
    let e = a
        .port
        .flow_validate(rule(
            0,
            FlowIp::V4,
            FlowL4::Any,
            any,
            PortMatch::exact(1),
            FlowAction::Drop,
        ))
        .unwrap_err();
    assert!(e.to_string().contains("needs TCP or UDP"), "{e}");
    assert_eq!(a.port.flows().len(), 4, "refused rules are not kept");

    let v4 = |tcp, sport, dport| Flow::v4(tcp, [10, 0, 0, 1], [10, 0, 0, 2], sport, dport);
    let v6 = |tcp, sport, dport| {
        Flow::v6(
            tcp,
            [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
            sport,
            dport,
        )
    };
    // (flow, where it must go: Some(queue), None = dropped, Some(u16::MAX) = where RSS puts
    // it, which must differ from where the rule it escapes would)
    const RSS: Option<u16> = Some(u16::MAX);
    for (f, rule_q) in [(v6(false, 0x11ab, 7), 2), (v6(true, 5000, 80), 1)] {
        assert_ne!(
            rss_queue(&f),
            rule_q,
            "pick a flow RSS puts elsewhere: {f:?}"
        );
    }
    let cases = [
        (v4(true, 5000, 80), Some(1)),
        (v6(true, 5000, 80), Some(1)),
        (v6(false, 0x10ab, 7), Some(2)),
        (v6(false, 0x11ab, 7), RSS),
        (v4(false, 5000, 53), None),
        (v4(false, 5000, 54), Some(3)),
        (v4(true, 5000, 81), Some(3)),
    ];
    let mut seq = 0;
    let mut check =
        |a: &mut TestPort, b: &mut TestPort, cases: &[(Flow, Option<u16>)], what: &str| {
            for (flow, want) in cases {
                seq += 1;
                let drops0 = a.port.counters().device("rpc_action_drops").unwrap();
                let wait = Duration::from_millis(if want.is_some() { 2000 } else { 300 });
                let dst = a.port.perm_addr();
                let queues = deliver_flow(a, b, dst, flow, seq, wait);
                match *want {
                    None => {
                        assert!(
                            queues.is_empty(),
                            "{what}: {flow:?} delivered to {queues:?}"
                        );
                        let drops = a.port.counters().device("rpc_action_drops").unwrap();
                        assert_eq!(drops, drops0 + 1, "{what}: {flow:?}: the drop is counted");
                    }
                    Some(u16::MAX) => {
                        assert_eq!(
                            queues,
                            [rss_queue(flow) as usize],
                            "{what}: {flow:?} by RSS"
                        )
                    }
                    Some(q) => assert_eq!(queues, [q as usize], "{what}: {flow:?}"),
                }
            }
        };
    a.start().unwrap();
    b.start().unwrap();
    check(&mut a, &mut b, &cases, "as created");

    // Kept across stop/start.
    a.stop().unwrap();
    a.start().unwrap();
    check(&mut a, &mut b, &cases, "after stop/start");

    // Destroyed: TCP 80 over IPv4 falls to the IPv4 rule, over IPv6 to RSS; DNS delivered.
    a.port.flow_destroy(tcp80).unwrap();
    a.port.flow_destroy(dns).unwrap();
    assert!(a.port.flow_destroy(dns).is_err(), "destroyed twice");
    check(
        &mut a,
        &mut b,
        &[
            (v4(true, 5000, 80), Some(3)),
            (v6(true, 5000, 80), RSS),
            (v4(false, 5000, 53), Some(3)),
            (v6(false, 0x1001, 7), Some(2)),
        ],
        "after destroy",
    );

    // A queue count below a rule's queue is refused; flushed, anything goes.
    a.stop().unwrap();
    let mut fewer = a.port.settings();
    fewer.nb_rx_queues = 2;
    let e = a.port.configure(fewer.clone(), None).unwrap_err();
    assert!(e.to_string().contains("Rx queue 3"), "{e}");
    a.port.flow_destroy(v4_rest).unwrap();
    let e = a.port.configure(fewer, None).unwrap_err();
    assert!(e.to_string().contains("Rx queue 2"), "{e}");
    a.port.flow_flush();
    assert!(a.port.flows().is_empty());
    a.start().unwrap();
    check(
        &mut a,
        &mut b,
        &[(v4(false, 5000, 53), RSS), (v6(false, 0x10ab, 7), RSS)],
        "flushed",
    );
}

/// The RSS action: what a rule takes is spread over its queues by the frame's hash through
/// the device's second indirection table (each frame on exactly the queue that table and
/// the port's key predict, never outside the set); every RSS rule must use the same queues;
/// once the last one goes, the table is the port's again.
#[test]
fn rss_rules_spread_over_their_queues_only() {
    use rte_net_fbnic::flow::{
        FlowAction, FlowIp, FlowL4, FlowRule, FlowTable, PortMatch, QueueSet,
    };
    let (mut a, mut b, rss, table) = rss_pair();
    a.start().unwrap();
    b.start().unwrap();
    let set = QueueSet::new(&[3, 1]).unwrap();
    let dns = |dport| FlowRule {
        priority: 0,
        ip: FlowIp::V4,
        l4: FlowL4::Udp,
        sport: PortMatch::ANY,
        dport: PortMatch::exact(dport),
        action: FlowAction::Rss(set),
    };
    let id = a.port.flow_create(dns(53)).unwrap();
    let rule_table = rte_net_fbnic::rpc::rule_table(&rss, &a.port.flows());
    assert!(rule_table.iter().all(|&q| q == 1 || q == 3));
    let own = a.port.perm_addr();
    let mut seen = [0u32; 4];
    for (seq, sport) in (1000..1032u16).enumerate() {
        let f = Flow::v4(false, [10, 0, 0, 1], [10, 0, 0, 2], sport, 53);
        let want = rule_table[(f.hash(&table) & 0xff) as usize] as usize;
        let got = deliver_flow(&mut a, &mut b, own, &f, seq as u64, Duration::from_secs(2));
        assert_eq!(got, [want], "{f:?}");
        seen[want] += 1;
    }
    assert!(
        seen[1] > 0 && seen[3] > 0 && seen[0] + seen[2] == 0,
        "{seen:?}"
    );
    // Other traffic: the port's own spread.
    let web = Flow::v4(true, [10, 0, 0, 1], [10, 0, 0, 2], 5000, 80);
    let got = deliver_flow(&mut a, &mut b, own, &web, 100, Duration::from_secs(2));
    assert_eq!(got, [rss.reta[(web.hash(&table) & 0xff) as usize] as usize]);

    // One queue set for all RSS rules: another is refused with the reason, the same one
    // accepted.
    let mut other = dns(54);
    other.action = FlowAction::Rss(QueueSet::new(&[0, 2]).unwrap());
    let e = a.port.flow_create(other).unwrap_err();
    assert!(
        e.to_string()
            .contains("every RSS rule spreads over the same queues"),
        "{e}"
    );
    let id2 = a.port.flow_create(dns(54)).unwrap();
    // The last RSS rule gone, the second table is the port's again.
    a.port.flow_destroy(id).unwrap();
    a.port.flow_destroy(id2).unwrap();
    assert_eq!(
        rte_net_fbnic::rpc::rule_table(&rss, &a.port.flows()),
        rss.reta
    );
    assert_eq!(
        rte_net_fbnic::rpc::rule_table(&rss, &FlowTable::default()),
        rss.reta
    );
    let f = Flow::v4(false, [10, 0, 0, 1], [10, 0, 0, 2], 1000, 53);
    let got = deliver_flow(&mut a, &mut b, own, &f, 200, Duration::from_secs(2));
    assert_eq!(got, [rss.reta[(f.hash(&table) & 0xff) as usize] as usize]);
}

/// rte_flow isolated mode: only what a flow rule takes reaches the host; the rest (unicast
/// to the port's own address and broadcast alike) is dropped by the action TCAM's default
/// and counted. In and out at once on a started port, kept across stop/start, left by a
/// reset.
#[test]
fn isolated_mode_delivers_only_what_a_flow_rule_takes() {
    use rte_net_fbnic::flow::{FlowAction, FlowIp, FlowL4, FlowRule, PortMatch};
    let (mut a, mut b, rss, table) = rss_pair();
    let rss_queue = |f: &Flow| rss.reta[(f.hash(&table) & 0xff) as usize] as usize;
    a.port
        .flow_create(FlowRule {
            priority: 0,
            ip: FlowIp::V4,
            l4: FlowL4::Udp,
            sport: PortMatch::ANY,
            dport: PortMatch::exact(53),
            action: FlowAction::Queue(2),
        })
        .unwrap();
    assert!(!a.port.isolated());
    a.port.set_isolated(true).unwrap();
    assert!(a.port.isolated());
    let dump = rte_net_fbnic::dump::flow_rules(&a.port, "a", None).unwrap();
    assert!(dump.contains("are dropped (isolated mode)"), "{dump}");
    assert!(
        dump.contains(
            "  rule 1: priority 0: ipv4 udp src any dst 53 -> queue 2; action TCAM entry 2\n"
        ),
        "{dump}"
    );
    assert!(rte_net_fbnic::dump::flow_rules(&a.port, "a", Some(99)).is_err());
    a.start().unwrap();
    b.start().unwrap();

    let dns = Flow::v4(false, [10, 0, 0, 1], [10, 0, 0, 2], 5000, 53);
    let web = Flow::v4(true, [10, 0, 0, 1], [10, 0, 0, 2], 5000, 80);
    let v6 = Flow::v6(
        false,
        [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
        5000,
        53,
    );
    assert_ne!(
        rss_queue(&web),
        2,
        "pick a flow RSS puts off the rule's queue"
    );
    let own = a.port.perm_addr();
    let mut seq = 0;
    // Where each (destination, flow) lands: Some(queue) or None = dropped (and counted).
    let mut check = |a: &mut TestPort,
                     b: &mut TestPort,
                     cases: &[(MacAddr, &Flow, Option<usize>)],
                     what: &str| {
        for &(dst, flow, want) in cases {
            seq += 1;
            let drops0 = a.port.counters().device("rpc_action_drops").unwrap();
            let wait = Duration::from_millis(if want.is_some() { 2000 } else { 300 });
            let queues = deliver_flow(a, b, dst, flow, seq, wait);
            let drops = a.port.counters().device("rpc_action_drops").unwrap() - drops0;
            match want {
                Some(q) => assert_eq!(queues, [q], "{what}: {dst} {flow:?}"),
                None => {
                    assert!(queues.is_empty(), "{what}: {dst} {flow:?} -> {queues:?}");
                    assert_eq!(drops, 1, "{what}: {dst} {flow:?}: the drop is counted");
                }
            }
        }
    };
    let isolated = [
        (own, &dns, Some(2)),
        (MacAddr::BROADCAST, &dns, Some(2)),
        (own, &web, None),
        (MacAddr::BROADCAST, &web, None),
        (own, &v6, None),
    ];
    check(&mut a, &mut b, &isolated, "isolated from the start");

    // Out of isolated mode on the started port: RSS takes the rest again.
    a.port.set_isolated(false).unwrap();
    check(
        &mut a,
        &mut b,
        &[
            (own, &dns, Some(2)),
            (own, &web, Some(rss_queue(&web))),
            (own, &v6, Some(rss_queue(&v6))),
        ],
        "isolation left while started",
    );
    a.port.set_isolated(true).unwrap();
    a.port.set_isolated(true).unwrap();
    check(&mut a, &mut b, &isolated, "isolated again while started");
    a.stop().unwrap();
    a.start().unwrap();
    check(&mut a, &mut b, &isolated, "after stop/start");

    // With no rule at all, nothing reaches the host.
    a.port.flow_flush();
    check(&mut a, &mut b, &[(own, &dns, None)], "isolated, no rules");

    a.stop().unwrap();
    a.port.reset().unwrap();
    assert!(!a.port.isolated(), "a reset leaves isolated mode");
}

/// A started cabled pair, the first port with `queues` Rx queues, after `sent` UDP frames of
/// as many flows from the second: every frame received, their count per Rx queue.
fn spread_traffic(queues: u16, sent: usize) -> (TestPort, TestPort, Vec<u32>) {
    let spec = PortSpec {
        rx_queues: queues,
        ..Default::default()
    };
    let (mut a, mut b) = cabled_pair(&spec, &PortSpec::default());
    a.start().unwrap();
    b.start().unwrap();
    let pkts: Vec<NativeBuf> = (0..sent as u16)
        .map(|i| {
            let f = Flow::v4(false, [10, 0, 0, 1], [10, 0, 0, 2], 1000 + i, 2000);
            let f = frame(a.port.perm_addr(), b.port.perm_addr(), &f, 96, i as u64);
            b.pool.packet(&f).unwrap()
        })
        .collect();
    b.send_all(0, &pkts);
    let got = a.recv(sent, Duration::from_secs(5));
    assert_eq!(got.len(), sent);
    let mut per_queue = vec![0u32; queues as usize];
    for (q, buf) in got {
        per_queue[q] += 1;
        buf.free_pkt();
    }
    b.settle_tx();
    (a, b, per_queue)
}

/// The private dump (`rte_eth_dev_priv_dump`): the port's state as the driver holds it, and
/// each queue's rings as the device's registers show them, agreeing with what moved: the
/// receiving port's per-queue packet counts add up to what was sent, every Rx queue's
/// driver head caught up with the device's tail, every Tx ring drained, and what changed
/// (isolated mode, promiscuous, a stop) shows in the next dump.
#[test]
fn private_dump_shows_the_port_and_its_rings() {
    use rte_net_fbnic::dump::port_state;
    let sent = 64;
    let (mut a, b, per_queue) = spread_traffic(4, sent);

    let num = |line: &str, after: &str| -> u32 {
        let rest = &line[line
            .find(after)
            .unwrap_or_else(|| panic!("{after:?} in {line}"))
            + after.len()..];
        rest.split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let text = port_state(&a.port, "net_fbnic0", 4, 1);
    assert!(
        text.contains("started: yes, link: up, 100G-CR2, FEC RS"),
        "{text}"
    );
    assert!(
        text.contains(&format!("MAC: {0} (permanent {0})", a.port.perm_addr())),
        "{text}"
    );
    assert!(
        text.contains("owner yes, unresponsive no, malformed messages 0"),
        "{text}"
    );
    assert!(
        text.contains("flow rules: 0, isolated no; pause: rx yes, tx yes"),
        "{text}"
    );
    let rx: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("rxq "))
        .collect();
    assert_eq!(rx.len(), 4, "{text}");
    for (q, line) in rx.iter().enumerate() {
        assert!(line.contains(&format!("rxq {q}: RCQ enabled, ")), "{line}");
        assert_eq!(num(line, "packets "), per_queue[q], "{line}");
        assert_eq!(
            num(line, "driver head "),
            num(line, "device tail "),
            "{line}"
        );
        assert_eq!(num(line, "errors "), 0, "{line}");
    }
    let text_b = port_state(&b.port, "net_fbnic1", 1, 1);
    let tx: Vec<&str> = text_b
        .lines()
        .filter(|l| l.trim_start().starts_with("txq "))
        .collect();
    assert_eq!(tx.len(), 1, "{text_b}");
    assert!(tx[0].contains("TWQ enabled, "), "{}", tx[0]);
    assert_eq!(num(tx[0], "packets "), sent as u32, "{}", tx[0]);
    assert_eq!(
        num(tx[0], "driver tail "),
        num(tx[0], "device head "),
        "{}",
        tx[0]
    );
    assert_eq!(
        num(tx[0], "driver head "),
        num(tx[0], "device tail "),
        "{}",
        tx[0]
    );

    a.port.set_isolated(true).unwrap();
    a.port
        .update_filters(|f| {
            f.promisc = true;
            Ok(())
        })
        .unwrap();
    a.stop().unwrap();
    let text = port_state(&a.port, "net_fbnic0", 4, 1);
    assert!(text.contains("started: no, link: down"), "{text}");
    assert!(text.contains("promiscuous yes"), "{text}");
    assert!(text.contains("isolated yes"), "{text}");
    assert!(
        text.lines()
            .filter(|l| l.trim_start().starts_with("rxq "))
            .all(|l| l.contains("RCQ disabled") || l.contains("RCQ in reset")),
        "{text}"
    );
}

/// The register dump: its slots hold what the driver programmed (MAC enables, RSS key and
/// tables, ring sizes and enables) and what the device counted (frames per queue), a part read
/// alone equals the same part of a whole dump, and a request past the end is refused.
#[test]
fn register_dump_holds_programmed_values_and_counters() {
    use fbnic_hw::regdump;
    let sent = 48;
    let (a, b, per_queue) = spread_traffic(3, sent);
    // The ports' descriptor count (spread_traffic leaves it at the default).
    let rx_desc = PortSpec::default().rx_desc;

    let mut dump = vec![0u32; regdump::LEN];
    a.port.dump_regs(0, &mut dump).unwrap();
    let at = |r: u32| dump[regdump::index_of(r).expect("dumped register")];
    let mac = MacCommandConfig::from_raw(at(regs::MAC_COMMAND_CONFIG));
    assert!(mac.tx_ena() && mac.rx_ena(), "MAC enabled: {mac:?}");
    let rss = a.port.rss();
    for (i, k) in rss.key.chunks_exact(4).enumerate() {
        let want = u32::from_be_bytes(k.try_into().unwrap());
        assert_eq!(at(regs::rpc_rss_key(i as u32)), want, "key word {i}");
    }
    for t in 0..regs::RSS_TBL_COUNT {
        for (i, &q) in rss.reta.iter().enumerate() {
            assert_eq!(
                at(regs::rpc_rss_tbl(t, i as u32)),
                q as u32,
                "table {t}[{i}]"
            );
        }
    }
    // Two completions per buffer (PAY_AL and META): the RCQ is twice the buffer ring.
    let rcq_size = at(regs::RCQ_SIZE.at(0));
    assert_eq!(1u32 << rcq_size, 2 * rx_desc, "RCQ_SIZE (log2)");
    assert_eq!(
        1u32 << at(regs::BDQ_PPQ_SIZE.at(2)),
        rx_desc,
        "PPQ_SIZE (log2)"
    );
    for q in 0..8u32 {
        let on = at(regs::RCQ_CTL.at(q)) & 2 != 0;
        assert_eq!(on, q < 3, "RCQ {q} enabled");
        let frames = at(regs::RDE_PKT_CNT.at(q));
        let want = per_queue.get(q as usize).copied().unwrap_or(0);
        assert_eq!(frames, want, "RDE_PKT_CNT of queue {q}");
    }
    assert_eq!(per_queue.iter().sum::<u32>(), sent as u32);
    let tx = b.reg(regs::TWQ0_PKT_CNT.at(0));
    assert_eq!(tx, sent as u32, "the sender's own view (direct read)");

    // Parts read alone equal the whole dump's (the clock's counter excepted: it runs).
    let clock = [
        regdump::index_of(regs::PTP_CTR_VAL_HI).unwrap(),
        regdump::index_of(regs::PTP_CTR_VAL_LO).unwrap(),
    ];
    for (first, n) in [
        (0, 17),
        (regdump::DEVICE_LEN - 5, 400),
        (regdump::LEN - 9, 9),
    ] {
        let mut part = vec![0u32; n];
        a.port.dump_regs(first, &mut part).unwrap();
        for (k, v) in part.iter().enumerate() {
            if !clock.contains(&(first + k)) {
                assert_eq!(*v, dump[first + k], "slot {}", first + k);
            }
        }
    }
    assert!(a.port.dump_regs(regdump::LEN, &mut []).is_ok());
    let e = a.port.dump_regs(regdump::LEN - 1, &mut [0; 2]).unwrap_err();
    assert!(e.to_string().contains("the dump has"), "{e}");
    assert!(a.port.dump_regs(usize::MAX, &mut [0; 1]).is_err());
}

/// Rx completion interrupts: an armed queue's vector signals its event when a frame arrives
/// (not before), once (it stays quiet until armed again), at once when armed with a frame
/// already waiting, and never while disarmed; the device counts the messages it sent.
#[test]
fn rx_interrupt_signals_once_per_arming() {
    use rte_net_fbnic::irq::IrqEvent;
    use std::sync::Arc;
    let (mut a, mut b) = cabled_pair(&PortSpec::default(), &PortSpec::default());
    a.start().unwrap();
    b.start().unwrap();
    let ev = Arc::new(IrqEvent::new().unwrap());
    let v = a.rx[0].irq_vector();
    assert_eq!(v, 2);
    a.tp.set_msix(v, Some(ev.clone())).unwrap();
    let quiet = Duration::from_millis(150);
    let send = |b: &mut TestPort, dst: MacAddr, seq: u64| {
        let f = frame(dst, b.port.perm_addr(), &flow(), 128, seq);
        let p = b.pool.packet(&f).unwrap();
        b.send_all(0, &[p]);
    };
    let dst = a.port.perm_addr();
    let sent0 = a.tp.device().msix_sent();

    // Armed on an empty ring: quiet until a frame comes, then one message.
    a.rx[0].irq_arm().unwrap();
    assert!(!ev.wait(quiet), "no frame, no interrupt");
    send(&mut b, dst, 1);
    assert!(
        ev.wait(Duration::from_secs(2)),
        "a frame arrived: interrupt"
    );
    assert_eq!(ev.take(), 1);
    assert_eq!(a.rx[0].filled(u32::MAX), 1, "the frame waits in the ring");
    // Not armed again: the next frame is quiet.
    send(&mut b, dst, 2);
    assert!(!ev.wait(quiet), "auto-masked after signalling");
    let got = a.recv(2, Duration::from_secs(2));
    assert_eq!(got.len(), 2);
    got.into_iter().for_each(|(_, p)| p.free_pkt());

    // A frame already waiting when armed: at once.
    send(&mut b, dst, 3);
    let deadline = Instant::now() + Duration::from_secs(2);
    while a.rx[0].filled(u32::MAX) == 0 && Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert!(!ev.wait(Duration::ZERO), "not armed: quiet");
    a.rx[0].irq_arm().unwrap();
    assert!(
        ev.wait(Duration::from_millis(500)),
        "armed with a frame waiting"
    );
    assert_eq!(ev.take(), 1);
    let got = a.recv(1, Duration::from_secs(2));
    assert_eq!(got.len(), 1);
    got.into_iter().for_each(|(_, p)| p.free_pkt());

    // Armed, then disarmed (the application polls again): quiet.
    a.rx[0].irq_arm().unwrap();
    a.rx[0].irq_disarm();
    send(&mut b, dst, 4);
    assert!(!ev.wait(quiet), "disarmed");
    let got = a.recv(1, Duration::from_secs(2));
    assert_eq!(got.len(), 1);
    got.into_iter().for_each(|(_, p)| p.free_pkt());
    assert_eq!(a.tp.device().msix_sent() - sent0, 2);

    // Unrouted: the device still signals (and counts), the event sees nothing.
    a.tp.set_msix(v, None).unwrap();
    a.rx[0].irq_arm().unwrap();
    send(&mut b, dst, 5);
    let got = a.recv(1, Duration::from_secs(2));
    assert_eq!(got.len(), 1);
    got.into_iter().for_each(|(_, p)| p.free_pkt());
    assert!(!ev.wait(Duration::ZERO));
    assert_eq!(a.tp.device().msix_sent() - sent0, 3);
    b.settle_tx();
    // A stopped queue cannot be armed.
    a.stop().unwrap();
    assert!(a.rx[0].irq_arm().is_err());
}

/// Rx interrupt moderation (devargs rx_intr_frames=4, rx_intr_usecs=16383): an armed queue
/// signals once four frames wait, not at three; with one frame waiting it signals when the
/// wait has run out (no sooner than 16.383 ms after the frame was sent), once.
#[test]
fn rx_interrupt_moderation_waits_for_frames_or_for_the_timeout() {
    use rte_net_fbnic::irq::IrqEvent;
    use rte_net_fbnic::IntrCoalesce;
    use std::sync::Arc;
    let spec = PortSpec {
        intr: IntrCoalesce {
            usecs: IntrCoalesce::MAX_USECS,
            frames: 4,
        },
        ..PortSpec::default()
    };
    let (mut a, mut b) = cabled_pair(&spec, &PortSpec::default());
    a.start().unwrap();
    b.start().unwrap();
    let ev = Arc::new(IrqEvent::new().unwrap());
    let v = a.rx[0].irq_vector();
    a.tp.set_msix(v, Some(ev.clone())).unwrap();
    let dst = a.port.perm_addr();
    let send = |b: &mut TestPort, seq: u64| {
        let f = frame(dst, b.port.perm_addr(), &flow(), 128, seq);
        let p = b.pool.packet(&f).unwrap();
        b.send_all(0, &[p]);
    };
    let wait_filled = |a: &TestPort, n: u32| {
        let deadline = Instant::now() + Duration::from_secs(2);
        while a.rx[0].filled(u32::MAX) < n && Instant::now() < deadline {
            std::thread::yield_now();
        }
        assert_eq!(a.rx[0].filled(u32::MAX), n);
    };

    // Three frames: below the threshold, and well inside the wait: quiet.
    a.rx[0].irq_arm().unwrap();
    for seq in 0..3 {
        send(&mut b, seq);
    }
    wait_filled(&a, 3);
    assert!(!ev.wait(Duration::from_millis(5)), "3 of 4 frames: quiet");
    // The fourth: at once (long before the wait runs out).
    send(&mut b, 3);
    assert!(ev.wait(Duration::from_secs(2)), "4 frames: interrupt");
    assert_eq!(ev.take(), 1);
    let got = a.recv(4, Duration::from_secs(2));
    assert_eq!(got.len(), 4);
    got.into_iter().for_each(|(_, p)| p.free_pkt());

    // One frame: the interrupt comes when the wait has run out, and only once.
    a.rx[0].irq_arm().unwrap();
    let sent_at = Instant::now();
    send(&mut b, 4);
    assert!(
        ev.wait(Duration::from_secs(2)),
        "the wait ran out: interrupt"
    );
    let after = sent_at.elapsed();
    assert!(
        after >= Duration::from_micros(IntrCoalesce::MAX_USECS as u64),
        "signalled after {after:?}, before the wait ran out"
    );
    assert_eq!(ev.take(), 1);
    assert!(!ev.wait(Duration::from_millis(50)), "once per arming");
    let got = a.recv(1, Duration::from_secs(2));
    assert_eq!(got.len(), 1);
    got.into_iter().for_each(|(_, p)| p.free_pkt());
    b.settle_tx();
    a.stop().unwrap();
}

#[test]
fn reset_returns_a_stopped_port_to_its_attach_state() {
    use rte_net_fbnic::flow::{FlowAction, FlowRule};
    use rte_net_fbnic::port::FlowControl;
    use rte_net_fbnic::rpc::{RssConfig, RxFilters};

    let spec = PortSpec {
        rx_queues: 2,
        ..Default::default()
    };
    let (mut a, mut b) = cabled_pair(&spec, &PortSpec::default());
    a.start().unwrap();
    b.start().unwrap();
    let own = a.port.perm_addr();
    let other = MacAddr([0x02, 0x77, 0, 0, 0, 1]);
    let extra = MacAddr([0x02, 0x77, 0, 0, 0, 2]);
    a.port
        .update_filters(|f| {
            f.primary = other;
            f.uc.push(extra);
            f.allmulti = true;
            Ok(())
        })
        .unwrap();
    a.port
        .update_rss(|r| {
            r.key[0] ^= 0xff;
            r.reta.fill(1);
            Ok(())
        })
        .unwrap();
    let old_rule = a
        .port
        .flow_create(FlowRule::any(FlowAction::Queue(1)))
        .unwrap();
    a.port.set_flow_control(FlowControl {
        rx_pause: false,
        tx_pause: false,
    });
    a.port.set_timesync(true).unwrap();
    assert_eq!(
        deliver(&mut a, &mut b, other, 1),
        1,
        "the changed address in force"
    );

    assert!(
        matches!(a.port.reset(), Err(Error::Busy(_))),
        "a started port refuses a reset"
    );
    assert!(a.port.is_started(), "and keeps running");
    let boots = a.tp.device().fw_state().boots;
    a.stop().unwrap();
    a.port.reset().unwrap();

    assert_eq!(a.port.settings(), rte_net_fbnic::PortSettings::default());
    assert_eq!(a.port.rss(), RssConfig::spread(1, Default::default()));
    assert_eq!(
        a.port.filters(),
        RxFilters {
            primary: own,
            ..Default::default()
        }
    );
    assert_eq!(a.port.flow_control(), FlowControl::default());
    assert!(a.port.flows().is_empty(), "no flow rule survives a reset");
    assert!(
        a.port.flow_destroy(old_rule).is_err(),
        "the old handle names no rule"
    );
    assert!(!a.port.fw_owner() && !a.port.is_started());
    assert_eq!(
        a.tp.device().fw_state().boots,
        boots,
        "the firmware itself runs on"
    );

    // Configured and started again, as an application does after rte_eth_dev_reset.
    a.port
        .configure(
            rte_net_fbnic::PortSettings {
                nb_rx_queues: 2,
                ..Default::default()
            },
            None,
        )
        .unwrap();
    let new_rule = a
        .port
        .flow_create(FlowRule::any(FlowAction::Queue(0)))
        .unwrap();
    assert!(new_rule > old_rule, "rule ids keep counting across a reset");
    a.port.flow_destroy(new_rule).unwrap();
    a.start().unwrap();
    assert!(a.port.fw_owner(), "ownership taken anew at the first start");
    assert_eq!(
        deliver(&mut a, &mut b, own, 2),
        1,
        "the permanent address again"
    );
    assert_eq!(deliver(&mut a, &mut b, other, 3), 0, "the old one no more");
    assert_eq!(deliver(&mut a, &mut b, extra, 4), 0, "nor the extra one");
    a.stop().unwrap();
    b.stop().unwrap();
}
