//! The `command` driver: one program run per bench action, arguments filled in from it.
use std::time::Duration;

use super::{Action, config::CommandSpec};

/// The placeholders of an action and their values: `{capability}`, `{action}` (the OCPP
/// action of a `csms-trigger`, else the capability), and the action's own fields (`ev-15118`:
/// `{evse}`, `{request}`, `{params}`).
pub fn fields(action: &Action) -> Vec<(&'static str, String)> {
    let mut f = vec![("capability", action.capability().to_string())];
    match action {
        Action::CsmsTrigger { action, payload } => {
            f.extend([("action", action.clone()), ("payload", payload.to_string())]);
            f.extend(super::http::action_forms(action));
            // The EVSE the CALL is about, when its payload names one (2.x evseId or evse.id, 1.6 connectorId).
            let evse = [&payload["evseId"], &payload["evse"]["id"], &payload["connectorId"]].into_iter().find_map(|v| v.as_i64());
            if let Some(e) = evse {
                f.push(("evse", e.to_string()));
            }
        }
        other => f.push(("action", other.capability().to_string())),
    }
    match action {
        Action::Plug { evse, connected } => f.extend([("evse", evse.to_string()), ("connected", connected.to_string()), ("onoff", onoff(*connected))]),
        Action::Pilot { evse, state } => f.extend([("evse", evse.to_string()), ("state", format!("{state:?}"))]),
        Action::Token { evse, token } => f.extend([("token", token.clone()), ("evse", evse.to_string())]),
        Action::PowerCycle | Action::CsmsTrigger { .. } => {}
        Action::Network(up) => f.extend([("up", up.to_string()), ("onoff", onoff(*up))]),
        Action::EvFault { evse, fault } => f.extend([("evse", evse.to_string()), ("fault", super::fault_name(*fault).to_string())]),
        Action::Relay { name, on } => f.extend([("name", name.clone()), ("on", on.to_string()), ("onoff", onoff(*on))]),
        Action::Ev15118 { evse, request, params } => f.extend([("evse", evse.to_string()), ("request", request.clone()), ("params", params.to_string())]),
    }
    f
}

/// A switch as SCPI and many device protocols spell it.
fn onoff(on: bool) -> String {
    if on { "ON" } else { "OFF" }.to_string()
}

/// Run the command for an action with these placeholder values (none, for the safe state);
/// Err says why it failed: exit status with the end of its stderr, a time-out, or that it
/// could not start.
pub async fn run(spec: &CommandSpec, values: &[(&str, String)]) -> Result<(), String> {
    let args: Vec<String> = spec
        .args
        .iter()
        .map(|a| values.iter().fold(a.clone(), |acc, (k, v)| acc.replace(&format!("{{{k}}}"), v)))
        .collect();
    let child = tokio::process::Command::new(&spec.program)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", spec.program))?;
    match tokio::time::timeout(Duration::from_millis(spec.timeout_ms), child.wait_with_output()).await {
        Err(_) => Err(format!("{} {} did not finish within {} ms", spec.program, args.join(" "), spec.timeout_ms)),
        Ok(Err(e)) => Err(format!("{}: {e}", spec.program)),
        Ok(Ok(out)) if out.status.success() => Ok(()),
        Ok(Ok(out)) => {
            let err = String::from_utf8_lossy(&out.stderr);
            let tail: String = err.trim().lines().rev().take(3).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(" / ");
            Err(format!("{} {} failed ({}): {tail}", spec.program, args.join(" "), out.status))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, timeout_ms: u64) -> CommandSpec {
        CommandSpec { program: "sh".into(), args: vec!["-c".into(), script.into(), "-".into(), "{evse}".into(), "{connected}".into()], timeout_ms, probe: None }
    }

    #[tokio::test]
    async fn commands_get_the_action_and_report_failures() {
        let dir = std::env::temp_dir().join(format!("bench-cmd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("log");
        let ok = sh(&format!("echo \"$1 $2\" >> {}", log.display()), 5_000);
        run(&ok, &fields(&Action::Plug { evse: 2, connected: true })).await.unwrap();
        assert_eq!(std::fs::read_to_string(&log).unwrap().trim(), "2 true");
        let failing = sh("echo relay board offline >&2; exit 3", 5_000);
        let e = run(&failing, &fields(&Action::Plug { evse: 1, connected: false })).await.unwrap_err();
        assert!(e.contains("relay board offline") && e.contains("3"), "{e}");
        let slow = sh("sleep 5", 100);
        assert!(run(&slow, &[]).await.unwrap_err().contains("did not finish within 100 ms"));
        let missing = CommandSpec { program: "/nonexistent/ev-sim".into(), args: vec![], timeout_ms: 100, probe: None };
        assert!(run(&missing, &[]).await.unwrap_err().contains("cannot start"));
    }

    /// `{action}` of a csms-trigger is the OCPP action, not the capability's name.
    #[test]
    fn a_csms_trigger_names_its_ocpp_action() {
        let f = fields(&Action::CsmsTrigger { action: "Reset".into(), payload: serde_json::json!({"type": "Immediate"}) });
        let get = |k: &str| f.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!((get("action"), get("capability"), get("payload")), (Some("Reset"), Some("csms-trigger"), Some(r#"{"type":"Immediate"}"#)));
        let f = fields(&Action::EvFault { evse: 1, fault: crate::EvFault::RcdTrip });
        assert!(f.contains(&("fault", "rcd-trip".to_string())) && f.contains(&("action", "ev-fault".to_string())));
    }

    /// A token held to one EVSE's reader names that EVSE; the station's one reader is EVSE 0.
    #[test]
    fn a_token_names_the_reader_s_evse() {
        let f = fields(&Action::Token { evse: 2, token: "AB".into() });
        assert!(f.contains(&("evse", "2".to_string())) && f.contains(&("token", "AB".to_string())));
        assert!(fields(&Action::Token { evse: 0, token: "AB".into() }).contains(&("evse", "0".to_string())));
    }
}
