//! Core conformance cases for OCPP 1.6J, 2.0.1 and 2.1, both roles, as one WASM component.
//! Case logic is written from the use cases' intent; ids follow the OCA test tool where a
//! case mirrors one of its cases (`TC_…`) and use our own prefix `OH_` otherwise. Modules are
//! named by version and by the DUT: `_cs` = the DUT is a charging station (the harness plays
//! the CSMS), `_csms` = the DUT is a CSMS.
mod kit;
mod security;
mod v16_cs;
mod v16_csms;
mod v201_cs;
mod v201_csms;
mod v21_cs;
mod v21_csms;

pub(crate) mod bindings {
    wit_bindgen::generate!({ path: "../../wit", world: "test-suite" });
}

use kit::{CaseMeta, OcppVersion, Role, Step, Verdict};

/// One case: its metadata and its body.
pub(crate) struct Case {
    pub id: &'static str,
    pub title: &'static str,
    pub role: Role,
    pub versions: &'static [OcppVersion],
    /// Certification profile; `core` unless the case says otherwise.
    pub profile: &'static str,
    /// Optional DUT features the case depends on; empty = mandatory.
    pub features: &'static [&'static str],
    pub requirements: &'static [&'static str],
    pub needs: &'static [&'static str],
    pub timeout_ms: u32,
    pub run: fn() -> Step,
}

fn all() -> Vec<Case> {
    [v201_cs::cases(), v201_csms::cases(), v16_cs::cases(), v16_csms::cases(), v21_cs::cases(), v21_csms::cases(), security::cases()].into_iter().flatten().collect()
}

struct Suite;

impl bindings::exports::ocpp::harness::suite::Guest for Suite {
    fn cases() -> Vec<CaseMeta> {
        all()
            .into_iter()
            .map(|c| CaseMeta {
                id: c.id.into(),
                title: c.title.into(),
                versions: c.versions.to_vec(),
                role: c.role,
                profile: c.profile.into(),
                features: c.features.iter().map(|s| s.to_string()).collect(),
                requirements: c.requirements.iter().map(|s| s.to_string()).collect(),
                needs: c.needs.iter().map(|s| s.to_string()).collect(),
                timeout_ms: c.timeout_ms,
            })
            .collect()
    }

    fn run(id: String) -> Verdict {
        match all().into_iter().find(|c| c.id == id) {
            Some(c) => match (c.run)() {
                Ok(()) => Verdict::Pass,
                Err(v) => v,
            },
            None => Verdict::Inconclusive(format!("this suite has no case {id}")),
        }
    }
}

bindings::export!(Suite with_types_in bindings);
