//! The WIT `pki-operation` verb: what the test PKI does for an ISO 15118 case, by name. One
//! general verb rather than a host function per case; the names and their input and output
//! are listed in `wit/` next to it.
use ocpp_core::security::{ocsp::CertStatus, pki::CsrError};
use serde_json::{Value, json};

use crate::{
    host::{CaseContext, Endpoint},
    ocsp_service::OcspService,
};

/// The operation names, for the error that lists them.
const OPERATIONS: &str = "v2g-root, sign-v2g-csr, ocsp-response, contract-certificate, ocsp-requests";

/// Why an operation failed: the case's own mistake or a missing PKI (`Usage`), or the DUT's
/// input that does not parse (`Protocol`).
pub enum Failure {
    Usage(String),
    Protocol(String),
}

/// Run `operation` on `input` for the case in `ctx`; `ocsp` is the case's OCSP service, started
/// by the first operation that needs it.
pub async fn run(ctx: &CaseContext, ocsp: &mut Option<OcspService>, operation: &str, input: &str) -> Result<String, Failure> {
    let security = &ctx.security;
    let pki = security.pki.clone().ok_or_else(|| Failure::Usage(format!("security profile {} needs a PKI", security.profile)))?;
    let csr_failure = |e| match e {
        CsrError::NoCaKey(e) => Failure::Usage(e),
        CsrError::BadCsr(e) => Failure::Protocol(e),
    };
    let done = match operation {
        "v2g-root" => pki.v2g_root().map_err(Failure::Usage)?,
        "sign-v2g-csr" => pki.sign_v2g_csr(input).map_err(csr_failure)?,
        "ocsp-response" => {
            let request = serde_json::from_str::<Value>(input).map_err(|e| Failure::Protocol(format!("the OCSP request data is not JSON: {e}")))?;
            pki.ocsp_response(&request).map_err(Failure::Protocol)?
        }
        "contract-certificate" => {
            let asked = serde_json::from_str::<Value>(input).map_err(|e| Failure::Usage(format!("contract-certificate takes a JSON object: {e}")))?;
            let emaid = asked["emaid"].as_str().ok_or_else(|| Failure::Usage("contract-certificate needs an \"emaid\"".into()))?;
            let service = match ocsp {
                Some(s) => s,
                None => ocsp.insert(start_service(ctx, pki.clone()).await.map_err(Failure::Usage)?),
            };
            let chain = pki.contract_chain(emaid, service.url()).map_err(Failure::Usage)?;
            let leaf_status = if asked["revoked"] == true { CertStatus::Revoked } else { CertStatus::Good };
            service.know("the contract certificate", &chain.leaf, &chain.sub_ca, leaf_status);
            service.know("the MO sub-CA", &chain.sub_ca, &chain.root, CertStatus::Good);
            let hash = |der: &[u8], issuer: &[u8]| {
                ocpp_core::security::ocsp::CertId::of(der, issuer, ocpp_core::security::ocsp::HashAlgorithm::Sha256).map(|id| id.to_ocpp(service.url())).map_err(Failure::Usage)
            };
            let hash_data = json!([hash(&chain.leaf, &chain.sub_ca)?, hash(&chain.sub_ca, &chain.root)?]);
            json!({"certificate": chain.pem, "hashData": hash_data, "responderURL": service.url()}).to_string()
        }
        "ocsp-requests" => ocsp.as_ref().map_or_else(|| json!([]), |s| s.asked()).to_string(),
        other => return Err(Failure::Usage(format!("unknown PKI operation {other:?} ({OPERATIONS})"))),
    };
    ctx.trace.log("info", format!("the test PKI did {operation}"));
    Ok(done)
}

/// The case's OCSP service, where DUT parameters `ocsp-listen` (address:port; default the
/// loopback, any port) and `ocsp-url` (what certificates name) say.
async fn start_service(ctx: &CaseContext, pki: std::sync::Arc<ocpp_core::security::pki::Pki>) -> Result<OcspService, String> {
    let params = &ctx.config.parameters;
    let default_host = match &ctx.endpoint {
        Endpoint::Listener(l) => l.addr().ip().to_string(),
        _ => "127.0.0.1".into(),
    };
    let listen = params.get("ocsp-listen").cloned().unwrap_or_else(|| format!("{default_host}:0"));
    let listen = listen.parse().map_err(|e| format!("DUT parameter ocsp-listen {listen:?} is not address:port: {e}"))?;
    OcspService::start(pki, listen, params.get("ocsp-url").cloned(), ctx.trace.clone()).await
}
