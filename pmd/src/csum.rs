//! Internet (ones' complement) checksum arithmetic, for the driver's checksum work: the Rx
//! TCP/UDP verdict ([`crate::rxcsum`]) and the Tx offload preparation (IPv4 header checksum,
//! pseudo-header sums).

/// Adds `data` as big-endian 16-bit words (an odd last byte padded with zero) to `acc`.
#[inline]
pub fn add(mut acc: u64, data: &[u8]) -> u64 {
    let mut words = data.chunks_exact(2);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example_and_odd_lengths() {
        // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        assert_eq!(
            fold(add(0, &[0, 1, 0xf2, 3, 0xf4, 0xf5, 0xf6, 0xf7])),
            0xddf2
        );
        // An odd last byte is the high byte of a word.
        assert_eq!(fold(add(0, &[0x12, 0x34, 0x56])), 0x6834);
        assert_eq!(fold(add(0xffff, &[0, 1])), 1);
    }
}
