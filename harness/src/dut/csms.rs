//! Reference CSMS: accepts stations at `ws://host:port/<station id>`, negotiates any OCPP
//! version it is configured for and answers every station-initiated message.
use std::{net::SocketAddr, sync::Arc, time::Duration};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::{
    Message,
    handshake::server::{ErrorResponse, Request, Response},
    http::{HeaderValue, StatusCode},
};

use super::{Fault, Faults, answer, check_call};
use crate::{
    defaults::{self, now_rfc3339},
    frame::Frame,
    transport::{negotiate, station_id_from_path, ws_config},
    version::OcppVersion,
};

#[derive(Debug, Clone)]
pub struct CsmsConfig {
    pub versions: Vec<OcppVersion>,
    pub faults: Faults,
    pub heartbeat_interval: u64,
    /// Id tokens the CSMS authorizes; all others are Invalid.
    pub valid_id_tokens: Vec<String>,
}

impl Default for CsmsConfig {
    fn default() -> Self {
        CsmsConfig { versions: OcppVersion::ALL.to_vec(), faults: Faults::default(), heartbeat_interval: 300, valid_id_tokens: vec!["TOKEN-1".into(), "TOKEN-2".into()] }
    }
}

/// Bind and serve until the returned task is aborted.
pub async fn start(addr: SocketAddr, cfg: CsmsConfig) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let cfg = Arc::new(cfg);
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(serve(stream, cfg.clone()));
        }
    });
    Ok((local, task))
}

async fn serve(stream: tokio::net::TcpStream, cfg: Arc<CsmsConfig>) {
    let chosen = Arc::new(std::sync::Mutex::new(None));
    let chosen2 = chosen.clone();
    let cfg2 = cfg.clone();
    let callback = move |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        let offered = req.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok()).unwrap_or("");
        let station = station_id_from_path(req.uri().path());
        let Some((version, _)) = negotiate(offered, &cfg2.versions).zip(station) else {
            let mut r = ErrorResponse::new(Some("no supported OCPP subprotocol or no station id".into()));
            *r.status_mut() = StatusCode::BAD_REQUEST;
            return Err(r);
        };
        let selected = if cfg2.faults.has(&Fault::WrongSubprotocol) { "ocpp1.5" } else { version.subprotocol() };
        resp.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static(selected));
        *chosen2.lock().unwrap() = Some(version);
        Ok(resp)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(ws_config())).await else { return };
    let Some(version) = *chosen.lock().unwrap() else { return };
    let (mut source, tx, writer) = super::split(ws);
    while let Some(Ok(msg)) = source.next().await {
        let Message::Text(text) = msg else { continue };
        match Frame::parse(text.as_str(), version) {
            Err(e) => {
                let id = e.id.unwrap_or_else(|| "-1".into());
                let err = Frame::CallError { id, code: e.kind.error_code(version).into(), description: e.reason, details: json!({}) };
                let _ = tx.send(Message::text(err.to_text()));
            }
            Ok(Frame::Call { id, action, payload }) => {
                let reply = check_call(version, &action, &payload).and_then(|()| on_call(&cfg, version, &action, &payload));
                answer(&tx, &cfg.faults, version, &id, &action, reply);
            }
            Ok(_) => {} // answers to CSMS-initiated calls: none are sent unprompted
        }
    }
    // Give queued (possibly late) answers no chance to outlive the connection.
    tokio::time::sleep(Duration::from_millis(10)).await;
    drop(writer);
}

fn auth_status(cfg: &CsmsConfig, token: &Value) -> &'static str {
    let id = token["idToken"].as_str().or_else(|| token.as_str()).unwrap_or("");
    if cfg.valid_id_tokens.iter().any(|t| t == id) { "Accepted" } else { "Invalid" }
}

fn on_call(cfg: &CsmsConfig, version: OcppVersion, action: &str, p: &Value) -> Result<Value, (&'static str, String)> {
    let v16 = version == OcppVersion::V16;
    Ok(match action {
        "BootNotification" => json!({"currentTime": now_rfc3339(), "interval": cfg.heartbeat_interval, "status": "Accepted"}),
        "Heartbeat" => json!({"currentTime": now_rfc3339()}),
        "Authorize" if v16 => json!({"idTagInfo": {"status": auth_status(cfg, &p["idTag"])}}),
        "Authorize" => json!({"idTokenInfo": {"status": auth_status(cfg, &p["idToken"])}}),
        "StartTransaction" => json!({"transactionId": 1, "idTagInfo": {"status": auth_status(cfg, &p["idTag"])}}),
        "TransactionEvent" if p.get("idToken").is_some() => json!({"idTokenInfo": {"status": auth_status(cfg, &p["idToken"])}}),
        _ => defaults::answer(version, action).ok_or(("NotImplemented", format!("{action} is not an OCPP {version} action")))?,
    })
}
