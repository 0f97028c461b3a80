//! Block I at 2.1, tariffs and local cost calculation, for a charging-station DUT (the
//! harness is the CSMS): default tariffs (I07), listing (I09) and clearing them (I10), the
//! tariff of a transaction changed (I11) and the cost breakdown of its Ended event (I12).
//! A station that does not calculate costs locally (TariffCostCtrlr.Enabled[Tariff] or
//! [Cost] absent or not settable to true) skips the cases that need it and must answer the
//! tariff messages with a CALLERROR (OH_21_I_11_CS). OCPP 2.1 has no part 6: the ids are our
//! own, numbered within the block.
use serde_json::{Value, json};

use crate::{
    Case,
    kit::{self, *},
    v201_cs::{self, SESSION, TX, next_tx_event, session_ended},
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    Case::new(id, title, Role::Csms, V21, requirements, run).profile("tariff-cost").timeout_ms(30_000)
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        case("OH_21_I_01_CS", "A default tariff for the EVSE is Accepted and GetTariffs lists it with that EVSE", &["I07.FR.10", "I07.FR.11", "I09.FR.02", "I09.FR.04"], oh_21_i_01),
        case("OH_21_I_02_CS", "ClearTariffs by id removes the default tariff: GetTariffs then answers NoTariff", &["I10.FR.02", "I09.FR.03"], oh_21_i_02),
        case("OH_21_I_03_CS", "A default tariff for evseId 0 is installed at every EVSE: GetTariffs for evseId 0 lists them all", &["I07.FR.12", "I09.FR.01", "I09.FR.04"], oh_21_i_03),
        case("OH_21_I_04_CS", "A default tariff whose id is installed already is answered DuplicateTariffId", &["I07.FR.04"], oh_21_i_04),
        case("OH_21_I_05_CS", "A default tariff for an EVSE the station does not have is Rejected", &["I07.FR.06"], oh_21_i_05),
        case("OH_21_I_06_CS", "ClearTariffs of a tariff id the station does not have is answered NoTariff", &["I10.FR.06"], oh_21_i_06),
        case(
            "OH_21_I_07_CS",
            "A transaction under the default tariff names it once, and its Ended event carries a consistent cost breakdown",
            &["I07.FR.32", "I12.FR.01", "I12.FR.04", "I12.FR.09", "I12.FR.16", "I12.FR.17", "I12.FR.41"],
            oh_21_i_07,
        )
        .needs(&["plug", "pilot", "token-reader"])
        .timeout_ms(60_000),
        case("OH_21_I_08_CS", "ChangeTransactionTariff for a transaction that does not exist is answered TxNotFound", &["I11.FR.04"], oh_21_i_08),
        case(
            "OH_21_I_09_CS",
            "ChangeTransactionTariff during a transaction is Accepted, announced by a TransactionEvent TariffChanged, and the new tariff is in the cost breakdown",
            &["I11.FR.06", "I11.FR.07", "I12.FR.04"],
            oh_21_i_09,
        )
        .needs(&["plug", "pilot", "token-reader"])
        .timeout_ms(60_000),
        case("OH_21_I_10_CS", "ChangeTransactionTariff to another currency during a transaction is answered NoCurrencyChange", &["I11.FR.05"], oh_21_i_10)
            .needs(&["plug", "pilot", "token-reader"])
            .timeout_ms(60_000),
        case("OH_21_I_11_CS", "A station without local cost calculation answers SetDefaultTariff and ChangeTransactionTariff with a CALLERROR", &["I07.FR.01", "I11.FR.01"], oh_21_i_11),
        case("OH_21_I_12_CS", "CostUpdated during a transaction is answered", &["I02.FR.02"], oh_21_i_12).needs(SESSION),
    ]
}

/// The station's TariffCostCtrlr switches: both on, or whether it can have them on.
enum LocalCost {
    On,
    /// Absent, or not to be switched on: what the station answered.
    Off(String),
}

fn tariff_switch(conn: &Connection, instance: &str) -> Step<Result<(), String>> {
    let read = json!({"getVariableData": [{"component": {"name": "TariffCostCtrlr"}, "variable": {"name": "Enabled", "instance": instance}}]});
    let r = kit::call(conn, "I07", "GetVariables", read, 10_000)?;
    let result = &r["getVariableResult"][0];
    if result["attributeStatus"] != "Accepted" {
        return Ok(Err(format!("TariffCostCtrlr.Enabled[{instance}] {}", result["attributeStatus"])));
    }
    if result["attributeValue"].as_str().is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Ok(Ok(()));
    }
    // Off: switched on for the case (the baseline sets it back).
    let set = json!({"setVariableData": [{"component": {"name": "TariffCostCtrlr"}, "variable": {"name": "Enabled", "instance": instance}, "attributeValue": "true"}]});
    let r = kit::call(conn, "I07", "SetVariables", set, 10_000)?;
    let status = &r["setVariableResult"][0]["attributeStatus"];
    Ok(if status == "Accepted" { Ok(()) } else { Err(format!("TariffCostCtrlr.Enabled[{instance}] false, and setting it true was answered {status}")) })
}

fn local_cost(conn: &Connection) -> Step<LocalCost> {
    for instance in ["Tariff", "Cost"] {
        if let Err(why) = tariff_switch(conn, instance)? {
            return Ok(LocalCost::Off(why));
        }
    }
    Ok(LocalCost::On)
}

/// The station, booted, with local cost calculation on; a station without it skips.
fn costing() -> Step<Connection> {
    let conn = v201_cs::booted(300)?;
    match local_cost(&conn)? {
        LocalCost::On => Ok(conn),
        LocalCost::Off(why) => Err(Verdict::Skip(format!("the station has no local cost calculation ({why}): this case's prerequisite"))),
    }
}

/// A tariff of our own: energy at 0.30 per kWh with 20 % VAT, and a start fee.
fn tariff(id: &str, currency: &str) -> Value {
    json!({
        "tariffId": id, "currency": currency,
        "energy": {"prices": [{"priceKwh": 0.30}], "taxRates": [{"type": "VAT", "tax": 20.0}]},
        "fixedFee": {"prices": [{"priceFixed": 0.50}]},
    })
}

fn set_default(conn: &Connection, req: &str, evse: u32, t: Value) -> Step<Value> {
    kit::call(conn, req, "SetDefaultTariff", json!({"evseId": evse, "tariff": t}), 10_000)
}

fn install(conn: &Connection, req: &str, evse: u32, id: &str) -> Step {
    let r = set_default(conn, req, evse, tariff(id, "EUR"))?;
    kit::check(r["status"] == "Accepted", req, format!("SetDefaultTariff {id} for EVSE {evse} Accepted"), || r.to_string())
}

/// GetTariffs for `evse`: the answer and the EVSE ids listed for `id`.
fn listed(conn: &Connection, req: &str, evse: u32, id: &str) -> Step<(Value, Vec<u64>)> {
    let r = kit::call(conn, req, "GetTariffs", json!({"evseId": evse}), 10_000)?;
    let evses = r["tariffAssignments"].as_array().into_iter().flatten().filter(|a| a["tariffId"] == id).flat_map(|a| a["evseIds"].as_array().cloned().unwrap_or_default()).filter_map(|e| e.as_u64()).collect();
    Ok((r, evses))
}

fn oh_21_i_01() -> Step {
    let conn = costing()?;
    let evse = kit::evse_id();
    install(&conn, "I07.FR.10", evse, "OH-I01")?;
    let (r, evses) = listed(&conn, "I09.FR.02", evse, "OH-I01")?;
    kit::check(r["status"] == "Accepted", "I09.FR.02", format!("GetTariffs for EVSE {evse} Accepted"), || r.to_string())?;
    kit::check(evses.contains(&u64::from(evse)), "I09.FR.04", format!("tariff OH-I01 listed with EVSE {evse}"), || r.to_string())
}

fn oh_21_i_02() -> Step {
    let conn = costing()?;
    let evse = kit::evse_id();
    install(&conn, "I10", evse, "OH-I02")?;
    let r = kit::call(&conn, "I10.FR.02", "ClearTariffs", json!({"tariffIds": ["OH-I02"]}), 10_000)?;
    let cleared = r["clearTariffsResult"].as_array().into_iter().flatten().any(|x| x["tariffId"] == "OH-I02" && x["status"] == "Accepted");
    kit::check(cleared, "I10.FR.02", "ClearTariffs result Accepted for OH-I02", || r.to_string())?;
    let (r, _) = listed(&conn, "I09.FR.03", evse, "OH-I02")?;
    kit::check(r["status"] == "NoTariff" && r.get("tariffAssignments").is_none(), "I09.FR.03", "GetTariffs NoTariff without tariffAssignments", || r.to_string())
}

fn oh_21_i_03() -> Step {
    let conn = costing()?;
    install(&conn, "I07.FR.12", 0, "OH-I03")?;
    let (r, evses) = listed(&conn, "I09.FR.01", 0, "OH-I03")?;
    kit::check(r["status"] == "Accepted", "I09.FR.01", "GetTariffs for evseId 0 Accepted", || r.to_string())?;
    let missing: Vec<u32> = (1..=kit::evses()).filter(|e| !evses.contains(&u64::from(*e))).collect();
    kit::check(missing.is_empty(), "I07.FR.12", format!("tariff OH-I03 installed at each of the {} EVSE(s)", kit::evses()), || format!("not listed at EVSE(s) {missing:?}: {r}"))
}

fn oh_21_i_04() -> Step {
    let conn = costing()?;
    let evse = kit::evse_id();
    install(&conn, "I07", evse, "OH-I04")?;
    let r = set_default(&conn, "I07.FR.04", evse, tariff("OH-I04", "EUR"))?;
    kit::check(r["status"] == "DuplicateTariffId", "I07.FR.04", "DuplicateTariffId for a tariffId installed already", || r.to_string())
}

fn oh_21_i_05() -> Step {
    let conn = costing()?;
    let unknown = kit::evses() + 1;
    let r = set_default(&conn, "I07.FR.06", unknown, tariff("OH-I05", "EUR"))?;
    kit::check(r["status"] == "Rejected", "I07.FR.06", format!("Rejected for EVSE {unknown}, which the station does not have"), || r.to_string())?;
    kit::should(r["statusInfo"]["reasonCode"] == "UnknownEVSE", "I07.FR.06", "statusInfo reasonCode UnknownEVSE", || r.to_string());
    Ok(())
}

fn oh_21_i_06() -> Step {
    let conn = costing()?;
    let r = kit::call(&conn, "I10.FR.06", "ClearTariffs", json!({"tariffIds": [format!("OH-NONE-{}", kit::unique_number())]}), 10_000)?;
    let results = r["clearTariffsResult"].as_array().cloned().unwrap_or_default();
    let ok = !results.is_empty() && results.iter().all(|x| x["status"] == "NoTariff" && x.get("tariffId").is_none());
    kit::check(ok, "I10.FR.06", "clearTariffsResult NoTariff without a tariffId", || r.to_string())
}

/// Plug in, present the token and let the EV draw: the transaction's events up to the first
/// with chargingState Charging (each answered), and its id.
fn charging(conn: &Connection, req: &str) -> Step<(Vec<Value>, String)> {
    conn.claim(&[TX.into()]);
    let evse = kit::evse_id();
    kit::plug_in(evse)?;
    kit::present_token(&kit::valid_token())?;
    kit::pilot(evse, PilotState::C)?;
    let mut events = vec![];
    while events.len() < 8 {
        let ev = next_tx_event(conn, req, 10_000)?;
        let on = at(&ev, "/transactionInfo/chargingState") == "Charging";
        events.push(ev);
        if on {
            let id = at(&events[events.len() - 1], "/transactionInfo/transactionId").as_str().unwrap_or_default().to_string();
            return Ok((events, id));
        }
    }
    Err(Verdict::Inconclusive("no TransactionEvent with chargingState Charging after plug, token and pilot C".into()))
}

/// The Ended event's costDetails against I12: a period per tariff naming it (FR.04), the
/// tariff's currency (FR.16), the energy cost with the energy used (FR.09), a total that is
/// the sum of its parts (FR.17), NormalCost (FR.41). Every deviation is listed.
fn check_cost(ended: &Value, tariff_id: &str) -> Step {
    let d = &ended["costDetails"];
    kit::check(d.is_object(), "I12.FR.01", "costDetails in the Ended event of a transaction with a tariff", || ended.to_string())?;
    let periods = d["chargingPeriods"].as_array().cloned().unwrap_or_default();
    // I12's scenario (step 7a) has one or more periods at Ended; its FRs ask only that each
    // names its tariff.
    kit::should(!periods.is_empty(), "I12", "chargingPeriods in the Ended event's costDetails", || d.to_string());
    kit::soft_check(periods.iter().all(|p| p["tariffId"].is_string()), "I12.FR.04", "each charging period naming its tariffId", || d["chargingPeriods"].to_string());
    if let Some(last) = periods.last().map(|p| p["tariffId"].clone()) {
        kit::soft_check(last == tariff_id, "I12.FR.04", format!("the last charging period under tariff {tariff_id}"), || last.to_string());
    }
    let cost = &d["totalCost"];
    kit::soft_check(cost["currency"] == "EUR", "I12.FR.16", "totalCost currency EUR, the tariff's", || cost["currency"].to_string());
    kit::soft_check(cost["energy"].is_object() && d["totalUsage"]["energy"].is_number(), "I12.FR.09", "totalCost.energy and totalUsage.energy (the tariff prices energy)", || d.to_string());
    for k in ["exclTax", "inclTax"] {
        let parts: f64 = ["fixed", "energy", "chargingTime", "idleTime", "reservationTime", "reservationFixed"].iter().filter_map(|p| cost[*p][k].as_f64()).sum();
        let total = cost["total"][k].as_f64();
        kit::soft_check(total.is_some_and(|t| (t - parts).abs() < 0.005), "I12.FR.17", format!("total.{k} the sum of its parts, {parts:.4}"), || cost["total"].to_string());
    }
    kit::soft_check(cost["typeOfCost"] == "NormalCost", "I12.FR.41", "typeOfCost NormalCost (the tariff has no minCost or maxCost)", || cost["typeOfCost"].to_string());
    Ok(())
}

fn oh_21_i_07() -> Step {
    let conn = costing()?;
    install(&conn, "I07", kit::evse_id(), "OH-I07")?;
    let (events, _) = charging(&conn, "I07.FR.32")?;
    let named: Vec<&Value> = events.iter().filter(|e| e["transactionInfo"].get("tariffId").is_some()).collect();
    kit::check(!named.is_empty(), "I07.FR.32", "a TransactionEvent naming tariffId OH-I07 once the transaction started", || format!("{} events without tariffId", events.len()))?;
    kit::soft_check(named.len() == 1 && named[0]["transactionInfo"]["tariffId"] == "OH-I07", "I07.FR.32", "tariffId OH-I07, in one event", || named.iter().map(|e| e["transactionInfo"]["tariffId"].to_string()).collect::<Vec<_>>().join(", "));
    let ended = session_ended(&conn, "I12", 2)?;
    check_cost(&ended, "OH-I07")
}

fn change_tariff(conn: &Connection, req: &str, tx: &str, t: Value) -> Step<Value> {
    kit::call(conn, req, "ChangeTransactionTariff", json!({"transactionId": tx, "tariff": t}), 10_000)
}

fn oh_21_i_08() -> Step {
    let conn = costing()?;
    let r = change_tariff(&conn, "I11.FR.04", &format!("OH-NO-TX-{}", kit::unique_number()), tariff("OH-I08", "EUR"))?;
    kit::check(r["status"] == "TxNotFound", "I11.FR.04", "TxNotFound for a transaction the station does not have", || r.to_string())
}

fn oh_21_i_09() -> Step {
    let conn = costing()?;
    let (_, tx) = charging(&conn, "I11")?;
    let r = change_tariff(&conn, "I11.FR.06", &tx, tariff("OH-I09", "EUR"))?;
    kit::check(r["status"] == "Accepted", "I11.FR.06", format!("ChangeTransactionTariff of {tx} Accepted"), || r.to_string())?;
    let ev = next_tx_event(&conn, "I11.FR.07", 10_000)?;
    kit::check(ev["triggerReason"] == "TariffChanged", "I11.FR.07", "a TransactionEvent with triggerReason TariffChanged", || ev.to_string())?;
    kit::soft_check(at(&ev, "/transactionInfo/tariffId") == "OH-I09", "I11.FR.07", "transactionInfo.tariffId OH-I09", || at(&ev, "/transactionInfo/tariffId").to_string());
    let ended = session_ended(&conn, "I12", 1)?;
    check_cost(&ended, "OH-I09")
}

fn oh_21_i_10() -> Step {
    let conn = costing()?;
    install(&conn, "I11", kit::evse_id(), "OH-I10")?;
    let (_, tx) = charging(&conn, "I11")?;
    let r = change_tariff(&conn, "I11.FR.05", &tx, tariff("OH-I10-USD", "USD"))?;
    kit::check(r["status"] == "NoCurrencyChange", "I11.FR.05", "NoCurrencyChange for a tariff in USD while the transaction's is in EUR", || r.to_string())
}

fn oh_21_i_11() -> Step {
    let conn = v201_cs::booted(300)?;
    if let LocalCost::On = local_cost(&conn)? {
        return Err(Verdict::Skip("the station calculates costs locally: this case is for one that does not calculate costs locally".into()));
    }
    for (req, action, payload) in [
        ("I07.FR.01", "SetDefaultTariff", json!({"evseId": kit::evse_id(), "tariff": tariff("OH-I11", "EUR")})),
        ("I11.FR.01", "ChangeTransactionTariff", json!({"transactionId": "OH-I11", "tariff": tariff("OH-I11", "EUR")})),
    ] {
        match conn.call(action, &payload.to_string(), 10_000) {
            Ok(CallOutcome::Error(e)) => kit::soft_check(matches!(e.code.as_str(), "NotSupported" | "NotImplemented"), req, format!("{action}: CALLERROR NotSupported or NotImplemented"), || e.code.clone()),
            Ok(CallOutcome::Result(r)) => kit::soft_check(false, req, format!("{action}: CALLERROR NotSupported or NotImplemented"), || format!("CALLRESULT {r}")),
            Err(e) => return Err(kit::fail(req, format!("an answer to {action}"), format!("{e:?}"))),
        }
    }
    Ok(())
}

fn oh_21_i_12() -> Step {
    let (conn, tx) = kit::reach_station(StationState::EnergyTransferStarted, kit::evse_id(), &[])?;
    let tx = tx.unwrap_or_default();
    // A CALLERROR fails the case: the answer is what I02.FR.02 asks for.
    kit::call(&conn, "I02.FR.02", "CostUpdated", json!({"totalCost": 1.25, "transactionId": tx}), 10_000)?;
    Ok(())
}
