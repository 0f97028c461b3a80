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
    if conn.model().is_none() || conn.mode() != Mode::Case {
        return conn.call(action, payload, timeout).await;
    }
    let before = read_before_change(conn, action, &payload, timeout).await;
    call_knowing(conn, action, payload, &before, timeout).await
}

/// `call` for a CALL whose settings the caller has just read (`before`, from `values_read`):
/// they are not read a second time.
pub async fn call_knowing(conn: &Connection, action: &str, payload: Value, before: &Before, timeout: Duration) -> Result<CallOutcome, SessionError> {
    let Some(model) = conn.model().filter(|_| conn.mode() == Mode::Case) else { return conn.call(action, payload, timeout).await };
    let outcome = conn.call(action, payload.clone(), timeout).await?;
    if let CallOutcome::Result(r) = &outcome {
        let mut m = model.lock().unwrap();
        for undo in changes(conn.version(), action, &payload, r, before) {
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
/// The settings a GetVariables (1.6 GetConfiguration) answer shows, as `call_knowing` takes them.
pub fn values_read(version: OcppVersion, result: &Value) -> Before {
    read_values(version, result)
}

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
            let scope = if version == OcppVersion::V16 { request["connectorId"].clone() } else { request["evse"].clone() };
            if inoperative && applied { vec![Undo::Availability { scope }] } else { vec![] }
        }
        "ReserveNow" if result["status"] == "Accepted" => {
            let id = if version == OcppVersion::V16 { &request["reservationId"] } else { &request["id"] };
            id.as_i64().map(|id| Undo::Reservation { id }).into_iter().collect()
        }
        "SetChargingProfile" if result["status"] == "Accepted" => {
            let id = if version == OcppVersion::V16 { &request["csChargingProfiles"]["chargingProfileId"] } else { &request["chargingProfile"]["id"] };
            id.as_i64().map(|id| Undo::ChargingProfile { id }).into_iter().collect()
        }
        "SetVariableMonitoring" => result["setMonitoringResult"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["status"] == "Accepted")
            .filter_map(|r| r["id"].as_i64().map(|id| Undo::Monitor { id }))
            .collect(),
        "SetDisplayMessage" if result["status"] == "Accepted" => request["message"]["id"].as_i64().map(|id| Undo::DisplayMessage { id }).into_iter().collect(),
        "SetDERControl" if result["status"] == "Accepted" => request["controlId"].as_str().map(|id| Undo::DerControl { id: id.into(), is_default: request["isDefault"] == true }).into_iter().collect(),
        "SetDefaultTariff" if result["status"] == "Accepted" => request["tariff"]["tariffId"].as_str().map(|id| Undo::DefaultTariff { id: id.into() }).into_iter().collect(),
        _ => vec![],
    }
}

/// A ChangeAvailability payload for the whole station (`evse` None), an EVSE, or one of its
/// connectors (2.x); 1.6 names a connector by `evse`, 0 (None) for the charge point.
pub fn availability(version: OcppVersion, evse: Option<u32>, connector: Option<u32>, operative: bool) -> Value {
    let kind = if operative { "Operative" } else { "Inoperative" };
    if version == OcppVersion::V16 {
        return json!({"connectorId": evse.unwrap_or(0), "type": kind});
    }
    let mut p = json!({"operationalStatus": kind});
    if let Some(id) = evse {
        p["evse"] = json!({"id": id});
        if let Some(c) = connector {
            p["evse"]["connectorId"] = json!(c);
        }
    }
    p
}

/// The CALL that undoes `u`, and the statuses that mean it is undone (or was gone already:
/// a reservation used or expired, a profile or monitor the case cleared itself).
fn undo_call(u: &Undo, version: OcppVersion) -> (&'static str, Value, &'static [&'static str]) {
    let v16 = version == OcppVersion::V16;
    match u {
        Undo::Configuration { key, value } => ("ChangeConfiguration", json!({"key": key, "value": value}), &["Accepted", "RebootRequired"]),
        Undo::Variable { component, variable, value } => {
            ("SetVariables", json!({"setVariableData": [{"component": component, "variable": variable, "attributeValue": value}]}), &["Accepted", "RebootRequired"])
        }
        Undo::Availability { scope } if v16 => ("ChangeAvailability", json!({"connectorId": scope.as_i64().unwrap_or(0), "type": "Operative"}), &["Accepted", "Scheduled"]),
        Undo::Availability { scope } => {
            let mut p = json!({"operationalStatus": "Operative"});
            if scope.is_object() {
                p["evse"] = scope.clone();
            }
            ("ChangeAvailability", p, &["Accepted", "Scheduled"])
        }
        Undo::LocalList if v16 => ("SendLocalList", json!({"listVersion": 1, "updateType": "Full"}), &["Accepted"]),
        Undo::LocalList => ("SendLocalList", json!({"versionNumber": 1, "updateType": "Full"}), &["Accepted"]),
        Undo::Reservation { id } => ("CancelReservation", json!({"reservationId": id}), &["Accepted", "Rejected"]),
        Undo::ChargingProfile { id } if v16 => ("ClearChargingProfile", json!({"id": id}), &["Accepted", "Unknown"]),
        Undo::ChargingProfile { id } => ("ClearChargingProfile", json!({"chargingProfileId": id}), &["Accepted", "Unknown"]),
        Undo::Monitor { id } => ("ClearVariableMonitoring", json!({"id": [id]}), &["Accepted", "NotFound"]),
        Undo::DisplayMessage { id } => ("ClearDisplayMessage", json!({"id": id}), &["Accepted", "Unknown"]),
        // NotFound: a scheduled control that ran its course is gone already (R04.FR.10).
        Undo::DerControl { id, is_default } => ("ClearDERControl", json!({"isDefault": is_default, "controlId": id}), &["Accepted", "NotFound"]),
        // NoTariff: a case cleared it itself already.
        Undo::DefaultTariff { id } => ("ClearTariffs", json!({"tariffIds": [id]}), &["Accepted", "NoTariff"]),
    }
}

/// How long the baseline waits for each thing it asks of the station.
#[derive(Debug, Clone, Copy)]
pub struct Waits {
    pub response: Duration,
    pub settle: Duration,
    /// For the connectors to become Available (the response time, or a glance when the
    /// baseline is known lost already).
    pub idle: Duration,
    /// How many connectors the station reports after a boot (B01.FR.05): until it has, no
    /// news is no proof that they are Available.
    pub connectors: usize,
    /// How long a connector Reserved by a reservation no case made may take to lapse (its id
    /// is unknown, and CancelReservation needs it): zero once waited for.
    pub lapse: Duration,
}

/// Why the station is not at the baseline after `restore`.
#[derive(Debug, Clone, PartialEq)]
pub struct Unrestored {
    /// What is off, in a line ("connector(s) not Available: 1/1 Unavailable").
    pub reason: String,
    /// The station accepted an undo and did not reach its state: (requirement, expected,
    /// observed) — a failure of the case that left the state, not only a lost baseline.
    pub broke: Option<(String, String, String)>,
}

impl Unrestored {
    fn because(reason: impl Into<String>) -> Unrestored {
        Unrestored { reason: reason.into(), broke: None }
    }
}

/// The requirement an accepted ChangeAvailability Operative of `scope` holds the station to.
fn operative_requirement(version: OcppVersion, scope: &Value) -> &'static str {
    match version {
        OcppVersion::V16 => "OCPP 1.6 §5.2 ChangeAvailability (an accepted change is made and reported by StatusNotification)",
        _ if scope.is_object() => "G03.FR.07",
        _ => "G04.FR.08",
    }
}

/// Bring the station on `conn` back to the baseline: end every transaction it reports, undo
/// what the last case changed (newest first), and see it registered with every connector
/// Available. A setting that cannot be set back is a compatibility warning of the case, not a
/// reason to stop: the next case can still run. The error says what keeps the next case from
/// starting (see `recovery` for what is tried then).
pub async fn restore(conn: &Connection, waits: Waits) -> Result<Vec<String>, Unrestored> {
    let Some(model) = conn.model() else { return Ok(vec![]) };
    let version = conn.version();
    let mut done = vec![];
    if !conn.wait_model(waits.settle, |m| m.registration.is_accepted()).await {
        return Err(Unrestored::because(format!("the station is not registered (registration {:?})", model.lock().unwrap().registration)));
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
        return Err(Unrestored::because(format!("transactions still going on after the remote stop: {:?}", model.lock().unwrap().transactions.keys().collect::<Vec<_>>())));
    }
    let undo: Vec<Undo> = std::mem::take(&mut model.lock().unwrap().undo);
    // Undos that keep a connector from being Available and failed: tried again next time.
    let mut again = vec![];
    // Availability undos the station accepted: it owes the state they ask for.
    let mut accepted = vec![];
    for u in undo.iter().rev() {
        let (action, payload, ok) = undo_call(u, version);
        match expect_status(conn, action, payload, ok, waits.response).await {
            Ok(()) => {
                done.push(describe(u));
                if let Undo::Availability { scope } = u {
                    accepted.push(scope.clone());
                }
            }
            Err(e) if u.blocks_connectors() => {
                conn.trace().log("baseline", format!("could not {}: {e}", describe(u)));
                again.insert(0, u.clone());
            }
            Err(e) => conn.trace().warn_compat(format!("the baseline could not {} ({e}): later cases run with it changed", describe(u))),
        }
    }
    // Nothing records changes meanwhile (only a case's own CALLs do), so these are all there is.
    let ours_reserved = again.iter().any(|u| matches!(u, Undo::Reservation { .. }));
    model.lock().unwrap().undo = again;
    // Every connector available again (general pre-conditions: idle, clear of faults).
    let mut idle = settle_idle(conn, waits.idle.min(Duration::from_secs(2)), waits.connectors).await;
    if !idle {
        // A connector still Preparing with no transaction holds an authorization that waits
        // for a cable (until its connection time-out): taking the EVSE out of operation and
        // back releases it.
        let waiting: Vec<u32> = {
            let m = model.lock().unwrap();
            m.connectors.iter().filter(|(k, s)| !ocpp_core::model::is_station_key(k) && *s == "Preparing").filter_map(|(k, _)| k.split('/').next()?.parse().ok()).filter(|e| m.transaction_on(*e).is_none()).collect()
        };
        for &evse in &waiting {
            for operative in [false, true] {
                let payload = availability(version, Some(evse), None, operative);
                expect_status(conn, "ChangeAvailability", payload, &["Accepted"], waits.response).await.map_err(Unrestored::because)?;
            }
            done.push(format!("released the authorization waiting at EVSE {evse} (Inoperative, then Operative)"));
        }
        // Something was asked of the station just now: give it its time to answer for it.
        if !waiting.is_empty() || !accepted.is_empty() {
            idle = settle_idle(conn, waits.idle, waits.connectors).await;
        }
    }
    let reserved: Vec<String> = if idle || ours_reserved { vec![] } else { model.lock().unwrap().busy_connectors().into_iter().filter(|b| b.ends_with(" Reserved")).collect() };
    if !reserved.is_empty() && !waits.lapse.is_zero() {
        conn.trace().log("baseline", format!("{} by a reservation no case of the run made (CancelReservation needs its id): waiting up to {} ms for it to lapse", reserved.join(", "), waits.lapse.as_millis()));
        let lapsed = move |m: &ocpp_core::model::StationModel| !m.busy_connectors().iter().any(|b| b.ends_with(" Reserved"));
        if conn.wait_model(waits.lapse, lapsed).await {
            done.push(format!("{} lapsed", reserved.join(", ")));
            idle = settle_idle(conn, waits.idle, waits.connectors).await;
        }
    }
    if !idle {
        let busy = model.lock().unwrap().busy_connectors();
        let unknown = if ours_reserved || !busy.iter().any(|b| b.ends_with(" Reserved")) { "" } else { " (Reserved by a reservation no case of the run made: CancelReservation needs its id)" };
        let reason = format!("connector(s) not Available: {}{unknown}", busy.join(", "));
        let unavailable = busy.iter().any(|b| b.ends_with(" Unavailable"));
        let broke = accepted.first().filter(|_| unavailable).map(|scope| {
            let what = if scope.is_null() || scope == 0 { "the station".to_string() } else { format!("{scope}") };
            (
                operative_requirement(version, scope).to_string(),
                format!("{what} operative again (connectors Available) after it accepted ChangeAvailability Operative"),
                format!("{} within {} ms", busy.join(", "), waits.idle.as_millis()),
            )
        });
        return Err(Unrestored { reason, broke });
    }
    done.extend(crate::audit::audit(conn, waits.response).await);
    if !done.is_empty() {
        said_all(conn, waits.response).await;
    }
    Ok(done)
}

/// Wait until the station has said what it had to say after something was done to it: a
/// short quiet spell (250 ms without a CALL from it), `max` at most (a station reporting
/// meter values every second is never quiet). What it said is answered by then, so the next
/// case does not meet the tail of it.
pub async fn said_all(conn: &Connection, max: Duration) {
    let quiet = Duration::from_millis(250);
    let Some(model) = conn.model() else { return };
    let deadline = tokio::time::Instant::now() + max;
    while tokio::time::Instant::now() < deadline {
        let since = model.lock().unwrap().last_call.map(|t| t.elapsed()).unwrap_or(quiet);
        if since >= quiet {
            break;
        }
        tokio::time::sleep(quiet - since).await;
    }
}

/// How long a station must have sent nothing before the baseline stops waiting for the
/// status it still owes: what a station reports after a change, it reports at once.
const QUIET: Duration = Duration::from_millis(1000);

/// Wait until every connector is Available — after a boot in the run, every one of the
/// `connectors` reported since — at most `max`, or until the station has been quiet for
/// `QUIET` (nothing more is coming): whether the connectors it reported are Available.
async fn settle_idle(conn: &Connection, max: Duration, connectors: usize) -> bool {
    let idle = move |m: &ocpp_core::model::StationModel| m.busy_connectors().is_empty() && m.reported_since_boot(connectors);
    let start = std::time::Instant::now();
    loop {
        let left = max.saturating_sub(start.elapsed());
        if conn.wait_model(left.min(Duration::from_millis(250)), idle).await {
            return true;
        }
        let Some(model) = conn.model() else { return false };
        let (last_call, busy, all_reported) = {
            let m = model.lock().unwrap();
            (m.last_call, !m.busy_connectors().is_empty(), m.reported_since_boot(connectors))
        };
        let quiet = start.elapsed() >= QUIET && last_call.is_none_or(|t| t.elapsed() >= QUIET);
        if quiet || start.elapsed() >= max || conn.is_closed() {
            if !busy && !all_reported {
                conn.trace().log("baseline", "the station did not report every connector after its boot (B01.FR.05): taking those it reported");
            }
            return !busy;
        }
    }
}

fn describe(u: &Undo) -> String {
    match u {
        Undo::Configuration { key, value } => format!("set {key} back to {value:?}"),
        Undo::Variable { component, variable, value } => format!("set {}.{} back to {value:?}", component["name"].as_str().unwrap_or("?"), variable["name"].as_str().unwrap_or("?")),
        Undo::Availability { scope } if scope.is_null() || *scope == 0 => "make the station operative again".into(),
        Undo::Availability { scope } => format!("make {scope} operative again"),
        Undo::LocalList => "empty the local authorization list".into(),
        Undo::Reservation { id } => format!("cancel reservation {id}"),
        Undo::ChargingProfile { id } => format!("clear charging profile {id}"),
        Undo::Monitor { id } => format!("clear variable monitor {id}"),
        Undo::DisplayMessage { id } => format!("clear display message {id}"),
        Undo::DefaultTariff { id } => format!("clear default tariff {id}"),
        Undo::DerControl { id, .. } => format!("clear DER control {id}"),
    }
}

/// Send a CALL and check the status it is answered with (the first result entry's, for the
/// list answers of SetVariables, ClearVariableMonitoring and ClearTariffs).
pub async fn expect_status(conn: &Connection, action: &str, payload: Value, ok: &[&str], timeout: Duration) -> Result<(), String> {
    let outcome = conn.call(action, payload.clone(), timeout).await.map_err(|e| format!("{action} {payload}: {e}"))?;
    let status = match &outcome {
        CallOutcome::Result(r) => r["status"]
            .as_str()
            .or_else(|| r["setVariableResult"][0]["attributeStatus"].as_str())
            .or_else(|| r["clearMonitoringResult"][0]["status"].as_str())
            .or_else(|| r["clearTariffsResult"][0]["status"].as_str())
            .unwrap_or_default()
            .to_string(),
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
        assert_eq!(changes(OcppVersion::V16, "ChangeAvailability", &off, &json!({"status": "Scheduled"}), &vec![]), vec![Undo::Availability { scope: json!(0) }]);
        assert!(changes(OcppVersion::V16, "ChangeAvailability", &off, &json!({"status": "Rejected"}), &vec![]).is_empty());
    }

    /// Whatever a case leaves behind is undone at the scope it was done: an EVSE's Inoperative
    /// by that EVSE's Operative, a reservation, a profile, a monitor, a message by their ids.
    #[test]
    fn each_thing_a_case_leaves_has_its_undo() {
        let v = OcppVersion::V201;
        let evse_off = json!({"operationalStatus": "Inoperative", "evse": {"id": 2}});
        let undo = changes(v, "ChangeAvailability", &evse_off, &json!({"status": "Accepted"}), &vec![]);
        assert_eq!(undo, vec![Undo::Availability { scope: json!({"id": 2}) }]);
        let (action, payload, _) = undo_call(&undo[0], v);
        assert_eq!((action, payload), ("ChangeAvailability", json!({"operationalStatus": "Operative", "evse": {"id": 2}})));
        let (_, station, _) = undo_call(&Undo::Availability { scope: Value::Null }, v);
        assert_eq!(station, json!({"operationalStatus": "Operative"}), "a station-level Inoperative is undone at station level");

        let reserve = json!({"id": 11, "expiryDateTime": "2030-01-01T00:00:00Z", "idToken": {"idToken": "A", "type": "ISO14443"}});
        assert_eq!(changes(v, "ReserveNow", &reserve, &json!({"status": "Accepted"}), &vec![]), vec![Undo::Reservation { id: 11 }]);
        assert!(changes(v, "ReserveNow", &reserve, &json!({"status": "Occupied"}), &vec![]).is_empty());
        let reserve16 = json!({"connectorId": 1, "reservationId": 12, "idTag": "A", "expiryDate": "2030-01-01T00:00:00Z"});
        assert_eq!(changes(OcppVersion::V16, "ReserveNow", &reserve16, &json!({"status": "Accepted"}), &vec![]), vec![Undo::Reservation { id: 12 }]);

        let profile = json!({"evseId": 1, "chargingProfile": {"id": 5}});
        assert_eq!(changes(v, "SetChargingProfile", &profile, &json!({"status": "Accepted"}), &vec![]), vec![Undo::ChargingProfile { id: 5 }]);
        assert_eq!(undo_call(&Undo::ChargingProfile { id: 5 }, OcppVersion::V16).1, json!({"id": 5}));
        let monitors = json!({"setMonitoringResult": [{"id": 3, "status": "Accepted"}, {"id": 4, "status": "Rejected"}]});
        assert_eq!(changes(v, "SetVariableMonitoring", &json!({}), &monitors, &vec![]), vec![Undo::Monitor { id: 3 }]);
        let message = json!({"message": {"id": 9}});
        assert_eq!(changes(v, "SetDisplayMessage", &message, &json!({"status": "Accepted"}), &vec![]), vec![Undo::DisplayMessage { id: 9 }]);
        assert!(Undo::Reservation { id: 1 }.blocks_connectors() && !Undo::Monitor { id: 1 }.blocks_connectors());
    }
}
