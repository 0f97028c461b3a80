//! Legal variants of the reference station: behaviours OCPP allows but that are unusual, the
//! mirror of the fault switches. A case that fails against one gives a false verdict — the
//! harness's bug, not the DUT's — so the tests run every CSMS-role case against each.
use std::{fmt, str::FromStr, time::Duration};

/// One legal but unusual way of behaving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Sends the CALL a CSMS request causes (Authorize, StatusNotification...) before it
    /// answers that request, and answers only once its own CALL is answered (OCPP-J lets
    /// CALLs cross).
    OwnCallFirst,
    /// Answers every CSMS request after `SLOW_ANSWER`, well inside the response time-out.
    SlowAnswers,
    /// Takes `SLOW_RECONNECT` to come back after a reboot or a lost connection (a long
    /// back-off; after a lost connection it does not boot again, as B04 allows).
    SlowReconnect,
    /// 1.6: never reports connector 0 (the charge point as a whole), which 1.6 leaves optional.
    NoConnectorZero,
    /// 2.x: adds the optional `customData` object to every message it sends.
    CustomData,
}

/// How late `slow-answers` answers.
pub const SLOW_ANSWER: Duration = Duration::from_millis(400);
/// How long `slow-reconnect` stays away.
pub const SLOW_RECONNECT: Duration = Duration::from_secs(3);

impl Variant {
    pub const ALL: [(Variant, &'static str); 5] = [
        (Variant::OwnCallFirst, "own-call-first"),
        (Variant::SlowAnswers, "slow-answers"),
        (Variant::SlowReconnect, "slow-reconnect"),
        (Variant::NoConnectorZero, "no-connector-zero"),
        (Variant::CustomData, "custom-data"),
    ];
}

impl FromStr for Variant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Variant::ALL.iter().find(|(_, n)| *n == s).map(|(v, _)| *v).ok_or_else(|| {
            let names: Vec<&str> = Variant::ALL.iter().map(|(_, n)| *n).collect();
            format!("unknown variant {s:?}; known: {}", names.join(", "))
        })
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = Variant::ALL.iter().find(|(v, _)| v == self).map(|(_, n)| *n).unwrap_or("?");
        f.write_str(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_typos_are_refused() {
        for (v, n) in Variant::ALL {
            assert_eq!(n.parse::<Variant>().unwrap(), v);
            assert_eq!(v.to_string(), n);
        }
        assert!("own-call-frist".parse::<Variant>().unwrap_err().contains("own-call-first"));
    }
}
