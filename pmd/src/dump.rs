//! Dumps for people debugging a port:
//! - the private dump (DPDK `rte_eth_dev_priv_dump`, `dpdk-proc-info --show-port-private`):
//!   the driver's view of the port, then each queue's rings as the device sees them, read
//!   from its registers (enables, sizes, the driver's doorbells and the device's own
//!   pointers, the per-queue counters). Where the driver and the device disagree is where a
//!   stuck queue shows;
//! - the flow rules (`rte_flow_dev_dump`, testpmd's `flow dump`): each in match order, with
//!   the action TCAM entries it takes;
//! - the descriptor dumps (`rte_eth_rx_descriptor_dump` / `rte_eth_tx_descriptor_dump`):
//!   ring slots decoded, with their state.
//!
//! Everything comes from the port's state under its lock, register reads and atomic reads
//! of ring slots, so the dumps are safe while the data path runs on other lcores.

use std::fmt::Write;

use fbnic_hw::desc::{L3Type, L4Type, Rcd, RcdType, Twd, TwdType};
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

/// `" name"` when `on`, else nothing (a decoded descriptor's flags).
fn flag(on: bool, name: &str) -> String {
    opt(on, || format!(" {name}"))
}

/// `text()` when `on`, else nothing.
fn opt(on: bool, text: impl FnOnce() -> String) -> String {
    if on {
        text()
    } else {
        String::new()
    }
}

/// One Rx completion, decoded.
fn rcd_text(raw: u64) -> String {
    let d = Rcd::from_raw(raw);
    match d.ty() {
        t @ (RcdType::HdrAl | RcdType::PayAl) => format!(
            "{} buf {} off {} len {}{}{}",
            if t == RcdType::HdrAl {
                "HDR_AL"
            } else {
                "PAY_AL"
            },
            d.buff_id(),
            d.off(),
            d.len(),
            flag(d.page_fin(), "fin"),
            flag(t == RcdType::HdrAl && d.overflow(), "overflow"),
        ),
        RcdType::OptMeta => format!(
            "OPT_META{}{}",
            opt(d.ts_valid(), || format!(" ts {}", d.ts())),
            opt(d.action_valid(), || format!(" action {}", d.action())),
        ),
        RcdType::Meta => format!(
            "META hash {:#010x} {:?}/{:?} csum {:#06x}{}{}{}{}",
            d.rss_hash(),
            d.l3_type(),
            d.l4_type(),
            d.l2_csum(),
            flag(d.l4_csum_unnecessary(), "l4-ok"),
            flag(d.err_mac_eop(), "mac-error"),
            flag(d.err_truncated(), "truncated"),
            flag(d.err_parser(), "parser-error"),
        ),
    }
}

/// One Tx work descriptor, decoded.
fn twd_text(raw: u64) -> String {
    let d = Twd::from_raw(raw);
    match d.ty() {
        TwdType::Meta => {
            // The header layout matters only to the offloads that read it.
            let layout = if d.req_cso() || d.req_lso() {
                format!(
                    " l2 {} l3 {:?} {} l4 {:?} {}",
                    d.l2_hlen() * 2,
                    L3Type::from_bits(d.l3_type()),
                    d.l3_ihlen() * 2,
                    L4Type::from_bits(d.l4_type()),
                    d.l4_hlen() * 4
                )
            } else {
                String::new()
            };
            let mut dest: Vec<&str> = [
                (d.dest_mac(), "mac"),
                (d.dest_bmc(), "bmc"),
                (d.dest_fw(), "fw"),
            ]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect();
            if dest.is_empty() {
                dest.push("mac");
            }
            format!(
                "META{layout}{}{}{}{} to {}",
                flag(d.req_cso(), "csum"),
                opt(d.req_lso(), || format!(" lso mss {}", d.mss())),
                flag(d.req_ts(), "ts"),
                flag(d.req_completion(), "completion"),
                dest.join("+"),
            )
        }
        TwdType::OptMeta => "OPT_META".to_string(),
        t @ (TwdType::Al | TwdType::LastAl) => format!(
            "{} addr {:#x} len {}",
            if t == TwdType::Al { "AL" } else { "LAST_AL" },
            d.addr(),
            d.len()
        ),
    }
}

/// Rx queue `q`'s completions (DPDK `rte_eth_rx_descriptor_dump`): `num` slots of the RCQ
/// (`size` entries) from `offset` past the driver's head (its last RCQ_HEAD doorbell, which
/// it rings after every burst that took something), each raw and decoded, and whether the
/// device has written it since (between the head and the device's tail: waiting for the
/// driver) or it still holds the previous lap's. `read` reads the ring's slots. Refuses an
/// offset past the ring; `num` is cut at the ring's size.
pub fn rx_descriptors(
    tp: &dyn Transport,
    q: u16,
    offset: u16,
    num: u16,
    size: u32,
    read: impl Fn(u32) -> u64,
) -> Result<String> {
    let mask = dump_mask("rxq", q, offset, size)?;
    let ptrs = RcqPtrs::from_raw(tp.read32(Bar::Bar0, regs::RCQ_PTRS.at(q as u32)));
    let (head, tail) = (ptrs.head() & mask, ptrs.tail() & mask);
    let waiting = tail.wrapping_sub(head) & mask;
    let heading = format!("rxq {q}: {size} entries, RCQ driver head {head}, device tail {tail}");
    Ok(slots(
        &heading,
        offset,
        num,
        size,
        head,
        read,
        |pos, raw| {
            let state = if pos < waiting {
                "written, waiting for the driver"
            } else {
                "previous lap"
            };
            format!("{} ({state})", rcd_text(raw))
        },
    ))
}

/// Tx queue `q`'s work descriptors (DPDK `rte_eth_tx_descriptor_dump`): `num` slots of the
/// TWQ from `offset` past the driver's tail (its last doorbell: 0 is where the next packet
/// goes), each raw and decoded, and whether the device still has it to send (posted and
/// not yet consumed: the slots from the device's head up to the tail, reached from the tail
/// by wrapping) or it is free. As [`rx_descriptors`] otherwise.
pub fn tx_descriptors(
    tp: &dyn Transport,
    q: u16,
    offset: u16,
    num: u16,
    size: u32,
    read: impl Fn(u32) -> u64,
) -> Result<String> {
    let mask = dump_mask("txq", q, offset, size)?;
    let tail = tp.read32(Bar::Bar0, regs::TWQ0_TAIL.at(q as u32)) & mask;
    let head = TwqPtrs::from_raw(tp.read32(Bar::Bar0, regs::TWQ0_PTRS.at(q as u32))).head() & mask;
    // From the tail, the free slots come first, up to the device's head; from there on to
    // the tail again, the slots the device has still to consume.
    let to_head = head.wrapping_sub(tail) & mask;
    let heading = format!("txq {q}: {size} entries, TWQ driver tail {tail}, device head {head}");
    Ok(slots(
        &heading,
        offset,
        num,
        size,
        tail,
        read,
        |pos, raw| {
            let state = if to_head != 0 && pos >= to_head {
                "posted, not yet sent"
            } else {
                "free"
            };
            format!("{} ({state})", twd_text(raw))
        },
    ))
}

/// The index mask of a ring of `size` entries whose dump starts `offset` slots in; refused
/// unless the size is a power of two and the offset inside it.
fn dump_mask(kind: &str, q: u16, offset: u16, size: u32) -> Result<u32> {
    if !size.is_power_of_two() || offset as u32 >= size {
        return Err(Error::invalid(format!(
            "{kind} {q}: offset {offset} is not inside the ring of {size} entries"
        )));
    }
    Ok(size - 1)
}

/// The dump: `heading`, then slots `from + offset` on (at most to the ring's `size`), each
/// as `line(position from `from`, raw word)` says.
fn slots(
    heading: &str,
    offset: u16,
    num: u16,
    size: u32,
    from: u32,
    read: impl Fn(u32) -> u64,
    line: impl Fn(u32, u64) -> String,
) -> String {
    let mut s = format!("{heading}; {num} from offset {offset}:\n");
    for pos in offset as u32..(offset as u32 + num as u32).min(size) {
        let slot = (from + pos) & (size - 1);
        let raw = read(slot);
        let _ = writeln!(s, "  [{slot:5}] {raw:#018x} {}", line(pos, raw));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeDevice;

    #[test]
    fn descriptor_dumps_name_each_slot_and_its_state() {
        let dev = FakeDevice::new();
        let tp: &dyn Transport = &dev;
        // An RCQ of 16: the driver's head at 14, the device's tail at 2 (four completions
        // waiting across the wrap: two frames).
        tp.write32(
            Bar::Bar0,
            regs::RCQ_PTRS.at(1),
            RcqPtrs::default().with_head(14).with_tail(2).raw(),
        );
        let mut ring = [0u64; 16];
        let pay = |id: u16| {
            Rcd::al(RcdType::PayAl, id, 0, 60, true)
                .with_done(true)
                .raw()
        };
        let meta = Rcd::meta().with_rss_hash(0xabcd).with_done(true).raw();
        (ring[14], ring[15], ring[0], ring[1]) = (pay(7), meta, pay(8), meta);
        let text = rx_descriptors(tp, 1, 0, 6, 16, |i| ring[i as usize]).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "rxq 1: 16 entries, RCQ driver head 14, device tail 2; 6 from offset 0:"
        );
        assert_eq!(lines.len(), 7, "{text}");
        assert!(
            lines[1].starts_with("  [   14] ")
                && lines[1].contains("PAY_AL buf 7 off 0 len 60 fin")
        );
        assert!(lines[2].contains("META hash 0x0000abcd"), "{text}");
        assert!(lines[3].starts_with("  [    0] ") && lines[3].contains("PAY_AL buf 8"));
        assert!(lines[1..5]
            .iter()
            .all(|l| l.ends_with("(written, waiting for the driver)")));
        assert!(
            lines[5..].iter().all(|l| l.ends_with("(previous lap)")),
            "{text}"
        );
        // Cut at the ring's size; an offset outside it refused.
        let text = rx_descriptors(tp, 1, 10, 100, 16, |i| ring[i as usize]).unwrap();
        assert_eq!(text.lines().count(), 1 + 6);
        assert!(rx_descriptors(tp, 1, 16, 1, 16, |_| 0).is_err());

        // A TWQ of 16: the driver's tail at 3, the device's head at 13 (six descriptors still
        // to send: 13..16 and 0..3). From the tail: ten free slots, then those six.
        tp.write32(Bar::Bar0, regs::TWQ0_TAIL.at(0), 3);
        tp.write32(
            Bar::Bar0,
            regs::TWQ0_PTRS.at(0),
            TwqPtrs::default().with_head(13).raw(),
        );
        let mut ring = [0u64; 16];
        ring[13] = Twd::meta()
            .with_req_cso(true)
            .with_l2_hlen(7)
            .with_req_completion(true)
            .raw();
        ring[14] = Twd::al(0x1000, 64, true).raw();
        let text = tx_descriptors(tp, 0, 8, 8, 16, |i| ring[i as usize]).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "txq 0: 16 entries, TWQ driver tail 3, device head 13; 8 from offset 8:"
        );
        assert!(lines[1..3].iter().all(|l| l.ends_with("(free)")), "{text}");
        assert!(
            lines[3..]
                .iter()
                .all(|l| l.ends_with("(posted, not yet sent)")),
            "{text}"
        );
        assert!(
            lines[3].starts_with("  [   13] ") && lines[3].contains("META l2 14 "),
            "{text}"
        );
        assert!(lines[3].contains(" csum completion to mac"), "{text}");
        assert!(lines[4].contains("LAST_AL addr 0x1000 len 64"), "{text}");
    }
}
