//! Part 6's "<Configured chargingRateUnit>" and "<Configured numberPhases>" for the 2.x
//! smart-charging cases of both roles: the DUT description's `charging-rate-unit`, else the
//! one unit a station's SmartChargingCtrlr.RateUnit lists (read with its configuration; A
//! where it lists both or was not read), and `number-phases` (3). A limit part 6 gives as 6 A
//! is 6000 W in W.
use crate::kit::config;

/// Part 6's "<Configured chargingRateUnit>".
pub(crate) fn unit() -> String {
    if let Some(u) = config::parameter("charging-rate-unit").filter(|u| u == "A" || u == "W") {
        return u;
    }
    match listed(&config::parameter("SmartChargingCtrlr.RateUnit").unwrap_or_default()).as_slice() {
        [only] => only.clone(),
        _ => "A".into(),
    }
}

/// The units a RateUnit value ("A,W") lists.
pub(crate) fn listed(rate_unit: &str) -> Vec<String> {
    rate_unit.split(',').map(|u| u.trim().to_string()).filter(|u| u == "A" || u == "W").collect()
}

/// A limit part 6 gives in A, in the configured unit (6 A is 6000 W).
pub(crate) fn limit(amps: f64) -> f64 {
    if unit() == "W" { amps * 1000.0 } else { amps }
}

/// Part 6's "<Configured numberPhases>".
pub(crate) fn phases() -> i64 {
    config::parameter("number-phases").and_then(|p| p.trim().parse().ok()).unwrap_or(3)
}
