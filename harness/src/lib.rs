//! OCPP-J conformance test harness: loads test suites (WASM components implementing the
//! `ocpp:harness/test-suite` world), runs their cases against a charging station or a CSMS,
//! and reports verdicts with the wire log as evidence. The OCPP-J core (`ocpp-core`), the
//! bench drivers (`ocpp-bench`), the reference DUTs (`ocpp-sim`) and the reports
//! (`ocpp-report`) are crates of their own; this one is the wasmtime host and the runner.
pub mod audit;
pub mod baseline;
pub mod configuration;
pub mod coverage;
pub mod description;
pub mod fidelity;
pub mod host;
pub mod inventory;
pub mod lint;
pub mod ocsp_service;
pub mod pki_operation;
pub mod own_station;
pub mod leftovers;
pub mod perf;
pub mod pics;
pub mod proof;
pub mod questionnaire;
pub mod recovery;
pub mod runner;
pub mod scaffold;
pub mod states;
pub mod select;

/// Suites compiled into the binary so the main job needs nothing but the binary.
pub mod builtin {
    include!(concat!(env!("OUT_DIR"), "/suites.rs"));

    /// (name, component bytes) of every built-in suite.
    pub fn suites() -> Vec<(&'static str, &'static [u8])> {
        vec![(OCPP_SUITE_CORE_NAME, OCPP_SUITE_CORE)]
    }
}
