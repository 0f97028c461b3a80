//! A suite whose cases attack the host instead of testing a DUT. Not part of the catalogue:
//! the harness's tests run it to prove that each attack ends as an error verdict for that case
//! only.
mod bindings {
    wit_bindgen::generate!({ path: "../../wit", world: "test-suite" });
}

use bindings::{
    exports::ocpp::harness::suite::Guest,
    ocpp::harness::types::{CaseMeta, OcppVersion, Role, Verdict},
};

struct Hostile;

fn meta(id: &str, timeout_ms: u32) -> CaseMeta {
    CaseMeta {
        id: id.into(),
        title: format!("hostile guest: {id}"),
        versions: vec![OcppVersion::V201],
        role: Role::Csms,
        profile: "core".into(),
        features: vec![],
        requirements: vec!["host robustness".into()],
        needs: vec![],
        timeout_ms,
    }
}

impl Guest for Hostile {
    fn cases() -> Vec<CaseMeta> {
        vec![meta("OH_HOSTILE_LOOP_CS", 200), meta("OH_HOSTILE_MEMORY_CS", 10_000), meta("OH_HOSTILE_PANIC_CS", 10_000), meta("OH_HOSTILE_OK_CS", 1_000)]
    }

    fn run(id: String) -> Verdict {
        match id.as_str() {
            "OH_HOSTILE_LOOP_CS" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "OH_HOSTILE_MEMORY_CS" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 16 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "OH_HOSTILE_PANIC_CS" => panic!("deliberate panic in a hostile case"),
            _ => Verdict::Pass,
        }
    }
}

bindings::export!(Hostile with_types_in bindings);
