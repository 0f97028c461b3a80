//! The harness's OCSP responder, part 6's "OCSP service for OCTT" (TC_C_50/51/52_CSMS): a CSMS
//! DUT checks an EV's contract certificate with it over HTTP (RFC 6960 appendix A: POST of
//! `application/ocsp-request`, or GET with the request base64 in the path). It knows the
//! certificates its case made, answers each as the case says (good or revoked; unknown for
//! anything else), signs with the test PKI, and keeps every request for the case to judge.
//! One per case that asks for it; it stops with the case.
use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use ocpp_core::{
    security::{
        ocsp::{self, CertId, CertStatus, HashAlgorithm},
        pki::Pki,
    },
    trace::Trace,
};
use serde_json::{Value, json};

/// A certificate the service answers for.
struct Known {
    /// What the case calls it ("contract certificate", "MO sub-CA").
    name: String,
    der: Vec<u8>,
    issuer: Vec<u8>,
    status: CertStatus,
}

#[derive(Default)]
struct Book {
    known: Vec<Known>,
    /// Every certificate asked about, in order: the CertID, which known one it is, the answer.
    asked: Vec<(CertId, Option<String>, CertStatus)>,
}

impl Book {
    /// The known certificate `id` names, under whichever digest the client chose.
    fn find(&self, id: &CertId) -> Option<&Known> {
        self.known.iter().find(|k| CertId::of(&k.der, &k.issuer, id.algorithm).is_ok_and(|mine| mine == *id))
    }
}

struct Shared {
    pki: Arc<Pki>,
    book: Mutex<Book>,
    trace: Trace,
}

pub struct OcspService {
    url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for OcspService {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl OcspService {
    /// Listen on `listen` (port 0: any free one). `url` is what certificates name as their
    /// responder (a lab behind NAT names the address its CSMS reaches); by default
    /// `http://<bound address>/ocsp`.
    pub async fn start(pki: Arc<Pki>, listen: SocketAddr, url: Option<String>, trace: Trace) -> Result<OcspService, String> {
        let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| format!("the OCSP service cannot listen on {listen}: {e}"))?;
        let bound = listener.local_addr().map_err(|e| e.to_string())?;
        let shared = Arc::new(Shared { pki, book: Mutex::default(), trace });
        let app = Router::new().route("/ocsp", post(by_post)).route("/ocsp/{*request}", get(by_get)).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let url = url.unwrap_or_else(|| format!("http://{bound}/ocsp"));
        shared.trace.log("info", format!("the harness OCSP service listens at {url}"));
        Ok(OcspService { url, shared, task })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Answer `status` for `der` (issued by `issuer`) from now on.
    pub fn know(&self, name: &str, der: &[u8], issuer: &[u8], status: CertStatus) {
        let known = Known { name: name.into(), der: der.to_vec(), issuer: issuer.to_vec(), status };
        self.shared.book.lock().unwrap().known.push(known);
    }

    /// Every certificate asked about so far, as OCPP hash data with `certificate` (the known
    /// one's name, or null) and `answered` (good, revoked, unknown).
    pub fn asked(&self) -> Value {
        let book = self.shared.book.lock().unwrap();
        Value::Array(
            book.asked
                .iter()
                .map(|(id, which, status)| {
                    let mut v = id.to_ocpp(&self.url);
                    v["certificate"] = json!(which);
                    v["answered"] = json!(status.name());
                    v
                })
                .collect(),
        )
    }
}

async fn by_post(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    answer(&s, &body)
}

async fn by_get(State(s): State<Arc<Shared>>, Path(request): Path<String>) -> Response {
    use base64::Engine;
    let text = request.replace("%2B", "+").replace("%2F", "/").replace("%3D", "=");
    match base64::engine::general_purpose::STANDARD.decode(text.trim()) {
        Ok(der) => answer(&s, &der),
        Err(e) => refuse(&s, format!("the GET request's path is not base64: {e}")),
    }
}

/// RFC 6960 §4.2.1: a request that does not parse gets malformedRequest (1).
fn refuse(s: &Shared, why: String) -> Response {
    s.trace.log("warn", format!("the harness OCSP service got a malformed request: {why}"));
    ([(header::CONTENT_TYPE, "application/ocsp-response")], ocsp::unsuccessful(1)).into_response()
}

fn answer(s: &Shared, der: &[u8]) -> Response {
    let ids = match ocsp::parse_request(der) {
        Ok(ids) => ids,
        Err(why) => return refuse(s, why),
    };
    let mut answers = Vec::new();
    {
        let mut book = s.book.lock().unwrap();
        for id in ids {
            let (which, status) = book.find(&id).map_or((None, CertStatus::Unknown), |k| (Some(k.name.clone()), k.status));
            let digest = if id.algorithm == HashAlgorithm::Sha1 { " (SHA-1 CertID)" } else { "" };
            s.trace.log("info", format!("the harness OCSP service answered {} for {}{digest}", status.name(), which.as_deref().unwrap_or("a certificate it does not know")));
            book.asked.push((id.clone(), which, status));
            answers.push((id, status));
        }
    }
    match s.pki.sign_ocsp(&answers) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/ocsp-response")], body).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CSMS may ask with SHA-1 CertIDs (openssl's default) or by GET; garbage gets
    /// malformedRequest; every request is kept with what it was answered.
    #[tokio::test]
    async fn answers_known_certificates_under_any_digest_and_refuses_garbage() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let pki = Arc::new(Pki::generate("CS1", &["localhost".into()]).unwrap());
        let service = OcspService::start(pki.clone(), "127.0.0.1:0".parse().unwrap(), None, Trace::new()).await.unwrap();
        let chain = pki.contract_chain("NLHRSC000000001", service.url()).unwrap();
        service.know("the contract certificate", &chain.leaf, &chain.sub_ca, CertStatus::Revoked);
        let leaf = CertId::of(&chain.leaf, &chain.sub_ca, HashAlgorithm::Sha1).unwrap();
        let stranger = CertId { serial: vec![7], ..leaf.clone() };
        let client = reqwest::Client::new();
        let body = client.post(service.url()).body(ocsp::request(&[leaf.clone(), stranger.clone()])).send().await.unwrap().bytes().await.unwrap();
        let key = pki.ocsp_responder().unwrap().1;
        assert_eq!(ocsp::parse_response(&body, &key).unwrap(), vec![(leaf.clone(), CertStatus::Revoked), (stranger, CertStatus::Unknown)]);
        use base64::Engine;
        let get = format!("{}/{}", service.url(), base64::engine::general_purpose::STANDARD.encode(ocsp::request(std::slice::from_ref(&leaf))));
        let body = client.get(get).send().await.unwrap().bytes().await.unwrap();
        assert_eq!(ocsp::parse_response(&body, &key).unwrap()[0].1, CertStatus::Revoked);
        let body = client.post(service.url()).body("not DER").send().await.unwrap().bytes().await.unwrap();
        assert!(ocsp::parse_response(&body, &key).unwrap_err().contains("responseStatus 1"));
        let asked = service.asked();
        assert_eq!(asked.as_array().unwrap().len(), 3, "{asked}");
        assert_eq!((asked[0]["certificate"].as_str(), asked[0]["answered"].as_str(), asked[1]["answered"].as_str()), (Some("the contract certificate"), Some("revoked"), Some("unknown")));
    }
}
