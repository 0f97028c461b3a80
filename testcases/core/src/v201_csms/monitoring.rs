//! Advanced device management for a CSMS DUT (part 6 §3.2 B08, §3.13 N02-N08; the Advanced
//! Device Management profile): when its operator asks (`csms-trigger`), the CSMS asks for a
//! custom report and a monitoring report with the criteria and variables asked, sets the
//! monitoring base, level and a monitor, clears one, and takes the station's event
//! notifications — each request holding what the operator asked, each answer of the station
//! taken, the CSMS still answering after it.
use serde_json::{Value, json};

use super::{STATION, operated_case, registered, still_in_step, triggered};
use crate::{
    Case,
    kit::{self, *},
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    operated_case(id, title, requirements, run).profile("advanced-device-management")
}

/// A case the station starts alone: no operator needed.
fn plain(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    Case::new(id, title, STATION, V201, requirements, run).timeout_ms(30_000).profile("advanced-device-management")
}

pub(super) fn cases() -> Vec<Case> {
    vec![
        case("TC_B_18_CSMS", "The CSMS asks a custom report by criterion and variable; takes EmptyResultSet, then a report", &["B08.FR.01", "B08.FR.03"], tc_b_18),
        case("TC_N_47_CSMS", "The CSMS asks for every monitor and takes the report", &["N02", "N02.FR.11"], tc_n_47),
        case("TC_N_01_CSMS", "The CSMS asks the monitors of one kind, then another, and takes the report", &["N02.FR.05", "N02.FR.10"], tc_n_01),
        case("TC_N_02_CSMS", "The CSMS asks the monitors of one variable, then of two, and takes the report", &["N02.FR.05", "N02.FR.10"], tc_n_02),
        case("TC_N_03_CSMS", "The CSMS asks monitors by kind and variable and takes the report", &["N02.FR.05", "N02.FR.10"], tc_n_03),
        case("TC_N_60_CSMS", "The CSMS asks monitors by kind and a list of variables and takes the report", &["N02.FR.05", "N02.FR.10"], tc_n_60),
        case("TC_N_05_CSMS", "The CSMS sets the monitoring base All, FactoryDefault and HardWiredOnly", &["N03.FR.03", "N03.FR.04", "N03.FR.05"], tc_n_05),
        case("TC_N_08_CSMS", "The CSMS sets a Delta monitor on an EVSE's AvailabilityState", &["N04.FR.01", "N04.FR.02", "N04.FR.17"], tc_n_08),
        case("TC_N_16_CSMS", "The CSMS sets the monitoring level", &["N05.FR.01"], tc_n_16),
        case("TC_N_17_CSMS", "A station refuses a monitoring level out of its range: the CSMS goes on", &["N05.FR.02"], tc_n_17),
        case("TC_N_18_CSMS", "The CSMS clears three monitors in requests no larger than the station's ItemsPerMessage", &["N06.FR.04"], tc_n_18),
        case("TC_N_44_CSMS", "A station refuses to clear a hard-wired monitor: the CSMS goes on", &["N06", "N06.FR.03"], tc_n_44),
        plain("TC_N_24_CSMS", "The CSMS answers a periodic monitoring event with an empty NotifyEventResponse", &["N08.FR.02"], tc_n_24),
        plain("TC_N_21_CSMS", "The CSMS answers an alert from a hard-wired monitor with an empty NotifyEventResponse", &["N07", "N07.FR.03"], tc_n_21),
        plain("TC_N_49_CSMS", "The CSMS answers a threshold event cleared after a reboot with an empty NotifyEventResponse", &["N07", "N07.FR.03"], tc_n_49),
        plain("TC_N_50_CSMS", "The CSMS answers a periodic event with an empty NotifyEventResponse", &["N08", "N08.FR.02"], tc_n_50),
    ]
}

/// EVSE 1's AvailabilityState and the station's Power, the variables part 6 names.
fn evse_state() -> Value {
    json!({"component": {"name": "EVSE", "evse": {"id": kit::evse_id()}}, "variable": {"name": "AvailabilityState"}})
}

fn station_power() -> Value {
    json!({"component": {"name": "ChargingStation"}, "variable": {"name": "Power"}})
}

fn station_state() -> Value {
    json!({"component": {"name": "ChargingStation"}, "variable": {"name": "AvailabilityState"}})
}

/// The operator has the CSMS send `action` with `asked`; each field asked is in the request
/// as asked (`req`), and the station answers `reply`. The request.
fn as_asked(conn: &Connection, req: &str, action: &str, asked: Value, reply: Value) -> Step<Value> {
    let sent = triggered(conn, req, action, asked.clone(), reply)?;
    for (field, wanted) in asked.as_object().cloned().unwrap_or_default() {
        if field == "requestId" {
            continue;
        }
        kit::check(sent[&field] == wanted, req, format!("{field} {wanted}, as the operator asked"), || format!("{field} {}", sent[&field]))?;
    }
    Ok(sent)
}

/// A monitor the station reports: a Delta of severity 8 on EVSE 1's AvailabilityState.
fn monitor_report(request_id: &Value) -> Value {
    let monitor = json!({"id": 1, "transaction": false, "value": 1, "type": "Delta", "severity": 8});
    let mut item = evse_state();
    item["variableMonitoring"] = json!([monitor]);
    json!({"requestId": request_id, "seqNo": 0, "generatedAt": kit::now(), "tbc": false, "monitor": [item]})
}

/// Part 6's pattern for N02: the operator's first request is answered EmptyResultSet
/// (N02.FR.10), the second Accepted with a report of one part, which the CSMS takes.
fn monitoring_reports(first: Value, second: Value) -> Step {
    let conn = registered()?;
    as_asked(&conn, "N02.FR.10", "GetMonitoringReport", with_request_id(first), json!({"status": "EmptyResultSet"}))?;
    let sent = as_asked(&conn, "N02.FR.05", "GetMonitoringReport", with_request_id(second), json!({"status": "Accepted"}))?;
    kit::call(&conn, "N02.FR.05", "NotifyMonitoringReport", monitor_report(&sent["requestId"]), 10_000).map(drop)
}

fn with_request_id(mut v: Value) -> Value {
    v["requestId"] = json!(kit::unique_number());
    v
}

fn tc_n_47() -> Step {
    let conn = registered()?;
    let sent = as_asked(&conn, "N02.FR.11", "GetMonitoringReport", with_request_id(json!({})), json!({"status": "Accepted"}))?;
    kit::check(sent.get("monitoringCriteria").is_none() && sent.get("componentVariable").is_none(), "N02.FR.11", "no monitoringCriteria and no componentVariable: every monitor", || sent.to_string())?;
    kit::call(&conn, "N02.FR.11", "NotifyMonitoringReport", monitor_report(&sent["requestId"]), 10_000).map(drop)
}

fn tc_n_01() -> Step {
    monitoring_reports(json!({"monitoringCriteria": ["DeltaMonitoring"]}), json!({"monitoringCriteria": ["ThresholdMonitoring"]}))
}

fn tc_n_02() -> Step {
    monitoring_reports(json!({"componentVariable": [station_power()]}), json!({"componentVariable": [station_power(), evse_state()]}))
}

fn tc_n_03() -> Step {
    monitoring_reports(
        json!({"monitoringCriteria": ["DeltaMonitoring"], "componentVariable": [evse_state()]}),
        json!({"monitoringCriteria": ["ThresholdMonitoring"], "componentVariable": [station_power()]}),
    )
}

fn tc_n_60() -> Step {
    let both = json!([station_state(), evse_state()]);
    monitoring_reports(json!({"monitoringCriteria": ["DeltaMonitoring"], "componentVariable": both}), json!({"monitoringCriteria": ["ThresholdMonitoring"], "componentVariable": both}))
}

fn tc_n_05() -> Step {
    let conn = registered()?;
    for (req, base) in [("N03.FR.03", "All"), ("N03.FR.04", "FactoryDefault"), ("N03.FR.05", "HardWiredOnly")] {
        as_asked(&conn, req, "SetMonitoringBase", json!({"monitoringBase": base}), json!({"status": "Accepted"}))?;
    }
    still_in_step(&conn, "N03")
}

/// One SetMonitoringData: a Delta of severity 8 and value 1 (N04.FR.17 recommends 1 for a
/// variable that is not numeric) on EVSE 1's AvailabilityState, Accepted with an id.
fn tc_n_08() -> Step {
    let conn = registered()?;
    let mut data = evse_state();
    data["type"] = json!("Delta");
    data["severity"] = json!(8);
    data["value"] = json!(1);
    kit::csms_trigger(&conn, "SetVariableMonitoring", json!({"setMonitoringData": [data]}))?;
    let call = kit::expect(&conn, "N04.FR.01", "SetVariableMonitoring", 15_000)?;
    let sent = call.payload["setMonitoringData"].as_array().cloned().unwrap_or_default();
    kit::check(sent.len() == 1, "N04.FR.01", "one setMonitoringData, as the operator asked", || format!("{} elements", sent.len()))?;
    let d = &sent[0];
    for field in ["type", "severity", "component", "variable"] {
        kit::check(d[field] == data[field], "N04.FR.02", format!("{field} {}, as the operator asked", data[field]), || format!("{field} {}", d[field]))?;
    }
    kit::should(d["value"].as_f64() == Some(1.0), "N04.FR.17", "monitorValue 1 for a Delta on a variable that is not numeric", || format!("value {}", d["value"]));
    let result = json!({"setMonitoringResult": [{"id": 1, "status": "Accepted", "type": d["type"], "severity": d["severity"], "component": d["component"], "variable": d["variable"]}]});
    kit::reply(&conn, "N04.FR.01", &call, "SetVariableMonitoring", result)?;
    still_in_step(&conn, "N04")
}

fn tc_n_16() -> Step {
    let conn = registered()?;
    as_asked(&conn, "N05.FR.01", "SetMonitoringLevel", json!({"severity": 4}), json!({"status": "Accepted"}))?;
    still_in_step(&conn, "N05")
}

fn tc_n_17() -> Step {
    let conn = registered()?;
    as_asked(&conn, "N05.FR.02", "SetMonitoringLevel", json!({"severity": 10}), json!({"status": "Rejected"}))?;
    still_in_step(&conn, "N05.FR.02")
}

fn tc_n_44() -> Step {
    let conn = registered()?;
    as_asked(&conn, "N06.FR.03", "ClearVariableMonitoring", json!({"id": [1]}), json!({"clearMonitoringResult": [{"id": 1, "status": "Rejected"}]}))?;
    still_in_step(&conn, "N06.FR.03")
}

/// A NotifyEvent of one eventData (`extra` merged in) answered, empty (N07.FR.03, N08.FR.02:
/// the schema says what an empty answer may hold; the answer must come).
fn event(req: &str, extra: Value) -> Step {
    let conn = registered()?;
    let mut data = json!({"eventId": kit::unique_number(), "timestamp": kit::now(), "trigger": "Periodic", "actualValue": "Available", "eventNotificationType": "CustomMonitor", "variableMonitoringId": 1});
    if let (Some(a), Some(b)) = (data.as_object_mut(), extra.as_object()) {
        a.extend(b.clone());
    }
    let state = evse_state();
    data["component"] = state["component"].clone();
    data["variable"] = state["variable"].clone();
    let r = kit::call(&conn, req, "NotifyEvent", json!({"generatedAt": kit::now(), "seqNo": 0, "tbc": false, "eventData": [data]}), 10_000)?;
    kit::check(r.as_object().is_some_and(|o| o.keys().all(|k| k == "customData")), req, "an empty NotifyEventResponse", || r.to_string())
}

fn tc_n_24() -> Step {
    event("N08.FR.02", json!({}))
}

fn tc_n_21() -> Step {
    event("N07.FR.03", json!({"trigger": "Alerting", "eventNotificationType": "HardWiredMonitor", "actualValue": "Faulted"}))
}

fn tc_n_49() -> Step {
    event("N07.FR.03", json!({"trigger": "Alerting", "cleared": true, "eventNotificationType": "CustomMonitor"}))
}

fn tc_n_50() -> Step {
    event("N08.FR.02", json!({}))
}

/// B08 for a CSMS: a criterion no EVSE meets (Problem) answered EmptyResultSet; then
/// Available, Accepted, and a report of the EVSE's AvailabilityState.
fn tc_b_18() -> Step {
    let conn = registered()?;
    let problem = json!({"requestId": kit::unique_number(), "componentCriteria": ["Problem"], "componentVariable": [evse_state()]});
    as_asked(&conn, "B08.FR.01", "GetReport", problem, json!({"status": "EmptyResultSet"}))?;
    let available = json!({"requestId": kit::unique_number(), "componentCriteria": ["Available"], "componentVariable": [evse_state()]});
    let sent = as_asked(&conn, "B08.FR.01", "GetReport", available, json!({"status": "Accepted"}))?;
    let mut item = evse_state();
    item["variableAttribute"] = json!([{"value": "Available", "mutability": "ReadOnly"}]);
    item["variableCharacteristics"] = json!({"dataType": "OptionList", "valuesList": "Available,Occupied,Reserved,Unavailable,Faulted", "supportsMonitoring": true});
    let part = json!({"requestId": sent["requestId"], "generatedAt": kit::now(), "seqNo": 0, "tbc": false, "reportData": [item]});
    kit::call(&conn, "B08.FR.03", "NotifyReport", part, 10_000).map(drop)
}

/// The operator clears three monitors; the CSMS asks the station's
/// ItemsPerMessage[ClearVariableMonitoring] (1 here) and sends as many requests as that takes,
/// none with more ids (N06.FR.04), together every id asked.
fn tc_n_18() -> Step {
    let conn = registered()?;
    conn.claim(&["GetVariables".into(), "ClearVariableMonitoring".into()]);
    let asked = [1, 2, 3];
    kit::csms_trigger(&conn, "ClearVariableMonitoring", json!({"id": asked}))?;
    let get = kit::expect(&conn, "N06.FR.04", "GetVariables", 15_000)?;
    let item = get.payload["getVariableData"].as_array().and_then(|a| a.first()).cloned().unwrap_or_default();
    let about = item["component"]["name"] == "MonitoringCtrlr" && item["variable"]["name"] == "ItemsPerMessage" && item["variable"]["instance"] == "ClearVariableMonitoring";
    kit::check(about, "N06.FR.04", "GetVariables of MonitoringCtrlr.ItemsPerMessage[ClearVariableMonitoring]", || get.payload.to_string())?;
    let result = json!({"getVariableResult": [{"attributeStatus": "Accepted", "attributeValue": "1", "component": item["component"], "variable": item["variable"]}]});
    kit::reply(&conn, "N06.FR.04", &get, "GetVariables", result)?;
    let mut cleared = vec![];
    while cleared.len() < asked.len() {
        let call = kit::expect(&conn, "N06.FR.04", "ClearVariableMonitoring", 15_000)?;
        let ids = call.payload["id"].as_array().cloned().unwrap_or_default();
        kit::check(ids.len() <= 1, "N06.FR.04", "at most 1 id per ClearVariableMonitoring, as the station's ItemsPerMessage says", || call.payload.to_string())?;
        let results: Vec<Value> = ids.iter().map(|id| json!({"id": id, "status": "Accepted"})).collect();
        kit::reply(&conn, "N06.FR.04", &call, "ClearVariableMonitoring", json!({"clearMonitoringResult": results}))?;
        cleared.extend(ids.iter().filter_map(Value::as_i64));
    }
    cleared.sort_unstable();
    kit::check(cleared == asked, "N06.FR.04", format!("every id the operator asked cleared: {asked:?}"), || format!("{cleared:?}"))
}
