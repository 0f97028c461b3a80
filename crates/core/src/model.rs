//! What the harness, as CSMS, knows of a charging station from its traffic: registration,
//! connector statuses, ongoing transactions, the last heartbeat, and what a case changed that
//! the baseline must undo. It outlives cases and connections, as a real CSMS's view of a
//! station does, so that a case can start from the live state instead of a cold boot.
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::version::OcppVersion;

/// The most entries a map (or list) the DUT's traffic fills may hold: a DUT inventing
/// connector or transaction ids by the thousand must not grow the model without bound.
pub const MAX_ENTRIES: usize = 1024;

/// Insert unless the map is full of other keys.
fn bounded<V>(map: &mut BTreeMap<String, V>, key: String, value: V) {
    if map.len() < MAX_ENTRIES || map.contains_key(&key) {
        map.insert(key, value);
    }
}

/// The station's registration as far as the harness has seen it (B01-B04).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Registration {
    /// Nothing seen yet.
    #[default]
    Unknown,
    /// A BootNotification is waiting for its answer.
    Booting,
    Pending,
    Rejected,
    Accepted,
    /// The station talked without booting on its first connection of the run: it was
    /// registered before the run (a station need not boot again when it reconnects, B04).
    AcceptedEarlier,
}

impl Registration {
    pub fn is_accepted(self) -> bool {
        matches!(self, Registration::Accepted | Registration::AcceptedEarlier)
    }
}

/// Something a case changed on the station that the baseline sets back.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Undo {
    /// A 2.x variable, with the value it had before (component and variable as sent).
    Variable { component: Value, variable: Value, value: String },
    /// A 1.6 configuration key and its earlier value.
    Configuration { key: String, value: String },
    /// The case made the station, an EVSE or a connector inoperative: the scope as it sent it
    /// (2.x the `evse` object or null for the whole station, 1.6 the connectorId). The undo
    /// names the same scope: an EVSE-level Inoperative is not reverted by a station-level
    /// Operative (G03.FR.07, G04.FR.08).
    Availability { scope: Value },
    /// The case installed a local authorization list: the baseline empties it.
    LocalList,
    /// A reservation the station accepted (ReserveNow): cancelled unless used or expired.
    Reservation { id: i64 },
    /// A charging profile the station accepted (SetChargingProfile): cleared by its id.
    ChargingProfile { id: i64 },
    /// A variable monitor the station set (SetVariableMonitoring): cleared by its id.
    Monitor { id: i64 },
    /// A display message the station took (SetDisplayMessage): cleared by its id.
    DisplayMessage { id: i64 },
    /// A default tariff the station installed (2.1 SetDefaultTariff): cleared by its id.
    DefaultTariff { id: String },
    /// A DER control the station accepted (2.1 SetDERControl): cleared by its id.
    DerControl { id: String, is_default: bool },
}

impl Undo {
    /// Whether leaving it undone keeps a connector from being Available (so the next case
    /// cannot start), rather than leaving a setting changed.
    pub fn blocks_connectors(&self) -> bool {
        matches!(self, Undo::Availability { .. } | Undo::Reservation { .. })
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct StationModel {
    pub registration: Registration,
    /// WebSocket connections the station opened in the run.
    pub connections: u32,
    /// BootNotifications it sent in the run.
    pub boots: u32,
    /// Reboots a case asked the harness for (bench power cycle or OCPP Reset).
    pub reboots_requested: u32,
    /// "evse/connector" (2.x) or "connector" (1.6) -> the last status reported.
    pub connectors: BTreeMap<String, String>,
    /// Ongoing transactions: id -> EVSE (2.x) or connector (1.6).
    pub transactions: BTreeMap<String, u32>,
    /// 2.x: the last chargingState each ongoing transaction reported.
    #[serde(skip)]
    pub charging: BTreeMap<String, String>,
    /// The id token each ongoing transaction is authorized with (2.x idToken in a
    /// TransactionEvent, 1.6 idTag of StartTransaction).
    #[serde(skip)]
    pub tx_tokens: BTreeMap<String, String>,
    /// 2.x: the last seqNo of each transaction not yet ended, to see it go up by one.
    #[serde(skip)]
    tx_seq: BTreeMap<String, (i64, String)>,
    /// When the station last sent a CALL (for waiting until it has said all it had to say).
    #[serde(skip)]
    pub last_call: Option<std::time::Instant>,
    /// Id tokens the station got authorized (Authorize answered Accepted, or a transaction
    /// message carrying the token): the most recent `MAX_ENTRIES`, each with its number in
    /// the run, so a wait can ask for one since a point.
    #[serde(skip)]
    pub authorized: std::collections::VecDeque<(u64, String)>,
    /// Authorizations seen in the run.
    #[serde(skip)]
    pub authorizations: u64,
    /// Connectors (not the 1.6 charge point, connector 0) reported since the last boot.
    #[serde(skip)]
    pub reported_since_boot: std::collections::BTreeSet<String>,
    /// What the station said about itself in its last BootNotification (vendor, model, serial
    /// number, firmware), for the report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// RFC 3339 time of the last Heartbeat.
    pub last_heartbeat: Option<String>,
    /// The station's configuration as read at the start of the run (see the harness's
    /// `inventory`): None until it was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory: Option<BTreeMap<String, String>>,
    /// What the running case changed, oldest first.
    #[serde(skip)]
    pub undo: Vec<Undo>,
    /// The last firmware update status the station reported (2.x FirmwareStatusNotification,
    /// 1.6 FirmwareStatusNotification and SignedFirmwareStatusNotification): a reboot does not
    /// end an update, so it is kept across boots.
    #[serde(skip)]
    pub firmware: Option<String>,
    /// The last log or diagnostics upload status (LogStatusNotification,
    /// DiagnosticsStatusNotification).
    #[serde(skip)]
    pub upload: Option<String>,
    /// The work of its own (`own_work`) the baseline waited for in vain: not waited for again.
    #[serde(skip)]
    pub waited_out: Option<String>,
}

/// Firmware statuses after which the station still has work to do (L01, 1.6 §4.5 and the
/// security whitepaper): the others end an update (or say there is none).
const FIRMWARE_GOING_ON: [&str; 8] = ["Downloading", "Downloaded", "DownloadScheduled", "DownloadPaused", "Installing", "InstallRebooting", "InstallScheduled", "SignatureVerified"];

/// "vendor V, model M, serial S, firmware F" from a BootNotification, the parts it has.
fn identity(v16: bool, p: &Value) -> Option<String> {
    let fields: [(&str, &Value); 4] = if v16 {
        [("vendor", &p["chargePointVendor"]), ("model", &p["chargePointModel"]), ("serial", &p["chargePointSerialNumber"]), ("firmware", &p["firmwareVersion"])]
    } else {
        let s = &p["chargingStation"];
        [("vendor", &s["vendorName"]), ("model", &s["model"]), ("serial", &s["serialNumber"]), ("firmware", &s["firmwareVersion"])]
    };
    let parts: Vec<String> = fields.iter().filter_map(|(k, v)| v.as_str().map(|v| format!("{k} {v}"))).collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

impl StationModel {
    /// A CALL the station sent (valid against its schema); a rule of a sequence of them it
    /// broke, if any.
    pub fn observe_call(&mut self, version: OcppVersion, action: &str, p: &Value) -> Option<Deviation> {
        let deviation = self.sequence_deviation(version, action, p);
        self.note_call(version, action, p);
        deviation
    }

    /// Part 2 "Sequence Number Generation" (E01.FR.07 and its siblings): after each
    /// TransactionEvent the station increases seqNo by one, so within a transaction each new
    /// event carries the number after the last one. The same number again is the same event
    /// sent again (no answer came, or it was queued while offline); a number that goes back
    /// or skips one is a deviation.
    fn sequence_deviation(&mut self, version: OcppVersion, action: &str, p: &Value) -> Option<Deviation> {
        if version == OcppVersion::V16 || action != "TransactionEvent" {
            return None;
        }
        let (id, seq) = (p["transactionInfo"]["transactionId"].as_str()?, p["seqNo"].as_i64()?);
        // What makes an event the same one sent again: its number, type, trigger and time.
        let this = (seq, format!("{} {} {}", p["eventType"], p["triggerReason"], p["timestamp"]));
        let last = self.tx_seq.get(id).cloned();
        if p["eventType"] == "Ended" {
            self.tx_seq.remove(id);
        } else if last.as_ref().is_none_or(|(l, _)| seq > *l) {
            bounded(&mut self.tx_seq, id.to_string(), this.clone());
        }
        let (last_seq, last_event) = last?;
        let resent = seq == last_seq && this.1 == last_event;
        (seq != last_seq + 1 && !resent).then(|| Deviation {
            clause: "E01.FR.07",
            expected: format!("seqNo {} in the TransactionEvent after seqNo {last_seq} of transaction {id} (increased by 1 after each, part 2 Sequence Number Generation)", last_seq + 1),
            observed: format!("TransactionEvent {} with seqNo {seq}", p["eventType"].as_str().unwrap_or("?")),
        })
    }

    fn note_call(&mut self, version: OcppVersion, action: &str, p: &Value) {
        let v16 = version == OcppVersion::V16;
        self.last_call = Some(std::time::Instant::now());
        match action {
            "BootNotification" => {
                self.boots += 1;
                self.identity = identity(v16, p);
                self.registration = Registration::Booting;
                self.reported_since_boot.clear();
                // A reboot ends what was going on; the station reports what survived, and
                // the statuses it had before are no evidence of the ones it has now (B01.FR.05:
                // it reports every connector after the boot).
                self.transactions.clear();
                self.charging.clear();
                self.connectors.clear();
            }
            "Heartbeat" => self.last_heartbeat = Some(crate::defaults::now_rfc3339()),
            "StatusNotification" if v16 => self.note_status(p["connectorId"].to_string(), &p["status"]),
            "StatusNotification" => self.note_status(format!("{}/{}", p["evseId"], p["connectorId"]), &p["connectorStatus"]),
            // G01.FR.03/04/07: a 2.x station may report a connector's status by NotifyEvent
            // (Connector.AvailabilityState) instead of StatusNotification.
            "NotifyEvent" => {
                for e in p["eventData"].as_array().into_iter().flatten() {
                    if e["component"]["name"] == "Connector" && e["variable"]["name"] == "AvailabilityState" {
                        let Some(evse) = e["component"]["evse"]["id"].as_u64() else { continue };
                        let connector = e["component"]["evse"]["connectorId"].as_u64().unwrap_or(1);
                        self.note_status(format!("{evse}/{connector}"), &e["actualValue"]);
                    }
                }
            }
            "TransactionEvent" => {
                let Some(id) = p["transactionInfo"]["transactionId"].as_str() else { return };
                if let Some(t) = p["idToken"]["idToken"].as_str() {
                    self.note_authorized(t);
                    bounded(&mut self.tx_tokens, id.to_string(), t.to_string());
                }
                if p["eventType"] == "Ended" {
                    self.transactions.remove(id);
                    self.charging.remove(id);
                    self.tx_tokens.remove(id);
                } else {
                    if let Some(c) = p["transactionInfo"]["chargingState"].as_str() {
                        bounded(&mut self.charging, id.to_string(), c.to_string());
                    }
                    let evse = p["evse"]["id"].as_u64().map(|e| e as u32);
                    let known = self.transactions.get(id).copied();
                    bounded(&mut self.transactions, id.to_string(), evse.or(known).unwrap_or(0));
                }
            }
            "StopTransaction" => {
                self.transactions.remove(&p["transactionId"].to_string());
            }
            "FirmwareStatusNotification" | "SignedFirmwareStatusNotification" => self.firmware = p["status"].as_str().map(str::to_string),
            "LogStatusNotification" | "DiagnosticsStatusNotification" => self.upload = p["status"].as_str().map(str::to_string),
            _ => {}
        }
        if action != "BootNotification" && self.registration == Registration::Unknown {
            self.registration = Registration::AcceptedEarlier;
        }
    }

    /// The answer the harness gave to one of the station's CALLs.
    pub fn observe_answer(&mut self, _version: OcppVersion, action: &str, request: &Value, answer: &Value) {
        match action {
            "BootNotification" => {
                self.registration = match answer["status"].as_str() {
                    Some("Accepted") => Registration::Accepted,
                    Some("Pending") => Registration::Pending,
                    _ => Registration::Rejected,
                }
            }
            "Authorize" => {
                let token = request["idToken"]["idToken"].as_str().or(request["idTag"].as_str());
                let status = answer["idTokenInfo"]["status"].as_str().or(answer["idTagInfo"]["status"].as_str());
                if let (Some(t), Some("Accepted")) = (token, status) {
                    self.note_authorized(t);
                }
            }
            "StartTransaction" => {
                if let Some(t) = request["idTag"].as_str() {
                    self.note_authorized(t);
                }
                if let Some(id) = answer["transactionId"].as_i64() {
                    bounded(&mut self.transactions, id.to_string(), request["connectorId"].as_u64().unwrap_or(0) as u32);
                    if let Some(t) = request["idTag"].as_str() {
                        bounded(&mut self.tx_tokens, id.to_string(), t.to_string());
                    }
                }
            }
            _ => {}
        }
    }

    /// The station's connection settings were raised for good (A05): the connection profile
    /// order it has now is not one to undo.
    pub fn keep_connection_profiles(&mut self) {
        self.undo.retain(|u| !matches!(u, Undo::Variable { variable, .. } if variable["name"] == "NetworkConfigurationPriority"));
    }

    /// Record a change the baseline must undo, keeping the first (oldest) value of a setting.
    pub fn remember(&mut self, undo: Undo) {
        let same = |u: &Undo| match (u, &undo) {
            (Undo::Variable { component: c1, variable: v1, .. }, Undo::Variable { component: c2, variable: v2, .. }) => c1 == c2 && v1 == v2,
            (Undo::Configuration { key: k1, .. }, Undo::Configuration { key: k2, .. }) => k1 == k2,
            (a, b) => a == b,
        };
        if !self.undo.iter().any(same) {
            self.undo.push(undo);
        }
    }

    fn note_authorized(&mut self, token: &str) {
        self.authorizations += 1;
        if self.authorized.len() == MAX_ENTRIES {
            self.authorized.pop_front();
        }
        self.authorized.push_back((self.authorizations, token.to_string()));
    }

    /// Whether `token` was authorized after the first `since` authorizations of the run.
    pub fn authorized_since(&self, since: u64, token: &str) -> bool {
        self.authorized.iter().any(|(n, t)| *n > since && t == token)
    }

    /// The status last reported for the (first) connector of `evse` (1.6: connector `evse`).
    pub fn connector_status(&self, version: OcppVersion, evse: u32) -> Option<&str> {
        let key = if version == OcppVersion::V16 { evse.to_string() } else { format!("{evse}/1") };
        self.connectors.get(&key).map(String::as_str)
    }

    /// The ongoing transaction on `evse` (1.6: connector), if any.
    pub fn transaction_on(&self, evse: u32) -> Option<&str> {
        self.transactions.iter().find(|(_, e)| **e == evse).map(|(id, _)| id.as_str())
    }

    /// A connector's status, however reported ("evse/connector" in 2.x, the connector in 1.6).
    fn note_status(&mut self, key: String, status: &Value) {
        if self.reported_since_boot.len() < MAX_ENTRIES && !is_station_key(&key) {
            self.reported_since_boot.insert(key.clone());
        }
        bounded(&mut self.connectors, key, status.as_str().unwrap_or_default().to_string());
    }

    /// Whether, since its last boot in the run, the station has reported at least `connectors`
    /// connectors (B01.FR.05); true when it has not booted in the run (nothing to wait for).
    pub fn reported_since_boot(&self, connectors: usize) -> bool {
        self.boots == 0 || self.reported_since_boot.len() >= connectors
    }

    /// The connectors that are not Available, as "key status" (the 1.6 charge point, connector
    /// 0, and a 2.x status for EVSE 0 are not connectors a case uses).
    pub fn busy_connectors(&self) -> Vec<String> {
        self.connectors.iter().filter(|(k, s)| !is_station_key(k) && s.as_str() != "Available").map(|(k, s)| format!("{k} {s}")).collect()
    }

    /// What the station is busy with on its own, by its last notifications: a firmware update
    /// or an upload not yet ended ("firmware update (Downloading)").
    pub fn own_work(&self) -> Option<String> {
        if let Some(s) = self.firmware.as_deref().filter(|s| FIRMWARE_GOING_ON.contains(s)) {
            return Some(format!("a firmware update ({s})"));
        }
        self.upload.as_deref().filter(|s| *s == "Uploading").map(|s| format!("an upload ({s})"))
    }

    /// Whether EVSE `evse` (1.6: connector) can take a case while something elsewhere is off:
    /// it reported its connectors, all Available, and has no transaction. A station-wide
    /// Inoperative shows on its connectors too.
    pub fn evse_free(&self, evse: u32) -> bool {
        let on = |key: &str| key.split('/').next().and_then(|e| e.parse::<u32>().ok()) == Some(evse);
        let mine: Vec<&String> = self.connectors.iter().filter(|(k, _)| on(k)).map(|(_, s)| s).collect();
        self.registration.is_accepted() && !mine.is_empty() && mine.iter().all(|s| *s == "Available") && self.transaction_on(evse).is_none()
    }

    /// Whether the station can take a case: registered, nothing charging, nothing inoperative.
    pub fn at_baseline(&self) -> bool {
        self.registration.is_accepted() && self.transactions.is_empty() && self.undo.is_empty()
    }
}

/// Whether a connector key names the station as a whole: 1.6 connector 0, or a 2.x status
/// reported for EVSE 0 (see `deviation`).
pub fn is_station_key(key: &str) -> bool {
    key == "0" || key.starts_with("0/")
}

/// A rule a station's CALL breaks that its schema cannot express.
#[derive(Debug, Clone, PartialEq)]
pub struct Deviation {
    pub clause: &'static str,
    pub expected: String,
    pub observed: String,
}

/// The deviation in a CALL the station sent, if any. 2.x numbers EVSEs and connectors from 1
/// (part 1 §2.3, EVSE and connector numbering); EVSE 0 means the whole station and has no
/// connector whose status could be reported.
pub fn deviation(version: OcppVersion, action: &str, p: &Value) -> Option<Deviation> {
    if version == OcppVersion::V16 || action != "StatusNotification" {
        return None;
    }
    (p["evseId"] == 0 || p["connectorId"] == 0).then(|| Deviation {
        clause: "OCPP 2.x part 1, EVSE and connector numbering (from 1)",
        expected: "StatusNotification for a connector of an EVSE, both numbered from 1".into(),
        observed: format!("StatusNotification for EVSE {} connector {} ({})", p["evseId"], p["connectorId"], p["connectorStatus"].as_str().unwrap_or("?")),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_transactions_seq_no_goes_up_by_one_and_a_repeat_is_no_deviation() {
        let mut m = StationModel::default();
        let ev = |t: &str, seq: i64| json!({"eventType": t, "seqNo": seq, "evse": {"id": 1}, "transactionInfo": {"transactionId": "T"}});
        assert!(m.observe_call(OcppVersion::V201, "TransactionEvent", &ev("Started", 4)).is_none(), "any start (a counter per EVSE)");
        assert!(m.observe_call(OcppVersion::V201, "TransactionEvent", &ev("Updated", 5)).is_none());
        assert!(m.observe_call(OcppVersion::V201, "TransactionEvent", &ev("Updated", 5)).is_none(), "sent again");
        assert!(m.observe_call(OcppVersion::V201, "TransactionEvent", &json!({"eventType": "Ended", "seqNo": 5, "transactionInfo": {"transactionId": "U"}})).is_none(), "another transaction");
        let other = json!({"eventType": "Updated", "triggerReason": "ChargingStateChanged", "seqNo": 5, "evse": {"id": 1}, "transactionInfo": {"transactionId": "T"}});
        assert!(m.observe_call(OcppVersion::V201, "TransactionEvent", &other).is_some(), "another event with the same number is no resend");
        let back = m.observe_call(OcppVersion::V201, "TransactionEvent", &ev("Updated", 0)).expect("restarting at 0");
        assert!(back.expected.contains("seqNo 6") && back.observed.contains("seqNo 0"), "{back:?}");
        assert!(m.observe_call(OcppVersion::V201, "TransactionEvent", &ev("Ended", 8)).is_some(), "one skipped");
        assert!(m.observe_call(OcppVersion::V201, "TransactionEvent", &ev("Started", 0)).is_none(), "a new transaction of the same id starts afresh");
    }

    #[test]
    fn transactions_follow_the_traffic_in_both_dialects() {
        let mut m = StationModel::default();
        m.observe_call(OcppVersion::V201, "BootNotification", &json!({}));
        assert_eq!(m.registration, Registration::Booting);
        m.observe_answer(OcppVersion::V201, "BootNotification", &json!({}), &json!({"status": "Accepted"}));
        assert!(m.registration.is_accepted());
        let started = json!({"eventType": "Started", "evse": {"id": 2}, "transactionInfo": {"transactionId": "T1"}});
        m.observe_call(OcppVersion::V201, "TransactionEvent", &started);
        m.observe_call(OcppVersion::V201, "TransactionEvent", &json!({"eventType": "Updated", "transactionInfo": {"transactionId": "T1"}}));
        assert_eq!(m.transactions.get("T1"), Some(&2));
        m.observe_call(OcppVersion::V201, "TransactionEvent", &json!({"eventType": "Ended", "transactionInfo": {"transactionId": "T1"}}));
        assert!(m.transactions.is_empty());

        let mut m = StationModel::default();
        m.observe_call(OcppVersion::V16, "Heartbeat", &json!({}));
        assert_eq!(m.registration, Registration::AcceptedEarlier, "a station that talks without booting was registered before");
        m.observe_answer(OcppVersion::V16, "StartTransaction", &json!({"connectorId": 1}), &json!({"transactionId": 7}));
        assert_eq!(m.transactions.get("7"), Some(&1));
        m.observe_call(OcppVersion::V16, "StopTransaction", &json!({"transactionId": 7}));
        assert!(m.transactions.is_empty());
        m.observe_call(OcppVersion::V16, "StatusNotification", &json!({"connectorId": 0, "status": "Unavailable"}));
        assert_eq!(m.connectors.get("0").map(String::as_str), Some("Unavailable"));
    }

    /// An update the station runs is work in progress until a status that ends it, and a
    /// reboot in the middle of it (an installation) does not end it.
    #[test]
    fn a_firmware_update_or_upload_is_followed_to_its_end() {
        let mut m = StationModel::default();
        assert_eq!(m.own_work(), None);
        m.observe_call(OcppVersion::V16, "FirmwareStatusNotification", &json!({"status": "Downloading"}));
        assert_eq!(m.own_work().as_deref(), Some("a firmware update (Downloading)"));
        m.observe_call(OcppVersion::V16, "BootNotification", &json!({}));
        assert!(m.own_work().is_some(), "a boot in the middle of an installation does not end it");
        m.observe_call(OcppVersion::V16, "FirmwareStatusNotification", &json!({"status": "Installed"}));
        assert_eq!(m.own_work(), None);
        m.observe_call(OcppVersion::V201, "FirmwareStatusNotification", &json!({"status": "InstallScheduled", "requestId": 1}));
        assert!(m.own_work().is_some());
        m.observe_call(OcppVersion::V201, "FirmwareStatusNotification", &json!({"status": "InvalidSignature", "requestId": 1}));
        m.observe_call(OcppVersion::V201, "LogStatusNotification", &json!({"status": "Uploading", "requestId": 2}));
        assert_eq!(m.own_work().as_deref(), Some("an upload (Uploading)"));
        m.observe_call(OcppVersion::V16, "DiagnosticsStatusNotification", &json!({"status": "UploadFailed"}));
        assert_eq!(m.own_work(), None);
    }

    /// A lost EVSE does not keep cases on another one from running.
    #[test]
    fn an_evse_is_free_when_its_own_connectors_are_available() {
        let mut m = StationModel::default();
        m.observe_call(OcppVersion::V201, "BootNotification", &json!({}));
        m.observe_answer(OcppVersion::V201, "BootNotification", &json!({}), &json!({"status": "Accepted"}));
        let status = |e: u32, c: u32, s: &str| json!({"evseId": e, "connectorId": c, "connectorStatus": s, "timestamp": "2026-01-01T00:00:00Z"});
        assert!(!m.evse_free(1), "nothing reported yet");
        m.observe_call(OcppVersion::V201, "StatusNotification", &status(1, 1, "Available"));
        m.observe_call(OcppVersion::V201, "StatusNotification", &status(2, 1, "Unavailable"));
        assert!(m.evse_free(1) && !m.evse_free(2));
        m.observe_call(OcppVersion::V201, "StatusNotification", &status(2, 2, "Available"));
        assert!(!m.evse_free(2), "one connector of EVSE 2 is still Unavailable");
        m.observe_call(OcppVersion::V201, "TransactionEvent", &json!({"eventType": "Started", "evse": {"id": 1}, "transactionInfo": {"transactionId": "T"}}));
        assert!(!m.evse_free(1), "a transaction goes on at EVSE 1");
        let mut m = StationModel { registration: Registration::Accepted, ..Default::default() };
        m.observe_call(OcppVersion::V16, "StatusNotification", &json!({"connectorId": 1, "status": "Reserved"}));
        m.observe_call(OcppVersion::V16, "StatusNotification", &json!({"connectorId": 2, "status": "Available"}));
        assert!(!m.evse_free(1) && m.evse_free(2));
    }

    /// A DUT that invents ids cannot grow the model without bound.
    #[test]
    fn what_the_dut_fills_is_bounded() {
        let mut m = StationModel::default();
        for i in 0..3 * MAX_ENTRIES {
            let ev = json!({"eventType": "Started", "evse": {"id": 1}, "idToken": {"idToken": format!("T{i}")}, "transactionInfo": {"transactionId": format!("X{i}"), "chargingState": "Charging"}});
            m.observe_call(OcppVersion::V201, "TransactionEvent", &ev);
            m.observe_call(OcppVersion::V201, "StatusNotification", &json!({"evseId": i, "connectorId": 1, "connectorStatus": "Occupied"}));
        }
        assert!(m.transactions.len() == MAX_ENTRIES && m.charging.len() == MAX_ENTRIES && m.tx_tokens.len() == MAX_ENTRIES);
        assert!(m.connectors.len() == MAX_ENTRIES && m.reported_since_boot.len() == MAX_ENTRIES && m.authorized.len() == MAX_ENTRIES);
        let last = format!("T{}", 3 * MAX_ENTRIES - 1);
        assert!(m.authorized_since(m.authorizations - 1, &last) && !m.authorized_since(m.authorizations, &last));
        // A known transaction is still followed when the map is full.
        m.observe_call(OcppVersion::V201, "TransactionEvent", &json!({"eventType": "Ended", "transactionInfo": {"transactionId": "X0"}}));
        assert_eq!(m.transactions.len(), MAX_ENTRIES - 1);
    }

    /// What a station said before a reboot is not what it has after it; a status for EVSE 0 is
    /// flagged and never taken for a connector.
    #[test]
    fn statuses_are_learnt_again_after_a_boot_and_evse_0_is_not_a_connector() {
        let mut m = StationModel::default();
        let status = |e: u32, c: u32, s: &str| json!({"evseId": e, "connectorId": c, "connectorStatus": s, "timestamp": "2026-01-01T00:00:00Z"});
        m.observe_call(OcppVersion::V201, "StatusNotification", &status(1, 1, "Unavailable"));
        m.observe_call(OcppVersion::V201, "StatusNotification", &status(0, 0, "Unavailable"));
        assert_eq!(m.busy_connectors(), vec!["1/1 Unavailable".to_string()]);
        m.observe_call(OcppVersion::V201, "BootNotification", &json!({}));
        assert!(m.busy_connectors().is_empty() && m.connectors.is_empty(), "{:?}", m.connectors);
        m.observe_call(OcppVersion::V201, "StatusNotification", &status(1, 1, "Available"));
        m.observe_call(OcppVersion::V201, "StatusNotification", &status(0, 0, "Unavailable"));
        assert!(m.busy_connectors().is_empty(), "{:?}", m.busy_connectors());
        assert!(deviation(OcppVersion::V201, "StatusNotification", &status(0, 0, "Unavailable")).is_some());
        assert!(deviation(OcppVersion::V201, "StatusNotification", &status(1, 1, "Unavailable")).is_none());
        assert!(deviation(OcppVersion::V16, "StatusNotification", &json!({"connectorId": 0, "status": "Available"})).is_none(), "1.6 connector 0 is the charge point");
        // Availability by NotifyEvent counts as a status.
        let event = json!({"eventData": [{"component": {"name": "Connector", "evse": {"id": 2, "connectorId": 1}}, "variable": {"name": "AvailabilityState"}, "actualValue": "Reserved"}]});
        m.observe_call(OcppVersion::V201, "NotifyEvent", &event);
        assert_eq!(m.busy_connectors(), vec!["2/1 Reserved".to_string()]);
    }

    #[test]
    fn the_oldest_value_of_a_setting_is_kept() {
        let mut m = StationModel::default();
        m.remember(Undo::Configuration { key: "HeartbeatInterval".into(), value: "300".into() });
        m.remember(Undo::Configuration { key: "HeartbeatInterval".into(), value: "1".into() });
        let evse = |id: u32| Undo::Availability { scope: serde_json::json!({"id": id}) };
        m.remember(evse(1));
        m.remember(evse(1));
        m.remember(evse(2));
        assert_eq!(m.undo, vec![Undo::Configuration { key: "HeartbeatInterval".into(), value: "300".into() }, evse(1), evse(2)]);
    }
}

/// Where a 2.x SetVariables request sets `component`.`variable`: the entry's index and value.
pub fn set_by(action: &str, payload: &Value, component: &str, variable: &str) -> Option<(usize, String)> {
    if action != "SetVariables" {
        return None;
    }
    payload["setVariableData"].as_array()?.iter().enumerate().find_map(|(i, d)| {
        (d["component"]["name"] == component && d["variable"]["name"] == variable).then(|| (i, d["attributeValue"].as_str().unwrap_or_default().to_string()))
    })
}
