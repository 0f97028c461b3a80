//! OCPP 2.1 cases where the harness is a charging station and the DUT is a CSMS: SEND frames,
//! tariffs and cost (`tariff`), and bidirectional power transfer (`bidirectional`).
use serde_json::json;

use crate::{
    Case,
    kit::{self, *},
    v201_csms,
};

const STATION: Role = Role::ChargingStation;

mod bidirectional;
mod tariff;

pub(crate) fn cases() -> Vec<Case> {
    let mut cases = vec![
        Case {
            id: "OH_21_RPC_01_CSMS",
            title: "2.1 the CSMS does not answer a SEND frame",
            role: STATION,
            versions: V21,
            profile: "core",
            features: &[],
            requirements: &["OCPP-J 2.1 SEND"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_21_rpc_01,
        },
    ];
    cases.extend(tariff::cases());
    cases.extend(bidirectional::cases());
    cases
}

fn oh_21_rpc_01() -> Step {
    let req = "OCPP-J 2.1 SEND";
    let conn = v201_csms::registered()?;
    let send = json!([6, "oh-21-send-1", "NotifyPeriodicEventStream", {"id": 1, "pending": 0, "basetime": now(), "data": [{"t": 0, "v": "1"}]}]);
    conn.send_raw(&send.to_string()).map_err(|e| kit::fail(req, "to send a SEND frame", format!("{e:?}")))?;
    match conn.expect_raw(2_000) {
        Err(SessionError::Timeout(_)) => {}
        Ok(frame) => return Err(kit::fail(req, "no answer to a SEND frame", frame.text)),
        Err(e) => return Err(kit::fail(req, "the connection to stay up after a SEND", format!("{e:?}"))),
    }
    // Still in step: an ordinary CALL is answered (`kit::call` fails otherwise).
    kit::call(&conn, req, "Heartbeat", json!({}), 10_000).map(|_| ())
}
