//! Smart charging of the 2.x reference station (K01, K08-K13): charging profiles per EVSE (0:
//! the station), kept across reboots (K01.FR.27), and the composite schedule they make —
//! stack levels, purposes, validity, Absolute / Relative / Recurring schedules, limits in A or
//! W — which also caps the power the simulated EV draws. A grid operator's load-shedding input
//! (bench relay `load-shedding`) is an external limit (K11-K13).
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::super::{Out, Station};
use crate::Fault;

/// Line voltage for converting A and W (K01.FR.50), and the phases a profile without
/// numberPhases means (K01.FR.49).
const VOLTS: f64 = 230.0;
const PHASES: f64 = 3.0;
/// What an EVSE can deliver without any profile: 32 A on three phases.
const EVSE_MAX_A: f64 = 32.0;

/// What the load-shedding input allows the whole station, and the id and source its
/// ChargingStationExternalConstraints profile is reported with.
const SHEDDING_A: f64 = 6.0;
const EXTERNAL_ID: i64 = 9_003;
const EXTERNAL_SOURCE: &str = "EMS";

/// The source the station names for its external limit (fault external-limit-as-cso: CSO).
fn external_source(st: &Station) -> &'static str {
    if st.cfg.faults.has(&Fault::ExternalLimitAsCso) { "CSO" } else { EXTERNAL_SOURCE }
}
const EXTERNAL: &str = "ChargingStationExternalConstraints";

/// The load-shedding input switched: the limit becomes a ChargingStationExternalConstraints
/// profile of the station (K12.FR.05), or goes; the CSMS is told (NotifyChargingLimit, with
/// the schedule when NotifyChargingLimitWithSchedules, K12.FR.02-04; ClearedChargingLimit,
/// K13.FR.02), and each transaction whose rate changes sends ChargingRateChanged (K11.FR.04,
/// K13.FR.03).
pub(in crate::station) fn external_limit(st: &mut Station, on: bool) {
    let installed = st.charging_profiles.iter().any(|(_, q)| q["id"] == EXTERNAL_ID);
    if on == installed {
        return;
    }
    st.advance_meters();
    let before: Vec<f64> = (0..st.evses.len()).map(|i| allowed_power_w(st, i)).collect();
    if on {
        let schedule = json!({"id": 1, "startSchedule": ocpp_core::defaults::now_rfc3339(), "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": SHEDDING_A}]});
        let profile = json!({"id": EXTERNAL_ID, "stackLevel": 0, "chargingProfilePurpose": EXTERNAL, "chargingProfileKind": "Absolute", "chargingSchedule": [schedule]});
        install(st, 0, &profile);
        let mut notify = json!({"chargingLimit": {"chargingLimitSource": external_source(st), "isGridCritical": true}});
        if st.settings.get("SmartChargingCtrlr.NotifyChargingLimitWithSchedules").is_some_and(|(v, _)| v == "true") {
            notify["chargingSchedule"] = json!([schedule]);
        }
        st.enqueue(Out::call("NotifyChargingLimit", notify));
    } else {
        st.charging_profiles.retain(|(_, q)| q["id"] != EXTERNAL_ID);
        count(st);
        st.enqueue(Out::call("ClearedChargingLimit", json!({"chargingLimitSource": external_source(st)})));
    }
    let significance = st.settings.get("SmartChargingCtrlr.LimitChangeSignificance").and_then(|(v, _)| v.parse::<f64>().ok()).unwrap_or(0.0);
    for (i, was) in before.into_iter().enumerate() {
        let now = allowed_power_w(st, i);
        let changed = was > 0.0 && ((now - was) / was).abs() * 100.0 > significance;
        if changed && st.evses[i].tx.is_some() {
            let out = super::tx_updated(st, i, crate::station::Trigger::ChargingRateChanged);
            st.enqueue(out);
        }
    }
}

/// The source a profile is reported with: the external system's for its limit (K12.FR.04).
fn source(st: &Station, q: &Value) -> &'static str {
    if q["chargingProfilePurpose"] == EXTERNAL { external_source(st) } else { "CSO" }
}

/// SetChargingProfile: the status to answer (K01).
pub(super) fn set(st: &mut Station, p: &Value) -> &'static str {
    let evse = p["evseId"].as_u64().unwrap_or(0) as u32;
    let profile = &p["chargingProfile"];
    let purpose = profile["chargingProfilePurpose"].as_str().unwrap_or_default();
    let kind = profile["chargingProfileKind"].as_str().unwrap_or_default();
    let schedule = first_schedule(profile);
    let known_evse = evse == 0 || st.evse_index(evse).is_some();
    let unit_ok = schedule.is_some_and(|s| units(st).contains(&s["chargingRateUnit"].as_str().unwrap_or_default()));
    let start_ok = match kind {
        "Absolute" | "Recurring" => schedule.is_some_and(|s| s.get("startSchedule").is_some()),
        _ => true,
    };
    let fits = match purpose {
        // K01.FR.16, K01.FR.09, K01.FR.33: a running transaction on that EVSE, the one named.
        "TxProfile" => {
            let stray = st.cfg.faults.has(&Fault::AcceptStrayTxProfile) && st.evse_index(evse).is_some();
            evse != 0 && (stray || running_tx(st, evse).is_some_and(|tx| profile.get("transactionId").is_none_or(|t| t.as_str() == Some(tx.as_str()))))
        }
        // K01.FR.38: never Relative.
        "ChargingStationMaxProfile" => evse == 0 && kind != "Relative",
        "TxDefaultProfile" => true,
        // K01.FR.22: that purpose is the station's own.
        _ => false,
    };
    let max_level = st.settings.get("SmartChargingCtrlr.ProfileStackLevel").and_then(|(v, _)| v.parse::<i64>().ok()).unwrap_or(0);
    let level_ok = profile["stackLevel"].as_i64().is_some_and(|l| l <= max_level);
    if !(known_evse && unit_ok && start_ok && fits && level_ok) {
        return "Rejected";
    }
    install(st, evse, profile);
    "Accepted"
}

/// Keep `profile` for `evse`; one with its id goes (K01.FR.05: the same id replaces it).
fn install(st: &mut Station, evse: u32, profile: &Value) {
    st.charging_profiles.retain(|(_, q)| q["id"] != profile["id"]);
    st.charging_profiles.push((evse, profile.clone()));
    count(st);
}

/// Entries[ChargingProfiles]: how many are installed.
fn count(st: &mut Station) {
    st.settings.insert("SmartChargingCtrlr.Entries[ChargingProfiles]".into(), (st.charging_profiles.len().to_string(), true));
}

/// The units the station takes (SmartChargingCtrlr.RateUnit; fault accept-any-unit: both).
fn units(st: &Station) -> Vec<&str> {
    if st.cfg.faults.has(&Fault::AcceptAnyUnit) {
        return vec!["A", "W"];
    }
    st.settings.get("SmartChargingCtrlr.RateUnit").map(|(v, _)| v.split(',').map(str::trim).collect()).unwrap_or_else(|| vec!["A", "W"])
}

fn first_schedule(profile: &Value) -> Option<&Value> {
    profile["chargingSchedule"].as_array().and_then(|s| s.first())
}

/// The id of the transaction running on `evse`.
fn running_tx(st: &Station, evse: u32) -> Option<String> {
    st.evse_index(evse).and_then(|i| st.evses[i].tx.as_ref()).map(|t| t.id.clone())
}

/// GetChargingProfiles (K09): NoProfiles, or Accepted with a ReportChargingProfiles per EVSE
/// (tbc on all but the last, K09.FR.02), each naming the request (K09.FR.01).
pub(super) fn get(st: &mut Station, p: &Value) -> Value {
    let criteria = &p["chargingProfile"];
    let ids: Vec<&Value> = criteria["chargingProfileId"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
    let loose = st.cfg.faults.has(&Fault::IgnoreProfileCriteria);
    let matches = |evse: u32, q: &Value| {
        p.get("evseId").is_none_or(|e| e.as_u64() == Some(u64::from(evse)))
            && (ids.is_empty() || ids.contains(&&q["id"]))
            && (loose || criteria.get("chargingProfilePurpose").is_none_or(|v| *v == q["chargingProfilePurpose"])
            && criteria.get("stackLevel").is_none_or(|v| *v == q["stackLevel"])
            && criteria["chargingLimitSource"].as_array().is_none_or(|s| s.iter().any(|x| x == source(st, q))))
    };
    // One report per EVSE and source: a report names one chargingLimitSource.
    let mut by_evse: std::collections::BTreeMap<(u32, &str), Vec<Value>> = Default::default();
    for (evse, q) in st.charging_profiles.iter().filter(|(e, q)| matches(*e, q)) {
        by_evse.entry((*evse, source(st, q))).or_default().push(q.clone());
    }
    if by_evse.is_empty() {
        return json!({"status": "NoProfiles"});
    }
    let n = by_evse.len();
    for (k, ((evse, source), profiles)) in by_evse.into_iter().enumerate() {
        let report = json!({"requestId": p["requestId"], "chargingLimitSource": source, "evseId": evse, "chargingProfile": profiles, "tbc": k + 1 < n});
        st.enqueue(Out::call("ReportChargingProfiles", report));
    }
    json!({"status": "Accepted"})
}

/// ClearChargingProfile (K10): by id, else by every criterion given; Unknown when nothing
/// matched (K10.FR.01). An external limit is not the CSMS's to clear (K10.FR.08/09).
pub(super) fn clear(st: &mut Station, p: &Value) -> &'static str {
    let c = &p["chargingProfileCriteria"];
    let matches = |evse: u32, q: &Value| q["chargingProfilePurpose"] != EXTERNAL && match p.get("chargingProfileId") {
        Some(id) => q["id"] == *id,
        None => {
            c.get("evseId").is_none_or(|e| e.as_u64() == Some(u64::from(evse)))
                && c.get("chargingProfilePurpose").is_none_or(|v| *v == q["chargingProfilePurpose"])
                && c.get("stackLevel").is_none_or(|v| *v == q["stackLevel"])
        }
    };
    let before = st.charging_profiles.len();
    st.charging_profiles.retain(|(e, q)| !matches(*e, q));
    count(st);
    if st.charging_profiles.len() < before { "Accepted" } else { "Unknown" }
}

/// A RequestStartTransaction's profile (K05, F01.FR.08-11): a TxProfile without a
/// transactionId, installed for `evse` and bound to the transaction that starts there (or
/// runs there already, F01.FR.10). False when invalid.
pub(super) fn remote_profile(st: &mut Station, evse: u32, profile: &Value) -> bool {
    if st.cfg.faults.has(&Fault::IgnoreStartProfile) {
        return true;
    }
    let schedule = first_schedule(profile);
    let ok = profile["chargingProfilePurpose"] == "TxProfile"
        && profile.get("transactionId").is_none()
        && evse != 0
        && schedule.is_some_and(|s| units(st).contains(&s["chargingRateUnit"].as_str().unwrap_or_default()));
    if ok {
        install(st, evse, profile);
        if let Some(i) = st.evse_index(evse) {
            bind_remote(st, i);
        }
    }
    ok
}

/// The transaction on EVSE index `i` takes the TxProfiles waiting for it.
pub(super) fn bind_remote(st: &mut Station, i: usize) {
    let Some(tx) = st.evses[i].tx.as_ref().map(|t| t.id.clone()) else { return };
    let evse = st.evses[i].id;
    for (e, q) in st.charging_profiles.iter_mut() {
        if *e == evse && q["chargingProfilePurpose"] == "TxProfile" && q.get("transactionId").is_none() {
            q["transactionId"] = json!(tx);
        }
    }
}

/// A transaction ended: its TxProfiles go with it.
pub(in crate::station) fn transaction_ended(st: &mut Station, tx: &str) {
    st.charging_profiles.retain(|(_, q)| !(q["chargingProfilePurpose"] == "TxProfile" && q["transactionId"].as_str() == Some(tx)));
    count(st);
}

/// GetCompositeSchedule (K08): Rejected for an EVSE it does not have (K08.FR.05) or a unit it
/// does not take (K08.FR.07); else the limits from now over the duration (K08.FR.02).
pub(super) fn composite(st: &Station, p: &Value) -> Value {
    let evse = p["evseId"].as_u64().unwrap_or(0) as u32;
    let unit = p["chargingRateUnit"].as_str().unwrap_or("A");
    if (evse != 0 && st.evse_index(evse).is_none()) || !units(st).contains(&unit) {
        return json!({"status": "Rejected"});
    }
    let duration = p["duration"].as_i64().unwrap_or(0).clamp(0, 7 * 86_400);
    let now = Utc::now();
    let mut periods: Vec<Value> = vec![];
    let mut last = None;
    for s in 0..duration.max(1) {
        let limit = (limit_at(st, evse, now + chrono::Duration::seconds(s), unit) * 10.0).round() / 10.0;
        if last != Some(limit) {
            periods.push(json!({"startPeriod": s, "limit": limit}));
            last = Some(limit);
        }
    }
    json!({"status": "Accepted", "schedule": {
        "evseId": evse, "duration": duration, "scheduleStart": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "chargingRateUnit": unit, "chargingSchedulePeriod": periods,
    }})
}

/// The limit in force on `evse` at `t`, in `unit`: the TxProfile of its transaction, else its
/// TxDefaultProfile (its own or EVSE 0's), with the highest stack level (K01.FR.17), capped by
/// the ChargingStationMaxProfile (K08.FR.04) and an external limit; what the EVSE can deliver
/// without one. EVSE 0:
/// the station's cap, else every EVSE at its limit (K08.FR.03).
pub(super) fn limit_at(st: &Station, evse: u32, t: DateTime<Utc>, unit: &str) -> f64 {
    let top = |purpose: &str, on: &dyn Fn(u32) -> bool| {
        st.charging_profiles
            .iter()
            .filter(|(e, q)| on(*e) && q["chargingProfilePurpose"] == purpose)
            .filter_map(|(e, q)| Some((q["stackLevel"].as_i64().unwrap_or(0), *e != 0, profile_limit(st, *e, q, t, unit)?)))
            .max_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)))
            .map(|(_, _, l)| l)
    };
    let max = top("ChargingStationMaxProfile", &|e| e == 0).filter(|_| !st.cfg.faults.has(&Fault::IgnoreMaxProfile));
    // K11.FR.01, K12.FR.01: no faster than the external limit; the station's is shared by
    // the EVSEs charging.
    let sharing = st.evses.iter().filter(|e| e.tx.is_some()).count().max(1) as f64;
    let external = top(EXTERNAL, &|e| e == 0).map(|l| if evse == 0 { l } else { l / sharing });
    let cap = match (max, external) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let full = |u: &str| if u == "W" { EVSE_MAX_A * VOLTS * PHASES } else { EVSE_MAX_A };
    if evse == 0 {
        let each: f64 = st.evses.iter().map(|e| limit_at(st, e.id, t, unit)).sum();
        return cap.map_or(each, |c| c.min(each));
    }
    let tx = running_tx(st, evse);
    let own = top("TxProfile", &|e| e == evse).filter(|_| tx.is_some()).or_else(|| top("TxDefaultProfile", &|e| e == evse || e == 0));
    let limit = own.unwrap_or(full(unit));
    cap.map_or(limit, |c| c.min(limit))
}

/// The limit `q` (installed on `evse`) sets at `t` in `unit`, if it is valid then (K01.FR.36/37)
/// and its schedule has begun (K01.FR.30) and not run out (K01.FR.11).
fn profile_limit(st: &Station, evse: u32, q: &Value, t: DateTime<Utc>, unit: &str) -> Option<f64> {
    let time = |v: &Value| v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|d| d.with_timezone(&Utc));
    let valid = st.cfg.faults.has(&Fault::IgnoreProfileValidity) || !(time(&q["validFrom"]).is_some_and(|f| t < f) || time(&q["validTo"]).is_some_and(|to| t >= to));
    if !valid {
        return None;
    }
    let s = first_schedule(q)?;
    let start = match q["chargingProfileKind"].as_str() {
        Some("Recurring") => {
            let first = time(&s["startSchedule"])?;
            let every = if q["recurrencyKind"] == "Weekly" { 7 * 86_400 } else { 86_400 };
            let since = (t - first).num_seconds();
            if since < 0 {
                return None;
            }
            first + chrono::Duration::seconds(since - since % every)
        }
        Some("Absolute") => time(&s["startSchedule"])?,
        // Relative: from the transaction's start, or now for an EVSE without one (K08.FR.06).
        _ => st.evse_index(evse).and_then(|i| st.evses[i].tx.as_ref()).map(|tx| tx.started).unwrap_or(t),
    };
    let offset = (t - start).num_seconds();
    if offset < 0 || s["duration"].as_i64().is_some_and(|d| offset >= d) {
        return None;
    }
    let period = s["chargingSchedulePeriod"].as_array()?.iter().take_while(|p| p["startPeriod"].as_i64().unwrap_or(0) <= offset).last()?;
    let limit = period["limit"].as_f64()?;
    let phases = period["numberPhases"].as_f64().unwrap_or(PHASES);
    Some(match (s["chargingRateUnit"].as_str()?, unit) {
        ("A", "W") => limit * VOLTS * phases,
        ("W", "A") => limit / (VOLTS * phases),
        _ => limit,
    })
}

/// The power the EV on EVSE index `i` may draw now, in W.
pub(in crate::station) fn allowed_power_w(st: &Station, i: usize) -> f64 {
    limit_at(st, st.evses[i].id, Utc::now(), "W")
}

/// What a reboot takes: nothing (K01.FR.27), unless fault forget-charging-profiles.
pub(in crate::station) fn rebooted(st: &mut Station) {
    if st.cfg.faults.has(&Fault::ForgetChargingProfiles) {
        st.charging_profiles.clear();
        count(st);
    }
}
