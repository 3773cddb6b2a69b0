//! fbnic-latency: round-trip latency through net_fbnic ports under DPDK.
//!
//! Sends timestamped 64-byte UDP frames at a fixed rate through two net_fbnic ports cabled to
//! each other (the far port reflects them back) or through one port with a loopback plug,
//! and reports round-trip p50/p90/p99/p99.9/max in microseconds from an HdrHistogram,
//! corrected for coordinated omission (latency counted from each frame's *scheduled* send
//! time). By default it measures at 1 kpps (an idle port) and at 1 Mpps.
//!
//! ```text
//! fbnic-latency [--pmd PATH] [--mode pair|loop] [--rates 1000,1000000] [--secs 5]
//!               [--warmup 0.5] [--burst 32] [--lcores 0-1] [--model-cpu 0] [--desc 1024]
//!               [--model-poll-us US]
//! ```
//!
//! The measuring loop runs on the first worker lcore (CPU 1 with `--lcores 0-1`); the main
//! lcore waits without spinning, and the device model's engine thread is pinned to
//! `--model-cpu` (CPU 0), so the two never share a core.

mod dpdk;
mod measure;
mod waits;

use std::process::ExitCode;

use dpdk::{Eal, EthPort, Pool};
use measure::{Outcome, Params, Path};

const HELP: &str = "\
fbnic-latency: round-trip latency of net_fbnic ports at a fixed rate (DPDK application).

OPTIONS (defaults in brackets)
  --pmd PATH       librte_net_fbnic.so [$NET_FBNIC_PMD or /opt/net_fbnic/lib/librte_net_fbnic.so]
  --mode MODE      pair: net_fbnic0 -> cable -> net_fbnic1 -> reflected -> net_fbnic0
                   loop: net_fbnic0 with wire=loop (its Tx comes back to its Rx)  [pair]
  --rates LIST     frames per second to measure at, comma-separated [1000,1000000]
  --secs S         measured seconds per rate [5]
  --warmup S       seconds sent first and not recorded [0.5]
  --burst N        most frames per Tx burst when the sender catches up [32]
  --lcores LIST    EAL -l: the main lcore, then the measuring lcore [0-1]
  --model-cpu N    CPU of the model's engine thread (not the measuring lcore's) [0]
  --desc N         Rx/Tx descriptors per queue [1024]
  --model-poll-us US  net_fbnic's model_poll_us devarg: how long the model's engine keeps
                   polling after its last frame before it sleeps between passes [driver default]
  --model-nice N   net_fbnic's model_nice devarg: the engine thread's nice value, -20..19;
                   -20 gives it priority over other threads on its CPU [inherited]
  --eal ARGS       extra EAL arguments, space-separated []
";

#[derive(Debug)]
struct Opts {
    pmd: String,
    loop_mode: bool,
    rates: Vec<f64>,
    secs: f64,
    warmup: f64,
    burst: usize,
    lcores: String,
    model_cpu: usize,
    desc: u16,
    model_poll_us: Option<u64>,
    model_nice: Option<i32>,
    eal: Vec<String>,
}

fn parse_opts(args: &[String]) -> Result<Option<Opts>, String> {
    let mut o = Opts {
        pmd: std::env::var("NET_FBNIC_PMD")
            .unwrap_or_else(|_| "/opt/net_fbnic/lib/librte_net_fbnic.so".into()),
        loop_mode: false,
        rates: vec![1_000.0, 1_000_000.0],
        secs: 5.0,
        warmup: 0.5,
        burst: 32,
        lcores: "0-1".into(),
        model_cpu: 0,
        desc: 1024,
        model_poll_us: None,
        model_nice: None,
        eal: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--help" || a == "-h" {
            return Ok(None);
        }
        let (key, inline) = match a.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (a.as_str(), None),
        };
        let mut val = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{key} needs a value"))
        };
        let num = |v: String| v.parse::<f64>().map_err(|e| format!("{key} {v}: {e}"));
        match key {
            "--pmd" => o.pmd = val()?,
            "--mode" => {
                o.loop_mode = match val()?.as_str() {
                    "pair" => false,
                    "loop" => true,
                    m => return Err(format!("--mode {m}: pair or loop")),
                }
            }
            "--rates" => {
                o.rates = val()?
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| num(s.to_string()))
                    .collect::<Result<_, _>>()?;
            }
            "--secs" => o.secs = num(val()?)?,
            "--warmup" => o.warmup = num(val()?)?,
            "--burst" => o.burst = num(val()?)? as usize,
            "--lcores" => o.lcores = val()?,
            "--model-cpu" => o.model_cpu = num(val()?)? as usize,
            "--desc" => o.desc = num(val()?)? as u16,
            "--model-poll-us" => {
                let v = val()?;
                let us = v.parse::<u64>().map_err(|e| format!("{key} {v}: {e}"))?;
                o.model_poll_us = Some(us);
            }
            "--model-nice" => {
                let v = val()?;
                match v.parse::<i32>() {
                    Ok(n) if (-20..=19).contains(&n) => o.model_nice = Some(n),
                    _ => return Err(format!("{key} {v}: a nice value, -20..19")),
                }
            }
            "--eal" => o.eal = val()?.split_whitespace().map(String::from).collect(),
            _ => return Err(format!("unknown option {a} (see --help)")),
        }
    }
    if o.rates.is_empty() || o.rates.iter().any(|r| r.is_nan() || *r <= 0.0) {
        return Err("--rates: positive frame rates".into());
    }
    if o.secs.is_nan() || o.secs <= 0.0 || o.warmup.is_nan() || o.warmup < 0.0 {
        return Err("--secs must be > 0 and --warmup >= 0".into());
    }
    Ok(Some(o))
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

fn print_outcome(mode: &str, rate: f64, p: &Params, o: &Outcome, w: &waits::Waits) {
    let lost = o.sent.saturating_sub(o.received);
    println!(
        "\n{rate:.0} pps ({mode}), {:.1} s measured after {:.1} s warm-up: sent {}, received {}, lost {lost}, unexpected {}, achieved {:.0} pps, sender at most {} frames behind",
        p.secs, p.warmup, o.sent, o.received, o.unexpected, o.achieved_pps, o.max_backlog
    );
    println!(
        "  {:<34} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "round trip (us)", "p50", "p90", "p99", "p99.9", "max"
    );
    for (name, h) in [
        ("corrected (from scheduled send)", &o.corrected),
        ("uncorrected (from actual send)", &o.raw),
        ("uncorrected, hdr clone_correct", &o.raw_hdr_corrected),
    ] {
        if h.is_empty() {
            println!("  {name:<34} (no samples)");
            continue;
        }
        println!(
            "  {name:<34} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            us(h.value_at_quantile(0.5)),
            us(h.value_at_quantile(0.9)),
            us(h.value_at_quantile(0.99)),
            us(h.value_at_quantile(0.999)),
            us(h.max())
        );
    }
    let q = |h: &hdrhistogram::Histogram<u64>, x: f64| {
        if h.is_empty() {
            f64::NAN
        } else {
            us(h.value_at_quantile(x))
        }
    };
    let mx = |h: &hdrhistogram::Histogram<u64>| if h.is_empty() { f64::NAN } else { us(h.max()) };
    let top: Vec<String> = w
        .top_others
        .iter()
        .map(|(n, ms)| format!("{n} {ms:.1} ms"))
        .collect();
    println!(
        "  waits for a CPU during the run: model engine {:.2} ms, measuring lcore {:.2} ms; other processes' CPU time {:.1} ms (most: {})",
        w.engine_ms,
        w.lcore_ms,
        w.others_ms,
        if top.is_empty() { "none".to_string() } else { top.join(", ") }
    );
    let top_other = w.top_others.first().map_or("none".to_string(), |(n, ms)| {
        format!("{}:{ms:.2}", n.replace(char::is_whitespace, "_"))
    });
    println!(
        "RESULT mode={mode} rate_pps={rate:.0} achieved_pps={:.0} sent={} received={} lost={lost} max_backlog={} co_p50_us={:.3} co_p90_us={:.3} co_p99_us={:.3} co_p999_us={:.3} co_max_us={:.3} raw_p50_us={:.3} raw_p99_us={:.3} raw_p999_us={:.3} raw_max_us={:.3} hdrc_p99_us={:.3} engine_wait_ms={:.3} lcore_wait_ms={:.3} others_cpu_ms={:.3} top_other={top_other} wait_threads={}",
        o.achieved_pps,
        o.sent,
        o.received,
        o.max_backlog,
        q(&o.corrected, 0.5),
        q(&o.corrected, 0.9),
        q(&o.corrected, 0.99),
        q(&o.corrected, 0.999),
        mx(&o.corrected),
        q(&o.raw, 0.5),
        q(&o.raw, 0.99),
        q(&o.raw, 0.999),
        mx(&o.raw),
        q(&o.raw_hdr_corrected, 0.99),
        w.engine_ms,
        w.lcore_ms,
        w.others_ms,
        w.found,
    );
}

fn run(o: &Opts) -> Result<bool, Box<dyn std::error::Error>> {
    let mut args = vec![
        "fbnic-latency".to_string(),
        "-l".into(),
        o.lcores.clone(),
        "--in-memory".into(),
        "--no-pci".into(),
        "-d".into(),
        o.pmd.clone(),
    ];
    // The first port creates the model, so it carries the model's settings.
    let mut model = format!("model_cpu={}", o.model_cpu);
    if let Some(us) = o.model_poll_us {
        model += &format!(",model_poll_us={us}");
    }
    if let Some(n) = o.model_nice {
        model += &format!(",model_nice={n}");
    }
    if o.loop_mode {
        args.push("--vdev".into());
        args.push(format!("net_fbnic0,wire=loop,{model}"));
    } else {
        args.push("--vdev".into());
        args.push(format!("net_fbnic0,{model}"));
        args.push("--vdev".into());
        args.push("net_fbnic1".into());
    }
    args.extend(o.eal.iter().cloned());
    let eal = Eal::init(&args)?;
    let worker = eal
        .first_worker()
        .ok_or("no worker lcore: give --lcores two CPUs (main, then measuring)")?;
    let pool = Pool::new("fbnic_latency", 16383)?;
    let a = EthPort::start(eal.port_by_name("net_fbnic0")?, &pool, o.desc)?;
    let b = if o.loop_mode {
        None
    } else {
        Some(EthPort::start(
            eal.port_by_name("net_fbnic1")?,
            &pool,
            o.desc,
        )?)
    };
    a.wait_link()?;
    if let Some(b) = &b {
        b.wait_link()?;
    }
    let dst = [0x02, 0x1d, 0x9b, 0xff, 0xff, 0x01];
    let src = [0x02, 0x1d, 0x9b, 0xff, 0xff, 0x02];
    let path = Path {
        tx: &a,
        rx: &a,
        reflector: b.as_ref(),
        pool: &pool,
        template: measure::template(dst, src),
    };
    let mode = if o.loop_mode { "loop" } else { "pair" };
    println!(
        "fbnic-latency: {mode} ({}), 64-byte frames, measuring lcore {worker}, model engine on CPU {}, TSC {} MHz",
        if o.loop_mode {
            "net_fbnic0 -> loopback plug -> net_fbnic0"
        } else {
            "net_fbnic0 -> cable -> net_fbnic1 -> reflected -> net_fbnic0"
        },
        o.model_cpu,
        eal.tsc_hz() / 1_000_000
    );
    let mut ok = true;
    for &rate in &o.rates {
        let p = Params {
            rate_pps: rate,
            secs: o.secs,
            warmup: o.warmup,
            burst: o.burst,
            hz: eal.tsc_hz(),
        };
        let mut outcome = None;
        let mut job = || {
            outcome = Some(measure::run(&path, &p));
            true
        };
        let before = waits::snapshot();
        eal.run_on(worker, &mut job)?;
        let waits = waits::between(&before, &waits::snapshot(), worker);
        match outcome {
            Some(out) => {
                ok &= out.received > 0;
                print_outcome(mode, rate, &p, &out, &waits);
            }
            None => ok = false,
        }
    }
    drop(b);
    drop(a);
    drop(pool);
    drop(eal);
    Ok(ok)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match parse_opts(&args) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("fbnic-latency: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("fbnic-latency: no frame came back");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("fbnic-latency: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn options() {
        let o = parse_opts(&s(&["--mode", "loop", "--rates=1000,2e6", "--secs", "2"]))
            .unwrap()
            .unwrap();
        assert!(o.loop_mode);
        assert_eq!(o.rates, vec![1000.0, 2e6]);
        assert_eq!(o.secs, 2.0);
        assert!(parse_opts(&s(&["--help"])).unwrap().is_none());
        assert!(parse_opts(&s(&["--mode", "ring"])).is_err());
        assert!(parse_opts(&s(&["--rates", "0"])).is_err());
        assert!(parse_opts(&s(&["--bogus"])).is_err());
        assert!(parse_opts(&s(&["--secs"])).is_err());
    }

    #[test]
    fn model_nice_option() {
        let o = parse_opts(&s(&["--model-nice", "-20"])).unwrap().unwrap();
        assert_eq!(o.model_nice, Some(-20));
        let o = parse_opts(&s(&["--model-nice=19"])).unwrap().unwrap();
        assert_eq!(o.model_nice, Some(19));
        assert_eq!(parse_opts(&s(&[])).unwrap().unwrap().model_nice, None);
        for bad in ["-21", "20", "x"] {
            let e = parse_opts(&s(&["--model-nice", bad])).unwrap_err();
            assert!(e.contains("-20..19"), "{bad}: {e}");
        }
    }
}
