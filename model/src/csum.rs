//! Internet (ones' complement) checksums: the arithmetic is fbnic-hw's ([`fbnic_hw::csum`]);
//! the RPC's IPv4 header check is here.

pub(crate) use fbnic_hw::csum::{add, checksum, fold};

/// Whether an IPv4 header (`h.len()` = IHL * 4 >= 20) sums to all-ones, i.e. its checksum
/// is right. Unrolled for the option-less 20-byte header.
#[inline]
pub(crate) fn ipv4_header_ok(h: &[u8]) -> bool {
    let acc = if let Ok(w) = <&[u8; 20]>::try_from(h) {
        // All-ones is all-ones in either byte order, so the words need no swap.
        let d = |i: usize| u32::from_le_bytes([w[i], w[i + 1], w[i + 2], w[i + 3]]) as u64;
        d(0) + d(4) + d(8) + d(12) + d(16)
    } else {
        add(0, h)
    };
    fold(acc) == 0xffff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_header_check_with_and_without_options() {
        // A well-known header (checksum b861), then the same with one option word (NOPs).
        let h: [u8; 20] = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert!(ipv4_header_ok(&h));
        let mut bad = h;
        bad[8] ^= 1;
        assert!(!ipv4_header_ok(&bad));
        let mut opt = h.to_vec();
        opt[0] = 0x46;
        opt.extend_from_slice(&[1, 1, 1, 1]);
        opt[10] = 0;
        opt[11] = 0;
        let c = checksum(&opt);
        opt[10..12].copy_from_slice(&c.to_be_bytes());
        assert!(ipv4_header_ok(&opt));
        opt[21] = 0;
        assert!(!ipv4_header_ok(&opt));
    }
}
