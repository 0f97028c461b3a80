//! What a run produced, as the reports write it: one result per case run, and what the run saw
//! of each station DUT.
use serde::Serialize;

use ocpp_core::{
    case::{CaseMeta, Role, Verdict},
    trace::TraceData,
    version::OcppVersion,
};

#[derive(Debug, Serialize, serde::Deserialize)]
pub struct CaseResult {
    pub meta: CaseMeta,
    pub version: OcppVersion,
    #[serde(flatten)]
    pub verdict: Verdict,
    pub reason: String,
    pub duration_ms: f64,
    pub trace: TraceData,
}

impl CaseResult {
    /// A suite that could not be loaded, reported as an error entry named after it.
    pub fn suite_error(suite: &str, reason: &str) -> CaseResult {
        let stem = std::path::Path::new(suite).file_stem().and_then(|s| s.to_str()).unwrap_or(suite);
        let id: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
        let meta = CaseMeta {
            suite: suite.to_string(),
            id: format!("SUITE_{id}"),
            title: format!("load the suite {suite}"),
            versions: vec![],
            role: Role::Csms,
            profile: "core".into(),
            features: vec![],
            requirements: vec![],
            needs: vec![],
            timeout_ms: 0,
            deviations: vec![],
        };
        let verdict = Verdict::Error(format!("suite {suite} could not be loaded: {reason}"));
        CaseResult { meta, version: OcppVersion::V201, reason: verdict.reason(), verdict, duration_ms: 0.0, trace: TraceData::default() }
    }
}

/// What the run saw of one station DUT: connections, boots, registration.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct StationSummary {
    pub station_id: String,
    /// The version of the built-in station; none for an external DUT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<OcppVersion>,
    pub connections: u32,
    pub boots: u32,
    pub reboots_requested: u32,
    pub registration: String,
    /// What it said about itself when it booted (vendor, model, serial, firmware).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The station the harness played against a CSMS DUT (its connections and boots are the
    /// harness's own, and few: it reconnects and boots only for cases about that).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub played_by_harness: bool,
    /// Its configuration as read at the start of the run (TxStartPoint, authorization...):
    /// what the cases were judged against.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub configuration: std::collections::BTreeMap<String, String>,
}

