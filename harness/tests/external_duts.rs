//! The reference DUTs as real ones: each its own process, started once, driven over its HTTP
//! control API by the `http` bench driver. The station (tests/bench/sim-station.toml) takes the
//! whole CSMS-role catalogue from `run --listen`; the CSMS (tests/bench/sim-csms.toml) the whole
//! station-role catalogue from `run --csms-url`. For 1.6, 2.0.1 and 2.1 every case must get the
//! verdict it gets in-process, and the station must boot only in (or just after) cases that
//! asked for a reboot; at 1.6 and 2.0.1 the station is also disturbed after every case and the
//! harness must bring it back to the baseline by itself; and at every version the station,
//! configured with the legal variants a lab's station may have, passes or skips for what it
//! lacks.
use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use libtest_mimic::{Arguments, Trial};
use serde_json::Value;

/// How many runs at once: each trial is one or two harness processes and a simulator, mostly
/// idle (all of them take under a minute of CPU), so all at once.
const THREADS: usize = 15;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ocpp-harness"));
    c.env("NO_COLOR", "1").env_remove("OCPP_HARNESS_LOG");
    c
}

/// A port no one listens on, below the kernel's ephemeral range (32768 and up on Linux): a
/// port bind(0) hands out is free only until some other process's connection or bind(0)
/// takes it, which with a dozen runs side by side happened ("Address already in use"). Each
/// is handed out once per test process.
fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 20_000 + (std::process::id() % 500) as u16 * 20;
    let _ = NEXT.compare_exchange(0, base, Ordering::SeqCst, Ordering::SeqCst);
    loop {
        let port = NEXT.fetch_add(1, Ordering::SeqCst);
        assert!(port < 32_000, "no free port below the ephemeral range");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Kills the simulator however the test ends.
struct Sim(Child);
impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(args: &[&str], reports: &Path) -> Value {
    let out = bin().args(args).arg("--reports").arg(reports).stdin(Stdio::null()).output().expect("running ocpp-harness");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let data = std::fs::read(reports.join("results.json")).unwrap_or_else(|e| panic!("no results.json ({e}); output:\n{text}"));
    serde_json::from_slice(&data).expect("results.json is JSON")
}

/// The external run and the in-process one at the same time: they share nothing (the
/// in-process run starts its own DUT on other ports), and each is mostly waiting.
fn both(external: &[&str], external_reports: &Path, in_process: &[&str], in_process_reports: &Path) -> (Value, Value) {
    std::thread::scope(|s| {
        let other = s.spawn(|| run(in_process, in_process_reports));
        let ext = run(external, external_reports);
        (ext, other.join().expect("the in-process run"))
    })
}

fn verdicts(results: &Value) -> Vec<(String, String)> {
    results["cases"].as_array().unwrap().iter().map(|c| (c["meta"]["id"].as_str().unwrap().to_string(), c["verdict"].as_str().unwrap().to_string())).collect()
}

/// Start `sim` with `args` and wait until its control API on `control` answers.
fn start_sim(args: &[&str], control: u16) -> Sim {
    let sim = Sim(bin().args(args).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("starting the simulator"));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", control)).is_err() {
        assert!(std::time::Instant::now() < deadline, "the control API never came up");
        std::thread::sleep(Duration::from_millis(50));
    }
    sim
}

/// Every verdict against the external DUT equals the in-process one, but for a conditional
/// case the plain in-process reference station skips for a prerequisite (`REFERENCE_LACKS`)
/// that the external one, with its variants, meets and passes.
fn same_verdicts(version: &str, external: &Value, in_process: &Value) {
    let (ext, inp) = (verdicts(external), verdicts(in_process));
    assert!(ext.len() >= 10, "{version}: only {} cases ran", ext.len());
    let reason_in = |id: &str| in_process["cases"].as_array().unwrap().iter().find(|c| c["meta"]["id"] == id).and_then(|c| c["reason"].as_str()).unwrap_or_default().to_string();
    let met_only_there = |id: &str, e: &str, i: &str| e == "pass" && i == "skip" && ocpp_sim::variant::REFERENCE_LACKS.iter().any(|(w, _)| reason_in(id).contains(w));
    let differ: Vec<String> = ext
        .iter()
        .zip(&inp)
        .filter(|((id, e), (_, i))| e != i && !met_only_there(id, e, i))
        .map(|((id, e), (_, i))| {
            let reason = external["cases"].as_array().unwrap().iter().find(|c| c["meta"]["id"] == id.as_str()).map(|c| c["reason"].to_string()).unwrap_or_default();
            format!("{id}: {e} against the external DUT, {i} in-process ({reason})")
        })
        .collect();
    assert!(differ.is_empty() && ext.len() == inp.len(), "{version}:\n{}", differ.join("\n"));
    assert!(ext.iter().any(|(_, v)| v == "pass"), "{version}: nothing passed");
}

/// A directory for one test's reports, free ports for the sim's WebSocket and control API,
/// and the shipped bench description `bench` pointed at that control port (it names
/// `shipped_control` in the repository).
fn setup(name: &str, bench: &str, shipped_control: &str) -> (PathBuf, u16, u16, PathBuf) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ws, control) = (free_port(), free_port());
    let shipped = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/bench").join(bench)).unwrap();
    let path = dir.join("bench.toml");
    std::fs::write(&path, shipped.replace(shipped_control, &format!("127.0.0.1:{control}"))).unwrap();
    (dir, ws, control, path)
}

/// The whole station-role catalogue at `version` against `sim csms` as its own process, with
/// the strict variants real servers have (a quick reconnect refused, a repeated eventId
/// refused, an answer just before a close lost): every verdict equals the in-process run's
/// against the plain CSMS, and the harness station connects and boots only for the cases
/// whose subject is the connection or the boot.
fn check_csms(version: &str) {
    let (dir, ws, control, bench) = setup(&format!("external-csms-{version}"), "sim-csms.toml", "127.0.0.1:9201");
    let strict = ["--variant", "slow-session-setup", "--variant", "unique-event-ids", "--variant", "lossy-close"];
    let (listen, control_addr) = (format!("127.0.0.1:{ws}"), format!("127.0.0.1:{control}"));
    // One lab PKI for both: the CSMS trusts its V2G root, and the harness makes the EV's
    // contract certificates under it (TC_C_50-52_CSMS) and answers for them over OCSP.
    let pki = dir.join("pki");
    assert!(bin().args(["pki", "init"]).arg(&pki).status().expect("pki init").success());
    let pki = pki.to_str().unwrap();
    let _sim = start_sim(&[&["sim", "csms", "--listen", &listen, "--control", &control_addr, "--pki", pki][..], &strict].concat(), control);
    let description = dir.join("dut.toml");
    std::fs::write(&description, self::description("csms", "charging-station", version, 0, "", &token_parameters(""))).unwrap();
    let url = format!("ws://127.0.0.1:{ws}/ocpp");
    let (external, in_process) = both(
        &["run", "--role", "charging-station", "--ocpp", version, "--csms-url", &url, "--dut", description.to_str().unwrap(), "--bench", bench.to_str().unwrap(), "--pki", pki],
        &dir.join("external"),
        &["run", "--role", "charging-station", "--ocpp", version],
        &dir.join("in-process"),
    );
    same_verdicts(version, &external, &in_process);
    few_connections(version, &external);
}

/// The harness station of a run connects and boots again only for the cases about that: far
/// fewer times than cases ran (one connection per case was the old way, and crashed a CSMS).
fn few_connections(what: &str, results: &Value) {
    let own = results["stations"].as_array().into_iter().flatten().find(|s| s["played_by_harness"] == true).unwrap_or_else(|| panic!("{what}: results.json counts no harness station: {}", results["stations"]));
    let cases = results["cases"].as_array().unwrap().iter().filter(|c| c["verdict"] != "skip").count() as u64;
    let (connections, boots) = (own["connections"].as_u64().unwrap(), own["boots"].as_u64().unwrap());
    assert!(boots >= 1 && boots <= connections, "{what}: {boots} boots on {connections} connections");
    assert!(connections * 4 <= cases.max(8), "{what}: the harness station connected {connections} times for {cases} cases");
}

/// A lab's CSMS run without a PKI: the Plug & Charge cases that need one are inconclusive,
/// saying so, and the cases after them still run — a case that stopped before it reached for
/// the DUT says nothing about whether the DUT is there (three of them once ended the run as
/// "the DUT sent nothing").
fn external_csms_without_a_lab_pki() {
    let (dir, ws, control, bench) = setup("external-csms-no-pki", "sim-csms.toml", "127.0.0.1:9201");
    let (listen, control_addr) = (format!("127.0.0.1:{ws}"), format!("127.0.0.1:{control}"));
    let _sim = start_sim(&["sim", "csms", "--listen", &listen, "--control", &control_addr], control);
    let description = dir.join("dut.toml");
    std::fs::write(&description, self::description("csms", "charging-station", "2.0.1", 0, "", &token_parameters(""))).unwrap();
    let url = format!("ws://127.0.0.1:{ws}/ocpp");
    let ids = ["TC_C_50_CSMS", "TC_C_51_CSMS", "TC_C_52_CSMS", "OH_RPC_03_CSMS"];
    let args = [&["run", "--role", "charging-station", "--ocpp", "2.0.1", "--csms-url", &url, "--dut", description.to_str().unwrap(), "--bench", bench.to_str().unwrap(), "--exact"][..], &ids].concat();
    let results = run(&args, &dir.join("reports"));
    let got = verdicts(&results);
    let want: Vec<(String, String)> = ids.iter().zip(["inconclusive", "inconclusive", "inconclusive", "pass"]).map(|(i, v)| (i.to_string(), v.to_string())).collect();
    assert_eq!(got, want, "{}", results["cases"]);
    let reason = results["cases"][0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("cannot do contract-certificate"), "{reason}");
}

fn external_csms_1_6() {
    check_csms("1.6");
}

fn external_csms_2_0_1() {
    check_csms("2.0.1");
}

fn external_csms_2_1() {
    check_csms("2.1");
}

/// The whole CSMS-role catalogue at `version` against `sim station` as its own process: every
/// verdict equals the in-process run's, and the station boots only where a case asked.
/// `disturbed`: the bench's safe state is the station's `/safe-state/then-disturb`, so after
/// every case it leaves the baseline on its own (out of service at station and at EVSE level,
/// a driver's card without a cable, a status for EVSE 0, a setting changed, a firmware update
/// of its own, and at 1.6 a reservation and a default charging profile nobody in the run made,
/// in turn) — the harness must bring it back each time, say so, and still reach the same
/// verdicts.
fn check_version(version: &str, disturbed: bool) {
    check_part(version, disturbed, None);
}

/// `check_version` for one part of the catalogue (`run --partition hash:K/N`), against its own
/// station: the parts of a long catalogue run side by side.
fn check_part(version: &str, disturbed: bool, partition: Option<&str>) {
    let part = partition.map(|p| format!("-{}", p.replace([':', '/'], "-"))).unwrap_or_default();
    let name = if disturbed { format!("external-disturbed-{version}{part}") } else { format!("external-{version}{part}") };
    let (dir, ws, control, bench) = setup(&name, "sim-station.toml", "127.0.0.1:9100");
    if disturbed {
        let shipped = std::fs::read_to_string(&bench).unwrap();
        let disturbing = shipped.replace("/safe-state\"", "/safe-state/then-disturb\"");
        assert_ne!(shipped, disturbing, "the shipped bench has no safe-state request to turn into a disturbance");
        std::fs::write(&bench, disturbing).unwrap();
    }
    let (csms_url, control_addr) = (format!("ws://127.0.0.1:{ws}/ocpp"), format!("127.0.0.1:{control}"));
    let _sim = start_sim(&["sim", "station", "--csms-url", &csms_url, "--station-id", "CS001", "--ocpp", version, "--control", &control_addr], control);

    let listen = format!("127.0.0.1:{ws}");
    // The lab's test CA, which signs the station's CSR in certificate cases (1.6 A02).
    let pki = dir.join("pki");
    assert!(bin().args(["pki", "init"]).arg(&pki).status().expect("pki init").success());
    let only: Vec<&str> = partition.map(|p| vec!["--partition", p]).unwrap_or_default();
    let (external, in_process) = both(
        &[&["run", "--role", "csms", "--ocpp", version, "--listen", &listen, "--station-id", "CS001", "--bench", bench.to_str().unwrap(), "--pki", pki.to_str().unwrap()][..], &only].concat(),
        &dir.join("external"),
        &[&["run", "--role", "csms", "--ocpp", version][..], &only].concat(),
        &dir.join("in-process"),
    );

    same_verdicts(&name, &external, &in_process);

    // One station, connected and booted once at least; a boot only where a case asked for one.
    let station = &external["stations"][0];
    assert!(station["connections"].as_u64() >= Some(1) && station["boots"].as_u64() >= Some(1), "{version}: {station}");
    boots_only_when_asked(version, &external);
    if disturbed {
        // The disturbances happened and the baseline undid them: the recovery shows in the traces.
        let logs: Vec<String> = external["cases"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["trace"]["log"].as_array().cloned().unwrap_or_default())
            .filter(|l| l["level"] == "baseline")
            .filter_map(|l| l["message"].as_str().map(str::to_string))
            .collect();
        let recovered = logs.iter().filter(|m| m.starts_with("the baseline is back after")).count();
        assert!(recovered >= 5, "{version}: the baseline was brought back by the recovery only {recovered} times:\n{}", logs.join("\n"));
        // What the station does not show was found too, and what it does by itself waited for.
        let mut seen = vec!["changed by no case of the run: set back", "ended (last status: InstallationFailed)"];
        if version == "1.6" {
            seen.extend(["cleared a TxDefaultProfile that no case of the run set", "by a reservation no case of the run made"]);
        }
        for what in seen {
            assert!(logs.iter().any(|m| m.contains(what)), "{version}: no baseline line says {what:?}:\n{}", logs.join("\n"));
        }
        assert!(!logs.iter().any(|m| m.starts_with("baseline lost")), "{version}: {}", logs.join("\n"));
    }
}

/// A long-lived station boots only in, or just after, the cases that asked for a reboot: an
/// operation a case starts and leaves running must not restart it in the middle of another.
fn boots_only_when_asked(what: &str, results: &Value) {
    let cases: Vec<(String, ocpp_core::trace::TraceData)> = results["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["meta"]["id"].as_str().unwrap().to_string(), serde_json::from_value(c["trace"].clone()).expect("a case's trace")))
        .collect();
    let unasked = ocpp_core::trace::unasked_boots(cases.iter().map(|(id, t)| (id.as_str(), t)));
    assert!(unasked.is_empty(), "{what}: the station booted, asked by no case, in or just before {unasked:?}");
}

fn external_station_disturbed_between_cases_1_6() {
    check_version("1.6", true);
}

/// The longest catalogue, in three parts side by side, each against its own station.
fn external_station_disturbed_between_cases_2_0_1_part_1() {
    check_part("2.0.1", true, Some("hash:1/3"));
}

fn external_station_disturbed_between_cases_2_0_1_part_2() {
    check_part("2.0.1", true, Some("hash:2/3"));
}

fn external_station_disturbed_between_cases_2_0_1_part_3() {
    check_part("2.0.1", true, Some("hash:3/3"));
}

fn external_station_2_1_part_1() {
    check_part("2.1", false, Some("hash:1/2"));
}

fn external_station_2_1_part_2() {
    check_part("2.1", false, Some("hash:2/2"));
}

/// The legal station variants the profile-2 run does not show (issue 36), together, in one
/// `sim station` process that lives for the whole CSMS-role catalogue at `version`: a station
/// configured as a lab's may be, with no DUT description, so the harness learns it from the
/// station's own configuration. No case may fail or be inconclusive; a case may skip only for
/// what the variants' station lacks (or for another security profile); and the station boots
/// only where a case asked for it.
fn check_variants(version: &str, variants: &[&str]) {
    check_variants_part(version, variants, None);
}

/// `check_variants` for one part of the catalogue (`run --partition hash:K/N`), against its own
/// station.
fn check_variants_part(version: &str, variants: &[&str], partition: Option<&str>) {
    let only: Vec<&str> = partition.map(|p| vec!["--partition", p]).unwrap_or_default();
    let part = partition.map(|p| format!("-{}", p.replace([':', '/'], "-"))).unwrap_or_default();
    check_variants_of(version, variants, &part, &only);
}

/// `check_variants` for the cases `only` (run arguments: a partition, filters) select; `tag`
/// names the run's directory.
fn check_variants_of(version: &str, variants: &[&str], tag: &str, only: &[&str]) {
    let (dir, ws, control, bench) = setup(&format!("external-variants-{version}{tag}"), "sim-station.toml", "127.0.0.1:9100");
    let (csms_url, control_addr) = (format!("ws://127.0.0.1:{ws}/ocpp"), format!("127.0.0.1:{control}"));
    let mut sim_args = vec!["sim", "station", "--csms-url", &csms_url, "--station-id", "CS001", "--ocpp", version, "--control", &control_addr];
    for v in variants {
        sim_args.extend(["--variant", v]);
    }
    let _sim = start_sim(&sim_args, control);
    let pki = dir.join("pki");
    assert!(bin().args(["pki", "init"]).arg(&pki).status().expect("pki init").success());
    let listen = format!("127.0.0.1:{ws}");
    let args = [&["run", "--role", "csms", "--ocpp", version, "--listen", &listen, "--station-id", "CS001", "--bench", bench.to_str().unwrap(), "--pki", pki.to_str().unwrap()][..], only].concat();
    let results = run(&args, &dir.join("reports"));
    let parsed: Vec<ocpp_sim::variant::Variant> = variants.iter().map(|v| v.parse().expect("a variant")).collect();
    let mut lacks: Vec<&str> = parsed.iter().flat_map(|v| v.lacks().iter().copied()).collect();
    lacks.extend(ocpp_sim::variant::reference_lacks(&parsed));
    let cases = results["cases"].as_array().unwrap();
    let bad: Vec<String> = cases
        .iter()
        .filter(|c| c["verdict"] != "pass")
        .filter(|c| !(c["verdict"] == "skip" && c["reason"].as_str().is_some_and(|r| r.contains("security profile") || lacks.iter().any(|l| r.contains(l)))))
        .map(|c| format!("{}: {} ({})", c["meta"]["id"], c["verdict"], c["reason"]))
        .collect();
    let what = format!("{version} station with {}", variants.join(", "));
    assert!(bad.is_empty(), "{what}:\n{}", bad.join("\n"));
    // 2.1's catalogue is short and half of it needs TLS.
    let least = if version == "2.1" { 5 } else { 10 };
    assert!(cases.iter().filter(|c| c["verdict"] == "pass").count() >= least, "{what}: fewer than {least} cases passed");
    boots_only_when_asked(&what, &results);
}

/// Labs' ways of configuring a 2.0.1 station: transactions from the closed power path to the
/// EV leaving, no connector lock, few triggers, a minimal device model without a cache, its
/// own CALLs first and customData everywhere.
const VARIANTS_2_0_1: [&str; 8] = ["tx-start-power-path", "tx-stop-ev-disconnected", "no-connector-lock", "few-triggers", "minimal-device-model", "no-auth-cache", "own-call-first", "custom-data"];

/// In two parts side by side, each against its own station: the whole 2.0.1 catalogue is the
/// longest trial of this binary otherwise.
fn external_station_variants_2_0_1_part_1() {
    check_variants_part("2.0.1", &VARIANTS_2_0_1, Some("hash:1/2"));
}

fn external_station_variants_2_0_1_part_2() {
    check_variants_part("2.0.1", &VARIANTS_2_0_1, Some("hash:2/2"));
}

fn external_station_variants_1_6() {
    check_variants("1.6", &["no-connector-zero", "no-connector-lock", "no-auth-cache", "own-call-first"]);
}

/// At 2.1 the variants' station plays the cases only 2.1 has (`OH_21_`) and the first
/// transaction cases (`TC_E_0…`, where most variants show): the rest of what 2.1 keeps from
/// 2.0.1 runs the same station code, which the 2.0.1 variants run judges. The station first
/// connects inside TC_E_03_CS, so its configuration (TxStartPoint PowerPathClosed) must be read
/// there (it once was not, and the case judged it by the default start point).
fn external_station_variants_2_1() {
    check_variants_of("2.1", &["tx-start-power-path", "tx-stop-ev-disconnected", "no-connector-lock", "few-triggers", "minimal-device-model", "no-auth-cache", "own-call-first", "custom-data"], "-only-2.1", &["OH_21_", "TC_E_0"]);
}

/// A DUT description that claims every profile and feature the `version` cases of `role` name
/// (so that, as in-process, all of them run), at security `profile` with the PKI in `pki`.
fn description(kind: &str, role: &str, version: &str, profile: u8, password: &str, extra: &str) -> String {
    let out = bin().args(["list", "--json"]).output().expect("ocpp-harness list");
    let listed: Value = serde_json::from_slice(&out.stdout).expect("list --json");
    let cases = listed.as_array().or_else(|| listed["cases"].as_array()).expect("a list of cases").clone();
    let mut profiles = std::collections::BTreeSet::new();
    let mut features = std::collections::BTreeSet::new();
    for c in cases.iter().filter(|c| c["role"] == role && c["versions"].as_array().is_some_and(|v| v.iter().any(|v| v == version))) {
        profiles.insert(c["profile"].as_str().unwrap_or_default().to_string());
        features.extend(c["features"].as_array().into_iter().flatten().filter_map(|f| f.as_str().map(str::to_string)));
    }
    let quoted = |set: &std::collections::BTreeSet<String>| set.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>().join(", ");
    let security = if profile > 0 { format!("[security]\nprofile = {profile}\npassword = \"{password}\"\npki = \"pki\"\n") } else { String::new() };
    format!("kind = \"{kind}\"\nversions = [\"{version}\"]\nprofiles = [{}]\nfeatures = [{}]\nstation-id = \"CS001\"\n{extra}{security}", quoted(&profiles), quoted(&features))
}

/// The `[parameters]` a lab gives for a CSMS DUT: the tokens it provisioned as blocked,
/// expired, a group... (the reference CSMS's; the harness assumes none of them by itself).
fn token_parameters(more: &str) -> String {
    let tokens: String = ocpp_core::defaults::TOKEN_PARAMETERS.iter().map(|(k, v)| format!("{k} = \"{v}\"\n")).collect();
    format!("[parameters]\n{tokens}{more}")
}

/// No case failed or was inconclusive, and each of `must_pass` passed.
fn pass_or_skip(what: &str, results: &Value, must_pass: &[&str]) {
    let v = verdicts(results);
    let bad: Vec<&(String, String)> = v.iter().filter(|(_, x)| x != "pass" && x != "skip").collect();
    assert!(bad.is_empty(), "{what}: {bad:?}");
    for id in must_pass {
        assert!(v.iter().any(|(i, x)| i == id && x == "pass"), "{what}: {id} did not pass: {v:?}");
    }
}

/// The catalogue at profile 2 in two parts side by side, each against its own station (and
/// compared with the same part in-process): the whole of it is the longest trial otherwise.
fn external_station_at_security_profile_2_part_1() {
    station_at_security_profile_2("hash:1/2");
}

fn external_station_at_security_profile_2_part_2() {
    station_at_security_profile_2("hash:2/2");
}

/// One part of the 2.0.1 charging-station catalogue against the simulator at security profile
/// 2 (a PKI from `pki init`, described in `[security]`), with the cases that need TLS:
/// migrating to a new CSMS root (TC_B_50_CS) and the irreversible upgrade to profile 3
/// (TC_A_19_CS), after which the rest of that part is at profile 3. The station is configured
/// as a lab's might be, not as the reference station (issue 36): two EVSEs with EVSE 2 under
/// test (`evse-id` in the description), TxStartPoint Authorized, AuthorizeRemoteStart true,
/// availability by NotifyEvent only — every verdict must still equal the in-process run's
/// against the plain reference station.
fn station_at_security_profile_2(partition: &str) {
    let part = partition.replace([':', '/'], "-");
    let (dir, ws, control, bench) = setup(&format!("external-profile-2-{part}"), "sim-station.toml", "127.0.0.1:9100");
    let pki = dir.join("pki");
    assert!(bin().args(["pki", "init"]).arg(&pki).status().expect("pki init").success());
    let password = "external-test-password-0123";
    let description = dir.join("dut.toml");
    std::fs::write(&description, self::description("charging-station", "csms", "2.0.1", 2, password, "evses = 2\nevse-id = 2\n")).unwrap();
    let csms_url = format!("wss://127.0.0.1:{ws}/ocpp");
    let control_addr = format!("127.0.0.1:{control}");
    let sim_args = [
        "sim",
        "station",
        "--csms-url",
        &csms_url,
        "--station-id",
        "CS001",
        "--ocpp",
        "2.0.1",
        "--control",
        &control_addr,
        "--security-profile",
        "2",
        "--password",
        password,
        "--pki",
        pki.to_str().unwrap(),
        "--variant",
        "two-evses",
        "--variant",
        "tx-start-authorized",
        "--variant",
        "authorize-remote-start",
        "--variant",
        "notify-event-only",
    ];
    let _sim = start_sim(&sim_args, control);
    let listen = format!("127.0.0.1:{ws}");
    let external = ["run", "--role", "csms", "--ocpp", "2.0.1", "--listen", &listen, "--dut", description.to_str().unwrap(), "--bench", bench.to_str().unwrap(), "--partition", partition];
    let in_process = ["run", "--role", "csms", "--ocpp", "2.0.1", "--security-profile", "2", "--partition", partition];
    let (external, in_process) = both(&external, &dir.join("external"), &in_process, &dir.join("in-process"));
    same_verdicts("2.0.1 at profile 2", &external, &in_process);
    // The cases that need TLS, those of this part.
    let ran: Vec<String> = verdicts(&external).into_iter().map(|(id, _)| id).collect();
    let tls: Vec<&str> = ["TC_A_22_CS", "TC_B_45_CS", "TC_B_46_CS", "TC_B_50_CS", "TC_A_19_CS"].into_iter().filter(|id| ran.iter().any(|r| r == id)).collect();
    pass_or_skip("2.0.1 station at profile 2", &external, &tls);
    // The cases worked with the station's configuration: the one read, and EVSE 2 only.
    let config = &external["stations"][0]["configuration"];
    assert_eq!(
        (config["TxCtrlr.TxStartPoint"].as_str(), config["AuthCtrlr.AuthorizeRemoteStart"].as_str()),
        (Some("Authorized"), Some("true")),
        "{config}"
    );
    let frames: Vec<String> = external["cases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["trace"]["wire"].as_array().cloned().unwrap_or_default())
        .filter_map(|w| w["text"].as_str().map(str::to_string))
        .collect();
    let started_on = |evse: u32| {
        frames
            .iter()
            .filter(|t| {
                t.contains("\"TransactionEvent\"")
                    && t.contains("\"Started\"")
                    && t.contains(&format!("\"evse\":{{\"connectorId\":1,\"id\":{evse}}}"))
            })
            .count()
    };
    assert!(started_on(2) >= 10 && started_on(1) == 0, "transactions started on EVSE 2: {}, on EVSE 1: {}", started_on(2), started_on(1));
    boots_only_when_asked("2.0.1 station at profile 2", &external);
}

/// The CSMS side of the same: the whole 2.0.1 CSMS catalogue against the simulator at security
/// profile 1, with its endpoint one profile up; TC_A_19_CSMS moves the harness station there for
/// good and the cases after it connect there.
fn external_csms_at_security_profile_1() {
    let (dir, ws, control, bench) = setup("external-csms-profile-1", "sim-csms.toml", "127.0.0.1:9201");
    let pki = dir.join("pki");
    assert!(bin().args(["pki", "init"]).arg(&pki).status().expect("pki init").success());
    let password = "external-test-password-0123";
    let raised = free_port();
    let description = dir.join("dut.toml");
    let parameters = token_parameters(&format!("csms-url-profile-up = \"wss://127.0.0.1:{raised}/ocpp\"\n"));
    std::fs::write(&description, self::description("csms", "charging-station", "2.0.1", 1, password, &parameters)).unwrap();
    let (listen, raised_listen, control_addr) = (format!("127.0.0.1:{ws}"), format!("127.0.0.1:{raised}"), format!("127.0.0.1:{control}"));
    let sim_args = ["sim", "csms", "--listen", &listen, "--raised-listen", &raised_listen, "--control", &control_addr, "--security-profile", "1", "--password", password, "--pki", pki.to_str().unwrap()];
    let _sim = start_sim(&sim_args, control);
    let url = format!("ws://{listen}/ocpp");
    let external = ["run", "--role", "charging-station", "--ocpp", "2.0.1", "--csms-url", &url, "--dut", description.to_str().unwrap(), "--bench", bench.to_str().unwrap()];
    let in_process = ["run", "--role", "charging-station", "--ocpp", "2.0.1", "--security-profile", "1"];
    let (external, in_process) = both(&external, &dir.join("external"), &in_process, &dir.join("in-process"));
    same_verdicts("2.0.1 CSMS at profile 1", &external, &in_process);
    pass_or_skip("2.0.1 CSMS at profile 1", &external, &["TC_A_09_CSMS", "TC_A_19_CSMS", "TC_B_42_CSMS"]);
    few_connections("2.0.1 CSMS at profile 1", &external);
}

/// A libtest-mimic binary so that the runs, which mostly wait on the DUTs, go on side by side
/// (libtest's default of one thread per core leaves 2-core CI idle): `--test-threads` still wins.
fn main() {
    let mut args = Arguments::from_args();
    if args.test_threads.is_none() {
        args.test_threads = Some(THREADS);
    }
    // The longest first: they all run at once, so the binary takes as long as the longest.
    let trials = vec![
        Trial::test("external_station_disturbed_between_cases_2_0_1_part_1", || { external_station_disturbed_between_cases_2_0_1_part_1(); Ok(()) }),
        Trial::test("external_station_disturbed_between_cases_2_0_1_part_2", || { external_station_disturbed_between_cases_2_0_1_part_2(); Ok(()) }),
        Trial::test("external_station_disturbed_between_cases_2_0_1_part_3", || { external_station_disturbed_between_cases_2_0_1_part_3(); Ok(()) }),
        Trial::test("external_station_disturbed_between_cases_1_6", || { external_station_disturbed_between_cases_1_6(); Ok(()) }),
        Trial::test("external_station_at_security_profile_2_part_1", || { external_station_at_security_profile_2_part_1(); Ok(()) }),
        Trial::test("external_station_at_security_profile_2_part_2", || { external_station_at_security_profile_2_part_2(); Ok(()) }),
        Trial::test("external_station_variants_2_0_1_part_1", || { external_station_variants_2_0_1_part_1(); Ok(()) }),
        Trial::test("external_station_variants_2_0_1_part_2", || { external_station_variants_2_0_1_part_2(); Ok(()) }),
        Trial::test("external_station_variants_1_6", || { external_station_variants_1_6(); Ok(()) }),
        Trial::test("external_station_variants_2_1", || { external_station_variants_2_1(); Ok(()) }),
        Trial::test("external_station_2_1_part_1", || { external_station_2_1_part_1(); Ok(()) }),
        Trial::test("external_station_2_1_part_2", || { external_station_2_1_part_2(); Ok(()) }),
        Trial::test("external_csms_at_security_profile_1", || { external_csms_at_security_profile_1(); Ok(()) }),
        Trial::test("external_csms_2_0_1", || { external_csms_2_0_1(); Ok(()) }),
        Trial::test("external_csms_1_6", || { external_csms_1_6(); Ok(()) }),
        Trial::test("external_csms_2_1", || { external_csms_2_1(); Ok(()) }),
        Trial::test("external_csms_without_a_lab_pki", || { external_csms_without_a_lab_pki(); Ok(()) }),
    ];
    libtest_mimic::run(&args, trials).exit();
}
