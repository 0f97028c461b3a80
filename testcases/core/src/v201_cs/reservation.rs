//! Block H, reservation, for a charging-station DUT (part 6 §2.8): an EVSE reserved for a
//! token (H01), used by it (H03), cancelled (H02) or left to expire (H04), and the answers
//! to a reservation the EVSE cannot take (Occupied, Unavailable).
//!
//! Each case reserves the configured EVSE (part 6's "<Configured evseId>"); the reservation a
//! case leaves behind is cancelled by the baseline after it.
use serde_json::{Value, json};

use crate::{
    Case,
    kit::{self, Connection, Setup, StationState, Step, Verdict, at, config},
};

use super::{REPORTS, SESSION, TX, authorize, booted, connector_is, next_tx_event, prerequisite, rebooted_claiming, station_value};

/// A reservation case of the Reservation profile for a charging-station DUT.
fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], needs: &'static [&'static str], run: fn() -> Step) -> Case {
    super::station_case(id, title, requirements, needs, run).profile("reservation")
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        case(
            "TC_H_01_CS",
            "Reserve an EVSE, then charge there with the reserving token: the reservation is used and named in the transaction",
            &["H01.FR.15", "H03.FR.01", "H03.FR.09", "H03.FR.10"],
            &["plug", "token-reader", "pilot"],
            tc_h_01,
        ),
        case("TC_H_03_CS", "ReserveNow for an EVSE that is already reserved: Occupied", &["H01.FR.11"], &[], tc_h_03),
        case("TC_H_04_CS", "ReserveNow for an EVSE with a transaction: Occupied", &["H01.FR.11", "H01.FR.13"], &["plug", "token-reader", "pilot"], tc_h_04),
        case("TC_H_06_CS", "ReserveNow for an Unavailable EVSE: Unavailable", &["H01.FR.14"], &[], tc_h_06),
        case(
            "TC_H_07_CS",
            "A reservation nobody uses expires: ReservationStatusUpdate Expired, the EVSE Available and usable again",
            &["H04.FR.01", "H04.FR.02", "H04.FR.03"],
            SESSION,
            tc_h_07,
        ),
        case("TC_H_17_CS", "CancelReservation of a reservation held: Accepted, the EVSE Available again", &["H02.FR.02"], &[], tc_h_17),
        case(
            "TC_B_24_CS",
            "Reset OnIdle of a station with a reserved EVSE: Accepted, back with RemoteReset and the EVSE still Reserved",
            &["B11.FR.01", "B11.FR.03", "B11.FR.04", "B11.FR.05", "B01.FR.03"],
            &[],
            tc_b_24,
        ),
        case(
            "TC_H_19_CS",
            "An EVSE reserved for a token and its group: another member of the group uses it, and its transaction names the reservation",
            &["H01.FR.15", "H03.FR.04", "H03.FR.08"],
            &["plug", "token-reader", "pilot"],
            tc_h_19,
        ),
        case("TC_H_02_CS", "RequestStartTransaction for an EVSE reserved for another token: Rejected", &["H03.FR.01", "F01.FR.22"], &[], tc_h_02),
        case("TC_H_18_CS", "CancelReservation of a reservation the station does not hold: Rejected", &["H02.FR.01"], &[], tc_h_18),
        case(
            "TC_H_21_CS",
            "A reserved EVSE made Inoperative loses its reservation: ReservationStatusUpdate Removed, Available again once Operative",
            &["H01.FR.17"],
            &[],
            tc_h_21,
        ),
        case(
            "TC_H_23_CS",
            "ReserveNow with the id of a reservation held replaces it: the new token may use the EVSE",
            &["H01.FR.02"],
            &["plug", "token-reader", "pilot"],
            tc_h_23,
        ),
        case(
            "TC_H_08_CS",
            "Reserve no EVSE in particular: Accepted, and the reserving token's transaction names the reservation",
            &["H01.FR.04", "H01.FR.07", "H01.FR.15", "H01.FR.20", "H03.FR.03"],
            &["plug", "token-reader", "pilot"],
            tc_h_08,
        ),
        case("TC_H_09_CS", "Reserve no EVSE in particular while every EVSE is reserved: Occupied", &["H01.FR.11"], &[], tc_h_09),
        case(
            "TC_H_10_CS",
            "Reserve no EVSE in particular while every EVSE has a transaction or a reservation: Occupied",
            &["H01.FR.11", "H01.FR.13"],
            &["plug", "token-reader", "pilot"],
            tc_h_10,
        ),
        case("TC_H_12_CS", "Reserve no EVSE in particular while the station is Unavailable: Unavailable", &["H01.FR.14"], &[], tc_h_12),
        case("TC_H_13_CS", "A station that reserves named EVSEs only rejects a reservation without one", &["H01.FR.19"], &[], tc_h_13),
        case("TC_H_14_CS", "As many reservations of no EVSE in particular as EVSEs: every EVSE Reserved", &["H01.FR.20"], &[], tc_h_14),
        case(
            "TC_H_15_CS",
            "Reserve a connector type: Accepted, and the reserving token's transaction names the reservation",
            &["H01.FR.06", "H01.FR.09", "H01.FR.15", "H03.FR.02"],
            &["plug", "token-reader", "pilot"],
            tc_h_15,
        ),
        case("TC_H_16_CS", "Reserve a connector type while every EVSE is reserved: Occupied", &["H01.FR.11"], &[], tc_h_16),
        case("TC_H_22_CS", "A station configured not to take reservations rejects one", &["H01.FR.01"], &[], tc_h_22),
        case(
            "TC_H_24_CS",
            "Reserve no EVSE in particular for a token and its group: Accepted, and the token's transaction names the reservation",
            &["H03.FR.06", "H01.FR.15"],
            &["plug", "token-reader", "pilot"],
            tc_h_24,
        ),
    ]
}

/// A reservation id no other case of the run uses.
fn new_id() -> i64 {
    i64::from(kit::unique_number())
}

/// A ReserveNow request for the configured EVSE.
fn reserve_request(id: i64, token: &str, expiry_s: i64) -> Value {
    reserve_request_for(Some(kit::evse_id()), id, token, expiry_s)
}

/// A ReserveNow request for `evse`, or for no EVSE in particular.
fn reserve_request_for(evse: Option<u32>, id: i64, token: &str, expiry_s: i64) -> Value {
    let mut request = json!({"id": id, "expiryDateTime": kit::time_from_now(expiry_s), "idToken": kit::id_token(token)});
    if let Some(e) = evse {
        request["evseId"] = json!(e);
    }
    request
}

/// ReserveNow for the configured EVSE; the answer's status.
fn reserve_now(conn: &Connection, req: &str, id: i64, token: &str, expiry_s: i64) -> Step<String> {
    let r = kit::call(conn, req, "ReserveNow", reserve_request(id, token, expiry_s), 10_000)?;
    Ok(r["status"].as_str().unwrap_or_default().to_string())
}

/// Claim the connector's reports (StatusNotification or NotifyEvent) for the case.
fn watch_reports(conn: &Connection) {
    conn.claim(&[REPORTS[0].into(), REPORTS[1].into()]);
}

/// The reports are no longer what the case waits for: left to the harness, the statuses and
/// events a cable or an EV cause (a monitor's too) do not hold the station's transaction
/// messages back.
fn unwatch_reports(conn: &Connection) {
    conn.release(&[REPORTS[0].into(), REPORTS[1].into()]);
}

/// Part 6's reusable state Reserved, as preparation: the configured EVSE reserved for
/// `token` (Accepted), its connector reported Reserved.
fn reserved(conn: &Connection, id: i64, token: &str, expiry_s: i64) -> Step {
    let state = || -> Step {
        let status = reserve_now(conn, "", id, token, expiry_s)?;
        kit::check(status == "Accepted", "", "ReserveNow Accepted for an Available EVSE", || format!("status {status}"))?;
        connector_is(conn, "", "Reserved")
    };
    state().setup("reusable state Reserved")
}

/// The first TransactionEvent that carries an idToken (the one the authorization is in).
fn event_with_token(conn: &Connection, req: &str) -> Step<Value> {
    for _ in 0..6 {
        let ev = next_tx_event(conn, req, 10_000)?;
        if ev.get("idToken").is_some() {
            return Ok(ev);
        }
    }
    Err(kit::fail(req, "a TransactionEvent with the idToken that was authorized", "six events without one"))
}

/// The authorized driver plugs in and the EV draws energy: the TransactionEvent that carries
/// the token (awaited citing `wait_req`) must name reservation `id` (checked citing `req`);
/// `whose` says for the failure whose transaction it is.
fn charges_on_reservation(conn: &Connection, wait_req: &str, req: &str, id: i64, whose: &str) -> Step {
    unwatch_reports(conn);
    kit::plug_in(kit::evse_id())?;
    kit::pilot(kit::evse_id(), kit::PilotState::C)?;
    let ev = event_with_token(conn, wait_req)?;
    kit::check(ev["reservationId"] == id, req, format!("reservationId {id} in the TransactionEvent of {whose}"), || {
        format!("reservationId {} for {} ({} {})", ev["reservationId"], ev["idToken"], ev["eventType"], ev["triggerReason"])
    })
}

/// TC_H_01_CS: Reserved, Authorized with the reserving token, EnergyTransferStarted.
fn tc_h_01() -> Step {
    let conn = booted(300)?;
    watch_reports(&conn);
    conn.claim(&[TX.into(), "Authorize".into()]);
    let token = kit::valid_token();
    let id = new_id();
    reserved(&conn, id, &token, 600)?;
    kit::present_token(&token)?;
    authorize(&conn, "H03.FR.01", "Accepted")?;
    // H03.FR.09/10: the reservation is used; no cable yet, so the connector is Available.
    connector_is(&conn, "H03.FR.10", "Available")?;
    charges_on_reservation(&conn, "H01.FR.15", "H01.FR.15", id, "the authorization")
}

/// TC_H_03_CS: the EVSE is Reserved for one token; a reservation for another is Occupied.
fn tc_h_03() -> Step {
    let conn = booted(300)?;
    watch_reports(&conn);
    reserved(&conn, new_id(), &kit::valid_token(), 600)?;
    let status = reserve_now(&conn, "H01.FR.11", new_id(), &kit::second_valid_token(), 600)?;
    kit::check(status == "Occupied", "H01.FR.11", "ReserveNow Occupied for a reserved EVSE", || format!("status {status}"))
}

/// TC_H_04_CS: a transaction is going on at the EVSE (EnergyTransferStarted); ReserveNow is
/// Occupied.
fn tc_h_04() -> Step {
    let (conn, _) = kit::reach_station(StationState::EnergyTransferStarted, kit::evse_id(), &[])?;
    let status = reserve_now(&conn, "H01.FR.11", new_id(), &kit::second_valid_token(), 600)?;
    kit::check(status == "Occupied", "H01.FR.11", "ReserveNow Occupied for an EVSE with a transaction", || format!("status {status}"))
}

/// TC_H_06_CS: the EVSE is Unavailable (made so through ChangeAvailability, which the
/// baseline undoes); ReserveNow is Unavailable.
fn tc_h_06() -> Step {
    let conn = booted(300)?;
    let made = kit::prepare(&conn, "ChangeAvailability", json!({"operationalStatus": "Inoperative", "evse": {"id": kit::evse_id()}}))?;
    if made["status"] != "Accepted" {
        return Err(kit::Verdict::Inconclusive(format!("the EVSE could not be made Unavailable: ChangeAvailability {made}")));
    }
    let status = reserve_now(&conn, "H01.FR.14", new_id(), &kit::second_valid_token(), 600)?;
    kit::check(status == "Unavailable", "H01.FR.14", "ReserveNow Unavailable for an Unavailable EVSE", || format!("status {status}"))
}

/// TC_H_07_CS: Reserved until a few seconds from now; the reservation expires unused
/// (steps 1-4), then the EVSE takes a transaction again (steps 5-6).
fn tc_h_07() -> Step {
    let conn = booted(300)?;
    watch_reports(&conn);
    conn.claim(&["ReservationStatusUpdate".into()]);
    let id = new_id();
    reserved(&conn, id, &kit::second_valid_token(), 4)?;
    connector_is(&conn, "H04.FR.03", "Available")?;
    let update = kit::expect_and_reply(&conn, "H04.FR.01", "ReservationStatusUpdate", 10_000, json!({}))?;
    kit::check(update["reservationId"] == id && update["reservationUpdateStatus"] == "Expired", "H04.FR.01", format!("ReservationStatusUpdate Expired for reservation {id}"), || {
        update.to_string()
    })?;
    // H04.FR.02: the driver with the first valid token may charge there again.
    unwatch_reports(&conn);
    conn.claim(&[TX.into(), "Authorize".into()]);
    kit::present_token(&kit::valid_token())?;
    authorize(&conn, "H04.FR.02", "Accepted")?;
    kit::plug_in(kit::evse_id())?;
    let ev = event_with_token(&conn, "H04.FR.02")?;
    kit::check(at(&ev, "/idToken/idToken") == kit::valid_token().as_str(), "H04.FR.02", "a transaction for the token at the reader", || ev["idToken"].to_string())
}

/// TC_H_17_CS: Reserved; CancelReservation with its id is Accepted and the EVSE is Available.
fn tc_h_17() -> Step {
    let conn = booted(300)?;
    watch_reports(&conn);
    let id = new_id();
    reserved(&conn, id, &kit::valid_token(), 600)?;
    let r = kit::call(&conn, "H02.FR.02", "CancelReservation", json!({"reservationId": id}), 10_000)?;
    kit::check(r["status"] == "Accepted", "H02.FR.02", format!("CancelReservation Accepted for reservation {id}"), || r.to_string())?;
    connector_is(&conn, "H02.FR.02", "Available")
}

/// TC_H_02_CS: Reserved for the first valid token; a remote start for the second at that EVSE
/// is Rejected.
fn tc_h_02() -> Step {
    let conn = booted(300)?;
    watch_reports(&conn);
    reserved(&conn, new_id(), &kit::valid_token(), 600)?;
    let other = kit::second_valid_token();
    let request = json!({"idToken": kit::id_token(&other), "remoteStartId": kit::unique_number(), "evseId": kit::evse_id()});
    let r = kit::call(&conn, "F01.FR.22", "RequestStartTransaction", request, 10_000)?;
    kit::check(r["status"] == "Rejected", "F01.FR.22", format!("RequestStartTransaction Rejected for {other} at an EVSE reserved for another token"), || r.to_string())
}

/// TC_H_18_CS: no reservation with that id (part 6 step 1 names id 1; the baseline leaves the
/// station without reservations): CancelReservation Rejected.
fn tc_h_18() -> Step {
    let conn = booted(300)?;
    let id = 1;
    let r = kit::call(&conn, "H02.FR.01", "CancelReservation", json!({"reservationId": id}), 10_000)?;
    kit::check(r["status"] == "Rejected", "H02.FR.01", format!("CancelReservation Rejected for reservation {id}, which the station does not hold"), || r.to_string())
}

/// TC_H_21_CS: Reserved; the EVSE made Inoperative reports Unavailable and the reservation
/// Removed (steps 1-6); made Operative again, it is Available (steps 7-10).
fn tc_h_21() -> Step {
    let conn = booted(300)?;
    watch_reports(&conn);
    conn.claim(&["ReservationStatusUpdate".into()]);
    let id = new_id();
    reserved(&conn, id, &kit::valid_token(), 600)?;
    let availability = |status: &str| json!({"operationalStatus": status, "evse": {"id": kit::evse_id()}});
    let r = kit::call(&conn, "H01.FR.17", "ChangeAvailability", availability("Inoperative"), 10_000)?;
    kit::check(r["status"] == "Accepted", "H01.FR.17", "ChangeAvailability Inoperative Accepted for a reserved EVSE", || r.to_string())?;
    connector_is(&conn, "H01.FR.17", "Unavailable")?;
    let update = kit::expect_and_reply(&conn, "H01.FR.17", "ReservationStatusUpdate", 10_000, json!({}))?;
    kit::check(update["reservationId"] == id && update["reservationUpdateStatus"] == "Removed", "H01.FR.17", format!("ReservationStatusUpdate Removed for reservation {id}"), || {
        update.to_string()
    })?;
    let r = kit::call(&conn, "H01.FR.17", "ChangeAvailability", availability("Operative"), 10_000)?;
    kit::check(r["status"] == "Accepted", "H01.FR.17", "ChangeAvailability Operative Accepted", || r.to_string())?;
    // The reservation is gone: Available, not Reserved.
    connector_is(&conn, "H01.FR.17", "Available")
}

/// TC_H_23_CS: a reservation for the first valid token; ReserveNow with its id for the
/// second token is Accepted, and the second token's transaction names the reservation.
fn tc_h_23() -> Step {
    let conn = booted(300)?;
    watch_reports(&conn);
    conn.claim(&[TX.into(), "Authorize".into()]);
    let id = new_id();
    reserved(&conn, id, &kit::valid_token(), 600)?;
    let other = kit::second_valid_token();
    let status = reserve_now(&conn, "H01.FR.02", id, &other, 600)?;
    kit::check(status == "Accepted", "H01.FR.02", format!("ReserveNow Accepted replacing reservation {id}"), || format!("status {status}"))?;
    kit::present_token(&other)?;
    authorize(&conn, "H01.FR.02", "Accepted")?;
    charges_on_reservation(&conn, "H01.FR.02", "H01.FR.02", id, &format!("{other}, who replaced the reservation"))
}

/// TC_B_24_CS: Reserved; Reset OnIdle is Accepted (no transaction), the station comes back
/// with reason RemoteReset and reports the reserved connector Reserved again (B11.FR.05: the
/// reservation outlives the reset).
fn tc_b_24() -> Step {
    let conn = booted(300)?;
    watch_reports(&conn);
    reserved(&conn, new_id(), &kit::valid_token(), 600)?;
    let r = kit::call(&conn, "B11.FR.03", "Reset", json!({"type": "OnIdle"}), 10_000)?;
    kit::check(r["status"] == "Accepted", "B11.FR.03", "Reset OnIdle Accepted with no transaction ongoing", || r.to_string())?;
    let again = rebooted_claiming(&conn, "B11.FR.04", &["RemoteReset"], &REPORTS)?;
    connector_is(&again, "B11.FR.05", "Reserved")
}

/// TC_H_19_CS: ReserveNow for the first valid token with a groupIdToken (steps 1-3); the
/// second token is presented, the station asks the CSMS about it (H03.FR.08), learns it is of
/// the group, and charges there on the reservation (H03.FR.04, H01.FR.15).
fn tc_h_19() -> Step {
    let conn = booted(300)?;
    watch_reports(&conn);
    conn.claim(&[TX.into(), "Authorize".into()]);
    let id = new_id();
    let group = kit::group_id_token();
    let mut request = reserve_request(id, &kit::valid_token(), 600);
    request["groupIdToken"] = json!({"idToken": group, "type": "Central"});
    let r = kit::call(&conn, "H03.FR.04", "ReserveNow", request, 10_000)?;
    kit::check(r["status"] == "Accepted", "H03.FR.04", "ReserveNow Accepted for an Available EVSE", || r.to_string())?;
    connector_is(&conn, "H03.FR.04", "Reserved")?;
    let member = kit::second_valid_token();
    kit::present_token(&member)?;
    let answer = json!({"idTokenInfo": {"status": "Accepted", "groupIdToken": {"idToken": group, "type": "Central"}}});
    let asked = kit::expect_and_reply(&conn, "H03.FR.08", "Authorize", 10_000, answer)?;
    kit::check(at(&asked, "/idToken/idToken") == member.as_str(), "H03.FR.08", format!("an Authorize for {member}, to learn its group"), || asked.to_string())?;
    charges_on_reservation(&conn, "H03.FR.04", "H01.FR.15", id, &format!("group member {member}"))
}

/// Whether the station takes reservations of no EVSE in particular
/// (ReservationCtrlr.NonEvseSpecific true).
fn any_evse(conn: &Connection) -> Step<bool> {
    Ok(station_value(conn, "ReservationCtrlr", "NonEvseSpecific")?.is_some_and(|v| v == "true"))
}

/// Part 6's prerequisite of the cases that reserve no EVSE in particular (or a connector type).
fn needs_any_evse(conn: &Connection) -> Step {
    if any_evse(conn)? {
        Ok(())
    } else {
        Err(Verdict::Skip("the station takes no reservation without an EVSE (ReservationCtrlr.NonEvseSpecific is not true): part 6's prerequisite".into()))
    }
}

/// ReserveNow without an evseId for `token` (`extra`: a connectorType, a groupIdToken); the
/// answer's status.
fn reserve_any(conn: &Connection, req: &str, id: i64, token: &str, extra: Value) -> Step<String> {
    let mut request = reserve_request_for(None, id, token, 600);
    if let (Some(r), Some(e)) = (request.as_object_mut(), extra.as_object()) {
        r.extend(e.clone());
    }
    let r = kit::call(conn, req, "ReserveNow", request, 10_000)?;
    Ok(r["status"].as_str().unwrap_or_default().to_string())
}

/// Every EVSE of the station reserved for a token other than the first valid one (part 6's
/// "all EVSEs reserved"), as preparation.
fn all_reserved(conn: &Connection, except: Option<u32>) -> Step {
    for evse in (1..=kit::evses()).filter(|e| Some(*e) != except) {
        let r = kit::prepare(conn, "ReserveNow", reserve_request_for(Some(evse), new_id(), &kit::second_valid_token(), 600))?;
        if r["status"] != "Accepted" {
            return Err(Verdict::Inconclusive(format!("EVSE {evse} could not be reserved (preparation): ReserveNow {r}")));
        }
    }
    Ok(())
}

/// TC_H_08/15/24_CS: a reservation of no EVSE in particular (`extra`: a connector type, a
/// group), Accepted (`req`); a one-EVSE station shows its connector Reserved (H01.FR.20); then
/// Authorized with the first valid token and EnergyTransferStarted, whose transaction names
/// the reservation (`used`).
fn reserved_anywhere_then_used(req: &str, used: &str, extra: Value) -> Step {
    let conn = booted(300)?;
    needs_any_evse(&conn)?;
    let one = kit::evses() == 1;
    if one {
        watch_reports(&conn);
    }
    conn.claim(&[TX.into(), "Authorize".into()]);
    let (id, token) = (new_id(), kit::valid_token());
    let status = reserve_any(&conn, req, id, &token, extra)?;
    kit::check(status == "Accepted", req, "ReserveNow without an evseId Accepted while an EVSE is Available", || format!("status {status}"))?;
    if one {
        connector_is(&conn, "H01.FR.20", "Reserved")?;
        conn.release(&[REPORTS[0].into(), REPORTS[1].into()]);
    }
    kit::present_token(&token)?;
    authorize(&conn, used, "Accepted")?;
    charges_on_reservation(&conn, used, "H01.FR.15", id, "the reserving token")
}

fn tc_h_08() -> Step {
    reserved_anywhere_then_used("H01.FR.04", "H03.FR.03", json!({}))
}

/// Part 6's "<Configured connectorType>": the DUT description's `connector-type` (cType2).
fn connector_type() -> String {
    config::parameter("connector-type").unwrap_or_else(|| "cType2".into())
}

fn tc_h_15() -> Step {
    reserved_anywhere_then_used("H01.FR.06", "H03.FR.02", json!({"connectorType": connector_type()}))
}

fn tc_h_24() -> Step {
    let group = config::parameter("group-id-token").unwrap_or_else(|| "GROUP-1".into());
    reserved_anywhere_then_used("H01.FR.04", "H03.FR.06", json!({"groupIdToken": {"idToken": group, "type": "Central"}}))
}

/// A reservation of no EVSE in particular (`extra`) must get `want` (`req`).
fn answered_any(conn: &Connection, req: &str, extra: Value, want: &str, why: &str) -> Step {
    let status = reserve_any(conn, req, new_id(), &kit::valid_token(), extra)?;
    kit::check(status == want, req, format!("ReserveNow {want}: {why}"), || format!("status {status}"))
}

fn tc_h_09() -> Step {
    let conn = booted(300)?;
    needs_any_evse(&conn)?;
    all_reserved(&conn, None)?;
    answered_any(&conn, "H01.FR.11", json!({}), "Occupied", "every EVSE is reserved")
}

/// EnergyTransferStarted on the configured EVSE, every other EVSE reserved.
fn tc_h_10() -> Step {
    let (conn, _) = kit::reach_station(StationState::EnergyTransferStarted, kit::evse_id(), &[])?;
    needs_any_evse(&conn)?;
    all_reserved(&conn, Some(kit::evse_id()))?;
    answered_any(&conn, "H01.FR.13", json!({}), "Occupied", "every EVSE has a transaction or a reservation")
}

/// The whole station Inoperative (undone by the baseline).
fn tc_h_12() -> Step {
    let conn = booted(300)?;
    needs_any_evse(&conn)?;
    let made = kit::prepare(&conn, "ChangeAvailability", json!({"operationalStatus": "Inoperative"}))?;
    if made["status"] != "Accepted" {
        return Err(Verdict::Inconclusive(format!("the station could not be made Unavailable: ChangeAvailability {made}")));
    }
    answered_any(&conn, "H01.FR.14", json!({}), "Unavailable", "the station is Unavailable")
}

fn tc_h_13() -> Step {
    let conn = booted(300)?;
    if any_evse(&conn)? {
        return Err(Verdict::Skip("the station takes reservations without an EVSE: part 6 runs this case on a station that takes reservations of a named EVSE only".into()));
    }
    answered_any(&conn, "H01.FR.19", json!({}), "Rejected", "the station reserves named EVSEs only (NonEvseSpecific not true)")
}

/// One reservation of no EVSE in particular per EVSE, each for another token: all Accepted,
/// and the configured EVSE's connector Reserved.
fn tc_h_14() -> Step {
    let conn = booted(300)?;
    needs_any_evse(&conn)?;
    watch_reports(&conn);
    for k in 0..kit::evses() {
        let token = if k == 0 { kit::valid_token() } else { format!("{}{k}", kit::second_valid_token()) };
        let status = reserve_any(&conn, "H01.FR.04", new_id(), &token, json!({}))?;
        kit::check(status == "Accepted", "H01.FR.04", format!("ReserveNow {} of {} Accepted", k + 1, kit::evses()), || format!("status {status}"))?;
    }
    connector_is(&conn, "H01.FR.20", "Reserved")
}

fn tc_h_16() -> Step {
    let conn = booted(300)?;
    needs_any_evse(&conn)?;
    all_reserved(&conn, None)?;
    answered_any(&conn, "H01.FR.11", json!({"connectorType": connector_type()}), "Occupied", "every EVSE with that connector type is reserved")
}

/// ReservationCtrlr.Enabled false (part 6's configuration state; a station that does not
/// take it does not meet the prerequisite): a reservation of the configured EVSE is Rejected.
fn tc_h_22() -> Step {
    let conn = booted(300)?;
    prerequisite(&conn, "H01.FR.01", "ReservationCtrlr", "Enabled", "false")?;
    let status = reserve_now(&conn, "H01.FR.01", new_id(), &kit::valid_token(), 600)?;
    kit::check(status == "Rejected", "H01.FR.01", "ReserveNow Rejected while reservations are disabled", || format!("status {status}"))
}
