//! Block H, reservation, for a CSMS DUT (part 6 §3.8): the CSMS reserves the configured EVSE
//! for the first valid token when its operator asks (H01), takes the station's answer, and
//! follows what the station then reports — Reserved, Available, Faulted, and the
//! ReservationStatusUpdate that ends a reservation (H04, H01.FR.16). The operator's request is
//! made through the CSMS's control API (`csms-trigger`).
use serde_json::{Value, json};

use super::{operated_case, registered, status, token_json};
use crate::{
    Case,
    kit::{self, *},
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    operated_case(id, title, requirements, run).profile("reservation")
}

pub(super) fn cases() -> Vec<Case> {
    vec![
        case("TC_H_01_CSMS", "The CSMS reserves the EVSE its operator names for the first valid token", &["H01"], tc_h_01),
        case("TC_H_07_CSMS", "A reservation that expires: the CSMS takes Reserved, Available and ReservationStatusUpdate Expired", &["H01", "H04"], tc_h_07),
        case("TC_H_17_CSMS", "The CSMS cancels the reservation it made, naming its id", &["H01", "H02"], tc_h_17),
        case("TC_H_19_CSMS", "The CSMS reserves an EVSE for a token and its group (groupIdToken)", &["H01"], tc_h_19),
        case("TC_H_20_CSMS", "A reserved EVSE goes Faulted: the CSMS takes the status and ReservationStatusUpdate Removed", &["H01", "H01.FR.16"], tc_h_20),
        case("TC_H_08_CSMS", "The CSMS reserves no EVSE in particular for the first valid token", &["H01"], tc_h_08),
        case("TC_H_14_CSMS", "The CSMS reserves no EVSE in particular while the station has one EVSE left", &["H01"], tc_h_08),
        case("TC_H_15_CSMS", "The CSMS reserves a connector of the type its operator names", &["H01"], tc_h_15),
        case("TC_H_22_CSMS", "A station configured to reject reservations: the CSMS takes ReserveNow Rejected", &["H01"], tc_h_22),
    ]
}

/// The operator asks for a reservation of the configured EVSE for the first valid token
/// (`extra` adds to the request, e.g. a groupIdToken, or replaces it: an `evseId` of null
/// asks for no EVSE in particular); the ReserveNow the CSMS sends, checked against part 6's
/// validation of step 1: that EVSE (or none), that token, the connector type asked (or none).
fn reserve_requested(conn: &Connection, req: &str, extra: Value) -> Step<kit::Incoming> {
    let token = kit::valid_token();
    let mut hint = json!({"id": kit::unique_number(), "expiryDateTime": kit::time_from_now(600), "idToken": token_json(&token), "evseId": 1});
    if let (Some(h), Some(e)) = (hint.as_object_mut(), extra.as_object()) {
        h.extend(e.clone());
        h.retain(|_, v| !v.is_null());
    }
    kit::csms_trigger(conn, "ReserveNow", hint.clone())?;
    let call = kit::expect(conn, req, "ReserveNow", 15_000)?;
    let p = &call.payload;
    match hint.get("evseId") {
        Some(evse) => kit::check(p["evseId"] == *evse, req, format!("a reservation of EVSE {evse}, as the operator asked"), || p.to_string())?,
        None => kit::check(p.get("evseId").is_none(), req, "no evseId (the operator named no EVSE)", || p.to_string())?,
    }
    kit::check(at(p, "/idToken/idToken") == token.as_str() && at(p, "/idToken/type") == kit::token_type().as_str(), req, format!("a reservation for the token {token}"), || {
        p["idToken"].to_string()
    })?;
    match hint.get("connectorType") {
        Some(t) => kit::check(p["connectorType"] == *t, req, format!("connectorType {t}, as the operator asked"), || p.to_string())?,
        None => kit::check(p.get("connectorType").is_none(), req, "no connectorType (the operator named none)", || p.to_string())?,
    }
    kit::check(p["id"].is_i64(), req, "a reservation id", || p.to_string())?;
    Ok(call)
}

/// Answer the ReserveNow with `answer` (part 6 step 2).
fn answered(conn: &Connection, req: &str, call: &kit::Incoming, answer: &str) -> Step {
    kit::reply(conn, req, call, "ReserveNow", json!({"status": answer}))
}

/// Part 6's reusable state Reserved (CSMS): the CSMS reserves, the station accepts and
/// reports the connector Reserved; the reservation id.
fn reserved(conn: &Connection, req: &str, extra: Value) -> Step<i64> {
    let call = reserve_requested(conn, req, extra)?;
    answered(conn, req, &call, "Accepted")?;
    status(conn, req, 1, "Reserved")?;
    Ok(call.payload["id"].as_i64().unwrap_or_default())
}

fn tc_h_01() -> Step {
    let conn = registered()?;
    reserved(&conn, "H01", json!({})).map(drop)
}

/// Reserved, then (steps 5-8) the station reports the connector Available again and the
/// reservation Expired.
fn tc_h_07() -> Step {
    ended(&conn_reserved()?, "H04", "Available", "Expired")
}

/// Registered, and part 6's Reserved state: the connection and the reservation id.
fn conn_reserved() -> Step<(Connection, i64)> {
    let conn = registered()?;
    let id = reserved(&conn, "H01", json!({}))?;
    Ok((conn, id))
}

/// The reservation ends at the station: the connector reports `connector`, then a
/// ReservationStatusUpdate `update` names the reservation; the CSMS answers both.
fn ended((conn, id): &(Connection, i64), req: &str, connector: &str, update: &str) -> Step {
    status(conn, req, 1, connector)?;
    kit::call(conn, req, "ReservationStatusUpdate", json!({"reservationId": id, "reservationUpdateStatus": update}), 10_000).map(drop)
}

/// Reserved, then the operator cancels: a CancelReservation naming the reservation made.
fn tc_h_17() -> Step {
    let (conn, id) = conn_reserved()?;
    kit::csms_trigger(&conn, "CancelReservation", json!({"reservationId": id}))?;
    let call = kit::expect(&conn, "H02", "CancelReservation", 15_000)?;
    kit::check(call.payload["reservationId"] == id, "H02", format!("CancelReservation for reservation {id}"), || call.payload.to_string())?;
    kit::reply(&conn, "H02", &call, "CancelReservation", json!({"status": "Accepted"}))?;
    status(&conn, "H02", 1, "Available")
}

/// A reservation for the token and its group: the ReserveNow carries the groupIdToken.
fn tc_h_19() -> Step {
    let conn = registered()?;
    let group = config::parameter("group-id-token").unwrap_or_else(|| "GROUP-1".into());
    let call = reserve_requested(&conn, "H01", json!({"groupIdToken": {"idToken": group, "type": "Central"}}))?;
    kit::check(call.payload.get("groupIdToken").is_some(), "H01", "a groupIdToken in the ReserveNow", || call.payload.to_string())?;
    answered(&conn, "H01", &call, "Accepted")?;
    status(&conn, "H01", 1, "Reserved")
}

/// Reserved, then the EVSE goes Faulted and the station removes the reservation.
fn tc_h_20() -> Step {
    ended(&conn_reserved()?, "H01.FR.16", "Faulted", "Removed")
}

/// TC_H_08/14_CSMS: no EVSE named (evseId and connectorType left out); the station accepts and
/// reports the connector Reserved. Part 6's TC_H_14_CSMS differs only in what the station holds
/// (as many reservations as EVSEs), which the CSMS does not see in the exchange.
fn tc_h_08() -> Step {
    let conn = registered()?;
    let call = reserve_requested(&conn, "H01", json!({"evseId": null}))?;
    answered(&conn, "H01", &call, "Accepted")?;
    status(&conn, "H01", 1, "Reserved")
}

/// A connector type, part 6's "<Configured connectorType>" (`connector-type`, cType2 by
/// default), and no EVSE.
fn tc_h_15() -> Step {
    let conn = registered()?;
    let kind = config::parameter("connector-type").unwrap_or_else(|| "cType2".into());
    let call = reserve_requested(&conn, "H01", json!({"evseId": null, "connectorType": kind}))?;
    answered(&conn, "H01", &call, "Accepted")?;
    status(&conn, "H01", 1, "Reserved")
}

/// The station answers Rejected (configured not to take reservations, H01.FR.01).
fn tc_h_22() -> Step {
    let conn = registered()?;
    let call = reserve_requested(&conn, "H01", json!({}))?;
    answered(&conn, "H01", &call, "Rejected")
}
