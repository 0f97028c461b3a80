//! The OCPP 2.0.1 / 2.1 dialect of the reference station: device model variables,
//! TransactionEvent, and the 2.1 additions (tariffs, periodic event streams over SEND).
mod device_model;
pub(super) mod display;
pub(super) mod monitoring;
pub(super) mod metering;
pub(super) mod smart_charging;
mod v2g_certificate;
pub(super) mod ev15118;
pub(super) mod tariff;
pub(super) mod der;
mod bidirectional;
use std::{collections::BTreeMap, time::Duration};

use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Ended, EventStream, Evse, Key, LogRetry, Out, Pilot, Reply, Station, StationConfig, Stop, Trigger, Tx, ok};
use crate::{Fault, variant::Variant};
use ocpp_core::{defaults::now_rfc3339, version::OcppVersion};

pub(super) fn key(k: Key) -> &'static str {
    match k {
        Key::HeartbeatInterval => "OCPPCommCtrlr.HeartbeatInterval",
        Key::MeterInterval => "SampledDataCtrlr.TxUpdatedInterval",
        Key::ConnectionTimeout => "TxCtrlr.EVConnectionTimeOut",
        Key::AuthorizeRemoteStart => "AuthCtrlr.AuthorizeRemoteStart",
        Key::LocalListEnabled => "LocalAuthListCtrlr.Enabled",
        Key::CacheEnabled => "AuthCacheCtrlr.Enabled",
        Key::LocalPreAuthorize => "AuthCtrlr.LocalPreAuthorize",
        Key::LocalAuthorizeOffline => "AuthCtrlr.LocalAuthorizeOffline",
        Key::OfflineTxForUnknownId => "AuthCtrlr.OfflineTxForUnknownIdEnabled",
        Key::ListDisablePostAuthorize => "LocalAuthListCtrlr.DisablePostAuthorize",
    }
}

/// Factory settings: (`Component.Variable`, value, read-only).
pub(super) fn settings(cfg: &StationConfig) -> BTreeMap<String, (String, bool)> {
    let evses = cfg.evses.max(1).to_string();
    let profile = cfg.security.profile.to_string();
    let plain = cfg.variants.contains(&Variant::PlainDisplay);
    [
        ("OCPPCommCtrlr.HeartbeatInterval", "300", false),
        ("OCPPCommCtrlr.MessageTimeout[Default]", "15", false),
        ("OCPPCommCtrlr.FileTransferProtocols", "HTTPS,FTP", true),
        ("OCPPCommCtrlr.NetworkProfileConnectionAttempts", "3", false),
        ("OCPPCommCtrlr.ResetRetries", "2", false),
        ("OCPPCommCtrlr.UnlockOnEVSideDisconnect", "true", false),
        ("ClockCtrlr.TimeSource", "Heartbeat", false),
        ("SecurityCtrlr.OrganizationName", "ocpp-harness", false),
        // ISO 15118 at the OCPP level (the `ev-15118` bench EV): Plug & Charge, contract
        // certificates through the CSMS, local contract validation offline.
        ("ISO15118Ctrlr.PnCEnabled", "true", false),
        ("ISO15118Ctrlr.CentralContractValidationAllowed", "false", false),
        ("ISO15118Ctrlr.ContractValidationOffline", "true", false),
        ("ISO15118Ctrlr.V2GCertificateInstallationEnabled", "true", false),
        ("ISO15118Ctrlr.ContractCertificateInstallationEnabled", "true", false),
        ("ISO15118Ctrlr.SeccId", "ocpp-harness-secc-1", false),
        ("ISO15118Ctrlr.CountryName", "NL", false),
        ("ISO15118Ctrlr.OrganizationName", "ocpp-harness", false),
        ("SecurityCtrlr.CertSigningWaitMinimum", "60", false),
        ("SecurityCtrlr.CertSigningRepeatTimes", "2", false),
        ("TxCtrlr.StopTxOnInvalidId", "true", false),
        ("OCPPCommCtrlr.MessageAttempts[TransactionEvent]", "3", false),
        ("OCPPCommCtrlr.MessageAttemptInterval[TransactionEvent]", "10", false),
        ("OCPPCommCtrlr.OfflineThreshold", "60", false),
        // B04's back-off: doubled after each failed attempt this many times; no random part.
        ("OCPPCommCtrlr.RetryBackOffRepeatTimes", "5", false),
        ("OCPPCommCtrlr.RetryBackOffRandomRange", "0", false),
        ("OCPPCommCtrlr.NetworkConfigurationPriority", "1", false),
        ("SecurityCtrlr.Identity", cfg.station_id.as_str(), true),
        ("SecurityCtrlr.SecurityProfile", profile.as_str(), true),
        ("AuthCtrlr.AuthorizeRemoteStart", if cfg.variants.contains(&Variant::AuthorizeRemoteStart) { "true" } else { "false" }, false),
        ("AuthCtrlr.LocalPreAuthorize", "false", false),
        ("AuthCtrlr.LocalAuthorizeOffline", "true", false),
        ("AuthCacheCtrlr.Enabled", "true", false),
        ("AuthCacheCtrlr.Available", "true", true),
        ("AuthCtrlr.OfflineTxForUnknownIdEnabled", "false", false),
        ("LocalAuthListCtrlr.Available", "true", true),
        ("LocalAuthListCtrlr.Enabled", "true", false),
        ("LocalAuthListCtrlr.Entries", "0", true),
        ("LocalAuthListCtrlr.DisablePostAuthorize", "false", false),
        ("TxCtrlr.EVConnectionTimeOut", "60", false),
        ("TxCtrlr.TxStartPoint", tx_start_point(cfg), false),
        ("TxCtrlr.TxStopPoint", tx_stop_point(cfg), false),
        ("TxCtrlr.StopTxOnEVSideDisconnect", "true", true),
        ("SampledDataCtrlr.TxUpdatedInterval", "0", false),
        ("SampledDataCtrlr.TxUpdatedMeasurands", "Energy.Active.Import.Register", false),
        ("SampledDataCtrlr.TxStartedMeasurands", "Energy.Active.Import.Register", false),
        ("SampledDataCtrlr.TxEndedMeasurands", "Energy.Active.Import.Register", false),
        ("SampledDataCtrlr.TxEndedInterval", "0", false),
        ("AlignedDataCtrlr.Interval", "0", false),
        ("AlignedDataCtrlr.Measurands", "Energy.Active.Import.Register", false),
        ("AlignedDataCtrlr.TxEndedInterval", "0", false),
        ("AlignedDataCtrlr.TxEndedMeasurands", "Energy.Active.Import.Register", false),
        ("AlignedDataCtrlr.SendDuringIdle", "false", false),
        ("DeviceDataCtrlr.ItemsPerMessage[GetReport]", "10", true),
        ("DeviceDataCtrlr.ItemsPerMessage[GetVariables]", "20", true),
        ("DeviceDataCtrlr.ItemsPerMessage[SetVariables]", "20", true),
        ("DeviceDataCtrlr.BytesPerMessage[GetReport]", "65000", true),
        ("DeviceDataCtrlr.BytesPerMessage[GetVariables]", "65000", true),
        ("DeviceDataCtrlr.BytesPerMessage[SetVariables]", "65000", true),
        ("ChargingStation.AvailabilityState", "Available", true),
        ("EVSE.Count", evses.as_str(), true),
        // H01: reservations of any EVSE too (variant evse-specific-reservations: of a named
        // one only, H01.FR.19).
        ("ReservationCtrlr.Available", "true", true),
        ("ReservationCtrlr.Enabled", "true", false),
        ("ReservationCtrlr.NonEvseSpecific", if cfg.variants.contains(&Variant::EvseSpecificReservations) { "false" } else { "true" }, true),
        // K01: profiles in A or W (SC-2.1, SC-2.2).
        ("SmartChargingCtrlr.Available", "true", true),
        ("SmartChargingCtrlr.Enabled", "true", false),
        ("SmartChargingCtrlr.RateUnit", if cfg.variants.contains(&Variant::WattsOnly) { "W" } else { "A,W" }, true),
        ("SmartChargingCtrlr.PeriodsPerSchedule", "24", true),
        ("SmartChargingCtrlr.ProfileStackLevel", "10", true),
        ("SmartChargingCtrlr.LimitChangeSignificance", "1.0", false),
        ("SmartChargingCtrlr.NotifyChargingLimitWithSchedules", "false", false),
        ("SmartChargingCtrlr.Entries[ChargingProfiles]", "0", true),
        // N02-N06: monitors of every severity reported until the CSMS sets a level.
        ("MonitoringCtrlr.Available", "true", true),
        ("MonitoringCtrlr.Enabled", "true", false),
        ("MonitoringCtrlr.ActiveMonitoringLevel", "9", true),
        ("MonitoringCtrlr.ItemsPerMessage[ClearVariableMonitoring]", "8", true),
        ("MonitoringCtrlr.ItemsPerMessage[SetVariableMonitoring]", "8", true),
        // O01: every priority and most formats (variant plain-display: fewer).
        ("DisplayMessageCtrlr.Available", "true", true),
        ("DisplayMessageCtrlr.Enabled", "true", false),
        ("DisplayMessageCtrlr.DisplayMessages", "0", true),
        ("DisplayMessageCtrlr.SupportedPriorities", if plain { "InFront,NormalCycle" } else { "AlwaysFront,InFront,NormalCycle" }, true),
        ("DisplayMessageCtrlr.SupportedFormats", if plain { "ASCII,UTF8" } else { "ASCII,HTML,URI,UTF8" }, true),
    ]
    .into_iter()
    .map(|(k, v, ro)| (k.to_string(), (v.to_string(), ro)))
    .chain(tariff::variables(&cfg.variants).into_iter().chain(der::variables(&cfg.variants)).chain(bidirectional::variables(cfg)).filter(|_| cfg.version == OcppVersion::V21).map(|(k, v, ro)| (k.to_string(), (v, ro))))
    .collect()
}

/// The factory TxStartPoint, as the variant has it.
fn tx_start_point(cfg: &StationConfig) -> &'static str {
    if cfg.variants.contains(&Variant::TxStartPowerPath) {
        "PowerPathClosed"
    } else if cfg.variants.contains(&Variant::TxStartAuthorized) {
        "Authorized"
    } else {
        "EVConnected,Authorized"
    }
}

/// The factory TxStopPoint, as the variant has it: with `tx-stop-ev-disconnected` only the
/// EV leaving ends a transaction, the driver's token or a remote stop only its authorization.
fn tx_stop_point(cfg: &StationConfig) -> &'static str {
    if cfg.variants.contains(&Variant::TxStopEvDisconnected) { "EVConnected" } else { "EVConnected,Authorized" }
}

/// The value `key` had at the factory (`current` for a variable the station made since).
pub(super) fn factory_value(st: &Station, key: &str, current: &str) -> String {
    settings(&st.cfg).get(key).map(|(v, _)| v.clone()).unwrap_or_else(|| current.to_string())
}

/// `Component.Variable`, or `Component.Variable[instance]` for a variable instance.
fn component_key(d: &Value) -> String {
    let key = format!("{}.{}", d["component"]["name"].as_str().unwrap_or(""), d["variable"]["name"].as_str().unwrap_or(""));
    match d["variable"]["instance"].as_str() {
        Some(i) => format!("{key}[{i}]"),
        None => key,
    }
}

/// The device model's component and variable of a settings key (see `component_key`).
pub(super) fn key_parts(k: &str) -> (Value, Value) {
    let (c, var) = k.split_once('.').unwrap_or((k, ""));
    let variable = match var.strip_suffix(']').and_then(|v| v.split_once('[')) {
        Some((name, instance)) => json!({"name": name, "instance": instance}),
        None => json!({"name": var}),
    };
    (json!({"name": c}), variable)
}

/// Whether a transaction starts now, by `TxCtrlr.TxStartPoint`.
pub(super) fn starts(st: &Station, i: usize) -> bool {
    let e = &st.evses[i];
    let points = st.settings.get("TxCtrlr.TxStartPoint").map(|(v, _)| v.as_str()).unwrap_or("");
    points.split(',').map(str::trim).any(|p| match p {
        "Authorized" => e.auth.is_some(),
        "EVConnected" | "ParkingBayOccupancy" => e.plugged,
        "PowerPathClosed" | "EnergyTransfer" => e.plugged && e.auth.is_some(),
        _ => false,
    })
}

/// Whether ending the authorization ends the transaction: TxStopPoint has Authorized, or a
/// point that goes with it (the power path opens, the energy stops).
pub(super) fn authorization_is_a_stop_point(st: &Station) -> bool {
    let points = st.settings.get("TxCtrlr.TxStopPoint").map(|(v, _)| v.as_str()).unwrap_or("");
    points.split(',').map(str::trim).any(|p| matches!(p, "Authorized" | "PowerPathClosed" | "EnergyTransfer"))
}

pub(super) fn status_of(e: &Evse) -> &'static str {
    if !e.operative && e.tx.is_none() {
        "Unavailable"
    } else if matches!(e.pilot, Pilot::E | Pilot::F) || e.fault.is_some() {
        "Faulted"
    } else if e.plugged || e.tx.is_some() {
        "Occupied"
    } else if e.reservation.is_some() {
        "Reserved"
    } else {
        "Available"
    }
}

/// A spare connector (variant `two-evses`): never cabled, it shows its EVSE's availability.
pub(super) fn spare_status_of(e: &Evse) -> &'static str {
    if e.operative { "Available" } else { "Unavailable" }
}

pub(super) fn status(e: &Evse, connector: u32, status: &str) -> Out {
    Out::call("StatusNotification", json!({"timestamp": now_rfc3339(), "connectorStatus": status, "evseId": e.id, "connectorId": connector}))
}

/// A connector's status as its AvailabilityState in a NotifyEvent (the device-model way of
/// reporting it, part 2 G01 / B01.FR.05).
pub(super) fn availability_event(e: &Evse, connector: u32, status: &str, event_id: i64) -> Out {
    let now = now_rfc3339();
    Out::call(
        "NotifyEvent",
        json!({"generatedAt": now, "seqNo": 0, "eventData": [{
            "eventId": event_id, "timestamp": now, "trigger": "Delta", "actualValue": status,
            "eventNotificationType": "HardWiredNotification",
            "component": {"name": "Connector", "evse": {"id": e.id, "connectorId": connector}},
            "variable": {"name": "AvailabilityState"}
        }]}),
    )
}

pub(super) fn boot(st: &Station) -> Value {
    json!({
        "reason": st.boot_reason,
        "chargingStation": {"model": "RefStation", "vendorName": "ocpp-harness", "firmwareVersion": env!("CARGO_PKG_VERSION")}
    })
}

fn charging_state(e: &Evse, tx: &Tx) -> &'static str {
    if !e.plugged {
        "Idle"
    } else if tx.charging {
        "Charging"
    } else if tx.auth.is_some() && tx.stopped.is_none() {
        "SuspendedEV"
    } else {
        "EVConnected"
    }
}

fn trigger_name(t: Trigger) -> &'static str {
    match t {
        Trigger::Authorized => "Authorized",
        Trigger::CablePluggedIn => "CablePluggedIn",
        Trigger::RemoteStart => "RemoteStart",
        Trigger::ChargingStateChanged => "ChargingStateChanged",
        Trigger::MeterValuePeriodic => "MeterValuePeriodic",
        Trigger::StopAuthorized => "StopAuthorized",
        Trigger::RemoteStop => "RemoteStop",
        Trigger::ChargingRateChanged => "ChargingRateChanged",
        Trigger::TariffChanged => "TariffChanged",
    }
}

pub(super) fn meter_value(e: &Evse, context: &str) -> Value {
    json!([{"timestamp": now_rfc3339(), "sampledValue": [{
        "value": (e.energy_wh * 10.0).round() / 10.0, "context": context,
        "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}
    }]}])
}

/// A TransactionEvent for EVSE `i`'s transaction (taken from `tx` when it already ended).
fn event(st: &mut Station, i: usize, event_type: &str, trigger: &str, tx: &mut Tx, extra: Value) -> Out {
    let e = &st.evses[i];
    let mut info = json!({"transactionId": tx.id, "chargingState": charging_state(e, tx)});
    let mut p = json!({
        "eventType": event_type, "timestamp": now_rfc3339(), "triggerReason": trigger, "seqNo": tx.seq_no,
        "transactionInfo": info.take(), "evse": {"id": e.id, "connectorId": 1},
    });
    // Fault restart-seq-no: the Ended event's counter starts again at 0 (E01.FR.07).
    if event_type == "Ended" && st.cfg.faults.has(&Fault::RestartSeqNo) {
        p["seqNo"] = json!(0);
    }
    tx.seq_no += 1;
    if !st.online {
        p["offline"] = json!(true);
    }
    if let Value::Object(m) = extra {
        for (k, v) in m {
            if k == "transactionInfo" {
                for (ik, iv) in v.as_object().into_iter().flatten() {
                    p["transactionInfo"][ik] = iv.clone();
                }
            } else {
                p[k] = v;
            }
        }
    }
    tariff::annotate(st, tx, st.evses[i].energy_wh, &mut p);
    Out::tx("TransactionEvent", p)
}

fn token_json(tx: &Tx) -> Option<Value> {
    tx.auth.as_ref().map(|a| json!({"idToken": a.token, "type": a.token_type}))
}

pub(super) fn tx_started(st: &mut Station, i: usize, trigger: Trigger) -> Vec<Out> {
    smart_charging::bind_remote(st, i);
    let cost = tariff::bind(st, i);
    let mut tx = st.evses[i].tx.take().expect("a transaction just started");
    tx.cost = cost;
    let mut extra = json!({"meterValue": meter_value(&st.evses[i], "Transaction.Begin")});
    if let Some(t) = token_json(&tx) {
        extra["idToken"] = t;
    }
    if let Some(r) = tx.auth.as_ref().and_then(|a| a.remote_start_id) {
        extra["transactionInfo"] = json!({"remoteStartId": r});
    }
    if let Some(r) = tx.auth.as_mut().and_then(|a| a.reservation_id.take()) {
        extra["reservationId"] = json!(r);
    }
    let out = event(st, i, "Started", trigger_name(trigger), &mut tx, extra);
    st.evses[i].tx = Some(tx);
    vec![out]
}

pub(super) fn tx_updated(st: &mut Station, i: usize, trigger: Trigger) -> Out {
    let mut tx = st.evses[i].tx.take().expect("a transaction is ongoing");
    let mut extra = json!({});
    match trigger {
        Trigger::MeterValuePeriodic => extra["meterValue"] = meter_value(&st.evses[i], "Sample.Periodic"),
        Trigger::StopAuthorized => {
            if let Some(t) = token_json(&tx) {
                extra["idToken"] = t;
            }
        }
        Trigger::Authorized | Trigger::RemoteStart => {
            if let Some(t) = token_json(&tx) {
                extra["idToken"] = t;
            }
            if let Some(r) = tx.auth.as_ref().and_then(|a| a.remote_start_id) {
                extra["transactionInfo"] = json!({"remoteStartId": r});
            }
            if let Some(r) = tx.auth.as_mut().and_then(|a| a.reservation_id.take()) {
                extra["reservationId"] = json!(r);
            }
        }
        _ => {}
    }
    let out = event(st, i, "Updated", trigger_name(trigger), &mut tx, extra);
    st.evses[i].tx = Some(tx);
    out
}

pub(super) fn tx_ended(st: &mut Station, i: usize, tx: &Tx, why: Stop) -> Out {
    let (trigger, reason) = match (why, tx.stopped) {
        // The EV left a transaction whose authorization had ended: the reason is what began
        // ending it (part 2 stoppedReason; F04.FR.03).
        (Stop::EvDisconnected, Some(Stop::Remote)) => ("EVCommunicationLost", "Remote"),
        (Stop::EvDisconnected, Some(Stop::ByEv)) => ("EVCommunicationLost", "StoppedByEV"),
        (Stop::EvDisconnected, Some(_)) => ("EVCommunicationLost", "Local"),
        (Stop::Local, _) => ("StopAuthorized", "Local"),
        // E15.FR.04: the EV ended the charging.
        (Stop::ByEv, _) => ("StopAuthorized", "StoppedByEV"),
        (Stop::Remote, _) => ("RemoteStop", "Remote"),
        (Stop::EvDisconnected, _) => ("EVCommunicationLost", "EVDisconnected"),
        (Stop::PowerLoss, _) => ("AbnormalCondition", "PowerLoss"),
        (Stop::Reset(true), _) => ("ResetCommand", "ImmediateReset"),
        (Stop::Reset(false), _) => ("ResetCommand", "Reboot"),
        (Stop::Unlock, _) => ("UnlockCommand", "Other"),
        (Stop::Timeout, _) => ("EVConnectTimeout", "Timeout"),
        (Stop::DeAuthorized, _) => ("Deauthorized", "DeAuthorized"),
        (Stop::Fault(super::EvFault::RcdTrip), _) => ("AbnormalCondition", "GroundFault"),
        (Stop::Fault(_), _) => ("AbnormalCondition", "Other"),
    };
    let mut tx = tx.clone();
    let mut values = tx.ended_values.clone();
    if !metering::measurands(st, "SampledDataCtrlr.TxEndedMeasurands").is_empty() {
        values.extend(meter_value(&st.evses[i], "Transaction.End").as_array().cloned().unwrap_or_default());
    }
    let mut extra = json!({"transactionInfo": {"stoppedReason": reason}});
    if !values.is_empty() {
        extra["meterValue"] = json!(values);
    }
    if why == Stop::Local {
        if let Some(t) = token_json(&tx) {
            extra["idToken"] = t;
        }
    }
    let mut out = event(st, i, "Ended", trigger, &mut tx, extra);
    out.payload["transactionInfo"]["chargingState"] = json!(if st.evses[i].plugged { "EVConnected" } else { "Idle" });
    out
}

/// 2.1 periodic event streams: one SEND per interval.
/// How long a simulated log upload takes.
pub(super) const UPLOAD_TIME: Duration = Duration::from_millis(800);

/// F06.FR.14/15 (1.6 ExtendedTriggerMessage alike): Uploading with its request while an
/// upload goes on, else Idle.
pub(super) fn log_status(st: &Station) -> Value {
    match st.log_upload {
        Some((id, _)) => json!({"status": "Uploading", "requestId": id}),
        None => json!({"status": "Idle"}),
    }
}

/// GetLog (N01; 1.6 security whitepaper alike): the answer. The upload is simulated: it
/// succeeds after a moment, unless the location's host is one that cannot exist (RFC 2606
/// `.invalid`); then every attempt fails.
pub(super) fn get_log(st: &mut Station, p: &Value) -> Value {
    let id = p["requestId"].as_i64().unwrap_or(0);
    let location = p["log"]["remoteLocation"].as_str().unwrap_or_default();
    let unreachable = super::unreachable(location);
    st.enqueue(Out::call("LogStatusNotification", json!({"status": "Uploading", "requestId": id})));
    if unreachable {
        st.enqueue(Out::call("LogStatusNotification", json!({"status": "UploadFailure", "requestId": id})));
    } else {
        // The upload takes a moment (a TriggerMessage then finds it Uploading).
        st.log_upload = Some((id, Instant::now() + UPLOAD_TIME));
    }
    let retries = p["retries"].as_u64().unwrap_or(0) as u32;
    if unreachable && retries > 0 {
        let interval = Duration::from_secs(p["retryInterval"].as_u64().unwrap_or(0));
        st.log_retries.push(LogRetry { request_id: id, next: Instant::now() + interval, left: retries, interval });
    }
    json!({"status": "Accepted", "filename": format!("{}-{id}.log", p["logType"].as_str().unwrap_or("log"))})
}

/// A log upload that finished, and failed ones tried again: each attempt reports Uploading,
/// then UploadFailure.
pub(super) fn log_retry_tick(st: &mut Station, now: Instant) {
    if let Some((id, _)) = st.log_upload.take_if(|(_, done)| *done <= now) {
        st.enqueue(Out::call("LogStatusNotification", json!({"status": "Uploaded", "requestId": id})));
    }
    let mut due = vec![];
    for u in st.log_retries.iter_mut().filter(|u| u.next <= now) {
        u.left -= 1;
        u.next = now + u.interval;
        due.push(u.request_id);
    }
    st.log_retries.retain(|u| u.left > 0);
    for id in due {
        for status in ["Uploading", "UploadFailure"] {
            st.enqueue(Out::call("LogStatusNotification", json!({"status": status, "requestId": id})));
        }
    }
}

pub(super) fn stream_tick(st: &mut Station, now: Instant) {
    let online = st.online;
    let energy = st.evses.first().map(|e| e.energy_wh).unwrap_or(0.0);
    let mut due = vec![];
    for s in st.streams.iter_mut().filter(|s| s.next <= now) {
        s.next = now + s.interval;
        s.sent += 1;
        due.push(json!({"id": s.id, "pending": 0, "basetime": now_rfc3339(), "data": [{"t": 0, "v": format!("{energy:.1}")}]}));
    }
    if online {
        for p in due {
            st.outbox.push_back(Out { action: "NotifyPeriodicEventStream".into(), payload: p, attempts: 0, persistent: false, send_frame: true });
        }
    }
}

pub(super) fn find_tx(st: &Station, id: &str) -> Option<usize> {
    st.evses.iter().position(|e| e.tx.as_ref().is_some_and(|t| t.id == id))
}

/// Answer a CALL from the CSMS; the second value ends the connection (reset).
pub(super) fn on_call(st: &mut Station, action: &str, p: &Value) -> (Reply, Option<Ended>) {
    let v21 = st.cfg.version == OcppVersion::V21;
    match action {
        // B02.FR.05: not while the registration is Pending.
        "RequestStartTransaction" | "RequestStopTransaction" if !st.booted => ok(json!({"status": "Rejected"})),
        "RequestStartTransaction" => {
            let evse = p["evseId"].as_u64().map(|e| e as u32).unwrap_or(1);
            let Some(i) = st.evse_index(evse) else { return ok(json!({"status": "Rejected"})) };
            let e = &st.evses[i];
            if e.tx.as_ref().is_some_and(|t| t.auth.is_some()) || !e.operative || e.auth.is_some() {
                return ok(json!({"status": "Rejected"}));
            }
            let token = p["idToken"]["idToken"].as_str().unwrap_or("").to_string();
            // An EVSE reserved for another token is not for this one (H03.FR.01; TC_H_02_CS).
            if !super::reservation::free_for(st, i, &token) {
                return ok(json!({"status": "Rejected"}));
            }
            // K05.FR.02 / F01.FR.11: a TxProfile without a transactionId, else Rejected (K05.FR.05).
            if let Some(profile) = p.get("chargingProfile") {
                if !smart_charging::remote_profile(st, evse, profile) {
                    return ok(json!({"status": "Rejected", "statusInfo": {"reasonCode": "InvalidProfile"}}));
                }
            }
            let e = &st.evses[i];
            let remote_id = p["remoteStartId"].as_i64().unwrap_or(0);
            // Starting the transaction queues its messages after this answer.
            let ongoing = e.tx.as_ref().map(|t| t.id.clone());
            st.remote_start(&token, evse, remote_id);
            let mut r = json!({"status": "Accepted"});
            if let Some(id) = ongoing {
                r["transactionId"] = json!(id);
            }
            ok(r)
        }
        "ReserveNow" | "CancelReservation" => ok(super::reservation::on_call(st, action, p).unwrap_or_default()),
        // O01-O06 (see `display`).
        "SetDisplayMessage" | "GetDisplayMessages" | "ClearDisplayMessage" => ok(display::on_call(st, action, p).unwrap_or_default()),
        // N02-N06 (see `monitoring`).
        "SetVariableMonitoring" | "GetMonitoringReport" | "ClearVariableMonitoring" | "SetMonitoringBase" | "SetMonitoringLevel" => {
            ok(monitoring::on_call(st, action, p).unwrap_or_default())
        }
        "RequestStopTransaction" => {
            let found = p["transactionId"].as_str().and_then(|id| find_tx(st, id));
            super::remote_stop(st, found)
        }
        "GetTransactionStatus" => {
            // Sent but not confirmed counts as queued too.
            let queued = st.outbox.iter().any(|o| o.persistent) || st.pending.as_ref().is_some_and(|p| p.out.persistent);
            let mut r = json!({"messagesInQueue": queued});
            if let Some(id) = p["transactionId"].as_str() {
                r["ongoingIndicator"] = json!(find_tx(st, id).is_some());
            }
            ok(r)
        }
        "GetVariables" => {
            let results: Vec<Value> = p["getVariableData"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| {
                    let k = component_key(d);
                    let mut r = json!({"component": d["component"], "variable": d["variable"]});
                    if let Some(t) = d.get("attributeType") {
                        r["attributeType"] = t.clone();
                    }
                    match st.settings.get(&k).filter(|_| exposed(st, &k)) {
                        // Only the Actual value exists (B06.FR.08).
                        Some(_) if !actual(d) => r["attributeStatus"] = json!("NotSupportedAttributeType"),
                        Some((val, _)) => {
                            r["attributeStatus"] = json!("Accepted");
                            r["attributeValue"] = json!(val);
                        }
                        None if known_component(st, d) => r["attributeStatus"] = json!("UnknownVariable"),
                        None => r["attributeStatus"] = json!("UnknownComponent"),
                    }
                    r
                })
                .collect();
            ok(json!({"getVariableResult": results}))
        }
        // Certificate management (M): roots the CSMS installs, listed and deleted by hash data.
        "InstallCertificate" => {
            let kind = p["certificateType"].as_str().unwrap_or_default();
            match super::roots::install(st, kind, p["certificate"].as_str().unwrap_or_default(), kind == "CSMSRootCertificate") {
                true => ok(json!({"status": "Accepted"})),
                false => ok(json!({"status": "Rejected", "statusInfo": {"reasonCode": "InvalidCertificate"}})),
            }
        }
        "GetInstalledCertificateIds" => {
            let wanted: Vec<&str> = p["certificateType"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            let mut chain: Vec<Value> = st
                .certificates
                .iter()
                .filter(|(k, _)| wanted.is_empty() || wanted.contains(&k.as_str()))
                .map(|(k, h)| json!({"certificateType": k, "certificateHashData": h}))
                .collect();
            if wanted.is_empty() || wanted.contains(&"V2GCertificateChain") {
                chain.extend(v2g_certificate::listed(st));
            }
            if chain.is_empty() { ok(json!({"status": "NotFound"})) } else { ok(json!({"status": "Accepted", "certificateHashDataChain": chain})) }
        }
        "DeleteCertificate" => ok(json!({"status": super::own_certificate::delete(st, &p["certificateHashData"])})),
        // A02/A03: the certificate for the key of the last CSR (SignChargingStationCertificate).
        "CertificateSigned" if p["certificateType"] == "V2GCertificate" => {
            let taken = v2g_certificate::signed(st, p["certificateChain"].as_str().unwrap_or_default());
            ok(json!({"status": if taken { "Accepted" } else { "Rejected" }}))
        }
        "CertificateSigned" => {
            let taken = super::own_certificate::signed(st, p["certificateChain"].as_str().unwrap_or_default(), "InvalidChargingStationCertificate");
            ok(json!({"status": if taken { "Accepted" } else { "Rejected" }}))
        }
        "SetVariables" => {
            let before = st.cfg.security.basic.clone();
            let results: Vec<Value> = p["setVariableData"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| {
                    let status = set_variable(st, d);
                    // The attributeType asked for (B05.FR.03), Actual where none was (B05.FR.12).
                    let kind = d.get("attributeType").cloned().unwrap_or_else(|| json!("Actual"));
                    json!({"component": d["component"], "variable": d["variable"], "attributeType": kind, "attributeStatus": status})
                })
                .collect();
            // A new Basic-auth password takes effect on a new connection (A01).
            let rotated = st.cfg.security.basic != before;
            (Ok(json!({"setVariableResult": results})), rotated.then_some(Ended::Reconnect))
        }
        "GetBaseReport" | "GetReport" => {
            let request_id = p["requestId"].as_i64().unwrap_or(0);
            let data = if action == "GetReport" {
                match device_model::custom_report(st, p) {
                    Ok(data) => data,
                    Err(status) => return (Ok(json!({"status": status})), None),
                }
            } else {
                device_model::report(st)
            };
            let chunks: Vec<&[Value]> = data.chunks(10).collect();
            for (n, chunk) in chunks.iter().enumerate() {
                st.enqueue(Out::call(
                    "NotifyReport",
                    json!({"requestId": request_id, "generatedAt": now_rfc3339(), "seqNo": n, "tbc": n + 1 < chunks.len(), "reportData": chunk}),
                ));
            }
            ok(json!({"status": "Accepted"}))
        }
        "Reset" => {
            let immediate = p["type"] == "Immediate";
            if st.idle() {
                return (Ok(json!({"status": "Accepted"})), Some(Ended::Reboot));
            }
            if immediate {
                for i in 0..st.evses.len() {
                    st.end_tx(i, Stop::Reset(true));
                }
                st.reset_when_idle = true;
                return ok(json!({"status": "Accepted"}));
            }
            st.reset_when_idle = true;
            ok(json!({"status": "Scheduled"}))
        }
        "ChangeAvailability" => {
            // Connector 1 (the cabled one) stands for its EVSE; a spare connector too.
            let spares = p["evse"]["id"].as_u64().and_then(|id| st.evse_index(id as u32)).map_or(0, |i| st.evses[i].spare_connectors);
            if p["evse"].get("connectorId").and_then(Value::as_u64).is_some_and(|c| c == 0 || c > u64::from(1 + spares)) {
                return ok(json!({"status": "Rejected"}));
            }
            let status = st.change_availability(p["evse"]["id"].as_u64().unwrap_or(0) as u32, p["operationalStatus"] == "Operative");
            ok(json!({"status": status}))
        }
        "UnlockConnector" if st.cfg.variants.contains(&crate::variant::Variant::NoConnectorLock) => (Err(("NotImplemented", "this station's connectors have no lock".into())), None),
        "UnlockConnector" => match st.evse_index(p["evseId"].as_u64().unwrap_or(0) as u32) {
            Some(i) if st.evses[i].tx.as_ref().is_some_and(|t| t.auth.is_some()) => ok(json!({"status": "OngoingAuthorizedTransaction"})),
            Some(_) if p["connectorId"] == 1 => ok(json!({"status": "Unlocked"})),
            _ => ok(json!({"status": "UnknownConnector"})),
        },
        "TriggerMessage"
            if st.cfg.variants.contains(&Variant::FewTriggers)
                && matches!(p["requestedMessage"].as_str(), Some("MeterValues" | "TransactionEvent" | "LogStatusNotification")) =>
        {
            ok(json!({"status": "NotImplemented"}))
        }
        "TriggerMessage" => {
            let evse = p["evse"]["id"].as_u64().map(|e| e as u32);
            let accepted = match p["requestedMessage"].as_str().unwrap_or("") {
                // F06.FR.17: once accepted there is nothing to boot for; while Pending the
                // station boots again at once.
                "BootNotification" => {
                    if st.booted {
                        false
                    } else {
                        let mut b = boot(st);
                        b["reason"] = json!("Triggered");
                        st.outbox.push_front(Out::call("BootNotification", b));
                        st.retry_boot = None;
                        true
                    }
                }
                "Heartbeat" => {
                    st.enqueue(Out::call("Heartbeat", json!({})));
                    true
                }
                // A02.FR.02/03: a new key pair, its CSR in a SignCertificate.
                "SignChargingStationCertificate" => {
                    let organization = st.settings.get("SecurityCtrlr.OrganizationName").map(|(v, _)| v.clone()).unwrap_or_default();
                    match super::own_certificate::request(st, &organization) {
                        Some(csr) => {
                            st.enqueue(Out::call("SignCertificate", json!({"csr": csr, "certificateType": "ChargingStationCertificate"})));
                            true
                        }
                        None => false,
                    }
                }
                // A02.FR.13: a CSR for the V2G certificate, of that type.
                "SignV2GCertificate" => match v2g_certificate::request(st) {
                    Some(payload) => {
                        st.enqueue(Out::call("SignCertificate", payload));
                        true
                    }
                    None => false,
                },
                // F06.FR.14/15: Uploading (with its request) while an upload goes on, else Idle.
                "LogStatusNotification" => {
                    let m = log_status(st);
                    st.enqueue(Out::call("LogStatusNotification", m));
                    true
                }
                // F06.FR.16, L01.FR.25/26: Idle, or the status of the update going on.
                "FirmwareStatusNotification" => {
                    let m = super::firmware::signed_status(st);
                    st.enqueue(Out::call("FirmwareStatusNotification", m));
                    true
                }
                "StatusNotification" => {
                    let targets: Vec<usize> = match evse {
                        Some(id) => st.evse_index(id).into_iter().collect(),
                        None => (0..st.evses.len()).collect(),
                    };
                    // What was asked for is a StatusNotification, whichever way the station
                    // reports on its own.
                    let connector = p["evse"]["connectorId"].as_u64().map(|c| c as u32);
                    for &i in &targets {
                        let e = &st.evses[i];
                        let all: Vec<(u32, &str)> =
                            std::iter::once((1, status_of(e))).chain((2..=1 + e.spare_connectors).map(|c| (c, spare_status_of(e)))).collect();
                        for (c, s) in all.into_iter().filter(|(c, _)| connector.is_none_or(|want| want == *c)) {
                            let m = status(&st.evses[i], c, s);
                            st.enqueue(m);
                        }
                    }
                    !targets.is_empty()
                }
                // F06.FR.11: without an EVSE, one for every EVSE.
                "MeterValues" => {
                    let targets: Vec<usize> = match evse {
                        Some(id) => st.evse_index(id).into_iter().collect(),
                        None => (0..st.evses.len()).collect(),
                    };
                    for &i in &targets {
                        st.advance_meter(i);
                        let m = Out::call("MeterValues", json!({"evseId": st.evses[i].id, "meterValue": meter_value(&st.evses[i], "Trigger")}));
                        st.enqueue(m);
                    }
                    !targets.is_empty()
                }
                "TransactionEvent" => {
                    let targets: Vec<usize> = match evse {
                        Some(id) => st.evse_index(id).into_iter().collect(),
                        None => (0..st.evses.len()).collect(),
                    };
                    let targets: Vec<usize> = targets.into_iter().filter(|&i| st.evses[i].tx.is_some()).collect();
                    for &i in &targets {
                        st.advance_meter(i);
                        let mut m = tx_updated(st, i, Trigger::MeterValuePeriodic);
                        m.payload["triggerReason"] = json!("Trigger");
                        m.payload["meterValue"] = meter_value(&st.evses[i], "Trigger");
                        st.enqueue(m);
                    }
                    !targets.is_empty()
                }
                _ => return ok(json!({"status": "NotImplemented"})),
            };
            ok(json!({"status": if accepted { "Accepted" } else { "Rejected" }}))
        }
        "GetLog" => ok(get_log(st, p)),
        "CustomerInformation" => {
            let id = p["requestId"].as_i64().unwrap_or(0);
            let who = p["customerIdentifier"].as_str().or(p["idToken"]["idToken"].as_str()).unwrap_or("unknown").to_string();
            let mut data = vec![];
            if p["report"] == true {
                data.push(format!("no stored data for {who}"));
            }
            if p["clear"] == true {
                // Customer data is what the cache holds; the local list is the CSMS's (N10).
                st.auth_cache.remove(&who);
                data.push(format!("customer data of {who} cleared"));
            }
            if !data.is_empty() {
                st.enqueue(Out::call("NotifyCustomerInformation", json!({"data": data.join("; "), "seqNo": 0, "generatedAt": now_rfc3339(), "requestId": id, "tbc": false})));
            }
            ok(json!({"status": "Accepted"}))
        }
        "UpdateFirmware" => ok(super::firmware::update(st, p)),
        "SetNetworkProfile" => {
            // Slots 1 and 2 exist (NetworkConfigurationPriority lists the ones in use).
            let slot = p["configurationSlot"].as_i64().unwrap_or(0);
            if !(1..=2).contains(&slot) {
                return ok(json!({"status": "Rejected"}));
            }
            // Never below the profile in force (B09.FR.04).
            let current = i64::from(st.cfg.security.profile);
            if p["connectionData"]["securityProfile"].as_i64().is_some_and(|asked| asked < current) && !st.cfg.faults.has(&Fault::AcceptDowngrade) {
                return ok(json!({"status": "Rejected"}));
            }
            st.network_profiles.insert(slot, p["connectionData"].clone());
            ok(json!({"status": "Accepted"}))
        }
        "ClearCache" => ok(json!({"status": st.clear_cache()})),
        // K01, K08-K10 (see `smart_charging`).
        // The EVs draw what the new profiles allow from now on (the bench meter follows).
        // Q09.FR.01, Q10.FR.02 (see `bidirectional`).
        "SetChargingProfile" if let Some(reason) = bidirectional::refused(st, p).filter(|_| v21) => ok(json!({"status": "Rejected", "statusInfo": {"reasonCode": reason}})),
        "AFRRSignal" if v21 && !st.cfg.variants.contains(&Variant::NoV2x) => ok(bidirectional::afrr_signal(st)),
        "SetChargingProfile" | "ClearChargingProfile" => {
            st.advance_meters();
            let status = if action == "SetChargingProfile" { smart_charging::set(st, p) } else { smart_charging::clear(st, p) };
            st.advance_meters();
            if action == "SetChargingProfile" && status == "Accepted" {
                ev15118::profile_set(st, p["evseId"].as_u64().unwrap_or(0) as u32, &p["chargingProfile"]);
            }
            ok(json!({"status": status}))
        }
        "GetChargingProfiles" => ok(smart_charging::get(st, p)),
        "GetCompositeSchedule" => ok(smart_charging::composite(st, p)),
        "SendLocalList" => {
            let entries = p["localAuthorizationList"].as_array().into_iter().flatten();
            let entries = entries
                .map(|en| {
                    let info = &en["idTokenInfo"];
                    let token = en["idToken"]["idToken"].as_str().unwrap_or("").to_string();
                    (token, info["status"].as_str().map(str::to_string), info["groupIdToken"]["idToken"].as_str().map(str::to_string))
                })
                .collect();
            let status = st.update_local_list(p["updateType"] == "Full", p["versionNumber"].as_i64().unwrap_or(0), entries);
            let n = st.local_list.len().to_string();
            st.settings.insert("LocalAuthListCtrlr.Entries".into(), (n, true));
            ok(json!({"status": status}))
        }
        // D02.FR.03: no list while the list is switched off.
        "GetLocalListVersion" => ok(json!({"versionNumber": if st.enabled(Key::LocalListEnabled) { st.local_list_version } else { 0 }})),
        "DataTransfer" => match p["vendorId"].as_str() {
            Some("ocpp-harness") => ok(json!({"status": "Accepted", "data": p.get("data").cloned().unwrap_or(Value::Null)})),
            _ => ok(json!({"status": "UnknownVendorId"})),
        },
        // I07-I11 (see `tariff`).
        "SetDefaultTariff" | "GetTariffs" | "ClearTariffs" | "ChangeTransactionTariff" if v21 => (tariff::on_call(st, action, p).unwrap_or_else(|| Ok(json!({}))), None),
        // R04 (see `der`).
        "SetDERControl" | "GetDERControl" | "ClearDERControl" if v21 => (der::on_call(st, action, p).unwrap_or_else(|| Ok(json!({}))), None),
        // I02.FR.02: the running cost is for the driver's display; the answer is empty.
        "CostUpdated" => ok(json!({})),
        "OpenPeriodicEventStream" if v21 => {
            let id = p["constantStreamData"]["id"].as_i64().unwrap_or(0);
            let interval = p["constantStreamData"]["params"]["interval"].as_u64().unwrap_or(1).max(1);
            st.streams.retain(|s| s.id != id);
            st.streams.push(EventStream { id, interval: Duration::from_secs(interval), next: Instant::now() + Duration::from_secs(interval), sent: 0 });
            ok(json!({"status": "Accepted"}))
        }
        "ClosePeriodicEventStream" if v21 => {
            let id = p["id"].as_i64().unwrap_or(-1);
            st.streams.retain(|s| s.id != id);
            ok(json!({}))
        }
        _ => (Err(("NotSupported", format!("{action} is not supported by this station"))), None),
    }
}

fn known_component(st: &Station, d: &Value) -> bool {
    let c = d["component"]["name"].as_str().unwrap_or("");
    st.settings.keys().filter(|k| exposed(st, k)).any(|k| k.split('.').next() == Some(c))
}

/// Variables part 2's appendix marks "Required: no" that the reference station has: the
/// variant `minimal-device-model` keeps them inside (it still sends heartbeats, at the
/// BootNotification's interval) but does not show them to the CSMS.
const OPTIONAL_VARIABLES: [&str; 7] = [
    "OCPPCommCtrlr.HeartbeatInterval",
    "SecurityCtrlr.Identity",
    "AlignedDataCtrlr.SendDuringIdle",
    "AuthCacheCtrlr.Enabled",
    "AuthCacheCtrlr.Available",
    "OCPPCommCtrlr.RetryBackOffRepeatTimes",
    "OCPPCommCtrlr.RetryBackOffRandomRange",
];

/// Whether the CSMS can see and set the setting `key` (see `OPTIONAL_VARIABLES`).
pub(super) fn exposed(st: &Station, name: &str) -> bool {
    !(st.cfg.variants.contains(&Variant::MinimalDeviceModel) && OPTIONAL_VARIABLES.contains(&name))
        && !(st.cfg.faults.has(&Fault::NoRequiredVariable) && name == key(Key::LocalAuthorizeOffline))
}

/// Whether a get/set is about the Actual value (the default when attributeType is absent).
fn actual(d: &Value) -> bool {
    d.get("attributeType").is_none_or(|t| t == "Actual")
}

fn set_variable(st: &mut Station, d: &Value) -> &'static str {
    let k = component_key(d);
    if !exposed(st, &k) {
        return if known_component(st, d) { "UnknownVariable" } else { "UnknownComponent" };
    }
    if st.settings.contains_key(&k) && !actual(d) {
        return "NotSupportedAttributeType"; // B05.FR.06
    }
    let value = d["attributeValue"].as_str().unwrap_or("").to_string();
    if k == "SecurityCtrlr.BasicAuthPassword" {
        // Write-only: never stored where GetVariables or a report could show it.
        if !(16..=40).contains(&value.chars().count()) || !value.chars().all(|c| c.is_ascii_graphic()) {
            return "Rejected";
        }
        if !st.cfg.faults.has(&Fault::KeepOldPassword) {
            st.cfg.security.basic = Some((st.cfg.station_id.clone(), value.clone()));
        }
        monitoring::observed(st, &json!({"name": "SecurityCtrlr"}), "BasicAuthPassword", &value);
        return "Accepted";
    }
    if k == "OCPPCommCtrlr.NetworkConfigurationPriority" {
        if !st.known_slots(&value) {
            return "Rejected";
        }
        // A05.FR.02/03: a slot above the profile in force only if the station has what that
        // profile needs (its certificates: the set-up one profile up).
        let current = st.cfg.security.profile;
        let above = value.split(',').filter_map(|s| s.trim().parse::<i64>().ok()).map(|slot| st.slot_profile(slot)).filter(|&p| p > current);
        if above.into_iter().any(|p| Some(p) != st.cfg.security.raisable_to()) {
            return "Rejected";
        }
    }
    match st.settings.get(&k) {
        Some((_, true)) => "Rejected",
        Some((current, _)) => {
            let numeric = k.ends_with("Interval") || k.ends_with("TimeOut") || k.ends_with("Timeout");
            let boolean = k.ends_with(".Enabled") || k.starts_with("AuthCtrlr.");
            // B05.FR.07: a value not of the variable's data type is Rejected.
            let fits = match device_model::characteristics(&k, &factory_value(st, &k, current))["dataType"].as_str() {
                Some("integer") => value.parse::<i64>().is_ok(),
                Some("decimal") => value.parse::<f64>().is_ok(),
                Some("boolean") => ["true", "false"].contains(&value.as_str()),
                _ => true,
            };
            if !fits || (numeric && value.parse::<u64>().is_err()) || (boolean && !["true", "false"].contains(&value.as_str())) {
                return "Rejected";
            }
            // Its reconnect back-off has no random part: 0 is the only value in range (B05.FR.08).
            if k == "OCPPCommCtrlr.RetryBackOffRandomRange" && value != "0" {
                return "Rejected";
            }
            if k == key(Key::HeartbeatInterval) && st.cfg.faults.has(&Fault::IgnoreInterval) {
                return "Accepted"; // fault ignore-interval: says yes, keeps its own
            }
            st.settings.insert(k.clone(), (value, false));
            if k == key(Key::HeartbeatInterval) {
                st.next_heartbeat = st.heartbeat_after(Instant::now());
            }
            if k == key(Key::MeterInterval) {
                st.meter_interval_changed();
            }
            "Accepted"
        }
        None if known_component(st, d) => "UnknownVariable",
        None => "UnknownComponent",
    }
}

pub(super) fn on_result(st: &mut Station, out: &Out, r: &Value) {
    match out.action.as_str() {
        "SignCertificate" => super::own_certificate::sign_answered(st, &out.payload, r["status"] == "Accepted"),
        "Get15118EVCertificate" => ev15118::certificate_answered(st, &out.payload, r),
        "NotifyEVChargingNeeds" => ev15118::needs_answered(st, &out.payload, r),
        _ => {}
    }
}
