//! OCPP 1.6J cases where the harness is the Central System and the DUT is a charge point.
//! Ids are the OCA test tool's 1.6 ids where a case mirrors one; requirements name the 1.6
//! operation or configuration key checked (the 1.6 text has no requirement ids).
use serde_json::{Value, json};

use crate::{
    Case,
    kit::{self, *},
};

mod firmware;
mod reservation;
mod security;
mod smart_charging;

const CS: Role = Role::Csms;

pub(crate) fn cases() -> Vec<Case> {
    let mut cases = vec![
        Case {
            id: "TC_001_CS",
            title: "1.6 cold boot: the charge point registers and reports connector 0 and its connectors",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 BootNotification", "1.6 StatusNotification"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_001,
        },
        Case {
            id: "TC_002_CS",
            title: "1.6 cold boot answered Pending: nothing but a new BootNotification until accepted",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 BootNotification"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_002,
        },
        Case {
            id: "TC_003_CS",
            title: "1.6 plug in first, then badge: Preparing, Authorize, StartTransaction, Charging",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 Authorize", "1.6 StartTransaction", "1.6 StatusNotification"],
            needs: &["plug", "token-reader", "pilot"],
            timeout_ms: 30_000,
            run: tc_003,
        },
        Case {
            id: "TC_004_1_CS",
            title: "1.6 badge first, then plug in: the transaction starts when the cable is in",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 Authorize", "1.6 StartTransaction"],
            needs: &["plug", "token-reader"],
            timeout_ms: 30_000,
            run: tc_004_1,
        },
        Case {
            id: "TC_004_2_CS",
            title: "1.6 badge first and no cable within ConnectionTimeOut: back to Available, no transaction",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 ConnectionTimeOut"],
            needs: &["token-reader"],
            timeout_ms: 30_000,
            run: tc_004_2,
        },
        Case {
            id: "TC_005_1_CS",
            title: "1.6 unplugging on the EV side stops the transaction with reason EVDisconnected",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 StopTransaction"],
            needs: &["plug", "token-reader"],
            timeout_ms: 30_000,
            run: tc_005_1,
        },
        Case {
            id: "TC_010_CS",
            title: "1.6 remote start with the cable already in starts the transaction for the given idTag",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 RemoteStartTransaction"],
            needs: &["plug"],
            timeout_ms: 30_000,
            run: tc_010,
        },
        Case {
            id: "TC_011_1_CS",
            title: "1.6 remote start first, then plug in: the transaction starts on the cable",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 RemoteStartTransaction"],
            needs: &["plug"],
            timeout_ms: 30_000,
            run: tc_011_1,
        },
        Case {
            id: "TC_011_2_CS",
            title: "1.6 remote start and no cable within ConnectionTimeOut: no transaction",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 RemoteStartTransaction", "1.6 ConnectionTimeOut"],
            needs: &[],
            timeout_ms: 30_000,
            run: tc_011_2,
        },
        Case {
            id: "TC_012_CS",
            title: "1.6 remote stop ends the transaction with reason Remote",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 RemoteStopTransaction"],
            needs: &["plug"],
            timeout_ms: 30_000,
            run: tc_012,
        },
        Case {
            id: "TC_013_CS",
            title: "1.6 hard reset without a transaction: accepted, the charge point reboots",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 Reset"],
            needs: &[],
            timeout_ms: 30_000,
            run: tc_013,
        },
        Case {
            id: "TC_014_CS",
            title: "1.6 soft reset without a transaction: accepted, the charge point reboots",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 Reset"],
            needs: &[],
            timeout_ms: 30_000,
            run: tc_014,
        },
        Case {
            id: "TC_015_CS",
            title: "1.6 hard reset during a transaction stops it with reason HardReset first",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 Reset"],
            needs: &["plug"],
            timeout_ms: 30_000,
            run: tc_015,
        },
        Case {
            id: "TC_016_CS",
            title: "1.6 soft reset during a transaction stops it with reason SoftReset first",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 Reset"],
            needs: &["plug"],
            timeout_ms: 30_000,
            run: tc_016,
        },
        Case {
            id: "TC_017_1_CS",
            title: "1.6 unlock a connector with no session: Unlocked",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 UnlockConnector"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_017_1,
        },
        Case {
            id: "TC_019_CS",
            title: "1.6 GetConfiguration without keys returns every key, with the core keys among them",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 GetConfiguration", "1.6 core configuration keys"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_019,
        },
        Case {
            id: "TC_021_CS",
            title: "1.6 ChangeConfiguration of a writable key is Accepted and reads back",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 ChangeConfiguration"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_021,
        },
        Case {
            id: "TC_023_4_CS",
            title: "1.6 a badge the Central System reports Invalid starts no transaction",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 Authorize"],
            needs: &["plug", "token-reader"],
            timeout_ms: 20_000,
            run: tc_023_4,
        },
        Case {
            id: "TC_026_CS",
            title: "1.6 remote start on a connector that is already charging is Rejected",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 RemoteStartTransaction"],
            needs: &["plug"],
            timeout_ms: 30_000,
            run: tc_026,
        },
        Case {
            id: "TC_028_CS",
            title: "1.6 remote stop of an unknown transaction is Rejected",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 RemoteStopTransaction"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_028,
        },
        Case {
            id: "TC_031_CS",
            title: "1.6 unlock of a connector that does not exist: NotSupported",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 UnlockConnector"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_031,
        },
        Case {
            id: "TC_032_2_CS",
            title: "1.6 power failure during a transaction: after the reboot it is stopped with PowerLoss",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 StopTransaction"],
            needs: &["plug", "power-cycle"],
            timeout_ms: 30_000,
            run: tc_032_2,
        },
        Case {
            id: "TC_036_CS",
            title: "1.6 connection lost during a transaction: its StopTransaction arrives after reconnecting",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 offline transactions"],
            needs: &["plug", "network"],
            timeout_ms: 30_000,
            run: tc_036,
        },
        Case {
            id: "TC_037_1_CS",
            title: "1.6 offline, a badge on the local list starts a transaction reported after reconnecting",
            role: CS,
            versions: V16,
            profile: "local-auth-list",
            features: &["offline-authorization"],
            requirements: &["1.6 offline transactions", "1.6 local authorization list"],
            needs: &["plug", "token-reader", "network"],
            timeout_ms: 30_000,
            run: tc_037_1,
        },
        Case {
            id: "TC_040_1_CS",
            title: "1.6 ChangeConfiguration of an unknown key: NotSupported",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 ChangeConfiguration"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_040_1,
        },
        Case {
            id: "TC_040_2_CS",
            title: "1.6 ChangeConfiguration with an invalid value: Rejected",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 ChangeConfiguration"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_040_2,
        },
        Case {
            id: "TC_042_2_CS",
            title: "1.6 GetLocalListVersion with an empty list answers 0",
            role: CS,
            versions: V16,
            profile: "local-auth-list",
            features: &[],
            requirements: &["1.6 GetLocalListVersion"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_042_2,
        },
        Case {
            id: "TC_043_CS",
            title: "1.6 SendLocalList Full is Accepted and its version reads back",
            role: CS,
            versions: V16,
            profile: "local-auth-list",
            features: &[],
            requirements: &["1.6 SendLocalList", "1.6 GetLocalListVersion"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_043,
        },
        Case {
            id: "TC_054_CS",
            title: "1.6 TriggerMessage for Heartbeat, StatusNotification and MeterValues: each Accepted and sent",
            role: CS,
            versions: V16,
            profile: "remote-trigger",
            features: &[],
            requirements: &["1.6 TriggerMessage"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_054,
        },
        Case {
            id: "TC_055_CS",
            title: "1.6 TriggerMessage for a connector that does not exist is Rejected",
            role: CS,
            versions: V16,
            profile: "remote-trigger",
            features: &[],
            requirements: &["1.6 TriggerMessage"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_055,
        },
        Case {
            id: "TC_062_CS",
            title: "1.6 DataTransfer for an unknown vendor: UnknownVendorId",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 DataTransfer"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_062,
        },
        Case {
            id: "TC_070_CS",
            title: "1.6 sampled meter values during a transaction carry its id and a rising energy register",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 MeterValues"],
            needs: &["plug", "pilot"],
            timeout_ms: 30_000,
            run: tc_070,
        },
        Case {
            id: "OH_16_G_01_CS",
            title: "1.6 ChangeAvailability Inoperative of an idle connector: Accepted and Unavailable",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 ChangeAvailability"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_16_g_01,
        },
        Case {
            id: "OH_16_C_01_CS",
            title: "1.6 ClearCache is Accepted by a charge point with an authorization cache",
            role: CS,
            versions: V16,
            profile: "core",
            // The 1.6 authorization cache is optional (§3.5.2): without one, Rejected is right.
            features: &["auth-cache"],
            requirements: &["1.6 ClearCache"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_16_c_01,
        },
        Case {
            id: "OH_16_RPC_01_CS",
            title: "1.6 a CALL with an unknown action is answered with CALLERROR NotImplemented",
            role: CS,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["OCPP-J 1.6 §4.2.3"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_16_rpc_01,
        },
    ];
    cases.extend([
        Case::new(
            "TC_018_1_CS",
            "1.6 unlock a connector during a transaction: it ends with UnlockCommand and the connector is Unlocked",
            CS,
            V16,
            &["1.6 UnlockConnector", "1.6 §5.17"],
            tc_018_1,
        )
        .needs(&["plug"])
        .timeout_ms(30_000),
        Case::new(
            "TC_019_2_CS",
            "1.6 GetConfiguration of given keys returns those, and the unknown one under unknownKey",
            CS,
            V16,
            &["1.6 GetConfiguration"],
            tc_019_2,
        ),
        Case::new("TC_023_2_CS", "1.6 a badge the Central System reports Expired starts no transaction", CS, V16, &["1.6 Authorize"], tc_023_2)
            .needs(&["plug", "token-reader"]),
        Case::new("TC_023_3_CS", "1.6 a badge the Central System reports Blocked starts no transaction", CS, V16, &["1.6 Authorize"], tc_023_3)
            .needs(&["plug", "token-reader"]),
        Case::new("TC_027_CS", "1.6 RemoteStartTransaction for connector 0 is Rejected", CS, V16, &["1.6 RemoteStartTransaction"], tc_027),
        Case::new(
            "TC_035_CS",
            "1.6 an idle charge point sends Heartbeat at the HeartbeatInterval set",
            CS,
            V16,
            &["1.6 Heartbeat", "1.6 HeartbeatInterval"],
            tc_035,
        ),
        Case::new(
            "TC_038_CS",
            "1.6 a transaction stopped by its badge while offline is reported after reconnecting",
            CS,
            V16,
            &["1.6 offline transactions", "1.6 StopTransaction"],
            tc_038,
        )
        .needs(&["plug", "token-reader", "network"])
        .timeout_ms(40_000),
        Case::new(
            "TC_039_CS",
            "1.6 a transaction started and ended offline is reported, start then stop, after reconnecting",
            CS,
            V16,
            &["1.6 offline transactions", "1.6 local authorization list"],
            tc_039,
        )
        .profile("local-auth-list")
        .needs(&["plug", "token-reader", "network"])
        .timeout_ms(40_000),
        Case::new(
            "TC_061_CS",
            "1.6 ClearCache: a badge the cache had accepted is authorized with the Central System again",
            CS,
            V16,
            &["1.6 ClearCache", "1.6 LocalPreAuthorize", "1.6 §3.5.2"],
            tc_061,
        )
        .features(&["auth-cache"])
        .needs(&["plug", "token-reader"])
        .timeout_ms(40_000),
        Case::new(
            "OH_16_D_01_CS",
            "1.6 SendLocalList Differential with a higher version: Accepted and the version reads back",
            CS,
            V16,
            &["1.6 SendLocalList", "1.6 GetLocalListVersion"],
            oh_16_d_01,
        )
        .profile("local-auth-list"),
        Case::new(
            "OH_16_D_02_CS",
            "1.6 SendLocalList Differential with a version not above the list's: VersionMismatch",
            CS,
            V16,
            &["1.6 SendLocalList", "1.6 UpdateStatus"],
            oh_16_d_02,
        )
        .profile("local-auth-list"),
        Case::new(
            "OH_16_G_02_CS",
            "1.6 ChangeAvailability Inoperative during a transaction: Scheduled, Unavailable once it ends",
            CS,
            V16,
            &["1.6 ChangeAvailability", "1.6 §5.3"],
            oh_16_g_02,
        )
        .needs(&["plug"])
        .timeout_ms(30_000),
        Case::new(
            "OH_16_G_03_CS",
            "1.6 ChangeAvailability Inoperative for connector 0 makes the charge point and its connectors Unavailable",
            CS,
            V16,
            &["1.6 ChangeAvailability", "1.6 §5.3"],
            oh_16_g_03,
        ),
        Case::new(
            "OH_16_G_04_CS",
            "1.6 an Inoperative connector is still Unavailable after a reboot",
            CS,
            V16,
            &["1.6 ChangeAvailability", "1.6 §5.3"],
            oh_16_g_04,
        )
        .timeout_ms(40_000),
        Case::new(
            "OH_16_RPC_02_CS",
            "1.6 a frame that is not JSON is answered with a CALLERROR naming a format problem",
            CS,
            V16,
            &["OCPP-J 1.6 §4.2.3"],
            oh_16_rpc_02,
        ),
        Case::new(
            "OH_16_RPC_03_CS",
            "1.6 a payload field of the wrong type is answered TypeConstraintViolation",
            CS,
            V16,
            &["OCPP-J 1.6 §4.2.3"],
            oh_16_rpc_03,
        ),
        Case::new(
            "OH_16_RPC_04_CS",
            "1.6 a CALL with a message id of 36 characters is answered with that id",
            CS,
            V16,
            &["OCPP-J 1.6 §4.1.4"],
            oh_16_rpc_04,
        ),
    ]);
    cases.extend(reservation::cases());
    cases.extend(firmware::cases());
    cases.extend(security::cases());
    cases.extend(smart_charging::cases());
    cases
}

const START: &str = "StartTransaction";
const STOP: &str = "StopTransaction";
const STATUS: &str = "StatusNotification";

fn boot_accepted(conn: &Connection, req: &str) -> Step<Value> {
    kit::expect_and_reply(conn, req, "BootNotification", 10_000, json!({"currentTime": now(), "interval": 300, "status": "Accepted"}))
}

/// The next StatusNotification must say `status` for `connector`.
/// Connector `connector` reported `expected` within 10 s; statuses on the way (another
/// connector, a state passed through first) are answered and named if it never comes.
fn status(conn: &Connection, req: &str, connector: u32, expected: &str) -> Step {
    let wanted = |s: &Value| s["connectorId"] == connector && s["status"] == expected;
    let describe = |s: &Value| format!("connector {} {}", s["connectorId"], s["status"].as_str().unwrap_or("?"));
    kit::expect_until(conn, req, STATUS, 10_000, json!({}), &format!("connector {connector} {expected}"), wanted, describe).map(|_| ())
}

/// The general pre-conditions on the live connection; StatusNotification is claimed for the
/// case when `keep_status`.
fn booted(keep_status: bool) -> Step<Connection> {
    kit::ready_station(if keep_status { &[STATUS] } else { &[] })
}

/// After an accepted boot, the statuses of the connectors: connector 0 (the whole charge
/// point) and the others may come first, in any order; the one under test must be reported
/// Available.
fn boot_statuses(conn: &Connection, req: &str) -> Step {
    let mine = kit::evse_id();
    let mut others = vec![];
    for _ in 0..8 {
        let s = kit::expect_and_reply(conn, req, STATUS, 10_000, json!({}))?;
        if s["connectorId"] != mine {
            others.push(s["connectorId"].to_string());
            continue;
        }
        return kit::check(s["status"] == "Available", req, format!("connector {mine} Available after the boot"), || {
            format!("connector {mine} {}", s["status"])
        });
    }
    Err(kit::fail(req, format!("a StatusNotification for connector {mine} after the boot"), format!("connectors {} only", others.join(", "))))
}

fn authorize(conn: &Connection, req: &str, status: &str) -> Step<Value> {
    kit::expect_and_reply(conn, req, "Authorize", 10_000, json!({"idTagInfo": {"status": status}}))
}

/// Take the StartTransaction, give it `id`, and check it names the connector and token.
fn started(conn: &Connection, req: &str, id: i64, token: &str) -> Step<Value> {
    let s = kit::expect_and_reply(conn, req, START, 10_000, json!({"transactionId": id, "idTagInfo": {"status": "Accepted"}}))?;
    let c = kit::evse_id();
    kit::check(s["connectorId"] == c && s["idTag"] == token, req, format!("StartTransaction on connector {c} for {token}"), || s.to_string())?;
    Ok(s)
}

fn stopped(conn: &Connection, req: &str, id: i64, reason: &str) -> Step<Value> {
    let s = kit::expect_and_reply(conn, req, STOP, 10_000, json!({"idTagInfo": {"status": "Accepted"}}))?;
    kit::check(s["transactionId"] == id, req, format!("StopTransaction for transaction {id}"), || format!("transactionId {}", s["transactionId"]))?;
    kit::check(s["reason"] == reason, req, format!("reason {reason}"), || format!("reason {}", s["reason"]))?;
    Ok(s)
}

fn change_configuration(conn: &Connection, req: &str, key: &str, value: &str) -> Step<String> {
    let r = kit::call(conn, req, "ChangeConfiguration", json!({"key": key, "value": value}), 10_000)?;
    Ok(r["status"].as_str().unwrap_or_default().to_string())
}

fn configure(conn: &Connection, req: &str, key: &str, value: &str) -> Step {
    let s = change_configuration(conn, req, key, value)?;
    if s == "Accepted" { Ok(()) } else { Err(Verdict::Inconclusive(format!("the charge point did not accept {key} = {value} (prerequisite): {s}"))) }
}

/// RemoteStartTransaction on the connector under test for `token`: it must be Accepted.
fn remote_start(conn: &Connection, req: &str, token: &str) -> Step {
    let r = kit::call(conn, req, "RemoteStartTransaction", json!({"connectorId": kit::evse_id(), "idTag": token}), 10_000)?;
    kit::check(r["status"] == "Accepted", req, "RemoteStartTransaction Accepted", || r.to_string())
}

/// Boot, then a remotely started transaction with the cable in: (connection, transaction id).
fn remote_tx(req: &str, id: i64) -> Step<(Connection, i64)> {
    let conn = booted(false)?;
    conn.claim(&[START.into(), STOP.into()]);
    kit::plug_in(kit::evse_id())?;
    let token = kit::valid_token();
    // The StartTransaction may cross the RemoteStartTransaction (sent before its answer): it
    // then gets this answer from the host, the same the case gives it otherwise.
    let answer = json!({"transactionId": id, "idTagInfo": {"status": "Accepted"}});
    conn.set_default_answer(START, &answer.to_string()).map_err(|e| kit::fail(req, "a valid StartTransaction answer", format!("{e:?}")))?;
    remote_start(&conn, req, &token)?;
    started(&conn, req, id, &token)?;
    Ok((conn, id))
}

fn reconnected(req: &str, claim: &[&str]) -> Step<Connection> {
    kit::accept_station(req, 15_000, claim)
}

/// After a lost connection the charge point may send a StartTransaction again whose answer it
/// never saw; answer it with the same id, as a Central System would.
fn resent_start(conn: &Connection, req: &str, id: i64) -> Step {
    conn.claim(&[START.into()]);
    if let Ok(c) = conn.expect_call(START, 1_000) {
        kit::info("StartTransaction sent again after the reconnect");
        conn.reply(&c.message_id, &json!({"transactionId": id, "idTagInfo": {"status": "Accepted"}}).to_string())
            .map_err(|e| kit::fail(req, "to answer the repeated StartTransaction", format!("{e:?}")))?;
    }
    Ok(())
}

fn tc_001() -> Step {
    let (conn, method) = kit::reboot_station(&["BootNotification", STATUS])?;
    kit::info(format!("rebooted by {method:?}"));
    boot_accepted(&conn, "1.6 BootNotification")?;
    boot_statuses(&conn, "1.6 StatusNotification")
}

fn tc_002() -> Step {
    let (conn, _) = kit::reboot_station(&["BootNotification", STATUS, "Heartbeat"])?;
    kit::expect_and_reply(
        &conn,
        "1.6 BootNotification",
        "BootNotification",
        10_000,
        json!({"currentTime": now(), "interval": 2, "status": "Pending"}),
    )?;
    kit::expect_silence(&conn, "1.6 BootNotification", STATUS, 1_500, "while the registration is Pending")?;
    boot_accepted(&conn, "1.6 BootNotification")?;
    boot_statuses(&conn, "1.6 StatusNotification")
}

fn tc_003() -> Step {
    let conn = booted(true)?;
    conn.claim(&["Authorize".into(), START.into()]);
    kit::plug_in(kit::evse_id())?;
    status(&conn, "1.6 StatusNotification", kit::evse_id(), "Preparing")?;
    let token = kit::valid_token();
    kit::present_token(&token)?;
    authorize(&conn, "1.6 Authorize", "Accepted")?;
    started(&conn, "1.6 StartTransaction", 101, &token)?;
    // The EV may not draw yet (SuspendedEV, pilot B) or already does (Charging): 1.6's
    // transitions from Preparing allow both, and a bench whose plug also readies the EV
    // has no pilot B to show. Where it waits, the EV asking for energy makes it Charging.
    let evse = kit::evse_id();
    let wanted = |s: &Value| s["connectorId"] == evse && (s["status"] == "SuspendedEV" || s["status"] == "Charging");
    let describe = |s: &Value| format!("connector {} {}", s["connectorId"], s["status"].as_str().unwrap_or("?"));
    let s = kit::expect_until(&conn, "1.6 StatusNotification", STATUS, 10_000, json!({}), &format!("connector {evse} SuspendedEV or Charging"), wanted, describe)?;
    if s["status"] == "Charging" {
        return Ok(());
    }
    kit::pilot(evse, PilotState::C)?;
    status(&conn, "1.6 StatusNotification", evse, "Charging")
}

fn tc_004_1() -> Step {
    let conn = booted(true)?;
    conn.claim(&["Authorize".into(), START.into()]);
    let token = kit::valid_token();
    kit::present_token(&token)?;
    authorize(&conn, "1.6 Authorize", "Accepted")?;
    status(&conn, "1.6 StatusNotification", kit::evse_id(), "Preparing")?;
    kit::expect_silence(&conn, "1.6 StartTransaction", START, 500, "before the cable is in")?;
    kit::plug_in(kit::evse_id())?;
    started(&conn, "1.6 StartTransaction", 102, &token).map(|_| ())
}

/// Preparing, then back to Available once the 2 s ConnectionTimeOut the case set is over
/// (and not before).
fn prepared_then_timed_out(conn: &Connection) -> Step {
    status(conn, "1.6 StatusNotification", kit::evse_id(), "Preparing")?;
    let t0 = clock::now_ms();
    kit::mandated("ConnectionTimeOut", || status(conn, "1.6 ConnectionTimeOut", kit::evse_id(), "Available"))?;
    let waited = clock::now_ms() - t0;
    kit::check(waited >= 1_500, "1.6 ConnectionTimeOut", "Preparing kept for the 2 s ConnectionTimeOut", || format!("Available after {waited} ms"))
}

fn tc_004_2() -> Step {
    let conn = booted(true)?;
    configure(&conn, "1.6 ConnectionTimeOut", "ConnectionTimeOut", "2")?;
    conn.claim(&["Authorize".into(), START.into()]);
    kit::present_token(&kit::valid_token())?;
    authorize(&conn, "1.6 Authorize", "Accepted")?;
    prepared_then_timed_out(&conn)?;
    kit::expect_silence(&conn, "1.6 StartTransaction", START, 500, "after the connection time-out")
}

/// Cable in, then the valid badge: a transaction the case numbers `id`, with its
/// Authorize, StartTransaction and StopTransaction the case's. Returns the connection and badge.
fn badge_tx(id: i64) -> Step<(Connection, String)> {
    let conn = booted(false)?;
    conn.claim(&["Authorize".into(), START.into(), STOP.into()]);
    kit::plug_in(kit::evse_id())?;
    let token = kit::valid_token();
    kit::present_token(&token)?;
    authorize(&conn, "1.6 Authorize", "Accepted")?;
    started(&conn, "1.6 StartTransaction", id, &token)?;
    Ok((conn, token))
}

fn tc_005_1() -> Step {
    let (conn, _) = badge_tx(103)?;
    kit::unplug(kit::evse_id())?;
    stopped(&conn, "1.6 StopTransaction", 103, "EVDisconnected").map(|_| ())
}

fn tc_010() -> Step {
    remote_tx("1.6 RemoteStartTransaction", 104).map(|_| ())
}

fn tc_011_1() -> Step {
    let conn = booted(false)?;
    conn.claim(&[START.into()]);
    let token = kit::valid_token();
    remote_start(&conn, "1.6 RemoteStartTransaction", &token)?;
    kit::expect_silence(&conn, "1.6 RemoteStartTransaction", START, 500, "before the cable is in")?;
    kit::plug_in(kit::evse_id())?;
    started(&conn, "1.6 RemoteStartTransaction", 105, &token).map(|_| ())
}

fn tc_011_2() -> Step {
    let conn = booted(true)?;
    configure(&conn, "1.6 ConnectionTimeOut", "ConnectionTimeOut", "2")?;
    conn.claim(&[START.into()]);
    remote_start(&conn, "1.6 RemoteStartTransaction", &kit::valid_token())?;
    prepared_then_timed_out(&conn)?;
    kit::expect_silence(&conn, "1.6 RemoteStartTransaction", START, 500, "after the connection time-out")
}

fn tc_012() -> Step {
    let (conn, id) = remote_tx("1.6 RemoteStopTransaction", 106)?;
    let r = kit::call(&conn, "1.6 RemoteStopTransaction", "RemoteStopTransaction", json!({"transactionId": id}), 10_000)?;
    kit::check(r["status"] == "Accepted", "1.6 RemoteStopTransaction", "RemoteStopTransaction Accepted", || r.to_string())?;
    stopped(&conn, "1.6 RemoteStopTransaction", id, "Remote").map(|_| ())
}

fn reset_and_reboot(conn: &Connection, kind: &str) -> Step {
    let r = kit::call(conn, "1.6 Reset", "Reset", json!({"type": kind}), 10_000)?;
    kit::check(r["status"] == "Accepted", "1.6 Reset", format!("Reset {kind} Accepted"), || r.to_string())?;
    let _ = conn.expect_close(15_000);
    let again = reconnected("1.6 Reset", &["BootNotification"])?;
    boot_accepted(&again, "1.6 Reset").map(|_| ())
}

fn tc_013() -> Step {
    let conn = booted(false)?;
    reset_and_reboot(&conn, "Hard")
}

fn tc_014() -> Step {
    let conn = booted(false)?;
    reset_and_reboot(&conn, "Soft")
}

fn reset_with_tx(kind: &str, id: i64, reason: &str) -> Step {
    let (conn, id) = remote_tx("1.6 Reset", id)?;
    let r = kit::call(&conn, "1.6 Reset", "Reset", json!({"type": kind}), 10_000)?;
    kit::check(r["status"] == "Accepted", "1.6 Reset", format!("Reset {kind} Accepted"), || r.to_string())?;
    stopped(&conn, "1.6 Reset", id, reason)?;
    let _ = conn.expect_close(15_000);
    let again = reconnected("1.6 Reset", &["BootNotification"])?;
    boot_accepted(&again, "1.6 Reset").map(|_| ())
}

fn tc_015() -> Step {
    reset_with_tx("Hard", 107, "HardReset")
}

fn tc_016() -> Step {
    reset_with_tx("Soft", 108, "SoftReset")
}

/// UnlockConnector of connector 1; a charge point whose connector has no lock says
/// NotSupported (1.6 §7.46), and the case does not apply to it.
fn unlock(conn: &Connection) -> Step<Value> {
    let r = kit::call(conn, "1.6 UnlockConnector", "UnlockConnector", json!({"connectorId": kit::evse_id()}), 10_000)?;
    if r["status"] == "NotSupported" {
        return Err(Verdict::Skip("the charge point's connector 1 has no lock (UnlockConnector NotSupported): this case's prerequisite".into()));
    }
    Ok(r)
}

fn tc_017_1() -> Step {
    let conn = booted(false)?;
    let r = unlock(&conn)?;
    kit::check(r["status"] == "Unlocked", "1.6 UnlockConnector", "UnlockConnector status Unlocked", || r.to_string())
}

fn tc_019() -> Step {
    let conn = booted(false)?;
    let r = kit::call(&conn, "1.6 GetConfiguration", "GetConfiguration", json!({}), 10_000)?;
    let keys: Vec<&str> = r["configurationKey"].as_array().into_iter().flatten().filter_map(|k| k["key"].as_str()).collect();
    for core in ["HeartbeatInterval", "ConnectionTimeOut", "MeterValueSampleInterval", "NumberOfConnectors", "AuthorizeRemoteTxRequests"] {
        kit::check(keys.contains(&core), "1.6 core configuration keys", format!("the core key {core} among the configuration keys"), || {
            format!("keys {keys:?}")
        })?;
    }
    // The number of connectors is a fact about the hardware, not a setting.
    let n = r["configurationKey"].as_array().into_iter().flatten().find(|k| k["key"] == "NumberOfConnectors").cloned().unwrap_or_default();
    kit::check(n["readonly"] == true, "1.6 core configuration keys", "NumberOfConnectors read-only", || n.to_string())
}

fn tc_021() -> Step {
    let conn = booted(false)?;
    let s = change_configuration(&conn, "1.6 ChangeConfiguration", "MeterValueSampleInterval", "15")?;
    kit::check(s == "Accepted", "1.6 ChangeConfiguration", "ChangeConfiguration Accepted", || format!("status {s}"))?;
    let r = kit::call(&conn, "1.6 GetConfiguration", "GetConfiguration", json!({"key": ["MeterValueSampleInterval"]}), 10_000)?;
    let value = at(&r, "/configurationKey/0/value");
    kit::check(value == "15", "1.6 ChangeConfiguration", "MeterValueSampleInterval reads back 15", || r.to_string())
}

fn tc_023_4() -> Step {
    let conn = booted(false)?;
    conn.claim(&["Authorize".into(), START.into()]);
    kit::plug_in(kit::evse_id())?;
    kit::present_token(&config::invalid_id_token())?;
    authorize(&conn, "1.6 Authorize", "Invalid")?;
    kit::expect_silence(&conn, "1.6 Authorize", START, 1_500, "for an idTag the Central System reported Invalid")
}

fn tc_026() -> Step {
    let (conn, _) = remote_tx("1.6 RemoteStartTransaction", 109)?;
    let r = kit::call(
        &conn,
        "1.6 RemoteStartTransaction",
        "RemoteStartTransaction",
        json!({"connectorId": kit::evse_id(), "idTag": kit::valid_token()}),
        10_000,
    )?;
    kit::check(r["status"] == "Rejected", "1.6 RemoteStartTransaction", "RemoteStartTransaction Rejected on a connector with a transaction", || {
        r.to_string()
    })
}

fn tc_028() -> Step {
    let conn = booted(false)?;
    let r = kit::call(&conn, "1.6 RemoteStopTransaction", "RemoteStopTransaction", json!({"transactionId": 987_654}), 10_000)?;
    kit::check(r["status"] == "Rejected", "1.6 RemoteStopTransaction", "RemoteStopTransaction Rejected for an unknown transaction", || r.to_string())
}

fn tc_031() -> Step {
    let conn = booted(false)?;
    let r = kit::call(&conn, "1.6 UnlockConnector", "UnlockConnector", json!({"connectorId": 99}), 10_000)?;
    kit::check(r["status"] == "NotSupported", "1.6 UnlockConnector", "UnlockConnector NotSupported for connector 99", || r.to_string())
}

fn tc_032_2() -> Step {
    let (conn, id) = remote_tx("1.6 StopTransaction", 110)?;
    kit::power_cycle()?;
    let _ = conn.expect_close(10_000);
    let again = reconnected("1.6 StopTransaction", &["BootNotification", START, STOP])?;
    boot_accepted(&again, "1.6 BootNotification")?;
    resent_start(&again, "1.6 StopTransaction", id)?;
    stopped(&again, "1.6 StopTransaction", id, "PowerLoss").map(|_| ())
}

fn tc_036() -> Step {
    let (conn, id) = remote_tx("1.6 offline transactions", 111)?;
    kit::network(false)?;
    let _ = conn.expect_close(10_000);
    kit::unplug(kit::evse_id())?;
    kit::network(true)?;
    let again = reconnected("1.6 offline transactions", &[START, STOP])?;
    resent_start(&again, "1.6 offline transactions", id)?;
    stopped(&again, "1.6 offline transactions", id, "EVDisconnected").map(|_| ())
}

/// The valid token on the local list (version `version`), then offline: cable in, badge
/// presented. Returns the token.
fn listed_then_offline(version: i64) -> Step<String> {
    let conn = booted(false)?;
    full_list(&conn, version)?;
    kit::network(false)?;
    let _ = conn.expect_close(10_000);
    kit::plug_in(kit::evse_id())?;
    let token = kit::valid_token();
    kit::present_token(&token)?;
    Ok(token)
}

fn tc_037_1() -> Step {
    let token = listed_then_offline(1)?;
    kit::network(true)?;
    let again = reconnected("1.6 offline transactions", &[START])?;
    started(&again, "1.6 offline transactions", 112, &token).map(|_| ())
}

fn tc_040_1() -> Step {
    let conn = booted(false)?;
    let s = change_configuration(&conn, "1.6 ChangeConfiguration", "NoSuchKeyXyz", "1")?;
    kit::check(s == "NotSupported", "1.6 ChangeConfiguration", "ChangeConfiguration NotSupported for an unknown key", || format!("status {s}"))
}

fn tc_040_2() -> Step {
    let conn = booted(false)?;
    let s = change_configuration(&conn, "1.6 ChangeConfiguration", "HeartbeatInterval", "often")?;
    kit::check(s == "Rejected", "1.6 ChangeConfiguration", "ChangeConfiguration Rejected for a non-numeric interval", || format!("status {s}"))
}

fn tc_042_2() -> Step {
    let conn = booted(false)?;
    // Preparation: an empty list, whatever earlier cases installed.
    let r = kit::call(&conn, "1.6 SendLocalList", "SendLocalList", json!({"listVersion": 1, "updateType": "Full"}), 10_000)?;
    kit::check(r["status"] == "Accepted", "1.6 SendLocalList", "an empty Full list Accepted (preparation)", || r.to_string())
        .map_err(|_| Verdict::Inconclusive(format!("the charge point did not empty its list: {r}")))?;
    let r = kit::call(&conn, "1.6 GetLocalListVersion", "GetLocalListVersion", json!({}), 10_000)?;
    kit::check(r["listVersion"] == 0, "1.6 GetLocalListVersion", "listVersion 0 for an empty list", || r.to_string())
}

fn tc_043() -> Step {
    let conn = booted(false)?;
    let list = json!({"listVersion": 7, "updateType": "Full", "localAuthorizationList": [{"idTag": kit::valid_token(), "idTagInfo": {"status": "Accepted"}}]});
    let r = kit::call(&conn, "1.6 SendLocalList", "SendLocalList", list, 10_000)?;
    kit::check(r["status"] == "Accepted", "1.6 SendLocalList", "SendLocalList Accepted", || r.to_string())?;
    let v = kit::call(&conn, "1.6 GetLocalListVersion", "GetLocalListVersion", json!({}), 10_000)?;
    kit::check(v["listVersion"] == 7, "1.6 GetLocalListVersion", "listVersion 7, the version just sent", || v.to_string())
}

fn tc_054() -> Step {
    let conn = booted(false)?;
    for (message, connector) in [("Heartbeat", None), ("StatusNotification", Some(1)), ("MeterValues", Some(1))] {
        conn.claim(&[message.into()]);
        let mut req = json!({"requestedMessage": message});
        if let Some(c) = connector {
            req["connectorId"] = json!(c);
        }
        let r = kit::call(&conn, "1.6 TriggerMessage", "TriggerMessage", req, 10_000)?;
        kit::check(r["status"] == "Accepted", "1.6 TriggerMessage", format!("TriggerMessage {message} Accepted"), || r.to_string())?;
        let reply = if message == "Heartbeat" { json!({"currentTime": now()}) } else { json!({}) };
        let m = kit::expect_and_reply(&conn, "1.6 TriggerMessage", message, 10_000, reply)?;
        if let Some(c) = connector {
            kit::check(m["connectorId"] == c, "1.6 TriggerMessage", format!("{message} for connector {c}"), || m.to_string())?;
        }
        conn.release(&[message.into()]);
    }
    Ok(())
}

fn tc_055() -> Step {
    let conn = booted(false)?;
    let r = kit::call(&conn, "1.6 TriggerMessage", "TriggerMessage", json!({"requestedMessage": "StatusNotification", "connectorId": 99}), 10_000)?;
    kit::check(r["status"] == "Rejected", "1.6 TriggerMessage", "TriggerMessage Rejected for connector 99", || r.to_string())
}

fn tc_062() -> Step {
    let conn = booted(false)?;
    let r = kit::call(&conn, "1.6 DataTransfer", "DataTransfer", json!({"vendorId": "org.example.nobody", "messageId": "ping"}), 10_000)?;
    kit::check(r["status"] == "UnknownVendorId", "1.6 DataTransfer", "DataTransfer status UnknownVendorId", || r.to_string())
}

fn tc_070() -> Step {
    let (conn, id) = remote_tx("1.6 MeterValues", 113)?;
    configure(&conn, "1.6 MeterValues", "MeterValueSampleInterval", "1")?;
    conn.claim(&["MeterValues".into()]);
    kit::pilot(kit::evse_id(), PilotState::C)?;
    let energy = |m: &Value| -> Option<f64> {
        let sv = at(m, "/meterValue/0/sampledValue/0");
        let is_energy = sv.get("measurand").is_none_or(|x| x == "Energy.Active.Import.Register");
        is_energy.then(|| sv["value"].as_str()?.parse().ok()).flatten()
    };
    let (a, b) = kit::mandated("MeterValueSampleInterval", || -> Step<(Value, Value)> {
        Ok((
            kit::expect_and_reply(&conn, "1.6 MeterValues", "MeterValues", 10_000, json!({}))?,
            kit::expect_and_reply(&conn, "1.6 MeterValues", "MeterValues", 10_000, json!({}))?,
        ))
    })?;
    for m in [&a, &b] {
        kit::check(m["transactionId"] == id, "1.6 MeterValues", format!("MeterValues for transaction {id}"), || {
            format!("transactionId {}", m["transactionId"])
        })?;
    }
    let (Some(x), Some(y)) = (energy(&a), energy(&b)) else {
        return Err(kit::fail(
            "1.6 MeterValues",
            "an energy register reading in each MeterValues",
            format!("{} / {}", a["meterValue"], b["meterValue"]),
        ));
    };
    kit::check(y >= x, "1.6 MeterValues", "an energy register that does not decrease", || format!("{x} Wh then {y} Wh"))
}

fn oh_16_g_01() -> Step {
    let conn = booted(true)?;
    let r = kit::call(&conn, "1.6 ChangeAvailability", "ChangeAvailability", json!({"connectorId": kit::evse_id(), "type": "Inoperative"}), 10_000)?;
    kit::check(r["status"] == "Accepted", "1.6 ChangeAvailability", "ChangeAvailability Accepted for an idle connector", || r.to_string())?;
    status(&conn, "1.6 ChangeAvailability", kit::evse_id(), "Unavailable")
}

fn oh_16_c_01() -> Step {
    let conn = booted(false)?;
    let r = kit::call(&conn, "1.6 ClearCache", "ClearCache", json!({}), 10_000)?;
    kit::check(r["status"] == "Accepted", "1.6 ClearCache", "ClearCache Accepted", || r.to_string())
}

fn oh_16_rpc_01() -> Step {
    let conn = booted(false)?;
    let answer = kit::raw_exchange(&conn, "OCPP-J 1.6 §4.2.3", r#"[2,"oh-16-rpc-01","NoSuchActionXyz",{}]"#, 10_000)?;
    kit::check(answer[0] == 4 && answer[1] == "oh-16-rpc-01", "OCPP-J 1.6 §4.2.3", "a CALLERROR with the CALL's message id", || answer.to_string())?;
    kit::check(answer[2] == "NotImplemented", "OCPP-J 1.6 §4.2.3", "error code NotImplemented", || format!("error code {}", answer[2]))
}

fn tc_018_1() -> Step {
    let (conn, id) = remote_tx("1.6 UnlockConnector", 114)?;
    let r = unlock(&conn)?;
    kit::check(r["status"] == "Unlocked", "1.6 UnlockConnector", "UnlockConnector Unlocked", || r.to_string())?;
    stopped(&conn, "1.6 §5.17", id, "UnlockCommand").map(|_| ())
}

fn tc_019_2() -> Step {
    let conn = booted(false)?;
    let r = kit::call(&conn, "1.6 GetConfiguration", "GetConfiguration", json!({"key": ["HeartbeatInterval", "NoSuchKeyXyz"]}), 10_000)?;
    let keys: Vec<&str> = r["configurationKey"].as_array().into_iter().flatten().filter_map(|k| k["key"].as_str()).collect();
    kit::check(keys == ["HeartbeatInterval"], "1.6 GetConfiguration", "exactly the known key asked for, HeartbeatInterval", || {
        format!("keys {keys:?}")
    })?;
    let unknown = &r["unknownKey"];
    kit::check(
        unknown.as_array().is_some_and(|u| u.iter().any(|k| k == "NoSuchKeyXyz")),
        "1.6 GetConfiguration",
        "NoSuchKeyXyz under unknownKey",
        || r.to_string(),
    )
}

/// A badge the Central System answers `status` for: no transaction follows.
fn refused_badge(token: &str, status: &str) -> Step {
    let conn = booted(false)?;
    conn.claim(&["Authorize".into(), START.into()]);
    kit::plug_in(kit::evse_id())?;
    kit::present_token(token)?;
    authorize(&conn, "1.6 Authorize", status)?;
    let outcome = kit::expect_silence(&conn, "1.6 Authorize", START, 1_500, &format!("for an idTag the Central System reported {status}"));
    kit::unplug(kit::evse_id())?;
    outcome
}

fn tc_023_2() -> Step {
    refused_badge("TC023EXPIRED", "Expired")
}

fn tc_023_3() -> Step {
    refused_badge("TC023BLOCKED", "Blocked")
}

fn tc_027() -> Step {
    let conn = booted(false)?;
    conn.claim(&[START.into()]);
    let r = kit::call(&conn, "1.6 RemoteStartTransaction", "RemoteStartTransaction", json!({"connectorId": 0, "idTag": kit::valid_token()}), 10_000)?;
    kit::check(
        r["status"] == "Rejected",
        "1.6 RemoteStartTransaction",
        "RemoteStartTransaction Rejected for connector 0 (connectorId must be above 0)",
        || r.to_string(),
    )
}

/// The value of configuration key `key`.
fn setting(conn: &Connection, req: &str, key: &str) -> Step<String> {
    let r = kit::call(conn, req, "GetConfiguration", json!({"key": [key]}), 10_000)?;
    Ok(at(&r, "/configurationKey/0/value").as_str().unwrap_or_default().to_string())
}

fn tc_035() -> Step {
    let conn = booted(false)?;
    let before = setting(&conn, "1.6 HeartbeatInterval", "HeartbeatInterval")?;
    configure(&conn, "1.6 HeartbeatInterval", "HeartbeatInterval", "2")?;
    conn.claim(&["Heartbeat".into()]);
    let beats = kit::mandated("HeartbeatInterval", || -> Step<(u64, u64)> {
        kit::expect_and_reply(&conn, "1.6 Heartbeat", "Heartbeat", 10_000, json!({"currentTime": now()}))?;
        let a = clock::now_ms();
        kit::expect_and_reply(&conn, "1.6 Heartbeat", "Heartbeat", 10_000, json!({"currentTime": now()}))?;
        Ok((a, clock::now_ms()))
    });
    conn.release(&["Heartbeat".into()]);
    if !before.is_empty() {
        let _ = change_configuration(&conn, "1.6 HeartbeatInterval", "HeartbeatInterval", &before);
    }
    let (a, b) = beats?;
    let gap = b - a;
    let tolerance = u64::from(config::lab_timing().tolerance_ms);
    kit::check(gap + tolerance >= 2_000 && gap <= 2_000 + tolerance.max(1_000), "1.6 HeartbeatInterval", "Heartbeats 2 s apart", || {
        format!("{gap} ms apart")
    })
}

/// A StopTransaction for `id` with reason Local (which 1.6 lets a charge point leave out).
fn stopped_locally(conn: &Connection, req: &str, id: i64) -> Step {
    let s = kit::expect_and_reply(conn, req, STOP, 15_000, json!({"idTagInfo": {"status": "Accepted"}}))?;
    kit::check(s["transactionId"] == id, req, format!("StopTransaction for transaction {id}"), || format!("transactionId {}", s["transactionId"]))?;
    kit::check(s.get("reason").is_none_or(|r| r == "Local"), req, "reason Local (or none, which means Local)", || format!("reason {}", s["reason"]))
}

fn tc_038() -> Step {
    let (conn, token) = badge_tx(115)?;
    kit::network(false)?;
    let _ = conn.expect_close(10_000);
    kit::present_token(&token)?;
    kit::network(true)?;
    let again = reconnected("1.6 offline transactions", &[START, STOP])?;
    resent_start(&again, "1.6 offline transactions", 115)?;
    stopped_locally(&again, "1.6 offline transactions", 115)
}

fn tc_039() -> Step {
    let token = listed_then_offline(2)?;
    clock::sleep_ms(500);
    kit::unplug(kit::evse_id())?;
    kit::network(true)?;
    let again = reconnected("1.6 offline transactions", &[START, STOP])?;
    started(&again, "1.6 offline transactions", 116, &token)?;
    stopped(&again, "1.6 offline transactions", 116, "EVDisconnected").map(|_| ())
}

fn tc_061() -> Step {
    let conn = booted(false)?;
    let pre = setting(&conn, "1.6 LocalPreAuthorize", "LocalPreAuthorize")?;
    configure(&conn, "1.6 LocalPreAuthorize", "LocalPreAuthorize", "true")?;
    let outcome = clear_cache_forgets(&conn);
    let _ = change_configuration(&conn, "1.6 LocalPreAuthorize", "LocalPreAuthorize", if pre.is_empty() { "false" } else { &pre });
    outcome
}

/// A badge accepted once (so in the cache), ClearCache, then the same badge must be
/// authorized with the Central System again rather than from the cache.
fn clear_cache_forgets(conn: &Connection) -> Step {
    let token = "TC061CACHED";
    conn.claim(&["Authorize".into(), START.into(), STOP.into()]);
    kit::plug_in(kit::evse_id())?;
    kit::present_token(token)?;
    authorize(conn, "1.6 Authorize", "Accepted")?;
    started(conn, "1.6 StartTransaction", 117, token)?;
    kit::present_token(token)?;
    stopped_locally(conn, "1.6 StopTransaction", 117)?;
    let r = kit::call(conn, "1.6 ClearCache", "ClearCache", json!({}), 10_000)?;
    kit::check(r["status"] == "Accepted", "1.6 ClearCache", "ClearCache Accepted", || r.to_string())?;
    kit::present_token(token)?;
    match conn.expect_call("Authorize", 10_000) {
        Ok(c) => conn
            .reply(&c.message_id, &json!({"idTagInfo": {"status": "Accepted"}}).to_string())
            .map_err(|e| kit::fail("1.6 ClearCache", "to answer the Authorize", format!("{e:?}")))?,
        Err(_) => {
            let start = conn.expect_call(START, 500).map(|c| kit::json(&c.payload).to_string()).unwrap_or_else(|_| "nothing".into());
            return Err(kit::fail("1.6 ClearCache", "an Authorize for the badge once the cache is cleared", format!("no Authorize; then {start}")));
        }
    }
    kit::unplug(kit::evse_id())
}

fn list_version(conn: &Connection) -> Step<Value> {
    let v = kit::call(conn, "1.6 GetLocalListVersion", "GetLocalListVersion", json!({}), 10_000)?;
    Ok(v["listVersion"].clone())
}

fn send_list(conn: &Connection, req: &str, version: i64, full: bool, entries: Value) -> Step<String> {
    let list = json!({"listVersion": version, "updateType": if full { "Full" } else { "Differential" }, "localAuthorizationList": entries});
    let r = kit::call(conn, req, "SendLocalList", list, 10_000)?;
    Ok(r["status"].as_str().unwrap_or_default().to_string())
}

fn full_list(conn: &Connection, version: i64) -> Step {
    let s = send_list(conn, "1.6 SendLocalList", version, true, json!([{"idTag": kit::valid_token(), "idTagInfo": {"status": "Accepted"}}]))?;
    if s == "Accepted" { Ok(()) } else { Err(Verdict::Inconclusive(format!("a Full local list was not accepted (prerequisite): {s}"))) }
}

fn oh_16_d_01() -> Step {
    let conn = booted(false)?;
    full_list(&conn, 20)?;
    let s = send_list(
        &conn,
        "1.6 SendLocalList",
        21,
        false,
        json!([{"idTag": "OH16D01ADDED", "idTagInfo": {"status": "Accepted"}}, {"idTag": kit::valid_token()}]),
    )?;
    kit::check(s == "Accepted", "1.6 SendLocalList", "a Differential update with version 21 after 20 Accepted", || format!("status {s}"))?;
    let v = list_version(&conn)?;
    kit::check(v == 21, "1.6 GetLocalListVersion", "listVersion 21, the differential update's", || format!("listVersion {v}"))
}

fn oh_16_d_02() -> Step {
    let conn = booted(false)?;
    full_list(&conn, 30)?;
    let s = send_list(&conn, "1.6 UpdateStatus", 30, false, json!([{"idTag": "OH16D02ADDED", "idTagInfo": {"status": "Accepted"}}]))?;
    kit::check(
        s == "VersionMismatch",
        "1.6 UpdateStatus",
        "VersionMismatch for a Differential update whose version is not above the list's 30",
        || format!("status {s}"),
    )?;
    let v = list_version(&conn)?;
    kit::check(v == 30, "1.6 GetLocalListVersion", "listVersion still 30", || format!("listVersion {v}"))
}

fn availability(conn: &Connection, connector: u32, kind: &str) -> Step<String> {
    let r = kit::call(conn, "1.6 ChangeAvailability", "ChangeAvailability", json!({"connectorId": connector, "type": kind}), 10_000)?;
    Ok(r["status"].as_str().unwrap_or_default().to_string())
}

/// Back to Operative (clean-up; the outcome was judged already).
fn operative_again(conn: &Connection, connector: u32) {
    let _ = availability(conn, connector, "Operative");
}

fn oh_16_g_02() -> Step {
    let (conn, id) = remote_tx("1.6 ChangeAvailability", 118)?;
    let s = availability(&conn, 1, "Inoperative")?;
    let outcome = kit::check(s == "Scheduled", "1.6 §5.3", "ChangeAvailability Scheduled while a transaction runs", || format!("status {s}"))
        .and_then(|_| {
            let r = kit::call(&conn, "1.6 RemoteStopTransaction", "RemoteStopTransaction", json!({"transactionId": id}), 10_000)?;
            kit::check(r["status"] == "Accepted", "1.6 RemoteStopTransaction", "RemoteStopTransaction Accepted", || r.to_string())?;
            stopped(&conn, "1.6 RemoteStopTransaction", id, "Remote")?;
            kit::unplug(kit::evse_id())?;
            // The status now, asked for: statuses sent on their own meanwhile may come first.
            conn.claim(&[STATUS.into()]);
            let r = kit::call(
                &conn,
                "1.6 TriggerMessage",
                "TriggerMessage",
                json!({"requestedMessage": "StatusNotification", "connectorId": kit::evse_id()}),
                10_000,
            )?;
            kit::check(r["status"] == "Accepted", "1.6 TriggerMessage", "TriggerMessage StatusNotification Accepted", || r.to_string())?;
            for _ in 0..3 {
                let m = kit::expect_and_reply(&conn, "1.6 §5.3", STATUS, 10_000, json!({}))?;
                if m["connectorId"] == kit::evse_id() && m["status"] == "Unavailable" {
                    return Ok(());
                }
            }
            Err(kit::fail("1.6 §5.3", format!("connector {} Unavailable once the transaction ended", kit::evse_id()), "other statuses only"))
        });
    operative_again(&conn, 1);
    outcome
}

fn oh_16_g_03() -> Step {
    let conn = booted(true)?;
    let s = availability(&conn, 0, "Inoperative")?;
    let outcome = kit::check(s == "Accepted", "1.6 ChangeAvailability", "ChangeAvailability Accepted for connector 0", || format!("status {s}"))
        .and_then(|_| {
            let mut seen = vec![];
            while !seen.contains(&1) {
                let m = kit::expect_and_reply(&conn, "1.6 §5.3", STATUS, 10_000, json!({}))?;
                kit::check(m["status"] == "Unavailable", "1.6 §5.3", "every status Unavailable", || m.to_string())?;
                seen.push(m["connectorId"].as_u64().unwrap_or(99));
            }
            Ok(())
        });
    operative_again(&conn, 0);
    outcome
}

fn oh_16_g_04() -> Step {
    let conn = booted(true)?;
    let s = availability(&conn, 1, "Inoperative")?;
    if s != "Accepted" {
        return Err(Verdict::Inconclusive(format!("the connector could not be made Inoperative (prerequisite): {s}")));
    }
    status(&conn, "1.6 ChangeAvailability", kit::evse_id(), "Unavailable")?;
    let outcome = (|| {
        let r = kit::call(&conn, "1.6 Reset", "Reset", json!({"type": "Hard"}), 10_000)?;
        kit::check(r["status"] == "Accepted", "1.6 Reset", "Reset Hard Accepted", || r.to_string())?;
        let _ = conn.expect_close(15_000);
        let again = reconnected("1.6 §5.3", &["BootNotification", STATUS])?;
        boot_accepted(&again, "1.6 BootNotification")?;
        for _ in 0..2 {
            let m = kit::expect_and_reply(&again, "1.6 §5.3", STATUS, 10_000, json!({}))?;
            if m["connectorId"] == kit::evse_id() {
                operative_again(&again, 1);
                return kit::check(
                    m["status"] == "Unavailable",
                    "1.6 §5.3",
                    format!("connector {} still Unavailable after the reboot", kit::evse_id()),
                    || m.to_string(),
                );
            }
        }
        operative_again(&again, 1);
        Err(kit::fail("1.6 §5.3", format!("a status for connector {} after the boot", kit::evse_id()), "connector 0 only"))
    })();
    if outcome.is_err() {
        if let Ok(c) = kit::ready_station(&[]) {
            operative_again(&c, 1);
        }
    }
    outcome
}

fn oh_16_rpc_02() -> Step {
    let conn = booted(false)?;
    let answer = kit::raw_exchange(&conn, "OCPP-J 1.6 §4.2.3", r#"[2,"oh-16-rpc-02","Heartbeat",{"#, 10_000)?;
    kit::check(answer[0] == 4, "OCPP-J 1.6 §4.2.3", "a CALLERROR", || answer.to_string())?;
    let allowed = ["FormationViolation", "FormatViolation", "ProtocolError", "GenericError"];
    kit::check(allowed.iter().any(|a| answer[2] == *a), "OCPP-J 1.6 §4.2.3", format!("one of {allowed:?}"), || format!("error code {}", answer[2]))
}

fn oh_16_rpc_03() -> Step {
    let conn = booted(false)?;
    let answer = kit::raw_exchange(&conn, "OCPP-J 1.6 §4.2.3", r#"[2,"oh-16-rpc-03","UnlockConnector",{"connectorId":"one"}]"#, 10_000)?;
    kit::check(answer[0] == 4 && answer[1] == "oh-16-rpc-03", "OCPP-J 1.6 §4.2.3", "a CALLERROR with the CALL's message id", || answer.to_string())?;
    kit::check(answer[2] == "TypeConstraintViolation", "OCPP-J 1.6 §4.2.3", "error code TypeConstraintViolation", || {
        format!("error code {}", answer[2])
    })
}

fn oh_16_rpc_04() -> Step {
    let conn = booted(false)?;
    let id = "0123456789abcdef0123456789abcdef0123";
    let answer = kit::raw_exchange(&conn, "OCPP-J 1.6 §4.1.4", &format!(r#"[2,"{id}","GetLocalListVersion",{{}}]"#), 10_000)?;
    kit::check(answer[0] == 3 && answer[1] == id, "OCPP-J 1.6 §4.1.4", "a CALLRESULT with the 36-character message id", || answer.to_string())
}
