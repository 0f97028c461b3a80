//! What a station DUT is configured with, read once at the start of a run, before its first
//! case: the values part 6 calls "<Configured …>" and the settings its reusable states branch
//! on (TxStartPoint, remote-start authorization, the caches). A lab's station is not the
//! reference station: cases read these (`config::parameter`) instead of assuming its habits;
//! the DUT description's `[parameters]` override or complete them. The values go into
//! results.json and the report with the station.
use std::{collections::BTreeMap, time::Duration};

use serde_json::{Value, json};

use ocpp_core::{session::{CallOutcome, Connection}, version::OcppVersion};

/// The 2.x variables read (component, variable): the transaction and authorization settings
/// part 6's reusable states branch on, the timers its cases wait by, and whether it does smart
/// charging (see `audit`).
pub const VARIABLES: [(&str, &str); 15] = [
    ("TxCtrlr", "TxStartPoint"),
    ("TxCtrlr", "TxStopPoint"),
    ("TxCtrlr", "EVConnectionTimeOut"),
    ("TxCtrlr", "StopTxOnEVSideDisconnect"),
    ("AuthCtrlr", "Enabled"),
    ("AuthCtrlr", "AuthorizeRemoteStart"),
    ("AuthCtrlr", "LocalAuthorizeOffline"),
    ("AuthCtrlr", "LocalPreAuthorize"),
    ("AuthCacheCtrlr", "Enabled"),
    ("LocalAuthListCtrlr", "Enabled"),
    ("OCPPCommCtrlr", "HeartbeatInterval"),
    ("OCPPCommCtrlr", "OfflineThreshold"),
    ("SampledDataCtrlr", "TxUpdatedInterval"),
    ("SampledDataCtrlr", "TxUpdatedMeasurands"),
    ("SmartChargingCtrlr", "Enabled"),
];

/// How many variables one GetVariablesRequest asks for: below any sensible
/// `DeviceDataCtrlr.ItemsPerMessage[GetVariables]`.
const PER_REQUEST: usize = 4;

/// `Component.Variable` (2.x) or the configuration key (1.6) -> value. A variable the station
/// does not have is absent.
pub type Inventory = BTreeMap<String, String>;

/// Read the inventory over `conn`; the error says what could not be read.
pub async fn read(conn: &Connection, version: OcppVersion, timeout: Duration) -> Result<Inventory, String> {
    let mut found = Inventory::new();
    if version == OcppVersion::V16 {
        let answer = ask(conn, "GetConfiguration", json!({}), timeout).await?;
        for k in answer["configurationKey"].as_array().into_iter().flatten() {
            if let (Some(key), Some(value)) = (k["key"].as_str(), k["value"].as_str()) {
                found.insert(key.to_string(), value.to_string());
            }
        }
        return Ok(found);
    }
    for chunk in VARIABLES.chunks(PER_REQUEST) {
        let data: Vec<Value> = chunk.iter().map(|(c, v)| json!({"component": {"name": c}, "variable": {"name": v}})).collect();
        let answer = ask(conn, "GetVariables", json!({"getVariableData": data}), timeout).await?;
        for r in answer["getVariableResult"].as_array().into_iter().flatten() {
            if let (Some("Accepted"), Some(value)) = (r["attributeStatus"].as_str(), r["attributeValue"].as_str()) {
                let key = format!("{}.{}", r["component"]["name"].as_str().unwrap_or_default(), r["variable"]["name"].as_str().unwrap_or_default());
                found.insert(key, value.to_string());
            }
        }
    }
    Ok(found)
}

async fn ask(conn: &Connection, action: &str, payload: Value, timeout: Duration) -> Result<Value, String> {
    match conn.call(action, payload, timeout).await {
        Ok(CallOutcome::Result(r)) => Ok(r),
        Ok(CallOutcome::Error { code, description, .. }) => Err(format!("{action} answered {code} ({description})")),
        Err(e) => Err(format!("{action}: {e}")),
    }
}

/// The inventory as the parameters a case reads: each value under its key, unless the DUT
/// description gives that key itself (the lab's word wins).
pub fn into_parameters(inventory: &Inventory, parameters: &mut BTreeMap<String, String>) {
    for (k, v) in inventory {
        parameters.entry(k.clone()).or_insert_with(|| v.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lab_s_parameters_win_over_what_the_station_says() {
        let inventory: Inventory = [("TxCtrlr.TxStartPoint".to_string(), "PowerPathClosed".to_string()), ("AuthCtrlr.AuthorizeRemoteStart".to_string(), "true".to_string())].into();
        let mut params: BTreeMap<String, String> = [("TxCtrlr.TxStartPoint".to_string(), "EVConnected,Authorized".to_string())].into();
        into_parameters(&inventory, &mut params);
        assert_eq!(params["TxCtrlr.TxStartPoint"], "EVConnected,Authorized");
        assert_eq!(params["AuthCtrlr.AuthorizeRemoteStart"], "true");
    }
}
