//! OCPP 1.6 for a Central System DUT when the charge point was cut off (1.6 §4.8, 4.10, 6.46):
//! after a power failure or a lost connection it reports what happened meanwhile, with the
//! times it happened, and the Central System takes it.
use serde_json::json;

use super::{CP, authorize, boot, in_step, registered, session, status};
use crate::{
    Case,
    kit::{self, *},
};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::new(
            "TC_032_1_CSMS",
            "1.6 power failure during a transaction: after the boot it ends with PowerLoss at the time of the failure",
            CP,
            V16,
            &["1.6 StopTransaction", "1.6 BootNotification"],
            tc_032_1,
        )
        .timeout_ms(40_000),
        Case::new(
            "TC_036_CSMS",
            "1.6 connection lost during a transaction: the meter values and the stop recorded offline are taken after",
            CP,
            V16,
            &["1.6 MeterValues", "1.6 StopTransaction"],
            tc_036,
        )
        .timeout_ms(40_000),
        Case::new(
            "TC_037_1_CSMS",
            "1.6 a transaction started offline is reported when back online and Accepted",
            CP,
            V16,
            &["1.6 StartTransaction"],
            tc_037_1,
        )
        .timeout_ms(40_000),
        Case::new("TC_038_CSMS", "1.6 a transaction stopped offline is reported when back online", CP, V16, &["1.6 StopTransaction"], tc_038)
            .timeout_ms(40_000),
        Case::new(
            "TC_039_CSMS",
            "1.6 a whole transaction offline is reported when back online",
            CP,
            V16,
            &["1.6 StartTransaction", "1.6 StopTransaction"],
            tc_039,
        )
        .timeout_ms(40_000),
    ]
}

/// The connection is gone for a while; the charge point comes back without a reboot.
fn back_online(conn: Connection) -> Step<Connection> {
    super::back_online(conn, "1.6 offline")
}

/// StartTransaction recorded `ago_s` seconds ago; the transaction id given.
fn started_at(conn: &Connection, token: &str, ago_s: i64) -> Step<i64> {
    let r = kit::call(
        conn,
        "1.6 StartTransaction",
        "StartTransaction",
        json!({"connectorId": 1, "idTag": token, "meterStart": 1000, "timestamp": kit::time_from_now(-ago_s)}),
        10_000,
    )?;
    kit::check(
        at(&r, "/idTagInfo/status") == "Accepted",
        "1.6 StartTransaction",
        format!("idTagInfo Accepted for {token}, started offline"),
        || r.to_string(),
    )?;
    Ok(r["transactionId"].as_i64().unwrap_or_default())
}

fn stopped_at(conn: &Connection, id: i64, reason: &str, ago_s: i64) -> Step {
    kit::call(
        conn,
        "1.6 StopTransaction",
        "StopTransaction",
        json!({"transactionId": id, "meterStop": 1800, "timestamp": kit::time_from_now(-ago_s), "reason": reason}),
        10_000,
    )
    .map(drop)
}

fn tc_032_1() -> Step {
    let conn = registered()?;
    let id = session(&conn, &kit::valid_token(), 1000)?;
    let conn = back_online(conn)?;
    boot(&conn, "1.6 BootNotification", "the charge point Accepted after the power failure")?;
    stopped_at(&conn, id, "PowerLoss", 5)?;
    status(&conn, 0, "Available")?;
    status(&conn, 1, "Available")
}

fn tc_036() -> Step {
    let conn = registered()?;
    let id = session(&conn, &kit::valid_token(), 1000)?;
    let conn = back_online(conn)?;
    let mv = json!({"connectorId": 1, "transactionId": id, "meterValue": [{"timestamp": kit::time_from_now(-10), "sampledValue": [{"value": "1400", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]});
    kit::call(&conn, "1.6 MeterValues", "MeterValues", mv, 10_000)?;
    stopped_at(&conn, id, "Local", 5)?;
    status(&conn, 1, "Finishing")
}

fn tc_037_1() -> Step {
    let conn = back_online(registered()?)?;
    let token = kit::valid_token();
    status(&conn, 1, "Preparing")?;
    started_at(&conn, &token, 30)?;
    status(&conn, 1, "Charging")
}

fn tc_038() -> Step {
    let conn = registered()?;
    let token = kit::valid_token();
    let s = authorize(&conn, &token)?;
    kit::check(s == "Accepted", "1.6 Authorize", format!("Accepted for {token}"), || format!("status {s}"))?;
    let id = session(&conn, &token, 1000)?;
    let conn = back_online(conn)?;
    status(&conn, 1, "Finishing")?;
    stopped_at(&conn, id, "Local", 20)?;
    in_step(&conn, "1.6 StopTransaction")
}

fn tc_039() -> Step {
    let conn = back_online(registered()?)?;
    status(&conn, 1, "Preparing")?;
    let id = started_at(&conn, &kit::valid_token(), 60)?;
    stopped_at(&conn, id, "Local", 20)?;
    status(&conn, 1, "Finishing")?;
    in_step(&conn, "1.6 StopTransaction")
}
