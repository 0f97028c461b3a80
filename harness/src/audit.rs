//! What a long-lived station does not show: a setting someone changed at the station, or a
//! default charging profile set by someone else. No message reveals either, so after every
//! case (once the baseline's undo is done) the harness looks: it reads the configuration it
//! took at the start of the run (`inventory`) again and sets back what changed, and clears
//! TxDefaultProfiles where the station does smart charging. The case's own changes are undone
//! before this from its own CALLs (`baseline`); what is found here was done by no case.
use std::time::Duration;

use serde_json::{Value, json};

use crate::inventory;
use ocpp_core::{session::{CallOutcome, Connection}, version::OcppVersion};

/// Settings the audit leaves as they are: raising the security profile cannot be undone over
/// OCPP (B09.FR.04, 1.6 security whitepaper §1.3), and a case that raised it meant it.
const LEFT_AS_THEY_ARE: [&str; 2] = ["SecurityProfile", "SecurityCtrlr.SecurityProfile"];

/// Look for what no case changed, put it back, and say what was found (for the case's trace).
/// A setting that cannot be set back is a compatibility warning and from then on the value
/// later cases read.
pub async fn audit(conn: &Connection, timeout: Duration) -> Vec<String> {
    let Some(model) = conn.model() else { return vec![] };
    let Some(known) = model.lock().unwrap().inventory.clone() else { return vec![] };
    let version = conn.version();
    let mut found = vec![];
    match inventory::read_again(conn, version, timeout, &known).await {
        Ok(now) => {
            for (key, was) in known.iter().filter(|(k, _)| !LEFT_AS_THEY_ARE.contains(&k.as_str())) {
                let Some(is) = now.get(key).filter(|is| *is != was) else { continue };
                match set_back(conn, version, key, was, timeout).await {
                    Ok(()) => found.push(format!("{key} was {was} and is {is}, changed by no case of the run: set back to {was}")),
                    Err(e) => {
                        conn.trace().warn_compat(format!("{key} changed from {was} to {is}, by no case of the run, and could not be set back ({e}): later cases read {is}"));
                        if let Some(inv) = model.lock().unwrap().inventory.as_mut() {
                            inv.insert(key.clone(), is.clone());
                        }
                    }
                }
            }
        }
        Err(e) => conn.trace().log("baseline", format!("could not read the configuration again to look for changes: {e}")),
    }
    if smart_charging(version, &known) {
        let criteria = match version {
            OcppVersion::V16 => json!({"chargingProfilePurpose": "TxDefaultProfile"}),
            _ => json!({"chargingProfileCriteria": {"chargingProfilePurpose": "TxDefaultProfile"}}),
        };
        // Accepted: there was one to clear (the case's own are cleared by id before this).
        match conn.call("ClearChargingProfile", criteria, timeout).await {
            Ok(CallOutcome::Result(r)) if r["status"] == "Accepted" => found.push("cleared a TxDefaultProfile that no case of the run set".into()),
            Ok(_) => {}
            Err(e) => conn.trace().log("baseline", format!("could not clear default charging profiles: {e}")),
        }
    }
    found
}

/// Whether the station says it does smart charging: 1.6 SupportedFeatureProfiles names it,
/// 2.x SmartChargingCtrlr.Enabled is true.
fn smart_charging(version: OcppVersion, inventory: &inventory::Inventory) -> bool {
    match version {
        OcppVersion::V16 => inventory.get("SupportedFeatureProfiles").is_some_and(|p| p.split(',').any(|f| f.trim() == "SmartCharging")),
        _ => inventory.get("SmartChargingCtrlr.Enabled").is_some_and(|v| v.eq_ignore_ascii_case("true")),
    }
}

/// Set `key` ("Component.Variable" in 2.x) back to `value`: Ok when the station accepted.
async fn set_back(conn: &Connection, version: OcppVersion, key: &str, value: &str, timeout: Duration) -> Result<(), String> {
    let (action, payload) = match version {
        OcppVersion::V16 => ("ChangeConfiguration", json!({"key": key, "value": value})),
        _ => {
            let (component, variable) = key.split_once('.').ok_or_else(|| format!("{key} names no component"))?;
            ("SetVariables", json!({"setVariableData": [{"component": {"name": component}, "variable": {"name": variable}, "attributeValue": value}]}))
        }
    };
    let status = |r: &Value| r["setVariableResult"][0]["attributeStatus"].as_str().or(r["status"].as_str()).unwrap_or_default().to_string();
    match conn.call(action, payload, timeout).await {
        Ok(CallOutcome::Result(r)) if status(&r) == "Accepted" => Ok(()),
        Ok(CallOutcome::Result(r)) => Err(format!("{action} answered {}", status(&r))),
        Ok(CallOutcome::Error { code, .. }) => Err(format!("{action} answered {code}")),
        Err(e) => Err(format!("{action}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smart_charging_is_read_from_the_station_s_own_words() {
        let inv = |k: &str, v: &str| -> inventory::Inventory { [(k.to_string(), v.to_string())].into() };
        assert!(smart_charging(OcppVersion::V16, &inv("SupportedFeatureProfiles", "Core, SmartCharging,Reservation")));
        assert!(!smart_charging(OcppVersion::V16, &inv("SupportedFeatureProfiles", "Core,SmartChargingX")));
        assert!(smart_charging(OcppVersion::V201, &inv("SmartChargingCtrlr.Enabled", "TRUE")));
        assert!(!smart_charging(OcppVersion::V201, &inv("SupportedFeatureProfiles", "SmartCharging")));
    }
}
