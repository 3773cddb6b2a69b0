//! Parsers for what DPDK applications print.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;

/// Counters by name.
pub type Counters = BTreeMap<String, u64>;

fn kv_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"([A-Za-z][A-Za-z0-9_\-\.\[\]]*):\s*(\d+)\b").unwrap())
}

/// Every `Name: number` pair in `text`, in order (later ones win in a map).
pub fn kv_pairs(text: &str) -> Vec<(String, u64)> {
    kv_re()
        .captures_iter(text)
        .filter_map(|c| Some((c[1].to_string(), c[2].parse().ok()?)))
        .collect()
}

/// `show port xstats N` output: name -> value.
pub fn xstats(text: &str) -> Counters {
    let re = Regex::new(r"(?m)^\s*([A-Za-z0-9_\[\]\.\-]+):\s+(\d+)\s*$").unwrap();
    re.captures_iter(text)
        .filter_map(|c| Some((c[1].to_string(), c[2].parse().ok()?)))
        .collect()
}

/// `show port stats N` output (RX-packets, RX-missed, RX-bytes, RX-errors, RX-nombuf,
/// TX-packets, TX-errors, TX-bytes, and the rates).
pub fn port_stats(text: &str) -> Counters {
    kv_pairs(text).into_iter().collect()
}

/// The per-port blocks of testpmd's forward statistics ("Forward statistics for port N"):
/// port -> (RX-packets, RX-dropped, RX-total, TX-packets, TX-dropped, TX-total, and in csum
/// mode Bad-ipcsum, Bad-l4csum, ...).
pub fn fwd_stats(text: &str) -> BTreeMap<u16, Counters> {
    let head = Regex::new(r"Forward statistics for port\s+(\d+)").unwrap();
    let mut out = BTreeMap::new();
    for c in head.captures_iter(text) {
        let port: u16 = c[1].parse().unwrap();
        let start = c.get(0).unwrap().end();
        let rest = &text[start..];
        // The block ends at the closing line of dashes.
        let body_start = rest.find('\n').map_or(rest.len(), |i| i + 1);
        let body = &rest[body_start..];
        let end = body
            .lines()
            .position(|l| {
                let t = l.trim();
                !t.is_empty() && t.chars().all(|ch| ch == '-')
            })
            .map(|n| body.lines().take(n).map(|l| l.len() + 1).sum::<usize>())
            .unwrap_or(body.len());
        let m: Counters = kv_pairs(&body[..end.min(body.len())]).into_iter().collect();
        out.insert(port, m);
    }
    out
}

/// The accumulated forward statistics of all ports.
pub fn fwd_total(text: &str) -> Option<Counters> {
    let i = text.find("Accumulated forward statistics for all ports")?;
    let rest = &text[i..];
    // After the heading's own line, up to the closing line of '+'.
    let rest = &rest[rest.find('\n').map_or(rest.len(), |n| n + 1)..];
    let end = rest.find("++++").unwrap_or(rest.len());
    Some(kv_pairs(&rest[..end]).into_iter().collect())
}

/// Sums the counters whose names match `pred`.
pub fn sum_where(c: &Counters, pred: impl Fn(&str) -> bool) -> u64 {
    c.iter().filter(|(k, _)| pred(k)).map(|(_, v)| v).sum()
}

/// The value of `key`, or a panic naming what is missing.
pub fn get(c: &Counters, key: &str) -> u64 {
    *c.get(key).unwrap_or_else(|| {
        panic!(
            "counter {key} missing; have: {:?}",
            c.keys().collect::<Vec<_>>()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STOP: &str = "Telling cores to stop...
Waiting for lcores to finish...

  ---------------------- Forward statistics for port 0  ----------------------
  RX-packets: 1852696        RX-dropped: 0             RX-total: 1852696
  Bad-ipcsum: 0              Bad-l4csum: 3             Bad-outer-l4csum: 0
  TX-packets: 1853902        TX-dropped: 5             TX-total: 1853907
  ----------------------------------------------------------------------------

  ---------------------- Forward statistics for port 1  ----------------------
  RX-packets: 1853870        RX-dropped: 0             RX-total: 1853870
  TX-packets: 1852728        TX-dropped: 0             TX-total: 1852728
  ----------------------------------------------------------------------------

  +++++++++++++++ Accumulated forward statistics for all ports+++++++++++++++
  RX-packets: 3706566        RX-dropped: 0             RX-total: 3706566
  TX-packets: 3706630        TX-dropped: 0             TX-total: 3706630
  ++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++
";

    #[test]
    fn forward_statistics() {
        let f = fwd_stats(STOP);
        assert_eq!(f.len(), 2);
        assert_eq!(f[&0]["RX-packets"], 1852696);
        assert_eq!(f[&0]["Bad-l4csum"], 3);
        assert_eq!(f[&0]["TX-total"], 1853907);
        assert_eq!(f[&1]["TX-packets"], 1852728);
        assert!(!f[&1].contains_key("Bad-l4csum"));
        assert_eq!(fwd_total(STOP).unwrap()["RX-packets"], 3706566);
    }

    #[test]
    fn extended_statistics() {
        let x = xstats(
            "###### NIC extended statistics for port 1 \nrx_good_packets: 1853870\nmac_rx_frames_ok: 7\nrx_q0_hw_packets: 12\n",
        );
        assert_eq!(x["rx_good_packets"], 1853870);
        assert_eq!(x["mac_rx_frames_ok"], 7);
        assert_eq!(sum_where(&x, |k| k.starts_with("rx_q")), 12);
    }

    #[test]
    fn port_statistics() {
        let s = port_stats(
            "  RX-packets: 1852696    RX-missed: 0          RX-bytes:  118572544\n  RX-errors: 0\n  RX-nombuf:  0         \n  TX-packets: 1853902    TX-errors: 0          TX-bytes:  118649728\n",
        );
        assert_eq!(s["RX-packets"], 1852696);
        assert_eq!(s["RX-bytes"], 118572544);
        assert_eq!(s["RX-nombuf"], 0);
        assert_eq!(s["TX-bytes"], 118649728);
    }
}
