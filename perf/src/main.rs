//! `fbnic-perf`: the net_fbnic performance harness. See perf/README.md, or `fbnic-perf help`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use fbnic_perf::cli::{Args, CliError};
use fbnic_perf::harness;
use fbnic_perf::pipeline::{self, Pipeline};
use fbnic_perf::stats::median;
use fbnic_perf::testpmd::{self, Pmd};
use fbnic_perf::{autotest, report};

const HELP: &str = "\
fbnic-perf: net_fbnic measured next to DPDK's own PMDs, in one run on one machine.

USAGE
  fbnic-perf [run] [OPTIONS]     the harness (what `bash perf/run.sh` runs)
  fbnic-perf model-mpps [OPTIONS]
                                 the device model's own throughput, native (no DPDK)
  fbnic-perf c2c [--cpus A,B]    cache-line round trip between two CPUs now (default 0,1)
  fbnic-perf help

run OPTIONS (defaults in brackets)
  --rounds N            interleaved rounds over the PMDs [5]
  --secs N              one-second samples per run [10]
  --warmup S            seconds of forwarding before the first sample [2]
  --pmds LIST           PMDs in each round [fbnic,null,memif,ring]
  --burst N             burst size of the comparison [32]
  --inflight N          packets each port puts in flight at start [512]
  --ring N              Rx/Tx descriptors per queue [1024]
  --sweep-bursts LIST   burst sizes of the fbnic sweep, empty to skip [1,2,4,8,16,32,64]
  --sweep-pmds LIST     PMDs in the sweep [fbnic]
  --sweep-rounds N      [2]
  --sweep-secs N        [5]
  --autotest-pmds LIST  pmd_perf_autotest on these, empty to skip [fbnic,null]
  --autotest-link MODE  link= devarg of the autotest's net_fbnic port [25G-CR]
  --autotest-model-nice N|none
                        model_nice= devarg of the autotest's net_fbnic port: the test's
                        main lcore spins on the model's CPU while it waits [-20]
  --model-secs S        seconds per model-throughput round, 0 to skip [5]
  --model-rounds N      [3]
  --latency-bin PATH    run this fbnic-latency binary too [skip]
  --latency-secs S      seconds per latency rate [5]
  --pmd-lib PATH        librte_net_fbnic.so [$NET_FBNIC_PMD or /opt/net_fbnic/lib/librte_net_fbnic.so]
  --build TEXT          how that library was built, printed in the report
                        (perf/run.sh: profile-guided or plain) [build not stated]
  --testpmd PATH        [/usr/bin/dpdk-testpmd]
  --dpdk-test PATH      [/usr/bin/dpdk-test]
  --lcores LIST         EAL -l: main lcore, then the forwarding lcore [0-1]
  --model-cpu N         CPU of net_fbnic's model engine (not the forwarding lcore) [0]
  --fwd-cpu N           CPU of the forwarding lcore (for the core-to-core probe) [1]
  --fbnic-devargs S     extra devargs for both net_fbnic ports in testpmd []
  --memif-dir DIR       root-only directory for the memif socket [/run/fbnic-perf]
  --quiet-wait S        before each run wait up to S seconds for the CPUs to be < 25% busy [10]
  --no-c2c-probe        do not measure the core-to-core round trip in the middle of each
                        second of a run (two real-time threads take both CPUs ~0.1-0.5 ms)
  --max-wait-pct P      leave out samples in which the forwarding lcore or the model's
                        engine waited for its CPU more than P% of the second [5]
  --out DIR             output directory [perf/out of the source tree]
  --quick               a short smoke run (1 round, 3 s samples, short sweep and model run)

model-mpps OPTIONS
  --secs S [5]  --rounds N [3]  --queues N [4]  --inflight N [4096]
  --engine-cpu N [1]  --driver-cpu N [0]
";

fn main() -> ExitCode {
    let mut argv: Vec<String> = std::env::args().skip(1).collect();
    let sub = match argv.first().map(String::as_str) {
        Some("run") | Some("model-mpps") | Some("c2c") | Some("help") | Some("--help")
        | Some("-h") => argv.remove(0),
        _ => "run".to_string(),
    };
    let res = match sub.as_str() {
        "run" => cmd_run(argv),
        "model-mpps" => cmd_model(argv),
        "c2c" => cmd_c2c(argv),
        _ => {
            print!("{HELP}");
            Ok(())
        }
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fbnic-perf: {e}");
            ExitCode::FAILURE
        }
    }
}

fn secs(v: f64) -> Duration {
    Duration::from_secs_f64(v.max(0.0))
}

fn cmd_run(argv: Vec<String>) -> Result<(), Box<dyn std::error::Error>> {
    let mut a = Args::parse(argv, &["quick", "no-c2c-probe"])?;
    let quick = a.flag("quick");
    let q = |full: u32, short: u32| if quick { short } else { full };
    let qf = |full: f64, short: f64| if quick { short } else { full };
    let lib_default = std::env::var("NET_FBNIC_PMD")
        .unwrap_or_else(|_| "/opt/net_fbnic/lib/librte_net_fbnic.so".into());
    let fbnic_lib = PathBuf::from(a.get("pmd-lib", lib_default)?);
    let lcores: String = a.get("lcores", "0-1".to_string())?;
    let model_cpu: usize = a.get("model-cpu", 0)?;
    let tp = testpmd::Config {
        testpmd: PathBuf::from(a.get("testpmd", "/usr/bin/dpdk-testpmd".to_string())?),
        fbnic_lib: fbnic_lib.clone(),
        lcores: lcores.clone(),
        model_cpu,
        fwd_cpu: a.get("fwd-cpu", 1)?,
        inflight: a.get("inflight", 512)?,
        ring_size: a.get("ring", 1024)?,
        warmup: secs(a.get("warmup", qf(2.0, 1.0))?),
        secs: a.get("secs", q(10, 3))?,
        settle: Duration::from_millis(1500),
        memif_dir: PathBuf::from(a.get("memif-dir", "/run/fbnic-perf".to_string())?),
        stdbuf: std::path::Path::new("/usr/bin/stdbuf").exists(),
        fbnic_devargs: a.get("fbnic-devargs", String::new())?,
        quiet_wait: secs(a.get("quiet-wait", qf(10.0, 2.0))?),
        c2c_probe: !a.flag("no-c2c-probe"),
    };
    if tp.secs == 0 {
        return Err(CliError("--secs must be at least 1".into()).into());
    }
    let at = autotest::Config {
        dpdk_test: PathBuf::from(a.get("dpdk-test", "/usr/bin/dpdk-test".to_string())?),
        fbnic_lib,
        lcores,
        model_cpu,
        fbnic_link: a.get("autotest-link", "25G-CR".to_string())?,
        model_nice: match a.opt_str("autotest-model-nice")?.as_deref() {
            None => Some(-20),
            Some("none") => None,
            Some(n) => Some(n.parse().map_err(|_| {
                CliError(format!(
                    "--autotest-model-nice: {n:?} is not a number or none"
                ))
            })?),
        },
        timeout: Duration::from_secs(600),
    };
    let cfg = harness::Config {
        testpmd: tp,
        autotest: at,
        rounds: a.get("rounds", q(5, 1))?,
        pmds: a.list("pmds", Pmd::ALL.to_vec())?,
        burst: a.get("burst", 32)?,
        sweep_bursts: a.list(
            "sweep-bursts",
            if quick {
                vec![1, 32]
            } else {
                vec![1, 2, 4, 8, 16, 32, 64]
            },
        )?,
        sweep_pmds: a.list("sweep-pmds", vec![Pmd::Fbnic])?,
        sweep_rounds: a.get("sweep-rounds", q(2, 1))?,
        sweep_secs: a.get("sweep-secs", q(5, 2))?,
        autotest_pmds: a.list("autotest-pmds", vec![Pmd::Fbnic, Pmd::Null])?,
        model_secs: a.get("model-secs", qf(5.0, 2.0))?,
        model_rounds: a.get("model-rounds", q(3, 1))?,
        latency_bin: a.opt_str("latency-bin")?.map(PathBuf::from),
        latency_secs: a.get("latency-secs", qf(5.0, 2.0))?,
        max_wait_pct: a.get("max-wait-pct", 5.0)?,
        out_dir: PathBuf::from(a.get(
            "out",
            concat!(env!("CARGO_MANIFEST_DIR"), "/out").to_string(),
        )?),
        self_exe: std::env::current_exe()?,
        build: a.get("build", "build not stated (--build)".to_string())?,
    };
    a.finish()?;
    harness::run(&cfg)?;
    Ok(())
}

fn cmd_model(argv: Vec<String>) -> Result<(), Box<dyn std::error::Error>> {
    let mut a = Args::parse(argv, &[])?;
    let secs_each: f64 = a.get("secs", 5.0)?;
    let rounds: u32 = a.get("rounds", 3)?;
    let d = pipeline::Config::default();
    let cfg = pipeline::Config {
        queues: a.get("queues", d.queues)?,
        inflight: a.get("inflight", d.inflight)?,
        engine_cpu: Some(a.get("engine-cpu", 1)?),
        driver_cpu: Some(a.get("driver-cpu", 0)?),
        ..d
    };
    a.finish()?;
    println!(
        "model-mpps: cabled pair, 64-byte UDP frames over {} flows, RSS over {} Rx queues, {} frames circulating; engine on CPU {:?}, driver loop on CPU {:?}",
        cfg.flows, cfg.queues, cfg.inflight, cfg.engine_cpu, cfg.driver_cpu
    );
    let c2c = match (cfg.engine_cpu, cfg.driver_cpu) {
        (Some(e), Some(d)) => fbnic_perf::sched::pingpong_ns(e, d, 50).unwrap_or(f64::NAN),
        _ => f64::NAN,
    };
    println!("  core-to-core cache-line round trip: {c2c:.0} ns");
    let mut p = Pipeline::new(cfg.clone())?;
    // Warm up (caches, the engine's spin state).
    p.run_for(Duration::from_millis(500));
    let mut wall = Vec::new();
    let mut eng = Vec::new();
    let mut ns = Vec::new();
    for r in 0..rounds.max(1) {
        let m = p.run_for(secs(secs_each));
        println!(
            "  round {}: {} frames in {:.2}s: {:.2} Mpps wall, {:.2} Mpps of engine busy time ({:.1} ns/frame), {:.1} frames per engine pass; per queue {:?}",
            r + 1,
            m.packets,
            m.secs,
            m.wall_mpps(),
            m.engine_mpps(),
            m.engine_ns_per_pkt(),
            m.packets as f64 / m.passes.max(1) as f64,
            m.per_queue
        );
        wall.push(m.wall_mpps());
        eng.push(m.engine_mpps());
        ns.push(m.engine_ns_per_pkt());
    }
    let drops = p.rx_drops();
    drop(p);
    let med = |v: &[f64]| median(v).unwrap_or(f64::NAN);
    println!(
        "RESULT kind=model queues={} inflight={} wall_mpps={:.3} engine_mpps={:.3} engine_ns_per_pkt={:.2} rx_drops={drops} rounds={} c2c_ns={c2c:.1} time={}",
        cfg.queues,
        cfg.inflight,
        med(&wall),
        med(&eng),
        med(&ns),
        rounds.max(1),
        report::timestamp(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        )
    );
    Ok(())
}

fn cmd_c2c(argv: Vec<String>) -> Result<(), Box<dyn std::error::Error>> {
    let mut a = Args::parse(argv, &[])?;
    let cpus: Vec<usize> = a.list("cpus", vec![0, 1])?;
    a.finish()?;
    let [x, y] = cpus[..] else {
        return Err(CliError("--cpus takes two CPUs".into()).into());
    };
    match fbnic_perf::sched::pingpong_ns(x, y, 200) {
        Some(ns) => {
            println!(
                "cache-line round trip CPU {x} <-> CPU {y}: {ns:.0} ns ({})",
                if ns < fbnic_perf::report::NEAR_C2C_NS {
                    "near"
                } else {
                    "far"
                }
            );
            Ok(())
        }
        None => Err("could not pin threads to those CPUs".into()),
    }
}
