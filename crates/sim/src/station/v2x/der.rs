//! DER control of the 2.1 reference station (R04): default and scheduled controls per control
//! type, superseded by priority (a lower value wins), reported in pages by GetDERControl,
//! cleared by type or id, and a scheduled control's start and end told by NotifyDERStartStop
//! (then deleted). The station supports the types in `SUPPORTED` (ACDERCtrlr.ModesSupported);
//! variant `no-der`: no DER control at all.
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::super::{Out, Station};
use crate::{Fault, variant::Variant};
use ocpp_core::defaults::now_rfc3339;

/// The control types this station executes; every other type is NotSupported.
pub(in crate::station) const SUPPORTED: [&str; 5] = ["FixedPFAbsorb", "FixedPFInject", "FixedVar", "LimitMaxDischarge", "VoltVar"];
/// Controls per ReportDERControl message: small, so a report of a few controls has parts.
const PER_REPORT: usize = 2;

#[derive(Debug, Clone)]
pub(in crate::station) struct Control {
    id: String,
    kind: String,
    is_default: bool,
    superseded: bool,
    priority: i64,
    /// The type's own settings, as the CSMS sent them.
    settings: Value,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    /// A scheduled control's NotifyDERStartStop for its start was sent.
    started: bool,
}

/// The device model variables of DER control; none with variant `no-der`.
pub(in crate::station) fn variables(variants: &[Variant]) -> Vec<(&'static str, String, bool)> {
    if variants.contains(&Variant::NoDer) {
        return vec![];
    }
    vec![("ACDERCtrlr.Enabled", "true".into(), false), ("ACDERCtrlr.ModesSupported", SUPPORTED.join(","), true)]
}

/// The request field that holds a control type's settings.
fn field(kind: &str) -> &'static str {
    match kind {
        "FixedPFAbsorb" => "fixedPFAbsorb",
        "FixedPFInject" => "fixedPFInject",
        "FixedVar" => "fixedVar",
        "LimitMaxDischarge" => "limitMaxDischarge",
        "FreqDroop" => "freqDroop",
        "EnterService" => "enterService",
        "Gradients" => "gradient",
        _ => "curve",
    }
}

fn supported(st: &Station, kind: &str) -> bool {
    SUPPORTED.contains(&kind) || st.cfg.faults.has(&Fault::AcceptAnyDerControl)
}

/// SetDERControl, GetDERControl and ClearDERControl; None for other actions.
pub(super) fn on_call(st: &mut Station, action: &str, p: &Value) -> Option<Result<Value, (&'static str, String)>> {
    if !matches!(action, "SetDERControl" | "GetDERControl" | "ClearDERControl") {
        return None;
    }
    if st.cfg.variants.contains(&Variant::NoDer) {
        return Some(Err(("NotSupported", "this station has no DER control".into())));
    }
    Some(Ok(match action {
        "SetDERControl" => set(st, p),
        "GetDERControl" => get(st, p),
        _ => clear(st, p),
    }))
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|d| d.with_timezone(&Utc))
}

fn active(c: &Control, now: DateTime<Utc>) -> bool {
    !c.is_default && c.start.is_some_and(|s| s <= now) && c.end.is_none_or(|e| now < e)
}

/// R04.FR.01-08: a supported type is accepted; among controls of the same type and kind
/// (default or scheduled) the lower priority value supersedes the other.
fn set(st: &mut Station, p: &Value) -> Value {
    let kind = p["controlType"].as_str().unwrap_or_default().to_string();
    if !supported(st, &kind) {
        return json!({"status": "NotSupported"});
    }
    let settings = p[field(&kind)].clone();
    let is_default = p["isDefault"] == true;
    let priority = settings["priority"].as_i64().unwrap_or(0);
    let start = time(&settings["startTime"]);
    let end = start.zip(settings["duration"].as_f64()).map(|(s, d)| s + chrono::Duration::milliseconds((d * 1000.0) as i64));
    let id = p["controlId"].as_str().unwrap_or_default().to_string();
    let now = Utc::now();
    st.der_controls.retain(|c| c.id != id);
    let mut new = Control { id: id.clone(), kind: kind.clone(), is_default, superseded: false, priority, settings, start, end, started: false };
    let mut superseded = vec![];
    let keep_old = st.cfg.faults.has(&Fault::DerNoSupersede);
    for c in st.der_controls.iter_mut().filter(|c| c.kind == kind && c.is_default == is_default && !c.superseded) {
        if c.priority > priority && !keep_old {
            // R04.FR.03/06 (an active one ends at the new one's start: R04.FR.07, `tick`).
            if is_default || !active(c, now) {
                c.superseded = true;
                superseded.push(c.id.clone());
            }
        } else if c.priority < priority && !is_default && active(c, now) {
            // R04.FR.08: the active one with the lower value goes on; the new one waits.
            new.superseded = true;
            superseded.push(id.clone());
        }
    }
    st.der_controls.push(new);
    let mut r = json!({"status": "Accepted"});
    if !superseded.is_empty() {
        r["supersededIds"] = json!(superseded);
    }
    r
}

fn matches(c: &Control, p: &Value) -> bool {
    p.get("isDefault").is_none_or(|d| *d == c.is_default) && p.get("controlType").is_none_or(|t| *t == c.kind.as_str()) && p.get("controlId").is_none_or(|i| *i == c.id.as_str())
}

/// How a control appears in a ReportDERControl: its type's list and entry.
fn reported(c: &Control) -> (&'static str, Value) {
    // The report's list is the request's field; both power-factor lists hold "fixedPF" entries.
    let list = field(&c.kind);
    let key = if list.starts_with("fixedPF") { "fixedPF" } else { list };
    let mut e = json!({"id": c.id, key: c.settings});
    if !matches!(list, "enterService" | "gradient") {
        e["isDefault"] = json!(c.is_default);
        e["isSuperseded"] = json!(c.superseded);
    }
    if list == "curve" {
        e["curveType"] = json!(c.kind);
    }
    (list, e)
}

/// R04.FR.30-36: NotFound, NotSupported, or Accepted and the controls in ReportDERControl
/// parts carrying the requestId, each but the last with tbc.
fn get(st: &mut Station, p: &Value) -> Value {
    if p["controlType"].as_str().is_some_and(|k| !supported(st, k)) {
        return json!({"status": "NotSupported"});
    }
    let found: Vec<Control> = st.der_controls.iter().filter(|c| matches(c, p)).cloned().collect();
    if found.is_empty() {
        return json!({"status": "NotFound"});
    }
    let request_id = if st.cfg.faults.has(&Fault::DerWrongRequestId) { json!(p["requestId"].as_i64().unwrap_or(0) + 1) } else { p["requestId"].clone() };
    let parts: Vec<&[Control]> = found.chunks(PER_REPORT).collect();
    for (n, part) in parts.iter().enumerate() {
        let mut msg = json!({"requestId": request_id});
        if n + 1 < parts.len() {
            msg["tbc"] = json!(true);
        }
        for c in *part {
            let (list, e) = reported(c);
            match msg[list].as_array_mut() {
                Some(a) => a.push(e),
                None => msg[list] = json!([e]),
            }
        }
        st.enqueue(Out::call("ReportDERControl", msg));
    }
    json!({"status": "Accepted"})
}

/// R04.FR.41-45.
fn clear(st: &mut Station, p: &Value) -> Value {
    if p["controlType"].as_str().is_some_and(|k| !supported(st, k)) {
        return json!({"status": "NotSupported"});
    }
    let before = st.der_controls.len();
    st.der_controls.retain(|c| !matches(c, p));
    json!({"status": if st.der_controls.len() < before || (p.get("controlType").is_none() && p.get("controlId").is_none()) { "Accepted" } else { "NotFound" }})
}

/// A scheduled control starts and ends on time, each told by NotifyDERStartStop (R04.FR.20,
/// R04.FR.22), and is deleted once over (R04.FR.10); one that starts supersedes an active
/// one of the same type with a higher priority value (R04.FR.07, R04.FR.21).
pub(in crate::station) fn tick(st: &mut Station, _now: Instant) {
    let now = Utc::now();
    let silent = st.cfg.faults.has(&Fault::DerNoStartStop);
    let mut notes = vec![];
    let starting: Vec<usize> = (0..st.der_controls.len()).filter(|&i| { let c = &st.der_controls[i]; !c.is_default && !c.superseded && !c.started && c.start.is_some_and(|s| s <= now) }).collect();
    for i in starting {
        let (kind, priority) = (st.der_controls[i].kind.clone(), st.der_controls[i].priority);
        let mut over = vec![];
        for c in st.der_controls.iter_mut().filter(|c| c.kind == kind && !c.is_default && !c.superseded && c.started && c.priority > priority) {
            c.superseded = true;
            over.push(c.id.clone());
        }
        let c = &mut st.der_controls[i];
        c.started = true;
        let mut n = json!({"controlId": c.id, "started": true, "timestamp": now_rfc3339()});
        if !over.is_empty() {
            n["supersededIds"] = json!(over);
        }
        notes.push(n);
    }
    let ended: Vec<String> = st.der_controls.iter().filter(|c| !c.is_default && c.end.is_some_and(|e| e <= now)).map(|c| c.id.clone()).collect();
    for id in &ended {
        let c = st.der_controls.iter().find(|c| c.id == *id).expect("listed above");
        if c.started && !c.superseded {
            notes.push(json!({"controlId": id, "started": false, "timestamp": now_rfc3339()}));
        }
    }
    st.der_controls.retain(|c| !ended.contains(&c.id));
    for n in notes.into_iter().filter(|_| !silent) {
        st.enqueue(Out::call("NotifyDERStartStop", n));
    }
}

/// When a scheduled control next starts or ends.
pub(in crate::station) fn next(st: &Station) -> Option<Instant> {
    let now = Utc::now();
    let at = st.der_controls.iter().filter(|c| !c.is_default).flat_map(|c| [c.start.filter(|_| !c.started && !c.superseded), c.end]).flatten().min()?;
    let wait = (at - now).to_std().unwrap_or_default();
    Some(Instant::now() + wait)
}
