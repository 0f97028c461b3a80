//! `ocpp-harness run` as a CI job sees it. An interrupted run leaves valid reports of
//! everything that ran: Ctrl-C (or SIGTERM) records the case in flight as an error and exits
//! 130; even SIGKILL leaves a JUnit file a parser accepts, because the reports are rewritten
//! atomically after every case. A suite file that is not a component is an error entry.
use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

fn start_run(reports: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ocpp-harness"))
        .args(["run", "--reports"])
        .arg(reports)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting ocpp-harness run")
}

/// Test cases in the JUnit file, once it holds at least `n` (the file is never half-written).
fn wait_for_cases(junit: &Path, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(xml) = std::fs::read_to_string(junit) {
            let doc = roxmltree::Document::parse(&xml).expect("junit.xml is always valid XML");
            if doc.descendants().filter(|d| d.has_tag_name("testcase")).count() >= n {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the run did not finish {n} cases within 60 s");
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill").args([sig, &child.id().to_string()]).status().expect("kill").success();
    assert!(ok, "kill {sig} failed");
}

fn testcases(junit: &Path) -> Vec<(String, bool)> {
    let xml = std::fs::read_to_string(junit).expect("junit.xml after the run");
    let doc = roxmltree::Document::parse(&xml).expect("junit.xml is valid XML after an interruption");
    doc.descendants()
        .filter(|d| d.has_tag_name("testcase"))
        .map(|t| {
            let interrupted = t.children().any(|c| c.has_tag_name("error") && c.attribute("message").unwrap_or_default().contains("interrupted by SIGINT"));
            (t.attribute("name").unwrap_or_default().to_string(), interrupted)
        })
        .collect()
}

#[test]
fn ctrl_c_records_the_case_in_flight_and_exits_130() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("interrupt-int-{}", std::process::id()));
    let junit = dir.join("junit.xml");
    let mut child = start_run(&dir);
    wait_for_cases(&junit, 3);
    signal(&child, "-INT");
    let status = child.wait().expect("waiting for the run");
    assert_eq!(status.code(), Some(130), "exit status after Ctrl-C");
    let cases = testcases(&junit);
    assert!(cases.len() >= 4, "{cases:?}");
    let (last, interrupted) = cases.last().unwrap();
    assert!(interrupted, "the last case ({last}) is not marked as interrupted: {cases:?}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("results.json")).unwrap()).expect("results.json is valid JSON");
    assert_eq!(json["counts"]["errors"], 1, "{}", json["counts"]);
}

#[test]
fn sigkill_still_leaves_a_valid_junit_file() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("interrupt-kill-{}", std::process::id()));
    let junit = dir.join("junit.xml");
    let mut child = start_run(&dir);
    wait_for_cases(&junit, 3);
    signal(&child, "-KILL");
    let _ = child.wait();
    assert!(testcases(&junit).len() >= 3);
}

#[test]
fn a_broken_suite_file_is_an_error_in_the_reports() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("broken-suite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junk = dir.join("junk-suite.wasm");
    std::fs::write(&junk, b"\0asm but not really a component").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ocpp-harness"))
        .args(["run", "--no-cache", "--suite"])
        .arg(&junk)
        .arg("--reports")
        .arg(dir.join("reports"))
        .output()
        .expect("running ocpp-harness");
    assert_eq!(out.status.code(), Some(1), "exit status with a broken suite");
    assert!(String::from_utf8_lossy(&out.stderr).contains("junk-suite.wasm not loaded"), "{}", String::from_utf8_lossy(&out.stderr));
    let xml = std::fs::read_to_string(dir.join("reports/junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let error = doc.descendants().find(|d| d.has_tag_name("error")).expect("an <error> for the suite");
    assert!(error.attribute("message").unwrap_or_default().contains("not a loadable component"), "{xml}");
}
