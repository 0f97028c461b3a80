//! Display messages of the 2.x reference station (O01-O06): set with the priorities and
//! formats DisplayMessageCtrlr lists (variant `plain-display`: fewer), bound to a transaction
//! or a time window, replaced by id, an AlwaysFront message replacing the one before, kept
//! across reboots (O01.FR.10), reported in NotifyDisplayMessages and cleared by id.
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::super::{Out, Station};
use crate::Fault;

/// DisplayMessageCtrlr.DisplayMessages' maxLimit: how many messages the station holds.
pub(in crate::station) const CAPACITY: usize = 8;
/// How many messages one NotifyDisplayMessages carries (O03.FR.03).
const PER_REPORT: usize = 4;

/// SetDisplayMessage, GetDisplayMessages and ClearDisplayMessage answers; None for other
/// actions.
pub(super) fn on_call(st: &mut Station, action: &str, p: &Value) -> Option<Value> {
    Some(match action {
        "SetDisplayMessage" => json!({"status": set(st, &p["message"])}),
        "GetDisplayMessages" => json!({"status": get(st, p)}),
        "ClearDisplayMessage" => {
            let before = st.display_messages.len();
            st.display_messages.retain(|m| m["id"] != p["id"]);
            count(st);
            json!({"status": if st.display_messages.len() < before { "Accepted" } else { "Unknown" }})
        }
        _ => return None,
    })
}

/// The members of a MemberList setting.
fn listed<'a>(st: &'a Station, key: &str) -> Vec<&'a str> {
    st.settings.get(key).map(|(v, _)| v.split(',').map(str::trim).collect()).unwrap_or_default()
}

/// O01.FR.01-03 and .11, O02.FR.01, O06.FR.01, O01.FR.16.
fn set(st: &mut Station, m: &Value) -> &'static str {
    let priority = m["priority"].as_str().unwrap_or_default();
    if !listed(st, "DisplayMessageCtrlr.SupportedPriorities").contains(&priority) {
        return "NotSupportedPriority";
    }
    if !listed(st, "DisplayMessageCtrlr.SupportedFormats").contains(&m["message"]["format"].as_str().unwrap_or_default()) {
        return "NotSupportedMessageFormat";
    }
    if let Some(tx) = m.get("transactionId") {
        let running = st.evses.iter().any(|e| e.tx.as_ref().is_some_and(|t| Some(t.id.as_str()) == tx.as_str()));
        if !running {
            return "UnknownTransaction";
        }
    }
    purge(st);
    let replaces = st.display_messages.iter().any(|q| q["id"] == m["id"]);
    if !replaces && st.display_messages.len() >= CAPACITY {
        return "Rejected";
    }
    st.display_messages.retain(|q| q["id"] != m["id"]);
    if priority == "AlwaysFront" && !st.cfg.faults.has(&Fault::TwoAlwaysFront) {
        st.display_messages.retain(|q| q["priority"] != "AlwaysFront");
    }
    st.display_messages.push(m.clone());
    count(st);
    "Accepted"
}

/// GetDisplayMessages (O03, O04): the messages matching every field given, in
/// NotifyDisplayMessages of [`PER_REPORT`] each naming the request, tbc on all but the last;
/// Unknown when none does.
fn get(st: &mut Station, p: &Value) -> &'static str {
    purge(st);
    let ids: Vec<&Value> = p["id"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
    let matching: Vec<Value> = st
        .display_messages
        .iter()
        .filter(|m| (ids.is_empty() || ids.contains(&&m["id"])) && p.get("priority").is_none_or(|v| *v == m["priority"]) && p.get("state").is_none_or(|v| *v == m["state"]))
        .cloned()
        .collect();
    if matching.is_empty() {
        return "Unknown";
    }
    let chunks: Vec<&[Value]> = matching.chunks(PER_REPORT).collect();
    for (k, chunk) in chunks.iter().enumerate() {
        let report = json!({"requestId": p["requestId"], "messageInfo": chunk, "tbc": k + 1 < chunks.len()});
        st.enqueue(Out::call("NotifyDisplayMessages", report));
    }
    "Accepted"
}

/// Messages past their endDateTime are gone (O01.FR.07; fault keep-expired-messages: kept).
fn purge(st: &mut Station) {
    if st.cfg.faults.has(&Fault::KeepExpiredMessages) {
        return;
    }
    let now = Utc::now();
    st.display_messages.retain(|m| m["endDateTime"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).is_none_or(|end| end > now));
    count(st);
}

/// DisplayMessageCtrlr.DisplayMessages: how many are configured.
fn count(st: &mut Station) {
    st.settings.insert("DisplayMessageCtrlr.DisplayMessages".into(), (st.display_messages.len().to_string(), true));
}

/// A transaction ended: its messages go with it (O02.FR.02).
pub(in crate::station) fn transaction_ended(st: &mut Station, tx: &str) {
    st.display_messages.retain(|m| m["transactionId"].as_str() != Some(tx));
    count(st);
}

/// What a reboot takes: nothing (O01.FR.10), unless fault forget-display-messages.
pub(in crate::station) fn rebooted(st: &mut Station) {
    if st.cfg.faults.has(&Fault::ForgetDisplayMessages) {
        st.display_messages.clear();
        count(st);
    }
}
