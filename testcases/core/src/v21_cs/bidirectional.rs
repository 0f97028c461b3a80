//! Block Q at 2.1, bidirectional power transfer, for a charging-station DUT (the harness is the
//! CSMS), at the OCPP level: the V2X modes a station lists (Q01.FR.30-32) and the profiles and
//! signals it must refuse, saying why (Q08.FR.11, Q09.FR.01, Q10.FR.02). A station without
//! V2XChargingCtrlr does no bidirectional power transfer and these cases skip. OCPP 2.1 has no
//! part 6: the ids are our own, numbered within the block.
use serde_json::{Value, json};

use crate::{
    Case,
    kit::{self, *},
    v201_cs,
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    Case::new(id, title, Role::Csms, V21, requirements, run).profile("bidirectional").timeout_ms(30_000)
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        case("OH_21_Q_01_CS", "The station lists its V2X operation modes, at least ChargingOnly, CentralSetpoint and CentralFrequency, and its energy transfer modes", &["Q01.FR.30", "Q01.FR.31", "Q01.FR.32"], oh_21_q_01),
        case("OH_21_Q_02_CS", "A charging profile with an Idle period that sets a limit is Rejected with reasonCode InvalidSchedule", &["Q10.FR.02"], oh_21_q_02),
        case("OH_21_Q_03_CS", "An aFRR signal without a LocalFrequency period to apply it to is Rejected with reasonCode NoSignalWattCurve", &["Q08.FR.11"], oh_21_q_03),
        case("OH_21_Q_04_CS", "A charging profile in LocalLoadBalancing, which the station does not list, is Rejected with reasonCode UnsupportedParam", &["Q09.FR.01"], oh_21_q_04),
    ]
}

/// V2XChargingCtrlr's variables the cases read: the values, or absent.
fn v2x(conn: &Connection) -> Step<Vec<Option<String>>> {
    let names = ["Enabled", "SupportedOperationModes", "SupportedEnergyTransferModes"];
    let data: Vec<Value> = names.iter().map(|n| json!({"component": {"name": "V2XChargingCtrlr"}, "variable": {"name": n}})).collect();
    let r = kit::call(conn, "Q01", "GetVariables", json!({"getVariableData": data}), 10_000)?;
    let results = r["getVariableResult"].as_array().cloned().unwrap_or_default();
    Ok(names
        .iter()
        .map(|n| results.iter().find(|x| x["variable"]["name"] == *n && x["attributeStatus"] == "Accepted").and_then(|x| x["attributeValue"].as_str().map(str::to_string)))
        .collect())
}

/// The station, booted, doing bidirectional power transfer, and the operation modes it lists.
fn bidirectional() -> Step<(Connection, Vec<String>, Vec<Option<String>>)> {
    let conn = v201_cs::booted(300)?;
    let vars = v2x(&conn)?;
    if vars[0].as_deref().is_none_or(|v| !v.eq_ignore_ascii_case("true")) {
        return Err(Verdict::Skip("the station does no bidirectional power transfer (V2XChargingCtrlr.Enabled not true): this case's prerequisite".into()));
    }
    let modes = vars[1].clone().unwrap_or_default().split(',').map(|m| m.trim().to_string()).filter(|m| !m.is_empty()).collect();
    Ok((conn, modes, vars))
}

fn oh_21_q_01() -> Step {
    let (_conn, modes, vars) = bidirectional()?;
    kit::check(vars[1].is_some(), "Q01.FR.30", "V2XChargingCtrlr.SupportedOperationModes", || "not reported".into())?;
    let missing: Vec<&str> = ["ChargingOnly", "CentralSetpoint", "CentralFrequency"].into_iter().filter(|m| !modes.iter().any(|x| x == m)).collect();
    kit::soft_check(missing.is_empty(), "Q01.FR.31", "the operation modes ChargingOnly, CentralSetpoint and CentralFrequency", || format!("{modes:?}, without {missing:?}"));
    kit::soft_check(vars[2].as_deref().is_some_and(|v| !v.is_empty()), "Q01.FR.32", "V2XChargingCtrlr.SupportedEnergyTransferModes", || format!("{:?}", vars[2]));
    Ok(())
}

/// A TxDefaultProfile for the EVSE under test with one period of `period`'s fields.
fn profile(id: i64, period: Value) -> Value {
    let mut p = json!({"startPeriod": 0});
    for (k, v) in period.as_object().cloned().unwrap_or_default() {
        p[k] = v;
    }
    json!({"evseId": kit::evse_id(), "chargingProfile": {
        "id": id, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Relative",
        "chargingSchedule": [{"id": 1, "chargingRateUnit": "W", "chargingSchedulePeriod": [p]}],
    }})
}

/// SetChargingProfile is Rejected (hard) with `reason` as reasonCode (soft).
fn refused(conn: &Connection, req: &str, payload: Value, reason: &str) -> Step {
    let r = kit::call(conn, req, "SetChargingProfile", payload, 10_000)?;
    kit::check(r["status"] == "Rejected", req, "SetChargingProfile Rejected", || r.to_string())?;
    kit::soft_check(r["statusInfo"]["reasonCode"] == reason, req, format!("statusInfo reasonCode {reason}"), || r.to_string());
    Ok(())
}

fn oh_21_q_02() -> Step {
    let (conn, modes, _) = bidirectional()?;
    if !modes.iter().any(|m| m == "Idle") {
        return Err(Verdict::Skip("the station does not list the operation mode Idle".into()));
    }
    refused(&conn, "Q10.FR.02", profile(9_210, json!({"operationMode": "Idle", "limit": 3_000.0})), "InvalidSchedule")
}

fn oh_21_q_03() -> Step {
    let (conn, _, _) = bidirectional()?;
    let r = kit::call(&conn, "Q08.FR.11", "AFRRSignal", json!({"timestamp": now(), "signal": 10}), 10_000)?;
    kit::check(r["status"] == "Rejected", "Q08.FR.11", "AFRRSignal Rejected (no LocalFrequency period with a signal curve is active)", || r.to_string())?;
    kit::soft_check(r["statusInfo"]["reasonCode"] == "NoSignalWattCurve", "Q08.FR.11", "statusInfo reasonCode NoSignalWattCurve", || r.to_string());
    Ok(())
}

fn oh_21_q_04() -> Step {
    let (conn, modes, _) = bidirectional()?;
    if modes.iter().any(|m| m == "LocalLoadBalancing") {
        return Err(Verdict::Skip("the station lists LocalLoadBalancing: this case is for one that does not".into()));
    }
    refused(&conn, "Q09.FR.01", profile(9_211, json!({"operationMode": "LocalLoadBalancing", "limit": 7_000.0})), "UnsupportedParam")
}
