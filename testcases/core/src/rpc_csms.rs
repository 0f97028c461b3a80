//! The OCPP-J RPC framework of a CSMS DUT, at every version: how it answers frames it cannot
//! use (not JSON, an unknown action, a payload of the wrong type), whether it echoes a message
//! id of the full 36 characters, and how it negotiates the WebSocket subprotocol. One function
//! per behaviour; the codes each version prescribes come from its OCPP-J error code table
//! (1.6 §4.2.3, 2.x §4.3 Table 8).
use serde_json::{Value, json};

use crate::{
    Case,
    kit::{self, *},
    v16_csms, v201_csms,
};

const STATION: Role = Role::ChargingStation;

pub(crate) fn cases() -> Vec<Case> {
    let mut cases = vec![];
    for (v, tag, versions) in [("1.6", "16_", V16), ("2.0.1", "", V201), ("2.1", "21_", V21)] {
        let j = if v == "1.6" { &["OCPP-J 1.6 4.2.3"][..] } else { &["OCPP-J 4.3"][..] };
        let id = |n: &str| -> &'static str { Box::leak(format!("OH_{tag}RPC_{n}_CSMS").into_boxed_str()) };
        let title = |t: &str| -> &'static str { Box::leak(format!("{v} {t}").into_boxed_str()) };
        let case = |n: &str, t: &str, requirements: &'static [&'static str], run: fn() -> Step| Case::new(id(n), title(t), STATION, versions, requirements, run);
        // 2.0.1 has this one as OH_RPC_01_CSMS; 2.1's 01 is the SEND case.
        let not_json_title = "a frame that is not JSON is answered with a CALLERROR naming a format problem";
        match v {
            "1.6" => cases.push(case("01", not_json_title, j, not_json)),
            "2.1" => cases.push(case("07", not_json_title, j, not_json)),
            _ => {}
        }
        cases.push(case("03", "an unknown action is answered NotImplemented, with the CALL's id and a details object", j, unknown_action));
        cases.push(case(
            "04",
            "a CALL with a message id of 36 characters is answered with that id",
            if v == "1.6" { &["OCPP-J 1.6 4.1.4"] } else { &["OCPP-J 4.1.4"] },
            long_message_id,
        ));
        cases.push(case("05", "a payload field of the wrong type is answered TypeConstraintViolation", j, wrong_type));
        let subprotocol = if v == "1.6" { &["OCPP-J 1.6 3.1.2", "OCPP-J 1.6 3.2"][..] } else { &["OCPP-J 3.1.2", "OCPP-J 3.2"][..] };
        let negotiation = "an unsupported subprotocol gets no session; offered with a supported one, that one is selected";
        if v == "2.0.1" {
            // OCTT's own case (errata 2025-09, §6.2.21).
            cases.push(Case {
                id: "TC_B_58_CSMS",
                title: "WebSocket subprotocol negotiation: an unsupported subprotocol gets no session; offered with ocpp2.0.1, that one is selected",
                ..case("06", "", subprotocol, subprotocol_negotiation)
            });
        } else {
            cases.push(case("06", negotiation, subprotocol, subprotocol_negotiation));
        }
    }
    cases
}

fn v16() -> bool {
    config::version() == OcppVersion::V16
}

fn registered() -> Step<Connection> {
    if v16() { v16_csms::registered() } else { v201_csms::registered() }
}

fn requirement() -> &'static str {
    if v16() { "OCPP-J 1.6 4.2.3" } else { "OCPP-J 4.3" }
}

/// The CALLERROR answering a frame, checked for shape: type 4, the CALL's id (when it had
/// one), and an errorDetails object (OCPP-J: the fifth element is a JSON object).
fn call_error(answer: &Value, id: Option<&str>) -> Step<String> {
    let req = requirement();
    kit::check(answer[0] == 4, req, "a CALLERROR", || answer.to_string())?;
    if let Some(id) = id {
        kit::check(answer[1] == id, req, format!("the CALL's message id {id:?}"), || format!("message id {}", answer[1]))?;
    }
    kit::check(answer[4].is_object(), req, "errorDetails as a JSON object", || format!("errorDetails {}", answer[4]))?;
    Ok(answer[2].as_str().unwrap_or_default().to_string())
}

pub(crate) fn not_json() -> Step {
    let conn = registered()?;
    let answer = kit::raw_exchange(&conn, requirement(), r#"[2,"oh-rpc-1","Heartbeat",{"#, 10_000)?;
    let code = call_error(&answer, None)?;
    // 1.6 has no RpcFrameworkError; FormationViolation was renamed FormatViolation (errata).
    let allowed: &[&str] =
        if v16() { &["FormationViolation", "FormatViolation", "ProtocolError", "GenericError"] } else { &["RpcFrameworkError", "FormatViolation"] };
    kit::check(allowed.contains(&code.as_str()), requirement(), format!("one of {allowed:?}"), || format!("error code {code}"))
}

fn unknown_action() -> Step {
    let conn = registered()?;
    let answer = kit::raw_exchange(&conn, requirement(), r#"[2,"oh-rpc-3","OhNoSuchAction",{}]"#, 10_000)?;
    let code = call_error(&answer, Some("oh-rpc-3"))?;
    // 1.6's table also has NotSupported ("recognized but not supported"), which some Central
    // Systems use for every action they do not handle.
    let allowed: &[&str] = if v16() { &["NotImplemented", "NotSupported"] } else { &["NotImplemented"] };
    kit::check(allowed.contains(&code.as_str()), requirement(), format!("one of {allowed:?}"), || format!("error code {code}"))
}

fn long_message_id() -> Step {
    let req = if v16() { "OCPP-J 1.6 4.1.4" } else { "OCPP-J 4.1.4" };
    let conn = registered()?;
    let id = "oh-rpc-4-0123456789abcdef0123456789a";
    debug_assert_eq!(id.len(), 36);
    let answer = kit::raw_exchange(&conn, req, &json!([2, id, "Heartbeat", {}]).to_string(), 10_000)?;
    kit::check(answer[0] == 3, req, "a CALLRESULT to a valid Heartbeat", || answer.to_string())?;
    kit::check(answer[1] == id, req, format!("the 36-character message id {id:?} echoed"), || format!("message id {}", answer[1]))
}

fn wrong_type() -> Step {
    let conn = registered()?;
    // connectorId / evseId as text: the type is wrong, every field is there.
    let payload = if v16() {
        json!({"connectorId": "1", "errorCode": "NoError", "status": "Available", "timestamp": now()})
    } else {
        json!({"timestamp": now(), "connectorStatus": "Available", "evseId": "1", "connectorId": 1})
    };
    let answer = kit::raw_exchange(&conn, requirement(), &json!([2, "oh-rpc-5", "StatusNotification", payload]).to_string(), 10_000)?;
    let code = call_error(&answer, Some("oh-rpc-5"))?;
    kit::check(code == "TypeConstraintViolation", requirement(), "error code TypeConstraintViolation", || format!("error code {code}"))
}

fn subprotocol_negotiation() -> Step {
    let (req, ours) = match config::version() {
        OcppVersion::V16 => ("OCPP-J 1.6 3.2", "ocpp1.6"),
        OcppVersion::V201 => ("OCPP-J 3.2", "ocpp2.0.1"),
        OcppVersion::V21 => ("OCPP-J 3.2", "ocpp2.1"),
    };
    // A compliant CSMS refuses the upgrade, or completes it without a subprotocol and closes
    // at once; the lab's tolerance bounds "at once".
    let wait = config::lab_timing().tolerance_ms.max(2_000);
    let u = kit::offer_subprotocols(req, &["ocpp0.1"], wait)?;
    if u.status == 101 {
        kit::check(u.selected.is_none(), req, "no Sec-WebSocket-Protocol in the answer to an offer of ocpp0.1 only", || {
            format!("selected {:?}", u.selected)
        })?;
        kit::check(u.closed.is_some(), req, format!("the connection closed within {wait} ms of an upgrade without a subprotocol"), || {
            "kept open".into()
        })?;
    }
    kit::info(format!("ocpp0.1 alone: HTTP {}{}", u.status, u.closed.as_deref().map(|c| format!(", then {c}")).unwrap_or_default()));
    // Whether it then keeps the session is not this case's concern: no wait.
    let u = kit::offer_subprotocols(req, &["ocpp0.1", ours], 0)?;
    kit::check(u.status == 101, req, format!("an upgrade (101) when {ours} is offered after ocpp0.1"), || format!("HTTP {}", u.status))?;
    kit::check(u.selected.as_deref() == Some(ours), req, format!("Sec-WebSocket-Protocol: {ours}"), || format!("selected {:?}", u.selected))
}
