//! Classic pcap files (what DPDK's net_pcap reads and writes), Ethernet link type.

use std::path::Path;

const MAGIC_US: u32 = 0xa1b2_c3d4;
const MAGIC_NS: u32 = 0xa1b2_3c4d;

/// Writes `frames` as a pcap file (microsecond timestamps, 1 ms apart).
pub fn write(path: &Path, frames: &[Vec<u8>]) -> std::io::Result<()> {
    let mut f = Vec::new();
    f.extend_from_slice(&MAGIC_US.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&0i32.to_le_bytes()); // thiszone
    f.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
    f.extend_from_slice(&65535u32.to_le_bytes()); // snaplen
    f.extend_from_slice(&1u32.to_le_bytes()); // LINKTYPE_ETHERNET
    for (i, fr) in frames.iter().enumerate() {
        f.extend_from_slice(&1_700_000_000u32.to_le_bytes());
        f.extend_from_slice(&((i as u32) * 1000).to_le_bytes());
        f.extend_from_slice(&(fr.len() as u32).to_le_bytes());
        f.extend_from_slice(&(fr.len() as u32).to_le_bytes());
        f.extend_from_slice(fr);
    }
    std::fs::write(path, f)
}

/// Reads the frames of a pcap file (either timestamp resolution, either byte order).
pub fn read(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    let b = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    if b.len() < 24 {
        return Err(format!(
            "{}: {} bytes, no pcap header",
            path.display(),
            b.len()
        ));
    }
    let le = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let be = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let little = if le == MAGIC_US || le == MAGIC_NS {
        true
    } else if be == MAGIC_US || be == MAGIC_NS {
        false
    } else {
        return Err(format!(
            "{}: not a pcap file (magic {le:#x})",
            path.display()
        ));
    };
    let u32_at = |i: usize| {
        let w = [b[i], b[i + 1], b[i + 2], b[i + 3]];
        if little {
            u32::from_le_bytes(w)
        } else {
            u32::from_be_bytes(w)
        }
    };
    let mut out = Vec::new();
    let mut i = 24;
    while i + 16 <= b.len() {
        let incl = u32_at(i + 8) as usize;
        let start = i + 16;
        if start + incl > b.len() {
            return Err(format!("{}: truncated record at byte {i}", path.display()));
        }
        out.push(b[start..start + incl].to_vec());
        i = start + incl;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = std::env::temp_dir().join(format!("fbnic-it-pcap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x.pcap");
        let frames = vec![vec![1u8; 60], vec![2u8; 99]];
        write(&p, &frames).unwrap();
        assert_eq!(read(&p).unwrap(), frames);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
