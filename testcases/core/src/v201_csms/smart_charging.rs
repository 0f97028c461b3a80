//! Block K, smart charging, for a CSMS DUT (part 6 §3.11): when its operator asks (through the
//! CSMS's control API, `csms-trigger`), the CSMS sets charging profiles (K01), starts a
//! transaction with one (K05), asks for the composite schedule (K08), for the installed
//! profiles (K09) and clears them (K10); the harness's station answers as part 6 says.
//!
//! Part 6's "<Configured …>" values are what the operator asks for: EVSE 1, stack level
//! [`LEVEL`], a schedule of [`DURATION`] s, and the unit and phases of `charging_rate`. Each profile the CSMS sends is also held to part 2's SHALLs
//! on the CSMS (`profile_rules`), whatever the operator asked.
use serde_json::{Value, json};

use super::{STATION, event, event_with_token, new_tx_id, operated_case, registered, running, token_json, triggered};
use crate::{
    Case,
    charging_rate::{limit, phases, unit},
    kit::{self, *},
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    operated_case(id, title, requirements, run).profile("smart-charging")
}

pub(super) fn cases() -> Vec<Case> {
    vec![
        case("TC_K_01_CSMS", "The CSMS sets the TxDefaultProfile its operator gives for one EVSE", &["K01", "K01.FR.31", "K01.FR.40"], tc_k_01),
        case("TC_K_10_CSMS", "The CSMS sets a TxDefaultProfile for EVSE 0 (every EVSE)", &["K01", "K01.FR.31", "K01.FR.40"], tc_k_10),
        case("TC_K_03_CSMS", "The CSMS sets a ChargingStationMaxProfile on EVSE 0, never Relative", &["K01", "K01.FR.31", "K01.FR.38"], tc_k_03),
        case("TC_K_60_CSMS", "The CSMS sets a TxProfile for the running transaction, naming it", &["K01", "K01.FR.03", "K01.FR.31"], tc_k_60),
        case("TC_K_19_CSMS", "The CSMS sets a Recurring TxDefaultProfile with its recurrencyKind and startSchedule", &["K01", "K01.FR.31", "K01.FR.40"], tc_k_19),
        case("TC_K_15_CSMS", "A station without smart charging answers SetChargingProfile NotSupported: the CSMS goes on", &["K01"], tc_k_15),
        case("TC_K_70_CSMS", "The CSMS sets two profiles of different ids and stack levels", &["K01", "K01.FR.06"], tc_k_70),
        case("TC_K_04_CSMS", "The CSMS replaces a profile by sending another with the same id", &["K01", "K01.FR.05"], tc_k_04),
        case("TC_K_37_CSMS", "The CSMS starts a transaction remotely with a Relative TxProfile without transactionId", &["K05.FR.02", "F01.FR.08", "F01.FR.09", "F01.FR.11"], tc_k_37),
        case("TC_K_43_CSMS", "The CSMS asks the composite schedule of one EVSE and takes it", &["K08.FR.01"], tc_k_43),
        case("TC_K_44_CSMS", "The CSMS asks the composite schedule of the whole station (EVSE 0) and takes it", &["K08.FR.01"], tc_k_44),
        case("TC_K_29_CSMS", "The CSMS asks the profiles of EVSE 0 of one purpose and takes the report", &["K09.FR.03"], tc_k_29),
        case("TC_K_30_CSMS", "The CSMS asks the profiles of one EVSE and takes the report", &["K09.FR.03"], tc_k_30),
        case("TC_K_31_CSMS", "The CSMS asks the profiles of every EVSE and takes one report per EVSE", &["K09.FR.03"], tc_k_31),
        case("TC_K_32_CSMS", "The CSMS asks one profile by its id and takes the report", &["K09.FR.03"], tc_k_32),
        case("TC_K_33_CSMS", "The CSMS asks an EVSE's profiles of one stack level", &["K09.FR.03"], tc_k_33),
        case("TC_K_34_CSMS", "The CSMS asks an EVSE's profiles from one charging limit source", &["K09.FR.03"], tc_k_34),
        case("TC_K_35_CSMS", "The CSMS asks an EVSE's profiles of one purpose", &["K09.FR.03"], tc_k_35),
        case("TC_K_36_CSMS", "The CSMS asks an EVSE's profiles of one purpose and stack level", &["K09.FR.03"], tc_k_36),
        case("TC_K_05_CSMS", "The CSMS clears a profile by its id, without criteria", &["K10.FR.02"], tc_k_05),
        case("TC_K_06_CSMS", "The CSMS clears by purpose, EVSE and stack level", &["K10.FR.02"], tc_k_06),
        case("TC_K_08_CSMS", "The CSMS clears by criteria no profile matches and takes Unknown", &["K10.FR.02"], tc_k_08),
        plain("TC_K_48_CSMS", "The CSMS takes an external limit the station reports outside a transaction", &["K12", "K12.FR.02"], tc_k_48),
        plain("TC_K_50_CSMS", "The CSMS takes the release of an external limit outside a transaction", &["K13", "K13.FR.02"], tc_k_50),
        plain("TC_K_51_CSMS", "The CSMS takes the release of an external limit and the rate change of the running transaction", &["K13", "K13.FR.02", "K13.FR.03"], tc_k_51),
        case("TC_K_52_CSMS", "The CSMS takes a profile report of the external constraints it asked for", &["K12", "K12.FR.05", "K09.FR.03"], tc_k_52),
    ]
}

/// A case the station starts alone: no operator needed.
fn plain(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    Case::new(id, title, STATION, V201, requirements, run).timeout_ms(30_000).profile("smart-charging")
}

/// Part 6's "<Configured stackLevel>" and "<Configured duration>" (s).
const LEVEL: i64 = 1;
const DURATION: i64 = 300;

/// The profile the operator asks for: one schedule of [`DURATION`] s, one period from 0 at
/// `amps`; Absolute and Recurring ones start now and are valid for the schedule's duration.
/// `extra` adds or replaces profile fields.
fn operator_profile(purpose: &str, kind: &str, amps: f64, extra: Value) -> Value {
    let mut schedule = json!({"id": 1, "chargingRateUnit": unit(), "duration": DURATION, "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit(amps), "numberPhases": phases()}]});
    let mut p = json!({"id": kit::unique_number(), "stackLevel": LEVEL, "chargingProfilePurpose": purpose, "chargingProfileKind": kind});
    if kind != "Relative" {
        schedule["startSchedule"] = json!(kit::now());
        p["validFrom"] = json!(kit::now());
        p["validTo"] = json!(kit::time_from_now(DURATION));
    }
    p["chargingSchedule"] = json!([schedule]);
    if let (Some(a), Some(b)) = (p.as_object_mut(), extra.as_object()) {
        a.extend(b.clone());
    }
    p
}

/// Part 2's SHALLs on a profile a CSMS sends, whatever the operator asked: a purpose the CSMS
/// may set (K01.FR.22), a station cap never Relative (K01.FR.38), a TxProfile naming its
/// transaction in SetChargingProfile (K01.FR.03) and not in RequestStartTransaction
/// (F01.FR.11), one schedule without ISO 15118 (K01.FR.34), each starting at 0 (K01.FR.31) in
/// increasing order (K01.FR.35), with startSchedule exactly when not Relative (K01.FR.40/41),
/// and phaseToUse only on one phase (K01.FR.19).
fn profile_rules(p: &Value, remote_start: bool) -> Step {
    let purpose = p["chargingProfilePurpose"].as_str().unwrap_or_default();
    let kind = p["chargingProfileKind"].as_str().unwrap_or_default();
    kit::check(purpose != "ChargingStationExternalConstraints", "K01.FR.22", "a purpose the CSMS may set", || p.to_string())?;
    kit::check(!(purpose == "ChargingStationMaxProfile" && kind == "Relative"), "K01.FR.38", "a ChargingStationMaxProfile that is not Relative", || p.to_string())?;
    if remote_start {
        kit::check(p.get("transactionId").is_none(), "F01.FR.11", "no transactionId in a RequestStartTransaction's profile", || p.to_string())?;
    } else if purpose == "TxProfile" {
        kit::check(p["transactionId"].is_string(), "K01.FR.03", "the transactionId in a TxProfile", || p.to_string())?;
    }
    let schedules = p["chargingSchedule"].as_array().cloned().unwrap_or_default();
    kit::check(schedules.len() == 1, "K01.FR.34", "one chargingSchedule (no ISO 15118 charging needs were sent)", || format!("{} schedules", schedules.len()))?;
    for s in &schedules {
        let starts: Vec<i64> = s["chargingSchedulePeriod"].as_array().into_iter().flatten().map(|q| q["startPeriod"].as_i64().unwrap_or(-1)).collect();
        kit::check(starts.first() == Some(&0), "K01.FR.31", "the first chargingSchedulePeriod at startPeriod 0", || format!("startPeriods {starts:?}"))?;
        kit::check(starts.windows(2).all(|w| w[0] < w[1]), "K01.FR.35", "chargingSchedulePeriods in increasing startPeriod", || format!("startPeriods {starts:?}"))?;
        match kind {
            "Relative" => kit::check(s.get("startSchedule").is_none(), "K01.FR.41", "no startSchedule in a Relative profile", || s.to_string())?,
            _ => kit::check(s["startSchedule"].is_string(), "K01.FR.40", format!("a startSchedule in the {kind} profile"), || s.to_string())?,
        }
        for q in s["chargingSchedulePeriod"].as_array().into_iter().flatten() {
            let one_phase = q["numberPhases"] == 1;
            kit::check(q.get("phaseToUse").is_none() || one_phase, "K01.FR.19", "phaseToUse only with numberPhases 1", || q.to_string())?;
        }
    }
    Ok(())
}

/// The profile the CSMS sent is the operator's on the fields part 6 validates (`req`):
/// purpose, kind, stack level, id, unit, duration, the first period's limit and phases
/// (omitted allowed for 3), recurrencyKind and transactionId, and validity and start present
/// where the operator gave them.
fn as_asked(req: &str, sent: &Value, asked: &Value) -> Step {
    for field in ["id", "chargingProfilePurpose", "chargingProfileKind", "stackLevel", "recurrencyKind", "transactionId"] {
        kit::check(sent.get(field) == asked.get(field), req, format!("chargingProfile.{field} {}, as the operator asked", asked[field]), || format!("{}", sent[field]))?;
    }
    for field in ["validFrom", "validTo"] {
        kit::check(asked.get(field).is_none() || sent[field].is_string(), req, format!("chargingProfile.{field}, as the operator gave one"), || sent.to_string())?;
    }
    let (s, a) = (&sent["chargingSchedule"][0], &asked["chargingSchedule"][0]);
    for field in ["chargingRateUnit", "duration"] {
        kit::check(s[field] == a[field], req, format!("chargingSchedule.{field} {}", a[field]), || format!("{}", s[field]))?;
    }
    kit::check(a.get("startSchedule").is_none() || s["startSchedule"].is_string(), req, "chargingSchedule.startSchedule, as the operator gave one", || s.to_string())?;
    let (sp, ap) = (&s["chargingSchedulePeriod"][0], &a["chargingSchedulePeriod"][0]);
    kit::check(sp["limit"].as_f64() == ap["limit"].as_f64(), req, format!("limit {} {}", ap["limit"], unit()), || format!("limit {}", sp["limit"]))?;
    let phases_ok = sp["numberPhases"] == ap["numberPhases"] || (sp.get("numberPhases").is_none() && ap["numberPhases"] == 3);
    kit::check(phases_ok, req, format!("numberPhases {} (or none for 3)", ap["numberPhases"]), || format!("numberPhases {}", sp["numberPhases"]))
}

/// The operator has the CSMS set `profile` for `evse`; the SetChargingProfile it sends, held
/// to part 2 and to what was asked, answered `answer`. The profile sent.
fn profile_set(conn: &Connection, req: &str, evse: u32, profile: &Value, answer: &str) -> Step<Value> {
    let p = triggered(conn, req, "SetChargingProfile", json!({"evseId": evse, "chargingProfile": profile}), json!({"status": answer}))?;
    let sent = p["chargingProfile"].clone();
    profile_rules(&sent, false)?;
    kit::check(p["evseId"] == evse, req, format!("evseId {evse}, as the operator asked"), || format!("evseId {}", p["evseId"]))?;
    as_asked(req, &sent, profile)?;
    Ok(sent)
}

fn tc_k_01() -> Step {
    let conn = registered()?;
    profile_set(&conn, "K01", 1, &operator_profile("TxDefaultProfile", "Absolute", 6.0, json!({})), "Accepted").map(drop)
}

fn tc_k_10() -> Step {
    let conn = registered()?;
    profile_set(&conn, "K01", 0, &operator_profile("TxDefaultProfile", "Absolute", 6.0, json!({})), "Accepted").map(drop)
}

fn tc_k_03() -> Step {
    let conn = registered()?;
    profile_set(&conn, "K01", 0, &operator_profile("ChargingStationMaxProfile", "Absolute", 8.0, json!({})), "Accepted").map(drop)
}

/// EnergyTransferStarted, then a TxProfile for that transaction.
fn tc_k_60() -> Step {
    let conn = registered()?;
    let (tx, _) = running(&conn)?;
    let p = operator_profile("TxProfile", "Relative", 6.0, json!({"transactionId": tx}));
    profile_set(&conn, "K01", 1, &p, "Accepted").map(drop)
}

fn tc_k_19() -> Step {
    let conn = registered()?;
    let kind = config::parameter("recurrency-kind").filter(|k| k == "Weekly").unwrap_or_else(|| "Daily".into());
    let p = operator_profile("TxDefaultProfile", "Recurring", 6.0, json!({"recurrencyKind": kind}));
    profile_set(&conn, "K01", 1, &p, "Accepted").map(drop)
}

/// The station answers the SetChargingProfile with CALLERROR NotSupported; the CSMS keeps the
/// connection and answers the station's next message.
fn tc_k_15() -> Step {
    let conn = registered()?;
    kit::csms_trigger(&conn, "SetChargingProfile", json!({"evseId": 1, "chargingProfile": operator_profile("TxDefaultProfile", "Absolute", 6.0, json!({}))}))?;
    let call = kit::expect(&conn, "K01", "SetChargingProfile", 15_000)?;
    profile_rules(&call.payload["chargingProfile"], false)?;
    conn.reply_error(&call.id, "NotSupported", "smart charging is not supported (test)").map_err(|e| Verdict::Inconclusive(format!("the CALLERROR could not be sent: {e:?}")))?;
    kit::call(&conn, "K01", "Heartbeat", json!({}), 10_000).map(drop)
}

/// Two profiles of different ids and stack levels (K01.FR.06: the same purpose, EVSE and
/// level under another id is not allowed).
fn tc_k_70() -> Step {
    let conn = registered()?;
    let first = profile_set(&conn, "K01", 1, &operator_profile("TxDefaultProfile", "Absolute", 6.0, json!({})), "Accepted")?;
    let second = profile_set(&conn, "K01", 1, &operator_profile("TxDefaultProfile", "Absolute", 10.0, json!({"stackLevel": LEVEL + 1})), "Accepted")?;
    kit::check(first["id"] != second["id"] && first["stackLevel"] != second["stackLevel"], "K01.FR.06", "two profiles of different ids and stack levels", || {
        format!("ids {} and {}, stack levels {} and {}", first["id"], second["id"], first["stackLevel"], second["stackLevel"])
    })
}

/// A profile at 10 A, then the same id at 6 A: part 6 validates that the second has the id of
/// the first.
fn tc_k_04() -> Step {
    let conn = registered()?;
    let first = profile_set(&conn, "K01", 1, &operator_profile("TxDefaultProfile", "Absolute", 10.0, json!({})), "Accepted")?;
    let again = operator_profile("TxDefaultProfile", "Absolute", 6.0, json!({"id": first["id"]}));
    let second = profile_set(&conn, "K01", 1, &again, "Accepted")?;
    kit::check(second["id"] == first["id"], "K01.FR.05", format!("the id {} of the profile it replaces", first["id"]), || format!("id {}", second["id"]))
}

/// A remote start with a Relative TxProfile of 6 A: the request is checked (K05.FR.02,
/// F01.FR.09/11), Accepted, and the station starts the transaction for it.
fn tc_k_37() -> Step {
    let conn = registered()?;
    let token = kit::valid_token();
    let profile = operator_profile("TxProfile", "Relative", 6.0, json!({}));
    let hint = json!({"idToken": token_json(&token), "evseId": 1, "remoteStartId": kit::unique_number(), "chargingProfile": profile});
    kit::csms_trigger(&conn, "RequestStartTransaction", hint)?;
    let call = kit::expect(&conn, "F01.FR.08", "RequestStartTransaction", 15_000)?;
    let p = &call.payload;
    kit::check(at(p, "/idToken/idToken") == token.as_str() && p["evseId"] == 1, "F01", format!("a remote start for {token} on EVSE 1, as the operator asked"), || p.to_string())?;
    let sent = &p["chargingProfile"];
    kit::check(sent.is_object(), "F01.FR.08", "the operator's chargingProfile in the request", || p.to_string())?;
    kit::check(sent["chargingProfilePurpose"] == "TxProfile", "F01.FR.09", "chargingProfilePurpose TxProfile (K05.FR.02)", || sent.to_string())?;
    profile_rules(sent, true)?;
    as_asked("F01.FR.08", sent, &profile)?;
    let remote_id = p["remoteStartId"].as_i64().unwrap_or_default();
    kit::reply(&conn, "F01", &call, "RequestStartTransaction", json!({"status": "Accepted"}))?;
    let tx = new_tx_id("TX");
    let extra = json!({"transactionInfo": {"remoteStartId": remote_id}});
    event_with_token(&conn, "F01", "Started", "RemoteStart", 0, &tx, &token, extra).map(drop)
}

/// The CSMS asks the composite schedule of `evse` over [`DURATION`] s in the configured unit;
/// the station answers one from startPeriod 0.
fn composite_asked(evse: u32) -> Step {
    let conn = registered()?;
    kit::csms_trigger(&conn, "GetCompositeSchedule", json!({"evseId": evse, "duration": DURATION, "chargingRateUnit": unit()}))?;
    let call = kit::expect(&conn, "K08.FR.01", "GetCompositeSchedule", 15_000)?;
    let p = &call.payload;
    let ok = p["evseId"] == evse && p["duration"] == DURATION && p["chargingRateUnit"] == unit().as_str();
    kit::check(ok, "K08.FR.01", format!("GetCompositeSchedule of EVSE {evse} over {DURATION} s in {}, as the operator asked", unit()), || p.to_string())?;
    let schedule = json!({"evseId": evse, "duration": DURATION, "scheduleStart": kit::now(), "chargingRateUnit": unit(), "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit(16.0)}]});
    kit::reply(&conn, "K08", &call, "GetCompositeSchedule", json!({"status": "Accepted", "schedule": schedule}))?;
    kit::call(&conn, "K08", "Heartbeat", json!({}), 10_000).map(drop)
}

fn tc_k_43() -> Step {
    composite_asked(1)
}

fn tc_k_44() -> Step {
    composite_asked(0)
}

/// The operator has the CSMS ask the profiles (`evse` and `criteria`); the request holds them
/// and names criteria as K09.FR.03 wants; the station answers Accepted and reports
/// `reports` (EVSE, profile) with the request's id, tbc on all but the last, each answered.
fn profiles_asked(conn: &Connection, evse: Option<u32>, criteria: Value, reports: &[(u32, Value)]) -> Step {
    profiles_reported(conn, evse, criteria, "CSO", reports)
}

/// [`profiles_asked`], the reports from `source`.
fn profiles_reported(conn: &Connection, evse: Option<u32>, criteria: Value, source: &str, reports: &[(u32, Value)]) -> Step {
    let mut hint = json!({"requestId": kit::unique_number(), "chargingProfile": criteria});
    if let Some(e) = evse {
        hint["evseId"] = json!(e);
    }
    kit::csms_trigger(conn, "GetChargingProfiles", hint)?;
    let call = kit::expect(conn, "K09.FR.03", "GetChargingProfiles", 15_000)?;
    let p = call.payload.clone();
    let sent = &p["chargingProfile"];
    let by_id = sent["chargingProfileId"].as_array().is_some_and(|l| !l.is_empty());
    let by_field = ["stackLevel", "chargingLimitSource", "chargingProfilePurpose"].iter().any(|f| sent.get(*f).is_some());
    kit::check(by_id || by_field, "K09.FR.03", "criteria: profile ids, or stackLevel, chargingLimitSource or chargingProfilePurpose", || sent.to_string())?;
    kit::check(p.get("evseId") == evse.map(|e| json!(e)).as_ref(), "K09.FR.03", format!("evseId {}, as the operator asked", evse.map_or("omitted".into(), |e| e.to_string())), || {
        format!("evseId {}", p["evseId"])
    })?;
    for (field, wanted) in criteria.as_object().cloned().unwrap_or_default() {
        kit::check(sent[&field] == wanted, "K09.FR.03", format!("chargingProfile.{field} {wanted}, as the operator asked"), || sent.to_string())?;
    }
    kit::reply(conn, "K09", &call, "GetChargingProfiles", json!({"status": "Accepted"}))?;
    for (k, (e, profile)) in reports.iter().enumerate() {
        let report = json!({"requestId": p["requestId"], "chargingLimitSource": source, "evseId": e, "chargingProfile": [profile], "tbc": k + 1 < reports.len()});
        kit::call(conn, "K09", "ReportChargingProfiles", report, 10_000)?;
    }
    Ok(())
}

/// An installed profile the station reports (`id`, `purpose`, at [`LEVEL`]).
fn installed(id: u32, purpose: &str) -> Value {
    let mut p = operator_profile(purpose, "Absolute", 6.0, json!({}));
    p["id"] = json!(id);
    p
}

fn tc_k_29() -> Step {
    profiles_asked(&registered()?, Some(0), json!({"chargingProfilePurpose": "ChargingStationMaxProfile"}), &[(0, installed(1, "ChargingStationMaxProfile"))])
}

fn tc_k_30() -> Step {
    profiles_asked(&registered()?, Some(1), json!({"chargingProfilePurpose": "TxDefaultProfile"}), &[(1, installed(2, "TxDefaultProfile"))])
}

/// Every EVSE: a report per EVSE, tbc true until the last (part 6 steps 3-4 per EVSE).
fn tc_k_31() -> Step {
    let reports = [(0, installed(1, "ChargingStationMaxProfile")), (1, installed(2, "TxDefaultProfile"))];
    profiles_asked(&registered()?, None, json!({"chargingLimitSource": ["CSO"]}), &reports)
}

fn tc_k_32() -> Step {
    profiles_asked(&registered()?, None, json!({"chargingProfileId": [2]}), &[(1, installed(2, "TxDefaultProfile"))])
}

fn tc_k_33() -> Step {
    profiles_asked(&registered()?, Some(1), json!({"stackLevel": LEVEL}), &[(1, installed(2, "TxDefaultProfile"))])
}

fn tc_k_34() -> Step {
    profiles_asked(&registered()?, Some(1), json!({"chargingLimitSource": ["CSO"]}), &[(1, installed(2, "TxDefaultProfile"))])
}

fn tc_k_35() -> Step {
    profiles_asked(&registered()?, Some(1), json!({"chargingProfilePurpose": "TxDefaultProfile"}), &[(1, installed(2, "TxDefaultProfile"))])
}

fn tc_k_36() -> Step {
    profiles_asked(&registered()?, Some(1), json!({"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": LEVEL}), &[(1, installed(2, "TxDefaultProfile"))])
}

/// The operator has the CSMS clear (`hint`); the request names a profile or criteria
/// (K10.FR.02) as asked, answered `answer`.
fn cleared(conn: &Connection, hint: Value, answer: &str) -> Step {
    let p = triggered(conn, "K10.FR.02", "ClearChargingProfile", hint.clone(), json!({"status": answer}))?;
    let c = &p["chargingProfileCriteria"];
    let named = p["chargingProfileId"].is_i64() || ["stackLevel", "evseId", "chargingProfilePurpose"].iter().any(|f| c.get(*f).is_some());
    kit::check(named, "K10.FR.02", "a chargingProfileId, or criteria with stackLevel, evseId or chargingProfilePurpose", || p.to_string())?;
    kit::check(p.get("chargingProfileId") == hint.get("chargingProfileId"), "K10.FR.02", format!("chargingProfileId {}, as the operator asked", hint["chargingProfileId"]), || p.to_string())?;
    for (field, wanted) in hint["chargingProfileCriteria"].as_object().cloned().unwrap_or_default() {
        kit::check(c[&field] == wanted, "K10.FR.02", format!("chargingProfileCriteria.{field} {wanted}, as the operator asked"), || p.to_string())?;
    }
    if hint.get("chargingProfileCriteria").is_none() {
        kit::check(p.get("chargingProfileCriteria").is_none(), "K10.FR.02", "no chargingProfileCriteria with the id (part 6 step 1)", || p.to_string())?;
    }
    Ok(())
}

/// Part 6's memory state: the CSMS asked the EVSE's profiles and took the report of one;
/// then it clears that one by its id.
fn tc_k_05() -> Step {
    let conn = registered()?;
    let id = kit::unique_number();
    profiles_asked(&conn, Some(1), json!({"chargingProfilePurpose": "TxDefaultProfile"}), &[(1, installed(id, "TxDefaultProfile"))]).setup("the CSMS took a report of the EVSE's profiles")?;
    cleared(&conn, json!({"chargingProfileId": id}), "Accepted")
}

fn tc_k_06() -> Step {
    cleared(&registered()?, json!({"chargingProfileCriteria": {"evseId": 1, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": LEVEL}}), "Accepted")
}

fn tc_k_08() -> Step {
    cleared(&registered()?, json!({"chargingProfileCriteria": {"evseId": 1, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": LEVEL}}), "Unknown")
}

/// The limit an external system (an EMS) imposed, as NotifyChargingLimit names it (part 6
/// TC_K_48_CSMS step 1; never source CSO, K12.FR.04).
fn external_limit() -> Value {
    json!({"chargingLimitSource": "EMS", "isGridCritical": false})
}

/// K12: the station tells of an EMS limit outside a transaction; the CSMS answers.
fn tc_k_48() -> Step {
    let conn = registered()?;
    kit::call(&conn, "K12.FR.02", "NotifyChargingLimit", json!({"chargingLimit": external_limit()}), 10_000).map(drop)
}

/// K13: the station tells the EMS limit is released; the CSMS answers.
fn tc_k_50() -> Step {
    let conn = registered()?;
    kit::call(&conn, "K13.FR.02", "ClearedChargingLimit", json!({"chargingLimitSource": "EMS"}), 10_000).map(drop)
}

/// K13 with EnergyTransferStarted: after the release the transaction charges faster, so the
/// station sends ChargingRateChanged (K13.FR.03); the CSMS answers both.
fn tc_k_51() -> Step {
    let conn = registered()?;
    let (tx, seq) = running(&conn)?;
    kit::call(&conn, "K13.FR.02", "ClearedChargingLimit", json!({"chargingLimitSource": "EMS", "evseId": 1}), 10_000)?;
    event(&conn, "K13.FR.03", "Updated", "ChargingRateChanged", seq, &tx, json!({"transactionInfo": {"chargingState": "Charging"}})).map(drop)
}

/// The operator has the CSMS ask the station's external constraints; the station reports the
/// EMS's limit under purpose ChargingStationExternalConstraints (K12.FR.05).
fn tc_k_52() -> Step {
    let mut limit = installed(kit::unique_number(), "ChargingStationExternalConstraints");
    limit["stackLevel"] = json!(0);
    profiles_reported(&registered()?, Some(0), json!({"chargingProfilePurpose": "ChargingStationExternalConstraints"}), "EMS", &[(0, limit)])
}
