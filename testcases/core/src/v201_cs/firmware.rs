//! Block L, secure firmware update, for a charging-station DUT (part 6 §2.12): the status
//! sequence of a successful update through the reboot that activates it, scheduled download
//! and installation, and each way an update must be refused or fail.
//!
//! The lab's firmware comes from DUT description parameters: `firmware-location`,
//! `firmware-signing-certificate` (PEM), `firmware-signature`, and for the failure cases
//! `failing-firmware-location` (an image that fails its installation check, with
//! `failing-firmware-signature`). The defaults suit the reference station (see its
//! `firmware` module).
use serde_json::{Value, json};

use super::certificates::MANUFACTURER_ROOT;
use crate::{
    Case,
    kit::{self, Connection, Role, Step, V201, now},
};

const LOCATION: &str = "https://firmware.example/refstation-2.0.bin";
const SIGNATURE: &str = "CH6JWEtCY4J97CLLLHU65tci73c2DXpXST1JE/uAnU0=";
const CORRUPT_LOCATION: &str = "https://firmware.example/refstation-2.0-corrupt.bin";
const CORRUPT_SIGNATURE: &str = "JqHJUJ9I2O/YGxiAx2ENFzFudRtkrhxB2kQ60CjyeJA=";
/// A real-looking signature that belongs to no image (32 bytes of zeroes, base64).
const WRONG_SIGNATURE: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    Case::new(id, title, Role::Csms, V201, requirements, run).timeout_ms(45_000)
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        case(
            "TC_L_01_CS",
            "Secure firmware update: Downloading, Downloaded, SignatureVerified, a reboot with reason FirmwareUpdate, Installed and a FirmwareUpdated security event",
            &[
                "L01.FR.01",
                "L01.FR.04",
                "L01.FR.05",
                "L01.FR.09",
                "L01.FR.10",
                "L01.FR.12",
                "L01.FR.13",
                "L01.FR.15",
                "L01.FR.20",
                "L01.FR.21",
                "L01.FR.23",
            ],
            tc_l_01,
        ),
        case(
            "TC_L_02_CS",
            "A firmware update with a later installDateTime reports InstallScheduled and installs no earlier",
            &["L01.FR.01", "L01.FR.13", "L01.FR.15", "L01.FR.04", "L01.FR.05", "L01.FR.09", "L01.FR.10", "L01.FR.12", "L01.FR.16", "L01.FR.20", "L01.FR.21", "L01.FR.23"],
            tc_l_02,
        ),
        case(
            "TC_L_03_CS",
            "A firmware update with a later retrieveDateTime reports DownloadScheduled and downloads no earlier",
            &["L01.FR.01", "L01.FR.13", "L01.FR.15", "L01.FR.04", "L01.FR.05", "L01.FR.09", "L01.FR.10", "L01.FR.12", "L01.FR.20", "L01.FR.21", "L01.FR.23"],
            tc_l_03,
        ),
        case(
            "TC_L_05_CS",
            "A firmware update signed with an invalid certificate is answered InvalidCertificate, with a security event",
            &["L01.FR.02", "L01.FR.03", "L01.FR.01", "L01.FR.10", "L01.FR.20", "L01.FR.21", "L01.FR.22"],
            tc_l_05,
        ),
        case(
            "TC_L_06_CS",
            "A firmware image whose signature does not verify ends with InvalidSignature and a security event",
            &["L01.FR.03", "L01.FR.04", "L01.FR.01", "L01.FR.10", "L01.FR.20"],
            tc_l_06,
        ),
        case("TC_L_07_CS", "A firmware image that cannot be downloaded ends with DownloadFailed", &["L01.FR.01", "L01.FR.06", "L01.FR.10", "L01.FR.20"], tc_l_07),
        case(
            "TC_L_08_CS",
            "A firmware image that fails its installation check ends with InstallVerificationFailed or InstallationFailed",
            &["L01.FR.01", "L01.FR.08", "L01.FR.10", "L01.FR.12", "L01.FR.20"],
            tc_l_08,
        ),
        case("TC_L_18_CS", "A firmware update without signing certificate and signature is Rejected or InvalidCertificate", &["L01"], tc_l_18),
    ]
}

fn param(key: &str, default: &str) -> String {
    kit::config::parameter(key).unwrap_or_else(|| default.to_string())
}

/// A registered station whose firmware messages, security events and boots are the case's.
fn ready() -> Step<Connection> {
    let conn = super::booted(300)?;
    conn.claim(&["FirmwareStatusNotification".into(), "SecurityEventNotification".into()]);
    Ok(conn)
}

/// UpdateFirmware with this image; `retrieve_s`/`install_s` seconds from now (negative: past).
fn update(
    conn: &Connection,
    req: &str,
    location: &str,
    certificate: Option<&str>,
    signature: Option<&str>,
    retrieve_s: i64,
    install_s: i64,
) -> Step<Value> {
    let mut firmware =
        json!({"location": location, "retrieveDateTime": kit::time_from_now(retrieve_s), "installDateTime": kit::time_from_now(install_s)});
    if let Some(c) = certificate {
        firmware["signingCertificate"] = json!(c);
    }
    if let Some(s) = signature {
        firmware["signature"] = json!(s);
    }
    kit::call(conn, req, "UpdateFirmware", json!({"requestId": 42, "retries": 0, "firmware": firmware}), 10_000)
}

fn accepted(req: &str, r: &Value) -> Step {
    kit::check(r["status"] == "Accepted", req, "UpdateFirmware Accepted", || r.to_string())
}

/// The next firmware status for request 42 (security events that come first are kept).
fn next_status(conn: &Connection, req: &str, events: &mut Vec<String>) -> Step<String> {
    let deadline = kit::clock::now_ms() + 15_000;
    while kit::clock::now_ms() < deadline {
        if let Ok(call) = kit::expect(conn, req, "FirmwareStatusNotification", 250) {
            kit::reply(conn, req, &call, "FirmwareStatusNotification", json!({}))?;
            kit::check(call.payload["requestId"] == 42, "L01.FR.20", "FirmwareStatusNotification for request 42", || call.payload.to_string())?;
            return Ok(call.payload["status"].as_str().unwrap_or_default().to_string());
        }
        if let Ok(call) = kit::expect(conn, req, "SecurityEventNotification", 50) {
            kit::reply(conn, req, &call, "SecurityEventNotification", json!({}))?;
            events.push(call.payload["type"].as_str().unwrap_or_default().to_string());
        }
    }
    Err(kit::fail(req, "a FirmwareStatusNotification within 15 s", "none"))
}

/// Statuses in this order (`None` entries mark the reboot of reusable state
/// RebootBeforeFirmwareInstallation/Activation); returns the connection at the end and the
/// security events seen.
fn sequence(mut conn: Connection, req: &str, expected: &[Option<&str>]) -> Step<(Connection, Vec<String>)> {
    let mut events = vec![];
    for want in expected {
        match want {
            Some(status) => {
                let got = next_status(&conn, req, &mut events)?;
                kit::check(got == *status, req, format!("FirmwareStatusNotification {status}"), || format!("status {got}"))?;
            }
            None => {
                let _ = conn.expect_close(15_000);
                conn = kit::accept_station(req, 30_000, &["BootNotification", "FirmwareStatusNotification", "SecurityEventNotification"])?;
                let boot = kit::expect_and_reply(
                    &conn,
                    "L01.FR.12",
                    "BootNotification",
                    10_000,
                    json!({"currentTime": now(), "interval": 300, "status": "Accepted"}),
                )?;
                kit::check(boot["reason"] == "FirmwareUpdate", "L01.FR.12", "boot reason FirmwareUpdate", || boot.to_string())?;
            }
        }
    }
    Ok((conn, events))
}

/// A security event of `kind` (already seen, or within 10 s).
fn security_event(conn: &Connection, req: &str, seen: &[String], kind: &str) -> Step {
    if seen.iter().any(|s| s == kind) {
        return Ok(());
    }
    let ev = kit::expect_and_reply(conn, req, "SecurityEventNotification", 10_000, json!({}))?;
    kit::check(ev["type"] == kind, req, format!("a security event of type {kind}"), || ev.to_string())
}

/// Statuses after which an update is over and the station idle again (L01, FirmwareStatusEnumType).
const ENDED: &[&str] = &["Installed", "InstallationFailed", "InstallVerificationFailed", "InvalidSignature", "DownloadFailed"];

/// Lets an update that a case started for another purpose run to its end, through the reboot
/// that activates it: a station that stays connected for the whole run would otherwise restart
/// in the middle of a later case. The case's checks are already made, so an update that does
/// not end within `within_ms` is logged, not held against it.
pub(crate) fn let_finish(mut conn: Connection, within_ms: u64) -> Step {
    let deadline = kit::clock::now_ms() + within_ms;
    while kit::clock::now_ms() < deadline {
        match conn.expect_call("FirmwareStatusNotification", 500) {
            Ok(call) => {
                let _ = conn.reply(&call.message_id, "{}");
                let status = kit::json(&call.payload)["status"].as_str().unwrap_or_default().to_string();
                if ENDED.contains(&status.as_str()) {
                    kit::info(format!("the update ended with {status}"));
                    return Ok(());
                }
            }
            Err(kit::session::SessionError::Timeout(_)) => {}
            // The activating reboot: its BootNotification gets the default answer.
            Err(kit::session::SessionError::Closed(_)) => conn = kit::accept_station("L01", 30_000, &["FirmwareStatusNotification"])?,
            Err(e) => {
                kit::info(format!("stopped waiting for the update to end: {e:?}"));
                return Ok(());
            }
        }
    }
    kit::info(format!("the update had not ended after {} s; a later case may see the station restart", within_ms / 1000));
    Ok(())
}

pub(crate) fn good_image() -> (String, String, String) {
    (param("firmware-location", LOCATION), param("firmware-signing-certificate", MANUFACTURER_ROOT), param("firmware-signature", SIGNATURE))
}

/// Statuses of a successful update from SignatureVerified on, through the activating reboot.
const INSTALL: [Option<&str>; 4] = [Some("InstallRebooting"), None, Some("Installing"), Some("Installed")];

fn installed(conn: Connection, req: &str, before: &[Option<&str>]) -> Step {
    let all: Vec<Option<&str>> = before.iter().copied().chain(INSTALL).collect();
    let (conn, events) = sequence(conn, req, &all)?;
    security_event(&conn, "L01.FR.21", &events, "FirmwareUpdated")
}

fn tc_l_01() -> Step {
    let conn = ready()?;
    let (location, certificate, signature) = good_image();
    accepted("L01.FR.01", &update(&conn, "L01.FR.01", &location, Some(&certificate), Some(&signature), -7_200, -7_200)?)?;
    installed(conn, "L01.FR.13", &[Some("Downloading"), Some("Downloaded"), Some("SignatureVerified")])
}

fn tc_l_02() -> Step {
    let conn = ready()?;
    let (location, certificate, signature) = good_image();
    accepted("L01.FR.01", &update(&conn, "L01.FR.01", &location, Some(&certificate), Some(&signature), -7_200, 4)?)?;
    let (conn, _) = sequence(conn, "L01.FR.15", &[Some("Downloading"), Some("Downloaded"), Some("SignatureVerified"), Some("InstallScheduled")])?;
    let scheduled_at = kit::clock::now_ms();
    let (conn, events) = sequence(conn, "L01.FR.15", &[Some("InstallRebooting")])?;
    let waited = kit::clock::now_ms() - scheduled_at;
    kit::check(
        waited + u64::from(kit::config::lab_timing().tolerance_ms) >= 3_000,
        "L01.FR.15",
        "no installation before installDateTime (4 s after the request)",
        || format!("InstallRebooting {waited} ms after InstallScheduled"),
    )?;
    let (conn, more) = sequence(conn, "L01.FR.13", &[None, Some("Installing"), Some("Installed")])?;
    security_event(&conn, "L01.FR.21", &[events, more].concat(), "FirmwareUpdated")
}

fn tc_l_03() -> Step {
    let conn = ready()?;
    let (location, certificate, signature) = good_image();
    accepted("L01.FR.01", &update(&conn, "L01.FR.01", &location, Some(&certificate), Some(&signature), 4, -7_200)?)?;
    let (conn, _) = sequence(conn, "L01.FR.13", &[Some("DownloadScheduled")])?;
    let scheduled_at = kit::clock::now_ms();
    let (conn, _) = sequence(conn, "L01.FR.13", &[Some("Downloading")])?;
    let waited = kit::clock::now_ms() - scheduled_at;
    kit::check(
        waited + u64::from(kit::config::lab_timing().tolerance_ms) >= 3_000,
        "L01.FR.13",
        "no download before retrieveDateTime (4 s after the request)",
        || format!("Downloading {waited} ms after DownloadScheduled"),
    )?;
    installed(conn, "L01.FR.13", &[Some("Downloaded"), Some("SignatureVerified")])
}

fn tc_l_05() -> Step {
    let conn = ready()?;
    let (location, _, signature) = good_image();
    let invalid = param("invalid-firmware-signing-certificate", super::certificates::EXPIRED_ROOT);
    let r = update(&conn, "L01.FR.02", &location, Some(&invalid), Some(&signature), -7_200, -7_200)?;
    kit::check(
        r["status"] == "InvalidCertificate" || r["status"] == "RevokedCertificate",
        "L01.FR.02",
        "UpdateFirmware InvalidCertificate or RevokedCertificate",
        || r.to_string(),
    )?;
    security_event(&conn, "L01.FR.03", &[], "InvalidFirmwareSigningCertificate")
}

fn tc_l_06() -> Step {
    let conn = ready()?;
    let (location, certificate, _) = good_image();
    let wrong = param("invalid-firmware-signature", WRONG_SIGNATURE);
    accepted("L01.FR.01", &update(&conn, "L01.FR.01", &location, Some(&certificate), Some(&wrong), -7_200, -7_200)?)?;
    let (conn, events) = sequence(conn, "L01.FR.04", &[Some("Downloading"), Some("Downloaded"), Some("InvalidSignature")])?;
    security_event(&conn, "L01.FR.04", &events, "InvalidFirmwareSignature")
}

fn tc_l_07() -> Step {
    let conn = ready()?;
    let (location, certificate, signature) = good_image();
    let missing = format!("{location}_does.not.exist");
    accepted("L01.FR.01", &update(&conn, "L01.FR.01", &missing, Some(&certificate), Some(&signature), -7_200, -7_200)?)?;
    let mut events = vec![];
    let mut status = next_status(&conn, "L01.FR.06", &mut events)?;
    // Downloading first is optional: a station may know at once that it cannot.
    if status == "Downloading" {
        status = next_status(&conn, "L01.FR.06", &mut events)?;
    }
    kit::check(status == "DownloadFailed", "L01.FR.06", "FirmwareStatusNotification DownloadFailed", || format!("status {status}"))
}

fn tc_l_08() -> Step {
    let conn = ready()?;
    let (_, certificate, _) = good_image();
    let (location, signature) = (param("failing-firmware-location", CORRUPT_LOCATION), param("failing-firmware-signature", CORRUPT_SIGNATURE));
    accepted("L01.FR.01", &update(&conn, "L01.FR.01", &location, Some(&certificate), Some(&signature), -7_200, -7_200)?)?;
    let (conn, mut events) = sequence(
        conn,
        "L01.FR.08",
        &[Some("Downloading"), Some("Downloaded"), Some("SignatureVerified"), Some("InstallRebooting"), None, Some("Installing")],
    )?;
    let last = next_status(&conn, "L01.FR.08", &mut events)?;
    kit::check(
        last == "InstallVerificationFailed" || last == "InstallationFailed",
        "L01.FR.08",
        "FirmwareStatusNotification InstallVerificationFailed or InstallationFailed",
        || format!("status {last}"),
    )
}

fn tc_l_18() -> Step {
    let conn = ready()?;
    let location = param("firmware-location", LOCATION);
    let r = update(&conn, "L01", &location, None, None, -7_200, -7_200)?;
    kit::check(
        r["status"] == "Rejected" || r["status"] == "InvalidCertificate",
        "L01",
        "UpdateFirmware Rejected or InvalidCertificate for an unsigned image",
        || r.to_string(),
    )
}
