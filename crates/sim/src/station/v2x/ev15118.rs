//! An ISO 15118 EV at the reference station, at the OCPP level only (no ISO 15118 stack): the
//! bench's `ev-15118` requests become what a station forwards to its CSMS — Plug & Charge
//! (Authorize with the eMAID and the contract's OCSP data, C07.FR.01/02; offline, local
//! validation only when ContractValidationOffline, C07.FR.07-12), a contract certificate
//! installed or updated (Get15118EVCertificate, M01.FR.01, M02.FR.01; the EV then authorizes
//! with it), and the EV ending the charging itself (E15.FR.04/05).
use serde_json::{Value, json};

use super::super::{Out, Station, Stop};
use crate::Fault;

/// The simulated EV's contract (eMAID), unless the request names one.
pub const EMAID: &str = "NLHRSC000000001";

/// The OCSP data of the simulated EV's contract certificate and its sub-CA (made up, well
/// formed: a station that validates locally has checked the chain).
fn contract_hash_data() -> Value {
    let data = |serial: &str| {
        json!({
            "hashAlgorithm": "SHA256",
            "issuerNameHash": "9f2c4b7e1a3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8",
            "issuerKeyHash": "1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a",
            "serialNumber": serial,
            "responderURL": "http://ocsp.ocpp-harness.test/mo",
        })
    };
    json!([data("c0a7ac71"), data("c0a7ac70")])
}

fn iso_setting(st: &Station, variable: &str) -> bool {
    st.settings.get(&format!("ISO15118Ctrlr.{variable}")).is_some_and(|(v, _)| v == "true")
}

/// A request of the bench's ISO 15118 EV at `evse`.
pub(in crate::station) fn request(st: &mut Station, evse: u32, request: &str, params: &Value) {
    let Some(i) = st.evse_index(evse) else { return };
    if !st.evses[i].plugged {
        tracing::info!(target: "sim", "station: an ISO 15118 EV needs its cable in at EVSE {evse} ({request} ignored)");
        return;
    }
    let emaid = params["emaid"].as_str().unwrap_or(EMAID).to_string();
    match request {
        "plug-and-charge" => plug_and_charge(st, evse, &emaid),
        "install-contract" | "update-contract" => {
            if !iso_setting(st, "ContractCertificateInstallationEnabled") {
                return;
            }
            // Fault update-as-install: an update goes out as an installation (M02.FR.01).
            let update = request == "update-contract" && !st.cfg.faults.has(&Fault::UpdateAsInstall);
            let action = if update { "Update" } else { "Install" };
            use base64::Engine;
            let exi = base64::engine::general_purpose::STANDARD.encode(format!("EXI Certificate{action}Req of the simulated EV for {emaid}"));
            let p = json!({"iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef", "action": action, "exiRequest": exi, "$evse": evse, "$emaid": emaid});
            st.enqueue(Out::call("Get15118EVCertificate", p));
        }
        "stop-charging" => {
            st.advance_meter(i);
            st.stop_authorization(i, Stop::ByEv);
            st.refresh_status(i);
        }
        other => tracing::info!(target: "sim", "station: the simulated ISO 15118 EV does not {other}"),
    }
}

/// Plug & Charge with contract `emaid` at `evse`: online, an Authorize with the contract's
/// OCSP data; offline, the contract is valid locally only when ContractValidationOffline,
/// then the offline rules for an id token apply (C07.FR.08-12); else no charging (C07.FR.07).
fn plug_and_charge(st: &mut Station, evse: u32, emaid: &str) {
    if !iso_setting(st, "PnCEnabled") {
        return;
    }
    st.reader_evse = evse;
    st.token_types.insert(emaid.to_string(), "eMAID".to_string());
    if !st.online {
        if iso_setting(st, "ContractValidationOffline") || st.cfg.faults.has(&Fault::PncOfflineCharges) {
            st.present_token(emaid.to_string());
        }
        return;
    }
    let mut p = json!({"idToken": {"idToken": emaid, "type": "eMAID"}});
    // Fault pnc-without-hash-data: the contract's OCSP data stays with the station (C07.FR.02).
    if !st.cfg.faults.has(&Fault::PncWithoutHashData) {
        p["iso15118CertificateHashData"] = contract_hash_data();
    }
    st.enqueue(Out::call("Authorize", p));
}

/// The CSMS answered a Get15118EVCertificate: the EV got its contract and authorizes with it
/// (part 6 TC_M_26/28_CS step 3); a failure leaves it unauthorized.
pub(in crate::station) fn certificate_answered(st: &mut Station, request: &Value, r: &Value) {
    if r["status"] != "Accepted" {
        return;
    }
    let (Some(evse), Some(emaid)) = (request["$evse"].as_u64(), request["$emaid"].as_str()) else { return };
    plug_and_charge(st, evse as u32, emaid);
}
