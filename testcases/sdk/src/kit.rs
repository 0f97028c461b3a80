//! Helpers that turn session results into readable failures (requirement, expected,
//! observed): every `Step` error is a verdict, so a case body is a chain of `?`.
use serde_json::Value;

pub use crate::bindings::ocpp::harness::{
    bench::{self, BenchError, CircuitFault, PilotState},
    clock, config,
    log::{self, Level},
    session::{self, CallOutcome, Connection, SessionError},
    types::{CaseMeta, Failure, OcppVersion, Role, Verdict},
};

/// A step either continues or ends the case with a verdict.
pub type Step<T = ()> = Result<T, Verdict>;

pub fn fail(requirement: &str, expected: impl Into<String>, observed: impl Into<String>) -> Verdict {
    Verdict::Fail(Failure {
        requirement: (!requirement.is_empty()).then(|| requirement.to_string()),
        expected: expected.into(),
        observed: observed.into(),
    })
}

pub fn info(msg: impl AsRef<str>) {
    log::log(Level::Info, msg.as_ref());
}

/// Check a condition; the failure says what was expected and what was seen.
pub fn check(ok: bool, requirement: &str, expected: impl Into<String>, observed: impl FnOnce() -> String) -> Step {
    if ok { Ok(()) } else { Err(fail(requirement, expected, observed())) }
}

/// A SHALL checked where the exchange can go on after it (a soft check): when `ok` is false
/// the deviation is reported and the case continues; the verdict is fail, and the report lists
/// every deviation of the case, not only the first. Use `check` where what follows depends on
/// it.
pub fn soft_check(ok: bool, requirement: &str, expected: impl Into<String>, observed: impl FnOnce() -> String) {
    if !ok {
        let requirement = (!requirement.is_empty()).then_some(requirement);
        log::deviation(requirement, &expected.into(), &observed());
    }
}

/// A SHOULD (or a choice OCPP leaves open): when `ok` is false the case goes on and the report
/// lists a compatibility warning citing `requirement`; the verdict is not changed.
pub fn should(ok: bool, requirement: &str, expected: impl Into<String>, observed: impl FnOnce() -> String) {
    if !ok {
        log::log(Level::Warn, &format!("[{requirement}] expected {}; observed {}", expected.into(), observed()));
    }
}

/// Preparation, not a check: `step.setup("what it prepares")?` turns a failure into an
/// inconclusive verdict citing no requirement. A case's claims are its checks; a station that
/// cannot be brought into the state a case starts from has not broken the case's SHALL, and
/// the mutation proof must not count such a failure as the case catching a broken DUT.
pub trait Setup<T> {
    fn setup(self, what: &str) -> Step<T>;
}

impl<T> Setup<T> for Step<T> {
    fn setup(self, what: &str) -> Step<T> {
        self.map_err(|v| match v {
            Verdict::Fail(f) => Verdict::Inconclusive(format!("preparation failed ({what}): expected {}, observed {}", f.expected, f.observed)),
            other => other,
        })
    }
}

/// A CALL made only to prepare the case (`call` as `Setup`): no answer, or a CALLERROR, is
/// inconclusive.
pub fn prepare(conn: &Connection, action: &str, payload: Value) -> Step<Value> {
    call(conn, "", action, payload, 10_000).setup(action)
}

fn session_failure(requirement: &str, expected: String, e: SessionError) -> Verdict {
    match e {
        SessionError::Usage(m) => panic!("bug in the case: {m}"),
        SessionError::Timeout(m) | SessionError::Closed(m) | SessionError::Protocol(m) | SessionError::Refused(m) => fail(requirement, expected, m),
    }
}

pub fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("the host only hands over JSON")
}

fn owned(actions: &[&str]) -> Vec<String> {
    actions.iter().map(|a| a.to_string()).collect()
}

/// Wait for the station DUT to connect; `claim` lists the actions the case answers itself.
pub fn accept_station(requirement: &str, timeout_ms: u32, claim: &[&str]) -> Step<Connection> {
    session::accept_station(timeout_ms, &owned(claim)).map_err(|e| session_failure(requirement, "the charging station to connect".into(), e))
}

/// A state the case needs was not reached: no conformance claim either way.
fn unreached(state: &str, e: SessionError) -> Verdict {
    match e {
        SessionError::Usage(m) => panic!("bug in the case: {m}"),
        SessionError::Timeout(m) | SessionError::Closed(m) | SessionError::Protocol(m) | SessionError::Refused(m) => {
            Verdict::Inconclusive(format!("could not reach {state}: {m}"))
        }
    }
}

/// Harness as CSMS, OCTT's general pre-conditions: the station's live connection, registered
/// and idle (no new boot). `claim` lists the actions the case answers itself.
pub fn ready_station(claim: &[&str]) -> Step<Connection> {
    session::ready_station(&owned(claim)).map_err(|e| unreached("the general pre-conditions (station connected, registered, idle)", e))
}

pub use crate::bindings::ocpp::harness::session::{RebootMethod, StationState};

/// Harness as CSMS, an OCTT reusable state on `evse` (EVConnectedPreSession, Authorized,
/// EnergyTransferStarted...), reached by the host; returns the connection with `claim` held
/// from then on, and the transaction the state involves.
pub fn reach_station(state: StationState, evse: u32, claim: &[&str]) -> Step<(Connection, Option<String>)> {
    session::reach_station(state, evse, &owned(claim))
        .map(|r| (r.connection, r.transaction_id))
        .map_err(|e| unreached(&format!("the reusable state {state:?} on EVSE {evse}"), e))
}

/// Harness as CSMS, OCTT's reusable state Booted: the station boots anew (bench power cycle,
/// else OCPP Reset) and the case gets the new connection with `claim` held from the start.
pub fn reboot_station(claim: &[&str]) -> Step<(Connection, RebootMethod)> {
    session::reboot_station(&owned(claim)).map(|r| (r.connection, r.method)).map_err(|e| unreached("a fresh boot of the station", e))
}

/// The boot reason a station gives after a reboot made this way (2.x BootReasonEnumType).
pub fn boot_reason(method: RebootMethod) -> &'static str {
    match method {
        RebootMethod::Reset => "RemoteReset",
        RebootMethod::PowerCycle | RebootMethod::AlreadyBooting => "PowerUp",
    }
}

/// Harness as station, OCTT's reusable state Booted: the harness station's live connection,
/// registered, as a long-lived charger has it (the host connects and boots only if need be).
pub fn ready_csms(requirement: &str) -> Step<Connection> {
    session::ready_csms(&[]).map_err(|e| session_failure(requirement, "the CSMS to have the harness station connected and registered".into(), e))
}

/// A number no earlier call in this run returned: for ids OCPP wants unique (eventId,
/// requestId), which a CSMS may hold against a repeat across cases.
pub fn unique_number() -> u32 {
    session::unique_number()
}

/// Connect anew to the CSMS DUT at the version this run of the case is at, as a station does
/// after a reboot: for cases whose subject is the connection or the boot.
pub fn connect_csms(requirement: &str) -> Step<Connection> {
    let version = config::version();
    session::connect_csms(version, &[]).map_err(|e| session_failure(requirement, "the CSMS to accept the WebSocket connection".into(), e))
}

/// Ask the CSMS DUT for a WebSocket offering exactly `subprotocols`; what it answered (status,
/// selected subprotocol, whether it closed within `wait_ms`), judged by the case.
/// Send the CSMS DUT a ClientHello offering at most TLS `version` ("1.0", "1.1"); what it did.
pub fn offer_old_tls(requirement: &str, version: &str, wait_ms: u32) -> Step<session::TlsAnswer> {
    session::offer_old_tls(version, wait_ms).map_err(|e| session_failure(requirement, "an answer to the ClientHello".into(), e))
}

pub fn offer_subprotocols(requirement: &str, subprotocols: &[&str], wait_ms: u32) -> Step<session::Upgrade> {
    session::offer_subprotocols(&owned(subprotocols), wait_ms).map_err(|e| session_failure(requirement, "an answer to the upgrade request".into(), e))
}

/// The reconnection back-off of OCPP-J §5.3 (2.x `OCPPCommCtrlr.RetryBackOff*`), from the DUT
/// description's parameters `retry-back-off-wait-minimum-s`, `retry-back-off-random-range-s`
/// and `retry-back-off-repeat-times` (defaults 1, 1 and 3, a quick but real charger).
pub struct BackOff {
    pub wait_minimum_ms: u32,
    pub random_range_ms: u32,
    pub repeat_times: u32,
}

impl BackOff {
    pub fn configured() -> BackOff {
        let p = |key: &str, default: u32| config::parameter(key).and_then(|v| v.trim().parse::<u32>().ok()).unwrap_or(default);
        BackOff {
            wait_minimum_ms: p("retry-back-off-wait-minimum-s", 1).saturating_mul(1000),
            random_range_ms: p("retry-back-off-random-range-s", 1).saturating_mul(1000),
            repeat_times: p("retry-back-off-repeat-times", 3),
        }
    }

    /// The wait before attempt `n` (0 = the first): the minimum doubled once per earlier
    /// failure, at most `repeat_times` times, plus a fresh random part.
    pub fn wait_ms(&self, n: u32, random: u32) -> u32 {
        let doubled = self.wait_minimum_ms.saturating_mul(1u32 << n.min(self.repeat_times).min(16));
        doubled.saturating_add(if self.random_range_ms == 0 { 0 } else { random % (self.random_range_ms + 1) })
    }
}

/// Harness as station: connect again after a reboot or a lost connection the way a charger
/// does (OCPP-J §5.3): back off, try, back off longer after each failure, until the lab's
/// reboot time (`[timing] reboot-ms`) is spent. A CSMS that cannot take a station back then
/// fails `requirement`.
pub fn reconnect(requirement: &str) -> Step<Connection> {
    let backoff = BackOff::configured();
    let deadline = clock::now_ms() + u64::from(config::lab_timing().reboot_ms);
    let mut attempt = 0;
    loop {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or_default();
        let wait = backoff.wait_ms(attempt, nanos);
        info(format!("reconnecting after a back-off of {wait} ms (attempt {})", attempt + 1));
        mandated("reconnect back-off (OCPP-J 5.3)", || clock::sleep_ms(wait));
        match session::connect_csms(config::version(), &[]) {
            Ok(c) => return Ok(c),
            Err(SessionError::Usage(m)) => panic!("bug in the case: {m}"),
            Err(e) if clock::now_ms() >= deadline => {
                return Err(session_failure(requirement, "the CSMS to take the station back after its reboot".into(), e));
            }
            Err(e) => info(format!("reconnect attempt {} failed: {e:?}", attempt + 1)),
        }
        attempt += 1;
    }
}

/// An incoming CALL with its payload parsed.
pub struct Incoming {
    pub id: String,
    pub payload: Value,
}

/// Wait for a CALL of `action` from the DUT.
pub fn expect(conn: &Connection, requirement: &str, action: &str, timeout_ms: u32) -> Step<Incoming> {
    conn.expect_call(action, timeout_ms)
        .map(|c| Incoming {
            id: c.message_id,
            payload: json(&c.payload),
        })
        .map_err(|e| session_failure(requirement, format!("a {action} request"), e))
}

/// A report a request asks for, sent in parts (GetReport and GetBaseReport to NotifyReport,
/// GetMonitoringReport to NotifyMonitoringReport, GetDisplayMessages to NotifyDisplayMessages):
/// the request, the Notify action, the field holding a part's items, and the requirement a
/// failure cites: the request answered, a part coming, a part naming the request, parts
/// numbered from 0 (None where parts carry no seqNo).
pub struct PagedReport<'a> {
    pub request: &'a str,
    pub notify: &'a str,
    /// The field holding a part's items, or "*" for every list in it.
    pub items: &'a str,
    pub answered: &'a str,
    pub part: &'a str,
    pub same_request: &'a str,
    pub numbered: Option<&'a str>,
}

/// Send `report`'s request with `payload` (its requestId set here). Answered Accepted, take
/// the parts until one has tbc false, answering each and checking its requestId and seqNo:
/// (the status, every part's items). Another status: the Notify released, no items.
pub fn paged_report(conn: &Connection, report: &PagedReport, mut payload: Value) -> Step<(String, Vec<Value>)> {
    conn.claim(&[report.notify.into()]);
    let request_id = i64::from(unique_number());
    payload["requestId"] = serde_json::json!(request_id);
    let r = call(conn, report.answered, report.request, payload, 10_000)?;
    let status = r["status"].as_str().unwrap_or_default().to_string();
    if status != "Accepted" {
        conn.release(&[report.notify.into()]);
        return Ok((status, vec![]));
    }
    let mut items = vec![];
    for seq in 0..100 {
        let n = expect_and_reply(conn, report.part, report.notify, 10_000, serde_json::json!({}))?;
        check(n["requestId"] == request_id, report.same_request, format!("requestId {request_id}, the request's"), || n["requestId"].to_string())?;
        if let Some(req) = report.numbered {
            check(n["seqNo"] == seq, req, format!("seqNo {seq}"), || format!("seqNo {}", n["seqNo"]))?;
        }
        // "*": a report whose items come in several lists, one per kind (ReportDERControl).
        if report.items == "*" {
            items.extend(n.as_object().into_iter().flatten().filter_map(|(_, v)| v.as_array()).flatten().cloned());
        } else {
            items.extend(n[report.items].as_array().cloned().unwrap_or_default());
        }
        if n["tbc"] != true {
            return Ok((status, items));
        }
    }
    Err(fail(report.numbered.unwrap_or(report.same_request), "the report to end (tbc false)", "100 parts with tbc true"))
}

/// Wait for a CALL of `action` and answer it.
pub fn expect_and_reply(conn: &Connection, requirement: &str, action: &str, timeout_ms: u32, reply: Value) -> Step<Value> {
    let call = expect(conn, requirement, action, timeout_ms)?;
    conn.reply(&call.id, &reply.to_string()).map_err(|e| session_failure(requirement, format!("to answer {action}"), e))?;
    Ok(call.payload)
}

/// Wait up to `window_ms` for a CALL of `action` that `wanted` accepts, answering each one on
/// the way with `reply`: a DUT may pass through other legal states first (an old reservation
/// ending before the new one shows). A failure lists what came on the way (`describe`).
pub fn expect_until(
    conn: &Connection,
    requirement: &str,
    action: &str,
    window_ms: u32,
    reply: Value,
    expected: &str,
    wanted: impl Fn(&Value) -> bool,
    describe: impl Fn(&Value) -> String,
) -> Step<Value> {
    let start = clock::now_ms();
    let mut seen = vec![];
    loop {
        let left = u64::from(window_ms).saturating_sub(clock::now_ms() - start) as u32;
        let call = match conn.expect_call(action, left.max(1)) {
            Ok(c) => c,
            Err(SessionError::Timeout(_)) if !seen.is_empty() => {
                return Err(fail(requirement, expected.to_string(), format!("within {window_ms} ms only: {}", seen.join(", "))));
            }
            Err(e) => return Err(session_failure(requirement, expected.to_string(), e)),
        };
        conn.reply(&call.message_id, &reply.to_string()).map_err(|e| session_failure(requirement, format!("to answer {action}"), e))?;
        let payload = json(&call.payload);
        if wanted(&payload) {
            return Ok(payload);
        }
        seen.push(describe(&payload));
    }
}

/// For `window_ms`, no CALL of `action` that `bad` matches: the others are answered with
/// `reply` and let pass (a transaction the cable started may report its meter meanwhile).
pub fn expect_none(conn: &Connection, requirement: &str, action: &str, window_ms: u32, reply: Value, expected: &str, bad: impl Fn(&Value) -> bool) -> Step {
    let start = clock::now_ms();
    loop {
        let left = u64::from(window_ms).saturating_sub(clock::now_ms() - start) as u32;
        let call = match conn.expect_call(action, left.max(1)) {
            Ok(c) => c,
            Err(SessionError::Timeout(_)) => return Ok(()),
            Err(e) => return Err(session_failure(requirement, expected.to_string(), e)),
        };
        conn.reply(&call.message_id, &reply.to_string()).map_err(|e| session_failure(requirement, format!("to answer {action}"), e))?;
        let payload = json(&call.payload);
        if bad(&payload) {
            return Err(fail(requirement, expected.to_string(), format!("{action} {payload}")));
        }
    }
}

/// Answer a CALL the case took with `expect`.
pub fn reply(conn: &Connection, requirement: &str, call: &Incoming, action: &str, payload: Value) -> Step {
    conn.reply(&call.id, &payload.to_string()).map_err(|e| session_failure(requirement, format!("to answer {action}"), e))
}

/// Assert that no CALL of `action` arrives within `ms`.
pub fn expect_silence(conn: &Connection, requirement: &str, action: &str, ms: u32, why: &str) -> Step {
    match conn.expect_call(action, ms) {
        Err(SessionError::Timeout(_)) => Ok(()),
        Ok(c) => Err(fail(requirement, format!("no {action} {why}"), format!("{action} {}", c.payload))),
        Err(e) => Err(session_failure(requirement, format!("no {action} {why}"), e)),
    }
}

/// Send a CALL and return its CALLRESULT payload; a CALLERROR fails the case.
pub fn call(conn: &Connection, requirement: &str, action: &str, payload: Value, timeout_ms: u32) -> Step<Value> {
    answer(conn.call(action, &payload.to_string(), timeout_ms), requirement, action)
}

/// The payload of a CALLRESULT; a CALLERROR or no answer fails `requirement`.
fn answer(outcome: Result<CallOutcome, SessionError>, requirement: &str, action: &str) -> Step<Value> {
    match outcome {
        Ok(CallOutcome::Result(r)) => Ok(json(&r)),
        Ok(CallOutcome::Error(e)) => Err(fail(requirement, format!("a {action} CALLRESULT"), format!("CALLERROR {} {:?}", e.code, e.description))),
        Err(e) => Err(session_failure(requirement, format!("an answer to {action}"), e)),
    }
}

/// `call` for an optional feature (`feature`, as part 6's prerequisite names it): a station
/// that answers NotImplemented does not have it, and the case skips saying so instead of
/// failing (OCPP-J lets a station not implement an optional message).
pub fn call_optional(conn: &Connection, requirement: &str, action: &str, payload: Value, feature: &str) -> Step<Value> {
    match conn.call(action, &payload.to_string(), 10_000) {
        Ok(CallOutcome::Error(e)) if e.code == "NotImplemented" => Err(Verdict::Skip(format!("the station does not implement {action} ({feature}): this case's prerequisite"))),
        other => answer(other, requirement, action),
    }
}

/// Send a raw frame and return the parsed answer.
pub fn raw_exchange(conn: &Connection, requirement: &str, text: &str, timeout_ms: u32) -> Step<Value> {
    conn.send_raw(text).map_err(|e| session_failure(requirement, "to send a frame".into(), e))?;
    let answer = conn.expect_raw(timeout_ms).map_err(|e| session_failure(requirement, "a CALLERROR answering the invalid frame".into(), e))?;
    serde_json::from_str(&answer.text).map_err(|_| fail(requirement, "a JSON CALLERROR frame", answer.text.clone()))
}

/// The string at a JSON pointer, for messages.
pub fn at<'a>(v: &'a Value, pointer: &str) -> &'a Value {
    v.pointer(pointer).unwrap_or(&Value::Null)
}

/// Run `f` while waiting for a timer the protocol mandates; the report books the time as
/// timer time rather than time spent waiting on the DUT.
pub fn mandated<T>(what: &str, f: impl FnOnce() -> T) -> T {
    clock::begin_mandated(what);
    let r = f();
    clock::end_mandated();
    r
}

pub fn now() -> String {
    clock::now_rfc3339()
}

/// The host's time `offset_s` seconds from now (negative: in the past), RFC 3339 UTC: for
/// fields such as retrieveDateTime that name a moment relative to the request.
pub fn time_from_now(offset_s: i64) -> String {
    let now = chrono::DateTime::parse_from_rfc3339(&now()).map(|t| t.with_timezone(&chrono::Utc)).unwrap_or_else(|_| chrono::Utc::now());
    (now + chrono::Duration::seconds(offset_s)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The OCPP versions a case runs at.
pub const V16: &[OcppVersion] = &[OcppVersion::V16];
pub const V201: &[OcppVersion] = &[OcppVersion::V201];
pub const V21: &[OcppVersion] = &[OcppVersion::V21];

/// A bench action the case depends on; when the bench cannot do it, the DUT was never put in
/// the state the case needs, so the verdict is inconclusive rather than a failure.
fn bench_step(what: &str, r: Result<(), BenchError>) -> Step {
    r.map_err(|e| match e {
        BenchError::Unavailable(m) => Verdict::Inconclusive(format!("could not {what}: {m} (is the capability listed in needs?)")),
        BenchError::Failed(m) => Verdict::Inconclusive(format!("could not {what}: {m}")),
    })
}

/// Plug the EV cable in at an EVSE (capability `plug`).
pub fn plug_in(evse: u32) -> Step {
    bench_step("plug the cable in", bench::plug(evse, true))
}

/// Pull the EV cable out (capability `plug`).
pub fn unplug(evse: u32) -> Step {
    bench_step("pull the cable out", bench::plug(evse, false))
}

/// Set the EV's control-pilot state (capability `pilot`).
pub fn pilot(evse: u32, state: PilotState) -> Step {
    bench_step("set the control pilot", bench::set_pilot(evse, state))
}

/// Hold a card to the reader of the EVSE under test (capability `token-reader`, `{evse}`).
pub fn present_token(token: &str) -> Step {
    bench_step("present the id token", bench::present_token_at(evse_id(), token))
}

/// Put a fault on an EVSE's charging circuit, or clear it (capability `ev-fault`).
pub fn ev_fault(evse: u32, fault: CircuitFault) -> Step {
    bench_step("change the circuit fault", bench::ev_fault(evse, fault))
}

/// Have the ISO 15118 EV at `evse` do `request` (capability `ev-15118`): "plug-and-charge",
/// "install-contract", "update-contract", "charging-needs", "renegotiate", "stop-charging".
pub fn ev_15118(evse: u32, request: &str, params: Value) -> Step {
    bench_step(&format!("have the ISO 15118 EV {request}"), bench::ev_15118(evse, request, &params.to_string()))
}

/// Cycle the station's power (capability `power-cycle`).
pub fn power_cycle() -> Step {
    bench_step("cycle the power", bench::power_cycle())
}

/// Take the DUT's network down or up (capability `network`).
pub fn network(up: bool) -> Step {
    bench_step("change the network link", bench::set_network(up))
}

/// Read the bench meter (capability `meter`): `energy-import` in Wh, `power` in W...
pub fn meter_read(quantity: &str) -> Step<f64> {
    bench::meter_read(quantity).map(|r| r.value).map_err(|e| match e {
        BenchError::Unavailable(m) | BenchError::Failed(m) => Verdict::Inconclusive(format!("could not read the bench meter ({quantity}): {m}")),
    })
}

/// Switch a named bench relay on or off (capability `relay`), e.g. a contactor feed.
pub fn relay(name: &str, on: bool) -> Step {
    bench_step(&format!("switch relay {name}"), bench::relay_set(name, on))
}

/// Read a named bench relay back (capability `relay`): whether it is on.
pub fn relay_state(name: &str) -> Step<bool> {
    bench::relay_get(name).map_err(|e| bench_failure(&format!("read relay {name}"), e))
}

/// Read a named digital input of the bench (capability `digital-input`), e.g. a contactor's
/// auxiliary contact: whether it is active.
pub fn digital_input(name: &str) -> Step<bool> {
    bench::digital_input(name).map_err(|e| bench_failure(&format!("read input {name}"), e))
}

/// Watch a digital input until it reads `on`, for at most `within_ms` (the lab's settle time:
/// a contactor reports its state a few tens of ms after it was told to move); how long it
/// took, or a failure citing `requirement` with the last state read.
pub fn input_reads(name: &str, on: bool, within_ms: u32, requirement: &str, expected: &str) -> Step<u64> {
    let start = clock::now_ms();
    loop {
        let state = digital_input(name)?;
        let waited = clock::now_ms() - start;
        if state == on {
            return Ok(waited);
        }
        if waited >= u64::from(within_ms) {
            let seen = if state { "on" } else { "off" };
            return Err(fail(requirement, expected, format!("input {name} still {seen} after {waited} ms")));
        }
        clock::sleep_ms(50);
    }
}

fn bench_failure(what: &str, e: BenchError) -> Verdict {
    match e {
        BenchError::Unavailable(m) | BenchError::Failed(m) => Verdict::Inconclusive(format!("could not {what}: {m}")),
    }
}

/// Have the CSMS DUT send a CALL to us on `conn` (capability `csms-trigger`). The action is
/// claimed first, so the CALL cannot be answered by default before the case expects it.
pub fn csms_trigger(conn: &Connection, action: &str, payload: Value) -> Step {
    conn.claim(&[action.to_string()]);
    bench_step(&format!("make the CSMS send {action}"), bench::csms_trigger(action, &payload.to_string()))
}

/// A transaction id (harness as station, 2.x) that no earlier case or run used: a CSMS keeps
/// transactions, and one that sees an id again may take it for the old transaction.
pub fn transaction_id(tag: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    format!("OH-{tag}-{ms}-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// The EVSE under test: part 6's "<Configured evseId>", from the DUT description's `evse-id`
/// (1 when it names none). Cases that plug in, start or change availability do it here.
pub fn evse_id() -> u32 {
    config::parameter("evse-id").and_then(|v| v.trim().parse().ok()).unwrap_or(1)
}

/// How many EVSEs the station has: the DUT description's `evses` (1 when it names none).
pub fn evses() -> u32 {
    config::parameter("evses").and_then(|v| v.trim().parse().ok()).unwrap_or(1).max(1)
}

/// The connector under test on `evse_id()`: part 6's "<Configured connectorId>", from the
/// DUT description's `connector-id` (1 when it names none).
pub fn connector_id() -> u32 {
    config::parameter("connector-id").and_then(|v| v.trim().parse().ok()).unwrap_or(1)
}

/// The type of the configured id tokens (DUT description `id-token-type`, default ISO14443).
pub fn token_type() -> String {
    config::parameter("id-token-type").unwrap_or_else(|| "ISO14443".into())
}

/// A 2.x `IdTokenType` for `token`, typed as the DUT description says.
pub fn id_token(token: &str) -> Value {
    serde_json::json!({"idToken": token, "type": token_type()})
}

/// Milliseconds since the Unix epoch of an RFC 3339 time stamp the DUT sent.
pub fn epoch_ms(time: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(time).ok().map(|t| t.timestamp_millis())
}

/// How far `time` (RFC 3339, as the DUT sent it) is from our clock, in seconds; None if it is
/// not a date-time.
pub fn seconds_off(time: &str) -> Option<i64> {
    let t = chrono::DateTime::parse_from_rfc3339(time).ok()?;
    Some((chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds().abs())
}

/// Check that a clock the DUT reports (`currentTime`) is within the lab's tolerance plus a
/// minute of ours: a station sets its clock from it (B01, G02).
pub fn check_clock(requirement: &str, what: &str, time: &Value) -> Step {
    let limit = 60 + i64::from(config::lab_timing().tolerance_ms / 1000);
    let off = time.as_str().and_then(seconds_off);
    check(off.is_some_and(|s| s <= limit), requirement, format!("{what} within {limit} s of the harness's clock"), || match off {
        Some(s) => format!("{time}, {s} s off"),
        None => format!("{time}, not a date-time"),
    })
}

/// The first id token the DUT accepts.
pub fn valid_token() -> String {
    config::valid_id_tokens().first().cloned().unwrap_or_else(|| "04E91C5A8B2F80".into())
}

/// A second accepted token (part 6's valid_idtoken2), for a driver other than the first.
pub fn second_valid_token() -> String {
    config::valid_id_tokens().get(1).cloned().unwrap_or_else(|| "3A7F2C1D".into())
}

/// Part 6's "<Configured eMAID>", the contract an ISO 15118 EV authorizes with: the DUT
/// description's `emaid`, which a CSMS DUT knows as valid; without one the case skips.
pub fn emaid() -> Step<String> {
    config::parameter("emaid").filter(|v| !v.is_empty()).ok_or_else(|| Verdict::Skip("the DUT description names no emaid in [parameters]".into()))
}

/// Part 6's "<Configured groupIdToken>": the DUT description's `group-id-token`.
pub fn group_id_token() -> String {
    config::parameter("group-id-token").unwrap_or_else(|| "OH-GROUP".into())
}

// ---- security profiles ----

/// A BasicAuthPassword of 24 characters no earlier run used; the host masks it in every report.
pub fn fresh_password() -> String {
    let ms = epoch_ms(&now()).unwrap_or_default().unsigned_abs();
    format!("Rotated-{:016}", (ms + clock::now_ms()) * 7919 % 10_000_000_000_000_000)
}

/// The test PKI's answer to `operation` (WIT `pki-operation`): a PKI that cannot do it makes
/// the case inconclusive; a DUT's input that does not parse fails `req`.
pub fn pki(req: &str, operation: &str, input: &str) -> Step<String> {
    match session::pki_operation(operation, input) {
        Ok(out) => Ok(out),
        Err(SessionError::Usage(why)) => Err(Verdict::Inconclusive(format!("the lab's PKI cannot do {operation}: {why}"))),
        Err(e) => Err(fail(req, format!("input the test PKI can use for {operation}"), format!("{e:?}"))),
    }
}

pub use crate::bindings::ocpp::harness::session::{Certificate, Credentials};

/// The case applies at these security profiles only; at others it is skipped with the reason.
pub fn security_profiles(profiles: &[u8]) -> Step<u8> {
    let p = config::security_profile();
    if profiles.contains(&p) {
        Ok(p)
    } else {
        let want: Vec<String> = profiles.iter().map(u8::to_string).collect();
        Err(Verdict::Skip(format!("runs at security profile {}; this run is at {p}", want.join(" or "))))
    }
}

/// Connect to the CSMS DUT presenting these Basic credentials and client certificate. A
/// request the run cannot honour (no CA key to make an expired certificate...) skips the case.
pub fn connect_presenting(credentials: Credentials, certificate: Certificate) -> Step<Result<Connection, SessionError>> {
    match session::connect_csms_presenting(config::version(), &[], credentials, certificate) {
        Err(SessionError::Usage(m)) => Err(Verdict::Skip(m)),
        r => Ok(r),
    }
}

/// The DUT must have turned the connection away (TLS alert, HTTP 401/403).
pub fn expect_refused(requirement: &str, expected: &str, r: Result<Connection, SessionError>) -> Step {
    match r {
        Err(SessionError::Refused(m)) => {
            info(format!("refused as expected: {m}"));
            Ok(())
        }
        Ok(conn) => {
            let s = conn.security();
            let how = format!("the connection was accepted (TLS {:?}, Basic user {:?})", s.tls_version, s.basic_auth_user);
            conn.close();
            Err(fail(requirement, expected, how))
        }
        Err(e) => Err(session_failure(requirement, expected.to_string(), e)),
    }
}

/// Serve this certificate to stations from now on (harness as CSMS).
/// Answer the station's next handshakes with a ServerHello for TLS `version` ("1.0", "1.1");
/// skips when the run is not on TLS.
pub fn serve_old_tls(version: &str) -> Step {
    session::serve_old_tls(version).map_err(|e| match e {
        SessionError::Usage(m) => Verdict::Skip(m),
        e => session_failure("", "to serve an old TLS version".into(), e),
    })
}

/// The base URL of the harness CSMS's second endpoint; skips when the run has none.
pub fn alternative_csms_url() -> Step<String> {
    session::alternative_csms_url().map_err(|e| match e {
        SessionError::Usage(m) => Verdict::Skip(m),
        e => session_failure("", "a second CSMS endpoint".into(), e),
    })
}

/// Have the main (or the alternative) endpoint close connections unanswered, or serve again.
pub fn silence_endpoint(alternative: bool, silent: bool) -> Step {
    session::silence_endpoint(alternative, silent).map_err(|e| session_failure("", "to silence an endpoint".into(), e))
}

pub fn serve_certificate(certificate: Certificate) -> Step {
    session::serve_certificate(certificate).map_err(|e| match e {
        SessionError::Usage(m) => Verdict::Skip(m),
        e => session_failure("", "to switch the server certificate".into(), e),
    })
}

/// Harness as CSMS: expect the station one security profile up from now on, for the rest of
/// the run (`false`: back to the run's); the profile in force. A run that cannot (profile 0
/// or 3, no PKI) skips the case.
pub fn raise_security_profile(raised: bool) -> Step<u8> {
    session::raise_security_profile(raised).map_err(|e| match e {
        SessionError::Usage(m) => Verdict::Skip(m),
        e => session_failure("", "to change the security profile expected".into(), e),
    })
}

/// The PKI's second CSMS root (PEM), for a station to install before the harness serves a
/// `second-root` certificate; a skip when the lab's PKI has none.
pub fn second_csms_root() -> Step<String> {
    session::second_csms_root().map_err(|e| match e {
        SessionError::Usage(m) => Verdict::Skip(m),
        e => session_failure("", "the second CSMS root".into(), e),
    })
}

/// Wait for a station connection that gets through; connection attempts the station itself
/// broke off (it refused our certificate) are logged and waited past until `timeout_ms`.
pub fn accept_station_past_refusals(requirement: &str, timeout_ms: u32, claim: &[&str]) -> Step<Connection> {
    let deadline = clock::now_ms() + u64::from(timeout_ms);
    loop {
        let left = deadline.saturating_sub(clock::now_ms()).max(1) as u32;
        match session::accept_station(left, &owned(claim)) {
            Err(SessionError::Refused(m)) if clock::now_ms() < deadline => info(format!("a connection attempt still refused: {m}")),
            r => return r.map_err(|e| session_failure(requirement, "the charging station to connect".into(), e)),
        }
    }
}
