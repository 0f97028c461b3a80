//! The reference CSMS's side of ISO 15118 smart charging (2.x K15-K17): an EV's charging needs
//! are Accepted and answered with a TxProfile for the transaction at that EVSE (K15.FR.03/07,
//! K16.FR.12, K17.FR.03/07); the schedule the EV picked is Accepted when it keeps within that
//! profile, else Rejected and a new profile follows (K15.FR.11-13, K16.FR.06-08,
//! K17.FR.11-13).
use serde_json::{Value, json};

use crate::{Fault, csms::{CsmsConfig, StationRecord}};
use ocpp_core::defaults::now_rfc3339;

/// The limit (A) of the TxProfile the CSMS gives an EV first, and after a schedule it rejected.
const LIMIT_A: f64 = 16.0;

/// A TransactionEvent: which transaction runs at which EVSE.
pub(crate) fn transaction(st: &mut StationRecord, p: &Value) {
    let (Some(evse), Some(tx)) = (p["evse"]["id"].as_i64(), p["transactionInfo"]["transactionId"].as_str()) else { return };
    if p["eventType"] == "Ended" {
        st.evse_tx.remove(&evse);
    } else {
        st.evse_tx.insert(evse, tx.to_string());
    }
}

/// NotifyEVChargingNeeds: Accepted, and a TxProfile to send once answered (fault
/// needs-without-profile: none comes).
pub(crate) fn needs(cfg: &CsmsConfig, st: &mut StationRecord, p: &Value) -> Value {
    let evse = p["evseId"].as_i64().unwrap_or(0);
    // Fault bpt-without-profile: a bidirectional request left without a profile, which
    // Q01.FR.04/07 do not allow (Rejected, or Accepted/Processing).
    let bidirectional = p["chargingNeeds"]["requestedEnergyTransfer"].as_str().is_some_and(|m| m.contains("BPT"));
    if bidirectional && cfg.faults.has(&Fault::BptWithoutProfile) {
        return json!({"status": "NoChargingProfile"});
    }
    if !cfg.faults.has(&Fault::NeedsWithoutProfile) {
        st.profile_to_send = profile(st, evse, LIMIT_A);
        // Fault discharge-in-charging-only (2.1): the charging-only EV's profile sets a
        // discharge limit and a setpoint (Q02.FR.01/02).
        if let Some(p) = st.profile_to_send.as_mut().filter(|_| cfg.faults.has(&Fault::DischargeInChargingOnly)) {
            let period = &mut p["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0];
            period["operationMode"] = json!("CentralSetpoint");
            period["setpoint"] = json!(-3000.0);
            period["dischargeLimit"] = json!(-16.0);
        }
    }
    json!({"status": "Accepted"})
}

/// NotifyEVChargingSchedule: Accepted when every period keeps within the EVSE's last TxProfile
/// (fault accept-any-ev-schedule: always); else Rejected, and a new profile renegotiates.
pub(crate) fn schedule(cfg: &CsmsConfig, st: &mut StationRecord, p: &Value) -> Value {
    let evse = p["evseId"].as_i64().unwrap_or(0);
    let limit = st.ev_limits.get(&evse).copied();
    let periods = p["chargingSchedule"]["chargingSchedulePeriod"].as_array().cloned().unwrap_or_default();
    let within = p["chargingSchedule"]["chargingRateUnit"] == "A" && periods.iter().all(|q| q["limit"].as_f64().is_some_and(|l| limit.is_none_or(|max| l <= max)));
    if within || cfg.faults.has(&Fault::AcceptAnyEvSchedule) {
        return json!({"status": "Accepted"});
    }
    st.profile_to_send = profile(st, evse, limit.unwrap_or(LIMIT_A));
    json!({"status": "Rejected"})
}

/// SetChargingProfile of a TxProfile at `amps` for the transaction at `evse`, if one runs.
fn profile(st: &mut StationRecord, evse: i64, amps: f64) -> Option<Value> {
    let tx = st.evse_tx.get(&evse)?.clone();
    st.ev_limits.insert(evse, amps);
    st.next_profile_id += 1;
    let schedule = json!({"id": 1, "startSchedule": now_rfc3339(), "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": amps}]});
    Some(json!({"evseId": evse, "chargingProfile": {
        "id": 700 + st.next_profile_id, "stackLevel": 0, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Absolute",
        "transactionId": tx, "chargingSchedule": [schedule],
    }}))
}

/// A TxProfile the operator had sent (csms-trigger): its limit is what the EV's schedule is
/// held to.
pub(crate) fn sent(st: &mut StationRecord, action: &str, p: &Value) {
    if action != "SetChargingProfile" || p["chargingProfile"]["chargingProfilePurpose"] != "TxProfile" {
        return;
    }
    let limit = p["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"].as_f64();
    if let (Some(evse), Some(limit)) = (p["evseId"].as_i64(), limit) {
        st.ev_limits.insert(evse, limit);
    }
}
