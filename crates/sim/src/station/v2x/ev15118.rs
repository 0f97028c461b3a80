//! An ISO 15118 EV at the reference station, at the OCPP level only (no ISO 15118 stack): the
//! bench's `ev-15118` requests become what a station forwards to its CSMS — Plug & Charge
//! (Authorize with the eMAID and the contract's OCSP data, C07.FR.01/02; offline, local
//! validation only when ContractValidationOffline, C07.FR.07-12), a contract certificate
//! installed or updated (Get15118EVCertificate, M01.FR.01, M02.FR.01; the EV then authorizes
//! with it), the EV ending the charging itself (E15.FR.04/05), and its charging needs and
//! schedule (K15-K17): NotifyEVChargingNeeds, then — once the CSMS's TxProfile came, or at
//! once when the CSMS has no schedule for it — the schedule the EV picked, within the
//! profile, in NotifyEVChargingSchedule.
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
        // K15.FR.15, K17.FR.15: offline, a schedule within the composite schedule (its
        // TxDefaultProfile), kept for the CSMS until the station is back.
        "charging-needs" | "renegotiate" if !st.online => {
            if st.evses[i].tx.is_none() || st.cfg.faults.has(&Fault::NoEvSchedule) {
                return;
            }
            let own = own_schedule(st, evse);
            schedule(st, evse, own, true);
        }
        // K15.FR.01/06, K17.FR.01/06: the needs, with the AC parameters (fault
        // needs-without-parameters: neither AC nor DC ones).
        "charging-needs" | "renegotiate" => {
            let Some(tx) = st.evses[i].tx.as_ref().map(|t| t.id.clone()) else { return };
            let mut needs = json!({"requestedEnergyTransfer": "AC_three_phase"});
            if !st.cfg.faults.has(&Fault::NeedsWithoutParameters) {
                needs["acChargingParameters"] = json!({"energyAmount": 20000, "evMinCurrent": 6, "evMaxCurrent": 32, "evMaxVoltage": 400});
            }
            // A renegotiation keeps what was agreed before (K17).
            let agreed = st.negotiating.get(&evse).is_some_and(|(t, agreed)| *t == tx && *agreed);
            st.negotiating.insert(evse, (tx, agreed));
            st.enqueue(Out::call("NotifyEVChargingNeeds", json!({"evseId": evse, "maxScheduleTuples": 3, "chargingNeeds": needs, "$evse": evse})));
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

/// The CSMS answered the EV's charging needs: with a schedule to come (Accepted,
/// Processing), the EV waits for the TxProfile; without (Rejected), it charges by a schedule
/// of its own and the station reports it (part 6 TC_K_54_CS).
pub(in crate::station) fn needs_answered(st: &mut Station, request: &Value, r: &Value) {
    let Some(evse) = request["$evse"].as_u64().map(|e| e as u32) else { return };
    if !matches!(r["status"].as_str(), Some("Accepted" | "Processing")) {
        st.negotiating.remove(&evse);
        let own = own_schedule(st, evse);
        schedule(st, evse, own, false);
    }
}

/// The EV's schedule without one from the CSMS: what the composite schedule allows at `evse`
/// now, in a unit the station's SmartChargingCtrlr.RateUnit lists.
fn own_schedule(st: &Station, evse: u32) -> Value {
    let rates = st.settings.get("SmartChargingCtrlr.RateUnit").map(|(v, _)| v.clone()).unwrap_or_default();
    let unit = if rates.is_empty() || rates.contains('A') { "A" } else { "W" };
    let limit = super::smart_charging::limit_at(st, evse, chrono::Utc::now(), unit);
    json!({"id": 1, "chargingRateUnit": unit, "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]})
}

/// A TxProfile the station accepted for the transaction at `evse`: where an ISO 15118 EV
/// negotiates there (its needs sent, or a schedule agreed before: K16 renegotiation), it
/// picks a schedule within the profile's first one and the station reports it (K15.FR.09/10,
/// K16.FR.02-05, K17.FR.09/10; fault no-ev-schedule: never).
pub(in crate::station) fn profile_set(st: &mut Station, evse: u32, profile: &Value) {
    if profile["chargingProfilePurpose"] != "TxProfile" || st.cfg.faults.has(&Fault::NoEvSchedule) {
        return;
    }
    let Some((tx, agreed)) = st.negotiating.get(&evse).cloned() else { return };
    if profile.get("transactionId").is_some_and(|t| t.as_str() != Some(tx.as_str())) {
        return;
    }
    // Fault no-renegotiated-schedule: only the first schedule is reported (K16.FR.05, K17.FR.10).
    if agreed && st.cfg.faults.has(&Fault::NoRenegotiatedSchedule) {
        return;
    }
    st.negotiating.insert(evse, (tx, true));
    let Some(given) = profile["chargingSchedule"].as_array().and_then(|s| s.first()) else { return };
    // The EV takes the CSMS's periods as they are: within its limits by construction.
    let mut picked = json!({"id": given["id"], "chargingRateUnit": given["chargingRateUnit"], "chargingSchedulePeriod": given["chargingSchedulePeriod"]});
    if let Some(d) = given.get("duration") {
        picked["duration"] = d.clone();
    }
    schedule(st, evse, picked, false);
    // A schedule agreed again changes what the EV draws (K16, K17).
    if let (true, Some(i)) = (agreed, st.evse_index(evse)) {
        if st.evses[i].tx.is_some() {
            let out = super::tx_updated(st, i, crate::station::Trigger::ChargingRateChanged);
            st.enqueue(out);
        }
    }
}

/// NotifyEVChargingSchedule of the schedule the EV picked, from now; `kept`: also while
/// offline, sent once the station is back.
fn schedule(st: &mut Station, evse: u32, mut picked: Value, kept: bool) {
    let now = ocpp_core::defaults::now_rfc3339();
    picked["startSchedule"] = json!(now);
    let payload = json!({"timeBase": now, "evseId": evse, "chargingSchedule": picked});
    st.enqueue(if kept { Out::tx("NotifyEVChargingSchedule", payload) } else { Out::call("NotifyEVChargingSchedule", payload) });
}
