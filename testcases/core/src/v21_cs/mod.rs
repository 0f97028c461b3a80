//! OCPP 2.1 cases where the harness is the CSMS and the DUT is a charging station: what 2.1
//! adds: SEND and CALLRESULTERROR frames, periodic event streams, tariffs and cost
//! (`tariff`), DER control (`der`) and bidirectional power transfer (`bidirectional`).
use serde_json::json;

use crate::{
    Case,
    kit::{self, *},
    v201_cs,
};

const CSMS: Role = Role::Csms;

mod bidirectional;
mod der;
mod tariff;

pub(crate) fn cases() -> Vec<Case> {
    let mut cases = vec![
        Case {
            id: "OH_21_RPC_01_CS",
            title: "2.1 a CALLRESULT that breaks its schema is answered with CALLRESULTERROR",
            role: CSMS,
            versions: V21,
            profile: "core",
            features: &[],
            requirements: &["OCPP-J 2.1 CALLRESULTERROR"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_21_rpc_01,
        },
        Case {
            id: "OH_21_RPC_02_CS",
            title: "2.1 an opened periodic event stream arrives as SEND frames and stops when closed",
            role: CSMS,
            versions: V21,
            profile: "core",
            features: &["periodic-event-streams"],
            requirements: &["OCPP-J 2.1 SEND", "N02"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_21_rpc_02,
        },
    ];
    cases.extend(tariff::cases());
    cases.extend(der::cases());
    cases.extend(bidirectional::cases());
    cases
}

fn oh_21_rpc_01() -> Step {
    let req = "OCPP-J 2.1 CALLRESULTERROR";
    let conn = v201_cs::booted(300)?;
    conn.claim(&["Heartbeat".into()]);
    let r = kit::call(&conn, req, "TriggerMessage", json!({"requestedMessage": "Heartbeat"}), 10_000)?;
    kit::check(r["status"] == "Accepted", req, "TriggerMessage Heartbeat Accepted (to get a CALL to answer)", || r.to_string())?;
    let hb = kit::expect(&conn, req, "Heartbeat", 5_000)?;
    // currentTime must be a date-time string; a number breaks the response schema.
    let answer = kit::raw_exchange(&conn, req, &format!(r#"[3,"{}",{{"currentTime":42}}]"#, hb.id), 5_000)?;
    kit::check(answer[0] == 5, req, "a CALLRESULTERROR (message type 5)", || answer.to_string())?;
    kit::check(answer[1] == hb.id.as_str(), req, format!("the message id {} of the bad CALLRESULT", hb.id), || answer.to_string())
}

fn oh_21_rpc_02() -> Step {
    let req = "OCPP-J 2.1 SEND";
    let conn = v201_cs::booted(300)?;
    let open = json!({"constantStreamData": {"id": 7, "variableMonitoringId": 1, "params": {"interval": 1, "values": 1}}});
    let r = kit::call(&conn, "N02", "OpenPeriodicEventStream", open, 10_000)?;
    kit::check(r["status"] == "Accepted", "N02", "OpenPeriodicEventStream Accepted", || r.to_string())?;
    // A SEND needs no answer: the case only takes it.
    let sent = kit::expect(&conn, req, "NotifyPeriodicEventStream", 5_000)?;
    kit::check(sent.payload["id"] == 7, req, "NotifyPeriodicEventStream for stream 7", || sent.payload.to_string())?;
    kit::call(&conn, "N02", "ClosePeriodicEventStream", json!({"id": 7}), 10_000)?;
    kit::expect_silence(&conn, req, "NotifyPeriodicEventStream", 2_500, "after the stream was closed")
}
