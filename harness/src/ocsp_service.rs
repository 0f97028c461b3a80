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
