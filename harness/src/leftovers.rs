//! Harness as charging station: what a case told the CSMS DUT that a real station would not
//! leave hanging — transactions it started and did not end, connectors it left other than
//! Available — and the messages that wind them up after the case. A CSMS keeps its view of a
//! station across connections, so without this a transaction left open by one case makes the
//! next one fail (ConcurrentTx, an occupied connector) and verdicts depend on case order.
use std::{collections::BTreeMap, time::Duration};

use serde_json::{Value, json};

use ocpp_core::{defaults::now_rfc3339, session::{CallOutcome, Connection}, version::OcppVersion};

/// A transaction the CSMS knows of and the case did not end.
#[derive(Debug, Clone)]
struct OpenTransaction {
    /// 1.6: the connector; 2.x: the `evse` object last sent.
    place: Value,
    /// 2.x: the last seqNo sent.
    seq_no: i64,
    /// 1.6: the meter start, reused as the stop value.
    meter: i64,
}

/// What the case left open, learnt from the CALLs it sent and their answers.
#[derive(Default)]
pub struct Leftovers {
    transactions: BTreeMap<String, OpenTransaction>,
    /// Connector key -> (the StatusNotification fields that name it, last status).
    connectors: BTreeMap<String, (Value, String)>,
    /// The newest connection the case used (for the wind-up, if still open).
    conn: Option<Connection>,
}

impl Leftovers {
    /// Whether the request of a CALL of `action` tells anything (so callers keep a copy of it
    /// only for these).
    pub fn tracks(action: &str) -> bool {
        matches!(action, "StartTransaction" | "StopTransaction" | "TransactionEvent" | "StatusNotification")
    }

    /// A CALL the case sent on `conn` and the CSMS answered with a CALLRESULT; `request` is
    /// needed only where `tracks(action)`.
    pub fn observe(&mut self, conn: &Connection, action: &str, request: Option<&Value>, answer: &Value) {
        let v16 = conn.version() == OcppVersion::V16;
        self.conn = Some(conn.clone());
        let Some(request) = request else { return };
        match action {
            "StartTransaction" => {
                let place = request["connectorId"].clone();
                let meter = request["meterStart"].as_i64().unwrap_or_default();
                self.transactions.insert(answer["transactionId"].to_string(), OpenTransaction { place, seq_no: 0, meter });
            }
            "StopTransaction" => {
                self.transactions.remove(&request["transactionId"].to_string());
            }
            "TransactionEvent" => {
                let Some(id) = request["transactionInfo"]["transactionId"].as_str() else { return };
                if request["eventType"] == "Ended" {
                    self.transactions.remove(id);
                    return;
                }
                let seq_no = request["seqNo"].as_i64().unwrap_or_default();
                let tx = self.transactions.entry(id.to_string()).or_insert(OpenTransaction { place: Value::Null, seq_no, meter: 0 });
                tx.seq_no = tx.seq_no.max(seq_no);
                if request["evse"].is_object() {
                    tx.place = request["evse"].clone();
                }
            }
            "StatusNotification" if v16 => {
                let place = json!({"connectorId": request["connectorId"]});
                let status = request["status"].as_str().unwrap_or_default().to_string();
                self.connectors.insert(request["connectorId"].to_string(), (place, status));
            }
            "StatusNotification" => {
                let place = json!({"evseId": request["evseId"], "connectorId": request["connectorId"]});
                let status = request["connectorStatus"].as_str().unwrap_or_default().to_string();
                self.connectors.insert(format!("{}/{}", request["evseId"], request["connectorId"]), (place, status));
            }
            _ => {}
        }
    }

    /// Whether the case left nothing to wind up.
    pub fn is_empty(&self) -> bool {
        self.transactions.is_empty() && self.connectors.values().all(|(_, s)| s == "Available")
    }

    /// The connection the case used last, if it is still open.
    pub fn open_connection(&self) -> Option<Connection> {
        self.conn.clone().filter(|c| !c.is_closed())
    }

    /// End every open transaction and report every connector Available on `conn`, as a
    /// station that was stopped by an operator would; what was done, for the trace. What is
    /// wound up is forgotten, so a retry sends only what is still open.
    pub async fn wind_up(&mut self, conn: &Connection, timeout: Duration) -> Result<Vec<String>, String> {
        let v16 = conn.version() == OcppVersion::V16;
        let mut done = vec![];
        while let Some((id, tx)) = self.transactions.pop_first() {
            let (action, payload) = if v16 {
                let id_num: i64 = id.parse().unwrap_or_default();
                ("StopTransaction", json!({"transactionId": id_num, "meterStop": tx.meter, "timestamp": now_rfc3339(), "reason": "Other"}))
            } else {
                let mut p = json!({
                    "eventType": "Ended", "timestamp": now_rfc3339(), "triggerReason": "AbnormalCondition", "seqNo": tx.seq_no + 1,
                    "transactionInfo": {"transactionId": id, "stoppedReason": "Other"},
                });
                if tx.place.is_object() {
                    p["evse"] = tx.place.clone();
                }
                ("TransactionEvent", p)
            };
            if let Err(e) = send(conn, action, payload, timeout).await {
                self.transactions.insert(id.clone(), tx);
                return Err(format!("could not end transaction {id} the case left open: {e}"));
            }
            done.push(format!("ended transaction {id}, which the case left open"));
        }
        let pending: Vec<(String, Value)> = self.connectors.iter().filter(|(_, (_, s))| s != "Available").map(|(k, (p, _))| (k.clone(), p.clone())).collect();
        for (key, place) in pending {
            let mut p = place;
            if v16 {
                p["status"] = json!("Available");
                p["errorCode"] = json!("NoError");
                p["timestamp"] = json!(now_rfc3339());
            } else {
                p["connectorStatus"] = json!("Available");
                p["timestamp"] = json!(now_rfc3339());
            }
            send(conn, "StatusNotification", p, timeout).await.map_err(|e| format!("could not report connector {key} Available again: {e}"))?;
            self.connectors.remove(&key);
            done.push(format!("reported connector {key} Available again"));
        }
        Ok(done)
    }
}

async fn send(conn: &Connection, action: &str, payload: Value, timeout: Duration) -> Result<(), String> {
    match conn.call(action, payload, timeout).await {
        Ok(CallOutcome::Result(_)) => Ok(()),
        Ok(CallOutcome::Error { code, description, .. }) => Err(format!("{action} answered with CALLERROR {code} {description}")),
        Err(e) => Err(format!("{action}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feed `observe` a case's CALLs and the CSMS's answers, in order.
    fn observe_all(l: &mut Leftovers, conn: &Connection, msgs: &[(&str, Value, Value)]) {
        for (a, req, ans) in msgs {
            l.observe(conn, a, Some(req), ans);
        }
    }

    async fn loopback(version: OcppVersion) -> (Connection, tokio::task::JoinHandle<Vec<String>>) {
        // A peer that answers every CALL with {} and records what it got.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = tokio::spawn(async move {
            use futures_util::{SinkExt, StreamExt};
            let (s, _) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(s).await.unwrap();
            let mut got = vec![];
            while let Some(Ok(m)) = ws.next().await {
                let tokio_tungstenite::tungstenite::Message::Text(t) = m else { break };
                let v: Value = serde_json::from_str(t.as_str()).unwrap_or_default();
                got.push(format!("{} {}", v[2].as_str().unwrap_or_default(), v[3]));
                let reply = json!([3, v[1], {}]);
                if ws.send(tokio_tungstenite::tungstenite::Message::text(reply.to_string())).await.is_err() {
                    break;
                }
            }
            got
        });
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/")).await.unwrap();
        (Connection::spawn(ws, version, "CS001".into(), ocpp_core::trace::Trace::new()), peer)
    }

    #[tokio::test]
    async fn a_transaction_left_open_is_ended_and_the_connector_made_available() {
        let (conn, peer) = loopback(OcppVersion::V16).await;
        let mut l = Leftovers::default();
        observe_all(&mut l, &conn, &[
            ("StatusNotification", json!({"connectorId": 1, "status": "Preparing"}), json!({})),
            ("StartTransaction", json!({"connectorId": 1, "meterStart": 1000}), json!({"transactionId": 7})),
            ("StartTransaction", json!({"connectorId": 2, "meterStart": 5}), json!({"transactionId": 8})),
            ("StopTransaction", json!({"transactionId": 8}), json!({})),
            ("StatusNotification", json!({"connectorId": 2, "status": "Available"}), json!({})),
        ]);
        assert!(!l.is_empty());
        let done = l.wind_up(&conn, Duration::from_secs(5)).await.unwrap();
        assert_eq!(done.len(), 2, "{done:?}");
        assert!(l.is_empty());
        conn.close();
        let got = peer.await.unwrap();
        assert!(got[0].starts_with("StopTransaction") && got[0].contains("\"transactionId\":7") && got[0].contains("\"meterStop\":1000"), "{got:?}");
        assert!(got[1].starts_with("StatusNotification") && got[1].contains("\"connectorId\":1") && got[1].contains("Available"), "{got:?}");
    }

    #[tokio::test]
    async fn a_2x_transaction_is_ended_with_the_next_seq_no() {
        let (conn, peer) = loopback(OcppVersion::V201).await;
        let mut l = Leftovers::default();
        observe_all(&mut l, &conn, &[
            ("TransactionEvent", json!({"eventType": "Started", "seqNo": 0, "transactionInfo": {"transactionId": "T1"}, "evse": {"id": 1, "connectorId": 1}}), json!({})),
            ("TransactionEvent", json!({"eventType": "Updated", "seqNo": 3, "transactionInfo": {"transactionId": "T1"}}), json!({})),
            ("TransactionEvent", json!({"eventType": "Started", "seqNo": 0, "transactionInfo": {"transactionId": "T2"}}), json!({})),
            ("TransactionEvent", json!({"eventType": "Ended", "seqNo": 1, "transactionInfo": {"transactionId": "T2"}}), json!({})),
        ]);
        let done = l.wind_up(&conn, Duration::from_secs(5)).await.unwrap();
        assert_eq!(done, vec!["ended transaction T1, which the case left open".to_string()]);
        conn.close();
        let got = peer.await.unwrap();
        assert!(got[0].contains("\"seqNo\":4") && got[0].contains("\"Ended\"") && got[0].contains("\"evse\":{\"connectorId\":1,\"id\":1}"), "{got:?}");
        assert_eq!(got.len(), 1, "{got:?}");
    }
}
