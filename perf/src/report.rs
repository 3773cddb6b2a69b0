//! Turning run results into the table, the CSV files and the charts.

use std::fmt::Write as _;

use crate::stats::{median, Summary};
use crate::svg::{self, Bar, Panel, Series, PALETTE};
use crate::testpmd::{Pmd, RunResult, Sample};

/// Everything measured for one PMD at one burst size.
#[derive(Clone, Debug)]
pub struct PmdSummary {
    /// The PMD.
    pub pmd: Pmd,
    /// Burst size.
    pub burst: u32,
    /// Runs that worked.
    pub runs: usize,
    /// Runs that failed.
    pub failed: usize,
    /// Per-second cycles/packet samples over all runs.
    pub cpp: Option<Summary>,
    /// Per-second Mpps samples over all runs.
    pub mpps: Option<Summary>,
    /// Median of per-second mean non-empty burst sizes.
    pub avg_burst: f64,
    /// Median of per-second empty-poll percentages.
    pub empty_polls_pct: f64,
    /// Median share of time the forwarding lcore waited for its CPU (other work ran), %.
    pub fwd_wait_pct: f64,
    /// Median share of time the model's engine waited for its CPU, % (net_fbnic only).
    pub engine_wait_pct: f64,
    /// Median core-to-core cache-line round trip measured before each run, ns.
    pub c2c_ns: f64,
    /// Whole-window cycles/packet of each run, by round.
    pub round_cpp: Vec<(u32, f64)>,
    /// Samples left out because a polling thread waited for its CPU too long.
    pub excluded: usize,
    /// Every sample was disturbed: the figures are over all of them.
    pub all_noisy: bool,
}

/// Summarises the runs of `pmd` at `burst` in `results`, over the samples in which no
/// polling thread waited for its CPU more than `max_wait_pct` percent of the time (all
/// samples if none qualifies).
pub fn summarize(
    results: &[RunResult],
    pmd: Pmd,
    burst: u32,
    failed: usize,
    max_wait_pct: f64,
) -> PmdSummary {
    let runs: Vec<&RunResult> = results
        .iter()
        .filter(|r| r.pmd == pmd && r.burst == burst)
        .collect();
    let total = runs.iter().map(|r| r.samples.len()).sum::<usize>();
    let quiet = runs
        .iter()
        .flat_map(|r| r.samples.iter())
        .filter(|s| s.quiet(max_wait_pct))
        .count();
    let all_noisy = quiet == 0 && total > 0;
    let keep = move |s: &crate::testpmd::Sample| all_noisy || s.quiet(max_wait_pct);
    let all = |f: fn(&crate::testpmd::Sample) -> f64| -> Vec<f64> {
        runs.iter()
            .flat_map(|r| r.samples.iter().filter(|s| keep(s)).map(f))
            .collect()
    };
    PmdSummary {
        pmd,
        burst,
        runs: runs.len(),
        failed,
        cpp: Summary::of(&all(|s| s.cycles_per_pkt)),
        mpps: Summary::of(&all(|s| s.mpps)),
        avg_burst: median(&all(|s| s.avg_burst)).unwrap_or(f64::NAN),
        empty_polls_pct: median(&all(|s| s.empty_polls_pct)).unwrap_or(f64::NAN),
        fwd_wait_pct: median(&all(|s| s.fwd_wait_pct)).unwrap_or(f64::NAN),
        engine_wait_pct: median(&all(|s| s.engine_wait_pct)).unwrap_or(f64::NAN),
        c2c_ns: median(&runs.iter().map(|r| r.c2c_ns).collect::<Vec<_>>()).unwrap_or(f64::NAN),
        round_cpp: runs
            .iter()
            .map(|r| (r.round, r.window.cycles_per_pkt))
            .collect(),
        excluded: if all_noisy { 0 } else { total - quiet },
        all_noisy,
    }
}

impl PmdSummary {
    /// Median cycles/packet (NaN without samples).
    pub fn cpp_median(&self) -> f64 {
        self.cpp.map_or(f64::NAN, |s| s.median)
    }

    /// Median Mpps (NaN without samples).
    pub fn mpps_median(&self) -> f64 {
        self.mpps.map_or(f64::NAN, |s| s.median)
    }
}

/// Core-to-core latency below which the two CPUs count as near (same cache complex).
pub const NEAR_C2C_NS: f64 = 150.0;

/// Whether a sample ran with the CPUs near: by the round trip measured during it when there
/// is one, else by its run's round trips before and after (near both times: near; far both
/// times: far; None when they disagree, as the placement moved during the run).
pub fn sample_near(r: &RunResult, s: &Sample) -> Option<bool> {
    if s.c2c_ns.is_finite() {
        return Some(s.c2c_ns < NEAR_C2C_NS);
    }
    let (a, b) = (r.c2c_ns, r.c2c_after_ns);
    if a < NEAR_C2C_NS && b < NEAR_C2C_NS {
        Some(true)
    } else if a >= NEAR_C2C_NS && b >= NEAR_C2C_NS {
        Some(false)
    } else {
        None
    }
}

/// Median cycles/packet of `pmd` at `burst` over the quiet samples with the CPUs near and
/// over those with them far ([`sample_near`]): `((near median, samples), (far median,
/// samples))`.
pub fn c2c_split(
    results: &[RunResult],
    pmd: Pmd,
    burst: u32,
    max_wait_pct: f64,
) -> ((f64, usize), (f64, usize)) {
    let pick = |near: bool| -> (f64, usize) {
        let v: Vec<f64> = results
            .iter()
            .filter(|r| r.pmd == pmd && r.burst == burst)
            .flat_map(|r| r.samples.iter().map(move |s| (r, s)))
            .filter(|(r, s)| s.quiet(max_wait_pct) && sample_near(r, s) == Some(near))
            .map(|(_, s)| s.cycles_per_pkt)
            .collect();
        (median(&v).unwrap_or(f64::NAN), v.len())
    };
    (pick(true), pick(false))
}

/// `a / b` of the medians.
pub fn ratio(a: &PmdSummary, b: &PmdSummary) -> f64 {
    a.cpp_median() / b.cpp_median()
}

/// Per-round ratios of whole-window cycles/packet, for rounds both have.
pub fn round_ratios(a: &PmdSummary, b: &PmdSummary) -> Vec<f64> {
    a.round_cpp
        .iter()
        .filter_map(|&(r, x)| {
            b.round_cpp
                .iter()
                .find(|&&(rb, _)| rb == r)
                .map(|&(_, y)| x / y)
        })
        .collect()
}

fn f(v: f64, prec: usize) -> String {
    if v.is_finite() {
        format!("{v:.prec$}")
    } else {
        "-".into()
    }
}

/// The main table (one line per PMD), with ratios to net_null and net_memif.
pub fn table(rows: &[PmdSummary]) -> String {
    let find = |p: Pmd| rows.iter().find(|r| r.pmd == p);
    let (null, memif) = (find(Pmd::Null), find(Pmd::Memif));
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<7} {:>10} {:>17} {:>8} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}  samples",
        "PMD",
        "cyc/pkt",
        "IQR",
        "Mpps",
        "avgburst",
        "empty%",
        "/null",
        "/memif",
        "fwdwt%",
        "engwt%",
        // The probe before each run; the per-second probe's near/far split is printed
        // below the table.
        "c2c pre"
    );
    for r in rows {
        let (q1, q3) = r.cpp.map_or((f64::NAN, f64::NAN), |c| (c.p25, c.p75));
        let rn = null.map_or(f64::NAN, |n| ratio(r, n));
        let rm = memif.map_or(f64::NAN, |m| ratio(r, m));
        let mut samples = match r.cpp {
            Some(c) => c.n.to_string(),
            None => "0".into(),
        };
        if r.excluded > 0 {
            samples += &format!(" ({} disturbed left out)", r.excluded);
        }
        if r.all_noisy {
            samples += " (ALL disturbed)";
        }
        if r.failed > 0 {
            samples += &format!(" ({} runs failed)", r.failed);
        }
        let _ = writeln!(
            s,
            "{:<7} {:>10} {:>17} {:>8} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}  {}",
            r.pmd.name(),
            f(r.cpp_median(), 2),
            format!("{} - {}", f(q1, 2), f(q3, 2)),
            f(r.mpps_median(), 2),
            f(r.avg_burst, 1),
            f(r.empty_polls_pct, 1),
            f(rn, 2),
            f(rm, 2),
            f(r.fwd_wait_pct, 1),
            f(r.engine_wait_pct, 1),
            f(r.c2c_ns, 0),
            samples
        );
    }
    s
}

/// CSV of the summaries: the fwd table and the burst sweep (`section` tells which).
pub fn summary_csv(fwd: &[PmdSummary], sweep: &[PmdSummary]) -> String {
    let find = |p: Pmd, burst: u32| {
        fwd.iter()
            .chain(sweep)
            .find(|r| r.pmd == p && r.burst == burst)
    };
    let mut s = String::from(
        "section,pmd,burst,runs,failed,samples,cycles_per_pkt_median,cycles_per_pkt_p25,cycles_per_pkt_p75,mpps_median,avg_burst,empty_polls_pct,ratio_vs_null,ratio_vs_memif,fwd_wait_pct,engine_wait_pct,c2c_roundtrip_ns,excluded_samples,all_disturbed\n",
    );
    for (section, rows) in [("fwd", fwd), ("burst_sweep", sweep)] {
        for r in rows {
            let (q1, q3) = r.cpp.map_or((f64::NAN, f64::NAN), |c| (c.p25, c.p75));
            let rn = find(Pmd::Null, r.burst).map_or(f64::NAN, |n| ratio(r, n));
            let rm = find(Pmd::Memif, r.burst).map_or(f64::NAN, |m| ratio(r, m));
            let _ = writeln!(
                s,
                "{section},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                r.pmd.name(),
                r.burst,
                r.runs,
                r.failed,
                r.cpp.map_or(0, |c| c.n),
                f(r.cpp_median(), 3),
                f(q1, 3),
                f(q3, 3),
                f(r.mpps_median(), 4),
                f(r.avg_burst, 2),
                f(r.empty_polls_pct, 2),
                f(rn, 3),
                f(rm, 3),
                f(r.fwd_wait_pct, 2),
                f(r.engine_wait_pct, 2),
                f(r.c2c_ns, 1),
                r.excluded,
                r.all_noisy
            );
        }
    }
    s
}

/// CSV of every per-second sample.
pub fn samples_csv(results: &[RunResult]) -> String {
    let mut s = String::from(
        "pmd,burst,round,second,secs,packets,cycles,cycles_per_pkt,mpps,avg_burst,empty_polls_pct,fwd_run_pct,fwd_wait_pct,engine_run_pct,engine_wait_pct,inflight_per_port,loadavg_before,loadavg_after,c2c_roundtrip_ns,c2c_after_ns,cpus_busy_before_pct,c2c_during_ns\n",
    );
    for r in results {
        for (i, x) in r.samples.iter().enumerate() {
            let _ = writeln!(
                s,
                "{},{},{},{},{:.4},{},{},{},{},{},{},{},{},{},{},{},{:.2},{:.2},{},{},{},{}",
                r.pmd.name(),
                r.burst,
                r.round,
                i + 1,
                x.secs,
                x.packets,
                x.cycles,
                f(x.cycles_per_pkt, 3),
                f(x.mpps, 4),
                f(x.avg_burst, 2),
                f(x.empty_polls_pct, 2),
                f(x.fwd_run_pct, 1),
                f(x.fwd_wait_pct, 1),
                f(x.engine_run_pct, 1),
                f(x.engine_wait_pct, 1),
                r.inflight,
                r.loadavg.0,
                r.loadavg.1,
                f(r.c2c_ns, 1),
                f(r.c2c_after_ns, 1),
                f(r.busy_before_pct, 1),
                f(x.c2c_ns, 1)
            );
        }
    }
    s
}

/// One extra figure (autotest, model, latency, targets): `section,name,value,unit,note`.
#[derive(Clone, Debug)]
pub struct Extra {
    /// Group.
    pub section: String,
    /// What.
    pub name: String,
    /// Value.
    pub value: f64,
    /// Unit.
    pub unit: String,
    /// Free text (no commas needed; they are replaced).
    pub note: String,
}

impl Extra {
    /// A figure.
    pub fn new(section: &str, name: &str, value: f64, unit: &str, note: &str) -> Self {
        Self {
            section: section.into(),
            name: name.into(),
            value,
            unit: unit.into(),
            note: note.into(),
        }
    }
}

/// CSV of the extra figures.
pub fn extras_csv(extras: &[Extra]) -> String {
    let mut s = String::from("section,name,value,unit,note\n");
    for e in extras {
        let _ = writeln!(
            s,
            "{},{},{},{},{}",
            e.section,
            e.name,
            f(e.value, 3),
            e.unit,
            e.note.replace(',', ";")
        );
    }
    s
}

fn color_of(p: Pmd) -> &'static str {
    let i = Pmd::ALL.iter().position(|&x| x == p).unwrap_or(0);
    PALETTE[i % PALETTE.len()]
}

/// Bar charts: median cycles/packet (with quartile whiskers) and Mpps per PMD.
pub fn pmd_chart(rows: &[PmdSummary], note: &str) -> String {
    let cpp = Panel {
        title: "forwarding-core cycles/packet (median, IQR)".into(),
        unit: "cycles / packet".into(),
        bars: rows
            .iter()
            .map(|r| Bar {
                label: r.pmd.name().into(),
                value: r.cpp_median(),
                spread: r.cpp.map(|c| (c.p25, c.p75)),
                color: color_of(r.pmd).into(),
            })
            .collect(),
    };
    let mpps = Panel {
        title: "throughput (median, IQR)".into(),
        unit: "Mpps (both ports)".into(),
        bars: rows
            .iter()
            .map(|r| Bar {
                label: r.pmd.name().into(),
                value: r.mpps_median(),
                spread: r.mpps.map(|c| (c.p25, c.p75)),
                color: color_of(r.pmd).into(),
            })
            .collect(),
    };
    svg::bars(
        "dpdk-testpmd io forwarding, 64-byte frames, 1 forwarding lcore",
        &[cpp, mpps],
        note,
    )
}

/// Line chart: cycles/packet against burst size, one line per PMD in the sweep.
///
/// `extra` adds series (e.g. net_fbnic's figures split by core-to-core latency).
pub fn burst_chart(sweep: &[PmdSummary], extra: &[Series], note: &str) -> String {
    let mut pmds: Vec<Pmd> = sweep.iter().map(|r| r.pmd).collect();
    pmds.sort();
    pmds.dedup();
    let mut series: Vec<Series> = pmds
        .into_iter()
        .map(|p| {
            let mut points: Vec<(f64, f64)> = sweep
                .iter()
                .filter(|r| r.pmd == p)
                .map(|r| (f64::from(r.burst), r.cpp_median()))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Series {
                name: p.driver().into(),
                color: color_of(p).into(),
                points,
            }
        })
        .collect();
    series.extend(extra.iter().cloned());
    svg::lines(
        "cycles/packet against burst size (testpmd --burst=N)",
        "burst size (packets)",
        "cycles / packet (median)",
        &series,
        true,
        note,
    )
}

/// UTC `YYYYmmdd-HHMMSS` for `secs` since the Unix epoch.
pub fn timestamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (proleptic Gregorian, eras of 400 years).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pmd: Pmd, round: u32, cpp: f64) -> RunResult {
        let s = Sample {
            secs: 1.0,
            packets: 1_000_000,
            cycles: (cpp * 1e6) as u64,
            cycles_per_pkt: cpp,
            mpps: 1.0,
            avg_burst: 32.0,
            empty_polls_pct: 0.0,
            fwd_run_pct: 100.0,
            fwd_wait_pct: 1.0,
            engine_run_pct: f64::NAN,
            engine_wait_pct: f64::NAN,
            c2c_ns: f64::NAN,
        };
        RunResult {
            pmd,
            burst: 32,
            round,
            samples: vec![s, s],
            window: s,
            tsc_mhz: Some(2600),
            inflight: 512,
            loadavg: (1.0, 1.0),
            c2c_ns: 100.0,
            c2c_after_ns: 100.0,
            busy_before_pct: 1.0,
            cmdline: String::new(),
        }
    }

    #[test]
    fn summaries_ratios_and_table() {
        let rs = vec![
            run(Pmd::Fbnic, 0, 40.0),
            run(Pmd::Null, 0, 20.0),
            run(Pmd::Fbnic, 1, 44.0),
            run(Pmd::Null, 1, 20.0),
        ];
        let fb = summarize(&rs, Pmd::Fbnic, 32, 0, 5.0);
        let nu = summarize(&rs, Pmd::Null, 32, 1, 5.0);
        assert_eq!(fb.runs, 2);
        assert_eq!(fb.cpp_median(), 42.0);
        assert_eq!(ratio(&fb, &nu), 2.1);
        assert_eq!(round_ratios(&fb, &nu), vec![2.0, 2.2]);
        let ((near, n), (far, m)) = c2c_split(&rs, Pmd::Fbnic, 32, 5.0);
        assert_eq!((near, n, m), (42.0, 4, 0));
        assert!(far.is_nan());
        let t = table(&[fb.clone(), nu.clone()]);
        assert!(t.contains("fbnic"));
        assert!(t.contains("2.10"));
        assert!(t.contains("(1 runs failed)"));
        // A disturbed sample is left out of the medians.
        let mut noisy = run(Pmd::Fbnic, 2, 1000.0);
        noisy.samples[0].fwd_wait_pct = 40.0;
        noisy.samples[1].engine_wait_pct = 40.0;
        let rs2 = [rs.clone(), vec![noisy.clone()]].concat();
        let fb2 = summarize(&rs2, Pmd::Fbnic, 32, 0, 5.0);
        assert_eq!(
            (fb2.cpp_median(), fb2.excluded, fb2.all_noisy),
            (42.0, 2, false)
        );
        let only = summarize(&[noisy], Pmd::Fbnic, 32, 0, 5.0);
        assert_eq!((only.cpp_median(), only.all_noisy), (1000.0, true));
        let csv = summary_csv(&[fb.clone(), nu], &[fb]);
        assert_eq!(csv.lines().count(), 4);
        assert!(csv
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("fwd,fbnic,32,2,0,4,42.000"));
        assert!(csv.contains("burst_sweep,fbnic"));
        let sc = samples_csv(&rs);
        assert_eq!(sc.lines().count(), 9);
        assert!(sc.lines().next().unwrap().ends_with(",c2c_during_ns"));
    }

    #[test]
    fn samples_are_near_or_far_by_the_round_trip_measured_during_them() {
        // Before and after the run: near. During: one near second, one far.
        let mut r = run(Pmd::Fbnic, 0, 30.0);
        r.samples[1].cycles_per_pkt = 55.0;
        r.samples[0].c2c_ns = 60.0;
        r.samples[1].c2c_ns = 400.0;
        assert_eq!(sample_near(&r, &r.samples[0]), Some(true));
        assert_eq!(sample_near(&r, &r.samples[1]), Some(false));
        let ((near, n), (far, m)) = c2c_split(std::slice::from_ref(&r), Pmd::Fbnic, 32, 5.0);
        assert_eq!((near, n, far, m), (30.0, 1, 55.0, 1));
        // Without a figure during the sample: the run's before and after decide, and a run
        // whose placement moved (near before, far after) is neither.
        let mut moved = run(Pmd::Fbnic, 1, 30.0);
        assert_eq!(sample_near(&moved, &moved.samples[0]), Some(true));
        moved.c2c_after_ns = 400.0;
        assert_eq!(sample_near(&moved, &moved.samples[0]), None);
        moved.c2c_ns = 420.0;
        assert_eq!(sample_near(&moved, &moved.samples[0]), Some(false));
    }

    #[test]
    fn charts_render() {
        let rs = vec![run(Pmd::Fbnic, 0, 40.0), run(Pmd::Null, 0, 20.0)];
        let rows = vec![
            summarize(&rs, Pmd::Fbnic, 32, 0, 5.0),
            summarize(&rs, Pmd::Null, 32, 0, 5.0),
        ];
        let c = pmd_chart(&rows, "note");
        assert!(c.contains(">fbnic<"));
        assert_eq!(c.matches("<rect x=").count(), 4);
        let b = burst_chart(&rows, &[], "");
        assert_eq!(b.matches("<polyline").count(), 2);
    }

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(0), "19700101-000000");
        assert_eq!(timestamp(951_782_400), "20000229-000000");
        assert_eq!(timestamp(1_767_225_599), "20251231-235959");
    }

    #[test]
    fn extras() {
        let e = extras_csv(&[Extra::new(
            "autotest",
            "fbnic",
            1642.0,
            "cycles/packet",
            "a, b",
        )]);
        assert_eq!(
            e.lines().nth(1).unwrap(),
            "autotest,fbnic,1642.000,cycles/packet,a; b"
        );
    }
}
