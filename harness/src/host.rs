//! The wasmtime host: compiles (and caches) suite components, gives each case a fresh
//! instance with its own store, memory limit and deadline, and implements the WIT imports on
//! top of `session`, `transport` and the case's trace.
use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context as _, anyhow};
use serde_json::Value;
use sha2::{Digest, Sha256};
use wasmtime::{
    Engine, Store, StoreLimits, StoreLimitsBuilder, UpdateDeadline,
    component::{Component, HasSelf, Linker, Resource, ResourceTable},
};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView, p2::pipe::MemoryOutputPipe};

use ocpp_core::{case::{CaseMeta, Role, Verdict}, session::{self as sess, Connection}, trace::Trace, transport::Listener, version::OcppVersion};

wasmtime::component::bindgen!({
    path: "../wit",
    world: "test-suite",
    imports: { default: async | trappable },
    exports: { default: async },
    with: { "ocpp:harness/session.connection": ocpp_core::session::Connection },
});

use ocpp::harness::{bench, config, log, session, types};

/// Parameters a case can read through the `config` import.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RunConfig {
    pub station_id: String,
    pub valid_id_tokens: Vec<String>,
    pub invalid_id_token: String,
    pub parameters: std::collections::BTreeMap<String, String>,
    /// The lab's timing for the DUT.
    pub timing: crate::description::Timing,
    /// EVSEs (1.6: connectors) of a station DUT, from its description.
    pub evses: u32,
}

/// Where the case reaches its DUT.
pub enum Endpoint {
    /// Harness as CSMS: stations connect to this listener.
    Listener(Arc<Listener>),
    /// Harness as charging station: the CSMS DUT's base URL.
    CsmsUrl(String),
    /// Listing cases: no DUT at all.
    None,
}

pub struct CaseContext {
    pub trace: Trace,
    pub started: Instant,
    pub config: RunConfig,
    /// The version the case runs at.
    pub version: OcppVersion,
    pub endpoint: Endpoint,
    /// Drivers for the capabilities the case may use.
    pub bench: ocpp_bench::Bench,
    /// The run's security profile and material.
    pub security: ocpp_core::security::Security,
    /// Harness as station: what the case left open at the CSMS, wound up after it.
    pub leftovers: std::sync::Mutex<crate::leftovers::Leftovers>,
    /// Harness as station: the station the harness plays for the whole run.
    pub own_station: Arc<crate::own_station::OwnStation>,
    /// Harness as CSMS: part 6's configuration state of the case, made once the station is
    /// ready for it.
    pub configuration: crate::configuration::State,
}

impl CaseContext {
    /// Part 6's configuration state of the case, made on `conn` the first time the case asks
    /// for the station; what cannot be made refuses the request (the runner then gives the
    /// case the verdict `configuration::State::unmet` holds).
    async fn configured(&self, conn: &Connection) -> Result<(), session::SessionError> {
        let timeout = Duration::from_millis(u64::from(self.config.timing.response_ms));
        self.configuration.apply(conn, timeout).await.map_err(session::SessionError::Refused)
    }

    /// How the harness station dials `url` at `version` with `security`, in this case.
    pub fn dial<'a>(&'a self, url: &'a str, version: OcppVersion, security: &'a ocpp_core::security::Security) -> crate::own_station::Dial<'a> {
        station_dial(&self.config, url, version, security, &self.trace)
    }
}

/// How the harness station dials `url`: the reconnect gap is the DUT description's
/// `retry-back-off-wait-minimum-s` (1 s without one).
pub fn station_dial<'a>(config: &'a RunConfig, url: &'a str, version: OcppVersion, security: &'a ocpp_core::security::Security, trace: &'a Trace) -> crate::own_station::Dial<'a> {
    let gap_s = config.parameters.get("retry-back-off-wait-minimum-s").and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(1);
    crate::own_station::Dial {
        url,
        station_id: &config.station_id,
        version,
        security,
        timing: config.timing,
        evses: config.evses,
        gap: Duration::from_secs(gap_s),
        trace,
    }
}

pub struct CaseHost {
    table: ResourceTable,
    wasi: WasiCtx,
    limits: StoreLimits,
    ctx: Arc<CaseContext>,
    /// The case's OCSP responder, once an ISO 15118 case asked for one.
    ocsp: Option<crate::ocsp_service::OcspService>,
}

impl WasiView for CaseHost {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// Limits every case runs under.
#[derive(Debug, Clone)]
pub struct GuestLimits {
    /// Linear memory per instance.
    pub memory_bytes: usize,
}

impl Default for GuestLimits {
    fn default() -> Self {
        Self { memory_bytes: 256 << 20 }
    }
}

/// One engine and linker for a whole run; suites compiled with it share them.
pub struct Host {
    engine: Engine,
    linker: Linker<CaseHost>,
    cache_dir: Option<PathBuf>,
    pub limits: GuestLimits,
}

pub struct Suite {
    pub name: String,
    pre: TestSuitePre<CaseHost>,
    pub cases: Vec<CaseMeta>,
    /// Time spent compiling (or loading from the cache) the component.
    pub load_time: Duration,
    pub from_cache: bool,
    /// SHA-256 of the component, hex: which cases exactly, for the report.
    pub sha256: String,
}

/// The outcome of running a guest's `run` export, before host-side checks are applied.
pub enum GuestOutcome {
    Verdict(Verdict),
    /// The guest trapped, ran out of time or could not be instantiated.
    Error(String),
}

/// Advance the engine's epoch every 10 ms so running guests yield to tokio (and can be timed
/// out); the thread ends with the engine.
fn epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("wasm-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
        .expect("spawning the epoch thread");
}

impl Host {
    pub fn new(cache_dir: Option<PathBuf>) -> anyhow::Result<Host> {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true).epoch_interruption(true);
        let engine = Engine::new(&config).map_err(|e| anyhow!("{e:#}"))?;
        epoch_ticker(&engine);
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| anyhow!("{e:#}"))?;
        TestSuite::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s).map_err(|e| anyhow!("{e:#}"))?;
        Ok(Host { engine, linker, cache_dir, limits: GuestLimits::default() })
    }

    /// Compile a component (or load it from the on-disk cache) and list its cases.
    pub async fn load_suite(&self, name: &str, bytes: &[u8]) -> anyhow::Result<Suite> {
        let t0 = Instant::now();
        let (component, from_cache) = self.compile(bytes).with_context(|| format!("suite {name}: not a loadable component"))?;
        let pre = self.linker.instantiate_pre(&component).map_err(|e| anyhow!("suite {name}: imports do not match the ocpp:harness world: {e:#}"))?;
        let pre = TestSuitePre::new(pre).map_err(|e| anyhow!("suite {name}: exports do not match the ocpp:harness world: {e:#}"))?;
        let load_time = t0.elapsed();
        let sha256 = Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
        let mut suite = Suite { name: name.to_string(), pre, cases: vec![], load_time, from_cache, sha256 };
        let ctx = Arc::new(CaseContext { trace: Trace::new(), started: Instant::now(), config: RunConfig::default(), version: OcppVersion::V201, endpoint: Endpoint::None, bench: ocpp_bench::Bench::none(), security: Default::default(), leftovers: Default::default(), own_station: Default::default(), configuration: Default::default() });
        let (mut store, _output) = self.store(ctx);
        let instance = suite.pre.instantiate_async(&mut store).await.map_err(|e| anyhow!("suite {name}: instantiation failed: {e:#}"))?;
        let listing = tokio::time::timeout(Duration::from_secs(10), instance.ocpp_harness_suite().call_cases(&mut store))
            .await
            .map_err(|_| anyhow!("suite {name}: cases() did not return within 10 s"))?
            .map_err(|e| anyhow!("suite {name}: cases() trapped: {e:#}"))?;
        suite.cases = listing.into_iter().map(|m| meta_from_wit(m, name)).collect();
        Ok(suite)
    }

    pub async fn load_suite_file(&self, path: &Path) -> anyhow::Result<Suite> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("suite").to_string();
        self.load_suite(&name, &bytes).await
    }

    fn compile(&self, bytes: &[u8]) -> anyhow::Result<(Component, bool)> {
        let new = |bytes: &[u8]| Component::new(&self.engine, bytes).map_err(|e| anyhow!("{e:#}"));
        let Some(dir) = &self.cache_dir else {
            return Ok((new(bytes)?, false));
        };
        let mut h = Sha256::new();
        h.update(bytes);
        let mut compat = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&self.engine.precompile_compatibility_hash(), &mut compat);
        h.update(std::hash::Hasher::finish(&compat).to_le_bytes());
        let key: String = h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect();
        let path = dir.join(format!("{key}.cwasm"));
        if path.exists() {
            // SAFETY: the file was written by `Component::serialize` of an engine with the same
            // compatibility hash (it is part of the key), in a directory only the harness writes.
            match unsafe { Component::deserialize_file(&self.engine, &path) } {
                Ok(c) => return Ok((c, true)),
                Err(e) => tracing::warn!("ignoring unusable cache entry {}: {e}", path.display()),
            }
        }
        let component = new(bytes)?;
        if std::fs::create_dir_all(dir).is_ok() {
            let tmp = dir.join(format!("{key}.{}.tmp", std::process::id()));
            if let Ok(data) = component.serialize() {
                if std::fs::write(&tmp, data).is_ok() {
                    let _ = std::fs::rename(&tmp, &path);
                }
            }
        }
        Ok((component, false))
    }

    fn store(&self, ctx: Arc<CaseContext>) -> (Store<CaseHost>, MemoryOutputPipe) {
        let output = MemoryOutputPipe::new(64 * 1024);
        let wasi = WasiCtx::builder().stdout(output.clone()).stderr(output.clone()).allow_tcp(false).allow_udp(false).allow_ip_name_lookup(false).build();
        let limits = StoreLimitsBuilder::new().memory_size(self.limits.memory_bytes).instances(64).tables(64).trap_on_grow_failure(true).build();
        let mut store = Store::new(&self.engine, CaseHost { table: ResourceTable::new(), wasi, limits, ctx, ocsp: None });
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));
        (store, output)
    }

    /// Run one case in a fresh instance, bounded by `limit`.
    pub async fn run_case(&self, suite: &Suite, id: &str, ctx: Arc<CaseContext>, limit: Duration) -> GuestOutcome {
        let trace = ctx.trace.clone();
        let (mut store, output) = self.store(ctx);
        let run = async {
            let instance = suite.pre.instantiate_async(&mut store).await.map_err(|e| format!("instantiation failed: {e:#}"))?;
            instance.ocpp_harness_suite().call_run(&mut store, id).await.map_err(|e| format!("the case trapped: {e:#}"))
        };
        let outcome = match tokio::time::timeout(limit, run).await {
            Ok(Ok(v)) => GuestOutcome::Verdict(verdict_from_wit(v)),
            Ok(Err(e)) => GuestOutcome::Error(e),
            // Cut off while waiting on the DUT: the DUT did not do in time what the case waited
            // for, a failure that names the wait; otherwise the case itself overran.
            Err(_) => match trace.current_wait() {
                Some((what, waited)) => GuestOutcome::Verdict(Verdict::Fail {
                    requirement: None,
                    expected: format!("{what} within the case's time limit of {} ms", limit.as_millis()),
                    observed: format!("still waiting after {} ms when the limit was reached", waited.as_millis()),
                }),
                None => GuestOutcome::Error(format!("the case did not finish within its timeout of {} ms", limit.as_millis())),
            },
        };
        drop(store); // closes every connection the case still held
        let out = String::from_utf8_lossy(&output.contents()).trim_end().to_string();
        if !out.is_empty() {
            trace.log("guest", out.clone());
            if let GuestOutcome::Error(e) = outcome {
                return GuestOutcome::Error(format!("{e}\nguest output:\n{}", output_summary(&out)));
            }
        }
        outcome
    }
}

// ---- conversions between the WIT types and the host's own ----

impl From<types::OcppVersion> for OcppVersion {
    fn from(v: types::OcppVersion) -> Self {
        match v {
            types::OcppVersion::V16 => OcppVersion::V16,
            types::OcppVersion::V201 => OcppVersion::V201,
            types::OcppVersion::V21 => OcppVersion::V21,
        }
    }
}

impl From<OcppVersion> for types::OcppVersion {
    fn from(v: OcppVersion) -> Self {
        match v {
            OcppVersion::V16 => types::OcppVersion::V16,
            OcppVersion::V201 => types::OcppVersion::V201,
            OcppVersion::V21 => types::OcppVersion::V21,
        }
    }
}

/// A case's metadata as the guest declared it, in `suite`.
fn meta_from_wit(m: types::CaseMeta, suite: &str) -> CaseMeta {
    CaseMeta {
        suite: suite.to_string(),
        id: m.id,
        title: m.title,
        versions: m.versions.into_iter().map(Into::into).collect(),
        role: match m.role {
            types::Role::Csms => Role::Csms,
            types::Role::ChargingStation => Role::ChargingStation,
        },
        profile: m.profile,
        features: m.features,
        requirements: m.requirements,
        needs: m.needs,
        timeout_ms: m.timeout_ms,
        deviations: m.deviations,
    }
}

/// A verdict as the guest returned it.
fn verdict_from_wit(v: types::Verdict) -> Verdict {
    match v {
        types::Verdict::Pass => Verdict::Pass,
        types::Verdict::Fail(f) => Verdict::Fail { requirement: f.requirement, expected: f.expected, observed: f.observed },
        types::Verdict::Skip(r) => Verdict::Skip(r),
        types::Verdict::Inconclusive(r) => Verdict::Inconclusive(r),
    }
}

fn to_wit_error(e: sess::SessionError) -> session::SessionError {
    match e {
        sess::SessionError::Timeout(m) => session::SessionError::Timeout(m),
        sess::SessionError::Closed(m) => session::SessionError::Closed(m),
        sess::SessionError::Protocol(m) => session::SessionError::Protocol(m),
        sess::SessionError::Usage(m) => session::SessionError::Usage(m),
        sess::SessionError::Refused(m) => session::SessionError::Refused(m),
    }
}

fn parse_json(what: &str, text: &str) -> Result<Value, session::SessionError> {
    serde_json::from_str(text).map_err(|e| session::SessionError::Usage(format!("{what} is not JSON: {e}")))
}

/// Time a wait and book it to the case's trace: DUT waits that ended in a timeout were the
/// case waiting out a period on purpose (`timeout_is_timer`), e.g. checking for silence.
async fn timed<T>(trace: &Trace, timeout_is_timer: bool, what: &str, f: impl Future<Output = Result<T, sess::SessionError>>) -> Result<T, sess::SessionError> {
    let t0 = Instant::now();
    trace.begin_wait(what);
    let r = f.await;
    trace.end_wait();
    let kind = match &r {
        Err(sess::SessionError::Timeout(_)) if timeout_is_timer => ocpp_core::trace::WaitKind::Timer,
        _ => ocpp_core::trace::WaitKind::Dut,
    };
    trace.waited(kind, t0.elapsed());
    r
}

fn ms(v: u32) -> Duration {
    Duration::from_millis(u64::from(v))
}

type SessResult<T> = wasmtime::Result<Result<T, session::SessionError>>;

// ---- the imports ----

impl types::Host for CaseHost {}

impl session::Host for CaseHost {
    async fn accept_station(&mut self, timeout_ms: u32, claim: Vec<String>) -> SessResult<Resource<Connection>> {
        let Endpoint::Listener(listener) = &self.ctx.endpoint else {
            return Ok(Err(session::SessionError::Usage("accept-station needs the harness in the CSMS role".into())));
        };
        let timeout = ms(timeout_ms).max(ms(self.ctx.config.timing.connect_ms));
        match timed(&self.ctx.trace, false, "the station to connect", listener.clone().accept(timeout)).await {
            Ok(conn) => {
                conn.adopt(&claim);
                Ok(Ok(self.table.push(conn)?))
            }
            Err(e) => Ok(Err(to_wit_error(e))),
        }
    }

    async fn ready_station(&mut self, claim: Vec<String>) -> SessResult<Resource<Connection>> {
        let Endpoint::Listener(listener) = &self.ctx.endpoint else {
            return Ok(Err(session::SessionError::Usage("ready-station needs the harness in the CSMS role".into())));
        };
        let (trace, timing) = (self.ctx.trace.clone(), self.ctx.config.timing);
        match timed(&trace, false, "the station to be ready", crate::states::ready(listener, &claim, &timing, self.ctx.config.evses, &trace)).await {
            Ok(conn) => {
                // A station that first registered in this case: its configuration is read now,
                // so the case judges it by its own (TxStartPoint…), not by defaults.
                crate::runner::take_inventory(listener, self.ctx.version, ms(timing.response_ms), &trace).await;
                match self.ctx.configured(&conn).await {
                    Ok(()) => Ok(Ok(self.table.push(conn)?)),
                    Err(e) => Ok(Err(e)),
                }
            }
            Err(e) => Ok(Err(to_wit_error(e))),
        }
    }

    async fn reach_station(&mut self, state: session::StationState, evse: u32, claim: Vec<String>) -> SessResult<session::Reached> {
        use crate::states::StationState as S;
        let Endpoint::Listener(listener) = &self.ctx.endpoint else {
            return Ok(Err(session::SessionError::Usage("reach-station needs the harness in the CSMS role".into())));
        };
        let state = match state {
            session::StationState::EvConnectedPreSession => S::EvConnectedPreSession,
            session::StationState::Authorized => S::Authorized,
            session::StationState::EnergyTransferStarted => S::EnergyTransferStarted,
            session::StationState::EnergyTransferSuspended => S::EnergyTransferSuspended,
            session::StationState::StopAuthorized => S::StopAuthorized,
            session::StationState::EvConnectedPostSession => S::EvConnectedPostSession,
            session::StationState::EvDisconnected => S::EvDisconnected,
            session::StationState::Unavailable => S::Unavailable,
        };
        let c = &self.ctx.config;
        let setup = crate::states::Setup {
            bench: &self.ctx.bench,
            timing: &c.timing,
            evses: c.evses,
            token: c.valid_id_tokens.first().cloned().unwrap_or_else(|| ocpp_core::defaults::VALID_ID_TOKENS[0].into()),
            authorization: c.parameters.get("authorization").cloned(),
        };
        let trace = self.ctx.trace.clone();
        // Part 6's configuration state comes before its reusable states.
        if !self.ctx.configuration.settings.is_empty() {
            let ready = timed(&trace, false, "the station to be ready", crate::states::ready(listener, &[], &c.timing, c.evses, &trace)).await;
            let made = match ready {
                Ok(conn) => self.ctx.configured(&conn).await,
                Err(e) => return Ok(Err(to_wit_error(e))),
            };
            if let Err(e) = made {
                return Ok(Err(e));
            }
        }
        match timed(&trace, false, "the station to reach the state", crate::states::reach(listener, state, evse, &claim, &setup, &trace)).await {
            Ok((conn, transaction_id)) => Ok(Ok(session::Reached { connection: self.table.push(conn)?, transaction_id })),
            Err(e) => Ok(Err(to_wit_error(e))),
        }
    }

    async fn reboot_station(&mut self, claim: Vec<String>) -> SessResult<session::Rebooted> {
        let Endpoint::Listener(listener) = &self.ctx.endpoint else {
            return Ok(Err(session::SessionError::Usage("reboot-station needs the harness in the CSMS role".into())));
        };
        let (trace, timing) = (self.ctx.trace.clone(), self.ctx.config.timing);
        match timed(&trace, false, "the station to reboot", crate::states::reboot(listener, &self.ctx.bench, &claim, &timing, &trace)).await {
            Ok((conn, method)) => {
                let method = match method {
                    crate::states::RebootMethod::AlreadyBooting => session::RebootMethod::AlreadyBooting,
                    crate::states::RebootMethod::PowerCycle => session::RebootMethod::PowerCycle,
                    crate::states::RebootMethod::Reset => session::RebootMethod::Reset,
                };
                Ok(Ok(session::Rebooted { connection: self.table.push(conn)?, method }))
            }
            Err(e) => Ok(Err(to_wit_error(e))),
        }
    }

    async fn connect_csms(&mut self, version: types::OcppVersion, claim: Vec<String>) -> SessResult<Resource<Connection>> {
        self.connect_csms_presenting(version, claim, session::Credentials::Configured, session::Certificate::Configured).await
    }

    async fn connect_csms_presenting(
        &mut self,
        version: types::OcppVersion,
        claim: Vec<String>,
        credentials: session::Credentials,
        certificate: session::Certificate,
    ) -> SessResult<Resource<Connection>> {
        let ctx = self.ctx.clone();
        let Endpoint::CsmsUrl(url) = &ctx.endpoint else {
            return Ok(Err(session::SessionError::Usage("connect-csms needs the harness in the charging-station role".into())));
        };
        let d = ctx.dial(url, version.into(), &ctx.security);
        match timed(&ctx.trace, false, "the CSMS to accept the connection", ctx.own_station.connect(&d, credentials.into(), certificate.into(), &claim)).await {
            Ok(conn) => Ok(Ok(self.table.push(conn)?)),
            Err(e) => Ok(Err(to_wit_error(e))),
        }
    }

    async fn ready_csms(&mut self, claim: Vec<String>) -> SessResult<Resource<Connection>> {
        let ctx = self.ctx.clone();
        let Endpoint::CsmsUrl(url) = &ctx.endpoint else {
            return Ok(Err(session::SessionError::Usage("ready-csms needs the harness in the charging-station role".into())));
        };
        let d = ctx.dial(url, ctx.version, &ctx.security);
        match timed(&ctx.trace, false, "the harness station to be connected and registered", ctx.own_station.ready(&d, &claim)).await {
            Ok(conn) => Ok(Ok(self.table.push(conn)?)),
            Err(e) => Ok(Err(to_wit_error(e))),
        }
    }

    async fn unique_number(&mut self) -> wasmtime::Result<u32> {
        Ok(self.ctx.own_station.unique())
    }

    async fn connect_csms_raised(&mut self, url: String, version: types::OcppVersion, claim: Vec<String>) -> SessResult<Resource<Connection>> {
        if !matches!(self.ctx.endpoint, Endpoint::CsmsUrl(_)) {
            return Ok(Err(session::SessionError::Usage("connect-csms-raised needs the harness in the charging-station role".into())));
        }
        let profile = self.ctx.security.profile;
        if !matches!(profile, 1 | 2) {
            return Ok(Err(session::SessionError::Usage(format!("security profile {profile} cannot be raised (1 to 2, 2 to 3)"))));
        }
        let up = self.ctx.security.at_profile(profile + 1);
        let ctx = self.ctx.clone();
        let d = ctx.dial(&url, version.into(), &up);
        let configured = (ocpp_core::security::Credentials::Configured, ocpp_core::security::pki::Variant::Configured);
        match timed(&ctx.trace, false, "the CSMS to accept the connection", ctx.own_station.connect(&d, configured.0, configured.1, &claim)).await {
            Ok(conn) => {
                self.ctx.security.move_station(self.ctx.version, Some((profile + 1, url.clone())));
                self.ctx.trace.log("state", format!("the harness station moved to {url} at security profile {}, for the rest of the run", profile + 1));
                Ok(Ok(self.table.push(conn)?))
            }
            Err(e) => Ok(Err(to_wit_error(e))),
        }
    }

    async fn offer_subprotocols(&mut self, subprotocols: Vec<String>, wait_ms: u32) -> SessResult<session::Upgrade> {
        let Endpoint::CsmsUrl(url) = &self.ctx.endpoint else {
            return Ok(Err(session::SessionError::Usage("offer-subprotocols needs the harness in the charging-station role".into())));
        };
        let id = &self.ctx.config.station_id;
        let security = match self.ctx.security.client(id, ocpp_core::security::Credentials::Configured, ocpp_core::security::pki::Variant::Configured) {
            Ok(s) => s,
            Err(e) => return Ok(Err(session::SessionError::Usage(e))),
        };
        let offer = subprotocols.join(", ");
        let dial = ocpp_core::security::tls::Dial {
            url: format!("{}/{id}", url.trim_end_matches('/')),
            subprotocol: offer.clone(),
            basic: security.basic.clone(),
            tls: security.tls.clone(),
            timeout: ms(self.ctx.config.timing.connect_ms),
        };
        let trace = self.ctx.trace.clone();
        match timed(&trace, false, "the CSMS to answer the upgrade", async { ocpp_core::security::tls::probe_upgrade(&dial, ms(wait_ms)).await.map_err(|e| sess::SessionError::Closed(e.to_string())) }).await {
            Ok(u) => {
                let closed = u.closed.as_deref().map_or("kept the connection open".to_string(), |c| format!("then {c}"));
                trace.handshake(format!("GET {} offering {offer:?} -> HTTP {} selected {:?}; {closed}", dial.url, u.status, u.selected.as_deref().unwrap_or("")));
                Ok(Ok(session::Upgrade { status: u.status, selected: u.selected, closed: u.closed }))
            }
            Err(e) => {
                trace.handshake(format!("GET {} offering {offer:?} failed: {e}", dial.url));
                Ok(Err(to_wit_error(e)))
            }
        }
    }

    async fn offer_old_tls(&mut self, version: String, wait_ms: u32) -> SessResult<session::TlsAnswer> {
        let Endpoint::CsmsUrl(url) = &self.ctx.endpoint else {
            return Ok(Err(session::SessionError::Usage("offer-old-tls needs the harness in the charging-station role".into())));
        };
        let Some((host, port)) = ocpp_core::security::old_tls::wss_endpoint(url) else {
            return Ok(Err(session::SessionError::Usage(format!("offer-old-tls needs a wss:// CSMS URL; the run's is {url}"))));
        };
        let trace = self.ctx.trace.clone();
        let probe = ocpp_core::security::old_tls::offer(&host, port, &version, ms(wait_ms));
        match timed(&trace, false, "the CSMS to answer an old ClientHello", async { probe.await.map_err(sess::SessionError::Closed) }).await {
            Ok(a) => {
                use ocpp_core::security::old_tls::OldTlsAnswer as A;
                trace.handshake(format!("ClientHello offering at most TLS {version} to {host}:{port} -> {a:?}"));
                Ok(Ok(match a {
                    A::ServerHello(v) => session::TlsAnswer::ServerHello(v),
                    A::Refused(why) => session::TlsAnswer::Refused(why),
                    A::Silent => session::TlsAnswer::Silent,
                }))
            }
            Err(e) => Ok(Err(to_wit_error(e))),
        }
    }

    async fn alternative_csms_url(&mut self) -> SessResult<String> {
        let Endpoint::Listener(listener) = &self.ctx.endpoint else {
            return Ok(Err(session::SessionError::Usage("alternative-csms-url needs the harness in the CSMS role".into())));
        };
        // A lab behind NAT names the URL its station reaches; the port to bind may be fixed.
        let params = &self.ctx.config.parameters;
        let port = params.get("alternative-listen-port").and_then(|p| p.parse().ok()).unwrap_or(0);
        match listener.alternative_url(listener.addr().ip(), port).await {
            Ok(url) => Ok(Ok(params.get("alternative-csms-url").cloned().unwrap_or(url))),
            Err(e) => Ok(Err(session::SessionError::Usage(format!("cannot open the alternative endpoint: {e}")))),
        }
    }

    async fn silence_endpoint(&mut self, alternative: bool, silent: bool) -> SessResult<()> {
        let Endpoint::Listener(listener) = &self.ctx.endpoint else {
            return Ok(Err(session::SessionError::Usage("silence-endpoint needs the harness in the CSMS role".into())));
        };
        let which = if alternative { "alternative" } else { "main" };
        self.ctx.trace.log("info", if silent { format!("the {which} endpoint closes connections unanswered from now on") } else { format!("the {which} endpoint serves again") });
        listener.silence(alternative, silent);
        Ok(Ok(()))
    }

    async fn serve_old_tls(&mut self, version: String) -> SessResult<()> {
        let Endpoint::Listener(listener) = &self.ctx.endpoint else {
            return Ok(Err(session::SessionError::Usage("serve-old-tls needs the harness in the CSMS role".into())));
        };
        if ocpp_core::security::old_tls::wire_version(&version).is_none() {
            return Ok(Err(session::SessionError::Usage(format!("TLS version {version:?}: only \"1.0\" and \"1.1\" can be served"))));
        }
        if self.ctx.security.profile < 2 {
            return Ok(Err(session::SessionError::Usage(format!("serve-old-tls needs security profile 2 or 3; the run is at {}", self.ctx.security.profile))));
        }
        let mut s = listener.security();
        s.old_tls = Some(version.clone());
        self.ctx.trace.log("info", format!("answering handshakes with a ServerHello for TLS {version} from now on"));
        listener.secure(s);
        Ok(Ok(()))
    }

    async fn serve_certificate(&mut self, certificate: session::Certificate) -> SessResult<()> {
        let Endpoint::Listener(listener) = &self.ctx.endpoint else {
            return Ok(Err(session::SessionError::Usage("serve-certificate needs the harness in the CSMS role".into())));
        };
        match self.ctx.security.serve(certificate.into()) {
            Ok(s) => {
                self.ctx.trace.log("info", format!("serving the {certificate:?} server certificate from now on"));
                listener.secure(s);
                Ok(Ok(()))
            }
            Err(e) => Ok(Err(session::SessionError::Usage(e))),
        }
    }

    async fn sign_csr(&mut self, csr: String) -> SessResult<String> {
        use ocpp_core::security::pki::CsrError;
        let signed = self.ctx.security.pki().map_err(CsrError::NoCaKey).and_then(|p| p.sign_csr(&csr));
        Ok(match signed {
            Ok(chain) => {
                self.ctx.trace.log("info", "the test CA signed the station's CSR");
                Ok(chain)
            }
            Err(CsrError::NoCaKey(e)) => Err(session::SessionError::Usage(e)),
            Err(CsrError::BadCsr(e)) => Err(session::SessionError::Protocol(e)),
        })
    }

    async fn pki_operation(&mut self, operation: String, input: String) -> SessResult<String> {
        use crate::pki_operation::Failure;
        Ok(crate::pki_operation::run(&self.ctx, &mut self.ocsp, &operation, &input).await.map_err(|f| match f {
            Failure::Usage(e) => session::SessionError::Usage(e),
            Failure::Protocol(e) => session::SessionError::Protocol(e),
        }))
    }

    async fn raise_security_profile(&mut self, raised: bool) -> SessResult<u8> {
        let Endpoint::Listener(listener) = &self.ctx.endpoint else {
            return Ok(Err(session::SessionError::Usage("raise-security-profile needs the harness in the CSMS role".into())));
        };
        let (version, security) = (self.ctx.version, &self.ctx.security);
        let now = security.in_force(version).profile;
        let target = match raised {
            true if matches!(now, 1 | 2) => Some(now + 1),
            true => {
                return Ok(Err(session::SessionError::Usage(format!("security profile {now} cannot be raised (1 to 2, 2 to 3)"))));
            }
            false => None,
        };
        let before = security.raised_to(version);
        security.raise(version, target);
        match security.in_force(version).serve(ocpp_core::security::pki::Variant::Configured) {
            Ok(s) => {
                listener.secure(s);
                if raised {
                    listener.model().lock().unwrap().keep_connection_profiles();
                }
                let profile = security.in_force(version).profile;
                self.ctx.trace.log("state", format!("the harness CSMS now expects the station at security profile {profile}, for the rest of the run"));
                Ok(Ok(profile))
            }
            Err(e) => {
                security.raise(version, before);
                Ok(Err(session::SessionError::Usage(e)))
            }
        }
    }

    async fn second_csms_root(&mut self) -> SessResult<String> {
        let root = self.ctx.security.pki().and_then(|p| p.second.as_ref().map(|(ca2, _)| ca2.clone()).ok_or_else(|| "the PKI has no second CSMS root (ca2.pem)".into()));
        Ok(root.map_err(session::SessionError::Usage))
    }
}

impl From<session::Credentials> for ocpp_core::security::Credentials {
    fn from(c: session::Credentials) -> Self {
        match c {
            session::Credentials::Configured => Self::Configured,
            session::Credentials::None => Self::None,
            session::Credentials::WrongPassword => Self::WrongPassword,
            session::Credentials::WrongUsername => Self::WrongUsername,
        }
    }
}

impl From<session::Certificate> for ocpp_core::security::pki::Variant {
    fn from(c: session::Certificate) -> Self {
        match c {
            session::Certificate::Configured => Self::Configured,
            session::Certificate::None => Self::None,
            session::Certificate::Untrusted => Self::Untrusted,
            session::Certificate::Expired => Self::Expired,
            session::Certificate::WrongIdentity => Self::WrongIdentity,
            session::Certificate::SecondRoot => Self::SecondRoot,
        }
    }
}

impl session::HostConnection for CaseHost {
    async fn version(&mut self, this: Resource<Connection>) -> wasmtime::Result<types::OcppVersion> {
        Ok(self.table.get(&this)?.version().into())
    }

    async fn station_id(&mut self, this: Resource<Connection>) -> wasmtime::Result<String> {
        Ok(self.table.get(&this)?.station_id().to_string())
    }

    async fn security(&mut self, this: Resource<Connection>) -> wasmtime::Result<session::PeerSecurity> {
        let s = self.table.get(&this)?.security();
        Ok(session::PeerSecurity { profile: s.profile, tls_version: s.tls_version, peer_certificate_cn: s.peer_certificate_cn, basic_auth_user: s.basic_auth_user })
    }

    async fn call(&mut self, this: Resource<Connection>, action: String, payload: String, timeout_ms: u32) -> SessResult<session::CallOutcome> {
        let conn = self.table.get(&this)?.clone();
        let payload = match parse_json("the CALL payload", &payload) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        let timeout = ms(timeout_ms).max(ms(self.ctx.config.timing.response_ms));
        let station_role = matches!(self.ctx.endpoint, Endpoint::CsmsUrl(_));
        let request = (station_role && crate::leftovers::Leftovers::tracks(&action)).then(|| payload.clone());
        Ok(match timed(&self.ctx.trace, false, &format!("the answer to {action}"), crate::baseline::call(&conn, &action, payload, timeout)).await {
            Ok(sess::CallOutcome::Result(v)) => {
                if station_role {
                    self.ctx.leftovers.lock().unwrap().observe(&conn, &action, request.as_ref(), &v);
                }
                Ok(session::CallOutcome::Result(v.to_string()))
            }
            Ok(sess::CallOutcome::Error { code, description, details }) => {
                Ok(session::CallOutcome::Error(session::CallError { code, description, details: details.to_string() }))
            }
            Err(e) => Err(to_wit_error(e)),
        })
    }

    async fn claim(&mut self, this: Resource<Connection>, actions: Vec<String>) -> wasmtime::Result<()> {
        self.table.get(&this)?.claim(&actions);
        Ok(())
    }

    async fn release(&mut self, this: Resource<Connection>, actions: Vec<String>) -> wasmtime::Result<()> {
        self.table.get(&this)?.release(&actions);
        Ok(())
    }

    async fn set_default_answer(&mut self, this: Resource<Connection>, action: String, payload: String) -> SessResult<()> {
        let conn = self.table.get(&this)?;
        Ok(parse_json("the default answer", &payload).and_then(|p| conn.set_default_answer(&action, p).map_err(to_wit_error)))
    }

    async fn expect_call(&mut self, this: Resource<Connection>, action: String, timeout_ms: u32) -> SessResult<session::IncomingCall> {
        let conn = self.table.get(&this)?.clone();
        Ok(timed(&self.ctx.trace, true, &format!("{action} from the DUT"), conn.expect_call(&action, ms(timeout_ms)))
            .await
            .map(|c| session::IncomingCall { message_id: c.message_id, action: c.action, payload: c.payload.to_string() })
            .map_err(to_wit_error))
    }

    async fn reply(&mut self, this: Resource<Connection>, message_id: String, payload: String) -> SessResult<()> {
        let conn = self.table.get(&this)?;
        Ok(parse_json("the CALLRESULT payload", &payload).and_then(|p| conn.reply(&message_id, p).map_err(to_wit_error)))
    }

    async fn reply_error(&mut self, this: Resource<Connection>, message_id: String, code: String, description: String) -> SessResult<()> {
        Ok(self.table.get(&this)?.reply_error(&message_id, &code, &description).map_err(to_wit_error))
    }

    async fn send_raw(&mut self, this: Resource<Connection>, text: String) -> SessResult<()> {
        Ok(self.table.get(&this)?.send_raw(&text).map_err(to_wit_error))
    }

    async fn expect_raw(&mut self, this: Resource<Connection>, timeout_ms: u32) -> SessResult<session::RawFrame> {
        let conn = self.table.get(&this)?.clone();
        Ok(timed(&self.ctx.trace, true, "an answer to the raw frame", conn.expect_raw(ms(timeout_ms))).await.map(|text| session::RawFrame { text }).map_err(to_wit_error))
    }

    async fn expect_close(&mut self, this: Resource<Connection>, timeout_ms: u32) -> SessResult<()> {
        let conn = self.table.get(&this)?.clone();
        Ok(timed(&self.ctx.trace, false, "the DUT to close the connection", conn.expect_close(ms(timeout_ms))).await.map_err(to_wit_error))
    }

    async fn close(&mut self, this: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.get(&this)?.close();
        Ok(())
    }

    async fn drop(&mut self, this: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl ocpp::harness::clock::Host for CaseHost {
    async fn now_ms(&mut self) -> wasmtime::Result<u64> {
        Ok(self.ctx.started.elapsed().as_millis() as u64)
    }

    async fn now_rfc3339(&mut self) -> wasmtime::Result<String> {
        Ok(ocpp_core::defaults::now_rfc3339())
    }

    async fn sleep_ms(&mut self, ms_: u32) -> wasmtime::Result<()> {
        tokio::time::sleep(ms(ms_)).await;
        self.ctx.trace.waited(ocpp_core::trace::WaitKind::Timer, ms(ms_));
        Ok(())
    }

    async fn begin_mandated(&mut self, what: String) -> wasmtime::Result<()> {
        self.ctx.trace.set_mandated(Some(what));
        Ok(())
    }

    async fn end_mandated(&mut self) -> wasmtime::Result<()> {
        self.ctx.trace.set_mandated(None);
        Ok(())
    }
}

impl log::Host for CaseHost {
    async fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            log::Level::Debug => "debug",
            log::Level::Info => "info",
            log::Level::Warn => "warn",
            log::Level::Error => "error",
        };
        // A case's warning is a compatibility warning of the case: listed with the verdict.
        if level == "warn" {
            self.ctx.trace.warn_compat(message.clone());
        }
        self.ctx.trace.log(level, message);
        Ok(())
    }

    async fn deviation(&mut self, requirement: Option<String>, expected: String, observed: String) -> wasmtime::Result<()> {
        self.ctx.trace.log("error", format!("deviation: [{}] expected {expected}; observed {observed}", requirement.as_deref().unwrap_or("-")));
        self.ctx.trace.violation(requirement.as_deref(), expected, observed);
        Ok(())
    }
}

impl config::Host for CaseHost {
    async fn version(&mut self) -> wasmtime::Result<types::OcppVersion> {
        Ok(self.ctx.version.into())
    }

    async fn station_id(&mut self) -> wasmtime::Result<String> {
        Ok(self.ctx.config.station_id.clone())
    }

    async fn security_profile(&mut self) -> wasmtime::Result<u8> {
        // A station DUT may have been raised (A05) since the case started.
        Ok(match self.ctx.endpoint {
            Endpoint::Listener(_) => self.ctx.security.in_force(self.ctx.version).profile,
            _ => self.ctx.security.profile,
        })
    }

    async fn valid_id_tokens(&mut self) -> wasmtime::Result<Vec<String>> {
        Ok(self.ctx.config.valid_id_tokens.clone())
    }

    async fn invalid_id_token(&mut self) -> wasmtime::Result<String> {
        Ok(self.ctx.config.invalid_id_token.clone())
    }

    async fn parameter(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        if let Some(v) = self.ctx.config.parameters.get(&key) {
            return Ok(Some(v.clone()));
        }
        // The station's own configuration, when it was read only inside this case.
        let Endpoint::Listener(listener) = &self.ctx.endpoint else { return Ok(None) };
        Ok(listener.model().lock().unwrap().inventory.as_ref().and_then(|i| i.get(&key).cloned()))
    }

    async fn lab_timing(&mut self) -> wasmtime::Result<config::Timing> {
        let t = self.ctx.config.timing;
        Ok(config::Timing { connect_ms: t.connect_ms, reboot_ms: t.reboot_ms, response_ms: t.response_ms, tolerance_ms: t.tolerance_ms })
    }
}

impl bench::Host for CaseHost {
    async fn plug(&mut self, evse: u32, connected: bool) -> wasmtime::Result<Result<(), bench::BenchError>> {
        Ok(self.act(ocpp_bench::Action::Plug { evse, connected }).await)
    }

    async fn set_pilot(&mut self, evse: u32, state: bench::PilotState) -> wasmtime::Result<Result<(), bench::BenchError>> {
        use ocpp_bench::Pilot;
        let state = match state {
            bench::PilotState::A => Pilot::A,
            bench::PilotState::B => Pilot::B,
            bench::PilotState::C => Pilot::C,
            bench::PilotState::D => Pilot::D,
            bench::PilotState::E => Pilot::E,
            bench::PilotState::F => Pilot::F,
        };
        Ok(self.act(ocpp_bench::Action::Pilot { evse, state }).await)
    }

    async fn present_token(&mut self, id_token: String) -> wasmtime::Result<Result<(), bench::BenchError>> {
        Ok(self.act(ocpp_bench::Action::Token { evse: 0, token: id_token }).await)
    }

    async fn present_token_at(&mut self, evse: u32, id_token: String) -> wasmtime::Result<Result<(), bench::BenchError>> {
        Ok(self.act(ocpp_bench::Action::Token { evse, token: id_token }).await)
    }

    async fn power_cycle(&mut self) -> wasmtime::Result<Result<(), bench::BenchError>> {
        Ok(self.act(ocpp_bench::Action::PowerCycle).await)
    }

    async fn set_network(&mut self, up: bool) -> wasmtime::Result<Result<(), bench::BenchError>> {
        Ok(self.act(ocpp_bench::Action::Network(up)).await)
    }

    async fn ev_fault(&mut self, evse: u32, fault: bench::CircuitFault) -> wasmtime::Result<Result<(), bench::BenchError>> {
        use ocpp_bench::EvFault;
        let fault = match fault {
            bench::CircuitFault::DiodeFault => EvFault::DiodeFault,
            bench::CircuitFault::RcdTrip => EvFault::RcdTrip,
            bench::CircuitFault::Cleared => EvFault::Cleared,
        };
        Ok(self.act(ocpp_bench::Action::EvFault { evse, fault }).await)
    }

    async fn ev_15118(&mut self, evse: u32, request: String, params: String) -> wasmtime::Result<Result<(), bench::BenchError>> {
        if !ocpp_bench::capability::EV_15118_REQUESTS.contains(&request.as_str()) {
            let known = ocpp_bench::capability::EV_15118_REQUESTS.join(", ");
            return Ok(Err(bench::BenchError::Failed(format!("no ISO 15118 EV request {request:?} (known: {known})"))));
        }
        let params = match serde_json::from_str::<serde_json::Value>(if params.trim().is_empty() { "{}" } else { &params }) {
            Ok(p) if p.is_object() => p,
            _ => return Ok(Err(bench::BenchError::Failed(format!("ev-15118 params must be a JSON object, not {params:?}")))),
        };
        Ok(self.act(ocpp_bench::Action::Ev15118 { evse, request, params }).await)
    }

    async fn relay_set(&mut self, name: String, on: bool) -> wasmtime::Result<Result<(), bench::BenchError>> {
        Ok(self.board(name, Some(on), false).await.map(|_| ()))
    }

    async fn relay_get(&mut self, name: String) -> wasmtime::Result<Result<bool, bench::BenchError>> {
        Ok(self.board(name, None, false).await)
    }

    async fn digital_input(&mut self, name: String) -> wasmtime::Result<Result<bool, bench::BenchError>> {
        Ok(self.board(name, None, true).await)
    }

    async fn meter_read(&mut self, quantity: String) -> wasmtime::Result<Result<bench::MeterReading, bench::BenchError>> {
        Ok(self.meter(quantity).await)
    }

    async fn csms_trigger(&mut self, action: String, payload: String) -> wasmtime::Result<Result<(), bench::BenchError>> {
        let payload = match serde_json::from_str(&payload) {
            Ok(p) => p,
            Err(e) => {
                return Ok(Err(bench::BenchError::Failed(format!("the payload for {action} is not JSON: {e}"))));
            }
        };
        ocpp_core::redact::register_passwords_in(&payload);
        Ok(self.act(ocpp_bench::Action::CsmsTrigger { action, payload }).await)
    }
}

impl From<ocpp_bench::BenchError> for bench::BenchError {
    fn from(e: ocpp_bench::BenchError) -> Self {
        match e {
            ocpp_bench::BenchError::Unavailable(m) => bench::BenchError::Unavailable(m),
            ocpp_bench::BenchError::Failed(m) => bench::BenchError::Failed(m),
        }
    }
}

impl CaseHost {
    /// Run a bench operation on the case's bench, booking its time as bench/operator time.
    fn on_bench<T, F>(&self, op: impl FnOnce(Arc<CaseContext>) -> F + Send + 'static) -> impl Future<Output = Result<T, bench::BenchError>> + Send + 'static
    where
        F: Future<Output = Result<T, ocpp_bench::BenchError>> + Send,
        T: Send,
    {
        let ctx = self.ctx.clone();
        async move {
            let t0 = Instant::now();
            let r = op(ctx.clone()).await;
            ctx.trace.waited(ocpp_core::trace::WaitKind::Operator, t0.elapsed());
            r.map_err(Into::into)
        }
    }

    fn board(&self, name: String, set: Option<bool>, input: bool) -> impl Future<Output = Result<bool, bench::BenchError>> + Send + 'static {
        self.on_bench(move |ctx| async move { ctx.bench.relay_board(&name, set, input, &ctx.trace).await })
    }

    fn meter(&self, quantity: String) -> impl Future<Output = Result<bench::MeterReading, bench::BenchError>> + Send + 'static {
        let read = self.on_bench(move |ctx| async move { ctx.bench.read_meter(&quantity, &ctx.trace).await });
        async move { read.await.map(|(value, unit)| bench::MeterReading { value, unit }) }
    }

    fn act(&self, action: ocpp_bench::Action) -> impl Future<Output = Result<(), bench::BenchError>> + Send + 'static {
        self.on_bench(move |ctx| async move { ctx.bench.act(action, &ctx.trace).await })
    }
}

/// The end of a trapped guest's output for the verdict (the whole output is in the trace). The
/// SDKs say "bug in the case: ..." when the host refused a call; a runtime may print its own
/// stack after that line, so it is kept even when it is not among the last lines.
fn output_summary(out: &str) -> String {
    let lines: Vec<&str> = out.lines().collect();
    let last = &lines[lines.len().saturating_sub(6)..];
    match lines.iter().rev().find(|l| l.contains("bug in the case")) {
        Some(bug) if !last.contains(bug) => format!("{}\n...\n{}", bug.trim(), last.join("\n")),
        _ => last.join("\n"),
    }
}
