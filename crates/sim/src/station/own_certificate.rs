//! The station's own certificate (2.x A02/A03, the 1.6 security whitepaper alike): a new key
//! pair and its CSR when the CSMS asks (A02.FR.02/03), the signed certificate taken only when
//! it is for that key and valid now (A02.FR.06; else Rejected with a security event,
//! A02.FR.07), and never deleted through OCPP (M04.FR.06). 2.x: a CSR the CSMS accepted is
//! sent again, with a back-off doubling from CertSigningWaitMinimum CertSigningRepeatTimes
//! times, while no certificate comes for it (A02.FR.17/18).
use serde_json::{Value, json};
use tokio::time::{Duration, Instant};

use super::{Out, Station, roots};
use crate::Fault;
use ocpp_core::defaults::now_rfc3339;

/// A CSR (PEM) for a new key pair, named after the station and its organization; the public
/// key is kept to check the certificate that comes back.
pub(super) fn request(st: &mut Station, organization: &str) -> Option<String> {
    let (csr, key) = new_csr(&st.cfg.station_id, organization)?;
    st.csr_key = Some(key);
    Some(csr)
}

/// A CSR (PEM) for a new key pair, named after the station and its organization, and the
/// public key to recognise the certificate issued for it (the V2G certificate's too).
pub(super) fn new_csr(station_id: &str, organization: &str) -> Option<(String, Vec<u8>)> {
    let key = rcgen::KeyPair::generate().ok()?;
    let mut params = rcgen::CertificateParams::new(vec![]).ok()?;
    params.distinguished_name.push(rcgen::DnType::CommonName, station_id);
    params.distinguished_name.push(rcgen::DnType::OrganizationName, organization);
    let csr = params.serialize_request(&key).ok()?.pem().ok()?;
    Some((csr, key.public_key_raw().to_vec()))
}

/// CertificateSigned with `chain` (leaf first): whether it is taken. Not taken, the station
/// reports `event` (InvalidChargingStationCertificate; 1.6 InvalidChargePointCertificate).
/// Fault install-any-certificate takes anything.
pub(super) fn signed(st: &mut Station, chain: &str, event: &str) -> bool {
    // A certificate came for the CSR, taken or not: no more resending (A02.FR.17).
    st.csr_resend = None;
    let ok = st.cfg.faults.has(&Fault::InstallAnyCertificate) || for_our_key(st, chain);
    if ok {
        st.own_certificate = leaf_hash_data(chain);
        st.csr_key = None;
    } else if !st.cfg.faults.has(&Fault::NoSecurityEvent) {
        st.enqueue(Out::call("SecurityEventNotification", json!({"type": event, "timestamp": now_rfc3339()})));
    }
    ok
}

/// The leaf is valid now and certifies the key of the last CSR.
fn for_our_key(st: &Station, chain: &str) -> bool {
    let Ok((_, pem)) = x509_parser::pem::parse_x509_pem(chain.as_bytes()) else { return false };
    let Ok(cert) = pem.parse_x509() else { return false };
    cert.validity().is_valid() && st.csr_key.as_deref() == Some(&cert.public_key().subject_public_key.data[..])
}

/// OCPP hash data of a chain's leaf: its issuer's name, the key of the next certificate (its
/// issuer's), its serial.
fn leaf_hash_data(chain: &str) -> Option<Value> {
    let mut hash = roots::hash_data(chain, true)?;
    let rest = chain.split_once("-----END CERTIFICATE-----")?.1;
    if let Some(issuer) = roots::hash_data(rest, true) {
        // The issuer's own key, as its hash data (self-signed root) has it.
        hash["issuerKeyHash"] = issuer["issuerKeyHash"].clone();
    }
    Some(hash)
}

/// DeleteCertificate: Failed for the station's own certificate (M04.FR.06), else the roots'.
pub(super) fn delete(st: &mut Station, hash: &Value) -> &'static str {
    if st.own_certificate.as_ref().is_some_and(|own| roots::same(own, hash)) {
        return "Failed";
    }
    if roots::delete(st, hash) { "Accepted" } else { "NotFound" }
}

/// A CSR waiting for its certificate: sent again at `due`, then after `wait` doubled, as long
/// as `doublings` remain.
#[derive(Debug, Clone)]
pub(super) struct Resend {
    pub(super) due: Instant,
    payload: Value,
    wait: Duration,
    doublings: u32,
}

/// The CSMS answered a SignCertificate (`payload`): Accepted, the back-off starts with the
/// first send of a CSR; a resend's answer changes nothing; refused, no resending.
pub(super) fn sign_answered(st: &mut Station, payload: &Value, accepted: bool) {
    if !accepted {
        st.csr_resend = None;
        return;
    }
    if st.csr_resend.as_ref().is_some_and(|r| r.payload == *payload) {
        return;
    }
    let setting = |k: &str| st.settings.get(k).and_then(|(v, _)| v.parse::<u64>().ok()).unwrap_or(0);
    let wait = Duration::from_secs(setting("SecurityCtrlr.CertSigningWaitMinimum"));
    if wait.is_zero() || st.cfg.faults.has(&Fault::NoCsrResend) {
        return;
    }
    let doublings = setting("SecurityCtrlr.CertSigningRepeatTimes") as u32;
    st.csr_resend = Some(Resend { due: Instant::now() + wait, payload: payload.clone(), wait, doublings });
}

/// The back-off ran out without a certificate: the same CSR again, and the back-off doubled
/// while CertSigningRepeatTimes allows (A02.FR.18); then the station waits for the CSMS.
pub(super) fn tick(st: &mut Station, now: Instant) {
    let Some(r) = st.csr_resend.take_if(|r| r.due <= now) else { return };
    st.enqueue(Out::call("SignCertificate", r.payload.clone()));
    if r.doublings > 0 {
        let wait = if st.cfg.faults.has(&Fault::NoCsrBackoff) { r.wait } else { r.wait * 2 };
        st.csr_resend = Some(Resend { due: now + wait, wait, doublings: r.doublings - 1, ..r });
    }
}
