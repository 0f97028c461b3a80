//! ISO 15118 certificate handling by a CSMS DUT (part 6 §3.14; the ISO 15118 Support
//! profile): V2G and mobility-operator roots installed and listed as its operator asks (M05,
//! M03, the V2G chain with its sub-CAs, M03.FR.05), the OCSP status of a V2G certificate (M06)
//! and an EV's contract certificate installed or updated through it (M01, M02). The station's
//! EXI is made up: the CSMS forwards it, it does not read it.
use serde_json::json;

use super::{certificate_installed, installed_certificates, operated_case, registered};
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
