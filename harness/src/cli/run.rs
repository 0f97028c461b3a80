//! `run`: the suites against the DUT, reports after every case, Ctrl-C leaving valid ones.
use std::{process::ExitCode, time::Instant};

use anyhow::Context as _;
use ocpp_core::case::{CaseMeta, Verdict};
use ocpp_sim::Faults;
use ocpp_harness::{host::Host, runner::{Dut, RunOptions, Runner}};
use ocpp_report::{Counts, ReportWriter};
use super::{args::*, catalogue::{cache_dir, load, selection}};

pub(crate) async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    if let Some(n) = args.max_message_bytes {
        ocpp_core::transport::set_max_message(n);
    }
    let host = Host::new(cache_dir(&args.select))?;
    let (suites, failed) = load(&host, &args.select).await;
    let sel = selection(&args.select);
    let dut = if args.csms_url.is_some() || args.listen.is_some() {
        anyhow::ensure!(args.faults.is_empty(), "--fault applies to the built-in DUTs only");
        Dut::External { csms_url: args.csms_url.clone(), listen: args.listen }
    } else {
        Dut::BuiltIn { faults: Faults::new(args.faults.clone()) }
    };
    let mut dut_label = match &dut {
        Dut::BuiltIn { faults } if faults.0.is_empty() => "built-in reference DUTs".to_string(),
        Dut::BuiltIn { faults } => format!("built-in reference DUTs with faults {}", faults.0.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")),
        Dut::External { csms_url, listen } => {
            let mut sides = vec![];
            if let Some(u) = csms_url {
                sides.push(format!("a CSMS at {u}"));
            }
            if let Some(a) = listen {
                sides.push(format!("a charging station connecting to {a}"));
            }
            sides.join(" and ")
        }
    };
    if !args.variants.is_empty() {
        dut_label += &format!(" (variants {})", args.variants.iter().map(ToString::to_string).collect::<Vec<_>>().join(","));
    }
    let description = args.dut.as_ref().map(|p| ocpp_harness::description::DutDescription::load(p).map(|d| (p, d))).transpose()?;
    if let Some(name) = description.as_ref().and_then(|(_, d)| d.name.as_ref()) {
        dut_label = format!("{name}: {dut_label}");
    }
    let mut opts = RunOptions { dut, version: args.select.version, fresh_dut: args.fresh_dut, variants: args.variants.clone(), ..Default::default() };
    opts.config.station_id = args.station_id.clone();
    if args.csms_url.is_some() {
        // A lab's CSMS knows none of the built-in CSMS's blocked, expired or group tokens: a
        // case that needs one skips unless the DUT description names it (never tests "unknown").
        opts.config.parameters.retain(|k, _| !ocpp_core::defaults::TOKEN_PARAMETERS.iter().any(|(t, _)| t == k));
    }
    if let Some((path, d)) = description {
        if let Some(sec) = &d.security {
            let base = path.parent().unwrap_or(std::path::Path::new("."));
            let station_id = d.station_id.clone().unwrap_or_else(|| args.station_id.clone());
            opts.security = ocpp_core::security::Security::load(sec, base, &station_id).with_context(|| format!("in [security] of {}", path.display()))?;
        }
        opts.describe(d);
    } else if matches!(opts.dut, Dut::BuiltIn { .. }) {
        // The built-in station with a variant is described as a lab would describe it.
        for text in args.variants.iter().filter_map(|v| v.lab_description()) {
            opts.take_parameters(&ocpp_harness::description::DutDescription::parse(text)?);
        }
    }
    if let (Some(dir), None) = (&args.pki, &opts.security.pki) {
        let pki = ocpp_core::security::pki::Pki::load(dir).with_context(|| format!("--pki {}", dir.display()))?;
        opts.security.pki = Some(std::sync::Arc::new(pki));
    }
    if let Some(profile) = args.security_profile {
        match &opts.dut {
            Dut::BuiltIn { .. } => opts.security = ocpp_core::security::Security::generated(profile, &opts.config.station_id)?,
            Dut::External { .. } => anyhow::ensure!(
                profile == opts.security.profile,
                "--security-profile {profile}: an external DUT's security comes from the [security] table of its description (--dut), which says {}",
                opts.security.profile
            ),
        }
    }
    if let Some(path) = &args.bench {
        let bench = ocpp_bench::config::BenchConfig::load(path)?;
        let dead = super::perf::report_bench_check(path, &bench).await;
        if dead > 0 && !args.ignore_bench_check {
            eprintln!("error: {dead} bench capability(ies) do not answer; fix the bench or start anyway with --ignore-bench-check");
            return Ok(ExitCode::from(2));
        }
        opts.bench = Some(bench);
    }
    let opts_summary = (opts.security.profile, opts.config.station_id.clone());
    // Workers, each with its own built-in DUTs; a real DUT gets one.
    let jobs = match &opts.dut {
        Dut::External { .. } => 1,
        // One by default: 2 workers gave every verdict of the whole catalogue unchanged (655 s
        // on 2 cores instead of about 15 minutes), 8 lost seven to timing (firmware status
        // notifications, 2.1 RPC cases): the reports are written on the task that runs every
        // worker's case, so one worker's write delays the others' (to move off it).
        Dut::BuiltIn { .. } => args.jobs.unwrap_or(1).max(1),
    };
    let host = std::sync::Arc::new(host);
    let mut workers = Vec::with_capacity(jobs);
    for _ in 0..jobs {
        workers.push(Runner::new(host.clone(), opts.clone()).await?);
    }
    let runner = &workers[0];
    let chosen: Vec<_> = suites.iter().flat_map(|s| s.cases.iter().map(move |c| (s, c))).filter(|(_, c)| sel.selects(c)).collect();
    if args.list {
        for (_, c) in &chosen {
            say!("{}: test", c.id);
        }
        return Ok(ExitCode::SUCCESS);
    }
    // Each case at every version it lists that the DUT declares (or at --ocpp).
    let selected: Vec<_> = chosen.iter().flat_map(|(s, c)| runner.versions_for(c).into_iter().map(move |v| (*s, *c, v))).collect();
    let mut writer = ReportWriter::new(&args.reports, dut_label.clone()).with_context(|| format!("creating {}", args.reports.display()))?;
    if let Some(path) = &args.junit {
        writer = writer.with_junit_path(path.clone()).with_context(|| format!("creating {}", path.display()))?;
    }
    writer.set_run_info(run_info(&args, &suites, &opts_summary));
    let workers_note = if jobs > 1 { format!(", {jobs} at a time, each worker with its own DUTs") } else { String::new() };
    say!("\nrunning {} cases ({} runs, a case once per version{workers_note}) against {dut_label}", chosen.len(), selected.len());
    let t0 = Instant::now();
    // A suite that did not load is an error in the reports, not a silent gap.
    let mut results: Vec<_> = failed.iter().map(|(name, e)| ocpp_report::CaseResult::suite_error(name, e)).collect();
    writer.write(&results)?;
    // Each result's place: the suites that did not load first, then the runs in catalogue order.
    let mut places: Vec<usize> = vec![0; results.len()];
    let signal = interrupt();
    tokio::pin!(signal);
    // The runs in catalogue order; each worker takes the next one free. Results are reported
    // as they end and written in catalogue order.
    let queue = std::sync::Mutex::new(selected.into_iter().enumerate().collect::<std::collections::VecDeque<_>>());
    let in_flight: std::sync::Mutex<Vec<Option<(&CaseMeta, ocpp_core::version::OcppVersion, ocpp_core::trace::Trace)>>> = std::sync::Mutex::new(vec![None; jobs]);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let interrupted = {
        let work = futures_util::future::join_all(workers.iter().enumerate().map(|(w, runner)| {
            let (tx, queue, in_flight) = (tx.clone(), &queue, &in_flight);
            async move {
                loop {
                    let Some((i, (suite, meta, version))) = queue.lock().unwrap().pop_front() else { break };
                    let trace = ocpp_core::trace::Trace::new();
                    in_flight.lock().unwrap()[w] = Some((meta, version, trace.clone()));
                    let r = runner.run_case_at(suite, meta, version, &trace).await;
                    in_flight.lock().unwrap()[w] = None;
                    // The worker's next case starts once this one is on disk: the report is
                    // written on this task, and a case's CALLs must not wait for it (a
                    // password the station took was adopted too late once).
                    let (written, on_disk) = tokio::sync::oneshot::channel();
                    let _ = tx.send((i, r, written));
                    let _ = on_disk.await;
                }
            }
        }));
        drop(tx);
        let report = async {
            while let Some((i, r, written)) = rx.recv().await {
                say!("test {} [{} {}] ... {}", r.meta.id, r.version, r.meta.role, status(&r.verdict));
                place(&mut results, &mut places, i + 1, r);
                let mut stations = vec![];
                for w in &workers {
                    stations.extend(w.stations().await);
                }
                writer.set_stations(stations);
                writer.write(&results)?;
                let _ = written.send(());
            }
            anyhow::Ok(())
        };
        tokio::select! {
            (_, written) = futures_util::future::join(work, report) => {
                written?;
                None
            }
            name = &mut signal => Some(name),
        }
    };
    if let Some(name) = interrupted {
        // What ended is on disk, or still on its way to the report (a worker sent it, the
        // report had not taken it yet): those first, then the cases in flight, and stop.
        while let Ok((i, r, _)) = rx.try_recv() {
            place(&mut results, &mut places, i + 1, r);
        }
        let flying: Vec<_> = in_flight.lock().unwrap().iter().flatten().cloned().collect();
        for (meta, version, trace) in flying {
            place(&mut results, &mut places, usize::MAX, runner.interrupted(meta, version, &trace, name));
        }
        writer.write(&results)?;
        eprintln!("\ninterrupted by {name}: {} cases in {}", results.len(), writer.junit_path().display());
        return Ok(ExitCode::from(130));
    }
    for w in &workers {
        for s in w.stations().await {
            let version = s.version.map(|v| format!(" ({v})")).unwrap_or_default();
            let identity = s.identity.as_deref().map(|i| format!(" — {i}")).unwrap_or_default();
            say!("station {}{version}: {} connection(s), {} boot(s), {} reboot(s) asked for by cases{identity}", s.station_id, s.connections, s.boots, s.reboots_requested);
        }
    }
    let bad: Vec<_> = results.iter().filter(|r| r.verdict.is_failure()).collect();
    if !bad.is_empty() {
        say!("\nfailures:\n");
        for r in &bad {
            say!("---- {} ({}) ----\n{}\n", r.meta.id, r.meta.title, r.reason);
        }
    }
    let c: Counts = Counts::of(&results);
    // Why cases did not run, each reason once with its count (a missing driver, an undeclared
    // feature, an unreachable state...).
    let mut why: std::collections::BTreeMap<String, usize> = Default::default();
    for r in &results {
        if let Verdict::Skip(reason) | Verdict::Inconclusive(reason) = &r.verdict {
            *why.entry(format!("{}: {reason}", r.verdict.name())).or_default() += 1;
        }
    }
    if !why.is_empty() {
        say!("\nnot run to a verdict:");
        for (reason, n) in &why {
            say!("  {n:>3} x {reason}");
        }
    }
    let unrun = c.skipped + c.inconclusive;
    let bad_skip = args.fail_on_skip && unrun > 0;
    // A verdict missing is no "ok": the run did not show the DUT conforms.
    let missing = !args.allow_inconclusive && c.inconclusive > 0;
    let ok = bad.is_empty() && !bad_skip && !missing;
    let outcome = if ok { "ok" } else { "FAILED" };
    say!(
        "\ntest result: {outcome}. {} passed; {} failed; {} errors; {} skipped; {} inconclusive; finished in {:.2}s",
        c.passed, c.failed, c.errors, c.skipped, c.inconclusive, t0.elapsed().as_secs_f64()
    );
    say!("reports: {} and {}", writer.junit_path().display(), args.reports.join("results.json").display());
    if bad_skip {
        say!("--fail-on-skip: {unrun} case(s) did not run to a verdict");
    }
    if missing {
        say!("{} case(s) inconclusive or not run: no verdict for them (--allow-inconclusive to exit 0 anyway)", c.inconclusive);
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// How a verdict shows on the terminal, libtest-style.
fn status(v: &Verdict) -> String {
    match v {
        Verdict::Pass => "ok".to_string(),
        Verdict::Fail { .. } => "FAILED".to_string(),
        Verdict::Error(_) => "ERROR".to_string(),
        Verdict::Skip(reason) => format!("skipped ({reason})"),
        Verdict::Inconclusive(reason) => format!("inconclusive ({reason})"),
    }
}

/// Put `r` among `results` by its `place` (`places` holds each result's), so that the reports
/// list runs in catalogue order whichever worker ended first.
fn place(results: &mut Vec<ocpp_report::CaseResult>, places: &mut Vec<usize>, place: usize, r: ocpp_report::CaseResult) {
    let at = places.partition_point(|p| *p <= place);
    places.insert(at, place);
    results.insert(at, r);
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM (what CI sends on a timeout), with the signal's name.
pub(crate) async fn interrupt() -> &'static str {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => "SIGTERM",
    }
}

/// The suites by content hash and the settings of this run, for the reports.
fn run_info(args: &RunArgs, suites: &[ocpp_harness::host::Suite], (profile, station_id): &(u8, String)) -> ocpp_report::RunInfo {
    let mut settings = std::collections::BTreeMap::new();
    let mut set = |k: &str, v: String| {
        if !v.is_empty() {
            settings.insert(k.to_string(), v);
        }
    };
    let s = &args.select;
    set("filters", s.filters.join(" "));
    set("skip", s.skip.join(" "));
    set("exact", if s.exact { "yes".into() } else { String::new() });
    set("role", s.role.map(|r| r.to_string()).unwrap_or_default());
    set("ocpp", s.version.map(|v| v.to_string()).unwrap_or_default());
    set("profiles", s.profiles.join(","));
    set("blocks", s.blocks.join(","));
    set("partition", s.partition.map(|p| format!("hash:{}/{}", p.k, p.n)).unwrap_or_default());
    set("security-profile", profile.to_string());
    set("station-id", station_id.clone());
    set("dut-description", args.dut.as_ref().map(|p| p.display().to_string()).unwrap_or_default());
    set("bench", args.bench.as_ref().map(|p| p.display().to_string()).unwrap_or_default());
    set("csms-url", args.csms_url.clone().unwrap_or_default());
    set("listen", args.listen.map(|a| a.to_string()).unwrap_or_default());
    set("faults", args.faults.iter().map(ToString::to_string).collect::<Vec<_>>().join(","));
    set("variants", args.variants.iter().map(ToString::to_string).collect::<Vec<_>>().join(","));
    set("fresh-dut", if args.fresh_dut { "yes".into() } else { String::new() });
    let suites = suites.iter().map(|s| ocpp_report::SuiteInfo { name: s.name.clone(), sha256: s.sha256.clone(), cases: s.cases.len() }).collect();
    ocpp_report::RunInfo { suites, settings }
}
