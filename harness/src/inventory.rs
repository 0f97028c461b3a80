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
/// charging (see `audit`) in which units.
pub const VARIABLES: [(&str, &str); 20] = [
    ("TxCtrlr", "TxStartPoint"),
    ("TxCtrlr", "TxStopPoint"),
    ("TxCtrlr", "EVConnectionTimeOut"),
    ("TxCtrlr", "StopTxOnEVSideDisconnect"),
    ("AuthCtrlr", "Enabled"),
    ("AuthCtrlr", "AuthorizeRemoteStart"),
    ("AuthCtrlr", "LocalAuthorizeOffline"),
    ("AuthCtrlr", "LocalPreAuthorize"),
    ("AuthCacheCtrlr", "Enabled"),
    ("AuthCacheCtrlr", "Available"),
    ("LocalAuthListCtrlr", "Enabled"),
    ("OCPPCommCtrlr", "HeartbeatInterval"),
    ("OCPPCommCtrlr", "OfflineThreshold"),
    ("SampledDataCtrlr", "TxUpdatedInterval"),
    ("SampledDataCtrlr", "TxUpdatedMeasurands"),
    ("SmartChargingCtrlr", "Enabled"),
    ("SmartChargingCtrlr", "RateUnit"),
    ("ReservationCtrlr", "NonEvseSpecific"),
    ("DisplayMessageCtrlr", "SupportedPriorities"),
    ("DisplayMessageCtrlr", "SupportedFormats"),
];

/// How many variables one GetVariablesRequest asks for: below any sensible
/// `DeviceDataCtrlr.ItemsPerMessage[GetVariables]`.
const PER_REQUEST: usize = 4;

/// `Component.Variable` (2.x) or the configuration key (1.6) -> value. A variable the station
/// does not have is absent.
pub type Inventory = BTreeMap<String, String>;

/// Where the station says how many variables one GetVariablesRequest may ask for: read with
/// the first request, it sizes the others (and a later read of the inventory, see `audit`).
const ITEMS_PER_MESSAGE: &str = "DeviceDataCtrlr.ItemsPerMessage";

/// Read the inventory over `conn`; the error says what could not be read.
pub async fn read(conn: &Connection, version: OcppVersion, timeout: Duration) -> Result<Inventory, String> {
    read_sized(conn, version, timeout, None).await
}

/// `read`, asking for as many variables per request as an earlier read of `known` found the
/// station to take.
pub async fn read_again(conn: &Connection, version: OcppVersion, timeout: Duration, known: &Inventory) -> Result<Inventory, String> {
    read_sized(conn, version, timeout, known.get(ITEMS_PER_MESSAGE).and_then(|n| n.parse().ok())).await
}

async fn read_sized(conn: &Connection, version: OcppVersion, timeout: Duration, per_request: Option<usize>) -> Result<Inventory, String> {
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
    // The station's own limit is known only once read, so it is asked for first; until then
    // the requests are of a size every station takes.
    let items_per_message = json!({"component": {"name": "DeviceDataCtrlr"}, "variable": {"name": "ItemsPerMessage", "instance": "GetVariables"}});
    let mut wanted: Vec<Value> = std::iter::once(items_per_message).chain(VARIABLES.iter().map(|(c, v)| json!({"component": {"name": c}, "variable": {"name": v}}))).collect();
    let mut per = per_request.unwrap_or(PER_REQUEST).max(1);
    let mut first = per_request.is_none();
    while !wanted.is_empty() {
        let data: Vec<Value> = wanted.drain(..per.min(wanted.len())).collect();
        let answer = ask(conn, "GetVariables", json!({"getVariableData": data}), timeout).await?;
        for r in answer["getVariableResult"].as_array().into_iter().flatten() {
            if let (Some("Accepted"), Some(value)) = (r["attributeStatus"].as_str(), r["attributeValue"].as_str()) {
                let key = format!("{}.{}", r["component"]["name"].as_str().unwrap_or_default(), r["variable"]["name"].as_str().unwrap_or_default());
                found.insert(key, value.to_string());
            }
        }
        if std::mem::take(&mut first) {
            per = found.get(ITEMS_PER_MESSAGE).and_then(|n| n.parse::<usize>().ok()).unwrap_or(PER_REQUEST).clamp(1, VARIABLES.len() + 1);
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

/// Optional features (as cases name them) and the settings whose presence shows that the
/// station has one: 1.6 keys exist only where the feature does (§9.1 "if this key exists");
/// at 2.x part 6 asks for the controller's `Available` (TC_C_36-38_CS: "AuthCacheCtrlr.Available
/// is implemented"), and its `Enabled` shows the component too.
const FEATURE_SETTINGS: [(&str, &str, [&str; 2]); 1] = [("auth-cache", "AuthorizationCacheEnabled", ["AuthCacheCtrlr.Available", "AuthCacheCtrlr.Enabled"])];

/// Whether the station's configuration can show if it has `feature` (else only the lab can say).
pub fn shows(feature: &str) -> bool {
    FEATURE_SETTINGS.iter().any(|(name, _, _)| *name == feature)
}

/// Why a case that needs `features` cannot run on a station with this inventory: a feature
/// whose setting the station does not have (None when it has them all, or they are not known
/// from settings).
pub fn lacks(inventory: &Inventory, version: OcppVersion, features: &[String]) -> Option<String> {
    features.iter().find_map(|f| {
        let (_, v16, v2x) = FEATURE_SETTINGS.iter().find(|(name, _, _)| name == f)?;
        let keys: &[&str] = if version == OcppVersion::V16 { std::slice::from_ref(v16) } else { v2x };
        let unavailable = keys.iter().any(|k| k.ends_with(".Available") && inventory.get(*k).is_some_and(|v| v.eq_ignore_ascii_case("false")));
        (unavailable || !keys.iter().any(|k| inventory.contains_key(*k)))
            .then(|| format!("the station does not have the optional feature {f}: its configuration, read at the start of the run, has no {} (or says false)", keys.join(" or ")))
    })
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
    fn a_feature_is_missing_when_its_setting_is() {
        let with: Inventory = [("AuthCacheCtrlr.Enabled".to_string(), "true".to_string())].into();
        let cache = vec!["auth-cache".to_string()];
        assert_eq!(lacks(&with, OcppVersion::V201, &cache), None);
        assert!(lacks(&Inventory::new(), OcppVersion::V201, &cache).is_some_and(|r| r.contains("AuthCacheCtrlr.Enabled")));
        assert!(lacks(&with, OcppVersion::V16, &cache).is_some_and(|r| r.contains("AuthorizationCacheEnabled")));
        assert_eq!(lacks(&Inventory::new(), OcppVersion::V16, &["reset-per-evse".to_string()]), None, "a feature no setting shows is not judged here");
    }

    #[test]
    fn the_lab_s_parameters_win_over_what_the_station_says() {
        let inventory: Inventory = [("TxCtrlr.TxStartPoint".to_string(), "PowerPathClosed".to_string()), ("AuthCtrlr.AuthorizeRemoteStart".to_string(), "true".to_string())].into();
        let mut params: BTreeMap<String, String> = [("TxCtrlr.TxStartPoint".to_string(), "EVConnected,Authorized".to_string())].into();
        into_parameters(&inventory, &mut params);
        assert_eq!(params["TxCtrlr.TxStartPoint"], "EVConnected,Authorized");
        assert_eq!(params["AuthCtrlr.AuthorizeRemoteStart"], "true");
    }
}
