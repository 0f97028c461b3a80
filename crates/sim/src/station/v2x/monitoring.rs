//! Variable monitoring of the 2.x reference station (N02-N06): monitors on the variables of
//! its device model — hard-wired (a Delta on SecurityCtrlr.SecurityProfile), preconfigured (a
//! Delta on the station's and each EVSE's AvailabilityState) and custom ones the CSMS sets
//! — set, replaced and refused as part 2 says, reported in NotifyMonitoringReport, cleared
//! (never a hard-wired one), reset by SetMonitoringBase, kept across reboots (N07.FR.13).
//! A monitor whose variable changes as its type says sends a NotifyEvent (N07, N08): the
//! AvailabilityStates follow the connectors, ChargingStation.Power the EVs, BasicAuthPassword
//! its writes (reported empty, N07.FR.10), and Periodic ones their interval.
use serde_json::{Value, json};
use tokio::time::{Duration, Instant};

use super::super::{Out, Station};
use super::device_model;
use crate::Fault;

/// Where a monitor comes from (part 2 EventNotificationEnumType).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::station) enum Origin {
    HardWired,
    Preconfigured,
    Custom,
}

#[derive(Debug, Clone)]
pub(in crate::station) struct Monitor {
    pub(in crate::station) id: i64,
    pub(in crate::station) component: Value,
    pub(in crate::station) variable: Value,
    pub(in crate::station) kind: String,
    pub(in crate::station) value: f64,
    pub(in crate::station) severity: i64,
    pub(in crate::station) transaction: bool,
    pub(in crate::station) origin: Origin,
    /// The value when the monitor was set or last triggered (Delta), and whether a
    /// threshold is exceeded now.
    last: Option<String>,
    tripped: bool,
    /// When a Periodic monitor is due.
    due: Option<Instant>,
}

/// How many monitors one NotifyMonitoringReport carries.
const PER_REPORT: usize = 4;
/// Custom monitor ids start here; below are the factory's.
const FIRST_CUSTOM: i64 = 100;

fn delta(id: i64, component: Value, severity: i64, origin: Origin) -> Monitor {
    Monitor { id, component, variable: json!({"name": "AvailabilityState"}), kind: "Delta".into(), value: 1.0, severity, transaction: false, origin, last: None, tripped: false, due: None }
}

/// The factory's monitors: hard-wired and preconfigured.
pub(in crate::station) fn factory(evses: &[u32]) -> Vec<Monitor> {
    let hard = Monitor { variable: json!({"name": "SecurityProfile"}), ..delta(2, json!({"name": "SecurityCtrlr"}), 3, Origin::HardWired) };
    let mut m = vec![hard, delta(1, json!({"name": "ChargingStation"}), 5, Origin::Preconfigured)];
    for (k, e) in evses.iter().enumerate() {
        m.push(delta(10 + k as i64, json!({"name": "EVSE", "evse": {"id": e}}), 5, Origin::Preconfigured));
    }
    m
}

/// SetVariableMonitoring, GetMonitoringReport, ClearVariableMonitoring, SetMonitoringBase and
/// SetMonitoringLevel answers; None for other actions.
pub(super) fn on_call(st: &mut Station, action: &str, p: &Value) -> Option<Value> {
    Some(match action {
        "SetVariableMonitoring" => {
            let results: Vec<Value> = p["setMonitoringData"].as_array().into_iter().flatten().map(|d| set(st, d)).collect();
            json!({"setMonitoringResult": results})
        }
        "GetMonitoringReport" => json!({"status": report(st, p)}),
        "ClearVariableMonitoring" => {
            let results: Vec<Value> = p["id"].as_array().into_iter().flatten().map(|id| json!({"id": id, "status": clear(st, id.as_i64().unwrap_or(-1))})).collect();
            json!({"clearMonitoringResult": results})
        }
        "SetMonitoringBase" => json!({"status": base(st, p["monitoringBase"].as_str().unwrap_or_default())}),
        "SetMonitoringLevel" => {
            let severity = p["severity"].as_i64().unwrap_or(-1);
            if !(0..=9).contains(&severity) {
                return Some(json!({"status": "Rejected"}));
            }
            st.settings.insert("MonitoringCtrlr.ActiveMonitoringLevel".into(), (severity.to_string(), true));
            json!({"status": "Accepted"})
        }
        _ => return None,
    })
}

/// The device model's entry for `component`/`variable`, if the station has it; the write-only
/// BasicAuthPassword, which no report shows, where security profile 1 or 2 uses it.
fn entry(st: &Station, component: &Value, variable: &Value) -> Option<Value> {
    let password = component["name"] == "SecurityCtrlr" && variable["name"] == "BasicAuthPassword" && st.cfg.security.profile <= 2;
    if password {
        return Some(json!({"component": component, "variable": variable, "variableCharacteristics": {"dataType": "passwordString", "supportsMonitoring": true}, "variableAttribute": [{"value": "", "mutability": "WriteOnly"}]}));
    }
    device_model::report(st).into_iter().find(|d| same(&d["component"], component) && same(&d["variable"], variable))
}

/// The same component or variable: name, instance and EVSE (an absent field and null alike).
fn same(a: &Value, b: &Value) -> bool {
    let f = |v: &Value, k: &str| v.get(k).cloned().unwrap_or(Value::Null);
    f(a, "name") == f(b, "name") && f(a, "instance") == f(b, "instance") && f(a, "evse") == f(b, "evse")
}

/// One SetMonitoringData (N04): its SetMonitoringResult.
fn set(st: &mut Station, d: &Value) -> Value {
    let (component, variable) = (&d["component"], &d["variable"]);
    let kind = d["type"].as_str().unwrap_or_default().to_string();
    let value = d["value"].as_f64().unwrap_or(0.0);
    let severity = d["severity"].as_i64().unwrap_or(9);
    let mut result = json!({"type": kind, "severity": severity, "component": component, "variable": variable});
    let mut answer = |status: &str, reason: Option<&str>, id: Option<i64>| {
        result["status"] = json!(status);
        if let Some(r) = reason {
            result["statusInfo"] = json!({"reasonCode": r});
        }
        if let Some(id) = id {
            result["id"] = json!(id);
        }
        result.clone()
    };
    let known_component = device_model::report(st).iter().any(|e| same(&e["component"], component));
    if !known_component {
        return answer("UnknownComponent", None, None);
    }
    let Some(found) = entry(st, component, variable) else {
        return answer("UnknownVariable", None, None);
    };
    let characteristics = &found["variableCharacteristics"];
    let numeric = matches!(characteristics["dataType"].as_str(), Some("integer" | "decimal"));
    let threshold = kind == "UpperThreshold" || kind == "LowerThreshold";
    if threshold && !numeric {
        return answer("UnsupportedMonitorType", None, None);
    }
    // N04.FR.14: a Delta is never negative.
    if kind == "Delta" && value < 0.0 && !st.cfg.faults.has(&Fault::AcceptAnyMonitor) {
        return answer("Rejected", Some("ValuePositiveOnly"), None);
    }
    // N04.FR.06: a threshold within the variable's range.
    let min = characteristics["minLimit"].as_f64().unwrap_or(f64::MIN);
    let max = characteristics["maxLimit"].as_f64().unwrap_or(f64::MAX);
    if threshold && !(min..=max).contains(&value) && !st.cfg.faults.has(&Fault::AcceptAnyMonitor) {
        return answer("Rejected", Some("ValueOutOfRange"), None);
    }
    let origin_of = |st: &Station, id: i64| st.monitors.iter().find(|m| m.id == id).map(|m| (m.origin, same(&m.component, component) && same(&m.variable, variable)));
    let id = match d.get("id").and_then(Value::as_i64) {
        Some(id) => match origin_of(st, id) {
            // N04.FR.13: no such monitor.
            None => return answer("Rejected", Some("NotFound"), None),
            // N04.FR.18: a hard-wired one stays.
            Some((Origin::HardWired, _)) => return answer("Rejected", Some("ReadOnly"), None),
            // N04.FR.16: not its component and variable.
            Some((_, false)) => return answer("Rejected", Some("InvalidValue"), None),
            Some((_, true)) => id,
        },
        None => {
            // N04.FR.10: one of this type and severity is there already.
            let duplicate = st.monitors.iter().any(|m| same(&m.component, component) && same(&m.variable, variable) && m.kind == kind && m.severity == severity);
            if duplicate {
                return answer("Duplicate", None, None);
            }
            st.monitors.iter().map(|m| m.id + 1).max().unwrap_or(FIRST_CUSTOM).max(FIRST_CUSTOM)
        }
    };
    let transaction = d["transaction"].as_bool().unwrap_or(false);
    let old = st.monitors.iter().position(|m| m.id == id).map(|k| st.monitors.remove(k));
    let now = found["variableAttribute"][0]["value"].as_str().map(str::to_string);
    let due = (kind == "Periodic" || kind == "PeriodicClockAligned").then(|| Instant::now() + Duration::from_secs_f64(value.max(1.0)));
    // N04.FR.15: a replaced preconfigured monitor is custom from now on.
    let mut m = Monitor { id, component: component.clone(), variable: variable.clone(), kind, value, severity, transaction, origin: Origin::Custom, last: now.clone(), tripped: false, due };
    // N07.FR.11: a changed threshold checks the value at once, against the old state.
    m.tripped = old.is_some_and(|o| o.tripped && o.kind == m.kind);
    st.monitors.push(m);
    if let Some(v) = now {
        observed(st, component, &variable["name"].as_str().unwrap_or_default().to_string(), &v);
    }
    answer("Accepted", None, Some(id))
}

/// ClearVariableMonitoring of one id (N06.FR.01-03).
fn clear(st: &mut Station, id: i64) -> &'static str {
    match st.monitors.iter().find(|m| m.id == id).map(|m| m.origin) {
        None => "NotFound",
        Some(Origin::HardWired) => "Rejected",
        Some(_) => {
            let gone = st.monitors.iter().position(|m| m.id == id).map(|k| st.monitors.remove(k));
            if let Some(m) = gone.filter(|m| m.tripped && st.cfg.faults.has(&Fault::ClearRemovedThreshold)) {
                let actual = m.last.clone().unwrap_or_default();
                event(st, &m, "Alerting", &actual, true);
            }
            "Accepted"
        }
    }
}

/// SetMonitoringBase (N03.FR.03-05).
fn base(st: &mut Station, base: &str) -> &'static str {
    let evses: Vec<u32> = st.evses.iter().map(|e| e.id).collect();
    let factory = factory(&evses);
    match base {
        // Every preconfigured monitor active again; custom ones (changed preconfigured ones
        // too) stay.
        "All" => {
            for m in factory {
                if !st.monitors.iter().any(|k| k.id == m.id) {
                    st.monitors.push(m);
                }
            }
        }
        "FactoryDefault" => st.monitors = factory,
        "HardWiredOnly" => st.monitors = factory.into_iter().filter(|m| m.origin == Origin::HardWired).collect(),
        _ => return "NotSupported",
    }
    "Accepted"
}

/// Whether `m` is of one of the kinds `criteria` names (N02.FR.12-14).
fn of_kind(m: &Monitor, criteria: &[&str]) -> bool {
    criteria.is_empty()
        || criteria.iter().any(|c| match *c {
            "ThresholdMonitoring" => m.kind == "UpperThreshold" || m.kind == "LowerThreshold",
            "DeltaMonitoring" => m.kind == "Delta",
            "PeriodicMonitoring" => m.kind == "Periodic" || m.kind == "PeriodicClockAligned",
            _ => false,
        })
}

/// Whether `m` watches what one of `wanted` (componentVariable) names (N02.FR.16-21).
fn selected(m: &Monitor, wanted: &[Value]) -> bool {
    super::device_model::selected(wanted, &m.component, &m.variable)
}

/// GetMonitoringReport (N02): the monitors selected, in NotifyMonitoringReport parts of one
/// component and variable each, numbered from 0 (N02.FR.09); EmptyResultSet when none is
/// (N02.FR.10).
fn report(st: &mut Station, p: &Value) -> &'static str {
    let criteria: Vec<&str> = p["monitoringCriteria"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    if criteria.iter().any(|c| !["ThresholdMonitoring", "DeltaMonitoring", "PeriodicMonitoring"].contains(c)) {
        return "NotSupported";
    }
    let wanted = p["componentVariable"].as_array().cloned().unwrap_or_default();
    let loose = st.cfg.faults.has(&Fault::IgnoreReportCriteria);
    let chosen: Vec<&Monitor> = st.monitors.iter().filter(|m| loose || (of_kind(m, &criteria) && selected(m, &wanted))).collect();
    if chosen.is_empty() {
        return "EmptyResultSet";
    }
    // One entry per component and variable, with its monitors.
    let mut items: Vec<Value> = vec![];
    for m in chosen {
        let monitoring = json!({"id": m.id, "transaction": m.transaction, "value": m.value, "type": m.kind, "severity": m.severity});
        match items.iter_mut().find(|i| same(&i["component"], &m.component) && same(&i["variable"], &m.variable)) {
            Some(item) => item["variableMonitoring"].as_array_mut().expect("built as an array").push(monitoring),
            None => items.push(json!({"component": m.component, "variable": m.variable, "variableMonitoring": [monitoring]})),
        }
    }
    let parts: Vec<&[Value]> = items.chunks(PER_REPORT).collect();
    for (n, part) in parts.iter().enumerate() {
        let msg = json!({"requestId": p["requestId"], "seqNo": n, "generatedAt": ocpp_core::defaults::now_rfc3339(), "tbc": n + 1 < parts.len(), "monitor": part});
        st.enqueue(Out::call("NotifyMonitoringReport", msg));
    }
    "Accepted"
}

/// The severity up to which monitors report (SetMonitoringLevel, N05.FR.03).
fn level(st: &Station) -> i64 {
    if st.cfg.faults.has(&Fault::IgnoreMonitoringLevel) {
        return 9;
    }
    st.settings.get("MonitoringCtrlr.ActiveMonitoringLevel").and_then(|(v, _)| v.parse().ok()).unwrap_or(9)
}

fn origin_name(o: Origin) -> &'static str {
    match o {
        Origin::HardWired => "HardWiredMonitor",
        Origin::Preconfigured => "PreconfiguredMonitor",
        Origin::Custom => "CustomMonitor",
    }
}

/// `component`'s `variable` has the value `actual` now: every monitor on it that this
/// triggers sends its event (N07.FR.16-.19; a threshold back within bounds: cleared, N07.FR.02),
/// unless its severity is above the monitoring level (N07.FR.15).
pub(in crate::station) fn observed(st: &mut Station, component: &Value, variable: &str, actual: &str) {
    let level = level(st);
    let mut events = vec![];
    for m in st.monitors.iter_mut().filter(|m| same(&m.component, component) && m.variable["name"] == variable) {
        let number = actual.parse::<f64>().ok();
        let (fire, cleared) = match m.kind.as_str() {
            // A factory monitor's first look at its variable: nothing to compare with yet.
            "Delta" if m.last.is_none() => {
                m.last = Some(actual.to_string());
                (false, false)
            }
            "Delta" => {
                let last = m.last.clone();
                let changed = match (number, last.as_deref().and_then(|l| l.parse::<f64>().ok())) {
                    (Some(now), Some(before)) => (now - before).abs() > m.value,
                    _ => last.as_deref() != Some(actual),
                };
                (changed, false)
            }
            "UpperThreshold" | "LowerThreshold" => {
                let Some(now) = number else { continue };
                let beyond = if m.kind == "UpperThreshold" { now > m.value } else { now < m.value };
                let was = std::mem::replace(&mut m.tripped, beyond);
                (beyond != was, was && !beyond)
            }
            _ => (false, false),
        };
        if m.kind == "Delta" && fire {
            m.last = Some(actual.to_string());
        }
        let silenced = cleared && st.cfg.faults.has(&Fault::NoThresholdClear);
        if fire && m.severity <= level && !silenced {
            events.push((m.clone(), cleared));
        }
    }
    for (m, cleared) in events {
        let hidden = m.variable["name"] == "BasicAuthPassword" && !st.cfg.faults.has(&Fault::PasswordInEvent);
        let shown = if hidden { "" } else { actual };
        let trigger = if m.kind == "Delta" { "Delta" } else { "Alerting" };
        event(st, &m, trigger, shown, cleared);
    }
}

/// A NotifyEvent for `m` (N07.FR.06/07, N08.FR.04/05).
fn event(st: &mut Station, m: &Monitor, trigger: &str, actual: &str, cleared: bool) {
    st.event_id += 1;
    let now = ocpp_core::defaults::now_rfc3339();
    let mut data = json!({"eventId": st.event_id, "timestamp": now, "trigger": trigger, "actualValue": actual, "component": m.component, "variable": m.variable,
                          "variableMonitoringId": m.id, "eventNotificationType": origin_name(m.origin)});
    if cleared {
        data["cleared"] = json!(true);
    }
    st.enqueue(Out::call("NotifyEvent", json!({"generatedAt": now, "seqNo": 0, "tbc": false, "eventData": [data]})));
}

/// Periodic monitors that are due report their variable's value (N08.FR.06, .05).
pub(in crate::station) fn tick(st: &mut Station, now: Instant) {
    let due: Vec<Monitor> = st.monitors.iter().filter(|m| m.due.is_some_and(|d| d <= now)).cloned().collect();
    for m in due {
        if let Some(k) = st.monitors.iter().position(|x| x.id == m.id) {
            st.monitors[k].due = Some(now + Duration::from_secs_f64(m.value.max(1.0)));
        }
        if m.severity <= level(st) {
            let actual = entry(st, &m.component, &m.variable).and_then(|e| e["variableAttribute"][0]["value"].as_str().map(str::to_string)).unwrap_or_default();
            event(st, &m, "Periodic", &actual, false);
        }
    }
}

/// When the next Periodic monitor is due.
pub(in crate::station) fn next(st: &Station) -> Option<Instant> {
    st.monitors.iter().filter_map(|m| m.due).min()
}
