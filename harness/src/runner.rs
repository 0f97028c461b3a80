//! Runs cases: picks the version, brings up the DUT side (built-in reference DUT per case, or
//! the external one), runs the guest under its deadline, and folds the host's own
//! observations into the verdict.
use std::{net::SocketAddr, sync::Arc, time::{Duration, Instant}};


use ocpp_bench::Bench;
use crate::{description::DutDescription, host::{CaseContext, Endpoint, GuestOutcome, Host, RunConfig, Suite}};
use ocpp_core::{case::{CaseMeta, Role, Verdict}, trace::Trace, transport::Listener, version::OcppVersion};
use ocpp_sim::{self as dut, Faults};
use ocpp_report::{CaseResult, StationSummary};

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
    /// Built-in DUTs only: start the reference station or CSMS afresh for every case (the old
    /// way) instead of once per version for the whole run, as a real device lives.
    pub fresh_dut: bool,
    /// Built-in DUTs only: legal but unusual behaviours they show (each applies to the side it
    /// is for, see `Variant::side`).
    pub variants: Vec<dut::variant::Variant>,
    pub config: RunConfig,
    /// Run every case at this version (cases that do not support it are not selected).
    pub version: Option<OcppVersion>,
    /// What the DUT declares; cases that do not apply are skipped. None: everything applies
    /// (the built-in DUTs implement every profile and feature the catalogue uses).
    pub description: Option<DutDescription>,
    /// The bench's drivers; None: the simulator only (built-in DUTs) or nothing.
    pub bench: Option<ocpp_bench::config::BenchConfig>,
    /// Security profile and material (from `--security-profile` for the built-in DUTs, or the
    /// DUT description's `[security]`).
    pub security: ocpp_core::security::Security,
}

impl RunOptions {
    /// Take the run parameters a DUT description declares, and let it decide which cases
    /// apply (its profiles, features, PICS).
    pub fn describe(&mut self, d: DutDescription) {
        self.take_parameters(&d);
        self.description = Some(d);
    }

    /// The built-in DUTs show `variants`, the station described as a lab would describe such a
    /// station (`Variant::lab_description`: the EVSE under test of `two-evses`).
    pub fn with_variants(&mut self, variants: &[dut::variant::Variant]) -> anyhow::Result<()> {
        self.variants.extend_from_slice(variants);
        for text in variants.iter().filter_map(|v| v.lab_description()) {
            self.take_parameters(&DutDescription::parse(text)?);
        }
        Ok(())
    }

    /// Take only the run parameters of a description (ids, tokens, timing, EVSEs): how the
    /// built-in station with a variant is described, all cases still applying.
    pub fn take_parameters(&mut self, d: &DutDescription) {
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
        if let Some(t) = &d.id_token_type {
            self.config.parameters.insert("id-token-type".into(), t.clone());
        }
        if let Some(t) = d.timing {
            self.config.timing = t;
            ocpp_core::session::set_close_after_last_frame(Duration::from_millis(u64::from(t.close_linger_ms)));
        }
        if let Some(n) = d.evses {
            self.config.evses = n;
        }
        for (key, value) in [("evse-id", d.evse_id), ("connector-id", d.connector_id)] {
            if let Some(v) = value {
                self.config.parameters.insert(key.into(), v.to_string());
            }
        }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            dut: Dut::BuiltIn { faults: Faults::default() },
            fresh_dut: false,
            variants: vec![],
            config: RunConfig {
                station_id: "CS001".into(),
                valid_id_tokens: ocpp_core::defaults::VALID_ID_TOKENS.map(String::from).to_vec(),
                invalid_id_token: ocpp_core::defaults::INVALID_ID_TOKEN.into(),
                parameters: ocpp_core::defaults::TOKEN_PARAMETERS.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                timing: Default::default(),
                evses: 1,
            },
            version: None,
            description: None,
            bench: None,
            security: Default::default(),
        }
    }
}

/// Extra time the host allows past a case's own timeout before it cuts the case off.
const GRACE: Duration = Duration::from_secs(2);

pub struct Runner {
    pub host: Arc<Host>,
    pub opts: RunOptions,
    /// For an external station DUT: one listener for the whole run.
    listener: Option<Arc<Listener>>,
    /// Built-in reference stations that live for the whole run, one per version.
    stations: tokio::sync::Mutex<std::collections::BTreeMap<OcppVersion, LiveStation>>,
    /// Built-in reference CSMSs that live for the whole run, one per version.
    csmss: tokio::sync::Mutex<std::collections::BTreeMap<OcppVersion, LiveCsms>>,
    /// The station passwords of the built-in CSMSs: one store for every version and restart,
    /// as a CSMS keeps them in its database (a password changed at 2.0.1 holds at 2.1).
    csms_passwords: std::sync::OnceLock<dut::csms::Passwords>,
    /// Why the station could not be brought back to the baseline after the last case.
    baseline_broken: std::sync::Mutex<Option<Broken>>,
    /// Harness as station: what a case left open at the CSMS and could not wind up; tried
    /// again before the next case, which is inconclusive if that fails too.
    left_open: std::sync::Mutex<Option<(Broken, crate::leftovers::Leftovers)>>,
    /// Station-role cases run so far: each takes the next configured token first, so that a
    /// CSMS still holding one case's token in a transaction does not decide the next verdict.
    station_cases: std::sync::atomic::AtomicUsize,
    /// Cases in a row in which the DUT sent nothing, and the first of them with its reason;
    /// at `UNREACHABLE_AFTER` the rest of the run is not run (one shared reason).
    unreachable: std::sync::Mutex<(u32, Option<(String, String)>)>,
    /// Harness as station: the one station it plays for the whole run.
    own_station: Arc<crate::own_station::OwnStation>,
}

/// Consecutive cases without a frame from the DUT after which it counts as gone.
pub const UNREACHABLE_AFTER: u32 = 3;

/// The station is off its baseline: since which case, why, and which case reported it (a
/// failed precondition is reported once, the cases after it refer to that one).
#[derive(Debug, Clone)]
struct Broken {
    after: String,
    reason: String,
    reported_in: Option<String>,
    /// The recovery rungs tried, with what each met (the station side only).
    tried: Vec<String>,
}

/// Whether a case needs an idle, operative EVSE to start: it uses the physical world (cable,
/// pilot, card reader, EV faults), or it is not in a block about the station as a whole —
/// security, provisioning, local list, firmware, certificates, diagnostics, data transfer
/// (A, B, D, L, M, N, P). 1.6 cases have no blocks and are taken to need one.
pub fn needs_idle_evse(meta: &CaseMeta) -> bool {
    const PHYSICAL: [&str; 4] = ["plug", "pilot", "token-reader", "ev-fault"];
    const STATION_WIDE: [&str; 7] = ["A", "B", "D", "L", "M", "N", "P"];
    meta.needs.iter().any(|n| PHYSICAL.contains(&n.as_str())) || meta.block().is_none_or(|b| !STATION_WIDE.contains(&b.as_str()))
}

/// A built-in reference station started once for the run, with the listener it connects to.
struct LiveStation {
    listener: Arc<Listener>,
    handle: dut::station::StationHandle,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LiveStation {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A built-in reference CSMS started once for the run: where it listens, and how to drive it.
struct LiveCsms {
    url: String,
    handle: dut::csms::CsmsHandle,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LiveCsms {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Runner {
    pub async fn new(host: Arc<Host>, mut opts: RunOptions) -> anyhow::Result<Runner> {
        // A password changed during this run holds for this run only.
        opts.security = opts.security.for_new_run();
        // The built-in DUTs always have a test CA, whatever the profile: cases that have the
        // CSMS sign a station's CSR (1.6 A02, 2.x A02/A03) need one even without TLS.
        if matches!(opts.dut, Dut::BuiltIn { .. }) && opts.security.pki.is_none() {
            opts.security.pki = Some(builtin_ca()?);
        }
        let listener = match &opts.dut {
            Dut::External { listen: Some(addr), .. } => {
                let l = Listener::bind_for(*addr, Some(opts.config.station_id.clone())).await.map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
                Some(Arc::new(l))
            }
            _ => None,
        };
        Ok(Runner { host, opts, listener, stations: Default::default(), csmss: Default::default(), csms_passwords: Default::default(), baseline_broken: Default::default(), left_open: Default::default(), station_cases: Default::default(), unreachable: Default::default(), own_station: Default::default() })
    }

    /// What the run saw of each station DUT, for the report.
    pub async fn stations(&self) -> Vec<StationSummary> {
        let summary = |l: &Listener, version: Option<OcppVersion>| {
            let m = l.model().lock().unwrap().clone();
            StationSummary {
                station_id: self.opts.config.station_id.clone(),
                version,
                connections: m.connections,
                boots: m.boots,
                reboots_requested: m.reboots_requested,
                registration: format!("{:?}", m.registration),
                identity: m.identity.clone(),
                played_by_harness: false,
                configuration: m.inventory.clone().unwrap_or_default(),
            }
        };
        let mut out: Vec<StationSummary> = self.listener.iter().map(|l| summary(l, None)).collect();
        out.extend(self.stations.lock().await.iter().map(|(v, s)| summary(&s.listener, Some(*v))));
        let own = self.own_station.counts();
        if own.connections > 0 {
            out.push(StationSummary {
                station_id: self.opts.config.station_id.clone(),
                version: None,
                connections: own.connections,
                boots: own.boots,
                reboots_requested: 0,
                registration: if own.registered { "Accepted" } else { "not registered" }.into(),
                identity: Some(format!("the harness station: {}", crate::own_station::boot_notification(OcppVersion::V201)["chargingStation"])),
                played_by_harness: true,
                configuration: Default::default(),
            });
        }
        out
    }

    /// The built-in station of `version` for the whole run, started on first use.
    async fn live_station(&self, version: OcppVersion) -> Result<(Arc<Listener>, dut::station::StationHandle), Verdict> {
        let mut stations = self.stations.lock().await;
        if let Some(s) = stations.get(&version).filter(|s| !s.task.is_finished()) {
            return Ok((s.listener.clone(), s.handle.clone()));
        }
        let Dut::BuiltIn { faults } = &self.opts.dut else { unreachable!("only built-in stations are started") };
        let listener = self.loopback_listener().await?;
        listener.secure(self.serve(version)?);
        let (handle, task) = self.spawn_station(&listener, faults, version)?;
        stations.insert(version, LiveStation { listener: listener.clone(), handle: handle.clone(), task });
        // Like a station that was running before the run: connected and registered (its boot
        // answered by default) before the first case.
        let timing = self.opts.config.timing;
        if let Ok((_, conn)) = listener.accept_after(0, Duration::from_millis(u64::from(timing.connect_ms))).await {
            conn.wait_model(Duration::from_millis(u64::from(timing.reboot_ms)), |m| m.registration.is_accepted()).await;
        }
        Ok((listener, handle))
    }

    /// The built-in CSMS of `version`: started afresh (`fresh_dut`, the caller aborts the task)
    /// or once for the whole run.
    async fn builtin_csms(&self, faults: &Faults, version: OcppVersion) -> Result<(String, dut::csms::CsmsHandle, Option<tokio::task::JoinHandle<()>>), Verdict> {
        let mut csmss = self.csmss.lock().await;
        if !self.opts.fresh_dut {
            if let Some(c) = csmss.get(&version).filter(|c| !c.task.is_finished()) {
                return Ok((c.url.clone(), c.handle.clone(), None));
            }
        }
        let security = &self.opts.security;
        let mut sec = dut::csms::CsmsSecurity::for_run(security, &self.opts.config.station_id, faults)
            .map_err(|e| Verdict::Error(format!("cannot set up the reference CSMS's security: {e:#}")))?;
        let passwords = self.csms_passwords.get_or_init(|| sec.passwords.clone()).clone();
        sec.share_passwords(passwords);
        let cfg = dut::csms::CsmsConfig {
            versions: vec![version],
            faults: faults.clone(),
            valid_id_tokens: self.opts.config.valid_id_tokens.clone(),
            tokens: dut::csms::TokenBook::from_parameters(&self.opts.config.parameters),
            security: sec,
            variants: self.opts.variants.iter().copied().filter(|v| v.for_side(dut::variant::Side::Csms)).collect(),
            ..Default::default()
        };
        let (addr, handle, task) = dut::csms::start("127.0.0.1:0".parse().unwrap(), cfg).await.map_err(|e| Verdict::Error(format!("cannot start the built-in CSMS: {e}")))?;
        let url = format!("{}://{addr}/ocpp", security.scheme());
        if self.opts.fresh_dut {
            return Ok((url, handle, Some(task)));
        }
        csmss.insert(version, LiveCsms { url: url.clone(), handle: handle.clone(), task });
        Ok((url, handle, None))
    }

    /// A listener on a free loopback port for the reference station.
    async fn loopback_listener(&self) -> Result<Arc<Listener>, Verdict> {
        Listener::bind_for("127.0.0.1:0".parse().unwrap(), Some(self.opts.config.station_id.clone()))
            .await
            .map(Arc::new)
            .map_err(|e| Verdict::Error(format!("cannot open a listener on loopback: {e}")))
    }

    /// How the harness CSMS serves the station of `version`: at the profile in force for it
    /// (the run's, or the one it was raised to, A05).
    fn serve(&self, version: OcppVersion) -> Result<ocpp_core::transport::ServeSecurity, Verdict> {
        let security = &self.opts.security.in_force(version);
        security.serve(ocpp_core::security::pki::Variant::Configured).map_err(|e| Verdict::Error(format!("cannot set up security profile {}: {e}", security.profile)))
    }

    fn spawn_station(&self, listener: &Listener, faults: &Faults, version: OcppVersion) -> Result<(dut::station::StationHandle, tokio::task::JoinHandle<()>), Verdict> {
        // A station with fault no-tls dials ws:// whatever the profile.
        let url = if faults.has(&dut::Fault::NoTls) { listener.url().replacen("wss://", "ws://", 1) } else { listener.url() };
        let mut cfg = dut::station::StationConfig::new(url, &self.opts.config.station_id, version);
        cfg.security = dut::station::StationSecurity::for_run(&self.opts.security, &self.opts.config.station_id, faults)
            .map_err(|e| Verdict::Error(format!("cannot set up the reference station's security: {e:#}")))?;
        cfg.faults = faults.clone();
        cfg.variants = self.opts.variants.iter().copied().filter(|v| v.for_side(dut::variant::Side::Station)).collect();
        cfg.evses = self.opts.config.evses.max(1);
        Ok(dut::station::spawn(cfg))
    }

    /// Bring the station back to the baseline after a case: the recovery ladder (see
    /// `recovery`), or, when the baseline is known lost already, one more undo only (the
    /// ladder was climbed once for that state; a case that ran beside it may have changed
    /// things of its own).
    async fn restore_baseline(&self, listener: &Listener, bench: &Bench, version: OcppVersion, trace: &Trace, lost_already: bool) -> Result<(), crate::recovery::Lost> {
        let timing = self.opts.config.timing;
        // The baseline's traffic is evidence for the case it belongs to (the one just run).
        if let Some(conn) = listener.live() {
            let between = conn.trace();
            conn.retarget(trace.clone());
            trace.absorb(&between);
        }
        let response = Duration::from_millis(u64::from(timing.response_ms));
        let waits = crate::baseline::Waits { response, settle: Duration::from_millis(u64::from(timing.reboot_ms)), idle: if lost_already { Duration::from_millis(200) } else { response }, connectors: self.opts.config.evses.max(1) as usize, lapse: if lost_already { Duration::ZERO } else { Duration::from_millis(u64::from(timing.reboot_ms)) } };
        if lost_already {
            let conn = listener.live().ok_or_else(|| crate::recovery::Lost { reason: "the station is not connected".into(), tried: vec![], broke: None })?;
            return match crate::baseline::restore(&conn, waits).await {
                Ok(done) => {
                    done.into_iter().for_each(|d| trace.log("baseline", d));
                    Ok(())
                }
                // A glance is no wait a station can be blamed for.
                Err(u) => Err(crate::recovery::Lost { reason: u.reason, tried: vec![], broke: None }),
            };
        }
        let means = crate::recovery::Means { listener, bench, trace, version, waits, reboot: Duration::from_millis(u64::from(timing.reboot_ms)) };
        crate::recovery::recover(&means).await.map(|_| ()).inspect_err(|lost| {
            trace.log("baseline", format!("baseline lost: {}; tried: {}", lost.reason, lost.tried.join("; ")));
        })
    }

    /// Whether the connected, registered station shows that it is off the baseline: a
    /// transaction going on, a connector not Available, a firmware update or upload of its own
    /// not waited for yet. (A station still connecting or booting is the case's to meet.)
    fn visibly_off_baseline(&self, listener: &Listener) -> bool {
        let m = listener.model();
        let m = m.lock().unwrap();
        let busy = m.own_work().is_some_and(|w| m.waited_out.as_ref() != Some(&w));
        listener.live().is_some() && m.registration.is_accepted() && (!m.transactions.is_empty() || !m.busy_connectors().is_empty() || busy)
    }

    /// Part 6's "<Configured evseId>": the DUT description's `evse-id` (1 when it names none).
    fn evse_under_test(&self) -> u32 {
        self.opts.config.parameters.get("evse-id").and_then(|v| v.trim().parse().ok()).unwrap_or(1)
    }

    /// Whether the station, as the harness sees it now, is at the baseline again (it may come
    /// back by itself: a reservation expires, a reboot the lab made).
    fn back_at_baseline(&self, listener: &Listener) -> bool {
        let m = listener.model();
        let m = m.lock().unwrap();
        let reported = m.reported_since_boot(self.opts.config.evses.max(1) as usize);
        listener.live().is_some() && m.registration.is_accepted() && m.transactions.is_empty() && reported && m.busy_connectors().is_empty() && !m.undo.iter().any(|u| u.blocks_connectors())
    }

    /// Harness as station: end what a case left open at the CSMS at `url` (see `leftovers`), on
    /// the case's last connection if it is still open, else on the harness station's live one
    /// (connected again if need be: a station that reconnects need not boot again, B04).
    async fn wind_up(&self, url: &str, version: OcppVersion, security: &ocpp_core::security::Security, mut left: crate::leftovers::Leftovers, trace: &Trace) -> Result<(), (String, crate::leftovers::Leftovers)> {
        if left.is_empty() {
            return Ok(());
        }
        let timing = self.opts.config.timing;
        let conn = match left.open_connection() {
            Some(c) => c,
            None => match self.own_station.open_connection().await {
                Some(c) => c,
                None => {
                    let dial = crate::host::station_dial(&self.opts.config, url, version, security, trace);
                    match self.own_station.ready(&dial, &[]).await {
                        Ok(c) => c,
                        Err(e) => return Err((format!("cannot connect to wind up: {e}"), left)),
                    }
                }
            },
        };
        conn.retarget(trace.clone());
        conn.to_background();
        let result = left.wind_up(&conn, Duration::from_millis(u64::from(timing.response_ms))).await;
        match result {
            Ok(done) => {
                for d in done {
                    trace.log("clean-up", d);
                }
                Ok(())
            }
            Err(e) => {
                trace.log("clean-up", format!("could not wind up what the case left open: {e}"));
                Err((e, left))
            }
        }
    }

    /// The version a case runs at, or None if it does not support the requested one.
    pub fn version_for(&self, meta: &CaseMeta) -> Option<OcppVersion> {
        match self.opts.version {
            Some(v) => meta.versions.contains(&v).then_some(v),
            None => meta.versions.first().copied(),
        }
    }

    /// Every version a run takes a case at: the one asked for (`--ocpp`) if the case lists it,
    /// else each version it lists that the DUT description declares (all without one). A case
    /// for none of the declared versions is still taken once, at its first, so that its skip
    /// and the reason show in the report.
    pub fn versions_for(&self, meta: &CaseMeta) -> Vec<OcppVersion> {
        if self.opts.version.is_some() {
            return self.version_for(meta).into_iter().collect();
        }
        let declared = |v: &OcppVersion| self.opts.description.as_ref().is_none_or(|d| d.versions.is_empty() || d.versions.contains(v));
        let vs: Vec<OcppVersion> = meta.versions.iter().copied().filter(declared).collect();
        if vs.is_empty() { meta.versions.first().copied().into_iter().collect() } else { vs }
    }

    pub async fn run_case(&self, suite: &Suite, meta: &CaseMeta) -> CaseResult {
        self.run_case_traced(suite, meta, &Trace::new()).await
    }

    /// Run a case into a trace the caller holds, so that what a case did so far can still be
    /// reported when the run is interrupted (see [`Runner::interrupted`]).
    pub async fn run_case_traced(&self, suite: &Suite, meta: &CaseMeta, trace: &Trace) -> CaseResult {
        let version = self.version_for(meta).unwrap_or(OcppVersion::V201);
        self.run_case_at(suite, meta, version, trace).await
    }

    /// Run a case at `version` (one of its versions).
    pub async fn run_case_at(&self, suite: &Suite, meta: &CaseMeta, version: OcppVersion, trace: &Trace) -> CaseResult {
        let gone = {
            let u = self.unreachable.lock().unwrap();
            (u.0 >= UNREACHABLE_AFTER).then(|| u.1.clone()).flatten()
        };
        let verdict = match gone {
            // A DUT that stopped answering is reported once, not as the same failure in every case.
            Some((first, reason)) => Verdict::Error(format!("not run: the DUT sent nothing in {UNREACHABLE_AFTER} cases in a row since {first} ({reason})")),
            None => {
                let v = self.run_inner(suite, meta, version, trace).await;
                self.count_unreachable(meta, version, &v, trace).await;
                v
            }
        };
        self.result(meta, version, verdict, trace)
    }

    /// A case that did not pass and in which the DUT sent not a single frame — and, for a
    /// station that outlives the case, that left it without a connection — extends the streak
    /// of unreachable cases; any other outcome ends it.
    async fn count_unreachable(&self, meta: &CaseMeta, version: OcppVersion, v: &Verdict, trace: &Trace) {
        let kept = match (&self.opts.dut, meta.role) {
            (Dut::External { .. }, Role::Csms) => self.listener.clone(),
            (Dut::BuiltIn { .. }, Role::Csms) if !self.opts.fresh_dut => self.stations.lock().await.get(&version).map(|s| s.listener.clone()),
            _ => None,
        };
        // A case that stopped before it reached for the DUT (a lab PKI that cannot do what it
        // needs) says nothing about the DUT, either way.
        if !trace.reached_for_dut() {
            return;
        }
        // A station still connected is reachable, even if it had nothing to say; so is a CSMS
        // the harness station is still connected to.
        let csms_connected = meta.role == Role::ChargingStation && self.own_station.open_connection().await.is_some();
        let silent = !trace.heard_from_dut() && !csms_connected && kept.is_none_or(|l| l.live().is_none());
        let mut u = self.unreachable.lock().unwrap();
        match v {
            Verdict::Fail { .. } | Verdict::Error(_) | Verdict::Inconclusive(_) if silent => {
                u.0 += 1;
                u.1.get_or_insert_with(|| (meta.id.clone(), v.reason()));
            }
            Verdict::Skip(_) => {}
            _ => *u = (0, None),
        }
    }

    /// The result of a case cut short by a signal: an error, with its trace so far.
    pub fn interrupted(&self, meta: &CaseMeta, version: OcppVersion, trace: &Trace, signal: &str) -> CaseResult {
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
        // A fresh DUT starts at the run's profile; a long-lived one where A05 moved it: a station
        // DUT raised, the harness station moved to the CSMS DUT's endpoint one profile up.
        if self.opts.fresh_dut {
            self.opts.security.raise(version, None);
            self.opts.security.move_station(version, None);
        }
        let moved = if meta.role == Role::ChargingStation { self.opts.security.moved_to(version) } else { None };
        let security = &match (&moved, meta.role) {
            (_, Role::Csms) => self.opts.security.in_force(version),
            (Some((p, _)), _) => self.opts.security.at_profile(*p),
            (None, _) => self.opts.security.clone(),
        };
        let mut raised_url = None;
        // The station's listener when it outlives the case (the baseline is then restored).
        let mut kept: Option<Arc<Listener>> = None;
        let endpoint = match (&self.opts.dut, meta.role) {
            (Dut::BuiltIn { faults }, Role::Csms) if self.opts.fresh_dut => {
                let listener = match self.loopback_listener().await {
                    Ok(l) => l,
                    Err(v) => return v,
                };
                listener.begin_case(trace.clone(), vec![version]);
                match self.serve(version) {
                    Ok(s) => listener.secure(s),
                    Err(v) => return v,
                }
                let (handle, task) = match self.spawn_station(&listener, faults, version) {
                    Ok(x) => x,
                    Err(v) => return v,
                };
                dut_task = Some(task);
                bench = Bench::simulated(Arc::new(handle));
                Endpoint::Listener(listener)
            }
            (Dut::BuiltIn { .. }, Role::Csms) => {
                let (listener, handle) = match self.live_station(version).await {
                    Ok(x) => x,
                    Err(v) => return v,
                };
                bench = Bench::simulated(Arc::new(handle));
                kept = Some(listener.clone());
                Endpoint::Listener(listener)
            }
            (Dut::BuiltIn { faults }, Role::ChargingStation) => match self.builtin_csms(faults, version).await {
                Ok((url, handle, task)) => {
                    raised_url = handle.raised_addr.map(|a| format!("wss://{a}/ocpp"));
                    let url = moved.as_ref().map_or(url, |(_, u)| u.clone());
                    dut_task = task;
                    bench = Bench::simulated(Arc::new(dut::bench::CsmsOperator { csms: handle, station_id: self.opts.config.station_id.clone() }));
                    Endpoint::CsmsUrl(url)
                }
                Err(v) => return v,
            },
            (Dut::External { .. }, Role::Csms) => match &self.listener {
                Some(l) => {
                    kept = Some(l.clone());
                    Endpoint::Listener(l.clone())
                }
                None => return Verdict::Skip("the harness plays the CSMS here, but no --listen address was given for the station DUT".into()),
            },
            (Dut::External { csms_url, .. }, Role::ChargingStation) => match csms_url {
                Some(url) => Endpoint::CsmsUrl(moved.as_ref().map_or_else(|| url.clone(), |(_, u)| u.clone())),
                None => return Verdict::Skip("the harness plays a charging station here, but no --csms-url was given for the CSMS DUT".into()),
            },
        };
        if let Some(c) = &self.opts.bench {
            bench = bench.with_config(c);
        }
        let bench = bench.for_case(&self.opts.config.station_id, version);
        if let Some(reason) = bench.missing(&meta.needs) {
            if let Some(t) = dut_task {
                t.abort();
            }
            return Verdict::Skip(reason);
        }
        if let Some(listener) = &kept {
            // The ladder could not bring the baseline back after an earlier case: a case that
            // needs an idle EVSE is not run (at once, no time-out spent on a state known to be
            // lost); one that does not, runs.
            let broken = self.baseline_broken.lock().unwrap().clone();
            if let Some(mut b) = broken {
                if self.back_at_baseline(listener) {
                    trace.log("baseline", format!("the station is at the baseline again (lost after {})", b.after));
                    *self.baseline_broken.lock().unwrap() = None;
                } else if !needs_idle_evse(meta) {
                    trace.log("baseline", format!("runs although the baseline is lost since {} ({}): the case needs no idle EVSE", b.after, b.reason));
                } else if listener.live().is_some() && listener.model().lock().unwrap().evse_free(self.evse_under_test()) {
                    trace.log("baseline", format!("runs although the baseline is lost since {} ({}): what is off is not on EVSE {}, the one under test", b.after, b.reason, self.evse_under_test()));
                } else {
                    let verdict = match &b.reported_in {
                        Some(first) => Verdict::Inconclusive(format!("not run: the baseline is lost since {} (see {first})", b.after)),
                        None => Verdict::Inconclusive(format!("not run: the baseline was lost after {}: {}; tried: {}", b.after, b.reason, b.tried.join("; "))),
                    };
                    b.reported_in.get_or_insert_with(|| meta.id.clone());
                    *self.baseline_broken.lock().unwrap() = Some(b);
                    return verdict;
                }
            } else if self.visibly_off_baseline(listener) {
                // The station left the baseline after the last look (its own doing between
                // cases): back to it before the case, by the same ladder.
                trace.log("baseline", "the station left the baseline between cases: bringing it back before the case");
                if let Err(lost) = self.restore_baseline(listener, &bench, version, trace, false).await {
                    let reason = format!("not run: the baseline was lost between cases, before {}: {}; tried: {}", meta.id, lost.reason, lost.tried.join("; "));
                    *self.baseline_broken.lock().unwrap() = Some(Broken { after: format!("the time before {}", meta.id), reason: lost.reason, reported_in: Some(meta.id.clone()), tried: lost.tried });
                    listener.between_cases(Trace::new());
                    return Verdict::Inconclusive(reason);
                }
            }
            take_inventory(listener, version, Duration::from_millis(u64::from(self.opts.config.timing.response_ms)), trace).await;
            // An optional feature the station's own configuration shows it does not have, where
            // the lab said nothing of it (its word was taken already: `DutDescription::applies`).
            let unsaid: Vec<String> = meta.features.iter().filter(|f| self.opts.description.as_ref().and_then(|d| d.says(f)).is_none()).cloned().collect();
            let lacking = listener.model().lock().unwrap().inventory.as_ref().and_then(|inv| crate::inventory::lacks(inv, version, &unsaid));
            if let Some(reason) = lacking {
                if let Some(t) = dut_task {
                    t.abort();
                }
                return Verdict::Skip(reason);
            }
            listener.begin_case(trace.clone(), vec![version]);
            match self.serve(version) {
                Ok(s) => listener.secure(s),
                Err(v) => return v,
            }
        }
        let mut config = self.opts.config.clone();
        // How many EVSEs the station has (the DUT description's `evses`), for cases about all.
        config.parameters.entry("evses".into()).or_insert_with(|| config.evses.max(1).to_string());
        if let Some(inventory) = kept.as_ref().and_then(|l| l.model().lock().unwrap().inventory.clone()) {
            crate::inventory::into_parameters(&inventory, &mut config.parameters);
        }
        // The built-in CSMS's endpoint one profile up, for connection-profile cases (A05).
        if let Some(u) = raised_url {
            config.parameters.entry("csms-url-profile-up".into()).or_insert(u);
        }
        if let Endpoint::CsmsUrl(url) = &endpoint {
            // What the last case left open at the CSMS, and could not end then: again now.
            let left = self.left_open.lock().unwrap().take();
            if let Some((mut b, left)) = left {
                if let Err((e, left)) = self.wind_up(url, version, security, left, trace).await {
                    let verdict = match &b.reported_in {
                        Some(first) => Verdict::Inconclusive(format!("what {} left open at the CSMS is still not ended (see {first})", b.after)),
                        None => Verdict::Inconclusive(format!("what {} left open at the CSMS could not be ended: {} (again now: {e})", b.after, b.reason)),
                    };
                    b.reported_in.get_or_insert_with(|| meta.id.clone());
                    *self.left_open.lock().unwrap() = Some((b, left));
                    return verdict;
                }
            }
            let n = self.station_cases.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let tokens = &mut config.valid_id_tokens;
            if !tokens.is_empty() {
                let len = tokens.len();
                tokens.rotate_left(n % len);
            }
        }
        // Part 6's configuration state, where the harness plays the CSMS of a part-6 case.
        let configuration = if meta.role == Role::Csms { crate::configuration::State::for_case(&meta.id, version) } else { Default::default() };
        let ctx = Arc::new(CaseContext { trace: trace.clone(), started: Instant::now(), config, version, endpoint, bench, security: security.clone(), leftovers: Default::default(), own_station: self.own_station.clone(), configuration });
        let limit = Duration::from_millis(u64::from(meta.timeout_ms)) + GRACE + self.opts.config.timing.extra();
        let outcome = self.host.run_case(suite, &meta.id, ctx.clone(), limit).await;
        let verdict = match outcome {
            GuestOutcome::Verdict(v) => v,
            GuestOutcome::Error(e) => Verdict::Error(e),
        };
        // The verdict is the case's: what the baseline meets afterwards is only logged (unless
        // the station breaks a requirement in the undo, see below).
        // A configuration state that could not be made is the verdict (a skip, or a failure
        // for a required variable): the case's own can only be about the missing preparation.
        let verdict = ctx.configuration.unmet().unwrap_or(verdict);
        let mut verdict = verdict.with_violations(&trace.violations());
        // Whatever happened to the case, the bench goes back to a safe state...
        ctx.bench.safe_state(trace).await;
        // ...and the CSMS hears the end of what the case left open.
        if let Endpoint::CsmsUrl(url) = &ctx.endpoint {
            let left = std::mem::take(&mut *ctx.leftovers.lock().unwrap());
            if let Err((reason, left)) = self.wind_up(url, version, &ctx.security, left, trace).await {
                *self.left_open.lock().unwrap() = Some((Broken { after: meta.id.clone(), reason, reported_in: None, tried: vec![] }, left));
            }
            self.own_station.end_case(Trace::new()).await;
        }
        if let Some(t) = dut_task {
            t.abort();
        }
        if let Some(listener) = &kept {
            listener.end_case();
            let lost_already = self.baseline_broken.lock().unwrap().is_some();
            match self.restore_baseline(listener, &ctx.bench, version, trace, lost_already).await {
                Ok(()) => *self.baseline_broken.lock().unwrap() = None,
                Err(lost) => {
                    // An undo the station accepted and did not carry out is its failure, in
                    // the case that left the state.
                    if let (Some((requirement, expected, observed)), Verdict::Pass | Verdict::Inconclusive(_)) = (&lost.broke, &verdict) {
                        verdict = Verdict::Fail { requirement: Some(requirement.clone()), expected: format!("(after the case, in the baseline's undo) {expected}"), observed: observed.clone() };
                    }
                    let mut broken = self.baseline_broken.lock().unwrap();
                    if broken.is_none() {
                        *broken = Some(Broken { after: meta.id.clone(), reason: lost.reason, reported_in: None, tried: lost.tried });
                    }
                }
            }
            listener.between_cases(Trace::new());
        }
        verdict
    }
}

/// Before the first case against a connected, registered station — or, when the station first
/// registers inside a case, as soon as it is ready (`host::ready_station`): read its
/// configuration (`inventory`) once, noted in the case's trace. A station that cannot be read
/// is logged and read again before the next case.
pub(crate) async fn take_inventory(listener: &Listener, version: OcppVersion, timeout: Duration, trace: &Trace) {
    let model = listener.model();
    let (read, registered) = {
        let m = model.lock().unwrap();
        (m.inventory.is_some(), m.registration.is_accepted())
    };
    let Some(conn) = listener.live().filter(|_| !read && registered) else { return };
    // The exchange goes into the case's wire log: the evidence of what it was judged against.
    conn.retarget(trace.clone());
    match crate::inventory::read(&conn, version, timeout).await {
        Ok(found) => {
            let said: Vec<String> = found.iter().map(|(k, v)| format!("{k}={v}")).collect();
            trace.log("state", format!("the station's configuration, read before its first case: {}", said.join(", ")));
            model.lock().unwrap().inventory = Some(found);
        }
        Err(e) => trace.log("state", format!("could not read the station's configuration ({e}); cases use the DUT description's values and their defaults")),
    }
}

/// One test PKI per process for built-in DUTs run without one (a test binary makes many runners).
fn builtin_ca() -> anyhow::Result<Arc<ocpp_core::security::pki::Pki>> {
    static CA: std::sync::OnceLock<Arc<ocpp_core::security::pki::Pki>> = std::sync::OnceLock::new();
    if let Some(ca) = CA.get() {
        return Ok(ca.clone());
    }
    let made = Arc::new(ocpp_core::security::pki::Pki::generate("CS001", &["localhost".into(), "127.0.0.1".into()])?);
    Ok(CA.get_or_init(|| made).clone())
}
