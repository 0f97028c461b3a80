//! Reference charging station for OCPP 1.6J, 2.0.1 and 2.1.
//!
//! One version-neutral model (EVSEs, cable, pilot, tokens, transactions, meter, settings,
//! local list and cache, outbox with offline queueing) drives two dialects that turn its
//! events into messages and answer the CSMS: [`v16`] and [`v2x`] (2.0.1 and 2.1).
//! Its physical inputs (cable, pilot, token reader, power, network) arrive as bench [`Action`]s,
//! sent by the harness's simulated bench driver or by `sim station`'s console.
mod connection;
pub mod firmware;
mod own_certificate;
mod panel;
mod reservation;
mod roots;
mod security;
mod v16;
mod v2x;

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Arc,
    time::Duration,
};

use serde_json::{Value, json};
use tokio::{
    sync::mpsc,
    time::Instant,
};

use super::{Fault, Faults, variant::Variant};
use ocpp_bench::{Action, EvFault, Pilot};
use ocpp_core::version::OcppVersion;

use connection::{Deferred, run_reporting};
pub use connection::run;
pub use panel::{Panel, RELAYS};
pub use security::StationSecurity;

#[derive(Debug, Clone)]
pub struct StationConfig {
    /// Base URL of the CSMS; the station id is appended.
    pub csms_url: String,
    pub station_id: String,
    pub version: OcppVersion,
    /// EVSEs, one connector each (connector 1 of EVSE n; 1.6 connector n).
    pub evses: u32,
    pub faults: Faults,
    /// First pause before reconnecting; doubles per failed attempt up to `reconnect_max`.
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    /// Id tokens on the station's local authorization list from the factory.
    pub local_tokens: Vec<String>,
    /// Basic-auth credentials and TLS settings (security profiles 1-3).
    pub security: StationSecurity,
    /// Legal but unusual behaviours (see [`super::variant`]).
    pub variants: Vec<Variant>,
    /// The card a driver presents in the `token-without-cable` disturbance.
    pub disturb_token: String,
}

impl StationConfig {
    pub fn new(csms_url: impl Into<String>, station_id: impl Into<String>, version: OcppVersion) -> Self {
        StationConfig {
            csms_url: csms_url.into(),
            station_id: station_id.into(),
            version,
            evses: 1,
            faults: Faults::default(),
            reconnect_min: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(5),
            local_tokens: vec![],
            security: StationSecurity::default(),
            variants: vec![],
            disturb_token: ocpp_core::defaults::VALID_ID_TOKENS[0].to_string(),
        }
    }
}

/// What reaches a running station from outside its OCPP connection.
#[derive(Debug, Clone)]
pub enum Input {
    /// The physical world, as a bench drives it.
    Bench(Action),
    /// Something a person at the station or its own logic does that leaves it off the
    /// baseline (see [`Disturbance`]).
    Disturb(Disturbance),
}

/// A way the station leaves the state a case expects, without the CSMS asking: what a lab's
/// device does between cases (a technician's service switch, a driver's card, its own
/// firmware reporting a status for EVSE 0). Tests use them to prove that the harness brings a
/// long-lived station back to the baseline by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disturbance {
    /// The whole station out of service, reported Unavailable (as after ChangeAvailability
    /// Inoperative at station level).
    StationUnavailable,
    /// EVSE 1 out of service (as after an EVSE-level Inoperative).
    EvseUnavailable,
    /// A driver's card at EVSE 1 without a cable: an authorization (2.x with TxStartPoint
    /// Authorized: a transaction) waiting for the cable.
    TokenWithoutCable,
    /// 2.x: a StatusNotification for EVSE 0 / connector 0, which numbers nothing (1.6: the
    /// charge point's connector 0, which is legal).
    StatusForEvse0,
    /// 1.6: connector 1 reserved through the station's own app, a reservation no CSMS made
    /// (so no id to cancel it by); it lapses after `LOCAL_RESERVATION`.
    Reserved,
    /// 1.6: a TxDefaultProfile for the whole charge point that someone else set: nothing the
    /// station reports shows it.
    ChargingProfile,
    /// A technician changed a setting the cases read (the connection time-out: 2.x
    /// TxCtrlr.EVConnectionTimeOut, 1.6 ConnectionTimeOut): reported by nothing either.
    VariableChanged,
    /// A firmware update the station runs on its own (a maintenance job): its status
    /// notifications for a couple of seconds, ending InstallationFailed (no reboot).
    FirmwareUpdate,
}

/// How long a reservation made at the station itself (disturbance `reserved`) holds.
const LOCAL_RESERVATION: Duration = Duration::from_secs(2);

impl Disturbance {
    pub const ALL: [(Disturbance, &str); 8] = [
        (Disturbance::StationUnavailable, "station-unavailable"),
        (Disturbance::EvseUnavailable, "evse-unavailable"),
        (Disturbance::TokenWithoutCable, "token-without-cable"),
        (Disturbance::StatusForEvse0, "status-for-evse-0"),
        (Disturbance::Reserved, "reserved"),
        (Disturbance::ChargingProfile, "charging-profile"),
        (Disturbance::VariableChanged, "variable-changed"),
        (Disturbance::FirmwareUpdate, "firmware-update"),
    ];

    /// Whether the station at this version has what the disturbance needs (the 2.x reference
    /// station has no reservations or charging profiles).
    pub fn applies(self, v16: bool) -> bool {
        v16 || !matches!(self, Disturbance::Reserved | Disturbance::ChargingProfile)
    }

    pub fn named(name: &str) -> Option<Disturbance> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(d, _)| *d)
    }

    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(d, _)| *d == self).map(|(_, n)| *n).unwrap_or("disturbance")
    }
}

/// Sends physical inputs to a running station, and shows what a bench sees of it ([`Panel`]).
#[derive(Clone)]
pub struct StationHandle {
    inputs: mpsc::UnboundedSender<Input>,
    panel: Arc<Panel>,
    evses: u32,
    version: OcppVersion,
    /// Disturbances handed out by `next_disturbance`.
    disturbed: Arc<std::sync::atomic::AtomicUsize>,
}

impl StationHandle {
    /// False when the station is no longer running.
    pub fn send(&self, input: Action) -> bool {
        self.inputs.send(Input::Bench(input)).is_ok()
    }

    /// The disturbances that apply at the station's version in turn, one per call (for a
    /// bench that disturbs between every two cases).
    pub fn next_disturbance(&self) -> Disturbance {
        let v16 = self.version == OcppVersion::V16;
        let applicable: Vec<Disturbance> = Disturbance::ALL.iter().map(|(d, _)| *d).filter(|d| d.applies(v16)).collect();
        let n = self.disturbed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        applicable[n % applicable.len()]
    }

    /// Leave the baseline as `d` says; false when the station is no longer running.
    pub fn disturb(&self, d: Disturbance) -> bool {
        self.inputs.send(Input::Disturb(d)).is_ok()
    }

    /// Whether the CSMS has accepted the station's BootNotification (since its last reboot).
    pub fn is_booted(&self) -> bool {
        self.panel.is_booted()
    }

    /// The simulated bench meter on EVSE 1's feed, in Wh.
    pub fn meter_wh(&self) -> f64 {
        self.panel.meter_wh()
    }

    /// The power the simulated bench meter sees now, in W.
    pub fn meter_power_w(&self) -> f64 {
        self.panel.power_w()
    }

    /// How long the first registration took (connect, upgrade, BootNotification accepted).
    pub fn registration_time(&self) -> Option<Duration> {
        let us = self.panel.registered_after_us();
        (us > 0).then(|| Duration::from_micros(us))
    }

    /// A digital input (`contactor-N`: the contactor of EVSE N closed).
    pub fn input(&self, name: &str) -> Result<bool, String> {
        self.panel.input(name, self.evses)
    }

    /// A bench relay wired to the station, as last switched.
    pub fn relay(&self, name: &str) -> Result<bool, String> {
        self.panel.relay(name)
    }

    /// Switch a bench relay wired to the station (see [`RELAYS`]); the station sees the change.
    pub fn switch(&self, name: &str, on: bool) -> Result<(), String> {
        self.panel.switch(name, on)?;
        if self.send(Action::Relay { name: name.to_string(), on }) { Ok(()) } else { Err("the simulated station is not running".into()) }
    }
}

/// Start a station; it runs until the task is aborted.
pub fn spawn(mut cfg: StationConfig) -> (StationHandle, tokio::task::JoinHandle<()>) {
    if cfg.variants.contains(&Variant::TwoEvses) {
        cfg.evses = cfg.evses.max(2);
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let panel = Arc::new(Panel::default());
    let handle = StationHandle { inputs: tx, panel: panel.clone(), evses: cfg.evses, version: cfg.version, disturbed: Arc::default() };
    (handle, tokio::spawn(run_reporting(cfg, rx, panel)))
}

/// Energy flows at this power while the EV charges.
const POWER_W: f64 = 7_400.0;
/// A CALL without an answer after this long is given up (transaction messages are retried),
/// unless the device model says otherwise (2.x OCPPCommCtrlr.MessageTimeout).
const MESSAGE_TIMEOUT: Duration = Duration::from_secs(15);

/// A settings key by meaning; each dialect names it.
#[derive(Debug, Clone, Copy)]
enum Key {
    HeartbeatInterval,
    MeterInterval,
    ConnectionTimeout,
    AuthorizeRemoteStart,
    LocalListEnabled,
    CacheEnabled,
    LocalPreAuthorize,
    LocalAuthorizeOffline,
    /// Offline, a token neither the list nor the cache knows is authorized (C13.FR.04).
    OfflineTxForUnknownId,
    /// Online, a listed token that is not Accepted is not asked for (LA-3, C14.FR.03's opt-out).
    ListDisablePostAuthorize,
}

/// Why a transaction ended, by meaning; each dialect names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// The same token was presented again.
    Local,
    Remote,
    EvDisconnected,
    PowerLoss,
    /// Reset by the CSMS; `true` for a hard/immediate one.
    Reset(bool),
    Unlock,
    /// The cable was not plugged in within the connection time-out.
    Timeout,
    /// The CSMS refused the token after the transaction started.
    DeAuthorized,
    /// A circuit fault (diode, RCD) cut the energy.
    Fault(EvFault),
    /// 2.x: the ISO 15118 EV ended the charging itself (E15).
    ByEv,
}

/// What started or changed a transaction (2.0.1 trigger reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    Authorized,
    CablePluggedIn,
    RemoteStart,
    ChargingStateChanged,
    MeterValuePeriodic,
    /// The driver's token, or the CSMS, ended the authorization and the transaction goes on
    /// until the EV leaves (TxStopPoint without Authorized, PowerPathClosed, EnergyTransfer).
    StopAuthorized,
    RemoteStop,
    /// 2.x: the limit the EV may draw changed (K11.FR.04, K13.FR.03).
    ChargingRateChanged,
    /// 2.1: the CSMS changed the transaction's tariff (I11.FR.07).
    TariffChanged,
}

#[derive(Debug, Clone)]
struct Auth {
    token: String,
    token_type: String,
    remote_start_id: Option<i64>,
    /// 2.x: the reservation this authorization used, until a TransactionEvent carried it.
    reservation_id: Option<i64>,
}

#[derive(Debug, Clone)]
struct Tx {
    /// Station-local number; 1.6 maps it to the CSMS's transactionId once known.
    local: u64,
    /// The 2.x transaction id.
    id: String,
    auth: Option<Auth>,
    seq_no: u64,
    charging: bool,
    next_sample: Option<Instant>,
    /// 2.x: samples collected for the Ended event (TxEndedInterval, see `metering`).
    ended_values: Vec<Value>,
    ended_next: Option<Instant>,
    ended_aligned_next: Option<Instant>,
    /// 2.x: what ended the authorization of a transaction that goes on until the EV leaves
    /// (the stoppedReason of its Ended event, E06.FR.02, F04.FR.03).
    stopped: Option<Stop>,
    /// When it started: where a Relative charging schedule begins (K01).
    started: chrono::DateTime<chrono::Utc>,
    /// 2.1: the tariff it is charged by and its cost so far (I07.FR.14, I11, I12).
    cost: Option<v2x::tariff::TxCost>,
}

#[derive(Debug)]
struct Evse {
    id: u32,
    plugged: bool,
    pilot: Pilot,
    /// A circuit fault (diode, RCD) until cleared: no energy, connector Faulted.
    fault: Option<EvFault>,
    operative: bool,
    /// ChangeAvailability Inoperative waiting for the transaction to end.
    inoperative_scheduled: bool,
    /// Authorized but the cable is not in yet (1.6 and 2.x without a transaction).
    auth: Option<Auth>,
    /// When an authorization without a cable expires.
    connect_deadline: Option<Instant>,
    tx: Option<Tx>,
    energy_wh: f64,
    metered_at: Instant,
    /// 1.6: the transaction ended but the cable is still in.
    finishing: bool,
    /// The last status sent, so only changes are reported.
    reported: Option<&'static str>,
    /// 2.x: connectors of the EVSE besides connector 1, the one the bench's cable is in
    /// (variant `two-evses`: EVSE 2 has a second). They are never used for charging and show
    /// the EVSE's availability.
    spare_connectors: u32,
    /// The last status sent for the spare connectors.
    spare_reported: Option<&'static str>,
    /// 1.6: held for one idTag until it expires.
    reservation: Option<reservation::Reservation>,
}

/// Whether an upload or download location cannot be reached: its host is one that cannot
/// exist (RFC 2606 `.invalid`), or it is no URL.
fn unreachable(location: &str) -> bool {
    reqwest::Url::parse(location).ok().and_then(|u| u.host_str().map(|h| h.ends_with(".invalid"))).unwrap_or(true)
}

/// One message waiting to be sent.
#[derive(Debug, Clone)]
struct Out {
    action: String,
    payload: Value,
    /// How often it was sent and not answered with a CALLRESULT (E13 counts attempts).
    attempts: u32,
    /// Transaction messages survive a lost connection and are sent when it is back.
    persistent: bool,
    /// 2.1 SEND frame: no answer expected.
    send_frame: bool,
}

impl Out {
    fn call(action: &str, payload: Value) -> Out {
        Out { action: action.into(), payload, attempts: 0, persistent: false, send_frame: false }
    }
    fn tx(action: &str, payload: Value) -> Out {
        Out { action: action.into(), payload, attempts: 0, persistent: true, send_frame: false }
    }
}

struct Pending {
    id: String,
    out: Out,
    sent: Instant,
}

/// The answer to a CALL from the CSMS: a payload or a CALLERROR code and text.
type Reply = Result<Value, (&'static str, String)>;

/// A CALLRESULT that does not end the connection.
/// A remote stop (1.6 RemoteStopTransaction, 2.x RequestStopTransaction) of the transaction
/// found, if one was: it ends as Remote.
fn remote_stop(st: &mut Station, found: Option<usize>) -> (Reply, Option<Ended>) {
    match found {
        Some(i) => {
            st.stop_authorization(i, Stop::Remote);
            ok(json!({"status": "Accepted"}))
        }
        None => ok(json!({"status": "Rejected"})),
    }
}

fn ok(v: Value) -> (Reply, Option<Ended>) {
    (Ok(v), None)
}

/// What ended a connection.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// The socket closed or the network went down.
    Dropped,
    /// The station leaves to connect again with a new Basic-auth password (A01): what it has
    /// queued goes out on the next connection.
    Reconnect,
    /// Reset by the CSMS.
    Reboot,
    /// Mains off and on.
    PowerCycle,
}

/// A log upload to try again (N01: `retries` attempts `retryInterval` apart).
struct LogRetry {
    request_id: i64,
    next: Instant,
    left: u32,
    interval: Duration,
}

/// A 2.1 periodic event stream opened by the CSMS.
struct EventStream {
    id: i64,
    interval: Duration,
    next: Instant,
    sent: u64,
}

pub struct Station {
    cfg: StationConfig,
    v16: bool,
    /// Set once BootNotification was Accepted; survives reconnects, not reboots.
    booted: bool,
    boot_reason: &'static str,
    retry_boot: Option<Instant>,
    /// The CSMS answered the last BootNotification Rejected: until a boot is accepted, its
    /// CALLs get SecurityError (B03.FR.08).
    boot_rejected: bool,
    /// Log uploads that failed and will be tried again (GetLog retries).
    log_retries: Vec<LogRetry>,
    /// The log upload going on: its request and when it is done (N01).
    log_upload: Option<(i64, Instant)>,
    /// 1.6: when the diagnostics upload going on is done.
    diagnostics_upload: Option<Instant>,
    /// A transaction message failed: nothing is sent before this (E13 attempt interval).
    retry_at: Option<Instant>,
    /// The firmware update going on (2.x L01, 1.6 UpdateFirmware and SignedUpdateFirmware).
    firmware: Option<firmware::Job>,
    /// Reboot once the outbox is empty, with this boot reason (firmware activation).
    reboot_for: Option<&'static str>,
    /// 2.x: the next clock-aligned meter reading (AlignedDataCtrlr.Interval), see `metering`.
    aligned_next: Option<Instant>,
    /// Network connection profiles the CSMS set, by slot (B09); slot 1 without one is the
    /// configured CSMS URL.
    network_profiles: BTreeMap<i64, Value>,
    /// 1.6 charging profiles as set: (connector, csChargingProfiles); connector 0 is the whole
    /// charge point.
    charging_profiles: Vec<(u32, Value)>,
    /// Where in NetworkConfigurationPriority the station connects, and the failed attempts
    /// there: after NetworkProfileConnectionAttempts it falls back to the next slot (B10.FR.03).
    slot_pos: usize,
    slot_failures: u32,
    next_heartbeat: Option<Instant>,
    /// `Component.Variable` (2.x) or key (1.6) -> (value, read-only).
    settings: BTreeMap<String, (String, bool)>,
    evses: Vec<Evse>,
    /// The local authorization list: token -> status, and the groupIdToken of its entries
    /// that have one (C09.FR.02).
    local_list: BTreeMap<String, String>,
    list_groups: BTreeMap<String, String>,
    local_list_version: i64,
    auth_cache: BTreeMap<String, String>,
    /// 2.x: the groupIdToken the CSMS gave each token it authorized (H03.FR.04-08).
    groups: BTreeMap<String, String>,
    tx_counter: u64,
    /// 1.6: station-local transaction number -> the CSMS's transactionId.
    tx_ids: BTreeMap<u64, i64>,
    next_msg_id: u64,
    outbox: VecDeque<Out>,
    pending: Option<Pending>,
    online: bool,
    network_up: bool,
    /// Reset OnIdle/Soft waiting for transactions to end.
    reset_when_idle: bool,
    streams: Vec<EventStream>,
    tariffs: v2x::tariff::Tariffs,
    /// Fault `drop-mid-transaction`: the connection goes now.
    drop_now: bool,
    /// What the station's handles see: registration, meter, contactors, relays.
    panel: Arc<Panel>,
    /// When the station started (its first registration's time is measured from it).
    born: Instant,
    /// Security events to report once connected: (type, techInfo).
    security_events: Vec<(String, String)>,
    /// Installed root certificates (2.x certificate management): (type, hash data).
    certificates: Vec<(String, serde_json::Value)>,
    /// The CSMS roots among them, PEM with their hash data: trusted on the next TLS connection.
    csms_roots: Vec<(serde_json::Value, String)>,
    /// The public key of the last CSR, until a certificate for it is taken (A02).
    csr_key: Option<Vec<u8>>,
    /// 2.x: the public key of the last V2G CSR, until a V2G certificate for it is taken.
    v2g_csr_key: Option<Vec<u8>>,
    /// 2.x: the EVSEs whose ISO 15118 EV negotiates its schedule: the transaction, and whether
    /// a schedule was agreed already (K15-K17).
    negotiating: std::collections::BTreeMap<u32, (String, bool)>,
    /// The id token type of tokens that are not cards (an ISO 15118 EV's eMAID), by token.
    token_types: std::collections::HashMap<String, String>,
    /// 2.x: the V2G certificate chain taken, as OCSP request data: the leaf, then its sub-CAs.
    v2g_chain: Vec<serde_json::Value>,
    /// 2.x: the CSR the CSMS accepted, sent again while no certificate comes (A02.FR.17/18).
    csr_resend: Option<own_certificate::Resend>,
    /// 2.x display messages as set (MessageInfo), kept across reboots (O01.FR.10).
    display_messages: Vec<serde_json::Value>,
    /// 2.1 DER controls (R04, see `v2x::der`).
    der_controls: Vec<v2x::der::Control>,
    /// 2.x variable monitors, kept across reboots (N07.FR.13).
    monitors: Vec<v2x::monitoring::Monitor>,
    /// The hash data of the station's certificate signed by the CSMS.
    own_certificate: Option<serde_json::Value>,
    /// The EVSE whose reader the last token was held to (0: the station's reader): a new
    /// authorization goes there when it is free.
    reader_evse: u32,
    /// The last NotifyEvent eventId (variant `notify-event-only`), unique since the boot.
    event_id: i64,
    /// Variant own-call-first: an answer held back until the CALL it caused is answered.
    deferred: Option<Deferred>,
    /// The factory connection (slot 1 without a profile) went with an upgrade (A05.FR.06).
    factory_slot_dropped: bool,
}

impl Station {
    fn new(cfg: StationConfig) -> Station {
        let v16 = cfg.version == OcppVersion::V16;
        let mut settings = if v16 { v16::settings(&cfg) } else { v2x::settings(&cfg) };
        if cfg.variants.contains(&Variant::NoAuthCache) {
            settings.retain(|k, _| !k.starts_with("AuthCacheCtrlr.") && k != "AuthorizationCacheEnabled");
        }
        let now = Instant::now();
        let evses: Vec<Evse> = (1..=cfg.evses.max(1))
            .map(|id| Evse {
                id,
                plugged: false,
                pilot: Pilot::A,
                operative: true,
                inoperative_scheduled: false,
                fault: None,
                auth: None,
                connect_deadline: None,
                tx: None,
                energy_wh: 1_000.0 * f64::from(id),
                metered_at: now,
                finishing: false,
                reported: None,
                reservation: None,
                spare_connectors: u32::from(id == 2 && cfg.variants.contains(&Variant::TwoEvses)),
                spare_reported: None,
            })
            .collect();
        let local_list = cfg.local_tokens.iter().map(|t| (t.clone(), "Accepted".to_string())).collect();
        let monitors = v2x::monitoring::factory(&evses.iter().map(|e| e.id).collect::<Vec<_>>());
        Station {
            monitors,
            v16,
            booted: false,
            boot_reason: "PowerUp",
            retry_boot: None,
            boot_rejected: false,
            log_retries: vec![],
            log_upload: None,
            diagnostics_upload: None,
            retry_at: None,
            network_profiles: BTreeMap::new(),
            charging_profiles: Vec::new(),
            slot_pos: 0,
            slot_failures: 0,
            aligned_next: None,
            firmware: None,
            reboot_for: None,
            next_heartbeat: None,
            settings,
            evses,
            local_list,
            list_groups: BTreeMap::new(),
            local_list_version: if cfg.local_tokens.is_empty() { 0 } else { 1 },
            auth_cache: BTreeMap::new(),
            groups: BTreeMap::new(),
            tx_counter: 0,
            tx_ids: BTreeMap::new(),
            next_msg_id: 1,
            outbox: VecDeque::new(),
            pending: None,
            online: false,
            network_up: true,
            reset_when_idle: false,
            streams: vec![],
            tariffs: Default::default(),
            drop_now: false,
            panel: Arc::default(),
            born: Instant::now(),
            security_events: vec![],
            certificates: vec![],
            csms_roots: vec![],
            csr_key: None,
            v2g_csr_key: None,
            v2g_chain: Vec::new(),
            token_types: Default::default(),
            negotiating: Default::default(),
            csr_resend: None,
            display_messages: Vec::new(),
            der_controls: Vec::new(),
            own_certificate: None,
            factory_slot_dropped: false,
            deferred: None,
            event_id: 0,
            reader_evse: 0,
            cfg,
        }
    }

    // ---- settings ----

    fn key(&self, k: Key) -> &'static str {
        if self.v16 { v16::key(k) } else { v2x::key(k) }
    }

    fn setting(&self, k: Key) -> &str {
        self.settings.get(self.key(k)).map(|(v, _)| v.as_str()).unwrap_or("")
    }

    fn setting_secs(&self, k: Key) -> u64 {
        self.setting(k).parse().unwrap_or(0)
    }

    fn enabled(&self, k: Key) -> bool {
        self.setting(k).eq_ignore_ascii_case("true")
    }

    /// A new sampling interval applies to ongoing transactions at once.
    fn meter_interval_changed(&mut self) {
        let s = self.setting_secs(Key::MeterInterval);
        for e in &mut self.evses {
            if let Some(tx) = e.tx.as_mut() {
                tx.next_sample = (s > 0).then(|| Instant::now() + Duration::from_secs(s));
            }
        }
    }

    fn set(&mut self, k: Key, value: String) {
        let name = self.key(k).to_string();
        self.settings.entry(name).or_insert((String::new(), false)).0 = value;
    }

    // ---- connection profiles (B09, B10) ----

    /// Slots in NetworkConfigurationPriority order.
    fn priority(&self) -> Vec<i64> {
        let list = self.settings.get("OCPPCommCtrlr.NetworkConfigurationPriority").map(|(v, _)| v.clone()).unwrap_or_default();
        let slots: Vec<i64> = list.split(',').filter_map(|s| s.trim().parse().ok()).collect();
        if slots.is_empty() { vec![1] } else { slots }
    }

    /// The security profile of connection profile `slot` (slot 1 without one: the configured).
    fn slot_profile(&self, slot: i64) -> u8 {
        self.network_profiles.get(&slot).and_then(|p| p["securityProfile"].as_u64()).map_or(self.cfg.security.profile, |p| p as u8)
    }

    /// Connected at a higher profile (A05.FR.06): that profile is SecurityProfile from now on,
    /// and the connection profiles below it are gone, from NetworkConfigurationPriority too.
    fn upgraded(&mut self, sec: StationSecurity) {
        let p = sec.profile;
        let current = self.priority().get(self.slot_pos % self.priority().len()).copied();
        self.cfg.security = sec;
        self.settings.insert("SecurityCtrlr.SecurityProfile".into(), (p.to_string(), true));
        if self.cfg.faults.has(&Fault::KeepLowerProfiles) {
            return;
        }
        self.factory_slot_dropped = true;
        let keep: Vec<i64> = self.priority().into_iter().filter(|&slot| self.network_profiles.get(&slot).is_some() && self.slot_profile(slot) >= p).collect();
        self.network_profiles.retain(|_, q| q["securityProfile"].as_u64().is_some_and(|q| q as u8 >= p));
        self.slot_pos = current.and_then(|c| keep.iter().position(|&s| s == c)).unwrap_or(0);
        let list = keep.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        self.settings.insert("OCPPCommCtrlr.NetworkConfigurationPriority".into(), (list, false));
    }

    /// Whether every slot in the list `value` has a connection profile.
    fn known_slots(&self, value: &str) -> bool {
        let slots: Vec<&str> = value.split(',').map(str::trim).collect();
        let factory = |n: i64| n == 1 && !self.factory_slot_dropped;
        !slots.is_empty() && slots.iter().all(|s| s.parse::<i64>().is_ok_and(|n| factory(n) || self.network_profiles.contains_key(&n)))
    }

    /// The CSMS URL of the slot the station tries now.
    fn csms_url(&self) -> String {
        if self.cfg.faults.has(&Fault::IgnoreConnectionProfiles) {
            return self.cfg.csms_url.clone();
        }
        let slots = self.priority();
        let slot = slots[self.slot_pos % slots.len()];
        self.network_profiles.get(&slot).and_then(|p| p["ocppCsmsUrl"].as_str()).map_or_else(|| self.cfg.csms_url.clone(), str::to_string)
    }

    /// A connection attempt failed: after NetworkProfileConnectionAttempts in a row, the next
    /// slot.
    fn connection_failed(&mut self) {
        self.slot_failures += 1;
        let attempts = self.settings.get("OCPPCommCtrlr.NetworkProfileConnectionAttempts").and_then(|(v, _)| v.parse().ok()).unwrap_or(3u32);
        if self.slot_failures >= attempts.max(1) && self.priority().len() > 1 && !self.cfg.faults.has(&Fault::NoFallback) {
            self.slot_pos = (self.slot_pos + 1) % self.priority().len();
            self.slot_failures = 0;
            tracing::info!(target: "sim", "{}: falling back to {}", self.cfg.station_id, self.csms_url());
        }
    }

    // ---- life cycle ----

    fn reboot(&mut self, reason: &'static str) {
        // A boot starts from the first slot in NetworkConfigurationPriority (B10.FR.01).
        self.slot_pos = 0;
        self.slot_failures = 0;
        self.forget_volatile();
        self.booted = false;
        self.panel.set_booted(false);
        self.boot_reason = reason;
        self.reset_when_idle = false;
        self.boot_rejected = false;
        // A retry wait must not hold back the boot (the message is retried after it).
        self.retry_at = None;
        self.streams.clear();
        self.log_retries.clear();
        self.log_upload = None;
        self.diagnostics_upload = None;
        let forget = self.cfg.faults.has(&Fault::ForgetAvailability);
        for e in &mut self.evses {
            e.auth = None;
            e.connect_deadline = None;
            e.reported = None;
            e.finishing = false;
            // Availability is kept across reboots (G03.FR.08, G04.FR.09).
            if forget {
                e.operative = true;
            }
        }
    }

    /// Mains off and on: transactions end with PowerLoss (reported after the boot).
    fn power_cycle(&mut self) {
        for i in 0..self.evses.len() {
            if self.evses[i].tx.is_some() {
                self.end_tx(i, Stop::PowerLoss);
            }
        }
        self.outbox.retain(|o| o.persistent);
        self.reboot("PowerUp");
    }

    fn enqueue(&mut self, out: Out) {
        if self.online || out.persistent {
            self.outbox.push_back(out);
        }
    }

    fn idle(&self) -> bool {
        self.evses.iter().all(|e| e.tx.is_none())
    }

    // ---- CSMS requests both dialects share ----

    /// ClearCache: the status to answer. Rejected without a cache to clear (variant
    /// no-auth-cache: 2.x C11.FR.04, 1.6 §5.4).
    fn clear_cache(&mut self) -> &'static str {
        if !self.settings.contains_key(self.key(Key::CacheEnabled)) {
            return "Rejected";
        }
        self.auth_cache.clear();
        "Accepted"
    }

    /// ChangeAvailability for EVSE `evse` (0: the whole station): the status to answer.
    fn change_availability(&mut self, evse: u32, operative: bool) -> &'static str {
        let targets: Vec<usize> = match evse {
            0 => (0..self.evses.len()).collect(),
            id => match self.evse_index(id) {
                Some(i) => vec![i],
                None => return "Rejected",
            },
        };
        // Fault reject-same-availability: a change to the state it is in already is refused.
        if self.cfg.faults.has(&Fault::RejectSameAvailability) && targets.iter().all(|&i| self.evses[i].operative == operative) {
            return "Rejected";
        }
        // Fault ignore-operative: says yes to Operative and stays as it is.
        if operative && self.cfg.faults.has(&Fault::IgnoreOperative) {
            return "Accepted";
        }
        let mut scheduled = false;
        for i in targets {
            // An EVSE with a transaction goes inoperative once it ends.
            if !operative && self.evses[i].tx.is_some() {
                self.evses[i].inoperative_scheduled = true;
                scheduled = true;
            } else {
                self.evses[i].operative = operative;
                self.evses[i].inoperative_scheduled = false;
                if !operative {
                    // An unavailable EVSE holds no authorization waiting for a cable.
                    self.evses[i].auth = None;
                    self.evses[i].connect_deadline = None;
                }
                self.refresh_status(i);
            }
        }
        if scheduled { "Scheduled" } else { "Accepted" }
    }

    /// SendLocalList: entries are (token, status, groupIdToken); no status removes the token.
    /// The status to answer.
    fn update_local_list(&mut self, full: bool, version: i64, entries: Vec<(String, Option<String>, Option<String>)>) -> &'static str {
        if full {
            self.local_list.clear();
            self.list_groups.clear();
        } else if version <= self.local_list_version {
            return "VersionMismatch";
        }
        for (token, status, group) in entries {
            self.list_groups.remove(&token);
            match status {
                Some(s) => {
                    if let Some(g) = group {
                        self.list_groups.insert(token.clone(), g);
                    }
                    self.local_list.insert(token, s)
                }
                None => self.local_list.remove(&token),
            };
        }
        self.local_list_version = version;
        "Accepted"
    }

    // ---- physical inputs ----

    fn evse_index(&self, evse: u32) -> Option<usize> {
        self.evses.iter().position(|e| e.id == evse)
    }

    /// Apply a physical input; Some when it ends the connection.
    fn on_signal(&mut self, input: Input) -> Option<Ended> {
        match input {
            Input::Bench(a) => self.on_input(a),
            Input::Disturb(d) => {
                self.disturb(d);
                None
            }
        }
    }

    /// See [`Disturbance`]: done as the station's own doing, reported as it would report it.
    fn disturb(&mut self, d: Disturbance) {
        tracing::info!(target: "sim", "{}: disturbed: {}", self.cfg.station_id, d.name());
        match d {
            Disturbance::StationUnavailable => {
                self.change_availability(0, false);
            }
            Disturbance::EvseUnavailable => {
                self.change_availability(1, false);
            }
            Disturbance::TokenWithoutCable => {
                self.on_input(Action::Token { evse: 0, token: self.cfg.disturb_token.clone() });
            }
            Disturbance::StatusForEvse0 if self.v16 => {
                self.enqueue(Out::call("StatusNotification", json!({"connectorId": 0, "errorCode": "NoError", "status": "Available", "timestamp": ocpp_core::defaults::now_rfc3339()})));
            }
            Disturbance::StatusForEvse0 => {
                self.enqueue(Out::call("StatusNotification", json!({"evseId": 0, "connectorId": 0, "connectorStatus": "Unavailable", "timestamp": ocpp_core::defaults::now_rfc3339()})));
            }
            Disturbance::Reserved if self.v16 => {
                let expires = Instant::now() + LOCAL_RESERVATION;
                self.evses[0].reservation = Some(reservation::Reservation { id: 9_001, token: self.cfg.disturb_token.clone(), expires, group: None, floating: false });
                self.refresh_status(0);
            }
            Disturbance::ChargingProfile if self.v16 => {
                let profile = json!({"chargingProfileId": 9_002, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
                    "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.0}]}});
                self.charging_profiles.push((0, profile));
            }
            // Nothing to disturb with at this version (see `Disturbance::applies`).
            Disturbance::Reserved | Disturbance::ChargingProfile => {}
            Disturbance::VariableChanged => {
                let changed = (self.setting_secs(Key::ConnectionTimeout) + 15).to_string();
                self.set(Key::ConnectionTimeout, changed);
            }
            Disturbance::FirmwareUpdate => firmware::own_update(self),
        }
    }

    fn on_input(&mut self, input: Action) -> Option<Ended> {
        match input {
            Action::Plug { evse, connected } => {
                let i = self.evse_index(evse)?;
                self.advance_meter(i);
                self.evses[i].plugged = connected;
                if connected {
                    self.evses[i].pilot = Pilot::B;
                    self.evses[i].connect_deadline = None;
                    if self.evses[i].tx.is_some() {
                        self.tx_event(i, Trigger::CablePluggedIn);
                    } else {
                        self.try_start(i, Trigger::CablePluggedIn);
                    }
                } else {
                    self.evses[i].pilot = Pilot::A;
                    self.evses[i].finishing = false;
                    if self.evses[i].tx.is_some() {
                        let why = if self.cfg.faults.has(&Fault::WrongStopReason) { Stop::Local } else { Stop::EvDisconnected };
                        self.end_tx(i, why);
                    }
                }
                self.refresh_status(i);
                None
            }
            Action::Pilot { evse, state } => {
                let i = self.evse_index(evse)?;
                if state == Pilot::A {
                    return self.on_input(Action::Plug { evse, connected: false });
                }
                if !self.evses[i].plugged {
                    self.on_input(Action::Plug { evse, connected: true });
                }
                self.advance_meter(i);
                self.evses[i].pilot = state;
                if let Some(tx) = self.evses[i].tx.as_mut() {
                    // Energy flows only for an authorized transaction.
                    let charging = matches!(state, Pilot::C | Pilot::D) && tx.auth.is_some() && tx.stopped.is_none();
                    if tx.charging != charging {
                        tx.charging = charging;
                        self.tx_event(i, Trigger::ChargingStateChanged);
                    }
                }
                self.refresh_status(i);
                None
            }
            Action::Token { evse, token } => {
                self.reader_evse = evse;
                self.present_token(token);
                None
            }
            Action::PowerCycle => Some(Ended::PowerCycle),
            Action::Network(up) => {
                self.network_up = up;
                (!up).then_some(Ended::Dropped)
            }
            Action::EvFault { evse, fault } => {
                let i = self.evse_index(evse)?;
                if self.cfg.faults.has(&Fault::IgnoreEvFaults) {
                    return None;
                }
                self.advance_meter(i);
                self.evses[i].fault = (fault != EvFault::Cleared).then_some(fault);
                // A circuit fault cuts the energy: the transaction ends with the fault as reason.
                if fault != EvFault::Cleared && self.evses[i].tx.is_some() {
                    self.end_tx(i, Stop::Fault(fault));
                }
                self.refresh_status(i);
                None
            }
            Action::Ev15118 { evse, request, params } => {
                if !self.v16 {
                    v2x::ev15118::request(self, evse, &request, &params);
                }
                None
            }
            Action::CsmsTrigger { action, .. } => {
                tracing::info!(target: "sim", "station: {action} is a CSMS's to send; ignored");
                None
            }
            // The cabinet's tamper switch: a critical security event (A04.FR.01), kept for the
            // next connection when offline (A04.FR.02).
            Action::Relay { name, on } => {
                if name == "load-shedding" && !self.v16 {
                    v2x::smart_charging::external_limit(self, on);
                }
                if name == "tamper" && on && !self.cfg.faults.has(&Fault::NoSecurityEvent) {
                    let event = ("TamperDetectionActivated".to_string(), "the cabinet's tamper switch opened".to_string());
                    if self.online {
                        let (kind, info) = event;
                        self.enqueue(Out::call("SecurityEventNotification", json!({"type": kind, "timestamp": ocpp_core::defaults::now_rfc3339(), "techInfo": info})));
                    } else {
                        self.security_events.push(event);
                    }
                }
                None
            }
        }
    }

    /// A card at the reader: stops the transaction it started, or authorizes a new one.
    fn present_token(&mut self, token: String) {
        if let Some(i) = self.evses.iter().position(|e| e.tx.as_ref().and_then(|t| t.auth.as_ref()).is_some_and(|a| a.token == token)) {
            self.stop_authorization(i, Stop::Local);
            self.refresh_status(i);
            return;
        }
        let local = self.local_status(&token);
        // C09.FR.07: a token known locally as Accepted, of the group of the token that
        // authorized a running transaction, ends that authorization without asking.
        if local.as_deref() == Some("Accepted") && self.end_for_group_member(&token) {
            return;
        }
        let listed = self.enabled(Key::LocalListEnabled) && self.local_list.contains_key(&token);
        match local {
            Some(status) if status == "Accepted" && !self.online => self.on_authorized(&token, "Accepted", None),
            // Fault ask-for-listed-token: the list's Accepted is asked about all the same.
            Some(status) if status == "Accepted" && self.enabled(Key::LocalPreAuthorize) && !(listed && self.cfg.faults.has(&Fault::AskForListedToken)) => {
                self.on_authorized(&token, "Accepted", None)
            }
            Some(status) if !self.online => self.on_authorized(&token, &status, None),
            // LA-3: post-authorization of a listed token that is not Accepted is switched off
            // (fault ask-for-listed-token: asked about all the same).
            Some(status) if status != "Accepted" && listed && self.enabled(Key::ListDisablePostAuthorize) && !self.cfg.faults.has(&Fault::AskForListedToken) => {}
            None if !self.online && self.enabled(Key::OfflineTxForUnknownId) => self.on_authorized(&token, "Accepted", None),
            None if !self.online && self.enabled(Key::LocalAuthorizeOffline) => {}
            _ => {
                let payload = if self.v16 { json!({"idTag": token}) } else { json!({"idToken": {"idToken": token, "type": "ISO14443"}}) };
                self.enqueue(Out::call("Authorize", payload));
            }
        }
    }

    /// What the local list or the cache says about a token, where enabled.
    /// The list comes before the cache (C13.FR.01, C14.FR.01; fault `cache-before-list`: the
    /// other way round).
    fn local_status(&self, token: &str) -> Option<String> {
        let listed = self.enabled(Key::LocalListEnabled).then(|| self.local_list.get(token).cloned()).flatten();
        let cached = self.enabled(Key::CacheEnabled).then(|| self.auth_cache.get(token).cloned()).flatten();
        if self.cfg.faults.has(&Fault::CacheBeforeList) { cached.or(listed) } else { listed.or(cached) }
    }

    /// End the authorization of a running transaction that another token of `token`'s group
    /// authorized (C09.FR.03/07); whether there was one.
    fn end_for_group_member(&mut self, token: &str) -> bool {
        let Some(group) = self.group_of(token) else { return false };
        let member = |a: &Auth| a.token != token && self.group_of(&a.token).as_ref() == Some(&group);
        let Some(i) = self.evses.iter().position(|e| e.tx.as_ref().and_then(|t| t.auth.as_ref()).is_some_and(member)) else { return false };
        self.stop_authorization(i, Stop::Local);
        self.refresh_status(i);
        true
    }

    /// A token's groupIdToken: its local list entry's where the list holds it, else the one the
    /// CSMS last gave it.
    fn group_of(&self, token: &str) -> Option<String> {
        if self.enabled(Key::LocalListEnabled) && self.local_list.contains_key(token) {
            return self.list_groups.get(token).cloned();
        }
        self.groups.get(token).cloned()
    }

    /// What a reboot takes with it: the local list only with fault `forget-local-list`
    /// (D01.FR.10 wants it kept), charging profiles only with `forget-charging-profiles`.
    fn forget_volatile(&mut self) {
        if !self.v16 {
            v2x::smart_charging::rebooted(self);
            v2x::display::rebooted(self);
        }
        if self.cfg.faults.has(&Fault::ForgetLocalList) {
            self.local_list.clear();
            self.list_groups.clear();
            self.local_list_version = 0;
        }
    }

    /// A remote start: authorized by the CSMS's request, or first checked with an Authorize
    /// when the station is configured to.
    fn remote_start(&mut self, token: &str, evse: u32, remote_start_id: i64) {
        if self.enabled(Key::AuthorizeRemoteStart) {
            let mut p = if self.v16 { json!({"idTag": token}) } else { json!({"idToken": {"idToken": token, "type": "ISO14443"}}) };
            p["$remote"] = json!([evse, remote_start_id]);
            self.enqueue(Out::call("Authorize", p));
        } else {
            self.on_authorized(token, "Accepted", Some((evse, remote_start_id)));
        }
    }

    /// The outcome of authorizing a token (locally or by the CSMS).
    fn on_authorized(&mut self, token: &str, status: &str, remote: Option<(u32, i64)>) {
        if status != "Accepted" && !self.cfg.faults.has(&Fault::AcceptAnyToken) {
            return;
        }
        // C09.FR.03: the CSMS accepted a member of the group that authorized a transaction
        // (fault accept-any-token: whatever it answered, C09.FR.11).
        if remote.is_none() && !self.v16 && self.end_for_group_member(token) {
            return;
        }
        if remote.is_none() && self.cfg.faults.has(&Fault::StopForAnyToken) {
            if let Some(i) = self.evses.iter().position(|e| e.tx.as_ref().is_some_and(|t| t.auth.is_some())) {
                self.stop_authorization(i, Stop::Local);
                self.refresh_status(i);
                return;
            }
        }
        let token_type = self.token_types.get(token).cloned().unwrap_or_else(|| "ISO14443".into());
        let mut auth = Auth { token: token.to_string(), token_type, remote_start_id: remote.map(|r| r.1), reservation_id: None };
        // The EVSE asked for by a remote start, else one with a cable and no transaction, else any free one.
        // 1.6: a connector reserved for another idTag is not for this one (§3.11).
        let free = |i: &usize| reservation::free_for(self, *i, token);
        let i = match remote {
            Some((evse, _)) => self.evse_index(evse),
            // A reader of one EVSE authorizes for that EVSE only.
            None if self.reader_evse != 0 => self
                .evse_index(self.reader_evse)
                .filter(free)
                .filter(|&i| self.evses[i].tx.as_ref().is_none_or(|t| t.auth.is_none()) && self.evses[i].operative),
            None => reservation::held_for(self, token)
                .or_else(|| (0..self.evses.len()).filter(free).find(|&i| self.evses[i].tx.is_none() && self.evses[i].plugged && self.evses[i].operative))
                .or_else(|| self.evses.iter().position(|e| e.tx.as_ref().is_some_and(|t| t.auth.is_none())))
                .or_else(|| (0..self.evses.len()).filter(free).find(|&i| self.evses[i].tx.is_none() && self.evses[i].operative)),
        };
        let Some(i) = i else { return };
        if !self.v16 {
            auth.reservation_id = reservation::take_for_token(self, i, token);
            // H03.FR.10: a used reservation leaves the connector Available while no cable is
            // in (a transaction that starts at the token then makes it Occupied).
            if auth.reservation_id.is_some() && !self.evses[i].plugged && self.may_talk() {
                self.evses[i].reported = Some("Available");
                let m = self.status_message(i, 1, "Available");
                self.enqueue(m);
            }
        }
        let trigger = if remote.is_some() { Trigger::RemoteStart } else { Trigger::Authorized };
        if let Some(tx) = self.evses[i].tx.as_mut() {
            // 2.x transaction started by the cable: the token now joins it.
            if tx.auth.is_none() {
                tx.auth = Some(auth);
                self.tx_event(i, trigger);
                // The EV was waiting for the authorization to draw energy.
                let e = &mut self.evses[i];
                if e.plugged && matches!(e.pilot, Pilot::C | Pilot::D) {
                    self.advance_meter(i);
                    if let Some(tx) = self.evses[i].tx.as_mut() {
                        tx.charging = true;
                    }
                    self.tx_event(i, Trigger::ChargingStateChanged);
                }
            }
            return;
        }
        self.evses[i].auth = Some(auth);
        // Fault ignore-interval: the factory default, whatever the CSMS set.
        let timeout = if self.cfg.faults.has(&Fault::IgnoreInterval) { 60 } else { self.setting_secs(Key::ConnectionTimeout).max(1) };
        if !self.evses[i].plugged {
            self.evses[i].connect_deadline = Some(Instant::now() + Duration::from_secs(timeout));
        }
        self.try_start(i, trigger);
        self.refresh_status(i);
    }

    /// Start a transaction when the version's start conditions hold.
    fn try_start(&mut self, i: usize, trigger: Trigger) {
        let e = &self.evses[i];
        if e.tx.is_some() || !e.operative {
            return;
        }
        let start = if self.v16 { e.auth.is_some() && e.plugged } else { v2x::starts(self, i) };
        if !start {
            self.refresh_status(i);
            return;
        }
        self.tx_counter += 1;
        let id = if self.cfg.faults.has(&Fault::TransactionIdReuse) { "TX-1".to_string() } else { format!("TX-{}-{}", std::process::id() % 1000, self.tx_counter) };
        let e = &mut self.evses[i];
        let auth = e.auth.take();
        e.connect_deadline = if e.plugged { None } else { e.connect_deadline };
        e.metered_at = Instant::now();
        let charging = e.plugged && matches!(e.pilot, Pilot::C | Pilot::D) && auth.is_some();
        let interval = self.setting_secs(Key::MeterInterval);
        let e = &mut self.evses[i];
        e.tx = Some(Tx {
            local: self.tx_counter,
            id,
            auth,
            seq_no: 0,
            charging,
            next_sample: (interval > 0).then(|| Instant::now() + Duration::from_secs(interval)),
            ended_values: vec![],
            ended_next: None,
            ended_aligned_next: None,
            started: chrono::Utc::now(),
            stopped: None,
            cost: None,
        });
        let msgs = if self.v16 { v16::tx_started(self, i) } else { v2x::tx_started(self, i, trigger) };
        for m in msgs {
            self.enqueue(m);
        }
        self.refresh_status(i);
    }

    /// A change during a transaction (2.x TransactionEvent Updated; 1.6 reports it by status).
    fn tx_event(&mut self, i: usize, trigger: Trigger) {
        if !self.v16 {
            let m = v2x::tx_updated(self, i, trigger);
            self.enqueue(m);
        }
        self.refresh_status(i);
    }

    /// The driver (`Local`) or the CSMS (`Remote`) ends the authorization: the transaction
    /// ends if TxStopPoint has a point that this ends (E06.FR.03/06/07, F03.FR.03); else the
    /// energy stops, an Updated event says why, and the EV leaving ends it (F03.FR.02,
    /// E06.FR.02). Without an EV there is nothing to wait for. 1.6 always ends it.
    fn stop_authorization(&mut self, i: usize, why: Stop) {
        let Some(tx) = self.evses[i].tx.as_ref() else { return };
        if tx.stopped.is_some() {
            return;
        }
        if self.v16 || !self.evses[i].plugged || v2x::authorization_is_a_stop_point(self) {
            return self.end_tx(i, why);
        }
        self.advance_meter(i);
        if let Some(tx) = self.evses[i].tx.as_mut() {
            tx.stopped = Some(why);
            tx.charging = false;
        }
        self.tx_event(i, if why == Stop::Remote { Trigger::RemoteStop } else { Trigger::StopAuthorized });
    }

    fn end_tx(&mut self, i: usize, why: Stop) {
        self.advance_meter(i);
        let Some(tx) = self.evses[i].tx.take() else { return };
        self.negotiating.retain(|_, (t, _)| *t != tx.id);
        let m = if self.v16 { v16::tx_ended(self, i, &tx, why) } else { v2x::tx_ended(self, i, &tx, why) };
        if !self.v16 {
            v2x::smart_charging::transaction_ended(self, &tx.id);
            v2x::display::transaction_ended(self, &tx.id);
        }
        self.enqueue(m);
        let e = &mut self.evses[i];
        e.finishing = e.plugged;
        e.connect_deadline = None;
        if e.inoperative_scheduled {
            e.inoperative_scheduled = false;
            e.operative = false;
        }
        self.refresh_status(i);
    }

    fn advance_meter(&mut self, i: usize) {
        // 2.x: the EV draws what the composite schedule allows (K01: the meter follows it).
        let power = self.power_w(i);
        let e = &mut self.evses[i];
        let now = Instant::now();
        if e.tx.as_ref().is_some_and(|t| t.charging) {
            e.energy_wh += power * (now - e.metered_at).as_secs_f64() / 3600.0;
        }
        e.metered_at = now;
        if self.metered(i) {
            self.panel.set_meter_wh(self.evses[i].energy_wh);
        }
        self.show_power(i);
    }

    /// Whether the bench meter is on EVSE index `i`'s feed: the EVSE under test, EVSE 2 of
    /// `two-evses`.
    fn metered(&self, i: usize) -> bool {
        self.evses[i].id == if self.cfg.variants.contains(&Variant::TwoEvses) { 2 } else { 1 }
    }

    /// The power the EV on EVSE index `i` draws while charging, in W: 2.x, what the composite
    /// schedule allows (fault ignore-power-limit: all it can).
    fn power_w(&self, i: usize) -> f64 {
        let unlimited = self.v16 || self.cfg.faults.has(&Fault::IgnorePowerLimit);
        if unlimited { POWER_W } else { POWER_W.min(v2x::smart_charging::allowed_power_w(self, i)) }
    }

    /// The bench meter on EVSE index `i`'s feed shows the power drawn now.
    fn show_power(&self, i: usize) {
        if self.metered(i) {
            let charging = self.evses[i].tx.as_ref().is_some_and(|t| t.charging);
            self.panel.set_power_w(if charging { self.power_w(i) } else { 0.0 });
        }
    }

    /// Bring every EVSE's meter up to now, at the power it was allowed until now; then (called
    /// again after a change of profiles) at the power it is allowed from now.
    fn advance_meters(&mut self) {
        for i in 0..self.evses.len() {
            self.advance_meter(i);
        }
    }

    /// Send a StatusNotification if the connector's status changed; the contactor follows
    /// the energy flow (fault `contactor-stays-closed`: once closed, it stays closed).
    fn refresh_status(&mut self, i: usize) {
        self.show_power(i);
        let e = &self.evses[i];
        let flowing = e.tx.as_ref().is_some_and(|t| t.charging);
        let welded = self.cfg.faults.has(&Fault::ContactorStaysClosed) && self.panel.contactor(e.id);
        self.panel.set_contactor(e.id, flowing || welded);
        self.refresh_spare_status(i);
        let status = if self.v16 { v16::status_of(&self.evses[i]) } else { v2x::status_of(&self.evses[i]) };
        if !self.v16 {
            // The variables monitors watch: the EVSE's AvailabilityState, the station's power.
            let evse = serde_json::json!({"name": "EVSE", "evse": {"id": self.evses[i].id}});
            v2x::monitoring::observed(self, &evse, "AvailabilityState", status);
            let power = format!("{:.1}", self.panel.power_w());
            v2x::monitoring::observed(self, &serde_json::json!({"name": "ChargingStation"}), "Power", &power);
        }
        if self.evses[i].reported != Some(status) && self.may_talk() {
            self.evses[i].reported = Some(status);
            let m = self.status_message(i, 1, status);
            self.enqueue(m);
        }
        // After the status, as part 6 orders them (TC_H_21_CS steps 3 and 5).
        reservation::remove_if_unusable(self, i);
    }

    /// Report the spare connectors of EVSE `i` if their status changed: Unavailable while
    /// the EVSE is inoperative, else Available.
    fn refresh_spare_status(&mut self, i: usize) {
        let e = &self.evses[i];
        let status = v2x::spare_status_of(e);
        if e.spare_connectors == 0 || e.spare_reported == Some(status) || !self.may_talk() {
            return;
        }
        self.evses[i].spare_reported = Some(status);
        for connector in 2..=1 + self.evses[i].spare_connectors {
            let m = self.status_message(i, connector, status);
            self.enqueue(m);
        }
    }

    /// Whether messages other than BootNotification may be sent: once accepted (or always,
    /// for a station with the `ignore-registration` fault).
    fn may_talk(&self) -> bool {
        self.booted || self.cfg.faults.has(&Fault::IgnoreRegistration)
    }

    /// How the station reports a connector's status on its own: StatusNotification, or
    /// (variant `notify-event-only`) NotifyEvent of the connector's AvailabilityState.
    fn status_message(&mut self, i: usize, connector: u32, status: &str) -> Out {
        if self.v16 {
            v16::status(&self.evses[i], status)
        } else if self.cfg.variants.contains(&Variant::NotifyEventOnly) {
            self.event_id += 1;
            v2x::availability_event(&self.evses[i], connector, status, self.event_id)
        } else {
            v2x::status(&self.evses[i], connector, status)
        }
    }

    /// Every connector's status, e.g. after boot or a reconnect.
    fn report_all_status(&mut self) {
        if self.v16 && !self.cfg.variants.contains(&Variant::NoConnectorZero) {
            self.enqueue(v16::status_station(if self.evses.iter().any(|e| e.operative) { "Available" } else { "Unavailable" }));
        }
        for i in 0..self.evses.len() {
            self.evses[i].reported = None;
            self.evses[i].spare_reported = None;
            self.refresh_status(i);
        }
    }

    /// Timers: connection time-outs, periodic meter values, event streams.
    fn on_tick(&mut self) {
        let now = Instant::now();
        for i in 0..self.evses.len() {
            if self.evses[i].connect_deadline.is_some_and(|d| d <= now) {
                self.evses[i].connect_deadline = None;
                if self.evses[i].tx.is_some() && !self.evses[i].plugged {
                    // Deauthorized: a cable plugged in later finds no authorization (E06.FR.15).
                    self.evses[i].auth = None;
                    self.end_tx(i, Stop::Timeout);
                } else {
                    self.evses[i].auth = None;
                    self.refresh_status(i);
                }
            }
            let due = self.evses[i].tx.as_ref().and_then(|t| t.next_sample).is_some_and(|t| t <= now);
            if due {
                self.advance_meter(i);
                let interval = Duration::from_secs(self.setting_secs(Key::MeterInterval).max(1));
                if let Some(tx) = self.evses[i].tx.as_mut() {
                    tx.next_sample = Some(now + interval);
                }
                let m = if self.v16 { v16::meter_values(self, i) } else { v2x::tx_updated(self, i, Trigger::MeterValuePeriodic) };
                self.enqueue(m);
            }
        }
        firmware::tick(self, now);
        v2x::log_retry_tick(self, now);
        reservation::tick(self, now);
        own_certificate::tick(self, now);
        if !self.v16 {
            v2x::monitoring::tick(self, now);
            v2x::der::tick(self, now);
        }
        if self.v16 {
            v16::security::tick(self, now);
        } else {
            v2x::metering::tick(self, now);
            v2x::stream_tick(self, now);
        }
    }

    /// The next connection time-out or meter sample of an EVSE.
    fn evse_timer(&self) -> Option<Instant> {
        let metering = if self.v16 { None } else { v2x::metering::next(self) };
        let metering = metering.into_iter().chain(reservation::next(self)).chain(firmware::next(self)).chain(self.csr_resend.as_ref().map(|r| r.due)).chain(v2x::monitoring::next(self)).chain(v2x::der::next(self)).min();
        self.evses.iter().flat_map(|e| [e.connect_deadline, e.tx.as_ref().and_then(|t| t.next_sample)]).flatten().chain(metering).min()
    }

    fn next_timer(&self) -> Option<Instant> {
        let evse = self.evse_timer();
        let streams = self.streams.iter().map(|s| s.next);
        let uploads = self.log_retries.iter().map(|u| u.next).chain(self.log_upload.map(|(_, t)| t)).chain(self.diagnostics_upload);
        evse.into_iter().chain(streams).chain(uploads).chain(self.retry_boot).chain(self.next_heartbeat).chain(self.pending.as_ref().map(|p| p.sent + self.message_timeout())).chain(self.retry_at).min()
    }

    // ---- the connection ----
}
