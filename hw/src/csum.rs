//! Internet (ones' complement) checksum arithmetic (RFC 1071), as the device uses it: the Rx
//! META's L2_CSUM is a folded sum of this kind, and the Tx checksum offload writes the
//! complement of one. The device model computes them and the driver checks and prepares them
//! with the same functions.

/// Adds `data`, as big-endian 16-bit words (an odd last byte is padded with zero), to `acc`.
/// Sums of regions that start at even offsets of one larger region add up to its sum. The
/// result is not folded: add more regions, then [`fold`].
///
/// The words are loaded little-endian, eight bytes at a time, with no byte swap per word:
/// the ones' complement sum of byte-swapped words is the byte-swapped sum (RFC 1071 2(B)),
/// and swapping a 16-bit sum's bytes is multiplying it by 2^8 (2^16 = 1 in ones'
/// complement arithmetic), so `data`'s sum goes into `acc` shifted by 8. For the same
/// reason a word's place inside a load does not matter, which lets the tail go in as one
/// 4-, 2- and 1-byte piece each.
#[inline]
pub fn add(acc: u64, data: &[u8]) -> u64 {
    // 2^33 at most per 8 bytes: no overflow below 16 GiB of data.
    let mut s = 0u64;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let v = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        s += (v & 0xffff_ffff) + (v >> 32);
    }
    let mut rest = chunks.remainder();
    if let [a, b, c, d, more @ ..] = rest {
        s += u32::from_le_bytes([*a, *b, *c, *d]) as u64;
        rest = more;
    }
    if let [a, b, more @ ..] = rest {
        s += u16::from_le_bytes([*a, *b]) as u64;
        rest = more;
    }
    if let [b] = rest {
        // The high byte of a big-endian word, the low byte of a little-endian one.
        s += *b as u64;
    }
    // The high half folded in (2^32 = 1): below 2^33, so the shift by 8 cannot overflow.
    acc + (((s & 0xffff_ffff) + (s >> 32)) << 8)
}

/// Folds a sum to 16 bits (not complemented): 64 to 32 bits and then 32 to 16, each with
/// the end-around carry. A non-zero sum never folds to 0 (0xffff is the other zero).
#[inline]
pub fn fold(acc: u64) -> u16 {
    let (s, carry) = (acc as u32).overflowing_add((acc >> 32) as u32);
    let s = s + carry as u32;
    // The high half of s + (s rotated by 16) is the two halves' sum with its carry added.
    (s.wrapping_add(s.rotate_right(16)) >> 16) as u16
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

    /// The folded sum, one big-endian word at a time, with the end-around carry each step
    /// (independent of `add` and `fold`: `acc` is folded 16 bits at a time here).
    fn reference(acc: u64, data: &[u8]) -> u16 {
        let mut a = acc;
        while a >> 16 != 0 {
            a = (a & 0xffff) + (a >> 16);
        }
        let mut s = a as u32;
        for (i, &b) in data.iter().enumerate() {
            s += if i % 2 == 0 {
                (b as u32) << 8
            } else {
                b as u32
            };
            s = (s & 0xffff) + (s >> 16);
        }
        s as u16
    }

    #[test]
    fn sums_match_a_word_at_a_time_reference_for_every_pattern_length_and_start() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let random: Vec<u8> = (0..300)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        for data in [random, vec![0xff; 300], vec![0; 300], vec![0x80; 300]] {
            for n in 0..data.len() {
                for acc in [0, 1, 0xffff, 0x1_0000, 17 + 1480, u32::MAX as u64] {
                    assert_eq!(
                        fold(add(acc, &data[..n])),
                        reference(acc, &data[..n]),
                        "{n}"
                    );
                }
                // Split at an even offset: the two sums add up to the whole's.
                let at = (n / 2) & !1;
                let split = add(add(0, &data[..at]), &data[at..n]);
                assert_eq!(fold(split), reference(0, &data[..n]), "{n} at {at}");
            }
        }
        // Zero stays zero, anything else never folds to it (0xffff is the other zero).
        assert_eq!(fold(0), 0);
        assert_eq!(fold(u64::MAX), 0xffff);
        assert_eq!(fold(add(0, &[0xff, 0xff])), 0xffff);
        assert_eq!(fold(0x1_0000_0000), 1);
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
