//! WebSocket transport for both roles: a listener that accepts charging stations (harness as
//! CSMS) and a client that connects to a CSMS (harness as station), each negotiating the OCPP
//! subprotocol and recording the handshake in the case's trace.
use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use std::collections::VecDeque;

use tokio::{net::TcpListener, task::AbortHandle};
use tokio_tungstenite::tungstenite::{
    handshake::server::{ErrorResponse, Request, Response},
    http::{HeaderValue, StatusCode},
    protocol::WebSocketConfig,
};

pub use crate::security::{ClientSecurity, ServeSecurity};
use crate::{model::StationModel, security::rotation::PasswordRotation, session::{Connection, PeerSecurity, SessionError}, trace::Trace, version::OcppVersion};

/// Default for the largest OCPP-J message accepted from a DUT.
pub const MAX_MESSAGE: usize = 4 << 20;

static MAX_MESSAGE_BYTES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(MAX_MESSAGE);

/// Set the largest message accepted on connections opened from now on (`--max-message-bytes`);
/// a larger one ends the connection, and the case fails with the reason.
pub fn set_max_message(bytes: usize) {
    MAX_MESSAGE_BYTES.store(bytes.max(1024), std::sync::atomic::Ordering::Relaxed);
}

pub fn max_message() -> usize {
    MAX_MESSAGE_BYTES.load(std::sync::atomic::Ordering::Relaxed)
}

/// Small buffers: the defaults cost ~256 KiB per connection, which load mode cannot afford.
pub fn ws_config() -> WebSocketConfig {
    let max = max_message();
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(max * 2)
        .max_message_size(Some(max))
        .max_frame_size(Some(max))
}

/// The station id is the last path segment of the URL the station connects to.
pub fn station_id_from_path(path: &str) -> Option<String> {
    let seg = path.trim_end_matches('/').rsplit('/').next()?;
    (!seg.is_empty()).then(|| seg.to_string())
}

/// Pick the first subprotocol the client offers that we accept.
pub fn negotiate(offered: &str, accepted: &[OcppVersion]) -> Option<OcppVersion> {
    offered.split(',').map(str::trim).filter_map(OcppVersion::from_subprotocol).find(|v| accepted.contains(v))
}

type Accepted = Result<Connection, SessionError>;

impl ServeSecurity {
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "wss" } else { "ws" }
    }
}

/// Where the listener sends connections: the running case.
#[derive(Clone)]
struct Route {
    trace: Trace,
    versions: Vec<OcppVersion>,
    security: ServeSecurity,
    /// The station id the DUT must use in its URL; another one is refused and reported.
    expected: Option<String>,
}

/// The station's connections over the whole run: the live one outlives the case it came in.
struct Registry {
    state: Mutex<RegState>,
    changed: tokio::sync::Notify,
    model: Arc<Mutex<StationModel>>,
}

#[derive(Default)]
struct RegState {
    /// Connections accepted so far; each gets the next number.
    seq: u64,
    /// The newest connection and its number.
    live: Option<(u64, Connection)>,
    /// Handshakes that failed while the running case waits for a station.
    failures: VecDeque<SessionError>,
    /// The newest connection number handed to the running case by `accept`.
    handed: u64,
    in_case: bool,
}

/// Harness as CSMS: accepts charging-station connections, keeps the newest one alive across
/// cases (answering its traffic by default between cases) and hands it to the running case.
pub struct Listener {
    addr: SocketAddr,
    /// Replaced at each case start.
    current: Arc<Mutex<Route>>,
    /// A Basic-auth password the station accepted during the run: it holds for the rest of
    /// the run, whatever the configuration said (a real station keeps it).
    rotated: Arc<Mutex<Option<String>>>,
    reg: Arc<Registry>,
    task: AbortHandle,
    /// The listening sockets (main, then the alternative when opened); the accept loops hold
    /// them weakly.
    sockets: Mutex<Vec<Arc<TcpListener>>>,
    /// While set, the main / the alternative endpoint closes every connection unanswered (an
    /// unreachable CSMS).
    silent: [Arc<std::sync::atomic::AtomicBool>; 2],
    /// A second endpoint for the same station (connection profile cases, B10), opened on
    /// first use: its address and accept loop.
    alternative: Mutex<Option<(SocketAddr, AbortHandle)>>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
        if let Some((_, t)) = self.alternative.lock().unwrap().take() {
            t.abort();
        }
    }
}

impl Listener {
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Listener> {
        Self::bind_for(addr, None).await
    }

    /// Listen for the station `expected` (any station id when None).
    pub async fn bind_for(addr: SocketAddr, expected: Option<String>) -> std::io::Result<Listener> {
        let tcp = Arc::new(TcpListener::bind(addr).await?);
        let addr = tcp.local_addr()?;
        let current = Arc::new(Mutex::new(Route { trace: Trace::new(), versions: OcppVersion::ALL.to_vec(), security: ServeSecurity::default(), expected }));
        let rotated: Arc<Mutex<Option<String>>> = Arc::default();
        let reg = Arc::new(Registry { state: Mutex::default(), changed: tokio::sync::Notify::new(), model: Arc::default() });
        let silent: [Arc<std::sync::atomic::AtomicBool>; 2] = Default::default();
        let task = accept_loop(&tcp, current.clone(), rotated.clone(), reg.clone(), silent[0].clone());
        Ok(Listener { addr, current, rotated, reg, task, sockets: Mutex::new(vec![tcp]), silent, alternative: Mutex::default() })
    }

    /// The second endpoint's base URL (it is opened on `host`, port `port` — 0 for any — on
    /// first use): connections there are this station's like any other.
    pub async fn alternative_url(&self, host: std::net::IpAddr, port: u16) -> std::io::Result<String> {
        let existing = self.alternative.lock().unwrap().as_ref().map(|(a, _)| *a);
        let addr = match existing {
            Some(a) => a,
            None => {
                let tcp = Arc::new(TcpListener::bind((host, port)).await?);
                let a = tcp.local_addr()?;
                let task = accept_loop(&tcp, self.current.clone(), self.rotated.clone(), self.reg.clone(), self.silent[1].clone());
                self.sockets.lock().unwrap().push(tcp);
                *self.alternative.lock().unwrap() = Some((a, task));
                a
            }
        };
        Ok(format!("{}://{addr}/ocpp", self.current.lock().unwrap().security.scheme()))
    }

    /// Make the main (or the alternative) endpoint close every connection unanswered
    /// (`true`), or serve again.
    pub fn silence(&self, alternative: bool, silent: bool) {
        self.silent[usize::from(alternative)].store(silent, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL stations of the running case connect to (without the station id).
    pub fn url(&self) -> String {
        format!("{}://{}/ocpp", self.current.lock().unwrap().security.scheme(), self.addr)
    }

    /// Route the following connections, and the live one, to this case.
    pub fn begin_case(&self, trace: Trace, versions: Vec<OcppVersion>) {
        let mut c = self.current.lock().unwrap();
        c.trace = trace.clone();
        c.versions = versions;
        drop(c);
        let mut st = self.reg.state.lock().unwrap();
        st.in_case = true;
        st.handed = 0;
        st.failures.clear();
        if let Some((_, conn)) = &st.live {
            let between = conn.trace();
            conn.retarget(trace.clone());
            trace.absorb(&between);
        }
    }

    /// The case is over: the live connection answers everything by default from now on.
    pub fn end_case(&self) {
        self.silence(false, false);
        self.silence(true, false);
        let mut st = self.reg.state.lock().unwrap();
        st.in_case = false;
        let live = st.live.as_ref().map(|(_, c)| c.clone());
        drop(st);
        if let Some(c) = live {
            c.to_background();
        }
    }

    /// Record what happens between cases in `trace` (the next case takes it over).
    pub fn between_cases(&self, trace: Trace) {
        self.current.lock().unwrap().trace = trace.clone();
        if let Some(c) = self.live() {
            c.retarget(trace);
        }
    }

    /// Secure the following connections this way (the run's settings, or a case's bad certificate).
    pub fn secure(&self, mut security: ServeSecurity) {
        if let Some(pw) = self.rotated.lock().unwrap().clone() {
            security.password = Some(pw);
        }
        self.current.lock().unwrap().security = security;
    }

    pub fn security(&self) -> ServeSecurity {
        self.current.lock().unwrap().security.clone()
    }

    /// What the harness knows of the station, over the whole run.
    pub fn model(&self) -> Arc<Mutex<StationModel>> {
        self.reg.model.clone()
    }

    /// The station's open connection, if it has one, and its number.
    pub fn live_numbered(&self) -> Option<(u64, Connection)> {
        let st = self.reg.state.lock().unwrap();
        st.live.as_ref().filter(|(_, c)| !c.is_closed()).map(|(n, c)| (*n, c.clone()))
    }

    /// The open connection, now counted as handed to the running case.
    pub fn take_live(&self) -> Option<(u64, Connection)> {
        let mut st = self.reg.state.lock().unwrap();
        let live = st.live.as_ref().filter(|(_, c)| !c.is_closed()).map(|(n, c)| (*n, c.clone()))?;
        st.handed = st.handed.max(live.0);
        Some(live)
    }

    pub fn live(&self) -> Option<Connection> {
        self.live_numbered().map(|(_, c)| c)
    }

    /// The station's connection for the running case: the open one if the case has not had it
    /// yet, else the next one the station opens (or the reason its handshake failed).
    pub async fn accept(&self, timeout: Duration) -> Result<Connection, SessionError> {
        let handed = self.reg.state.lock().unwrap().handed;
        self.accept_after(handed, timeout).await.map(|(_, c)| c)
    }

    /// The first open connection numbered above `after`, waiting for it up to `timeout`.
    pub async fn accept_after(&self, after: u64, timeout: Duration) -> Result<(u64, Connection), SessionError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.reg.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut st = self.reg.state.lock().unwrap();
                if let Some(e) = st.failures.pop_front() {
                    return Err(e);
                }
                if let Some((n, c)) = st.live.clone().filter(|(n, c)| *n > after && !c.is_closed()) {
                    st.handed = st.handed.max(n);
                    return Ok((n, c));
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let expected = self.current.lock().unwrap().expected.clone();
                let at = expected.map_or_else(|| format!("{}/<station id>", self.url()), |id| format!("{}/{id}", self.url()));
                return Err(SessionError::Timeout(format!("no charging station connected to {at} within {} ms", timeout.as_millis())));
            }
        }
    }
}

impl Registry {
    fn arrived(&self, accepted: Accepted) {
        let mut st = self.state.lock().unwrap();
        match accepted {
            Ok(conn) => {
                st.seq += 1;
                let n = st.seq;
                self.model.lock().unwrap().connections += 1;
                let idle = !st.in_case;
                st.live = Some((n, conn.clone()));
                drop(st);
                if idle {
                    conn.to_background();
                }
            }
            Err(e) => {
                if st.in_case {
                    st.failures.push_back(e);
                }
            }
        }
        self.changed.notify_waiters();
    }
}

/// What the upgrade request showed, for the trace and the checks after it.
#[derive(Default, Clone)]
struct Seen {
    path: String,
    chosen: Option<OcppVersion>,
    offered: String,
    basic_user: Option<String>,
    /// A check that failed: (requirement, expected, observed).
    refused: Option<(&'static str, String, String)>,
}

/// An OCPP-J clause, numbered as the version's document numbers it.
fn ocpp_j(version: OcppVersion, section: &str) -> &'static str {
    match (version, section) {
        (OcppVersion::V16, "3.2") => "OCPP-J 1.6 3.2",
        (OcppVersion::V16, _) => "OCPP-J 1.6 3.1.2",
        (_, "3.2") => "OCPP-J 3.2",
        _ => "OCPP-J 3.1.2",
    }
}

/// Accept connections on `tcp` for the station: each handshake as `current` says, the result
/// to `reg`. While `silent` is set, a connection is closed at once, unanswered.
/// The loop holds the socket only while it polls, so that dropping the `Listener` (the one
/// owner) closes the port at once: a run that follows in the same process can bind it again.
fn accept_loop(tcp: &Arc<TcpListener>, current: Arc<Mutex<Route>>, rotated: Arc<Mutex<Option<String>>>, reg: Arc<Registry>, silent: Arc<std::sync::atomic::AtomicBool>) -> AbortHandle {
    let tcp = Arc::downgrade(tcp);
    let task = tokio::spawn(async move {
        let accept = || std::future::poll_fn(|cx| match tcp.upgrade() {
            Some(l) => l.poll_accept(cx).map(Some),
            None => std::task::Poll::Ready(None),
        });
        while let Some(Ok((stream, peer))) = accept().await {
            let route = current.lock().unwrap().clone();
            if silent.load(std::sync::atomic::Ordering::SeqCst) {
                route.trace.handshake(format!("station {peer}: closed unanswered (the endpoint plays unreachable)"));
                drop(stream);
                continue;
            }
            let _ = stream.set_nodelay(true);
            let (cur, rot, reg) = (current.clone(), rotated.clone(), reg.clone());
            tokio::spawn(async move {
                let accepted = handshake(stream, peer, route, reg.model.clone()).await;
                // Like a CSMS: a password the station accepted is the one it must use next.
                if let Ok(conn) = &accepted {
                    let c = conn.downgrade();
                    conn.watch(Arc::new(PasswordRotation::new(conn.station_id(), move |pw| {
                        if let Some(t) = c.trace() {
                            t.log("info", "the station accepted a new Basic-auth password: expecting it from now on");
                        }
                        cur.lock().unwrap().security.password = Some(pw.to_string());
                        *rot.lock().unwrap() = Some(pw.to_string());
                    })));
                }
                reg.arrived(accepted);
            });
        }
    });
    task.abort_handle()
}

async fn handshake(stream: tokio::net::TcpStream, peer: SocketAddr, route: Route, model: Arc<Mutex<StationModel>>) -> Accepted {
    let Route { trace, versions, security, expected } = route;
    let first_version = versions.first().copied().unwrap_or(OcppVersion::V201);
    if let Some(v) = &security.old_tls {
        return match crate::security::old_tls::serve_old(stream, v, Duration::from_secs(10)).await {
            Ok(how) => {
                trace.handshake(format!("station {peer}: a ServerHello choosing TLS {v}; {how}"));
                Err(SessionError::Refused(how))
            }
            Err(what) => {
                trace.handshake(format!("station {peer}: a ServerHello choosing TLS {v}; {what}"));
                Err(SessionError::Protocol(what))
            }
        };
    }
    let (io, tls) = match crate::security::tls::accept(stream, security.tls.clone(), Duration::from_secs(10)).await {
        Ok(x) => x,
        Err(e) => {
            let observed = format!("station {peer}: {e}");
            trace.handshake(observed.clone());
            if security.configured_certificate {
                // The channel is TLS (A00.FR.312 at profile 2); at 3 the station authenticates
                // with its certificate (A00.FR.401).
                let req = if security.profile == 3 { "A00.FR.401" } else { "A00.FR.312" };
                trace.violation(Some(req), format!("a TLS handshake with the configured CSMS certificate (security profile {})", security.profile), observed.clone());
                return Err(SessionError::Protocol(observed));
            }
            trace.log("info", format!("the station refused the certificate served: {e}"));
            return Err(SessionError::Refused(observed));
        }
    };
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let seen2 = seen.clone();
    let peer_cn = tls.as_ref().and_then(|t| t.peer_cn.clone());
    let sec = security.clone();
    let callback = move |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        let path = req.uri().path().to_string();
        let offered = req.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let chosen = negotiate(&offered, &versions);
        let mut s = seen2.lock().unwrap();
        *s = Seen { path: path.clone(), chosen, offered: offered.clone(), ..Seen::default() };
        let reject = |status: StatusCode, why: String| {
            let mut r = ErrorResponse::new(Some(why));
            *r.status_mut() = status;
            Err(r)
        };
        let Some(station) = station_id_from_path(&path) else {
            return reject(StatusCode::BAD_REQUEST, format!("no station id in the path {path:?}"));
        };
        if let Some(want) = expected.as_deref().filter(|w| *w != station) {
            s.refused = Some(("OCPP-J 3.2", format!("the station id {want:?} in the URL (the DUT description's)"), format!("station id {station:?} in {path:?}")));
            return reject(StatusCode::NOT_FOUND, "unknown charging station".into());
        }
        let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(crate::security::basic::decode);
        s.basic_user = auth.as_ref().map(|(u, _)| u.clone());
        if let Some(expected) = sec.password.as_deref().filter(|_| matches!(sec.profile, 1 | 2)) {
            let problem = match &auth {
                None => Some("no (or no well-formed) Basic Authorization header".to_string()),
                Some((user, _)) if *user != station => Some(format!("Basic user {user:?}")),
                Some((_, pw)) if !crate::security::basic::same(pw, expected) => Some("a password other than the configured one".to_string()),
                Some(_) => None,
            };
            if let Some(observed) = problem {
                // The station sends its id and password (A00.FR.202 at profile 1, .301 at 2).
                let req = if sec.profile == 2 { "A00.FR.301" } else { "A00.FR.202" };
                s.refused = Some((req, format!("HTTP Basic authentication as {station:?} with the configured password (security profile {})", sec.profile), observed));
                return reject(StatusCode::UNAUTHORIZED, "authentication failed".into());
            }
        }
        if sec.profile == 3 && peer_cn.as_deref() != Some(station.as_str()) {
            s.refused = Some(("A00.FR.401", format!("a client certificate whose subject CN is the station id {station:?}"), format!("CN {:?}", peer_cn)));
            return reject(StatusCode::FORBIDDEN, "the certificate does not name this station".into());
        }
        match chosen {
            Some(v) => {
                resp.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static(v.subprotocol()));
                Ok(resp)
            }
            None => reject(StatusCode::BAD_REQUEST, format!("none of the offered subprotocols {offered:?} is one of {versions:?}")),
        }
    };
    let result = tokio_tungstenite::accept_hdr_async_with_config(io, callback, Some(ws_config())).await;
    let Seen { path, chosen, offered, basic_user, refused } = seen.lock().unwrap().clone();
    let selected = chosen.map(|v| v.subprotocol()).unwrap_or("none");
    let mut how = String::new();
    if let Some(t) = &tls {
        how += &format!(", {} with client certificate CN {:?}", t.version, t.peer_cn);
    }
    if let Some(u) = &basic_user {
        how += &format!(", Basic user {u:?}");
    }
    trace.handshake(format!("station {peer} -> GET {path}, offered subprotocols {offered:?}, selected {selected}{how}"));
    if let Some((req, expected, observed)) = refused {
        trace.violation(Some(req), expected, observed.clone());
        return Err(SessionError::Protocol(format!("the harness refused the station: {observed}")));
    }
    let ws = result.map_err(|e| {
        let observed = format!("handshake from {peer} for {path:?} offering {offered:?} failed: {e}");
        trace.violation(Some(ocpp_j(first_version, "3.1.2")), "a WebSocket upgrade offering the OCPP subprotocol under test", observed.clone());
        SessionError::Protocol(observed)
    })?;
    let station_id = station_id_from_path(&path).unwrap_or_default();
    let version = chosen.expect("handshake succeeded with a version");
    trace.log("info", format!("station {station_id:?} connected from {peer} with {}", version.subprotocol()));
    let peer_security = PeerSecurity {
        profile: security.profile,
        tls_version: tls.as_ref().map(|t| t.version.clone()),
        peer_certificate_cn: tls.and_then(|t| t.peer_cn),
        basic_auth_user: basic_user,
    };
    Ok(Connection::spawn_modelled(ws, version, station_id, trace, Some(model)).with_security(peer_security))
}

/// The URL a station with `station_id` connects to: `{station}` in `base_url` is replaced by
/// the id (for a CSMS whose endpoint wants it elsewhere: `…/ocpp/{station}/`, `…?id={station}`);
/// without it, the id is appended as the last path segment (OCPP-J §3.1.1).
pub fn station_url(base_url: &str, station_id: &str) -> String {
    if base_url.contains("{station}") {
        base_url.replace("{station}", station_id)
    } else {
        format!("{}/{}", base_url.trim_end_matches('/'), station_id)
    }
}

/// Harness as charging station: connect to `station_url(base_url, station_id)` offering `version`.
pub async fn connect(base_url: &str, station_id: &str, version: OcppVersion, trace: Trace, timeout: Duration, security: &ClientSecurity) -> Result<Connection, SessionError> {
    use crate::security::tls::{Dial, DialError, dial};
    let url = station_url(base_url, station_id);
    let d = Dial { url: url.clone(), subprotocol: version.subprotocol().into(), basic: security.basic.clone(), tls: security.tls.clone(), timeout };
    let dialed = match dial(&d, ws_config()).await {
        Ok(x) => x,
        Err(e) => {
            let observed = format!("connecting to {url} offering {} failed: {e}", version.subprotocol());
            trace.handshake(observed.clone());
            return Err(match e {
                DialError::Usage(m) => SessionError::Usage(m),
                DialError::Timeout(_) => SessionError::Timeout(observed),
                DialError::Unreachable(_) => SessionError::Closed(observed),
                DialError::Refused(_) => SessionError::Refused(observed),
                DialError::BadServerCertificate(_) => {
                    // The CSMS authenticates with its CSMS certificate (A00.FR.307 at profile 2, .410 at 3).
                    let req = if security.profile == 3 { "A00.FR.410" } else { "A00.FR.307" };
                    trace.violation(Some(req), "a CSMS certificate that chains to the configured CA, is valid now and names the host", observed.clone());
                    SessionError::Protocol(observed)
                }
                DialError::OldTls(_) => {
                    trace.violation(Some("A00.FR.313"), "TLS 1.2 or later", observed.clone());
                    SessionError::Protocol(observed)
                }
                DialError::Protocol(_) => {
                    trace.violation(Some(ocpp_j(version, "3.2")), format!("the CSMS accepts the upgrade and selects {}", version.subprotocol()), observed.clone());
                    SessionError::Protocol(observed)
                }
            });
        }
    };
    let resp = &dialed.response;
    let selected = resp.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let mut how = String::new();
    if let Some(t) = &dialed.tls {
        how += &format!(", {} with server certificate CN {:?}", t.version, t.peer_cn);
    }
    if let Some((u, _)) = &security.basic {
        how += &format!(", Basic user {u:?}");
    }
    trace.handshake(format!("GET {url} offering {:?} -> {} selected {selected:?}{how}", version.subprotocol(), resp.status()));
    if selected != version.subprotocol() {
        let observed = format!("the CSMS selected {selected:?}");
        trace.violation(Some(ocpp_j(version, "3.2")), format!("the CSMS selects the offered subprotocol {}", version.subprotocol()), observed.clone());
        return Err(SessionError::Protocol(observed));
    }
    trace.log("info", format!("connected to {url} with {selected}"));
    let peer_security = PeerSecurity {
        profile: security.profile,
        tls_version: dialed.tls.as_ref().map(|t| t.version.clone()),
        peer_certificate_cn: dialed.tls.and_then(|t| t.peer_cn),
        basic_auth_user: security.basic.as_ref().map(|(u, _)| u.clone()),
    };
    Ok(Connection::spawn(dialed.ws, version, station_id.to_string(), trace).with_security(peer_security))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A station with another id is refused and reported; the right one is kept across cases
    /// and handed to each case once, with its traffic answered by default in between.
    #[tokio::test]
    async fn the_station_connection_outlives_the_case() {
        let l = Listener::bind_for("127.0.0.1:0".parse().unwrap(), Some("CS001".into())).await.unwrap();
        let case1 = Trace::new();
        l.begin_case(case1.clone(), vec![OcppVersion::V201]);
        let wrong = connect(&l.url(), "CS999", OcppVersion::V201, Trace::new(), Duration::from_secs(5), &ClientSecurity::default()).await;
        assert!(wrong.is_err(), "a station with another id must not get in");
        let Err(refused) = l.accept(Duration::from_secs(5)).await else { panic!("the wrong station was handed to the case") };
        assert!(refused.to_string().contains("CS999"), "{refused}");
        assert!(case1.violations().iter().any(|v| v.observed.contains("CS999")), "the refusal is reported");

        let station = connect(&l.url(), "CS001", OcppVersion::V201, Trace::new(), Duration::from_secs(5), &ClientSecurity::default()).await.unwrap();
        let c1 = l.accept(Duration::from_secs(5)).await.unwrap();
        c1.adopt(&[]);
        assert!(l.accept(Duration::from_millis(200)).await.is_err(), "the same case does not get the same connection twice");
        l.end_case();
        l.between_cases(Trace::new());
        // Between cases the station's CALLs are answered by default, and the model follows.
        let boot = serde_json::json!({"reason": "PowerUp", "chargingStation": {"model": "m", "vendorName": "v"}});
        match station.call("BootNotification", boot, Duration::from_secs(5)).await.unwrap() {
            crate::session::CallOutcome::Result(r) => assert_eq!(r["status"], "Accepted"),
            other => panic!("{other:?}"),
        }
        assert!(l.model().lock().unwrap().registration.is_accepted());
        let case2 = Trace::new();
        l.begin_case(case2.clone(), vec![OcppVersion::V201]);
        let c2 = l.accept(Duration::from_secs(1)).await.unwrap();
        assert!(c2.same(&c1), "the next case gets the live connection, not a new one");
        assert!(case2.snapshot().wire.iter().any(|w| w.note.as_deref().is_some_and(|n| n.starts_with("before the case"))), "traffic between cases is kept");
        assert_eq!(l.model().lock().unwrap().connections, 1);
    }

    #[test]
    fn the_station_id_goes_where_the_csms_url_says() {
        assert_eq!(station_url("ws://h:9000/ocpp/", "CS1"), "ws://h:9000/ocpp/CS1");
        assert_eq!(station_url("ws://h:9000/ws/ocpp/{station}/", "CS1"), "ws://h:9000/ws/ocpp/CS1/");
        assert_eq!(station_url("wss://h/ocpp?id={station}", "CS1"), "wss://h/ocpp?id=CS1");
    }

    #[test]
    fn negotiation_takes_the_first_accepted_offer() {
        use OcppVersion::*;
        assert_eq!(negotiate("ocpp2.1, ocpp2.0.1", &[V201]), Some(V201));
        assert_eq!(negotiate("ocpp2.1,ocpp2.0.1", &[V201, V21]), Some(V21));
        assert_eq!(negotiate("ocpp1.5", &[V16]), None);
        assert_eq!(negotiate("", &[V16]), None);
        assert_eq!(station_id_from_path("/ocpp/CS001"), Some("CS001".into()));
        assert_eq!(station_id_from_path("/"), None);
    }
}
