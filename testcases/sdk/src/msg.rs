//! Payloads of the messages most cases send or answer, per OCPP version, so a case states
//! intent (`boot_notification(v, "PowerUp")`) instead of JSON shapes that differ between 1.6
//! and 2.x. Pure functions of their arguments (pass the time in from `kit::now()`): the
//! harness's tests validate every one against the official schemas of each version.
use serde_json::{Value, json};

use crate::kit::OcppVersion;

fn v16(v: OcppVersion) -> bool {
    v == OcppVersion::V16
}

/// BootNotification request of a station (1.6 has no reason field).
pub fn boot_notification(v: OcppVersion, reason: &str) -> Value {
    if v16(v) {
        json!({"chargePointVendor": "ocpp-harness", "chargePointModel": "HarnessStation"})
    } else {
        json!({"reason": reason, "chargingStation": {"model": "HarnessStation", "vendorName": "ocpp-harness"}})
    }
}

/// BootNotificationResponse of a CSMS: `Accepted`, `Pending` or `Rejected`.
pub fn boot_notification_response(_v: OcppVersion, status: &str, interval_s: u32, now: &str) -> Value {
    json!({"currentTime": now, "interval": interval_s, "status": status})
}

pub fn heartbeat() -> Value {
    json!({})
}

pub fn heartbeat_response(now: &str) -> Value {
    json!({"currentTime": now})
}

/// StatusNotification of connector 1 of `evse` (1.6: connector `evse`).
pub fn status_notification(v: OcppVersion, evse: u32, status: &str, now: &str) -> Value {
    if v16(v) {
        json!({"connectorId": evse, "errorCode": "NoError", "status": status, "timestamp": now})
    } else {
        json!({"timestamp": now, "connectorStatus": status, "evseId": evse, "connectorId": 1})
    }
}

/// Authorize of an RFID token.
pub fn authorize(v: OcppVersion, token: &str) -> Value {
    if v16(v) { json!({"idTag": token}) } else { json!({"idToken": {"idToken": token, "type": "ISO14443"}}) }
}

/// AuthorizeResponse with `status` (`Accepted`, `Invalid`, `Blocked`...).
pub fn authorize_response(v: OcppVersion, status: &str) -> Value {
    if v16(v) { json!({"idTagInfo": {"status": status}}) } else { json!({"idTokenInfo": {"status": status}}) }
}

/// 2.x GetVariables of one variable's Actual value.
pub fn get_variables(component: &str, variable: &str) -> Value {
    json!({"getVariableData": [{"component": {"name": component}, "variable": {"name": variable}}]})
}

/// 2.x SetVariables of one variable's Actual value.
pub fn set_variables(component: &str, variable: &str, value: &str) -> Value {
    json!({"setVariableData": [{"attributeValue": value, "component": {"name": component}, "variable": {"name": variable}}]})
}

/// 1.6 ChangeConfiguration of one key.
pub fn change_configuration(key: &str, value: &str) -> Value {
    json!({"key": key, "value": value})
}

/// A 1.6 charging profile (csChargingProfiles): `limit` A from its start, for `purpose` and,
/// for a TxProfile, `transaction`. Absolute, from `start`.
pub fn charging_profile_16(id: i64, purpose: &str, limit: f64, transaction: Option<i64>, start: &str) -> Value {
    let mut p = json!({
        "chargingProfileId": id, "stackLevel": 0, "chargingProfilePurpose": purpose, "chargingProfileKind": "Absolute",
        "chargingSchedule": {"startSchedule": start, "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]}
    });
    if let Some(t) = transaction {
        p["transactionId"] = json!(t);
    }
    p
}

/// Reset: 1.6 `Hard`/`Soft`, 2.x `Immediate`/`OnIdle`.
pub fn reset(_v: OcppVersion, kind: &str) -> Value {
    json!({"type": kind})
}

/// Every builder with sample arguments, as (action, request or response, payload), for the
/// schema check in the harness's tests.
pub fn samples(v: OcppVersion) -> Vec<(&'static str, bool, Value)> {
    let now = "2026-01-01T00:00:00Z";
    let mut s = vec![
        ("BootNotification", true, boot_notification(v, "PowerUp")),
        ("BootNotification", false, boot_notification_response(v, "Accepted", 300, now)),
        ("Heartbeat", true, heartbeat()),
        ("Heartbeat", false, heartbeat_response(now)),
        ("StatusNotification", true, status_notification(v, 1, "Available", now)),
        ("Authorize", true, authorize(v, "04E91C5A8B2F80")),
        ("Authorize", false, authorize_response(v, "Accepted")),
    ];
    if v16(v) {
        s.push(("ChangeConfiguration", true, change_configuration("HeartbeatInterval", "60")));
        s.push(("Reset", true, reset(v, "Soft")));
        s.push((
            "SetChargingProfile",
            true,
            json!({"connectorId": 1, "csChargingProfiles": charging_profile_16(1, "TxProfile", 16.0, Some(7), now)}),
        ));
    } else {
        s.push(("GetVariables", true, get_variables("OCPPCommCtrlr", "HeartbeatInterval")));
        s.push(("SetVariables", true, set_variables("OCPPCommCtrlr", "HeartbeatInterval", "60")));
        s.push(("Reset", true, reset(v, "OnIdle")));
    }
    s
}
