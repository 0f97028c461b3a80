//! F06 TriggerMessage and F05 UnlockConnector cases that part 5 makes conditional for a
//! charging station (part 6 §2.6). Each names the feature it depends on, after part 5's PICS
//! (C-29.1 MeterValues, C-29.2 TransactionEvent, C-29.3 LogStatusNotification, C-29.4
//! FirmwareStatusNotification, C-29.6 BootNotification); a DUT description declares them.
use serde_json::json;

use super::diagnostics::{get_log, location};
use crate::{
    Case,
    kit::{self, Connection, Role, StationState, Step, V201},
};

fn case(id: &'static str, title: &'static str, feature: &'static [&'static str], requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    let mut c = Case::new(id, title, Role::Csms, V201, requirements, run).timeout_ms(30_000);
    c.features = feature;
    c
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        case("TC_F_07_CS", "UnlockConnector with no cable connected answers Unlocked", &[], &["F05.FR.01", "F05.FR.06"], tc_f_07),
        case(
            "TC_F_12_CS",
            "TriggerMessage MeterValues without an EVSE: one MeterValues per EVSE, context Trigger",
            &["trigger-meter-values"],
            &["F06.FR.04", "F06.FR.05", "F06.FR.06", "F06.FR.11", "F06.FR.10"],
            tc_f_12,
        ),
        case(
            "TC_F_14_CS",
            "TriggerMessage TransactionEvent without an EVSE: one per transaction, triggerReason Trigger, with meter values",
            &["trigger-transaction-event"],
            &["F06.FR.04", "F06.FR.05", "F06.FR.07", "F06.FR.11", "F06.FR.10"],
            tc_f_14,
        ),
        case(
            "TC_F_16_CS",
            "TriggerMessage LogStatusNotification during an upload reports Uploading",
            &["trigger-log-status"],
            &["F06.FR.04", "F06.FR.05", "F06.FR.14", "F06.FR.10"],
            tc_f_16,
        ),
        case(
            "TC_F_17_CS",
            "TriggerMessage FirmwareStatusNotification for an EVSE (not relevant to it) is Accepted and reports Idle",
            &["trigger-firmware-status"],
            &["F06.FR.03", "F06.FR.04", "F06.FR.05", "F06.FR.10"],
            tc_f_17,
        ),
        case(
            "TC_F_18_CS",
            "TriggerMessage FirmwareStatusNotification with no update going on reports Idle",
            &["trigger-firmware-status"],
            &["F06.FR.04", "F06.FR.05", "F06.FR.16", "L01.FR.25", "F06.FR.10"],
            tc_f_18,
        ),
        case(
            "TC_F_19_CS",
            "TriggerMessage FirmwareStatusNotification during a download reports Downloading",
            &["trigger-firmware-status"],
            &["F06.FR.04", "F06.FR.05", "L01.FR.26", "F06.FR.10"],
            tc_f_19,
        )
        // It lets the update it started end, reboot included.
        .timeout_ms(90_000),
        case("TC_F_26_CS", "TriggerMessage BootNotification once registered is Rejected", &["trigger-boot-notification"], &["F06.FR.17", "F06.FR.04", "F06.FR.05"], tc_f_26),
        case("TC_F_27_CS", "TriggerMessage of a message the station does not implement answers NotImplemented", &[], &["F06.FR.08"], tc_f_27),
    ]
}

fn trigger(conn: &Connection, req: &str, payload: serde_json::Value, expected: &str) -> Step {
    let r = kit::call(conn, req, "TriggerMessage", payload, 10_000)?;
    kit::check(r["status"] == expected, req, format!("TriggerMessage answered {expected}"), || r.to_string())
}

fn tc_f_07() -> Step {
    let conn = super::booted(300)?;
    let r = kit::call_optional(
        &conn,
        "F05.FR.01",
        "UnlockConnector",
        json!({"evseId": kit::evse_id(), "connectorId": kit::connector_id()}),
        super::LOCK,
    )?;
    kit::check(r["status"] == "Unlocked", "F05.FR.06", "UnlockConnector Unlocked with no cable in", || r.to_string())
}

fn tc_f_12() -> Step {
    let conn = super::booted(300)?;
    conn.claim(&["MeterValues".into()]);
    super::triggered(&conn, "F06.FR.04", json!({"requestedMessage": "MeterValues"}), "C-29.1")?;
    let m = kit::expect_and_reply(&conn, "F06.FR.11", "MeterValues", 10_000, json!({}))?;
    let context = kit::at(&m, "/meterValue/0/sampledValue/0/context");
    kit::check(context == "Trigger", "F06.FR.06", "meter values with context Trigger", || m.to_string())
}

fn tc_f_14() -> Step {
    let (conn, tx) = kit::reach_station(StationState::EnergyTransferStarted, kit::evse_id(), &[super::TX])?;
    super::triggered(&conn, "F06.FR.04", json!({"requestedMessage": "TransactionEvent"}), "C-29.2")?;
    let ev = super::next_tx_event(&conn, "F06.FR.11", 10_000)?;
    let ok = ev["triggerReason"] == "Trigger"
        && super::tx_id(&ev) == tx.unwrap_or_default()
        && kit::at(&ev, "/transactionInfo/chargingState") == "Charging";
    kit::check(ok, "F06.FR.07", "TransactionEvent of the ongoing transaction, triggerReason Trigger, chargingState Charging", || ev.to_string())?;
    let context = kit::at(&ev, "/meterValue/0/sampledValue/0/context");
    kit::check(context == "Trigger", "F06.FR.07", "meter values with context Trigger", || ev.to_string())
}

fn tc_f_16() -> Step {
    let conn = super::booted(300)?;
    get_log(&conn, "N01", 16, "DiagnosticsLog", &location("log-location", "ftp://logs.example/upload"), json!({}))?;
    let n = kit::expect_and_reply(&conn, "N01", "LogStatusNotification", 10_000, json!({}))?;
    kit::check(n["status"] == "Uploading", "N01", "LogStatusNotification Uploading", || n.to_string())?;
    super::triggered(&conn, "F06.FR.04", json!({"requestedMessage": "LogStatusNotification"}), "C-29.3")?;
    let n = kit::expect_and_reply(&conn, "F06.FR.14", "LogStatusNotification", 10_000, json!({}))?;
    kit::check(n["status"] == "Uploading" && n["requestId"] == 16, "F06.FR.14", "Uploading for request 16 while the upload goes on", || n.to_string())
}

fn firmware_idle(evse: Option<u32>) -> Step {
    let conn = super::booted(300)?;
    conn.claim(&["FirmwareStatusNotification".into()]);
    let mut payload = json!({"requestedMessage": "FirmwareStatusNotification"});
    if let Some(id) = evse {
        payload["evse"] = json!({"id": id});
    }
    super::triggered(&conn, "F06.FR.04", payload, "C-29.4")?;
    let n = kit::expect_and_reply(&conn, "F06.FR.16", "FirmwareStatusNotification", 10_000, json!({}))?;
    kit::check(n["status"] == "Idle", "F06.FR.16", "FirmwareStatusNotification Idle with no update going on", || n.to_string())
}

fn tc_f_17() -> Step {
    firmware_idle(Some(1))
}

fn tc_f_18() -> Step {
    firmware_idle(None)
}

fn tc_f_19() -> Step {
    let conn = super::booted(300)?;
    conn.claim(&["FirmwareStatusNotification".into(), "SecurityEventNotification".into()]);
    let (location, certificate, signature) = super::firmware::good_image();
    let firmware =
        json!({"location": location, "retrieveDateTime": kit::time_from_now(-7_200), "signingCertificate": certificate, "signature": signature});
    let r = kit::call(&conn, "L01", "UpdateFirmware", json!({"requestId": 19, "firmware": firmware}), 10_000)?;
    kit::check(r["status"] == "Accepted", "L01", "UpdateFirmware Accepted", || r.to_string())?;
    let n = kit::expect_and_reply(&conn, "L01", "FirmwareStatusNotification", 10_000, json!({}))?;
    kit::check(n["status"] == "Downloading", "L01", "FirmwareStatusNotification Downloading", || n.to_string())?;
    trigger(&conn, "F06.FR.04", json!({"requestedMessage": "FirmwareStatusNotification"}), "Accepted")?;
    // The triggered one may come after the update's own next status.
    for _ in 0..3 {
        let n = kit::expect_and_reply(&conn, "L01.FR.26", "FirmwareStatusNotification", 10_000, json!({}))?;
        if n["status"] == "Downloading" {
            return super::firmware::let_finish(conn, 60_000);
        }
    }
    Err(kit::fail("L01.FR.26", "the triggered FirmwareStatusNotification Downloading", "only later statuses"))
}

fn tc_f_26() -> Step {
    let conn = super::booted(300)?;
    trigger(&conn, "F06.FR.17", json!({"requestedMessage": "BootNotification"}), "Rejected")
}

fn tc_f_27() -> Step {
    let conn = super::booted(300)?;
    trigger(&conn, "F06.FR.08", json!({"requestedMessage": "SignCombinedCertificate"}), "NotImplemented")
}
