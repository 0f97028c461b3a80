//! Block B, provisioning, for a charging-station DUT (part 6 §2.2): the registration states
//! (B03.FR.08), attribute types the device model does not have (B05.FR.06, B06.FR.08) and
//! network connection profiles (B09).
use serde_json::{Value, json};

use crate::{
    Case,
    kit::{self, CallOutcome, Role, Step, V201},
};

fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    Case {
        id,
        title,
        role: Role::Csms,
        versions: V201,
        profile: "core",
        features: &[],
        requirements,
        needs: &[],
        timeout_ms: 30_000,
        run,
    }
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
        Ok(CallOutcome::Error(e)) if e.code == "SecurityError" => Ok(()),
        Ok(CallOutcome::Error(e)) => Err(kit::fail("B03.FR.08", "CALLERROR SecurityError", format!("CALLERROR {}", e.code))),
        Ok(CallOutcome::Result(r)) => Err(kit::fail("B03.FR.08", "CALLERROR SecurityError while the registration is Rejected", format!("CALLRESULT {r}"))),
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
    kit::check(result["attributeStatus"] == "NotSupportedAttributeType", req, "attributeStatus NotSupportedAttributeType for the Target value", || result.to_string())?;
    let echoed = result["component"]["name"] == "OCPPCommCtrlr" && result["variable"]["name"] == "OfflineThreshold" && result["attributeType"] == "Target";
    kit::check(echoed, req, "the result names OCPPCommCtrlr.OfflineThreshold and attributeType Target", || result.to_string())?;
    Ok(result)
}

fn tc_b_34() -> Step {
    target_result("GetVariables", "B06.FR.08").map(drop)
}

fn tc_b_37() -> Step {
    target_result("SetVariables", "B05.FR.06").map(drop)
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
