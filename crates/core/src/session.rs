//! One OCPP-J connection as the harness sees it. A reader task parses and validates every
//! frame the DUT sends, matches answers to our outstanding CALL, hands the CALLs a case has
//! claimed to the case and answers all others with the defaults; every rule the DUT breaks
//! is recorded in the case's trace as a violation, whatever the case is doing at the time.
use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    sync::{Notify, mpsc, oneshot},
    task::AbortHandle,
    time::Instant,
};
use tokio_tungstenite::{WebSocketStream, tungstenite::Message};

use crate::{defaults, frame::Frame, model::StationModel, schema::{self, Direction, SchemaError}, trace::{Dir, Trace}, version::OcppVersion};

#[derive(Debug, Clone, PartialEq)]
pub enum CallOutcome {
    Result(Value),
    Error { code: String, description: String, details: Value },
}

#[derive(Debug, Clone, PartialEq)]
pub struct IncomingCall {
    pub message_id: String,
    pub action: String,
    pub payload: Value,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SessionError {
    #[error("timeout: {0}")]
    Timeout(String),
    #[error("connection closed: {0}")]
    Closed(String),
    #[error("protocol violation: {0}")]
    Protocol(String),
    #[error("invalid use of the session API: {0}")]
    Usage(String),
    /// The peer turned the connection away on purpose (TLS alert, HTTP 401/403): what security
    /// cases expect of a DUT shown a bad certificate or password.
    #[error("refused: {0}")]
    Refused(String),
}

/// How a connection was secured, as a case may check it (never the password).
#[derive(Debug, Clone, Default)]
pub struct PeerSecurity {
    pub profile: u8,
    pub tls_version: Option<String>,
    pub peer_certificate_cn: Option<String>,
    pub basic_auth_user: Option<String>,
}

/// The OCPP-J rules the host enforces on every connection, so each violation it records names
/// its clause.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// One outstanding CALL per direction.
    Synchronicity,
    /// Message types the version defines; text frames.
    MessageType,
    /// Message ids: present, at most 36 characters, unique while outstanding.
    MessageId,
    /// Frame structure and payload validity against the schemas.
    Validity,
    /// CALLERROR: only in answer to a CALL, with a defined code.
    CallError,
}

/// The clause of `rule` as the version's OCPP-J document numbers it.
fn clause(version: OcppVersion, rule: Rule) -> &'static str {
    match (version, rule) {
        (OcppVersion::V16, Rule::Synchronicity) => "OCPP-J 1.6 4.1.1",
        (OcppVersion::V16, Rule::MessageType) => "OCPP-J 1.6 4.1.3",
        (OcppVersion::V16, Rule::MessageId) => "OCPP-J 1.6 4.1.4",
        (OcppVersion::V16, Rule::Validity) => "OCPP-J 1.6 4.2",
        (OcppVersion::V16, Rule::CallError) => "OCPP-J 1.6 4.2.3",
        (_, Rule::Synchronicity) => "OCPP-J 4.1.1",
        (_, Rule::MessageType) => "OCPP-J 4.1.3",
        (_, Rule::MessageId) => "OCPP-J 4.1.4",
        (_, Rule::Validity) => "OCPP-J 4.1.7",
        (_, Rule::CallError) => "OCPP-J 4.2.3",
    }
}

/// Message ids for our CALLs: unique per sender across connections and runs (OCPP-J 4.1.4),
/// so a counter for the whole process, starting from the clock.
fn next_message_id() -> String {
    static NEXT: std::sync::OnceLock<AtomicU64> = std::sync::OnceLock::new();
    let next = NEXT.get_or_init(|| {
        let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or_default();
        AtomicU64::new(ms * 1000)
    });
    next.fetch_add(1, Ordering::Relaxed).to_string()
}

/// The message type of a frame that failed to parse, if it can still be read.
fn message_type(text: &str) -> Option<u64> {
    serde_json::from_str::<Value>(text).ok()?.get(0)?.as_u64()
}

/// The message id of a frame the case sends raw, if it has one.
fn raw_id(text: &str) -> Option<String> {
    Some(serde_json::from_str::<Value>(text).ok()?.get(1)?.as_str()?.to_string())
}

/// CALLs held for a case, and frames kept for `expect-raw`, at most: a DUT flooding CALLs no
/// one answers must not grow them without end (beyond, CALLs get the default answer and the
/// oldest raw frames go, each with a violation). Raw frames a case sent and still awaits
/// answers to are kept as many at most (the oldest forgotten).
const MAX_HELD: usize = 1024;
const MAX_RAW: usize = 1024;
/// Frames waiting to be written to a DUT that does not read, at most; beyond, the connection
/// is given up with the reason.
const MAX_UNSENT: usize = 4096;

/// A compatibility note on a CALLERROR code that is valid but spelt one of two ways: 1.6 and
/// its errata name two codes differently, and tools (and CSMSs) accept only one or the other.
fn spelling_note(version: OcppVersion, code: &str) -> Option<String> {
    let other = match (version, code) {
        (OcppVersion::V16, "FormationViolation") => "FormatViolation",
        (OcppVersion::V16, "FormatViolation") => "FormationViolation",
        (OcppVersion::V16, "OccurenceConstraintViolation") => "OccurrenceConstraintViolation",
        (OcppVersion::V16, "OccurrenceConstraintViolation") => "OccurenceConstraintViolation",
        _ => return None,
    };
    Some(format!("CALLERROR code {code}: OCPP-J 1.6 and its errata spell it differently ({other}); a peer or test tool may know only one"))
}

/// CALLERROR codes each version defines.
fn known_error_code(version: OcppVersion, code: &str) -> bool {
    const V16: &[&str] = &[
        "NotImplemented", "NotSupported", "InternalError", "ProtocolError", "SecurityError", "FormationViolation",
        "PropertyConstraintViolation", "OccurenceConstraintViolation", "TypeConstraintViolation", "GenericError",
        // The 1.6 errata's corrections of two names above, which implementations use as well.
        "OccurrenceConstraintViolation", "FormatViolation",
    ];
    const V2: &[&str] = &[
        "FormatViolation", "GenericError", "InternalError", "MessageTypeNotSupported", "NotImplemented", "NotSupported",
        "OccurrenceConstraintViolation", "PropertyConstraintViolation", "ProtocolError", "RpcFrameworkError",
        "SecurityError", "TypeConstraintViolation",
    ];
    match version {
        OcppVersion::V16 => V16.contains(&code),
        _ => V2.contains(&code),
    }
}

struct Pending {
    id: String,
    action: String,
    tx: oneshot::Sender<Result<CallOutcome, SessionError>>,
}

#[derive(Default)]
struct State {
    pending: Option<Pending>,
    claimed: HashSet<String>,
    waiting: HashMap<String, usize>,
    /// CALLs held for the case: Ok, or the reason the DUT's CALL was invalid.
    held: VecDeque<(String, Result<IncomingCall, String>)>,
    /// Message id -> (action, payload) of CALLs handed to the case and not answered yet.
    handed: HashMap<String, (String, Value)>,
    /// Message ids of claimed CALLs the host answered itself because they crossed one of the
    /// case's CALLs (see `Shared::on_call`); the case's later reply to one is not sent.
    answered_by_host: HashSet<String>,
    /// The DUT's CALL that has not been answered yet (one outstanding per direction).
    dut_outstanding: Option<(String, String)>,
    /// When it arrived, and the DUT's own time-out for its CALLs if a case set it (2.x
    /// OCPPCommCtrlr.MessageTimeout): past it the DUT may give up and send its next CALL.
    dut_outstanding_since: Option<Instant>,
    dut_message_timeout: Option<Duration>,
    overrides: HashMap<String, Value>,
    raw_in: VecDeque<String>,
    /// Raw frames the case sent that may still be answered, by message id (None: it had none
    /// the DUT could read, so any id answers it).
    raw_sent: VecDeque<Option<String>>,
    /// Our last CALLs that were answered or timed out, so a duplicate or late answer is named
    /// as such whatever CALL happens to be outstanding when it arrives.
    finished: VecDeque<(String, String, &'static str)>,
    closed: Option<String>,
    /// When the socket was gone: the close handshake done, or the peer gone.
    gone_at: Option<Instant>,
    mode: Mode,
}

/// Who decides how the DUT's CALLs are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// A new connection no case has taken yet: every CALL is held, so nothing is answered by
    /// default before a case had the chance to claim it.
    #[default]
    Holding,
    /// A case holds the connection: its claims are held for it, the rest answered by default.
    Case,
    /// Between cases: every CALL is answered by default, and the station model kept current.
    Background,
}

impl State {
    fn finish(&mut self, id: &str, action: &str, how: &'static str) {
        if self.finished.len() == 16 {
            self.finished.pop_front();
        }
        self.finished.push_back((id.to_string(), action.to_string(), how));
    }
}

struct Shared {
    /// Itself, for the timers it starts (see `CLAIM_GRACE`).
    me: std::sync::Weak<Shared>,
    version: OcppVersion,
    station_id: String,
    /// The trace of the case the connection currently serves (or of the time between cases).
    trace: Mutex<Trace>,
    out: mpsc::UnboundedSender<Message>,
    /// Messages queued and not yet written (see `enqueue`).
    unsent: std::sync::atomic::AtomicUsize,
    writer_abort: Mutex<Option<AbortHandle>>,
    state: Mutex<State>,
    changed: Notify,
    security: Mutex<PeerSecurity>,
    /// Told of our CALLs and of every CALLRESULT (see `Watcher`).
    watchers: Mutex<Vec<Arc<dyn Watcher>>>,
    /// What the harness knows of the station across cases and connections (harness as CSMS).
    model: Option<Arc<Mutex<StationModel>>>,
}

/// Follows what the traffic on a connection changes, for a layer above the framing: the
/// security layer learns of a new BasicAuthPassword this way (`security::rotation`) without the
/// session knowing what a password is.
pub trait Watcher: Send + Sync {
    /// Our CALL `action` is about to leave.
    fn sending(&self, _action: &str, _payload: &Value) {}
    /// A CALL, ours or the DUT's, was answered with `result`.
    fn answered(&self, _action: &str, _request: &Value, _result: &Value) {}
}

/// The DUT's own message time-out a SetVariables sets: (index, seconds).
fn message_timeout_set_by(action: &str, payload: &Value) -> Option<(usize, u64)> {
    crate::model::set_by(action, payload, "OCPPCommCtrlr", "MessageTimeout").and_then(|(i, v)| v.parse().ok().map(|s| (i, s)))
}

/// How long a CALL the case claimed may wait untaken before the host answers it by default
/// (see `Shared::answer_after_grace`): longer than a case takes to ask for what it claimed,
/// shorter than a station's own message time-out.
pub const CLAIM_GRACE: Duration = Duration::from_secs(5);

/// How long a closing connection waits for the peer's half of the close handshake (its Close
/// frame, or the end of the TCP stream) before the socket is dropped anyway.
pub const CLOSE_LINGER: Duration = Duration::from_secs(2);

/// How long after our last frame our Close frame leaves at the earliest: a peer that reads a
/// CALLRESULT and a Close in the same instant may drop the answer with the connection (a
/// real CSMS did, and kept its CALL open for 30 s). Longer than a loopback round trip, too
/// short to matter to a case.
pub const CLOSE_AFTER_LAST_FRAME: Duration = Duration::from_millis(100);

static CLOSE_LINGER_MS: AtomicU64 = AtomicU64::new(CLOSE_AFTER_LAST_FRAME.as_millis() as u64);

/// The lab's own pause before a Close (DUT description `[timing] close-linger-ms`), for the run.
pub fn set_close_after_last_frame(d: Duration) {
    CLOSE_LINGER_MS.store(d.as_millis() as u64, Ordering::Relaxed);
}

fn close_after_last_frame() -> Duration {
    Duration::from_millis(CLOSE_LINGER_MS.load(Ordering::Relaxed))
}

/// The reader and writer of a connection. When the last handle goes, the connection closes
/// as RFC 6455 §7.1.1 wants: a Close frame, the peer's Close awaited (at most `CLOSE_LINGER`),
/// then the socket dropped — never a bare TCP close the peer sees as code 1006.
struct Tasks {
    handles: Vec<AbortHandle>,
    shared: std::sync::Weak<Shared>,
}
impl Drop for Tasks {
    fn drop(&mut self) {
        if let Some(s) = self.shared.upgrade() {
            s.close_handshake();
        }
        let handles = std::mem::take(&mut self.handles);
        if handles.iter().all(AbortHandle::is_finished) {
            return; // the socket is gone already: nothing to linger for
        }
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    tokio::time::sleep(CLOSE_LINGER).await;
                    handles.iter().for_each(AbortHandle::abort);
                });
            }
            Err(_) => handles.iter().for_each(AbortHandle::abort),
        }
    }
}

/// See [`Connection::downgrade`].
#[derive(Clone)]
pub struct WeakConnection(std::sync::Weak<Shared>);

impl WeakConnection {
    /// The trace the connection records into now, while it is alive.
    pub fn trace(&self) -> Option<Trace> {
        self.0.upgrade().map(|s| s.trace())
    }
}

/// A live connection; clones share it. Dropping the last clone closes the socket.
#[derive(Clone)]
pub struct Connection {
    shared: Arc<Shared>,
    _tasks: Arc<Tasks>,
}

impl Connection {
    /// Take over an open WebSocket whose subprotocol negotiated `version`.
    pub fn spawn<S>(ws: WebSocketStream<S>, version: OcppVersion, station_id: String, trace: Trace) -> Connection
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        Self::spawn_modelled(ws, version, station_id, trace, None)
    }

    /// Like `spawn`, keeping `model` current from the traffic (harness as CSMS).
    pub fn spawn_modelled<S>(ws: WebSocketStream<S>, version: OcppVersion, station_id: String, trace: Trace, model: Option<Arc<Mutex<StationModel>>>) -> Connection
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (mut sink, mut stream) = ws.split();
        let (out, mut rx) = mpsc::unbounded_channel::<Message>();
        let shared = Arc::new_cyclic(|me| Shared {
            me: me.clone(),
            version,
            station_id,
            trace: Mutex::new(trace),
            out,
            unsent: Default::default(),
            writer_abort: Mutex::default(),
            state: Mutex::default(),
            changed: Notify::new(),
            security: Mutex::default(),
            watchers: Mutex::default(),
            model,
        });
        let writer_shared = shared.clone();
        let writer = tokio::spawn(async move {
            let mut last_sent: Option<Instant> = None;
            while let Some(m) = rx.recv().await {
                let last = matches!(m, Message::Close(_));
                if let (true, Some(at)) = (last, last_sent) {
                    tokio::time::sleep_until(at + close_after_last_frame()).await;
                }
                let sent = sink.send(m).await;
                last_sent = Some(Instant::now());
                writer_shared.unsent.fetch_sub(1, Ordering::Relaxed);
                if sent.is_err() || last {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        *shared.writer_abort.lock().unwrap() = Some(writer.abort_handle());
        let reader_shared = shared.clone();
        let reader = tokio::spawn(async move {
            let s = reader_shared;
            let reason = loop {
                match stream.next().await {
                    Some(Ok(Message::Text(t))) => s.on_text(t.as_str()),
                    Some(Ok(Message::Binary(b))) => {
                        s.trace().wire(Dir::Rx, &format!("<binary frame, {} bytes>", b.len()), None);
                        s.trace().violation(Some(clause(s.version, Rule::MessageType)), "text frames only (OCPP-J)", format!("a binary frame of {} bytes", b.len()));
                        s.push_raw(format!("<binary frame, {} bytes>", b.len()));
                    }
                    Some(Ok(Message::Close(f))) => {
                        let reason = match f {
                            Some(f) => format!("closed by the DUT (code {}, {:?})", u16::from(f.code), f.reason.as_str()),
                            None => "closed by the DUT".to_string(),
                        };
                        s.ended(&reason);
                        // RFC 6455 §5.5.1: a Close is answered with a Close. tungstenite queued
                        // the answer (or, if we closed first, this was the answer to ours); it
                        // is written by the next read, which then sees the stream end.
                        let _ = tokio::time::timeout(CLOSE_LINGER, async { while let Some(Ok(_)) = stream.next().await {} }).await;
                        break reason;
                    }
                    Some(Ok(_)) => {} // ping/pong: answered by tungstenite
                    Some(Err(e)) if is_abrupt_drop(&e) => break format!("the DUT dropped the connection without a WebSocket close ({e})"),
                    Some(Err(e)) => break format!("WebSocket error: {e}"),
                    None => break "the DUT dropped the connection (TCP closed without a WebSocket close)".to_string(),
                }
            };
            s.ended(&reason);
            s.state.lock().unwrap().gone_at = Some(Instant::now());
            s.changed.notify_waiters();
        });
        let tasks = Tasks { handles: vec![writer.abort_handle(), reader.abort_handle()], shared: Arc::downgrade(&shared) };
        Connection { shared, _tasks: Arc::new(tasks) }
    }

    pub fn version(&self) -> OcppVersion {
        self.shared.version
    }

    pub fn station_id(&self) -> &str {
        &self.shared.station_id
    }

    /// Record how the transport secured this connection.
    pub fn with_security(self, s: PeerSecurity) -> Self {
        *self.shared.security.lock().unwrap() = s;
        self
    }

    pub fn security(&self) -> PeerSecurity {
        self.shared.security.lock().unwrap().clone()
    }

    /// The trace of the case the connection belongs to.
    pub fn trace(&self) -> Trace {
        self.shared.trace()
    }

    /// Record what happens on this connection in `trace` from now on (the connection outlives
    /// the case that opened it).
    pub fn retarget(&self, trace: Trace) {
        *self.shared.trace.lock().unwrap() = trace;
    }

    pub fn mode(&self) -> Mode {
        self.shared.state.lock().unwrap().mode
    }

    /// The model of the station this connection belongs to (harness as CSMS).
    pub fn model(&self) -> Option<Arc<Mutex<StationModel>>> {
        self.shared.model.clone()
    }

    /// The case is over: forget its claims, default answers and raw frames, answer every CALL
    /// it held or left unanswered with the defaults, and answer all traffic by default until
    /// the next case takes the connection.
    pub fn to_background(&self) {
        let s = &self.shared;
        let mut st = s.state.lock().unwrap();
        st.mode = Mode::Background;
        st.claimed.clear();
        st.waiting.clear();
        st.overrides.clear();
        st.raw_in.clear();
        st.raw_sent.clear();
        if let Some(p) = st.pending.take() {
            st.finish(&p.id, &p.action, "abandoned at the end of the case");
        }
        let mut unanswered: Vec<(String, String, Value)> = std::mem::take(&mut st.handed).into_iter().map(|(id, (a, p))| (id, a, p)).collect();
        for (_, call) in std::mem::take(&mut st.held) {
            if let Ok(c) = call {
                unanswered.push((c.message_id, c.action, c.payload));
            }
        }
        let by_host = std::mem::take(&mut st.answered_by_host);
        unanswered.retain(|(id, _, _)| !by_host.contains(id));
        st.dut_outstanding = None;
        drop(st);
        for (id, action, payload) in unanswered {
            s.trace().log("info", format!("{action} ({id}) left unanswered by the case: answered by default"));
            s.default_answer(id, &action, &payload);
        }
    }

    /// The action of the first CALL held on a connection no case has taken yet, waiting up to
    /// `timeout` for one.
    pub async fn first_held(&self, timeout: Duration) -> Option<String> {
        self.shared.wait(timeout, |st| st.held.front().map(|(a, _)| a.clone()).or_else(|| st.closed.as_ref().map(|_| String::new()))).await.filter(|a| !a.is_empty())
    }

    /// Wait until the station model satisfies `done` (or the connection closes): false at the
    /// deadline or on close.
    pub async fn wait_model(&self, timeout: Duration, done: impl Fn(&StationModel) -> bool) -> bool {
        let Some(model) = self.shared.model.clone() else { return false };
        self.shared
            .wait(timeout, |st| {
                if done(&model.lock().unwrap()) {
                    Some(true)
                } else {
                    st.closed.as_ref().map(|_| false)
                }
            })
            .await
            .unwrap_or(false)
    }

    /// A handle that does not keep the connection open: for hooks the connection holds
    /// itself (a watcher holding a `Connection` would keep its socket open for ever).
    pub fn downgrade(&self) -> WeakConnection {
        WeakConnection(Arc::downgrade(&self.shared))
    }

    /// Tell `w` of our CALLs and of every answer on this connection from now on.
    pub fn watch(&self, w: Arc<dyn Watcher>) {
        self.shared.watchers.lock().unwrap().push(w);
    }

    pub fn is_closed(&self) -> bool {
        self.shared.state.lock().unwrap().closed.is_some()
    }

    /// When the socket is gone (the close handshake over, or the peer gone), waiting for it
    /// at most `timeout`: the moment the peer, too, sees the connection end.
    pub async fn gone(&self, timeout: Duration) -> Option<Instant> {
        self.shared.wait(timeout, |st| st.gone_at).await
    }

    /// Why the connection ended, once it has.
    pub fn closed_reason(&self) -> Option<String> {
        self.shared.state.lock().unwrap().closed.clone()
    }

    /// Whether two handles are the same connection.
    pub fn same(&self, other: &Connection) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Send a CALL and wait for the DUT's answer.
    pub async fn call(&self, action: &str, payload: Value, timeout: Duration) -> Result<CallOutcome, SessionError> {
        let s = &self.shared;
        schema::validate(s.version, action, Direction::Request, &payload).map_err(|e| SessionError::Usage(e.to_string()))?;
        let id = next_message_id();
        let (tx, rx) = oneshot::channel();
        {
            let mut st = s.state.lock().unwrap();
            if let Some(reason) = &st.closed {
                return Err(SessionError::Closed(reason.clone()));
            }
            if let Some(p) = &st.pending {
                return Err(SessionError::Usage(format!("CALL {} ({}) is still outstanding", p.action, p.id)));
            }
            st.pending = Some(Pending { id: id.clone(), action: action.to_string(), tx });
        }
        let new_timeout = message_timeout_set_by(action, &payload);
        let watchers = s.watchers();
        watchers.iter().for_each(|w| w.sending(action, &payload));
        let request = (!watchers.is_empty()).then(|| payload.clone());
        s.send(&Frame::Call { id: id.clone(), action: action.to_string(), payload }, None);
        let sent = Instant::now();
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(outcome)) => {
                let took = sent.elapsed();
                if took > timeout / 2 {
                    s.trace().warn_compat(format!("{action} answered after {} ms, more than half the {} ms allowed: a tool or CSMS with a shorter time-out would give up", took.as_millis(), timeout.as_millis()));
                }
                if let (Some((i, secs)), Ok(CallOutcome::Result(r))) = (new_timeout, &outcome) {
                    if r["setVariableResult"][i]["attributeStatus"] == "Accepted" {
                        s.state.lock().unwrap().dut_message_timeout = Some(Duration::from_secs(secs));
                    }
                }
                if let (Some(request), Ok(CallOutcome::Result(r))) = (&request, &outcome) {
                    watchers.iter().for_each(|w| w.answered(action, request, r));
                }
                outcome
            }
            Ok(Err(_)) => {
                let reason = s.state.lock().unwrap().closed.clone().unwrap_or_default();
                Err(SessionError::Closed(format!("{reason}, before the answer to {action} ({id})")))
            }
            Err(_) => {
                let mut st = s.state.lock().unwrap();
                st.pending = None;
                st.finish(&id, action, "timed out");
                drop(st);
                let observed = format!("no answer to {action} ({id}) within {} ms", timeout.as_millis());
                s.trace().violation(Some(clause(s.version, Rule::Synchronicity)), format!("a CALLRESULT or CALLERROR for {action}"), observed.clone());
                Err(SessionError::Timeout(observed))
            }
        }
    }

    /// Hand the connection to the case with its initial claims; CALLs held so far that the
    /// case did not claim get their default answers now, in arrival order.
    pub fn adopt(&self, claims: &[String]) {
        let s = &self.shared;
        let mut st = s.state.lock().unwrap();
        st.claimed.extend(claims.iter().cloned());
        st.mode = Mode::Case;
        let held = std::mem::take(&mut st.held);
        let mut unclaimed = Vec::new();
        for (action, call) in held {
            match call {
                Ok(c) if !st.claimed.contains(&action) => {
                    if st.dut_outstanding.as_ref().is_some_and(|(id, _)| *id == c.message_id) {
                        st.dut_outstanding = None;
                    }
                    unclaimed.push(c)
                }
                other => st.held.push_back((action, other)),
            }
        }
        drop(st);
        for c in unclaimed {
            s.default_answer(c.message_id, &c.action, &c.payload);
        }
    }

    pub fn claim(&self, actions: &[String]) {
        self.shared.state.lock().unwrap().claimed.extend(actions.iter().cloned());
    }

    pub fn release(&self, actions: &[String]) {
        let mut st = self.shared.state.lock().unwrap();
        actions.iter().for_each(|a| {
            st.claimed.remove(a);
        });
    }

    pub fn set_default_answer(&self, action: &str, payload: Value) -> Result<(), SessionError> {
        schema::validate(self.shared.version, action, Direction::Response, &payload)
            .map_err(|e| SessionError::Usage(e.to_string()))?;
        self.shared.state.lock().unwrap().overrides.insert(action.to_string(), payload);
        Ok(())
    }

    /// Wait for the DUT's next CALL of `action`.
    pub async fn expect_call(&self, action: &str, timeout: Duration) -> Result<IncomingCall, SessionError> {
        let s = &self.shared;
        if !schema::knows_action(s.version, action) {
            return Err(SessionError::Usage(format!("OCPP {} has no action {action:?}", s.version)));
        }
        *s.state.lock().unwrap().waiting.entry(action.to_string()).or_default() += 1;
        let result = s
            .wait(timeout, |st| {
                if let Some(pos) = st.held.iter().position(|(a, _)| a == action) {
                    let (_, call) = st.held.remove(pos).unwrap();
                    return Some(match call {
                        Ok(c) => {
                            st.handed.insert(c.message_id.clone(), (c.action.clone(), c.payload.clone()));
                            Ok(c)
                        }
                        Err(reason) => Err(SessionError::Protocol(reason)),
                    });
                }
                st.closed.as_ref().map(|r| Err(SessionError::Closed(r.clone())))
            })
            .await
            .unwrap_or_else(|| Err(SessionError::Timeout(format!("no {action} from the DUT within {} ms", timeout.as_millis()))));
        let mut st = s.state.lock().unwrap();
        if let Some(n) = st.waiting.get_mut(action) {
            *n -= 1;
        }
        result
    }

    /// Answer a CALL the case received with a CALLRESULT.
    pub fn reply(&self, message_id: &str, payload: Value) -> Result<(), SessionError> {
        let s = &self.shared;
        let (action, request) = s.take_handed(message_id)?;
        if let Err(e) = schema::validate(s.version, &action, Direction::Response, &payload) {
            s.state.lock().unwrap().handed.insert(message_id.to_string(), (action, request));
            return Err(SessionError::Usage(e.to_string()));
        }
        if s.already_answered(message_id, &action) {
            return Ok(());
        }
        s.observe_answer(&action, &request, &payload);
        s.send(&Frame::CallResult { id: message_id.to_string(), payload }, None);
        Ok(())
    }

    /// Answer a CALL the case received with a CALLERROR.
    pub fn reply_error(&self, message_id: &str, code: &str, description: &str) -> Result<(), SessionError> {
        let s = &self.shared;
        if !known_error_code(s.version, code) {
            return Err(SessionError::Usage(format!("{code:?} is not a CALLERROR code OCPP {} defines", s.version)));
        }
        let (action, _) = s.take_handed(message_id)?;
        if s.already_answered(message_id, &action) {
            return Ok(());
        }
        let frame = Frame::CallError { id: message_id.into(), code: code.into(), description: description.into(), details: json!({}) };
        s.send(&frame, None);
        Ok(())
    }

    /// Send text without framing or validation.
    pub fn send_raw(&self, text: &str) -> Result<(), SessionError> {
        let s = &self.shared;
        let mut st = s.state.lock().unwrap();
        if let Some(r) = &st.closed {
            return Err(SessionError::Closed(r.clone()));
        }
        if st.raw_sent.len() >= MAX_RAW {
            st.raw_sent.pop_front();
        }
        st.raw_sent.push_back(raw_id(text));
        drop(st);
        s.trace().wire(Dir::Tx, text, Some("raw frame sent by the case".into()));
        s.enqueue(Message::text(text));
        Ok(())
    }

    /// The next frame that answers a raw frame, or that the host could not use.
    pub async fn expect_raw(&self, timeout: Duration) -> Result<String, SessionError> {
        self.shared
            .wait(timeout, |st| {
                st.raw_in.pop_front().map(Ok).or_else(|| st.closed.as_ref().map(|r| Err(SessionError::Closed(r.clone()))))
            })
            .await
            .unwrap_or_else(|| Err(SessionError::Timeout(format!("no answer to the raw frame within {} ms", timeout.as_millis()))))
    }

    pub async fn expect_close(&self, timeout: Duration) -> Result<(), SessionError> {
        self.shared
            .wait(timeout, |st| st.closed.as_ref().map(|_| Ok(())))
            .await
            .unwrap_or_else(|| Err(SessionError::Timeout(format!("the DUT kept the connection open for {} ms", timeout.as_millis()))))
    }

    /// Close the connection: a Close frame now; the peer's Close is awaited in the background.
    pub fn close(&self) {
        self.shared.close_handshake();
    }
}

impl Shared {
    /// A claimed CALL the case has not taken within `CLAIM_GRACE` gets the default answer: a
    /// station waiting for it must not be kept from what the case waits for (a 1.6 station
    /// sends StatusNotification and waits for its answer before it reboots). The case still
    /// gets the CALL when it asks; its own answer is then not sent. A CALL the case took and
    /// holds on purpose (a time-out test) is not touched.
    fn answer_after_grace(&self, id: String) {
        let me = self.me.clone();
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
        rt.spawn(async move {
            tokio::time::sleep(CLAIM_GRACE).await;
            let Some(s) = me.upgrade() else { return };
            let mut st = s.state.lock().unwrap();
            let untaken = st.held.iter().find_map(|(_, c)| c.as_ref().ok().filter(|c| c.message_id == id).map(|c| (c.action.clone(), c.payload.clone())));
            let Some((action, payload)) = untaken.filter(|_| st.closed.is_none() && !st.answered_by_host.contains(&id)) else { return };
            st.answered_by_host.insert(id.clone());
            if st.dut_outstanding.as_ref().is_some_and(|(o, _)| *o == id) {
                st.dut_outstanding = None;
            }
            drop(st);
            s.trace().log("info", format!("{action} ({id}) claimed by the case and not taken within {} s: answered by default, so the station can go on", CLAIM_GRACE.as_secs()));
            s.default_answer(id, &action, &payload);
        });
    }

    /// The connection ended for `reason`, unless it had ended already (our own Close answered).
    fn ended(&self, reason: &str) {
        let first = self.state.lock().unwrap().closed.is_none();
        if first {
            self.trace().log("info", format!("connection ended: {reason}"));
            self.mark_closed(reason.to_string());
        }
    }

    /// Start the close handshake unless the connection is closed already.
    fn close_handshake(&self) {
        if self.state.lock().unwrap().closed.is_none() {
            self.trace().log("info", "closing the connection");
            self.enqueue(Message::Close(None));
            self.mark_closed("closed by the harness".into());
        }
    }

    fn trace(&self) -> Trace {
        self.trace.lock().unwrap().clone()
    }

    fn send(&self, frame: &Frame, note: Option<String>) {
        let text = frame.to_text();
        self.trace().wire(Dir::Tx, &text, note);
        self.enqueue(Message::text(text));
    }

    fn push_raw(&self, text: String) {
        let mut st = self.state.lock().unwrap();
        if st.raw_in.len() >= MAX_RAW {
            st.raw_in.pop_front();
            drop(st);
            self.trace().violation(Some(clause(self.version, Rule::Validity)), format!("at most {MAX_RAW} unusable frames kept"), "more: the oldest was dropped");
            st = self.state.lock().unwrap();
        }
        st.raw_in.push_back(text);
        drop(st);
        self.changed.notify_waiters();
    }

    /// Queue a message for the writer; a DUT that has left `MAX_UNSENT` of them unread loses
    /// the connection, with the reason.
    fn enqueue(&self, m: Message) {
        if self.unsent.fetch_add(1, Ordering::Relaxed) >= MAX_UNSENT {
            self.unsent.fetch_sub(1, Ordering::Relaxed);
            if self.state.lock().unwrap().closed.is_none() {
                let reason = format!("the DUT stopped reading: {MAX_UNSENT} frames waited to be written");
                self.trace().violation(None, "a peer that reads what it is sent", reason.clone());
                self.mark_closed(reason);
                self.writer_abort.lock().unwrap().as_ref().map(AbortHandle::abort);
            }
            return;
        }
        let _ = self.out.send(m);
    }

    fn mark_closed(&self, reason: String) {
        let mut st = self.state.lock().unwrap();
        st.closed.get_or_insert(reason);
        st.pending = None; // drops the sender: the waiting call sees Closed
        drop(st);
        self.changed.notify_waiters();
    }

    fn take_handed(&self, message_id: &str) -> Result<(String, Value), SessionError> {
        let mut st = self.state.lock().unwrap();
        let handed = st
            .handed
            .remove(message_id)
            .ok_or_else(|| SessionError::Usage(format!("no CALL with message id {message_id:?} is waiting for an answer")))?;
        if st.dut_outstanding.as_ref().is_some_and(|(id, _)| id == message_id) {
            st.dut_outstanding = None;
        }
        if let Some(r) = &st.closed {
            return Err(SessionError::Closed(r.clone()));
        }
        Ok(handed)
    }

    /// A CALL that crossed one of the case's CALLs was answered by the host already: the
    /// case's own answer is not sent (a CALL gets one answer).
    fn already_answered(&self, message_id: &str, action: &str) -> bool {
        if !self.state.lock().unwrap().answered_by_host.remove(message_id) {
            return false;
        }
        self.trace().log("info", format!("{action} ({message_id}) crossed the case's CALL and was answered by the host then; the case's answer is not sent"));
        true
    }

    fn observe_call(&self, action: &str, payload: &Value) {
        if let Some(m) = &self.model {
            let in_sequence = m.lock().unwrap().observe_call(self.version, action, payload);
            for d in in_sequence.into_iter().chain(crate::model::deviation(self.version, action, payload)) {
                self.trace().violation(Some(d.clause.into()), d.expected, d.observed);
            }
        }
    }

    fn watchers(&self) -> Vec<Arc<dyn Watcher>> {
        self.watchers.lock().unwrap().clone()
    }

    fn observe_answer(&self, action: &str, request: &Value, answer: &Value) {
        self.watchers().iter().for_each(|w| w.answered(action, request, answer));
        if let Some(m) = &self.model {
            m.lock().unwrap().observe_answer(self.version, action, request, answer);
        }
        self.changed.notify_waiters();
    }

    /// Poll `check` on every state change until it yields, or None at the deadline.
    async fn wait<T>(&self, timeout: Duration, mut check: impl FnMut(&mut State) -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(v) = check(&mut self.state.lock().unwrap()) {
                return Some(v);
            }
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep_until(deadline) => return check(&mut self.state.lock().unwrap()),
            }
        }
    }

    fn on_text(&self, text: &str) {
        let frame = match Frame::parse(text, self.version) {
            Ok(f) => f,
            Err(e) => {
                self.trace().wire(Dir::Rx, text, Some(format!("violation: {e}")));
                let rule = if e.reason.contains("message id") { Rule::MessageId } else if e.kind == crate::frame::FrameErrorKind::MessageType { Rule::MessageType } else { Rule::Validity };
                self.trace().violation(Some(clause(self.version, rule)), "a well-formed OCPP-J frame", format!("{e}: {}", shorten(text)));
                match message_type(text) {
                    // A broken answer is never answered (a CALLERROR only answers a CALL); if it
                    // was meant for our outstanding CALL, that CALL ends now, not at its time-out.
                    Some(3..=5) => {
                        let mut st = self.state.lock().unwrap();
                        if let Some(p) = st.pending.take_if(|p| e.id.as_deref() == Some(p.id.as_str())) {
                            st.finish(&p.id, &p.action, "answered with a broken frame");
                            drop(st);
                            let _ = p.tx.send(Err(SessionError::Protocol(format!("the answer to {} is not a well-formed frame: {e}", p.action))));
                        }
                    }
                    _ => {
                        let id = e.id.clone().unwrap_or_else(|| "-1".into());
                        let answer = Frame::CallError { id, code: e.kind.error_code(self.version).into(), description: e.reason.clone(), details: json!({}) };
                        self.send(&answer, Some("answer to an invalid frame".into()));
                    }
                }
                self.push_raw(text.to_string());
                return;
            }
        };
        self.trace().wire(Dir::Rx, text, None);
        match frame {
            Frame::Call { id, action, payload } => self.on_call(id, action, payload, true),
            Frame::Send { id, action, payload } => self.on_call(id, action, payload, false),
            Frame::CallResult { id, payload } => self.on_answer(&id, text, None, |action| {
                match schema::validate(self.version, action, Direction::Response, &payload) {
                    Ok(()) => Ok(CallOutcome::Result(payload.clone())),
                    Err(e) => {
                        self.trace().violation(Some(clause(self.version, Rule::Validity)), format!("a schema-valid {action} response"), e.to_string());
                        // 2.1 tells the sender its answer could not be used (OCPP-J 2.1 4.2.3).
                        if self.version.has_rpc_extensions() {
                            let f = Frame::CallResultError { id: id.clone(), code: e.error_code(self.version).into(), description: e.to_string(), details: json!({}) };
                            self.send(&f, Some("the DUT's CALLRESULT breaks its schema".into()));
                        }
                        Err(SessionError::Protocol(e.to_string()))
                    }
                }
            }),
            Frame::CallError { id, code, description, details } => self.on_answer(&id, text, Some(&code), |action| {
                self.check_error_code(&code, &format!("the answer to {action}")).map_err(SessionError::Protocol)?;
                Ok(CallOutcome::Error { code: code.clone(), description: description.clone(), details: details.clone() })
            }),
            Frame::CallResultError { code, description, .. } => {
                self.trace().log("warn", format!("the DUT rejected one of our answers: {code} {description}"));
                self.push_raw(text.to_string());
            }
        }
    }

    fn on_call(&self, id: String, action: String, payload: Value, needs_answer: bool) {
        /// How much earlier than the harness the DUT may have started its message time-out.
        const GIVE_UP_SLACK: Duration = Duration::from_millis(250);
        let valid = schema::validate(self.version, &action, Direction::Request, &payload);
        // The model sees the CALL before anyone can answer it (the case may, as soon as it is held).
        if valid.is_ok() {
            self.observe_call(&action, &payload);
        }
        let mut st = self.state.lock().unwrap();
        if id.is_empty() {
            self.trace().violation(Some(clause(self.version, Rule::MessageId)), "a message id that identifies the CALL", format!("CALL {action} with an empty message id"));
        }
        if needs_answer {
            // Past its own message time-out the DUT may give up on a CALL and go on (E13). Its
            // clock started when it sent the CALL, ours when the CALL arrived: a little earlier.
            let given_up = st.dut_outstanding_since.zip(st.dut_message_timeout).is_some_and(|(since, t)| since.elapsed() + GIVE_UP_SLACK >= t);
            if given_up {
                if let Some((prev_id, prev_action)) = &st.dut_outstanding {
                    self.trace().log("info", format!("the DUT gave up its unanswered {prev_action} ({prev_id}) after its MessageTimeout"));
                }
            } else if let Some((prev_id, prev_action)) = &st.dut_outstanding {
                let (rule, expected) = if *prev_id == id {
                    (Rule::MessageId, "a message id not used by another of its CALLs still unanswered")
                } else {
                    (Rule::Synchronicity, "at most one outstanding CALL from the DUT")
                };
                self.trace().violation(Some(clause(self.version, rule)), expected, format!("CALL {action} ({id}) while its {prev_action} ({prev_id}) is still unanswered"));
            }
        }
        let mut for_case = match st.mode {
            Mode::Holding => true,
            Mode::Case => st.claimed.contains(&action) || st.waiting.get(&action).is_some_and(|n| *n > 0),
            Mode::Background => false,
        };
        if for_case && st.held.len() >= MAX_HELD {
            for_case = false;
            self.trace().violation(Some(clause(self.version, Rule::Synchronicity)), format!("at most {MAX_HELD} CALLs waiting to be taken"), format!("CALL {action} ({id}) beyond them: answered by default"));
        }
        match valid {
            Err(e) => {
                let expected = match &e {
                    SchemaError::UnknownAction { .. } => format!("only actions OCPP {} defines", self.version),
                    SchemaError::Invalid { .. } => format!("a schema-valid {action} request"),
                };
                self.trace().violation(Some(clause(self.version, Rule::Validity)), expected, e.to_string());
                if for_case {
                    st.held.push_back((action.clone(), Err(e.to_string())));
                }
                drop(st);
                if needs_answer {
                    let answer = Frame::CallError { id, code: e.error_code(self.version).into(), description: e.to_string(), details: json!({}) };
                    self.send(&answer, Some("answer to an invalid CALL".into()));
                }
                self.changed.notify_waiters();
            }
            // Crossing CALLs (OCPP-J allows them): the case is blocked in `call` until the DUT
            // answers, and the DUT may wait for this answer first. The host answers it now (the
            // case's default answer if it set one) and still hands it to the case.
            Ok(()) if for_case && needs_answer && st.mode == Mode::Case && st.pending.is_some() => {
                st.answered_by_host.insert(id.clone());
                st.held.push_back((action.clone(), Ok(IncomingCall { message_id: id.clone(), action: action.clone(), payload: payload.clone() })));
                drop(st);
                self.trace().log("info", format!("{action} ({id}) crossed the case's outstanding CALL: answered now, handed to the case as well"));
                self.default_answer(id, &action, &payload);
                self.changed.notify_waiters();
            }
            Ok(()) if for_case => {
                if needs_answer {
                    st.dut_outstanding = Some((id.clone(), action.clone()));
                    st.dut_outstanding_since = Some(Instant::now());
                    if st.mode == Mode::Case {
                        self.answer_after_grace(id.clone());
                    }
                }
                st.held.push_back((action.clone(), Ok(IncomingCall { message_id: id, action, payload })));
                drop(st);
                self.changed.notify_waiters();
            }
            Ok(()) if needs_answer => {
                drop(st);
                self.default_answer(id, &action, &payload);
            }
            Ok(()) => {}
        }
    }

    fn default_answer(&self, id: String, action: &str, request: &Value) {
        let answer = self.state.lock().unwrap().overrides.get(action).cloned().or_else(|| defaults::answer(self.version, action));
        match answer {
            Some(payload) => {
                self.observe_answer(action, request, &payload);
                self.send(&Frame::CallResult { id, payload }, Some("default answer".into()))
            }
            None => {
                let e = Frame::CallError { id, code: "NotImplemented".into(), description: String::new(), details: json!({}) };
                self.send(&e, Some("no default answer".into()));
            }
        }
    }

    /// Route a CALLRESULT/CALLERROR to our outstanding CALL, or to the raw queue.
    /// A CALLERROR's code (in `what`): a violation unless the version defines it, a
    /// compatibility note if it is spelt one of two ways.
    fn check_error_code(&self, code: &str, what: &str) -> Result<(), String> {
        if !known_error_code(self.version, code) {
            let observed = format!("CALLERROR code {code:?} in {what}");
            self.trace().violation(Some(clause(self.version, Rule::CallError)), format!("an error code OCPP {} defines", self.version), observed.clone());
            return Err(observed);
        }
        if let Some(note) = spelling_note(self.version, code) {
            self.trace().warn_compat(note);
        }
        Ok(())
    }

    /// Route an answer (`error_code` set for a CALLERROR) to our outstanding CALL, or to the
    /// raw frames the case sent.
    fn on_answer(&self, id: &str, text: &str, error_code: Option<&str>, outcome: impl FnOnce(&str) -> Result<CallOutcome, SessionError>) {
        let mut st = self.state.lock().unwrap();
        if st.pending.as_ref().is_some_and(|p| p.id == id) {
            let p = st.pending.take().unwrap();
            st.finish(&p.id, &p.action, "answered");
            drop(st);
            let _ = p.tx.send(outcome(&p.action));
            return;
        }
        // An answer to a raw frame the case sent: by its id, or to one without a readable id. One
        // with another id still goes to the case (it judges the answer), as a violation.
        let matching = st.raw_sent.iter().position(|r| r.as_deref() == Some(id)).or_else(|| st.raw_sent.iter().position(Option::is_none));
        let raw = matching.or((!st.raw_sent.is_empty()).then_some(0));
        if let Some(i) = raw {
            let sent = st.raw_sent.remove(i).flatten();
            st.raw_in.push_back(text.to_string());
            drop(st);
            if matching.is_none() {
                let expected = format!("an answer with the message id {:?} of the frame it answers", sent.unwrap_or_default());
                self.trace().violation(Some(clause(self.version, Rule::MessageId)), expected, format!("an answer with message id {id:?}: {}", shorten(text)));
            }
            if let Some(code) = error_code {
                // The case judges the answer; a bad code is recorded all the same.
                let _ = self.check_error_code(code, "the answer to a raw frame");
            }
            self.changed.notify_waiters();
            return;
        }
        let expected = match (st.finished.iter().find(|f| f.0 == id), &st.pending) {
            (Some((_, action, how)), _) => format!("no further answer: our {action} CALL ({id}) was already {how}"),
            (None, Some(p)) => format!("an answer with the message id {:?} of our {} CALL", p.id, p.action),
            (None, None) => "no answer: the harness has no CALL outstanding".to_string(),
        };
        drop(st);
        self.trace().violation(Some(clause(self.version, Rule::MessageId)), expected, format!("an answer with message id {id:?}: {}", shorten(text)));
    }
}

/// The ways a peer that just goes away shows up, depending on timing and what was unread.
fn is_abrupt_drop(e: &tokio_tungstenite::tungstenite::Error) -> bool {
    use std::io::ErrorKind::*;
    use tokio_tungstenite::tungstenite::{Error, error::ProtocolError};
    match e {
        Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) | Error::ConnectionClosed | Error::AlreadyClosed => true,
        Error::Io(io) => matches!(io.kind(), ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof),
        _ => false,
    }
}

fn shorten(text: &str) -> String {
    if text.len() <= 200 {
        return text.to_string();
    }
    let mut cut = 200;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}...", &text[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

    /// A scripted DUT: what the test pushes into `say` it sends; what it receives lands in
    /// `heard`. The harness side is a `Connection` at `version`.
    struct Peer {
        say: UnboundedSender<String>,
        heard: UnboundedReceiver<String>,
    }

    impl Peer {
        async fn next(&mut self, within_ms: u64) -> Option<String> {
            tokio::time::timeout(Duration::from_millis(within_ms), self.heard.recv()).await.ok().flatten()
        }
    }

    async fn pair(version: OcppVersion) -> (Connection, Peer, Trace) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (say, mut to_send) = unbounded_channel::<String>();
        let (heard_tx, heard) = unbounded_channel::<String>();
        tokio::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            let ws = tokio_tungstenite::accept_async(s).await.unwrap();
            let (mut sink, mut stream) = ws.split();
            loop {
                tokio::select! {
                    Some(text) = to_send.recv() => { if sink.send(Message::text(text)).await.is_err() { break } }
                    m = stream.next() => match m {
                        Some(Ok(Message::Text(t))) => { let _ = heard_tx.send(t.to_string()); }
                        Some(Ok(_)) => {}
                        _ => break,
                    },
                }
            }
        });
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/")).await.unwrap();
        let trace = Trace::new();
        (Connection::spawn(ws, version, "CS001".into(), trace.clone()), Peer { say, heard }, trace)
    }

    fn id_of(frame: &str) -> String {
        serde_json::from_str::<Value>(frame).unwrap()[1].as_str().unwrap().to_string()
    }

    #[tokio::test]
    async fn a_broken_answer_is_not_answered_and_ends_our_call_at_once() {
        let (conn, mut peer, trace) = pair(OcppVersion::V201).await;
        let c = conn.clone();
        let call = tokio::spawn(async move { c.call("Heartbeat", json!({}), Duration::from_secs(10)).await });
        let ours = peer.next(2_000).await.unwrap();
        peer.say.send(format!(r#"[4,"{}","GenericError","","not an object"]"#, id_of(&ours))).unwrap();
        let started = std::time::Instant::now();
        let outcome = call.await.unwrap();
        assert!(matches!(&outcome, Err(SessionError::Protocol(m)) if m.contains("not a well-formed frame")), "{outcome:?}");
        assert!(started.elapsed() < Duration::from_secs(2), "the call waited for its time-out");
        assert_eq!(peer.next(300).await, None, "a broken answer was answered");
        let v = trace.violations();
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].requirement.as_deref(), Some("OCPP-J 4.1.7"));
    }

    #[tokio::test]
    async fn at_2_1_a_schema_invalid_callresult_gets_a_callresulterror() {
        let (conn, mut peer, _) = pair(OcppVersion::V21).await;
        let c = conn.clone();
        let call = tokio::spawn(async move { c.call("Heartbeat", json!({}), Duration::from_secs(10)).await });
        let id = id_of(&peer.next(2_000).await.unwrap());
        peer.say.send(format!(r#"[3,"{id}",{{}}]"#)).unwrap();
        assert!(matches!(call.await.unwrap(), Err(SessionError::Protocol(_))));
        let answer: Value = serde_json::from_str(&peer.next(2_000).await.expect("a CALLRESULTERROR")).unwrap();
        assert_eq!((answer[0].as_u64(), answer[1].as_str()), (Some(5), Some(id.as_str())), "{answer}");
        assert_eq!(answer[2], "OccurrenceConstraintViolation", "{answer}");
    }

    #[tokio::test]
    async fn our_message_ids_never_repeat_across_connections() {
        let mut ids = HashSet::new();
        for _ in 0..2 {
            let (conn, mut peer, _) = pair(OcppVersion::V16).await;
            for _ in 0..2 {
                let c = conn.clone();
                let call = tokio::spawn(async move { c.call("Heartbeat", json!({}), Duration::from_secs(10)).await });
                let id = id_of(&peer.next(2_000).await.unwrap());
                peer.say.send(format!(r#"[3,"{id}",{{"currentTime":"2026-01-01T00:00:00Z"}}]"#)).unwrap();
                call.await.unwrap().unwrap();
                assert!(ids.insert(id.clone()), "message id {id} used twice");
            }
        }
    }

    #[tokio::test]
    async fn the_dut_s_message_ids_are_checked() {
        let (conn, peer, trace) = pair(OcppVersion::V201).await;
        // Held (no case yet), so both stay unanswered: the second reuses the first's id.
        peer.say.send(r#"[2,"","Heartbeat",{}]"#.into()).unwrap();
        peer.say.send(r#"[2,"","Heartbeat",{}]"#.into()).unwrap();
        conn.shared.wait(Duration::from_secs(2), |st| (st.held.len() == 2).then_some(())).await.unwrap();
        let v = trace.violations();
        let empty = v.iter().filter(|v| v.observed.contains("empty message id")).count();
        let reused = v.iter().filter(|v| v.expected.contains("not used by another")).count();
        assert_eq!((empty, reused), (2, 1), "{v:?}");
        assert!(v.iter().all(|v| v.requirement.as_deref() == Some("OCPP-J 4.1.4")), "{v:?}");
    }

    #[tokio::test]
    async fn reply_error_takes_only_the_version_s_codes() {
        let (conn, peer, _) = pair(OcppVersion::V16).await;
        conn.adopt(&["Heartbeat".to_string()]);
        peer.say.send(r#"[2,"d1","Heartbeat",{}]"#.into()).unwrap();
        let call = conn.expect_call("Heartbeat", Duration::from_secs(2)).await.unwrap();
        assert!(matches!(conn.reply_error(&call.message_id, "RpcFrameworkError", ""), Err(SessionError::Usage(m)) if m.contains("OCPP 1.6")));
        conn.reply_error(&call.message_id, "NotSupported", "").unwrap();
    }

    #[tokio::test]
    async fn calls_beyond_the_held_cap_get_the_default_answer() {
        let (_conn, mut peer, trace) = pair(OcppVersion::V201).await;
        for i in 0..=MAX_HELD {
            peer.say.send(format!(r#"[2,"h{i}","Heartbeat",{{}}]"#)).unwrap();
        }
        let answer = peer.next(5_000).await.expect("the CALL beyond the cap answered");
        assert!(answer.starts_with(&format!(r#"[3,"h{MAX_HELD}""#)), "{answer}");
        assert!(trace.violations().iter().any(|v| v.expected.contains("CALLs waiting to be taken")));
    }

    /// A claimed CALL the case does not take is answered by default after the grace, so the
    /// station is not kept waiting; one the case took and holds on purpose is left to it.
    #[tokio::test]
    async fn a_claimed_call_left_untaken_is_answered_after_the_grace() {
        let (conn, mut peer, trace) = pair(OcppVersion::V201).await;
        conn.adopt(&["Heartbeat".to_string()]);
        peer.say.send(r#"[2,"h1","Heartbeat",{}]"#.into()).unwrap();
        assert_eq!(peer.next(CLAIM_GRACE.as_millis() as u64 - 1_000).await, None, "answered before the grace");
        let answer = peer.next(3_000).await.expect("no answer after the grace");
        assert!(answer.starts_with(r#"[3,"h1""#), "{answer}");
        // The case may still take it; its own answer is not sent a second time.
        let late = conn.expect_call("Heartbeat", Duration::from_secs(1)).await.unwrap();
        conn.reply(&late.message_id, json!({"currentTime": "2026-01-01T00:00:00Z"})).unwrap();
        assert_eq!(peer.next(500).await, None, "a second answer to h1");
        // Taken at once and held on purpose: not answered for the case.
        peer.say.send(r#"[2,"h2","Heartbeat",{}]"#.into()).unwrap();
        let _held = conn.expect_call("Heartbeat", Duration::from_secs(2)).await.unwrap();
        assert_eq!(peer.next(CLAIM_GRACE.as_millis() as u64 + 1_000).await, None, "a CALL the case holds was answered");
        assert!(trace.violations().is_empty(), "{:?}", trace.violations());
    }

    /// A raw peer on a TCP listener (the DUT side), and the harness's connection to it.
    async fn raw_peer() -> (Connection, tokio::task::JoinHandle<WebSocketStream<tokio::net::TcpStream>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = tokio::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            tokio_tungstenite::accept_async(s).await.unwrap()
        });
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/")).await.unwrap();
        (Connection::spawn(ws, OcppVersion::V201, "CS001".into(), Trace::new()), peer)
    }

    /// RFC 6455 §5.5.1: the DUT's Close is answered with a Close, so it sees a clean close
    /// (1000), not an abnormal one (1006), whether or not anyone still holds the connection.
    #[tokio::test]
    async fn a_close_from_the_dut_is_answered_with_a_close() {
        for drop_handle in [false, true] {
            let (conn, peer) = raw_peer().await;
            let mut ws = peer.await.unwrap();
            ws.send(Message::Close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame { code: 1000u16.into(), reason: "bye".into() }))).await.unwrap();
            conn.expect_close(Duration::from_secs(2)).await.unwrap();
            if drop_handle {
                drop(conn);
            }
            let answer = tokio::time::timeout(Duration::from_secs(2), ws.next()).await.expect("no answer to the Close");
            assert!(matches!(answer, Some(Ok(Message::Close(_)))), "expected a Close back, got {answer:?}");
        }
    }

    /// When the harness closes, the peer gets a Close and the socket stays until its answer;
    /// a peer that never answers loses the socket after `CLOSE_LINGER`.
    #[tokio::test]
    async fn the_harness_closes_with_a_handshake_and_does_not_wait_for_ever() {
        let (conn, peer) = raw_peer().await;
        let mut ws = peer.await.unwrap();
        conn.close();
        drop(conn);
        let first = tokio::time::timeout(Duration::from_secs(2), ws.next()).await.expect("no Close from the harness");
        assert!(matches!(first, Some(Ok(Message::Close(_)))), "{first:?}");
        // Our answer (tungstenite queues it) goes out on the next read, which ends cleanly.
        let end = tokio::time::timeout(Duration::from_secs(2), ws.next()).await.expect("the harness kept the socket after the handshake");
        assert!(end.is_none() || matches!(end, Some(Err(tokio_tungstenite::tungstenite::Error::ConnectionClosed))), "{end:?}");

        // A peer that reads the Close and then says nothing: the socket goes after the linger.
        let (conn, peer) = raw_peer().await;
        let ws = peer.await.unwrap();
        let mut raw = ws.into_inner();
        drop(conn);
        let started = std::time::Instant::now();
        let mut buf = vec![0u8; 64];
        use tokio::io::AsyncReadExt as _;
        let mut got = 0;
        let eof = tokio::time::timeout(CLOSE_LINGER * 3, async {
            loop {
                match raw.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got += n,
                }
            }
        })
        .await;
        assert!(eof.is_ok(), "the socket stayed open past the linger");
        assert!(got > 0, "no Close frame was sent before the socket closed");
        assert!(started.elapsed() >= CLOSE_LINGER / 2, "the harness did not wait for the peer's Close ({:?})", started.elapsed());
    }

    /// Our answer and our Close do not reach the peer in the same instant (a CSMS lost such an
    /// answer with the connection), and `gone` says when the peer saw the end.
    #[tokio::test]
    async fn the_close_leaves_a_moment_after_our_last_frame() {
        let (conn, peer) = raw_peer().await;
        let mut ws = peer.await.unwrap();
        ws.send(Message::text(r#"[2,"h1","Heartbeat",{}]"#)).await.unwrap();
        let call = conn.expect_call("Heartbeat", Duration::from_secs(2)).await.unwrap();
        conn.reply(&call.message_id, json!({"currentTime": "2026-01-01T00:00:00Z"})).unwrap();
        conn.close();
        let answer = tokio::time::timeout(Duration::from_secs(2), ws.next()).await.unwrap();
        assert!(matches!(answer, Some(Ok(Message::Text(_)))), "{answer:?}");
        let answered = Instant::now();
        let close = tokio::time::timeout(Duration::from_secs(2), ws.next()).await.unwrap();
        assert!(matches!(close, Some(Ok(Message::Close(_)))), "{close:?}");
        assert!(answered.elapsed() >= CLOSE_AFTER_LAST_FRAME * 8 / 10, "the Close came {:?} after the answer", answered.elapsed());
        let _ = ws.next().await;
        drop(ws);
        assert!(conn.gone(CLOSE_LINGER).await.is_some(), "the socket is not gone after the handshake");
    }

    #[tokio::test]
    async fn a_dut_that_stops_reading_loses_the_connection_with_the_reason() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Upgrades, then never reads again.
        let peer = tokio::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            let ws = tokio_tungstenite::accept_async(s).await.unwrap();
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(ws);
        });
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/")).await.unwrap();
        let trace = Trace::new();
        let conn = Connection::spawn(ws, OcppVersion::V201, "CS001".into(), trace.clone());
        let big = format!("[2,\"x\",\"DataTransfer\",{{\"vendorId\":\"{}\"}}]", "v".repeat(16 * 1024));
        let mut refused = None;
        for i in 0..MAX_UNSENT * 2 {
            if let Err(e) = conn.send_raw(&big) {
                refused = Some((i, e));
                break;
            }
            if i % 256 == 0 {
                tokio::task::yield_now().await;
            }
        }
        let (_, e) = refused.expect("sending went on although the DUT read nothing");
        assert!(matches!(&e, SessionError::Closed(m) if m.contains("stopped reading")), "{e:?}");
        assert!(trace.violations().iter().any(|v| v.observed.contains("stopped reading")));
        peer.abort();
    }

    #[tokio::test]
    async fn legal_but_risky_answers_are_compatibility_warnings_not_violations() {
        let (conn, mut peer, trace) = pair(OcppVersion::V16).await;
        let c = conn.clone();
        let call = tokio::spawn(async move { c.call("Heartbeat", json!({}), Duration::from_millis(400)).await });
        let id = id_of(&peer.next(2_000).await.unwrap());
        tokio::time::sleep(Duration::from_millis(250)).await;
        peer.say.send(format!(r#"[4,"{id}","FormationViolation","",{{}}]"#)).unwrap();
        assert!(matches!(call.await.unwrap(), Ok(CallOutcome::Error { .. })));
        let w = trace.snapshot().warnings;
        assert!(w.iter().any(|w| w.contains("more than half the 400 ms")), "{w:?}");
        assert!(w.iter().any(|w| w.contains("FormationViolation") && w.contains("FormatViolation")), "{w:?}");
        assert!(trace.violations().is_empty(), "{:?}", trace.violations());
    }

    #[tokio::test]
    async fn answers_to_raw_frames_are_checked_for_id_and_code() {
        let (conn, mut peer, trace) = pair(OcppVersion::V201).await;
        conn.send_raw(r#"[2,"r1","Heartbeat",{}]"#).unwrap();
        conn.send_raw(r#"[2,"r2","Heartbeat",{}]"#).unwrap();
        peer.next(2_000).await.unwrap();
        peer.say.send(r#"[4,"r2","NoSuchCode","",{}]"#.into()).unwrap();
        peer.say.send(r#"[3,"stray",{}]"#.into()).unwrap();
        peer.say.send(r#"[3,"late",{}]"#.into()).unwrap();
        let first = conn.expect_raw(Duration::from_secs(2)).await.unwrap();
        let second = conn.expect_raw(Duration::from_secs(2)).await.unwrap();
        assert!(first.contains("\"r2\"") && second.contains("\"stray\""), "{first} {second}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let v = trace.violations();
        assert!(v.iter().any(|v| v.observed.contains("NoSuchCode") && v.requirement.as_deref() == Some("OCPP-J 4.2.3")), "{v:?}");
        assert!(v.iter().any(|v| v.observed.contains("\"stray\"") && v.expected.contains("\"r1\"")), "the stray answer was not flagged: {v:?}");
        assert!(v.iter().any(|v| v.observed.contains("\"late\"") && v.expected.contains("no CALL outstanding")), "an answer to nothing was not flagged: {v:?}");
    }
}
