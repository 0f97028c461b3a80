//! Block R at 2.1, DER control, for a charging-station DUT (the harness is the CSMS): the
//! controls R04 configures — default and scheduled, superseded by priority, reported, cleared,
//! started and stopped on time. The control types used are those the station lists in
//! ACDERCtrlr (or DCDERCtrlr) ModesSupported at the EVSE under test; a station without either
//! has no DER control and these cases skip. OCPP 2.1 has no part 6: the ids are our own,
//! numbered within the block.
use serde_json::{Value, json};

use crate::{
    Case,
    kit::{self, *},
    v201_cs,
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    Case::new(id, title, Role::Csms, V21, requirements, run).profile("der-control").timeout_ms(30_000)
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        case("OH_21_R_01_CS", "A default DER control is Accepted and GetDERControl reports it, not superseded, under the request's id", &["R04.FR.02", "R04.FR.31", "R04.FR.35"], oh_21_r_01),
        case("OH_21_R_02_CS", "A default DER control with a lower priority value supersedes the one of its type before it", &["R04.FR.03", "R04.FR.34"], oh_21_r_02),
        case("OH_21_R_03_CS", "GetDERControl and ClearDERControl of a control id the station does not have: NotFound", &["R04.FR.30", "R04.FR.42"], oh_21_r_03),
        case("OH_21_R_04_CS", "A DER control type the station does not support: SetDERControl, GetDERControl and ClearDERControl answer NotSupported", &["R04.FR.01", "R04.FR.36", "R04.FR.43"], oh_21_r_04),
        case("OH_21_R_05_CS", "ClearDERControl of a type clears its controls: then nothing of it is found or cleared", &["R04.FR.45", "R04.FR.30", "R04.FR.41"], oh_21_r_05),
        case(
            "OH_21_R_06_CS",
            "A scheduled DER control is Accepted, its start and its end are told by NotifyDERStartStop, and it is gone after",
            &["R04.FR.05", "R04.FR.20", "R04.FR.22", "R04.FR.10"],
            oh_21_r_06,
        ),
        case("OH_21_R_07_CS", "GetDERControl of every control reports them all in parts, each but the last with tbc", &["R04.FR.33", "R04.FR.32", "R04.FR.31"], oh_21_r_07),
    ]
}

/// Every DER control type (DERControlEnumType).
const ALL_TYPES: [&str; 22] = [
    "EnterService", "FreqDroop", "FreqWatt", "FixedPFAbsorb", "FixedPFInject", "FixedVar", "Gradients", "HFMustTrip", "HFMayTrip", "HVMustTrip", "HVMomCess",
    "HVMayTrip", "LimitMaxDischarge", "LFMustTrip", "LVMustTrip", "LVMomCess", "LVMayTrip", "PowerMonitoringMustTrip", "VoltVar", "VoltWatt", "WattPF", "WattVar",
];

/// The control types the station supports, from its device model; a station with none skips.
fn supported(conn: &Connection) -> Step<Vec<String>> {
    let evse = json!({"id": kit::evse_id()});
    for component in ["ACDERCtrlr", "DCDERCtrlr"] {
        let read = json!({"getVariableData": [{"component": {"name": component, "evse": evse}, "variable": {"name": "ModesSupported"}}]});
        let r = kit::call(conn, "R04", "GetVariables", read, 10_000)?;
        let result = &r["getVariableResult"][0];
        if result["attributeStatus"] == "Accepted" {
            let list: Vec<String> = result["attributeValue"].as_str().unwrap_or_default().split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
            if !list.is_empty() {
                return Ok(list);
            }
        }
    }
    Err(Verdict::Skip("the station has no DER control (no ModesSupported in ACDERCtrlr or DCDERCtrlr at the EVSE): this case's prerequisite".into()))
}

/// The request field a control type's settings go in.
fn field(kind: &str) -> &'static str {
    match kind {
        "FixedPFAbsorb" => "fixedPFAbsorb",
        "FixedPFInject" => "fixedPFInject",
        "FixedVar" => "fixedVar",
        "LimitMaxDischarge" => "limitMaxDischarge",
        "FreqDroop" => "freqDroop",
        "EnterService" => "enterService",
        "Gradients" => "gradient",
        _ => "curve",
    }
}

/// Whether a control of `kind` can be scheduled (its settings have startTime and duration).
fn schedulable(kind: &str) -> bool {
    !matches!(kind, "EnterService" | "Gradients")
}

/// Settings of `kind` at `priority`, within the ranges a grid code would give.
fn settings(kind: &str, priority: i64) -> Value {
    match field(kind) {
        "fixedPFAbsorb" | "fixedPFInject" => json!({"priority": priority, "displacement": 0.95, "excitation": true}),
        "fixedVar" => json!({"priority": priority, "setpoint": 10.0, "unit": "PctMaxVar"}),
        "limitMaxDischarge" => json!({"priority": priority, "pctMaxDischargePower": 50.0}),
        "freqDroop" => json!({"priority": priority, "overFreq": 50.2, "underFreq": 49.8, "overDroop": 5.0, "underDroop": 5.0, "responseTime": 1.0}),
        "enterService" => json!({"priority": priority, "highVoltage": 253.0, "lowVoltage": 207.0, "highFreq": 50.2, "lowFreq": 49.8}),
        "gradient" => json!({"priority": priority, "gradient": 10.0, "softGradient": 5.0}),
        _ => json!({"priority": priority, "yUnit": "PctMaxVar", "curveData": [{"x": 92.0, "y": 30.0}, {"x": 108.0, "y": -30.0}]}),
    }
}

fn set(conn: &Connection, req: &str, id: &str, kind: &str, is_default: bool, settings: Value) -> Step<Value> {
    let mut p = json!({"isDefault": is_default, "controlId": id, "controlType": kind});
    p[field(kind)] = settings;
    kit::call(conn, req, "SetDERControl", p, 10_000)
}

fn accepted(conn: &Connection, req: &str, id: &str, kind: &str, is_default: bool, settings: Value) -> Step<Value> {
    let r = set(conn, req, id, kind, is_default, settings)?;
    kit::check(r["status"] == "Accepted", req, format!("SetDERControl {kind} {id} Accepted"), || r.to_string())?;
    Ok(r)
}

/// A fresh control id (a station keeps controls; the baseline clears a case's own).
fn control_id(tag: &str) -> String {
    format!("OH-{tag}-{}", kit::unique_number())
}

const REPORT: PagedReport = PagedReport {
    request: "GetDERControl",
    notify: "ReportDERControl",
    items: "*",
    answered: "R04.FR.33",
    part: "R04.FR.32",
    same_request: "R04.FR.31",
    numbered: None,
};

/// GetDERControl with `filter`: the status and the controls reported.
fn reported(conn: &Connection, filter: Value) -> Step<(String, Vec<Value>)> {
    kit::paged_report(conn, &REPORT, filter)
}

fn the_station() -> Step<(Connection, Vec<String>)> {
    let conn = v201_cs::booted(300)?;
    let kinds = supported(&conn)?;
    Ok((conn, kinds))
}

fn oh_21_r_01() -> Step {
    let (conn, kinds) = the_station()?;
    let (kind, id) = (kinds[0].as_str(), control_id("R01"));
    accepted(&conn, "R04.FR.02", &id, kind, true, settings(kind, 5))?;
    let (status, controls) = reported(&conn, json!({"controlId": id}))?;
    kit::check(status == "Accepted", "R04.FR.35", format!("GetDERControl of {id} Accepted"), || status.clone())?;
    let found = controls.iter().find(|c| c["id"] == id.as_str());
    kit::check(found.is_some(), "R04.FR.35", format!("control {id} in the report"), || format!("{controls:?}"))?;
    let c = found.expect("checked");
    kit::soft_check(c.get("isDefault").is_none_or(|d| d == true) && c.get("isSuperseded").is_none_or(|s| s == false), "R04.FR.02", "isDefault true, isSuperseded false", || c.to_string());
    Ok(())
}

fn oh_21_r_02() -> Step {
    let (conn, kinds) = the_station()?;
    let kind = kinds[0].as_str();
    let (first, second) = (control_id("R02A"), control_id("R02B"));
    accepted(&conn, "R04", &first, kind, true, settings(kind, 5))?;
    let r = accepted(&conn, "R04.FR.03", &second, kind, true, settings(kind, 2))?;
    let listed = r["supersededIds"].as_array().is_some_and(|ids| ids.iter().any(|i| i == first.as_str()));
    kit::soft_check(listed, "R04.FR.03", format!("supersededIds naming {first}"), || r.to_string());
    let (status, controls) = reported(&conn, json!({"controlType": kind, "isDefault": true}))?;
    kit::check(status == "Accepted", "R04.FR.34", format!("GetDERControl of the default {kind} controls Accepted"), || status.clone())?;
    let state = |id: &str| controls.iter().find(|c| c["id"] == id).map(|c| c["isSuperseded"].clone());
    kit::soft_check(state(&first) == Some(json!(true)), "R04.FR.03", format!("{first} reported with isSuperseded true"), || format!("{:?}", state(&first)));
    kit::soft_check(state(&second) == Some(json!(false)), "R04.FR.03", format!("{second} reported with isSuperseded false"), || format!("{:?}", state(&second)));
    Ok(())
}

fn oh_21_r_03() -> Step {
    let (conn, _) = the_station()?;
    let id = control_id("R03-NONE");
    let (status, _) = reported(&conn, json!({"controlId": id}))?;
    kit::soft_check(status == "NotFound", "R04.FR.30", format!("GetDERControl of {id}, which was never set: NotFound"), || status.clone());
    let r = kit::call(&conn, "R04.FR.42", "ClearDERControl", json!({"isDefault": true, "controlId": id}), 10_000)?;
    kit::soft_check(r["status"] == "NotFound", "R04.FR.42", format!("ClearDERControl of {id}: NotFound"), || r.to_string());
    Ok(())
}

fn oh_21_r_04() -> Step {
    let (conn, kinds) = the_station()?;
    let Some(kind) = ALL_TYPES.iter().find(|t| !kinds.iter().any(|k| k == *t)) else {
        return Err(Verdict::Skip("the station supports every DER control type: none to be refused".into()));
    };
    let r = set(&conn, "R04.FR.01", &control_id("R04"), kind, true, settings(kind, 5))?;
    kit::soft_check(r["status"] == "NotSupported", "R04.FR.01", format!("SetDERControl of {kind}, which ModesSupported does not list: NotSupported"), || r.to_string());
    let r = kit::call(&conn, "R04.FR.36", "GetDERControl", json!({"requestId": kit::unique_number(), "controlType": kind}), 10_000)?;
    kit::soft_check(r["status"] == "NotSupported", "R04.FR.36", format!("GetDERControl of {kind}: NotSupported"), || r.to_string());
    let r = kit::call(&conn, "R04.FR.43", "ClearDERControl", json!({"isDefault": true, "controlType": kind}), 10_000)?;
    // R04.FR.43 says "returns", not SHALL: a warning.
    kit::should(r["status"] == "NotSupported", "R04.FR.43", format!("ClearDERControl of {kind}: NotSupported"), || r.to_string());
    Ok(())
}

fn oh_21_r_05() -> Step {
    let (conn, kinds) = the_station()?;
    let kind = kinds[0].as_str();
    accepted(&conn, "R04", &control_id("R05"), kind, true, settings(kind, 5))?;
    let clear = json!({"isDefault": true, "controlType": kind});
    let r = kit::call(&conn, "R04.FR.45", "ClearDERControl", clear.clone(), 10_000)?;
    kit::check(r["status"] == "Accepted", "R04.FR.45", format!("ClearDERControl of the default {kind} controls Accepted"), || r.to_string())?;
    let (status, _) = reported(&conn, json!({"controlType": kind, "isDefault": true}))?;
    kit::soft_check(status == "NotFound", "R04.FR.30", format!("GetDERControl of the default {kind} controls after the clear: NotFound"), || status.clone());
    let r = kit::call(&conn, "R04.FR.41", "ClearDERControl", clear, 10_000)?;
    // R04.FR.41 says "returns", not SHALL: a warning.
    kit::should(r["status"] == "NotFound", "R04.FR.41", format!("a second ClearDERControl of the default {kind} controls: NotFound"), || r.to_string());
    Ok(())
}

fn oh_21_r_06() -> Step {
    let (conn, kinds) = the_station()?;
    let Some(kind) = kinds.iter().find(|k| schedulable(k)) else {
        return Err(Verdict::Skip("the station supports no DER control type with a start time".into()));
    };
    conn.claim(&["NotifyDERStartStop".into()]);
    let id = control_id("R06");
    let mut s = settings(kind, 5);
    s["startTime"] = json!(kit::time_from_now(3));
    s["duration"] = json!(3.0);
    accepted(&conn, "R04.FR.05", &id, kind, false, s)?;
    let tolerance = kit::config::lab_timing().tolerance_ms;
    let start = kit::expect_and_reply(&conn, "R04.FR.20", "NotifyDERStartStop", 3_000 + tolerance + 1_000, json!({}))?;
    kit::check(start["controlId"] == id.as_str() && start["started"] == true, "R04.FR.20", format!("NotifyDERStartStop for {id} with started true at its startTime"), || start.to_string())?;
    let end = kit::expect_and_reply(&conn, "R04.FR.22", "NotifyDERStartStop", 3_000 + tolerance + 1_000, json!({}))?;
    kit::check(end["controlId"] == id.as_str() && end["started"] == false, "R04.FR.22", format!("NotifyDERStartStop for {id} with started false once its duration is over"), || end.to_string())?;
    let (status, _) = reported(&conn, json!({"controlId": id}))?;
    kit::soft_check(status == "NotFound", "R04.FR.10", format!("{id} deleted once over: GetDERControl NotFound"), || status.clone());
    Ok(())
}

fn oh_21_r_07() -> Step {
    let (conn, kinds) = the_station()?;
    // Three defaults, of different types where the station has them (one type each keeps
    // them all in force).
    let ids: Vec<String> = (0..3).map(|n| control_id(&format!("R07{n}"))).collect();
    for (n, id) in ids.iter().enumerate() {
        let kind = kinds[n % kinds.len()].as_str();
        accepted(&conn, "R04", id, kind, true, settings(kind, 5 - n as i64))?;
    }
    let (status, controls) = reported(&conn, json!({}))?;
    kit::check(status == "Accepted", "R04.FR.33", "GetDERControl of every control Accepted", || status.clone())?;
    let missing: Vec<&String> = ids.iter().filter(|id| !controls.iter().any(|c| c["id"] == id.as_str())).collect();
    kit::check(missing.is_empty(), "R04.FR.33", "every control set in the report (parts until tbc false)", || format!("missing {missing:?} from {} reported", controls.len()))
}
