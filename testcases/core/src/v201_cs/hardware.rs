//! Cases that look at the station's hardware through the bench, not only at its messages:
//! what a contactor's auxiliary contact (capability `digital-input`) and a relay on the
//! cabinet's tamper switch (capability `relay`) show against what the station reports. They
//! run where a lab wires these lines (and against the reference station, which has them);
//! elsewhere they are skipped.
use serde_json::json;

use super::{TX, tx_id};
use crate::{
    Case,
    kit::{self, Role, StationState, Step, V201},
};

/// The contactor of the EVSE under test, as the bench reads its auxiliary contact.
fn contactor() -> String {
    format!("contactor-{}", kit::evse_id())
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        Case {
            id: "OH_E_02_CS",
            title: "The contactor is open without an EV, closed while the station reports Charging, open once the driver's token ends it",
            role: Role::Csms,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["ChargingStateEnumType", "E07.FR.01"],
            needs: &["plug", "token-reader", "pilot", "digital-input"],
            timeout_ms: 40_000,
            run: oh_e_02,
        },
        Case {
            id: "OH_A_03_CS",
            title: "Opening the cabinet's tamper switch is reported as a security event",
            role: Role::Csms,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["A04.FR.01"],
            needs: &["relay"],
            timeout_ms: 30_000,
            run: oh_a_03,
        },
    ]
}

/// How long a contactor may take to follow the state the station reports: DUT parameter
/// `contactor-settle-ms` (by default 2 s; contactors move in tens of ms, a station may report
/// a little before it switches).
fn settle_ms() -> u32 {
    kit::config::parameter("contactor-settle-ms").and_then(|v| v.trim().parse().ok()).unwrap_or(2_000)
}

/// Part 2 §3.16 (ChargingStateEnumType): Charging means the contactor is closed and energy
/// flows; Idle means no EV. E07.FR.01: ending the authorization ends the delivery of energy.
fn oh_e_02() -> Step {
    let settle = settle_ms();
    kit::ready_station(&[])?;
    kit::input_reads(&contactor(), false, settle, "ChargingStateEnumType", "the contactor open while no EV is connected (Idle)")?;
    // Reusable state EnergyTransferStarted: the station has reported chargingState Charging.
    let (conn, tx) = kit::reach_station(StationState::EnergyTransferStarted, kit::evse_id(), &[TX])?;
    let took = kit::input_reads(&contactor(), true, settle, "ChargingStateEnumType", "the contactor closed while the station reports Charging")?;
    kit::info(format!("contactor closed {took} ms after the Charging report"));
    kit::present_token(&kit::valid_token())?;
    let ev = super::stop_authorized(&conn, "E07.FR.01", false, true)?;
    let tx = tx.unwrap_or_default();
    kit::check(tx_id(&ev) == tx, "E07.FR.01", format!("transaction {tx} ended"), || tx_id(&ev))?;
    kit::input_reads(&contactor(), false, settle, "E07.FR.01", "the contactor open once the token ended the transaction")?;
    Ok(())
}

/// A04.FR.01: the tamper sensor is a critical security event (part 2 appendix, security
/// events), sent when it happens: within the lab's response time. Other events the station
/// reports meanwhile are answered and passed over.
fn oh_a_03() -> Step {
    let conn = kit::ready_station(&["SecurityEventNotification"])?;
    kit::relay("tamper", true)?;
    let reported = tamper_reported(&conn);
    // Closed again whatever the verdict: a bench whose relays the safe state does not know
    // (an HTTP module) must not leave the cabinet "open" for the next case.
    kit::relay("tamper", false)?;
    reported
}

fn tamper_reported(conn: &kit::Connection) -> Step {
    let req = "A04.FR.01";
    let within = kit::config::lab_timing().response_ms;
    let deadline = kit::clock::now_ms() + u64::from(within);
    let mut seen = vec![];
    while kit::clock::now_ms() < deadline {
        let Ok(call) = kit::expect(conn, req, "SecurityEventNotification", 1_000) else { continue };
        kit::reply(conn, req, &call, "SecurityEventNotification", json!({}))?;
        let kind = call.payload["type"].as_str().unwrap_or_default().to_string();
        if kind == "TamperDetectionActivated" {
            return kit::check_clock(req, "the event's timestamp", &call.payload["timestamp"]);
        }
        seen.push(kind);
    }
    let expected = format!("SecurityEventNotification TamperDetectionActivated within {within} ms of the tamper switch opening");
    Err(kit::fail(req, expected, if seen.is_empty() { "no security event".into() } else { format!("only {}", seen.join(", ")) }))
}
