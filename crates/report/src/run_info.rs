//! What a run was, for a report a customer can be handed: the suites with the SHA-256 of their
//! components (which cases, exactly), the settings it ran with, and per OCPP version, DUT side
//! and certification profile how many runs ended how.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::results::CaseResult;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RunInfo {
    #[serde(default)]
    pub suites: Vec<SuiteInfo>,
    /// Setting -> value, as the command line and the DUT description gave them.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SuiteInfo {
    pub name: String,
    pub sha256: String,
    pub cases: usize,
}

/// Runs of one OCPP version, DUT side and profile, by verdict.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ProfileTally {
    pub version: String,
    pub dut: String,
    pub profile: String,
    pub runs: usize,
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub skipped: usize,
    pub inconclusive: usize,
}

/// The run's results tallied per version, DUT side and profile, in that order.
pub fn tallies(results: &[CaseResult]) -> Vec<ProfileTally> {
    let mut by: BTreeMap<(String, String, String), ProfileTally> = BTreeMap::new();
    for r in results {
        let key = (r.version.to_string(), r.meta.role.dut().to_string(), r.meta.profile.clone());
        let t = by.entry(key.clone()).or_insert_with(|| ProfileTally { version: key.0, dut: key.1, profile: key.2, ..Default::default() });
        t.runs += 1;
        match r.verdict.name() {
            "pass" => t.passed += 1,
            "fail" => t.failed += 1,
            "error" => t.errors += 1,
            "skip" => t.skipped += 1,
            _ => t.inconclusive += 1,
        }
    }
    by.into_values().collect()
}
