//! The Rust SDK for ocpp-harness test suites.
//!
//! A suite is a `cdylib` crate built for `wasm32-wasip2`. It lists its cases as [`Case`]s and
//! exports them with [`suite!`]:
//!
//! ```ignore
//! use ocpp_case_sdk::{Case, kit::{self, Role, Step, V201}, msg};
//!
//! fn boot() -> Step {
//!     let conn = kit::connect_csms("B01")?;
//!     let r = kit::call(&conn, "B01.FR.02", "BootNotification", msg::boot_notification(kit::OcppVersion::V201, "PowerUp"), 10_000)?;
//!     kit::check(r["status"] == "Accepted", "B01.FR.02", "registration status Accepted", || r.to_string())
//! }
//!
//! fn cases() -> Vec<Case> {
//!     vec![Case::new("OH_MY_B_01_CSMS", "The CSMS accepts a cold boot", Role::ChargingStation, V201, &["B01.FR.02"], boot)]
//! }
//!
//! ocpp_case_sdk::suite!(cases);
//! ```
//!
//! - [`kit`]: sessions and bench actions whose errors become verdicts that say requirement,
//!   expected and observed; the default-answer hooks (`claim`, `set-default-answer`) are on
//!   the connection.
//! - [`msg`]: payloads of the common messages per OCPP version (the harness's tests validate
//!   each against the official schemas).
pub mod kit;
pub mod msg;

/// Bindings of the `ocpp:harness` world (wit-bindgen); suites rarely need them directly.
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "test-suite",
        pub_export_macro: true,
        export_macro_name: "export_test_suite",
        default_bindings_module: "ocpp_case_sdk::bindings",
    });
}

use kit::{CaseMeta, OcppVersion, Role, Step, Verdict};

/// One case: its metadata and its body.
pub struct Case {
    /// Stable id: the OCA test id (`TC_B_01_CS`) where the case mirrors one, else `OH_...`.
    pub id: &'static str,
    pub title: &'static str,
    /// The role the harness plays.
    pub role: Role,
    pub versions: &'static [OcppVersion],
    /// Certification profile; `core` unless the case says otherwise.
    pub profile: &'static str,
    /// Optional DUT features the case depends on; empty = mandatory.
    pub features: &'static [&'static str],
    pub requirements: &'static [&'static str],
    /// Bench capabilities the case uses (`plug`, `token-reader`...).
    pub needs: &'static [&'static str],
    pub timeout_ms: u32,
    pub run: fn() -> Step,
}

impl Case {
    /// A mandatory `core` case that needs no bench and gets 20 s; adjust the fields for others.
    pub fn new(
        id: &'static str,
        title: &'static str,
        role: Role,
        versions: &'static [OcppVersion],
        requirements: &'static [&'static str],
        run: fn() -> Step,
    ) -> Case {
        Case {
            id,
            title,
            role,
            versions,
            profile: "core",
            features: &[],
            requirements,
            needs: &[],
            timeout_ms: 20_000,
            run,
        }
    }

    /// The bench capabilities the case uses.
    pub fn needs(self, needs: &'static [&'static str]) -> Case {
        Case {
            needs,
            ..self
        }
    }

    /// The optional DUT features the case depends on (it is skipped where the DUT description
    /// does not declare them).
    pub fn features(self, features: &'static [&'static str]) -> Case {
        Case {
            features,
            ..self
        }
    }

    /// The case's time limit.
    pub fn timeout_ms(self, timeout_ms: u32) -> Case {
        Case {
            timeout_ms,
            ..self
        }
    }

    /// The certification profile, when not `core`.
    pub fn profile(self, profile: &'static str) -> Case {
        Case {
            profile,
            ..self
        }
    }

    pub fn meta(&self) -> CaseMeta {
        CaseMeta {
            id: self.id.into(),
            title: self.title.into(),
            versions: self.versions.to_vec(),
            role: self.role,
            profile: self.profile.into(),
            features: self.features.iter().map(|s| s.to_string()).collect(),
            requirements: self.requirements.iter().map(|s| s.to_string()).collect(),
            needs: self.needs.iter().map(|s| s.to_string()).collect(),
            timeout_ms: self.timeout_ms,
            deviations: vec![],
        }
    }
}

/// Run the case `id` of `cases`: its verdict, or inconclusive if there is no such case.
pub fn run(cases: &[Case], id: &str) -> Verdict {
    match cases.iter().find(|c| c.id == id) {
        Some(c) => match (c.run)() {
            Ok(()) => Verdict::Pass,
            Err(v) => v,
        },
        None => Verdict::Inconclusive(format!("this suite has no case {id}")),
    }
}

/// The metadata of `cases`, each with the deviations `declared` lists under its id.
pub fn metas(cases: &[Case], declared: &[(&str, &[&str])]) -> Vec<CaseMeta> {
    cases
        .iter()
        .map(|c| {
            let mut m = c.meta();
            m.deviations = declared.iter().filter(|(id, _)| *id == c.id).flat_map(|(_, d)| d.iter().map(|s| s.to_string())).collect();
            m
        })
        .collect()
}

/// Export a suite: `suite!(cases)` where `cases` is a `fn() -> Vec<Case>`, or
/// `suite!(cases, deviations = TABLE)` with the declared deviations from part 6 by case id
/// (`&[(&str, &[&str])]`, each "step N: what, because why").
#[macro_export]
macro_rules! suite {
    ($cases:path) => {
        $crate::suite!($cases, deviations = &[]);
    };
    ($cases:path, deviations = $declared:expr) => {
        struct __OcppSuite;
        impl $crate::bindings::exports::ocpp::harness::suite::Guest for __OcppSuite {
            fn cases() -> ::std::vec::Vec<$crate::kit::CaseMeta> {
                $crate::metas(&$cases(), $declared)
            }
            fn run(id: ::std::string::String) -> $crate::kit::Verdict {
                $crate::run(&$cases(), &id)
            }
        }
        $crate::bindings::export_test_suite!(__OcppSuite with_types_in $crate::bindings);
    };
}
