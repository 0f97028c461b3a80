//! Reservations of the reference station: a connector (1.6 §3.11, §5.13, §5.2) or an EVSE
//! (2.x use cases H01-H04) held for one token until the expiry date, the transaction that uses
//! it, cancelling, and (2.x) the ReservationStatusUpdate when it expires or is removed.
//!
//! Connector 0 (the whole charge point) is not reservable here: `ReserveConnectorZeroSupported`
//! is false, so such a request is Rejected — what a lab sees from most chargers. At 2.x a
//! reservation may name no EVSE (`ReservationCtrlr.NonEvseSpecific` true; variant
//! `evse-specific-reservations`: false, and such a request is Rejected, H01.FR.19): the station
//! holds the first free EVSE for the token (H01.FR.07) and lets the token charge on whichever
//! EVSE it is presented at (H03.FR.03).
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Pilot, Station};
use crate::Fault;

#[derive(Debug, Clone)]
pub(super) struct Reservation {
    pub(super) id: i64,
    pub(super) token: String,
    pub(super) expires: Instant,
    /// 2.x: the groupIdToken whose members may use it too (H03.FR.04).
    pub(super) group: Option<String>,
    /// 2.x: made without an evseId: held here, used on any EVSE (H03.FR.03).
    pub(super) floating: bool,
}

impl Reservation {
    /// Whether `token` may use it: its own token, or (2.x) one of its group, as the CSMS's
    /// answer to that token's Authorize told.
    fn for_token(&self, st: &Station, token: &str) -> bool {
        self.token == token || self.group.as_ref().is_some_and(|g| st.groups.get(token) == Some(g))
    }
}

/// The connector type of the reference station's cabled connectors.
pub(super) const CONNECTOR_TYPE: &str = "cType2";

/// ReserveNow: the status to answer (1.6 §5.13; 2.x H01). A reservation with the id of one
/// held replaces it (H01.FR.02).
pub(super) fn reserve(st: &mut Station, p: &Value) -> &'static str {
    let (evse, id, token, expiry) = if st.v16 {
        (p["connectorId"].as_u64(), p["reservationId"].as_i64().unwrap_or(0), p["idTag"].as_str(), &p["expiryDate"])
    } else {
        (p["evseId"].as_u64(), p["id"].as_i64().unwrap_or(0), p["idToken"]["idToken"].as_str(), &p["expiryDateTime"])
    };
    if !st.v16 {
        // H01.FR.01: reservations switched off; H01.FR.19: no EVSE named where the station
        // takes only named ones; a connector type this station does not have.
        let setting = |k: &str| st.settings.get(k).is_some_and(|(v, _)| v == "true");
        let wrong_type = p["connectorType"].as_str().is_some_and(|t| t != CONNECTOR_TYPE);
        if !setting("ReservationCtrlr.Enabled") || (evse.is_none() && !setting("ReservationCtrlr.NonEvseSpecific")) || wrong_type {
            return "Rejected";
        }
    }
    let i = match evse {
        Some(e) => match st.evse_index(e as u32) {
            Some(i) => i,
            None => return "Rejected",
        },
        // H01.FR.04/06: the first EVSE that can take it; else what all of them are
        // (H01.FR.11-14).
        None if !st.v16 => {
            let all: Vec<&'static str> = (0..st.evses.len()).map(|k| evse_status(st, k, id)).collect();
            match all.iter().position(|s| *s == "Accepted") {
                Some(i) => i,
                None if all.iter().all(|s| *s == "Faulted") => return "Faulted",
                None if all.iter().all(|s| *s == "Unavailable") => return "Unavailable",
                None => return "Occupied",
            }
        }
        None => return "Rejected",
    };
    let status = evse_status(st, i, id);
    if status != "Accepted" {
        return status;
    }
    for other in st.evses.iter_mut().filter(|o| o.reservation.as_ref().is_some_and(|r| r.id == id)) {
        other.reservation = None;
    }
    let token = token.unwrap_or_default().to_string();
    let expires = Instant::now() + super::firmware::until(expiry);
    let group = p["groupIdToken"]["idToken"].as_str().map(str::to_string);
    st.evses[i].reservation = Some(Reservation { id, token, expires, group, floating: evse.is_none() });
    st.refresh_status(i);
    "Accepted"
}

/// What EVSE index `i` would answer to reservation `id`.
fn evse_status(st: &Station, i: usize, id: i64) -> &'static str {
    let e = &st.evses[i];
    let held_by_other = e.reservation.as_ref().is_some_and(|r| r.id != id);
    if e.fault.is_some() || matches!(e.pilot, Pilot::E | Pilot::F) {
        "Faulted"
    } else if !e.operative {
        "Unavailable"
    } else if e.tx.is_some() || e.plugged || e.auth.is_some() || held_by_other {
        "Occupied"
    } else {
        "Accepted"
    }
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
    st.cfg.faults.has(&Fault::IgnoreReservation) || st.evses[i].reservation.as_ref().is_none_or(|r| r.for_token(st, token))
}

/// The connector reserved for `token`, if any.
pub(super) fn held_for(st: &Station, token: &str) -> Option<usize> {
    st.evses.iter().position(|e| e.reservation.as_ref().is_some_and(|r| r.for_token(st, token)))
}

/// A transaction starts on connector `i`: the reservation it uses ends, its id goes into the
/// StartTransaction (§3.11).
pub(super) fn take_for_start(st: &mut Station, i: usize) -> Option<i64> {
    let token = st.evses[i].tx.as_ref()?.auth.as_ref()?.token.clone();
    let r = st.evses[i].reservation.take_if(|r| r.token == token)?;
    Some(r.id)
}

/// 2.x: the token that holds EVSE `i`'s reservation was authorized there: the reservation is
/// used (H03.FR.09) and its id goes into the next TransactionEvent (H01.FR.15).
pub(super) fn take_for_token(st: &mut Station, i: usize, token: &str) -> Option<i64> {
    let ours = |k: usize, floating: bool| st.evses[k].reservation.as_ref().is_some_and(|r| r.for_token(st, token) && (r.floating || !floating));
    // A reservation of no EVSE in particular is used where the token is (H03.FR.03).
    let k = if ours(i, false) { i } else { (0..st.evses.len()).find(|&k| ours(k, true))? };
    let id = st.evses[k].reservation.take().map(|r| r.id);
    if k != i {
        st.refresh_status(k);
    }
    id
}

/// Reservations past their expiry date end; the connector is Available again, and at 2.x
/// the CSMS is told (H04.FR.01).
pub(super) fn tick(st: &mut Station, now: Instant) {
    for i in 0..st.evses.len() {
        if let Some(r) = st.evses[i].reservation.take_if(|r| r.expires <= now) {
            status_update(st, r.id, "Expired");
            st.refresh_status(i);
        }
    }
}

/// 2.x: an EVSE that became Faulted or Unavailable loses its reservation, and the CSMS is told
/// (H01.FR.16, H01.FR.17).
pub(super) fn remove_if_unusable(st: &mut Station, i: usize) {
    let e = &st.evses[i];
    let unusable = !e.operative || e.fault.is_some() || matches!(e.pilot, Pilot::E | Pilot::F);
    if st.v16 || !unusable {
        return;
    }
    if let Some(r) = st.evses[i].reservation.take() {
        status_update(st, r.id, "Removed");
    }
}

fn status_update(st: &mut Station, id: i64, status: &str) {
    if !st.v16 && !st.cfg.faults.has(&Fault::NoReservationUpdate) {
        st.enqueue(super::Out::call("ReservationStatusUpdate", json!({"reservationId": id, "reservationUpdateStatus": status})));
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
