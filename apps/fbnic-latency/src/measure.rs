//! The measurement loop: paced, timestamped frames out, round trips back, histograms.
//!
//! Frame `seq` is scheduled at `start + seq * interval` (TSC). The loop sends every frame
//! that is due (up to a burst at a time), stamping the actual send TSC into the payload just
//! before the Tx burst; it reflects whatever arrives on the far port back over the cable; and
//! for every frame that returns it records
//!
//! - **corrected** latency: arrival - *scheduled* send time. If the sender falls behind (the
//!   port or the loop stalled), the frames that should have gone out meanwhile are charged
//!   the stall as well, which is what coordinated-omission correction is about;
//! - **uncorrected** latency: arrival - actual send time (what a naive tool reports);
//! - the uncorrected histogram corrected afterwards the histogram's way
//!   (`clone_correct(interval)`, the same as `record_correct` on every value), for
//!   comparison. It is computed after the run: under overload `record_correct` adds
//!   value / interval samples per frame, which would make the measuring loop itself the
//!   bottleneck.

use hdrhistogram::Histogram;

use crate::dpdk::{self, EthPort, Pool};

/// Bytes of the frames (without FCS): a minimum Ethernet frame, 64 bytes on the wire.
pub const FRAME_LEN: usize = 60;
/// Payload offset (Ethernet 14 + IPv4 20 + UDP 8).
const PAYLOAD: usize = 42;
/// Payload magic.
const MAGIC: [u8; 2] = [0xfb, 0x1a];

/// The frame template: UDP/IPv4, 18 bytes of payload (magic, sequence, send TSC), zero UDP
/// checksum (none, legal over IPv4) so only the payload changes per frame.
pub fn template(dst: [u8; 6], src: [u8; 6]) -> [u8; FRAME_LEN] {
    let mut f = [0u8; FRAME_LEN];
    f[0..6].copy_from_slice(&dst);
    f[6..12].copy_from_slice(&src);
    f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    let ip = &mut f[14..34];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&((FRAME_LEN - 14) as u16).to_be_bytes());
    ip[6] = 0x40;
    ip[8] = 64;
    ip[9] = 17;
    ip[12..16].copy_from_slice(&[10, 0, 0, 1]);
    ip[16..20].copy_from_slice(&[10, 0, 0, 2]);
    let mut sum: u32 = ip
        .chunks_exact(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    let udp = &mut f[34..42];
    udp[0..2].copy_from_slice(&7777u16.to_be_bytes());
    udp[2..4].copy_from_slice(&7778u16.to_be_bytes());
    udp[4..6].copy_from_slice(&((FRAME_LEN - 34) as u16).to_be_bytes());
    f[PAYLOAD..PAYLOAD + 2].copy_from_slice(&MAGIC);
    f
}

/// Writes `seq` into a template copy.
pub fn stamp_seq(f: &mut [u8; FRAME_LEN], seq: u64) {
    f[PAYLOAD + 2..PAYLOAD + 10].copy_from_slice(&seq.to_le_bytes());
}

/// Offset and bytes of the send-TSC field.
pub fn tsc_field(tsc: u64) -> (usize, [u8; 8]) {
    (PAYLOAD + 10, tsc.to_le_bytes())
}

/// (seq, send TSC) of one of our frames.
pub fn parse(f: &[u8]) -> Option<(u64, u64)> {
    if f.len() < FRAME_LEN || f[PAYLOAD..PAYLOAD + 2] != MAGIC {
        return None;
    }
    let seq = u64::from_le_bytes(f[PAYLOAD + 2..PAYLOAD + 10].try_into().ok()?);
    let ts = u64::from_le_bytes(f[PAYLOAD + 10..PAYLOAD + 18].try_into().ok()?);
    Some((seq, ts))
}

/// What to measure.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// Frames per second.
    pub rate_pps: f64,
    /// Measured seconds.
    pub secs: f64,
    /// Seconds sent first and not recorded.
    pub warmup: f64,
    /// Most frames per Tx burst (when catching up).
    pub burst: usize,
    /// TSC ticks per second.
    pub hz: u64,
}

/// What came out.
#[derive(Debug)]
pub struct Outcome {
    /// Frames sent after the warm-up.
    pub sent: u64,
    /// Of those, received back.
    pub received: u64,
    /// Frames received that were not ours or came back twice.
    pub unexpected: u64,
    /// Sent frames per second achieved over the measured part.
    pub achieved_pps: f64,
    /// Most frames the sender was behind schedule.
    pub max_backlog: u64,
    /// Latency from the scheduled send time, ns.
    pub corrected: Histogram<u64>,
    /// Latency from the actual send time, ns.
    pub raw: Histogram<u64>,
    /// `raw` corrected with `clone_correct(interval)` after the run, ns.
    pub raw_hdr_corrected: Histogram<u64>,
}

/// The ports of one measurement: frames go out of `tx`, come back on `rx`; `reflector`
/// (the far port of a cabled pair) sends back what it receives.
#[derive(Debug)]
pub struct Path<'a> {
    /// Sends the frames.
    pub tx: &'a EthPort,
    /// Receives them back.
    pub rx: &'a EthPort,
    /// Sends back what it receives (None with a loopback plug).
    pub reflector: Option<&'a EthPort>,
    /// Where frames come from.
    pub pool: &'a Pool,
    /// The frame template.
    pub template: [u8; FRAME_LEN],
}

fn hist() -> Histogram<u64> {
    // 1 ns to 100 s at 3 significant digits.
    Histogram::new_with_bounds(1, 100_000_000_000, 3).expect("valid histogram bounds")
}

/// Runs one measurement on the calling (worker) lcore.
pub fn run(path: &Path<'_>, p: &Params) -> Outcome {
    let hz = p.hz as f64;
    let interval = hz / p.rate_pps;
    let interval_ns = (1e9 / p.rate_pps).round() as u64;
    let warm = (p.rate_pps * p.warmup).round() as u64;
    let total = warm + (p.rate_pps * p.secs).round() as u64;
    let to_ns = |ticks: u64| (ticks as f64 * 1e9 / hz) as u64;
    let start = dpdk::tsc() + p.hz / 100;
    let sched = |seq: u64| start + (seq as f64 * interval) as u64;
    let burst = p.burst.clamp(1, 64);

    let mut out = Outcome {
        sent: 0,
        received: 0,
        unexpected: 0,
        achieved_pps: 0.0,
        max_backlog: 0,
        corrected: hist(),
        raw: hist(),
        raw_hdr_corrected: hist(),
    };
    let mut seen = vec![false; total as usize];
    let mut next = 0u64;
    let mut pending: Vec<*mut dpdk_sys::rte_mbuf> = Vec::with_capacity(64);
    let mut reflected: Vec<*mut dpdk_sys::rte_mbuf> = Vec::with_capacity(64);
    let mut fresh = [core::ptr::null_mut(); 64];
    let mut rxb = [core::ptr::null_mut(); 64];
    let mut frame = path.template;
    let mut last_progress = dpdk::tsc();
    let mut first_measured_tsc = None;
    let mut last_sent_tsc = 0u64;
    let hard_stop = start + ((p.secs + p.warmup + 10.0) * hz) as u64;
    loop {
        let now = dpdk::tsc();
        // Frames due now (scheduled at or before `now`) go out, at most a burst per pass.
        if next < total && pending.len() < burst && sched(next) <= now {
            let due_until = (((now - start) as f64 / interval) as u64 + 1).min(total);
            out.max_backlog = out.max_backlog.max(due_until - next);
            let n = ((due_until - next) as usize).min(burst - pending.len());
            if n > 0 && path.pool.alloc(&mut fresh[..n]) {
                for &m in &fresh[..n] {
                    stamp_seq(&mut frame, next);
                    dpdk::fill(m, &frame);
                    pending.push(m);
                    next += 1;
                }
            }
        }
        if !pending.is_empty() {
            let t = dpdk::tsc();
            let (off, bytes) = tsc_field(t);
            for &m in &pending {
                dpdk::patch(m, off, &bytes);
            }
            let k = path.tx.tx(&mut pending);
            if k > 0 {
                let first_seq = next - pending.len() as u64;
                if first_seq + k as u64 > warm && first_measured_tsc.is_none() {
                    first_measured_tsc = Some(t);
                }
                last_sent_tsc = t;
                pending.drain(..k);
            }
        }
        if let Some(r) = path.reflector {
            // Frames the reflector's Tx ring had no room for wait in `reflected` (and hold
            // back its Rx): dropping them would count as lost what only came back late, as
            // when the sender catches up after a stall.
            if reflected.is_empty() {
                let n = r.rx(&mut rxb);
                reflected.extend_from_slice(&rxb[..n]);
            }
            if !reflected.is_empty() {
                let k = r.tx(&mut reflected);
                reflected.drain(..k);
            }
        }
        let n = path.rx.rx(&mut rxb);
        if n > 0 {
            let arrived = dpdk::tsc();
            for &m in &rxb[..n] {
                match parse(dpdk::data(m)) {
                    Some((seq, sent)) if seq < total && !seen[seq as usize] => {
                        seen[seq as usize] = true;
                        if seq >= warm {
                            out.received += 1;
                            let co = to_ns(arrived.saturating_sub(sched(seq)));
                            let raw = to_ns(arrived.saturating_sub(sent));
                            out.corrected.saturating_record(co.max(1));
                            out.raw.saturating_record(raw.max(1));
                        }
                    }
                    _ => out.unexpected += 1,
                }
            }
            dpdk::free(&mut rxb[..n]);
            last_progress = arrived;
        }
        if next == total && pending.is_empty() {
            let now = dpdk::tsc();
            let all = out.received == total - warm;
            // Done when everything returned, or nothing arrived for 100 ms.
            if all || now.saturating_sub(last_progress) > p.hz / 10 {
                break;
            }
        }
        if dpdk::tsc() > hard_stop {
            break;
        }
    }
    dpdk::free(&mut pending);
    dpdk::free(&mut reflected);
    out.raw_hdr_corrected = out.raw.clone_correct(interval_ns);
    out.sent = next.saturating_sub(warm);
    if let Some(t0) = first_measured_tsc {
        let span = last_sent_tsc.saturating_sub(t0) as f64 / hz;
        if span > 0.0 && out.sent > 1 {
            out.achieved_pps = (out.sent - 1) as f64 / span;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let mut f = template([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
        stamp_seq(&mut f, 77);
        let (off, b) = tsc_field(0x1122_3344_5566_7788);
        f[off..off + 8].copy_from_slice(&b);
        assert_eq!(parse(&f), Some((77, 0x1122_3344_5566_7788)));
        assert_eq!(parse(&f[..59]), None);
        let mut g = f;
        g[PAYLOAD] = 0;
        assert_eq!(parse(&g), None);
        // The IPv4 header checksum verifies.
        let mut sum: u32 = f[14..34]
            .chunks_exact(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
            .sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        assert_eq!(sum, 0xffff);
    }
}
