//! The firmware agent: signs of life, mailbox protocol, messages, fault injection.

mod common;

use std::time::{Duration, Instant};

use common::*;
use fbnic_hw::msg::{Msg, TestAttrs};
use fbnic_hw::regs::*;
use fbnic_hw::version::FwVersion;
use fbnic_hw::{Fec, LinkSpeed, MacAddr};
use fbnic_model::{BmcConfig, DeviceConfig, FwConfig, FwFaults};

const T: Duration = Duration::from_secs(5);

fn dev_with(
    f: &std::sync::Arc<fbnic_model::Fabric>,
    cfg: DeviceConfig,
) -> std::sync::Arc<fbnic_model::Device> {
    f.add_device(cfg)
}

#[test]
fn signs_of_life_after_boot_delay() {
    let f = fabric();
    let mut cfg = dev_cfg(1);
    cfg.fw.boot_delay = Duration::from_millis(150);
    let t = Instant::now();
    let d = dev_with(&f, cfg);
    assert_eq!(
        r(&d, intr_status(0)) & INTR_STATUS0_FW_MBX,
        0,
        "not before the delay"
    );
    assert!(wait_until(T, || r(&d, intr_status(0))
        & INTR_STATUS0_FW_MBX
        != 0));
    assert!(t.elapsed() >= Duration::from_millis(150));
    assert!(d.fw_state().alive);
    // INTR_CLEAR is write-1-to-clear.
    w(&d, intr_clear(0), INTR_STATUS0_FW_MBX);
    assert_eq!(r(&d, intr_status(0)) & INTR_STATUS0_FW_MBX, 0);
}

#[test]
fn capabilities_ownership_heartbeat() {
    let f = fabric();
    let bmc_mac = MacAddr([0x02, 0xbb, 0, 0, 0, 1]);
    let cfg = DeviceConfig {
        link: LinkSpeed::G50Cr2,
        fec: Fec::BaseR,
        bmc: Some(BmcConfig {
            macs: vec![bmc_mac],
            all_multi: true,
        }),
        fw: FwConfig {
            version: FwVersion::new(0, 10, 6, 7),
            ..Default::default()
        },
        ..dev_cfg(1)
    };
    let d = dev_with(&f, cfg);
    let mut m = Mbx::open(&d, 0x7000_0000);
    let Some(Msg::FwCapResp(c)) = m.call(&Msg::HostCapReq, |m| matches!(m, Msg::FwCapResp(_)))
    else {
        panic!("no FW_CAP_RESP")
    };
    assert_eq!(c.version, FwVersion::new(0, 10, 6, 7));
    assert!(c.bmc_present);
    assert_eq!(c.bmc_macs, vec![bmc_mac]);
    assert!(c.bmc_all_multi);
    assert_eq!(c.link_speed, Some(LinkSpeed::G50Cr2));
    assert_eq!(c.link_fec, Some(Fec::BaseR));
    assert!(c.commit.is_some() && c.active_slot.is_some() && c.stored_version.is_some());

    let r1 = m.call(&Msg::OwnershipReq { take: true }, |m| {
        matches!(m, Msg::OwnershipResp { .. })
    });
    assert!(r1.is_some());
    assert!(d.fw_state().owner);

    let up = |m: &mut Mbx| match m.call(&Msg::HeartbeatReq, |m| {
        matches!(m, Msg::HeartbeatResp { .. })
    }) {
        Some(Msg::HeartbeatResp { uptime, messages }) => (uptime, messages),
        other => panic!("{other:?}"),
    };
    let (u1, n1) = up(&mut m);
    std::thread::sleep(Duration::from_millis(20));
    let (u2, n2) = up(&mut m);
    assert!(u2 > u1, "uptime increases: {u1} {u2}");
    assert!(n2 > n1);
    assert_eq!(d.fw_state().heartbeats_answered, 2);

    assert!(m
        .call(&Msg::OwnershipReq { take: false }, |m| matches!(
            m,
            Msg::OwnershipResp { .. }
        ))
        .is_some());
    assert!(!d.fw_state().owner);
    let st = d.stats();
    assert_eq!(st.fw_messages_bad, 0);
    assert!(st.fw_messages_seen >= 5);
}

#[test]
fn malformed_host_messages_are_counted_and_survived() {
    let f = fabric();
    let d = dev_with(&f, dev_cfg(1));
    let mut m = Mbx::open(&d, 0x7000_0000);
    let garbage: [&[u8]; 4] = [
        &[0xff; 16],
        &[0x10, 0x80, 0xff, 0xff], // message length beyond the buffer
        &[],                       // empty
        &[0x14, 0x80, 0x02, 0x00, 0x01, 0x00, 0xff, 0x7f], // attribute overruns
    ];
    for g in garbage {
        let slot = m.send_raw(g);
        let desc = m.wait_tx(slot).expect("completed");
        assert!(desc.fw_err(), "FW_ERR on {g:?}");
    }
    assert_eq!(d.stats().fw_messages_bad, 4);
    // Still alive.
    assert!(m
        .call(&Msg::HeartbeatReq, |m| matches!(
            m,
            Msg::HeartbeatResp { .. }
        ))
        .is_some());
    // A page length beyond 4 KiB, and an unmapped address, are refused too.
    let slot = m.send_raw(&Msg::HeartbeatReq.encode().unwrap());
    assert!(!m.wait_tx(slot).unwrap().fw_err());
}

#[test]
fn messages_qsfp_tsene_logs_sync_test() {
    let f = fabric();
    let d = dev_with(&f, dev_cfg(1));
    let mut m = Mbx::open(&d, 0x7000_0000);
    match m.call(
        &Msg::QsfpReadReq {
            bank: 0,
            page: 0,
            offset: 128,
            length: 128,
        },
        |m| matches!(m, Msg::QsfpReadResp { .. }),
    ) {
        Some(Msg::QsfpReadResp { data, error, .. }) => {
            assert_eq!(error, 0);
            assert_eq!(data.len(), 128);
            assert_eq!(data[0], 0x11, "QSFP28 identifier");
            assert_eq!(&data[20..36], b"FBNIC-MODEL     ", "vendor name");
        }
        other => panic!("{other:?}"),
    }
    match m.call(
        &Msg::QsfpReadReq {
            bank: 0,
            page: 3,
            offset: 128,
            length: 16,
        },
        |m| matches!(m, Msg::QsfpReadResp { .. }),
    ) {
        Some(Msg::QsfpReadResp { error, data, .. }) => {
            assert_ne!(error, 0);
            assert!(data.is_empty());
        }
        other => panic!("{other:?}"),
    }
    match m.call(&Msg::TseneReadReq, |m| {
        matches!(m, Msg::TseneReadResp { .. })
    }) {
        Some(Msg::TseneReadResp { therm, volt, error }) => {
            assert_eq!(error, 0);
            assert!((20_000..90_000).contains(&therm));
            assert!((700..1000).contains(&volt));
        }
        other => panic!("{other:?}"),
    }
    let logs = m.call(
        &Msg::LogSendLogsReq {
            enable: true,
            version: Some(1),
            history: true,
        },
        |m| matches!(m, Msg::LogMsg { .. }),
    );
    match logs {
        Some(Msg::LogMsg { msg, more, .. }) => {
            let all: Vec<String> = std::iter::once(msg)
                .chain(more.into_iter().map(|e| e.msg))
                .collect();
            assert!(
                all.iter().any(|l| l.contains("link up 100G-CR2")),
                "{all:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(d.fw_state().logs_enabled);
    let uc = vec![MacAddr([2, 0, 0, 0, 0, 9])];
    m.send(&Msg::RpcMacSyncReq {
        rx_flags: 4,
        uc: uc.clone(),
        mc: vec![],
    });
    assert!(wait_until(T, || d.fw_state().last_mac_sync.is_some()));
    let s = d.fw_state().last_mac_sync.unwrap();
    assert_eq!((s.rx_flags, s.uc), (4, uc));
    let t = Msg::Test {
        attrs: TestAttrs {
            u64: Some(7),
            string: Some("hello".into()),
            ..Default::default()
        },
        nested: None,
    };
    let echo = m.call(&t, |m| matches!(m, Msg::Test { .. }));
    assert_eq!(echo, Some(t));
}

#[test]
fn fault_injection() {
    let f = fabric();
    // No signs of life at all.
    let mut cfg = dev_cfg(1);
    cfg.fw.faults.no_signs_of_life = true;
    let dead = dev_with(&f, cfg);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(r(&dead, intr_status(0)) & INTR_STATUS0_FW_MBX, 0);
    assert!(!dead.fw_state().alive);

    let d = dev_with(&f, dev_cfg(2));
    let mut m = Mbx::open(&d, 0x7000_0000);
    let short = Duration::from_millis(200);

    d.set_fw_faults(FwFaults {
        ignore_ownership: true,
        ..Default::default()
    });
    m.send(&Msg::OwnershipReq { take: true });
    assert!(m
        .wait_msg(short, |m| matches!(m, Msg::OwnershipResp { .. }))
        .is_none());
    assert!(!d.fw_state().owner);

    d.set_fw_faults(FwFaults {
        stop_heartbeat: true,
        ..Default::default()
    });
    m.send(&Msg::HeartbeatReq);
    assert!(m.wait_msg(short, |_| true).is_none());

    d.set_fw_faults(FwFaults {
        malformed_response: true,
        ..Default::default()
    });
    m.send(&Msg::HeartbeatReq);
    let t = Instant::now();
    let mut raw = Vec::new();
    while raw.is_empty() && t.elapsed() < T {
        raw = m.recv_raw();
    }
    assert_eq!(raw.len(), 1);
    assert!(Msg::decode(&raw[0]).is_err(), "corrupt TLV");

    d.set_fw_faults(FwFaults {
        version_override: Some(FwVersion::new(0, 9, 0, 0)),
        ..Default::default()
    });
    match m.call(&Msg::HostCapReq, |m| matches!(m, Msg::FwCapResp(_))) {
        Some(Msg::FwCapResp(c)) => assert_eq!(c.version, FwVersion::new(0, 9, 0, 0)),
        other => panic!("{other:?}"),
    }

    d.set_fw_faults(FwFaults {
        response_delay: Duration::from_millis(100),
        ..Default::default()
    });
    let t = Instant::now();
    assert!(m
        .call(&Msg::HeartbeatReq, |m| matches!(
            m,
            Msg::HeartbeatResp { .. }
        ))
        .is_some());
    assert!(t.elapsed() >= Duration::from_millis(100));

    // Crash: uptime restarts, ownership is lost, signs of life come again.
    d.set_fw_faults(FwFaults::default());
    m.call(&Msg::OwnershipReq { take: true }, |m| {
        matches!(m, Msg::OwnershipResp { .. })
    })
    .unwrap();
    std::thread::sleep(Duration::from_millis(30));
    let before = match m.call(&Msg::HeartbeatReq, |m| {
        matches!(m, Msg::HeartbeatResp { .. })
    }) {
        Some(Msg::HeartbeatResp { uptime, .. }) => uptime,
        o => panic!("{o:?}"),
    };
    w(&d, intr_clear(0), INTR_STATUS0_FW_MBX);
    d.set_fw_faults(FwFaults {
        crash: true,
        ..Default::default()
    });
    assert!(!d.fw_state().owner);
    assert_eq!(d.fw_state().boots, 2);
    assert!(wait_until(T, || r(&d, intr_status(0))
        & INTR_STATUS0_FW_MBX
        != 0));
    let after = match m.call(&Msg::HeartbeatReq, |m| {
        matches!(m, Msg::HeartbeatResp { .. })
    }) {
        Some(Msg::HeartbeatResp { uptime, .. }) => uptime,
        o => panic!("{o:?}"),
    };
    assert!(after < before, "uptime went backwards: {before} -> {after}");
}

#[test]
fn no_dma_without_bus_master_enable() {
    let f = fabric();
    let d = dev_with(&f, dev_cfg(1));
    let mut m = Mbx::open(&d, 0x7000_0000);
    w(&d, PUL_OB_TLP_HDR_AR_CFG, 0);
    let slot = m.send(&Msg::HeartbeatReq);
    std::thread::sleep(Duration::from_millis(30));
    assert!(
        !rd4(&d, MBX_TX, slot).fw_cmpl(),
        "not processed without BME"
    );
    w(&d, PUL_OB_TLP_HDR_AR_CFG, PUL_OB_TLP_HDR_BME);
    assert!(m.wait_tx(slot).is_some());
    assert!(m
        .wait_msg(T, |m| matches!(m, Msg::HeartbeatResp { .. }))
        .is_some());
}

#[test]
fn mailbox_power_on_state() {
    let f = fabric();
    let d = dev_with(&f, dev_cfg(1));
    for mbx in [MBX_RX, MBX_TX] {
        assert_eq!(rd4(&d, mbx, 0).raw(), 0);
        for s in 1..16 {
            let x = rd4(&d, mbx, s);
            assert!(x.fw_cmpl() && x.host_cmpl());
        }
    }
}

#[test]
fn host_reinitialises_the_mailbox() {
    let f = fabric();
    let d = dev_with(&f, dev_cfg(1));
    let mut m = Mbx::open(&d, 0x7000_0000);
    for _ in 0..5 {
        assert!(m
            .call(&Msg::HeartbeatReq, |m| matches!(
                m,
                Msg::HeartbeatResp { .. }
            ))
            .is_some());
    }
    drop(m);
    // A new host instance (say, after a driver restart) resets both rings and starts at 0.
    let mut m = Mbx::open(&d, 0x7100_0000);
    for _ in 0..20 {
        assert!(m
            .call(&Msg::HeartbeatReq, |m| matches!(
                m,
                Msg::HeartbeatResp { .. }
            ))
            .is_some());
    }
}

#[test]
fn crash_after_reboots_the_firmware_once_at_the_set_time() {
    let f = fabric();
    let mut cfg = dev_cfg(1);
    cfg.fw.faults.crash_after = Some(Duration::from_millis(300));
    let d = dev_with(&f, cfg);
    let mut m = Mbx::open(&d, 0x7000_0000);
    m.send(&Msg::OwnershipReq { take: true });
    assert!(m
        .wait_msg(T, |m| matches!(m, Msg::OwnershipResp { .. }))
        .is_some());
    assert!(d.fw_state().owner);
    assert_eq!(d.fw_state().boots, 1, "not before its time");
    assert!(
        wait_until(T, || d.fw_state().boots == 2),
        "the firmware rebooted"
    );
    assert!(!d.fw_state().owner, "the crash loses ownership");
    let uptime = match m.call(&Msg::HeartbeatReq, |m| {
        matches!(m, Msg::HeartbeatResp { .. })
    }) {
        Some(Msg::HeartbeatResp { uptime, .. }) => uptime,
        o => panic!("{o:?}"),
    };
    assert!(uptime < 300, "uptime restarted from the crash: {uptime} ms");
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(d.fw_state().boots, 2, "once only");
}
