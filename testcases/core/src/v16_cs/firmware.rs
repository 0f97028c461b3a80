//! OCPP 1.6 firmware management for a charge-point DUT (1.6 §4.4, §4.5, §5.9, §5.19): the
//! status notifications of an update through the reboot into it, of a download or an
//! installation that fails, and of a diagnostics upload.
//!
//! The lab's files come from DUT description parameters: `firmware-location-16` (an image the
//! charge point installs), `failing-firmware-location-16` (one that fails its installation),
//! `diagnostics-location` (where an upload succeeds). The defaults suit the reference station.
//! A location on a `.invalid` host (RFC 2606) can never be reached.
use serde_json::json;

use super::{CS, boot_accepted, booted, reconnected};
use crate::{
    Case,
    kit::{self, *},
};

const FIRMWARE: &str = "https://firmware.example/cp-16-2.0.bin";
const CORRUPT_FIRMWARE: &str = "https://firmware.example/cp-16-2.0-corrupt.bin";
const UNREACHABLE: &str = "https://firmware.invalid/cp-16-2.0.bin";
const DIAGNOSTICS: &str = "ftp://diagnostics.example/upload/";
const NO_DIAGNOSTICS: &str = "ftp://diagnostics.invalid/upload/";
const FSN: &str = "FirmwareStatusNotification";
const DSN: &str = "DiagnosticsStatusNotification";

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    Case::new(id, title, CS, V16, requirements, run).profile("firmware-management").timeout_ms(45_000)
}

pub(super) fn cases() -> Vec<Case> {
    vec![
        case(
            "TC_044_1_CS",
            "1.6 firmware update: Downloading, Downloaded, Installing, the reboot into it, Installed",
            &["1.6 UpdateFirmware", "1.6 FirmwareStatusNotification", "1.6 §4.5"],
            tc_044_1,
        ),
        case(
            "TC_044_2_CS",
            "1.6 firmware update from a location that cannot be reached: DownloadFailed",
            &["1.6 UpdateFirmware", "1.6 FirmwareStatusNotification"],
            tc_044_2,
        ),
        case(
            "TC_044_3_CS",
            "1.6 firmware update whose image fails to install: InstallationFailed",
            &["1.6 UpdateFirmware", "1.6 FirmwareStatusNotification"],
            tc_044_3,
        ),
        case(
            "TC_045_1_CS",
            "1.6 GetDiagnostics names the file, then Uploading and Uploaded",
            &["1.6 GetDiagnostics", "1.6 DiagnosticsStatusNotification", "1.6 §4.4"],
            tc_045_1,
        ),
        case(
            "TC_045_2_CS",
            "1.6 GetDiagnostics to a location that cannot be reached: UploadFailed",
            &["1.6 GetDiagnostics", "1.6 DiagnosticsStatusNotification"],
            tc_045_2,
        ),
        case(
            "OH_16_L_01_CS",
            "1.6 TriggerMessage of the firmware and diagnostics statuses with nothing going on: Idle",
            &["1.6 TriggerMessage", "1.6 §4.4", "1.6 §4.5"],
            oh_16_l_01,
        ),
    ]
}

fn param(key: &str, default: &str) -> String {
    kit::config::parameter(key).unwrap_or_else(|| default.to_string())
}

/// UpdateFirmware of `location`, to be fetched now; its answer has no fields.
fn update(location: &str) -> Step<Connection> {
    let conn = booted(false)?;
    conn.claim(&[FSN.into()]);
    kit::call(&conn, "1.6 UpdateFirmware", "UpdateFirmware", json!({"location": location, "retrieveDate": now()}), 10_000)?;
    Ok(conn)
}

/// The firmware statuses in order up to the last of `expected`. A charge point may reboot
/// into the new image at any point after Downloaded (1.6 leaves when to it): the new
/// connection's BootNotification is accepted and the sequence goes on there.
fn statuses(mut conn: Connection, expected: &[&str]) -> Step {
    let req = "1.6 FirmwareStatusNotification";
    let mut rebooted = false;
    for (n, want) in expected.iter().enumerate() {
        let expecting = || format!("FirmwareStatusNotification {want}");
        let call = match conn.expect_call(FSN, 20_000) {
            Err(SessionError::Closed(_)) if !rebooted && n >= 2 => {
                rebooted = true;
                conn = reconnected(req, &["BootNotification", FSN])?;
                boot_accepted(&conn, "1.6 §4.5")?;
                conn.expect_call(FSN, 20_000)
            }
            other => other,
        };
        let call = call.map_err(|e| kit::fail(req, expecting(), format!("{e:?}")))?;
        let got = kit::Incoming {
            id: call.message_id,
            payload: kit::json(&call.payload),
        };
        kit::reply(&conn, req, &got, FSN, json!({}))?;
        let status = got.payload["status"].as_str().unwrap_or_default();
        kit::check(status == *want, req, format!("FirmwareStatusNotification {want} (step {} of {:?})", n + 1, expected), || {
            format!("status {status}")
        })?;
    }
    Ok(())
}

fn tc_044_1() -> Step {
    let conn = update(&param("firmware-location-16", FIRMWARE))?;
    statuses(conn, &["Downloading", "Downloaded", "Installing", "Installed"])
}

fn tc_044_2() -> Step {
    let conn = update(UNREACHABLE)?;
    statuses(conn, &["Downloading", "DownloadFailed"])
}

fn tc_044_3() -> Step {
    let conn = update(&param("failing-firmware-location-16", CORRUPT_FIRMWARE))?;
    statuses(conn, &["Downloading", "Downloaded", "Installing", "InstallationFailed"])
}

fn diagnostics(location: &str, last: &str) -> Step {
    let conn = booted(false)?;
    conn.claim(&[DSN.into()]);
    let r = kit::call(&conn, "1.6 GetDiagnostics", "GetDiagnostics", json!({"location": location}), 10_000)?;
    if last == "Uploaded" {
        kit::check(r["fileName"].as_str().is_some_and(|f| !f.is_empty()), "1.6 GetDiagnostics", "the name of the file to be uploaded", || {
            r.to_string()
        })?;
    }
    for want in ["Uploading", last] {
        let s = kit::expect_and_reply(&conn, "1.6 DiagnosticsStatusNotification", DSN, 20_000, json!({}))?;
        kit::check(s["status"] == want, "1.6 DiagnosticsStatusNotification", format!("DiagnosticsStatusNotification {want}"), || s.to_string())?;
    }
    Ok(())
}

fn tc_045_1() -> Step {
    diagnostics(&param("diagnostics-location", DIAGNOSTICS), "Uploaded")
}

fn tc_045_2() -> Step {
    diagnostics(NO_DIAGNOSTICS, "UploadFailed")
}

fn oh_16_l_01() -> Step {
    let conn = booted(false)?;
    for message in [FSN, DSN] {
        conn.claim(&[message.into()]);
        let r = kit::call(&conn, "1.6 TriggerMessage", "TriggerMessage", json!({"requestedMessage": message}), 10_000)?;
        kit::check(r["status"] == "Accepted", "1.6 TriggerMessage", format!("TriggerMessage {message} Accepted"), || r.to_string())?;
        let m = kit::expect_and_reply(&conn, "1.6 TriggerMessage", message, 10_000, json!({}))?;
        kit::check(m["status"] == "Idle", "1.6 TriggerMessage", format!("{message} Idle with nothing going on"), || m.to_string())?;
        conn.release(&[message.into()]);
    }
    Ok(())
}
