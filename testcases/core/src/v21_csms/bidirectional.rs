//! Block Q at 2.1, bidirectional power transfer, for a CSMS DUT (the harness is a charging
//! station with a V2X-capable EV): an EV's needs in charging-only mode get a profile without
//! V2X fields (Q02.FR.01/02), and a bidirectional request is accepted or rejected, not left
//! without a profile (Q01.FR.04/07). OCPP 2.1 has no part 6: the ids are our own, numbered
//! within the block.
use serde_json::{Value, json};

use crate::{
    Case,
    kit::{self, *},
    v201_csms::{event, new_tx_id, registered, started_by_valid_token},
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    Case::new(id, title, Role::ChargingStation, V21, requirements, run).profile("bidirectional").timeout_ms(90_000)
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        case(
            "OH_21_Q_01_CSMS",
            "An EV's needs in charging-only mode get a TxProfile in ChargingOnly without discharge limits or setpoints",
            &["Q02.FR.01", "Q02.FR.02"],
            oh_21_q_01,
        ),
        case("OH_21_Q_02_CSMS", "An EV's request for bidirectional transfer is answered Accepted, Processing or Rejected", &["Q01.FR.04", "Q01.FR.07"], oh_21_q_02),
    ]
}

const PROFILE: &str = "SetChargingProfile";
/// How long a CSMS may take to send its profile: K15.FR.08 recommends 60 s.
const PROFILE_WITHIN_MS: u32 = 60_000;

/// A transaction started by the valid token with the EV's EVCCID (Q01.FR.02), as preparation.
fn ev_transaction(conn: &Connection) -> Step<String> {
    let tx = new_tx_id("V2X");
    let mut token = kit::id_token(&kit::valid_token());
    token["additionalInfo"] = json!([{"additionalIdToken": "OHEV0000000001", "type": "EVCCID"}]);
    let extra = json!({"transactionInfo": {"chargingState": "EVConnected"}, "idToken": token});
    started_by_valid_token(conn, &tx, extra, "a transaction of a V2X-capable EV started with the valid token")?;
    Ok(tx)
}

/// NotifyEVChargingNeeds for `mode`, the EV offering charging and AC_BPT.
fn needs(conn: &Connection, req: &str, mode: &str) -> Step<Value> {
    let needs = json!({
        "requestedEnergyTransfer": mode, "availableEnergyTransfer": ["AC_three_phase", "AC_BPT"], "controlMode": "ScheduledControl",
        "acChargingParameters": {"energyAmount": 20000, "evMinCurrent": 6, "evMaxCurrent": 32, "evMaxVoltage": 400},
    });
    kit::call(conn, req, "NotifyEVChargingNeeds", json!({"evseId": 1, "maxScheduleTuples": 3, "chargingNeeds": needs}), 10_000)
}

/// A Rejected request ends the transaction as Q01.FR.06 has the station do (a clean end).
fn end_rejected(conn: &Connection, tx: &str) -> Step {
    let extra = json!({"transactionInfo": {"stoppedReason": "ReqEnergyTransferRejected"}});
    event(conn, "", "Ended", "AbnormalCondition", 1, tx, extra).setup("the transaction ended for the rejected energy transfer").map(|_| ())
}

fn oh_21_q_01() -> Step {
    let conn = registered()?;
    conn.claim(&[PROFILE.into()]);
    let tx = ev_transaction(&conn)?;
    let r = needs(&conn, "Q02.FR.01", "AC_three_phase")?;
    if r["status"] == "Rejected" {
        end_rejected(&conn, &tx)?;
        return Err(Verdict::Inconclusive("the CSMS has no schedule for the EV (Rejected): the case needs one that has".into()));
    }
    let call = kit::expect(&conn, "Q02.FR.01", PROFILE, PROFILE_WITHIN_MS)?;
    kit::reply(&conn, "Q02.FR.01", &call, PROFILE, json!({"status": "Accepted"}))?;
    let schedules = call.payload["chargingProfile"]["chargingSchedule"].as_array().cloned().unwrap_or_default();
    let periods: Vec<Value> = schedules.iter().flat_map(|s| s["chargingSchedulePeriod"].as_array().cloned().unwrap_or_default()).collect();
    kit::check(!periods.is_empty(), "Q02.FR.01", "a charging schedule with periods", || call.payload.to_string())?;
    for q in &periods {
        let mode = q.get("operationMode");
        kit::soft_check(mode.is_none_or(|m| m == "ChargingOnly"), "Q02.FR.01", "operationMode ChargingOnly or absent", || q.to_string());
        let v2x: Vec<&str> = ["dischargeLimit", "setpoint", "setpointReactive"].into_iter().filter(|k| q.get(*k).is_some()).collect();
        kit::soft_check(v2x.is_empty(), "Q02.FR.02", "no dischargeLimit, setpoint or setpointReactive", || format!("{v2x:?} in {q}"));
    }
    Ok(())
}

fn oh_21_q_02() -> Step {
    let conn = registered()?;
    conn.claim(&[PROFILE.into()]);
    let tx = ev_transaction(&conn)?;
    let r = needs(&conn, "Q01.FR.07", "AC_BPT")?;
    let status = r["status"].as_str().unwrap_or_default();
    kit::check(matches!(status, "Accepted" | "Processing" | "Rejected"), "Q01.FR.07", "Accepted or Processing (Q01.FR.07), or Rejected (Q01.FR.04)", || r.to_string())?;
    if status == "Rejected" {
        end_rejected(&conn, &tx)?;
    }
    Ok(())
}
