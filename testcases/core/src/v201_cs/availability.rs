//! Block G, availability, for a charging-station DUT (part 6 §2.7): ChangeAvailability of a
//! connector (G03 with `evse.connectorId`), an EVSE (G03) and the whole station (G04), from
//! each state to each, during a transaction, and across a reboot (G03.FR.08, G04.FR.09).
//!
//! A station may report a connector's availability with StatusNotification or with NotifyEvent
//! of the Connector's AvailabilityState (part 6 lists both); either is accepted.
use serde_json::{Value, json};

use crate::{
    Case,
    kit::{self, Connection, Step, at, now},
};

/// What a ChangeAvailability is for.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Scope {
    Station,
    Evse,
    Connector,
}

impl Scope {
    /// The request's `evse` field for the EVSE / connector under test (absent: the whole
    /// station).
    fn payload(self, operational: &str) -> Value {
        match self {
            Scope::Station => json!({"operationalStatus": operational}),
            Scope::Evse => json!({"operationalStatus": operational, "evse": {"id": kit::evse_id()}}),
            Scope::Connector => json!({"operationalStatus": operational, "evse": {"id": kit::evse_id(), "connectorId": kit::connector_id()}}),
        }
    }
}

use super::{REPORTS, SESSION, connector_is as reported, next_report, next_report_noting, no_report, station_case as case};

pub(crate) fn cases() -> Vec<Case> {
    vec![
        case(
            "TC_G_06_CS",
            "ChangeAvailability Operative for an unavailable station: Accepted, connectors Available again",
            &["G04.FR.01", "G04.FR.02", "G04.FR.03", "G04.FR.05", "G04.FR.08"],
            &[],
            tc_g_06,
        ),
        case(
            "TC_G_07_CS",
            "ChangeAvailability Inoperative for one connector: Accepted, the connector Unavailable",
            &["G03.FR.01", "G03.FR.02", "G03.FR.04", "G03.FR.06"],
            &[],
            tc_g_07,
        ),
        case(
            "TC_G_08_CS",
            "ChangeAvailability Operative for an unavailable connector: Accepted, the connector Available",
            &["G03.FR.01", "G03.FR.02", "G03.FR.04", "G03.FR.07"],
            &[],
            tc_g_08,
        ),
        case(
            "TC_G_09_CS",
            "ChangeAvailability Operative for an operative EVSE is Accepted and changes nothing",
            &["G03.FR.01", "G03.FR.02", "G03.FR.03", "G03.FR.04"],
            &[],
            tc_g_09,
        ),
        case(
            "TC_G_10_CS",
            "ChangeAvailability Inoperative for an unavailable EVSE is Accepted and it stays Unavailable",
            &["G03.FR.01", "G03.FR.02", "G03.FR.03", "G03.FR.04"],
            &[],
            tc_g_10,
        ),
        case(
            "TC_G_12_CS",
            "ChangeAvailability Operative for an operative station is Accepted and changes nothing",
            &["G04.FR.01", "G04.FR.02", "G04.FR.03", "G04.FR.04", "G04.FR.05"],
            &[],
            tc_g_12,
        ),
        case(
            "TC_G_13_CS",
            "ChangeAvailability Inoperative for an unavailable station is Accepted and it stays Unavailable",
            &["G04.FR.01", "G04.FR.02", "G04.FR.03", "G04.FR.04", "G04.FR.05"],
            &[],
            tc_g_13,
        ),
        case(
            "TC_G_14_CS",
            "ChangeAvailability Inoperative for the station during a transaction is Scheduled and applied when it ends",
            &["G04.FR.01", "G04.FR.02", "G04.FR.03", "G04.FR.05", "G04.FR.06"],
            SESSION,
            tc_g_14,
        ),
        case(
            "TC_G_15_CS",
            "ChangeAvailability Operative for an operative connector is Accepted and changes nothing",
            &["G03.FR.01", "G03.FR.02", "G03.FR.03", "G03.FR.04"],
            &[],
            tc_g_15,
        ),
        case(
            "TC_G_16_CS",
            "ChangeAvailability Inoperative for an unavailable connector is Accepted and it stays Unavailable",
            &["G03.FR.01", "G03.FR.02", "G03.FR.03", "G03.FR.04"],
            &[],
            tc_g_16,
        ),
        case(
            "TC_G_17_CS",
            "ChangeAvailability Inoperative for a connector during a transaction is Scheduled and applied when it ends",
            &["G03.FR.01", "G03.FR.02", "G03.FR.04", "G03.FR.05"],
            SESSION,
            tc_g_17,
        ),
        case("TC_G_18_CS", "An unavailable EVSE is still Unavailable after a reboot", &["G03.FR.08", "G01.FR.01"], &[], tc_g_18),
        case("TC_G_19_CS", "An unavailable connector is still Unavailable after a reboot", &["G03.FR.08"], &[], tc_g_19),
        case("TC_G_21_CS", "An unavailable station is still Unavailable after a reboot", &["G04.FR.09"], &[], tc_g_21),
        case(
            "TC_B_51_CS",
            "A cable plugged in while offline for longer than OfflineThreshold: back online the station reports every connector, the one under test Occupied",
            &["B04.FR.01"],
            &["plug", "network"],
            tc_b_51,
        ),
        case(
            "TC_B_52_CS",
            "A cable plugged in while offline for less than OfflineThreshold: back online the station reports the connector that changed, Occupied",
            &["B04.FR.02"],
            &["plug", "network"],
            tc_b_52,
        ),
        case(
            "TC_B_23_CS",
            "Reset OnIdle with an unavailable connector: the station reboots with RemoteReset and the connector is still Unavailable",
            &["B11.FR.01", "B11.FR.02", "B11.FR.03", "B11.FR.04", "B01.FR.03"],
            &[],
            tc_b_23,
        ),
    ]
}

pub(super) fn change(conn: &Connection, req: &str, scope: Scope, operational: &str, expected: &str) -> Step {
    let r = kit::call(conn, req, "ChangeAvailability", scope.payload(operational), 10_000)?;
    kit::check(r["status"] == expected, req, format!("ChangeAvailability {operational} answered {expected}"), || r.to_string())
}

/// A registered station whose availability reports are held for the case.
pub(super) fn ready() -> Step<Connection> {
    let conn = super::booted(300)?;
    conn.claim(&REPORTS.map(String::from));
    Ok(conn)
}

/// Reusable state Unavailable (part 6 table 425) for `scope`: Accepted, then reported.
pub(super) fn unavailable(conn: &Connection, scope: Scope) -> Step {
    change(conn, "G03", scope, "Inoperative", "Accepted")
        .map_err(|v| kit::Verdict::Inconclusive(format!("reusable state Unavailable not reached: {v:?}")))?;
    reported(conn, "G03", "Unavailable").map_err(|v| kit::Verdict::Inconclusive(format!("reusable state Unavailable not reached: {v:?}")))
}

/// Nothing changes: no report that the connector became something else within a second.
fn unchanged(conn: &Connection, req: &str, still: &str) -> Step {
    match next_report(conn, req, 1_000)? {
        Some(s) if s != still => Err(kit::fail(req, format!("the connector to stay {still}"), format!("it reported {s}"))),
        _ => Ok(()),
    }
}

fn tc_g_06() -> Step {
    let conn = ready()?;
    unavailable(&conn, Scope::Station)?;
    change(&conn, "G04.FR.03", Scope::Station, "Operative", "Accepted")?;
    reported(&conn, "G04.FR.08", "Available")
}

fn tc_g_07() -> Step {
    let conn = ready()?;
    change(&conn, "G03.FR.02", Scope::Connector, "Inoperative", "Accepted")?;
    reported(&conn, "G03.FR.06", "Unavailable")
}

fn tc_g_08() -> Step {
    let conn = ready()?;
    unavailable(&conn, Scope::Connector)?;
    change(&conn, "G03.FR.02", Scope::Connector, "Operative", "Accepted")?;
    reported(&conn, "G03.FR.07", "Available")
}

fn tc_g_09() -> Step {
    let conn = ready()?;
    change(&conn, "G03.FR.03", Scope::Evse, "Operative", "Accepted")?;
    unchanged(&conn, "G03.FR.03", "Available")
}

fn tc_g_10() -> Step {
    let conn = ready()?;
    unavailable(&conn, Scope::Evse)?;
    change(&conn, "G03.FR.03", Scope::Evse, "Inoperative", "Accepted")?;
    unchanged(&conn, "G03.FR.03", "Unavailable")
}

fn tc_g_12() -> Step {
    let conn = ready()?;
    change(&conn, "G04.FR.04", Scope::Station, "Operative", "Accepted")?;
    unchanged(&conn, "G04.FR.04", "Available")
}

fn tc_g_13() -> Step {
    let conn = ready()?;
    unavailable(&conn, Scope::Station)?;
    change(&conn, "G04.FR.04", Scope::Station, "Inoperative", "Accepted")?;
    unchanged(&conn, "G04.FR.04", "Unavailable")
}

/// During a transaction the change waits for its end: Scheduled, no report while it goes on,
/// Unavailable once the driver stopped and unplugged.
fn scheduled_during_transaction(scope: Scope, req: &str) -> Step {
    let (conn, _) = kit::reach_station(kit::StationState::EnergyTransferStarted, kit::evse_id(), &REPORTS)?;
    change(&conn, req, scope, "Inoperative", "Scheduled")?;
    no_report(&conn, req, 1_000, "while the transaction goes on")?;
    // StopAuthorized, then EVDisconnected: the same token ends it, the cable goes.
    kit::present_token(&kit::valid_token())?;
    kit::unplug(kit::evse_id())?;
    let deadline = kit::clock::now_ms() + 10_000;
    loop {
        match next_report(&conn, req, 2_000)? {
            Some(s) if s == "Unavailable" => return Ok(()),
            Some(_) if kit::clock::now_ms() < deadline => continue,
            got => return Err(kit::fail(req, "the connector Unavailable once the transaction ended", format!("last report {got:?}"))),
        }
    }
}

fn tc_g_14() -> Step {
    scheduled_during_transaction(Scope::Station, "G04.FR.06")
}

fn tc_g_15() -> Step {
    let conn = ready()?;
    change(&conn, "G03.FR.03", Scope::Connector, "Operative", "Accepted")?;
    unchanged(&conn, "G03.FR.03", "Available")
}

fn tc_g_16() -> Step {
    let conn = ready()?;
    unavailable(&conn, Scope::Connector)?;
    change(&conn, "G03.FR.03", Scope::Connector, "Inoperative", "Accepted")?;
    unchanged(&conn, "G03.FR.03", "Unavailable")
}

fn tc_g_17() -> Step {
    scheduled_during_transaction(Scope::Connector, "G03.FR.05")
}

/// Unavailable for `scope`, then reusable state Booted (a reboot the harness makes): after the
/// boot the connector is reported Unavailable again.
fn persists_reboot(scope: Scope, req: &str) -> Step {
    let conn = ready()?;
    unavailable(&conn, scope)?;
    let (conn, _) = super::rebooted(&["BootNotification", "StatusNotification", "NotifyEvent", "SecurityEventNotification"])?;
    kit::expect_and_reply(&conn, "B01", "BootNotification", 10_000, json!({"currentTime": now(), "interval": 300, "status": "Accepted"}))?;
    // Part 6 steps 4-6: the connectors' statuses and the start-up security event, taken in
    // whatever order the station sends them (one left waiting would hold the other back).
    let deadline = kit::clock::now_ms() + 10_000;
    let (mut unavailable, mut seen, mut event, mut others) = (false, vec![], None::<Value>, vec![]);
    while kit::clock::now_ms() < deadline && (!unavailable || event.is_none()) {
        if !unavailable {
            match next_report_noting(&conn, req, 300, &mut others)? {
                Some(s) if s == "Unavailable" => unavailable = true,
                Some(s) => seen.push(s),
                None => {}
            }
        }
        if event.is_none() {
            if let Ok(call) = kit::expect(&conn, "A04.FR.01", "SecurityEventNotification", 150) {
                kit::reply(&conn, "A04.FR.01", &call, "SecurityEventNotification", json!({}))?;
                event = Some(call.payload);
            }
        }
    }
    if !unavailable {
        return Err(super::not_reported(req, "Unavailable", &seen, &others));
    }
    let kind = event.as_ref().map(|e| e["type"].clone()).unwrap_or_default();
    kit::check(kind == "StartupOfTheDevice" || kind == "ResetOrReboot", "A04.FR.01", "a SecurityEventNotification StartupOfTheDevice or ResetOrReboot after the boot", || {
        if event.is_none() { "none within 10 s".to_string() } else { format!("type {kind}") }
    })
}

fn tc_g_18() -> Step {
    persists_reboot(Scope::Evse, "G03.FR.08")
}

fn tc_g_19() -> Step {
    persists_reboot(Scope::Connector, "G03.FR.08")
}

fn tc_g_21() -> Step {
    persists_reboot(Scope::Station, "G04.FR.09")
}

fn tc_b_23() -> Step {
    let conn = ready()?;
    unavailable(&conn, Scope::Connector)?;
    let r = kit::call(&conn, "B11.FR.01", "Reset", json!({"type": "OnIdle"}), 10_000)?;
    kit::check(r["status"] == "Accepted", "B11.FR.01", "Reset OnIdle Accepted with no transaction", || r.to_string())?;
    let _ = conn.expect_close(15_000);
    let again = kit::accept_station("B11.FR.03", 15_000, &["BootNotification", "StatusNotification", "NotifyEvent"])?;
    let boot =
        kit::expect_and_reply(&again, "B11.FR.03", "BootNotification", 10_000, json!({"currentTime": now(), "interval": 300, "status": "Accepted"}))?;
    kit::check(at(&boot, "/reason") == "RemoteReset", "B11.FR.03", "boot reason RemoteReset", || format!("reason {}", at(&boot, "/reason")))?;
    reported(&again, "B11.FR.04", "Unavailable")
}

/// Offline (the CSMS unreachable) for `offline_ms` with OfflineThreshold `threshold_s`; the
/// cable goes in meanwhile. Back online, the connector under test must be reported Occupied.
fn status_after_offline(req: &str, threshold_s: u32, offline_ms: u32) -> Step {
    let conn = ready()?;
    super::configure(&conn, req, "OCPPCommCtrlr", "OfflineThreshold", &threshold_s.to_string())?;
    kit::network(false)?;
    let _ = conn.expect_close(10_000);
    kit::plug_in(kit::evse_id())?;
    kit::mandated("offline for the time the case is about", || kit::clock::sleep_ms(offline_ms));
    kit::network(true)?;
    let again = kit::accept_station(req, 15_000, &REPORTS)?;
    reported(&again, req, "Occupied")
}

fn tc_b_51() -> Step {
    status_after_offline("B04.FR.01", 2, 3_500)
}

fn tc_b_52() -> Step {
    status_after_offline("B04.FR.02", 60, 1_000)
}
