//! An ISO 15118 EV at a charging-station DUT (part 6 §2.3, §2.5 and §2.14; the ISO 15118
//! Support profile), driven through the bench's `ev-15118`: Plug & Charge with the contract's
//! eMAID and OCSP data (C07), the EV's contract certificate installed or updated through the
//! CSMS (M01, M02), and the EV ending the charging itself (E15). The CSMS side is the
//! harness: its answers are part 6's, its EXI made up (the station only forwards it).
use serde_json::{Value, json};

use crate::{
    Case,
    kit::{self, Connection, Setup, Step, at},
};

use super::{TX, TxStart, authorization_ends_tx, booted, expect_event, local_tx, prerequisite, tx_event_where};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    super::station_case(id, title, requirements, &["plug", "pilot", "ev-15118"], run).profile("iso15118")
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        case("TC_C_50_CS", "Plug & Charge online: an Authorize with the eMAID and the contract's OCSP data; Accepted, the EV charges", &["C07.FR.01", "C07.FR.02"], tc_c_50),
        case(
            "TC_C_51_CS",
            "Plug & Charge online: the contract answered Invalid and ContractCancelled; the EV is not authorized and does not charge",
            &["C07.FR.01", "C07.FR.02"],
            tc_c_51,
        ),
        case(
            "TC_C_54_CS",
            "Plug & Charge offline with ContractValidationOffline true: the contract validated locally, the EV charges, reported offline once back",
            &["C07.FR.08", "C07.FR.09", "C07.FR.10", "C07.FR.11", "C07.FR.12"],
            tc_c_54,
        )
        .needs(&["plug", "pilot", "ev-15118", "network"]),
        case("TC_C_55_CS", "Plug & Charge offline with ContractValidationOffline false: no charging", &["C07.FR.07"], tc_c_55).needs(&["plug", "pilot", "ev-15118", "network"]),
        case("TC_M_26_CS", "The EV's contract certificate installation goes to the CSMS (action Install); then the EV authorizes with it", &["M01.FR.01"], tc_m_26),
        case("TC_M_27_CS", "The EV's contract certificate installation goes to the CSMS (action Install), which answers Failed", &["M01.FR.01"], tc_m_27),
        case("TC_M_28_CS", "The EV's contract certificate update goes to the CSMS (action Update); then the EV authorizes with it", &["M02.FR.01"], tc_m_28),
        case("TC_M_29_CS", "The EV's contract certificate update goes to the CSMS (action Update), which answers Failed", &["M02.FR.01"], tc_m_29),
        case(
            "TC_K_53_CS",
            "The EV's charging needs go to the CSMS; the schedule it picks within the CSMS's TxProfile is reported, then it charges",
            &["K15.FR.01", "K15.FR.06", "K15.FR.09", "K15.FR.10"],
            tc_k_53,
        ),
        case("TC_K_54_CS", "The EV's charging needs go to the CSMS, which has no schedule for it (Rejected); the EV charges by its own", &["K15.FR.01", "K17.FR.04"], tc_k_54),
        case(
            "TC_K_56_CS",
            "Offline, the EV's needs are met by a schedule within the TxDefaultProfile, reported once back; the EV charges",
            &["K15.FR.15", "K17.FR.15"],
            tc_k_56,
        )
        .needs(&["plug", "pilot", "ev-15118", "network", "token-reader"]),
        case(
            "TC_K_57_CS",
            "The EV renegotiates: its new needs, the CSMS's new TxProfile, the schedule it picks reported, the rate changed",
            &["K17.FR.01", "K17.FR.06", "K17.FR.09", "K17.FR.10"],
            tc_k_57,
        ),
        case(
            "TC_K_58_CS",
            "The CSMS renegotiates with a new TxProfile: the schedule the EV picks is reported, the rate changed",
            &["K17.FR.01", "K17.FR.06", "K17.FR.09", "K17.FR.10", "K16.FR.01", "K16.FR.05"],
            tc_k_58,
        ),
        case("TC_E_46_CS", "The EV ends the charging: StopAuthorized, Ended with StoppedByEV or Updated as the TxStopPoint says", &["E15.FR.04", "E15.FR.05"], tc_e_46),
    ]
}

const EV_CERTIFICATE: &str = "Get15118EVCertificate";

/// Part 6's configuration state of the Plug & Charge cases: PnC on (a station that will not
/// has no Plug & Charge to test: a skip), central contract validation off where the station
/// has the switch.
fn pnc_enabled(conn: &Connection) -> Step {
    prerequisite(conn, "C07", "ISO15118Ctrlr", "PnCEnabled", "true")?;
    super::local_list::if_implemented(conn, "ISO15118Ctrlr", "CentralContractValidationAllowed", "false")
}

/// Memory state CertificatesInstalled for the V2G and the MO root, which validate the EV's
/// contract locally.
fn roots_installed(conn: &Connection) -> Step {
    use super::certificates::{MO_ROOT, V2G_ROOT, certificate_installed};
    certificate_installed(conn, "M05.FR.02", "V2GRootCertificate", V2G_ROOT).setup("memory state CertificatesInstalled (V2GRootCertificate)")?;
    certificate_installed(conn, "M05.FR.02", "MORootCertificate", MO_ROOT).setup("memory state CertificatesInstalled (MORootCertificate)")
}

/// Booted, configured for Plug & Charge, the roots installed, then part 6's
/// EVConnectedPreSession; TransactionEvent and Authorize are the case's.
fn ev_connected() -> Step<(Connection, TxStart)> {
    let conn = booted(300)?;
    conn.claim(&[TX.into(), "Authorize".into(), EV_CERTIFICATE.into()]);
    pnc_enabled(&conn)?;
    roots_installed(&conn)?;
    let start = TxStart::configured();
    kit::plug_in(kit::evse_id())?;
    start.after_step(&conn, "", (false, false), (true, false), "CablePluggedIn").setup("reusable state EVConnectedPreSession")?;
    Ok((conn, start))
}

/// Step 1 of TC_C_50/51_CS: the Authorize of a Plug & Charge EV carries an eMAID and the
/// contract's OCSP data (C07.FR.02), answered `answer`. The eMAID.
fn pnc_authorize(conn: &Connection, answer: Value) -> Step<String> {
    let call = kit::expect(conn, "C07.FR.01", "Authorize", 15_000)?;
    kit::reply(conn, "C07.FR.01", &call, "Authorize", answer)?;
    let p = call.payload;
    kit::check(at(&p, "/idToken/type") == "eMAID", "C07.FR.02", "idToken.type eMAID: the EV's contract", || p["idToken"].to_string())?;
    let data = p["iso15118CertificateHashData"].as_array().cloned().unwrap_or_default();
    kit::check(!data.is_empty(), "C07.FR.02", "iso15118CertificateHashData: the OCSP data of the contract certificate and its chain", || {
        format!("no iso15118CertificateHashData in {p}")
    })?;
    Ok(at(&p, "/idToken/idToken").as_str().unwrap_or_default().to_string())
}

/// TC_C_50_CS: the EV authorizes with its contract; Accepted, it then charges (part 6's
/// reusable state EnergyTransferStarted).
fn tc_c_50() -> Step {
    let (conn, start) = ev_connected()?;
    kit::ev_15118(kit::evse_id(), "plug-and-charge", json!({}))?;
    pnc_authorize(&conn, json!({"idTokenInfo": {"status": "Accepted"}, "certificateStatus": "Accepted"}))?;
    start.after_step(&conn, "C07.FR.01", (true, false), (true, true), "Authorized")?;
    super::local_list::charging(&conn, "C07.FR.01")
}

/// TC_C_51_CS: the contract is cancelled; no TransactionEvent says Authorized or Charging,
/// even with the EV asking for energy (part 6's post-scenario validation).
fn tc_c_51() -> Step {
    let (conn, _) = ev_connected()?;
    kit::ev_15118(kit::evse_id(), "plug-and-charge", json!({}))?;
    pnc_authorize(&conn, json!({"idTokenInfo": {"status": "Invalid"}, "certificateStatus": "ContractCancelled"}))?;
    kit::pilot(kit::evse_id(), kit::PilotState::C)?;
    let charges = |ev: &Value| ev["triggerReason"] == "Authorized" || at(ev, "/transactionInfo/chargingState") == "Charging";
    kit::expect_none(&conn, "C07.FR.01", TX, 3_000, json!({}), "no authorization and no charging for a cancelled contract", charges)
}

/// TC_M_26-29_CS: the EV asks for its contract certificate (`request`); the station forwards
/// it with `action` (M01.FR.01 / M02.FR.01) and the EV's EXI in base64; the CSMS answers
/// `status`. Accepted, the EV then authorizes with the new contract (step 3); Failed, no
/// Authorize may follow. A Failed answer carries an empty exiResponse (declared deviation).
fn contract_certificate(req: &str, request: &str, action: &str, status: &str) -> Step {
    let (conn, _) = ev_connected()?;
    if request == "update-contract" {
        prerequisite(&conn, req, "ISO15118Ctrlr", "ContractCertificateInstallationEnabled", "true")?;
    }
    kit::ev_15118(kit::evse_id(), request, json!({}))?;
    let call = kit::expect(&conn, req, EV_CERTIFICATE, 15_000)?;
    let exi = if status == "Accepted" { "gJgCAAAAAAAAAAgAEAAYACAAKAAwADgAQABIAFAAWABgAGgAcAB4AIAA" } else { "" };
    kit::reply(&conn, req, &call, EV_CERTIFICATE, json!({"status": status, "exiResponse": exi}))?;
    let p = call.payload;
    kit::check(p["action"] == action, req, format!("action {action}"), || format!("action {}", p["action"]))?;
    kit::check(p["exiRequest"].as_str().is_some_and(|e| !e.is_empty()), req, "the EV's EXI request in exiRequest", || p.to_string())?;
    if status == "Accepted" {
        kit::expect_and_reply(&conn, "C07.FR.01", "Authorize", 15_000, json!({"idTokenInfo": {"status": "Accepted"}, "certificateStatus": "Accepted"}))?;
        return Ok(());
    }
    // Part 6 step 3: without a contract the EV has nothing to authorize with.
    kit::expect_silence(&conn, req, "Authorize", 3_000, "after the CSMS could not give the EV its contract certificate")
}

fn tc_m_26() -> Step {
    contract_certificate("M01.FR.01", "install-contract", "Install", "Accepted")
}

fn tc_m_27() -> Step {
    contract_certificate("M01.FR.01", "install-contract", "Install", "Failed")
}

fn tc_m_28() -> Step {
    contract_certificate("M02.FR.01", "update-contract", "Update", "Accepted")
}

fn tc_m_29() -> Step {
    contract_certificate("M02.FR.01", "update-contract", "Update", "Failed")
}

/// TC_E_46_CS: EnergyTransferStarted (a Plug & Charge EV), then the EV ends the charging.
/// Where the station's TxStopPoint ends the transaction with the authorization, an Ended
/// event with StopAuthorized and StoppedByEV (E15.FR.04); otherwise an Updated event with
/// StopAuthorized, the energy stopped (E15.FR.05).
fn tc_e_46() -> Step {
    let prepare = || -> Step<Connection> {
        let (conn, start) = ev_connected()?;
        kit::ev_15118(kit::evse_id(), "plug-and-charge", json!({}))?;
        kit::expect_and_reply(&conn, "", "Authorize", 15_000, json!({"idTokenInfo": {"status": "Accepted"}, "certificateStatus": "Accepted"}))?;
        start.after_step(&conn, "", (true, false), (true, true), "Authorized")?;
        super::local_list::charging(&conn, "")?;
        Ok(conn)
    };
    let conn = prepare().setup("reusable state EnergyTransferStarted")?;
    kit::ev_15118(kit::evse_id(), "stop-charging", json!({}))?;
    if authorization_ends_tx() {
        let ev = expect_event(&conn, "E15.FR.04", "Ended", "StopAuthorized")?;
        let reason = at(&ev, "/transactionInfo/stoppedReason");
        return kit::check(reason == "StoppedByEV", "E15.FR.04", "stoppedReason StoppedByEV", || format!("stoppedReason {reason}"));
    }
    let ev = expect_event(&conn, "E15.FR.05", "Updated", "StopAuthorized")?;
    let state = at(&ev, "/transactionInfo/chargingState");
    kit::check(state != "Charging", "E15.FR.05", "the energy stopped (chargingState not Charging)", || format!("chargingState {state}"))
}

const NEEDS: &str = "NotifyEVChargingNeeds";
const SCHEDULE: &str = "NotifyEVChargingSchedule";

/// The EV states its needs (`request`): NotifyEVChargingNeeds for the EVSE under test with
/// its AC or DC parameters (`req`, `params_req`: K15.FR.01/06, K17.FR.01/06), answered
/// `status`.
fn needs_sent(conn: &Connection, req: &str, params_req: &str, request: &str, status: &str) -> Step {
    kit::ev_15118(kit::evse_id(), request, json!({}))?;
    let call = kit::expect(conn, req, NEEDS, 15_000)?;
    kit::reply(conn, req, &call, NEEDS, json!({"status": status}))?;
    let p = call.payload;
    kit::check(p["evseId"] == kit::evse_id(), req, format!("evseId {}, the EVSE of the EV", kit::evse_id()), || format!("evseId {}", p["evseId"]))?;
    let needs = &p["chargingNeeds"];
    kit::check(needs.get("acChargingParameters").is_some() || needs.get("dcChargingParameters").is_some(), params_req, "acChargingParameters or dcChargingParameters", || {
        needs.to_string()
    })
}

/// The CSMS's TxProfile for transaction `tx` at `amps`, Accepted (`req`).
fn tx_profile(conn: &Connection, req: &str, tx: &str, amps: f64) -> Step {
    use super::smart_charging::{accepted, new_id, profile};
    accepted(conn, req, kit::evse_id(), profile(new_id(), "TxProfile", "Absolute", amps, json!({"transactionId": tx}), json!({})))
}

/// The schedule the EV picked, reported for the EVSE under test (`req`), answered Accepted.
fn schedule_reported(conn: &Connection, req: &str) -> Step<Value> {
    let p = kit::expect_and_reply(conn, req, SCHEDULE, 15_000, json!({"status": "Accepted"}))?;
    kit::check(p["evseId"] == kit::evse_id(), req, format!("evseId {}, the EVSE of the EV", kit::evse_id()), || format!("evseId {}", p["evseId"]))?;
    Ok(p)
}

/// Part 6's Authorized and EVConnectedPreSession, then RenegotiateChargingLimits (table 436):
/// needs, the TxProfile, the EV's schedule, and the EV charging. The transaction id.
fn negotiated(checked: bool) -> Step<(Connection, String)> {
    let (conn, tx) = local_tx()?;
    conn.claim(&[NEEDS.into(), SCHEDULE.into()]);
    let run = || -> Step {
        needs_sent(&conn, "K15.FR.01", "K15.FR.06", "charging-needs", "Accepted")?;
        tx_profile(&conn, "K15.FR.09", &tx, 16.0)?;
        schedule_reported(&conn, "K15.FR.10")?;
        super::local_list::charging(&conn, "K15.FR.10")
    };
    if checked { run()? } else { run().setup("reusable state RenegotiateChargingLimits")? }
    Ok((conn, tx))
}

fn tc_k_53() -> Step {
    negotiated(true).map(drop)
}

/// TC_K_54_CS: no schedule from the CSMS (Rejected): the station reports the EV's own and
/// the EV charges — what part 6 expects, though no requirement of part 2 makes the station
/// report a schedule the CSMS did not give (warnings, not failures).
fn tc_k_54() -> Step {
    let (conn, _) = local_tx()?;
    conn.claim(&[NEEDS.into(), SCHEDULE.into()]);
    needs_sent(&conn, "K15.FR.01", "K15.FR.06", "charging-needs", "Rejected")?;
    let reported = kit::expect_and_reply(&conn, "K15", SCHEDULE, 15_000, json!({"status": "Accepted"}));
    kit::should(reported.is_ok(), "K15", "the schedule the EV chose without one from the CSMS, in NotifyEVChargingSchedule (part 6 step 3)", || "none within 15 s".into());
    let charging = super::local_list::charging(&conn, "K15");
    kit::should(charging.is_ok(), "K15", "the EV charging by its own schedule (part 6 step 5)", || format!("{:?}", charging.err()));
    Ok(())
}

/// TC_K_57_CS: after RenegotiateChargingLimits the EV states new needs (K17.FR.01/06); the
/// CSMS's new TxProfile (a lower limit) is taken and the EV's new schedule reported
/// (K17.FR.09/10); the transaction's rate changed (part 6 step 7, a warning only).
fn tc_k_57() -> Step {
    let (conn, tx) = negotiated(false)?;
    needs_sent(&conn, "K17.FR.01", "K17.FR.06", "renegotiate", "Accepted")?;
    tx_profile(&conn, "K17.FR.09", &tx, 8.0)?;
    schedule_reported(&conn, "K17.FR.10")?;
    rate_changed(&conn, "K17")
}

/// TC_K_58_CS: after RenegotiateChargingLimits the CSMS sends a new TxProfile (K16.FR.01);
/// the station renegotiates with the EV and reports its new schedule (K16.FR.05), and the
/// transaction's rate changed (part 6 step 5, a warning only).
fn tc_k_58() -> Step {
    let (conn, tx) = negotiated(false)?;
    tx_profile(&conn, "K16.FR.01", &tx, 8.0)?;
    schedule_reported(&conn, "K16.FR.05")?;
    rate_changed(&conn, "K16")
}

/// A TransactionEvent with triggerReason ChargingRateChanged within 10 s (events about other
/// things on the way are answered and passed over): part 6's last step, but part 2 makes it a
/// SHALL only for external limits (K11.FR.04, K13.FR.03) — here a warning if it is missing.
fn rate_changed(conn: &Connection, req: &str) -> Step {
    let mut seen = Vec::new();
    let deadline = kit::clock::now_ms() + 10_000;
    while kit::clock::now_ms() < deadline {
        let Ok(ev) = super::next_tx_event(conn, req, 2_000) else { continue };
        if ev["triggerReason"] == "ChargingRateChanged" {
            return Ok(());
        }
        seen.push(ev["triggerReason"].to_string());
    }
    kit::should(false, req, "a TransactionEvent with triggerReason ChargingRateChanged for the new schedule (part 6's last step)", || format!("triggers {seen:?}"));
    Ok(())
}

/// TC_C_54/55_CS: booted, Plug & Charge on, ContractValidationOffline as given (a station
/// without the switch has no offline contract validation to test: a skip), unknown ids
/// allowed offline where the station has the switch, the roots installed, the authorization
/// cache empty; then offline the EV arrives and authorizes with its contract. The connection
/// once back.
fn pnc_offline(validation: &str) -> Step<Connection> {
    use super::local_list::{if_implemented, offline};
    let conn = booted(300)?;
    conn.claim(&[TX.into(), "Authorize".into()]);
    pnc_enabled(&conn)?;
    prerequisite(&conn, "C07", "ISO15118Ctrlr", "ContractValidationOffline", validation)?;
    if_implemented(&conn, "AuthCtrlr", "OfflineTxForUnknownIdEnabled", "true")?;
    roots_installed(&conn)?;
    // A contract an earlier case had refused (TC_C_51_CS) may sit in the authorization cache
    // as Invalid, and offline the cache decides (C07.FR.11): the case starts from an empty one
    // (a station without a cache answers Rejected, which changes nothing).
    kit::call(&conn, "", "ClearCache", json!({}), 10_000).setup("the authorization cache cleared")?;
    offline(conn, || {
        kit::plug_in(kit::evse_id())?;
        kit::ev_15118(kit::evse_id(), "plug-and-charge", json!({}))
    })
}

/// TC_C_54_CS: once back, the station reports the transaction it authorized offline with the
/// EV's contract (offline true, the eMAID; C07.FR.08-12), and the EV charges.
fn tc_c_54() -> Step {
    let conn = pnc_offline("true")?;
    let by_contract = |ev: &Value| at(ev, "/idToken/type") == "eMAID";
    let ev = tx_event_where(&conn, "C07.FR.08", "a TransactionEvent authorized offline by the EV's contract (idToken type eMAID)", by_contract)?;
    kit::check(ev["offline"] == true, "C07.FR.08", "offline true on the event about the offline authorization", || format!("offline {}", ev["offline"]))?;
    super::local_list::charging(&conn, "C07.FR.08")
}

/// TC_C_55_CS: once back, no event says the EV was authorized or charges (C07.FR.07); the
/// cable's own events (offline true) are answered on the way.
fn tc_c_55() -> Step {
    let conn = pnc_offline("false")?;
    kit::pilot(kit::evse_id(), kit::PilotState::C)?;
    let charges = |ev: &Value| ev["triggerReason"] == "Authorized" || at(ev, "/transactionInfo/chargingState") == "Charging" || at(ev, "/idToken/type") == "eMAID";
    kit::expect_none(&conn, "C07.FR.07", TX, 5_000, json!({}), "no authorization and no charging offline without contract validation", charges)
}

/// TC_K_56_CS: a TxDefaultProfile of 10 A (in the configured unit, 400 s; part 6's memory
/// state), the transaction authorized; offline, the EV states its needs and charges. Back
/// online the station reports a schedule within the default profile (K15.FR.15) and the
/// charging, offline true.
fn tc_k_56() -> Step {
    use super::smart_charging::{accepted, new_id, profile};
    let (conn, _) = local_tx()?;
    conn.claim(&[SCHEDULE.into()]);
    let default = profile(new_id(), "TxDefaultProfile", "Absolute", 10.0, json!({"validFrom": kit::time_from_now(-60), "validTo": kit::time_from_now(401)}), json!({"duration": 400}));
    accepted(&conn, "", kit::evse_id(), default).setup("memory state SetChargingProfile (TxDefaultProfile)")?;
    let again = super::local_list::offline_claiming(conn, &[TX, SCHEDULE], || {
        kit::ev_15118(kit::evse_id(), "charging-needs", json!({}))?;
        kit::pilot(kit::evse_id(), kit::PilotState::C)
    })?;
    let p = schedule_reported(&again, "K15.FR.15")?;
    let max = crate::charging_rate::limit(10.0);
    let periods = at(&p, "/chargingSchedule/chargingSchedulePeriod").as_array().cloned().unwrap_or_default();
    let unit = at(&p, "/chargingSchedule/chargingRateUnit");
    kit::check(
        unit == crate::charging_rate::unit().as_str() && periods.iter().all(|q| q["limit"].as_f64().is_some_and(|l| l <= max)),
        "K15.FR.15",
        format!("a schedule within the TxDefaultProfile: no period above {max} {}", crate::charging_rate::unit()),
        || p["chargingSchedule"].to_string(),
    )?;
    let charging = |ev: &Value| at(ev, "/transactionInfo/chargingState") == "Charging";
    let ev = tx_event_where(&again, "K15.FR.15", "the EV charging by the schedule made offline (chargingState Charging)", charging)?;
    kit::check(ev["offline"] == true, "K15.FR.15", "offline true on the charging that began offline", || format!("offline {}", ev["offline"]))
}
