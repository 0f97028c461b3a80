//! The mutation proof: a verdict is only worth something if a broken DUT makes the case fail,
//! and for the case's own reason. A failure in a shared step (the registration every case
//! starts with), in the case's preparation (inconclusive, citing nothing) or one only the
//! host saw does not count: the failure must cite one of the case's requirements, and the
//! mutation must be of something the case claims — one field a check reads (a TC case: one
//! its part-6 validations check), or the answer itself where answering is the claim.
//! `ocpp-harness prove` runs it for any suite, the harness's own tests for the built-in one.
use std::sync::Arc;

use serde::Serialize;

use ocpp_core::{case::{CaseMeta, Verdict}, security::Security};
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
    opts.dut = Dut::BuiltIn { faults: Faults::new(faults.to_vec()) };
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

/// One field of a message the DUT sends that a check of the case reads, and why the proof
/// thinks so (the part-6 validation, or a failure when every field of the message was wrong).
#[derive(Debug, Clone)]
struct Read {
    action: String,
    path: String,
    because: String,
}

/// What a case claims, as the proof reads it. A TC case claims what its part-6 table's tool
/// validations check (or, where it has none, the values its DUT steps state and the answers
/// the DUT gives); an own case claims whatever its checks read, found by making each of the
/// DUT's messages wrong, then each field of the one that failed it.
#[derive(Debug, Default)]
struct Claims {
    /// Fields a part-6 validation reads, in the table's order.
    validated: Vec<Read>,
    /// Messages whose every field may be what a check reads, each with its fields: for a case
    /// without a usable table all the DUT's, latest first; for a TC case the requests part 6
    /// validates without naming a field. Each is made wholly wrong first, then field by field.
    search: Vec<(String, Vec<String>)>,
    /// Actions whose answer is itself the claim: refusing them (NotImplemented, silence) may
    /// prove the case. Part 6 validates the DUT's answer to them, or an own case is about
    /// OCPP-J's RPC framework.
    answering: Vec<String>,
    /// The DUT's own requests are what part 6 validates, so a CSMS that ignores its operator
    /// (and never sends them) must fail the case.
    sends: bool,
    /// The DUT answered with a CALLERROR: its error code is a field a check may read.
    errors: bool,
    /// How many messages of each action the DUT sent.
    sent: Vec<String>,
}

impl Claims {
    fn count(&self, action: &str) -> usize {
        self.sent.iter().filter(|a| *a == action).count().max(1)
    }
}

fn claims(meta: &CaseMeta, baseline: &CaseResult) -> Claims {
    use ocpp_core::schema::Direction;
    let sent = crate::fidelity::dut_messages(&baseline.trace.wire);
    // (action, is request) -> the fields wrong-field can change, in message order.
    let mut fields: Vec<((String, bool), Vec<String>)> = vec![];
    for (action, request, payload) in &sent {
        let dir = if *request { Direction::Request } else { Direction::Response };
        let found = ocpp_sim::mutable_fields(baseline.version, action, dir, payload);
        let key = (action.clone(), *request);
        match fields.iter_mut().find(|(k, _)| *k == key) {
            Some((_, known)) => known.extend(found.into_iter().filter(|f| !known.contains(f)).collect::<Vec<_>>()),
            None => fields.push((key, found)),
        }
    }
    let of = |action: &str, request: bool| fields.iter().find(|((a, r), _)| a == action && *r == request).map(|(_, f)| f.clone()).unwrap_or_default();
    let errors = baseline.trace.wire.iter().any(|w| w.dir == ocpp_core::trace::Dir::Rx && w.text.trim_start().starts_with("[4"));
    let mut c = Claims { sent: sent.iter().map(|(a, _, _)| a.clone()).collect(), errors, ..Claims::default() };
    let tables = crate::fidelity::tables();
    if let Some(table) = tables.get(&meta.id) {
        // Where a table validates nothing of its own, the values its DUT steps state are what
        // it checks (not those of a step part 6 calls optional).
        let from_steps: Vec<crate::fidelity::Validation>;
        let validations = if table.validations.is_empty() {
            from_steps = table.steps.iter().filter(|s| s.by == "SUT" && !s.optional).map(|s| crate::fidelity::Validation { step: s.n, message: s.message.clone(), fields: s.fields.keys().cloned().collect(), state: None }).collect();
            &from_steps
        } else {
            &table.validations
        };
        for v in validations {
            let (action, request) = v.action();
            let known = of(action, request);
            let step = v.step.map_or_else(|| "a validation".to_string(), |n| format!("step {n}"));
            let step = match &v.state {
                Some(state) => format!("{state} {step}"),
                None => step,
            };
            if request && v.fields.is_empty() {
                // The message itself is validated: any of its fields.
                if !known.is_empty() && !c.search.iter().any(|(a, _)| a == action) {
                    c.search.push((action.to_string(), known.clone()));
                }
            }
            for path in known.iter().filter(|p| v.reads(p)) {
                if !c.validated.iter().any(|r| r.action == action && r.path == *path) {
                    c.validated.push(Read { action: action.to_string(), path: path.clone(), because: format!("part 6 {step}: {}", v.message) });
                }
            }
            if request {
                c.sends = true;
            } else if !c.answering.iter().any(|a| a == action) && sent.iter().any(|(a, r, _)| a == action && !r) {
                c.answering.push(action.to_string());
            }
        }
        if !c.validated.is_empty() || !c.search.is_empty() || !c.answering.is_empty() {
            return c;
        }
    }
    // No table, or one that states nothing a message could show: whatever the case's checks
    // read, and the answers its requirements name ("1.6 StopTransaction"), or every answer of
    // a case about OCPP-J's RPC framework, latest first.
    c.search = fields.iter().rev().map(|((a, _), f)| (a.clone(), f.clone())).collect();
    // A TC case here has a table whose steps name no message ("the CSMS responds
    // accordingly"): the DUT's answers are what it claims.
    let tabled = tables.contains_key(&meta.id);
    let named = |a: &str| tabled || meta.id.contains("_RPC_") || meta.requirements.iter().any(|r| r.split_whitespace().any(|w| w == a));
    for (a, request, _) in sent.iter().rev() {
        if !request && named(a) && !c.answering.contains(a) {
            c.answering.push(a.clone());
        }
    }
    c.sends = true;
    c
}

/// Prove `meta`: the failure must come from one of the case's checks (a verdict citing one of
/// its requirements: preparation that fails is inconclusive) and be caused by something the
/// case claims. Tried in turn: the `given` mutations (expectation files); one wrong field at a
/// time where a check reads it (for a TC case, a field its part-6 validations check); a CSMS
/// that ignores its operator, where the DUT's own requests are the claim; refusing or not
/// answering an action, only where the answer itself is the claim; last, each misbehaviour
/// the reference DUT can be switched to.
pub async fn prove(host: &Arc<Host>, suite: &Suite, meta: &CaseMeta, base: &RunOptions, given: &[Mutation]) -> anyhow::Result<Proof> {
    let (profile, baseline) = home_run(host, suite, meta, base).await?;
    if !matches!(baseline.verdict, Verdict::Pass) {
        return Ok(Proof::DoesNotPass { verdict: baseline.verdict.name().into(), reason: baseline.reason });
    }
    let claims = claims(meta, &baseline);
    let mut tried = Vec::new();
    let mut attempt = async |label: String, faults: Vec<Fault>, profile: u8| -> anyhow::Result<Option<Proof>> {
        let r = run_once(host, suite, meta, base, &faults, profile).await?;
        if let Some(requirement) = own_requirement(meta, &r) {
            return Ok(Some(Proof::Proven { by: label, requirement }));
        }
        tried.push(match &r.verdict {
            Verdict::Fail { requirement, .. } => format!("{label}: fail citing {}", requirement.as_deref().unwrap_or("nothing")),
            v => format!("{label}: {}", v.name()),
        });
        Ok(None)
    };
    for m in given {
        if let Some(p) = attempt(m.label.clone(), m.faults.clone(), m.profile).await? {
            return Ok(p);
        }
    }
    for r in &claims.validated {
        // All of the DUT's messages of the action wrong, then (where it sent several, e.g. a
        // boot before the reboot part 6 validates) from the second on, and so on.
        for from in 1..=claims.count(&r.action) {
            let f = Fault::WrongField(r.action.clone(), r.path.clone(), from);
            if let Some(p) = attempt(format!("{f} ({})", r.because), vec![f], profile).await? {
                return Ok(p);
            }
        }
    }
    for (action, fields) in &claims.search {
        // Every field of the message wrong at once first (from the first message of the
        // action, then from a later one, past preparation that sends it too): only a message
        // that fails the case so is worth trying field by field.
        for from in 1..=claims.count(action) {
            let all = Fault::WrongField(action.clone(), "*".into(), from);
            if attempt(all.to_string(), vec![all], profile).await?.is_none() {
                continue;
            }
            for path in fields {
                let f = Fault::WrongField(action.clone(), path.clone(), from);
                if let Some(p) = attempt(format!("{f} (a check reads it)"), vec![f], profile).await? {
                    return Ok(p);
                }
            }
            break;
        }
    }
    if claims.errors {
        if let Some(p) = attempt("wrong-error-code (the DUT's CALLERROR)".into(), vec![Fault::WrongErrorCode], profile).await? {
            return Ok(p);
        }
    }
    let operated = meta.role == ocpp_core::case::Role::ChargingStation && meta.needs.iter().any(|n| n == "csms-trigger");
    if operated && claims.sends {
        if let Some(p) = attempt("ignore-operator".into(), vec![Fault::IgnoreOperator], profile).await? {
            return Ok(p);
        }
    }
    for a in &claims.answering {
        // Refused from the first answer on, then from a later one (past preparation that
        // sends the same message, e.g. the Started event before the Ended one a case is about).
        // Silence costs a time-out, so every refusal is tried first.
        let from = |n: usize| Some(if n == 1 { a.clone() } else { format!("{a}@{n}") });
        let n = claims.count(a);
        let refusals = (1..=n).map(|n| Fault::NotImplemented(from(n))).chain((1..=n).map(|n| Fault::NoAnswer(from(n))));
        for f in refusals {
            if let Some(p) = attempt(format!("{f} (the answer is the claim)"), vec![f], profile).await? {
                return Ok(p);
            }
        }
    }
    // Last, each misbehaviour the reference DUT can be switched to (a case like TC_C_04_CS is
    // about what the DUT must not do, which no single wrong field shows).
    for (name, f) in Fault::behaviours() {
        if matches!(f, Fault::IgnoreOperator | Fault::WrongErrorCode) {
            continue;
        }
        if let Some(p) = attempt(format!("{name} (a broken behaviour)"), vec![f], profile).await? {
            return Ok(p);
        }
    }
    Ok(Proof::Unproven { tried })
}
