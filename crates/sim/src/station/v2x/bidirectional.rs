//! Bidirectional power transfer at the OCPP level of the 2.1 reference station (Q): the V2X
//! operation modes and energy transfer modes it lists (Q01.FR.30-32), charging profiles whose
//! periods ask for a mode it lacks or an Idle period with limits refused with the reason
//! (Q09.FR.01, Q10.FR.02), and aFRR signals refused without a LocalFrequency period that has a
//! signal curve (Q08.FR.11; this station has no LocalFrequency). Variant `no-v2x`: none of it.
use serde_json::{Value, json};

use super::super::{Station, StationConfig};
use crate::{Fault, variant::Variant};

/// The operation modes it supports: Q01.FR.31's three, and Idle.
const OPERATION_MODES: &str = "ChargingOnly,CentralSetpoint,CentralFrequency,Idle";
const ENERGY_TRANSFER_MODES: &str = "AC_single_phase,AC_three_phase,AC_BPT";

pub(in crate::station) fn variables(cfg: &StationConfig) -> Vec<(&'static str, String, bool)> {
    if cfg.variants.contains(&Variant::NoV2x) {
        return vec![];
    }
    // Fault few-v2x-modes: without the two central modes Q01.FR.31 asks for.
    let modes = if cfg.faults.has(&Fault::FewV2xModes) { "ChargingOnly,Idle" } else { OPERATION_MODES };
    vec![
        ("V2XChargingCtrlr.Enabled", "true".into(), false),
        ("V2XChargingCtrlr.SupportedOperationModes", modes.into(), true),
        ("V2XChargingCtrlr.SupportedEnergyTransferModes", ENERGY_TRANSFER_MODES.into(), true),
    ]
}

fn modes(st: &Station) -> Vec<String> {
    let listed = st.settings.get("V2XChargingCtrlr.SupportedOperationModes").map(|(v, _)| v.clone()).unwrap_or_else(|| "ChargingOnly".into());
    listed.split(',').map(|m| m.trim().to_string()).collect()
}

/// Why SetChargingProfile must be Rejected for its periods' operation modes: the reasonCode.
pub(in crate::station) fn refused(st: &Station, p: &Value) -> Option<&'static str> {
    let supported = modes(st);
    let schedules = p["chargingProfile"]["chargingSchedule"].as_array().cloned().unwrap_or_default();
    let periods: Vec<Value> = schedules.iter().flat_map(|s| s["chargingSchedulePeriod"].as_array().cloned().unwrap_or_default()).collect();
    for q in &periods {
        let mode = q["operationMode"].as_str().unwrap_or("ChargingOnly");
        if !supported.iter().any(|m| m == mode) {
            return Some("UnsupportedParam");
        }
        let set = ["limit", "dischargeLimit", "setpoint", "setpointReactive"].iter().any(|k| q.get(*k).is_some());
        if mode == "Idle" && set && !st.cfg.faults.has(&Fault::IdleWithLimits) {
            return Some("InvalidSchedule");
        }
    }
    None
}

/// AFRRSignal: nothing to apply it to (Q08.FR.11).
pub(in crate::station) fn afrr_signal(st: &Station) -> Value {
    if st.cfg.faults.has(&Fault::AcceptAnyAfrrSignal) {
        return json!({"status": "Accepted"});
    }
    json!({"status": "Rejected", "statusInfo": {"reasonCode": "NoSignalWattCurve"}})
}
