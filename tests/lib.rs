//! Shared set-up for the harness's own tests: one tokio runtime, one wasmtime host and the
//! built-in suite, loaded once per test binary.
use std::sync::{Arc, OnceLock};

use ocpp_sim::{Fault, Faults};
use ocpp_report::CaseResult;
use ocpp_harness::{host::{Host, Suite}, runner::{Dut, RunOptions, Runner}};
use ocpp_core::security::Security;

pub struct World {
    pub rt: tokio::runtime::Runtime,
    pub host: Arc<Host>,
    pub suite: Suite,
}

pub fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
        let cache = std::env::temp_dir().join("ocpp-harness-test-cache");
        let host = Host::new(Some(cache)).expect("wasmtime host");
        let (name, bytes) = ocpp_harness::builtin::suites()[0];
        let suite = rt.block_on(host.load_suite(name, bytes)).expect("built-in suite loads");
        World { rt, host: Arc::new(host), suite }
    })
}

impl World {
    /// Run one case of the built-in suite against the built-in DUT with these faults.
    pub fn run(&self, id: &str, faults: &[Fault]) -> anyhow::Result<CaseResult> {
        self.run_in(&self.suite, id, faults)
    }

    /// Run one case of any loaded suite against the built-in DUT with these faults.
    pub fn run_in(&self, suite: &Suite, id: &str, faults: &[Fault]) -> anyhow::Result<CaseResult> {
        let opts = RunOptions { dut: Dut::BuiltIn { faults: Faults::new(faults.to_vec()) }, fresh_dut: true, ..Default::default() };
        self.run_with(suite, id, opts)
    }

    /// Run one case of the built-in suite at a security profile (one PKI and password per
    /// profile for the whole test binary).
    pub fn run_at(&self, id: &str, faults: &[Fault], profile: u8) -> anyhow::Result<CaseResult> {
        self.run_at_version(id, faults, profile, None)
    }

    /// Like `run_at` at profile 0, against the built-in DUT with `variants`, living for the
    /// case (its configuration read first, as in a run), with what a lab's DUT description
    /// says of such a station (the EVSE under test of `two-evses`).
    pub fn run_variants(&self, id: &str, faults: &[Fault], variants: &[ocpp_sim::variant::Variant]) -> anyhow::Result<CaseResult> {
        let mut opts = RunOptions { dut: Dut::BuiltIn { faults: Faults::new(faults.to_vec()) }, security: security(0)?, ..Default::default() };
        opts.with_variants(variants)?;
        self.run_with(&self.suite, id, opts)
    }

    /// Like `run_at`, at `version` (None: the case's first).
    pub fn run_at_version(&self, id: &str, faults: &[Fault], profile: u8, version: Option<ocpp_core::version::OcppVersion>) -> anyhow::Result<CaseResult> {
        let opts = RunOptions { dut: Dut::BuiltIn { faults: Faults::new(faults.to_vec()) }, fresh_dut: true, security: security(profile)?, version, ..Default::default() };
        self.run_with(&self.suite, id, opts)
    }
}

/// The run settings at `profile`, made once per test binary.
pub fn security(profile: u8) -> anyhow::Result<Security> {
    ocpp_harness::proof::security(profile, "CS001")
}

impl World {

    /// Run `cases` one after another with one runner (so the DUTs live across them, as in a
    /// run); the results and what the run saw of the stations.
    pub fn run_in_order(&self, opts: RunOptions, cases: &[ocpp_core::case::CaseMeta]) -> anyhow::Result<(Vec<CaseResult>, Vec<ocpp_report::StationSummary>)> {
        self.rt.block_on(async {
            let runner = Runner::new(self.host.clone(), opts).await?;
            let mut results = vec![];
            for c in cases {
                results.push(runner.run_case(&self.suite, c).await);
            }
            Ok((results, runner.stations().await))
        })
    }

    /// Run one case with any options (e.g. an external DUT).
    pub fn run_with(&self, suite: &Suite, id: &str, opts: RunOptions) -> anyhow::Result<CaseResult> {
        let meta = suite.cases.iter().find(|c| c.id == id).ok_or_else(|| anyhow::anyhow!("no case {id} in suite {}", suite.name))?.clone();
        self.rt.block_on(async {
            let runner = Runner::new(self.host.clone(), opts).await?;
            Ok(runner.run_case(suite, &meta).await)
        })
    }
}
