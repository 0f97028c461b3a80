//! The report for people: one self-contained HTML file (no scripts, no external files) with a
//! summary per OCPP version, DUT side and profile, filters (verdict, block, profile, version, DUT side: radio buttons and CSS
//! alone, so the file stays script-free), then a section per case, failures first — purpose, requirements, verdict, expected versus
//! observed, the WebSocket handshake, the numbered OCPP-J wire log with each CALL paired to its
//! answer, a sequence diagram, bench actions and timers with their times, and where the time
//! went. Everything that came from a DUT is escaped: a hostile device cannot script the report.
use std::{collections::BTreeMap, fmt::Write as _};

use serde_json::Value;

use ocpp_core::{case::Verdict, trace::{Dir, WireEntry}};
use crate::Counts;
use crate::{
    results::{CaseResult, StationSummary},
    run_info::{RunInfo, tallies},
};

/// Escape text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-top:1px solid #ccc;padding-top:1em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
.pass{background:#dff5dd}.fail{background:#ffd9d6}.error{background:#ffc9a6}.skip,.inconclusive{background:#eee}
pre{margin:0;white-space:pre-wrap;word-break:break-all;font:12px/1.3 ui-monospace,monospace}
.tx{color:#064}.rx{color:#036}.note{color:#a40}.seq td{border:none;padding:1px 4px}
.filters label{margin-right:.6em}.filters b{display:inline-block;width:5em}
.lane{width:45%}.arrow{font:12px ui-monospace,monospace;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:40em}
";

/// The message id and type of a frame, if it is an OCPP-J array.
fn id_and_type(text: &str) -> Option<(u64, String)> {
    let v: Value = serde_json::from_str(text).ok()?;
    Some((v.get(0)?.as_u64()?, v.get(1)?.as_str()?.to_string()))
}

/// For each wire entry, the sequence number of its partner: a CALL's answer, an answer's CALL.
fn pairs(wire: &[WireEntry]) -> BTreeMap<usize, usize> {
    let mut open: BTreeMap<(bool, String), usize> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for w in wire {
        let Some((kind, id)) = id_and_type(&w.text) else { continue };
        let from_harness = w.dir == Dir::Tx;
        match kind {
            2 => {
                open.insert((from_harness, id), w.seq);
            }
            3..=5 => {
                if let Some(call) = open.remove(&(!from_harness, id)) {
                    out.insert(call, w.seq);
                    out.insert(w.seq, call);
                }
            }
            _ => {}
        }
    }
    out
}

/// A short label for a frame in the sequence diagram.
fn label(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => match v.get(0).and_then(Value::as_u64) {
            Some(2) | Some(6) => v.get(2).and_then(Value::as_str).unwrap_or("CALL").to_string(),
            Some(3) => "CALLRESULT".into(),
            Some(4) => format!("CALLERROR {}", v.get(2).and_then(Value::as_str).unwrap_or("")),
            Some(5) => format!("CALLRESULTERROR {}", v.get(2).and_then(Value::as_str).unwrap_or("")),
            _ => "frame".into(),
        },
        Err(_) => "not JSON".into(),
    }
}

fn anchor(r: &CaseResult) -> String {
    format!("case-{}-{}", r.meta.id, r.version).replace('.', "_")
}

pub fn render(started: &str, dut: &str, info: &RunInfo, stations: &[StationSummary], results: &[CaseResult]) -> String {
    let c = Counts::of(results);
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>OCPP conformance report</title><style>{STYLE}</style></head><body>\
         <h1>OCPP conformance report</h1><p>ocpp-harness {} · started {} · DUT: {}</p>\
         <p><b>{}</b> passed · <b>{}</b> failed · <b>{}</b> errors · <b>{}</b> skipped · <b>{}</b> inconclusive</p>",
        env!("CARGO_PKG_VERSION"),
        esc(started),
        esc(dut),
        c.passed,
        c.failed,
        c.errors,
        c.skipped,
        c.inconclusive
    );
    // The stations as they presented themselves, and what the run did to them.
    for s in stations {
        let version = s.version.map(|v| format!(" (OCPP {v})")).unwrap_or_default();
        let identity = s.identity.as_deref().map(|i| format!(": {}", esc(i))).unwrap_or_default();
        let _ = write!(h, "<p>station {}{version}{identity} · {} connection(s), {} boot(s), {} reboot(s) asked for</p>", esc(&s.station_id), s.connections, s.boots, s.reboots_requested);
        if !s.configuration.is_empty() {
            let set: Vec<String> = s.configuration.iter().map(|(k, v)| format!("{} = {}", esc(k), esc(v))).collect();
            let _ = write!(h, "<p>its configuration at the start of the run: {}</p>", set.join(" · "));
        }
    }
    // What ran: the suites by content hash, and the settings.
    if !info.suites.is_empty() {
        let suites: Vec<String> = info.suites.iter().map(|s| format!("{} ({} cases, sha256 {})", esc(&s.name), s.cases, esc(&s.sha256))).collect();
        let _ = write!(h, "<p>suites: {}</p>", suites.join(" · "));
    }
    if !info.settings.is_empty() {
        h.push_str("<table><tr><th>setting</th><th>value</th></tr>");
        for (k, v) in &info.settings {
            let _ = write!(h, "<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(v));
        }
        h.push_str("</table>");
    }
    // Per version, DUT side and certification profile.
    h.push_str("<table><tr><th>OCPP</th><th>DUT</th><th>profile</th><th>runs</th><th>pass</th><th>fail</th><th>error</th><th>skip</th><th>inconclusive</th></tr>");
    for t in tallies(results) {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&t.version), esc(&t.dut), esc(&t.profile), t.runs, t.passed, t.failed, t.errors, t.skipped, t.inconclusive
        );
    }
    h.push_str("</table>");
    // The filters, the case table and the case sections are siblings: `:checked ~` reaches them.
    h.push_str("<div class=\"filters\">");
    let mut css = String::new();
    for (group, title) in FILTERS {
        let mut values: Vec<String> = results.iter().map(|r| facet(r, group)).collect();
        values.sort();
        values.dedup();
        let _ = write!(h, "<input type=\"radio\" name=\"{group}\" id=\"{group}-all\" checked><label for=\"{group}-all\"><b>{title}</b> all</label>");
        for v in values {
            let id = format!("{group}-{}", token(&v));
            let _ = write!(h, "<input type=\"radio\" name=\"{group}\" id=\"{id}\"><label for=\"{id}\">{}</label>", esc(&v));
            let _ = write!(css, "#{id}:checked~table tr.case:not(.{id}),#{id}:checked~section.case:not(.{id}){{display:none}}");
        }
        h.push_str("<br>");
    }
    let _ = write!(h, "<style>{css}</style>");
    h.push_str("<table class=\"cases\"><tr><th>case</th><th>OCPP</th><th>DUT</th><th>profile</th><th>verdict</th><th>ms</th><th>reason</th></tr>");
    // Failures and errors first, then what did not run to a verdict, then passes.
    let rank = |r: &CaseResult| match r.verdict.name() {
        "fail" => 0,
        "error" => 1,
        "inconclusive" => 2,
        "skip" => 3,
        _ => 4,
    };
    let mut ordered: Vec<&CaseResult> = results.iter().collect();
    ordered.sort_by_key(|r| rank(r));
    for r in &ordered {
        let v = r.verdict.name();
        let _ = write!(
            h,
            "<tr class=\"{v} case {}\"><td><a href=\"#{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{v}</td><td>{:.0}</td><td>{}</td></tr>",
            facet_classes(r),
            anchor(r),
            esc(&r.meta.id),
            r.version,
            r.meta.role.dut(),
            esc(&r.meta.profile),
            r.duration_ms,
            esc(&r.reason.chars().take(160).collect::<String>())
        );
    }
    h.push_str("</table>");
    for r in ordered {
        case_section(&mut h, r);
    }
    h.push_str("</div></body></html>\n");
    h
}

fn case_section(h: &mut String, r: &CaseResult) {
    let v = r.verdict.name();
    let _ = write!(h, "<section class=\"case {}\">", facet_classes(r));
    let _ = write!(
        h,
        "<h2 id=\"{}\">{} <span class=\"{v}\">{v}</span></h2><p>{}</p><p>OCPP {} · the DUT is a {} · profile {} · requirements: {}</p>",
        anchor(r),
        esc(&r.meta.id),
        esc(&r.meta.title),
        r.version,
        r.meta.role.dut(),
        esc(&r.meta.profile),
        esc(&r.meta.requirements.join(", "))
    );
    if !r.meta.deviations.is_empty() {
        let _ = write!(h, "<p>declared deviations from part 6: {}</p>", esc(&r.meta.deviations.join("; ")));
    }
    match &r.verdict {
        Verdict::Fail { requirement, expected, observed } => {
            let _ = write!(
                h,
                "<table><tr><th>requirement</th><td>{}</td></tr><tr><th>expected</th><td>{}</td></tr><tr><th>observed</th><td><pre>{}</pre></td></tr></table>",
                esc(requirement.as_deref().unwrap_or("-")),
                esc(expected),
                esc(observed)
            );
        }
        Verdict::Pass => {}
        _ => {
            let _ = write!(h, "<p><b>{v}</b>: <pre>{}</pre></p>", esc(&r.reason));
        }
    }
    // How to run just this case again (add the run's --dut, --bench, --csms-url or --listen).
    let _ = write!(h, "<p>rerun: <code>ocpp-harness run --exact {} --ocpp {}</code></p>", esc(&r.meta.id), r.version);
    let w = &r.trace.waits;
    let _ = write!(h, "<p>{:.0} ms in all: {:.0} ms waiting on the DUT, {:.0} ms on timers, {:.0} ms on the bench or operator.</p>", r.duration_ms, w.dut_ms, w.timers_ms, w.operator_ms);
    if !r.trace.warnings.is_empty() {
        // The second axis: legal but risky, or judged differently elsewhere; not a failure.
        h.push_str("<p><b>compatibility warnings</b> (the verdict does not depend on them):</p><ul>");
        for w in &r.trace.warnings {
            let _ = write!(h, "<li class=\"warning\">{}</li>", esc(w));
        }
        h.push_str("</ul>");
    }
    for hs in &r.trace.handshakes {
        let _ = write!(h, "<p>handshake: <code>{}</code></p>", esc(hs));
    }
    let partner = pairs(&r.trace.wire);
    if !r.trace.wire.is_empty() {
        // Sequence diagram: the harness on the left, the DUT on the right.
        h.push_str("<table class=\"seq\"><tr><th class=\"lane\">harness</th><th></th><th class=\"lane\">DUT</th></tr>");
        for e in &r.trace.wire {
            let text = format!("#{} {}", e.seq, label(&e.text));
            let (l, r) = match e.dir {
                Dir::Tx => (format!("<div class=\"arrow tx\">{} ──▶</div>", esc(&text)), String::new()),
                Dir::Rx => (String::new(), format!("<div class=\"arrow rx\">◀── {}</div>", esc(&text))),
            };
            let _ = write!(h, "<tr><td class=\"lane\" style=\"text-align:right\">{l}</td><td>│</td><td class=\"lane\">{r}</td></tr>");
        }
        h.push_str("</table>");
        h.push_str("<table><tr><th>#</th><th>ms</th><th>direction</th><th>frame</th><th>pair</th></tr>");
        for e in &r.trace.wire {
            let (class, dir) = match e.dir {
                Dir::Tx => ("tx", "harness → DUT"),
                Dir::Rx => ("rx", "DUT → harness"),
            };
            let pair = partner.get(&e.seq).map(|p| format!("#{p}")).unwrap_or_default();
            let note = e.note.as_deref().map(|n| format!("<div class=\"note\">{}</div>", esc(n))).unwrap_or_default();
            let _ = write!(h, "<tr class=\"{class}\"><td>{}</td><td>{:.1}</td><td>{dir}</td><td><pre>{}</pre>{note}</td><td>{pair}</td></tr>", e.seq, e.t_ms, esc(&e.text));
        }
        h.push_str("</table>");
    }
    if !r.trace.log.is_empty() {
        h.push_str("<table><tr><th>ms</th><th>kind</th><th>log</th></tr>");
        for l in &r.trace.log {
            let _ = write!(h, "<tr><td>{:.1}</td><td>{}</td><td><pre>{}</pre></td></tr>", l.t_ms, esc(&l.level), esc(&l.message));
        }
        h.push_str("</table>");
    }
    h.push_str("</section>");
}

/// The filter groups: (group, what the report calls it).
const FILTERS: [(&str, &str); 5] = [("verdict", "verdict"), ("block", "block"), ("profile", "profile"), ("ocpp", "OCPP"), ("dut", "DUT")];

/// A result's value in a filter group.
fn facet(r: &CaseResult, group: &str) -> String {
    match group {
        "verdict" => r.verdict.name().to_string(),
        "block" => r.meta.block().unwrap_or_else(|| "other".into()),
        "profile" => r.meta.profile.clone(),
        "ocpp" => r.version.to_string(),
        _ => r.meta.role.dut().to_string(),
    }
}

/// A value as a class name and id part: letters, digits and '-' only.
fn token(v: &str) -> String {
    v.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
}

/// The classes that put a result in its filter groups (`verdict-fail ocpp-2-0-1 …`).
fn facet_classes(r: &CaseResult) -> String {
    FILTERS.iter().map(|(g, _)| format!("{g}-{}", token(&facet(r, g)))).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocpp_core::{case::{CaseMeta, Role}, trace::{Trace, TraceData}, version::OcppVersion};

    fn result(wire: &[(Dir, &str)], verdict: Verdict) -> CaseResult {
        let t = Trace::new();
        for (d, text) in wire {
            t.wire(*d, text, None);
        }
        let meta = CaseMeta {
            suite: "s".into(),
            id: "TC_X_01_CS".into(),
            title: "a <b>case</b>".into(),
            versions: vec![OcppVersion::V201],
            role: Role::Csms,
            profile: "core".into(),
            features: vec![],
            requirements: vec!["B01".into()],
            needs: vec![],
            timeout_ms: 1,
            deviations: vec![],
        };
        let data: TraceData = t.snapshot();
        CaseResult { meta, version: OcppVersion::V201, reason: verdict.reason(), verdict, duration_ms: 1.0, trace: data }
    }

    #[test]
    fn dut_content_is_escaped() {
        let evil = r#"[2,"1","DataTransfer",{"vendorId":"<script>alert(1)</script>"}]"#;
        let fail = Verdict::Fail { requirement: None, expected: "x".into(), observed: "<img src=x onerror=alert(2)>".into() };
        let html = render("now", "<dut>", &RunInfo::default(), &[], &[result(&[(Dir::Rx, evil)], fail)]);
        assert!(!html.contains("<script>alert") && !html.contains("<img src=x"), "unescaped DUT content");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("a &lt;b&gt;case&lt;/b&gt;"));
    }

    /// Every filter value present gets a radio button and a rule hiding the rows and sections
    /// outside it; the page stays script-free.
    #[test]
    fn filters_cover_every_value_without_scripts() {
        let fail = Verdict::Fail { requirement: Some("B01.FR.01".into()), expected: "x".into(), observed: "y".into() };
        let html = render("now", "dut", &RunInfo::default(), &[], &[result(&[], Verdict::Pass), result(&[], fail)]);
        for id in ["verdict-pass", "verdict-fail", "block-b", "profile-core", "ocpp-2-0-1", "dut-charging-station"] {
            assert!(html.contains(&format!("id=\"{id}\"")), "no filter {id}");
            assert!(html.contains(&format!("#{id}:checked~table tr.case:not(.{id})")), "no rule for {id}");
        }
        assert!(html.contains("<tr class=\"fail case verdict-fail block-b profile-core ocpp-2-0-1 dut-charging-station\">"), "{html}");
        assert!(html.contains("<section class=\"case verdict-fail"));
        assert!(!html.contains("<script"));
    }

    #[test]
    fn calls_are_paired_with_their_answers() {
        let wire = [(Dir::Rx, r#"[2,"7","Heartbeat",{}]"#), (Dir::Tx, r#"[2,"1","Reset",{"type":"Immediate"}]"#), (Dir::Tx, r#"[3,"7",{"currentTime":"t"}]"#), (Dir::Rx, r#"[3,"1",{"status":"Accepted"}]"#)];
        let r = result(&wire, Verdict::Pass);
        let p = pairs(&r.trace.wire);
        assert_eq!(p.get(&1), Some(&3));
        assert_eq!(p.get(&2), Some(&4));
        assert_eq!(p.get(&4), Some(&2));
    }
}
