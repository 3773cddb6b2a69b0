//! Data path: Tx -> cable -> Rx, scatter, DONE phase, counters, RSS, TCAMs, drops, faults.

mod common;

use std::time::Duration;

use common::*;
use fbnic_hw::desc::{L3Type, L4Type, Twd};
use fbnic_hw::regs::*;
use fbnic_model::Bar;

const T: Duration = Duration::from_secs(5);

#[test]
fn frame_crosses_a_cable_intact() {
    let (_f, a, b) = cabled_pair();
    let mut tx = TxQ::new(&a, 0, 64, 0x1000_0000, 1 << 20);
    let mut rx = RxQ::new(&b, 0, 0x2000_0000, &RxCfg::default());
    let frame = udp4(b.mac_addr(), [10, 0, 0, 1], [10, 0, 0, 2], 1000, 2000, 100);
    assert!(tx.send(&[frame.clone()]));
    let got = rx.recv(1, T);
    assert_eq!(got.len(), 1);
    let g = &got[0];
    assert_eq!(g.data, frame);
    assert_eq!(g.als.len(), 1);
    assert_eq!(g.als[0].off() as usize, 128);
    assert!(g.als[0].page_fin());
    assert_eq!(g.meta.l3_type(), L3Type::Ipv4);
    assert_eq!(g.meta.l4_type(), L4Type::Udp);
    assert!(g.meta.l4_csum_unnecessary());
    assert!(!g.meta.err_parser() && !g.meta.uncorrectable_error());
    assert!(wait_until(T, || r(&b, RDE_PKT_CNT.at(0)) == 1));
    assert_eq!(r(&a, TWQ0_PKT_CNT.at(0)), 1);
    assert_eq!(r(&a, TWQ0_BYTE_CNT.at(0)), frame.len() as u32);
    assert_eq!(r(&b, RDE_BYTE_CNT.at(0)), frame.len() as u32);
    assert_eq!(b.read_mac_stat(mac_stat::RX_OK), 1);
    assert_eq!(a.read_mac_stat(mac_stat::TX_OK), 1);
    assert_eq!(
        a.read_mac_stat(mac_stat::TX_BYTES),
        frame.len() as u64 + 4,
        "MAC byte counters include the FCS"
    );
    assert_eq!(TwqPtrs::from_raw(r(&a, TWQ0_PTRS.at(0))).head(), tx.tail);
}
