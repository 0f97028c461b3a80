//! Cases where the harness is the CSMS and the DUT is a charging station.
use serde_json::{Value, json};

use crate::{
    Case,
    kit::{self, *},
};

const CSMS: Role = Role::Csms;

pub(crate) fn cases() -> Vec<Case> {
    vec![
        Case { id: "TC_B_01_CS", title: "Cold boot: the station registers, is accepted and reports its connectors", role: CSMS, requirements: &["B01"], needs: &[], timeout_ms: 20_000, run: tc_b_01 },
        Case { id: "TC_B_02_CS", title: "Cold boot answered Pending: the station sends nothing else and boots again", role: CSMS, requirements: &["B02"], needs: &[], timeout_ms: 20_000, run: tc_b_02 },
        Case { id: "TC_B_03_CS", title: "Cold boot answered Rejected: the station waits the interval before its next boot", role: CSMS, requirements: &["B03"], needs: &[], timeout_ms: 20_000, run: tc_b_03 },
        Case { id: "TC_B_06_CS", title: "GetVariables of one known variable returns Accepted with its value", role: CSMS, requirements: &["B06"], needs: &[], timeout_ms: 20_000, run: tc_b_06 },
        Case { id: "TC_B_09_CS", title: "SetVariables of one writable variable is Accepted and reads back", role: CSMS, requirements: &["B05"], needs: &[], timeout_ms: 20_000, run: tc_b_09 },
        Case { id: "TC_B_20_CS", title: "Reset OnIdle with no transaction: the station accepts, reconnects and boots with RemoteReset", role: CSMS, requirements: &["B11"], needs: &[], timeout_ms: 30_000, run: tc_b_20 },
        Case { id: "TC_B_32_CS", title: "GetVariables of an unknown component answers UnknownComponent", role: CSMS, requirements: &["B06"], needs: &[], timeout_ms: 20_000, run: tc_b_32 },
        Case { id: "OH_G_01_CS", title: "Heartbeats follow the interval granted at boot", role: CSMS, requirements: &["G02"], needs: &[], timeout_ms: 20_000, run: oh_g_01 },
        Case { id: "OH_F_01_CS", title: "Remote start is accepted and the transaction is reported with the remoteStartId", role: CSMS, requirements: &["F01"], needs: &[], timeout_ms: 20_000, run: oh_f_01 },
        Case { id: "OH_F_02_CS", title: "Remote stop ends the transaction with stoppedReason Remote", role: CSMS, requirements: &["F03"], needs: &[], timeout_ms: 20_000, run: oh_f_02 },
        Case { id: "OH_F_03_CS", title: "Two remote-started transactions get different transaction ids", role: CSMS, requirements: &["E01"], needs: &[], timeout_ms: 30_000, run: oh_f_03 },
        Case { id: "OH_RPC_01_CS", title: "A CALL with an unknown action is answered with CALLERROR NotImplemented", role: CSMS, requirements: &["OCPP-J 4.2.3"], needs: &[], timeout_ms: 20_000, run: oh_rpc_01 },
        Case { id: "OH_RPC_02_CS", title: "A frame that is not JSON is answered with a CALLERROR", role: CSMS, requirements: &["OCPP-J 4.2.3"], needs: &[], timeout_ms: 20_000, run: oh_rpc_02 },
    ]
}

/// Accept the station's boot with `interval` and take its first StatusNotification.
fn booted(interval: u64) -> Step<Connection> {
    let conn = kit::accept_station("B01", 10_000, &["BootNotification", "StatusNotification"])?;
    kit::expect_and_reply(&conn, "B01", "BootNotification", 10_000, json!({"currentTime": now(), "interval": interval, "status": "Accepted"}))?;
    kit::expect_and_reply(&conn, "B01", "StatusNotification", 10_000, json!({}))?;
    conn.release(&["BootNotification".into(), "StatusNotification".into()]);
    Ok(conn)
}

fn tc_b_01() -> Step {
    let conn = kit::accept_station("B01", 10_000, &["BootNotification", "StatusNotification"])?;
    let boot = kit::expect_and_reply(&conn, "B01", "BootNotification", 10_000, json!({"currentTime": now(), "interval": 300, "status": "Accepted"}))?;
    kit::check(at(&boot, "/reason") == "PowerUp", "B01", "boot reason PowerUp after a cold boot", || format!("reason {}", at(&boot, "/reason")))?;
    let status = kit::expect_and_reply(&conn, "B01", "StatusNotification", 10_000, json!({}))?;
    kit::info(format!("first connector status: {status}"));
    Ok(())
}

fn tc_b_02() -> Step {
    let conn = kit::accept_station("B02", 10_000, &["BootNotification", "StatusNotification", "TransactionEvent", "Heartbeat"])?;
    kit::expect_and_reply(&conn, "B02", "BootNotification", 10_000, json!({"currentTime": now(), "interval": 2, "status": "Pending"}))?;
    // While pending, a station may only boot again (or answer the CSMS).
    kit::expect_silence(&conn, "B02", "StatusNotification", 1_500, "while the registration is Pending")?;
    kit::expect_and_reply(&conn, "B02", "BootNotification", 10_000, json!({"currentTime": now(), "interval": 300, "status": "Accepted"}))?;
    kit::expect_and_reply(&conn, "B02", "StatusNotification", 10_000, json!({}))?;
    Ok(())
}

fn tc_b_03() -> Step {
    let interval_ms: u32 = 2_000;
    let conn = kit::accept_station("B03", 10_000, &["BootNotification", "StatusNotification"])?;
    kit::expect_and_reply(&conn, "B03", "BootNotification", 10_000, json!({"currentTime": now(), "interval": interval_ms / 1000, "status": "Rejected"}))?;
    let t0 = clock::now_ms();
    kit::expect_silence(&conn, "B03", "StatusNotification", 500, "while the registration is Rejected")?;
    kit::expect_and_reply(&conn, "B03", "BootNotification", 10_000, json!({"currentTime": now(), "interval": 300, "status": "Accepted"}))?;
    let waited = clock::now_ms() - t0;
    // Allow 10% for clock granularity on both sides.
    kit::check(waited * 10 >= u64::from(interval_ms) * 9, "B03", format!("the next BootNotification no earlier than {interval_ms} ms"), || format!("it came after {waited} ms"))
}

fn get_variable(conn: &Connection, req: &str, component: &str, variable: &str) -> Step<Value> {
    let r = kit::call(conn, req, "GetVariables", json!({"getVariableData": [{"component": {"name": component}, "variable": {"name": variable}}]}), 10_000)?;
    let results = at(&r, "/getVariableResult").as_array().cloned().unwrap_or_default();
    kit::check(results.len() == 1, req, "one getVariableResult per requested variable", || format!("{} results", results.len()))?;
    Ok(results[0].clone())
}

fn tc_b_06() -> Step {
    let conn = booted(300)?;
    let r = get_variable(&conn, "B06", "OCPPCommCtrlr", "HeartbeatInterval")?;
    kit::check(r["attributeStatus"] == "Accepted", "B06", "attributeStatus Accepted for OCPPCommCtrlr.HeartbeatInterval", || r.to_string())?;
    kit::check(r["attributeValue"].is_string(), "B06", "an attributeValue with the accepted variable", || r.to_string())
}

fn tc_b_09() -> Step {
    let conn = booted(300)?;
    let set = json!({"setVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}, "attributeValue": "120"}]});
    let r = kit::call(&conn, "B05", "SetVariables", set, 10_000)?;
    let status = at(&r, "/setVariableResult/0/attributeStatus");
    kit::check(status == "Accepted", "B05", "attributeStatus Accepted for a writable variable", || r.to_string())?;
    let read = get_variable(&conn, "B05", "OCPPCommCtrlr", "HeartbeatInterval")?;
    kit::check(read["attributeValue"] == "120", "B05", "the value just set (120) when read back", || read.to_string())
}

fn tc_b_20() -> Step {
    let conn = booted(300)?;
    let r = kit::call(&conn, "B11", "Reset", json!({"type": "OnIdle"}), 10_000)?;
    kit::check(r["status"] == "Accepted", "B11", "Reset status Accepted with no transaction ongoing", || r.to_string())?;
    // The station restarts: the old connection goes away and a new one boots.
    let _ = conn.expect_close(15_000);
    let again = kit::accept_station("B11", 15_000, &["BootNotification"])?;
    let boot = kit::expect_and_reply(&again, "B11", "BootNotification", 10_000, json!({"currentTime": now(), "interval": 300, "status": "Accepted"}))?;
    kit::check(at(&boot, "/reason") == "RemoteReset", "B11", "boot reason RemoteReset after a reset by the CSMS", || format!("reason {}", at(&boot, "/reason")))
}

fn tc_b_32() -> Step {
    let conn = booted(300)?;
    let r = get_variable(&conn, "B06", "NoSuchComponentXyz", "HeartbeatInterval")?;
    kit::check(r["attributeStatus"] == "UnknownComponent", "B06", "attributeStatus UnknownComponent", || r.to_string())
}

fn oh_g_01() -> Step {
    let conn = booted(1)?;
    // The first heartbeat may come any time within the interval; measure the next one.
    kit::expect_and_reply(&conn, "G02", "Heartbeat", 3_000, json!({"currentTime": now()}))?;
    let t0 = clock::now_ms();
    kit::expect_and_reply(&conn, "G02", "Heartbeat", 3_000, json!({"currentTime": now()}))?;
    let gap = clock::now_ms() - t0;
    kit::check((500..=2_000).contains(&gap), "G02", "heartbeats about 1 s apart (interval 1 s)", || format!("{gap} ms between heartbeats"))
}

/// Remote start on EVSE 1; returns the transaction id the station reported.
fn remote_start(conn: &Connection, remote_start_id: i64) -> Step<String> {
    conn.claim(&["TransactionEvent".into()]);
    let token = config::valid_id_tokens().first().cloned().unwrap_or_else(|| "TOKEN-1".into());
    let req = json!({"idToken": {"idToken": token, "type": "ISO14443"}, "remoteStartId": remote_start_id, "evseId": 1});
    let r = kit::call(conn, "F01", "RequestStartTransaction", req, 10_000)?;
    kit::check(r["status"] == "Accepted", "F01", "RequestStartTransaction status Accepted", || r.to_string())?;
    let ev = kit::expect_and_reply(conn, "F01", "TransactionEvent", 10_000, json!({"idTokenInfo": {"status": "Accepted"}}))?;
    kit::check(ev["eventType"] == "Started", "F01", "a TransactionEvent Started", || format!("eventType {}", ev["eventType"]))?;
    kit::check(
        at(&ev, "/transactionInfo/remoteStartId") == remote_start_id,
        "F01",
        format!("transactionInfo.remoteStartId {remote_start_id}"),
        || format!("transactionInfo {}", ev["transactionInfo"]),
    )?;
    Ok(at(&ev, "/transactionInfo/transactionId").as_str().unwrap_or_default().to_string())
}

fn oh_f_01() -> Step {
    let conn = booted(300)?;
    remote_start(&conn, 4711).map(|_| ())
}

fn remote_stop(conn: &Connection, tx: &str) -> Step {
    let r = kit::call(conn, "F03", "RequestStopTransaction", json!({"transactionId": tx}), 10_000)?;
    kit::check(r["status"] == "Accepted", "F03", "RequestStopTransaction status Accepted for the running transaction", || r.to_string())?;
    let ev = kit::expect_and_reply(conn, "F03", "TransactionEvent", 10_000, json!({}))?;
    kit::check(ev["eventType"] == "Ended", "F03", "a TransactionEvent Ended", || format!("eventType {}", ev["eventType"]))?;
    kit::check(at(&ev, "/transactionInfo/transactionId") == tx, "F03", format!("the transaction {tx} to end"), || format!("transactionInfo {}", ev["transactionInfo"]))?;
    kit::check(at(&ev, "/transactionInfo/stoppedReason") == "Remote", "F03", "stoppedReason Remote", || format!("transactionInfo {}", ev["transactionInfo"]))
}

fn oh_f_02() -> Step {
    let conn = booted(300)?;
    let tx = remote_start(&conn, 1)?;
    remote_stop(&conn, &tx)
}

fn oh_f_03() -> Step {
    let conn = booted(300)?;
    let first = remote_start(&conn, 1)?;
    remote_stop(&conn, &first)?;
    let second = remote_start(&conn, 2)?;
    kit::check(first != second, "E01", "a new transactionId for every transaction", || format!("{first:?} twice"))
}

fn oh_rpc_01() -> Step {
    let conn = booted(300)?;
    let answer = kit::raw_exchange(&conn, "OCPP-J 4.2.3", r#"[2,"oh-rpc-01","NoSuchActionXyz",{}]"#, 10_000)?;
    kit::check(answer[0] == 4 && answer[1] == "oh-rpc-01", "OCPP-J 4.2.3", "a CALLERROR with the CALL's message id", || answer.to_string())?;
    kit::check(answer[2] == "NotImplemented", "OCPP-J 4.2.3", "error code NotImplemented", || format!("error code {}", answer[2]))
}

fn oh_rpc_02() -> Step {
    let conn = booted(300)?;
    let answer = kit::raw_exchange(&conn, "OCPP-J 4.2.3", r#"[2,"oh-rpc-02","Heartbeat",{"#, 10_000)?;
    kit::check(answer[0] == 4, "OCPP-J 4.2.3", "a CALLERROR", || answer.to_string())?;
    let code = answer[2].as_str().unwrap_or_default();
    kit::check(["RpcFrameworkError", "FormatViolation", "ProtocolError"].contains(&code), "OCPP-J 4.2.3", "error code RpcFrameworkError or FormatViolation", || format!("error code {code}"))
}
