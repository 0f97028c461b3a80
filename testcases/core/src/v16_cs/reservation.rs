//! OCPP 1.6 reservations for a charge-point DUT (1.6 §3.11, §5.2, §5.13): a connector held for
//! one idTag, the transaction that uses it, expiry, cancelling, and each status a charge point
//! answers instead of Accepted. Every case cancels what it reserved, so a long-lived charge
//! point keeps nothing from it.
use serde_json::{Value, json};

use super::{CS, START, STATUS, authorize, booted, status};
use crate::{
    Case,
    kit::{self, *},
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    Case::new(id, title, CS, V16, requirements, run).profile("reservation")
}

pub(super) fn cases() -> Vec<Case> {
    vec![
        case(
            "TC_046_CS",
            "1.6 a reserved connector shows Reserved and its idTag starts a transaction with the reservationId",
            &["1.6 ReserveNow", "1.6 §3.11", "1.6 StartTransaction"],
            tc_046,
        )
        .needs(&["plug", "token-reader"])
        .timeout_ms(30_000),
        case("TC_047_CS", "1.6 a reservation ends at its expiry date: the connector is Available again", &["1.6 ReserveNow", "1.6 §3.11"], tc_047),
        case("TC_048_1_CS", "1.6 ReserveNow of a faulted connector: Faulted", &["1.6 ReserveNow"], tc_048_1).needs(&["ev-fault"]),
        case("TC_048_2_CS", "1.6 ReserveNow of a connector with a cable in: Occupied", &["1.6 ReserveNow"], tc_048_2).needs(&["plug"]),
        case("TC_048_3_CS", "1.6 ReserveNow of an Inoperative connector: Unavailable", &["1.6 ReserveNow", "1.6 ChangeAvailability"], tc_048_3),
        case(
            "TC_048_4_CS",
            "1.6 ReserveNow of connector 0 on a charge point without ReserveConnectorZeroSupported: Rejected",
            &["1.6 ReserveNow", "1.6 ReserveConnectorZeroSupported"],
            tc_048_4,
        ),
        case("TC_051_CS", "1.6 CancelReservation of a held reservation: Accepted and the connector Available", &["1.6 CancelReservation"], tc_051),
        case("TC_052_CS", "1.6 CancelReservation of an unknown reservationId: Rejected", &["1.6 CancelReservation"], tc_052),
        case("OH_16_H_01_CS", "1.6 another idTag, though accepted, starts no transaction on a reserved connector", &["1.6 §3.11"], oh_16_h_01)
            .needs(&["plug", "token-reader"])
            .timeout_ms(30_000),
        case(
            "OH_16_H_02_CS",
            "1.6 RemoteStartTransaction for another idTag on a reserved connector is Rejected",
            &["1.6 §3.11", "1.6 RemoteStartTransaction"],
            oh_16_h_02,
        ),
    ]
}

const RESERVE: &str = "1.6 ReserveNow";
const CANCEL: &str = "1.6 CancelReservation";

/// ReserveNow of `connector` for `token` until `expiry_s` from now: the status answered.
fn reserve(conn: &Connection, connector: u32, id: i64, token: &str, expiry_s: i64) -> Step<String> {
    let r = kit::call(
        conn,
        RESERVE,
        "ReserveNow",
        json!({"connectorId": connector, "expiryDate": kit::time_from_now(expiry_s), "idTag": token, "reservationId": id}),
        10_000,
    )?;
    Ok(r["status"].as_str().unwrap_or_default().to_string())
}

fn reserve_expecting(conn: &Connection, connector: u32, id: i64, expected: &str) -> Step {
    let s = reserve(conn, connector, id, &kit::valid_token(), 300)?;
    // Whatever happens, nothing must stay reserved for later cases.
    if s == "Accepted" {
        let _ = cancel(conn, id);
    }
    kit::check(s == expected, RESERVE, format!("ReserveNow {expected} for connector {connector}"), || format!("status {s}"))
}

fn cancel(conn: &Connection, id: i64) -> Step<Value> {
    kit::call(conn, CANCEL, "CancelReservation", json!({"reservationId": id}), 10_000)
}

/// Connector 1 reserved for `token` (reservation `id`), its Reserved status taken.
fn reserved(conn: &Connection, id: i64, token: &str, expiry_s: i64) -> Step {
    let s = reserve(conn, kit::evse_id(), id, token, expiry_s)?;
    kit::check(s == "Accepted", RESERVE, "ReserveNow Accepted for an Available connector", || format!("status {s}"))?;
    status(conn, "1.6 §3.11", kit::evse_id(), "Reserved")
}

fn tc_046() -> Step {
    let conn = booted(true)?;
    let token = kit::valid_token();
    reserved(&conn, 46, &token, 300)?;
    conn.release(&[STATUS.into()]);
    conn.claim(&["Authorize".into(), START.into()]);
    kit::present_token(&token)?;
    authorize(&conn, "1.6 Authorize", "Accepted")?;
    kit::plug_in(kit::evse_id())?;
    let s = kit::expect_and_reply(&conn, "1.6 §3.11", START, 10_000, json!({"transactionId": 146, "idTagInfo": {"status": "Accepted"}}))?;
    kit::check(
        s["connectorId"] == kit::evse_id() && s["idTag"] == token.as_str(),
        "1.6 StartTransaction",
        format!("StartTransaction on connector {} for {token}", kit::evse_id()),
        || s.to_string(),
    )?;
    kit::check(s["reservationId"] == 46, "1.6 §3.11", "StartTransaction with reservationId 46, the reservation it ends", || {
        format!("reservationId {}", s["reservationId"])
    })?;
    // The reservation ended with the start: nothing left to cancel.
    let r = cancel(&conn, 46)?;
    kit::check(r["status"] == "Rejected", "1.6 §3.11", "the reservation gone once used (CancelReservation Rejected)", || r.to_string())
}

fn tc_047() -> Step {
    let conn = booted(true)?;
    reserved(&conn, 47, &kit::valid_token(), 3)?;
    let t0 = clock::now_ms();
    let ended = kit::mandated("the reservation's expiryDate", || status(&conn, "1.6 §3.11", kit::evse_id(), "Available"));
    if ended.is_err() {
        let _ = cancel(&conn, 47);
    }
    ended?;
    let waited = clock::now_ms() - t0;
    kit::check(waited + u64::from(config::lab_timing().tolerance_ms) >= 2_000, "1.6 §3.11", "Reserved until the expiry date (3 s)", || {
        format!("Available after {waited} ms")
    })
}

fn tc_048_1() -> Step {
    let conn = booted(true)?;
    kit::ev_fault(kit::evse_id(), CircuitFault::DiodeFault)?;
    status(&conn, "1.6 StatusNotification", kit::evse_id(), "Faulted")?;
    let outcome = reserve_expecting(&conn, 1, 481, "Faulted");
    kit::ev_fault(kit::evse_id(), CircuitFault::Cleared)?;
    outcome
}

fn tc_048_2() -> Step {
    let conn = booted(true)?;
    kit::plug_in(kit::evse_id())?;
    status(&conn, "1.6 StatusNotification", kit::evse_id(), "Preparing")?;
    let outcome = reserve_expecting(&conn, 1, 482, "Occupied");
    kit::unplug(kit::evse_id())?;
    outcome
}

fn tc_048_3() -> Step {
    let conn = booted(true)?;
    let r = kit::call(&conn, "1.6 ChangeAvailability", "ChangeAvailability", json!({"connectorId": kit::evse_id(), "type": "Inoperative"}), 10_000)?;
    if r["status"] != "Accepted" {
        return Err(Verdict::Inconclusive(format!("the connector could not be made Inoperative (prerequisite): {r}")));
    }
    status(&conn, "1.6 ChangeAvailability", kit::evse_id(), "Unavailable")?;
    let outcome = reserve_expecting(&conn, 1, 483, "Unavailable");
    kit::call(&conn, "1.6 ChangeAvailability", "ChangeAvailability", json!({"connectorId": kit::evse_id(), "type": "Operative"}), 10_000)?;
    outcome
}

fn tc_048_4() -> Step {
    let conn = booted(false)?;
    let r = kit::call(&conn, "1.6 GetConfiguration", "GetConfiguration", json!({"key": ["ReserveConnectorZeroSupported"]}), 10_000)?;
    if at(&r, "/configurationKey/0/value") == "true" {
        return Err(Verdict::Inconclusive(
            "the charge point supports reserving connector 0 (ReserveConnectorZeroSupported true): this case is for one that does not".into(),
        ));
    }
    reserve_expecting(&conn, 0, 484, "Rejected")
}

fn tc_051() -> Step {
    let conn = booted(true)?;
    reserved(&conn, 51, &kit::valid_token(), 300)?;
    let r = cancel(&conn, 51)?;
    kit::check(r["status"] == "Accepted", CANCEL, "CancelReservation Accepted", || r.to_string())?;
    status(&conn, CANCEL, 1, "Available")
}

fn tc_052() -> Step {
    let conn = booted(false)?;
    let r = cancel(&conn, 987_652)?;
    kit::check(r["status"] == "Rejected", CANCEL, "CancelReservation Rejected for a reservationId the charge point does not hold", || r.to_string())
}

fn oh_16_h_01() -> Step {
    let conn = booted(true)?;
    reserved(&conn, 161, &kit::valid_token(), 300)?;
    conn.claim(&["Authorize".into(), START.into()]);
    kit::plug_in(kit::evse_id())?;
    // §4.9 G2: only the reservation's idTag takes a Reserved connector to Preparing; with a
    // cable alone it may stay Reserved, or show Preparing as many do. Either will do.
    kit::mandated("a moment for the cable to register", || kit::clock::sleep_ms(1_000));
    conn.release(&[STATUS.into()]);
    // Another badge, one the Central System accepts.
    kit::present_token("OH16H01OTHER")?;
    let outcome = authorize(&conn, "1.6 Authorize", "Accepted")
        .and_then(|_| kit::expect_silence(&conn, "1.6 §3.11", START, 1_500, "for an idTag the connector is not reserved for"));
    let _ = cancel(&conn, 161);
    kit::unplug(kit::evse_id())?;
    outcome
}

fn oh_16_h_02() -> Step {
    let conn = booted(true)?;
    reserved(&conn, 162, &kit::valid_token(), 300)?;
    conn.claim(&[START.into()]);
    let r = kit::call(
        &conn,
        "1.6 RemoteStartTransaction",
        "RemoteStartTransaction",
        json!({"connectorId": kit::evse_id(), "idTag": "OH16H02OTHER"}),
        10_000,
    );
    let _ = cancel(&conn, 162);
    let r = r?;
    kit::check(r["status"] == "Rejected", "1.6 §3.11", "RemoteStartTransaction Rejected for another idTag on the reserved connector", || {
        r.to_string()
    })
}
