//! The station's own certificate, for a charging-station DUT (part 6 §2.1, §2.18-2.19; the
//! Advanced Security profile): renewed at the CSMS's request (A02: a new key pair, its CSR,
//! the certificate the harness's test CA issues for it), an invalid one refused (A02.FR.07),
//! a refused CSR, and the certificate kept from DeleteCertificate (M04.FR.06).
use serde_json::{Value, json};

use crate::{
    Case,
    kit::{self, Connection, SessionError, Setup, Step, Verdict, session},
};

use super::{booted, prerequisite};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    super::station_case(id, title, requirements, &[], run).profile("advanced-security")
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        case(
            "TC_A_11_CS",
            "Renew the station's certificate at the CSMS's request: a CSR for a new key, the certificate issued for it Accepted",
            &["A02.FR.02", "A02.FR.03", "A02.FR.06", "A02.FR.08", "A02.FR.09", "F06.FR.04", "F06.FR.05", "F06.FR.10"],
            tc_a_11,
        ),
        case(
            "TC_A_14_CS",
            "A certificate not issued for the station's CSR is Rejected, with an InvalidChargingStationCertificate security event",
            &["A02.FR.07", "A03.FR.07"],
            tc_a_14,
        ),
        case("TC_A_15_CS", "SignChargingStationCertificate is Accepted and the CSR sent, even when the CSMS then refuses it", &["F06.FR.05", "A02.FR.03"], tc_a_15),
        case("TC_A_23_CS", "A CSR the CSMS accepted without sending a certificate is sent again after CertSigningWaitMinimum, then after twice that", &["A02.FR.17", "A02.FR.18"], tc_a_23)
            .timeout_ms(120_000),
        case("TC_M_23_CS", "DeleteCertificate of the station's own certificate is refused (Failed or NotFound)", &["M04.FR.01", "M04.FR.06"], tc_m_23),
    ]
}

const SIGN: &str = "SignCertificate";
const SEV: &str = "SecurityEventNotification";

/// Steps 1-3 of RenewChargingStationCertificate: TriggerMessage SignChargingStationCertificate
/// Accepted (F06.FR.05), then a SignCertificate whose csr is a PEM CSR (A02.FR.03), answered
/// `answer`. The CSR.
fn csr_sent(conn: &Connection, answer: &str) -> Step<String> {
    conn.claim(&[SIGN.into()]);
    let r = kit::call(conn, "F06.FR.05", "TriggerMessage", json!({"requestedMessage": "SignChargingStationCertificate"}), 10_000)?;
    kit::check(r["status"] == "Accepted", "F06.FR.05", "TriggerMessage SignChargingStationCertificate Accepted", || r.to_string())?;
    let s = kit::expect_and_reply(conn, "F06.FR.10", SIGN, 15_000, json!({"status": answer}))?;
    let csr = s["csr"].as_str().unwrap_or_default().to_string();
    kit::check(csr.contains("-----BEGIN CERTIFICATE REQUEST-----"), "A02.FR.03", "a PEM certificate signing request (RFC 2986)", || {
        csr.chars().take(80).collect()
    })?;
    kit::check(s.get("certificateType").is_none_or(|t| t == "ChargingStationCertificate"), "A02.FR.13", "certificateType ChargingStationCertificate, as triggered", || {
        s["certificateType"].to_string()
    })?;
    Ok(csr)
}

/// The test CA's certificate for `csr` (leaf, then the CA).
fn issued(csr: &str) -> Step<String> {
    match session::sign_csr(csr) {
        Ok(chain) => Ok(chain),
        Err(SessionError::Usage(why)) => Err(Verdict::Inconclusive(format!("the lab's PKI cannot sign the CSR: {why}"))),
        Err(e) => Err(kit::fail("A02.FR.03", "a CSR the test CA can sign (RFC 2986, PEM)", format!("{e:?}"))),
    }
}

/// CertificateSigned of `chain` as the station's certificate: the answer's status.
fn certificate_signed(conn: &Connection, req: &str, chain: &str) -> Step<String> {
    let r = kit::call(conn, req, "CertificateSigned", json!({"certificateChain": chain, "certificateType": "ChargingStationCertificate"}), 10_000)?;
    Ok(r["status"].as_str().unwrap_or_default().to_string())
}

/// Part 6's RenewChargingStationCertificate, checked: the issued chain.
fn renewed(conn: &Connection) -> Step<String> {
    let csr = csr_sent(conn, "Accepted")?;
    let chain = issued(&csr)?;
    let status = certificate_signed(conn, "A02.FR.06", &chain)?;
    kit::check(status == "Accepted", "A02.FR.06", "CertificateSigned Accepted for the certificate issued for its CSR", || format!("status {status}"))?;
    Ok(chain)
}

fn tc_a_11() -> Step {
    let conn = booted(300)?;
    renewed(&conn).map(|_| ())
}

/// TC_A_14_CS: a certificate the test CA issued for another key (a CSR the harness makes up is
/// not at hand: the CA's own certificate stands in, valid but not the station's).
fn tc_a_14() -> Step {
    let conn = booted(300)?;
    let csr = csr_sent(&conn, "Accepted")?;
    let chain = issued(&csr)?;
    let ca_only = chain.split_once("-----END CERTIFICATE-----").map(|(_, rest)| rest.trim_start().to_string()).unwrap_or_default();
    conn.claim(&[SEV.into()]);
    let status = certificate_signed(&conn, "A02.FR.07", &ca_only)?;
    kit::check(status == "Rejected", "A02.FR.07", "CertificateSigned Rejected for a certificate not issued for its key", || format!("status {status}"))?;
    let ev = kit::expect_and_reply(&conn, "A02.FR.07", SEV, 10_000, json!({}))?;
    kit::check(ev["type"] == "InvalidChargingStationCertificate", "A02.FR.07", "a security event InvalidChargingStationCertificate", || ev.to_string())
}

/// TC_A_15_CS: steps 1-4; the CSMS refuses the CSR.
fn tc_a_15() -> Step {
    let conn = booted(300)?;
    csr_sent(&conn, "Rejected").map(|_| ())
}

/// Part 6's "<Configured CertSigningWaitMinimum>", in s: DUT parameter
/// `cert-signing-wait-minimum`, 5 by default (the case waits three times that).
fn wait_minimum() -> u64 {
    kit::config::parameter("cert-signing-wait-minimum").and_then(|v| v.trim().parse().ok()).filter(|s| *s > 0).unwrap_or(5)
}

/// TC_A_23_CS: with CertSigningRepeatTimes 1 the back-off doubles once: the CSR comes again
/// no sooner than CertSigningWaitMinimum after the first (A02.FR.17), and again no sooner than
/// twice that after the second (A02.FR.18), each Accepted and not answered with a certificate;
/// then the certificate for the last CSR (the same as the first's unless the station made a
/// new key, which A02.FR.17 allows) is Accepted. A resend is awaited up to the lab's
/// response time past its back-off.
fn tc_a_23() -> Step {
    let conn = booted(300)?;
    let wait = wait_minimum();
    prerequisite(&conn, "A02.FR.17", "SecurityCtrlr", "CertSigningWaitMinimum", &wait.to_string())?;
    prerequisite(&conn, "A02.FR.18", "SecurityCtrlr", "CertSigningRepeatTimes", "1")?;
    let mut csr = csr_sent(&conn, "Accepted")?;
    let mut last = kit::clock::now_ms();
    let slack = u64::from(kit::config::lab_timing().response_ms);
    for (k, (req, backoff)) in [("A02.FR.17", wait), ("A02.FR.18", 2 * wait)].into_iter().enumerate() {
        let within = (backoff * 1_000 + slack) as u32;
        let s = kit::expect_and_reply(&conn, req, SIGN, within, json!({"status": "Accepted"}))?;
        let now = kit::clock::now_ms();
        let after = now - last;
        // Timestamps on both sides are taken to the millisecond; a second's rounding in the
        // station's timer is not a failure.
        kit::check(after + 1_000 >= backoff * 1_000, req, format!("resend {} of the CSR no sooner than {backoff} s after the previous one", k + 1), || {
            format!("after {after} ms")
        })?;
        csr = s["csr"].as_str().unwrap_or_default().to_string();
        last = now;
    }
    let chain = issued(&csr)?;
    let status = certificate_signed(&conn, "A02.FR.06", &chain)?;
    kit::check(status == "Accepted", "A02.FR.06", "CertificateSigned Accepted for the certificate issued for its CSR", || format!("status {status}"))
}

/// TC_M_23_CS: the certificate just renewed, named by its hash data, cannot be deleted.
fn tc_m_23() -> Step {
    let conn = booted(300)?;
    let chain = renewed(&conn).setup("memory state RenewChargingStationCertificate")?;
    let hash = hash_data(&chain).ok_or_else(|| Verdict::Inconclusive("the issued certificate does not parse".into()))?;
    let r = kit::call(&conn, "M04.FR.01", "DeleteCertificate", json!({"certificateHashData": hash}), 10_000)?;
    kit::check(["Failed", "NotFound"].contains(&r["status"].as_str().unwrap_or_default()), "M04.FR.06", "Failed (or NotFound) for the station's own certificate", || r.to_string())
}

/// OCPP hash data (SHA-256) of the first certificate of `chain`: its issuer's name, the key
/// of the certificate after it (its issuer), its serial number in hex.
fn hash_data(chain: &str) -> Option<Value> {
    use sha2::{Digest, Sha256};
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let (_, leaf) = x509_parser::pem::parse_x509_pem(chain.as_bytes()).ok()?;
    let leaf = leaf.parse_x509().ok()?;
    let rest = chain.split_once("-----END CERTIFICATE-----")?.1;
    let (_, issuer) = x509_parser::pem::parse_x509_pem(rest.as_bytes()).ok()?;
    let issuer = issuer.parse_x509().ok()?;
    Some(json!({
        "hashAlgorithm": "SHA256",
        "issuerNameHash": hex(&Sha256::digest(leaf.issuer().as_raw())),
        "issuerKeyHash": hex(&Sha256::digest(&issuer.public_key().subject_public_key.data)),
        "serialNumber": format!("{:x}", leaf.serial),
    }))
}
