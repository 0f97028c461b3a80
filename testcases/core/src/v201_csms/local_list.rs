//! Block D, local authorization list, for a CSMS DUT (part 6 §3.4): when its operator asks, the
//! CSMS sends the station a local list — in full, as a differential update, as a removal, or
//! empty — with a version above the one the station holds (D01). The operator's request is
//! made through the CSMS's control API (`csms-trigger`); the tokens are the first valid one
//! (and, for a removal, the same token without its idTokenInfo).
use serde_json::{Value, json};

use super::{customer_information_on, operated_case, registered, token_json};
use crate::{
    Case,
    kit::{self, *},
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    operated_case(id, title, requirements, run).profile("local-auth-list")
}

pub(super) fn cases() -> Vec<Case> {
    vec![
        case("TC_D_01_CSMS", "The CSMS asks the list version, then sends a full local list above it", &["D01.FR.01", "D01.FR.06", "D01.FR.18"], tc_d_01),
        case("TC_D_02_CSMS", "The CSMS asks the list version, then sends a differential update above it", &["D01.FR.01", "D01.FR.06", "D01.FR.18"], tc_d_02),
        case(
            "TC_D_03_CSMS",
            "The CSMS removes a token with a differential update: the entry without idTokenInfo",
            &["D01.FR.01", "D01.FR.06", "D01.FR.17", "D01.FR.18"],
            tc_d_03,
        ),
        case("TC_D_04_CSMS", "The CSMS empties the local list with a full update of no entries", &["D01.FR.01", "D01.FR.06", "D01.FR.18"], tc_d_04),
        case("TC_D_08_CSMS", "The CSMS asks the list version of a station that holds one", &["D02"], tc_d_08),
        case("TC_D_09_CSMS", "The CSMS asks the list version of a station that holds no list", &["D02"], tc_d_09),
        case(
            "TC_N_46_CSMS",
            "Clearing the data of a customer on the station's local list: the CSMS takes the token off the list",
            &["N10.FR.02", "N10.FR.08", "D01.FR.01", "D01.FR.06", "D01.FR.18"],
            tc_n_46,
        ),
    ]
}

/// The version the harness's station says it holds (part 6 step 2).
const HELD: i64 = 1;

/// Steps 1-2: the operator has the CSMS ask the station's list version; the station answers
/// `held`.
fn version_asked(conn: &Connection, req: &str, held: i64) -> Step {
    kit::csms_trigger(conn, "GetLocalListVersion", json!({}))?;
    let call = kit::expect(conn, req, "GetLocalListVersion", 15_000)?;
    kit::reply(conn, req, &call, "GetLocalListVersion", json!({"versionNumber": held}))
}

/// The operator has the CSMS send `list` as `update`; the SendLocalList it sends, answered
/// Accepted, after the checks every list must pass: that update type, a version above the one
/// the station holds (D01.FR.18).
fn list_sent(conn: &Connection, req: &str, update: &str, list: Value) -> Step<Value> {
    let mut hint = json!({"versionNumber": HELD + 1, "updateType": update});
    // 2.0.1's schema has no empty list: an empty one is left out.
    if list.as_array().is_some_and(|l| !l.is_empty()) {
        hint["localAuthorizationList"] = list;
    }
    kit::csms_trigger(conn, "SendLocalList", hint)?;
    let call = kit::expect(conn, req, "SendLocalList", 15_000)?;
    let p = call.payload.clone();
    kit::check(p["updateType"] == update, req, format!("updateType {update}"), || p.to_string())?;
    kit::check(p["versionNumber"].as_i64().is_some_and(|v| v > HELD), "D01.FR.18", format!("a versionNumber above {HELD}, the station's"), || {
        format!("versionNumber {}", p["versionNumber"])
    })?;
    kit::reply(conn, req, &call, "SendLocalList", json!({"status": "Accepted"}))?;
    Ok(p)
}

/// The entries of a list that give `token` an idTokenInfo (an addition), or none (a removal).
fn entries(p: &Value) -> Vec<Value> {
    p["localAuthorizationList"].as_array().cloned().unwrap_or_default()
}

fn granted(token: &str) -> Value {
    json!([{"idToken": token_json(token), "idTokenInfo": {"status": "Accepted"}}])
}

/// TC_D_01/02_CSMS: the version asked first (steps 1-2), then a list of `update` type that
/// grants the first valid token (steps 3-4), not empty.
fn after_version(update: &str) -> Step {
    let conn = registered()?;
    version_asked(&conn, "D01.FR.01", HELD)?;
    let p = list_sent(&conn, "D01.FR.01", update, granted(&kit::valid_token()))?;
    kit::check(!entries(&p).is_empty(), "D01.FR.01", format!("a {update} list that is not empty"), || p.to_string())
}

fn tc_d_01() -> Step {
    after_version("Full")
}

fn tc_d_02() -> Step {
    after_version("Differential")
}

/// A removal: the entry names the token and gives no idTokenInfo (D01.FR.17).
fn tc_d_03() -> Step {
    let conn = registered()?;
    let token = kit::valid_token();
    let p = list_sent(&conn, "D01.FR.17", "Differential", json!([{"idToken": token_json(&token)}]))?;
    let list = entries(&p);
    kit::check(!list.is_empty() && list.iter().all(|e| e.get("idTokenInfo").is_none()), "D01.FR.17", "entries without idTokenInfo (removals)", || p.to_string())
}

/// An empty full list: no entries at all (the field left out, as the schema wants it).
fn tc_d_04() -> Step {
    let conn = registered()?;
    let p = list_sent(&conn, "D01.FR.01", "Full", json!([]))?;
    kit::check(entries(&p).is_empty(), "D01.FR.01", "a full list without entries", || p.to_string())
}

/// TC_D_09_CSMS: asked by its operator, the CSMS sends GetLocalListVersion; the station has
/// no list (version 0, D02.FR.02).
/// The station holds version 5 (part 6's "<Configured versionNumber>").
fn tc_d_08() -> Step {
    let conn = registered()?;
    version_asked(&conn, "D02", 5)
}

fn tc_d_09() -> Step {
    let conn = registered()?;
    version_asked(&conn, "D02", 0)
}

/// TC_N_46_CSMS: the CSMS gave the station a list with the customer's token (memory state,
/// sent at the operator's request); its operator clears the customer's data (steps 1-4, the
/// request naming the customer: N10.FR.08); the CSMS then takes the token off the list with a
/// differential update above the list's version (step 5: N10.FR.02, D01.FR.18).
fn tc_n_46() -> Step {
    let conn = registered()?;
    let token = kit::valid_token();
    let held = list_sent(&conn, "", "Full", granted(&token)).setup("memory state: a local list with the customer's token")?;
    let held = held["versionNumber"].as_i64().unwrap_or(HELD);
    customer_information_on(&conn, "N10.FR.08", true, true, "Accepted", &format!("idToken {token}: cleared"))?;
    let call = kit::expect(&conn, "N10.FR.02", "SendLocalList", 15_000)?;
    let p = call.payload.clone();
    kit::reply(&conn, "N10.FR.02", &call, "SendLocalList", json!({"status": "Accepted"}))?;
    kit::check(p["updateType"] == "Differential", "N10.FR.02", "updateType Differential (an update of the list held)", || p.to_string())?;
    kit::check(p["versionNumber"].as_i64().is_some_and(|v| v > held), "D01.FR.18", format!("a versionNumber above {held}, the list's"), || {
        format!("versionNumber {}", p["versionNumber"])
    })?;
    let list = entries(&p);
    kit::check(list.iter().any(|e| e["idToken"]["idToken"] == token.as_str()), "N10.FR.02", format!("an entry for the cleared customer's token {token}"), || p.to_string())?;
    let mut tokens: Vec<String> = list.iter().map(|e| e["idToken"]["idToken"].to_string()).collect();
    let n = tokens.len();
    tokens.sort();
    tokens.dedup();
    kit::check(tokens.len() == n, "D01.FR.06", "each token once in the list", || p.to_string())
}
