//! Root certificates the CSMS installs on the reference station (2.x M03-M05, 1.6 security
//! whitepaper alike): kept by their hash data, listed and deleted by it; the CSMS roots among
//! them also as PEM, trusted on the next TLS connection (M05.FR.13).
use serde_json::{Value, json};

use super::Station;
use crate::Fault;

/// Install `pem` as a root of `kind`; `csms_root` when the station checks the CSMS with it.
/// Whether it was taken (fault install-any-certificate takes anything).
pub(super) fn install(st: &mut Station, kind: &str, pem: &str, csms_root: bool) -> bool {
    let any = st.cfg.faults.has(&Fault::InstallAnyCertificate);
    let Some(hash) = hash_data(pem, any) else { return any };
    st.certificates.retain(|(_, h)| !same(h, &hash));
    if csms_root {
        st.csms_roots.retain(|(h, _)| !same(h, &hash));
        st.csms_roots.push((hash.clone(), pem.to_string()));
    }
    st.certificates.push((kind.to_string(), hash));
    true
}

/// Delete the root with this hash data; whether there was one.
pub(super) fn delete(st: &mut Station, hash: &Value) -> bool {
    let before = st.certificates.len();
    st.certificates.retain(|(_, h)| !same(h, hash));
    st.csms_roots.retain(|(h, _)| !same(h, hash));
    st.certificates.len() < before
}

/// OCPP certificate hash data (SHA-256) of a PEM certificate: hashes of the issuer's name and
/// public key, and the serial number in hex without leading zeroes. Roots are self-signed, so
/// the issuer's key is the certificate's own.
pub(super) fn hash_data(pem: &str, any: bool) -> Option<Value> {
    use sha2::{Digest, Sha256};
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).ok()?;
    let cert = pem.parse_x509().ok()?;
    // M05.FR.07: a certificate outside its validity period is not installed (fault
    // install-any-certificate takes it anyway).
    if !any && !cert.validity().is_valid() {
        return None;
    }
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    Some(json!({
        "hashAlgorithm": "SHA256",
        "issuerNameHash": hex(&Sha256::digest(cert.issuer().as_raw())),
        "issuerKeyHash": hex(&Sha256::digest(&cert.public_key().subject_public_key.data)),
        "serialNumber": format!("{:x}", cert.serial),
    }))
}

pub(super) fn same(a: &Value, b: &Value) -> bool {
    ["issuerNameHash", "issuerKeyHash"].iter().all(|k| a[k].as_str().map(str::to_lowercase) == b[k].as_str().map(str::to_lowercase))
        && a["serialNumber"].as_str().map(|s| s.trim_start_matches('0').to_lowercase()) == b["serialNumber"].as_str().map(|s| s.trim_start_matches('0').to_lowercase())
}
