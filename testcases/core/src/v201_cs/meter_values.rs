//! Block J, meter values, for a charging-station DUT (part 6 §2.10): clock-aligned readings
//! when idle and during a transaction (J01), and the samples a transaction's Started and
//! Ended events carry (J02 with E01/E06). Intervals are short so a run stays fast; each case
//! sets them through the device model and the baseline sets them back.
use serde_json::{Value, json};

use super::{TX, configure, next_tx_event};
use crate::{
    Case,
    kit::{self, StationState, Step, at, clock},
};

use super::{SESSION, station_case as case};

pub(crate) fn cases() -> Vec<Case> {
    vec![
        case(
            "TC_J_01_CS",
            "With AlignedDataInterval set and no transaction, MeterValues come on the clock's intervals with context Sample.Clock",
            &["J01.FR.02", "J01.FR.06", "J01.FR.07", "J01.FR.08", "J01.FR.14", "J01.FR.01", "J01.FR.03", "J01.FR.15"],
            &[],
            tc_j_01,
        ),
        case(
            "TC_J_02_CS",
            "With AlignedDataInterval set during a transaction, clock-aligned readings come in TransactionEvent or MeterValues",
            &["J01.FR.06", "J01.FR.08", "J01.FR.22", "J01.FR.01", "J01.FR.02", "J01.FR.03", "J01.FR.07", "J01.FR.14", "J01.FR.15"],
            SESSION,
            tc_j_02,
        ),
        case(
            "TC_J_03_CS",
            "With AlignedDataTxEndedInterval set, the Ended event carries the clock-aligned readings of the transaction",
            &["J01.FR.08", "E06.FR.11", "J01.FR.01", "J01.FR.02", "J01.FR.03", "J01.FR.06", "J01.FR.07", "J01.FR.14", "J01.FR.15", "E06.FR.17", "E07.FR.08", "E07.FR.13", "E08.FR.09", "E09.FR.05", "E10.FR.04", "E12.FR.07"],
            SESSION,
            tc_j_03,
        ),
        case(
            "TC_J_07_CS",
            "The Started event of a transaction carries a Transaction.Begin reading of the configured measurands",
            &["J02.FR.02", "J02.FR.04", "E01.FR.09", "E02.FR.09", "J02.FR.01", "J02.FR.03", "J02.FR.10", "E03.FR.07", "E04.FR.05", "E05.FR.05"],
            SESSION,
            tc_j_07,
        ),
        case(
            "TC_J_10_CS",
            "With SampledDataTxEndedInterval set, the Ended event carries Sample.Periodic readings and one Transaction.End",
            &["J02.FR.02", "J02.FR.04", "E06.FR.11", "J02.FR.01", "J02.FR.03", "J02.FR.10", "E06.FR.17", "E07.FR.08", "E07.FR.13", "E08.FR.09", "E09.FR.05", "E10.FR.04", "E12.FR.07"],
            SESSION,
            tc_j_10,
        ),
    ]
}

const ENERGY: &str = "Energy.Active.Import.Register";

/// Every sampled value of `mv` has `context`, and one is the energy register (part 6: the
/// measurand may be omitted for it).
fn readings_are(req: &str, mv: &Value, context: &str) -> Step {
    let values = mv["sampledValue"].as_array().cloned().unwrap_or_default();
    kit::check(!values.is_empty() && values.iter().all(|v| v["context"] == context), req, format!("sampled values with context {context}"), || {
        mv.to_string()
    })?;
    let energy = values.iter().any(|v| v.get("measurand").is_none_or(|m| m == ENERGY));
    kit::check(energy, "J01.FR.07", format!("a reading of {ENERGY}, the configured measurand"), || mv.to_string())
}

/// Consecutive time stamps are `interval_s` apart, within the lab's tolerance.
fn spaced(req: &str, stamps: &[Value], interval_s: i64) -> Step {
    let ms: Vec<i64> = stamps.iter().filter_map(|t| t.as_str().and_then(kit::epoch_ms)).collect();
    let slack = i64::from(kit::config::lab_timing().tolerance_ms).max(1_000);
    let gaps: Vec<i64> = ms.windows(2).map(|w| w[1] - w[0]).collect();
    kit::check(gaps.iter().all(|g| (g - interval_s * 1_000).abs() <= slack), req, format!("readings {interval_s} s apart"), || {
        format!("gaps {gaps:?} ms between {stamps:?}")
    })
}

fn tc_j_01() -> Step {
    let conn = super::booted(300)?;
    conn.claim(&["MeterValues".into()]);
    configure(&conn, "J01", "AlignedDataCtrlr", "Measurands", ENERGY)?;
    configure(&conn, "J01", "AlignedDataCtrlr", "Interval", "2")?;
    // One reading per EVSE (and maybe the station's main meter, EVSE 0) per interval: the
    // spacing is that of one EVSE's, the one under test.
    let mut stamps = vec![];
    let deadline = clock::now_ms() + 10_000;
    while stamps.len() < 3 {
        let left = deadline.saturating_sub(clock::now_ms()) as u32;
        let m = kit::expect_and_reply(&conn, "J01.FR.14", "MeterValues", left.max(1), json!({}))?;
        let mv = at(&m, "/meterValue/0").clone();
        readings_are("J01.FR.08", &mv, "Sample.Clock")?;
        if m["evseId"] == kit::evse_id() {
            stamps.push(mv["timestamp"].clone());
        }
    }
    spaced("J01.FR.14", &stamps, 2)
}

fn tc_j_02() -> Step {
    let (conn, _) = kit::reach_station(StationState::EnergyTransferStarted, kit::evse_id(), &[TX, "MeterValues"])?;
    configure(&conn, "J01", "AlignedDataCtrlr", "Measurands", ENERGY)?;
    configure(&conn, "J01", "AlignedDataCtrlr", "Interval", "2")?;
    // The EVSE with the transaction: in TransactionEvent (triggerReason MeterValueClock) or
    // MeterValues; two readings.
    let mut readings = 0;
    let deadline = clock::now_ms() + 10_000;
    while readings < 2 && clock::now_ms() < deadline {
        if let Ok(call) = kit::expect(&conn, "J01.FR.22", TX, 250) {
            kit::reply(&conn, "J01", &call, TX, json!({}))?;
            if call.payload["triggerReason"] == "MeterValueClock" {
                readings_are("J01.FR.08", at(&call.payload, "/meterValue/0"), "Sample.Clock")?;
                readings += 1;
            }
        }
        if let Ok(call) = kit::expect(&conn, "J01.FR.22", "MeterValues", 250) {
            kit::reply(&conn, "J01", &call, "MeterValues", json!({}))?;
            if call.payload["evseId"] == kit::evse_id() {
                readings_are("J01.FR.08", at(&call.payload, "/meterValue/0"), "Sample.Clock")?;
                readings += 1;
            }
        }
    }
    kit::check(readings >= 2, "J01.FR.22", format!("two clock-aligned readings of EVSE {} within 10 s (interval 2 s)", kit::evse_id()), || {
        format!("{readings} readings")
    })
}

fn tc_j_03() -> Step {
    let (conn, _) = kit::reach_station(StationState::EnergyTransferStarted, kit::evse_id(), &[TX])?;
    configure(&conn, "J01", "SampledDataCtrlr", "TxEndedMeasurands", "")?;
    configure(&conn, "J01", "AlignedDataCtrlr", "TxEndedMeasurands", ENERGY)?;
    configure(&conn, "J01", "AlignedDataCtrlr", "TxEndedInterval", "1")?;
    let ended = super::session_ended(&conn, "E06", 4)?;
    let values = ended["meterValue"].as_array().cloned().unwrap_or_default();
    kit::check(values.len() >= 2, "E06.FR.11", "the Ended event with the clock-aligned readings of the transaction", || ended.to_string())?;
    for mv in &values {
        readings_are("J01.FR.08", mv, "Sample.Clock")?;
    }
    spaced("J01.FR.08", &values.iter().map(|v| v["timestamp"].clone()).collect::<Vec<_>>(), 1)
}

fn tc_j_07() -> Step {
    let conn = super::booted(300)?;
    // Part 6's configuration state: TxStartPoint contains EVConnected.
    if !super::TxStart::configured().started(true, false) {
        super::prerequisite(&conn, "J02", "TxCtrlr", "TxStartPoint", "EVConnected")?;
    }
    configure(&conn, "J02", "SampledDataCtrlr", "TxStartedMeasurands", ENERGY)?;
    conn.claim(&[TX.into()]);
    // EVConnectedPreSession (TxStartPoint EVConnected starts the transaction), then
    // EnergyTransferStarted.
    kit::plug_in(kit::evse_id())?;
    let started = next_tx_event(&conn, "E02.FR.09", 10_000)?;
    kit::check(started["eventType"] == "Started", "E02.FR.09", "TransactionEvent Started when the cable is plugged in", || started.to_string())?;
    let mv = at(&started, "/meterValue/0").clone();
    kit::check(!mv.is_null(), "E02.FR.09", "meterValue in the Started event", || started.to_string())?;
    readings_are("J02.FR.04", &mv, "Transaction.Begin")?;
    kit::present_token(&kit::valid_token())?;
    for _ in 0..4 {
        if next_tx_event(&conn, "E02", 10_000)?["triggerReason"] == "Authorized" {
            break;
        }
    }
    kit::pilot(kit::evse_id(), kit::PilotState::C)?;
    // The session ends within the case, so that the next one finds the station idle.
    super::session_ended(&conn, "E06", 0).map(drop)
}

fn tc_j_10() -> Step {
    let (conn, _) = kit::reach_station(StationState::EnergyTransferStarted, kit::evse_id(), &[TX])?;
    configure(&conn, "J02", "AlignedDataCtrlr", "TxEndedMeasurands", "")?;
    configure(&conn, "J02", "SampledDataCtrlr", "TxEndedMeasurands", ENERGY)?;
    configure(&conn, "J02", "SampledDataCtrlr", "TxEndedInterval", "1")?;
    let ended = super::session_ended(&conn, "E06", 4)?;
    let values = ended["meterValue"].as_array().cloned().unwrap_or_default();
    let periodic: Vec<&Value> = values.iter().filter(|v| at(v, "/sampledValue/0/context") == "Sample.Periodic").collect();
    let end = values.iter().filter(|v| at(v, "/sampledValue/0/context") == "Transaction.End").count();
    kit::check(periodic.len() >= 2 && end == 1, "E06.FR.11", "the Ended event with Sample.Periodic readings and one Transaction.End", || {
        ended.to_string()
    })?;
    for mv in &periodic {
        readings_are("J02.FR.04", mv, "Sample.Periodic")?;
    }
    // The first reading may be older than the 1 s interval (taken when the transaction began,
    // before the case set it: seen 13 s before the next on a loaded run): the spacing is that
    // of the readings after it.
    let stamps: Vec<Value> = periodic.iter().skip(1).map(|v| v["timestamp"].clone()).collect();
    spaced("J02.FR.04", &stamps, 1)
}
