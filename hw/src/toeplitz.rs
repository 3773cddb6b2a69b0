//! The Toeplitz RSS hash (spec 7.3).
//!
//! For every set bit `i` of the input (most significant bit of byte 0 first), the hash XORs in
//! the 32 key bits that start at key bit `i`. The device hashes the standard input
//! ([`RssInput`]: source address, destination address, then source and destination port, all
//! in network byte order), so its hash equals DPDK's `rte_softrss()` over the same tuple and
//! key and matches the published Microsoft RSS verification vectors.
//!
//! [`hash`] is the bit-by-bit reference. [`ToeplitzTable`] precomputes, for each input byte
//! position, the contribution of all 256 byte values, so a hash costs one lookup and one XOR
//! per input byte.
//!
//! Key bits past the end of the key count as zero: a key shorter than `input.len() + 4` bytes
//! gives the hash of a key padded with zero bytes (no panic). The device's key is 40 bytes
//! (RPC_RSS_KEY); [`MS_DEFAULT_KEY`] is Microsoft's published key.

/// Microsoft's RSS verification key, 6d5a56da...01fa (40 bytes).
pub const MS_DEFAULT_KEY: [u8; 40] = [
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
    0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
    0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
];

/// Input bytes [`ToeplitzTable`] has tables for: an IPv6 4-tuple (16 + 16 + 2 + 2).
pub const TABLE_BYTES: usize = 36;

/// Bit `k` of the key (bit 0 = MSB of byte 0); 0 past the end.
fn key_bit(key: &[u8], k: usize) -> u32 {
    key.get(k / 8)
        .map_or(0, |b| u32::from(b >> (7 - k % 8)) & 1)
}

/// The 32 key bits starting at bit `k`.
fn key_window(key: &[u8], k: usize) -> u32 {
    (0..32).fold(0, |w, i| (w << 1) | key_bit(key, k + i))
}

/// The reference hash of `input` placed at byte `start` of the hash input.
fn hash_from(key: &[u8], input: &[u8], start: usize) -> u32 {
    let mut h = 0;
    let mut bit = start * 8;
    let mut window = key_window(key, bit);
    for &byte in input {
        for i in 0..8 {
            if byte & (0x80 >> i) != 0 {
                h ^= window;
            }
            window = (window << 1) | key_bit(key, bit + 32);
            bit += 1;
        }
    }
    h
}

/// The Toeplitz hash of `input` under `key`, bit by bit (the reference).
///
/// The key should be at least `input.len() + 4` bytes; missing key bits are zero.
pub fn hash(key: &[u8], input: &[u8]) -> u32 {
    hash_from(key, input, 0)
}

/// A key expanded into per-byte lookup tables: [`hash`](Self::hash) costs one lookup and XOR
/// per input byte for the first [`TABLE_BYTES`] bytes (longer inputs finish bit by bit).
#[derive(Clone)]
pub struct ToeplitzTable {
    /// `tables[p][v]`: the hash contribution of byte value `v` at input position `p`.
    tables: Box<[[u32; 256]; TABLE_BYTES]>,
    key: Box<[u8]>,
}

impl ToeplitzTable {
    /// Expands `key` (any length; missing bits are zero). About 36 KiB.
    pub fn new(key: &[u8]) -> Self {
        let mut tables: Box<[[u32; 256]; TABLE_BYTES]> = vec![[0u32; 256]; TABLE_BYTES]
            .into_boxed_slice()
            .try_into()
            .unwrap_or_else(|_| unreachable!("the vector has TABLE_BYTES entries"));
        for (p, t) in tables.iter_mut().enumerate() {
            for i in 0..8 {
                t[0x80 >> i] = key_window(key, p * 8 + i);
            }
            // Each value is its lowest set bit XOR the (smaller, already filled) rest.
            for v in 1..256usize {
                let low = v & v.wrapping_neg();
                t[v] = t[low] ^ t[v ^ low];
            }
        }
        Self {
            tables,
            key: key.into(),
        }
    }

    /// The key the tables were built from.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The Toeplitz hash of `input`; equal to [`hash`]`(key, input)`.
    #[inline]
    pub fn hash(&self, input: &[u8]) -> u32 {
        let mut h = 0;
        for (t, &b) in self.tables.iter().zip(input) {
            h ^= t[usize::from(b)];
        }
        if let Some(rest) = input.get(TABLE_BYTES..) {
            if !rest.is_empty() {
                h ^= hash_from(&self.key, rest, TABLE_BYTES);
            }
        }
        h
    }
}

impl core::fmt::Debug for ToeplitzTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ToeplitzTable")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// The standard RSS hash input: source address, destination address, then (for TCP/UDP)
/// source port and destination port, all in network byte order.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RssInput {
    buf: [u8; TABLE_BYTES],
    len: u8,
}

impl RssInput {
    fn build(src: &[u8], dst: &[u8], ports: Option<(u16, u16)>) -> Self {
        let mut buf = [0u8; TABLE_BYTES];
        let mut len = 0;
        let ports = ports.map(|(s, d)| {
            let (s, d) = (s.to_be_bytes(), d.to_be_bytes());
            [s[0], s[1], d[0], d[1]]
        });
        for part in [src, dst, ports.as_ref().map_or(&[][..], |p| &p[..])] {
            for (o, &b) in buf.iter_mut().skip(len).zip(part) {
                *o = b;
            }
            len += part.len();
        }
        Self {
            buf,
            len: len as u8,
        }
    }

    /// An IPv4 input: 8 bytes (addresses) or 12 (with `(src_port, dst_port)`).
    pub fn ipv4(src: [u8; 4], dst: [u8; 4], ports: Option<(u16, u16)>) -> Self {
        Self::build(&src, &dst, ports)
    }

    /// An IPv6 input: 32 bytes (addresses) or 36 (with `(src_port, dst_port)`).
    pub fn ipv6(src: [u8; 16], dst: [u8; 16], ports: Option<(u16, u16)>) -> Self {
        Self::build(&src, &dst, ports)
    }

    /// The hash input bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..usize::from(self.len)).unwrap_or(&self.buf)
    }
}

impl core::fmt::Debug for RssInput {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "RssInput({:02x?})", self.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Microsoft's RSS verification suite, IPv4: source, destination, source port,
    /// destination port, hash over the addresses, hash over addresses and ports.
    type Vector<const N: usize> = ([u8; N], [u8; N], u16, u16, u32, u32);

    const V4: [Vector<4>; 5] = [
        (
            [66, 9, 149, 187],
            [161, 142, 100, 80],
            2794,
            1766,
            0x323e_8fc2,
            0x51cc_c178,
        ),
        (
            [199, 92, 111, 2],
            [65, 69, 140, 83],
            14230,
            4739,
            0xd718_262a,
            0xc626_b0ea,
        ),
        (
            [24, 19, 198, 95],
            [12, 22, 207, 184],
            12898,
            38024,
            0xd2d0_a5de,
            0x5c2b_394a,
        ),
        (
            [38, 27, 205, 30],
            [209, 142, 163, 6],
            48228,
            2217,
            0x8298_9176,
            0xafc7_327f,
        ),
        (
            [153, 39, 163, 191],
            [202, 188, 127, 2],
            44251,
            1303,
            0x5d18_09c5,
            0x10e8_28a2,
        ),
    ];

    /// An IPv6 address from its eight groups.
    const fn v6(g: [u16; 8]) -> [u8; 16] {
        let mut b = [0u8; 16];
        let mut i = 0;
        while i < 8 {
            b[2 * i] = (g[i] >> 8) as u8;
            b[2 * i + 1] = g[i] as u8;
            i += 1;
        }
        b
    }

    /// The suite's IPv6 flows, laid out as [`V4`].
    const V6: [Vector<16>; 3] = [
        (
            v6([0x3ffe, 0x2501, 0x200, 0x1fff, 0, 0, 0, 7]),
            v6([0x3ffe, 0x2501, 0x200, 3, 0, 0, 0, 1]),
            2794,
            1766,
            0x2cc1_8cd5,
            0x4020_7d3d,
        ),
        (
            v6([0x3ffe, 0x501, 8, 0, 0x260, 0x97ff, 0xfe40, 0xefab]),
            v6([0xff02, 0, 0, 0, 0, 0, 0, 1]),
            14230,
            4739,
            0x0f0c_461c,
            0xdde5_1bbf,
        ),
        (
            v6([0x3ffe, 0x1900, 0x4545, 3, 0x200, 0xf8ff, 0xfe21, 0x67cf]),
            v6([0xfe80, 0, 0, 0, 0x200, 0xf8ff, 0xfe21, 0x67cf]),
            44251,
            38024,
            0x4b61_e985,
            0x02d1_feef,
        ),
    ];

    /// Checks one vector with both implementations.
    fn check(t: &ToeplitzTable, input: RssInput, want: u32) {
        assert_eq!(hash(&MS_DEFAULT_KEY, input.as_bytes()), want, "{input:?}");
        assert_eq!(t.hash(input.as_bytes()), want, "{input:?}");
    }

    #[test]
    fn microsoft_verification_suite() {
        let t = ToeplitzTable::new(&MS_DEFAULT_KEY);
        let mut checked = 0;
        for (src, dst, sp, dp, h2, h4) in V4 {
            check(&t, RssInput::ipv4(src, dst, None), h2);
            check(&t, RssInput::ipv4(src, dst, Some((sp, dp))), h4);
            checked += 2;
        }
        for (src, dst, sp, dp, h2, h4) in V6 {
            check(&t, RssInput::ipv6(src, dst, None), h2);
            check(&t, RssInput::ipv6(src, dst, Some((sp, dp))), h4);
            checked += 2;
        }
        assert_eq!(checked, 16);
    }

    #[test]
    fn input_layout() {
        let i = RssInput::ipv4([1, 2, 3, 4], [5, 6, 7, 8], Some((0x1122, 0x3344)));
        assert_eq!(
            i.as_bytes(),
            [1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x22, 0x33, 0x44]
        );
        assert_eq!(RssInput::ipv4([1; 4], [2; 4], None).as_bytes().len(), 8);
        let i = RssInput::ipv6([1; 16], [2; 16], Some((1, 2)));
        assert_eq!(i.as_bytes().len(), 36);
        assert_eq!(&i.as_bytes()[32..], [0, 1, 0, 2]);
        assert_eq!(RssInput::ipv6([1; 16], [2; 16], None).as_bytes().len(), 32);
        assert_eq!(v6([0xfe80, 0, 0, 0, 0, 0, 0, 1])[..2], [0xfe, 0x80]);
    }

    #[test]
    fn short_keys_read_as_zero_bits() {
        let input = [0xffu8; 12];
        assert_eq!(hash(&[], &input), 0);
        assert_eq!(ToeplitzTable::new(&[]).hash(&input), 0);
        // A key padded with zeros hashes the same as the short key.
        let short = &MS_DEFAULT_KEY[..10];
        let mut padded = short.to_vec();
        padded.resize(40, 0);
        assert_eq!(hash(short, &input), hash(&padded, &input));
        // One input bit picks exactly the 32-bit key window at its position.
        assert_eq!(hash(&MS_DEFAULT_KEY, &[0x80]), 0x6d5a_56da);
        assert_eq!(hash(&MS_DEFAULT_KEY, &[0x00, 0x80]), 0x5a56_da25);
        assert_eq!(hash(&[0xab], &[0x80]), 0xab00_0000);
        assert_eq!(hash(&MS_DEFAULT_KEY, &[]), 0);
    }

    /// xorshift64*: a small deterministic generator for the cross-check.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: u64) -> usize {
            (self.next() % n) as usize
        }

        fn bytes(&mut self, n: usize) -> Vec<u8> {
            (0..n).map(|_| self.next() as u8).collect()
        }
    }

    #[test]
    fn table_matches_reference_on_random_keys_and_inputs() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..300 {
            // Keys from empty to longer than any input; inputs past the table's 36 bytes.
            let n = rng.below(64);
            let key = rng.bytes(n);
            let t = ToeplitzTable::new(&key);
            assert_eq!(t.key(), key);
            for _ in 0..20 {
                let n = rng.below(48);
                let input = rng.bytes(n);
                assert_eq!(
                    t.hash(&input),
                    hash(&key, &input),
                    "key {key:02x?} input {input:02x?}"
                );
            }
        }
    }

    /// Run with `cargo test --release -p fbnic-hw -- --ignored --nocapture toeplitz_speed`.
    #[test]
    #[ignore = "timing: run in release mode"]
    fn toeplitz_speed() {
        let t = ToeplitzTable::new(&MS_DEFAULT_KEY);
        let mut rng = Rng(1);
        let inputs: Vec<RssInput> = (0..1024)
            .map(|_| {
                let r = rng.next().to_le_bytes();
                RssInput::ipv4(
                    [r[0], r[1], r[2], r[3]],
                    [r[4], r[5], 10, 1],
                    Some((u16::from(r[6]) << 8, 443)),
                )
            })
            .collect();
        let n = 20_000_000u32;
        let start = std::time::Instant::now();
        let mut acc = 0u32;
        for i in 0..n {
            let input = &inputs[(i & 1023) as usize];
            acc ^= t.hash(std::hint::black_box(input.as_bytes()));
        }
        let ns = start.elapsed().as_nanos() as f64 / f64::from(n);
        println!("ToeplitzTable::hash over an IPv4 4-tuple: {ns:.2} ns (acc {acc:#x})");
        assert!(ns <= 20.0, "{ns} ns per hash");
    }
}
