//! pcapng files (what `dpdk-dumpcap` writes): the interfaces and, per packet, the bytes and
//! the options DPDK records (direction, Rx queue, RSS hash).

use std::path::Path;

const SHB: u32 = 0x0a0d_0d0a;
const IDB: u32 = 1;
const EPB: u32 = 6;
const BYTE_ORDER: u32 = 0x1a2b_3c4d;

const OPT_END: u16 = 0;
const IDB_NAME: u16 = 2;
const EPB_FLAGS: u16 = 2;
const EPB_HASH: u16 = 3;
const EPB_QUEUE: u16 = 6;

/// The hash algorithm code of a Toeplitz hash in an `epb_hash` option.
pub const HASH_TOEPLITZ: u8 = 5;

/// Packet direction, from the `epb_flags` option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Unknown,
    Inbound,
    Outbound,
}

/// One captured packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// Index into [`Capture::interfaces`].
    pub interface: u32,
    pub data: Vec<u8>,
    /// The frame's length on the wire (`data` may be cut at the snapshot length).
    pub orig_len: u32,
    pub direction: Direction,
    /// The `epb_queue` option.
    pub queue: Option<u32>,
    /// The `epb_hash` option: algorithm code and hash bytes as stored.
    pub hash: Option<(u8, Vec<u8>)>,
}

/// A whole file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capture {
    /// Interface names (`if_name`), in the order the file declares them.
    pub interfaces: Vec<Option<String>>,
    pub packets: Vec<Packet>,
}

impl Capture {
    /// The index of the interface named `name`.
    pub fn interface(&self, name: &str) -> Option<u32> {
        self.interfaces
            .iter()
            .position(|n| n.as_deref() == Some(name))
            .map(|i| i as u32)
    }
}

/// Reads a pcapng file (one section; either byte order).
pub fn read(path: &Path) -> Result<Capture, String> {
    let b = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    parse(&b).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses the bytes of a pcapng file.
pub fn parse(b: &[u8]) -> Result<Capture, String> {
    if b.len() < 28 || u32::from_le_bytes(b[0..4].try_into().unwrap()) != SHB {
        return Err("no section header block".into());
    }
    let little = match u32::from_le_bytes(b[8..12].try_into().unwrap()) {
        BYTE_ORDER => true,
        x if x.swap_bytes() == BYTE_ORDER => false,
        x => return Err(format!("bad byte-order magic {x:#x}")),
    };
    let u32_at = |i: usize| rd32(&b[i..], little);
    let u16_at = |i: usize| {
        let w = [b[i], b[i + 1]];
        if little {
            u16::from_le_bytes(w)
        } else {
            u16::from_be_bytes(w)
        }
    };
    // The options in b[from..to]: (code, value).
    let options = |from: usize, to: usize| -> Result<Vec<(u16, &[u8])>, String> {
        let mut out = Vec::new();
        let mut i = from;
        while i + 4 <= to {
            let (code, len) = (u16_at(i), u16_at(i + 2) as usize);
            if code == OPT_END {
                break;
            }
            let end = i + 4 + len;
            if end > to {
                return Err(format!("option {code} at byte {i} runs past its block"));
            }
            out.push((code, &b[i + 4..end]));
            i = end.next_multiple_of(4);
        }
        Ok(out)
    };
    let mut cap = Capture::default();
    let mut i = 0;
    while i + 12 <= b.len() {
        let (ty, len) = (u32_at(i), u32_at(i + 4) as usize);
        if len < 12 || len % 4 != 0 || i + len > b.len() || u32_at(i + len - 4) as usize != len {
            return Err(format!(
                "bad block (type {ty:#x}, length {len}) at byte {i}"
            ));
        }
        let body_end = i + len - 4;
        match ty {
            SHB if i != 0 => return Err("more than one section".into()),
            IDB => {
                if len < 20 {
                    return Err(format!("short interface block at byte {i}"));
                }
                let name = options(i + 16, body_end)?
                    .into_iter()
                    .find(|(c, _)| *c == IDB_NAME)
                    .map(|(_, v)| {
                        String::from_utf8_lossy(v)
                            .trim_end_matches('\0')
                            .to_string()
                    });
                cap.interfaces.push(name);
            }
            EPB => {
                if len < 32 {
                    return Err(format!("short packet block at byte {i}"));
                }
                let interface = u32_at(i + 8);
                if interface as usize >= cap.interfaces.len() {
                    return Err(format!("packet at byte {i} names interface {interface}"));
                }
                let caplen = u32_at(i + 20) as usize;
                let data_end = i + 28 + caplen;
                if data_end > body_end {
                    return Err(format!("packet at byte {i}: {caplen} bytes do not fit"));
                }
                let mut p = Packet {
                    interface,
                    data: b[i + 28..data_end].to_vec(),
                    orig_len: u32_at(i + 24),
                    direction: Direction::Unknown,
                    queue: None,
                    hash: None,
                };
                for (code, v) in options(data_end.next_multiple_of(4), body_end)? {
                    match (code, v.len()) {
                        (EPB_FLAGS, 4) => {
                            p.direction = match rd32(v, little) & 3 {
                                1 => Direction::Inbound,
                                2 => Direction::Outbound,
                                _ => Direction::Unknown,
                            }
                        }
                        (EPB_QUEUE, 4) => p.queue = Some(rd32(v, little)),
                        (EPB_HASH, n) if n >= 1 => p.hash = Some((v[0], v[1..].to_vec())),
                        _ => {}
                    }
                }
                cap.packets.push(p);
            }
            _ => {}
        }
        i += len;
    }
    if i != b.len() {
        return Err(format!("{} stray bytes at the end", b.len() - i));
    }
    Ok(cap)
}

/// The 32-bit word at the start of `v`, in the file's byte order.
fn rd32(v: &[u8], little: bool) -> u32 {
    let w: [u8; 4] = v[..4].try_into().unwrap();
    if little {
        u32::from_le_bytes(w)
    } else {
        u32::from_be_bytes(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(ty: u32, body: &[u8]) -> Vec<u8> {
        let len = (12 + body.len()) as u32;
        let mut v = ty.to_le_bytes().to_vec();
        v.extend_from_slice(&len.to_le_bytes());
        v.extend_from_slice(body);
        v.extend_from_slice(&len.to_le_bytes());
        v
    }

    fn opt(code: u16, val: &[u8]) -> Vec<u8> {
        let mut v = code.to_le_bytes().to_vec();
        v.extend_from_slice(&(val.len() as u16).to_le_bytes());
        v.extend_from_slice(val);
        v.resize(v.len().next_multiple_of(4), 0);
        v
    }

    fn file() -> Vec<u8> {
        let mut shb = BYTE_ORDER.to_le_bytes().to_vec();
        shb.extend_from_slice(&[1, 0, 0, 0]);
        shb.extend_from_slice(&u64::MAX.to_le_bytes());
        let mut idb = vec![1, 0, 0, 0];
        idb.extend_from_slice(&65535u32.to_le_bytes());
        idb.extend(opt(IDB_NAME, b"net_fbnic0"));
        idb.extend(opt(OPT_END, &[]));
        let mut epb = 0u32.to_le_bytes().to_vec();
        epb.extend_from_slice(&[0; 8]);
        epb.extend_from_slice(&5u32.to_le_bytes());
        epb.extend_from_slice(&60u32.to_le_bytes());
        epb.extend_from_slice(&[9, 8, 7, 6, 5, 0, 0, 0]);
        epb.extend(opt(EPB_FLAGS, &1u32.to_le_bytes()));
        epb.extend(opt(EPB_QUEUE, &3u32.to_le_bytes()));
        epb.extend(opt(EPB_HASH, &[HASH_TOEPLITZ, 1, 2, 3, 4]));
        epb.extend(opt(OPT_END, &[]));
        let mut f = block(SHB, &shb);
        f.extend(block(IDB, &idb));
        f.extend(block(EPB, &epb));
        f
    }

    #[test]
    fn reads_interfaces_packets_and_options() {
        let c = parse(&file()).unwrap();
        assert_eq!(c.interfaces, vec![Some("net_fbnic0".to_string())]);
        assert_eq!(c.interface("net_fbnic0"), Some(0));
        assert_eq!(
            c.packets,
            vec![Packet {
                interface: 0,
                data: vec![9, 8, 7, 6, 5],
                orig_len: 60,
                direction: Direction::Inbound,
                queue: Some(3),
                hash: Some((HASH_TOEPLITZ, vec![1, 2, 3, 4])),
            }]
        );
    }

    #[test]
    fn refuses_damaged_files() {
        let f = file();
        assert!(parse(&f[..f.len() - 1]).is_err());
        assert!(parse(&f[4..]).is_err());
        let mut bad_len = f.clone();
        let last = bad_len.len() - 4;
        bad_len[last] ^= 4;
        assert!(parse(&bad_len).is_err());
        // A packet naming an interface the file never declared.
        let mut bad_if = f.clone();
        let len_at = |i: usize| u32::from_le_bytes(f[i + 4..i + 8].try_into().unwrap()) as usize;
        let epb_at = len_at(0) + len_at(len_at(0));
        assert_eq!(
            u32::from_le_bytes(f[epb_at..epb_at + 4].try_into().unwrap()),
            EPB
        );
        bad_if[epb_at + 8] = 1;
        assert!(parse(&bad_if).is_err());
    }
}
