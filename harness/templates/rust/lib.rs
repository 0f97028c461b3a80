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

/// The harness plays the CSMS: after a reboot (reusable state Booted) the station DUT must
/// boot with the reason that matches how it was rebooted.
fn station_boots() -> Step {
    let (conn, method) = kit::reboot_station(&["BootNotification"])?;
    let v = kit::config::version();
    let boot = kit::expect_and_reply(&conn, "B01.FR.01", "BootNotification", 10_000, msg::boot_notification_response(v, "Accepted", 300, &kit::now()))?;
    let reason = kit::boot_reason(method);
    kit::check(boot["reason"] == reason, "B01.FR.09", format!("boot reason {reason}"), || boot.to_string())
}

fn cases() -> Vec<Case> {
    vec![
        Case::new("OH_{{prefix}}_B_01_CSMS", "The CSMS accepts a cold boot", Role::ChargingStation, V201, &["B01.FR.02"], csms_accepts_boot),
        Case::new("OH_{{prefix}}_B_01_CS", "After a reboot the station boots with the matching reason", Role::Csms, V201, &["B01.FR.01"], station_boots),
    ]
}

ocpp_case_sdk::suite!(cases);
