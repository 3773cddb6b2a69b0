//! Building test frames: Ethernet + IPv4/IPv6 + TCP/UDP with correct checksums, and a
//! sequence number in the payload so each frame can be recognised on arrival.

use fbnic_hw::mac::MacAddr;
use fbnic_hw::toeplitz::{RssInput, ToeplitzTable};

/// A 5-tuple.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow {
    pub v6: bool,
    pub tcp: bool,
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub sport: u16,
    pub dport: u16,
}

impl Flow {
    pub fn v4(tcp: bool, src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Self {
        let mut s = [0; 16];
        let mut d = [0; 16];
        s[..4].copy_from_slice(&src);
        d[..4].copy_from_slice(&dst);
        Self {
            v6: false,
            tcp,
            src: s,
            dst: d,
            sport,
            dport,
        }
    }

    pub fn v6(tcp: bool, src: [u8; 16], dst: [u8; 16], sport: u16, dport: u16) -> Self {
        Self {
            v6: true,
            tcp,
            src,
            dst,
            sport,
            dport,
        }
    }

    /// A pseudo-random flow from `seed` (xorshift).
    pub fn random(seed: &mut u64) -> Self {
        let mut next = || {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            *seed
        };
        let r = next();
        let (a, b) = (next().to_be_bytes(), next().to_be_bytes());
        let (c, d) = (next().to_be_bytes(), next().to_be_bytes());
        let mut src = [0; 16];
        let mut dst = [0; 16];
        src[..8].copy_from_slice(&a);
        src[8..].copy_from_slice(&b);
        dst[..8].copy_from_slice(&c);
        dst[8..].copy_from_slice(&d);
        let v6 = r & 1 == 1;
        if !v6 {
            src[4..].fill(0);
            dst[4..].fill(0);
        }
        Self {
            v6,
            tcp: r & 2 == 2,
            src,
            dst,
            sport: (r >> 16) as u16,
            dport: (r >> 32) as u16,
        }
    }

    /// The standard Toeplitz input of the 4-tuple.
    pub fn rss_input(&self) -> RssInput {
        let ports = Some((self.sport, self.dport));
        if self.v6 {
            RssInput::ipv6(self.src, self.dst, ports)
        } else {
            RssInput::ipv4(
                self.src[..4].try_into().unwrap(),
                self.dst[..4].try_into().unwrap(),
                ports,
            )
        }
    }

    /// The hash the device must report under `table`.
    pub fn hash(&self, table: &ToeplitzTable) -> u32 {
        table.hash(self.rss_input().as_bytes())
    }

    pub fn header_len(&self) -> usize {
        14 + if self.v6 { 40 } else { 20 } + if self.tcp { 20 } else { 8 }
    }
}

/// Adds `data` as big-endian 16-bit words (an odd last byte high) to `sum`.
pub fn csum_add(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u16::from_be_bytes([c[0], c[1]]) as u32;
    }
    if let [last] = chunks.remainder() {
        sum += (*last as u32) << 8;
    }
    sum
}

/// Folds `sum` to 16 bits and complements it (the checksum field's value).
pub fn csum_fold(mut sum: u32) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An Ethernet frame of exactly `len` bytes (at least the headers plus 8) carrying `flow`
/// and sequence number `seq` in the first payload bytes, the rest a pattern of `seq`.
pub fn frame(dst: MacAddr, src: MacAddr, flow: &Flow, len: usize, seq: u64) -> Vec<u8> {
    let hlen = flow.header_len();
    let len = len.max(hlen + 8);
    let mut f = vec![0u8; len];
    f[0..6].copy_from_slice(&dst.0);
    f[6..12].copy_from_slice(&src.0);
    let l4len = len - hlen + if flow.tcp { 20 } else { 8 };
    let proto = if flow.tcp { 6 } else { 17 };
    let l3 = 14;
    let l4 = if flow.v6 {
        f[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
        f[l3] = 0x60;
        f[l3 + 4..l3 + 6].copy_from_slice(&(l4len as u16).to_be_bytes());
        f[l3 + 6] = proto;
        f[l3 + 7] = 64;
        f[l3 + 8..l3 + 24].copy_from_slice(&flow.src);
        f[l3 + 24..l3 + 40].copy_from_slice(&flow.dst);
        l3 + 40
    } else {
        f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        f[l3] = 0x45;
        f[l3 + 2..l3 + 4].copy_from_slice(&((20 + l4len) as u16).to_be_bytes());
        f[l3 + 8] = 64;
        f[l3 + 9] = proto;
        f[l3 + 12..l3 + 16].copy_from_slice(&flow.src[..4]);
        f[l3 + 16..l3 + 20].copy_from_slice(&flow.dst[..4]);
        let c = csum_fold(csum_add(0, &f[l3..l3 + 20]));
        f[l3 + 10..l3 + 12].copy_from_slice(&c.to_be_bytes());
        l3 + 20
    };
    f[l4..l4 + 2].copy_from_slice(&flow.sport.to_be_bytes());
    f[l4 + 2..l4 + 4].copy_from_slice(&flow.dport.to_be_bytes());
    let payload = l4 + if flow.tcp { 20 } else { 8 };
    if flow.tcp {
        f[l4 + 12] = 5 << 4;
        f[l4 + 13] = 0x10;
        f[l4 + 14..l4 + 16].copy_from_slice(&0xffffu16.to_be_bytes());
    } else {
        f[l4 + 4..l4 + 6].copy_from_slice(&(l4len as u16).to_be_bytes());
    }
    f[payload..payload + 8].copy_from_slice(&seq.to_be_bytes());
    for (i, b) in f[payload + 8..].iter_mut().enumerate() {
        *b = (seq as u8).wrapping_add(i as u8);
    }
    // L4 checksum over the pseudo-header and the segment.
    let mut sum = if flow.v6 {
        csum_add(csum_add(0, &flow.src), &flow.dst)
    } else {
        csum_add(csum_add(0, &flow.src[..4]), &flow.dst[..4])
    };
    sum += proto as u32 + l4len as u32;
    let c = csum_fold(csum_add(sum, &f[l4..]));
    let c = if !flow.tcp && c == 0 { 0xffff } else { c };
    let at = l4 + if flow.tcp { 16 } else { 6 };
    f[at..at + 2].copy_from_slice(&c.to_be_bytes());
    f
}

/// The sequence number a frame built by [`frame`] carries.
pub fn seq_of(frame: &[u8], flow: &Flow) -> u64 {
    let at = flow.header_len();
    u64::from_be_bytes(frame[at..at + 8].try_into().unwrap())
}

/// Whether the L4 checksum of a frame built like [`frame`] verifies.
pub fn l4_csum_ok(frame: &[u8], flow: &Flow) -> bool {
    let l4 = 14 + if flow.v6 { 40 } else { 20 };
    let proto = if flow.tcp { 6 } else { 17 };
    let l4len = frame.len() - l4;
    let mut sum = if flow.v6 {
        csum_add(csum_add(0, &flow.src), &flow.dst)
    } else {
        csum_add(csum_add(0, &flow.src[..4]), &flow.dst[..4])
    };
    sum += proto as u32 + l4len as u32;
    csum_fold(csum_add(sum, &frame[l4..])) == 0
}

/// The sequence number of any frame built by [`frame`], found by parsing its headers.
pub fn parse_seq(frame: &[u8]) -> Option<u64> {
    let v6 = u16::from_be_bytes(frame.get(12..14)?.try_into().ok()?) == 0x86dd;
    let (l3len, proto) = if v6 {
        (40, *frame.get(14 + 6)?)
    } else {
        (20, *frame.get(14 + 9)?)
    };
    let at = 14 + l3len + if proto == 6 { 20 } else { 8 };
    Some(u64::from_be_bytes(frame.get(at..at + 8)?.try_into().ok()?))
}
