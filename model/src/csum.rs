//! Internet (ones' complement) checksums.

/// Adds `data`, as big-endian 16-bit words (an odd last byte is padded with zero), to `acc`.
/// Sums of regions that start at even offsets of one larger region add up to its sum.
#[inline]
pub(crate) fn add(mut acc: u64, data: &[u8]) -> u64 {
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
pub(crate) fn fold(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// Whether an IPv4 header (`h.len()` = IHL * 4 >= 20) sums to all-ones, i.e. its checksum
/// is right. Unrolled for the option-less 20-byte header.
#[inline]
pub(crate) fn ipv4_header_ok(h: &[u8]) -> bool {
    let acc = if let Ok(w) = <&[u8; 20]>::try_from(h) {
        let d = |i: usize| u32::from_be_bytes([w[i], w[i + 1], w[i + 2], w[i + 3]]) as u64;
        d(0) + d(4) + d(8) + d(12) + d(16)
    } else {
        add(0, h)
    };
    fold(acc) == 0xffff
}

/// The checksum of `data` (complement of the folded sum).
pub(crate) fn checksum(data: &[u8]) -> u16 {
    !fold(add(0, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 -> sum ddf2.
        assert_eq!(
            fold(add(0, &[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7])),
            0xddf2
        );
        // Odd length and split sums.
        let d: Vec<u8> = (0..101u32).map(|i| (i * 7) as u8).collect();
        let whole = fold(add(0, &d));
        let split = fold(add(add(0, &d[..40]), &d[40..]));
        assert_eq!(whole, split);
        let mut slow = 0u32;
        for (i, b) in d.iter().enumerate() {
            slow += if i % 2 == 0 {
                (*b as u32) << 8
            } else {
                *b as u32
            };
        }
        assert_eq!(whole, fold(slow as u64));
    }

    #[test]
    fn ipv4_header_checksum() {
        // A well-known IPv4 header with checksum b861.
        let h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(checksum(&h), 0);
        assert!(ipv4_header_ok(&h));
        let mut bad = h;
        bad[8] ^= 1;
        assert!(!ipv4_header_ok(&bad));
        let mut z = h;
        z[10] = 0;
        z[11] = 0;
        assert_eq!(checksum(&z), 0xb861);
    }
}
