//! Block B, provisioning, for a charging-station DUT (part 6 §2.2): the registration states
//! (B03.FR.08), attribute types the device model does not have (B05.FR.06, B06.FR.08) and
//! network connection profiles (B09) and the migration between them (B10), on the harness
//! CSMS's second endpoint (WIT `alternative-csms-url`).
use serde_json::{Value, json};

use crate::{
    Case,
    kit::{self, CallOutcome, Role, Step, V201},
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    Case::new(id, title, Role::Csms, V201, requirements, run).timeout_ms(30_000)
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        case(
            "TC_B_30_CS",
            "While its registration is Rejected the station answers a CSMS request with SecurityError",
            &["B03.FR.08"],
            tc_b_30,
        ),
        case(
            "TC_B_34_CS",
            "GetVariables of the Target value of a variable that has only an Actual one answers NotSupportedAttributeType",
            &["B06.FR.08"],
            tc_b_34,
        ),
        case(
            "TC_B_37_CS",
            "SetVariables of the Target value of a variable that has only an Actual one answers NotSupportedAttributeType",
            &["B05.FR.06"],
            tc_b_37,
        ),
        case(
            "TC_B_53_CS",
            "A FullInventory report holds every variable the specification requires for Core, list types with their allowed values",
            &["B07.FR.01", "B07"],
            tc_b_53,
        ),
        case(
            "TC_A_22_CS",
            "SetNetworkProfile with a security profile below the station's own is Rejected",
            &["B09.FR.04"],
            tc_a_22,
        ),
        case(
            "TC_B_45_CS",
            "Migrate to new ConnectionProfile - Success - Same CSMS Root: after a reset the station connects with the new profile",
            &["B09.FR.01", "B10.FR.01", "B10.FR.04", "B10.FR.06"],
            tc_b_45,
        )
        .timeout_ms(90_000),
        case(
            "TC_B_46_CS",
            "Migrate to new ConnectionProfile - Fallback mechanism: unreachable on the new profile, the station falls back to the old one",
            &["B10.FR.03", "B10.FR.04"],
            tc_b_46,
        )
        .timeout_ms(120_000),
        case(
            "TC_B_50_CS",
            "Migrate to new ConnectionProfile - Success - New CSMS Root: after a reset the station checks the new CSMS's certificate with the root installed for it",
            &["M05.FR.13", "B09.FR.01", "B10.FR.01", "B10.FR.04"],
            tc_b_50,
        )
        .timeout_ms(120_000),
        case(
            "TC_A_21_CS",
            "Upgrade to security profile 3 without a station certificate: the connection profile is kept, putting it first is Rejected",
            &["A05.FR.03"],
            tc_a_21,
        ),
        case(
            "TC_A_19_CS",
            "Upgrade Charging Station Security Profile - Accepted: a connection profile one profile up, first in the priority, a reset; the station comes back at that profile for good",
            &["A05.FR.04", "A05.FR.05", "A05.FR.06"],
            tc_a_19,
        )
        .timeout_ms(120_000),
        case(
            "TC_B_43_CS",
            "SetNetworkProfile for a configuration slot the station does not have is Rejected",
            &["B09.FR.02"],
            tc_b_43,
        ),
    ]
}

fn tc_b_30() -> Step {
    let (conn, _) = super::rebooted(&["BootNotification"])?;
    // A short interval: the station boots again soon after the case, and is accepted then.
    kit::expect_and_reply(&conn, "B03", "BootNotification", 10_000, json!({"currentTime": kit::now(), "interval": 2, "status": "Rejected"}))?;
    let outcome = conn.call("GetBaseReport", &json!({"requestId": 30, "reportBase": "FullInventory"}).to_string(), 10_000);
    match outcome {
        // The station boots again after the interval; accepting it leaves the station
        // registered for the next case (the verdict is already decided).
        Ok(CallOutcome::Error(e)) if e.code == "SecurityError" => {
            let _ = kit::expect_and_reply(
                &conn,
                "B03",
                "BootNotification",
                10_000,
                json!({"currentTime": kit::now(), "interval": 300, "status": "Accepted"}),
            );
            Ok(())
        }
        Ok(CallOutcome::Error(e)) => Err(kit::fail("B03.FR.08", "CALLERROR SecurityError", format!("CALLERROR {}", e.code))),
        Ok(CallOutcome::Result(r)) => {
            Err(kit::fail("B03.FR.08", "CALLERROR SecurityError while the registration is Rejected", format!("CALLRESULT {r}")))
        }
        // Part 6: a station that hangs up instead is not asked.
        Err(kit::SessionError::Closed(_)) => Ok(()),
        Err(e) => Err(kit::fail("B03.FR.08", "CALLERROR SecurityError", format!("{e:?}"))),
    }
}

/// The one result of a get or set of OCPPCommCtrlr.OfflineThreshold's Target.
fn target_result(action: &str, req: &str) -> Step<Value> {
    let conn = super::booted(300)?;
    let datum = json!({"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}, "attributeType": "Target"});
    let (payload, list) = match action {
        "GetVariables" => (json!({"getVariableData": [datum]}), "/getVariableResult/0"),
        _ => {
            let mut d = datum;
            d["attributeValue"] = json!("300");
            (json!({"setVariableData": [d]}), "/setVariableResult/0")
        }
    };
    let r = kit::call(&conn, req, action, payload, 10_000)?;
    let result = kit::at(&r, list).clone();
    kit::check(
        result["attributeStatus"] == "NotSupportedAttributeType",
        req,
        "attributeStatus NotSupportedAttributeType for the Target value",
        || result.to_string(),
    )?;
    let echoed =
        result["component"]["name"] == "OCPPCommCtrlr" && result["variable"]["name"] == "OfflineThreshold" && result["attributeType"] == "Target";
    kit::check(echoed, req, "the result names OCPPCommCtrlr.OfflineThreshold and attributeType Target", || result.to_string())?;
    Ok(result)
}

fn tc_b_34() -> Step {
    target_result("GetVariables", "B06.FR.08").map(drop)
}

fn tc_b_37() -> Step {
    target_result("SetVariables", "B05.FR.06").map(drop)
}

/// TC_A_22_CS (part 6): at profile 2 or 3, a connection profile one level lower for the
/// slot not in use must be Rejected. The URL is one no station could reach: nothing is
/// switched even by a station that wrongly accepts.
fn tc_a_22() -> Step {
    kit::security_profiles(&[2, 3])?;
    let conn = super::booted(300)?;
    let lower = kit::config::security_profile() - 1;
    let data = json!({
        "ocppVersion": "OCPP20",
        "ocppTransport": "JSON",
        "ocppCsmsUrl": "ws://csms.invalid/ocpp",
        "messageTimeout": 30,
        "securityProfile": lower,
        "ocppInterface": "Wired0"
    });
    let r = kit::call(&conn, "B09.FR.04", "SetNetworkProfile", json!({"configurationSlot": 2, "connectionData": data}), 10_000)?;
    kit::check(r["status"] == "Rejected", "B09.FR.04", format!("SetNetworkProfile Rejected for security profile {lower}"), || r.to_string())
}

/// The slot the station connects with now (first in NetworkConfigurationPriority) and the
/// other of slots 1 and 2.
fn slots(conn: &kit::Connection) -> Step<(i64, i64)> {
    let r = super::get_variable(conn, "B10", "OCPPCommCtrlr", "NetworkConfigurationPriority")?;
    let current = r["attributeValue"].as_str().and_then(|v| v.split(',').next()).and_then(|s| s.trim().parse().ok()).unwrap_or(1);
    Ok((current, if current == 1 { 2 } else { 1 }))
}

/// Part 6 steps 1-6 of TC_B_45/46_CS: a profile for the slot not in use pointing at the
/// harness's second endpoint, that slot first in NetworkConfigurationPriority, a reset.
/// Returns (old slot, new slot).
fn migrate(conn: &kit::Connection) -> Step<(i64, i64)> {
    let url = kit::alternative_csms_url()?;
    let (old, new) = slots(conn)?;
    let data = json!({
        "ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": url, "messageTimeout": 30,
        "securityProfile": kit::config::security_profile(), "ocppInterface": "Wired0"
    });
    let r = kit::call(conn, "B09.FR.01", "SetNetworkProfile", json!({"configurationSlot": new, "connectionData": data}), 10_000)?;
    kit::check(r["status"] == "Accepted", "B09.FR.01", format!("SetNetworkProfile Accepted for slot {new}"), || r.to_string())?;
    let r = super::set_variable(conn, "B10.FR.01", "OCPPCommCtrlr", "NetworkConfigurationPriority", &format!("{new},{old}"))?;
    let status = r["attributeStatus"].as_str().unwrap_or_default();
    kit::check(
        ["Accepted", "RebootRequired"].contains(&status),
        "B10.FR.01",
        format!("NetworkConfigurationPriority {new},{old} Accepted or RebootRequired"),
        || r.to_string(),
    )?;
    let r = kit::call(conn, "B10.FR.04", "Reset", json!({"type": "OnIdle"}), 10_000)?;
    kit::check(r["status"] == "Accepted", "B10.FR.04", "Reset Accepted", || r.to_string())?;
    let _ = conn.expect_close(15_000);
    Ok((old, new))
}

/// The station comes back within twice the lab's reboot time (Booted): boot Accepted.
fn back(req: &str, expected: &str) -> Step<kit::Connection> {
    let wait = kit::config::lab_timing().reboot_ms.saturating_mul(2);
    let conn = kit::accept_station(req, wait, &["BootNotification"]).map_err(|e| match e {
        kit::Verdict::Fail(f) => kit::fail(req, expected, f.observed),
        other => other,
    })?;
    kit::expect_and_reply(&conn, req, "BootNotification", 10_000, json!({"currentTime": kit::now(), "interval": 300, "status": "Accepted"}))?;
    Ok(conn)
}

/// TC_B_45_CS (part 6): after the reset the station connects with the new profile — the main
/// endpoint plays unreachable meanwhile, so only the new URL can take it. Then the old order
/// is restored (another reset) to leave the station as found.
fn tc_b_45() -> Step {
    let conn = super::booted(300)?;
    kit::silence_endpoint(false, true)?;
    let (old, new) = migrate(&conn)?;
    let conn = back("B10.FR.04", "the station to connect with the new connection profile (the second endpoint)")?;
    kit::silence_endpoint(false, false)?;
    super::set_variable(&conn, "B10", "OCPPCommCtrlr", "NetworkConfigurationPriority", &format!("{old},{new}"))?;
    kit::call(&conn, "B10", "Reset", json!({"type": "OnIdle"}), 10_000)?;
    let _ = conn.expect_close(15_000);
    back("B10", "the station back on its first profile").map(drop)
}

/// TC_B_46_CS (part 6): with NetworkProfileConnectionAttempts 2, the new profile's endpoint
/// closes every attempt unanswered; the station must fall back to the old profile.
fn tc_b_46() -> Step {
    let conn = super::booted(300)?;
    super::configure(&conn, "B10", "OCPPCommCtrlr", "NetworkProfileConnectionAttempts", "2")?;
    kit::silence_endpoint(true, true)?;
    let (old, _) = migrate(&conn)?;
    let conn = back("B10.FR.03", "the station to fall back to its old connection profile after 2 failed attempts")?;
    super::set_variable(&conn, "B10", "OCPPCommCtrlr", "NetworkConfigurationPriority", &old.to_string()).map(drop)
}

/// The hash data of the station's installed CSMS roots.
fn csms_roots(conn: &kit::Connection, req: &str) -> Step<Vec<Value>> {
    let r = kit::call(conn, req, "GetInstalledCertificateIds", json!({"certificateType": ["CSMSRootCertificate"]}), 10_000)?;
    Ok(r["certificateHashDataChain"].as_array().into_iter().flatten().map(|c| c["certificateHashData"].clone()).collect())
}

/// TC_B_50_CS (part 6): memory state CertificatesInstalled puts the second CSMS root on the
/// station; both endpoints then serve a certificate it signed, the main one plays unreachable,
/// and the station must reach the new URL trusting that root. Then the old profile, the run's
/// certificate and the station's roots are restored.
fn tc_b_50() -> Step {
    kit::security_profiles(&[2, 3])?;
    let root = kit::second_csms_root()?;
    let conn = super::booted(300)?;
    let before = csms_roots(&conn, "M05")?;
    let r = kit::call(&conn, "M05", "InstallCertificate", json!({"certificateType": "CSMSRootCertificate", "certificate": root}), 10_000)?;
    if r["status"] != "Accepted" {
        return Err(kit::Verdict::Inconclusive(format!("the second CSMS root could not be installed (memory state CertificatesInstalled): {r}")));
    }
    let added: Vec<Value> = csms_roots(&conn, "M05")?.into_iter().filter(|h| !before.contains(h)).collect();
    kit::serve_certificate(kit::session::Certificate::SecondRoot)?;
    kit::silence_endpoint(false, true)?;
    let outcome = migrate(&conn).and_then(|(old, new)| {
        let conn = back("M05.FR.13", "the station to connect to the new CSMS, whose certificate the installed root signed")?;
        kit::silence_endpoint(false, false)?;
        kit::serve_certificate(kit::session::Certificate::Configured)?;
        super::set_variable(&conn, "B10", "OCPPCommCtrlr", "NetworkConfigurationPriority", &format!("{old},{new}"))?;
        kit::call(&conn, "B10", "Reset", json!({"type": "OnIdle"}), 10_000)?;
        let _ = conn.expect_close(15_000);
        back("B10", "the station back on its first profile")
    });
    kit::silence_endpoint(false, false)?;
    kit::serve_certificate(kit::session::Certificate::Configured)?;
    let conn = outcome?;
    for h in added {
        let _ = kit::call(&conn, "M04", "DeleteCertificate", json!({"certificateHashData": h}), 10_000);
    }
    Ok(())
}

/// TC_A_19_CS (part 6): steps 1-6 send a connection profile at the profile in force + 1 (the
/// harness's second endpoint) and put it first; the harness then expects that profile on
/// every endpoint for the rest of the run — an upgraded station never goes back (A05.FR.06),
/// so later cases run at it. Steps 7-13: the station comes back at it (the host checks the
/// TLS and credentials that profile needs), reports it as SecurityProfile, and has dropped
/// the lower slot from NetworkConfigurationPriority.
fn tc_a_19() -> Step {
    let profile = kit::security_profiles(&[1, 2])?;
    let up = profile + 1;
    let conn = super::booted(300)?;
    let url = kit::alternative_csms_url()?;
    // The second endpoint's URL as a station at the raised profile dials it.
    let url = if up >= 2 { url.replacen("ws://", "wss://", 1) } else { url };
    let (old, new) = slots(&conn)?;
    let data = json!({"ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": url, "messageTimeout": 30, "securityProfile": up, "ocppInterface": "Wired0"});
    let r = kit::call(&conn, "A05", "SetNetworkProfile", json!({"configurationSlot": new, "connectionData": data}), 10_000)?;
    kit::check(r["status"] == "Accepted", "A05", format!("SetNetworkProfile Accepted for slot {new} at security profile {up}"), || r.to_string())?;
    let r = super::set_variable(&conn, "A05.FR.04", "OCPPCommCtrlr", "NetworkConfigurationPriority", &format!("{new},{old}"))?;
    let status = r["attributeStatus"].as_str().unwrap_or_default();
    kit::check(
        ["Accepted", "RebootRequired"].contains(&status),
        "A05.FR.04",
        format!("NetworkConfigurationPriority {new},{old} Accepted or RebootRequired"),
        || r.to_string(),
    )?;
    kit::raise_security_profile(true)?;
    let back_up = (|| {
        let r = kit::call(&conn, "A05.FR.05", "Reset", json!({"type": "OnIdle"}), 10_000)?;
        kit::check(r["status"] == "Accepted", "A05.FR.05", "Reset Accepted", || r.to_string())?;
        let _ = conn.expect_close(15_000);
        back("A05.FR.05", &format!("the station to connect at security profile {up} with the new connection profile"))
    })();
    let conn = match back_up {
        Ok(c) => c,
        Err(v) => {
            // It did not upgrade: the run goes on at the profile it is at.
            let _ = kit::raise_security_profile(false);
            return Err(v);
        }
    };
    let r = super::get_variable(&conn, "A05.FR.06", "SecurityCtrlr", "SecurityProfile")?;
    kit::check(r["attributeValue"] == up.to_string().as_str(), "A05.FR.06", format!("SecurityProfile {up}"), || r.to_string())?;
    let r = super::get_variable(&conn, "A05.FR.06", "OCPPCommCtrlr", "NetworkConfigurationPriority")?;
    let list: Vec<i64> = r["attributeValue"].as_str().unwrap_or_default().split(',').filter_map(|s| s.trim().parse().ok()).collect();
    kit::check(!list.contains(&old), "A05.FR.06", format!("NetworkConfigurationPriority without slot {old}, the lower profile"), || r.to_string())
}

/// TC_A_21_CS (part 6): at security profile 1 a station has no ChargingStationCertificate
/// (profile 1 uses none), which profile 3 needs: a connection profile at 3 for the slot not in
/// use is stored (steps 1-2), but NetworkConfigurationPriority with that slot first is
/// Rejected (steps 3-4, A05.FR.03). The station stays where it is: no reset.
fn tc_a_21() -> Step {
    kit::security_profiles(&[1])?;
    let conn = super::booted(300)?;
    let url = kit::alternative_csms_url()?.replacen("ws://", "wss://", 1);
    let (old, new) = slots(&conn)?;
    let data = json!({"ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": url, "messageTimeout": 30, "securityProfile": 3, "ocppInterface": "Wired0"});
    let r = kit::call(&conn, "A05", "SetNetworkProfile", json!({"configurationSlot": new, "connectionData": data}), 10_000)?;
    kit::check(r["status"] == "Accepted", "A05", format!("SetNetworkProfile Accepted for slot {new} at security profile 3"), || r.to_string())?;
    let r = super::set_variable(&conn, "A05.FR.03", "OCPPCommCtrlr", "NetworkConfigurationPriority", &format!("{new},{old}"))?;
    kit::check(r["attributeStatus"] == "Rejected", "A05.FR.03", format!("NetworkConfigurationPriority {new},{old} Rejected: no station certificate for profile 3"), || r.to_string())
}

fn tc_b_43() -> Step {
    let conn = super::booted(300)?;
    let data = json!({
        "ocppVersion": "OCPP20",
        "ocppTransport": "JSON",
        "ocppCsmsUrl": "ws://csms.invalid/ocpp",
        "messageTimeout": 30,
        "securityProfile": kit::config::security_profile(),
        "ocppInterface": "Wired0"
    });
    let r = kit::call(&conn, "B09.FR.02", "SetNetworkProfile", json!({"configurationSlot": 999, "connectionData": data}), 10_000)?;
    kit::check(r["status"] == "Rejected", "B09.FR.02", "SetNetworkProfile Rejected for configuration slot 999", || r.to_string())
}

/// The variables OCPP 2.0.1 requires of every station (the required ones of the functional
/// blocks Core covers: general, authorization, transactions, meter values, and the physical
/// components), as (component, variable, instance). Facts from the specification's referenced
/// components and variables, in our own table.
const REQUIRED: &[(&str, &str, &str)] = &[
    ("AlignedDataCtrlr", "Interval", ""),
    ("AlignedDataCtrlr", "Measurands", ""),
    ("AlignedDataCtrlr", "TxEndedInterval", ""),
    ("AlignedDataCtrlr", "TxEndedMeasurands", ""),
    ("AuthCtrlr", "AuthorizeRemoteStart", ""),
    ("AuthCtrlr", "LocalAuthorizeOffline", ""),
    ("AuthCtrlr", "LocalPreAuthorize", ""),
    ("ChargingStation", "AvailabilityState", ""),
    ("ChargingStation", "Available", ""),
    ("ChargingStation", "SupplyPhases", ""),
    ("ClockCtrlr", "DateTime", ""),
    ("ClockCtrlr", "TimeSource", ""),
    ("Connector", "Available", ""),
    ("Connector", "ConnectorType", ""),
    ("Connector", "SupplyPhases", ""),
    ("DeviceDataCtrlr", "BytesPerMessage", "GetReport"),
    ("DeviceDataCtrlr", "BytesPerMessage", "GetVariables"),
    ("DeviceDataCtrlr", "BytesPerMessage", "SetVariables"),
    ("DeviceDataCtrlr", "ItemsPerMessage", "GetReport"),
    ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"),
    ("DeviceDataCtrlr", "ItemsPerMessage", "SetVariables"),
    ("EVSE", "AvailabilityState", ""),
    ("EVSE", "Available", ""),
    ("EVSE", "Power", ""),
    ("EVSE", "SupplyPhases", ""),
    ("OCPPCommCtrlr", "FileTransferProtocols", ""),
    ("OCPPCommCtrlr", "MessageTimeout", "Default"),
    ("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent"),
    ("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent"),
    ("OCPPCommCtrlr", "NetworkConfigurationPriority", ""),
    ("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", ""),
    ("OCPPCommCtrlr", "OfflineThreshold", ""),
    ("OCPPCommCtrlr", "ResetRetries", ""),
    ("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", ""),
    ("SampledDataCtrlr", "TxEndedInterval", ""),
    ("SampledDataCtrlr", "TxEndedMeasurands", ""),
    ("SampledDataCtrlr", "TxStartedMeasurands", ""),
    ("SampledDataCtrlr", "TxUpdatedInterval", ""),
    ("SampledDataCtrlr", "TxUpdatedMeasurands", ""),
    ("SecurityCtrlr", "CertificateEntries", ""),
    ("SecurityCtrlr", "OrganizationName", ""),
    ("SecurityCtrlr", "SecurityProfile", ""),
    ("TxCtrlr", "EVConnectionTimeOut", ""),
    ("TxCtrlr", "StopTxOnEVSideDisconnect", ""),
    ("TxCtrlr", "StopTxOnInvalidId", ""),
    ("TxCtrlr", "TxStartPoint", ""),
    ("TxCtrlr", "TxStopPoint", ""),
];

/// The report parts for `request_id`, in order: seqNo from 0 up by one, until tbc is false.
fn report_parts(conn: &kit::Connection, request_id: i64) -> Step<Vec<Value>> {
    let mut items = vec![];
    for expected_seq in 0.. {
        let part = kit::expect_and_reply(conn, "B07.FR.01", "NotifyReport", 10_000, json!({}))?;
        kit::check(
            part["requestId"] == request_id && part["seqNo"] == expected_seq,
            "B07.FR.01",
            format!("NotifyReport part {expected_seq} of request {request_id}"),
            || format!("requestId {} seqNo {}", part["requestId"], part["seqNo"]),
        )?;
        items.extend(part["reportData"].as_array().cloned().unwrap_or_default());
        if part["tbc"] != true {
            break;
        }
    }
    Ok(items)
}

fn tc_b_53() -> Step {
    let conn = super::booted(300)?;
    conn.claim(&["NotifyReport".into()]);
    let r = kit::call(&conn, "B07.FR.01", "GetBaseReport", json!({"requestId": 53, "reportBase": "FullInventory"}), 10_000)?;
    kit::check(r["status"] == "Accepted", "B07.FR.01", "GetBaseReport FullInventory Accepted", || r.to_string())?;
    let items = report_parts(&conn, 53)?;
    let has = |c: &str, v: &str, i: &str| {
        items.iter().any(|d| d["component"]["name"] == c && d["variable"]["name"] == v && d["variable"]["instance"].as_str().unwrap_or("") == i)
    };
    let missing: Vec<String> = REQUIRED
        .iter()
        .filter(|(c, v, i)| !has(c, v, i))
        .map(|(c, v, i)| if i.is_empty() { format!("{c}.{v}") } else { format!("{c}.{v}[{i}]") })
        .collect();
    kit::check(missing.is_empty(), "B07", "every required Core variable in the FullInventory report", || format!("missing {}", missing.join(", ")))?;
    // List types carry their allowed values, and the value is one (or several) of them;
    // write-only values are never reported.
    for d in &items {
        let ch = &d["variableCharacteristics"];
        let name = format!("{}.{}", d["component"]["name"].as_str().unwrap_or("?"), d["variable"]["name"].as_str().unwrap_or("?"));
        let kind = ch["dataType"].as_str().unwrap_or_default();
        for a in d["variableAttribute"].as_array().into_iter().flatten() {
            if a["mutability"] == "WriteOnly" {
                kit::check(a.get("value").is_none(), "B07", format!("no value for the write-only {name}"), || a.to_string())?;
            }
            if !["OptionList", "SequenceList", "MemberList"].contains(&kind) {
                continue;
            }
            let allowed: Vec<&str> = ch["valuesList"].as_str().unwrap_or_default().split(',').map(str::trim).filter(|v| !v.is_empty()).collect();
            kit::check(!allowed.is_empty(), "B07", format!("a valuesList for {name} of type {kind}"), || ch.to_string())?;
            let value = a["value"].as_str().unwrap_or_default();
            let members: Vec<&str> =
                if kind == "OptionList" { vec![value] } else { value.split(',').map(str::trim).filter(|v| !v.is_empty()).collect() };
            kit::check(members.iter().all(|m| allowed.contains(m)), "B07", format!("the value of {name} among its valuesList"), || {
                format!("value {value:?}, valuesList {allowed:?}")
            })?;
        }
    }
    Ok(())
}
