//! Smart charging for a charging-station DUT (part 6 §2.11, block K): charging profiles set
//! (K01), reported (K09) and combined into the composite schedule (K08).
//!
//! Part 6's "<Configured chargingRateUnit>" and "<Configured numberPhases>" are
//! `charging_rate`'s. Profiles a case leaves are cleared by the baseline after it.
use serde_json::{Value, json};

use crate::{
    Case,
    charging_rate::{self, limit, phases, unit},
    kit::{self, Connection, PilotState, Setup, StationState, Step, Verdict, at, clock, config},
};

use super::{TX, TxStart, booted, station_value, tx_id};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    super::station_case(id, title, requirements, &[], run).profile("smart-charging")
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        case("TC_K_01_CS", "A TxDefaultProfile for one EVSE is Accepted and reported for that EVSE", &["K01.FR.07", "K01.FR.15", "K09.FR.01"], tc_k_01),
        case("TC_K_10_CS", "A TxDefaultProfile for EVSE 0 (all EVSEs) is Accepted and reported for EVSE 0", &["K01.FR.07", "K01.FR.14", "K09.FR.01"], tc_k_10),
        case("TC_K_03_CS", "A ChargingStationMaxProfile is Accepted and reported for EVSE 0", &["K01.FR.07", "K09.FR.05"], tc_k_03),
        case("TC_K_02_CS", "A TxProfile for an EVSE without a transaction is Rejected", &["K01.FR.04", "K01.FR.07", "K01.FR.09"], tc_k_02),
        case("TC_K_11_CS", "A TxProfile for EVSE 0 is Rejected", &["K01.FR.04", "K01.FR.16"], tc_k_11),
        case("TC_K_14_CS", "A profile for an EVSE the station does not have is Rejected", &["K01.FR.28"], tc_k_14),
        case("TC_K_04_CS", "A profile with the id of one installed replaces it", &["K01.FR.05"], tc_k_04),
        case("TC_K_13_CS", "A profile is still installed after a reboot", &["K01.FR.27"], tc_k_13),
        case("TC_K_29_CS", "GetChargingProfiles for EVSE 0 reports the station's profiles only", &["K09.FR.01", "K09.FR.02", "K09.FR.05"], tc_k_29),
        case("TC_K_30_CS", "GetChargingProfiles for an EVSE reports that EVSE's profiles only", &["K09.FR.01", "K09.FR.02", "K09.FR.04"], tc_k_30),
        case("TC_K_31_CS", "GetChargingProfiles without an EVSE reports the profiles of every EVSE", &["K09.FR.01", "K09.FR.02", "K09.FR.06"], tc_k_31),
        case("TC_K_32_CS", "GetChargingProfiles for one profile id reports that profile only", &["K09.FR.01", "K09.FR.02", "K09.FR.06"], tc_k_32),
        case("TC_K_33_CS", "GetChargingProfiles for an EVSE and a stack level reports the EVSE's profile at that level only", &["K09.FR.02", "K09.FR.04"], tc_k_33),
        case("TC_K_34_CS", "GetChargingProfiles by charging limit source: the CSO's profiles, NoProfiles for a source without any", &["K09.FR.02", "K09.FR.04"], tc_k_34),
        case("TC_K_35_CS", "GetChargingProfiles for an EVSE and a purpose reports the EVSE's profile of that purpose", &["K09.FR.02", "K09.FR.04"], tc_k_35),
        case("TC_K_36_CS", "GetChargingProfiles for an EVSE, a purpose and a stack level reports the one profile with all three", &["K09.FR.02", "K09.FR.04"], tc_k_36),
        case("TC_K_37_CS", "RequestStartTransaction with a TxProfile: the transaction starts under that profile", &["K05.FR.03", "E01.FR.02", "F01.FR.10", "F01.FR.13"], tc_k_37)
            .needs(&["plug", "pilot"]),
        case("TC_K_12_CS", "A profile in the rate unit the station does not take is Rejected", &["K01.FR.26"], tc_k_12),
        case("TC_K_42_CS", "GetCompositeSchedule in the rate unit the station does not take is Rejected", &["K08.FR.07"], tc_k_42),
        case("TC_K_24_CS", "ClearChargingProfile by purpose and stack level clears the matching profiles of every EVSE", &["K10.FR.04"], tc_k_24),
        case("TC_K_39_CS", "GetCompositeSchedule of EVSE 0 without profiles: a schedule from startPeriod 0", &["K08.FR.02", "K08.FR.03", "K08.FR.06"], tc_k_39),
        case("TC_K_47_CS", "GetCompositeSchedule for an EVSE the station does not have is Rejected", &["K08.FR.05"], tc_k_47),
        case("TC_K_21_CS", "A TxDefaultProfile valid from 300 s on limits the composite schedule only from then", &["K01.FR.36", "K08.FR.02"], tc_k_21),
        case("TC_K_28_CS", "A TxDefaultProfile set during a transaction limits its composite schedule at once", &["K01.FR.32", "K08.FR.02"], tc_k_28)
            .needs(&["plug", "token-reader"]),
        case("TC_K_60_CS", "A TxProfile for the running transaction is Accepted and reported for its EVSE", &["K01.FR.04", "K01.FR.07", "K01.FR.15", "K09.FR.01"], tc_k_60)
            .needs(&["plug", "token-reader"]),
        case("TC_K_16_CS", "A TxProfile naming a transaction the station does not know is Rejected", &["K01.FR.33"], tc_k_16).needs(&["plug", "token-reader"]),
        case("TC_K_19_CS", "A Recurring profile with its startSchedule is Accepted", &["K01.FR.07", "K01.FR.40"], tc_k_19),
        case("TC_K_22_CS", "A TxDefaultProfile valid until 300 s from now limits the composite schedule only until then", &["K01.FR.37", "K08.FR.02"], tc_k_22),
        case("TC_K_23_CS", "An Absolute profile whose schedule starts in 60 s limits the composite schedule only from then", &["K01.FR.30", "K08.FR.02"], tc_k_23),
        case("TC_K_40_CS", "Stacked TxDefaultProfiles: at each moment the highest stack level in force sets the limit", &["K01.FR.17", "K08.FR.02", "K08.FR.06"], tc_k_40),
        case("TC_K_41_CS", "The ChargingStationMaxProfile caps the TxDefaultProfile in the composite schedule", &["K08.FR.02", "K08.FR.04"], tc_k_41),
        case("TC_K_05_CS", "ClearChargingProfile by id clears that profile", &["K10.FR.03"], tc_k_05),
        case("TC_K_06_CS", "ClearChargingProfile by purpose and stack level clears the profile that has them", &["K10.FR.04"], tc_k_06),
        case("TC_K_07_CS", "ClearChargingProfile for a purpose and stack level no profile has: Unknown", &["K10.FR.01"], tc_k_07),
        case("TC_K_08_CS", "ClearChargingProfile of an id no profile has: Unknown", &["K10.FR.01"], tc_k_08),
        case("OH_K_90_CS", "A TxProfile of 6 A limits the power the bench meter measures", &["K01.FR.04"], oh_k_90).needs(&["plug", "token-reader", "meter"]),
        case("OH_K_91_CS", "A limit from the load-shedding input is notified, reported as an external constraint the CSMS cannot clear, and its release is notified", &["K12.FR.02", "K12.FR.04", "K12.FR.05", "K10.FR.09", "K13.FR.02"], oh_k_91)
            .needs(&["relay"]),
        case("TC_K_09_CS", "Clearing the TxDefaultProfile of a running transaction lifts its limit", &["K10.FR.03", "K10.FR.07"], tc_k_09).needs(&["plug", "token-reader"]),
    ]
}

/// The unit the station does not take, for TC_K_12/42_CS: part 6 runs them only on a station
/// that supports one of A and W; one that lists both (or has no RateUnit) skips.
fn unsupported_unit(conn: &Connection) -> Step<&'static str> {
    let value = station_value(conn, "SmartChargingCtrlr", "RateUnit")?.unwrap_or_default();
    match charging_rate::listed(&value).as_slice() {
        [only] => Ok(if only == "A" { "W" } else { "A" }),
        listed => Err(Verdict::Skip(format!("the station's SmartChargingCtrlr.RateUnit lists {listed:?}: part 6 runs this case only on a station without A or without W"))),
    }
}

/// A profile id no other case of the run uses.
pub(super) fn new_id() -> i64 {
    i64::from(kit::unique_number())
}

/// A charging profile of one schedule of one period at `amps` (in the configured unit);
/// `extra` adds or replaces profile fields, `schedule` schedule fields.
pub(super) fn profile(id: i64, purpose: &str, kind: &str, amps: f64, extra: Value, schedule: Value) -> Value {
    let mut s = json!({"id": 1, "chargingRateUnit": unit(), "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit(amps), "numberPhases": phases()}]});
    if kind != "Relative" {
        s["startSchedule"] = json!(kit::time_from_now(-60));
    }
    merge(&mut s, schedule);
    let mut p = json!({"id": id, "stackLevel": 0, "chargingProfilePurpose": purpose, "chargingProfileKind": kind, "chargingSchedule": [s]});
    merge(&mut p, extra);
    p
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(a), Value::Object(b)) = (into.as_object_mut(), from) {
        a.extend(b);
    }
}

/// SetChargingProfile for `evse`: the answer's status.
fn set(conn: &Connection, req: &str, evse: u32, profile: Value) -> Step<String> {
    let r = kit::call(conn, req, "SetChargingProfile", json!({"evseId": evse, "chargingProfile": profile}), 10_000)?;
    Ok(r["status"].as_str().unwrap_or_default().to_string())
}

/// Set `profile` for `evse`; Accepted (`req`).
pub(super) fn accepted(conn: &Connection, req: &str, evse: u32, profile: Value) -> Step {
    let status = set(conn, req, evse, profile)?;
    kit::check(status == "Accepted", req, "SetChargingProfile Accepted", || format!("status {status}"))
}

/// A profile set as preparation (Accepted).
fn installed(conn: &Connection, evse: u32, profile: Value) -> Step {
    accepted(conn, "", evse, profile).setup("a charging profile installed")
}

/// GetChargingProfiles with `criteria` (for `evse` if given), Accepted (`req`); the reports
/// that follow, each naming the request (K09.FR.01), tbc on all but the last.
fn reported(conn: &Connection, req: &str, evse: Option<u32>, criteria: Value) -> Step<Vec<Value>> {
    conn.claim(&["ReportChargingProfiles".into()]);
    let request_id = i64::from(kit::unique_number());
    let mut p = json!({"requestId": request_id, "chargingProfile": criteria});
    if let Some(e) = evse {
        p["evseId"] = json!(e);
    }
    let r = kit::call(conn, req, "GetChargingProfiles", p, 10_000)?;
    kit::check(r["status"] == "Accepted", req, "GetChargingProfiles Accepted for installed profiles", || r.to_string())?;
    let mut reports = vec![];
    loop {
        let rep = kit::expect_and_reply(conn, "K09.FR.01", "ReportChargingProfiles", 10_000, json!({}))?;
        kit::check(rep["requestId"] == request_id, "K09.FR.01", format!("requestId {request_id}, the request's"), || rep["requestId"].to_string())?;
        let more = rep["tbc"] == true;
        reports.push(rep);
        if !more {
            return Ok(reports);
        }
    }
}

/// The report that holds profile `id`, and that it is reported for `evse`.
fn reported_at(reports: &[Value], req: &str, id: i64, evse: u32) -> Step<Value> {
    let holds = |r: &&Value| r["chargingProfile"].as_array().is_some_and(|l| l.iter().any(|p| p["id"] == id));
    let rep = reports.iter().find(holds).ok_or_else(|| kit::fail(req, format!("a ReportChargingProfiles with profile {id}"), format!("{reports:?}")))?;
    kit::check(rep["evseId"] == evse, req, format!("profile {id} reported for EVSE {evse}"), || format!("evseId {}", rep["evseId"]))?;
    Ok(rep.clone())
}

/// TC_K_01/10_CS: a TxDefaultProfile for `evse`, then reported for it.
fn tx_default_on(evse: u32, req: &str) -> Step {
    let conn = booted(300)?;
    let id = new_id();
    accepted(&conn, req, evse, profile(id, "TxDefaultProfile", "Absolute", 6.0, json!({}), json!({"duration": 86_400})))?;
    let reports = reported(&conn, "K09.FR.01", None, json!({"chargingProfileId": [id]}))?;
    reported_at(&reports, req, id, evse).map(drop)
}

fn tc_k_01() -> Step {
    tx_default_on(kit::evse_id(), "K01.FR.15")
}

fn tc_k_10() -> Step {
    tx_default_on(0, "K01.FR.14")
}

fn tc_k_03() -> Step {
    let conn = booted(300)?;
    let id = new_id();
    accepted(&conn, "K01.FR.07", 0, profile(id, "ChargingStationMaxProfile", "Absolute", 16.0, json!({}), json!({"duration": 86_400})))?;
    let reports = reported(&conn, "K09.FR.05", Some(0), json!({"chargingProfileId": [id]}))?;
    reported_at(&reports, "K09.FR.05", id, 0).map(drop)
}

/// A SetChargingProfile the station must refuse (`req`).
fn refused(req: &str, evse: u32, profile: Value, why: &str) -> Step {
    let conn = booted(300)?;
    let status = set(&conn, req, evse, profile)?;
    kit::check(status == "Rejected", req, format!("SetChargingProfile Rejected: {why}"), || format!("status {status}"))
}

fn tc_k_02() -> Step {
    let p = profile(new_id(), "TxProfile", "Relative", 6.0, json!({"transactionId": "OH-NO-SUCH-TX"}), json!({}));
    refused("K01.FR.09", kit::evse_id(), p, "a TxProfile for an EVSE without a transaction")
}

fn tc_k_11() -> Step {
    let p = profile(new_id(), "TxProfile", "Relative", 6.0, json!({"transactionId": "OH-NO-SUCH-TX"}), json!({}));
    refused("K01.FR.16", 0, p, "a TxProfile for EVSE 0")
}

fn tc_k_14() -> Step {
    let p = profile(new_id(), "TxDefaultProfile", "Absolute", 6.0, json!({}), json!({}));
    refused("K01.FR.28", kit::evses() + 1, p, "an EVSE the station does not have")
}

/// TC_K_04_CS: the same id again, with 10 A for 6 A: one profile of that id, at 10 A.
fn tc_k_04() -> Step {
    let conn = booted(300)?;
    let id = new_id();
    installed(&conn, kit::evse_id(), profile(id, "TxDefaultProfile", "Absolute", 6.0, json!({}), json!({})))?;
    let status = set(&conn, "K01.FR.05", kit::evse_id(), profile(id, "TxDefaultProfile", "Absolute", 10.0, json!({}), json!({})))?;
    kit::check(status == "Accepted", "K01.FR.05", "SetChargingProfile Accepted for a known id", || format!("status {status}"))?;
    let reports = reported(&conn, "K01.FR.05", None, json!({"chargingProfileId": [id]}))?;
    let all: Vec<Value> = reports.iter().flat_map(|r| r["chargingProfile"].as_array().cloned().unwrap_or_default()).filter(|p| p["id"] == id).collect();
    let limits: Vec<&Value> = all.iter().map(|p| at(p, "/chargingSchedule/0/chargingSchedulePeriod/0/limit")).collect();
    kit::check(all.len() == 1 && limits[0].as_f64() == Some(limit(10.0)), "K01.FR.05", format!("one profile {id}, the new one (limit {})", limit(10.0)), || {
        format!("{} profile(s) {id}, limits {limits:?}", all.len())
    })
}

fn tc_k_13() -> Step {
    let conn = booted(300)?;
    let id = new_id();
    installed(&conn, kit::evse_id(), profile(id, "TxDefaultProfile", "Absolute", 6.0, json!({}), json!({})))?;
    drop(conn);
    let (again, _) = kit::reboot_station(&[]).setup("a reboot")?;
    let reports = reported(&again, "K01.FR.27", None, json!({"chargingProfileId": [id]}))?;
    reported_at(&reports, "K01.FR.27", id, kit::evse_id()).map(drop)
}

/// TC_K_29/30_CS: profiles on EVSE 0 and on the configured EVSE; asked for `evse`, only its own.
fn by_evse(evse: u32, req: &str) -> Step {
    let conn = booted(300)?;
    let (station, own) = (new_id(), new_id());
    installed(&conn, 0, profile(station, "ChargingStationMaxProfile", "Absolute", 16.0, json!({}), json!({})))?;
    installed(&conn, kit::evse_id(), profile(own, "TxDefaultProfile", "Absolute", 6.0, json!({}), json!({})))?;
    let reports = reported(&conn, req, Some(evse), json!({"chargingProfilePurpose": if evse == 0 { "ChargingStationMaxProfile" } else { "TxDefaultProfile" }}))?;
    let (wanted, other) = if evse == 0 { (station, own) } else { (own, station) };
    reported_at(&reports, req, wanted, evse)?;
    let ids: Vec<Value> = reports.iter().flat_map(|r| r["chargingProfile"].as_array().cloned().unwrap_or_default()).map(|p| p["id"].clone()).collect();
    kit::check(!ids.contains(&json!(other)) && reports.iter().all(|r| r["evseId"] == evse), req, format!("only EVSE {evse}'s profiles"), || format!("{reports:?}"))
}

fn tc_k_29() -> Step {
    by_evse(0, "K09.FR.05")
}

fn tc_k_30() -> Step {
    by_evse(kit::evse_id(), "K09.FR.04")
}

/// The (profile id, EVSE) pairs the reports hold.
fn reported_ids(reports: &[Value]) -> Vec<(i64, u32)> {
    let pairs = |r: &Value| {
        let evse = r["evseId"].as_u64().unwrap_or(u64::MAX) as u32;
        r["chargingProfile"].as_array().cloned().unwrap_or_default().into_iter().map(move |p| (p["id"].as_i64().unwrap_or(-1), evse))
    };
    reports.iter().flat_map(pairs).collect()
}

/// The reports hold each of `wanted` (id, EVSE) and none of the profiles `unwanted` (`req`).
fn selected(reports: &[Value], req: &str, wanted: &[(i64, u32)], unwanted: &[i64]) -> Step {
    let got = reported_ids(reports);
    let ok = wanted.iter().all(|w| got.contains(w)) && !got.iter().any(|(id, _)| unwanted.contains(id));
    let describe = |l: &[(i64, u32)]| l.iter().map(|(id, e)| format!("profile {id} on EVSE {e}")).collect::<Vec<_>>().join(", ");
    let expected = if unwanted.is_empty() { describe(wanted) } else { format!("{}, not profile(s) {unwanted:?}", describe(wanted)) };
    kit::check(ok, req, expected, || if got.is_empty() { "no profile".into() } else { describe(&got) })
}

/// Part 6's memory state of TC_K_31-36: profile Id1, a ChargingStationMaxProfile on the
/// station, and Id2, a TxDefaultProfile on the configured EVSE, both at stack level `level`;
/// with `other_level`, also Id3, a TxDefaultProfile on that EVSE one level up (which a
/// stack-level criterion must leave out). The ids.
fn memory_state(conn: &Connection, level: i64, other_level: bool) -> Step<(i64, i64, i64)> {
    let (id1, id2, id3) = (new_id(), new_id(), new_id());
    installed(conn, 0, profile(id1, "ChargingStationMaxProfile", "Absolute", 16.0, json!({"stackLevel": level}), json!({})))?;
    installed(conn, kit::evse_id(), profile(id2, "TxDefaultProfile", "Absolute", 6.0, json!({"stackLevel": level}), json!({})))?;
    if other_level {
        installed(conn, kit::evse_id(), profile(id3, "TxDefaultProfile", "Absolute", 8.0, json!({"stackLevel": level + 1}), json!({})))?;
    }
    Ok((id1, id2, id3))
}

/// Part 6's "<Configured stackLevel>".
const LEVEL: i64 = 2;

/// TC_K_31_CS: no EVSE and no criterion: every installed profile, each for its EVSE.
fn tc_k_31() -> Step {
    let conn = booted(300)?;
    let (id1, id2, _) = memory_state(&conn, LEVEL, false)?;
    let reports = reported(&conn, "K09.FR.06", None, json!({}))?;
    selected(&reports, "K09.FR.06", &[(id1, 0), (id2, kit::evse_id())], &[])
}

/// TC_K_32_CS: profile Id1 by its id.
fn tc_k_32() -> Step {
    let conn = booted(300)?;
    let (id1, id2, _) = memory_state(&conn, LEVEL, false)?;
    let reports = reported(&conn, "K09.FR.06", None, json!({"chargingProfileId": [id1]}))?;
    selected(&reports, "K09.FR.06", &[(id1, 0)], &[id2])
}

/// TC_K_33_CS: the EVSE and the stack level: Id2; not Id1 (EVSE 0) nor Id3 (another level).
fn tc_k_33() -> Step {
    let conn = booted(300)?;
    let (id1, id2, id3) = memory_state(&conn, LEVEL, true)?;
    let reports = reported(&conn, "K09.FR.04", Some(kit::evse_id()), json!({"stackLevel": LEVEL}))?;
    selected(&reports, "K09.FR.04", &[(id2, kit::evse_id())], &[id1, id3])
}

/// TC_K_34_CS: profiles set with SetChargingProfile come from the CSO: asked for source CSO,
/// reported with it; asked for EMS, which set none, NoProfiles.
fn tc_k_34() -> Step {
    let conn = booted(300)?;
    let id = new_id();
    installed(&conn, kit::evse_id(), profile(id, "TxDefaultProfile", "Absolute", 6.0, json!({"stackLevel": LEVEL + 1}), json!({})))?;
    let reports = reported(&conn, "K09.FR.04", Some(kit::evse_id()), json!({"chargingLimitSource": ["CSO"]}))?;
    selected(&reports, "K09.FR.04", &[(id, kit::evse_id())], &[])?;
    let sources: Vec<&Value> = reports.iter().map(|r| &r["chargingLimitSource"]).collect();
    kit::check(sources.iter().all(|s| *s == "CSO"), "K09.FR.04", "chargingLimitSource CSO in every report", || format!("{sources:?}"))?;
    let criteria = json!({"chargingLimitSource": ["EMS"]});
    let r = kit::call(&conn, "K09.FR.04", "GetChargingProfiles", json!({"requestId": i64::from(kit::unique_number()), "evseId": kit::evse_id(), "chargingProfile": criteria}), 10_000)?;
    kit::check(r["status"] == "NoProfiles", "K09.FR.04", "NoProfiles for source EMS, which installed none", || r.to_string())
}

/// TC_K_35_CS: the EVSE and purpose TxDefaultProfile: Id2, not the station's Id1.
fn tc_k_35() -> Step {
    let conn = booted(300)?;
    let (id1, id2, _) = memory_state(&conn, LEVEL, false)?;
    let reports = reported(&conn, "K09.FR.04", Some(kit::evse_id()), json!({"chargingProfilePurpose": "TxDefaultProfile"}))?;
    selected(&reports, "K09.FR.04", &[(id2, kit::evse_id())], &[id1])
}

/// TC_K_36_CS: the EVSE, TxDefaultProfile and the stack level: Id2, not Id1 nor Id3.
fn tc_k_36() -> Step {
    let conn = booted(300)?;
    let (id1, id2, id3) = memory_state(&conn, LEVEL, true)?;
    let reports = reported(&conn, "K09.FR.04", Some(kit::evse_id()), json!({"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": LEVEL}))?;
    selected(&reports, "K09.FR.04", &[(id2, kit::evse_id())], &[id1, id3])
}

/// Whether the station authorizes a remote start's token first (AuthCtrlr.AuthorizeRemoteStart).
fn authorizes_remote_start(conn: &Connection) -> Step<bool> {
    Ok(station_value(conn, "AuthCtrlr", "AuthorizeRemoteStart")?.is_some_and(|v| v.eq_ignore_ascii_case("true")))
}

/// TC_K_37_CS: EVConnectedPreSession, then a remote start carrying a Relative TxProfile of 6 A
/// without a transactionId (F01.FR.11): the transaction it starts charges under that profile,
/// which GetChargingProfiles reports for the EVSE (F01.FR.10) and which sets the composite
/// schedule (K05.FR.03).
fn tc_k_37() -> Step {
    let conn = booted(300)?;
    conn.claim(&[TX.into(), "Authorize".into()]);
    let (evse, token, start) = (kit::evse_id(), kit::valid_token(), TxStart::configured());
    let authorizes = authorizes_remote_start(&conn)?;
    kit::plug_in(evse)?;
    let at_cable = start.after_step(&conn, "E01.FR.02", (false, false), (true, false), "CablePluggedIn")?;
    let id = new_id();
    let p = profile(id, "TxProfile", "Relative", 6.0, json!({}), json!({}));
    let request = json!({"idToken": {"idToken": token, "type": kit::token_type()}, "remoteStartId": 37, "evseId": evse, "chargingProfile": p});
    let r = kit::call(&conn, "F01.FR.10", "RequestStartTransaction", request, 10_000)?;
    kit::check(r["status"] == "Accepted", "F01.FR.10", "RequestStartTransaction with a TxProfile Accepted", || r.to_string())?;
    if let Some(started) = &at_cable {
        let want = tx_id(started);
        kit::check(r["transactionId"] == want.as_str(), "F01.FR.13", format!("transactionId {want}, of the transaction the cable started"), || r.to_string())?;
    }
    // Part 6 step 3: with AuthorizeRemoteStart true the station asks, unless it has the token cached.
    if authorizes {
        match conn.expect_call("Authorize", 10_000) {
            Ok(call) => {
                let a = kit::json(&call.payload);
                kit::reply(&conn, "F01", &kit::Incoming { id: call.message_id, payload: a.clone() }, "Authorize", json!({"idTokenInfo": {"status": "Accepted"}}))?;
                kit::check(at(&a, "/idToken/idToken") == token.as_str(), "F01", format!("Authorize for {token}"), || a.to_string())?;
            }
            Err(_) => kit::info("no Authorize within 10 s: the token may be cached (part 6 allows it)"),
        }
    }
    let ev = start.after_step(&conn, "F01", (true, false), (true, true), "RemoteStart")?;
    let ev = ev.ok_or_else(|| start.none_with("a cable and a remote start"))?;
    kit::check(at(&ev, "/transactionInfo/remoteStartId") == 37, "F01", "transactionInfo.remoteStartId 37", || ev["transactionInfo"].to_string())?;
    kit::pilot(evse, PilotState::C)?;
    let charging = |e: &Value| at(e, "/transactionInfo/chargingState") == "Charging";
    kit::expect_until(&conn, "", TX, 10_000, json!({}), "EnergyTransferStarted: chargingState Charging", charging, |e| e.to_string()).setup("EnergyTransferStarted")?;
    let reports = reported(&conn, "F01.FR.10", None, json!({"chargingProfileId": [id]}))?;
    let rep = reported_at(&reports, "F01.FR.10", id, evse)?;
    let q = rep["chargingProfile"].as_array().and_then(|l| l.iter().find(|q| q["id"] == id)).cloned().unwrap_or_default();
    let same = q["chargingProfilePurpose"] == "TxProfile" && q["chargingProfileKind"] == "Relative" && at(&q, "/chargingSchedule/0/chargingSchedulePeriod/0/limit").as_f64() == Some(limit(6.0));
    kit::check(same, "F01.FR.10", format!("the TxProfile of the remote start (Relative, {} {})", limit(6.0), unit()), || q.to_string())?;
    limits_hold(&conn, "K05.FR.03", 300, &[(0, Some(limit(6.0)), 0.0)])
}

/// GetCompositeSchedule of `evse` over `duration` s: the answer, checked Accepted with the
/// schedule asked for (K08.FR.02).
fn composite(conn: &Connection, req: &str, evse: u32, duration: i64) -> Step<Value> {
    let r = kit::call(conn, req, "GetCompositeSchedule", json!({"evseId": evse, "duration": duration, "chargingRateUnit": unit()}), 10_000)?;
    kit::check(r["status"] == "Accepted", req, "GetCompositeSchedule Accepted", || r.to_string())?;
    let s = &r["schedule"];
    let ok = s["evseId"] == evse && s["duration"] == duration && s["chargingRateUnit"] == unit().as_str() && at(s, "/chargingSchedulePeriod/0/startPeriod") == 0;
    kit::check(ok, "K08.FR.02", format!("a schedule for EVSE {evse} over {duration} s in {}, from startPeriod 0", unit()), || s.to_string())?;
    Ok(s.clone())
}

/// The limit the schedule `s` sets at `second`.
fn limit_at(s: &Value, second: i64) -> Option<f64> {
    let periods = s["chargingSchedulePeriod"].as_array()?;
    periods.iter().take_while(|p| p["startPeriod"].as_i64().unwrap_or(0) <= second).last()?["limit"].as_f64()
}

fn tc_k_39() -> Step {
    let conn = booted(300)?;
    composite(&conn, "K08.FR.03", 0, 300).map(drop)
}

fn tc_k_47() -> Step {
    let conn = booted(300)?;
    let r = kit::call(&conn, "K08.FR.05", "GetCompositeSchedule", json!({"evseId": kit::evses() + 1, "duration": 300, "chargingRateUnit": unit()}), 10_000)?;
    kit::check(r["status"] == "Rejected", "K08.FR.05", "GetCompositeSchedule Rejected for an EVSE the station does not have", || r.to_string())
}

/// TC_K_21_CS: 6 A from validFrom (300 s on), not before.
fn tc_k_21() -> Step {
    let conn = booted(300)?;
    let p = profile(new_id(), "TxDefaultProfile", "Relative", 6.0, json!({"stackLevel": 9, "validFrom": kit::time_from_now(300)}), json!({}));
    accepted(&conn, "K01.FR.36", kit::evse_id(), p)?;
    let s = composite(&conn, "K08.FR.02", kit::evse_id(), 400)?;
    let (before, after) = (limit_at(&s, 100), limit_at(&s, 350));
    kit::check(after == Some(limit(6.0)), "K01.FR.36", format!("limit {} once the profile is valid (from about 300 s)", limit(6.0)), || s.to_string())?;
    kit::check(before.is_some() && before != after, "K01.FR.36", format!("another limit than {} before validFrom", limit(6.0)), || s.to_string())
}

/// TC_K_28_CS: EnergyTransferStarted, then a TxDefaultProfile of 6 A for 300 s: the
/// transaction's composite schedule says 6 A from now.
fn tc_k_28() -> Step {
    let (conn, _) = charging()?;
    let p = profile(new_id(), "TxDefaultProfile", "Absolute", 6.0, json!({"stackLevel": 9}), json!({"duration": 360}));
    accepted(&conn, "K01.FR.32", kit::evse_id(), p)?;
    let s = composite(&conn, "K08.FR.02", kit::evse_id(), 300)?;
    kit::check(limit_at(&s, 0) == Some(limit(6.0)), "K01.FR.32", format!("limit {} at once for the running transaction", limit(6.0)), || s.to_string())
}

/// Part 6's EnergyTransferStarted on the configured EVSE, reached by the host: the connection
/// and the transaction id.
fn charging() -> Step<(Connection, String)> {
    let (conn, tx) = kit::reach_station(StationState::EnergyTransferStarted, kit::evse_id(), &[])?;
    let tx = tx.ok_or_else(|| Verdict::Inconclusive("EnergyTransferStarted reached without a transaction id".into()))?;
    Ok((conn, tx))
}

fn tc_k_60() -> Step {
    let (conn, tx) = charging()?;
    let id = new_id();
    accepted(&conn, "K01.FR.04", kit::evse_id(), profile(id, "TxProfile", "Relative", 6.0, json!({"transactionId": tx}), json!({})))?;
    let reports = reported(&conn, "K09.FR.01", None, json!({"chargingProfileId": [id]}))?;
    reported_at(&reports, "K01.FR.04", id, kit::evse_id()).map(drop)
}

fn tc_k_16() -> Step {
    let (conn, _) = charging()?;
    let p = profile(new_id(), "TxProfile", "Relative", 6.0, json!({"transactionId": "OH-NO-SUCH-TX"}), json!({}));
    let status = set(&conn, "K01.FR.33", kit::evse_id(), p)?;
    kit::check(status == "Rejected", "K01.FR.33", "SetChargingProfile Rejected for a transactionId the station does not know", || format!("status {status}"))
}

fn tc_k_19() -> Step {
    let conn = booted(300)?;
    let kind = config::parameter("recurrency-kind").filter(|k| k == "Weekly").unwrap_or_else(|| "Daily".into());
    let p = profile(new_id(), "TxDefaultProfile", "Recurring", 6.0, json!({"recurrencyKind": kind}), json!({"duration": 3_600}));
    accepted(&conn, "K01.FR.07", kit::evse_id(), p)
}

/// The composite schedule of the configured EVSE over `duration` s: the limit at each of
/// `probes` (second, expected limit or None for "not that limit") must hold (`req`).
fn limits_hold(conn: &Connection, req: &str, duration: i64, probes: &[(i64, Option<f64>, f64)]) -> Step {
    let s = composite(conn, "K08.FR.02", kit::evse_id(), duration)?;
    for &(second, want, other) in probes {
        let got = limit_at(&s, second);
        match want {
            Some(w) => kit::check(got == Some(w), req, format!("limit {w} at {second} s"), || s.to_string())?,
            None => kit::check(got.is_some() && got != Some(other), req, format!("another limit than {other} at {second} s"), || s.to_string())?,
        }
    }
    Ok(())
}

/// TC_K_22_CS: 6 A until validTo (300 s on), not after.
fn tc_k_22() -> Step {
    let conn = booted(300)?;
    let p = profile(new_id(), "TxDefaultProfile", "Absolute", 6.0, json!({"stackLevel": 9, "validFrom": kit::time_from_now(-60), "validTo": kit::time_from_now(300)}), json!({}));
    accepted(&conn, "K01.FR.37", kit::evse_id(), p)?;
    limits_hold(&conn, "K01.FR.37", 400, &[(150, Some(limit(6.0)), 0.0), (360, None, limit(6.0))])
}

/// TC_K_23_CS: the schedule starts 60 s from now (K01.FR.30).
fn tc_k_23() -> Step {
    let conn = booted(300)?;
    let p = profile(new_id(), "TxDefaultProfile", "Absolute", 6.0, json!({"stackLevel": 9}), json!({"startSchedule": kit::time_from_now(60), "duration": 600}));
    accepted(&conn, "K01.FR.30", kit::evse_id(), p)?;
    limits_hold(&conn, "K01.FR.30", 300, &[(30, None, limit(6.0)), (150, Some(limit(6.0)), 0.0)])
}

/// A schedule starting now of `periods` (startPeriod, A) lasting `duration` s.
fn periods(duration: i64, periods: &[(i64, f64)], start_in: i64) -> Value {
    let list: Vec<Value> = periods.iter().map(|&(s, a)| json!({"startPeriod": s, "limit": limit(a), "numberPhases": phases()})).collect();
    json!({"startSchedule": kit::time_from_now(start_in), "duration": duration, "chargingSchedulePeriod": list})
}

/// TC_K_40_CS: stack level 0 gives 10 A; level 1 gives 7 A then 9 A for the first 150 s;
/// level 2 gives 8 A from 150 s to 200 s. Part 6's result: 7, 9, 8, 10 from 0, 100, 150, 200.
fn tc_k_40() -> Step {
    let conn = booted(300)?;
    let evse = kit::evse_id();
    let base = 5;
    installed(&conn, evse, profile(new_id(), "TxDefaultProfile", "Absolute", 10.0, json!({"stackLevel": base}), periods(86_400, &[(0, 10.0)], -1)))?;
    installed(&conn, evse, profile(new_id(), "TxDefaultProfile", "Absolute", 7.0, json!({"stackLevel": base + 1}), periods(150, &[(0, 7.0), (100, 9.0)], 0)))?;
    installed(&conn, evse, profile(new_id(), "TxDefaultProfile", "Absolute", 8.0, json!({"stackLevel": base + 2}), periods(50, &[(0, 8.0)], 150)))?;
    let probes = [(50, Some(limit(7.0)), 0.0), (125, Some(limit(9.0)), 0.0), (175, Some(limit(8.0)), 0.0), (275, Some(limit(10.0)), 0.0)];
    limits_hold(&conn, "K01.FR.17", 350, &probes)
}

/// TC_K_41_CS: the station's cap is 10 A, 6 A from 200 s to 240 s; the EVSE's default 8 A for
/// 50 s, then 16 A. Part 6's result: 8, 10, 6, 10 from 0, 50, 200, 240.
fn tc_k_41() -> Step {
    let conn = booted(300)?;
    installed(&conn, 0, profile(new_id(), "ChargingStationMaxProfile", "Absolute", 10.0, json!({}), periods(86_400, &[(0, 10.0), (200, 6.0), (240, 10.0)], 0)))?;
    installed(&conn, kit::evse_id(), profile(new_id(), "TxDefaultProfile", "Absolute", 8.0, json!({"stackLevel": 9}), periods(86_400, &[(0, 8.0), (50, 16.0)], 0)))?;
    let probes = [(25, Some(limit(8.0)), 0.0), (125, Some(limit(10.0)), 0.0), (220, Some(limit(6.0)), 0.0), (320, Some(limit(10.0)), 0.0)];
    limits_hold(&conn, "K08.FR.04", 400, &probes)
}

/// GetChargingProfiles with `criteria` must answer NoProfiles (`req`).
fn none_left(conn: &Connection, req: &str, criteria: Value) -> Step {
    let r = kit::call(conn, req, "GetChargingProfiles", json!({"requestId": i64::from(kit::unique_number()), "chargingProfile": criteria}), 10_000)?;
    kit::check(r["status"] == "NoProfiles", req, "NoProfiles: the cleared profile is gone", || r.to_string())
}

/// ClearChargingProfile: the answer's status.
fn clear(conn: &Connection, req: &str, p: Value) -> Step<String> {
    let r = kit::call(conn, req, "ClearChargingProfile", p, 10_000)?;
    Ok(r["status"].as_str().unwrap_or_default().to_string())
}

fn tc_k_05() -> Step {
    let conn = booted(300)?;
    let id = new_id();
    installed(&conn, kit::evse_id(), profile(id, "TxDefaultProfile", "Absolute", 6.0, json!({}), json!({})))?;
    let status = clear(&conn, "K10.FR.03", json!({"chargingProfileId": id}))?;
    kit::check(status == "Accepted", "K10.FR.03", format!("ClearChargingProfile {id} Accepted"), || format!("status {status}"))?;
    none_left(&conn, "K10.FR.03", json!({"chargingProfileId": [id]}))
}

fn tc_k_06() -> Step {
    let conn = booted(300)?;
    installed(&conn, kit::evse_id(), profile(new_id(), "TxDefaultProfile", "Absolute", 6.0, json!({"stackLevel": 7}), json!({})))?;
    let criteria = json!({"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 7});
    let status = clear(&conn, "K10.FR.04", json!({"chargingProfileCriteria": criteria}))?;
    kit::check(status == "Accepted", "K10.FR.04", "ClearChargingProfile of TxDefaultProfile at stack level 7 Accepted", || format!("status {status}"))?;
    none_left(&conn, "K10.FR.04", criteria)
}

fn tc_k_07() -> Step {
    let conn = booted(300)?;
    installed(&conn, kit::evse_id(), profile(new_id(), "TxDefaultProfile", "Absolute", 6.0, json!({"stackLevel": 1}), json!({})))?;
    let status = clear(&conn, "K10.FR.01", json!({"chargingProfileCriteria": {"chargingProfilePurpose": "ChargingStationMaxProfile", "stackLevel": 0}}))?;
    kit::check(status == "Unknown", "K10.FR.01", "Unknown: no ChargingStationMaxProfile at stack level 0", || format!("status {status}"))
}

fn tc_k_08() -> Step {
    let conn = booted(300)?;
    let status = clear(&conn, "K10.FR.01", json!({"chargingProfileId": new_id()}))?;
    kit::check(status == "Unknown", "K10.FR.01", "Unknown for an id no profile has", || format!("status {status}"))
}

/// TC_K_09_CS: a transaction under a 6 A TxDefaultProfile; cleared, the limit is another.
fn tc_k_09() -> Step {
    let (conn, _) = charging()?;
    let id = new_id();
    installed(&conn, kit::evse_id(), profile(id, "TxDefaultProfile", "Absolute", 6.0, json!({"stackLevel": 9}), json!({})))?;
    limits_hold(&conn, "K08.FR.02", 300, &[(0, Some(limit(6.0)), 0.0)]).setup("the profile in force")?;
    let status = clear(&conn, "K10.FR.03", json!({"chargingProfileId": id}))?;
    kit::check(status == "Accepted", "K10.FR.03", format!("ClearChargingProfile {id} Accepted"), || format!("status {status}"))?;
    limits_hold(&conn, "K10.FR.07", 300, &[(0, None, limit(6.0))])
}

/// OH_K_90_CS: what the station draws, not only what it reports. EnergyTransferStarted; the
/// bench meter's power must be above the 6 A part 6 limits to (else the case cannot show the
/// limit: inconclusive); a TxProfile of 6 A (6000 W in W) for the transaction; after the DUT
/// description's `meter-settle-ms` (5 s) the meter reads no more than that power (230 V per
/// phase, the configured phases) plus `meter-tolerance-percent` (5 %).
fn oh_k_90() -> Step {
    let settle: u32 = config::parameter("meter-settle-ms").and_then(|t| t.parse().ok()).unwrap_or(5_000);
    let tolerance: f64 = config::parameter("meter-tolerance-percent").and_then(|t| t.parse().ok()).unwrap_or(5.0);
    // 6 A on the configured phases at 230 V; a profile in W says 6000 W.
    let limit_w = if unit() == "W" { limit(6.0) } else { 6.0 * 230.0 * phases() as f64 };
    let cap_w = limit_w * (1.0 + tolerance / 100.0);
    let (conn, tx) = charging()?;
    clock::sleep_ms(1_000);
    let before = kit::meter_read("power")?;
    if before <= cap_w {
        return Err(Verdict::Inconclusive(format!("the EV draws {before:.0} W before the profile, not more than 6 A allow ({cap_w:.0} W): the limit cannot show")));
    }
    let p = profile(new_id(), "TxProfile", "Relative", 6.0, json!({"transactionId": tx, "stackLevel": 9}), json!({}));
    accepted(&conn, "K01.FR.04", kit::evse_id(), p)?;
    clock::sleep_ms(settle);
    let after = kit::meter_read("power")?;
    kit::check(after <= cap_w, "K01.FR.04", format!("at most {cap_w:.0} W at the bench meter {settle} ms after a TxProfile of 6 A (was {before:.0} W)"), || format!("{after:.0} W"))
}

fn tc_k_12() -> Step {
    let conn = booted(300)?;
    let other = unsupported_unit(&conn)?;
    let p = profile(new_id(), "TxDefaultProfile", "Absolute", 6.0, json!({}), json!({"chargingRateUnit": other}));
    let status = set(&conn, "K01.FR.26", kit::evse_id(), p)?;
    kit::check(status == "Rejected", "K01.FR.26", format!("SetChargingProfile Rejected for a schedule in {other}, which RateUnit does not list"), || format!("status {status}"))
}

fn tc_k_42() -> Step {
    let conn = booted(300)?;
    let other = unsupported_unit(&conn)?;
    let r = kit::call(&conn, "K08.FR.07", "GetCompositeSchedule", json!({"evseId": 0, "duration": 300, "chargingRateUnit": other}), 10_000)?;
    kit::check(r["status"] == "Rejected", "K08.FR.07", format!("GetCompositeSchedule Rejected in {other}, which RateUnit does not list"), || r.to_string())
}

/// TC_K_24_CS (a station of two EVSEs or more): the same purpose and stack level on EVSEs 1
/// and 2; cleared by those criteria, none is left.
fn tc_k_24() -> Step {
    if kit::evses() < 2 {
        return Err(Verdict::Skip(format!("the station has {} EVSE: part 6's prerequisite is two or more EVSEs", kit::evses())));
    }
    let conn = booted(300)?;
    for evse in [1, 2] {
        installed(&conn, evse, profile(new_id(), "TxDefaultProfile", "Absolute", 6.0, json!({"stackLevel": LEVEL}), json!({})))?;
    }
    let criteria = json!({"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": LEVEL});
    let status = clear(&conn, "K10.FR.04", json!({"chargingProfileCriteria": criteria}))?;
    kit::check(status == "Accepted", "K10.FR.04", format!("ClearChargingProfile of TxDefaultProfile at stack level {LEVEL} Accepted"), || format!("status {status}"))?;
    none_left(&conn, "K10.FR.04", criteria)
}

/// The bench relay wired to the station's load-shedding input (a grid operator's ripple
/// control receiver, an EMS contact): DUT parameter `load-shedding-relay`, by default
/// `load-shedding`. The case's premise is that the input, on, limits the station by more than
/// its LimitChangeSignificance.
fn shedding_relay() -> String {
    config::parameter("load-shedding-relay").unwrap_or_else(|| "load-shedding".into())
}

/// K12/K13 from outside: the input on, the station tells the CSMS of the external limit
/// (K12.FR.02) under a source other than CSO (K12.FR.04); a report of its external
/// constraints holds that purpose only (K12.FR.05), and ClearChargingProfile of one is Unknown
/// (K10.FR.09); the input off, it tells of the release (K13.FR.02). The input is switched off
/// whatever the verdict.
fn oh_k_91() -> Step {
    let conn = booted(300)?;
    conn.claim(&["NotifyChargingLimit".into(), "ClearedChargingLimit".into()]);
    let relay = shedding_relay();
    kit::relay(&relay, true)?;
    let limited = limit_notified(&conn);
    kit::relay(&relay, false)?;
    let released = kit::expect_and_reply(&conn, "K13.FR.02", "ClearedChargingLimit", 15_000, json!({}));
    limited?;
    let p = released?;
    kit::check(p["chargingLimitSource"] != "CSO", "K13.FR.02", "the external system as chargingLimitSource of the release, not CSO", || p.to_string())
}

fn limit_notified(conn: &Connection) -> Step {
    let n = kit::expect_and_reply(conn, "K12.FR.02", "NotifyChargingLimit", 15_000, json!({}))?;
    let source = at(&n, "/chargingLimit/chargingLimitSource");
    kit::check(source != "CSO", "K12.FR.04", "a chargingLimitSource other than CSO", || n.to_string())?;
    conn.claim(&["ReportChargingProfiles".into()]);
    let request_id = i64::from(kit::unique_number());
    let criteria = json!({"chargingProfilePurpose": "ChargingStationExternalConstraints"});
    let r = kit::call(conn, "K09.FR.01", "GetChargingProfiles", json!({"requestId": request_id, "chargingProfile": criteria}), 10_000)?;
    if r["status"] != "Accepted" {
        kit::should(false, "K12.FR.05", "the external limit reported as a ChargingStationExternalConstraints profile", || format!("GetChargingProfiles {}", r["status"]));
        return Ok(());
    }
    let mut ids = vec![];
    loop {
        let rep = kit::expect_and_reply(conn, "K09.FR.01", "ReportChargingProfiles", 10_000, json!({}))?;
        for q in rep["chargingProfile"].as_array().into_iter().flatten() {
            kit::check(q["chargingProfilePurpose"] == "ChargingStationExternalConstraints", "K12.FR.05", "only ChargingStationExternalConstraints profiles, as asked", || q.to_string())?;
            ids.push(q["id"].clone());
        }
        if rep["tbc"] != true {
            break;
        }
    }
    if let Some(id) = ids.first() {
        let status = clear(conn, "K10.FR.09", json!({"chargingProfileId": id}))?;
        kit::check(status == "Unknown", "K10.FR.09", format!("ClearChargingProfile of the external constraint {id}: Unknown"), || format!("status {status}"))?;
    }
    Ok(())
}
