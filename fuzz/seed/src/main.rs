//! Writes seed corpora for the fuzz targets: every message of the schema table, encoded,
//! plus hand-built TLV shapes (unknown and CANNOT_IGNORE attributes, nesting, arrays), and a
//! few Ethernet frames (IPv4/IPv6, TCP/UDP, a VLAN tag, padding) for the frame targets.
//!
//! Usage: `fbnic-fuzz-seed DIR...`: writes the same seeds into each DIR (created if needed).

use std::path::Path;
use std::process::ExitCode;

use fbnic_hw::desc::{Rcd, RcdType};
use fbnic_hw::msg::{attr, id, FwCapResp, Msg, TestAttrs};
use fbnic_hw::tlv::MsgBuilder;
use fbnic_hw::{FwVersion, MacAddr};

fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for m in Msg::examples() {
        let bytes = m.encode().expect("every example encodes");
        out.push((format!("msg-{}", m.name().to_ascii_lowercase()), bytes));
    }
    // Corner cases of the schemas: absent optionals, empty arrays, errors without data.
    let corners = [
        Msg::FwCapResp(FwCapResp {
            version: FwVersion::MIN_SUPPORTED,
            bmc_present: true,
            ..FwCapResp::default()
        }),
        Msg::CoredumpReadResp {
            offset: 0,
            length: 0,
            data: vec![],
            error: -61,
        },
        Msg::TseneReadResp {
            therm: 0,
            volt: 0,
            error: -5,
        },
        Msg::LogMsg {
            msec: 0,
            index: 0,
            msg: String::new(),
            more: vec![],
        },
        Msg::Test {
            attrs: TestAttrs::default(),
            nested: Some(TestAttrs::default()),
        },
    ];
    for (i, m) in corners.iter().enumerate() {
        let bytes = m.encode().expect("every corner case encodes");
        out.push((
            format!("corner-{i}-{}", m.name().to_ascii_lowercase()),
            bytes,
        ));
    }
    let mac = MacAddr([0x02, 0x1b, 0x9d, 0, 0, 1]);
    let raw = [
        (
            "unknown-skippable",
            MsgBuilder::new(id::HEARTBEAT_RESP)
                .u64(attr::heartbeat::UPTIME, 5)
                .u32(0x1d, 1)
                .string(0x1e, "future"),
        ),
        (
            "unknown-required",
            MsgBuilder::new(id::OWNERSHIP_REQ)
                .flag(attr::ownership::FLAG)
                .u32(0x1f, 1)
                .cannot_ignore(),
        ),
        (
            "deep-nesting",
            MsgBuilder::new(id::TEST).nested(attr::test::NESTED, |n| {
                n.nested(attr::test::NESTED, |n| n.u32(attr::test::U32, 1).flag(7))
                    .mac(attr::test::MAC_ADDR, &mac)
            }),
        ),
        (
            "arrays",
            MsgBuilder::new(id::FW_CAP_RESP)
                .u32(attr::fw_cap::VERSION, 0x000a_0600)
                .flag(attr::fw_cap::BMC_PRESENT)
                .mac_array(
                    attr::fw_cap::BMC_MAC_ARRAY,
                    attr::fw_cap::BMC_MAC_ADDR,
                    &[mac, mac],
                )
                .array(0x14, 1, |a| a.u32(1).u64(2).string("s").bytes(&[1, 2, 3])),
        ),
        (
            "log-history",
            MsgBuilder::new(id::LOG_MSG_REQ)
                .u32(attr::log::MSEC, 1)
                .u64(attr::log::INDEX, 1)
                .string(attr::log::MSG, "first")
                .u32(attr::log::LENGTH, 1)
                .array(attr::log::MSEC_ARRAY, attr::log::MSEC, |a| a.u32(2))
                .array(attr::log::INDEX_ARRAY, attr::log::INDEX, |a| a.u64(2))
                .array(attr::log::MSG_ARRAY, attr::log::MSG, |a| a.string("second")),
        ),
        ("empty-unknown-id", MsgBuilder::new(0x7ff)),
    ];
    for (name, b) in raw {
        out.push((format!("tlv-{name}"), b.finish().expect("seed builds")));
    }
    let frames = frames();
    out.extend(tx_runs(&frames));
    out.extend(rx_runs());
    out.extend(frames);
    out
}

/// Inputs for `rx_completions` (a config byte, then chunks of a control byte and that many
/// RCQ descriptors): in-order packets of one buffer over a 64-buffer queue that bring the
/// ring close to a lap's end, then a packet the driver must drop (it overran its buffer, or
/// its META reports a MAC error) among the lap's last three. Past the lap's end the slots
/// still hold the lap's first completions, naming buffers posted again since: a burst that
/// reads on past the drop takes one of them for a new packet.
fn rx_runs() -> Vec<(String, Vec<u8>)> {
    // Control byte: `n` descriptors follow, then a burst of 32.
    let chunk = |v: &mut Vec<u8>, rcds: &[Rcd]| {
        v.push(0xe0 | rcds.len() as u8);
        for r in rcds {
            v.extend_from_slice(&r.raw().to_le_bytes());
        }
    };
    let pkt = |id: u16, len: u16, meta: Rcd| [Rcd::al(RcdType::PayAl, id, 0, len, true), meta];
    let good = Rcd::meta();
    let mac_error = Rcd::meta().with_err_mac_eop(true);
    let mut out = Vec::new();
    for (name, last) in [
        ("overrun", pkt(61, 0x1fff, good)),
        ("mac-error", pkt(61, 64, mac_error)),
    ] {
        // Config: one buffer per packet, no scatter, no header split.
        let mut v = vec![0u8];
        // 61 packets (ids 0..61) in chunks of 15, the last one alone.
        for first in (0..60).step_by(15) {
            let rcds: Vec<Rcd> = (first..first + 15)
                .flat_map(|id| pkt(id, 64, good))
                .collect();
            chunk(&mut v, &rcds);
        }
        chunk(&mut v, &pkt(60, 64, good));
        // An empty poll: the driver posts the emptied slots again.
        chunk(&mut v, &[]);
        let tail: Vec<Rcd> = [last, pkt(62, 64, good), pkt(63, 64, good)].concat();
        chunk(&mut v, &tail);
        chunk(&mut v, &[]);
        out.push((format!("rx-lap-end-{name}"), v));
    }
    out
}

/// Inputs for `model_tx` (flags, descriptor count, first doorbell, TWDs, frame data): the
/// frames above sent whole, in two pieces, with the checksum offloads, with completions and
/// timestamps, split across the two doorbells, and some malformed chains.
fn tx_runs(frames: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    // TWD fields (spec 4.1). An address is written as 64 + its offset in the data region
    // (the target maps it back); lengths stay below 200.
    let meta = |bits: u64| bits;
    let al = |last: bool, off: usize, len: usize| {
        (if last { 3u64 } else { 2 }) << 46 | (64 + off as u64) | (len as u64) << 48
    };
    const DEST_MAC: u64 = 1 << 43;
    const CMPL: u64 = 1 << 37;
    const TS: u64 = 1 << 34;
    const CSO: u64 = 1 << 36;
    let cso_v4_udp = CSO | 7 | 1 << 6 | 10 << 16 | 3 << 24 | 2 << 32;
    let cso_v4_tcp = CSO | 7 | 1 << 6 | 10 << 16 | 8 << 24 | 1 << 32;
    let run = |flags: u8, first: u8, descs: &[u64], data: &[u8]| {
        let mut v = vec![flags, descs.len() as u8, first];
        for d in descs {
            v.extend_from_slice(&d.to_le_bytes());
        }
        v.extend_from_slice(data);
        v
    };
    let frame = |name: &str| {
        frames
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| f.clone())
            .expect("seed frame")
    };
    // LSO: a TCP/IPv4 and a UDP/IPv6 packet with a long payload, the L4 checksum field
    // holding the pseudo-header sum without the length (as a driver prepares it).
    let lso_packet = |v6: bool, tcp: bool, payload: usize| {
        let mut f = vec![2u8, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
        let proto: u8 = if tcp { 6 } else { 17 };
        if v6 {
            f.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0, 0, 0, proto, 64]);
            f.extend((0..32).map(|i| i as u8));
        } else {
            f.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 0, 0, 7, 0, 0, 64, proto, 0, 0]);
            f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        }
        let l4 = f.len();
        f.extend_from_slice(&[0x30, 0x39, 0x00, 0x50]);
        if tcp {
            f.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x19, 0xff, 0xff, 0, 0, 0, 0]);
        } else {
            f.extend_from_slice(&[0, 0, 0, 0]);
        }
        let addrs = if v6 { 22..54 } else { 26..34 };
        let pseudo = fold(sum(proto as u64, &f[addrs]));
        let field = l4 + if tcp { 16 } else { 6 };
        f[field..field + 2].copy_from_slice(&pseudo.to_be_bytes());
        f.extend((0..payload).map(|i| (i * 13) as u8));
        f
    };
    const LSO: u64 = 1 << 35;
    let lso_v4_tcp = LSO | 7 | 1 << 6 | 10 << 16 | 8 << 24 | 5 << 28 | 1 << 32 | 100 << 48;
    let lso_v6_udp = LSO | 7 | 2 << 6 | 20 << 16 | 3 << 24 | 2 << 28 | 2 << 32 | 64 << 48;
    let tso = lso_packet(false, true, 300);
    let uso = lso_packet(true, false, 200);
    let mut lso_data = tso.clone();
    lso_data.extend_from_slice(&uso);
    let udp = frame("frame-ipv4-udp");
    let tcp = frame("frame-ipv4-tcp-padded");
    let v6 = frame("frame-ipv6-tcp");
    let (u, t) = (udp.len(), tcp.len());
    let mut both = udp.clone();
    both.extend_from_slice(&tcp);
    vec![
        (
            "tx-one-frame".into(),
            run(1, 2, &[meta(DEST_MAC | CMPL), al(true, 0, u)], &udp),
        ),
        (
            "tx-two-pieces-cso-twq1".into(),
            run(
                3,
                3,
                &[
                    meta(DEST_MAC | CMPL | cso_v4_udp),
                    al(false, 0, 20),
                    al(true, 20, u - 20),
                ],
                &udp,
            ),
        ),
        (
            "tx-cso-tcp-ts-split-doorbell".into(),
            run(
                1,
                2,
                &[
                    meta(cso_v4_tcp),
                    al(false, u, 30),
                    al(true, u + 30, t - 30),
                    meta(DEST_MAC | CMPL | TS),
                    1 << 46,
                    al(true, 0, u),
                ],
                &both,
            ),
        ),
        (
            "tx-ipv6-unpadded".into(),
            run(0, 2, &[meta(CMPL), al(true, 0, v6.len())], &v6),
        ),
        (
            "tx-lso".into(),
            run(
                1,
                4,
                &[
                    meta(DEST_MAC | CMPL | lso_v4_tcp),
                    al(false, 0, 54),
                    al(true, 54, tso.len() - 54),
                    meta(DEST_MAC | CMPL | lso_v6_udp),
                    al(true, tso.len(), uso.len()),
                ],
                &lso_data,
            ),
        ),
        (
            "tx-malformed".into(),
            run(
                1,
                4,
                &[
                    al(true, 0, 10),
                    meta(CMPL),
                    meta(CMPL | 1 << 35),
                    al(true, 0, 60),
                    meta(CMPL),
                    al(false, 0, 0),
                    1 << 46,
                    al(true, 4000, 150),
                ],
                &udp,
            ),
        ),
    ]
}

/// Ethernet frames with right IPv4 header and TCP/UDP checksums, for `model_rx_parse` as they
/// are and for `rx_l4_csum` behind a 2-byte device sum (zero: the fuzzer varies it).
fn frames() -> Vec<(String, Vec<u8>)> {
    let eth = |vlan: bool, et: [u8; 2]| {
        // Destination 02:00:00:00:00:01, source 02:00:00:00:00:02.
        let mut f = vec![2u8, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
        if vlan {
            f.extend_from_slice(&[0x81, 0x00, 0x00, 0x07]);
        }
        f.extend_from_slice(&et);
        f
    };
    let l4 = |tcp: bool, pay: usize| {
        let mut h = vec![0x30, 0x39, 0x00, 0x50];
        if tcp {
            h.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0]);
        } else {
            h.extend_from_slice(&((8 + pay) as u16).to_be_bytes());
            h.extend_from_slice(&[0x12, 0x34]);
        }
        h.extend((0..pay).map(|i| i as u8));
        h
    };
    let mut out = Vec::new();
    for (name, v6, tcp, vlan, pad) in [
        ("ipv4-udp", false, false, false, 0),
        ("ipv4-tcp-padded", false, true, false, 5),
        ("ipv6-tcp", true, true, false, 0),
        ("vlan-ipv6-udp", true, false, true, 3),
    ] {
        let seg = l4(tcp, 18);
        let proto = if tcp { 6 } else { 17 };
        let mut f = eth(vlan, if v6 { [0x86, 0xdd] } else { [0x08, 0x00] });
        if v6 {
            f.extend_from_slice(&[0x60, 0, 0, 0]);
            f.extend_from_slice(&(seg.len() as u16).to_be_bytes());
            f.extend_from_slice(&[proto, 64]);
            f.extend((0..32).map(|i| i as u8));
        } else {
            f.extend_from_slice(&[0x45, 0]);
            f.extend_from_slice(&((20 + seg.len()) as u16).to_be_bytes());
            f.extend_from_slice(&[0, 1, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        }
        let l3 = if vlan { 18 } else { 14 };
        let l4 = f.len();
        f.extend_from_slice(&seg);
        if !v6 {
            let c = !fold(sum(0, &f[l3..l4]));
            f[l3 + 10..l3 + 12].copy_from_slice(&c.to_be_bytes());
        }
        let addrs = if v6 {
            l3 + 8..l3 + 40
        } else {
            l3 + 12..l3 + 20
        };
        let pseudo = sum(proto as u64 + seg.len() as u64, &f[addrs]);
        let field = l4 + if tcp { 16 } else { 6 };
        f[field..field + 2].fill(0);
        let c = !fold(sum(pseudo, &f[l4..]));
        f[field..field + 2].copy_from_slice(&c.to_be_bytes());
        f.extend(std::iter::repeat_n(0u8, pad));
        let mut behind_sum = vec![0u8, 0];
        behind_sum.extend_from_slice(&f);
        out.push((format!("frame-{name}"), f));
        out.push((format!("sum-frame-{name}"), behind_sum));
    }
    out
}

/// Adds `d` as big-endian 16-bit words (an odd last byte high) to `acc`.
fn sum(mut acc: u64, d: &[u8]) -> u64 {
    for w in d.chunks(2) {
        acc += u64::from(w[0]) << 8 | w.get(1).map_or(0, |&b| u64::from(b));
    }
    acc
}

fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc >> 16) + (acc & 0xffff);
    }
    acc as u16
}

fn main() -> ExitCode {
    let dirs: Vec<String> = std::env::args().skip(1).collect();
    if dirs.is_empty() {
        eprintln!("usage: fbnic-fuzz-seed DIR...");
        return ExitCode::from(2);
    }
    let seeds = seeds();
    for dir in &dirs {
        let dir = Path::new(dir);
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("cannot create {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
        for (name, bytes) in &seeds {
            let path = dir.join(format!("seed-{name}"));
            if let Err(e) = std::fs::write(&path, bytes) {
                eprintln!("cannot write {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }
    println!(
        "wrote {} seeds into each of {}",
        seeds.len(),
        dirs.join(", ")
    );
    ExitCode::SUCCESS
}
