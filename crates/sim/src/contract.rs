//! 2.0.1 C07 at the reference CSMS: an EV's contract certificate is checked before its eMAID
//! is authorized. With `iso15118CertificateHashData` it asks each certificate's responder
//! (responderURL); with only the chain (`certificate`, PEM, C07.FR.06) it checks the chain up
//! to its V2G root and makes the hash data itself, asking the responder each certificate names
//! (authority information access). Real-time OCSP over HTTP (C07.FR.05), no cache; the answer
//! is trusted once signed by the test PKI's OCSP key.
use std::collections::BTreeMap;

use ocpp_core::security::{
    ocsp::{self, CertId, CertStatus, HashAlgorithm},
    pki::{self, Pki},
};
use serde_json::Value;

use crate::{Fault, csms::CsmsConfig};

/// How long a responder may take.
const OCSP_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// What the contract's chain came out as.
pub(crate) enum Contract {
    Valid,
    Revoked,
    /// Not verified: a chain that does not go up to the root, a responder that does not know
    /// a certificate, cannot be reached or does not answer soundly.
    ChainError(String),
}

/// The contract check an Authorize needs, if it carries a contract (2.x).
pub(crate) async fn check(cfg: &CsmsConfig, p: &Value) -> Option<Contract> {
    let hash_data = p["iso15118CertificateHashData"].as_array().filter(|a| !a.is_empty());
    let chain = p["certificate"].as_str().filter(|c| !c.trim().is_empty());
    if hash_data.is_none() && chain.is_none() {
        return None;
    }
    if cfg.faults.has(&Fault::SkipContractOcsp) {
        return Some(Contract::Valid);
    }
    let Some(pki) = cfg.security.signer.as_deref() else {
        return Some(Contract::ChainError("this CSMS has no PKI to check a contract with".into()));
    };
    let asked = match hash_data {
        Some(data) => data.iter().map(|d| Ok((CertId::from_ocpp(d)?, d["responderURL"].as_str().unwrap_or_default().to_string()))).collect::<Result<Vec<_>, String>>(),
        None => from_chain(pki, chain.unwrap_or_default()),
    };
    let contract = match asked {
        Ok(asked) => ask(pki, &asked).await,
        Err(why) => Contract::ChainError(why),
    };
    match contract {
        Contract::Revoked if cfg.faults.has(&Fault::AcceptRevokedContract) => Some(Contract::Valid),
        c => Some(c),
    }
}

/// The CertIDs and responders of a PEM chain (leaf first) that goes up to the V2G root.
fn from_chain(pki: &Pki, pem: &str) -> Result<Vec<(CertId, String)>, String> {
    let mut ders: Vec<Vec<u8>> = pki::certs(pem).map_err(|e| e.to_string())?.into_iter().map(|c| c.to_vec()).collect();
    ders.push(pki.v2g_root_der()?);
    let mut asked = Vec::new();
    for pair in ders.windows(2) {
        let (_, cert) = x509_parser::parse_x509_certificate(&pair[0]).map_err(|e| format!("a certificate of the chain does not parse: {e}"))?;
        if cert.subject() == cert.issuer() {
            break; // the chain came with its root
        }
        let (_, issuer) = x509_parser::parse_x509_certificate(&pair[1]).map_err(|e| format!("a certificate of the chain does not parse: {e}"))?;
        if cert.issuer() != issuer.subject() || cert.verify_signature(Some(issuer.public_key())).is_err() {
            return Err(format!("{} is not signed by {}", cert.subject(), issuer.subject()));
        }
        let responder = responder_of(&cert).ok_or_else(|| format!("{} names no OCSP responder", cert.subject()))?;
        asked.push((CertId::of(&pair[0], &pair[1], HashAlgorithm::Sha256)?, responder));
    }
    Ok(asked)
}

/// The OCSP URL in a certificate's authority information access.
fn responder_of(cert: &x509_parser::certificate::X509Certificate) -> Option<String> {
    use x509_parser::{extensions::GeneralName, extensions::ParsedExtension};
    cert.iter_extensions().find_map(|e| match e.parsed_extension() {
        ParsedExtension::AuthorityInfoAccess(aia) => aia.accessdescs.iter().find_map(|d| match &d.access_location {
            GeneralName::URI(uri) if d.access_method.to_id_string() == "1.3.6.1.5.5.7.48.1" => Some(uri.to_string()),
            _ => None,
        }),
        _ => None,
    })
}

/// Ask each responder about its certificates, in one request each.
async fn ask(pki: &Pki, asked: &[(CertId, String)]) -> Contract {
    let key = match pki.ocsp_responder() {
        Ok((_, key)) => key,
        Err(e) => return Contract::ChainError(e),
    };
    let mut by_responder: BTreeMap<&str, Vec<CertId>> = BTreeMap::new();
    for (id, url) in asked {
        by_responder.entry(url).or_default().push(id.clone());
    }
    let mut revoked = false;
    for (url, ids) in by_responder {
        let answers = match query(url, &ids, &key).await {
            Ok(a) => a,
            Err(why) => return Contract::ChainError(format!("OCSP at {url:?}: {why}")),
        };
        for id in &ids {
            match answers.iter().find(|(a, _)| a == id).map(|(_, s)| *s) {
                Some(CertStatus::Good) => {}
                Some(CertStatus::Revoked) => revoked = true,
                other => return Contract::ChainError(format!("OCSP at {url:?} says {} of serial {:02x?}", other.map_or("nothing", |s| s.name()), id.serial)),
            }
        }
    }
    if revoked { Contract::Revoked } else { Contract::Valid }
}

/// One HTTP client for every contract check, as the bench's and the control API's.
fn client() -> &'static reqwest::Client {
    static C: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        // reqwest comes without a crypto provider of its own: ring, as everywhere else.
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder().timeout(OCSP_WITHIN).build().expect("an HTTP client")
    })
}

async fn query(url: &str, ids: &[CertId], key: &[u8]) -> Result<Vec<(CertId, CertStatus)>, String> {
    let r = client().post(url).header("content-type", "application/ocsp-request").body(ocsp::request(ids)).send().await.map_err(|e| e.to_string())?;
    let status = r.status();
    let body = r.bytes().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    ocsp::parse_response(&body, key)
}

/// C07.FR.13-17: the Authorize answer with the contract's verdict: certificateStatus, and an
/// Invalid token when the chain is revoked or not verified.
pub(crate) fn answer(contract: &Contract, reply: &mut Value) {
    let status = reply["idTokenInfo"]["status"].as_str().unwrap_or("Invalid").to_string();
    let (certificate, token) = match contract {
        Contract::Valid if matches!(status.as_str(), "Blocked" | "Expired" | "Invalid" | "Unknown") => ("ContractCancelled", status),
        Contract::Valid => ("Accepted", status),
        Contract::Revoked => ("CertificateRevoked", "Invalid".into()),
        Contract::ChainError(why) => {
            tracing::info!(target: "sim", "CSMS: the contract certificate is not verified: {why}");
            ("CertChainError", "Invalid".into())
        }
    };
    reply["certificateStatus"] = certificate.into();
    reply["idTokenInfo"]["status"] = token.into();
}
