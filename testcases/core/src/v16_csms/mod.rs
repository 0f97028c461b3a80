//! OCPP 1.6J cases where the harness is a charge point and the DUT is a Central System.
//! Messages the Central System initiates are asked for through the bench (`csms-trigger`):
//! an operator at a real Central System, the simulated one in the reference run.
use serde_json::{Value, json};

use crate::{
    Case,
    kit::{self, *},
};

mod firmware;
mod offline;
mod operator;
mod remote;

const CP: Role = Role::ChargingStation;

/// A 1.6 case the operator drives (`csms-trigger`), with 30 s to run.
fn operated_case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    Case::new(id, title, CP, V16, requirements, run).needs(&["csms-trigger"]).timeout_ms(30_000)
}

pub(crate) fn cases() -> Vec<Case> {
    let mut cases = vec![
        Case {
            id: "TC_001_CSMS",
            title: "1.6 cold boot: the Central System accepts the charge point with a heartbeat interval",
            role: CP,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 BootNotification"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_001,
        },
        Case {
            id: "TC_003_CSMS",
            title: "1.6 plug in first: statuses, Authorize and StartTransaction are accepted, StopTransaction too",
            role: CP,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 Authorize", "1.6 StartTransaction", "1.6 StopTransaction"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_003,
        },
        Case {
            id: "TC_004_1_CSMS",
            title: "1.6 badge first: Authorize then StartTransaction are accepted",
            role: CP,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 Authorize", "1.6 StartTransaction"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_004_1,
        },
        Case {
            id: "TC_005_1_CSMS",
            title: "1.6 a transaction stopped by an EV-side disconnect is accepted",
            role: CP,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 StopTransaction"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_005_1,
        },
        Case {
            id: "TC_010_CSMS",
            title: "1.6 the Central System can start a transaction remotely on a connector",
            role: CP,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 RemoteStartTransaction"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_010,
        },
        Case {
            id: "TC_012_CSMS",
            title: "1.6 the Central System can stop a running transaction remotely",
            role: CP,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 RemoteStopTransaction"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_012,
        },
        Case {
            id: "TC_013_CSMS",
            title: "1.6 the Central System can send a hard reset and takes the charge point back after its reboot",
            role: CP,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 Reset"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_013,
        },
        Case {
            id: "TC_023_2_CSMS",
            title: "1.6 Authorize of an expired idTag is Expired or Invalid",
            role: CP,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 Authorize"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_023_2,
        },
        Case {
            id: "TC_023_3_CSMS",
            title: "1.6 Authorize of a blocked idTag is Blocked or Invalid",
            role: CP,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 Authorize"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_023_3,
        },
        Case {
            id: "TC_064_CSMS",
            title: "1.6 DataTransfer for a vendor the Central System does not know is answered UnknownVendorId",
            role: CP,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 DataTransfer"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_064,
        },
        Case {
            id: "TC_023_1_CSMS",
            title: "1.6 Authorize of an unknown idTag is not Accepted",
            role: CP,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 Authorize"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_023_1,
        },
        Case {
            id: "OH_16_E_01_CSMS",
            title: "1.6 two transactions get different transaction ids",
            role: CP,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 StartTransaction"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_16_e_01,
        },
        Case {
            id: "OH_16_G_01_CSMS",
            title: "1.6 the Central System answers Heartbeat with its time",
            role: CP,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 Heartbeat"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_16_g_01,
        },
        Case {
            id: "OH_16_J_01_CSMS",
            title: "1.6 MeterValues during a transaction are accepted",
            role: CP,
            versions: V16,
            profile: "core",
            features: &[],
            requirements: &["1.6 MeterValues"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_16_j_01,
        },
    ];
    cases.extend(remote::cases());
    cases.extend(operator::cases());
    cases.extend(offline::cases());
    cases.extend(firmware::cases());
    for c in &mut cases {
        if let Some((_, profile)) = FEATURE_PROFILES.iter().find(|(id, _)| *id == c.id) {
            c.profile = profile;
        }
    }
    cases
}

/// The 1.6 feature profile (1.6 §3) of the Central System functions a case tests, as the
/// charge-point side names them; every other case is Core. A Central System that does not
/// implement a profile leaves its cases out by not claiming it in the DUT description.
const FEATURE_PROFILES: [(&str, &str); 23] = [
    ("TC_044_1_CSMS", "firmware-management"),
    ("TC_044_2_CSMS", "firmware-management"),
    ("TC_044_3_CSMS", "firmware-management"),
    ("TC_045_1_CSMS", "firmware-management"),
    ("TC_045_2_CSMS", "firmware-management"),
    ("TC_042_1_CSMS", "local-auth-list"),
    ("TC_042_2_CSMS", "local-auth-list"),
    ("TC_043_CSMS", "local-auth-list"),
    ("TC_046_CSMS", "reservation"),
    ("TC_047_CSMS", "reservation"),
    ("TC_048_1_CSMS", "reservation"),
    ("TC_048_2_CSMS", "reservation"),
    ("TC_048_3_CSMS", "reservation"),
    ("TC_048_4_CSMS", "reservation"),
    ("TC_051_CSMS", "reservation"),
    ("TC_052_CSMS", "reservation"),
    ("TC_054_CSMS", "remote-trigger"),
    ("TC_055_CSMS", "remote-trigger"),
    ("TC_056_CSMS", "smart-charging"),
    ("TC_057_CSMS", "smart-charging"),
    ("TC_059_CSMS", "smart-charging"),
    ("TC_066_CSMS", "smart-charging"),
    ("TC_067_CSMS", "smart-charging"),
];

pub(crate) fn registered() -> Step<Connection> {
    kit::ready_csms("1.6 BootNotification")
}

/// The charge point's BootNotification, which the Central System must accept (`expected`
/// says when); its answer.
fn boot(conn: &Connection, req: &str, expected: &str) -> Step<Value> {
    let boot = ocpp_case_sdk::msg::boot_notification(kit::OcppVersion::V16, "PowerUp");
    let r = kit::call(conn, req, "BootNotification", boot, 10_000)?;
    kit::check(r["status"] == "Accepted", req, expected, || r.to_string())?;
    Ok(r)
}

/// The connection is gone for a while (a reboot, an outage); the charge point comes back.
fn back_online(conn: Connection, req: &str) -> Step<Connection> {
    conn.close();
    drop(conn);
    kit::reconnect(req)
}

/// The charge point reboots (after a Reset or a firmware installation): it goes away, backs
/// off, comes back, is accepted and reports its connectors Available.
fn rebooted(conn: Connection, req: &str) -> Step<Connection> {
    let again = back_online(conn, req)?;
    boot(&again, req, "the rebooted charge point Accepted")?;
    status(&again, 0, "Available")?;
    status(&again, 1, "Available")?;
    Ok(again)
}

/// The Central System is still in step: a Heartbeat gets its answer.
fn in_step(conn: &Connection, req: &str) -> Step {
    kit::call(conn, req, "Heartbeat", json!({}), 10_000).map(drop)
}

fn status(conn: &Connection, connector: u32, status: &str) -> Step {
    let p = json!({"connectorId": connector, "errorCode": "NoError", "status": status, "timestamp": now()});
    kit::call(conn, "1.6 StatusNotification", "StatusNotification", p, 10_000).map(|_| ())
}

fn authorize(conn: &Connection, token: &str) -> Step<String> {
    let r = kit::call(conn, "1.6 Authorize", "Authorize", json!({"idTag": token}), 10_000)?;
    Ok(at(&r, "/idTagInfo/status").as_str().unwrap_or_default().to_string())
}

/// A session as a charge point reports it (1.6 §4.9 status transitions): the connector goes
/// Preparing, the transaction starts and the connector is Charging. Returns the transaction id.
fn session(conn: &Connection, token: &str, meter_start: i64) -> Step<i64> {
    status(conn, 1, "Preparing")?;
    let id = start(conn, token, meter_start)?;
    status(conn, 1, "Charging")?;
    Ok(id)
}

/// StartTransaction on connector 1; returns the transaction id the Central System gave.
fn start(conn: &Connection, token: &str, meter_start: i64) -> Step<i64> {
    let r = kit::call(
        conn,
        "1.6 StartTransaction",
        "StartTransaction",
        json!({"connectorId": 1, "idTag": token, "meterStart": meter_start, "timestamp": now()}),
        10_000,
    )?;
    let status = at(&r, "/idTagInfo/status");
    kit::check(status == "Accepted", "1.6 StartTransaction", format!("idTagInfo Accepted for {token}"), || format!("status {status}"))?;
    Ok(r["transactionId"].as_i64().unwrap_or_default())
}

fn stop(conn: &Connection, id: i64, reason: &str) -> Step<Value> {
    kit::call(
        conn,
        "1.6 StopTransaction",
        "StopTransaction",
        json!({"transactionId": id, "meterStop": 1500, "timestamp": now(), "reason": reason}),
        10_000,
    )
}

/// A cold boot is this case's subject: a new connection and a BootNotification of its own.
fn tc_001() -> Step {
    let conn = kit::connect_csms("1.6 BootNotification")?;
    let r = boot(&conn, "1.6 BootNotification", "registration status Accepted")?;
    kit::check(r["interval"].as_i64().is_some_and(|i| i > 0), "1.6 BootNotification", "a heartbeat interval above 0 s", || format!("interval {}", r["interval"]))?;
    status(&conn, 0, "Available")?;
    status(&conn, 1, "Available")
}

fn tc_003() -> Step {
    let conn = registered()?;
    let token = kit::valid_token();
    status(&conn, 1, "Preparing")?;
    let s = authorize(&conn, &token)?;
    kit::check(s == "Accepted", "1.6 Authorize", format!("Accepted for the known idTag {token}"), || format!("status {s}"))?;
    let id = start(&conn, &token, 1000)?;
    status(&conn, 1, "Charging")?;
    stop(&conn, id, "Local")?;
    status(&conn, 1, "Finishing")
}

fn tc_004_1() -> Step {
    let conn = registered()?;
    let token = kit::valid_token();
    let s = authorize(&conn, &token)?;
    kit::check(s == "Accepted", "1.6 Authorize", format!("Accepted for the known idTag {token}"), || format!("status {s}"))?;
    status(&conn, 1, "Preparing")?;
    start(&conn, &token, 1000)?;
    status(&conn, 1, "Charging")
}

fn tc_005_1() -> Step {
    let conn = registered()?;
    let id = session(&conn, &kit::valid_token(), 1000)?;
    stop(&conn, id, "EVDisconnected")?;
    status(&conn, 1, "Available")
}

fn tc_010() -> Step {
    let conn = registered()?;
    let token = kit::valid_token();
    status(&conn, 1, "Preparing")?;
    kit::csms_trigger(&conn, "RemoteStartTransaction", json!({"connectorId": 1, "idTag": token}))?;
    let call = kit::expect(&conn, "1.6 RemoteStartTransaction", "RemoteStartTransaction", 10_000)?;
    kit::check(call.payload["idTag"] == token.as_str(), "1.6 RemoteStartTransaction", format!("idTag {token}"), || call.payload.to_string())?;
    kit::reply(&conn, "1.6 RemoteStartTransaction", &call, "RemoteStartTransaction", json!({"status": "Accepted"}))?;
    start(&conn, &token, 1000)?;
    status(&conn, 1, "Charging")
}

fn tc_012() -> Step {
    let conn = registered()?;
    let id = session(&conn, &kit::valid_token(), 1000)?;
    kit::csms_trigger(&conn, "RemoteStopTransaction", json!({"transactionId": id}))?;
    let call = kit::expect(&conn, "1.6 RemoteStopTransaction", "RemoteStopTransaction", 10_000)?;
    kit::check(call.payload["transactionId"] == id, "1.6 RemoteStopTransaction", format!("transactionId {id}, the running transaction"), || {
        call.payload.to_string()
    })?;
    kit::reply(&conn, "1.6 RemoteStopTransaction", &call, "RemoteStopTransaction", json!({"status": "Accepted"}))?;
    let r = stop(&conn, id, "Remote")?;
    kit::info(format!("StopTransaction answered {r}"));
    status(&conn, 1, "Finishing")
}

fn tc_013() -> Step {
    let conn = registered()?;
    kit::csms_trigger(&conn, "Reset", json!({"type": "Hard"}))?;
    let call = kit::expect(&conn, "1.6 Reset", "Reset", 10_000)?;
    kit::check(call.payload["type"] == "Hard", "1.6 Reset", "Reset type Hard", || call.payload.to_string())?;
    kit::reply(&conn, "1.6 Reset", &call, "Reset", json!({"status": "Accepted"}))?;
    rebooted(conn, "1.6 Reset").map(drop)
}

fn tc_023_1() -> Step {
    let conn = registered()?;
    let token = config::invalid_id_token();
    let s = authorize(&conn, &token)?;
    kit::check(s != "Accepted", "1.6 Authorize", format!("not Accepted for the unknown idTag {token}"), || format!("status {s}"))
}

/// TC_023_2/3_CSMS: the idTag the lab set up as `kind` (run parameter `key`) is answered
/// `kind` or Invalid.
fn not_accepted(key: &str, kind: &str) -> Step {
    let token = config::parameter(key)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Verdict::Skip(format!("the DUT description names no {key} in [parameters]")))?;
    let conn = registered()?;
    let s = authorize(&conn, &token)?;
    kit::check([kind, "Invalid"].contains(&s.as_str()), "1.6 Authorize", format!("{kind} or Invalid for the idTag {token}"), || format!("status {s}"))
}

fn tc_023_2() -> Step {
    not_accepted("expired-id-token", "Expired")
}

fn tc_023_3() -> Step {
    not_accepted("blocked-id-token", "Blocked")
}

/// 1.6 §4.3: a recipient without an implementation for the vendorId answers UnknownVendorId.
fn tc_064() -> Step {
    let conn = registered()?;
    let r = kit::call(
        &conn,
        "1.6 DataTransfer",
        "DataTransfer",
        json!({"vendorId": "org.example.no-such-vendor", "messageId": "probe", "data": "1"}),
        10_000,
    )?;
    kit::check(r["status"] == "UnknownVendorId", "1.6 DataTransfer", "status UnknownVendorId for a vendor it cannot know", || r.to_string())?;
    kit::check(r.get("data").is_none(), "1.6 DataTransfer", "no data with UnknownVendorId", || r.to_string())
}

fn oh_16_e_01() -> Step {
    let conn = registered()?;
    let token = kit::valid_token();
    let first = session(&conn, &token, 1000)?;
    stop(&conn, first, "Local")?;
    status(&conn, 1, "Finishing")?;
    let second = session(&conn, &token, 1500)?;
    kit::check(first != second, "1.6 StartTransaction", "a new transactionId for every transaction", || format!("{first} twice"))
}

fn oh_16_g_01() -> Step {
    let conn = registered()?;
    let r = kit::call(&conn, "1.6 Heartbeat", "Heartbeat", json!({}), 10_000)?;
    kit::check_clock("1.6 Heartbeat", "currentTime", &r["currentTime"])
}

fn oh_16_j_01() -> Step {
    let conn = registered()?;
    let id = session(&conn, &kit::valid_token(), 1000)?;
    let mv = json!({"connectorId": 1, "transactionId": id, "meterValue": [{"timestamp": now(), "sampledValue": [{"value": "1200", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]});
    kit::call(&conn, "1.6 MeterValues", "MeterValues", mv, 10_000).map(|_| ())
}
