//! The OCPP 1.6 security whitepaper (edition 2) messages of the reference station, and 1.6
//! diagnostics: certificate management, the charge point certificate signed by the Central
//! System, ExtendedTriggerMessage, security logs, signed firmware, GetDiagnostics.
//!
//! The stores and simulations are the 2.x ones (`v2x`, `firmware`); only the 1.6 shapes differ.
use serde_json::{Value, json};
use tokio::time::Instant;

use super::super::{Out, Station, firmware, own_certificate, roots, v2x};
use super as v16;

/// Answers to the whitepaper's CALLs and GetDiagnostics; None for other actions.
pub(in crate::station) fn on_call(st: &mut Station, action: &str, p: &Value) -> Option<Value> {
    Some(match action {
        "InstallCertificate" => {
            let kind = p["certificateType"].as_str().unwrap_or_default();
            let taken = roots::install(st, kind, p["certificate"].as_str().unwrap_or_default(), kind == "CentralSystemRootCertificate");
            json!({"status": if taken { "Accepted" } else { "Rejected" }})
        }
        "GetInstalledCertificateIds" => {
            let kind = p["certificateType"].as_str().unwrap_or_default();
            let hashes: Vec<Value> = st.certificates.iter().filter(|(k, _)| k == kind).map(|(_, h)| h.clone()).collect();
            if hashes.is_empty() { json!({"status": "NotFound"}) } else { json!({"status": "Accepted", "certificateHashData": hashes}) }
        }
        "DeleteCertificate" => json!({"status": own_certificate::delete(st, &p["certificateHashData"])}),
        "ExtendedTriggerMessage" => json!({"status": extended_trigger(st, p)}),
        "CertificateSigned" => {
            let taken = own_certificate::signed(st, p["certificateChain"].as_str().unwrap_or_default(), "InvalidChargePointCertificate");
            json!({"status": if taken { "Accepted" } else { "Rejected" }})
        }
        "GetLog" => v2x::get_log(st, p),
        "SignedUpdateFirmware" => firmware::update(st, p),
        "GetDiagnostics" => diagnostics(st, p),
        _ => return None,
    })
}

/// ExtendedTriggerMessage: the status to answer; the triggered message is queued.
fn extended_trigger(st: &mut Station, p: &Value) -> &'static str {
    let connector = p["connectorId"].as_u64().map(|c| c as u32);
    if connector.is_some_and(|c| c != 0 && st.evse_index(c).is_none()) {
        return "Rejected";
    }
    match p["requestedMessage"].as_str().unwrap_or_default() {
        "SignChargePointCertificate" => match own_certificate::request(st, "ocpp-harness") {
            Some(csr) => st.enqueue(Out::call("SignCertificate", json!({"csr": csr}))),
            None => return "Rejected",
        },
        "LogStatusNotification" => {
            let m = v2x::log_status(st);
            st.enqueue(Out::call("LogStatusNotification", m));
        }
        "FirmwareStatusNotification" => {
            let m = firmware::signed_status(st);
            st.enqueue(Out::call("SignedFirmwareStatusNotification", m));
        }
        // The rest is what TriggerMessage has.
        other => {
            let mut q = p.clone();
            q["requestedMessage"] = json!(other);
            let (reply, _) = v16::on_call(st, "TriggerMessage", &q);
            return match reply.ok().and_then(|r| r["status"].as_str().map(str::to_string)).as_deref() {
                Some("Accepted") => "Accepted",
                Some("Rejected") => "Rejected",
                _ => "NotImplemented",
            };
        }
    }
    "Accepted"
}

/// GetDiagnostics (§5.9, §4.4): Uploading, then Uploaded after a moment, or UploadFailed at
/// once for a location that cannot exist (`.invalid` host). The answer names the file.
fn diagnostics(st: &mut Station, p: &Value) -> Value {
    let location = p["location"].as_str().unwrap_or_default();
    let unreachable = super::super::unreachable(location);
    st.enqueue(Out::call("DiagnosticsStatusNotification", json!({"status": "Uploading"})));
    if unreachable {
        st.enqueue(Out::call("DiagnosticsStatusNotification", json!({"status": "UploadFailed"})));
    } else {
        st.diagnostics_upload = Some(Instant::now() + v2x::UPLOAD_TIME);
    }
    json!({"fileName": format!("diagnostics-{}.log", st.cfg.station_id)})
}

/// A diagnostics upload that finished.
pub(in crate::station) fn tick(st: &mut Station, now: Instant) {
    if st.diagnostics_upload.take_if(|done| *done <= now).is_some() {
        st.enqueue(Out::call("DiagnosticsStatusNotification", json!({"status": "Uploaded"})));
    }
}
