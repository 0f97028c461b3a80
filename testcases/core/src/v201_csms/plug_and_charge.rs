//! Plug & Charge with a CSMS DUT (2.0.1 C07, part 6 TC_C_50/51/52_CSMS): an EV's contract
//! certificate, made by the test PKI for the configured eMAID, names the harness's OCSP
//! service as its responder; the CSMS must ask it (C07.FR.05) before it answers the Authorize,
//! and say what the responder said (C07.FR.14, C07.FR.16). The certificate is new in every
//! run, so no CSMS can have a cached OCSP response for it.
use serde_json::{Value, json};

use super::{event, new_tx_id, occupied, registered};
use crate::{
    Case,
    kit::{self, *},
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    Case::new(id, title, Role::ChargingStation, V201, requirements, run).timeout_ms(60_000).profile("iso15118")
}

pub(super) fn cases() -> Vec<Case> {
    vec![
        case("TC_C_50_CSMS", "Plug & Charge with the contract's hash data: the CSMS asks its OCSP responder, then Accepted", &["C07.FR.04", "C07.FR.05", "C07.FR.14"], tc_c_50),
        case("TC_C_51_CSMS", "Plug & Charge with a revoked contract: the CSMS asks its OCSP responder, then CertificateRevoked and Invalid", &["C07.FR.05", "C07.FR.16"], tc_c_51),
        case(
            "TC_C_52_CSMS",
            "Plug & Charge with the contract chain only: the CSMS makes the hash data, asks the responder, then Accepted",
            &["C07.FR.04", "C07.FR.05", "C07.FR.14"],
            tc_c_52,
        ),
    ]
}

/// Part 6's prerequisites: the configured eMAID's contract certificate and its MO sub-CA under
/// the V2G root, naming the harness's OCSP service, which calls the leaf good or revoked.
struct Contract {
    emaid: String,
    /// The chain (leaf, sub-CA), PEM.
    certificate: String,
    /// OCSPRequestData of leaf and sub-CA.
    hash_data: Value,
    responder: String,
}

fn contract(revoked: bool) -> Step<Contract> {
    let emaid = kit::emaid()?;
    let made = kit::pki("C07", "contract-certificate", &json!({"emaid": emaid, "revoked": revoked}).to_string())?;
    let made: Value = serde_json::from_str(&made).unwrap_or_default();
    let text = |k: &str| made[k].as_str().unwrap_or_default().to_string();
    Ok(Contract { certificate: text("certificate"), responder: text("responderURL"), hash_data: made["hashData"].clone(), emaid })
}

/// Part 6's EVConnectedPreSession: the cable in, a transaction started by it. Its id.
fn ev_connected(conn: &Connection) -> Step<String> {
    let tx = new_tx_id("PNC");
    let connect = || -> Step {
        occupied(conn)?;
        event(conn, "", "Started", "CablePluggedIn", 0, &tx, json!({"transactionInfo": {"chargingState": "EVConnected"}})).map(drop)
    };
    connect().setup("reusable state EVConnectedPreSession")?;
    Ok(tx)
}

/// Steps 1-4: the EV's Authorize for the eMAID with the contract's hash data, or (`by_chain`)
/// with the chain alone; the CSMS must have asked the harness's OCSP service about the
/// contract certificate by the time it answers. The answer.
fn authorize(conn: &Connection, contract: &Contract, by_chain: bool) -> Step<Value> {
    let mut p = json!({"idToken": {"idToken": contract.emaid, "type": "eMAID"}});
    if by_chain {
        p["certificate"] = json!(contract.certificate);
    } else {
        p["iso15118CertificateHashData"] = contract.hash_data.clone();
    }
    let r = kit::call(conn, "C07.FR.04", "Authorize", p, 30_000)?;
    let asked: Value = serde_json::from_str(&kit::pki("C07.FR.05", "ocsp-requests", "")?).unwrap_or_default();
    let leaf = asked.as_array().into_iter().flatten().any(|a| a["certificate"] == "the contract certificate");
    kit::check(leaf, "C07.FR.05", format!("an OCSP request about the contract certificate at {} before the AuthorizeResponse", contract.responder), || {
        format!("the OCSP service was asked about: {asked}")
    })?;
    Ok(r)
}

/// Step 4 of TC_C_50/52: the contract Accepted (C07.FR.14) and the known eMAID Accepted.
fn accepted(r: &Value) -> Step {
    kit::check(r["certificateStatus"] == "Accepted", "C07.FR.14", "certificateStatus Accepted: the responder called the chain good", || r.to_string())?;
    let status = at(r, "/idTokenInfo/status");
    kit::check(status == "Accepted", "C07.FR.04", "idTokenInfo.status Accepted for the configured eMAID", || r.to_string())
}

/// Steps 5-6 and EnergyTransferStarted: the eMAID authorizes the transaction, Accepted.
fn charging(conn: &Connection, tx: &str, emaid: &str) -> Step {
    let r = event(conn, "C07.FR.04", "Updated", "Authorized", 1, tx, json!({"idToken": {"idToken": emaid, "type": "eMAID"}}))?;
    let status = at(&r, "/idTokenInfo/status");
    kit::check(status == "Accepted", "C07.FR.04", format!("the eMAID {emaid} Accepted in the TransactionEvent"), || format!("status {status}"))?;
    event(conn, "", "Updated", "ChargingStateChanged", 2, tx, json!({"transactionInfo": {"chargingState": "Charging"}})).map(drop)
}

/// TC_C_50_CSMS (the contract's hash data) and TC_C_52_CSMS (`by_chain`: no hash data, only
/// the chain, PEM, as C07.FR.06 has a station pass it; the CSMS checks it against its V2G root
/// and asks the responder the leaf names): a good contract Accepted, then the EV charging.
fn good_contract(by_chain: bool) -> Step {
    let contract = contract(false)?;
    let conn = registered()?;
    let tx = ev_connected(&conn)?;
    accepted(&authorize(&conn, &contract, by_chain)?)?;
    charging(&conn, &tx, &contract.emaid)
}

fn tc_c_50() -> Step {
    good_contract(false)
}

/// TC_C_51_CSMS: the responder calls the contract certificate revoked: CertificateRevoked and
/// the token Invalid (C07.FR.16).
fn tc_c_51() -> Step {
    let contract = contract(true)?;
    let conn = registered()?;
    ev_connected(&conn)?;
    let r = authorize(&conn, &contract, false)?;
    kit::check(r["certificateStatus"] == "CertificateRevoked", "C07.FR.16", "certificateStatus CertificateRevoked: the responder called the contract revoked", || r.to_string())?;
    let status = at(&r, "/idTokenInfo/status");
    kit::check(status == "Invalid", "C07.FR.16", "idTokenInfo.status Invalid for a revoked contract", || r.to_string())
}

fn tc_c_52() -> Step {
    good_contract(true)
}
