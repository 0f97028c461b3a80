//! The reference DUTs run on their own from the CLI: `sim csms` and one `sim station` per
//! OCPP version talk to each other, the stations' consoles drive cable and token, and the
//! CSMS's console sends a request to a station.
use std::{
    io::{BufRead, BufReader, Write},
    process::{Child, ChildStdin, Command, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

/// A child process whose output lines (stdout and stderr) arrive on a channel.
struct Sim {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Sim {
    fn start(args: &[&str]) -> Sim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ocpp-harness"))
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("OCPP_HARNESS_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting ocpp-harness");
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        let tx2 = tx.clone();
        thread::spawn(move || BufReader::new(out).lines().map_while(Result::ok).for_each(|l| drop(tx.send(l))));
        thread::spawn(move || BufReader::new(err).lines().map_while(Result::ok).for_each(|l| drop(tx2.send(l))));
        let stdin = child.stdin.take().unwrap();
        Sim { child, stdin, lines, seen: vec![] }
    }

    /// Wait for a line containing every one of `needles`; panics with the output so far.
    fn wait_for(&mut self, needles: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(l) = self.seen.iter().find(|l| needles.iter().all(|n| l.contains(n))) {
                return l.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(_) => panic!("no line with {needles:?} within 15 s; output:\n{}", self.seen.join("\n")),
            }
        }
    }

    fn say(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").expect("writing to the simulator's console");
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn simulators_run_standalone_and_talk_every_version() {
    let mut csms = Sim::start(&["sim", "csms", "--listen", "127.0.0.1:0"]);
    let banner = csms.wait_for(&["listening on ws://"]);
    let addr = banner.split("ws://").nth(1).and_then(|r| r.split('/').next()).expect("address in the banner").to_string();
    let url = format!("ws://{addr}/ocpp");

    let mut stations = vec![];
    for (version, id) in [("1.6", "SIM-16"), ("2.0.1", "SIM-201"), ("2.1", "SIM-21")] {
        let s = Sim::start(&["sim", "station", "--csms-url", &url, "--station-id", id, "--ocpp", version, "--evses", "2"]);
        csms.wait_for(&[&format!("CSMS <- {id} "), "BootNotification"]);
        stations.push((id, s));
    }

    // Physical inputs on the consoles lead to transaction messages at the CSMS.
    for (id, s) in &mut stations {
        s.say("plug 2");
        s.say("token 04E91C5A8B2F80");
        let started = if *id == "SIM-16" { "\"connectorId\":2,\"idTag\":\"04E91C5A8B2F80\"" } else { "\"evse\":{\"connectorId\":1,\"id\":2}" };
        csms.wait_for(&[&format!("CSMS <- {id} "), started]);
    }
    let (_, v16) = &mut stations[0];
    v16.say("unplug 2");
    csms.wait_for(&["CSMS <- SIM-16 ", "StopTransaction", "EVDisconnected"]);

    // The CSMS console sends a request; the station answers it.
    csms.say(r#"send SIM-201 GetVariables {"getVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}"#);
    csms.wait_for(&["sent GetVariables to SIM-201"]);
    csms.wait_for(&["CSMS <- SIM-201 ", "attributeStatus", "Accepted"]);

    // Bad console input gets a clear message, and the simulator keeps running.
    csms.say("send SIM-201 Reset {not json");
    csms.wait_for(&["the payload is not JSON"]);
    csms.say("stations");
    csms.wait_for(&["connected:", "SIM-16", "SIM-201", "SIM-21"]);
}

#[test]
fn station_backs_off_exponentially_while_the_csms_is_down() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("ws://127.0.0.1:{port}/ocpp");
    let mut station = Sim::start(&["sim", "station", "--csms-url", &url, "--station-id", "SIM-OFF"]);
    for ms in [100, 200, 400, 800] {
        station.wait_for(&["SIM-OFF: no connection to the CSMS", &format!("retrying in {ms} ms")]);
    }
}

/// A lab's own PKI from `pki init`: the standalone CSMS and station talk over mutual TLS with
/// it, and a run against the standalone CSMS (its security from the DUT description) passes
/// the profile-3 cases and skips the others with the reason.
#[test]
fn a_lab_pki_secures_the_standalone_simulators_and_a_run() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("lab-pki-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let pki = dir.join("pki");
    let bin = env!("CARGO_BIN_EXE_ocpp-harness");
    let init = Command::new(bin).args(["pki", "init"]).arg(&pki).args(["--station-id", "LAB-1"]).output().unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    use std::os::unix::fs::PermissionsExt;
    for f in ["ca.pem", "ca.key", "csms.pem", "csms.key", "station.pem", "station.key"] {
        let meta = std::fs::metadata(pki.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        if f.ends_with(".key") {
            assert_eq!(meta.permissions().mode() & 0o077, 0, "{f} is readable by others");
        }
    }
    let again = Command::new(bin).args(["pki", "init"]).arg(&pki).output().unwrap();
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("not overwriting"));

    let pki_arg = pki.to_str().unwrap();
    let mut csms = Sim::start(&["sim", "csms", "--listen", "127.0.0.1:0", "--security-profile", "3", "--pki", pki_arg]);
    let banner = csms.wait_for(&["listening on wss://"]);
    let addr = banner.split("wss://").nth(1).and_then(|r| r.split('/').next()).expect("address in the banner").to_string();
    let url = format!("wss://{addr}/ocpp");
    let _station = Sim::start(&["sim", "station", "--csms-url", &url, "--station-id", "LAB-1", "--security-profile", "3", "--pki", pki_arg]);
    csms.wait_for(&["CSMS <- LAB-1 ", "BootNotification"]);

    std::fs::write(dir.join("csms.toml"), "kind = \"csms\"\nprofiles = [\"core\", \"advanced-security\"]\nstation-id = \"LAB-1\"\n[security]\nprofile = 3\npki = \"pki\"\n").unwrap();
    let reports = dir.join("reports");
    let out = Command::new(bin)
        .args(["run", "_A_", "--csms-url", &url, "--dut"])
        .arg(dir.join("csms.toml"))
        .arg("--reports")
        .arg(&reports)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for id in ["TC_A_07_CSMS", "OH_A_02_CSMS", "OH_A_03_CSMS", "OH_A_04_CSMS", "OH_A_05_CSMS"] {
        assert!(stdout.lines().any(|l| l.starts_with(&format!("test {id} ")) && l.ends_with("ok")), "{id} did not pass:\n{stdout}");
    }
    assert!(stdout.lines().any(|l| l.starts_with("test TC_A_01_CSMS ") && l.contains("runs at security profile 1 or 2")), "{stdout}");
}
