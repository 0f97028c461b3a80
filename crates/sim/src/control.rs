//! `sim station --control ADDR` (and `sim csms --control ADDR`, see [`csms_router`]): a small HTTP API on loopback through which a lab's tools — and
//! the harness's own `http` bench driver (tests/bench/sim-station.toml) — act on the reference
//! station's physical world while it runs as a separate, long-lived process.
//!
//! | request | body | does |
//! |---|---|---|
//! | `POST /plug` | `{"evse": 1, "connected": true}` | cable in or out |
//! | `POST /pilot` | `{"evse": 1, "state": "C"}` | control pilot A-F |
//! | `POST /token` | `{"id-token": "04E91C5A8B2F80"}` | a card at the reader |
//! | `POST /ev-fault` | `{"evse": 1, "fault": "rcd-trip"}` | `diode-fault`, `rcd-trip`, `cleared` |
//! | `POST /ev-15118` | `{"evse": 1, "request": "plug-and-charge", "params": {}}` | the ISO 15118 EV at the EVSE: `plug-and-charge`, `install-contract`, `update-contract`, `stop-charging` |
//! | `POST /power-cycle` | | mains off and on |
//! | `POST /network` | `{"up": false}` | link down or up |
//! | `POST /relay` | `{"name": "tamper", "on": true}` | a bench relay wired to the station (`tamper`: the cabinet's tamper switch) |
//! | `GET /relay/{name}` | | `{"on": true}` |
//! | `GET /input/{name}` | | `{"on": true}`: `contactor-1` is EVSE 1's contactor, closed |
//! | `POST /safe-state` | | every cable out, faults cleared, relays off |
//! | `POST /disturb` | `{"what": "evse-unavailable"}` | leave the baseline as a lab's device may between cases (see `station::Disturbance`) |
//! | `POST /safe-state/then-disturb` | | the safe state, then the next disturbance in turn: as a bench's safe state, it disturbs the station between every two cases |
//! | `GET /meter/{quantity}` | | `{"value": 1234.5, "unit": "Wh"}` (energy-import; power in W) |
//! | `GET /status` | | `{"booted": true, "meter-wh": ...}` |
use std::net::SocketAddr;

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use ocpp_bench::{Action, EvFault, Pilot};

use super::station::StationHandle;

type Reply = Result<StatusCode, (StatusCode, String)>;

fn send(h: &StationHandle, input: Action) -> Reply {
    if h.send(input) { Ok(StatusCode::NO_CONTENT) } else { Err((StatusCode::SERVICE_UNAVAILABLE, "the station is not running".into())) }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Plug {
    evse: u32,
    connected: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PilotBody {
    evse: u32,
    state: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Token {
    id_token: String,
    /// The EVSE whose reader it is held to (absent: the station's reader).
    #[serde(default)]
    evse: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fault {
    evse: u32,
    fault: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Relay {
    name: String,
    on: bool,
}

/// A relay's or an input's state, or 404 for a line the station does not have.
fn line(state: Result<bool, String>) -> Result<Json<Value>, (StatusCode, String)> {
    state.map(|on| Json(json!({"on": on}))).map_err(|e| (StatusCode::NOT_FOUND, e))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Disturb {
    what: String,
}

fn disturb(h: &StationHandle, d: super::station::Disturbance) -> Reply {
    if h.disturb(d) { Ok(StatusCode::NO_CONTENT) } else { Err((StatusCode::SERVICE_UNAVAILABLE, "the station is not running".into())) }
}

/// Every cable out, faults cleared, relays released.
fn safe_state(h: &StationHandle) -> Reply {
    for evse in 1..=8 {
        send(h, Action::Plug { evse, connected: false })?;
        send(h, Action::EvFault { evse, fault: EvFault::Cleared })?;
    }
    for relay in super::station::RELAYS {
        h.switch(relay, false).map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, e))?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ev15118 {
    evse: u32,
    request: String,
    #[serde(default)]
    params: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Network {
    up: bool,
}

fn bad(msg: String) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, msg)
}

pub fn router(h: StationHandle) -> Router {
    Router::new()
        .route("/plug", post(|State(h): State<StationHandle>, Json(b): Json<Plug>| async move { send(&h, Action::Plug { evse: b.evse, connected: b.connected }) }))
        .route(
            "/pilot",
            post(|State(h): State<StationHandle>, Json(b): Json<PilotBody>| async move {
                let state = Pilot::from_letter(&b.state).ok_or_else(|| bad(format!("unknown pilot state {:?} (A..F)", b.state)))?;
                send(&h, Action::Pilot { evse: b.evse, state })
            }),
        )
        .route(
            "/token",
            post(|State(h): State<StationHandle>, Json(b): Json<Token>| async move { send(&h, Action::Token { evse: b.evse, token: b.id_token }) }),
        )
        .route(
            "/ev-fault",
            post(|State(h): State<StationHandle>, Json(b): Json<Fault>| async move {
                let fault = match b.fault.as_str() {
                    "diode-fault" => EvFault::DiodeFault,
                    "rcd-trip" => EvFault::RcdTrip,
                    "cleared" => EvFault::Cleared,
                    other => {
                        return Err(bad(format!("unknown fault {other:?} (diode-fault, rcd-trip, cleared)")));
                    }
                };
                send(&h, Action::EvFault { evse: b.evse, fault })
            }),
        )
        .route(
            "/ev-15118",
            post(|State(h): State<StationHandle>, Json(b): Json<Ev15118>| async move {
                if !ocpp_bench::capability::EV_15118_REQUESTS.contains(&b.request.as_str()) {
                    return Err(bad(format!("unknown ISO 15118 EV request {:?} ({})", b.request, ocpp_bench::capability::EV_15118_REQUESTS.join(", "))));
                }
                send(&h, Action::Ev15118 { evse: b.evse, request: b.request, params: b.params })
            }),
        )
        .route("/power-cycle", post(|State(h): State<StationHandle>| async move { send(&h, Action::PowerCycle) }))
        .route("/network", post(|State(h): State<StationHandle>, Json(b): Json<Network>| async move { send(&h, Action::Network(b.up)) }))
        .route(
            "/relay",
            post(|State(h): State<StationHandle>, Json(b): Json<Relay>| async move {
                let status = if super::station::RELAYS.contains(&b.name.as_str()) { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::NOT_FOUND };
                h.switch(&b.name, b.on).map(|()| StatusCode::NO_CONTENT).map_err(|e| (status, e))
            }),
        )
        .route("/relay/{name}", get(|State(h): State<StationHandle>, Path(name): Path<String>| async move { line(h.relay(&name)) }))
        .route("/input/{name}", get(|State(h): State<StationHandle>, Path(name): Path<String>| async move { line(h.input(&name)) }))
        .route("/safe-state", post(|State(h): State<StationHandle>| async move { safe_state(&h) }))
        .route(
            "/disturb",
            post(|State(h): State<StationHandle>, Json(b): Json<Disturb>| async move {
                let names: Vec<&str> = super::station::Disturbance::ALL.iter().map(|(_, n)| *n).collect();
                let d = super::station::Disturbance::named(&b.what).ok_or_else(|| bad(format!("unknown disturbance {:?} ({})", b.what, names.join(", "))))?;
                disturb(&h, d)
            }),
        )
        .route(
            "/safe-state/then-disturb",
            post(|State(h): State<StationHandle>| async move {
                safe_state(&h)?;
                let done = disturb(&h, h.next_disturbance());
                // Its messages go out in a moment: the bench's safe state ends after them, as a
                // lab's would end after the station reacted.
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                done
            }),
        )
        .route(
            "/meter/{quantity}",
            get(|State(h): State<StationHandle>, Path(q): Path<String>| async move {
                match q.as_str() {
                    "energy-import" => Ok(Json(json!({"value": h.meter_wh(), "unit": "Wh"}))),
                    "power" => Ok(Json(json!({"value": h.meter_power_w(), "unit": "W"}))),
                    other => Err((StatusCode::NOT_FOUND, format!("the simulated meter measures energy-import and power, not {other:?}"))),
                }
            }),
        )
        .route("/status", get(|State(h): State<StationHandle>| async move { Json::<Value>(json!({"booted": h.is_booted(), "meter-wh": h.meter_wh()})) }))
        .with_state(h)
}

/// `sim csms --control ADDR`: make the reference CSMS send any CALL to a connected station, the
/// way a lab drives a real CSMS's own API for `csms-trigger` (tests/bench/sim-csms.toml).
///
/// | request | body | does |
/// |---|---|---|
/// | `POST /stations/{station}/{action}` | the CALL's payload (JSON) | 202 once sent; 404 if the station is not connected (after 2 s); 400 if the payload breaks the schema |
/// | `GET /stations` | | the connected station ids |
pub fn csms_router(h: super::csms::CsmsHandle) -> Router {
    Router::new()
        .route(
            "/stations/{station}/{action}",
            post(|State(h): State<super::csms::CsmsHandle>, Path((station, action)): Path<(String, String)>, Json(payload): Json<Value>| async move {
                // A station that has just connected may not be registered yet: wait a little.
                match h.send_call_when_connected(&station, &action, payload, std::time::Duration::from_secs(2)).await {
                    Ok(()) => Ok(StatusCode::ACCEPTED),
                    Err(e) if e.contains("not connected") => Err((StatusCode::NOT_FOUND, e)),
                    Err(e) => Err(bad(e)),
                }
            }),
        )
        .route("/stations", get(|State(h): State<super::csms::CsmsHandle>| async move { Json(h.connected()) }))
        .with_state(h)
}

/// Serve the station's control API for `h` on `addr` (keep it on loopback: it is not
/// authenticated).
pub async fn serve(addr: SocketAddr, h: StationHandle) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    serve_router(addr, router(h)).await
}

/// Serve an API on `addr` until the task is aborted.
pub async fn serve_router(addr: SocketAddr, app: Router) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let tcp = tokio::net::TcpListener::bind(addr).await.map_err(|e| anyhow::anyhow!("cannot serve the control API on {addr}: {e}"))?;
    let bound = tcp.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(tcp, app).await {
            tracing::error!("control API stopped: {e}");
        }
    });
    Ok((bound, task))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Good requests act, bad ones get a 4xx that says why.
    #[tokio::test]
    async fn the_control_api_answers_and_refuses_clearly() {
        let cfg = super::super::station::StationConfig::new("ws://127.0.0.1:9/ocpp", "CS001", ocpp_core::version::OcppVersion::V201);
        let (handle, task) = super::super::station::spawn(cfg);
        let (addr, server) = serve("127.0.0.1:0".parse().unwrap(), handle).await.unwrap();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let c = reqwest::Client::new();
        let url = |p: &str| format!("http://{addr}{p}");
        let post = |p: &str, body: &str| c.post(url(p)).header("content-type", "application/json").body(body.to_string()).send();
        assert_eq!(post("/plug", r#"{"evse": 1, "connected": true}"#).await.unwrap().status(), 204);
        assert_eq!(post("/pilot", r#"{"evse": 1, "state": "c"}"#).await.unwrap().status(), 204);
        let bad = post("/pilot", r#"{"evse": 1, "state": "Z"}"#).await.unwrap();
        assert_eq!(bad.status(), 400);
        assert!(bad.text().await.unwrap().contains("unknown pilot state"));
        assert!(post("/ev-fault", r#"{"evse": 1, "fault": "short"}"#).await.unwrap().text().await.unwrap().contains("unknown fault"));
        assert!(post("/plug", r#"{"evse": 1, "plugged": true}"#).await.unwrap().status().is_client_error(), "unknown fields are refused");
        assert_eq!(post("/relay", r#"{"name": "tamper", "on": true}"#).await.unwrap().status(), 204);
        let tamper: Value = c.get(url("/relay/tamper")).send().await.unwrap().json().await.unwrap();
        assert_eq!(tamper["on"], true, "a relay reads back as switched");
        assert_eq!(post("/relay", r#"{"name": "siren", "on": true}"#).await.unwrap().status(), 404);
        let contactor: Value = c.get(url("/input/contactor-1")).send().await.unwrap().json().await.unwrap();
        assert_eq!(contactor["on"], false, "no transaction: the contactor is open");
        assert_eq!(c.get(url("/input/contactor-2")).send().await.unwrap().status(), 404, "one EVSE");
        assert_eq!(post("/safe-state", "").await.unwrap().status(), 204);
        let tamper: Value = c.get(url("/relay/tamper")).send().await.unwrap().json().await.unwrap();
        assert_eq!(tamper["on"], false, "the safe state releases the relays");
        let meter: Value = c.get(url("/meter/energy-import")).send().await.unwrap().json().await.unwrap();
        assert_eq!(meter["unit"], "Wh");
        let power: Value = c.get(url("/meter/power")).send().await.unwrap().json().await.unwrap();
        assert_eq!((power["unit"].as_str(), power["value"].as_f64()), (Some("W"), Some(0.0)), "no transaction: no power");
        assert_eq!(c.get(url("/meter/voltage-l1")).send().await.unwrap().status(), 404);
        let status: Value = c.get(url("/status")).send().await.unwrap().json().await.unwrap();
        assert_eq!(status["booted"], false, "no CSMS to boot at");
        task.abort();
        let _ = task.await;
        assert_eq!(post("/power-cycle", "").await.unwrap().status(), 503, "a stopped station says so");
        server.abort();
    }
}
