//! Runs cases: picks the version, brings up the DUT side (built-in reference DUT per case, or
//! the external one), runs the guest under its deadline, and folds the host's own
//! observations into the verdict.
use std::{net::SocketAddr, sync::Arc, time::{Duration, Instant}};

use serde::Serialize;

use crate::{
    bench::Bench,
    description::DutDescription,
    case::{CaseMeta, Role, Verdict},
    dut::{self, Faults},
    host::{CaseContext, Endpoint, GuestOutcome, Host, RunConfig, Suite},
    trace::{Trace, TraceData},
    transport::Listener,
    version::OcppVersion,
};

/// Which device the cases run against.
#[derive(Debug, Clone)]
pub enum Dut {
    /// The reference DUTs, started fresh for every case, with these faults injected.
    BuiltIn { faults: Faults },
    /// A real device: a CSMS at `csms_url`, and/or stations that connect to `listen`.
    External { csms_url: Option<String>, listen: Option<SocketAddr> },
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub dut: Dut,
    pub config: RunConfig,
    /// Run every case at this version (cases that do not support it are not selected).
    pub version: Option<OcppVersion>,
    /// What the DUT declares; cases that do not apply are skipped. None: everything applies
    /// (the built-in DUTs implement every profile and feature the catalogue uses).
    pub description: Option<DutDescription>,
    /// The bench's drivers; None: the simulator only (built-in DUTs) or nothing.
    pub bench: Option<crate::bench::config::BenchConfig>,
    /// Security profile and material (from `--security-profile` for the built-in DUTs, or the
    /// DUT description's `[security]`).
    pub security: crate::security::Security,
}

impl RunOptions {
    /// Take the run parameters a DUT description declares.
    pub fn describe(&mut self, d: DutDescription) {
        if let Some(id) = &d.station_id {
            self.config.station_id = id.clone();
        }
        if let Some(t) = &d.valid_id_tokens {
            self.config.valid_id_tokens = t.clone();
        }
        if let Some(t) = &d.invalid_id_token {
            self.config.invalid_id_token = t.clone();
        }
        self.config.parameters.extend(d.parameters.clone());
        self.description = Some(d);
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            dut: Dut::BuiltIn { faults: Faults::default() },
            config: RunConfig {
                station_id: "CS001".into(),
                valid_id_tokens: vec!["TOKEN-1".into(), "TOKEN-2".into()],
                invalid_id_token: "UNKNOWN-9".into(),
                parameters: Default::default(),
            },
            version: None,
            description: None,
            bench: None,
            security: Default::default(),
        }
    }
}

#[derive(Debug, Serialize, serde::Deserialize)]
pub struct CaseResult {
    pub meta: CaseMeta,
    pub version: OcppVersion,
    #[serde(flatten)]
    pub verdict: Verdict,
    pub reason: String,
    pub duration_ms: f64,
    pub trace: TraceData,
}

impl CaseResult {
    /// A suite that could not be loaded, reported as an error entry named after it.
    pub fn suite_error(suite: &str, reason: &str) -> CaseResult {
        let stem = std::path::Path::new(suite).file_stem().and_then(|s| s.to_str()).unwrap_or(suite);
        let id: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
        let meta = CaseMeta {
            suite: suite.to_string(),
            id: format!("SUITE_{id}"),
            title: format!("load the suite {suite}"),
            versions: vec![],
            role: crate::case::Role::Csms,
            profile: "core".into(),
            features: vec![],
            requirements: vec![],
            needs: vec![],
            timeout_ms: 0,
        };
        let verdict = Verdict::Error(format!("suite {suite} could not be loaded: {reason}"));
        CaseResult { meta, version: OcppVersion::V201, reason: verdict.reason(), verdict, duration_ms: 0.0, trace: TraceData::default() }
    }
}

/// Extra time the host allows past a case's own timeout before it cuts the case off.
const GRACE: Duration = Duration::from_secs(2);

pub struct Runner {
    pub host: Arc<Host>,
    pub opts: RunOptions,
    /// For an external station DUT: one listener for the whole run.
    listener: Option<Arc<Listener>>,
}

impl Runner {
    pub async fn new(host: Arc<Host>, opts: RunOptions) -> anyhow::Result<Runner> {
        let listener = match &opts.dut {
            Dut::External { listen: Some(addr), .. } => Some(Arc::new(Listener::bind(*addr).await.map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?)),
            _ => None,
        };
        Ok(Runner { host, opts, listener })
    }

    /// The version a case runs at, or None if it does not support the requested one.
    pub fn version_for(&self, meta: &CaseMeta) -> Option<OcppVersion> {
        match self.opts.version {
            Some(v) => meta.versions.contains(&v).then_some(v),
            None => meta.versions.first().copied(),
        }
    }

    pub async fn run_case(&self, suite: &Suite, meta: &CaseMeta) -> CaseResult {
        self.run_case_traced(suite, meta, &Trace::new()).await
    }

    /// Run a case into a trace the caller holds, so that what a case did so far can still be
    /// reported when the run is interrupted (see [`Runner::interrupted`]).
    pub async fn run_case_traced(&self, suite: &Suite, meta: &CaseMeta, trace: &Trace) -> CaseResult {
        let version = self.version_for(meta).unwrap_or(OcppVersion::V201);
        let verdict = self.run_inner(suite, meta, version, trace).await;
        let verdict = verdict.with_violations(&trace.violations());
        self.result(meta, version, verdict, trace)
    }

    /// The result of a case cut short by a signal: an error, with its trace so far.
    pub fn interrupted(&self, meta: &CaseMeta, trace: &Trace, signal: &str) -> CaseResult {
        let version = self.version_for(meta).unwrap_or(OcppVersion::V201);
        trace.log("error", format!("run interrupted by {signal}"));
        self.result(meta, version, Verdict::Error(format!("the run was interrupted by {signal} while this case ran")), trace)
    }

    fn result(&self, meta: &CaseMeta, version: OcppVersion, verdict: Verdict, trace: &Trace) -> CaseResult {
        // The guest wrote the verdict: it may quote a password it saw.
        let verdict = verdict.scrubbed();
        let reason = verdict.reason();
        CaseResult { meta: meta.clone(), version, verdict, reason, duration_ms: trace.elapsed_ms(), trace: trace.snapshot() }
    }

    async fn run_inner(&self, suite: &Suite, meta: &CaseMeta, version: OcppVersion, trace: &Trace) -> Verdict {
        if let Some(reason) = self.opts.description.as_ref().and_then(|d| d.applies(meta, version).err()) {
            return Verdict::Skip(reason);
        }
        // The DUT side lives as long as this guard.
        let mut dut_task: Option<tokio::task::JoinHandle<()>> = None;
        let mut bench = Bench::none();
        let security = &self.opts.security;
        let serve = || security.serve(crate::security::pki::Variant::Configured).map_err(|e| Verdict::Error(format!("cannot set up security profile {}: {e}", security.profile)));
        let endpoint = match (&self.opts.dut, meta.role) {
            (Dut::BuiltIn { faults }, Role::Csms) => {
                let listener = match Listener::bind("127.0.0.1:0".parse().unwrap()).await {
                    Ok(l) => Arc::new(l),
                    Err(e) => return Verdict::Error(format!("cannot open a listener on loopback: {e}")),
                };
                listener.begin_case(trace.clone(), vec![version]);
                match serve() {
                    Ok(s) => listener.secure(s),
                    Err(v) => return v,
                }
                // A station with fault no-tls dials ws:// whatever the profile.
                let url = if faults.has(&dut::Fault::NoTls) { listener.url().replacen("wss://", "ws://", 1) } else { listener.url() };
                let mut cfg = dut::station::StationConfig::new(url, &self.opts.config.station_id, version);
                cfg.security = match dut::station::StationSecurity::for_run(security, &self.opts.config.station_id, faults) {
                    Ok(s) => s,
                    Err(e) => return Verdict::Error(format!("cannot set up the reference station's security: {e:#}")),
                };
                cfg.faults = faults.clone();
                cfg.evses = self.opts.description.as_ref().and_then(|d| d.evses).unwrap_or(1);
                let (handle, task) = dut::station::spawn(cfg);
                dut_task = Some(task);
                bench = Bench::sim_station(handle);
                Endpoint::Listener(listener)
            }
            (Dut::BuiltIn { faults }, Role::ChargingStation) => {
                let sec = match dut::csms::CsmsSecurity::for_run(security, &self.opts.config.station_id, faults) {
                    Ok(s) => s,
                    Err(e) => return Verdict::Error(format!("cannot set up the reference CSMS's security: {e:#}")),
                };
                let cfg = dut::csms::CsmsConfig {
                    versions: vec![version],
                    faults: faults.clone(),
                    valid_id_tokens: self.opts.config.valid_id_tokens.clone(),
                    security: sec,
                    ..Default::default()
                };
                match dut::csms::start("127.0.0.1:0".parse().unwrap(), cfg).await {
                    Ok((addr, handle, task)) => {
                        dut_task = Some(task);
                        bench = Bench::sim_csms(handle, &self.opts.config.station_id);
                        Endpoint::CsmsUrl(format!("{}://{addr}/ocpp", security.scheme()))
                    }
                    Err(e) => return Verdict::Error(format!("cannot start the built-in CSMS: {e}")),
                }
            }
            (Dut::External { .. }, Role::Csms) => match &self.listener {
                Some(l) => {
                    l.begin_case(trace.clone(), vec![version]);
                    match serve() {
                        Ok(s) => l.secure(s),
                        Err(v) => return v,
                    }
                    Endpoint::Listener(l.clone())
                }
                None => return Verdict::Skip("the harness plays the CSMS here, but no --listen address was given for the station DUT".into()),
            },
            (Dut::External { csms_url, .. }, Role::ChargingStation) => match csms_url {
                Some(url) => Endpoint::CsmsUrl(url.clone()),
                None => return Verdict::Skip("the harness plays a charging station here, but no --csms-url was given for the CSMS DUT".into()),
            },
        };
        if let Some(c) = &self.opts.bench {
            bench = bench.with_config(c);
        }
        if let Some(reason) = bench.missing(&meta.needs) {
            if let Some(t) = dut_task {
                t.abort();
            }
            return Verdict::Skip(reason);
        }
        let ctx = Arc::new(CaseContext { trace: trace.clone(), started: Instant::now(), config: self.opts.config.clone(), version, endpoint, bench, security: security.clone() });
        let limit = Duration::from_millis(u64::from(meta.timeout_ms)) + GRACE;
        let outcome = self.host.run_case(suite, &meta.id, ctx.clone(), limit).await;
        // Whatever happened to the case, the bench goes back to a safe state.
        ctx.bench.safe_state(trace).await;
        if let Some(t) = dut_task {
            t.abort();
        }
        match outcome {
            GuestOutcome::Verdict(v) => v,
            GuestOutcome::Error(e) => Verdict::Error(e),
        }
    }
}
