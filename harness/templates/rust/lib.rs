//! {{name}}: OCPP conformance cases for ocpp-harness, in Rust.
//! Build: cargo build --release --target wasm32-wasip2
//! Run:   ocpp-harness run --suite target/wasm32-wasip2/release/{{crate_snake}}.wasm
use ocpp_case_sdk::{
    Case,
    kit::{self, Role, Step, V201},
    msg,
};

/// The harness plays a station: the CSMS DUT must accept a cold boot.
fn csms_accepts_boot() -> Step {
    let conn = kit::connect_csms("B01")?;
    let r = kit::call(&conn, "B01.FR.02", "BootNotification", msg::boot_notification(kit::config::version(), "PowerUp"), 10_000)?;
    kit::check(r["status"] == "Accepted", "B01.FR.02", "registration status Accepted", || r.to_string())
}

/// The harness plays the CSMS: the station DUT must boot with reason PowerUp.
fn station_boots() -> Step {
    let conn = kit::accept_station("B01", 15_000, &["BootNotification"])?;
    let v = kit::config::version();
    let boot = kit::expect_and_reply(&conn, "B01.FR.01", "BootNotification", 10_000, msg::boot_notification_response(v, "Accepted", 300, &kit::now()))?;
    kit::check(boot["reason"] == "PowerUp", "B01.FR.01", "boot reason PowerUp", || boot.to_string())
}

fn cases() -> Vec<Case> {
    vec![
        Case::new("OH_{{prefix}}_B_01_CSMS", "The CSMS accepts a cold boot", Role::ChargingStation, V201, &["B01.FR.02"], csms_accepts_boot),
        Case::new("OH_{{prefix}}_B_01_CS", "The station boots with reason PowerUp", Role::Csms, V201, &["B01.FR.01"], station_boots),
    ]
}

ocpp_case_sdk::suite!(cases);
