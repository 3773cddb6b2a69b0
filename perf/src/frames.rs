//! Test frames: Ethernet + IPv4 + UDP with valid checksums.

/// Ones' complement sum of `data` (big-endian 16-bit words) added to `acc`.
fn sum16(data: &[u8], mut acc: u32) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// A UDP/IPv4 frame from `src` to `dst` (MACs) carrying `payload`, padded with zeros to at
/// least `min_len` bytes (60 for a minimum Ethernet frame without FCS).
pub fn udp4(
    dst: [u8; 6],
    src: [u8; 6],
    ips: ([u8; 4], [u8; 4]),
    ports: (u16, u16),
    payload: &[u8],
    min_len: usize,
) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let ip_len = 20 + udp_len;
    let mut f = Vec::with_capacity((14 + ip_len).max(min_len));
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&0x0800u16.to_be_bytes());
    // IPv4: version 4, IHL 5, TTL 64, UDP, no fragmentation (DF).
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&(ip_len as u16).to_be_bytes());
    ip[6] = 0x40;
    ip[8] = 64;
    ip[9] = 17;
    ip[12..16].copy_from_slice(&ips.0);
    ip[16..20].copy_from_slice(&ips.1);
    let c = fold(sum16(&ip, 0));
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    let mut udp = Vec::with_capacity(udp_len);
    udp.extend_from_slice(&ports.0.to_be_bytes());
    udp.extend_from_slice(&ports.1.to_be_bytes());
    udp.extend_from_slice(&(udp_len as u16).to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    // Pseudo header: addresses, protocol, UDP length.
    let mut acc = sum16(&ips.0, 0);
    acc = sum16(&ips.1, acc);
    acc += 17 + udp_len as u32;
    let mut c = fold(sum16(&udp, acc));
    if c == 0 {
        c = 0xffff;
    }
    udp[6..8].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&udp);
    if f.len() < min_len {
        f.resize(min_len, 0);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_verify() {
        let f = udp4(
            [2, 0, 0, 0, 0, 1],
            [2, 0, 0, 0, 0, 2],
            ([10, 0, 0, 1], [10, 0, 1, 2]),
            (1000, 80),
            &[1, 2, 3],
            60,
        );
        assert_eq!(f.len(), 60);
        // The IPv4 header sums to 0xffff with its checksum in.
        assert_eq!(fold(sum16(&f[14..34], 0)), 0);
        // UDP with the pseudo header likewise.
        let udp_len = 11u32;
        let acc = sum16(&f[26..34], 17 + udp_len);
        assert_eq!(fold(sum16(&f[34..34 + udp_len as usize], acc)), 0);
    }
}
