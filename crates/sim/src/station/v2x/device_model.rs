//! The 2.x device model report of the reference station (B07): every setting with its
//! characteristics (data type, and the allowed values of list types), plus the physical
//! components — the station, each EVSE and its connector — with their availability.
use serde_json::{Value, json};

use super::super::Station;
use super as v2x;
use crate::Fault;

/// Allowed values of the list-typed variables, by `Component.Variable` (instance left off).
const LISTS: &[(&str, &str, &str)] = &[
    ("TxCtrlr.TxStartPoint", "MemberList", "ParkingBayOccupancy,EVConnected,Authorized,PowerPathClosed,EnergyTransfer"),
    ("TxCtrlr.TxStopPoint", "MemberList", "ParkingBayOccupancy,EVConnected,Authorized,PowerPathClosed,EnergyTransfer"),
    ("OCPPCommCtrlr.FileTransferProtocols", "MemberList", "HTTPS,FTP,FTPS"),
    ("OCPPCommCtrlr.NetworkConfigurationPriority", "SequenceList", "1,2"),
    ("ClockCtrlr.TimeSource", "SequenceList", "Heartbeat,NTP,RealTimeClock"),
    ("SampledDataCtrlr.TxStartedMeasurands", "MemberList", "Energy.Active.Import.Register"),
    ("SampledDataCtrlr.TxUpdatedMeasurands", "MemberList", "Energy.Active.Import.Register"),
    ("SampledDataCtrlr.TxEndedMeasurands", "MemberList", "Energy.Active.Import.Register"),
    ("AlignedDataCtrlr.Measurands", "MemberList", "Energy.Active.Import.Register"),
    ("AlignedDataCtrlr.TxEndedMeasurands", "MemberList", "Energy.Active.Import.Register"),
    ("ChargingStation.AvailabilityState", "OptionList", "Available,Occupied,Reserved,Unavailable,Faulted"),
    ("DisplayMessageCtrlr.SupportedPriorities", "MemberList", "AlwaysFront,InFront,NormalCycle"),
    ("DisplayMessageCtrlr.SupportedFormats", "MemberList", "ASCII,HTML,URI,UTF8"),
];

/// The data type of a setting, from its list entry or its name and value.
/// A variable's characteristics, from its factory `value`: its data type does not change with
/// what the CSMS writes into it.
pub(super) fn characteristics(key: &str, value: &str) -> Value {
    let plain = key.split('[').next().unwrap_or(key);
    if let Some((_, kind, values)) = LISTS.iter().find(|(k, _, _)| *k == plain) {
        return json!({"dataType": kind, "valuesList": values, "supportsMonitoring": false});
    }
    if plain == "DisplayMessageCtrlr.DisplayMessages" {
        return json!({"dataType": "integer", "maxLimit": super::display::CAPACITY, "supportsMonitoring": false});
    }
    let kind = if value == "true" || value == "false" {
        "boolean"
    } else if plain.ends_with("DateTime") {
        "dateTime"
    } else if !value.is_empty() && value.chars().all(|c| c.is_ascii_digit()) {
        "integer"
    } else if value.contains('.') && value.parse::<f64>().is_ok() {
        "decimal"
    } else {
        "string"
    };
    json!({"dataType": kind, "supportsMonitoring": false})
}

fn variable(component: Value, variable: Value, value: &str, read_only: bool, characteristics: Value) -> Value {
    json!({"component": component, "variable": variable, "variableCharacteristics": characteristics,
           "variableAttribute": [{"type": "Actual", "value": value, "mutability": if read_only { "ReadOnly" } else { "ReadWrite" }}]})
}

/// Everything a FullInventory report holds.
pub(in crate::station) fn report(st: &Station) -> Vec<Value> {
    let mut data: Vec<Value> = st
        .settings
        .iter()
        .filter(|(k, _)| !(st.cfg.faults.has(&Fault::IncompleteDeviceModel) && k.starts_with("TxCtrlr.")) && v2x::exposed(st, k))
        .map(|(k, (v, ro))| {
            let (component, var) = v2x::key_parts(k);
            variable(component, var, v, *ro, characteristics(k, &v2x::factory_value(st, k, v)))
        })
        .collect();
    let now = ocpp_core::defaults::now_rfc3339();
    data.push(variable(json!({"name": "ClockCtrlr"}), json!({"name": "DateTime"}), &now, true, json!({"dataType": "dateTime", "supportsMonitoring": false})));
    data.push(variable(json!({"name": "SecurityCtrlr"}), json!({"name": "CertificateEntries"}), &st.certificates.len().to_string(), true, json!({"dataType": "integer", "supportsMonitoring": false})));
    let boolean = json!({"dataType": "boolean", "supportsMonitoring": false});
    let integer = json!({"dataType": "integer", "supportsMonitoring": false});
    let states = json!({"dataType": "OptionList", "valuesList": "Available,Occupied,Reserved,Unavailable,Faulted", "supportsMonitoring": false});
    data.push(variable(json!({"name": "ChargingStation"}), json!({"name": "Available"}), "true", true, boolean.clone()));
    data.push(variable(json!({"name": "ChargingStation"}), json!({"name": "SupplyPhases"}), "3", true, integer.clone()));
    let station_max = 22_000.0 * st.evses.len() as f64;
    let power = json!({"dataType": "decimal", "unit": "W", "minLimit": 0.0, "maxLimit": station_max, "supportsMonitoring": true});
    data.push(variable(json!({"name": "ChargingStation"}), json!({"name": "Power"}), &format!("{:.1}", st.panel.power_w()), true, power));
    for e in &st.evses {
        let evse = json!({"name": "EVSE", "evse": {"id": e.id}});
        let connector = json!({"name": "Connector", "evse": {"id": e.id, "connectorId": 1}});
        let state = v2x::status_of(e);
        data.push(variable(evse.clone(), json!({"name": "Available"}), &e.operative.to_string(), true, boolean.clone()));
        data.push(variable(evse.clone(), json!({"name": "AvailabilityState"}), state, true, states.clone()));
        data.push(variable(evse.clone(), json!({"name": "SupplyPhases"}), "3", true, integer.clone()));
        data.push(json!({"component": evse, "variable": {"name": "Power"},
                         "variableCharacteristics": {"dataType": "decimal", "unit": "W", "maxLimit": 22000.0, "supportsMonitoring": false},
                         "variableAttribute": [{"type": "MaxSet", "value": "22000", "mutability": "ReadOnly"}]}));
        data.push(variable(connector.clone(), json!({"name": "Available"}), &e.operative.to_string(), true, boolean.clone()));
        data.push(variable(connector.clone(), json!({"name": "ConnectorType"}), "cType2", true, json!({"dataType": "string", "supportsMonitoring": false})));
        data.push(variable(connector, json!({"name": "SupplyPhases"}), "3", true, integer.clone()));
        for c in 2..=1 + e.spare_connectors {
            let spare = json!({"name": "Connector", "evse": {"id": e.id, "connectorId": c}});
            data.push(variable(spare.clone(), json!({"name": "Available"}), &e.operative.to_string(), true, boolean.clone()));
            data.push(variable(spare, json!({"name": "ConnectorType"}), "cCCS2", true, json!({"dataType": "string", "supportsMonitoring": false})));
        }
    }
    data
}

/// GetReport (B08): the variables of `report` the request selects, or its status when none
/// is (EmptyResultSet, B08.FR.15) — by componentVariable (B08.FR.11, .20-.25: a part left out
/// matches every value of it) and by componentCriteria (B08.FR.07-.10, .13: any of them).
pub(in crate::station) fn custom_report(st: &Station, p: &Value) -> Result<Vec<Value>, &'static str> {
    let data = report(st);
    let criteria: Vec<&str> = p["componentCriteria"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let wanted = p["componentVariable"].as_array().cloned().unwrap_or_default();
    let value_of = |component: &Value, name: &str| {
        data.iter().find(|d| d["component"] == *component && d["variable"]["name"] == name && d["variable"].get("instance").is_none()).map(|d| d["variableAttribute"][0]["value"].clone())
    };
    let meets = |component: &Value| {
        criteria.is_empty()
            || criteria.iter().any(|c| match *c {
                "Problem" => value_of(component, "Problem").is_some_and(|v| v == "true"),
                other => value_of(component, other).is_none_or(|v| v == "true"),
            })
    };
    let loose = st.cfg.faults.has(&Fault::IgnoreReportCriteria);
    let chosen: Vec<Value> = data.iter().filter(|d| loose || (selected(&wanted, &d["component"], &d["variable"]) && meets(&d["component"]))).cloned().collect();
    if chosen.is_empty() { Err("EmptyResultSet") } else { Ok(chosen) }
}

/// Whether `component` and `variable` are what one of `wanted` (a request's componentVariable
/// list; empty: all) names, a part left out matching every value of it: the same rules for a
/// report's variables (B08.FR.20-25) and for monitors (N02.FR.16-21).
pub(super) fn selected(wanted: &[Value], component: &Value, variable: &Value) -> bool {
    wanted.is_empty()
        || wanted.iter().any(|w| {
            let (c, v) = (&w["component"], &w["variable"]);
            let evse_ok = match (c.get("evse"), component.get("evse")) {
                (None, _) => true,
                (Some(want), Some(have)) => want["id"] == have["id"] && want.get("connectorId").is_none_or(|k| Some(k) == have.get("connectorId")),
                (Some(_), None) => false,
            };
            c["name"] == component["name"]
                && c.get("instance").is_none_or(|i| Some(i) == component.get("instance"))
                && evse_ok
                && (v.is_null() || (v["name"] == variable["name"] && v.get("instance").is_none_or(|i| Some(i) == variable.get("instance"))))
        })
}
