//! A suite whose cases attack the host instead of testing a DUT. Not part of the catalogue:
//! the harness's tests run it to prove that each attack ends as an error verdict for that case
//! only.
use ocpp_case_sdk::bindings::{
    exports::ocpp::harness::suite::Guest,
    ocpp::harness::{
        session,
        types::{CaseMeta, OcppVersion, Role, Verdict},
    },
};

struct Hostile;

fn meta(id: &str, timeout_ms: u32) -> CaseMeta {
    CaseMeta {
        id: id.into(),
        title: format!("hostile guest: {id}"),
        versions: vec![OcppVersion::V201],
        role: Role::Csms,
        profile: "core".into(),
        features: vec![],
        requirements: vec!["host robustness".into()],
        needs: vec![],
        timeout_ms,
        deviations: vec![],
    }
}

impl Guest for Hostile {
    fn cases() -> Vec<CaseMeta> {
        vec![
            meta("OH_HOSTILE_LOOP_CS", 200),
            meta("OH_HOSTILE_MEMORY_CS", 10_000),
            meta("OH_HOSTILE_PANIC_CS", 10_000),
            meta("OH_HOSTILE_BADARGS_CS", 10_000),
            meta("OH_HOSTILE_HANG_CS", 500),
            meta("OH_HOSTILE_OK_CS", 1_000),
            meta("OH_HOSTILE_VACUOUS_CS", 10_000),
            meta("OH_HOSTILE_SETUP_ONLY_CS", 20_000),
        ]
    }

    fn run(id: String) -> Verdict {
        match id.as_str() {
            "OH_HOSTILE_LOOP_CS" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "OH_HOSTILE_MEMORY_CS" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 16 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "OH_HOSTILE_PANIC_CS" => panic!("deliberate panic in a hostile case"),
            // Invalid arguments: the host must answer with an error, not fall over.
            "OH_HOSTILE_BADARGS_CS" => {
                let conn = match session::accept_station(10_000, &[]) {
                    Ok(c) => c,
                    Err(e) => return Verdict::Inconclusive(format!("no station: {e:?}")),
                };
                let answers = [
                    conn.call("Heartbeat", "this is not JSON", 1_000).err(),
                    conn.call("NoSuchActionXyz", "{}", 1_000).err(),
                    conn.reply("no-such-message-id", "{}").err(),
                    conn.set_default_answer("Heartbeat", "[1,2,3]").err(),
                ];
                match answers.iter().all(|e| matches!(e, Some(session::SessionError::Usage(_)))) {
                    true => Verdict::Inconclusive(format!("the host refused every invalid call: {answers:?}")),
                    false => Verdict::Pass,
                }
            }
            // Never returns from a host call: the host's deadline must end it.
            "OH_HOSTILE_HANG_CS" => {
                let _ = session::accept_station(u32::MAX, &[]).map(|c| c.expect_call("NotifyReport", u32::MAX));
                Verdict::Pass
            }
            // Talks to the DUT but checks nothing: the mutation proof must call it unproven.
            "OH_HOSTILE_VACUOUS_CS" => {
                if let Ok(conn) = session::accept_station(10_000, &[]) {
                    let _ = conn.call("Heartbeat", "{}", 5_000);
                }
                Verdict::Pass
            }
            // Reads what the station answers, but only as preparation (the SDK's `setup`): a
            // wrong answer makes it inconclusive, never failing, so nothing proves it.
            "OH_HOSTILE_SETUP_ONLY_CS" => setup_only().err().unwrap_or(Verdict::Pass),
            _ => Verdict::Pass,
        }
    }
}

fn setup_only() -> ocpp_case_sdk::kit::Step {
    use ocpp_case_sdk::kit::{self, Setup};
    let conn = kit::ready_station(&[])?;
    let get = serde_json::json!({"getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]});
    let r = kit::prepare(&conn, "GetVariables", get)?;
    let status = &r["getVariableResult"][0]["attributeStatus"];
    kit::check(status == "Accepted", "host robustness", "HeartbeatInterval readable", || r.to_string()).setup("read the heartbeat interval")
}

ocpp_case_sdk::bindings::export_test_suite!(Hostile with_types_in ocpp_case_sdk::bindings);
