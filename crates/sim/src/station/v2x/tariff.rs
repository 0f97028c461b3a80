//! Tariffs and local cost calculation of the 2.1 reference station (I07-I12): default tariffs
//! per EVSE (evseId 0 meaning each), listed and cleared by id or EVSE, the tariff in force
//! bound to a transaction when it starts (its id sent once, I07.FR.32), changed during a
//! transaction (I11), and the cost breakdown of the Ended event (I12). Prices with conditions
//! are not supported (`TariffCostCtrlr.ConditionsSupported` false) and each price list holds
//! at most `MAX_ELEMENTS` entries. Variant `no-local-cost`: none of it, every tariff message
//! answered NotSupported (I07.FR.01, I11.FR.01).
use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::super::{Reply, Station, Tx};
use crate::{Fault, variant::Variant};
use ocpp_core::defaults::now_rfc3339;

/// `TariffCostCtrlr.MaxElements[Tariff]`: price entries per energy, chargingTime, idleTime
/// and fixedFee list.
pub(in crate::station) const MAX_ELEMENTS: usize = 4;
/// The price lists of a TariffType that count towards MaxElements and may carry conditions.
const PRICE_LISTS: [&str; 4] = ["energy", "chargingTime", "idleTime", "fixedFee"];

/// The default tariffs installed, per EVSE id, in the order installed.
#[derive(Debug, Default)]
pub(in crate::station) struct Tariffs {
    by_evse: BTreeMap<u32, Vec<Value>>,
}

/// The tariff a transaction is charged by, and what its Ended event reports (I12).
#[derive(Debug, Clone)]
pub(in crate::station) struct TxCost {
    /// One per tariff used, the last one in force (I12.FR.35/36).
    periods: Vec<Period>,
    /// Whether a TransactionEvent carried the current tariff's id yet (I07.FR.32, I11.FR.07).
    announced: bool,
    started: std::time::Instant,
}

#[derive(Debug, Clone)]
struct Period {
    tariff: Value,
    start: String,
    /// The meter (Wh) when it began.
    from_wh: f64,
}

impl TxCost {
    fn new(tariff: Value, wh: f64) -> TxCost {
        TxCost { periods: vec![Period { tariff, start: now_rfc3339(), from_wh: wh }], announced: false, started: std::time::Instant::now() }
    }

    fn tariff(&self) -> &Value {
        &self.periods.last().expect("a period from the start").tariff
    }
}

/// The device model variables of local cost calculation; none with variant `no-local-cost`.
pub(in crate::station) fn variables(variants: &[Variant]) -> Vec<(&'static str, String, bool)> {
    if variants.contains(&Variant::NoLocalCost) {
        return vec![];
    }
    vec![
        ("TariffCostCtrlr.Available[Tariff]", "true".into(), true),
        ("TariffCostCtrlr.Available[Cost]", "true".into(), true),
        ("TariffCostCtrlr.Enabled[Tariff]", "true".into(), false),
        ("TariffCostCtrlr.Enabled[Cost]", "true".into(), false),
        ("TariffCostCtrlr.Currency", "EUR".into(), false),
        ("TariffCostCtrlr.MaxElements[Tariff]", MAX_ELEMENTS.to_string(), true),
        ("TariffCostCtrlr.ConditionsSupported[Tariff]", "false".into(), true),
        ("TariffCostCtrlr.TariffFallbackMessage", "Ask the operator for the tariff".into(), false),
        ("TariffCostCtrlr.TotalCostFallbackMessage", "Your receipt follows by e-mail".into(), false),
    ]
}

/// Whether tariffs are taken and costs calculated now (I07.FR.01, I12.FR.01).
fn enabled(st: &Station) -> bool {
    let on = |k: &str| st.settings.get(k).is_some_and(|(v, _)| v.eq_ignore_ascii_case("true"));
    on("TariffCostCtrlr.Enabled[Tariff]") && on("TariffCostCtrlr.Enabled[Cost]")
}

/// SetDefaultTariff, GetTariffs, ClearTariffs and ChangeTransactionTariff; None for other
/// actions.
pub(super) fn on_call(st: &mut Station, action: &str, p: &Value) -> Option<Reply> {
    if !matches!(action, "SetDefaultTariff" | "GetTariffs" | "ClearTariffs" | "ChangeTransactionTariff") {
        return None;
    }
    if !enabled(st) && st.cfg.faults.has(&Fault::RejectTariffUnsupported) {
        return Some(Ok(json!({"status": "Rejected"})));
    }
    if !enabled(st) {
        return Some(Err(("NotSupported", "this station does not calculate costs locally (TariffCostCtrlr)".into())));
    }
    Some(Ok(match action {
        "SetDefaultTariff" => set_default(st, p),
        "GetTariffs" => get(st, p["evseId"].as_u64().unwrap_or(0) as u32),
        "ClearTariffs" => clear(st, p),
        _ => change(st, p),
    }))
}

/// Why a tariff cannot be used, as the status both set messages answer (I07.FR.02/03,
/// I11.FR.02/03).
fn unusable(tariff: &Value) -> Option<&'static str> {
    let lists = PRICE_LISTS.iter().filter_map(|k| tariff[*k]["prices"].as_array());
    let mut prices = lists.clone().flatten();
    if lists.clone().any(|l| l.len() > MAX_ELEMENTS) {
        Some("TooManyElements")
    } else if prices.any(|p| p.get("conditions").is_some()) {
        Some("ConditionNotSupported")
    } else {
        None
    }
}

fn set_default(st: &mut Station, p: &Value) -> Value {
    let tariff = &p["tariff"];
    let evse = p["evseId"].as_u64().unwrap_or(0) as u32;
    if let Some(status) = unusable(tariff) {
        return json!({"status": status});
    }
    let id = &tariff["tariffId"];
    let known = st.tariffs.by_evse.values().flatten().any(|t| t["tariffId"] == *id);
    if known && !st.cfg.faults.has(&Fault::AcceptDuplicateTariff) {
        return json!({"status": "DuplicateTariffId"});
    }
    let evses: Vec<u32> = if evse == 0 { st.evses.iter().map(|e| e.id).collect() } else { vec![evse] };
    if evse != 0 && !st.evses.iter().any(|e| e.id == evse) {
        return json!({"status": "Rejected", "statusInfo": {"reasonCode": "UnknownEVSE"}});
    }
    for e in evses {
        let installed = st.tariffs.by_evse.entry(e).or_default();
        // A tariff without validFrom replaces the one without before it (I07.FR.22); one
        // with validFrom waits for its time (I07.FR.19) and then takes over (`in_force`).
        if tariff.get("validFrom").is_none() {
            installed.retain(|t| t.get("validFrom").is_some());
        }
        installed.push(tariff.clone());
    }
    json!({"status": "Accepted"})
}

/// The default tariff in force at EVSE `evse`: the latest validFrom that has come, else the
/// one without validFrom (I07.FR.19-23).
fn in_force(st: &Station, evse: u32) -> Option<Value> {
    let now = chrono::Utc::now();
    let from = |t: &Value| t["validFrom"].as_str().and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()).map(|d| d.with_timezone(&chrono::Utc));
    let installed = st.tariffs.by_evse.get(&evse)?;
    let valid = installed.iter().filter_map(|t| from(t).filter(|d| *d <= now).map(|d| (d, t))).max_by_key(|(d, _)| *d).map(|(_, t)| t);
    valid.or_else(|| installed.iter().find(|t| t.get("validFrom").is_none())).cloned()
}

/// GetTariffs: each tariff with the EVSEs it is installed at (I09.FR.01-07); the tariffs of
/// ongoing transactions that are no default tariff there are driver tariffs.
fn get(st: &Station, evse: u32) -> Value {
    let mut by_id: BTreeMap<String, (Value, &'static str, Vec<u32>)> = BTreeMap::new();
    for (e, tariffs) in &st.tariffs.by_evse {
        for t in tariffs.iter().filter(|_| evse == 0 || *e == evse) {
            let id = t["tariffId"].as_str().unwrap_or_default().to_string();
            by_id.entry(id).or_insert_with(|| (t.clone(), "DefaultTariff", vec![])).2.push(*e);
        }
    }
    for e in st.evses.iter().filter(|e| evse == 0 || e.id == evse) {
        if let Some(cost) = e.tx.as_ref().and_then(|t| t.cost.as_ref()) {
            let id = cost.tariff()["tariffId"].as_str().unwrap_or_default().to_string();
            let entry = by_id.entry(id).or_insert_with(|| (cost.tariff().clone(), "DriverTariff", vec![]));
            if !entry.2.contains(&e.id) {
                entry.2.push(e.id);
            }
        }
    }
    if by_id.is_empty() {
        return json!({"status": "NoTariff"});
    }
    let assignments: Vec<Value> = by_id
        .into_iter()
        .map(|(id, (t, kind, evses))| {
            let mut a = json!({"tariffId": id, "tariffKind": kind, "evseIds": evses});
            if let Some(from) = t.get("validFrom") {
                a["validFrom"] = from.clone();
            }
            a
        })
        .collect();
    json!({"status": "Accepted", "tariffAssignments": assignments})
}

/// ClearTariffs by ids, by EVSE, both or neither (I10.FR.01-06); a transaction goes on with
/// its own copy of a cleared tariff (I10.FR.07).
fn clear(st: &mut Station, p: &Value) -> Value {
    let ids: Vec<&str> = p["tariffIds"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let evse = p["evseId"].as_u64().map(|e| e as u32);
    let mut cleared: Vec<String> = vec![];
    for (e, tariffs) in st.tariffs.by_evse.iter_mut() {
        if evse.is_some_and(|x| x != 0 && x != *e) {
            continue;
        }
        tariffs.retain(|t| {
            let id = t["tariffId"].as_str().unwrap_or_default();
            let hit = ids.is_empty() || ids.contains(&id);
            if hit && !cleared.iter().any(|c| c == id) {
                cleared.push(id.to_string());
            }
            !hit
        });
    }
    if cleared.is_empty() {
        return json!({"clearTariffsResult": [{"status": "NoTariff"}]});
    }
    json!({"clearTariffsResult": cleared.into_iter().map(|id| json!({"tariffId": id, "status": "Accepted"})).collect::<Vec<_>>()})
}

/// ChangeTransactionTariff (I11.FR.02-08): accepted, the transaction is charged by the new
/// tariff from now on and a TransactionEvent TariffChanged names it.
fn change(st: &mut Station, p: &Value) -> Value {
    let tariff = &p["tariff"];
    let Some(i) = p["transactionId"].as_str().and_then(|id| super::find_tx(st, id)) else {
        return json!({"status": "TxNotFound"});
    };
    if let Some(status) = unusable(tariff) {
        return json!({"status": status});
    }
    let e = &st.evses[i];
    let current = e.tx.as_ref().and_then(|t| t.cost.as_ref()).map(|c| c.tariff()["currency"].clone());
    if current.is_some_and(|c| c != tariff["currency"]) {
        return json!({"status": "NoCurrencyChange"});
    }
    let wh = e.energy_wh;
    let tx = st.evses[i].tx.as_mut().expect("found above");
    match tx.cost.as_mut() {
        Some(c) => {
            c.periods.push(Period { tariff: tariff.clone(), start: now_rfc3339(), from_wh: wh });
            c.announced = false;
        }
        None => tx.cost = Some(TxCost::new(tariff.clone(), wh)),
    }
    if !st.cfg.faults.has(&Fault::SilentTariffChange) {
        let ev = super::tx_updated(st, i, super::super::Trigger::TariffChanged);
        st.enqueue(ev);
    }
    json!({"status": "Accepted"})
}

/// A transaction starting at EVSE `i` is charged by the default tariff in force there
/// (I07.FR.14).
pub(in crate::station) fn bind(st: &Station, i: usize) -> Option<TxCost> {
    let e = &st.evses[i];
    in_force(st, e.id).filter(|_| enabled(st)).map(|t| TxCost::new(t, e.energy_wh))
}

/// What a TransactionEvent of `tx` carries for its tariff: the id the first time after it was
/// bound or changed (I07.FR.32, I11.FR.07), and at Ended the cost breakdown (I12.FR.01).
pub(in crate::station) fn annotate(st: &Station, tx: &mut Tx, energy_wh: f64, payload: &mut Value) {
    let unannounced = st.cfg.faults.has(&Fault::UnannouncedTariff);
    let Some(cost) = tx.cost.as_mut() else { return };
    if !cost.announced && !unannounced {
        payload["transactionInfo"]["tariffId"] = cost.tariff()["tariffId"].clone();
        cost.announced = true;
    }
    if payload["eventType"] == "Ended" {
        payload["costDetails"] = details(st, cost, energy_wh);
    }
}

/// Round a money amount to a hundredth of a cent.
fn money(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// exclTax with inclTax from the tax rates of a price list, stack by stack (I12.FR.13).
fn price(excl: f64, taxes: &Value) -> Value {
    let rates = taxes.as_array().cloned().unwrap_or_default();
    let mut stacks: BTreeMap<i64, f64> = BTreeMap::new();
    for r in &rates {
        *stacks.entry(r["stack"].as_i64().unwrap_or(0)).or_default() += r["tax"].as_f64().unwrap_or(0.0);
    }
    let incl = stacks.values().fold(excl, |x, t| x * (1.0 + t / 100.0));
    json!({"exclTax": money(excl), "inclTax": money(incl)})
}

/// The first price of a list (no conditions are supported, so the first always applies).
fn first_price(tariff: &Value, list: &str, field: &str) -> Option<f64> {
    tariff[list]["prices"][0][field].as_f64()
}

/// The cost breakdown at the end of a transaction (I12): a period per tariff used with its
/// energy, the energy, charging-time and fixed costs, their total, NormalCost unless minCost
/// or maxCost applies (I12.FR.38/39/41).
fn details(st: &Station, cost: &TxCost, end_wh: f64) -> Value {
    let seconds = cost.started.elapsed().as_secs();
    let mut periods = vec![];
    let mut energy = 0.0;
    for (n, p) in cost.periods.iter().enumerate() {
        let to_wh = cost.periods.get(n + 1).map_or(end_wh, |next| next.from_wh);
        let wh = (to_wh - p.from_wh).max(0.0);
        let id = &p.tariff["tariffId"];
        periods.push(json!({"tariffId": id, "startPeriod": p.start, "dimensions": [{"type": "Energy", "volume": wh.round()}]}));
        // Each period's energy at its own tariff's price (I11.FR.08: no retroactive change).
        energy += wh / 1000.0 * first_price(&p.tariff, "energy", "priceKwh").unwrap_or(0.0);
    }
    let total_wh = (end_wh - cost.periods[0].from_wh).max(0.0);
    let t = cost.tariff();
    let mut parts: Vec<(&str, Value)> = vec![];
    if t.get("energy").is_some() {
        parts.push(("energy", price(energy, &t["energy"]["taxRates"])));
    }
    if let Some(per_minute) = first_price(t, "chargingTime", "priceMinute") {
        parts.push(("chargingTime", price(per_minute * seconds as f64 / 60.0, &t["chargingTime"]["taxRates"])));
    }
    // Applied once, by the tariff the transaction began with (I12.FR.05, I12.FR.30).
    let first = &cost.periods[0].tariff;
    if let Some(fixed) = first_price(first, "fixedFee", "priceFixed") {
        parts.push(("fixed", price(fixed, &first["fixedFee"]["taxRates"])));
    }
    let sum = |k: &str| money(parts.iter().map(|(_, p)| p[k].as_f64().unwrap_or(0.0)).sum());
    let mut total = json!({"exclTax": sum("exclTax"), "inclTax": sum("inclTax")});
    if st.cfg.faults.has(&Fault::WrongCostTotal) {
        total["exclTax"] = json!(money(sum("exclTax") + 1.0));
    }
    let mut total_cost = json!({"currency": t["currency"], "typeOfCost": "NormalCost", "total": total});
    for (k, v) in &parts {
        total_cost[*k] = v.clone();
    }
    let below = |limit: &Value, k: &str| limit[k].as_f64().is_some_and(|l| total_cost["total"][k].as_f64().unwrap_or(0.0) < l);
    let reached = |limit: &Value, k: &str| limit[k].as_f64().is_some_and(|l| total_cost["total"][k].as_f64().unwrap_or(0.0) >= l);
    if let Some(min) = t.get("minCost").filter(|m| below(m, "exclTax") || below(m, "inclTax")) {
        total_cost = json!({"currency": t["currency"], "typeOfCost": "MinCost", "fixed": min, "total": min});
    } else if let Some(max) = t.get("maxCost").filter(|m| reached(m, "exclTax") || reached(m, "inclTax")) {
        total_cost["typeOfCost"] = json!("MaxCost");
        total_cost["total"] = max.clone();
    }
    json!({
        "chargingPeriods": periods,
        "totalCost": total_cost,
        "totalUsage": {"energy": total_wh.round(), "chargingTime": seconds, "idleTime": 0},
    })
}
