//! The evidence of one case: its log lines, the numbered wire log of every frame in both
//! directions, the handshakes, and the protocol violations the host saw. Shared between the
//! connection tasks and the guest host, and serialised into the reports.
use std::{
    sync::{Arc, Mutex},
    time::Instant,
};

use serde::{Deserialize, Serialize};

use crate::security::redact::scrub;

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
}

#[derive(Clone)]
pub struct Trace {
    start: Instant,
    data: Arc<Mutex<TraceData>>,
    /// Set while the case waits for a mandated timer (see `clock.begin-mandated`).
    mandated: Arc<Mutex<Option<String>>>,
}

impl Default for Trace {
    fn default() -> Self {
        Self::new()
    }
}

/// Upper bound on wire entries kept per case; a flooding DUT must not exhaust memory.
const MAX_WIRE: usize = 10_000;
/// Longest frame text kept verbatim in the trace.
const MAX_TEXT: usize = 64 * 1024;

impl Trace {
    pub fn new() -> Self {
        Self { start: Instant::now(), data: Arc::default(), mandated: Arc::default() }
    }

    pub fn elapsed_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }

    pub fn wire(&self, dir: Dir, text: &str, note: Option<String>) {
        let t_ms = self.elapsed_ms();
        let text = &scrub(text);
        let mut d = self.data.lock().unwrap();
        if d.wire.len() >= MAX_WIRE {
            return;
        }
        let text = if text.len() > MAX_TEXT {
            let mut cut = MAX_TEXT;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("{}... [{} bytes in all]", &text[..cut], text.len())
        } else {
            text.to_string()
        };
        let seq = d.wire.len() + 1;
        d.wire.push(WireEntry { seq, t_ms, dir, text, note });
    }

    pub fn log(&self, level: &str, message: impl Into<String>) {
        let t_ms = self.elapsed_ms();
        self.data.lock().unwrap().log.push(LogLine { t_ms, level: level.into(), message: scrub(&message.into()) });
    }

    pub fn handshake(&self, text: impl Into<String>) {
        self.data.lock().unwrap().handshakes.push(scrub(&text.into()));
    }

    pub fn violation(&self, requirement: Option<&str>, expected: impl Into<String>, observed: impl Into<String>) {
        let t_ms = self.elapsed_ms();
        let v = Violation { t_ms, requirement: requirement.map(Into::into), expected: scrub(&expected.into()), observed: scrub(&observed.into()) };
        tracing::debug!(?v, "protocol violation");
        self.data.lock().unwrap().violations.push(v);
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
        for v in e.violations {
            self.log("warn", format!("(before the case) the DUT broke a rule: expected {}, observed {}", v.expected, v.observed));
        }
    }

    /// A copy of everything recorded so far.
    pub fn snapshot(&self) -> TraceData {
        let d = self.data.lock().unwrap();
        TraceData { waits: d.waits, log: d.log.clone(), wire: d.wire.clone(), violations: d.violations.clone(), handshakes: d.handshakes.clone() }
    }
}
