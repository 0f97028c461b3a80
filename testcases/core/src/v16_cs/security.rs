//! The OCPP 1.6 security whitepaper (edition 3) for a charge-point DUT: the charge point
//! certificate signed on the Central System's request (A02), CA certificates installed,
//! listed and deleted (M03-M05), the security log (N01), signed firmware (L01) and
//! ExtendedTriggerMessage. Each case deletes the certificates it installed.
//!
//! The signed firmware comes from the DUT description parameters of the 2.0.1 cases
//! (`firmware-location`, `firmware-signing-certificate`, `firmware-signature`), and the
//! charge point certificate from the run's test PKI (`sign-csr`).
use serde_json::{Value, json};

use super::{CS, boot_accepted, booted, reconnected};
use crate::{
    Case,
    kit::{self, *},
    v201_cs::{
        certificates::{CSMS_ROOT, CSMS_ROOT_SERIAL, EXPIRED_ROOT, MANUFACTURER_ROOT, MANUFACTURER_ROOT_SERIAL},
        firmware::good_image,
    },
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    Case::new(id, title, CS, V16, requirements, run).profile("security")
}

pub(super) fn cases() -> Vec<Case> {
    vec![
        case(
            "TC_074_CS",
            "1.6 on ExtendedTriggerMessage SignChargePointCertificate the charge point sends a CSR and accepts the certificate signed for it",
            &["1.6 security A02.FR.02", "1.6 security A02.FR.03", "1.6 security A02.FR.06"],
            tc_074,
        ),
        case(
            "TC_075_1_CS",
            "1.6 InstallCertificate of a Central System root: Accepted and listed by GetInstalledCertificateIds",
            &["1.6 security M05.FR.02", "1.6 security M03.FR.03", "1.6 security M03.FR.04"],
            tc_075_1,
        ),
        case(
            "TC_075_2_CS",
            "1.6 InstallCertificate of a manufacturer root: Accepted and listed by GetInstalledCertificateIds",
            &["1.6 security M05.FR.02", "1.6 security M03.FR.03", "1.6 security M03.FR.04"],
            tc_075_2,
        ),
        case(
            "TC_076_CS",
            "1.6 DeleteCertificate of an installed root: Accepted, then no longer listed and NotFound",
            &["1.6 security M04.FR.02", "1.6 security M04.FR.04"],
            tc_076,
        ),
        case(
            "TC_077_CS",
            "1.6 CertificateSigned with a certificate that is not valid: Rejected and an InvalidChargePointCertificate security event",
            &["1.6 security A02.FR.06", "1.6 security A02.FR.07"],
            tc_077,
        ),
        case("OH_16_M_01_CS", "1.6 InstallCertificate of an expired root: Rejected and not listed", &["1.6 security M05.FR.06"], oh_16_m_01),
        case(
            "TC_079_CS",
            "1.6 GetLog of the security log: Accepted with a file name, then Uploading and Uploaded",
            &["1.6 security N01.FR.01", "1.6 LogStatusNotification"],
            tc_079,
        ),
        case(
            "TC_080_CS",
            "1.6 SignedUpdateFirmware: Downloading, Downloaded, SignatureVerified, the reboot, Installed",
            &["1.6 security L01.FR.01", "1.6 SignedFirmwareStatusNotification"],
            tc_080,
        )
        .timeout_ms(45_000),
        case(
            "TC_081_CS",
            "1.6 SignedUpdateFirmware whose signature does not verify: InvalidSignature and an InvalidFirmwareSignature security event",
            &["1.6 security L01.FR.01", "1.6 security A04"],
            tc_081,
        )
        .timeout_ms(45_000),
        case(
            "OH_16_F_01_CS",
            "1.6 ExtendedTriggerMessage of a Heartbeat: Accepted and sent; of a connector that does not exist: Rejected",
            &["1.6 ExtendedTriggerMessage"],
            oh_16_f_01,
        ),
    ]
}

const SEV: &str = "SecurityEventNotification";

fn install(conn: &Connection, req: &str, kind: &str, pem: &str) -> Step<String> {
    let r = kit::call(conn, req, "InstallCertificate", json!({"certificateType": kind, "certificate": pem}), 10_000)?;
    Ok(r["status"].as_str().unwrap_or_default().to_string())
}

/// The hash data GetInstalledCertificateIds gives for `kind` (none when NotFound).
fn installed(conn: &Connection, req: &str, kind: &str) -> Step<Vec<Value>> {
    let r = kit::call(conn, req, "GetInstalledCertificateIds", json!({"certificateType": kind}), 10_000)?;
    let list = r["certificateHashData"].as_array().cloned().unwrap_or_default();
    match r["status"].as_str() {
        Some("NotFound") => kit::check(list.is_empty(), "1.6 security M03.FR.02", "no hash data with NotFound", || r.to_string()).map(|_| vec![]),
        _ => Ok(list),
    }
}

fn has_serial(h: &Value, serial: &str) -> bool {
    h["serialNumber"].as_str().is_some_and(|s| s.trim_start_matches('0').eq_ignore_ascii_case(serial.trim_start_matches('0')))
}

/// Delete whatever root with `serial` is installed as `kind` (clean-up; outcome ignored).
fn remove(conn: &Connection, kind: &str, serial: &str) {
    if let Ok(list) = installed(conn, "1.6 security M04", kind) {
        for h in list.into_iter().filter(|h| has_serial(h, serial)) {
            let _ = kit::call(conn, "1.6 security M04", "DeleteCertificate", json!({"certificateHashData": h}), 10_000);
        }
    }
}

/// Install a root of `kind`, see it listed, remove it again.
fn install_listed(kind: &str, pem: &str, serial: &str) -> Step {
    let conn = booted(false)?;
    let s = install(&conn, "1.6 security M05.FR.02", kind, pem)?;
    let outcome =
        kit::check(s == "Accepted", "1.6 security M05.FR.02", format!("InstallCertificate Accepted for a valid {kind}"), || format!("status {s}"))
            .and_then(|_| {
                let list = installed(&conn, "1.6 security M03.FR.03", kind)?;
                kit::check(
                    list.iter().any(|h| has_serial(h, serial)),
                    "1.6 security M03.FR.04",
                    format!("the installed root (serial {serial}) among the {kind} hash data"),
                    || format!("{list:?}"),
                )?;
                let h = list.iter().find(|h| has_serial(h, serial)).cloned().unwrap_or_default();
                kit::check(
                    h["hashAlgorithm"] == "SHA256" && h["issuerNameHash"].as_str().is_some_and(|x| x.len() == 64),
                    "1.6 security M03.FR.04",
                    "SHA256 hash data (64 hex digits)",
                    || h.to_string(),
                )
            });
    remove(&conn, kind, serial);
    outcome
}

fn tc_075_1() -> Step {
    install_listed("CentralSystemRootCertificate", CSMS_ROOT, CSMS_ROOT_SERIAL)
}

fn tc_075_2() -> Step {
    install_listed("ManufacturerRootCertificate", MANUFACTURER_ROOT, MANUFACTURER_ROOT_SERIAL)
}

fn tc_076() -> Step {
    let conn = booted(false)?;
    let kind = "ManufacturerRootCertificate";
    let s = install(&conn, "1.6 security M05.FR.02", kind, MANUFACTURER_ROOT)?;
    if s != "Accepted" {
        return Err(Verdict::Inconclusive(format!("the root to delete could not be installed (prerequisite): {s}")));
    }
    let list = installed(&conn, "1.6 security M03.FR.03", kind)?;
    let Some(h) = list.into_iter().find(|h| has_serial(h, MANUFACTURER_ROOT_SERIAL)) else {
        remove(&conn, kind, MANUFACTURER_ROOT_SERIAL);
        return Err(kit::fail("1.6 security M03.FR.04", "the installed root listed", "not listed"));
    };
    let r = kit::call(&conn, "1.6 security M04.FR.02", "DeleteCertificate", json!({"certificateHashData": h}), 10_000)?;
    kit::check(r["status"] == "Accepted", "1.6 security M04.FR.02", "DeleteCertificate Accepted for an installed root", || r.to_string())?;
    let after = installed(&conn, "1.6 security M04.FR.02", kind)?;
    kit::check(
        !after.iter().any(|x| has_serial(x, MANUFACTURER_ROOT_SERIAL)),
        "1.6 security M04.FR.02",
        "the deleted root no longer listed",
        || format!("{after:?}"),
    )?;
    let again = kit::call(&conn, "1.6 security M04.FR.04", "DeleteCertificate", json!({"certificateHashData": h}), 10_000)?;
    kit::check(again["status"] == "NotFound", "1.6 security M04.FR.04", "DeleteCertificate NotFound for a root no longer installed", || {
        again.to_string()
    })
}

fn oh_16_m_01() -> Step {
    let conn = booted(false)?;
    let kind = "ManufacturerRootCertificate";
    let s = install(&conn, "1.6 security M05.FR.06", kind, EXPIRED_ROOT)?;
    let list = installed(&conn, "1.6 security M05.FR.06", kind)?;
    let serial = "6e7b507b3fa246c030a8e71318897ccd26a12ce3";
    let listed = list.iter().any(|h| has_serial(h, serial));
    remove(&conn, kind, serial);
    kit::check(s == "Rejected", "1.6 security M05.FR.06", "InstallCertificate Rejected for a root past its validity", || format!("status {s}"))?;
    kit::check(!listed, "1.6 security M05.FR.06", "the expired root not installed", || format!("{list:?}"))
}

/// ExtendedTriggerMessage SignChargePointCertificate: the CSR the charge point then sends.
fn requested_csr(conn: &Connection) -> Step<String> {
    conn.claim(&["SignCertificate".into()]);
    let r = kit::call(conn, "1.6 security A02.FR.02", "ExtendedTriggerMessage", json!({"requestedMessage": "SignChargePointCertificate"}), 10_000)?;
    kit::check(r["status"] == "Accepted", "1.6 security A02.FR.02", "ExtendedTriggerMessage SignChargePointCertificate Accepted", || r.to_string())?;
    let s = kit::expect_and_reply(conn, "1.6 security A02.FR.03", "SignCertificate", 15_000, json!({"status": "Accepted"}))?;
    let csr = s["csr"].as_str().unwrap_or_default().to_string();
    kit::check(csr.contains("CERTIFICATE REQUEST"), "1.6 security A02.FR.03", "a PEM certificate signing request", || {
        csr.chars().take(80).collect()
    })?;
    Ok(csr)
}

fn tc_074() -> Step {
    let conn = booted(false)?;
    let csr = requested_csr(&conn)?;
    let chain = match session::sign_csr(&csr) {
        Ok(chain) => chain,
        Err(SessionError::Usage(why)) => return Err(Verdict::Inconclusive(format!("the lab's PKI cannot sign the CSR: {why}"))),
        Err(e) => return Err(kit::fail("1.6 security A02.FR.03", "a CSR the test CA can sign (RFC 2986, PEM)", format!("{e:?}"))),
    };
    let r = kit::call(&conn, "1.6 security A02.FR.06", "CertificateSigned", json!({"certificateChain": chain}), 10_000)?;
    kit::check(r["status"] == "Accepted", "1.6 security A02.FR.06", "CertificateSigned Accepted for the certificate issued for its CSR", || {
        r.to_string()
    })
}

fn tc_077() -> Step {
    let conn = booted(false)?;
    let _ = requested_csr(&conn)?;
    conn.claim(&[SEV.into()]);
    let r = kit::call(&conn, "1.6 security A02.FR.07", "CertificateSigned", json!({"certificateChain": EXPIRED_ROOT}), 10_000)?;
    kit::check(
        r["status"] == "Rejected",
        "1.6 security A02.FR.07",
        "CertificateSigned Rejected for an expired certificate not issued for its CSR",
        || r.to_string(),
    )?;
    let ev = kit::expect_and_reply(&conn, "1.6 security A02.FR.07", SEV, 10_000, json!({}))?;
    kit::check(ev["type"] == "InvalidChargePointCertificate", "1.6 security A02.FR.07", "a security event InvalidChargePointCertificate", || {
        ev.to_string()
    })
}

fn tc_079() -> Step {
    let conn = booted(false)?;
    conn.claim(&["LogStatusNotification".into()]);
    let location = kit::config::parameter("log-location").unwrap_or_else(|| "https://logs.example/upload".into());
    let req = json!({"logType": "SecurityLog", "requestId": 79, "log": {"remoteLocation": location}});
    let r = kit::call(&conn, "1.6 security N01.FR.01", "GetLog", req, 10_000)?;
    kit::check(r["status"] == "Accepted", "1.6 security N01.FR.01", "GetLog Accepted", || r.to_string())?;
    kit::check(r["filename"].as_str().is_some_and(|f| !f.is_empty()), "1.6 security N01.FR.01", "the name of the log file", || r.to_string())?;
    for want in ["Uploading", "Uploaded"] {
        let s = kit::expect_and_reply(&conn, "1.6 LogStatusNotification", "LogStatusNotification", 15_000, json!({}))?;
        kit::check(
            s["status"] == want && s["requestId"] == 79,
            "1.6 LogStatusNotification",
            format!("LogStatusNotification {want} for request 79"),
            || s.to_string(),
        )?;
    }
    Ok(())
}

const SFSN: &str = "SignedFirmwareStatusNotification";

/// SignedUpdateFirmware of the lab's image with `signature`, to be fetched and installed now.
fn signed_update(signature: Option<&str>) -> Step<Connection> {
    let conn = booted(false)?;
    conn.claim(&[SFSN.into(), SEV.into()]);
    let (location, certificate, good) = good_image();
    let firmware = json!({"location": location, "retrieveDateTime": kit::time_from_now(-7_200), "installDateTime": kit::time_from_now(-7_200), "signingCertificate": certificate, "signature": signature.unwrap_or(&good)});
    let r = kit::call(&conn, "1.6 security L01.FR.01", "SignedUpdateFirmware", json!({"requestId": 80, "firmware": firmware}), 10_000)?;
    kit::check(r["status"] == "Accepted", "1.6 security L01.FR.01", "SignedUpdateFirmware Accepted", || r.to_string())?;
    Ok(conn)
}

/// The next signed-firmware status, through a reboot if the connection goes (the new
/// BootNotification accepted); security events on the way are collected.
fn next_status(conn: &mut Connection, events: &mut Vec<String>) -> Step<String> {
    let req = "1.6 SignedFirmwareStatusNotification";
    let deadline = clock::now_ms() + 20_000;
    while clock::now_ms() < deadline {
        match conn.expect_call(SFSN, 250) {
            Ok(call) => {
                let p = kit::json(&call.payload);
                conn.reply(&call.message_id, "{}").map_err(|e| kit::fail(req, "to answer SignedFirmwareStatusNotification", format!("{e:?}")))?;
                kit::check(p["requestId"] == 80, req, "SignedFirmwareStatusNotification for request 80", || p.to_string())?;
                return Ok(p["status"].as_str().unwrap_or_default().to_string());
            }
            Err(SessionError::Closed(_)) => {
                *conn = reconnected(req, &["BootNotification", SFSN, SEV])?;
                boot_accepted(conn, "1.6 security L01")?;
            }
            Err(_) => {}
        }
        if let Ok(ev) = conn.expect_call(SEV, 20) {
            let _ = conn.reply(&ev.message_id, "{}");
            events.push(kit::json(&ev.payload)["type"].as_str().unwrap_or_default().to_string());
        }
    }
    Err(kit::fail(req, "a SignedFirmwareStatusNotification within 20 s", "none"))
}

fn sequence(conn: &mut Connection, expected: &[&str]) -> Step<Vec<String>> {
    let mut events = vec![];
    for want in expected {
        let got = next_status(conn, &mut events)?;
        kit::check(got == *want, "1.6 security L01.FR.01", format!("SignedFirmwareStatusNotification {want} (in {expected:?})"), || {
            format!("status {got}")
        })?;
    }
    Ok(events)
}

fn tc_080() -> Step {
    let mut conn = signed_update(None)?;
    sequence(&mut conn, &["Downloading", "Downloaded", "SignatureVerified", "InstallRebooting", "Installing", "Installed"]).map(drop)
}

fn tc_081() -> Step {
    let mut conn = signed_update(Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))?;
    let events = sequence(&mut conn, &["Downloading", "Downloaded", "InvalidSignature"])?;
    if events.iter().any(|e| e == "InvalidFirmwareSignature") {
        return Ok(());
    }
    let ev = kit::expect_and_reply(&conn, "1.6 security A04", SEV, 10_000, json!({}))?;
    kit::check(ev["type"] == "InvalidFirmwareSignature", "1.6 security A04", "a security event InvalidFirmwareSignature", || ev.to_string())
}

fn oh_16_f_01() -> Step {
    let conn = booted(false)?;
    conn.claim(&["Heartbeat".into()]);
    let r = kit::call(&conn, "1.6 ExtendedTriggerMessage", "ExtendedTriggerMessage", json!({"requestedMessage": "Heartbeat"}), 10_000)?;
    kit::check(r["status"] == "Accepted", "1.6 ExtendedTriggerMessage", "ExtendedTriggerMessage Heartbeat Accepted", || r.to_string())?;
    kit::expect_and_reply(&conn, "1.6 ExtendedTriggerMessage", "Heartbeat", 10_000, json!({"currentTime": now()}))?;
    let r = kit::call(
        &conn,
        "1.6 ExtendedTriggerMessage",
        "ExtendedTriggerMessage",
        json!({"requestedMessage": "StatusNotification", "connectorId": 99}),
        10_000,
    )?;
    kit::check(r["status"] == "Rejected", "1.6 ExtendedTriggerMessage", "ExtendedTriggerMessage Rejected for connector 99", || r.to_string())
}
