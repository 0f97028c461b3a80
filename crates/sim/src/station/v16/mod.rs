//! The OCPP 1.6J dialect of the reference station: configuration keys, connector statuses
//! with connector 0, Start/StopTransaction with CSMS-assigned transaction ids, MeterValues.
pub(super) mod security;
use std::collections::BTreeMap;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Ended, Evse, Key, Out, Pilot, Reply, Station, StationConfig, Stop, Tx, ok};
use ocpp_core::defaults::now_rfc3339;
use crate::Fault;

pub(super) fn key(k: Key) -> &'static str {
    match k {
        Key::HeartbeatInterval => "HeartbeatInterval",
        Key::MeterInterval => "MeterValueSampleInterval",
        Key::ConnectionTimeout => "ConnectionTimeOut",
        Key::AuthorizeRemoteStart => "AuthorizeRemoteTxRequests",
        Key::LocalListEnabled => "LocalAuthListEnabled",
        Key::CacheEnabled => "AuthorizationCacheEnabled",
        Key::LocalPreAuthorize => "LocalPreAuthorize",
        Key::LocalAuthorizeOffline => "LocalAuthorizeOffline",
        Key::OfflineTxForUnknownId => "AllowOfflineTxForUnknownId",
        // 1.6 has no such switch: never set.
        Key::ListDisablePostAuthorize => "",
    }
}

/// Factory configuration: key -> (value, read-only).
pub(super) fn settings(cfg: &StationConfig) -> BTreeMap<String, (String, bool)> {
    let connectors = cfg.evses.max(1).to_string();
    [
        ("HeartbeatInterval", "300", false),
        ("MeterValueSampleInterval", "0", false),
        ("MeterValuesSampledData", "Energy.Active.Import.Register", false),
        ("ClockAlignedDataInterval", "0", false),
        ("ConnectionTimeOut", "60", false),
        ("AuthorizeRemoteTxRequests", "false", false),
        ("LocalAuthListEnabled", "true", false),
        ("LocalAuthListMaxLength", "100", true),
        ("SendLocalListMaxLength", "100", true),
        ("AuthorizationCacheEnabled", "true", false),
        ("LocalPreAuthorize", "false", false),
        ("LocalAuthorizeOffline", "true", false),
        ("AllowOfflineTxForUnknownId", "false", false),
        ("StopTransactionOnEVSideDisconnect", "true", false),
        ("StopTransactionOnInvalidId", "true", false),
        ("UnlockConnectorOnEVSideDisconnect", "true", false),
        ("NumberOfConnectors", connectors.as_str(), true),
        ("GetConfigurationMaxKeys", "50", true),
        ("SupportedFeatureProfiles", "Core,FirmwareManagement,LocalAuthListManagement,Reservation,RemoteTrigger,SmartCharging", true),
        ("ReserveConnectorZeroSupported", "false", true),
        ("ChargeProfileMaxStackLevel", "8", true),
        ("ChargingScheduleAllowedChargingRateUnit", "Current,Power", true),
        ("ChargingScheduleMaxPeriods", "24", true),
        ("MaxChargingProfilesInstalled", "16", true),
        ("TransactionMessageAttempts", "3", false),
        ("TransactionMessageRetryInterval", "10", false),
        ("ResetRetries", "1", false),
        ("WebSocketPingInterval", "0", false),
        ("MeterValuesAlignedData", "Energy.Active.Import.Register", false),
        ("StopTxnSampledData", "Energy.Active.Import.Register", false),
        ("StopTxnAlignedData", "", false),
    ]
    .into_iter()
    .map(|(k, v, ro)| (k.to_string(), (v.to_string(), ro)))
    .collect()
}

pub(super) fn status_of(e: &Evse) -> &'static str {
    if !e.operative && e.tx.is_none() {
        "Unavailable"
    } else if matches!(e.pilot, Pilot::E | Pilot::F) || e.fault.is_some() {
        "Faulted"
    } else if let Some(tx) = &e.tx {
        if tx.charging { "Charging" } else { "SuspendedEV" }
    } else if e.finishing {
        "Finishing"
    } else if e.auth.is_some() || (e.plugged && e.reservation.is_none()) {
        // §4.9 G2: a Reserved connector turns Preparing for the reservation's idTag only.
        "Preparing"
    } else if e.reservation.is_some() {
        "Reserved"
    } else {
        "Available"
    }
}

pub(super) fn status(e: &Evse, status: &str) -> Out {
    let error = match e.fault {
        Some(super::EvFault::RcdTrip) => "GroundFailure",
        Some(_) => "EVCommunicationError",
        None => "NoError",
    };
    Out::call("StatusNotification", json!({"connectorId": e.id, "errorCode": error, "status": status, "timestamp": now_rfc3339()}))
}

/// Connector 0 stands for the whole station.
pub(super) fn status_station(status: &str) -> Out {
    Out::call("StatusNotification", json!({"connectorId": 0, "errorCode": "NoError", "status": status, "timestamp": now_rfc3339()}))
}

pub(super) fn boot(_st: &Station) -> Value {
    json!({"chargePointVendor": "ocpp-harness", "chargePointModel": "RefStation", "firmwareVersion": env!("CARGO_PKG_VERSION")})
}

fn wh(e: &Evse) -> i64 {
    e.energy_wh.round() as i64
}

/// The transaction id a message refers to, filled in when it is sent (the CSMS assigns it).
fn tx_ref(tx: &Tx) -> Value {
    json!({"$local": tx.local})
}

pub(super) fn resolve_tx_id(st: &Station, payload: &mut Value) {
    if let Some(local) = payload["transactionId"]["$local"].as_u64() {
        payload["transactionId"] = json!(st.tx_ids.get(&local).copied().unwrap_or(-1));
    }
}

pub(super) fn tx_started(st: &mut Station, i: usize) -> Vec<Out> {
    let e = &st.evses[i];
    let tx = e.tx.as_ref().expect("a transaction just started");
    let token = tx.auth.as_ref().map(|a| a.token.clone()).unwrap_or_default();
    let mut p = json!({"connectorId": e.id, "idTag": token, "meterStart": wh(e), "timestamp": now_rfc3339()});
    p["$local"] = json!(tx.local);
    if let Some(id) = super::reservation::take_for_start(st, i) {
        p["reservationId"] = json!(id);
    }
    vec![Out::tx("StartTransaction", p)]
}

pub(super) fn tx_ended(st: &mut Station, i: usize, tx: &Tx, why: Stop) -> Out {
    let reason = match why {
        Stop::Local => "Local",
        Stop::Remote => "Remote",
        Stop::EvDisconnected => "EVDisconnected",
        Stop::PowerLoss => "PowerLoss",
        Stop::Reset(true) => "HardReset",
        Stop::Reset(false) => "SoftReset",
        Stop::Unlock => "UnlockCommand",
        Stop::Timeout | Stop::DeAuthorized => "DeAuthorized",
        Stop::Fault(_) | Stop::ByEv => "Other",
    };
    let e = &st.evses[i];
    let mut p = json!({"transactionId": tx_ref(tx), "meterStop": wh(e), "timestamp": now_rfc3339(), "reason": reason});
    if let Some(a) = &tx.auth {
        p["idTag"] = json!(a.token);
    }
    Out::tx("StopTransaction", p)
}

pub(super) fn meter_values(st: &mut Station, i: usize) -> Out {
    let e = &st.evses[i];
    let sample = json!([{"timestamp": now_rfc3339(), "sampledValue": [{
        "value": wh(e).to_string(), "context": "Sample.Periodic", "measurand": "Energy.Active.Import.Register", "unit": "Wh"
    }]}]);
    let mut p = json!({"connectorId": e.id, "meterValue": sample});
    if let Some(tx) = &e.tx {
        p["transactionId"] = tx_ref(tx);
        return Out::tx("MeterValues", p);
    }
    Out::call("MeterValues", p)
}

/// Answers to our CALLs that only 1.6 has.
pub(super) fn on_result(st: &mut Station, out: &Out, r: &Value) {
    if out.action == "StartTransaction" {
        let (Some(local), Some(id)) = (out.payload["$local"].as_u64(), r["transactionId"].as_i64()) else { return };
        st.tx_ids.insert(local, id);
        // Refused token: the transaction is stopped right away.
        let status = r["idTagInfo"]["status"].as_str().unwrap_or("Accepted");
        if status != "Accepted" {
            if let Some(i) = st.evses.iter().position(|e| e.tx.as_ref().is_some_and(|t| t.local == local)) {
                st.end_tx(i, Stop::DeAuthorized);
            }
        }
    }
}

fn find_tx(st: &Station, id: i64) -> Option<usize> {
    st.evses.iter().position(|e| e.tx.as_ref().is_some_and(|t| st.tx_ids.get(&t.local) == Some(&id)))
}

pub(super) fn on_call(st: &mut Station, action: &str, p: &Value) -> (Reply, Option<Ended>) {
    match action {
        "RemoteStartTransaction" => {
            let connector = p["connectorId"].as_u64().map(|c| c as u32);
            let token = p["idTag"].as_str().unwrap_or("").to_string();
            // Free: no session, operative, not reserved for another idTag.
            let free = |i: &usize| st.evses[*i].tx.is_none() && st.evses[*i].auth.is_none() && st.evses[*i].operative && super::reservation::free_for(st, *i, &token);
            let i = match connector {
                Some(c) => st.evse_index(c),
                None => (0..st.evses.len()).find(free),
            };
            let Some(i) = i.filter(free) else {
                return ok(json!({"status": "Rejected"}));
            };
            let evse = st.evses[i].id;
            st.remote_start(&token, evse, 0);
            ok(json!({"status": "Accepted"}))
        }
        "RemoteStopTransaction" => {
            let found = p["transactionId"].as_i64().and_then(|id| find_tx(st, id));
            super::remote_stop(st, found)
        }
        "GetConfiguration" => {
            let wanted: Option<Vec<String>> = p["key"].as_array().map(|a| a.iter().filter_map(|k| k.as_str().map(str::to_string)).collect());
            let entry = |k: &str, (v, ro): &(String, bool)| json!({"key": k, "readonly": ro, "value": v});
            let (known, unknown): (Vec<Value>, Vec<String>) = match wanted {
                Some(keys) if !keys.is_empty() => {
                    let known = keys.iter().filter_map(|k| st.settings.get(k).map(|s| entry(k, s))).collect();
                    (known, keys.into_iter().filter(|k| !st.settings.contains_key(k)).collect())
                }
                _ => (st.settings.iter().map(|(k, s)| entry(k, s)).collect(), vec![]),
            };
            let mut r = json!({"configurationKey": known});
            if !unknown.is_empty() {
                r["unknownKey"] = json!(unknown);
            }
            ok(r)
        }
        "ChangeConfiguration" => {
            let k = p["key"].as_str().unwrap_or("").to_string();
            let value = p["value"].as_str().unwrap_or("").to_string();
            let status = match st.settings.get(&k) {
                None => "NotSupported",
                Some((_, true)) => "Rejected",
                Some((old, _)) => {
                    let numeric = old.parse::<i64>().is_ok();
                    let boolean = old == "true" || old == "false";
                    if (numeric && value.parse::<u64>().is_err()) || (boolean && !["true", "false"].contains(&value.as_str())) {
                        "Rejected"
                    } else if k == "HeartbeatInterval" && st.cfg.faults.has(&Fault::IgnoreInterval) {
                        "Accepted" // fault ignore-interval: says yes, keeps its own
                    } else {
                        st.settings.insert(k.clone(), (value, false));
                        if k == "HeartbeatInterval" {
                            st.next_heartbeat = st.heartbeat_after(Instant::now());
                        }
                        if k == "MeterValueSampleInterval" {
                            st.meter_interval_changed();
                        }
                        "Accepted"
                    }
                }
            };
            ok(json!({"status": status}))
        }
        "Reset" => {
            let hard = p["type"] == "Hard";
            for i in 0..st.evses.len() {
                st.end_tx(i, Stop::Reset(hard));
            }
            if st.idle() && st.outbox.iter().all(|o| !o.persistent) {
                return (Ok(json!({"status": "Accepted"})), Some(Ended::Reboot));
            }
            st.reset_when_idle = true;
            ok(json!({"status": "Accepted"}))
        }
        "ChangeAvailability" => {
            let status = st.change_availability(p["connectorId"].as_u64().unwrap_or(0) as u32, p["type"] == "Operative");
            ok(json!({"status": status}))
        }
        "UnlockConnector" if st.cfg.variants.contains(&crate::variant::Variant::NoConnectorLock) => ok(json!({"status": "NotSupported"})),
        "UnlockConnector" => match st.evse_index(p["connectorId"].as_u64().unwrap_or(0) as u32) {
            Some(i) => {
                st.end_tx(i, Stop::Unlock);
                ok(json!({"status": "Unlocked"}))
            }
            None => ok(json!({"status": "NotSupported"})),
        },
        "TriggerMessage" => {
            let connector = p["connectorId"].as_u64().map(|c| c as u32);
            let target = connector.and_then(|c| st.evse_index(c));
            if connector.is_some_and(|c| c != 0) && target.is_none() {
                return ok(json!({"status": "Rejected"}));
            }
            match p["requestedMessage"].as_str().unwrap_or("") {
                "BootNotification" => {
                    let b = boot(st);
                    st.enqueue(Out::call("BootNotification", b));
                }
                "Heartbeat" => st.enqueue(Out::call("Heartbeat", json!({}))),
                "StatusNotification" => {
                    let targets: Vec<usize> = match target {
                        Some(i) => vec![i],
                        None => (0..st.evses.len()).collect(),
                    };
                    for i in targets {
                        let m = status(&st.evses[i], status_of(&st.evses[i]));
                        st.enqueue(m);
                    }
                }
                "MeterValues" => {
                    let i = target.unwrap_or(0);
                    st.advance_meter(i);
                    let mut m = meter_values(st, i);
                    m.payload["meterValue"][0]["sampledValue"][0]["context"] = json!("Trigger");
                    st.enqueue(m);
                }
                "DiagnosticsStatusNotification" => {
                    let s = if st.diagnostics_upload.is_some() { "Uploading" } else { "Idle" };
                    st.enqueue(Out::call("DiagnosticsStatusNotification", json!({"status": s})));
                }
                "FirmwareStatusNotification" => {
                    let s = st.firmware.as_ref().filter(|j| j.plain).and_then(|j| j.last).unwrap_or("Idle");
                    st.enqueue(Out::call("FirmwareStatusNotification", json!({"status": s})));
                }
                _ => return ok(json!({"status": "NotImplemented"})),
            }
            ok(json!({"status": "Accepted"}))
        }
        "ClearCache" => ok(json!({"status": st.clear_cache()})),
        "SendLocalList" => {
            let entries = p["localAuthorizationList"].as_array().into_iter().flatten();
            let entries = entries.map(|en| (en["idTag"].as_str().unwrap_or("").to_string(), en["idTagInfo"]["status"].as_str().map(str::to_string), None)).collect();
            let status = st.update_local_list(p["updateType"] == "Full", p["listVersion"].as_i64().unwrap_or(0), entries);
            ok(json!({"status": status}))
        }
        // 1.6: version 0 means the list is empty.
        "GetLocalListVersion" => ok(json!({"listVersion": if st.local_list.is_empty() { 0 } else { st.local_list_version }})),
        "SetChargingProfile" => ok(json!({"status": set_charging_profile(st, p["connectorId"].as_u64().unwrap_or(0) as u32, &p["csChargingProfiles"])})),
        "ClearChargingProfile" => {
            let before = st.charging_profiles.len();
            st.charging_profiles.retain(|(c, q)| !clears(p, *c, q));
            ok(json!({"status": if st.charging_profiles.len() < before { "Accepted" } else { "Unknown" }}))
        }
        "GetCompositeSchedule" => {
            let connector = p["connectorId"].as_u64().unwrap_or(0) as u32;
            if connector != 0 && st.evse_index(connector).is_none() {
                return ok(json!({"status": "Rejected"}));
            }
            ok(composite_schedule(st, connector, p["duration"].as_i64().unwrap_or(0), p["chargingRateUnit"].as_str()))
        }
        "ReserveNow" | "CancelReservation" => ok(super::reservation::on_call(st, action, p).unwrap_or_default()),
        "DataTransfer" => match p["vendorId"].as_str() {
            Some("ocpp-harness") => ok(json!({"status": "Accepted"})),
            _ => ok(json!({"status": "UnknownVendorId"})),
        },
        "UpdateFirmware" => ok(super::firmware::update_16(st, p)),
        _ => match security::on_call(st, action, p) {
            Some(r) => ok(r),
            None => (Err(("NotSupported", format!("{action} is not supported by this station"))), None),
        },
    }
}

// ---- smart charging (1.6 §3.13, §5.5, §5.7, §5.16) ----

/// Store a charging profile for `connector`: Accepted or Rejected. A TxProfile needs a
/// connector with a transaction, and that transaction if it names one (§3.13.1); a
/// ChargePointMaxProfile is for connector 0 only. A profile replaces one with the same id, or
/// with the same stack level and purpose on the same connector (§5.16.3-4).
fn set_charging_profile(st: &mut Station, connector: u32, profile: &Value) -> &'static str {
    let on = st.evse_index(connector);
    let running = on.and_then(|i| st.evses[i].tx.as_ref()).and_then(|t| st.tx_ids.get(&t.local).copied());
    let fits = match profile["chargingProfilePurpose"].as_str().unwrap_or("") {
        "ChargePointMaxProfile" => connector == 0,
        "TxDefaultProfile" => connector == 0 || on.is_some(),
        "TxProfile" => running.is_some_and(|id| profile.get("transactionId").is_none_or(|t| t.as_i64() == Some(id))) || (on.is_some() && st.cfg.faults.has(&Fault::AcceptStrayTxProfile)),
        _ => false,
    };
    if !fits {
        return "Rejected";
    }
    let same = |c: u32, q: &Value| q["chargingProfileId"] == profile["chargingProfileId"] || (c == connector && q["stackLevel"] == profile["stackLevel"] && q["chargingProfilePurpose"] == profile["chargingProfilePurpose"]);
    st.charging_profiles.retain(|(c, q)| !same(*c, q));
    st.charging_profiles.push((connector, profile.clone()));
    "Accepted"
}

/// Whether a ClearChargingProfile request `p` takes the profile `q` on `connector`: by id, or
/// by every criterion it gives.
fn clears(p: &Value, connector: u32, q: &Value) -> bool {
    if let Some(id) = p.get("id") {
        return q["chargingProfileId"] == *id;
    }
    let by = |field: &str, actual: &Value| p.get(field).is_none_or(|want| want == actual);
    by("connectorId", &json!(connector)) && by("chargingProfilePurpose", &q["chargingProfilePurpose"]) && by("stackLevel", &q["stackLevel"])
}

/// The schedule for `connector` over `duration` s (§3.13.2-3): of each purpose the profile
/// with the highest stack level; a TxProfile overrides the TxDefaultProfile, and the
/// ChargePointMaxProfile caps both. Only the first period of each counts (the reference
/// station's profiles are flat); profiles in another unit than asked are left out.
fn composite_schedule(st: &Station, connector: u32, duration: i64, unit: Option<&str>) -> Value {
    let unit = match unit {
        Some("W") => "W",
        _ => "A",
    };
    let top = |purpose: &str, connectors: &[u32]| {
        st.charging_profiles
            .iter()
            .filter(|(c, q)| connectors.contains(c) && q["chargingProfilePurpose"] == purpose && q["chargingSchedule"]["chargingRateUnit"] == unit)
            .max_by_key(|(_, q)| q["stackLevel"].as_i64().unwrap_or(0))
            .and_then(|(_, q)| q["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"].as_f64())
    };
    let tx = top("TxProfile", &[connector]).or_else(|| top("TxDefaultProfile", &[connector, 0]));
    let cap = top("ChargePointMaxProfile", &[0]).filter(|_| !st.cfg.faults.has(&Fault::IgnoreMaxProfile));
    let limit = match (tx, cap) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let mut r = json!({"status": "Accepted", "connectorId": connector, "scheduleStart": now_rfc3339()});
    if let Some(limit) = limit {
        r["chargingSchedule"] = json!({"duration": duration, "chargingRateUnit": unit, "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]});
    }
    r
}
