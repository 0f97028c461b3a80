//! Reusable states of OCTT part 6, implemented once in the host so that cases in every
//! language reach them the same way: the general pre-conditions (2.1: connected, registered,
//! idle) on the station's live connection, and Booting/Booted (2.18) by a bench power cycle or
//! an OCPP Reset. A state that cannot be reached is an error the SDKs turn into an
//! inconclusive verdict, never a failure.
use std::time::Duration;

use serde_json::json;

use crate::{
    bench::{Action, Bench},
    description::Timing,
    session::{CallOutcome, Connection, Mode, SessionError},
    trace::Trace,
    transport::Listener,
    version::OcppVersion,
};

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
        let all = |m: &crate::model::StationModel| m.reported_since_boot.len() >= evses as usize;
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
        match conn.call("Reset", payload, ms(timing.response_ms)).await? {
            CallOutcome::Result(r) if r["status"] == "Accepted" => {}
            other => return Err(SessionError::Protocol(format!("the station did not accept the Reset that reboots it: {other:?}"))),
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
