//! 1.6 reservations of the reference station (§3.11, §5.13, §5.2): a connector held for one
//! idTag until the expiry date, the transaction that uses it, cancelling.
//!
//! Connector 0 (the whole charge point) is not reservable here: `ReserveConnectorZeroSupported`
//! is false, so such a request is Rejected — what a lab sees from most chargers.
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Pilot, Station};
use crate::Fault;

#[derive(Debug, Clone)]
pub(super) struct Reservation {
    pub(super) id: i64,
    pub(super) token: String,
    pub(super) expires: Instant,
}

/// ReserveNow: the status to answer (§5.13). A reservation with the id of one held replaces it.
pub(super) fn reserve(st: &mut Station, p: &Value) -> &'static str {
    let connector = p["connectorId"].as_u64().unwrap_or(0) as u32;
    let id = p["reservationId"].as_i64().unwrap_or(0);
    let Some(i) = st.evse_index(connector) else { return "Rejected" };
    let e = &st.evses[i];
    let held_by_other = e.reservation.as_ref().is_some_and(|r| r.id != id);
    let status = if e.fault.is_some() || matches!(e.pilot, Pilot::E | Pilot::F) {
        "Faulted"
    } else if !e.operative {
        "Unavailable"
    } else if e.tx.is_some() || e.plugged || e.auth.is_some() || held_by_other {
        "Occupied"
    } else {
        "Accepted"
    };
    if status != "Accepted" {
        return status;
    }
    for other in st.evses.iter_mut().filter(|o| o.reservation.as_ref().is_some_and(|r| r.id == id)) {
        other.reservation = None;
    }
    let token = p["idTag"].as_str().unwrap_or_default().to_string();
    let expires = Instant::now() + super::firmware::until(&p["expiryDate"]);
    st.evses[i].reservation = Some(Reservation { id, token, expires });
    st.refresh_status(i);
    "Accepted"
}

/// CancelReservation: Accepted when a reservation with that id is held (§5.2).
pub(super) fn cancel(st: &mut Station, id: i64) -> &'static str {
    let Some(i) = st.evses.iter().position(|e| e.reservation.as_ref().is_some_and(|r| r.id == id)) else { return "Rejected" };
    st.evses[i].reservation = None;
    st.refresh_status(i);
    "Accepted"
}

/// Whether `token` may use connector `i`: not reserved, or reserved for it.
pub(super) fn free_for(st: &Station, i: usize, token: &str) -> bool {
    // Fault ignore-reservation: Reserved in name only.
    st.cfg.faults.has(&Fault::IgnoreReservation) || st.evses[i].reservation.as_ref().is_none_or(|r| r.token == token)
}

/// The connector reserved for `token`, if any.
pub(super) fn held_for(st: &Station, token: &str) -> Option<usize> {
    st.evses.iter().position(|e| e.reservation.as_ref().is_some_and(|r| r.token == token))
}

/// A transaction starts on connector `i`: the reservation it uses ends, its id goes into the
/// StartTransaction (§3.11).
pub(super) fn take_for_start(st: &mut Station, i: usize) -> Option<i64> {
    let token = st.evses[i].tx.as_ref()?.auth.as_ref()?.token.clone();
    let r = st.evses[i].reservation.take_if(|r| r.token == token)?;
    Some(r.id)
}

/// Reservations past their expiry date end; the connector is Available again.
pub(super) fn tick(st: &mut Station, now: Instant) {
    for i in 0..st.evses.len() {
        if st.evses[i].reservation.take_if(|r| r.expires <= now).is_some() {
            st.refresh_status(i);
        }
    }
}

pub(super) fn next(st: &Station) -> Option<Instant> {
    st.evses.iter().filter_map(|e| e.reservation.as_ref().map(|r| r.expires)).min()
}

/// ReserveNow and CancelReservation answers.
pub(super) fn on_call(st: &mut Station, action: &str, p: &Value) -> Option<Value> {
    match action {
        "ReserveNow" => Some(json!({"status": reserve(st, p)})),
        "CancelReservation" => Some(json!({"status": cancel(st, p["reservationId"].as_i64().unwrap_or(0))})),
        _ => None,
    }
}
