//! OCPP 1.6 firmware updates and diagnostics for a Central System DUT (1.6 §4.4, 4.5, 5.9,
//! 5.19): the operator's request reaches the charge point as asked, and the Central System
//! takes every status notification that follows, and the reboot into a new firmware.
use serde_json::json;

use super::{in_step, operated_case, operator::operated, rebooted, registered};
use crate::{
    Case,
    kit::{self, *},
};

pub(super) fn cases() -> Vec<Case> {
    vec![
        operated_case(
            "TC_044_1_CSMS",
            "1.6 firmware update: downloaded, installed, the charge point reboots into it",
            &["1.6 UpdateFirmware", "1.6 FirmwareStatusNotification"],
            tc_044_1,
        )
        .timeout_ms(40_000),
        operated_case(
            "TC_044_2_CSMS",
            "1.6 firmware update whose download fails",
            &["1.6 UpdateFirmware", "1.6 FirmwareStatusNotification"],
            tc_044_2,
        )
        .timeout_ms(40_000),
        operated_case(
            "TC_044_3_CSMS",
            "1.6 firmware update whose installation fails",
            &["1.6 UpdateFirmware", "1.6 FirmwareStatusNotification"],
            tc_044_3,
        )
        .timeout_ms(40_000),
        operated_case("TC_045_1_CSMS", "1.6 get diagnostics: uploaded", &["1.6 GetDiagnostics", "1.6 DiagnosticsStatusNotification"], tc_045_1)
            .timeout_ms(40_000),
        operated_case(
            "TC_045_2_CSMS",
            "1.6 get diagnostics whose upload fails",
            &["1.6 GetDiagnostics", "1.6 DiagnosticsStatusNotification"],
            tc_045_2,
        )
        .timeout_ms(40_000),
    ]
}

/// What the charge point does after UpdateFirmware.
enum Fw {
    Status(&'static str),
    /// Reboots into the new firmware (and reports Installed after it).
    Reboot,
}

fn firmware_update(script: &[Fw]) -> Step {
    let mut conn = registered()?;
    let hint = json!({"location": "https://firmware.example.org/cp-2.0.bin", "retrieveDate": now()});
    operated(&conn, "UpdateFirmware", hint, &["/location"], json!({}))?;
    for step in script {
        match step {
            Fw::Status(s) => {
                kit::call(&conn, "1.6 FirmwareStatusNotification", "FirmwareStatusNotification", json!({"status": s}), 10_000)?;
            }
            Fw::Reboot => conn = rebooted(conn, "1.6 UpdateFirmware")?,
        }
    }
    in_step(&conn, "1.6 FirmwareStatusNotification")
}

fn tc_044_1() -> Step {
    firmware_update(&[Fw::Status("Downloading"), Fw::Status("Downloaded"), Fw::Status("Installing"), Fw::Reboot, Fw::Status("Installed")])
}

fn tc_044_2() -> Step {
    firmware_update(&[Fw::Status("Downloading"), Fw::Status("DownloadFailed")])
}

fn tc_044_3() -> Step {
    firmware_update(&[Fw::Status("Downloading"), Fw::Status("Downloaded"), Fw::Status("Installing"), Fw::Status("InstallationFailed")])
}

fn diagnostics(outcome: &str) -> Step {
    let conn = registered()?;
    operated(
        &conn,
        "GetDiagnostics",
        json!({"location": "ftp://diagnostics.example.org/upload"}),
        &["/location"],
        json!({"fileName": "cp-diagnostics.log"}),
    )?;
    for s in ["Uploading", outcome] {
        kit::call(&conn, "1.6 DiagnosticsStatusNotification", "DiagnosticsStatusNotification", json!({"status": s}), 10_000)?;
    }
    in_step(&conn, "1.6 DiagnosticsStatusNotification")
}

fn tc_045_1() -> Step {
    diagnostics("Uploaded")
}

fn tc_045_2() -> Step {
    diagnostics("UploadFailed")
}
