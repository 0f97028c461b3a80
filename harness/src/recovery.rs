//! When the baseline does not come back after a case: a ladder of ever stronger means, each
//! followed by a new look at the station, instead of leaving every later case inconclusive.
//! The undo of what the case changed comes first; then the whole station and every EVSE that
//! is off made operative; then the station rebooted, gently (OnIdle / Soft) and then at once
//! (Immediate / Hard); then the bench's power cycle (a relay, or a person prompted by the
//! operator driver); last, in an interactive run with an operator at the bench, that person.
//! The case's trace says which rung brought the baseline back; if none did, the run knows the
//! state is lost (`Lost`) and does not try again before every case.
use std::time::Duration;

use serde_json::json;

use crate::baseline::{self, Unrestored, Waits, expect_status};
use ocpp_bench::{Action, Bench};
use ocpp_core::{trace::Trace, transport::Listener, version::OcppVersion};

/// One means of bringing the station back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rung {
    /// Undo what the case changed, end transactions, release waiting authorizations.
    Undo,
    /// ChangeAvailability Operative for the station and for each EVSE and connector not
    /// Available (an EVSE-level Inoperative is not reverted at station level).
    Operative,
    /// Reset OnIdle (1.6: Soft), then wait for the station to be back.
    ResetOnIdle,
    /// Reset Immediate (1.6: Hard).
    ResetImmediate,
    /// The bench's power-cycle capability.
    PowerCycle,
    /// A person at the bench (an `operator` driver, an interactive run) is told what is off
    /// and brings the station back by hand.
    Operator,
}

pub const LADDER: [Rung; 6] = [Rung::Undo, Rung::Operative, Rung::ResetOnIdle, Rung::ResetImmediate, Rung::PowerCycle, Rung::Operator];

impl Rung {
    pub fn describe(self, version: OcppVersion) -> &'static str {
        let v16 = version == OcppVersion::V16;
        match self {
            Rung::Undo => "undo what the case changed",
            Rung::Operative => "ChangeAvailability Operative for the station and each EVSE that is off",
            Rung::ResetOnIdle if v16 => "Reset Soft",
            Rung::ResetOnIdle => "Reset OnIdle",
            Rung::ResetImmediate if v16 => "Reset Hard",
            Rung::ResetImmediate => "Reset Immediate",
            Rung::PowerCycle => "bench power cycle",
            Rung::Operator => "the operator at the bench",
        }
    }
}

/// The baseline could not be brought back by any rung.
#[derive(Debug, Clone)]
pub struct Lost {
    /// What is still off after the last rung.
    pub reason: String,
    /// The rungs tried, in order, with what each met.
    pub tried: Vec<String>,
    /// An undo the station accepted without reaching its state (see `Unrestored::broke`).
    pub broke: Option<(String, String, String)>,
}

/// What the ladder needs of the run.
pub struct Means<'a> {
    pub listener: &'a Listener,
    pub bench: &'a Bench,
    pub trace: &'a Trace,
    pub version: OcppVersion,
    pub waits: Waits,
    /// How long a reboot may take until the station is connected again.
    pub reboot: Duration,
}

/// Climb the ladder until the baseline is back: Ok with what was done (logged in the trace
/// already), or what is lost.
pub async fn recover(m: &Means<'_>) -> Result<Vec<String>, Lost> {
    let mut tried = vec![];
    let mut broke = None;
    // A station rebooting as the case ended gets the reboot time to come back, once.
    let mut reason = match m.listener.live() {
        Some(_) => String::new(),
        None => {
            m.trace.log("baseline", "the station is not connected: waiting for it to come back");
            match m.listener.accept_after(0, m.reboot).await {
                Ok(_) => String::new(),
                Err(e) => format!("the station did not come back: {e}"),
            }
        }
    };
    await_own_work(m).await;
    let mut waits = m.waits;
    for rung in LADDER {
        let what = rung.describe(m.version);
        // Without a connection only the bench can help.
        let usable = match rung {
            Rung::PowerCycle => m.bench.has("power-cycle"),
            Rung::Operator => m.bench.operator().is_some(),
            _ => m.listener.live().is_some(),
        };
        if !usable {
            continue;
        }
        if rung != Rung::Undo {
            m.trace.log("baseline", format!("recovery: {what}"));
            if let Err(e) = apply(rung, m, &reason).await {
                m.trace.log("baseline", format!("recovery: {what} did not work: {e}"));
                tried.push(format!("{what} ({e})"));
                reason = e;
                continue;
            }
        }
        let Some(conn) = m.listener.live() else {
            tried.push(format!("{what} (the station is not connected)"));
            continue;
        };
        let restored = baseline::restore(&conn, waits).await;
        // A reservation no case made is waited for once, not on every rung.
        waits.lapse = Duration::ZERO;
        match restored {
            Ok(done) => {
                for d in &done {
                    m.trace.log("baseline", d.clone());
                }
                if rung != Rung::Undo {
                    baseline::said_all(&conn, m.waits.response).await;
                    m.trace.log("baseline", format!("the baseline is back after: {what}"));
                }
                return Ok(done);
            }
            Err(Unrestored { reason: r, broke: b }) => {
                m.trace.log("baseline", format!("after {what}: {r}"));
                tried.push(format!("{what} ({r})"));
                broke = broke.or(b);
                reason = r;
            }
        }
    }
    Err(Lost { reason, tried, broke })
}

/// What the station does on its own (a firmware update, a log upload) is waited for, not
/// fought: up to the reboot time (an installation reboots), across its reconnections. Work
/// that goes on longer (an installation scheduled for later) is noted and not waited for
/// again; later cases run alongside it.
async fn await_own_work(m: &Means<'_>) {
    let model = m.listener.model();
    let work = {
        let mo = model.lock().unwrap();
        mo.own_work().filter(|w| mo.waited_out.as_ref() != Some(w))
    };
    let Some(work) = work else { return };
    m.trace.log("baseline", format!("the station is busy with {work}: waiting up to {} ms for it to end", m.reboot.as_millis()));
    let deadline = tokio::time::Instant::now() + m.reboot;
    while tokio::time::Instant::now() < deadline {
        let now = model.lock().unwrap().own_work();
        match now {
            None => {
                let last = { let mo = model.lock().unwrap(); mo.firmware.clone().into_iter().chain(mo.upload.clone()).collect::<Vec<_>>().join(", ") };
                m.trace.log("baseline", format!("{work} ended (last status: {last})"));
                return;
            }
            Some(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let still = model.lock().unwrap().own_work();
    m.trace.log("baseline", format!("{} is still going on: later cases run alongside it", still.as_deref().unwrap_or(&work)));
    model.lock().unwrap().waited_out = still;
}

/// Carry out one rung (not `Undo`, which `restore` is); `off` is what the last look found.
async fn apply(rung: Rung, m: &Means<'_>, off: &str) -> Result<(), String> {
    let v16 = m.version == OcppVersion::V16;
    let response = m.waits.response;
    let live = || m.listener.live().ok_or_else(|| "the station is not connected".to_string());
    match rung {
        Rung::Undo => Ok(()),
        Rung::Operative => {
            let conn = live()?;
            let operative = |evse, connector| (baseline::availability(m.version, evse, connector, true), &["Accepted", "Scheduled"][..]);
            let (station, ok) = operative(None, None);
            expect_status(&conn, "ChangeAvailability", station, ok, response).await?;
            let off: Vec<String> = conn.model().map(|mo| mo.lock().unwrap().busy_connectors()).unwrap_or_default();
            for entry in off.iter().filter(|b| b.ends_with(" Unavailable")) {
                let key = entry.split(' ').next().unwrap_or_default();
                let mut ids = key.split('/').filter_map(|x| x.parse::<u32>().ok());
                let (Some(first), second) = (ids.next(), ids.next()) else { continue };
                // 1.6 numbers connectors only; 2.x the EVSE, then the connector in it.
                let scopes = match (v16, second) {
                    (false, Some(c)) => vec![(Some(first), None), (Some(first), Some(c))],
                    _ => vec![(Some(first), None)],
                };
                for (evse, connector) in scopes {
                    let (p, ok) = operative(evse, connector);
                    expect_status(&conn, "ChangeAvailability", p, ok, response).await?;
                }
            }
            Ok(())
        }
        Rung::ResetOnIdle | Rung::ResetImmediate => {
            let conn = live()?;
            let kind = match (rung, v16) {
                (Rung::ResetOnIdle, true) => "Soft",
                (Rung::ResetOnIdle, false) => "OnIdle",
                (_, true) => "Hard",
                (_, false) => "Immediate",
            };
            let before = m.listener.live_numbered().map_or(0, |(n, _)| n);
            m.listener.model().lock().unwrap().reboots_requested += 1;
            expect_status(&conn, "Reset", json!({"type": kind}), &["Accepted", "Scheduled"], response).await?;
            back_after_reboot(m, before, "the Reset").await
        }
        Rung::PowerCycle => {
            let before = m.listener.live_numbered().map_or(0, |(n, _)| n);
            m.listener.model().lock().unwrap().reboots_requested += 1;
            m.trace.log("state", "cycle the station's power (baseline recovery)");
            m.bench.act(Action::PowerCycle, m.trace).await.map_err(|e| format!("the bench could not cycle the power: {e:?}"))?;
            back_after_reboot(m, before, "the power cycle").await
        }
        Rung::Operator => {
            let timeout = m.bench.operator().ok_or("no operator at the bench")?;
            let what = format!("the station is off the baseline ({off}); bring it back by hand — registered, no transaction, every connector Available — then confirm");
            m.trace.log("state", format!("asking the operator: {what}"));
            ocpp_bench::operator::ask(&what, timeout).await?;
            // A station the operator restarted is given its reboot time to connect again.
            if m.listener.live().is_none() {
                back_after_reboot(m, 0, "the operator's intervention").await?;
            }
            Ok(())
        }
    }
}

/// The station connected again (a connection numbered above `before`) and registered.
async fn back_after_reboot(m: &Means<'_>, before: u64, what: &str) -> Result<(), String> {
    let (_, new) = m.listener.accept_after(before, m.reboot).await.map_err(|e| format!("the station did not connect again after {what}: {e}"))?;
    if !new.wait_model(m.reboot, |s| s.registration.is_accepted()).await {
        return Err(format!("the station did not register again after {what}"));
    }
    Ok(())
}
