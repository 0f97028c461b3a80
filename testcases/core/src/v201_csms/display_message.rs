//! Block O, display messages, for a CSMS DUT (part 6 §3.15; the Advanced User Interface
//! profile): when its operator asks (`csms-trigger`), the CSMS sets a display message with
//! the id, priority, format, state and times asked (O01), replaces one by its id (O06), and
//! goes on when the station refuses it (NotSupportedPriority, NotSupportedState,
//! NotSupportedMessageFormat, Rejected).
//!
//! Part 6's "<Configured …>" values are the operator's: priority [`PRIORITY`], format
//! [`FORMAT`], state [`STATE`], a start or end [`LATER`] s from now.
use serde_json::{Value, json};

use super::{operated_case, registered, still_in_step};
use crate::{
    Case,
    kit::{self, *},
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    operated_case(id, title, requirements, run).profile("advanced-user-interface")
}

pub(super) fn cases() -> Vec<Case> {
    vec![
        case("TC_O_01_CSMS", "The CSMS sets the display message its operator gives: id, priority, format, state", &["O01", "O01.FR.04"], tc_o_01),
        case("TC_O_13_CSMS", "The CSMS sets a display message with the start time its operator gives", &["O01", "O01.FR.05"], tc_o_13),
        case("TC_O_14_CSMS", "The CSMS sets a display message with the end time its operator gives", &["O01", "O01.FR.05"], tc_o_14),
        case("TC_O_12_CSMS", "The CSMS replaces a display message by sending another with its id", &["O06"], tc_o_12),
        case("TC_O_17_CSMS", "A station answers NotSupportedPriority: the CSMS goes on", &["O01", "O01.FR.01"], tc_o_17),
        case("TC_O_18_CSMS", "A station answers NotSupportedState: the CSMS goes on", &["O01", "O01.FR.02"], tc_o_18),
        case("TC_O_19_CSMS", "A station answers NotSupportedMessageFormat: the CSMS goes on", &["O01", "O01.FR.03"], tc_o_19),
        case("TC_O_26_CSMS", "A station answers Rejected (no room for another message): the CSMS goes on", &["O01", "O01.FR.11"], tc_o_26),
    ]
}

/// Part 6's "<Configured Priority>", "<Configured Format>", "<Configured State>".
const PRIORITY: &str = "NormalCycle";
const FORMAT: &str = "UTF8";
const STATE: &str = "Idle";
/// How far ahead the operator's start or end time lies, in s.
const LATER: i64 = 300;

/// The message the operator sets: a new id, [`PRIORITY`], [`FORMAT`]; `extra` adds or
/// replaces MessageInfo fields.
fn operator_message(extra: Value) -> Value {
    let mut m = json!({"id": kit::unique_number(), "priority": PRIORITY, "message": {"format": FORMAT, "content": "Welcome at this charging station"}});
    if let (Some(a), Some(b)) = (m.as_object_mut(), extra.as_object()) {
        a.extend(b.clone());
    }
    m
}

/// The operator has the CSMS set `asked`; the request carries each field as asked, and no
/// transactionId for a message that belongs to no transaction (O01.FR.04); answered `answer`,
/// after which the CSMS still takes the station's messages. The message sent.
fn set(conn: &Connection, req: &str, asked: &Value, answer: &str) -> Step<Value> {
    kit::csms_trigger(conn, "SetDisplayMessage", json!({"message": asked}))?;
    let call = kit::expect(conn, req, "SetDisplayMessage", 15_000)?;
    let sent = call.payload["message"].clone();
    for (field, wanted) in asked.as_object().cloned().unwrap_or_default() {
        let same = match field.as_str() {
            // The same instant in another spelling is the same time.
            "startDateTime" | "endDateTime" => sent[&field].as_str().and_then(kit::epoch_ms) == wanted.as_str().and_then(kit::epoch_ms),
            "message" => sent["message"]["format"] == wanted["format"] && sent["message"]["content"] == wanted["content"],
            _ => sent[&field] == wanted,
        };
        kit::check(same, req, format!("message.{field} {wanted}, as the operator asked"), || format!("message.{field} {}", sent[&field]))?;
    }
    kit::check(sent.get("transactionId").is_none(), "O01.FR.04", "no transactionId in a message that belongs to no transaction", || sent.to_string())?;
    kit::reply(conn, req, &call, "SetDisplayMessage", json!({"status": answer}))?;
    still_in_step(conn, req)?;
    Ok(sent)
}

fn tc_o_01() -> Step {
    set(&registered()?, "O01", &operator_message(json!({"state": STATE})), "Accepted").map(drop)
}

fn tc_o_13() -> Step {
    set(&registered()?, "O01.FR.05", &operator_message(json!({"startDateTime": kit::time_from_now(LATER)})), "Accepted").map(drop)
}

fn tc_o_14() -> Step {
    set(&registered()?, "O01.FR.05", &operator_message(json!({"endDateTime": kit::time_from_now(LATER)})), "Accepted").map(drop)
}

/// Part 6's memory state (a message configured), then the operator's replacement: the same
/// id, another priority.
fn tc_o_12() -> Step {
    let conn = registered()?;
    let first = operator_message(json!({}));
    set(&conn, "O06", &first, "Accepted").setup("memory state: a display message configured")?;
    let again = operator_message(json!({"id": first["id"], "priority": "InFront"}));
    set(&conn, "O06", &again, "Accepted").map(drop)
}

fn tc_o_17() -> Step {
    set(&registered()?, "O01.FR.01", &operator_message(json!({"priority": "AlwaysFront"})), "NotSupportedPriority").map(drop)
}

fn tc_o_18() -> Step {
    set(&registered()?, "O01.FR.02", &operator_message(json!({"state": "Unavailable"})), "NotSupportedState").map(drop)
}

fn tc_o_19() -> Step {
    set(&registered()?, "O01.FR.03", &operator_message(json!({"message": {"format": "HTML", "content": "<b>Welcome</b>"}})), "NotSupportedMessageFormat").map(drop)
}

fn tc_o_26() -> Step {
    set(&registered()?, "O01.FR.11", &operator_message(json!({})), "Rejected").map(drop)
}
