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

fn harness(args: &[&str], reports: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ocpp-harness")).args(args).arg("--reports").arg(reports).output().expect("running ocpp-harness")
}

/// (id, version, verdict) of every case in a results.json, sorted.
fn outcomes(dir: &Path) -> (Vec<(String, String, String)>, serde_json::Value) {
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("results.json")).unwrap()).unwrap();
    let mut v: Vec<_> = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["meta"]["id"].as_str().unwrap().to_string(), c["version"].as_str().unwrap().to_string(), c["verdict"].as_str().unwrap().to_string()))
        .collect();
    v.sort();
    (v, json["counts"].clone())
}

#[test]
fn merged_shards_equal_a_single_run() {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("shards-{}", std::process::id()));
    // A quick slice of the catalogue, with one failing case so verdicts other than pass merge too.
    let select = ["run", "--ocpp", "1.6", "--role", "charging-station", "--fault", "transaction-id-reuse"];
    let single = harness(&select, &base.join("single"));
    assert_eq!(single.status.code(), Some(1), "the slice has one failing case");
    for k in 1..=2 {
        let part = format!("hash:{k}/2");
        let args: Vec<&str> = select.iter().copied().chain(["--partition", part.as_str()]).collect();
        harness(&args, &base.join(format!("shard{k}")));
    }
    let merge = Command::new(env!("CARGO_BIN_EXE_ocpp-harness"))
        .args(["report", "merge", "--out"])
        .arg(base.join("merged"))
        .arg(base.join("shard1"))
        .arg(base.join("shard2/results.json"))
        .output()
        .unwrap();
    assert_eq!(merge.status.code(), Some(1), "merge keeps the failure: {}", String::from_utf8_lossy(&merge.stdout));
    let (s1, _) = outcomes(&base.join("shard1"));
    let (s2, _) = outcomes(&base.join("shard2"));
    assert!(!s1.is_empty() && !s2.is_empty(), "an empty shard: {s1:?} / {s2:?}");
    let (single_cases, single_counts) = outcomes(&base.join("single"));
    let (merged_cases, merged_counts) = outcomes(&base.join("merged"));
    assert_eq!(merged_cases, single_cases);
    assert_eq!(merged_counts, single_counts);
    let xml = std::fs::read_to_string(base.join("merged/junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.descendants().filter(|d| d.has_tag_name("testcase")).count(), single_cases.len());
    // Merging a shard twice is refused.
    let twice = Command::new(env!("CARGO_BIN_EXE_ocpp-harness")).args(["report", "merge", "--out"]).arg(base.join("bad")).arg(base.join("shard1")).arg(base.join("shard1")).output().unwrap();
    assert_eq!(twice.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&twice.stderr).contains("more than one input"));
}

#[test]
fn load_mode_registers_every_station_or_says_how_many_did() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_ocpp-harness")).args(args).output().expect("running ocpp-harness load");
        (out.status.code(), String::from_utf8_lossy(&out.stdout).to_string())
    };
    let (code, out) = run(&["load", "--stations", "200"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("200/200 stations registered") && out.contains("stations per GiB") && out.contains("p99"), "{out}");
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (code, out) = run(&["load", "--stations", "5", "--seconds", "2", "--csms-url", &format!("ws://127.0.0.1:{dead}/ocpp")]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("0/5 stations registered"), "{out}");
    let (code, out) = run(&["load", "--stations", "20", "--case", "OH_G_01_CSMS"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("20 passed, 0 failed"), "{out}");
}

/// A case that did not run (here: a security case at profile 0) is counted by its reason, and
/// `--fail-on-skip` makes that a failing exit for CI.
#[test]
fn fail_on_skip_turns_an_unrun_case_into_a_failing_exit() {
    let dir = std::env::temp_dir().join(format!("fail-on-skip-{}", std::process::id()));
    let plain = harness(&["run", "TC_A_01_CS", "--exact", "--ocpp", "2.0.1"], &dir.join("plain"));
    let text = String::from_utf8_lossy(&plain.stdout);
    assert!(plain.status.success(), "a skip alone is no failure by default:\n{text}");
    assert!(text.contains("not run to a verdict") && text.contains("1 x skip: runs at security profile"), "{text}");
    // The report says what ran: the suite by content hash, the settings, a tally per profile.
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("plain/results.json")).unwrap()).unwrap();
    let sha = json["suites"][0]["sha256"].as_str().unwrap_or_default();
    assert!(sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()), "{}", json["suites"]);
    assert_eq!(json["settings"]["filters"], "TC_A_01_CS");
    assert_eq!(json["settings"]["ocpp"], "2.0.1");
    assert_eq!(json["coverage"][0]["skipped"], 1, "{}", json["coverage"]);
    let strict = harness(&["run", "TC_A_01_CS", "--exact", "--ocpp", "2.0.1", "--fail-on-skip"], &dir.join("strict"));
    let text = String::from_utf8_lossy(&strict.stdout);
    assert_eq!(strict.status.code(), Some(1), "{text}");
    assert!(text.contains("--fail-on-skip: 1 case(s) did not run to a verdict"), "{text}");
}

/// A CSMS that is not there fails the first cases with the reason; from the third silent case
/// on, the rest of the run is one shared "not run" error, and the exit code says so.
#[test]
fn an_unreachable_dut_is_reported_once() {
    let dir = std::env::temp_dir().join(format!("unreachable-{}", std::process::id()));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("ws://127.0.0.1:{port}/ocpp");
    let out = harness(&["run", "--role", "charging-station", "--ocpp", "2.0.1", "--csms-url", &url], &dir);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("results.json")).unwrap()).unwrap();
    let cases = json["cases"].as_array().unwrap();
    let ran: Vec<_> = cases.iter().filter(|c| c["verdict"] != "skip").collect();
    let not_run = ran.iter().filter(|c| c["reason"].as_str().unwrap().starts_with("not run: the DUT sent nothing in 3 cases")).count();
    assert!(ran.len() > 10, "{} cases ran", ran.len());
    assert_eq!(not_run, ran.len() - 3, "all but the first three silent cases are not run");
    let first = ran[0]["reason"].as_str().unwrap();
    assert!(first.contains(&port.to_string()), "the first failure names the unreachable CSMS: {first}");
}

/// `init --answers` writes a description from the example answers; with its PICS, a case part
/// 5 makes conditional on items the station does not declare is skipped with the condition,
/// and one whose condition holds runs. Wrong answers are refused, every problem named.
#[test]
fn init_writes_a_description_whose_pics_select_cases() {
    let dir = std::env::temp_dir().join(format!("init-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bin = env!("CARGO_BIN_EXE_ocpp-harness");
    let answers = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/answers-station.toml");
    let dut = dir.join("dut.toml");
    let out = Command::new(bin).args(["init", "--force", "--answers"]).arg(&answers).arg("--out").arg(&dut).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The run against the built-in station takes the description's PICS but not its security.
    let text = std::fs::read_to_string(&dut).unwrap();
    let text = text.replace("[security]\nprofile = 2\npassword-env = \"CS001_PASSWORD\"\npki = \"pki\"\n", "");
    std::fs::write(&dut, &text).unwrap();
    // TC_C_37_CS is conditional on "C-49 and (C-30 or C-31 or C-32)", which the answers
    // declare: it runs. TC_F_11_CS is conditional on C-29.1, which they do not: skipped.
    let run = Command::new(bin).args(["run", "--exact", "--ocpp", "2.0.1", "--dut"]).arg(&dut).args(["--reports"]).arg(dir.join("r")).args(["TC_C_37_CS", "TC_F_11_CS"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("r/results.json")).unwrap()).unwrap();
    let verdict = |id: &str| json["cases"].as_array().unwrap().iter().find(|c| c["meta"]["id"] == id).map(|c| (c["verdict"].as_str().unwrap().to_string(), c["reason"].as_str().unwrap().to_string()));
    let runs = verdict("TC_C_37_CS");
    let skipped = verdict("TC_F_11_CS");
    assert!(matches!(&runs, Some((v, _)) if v == "pass"), "{runs:?} {}", String::from_utf8_lossy(&run.stdout));
    assert!(matches!(&skipped, Some((v, r)) if v == "skip" && r.contains("C-29.1")), "{skipped:?}");
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "name = \"x\"\nside = \"csms\"\nversions = [\"2.0.1\"]\npics = [\"C-49\"]\nsecurity-profile = 1\n").unwrap();
    let out = Command::new(bin).args(["init", "--answers"]).arg(&bad).arg("--out").arg(dir.join("bad-dut.toml")).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("\"C-49\" is not a PICS item of a csms") && err.contains("needs password-env"), "{err}");
    assert!(!dir.join("bad-dut.toml").exists());
}

/// The interactive `init`, answered at its prompts through a pseudo-terminal (Python's pty, as
/// a person at a terminal would type): the name, Enter for the defaults, space to pick the
/// first Core PICS item, a token and two EVSEs. The description says exactly that.
#[test]
fn init_asks_on_a_terminal() {
    const DRIVE: &str = r#"
import os, pty, select, sys, time
bin_, out = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execv(bin_, [bin_, "init", "--out", out])
keys = ["ACME X, fw 1\r", "\r", "\r", "\r", " \r"] + ["\r"] * 8 + ["\r", "04E91C5A8B2F80\r", "\r", "2\r", "\r", "\r"]
def drain(t):
    end = time.time() + t
    while time.time() < end:
        if select.select([fd], [], [], 0.05)[0]:
            try:
                os.read(fd, 65536)
            except OSError:
                return
for k in keys:
    drain(0.3)
    os.write(fd, k.encode())
drain(1)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"#;
    let dir = std::env::temp_dir().join(format!("init-tty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("dut.toml");
    let _ = std::fs::remove_file(&out);
    let status = Command::new("python3").args(["-c", DRIVE, env!("CARGO_BIN_EXE_ocpp-harness")]).arg(&out).status().expect("python3 drives the terminal");
    assert!(status.success(), "init at the terminal exited with {status}");
    let text = std::fs::read_to_string(&out).expect("init wrote the description");
    let declared: Vec<&str> = text.lines().filter(|l| l.trim_start().starts_with('"')).map(|l| l.trim().split('"').nth(1).unwrap()).collect();
    assert_eq!(declared, ["C-01"], "{text}");
    for line in ["name = \"ACME X, fw 1\"", "kind = \"charging-station\"", "versions = [\"2.0.1\"]", "valid-id-tokens = [\"04E91C5A8B2F80\"]", "evses = 2"] {
        assert!(text.contains(line), "{line} missing:\n{text}");
    }
}

/// A reader that stops early (`ocpp-harness list | head -1`) closes the pipe: the listing ends
/// quietly with status 0, and a run still writes its reports, instead of a "failed printing
/// to stdout" panic.
#[test]
fn a_closed_stdout_is_not_a_crash() {
    let reports = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("closed-stdout-{}", std::process::id()));
    for args in [vec!["list"], vec!["run", "--role", "csms", "--ocpp", "2.0.1", "TC_B_01_CS", "--exact", "--reports", reports.to_str().unwrap()]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ocpp-harness")).args(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("starting ocpp-harness");
        // The read end goes before anything was written: every write meets a closed pipe.
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("waiting for ocpp-harness");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && !stderr.contains("panicked"), "{args:?}: {} {stderr}", out.status);
    }
    assert!(reports.join("results.json").is_file(), "the run wrote no reports");
}

/// A station that accepts ChangeAvailability Operative and stays Unavailable (fault
/// ignore-operative, kept over reboots): the case that left the state fails for it (G03.FR.07),
/// the recovery ladder is climbed once, the loss is one finding, every later case that needs an
/// idle EVSE is "not run" without a frame sent, a station-wide case still runs, and the exit
/// status says verdicts are missing.
#[test]
fn a_lost_baseline_is_one_finding_not_a_cascade() {
    let dir = std::env::temp_dir().join(format!("lost-baseline-{}", std::process::id()));
    let out = harness(&["run", "--role", "csms", "--ocpp", "2.0.1", "--fault", "ignore-operative", "TC_G_0", "TC_J_09", "TC_B_23"], &dir);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("inconclusive or not run: no verdict for them"), "{text}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("results.json")).unwrap()).unwrap();
    let cases = json["cases"].as_array().unwrap();
    let by_id = |id: &str| cases.iter().find(|c| c["meta"]["id"] == id).unwrap_or_else(|| panic!("no {id} in {text}"));
    let g03 = by_id("TC_G_03_CS");
    assert_eq!(g03["verdict"], "fail", "{}", g03["reason"]);
    assert!(g03["reason"].as_str().unwrap().contains("G03.FR.07"), "{}", g03["reason"]);
    let reasons: Vec<&str> = cases.iter().filter_map(|c| c["reason"].as_str()).collect();
    let findings: Vec<&&str> = reasons.iter().filter(|r| r.starts_with("not run: the baseline was lost after TC_G_03_CS")).collect();
    assert_eq!(findings.len(), 1, "{reasons:#?}");
    let first = cases.iter().find(|c| c["reason"].as_str() == Some(findings[0])).unwrap()["meta"]["id"].as_str().unwrap().to_string();
    let not_run: Vec<&serde_json::Value> = cases.iter().filter(|c| c["reason"].as_str().is_some_and(|r| r.starts_with("not run:"))).collect();
    assert!(not_run.len() >= 5, "{reasons:#?}");
    for c in &not_run {
        let r = c["reason"].as_str().unwrap();
        assert!(r == *findings[0] || r.ends_with(&format!("(see {first})")), "{r}");
        assert!(c["trace"]["wire"].as_array().is_none_or(|w| w.is_empty()), "a case not run sent frames: {}", c["meta"]["id"]);
    }
    // The ladder was climbed once, to its top, not before every case.
    let resets = cases
        .iter()
        .flat_map(|c| c["trace"]["log"].as_array().cloned().unwrap_or_default())
        .filter(|l| l["message"].as_str().is_some_and(|m| m.starts_with("recovery: Reset OnIdle")))
        .count();
    assert_eq!(resets, 1, "{text}");
    // A case about the station as a whole (B: provisioning) still runs, and sends frames.
    let b23 = by_id("TC_B_23_CS");
    assert!(!b23["reason"].as_str().unwrap_or_default().starts_with("not run:"), "{}", b23["reason"]);
    assert!(b23["trace"]["wire"].as_array().is_some_and(|w| !w.is_empty()), "TC_B_23_CS sent nothing");
    // Without the fault nothing is lost, and the run exits 0.
    let fine = harness(&["run", "--role", "csms", "--ocpp", "2.0.1", "TC_G_03", "TC_J_09"], &dir.join("fine"));
    assert!(fine.status.success(), "{}", String::from_utf8_lossy(&fine.stdout));
}

/// A fake CSMS API as labs meet them: a route per action in lowerCamel under a module
/// (`/ocpp/2.0.1/provisioning/reset`), 404 elsewhere, OPTIONS answered on its routes, and a
/// POST answered 200 with `[{"success": false, …}]` — it could not send the CALL. Returns its
/// address and the request lines it got.
fn fake_csms_api() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut length = 0;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            log.lock().unwrap().push(line.trim().to_string());
            let (method, path) = line.split_once(' ').map(|(m, rest)| (m.to_string(), rest.split(' ').next().unwrap_or("").to_string())).unwrap_or_default();
            let (status, answer) = match (method.as_str(), path.as_str()) {
                (_, "/ocpp/2.0.1/provisioning/reset") if method == "OPTIONS" => ("204 No Content", String::new()),
                ("POST", "/ocpp/2.0.1/provisioning/reset") => ("200 OK", r#"[{"success":false,"reason":"station CS001 is not connected to this node"}]"#.to_string()),
                _ => ("404 Not Found", "no such route".to_string()),
            };
            let mut out = stream;
            let _ = write!(out, "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}", answer.len());
        }
    });
    (addr, seen)
}

/// A csms-trigger the CSMS's API could not carry out — it said so in a 200's body — makes the
/// case inconclusive with the server's reason, not failed; the route is the action's own,
/// in lowerCamel; and `bench check` finds a route that does not exist without sending anything.
#[test]
fn a_csms_api_that_could_not_send_makes_the_case_inconclusive_with_its_reason() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("csms-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (addr, seen) = fake_csms_api();
    let bench = dir.join("bench.toml");
    let routes = |extra: &str| {
        format!(
            "[capabilities.csms-trigger]\ndriver = \"http\"\nbody = '{{\"identity\": \"{{station}}\", \"payload\": {{payload}}}}'\nsuccess-pointer = \"/0/success\"\nroute-probe = \"OPTIONS\"\n[capabilities.csms-trigger.routes.Reset]\nurl = \"http://{addr}/ocpp/{{version}}/provisioning/{{action-camel}}\"\n{extra}"
        )
    };
    std::fs::write(&bench, routes("")).unwrap();
    let out = harness(&["run", "--role", "charging-station", "--ocpp", "2.0.1", "--exact", "TC_B_20_CSMS", "--bench", bench.to_str().unwrap()], &dir.join("reports"));
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("reports/results.json")).unwrap()).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let cases = results["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 1, "{text}");
    let (verdict, reason) = (cases[0]["verdict"].as_str().unwrap(), cases[0]["reason"].as_str().unwrap_or_default());
    assert_eq!(verdict, "inconclusive", "{reason}");
    assert!(reason.contains("station CS001 is not connected to this node") && reason.contains("/0/success"), "{reason}");
    assert!(seen.lock().unwrap().iter().any(|l| l.starts_with("POST /ocpp/2.0.1/provisioning/reset ")), "{:?}", seen.lock().unwrap());
    assert!(!out.status.success(), "an inconclusive case must not leave exit status 0");

    // A route the API does not have: bench check says which, and no POST is made for it.
    std::fs::write(&bench, routes(&format!("[capabilities.csms-trigger.routes.GetBaseReport]\nurl = \"http://{addr}/ocpp/{{version}}/reports/{{action-camel}}\"\n"))).unwrap();
    let before = seen.lock().unwrap().len();
    let check = Command::new(env!("CARGO_BIN_EXE_ocpp-harness")).args(["bench", "check", "--bench", bench.to_str().unwrap()]).output().unwrap();
    let said = String::from_utf8_lossy(&check.stdout).to_string() + &String::from_utf8_lossy(&check.stderr);
    assert!(!check.status.success() && said.contains("GetBaseReport does not exist"), "{said}");
    assert!(seen.lock().unwrap()[before..].iter().all(|l| l.starts_with("OPTIONS ")), "{:?}", seen.lock().unwrap());
}

/// `fidelity` walks each selected case's wire log along its part-6 table: a case that
/// exchanges what its table says is faithful, one that leaves steps out is told step by step,
/// and the exit status says whether every selected case was faithful.
#[test]
fn fidelity_compares_cases_with_their_part_6_tables() {
    let bin = env!("CARGO_BIN_EXE_ocpp-harness");
    let out = Command::new(bin).args(["fidelity", "--exact", "TC_E_06_CS", "TC_B_02_CS"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("TC_E_06_CS: faithful"), "{text}");
    let b02 = text.lines().find(|l| l.starts_with("TC_B_02_CS: ")).unwrap_or_else(|| panic!("no line for TC_B_02_CS: {text}"));
    let summary = text.lines().find(|l| l.contains("faithful to their part-6 tables")).unwrap_or_else(|| panic!("no summary: {text}"));
    if b02.ends_with("faithful") {
        assert!(summary.starts_with("2 of 2") && out.status.success(), "{text}");
    } else {
        // Each difference names its step and message.
        assert!(b02.contains("step ") && b02.contains("Request"), "{b02}");
        assert!(summary.starts_with("1 of 2") && out.status.code() == Some(1), "{text}");
    }
}

/// `--jobs 2`: two workers, each with its own built-in DUTs, give the verdicts one worker gives,
/// and the reports list the runs in catalogue order whichever worker ended first.
#[test]
fn two_workers_give_the_same_verdicts_in_catalogue_order() {
    let dir = std::env::temp_dir().join(format!("jobs-{}", std::process::id()));
    let run = |jobs: &str| {
        let out = harness(&["run", "--role", "charging-station", "--ocpp", "2.0.1", "--jobs", jobs, "TC_B_", "TC_E_0"], &dir.join(jobs));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join(jobs).join("results.json")).unwrap()).unwrap();
        json["cases"].as_array().unwrap().iter().map(|c| (c["meta"]["id"].as_str().unwrap().to_string(), c["verdict"].as_str().unwrap().to_string())).collect::<Vec<_>>()
    };
    let (one, two) = (run("1"), run("2"));
    assert!(one.len() >= 8, "{one:?}");
    assert_eq!(one, two);
}
