//! Reports of a run: JUnit XML for CI, a JSON file with every case's full trace for tools, an
//! HTML report for people (see `html`), all rewritten after each case so that an interrupted
//! run still leaves valid files.
use std::{
    fs,
    io::Write as _,
    path::{Path, PathBuf},
};

use serde::Serialize;

use ocpp_core::{case::Verdict, trace::{Dir, LogLine, TraceData, WireEntry}};
pub mod html;
mod results;
mod run_info;

pub use results::{CaseResult, StationSummary};
pub use run_info::{ProfileTally, RunInfo, SuiteInfo, tallies};

#[derive(Serialize)]
pub struct RunSummary<'a> {
    pub tool: &'static str,
    pub version: &'static str,
    pub started: String,
    pub dut: String,
    /// The suites run (with content hashes) and the run's settings.
    #[serde(flatten)]
    pub info: &'a RunInfo,
    pub counts: Counts,
    /// Runs per OCPP version, DUT side and certification profile, by verdict.
    pub coverage: Vec<ProfileTally>,
    /// What the run saw of each station DUT (harness as CSMS): connections, boots.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub stations: &'a [StationSummary],
    pub cases: &'a [CaseResult],
}

#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub skipped: usize,
    pub inconclusive: usize,
}

impl Counts {
    pub fn of(results: &[CaseResult]) -> Counts {
        let mut c = Counts::default();
        for r in results {
            match r.verdict {
                Verdict::Pass => c.passed += 1,
                Verdict::Fail { .. } => c.failed += 1,
                Verdict::Error(_) => c.errors += 1,
                Verdict::Skip(_) => c.skipped += 1,
                Verdict::Inconclusive(_) => c.inconclusive += 1,
            }
        }
        c
    }
}

/// A frame of the wire log as one line of text: number, time, direction, text, note.
pub fn frame_line(w: &WireEntry) -> String {
    let arrow = match w.dir {
        Dir::Tx => "harness -> DUT",
        Dir::Rx => "DUT -> harness",
    };
    let note = w.note.as_deref().map(|n| format!("  ({n})")).unwrap_or_default();
    format!("#{:<4} {:>9.1} ms  {arrow}  {}{note}", w.seq, w.t_ms, w.text)
}

/// A log line of a trace as one line of text.
pub fn log_line(l: &LogLine) -> String {
    format!("log {:>9.1} ms  {:<5} {}", l.t_ms, l.level, l.message)
}

/// The wire log as text: numbered, timed, one frame a line.
pub fn wire_text(trace: &TraceData) -> String {
    let mut out = String::new();
    for h in &trace.handshakes {
        out.push_str(&format!("handshake: {h}\n"));
    }
    for w in &trace.wire {
        out.push_str(&frame_line(w));
        out.push('\n');
    }
    for l in &trace.log {
        out.push_str(&log_line(l));
        out.push('\n');
    }
    let w = &trace.waits;
    out.push_str(&format!("waited: {:.0} ms on the DUT, {:.0} ms on timers, {:.0} ms on the bench/operator\n", w.dut_ms, w.timers_ms, w.operator_ms));
    out
}

pub fn junit(suite_name: &str, results: &[CaseResult]) -> junit_report::Report {
    let mut suite = junit_report::TestSuite::new(suite_name);
    for r in results {
        let time = junit_report::Duration::seconds_f64(r.duration_ms / 1000.0);
        let id = r.meta.id.as_str();
        let mut tc = match &r.verdict {
            Verdict::Pass => junit_report::TestCase::success(id, time),
            Verdict::Fail { .. } => junit_report::TestCase::failure(id, time, "fail", &r.reason),
            Verdict::Error(_) => junit_report::TestCase::error(id, time, "error", &r.reason),
            Verdict::Skip(_) => junit_report::TestCase::skipped_with_cause(id, "skip", &r.reason),
            Verdict::Inconclusive(_) => junit_report::TestCase::skipped_with_cause(id, "inconclusive", &r.reason),
        };
        tc.set_classname(&format!("{}.{}.{}", r.meta.suite, r.version, r.meta.role));
        let warnings: String = r.trace.warnings.iter().map(|w| format!("compatibility warning: {w}\n")).collect();
        tc.set_system_out(&format!("{}\nrequirements: {}\n{warnings}{}", r.meta.title, r.meta.requirements.join(", "), wire_text(&r.trace)));
        suite.add_testcase(tc);
    }
    let mut report = junit_report::Report::new();
    report.add_testsuite(suite);
    report
}

/// The part of a `results.json` that merging needs.
#[derive(serde::Deserialize)]
pub struct StoredRun {
    pub dut: String,
    #[serde(flatten)]
    pub info: RunInfo,
    pub cases: Vec<CaseResult>,
}

/// Read a run back from its `results.json` (or the directory holding it).
pub fn read_results(path: &Path) -> anyhow::Result<StoredRun> {
    use anyhow::Context as _;
    let file = if path.is_dir() { path.join("results.json") } else { path.to_path_buf() };
    let data = fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    serde_json::from_slice(&data).with_context(|| format!("{} is not a results.json of ocpp-harness", file.display()))
}

/// Writes `junit.xml` and `results.json` into a directory, atomically, after every case.
pub struct ReportWriter {
    dir: PathBuf,
    junit: PathBuf,
    started: String,
    dut: String,
    stations: Vec<StationSummary>,
    info: RunInfo,
}

impl ReportWriter {
    pub fn new(dir: &Path, dut: String) -> std::io::Result<ReportWriter> {
        fs::create_dir_all(dir)?;
        Ok(ReportWriter { dir: dir.to_path_buf(), junit: dir.join("junit.xml"), started: chrono::Utc::now().to_rfc3339(), dut, stations: vec![], info: RunInfo::default() })
    }

    /// The suites and settings of the run, for every report.
    pub fn set_run_info(&mut self, info: RunInfo) {
        self.info = info;
    }

    /// What the run saw of the station DUTs, for results.json.
    pub fn set_stations(&mut self, stations: Vec<StationSummary>) {
        self.stations = stations;
    }

    /// Write the JUnit file somewhere else than `<dir>/junit.xml`.
    pub fn with_junit_path(mut self, path: PathBuf) -> std::io::Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)?;
        }
        self.junit = path;
        Ok(self)
    }

    pub fn junit_path(&self) -> PathBuf {
        self.junit.clone()
    }

    pub fn write(&self, results: &[CaseResult]) -> std::io::Result<()> {
        let mut xml = Vec::new();
        junit("ocpp-harness", results).write_xml(&mut xml).map_err(std::io::Error::other)?;
        write_atomic(&self.junit_path(), &xml)?;
        let summary = RunSummary {
            tool: "ocpp-harness",
            version: env!("CARGO_PKG_VERSION"),
            started: self.started.clone(),
            dut: self.dut.clone(),
            info: &self.info,
            counts: Counts::of(results),
            coverage: tallies(results),
            stations: &self.stations,
            cases: results,
        };
        write_atomic(&self.dir.join("results.json"), &serde_json::to_vec_pretty(&summary).map_err(std::io::Error::other)?)?;
        write_atomic(&self.dir.join("report.html"), crate::html::render(&self.started, &self.dut, &self.info, &self.stations, results).as_bytes())
    }
}

fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = fs::File::create(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    fs::rename(&tmp, path)
}
