//! Blocks N (diagnostics: logs, customer information) and P (DataTransfer, custom data) for a
//! charging-station DUT (part 6 §2.14 and §2.16).
//!
//! Log uploads go to the lab's locations, DUT description parameters `log-location` (one
//! that works) and `failing-log-location` (one that cannot; by default a host under the
//! reserved `.invalid` domain, which no resolver answers).
use serde_json::{Value, json};

use crate::{
    Case,
    kit::{self, Connection, Role, Step, V201},
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    Case::new(id, title, Role::Csms, V201, requirements, run).timeout_ms(30_000)
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        case(
            "TC_N_26_CS",
            "A log upload that cannot succeed is tried again retries times, retryInterval apart, each reported UploadFailure",
            &["N01.FR.01", "N01.FR.02", "N01.FR.04", "N01.FR.07", "N01.FR.08", "N01.FR.10", "N01.FR.13"],
            tc_n_26,
        ),
        case(
            "TC_N_32_CS",
            "CustomerInformation clear without report is Accepted and a NotifyCustomerInformation follows",
            &["N10.FR.01", "N10.FR.06"],
            tc_n_32,
        ),
        case(
            "TC_N_35_CS",
            "GetLog of the security log is Accepted, then Uploading and Uploaded are reported for its request",
            &["N01.FR.01", "N01.FR.02", "N01.FR.03", "N01.FR.07", "N01.FR.08", "N01.FR.09", "N01.FR.13"],
            tc_n_35,
        ),
        case(
            "TC_P_01_CS",
            "DataTransfer with a vendor id the station does not implement answers UnknownVendorId, UnknownMessageId or Rejected",
            &["P01.FR.05", "P01.FR.06"],
            tc_p_01,
        ),
        case(
            "TC_P_03_CS",
            "A request carrying customData is handled like one without: SetVariables Accepted, the value reads back",
            &["B05", "B06"],
            tc_p_03,
        ),
    ]
}

/// The lab's upload location for `key`, or `default`.
pub(crate) fn location(key: &str, default: &str) -> String {
    kit::config::parameter(key).unwrap_or_else(|| default.to_string())
}

/// GetLog of `log_type` to `location`; the answer must be Accepted with a file name.
pub(super) fn get_log(conn: &Connection, req: &str, request_id: i64, log_type: &str, location: &str, extra: Value) -> Step {
    conn.claim(&["LogStatusNotification".into()]);
    let mut payload = json!({"logType": log_type, "requestId": request_id, "log": {"remoteLocation": location}});
    if let (Some(p), Some(e)) = (payload.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    let r = kit::call(conn, req, "GetLog", payload, 10_000)?;
    kit::check(r["status"] == "Accepted", req, "GetLog Accepted", || r.to_string())?;
    kit::check(r["filename"].as_str().is_some_and(|f| !f.is_empty()), "N01.FR.03", "the name of the file it uploads", || r.to_string())
}

/// The next LogStatusNotification; it must be for `request_id`.
fn log_status(conn: &Connection, req: &str, request_id: i64) -> Step<String> {
    let n = kit::expect_and_reply(conn, req, "LogStatusNotification", 10_000, json!({}))?;
    kit::check(n["requestId"] == request_id, "N01.FR.08", format!("LogStatusNotification for request {request_id}"), || n.to_string())?;
    Ok(n["status"].as_str().unwrap_or_default().to_string())
}

fn tc_n_26() -> Step {
    let conn = super::booted(300)?;
    let (retries, interval_s) = (3u32, 1u64);
    let failing = location("failing-log-location", "ftp://upload.invalid/logs");
    get_log(&conn, "N01.FR.01", 26, "DiagnosticsLog", &failing, json!({"retries": retries, "retryInterval": interval_s}))?;
    // Every attempt (the first and each retry) ends in a failure; Uploading before it is
    // optional after the first.
    const FAILURES: [&str; 5] = ["UploadFailure", "BadMessage", "NotSupportedOperation", "PermissionDenied", "AcceptedCanceled"];
    let mut failures_at = vec![];
    while failures_at.len() < retries as usize + 1 {
        let status = log_status(&conn, "N01.FR.10", 26)?;
        if FAILURES.contains(&status.as_str()) {
            failures_at.push(kit::clock::now_ms());
        } else if status != "Uploading" {
            return Err(kit::fail("N01.FR.10", "Uploading or a failure status for an upload that cannot succeed", format!("status {status}")));
        }
    }
    // N01.FR.13: the retries wait retryInterval between attempts (timing tolerance from the lab).
    let slack = u64::from(kit::config::lab_timing().tolerance_ms);
    let gaps: Vec<u64> = failures_at.windows(2).map(|w| w[1] - w[0]).collect();
    kit::check(gaps.iter().all(|g| g + slack >= interval_s * 1_000), "N01.FR.13", format!("attempts at least {interval_s} s apart"), || {
        format!("gaps {gaps:?} ms")
    })?;
    kit::expect_silence(&conn, "N01.FR.13", "LogStatusNotification", (interval_s * 1_000 + slack) as u32, "after the last retry")
}

fn tc_n_32() -> Step {
    let conn = super::booted(300)?;
    conn.claim(&["NotifyCustomerInformation".into()]);
    let token = kit::valid_token();
    let req = json!({"requestId": 32, "report": false, "clear": true, "idToken": kit::id_token(&token)});
    let r = kit::call(&conn, "N10.FR.01", "CustomerInformation", req, 10_000)?;
    kit::check(r["status"] == "Accepted", "N10.FR.01", "CustomerInformation Accepted", || r.to_string())?;
    let n = kit::expect_and_reply(&conn, "N10.FR.06", "NotifyCustomerInformation", 10_000, json!({}))?;
    kit::check(
        n["requestId"] == 32 && n["tbc"] == false,
        "N10.FR.06",
        "one NotifyCustomerInformation for request 32 (tbc false) saying the data is cleared",
        || n.to_string(),
    )
}

fn tc_n_35() -> Step {
    let conn = super::booted(300)?;
    let working = location("log-location", "ftp://logs.example/upload");
    get_log(&conn, "N01.FR.01", 35, "SecurityLog", &working, json!({}))?;
    for expected in ["Uploading", "Uploaded"] {
        let status = log_status(&conn, "N01.FR.09", 35)?;
        kit::check(status == expected, "N01.FR.09", format!("LogStatusNotification {expected}"), || format!("status {status}"))?;
    }
    Ok(())
}

fn tc_p_01() -> Step {
    let conn = super::booted(300)?;
    let r =
        kit::call(&conn, "P01.FR.05", "DataTransfer", json!({"vendorId": "org.openchargealliance.octt", "messageId": "OcttUnusedMessage"}), 10_000)?;
    let status = r["status"].as_str().unwrap_or_default();
    kit::check(
        ["UnknownVendorId", "UnknownMessageId", "Rejected"].contains(&status),
        "P01.FR.05",
        "UnknownVendorId, UnknownMessageId or Rejected for a vendor it does not implement",
        || r.to_string(),
    )
}

fn tc_p_03() -> Step {
    let conn = super::booted(300)?;
    let custom = json!({"vendorId": "org.openchargealliance.octt", "note": "vendor data the station may ignore"});
    let datum =
        json!({"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}, "attributeType": "Actual", "customData": custom});
    let mut set = datum.clone();
    set["attributeValue"] = json!("200");
    let r = kit::call(&conn, "B05", "SetVariables", json!({"setVariableData": [set], "customData": custom}), 10_000)?;
    let result = kit::at(&r, "/setVariableResult/0");
    kit::check(result["attributeStatus"] == "Accepted", "B05", "SetVariables with customData Accepted", || result.to_string())?;
    let r = kit::call(&conn, "B06", "GetVariables", json!({"getVariableData": [datum], "customData": custom}), 10_000)?;
    let result = kit::at(&r, "/getVariableResult/0");
    let ok =
        result["attributeStatus"] == "Accepted" && result["attributeValue"] == "200" && result.get("attributeType").is_none_or(|t| t == "Actual");
    kit::check(ok, "B06", "GetVariables Accepted with value 200 (attributeType Actual or omitted)", || result.to_string())
}
