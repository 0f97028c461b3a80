//! Reference CSMS: accepts stations at `ws://host:port/<station id>`, negotiates any OCPP
//! version it is configured for, answers every station-initiated message, keeps per-station
//! state across reconnects (registration, transactions) and sends CSMS-initiated CALLs on
//! request ([`CsmsHandle::send_call`]), as an operator at a real CSMS would.
use std::{
    collections::{BTreeMap, HashMap},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::{net::TcpListener, sync::mpsc::UnboundedSender};
use tokio_tungstenite::tungstenite::{
    Message,
    handshake::server::{ErrorResponse, Request, Response},
    http::{HeaderValue, StatusCode},
};

use super::{Fault, Faults, answer, check_call, variant::{self, Variant}};
use ocpp_core::{defaults::{self, now_rfc3339}, frame::Frame, schema::{self, Direction}, transport::{negotiate, station_id_from_path, ws_config}, version::OcppVersion};

#[derive(Debug, Clone)]
pub struct CsmsConfig {
    pub versions: Vec<OcppVersion>,
    pub faults: Faults,
    pub heartbeat_interval: u64,
    /// Id tokens the CSMS authorizes; all others are Invalid unless `tokens` says otherwise.
    pub valid_id_tokens: Vec<String>,
    pub tokens: TokenBook,
    /// Security profile 0 (plain ws://, nobody authenticated) to 3.
    pub security: CsmsSecurity,
    /// Legal but strict or unusual behaviours (see [`super::variant`]).
    pub variants: Vec<Variant>,
    /// Where the endpoint one security profile up listens (`CsmsSecurity::raised`); default:
    /// the main address's host, a free port.
    pub raised_listen: Option<SocketAddr>,
}

/// Station id -> Basic-auth password, shared by the CSMS's connections.
pub type Passwords = Arc<Mutex<HashMap<String, String>>>;

/// How the reference CSMS authenticates stations.
#[derive(Clone, Default)]
pub struct CsmsSecurity {
    pub profile: u8,
    /// Station id -> Basic-auth password (profiles 1 and 2); `*` stands for every station.
    /// Shared and mutable: a password a station accepts replaces its old one (A01.FR.03).
    pub passwords: Passwords,
    /// TLS (profiles 2 and 3; at 3 it requires client certificates).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// A second endpoint one profile up, where its stations may move with a connection
    /// profile (A05); once one connected there, the lower profile is refused to it (A05.FR.07).
    pub raised: Option<Box<CsmsSecurity>>,
    /// The run's test CA, which issues the certificates stations ask for with a CSR (A02).
    pub signer: Option<Arc<ocpp_core::security::pki::Pki>>,
}

impl std::fmt::Debug for CsmsSecurity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CsmsSecurity {{ profile: {}, stations with passwords: {}, tls: {} }}", self.profile, self.passwords.lock().unwrap().len(), self.tls.is_some())
    }
}

impl CsmsSecurity {
    /// The reference CSMS for `security`, knowing station `station_id` (faults weaken it).
    pub fn for_run(security: &ocpp_core::security::Security, station_id: &str, faults: &Faults) -> anyhow::Result<CsmsSecurity> {
        let mut passwords = HashMap::new();
        if let Some(p) = security.password() {
            passwords.insert(station_id.to_string(), p);
        }
        let tls = match security.pki.as_deref().filter(|_| security.profile >= 2) {
            Some(pki) => {
                let untrusted = match faults.has(&Fault::UntrustedServerCertificate) {
                    true => pki.server(ocpp_core::security::pki::Variant::Untrusted, &pki.server_hosts()).map_err(|e| anyhow::anyhow!(e))?,
                    false => None,
                };
                let id = untrusted.as_ref().or(pki.csms.as_ref()).ok_or_else(|| anyhow::anyhow!("the PKI has no CSMS identity"))?;
                let client_ca = (security.profile == 3).then_some(pki.ca_pem.as_str());
                Some(ocpp_core::security::tls::server_config_with(id, client_ca, faults.has(&Fault::AcceptAnyCertificate))?)
            }
            None => None,
        };
        let raised = match security.profile {
            1 | 2 if security.pki.is_some() => Some(Box::new(CsmsSecurity::for_run(&security.at_profile(security.profile + 1), station_id, faults)?)),
            _ => None,
        };
        let mut sec = CsmsSecurity { profile: security.profile, passwords: Arc::default(), tls, raised, signer: security.pki.clone() };
        sec.share_passwords(Arc::new(Mutex::new(passwords)));
        Ok(sec)
    }

    /// Take `passwords` as the store of this CSMS, on both its endpoints: one set of stations,
    /// so a password changed on one holds on the other.
    pub fn share_passwords(&mut self, passwords: Passwords) {
        if let Some(up) = self.raised.as_mut() {
            up.share_passwords(passwords.clone());
        }
        self.passwords = passwords;
    }
}

impl Default for CsmsConfig {
    fn default() -> Self {
        CsmsConfig {
            versions: OcppVersion::ALL.to_vec(),
            faults: Faults::default(),
            heartbeat_interval: 300,
            valid_id_tokens: defaults::VALID_ID_TOKENS.map(String::from).to_vec(),
            tokens: TokenBook::from_parameters(&Default::default()),
            security: CsmsSecurity::default(),
            variants: vec![],
            raised_listen: None,
        }
    }
}

/// Tokens the CSMS knows besides the valid ones: blocked, expired, and one group whose
/// members it authorizes under the group's token (from the run parameters of
/// [`defaults::TOKEN_PARAMETERS`]).
#[derive(Debug, Clone, Default)]
pub struct TokenBook {
    pub blocked: String,
    pub expired: String,
    pub group: String,
    pub grouped: Vec<String>,
    pub master_pass: String,
    pub master_pass_group: String,
    /// An EV's contract the CSMS knows as valid (C07).
    pub emaid: String,
}

impl TokenBook {
    /// From run parameters, the defaults for those not given.
    pub fn from_parameters(params: &BTreeMap<String, String>) -> TokenBook {
        let get = |k: &str| params.get(k).cloned().or_else(|| defaults::TOKEN_PARAMETERS.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())).unwrap_or_default();
        TokenBook {
            blocked: get("blocked-id-token"),
            expired: get("expired-id-token"),
            group: get("group-id-token"),
            grouped: get("grouped-id-tokens").split_whitespace().map(String::from).collect(),
            master_pass: get("master-pass-id-token"),
            master_pass_group: get("master-pass-group-id"),
            emaid: get("emaid"),
        }
    }
}

/// What the CSMS remembers about one station, across reconnects.
#[derive(Debug, Default)]
pub struct StationRecord {
    pub booted: bool,
    /// Transactions by id, with whether they ended.
    pub transactions: BTreeMap<String, bool>,
    /// 1.6: the next transactionId to hand out.
    next_tx_id: i64,
    /// Ongoing transactions -> the token they were started with (variant
    /// one-transaction-per-token).
    tokens_in_use: BTreeMap<String, String>,
    /// 1.6: connectors that reported Preparing since their last transaction (variant
    /// require-preparing); transaction id -> connector, to forget it when the transaction ends.
    prepared: std::collections::BTreeSet<i64>,
    tx_connector: BTreeMap<String, i64>,
    /// 2.x: the eventIds of its NotifyEvents since its last boot (variant unique-event-ids).
    event_ids: std::collections::BTreeSet<i64>,
    /// 2.x: the local list the station accepted from us (token -> its IdTokenType) and its
    /// version, to update it when a customer's data is cleared (N10.FR.02).
    local_list: BTreeMap<String, Value>,
    list_version: i64,
    /// The token of a customer the station agreed to clear who is on its list: the list is
    /// updated once the station reports what it cleared.
    clearing: Option<Value>,
    /// 2.x: monitor ids an operator asked to clear, until the station said how many one
    /// ClearVariableMonitoring may hold (N06.FR.04).
    monitors_to_clear: Vec<Value>,
    /// 2.x ISO 15118 smart charging (`ev_schedule`): the transaction at each EVSE, the limit
    /// of the last TxProfile each EVSE got, a profile to send once the answer is out.
    pub(crate) evse_tx: BTreeMap<i64, String>,
    pub(crate) ev_limits: BTreeMap<i64, f64>,
    pub(crate) profile_to_send: Option<Value>,
    pub(crate) next_profile_id: i64,
    /// 2.1: where each transaction's meter started, for its cost (`cost`).
    meters: crate::cost::Meters,
    /// 2.1, variant cost-updated: the CostUpdated to send once the answer is out.
    cost_to_send: Option<Value>,
}

/// The live connection to a station.
struct Link {
    tx: UnboundedSender<Message>,
    version: OcppVersion,
    /// Our CALL the station has not answered yet, and when it went: one at a time
    /// (OCPP-J 4.1.1); later ones wait in `queued`.
    outstanding: Option<(Frame, std::time::Instant)>,
    queued: std::collections::VecDeque<Frame>,
}

/// After this long without an answer our CALL is given up and the next queued one goes.
const OWN_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Default)]
struct Shared {
    links: HashMap<String, Link>,
    records: HashMap<String, StationRecord>,
    next_call_id: u64,
    /// Stations that connected at a raised profile: never again below it (A05.FR.07).
    upgraded: HashMap<String, u8>,
    /// When each station's last connection ended (variant slow-session-setup).
    last_close: HashMap<String, std::time::Instant>,
    /// Until when a lost answer holds a station's messages (variant lossy-close).
    held_until: HashMap<String, std::time::Instant>,
}

/// Drives a running CSMS from outside: CSMS-initiated messages, state queries.
#[derive(Clone)]
pub struct CsmsHandle {
    shared: Arc<Mutex<Shared>>,
    cfg: Arc<CsmsConfig>,
    /// The endpoint one security profile up (`CsmsSecurity::raised`), if there is one.
    pub raised_addr: Option<SocketAddr>,
    /// Whether this handle serves that endpoint.
    on_raised: bool,
    /// Woken whenever a station connects (its link registered).
    linked: Arc<tokio::sync::Notify>,
}

impl CsmsHandle {
    /// Send a CALL to a connected station. The payload must be valid for its schema (the
    /// `schema-violation` fault still breaks it on the wire).
    pub fn send_call(&self, station_id: &str, action: &str, payload: Value) -> Result<(), String> {
        if self.cfg.faults.has(&Fault::IgnoreOperator) {
            tracing::info!(target: "sim", "CSMS: {action} for {station_id} taken and dropped (fault ignore-operator)");
            return Ok(());
        }
        let split = !self.cfg.faults.has(&Fault::OneClearRequest);
        if split && action == "ClearVariableMonitoring" && payload["id"].as_array().is_some_and(|ids| ids.len() > 1) {
            return self.clear_monitors(station_id, payload);
        }
        self.send_own_call(station_id, action, payload)
    }

    /// N06.FR.04: ask how many ids one ClearVariableMonitoring may hold, then clear in parts
    /// of that size (`answered` sends them).
    fn clear_monitors(&self, station_id: &str, payload: Value) -> Result<(), String> {
        let ids = payload["id"].as_array().cloned().unwrap_or_default();
        self.shared.lock().unwrap().records.entry(station_id.to_string()).or_default().monitors_to_clear = ids;
        let item = json!({"component": {"name": "MonitoringCtrlr"}, "variable": {"name": "ItemsPerMessage", "instance": "ClearVariableMonitoring"}});
        self.send_own_call(station_id, "GetVariables", json!({"getVariableData": [item]}))
    }

    /// Like `send_call`, waiting up to `within` for the station to be connected: a harness
    /// station's connection is registered just after the handshake the case saw finish.
    pub async fn send_call_when_connected(&self, station_id: &str, action: &str, payload: Value, within: std::time::Duration) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let linked = self.linked.notified();
            tokio::pin!(linked);
            linked.as_mut().enable();
            match self.send_call(station_id, action, payload.clone()) {
                Err(e) if !self.is_connected(station_id) && tokio::time::Instant::now() < deadline => {
                    if tokio::time::timeout_at(deadline, linked).await.is_err() {
                        return Err(e);
                    }
                }
                other => return other,
            }
        }
    }

    fn is_connected(&self, station_id: &str) -> bool {
        self.shared.lock().unwrap().links.contains_key(station_id)
    }

    /// A CALL the CSMS sends of its own accord (not an operator's).
    fn send_own_call(&self, station_id: &str, action: &str, payload: Value) -> Result<(), String> {
        let mut sh = self.shared.lock().unwrap();
        let id = {
            sh.next_call_id += 1;
            format!("csms-{}", sh.next_call_id)
        };
        let Some(link) = sh.links.get(station_id) else {
            return Err(format!("station {station_id:?} is not connected to the CSMS"));
        };
        let version = link.version;
        schema::validate(version, action, Direction::Request, &payload).map_err(|e| e.to_string())?;
        if let Some(record) = sh.records.get_mut(station_id) {
            crate::ev_schedule::sent(record, action, &payload);
        }
        let mut payload = payload;
        self.cfg.faults.alter(version, action, Direction::Request, &mut payload);
        let frame = Frame::Call { id: id.clone(), action: action.to_string(), payload };
        let link = sh.links.get_mut(station_id).expect("looked up above");
        if link.outstanding.as_ref().is_some_and(|(_, at)| at.elapsed() < OWN_CALL_TIMEOUT) {
            link.queued.push_back(frame);
            return Ok(());
        }
        let text = frame.to_text();
        link.outstanding = Some((frame, std::time::Instant::now()));
        link.tx.send(Message::text(text)).map_err(|_| format!("the connection to {station_id:?} is closing"))
    }

    /// The station answered our CALL `id` (`result`: its CALLRESULT payload): the next queued
    /// one may go.
    fn answered(&self, station_id: &str, id: &str, result: Option<&Value>) {
        let mut sh = self.shared.lock().unwrap();
        let Some(link) = sh.links.get_mut(station_id) else { return };
        let Some((Frame::Call { id: sent, action, payload }, _)) = &link.outstanding else { return };
        if sent != id {
            return;
        }
        if let Some((i, pw)) = ocpp_core::security::rotation::password_set_by(action, payload) {
            self.password_answered(station_id, &pw, result.map(|r| &r["setVariableResult"][i]["attributeStatus"]));
        }
        let (action, payload) = (action.clone(), payload.clone());
        link.outstanding = None;
        if let Some(next) = link.queued.pop_front() {
            let _ = link.tx.send(Message::text(next.to_text()));
            link.outstanding = Some((next, std::time::Instant::now()));
        }
        if result.is_some_and(|r| r["status"] == "Accepted") {
            local_list::accepted(sh.records.entry(station_id.to_string()).or_default(), &action, &payload);
        }
        if action == "GetVariables" {
            let ids = std::mem::take(&mut sh.records.entry(station_id.to_string()).or_default().monitors_to_clear);
            if !ids.is_empty() {
                let per = result.and_then(|r| r["getVariableResult"][0]["attributeValue"].as_str()).and_then(|v| v.parse::<usize>().ok()).filter(|n| *n > 0).unwrap_or(ids.len());
                drop(sh);
                for part in ids.chunks(per) {
                    let _ = self.send_own_call(station_id, "ClearVariableMonitoring", json!({"id": part}));
                }
                return;
            }
        }
    }

    /// Whether our CALL still outstanding on `station_id`'s connection sets its password to
    /// `password`.
    fn password_being_set(&self, station_id: &str, password: &str) -> bool {
        let sh = self.shared.lock().unwrap();
        let Some(Link { outstanding: Some((Frame::Call { action, payload, .. }, _)), .. }) = sh.links.get(station_id) else { return false };
        ocpp_core::security::rotation::password_set_by(action, payload).is_some_and(|(_, pw)| pw == password)
    }

    /// A station answered the BasicAuthPassword we set: Accepted makes it the only one we take
    /// from then on (A01.FR.03); anything else keeps the old one (A01.FR.04).
    fn password_answered(&self, station_id: &str, password: &str, status: Option<&Value>) {
        let accepted = status.is_some_and(|s| s == "Accepted");
        let faults = &self.cfg.faults;
        let adopt = if accepted { !faults.has(&Fault::KeepOldPassword) } else { faults.has(&Fault::AdoptRejectedPassword) };
        tracing::info!(target: "sim", "CSMS: {station_id} answered the new password with {status:?}: {}", if adopt { "taking only the new one from now on" } else { "keeping the old one" });
        if adopt {
            ocpp_core::security::basic::hide(station_id, password);
            self.cfg.security.passwords.lock().unwrap().insert(station_id.to_string(), password.to_string());
        }
    }

    /// Variant lossy-close: the answer `id` went down with the connection; the CALL it
    /// answered holds the station's messages for a while.
    fn lost_answer(&self, station: &str, id: &str) {
        tracing::info!(target: "sim", "CSMS: the answer {id} of {station} came {} ms or less before its close: lost (variant lossy-close)", variant::LOSSY_WINDOW.as_millis());
        self.shared.lock().unwrap().held_until.insert(station.to_string(), std::time::Instant::now() + variant::LOSSY_HOLD);
    }

    /// Ids of the stations connected now.
    pub fn connected(&self) -> Vec<String> {
        self.shared.lock().unwrap().links.keys().cloned().collect()
    }

    /// Whether a station's transaction is known, and if so whether it ended.
    pub fn transaction(&self, station_id: &str, id: &str) -> Option<bool> {
        self.shared.lock().unwrap().records.get(station_id)?.transactions.get(id).copied()
    }
}

/// Bind and serve until the returned task is aborted.
pub async fn start(addr: SocketAddr, cfg: CsmsConfig) -> std::io::Result<(SocketAddr, CsmsHandle, tokio::task::JoinHandle<()>)> {
    // A deep backlog: load runs open thousands of connections at once.
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    let listener: TcpListener = socket.listen(4096)?;
    let local = listener.local_addr()?;
    // The endpoint one profile up, on the same address and another port.
    let raised = match &cfg.security.raised {
        Some(sec) => Some((TcpListener::bind(cfg.raised_listen.unwrap_or(SocketAddr::new(addr.ip(), 0))).await?, (**sec).clone())),
        None => None,
    };
    let raised_addr = match &raised {
        Some((l, _)) => Some(l.local_addr()?),
        None => None,
    };
    let handle = CsmsHandle { shared: Arc::default(), cfg: Arc::new(cfg), raised_addr, on_raised: false, linked: Arc::default() };
    let h = handle.clone();
    let up = raised.map(|(l, security)| (l, CsmsHandle { shared: handle.shared.clone(), cfg: Arc::new(CsmsConfig { security, ..(*handle.cfg).clone() }), raised_addr: None, on_raised: true, linked: handle.linked.clone() }));
    let task = tokio::spawn(async move {
        let raised = async move {
            match up {
                Some((l, h)) => accept_loop(l, h).await,
                None => std::future::pending().await,
            }
        };
        tokio::join!(accept_loop(listener, h), raised);
    });
    Ok((local, handle, task))
}

async fn accept_loop(listener: TcpListener, h: CsmsHandle) {
    let mut conns = tokio::task::JoinSet::new();
    while let Ok((stream, _)) = listener.accept().await {
        let _ = stream.set_nodelay(true);
        conns.spawn(serve(stream, h.clone()));
    }
}

async fn serve(stream: tokio::net::TcpStream, h: CsmsHandle) {
    let chosen = Arc::new(Mutex::new(None));
    let chosen2 = chosen.clone();
    let cfg = h.cfg.clone();
    if cfg.security.tls.is_some() && cfg.faults.has(&Fault::AcceptOldTls) && ocpp_core::security::old_tls::pretend_old_server(&stream).await {
        return;
    }
    let Ok((io, tls)) = ocpp_core::security::tls::accept(stream, cfg.security.tls.clone(), Duration::from_secs(10)).await else { return };
    let peer_cn = tls.and_then(|t| t.peer_cn);
    let (shared, on_raised, handle) = (h.shared.clone(), h.on_raised, h.clone());
    let callback = move |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        let offered = req.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok()).unwrap_or("");
        let station = station_id_from_path(req.uri().path());
        let refuse = |status: StatusCode, why: &str| {
            let mut r = ErrorResponse::new(Some(why.into()));
            *r.status_mut() = status;
            Err(r)
        };
        // Fault accept-any-subprotocol: whatever is offered first is "selected".
        let any = cfg.faults.has(&Fault::AcceptAnySubprotocol).then(|| offered.split(',').next().unwrap_or("").trim().to_string()).filter(|s| !s.is_empty());
        let negotiated = negotiate(offered, &cfg.versions).or(any.as_ref().map(|_| cfg.versions[0]));
        if negotiated.is_none() && station.is_some() && cfg.variants.contains(&Variant::UpgradeThenClose) {
            // Upgraded without a subprotocol: `serve` closes at once, nothing chosen.
            return Ok(resp);
        }
        let Some((version, station)) = negotiated.zip(station) else {
            return refuse(StatusCode::BAD_REQUEST, "no supported OCPP subprotocol or no station id");
        };
        let sec = &cfg.security;
        if matches!(sec.profile, 1 | 2) && !cfg.faults.has(&Fault::AcceptAnyPassword) {
            let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(ocpp_core::security::basic::decode);
            let passwords = sec.passwords.lock().unwrap();
            let known = passwords.get(&station).or_else(|| passwords.get("*")).cloned();
            drop(passwords);
            let ok = matches!((&auth, &known), (Some((user, pw)), Some(expected)) if *user == station && ocpp_core::security::basic::same(pw, expected));
            // A station that accepted our new password may reconnect with it before its
            // answer has been read on the old connection: it can only know it from that
            // answer, so it is the answer (A01.FR.03) — unless the CSMS keeps old passwords.
            let answered_early = !ok
                && !cfg.faults.has(&Fault::KeepOldPassword)
                && auth.as_ref().is_some_and(|(user, pw)| *user == station && handle.password_being_set(&station, pw));
            if answered_early {
                let pw = auth.as_ref().map(|(_, pw)| pw.clone()).unwrap_or_default();
                handle.password_answered(&station, &pw, Some(&Value::from("Accepted")));
            }
            if !ok && !answered_early {
                return refuse(StatusCode::UNAUTHORIZED, "unknown station or wrong password");
            }
        }
        if sec.profile == 3 && !cfg.faults.has(&Fault::IgnoreCertificateCn) && peer_cn.as_deref() != Some(station.as_str()) {
            return refuse(StatusCode::FORBIDDEN, "the client certificate does not name this station");
        }
        {
            let mut shared = shared.lock().unwrap();
            let floor = shared.upgraded.get(&station).copied().unwrap_or(0);
            if sec.profile < floor && !cfg.faults.has(&Fault::AcceptLowerProfile) {
                return refuse(StatusCode::UNAUTHORIZED, &format!("this station moved to security profile {floor}; lower is refused (A05.FR.07)"));
            }
            // A station on the raised endpoint has moved up for good.
            if on_raised && sec.profile > floor {
                shared.upgraded.insert(station.clone(), sec.profile);
            }
        }
        if cfg.faults.hostile() == Some(super::Hostile::RefuseHandshake) {
            let mut r = ErrorResponse::new(Some("hostile CSMS: service unavailable".into()));
            *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            return Err(r);
        }
        let selected = match (&any, cfg.faults.has(&Fault::WrongSubprotocol)) {
            (Some(first), _) => HeaderValue::from_str(first).unwrap_or(HeaderValue::from_static("ocpp")),
            (None, true) => HeaderValue::from_static("ocpp1.5"),
            (None, false) => HeaderValue::from_static(version.subprotocol()),
        };
        resp.headers_mut().insert("sec-websocket-protocol", selected);
        *chosen2.lock().unwrap() = Some((version, station));
        Ok(resp)
    };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async_with_config(io, callback, Some(ws_config())).await else { return };
    let Some((version, station)) = chosen.lock().unwrap().take() else {
        tracing::info!(target: "sim", "CSMS: no subprotocol agreed; closing the upgraded connection (variant upgrade-then-close)");
        let _ = futures_util::SinkExt::close(&mut ws).await;
        return;
    };
    let too_soon = h.shared.lock().unwrap().last_close.get(&station).is_some_and(|t| t.elapsed() < variant::QUICK_RECONNECT);
    if too_soon && h.cfg.variants.contains(&Variant::SlowSessionSetup) {
        tracing::info!(target: "sim", "CSMS: {station} reconnected within {} ms of its last close; its session is still being torn down: closing with 1011 (variant slow-session-setup)", variant::QUICK_RECONNECT.as_millis());
        let frame = tokio_tungstenite::tungstenite::protocol::CloseFrame { code: tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode::Error, reason: "session still closing".into() };
        let _ = ws.close(Some(frame)).await;
        h.shared.lock().unwrap().last_close.insert(station, std::time::Instant::now());
        return;
    }
    let (mut source, tx, writer) = super::split(ws);
    // A reconnecting station replaces its old link.
    h.shared.lock().unwrap().links.insert(station.clone(), Link { tx: tx.clone(), version, outstanding: None, queued: Default::default() });
    h.linked.notify_waiters();
    let cfg = h.cfg.clone();
    let lossy = cfg.variants.contains(&Variant::LossyClose);
    // A message read ahead by lossy-close, handled next.
    let mut read_ahead: Option<Message> = None;
    loop {
        let msg = match read_ahead.take() {
            Some(m) => m,
            None => match source.next().await {
                Some(Ok(m)) => m,
                _ => break,
            },
        };
        let Message::Text(text) = msg else { continue };
        let held = h.shared.lock().unwrap().held_until.get(&station).copied();
        if let Some(until) = held.filter(|u| *u > std::time::Instant::now()) {
            tracing::info!(target: "sim", "CSMS: {station}'s messages wait for a CALL whose answer was lost (variant lossy-close)");
            tokio::time::sleep_until(until.into()).await;
        }
        tracing::info!(target: "sim", "CSMS <- {station} {text}");
        if cfg.variants.contains(&Variant::SlowAnswers) {
            tokio::time::sleep(variant::SLOW_ANSWER).await;
        }
        match Frame::parse(text.as_str(), version) {
            Err(e) => {
                let id = e.id.unwrap_or_else(|| "-1".into());
                let err = cfg.faults.call_error(id, e.kind.error_code(version), e.reason, cfg.faults.wrong_value(""));
                let _ = tx.send(Message::text(err.to_text()));
            }
            Ok(Frame::Call { id, action, payload }) => {
                let custom = cfg.faults.has(&Fault::RejectCustomData) && payload.to_string().contains("\"customData\"");
                let checked = check_call(version, &action, &payload).and_then(|()| if custom { Err(("FormatViolation", "customData is not allowed".into())) } else { Ok(()) });
                // C07: an EV's contract is checked with its OCSP responder before the answer.
                let contract = match (&checked, action.as_str()) {
                    (Ok(()), "Authorize") if version != OcppVersion::V16 => crate::contract::check(&cfg, &payload).await,
                    _ => None,
                };
                let reply = checked.and_then(|()| {
                    let mut sh = h.shared.lock().unwrap();
                    let record = sh.records.entry(station.clone()).or_default();
                    on_call(&cfg, record, version, &action, &payload)
                });
                let reply = reply.map(|mut r| {
                    if let Some(c) = &contract {
                        crate::contract::answer(c, &mut r);
                    }
                    r
                });
                let accepted_boot = action == "BootNotification" && reply.as_ref().is_ok_and(|r| r["status"] == "Accepted");
                answer(&tx, &cfg.faults, version, &id, &action, reply);
                // A02: a CSR accepted is signed by the CA and sent back (A02.FR.14: as the type asked).
                if action == "SignCertificate" {
                    let csr = payload["csr"].as_str().unwrap_or_default();
                    // A V2G CSR gets a V2G chain (leaf, SubCA2, SubCA1 under the V2G root).
                    let v2g = payload["certificateType"] == "V2GCertificate";
                    let signed = cfg.security.signer.as_ref().map(|pki| if v2g { pki.sign_v2g_csr(csr) } else { pki.sign_csr(csr) });
                    if let Some(Err(e)) = &signed {
                        tracing::info!(target: "sim", "CSMS: the CSR of {station} is not signed: {e:?}");
                    }
                    if let Some(Ok(chain)) = signed {
                        let mut signed = json!({"certificateChain": chain});
                        if version != OcppVersion::V16 {
                            signed["certificateType"] = payload.get("certificateType").cloned().unwrap_or_else(|| json!("ChargingStationCertificate"));
                        }
                        let _ = h.send_own_call(&station, "CertificateSigned", signed);
                    }
                }
                // K15.FR.07/13: the TxProfile for an EV's needs, or after its schedule was refused.
                if matches!(action.as_str(), "NotifyEVChargingNeeds" | "NotifyEVChargingSchedule") {
                    let profile = h.shared.lock().unwrap().records.entry(station.clone()).or_default().profile_to_send.take();
                    if let Some(profile) = profile {
                        let _ = h.send_own_call(&station, "SetChargingProfile", profile);
                    }
                }
                if action == "TransactionEvent" {
                    let cost = h.shared.lock().unwrap().records.entry(station.clone()).or_default().cost_to_send.take();
                    if let Some(cost) = cost {
                        let _ = h.send_own_call(&station, "CostUpdated", cost);
                    }
                }
                // N10.FR.02: the station reported what it cleared; a customer on its list goes.
                if action == "NotifyCustomerInformation" && payload["tbc"] != true && !cfg.faults.has(&Fault::KeepClearedInList) {
                    let update = local_list::removal(h.shared.lock().unwrap().records.entry(station.clone()).or_default());
                    if let Some(update) = update {
                        let _ = h.send_own_call(&station, "SendLocalList", update);
                    }
                }
                if accepted_boot && cfg.variants.contains(&Variant::OwnCallsAfterBoot) {
                    let (action, payload) = if version == OcppVersion::V16 { ("GetConfiguration", json!({})) } else { ("GetBaseReport", json!({"requestId": 9001, "reportBase": "FullInventory"})) };
                    tracing::info!(target: "sim", "CSMS -> {station} {action} right after the boot (variant own-calls-after-boot)");
                    // A moment later, as a CSMS's back end would: while the station is already
                    // on to its next step.
                    let (h, station) = (h.clone(), station.clone());
                    tokio::spawn(async move {
                        tokio::time::sleep(variant::OWN_CALL_DELAY).await;
                        let _ = h.send_own_call(&station, action, payload);
                    });
                }
            }
            Ok(Frame::Send { id, .. }) if cfg.faults.has(&Fault::AnswerSend) => {
                let _ = tx.send(Message::text(Frame::CallResult { id, payload: json!({}) }.to_text()));
            }
            Ok(Frame::CallResult { id, payload }) => {
                if lossy {
                    match tokio::time::timeout(variant::LOSSY_WINDOW, source.next()).await {
                        Ok(Some(Ok(m @ Message::Close(_)))) => {
                            h.lost_answer(&station, &id);
                            read_ahead = Some(m);
                            continue;
                        }
                        Ok(None | Some(Err(_))) => {
                            h.lost_answer(&station, &id);
                            break;
                        }
                        Ok(Some(Ok(next))) => read_ahead = Some(next),
                        Err(_) => {}
                    }
                }
                h.answered(&station, &id, Some(&payload))
            }
            Ok(Frame::CallError { id, .. }) => h.answered(&station, &id, None),
            // SEND frames need no answer.
            Ok(other) => tracing::debug!("CSMS got {} from {station}", other.to_text()),
        }
    }
    {
        let mut sh = h.shared.lock().unwrap();
        if sh.links.get(&station).is_some_and(|l| l.tx.same_channel(&tx)) {
            sh.links.remove(&station);
        }
        sh.last_close.insert(station.clone(), std::time::Instant::now());
    }
    // Answers already queued still go out; later (late) ones do not outlive the connection.
    writer.flushed(crate::FLUSH_WITHIN).await;
    drop(writer);
}

/// The CSMS's time (an hour behind with fault wrong-clock).
/// What the CSMS keeps of a station's local authorization list (D01, N10).
mod local_list {
    use serde_json::{Value, json};

    use super::StationRecord;

    /// The station accepted our `action` with `payload`: a list update is now its list; a
    /// clear of a customer on it is remembered until the station reports it done.
    pub(super) fn accepted(st: &mut StationRecord, action: &str, payload: &Value) {
        match action {
            "SendLocalList" => {
                if payload["updateType"] == "Full" {
                    st.local_list.clear();
                }
                for e in payload["localAuthorizationList"].as_array().into_iter().flatten() {
                    let token = e["idToken"]["idToken"].as_str().unwrap_or_default().to_string();
                    match e.get("idTokenInfo") {
                        Some(_) => st.local_list.insert(token, e["idToken"].clone()),
                        None => st.local_list.remove(&token),
                    };
                }
                st.list_version = payload["versionNumber"].as_i64().unwrap_or(st.list_version);
            }
            "CustomerInformation" if payload["clear"] == true => {
                let token = payload["idToken"]["idToken"].as_str().unwrap_or_default();
                st.clearing = st.local_list.get(token).cloned();
            }
            _ => {}
        }
    }

    /// The differential update that takes the cleared customer off the list, if one was on it.
    pub(super) fn removal(st: &mut StationRecord) -> Option<Value> {
        let token = st.clearing.take()?;
        Some(json!({"versionNumber": st.list_version + 1, "updateType": "Differential", "localAuthorizationList": [{"idToken": token}]}))
    }
}

fn clock(cfg: &CsmsConfig) -> String {
    if !cfg.faults.has(&Fault::WrongClock) {
        return now_rfc3339();
    }
    (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The id of a 2.x `IdTokenType` or a 1.6 idTag.
fn token_id(token: &Value) -> &str {
    token["idToken"].as_str().or_else(|| token.as_str()).unwrap_or("")
}

/// What the CSMS thinks of a token: a 2.x `IdTokenType` or a 1.6 idTag.
fn auth_status(cfg: &CsmsConfig, token: &Value) -> &'static str {
    if cfg.faults.has(&Fault::AcceptAnyToken) {
        return "Accepted";
    }
    let id = token_id(token);
    let iso14443 = token.is_string() || token["type"] == "ISO14443";
    if iso14443 && cfg.variants.contains(&Variant::StrictTokens) && !variant::is_iso14443_uid(id) {
        return "Invalid";
    }
    let book = &cfg.tokens;
    match id {
        _ if cfg.valid_id_tokens.iter().any(|t| t == id) || book.grouped.iter().any(|t| t == id) || id == book.master_pass || id == book.emaid => "Accepted",
        _ if id == book.blocked => "Blocked",
        _ if id == book.expired => "Expired",
        _ => "Invalid",
    }
}

/// The group an Accepted token belongs to (fault forget-group: none).
fn group_of<'a>(cfg: &'a CsmsConfig, token: &Value) -> Option<&'a str> {
    let (id, book) = (token_id(token), &cfg.tokens);
    let group = if book.grouped.iter().any(|t| t == id) {
        Some(book.group.as_str())
    } else {
        (id == book.master_pass).then_some(book.master_pass_group.as_str())
    };
    group.filter(|_| !cfg.faults.has(&Fault::ForgetGroup))
}

/// `idTokenInfo` (2.x) or `idTagInfo` (1.6) for `token` with `status`: an Accepted group
/// member carries its group (C09.FR.02/03; 1.6 parentIdTag).
fn token_info(cfg: &CsmsConfig, version: OcppVersion, token: &Value, status: &str) -> Value {
    let group = group_of(cfg, token).filter(|_| status == "Accepted");
    match (version, group) {
        (OcppVersion::V16, Some(g)) => json!({"status": status, "parentIdTag": g}),
        (_, Some(g)) => json!({"status": status, "groupIdToken": {"idToken": g, "type": "Central"}}),
        _ => json!({"status": status}),
    }
}

/// The status for a transaction starting with `token` (`tx` is its id): ConcurrentTx when the
/// token is already in another ongoing transaction and the CSMS allows one at a time.
fn start_status(cfg: &CsmsConfig, st: &mut StationRecord, tx: &str, token: &Value) -> &'static str {
    let status = auth_status(cfg, token);
    if status != "Accepted" {
        return status;
    }
    let id = token_id(token).to_string();
    let busy = st.tokens_in_use.iter().any(|(other, t)| other != tx && *t == id);
    if busy && cfg.variants.contains(&Variant::OneTransactionPerToken) {
        return "ConcurrentTx";
    }
    st.tokens_in_use.insert(tx.to_string(), id);
    "Accepted"
}

fn on_call(cfg: &CsmsConfig, st: &mut StationRecord, version: OcppVersion, action: &str, p: &Value) -> Result<Value, (&'static str, String)> {
    let v16 = version == OcppVersion::V16;
    Ok(match action {
        "BootNotification" => {
            st.booted = true;
            st.event_ids.clear();
            json!({"currentTime": clock(cfg), "interval": cfg.heartbeat_interval, "status": "Accepted"})
        }
        "Heartbeat" => json!({"currentTime": clock(cfg)}),
        // A02.FR.11/12: Accepted when the CA is there to sign it.
        "SignCertificate" => json!({"status": if cfg.security.signer.is_some() { "Accepted" } else { "Rejected" }}),
        "Authorize" if v16 => json!({"idTagInfo": token_info(cfg, version, &p["idTag"], auth_status(cfg, &p["idTag"]))}),
        "Authorize" => json!({"idTokenInfo": token_info(cfg, version, &p["idToken"], auth_status(cfg, &p["idToken"]))}),
        "StatusNotification" if v16 => {
            let connector = p["connectorId"].as_i64().unwrap_or_default();
            match p["status"].as_str() {
                Some("Preparing") => {
                    st.prepared.insert(connector);
                }
                Some("Available") => {
                    st.prepared.remove(&connector);
                }
                _ => {}
            }
            json!({})
        }
        "StartTransaction" => {
            st.next_tx_id += 1;
            let id = if cfg.faults.has(&Fault::TransactionIdReuse) { 1 } else { st.next_tx_id };
            st.transactions.insert(id.to_string(), false);
            let connector = p["connectorId"].as_i64().unwrap_or_default();
            let status = if cfg.variants.contains(&Variant::RequirePreparing) && !st.prepared.contains(&connector) {
                "Invalid"
            } else {
                start_status(cfg, st, &id.to_string(), &p["idTag"])
            };
            st.tx_connector.insert(id.to_string(), connector);
            json!({"transactionId": id, "idTagInfo": token_info(cfg, version, &p["idTag"], status)})
        }
        "StopTransaction" => {
            let tx = p["transactionId"].to_string();
            st.transactions.insert(tx.clone(), true);
            st.tokens_in_use.remove(&tx);
            if let Some(c) = st.tx_connector.remove(&tx) {
                st.prepared.remove(&c);
            }
            match p.get("idTag") {
                Some(tag) => json!({"idTagInfo": token_info(cfg, version, tag, auth_status(cfg, tag))}),
                None => json!({}),
            }
        }
        "NotifyEVChargingNeeds" => crate::ev_schedule::needs(cfg, st, p),
        "NotifyEVChargingSchedule" => crate::ev_schedule::schedule(cfg, st, p),
        "TransactionEvent" => {
            crate::ev_schedule::transaction(st, p);
            let tx = p["transactionInfo"]["transactionId"].as_str().unwrap_or_default().to_string();
            let ended = p["eventType"] == "Ended";
            st.transactions.insert(tx.clone(), ended);
            let info = p.get("idToken").map(|t| {
                // A token that joins an ongoing transaction (Started, or Updated when it
                // authorizes later) must not be in another one.
                let status = if !ended && !st.tokens_in_use.contains_key(&tx) { start_status(cfg, st, &tx, t) } else { auth_status(cfg, t) };
                token_info(cfg, version, t, status)
            });
            if ended {
                st.tokens_in_use.remove(&tx);
            }
            let mut answer = match info {
                Some(info) => json!({"idTokenInfo": info}),
                None => json!({}),
            };
            if version == OcppVersion::V21 {
                match crate::cost::total_cost(&mut st.meters, &cfg.faults, &tx, p) {
                    // I02: the running cost by CostUpdated instead (OCPP leaves the choice).
                    Some(cost) if !ended && cfg.variants.contains(&Variant::CostUpdated) => st.cost_to_send = Some(json!({"totalCost": cost, "transactionId": tx})),
                    Some(cost) => answer["totalCost"] = json!(cost),
                    None => {}
                }
            }
            answer
        }
        "NotifyEvent" if cfg.variants.contains(&Variant::UniqueEventIds) => {
            for e in p["eventData"].as_array().into_iter().flatten() {
                let id = e["eventId"].as_i64().unwrap_or_default();
                if !st.event_ids.insert(id) {
                    return Err(("PropertyConstraintViolation", format!("eventId {id} was used already since the station's boot (variant unique-event-ids)")));
                }
            }
            json!({})
        }
        // M06: the OCSP status of a V2G certificate, from the CA that issued it (the test PKI
        // answers as its OCSP responder); Failed without one (M06.FR.04).
        "GetCertificateStatus" => match cfg.security.signer.as_ref().map(|pki| pki.ocsp_response(&p["ocspRequestData"])) {
            Some(Ok(_)) if cfg.faults.has(&Fault::OcspResultNotDer) => json!({"status": "Accepted", "ocspResult": "T0NTUCBzdGF0dXM6IGdvb2Q="}),
            Some(Ok(result)) => json!({"status": "Accepted", "ocspResult": result}),
            _ => json!({"status": "Failed"}),
        },
        // M01/M02: the EV's request goes to a contract certificate pool; this one answers for
        // it with an EXI response of its own making.
        "Get15118EVCertificate" => {
            use base64::Engine;
            let exi = if cfg.faults.has(&Fault::EmptyEvCertificate) { String::new() } else { base64::engine::general_purpose::STANDARD.encode(format!("EXI {} response of the ocpp-harness contract pool", p["action"])) };
            json!({"status": "Accepted", "exiResponse": exi})
        }
        // Only its own vendor id means anything to this CSMS.
        "DataTransfer" if p["vendorId"] == "ocpp-harness" => json!({"status": "Accepted"}),
        "DataTransfer" => json!({"status": "UnknownVendorId"}),
        _ => defaults::answer(version, action).ok_or(("NotImplemented", format!("{action} is not an OCPP {version} action")))?,
    })
}
