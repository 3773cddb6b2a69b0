//! Machine-readable `RESULT key=value ...` lines, printed by the tools the harness runs as
//! subprocesses: `fbnic-perf model-mpps` and `fbnic-latency` (apps/fbnic-latency), e.g.
//! `RESULT mode=pair rate_pps=1000000 achieved_pps=999871 sent=.. co_p99_us=.. ...`.

use std::collections::BTreeMap;

/// One `RESULT` line as key -> value.
pub type ResultLine = BTreeMap<String, String>;

/// Every `RESULT` line of `text`.
pub fn parse(text: &str) -> Vec<ResultLine> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix("RESULT "))
        .map(|rest| {
            rest.split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// A numeric field of a result.
pub fn num(r: &ResultLine, key: &str) -> f64 {
    r.get(key).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_result_lines() {
        let t = "hello\nRESULT mode=pair rate_pps=1000 co_p99_us=12.5\n  RESULT rate_pps=1000000 co_p99_us=4.1\n";
        let r = parse(t);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0]["mode"], "pair");
        assert_eq!(num(&r[0], "co_p99_us"), 12.5);
        assert_eq!(num(&r[1], "rate_pps"), 1e6);
        assert!(num(&r[1], "absent").is_nan());
    }
}
