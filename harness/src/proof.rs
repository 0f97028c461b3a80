//! The mutation proof: a verdict is only worth something if a broken DUT makes the case fail,
//! and for the case's own reason. A failure in a shared step (the registration every case
//! starts with) or one only the host saw does not count: the failure must cite one of the
//! case's requirements. `ocpp-harness prove` runs it for any suite, the harness's own tests
//! for the built-in one.
use std::sync::Arc;

use serde::Serialize;

use ocpp_core::{case::{CaseMeta, Verdict}, security::Security, trace::WireEntry};
use ocpp_sim::{Fault, Faults};
use ocpp_report::CaseResult;
use crate::{host::{Host, Suite}, runner::{Dut, RunOptions, Runner}};

/// One way to break the reference DUT: a label for the report, its faults, the security
/// profile to run at.
#[derive(Debug, Clone)]
pub struct Mutation {
    pub label: String,
    pub faults: Vec<Fault>,
    pub profile: u8,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "proof", rename_all = "kebab-case")]
pub enum Proof {
    /// `by` made the case fail citing `requirement`, one of its own.
    Proven { by: String, requirement: String },
    /// Nothing tried made it fail for its own reason; what each attempt gave.
    Unproven { tried: Vec<String> },
    /// The case does not pass against the correct reference DUT, so there is nothing to prove.
    DoesNotPass { verdict: String, reason: String },
}

/// Whether a requirement id the case lists covers `cited`: a use case id covers its
/// functional requirements (B01 covers B01.FR.05).
pub fn covers(listed: &str, cited: &str) -> bool {
    cited == listed || cited.strip_prefix(listed).is_some_and(|rest| rest.starts_with('.'))
}

/// The requirement a failing result cites, if it is one of the case's own.
pub fn own_requirement(meta: &CaseMeta, r: &CaseResult) -> Option<String> {
    match &r.verdict {
        Verdict::Fail { requirement: Some(q), .. } if meta.requirements.iter().any(|req| covers(req, q)) => Some(q.clone()),
        _ => None,
    }
}

/// Actions of the CALLs in a wire log (both directions), latest first: the ones a case is
/// about tend to come after the boot that every case starts with.
pub fn actions_in(wire: &[WireEntry]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for e in wire {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&e.text) else { continue };
        if v[0] == 2 {
            if let Some(a) = v[2].as_str().filter(|a| !seen.iter().any(|s| s == a)) {
                seen.push(a.to_string());
            }
        }
    }
    seen.reverse();
    seen
}

/// Security material per profile (profile 0 needs none), made once per process: a proof runs
/// a case many times.
pub fn security(profile: u8, station_id: &str) -> anyhow::Result<Security> {
    static MADE: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<(u8, String), Security>>> = std::sync::OnceLock::new();
    if profile == 0 {
        return Ok(Security::default());
    }
    let mut made = MADE.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = made.get(&(profile, station_id.to_string())) {
        return Ok(s.clone());
    }
    let s = Security::generated(profile, station_id)?;
    made.insert((profile, station_id.to_string()), s.clone());
    Ok(s)
}

/// Run `meta` once against a fresh reference DUT with `faults` at `profile`.
pub async fn run_once(host: &Arc<Host>, suite: &Suite, meta: &CaseMeta, base: &RunOptions, faults: &[Fault], profile: u8) -> anyhow::Result<CaseResult> {
    let mut opts = base.clone();
    opts.dut = Dut::BuiltIn { faults: Faults(faults.to_vec()) };
    opts.fresh_dut = true;
    if opts.security.profile != profile {
        opts.security = security(profile, &opts.config.station_id)?;
    }
    let runner = Runner::new(host.clone(), opts).await?;
    Ok(runner.run_case(suite, meta).await)
}

/// The lowest security profile the case runs at (is not skipped), and its result there.
pub async fn home_run(host: &Arc<Host>, suite: &Suite, meta: &CaseMeta, base: &RunOptions) -> anyhow::Result<(u8, CaseResult)> {
    let mut last = None;
    for p in 0..=3 {
        let r = run_once(host, suite, meta, base, &[], p).await?;
        if !matches!(r.verdict, Verdict::Skip(_)) {
            return Ok((p, r));
        }
        last = Some((p, r));
    }
    Ok(last.expect("four profiles tried"))
}

/// Prove `meta`: first the `given` mutations (e.g. expectation files), then a schema-valid
/// wrong value in each message the correct DUT exchanged with it, then (a CSMS's operator
/// cases) a CSMS that ignores its operator, then each message refused as NotImplemented.
pub async fn prove(host: &Arc<Host>, suite: &Suite, meta: &CaseMeta, base: &RunOptions, given: &[Mutation]) -> anyhow::Result<Proof> {
    let (profile, baseline) = home_run(host, suite, meta, base).await?;
    if !matches!(baseline.verdict, Verdict::Pass) {
        return Ok(Proof::DoesNotPass { verdict: baseline.verdict.name().into(), reason: baseline.reason });
    }
    let mut tried = Vec::new();
    let actions = actions_in(&baseline.trace.wire);
    let wrong_values = actions.clone().into_iter().map(|a| Mutation { label: format!("wrong-value:{a}"), faults: vec![Fault::WrongValue(Some(a))], profile });
    // A case that only needs its messages taken must fail when one is refused.
    let refused = actions.into_iter().map(|a| Mutation { label: format!("not-implemented:{a}"), faults: vec![Fault::NotImplemented(Some(a))], profile });
    // A CSMS that does not do what its operator asked must fail a case the operator drives.
    let operated = meta.role == ocpp_core::case::Role::ChargingStation && meta.needs.iter().any(|n| n == "csms-trigger");
    let ignored = operated.then(|| Mutation { label: "ignore-operator".into(), faults: vec![Fault::IgnoreOperator], profile });
    for m in given.iter().cloned().chain(wrong_values).chain(ignored).chain(refused) {
        let r = run_once(host, suite, meta, base, &m.faults, m.profile).await?;
        if let Some(requirement) = own_requirement(meta, &r) {
            return Ok(Proof::Proven { by: m.label, requirement });
        }
        tried.push(match &r.verdict {
            Verdict::Fail { requirement, .. } => format!("{}: fail citing {}", m.label, requirement.as_deref().unwrap_or("nothing")),
            v => format!("{}: {}", m.label, v.name()),
        });
    }
    Ok(Proof::Unproven { tried })
}
