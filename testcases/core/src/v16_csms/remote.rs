//! OCPP 1.6 remote control, reservations and smart charging for a Central System DUT
//! (1.6 §5.1, 5.5, 5.7, 5.11-5.13, 5.16): the operator's request reaches the charge point as
//! asked, and the Central System takes what the charge point does next.
use serde_json::{Value, json};

use super::{
    in_step, operated_case,
    operator::{operated, requested},
    registered, session, start, status, stop,
};
use crate::{
    Case,
    kit::{self, *},
    msg,
};

pub(super) fn cases() -> Vec<Case> {
    vec![
        operated_case(
            "TC_011_1_CSMS",
            "1.6 remote start first: the charge point accepts, the cable follows and the transaction starts",
            &["1.6 RemoteStartTransaction", "1.6 StartTransaction"],
            tc_011_1,
        ),
        operated_case(
            "TC_026_CSMS",
            "1.6 a remote start the charge point rejects: the Central System goes on",
            &["1.6 RemoteStartTransaction"],
            tc_026,
        ),
        operated_case(
            "TC_028_CSMS",
            "1.6 a remote stop the charge point rejects: the transaction goes on and ends later",
            &["1.6 RemoteStopTransaction"],
            tc_028,
        ),
        operated_case(
            "TC_059_CSMS",
            "1.6 remote start with a TxProfile charging profile",
            &["1.6 RemoteStartTransaction", "1.6 SetChargingProfile"],
            tc_059,
        ),
        operated_case(
            "TC_046_CSMS",
            "1.6 reserve a connector, then the reserved idTag starts a transaction with the reservationId",
            &["1.6 ReserveNow", "1.6 StartTransaction"],
            tc_046,
        ),
        operated_case(
            "TC_047_CSMS",
            "1.6 a reservation expires: the connector is Available again",
            &["1.6 ReserveNow", "1.6 StatusNotification"],
            tc_047,
        ),
        operated_case("TC_048_1_CSMS", "1.6 reserve a faulted connector: Faulted, the Central System goes on", &["1.6 ReserveNow"], tc_048_1),
        operated_case("TC_048_2_CSMS", "1.6 reserve an occupied connector: Occupied, the Central System goes on", &["1.6 ReserveNow"], tc_048_2),
        operated_case(
            "TC_048_3_CSMS",
            "1.6 reserve an unavailable connector: Unavailable, the Central System goes on",
            &["1.6 ReserveNow"],
            tc_048_3,
        ),
        operated_case(
            "TC_048_4_CSMS",
            "1.6 a reservation the charge point rejects: Rejected, the Central System goes on",
            &["1.6 ReserveNow"],
            tc_048_4,
        ),
        operated_case("TC_051_CSMS", "1.6 cancel a reservation: Accepted and the connector Available", &["1.6 CancelReservation"], tc_051),
        operated_case(
            "TC_052_CSMS",
            "1.6 cancel a reservation the charge point does not have: Rejected, the Central System goes on",
            &["1.6 CancelReservation"],
            tc_052,
        ),
        operated_case("TC_056_CSMS", "1.6 central smart charging: a TxDefaultProfile for the charge point", &["1.6 SetChargingProfile"], tc_056),
        operated_case("TC_057_CSMS", "1.6 central smart charging: a TxProfile for the running transaction", &["1.6 SetChargingProfile"], tc_057),
        operated_case("TC_066_CSMS", "1.6 get the composite schedule of a connector", &["1.6 GetCompositeSchedule"], tc_066),
        operated_case("TC_067_CSMS", "1.6 clear a charging profile", &["1.6 ClearChargingProfile"], tc_067),
    ]
}

/// Remote start on connector 1 for the valid idTag (and `profile`), answered `answer`.
fn remote_start(conn: &Connection, profile: Option<Value>, answer: &str) -> Step<Value> {
    let mut hint = json!({"connectorId": 1, "idTag": kit::valid_token()});
    let mut asked = vec!["/connectorId", "/idTag"];
    if let Some(p) = profile {
        hint["chargingProfile"] = p;
        asked.extend(["/chargingProfile/chargingProfilePurpose", "/chargingProfile/chargingSchedule/chargingRateUnit"]);
    }
    operated(conn, "RemoteStartTransaction", hint, &asked, json!({"status": answer}))
}

fn tc_011_1() -> Step {
    let conn = registered()?;
    remote_start(&conn, None, "Accepted")?;
    status(&conn, 1, "Preparing")?;
    start(&conn, &kit::valid_token(), 1000)?;
    status(&conn, 1, "Charging")
}

fn tc_026() -> Step {
    let conn = registered()?;
    remote_start(&conn, None, "Rejected")?;
    in_step(&conn, "1.6 RemoteStartTransaction")
}

fn tc_028() -> Step {
    let conn = registered()?;
    let id = session(&conn, &kit::valid_token(), 1000)?;
    operated(&conn, "RemoteStopTransaction", json!({"transactionId": id}), &["/transactionId"], json!({"status": "Rejected"}))?;
    in_step(&conn, "1.6 RemoteStopTransaction")?;
    stop(&conn, id, "Local")?;
    status(&conn, 1, "Finishing")
}

/// A charging profile of `purpose` limiting to 16 A from now on.
fn profile(id: i64, purpose: &str, transaction: Option<i64>) -> Value {
    msg::charging_profile_16(id, purpose, 16.0, transaction, &now())
}

fn tc_059() -> Step {
    let conn = registered()?;
    let sent = remote_start(&conn, Some(profile(59, "TxProfile", None)), "Accepted")?;
    kit::check(
        sent["chargingProfile"]["chargingProfilePurpose"] == "TxProfile",
        "1.6 RemoteStartTransaction",
        "a chargingProfile of purpose TxProfile (§5.11)",
        || sent.to_string(),
    )?;
    status(&conn, 1, "Preparing")?;
    start(&conn, &kit::valid_token(), 1000)?;
    status(&conn, 1, "Charging")
}

/// The operator reserves connector 1 for the valid idTag until an hour from now; the charge
/// point answers `answer`. The reservationId the Central System chose.
fn reserve(conn: &Connection, answer: &str, expiry: String) -> Step<i64> {
    let hint = json!({"connectorId": 1, "expiryDate": expiry, "idTag": kit::valid_token(), "reservationId": 46});
    let sent = operated(conn, "ReserveNow", hint, &["/connectorId", "/idTag"], json!({"status": answer}))?;
    Ok(sent["reservationId"].as_i64().unwrap_or_default())
}

fn tc_046() -> Step {
    let conn = registered()?;
    let reservation = reserve(&conn, "Accepted", kit::time_from_now(3600))?;
    status(&conn, 1, "Reserved")?;
    status(&conn, 1, "Preparing")?;
    let token = kit::valid_token();
    let r = kit::call(
        &conn,
        "1.6 StartTransaction",
        "StartTransaction",
        json!({"connectorId": 1, "idTag": token, "meterStart": 1000, "timestamp": now(), "reservationId": reservation}),
        10_000,
    )?;
    kit::check(
        at(&r, "/idTagInfo/status") == "Accepted",
        "1.6 StartTransaction",
        format!("the reserved idTag {token} Accepted with reservationId {reservation}"),
        || r.to_string(),
    )?;
    status(&conn, 1, "Charging")
}

fn tc_047() -> Step {
    let conn = registered()?;
    reserve(&conn, "Accepted", kit::time_from_now(2))?;
    status(&conn, 1, "Reserved")?;
    kit::clock::sleep_ms(2_000);
    status(&conn, 1, "Available")?;
    in_step(&conn, "1.6 ReserveNow")
}

fn refused_reservation(answer: &str) -> Step {
    let conn = registered()?;
    reserve(&conn, answer, kit::time_from_now(3600))?;
    in_step(&conn, "1.6 ReserveNow")
}

fn tc_048_1() -> Step {
    refused_reservation("Faulted")
}

fn tc_048_2() -> Step {
    refused_reservation("Occupied")
}

fn tc_048_3() -> Step {
    refused_reservation("Unavailable")
}

fn tc_048_4() -> Step {
    refused_reservation("Rejected")
}

fn tc_051() -> Step {
    let conn = registered()?;
    let reservation = reserve(&conn, "Accepted", kit::time_from_now(3600))?;
    status(&conn, 1, "Reserved")?;
    operated(&conn, "CancelReservation", json!({"reservationId": reservation}), &["/reservationId"], json!({"status": "Accepted"}))?;
    status(&conn, 1, "Available")
}

fn tc_052() -> Step {
    let conn = registered()?;
    operated(&conn, "CancelReservation", json!({"reservationId": 52}), &[], json!({"status": "Rejected"}))?;
    in_step(&conn, "1.6 CancelReservation")
}

fn tc_056() -> Step {
    let conn = registered()?;
    let hint = json!({"connectorId": 0, "csChargingProfiles": profile(56, "TxDefaultProfile", None)});
    operated(&conn, "SetChargingProfile", hint, &["/connectorId", "/csChargingProfiles/chargingProfilePurpose"], json!({"status": "Accepted"}))?;
    in_step(&conn, "1.6 SetChargingProfile")
}

/// 1.6 §5.16.3: a TxProfile during a transaction names that transaction.
fn tc_057() -> Step {
    let conn = registered()?;
    let id = session(&conn, &kit::valid_token(), 1000)?;
    let hint = json!({"connectorId": 1, "csChargingProfiles": profile(57, "TxProfile", Some(id))});
    let call = requested(&conn, "SetChargingProfile", hint, &["/connectorId", "/csChargingProfiles/chargingProfilePurpose"])?;
    let tx = &call.payload["csChargingProfiles"]["transactionId"];
    kit::check(*tx == id, "1.6 SetChargingProfile", format!("transactionId {id}, the running transaction"), || format!("transactionId {tx}"))?;
    kit::reply(&conn, "1.6 SetChargingProfile", &call, "SetChargingProfile", json!({"status": "Accepted"}))?;
    in_step(&conn, "1.6 SetChargingProfile")
}

fn tc_066() -> Step {
    let conn = registered()?;
    let schedule = json!({"status": "Accepted", "connectorId": 1, "scheduleStart": now(), "chargingSchedule": {"duration": 3600, "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32.0}]}});
    operated(&conn, "GetCompositeSchedule", json!({"connectorId": 1, "duration": 3600}), &["/connectorId", "/duration"], schedule)?;
    in_step(&conn, "1.6 GetCompositeSchedule")
}

fn tc_067() -> Step {
    let conn = registered()?;
    operated(&conn, "ClearChargingProfile", json!({"id": 56}), &["/id"], json!({"status": "Accepted"}))?;
    in_step(&conn, "1.6 ClearChargingProfile")
}
