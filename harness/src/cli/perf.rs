//! `bench` and `load`: speed and memory figures, and many stations against one CSMS; `bench
//! check`: whether every driver of a bench description answers.
use std::{path::PathBuf, process::ExitCode, time::Instant};

use anyhow::Context as _;
use ocpp_core::{case::Role, version::OcppVersion};
use ocpp_harness::{host::Host, runner::{Dut, RunOptions, Runner}};
use ocpp_report::Counts;
use super::{args::*, catalogue::cache_dir};

/// Print the figures the targets are stated in.
pub(crate) async fn bench(stations: usize, extra: &[PathBuf]) -> anyhow::Result<ExitCode> {
    use ocpp_harness::perf;
    let cache = std::env::temp_dir().join(format!("ocpp-harness-bench-{}", std::process::id()));
    say!("suite compile and instantiate (wasmtime, cached on disk):");
    let mut suites: Vec<(String, std::borrow::Cow<'static, [u8]>)> = vec![
        (ocpp_harness::builtin::OCPP_SUITE_CORE_NAME.into(), ocpp_harness::builtin::OCPP_SUITE_CORE.into()),
        (ocpp_harness::builtin::OCPP_SUITE_HOSTILE_NAME.into(), ocpp_harness::builtin::OCPP_SUITE_HOSTILE.into()),
    ];
    for path in extra {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        suites.push((path.file_stem().and_then(|s| s.to_str()).unwrap_or("suite").to_string(), bytes.into()));
    }
    for (name, bytes) in &suites {
        let (name, bytes) = (name.as_str(), &bytes[..]);
        let (cold, warm) = perf::compile_times(name, bytes, &cache).await?;
        // Instantiating the component and calling into it, with an id it does not know.
        let host = Host::new(Some(cache.clone()))?;
        let suite = host.load_suite(name, bytes).await?;
        let inst = perf::case_overhead(&host, &suite, "OH_NO_SUCH_CASE", 100).await?;
        say!(
            "  {name:<12} ({:>6} KiB): compile {:>8.1} ms, load from cache {:>6.1} ms, instantiate + call p50 {:.0} µs p99 {:.0} µs",
            bytes.len() / 1024,
            cold.as_secs_f64() * 1e3,
            warm.as_secs_f64() * 1e3,
            inst.p50.as_secs_f64() * 1e6,
            inst.p99.as_secs_f64() * 1e6
        );
    }
    let host = Host::new(Some(cache.clone()))?;
    let hostile = host.load_suite("hostile", ocpp_harness::builtin::OCPP_SUITE_HOSTILE).await?;
    let overhead = perf::case_overhead(&host, &hostile, "OH_HOSTILE_OK_CS", 300).await?;
    say!("harness overhead per case (instantiate + run an empty case, cached component): {overhead}   target: p99 < 5000 µs");
    let (through, raw) = perf::message_latency(2000).await?;
    say!("OCPP message round trip on loopback through the harness: {through}");
    say!("                              with a bare WebSocket client: {raw}");
    let added = through.p99.saturating_sub(raw.p99);
    say!("added latency per message: p99 {:.0} µs   target: < 200 µs", added.as_secs_f64() * 1e6);
    if let Some(limit) = perf::open_files_limit().filter(|l| *l < 2 * stations as u64 + 200) {
        say!("note: {stations} in-process stations need about {} open files; the limit is {limit} (ulimit -n)", 2 * stations + 200);
    }
    let r = perf::load(None, stations, OcppVersion::V201, std::time::Duration::from_secs(120), |_| {}).await?;
    say!(
        "load: {}/{} stations registered in {:.2} s ({:.0}/s; target > 5000/s), {:.1} MiB resident added, {:.0} stations per GiB (stations and CSMS in one process; target 10k in < 1 GiB)",
        r.booted, r.stations, r.ramp.as_secs_f64(), r.per_second(), r.rss_added as f64 / (1 << 20) as f64, r.stations_per_gib()
    );
    let _ = std::fs::remove_dir_all(&cache);
    Ok(ExitCode::SUCCESS)
}

/// Load where each station is a run of a station-role case, with its own station id.
pub(crate) async fn load_scripted(stations: usize, csms_url: Option<String>, version: OcppVersion, case: &str) -> anyhow::Result<ExitCode> {
    let host = std::sync::Arc::new(Host::new(cache_dir(&SelectArgs::default()))?);
    let mut suite = None;
    for (name, bytes) in ocpp_harness::builtin::suites() {
        let s = host.load_suite(name, bytes).await?;
        if s.cases.iter().any(|c| c.id == case) {
            suite = Some(s);
        }
    }
    let suite = suite.ok_or_else(|| anyhow::anyhow!("no case {case} in the built-in suites"))?;
    let meta = suite.cases.iter().find(|c| c.id == case).expect("found above").clone();
    anyhow::ensure!(meta.role == Role::ChargingStation, "{case} is not a case in which the harness plays the charging station");
    anyhow::ensure!(meta.versions.contains(&version), "{case} does not run at OCPP {version}");
    let mut csms_task = None;
    let url = match csms_url {
        Some(u) => u,
        None => {
            let (addr, _h, task) = ocpp_sim::csms::start("127.0.0.1:0".parse()?, ocpp_sim::csms::CsmsConfig::default()).await?;
            csms_task = Some(task);
            format!("ws://{addr}/ocpp")
        }
    };
    let bar = indicatif::ProgressBar::new(stations as u64);
    let t0 = Instant::now();
    let runs = (0..stations).map(|i| {
        let (host, suite, meta, url, bar) = (host.clone(), &suite, &meta, url.clone(), bar.clone());
        async move {
            let mut opts = RunOptions { dut: Dut::External { csms_url: Some(url), listen: None }, version: Some(version), ..Default::default() };
            opts.config.station_id = format!("LOAD-{i:06}");
            let runner = Runner::new(host, opts).await?;
            let r = runner.run_case(suite, meta).await;
            bar.inc(1);
            anyhow::Ok(r)
        }
    });
    let results = futures_util::future::join_all(runs).await.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    bar.finish();
    if let Some(t) = csms_task {
        t.abort();
    }
    let c = Counts::of(&results);
    let times = ocpp_harness::perf::Stats::of(results.iter().map(|r| std::time::Duration::from_secs_f64(r.duration_ms / 1000.0)).collect());
    say!("{stations} stations ran {case} in {:.2} s: {} passed, {} failed, {} errors\ncase time per station: {times}", t0.elapsed().as_secs_f64(), c.passed, c.failed, c.errors);
    if let Some(bad) = results.iter().find(|r| r.verdict.is_failure()) {
        say!("first failure ({}): {}", bad.meta.id, bad.reason);
    }
    Ok(if c.failed + c.errors == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

pub(crate) async fn load_cmd(stations: usize, csms_url: Option<String>, version: OcppVersion, seconds: u64) -> anyhow::Result<ExitCode> {
    let bar = indicatif::ProgressBar::new(stations as u64);
    bar.set_style(indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} stations registered ({elapsed})").unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()));
    let r = ocpp_harness::perf::load(csms_url, stations, version, std::time::Duration::from_secs(seconds), |n| bar.set_position(n as u64)).await?;
    bar.finish();
    say!(
        "{}/{} stations registered in {:.2} s ({:.0}/s); {:.1} MiB resident added ({:.0} stations per GiB)\nregistration time per station (connect, upgrade, BootNotification accepted): {}",
        r.booted, r.stations, r.ramp.as_secs_f64(), r.per_second(), r.rss_added as f64 / (1 << 20) as f64, r.stations_per_gib(), r.registration
    );
    Ok(if r.booted == r.stations { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// `bench check --bench FILE`: one line per capability; exit status 1 if any fails.
pub(crate) async fn bench_check(path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let bench = ocpp_bench::config::BenchConfig::load(path)?;
    let dead = report_bench_check(path, &bench).await;
    Ok(if dead == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Check every driver of `bench`, print one line each to stderr: how many do not answer.
pub(crate) async fn report_bench_check(path: &std::path::Path, bench: &ocpp_bench::config::BenchConfig) -> usize {
    let report = ocpp_bench::check::check(bench).await;
    eprintln!("bench check of {}: {} capabilities", path.display(), report.len());
    for c in &report {
        eprintln!("  {}", c.line());
    }
    report.iter().filter(|c| !c.ok()).count()
}
