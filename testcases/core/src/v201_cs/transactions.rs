//! Blocks E and F, transactions, for a charging-station DUT (part 6 §2.5 and §2.6): the status
//! of a transaction and of the message queue (E14), sending transaction messages again when
//! the CSMS does not take them (E13), the deauthorization time-out (E06) and remote stop (F03).
use serde_json::{Value, json};

use super::{SESSION, TX, TxStart, configure, expect_ended, next_tx_event, stop_authorized, tx_id};
use crate::{
    Case,
    kit::{self, Connection, Role, StationState, Step, V201, clock, config},
};

fn case(
    id: &'static str,
    title: &'static str,
    requirements: &'static [&'static str],
    needs: &'static [&'static str],
    timeout_ms: u32,
    run: fn() -> Step,
) -> Case {
    Case::new(id, title, Role::Csms, V201, requirements, run).needs(needs).timeout_ms(timeout_ms)
}

pub(crate) fn cases() -> Vec<Case> {
    const OFFLINE: &[&str] = &["plug", "token-reader", "network"];
    vec![
        case(
            "TC_E_29_CS",
            "GetTransactionStatus right after a reconnect: the transaction ongoing, its queued messages reported, then sent marked offline",
            &["E14.FR.02", "E14.FR.04"],
            OFFLINE,
            40_000,
            tc_e_29,
        ),
        case(
            "TC_E_32_CS",
            "GetTransactionStatus of a transaction that ended: not ongoing, nothing queued",
            &["E14.FR.03", "E14.FR.05"],
            SESSION,
            30_000,
            tc_e_32,
        ),
        case(
            "TC_E_33_CS",
            "GetTransactionStatus without a transaction id right after a reconnect: messages queued, no ongoingIndicator",
            &["E14.FR.06", "E14.FR.07"],
            OFFLINE,
            40_000,
            tc_e_33,
        ),
        case(
            "TC_E_34_CS",
            "GetTransactionStatus without a transaction id and nothing queued: messagesInQueue false, no ongoingIndicator",
            &["E14.FR.06", "E14.FR.08"],
            &[],
            20_000,
            tc_e_34,
        ),
        case(
            "TC_E_39_CS",
            "Authorized without a cable: the transaction ends at EVConnectionTimeOut with Timeout, and a later cable starts no charging",
            &["E06.FR.04", "E06.FR.15"],
            SESSION,
            30_000,
            tc_e_39,
        ),
        case(
            "TC_E_41_CS",
            "A TransactionEvent the CSMS never answers is sent MessageAttempts times, MessageAttemptInterval times the attempts apart, then no more",
            &["E13.FR.01", "E13.FR.02", "E13.FR.03", "E13.FR.04"],
            &["token-reader"],
            300_000,
            tc_e_41,
        ),
        case(
            "TC_E_42_CS",
            "A TransactionEvent answered on its second attempt is not sent a third time",
            &["E13.FR.01", "E13.FR.02", "E13.FR.03"],
            &["token-reader"],
            300_000,
            tc_e_42,
        ),
        case(
            "TC_E_50_CS",
            "A TransactionEvent answered with CALLERROR every time is sent MessageAttempts times, then no more",
            &["E13.FR.01", "E13.FR.02", "E13.FR.03", "E13.FR.04"],
            &["token-reader"],
            300_000,
            tc_e_50,
        ),
        case(
            "TC_E_51_CS",
            "A TransactionEvent answered with CALLERROR, then accepted on its second attempt, is not sent a third time",
            &["E13.FR.01", "E13.FR.02", "E13.FR.03"],
            &["token-reader"],
            300_000,
            tc_e_51,
        ),
        case(
            "TC_F_08_CS",
            "RequestStopTransaction of the ongoing transaction is Accepted and ends it with stoppedReason Remote",
            &["F03.FR.02", "F03.FR.03", "F03.FR.07", "F03.FR.09"],
            SESSION,
            30_000,
            tc_f_08,
        ),
    ]
}

fn transaction_status(conn: &Connection, req: &str, tx: Option<&str>) -> Step<Value> {
    let payload = match tx {
        Some(id) => json!({"transactionId": id}),
        None => json!({}),
    };
    kit::call(conn, req, "GetTransactionStatus", payload, 10_000)
}

/// EnergyTransferStarted with meter values every second, then offline for 3 s (part 6: the
/// back-off minimum longer than the sampling interval), so that messages queue up; the new
/// connection with TransactionEvents held for the case.
fn queued_while_offline(req: &str) -> Step<(Connection, String)> {
    let (conn, tx) = kit::reach_station(StationState::EnergyTransferStarted, kit::evse_id(), &[TX])?;
    configure(&conn, req, "SampledDataCtrlr", "TxUpdatedInterval", "1")?;
    kit::network(false)?;
    let _ = conn.expect_close(10_000);
    kit::mandated("offline long enough for meter values to queue", || clock::sleep_ms(3_000));
    kit::network(true)?;
    let again = kit::accept_station(req, 15_000, &[TX])?;
    Ok((again, tx.unwrap_or_default()))
}

/// Take the queued TransactionEvents: at least one Updated with meter values, marked offline.
fn queued_events(conn: &Connection, req: &str) -> Step {
    let ev = next_tx_event(conn, req, 10_000)?;
    let ok = ev["eventType"] == "Updated" && ev["offline"] == true && ev["meterValue"].as_array().is_some_and(|m| !m.is_empty());
    kit::check(ok, req, "a queued TransactionEvent Updated with meter values and offline true", || ev.to_string())?;
    // The rest of the queue is answered as it comes (part 6 TC_E_29/33_CS steps 5-6): up to
    // the first event sent live again (offline absent) or a second of quiet.
    while let Ok(call) = conn.expect_call(TX, 1_000) {
        let _ = conn.reply(&call.message_id, "{}");
        if kit::json(&call.payload)["offline"] != true {
            break;
        }
    }
    Ok(())
}

fn tc_e_29() -> Step {
    let (conn, tx) = queued_while_offline("E14.FR.04")?;
    let r = transaction_status(&conn, "E14.FR.02", Some(&tx))?;
    kit::check(r["ongoingIndicator"] == true, "E14.FR.02", format!("ongoingIndicator true for {tx}"), || r.to_string())?;
    kit::check(r["messagesInQueue"] == true, "E14.FR.04", "messagesInQueue true: meter values were queued while offline", || r.to_string())?;
    queued_events(&conn, "E12.FR.06")
}

fn tc_e_33() -> Step {
    let (conn, _) = queued_while_offline("E14.FR.07")?;
    let r = transaction_status(&conn, "E14.FR.06", None)?;
    kit::check(r.get("ongoingIndicator").is_none(), "E14.FR.06", "no ongoingIndicator when no transaction id was given", || r.to_string())?;
    kit::check(r["messagesInQueue"] == true, "E14.FR.07", "messagesInQueue true: meter values were queued while offline", || r.to_string())?;
    queued_events(&conn, "E12.FR.06")
}

fn tc_e_32() -> Step {
    // EnergyTransferStarted, then ParkingBayUnoccupied: stopped and unplugged.
    let (conn, tx) = kit::reach_station(StationState::EnergyTransferStarted, kit::evse_id(), &[TX])?;
    let tx = tx.unwrap_or_default();
    super::session_ended(&conn, "E14", 0)?;
    let r = transaction_status(&conn, "E14.FR.03", Some(&tx))?;
    kit::check(r["ongoingIndicator"] == false, "E14.FR.03", format!("ongoingIndicator false for the ended {tx}"), || r.to_string())?;
    kit::check(r["messagesInQueue"] == false, "E14.FR.05", "messagesInQueue false: every message was answered", || r.to_string())
}

fn tc_e_34() -> Step {
    let conn = super::booted(300)?;
    let r = transaction_status(&conn, "E14.FR.06", None)?;
    kit::check(r.get("ongoingIndicator").is_none(), "E14.FR.06", "no ongoingIndicator when no transaction id was given", || r.to_string())?;
    kit::check(r["messagesInQueue"] == false, "E14.FR.08", "messagesInQueue false", || r.to_string())
}

fn tc_e_39() -> Step {
    let conn = super::booted(300)?;
    configure(&conn, "E06", "TxCtrlr", "EVConnectionTimeOut", "2")?;
    // Part 6's configuration state: TxStopPoint contains Authorized, where it can be set.
    let stop_points = config::parameter("TxCtrlr.TxStopPoint").unwrap_or_else(|| "EVConnected,Authorized".into());
    if !super::lists(&stop_points, "Authorized") {
        super::prerequisite(&conn, "E06", "TxCtrlr", "TxStopPoint", &format!("{stop_points},Authorized"))?;
    }
    conn.claim(&[TX.into()]);
    kit::present_token(&kit::valid_token())?;
    // A station that starts on Authorized ends that transaction at the time-out; one that
    // starts later has only an authorization to let lapse.
    let start = TxStart::configured();
    if let Some(first) = start.after_step(&conn, "E06.FR.04", (false, false), (false, true), "Authorized")? {
        let ev = kit::mandated("EVConnectionTimeOut", || expect_ended(&conn, "E06.FR.04", "EVConnectTimeout", "Timeout"))?;
        kit::check(tx_id(&ev) == tx_id(&first), "E06.FR.04", format!("transaction {} ended", tx_id(&first)), || tx_id(&ev))?;
    } else {
        // Only an authorization, which lapses at the time-out.
        let lapse = 2_000 + kit::config::lab_timing().tolerance_ms;
        kit::mandated("EVConnectionTimeOut", || clock::sleep_ms(lapse));
    }
    // Deauthorized: the cable now starts no charging (a CablePluggedIn event is allowed).
    kit::plug_in(kit::evse_id())?;
    kit::pilot(kit::evse_id(), kit::PilotState::C)?;
    let deadline = clock::now_ms() + 2_000;
    while clock::now_ms() < deadline {
        let Ok(call) = kit::expect(&conn, "E06.FR.15", TX, 500) else { continue };
        kit::reply(&conn, "E06.FR.15", &call, TX, json!({}))?;
        let ev = &call.payload;
        let state = kit::at(ev, "/transactionInfo/chargingState");
        kit::check(state != "Charging", "E06.FR.15", "no charging after the authorization timed out", || ev.to_string())?;
        kit::check(
            ev["triggerReason"] == "CablePluggedIn" || ev["triggerReason"] == "ChargingStateChanged",
            "E06.FR.15",
            "only the cable reported (triggerReason CablePluggedIn)",
            || ev.to_string(),
        )?;
    }
    Ok(())
}

/// Attempts and interval the E13 cases configure (part 6: attempts > 2).
const ATTEMPTS: u32 = 3;
const INTERVAL_S: u32 = 2;

/// Configuration state of the E13 cases, then the token authorizes a transaction whose first
/// TransactionEvent the case takes; returns it.
/// Returns the station's message time-out in ms.
fn first_transaction_event(conn: &Connection) -> Step<(kit::Incoming, u64)> {
    let set = |variable: &str, instance: &str, value: u32| -> Step<Value> {
        let d = json!({"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": variable, "instance": instance}, "attributeValue": value.to_string()});
        let r = kit::call(conn, "E13", "SetVariables", json!({"setVariableData": [d]}), 10_000)?;
        Ok(kit::at(&r, "/setVariableResult/0/attributeStatus").clone())
    };
    for (variable, value) in [("MessageAttempts", ATTEMPTS), ("MessageAttemptInterval", INTERVAL_S)] {
        let status = set(variable, "TransactionEvent", value)?;
        if status != "Accepted" {
            return Err(kit::Verdict::Inconclusive(format!("OCPPCommCtrlr.{variable}[TransactionEvent] = {value} not accepted: {status}")));
        }
    }
    // The time-out is the station's (ReadOnly in the specification): a short one where it may
    // be set, else the one it has.
    let timeout_s = if set("MessageTimeout", "Default", 1)? == "Accepted" {
        1
    } else {
        let d = json!({"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "MessageTimeout", "instance": "Default"}});
        let r = kit::call(conn, "E13", "GetVariables", json!({"getVariableData": [d]}), 10_000)?;
        kit::at(&r, "/getVariableResult/0/attributeValue").as_str().and_then(|v| v.parse().ok()).unwrap_or(30)
    };
    conn.claim(&[TX.into()]);
    // Part 6: Authorized, then EVConnectedPreSession — the transaction starts at whichever
    // step the station's TxStartPoint names.
    kit::present_token(&kit::valid_token())?;
    if !TxStart::configured().started(false, true) {
        kit::plug_in(kit::evse_id())?;
    }
    Ok((kit::expect(conn, "E13.FR.01", TX, 10_000)?, timeout_s * 1_000))
}

/// The same TransactionEvent again (same seqNo), at least `after_ms` after `since`.
fn sent_again(conn: &Connection, first: &Value, since: u64, after_ms: u64) -> Step<(kit::Incoming, u64)> {
    let again = kit::mandated("MessageAttemptInterval", || kit::expect(conn, "E13.FR.02", TX, 10_000))?;
    let at = clock::now_ms();
    kit::check(
        again.payload["seqNo"] == first["seqNo"] && again.payload["eventType"] == first["eventType"],
        "E13.FR.01",
        format!("TransactionEvent seqNo {} sent again", first["seqNo"]),
        || again.payload.to_string(),
    )?;
    let slack = u64::from(kit::config::lab_timing().tolerance_ms);
    kit::check(at + slack >= since + after_ms, "E13.FR.02", format!("the attempt at least {after_ms} ms after the previous one"), || {
        format!("after {} ms", at - since)
    })?;
    Ok((again, at))
}

/// Leave a transmission unanswered: no answer (time-out) or a CALLERROR.
fn refuse(conn: &Connection, call: &kit::Incoming, with_error: bool) -> Step {
    if with_error {
        conn.reply_error(&call.id, "InternalError", "the CSMS does not take it (test)").map_err(|e| kit::Verdict::Inconclusive(format!("{e:?}")))?;
    }
    Ok(())
}

/// E13: every transmission refused; the station gives up after ATTEMPTS.
fn retried_until_given_up(with_error: bool) -> Step {
    let conn = super::booted(300)?;
    let (first, station_timeout) = first_transaction_event(&conn)?;
    let payload = first.payload.clone();
    let timeout_ms = if with_error { 0 } else { station_timeout };
    let mut last = (first, clock::now_ms());
    for n in 1..ATTEMPTS {
        refuse(&conn, &last.0, with_error)?;
        last = sent_again(&conn, &payload, last.1, timeout_ms + u64::from(INTERVAL_S * n) * 1_000)?;
    }
    refuse(&conn, &last.0, with_error)?;
    let quiet = timeout_ms + u64::from(INTERVAL_S * ATTEMPTS) * 1_000 + 1_000;
    kit::expect_silence(&conn, "E13.FR.03", TX, quiet as u32, "after the last of MessageAttempts")
}

/// E13: the first transmission refused, the second answered; no third.
fn retried_once(with_error: bool) -> Step {
    let conn = super::booted(300)?;
    let (first, station_timeout) = first_transaction_event(&conn)?;
    let payload = first.payload.clone();
    refuse(&conn, &first, with_error)?;
    let timeout_ms = if with_error { 0 } else { station_timeout };
    let (second, _) = sent_again(&conn, &payload, clock::now_ms(), timeout_ms + u64::from(INTERVAL_S) * 1_000)?;
    kit::reply(&conn, "E13", &second, TX, json!({"idTokenInfo": {"status": "Accepted"}}))?;
    // Later events of the transaction may come; the answered one must not.
    let deadline = clock::now_ms() + u64::from(INTERVAL_S * 2) * 1_000 + 1_000;
    while clock::now_ms() < deadline {
        let Ok(call) = kit::expect(&conn, "E13.FR.03", TX, 500) else { continue };
        kit::reply(&conn, "E13", &call, TX, json!({}))?;
        kit::check(call.payload["seqNo"] != payload["seqNo"], "E13.FR.03", "the answered TransactionEvent not sent again", || {
            call.payload.to_string()
        })?;
    }
    Ok(())
}

fn tc_e_41() -> Step {
    retried_until_given_up(false)
}

fn tc_e_42() -> Step {
    retried_once(false)
}

fn tc_e_50() -> Step {
    retried_until_given_up(true)
}

fn tc_e_51() -> Step {
    retried_once(true)
}

fn tc_f_08() -> Step {
    // Reusable state StopAuthorized, the remote way.
    let (conn, tx) = kit::reach_station(StationState::EnergyTransferStarted, kit::evse_id(), &[TX])?;
    let tx = tx.unwrap_or_default();
    let r = kit::call(&conn, "F03.FR.02", "RequestStopTransaction", json!({"transactionId": tx}), 10_000)?;
    kit::check(r["status"] == "Accepted", "F03.FR.02", format!("RequestStopTransaction of {tx} Accepted"), || r.to_string())?;
    let ev = stop_authorized(&conn, "F03.FR.03", true, true)?;
    kit::check(tx_id(&ev) == tx, "F03.FR.09", format!("transaction {tx} ended"), || tx_id(&ev))
}
