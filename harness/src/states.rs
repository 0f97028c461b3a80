//! Reusable states of OCTT part 6, implemented once in the host so that cases in every
//! language reach them the same way: the general pre-conditions (2.1: connected, registered,
//! idle) on the station's live connection, and Booting/Booted (2.18) by a bench power cycle or
//! an OCPP Reset. A state that cannot be reached is an error the SDKs turn into an
//! inconclusive verdict, never a failure.
use std::time::Duration;

use serde_json::json;

use ocpp_bench::{Action, Bench};
use crate::description::Timing;
use ocpp_core::{session::{CallOutcome, Connection, Mode, SessionError}, trace::Trace, transport::Listener, version::OcppVersion};

fn ms(v: u32) -> Duration {
    Duration::from_millis(u64::from(v))
}

/// How a reboot the case asked for was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebootMethod {
    AlreadyBooting,
    PowerCycle,
    Reset,
}

/// The station's live connection, or the next one it opens within the lab's connect time.
async fn live_or_next(listener: &Listener, timing: &Timing, trace: &Trace) -> Result<(u64, Connection), SessionError> {
    if let Some(live) = listener.take_live() {
        return Ok(live);
    }
    trace.log("state", format!("no station connected: waiting up to {} ms for it", timing.connect_ms));
    listener.accept_after(0, ms(timing.connect_ms)).await
}

/// General pre-conditions: the live connection, registered. BootNotification is answered by
/// the host here (Accepted) even if the case claims it; the claim holds from then on.
pub async fn ready(listener: &Listener, claim: &[String], timing: &Timing, evses: u32, trace: &Trace) -> Result<Connection, SessionError> {
    let (_, conn) = live_or_next(listener, timing, trace).await?;
    let model = conn.model().ok_or_else(|| SessionError::Usage("the connection has no station model".into()))?;
    let booting = !model.lock().unwrap().registration.is_accepted();
    // The boot sequence (BootNotification, then the connector statuses) is the host's to
    // answer; the case's claims hold from the end of it.
    conn.adopt(&[]);
    if booting {
        trace.log("state", "waiting for the station to be registered (its BootNotification answered Accepted)");
        if !conn.wait_model(ms(timing.reboot_ms), |m| m.registration.is_accepted()).await {
            let why = conn.closed_reason().unwrap_or_else(|| format!("registration {:?} after {} ms", model.lock().unwrap().registration, timing.reboot_ms));
            return Err(SessionError::Timeout(format!("the station did not get registered: {why}")));
        }
        // It has just booted: the boot ends with the status of every connector (B01.FR.05).
        let all = |m: &ocpp_core::model::StationModel| m.reported_since_boot(evses as usize);
        if !conn.wait_model(ms(timing.response_ms), all).await {
            trace.log("state", format!("the station reported {} of its {evses} connector(s) after the boot", model.lock().unwrap().reported_since_boot.len()));
        }
    }
    let open: Vec<String> = model.lock().unwrap().transactions.keys().cloned().collect();
    if !open.is_empty() {
        return Err(SessionError::Protocol(format!("the station is not idle: transaction(s) {open:?} going on")));
    }
    conn.claim(claim);
    trace.log("state", "general pre-conditions: the station is connected, registered and idle");
    Ok(conn)
}

/// Booting/Booted: make the station boot again and hand over the new connection with `claim`
/// held from its first frame.
pub async fn reboot(listener: &Listener, bench: &Bench, claim: &[String], timing: &Timing, trace: &Trace) -> Result<(Connection, RebootMethod), SessionError> {
    let (n, conn) = live_or_next(listener, timing, trace).await?;
    // A station that has just connected and booted first thing is booting already.
    if conn.mode() == Mode::Holding {
        let first = conn.first_held(ms(timing.tolerance_ms.max(2_000))).await;
        if first.as_deref() == Some("BootNotification") {
            conn.adopt(claim);
            trace.log("state", "Booted: the station was booting already as it connected");
            return Ok((conn, RebootMethod::AlreadyBooting));
        }
        conn.adopt(&[]);
    }
    if let Some(m) = conn.model() {
        m.lock().unwrap().reboots_requested += 1;
    }
    let method = if bench.has("power-cycle") {
        trace.log("state", "Booted: rebooting the station by a bench power cycle");
        bench.act(Action::PowerCycle, trace).await.map_err(|e| SessionError::Timeout(format!("the bench could not cycle the power: {e:?}")))?;
        RebootMethod::PowerCycle
    } else {
        trace.log("state", "Booted: rebooting the station by an OCPP Reset (the bench has no power-cycle)");
        let payload = if conn.version() == OcppVersion::V16 { json!({"type": "Hard"}) } else { json!({"type": "Immediate"}) };
        match crate::baseline::call(&conn, "Reset", payload, ms(timing.response_ms)).await? {
            CallOutcome::Result(r) if r["status"] == "Accepted" => {}
            other => {
                return Err(SessionError::Protocol(format!("the station did not accept the Reset that reboots it: {other:?}")));
            }
        }
        RebootMethod::Reset
    };
    let (_, new) = listener.accept_after(n, ms(timing.reboot_ms)).await.map_err(|e| match e {
        SessionError::Timeout(_) => SessionError::Timeout(format!("the station did not connect again within {} ms of the reboot", timing.reboot_ms)),
        e => e,
    })?;
    new.adopt(claim);
    Ok((new, method))
}

/// The reusable states of OCTT part 6 (2.18) on one EVSE that `reach` brings a station into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StationState {
    EvConnectedPreSession,
    Authorized,
    EnergyTransferStarted,
    EnergyTransferSuspended,
    StopAuthorized,
    EvConnectedPostSession,
    EvDisconnected,
    Unavailable,
}

impl StationState {
    /// Whether the state goes through a charging session (EnergyTransferStarted first).
    fn charges(self) -> bool {
        !matches!(self, StationState::EvConnectedPreSession | StationState::Authorized | StationState::Unavailable)
    }
}

/// What `reach` needs from the run besides the station.
pub struct Setup<'a> {
    pub bench: &'a Bench,
    pub timing: &'a Timing,
    pub evses: u32,
    /// The id token to authorize with.
    pub token: String,
    /// `remote`: authorize by a remote start; otherwise at the reader (when the bench has one).
    pub authorization: Option<String>,
}

/// Reach `state` on `evse` from the general pre-conditions, answering everything by default on
/// the way; returns the connection (with `claim` held from then on) and the transaction, if any.
pub async fn reach(listener: &Listener, state: StationState, evse: u32, claim: &[String], setup: &Setup<'_>, trace: &Trace) -> Result<(Connection, Option<String>), SessionError> {
    let conn = ready(listener, &[], setup.timing, setup.evses, trace).await?;
    let model = conn.model().ok_or_else(|| SessionError::Usage("the connection has no station model".into()))?;
    let v16 = conn.version() == OcppVersion::V16;
    let wait = ms(setup.timing.response_ms);
    let unreached = |what: &str| {
        let m = model.lock().unwrap();
        SessionError::Timeout(format!("{what} within {} ms (EVSE {evse} reported {:?}, transactions {:?})", setup.timing.response_ms, m.connector_status(conn.version(), evse), m.transactions))
    };
    let act = |action: Action| async move {
        setup.bench.act(action, trace).await.map_err(|e| SessionError::Timeout(format!("the bench could not do it: {e:?}")))
    };
    trace.log("state", format!("reaching {state:?} on EVSE {evse}"));
    // The transaction of the charging session the state goes through, once it started.
    let mut started: Option<String> = None;
    if state == StationState::Unavailable {
        let payload = crate::baseline::availability(conn.version(), Some(evse), None, false);
        match crate::baseline::call(&conn, "ChangeAvailability", payload, wait).await? {
            CallOutcome::Result(r) if r["status"] == "Accepted" => {}
            other => {
                return Err(SessionError::Protocol(format!("ChangeAvailability Inoperative was not accepted: {other:?}")));
            }
        }
        if !conn.wait_model(wait, |m| m.connector_status(conn.version(), evse) == Some("Unavailable")).await {
            return Err(unreached("no status Unavailable"));
        }
    } else {
        // The cable first (EVConnectedPreSession is also the first step of a session).
        if state != StationState::Authorized {
            act(Action::Plug { evse, connected: true }).await?;
            let connected = |m: &ocpp_core::model::StationModel| matches!(m.connector_status(conn.version(), evse), Some("Occupied" | "Preparing" | "SuspendedEV" | "SuspendedEVSE" | "Charging"));
            if !conn.wait_model(wait, connected).await {
                return Err(unreached("the connector did not report the cable (Occupied / Preparing)"));
            }
        }
        if state != StationState::EvConnectedPreSession {
            authorize(&conn, evse, setup, trace).await?;
        }
        if state.charges() {
            act(Action::Pilot { evse, state: ocpp_bench::Pilot::C }).await?;
            let token = setup.token.clone();
            let charging = |m: &ocpp_core::model::StationModel| {
                charging_state(m, v16, evse) == Some("Charging") && m.transaction_on(evse).is_some_and(|tx| m.tx_tokens.get(tx) == Some(&token))
            };
            if !conn.wait_model(wait, charging).await {
                return Err(unreached("no transaction charging for the authorized token"));
            }
        }
        if state == StationState::EnergyTransferSuspended {
            act(Action::Pilot { evse, state: ocpp_bench::Pilot::B }).await?;
            if !conn.wait_model(wait, |m| charging_state(m, v16, evse) == Some("SuspendedEV")).await {
                return Err(unreached("the transaction did not report SuspendedEV"));
            }
        }
        started = model.lock().unwrap().transaction_on(evse).map(str::to_string);
        if matches!(state, StationState::StopAuthorized | StationState::EvConnectedPostSession | StationState::EvDisconnected) {
            stop_authorized(&conn, evse, started.as_deref().unwrap_or_default(), setup, trace).await?;
            // The session is over: the transaction ended, or (2.x, TxStopPoint later than
            // Authorized) it stays with the EV connected and no energy.
            let over = |m: &ocpp_core::model::StationModel| m.transaction_on(evse).is_none() || (!v16 && charging_state(m, v16, evse) == Some("EVConnected"));
            if !conn.wait_model(wait, over).await {
                return Err(unreached("the session did not stop after the stop was authorized"));
            }
        }
        if state == StationState::EvDisconnected {
            act(Action::Plug { evse, connected: false }).await?;
            let gone = |m: &ocpp_core::model::StationModel| m.transaction_on(evse).is_none() && m.connector_status(conn.version(), evse) == Some("Available");
            if !conn.wait_model(wait, gone).await {
                return Err(unreached("the connector did not report Available with no transaction after the cable went"));
            }
        }
    }
    crate::baseline::said_all(&conn, wait).await;
    let tx = model.lock().unwrap().transaction_on(evse).map(str::to_string).or(started);
    conn.claim(claim);
    trace.log("state", format!("{state:?} reached on EVSE {evse}{}", tx.as_ref().map(|t| format!(", transaction {t}")).unwrap_or_default()));
    Ok((conn, tx))
}

/// Authorize the setup's token at the reader or by a remote start, and wait until the station
/// shows it (Authorize answered, or a transaction message carrying the token).
async fn authorize(conn: &Connection, evse: u32, setup: &Setup<'_>, trace: &Trace) -> Result<(), SessionError> {
    let model = conn.model().expect("checked by the caller");
    let before = model.lock().unwrap().authorizations;
    let remote = setup.authorization.as_deref() == Some("remote") || !setup.bench.has("token-reader");
    let wait = ms(setup.timing.response_ms);
    if remote {
        let (action, payload) = if conn.version() == OcppVersion::V16 {
            ("RemoteStartTransaction", json!({"connectorId": evse, "idTag": setup.token}))
        } else {
            ("RequestStartTransaction", json!({"idToken": {"idToken": setup.token, "type": "ISO14443"}, "remoteStartId": 7001 + evse, "evseId": evse}))
        };
        match crate::baseline::call(conn, action, payload, wait).await? {
            CallOutcome::Result(r) if r["status"] == "Accepted" => {}
            other => {
                return Err(SessionError::Protocol(format!("{action} was not accepted: {other:?}")));
            }
        }
        // A 1.6 charge point need not say anything before the cable is in; most report the
        // connector Preparing. Waiting a moment for that keeps it from arriving later, where
        // it would be taken for something else (the baseline after the case, say).
        if conn.version() == OcppVersion::V16 {
            conn.wait_model(wait.min(ms(2_000)), |m| m.connector_status(OcppVersion::V16, evse) == Some("Preparing")).await;
            return Ok(());
        }
    } else {
        setup
            .bench
            .act(Action::Token { evse, token: setup.token.clone() }, trace)
            .await
            .map_err(|e| SessionError::Timeout(format!("the bench could not present the token: {e:?}")))?;
    }
    let token = setup.token.clone();
    if conn.wait_model(wait, |m| m.authorized_since(before, &token)).await {
        Ok(())
    } else {
        Err(SessionError::Timeout(format!("the station did not get {token} authorized within {} ms", setup.timing.response_ms)))
    }
}

/// StopAuthorized: the same token at the reader, or a remote stop, as the setup says.
async fn stop_authorized(conn: &Connection, evse: u32, tx: &str, setup: &Setup<'_>, trace: &Trace) -> Result<(), SessionError> {
    let remote = setup.authorization.as_deref() == Some("remote") || !setup.bench.has("token-reader");
    if !remote {
        return setup
            .bench
            .act(Action::Token { evse, token: setup.token.clone() }, trace)
            .await
            .map_err(|e| SessionError::Timeout(format!("the bench could not present the token: {e:?}")));
    }
    let (action, payload) = if conn.version() == OcppVersion::V16 {
        ("RemoteStopTransaction", json!({"transactionId": tx.parse::<i64>().unwrap_or_default()}))
    } else {
        ("RequestStopTransaction", json!({"transactionId": tx}))
    };
    trace.log("state", format!("stopping transaction {tx} on EVSE {evse} remotely"));
    match crate::baseline::call(conn, action, payload, ms(setup.timing.response_ms)).await? {
        CallOutcome::Result(r) if r["status"] == "Accepted" => Ok(()),
        other => Err(SessionError::Protocol(format!("{action} was not accepted: {other:?}"))),
    }
}

/// Whether the EVSE's transaction is charging, as each dialect says it.
fn charging_state(m: &ocpp_core::model::StationModel, v16: bool, evse: u32) -> Option<&str> {
    if v16 {
        return m.connector_status(OcppVersion::V16, evse);
    }
    m.transaction_on(evse).and_then(|tx| m.charging.get(tx)).map(String::as_str)
}
