//! The station's V2G charging station certificate, the one it shows an EV over ISO 15118
//! (2.x): a CSR of its own type when the CSMS triggers SignV2GCertificate (A02.FR.13), the
//! chain taken only when its leaf is for that key, valid now and under an installed
//! V2GRootCertificate (A02.FR.06), listed as a V2GCertificateChain with the sub-CAs as its
//! children (M03.FR.05), and its OCSP status asked for the leaf and each sub-CA once it
//! changed (M06.FR.07).
use serde_json::{Value, json};
use x509_parser::{certificate::X509Certificate, extensions::ParsedExtension};

use super::super::{Out, Station};
use crate::Fault;
use ocpp_core::defaults::now_rfc3339;

/// Where the OCSP status of a certificate without an authority-information-access URL is
/// asked (OCSPRequestDataType needs a responderURL).
const NO_RESPONDER: &str = "http://ocsp.invalid/";

/// The SignCertificate payload for a new V2G key pair (TriggerMessage SignV2GCertificate).
pub(in crate::station) fn request(st: &mut Station) -> Option<Value> {
    let organization = st.settings.get("SecurityCtrlr.OrganizationName").map(|(v, _)| v.clone()).unwrap_or_default();
    let (csr, key) = super::super::own_certificate::new_csr(&st.cfg.station_id, &organization)?;
    st.v2g_csr_key = Some(key);
    // Fault untyped-v2g-csr: the CSR goes out as if for the CSMS connection (A02.FR.13).
    let kind = if st.cfg.faults.has(&Fault::UntypedV2gCsr) { "ChargingStationCertificate" } else { "V2GCertificate" };
    Some(json!({"csr": csr, "certificateType": kind}))
}

/// CertificateSigned with certificateType V2GCertificate: whether `chain` (leaf first) is
/// taken. Not taken, the station reports an InvalidChargingStationCertificate security event.
pub(in crate::station) fn signed(st: &mut Station, chain: &str) -> bool {
    st.csr_resend = None;
    let any = st.cfg.faults.has(&Fault::InstallAnyCertificate);
    let hashes = parse(chain).and_then(|certs| hash_chain(st, &certs, any));
    let Some(hashes) = hashes else {
        if !st.cfg.faults.has(&Fault::NoSecurityEvent) {
            st.enqueue(Out::call("SecurityEventNotification", json!({"type": "InvalidChargingStationCertificate", "timestamp": now_rfc3339()})));
        }
        return false;
    };
    st.v2g_csr_key = None;
    st.v2g_chain = hashes;
    // M06.FR.07: the OCSP data of the new certificate and of its sub-CAs, refreshed.
    if !st.cfg.faults.has(&Fault::NoOcspRefresh) {
        for data in st.v2g_chain.clone() {
            st.enqueue(Out::call("GetCertificateStatus", json!({"ocspRequestData": data})));
        }
    }
    true
}

/// The GetInstalledCertificateIds entry of the V2G chain, when there is one: the leaf's hash
/// data with the sub-CAs' as its children (M03.FR.05; fault flat-v2g-chain lists the leaf
/// alone).
pub(in crate::station) fn listed(st: &Station) -> Option<Value> {
    let (leaf, subs) = st.v2g_chain.split_first()?;
    let strip = |h: &Value| {
        let mut h = h.clone();
        h.as_object_mut().map(|o| o.remove("responderURL"));
        h
    };
    let mut entry = json!({"certificateType": "V2GCertificateChain", "certificateHashData": strip(leaf)});
    if !subs.is_empty() && !st.cfg.faults.has(&Fault::FlatV2gChain) {
        entry["childCertificateHashData"] = subs.iter().map(strip).collect();
    }
    Some(entry)
}

/// The DER certificates of a PEM chain.
fn parse(chain: &str) -> Option<Vec<Vec<u8>>> {
    let ders: Vec<Vec<u8>> = x509_parser::pem::Pem::iter_from_buffer(chain.as_bytes()).filter_map(Result::ok).map(|p| p.contents).collect();
    (!ders.is_empty()).then_some(ders)
}

/// OCSP request data (hash data and responder) of each certificate of the chain, when its leaf
/// is for the last V2G CSR's key and valid now and the chain ends under an installed V2G root
/// (`any`: whatever it is).
fn hash_chain(st: &Station, ders: &[Vec<u8>], any: bool) -> Option<Vec<Value>> {
    use sha2::{Digest, Sha256};
    let certs: Vec<X509Certificate<'_>> = ders.iter().map(|d| x509_parser::parse_x509_certificate(d).ok().map(|(_, c)| c)).collect::<Option<_>>()?;
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let leaf = certs.first()?;
    let ours = st.v2g_csr_key.as_deref() == Some(&leaf.public_key().subject_public_key.data[..]);
    if !any && !(ours && leaf.validity().is_valid()) {
        return None;
    }
    // The top certificate's issuer: one of the installed V2G roots (by its name hash); its key
    // hash comes from there.
    let top_issuer = hex(&Sha256::digest(certs.last()?.issuer().as_raw()));
    let root_key = st
        .certificates
        .iter()
        .find(|(kind, h)| kind == "V2GRootCertificate" && h["issuerNameHash"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(&top_issuer)))
        .map(|(_, h)| h["issuerKeyHash"].as_str().unwrap_or_default().to_string());
    if root_key.is_none() && !any {
        return None;
    }
    let mut out = Vec::new();
    for (i, cert) in certs.iter().enumerate() {
        let issuer_key = match certs.get(i + 1) {
            Some(next) => hex(&Sha256::digest(&next.public_key().subject_public_key.data)),
            None => root_key.clone().unwrap_or_default(),
        };
        out.push(json!({
            "hashAlgorithm": "SHA256",
            "issuerNameHash": hex(&Sha256::digest(cert.issuer().as_raw())),
            "issuerKeyHash": issuer_key,
            "serialNumber": format!("{:x}", cert.serial),
            "responderURL": responder(cert),
        }));
    }
    Some(out)
}

/// The OCSP responder a certificate names (authority information access).
fn responder(cert: &X509Certificate<'_>) -> String {
    let ocsp = x509_parser::oid_registry::OID_PKIX_ACCESS_DESCRIPTOR_OCSP;
    cert.extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::AuthorityInfoAccess(aia) => aia.accessdescs.iter().find(|d| d.access_method == ocsp).and_then(|d| match &d.access_location {
                x509_parser::extensions::GeneralName::URI(u) => Some(u.to_string()),
                _ => None,
            }),
            _ => None,
        })
        .unwrap_or_else(|| NO_RESPONDER.to_string())
}
