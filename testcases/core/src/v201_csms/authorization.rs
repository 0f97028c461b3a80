//! Block C for a CSMS DUT: what it answers about tokens that are not simply valid — blocked,
//! expired, members of a group, a master pass. The tokens come from the run parameters
//! `blocked-id-token`, `expired-id-token`, `group-id-token`, `grouped-id-tokens` (two, space
//! separated), `master-pass-id-token` and `master-pass-group-id`; the lab sets them up at its
//! CSMS (part 6 "Memory State") and names them in the DUT description.
use serde_json::{Value, json};

use super::{STATION, ev_disconnected, event, event_with_token, new_tx_id, occupied, registered, status, token_json};
use crate::{
    Case,
    kit::{self, *},
};

pub(super) fn cases() -> Vec<Case> {
    vec![
        group_case(
            "TC_C_40_CSMS",
            "Group members on the station's local list: the second ends the transaction the first started; both answers name the group",
            tc_c_40,
        ),
        group_case(
            "TC_C_43_CSMS",
            "Group members on the station's local list: the second, asked for first, ends the transaction; every answer names the group",
            tc_c_43,
        ),
        Case {
            id: "TC_C_06_CSMS",
            title: "Local start transaction - AuthorizationBlocked: a blocked token is Blocked or Invalid",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["C01.FR.07"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_c_06,
        },
        Case {
            id: "TC_C_07_CSMS",
            title: "Local start transaction - Authorization Expired: an expired token is Expired or Invalid",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["C01.FR.07"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_c_07,
        },
        Case {
            id: "TC_C_39_CSMS",
            title: "Authorization by GroupId - Success: a second token of the group stops the transaction",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["C09.FR.02", "C09.FR.03"],
            needs: &[],
            timeout_ms: 30_000,
            run: tc_c_39,
        },
        Case {
            id: "TC_C_47_CSMS",
            title: "Stop Transaction with a Master Pass - With UI - All transactions",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["C16.FR.01", "C09.FR.02"],
            needs: &[],
            timeout_ms: 30_000,
            run: tc_c_47,
        },
        Case {
            id: "TC_C_48_CSMS",
            title: "Stop Transaction with a Master Pass - With UI - Specific transactions",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["C16.FR.01", "C09.FR.02"],
            needs: &[],
            timeout_ms: 30_000,
            run: tc_c_48,
        },
        Case {
            id: "TC_C_49_CSMS",
            title: "Stop Transaction with a Master Pass - Without UI: all transactions end",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["C16.FR.02", "C09.FR.02"],
            needs: &[],
            timeout_ms: 30_000,
            run: tc_c_49,
        },
    ]
}

/// A run parameter the case cannot do without (the built-in runs have them all).
fn param(key: &str) -> Step<String> {
    config::parameter(key).filter(|v| !v.is_empty()).ok_or_else(|| Verdict::Skip(format!("the DUT description names no {key} in [parameters]")))
}

/// Authorize `token`: the answer's idTokenInfo.
fn authorize(conn: &Connection, req: &str, token: &str) -> Step<Value> {
    let r = kit::call(conn, req, "Authorize", json!({"idToken": token_json(token)}), 10_000)?;
    Ok(r["idTokenInfo"].clone())
}

/// `info` says Accepted and names `group` as the token's groupIdToken.
fn accepted_in_group(req: &str, what: &str, info: &Value, group: &str) -> Step {
    kit::check(info["status"] == "Accepted", req, format!("{what}: idTokenInfo.status Accepted"), || info.to_string())?;
    kit::check(info["groupIdToken"]["idToken"] == group, req, format!("{what}: idTokenInfo.groupIdToken.idToken {group}"), || info.to_string())
}

/// TC_C_06/07_CSMS: the token the lab set up as `kind` is answered `kind` or Invalid.
fn not_accepted(key: &str, kind: &str) -> Step {
    let token = param(key)?;
    let conn = registered()?;
    let info = authorize(&conn, "C01.FR.07", &token)?;
    let status = info["status"].as_str().unwrap_or_default();
    kit::check(
        [kind, "Invalid"].contains(&status),
        "C01.FR.07",
        format!("status {kind} or Invalid for the {} token {token}", kind.to_lowercase()),
        || format!("status {status}"),
    )
}

/// TC_C_06_CSMS (part 6): its tool validation reads "Linked or Invalid", which no
/// AuthorizationStatusEnumType has; the case title and preparation say Blocked.
fn tc_c_06() -> Step {
    not_accepted("blocked-id-token", "Blocked")
}

fn tc_c_07() -> Step {
    not_accepted("expired-id-token", "Expired")
}

/// TC_C_39_CSMS (part 6): EVConnectedPreSession; the second member authorizes and the first
/// starts the charging; the second then stops it. Every answer names the group.
fn tc_c_39() -> Step {
    let (group, first, second) = group_members()?;
    let conn = registered()?;
    occupied(&conn)?;
    let tx = new_tx_id("C39");
    event(&conn, "C09", "Started", "CablePluggedIn", 0, &tx, json!({"transactionInfo": {"chargingState": "EVConnected"}}))?;
    accepted_in_group("C09.FR.02", "Authorize of the second member", &authorize(&conn, "C09.FR.02", &second)?, &group)?;
    let r = event(&conn, "C09.FR.02", "Updated", "Authorized", 1, &tx, json!({"idToken": token_json(&first)}))?;
    accepted_in_group("C09.FR.02", "TransactionEvent authorized by the first member", &r["idTokenInfo"], &group)?;
    event(&conn, "C09", "Updated", "ChargingStateChanged", 2, &tx, json!({"transactionInfo": {"chargingState": "Charging"}}))?;
    accepted_in_group("C09.FR.03", "Authorize of the second member to stop", &authorize(&conn, "C09.FR.03", &second)?, &group)?;
    stopped_by_member(&conn, &tx, 3, &second, &group)
}

/// The run's group (`group-id-token`) and its two members (`grouped-id-tokens`), as the lab set
/// them up at its CSMS; a skip when the description does not name two.
fn group_members() -> Step<(String, String, String)> {
    let group = param("group-id-token")?;
    let members: Vec<String> = param("grouped-id-tokens")?.split_whitespace().map(String::from).collect();
    match members.as_slice() {
        [first, second] => Ok((group, first.clone(), second.clone())),
        _ => Err(Verdict::Skip(format!("grouped-id-tokens must name two tokens of the group; it names {}", members.len()))),
    }
}

/// The second member ends the authorization of `tx` (its event `seq`, answered Accepted with
/// the group, C09.FR.03); the energy stops and the EV leaves.
fn stopped_by_member(conn: &Connection, tx: &str, seq: u64, second: &str, group: &str) -> Step {
    let r = event(conn, "C09.FR.03", "Updated", "StopAuthorized", seq, tx, json!({"idToken": token_json(second)}))?;
    accepted_in_group("C09.FR.03", "TransactionEvent stopped by the second member", &r["idTokenInfo"], group)?;
    event(conn, "C09", "Updated", "ChargingStateChanged", seq + 1, tx, json!({"transactionInfo": {"chargingState": "EVConnected"}}))?;
    ev_disconnected(conn, "C09", tx, seq + 2)
}

/// A group case of the Local Authorization List profile (part 5: mandatory for a CSMS).
fn group_case(id: &'static str, title: &'static str, run: fn() -> Step) -> Case {
    Case::new(id, title, STATION, V201, &["C09.FR.02", "C09.FR.03"], run).timeout_ms(20_000).profile("local-auth-list")
}

/// TC_C_40/43_CSMS (part 6): the harness's station holds both members of the group on its
/// local list, and starts transactions at the authorization (EVConnectedPreSession first).
/// The first member starts, energy flows, the second ends the authorization — asking the CSMS
/// first where `ask` (TC_C_43 step 4). Every answer is Accepted and names the group.
fn group_on_list(ask: bool) -> Step {
    let (group, first, second) = group_members()?;
    let conn = registered()?;
    occupied(&conn)?;
    let tx = new_tx_id("C40");
    let r = event(&conn, "C09.FR.02", "Started", "Authorized", 0, &tx, json!({"idToken": token_json(&first), "transactionInfo": {"chargingState": "EVConnected"}}))?;
    accepted_in_group("C09.FR.02", "TransactionEvent authorized by the first member", &r["idTokenInfo"], &group)?;
    event(&conn, "C09", "Updated", "ChargingStateChanged", 1, &tx, json!({"transactionInfo": {"chargingState": "Charging"}}))?;
    if ask {
        accepted_in_group("C09.FR.03", "Authorize of the second member to stop", &authorize(&conn, "C09.FR.03", &second)?, &group)?;
    }
    stopped_by_member(&conn, &tx, 2, &second, &group)
}

fn tc_c_40() -> Step {
    group_on_list(false)
}

fn tc_c_43() -> Step {
    group_on_list(true)
}

/// EnergyTransferStarted on `evse` with `token`: the transaction id.
fn charging_at(conn: &Connection, req: &str, evse: u32, token: &str) -> Step<String> {
    status(conn, req, evse, "Occupied")?;
    let tx = new_tx_id(&format!("C16E{evse}"));
    let at_evse = json!({"evse": {"id": evse, "connectorId": 1}, "transactionInfo": {"chargingState": "Charging"}});
    let s = event_with_token(conn, req, "Started", "Authorized", 0, &tx, token, at_evse)?;
    kit::check(s == "Accepted", req, format!("the token {token} Accepted to start on EVSE {evse}"), || format!("status {s}"))?;
    Ok(tx)
}

/// TC_C_47/48/49_CSMS (part 6): transactions on `evses` (EVSE 1 with the first valid token,
/// EVSE 2 with another); the master pass is authorized — Accepted and in the master-pass
/// group, as TC_C_48's validations say — and each transaction ends with stoppedReason
/// MasterPass, carrying `stop_token`. The end events' idTokenInfo, when given, must accept it.
fn master_pass(req: &str, evses: &[u32], master_as_stop_token: bool) -> Step {
    let (master, group) = (param("master-pass-id-token")?, param("master-pass-group-id")?);
    // Part 6 has EVSE 2 charge with "valid idToken2": the second valid token, else a group
    // member (a token the CSMS accepts all the same).
    let grouped = config::parameter("grouped-id-tokens").unwrap_or_default();
    let valid: Vec<String> = config::valid_id_tokens().into_iter().chain(grouped.split_whitespace().map(String::from)).collect();
    if valid.len() < evses.len() {
        return Err(Verdict::Skip(format!(
            "needs {} tokens the CSMS accepts (valid-id-tokens, grouped-id-tokens); the DUT description gives {}",
            evses.len(),
            valid.len()
        )));
    }
    let conn = registered()?;
    let txs = evses.iter().zip(&valid).map(|(e, t)| charging_at(&conn, "C16", *e, t)).collect::<Step<Vec<_>>>()?;
    accepted_in_group(req, "Authorize of the master pass", &authorize(&conn, req, &master)?, &group)?;
    for ((tx, evse), token) in txs.iter().zip(evses).zip(&valid) {
        let stop_token = if master_as_stop_token { &master } else { token };
        let ended = json!({"evse": {"id": evse, "connectorId": 1}, "idToken": token_json(stop_token), "transactionInfo": {"chargingState": "EVConnected", "stoppedReason": "MasterPass"}});
        let r = event(&conn, req, "Ended", "StopAuthorized", 1, tx, ended)?;
        if let Some(info) = r.get("idTokenInfo") {
            kit::check(info["status"] == "Accepted", req, format!("the stop by {stop_token} on EVSE {evse} Accepted"), || info.to_string())?;
        }
    }
    Ok(())
}

fn tc_c_47() -> Step {
    master_pass("C16.FR.01", &[1, 2], true)
}

/// The table's step 1 names the valid token, its validations the master-pass group: the
/// master pass is what is authorized here.
fn tc_c_48() -> Step {
    master_pass("C16.FR.01", &[1], true)
}

fn tc_c_49() -> Step {
    master_pass("C16.FR.02", &[1, 2], false)
}
