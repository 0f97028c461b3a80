//! Block I at 2.1, tariffs and cost, for a CSMS DUT (the harness is a charging station that
//! shows costs to the driver): the running cost during a transaction (I02) and the total cost
//! once it ended (I03). OCPP 2.1 has no part 6: the ids are our own, numbered within the block.
use serde_json::{Value, json};

use crate::{
    Case,
    kit::{self, *},
    v201_csms::{event, new_tx_id, registered, started_by_valid_token},
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    Case::new(id, title, Role::ChargingStation, V21, requirements, run).profile("tariff-cost").timeout_ms(60_000)
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        case("OH_21_I_01_CSMS", "During a transaction the CSMS reports the running cost: in the TransactionEvent answers or by CostUpdated", &["I02.FR.01"], oh_21_i_01),
        case("OH_21_I_02_CSMS", "The CSMS answers a transaction's Ended event with its total cost", &["I03.FR.02"], oh_21_i_02),
    ]
}

/// A meter value of the energy register, `wh` Wh.
fn meter(wh: f64, context: &str) -> Value {
    json!([{"timestamp": now(), "sampledValue": [{"value": wh, "context": context, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}}]}])
}

/// A transaction started with the valid token and a first meter reading (as preparation:
/// the cases about starting a transaction check that part).
fn started(conn: &Connection) -> Step<String> {
    let tx = new_tx_id("TX-I");
    let extra = json!({"transactionInfo": {"chargingState": "Charging"}, "meterValue": meter(1_000.0, "Transaction.Begin")});
    started_by_valid_token(conn, &tx, extra, "a transaction started with the valid token")?;
    Ok(tx)
}

/// How long the CSMS has to report a running cost: ten meter values a second apart. Part 2
/// leaves the moment to the CSMS ("a relevant interval"); a lab with a slower CSMS sets the
/// DUT parameter `running-cost-within-s`.
fn window_s() -> u32 {
    config::parameter("running-cost-within-s").and_then(|v| v.parse().ok()).unwrap_or(10)
}

fn oh_21_i_01() -> Step {
    let conn = registered()?;
    conn.claim(&["CostUpdated".into()]);
    let tx = started(&conn)?;
    let mut seq = 1;
    let mut seen = None;
    for n in 0..window_s() {
        let wh = 1_000.0 + f64::from(n + 1) * 500.0;
        let r = event(&conn, "I02.FR.01", "Updated", "MeterValuePeriodic", seq, &tx, json!({"meterValue": meter(wh, "Sample.Periodic")}))?;
        seq += 1;
        if let Some(cost) = r.get("totalCost") {
            seen = Some(format!("totalCost {cost} in the answer to Updated seqNo {}", seq - 1));
            break;
        }
        if let Ok(call) = kit::expect(&conn, "I02", "CostUpdated", 1_000) {
            kit::reply(&conn, "I02", &call, "CostUpdated", json!({}))?;
            let p = call.payload;
            kit::check(p["transactionId"] == tx.as_str(), "I02.FR.01", format!("CostUpdated for transaction {tx}"), || p.to_string())?;
            seen = Some(format!("CostUpdated {}", p["totalCost"]));
            break;
        }
    }
    let Some(how) = seen else {
        return Err(kit::fail("I02.FR.01", "the running cost in a TransactionEvent answer or a CostUpdated", format!("neither within {} meter values a second apart", window_s())));
    };
    kit::info(format!("running cost reported: {how}"));
    event(&conn, "", "Ended", "StopAuthorized", seq, &tx, json!({"transactionInfo": {"stoppedReason": "Local"}})).setup("the transaction ended")?;
    Ok(())
}

fn oh_21_i_02() -> Step {
    let conn = registered()?;
    let tx = started(&conn)?;
    event(&conn, "", "Updated", "MeterValuePeriodic", 1, &tx, json!({"meterValue": meter(3_000.0, "Sample.Periodic")})).setup("a meter value during the transaction")?;
    let extra = json!({"transactionInfo": {"stoppedReason": "Local", "chargingState": "EVConnected"}, "meterValue": meter(4_000.0, "Transaction.End")});
    let r = event(&conn, "I03.FR.02", "Ended", "StopAuthorized", 2, &tx, extra)?;
    let cost = r["totalCost"].as_f64();
    kit::check(cost.is_some(), "I03.FR.02", "totalCost in the answer to the Ended event", || r.to_string())?;
    // A free transaction is 0.00 (I03.FR.04); below zero is no cost at all.
    kit::check(cost.is_some_and(|c| c >= 0.0), "I03.FR.02", "a total cost of 0 or more", || r.to_string())
}
