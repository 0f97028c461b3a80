//! Part 6's configuration states: the device-model variables a test case table sets before
//! its steps ("Before (Preparations): Configuration State"). `harness/data/part6-configuration.json`
//! has those that set a variable to a literal value (made from part 6's index by
//! `scripts/part6-configuration.py`, names checked against part 2's device model); the host
//! applies them once the station is ready for the case, through `baseline::call_knowing`, so the
//! baseline sets them back afterwards. A state that cannot be made is one verdict with the
//! reason, not a false one: a missing variable part 2 requires fails the case, a missing
//! optional one (unless part 6 says "if implemented") or a refused one skips it.
use std::{collections::BTreeMap, sync::{Mutex, OnceLock}, time::Duration};

use serde::Deserialize;
use serde_json::{Value, json};

use ocpp_core::{case::Verdict, session::{CallOutcome, Connection}, version::OcppVersion};

/// One variable a configuration state sets.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Setting {
    pub component: String,
    pub variable: String,
    pub value: String,
    /// Part 2's appendix: every station has it.
    pub required: bool,
    /// Part 6: "(If implemented)" — a station without it goes on without it.
    pub if_implemented: bool,
    /// Part 6: only where the variable is ReadWrite — a read-only one keeps its value.
    pub if_writable: bool,
}

impl Setting {
    fn name(&self) -> String {
        format!("{}.{}", self.component, self.variable)
    }
}

/// Every table's settings, by test case id.
pub fn tables() -> &'static BTreeMap<String, Vec<Setting>> {
    static TABLES: OnceLock<BTreeMap<String, Vec<Setting>>> = OnceLock::new();
    TABLES.get_or_init(|| serde_json::from_str(include_str!("../data/part6-configuration.json")).expect("part6-configuration.json"))
}

/// A case's configuration state, applied at most once per case.
#[derive(Debug, Default)]
pub struct State {
    pub settings: Vec<Setting>,
    applied: Mutex<bool>,
    /// The verdict the case gets because its state could not be made (Skip or Fail).
    unmet: Mutex<Option<Verdict>>,
}

impl State {
    /// The state of the part-6 case `id` at `version` (part 6 is OCPP 2.0.1's; 2.1 keeps
    /// the device model). None at 1.6.
    pub fn for_case(id: &str, version: OcppVersion) -> State {
        let settings = match version {
            OcppVersion::V16 => vec![],
            _ => tables().get(id).cloned().unwrap_or_default(),
        };
        State { settings, ..Default::default() }
    }

    /// Make the state on `conn`, the first time a case asks for the station; Err with the
    /// reason when it cannot be made (the verdict is kept for `unmet`).
    pub async fn apply(&self, conn: &Connection, timeout: Duration) -> Result<(), String> {
        if self.settings.is_empty() || std::mem::replace(&mut *self.applied.lock().unwrap(), true) {
            return match &*self.unmet.lock().unwrap() {
                Some(v) => Err(v.reason()),
                None => Ok(()),
            };
        }
        match make(conn, &self.settings, timeout).await {
            Ok(()) => Ok(()),
            Err(v) => {
                let reason = v.reason();
                *self.unmet.lock().unwrap() = Some(v);
                Err(reason)
            }
        }
    }

    /// The verdict for a case whose state could not be made: it replaces the case's own,
    /// which could only be about the missing preparation.
    pub fn unmet(&self) -> Option<Verdict> {
        self.unmet.lock().unwrap().clone()
    }
}

/// Read every setting, and set those that differ; the first that cannot be made ends it.
async fn make(conn: &Connection, settings: &[Setting], timeout: Duration) -> Result<(), Verdict> {
    let trace = conn.trace();
    let data: Vec<Value> = settings.iter().map(|s| json!({"component": {"name": s.component}, "variable": {"name": s.variable}})).collect();
    let answer = match conn.call("GetVariables", json!({"getVariableData": data}), timeout).await {
        Ok(CallOutcome::Result(r)) => r,
        other => return Err(Verdict::Inconclusive(format!("part 6's configuration state: could not read the variables to set ({other:?})"))),
    };
    let read = answer["getVariableResult"].as_array().cloned().unwrap_or_default();
    // What the baseline sets back after the case: the values just read.
    let before = crate::baseline::values_read(conn.version(), &answer);
    for s in settings {
        let now = read.iter().find(|r| r["component"]["name"] == s.component.as_str() && r["variable"]["name"] == s.variable.as_str());
        let status = now.and_then(|r| r["attributeStatus"].as_str()).unwrap_or("UnknownVariable");
        if matches!(status, "UnknownComponent" | "UnknownVariable") {
            missing(s)?;
            trace.log("state", format!("part 6's configuration state: the station has no {}, which part 6 sets only if implemented", s.name()));
            continue;
        }
        if now.and_then(|r| r["attributeValue"].as_str()) == Some(s.value.as_str()) {
            continue;
        }
        let set = json!({"setVariableData": [{"component": {"name": s.component}, "variable": {"name": s.variable}, "attributeValue": s.value}]});
        let answer = match crate::baseline::call_knowing(conn, "SetVariables", set, &before, timeout).await {
            Ok(CallOutcome::Result(r)) => r["setVariableResult"][0]["attributeStatus"].as_str().unwrap_or_default().to_string(),
            Ok(CallOutcome::Error { code, .. }) => code,
            Err(e) => return Err(Verdict::Inconclusive(format!("part 6's configuration state: SetVariables {} = {}: {e}", s.name(), s.value))),
        };
        match answer.as_str() {
            "Accepted" | "RebootRequired" => trace.log("state", format!("part 6's configuration state: {} set to {} (set back after the case)", s.name(), s.value)),
            "UnknownComponent" | "UnknownVariable" => missing(s)?,
            _ if s.if_writable => trace.log("state", format!("part 6's configuration state: {} = {} answered {answer}: read-only here, the case goes on with the station's value", s.name(), s.value)),
            _ => return Err(Verdict::Skip(format!("part 6's configuration state {} = {} cannot be made: the station answered {answer}", s.name(), s.value))),
        }
    }
    Ok(())
}

/// What a station without the variable means for the case: Ok where part 6 sets it only if
/// implemented, a failure where part 2 requires it, else a skip.
fn missing(s: &Setting) -> Result<(), Verdict> {
    if s.if_implemented {
        Ok(())
    } else if s.required {
        Err(Verdict::Fail { requirement: Some("part 2 appendix (Required: yes)".into()), expected: format!("the required variable {}", s.name()), observed: "the station does not have it".into() })
    } else {
        Err(Verdict::Skip(format!("the station does not have {}, which part 2 leaves optional and part 6's configuration state for this case sets to {}", s.name(), s.value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_name_device_model_variables() {
        let t = tables();
        let b07 = &t["TC_B_07_CS"];
        assert!(b07.iter().any(|s| s.name() == "AuthCtrlr.LocalAuthorizeOffline" && s.value == "true" && s.required), "{b07:?}");
        assert!(t["TC_C_02_CS"].iter().all(|s| s.if_implemented), "AuthEnabled and DisableRemoteAuthorization: only if implemented");
        assert!(State::for_case("TC_B_07_CS", OcppVersion::V16).settings.is_empty());
    }

    #[test]
    fn a_missing_variable_is_judged_by_part_2_and_part_6() {
        let s = |required, if_implemented| Setting { component: "C".into(), variable: "V".into(), value: "1".into(), required, if_implemented, if_writable: false };
        assert!(missing(&s(true, true)).is_ok() && missing(&s(false, true)).is_ok());
        assert!(matches!(missing(&s(true, false)), Err(Verdict::Fail { .. })));
        assert!(matches!(missing(&s(false, false)), Err(Verdict::Skip(r)) if r.contains("C.V")));
    }
}
