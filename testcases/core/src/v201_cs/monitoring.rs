//! Variable monitoring for a charging-station DUT (part 6 §2.13, N02-N06; the Advanced Device
//! Management profile): monitors set, replaced and refused (N04), reported (N02), cleared
//! (N06), reset by the monitoring base (N03), and the monitoring level (N05).
//!
//! Part 6's memory states want Delta monitors on the station's and the EVSE's
//! AvailabilityState, hard-wired, preconfigured or set by the CSMS: where the station has none,
//! the case sets them (the baseline clears them after it). "<Configured severity>" is the DUT
//! parameter `monitor-severity` (8); the threshold variable is `threshold-monitor-variable`
//! (`ChargingStation.Power`), whose range the station's own report gives. A case that changes
//! the monitoring base or level sets it back (All, 9) whatever its verdict.
use serde_json::{Value, json};

use super::{booted, station_value};
use crate::{
    Case,
    kit::{self, Connection, PilotState, Setup, Step, Verdict, at, clock, config},
    msg,
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    super::station_case(id, title, requirements, &[], run).profile("advanced-device-management")
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        case("TC_N_47_CS", "GetMonitoringReport without criteria reports every monitor, the AvailabilityState Deltas among them", &["N02.FR.01", "N02.FR.11", "N02.FR.04", "N02.FR.09"], tc_n_47),
        case(
            "TC_N_01_CS",
            "GetMonitoringReport by monitoringCriteria reports the monitors of those types only",
            &["N02.FR.01", "N02.FR.03", "N02.FR.04", "N02.FR.05", "N02.FR.06", "N02.FR.09", "N02.FR.12", "N02.FR.13", "N02.FR.14"],
            tc_n_01,
        ),
        case("TC_N_02_CS", "GetMonitoringReport of two variables reports their monitors only", &["N02.FR.01", "N02.FR.03", "N02.FR.04", "N02.FR.05", "N02.FR.08", "N02.FR.09"], tc_n_02),
        case(
            "TC_N_03_CS",
            "GetMonitoringReport by kind and variables: no threshold monitors (EmptyResultSet), the Delta ones reported",
            &["N02.FR.01", "N02.FR.03", "N02.FR.04", "N02.FR.05", "N02.FR.09", "N02.FR.10", "N02.FR.13"],
            tc_n_03,
        ),
        case("TC_N_05_CS", "SetMonitoringBase All, FactoryDefault and HardWiredOnly are Accepted", &["N03.FR.01", "N03.FR.03", "N03.FR.04", "N03.FR.05"], tc_n_05),
        case("TC_N_06_CS", "SetMonitoringBase HardWiredOnly removes the station's AvailabilityState Delta", &["N03.FR.01", "N03.FR.05"], tc_n_06),
        case("TC_N_08_CS", "A Delta monitor on the EVSE's AvailabilityState is Accepted with an id and reported", &["N04.FR.01", "N04.FR.02", "N04.FR.08", "N04.FR.11"], tc_n_08),
        case("TC_N_09_CS", "Monitors on two variables in one request are both Accepted and reported", &["N04.FR.01", "N04.FR.02", "N04.FR.08", "N04.FR.11"], tc_n_09),
        case("TC_N_10_CS", "Two monitors of different severities on one variable are both Accepted", &["N04.FR.01", "N04.FR.02", "N04.FR.08", "N04.FR.11"], tc_n_10),
        case("TC_N_11_CS", "A monitor on an EVSE the station does not have: UnknownComponent", &["N04.FR.03"], tc_n_11),
        case("TC_N_12_CS", "A Delta monitor of a negative value: Rejected", &["N04.FR.14"], tc_n_12),
        case("TC_N_13_CS", "A threshold monitor beyond the variable's range: Rejected", &["N04.FR.06", "N04.FR.13"], tc_n_13),
        case("TC_N_15_CS", "A second monitor of the same type and severity on a variable: Duplicate", &["N04.FR.10"], tc_n_15),
        case("TC_N_37_CS", "A monitor on a variable the component does not have: UnknownVariable", &["N04.FR.04"], tc_n_37),
        case("TC_N_39_CS", "A monitor id given with another component and variable: Rejected, the monitor unchanged", &["N04.FR.16"], tc_n_39),
        case("TC_N_40_CS", "A monitor set again by its id with another severity replaces it", &["N04.FR.12"], tc_n_40),
        case("TC_N_43_CS", "Of three monitors in one request the invalid middle one is Rejected, the others Accepted", &["N04.FR.01", "N04.FR.08", "N04.FR.14"], tc_n_43),
        case("TC_N_17_CS", "SetMonitoringLevel out of 0-9 is Rejected", &["N05.FR.02"], tc_n_17),
        case("TC_N_18_CS", "ClearVariableMonitoring of two monitors: both Accepted, then none reported", &["N06.FR.01", "N06.FR.05"], tc_n_18),
        case("TC_N_19_CS", "ClearVariableMonitoring of an id no monitor has: NotFound", &["N06.FR.02"], tc_n_19),
        case("TC_N_44_CS", "ClearVariableMonitoring of a hard-wired monitor: Rejected", &["N06.FR.03"], tc_n_44),
        case("TC_N_16_CS", "After SetMonitoringLevel 7 a monitor of severity 8 reports nothing", &["N05.FR.01", "N05.FR.03"], tc_n_16).needs(&["plug"]),
        case("TC_N_56_CS", "A Delta monitor on the EVSE's AvailabilityState reports the cable coming in", &["N07.FR.06", "N07.FR.07", "N07.FR.18", "N07.FR.19"], tc_n_56).needs(&["plug"]),
        case("TC_N_48_CS", "A Delta monitor on the write-only BasicAuthPassword reports a new password with an empty value", &["N07.FR.10"], tc_n_48).timeout_ms(90_000),
        case("TC_N_45_CS", "A Delta monitor on the station's power reports the EV starting to draw", &["N07.FR.06", "N07.FR.07", "N07.FR.18", "N07.FR.19"], tc_n_45).needs(&CHARGING),
        case("TC_N_20_CS", "Threshold monitors on the station's power: exceeded, cleared and fallen below as the EV draws and stops", &["N07.FR.02", "N07.FR.06", "N07.FR.07", "N07.FR.16", "N07.FR.17"], tc_n_20)
            .needs(&CHARGING)
            .timeout_ms(60_000),
        case("TC_N_51_CS", "An UpperThreshold set again below the value it watches reports it at once", &["N07.FR.11"], tc_n_51).needs(&CHARGING),
        case("TC_N_52_CS", "A threshold monitor removed while exceeded reports no clearing", &["N07.FR.12", "N06.FR.01"], tc_n_52).needs(&CHARGING),
        case("TC_N_53_CS", "A threshold monitor is still there after a reboot", &["N07.FR.13"], tc_n_53).timeout_ms(90_000),
        case("TC_N_41_CS", "A preconfigured monitor changed by the CSMS is back as it was after SetMonitoringBase FactoryDefault", &["N03.FR.04", "N04.FR.12", "N04.FR.15"], tc_n_41),
        case("TC_N_24_CS", "A Periodic monitor reports its variable every interval", &["N07.FR.20", "N08.FR.01", "N08.FR.05", "N08.FR.06"], tc_n_24).timeout_ms(60_000),
    ]
}

/// Part 6's "<Configured severity>".
fn severity() -> i64 {
    config::parameter("monitor-severity").and_then(|v| v.trim().parse().ok()).filter(|s| (0..=9).contains(s)).unwrap_or(8)
}

fn station_state() -> Value {
    json!({"component": {"name": "ChargingStation"}, "variable": {"name": "AvailabilityState"}})
}

fn evse_state() -> Value {
    json!({"component": {"name": "EVSE", "evse": {"id": kit::evse_id()}}, "variable": {"name": "AvailabilityState"}})
}

/// A SetMonitoringData for `target` (component and variable): `kind`, `value`, `severity`.
fn data(target: &Value, kind: &str, value: f64, severity: i64) -> Value {
    let mut d = target.clone();
    d["type"] = json!(kind);
    // A whole number as one (part 6 writes 1, not 1.0).
    d["value"] = if value.fract() == 0.0 && value.abs() < 1e15 { json!(value as i64) } else { json!(value) };
    d["severity"] = json!(severity);
    d
}

/// SetVariableMonitoring of `data`: one result per element (N04.FR.01), each naming the
/// component and variable of one element (N04.FR.02); the results in the elements' order
/// where the station keeps it, else matched by type, severity, component and variable.
fn set(conn: &Connection, req: &str, data: &[Value]) -> Step<Vec<Value>> {
    let r = kit::call(conn, req, "SetVariableMonitoring", json!({"setMonitoringData": data}), 10_000)?;
    let results = r["setMonitoringResult"].as_array().cloned().unwrap_or_default();
    kit::check(results.len() == data.len(), "N04.FR.01", format!("{} setMonitoringResult, one per element", data.len()), || format!("{} results", results.len()))?;
    let key = |v: &Value| (v["type"].clone(), v["severity"].clone(), v["component"].clone(), v["variable"].clone());
    let mut left = results.clone();
    let mut ordered = vec![];
    for d in data {
        let Some(k) = left.iter().position(|x| key(x) == key(d)) else {
            return Err(kit::fail("N04.FR.02", format!("a result for {} {} of {}", d["type"], d["variable"]["name"], d["component"]), Value::Array(results).to_string()));
        };
        ordered.push(left.remove(k));
    }
    Ok(ordered)
}

/// The result's status is `expected` (`req`).
fn status_is(result: &Value, req: &str, expected: &str) -> Step {
    kit::check(result["status"] == expected, req, format!("status {expected} for {} {} of {}", result["type"], result["variable"]["name"], result["component"]["name"]), || {
        format!("status {} {}", result["status"], result.get("statusInfo").map(Value::to_string).unwrap_or_default())
    })
}

/// A monitor Accepted with the id the station gave it (N04.FR.08, .11).
fn accepted(result: &Value) -> Step<i64> {
    status_is(result, "N04.FR.08", "Accepted")?;
    result["id"].as_i64().ok_or_else(|| kit::fail("N04.FR.11", "the id of the new monitor in its result", result.to_string()))
}

/// A monitor set as preparation: its id.
fn prepared(conn: &Connection, d: Value) -> Step<i64> {
    let r = set(conn, "", &[d]).setup("a variable monitor set")?;
    match r[0]["id"].as_i64() {
        Some(id) if r[0]["status"] == "Accepted" => Ok(id),
        _ => Err(Verdict::Inconclusive(format!("the monitor the case needs was not set: {}", r[0]))),
    }
}

/// GetMonitoringReport with `criteria` and `variables` (none: omitted): the status, and when
/// Accepted the `monitor` entries of the NotifyMonitoringReports that follow, each naming the
/// request (N02.FR.04), numbered from 0 (N02.FR.09).
fn report(conn: &Connection, criteria: &[&str], variables: &[Value]) -> Step<(String, Vec<Value>)> {
    let mut p = json!({});
    if !criteria.is_empty() {
        p["monitoringCriteria"] = json!(criteria);
    }
    if !variables.is_empty() {
        p["componentVariable"] = json!(variables);
    }
    let report = kit::PagedReport {
        request: "GetMonitoringReport",
        notify: "NotifyMonitoringReport",
        items: "monitor",
        answered: "N02.FR.01",
        part: "N02.FR.03",
        same_request: "N02.FR.04",
        numbered: Some("N02.FR.09"),
    };
    kit::paged_report(conn, &report, p)
}

/// The report Accepted (`req`): its monitor entries.
fn accepted_report(conn: &Connection, req: &str, criteria: &[&str], variables: &[Value]) -> Step<Vec<Value>> {
    let (status, monitors) = report(conn, criteria, variables)?;
    kit::check(status == "Accepted", req, "GetMonitoringReport Accepted", || format!("status {status}"))?;
    Ok(monitors)
}

/// The monitors (of every entry) on `target`'s component and variable: (id, type, severity).
fn monitors_on(entries: &[Value], target: &Value) -> Vec<(i64, String, i64)> {
    let same = |a: &Value, b: &Value| a["name"] == b["name"] && a.get("evse").map(|e| &e["id"]) == b.get("evse").map(|e| &e["id"]);
    entries
        .iter()
        .filter(|e| same(&e["component"], &target["component"]) && e["variable"]["name"] == target["variable"]["name"])
        .flat_map(|e| e["variableMonitoring"].as_array().cloned().unwrap_or_default())
        .map(|m| (m["id"].as_i64().unwrap_or(-1), m["type"].as_str().unwrap_or_default().to_string(), m["severity"].as_i64().unwrap_or(-1)))
        .collect()
}

/// `Component.Variable` of a report entry, for messages.
fn name(e: &Value) -> String {
    let evse = e["component"].get("evse").map(|v| format!("(EVSE {})", v["id"])).unwrap_or_default();
    format!("{}{evse}.{}", e["component"]["name"].as_str().unwrap_or_default(), e["variable"]["name"].as_str().unwrap_or_default())
}

/// Part 6's memory state: a Delta on each of `targets` — the station's own, or set now.
fn deltas_present(conn: &Connection, targets: &[Value]) -> Step {
    let (_, all) = report(conn, &[], targets).setup("the monitors read")?;
    for t in targets {
        if !monitors_on(&all, t).iter().any(|(_, kind, _)| kind == "Delta") {
            prepared(conn, data(t, "Delta", 1.0, severity()))?;
        }
    }
    Ok(())
}

fn tc_n_47() -> Step {
    let conn = booted(300)?;
    deltas_present(&conn, &[station_state(), evse_state()])?;
    let all = accepted_report(&conn, "N02.FR.01", &[], &[])?;
    for t in [station_state(), evse_state()] {
        let found = monitors_on(&all, &t).iter().any(|(_, kind, _)| kind == "Delta");
        kit::check(found, "N02.FR.11", format!("the Delta monitor on {} among every monitor", name(&t)), || all.iter().map(name).collect::<Vec<_>>().join(", "))?;
    }
    Ok(())
}

/// The types of the monitors in report `entries`.
fn types_in(entries: &[Value]) -> std::collections::BTreeSet<String> {
    entries.iter().flat_map(|e| e["variableMonitoring"].as_array().cloned().unwrap_or_default()).filter_map(|m| m["type"].as_str().map(String::from)).collect()
}

/// TC_N_01_CS's configuration state: a monitor of every type, the station's own or set now —
/// the thresholds on the threshold variable at 0 and at the configured threshold (crossed only
/// while an EV draws),
/// a Delta and two hour-long periodic ones on the EVSE's AvailabilityState.
fn every_type_present(conn: &Connection) -> Step {
    let (_, all) = report(conn, &[], &[]).setup("the monitors read")?;
    let have = types_in(&all);
    let (threshold_variable, _) = threshold_variable();
    let wanted: Vec<Value> = [
        (&threshold_variable, "UpperThreshold", threshold()),
        (&threshold_variable, "LowerThreshold", 0.0),
        (&evse_state(), "Delta", 1.0),
        (&evse_state(), "Periodic", 3600.0),
        (&evse_state(), "PeriodicClockAligned", 3600.0),
    ]
    .into_iter()
    .filter(|(_, kind, _)| !have.contains(*kind))
    .map(|(target, kind, value)| data(target, kind, value, severity()))
    .collect();
    wanted.into_iter().try_for_each(|d| prepared(conn, d).map(drop))
}

/// TC_N_01_CS: three reports by criteria — thresholds; thresholds and Delta; Delta and
/// periodic — each with every monitor of those types (N02.FR.12-14) and none other
/// (N02.FR.06). A criterion the station does not support (NotSupported, N02.FR.02) skips.
fn tc_n_01() -> Step {
    let conn = booted(300)?;
    every_type_present(&conn)?;
    let rounds: [(&[&str], &[(&str, &str)]); 3] = [
        (&["ThresholdMonitoring"], &[("UpperThreshold", "N02.FR.12"), ("LowerThreshold", "N02.FR.12")]),
        (&["ThresholdMonitoring", "DeltaMonitoring"], &[("UpperThreshold", "N02.FR.12"), ("LowerThreshold", "N02.FR.12"), ("Delta", "N02.FR.13")]),
        (&["DeltaMonitoring", "PeriodicMonitoring"], &[("Delta", "N02.FR.13"), ("Periodic", "N02.FR.14"), ("PeriodicClockAligned", "N02.FR.14")]),
    ];
    for (criteria, types) in rounds {
        let (status, entries) = report(&conn, criteria, &[])?;
        if status == "NotSupported" {
            return Err(Verdict::Skip(format!("the station does not support monitoringCriteria {criteria:?} (NotSupported, N02.FR.02)")));
        }
        kit::check(status == "Accepted", "N02.FR.01", format!("GetMonitoringReport {criteria:?} Accepted"), || format!("status {status}"))?;
        let found = types_in(&entries);
        let stray: Vec<&String> = found.iter().filter(|t| !types.iter().any(|(k, _)| k == t)).collect();
        kit::check(stray.is_empty(), "N02.FR.06", format!("only monitors of the types {criteria:?} selects"), || format!("also {stray:?}"))?;
        for (kind, req) in types {
            kit::check(found.contains(*kind), req, format!("the {kind} monitor in the report for {criteria:?}"), || format!("types reported: {found:?}"))?;
        }
    }
    Ok(())
}

/// Part 6 asks the station's and every EVSE's AvailabilityState.
fn tc_n_02() -> Step {
    let conn = booted(300)?;
    deltas_present(&conn, &[station_state(), evse_state()])?;
    let any_evse = json!({"component": {"name": "EVSE"}, "variable": {"name": "AvailabilityState"}});
    let entries = accepted_report(&conn, "N02.FR.01", &[], &[station_state(), any_evse])?;
    let stray: Vec<String> = entries.iter().filter(|e| e["variable"]["name"] != "AvailabilityState" || !["ChargingStation", "EVSE"].contains(&e["component"]["name"].as_str().unwrap_or_default())).map(name).collect();
    kit::check(stray.is_empty(), "N02.FR.08", "only monitors of the station's and the EVSEs' AvailabilityState", || stray.join(", "))?;
    let found = monitors_on(&entries, &evse_state()).iter().any(|(_, kind, _)| kind == "Delta");
    kit::check(found, "N02.FR.03", format!("the Delta monitor on {}", name(&evse_state())), || entries.iter().map(name).collect::<Vec<_>>().join(", "))
}

fn tc_n_03() -> Step {
    let conn = booted(300)?;
    let targets = [station_state(), evse_state()];
    deltas_present(&conn, &targets)?;
    let (status, _) = report(&conn, &["ThresholdMonitoring"], &targets)?;
    kit::check(status == "EmptyResultSet", "N02.FR.10", "EmptyResultSet: no threshold monitor on an AvailabilityState", || format!("status {status}"))?;
    let entries = accepted_report(&conn, "N02.FR.01", &["DeltaMonitoring"], &targets)?;
    let kinds: Vec<String> = entries.iter().flat_map(|e| monitors_on(&entries, e)).map(|(_, k, _)| k).filter(|k| k != "Delta").collect();
    kit::check(kinds.is_empty(), "N02.FR.13", "Delta monitors only", || format!("also {}", kinds.join(", ")))?;
    kit::check(!entries.is_empty(), "N02.FR.13", "the Delta monitors on the AvailabilityState variables", || "none".into())
}

/// SetMonitoringBase `base`, answered `expected` (`req`).
fn base(conn: &Connection, req: &str, base: &str) -> Step {
    let r = kit::call(conn, req, "SetMonitoringBase", json!({"monitoringBase": base}), 10_000)?;
    kit::check(r["status"] == "Accepted", req, format!("SetMonitoringBase {base} Accepted"), || r.to_string())
}

/// `run`, then monitoring base All again whatever it gave: the preconfigured monitors back.
fn then_all<T>(conn: &Connection, run: impl FnOnce() -> Step<T>) -> Step<T> {
    let verdict = run();
    let _ = kit::call(conn, "", "SetMonitoringBase", json!({"monitoringBase": "All"}), 10_000);
    verdict
}

fn tc_n_05() -> Step {
    let conn = booted(300)?;
    then_all(&conn, || {
        base(&conn, "N03.FR.03", "All")?;
        base(&conn, "N03.FR.04", "FactoryDefault")?;
        base(&conn, "N03.FR.05", "HardWiredOnly")
    })
}

/// The station's AvailabilityState Delta, preconfigured or set now, is gone after
/// HardWiredOnly (a hard-wired one would stay: part 6 wants one that is not).
fn tc_n_06() -> Step {
    let conn = booted(300)?;
    deltas_present(&conn, &[station_state()])?;
    then_all(&conn, || {
        let before = accepted_report(&conn, "N02.FR.01", &[], &[station_state()])?;
        kit::check(!monitors_on(&before, &station_state()).is_empty(), "N02.FR.03", "the Delta on the station's AvailabilityState reported", || "none".into())?;
        base(&conn, "N03.FR.01", "HardWiredOnly")?;
        let (status, after) = report(&conn, &[], &[station_state()])?;
        kit::check(status == "EmptyResultSet", "N03.FR.05", "EmptyResultSet: no monitor on the station's AvailabilityState after HardWiredOnly", || {
            format!("status {status}, monitors {:?}", monitors_on(&after, &station_state()))
        })
    })
}

fn tc_n_08() -> Step {
    let conn = booted(300)?;
    let r = set(&conn, "N04.FR.01", &[data(&evse_state(), "Delta", 1.0, 8)])?;
    let id = accepted(&r[0])?;
    let entries = accepted_report(&conn, "N02.FR.01", &[], &[evse_state()])?;
    let found = monitors_on(&entries, &evse_state()).contains(&(id, "Delta".into(), 8));
    kit::check(found, "N04.FR.08", format!("monitor {id}, Delta of severity 8, on {}", name(&evse_state())), || format!("{:?}", monitors_on(&entries, &evse_state())))
}

fn tc_n_09() -> Step {
    let conn = booted(300)?;
    let targets = [evse_state(), station_state()];
    let r = set(&conn, "N04.FR.01", &targets.iter().map(|t| data(t, "Delta", 1.0, 8)).collect::<Vec<_>>())?;
    let ids = [accepted(&r[0])?, accepted(&r[1])?];
    let entries = accepted_report(&conn, "N02.FR.01", &[], &targets)?;
    for (t, id) in targets.iter().zip(ids) {
        let found = monitors_on(&entries, t).iter().any(|(m, _, _)| *m == id);
        kit::check(found, "N04.FR.08", format!("monitor {id} on {}", name(t)), || format!("{:?}", monitors_on(&entries, t)))?;
    }
    Ok(())
}

fn tc_n_10() -> Step {
    let conn = booted(300)?;
    let r = set(&conn, "N04.FR.01", &[data(&evse_state(), "Delta", 1.0, 8), data(&evse_state(), "Delta", 1.0, 7)])?;
    let (a, b) = (accepted(&r[0])?, accepted(&r[1])?);
    kit::check(a != b, "N04.FR.11", "two monitors, two ids", || format!("ids {a} and {b}"))
}

fn tc_n_11() -> Step {
    let conn = booted(300)?;
    let nowhere = json!({"component": {"name": "EVSE", "evse": {"id": 99}}, "variable": {"name": "AvailabilityState"}});
    let r = set(&conn, "N04.FR.03", &[data(&nowhere, "Delta", 1.0, severity())])?;
    // Part 6 takes UnknownVariable too; part 2 says UnknownComponent.
    kit::should(r[0]["status"] != "UnknownVariable", "N04.FR.03", "UnknownComponent rather than UnknownVariable for EVSE 99", || r[0].to_string());
    if r[0]["status"] == "UnknownVariable" {
        return Ok(());
    }
    status_is(&r[0], "N04.FR.03", "UnknownComponent")
}

fn tc_n_12() -> Step {
    let conn = booted(300)?;
    let r = set(&conn, "N04.FR.14", &[data(&evse_state(), "Delta", -1.0, severity())])?;
    status_is(&r[0], "N04.FR.14", "Rejected")
}

/// Part 6's "<Configured threshold monitor component variable>": DUT parameter
/// `threshold-monitor-variable` (Component.Variable), ChargingStation.Power by default. The
/// component and variable, and the parameter as given.
fn threshold_variable() -> (Value, String) {
    let spec = config::parameter("threshold-monitor-variable").unwrap_or_else(|| "ChargingStation.Power".into());
    let (component, variable) = spec.split_once('.').unwrap_or(("ChargingStation", "Power"));
    (json!({"component": {"name": component}, "variable": {"name": variable}}), spec)
}

/// Part 6's "<Configured threshold monitor component variable>" and the range the station's
/// report gives it (minLimit, maxLimit): a variable without a maxLimit has no value out of
/// range to try.
fn threshold_target(conn: &Connection) -> Step<(Value, f64, f64)> {
    let (target, spec) = threshold_variable();
    conn.claim(&["NotifyReport".into()]);
    let r = kit::call(conn, "", "GetReport", json!({"requestId": kit::unique_number(), "componentVariable": [target]}), 10_000).setup("the threshold variable's range read")?;
    if r["status"] != "Accepted" {
        conn.release(&["NotifyReport".into()]);
        return Err(Verdict::Skip(format!("the station reports no {spec} (GetReport {}): set DUT parameter threshold-monitor-variable", r["status"])));
    }
    let n = kit::expect_and_reply(conn, "", "NotifyReport", 10_000, json!({})).setup("the threshold variable's range read")?;
    let ch = at(&n, "/reportData/0/variableCharacteristics").clone();
    let max = ch["maxLimit"].as_f64().ok_or_else(|| Verdict::Skip(format!("the station gives {spec} no maxLimit: no value beyond its range to try")))?;
    Ok((target, ch["minLimit"].as_f64().unwrap_or(0.0), max))
}

fn tc_n_13() -> Step {
    let conn = booted(300)?;
    let (target, _, max) = threshold_target(&conn)?;
    let r = set(&conn, "N04.FR.06", &[data(&target, "UpperThreshold", max + 1.0, severity())])?;
    status_is(&r[0], "N04.FR.06", "Rejected")
}

fn tc_n_15() -> Step {
    let conn = booted(300)?;
    let d = data(&evse_state(), "Delta", 1.0, severity());
    // The station's own Delta of that severity makes the first a duplicate too: set it at a
    // severity no factory monitor is likely to have when the configured one is taken.
    let r = set(&conn, "N04.FR.10", &[d.clone(), d])?;
    if r[0]["status"] == "Duplicate" {
        return Err(Verdict::Inconclusive(format!("the station has a Delta of severity {} on {} already: set DUT parameter monitor-severity to another", severity(), name(&evse_state()))));
    }
    accepted(&r[0])?;
    status_is(&r[1], "N04.FR.10", "Duplicate")
}

fn tc_n_37() -> Step {
    let conn = booted(300)?;
    let unknown = json!({"component": {"name": "EVSE", "evse": {"id": kit::evse_id()}}, "variable": {"name": "unknownVariable"}});
    let r = set(&conn, "N04.FR.04", &[data(&unknown, "Delta", 1.0, severity())])?;
    status_is(&r[0], "N04.FR.04", "UnknownVariable")
}

/// Memory state: a Delta on the EVSE's AvailabilityState (set now); its id with the
/// threshold variable is Rejected and the monitor is still there.
fn tc_n_39() -> Step {
    let conn = booted(300)?;
    let id = prepared(&conn, data(&evse_state(), "Delta", 1.0, severity()))?;
    let (target, _, max) = threshold_target(&conn)?;
    let mut d = data(&target, "UpperThreshold", max / 2.0, severity());
    d["id"] = json!(id);
    let r = set(&conn, "N04.FR.16", &[d])?;
    status_is(&r[0], "N04.FR.16", "Rejected")?;
    let entries = accepted_report(&conn, "N02.FR.01", &[], &[])?;
    let kept = monitors_on(&entries, &evse_state()).iter().any(|(m, kind, _)| *m == id && kind == "Delta");
    kit::check(kept, "N04.FR.16", format!("monitor {id} still the Delta on {}", name(&evse_state())), || format!("{:?}", monitors_on(&entries, &evse_state())))
}

/// Memory state: a Delta of severity 5 on the EVSE's AvailabilityState (the station's own, or
/// set now); the same id with severity 4 replaces it.
fn tc_n_40() -> Step {
    let conn = booted(300)?;
    let mut d = data(&evse_state(), "Delta", 1.0, 5);
    let (_, own) = report(&conn, &["DeltaMonitoring"], &[evse_state()]).setup("the monitors read")?;
    let id = match monitors_on(&own, &evse_state()).iter().find(|(_, _, severity)| *severity == 5) {
        Some((id, _, _)) => *id,
        None => prepared(&conn, d.clone())?,
    };
    d["id"] = json!(id);
    d["severity"] = json!(4);
    let r = set(&conn, "N04.FR.12", &[d])?;
    status_is(&r[0], "N04.FR.12", "Accepted")?;
    let entries = accepted_report(&conn, "N02.FR.01", &[], &[evse_state()])?;
    let on = monitors_on(&entries, &evse_state());
    kit::check(on.contains(&(id, "Delta".into(), 4)) && !on.contains(&(id, "Delta".into(), 5)), "N04.FR.12", format!("monitor {id} of severity 4 now, not 5"), || format!("{on:?}"))
}

fn tc_n_43() -> Step {
    let conn = booted(300)?;
    let (target, min, max) = threshold_target(&conn)?;
    let elements = [data(&target, "UpperThreshold", max * 0.9, severity()), data(&evse_state(), "Delta", -1.0, severity()), data(&target, "LowerThreshold", min + (max - min) * 0.1, severity())];
    let r = set(&conn, "N04.FR.01", &elements)?;
    accepted(&r[0])?;
    status_is(&r[1], "N04.FR.14", "Rejected")?;
    accepted(&r[2]).map(drop)
}

fn tc_n_17() -> Step {
    let conn = booted(300)?;
    let verdict = (|| {
        for severity in [10, -1] {
            let r = kit::call(&conn, "N05.FR.02", "SetMonitoringLevel", json!({"severity": severity}), 10_000)?;
            kit::check(r["status"] == "Rejected", "N05.FR.02", format!("SetMonitoringLevel {severity} Rejected (0-9)"), || r.to_string())?;
        }
        Ok(())
    })();
    // A station that took one is set back to report every severity.
    let _ = kit::call(&conn, "", "SetMonitoringLevel", json!({"severity": 9}), 10_000);
    verdict
}

/// Memory state: monitors on the station's and the EVSE's AvailabilityState (set now); both
/// cleared (Accepted, a result per id), then none left on them.
fn tc_n_18() -> Step {
    let conn = booted(300)?;
    let targets = [station_state(), evse_state()];
    let ids: Vec<i64> = targets.iter().map(|t| prepared(&conn, data(t, "Delta", 1.0, severity()))).collect::<Step<_>>()?;
    let r = kit::call(&conn, "N06.FR.01", "ClearVariableMonitoring", json!({"id": ids}), 10_000)?;
    let results = r["clearMonitoringResult"].as_array().cloned().unwrap_or_default();
    for id in &ids {
        let result = results.iter().find(|x| x["id"] == *id);
        kit::check(result.is_some(), "N06.FR.05", format!("a clearMonitoringResult for id {id}"), || r.to_string())?;
        kit::check(result.is_some_and(|x| x["status"] == "Accepted"), "N06.FR.01", format!("monitor {id} cleared: Accepted"), || r.to_string())?;
    }
    let (_, entries) = report(&conn, &[], &targets)?;
    let left: Vec<i64> = targets.iter().flat_map(|t| monitors_on(&entries, t)).map(|(m, _, _)| m).filter(|m| ids.contains(m)).collect();
    kit::check(left.is_empty(), "N06.FR.01", "the cleared monitors no longer reported", || format!("still {left:?}"))
}

/// Preparation: every monitor id the station has; then one it does not.
fn tc_n_19() -> Step {
    let conn = booted(300)?;
    let (_, all) = report(&conn, &[], &[]).setup("the monitors read")?;
    let ids: Vec<i64> = all.iter().flat_map(|e| e["variableMonitoring"].as_array().cloned().unwrap_or_default()).filter_map(|m| m["id"].as_i64()).collect();
    let absent = (123_456..).find(|i| !ids.contains(i)).unwrap_or(123_456);
    let r = kit::call(&conn, "N06.FR.02", "ClearVariableMonitoring", json!({"id": [absent]}), 10_000)?;
    let status = at(&r, "/clearMonitoringResult/0/status");
    kit::check(status == "NotFound", "N06.FR.02", format!("NotFound for id {absent}, which no monitor has"), || r.to_string())
}

/// Preparation: the station's hard-wired monitors are what HardWiredOnly leaves (the base is
/// set back to All); one of them cannot be cleared. A station without any does not meet part
/// 6's prerequisite.
fn tc_n_44() -> Step {
    let conn = booted(300)?;
    let hard = then_all(&conn, || {
        base(&conn, "", "HardWiredOnly").setup("the hard-wired monitors found")?;
        let (_, left) = report(&conn, &[], &[]).setup("the hard-wired monitors found")?;
        Ok(left.iter().flat_map(|e| e["variableMonitoring"].as_array().cloned().unwrap_or_default()).find_map(|m| m["id"].as_i64()))
    })?;
    let Some(id) = hard else {
        return Err(Verdict::Skip("the station has no hard-wired monitor (none left after SetMonitoringBase HardWiredOnly)".into()));
    };
    let r = kit::call(&conn, "N06.FR.03", "ClearVariableMonitoring", json!({"id": [id]}), 10_000)?;
    let status = at(&r, "/clearMonitoringResult/0/status");
    kit::check(status == "Rejected", "N06.FR.03", format!("Rejected for the hard-wired monitor {id}"), || r.to_string())
}

/// What charging the EV takes at the bench.
const CHARGING: [&str; 3] = ["plug", "token-reader", "pilot"];

/// The EV charging: cable in, the driver's token, the EV drawing (pilot C). The station's
/// transaction messages are answered by the harness.
fn start_charging() -> Step {
    kit::plug_in(kit::evse_id())?;
    kit::present_token(&kit::valid_token())?;
    kit::pilot(kit::evse_id(), PilotState::C)
}

/// How long an event may take after what causes it: the lab's response time.
fn within() -> u32 {
    kit::config::lab_timing().response_ms.max(5_000)
}

/// The eventData of monitor `id` that `wanted` accepts, from the NotifyEvents to come (each
/// answered; others passed over). `req`, `expected` describe it.
fn event_of(conn: &Connection, req: &str, id: i64, expected: &str, wanted: impl Fn(&Value) -> bool) -> Step<Value> {
    let ours = |n: &Value| n["eventData"].as_array().into_iter().flatten().find(|d| d["variableMonitoringId"] == id && wanted(d)).cloned();
    let describe = |n: &Value| n["eventData"].as_array().into_iter().flatten().map(|d| format!("monitor {} {} {}", d["variableMonitoringId"], d["trigger"], d["actualValue"])).collect::<Vec<_>>().join("; ");
    let n = kit::expect_until(conn, req, "NotifyEvent", within(), json!({}), expected, |n| ours(n).is_some(), describe)?;
    let d = ours(&n).unwrap_or_default();
    // N07.FR.06: what caused it; N07.FR.07: the first part numbered 0.
    kit::check(d["component"].is_object() && d["variable"].is_object(), "N07.FR.06", "the event's component, variable and variableMonitoringId", || d.to_string())?;
    kit::check(n["seqNo"] == 0, "N07.FR.07", "seqNo 0 in the event's first NotifyEvent", || format!("seqNo {}", n["seqNo"]))?;
    Ok(d)
}

/// The threshold variable's actual value in an event, as a number.
fn value_of(d: &Value) -> f64 {
    d["actualValue"].as_str().and_then(|v| v.trim().parse().ok()).unwrap_or(f64::NAN)
}

fn power() -> Value {
    json!({"component": {"name": "ChargingStation"}, "variable": {"name": "Power"}})
}

/// The threshold of `threshold_target` the charging EV exceeds (part 6's "<Configured
/// threshold monitor value>"): DUT parameter `threshold-monitor-value`, 1000 (W) by default.
fn threshold() -> f64 {
    config::parameter("threshold-monitor-value").and_then(|v| v.trim().parse().ok()).unwrap_or(1_000.0)
}

/// Memory state: a Delta of severity 8 on the EVSE's AvailabilityState (set now). Level 7;
/// the cable comes in: events of other monitors may come, none of that one (N05.FR.03). The
/// level is set back to 9 whatever the verdict.
fn tc_n_16() -> Step {
    let conn = booted(300)?;
    conn.claim(&["NotifyEvent".into()]);
    let id = prepared(&conn, data(&evse_state(), "Delta", 1.0, 8))?;
    let verdict = (|| {
        let r = kit::call(&conn, "N05.FR.01", "SetMonitoringLevel", json!({"severity": 7}), 10_000)?;
        kit::check(r["status"] == "Accepted", "N05.FR.01", "SetMonitoringLevel 7 Accepted", || r.to_string())?;
        kit::plug_in(kit::evse_id())?;
        let reports = |n: &Value| n["eventData"].as_array().into_iter().flatten().any(|d| d["variableMonitoringId"] == id);
        kit::expect_none(&conn, "N05.FR.03", "NotifyEvent", within(), json!({}), &format!("no event of monitor {id} (severity 8) at level 7"), reports)
    })();
    let _ = kit::call(&conn, "", "SetMonitoringLevel", json!({"severity": 9}), 10_000);
    verdict
}

/// Memory state: a Delta (value 1.0) on the EVSE's AvailabilityState; the cable in changes it.
fn tc_n_56() -> Step {
    let conn = booted(300)?;
    conn.claim(&["NotifyEvent".into()]);
    let id = prepared(&conn, data(&evse_state(), "Delta", 1.0, severity()))?;
    kit::plug_in(kit::evse_id())?;
    let d = event_of(&conn, "N07.FR.19", id, &format!("a Delta event of monitor {id} as the EVSE's AvailabilityState changes"), |d| d["trigger"] == "Delta")?;
    kit::check(d["actualValue"] != "Available", "N07.FR.19", "the new AvailabilityState (not Available) in the event", || d["actualValue"].to_string())
}

/// TC_N_48_CS (security profile 1 or 2): a Delta monitor on the write-only BasicAuthPassword
/// (memory state); the CSMS sets a new password (step 1; part 6 also lets the station answer
/// RebootRequired, after which A01.FR.04 has the CSMS keep the old password: the case skips);
/// the station, Booted again with it (the host expects the new one), reports the monitor's event with an empty actualValue (N07.FR.10).
/// The event may come before the station leaves to reconnect.
fn tc_n_48() -> Step {
    kit::security_profiles(&[1, 2])?;
    let conn = booted(300)?;
    conn.claim(&["NotifyEvent".into()]);
    let password = json!({"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}});
    let id = prepared(&conn, data(&password, "Delta", 1.0, severity()))?;
    let r = kit::call(&conn, "A01.FR.02", "SetVariables", msg::set_variables("SecurityCtrlr", "BasicAuthPassword", &kit::fresh_password()), 10_000)?;
    let status = at(&r, "/setVariableResult/0/attributeStatus").as_str().unwrap_or_default().to_string();
    if status == "RebootRequired" {
        return Err(Verdict::Skip("the station takes the new password only after a reboot (RebootRequired), which A01.FR.04 has the CSMS treat as no change".into()));
    }
    kit::check(status == "Accepted", "", "attributeStatus Accepted for the new password", || r.to_string()).setup("a new BasicAuthPassword set")?;
    let ours = |n: &Value| n["eventData"].as_array().into_iter().flatten().find(|d| d["variableMonitoringId"] == id).cloned();
    let mut event = None;
    // Until the station closes: its event may come on this connection.
    while let Ok(call) = conn.expect_call("NotifyEvent", 5_000) {
        conn.reply(&call.message_id, "{}").map_err(|e| kit::fail("N07", "to answer NotifyEvent", format!("{e:?}")))?;
        event = event.or_else(|| ours(&kit::json(&call.payload)));
    }
    conn.close();
    let again = kit::accept_station("A01", kit::config::lab_timing().reboot_ms.saturating_mul(2), &["NotifyEvent"])?;
    let d = match event {
        Some(d) => d,
        None => event_of(&again, "N07.FR.10", id, &format!("the Delta event of monitor {id} on BasicAuthPassword"), |_| true)?,
    };
    kit::check(d["actualValue"] == "", "N07.FR.10", "an empty actualValue: BasicAuthPassword is write-only", || d["actualValue"].to_string())
}

/// Memory state: a Delta of the configured threshold value on the station's power; the EV
/// starting to draw changes it by more.
fn tc_n_45() -> Step {
    let conn = booted(300)?;
    conn.claim(&["NotifyEvent".into()]);
    let id = prepared(&conn, data(&power(), "Delta", threshold(), severity()))?;
    start_charging()?;
    let d = event_of(&conn, "N07.FR.18", id, &format!("a Delta event of monitor {id} as the power rises by more than {}", threshold()), |d| d["trigger"] == "Delta")?;
    kit::check(value_of(&d) > threshold(), "N07.FR.18", format!("the power in the event above {}", threshold()), || d["actualValue"].to_string())
}

/// Monitoring base All (memory state); an UpperThreshold on the power: exceeded as the EV
/// draws (N07.FR.16); a LowerThreshold at the same value; the EV stops (pilot B): the lower
/// one falls below (N07.FR.17) and the upper one clears (N07.FR.02).
fn tc_n_20() -> Step {
    let conn = booted(300)?;
    conn.claim(&["NotifyEvent".into()]);
    then_all(&conn, || Ok(())).setup("monitoring base All")?;
    let t = threshold();
    let upper = prepared(&conn, data(&power(), "UpperThreshold", t, severity()))?;
    start_charging()?;
    let d = event_of(&conn, "N07.FR.16", upper, &format!("an Alerting event of monitor {upper}: the power above {t}"), |d| d["trigger"] == "Alerting" && d["cleared"] != true)?;
    kit::check(value_of(&d) > t, "N07.FR.16", format!("the power in the event above {t}"), || d["actualValue"].to_string())?;
    let r = set(&conn, "N04.FR.08", &[data(&power(), "LowerThreshold", t, severity())])?;
    let lower = accepted(&r[0])?;
    kit::pilot(kit::evse_id(), PilotState::B)?;
    let mut left = vec![(lower, "N07.FR.17"), (upper, "N07.FR.02")];
    let deadline = clock::now_ms() + u64::from(within());
    while !left.is_empty() && clock::now_ms() < deadline {
        let Ok(call) = kit::expect(&conn, "N07.FR.17", "NotifyEvent", 1_000) else { continue };
        kit::reply(&conn, "N07.FR.17", &call, "NotifyEvent", json!({}))?;
        for d in call.payload["eventData"].as_array().into_iter().flatten() {
            let is = |id: i64| d["variableMonitoringId"] == id;
            if is(lower) && d["trigger"] == "Alerting" && d["cleared"] != true {
                kit::check(value_of(d) < t, "N07.FR.17", format!("the power in the event below {t}"), || d["actualValue"].to_string())?;
                left.retain(|(id, _)| *id != lower);
            } else if is(upper) && d["cleared"] == true {
                left.retain(|(id, _)| *id != upper);
            }
        }
    }
    match left.first() {
        None => Ok(()),
        Some((id, req)) if *id == lower => Err(kit::fail(req, format!("an Alerting event of monitor {lower}: the power below {t}"), "none")),
        Some((_, req)) => Err(kit::fail(req, format!("an event of monitor {upper} with cleared true: the power back within {t}"), "none")),
    }
}

/// Memory state: an UpperThreshold the charging EV stays under (the variable's maxLimit);
/// set again by its id at 0, the power now exceeds it: an event at once (N07.FR.11).
fn tc_n_51() -> Step {
    let conn = booted(300)?;
    conn.claim(&["NotifyEvent".into()]);
    let (target, _, max) = threshold_target(&conn)?;
    let id = prepared(&conn, data(&target, "UpperThreshold", max, severity()))?;
    start_charging()?;
    clock::sleep_ms(2_000);
    let mut d = data(&target, "UpperThreshold", 0.0, severity());
    d["id"] = json!(id);
    let r = set(&conn, "N04.FR.12", &[d])?;
    status_is(&r[0], "N04.FR.12", "Accepted")?;
    let e = event_of(&conn, "N07.FR.11", id, &format!("an Alerting event of monitor {id}, set again below the value"), |d| d["trigger"] == "Alerting" && d["cleared"] != true)?;
    kit::check(value_of(&e) > 0.0, "N07.FR.11", "the value in the event above the new threshold 0", || e["actualValue"].to_string())
}

/// Memory state: an UpperThreshold exceeded (at 0, the EV drawing); cleared, it is no more
/// reported, and when the power falls back no event says it cleared (N07.FR.12).
fn tc_n_52() -> Step {
    let conn = booted(300)?;
    conn.claim(&["NotifyEvent".into()]);
    let id = prepared(&conn, data(&power(), "UpperThreshold", 0.0, severity()))?;
    start_charging()?;
    event_of(&conn, "N07.FR.16", id, &format!("an Alerting event of monitor {id}"), |d| d["trigger"] == "Alerting").setup("memory state: the threshold exceeded")?;
    let r = kit::call(&conn, "N06.FR.01", "ClearVariableMonitoring", json!({"id": [id]}), 10_000)?;
    kit::check(at(&r, "/clearMonitoringResult/0/status") == "Accepted", "N06.FR.01", format!("monitor {id} cleared: Accepted"), || r.to_string())?;
    let (status, entries) = report(&conn, &["ThresholdMonitoring"], &[power()])?;
    let still = monitors_on(&entries, &power()).iter().any(|(m, _, _)| *m == id);
    kit::check(!still, "N06.FR.01", format!("monitor {id} no more reported"), || format!("status {status}, {:?}", monitors_on(&entries, &power())))?;
    kit::pilot(kit::evse_id(), PilotState::B)?;
    let clears = |n: &Value| n["eventData"].as_array().into_iter().flatten().any(|d| d["variableMonitoringId"] == id && d["cleared"] == true);
    kit::expect_none(&conn, "N07.FR.12", "NotifyEvent", within(), json!({}), &format!("no event clearing the removed monitor {id}"), clears)
}

/// Memory state: an UpperThreshold on the power (set now); after a reboot the report of
/// threshold monitors still holds it.
fn tc_n_53() -> Step {
    let conn = booted(300)?;
    let id = prepared(&conn, data(&power(), "UpperThreshold", threshold(), severity()))?;
    let (conn, _) = kit::reboot_station(&[])?;
    let entries = accepted_report(&conn, "N07.FR.13", &["ThresholdMonitoring"], &[])?;
    let kept = monitors_on(&entries, &power()).iter().any(|(m, kind, _)| *m == id && kind == "UpperThreshold");
    kit::check(kept, "N07.FR.13", format!("monitor {id}, the UpperThreshold on the power, after the reboot"), || format!("{:?}", monitors_on(&entries, &power())))
}

/// Part 6's "<Configured ClockAligned MeterValues Interval>": the DUT parameter
/// `periodic-monitor-s`, else the station's AlignedDataCtrlr.Interval if at most 30 s, else
/// 5 s (the case waits for two periods).
fn period(conn: &Connection) -> Step<u64> {
    if let Some(s) = config::parameter("periodic-monitor-s").and_then(|v| v.trim().parse().ok()) {
        return Ok(s);
    }
    let aligned = station_value(conn, "AlignedDataCtrlr", "Interval")?.and_then(|v| v.parse::<u64>().ok());
    Ok(aligned.filter(|s| (1..=30).contains(s)).unwrap_or(5))
}

/// A Periodic monitor on the EVSE's AvailabilityState: two events with trigger Periodic
/// (N08.FR.05), the second a period after the first (N08.FR.06).
fn tc_n_24() -> Step {
    let conn = booted(300)?;
    conn.claim(&["NotifyEvent".into()]);
    let every = period(&conn)?;
    let r = set(&conn, "N04.FR.08", &[data(&evse_state(), "Periodic", every as f64, severity())])?;
    let id = accepted(&r[0])?;
    let slack = u64::from(within());
    let mut times = vec![];
    for k in 0..2 {
        let expected = format!("event {} of Periodic monitor {id} (every {every} s)", k + 1);
        let n = kit::expect_until(&conn, "N08.FR.06", "NotifyEvent", (every * 1_000 + slack) as u32, json!({}), &expected, |n| {
            n["eventData"].as_array().into_iter().flatten().any(|d| d["variableMonitoringId"] == id)
        }, |n| n.to_string())?;
        let d = n["eventData"].as_array().into_iter().flatten().find(|d| d["variableMonitoringId"] == id).cloned().unwrap_or_default();
        kit::check(d["trigger"] == "Periodic", "N08.FR.05", "trigger Periodic", || d["trigger"].to_string())?;
        times.push(clock::now_ms());
    }
    let gap = times[1] - times[0];
    kit::check(gap + 1_000 >= every * 1_000, "N08.FR.06", format!("the second event {every} s after the first"), || format!("{gap} ms after"))
}

/// Memory state: a preconfigured Delta on the EVSE's AvailabilityState — what FactoryDefault
/// leaves there (the base is set back to All after). Set again by its id one severity lower
/// (N04.FR.12), it is reported so; after FactoryDefault it is back at its own severity
/// (N03.FR.04).
fn tc_n_41() -> Step {
    let conn = booted(300)?;
    then_all(&conn, || {
        base(&conn, "", "FactoryDefault").setup("the preconfigured monitors found")?;
        let (_, own) = report(&conn, &["DeltaMonitoring"], &[evse_state()]).setup("the preconfigured monitors found")?;
        let Some((id, _, level)) = monitors_on(&own, &evse_state()).into_iter().find(|(_, _, s)| *s < 9) else {
            return Err(Verdict::Skip(format!("the station has no preconfigured Delta on {} (none after SetMonitoringBase FactoryDefault)", name(&evse_state()))));
        };
        let mut d = data(&evse_state(), "Delta", 1.0, level + 1);
        d["id"] = json!(id);
        let r = set(&conn, "N04.FR.12", &[d])?;
        status_is(&r[0], "N04.FR.12", "Accepted")?;
        let changed = accepted_report(&conn, "N02.FR.01", &["DeltaMonitoring"], &[evse_state()])?;
        let on = monitors_on(&changed, &evse_state());
        kit::check(on.contains(&(id, "Delta".into(), level + 1)), "N04.FR.12", format!("monitor {id} of severity {} now", level + 1), || format!("{on:?}"))?;
        base(&conn, "N03.FR.04", "FactoryDefault")?;
        let back = accepted_report(&conn, "N03.FR.04", &["DeltaMonitoring"], &[evse_state()])?;
        let on = monitors_on(&back, &evse_state());
        kit::check(on.contains(&(id, "Delta".into(), level)), "N03.FR.04", format!("monitor {id} back at its own severity {level}"), || format!("{on:?}"))
    })
}
