//! Internet (ones' complement) checksum arithmetic (RFC 1071), as the device uses it: the Rx
//! META's L2_CSUM is a folded sum of this kind, and the Tx checksum offload writes the
//! complement of one. The device model computes them and the driver checks and prepares them
//! with the same functions.

/// Adds `data`, as big-endian 16-bit words (an odd last byte is padded with zero), to `acc`.
/// Sums of regions that start at even offsets of one larger region add up to its sum. The
/// result is not folded: add more regions, then [`fold`].
#[inline]
pub fn add(mut acc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let v = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        acc = acc.wrapping_add(v >> 32).wrapping_add(v & 0xffff_ffff);
    }
    let rest = chunks.remainder();
    let mut words = rest.chunks_exact(2);
    for w in &mut words {
        acc += u16::from_be_bytes([w[0], w[1]]) as u64;
    }
    if let [b] = words.remainder() {
        acc += (*b as u64) << 8;
    }
    acc
}

/// Folds a sum to 16 bits (not complemented).
#[inline]
pub fn fold(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The checksum of `data`: the complement of its folded sum.
#[inline]
pub fn checksum(data: &[u8]) -> u16 {
    !fold(add(0, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example_odd_lengths_and_split_sums() {
        // RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 -> sum ddf2.
        assert_eq!(
            fold(add(0, &[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7])),
            0xddf2
        );
        // An odd last byte is the high byte of a word; the end-around carry.
        assert_eq!(fold(add(0, &[0x12, 0x34, 0x56])), 0x6834);
        assert_eq!(fold(add(0xffff, &[0, 1])), 1);
        // Every length, whole or split at an even offset, against a byte-by-byte sum.
        let d: Vec<u8> = (0..101u32).map(|i| (i * 7) as u8).collect();
        for n in 0..=d.len() {
            let slow: u64 = d[..n]
                .iter()
                .enumerate()
                .map(|(i, &b)| {
                    if i % 2 == 0 {
                        (b as u64) << 8
                    } else {
                        b as u64
                    }
                })
                .sum();
            assert_eq!(fold(add(0, &d[..n])), fold(slow), "length {n}");
            let at = (n / 2) & !1;
            assert_eq!(
                fold(add(add(0, &d[..at]), &d[at..n])),
                fold(slow),
                "split {n}"
            );
        }
    }

    #[test]
    fn ipv4_header_checksum() {
        // A well-known IPv4 header with checksum b861.
        let h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(checksum(&h), 0);
        let mut z = h;
        z[10] = 0;
        z[11] = 0;
        assert_eq!(checksum(&z), 0xb861);
    }
}
