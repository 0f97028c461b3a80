//! `ocpp-harness`: list and run OCPP conformance cases, or run the reference DUTs on their own.
use std::process::ExitCode;

use clap::Parser;

/// `println!` that survives a closed stdout: `ocpp-harness list | head` stops reading early,
/// and the rest of the output (or of a run's progress, whose reports still get written) goes
/// nowhere instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod cli {
    pub(crate) mod args;
    pub(crate) mod catalogue;
    pub(crate) mod run;
    pub(crate) mod perf;
    pub(crate) mod merge;
    pub(crate) mod sim;
    pub(crate) mod setup;
    pub(crate) mod init;
}
use cli::{args::*, catalogue::*, init::*, merge::*, perf::*, run::*, setup::*, sim::*};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The simulators show their OCPP traffic unless told otherwise.
    let default_filter = if matches!(cli.command, Command::Sim(_)) { "sim=info" } else { "warn" };
    let filter = std::env::var("OCPP_HARNESS_LOG").unwrap_or_else(|_| default_filter.into());
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new(filter)).with_writer(std::io::stderr).init();
    let result = match cli.command {
        Command::List(a) => list(a).await,
        Command::Coverage { select, json, missing, fidelity } => coverage(select, json, missing, fidelity).await,
        Command::Run(a) => run(a).await,
        Command::Prove { select, json } => prove(select, json).await,
        Command::Fidelity { select, json } => fidelity(select, json).await,
        Command::Sim(c) => sim(c).await,
        Command::Report(ReportCommand::Merge { out, inputs }) => merge(&out, &inputs),
        Command::Pki(PkiCommand::Init { dir, station_id, hosts }) => pki_init(&dir, &station_id, &hosts),
        Command::New { lang, name, dir } => new_suite(lang, &name, dir),
        Command::Init { answers, out, force } => init(answers.as_deref(), &out, force),
        Command::Bench { check: Some(BenchCommand::Check { bench }), .. } => bench_check(&bench).await,
        Command::Bench { check: None, stations, suites } => bench(stations, &suites).await,
        Command::Load { stations, csms_url, version, seconds: _, case: Some(case) } => load_scripted(stations, csms_url, version, &case).await,
        Command::Load { stations, csms_url, version, seconds, case: None } => load_cmd(stations, csms_url, version, seconds).await,
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::from(2)
    })
}
