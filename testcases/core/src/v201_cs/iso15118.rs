//! The station's V2G certificate, for a charging-station DUT (part 6 §2.2 and §2.14; the ISO
//! 15118 Support profile): renewed at the CSMS's request as its own type (A02.FR.13, memory
//! state RenewV2GChargingStationCertificate, table 447), listed as a chain with its sub-CAs
//! as children (M03.FR.05), and its OCSP status asked once it changed (M06.FR.07). The V2G
//! root and the chain come from the run's test PKI (`pki-operation`).
use serde_json::{Value, json};

use crate::{
    Case,
    kit::{self, Connection, Setup, Step},
};

use super::booted;

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    super::station_case(id, title, requirements, &[], run).profile("iso15118")
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        case(
            "TC_A_12_CS",
            "Renew the V2G certificate at the CSMS's request: a CSR of type V2GCertificate, the chain issued for it Accepted",
            &["A02.FR.02", "A02.FR.03", "A02.FR.06", "A02.FR.13", "A02.FR.15", "F06.FR.04", "F06.FR.05", "F06.FR.10"],
            tc_a_12,
        ),
        case(
            "TC_M_15_CS",
            "GetInstalledCertificateIds for V2GCertificateChain lists the V2G certificate with its sub-CAs as children",
            &["M03.FR.01", "M03.FR.03", "M03.FR.04", "M03.FR.05"],
            tc_m_15,
        ),
        case("TC_M_24_CS", "A new V2G certificate: its OCSP status is asked for it and each sub-CA, answered Accepted", &["M06.FR.06", "M06.FR.07"], tc_m_24),
        case("TC_M_25_CS", "A new V2G certificate: its OCSP status is asked, answered Failed, and the station goes on", &["M06.FR.04", "M06.FR.07"], tc_m_25),
    ]
}

const SIGN: &str = "SignCertificate";
const STATUS: &str = "GetCertificateStatus";

/// Memory state CertificateInstalled for the test PKI's V2G root: the chain the PKI issues
/// ends under it, so the station can check it (A02.FR.06).
fn v2g_root_installed(conn: &Connection) -> Step {
    let root = kit::pki("M05", "v2g-root", "")?;
    super::certificates::certificate_installed(conn, "M05.FR.02", "V2GRootCertificate", &root).setup("memory state CertificateInstalled (V2GRootCertificate)")
}

/// Memory state RenewV2GChargingStationCertificate (table 447), checked: TriggerMessage
/// SignV2GCertificate Accepted (F06.FR.05), a PEM CSR of type V2GCertificate (A02.FR.03/13),
/// the chain the test PKI issues for it Accepted (A02.FR.06). The chain (PEM, leaf first).
/// The station's OCSP requests that follow are the caller's to watch (claimed here).
fn renewed(conn: &Connection) -> Step<String> {
    v2g_root_installed(conn)?;
    conn.claim(&[SIGN.into(), STATUS.into()]);
    let r = kit::call(conn, "F06.FR.05", "TriggerMessage", json!({"requestedMessage": "SignV2GCertificate"}), 10_000)?;
    kit::check(r["status"] == "Accepted", "F06.FR.05", "TriggerMessage SignV2GCertificate Accepted", || r.to_string())?;
    let s = kit::expect_and_reply(conn, "F06.FR.10", SIGN, 15_000, json!({"status": "Accepted"}))?;
    let csr = s["csr"].as_str().unwrap_or_default().to_string();
    kit::check(csr.contains("-----BEGIN CERTIFICATE REQUEST-----"), "A02.FR.03", "a PEM certificate signing request (RFC 2986)", || csr.chars().take(80).collect())?;
    kit::check(s["certificateType"] == "V2GCertificate", "A02.FR.13", "certificateType V2GCertificate, the certificate the update was triggered for", || {
        format!("certificateType {}", s["certificateType"])
    })?;
    let chain = kit::pki("A02.FR.03", "sign-v2g-csr", &csr)?;
    let r = kit::call(conn, "A02.FR.06", "CertificateSigned", json!({"certificateChain": chain, "certificateType": "V2GCertificate"}), 10_000)?;
    kit::check(r["status"] == "Accepted", "A02.FR.06", "CertificateSigned Accepted for the V2G chain issued for its CSR", || r.to_string())?;
    Ok(chain)
}

/// (issuer name hash, serial in hex) of each certificate of a PEM chain, as OCPP hash data
/// has them (SHA-256, the serial without leading zeroes).
fn names_and_serials(chain: &str) -> Vec<(String, String)> {
    use sha2::{Digest, Sha256};
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    x509_parser::pem::Pem::iter_from_buffer(chain.as_bytes())
        .filter_map(Result::ok)
        .filter_map(|p| p.parse_x509().ok().map(|c| (hex(&Sha256::digest(c.issuer().as_raw())), format!("{:x}", c.serial))))
        .collect()
}

fn same_serial(a: &str, b: &str) -> bool {
    a.trim_start_matches('0').eq_ignore_ascii_case(b.trim_start_matches('0'))
}

fn tc_a_12() -> Step {
    let conn = booted(300)?;
    renewed(&conn)?;
    conn.release(&[STATUS.into()]);
    Ok(())
}

/// TC_M_15_CS: a station without a V2G chain gets one first (the renewal as preparation);
/// then the entry of type V2GCertificateChain holds the leaf, and the sub-CAs as its
/// children — those of the chain given, when the case gave it.
fn tc_m_15() -> Step {
    let conn = booted(300)?;
    let listed = |conn: &Connection| -> Step<Value> { kit::call(conn, "M03.FR.01", "GetInstalledCertificateIds", json!({"certificateType": ["V2GCertificateChain"]}), 10_000) };
    let mut given = None;
    if listed(&conn)?["status"] != "Accepted" {
        given = Some(renewed(&conn).setup("memory state RenewV2GChargingStationCertificate")?);
        conn.release(&[STATUS.into()]);
    }
    let r = listed(&conn)?;
    kit::check(r["status"] == "Accepted", "M03.FR.03", "status Accepted: a V2G certificate chain is installed", || r.to_string())?;
    let chain = r["certificateHashDataChain"].as_array().cloned().unwrap_or_default();
    let entry = chain
        .iter()
        .find(|e| e["certificateType"] == "V2GCertificateChain")
        .ok_or_else(|| kit::fail("M03.FR.04", "an entry of certificateType V2GCertificateChain", format!("{chain:?}")))?;
    let children = entry["childCertificateHashData"].as_array().cloned().unwrap_or_default();
    let Some(given) = given else {
        // A chain the station had already: its sub-CAs are unknown here, but there are some.
        return kit::check(!children.is_empty(), "M03.FR.05", "the sub-CAs as childCertificateHashData of the V2G certificate", || entry.to_string());
    };
    let certs = names_and_serials(&given);
    let leaf = &certs[0];
    kit::check(same_serial(entry["certificateHashData"]["serialNumber"].as_str().unwrap_or_default(), &leaf.1), "M03.FR.04", "the V2G certificate issued as the entry's certificateHashData", || {
        format!("serial {} where {} was issued", entry["certificateHashData"]["serialNumber"], leaf.1)
    })?;
    for (_, serial) in &certs[1..] {
        kit::check(children.iter().any(|c| same_serial(c["serialNumber"].as_str().unwrap_or_default(), serial)), "M03.FR.05", format!("the sub-CA with serial {serial} among childCertificateHashData"), || {
            format!("{children:?}")
        })?;
    }
    Ok(())
}

/// TC_M_24/25_CS: after the renewal the station asks the OCSP status of the new certificate
/// and of each sub-CA of its chain (M06.FR.07), each answered `status` (Accepted with the
/// test PKI's OCSP response, or Failed without one); then it still answers the CSMS.
fn ocsp_asked(status: &str) -> Step {
    let req = "M06.FR.07";
    let conn = booted(300)?;
    let chain = renewed(&conn).setup("memory state RenewV2GChargingStationCertificate")?;
    let certs = names_and_serials(&chain);
    let mut asked: Vec<String> = Vec::new();
    let within = 15_000 + u32::from(kit::config::lab_timing().response_ms);
    while !certs.iter().all(|(_, s)| asked.iter().any(|a| same_serial(a, s))) {
        let call = kit::expect(&conn, req, STATUS, within).map_err(|_| {
            let missing: Vec<&str> = certs.iter().filter(|(_, s)| !asked.iter().any(|a| same_serial(a, s))).map(|(_, s)| s.as_str()).collect();
            kit::fail(req, format!("GetCertificateStatus for the new V2G certificate and each sub-CA ({} in all)", certs.len()), format!("none for serial(s) {}", missing.join(", ")))
        })?;
        let data = &call.payload["ocspRequestData"];
        let reply = if status == "Accepted" { json!({"status": "Accepted", "ocspResult": kit::pki(req, "ocsp-response", &data.to_string())?}) } else { json!({"status": status}) };
        conn.reply(&call.id, &reply.to_string()).map_err(|e| kit::fail(req, "to answer GetCertificateStatus", format!("{e:?}")))?;
        asked.push(data["serialNumber"].as_str().unwrap_or_default().to_string());
    }
    conn.release(&[STATUS.into()]);
    kit::call(&conn, "M06", "GetInstalledCertificateIds", json!({"certificateType": ["V2GCertificateChain"]}), 10_000).map(drop)
}

fn tc_m_24() -> Step {
    ocsp_asked("Accepted")
}

fn tc_m_25() -> Step {
    ocsp_asked("Failed")
}
