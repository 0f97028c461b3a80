//! Block O, display messages, for a charging-station DUT (part 6 §2.15; the Advanced User
//! Interface profile): a message set (O01) and reported back (O03, O04) with what was set,
//! its start and end times, its state, kept across a reboot, replaced by id (O06), and the
//! priorities and formats the station does not list refused.
//!
//! What the station shows on its screen is for the lab to watch; these cases check what it
//! says over OCPP. Part 6's "<Configured Priority>" and "<Configured format>" are ones the
//! station's DisplayMessageCtrlr.SupportedPriorities and SupportedFormats list (NormalCycle
//! and UTF8 where listed), read with its configuration; "<Configured content>" is the DUT
//! parameter `display-message-content`. The baseline clears the messages a case set.
use serde_json::{Value, json};

use super::{
    TX, booted,
    availability::{Scope, change, ready, unavailable},
    connector_is, station_value,
};
use crate::{
    Case,
    kit::{self, Connection, PilotState, Setup, StationState, Step, Verdict, at, clock, config},
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    super::station_case(id, title, requirements, &[], run).profile("advanced-user-interface")
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        case("TC_O_01_CS", "A display message is Accepted and reported back with its id, priority, format and content", &["O01.FR.12", "O03.FR.01", "O03.FR.02", "O03.FR.05"], tc_o_01),
        case("TC_O_13_CS", "A display message with a later startDateTime is Accepted and reported with it", &["O01.FR.06", "O03.FR.02"], tc_o_13),
        case("TC_O_14_CS", "A display message is gone once its endDateTime has passed", &["O01.FR.07", "O04.FR.01", "O04.FR.02"], tc_o_14).timeout_ms(60_000),
        case("TC_O_20_CS", "A display message is still there after a reboot", &["O01.FR.10", "O04.FR.01", "O04.FR.06"], tc_o_20).timeout_ms(90_000),
        case("TC_O_36_CS", "A display message for state Charging is kept through a charging session and reported with its state", &["O01", "O04.FR.01"], tc_o_36)
            .needs(&["plug", "pilot"])
            .timeout_ms(60_000),
        case("TC_O_37_CS", "A display message for state Idle is kept through a charging session and reported with its state", &["O01", "O04.FR.01"], tc_o_37)
            .needs(&["plug", "pilot"])
            .timeout_ms(60_000),
        case("TC_O_38_CS", "A display message for state Unavailable is kept while the EVSE goes Unavailable and back", &["O01", "O04.FR.01", "G03.FR.07"], tc_o_38),
        case("TC_O_15_CS", "A display message is Accepted during a transaction of a driver whose token names a preferred language", &["O01.FR.08", "O01.FR.17"], tc_o_15)
            .needs(&["plug", "pilot", "token-reader"])
            .timeout_ms(60_000),
        case("TC_O_12_CS", "A display message with the id of one set replaces it", &["O06.FR.01"], tc_o_12),
        case("TC_O_17_CS", "A display message of a priority the station does not list is refused NotSupportedPriority", &["O01.FR.01", "O02.FR.03"], tc_o_17),
        case("TC_O_19_CS", "A display message of a format the station does not list is refused NotSupportedMessageFormat", &["O01.FR.03", "O02.FR.05"], tc_o_19),
        case("TC_O_22_CS", "Two InFront display messages are both kept", &["O01.FR.14", "O04.FR.01"], tc_o_22),
        case("TC_O_24_CS", "A second AlwaysFront display message replaces the first", &["O01.FR.16", "O04.FR.01", "O04.FR.02"], tc_o_24),
    ]
}

/// MessagePriorityEnumType and 2.0.1's MessageFormatEnumType.
const PRIORITIES: [&str; 3] = ["AlwaysFront", "InFront", "NormalCycle"];
const FORMATS: [&str; 4] = ["ASCII", "HTML", "URI", "UTF8"];

/// The members of a DisplayMessageCtrlr list the station has (read with its configuration).
fn supported(conn: &Connection, variable: &str) -> Step<Vec<String>> {
    let value = station_value(conn, "DisplayMessageCtrlr", variable)?.unwrap_or_default();
    Ok(value.split(',').map(|m| m.trim().to_string()).filter(|m| !m.is_empty()).collect())
}

/// `wanted` if the list has it (or the station does not say), else its first member.
fn preferred(list: &[String], wanted: &str) -> String {
    if list.is_empty() || list.iter().any(|m| m == wanted) { wanted.to_string() } else { list[0].clone() }
}

/// Part 6's "<Configured Priority>": NormalCycle where listed.
fn priority(conn: &Connection) -> Step<String> {
    Ok(preferred(&supported(conn, "SupportedPriorities")?, "NormalCycle"))
}

/// Part 6's "<Configured format>": UTF8 where listed.
fn format(conn: &Connection) -> Step<String> {
    Ok(preferred(&supported(conn, "SupportedFormats")?, "UTF8"))
}

/// Part 6's "<Configured content>".
fn content() -> String {
    config::parameter("display-message-content").unwrap_or_else(|| "Welcome to this charging station".into())
}

/// A new message at `priority` in the configured format and content; `extra` adds or
/// replaces MessageInfo fields.
fn message(conn: &Connection, priority: &str, extra: Value) -> Step<Value> {
    let mut m = json!({"id": kit::unique_number(), "priority": priority, "message": {"format": format(conn)?, "content": content()}});
    if let (Some(a), Value::Object(b)) = (m.as_object_mut(), extra) {
        a.extend(b);
    }
    Ok(m)
}

/// SetDisplayMessage of `m`: the answer's status.
fn set(conn: &Connection, req: &str, m: &Value) -> Step<String> {
    let r = kit::call(conn, req, "SetDisplayMessage", json!({"message": m}), 10_000)?;
    Ok(r["status"].as_str().unwrap_or_default().to_string())
}

/// SetDisplayMessage of `m`, answered `expected` (`req`).
fn set_as(conn: &Connection, req: &str, m: &Value, expected: &str) -> Step {
    let status = set(conn, req, m)?;
    kit::check(status == expected, req, format!("SetDisplayMessage {expected} for priority {} and format {}", m["priority"], m["message"]["format"]), || format!("status {status}"))
}

/// GetDisplayMessages for `ids` (all when empty): Unknown gives None; Accepted gives the
/// messages of the NotifyDisplayMessages that follow, each naming the request (O03.FR.05,
/// O04.FR.06), tbc on all but the last.
fn reported(conn: &Connection, req: &str, ids: &[&Value]) -> Step<Option<Vec<Value>>> {
    let mut p = json!({});
    if !ids.is_empty() {
        p["id"] = json!(ids);
    }
    let by_id = if ids.is_empty() { "O03.FR.05" } else { "O04.FR.06" };
    let report =
        kit::PagedReport { request: "GetDisplayMessages", notify: "NotifyDisplayMessages", items: "messageInfo", answered: req, part: by_id, same_request: by_id, numbered: None };
    let (status, messages) = kit::paged_report(conn, &report, p)?;
    Ok((status != "Unknown").then_some(messages))
}

/// GetDisplayMessages (for `m`'s id when `by_id`) is Accepted (`req`) and reports `m`: its id,
/// priority, format and content, and each of `fields` as set. The message as reported.
fn reported_as_set(conn: &Connection, req: &str, m: &Value, by_id: bool, fields: &[&str]) -> Step<Value> {
    let ids = if by_id { vec![&m["id"]] } else { vec![] };
    let Some(messages) = reported(conn, req, &ids)? else {
        return Err(kit::fail(req, format!("GetDisplayMessages Accepted: message {} is configured", m["id"]), "status Unknown"));
    };
    let Some(got) = messages.iter().find(|r| r["id"] == m["id"]).cloned() else {
        let ids: Vec<String> = messages.iter().map(|r| r["id"].to_string()).collect();
        return Err(kit::fail(req, format!("message {} in the NotifyDisplayMessages", m["id"]), format!("messages {}", ids.join(", "))));
    };
    for field in ["priority"].iter().chain(fields) {
        let same = match *field {
            "startDateTime" | "endDateTime" => got[*field].as_str().and_then(kit::epoch_ms) == m[*field].as_str().and_then(kit::epoch_ms) && got[*field].is_string(),
            f => got[f] == m[f],
        };
        kit::check(same, req, format!("{field} {}, as set", m[*field]), || format!("{field} {}", got[*field]))?;
    }
    let (sent, back) = (&m["message"], &got["message"]);
    kit::check(back["format"] == sent["format"] && back["content"] == sent["content"], req, format!("message {sent}, as set"), || back.to_string())?;
    Ok(got)
}

fn tc_o_01() -> Step {
    let conn = booted(300)?;
    let m = message(&conn, &priority(&conn)?, json!({}))?;
    set_as(&conn, "O01.FR.12", &m, "Accepted")?;
    reported_as_set(&conn, "O03.FR.02", &m, false, &[]).map(drop)
}

/// A start 60 s ahead: the station keeps it (O01.FR.06 is about the screen) and reports it.
fn tc_o_13() -> Step {
    let conn = booted(300)?;
    let m = message(&conn, &priority(&conn)?, json!({"startDateTime": kit::time_from_now(60)}))?;
    set_as(&conn, "O01.FR.06", &m, "Accepted")?;
    reported_as_set(&conn, "O03.FR.02", &m, false, &["startDateTime"]).map(drop)
}

/// How long after it is set a message of TC_O_14_CS ends, in s: DUT parameter
/// `display-message-end-s`, 10 by default (part 6 waits 60; the end is what is checked, not
/// how far off it is).
fn end_after() -> i64 {
    config::parameter("display-message-end-s").and_then(|v| v.trim().parse().ok()).filter(|s| *s > 0).unwrap_or(10)
}

/// Reported with its end while it lasts; once the end has passed, asked for by its id, the
/// station knows it no more (O01.FR.07, O04.FR.02).
fn tc_o_14() -> Step {
    let conn = booted(300)?;
    let end = end_after();
    let m = message(&conn, &priority(&conn)?, json!({"endDateTime": kit::time_from_now(end)}))?;
    set_as(&conn, "O01.FR.07", &m, "Accepted")?;
    reported_as_set(&conn, "O04.FR.01", &m, true, &["endDateTime"])?;
    let left = m["endDateTime"].as_str().and_then(kit::epoch_ms).unwrap_or_default() - kit::epoch_ms(&kit::now()).unwrap_or_default();
    clock::sleep_ms(u32::try_from(left.max(0) + 1_000).unwrap_or(0));
    let after = reported(&conn, "O01.FR.07", &[&m["id"]])?;
    kit::check(after.is_none(), "O01.FR.07", format!("GetDisplayMessages Unknown for message {} after its endDateTime", m["id"]), || "status Accepted".into())
}

/// Part 6's reusable state Booted between setting and asking: a reboot.
fn tc_o_20() -> Step {
    let conn = booted(300)?;
    let m = message(&conn, &priority(&conn)?, json!({}))?;
    set_as(&conn, "O01.FR.10", &m, "Accepted")?;
    let (conn, _) = kit::reboot_station(&[])?;
    reported_as_set(&conn, "O01.FR.10", &m, true, &[]).map(drop)
}

/// A message for `state`, then a whole charging session (ParkingBayOccupied to
/// EVDisconnected); asked for by id, it is still there, with its state.
fn through_session(state: &str) -> Step {
    let conn = booted(300)?;
    let m = message(&conn, &priority(&conn)?, json!({"state": state}))?;
    set_as(&conn, "O01", &m, "Accepted")?;
    let (conn, _) = kit::reach_station(StationState::EvDisconnected, kit::evse_id(), &[])?;
    reported_as_set(&conn, "O04.FR.01", &m, true, &["state"]).map(drop)
}

fn tc_o_36() -> Step {
    through_session("Charging")
}

fn tc_o_37() -> Step {
    through_session("Idle")
}

/// A message for state Unavailable; the EVSE made Unavailable (reusable state) and Operative
/// again, reported Available (G03.FR.07); the message still there with its state.
fn tc_o_38() -> Step {
    let conn = ready()?;
    let m = message(&conn, &priority(&conn)?, json!({"state": "Unavailable"}))?;
    set_as(&conn, "O01", &m, "Accepted")?;
    unavailable(&conn, Scope::Evse)?;
    change(&conn, "G03.FR.07", Scope::Evse, "Operative", "Accepted")?;
    connector_is(&conn, "G03.FR.07", "Available")?;
    reported_as_set(&conn, "O04.FR.01", &m, true, &["state"]).map(drop)
}

/// Part 6's "<Configured language>" (RFC 5646, O01.FR.17): DUT parameter `driver-language`.
fn language() -> String {
    config::parameter("driver-language").unwrap_or_else(|| "de".into())
}

/// The driver's token at the reader, Accepted with a preferred language; a session charging
/// for it (EnergyTransferStarted); then a message in that language is Accepted. Which
/// language the screen shows (O01.FR.08) is for the lab to watch.
fn tc_o_15() -> Step {
    let conn = booted(300)?;
    conn.claim(&["Authorize".into(), TX.into()]);
    let lang = language();
    kit::present_token(&kit::valid_token())?;
    let a = kit::expect_and_reply(&conn, "O01.FR.08", "Authorize", 10_000, json!({"idTokenInfo": {"status": "Accepted", "language1": lang}}))?;
    kit::check(at(&a, "/idToken/idToken") == kit::valid_token().as_str(), "C01", format!("Authorize for the token presented, {}", kit::valid_token()), || a.to_string())?;
    charging(&conn).setup("reusable state EnergyTransferStarted")?;
    let mut m = message(&conn, &priority(&conn)?, json!({}))?;
    m["message"]["language"] = json!(lang);
    set_as(&conn, "O01.FR.08", &m, "Accepted")
}

/// Cable in and the EV drawing (pilot C) after the token: the transaction's events until one
/// says Charging (answered Accepted where they carry the token).
fn charging(conn: &Connection) -> Step {
    kit::plug_in(kit::evse_id())?;
    kit::pilot(kit::evse_id(), PilotState::C)?;
    for _ in 0..6 {
        let call = kit::expect(conn, "E02", TX, 15_000)?;
        let reply = if call.payload.get("idToken").is_some() { json!({"idTokenInfo": {"status": "Accepted"}}) } else { json!({}) };
        kit::reply(conn, "E02", &call, TX, reply)?;
        if at(&call.payload, "/transactionInfo/chargingState") == "Charging" {
            return Ok(());
        }
    }
    Err(kit::fail("E02", "a TransactionEvent with chargingState Charging", "six events without it"))
}

/// Part 6's memory state (a message set), then one with its id and another priority (or,
/// where the station lists one priority, another content): Accepted (O06.FR.01).
fn tc_o_12() -> Step {
    let conn = booted(300)?;
    let first = message(&conn, &priority(&conn)?, json!({}))?;
    set_as(&conn, "", &first, "Accepted").setup("memory state: a display message configured")?;
    let listed = supported(&conn, "SupportedPriorities")?;
    let other = listed.iter().find(|p| **p != first["priority"]).cloned();
    let mut again = first.clone();
    match other {
        Some(p) => again["priority"] = json!(p),
        None => again["message"]["content"] = json!(format!("{} (replaced)", content())),
    }
    set_as(&conn, "O06.FR.01", &again, "Accepted")
}

/// The first of `every` the station's `variable` does not list; a station that lists them
/// all does not meet part 6's prerequisite.
fn unlisted(conn: &Connection, variable: &str, every: &[&'static str], what: &str) -> Step<&'static str> {
    let listed = supported(conn, variable)?;
    every.iter().find(|m| !listed.iter().any(|l| l == *m)).copied().ok_or_else(|| {
        Verdict::Skip(format!("the station's DisplayMessageCtrlr.{variable} lists every display message {what} ({}): part 6 runs this case only on a station without one", listed.join(",")))
    })
}

fn tc_o_17() -> Step {
    let conn = booted(300)?;
    let p = unlisted(&conn, "SupportedPriorities", &PRIORITIES, "priority")?;
    set_as(&conn, "O01.FR.01", &message(&conn, p, json!({}))?, "NotSupportedPriority")
}

fn tc_o_19() -> Step {
    let conn = booted(300)?;
    let f = unlisted(&conn, "SupportedFormats", &FORMATS, "format")?;
    let mut m = message(&conn, &priority(&conn)?, json!({}))?;
    m["message"]["format"] = json!(f);
    set_as(&conn, "O01.FR.03", &m, "NotSupportedMessageFormat")
}

/// The station lists `p` among its priorities, else it does not meet part 6's prerequisite.
fn priority_listed(conn: &Connection, p: &str) -> Step {
    let listed = supported(conn, "SupportedPriorities")?;
    if listed.iter().any(|l| l == p) {
        return Ok(());
    }
    Err(Verdict::Skip(format!("the station's DisplayMessageCtrlr.SupportedPriorities does not list {p} ({}): part 6 runs this case only on a station with it", listed.join(","))))
}

/// Two InFront messages: both Accepted, each still reported by its id (O01.FR.14: they take
/// turns).
fn tc_o_22() -> Step {
    let conn = booted(300)?;
    priority_listed(&conn, "InFront")?;
    let first = message(&conn, "InFront", json!({}))?;
    let second = message(&conn, "InFront", json!({}))?;
    set_as(&conn, "O01.FR.14", &first, "Accepted")?;
    set_as(&conn, "O01.FR.14", &second, "Accepted")?;
    reported_as_set(&conn, "O01.FR.14", &first, true, &[])?;
    reported_as_set(&conn, "O01.FR.14", &second, true, &[]).map(drop)
}

/// Two AlwaysFront messages: both Accepted; the first is gone (asked for by its id: Unknown,
/// O01.FR.16), the second reported.
fn tc_o_24() -> Step {
    let conn = booted(300)?;
    priority_listed(&conn, "AlwaysFront")?;
    let first = message(&conn, "AlwaysFront", json!({}))?;
    let second = message(&conn, "AlwaysFront", json!({}))?;
    set_as(&conn, "O01.FR.16", &first, "Accepted")?;
    set_as(&conn, "O01.FR.16", &second, "Accepted")?;
    let gone = reported(&conn, "O01.FR.16", &[&first["id"]])?;
    kit::check(gone.is_none(), "O01.FR.16", format!("GetDisplayMessages Unknown for message {}, replaced by the second AlwaysFront", first["id"]), || "status Accepted".into())?;
    reported_as_set(&conn, "O01.FR.16", &second, true, &[]).map(drop)
}
