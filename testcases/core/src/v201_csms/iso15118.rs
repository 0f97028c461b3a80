//! ISO 15118 certificate handling by a CSMS DUT (part 6 §3.14; the ISO 15118 Support
//! profile): V2G and mobility-operator roots installed and listed as its operator asks (M05,
//! M03, the V2G chain with its sub-CAs, M03.FR.05), the OCSP status of a V2G certificate (M06)
//! and an EV's contract certificate installed or updated through it (M01, M02), and an EV's
//! charging needs answered with a TxProfile whose limits the EV's schedule is held to (K15-K17).
//! The station's EXI is made up: the CSMS forwards it, it does not read it.
use serde_json::{Value, json};

use super::{certificate_installed, event, installed_certificates, new_tx_id, operated_case, registered, started_by_valid_token, triggered};
use crate::{
    Case,
    kit::{self, *},
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    operated_case(id, title, requirements, run).profile("iso15118")
}

/// A case the harness station starts by itself (no operator needed).
fn own_case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    Case::new(id, title, Role::ChargingStation, V201, requirements, run).timeout_ms(40_000).profile("iso15118")
}

pub(super) fn cases() -> Vec<Case> {
    vec![
        case("TC_M_03_CSMS", "Install CA certificate - V2GRootCertificate", &["M05.FR.01"], tc_m_03),
        case("TC_M_04_CSMS", "Install CA certificate - MORootCertificate", &["M05.FR.01"], tc_m_04),
        case("TC_M_14_CSMS", "Retrieve certificates from Charging Station - V2GRootCertificate", &["M03.FR.01"], tc_m_14),
        case("TC_M_15_CSMS", "Retrieve certificates from Charging Station - V2GCertificateChain", &["M03.FR.01", "M03.FR.05"], tc_m_15),
        case("TC_M_16_CSMS", "Retrieve certificates from Charging Station - MORootCertificate", &["M03.FR.01"], tc_m_16),
        own_case(
            "TC_M_24_CSMS",
            "GetCertificateStatus for a V2G sub-CA is Accepted with a DER OCSP response",
            &["M06.FR.01", "M06.FR.02", "M06.FR.03", "M06.FR.08", "M06.FR.09"],
            tc_m_24,
        ),
        own_case("TC_M_26_CSMS", "Get15118EVCertificate Install is Accepted with the EV's EXI response", &["M01.FR.01"], tc_m_26),
        own_case("TC_M_28_CSMS", "Get15118EVCertificate Update is Accepted with the EV's EXI response", &["M02.FR.01"], tc_m_28),
        own_case(
            "TC_K_53_CSMS",
            "An EV's charging needs: Accepted, a TxProfile for its transaction, the EV's schedule within it Accepted",
            &["K15.FR.02", "K15.FR.03", "K15.FR.05", "K15.FR.07", "K15.FR.11"],
            tc_k_53,
        )
        .timeout_ms(90_000),
        own_case(
            "TC_K_55_CSMS",
            "An EV's schedule beyond the TxProfile is Rejected and a new TxProfile renegotiates; the next one within it is Accepted",
            &["K15.FR.12", "K15.FR.13", "K16.FR.07", "K16.FR.08", "K17.FR.12", "K17.FR.13"],
            tc_k_55,
        )
        .timeout_ms(120_000),
        own_case(
            "TC_K_57_CSMS",
            "The EV renegotiates: its new needs Accepted, a new TxProfile, its schedule within it Accepted",
            &["K17.FR.02", "K17.FR.03", "K17.FR.05", "K17.FR.07", "K17.FR.11"],
            tc_k_57,
        )
        .timeout_ms(120_000),
        case("TC_K_58_CSMS", "The CSMS renegotiates with a new TxProfile; the EV's schedule within it is Accepted", &["K16.FR.06"], tc_k_58).timeout_ms(120_000),
        case(
            "TC_K_59_CSMS",
            "The CSMS renegotiates; the EV answers with new needs, and the CSMS sends another TxProfile for them",
            &["K16.FR.12"],
            tc_k_59,
        )
        .timeout_ms(120_000),
    ]
}

fn tc_m_03() -> Step {
    certificate_installed(&registered()?, "M05.FR.01", "V2GRootCertificate", "Accepted")
}

fn tc_m_04() -> Step {
    certificate_installed(&registered()?, "M05.FR.01", "MORootCertificate", "Accepted")
}

fn tc_m_14() -> Step {
    installed_certificates(&registered()?, "M03.FR.01", Some("V2GRootCertificate"), "Accepted").map(drop)
}

fn tc_m_15() -> Step {
    installed_certificates(&registered()?, "M03.FR.01", Some("V2GCertificateChain"), "Accepted").map(drop)
}

fn tc_m_16() -> Step {
    installed_certificates(&registered()?, "M03.FR.01", Some("MORootCertificate"), "Accepted").map(drop)
}

/// Part 6's "<Configured …>" OCSP responder of the V2G sub-CA the station asks about: DUT
/// parameter `ocsp-responder-url` (the test PKI's, which only the built-in CSMS answers for,
/// by default). A lab's CSMS must reach it, as OCTT's own OCSP service.
fn responder() -> String {
    kit::config::parameter("ocsp-responder-url").unwrap_or_else(|| "http://ocsp.ocpp-harness.test/v2g".into())
}

/// TC_M_24_CSMS: the station asks the OCSP status of a V2G sub-CA (hash data of the test
/// PKI's SubCA2, made up but well formed); the CSMS answers Accepted (M06.FR.02) with the
/// response (M06.FR.03): an RFC 6960 OCSPResponse, DER, here in base64 (M06.FR.08/09).
fn tc_m_24() -> Step {
    let conn = registered()?;
    let data = json!({
        "hashAlgorithm": "SHA256",
        "issuerNameHash": "5c1f0e6a3b2d4f8e9a7c6b5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f",
        "issuerKeyHash": "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",
        "serialNumber": "7e11f00d",
        "responderURL": responder(),
    });
    let r = kit::call(&conn, "M06.FR.01", "GetCertificateStatus", json!({"ocspRequestData": data}), 30_000)?;
    kit::check(r["status"] == "Accepted", "M06.FR.02", "status Accepted: the OCSP status was retrieved", || r.to_string())?;
    let result = r["ocspResult"].as_str().unwrap_or_default();
    kit::check(!result.is_empty(), "M06.FR.03", "the OCSP response data in ocspResult", || r.to_string())?;
    let der = base64_decode(result).ok_or_else(|| kit::fail("M06.FR.09", "ocspResult in base64 (of DER)", result.chars().take(80).collect::<String>()))?;
    ocsp_response(&der).map_err(|why| kit::fail("M06.FR.08", "an OCSPResponse of RFC 6960 (DER): responseStatus, then id-pkix-ocsp-basic response bytes", why))
}

/// TC_M_26/28_CSMS: an EV's CertificateInstallationReq / CertificateUpdateReq (EXI, made up)
/// goes to the CSMS; it answers Accepted with the EXI response for the EV, base64.
fn ev_certificate(req: &str, action: &str) -> Step {
    let conn = registered()?;
    let exi = "gJgCAAAAAAAAAAgAEAAYACAAKAAwADgAQABIAFAAWABgAGgAcAB4AIAAiACQAJgAoACo";
    let r = kit::call(&conn, req, "Get15118EVCertificate", json!({"iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef", "action": action, "exiRequest": exi}), 30_000)?;
    kit::check(r["status"] == "Accepted", req, "status Accepted: the EV's request was forwarded and answered", || r.to_string())?;
    let exi = r["exiResponse"].as_str().unwrap_or_default();
    kit::check(base64_decode(exi).is_some_and(|b| !b.is_empty()), req, format!("the raw {action} response for the EV, base64, in exiResponse"), || {
        format!("exiResponse {:?}", exi.chars().take(80).collect::<String>())
    })
}

fn tc_m_26() -> Step {
    ev_certificate("M01.FR.01", "Install")
}

fn tc_m_28() -> Step {
    ev_certificate("M02.FR.01", "Update")
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()
}

/// One DER element: (tag, content, what follows).
fn tlv(b: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
    let (&tag, rest) = b.split_first().ok_or("the data ends where an element should start")?;
    let (&first, rest) = rest.split_first().ok_or("no length")?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return Err(format!("a length of {n} bytes"));
        }
        (rest[..n].iter().fold(0usize, |a, &x| a << 8 | x as usize), &rest[n..])
    };
    if rest.len() < len {
        return Err(format!("an element of {len} bytes with {} left", rest.len()));
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

/// OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED successful(0), responseBytes [0]
/// EXPLICIT SEQUENCE { responseType id-pkix-ocsp-basic, response OCTET STRING holding a
/// SEQUENCE } } (RFC 6960 §4.2.1), nothing after it.
fn ocsp_response(der: &[u8]) -> Result<(), String> {
    const OCSP_BASIC: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01];
    let (tag, body, after) = tlv(der)?;
    if tag != 0x30 || !after.is_empty() {
        return Err(format!("tag {tag:#04x} with {} bytes after it, not one SEQUENCE", after.len()));
    }
    let (tag, status, rest) = tlv(body)?;
    if tag != 0x0a || status != [0] {
        return Err(format!("responseStatus {status:?} (tag {tag:#04x}), not successful (0)"));
    }
    let (tag, bytes, _) = tlv(rest)?;
    if tag != 0xa0 {
        return Err(format!("tag {tag:#04x} where responseBytes [0] should be"));
    }
    let (_, seq, _) = tlv(bytes)?;
    let (tag, oid, rest) = tlv(seq)?;
    if tag != 0x06 || oid != OCSP_BASIC {
        return Err(format!("responseType {oid:02x?}, not id-pkix-ocsp-basic"));
    }
    let (tag, basic, _) = tlv(rest)?;
    let (inner, _, _) = tlv(basic)?;
    if tag != 0x04 || inner != 0x30 {
        return Err("the response is not an OCTET STRING holding a BasicOCSPResponse SEQUENCE".into());
    }
    Ok(())
}

const NEEDS: &str = "NotifyEVChargingNeeds";
const SCHEDULE: &str = "NotifyEVChargingSchedule";
const PROFILE: &str = "SetChargingProfile";
/// How long a CSMS may take to send its TxProfile: K15.FR.08 recommends 60 s.
const PROFILE_WITHIN_MS: u32 = 60_000;

/// Part 6's Authorized and EVConnectedPreSession: the cable in, a transaction started and
/// authorized by the valid token (preparation). Its id and next seqNo.
fn authorized_ev() -> Step<(Connection, String, u64)> {
    let conn = registered()?;
    let tx = new_tx_id("HLC");
    started_by_valid_token(&conn, &tx, json!({"transactionInfo": {"chargingState": "EVConnected"}}), "reusable states Authorized, EVConnectedPreSession")?;
    Ok((conn, tx, 1))
}

/// The EV's needs (AC, up to 3 periods per schedule), answered Accepted or Processing
/// (`req`: K15.FR.03/05, K17.FR.03/05). A CSMS that has no schedule to give answers Rejected,
/// as K15.FR.04 allows: the case needs one that has, and is inconclusive.
fn needs(conn: &Connection, req: &str) -> Step {
    conn.claim(&[PROFILE.into()]);
    let p = json!({"evseId": 1, "maxScheduleTuples": 3, "chargingNeeds": {"requestedEnergyTransfer": "AC_three_phase", "acChargingParameters": {"energyAmount": 20000, "evMinCurrent": 6, "evMaxCurrent": 32, "evMaxVoltage": 400}}});
    let r = kit::call(conn, req, NEEDS, p, 10_000)?;
    if r["status"] == "Rejected" {
        return Err(Verdict::Inconclusive("the CSMS has no schedule for the EV (Rejected, as K15.FR.04 allows): the case needs one that has".into()));
    }
    kit::check(matches!(r["status"].as_str(), Some("Accepted" | "Processing")), req, "status Accepted or Processing", || r.to_string())
}

/// The CSMS's SetChargingProfile for the EV (`req`: K15.FR.07, K16.FR.12, K17.FR.07): a
/// TxProfile for transaction `tx` at EVSE 1, at most three schedules of at most three periods
/// (maxScheduleTuples); answered Accepted. Its first schedule.
fn profile_for_ev(conn: &Connection, req: &str, tx: &str) -> Step<Value> {
    let call = kit::expect(conn, req, PROFILE, PROFILE_WITHIN_MS)?;
    kit::reply(conn, req, &call, PROFILE, json!({"status": "Accepted"}))?;
    tx_profile_checked(req, &call.payload, tx)
}

fn tx_profile_checked(req: &str, p: &Value, tx: &str) -> Step<Value> {
    let profile = &p["chargingProfile"];
    kit::check(p["evseId"] == 1, req, "evseId 1, the EVSE of the EV", || format!("evseId {}", p["evseId"]))?;
    kit::check(profile["chargingProfilePurpose"] == "TxProfile", req, "chargingProfilePurpose TxProfile", || profile["chargingProfilePurpose"].to_string())?;
    kit::check(profile["transactionId"] == tx, req, format!("transactionId {tx}, the EV's transaction"), || format!("transactionId {}", profile["transactionId"]))?;
    let schedules = profile["chargingSchedule"].as_array().cloned().unwrap_or_default();
    kit::check(!schedules.is_empty() && schedules.len() <= 3, req, "one to three chargingSchedule elements", || format!("{}", schedules.len()))?;
    let periods = |s: &Value| s["chargingSchedulePeriod"].as_array().map_or(0, Vec::len);
    kit::check(schedules.iter().all(|s| periods(s) <= 3), req, "no more periods per schedule than maxScheduleTuples (3)", || {
        format!("{:?}", schedules.iter().map(periods).collect::<Vec<_>>())
    })?;
    Ok(schedules[0].clone())
}

/// The EV's schedule, taken from `given` with every limit times `factor` (1: within it),
/// reported; the answer's status.
fn ev_schedule(conn: &Connection, req: &str, given: &Value, factor: f64) -> Step<String> {
    let mut periods = given["chargingSchedulePeriod"].as_array().cloned().unwrap_or_default();
    for q in &mut periods {
        q["limit"] = json!(q["limit"].as_f64().unwrap_or(6.0) * factor);
    }
    let schedule = json!({"id": given["id"].as_i64().unwrap_or(1), "startSchedule": now(), "chargingRateUnit": given["chargingRateUnit"], "chargingSchedulePeriod": periods});
    let r = kit::call(conn, req, SCHEDULE, json!({"timeBase": now(), "evseId": 1, "chargingSchedule": schedule}), 10_000)?;
    Ok(r["status"].as_str().unwrap_or_default().to_string())
}

fn accepted_schedule(conn: &Connection, req: &str, given: &Value) -> Step {
    let status = ev_schedule(conn, req, given, 1.0)?;
    kit::check(status == "Accepted", req, "NotifyEVChargingSchedule Accepted for a schedule within the TxProfile", || format!("status {status}"))
}

/// Part 6's ISO15118SmartCharging (table 705): needs, the TxProfile, the EV's schedule within
/// it, the EV charging. The next seqNo.
fn smart_charging(conn: &Connection, tx: &str, seq: u64) -> Step<u64> {
    needs(conn, "K15.FR.03")?;
    let given = profile_for_ev(conn, "K15.FR.07", tx)?;
    accepted_schedule(conn, "K15.FR.11", &given)?;
    event(conn, "", "Updated", "ChargingStateChanged", seq, tx, json!({"transactionInfo": {"chargingState": "Charging"}}))?;
    Ok(seq + 1)
}

fn tc_k_53() -> Step {
    let (conn, tx, seq) = authorized_ev()?;
    smart_charging(&conn, &tx, seq).map(drop)
}

/// TC_K_55_CSMS: the EV's schedule asks for twice the TxProfile's limits: Rejected
/// (K15.FR.12), and the CSMS renegotiates with a new TxProfile (K15.FR.13); the schedule
/// within that one is Accepted.
fn tc_k_55() -> Step {
    let (conn, tx, seq) = authorized_ev()?;
    needs(&conn, "K15.FR.03")?;
    let given = profile_for_ev(&conn, "K15.FR.07", &tx)?;
    let status = ev_schedule(&conn, "K15.FR.12", &given, 2.0)?;
    kit::check(status == "Rejected", "K15.FR.12", "NotifyEVChargingSchedule Rejected for a schedule beyond the TxProfile", || format!("status {status}"))?;
    // Part 6 has the EV charge (step 7) before the new profile comes (step 9); a CSMS may send
    // that profile at once, so the case waits for it first and the EV charges then.
    let again = profile_for_ev(&conn, "K15.FR.13", &tx)?;
    event(&conn, "", "Updated", "ChargingStateChanged", seq, &tx, json!({"transactionInfo": {"chargingState": "Charging"}}))?;
    accepted_schedule(&conn, "K15.FR.11", &again)?;
    event(&conn, "", "Updated", "ChargingRateChanged", seq + 1, &tx, json!({})).map(drop)
}

/// TC_K_57_CSMS: after ISO15118SmartCharging the EV states new needs (K17.FR.03/05); the
/// CSMS sends a new TxProfile (K17.FR.07) and takes the schedule within it (K17.FR.11).
fn tc_k_57() -> Step {
    let (conn, tx, seq) = authorized_ev()?;
    let seq = smart_charging(&conn, &tx, seq).setup("reusable state ISO15118SmartCharging")?;
    needs(&conn, "K17.FR.03")?;
    event(&conn, "", "Updated", "ChargingRateChanged", seq, &tx, json!({}))?;
    let given = profile_for_ev(&conn, "K17.FR.07", &tx)?;
    accepted_schedule(&conn, "K17.FR.11", &given)
}

/// The operator's new TxProfile for the EV's transaction at 10 A (part 6: the CSMS
/// renegotiates), taken and answered Accepted. Its first schedule.
fn operator_profile(conn: &Connection, req: &str, tx: &str) -> Step<Value> {
    let schedule = json!({"id": 1, "startSchedule": now(), "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}]});
    let hint = json!({"evseId": 1, "chargingProfile": {"id": 790, "stackLevel": 0, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Absolute", "transactionId": tx, "chargingSchedule": [schedule]}});
    let p = triggered(conn, req, PROFILE, hint, json!({"status": "Accepted"}))?;
    tx_profile_checked(req, &p, tx)
}

/// TC_K_58_CSMS: after ISO15118SmartCharging the CSMS sends a new TxProfile; the EV's
/// schedule within it is Accepted (K16.FR.06).
fn tc_k_58() -> Step {
    let (conn, tx, seq) = authorized_ev()?;
    smart_charging(&conn, &tx, seq).setup("reusable state ISO15118SmartCharging")?;
    let given = operator_profile(&conn, "K16", &tx)?;
    accepted_schedule(&conn, "K16.FR.06", &given)
}

/// TC_K_59_CSMS: after the CSMS's new TxProfile the EV states new needs; the CSMS answers
/// them with another TxProfile (K16.FR.12), and takes the schedule within it.
fn tc_k_59() -> Step {
    let (conn, tx, seq) = authorized_ev()?;
    smart_charging(&conn, &tx, seq).setup("reusable state ISO15118SmartCharging")?;
    operator_profile(&conn, "K16", &tx)?;
    needs(&conn, "K17.FR.03")?;
    let given = profile_for_ev(&conn, "K16.FR.12", &tx)?;
    accepted_schedule(&conn, "K16.FR.06", &given)
}
