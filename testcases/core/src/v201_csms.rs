//! Cases where the harness is a charging station and the DUT is a CSMS.
use serde_json::json;

use crate::{
    Case,
    kit::{self, *},
};

const STATION: Role = Role::ChargingStation;

pub(crate) fn cases() -> Vec<Case> {
    vec![
        Case { id: "TC_B_01_CSMS", title: "Cold boot: the CSMS accepts a station's BootNotification with a usable interval", role: STATION, versions: V201, requirements: &["B01"], needs: &[], timeout_ms: 20_000, run: tc_b_01 },
        Case { id: "OH_G_01_CSMS", title: "The CSMS answers a Heartbeat with its current time", role: STATION, versions: V201, requirements: &["G02"], needs: &[], timeout_ms: 20_000, run: oh_g_01 },
        Case { id: "OH_C_01_CSMS", title: "Authorize of a known token is Accepted", role: STATION, versions: V201, requirements: &["C01"], needs: &[], timeout_ms: 20_000, run: oh_c_01 },
        Case { id: "OH_C_02_CSMS", title: "Authorize of an unknown token is not Accepted", role: STATION, versions: V201, requirements: &["C01"], needs: &[], timeout_ms: 20_000, run: oh_c_02 },
        Case { id: "OH_E_01_CSMS", title: "The CSMS accepts a transaction's Started and Ended events", role: STATION, versions: V201, requirements: &["E01", "E06"], needs: &[], timeout_ms: 20_000, run: oh_e_01 },
        Case { id: "OH_RPC_01_CSMS", title: "A frame that is not JSON is answered with a CALLERROR", role: STATION, versions: V201, requirements: &["OCPP-J 4.2.3"], needs: &[], timeout_ms: 20_000, run: oh_rpc_01 },
        Case { id: "OH_RPC_02_CSMS", title: "A BootNotification that breaks its schema is answered with a CALLERROR", role: STATION, versions: V201, requirements: &["OCPP-J 4.2.3"], needs: &[], timeout_ms: 20_000, run: oh_rpc_02 },
    ]
}

fn boot_payload() -> serde_json::Value {
    json!({"reason": "PowerUp", "chargingStation": {"model": "HarnessStation", "vendorName": "ocpp-harness"}})
}

/// Connect and register; returns the connection.
pub(crate) fn registered() -> Step<Connection> {
    let conn = kit::connect_csms("B01")?;
    let r = kit::call(&conn, "B01", "BootNotification", boot_payload(), 10_000)?;
    kit::check(r["status"] == "Accepted", "B01", "registration status Accepted", || r.to_string())?;
    Ok(conn)
}

pub(crate) fn tc_b_01() -> Step {
    let conn = kit::connect_csms("B01")?;
    let r = kit::call(&conn, "B01", "BootNotification", boot_payload(), 10_000)?;
    kit::check(r["status"] == "Accepted", "B01", "registration status Accepted", || r.to_string())?;
    kit::check(r["interval"].as_i64().is_some_and(|i| i > 0), "B01", "a heartbeat interval above 0 s", || format!("interval {}", r["interval"]))?;
    let status = json!({"timestamp": now(), "connectorStatus": "Available", "evseId": 1, "connectorId": 1});
    kit::call(&conn, "B01", "StatusNotification", status, 10_000)?;
    Ok(())
}

fn oh_g_01() -> Step {
    let conn = registered()?;
    let r = kit::call(&conn, "G02", "Heartbeat", json!({}), 10_000)?;
    kit::check(r["currentTime"].is_string(), "G02", "currentTime in the HeartbeatResponse", || r.to_string())
}

fn authorize(token: &str) -> Step<String> {
    let conn = registered()?;
    let r = kit::call(&conn, "C01", "Authorize", json!({"idToken": {"idToken": token, "type": "ISO14443"}}), 10_000)?;
    Ok(at(&r, "/idTokenInfo/status").as_str().unwrap_or_default().to_string())
}

fn oh_c_01() -> Step {
    let token = config::valid_id_tokens().first().cloned().unwrap_or_else(|| "TOKEN-1".into());
    let status = authorize(&token)?;
    kit::check(status == "Accepted", "C01", format!("status Accepted for the known token {token}"), || format!("status {status}"))
}

fn oh_c_02() -> Step {
    let token = config::invalid_id_token();
    let status = authorize(&token)?;
    kit::check(status != "Accepted", "C01", format!("a status other than Accepted for the unknown token {token}"), || format!("status {status}"))
}

pub(crate) fn oh_e_01() -> Step {
    let conn = registered()?;
    let token = config::valid_id_tokens().first().cloned().unwrap_or_else(|| "TOKEN-1".into());
    let started = json!({
        "eventType": "Started", "timestamp": now(), "triggerReason": "Authorized", "seqNo": 0,
        "transactionInfo": {"transactionId": "OH-TX-1", "chargingState": "Charging"},
        "evse": {"id": 1, "connectorId": 1}, "idToken": {"idToken": token, "type": "ISO14443"}
    });
    let r = kit::call(&conn, "E01", "TransactionEvent", started, 10_000)?;
    if let Some(status) = at(&r, "/idTokenInfo/status").as_str() {
        kit::check(status == "Accepted", "E01", "the known token Accepted in the TransactionEvent answer", || format!("status {status}"))?;
    }
    let ended = json!({
        "eventType": "Ended", "timestamp": now(), "triggerReason": "StopAuthorized", "seqNo": 1,
        "transactionInfo": {"transactionId": "OH-TX-1", "stoppedReason": "Local"}
    });
    kit::call(&conn, "E06", "TransactionEvent", ended, 10_000)?;
    Ok(())
}

fn oh_rpc_01() -> Step {
    let conn = registered()?;
    let answer = kit::raw_exchange(&conn, "OCPP-J 4.2.3", r#"[2,"oh-1","Heartbeat",{"#, 10_000)?;
    kit::check(answer[0] == 4, "OCPP-J 4.2.3", "a CALLERROR", || answer.to_string())
}

pub(crate) fn oh_rpc_02() -> Step {
    let conn = kit::connect_csms("OCPP-J 4.2.3")?;
    let answer = kit::raw_exchange(&conn, "OCPP-J 4.2.3", r#"[2,"oh-2","BootNotification",{"reason":"PowerUp"}]"#, 10_000)?;
    kit::check(answer[0] == 4 && answer[1] == "oh-2", "OCPP-J 4.2.3", "a CALLERROR with the CALL's message id", || answer.to_string())?;
    let code = answer[2].as_str().unwrap_or_default();
    let allowed = ["FormatViolation", "OccurrenceConstraintViolation", "ProtocolError", "TypeConstraintViolation"];
    kit::check(allowed.contains(&code), "OCPP-J 4.2.3", format!("one of {allowed:?}"), || format!("error code {code}"))
}
