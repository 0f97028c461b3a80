//! The console of `ocpp-harness sim`: one command per line on stdin drives the simulator's
//! physical inputs (station) or makes it send a message (CSMS), so the reference DUTs are
//! useful on their own, e.g. when trying another OCPP implementation against them.
use serde_json::Value;

use ocpp_bench::{Action, Pilot};

pub const STATION_HELP: &str = "commands: plug N | unplug N | pilot N A..F | token ID | power-cycle | network up|down";
pub const CSMS_HELP: &str = "commands: send STATION ACTION {json payload} | stations";

/// One station console line.
pub fn station_command(line: &str) -> Result<Action, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let evse = |i: usize| words.get(i).and_then(|w| w.parse::<u32>().ok()).ok_or_else(|| format!("expected an EVSE number; {STATION_HELP}"));
    Ok(match words.as_slice() {
        ["plug", ..] => Action::Plug { evse: evse(1)?, connected: true },
        ["unplug", ..] => Action::Plug { evse: evse(1)?, connected: false },
        ["pilot", _, state] => {
            let state = Pilot::from_letter(state).ok_or_else(|| format!("unknown pilot state {state:?} (A..F)"))?;
            Action::Pilot { evse: evse(1)?, state }
        }
        ["token", id] => Action::Token { evse: 0, token: id.to_string() },
        ["token", id, evse] => Action::Token { evse: evse.parse().map_err(|_| format!("bad EVSE {evse:?}"))?, token: id.to_string() },
        ["power-cycle"] => Action::PowerCycle,
        ["network", "up"] => Action::Network(true),
        ["network", "down"] => Action::Network(false),
        _ => return Err(format!("unknown command {line:?}; {STATION_HELP}")),
    })
}

/// A CSMS console command.
#[derive(Debug, PartialEq)]
pub enum CsmsCommand {
    Send { station: String, action: String, payload: Value },
    Stations,
}

pub fn csms_command(line: &str) -> Result<CsmsCommand, String> {
    let line = line.trim();
    if line == "stations" {
        return Ok(CsmsCommand::Stations);
    }
    let mut parts = line.splitn(4, char::is_whitespace);
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("send"), Some(station), Some(action), rest) => {
            let payload = serde_json::from_str(rest.unwrap_or("{}")).map_err(|e| format!("the payload is not JSON: {e}"))?;
            Ok(CsmsCommand::Send { station: station.into(), action: action.into(), payload })
        }
        _ => Err(format!("unknown command {line:?}; {CSMS_HELP}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn station_commands_parse() {
        assert!(matches!(station_command("plug 2").unwrap(), Action::Plug { evse: 2, connected: true }));
        assert!(matches!(station_command("pilot 1 c").unwrap(), Action::Pilot { evse: 1, state: Pilot::C }));
        assert!(matches!(station_command("network down").unwrap(), Action::Network(false)));
        assert!(station_command("plug x").unwrap_err().contains("EVSE number"));
        assert!(station_command("dance").unwrap_err().contains("commands:"));
    }

    #[test]
    fn csms_commands_parse() {
        let c = csms_command(r#"send CS001 Reset {"type": "Immediate"}"#).unwrap();
        assert_eq!(c, CsmsCommand::Send { station: "CS001".into(), action: "Reset".into(), payload: serde_json::json!({"type": "Immediate"}) });
        assert!(csms_command("send CS001 Reset {oops").unwrap_err().contains("not JSON"));
    }
}
