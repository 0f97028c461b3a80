//! OCPP 1.6 messages an operator has the Central System send (through `csms-trigger`): reset,
//! unlock, configuration, cache, local list, trigger and data transfer. Each case checks that
//! the request carries what the operator asked, answers it as the case's charge point would,
//! and sees the Central System stay in step.
use serde_json::{Value, json};

use super::{in_step, operated_case, rebooted, registered, session, status, stop};
use crate::{
    Case,
    kit::{self, *},
};

/// A case of this module: 1.6, core, needs `csms-trigger`.

pub(super) fn cases() -> Vec<Case> {
    vec![
        operated_case("TC_014_CSMS", "1.6 soft reset without a transaction: the Central System takes the charge point back", &["1.6 Reset"], tc_014),
        operated_case(
            "TC_015_CSMS",
            "1.6 hard reset during a transaction: the transaction ends with HardReset, the charge point comes back",
            &["1.6 Reset", "1.6 StopTransaction"],
            tc_015,
        ),
        operated_case(
            "TC_016_CSMS",
            "1.6 soft reset during a transaction: the transaction ends with SoftReset, the charge point comes back",
            &["1.6 Reset", "1.6 StopTransaction"],
            tc_016,
        ),
        operated_case("TC_017_1_CSMS", "1.6 unlock a connector without a session: Unlocked", &["1.6 UnlockConnector"], tc_017_1),
        operated_case(
            "TC_018_1_CSMS",
            "1.6 unlock a connector during a session: the transaction ends with UnlockCommand first",
            &["1.6 UnlockConnector", "1.6 StopTransaction"],
            tc_018_1,
        ),
        operated_case(
            "TC_030_CSMS",
            "1.6 unlock a connector that does not unlock: UnlockFailed, the Central System goes on",
            &["1.6 UnlockConnector"],
            tc_030,
        ),
        operated_case(
            "TC_031_CSMS",
            "1.6 unlock a connector the charge point does not have: NotSupported, the Central System goes on",
            &["1.6 UnlockConnector"],
            tc_031,
        ),
        operated_case("TC_019_1_CSMS", "1.6 retrieve all configuration keys", &["1.6 GetConfiguration"], tc_019_1),
        operated_case("TC_019_2_CSMS", "1.6 retrieve a specific configuration key", &["1.6 GetConfiguration"], tc_019_2),
        operated_case("TC_021_CSMS", "1.6 change a configuration key: Accepted", &["1.6 ChangeConfiguration"], tc_021),
        operated_case(
            "TC_040_1_CSMS",
            "1.6 change a configuration key the charge point does not have: NotSupported, the Central System goes on",
            &["1.6 ChangeConfiguration"],
            tc_040_1,
        ),
        operated_case(
            "TC_040_2_CSMS",
            "1.6 change a configuration key to an invalid value: Rejected, the Central System goes on",
            &["1.6 ChangeConfiguration"],
            tc_040_2,
        ),
        operated_case("TC_042_1_CSMS", "1.6 get the local list version of a charge point without one: -1", &["1.6 GetLocalListVersion"], tc_042_1),
        operated_case("TC_042_2_CSMS", "1.6 get the local list version of an empty list: 0", &["1.6 GetLocalListVersion"], tc_042_2),
        operated_case("TC_043_CSMS", "1.6 send a full local authorization list", &["1.6 SendLocalList"], tc_043),
        operated_case("TC_054_CSMS", "1.6 trigger a StatusNotification: Accepted, then sent and answered", &["1.6 TriggerMessage"], tc_054),
        operated_case(
            "TC_055_CSMS",
            "1.6 trigger a message the charge point declines: Rejected, the Central System goes on",
            &["1.6 TriggerMessage"],
            tc_055,
        ),
        operated_case("TC_061_CSMS", "1.6 clear the authorization cache", &["1.6 ClearCache"], tc_061),
        operated_case(
            "TC_062_CSMS",
            "1.6 data transfer to a charge point that does not know the vendor: UnknownVendorId, the Central System goes on",
            &["1.6 DataTransfer"],
            tc_062,
        ),
    ]
}

/// The operator has the Central System send `action` (`hint`: what the operator asked); the
/// charge point takes it, checks that the fields at `asked` (JSON pointers) are as the
/// operator set them, and answers `reply`. The request as sent.
pub(super) fn operated(conn: &Connection, action: &str, hint: Value, asked: &[&str], reply: Value) -> Step<Value> {
    let call = requested(conn, action, hint, asked)?;
    kit::reply(conn, &format!("1.6 {action}"), &call, action, reply)?;
    Ok(call.payload)
}

/// Like [`operated`], leaving the answer to the caller. The Central System has the lab's
/// response time to send it.
pub(super) fn requested(conn: &Connection, action: &str, hint: Value, asked: &[&str]) -> Step<Incoming> {
    let req = format!("1.6 {action}");
    kit::csms_trigger(conn, action, hint.clone())?;
    let call = kit::expect(conn, &req, action, config::lab_timing().response_ms)?;
    for p in asked {
        let (want, got) = (hint.pointer(p).cloned().unwrap_or(Value::Null), call.payload.pointer(p).cloned().unwrap_or(Value::Null));
        kit::check(want == got, &req, format!("{p} {want}, as the operator asked"), || format!("{p} {got}"))?;
    }
    Ok(call)
}

fn tc_014() -> Step {
    let conn = registered()?;
    operated(&conn, "Reset", json!({"type": "Soft"}), &["/type"], json!({"status": "Accepted"}))?;
    rebooted(conn, "1.6 Reset").map(drop)
}

/// TC_015/016_CSMS: a reset of `kind` during a session; the charge point ends the
/// transaction with reason `reason` before it reboots, and the Central System takes both.
fn reset_in_session(kind: &str, reason: &str) -> Step {
    let conn = registered()?;
    let id = session(&conn, &kit::valid_token(), 1000)?;
    operated(&conn, "Reset", json!({"type": kind}), &["/type"], json!({"status": "Accepted"}))?;
    stop(&conn, id, reason)?;
    rebooted(conn, "1.6 Reset").map(drop)
}

fn tc_015() -> Step {
    reset_in_session("Hard", "HardReset")
}

fn tc_016() -> Step {
    reset_in_session("Soft", "SoftReset")
}

/// Unlock connector `connector`; the charge point answers `answer`.
fn unlock(connector: u32, answer: &str) -> Step {
    let conn = registered()?;
    operated(&conn, "UnlockConnector", json!({"connectorId": connector}), &["/connectorId"], json!({"status": answer}))?;
    in_step(&conn, "1.6 UnlockConnector")
}

fn tc_017_1() -> Step {
    unlock(1, "Unlocked")
}

/// 1.6 §5.18: with a transaction on the connector, the charge point stops it (reason
/// UnlockCommand) before it unlocks and answers.
fn tc_018_1() -> Step {
    let conn = registered()?;
    let id = session(&conn, &kit::valid_token(), 1000)?;
    let call = requested(&conn, "UnlockConnector", json!({"connectorId": 1}), &["/connectorId"])?;
    stop(&conn, id, "UnlockCommand")?;
    kit::reply(&conn, "1.6 UnlockConnector", &call, "UnlockConnector", json!({"status": "Unlocked"}))?;
    status(&conn, 1, "Finishing")?;
    in_step(&conn, "1.6 UnlockConnector")
}

fn tc_030() -> Step {
    unlock(1, "UnlockFailed")
}

fn tc_031() -> Step {
    unlock(9, "NotSupported")
}

/// The keys this charge point reports (1.6 §9.1, core profile).
fn configuration() -> Value {
    json!({"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": false, "value": "300"},
        {"key": "MeterValueSampleInterval", "readonly": false, "value": "60"},
        {"key": "NumberOfConnectors", "readonly": true, "value": "1"},
    ]})
}

fn tc_019_1() -> Step {
    let conn = registered()?;
    operated(&conn, "GetConfiguration", json!({}), &[], configuration())?;
    in_step(&conn, "1.6 GetConfiguration")
}

fn tc_019_2() -> Step {
    let conn = registered()?;
    let one = json!({"configurationKey": [{"key": "MeterValueSampleInterval", "readonly": false, "value": "60"}]});
    operated(&conn, "GetConfiguration", json!({"key": ["MeterValueSampleInterval"]}), &["/key"], one)?;
    in_step(&conn, "1.6 GetConfiguration")
}

/// ChangeConfiguration of `key` to `value`, answered `answer`.
fn change(key: &str, value: &str, answer: &str) -> Step {
    let conn = registered()?;
    operated(&conn, "ChangeConfiguration", json!({"key": key, "value": value}), &["/key", "/value"], json!({"status": answer}))?;
    in_step(&conn, "1.6 ChangeConfiguration")
}

fn tc_021() -> Step {
    change("MeterValueSampleInterval", "30", "Accepted")
}

fn tc_040_1() -> Step {
    change("NoSuchKeyOnThisChargePoint", "1", "NotSupported")
}

fn tc_040_2() -> Step {
    change("MeterValueSampleInterval", "-5", "Rejected")
}

fn local_list_version(version: i64) -> Step {
    let conn = registered()?;
    operated(&conn, "GetLocalListVersion", json!({}), &[], json!({"listVersion": version}))?;
    in_step(&conn, "1.6 GetLocalListVersion")
}

fn tc_042_1() -> Step {
    local_list_version(-1)
}

fn tc_042_2() -> Step {
    local_list_version(0)
}

fn tc_043() -> Step {
    let conn = registered()?;
    let list = json!({"listVersion": 1, "updateType": "Full", "localAuthorizationList": [{"idTag": kit::valid_token(), "idTagInfo": {"status": "Accepted"}}]});
    operated(&conn, "SendLocalList", list, &["/listVersion", "/updateType", "/localAuthorizationList/0/idTag"], json!({"status": "Accepted"}))?;
    in_step(&conn, "1.6 SendLocalList")
}

fn tc_054() -> Step {
    let conn = registered()?;
    operated(
        &conn,
        "TriggerMessage",
        json!({"requestedMessage": "StatusNotification", "connectorId": 1}),
        &["/requestedMessage", "/connectorId"],
        json!({"status": "Accepted"}),
    )?;
    status(&conn, 1, "Available")
}

fn tc_055() -> Step {
    let conn = registered()?;
    operated(
        &conn,
        "TriggerMessage",
        json!({"requestedMessage": "MeterValues", "connectorId": 1}),
        &["/requestedMessage"],
        json!({"status": "Rejected"}),
    )?;
    in_step(&conn, "1.6 TriggerMessage")
}

fn tc_061() -> Step {
    let conn = registered()?;
    operated(&conn, "ClearCache", json!({}), &[], json!({"status": "Accepted"}))?;
    in_step(&conn, "1.6 ClearCache")
}

fn tc_062() -> Step {
    let conn = registered()?;
    operated(
        &conn,
        "DataTransfer",
        json!({"vendorId": "org.example.lab", "messageId": "probe", "data": "1"}),
        &["/vendorId"],
        json!({"status": "UnknownVendorId"}),
    )?;
    in_step(&conn, "1.6 DataTransfer")
}
