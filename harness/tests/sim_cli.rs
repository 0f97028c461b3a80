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
        s.say("token TOKEN-1");
        let started = if *id == "SIM-16" { "\"connectorId\":2,\"idTag\":\"TOKEN-1\"" } else { "\"evse\":{\"connectorId\":1,\"id\":2}" };
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
