//! Reference charging station (OCPP 2.0.1 and 2.1): boots, reports connector status, sends
//! heartbeats, runs remotely started transactions, answers variable and reset requests, and
//! reconnects after a dropped connection.
use std::{
    collections::{BTreeMap, VecDeque},
    time::Duration,
};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::{sync::mpsc, time::Instant};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue, Message};

use super::{Fault, Faults, answer, check_call, corrupt};
use crate::{
    defaults::now_rfc3339,
    frame::Frame,
    schema::Direction,
    transport::ws_config,
    version::OcppVersion,
};

#[derive(Debug, Clone)]
pub struct StationConfig {
    /// Base URL of the CSMS; the station id is appended.
    pub csms_url: String,
    pub station_id: String,
    pub version: OcppVersion,
    pub evses: u32,
    pub faults: Faults,
    /// Pause before reconnecting after the connection dropped.
    pub reconnect_delay: Duration,
}

impl StationConfig {
    pub fn new(csms_url: impl Into<String>, station_id: impl Into<String>, version: OcppVersion) -> Self {
        StationConfig {
            csms_url: csms_url.into(),
            station_id: station_id.into(),
            version,
            evses: 1,
            faults: Faults::default(),
            reconnect_delay: Duration::from_millis(200),
        }
    }
}

struct Transaction {
    id: String,
    evse: u32,
    seq_no: u64,
}

/// State that survives reconnects (not reboots).
struct Station {
    cfg: StationConfig,
    booted: bool,
    boot_reason: &'static str,
    heartbeat: Duration,
    variables: BTreeMap<(String, String), String>,
    transaction: Option<Transaction>,
    tx_counter: u64,
    next_id: u64,
}

/// What one connection ended with.
enum Ended {
    Dropped,
    Reboot,
}

/// Run the station until the task is aborted.
pub async fn run(cfg: StationConfig) {
    let mut st = Station::new(cfg);
    loop {
        match st.connect_and_serve().await {
            Ok(Ended::Reboot) => {
                st.booted = false;
                st.boot_reason = "RemoteReset";
                st.transaction = None;
            }
            Ok(Ended::Dropped) | Err(_) => {}
        }
        tokio::time::sleep(st.cfg.reconnect_delay).await;
    }
}

impl Station {
    fn new(cfg: StationConfig) -> Self {
        let mut variables = BTreeMap::new();
        for (c, v, val) in [
            ("OCPPCommCtrlr", "HeartbeatInterval", "300"),
            ("SecurityCtrlr", "Identity", cfg.station_id.as_str()),
            ("AuthCtrlr", "AuthorizeRemoteStart", "false"),
            ("TxCtrlr", "EVConnectionTimeOut", "60"),
            ("DeviceDataCtrlr", "ItemsPerMessage", "20"),
        ] {
            variables.insert((c.to_string(), v.to_string()), val.to_string());
        }
        Station { cfg, booted: false, boot_reason: "PowerUp", heartbeat: Duration::from_secs(300), variables, transaction: None, tx_counter: 0, next_id: 1 }
    }

    async fn connect_and_serve(&mut self) -> anyhow::Result<Ended> {
        let url = format!("{}/{}", self.cfg.csms_url.trim_end_matches('/'), self.cfg.station_id);
        let mut req = url.into_client_request()?;
        let offer = if self.cfg.faults.has(&Fault::WrongSubprotocol) { "ocpp1.5" } else { self.cfg.version.subprotocol() };
        req.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static(offer));
        let (ws, _) = tokio_tungstenite::connect_async_with_config(req, Some(ws_config()), true).await?;
        let (mut stream, tx, _writer) = super::split(ws);

        let mut outbox: VecDeque<(String, Value)> = VecDeque::new();
        let mut pending: Option<(String, String, Instant)> = None;
        if !self.booted && !self.cfg.faults.has(&Fault::SkipBoot) {
            outbox.push_back(("BootNotification".into(), self.boot_payload()));
        }
        let mut next_heartbeat = Instant::now() + self.heartbeat;
        let mut retry_boot: Option<Instant> = None;
        loop {
            // One outstanding CALL at a time; answers that never come are given up after 30 s.
            if pending.as_ref().is_some_and(|(_, _, t)| t.elapsed() > Duration::from_secs(30)) {
                pending = None;
            }
            if pending.is_none() {
                if let Some((action, mut payload)) = outbox.pop_front() {
                    let id = self.next_id.to_string();
                    self.next_id += 1;
                    if self.cfg.faults.schema_violation(&action) {
                        corrupt(self.cfg.version, &action, Direction::Request, &mut payload);
                    }
                    let _ = tx.send(Message::text(Frame::Call { id: id.clone(), action: action.clone(), payload }.to_text()));
                    pending = Some((id, action, Instant::now()));
                }
            }
            let wake = match retry_boot {
                Some(t) => t.min(next_heartbeat),
                None => next_heartbeat,
            };
            tokio::select! {
                msg = stream.next() => {
                    let text = match msg {
                        Some(Ok(Message::Text(t))) => t.to_string(),
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ok(Ended::Dropped),
                        Some(Ok(_)) => continue,
                    };
                    match self.on_frame(&text, &tx, &mut outbox, &mut pending, &mut retry_boot) {
                        Some(end) => {
                            // Let the writer flush the last answer before the socket goes.
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            return Ok(end);
                        }
                        None => {
                            if self.booted && self.heartbeat > Duration::ZERO && next_heartbeat > Instant::now() + self.heartbeat {
                                next_heartbeat = Instant::now() + self.heartbeat;
                            }
                        }
                    }
                }
                _ = tokio::time::sleep_until(wake) => {
                    if retry_boot.is_some_and(|t| t <= Instant::now()) {
                        retry_boot = None;
                        outbox.push_back(("BootNotification".into(), self.boot_payload()));
                    }
                    if next_heartbeat <= Instant::now() {
                        if self.booted {
                            outbox.push_back(("Heartbeat".into(), json!({})));
                        }
                        next_heartbeat = Instant::now() + self.heartbeat.max(Duration::from_millis(100));
                    }
                }
            }
            if self.cfg.faults.has(&Fault::DropMidTransaction) && self.transaction.is_some() && outbox.is_empty() && pending.is_none() {
                return Ok(Ended::Dropped);
            }
        }
    }

    fn boot_payload(&self) -> Value {
        json!({
            "reason": self.boot_reason,
            "chargingStation": {"model": "RefStation", "vendorName": "ocpp-harness", "firmwareVersion": env!("CARGO_PKG_VERSION")}
        })
    }

    fn status(&self, evse: u32, status: &str) -> (String, Value) {
        ("StatusNotification".into(), json!({"timestamp": now_rfc3339(), "connectorStatus": status, "evseId": evse, "connectorId": 1}))
    }

    /// Handle one frame from the CSMS; Some when the connection must end.
    fn on_frame(
        &mut self,
        text: &str,
        tx: &mpsc::UnboundedSender<Message>,
        outbox: &mut VecDeque<(String, Value)>,
        pending: &mut Option<(String, String, Instant)>,
        retry_boot: &mut Option<Instant>,
    ) -> Option<Ended> {
        let v = self.cfg.version;
        let frame = match Frame::parse(text, v) {
            Ok(f) => f,
            Err(e) => {
                let code = e.kind.error_code(v);
                let id = e.id.unwrap_or_else(|| "-1".into());
                let _ = tx.send(Message::text(Frame::CallError { id, code: code.into(), description: e.reason, details: json!({}) }.to_text()));
                return None;
            }
        };
        match frame {
            Frame::CallResult { id, payload } => {
                let Some((_, action, _)) = pending.take_if(|(pid, _, _)| *pid == id) else { return None };
                if action == "BootNotification" {
                    let interval = payload["interval"].as_u64().unwrap_or(0);
                    match payload["status"].as_str() {
                        Some("Accepted") => {
                            self.booted = true;
                            if interval > 0 {
                                self.heartbeat = Duration::from_secs(interval);
                                self.variables.insert(("OCPPCommCtrlr".into(), "HeartbeatInterval".into()), interval.to_string());
                            }
                            for evse in 1..=self.cfg.evses {
                                outbox.push_back(self.status(evse, "Available"));
                            }
                        }
                        _ => *retry_boot = Some(Instant::now() + Duration::from_secs(interval.max(1))),
                    }
                }
                None
            }
            Frame::CallError { id, .. } => {
                pending.take_if(|(pid, _, _)| *pid == id);
                None
            }
            Frame::CallResultError { .. } | Frame::Send { .. } => None,
            Frame::Call { id, action, payload } => {
                if let Err(e) = check_call(v, &action, &payload) {
                    answer(tx, &self.cfg.faults, v, &id, &action, Err(e));
                    return None;
                }
                let (reply, end) = self.on_call(&action, &payload, outbox);
                answer(tx, &self.cfg.faults, v, &id, &action, reply);
                end
            }
        }
    }

    fn on_call(&mut self, action: &str, p: &Value, outbox: &mut VecDeque<(String, Value)>) -> (Result<Value, (&'static str, String)>, Option<Ended>) {
        let ok = |v: Value| (Ok(v), None);
        match action {
            "RequestStartTransaction" => {
                if self.transaction.is_some() {
                    return ok(json!({"status": "Rejected"}));
                }
                self.tx_counter += 1;
                let id = if self.cfg.faults.has(&Fault::TransactionIdReuse) { "TX-1".to_string() } else { format!("TX-{}", self.tx_counter) };
                let evse = p["evseId"].as_u64().unwrap_or(1) as u32;
                outbox.push_back(self.status(evse, "Occupied"));
                outbox.push_back((
                    "TransactionEvent".into(),
                    json!({
                        "eventType": "Started", "timestamp": now_rfc3339(), "triggerReason": "RemoteStart", "seqNo": 0,
                        "transactionInfo": {"transactionId": id, "remoteStartId": p["remoteStartId"], "chargingState": "Charging"},
                        "evse": {"id": evse, "connectorId": 1}, "idToken": p["idToken"],
                    }),
                ));
                self.transaction = Some(Transaction { id: id.clone(), evse, seq_no: 1 });
                ok(json!({"status": "Accepted", "transactionId": id}))
            }
            "RequestStopTransaction" => match self.transaction.take_if(|t| p["transactionId"] == t.id.as_str()) {
                Some(t) => {
                    outbox.push_back((
                        "TransactionEvent".into(),
                        json!({
                            "eventType": "Ended", "timestamp": now_rfc3339(), "triggerReason": "RemoteStop", "seqNo": t.seq_no,
                            "transactionInfo": {"transactionId": t.id, "stoppedReason": "Remote", "chargingState": "Idle"},
                            "evse": {"id": t.evse, "connectorId": 1},
                        }),
                    ));
                    outbox.push_back(self.status(t.evse, "Available"));
                    ok(json!({"status": "Accepted"}))
                }
                None => ok(json!({"status": "Rejected"})),
            },
            "GetVariables" => {
                let results: Vec<Value> = p["getVariableData"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| {
                        let (c, var) = (d["component"]["name"].as_str().unwrap_or(""), d["variable"]["name"].as_str().unwrap_or(""));
                        let mut r = json!({"component": d["component"], "variable": d["variable"]});
                        match self.variables.get(&(c.to_string(), var.to_string())) {
                            Some(val) => {
                                r["attributeStatus"] = json!("Accepted");
                                r["attributeValue"] = json!(val);
                            }
                            None if self.variables.keys().any(|(k, _)| k == c) => r["attributeStatus"] = json!("UnknownVariable"),
                            None => r["attributeStatus"] = json!("UnknownComponent"),
                        }
                        r
                    })
                    .collect();
                ok(json!({"getVariableResult": results}))
            }
            "SetVariables" => {
                let results: Vec<Value> = p["setVariableData"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| {
                        let key = (d["component"]["name"].as_str().unwrap_or("").to_string(), d["variable"]["name"].as_str().unwrap_or("").to_string());
                        let value = d["attributeValue"].as_str().unwrap_or("");
                        let status = if key == ("SecurityCtrlr".into(), "Identity".into()) {
                            "Rejected"
                        } else if self.variables.contains_key(&key) {
                            if key.1 == "HeartbeatInterval" {
                                match value.parse::<u64>() {
                                    Ok(s) => self.heartbeat = Duration::from_secs(s),
                                    Err(_) => return json!({"component": d["component"], "variable": d["variable"], "attributeStatus": "Rejected"}),
                                }
                            }
                            self.variables.insert(key, value.to_string());
                            "Accepted"
                        } else if self.variables.keys().any(|(c, _)| *c == key.0) {
                            "UnknownVariable"
                        } else {
                            "UnknownComponent"
                        };
                        json!({"component": d["component"], "variable": d["variable"], "attributeStatus": status})
                    })
                    .collect();
                ok(json!({"setVariableResult": results}))
            }
            "Reset" => (Ok(json!({"status": "Accepted"})), Some(Ended::Reboot)),
            "TriggerMessage" => match p["requestedMessage"].as_str() {
                Some("BootNotification") => {
                    outbox.push_back(("BootNotification".into(), json!({"reason": "Triggered", "chargingStation": self.boot_payload()["chargingStation"]})));
                    ok(json!({"status": "Accepted"}))
                }
                Some("Heartbeat") => {
                    outbox.push_back(("Heartbeat".into(), json!({})));
                    ok(json!({"status": "Accepted"}))
                }
                Some("StatusNotification") => {
                    let evse = p["evse"]["id"].as_u64().unwrap_or(1) as u32;
                    let status = if self.transaction.as_ref().is_some_and(|t| t.evse == evse) { "Occupied" } else { "Available" };
                    outbox.push_back(self.status(evse, status));
                    ok(json!({"status": "Accepted"}))
                }
                _ => ok(json!({"status": "NotImplemented"})),
            },
            "ChangeAvailability" | "ClearCache" => ok(json!({"status": "Accepted"})),
            "UnlockConnector" => ok(json!({"status": "Unlocked"})),
            "DataTransfer" => ok(json!({"status": "UnknownVendorId"})),
            _ => (Err(("NotSupported", format!("{action} is not supported by this station"))), None),
        }
    }
}
