//! The baseline every case starts from (OCTT part 6, general pre-conditions): the station is
//! registered, no transaction is going on, every EVSE is operative, and the settings a case
//! changed have their earlier values again. A case's CALLs go through `call`, which records
//! what they change (`changes`, with the values read just before, `read_request`); `restore`
//! sets it back.
use std::time::Duration;

use serde_json::{Value, json};

use ocpp_core::{model::Undo, session::{CallOutcome, Connection, Mode, SessionError}, version::OcppVersion};

/// One setting as read before a change: (component or 1.6 key, variable or null, value).
pub type Before = Vec<(Value, Value, Option<String>)>;

/// Settings that are written, never read back: the baseline cannot restore them.
fn write_only(component: &Value, variable: &Value) -> bool {
    (component["name"] == "SecurityCtrlr" && variable["name"] == "BasicAuthPassword") || component == "AuthorizationKey"
}

/// Send a CALL on behalf of a case and wait for the answer. While a case holds a connection
/// whose station the harness models (harness as CSMS), the settings and availability the CALL
/// changes are recorded first, their values read beforehand, so that `restore` can set them
/// back after the case.
pub async fn call(conn: &Connection, action: &str, payload: Value, timeout: Duration) -> Result<CallOutcome, SessionError> {
    let Some(model) = conn.model().filter(|_| conn.mode() == Mode::Case) else { return conn.call(action, payload, timeout).await };
    let before = read_before_change(conn, action, &payload, timeout).await;
    let outcome = conn.call(action, payload.clone(), timeout).await?;
    if let CallOutcome::Result(r) = &outcome {
        let mut m = model.lock().unwrap();
        for undo in changes(conn.version(), action, &payload, r, &before) {
            m.remember(undo);
        }
    }
    Ok(outcome)
}

/// The values a SetVariables / ChangeConfiguration is about to change, as the DUT reports
/// them now (None where it does not say).
async fn read_before_change(conn: &Connection, action: &str, payload: &Value, timeout: Duration) -> Before {
    let Some((read, payload)) = read_request(conn.version(), action, payload) else { return vec![] };
    conn.trace().log("baseline", format!("reading the current values before {action}, to restore them after the case"));
    match conn.call(read, payload, timeout).await {
        Ok(CallOutcome::Result(r)) => read_values(conn.version(), &r),
        _ => vec![],
    }
}

/// The CALL that reads the settings `action` is about to change, if it changes any.
fn read_request(version: OcppVersion, action: &str, payload: &Value) -> Option<(&'static str, Value)> {
    match (version, action) {
        (OcppVersion::V16, "ChangeConfiguration") => {
            let key = payload["key"].as_str().filter(|k| !write_only(&json!(k), &Value::Null))?;
            Some(("GetConfiguration", json!({"key": [key]})))
        }
        (OcppVersion::V201 | OcppVersion::V21, "SetVariables") => {
            let data: Vec<Value> = payload["setVariableData"]
                .as_array()?
                .iter()
                .filter(|d| !write_only(&d["component"], &d["variable"]))
                .map(|d| {
                    let mut g = json!({"component": d["component"], "variable": d["variable"]});
                    if let Some(t) = d.get("attributeType") {
                        g["attributeType"] = t.clone();
                    }
                    g
                })
                .collect();
            (!data.is_empty()).then(|| ("GetVariables", json!({"getVariableData": data})))
        }
        _ => None,
    }
}

/// The values a read (from `read_request`) returned.
fn read_values(version: OcppVersion, result: &Value) -> Before {
    if version == OcppVersion::V16 {
        let keys = result["configurationKey"].as_array().cloned().unwrap_or_default();
        return keys.iter().map(|k| (k["key"].clone(), Value::Null, k["value"].as_str().map(str::to_string))).collect();
    }
    let results = result["getVariableResult"].as_array().cloned().unwrap_or_default();
    results
        .iter()
        .map(|r| (r["component"].clone(), r["variable"].clone(), r["attributeValue"].as_str().filter(|_| r["attributeStatus"] == "Accepted").map(str::to_string)))
        .collect()
}

fn same_name(a: &Value, b: &Value) -> bool {
    a["name"] == b["name"] && a["instance"] == b["instance"] && a["evse"] == b["evse"]
}

/// What a CALL the case made, answered with `result`, changed that the baseline must undo.
fn changes(version: OcppVersion, action: &str, request: &Value, result: &Value, before: &Before) -> Vec<Undo> {
    let took = |status: &Value| ["Accepted", "RebootRequired"].iter().any(|s| status == s);
    match action {
        "ChangeConfiguration" if took(&result["status"]) => {
            let key = request["key"].as_str().unwrap_or_default();
            let value = before.iter().find(|(k, _, _)| k == key).and_then(|(_, _, v)| v.clone());
            value.filter(|v| Some(v.as_str()) != request["value"].as_str()).map(|value| Undo::Configuration { key: key.to_string(), value }).into_iter().collect()
        }
        "SetVariables" => {
            let results = result["setVariableResult"].as_array().cloned().unwrap_or_default();
            let data = request["setVariableData"].as_array().cloned().unwrap_or_default();
            data.iter()
                .filter(|d| results.iter().any(|r| same_name(&r["component"], &d["component"]) && same_name(&r["variable"], &d["variable"]) && took(&r["attributeStatus"])))
                .filter_map(|d| {
                    let (_, _, v) = before.iter().find(|(c, v, _)| same_name(c, &d["component"]) && same_name(v, &d["variable"]))?;
                    let value = v.clone().filter(|v| Some(v.as_str()) != d["attributeValue"].as_str())?;
                    Some(Undo::Variable { component: d["component"].clone(), variable: d["variable"].clone(), value })
                })
                .collect()
        }
        "SendLocalList" if result["status"] == "Accepted" => vec![Undo::LocalList],
        "ChangeAvailability" => {
            let inoperative = if version == OcppVersion::V16 { request["type"] == "Inoperative" } else { request["operationalStatus"] == "Inoperative" };
            let applied = result["status"] == "Accepted" || result["status"] == "Scheduled";
            if inoperative && applied { vec![Undo::Availability] } else { vec![] }
        }
        _ => vec![],
    }
}

/// How long the baseline waits for each thing it asks of the station.
#[derive(Debug, Clone, Copy)]
pub struct Waits {
    pub response: Duration,
    pub settle: Duration,
}

/// Bring the station on `conn` back to the baseline: end every transaction it reports, undo
/// what the last case changed (newest first), and see it registered. The error says what
/// could not be done; the next case is then inconclusive with it.
pub async fn restore(conn: &Connection, waits: Waits) -> Result<Vec<String>, String> {
    let Some(model) = conn.model() else { return Ok(vec![]) };
    let version = conn.version();
    let mut done = vec![];
    if !conn.wait_model(waits.settle, |m| m.registration.is_accepted()).await {
        return Err(format!("the station is not registered (registration {:?})", model.lock().unwrap().registration));
    }
    // The bench's safe state (cable out) may be ending them already: give it a moment.
    conn.wait_model(waits.response.min(Duration::from_secs(2)), |m| m.transactions.is_empty()).await;
    let open: Vec<String> = model.lock().unwrap().transactions.keys().cloned().collect();
    for id in &open {
        let (action, payload) = match version {
            OcppVersion::V16 => ("RemoteStopTransaction", json!({"transactionId": id.parse::<i64>().unwrap_or_default()})),
            _ => ("RequestStopTransaction", json!({"transactionId": id})),
        };
        // Rejected is no error by itself: the transaction may be ending on its own.
        match expect_status(conn, action, payload, &["Accepted"], waits.response).await {
            Ok(()) => done.push(format!("stopped transaction {id}")),
            Err(e) => done.push(format!("asked to stop transaction {id}: {e}")),
        }
    }
    if !open.is_empty() && !conn.wait_model(waits.settle, |m| m.transactions.is_empty()).await {
        return Err(format!("transactions still going on after the remote stop: {:?}", model.lock().unwrap().transactions.keys().collect::<Vec<_>>()));
    }
    let undo: Vec<Undo> = std::mem::take(&mut model.lock().unwrap().undo);
    for u in undo.iter().rev() {
        let (action, payload, ok): (&str, Value, &[&str]) = match (u, version) {
            (Undo::Configuration { key, value }, _) => ("ChangeConfiguration", json!({"key": key, "value": value}), &["Accepted", "RebootRequired"]),
            (Undo::Variable { component, variable, value }, _) => {
                ("SetVariables", json!({"setVariableData": [{"component": component, "variable": variable, "attributeValue": value}]}), &["Accepted", "RebootRequired"])
            }
            (Undo::Availability, OcppVersion::V16) => ("ChangeAvailability", json!({"connectorId": 0, "type": "Operative"}), &["Accepted", "Scheduled"]),
            (Undo::Availability, _) => ("ChangeAvailability", json!({"operationalStatus": "Operative"}), &["Accepted", "Scheduled"]),
            (Undo::LocalList, OcppVersion::V16) => ("SendLocalList", json!({"listVersion": 1, "updateType": "Full"}), &["Accepted"]),
            (Undo::LocalList, _) => ("SendLocalList", json!({"versionNumber": 1, "updateType": "Full"}), &["Accepted"]),
        };
        if let Err(e) = expect_status(conn, action, payload, ok, waits.response).await {
            // What is left stays recorded, so the next attempt tries again.
            model.lock().unwrap().undo = undo[..undo.iter().position(|x| x == u).unwrap() + 1].to_vec();
            return Err(e);
        }
        done.push(describe(u));
    }
    // Every connector available again (general pre-conditions: idle, clear of faults).
    let idle = |m: &ocpp_core::model::StationModel| m.connectors.iter().all(|(k, s)| k == "0" || s == "Available");
    if !conn.wait_model(waits.response.min(Duration::from_secs(2)), idle).await {
        // A connector still Preparing with no transaction holds an authorization that waits
        // for a cable (until its connection time-out): taking the EVSE out of operation and
        // back releases it.
        let waiting: Vec<u32> = {
            let m = model.lock().unwrap();
            m.connectors.iter().filter(|(k, s)| *k != "0" && *s == "Preparing").filter_map(|(k, _)| k.split('/').next()?.parse().ok()).filter(|e| m.transaction_on(*e).is_none()).collect()
        };
        for evse in waiting {
            for operative in [false, true] {
                let kind = if operative { "Operative" } else { "Inoperative" };
                let payload = if version == OcppVersion::V16 { json!({"connectorId": evse, "type": kind}) } else { json!({"operationalStatus": kind, "evse": {"id": evse}}) };
                expect_status(conn, "ChangeAvailability", payload, &["Accepted"], waits.response).await?;
            }
            done.push(format!("released the authorization waiting at EVSE {evse} (Inoperative, then Operative)"));
        }
    }
    if !conn.wait_model(waits.response, idle).await {
        let m = model.lock().unwrap();
        let busy: Vec<String> = m.connectors.iter().filter(|(k, s)| *k != "0" && *s != "Available").map(|(k, s)| format!("{k} {s}")).collect();
        return Err(format!("connector(s) not Available: {}", busy.join(", ")));
    }
    Ok(done)
}

fn describe(u: &Undo) -> String {
    match u {
        Undo::Configuration { key, value } => format!("set {key} back to {value:?}"),
        Undo::Variable { component, variable, value } => format!("set {}.{} back to {value:?}", component["name"].as_str().unwrap_or("?"), variable["name"].as_str().unwrap_or("?")),
        Undo::Availability => "made the station operative again".into(),
        Undo::LocalList => "emptied the local authorization list".into(),
    }
}

async fn expect_status(conn: &Connection, action: &str, payload: Value, ok: &[&str], timeout: Duration) -> Result<(), String> {
    let outcome = conn.call(action, payload.clone(), timeout).await.map_err(|e| format!("{action} {payload}: {e}"))?;
    let status = match &outcome {
        CallOutcome::Result(r) => r["status"].as_str().or_else(|| r["setVariableResult"][0]["attributeStatus"].as_str()).unwrap_or_default().to_string(),
        CallOutcome::Error { code, .. } => format!("CALLERROR {code}"),
    };
    if ok.contains(&status.as_str()) { Ok(()) } else { Err(format!("{action} {payload} answered {status}")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_changed_and_accepted_is_undone_with_its_earlier_value() {
        let set = json!({"setVariableData": [
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}, "attributeValue": "1"},
            {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}, "attributeValue": "x"},
        ]});
        let (read, get) = read_request(OcppVersion::V201, "SetVariables", &set).unwrap();
        assert_eq!(read, "GetVariables");
        assert_eq!(get["getVariableData"].as_array().unwrap().len(), 1, "the password is never read");
        let before = read_values(OcppVersion::V201, &json!({"getVariableResult": [{"attributeStatus": "Accepted", "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}, "attributeValue": "300"}]}));
        let result = json!({"setVariableResult": [
            {"attributeStatus": "Accepted", "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
            {"attributeStatus": "Accepted", "component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}},
        ]});
        let undo = changes(OcppVersion::V201, "SetVariables", &set, &result, &before);
        assert_eq!(undo, vec![Undo::Variable { component: json!({"name": "OCPPCommCtrlr"}), variable: json!({"name": "HeartbeatInterval"}), value: "300".into() }]);
        let rejected = json!({"setVariableResult": [{"attributeStatus": "Rejected", "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]});
        assert!(changes(OcppVersion::V201, "SetVariables", &set, &rejected, &before).is_empty(), "nothing changed, nothing to undo");
    }

    #[test]
    fn configuration_keys_and_availability_in_1_6() {
        let req = json!({"key": "MeterValueSampleInterval", "value": "5"});
        let before = read_values(OcppVersion::V16, &json!({"configurationKey": [{"key": "MeterValueSampleInterval", "readonly": false, "value": "60"}]}));
        let undo = changes(OcppVersion::V16, "ChangeConfiguration", &req, &json!({"status": "Accepted"}), &before);
        assert_eq!(undo, vec![Undo::Configuration { key: "MeterValueSampleInterval".into(), value: "60".into() }]);
        assert!(read_request(OcppVersion::V16, "ChangeConfiguration", &json!({"key": "AuthorizationKey", "value": "00"})).is_none());
        let off = json!({"connectorId": 0, "type": "Inoperative"});
        assert_eq!(changes(OcppVersion::V16, "ChangeAvailability", &off, &json!({"status": "Scheduled"}), &vec![]), vec![Undo::Availability]);
        assert!(changes(OcppVersion::V16, "ChangeAvailability", &off, &json!({"status": "Rejected"}), &vec![]).is_empty());
    }
}
