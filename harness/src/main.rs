//! `ocpp-harness`: list and run OCPP conformance cases, or run the reference DUTs on their own.
use std::{net::SocketAddr, path::PathBuf, process::ExitCode, time::Instant};

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use ocpp_core::{case::{Role, Verdict}, version::OcppVersion};
use ocpp_sim::{self as dut, Fault, Faults};
use ocpp_harness::{host::{Host, Suite}, runner::{Dut, RunOptions, Runner}, select::Selection};
use ocpp_report::{Counts, ReportWriter};

#[derive(Parser)]
#[command(name = "ocpp-harness", version, about = "OCPP-J conformance test harness (1.6J, 2.0.1, 2.1)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the cases of the selected suites.
    List(ListArgs),
    /// How much of OCPP 2.0.1's certification test list (part 5) the suites cover, per
    /// profile and DUT side: mandatory and conditional ids covered, and those missing.
    Coverage {
        #[command(flatten)]
        select: SelectArgs,
        /// Print JSON instead of the table.
        #[arg(long)]
        json: bool,
        /// Also list the ids not covered.
        #[arg(long)]
        missing: bool,
    },
    /// Run cases against a DUT (the built-in reference DUTs unless --csms-url/--listen is given).
    Run(RunArgs),
    /// Show that each selected case can fail for its own reason: against the reference DUTs,
    /// a wrong value in one of its messages must make it fail citing one of its requirements.
    /// For case authors; exits 1 if a case is unproven or does not pass.
    Prove {
        #[command(flatten)]
        select: SelectArgs,
        /// Print JSON instead of one line per case.
        #[arg(long)]
        json: bool,
    },
    /// Run a reference DUT on its own, e.g. to try the harness or another tool against it.
    #[command(subcommand)]
    Sim(SimCommand),
    /// Work on reports of earlier runs.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Certificates for security profiles 2 and 3.
    #[command(subcommand)]
    Pki(PkiCommand),
    /// Start a new test suite in Rust, Python or JavaScript that builds and runs as is.
    New {
        #[arg(long, value_enum)]
        lang: ocpp_harness::scaffold::Lang,
        /// Suite name: letters, digits, '-' and '_'.
        name: String,
        /// Where to create it (default: ./NAME).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Measure the harness: per-case and per-message overhead, suite compile times, load.
    Bench {
        /// Stations for the load figure (stations and CSMS share the process: two sockets each).
        #[arg(long, default_value_t = 9000)]
        stations: usize,
        /// Further suite components to time (e.g. the Python and JavaScript suites; see
        /// scripts/bench.sh), besides the built-in ones.
        #[arg(long = "suite")]
        suites: Vec<PathBuf>,
    },
    /// Many simulated stations against a CSMS (default: the reference CSMS in-process),
    /// with ramp rate and memory per station.
    Load {
        #[arg(long, default_value_t = 1000)]
        stations: usize,
        /// CSMS to load; stations connect to <url>/<station id>.
        #[arg(long)]
        csms_url: Option<String>,
        #[arg(long = "ocpp", default_value = "2.0.1")]
        version: OcppVersion,
        /// Give up waiting for registrations after this many seconds.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Drive every station by this case of the built-in suites (the harness plays the
        /// station) instead of the reference station model, e.g. OH_G_01_CSMS.
        #[arg(long)]
        case: Option<String>,
    },
}

#[derive(Subcommand)]
enum PkiCommand {
    /// Write a test PKI: ca.pem/ca.key, csms.pem/csms.key (server, for --host names) and
    /// station.pem/station.key (client, CN = the station id). For labs and demos, not production.
    Init {
        dir: PathBuf,
        #[arg(long, default_value = "CS001")]
        station_id: String,
        /// Host names and IP addresses the CSMS certificate is for (repeatable).
        #[arg(long = "host", default_values_t = ["localhost".to_string(), "127.0.0.1".to_string()])]
        hosts: Vec<String>,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Merge the reports of shards (`run --partition hash:K/N`) into one.
    Merge {
        /// Where the merged junit.xml and results.json go.
        #[arg(long)]
        out: PathBuf,
        /// results.json files, or the report directories holding them.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
    },
}

#[derive(Args, Clone, Default)]
struct SelectArgs {
    /// Run cases whose id contains one of these (libtest style).
    filters: Vec<String>,
    /// Filters must match the whole id.
    #[arg(long)]
    exact: bool,
    /// Leave out cases whose id contains this (repeatable).
    #[arg(long)]
    skip: Vec<String>,
    /// Only cases where the harness plays this role: csms | charging-station.
    #[arg(long)]
    role: Option<Role>,
    /// Only cases for this OCPP version, run at it: 1.6 | 2.0.1 | 2.1.
    #[arg(long = "ocpp")]
    version: Option<OcppVersion>,
    /// Only cases of this certification profile (repeatable): core, local-auth-list...
    #[arg(long = "profile")]
    profiles: Vec<String>,
    /// Only cases of this functional block (repeatable): B, C, E, F, G, J, P, RPC...
    #[arg(long = "block")]
    blocks: Vec<String>,
    /// Only shard K of N: `hash:K/N` (each case falls in exactly one shard).
    #[arg(long)]
    partition: Option<ocpp_harness::select::Partition>,
    /// Suite components to load (default: the built-in suites).
    #[arg(long = "suite")]
    suites: Vec<PathBuf>,
    /// Where compiled components are cached (default: $XDG_CACHE_HOME/ocpp-harness).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Compile every component afresh.
    #[arg(long)]
    no_cache: bool,
}

#[derive(Args)]
struct ListArgs {
    #[command(flatten)]
    select: SelectArgs,
    /// Print JSON metadata instead of libtest's `id: test` lines.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    select: SelectArgs,
    /// List the selected cases instead of running them (libtest's --list).
    #[arg(long)]
    list: bool,
    /// CSMS DUT to connect to, e.g. ws://10.0.0.5:9000/ocpp (cases where the harness is a station).
    #[arg(long)]
    csms_url: Option<String>,
    /// Address to accept the station DUT on, e.g. 0.0.0.0:9000 (cases where the harness is the CSMS).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Inject a fault into the built-in DUT (repeatable), e.g. no-answer:Heartbeat.
    #[arg(long = "fault")]
    faults: Vec<Fault>,
    /// Make the built-in DUTs behave in a legal but unusual or strict way (repeatable). Station:
    /// own-call-first, slow-reconnect, no-connector-zero, custom-data; CSMS: strict-tokens,
    /// one-transaction-per-token, require-preparing, own-calls-after-boot; both: slow-answers.
    /// Every case must still pass.
    #[arg(long = "variant")]
    variants: Vec<ocpp_sim::variant::Variant>,
    /// Station id the DUT uses (or the harness uses as a station).
    #[arg(long, default_value = "CS001")]
    station_id: String,
    /// DUT description (TOML): side, versions, profiles, features, parameters. Cases that do
    /// not apply to the declared DUT are skipped with the reason.
    #[arg(long)]
    dut: Option<PathBuf>,
    /// Bench description (TOML): the driver of each capability (command, operator) and the
    /// safe-state command. Without it, only the built-in DUTs' simulator drives the bench.
    #[arg(long)]
    bench: Option<PathBuf>,
    /// Largest OCPP-J message accepted from the DUT, in bytes (default 4 MiB); a larger one
    /// ends the connection and fails the case with the reason.
    #[arg(long)]
    max_message_bytes: Option<usize>,
    /// Security profile for the built-in DUTs: 0 (none), 1 (Basic auth), 2 (TLS + Basic auth),
    /// 3 (TLS with client certificates); a fresh PKI and password are made for the run. An
    /// external DUT's profile comes from the `[security]` table of its description.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=3))]
    security_profile: Option<u8>,
    /// A test PKI directory (`pki init`) whose CA signs the certificates an external station
    /// asks for (SignCertificate), whatever the security profile; the `[security]` table of
    /// the description takes precedence.
    #[arg(long)]
    pki: Option<PathBuf>,
    /// Exit non-zero when a selected case did not run to a verdict (skipped or inconclusive):
    /// for CI that must see every case run, e.g. to notice an unwired bench.
    #[arg(long)]
    fail_on_skip: bool,
    /// Built-in DUTs: start the reference station afresh for every case, instead of once per
    /// version for the whole run (the way a real station lives, with the baseline restored
    /// between cases).
    #[arg(long)]
    fresh_dut: bool,
    /// Directory for junit.xml and results.json.
    #[arg(long, default_value = "reports")]
    reports: PathBuf,
    /// Write the JUnit XML here instead of <reports>/junit.xml.
    #[arg(long)]
    junit: Option<PathBuf>,
}

#[derive(Subcommand)]
enum SimCommand {
    /// A charging station that connects to a CSMS.
    Station {
        #[arg(long)]
        csms_url: String,
        #[arg(long, default_value = "CS001")]
        station_id: String,
        #[arg(long = "ocpp", default_value = "2.0.1")]
        version: OcppVersion,
        #[arg(long)]
        evses: Option<u32>,
        #[arg(long = "fault")]
        faults: Vec<Fault>,
        /// A legal but unusual behaviour (repeatable): own-call-first, slow-answers,
        /// slow-reconnect, no-connector-zero, custom-data.
        #[arg(long = "variant")]
        variants: Vec<ocpp_sim::variant::Variant>,
        /// Serve an HTTP control API on this address (loopback: it is not authenticated): plug,
        /// pilot, token, ev-fault, power-cycle, network, safe-state, meter, status.
        #[arg(long)]
        control: Option<SocketAddr>,
        #[command(flatten)]
        security: SimSecurity,
    },
    /// A CSMS that accepts stations at ws://ADDR/<station id> (wss:// from security profile 2).
    Csms {
        #[arg(long, default_value = "127.0.0.1:9000")]
        listen: SocketAddr,
        /// At security profile 1 or 2, where the endpoint one profile up listens (wss://), for
        /// a station a connection profile moves up (A05); default: a free port.
        #[arg(long)]
        raised_listen: Option<SocketAddr>,
        #[arg(long = "fault")]
        faults: Vec<Fault>,
        /// A legal but strict or unusual behaviour (repeatable): strict-tokens,
        /// one-transaction-per-token, require-preparing, own-calls-after-boot, slow-answers.
        #[arg(long = "variant")]
        variants: Vec<ocpp_sim::variant::Variant>,
        /// Serve an HTTP control API on this address (loopback: it is not authenticated):
        /// POST /stations/{station}/{action} with the payload sends that CALL; GET /stations.
        #[arg(long)]
        control: Option<SocketAddr>,
        #[command(flatten)]
        security: SimSecurity,
    },
}

/// Security of a standalone reference DUT.
#[derive(Args)]
struct SimSecurity {
    /// 0 (none), 1 (Basic auth), 2 (TLS + Basic auth), 3 (TLS with client certificates).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=3))]
    security_profile: u8,
    /// The Basic-auth password (profiles 1 and 2); the CSMS takes it from every station.
    #[arg(long)]
    password: Option<String>,
    /// A directory from `pki init` (profiles 2 and 3).
    #[arg(long)]
    pki: Option<PathBuf>,
}

impl SimSecurity {
    fn load(&self, station_id: &str) -> anyhow::Result<ocpp_core::security::Security> {
        let c = ocpp_core::security::SecurityConfig { profile: self.security_profile, password: self.password.clone(), pki: self.pki.clone() };
        ocpp_core::security::Security::load(&c, std::path::Path::new("."), station_id)
    }
}

fn cache_dir(a: &SelectArgs) -> Option<PathBuf> {
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
async fn load(host: &Host, a: &SelectArgs) -> (Vec<Suite>, Vec<(String, String)>) {
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

fn selection(a: &SelectArgs) -> Selection {
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

fn versions(v: &[OcppVersion]) -> String {
    v.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

async fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let host = Host::new(cache_dir(&args.select))?;
    let (suites, failed) = load(&host, &args.select).await;
    let sel = selection(&args.select);
    let all: Vec<_> = suites.iter().flat_map(|s| s.cases.iter().cloned()).collect();
    for problem in ocpp_harness::lint::lint(&all) {
        eprintln!("warning: {problem}");
    }
    let cases: Vec<_> = suites.iter().flat_map(|s| s.cases.iter()).filter(|c| sel.selects(c)).collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&cases)?);
    } else {
        for c in &cases {
            let kind = if c.mandatory() { "mandatory".to_string() } else { format!("needs feature {}", c.features.join(",")) };
            println!("{}: test  [{} | {} | {} | {kind} | {}] {}", c.id, versions(&c.versions), c.role, c.profile, c.requirements.join(" "), c.title);
        }
        println!("\n{} tests{}", cases.len(), if failed.is_empty() { String::new() } else { format!(" ({} suites not loaded)", failed.len()) });
        // Coverage per version and DUT side, the way certification counts it.
        let mut counts = std::collections::BTreeMap::<(String, &str), usize>::new();
        for c in &cases {
            for v in &c.versions {
                *counts.entry((v.to_string(), c.role.dut())).or_default() += 1;
            }
        }
        for ((v, dut), n) in counts {
            println!("  OCPP {v:<5}  DUT {dut:<16} {n:>4}");
        }
    }
    Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

async fn coverage(select: SelectArgs, json: bool, missing: bool) -> anyhow::Result<ExitCode> {
    let host = Host::new(cache_dir(&select))?;
    let (suites, failed) = load(&host, &select).await;
    let all: Vec<_> = suites.iter().flat_map(|s| s.cases.iter().cloned()).collect();
    let c = ocpp_harness::coverage::of(&all);
    if json {
        println!("{}", serde_json::to_string_pretty(&c)?);
    } else {
        println!("OCPP 2.0.1 certification test list (part 5) covered by the loaded suites:\n");
        println!("{:<36} {:<16} {:>13} {:>13}", "profile", "DUT", "mandatory", "conditional");
        for t in &c.tallies {
            println!("{:<36} {:<16} {:>6} / {:<4} {:>6} / {:<4}", t.profile, t.dut, t.mandatory_covered, t.mandatory, t.conditional_covered, t.conditional);
            if missing && !t.missing.is_empty() {
                println!("    missing: {}", t.missing.join(" "));
            }
        }
        println!("\nplus {} own cases (OH_) at 2.0.1; TC_ ids not in the list: {}", c.own, if c.unlisted.is_empty() { "none".into() } else { c.unlisted.join(" ") });
        let v = &c.v16;
        println!("\nOCPP 1.6 (OCA test ids TC_, own OH_): CSMS DUT {} TC_ + {} OH_, charge-point DUT {} TC_ + {} OH_", v.csms_oca, v.csms_own, v.station_oca, v.station_own);
    }
    Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

async fn prove(select: SelectArgs, json: bool) -> anyhow::Result<ExitCode> {
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
                    Proof::Proven { by, requirement } => println!("{}: proven: {by} fails it citing {requirement}", meta.id),
                    Proof::Unproven { tried } if tried.is_empty() => println!("{}: UNPROVEN: it exchanged no CALL with the DUT that a wrong value could go into", meta.id),
                    Proof::Unproven { tried } => println!("{}: UNPROVEN: nothing fails it citing one of {}; tried {}", meta.id, meta.requirements.join(" "), tried.join("; ")),
                    Proof::DoesNotPass { verdict, reason } => println!("{}: does not pass against the reference DUT: {verdict}: {reason}", meta.id),
                }
            }
            proven += usize::from(matches!(proof, Proof::Proven { .. }));
            all.push(serde_json::json!({ "id": meta.id, "suite": suite.name, "result": proof }));
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&all)?);
    } else {
        println!("\n{proven} of {} cases proven", all.len());
    }
    Ok(if failed.is_empty() && proven == all.len() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
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
        Dut::BuiltIn { faults: Faults(args.faults.clone()) }
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
    if let Some(name) = args.dut.as_ref().and_then(|p| ocpp_harness::description::DutDescription::load(p).ok()).and_then(|d| d.name) {
        dut_label = format!("{name}: {dut_label}");
    }
    let mut opts = RunOptions { dut, version: args.select.version, fresh_dut: args.fresh_dut, variants: args.variants.clone(), ..Default::default() };
    opts.config.station_id = args.station_id.clone();
    if let Some(path) = &args.dut {
        let d = ocpp_harness::description::DutDescription::load(path)?;
        if let Some(sec) = &d.security {
            let base = path.parent().unwrap_or(std::path::Path::new("."));
            let station_id = d.station_id.clone().unwrap_or_else(|| args.station_id.clone());
            opts.security = ocpp_core::security::Security::load(sec, base, &station_id).with_context(|| format!("in [security] of {}", path.display()))?;
        }
        opts.describe(d);
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
        opts.bench = Some(ocpp_bench::config::BenchConfig::load(path)?);
    }
    let runner = Runner::new(std::sync::Arc::new(host), opts).await?;
    let chosen: Vec<_> = suites.iter().flat_map(|s| s.cases.iter().map(move |c| (s, c))).filter(|(_, c)| sel.selects(c)).collect();
    if args.list {
        for (_, c) in &chosen {
            println!("{}: test", c.id);
        }
        return Ok(ExitCode::SUCCESS);
    }
    // Each case at every version it lists that the DUT declares (or at --ocpp).
    let selected: Vec<_> = chosen.iter().flat_map(|(s, c)| runner.versions_for(c).into_iter().map(move |v| (*s, *c, v))).collect();
    let mut writer = ReportWriter::new(&args.reports, dut_label.clone()).with_context(|| format!("creating {}", args.reports.display()))?;
    if let Some(path) = &args.junit {
        writer = writer.with_junit_path(path.clone()).with_context(|| format!("creating {}", path.display()))?;
    }
    println!("\nrunning {} cases ({} runs, a case once per version) against {dut_label}", chosen.len(), selected.len());
    let t0 = Instant::now();
    // A suite that did not load is an error in the reports, not a silent gap.
    let mut results: Vec<_> = failed.iter().map(|(name, e)| ocpp_report::CaseResult::suite_error(name, e)).collect();
    writer.write(&results)?;
    let signal = interrupt();
    tokio::pin!(signal);
    for (suite, meta, version) in selected {
        let trace = ocpp_core::trace::Trace::new();
        let r = tokio::select! {
            r = runner.run_case_at(suite, meta, version, &trace) => r,
            name = &mut signal => {
                // Everything that ran is on disk already; add the case in flight and stop.
                results.push(runner.interrupted(meta, version, &trace, name));
                writer.write(&results)?;
                eprintln!("\ninterrupted by {name}: {} cases in {}", results.len(), writer.junit_path().display());
                return Ok(ExitCode::from(130));
            }
        };
        let status = match &r.verdict {
            Verdict::Pass => "ok".to_string(),
            Verdict::Fail { .. } => "FAILED".to_string(),
            Verdict::Error(_) => "ERROR".to_string(),
            Verdict::Skip(reason) => format!("skipped ({reason})"),
            Verdict::Inconclusive(reason) => format!("inconclusive ({reason})"),
        };
        println!("test {} [{} {}] ... {status}", r.meta.id, r.version, r.meta.role);
        results.push(r);
        writer.set_stations(runner.stations().await);
        writer.write(&results)?;
    }
    for s in runner.stations().await {
        let version = s.version.map(|v| format!(" ({v})")).unwrap_or_default();
        let identity = s.identity.as_deref().map(|i| format!(" — {i}")).unwrap_or_default();
        println!("station {}{version}: {} connection(s), {} boot(s), {} reboot(s) asked for by cases{identity}", s.station_id, s.connections, s.boots, s.reboots_requested);
    }
    let bad: Vec<_> = results.iter().filter(|r| r.verdict.is_failure()).collect();
    if !bad.is_empty() {
        println!("\nfailures:\n");
        for r in &bad {
            println!("---- {} ({}) ----\n{}\n", r.meta.id, r.meta.title, r.reason);
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
        println!("\nnot run to a verdict:");
        for (reason, n) in &why {
            println!("  {n:>3} x {reason}");
        }
    }
    let unrun = c.skipped + c.inconclusive;
    let bad_skip = args.fail_on_skip && unrun > 0;
    let outcome = if bad.is_empty() && !bad_skip { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {outcome}. {} passed; {} failed; {} errors; {} skipped; {} inconclusive; finished in {:.2}s",
        c.passed, c.failed, c.errors, c.skipped, c.inconclusive, t0.elapsed().as_secs_f64()
    );
    println!("reports: {} and {}", writer.junit_path().display(), args.reports.join("results.json").display());
    if bad_skip {
        println!("--fail-on-skip: {unrun} case(s) did not run to a verdict");
    }
    Ok(if bad.is_empty() && !bad_skip { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Print the figures the targets are stated in.
async fn bench(stations: usize, extra: &[PathBuf]) -> anyhow::Result<ExitCode> {
    use ocpp_harness::perf;
    let cache = std::env::temp_dir().join(format!("ocpp-harness-bench-{}", std::process::id()));
    println!("suite compile and instantiate (wasmtime, cached on disk):");
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
        println!(
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
    println!("harness overhead per case (instantiate + run an empty case, cached component): {overhead}   target: p99 < 5000 µs");
    let (through, raw) = perf::message_latency(2000).await?;
    println!("OCPP message round trip on loopback through the harness: {through}");
    println!("                              with a bare WebSocket client: {raw}");
    let added = through.p99.saturating_sub(raw.p99);
    println!("added latency per message: p99 {:.0} µs   target: < 200 µs", added.as_secs_f64() * 1e6);
    if let Some(limit) = perf::open_files_limit().filter(|l| *l < 2 * stations as u64 + 200) {
        println!("note: {stations} in-process stations need about {} open files; the limit is {limit} (ulimit -n)", 2 * stations + 200);
    }
    let r = perf::load(None, stations, OcppVersion::V201, std::time::Duration::from_secs(120), |_| {}).await?;
    println!(
        "load: {}/{} stations registered in {:.2} s ({:.0}/s; target > 5000/s), {:.1} MiB resident added, {:.0} stations per GiB (stations and CSMS in one process; target 10k in < 1 GiB)",
        r.booted, r.stations, r.ramp.as_secs_f64(), r.per_second(), r.rss_added as f64 / (1 << 20) as f64, r.stations_per_gib()
    );
    let _ = std::fs::remove_dir_all(&cache);
    Ok(ExitCode::SUCCESS)
}

/// Load where each station is a run of a station-role case, with its own station id.
async fn load_scripted(stations: usize, csms_url: Option<String>, version: OcppVersion, case: &str) -> anyhow::Result<ExitCode> {
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
            let (addr, _h, task) = dut::csms::start("127.0.0.1:0".parse()?, dut::csms::CsmsConfig::default()).await?;
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
    println!("{stations} stations ran {case} in {:.2} s: {} passed, {} failed, {} errors\ncase time per station: {times}", t0.elapsed().as_secs_f64(), c.passed, c.failed, c.errors);
    if let Some(bad) = results.iter().find(|r| r.verdict.is_failure()) {
        println!("first failure ({}): {}", bad.meta.id, bad.reason);
    }
    Ok(if c.failed + c.errors == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

async fn load_cmd(stations: usize, csms_url: Option<String>, version: OcppVersion, seconds: u64) -> anyhow::Result<ExitCode> {
    let bar = indicatif::ProgressBar::new(stations as u64);
    bar.set_style(indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} stations registered ({elapsed})").unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()));
    let r = ocpp_harness::perf::load(csms_url, stations, version, std::time::Duration::from_secs(seconds), |n| bar.set_position(n as u64)).await?;
    bar.finish();
    println!(
        "{}/{} stations registered in {:.2} s ({:.0}/s); {:.1} MiB resident added ({:.0} stations per GiB)\nregistration time per station (connect, upgrade, BootNotification accepted): {}",
        r.booted, r.stations, r.ramp.as_secs_f64(), r.per_second(), r.rss_added as f64 / (1 << 20) as f64, r.stations_per_gib(), r.registration
    );
    Ok(if r.booted == r.stations { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// One report from the shards' reports; a case reported by two shards is an error.
fn merge(out: &std::path::Path, inputs: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut duts = Vec::new();
    let mut cases = Vec::new();
    for input in inputs {
        let (dut, mut c) = ocpp_report::read_results(input)?;
        if !duts.contains(&dut) {
            duts.push(dut);
        }
        cases.append(&mut c);
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = cases.iter().find(|c| !seen.insert((c.meta.suite.clone(), c.meta.id.clone(), c.version))) {
        anyhow::bail!("{} ({}) is in more than one input: were the shards of the same partition?", dup.meta.id, dup.version);
    }
    let writer = ReportWriter::new(out, duts.join(" + ")).with_context(|| format!("creating {}", out.display()))?;
    writer.write(&cases)?;
    let c = Counts::of(&cases);
    println!("merged {} cases from {} reports into {}: {} passed; {} failed; {} errors; {} skipped; {} inconclusive",
        cases.len(), inputs.len(), out.display(), c.passed, c.failed, c.errors, c.skipped, c.inconclusive);
    Ok(if c.failed + c.errors == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM (what CI sends on a timeout), with the signal's name.
async fn interrupt() -> &'static str {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => "SIGTERM",
    }
}

async fn sim(cmd: SimCommand) -> anyhow::Result<ExitCode> {
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    match cmd {
        SimCommand::Station { csms_url, station_id, version, evses, faults, variants, control, security } => {
            let faults = Faults(faults);
            let sec = dut::station::StationSecurity::for_run(&security.load(&station_id)?, &station_id, &faults)?;
            let mut cfg = dut::station::StationConfig::new(csms_url, station_id, version);
            cfg.faults = faults;
            if let Some(v) = variants.iter().find(|v| !v.for_side(dut::variant::Side::Station)) {
                anyhow::bail!("variant {v} is for the reference CSMS, not the station");
            }
            cfg.variants = variants;
            cfg.security = sec;
            if let Some(n) = evses {
                cfg.evses = n;
            }
            println!("reference station {} ({}) connecting to {}", cfg.station_id, version, cfg.csms_url);
            println!("{}", dut::console::STATION_HELP);
            let (handle, task) = dut::station::spawn(cfg);
            if let Some(addr) = control {
                let (bound, _server) = dut::control::serve(addr, handle.clone()).await?;
                println!("control API on http://{bound}/ (plug, pilot, token, ev-fault, power-cycle, network, safe-state, meter, status)");
            }
            while let Ok(Some(line)) = lines.next_line().await {
                if line.trim().is_empty() {
                    continue;
                }
                match dut::console::station_command(&line) {
                    Ok(input) => {
                        handle.send(input);
                    }
                    Err(e) => eprintln!("{e}"),
                }
            }
            // stdin closed (e.g. run in the background): keep running.
            task.await?;
        }
        SimCommand::Csms { listen, raised_listen, faults, variants, control, security } => {
            let faults = Faults(faults);
            let loaded = security.load("*")?;
            let sec = dut::csms::CsmsSecurity::for_run(&loaded, "*", &faults)?;
            if let Some(v) = variants.iter().find(|v| !v.for_side(dut::variant::Side::Csms)) {
                anyhow::bail!("variant {v} is for the reference station, not the CSMS");
            }
            let cfg = dut::csms::CsmsConfig { faults, security: sec, variants, raised_listen, ..Default::default() };
            let (addr, handle, task) = dut::csms::start(listen, cfg).await?;
            println!("reference CSMS listening on {}://{addr}/<station id> (security profile {})", loaded.scheme(), loaded.profile);
            if let Some(up) = handle.raised_addr {
                println!("and on wss://{up}/<station id> at security profile {} (a station's move up, A05: parameter csms-url-profile-up = wss://{up}/ocpp)", loaded.profile + 1);
            }
            if let Some(c) = control {
                let (bound, _server) = dut::control::serve_router(c, dut::control::csms_router(handle.clone())).await?;
                println!("control API on http://{bound}/ (POST /stations/<id>/<action> with the payload, GET /stations)");
            }
            println!("{}", dut::console::CSMS_HELP);
            while let Ok(Some(line)) = lines.next_line().await {
                if line.trim().is_empty() {
                    continue;
                }
                match dut::console::csms_command(&line) {
                    Ok(dut::console::CsmsCommand::Send { station, action, payload }) => match handle.send_call(&station, &action, payload) {
                        Ok(()) => println!("sent {action} to {station}"),
                        Err(e) => eprintln!("{e}"),
                    },
                    Ok(dut::console::CsmsCommand::Stations) => println!("connected: {}", handle.connected().join(", ")),
                    Err(e) => eprintln!("{e}"),
                }
            }
            task.await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn new_suite(lang: ocpp_harness::scaffold::Lang, name: &str, dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let dir = dir.unwrap_or_else(|| PathBuf::from(name));
    let files = ocpp_harness::scaffold::scaffold(lang, name, &dir)?;
    for f in &files {
        println!("wrote {}", f.display());
    }
    println!("\nnext:\n{}", ocpp_harness::scaffold::next_steps(lang, name, &dir));
    Ok(ExitCode::SUCCESS)
}

fn pki_init(dir: &std::path::Path, station_id: &str, hosts: &[String]) -> anyhow::Result<ExitCode> {
    use ocpp_core::security::pki::{FILES, Pki};
    if let Some(f) = FILES.iter().find(|f| dir.join(f).exists()) {
        anyhow::bail!("{} already has {f}; not overwriting a PKI", dir.display());
    }
    Pki::generate(station_id, hosts)?.write(dir)?;
    println!("wrote a test PKI to {}: {} (CSMS certificate for {}, station certificate CN {station_id})", dir.display(), FILES.join(", "), hosts.join(", "));
    Ok(ExitCode::SUCCESS)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The simulators show their OCPP traffic unless told otherwise.
    let default_filter = if matches!(cli.command, Command::Sim(_)) { "sim=info" } else { "warn" };
    let filter = std::env::var("OCPP_HARNESS_LOG").unwrap_or_else(|_| default_filter.into());
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new(filter)).with_writer(std::io::stderr).init();
    let result = match cli.command {
        Command::List(a) => list(a).await,
        Command::Coverage { select, json, missing } => coverage(select, json, missing).await,
        Command::Run(a) => run(a).await,
        Command::Prove { select, json } => prove(select, json).await,
        Command::Sim(c) => sim(c).await,
        Command::Report(ReportCommand::Merge { out, inputs }) => merge(&out, &inputs),
        Command::Pki(PkiCommand::Init { dir, station_id, hosts }) => pki_init(&dir, &station_id, &hosts),
        Command::New { lang, name, dir } => new_suite(lang, &name, dir),
        Command::Bench { stations, suites } => bench(stations, &suites).await,
        Command::Load { stations, csms_url, version, seconds: _, case: Some(case) } => load_scripted(stations, csms_url, version, &case).await,
        Command::Load { stations, csms_url, version, seconds, case: None } => load_cmd(stations, csms_url, version, seconds).await,
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::from(2)
    })
}
