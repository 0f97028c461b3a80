//! Core conformance cases for OCPP 1.6J, 2.0.1 and 2.1, both roles, as one WASM component.
//! Case logic is written from the use cases' intent; ids follow the OCA test tool where a
//! case mirrors one of its cases (`TC_…`) and use our own prefix `OH_` otherwise. Modules are
//! named by version and by the DUT: `_cs` = the DUT is a charging station (the harness plays
//! the CSMS), `_csms` = the DUT is a CSMS. Built on the Rust SDK (`ocpp-case-sdk`).
mod charging_rate;
mod deviations;
mod rpc_csms;
mod security;
mod v16_cs;
mod v16_csms;
mod v201_cs;
mod v201_csms;
mod v21_cs;
mod v21_csms;

pub(crate) use ocpp_case_sdk::{Case, kit, msg};

/// OCPP 2.1 keeps every use case of 2.0.1's Core profile: each 2.0.1 Core case runs at 2.1
/// too, under the same id, against 2.1's schemas (the host validates both ways per version).
/// The other profiles' cases stay at 2.0.1 until each is checked against 2.1's part 2.
fn also_at_21(mut c: Case) -> Case {
    if c.profile == "core" && c.versions == kit::V201 {
        c.versions = &[kit::OcppVersion::V201, kit::OcppVersion::V21];
    }
    c
}

fn all() -> Vec<Case> {
    [
        v201_cs::cases().into_iter().map(also_at_21).collect(),
        v201_csms::cases().into_iter().map(also_at_21).collect(),
        v16_cs::cases(),
        v16_csms::cases(),
        v21_cs::cases(),
        v21_csms::cases(),
        rpc_csms::cases(),
        security::cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

ocpp_case_sdk::suite!(all, deviations = deviations::DEVIATIONS);
