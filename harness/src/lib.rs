//! OCPP-J conformance test harness: loads test suites (WASM components implementing the
//! `ocpp:harness/test-suite` world), runs their cases against a charging station or a CSMS,
//! and reports verdicts with the wire log as evidence.
pub mod baseline;
pub mod bench;
pub mod case;
pub mod defaults;
pub mod coverage;
pub mod description;
pub mod dut;
pub mod frame;
pub mod host;
pub mod html;
pub mod lint;
pub mod leftovers;
pub mod model;
pub mod perf;
pub mod proof;
pub mod report;
pub mod runner;
pub mod scaffold;
pub mod schema;
pub mod security;
pub mod session;
pub mod states;
pub mod select;
pub mod trace;
pub mod transport;
pub mod version;

/// Suites compiled into the binary so the main job needs nothing but the binary.
pub mod builtin {
    include!(concat!(env!("OUT_DIR"), "/suites.rs"));

    /// (name, component bytes) of every built-in suite.
    pub fn suites() -> Vec<(&'static str, &'static [u8])> {
        vec![(OCPP_SUITE_CORE_NAME, OCPP_SUITE_CORE)]
    }
}
