//! The evidence of one case: its log lines, the numbered wire log of every frame in both
//! directions, the handshakes, and the protocol violations the host saw. Shared between the
//! connection tasks and the guest host, and serialised into the reports.
use std::{
    sync::{Arc, Mutex},
    time::Instant,
};

use serde::{Deserialize, Serialize};

use crate::redact::scrub;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    /// Harness to DUT.
    Tx,
    /// DUT to harness.
    Rx,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireEntry {
    pub seq: usize,
    pub t_ms: f64,
    pub dir: Dir,
    pub text: String,
    /// Why the host sent it, or what was wrong with it ("default answer", "violation: ...").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogLine {
    pub t_ms: f64,
    pub level: String,
    pub message: String,
}

/// A protocol rule the DUT broke, seen by the host whatever the case was doing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Violation {
    pub t_ms: f64,
    /// Requirement id where one applies.
    pub requirement: Option<String>,
    pub expected: String,
    pub observed: String,
}

/// Where a case's time went, so a lab sees what a slow case waited for.
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Waits {
    /// Waiting for the DUT to connect, answer or send what the case expected.
    pub dut_ms: f64,
    /// Waiting out periods on purpose: sleeps, and checks that nothing arrives for a while.
    pub timers_ms: f64,
    /// Bench actions and operator prompts.
    pub operator_ms: f64,
}

/// What a wait was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitKind {
    Dut,
    Timer,
    Operator,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct TraceData {
    #[serde(default)]
    pub waits: Waits,
    pub log: Vec<LogLine>,
    pub wire: Vec<WireEntry>,
    pub violations: Vec<Violation>,
    pub handshakes: Vec<String>,
    /// Compatibility warnings: legal but risky behaviour, or what other test tools are known to
    /// judge differently. They never change the verdict (the conformance axis).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Entries not kept because a list reached its cap (a flooding DUT or a chatty guest).
    #[serde(default, skip_serializing_if = "Dropped::is_none")]
    pub dropped: Dropped,
    /// Violations kept per expectation, so that one rule broken a thousand times does not
    /// crowd out the others.
    #[serde(skip)]
    per_rule: std::collections::HashMap<String, usize>,
}

impl TraceData {
    /// The station booted during the case (not in what the case inherited from before it)
    /// without the case asking. A long-lived station must not reboot on its own.
    pub fn unasked_boot(&self) -> bool {
        self.booted(false) && !self.asked_reboot()
    }

    /// The station sent a BootNotification in the case or, with `before_too`, between the
    /// previous case and this one.
    pub fn booted(&self, before_too: bool) -> bool {
        let counted = |e: &&WireEntry| before_too || e.note.as_deref().is_none_or(|n| !n.starts_with("before the case"));
        self.wire.iter().filter(counted).any(|e| e.dir == Dir::Rx && e.text.contains("\"BootNotification\""))
    }

    /// The case asked for a reboot: through the reusable states, a power cycle, a Reset or a
    /// firmware update, signed or not (which activates with a reboot).
    pub fn asked_reboot(&self) -> bool {
        self.log.iter().any(|l| l.message.starts_with("Booted:") || l.message.contains("cycle the station's power"))
            || self.wire.iter().any(|e| e.dir == Dir::Tx && ["\"Reset\"", "\"UpdateFirmware\"", "\"SignedUpdateFirmware\""].iter().any(|a| e.text.contains(a)))
    }
}

/// The cases of one run against a station that outlives them (in run order) in which the
/// station booted though nobody asked: during a case that asked for no reboot, or between two
/// cases of which neither did — a reboot that comes after its case ended (a Reset answered
/// last) belongs to that case; one that comes later means an earlier case left something
/// running. The first case may take the station's start-up boot.
pub fn unasked_boots<'a>(cases: impl IntoIterator<Item = (&'a str, &'a TraceData)>) -> Vec<String> {
    let mut found = vec![];
    let mut previous_asked: Option<bool> = None;
    for (id, t) in cases {
        let asked = t.asked_reboot();
        if !asked
            && let Some(previous) = previous_asked
            && (t.booted(false) || (!previous && t.booted(true)))
        {
            found.push(id.to_string());
        }
        previous_asked = Some(asked);
    }
    found
}

/// How many entries of each list were dropped at its cap.
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Dropped {
    pub wire: usize,
    pub log: usize,
    pub violations: usize,
    pub handshakes: usize,
}

impl Dropped {
    pub fn is_none(&self) -> bool {
        *self == Dropped::default()
    }
}

#[derive(Clone)]
pub struct Trace {
    start: Instant,
    data: Arc<Mutex<TraceData>>,
    /// Set while the case waits for a mandated timer (see `clock.begin-mandated`).
    mandated: Arc<Mutex<Option<String>>>,
    /// What the case is waiting on the DUT for right now, and since when.
    waiting: Arc<Mutex<Option<(String, Instant)>>>,
    /// The case waited on the DUT at least once (see `reached_for_dut`).
    reached: Arc<std::sync::atomic::AtomicBool>,
}

impl Default for Trace {
    fn default() -> Self {
        Self::new()
    }
}

/// Upper bounds on what a case's trace keeps; a flooding DUT or a chatty guest must not exhaust
/// memory. What is dropped is counted (`TraceData::dropped`) and the case fails or errs for
/// the flood itself, not for lack of memory.
const MAX_WIRE: usize = 10_000;
const MAX_LOG: usize = 10_000;
const MAX_VIOLATIONS: usize = 1_000;
/// Violations of one and the same expectation kept, at most.
const MAX_SAME_VIOLATION: usize = 20;
const MAX_HANDSHAKES: usize = 1_000;
const MAX_WARNINGS: usize = 100;
/// Longest frame text kept verbatim in the trace.
const MAX_TEXT: usize = 64 * 1024;

impl Trace {
    pub fn new() -> Self {
        Self { start: Instant::now(), data: Arc::default(), mandated: Arc::default(), waiting: Arc::default(), reached: Arc::default() }
    }

    /// The case starts waiting on the DUT for `what` (see `current_wait`).
    pub fn begin_wait(&self, what: &str) {
        self.reached.store(true, std::sync::atomic::Ordering::Relaxed);
        *self.waiting.lock().unwrap() = Some((what.to_string(), Instant::now()));
    }

    /// Whether the case ever waited on the DUT (to connect, answer, send): one that stopped
    /// before — its lab set-up could not do what it needs — says nothing about the DUT.
    pub fn reached_for_dut(&self) -> bool {
        self.reached.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn end_wait(&self) {
        *self.waiting.lock().unwrap() = None;
    }

    /// What the case waits on the DUT for now, and for how long so far; None between waits
    /// and during a mandated timer (then the case chose to wait).
    pub fn current_wait(&self) -> Option<(String, std::time::Duration)> {
        if self.mandated.lock().unwrap().is_some() {
            return None;
        }
        self.waiting.lock().unwrap().as_ref().map(|(w, t)| (w.clone(), t.elapsed()))
    }

    pub fn elapsed_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }

    pub fn wire(&self, dir: Dir, text: &str, note: Option<String>) {
        let t_ms = self.elapsed_ms();
        let text = &scrub(text);
        let mut d = self.data.lock().unwrap();
        if d.wire.len() >= MAX_WIRE {
            d.dropped.wire += 1;
            return;
        }
        let text = clip(text);
        let seq = d.wire.len() + 1;
        d.wire.push(WireEntry { seq, t_ms, dir, text, note });
    }

    pub fn log(&self, level: &str, message: impl Into<String>) {
        let t_ms = self.elapsed_ms();
        let mut d = self.data.lock().unwrap();
        if d.log.len() >= MAX_LOG {
            d.dropped.log += 1;
            return;
        }
        d.log.push(LogLine { t_ms, level: level.into(), message: clip(&scrub(&message.into())) });
    }

    /// A compatibility warning (see `TraceData::warnings`); the same text is kept once.
    pub fn warn_compat(&self, text: impl Into<String>) {
        let text = scrub(&text.into());
        let mut d = self.data.lock().unwrap();
        if d.warnings.len() < MAX_WARNINGS && !d.warnings.contains(&text) {
            d.warnings.push(text);
        }
    }

    pub fn handshake(&self, text: impl Into<String>) {
        let mut d = self.data.lock().unwrap();
        if d.handshakes.len() >= MAX_HANDSHAKES {
            d.dropped.handshakes += 1;
            return;
        }
        d.handshakes.push(clip(&scrub(&text.into())));
    }

    pub fn violation(&self, requirement: Option<&str>, expected: impl Into<String>, observed: impl Into<String>) {
        let t_ms = self.elapsed_ms();
        let v = Violation { t_ms, requirement: requirement.map(Into::into), expected: scrub(&expected.into()), observed: scrub(&observed.into()) };
        tracing::debug!(?v, "protocol violation");
        let mut d = self.data.lock().unwrap();
        let same = d.per_rule.get(&v.expected).copied().unwrap_or(0);
        if d.violations.len() >= MAX_VIOLATIONS || same >= MAX_SAME_VIOLATION {
            d.dropped.violations += 1;
            return;
        }
        if d.per_rule.len() < MAX_VIOLATIONS {
            d.per_rule.insert(v.expected.clone(), same + 1);
        }
        d.violations.push(v);
    }

    /// Waits on the DUT count as timer waits while `what` is set.
    pub fn set_mandated(&self, what: Option<String>) {
        match &what {
            Some(w) => self.log("timer", format!("waiting for a mandated timer: {w}")),
            None => self.log("timer", "mandated timer over"),
        }
        *self.mandated.lock().unwrap() = what;
    }

    pub fn waited(&self, kind: WaitKind, d: std::time::Duration) {
        let ms = d.as_secs_f64() * 1000.0;
        let kind = if kind == WaitKind::Dut && self.mandated.lock().unwrap().is_some() { WaitKind::Timer } else { kind };
        let mut data = self.data.lock().unwrap();
        match kind {
            WaitKind::Dut => data.waits.dut_ms += ms,
            WaitKind::Timer => data.waits.timers_ms += ms,
            WaitKind::Operator => data.waits.operator_ms += ms,
        }
    }

    /// Whether the DUT sent at least one frame.
    pub fn heard_from_dut(&self) -> bool {
        self.data.lock().unwrap().wire.iter().any(|w| w.dir == Dir::Rx)
    }

    pub fn violations(&self) -> Vec<Violation> {
        self.data.lock().unwrap().violations.clone()
    }

    /// Take over what `earlier` recorded (the traffic between two cases on a connection that
    /// outlives them), marked as such; violations there are logged, not held against the case.
    pub fn absorb(&self, earlier: &Trace) {
        if Arc::ptr_eq(&self.data, &earlier.data) {
            return;
        }
        let e = std::mem::take(&mut *earlier.data.lock().unwrap());
        for h in e.handshakes {
            self.handshake(format!("(before the case) {h}"));
        }
        for w in e.wire {
            let note = match w.note {
                Some(n) => format!("before the case: {n}"),
                None => "before the case".to_string(),
            };
            self.wire(w.dir, &w.text, Some(note));
        }
        for l in e.log {
            self.log(&l.level, format!("(before the case) {}", l.message));
        }
        for w in e.warnings {
            self.warn_compat(format!("(before the case) {w}"));
        }
        for v in e.violations {
            self.log("warn", format!("(before the case) the DUT broke a rule: expected {}, observed {}", v.expected, v.observed));
        }
    }

    /// A copy of everything recorded so far.
    pub fn snapshot(&self) -> TraceData {
        let d = self.data.lock().unwrap();
        TraceData { waits: d.waits, log: d.log.clone(), wire: d.wire.clone(), violations: d.violations.clone(), handshakes: d.handshakes.clone(), warnings: d.warnings.clone(), dropped: d.dropped, per_rule: Default::default() }
    }
}

/// Text cut to `MAX_TEXT` bytes (on a character boundary), saying how long it was.
fn clip(text: &str) -> String {
    if text.len() <= MAX_TEXT {
        return text.to_string();
    }
    let mut cut = MAX_TEXT;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}... [{} bytes in all]", &text[..cut], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_stops_at_its_cap_and_counts_the_rest() {
        let t = Trace::new();
        for i in 0..MAX_LOG + 5 {
            t.log("info", format!("line {i}"));
        }
        for i in 0..MAX_VIOLATIONS + 3 {
            t.violation(None, format!("e{i}"), "o");
        }
        t.violation(None, "e0", "again");
        for _ in 0..MAX_WIRE + 2 {
            t.wire(Dir::Rx, "[2,\"1\",\"Heartbeat\",{}]", None);
        }
        for _ in 0..MAX_HANDSHAKES + 1 {
            t.handshake("GET");
        }
        t.log("info", "x".repeat(MAX_TEXT * 2));
        let d = t.snapshot();
        assert_eq!((d.log.len(), d.violations.len(), d.wire.len(), d.handshakes.len()), (MAX_LOG, MAX_VIOLATIONS, MAX_WIRE, MAX_HANDSHAKES));
        assert_eq!(d.dropped, Dropped { wire: 2, log: 6, violations: 4, handshakes: 1 });
        let same = Trace::new();
        for _ in 0..MAX_SAME_VIOLATION + 7 {
            same.violation(None, "one rule", "broken again");
        }
        same.violation(None, "another rule", "broken once");
        let d = same.snapshot();
        assert_eq!((d.violations.len(), d.dropped.violations), (MAX_SAME_VIOLATION + 1, 7));
        let short = Trace::new();
        short.log("info", "y".repeat(MAX_TEXT * 2));
        assert!(short.snapshot().log[0].message.len() < MAX_TEXT + 100);
    }

    /// A station's reboot belongs to the case that asked for it, even when it comes after that
    /// case ended; one that comes later, or in a case that asked for none, is reported.
    #[test]
    fn a_boot_nobody_asked_for_is_found_in_and_between_cases() {
        const BOOT: &str = r#"[2,"1","BootNotification",{}]"#;
        let case = |asks: bool, boot: Option<bool>| {
            let t = Trace::new();
            if asks {
                t.wire(Dir::Tx, r#"[2,"9","Reset",{"type":"Immediate"}]"#, None);
            }
            match boot {
                Some(true) => t.wire(Dir::Rx, BOOT, Some("before the case".into())),
                Some(false) => t.wire(Dir::Rx, BOOT, None),
                None => {}
            }
            t.snapshot()
        };
        let run = |cases: &[(&'static str, TraceData)]| unasked_boots(cases.iter().map(|(id, t)| (*id, t)));
        // The start-up boot in the first case, a Reset whose boot comes before the next case,
        // a Reset whose boot comes within its own case: nothing to report.
        let fine = [("A", case(false, Some(false))), ("B", case(true, None)), ("C", case(false, Some(true))), ("D", case(true, Some(false)))];
        assert_eq!(run(&fine), Vec::<String>::new());
        // A boot in a case that asked for nothing, and one between two cases that asked for nothing.
        let leaked = [("A", case(false, None)), ("B", case(false, Some(false))), ("C", case(false, None)), ("D", case(false, Some(true)))];
        assert_eq!(run(&leaked), ["B", "D"]);
    }
}
