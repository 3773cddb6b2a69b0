//! The port's private dump (DPDK `rte_eth_dev_priv_dump`, `dpdk-proc-info
//! --show-port-private`): the driver's view of the port, then each queue's rings as the device
//! sees them, read from its registers (enables, sizes, the driver's doorbells and the
//! device's own pointers, the per-queue counters). Where the driver and the device disagree
//! is where a stuck queue shows. Everything comes from the port's state under its lock and
//! from register reads, so the dump is safe while the data path runs on other lcores.

use std::fmt::Write;

use fbnic_hw::regs::{self, Bar, QReg, QueueCtl, RcqPtrs, RingPtrs, RingSize, TcqPtrs, TwqPtrs};

use crate::error::{Error, Result};
use crate::flow::FlowId;
use crate::port::Port;
use crate::rpc;
use crate::transport::Transport;

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// One ring's CTL and SIZE as "enabled, 1024 entries" (or what is wrong with them).
fn ring(tp: &dyn Transport, q: u32, ctl: QReg, size: QReg) -> String {
    let c = QueueCtl::from_raw(tp.read32(Bar::Bar0, ctl.at(q)));
    let state = match (c.reset(), c.enable()) {
        (true, _) => "in reset",
        (false, true) => "enabled",
        (false, false) => "disabled",
    };
    match RingSize::from_raw(tp.read32(Bar::Bar0, size.at(q))).entries() {
        Some(n) => format!("{state}, {n} entries"),
        None => format!("{state}, invalid size"),
    }
}

/// The port's private dump for a port with `nb_rx` Rx and `nb_tx` Tx queues.
pub fn port_state(port: &Port, name: &str, nb_rx: u16, nb_tx: u16) -> String {
    let tp = port.transport();
    let r = |reg: regs::Reg| tp.read32(Bar::Bar0, reg);
    let mut s = String::new();
    let link = port.link();
    let f = port.filters();
    let rss = port.rss();
    let fc = port.flow_control();
    let _ = writeln!(s, "{name}: net_fbnic port state");
    let _ = writeln!(
        s,
        "  started: {}, link: {}{}{}",
        yes(port.is_started()),
        if link.up { "up" } else { "down" },
        link.speed
            .map_or(String::new(), |m| format!(", {}", m.name())),
        link.fec
            .map_or(String::new(), |f| format!(", FEC {}", f.name())),
    );
    let _ = writeln!(
        s,
        "  MAC: {} (permanent {}), promiscuous {}, all-multicast {}, {} more unicast, {} multicast",
        f.primary,
        port.perm_addr(),
        yes(f.promisc),
        yes(f.allmulti),
        f.uc.len(),
        f.mc.len(),
    );
    let _ = writeln!(
        s,
        "  firmware: version {}, owner {}, unresponsive {}, malformed messages {}",
        port.fw_version()
            .map_or("unknown".into(), |v| v.to_string()),
        yes(port.fw_owner()),
        yes(port.fw_dead()),
        port.fw_malformed(),
    );
    let mut spread = vec![0u32; nb_rx.max(1) as usize];
    for &q in rss.reta.iter() {
        if let Some(n) = spread.get_mut(q as usize) {
            *n += 1;
        }
    }
    let key: String = rss.key.iter().map(|b| format!("{b:02x}")).collect();
    let h = rss.hash;
    let types: Vec<&str> = [
        (h.ipv4, "ipv4"),
        (h.ipv4_tcp, "ipv4-tcp"),
        (h.ipv4_udp, "ipv4-udp"),
        (h.ipv6, "ipv6"),
        (h.ipv6_tcp, "ipv6-tcp"),
        (h.ipv6_udp, "ipv6-udp"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    let types = if types.is_empty() {
        "none".to_string()
    } else {
        types.join(" ")
    };
    let _ = writeln!(
        s,
        "  RSS: hash {types}; key {key}; table entries per queue {spread:?}"
    );
    let _ = writeln!(
        s,
        "  flow rules: {}, isolated {}; pause: rx {}, tx {}",
        port.flows().len(),
        yes(port.isolated()),
        yes(fc.rx_pause),
        yes(fc.tx_pause),
    );
    let _ = writeln!(s, "  queues, as the device's registers show them:");
    for q in 0..nb_rx as u32 {
        let rcq = RcqPtrs::from_raw(r(regs::RCQ_PTRS.at(q)));
        let ppq = RingPtrs::from_raw(r(regs::BDQ_PPQ_PTRS.at(q)));
        let bdq = QueueCtl::from_raw(r(regs::BDQ_CTL.at(q)));
        let _ = writeln!(
            s,
            "  rxq {q}: RCQ {}, driver head {}, device tail {}; BDQ {}{}, PPQ {}, device head {}, driver tail {}; packets {}, errors {}, dropped for a full RCQ {}, for no buffer {}",
            ring(tp, q, regs::RCQ_CTL, regs::RCQ_SIZE),
            rcq.head(),
            rcq.tail(),
            if bdq.enable() { "enabled" } else { "disabled" },
            if bdq.ppq_enable() { "" } else { " (PPQ off)" },
            RingSize::from_raw(r(regs::BDQ_PPQ_SIZE.at(q)))
                .entries()
                .map_or("invalid size".into(), |n| format!("{n} entries")),
            ppq.head(),
            ppq.tail(),
            r(regs::RDE_PKT_CNT.at(q)),
            r(regs::RDE_PKT_ERR.at(q)),
            r(regs::RDE_CQ_DROP.at(q)),
            r(regs::RDE_BDQ_DROP.at(q)),
        );
    }
    for q in 0..nb_tx as u32 {
        let twq = TwqPtrs::from_raw(r(regs::TWQ0_PTRS.at(q)));
        let tcq = TcqPtrs::from_raw(r(regs::TCQ_PTRS.at(q)));
        let _ = writeln!(
            s,
            "  txq {q}: TWQ {}, driver tail {}, device head {}; TCQ {}, driver head {}, device tail {}; packets {}, errors {}",
            ring(tp, q, regs::TWQ0_CTL, regs::TWQ0_SIZE),
            r(regs::TWQ0_TAIL.at(q)),
            twq.head(),
            ring(tp, q, regs::TCQ_CTL, regs::TCQ_SIZE),
            r(regs::TCQ_HEAD.at(q)),
            tcq.tail(),
            r(regs::TWQ0_PKT_CNT.at(q)),
            r(regs::TWQ0_ERR_CNT.at(q)),
        );
    }
    s
}

/// The flow rules (all, or rule `only`) in match order, each with the action TCAM entries it
/// takes, and what becomes of the frames no rule takes. Fails if `only` names no rule.
pub fn flow_rules(port: &Port, name: &str, only: Option<FlowId>) -> Result<String> {
    let flows = port.flows();
    let placed = rpc::flow_placement(&flows, port.bmc().as_ref());
    let mut s = String::new();
    if only.is_none() {
        let used: u32 = placed.iter().map(|&(_, _, n)| n).sum();
        let rest = if port.isolated() {
            "dropped (isolated mode)"
        } else {
            "spread by RSS"
        };
        let _ = writeln!(
            s,
            "{name}: flow rules {}, action TCAM entries {used} of {}; frames no rule takes are {rest}",
            flows.len(),
            rpc::FLOW_ENTRIES,
        );
    }
    let mut found = false;
    for ((id, rule), &(_, first, n)) in flows.with_ids().zip(&placed) {
        if only.is_some_and(|o| o != id) {
            continue;
        }
        found = true;
        let at = match n {
            1 => format!("entry {first}"),
            _ => format!("entries {first}-{}", first + n - 1),
        };
        let _ = writeln!(s, "  rule {id}: {rule}; action TCAM {at}");
    }
    match only {
        Some(id) if !found => Err(Error::invalid(format!("no flow rule {id}"))),
        _ => Ok(s),
    }
}
