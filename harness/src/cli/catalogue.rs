//! `list`, `coverage` and `prove`: loading the suites and selecting their cases.
use std::{path::PathBuf, process::ExitCode};

use anyhow::Context;

use ocpp_core::version::OcppVersion;
use ocpp_harness::{host::{Host, Suite}, runner::RunOptions, select::Selection};
use super::args::*;

pub(crate) fn cache_dir(a: &SelectArgs) -> Option<PathBuf> {
    if a.no_cache {
        return None;
    }
    a.cache_dir.clone().or_else(|| {
        std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .map(|d| d.join("ocpp-harness"))
    })
}

/// Load the suites; one that cannot be loaded is reported (name, reason) and the others run.
pub(crate) async fn load(host: &Host, a: &SelectArgs) -> (Vec<Suite>, Vec<(String, String)>) {
    let mut suites = Vec::new();
    let mut failed = Vec::new();
    if a.suites.is_empty() {
        for (name, bytes) in ocpp_harness::builtin::suites() {
            match host.load_suite(name, bytes).await {
                Ok(s) => suites.push(s),
                Err(e) => failed.push((name.to_string(), format!("{e:#}"))),
            }
        }
    }
    for path in &a.suites {
        match host.load_suite_file(path).await {
            Ok(s) => suites.push(s),
            Err(e) => failed.push((path.display().to_string(), format!("{e:#}"))),
        }
    }
    for (name, e) in &failed {
        eprintln!("error: suite {name} not loaded: {e}");
    }
    (suites, failed)
}

pub(crate) fn selection(a: &SelectArgs) -> Selection {
    Selection {
        filters: a.filters.clone(),
        exact: a.exact,
        skip: a.skip.clone(),
        role: a.role,
        version: a.version,
        profiles: a.profiles.clone(),
        blocks: a.blocks.clone(),
        partition: a.partition,
    }
}

pub(crate) fn versions(v: &[OcppVersion]) -> String {
    v.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

pub(crate) async fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let host = Host::new(cache_dir(&args.select))?;
    let (suites, failed) = load(&host, &args.select).await;
    let sel = selection(&args.select);
    let all: Vec<_> = suites.iter().flat_map(|s| s.cases.iter().cloned()).collect();
    for problem in ocpp_harness::lint::lint(&all) {
        eprintln!("warning: {problem}");
    }
    let cases: Vec<_> = suites.iter().flat_map(|s| s.cases.iter()).filter(|c| sel.selects(c)).collect();
    if args.json {
        say!("{}", serde_json::to_string_pretty(&cases)?);
    } else {
        for c in &cases {
            let kind = if c.mandatory() { "mandatory".to_string() } else { format!("needs feature {}", c.features.join(",")) };
            say!("{}: test  [{} | {} | {} | {kind} | {}] {}", c.id, versions(&c.versions), c.role, c.profile, c.requirements.join(" "), c.title);
        }
        say!("\n{} tests{}", cases.len(), if failed.is_empty() { String::new() } else { format!(" ({} suites not loaded)", failed.len()) });
        // Coverage per version and DUT side, the way certification counts it.
        let mut counts = std::collections::BTreeMap::<(String, &str), usize>::new();
        for c in &cases {
            for v in &c.versions {
                *counts.entry((v.to_string(), c.role.dut())).or_default() += 1;
            }
        }
        for ((v, dut), n) in counts {
            say!("  OCPP {v:<5}  DUT {dut:<16} {n:>4}");
        }
    }
    Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

pub(crate) async fn coverage(select: SelectArgs, json: bool, missing: bool, fidelity: Option<std::path::PathBuf>) -> anyhow::Result<ExitCode> {
    let host = Host::new(cache_dir(&select))?;
    let (suites, failed) = load(&host, &select).await;
    let all: Vec<_> = suites.iter().flat_map(|s| s.cases.iter().cloned()).collect();
    let unfaithful = match &fidelity {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading the fidelity report {}", path.display()))?;
            let report: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("{} is not a `fidelity --json` report", path.display()))?;
            ocpp_harness::coverage::unfaithful_in(&report)
        }
        None => Default::default(),
    };
    // 2.0.1's list, counted for the cases that run at the version asked (2.1 keeps 2.0.1's use
    // cases); 1.6 has no such list: its tally is below either way.
    let at = select.version.filter(|v| *v != OcppVersion::V16).unwrap_or(OcppVersion::V201);
    let c = ocpp_harness::coverage::of_faithful(&all, &unfaithful, at);
    if json {
        say!("{}", serde_json::to_string_pretty(&c)?);
    } else {
        say!("OCPP 2.0.1 certification test list (part 5) covered by the loaded suites, by cases that run at OCPP {at}:\n");
        say!("{:<36} {:<16} {:>13} {:>13}", "profile", "DUT", "mandatory", "conditional");
        for t in &c.tallies {
            say!("{:<36} {:<16} {:>6} / {:<4} {:>6} / {:<4}", t.profile, t.dut, t.mandatory_covered, t.mandatory, t.conditional_covered, t.conditional);
            if missing && !t.missing.is_empty() {
                say!("    missing: {}", t.missing.join(" "));
            }
        }
        say!("\nplus {} own cases (OH_) at {at}; TC_ ids not in the list: {}", c.own, if c.unlisted.is_empty() { "none".into() } else { c.unlisted.join(" ") });
        let v = &c.v16;
        say!("\nOCPP 1.6 (OCA test ids TC_, own OH_): CSMS DUT {} TC_ + {} OH_, charge-point DUT {} TC_ + {} OH_", v.csms_oca, v.csms_own, v.station_oca, v.station_own);
        if fidelity.is_some() {
            say!("\nids counted only where `fidelity` found the case faithful: {} not counted", unfaithful.len());
        }
        if !c.deviations.is_empty() {
            say!("\ndeclared deviations from part 6 ({} cases):", c.deviations.len());
            for (id, d) in &c.deviations {
                say!("  {id}: {}", d.join("; "));
            }
        }
    }
    Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

pub(crate) async fn prove(select: SelectArgs, json: bool) -> anyhow::Result<ExitCode> {
    use ocpp_harness::proof::Proof;
    let host = std::sync::Arc::new(Host::new(cache_dir(&select))?);
    let (suites, failed) = load(&host, &select).await;
    let sel = selection(&select);
    let base = RunOptions { fresh_dut: true, version: select.version, ..Default::default() };
    let (mut proven, mut all) = (0, vec![]);
    for suite in &suites {
        for meta in suite.cases.iter().filter(|c| sel.selects(c)) {
            let proof = ocpp_harness::proof::prove(&host, suite, meta, &base, &[]).await?;
            if !json {
                match &proof {
                    Proof::Proven { by, requirement } => say!("{}: proven: {by} fails it citing {requirement}", meta.id),
                    Proof::Unproven { tried } if tried.is_empty() => say!("{}: UNPROVEN: nothing it claims could be made wrong", meta.id),
                    Proof::Unproven { tried } => say!("{}: UNPROVEN: nothing fails it citing one of {}; tried {}", meta.id, meta.requirements.join(" "), tried.join("; ")),
                    Proof::DoesNotPass { verdict, reason } => say!("{}: does not pass against the reference DUT: {verdict}: {reason}", meta.id),
                }
            }
            proven += usize::from(matches!(proof, Proof::Proven { .. }));
            all.push(serde_json::json!({ "id": meta.id, "suite": suite.name, "result": proof }));
        }
    }
    if json {
        say!("{}", serde_json::to_string_pretty(&all)?);
    } else {
        say!("\n{proven} of {} cases proven", all.len());
    }
    Ok(if failed.is_empty() && proven == all.len() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

pub(crate) async fn fidelity(select: SelectArgs, json: bool) -> anyhow::Result<ExitCode> {
    use ocpp_harness::fidelity::{compare, tables};
    let host = std::sync::Arc::new(Host::new(cache_dir(&select))?);
    let (suites, failed) = load(&host, &select).await;
    let sel = selection(&select);
    let tables = tables();
    let (mut faithful, mut with_deviations, mut skipped, mut all) = (0, 0, 0, vec![]);
    for suite in &suites {
        // Part 6 is OCPP 2.0.1's: the cases run at it, one reference DUT per side for all.
        for role_cases in [ocpp_core::case::Role::Csms, ocpp_core::case::Role::ChargingStation] {
            let cases: Vec<_> = suite.cases.iter().filter(|c| c.role == role_cases && sel.selects(c) && tables.contains_key(&c.id) && c.versions.contains(&OcppVersion::V201)).collect();
            if cases.is_empty() {
                continue;
            }
            // A fresh DUT per case: only the case's own traffic is in its wire log (no inventory, no baseline).
            let runner = ocpp_harness::runner::Runner::new(host.clone(), RunOptions { version: Some(OcppVersion::V201), fresh_dut: true, ..Default::default() }).await?;
            for meta in cases {
                let mut result = runner.run_case(suite, meta).await;
                // A conditional case whose prerequisite only a variant of the reference DUT
                // meets (a second EVSE, one rate unit) is compared against that variant.
                if let Some(variant) = ocpp_sim::variant::meeting_prerequisite(&result.verdict) {
                    let mut opts = RunOptions { version: Some(OcppVersion::V201), fresh_dut: true, ..Default::default() };
                    opts.with_variants(&[variant])?;
                    result = ocpp_harness::runner::Runner::new(host.clone(), opts).await?.run_case(suite, meta).await;
                }
                // A case for other security profiles runs again at the first it names
                // ("runs at security profile 1 or 2; …"), with material generated for it.
                if let Some(profile) = needed_profile(&result.reason).filter(|_| result.verdict.name() == "skip") {
                    let mut opts = RunOptions { version: Some(OcppVersion::V201), fresh_dut: true, ..Default::default() };
                    opts.security = ocpp_core::security::Security::generated(profile, &opts.config.station_id)?;
                    result = ocpp_harness::runner::Runner::new(host.clone(), opts).await?.run_case(suite, meta).await;
                }
                // A case that did not run here has nothing to compare.
                if result.verdict.name() == "skip" {
                    skipped += 1;
                    if !json {
                        say!("{}: not compared: skipped against the reference DUT ({})", meta.id, result.reason);
                    }
                    all.push(serde_json::json!({ "id": meta.id, "suite": suite.name, "verdict": "skip", "reason": result.reason }));
                    continue;
                }
                let diffs = compare(&tables[&meta.id], &result.trace.wire);
                // A difference at a step the case declares a deviation for is accounted for.
                let open = ocpp_harness::fidelity::undeclared(&diffs, &meta.deviations);
                let declared = if diffs.len() > open.len() { format!(" (declared: {})", meta.deviations.join("; ")) } else { String::new() };
                if !json {
                    match (open.is_empty(), result.verdict.name()) {
                        (true, "pass") => say!("{}: faithful{declared}", meta.id),
                        (true, v) => say!("{}: faithful{declared}, but {v} against the reference DUT: {}", meta.id, result.reason),
                        (false, _) => say!("{}: {} difference(s): {}", meta.id, open.len(), open.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("; ")),
                    }
                }
                faithful += usize::from(open.is_empty());
                with_deviations += usize::from(open.is_empty() && !meta.deviations.is_empty());
                all.push(serde_json::json!({ "id": meta.id, "suite": suite.name, "verdict": result.verdict.name(), "differences": open, "declared": meta.deviations }));
            }
        }
    }
    if json {
        say!("{}", serde_json::to_string_pretty(&all)?);
    } else {
        let not = if skipped > 0 { format!(" ({skipped} skipped, not compared)") } else { String::new() };
        say!("\n{faithful} of {} cases faithful to their part-6 tables ({with_deviations} with declared deviations){not}", all.len() - skipped);
    }
    Ok(if failed.is_empty() && faithful + skipped == all.len() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The first security profile a case skipped for another one names (kit::security_profiles:
/// "runs at security profile 1 or 2; this run is at 0").
fn needed_profile(reason: &str) -> Option<u8> {
    let rest = reason.strip_prefix("runs at security profile ")?;
    rest.chars().next()?.to_digit(10).and_then(|d| u8::try_from(d).ok())
}
