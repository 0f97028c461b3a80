//! GetReport, the custom report (part 6 §2.2, B08; the Advanced Device Management profile):
//! the station reports what the criteria and component/variable pairs select and nothing
//! else (B08.FR.05/.11), every instance or EVSE a pair leaves open (B08.FR.21/.23), each
//! variable with its characteristics (B08.FR.12), in parts numbered from 0 (B08.FR.14), and
//! EmptyResultSet where nothing matches (B08.FR.15).
use serde_json::{Value, json};

use super::{booted, get_variable};
use crate::{
    Case,
    kit::{self, Connection, Step, at},
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    super::station_case(id, title, requirements, &[], run).profile("advanced-device-management")
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        case(
            "TC_B_16_CS",
            "GetReport by criterion Enabled: no component reported with Enabled false, and an Enabled reported reads true",
            &["B08.FR.01", "B08.FR.03", "B08.FR.04", "B08.FR.07", "B08.FR.09", "B08.FR.12", "B08.FR.13", "B08.FR.14"],
            tc_b_16,
        ),
        case("TC_B_17_CS", "GetReport of one EVSE's AvailabilityState reports that variable only, ReadOnly, an OptionList", &["B08.FR.01", "B08.FR.03", "B08.FR.04", "B08.FR.11", "B08.FR.12", "B08.FR.14"], tc_b_17),
        case(
            "TC_B_18_CS",
            "GetReport by criterion and variable: Available selects the EVSE's AvailabilityState, Problem nothing (EmptyResultSet)",
            &["B08.FR.01", "B08.FR.03", "B08.FR.04", "B08.FR.05", "B08.FR.11", "B08.FR.12", "B08.FR.14", "B08.FR.15"],
            tc_b_18,
        ),
        case("TC_B_54_CS", "GetReport of a variable without its instance reports every instance of it", &["B08.FR.01", "B08.FR.03", "B08.FR.04", "B08.FR.11", "B08.FR.12", "B08.FR.14", "B08.FR.21"], tc_b_54),
        case("TC_B_55_CS", "GetReport of a variable with its instance reports that instance only", &["B08.FR.01", "B08.FR.03", "B08.FR.04", "B08.FR.11", "B08.FR.12", "B08.FR.14"], tc_b_55),
        case("TC_B_56_CS", "GetReport of an EVSE variable without an EVSE id reports it for every EVSE", &["B08.FR.01", "B08.FR.03", "B08.FR.04", "B08.FR.11", "B08.FR.12", "B08.FR.14", "B08.FR.23"], tc_b_56),
    ]
}

/// GetReport of `request` (its requestId added): the status, and when Accepted the reportData
/// of the NotifyReports that follow — each naming the request (B08.FR.04), numbered from 0
/// (B08.FR.14), every variable with its characteristics (B08.FR.12).
fn custom_report(conn: &Connection, request: Value) -> Step<(String, Vec<Value>)> {
    let report = kit::PagedReport {
        request: "GetReport",
        notify: "NotifyReport",
        items: "reportData",
        answered: "B08.FR.01",
        part: "B08.FR.03",
        same_request: "B08.FR.04",
        numbered: Some("B08.FR.14"),
    };
    let (status, data) = kit::paged_report(conn, &report, request)?;
    for d in &data {
        kit::check(d["variableCharacteristics"].is_object(), "B08.FR.12", "variableCharacteristics with every reported variable", || d.to_string())?;
    }
    Ok((status, data))
}

/// The report Accepted (B08.FR.01) and not empty (B08.FR.03).
fn accepted_report(conn: &Connection, request: Value) -> Step<Vec<Value>> {
    let (status, data) = custom_report(conn, request)?;
    kit::check(status == "Accepted", "B08.FR.01", "GetReport Accepted for criteria the station supports", || format!("status {status}"))?;
    kit::check(!data.is_empty(), "B08.FR.03", "the selected variables in NotifyReport", || "no reportData".into())?;
    Ok(data)
}

/// `Component[evse]` `Variable[instance]`, for messages.
fn name(d: &Value) -> String {
    let (c, v) = (&d["component"], &d["variable"]);
    let evse = c.get("evse").map(|e| format!("(EVSE {})", e["id"])).unwrap_or_default();
    let instance = v.get("instance").map(|i| format!("[{}]", i.as_str().unwrap_or_default())).unwrap_or_default();
    format!("{}{evse}.{}{instance}", c["name"].as_str().unwrap_or_default(), v["name"].as_str().unwrap_or_default())
}

/// Every reported variable is `component`'s `variable` (`req`: B08.FR.05 or .11).
fn only(req: &str, data: &[Value], component: &str, variable: &str) -> Step {
    let stray: Vec<String> = data.iter().filter(|d| d["component"]["name"] != component || d["variable"]["name"] != variable).map(name).collect();
    kit::check(stray.is_empty(), req, format!("only {component}.{variable} reported"), || {
        let more = stray.len().saturating_sub(6);
        format!("{}{}", stray[..stray.len().min(6)].join(", "), if more > 0 { format!(" and {more} more") } else { String::new() })
    })
}

/// The EVSE's AvailabilityState as part 6 describes it: ReadOnly, Actual, an OptionList of the
/// five connector statuses.
fn availability_state(d: &Value) -> Step {
    let ch = &d["variableCharacteristics"];
    let mut listed: Vec<String> = ch["valuesList"].as_str().unwrap_or_default().split(',').map(|s| s.trim().to_string()).collect();
    listed.sort();
    let five = ["Available", "Faulted", "Occupied", "Reserved", "Unavailable"];
    kit::check(ch["dataType"] == "OptionList" && listed == five, "B08.FR.12", "dataType OptionList, valuesList Available, Occupied, Reserved, Unavailable, Faulted", || ch.to_string())?;
    let attr = &d["variableAttribute"][0];
    kit::check(attr["mutability"] == "ReadOnly" && attr.get("type").is_none_or(|t| t == "Actual"), "B08.FR.12", "an Actual value, ReadOnly", || d["variableAttribute"].to_string())
}

/// The componentVariable of EVSE 1's AvailabilityState (part 6 names EVSE 1).
fn evse_state() -> Value {
    json!([{"component": {"name": "EVSE", "evse": {"id": kit::evse_id()}}, "variable": {"name": "AvailabilityState"}}])
}

/// B08.FR.09 (with .05): a component reported under the criterion Enabled has Enabled true or
/// no Enabled at all; part 6 then reads one reported Enabled back: true.
fn tc_b_16() -> Step {
    let conn = booted(300)?;
    let data = accepted_report(&conn, json!({"componentCriteria": ["Enabled"]}))?;
    let disabled: Vec<String> = data.iter().filter(|d| d["variable"]["name"] == "Enabled" && d["variable"].get("instance").is_none() && at(d, "/variableAttribute/0/value") == "false").map(name).collect();
    kit::check(disabled.is_empty(), "B08.FR.09", "no component whose Enabled is false", || disabled.join(", "))?;
    let Some(enabled) = data.iter().find(|d| d["variable"]["name"] == "Enabled" && d["variable"].get("instance").is_none()) else {
        kit::info("the report holds no Enabled variable: nothing to read back");
        return Ok(());
    };
    let component = enabled["component"]["name"].as_str().unwrap_or_default();
    let r = get_variable(&conn, "B08.FR.09", component, "Enabled")?;
    kit::check(r["attributeStatus"] == "Accepted" && r["attributeValue"] == "true", "B08.FR.09", format!("{component}.Enabled, reported under the criterion Enabled, reads true"), || r.to_string())
}

fn tc_b_17() -> Step {
    let conn = booted(300)?;
    let data = accepted_report(&conn, json!({"componentVariable": evse_state()}))?;
    only("B08.FR.11", &data, "EVSE", "AvailabilityState")?;
    let ours: Vec<&Value> = data.iter().filter(|d| at(d, "/component/evse/id") == kit::evse_id()).collect();
    kit::check(ours.len() == data.len(), "B08.FR.11", format!("only EVSE {}", kit::evse_id()), || data.iter().map(name).collect::<Vec<_>>().join(", "))?;
    availability_state(&data[0])
}

/// Criterion Available with the EVSE's AvailabilityState: that variable only (B08.FR.05); with
/// criterion Problem, which an EVSE in order does not meet, nothing: EmptyResultSet.
fn tc_b_18() -> Step {
    let conn = booted(300)?;
    let data = accepted_report(&conn, json!({"componentCriteria": ["Available"], "componentVariable": evse_state()}))?;
    only("B08.FR.05", &data, "EVSE", "AvailabilityState")?;
    availability_state(&data[0])?;
    let (status, _) = custom_report(&conn, json!({"componentCriteria": ["Problem"], "componentVariable": evse_state()}))?;
    kit::check(status == "EmptyResultSet", "B08.FR.15", "GetReport EmptyResultSet: no EVSE with Problem true", || format!("status {status}"))
}

/// The instances of DeviceDataCtrlr.ItemsPerMessage reported (sorted).
fn items_per_message(data: &[Value]) -> Step<Vec<String>> {
    only("B08.FR.11", data, "DeviceDataCtrlr", "ItemsPerMessage")?;
    let mut instances: Vec<String> = data.iter().map(|d| d["variable"]["instance"].as_str().unwrap_or_default().to_string()).collect();
    instances.sort();
    Ok(instances)
}

/// ItemsPerMessage without an instance: every instance — GetReport and GetVariables at
/// least, which part 2's appendix requires of every station (B08.FR.21).
fn tc_b_54() -> Step {
    let conn = booted(300)?;
    let data = accepted_report(&conn, json!({"componentVariable": [{"component": {"name": "DeviceDataCtrlr"}, "variable": {"name": "ItemsPerMessage"}}]}))?;
    let instances = items_per_message(&data)?;
    let both = ["GetReport", "GetVariables"].iter().all(|i| instances.iter().any(|x| x == i));
    kit::check(both, "B08.FR.21", "ItemsPerMessage of instances GetReport and GetVariables", || format!("instances {instances:?}"))
}

fn tc_b_55() -> Step {
    let conn = booted(300)?;
    let data = accepted_report(&conn, json!({"componentVariable": [{"component": {"name": "DeviceDataCtrlr"}, "variable": {"name": "ItemsPerMessage", "instance": "GetReport"}}]}))?;
    let instances = items_per_message(&data)?;
    kit::check(instances == ["GetReport"], "B08.FR.11", "ItemsPerMessage of instance GetReport only", || format!("instances {instances:?}"))
}

/// EVSE AvailabilityState without an EVSE id: one per EVSE the station has (the DUT
/// description's `evses`), B08.FR.23.
fn tc_b_56() -> Step {
    let conn = booted(300)?;
    let data = accepted_report(&conn, json!({"componentVariable": [{"component": {"name": "EVSE"}, "variable": {"name": "AvailabilityState"}}]}))?;
    only("B08.FR.11", &data, "EVSE", "AvailabilityState")?;
    let mut ids: Vec<u64> = data.iter().filter_map(|d| at(d, "/component/evse/id").as_u64()).collect();
    ids.sort_unstable();
    ids.dedup();
    let every: Vec<u64> = (1..=u64::from(kit::evses())).collect();
    kit::check(ids == every, "B08.FR.23", format!("AvailabilityState of EVSE {every:?}, each EVSE the station has"), || format!("of EVSE {ids:?}"))
}
