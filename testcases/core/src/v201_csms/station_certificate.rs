//! The station's certificate renewed through a CSMS DUT (part 6 §3.1, RenewChargingStationCertificate;
//! the Advanced Security profile): asked by its operator, the CSMS triggers a CSR, accepts it
//! (A02.FR.11) and returns the certificate its CA issued for the CSR's key, as the type asked
//! (A02.FR.14); the harness's station then takes it or, in TC_A_14, refuses it.
use serde_json::json;

use super::{operated_case, registered, triggered};
use crate::{
    Case,
    kit::{self, *},
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    operated_case(id, title, requirements, run).profile("advanced-security")
}

pub(super) fn cases() -> Vec<Case> {
    vec![
        case(
            "TC_A_11_CSMS",
            "The CSMS triggers the station's CSR, accepts it and returns the certificate issued for it",
            &["A02.FR.11", "A02.FR.14", "F06.FR.01"],
            tc_a_11,
        ),
        operated_case(
            "TC_A_12_CSMS",
            "The CSMS triggers the station's V2G CSR, accepts it and returns the V2G certificate issued for it",
            &["A02.FR.11", "A02.FR.14", "F06.FR.01"],
            tc_a_12,
        )
        .profile("iso15118"),
        case("TC_A_14_CSMS", "The CSMS renews the station's certificate; the station refuses it, and the CSMS takes the refusal", &["A02.FR.11"], tc_a_14),
    ]
}

/// The harness station's CSR: a P-256 key made for the harness, CN CS001, O ocpp-harness. Its
/// private key is not kept: the certificate the CSMS returns is checked, never used.
const CSR: &str = "-----BEGIN CERTIFICATE REQUEST-----
MIHiMIGJAgEAMCcxDjAMBgNVBAMMBUNTMDAxMRUwEwYDVQQKDAxvY3BwLWhhcm5l
c3MwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAR8pXu7qGMX59B36bmNTOpqgxE/
cfddqihOAULjopl27mSdv0Y/Lx8iChzjLSBmx7LD8nmXNkxQ/QY1T3OwSi6ioAAw
CgYIKoZIzj0EAwIDSAAwRQIgSV0l436L1W1JUckm7cUwRZnPg0g6DggXVCL/J43t
v5cCIQC2/u5zkNYxNLQQCIyEMJfztnulASN2i1CiVugknekbqQ==
-----END CERTIFICATE REQUEST-----
";

/// RenewChargingStationCertificate (or, for `V2GCertificate`, RenewV2GChargingStationCertificate)
/// up to the CSMS's CertificateSigned, answered `answer`: the operator asks, the CSMS triggers
/// the CSR of `kind` (F06.FR.01), accepts it (A02.FR.11) and sends a certificate for its key,
/// typed as asked (A02.FR.14, a recommendation: a warning only).
fn renewal(kind: &str, answer: &str) -> Step {
    let conn = registered()?;
    let trigger = if kind == "V2GCertificate" { "SignV2GCertificate" } else { "SignChargingStationCertificate" };
    // The certificate comes right after the CSR's answer: the case takes it, no default answer.
    conn.claim(&["CertificateSigned".into()]);
    let t = triggered(&conn, "F06.FR.01", "TriggerMessage", json!({"requestedMessage": trigger}), json!({"status": "Accepted"}))?;
    kit::check(t["requestedMessage"] == trigger, "F06.FR.01", format!("requestedMessage {trigger}"), || t.to_string())?;
    let r = kit::call(&conn, "A02.FR.11", "SignCertificate", json!({"csr": CSR, "certificateType": kind}), 10_000)?;
    // A02.FR.12 lets a CSMS that cannot process CSRs refuse them: the case needs one that can.
    if r["status"] == "Rejected" {
        return Err(Verdict::Inconclusive("the CSMS refused the CSR, as A02.FR.12 allows a CSMS that cannot process one: this case needs its CA set up".into()));
    }
    kit::check(r["status"] == "Accepted", "A02.FR.11", "SignCertificate Accepted for a well-formed CSR", || r.to_string())?;
    let call = kit::expect(&conn, "A02", "CertificateSigned", 15_000)?;
    kit::reply(&conn, "A02", &call, "CertificateSigned", json!({"status": answer}))?;
    let p = call.payload;
    kit::should(p["certificateType"] == kind, "A02.FR.14", format!("certificateType {kind}, the type of the CSR"), || format!("certificateType {}", p["certificateType"]));
    let chain = p["certificateChain"].as_str().unwrap_or_default();
    kit::check(for_csr_key(chain), "A02", "a certificate for the CSR's public key (part 6 step 5: generated from the CSR)", || chain.chars().take(120).collect())
}

/// Whether the first certificate of `chain` certifies the key of `CSR`.
fn for_csr_key(chain: &str) -> bool {
    use x509_parser::prelude::FromDer;
    let key = |der: &[u8]| -> Option<Vec<u8>> {
        let (_, csr) = x509_parser::certification_request::X509CertificationRequest::from_der(der).ok()?;
        Some(csr.certification_request_info.subject_pki.subject_public_key.data.to_vec())
    };
    let Ok((_, csr_pem)) = x509_parser::pem::parse_x509_pem(CSR.as_bytes()) else { return false };
    let Ok((_, cert_pem)) = x509_parser::pem::parse_x509_pem(chain.as_bytes()) else { return false };
    let Ok(cert) = cert_pem.parse_x509() else { return false };
    key(&csr_pem.contents).is_some_and(|k| k == cert.public_key().subject_public_key.data.as_ref())
}

fn tc_a_11() -> Step {
    renewal("ChargingStationCertificate", "Accepted")
}

fn tc_a_14() -> Step {
    renewal("ChargingStationCertificate", "Rejected")
}

fn tc_a_12() -> Step {
    renewal("V2GCertificate", "Accepted")
}

