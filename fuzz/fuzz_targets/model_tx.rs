//! Fuzzes the device model's Tx engine with the work descriptors a driver posts (spec 4.1,
//! 4.2): any sequence of TWDs, rung in two doorbells, pointing at fuzzer-chosen frame data.
//! Nothing may panic or hang, and the outcome must be the one a reference written here from
//! the spec and the model's documented rules predicts, descriptor for descriptor:
//! - a packet is META [OPT_META] AL* LAST_AL and is processed only once its LAST_AL is
//!   posted; a META inside a packet ends it as malformed; an AL without a META, a zero-length
//!   piece, an OPT_META anywhere but second, more than 64 pieces, a frame over 9742 bytes, a
//!   checksum offload that does not fit the frame or a DMA fault make a packet an error; a
//!   full ring without a complete packet is consumed as one error;
//! - an LSO packet is cut into frames of at most MSS payload bytes as `model/src/lso.rs`
//!   documents (headers fixed up per segment, the checksum field holding the pseudo-header
//!   sum without the length), each frame counted in TWQ0_PKT_CNT, or is an error;
//! - errors are consumed and completed like good packets (so the driver gets its buffers
//!   back) and counted in TWQ0_ERR_CNT; good ones in TWQ0_PKT_CNT;
//! - the MAC sends the gathered bytes, zero-padded to 60 with TX_PAD, with the IPv4 header
//!   checksum and the L4 checksum (over the pseudo-header sum the driver left in the field)
//!   filled in when REQ_CSO asks;
//! - a META with REQ_COMPLETION gets a head completion naming the next descriptor, one with
//!   REQ_TS a timestamp completion, in order, on the right TWQ.
#![no_main]

use fbnic_model::fuzzing::{tx_ring, TxRun, TX_DATA_BYTES, TX_DATA_IOVA, TX_RING_ENTRIES};
use libfuzzer_sys::fuzz_target;

const MAX_FRAME: usize = 9742;
const MAX_PIECES: usize = 64;
const ADDR_MASK: u64 = (1 << 46) - 1;

fn ty(d: u64) -> u64 {
    (d >> 46) & 3
}
fn len(d: u64) -> usize {
    (d >> 48) as usize
}
fn bit(d: u64, b: u32) -> bool {
    d >> b & 1 == 1
}

/// The folded ones' complement sum of `d`, byte by byte (an odd last byte is the high one).
fn sum(d: &[u8]) -> u16 {
    let mut acc: u64 = 0;
    for (i, &b) in d.iter().enumerate() {
        acc += if i % 2 == 0 {
            (b as u64) << 8
        } else {
            b as u64
        };
    }
    while acc > 0xffff {
        acc = (acc >> 16) + (acc & 0xffff);
    }
    acc as u16
}

/// One packet as the reference splits the ring.
struct Pkt {
    n: usize,
    meta: Option<u64>,
    pieces: Vec<(u64, usize)>,
    bad: bool,
}

/// The packet at `from` with `tail` the doorbell: None when it is not complete yet.
fn next_packet(descs: &[u64], from: usize, tail: usize) -> Option<Pkt> {
    let mut p = Pkt {
        n: 0,
        meta: None,
        pieces: Vec::new(),
        bad: false,
    };
    for (j, &d) in descs[from..tail].iter().enumerate() {
        match ty(d) {
            0 if j > 0 => {
                p.n = j;
                p.bad = true;
                return Some(p);
            }
            0 => p.meta = Some(d),
            1 => p.bad |= j != 1 || p.meta.is_none(),
            t => {
                p.bad |= p.meta.is_none() || len(d) == 0 || p.pieces.len() == MAX_PIECES;
                p.pieces.push((d & ADDR_MASK, len(d)));
                if t == 3 {
                    p.n = j + 1;
                    return Some(p);
                }
            }
        }
    }
    // A full ring that holds no complete packet is consumed whole, as one error.
    (tail - from == TX_RING_ENTRIES - 1).then(|| Pkt {
        n: tail - from,
        bad: true,
        ..p
    })
}

/// Gathers a packet from the data region and applies its checksum offload, as the device
/// must; None for a DMA fault (`Err`) or an offload that does not fit (`Ok(None)`).
fn build(data: &[u8], p: &Pkt, meta: u64, pad: bool) -> Result<Option<Vec<u8>>, ()> {
    let mut f = gather(data, p)?;
    let total = f.len();
    if pad && total < 60 {
        f.resize(60, 0);
    }
    if bit(meta, 36) {
        let l2 = (meta & 0x3f) as usize * 2;
        let start = l2 + ((meta >> 16) & 0xff) as usize * 2;
        let field = start + ((meta >> 24) & 0xf) as usize * 2;
        if field + 2 > total || start >= total {
            return Ok(None);
        }
        if (meta >> 6) & 3 == 1 {
            if l2 + 20 > total {
                return Ok(None);
            }
            let ihl = (f[l2] & 0xf) as usize * 4;
            if ihl < 20 || l2 + ihl > total {
                return Ok(None);
            }
            f[l2 + 10] = 0;
            f[l2 + 11] = 0;
            let c = !sum(&f[l2..l2 + ihl]);
            f[l2 + 10..l2 + 12].copy_from_slice(&c.to_be_bytes());
        }
        let mut c = !sum(&f[start..total]);
        if c == 0 && (meta >> 32) & 3 == 2 {
            c = 0xffff;
        }
        f[field..field + 2].copy_from_slice(&c.to_be_bytes());
    }
    Ok(Some(f))
}

fn put16(f: &mut [u8], at: usize, v: u16) {
    f[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// The frames an LSO request makes of `pkt` (gathered), or None when it is malformed.
fn lso_segments(pkt: &[u8], meta: u64, pad: bool) -> Option<Vec<Vec<u8>>> {
    let (l3_type, l4_type) = ((meta >> 6) & 3, (meta >> 32) & 3);
    if !(1..=2).contains(&l3_type) || !(1..=2).contains(&l4_type) || (meta >> 8) & 0xff != 0 {
        return None;
    }
    let (v4, tcp) = (l3_type == 1, l4_type == 1);
    let l3 = (meta & 0x3f) as usize * 2;
    let l4 = l3 + ((meta >> 16) & 0xff) as usize * 2;
    let hdr = l4 + ((meta >> 28) & 0xf) as usize * 4;
    let field = l4 + ((meta >> 24) & 0xf) as usize * 2;
    let mss = ((meta >> 48) & 0x3fff) as usize;
    let len = pkt.len();
    if hdr >= len || field + 2 > hdr || mss < 64 || hdr + mss.min(len - hdr) > MAX_FRAME {
        return None;
    }
    let l3_ok = if v4 {
        l4 - l3 >= 20 && pkt[l3] >> 4 == 4 && (pkt[l3] & 0xf) as usize * 4 == l4 - l3
    } else {
        l4 - l3 >= 40 && pkt[l3] >> 4 == 6
    };
    let l4_ok = if tcp {
        hdr - l4 >= 20 && (pkt[l4 + 12] >> 4) as usize * 4 == hdr - l4
    } else {
        hdr - l4 == 8
    };
    if !l3_ok || !l4_ok {
        return None;
    }
    let payload = &pkt[hdr..];
    let count = payload.len().div_ceil(mss);
    let mut out = Vec::new();
    for (k, chunk) in payload.chunks(mss).enumerate() {
        let mut f = pkt[..hdr].to_vec();
        f.extend_from_slice(chunk);
        let n = f.len();
        if v4 {
            put16(&mut f, l3 + 2, (n - l3) as u16);
            let id = u16::from_be_bytes([pkt[l3 + 4], pkt[l3 + 5]]).wrapping_add(k as u16);
            put16(&mut f, l3 + 4, id);
            put16(&mut f, l3 + 10, 0);
            let c = !sum(&f[l3..l4]);
            put16(&mut f, l3 + 10, c);
        } else {
            put16(&mut f, l3 + 4, (n - l3 - 40) as u16);
        }
        if tcp {
            let seq = u32::from_be_bytes(pkt[l4 + 4..l4 + 8].try_into().unwrap());
            let seq = seq.wrapping_add((k * mss) as u32);
            f[l4 + 4..l4 + 8].copy_from_slice(&seq.to_be_bytes());
            if k + 1 < count {
                f[l4 + 13] &= !0x09;
            }
            if k > 0 {
                f[l4 + 13] &= !0x80;
            }
        } else {
            put16(&mut f, l4 + 4, (n - l4) as u16);
        }
        // The pseudo-header sum in the field lacks the L4 length: add it.
        let s = sum(&f[l4..]) as u32 + (n - l4) as u32;
        let mut c = !(((s & 0xffff) + (s >> 16)) as u16);
        if c == 0 && !tcp {
            c = 0xffff;
        }
        put16(&mut f, field, c);
        if pad && n < 60 {
            f.resize(60, 0);
        }
        out.push(f);
    }
    Some(out)
}

/// Gathers a packet's pieces from the data region; Err on a DMA fault.
fn gather(data: &[u8], p: &Pkt) -> Result<Vec<u8>, ()> {
    let mut f = Vec::new();
    for &(addr, n) in &p.pieces {
        let off = addr.wrapping_sub(TX_DATA_IOVA);
        if off >= TX_DATA_BYTES as u64 || n as u64 > TX_DATA_BYTES as u64 - off {
            return Err(());
        }
        let off = off as usize;
        f.extend((off..off + n).map(|i| data.get(i).copied().unwrap_or(0)));
    }
    Ok(f)
}

/// What the device must do with the run, as `TxOutcome`'s fields.
#[derive(Default)]
struct Expect {
    heads: [u32; 2],
    frames: Vec<Vec<u8>>,
    sent: u32,
    errors: u32,
    completions: Vec<(bool, u32)>,
    dma_faults: u32,
}

fn reference(run: &TxRun<'_>) -> Expect {
    let mut e = Expect::default();
    let mut at = 0;
    for (k, tail) in [run.first_tail, run.descs.len()].into_iter().enumerate() {
        while let Some(p) = next_packet(run.descs, at, tail) {
            let meta = p.meta.unwrap_or(0);
            let total: usize = p.pieces.iter().map(|&(_, n)| n).sum();
            let lso = p.meta.is_some() && bit(meta, 35);
            let mut bad = p.bad || (!lso && total > MAX_FRAME);
            let mut frames = 1;
            if lso && !bad {
                // LSO goes to the MAC only, at most 256 KiB.
                if bit(meta, 44) || bit(meta, 45) || total > 256 * 1024 {
                    bad = true;
                } else {
                    match gather(run.data, &p) {
                        Err(()) => {
                            e.dma_faults += 1;
                            bad = true;
                        }
                        Ok(pkt) => match lso_segments(&pkt, meta, run.pad) {
                            None => bad = true,
                            Some(segs) => {
                                frames = segs.len() as u32;
                                e.frames.extend(segs);
                            }
                        },
                    }
                }
            } else if !bad {
                let (mac, bmc, fw) = (bit(meta, 43), bit(meta, 44), bit(meta, 45));
                // One build for the BMC (absent here: the frame is dropped after it), one for
                // the MAC; the same data, so a fault shows in the first one only.
                let builds = bmc as usize + (mac || !(bmc || fw)) as usize;
                if builds > 0 {
                    match build(run.data, &p, meta, run.pad) {
                        Err(()) => {
                            e.dma_faults += 1;
                            bad = true;
                        }
                        Ok(None) => bad = true,
                        Ok(Some(f)) => {
                            if mac || !(bmc || fw) {
                                e.frames.push(f);
                            }
                        }
                    }
                }
            }
            at += p.n;
            if bad {
                e.errors += 1;
            } else {
                e.sent += frames;
            }
            if p.meta.is_some() && bit(meta, 37) {
                e.completions.push((false, at as u32));
            }
            if p.meta.is_some() && bit(meta, 34) {
                e.completions.push((true, 0));
            }
        }
        e.heads[k] = at as u32;
    }
    e
}

fuzz_target!(|input: &[u8]| {
    let Some((&[flags, n, first], rest)) = input.split_first_chunk::<3>() else {
        return;
    };
    let n = (n as usize % TX_RING_ENTRIES).min(rest.len() / 8);
    let (words, data) = rest.split_at(n * 8);
    let data = &data[..data.len().min(TX_DATA_BYTES)];
    // Most address descriptors point at (or just around) the frame data, with short lengths;
    // a set top bit keeps the raw address or length, which mostly faults or is too long.
    let descs: Vec<u64> = words
        .chunks_exact(8)
        .map(|c| {
            let d = u64::from_le_bytes(c.try_into().unwrap());
            if ty(d) < 2 {
                return d;
            }
            let mut addr = d & ADDR_MASK;
            if !bit(d, 45) {
                addr = (TX_DATA_IOVA - 64) + addr % (TX_DATA_BYTES as u64 + 128);
            }
            let mut l = len(d) as u64;
            if !bit(d, 63) {
                l %= 200;
            }
            (d & (3 << 46)) | addr | l << 48
        })
        .collect();
    let run = TxRun {
        descs: &descs,
        first_tail: first as usize % (n + 1),
        data,
        pad: flags & 1 != 0,
        twq1: flags & 2 != 0,
    };
    let got = tx_ring(&run);
    let want = reference(&run);
    assert_eq!(got.heads, want.heads, "TWQ head after each doorbell");
    assert_eq!((got.sent, got.errors), (want.sent, want.errors), "PKT/ERR");
    assert_eq!(got.dma_faults, want.dma_faults, "DMA faults");
    assert_eq!(got.frames, want.frames, "frames on the wire");
    assert_eq!(got.completions.len(), want.completions.len(), "completions");
    for (&c, &(ts, head)) in got.completions.iter().zip(&want.completions) {
        let twq1 = bit(c, 60);
        assert_eq!(twq1, run.twq1, "TCD {c:#x}: TWQ1 bit");
        assert_eq!((c >> 61) & 3, ts as u64, "TCD {c:#x}: type");
        if !ts {
            let h = if twq1 { (c >> 16) & 0xffff } else { c & 0xffff };
            assert_eq!(h as u32, head, "TCD {c:#x}: head");
        }
    }
});
