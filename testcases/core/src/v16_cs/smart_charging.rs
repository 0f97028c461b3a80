//! OCPP 1.6 smart charging for a charge-point DUT (1.6 §3.13, §5.5, §5.7, §5.16): profiles
//! set, merged into the composite schedule, and cleared. Each case clears what it set, so a
//! long-lived charge point keeps no limit from it.
use serde_json::{Value, json};

use super::{CS, booted, remote_tx};
use crate::{
    Case,
    kit::{self, *},
    msg,
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    Case::new(id, title, CS, V16, requirements, run).profile("smart-charging")
}

pub(super) fn cases() -> Vec<Case> {
    vec![
        case(
            "TC_056_CS",
            "1.6 a TxDefaultProfile is Accepted and bounds the composite schedule",
            &["1.6 SetChargingProfile", "1.6 GetCompositeSchedule"],
            tc_056,
        ),
        case(
            "TC_057_CS",
            "1.6 a TxProfile for the running transaction is Accepted and bounds its schedule",
            &["1.6 SetChargingProfile", "1.6 §3.13.1"],
            tc_057,
        )
        .needs(&["plug"])
        .timeout_ms(30_000),
        case("OH_16_K_01_CS", "1.6 a TxProfile without a transaction on the connector is Rejected", &["1.6 §3.13.1"], oh_16_k_01),
        case(
            "TC_066_CS",
            "1.6 the composite schedule is no higher than the lowest merged limit",
            &["1.6 GetCompositeSchedule", "1.6 §3.13.3"],
            tc_066,
        ),
        case("TC_067_CS", "1.6 ClearChargingProfile by id: Accepted, then Unknown", &["1.6 ClearChargingProfile"], tc_067),
    ]
}

/// A flat profile: `limit` A from now on, for `purpose` (and `transaction`).
fn profile(id: i64, purpose: &str, limit: f64, transaction: Option<i64>) -> Value {
    msg::charging_profile_16(id, purpose, limit, transaction, &now())
}

fn set(conn: &Connection, req: &str, connector: u32, p: Value) -> Step<String> {
    let r = kit::call(conn, req, "SetChargingProfile", json!({"connectorId": connector, "csChargingProfiles": p}), 10_000)?;
    Ok(r["status"].as_str().unwrap_or_default().to_string())
}

fn set_accepted(conn: &Connection, req: &str, connector: u32, p: Value) -> Step {
    let what = format!("SetChargingProfile of a {} Accepted", p["chargingProfilePurpose"].as_str().unwrap_or("profile"));
    let s = set(conn, req, connector, p)?;
    kit::check(s == "Accepted", req, what, || format!("status {s}"))
}

fn clear(conn: &Connection, req: &str, id: i64) -> Step<String> {
    let r = kit::call(conn, req, "ClearChargingProfile", json!({"id": id}), 10_000)?;
    Ok(r["status"].as_str().unwrap_or_default().to_string())
}

/// The composite schedule of connector 1 for the next 10 minutes, in A, must exist and stay at
/// or below `limit` A (§3.13.3).
fn schedule_at_most(conn: &Connection, req: &str, limit: f64) -> Step {
    let r = kit::call(conn, req, "GetCompositeSchedule", json!({"connectorId": kit::evse_id(), "duration": 600, "chargingRateUnit": "A"}), 10_000)?;
    kit::check(r["status"] == "Accepted", req, "GetCompositeSchedule Accepted", || r.to_string())?;
    let periods = r["chargingSchedule"]["chargingSchedulePeriod"].as_array().cloned().unwrap_or_default();
    kit::check(!periods.is_empty(), req, "a chargingSchedule with periods", || r.to_string())?;
    let over: Vec<f64> = periods.iter().filter_map(|p| p["limit"].as_f64()).filter(|l| *l > limit).collect();
    kit::check(over.is_empty(), req, format!("every period at or below {limit} A"), || format!("limits {over:?} in {}", r["chargingSchedule"]))
}

fn tc_056() -> Step {
    let conn = booted(false)?;
    set_accepted(&conn, "1.6 SetChargingProfile", 0, profile(5601, "TxDefaultProfile", 16.0, None))?;
    schedule_at_most(&conn, "1.6 GetCompositeSchedule", 16.0)?;
    clear(&conn, "1.6 ClearChargingProfile", 5601).map(drop)
}

fn tc_057() -> Step {
    let (conn, id) = remote_tx("1.6 SetChargingProfile", 157)?;
    set_accepted(&conn, "1.6 SetChargingProfile", 1, profile(5701, "TxProfile", 10.0, Some(id)))?;
    schedule_at_most(&conn, "1.6 §3.13.1", 10.0)?;
    clear(&conn, "1.6 ClearChargingProfile", 5701).map(drop)
}

fn oh_16_k_01() -> Step {
    let conn = booted(false)?;
    let s = set(&conn, "1.6 §3.13.1", 1, profile(9101, "TxProfile", 10.0, Some(987_654)))?;
    if s == "Accepted" {
        let _ = clear(&conn, "1.6 §3.13.1", 9101);
    }
    kit::check(s == "Rejected", "1.6 §3.13.1", "SetChargingProfile Rejected for a TxProfile on a connector without a transaction", || {
        format!("status {s}")
    })
}

fn tc_066() -> Step {
    let conn = booted(false)?;
    set_accepted(&conn, "1.6 SetChargingProfile", 0, profile(6601, "TxDefaultProfile", 16.0, None))?;
    set_accepted(&conn, "1.6 SetChargingProfile", 0, profile(6602, "ChargePointMaxProfile", 12.0, None))?;
    let checked = schedule_at_most(&conn, "1.6 §3.13.3", 12.0);
    clear(&conn, "1.6 ClearChargingProfile", 6601)?;
    clear(&conn, "1.6 ClearChargingProfile", 6602)?;
    checked
}

fn tc_067() -> Step {
    let conn = booted(false)?;
    set_accepted(&conn, "1.6 SetChargingProfile", 0, profile(6701, "TxDefaultProfile", 20.0, None))?;
    let first = clear(&conn, "1.6 ClearChargingProfile", 6701)?;
    kit::check(first == "Accepted", "1.6 ClearChargingProfile", "Accepted for the profile just set", || format!("status {first}"))?;
    let again = clear(&conn, "1.6 ClearChargingProfile", 6701)?;
    kit::check(again == "Unknown", "1.6 ClearChargingProfile", "Unknown once it is gone", || format!("status {again}"))
}
