//! Checks a catalogue's metadata, test262-style: stable unique ids, complete metadata, and an id
//! suffix that agrees with the role (`_CS`: the DUT is a station; `_CSMS`: the DUT is a CSMS).
use std::collections::HashSet;

use ocpp_core::case::{CaseMeta, Role};

/// Every problem found, one line each; empty when the catalogue is clean.
pub fn lint(cases: &[CaseMeta]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    let tables = crate::fidelity::tables();
    for c in cases {
        let id = &c.id;
        // A case that carries a part-6 id claims what its table claims: every FR id the
        // table cites is in its requirements (a use-case id such as B11 covers B11.FR.04).
        if let Some(t) = tables.get(id).filter(|_| c.versions.contains(&ocpp_core::version::OcppVersion::V201)) {
            let absent: Vec<&str> = t.requirements.iter().filter(|r| !c.requirements.iter().any(|l| crate::proof::covers(l, r))).map(String::as_str).collect();
            if !absent.is_empty() {
                problems.push(format!("{id}: part 6's table cites {}, which its requirements do not", absent.join(", ")));
            }
        }
        if !seen.insert(id.as_str()) {
            problems.push(format!("{id}: duplicate id"));
        }
        if id.is_empty() || !id.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_') {
            problems.push(format!("{id:?}: ids are ASCII letters, digits and underscores"));
        }
        let expected_suffix = match c.role {
            Role::Csms => "_CS",
            Role::ChargingStation => "_CSMS",
        };
        if !id.ends_with(expected_suffix) {
            problems.push(format!("{id}: the harness plays {} so the DUT is a {} and the id must end in {expected_suffix}", c.role, c.role.dut()));
        }
        if !(id.starts_with("TC_") || id.starts_with("OH_")) {
            problems.push(format!("{id}: ids start with TC_ (mirrors an OCA case) or OH_ (our own)"));
        }
        if c.title.trim().is_empty() {
            problems.push(format!("{id}: no title"));
        }
        // A deviation from part 6 names its step and says why; only a part-6 case has one.
        for d in &c.deviations {
            if crate::fidelity::deviation_step(d).is_none() {
                problems.push(format!("{id}: deviation {d:?} does not read \"step N: what, because why\""));
            }
            if !id.starts_with("TC_") {
                problems.push(format!("{id}: declares a deviation from part 6, but mirrors no part-6 case"));
            }
        }
        if c.versions.is_empty() {
            problems.push(format!("{id}: no OCPP version"));
        }
        let kebab = |s: &str| !s.is_empty() && s.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
        if !kebab(&c.profile) {
            problems.push(format!("{id}: profile {:?} is not a kebab-case name", c.profile));
        }
        if let Some(f) = c.features.iter().find(|f| !kebab(f)) {
            problems.push(format!("{id}: feature {f:?} is not a kebab-case name"));
        }
        if c.requirements.is_empty() {
            problems.push(format!("{id}: cites no requirement"));
        }
        for need in &c.needs {
            if !ocpp_bench::CAPABILITIES.iter().any(|(name, _)| name == need) {
                let known: Vec<&str> = ocpp_bench::CAPABILITIES.iter().map(|(n, _)| *n).collect();
                problems.push(format!("{id}: needs unknown capability {need:?}; known: {}", known.join(", ")));
            }
        }
        if c.timeout_ms == 0 || c.timeout_ms > 30 * 60 * 1000 {
            problems.push(format!("{id}: timeout {} ms is outside 1 ms..30 min", c.timeout_ms));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocpp_core::version::OcppVersion;

    fn meta(id: &str, role: Role) -> CaseMeta {
        CaseMeta { suite: "s".into(), id: id.into(), title: "t".into(), versions: vec![OcppVersion::V201], role, profile: "core".into(), features: vec![], requirements: vec!["B01".into()], needs: vec![], timeout_ms: 1000, deviations: vec![] }
    }

    #[test]
    fn a_part6_case_lists_its_table_s_requirements() {
        let mut b01 = meta("TC_B_01_CS", Role::Csms);
        b01.requirements = vec!["B01.FR.01".into()];
        let all = lint(&[b01.clone()]).join("\n");
        assert!(all.contains("part 6's table cites") && all.contains("B01.FR.05"), "{all}");
        b01.requirements = vec!["B01".into()];
        assert!(lint(&[b01]).is_empty(), "a use-case id covers its FR ids");
    }

    #[test]
    fn clean_catalogue_has_no_problems() {
        assert!(lint(&[meta("TC_B_01_CS", Role::Csms), meta("TC_B_01_CSMS", Role::ChargingStation)]).is_empty());
    }

    #[test]
    fn finds_each_kind_of_problem() {
        let mut untitled = meta("OH_X_01_CS", Role::Csms);
        untitled.title.clear();
        untitled.requirements.clear();
        untitled.timeout_ms = 0;
        untitled.needs = vec!["teleporter".into()];
        untitled.profile = "Core Profile".into();
        untitled.deviations = vec!["differs somewhere".into()];
        let problems = lint(&[meta("TC_B_01_CS", Role::Csms), meta("TC_B_01_CS", Role::Csms), meta("TC_B_02_CS", Role::ChargingStation), meta("X-1_CS", Role::Csms), untitled]);
        let all = problems.join("\n");
        for needle in ["duplicate id", "must end in _CSMS", "ASCII", "start with TC_", "no title", "cites no requirement", "timeout 0 ms", "unknown capability \"teleporter\"", "not a kebab-case name", "step N: what, because why", "mirrors no part-6 case"] {
            assert!(all.contains(needle), "{needle} not in:\n{all}");
        }
    }
}
