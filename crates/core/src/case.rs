//! Case metadata and verdicts as the host reports them.
use std::fmt;

use serde::Serialize;

use crate::{trace::Violation, version::OcppVersion};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The harness plays the CSMS; the DUT is a charging station.
    Csms,
    /// The harness plays the charging station; the DUT is a CSMS.
    ChargingStation,
}

impl Role {
    /// What the DUT is when the harness plays this role.
    pub fn dut(self) -> &'static str {
        match self {
            Role::Csms => "charging station",
            Role::ChargingStation => "CSMS",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Csms => "csms",
            Role::ChargingStation => "charging-station",
        })
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "csms" => Ok(Role::Csms),
            "charging-station" | "station" | "cs" => Ok(Role::ChargingStation),
            _ => Err(format!("unknown role {s:?} (expected csms or charging-station)")),
        }
    }
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct CaseMeta {
    pub suite: String,
    pub id: String,
    pub title: String,
    pub versions: Vec<OcppVersion>,
    pub role: Role,
    /// Certification profile (`core`, `local-auth-list`...).
    pub profile: String,
    /// Optional DUT features the case depends on; empty = mandatory for its profile.
    pub features: Vec<String>,
    pub requirements: Vec<String>,
    pub needs: Vec<String>,
    pub timeout_ms: u32,
    /// Declared differences from the case's part-6 table ("step N: what, because why").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deviations: Vec<String>,
}

impl CaseMeta {
    /// The functional block: the letter of the first use-case requirement (`E` for `E02`),
    /// `RPC` for OCPP-J framing cases, else none (1.6 has no blocks).
    pub fn block(&self) -> Option<String> {
        self.requirements.iter().find_map(|r| {
            let b = r.as_bytes();
            if r.starts_with("OCPP-J") {
                Some("RPC".to_string())
            } else if b.len() >= 3 && b[0].is_ascii_uppercase() && b[1].is_ascii_digit() && b[2].is_ascii_digit() {
                Some(r[..1].to_string())
            } else {
                None
            }
        })
    }

    /// Mandatory for its profile, or only for DUTs with certain features.
    pub fn mandatory(&self) -> bool {
        self.features.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "verdict", content = "detail", rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail { requirement: Option<String>, expected: String, observed: String },
    Skip(String),
    Inconclusive(String),
    /// The harness or the case itself failed (trap, timeout, bad suite): no claim on the DUT.
    Error(String),
}

impl Verdict {
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail { .. } => "fail",
            Verdict::Skip(_) => "skip",
            Verdict::Inconclusive(_) => "inconclusive",
            Verdict::Error(_) => "error",
        }
    }

    /// The same verdict with secrets masked (see `redact`).
    pub fn scrubbed(self) -> Verdict {
        use crate::redact::scrub;
        match self {
            Verdict::Pass => Verdict::Pass,
            Verdict::Fail { requirement, expected, observed } => Verdict::Fail { requirement, expected: scrub(&expected), observed: scrub(&observed) },
            Verdict::Skip(r) => Verdict::Skip(scrub(&r)),
            Verdict::Inconclusive(r) => Verdict::Inconclusive(scrub(&r)),
            Verdict::Error(r) => Verdict::Error(scrub(&r)),
        }
    }

    /// One line for terminals and JUnit messages.
    pub fn reason(&self) -> String {
        match self {
            Verdict::Pass => String::new(),
            Verdict::Fail { requirement, expected, observed } => {
                let req = requirement.as_deref().map(|r| format!("[{r}] ")).unwrap_or_default();
                format!("{req}expected {expected}; observed {observed}")
            }
            Verdict::Skip(r) | Verdict::Inconclusive(r) | Verdict::Error(r) => r.clone(),
        }
    }

    /// The host's own observations (protocol violations) and the case's soft checks override
    /// a guest's pass: a DUT that broke a rule anywhere in the case fails it, even where the
    /// case did not stop. The failure names every deviation, not only the first: the first
    /// one that failed the case, then "also: …" each of the others in the order seen.
    pub fn with_violations(self, violations: &[Violation]) -> Verdict {
        let listed = |vs: &[Violation]| {
            vs.iter()
                .map(|v| {
                    let req = v.requirement.as_deref().map(|r| format!("[{r}] ")).unwrap_or_default();
                    format!("also: {req}expected {}; observed {}", v.expected, v.observed)
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        match (self, violations.split_first()) {
            // The case failed too (perhaps on a consequence, a timeout say): the deviations
            // before and around it are listed with it.
            (Verdict::Fail { requirement, expected, observed }, Some(_)) => Verdict::Fail { requirement, expected, observed: format!("{observed}; {}", listed(violations)) },
            (Verdict::Pass | Verdict::Inconclusive(_), Some((v, rest))) => Verdict::Fail {
                requirement: v.requirement.clone(),
                expected: v.expected.clone(),
                observed: if rest.is_empty() { v.observed.clone() } else { format!("{}; {}", v.observed, listed(rest)) },
            },
            (other, _) => other,
        }
    }

    pub fn is_failure(&self) -> bool {
        matches!(self, Verdict::Fail { .. } | Verdict::Error(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation() -> Violation {
        Violation { t_ms: 1.0, requirement: Some("X.FR.1".into()), expected: "a".into(), observed: "b".into() }
    }

    #[test]
    fn every_verdict_serialises() {
        for v in [Verdict::Pass, Verdict::Skip("s".into()), Verdict::Inconclusive("i".into()), Verdict::Error("e".into()), Verdict::Pass.with_violations(&[violation()])] {
            let json = serde_json::to_value(&v).unwrap();
            assert_eq!(json["verdict"], v.name());
        }
    }

    #[test]
    fn host_violations_turn_a_pass_into_a_fail() {
        let second = Violation { requirement: None, expected: "c".into(), observed: "d".into(), ..violation() };
        let v = Verdict::Pass.with_violations(&[violation(), second.clone()]);
        assert_eq!(v.reason(), "[X.FR.1] expected a; observed b; also: expected c; observed d");
        // A case that failed on its own lists every deviation after its own failure.
        let own = Verdict::Fail { requirement: Some("Y.FR.2".into()), expected: "e".into(), observed: "f".into() }.with_violations(&[violation(), second]);
        assert_eq!(own.reason(), "[Y.FR.2] expected e; observed f; also: [X.FR.1] expected a; observed b; also: expected c; observed d");
        assert!(v.is_failure());
        assert_eq!(Verdict::Pass.with_violations(&[]), Verdict::Pass);
        // A skip stays a skip: the case made no claim.
        assert_eq!(Verdict::Skip("s".into()).with_violations(&[violation()]), Verdict::Skip("s".into()));
    }
}
