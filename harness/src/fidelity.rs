//! Part 6 fidelity: whether a TC case exchanges what its part-6 table says, compared by
//! machine. The facts come from `data/part6-steps.json` (made by `scripts/part6-facts.py`
//! from the OCA's part-6 index: per step its side, message and the field values it states;
//! no prose). A case's wire log, from a run against the reference DUTs, is walked along the
//! table: every request a step names must be there, in order and from the side the step
//! says; its answer follows it; the field values the step states (or "omitted") must be what
//! was sent. Where a table has branches, one of them must match. `ocpp-harness fidelity`
//! prints the result per case.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use ocpp_core::trace::{Dir, WireEntry};

/// One step of a part-6 table that exchanges a message.
#[derive(Debug, Clone, Deserialize)]
pub struct Step {
    pub n: Option<u32>,
    /// "SUT" (the DUT) or "OCTT" (the tool: the harness).
    pub by: String,
    /// "BootNotificationRequest", "SetVariablesResponse"...
    pub message: String,
    /// Dotted field path -> the value the step states ("omitted": the field is absent).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// The alternative it belongs to, where the table has some ("A", "B").
    #[serde(default)]
    pub branch: Option<String>,
    /// A note of the table makes the step optional: matched where it happened, never missing.
    #[serde(default)]
    pub optional: bool,
}

/// A part-6 test case as facts.
#[derive(Debug, Clone, Deserialize)]
pub struct Table {
    pub id: String,
    pub sut: Option<String>,
    /// The FR ids the table cites (part 2's spelling).
    #[serde(default)]
    pub requirements: Vec<String>,
    pub steps: Vec<Step>,
    /// The tool validations: the message each is about and the field paths it checks.
    #[serde(default)]
    pub validations: Vec<Validation>,
}

/// A tool validation of a part-6 table, as names only.
#[derive(Debug, Clone, Deserialize)]
pub struct Validation {
    pub step: Option<u32>,
    /// "GetVariablesResponse", "StatusNotificationRequest"...
    pub message: String,
    /// Part 6's paths: "idTokenInfo.status", "GetVariableResultType[0].attributeStatus".
    #[serde(default)]
    pub fields: Vec<String>,
    /// The reusable state it comes from, for a table that validates nothing of its own.
    #[serde(default)]
    pub state: Option<String>,
}

impl Validation {
    /// The action of the message it is about, and whether that message is a request.
    pub fn action(&self) -> (&str, bool) {
        match self.message.strip_suffix("Request") {
            Some(a) => (a, true),
            None => (self.message.strip_suffix("Response").unwrap_or(&self.message), false),
        }
    }

    /// Whether the payload key path `path` (keys joined by '.', no indices) is a field one of
    /// its checks reads: the check's keys, type names and indices left out, occur in it in a
    /// row (a check of an object reads every field below it).
    pub fn reads(&self, path: &str) -> bool {
        let keys: Vec<&str> = path.split('.').collect();
        self.fields.iter().any(|f| {
            let want: Vec<&str> = f.split('.').map(|k| k.split('[').next().unwrap_or(k)).filter(|k| !(k.ends_with("Type") && k.starts_with(char::is_uppercase))).collect();
            !want.is_empty() && keys.windows(want.len()).any(|w| w == want.as_slice())
        })
    }
}

/// Every table of part 6 (OCPP 2.0.1), by test case id.
pub fn tables() -> &'static BTreeMap<String, Table> {
    // Read once per process: the proof asks for every case it proves.
    static TABLES: std::sync::OnceLock<BTreeMap<String, Table>> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let all: Vec<Table> = serde_json::from_str(include_str!("../data/part6-steps.json")).expect("part6-steps.json is valid");
        all.into_iter().map(|t| (t.id.clone(), t)).collect()
    })
}

/// Where a case's exchange differs from its table.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Difference {
    /// The step's message was not exchanged (after the ones matched before it).
    Missing { step: String, message: String },
    /// The message was exchanged with another value where the step states one.
    Value { step: String, message: String, field: String, stated: String, observed: String },
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Difference::Missing { step, message } => write!(f, "step {step}: no {message}"),
            Difference::Value { step, message, field, stated, observed } => write!(f, "step {step}: {message} {field} is {observed}, part 6 states {stated}"),
        }
    }
}

impl Difference {
    /// The step it is at ("3", or "-" for a step without a number).
    pub fn step(&self) -> &str {
        match self {
            Difference::Missing { step, .. } | Difference::Value { step, .. } => step,
        }
    }
}

/// The step a declared deviation is about: "step 3: …, because …" → "3"; None when it does
/// not name one or gives no reason (`lint` refuses such a declaration).
pub fn deviation_step(deviation: &str) -> Option<&str> {
    let rest = deviation.strip_prefix("step ")?;
    let (step, what) = rest.split_once(':')?;
    (!step.is_empty() && step.bytes().all(|b| b.is_ascii_digit()) && what.contains("because")).then_some(step)
}

/// The differences that no declared deviation accounts for (one at the same step does).
pub fn undeclared(diffs: &[Difference], deviations: &[String]) -> Vec<Difference> {
    let declared: Vec<&str> = deviations.iter().filter_map(|d| deviation_step(d)).collect();
    diffs.iter().filter(|d| !declared.contains(&d.step())).cloned().collect()
}

/// One message of the exchange, as read from the wire log.
#[derive(Debug, Clone)]
struct Msg {
    /// Sent by the harness (the tool in part 6's tables).
    by_tool: bool,
    /// 2 CALL, 3 CALLRESULT, 4 CALLERROR (6 SEND at 2.1 counts as a CALL).
    kind: u64,
    id: String,
    action: String,
    payload: Value,
}

/// The messages of a wire log; answers carry the action of the CALL they answer.
fn messages(wire: &[WireEntry]) -> Vec<Msg> {
    let mut actions: BTreeMap<String, String> = BTreeMap::new();
    let mut out = vec![];
    for w in wire {
        let Ok(Value::Array(f)) = serde_json::from_str::<Value>(&w.text) else { continue };
        let (Some(kind), Some(id)) = (f.first().and_then(Value::as_u64), f.get(1).and_then(Value::as_str)) else { continue };
        let (action, payload) = match kind {
            2 | 6 => {
                let action = f.get(2).and_then(Value::as_str).unwrap_or_default().to_string();
                actions.insert(id.to_string(), action.clone());
                (action, f.get(3).cloned().unwrap_or(Value::Null))
            }
            3 => (actions.get(id).cloned().unwrap_or_default(), f.get(2).cloned().unwrap_or(Value::Null)),
            // A CALLERROR's fields by the names part 6 gives them.
            4 => (actions.get(id).cloned().unwrap_or_default(), serde_json::json!({"errorCode": f.get(2), "errorDescription": f.get(3)})),
            _ => continue,
        };
        out.push(Msg { by_tool: w.dir == Dir::Tx, kind: if kind == 6 { 2 } else { kind }, id: id.to_string(), action, payload });
    }
    out
}

/// The messages the DUT sent (its CALLs and the CALLRESULTs it answered with): action,
/// whether a request, payload.
pub fn dut_messages(wire: &[WireEntry]) -> Vec<(String, bool, Value)> {
    messages(wire).into_iter().filter(|m| !m.by_tool && matches!(m.kind, 2 | 3) && !m.action.is_empty()).map(|m| (m.action, m.kind == 2, m.payload)).collect()
}

/// Compare a case's wire log with its table: the differences, none when faithful.
pub fn compare(table: &Table, wire: &[WireEntry]) -> Vec<Difference> {
    let msgs = messages(wire);
    // Steps outside any branch, in order; each branch is tried on its own from where it
    // starts and the best one counts.
    let mut diffs = vec![];
    let mut cursor = 0;
    let mut last_call: Option<usize> = None;
    let mut i = 0;
    while i < table.steps.len() {
        let step = &table.steps[i];
        let Some(branch_start) = step.branch.as_ref().map(|_| i) else {
            walk(step, &validated(table, step), &msgs, &mut cursor, &mut last_call, &mut diffs);
            i += 1;
            continue;
        };
        // A run of branch steps: group them by branch.
        let mut end = branch_start;
        while end < table.steps.len() && table.steps[end].branch.is_some() {
            end += 1;
        }
        let mut groups: BTreeMap<&str, Vec<&Step>> = BTreeMap::new();
        for s in &table.steps[branch_start..end] {
            groups.entry(s.branch.as_deref().unwrap_or_default()).or_default().push(s);
        }
        let best = groups
            .values()
            .map(|steps| {
                let (mut c, mut l, mut d) = (cursor, last_call, vec![]);
                for s in steps {
                    walk(s, &validated(table, s), &msgs, &mut c, &mut l, &mut d);
                }
                (d, c, l)
            })
            .min_by_key(|(d, _, _)| d.len());
        if let Some((d, c, l)) = best {
            diffs.extend(d);
            cursor = c;
            last_call = l;
        }
        i = end;
    }
    diffs
}

/// The fields the table's tool validations check in `step`'s message.
fn validated<'a>(table: &'a Table, step: &Step) -> Vec<&'a str> {
    let at_step = table.validations.iter().filter(|v| v.step.is_some() && v.step == step.n && v.message == step.message);
    at_step.flat_map(|v| v.fields.iter().map(String::as_str)).collect()
}

/// Match one step from `cursor` on; `validated` are the fields part 6 checks in it.
fn walk(step: &Step, validated: &[&str], msgs: &[Msg], cursor: &mut usize, last_call: &mut Option<usize>, diffs: &mut Vec<Difference>) {
    let by_tool = step.by == "OCTT";
    let name = step.n.map_or_else(|| "-".to_string(), |n| n.to_string());
    let found = if let Some(action) = step.message.strip_suffix("Request") {
        // The first such request whose values are the stated ones (a reusable state before
        // the step may send the same message with others), else the first such request.
        let candidates: Vec<usize> = msgs.iter().enumerate().skip(*cursor).filter(|(_, m)| m.kind == 2 && m.by_tool == by_tool && m.action == action).map(|(i, _)| i).collect();
        let exact = candidates.iter().copied().find(|&i| !step.fields.is_empty() && step.fields.iter().all(|(f, v)| field_holds(&msgs[i].payload, f, v)));
        // Else the first that carries the most of the fields part 6 validates in it (a
        // TransactionEvent of a reusable state before the step has no idToken yet).
        let carried = |i: usize| validated.iter().filter(|f| !values_at(&msgs[i].payload, f).is_empty()).count();
        let carrying = || candidates.iter().copied().max_by_key(|&i| (carried(i), std::cmp::Reverse(i)));
        // An optional step is there only with its values; else it did not happen.
        let at = if step.optional { exact } else { exact.or_else(carrying) };
        if step.optional && at.is_none() {
            *last_call = None;
            return;
        }
        if let Some(i) = at {
            *cursor = i + 1;
            *last_call = Some(i);
        }
        at
    } else {
        // The answer to the request matched last (part 6 names some answers loosely), or to
        // a repeat of it: a table's "repeated" step is answered only at a later attempt
        // (TC_E_42_CS), and each attempt has its own message id.
        match last_call.take() {
            Some(c) => {
                let repeats: Vec<&str> = msgs[c..].iter().filter(|m| m.kind == 2 && m.by_tool == msgs[c].by_tool && m.action == msgs[c].action).map(|m| m.id.as_str()).collect();
                let answer = |ids: &[&str]| msgs.iter().enumerate().skip(c + 1).find(|(_, m)| m.kind != 2 && ids.contains(&m.id.as_str()) && m.by_tool == by_tool).map(|(i, _)| i);
                answer(&[msgs[c].id.as_str()]).or_else(|| answer(&repeats))
            }
            // The request was missing already: said once.
            None => return,
        }
    };
    let Some(i) = found else {
        diffs.push(Difference::Missing { step: name, message: step.message.clone() });
        return;
    };
    for (field, stated) in &step.fields {
        let observed = values_at(&msgs[i].payload, field);
        if !field_holds(&msgs[i].payload, field, stated) {
            let observed = if observed.is_empty() { "absent".to_string() } else { observed.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" / ") };
            diffs.push(Difference::Value { step: name.clone(), message: step.message.clone(), field: field.clone(), stated: stated.clone(), observed });
        }
    }
}

/// Whether `payload` has the value a step states for `field` ("omitted": none at all;
/// "present": any).
/// Values part 6 gives as a description rather than a value (an unknown component's name is
/// "UnknownComponent") are not compared.
fn field_holds(payload: &Value, field: &str, stated: &str) -> bool {
    if matches!(stated, "UnknownComponent" | "UnknownVariable") && (field.ends_with("component.name") || field.ends_with("variable.name")) {
        return true;
    }
    let mut observed = values_at(payload, field);
    // Part 6 writes a Set/GetVariablesResponse's attributeStatus as "status".
    if observed.is_empty() && field == "status" {
        observed = values_at(payload, "attributeStatus");
    }
    match stated {
        "omitted" => observed.is_empty(),
        "present" => !observed.is_empty(),
        _ => observed.iter().any(|v| same(v, stated)),
    }
}

/// Every value at the dotted `path` anywhere in `v` (part 6 leaves out the list a field sits
/// in: `variable.name` of a SetVariablesRequest is in its setVariableData).
fn values_at<'a>(v: &'a Value, path: &str) -> Vec<&'a Value> {
    let parts: Vec<&str> = path.split('.').collect();
    let mut out = vec![];
    collect(v, &parts, &mut out);
    out
}

fn collect<'a>(v: &'a Value, parts: &[&str], out: &mut Vec<&'a Value>) {
    follow(v, parts, out);
    match v {
        Value::Object(m) => m.values().for_each(|c| collect(c, parts, out)),
        Value::Array(a) => a.iter().for_each(|c| collect(c, parts, out)),
        _ => {}
    }
}

/// The values at `parts` from `v` itself: a list on the way holds each of its elements, and
/// so does a list at the end (certificateType); "evse[0]"-style indexes pick one element.
fn follow<'a>(v: &'a Value, parts: &[&str], out: &mut Vec<&'a Value>) {
    let Some((first, rest)) = parts.split_first() else {
        match v {
            Value::Array(items) => out.extend(items.iter().filter(|i| !i.is_object() && !i.is_array())),
            Value::Object(_) => {}
            scalar => out.push(scalar),
        }
        return;
    };
    let (key, index) = match first.split_once('[') {
        Some((k, i)) => (k, i.trim_end_matches(']').parse::<usize>().ok()),
        None => (*first, None),
    };
    match (v.get(key), index) {
        (Some(next), Some(i)) => {
            if let Some(item) = next.get(i) {
                follow(item, rest, out);
            }
        }
        (Some(Value::Array(items)), None) if !rest.is_empty() => items.iter().for_each(|item| follow(item, rest, out)),
        (Some(next), None) => follow(next, rest, out),
        (None, _) => {}
    }
}

/// A sent value against a stated one: as text, component names without part 6's shortening
/// of "Ctrlr" to "Ctrl".
fn same(v: &Value, stated: &str) -> bool {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let norm = |s: &str| s.strip_suffix("Ctrlr").map_or_else(|| s.to_string(), |b| format!("{b}Ctrl"));
    // The index's text extraction glues a following word to some values ("Operativeand").
    let glued = text.starts_with(|c: char| c.is_ascii_uppercase()) && stated.strip_prefix(text.as_str()).is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_lowercase()));
    text == stated || norm(&text) == norm(stated) || glued
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_reads_the_fields_it_names() {
        let v = Validation { step: Some(2), message: "GetVariablesResponse".into(), fields: vec!["GetVariableResultType[0].attributeStatus".into(), "idTokenInfo".into()], state: None };
        assert_eq!(v.action(), ("GetVariables", false));
        assert!(v.reads("getVariableResult.attributeStatus"));
        assert!(!v.reads("getVariableResult.attributeValue"));
        // A check of an object reads what is below it.
        assert!(v.reads("idTokenInfo.status"));
        assert!(!v.reads("status"));
        let r = Validation { step: None, message: "AuthorizeRequest".into(), fields: vec!["idToken.idToken".into()], state: None };
        assert_eq!(r.action(), ("Authorize", true));
        assert!(r.reads("idToken.idToken") && !r.reads("idToken.type"));
    }

    fn frame(seq: usize, dir: Dir, text: &str) -> WireEntry {
        WireEntry { seq, t_ms: seq as f64, dir, text: text.to_string(), note: None }
    }

    fn table() -> Table {
        serde_json::from_value(serde_json::json!({"id": "TC_X_01_CS", "sut": "CS", "steps": [
            {"n": 1, "by": "SUT", "message": "BootNotificationRequest", "fields": {}},
            {"n": 2, "by": "OCTT", "message": "BootNotificationResponse", "fields": {"status": "Pending"}},
            {"n": 3, "by": "OCTT", "message": "SetVariablesRequest", "fields": {"variable.name": "OfflineThreshold", "component.name": "OCPPCommCtrl", "attributeType": "omitted"}},
            {"n": 4, "by": "SUT", "message": "SetVariablesResponse", "fields": {}},
            {"n": 5, "by": "OCTT", "message": "RequestStopTransactionRequest", "fields": {}, "branch": "A"},
            {"n": 5, "by": "OCTT", "message": "ResetRequest", "fields": {"type": "OnIdle"}, "branch": "B"}
        ]})).unwrap()
    }

    #[test]
    fn a_case_that_exchanges_what_the_table_says_is_faithful() {
        let wire = [
            frame(1, Dir::Rx, r#"[2,"b1","BootNotification",{"reason":"PowerUp"}]"#),
            frame(2, Dir::Tx, r#"[3,"b1",{"status":"Pending","interval":5,"currentTime":"x"}]"#),
            frame(3, Dir::Tx, r#"[2,"s1","SetVariables",{"setVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"OfflineThreshold"},"attributeValue":"300"}]}]"#),
            frame(4, Dir::Rx, r#"[3,"s1",{"setVariableResult":[]}]"#),
            frame(5, Dir::Tx, r#"[2,"r1","Reset",{"type":"OnIdle"}]"#),
        ];
        assert_eq!(compare(&table(), &wire), vec![]);
    }

    #[test]
    fn the_step_is_the_message_that_carries_what_part_6_validates() {
        // A reusable state's TransactionEvent (no idToken yet) comes before the step's own.
        let t: Table = serde_json::from_value(serde_json::json!({"id": "TC_X_02_CS", "sut": "CS", "steps": [
            {"n": 1, "by": "SUT", "message": "TransactionEventRequest", "fields": {}},
            {"n": 2, "by": "OCTT", "message": "TransactionEventResponse", "fields": {"idTokenInfo.status": "Accepted"}}
        ], "validations": [{"step": 1, "message": "TransactionEventRequest", "fields": ["triggerReason", "idToken.idToken", "transaction"]}]}))
        .unwrap();
        let wire = [
            frame(1, Dir::Rx, r#"[2,"t1","TransactionEvent",{"eventType":"Started","triggerReason":"CablePluggedIn"}]"#),
            frame(2, Dir::Tx, r#"[3,"t1",{}]"#),
            frame(3, Dir::Rx, r#"[2,"t2","TransactionEvent",{"eventType":"Updated","triggerReason":"Authorized","idToken":{"idToken":"A","type":"ISO14443"}}]"#),
            frame(4, Dir::Tx, r#"[3,"t2",{"idTokenInfo":{"status":"Accepted"}}]"#),
        ];
        assert_eq!(compare(&t, &wire), vec![]);
        // Without the token's event, the first one is the step, and its answer differs.
        assert_eq!(compare(&t, &wire[..2]).len(), 1);
    }

    #[test]
    fn a_missing_step_and_a_wrong_value_are_named() {
        let wire = [
            frame(1, Dir::Rx, r#"[2,"b1","BootNotification",{"reason":"PowerUp"}]"#),
            frame(2, Dir::Tx, r#"[3,"b1",{"status":"Accepted","interval":5,"currentTime":"x"}]"#),
            // The tool's request comes from the wrong side: it does not count.
            frame(3, Dir::Rx, r#"[2,"s1","SetVariables",{"setVariableData":[]}]"#),
            frame(5, Dir::Tx, r#"[2,"r1","Reset",{"type":"Immediate"}]"#),
        ];
        let d = compare(&table(), &wire);
        assert_eq!(d[0], Difference::Value { step: "2".into(), message: "BootNotificationResponse".into(), field: "status".into(), stated: "Pending".into(), observed: "\"Accepted\"".into() });
        assert_eq!(d[1], Difference::Missing { step: "3".into(), message: "SetVariablesRequest".into() });
        // Branch B matched its request with the wrong type, branch A not at all: the closer one is told.
        assert!(d.iter().any(|x| matches!(x, Difference::Value { field, .. } if field == "type")) || d.iter().any(|x| matches!(x, Difference::Missing { message, .. } if message == "RequestStopTransactionRequest")), "{d:?}");
        assert_eq!(d.len(), 3, "{d:?}");
    }

    #[test]
    fn values_are_found_through_lists() {
        let p = serde_json::json!({"meterValue": [{"sampledValue": [{"context": "Sample.Periodic"}, {"context": "Sample.Clock"}]}], "certificateType": ["CSMSRootCertificate"]});
        assert!(field_holds(&p, "sampledValue.context", "Sample.Clock"));
        assert!(!field_holds(&p, "sampledValue.context", "Transaction.Begin"));
        assert!(field_holds(&p, "certificateType", "CSMSRootCertificate"));
        assert!(field_holds(&p, "meterValue[0].sampledValue[1].context", "Sample.Clock") && !field_holds(&p, "meterValue[0].sampledValue[0].context", "Sample.Clock"));
        assert!(field_holds(&p, "stoppedReason", "omitted") && !field_holds(&p, "sampledValue.context", "omitted"));
        assert!(field_holds(&p, "sampledValue.context", "present") && !field_holds(&p, "stoppedReason", "present"));
    }

    #[test]
    fn a_callerror_is_compared_by_its_code() {
        let t: Table = serde_json::from_value(serde_json::json!({"id": "TC_X_02_CS", "steps": [
            {"n": 1, "by": "OCTT", "message": "ResetRequest", "fields": {}},
            {"n": 2, "by": "SUT", "message": "ResetResponse", "fields": {"errorCode": "SecurityError"}}
        ]})).unwrap();
        let wire = |code: &str| [frame(1, Dir::Tx, r#"[2,"r1","Reset",{"type":"OnIdle"}]"#), frame(2, Dir::Rx, &format!(r#"[4,"r1","{code}","",{{}}]"#))];
        assert_eq!(compare(&t, &wire("SecurityError")), vec![]);
        assert_eq!(compare(&t, &wire("InternalError")).len(), 1);
    }

    #[test]
    fn an_optional_step_counts_only_when_it_happened_with_its_values() {
        let t: Table = serde_json::from_value(serde_json::json!({"id": "TC_X_03_CS", "steps": [
            {"n": 1, "by": "SUT", "message": "TransactionEventRequest", "fields": {"triggerReason": "ChargingStateChanged"}, "optional": true},
            {"n": 2, "by": "OCTT", "message": "TransactionEventResponse", "fields": {}, "optional": true},
            {"n": 3, "by": "SUT", "message": "TransactionEventRequest", "fields": {"triggerReason": "Authorized"}}
        ]})).unwrap();
        let te = |id: &str, reason: &str| frame(1, Dir::Rx, &format!(r#"[2,"{id}","TransactionEvent",{{"triggerReason":"{reason}"}}]"#));
        let answer = |id: &str| frame(2, Dir::Tx, &format!(r#"[3,"{id}",{{}}]"#));
        assert_eq!(compare(&t, &[te("t1", "Authorized")]), vec![], "left out");
        assert_eq!(compare(&t, &[te("t1", "ChargingStateChanged"), answer("t1"), te("t2", "Authorized")]), vec![], "there");
        // The step that is not optional is still required.
        assert_eq!(compare(&t, &[te("t1", "ChargingStateChanged"), answer("t1")]).len(), 1);
    }

    #[test]
    fn a_declared_deviation_accounts_for_its_step_only() {
        let diffs = vec![Difference::Missing { step: "1".into(), message: "AuthorizeRequest".into() }, Difference::Missing { step: "5".into(), message: "StatusNotificationRequest".into() }];
        let declared = vec!["step 1: a TransactionEvent instead, because the reference CSMS decides by it".to_string()];
        assert_eq!(undeclared(&diffs, &declared), vec![diffs[1].clone()]);
        assert_eq!(deviation_step("step 12: x, because y"), Some("12"));
        assert_eq!(deviation_step("step 1: no reason given"), None);
        assert_eq!(deviation_step("the whole case differs, because"), None);
    }

    #[test]
    fn every_table_reads() {
        let t = tables();
        assert!(t.len() > 600 && t["TC_B_02_CS"].steps.iter().any(|s| s.message == "GetBaseReportRequest"));
    }
}
