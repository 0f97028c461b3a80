//! Block M, certificate management, for a charging-station DUT (part 6 §2.13): install,
//! retrieve and delete root certificates by their hash data. The certificates are public test
//! roots kept beside the suite; no private key is needed to install a root.
use serde_json::{Value, json};

use crate::{
    Case,
    kit::{self, Connection, Role, Step, V201, at},
};

/// The CSMS root from `ocpp-harness pki init` (public part only).
pub(crate) const CSMS_ROOT: &str = include_str!("../test-root-ca.pem");
pub(crate) const CSMS_ROOT_SERIAL: &str = "7d123f9b00e81f8b40d3bc37c980c40fa4af8a65";
/// A second root, installed as the manufacturer's (firmware signing).
pub(crate) const MANUFACTURER_ROOT: &str = include_str!("../test-manufacturer-root.pem");
pub(crate) const MANUFACTURER_ROOT_SERIAL: &str = "be4db84d1fdb2e8a0491933e281138c452f05cb";
/// ISO 15118 roots (public parts): the V2G root and a mobility operator's (contract) root.
pub(crate) const V2G_ROOT: &str = include_str!("../test-v2g-root.pem");
pub(crate) const V2G_ROOT_SERIAL: &str = "2bcb01ff203bc193b0ff34e4dbbc5e7304a2a565";
pub(crate) const MO_ROOT: &str = include_str!("../test-mo-root.pem");
pub(crate) const MO_ROOT_SERIAL: &str = "280642f410279ea7a9461b25a3c0d291b4d21275";
/// A root whose validity ended in 2021.
pub(crate) const EXPIRED_ROOT: &str = include_str!("../test-expired-root.pem");
const EXPIRED_ROOT_SERIAL: &str = "6e7b507b3fa246c030a8e71318897ccd26a12ce3";

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    Case::new(id, title, Role::Csms, V201, requirements, run).timeout_ms(20_000)
}

/// A case of the ISO 15118 Support profile (V2G and MO roots).
fn iso(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    case(id, title, requirements, run).profile("iso15118")
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        iso("TC_M_03_CS", "A V2G root certificate is installed and then listed by its hash data", &["M05.FR.01", "M05.FR.02", "M03"], tc_m_03),
        iso("TC_M_04_CS", "A mobility operator root certificate is installed and then listed by its hash data", &["M05.FR.01", "M05.FR.02", "M03"], tc_m_04),
        iso("TC_M_14_CS", "GetInstalledCertificateIds for V2G roots lists the installed one", &["M03.FR.01", "M03.FR.03", "M03.FR.04"], tc_m_14),
        iso("TC_M_16_CS", "GetInstalledCertificateIds for MO roots lists the installed one", &["M03.FR.01", "M03.FR.03", "M03.FR.04"], tc_m_16),
        case("TC_M_01_CS", "A CSMS root certificate is installed and then listed by its hash data", &["M05.FR.01", "M05.FR.02", "M03"], tc_m_01),
        case(
            "TC_M_02_CS",
            "A manufacturer root certificate is installed and then listed by its hash data",
            &["M05.FR.01", "M05.FR.02", "M03"],
            tc_m_02,
        ),
        case("TC_M_07_CS", "An expired root certificate is Rejected and not listed", &["M05.FR.01", "M05.FR.07", "M03"], tc_m_07),
        case("TC_M_12_CS", "GetInstalledCertificateIds for CSMS roots lists the installed one", &["M03.FR.01", "M03.FR.03", "M03.FR.04"], tc_m_12),
        case(
            "TC_M_13_CS",
            "GetInstalledCertificateIds for manufacturer roots lists the installed one",
            &["M03.FR.01", "M03.FR.03", "M03.FR.04"],
            tc_m_13,
        ),
        case("TC_M_17_CS", "GetInstalledCertificateIds for two types lists a root of each", &["M03.FR.01", "M03.FR.03", "M03.FR.04"], tc_m_17),
        case(
            "TC_M_18_CS",
            "GetInstalledCertificateIds without a type lists the roots of every type",
            &["M03.FR.01", "M03.FR.03", "M03.FR.04"],
            tc_m_18,
        ),
        case(
            "TC_M_19_CS",
            "GetInstalledCertificateIds of a type with nothing installed answers NotFound without a chain",
            &["M03.FR.01", "M03.FR.02"],
            tc_m_19,
        ),
        case(
            "TC_M_20_CS",
            "DeleteCertificate of an installed root is Accepted and the root is no longer listed",
            &["M04.FR.01", "M04.FR.02", "M03"],
            tc_m_20,
        ),
        case("TC_M_22_CS", "DeleteCertificate of hash data no certificate has answers NotFound", &["M04.FR.01", "M04.FR.04"], tc_m_22),
    ]
}

/// Memory state CertificateInstalled (part 6, table 442): the station accepts `pem` as a
/// root of `kind`.
pub(super) fn certificate_installed(conn: &Connection, req: &str, kind: &str, pem: &str) -> Step {
    let r = kit::call(conn, req, "InstallCertificate", json!({"certificateType": kind, "certificate": pem}), 10_000)?;
    kit::check(r["status"] == "Accepted", req, format!("InstallCertificate of a valid {kind} Accepted"), || r.to_string())
}

/// The chain GetInstalledCertificateIds returns for `kinds` (all types when empty), or None on
/// NotFound; a NotFound must come without a chain (M03.FR.02).
/// GetInstalledCertificateIds for `kinds` (all types when empty): the answer as it came.
fn installed_ids(conn: &Connection, req: &str, kinds: &[&str]) -> Step<Value> {
    let mut payload = json!({});
    if !kinds.is_empty() {
        payload["certificateType"] = json!(kinds);
    }
    kit::call(conn, req, "GetInstalledCertificateIds", payload, 10_000)
}

fn installed(conn: &Connection, req: &str, kinds: &[&str]) -> Step<Option<Vec<Value>>> {
    let r = installed_ids(conn, req, kinds)?;
    match r["status"].as_str() {
        Some("NotFound") => {
            kit::check(r.get("certificateHashDataChain").is_none(), "M03.FR.02", "no certificateHashDataChain with status NotFound", || {
                r.to_string()
            })?;
            Ok(None)
        }
        _ => Ok(Some(r["certificateHashDataChain"].as_array().cloned().unwrap_or_default())),
    }
}

/// Hex serial numbers compare without leading zeroes and case.
fn has_serial(entry: &Value, serial: &str) -> bool {
    let s = at(entry, "/certificateHashData/serialNumber").as_str().unwrap_or_default();
    s.trim_start_matches('0').eq_ignore_ascii_case(serial.trim_start_matches('0'))
}

/// Reusable state GetInstalledCertificates (table 438): the station lists the root of `kind`
/// with serial `serial`, as that type, hashed as it says (SHA-256 gives 64 hex digits).
fn lists(conn: &Connection, req: &str, kinds: &[&str], kind: &str, serial: &str) -> Step<Value> {
    let r = installed_ids(conn, req, kinds)?;
    kit::check(r["status"] == "Accepted", req, format!("status Accepted with the installed {kind}"), || r.to_string())?;
    let chain = r["certificateHashDataChain"].as_array().cloned().unwrap_or_default();
    let entry = chain
        .iter()
        .find(|e| has_serial(e, serial))
        .ok_or_else(|| kit::fail(req, format!("the {kind} with serial {serial} in certificateHashDataChain"), format!("{chain:?}")))?;
    kit::check(entry["certificateType"] == kind, req, format!("the entry's certificateType {kind}"), || entry.to_string())?;
    let hash = &entry["certificateHashData"];
    let digits = match hash["hashAlgorithm"].as_str() {
        Some("SHA256") => 64,
        Some("SHA384") => 96,
        _ => 128,
    };
    let hex = |k: &str| hash[k].as_str().is_some_and(|h| h.len() == digits && h.chars().all(|c| c.is_ascii_hexdigit()));
    kit::check(
        hex("issuerNameHash") && hex("issuerKeyHash"),
        req,
        format!("issuer name and key hashes of {digits} hex digits for {}", hash["hashAlgorithm"]),
        || hash.to_string(),
    )?;
    Ok(entry.clone())
}

fn tc_m_01() -> Step {
    let conn = super::booted(300)?;
    certificate_installed(&conn, "M05.FR.02", "CSMSRootCertificate", CSMS_ROOT)?;
    lists(&conn, "M03", &["CSMSRootCertificate"], "CSMSRootCertificate", CSMS_ROOT_SERIAL).map(drop)
}

fn tc_m_02() -> Step {
    let conn = super::booted(300)?;
    certificate_installed(&conn, "M05.FR.02", "ManufacturerRootCertificate", MANUFACTURER_ROOT)?;
    lists(&conn, "M03", &["ManufacturerRootCertificate"], "ManufacturerRootCertificate", MANUFACTURER_ROOT_SERIAL).map(drop)
}

/// Part 6's TC_M_03/04_CS (steps: CertificateInstalled, then GetInstalledCertificates of
/// that type) and TC_M_14/16_CS (the same, CertificateInstalled as memory state): `req` is
/// what the listing proves.
fn root_listed(req: &str, kind: &str, pem: &str, serial: &str) -> Step {
    let conn = super::booted(300)?;
    certificate_installed(&conn, "M05.FR.02", kind, pem)?;
    lists(&conn, req, &[kind], kind, serial).map(drop)
}

fn tc_m_03() -> Step {
    root_listed("M03", "V2GRootCertificate", V2G_ROOT, V2G_ROOT_SERIAL)
}

fn tc_m_04() -> Step {
    root_listed("M03", "MORootCertificate", MO_ROOT, MO_ROOT_SERIAL)
}

fn tc_m_14() -> Step {
    root_listed("M03.FR.03", "V2GRootCertificate", V2G_ROOT, V2G_ROOT_SERIAL)
}

fn tc_m_16() -> Step {
    root_listed("M03.FR.03", "MORootCertificate", MO_ROOT, MO_ROOT_SERIAL)
}

fn tc_m_07() -> Step {
    let conn = super::booted(300)?;
    let r =
        kit::call(&conn, "M05.FR.07", "InstallCertificate", json!({"certificateType": "CSMSRootCertificate", "certificate": EXPIRED_ROOT}), 10_000)?;
    kit::check(r["status"] == "Rejected", "M05.FR.07", "InstallCertificate of an expired root Rejected", || r.to_string())?;
    let chain = installed(&conn, "M03", &["CSMSRootCertificate"])?.unwrap_or_default();
    kit::check(!chain.iter().any(|e| has_serial(e, EXPIRED_ROOT_SERIAL)), "M05.FR.07", "the expired root not among the installed ones", || {
        format!("{chain:?}")
    })
}

fn tc_m_12() -> Step {
    let conn = super::booted(300)?;
    certificate_installed(&conn, "M05", "CSMSRootCertificate", CSMS_ROOT)?;
    lists(&conn, "M03.FR.03", &["CSMSRootCertificate"], "CSMSRootCertificate", CSMS_ROOT_SERIAL).map(drop)
}

fn tc_m_13() -> Step {
    let conn = super::booted(300)?;
    certificate_installed(&conn, "M05", "ManufacturerRootCertificate", MANUFACTURER_ROOT)?;
    lists(&conn, "M03.FR.03", &["ManufacturerRootCertificate"], "ManufacturerRootCertificate", MANUFACTURER_ROOT_SERIAL).map(drop)
}

/// Both roots installed, then listed through `kinds` (both named, or none = all types).
fn both_listed(kinds: &[&str]) -> Step {
    let conn = super::booted(300)?;
    certificate_installed(&conn, "M05", "CSMSRootCertificate", CSMS_ROOT)?;
    certificate_installed(&conn, "M05", "ManufacturerRootCertificate", MANUFACTURER_ROOT)?;
    lists(&conn, "M03.FR.03", kinds, "CSMSRootCertificate", CSMS_ROOT_SERIAL)?;
    lists(&conn, "M03.FR.04", kinds, "ManufacturerRootCertificate", MANUFACTURER_ROOT_SERIAL).map(drop)
}

fn tc_m_17() -> Step {
    both_listed(&["CSMSRootCertificate", "ManufacturerRootCertificate"])
}

fn tc_m_18() -> Step {
    both_listed(&[])
}

fn tc_m_19() -> Step {
    let conn = super::booted(300)?;
    // Configuration state: no MO root installed; one left over is deleted first.
    for entry in installed(&conn, "M03", &["MORootCertificate"])?.unwrap_or_default() {
        kit::call(&conn, "M04", "DeleteCertificate", json!({"certificateHashData": entry["certificateHashData"]}), 10_000)?;
    }
    let chain = installed(&conn, "M03.FR.02", &["MORootCertificate"])?;
    kit::check(chain.is_none(), "M03.FR.02", "status NotFound for MORootCertificate when none is installed", || format!("Accepted with {chain:?}"))
}

fn tc_m_20() -> Step {
    let conn = super::booted(300)?;
    certificate_installed(&conn, "M05", "CSMSRootCertificate", CSMS_ROOT)?;
    let entry = lists(&conn, "M03", &["CSMSRootCertificate"], "CSMSRootCertificate", CSMS_ROOT_SERIAL)?;
    let r = kit::call(&conn, "M04.FR.02", "DeleteCertificate", json!({"certificateHashData": entry["certificateHashData"]}), 10_000)?;
    kit::check(r["status"] == "Accepted", "M04.FR.02", "DeleteCertificate of the installed root Accepted", || r.to_string())?;
    let after = installed(&conn, "M03", &["CSMSRootCertificate"])?.unwrap_or_default();
    kit::check(!after.iter().any(|e| has_serial(e, CSMS_ROOT_SERIAL)), "M04.FR.02", "the deleted root no longer listed", || format!("{after:?}"))
}

fn tc_m_22() -> Step {
    let conn = super::booted(300)?;
    installed(&conn, "M03", &["CSMSRootCertificate"])?;
    // Hash data of a certificate that exists nowhere.
    let unknown = json!({"hashAlgorithm": "SHA256", "issuerNameHash": "0".repeat(64), "issuerKeyHash": "1".repeat(64), "serialNumber": "0badc0de"});
    let r = kit::call(&conn, "M04.FR.04", "DeleteCertificate", json!({"certificateHashData": unknown}), 10_000)?;
    kit::check(r["status"] == "NotFound", "M04.FR.04", "DeleteCertificate of unknown hash data answered NotFound", || r.to_string())
}
