//! The command line: every subcommand and its options (clap derive).
use std::{net::SocketAddr, path::PathBuf};

use clap::{Args, Parser, Subcommand};
use ocpp_core::{case::Role, version::OcppVersion};
use ocpp_sim::Fault;

#[derive(Parser)]
#[command(name = "ocpp-harness", version, about = "OCPP-J conformance test harness (1.6J, 2.0.1, 2.1)")]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
        /// A `fidelity --json` report: an id whose case it found with an undeclared difference
        /// from its part-6 table does not count as covered.
        #[arg(long, value_name = "FILE")]
        fidelity: Option<std::path::PathBuf>,
    },
    /// Run cases against a DUT (the built-in reference DUTs unless --csms-url/--listen is given).
    Run(RunArgs),
    /// Show that each selected case can fail for its own reason: against the reference DUTs,
    /// one wrong field a check reads (for a TC case, one its part-6 validations check), a
    /// refused answer where answering is the claim, or a switched-on misbehaviour must make a
    /// check fail citing one of its requirements (a failed preparation proves nothing).
    /// For case authors; exits 1 if a case is unproven or does not pass.
    Prove {
        #[command(flatten)]
        select: SelectArgs,
        /// Print JSON instead of one line per case.
        #[arg(long)]
        json: bool,
    },
    /// Compare what each selected TC case exchanges with its OCPP 2.0.1 part-6 table: against
    /// the reference DUTs, every message a step names, in order and from its side, and the
    /// field values the step states. Prints `faithful` or the differences; exits 1 if any.
    Fidelity {
        #[command(flatten)]
        select: SelectArgs,
        /// Print JSON instead of the differences per case.
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
    /// Describe a DUT: side, versions, certification profiles, the PICS items of OCPP 2.0.1
    /// part 5 and the lab settings, asked on the terminal (or read from --answers for CI);
    /// writes a DUT description for `run --dut`.
    Init {
        /// The answers as a TOML file instead of prompts (keys: name, side, versions,
        /// profiles, pics, station-id, valid-id-tokens, invalid-id-token, evses,
        /// security-profile, password-env, pki, [timing]).
        #[arg(long)]
        answers: Option<PathBuf>,
        /// Where the description goes.
        #[arg(long, default_value = "dut.toml")]
        out: PathBuf,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Measure the harness: per-case and per-message overhead, suite compile times, load;
    /// or, as `bench check --bench FILE`, check that every driver of a bench answers.
    #[command(args_conflicts_with_subcommands = true)]
    Bench {
        #[command(subcommand)]
        check: Option<BenchCommand>,
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
pub(crate) enum BenchCommand {
    /// Touch every capability of a bench description (meters read, relays read back,
    /// instruments identified, probes run): one line each; exit status 1 if any fails.
    Check {
        #[arg(long)]
        bench: PathBuf,
    },
}

#[derive(Subcommand)]
pub(crate) enum PkiCommand {
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
pub(crate) enum ReportCommand {
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
pub(crate) struct SelectArgs {
    /// Run cases whose id contains one of these (libtest style).
    pub(crate) filters: Vec<String>,
    /// Filters must match the whole id.
    #[arg(long)]
    pub(crate) exact: bool,
    /// Leave out cases whose id contains this (repeatable).
    #[arg(long)]
    pub(crate) skip: Vec<String>,
    /// Only cases where the harness plays this role: csms | charging-station.
    #[arg(long)]
    pub(crate) role: Option<Role>,
    /// Only cases for this OCPP version, run at it: 1.6 | 2.0.1 | 2.1.
    #[arg(long = "ocpp")]
    pub(crate) version: Option<OcppVersion>,
    /// Only cases of this certification profile (repeatable): core, local-auth-list...
    #[arg(long = "profile")]
    pub(crate) profiles: Vec<String>,
    /// Only cases of this functional block (repeatable): B, C, E, F, G, J, P, RPC...
    #[arg(long = "block")]
    pub(crate) blocks: Vec<String>,
    /// Only shard K of N: `hash:K/N` (each case falls in exactly one shard).
    #[arg(long)]
    pub(crate) partition: Option<ocpp_harness::select::Partition>,
    /// Suite components to load (default: the built-in suites).
    #[arg(long = "suite")]
    pub(crate) suites: Vec<PathBuf>,
    /// Where compiled components are cached (default: $XDG_CACHE_HOME/ocpp-harness).
    #[arg(long)]
    pub(crate) cache_dir: Option<PathBuf>,
    /// Compile every component afresh.
    #[arg(long)]
    pub(crate) no_cache: bool,
}

#[derive(Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    pub(crate) select: SelectArgs,
    /// Print JSON metadata instead of libtest's `id: test` lines.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) select: SelectArgs,
    /// List the selected cases instead of running them (libtest's --list).
    #[arg(long)]
    pub(crate) list: bool,
    /// CSMS DUT to connect to, e.g. ws://10.0.0.5:9000/ocpp (cases where the harness is a
    /// station): the station id is appended, or put where `{station}` stands
    /// (ws://10.0.0.5:9000/ws/ocpp/{station}/).
    #[arg(long)]
    pub(crate) csms_url: Option<String>,
    /// Address to accept the station DUT on, e.g. 0.0.0.0:9000 (cases where the harness is the CSMS).
    #[arg(long)]
    pub(crate) listen: Option<SocketAddr>,
    /// Inject a fault into the built-in DUT (repeatable), e.g. no-answer:Heartbeat.
    #[arg(long = "fault")]
    pub(crate) faults: Vec<Fault>,
    /// Make the built-in DUTs behave in a legal but unusual or strict way (repeatable; each
    /// applies to the side it is for, see README "Legal variants"). Every case must still pass.
    #[arg(long = "variant", value_parser = variant())]
    pub(crate) variants: Vec<ocpp_sim::variant::Variant>,
    /// Station id the DUT uses (or the harness uses as a station).
    #[arg(long, default_value = "CS001")]
    pub(crate) station_id: String,
    /// DUT description (TOML): side, versions, profiles, features, parameters. Cases that do
    /// not apply to the declared DUT are skipped with the reason.
    #[arg(long)]
    pub(crate) dut: Option<PathBuf>,
    /// Bench description (TOML): the driver of each capability (command, operator) and the
    /// safe-state command. Without it, only the built-in DUTs' simulator drives the bench.
    /// The run first checks every driver (as `bench check`) and refuses to start on a dead one.
    #[arg(long)]
    pub(crate) bench: Option<PathBuf>,
    /// Start even when `bench check` finds a driver that does not answer (its cases will fail
    /// or be inconclusive).
    #[arg(long, requires = "bench")]
    pub(crate) ignore_bench_check: bool,
    /// Largest OCPP-J message accepted from the DUT, in bytes (default 4 MiB); a larger one
    /// ends the connection and fails the case with the reason.
    #[arg(long)]
    pub(crate) max_message_bytes: Option<usize>,
    /// Security profile for the built-in DUTs: 0 (none), 1 (Basic auth), 2 (TLS + Basic auth),
    /// 3 (TLS with client certificates); a fresh PKI and password are made for the run. An
    /// external DUT's profile comes from the `[security]` table of its description.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=3))]
    pub(crate) security_profile: Option<u8>,
    /// A test PKI directory (`pki init`) whose CA signs the certificates an external station
    /// asks for (SignCertificate), whatever the security profile; the `[security]` table of
    /// the description takes precedence.
    #[arg(long)]
    pub(crate) pki: Option<PathBuf>,
    /// Exit non-zero when a selected case did not run to a verdict (skipped or inconclusive):
    /// for CI that must see every case run, e.g. to notice an unwired bench.
    #[arg(long)]
    pub(crate) fail_on_skip: bool,
    /// Exit 0 even when cases are inconclusive or were not run (a lost baseline, a state the
    /// DUT could not be brought to): by default a verdict missing is a failing exit.
    #[arg(long)]
    pub(crate) allow_inconclusive: bool,
    /// Built-in DUTs: start the reference station afresh for every case, instead of once per
    /// version for the whole run (the way a real station lives, with the baseline restored
    /// between cases).
    #[arg(long)]
    pub(crate) fresh_dut: bool,
    /// Built-in DUTs: run this many cases at a time, each worker with its own reference station
    /// and CSMS, so that one case's timers do not hold up the rest (default 1; 2 on 2 cores
    /// keeps every verdict, more lose some to timing for now). A real DUT is one device: always
    /// one worker.
    #[arg(long)]
    pub(crate) jobs: Option<usize>,
    /// Directory for junit.xml and results.json.
    #[arg(long, default_value = "reports")]
    pub(crate) reports: PathBuf,
    /// Write the JUnit XML here instead of <reports>/junit.xml.
    #[arg(long)]
    pub(crate) junit: Option<PathBuf>,
}

#[derive(Subcommand)]
pub(crate) enum SimCommand {
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
        /// A legal but unusual behaviour (repeatable; the station's ones).
        #[arg(long = "variant", value_parser = variant())]
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
        /// A legal but strict or unusual behaviour (repeatable; the CSMS's ones).
        #[arg(long = "variant", value_parser = variant())]
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
pub(crate) struct SimSecurity {
    /// 0 (none), 1 (Basic auth), 2 (TLS + Basic auth), 3 (TLS with client certificates).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=3))]
    pub(crate) security_profile: u8,
    /// The Basic-auth password (profiles 1 and 2); the CSMS takes it from every station.
    #[arg(long)]
    pub(crate) password: Option<String>,
    /// A directory from `pki init` (profiles 2 and 3).
    #[arg(long)]
    pub(crate) pki: Option<PathBuf>,
}

impl SimSecurity {
    pub(crate) fn load(&self, station_id: &str) -> anyhow::Result<ocpp_core::security::Security> {
        let c = ocpp_core::security::SecurityConfig { profile: self.security_profile, password: self.password.clone(), password_env: None, pki: self.pki.clone() };
        ocpp_core::security::Security::load(&c, std::path::Path::new("."), station_id)
    }
}

/// `--variant`: one of the reference DUTs' legal variants, listed in `--help`.
fn variant() -> impl clap::builder::TypedValueParser<Value = ocpp_sim::variant::Variant> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(ocpp_sim::variant::Variant::ALL.map(|(_, name)| name))
        .map(|name| name.parse().expect("a name from Variant::ALL"))
}
