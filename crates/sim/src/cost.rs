//! Central cost calculation of the 2.1 reference CSMS (I02, I03): a transaction costs a start
//! fee plus a price per kWh metered since its first event. The running cost goes back in the
//! answer to each TransactionEvent Updated that carries meter values (I02.FR.01, its alternative
//! scenario), the total in the answer to the Ended event (I03.FR.02).
use std::collections::BTreeMap;

use serde_json::Value;

use crate::Fault;

/// The CSMS's tariff: EUR per kWh, and per transaction.
const PRICE_KWH: f64 = 0.30;
const START_FEE: f64 = 0.50;

/// Where each transaction's meter started (Wh).
#[derive(Debug, Default)]
pub struct Meters {
    start_wh: BTreeMap<String, f64>,
}

/// The energy register reading of a TransactionEvent, if it has one.
fn energy_wh(event: &Value) -> Option<f64> {
    event["meterValue"].as_array()?.iter().flat_map(|m| m["sampledValue"].as_array().into_iter().flatten()).find_map(|s| {
        let register = s.get("measurand").is_none_or(|m| m == "Energy.Active.Import.Register");
        let kwh = s["unitOfMeasure"]["unit"] == "kWh";
        s["value"].as_f64().filter(|_| register).map(|v| if kwh { v * 1000.0 } else { v })
    })
}

/// The totalCost to answer a TransactionEvent with, if any: the running cost of an Updated
/// event with meter values, the total of an Ended one.
pub fn total_cost(meters: &mut Meters, faults: &crate::Faults, tx: &str, event: &Value) -> Option<f64> {
    let wh = energy_wh(event);
    if let Some(wh) = wh {
        meters.start_wh.entry(tx.to_string()).or_insert(wh);
    }
    let ended = event["eventType"] == "Ended";
    let from = if ended { meters.start_wh.remove(tx) } else { meters.start_wh.get(tx).copied() };
    let due = match event["eventType"].as_str() {
        Some("Updated") => wh.is_some() && !faults.has(&Fault::NoRunningCost),
        Some("Ended") => !faults.has(&Fault::NoTotalCost),
        _ => false,
    };
    let used = wh.zip(from).map_or(0.0, |(now, start)| (now - start).max(0.0));
    due.then(|| ((START_FEE + used / 1000.0 * PRICE_KWH) * 100.0).round() / 100.0)
}
