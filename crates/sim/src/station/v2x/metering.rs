//! 2.x meter values beyond the periodic samples of a transaction (J01, J02): clock-aligned
//! readings (AlignedDataCtrlr.Interval, on the wall clock's multiples of the interval) sent as
//! MeterValues for an idle EVSE and in TransactionEvent for one with a transaction, and the
//! samples a transaction's Ended event carries (SampledDataCtrlr.TxEndedInterval and
//! AlignedDataCtrlr.TxEndedInterval). The simulated meter has one measurand, the energy
//! register; an empty measurand list means no values of that kind.
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use tokio::time::Instant;

use super::super::{Out, Station};
use super::meter_value;
use crate::Fault;

fn seconds(st: &Station, key: &str) -> u64 {
    st.settings.get(key).and_then(|(v, _)| v.parse().ok()).unwrap_or(0)
}

/// The configured measurands of a list setting.
pub(in crate::station) fn measurands(st: &Station, key: &str) -> Vec<String> {
    st.settings.get(key).map(|(v, _)| v.split(',').map(str::trim).filter(|m| !m.is_empty()).map(str::to_string).collect()).unwrap_or_default()
}

/// The next multiple of `interval` seconds of the wall clock (aligned to midnight for any
/// interval that divides a day).
fn next_aligned(interval: u64) -> Instant {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let period = Duration::from_secs(interval);
    let into = Duration::from_nanos((now.as_nanos() % period.as_nanos()) as u64);
    Instant::now() + (period - into)
}

/// When `tick` has work next; now when a timer must be armed first.
pub(in crate::station) fn next(st: &Station) -> Option<Instant> {
    let now = Instant::now();
    let aligned = (seconds(st, "AlignedDataCtrlr.Interval") > 0).then(|| st.aligned_next.unwrap_or(now));
    let sampled_end = seconds(st, "SampledDataCtrlr.TxEndedInterval") > 0;
    let aligned_end = seconds(st, "AlignedDataCtrlr.TxEndedInterval") > 0;
    let ended = st.evses.iter().filter_map(|e| e.tx.as_ref()).flat_map(|t| {
        [sampled_end.then(|| t.ended_next.unwrap_or(now)), aligned_end.then(|| t.ended_aligned_next.unwrap_or(now))]
    });
    aligned.into_iter().chain(ended.flatten()).min()
}

pub(in crate::station) fn tick(st: &mut Station, now: Instant) {
    clock_aligned(st, now);
    ended_samples(st, now);
}

fn clock_aligned(st: &mut Station, now: Instant) {
    let interval = seconds(st, "AlignedDataCtrlr.Interval");
    if interval == 0 {
        st.aligned_next = None;
        return;
    }
    match st.aligned_next {
        None => st.aligned_next = Some(next_aligned(interval)),
        Some(t) if t <= now => {
            st.aligned_next = Some(next_aligned(interval));
            if measurands(st, "AlignedDataCtrlr.Measurands").is_empty() {
                return;
            }
            let context = if st.cfg.faults.has(&Fault::WrongReadingContext) { "Sample.Periodic" } else { "Sample.Clock" };
            for i in 0..st.evses.len() {
                st.advance_meter(i);
                let value = meter_value(&st.evses[i], context);
                if st.evses[i].tx.is_some() {
                    let mut m = super::tx_updated(st, i, super::super::Trigger::MeterValuePeriodic);
                    m.payload["triggerReason"] = json!("MeterValueClock");
                    m.payload["meterValue"] = value;
                    st.enqueue(m);
                } else {
                    st.enqueue(Out::call("MeterValues", json!({"evseId": st.evses[i].id, "meterValue": value})));
                }
            }
        }
        Some(_) => {}
    }
}

fn ended_samples(st: &mut Station, now: Instant) {
    let sampled = seconds(st, "SampledDataCtrlr.TxEndedInterval");
    let aligned = seconds(st, "AlignedDataCtrlr.TxEndedInterval");
    let take_sampled = !measurands(st, "SampledDataCtrlr.TxEndedMeasurands").is_empty();
    let take_aligned = !measurands(st, "AlignedDataCtrlr.TxEndedMeasurands").is_empty();
    let no_samples = st.cfg.faults.has(&Fault::NoEndedSamples);
    for i in 0..st.evses.len() {
        if st.evses[i].tx.is_none() {
            continue;
        }
        st.advance_meter(i);
        let periodic = meter_value(&st.evses[i], "Sample.Periodic")[0].clone();
        let clock_context = if st.cfg.faults.has(&Fault::WrongReadingContext) { "Sample.Periodic" } else { "Sample.Clock" };
        let clock = meter_value(&st.evses[i], clock_context)[0].clone();
        let Some(tx) = st.evses[i].tx.as_mut() else { continue };
        if sampled == 0 {
            tx.ended_next = None;
        } else {
            match tx.ended_next {
                None => tx.ended_next = Some(now + Duration::from_secs(sampled)),
                Some(t) if t <= now => {
                    tx.ended_next = Some(now + Duration::from_secs(sampled));
                    if take_sampled && !no_samples {
                        tx.ended_values.push(periodic);
                    }
                }
                Some(_) => {}
            }
        }
        if aligned == 0 {
            tx.ended_aligned_next = None;
        } else {
            match tx.ended_aligned_next {
                None => tx.ended_aligned_next = Some(next_aligned(aligned)),
                Some(t) if t <= now => {
                    tx.ended_aligned_next = Some(next_aligned(aligned));
                    if take_aligned {
                        tx.ended_values.push(clock);
                    }
                }
                Some(_) => {}
            }
        }
    }
}
