//! Local Authorization List for a charging-station DUT (part 6 §2.4-2.5): updates and their
//! versions (D01, D02), and authorization by the list online (C14) and offline (C13), by group
//! (C09), and before the cache (C13.FR.01).
//!
//! Part 6's memory state "IdTokenLocalAuthList for <token>" is a full list sent as preparation
//! at the version after the station's own; the baseline empties the list after the case.
use serde_json::{Value, json};

use crate::{
    Case,
    kit::{self, Connection, Setup, Step, Verdict, at},
};

use super::{
    LOCAL_AUTHORIZE_OFFLINE, TX, TxStart, authorize, booted, cache_token, configure, next_tx_event, prerequisite, reconnected, set_variable, stop_authorized,
};

/// A case of the Local Authorization List profile for a charging-station DUT.
fn case(id: &'static str, title: &'static str, requirements: &'static [&'static str], needs: &'static [&'static str], run: fn() -> Step) -> Case {
    super::station_case(id, title, requirements, needs, run).profile("local-auth-list")
}

/// Offline cases drop the network and present a token.
const OFFLINE: &[&str] = &["plug", "token-reader", "network"];

pub(crate) fn cases() -> Vec<Case> {
    vec![
        case(
            "TC_C_21_CS",
            "Offline, a token on the local list starts a transaction that is reported once back online",
            &["C13", "E12"],
            &["plug", "token-reader", "network"],
            tc_c_21,
        )
        .features(&["offline-authorization"]),
        case("TC_C_22_CS", "Offline, a token the local list holds as Invalid authorizes nothing", &["C13.FR.02", "E04.FR.03"], OFFLINE, tc_c_22),
        case("TC_C_23_CS", "Offline, a token the local list holds as Blocked authorizes nothing", &["C13.FR.02", "E04.FR.03"], OFFLINE, tc_c_23),
        case("TC_C_24_CS", "Offline, a token the local list holds as Expired authorizes nothing", &["C13.FR.02", "E04.FR.03"], OFFLINE, tc_c_24),
        case(
            "TC_C_25_CS",
            "Offline, the local list's Invalid wins over the cache's Accepted for the same token",
            &["C13.FR.01", "C14.FR.01"],
            &["plug", "token-reader", "network"],
            tc_c_25,
        )
        .features(&["auth-cache"]),
        case("TC_C_27_CS", "Online, a token the local list holds as Accepted authorizes without an Authorize", &["C14.FR.02"], &["plug", "token-reader"], tc_c_27),
        case("TC_C_28_CS", "Online, a token the local list holds as Invalid is asked for, and the CSMS's Invalid stands", &["C14.FR.03"], &["token-reader"], tc_c_28),
        case("TC_C_29_CS", "Online, a token the local list holds as Blocked is asked for", &["C14.FR.03"], &["plug", "token-reader"], tc_c_29),
        case("TC_C_30_CS", "Online, a token the local list holds as Expired is asked for", &["C14.FR.03"], &["plug", "token-reader"], tc_c_30),
        case(
            "TC_C_58_CS",
            "Online with DisablePostAuthorize, a token the local list holds as Invalid is refused without an Authorize",
            &["C14.FR.03"],
            &["token-reader"],
            tc_c_58,
        ),
        case(
            "TC_C_31_CS",
            "Online, a token the local list holds as Invalid but the CSMS accepts charges",
            &["C14.FR.03"],
            &["plug", "token-reader", "pilot"],
            tc_c_31,
        ),
        case(
            "TC_C_40_CS",
            "Another token of the same group on the local list ends the authorization of a running transaction",
            &["C09.FR.02", "C09.FR.03", "C09.FR.07"],
            &["plug", "token-reader", "pilot"],
            tc_c_40,
        ),
        case(
            "TC_C_43_CS",
            "A token of the same group that the local list holds as Invalid, and the CSMS rejects, does not end the transaction",
            &["C09.FR.02", "C09.FR.03", "C09.FR.07", "C14.FR.03", "C09.FR.11"],
            &["plug", "token-reader", "pilot"],
            tc_c_43,
        ),
        case("TC_D_01_CS", "A full local list is Accepted and its version reads back", &["D01", "D02"], &[], tc_d_01),
        case("TC_D_02_CS", "A differential local list update with a newer version is Accepted and its version reads back", &["D01", "D02"], &[], tc_d_02),
        case("TC_D_03_CS", "A differential update that removes an entry is Accepted and its version reads back", &["D01.FR.02", "D01.FR.17"], &[], tc_d_03),
        case("TC_D_04_CS", "A full update without entries is Accepted and its version reads back", &["D01.FR.02", "D01.FR.04"], &[], tc_d_04),
        case("TC_D_05_CS", "A differential update without entries is Accepted and its version reads back", &["D01.FR.02", "D01.FR.05"], &[], tc_d_05),
        case("TC_D_06_CS", "A differential local list update with an old version answers VersionMismatch", &["D01.FR.19"], &[], tc_d_06),
        case(
            "TC_D_07_CS",
            "The local list's version after a reboot: kept (D01.FR.10 recommends it), or 0 for a list lost",
            &["D01.FR.10", "D02.FR.01"],
            &[],
            tc_d_07,
        ),
        case("TC_D_08_CS", "GetLocalListVersion answers the version of the list held", &["D02.FR.01"], &[], tc_d_08),
        case("TC_D_10_CS", "GetLocalListVersion answers 0 while the local list is switched off", &["D02.FR.03"], &[], tc_d_10),
    ]
}

/// A local list entry: `status` None removes the token (D01.FR.17); `group` is its groupIdToken.
fn entry(token: &str, status: Option<&str>, group: Option<&str>) -> Value {
    let mut e = json!({"idToken": kit::id_token(token)});
    if let Some(status) = status {
        e["idTokenInfo"] = group.map_or_else(|| json!({"status": status}), |g| group_info(status, g));
    }
    e
}

/// An idTokenInfo of `status` naming `group` as the token's groupIdToken.
fn group_info(status: &str, group: &str) -> Value {
    json!({"status": status, "groupIdToken": {"idToken": group, "type": "Central"}})
}

/// The station's list version (GetLocalListVersion).
fn version(conn: &Connection, req: &str) -> Step<Value> {
    let r = kit::call(conn, req, "GetLocalListVersion", json!({}), 10_000)?;
    Ok(r["versionNumber"].clone())
}

/// SendLocalList; the answer's status.
fn send(conn: &Connection, req: &str, version: i64, update: &str, entries: Vec<Value>) -> Step<String> {
    let mut p = json!({"versionNumber": version, "updateType": update});
    // 2.0.1's schema has no empty list: an update without entries leaves the field out.
    if !entries.is_empty() {
        p["localAuthorizationList"] = Value::Array(entries);
    }
    let r = kit::call(conn, req, "SendLocalList", p, 10_000)?;
    Ok(r["status"].as_str().unwrap_or_default().to_string())
}

/// SendLocalList, Accepted (`req`).
fn sent_accepted(conn: &Connection, req: &str, version: i64, update: &str, entries: Vec<Value>) -> Step {
    let status = send(conn, req, version, update, entries)?;
    kit::check(status == "Accepted", req, format!("SendLocalList {update} version {version} Accepted"), || format!("status {status}"))
}

/// Part 6's memory state IdTokenLocalAuthList, as preparation: a full list of `entries` at the
/// version after the station's ("<Configured versionNumber>" above 0). The version sent.
fn listed(conn: &Connection, entries: Vec<Value>) -> Step<i64> {
    let state = || -> Step<i64> {
        let next = version(conn, "")?.as_i64().unwrap_or(0).max(0) + 1;
        sent_accepted(conn, "", next, "Full", entries)?;
        Ok(next)
    };
    state().setup("memory state IdTokenLocalAuthList")
}

/// A configuration state part 6 marks "(If implemented)": a station without the variable
/// goes on without it; one that has it must take the value.
pub(super) fn if_implemented(conn: &Connection, component: &str, variable: &str, value: &str) -> Step {
    let r = set_variable(conn, "", component, variable, value)?;
    match r["attributeStatus"].as_str().unwrap_or_default() {
        "Accepted" | "UnknownComponent" | "UnknownVariable" => Ok(()),
        other => Err(Verdict::Inconclusive(format!("the station did not take {component}.{variable} = {value} ({other})"))),
    }
}

/// Part 6's configuration state of the C13/C14 cases: the list in use, and local
/// pre-authorization on where the station has the switch.
fn list_in_use(conn: &Connection) -> Step {
    if_implemented(conn, "LocalAuthListCtrlr", "Enabled", "true")?;
    if_implemented(conn, "AuthCtrlr", "LocalPreAuthorize", "true")
}

/// Part 6 step 1 of the offline cases: the CSMS drops the station and refuses it while
/// `meanwhile` happens, then lets it back in. The new connection.
pub(super) fn offline(conn: Connection, meanwhile: impl FnOnce() -> Step) -> Step<Connection> {
    offline_claiming(conn, &[TX, "Authorize"], meanwhile)
}

/// `offline`, the new connection claiming `claims` from its first message: what the station
/// kept for the CSMS while offline comes at once.
pub(super) fn offline_claiming(conn: Connection, claims: &[&str], meanwhile: impl FnOnce() -> Step) -> Step<Connection> {
    kit::network(false)?;
    let _ = conn.expect_close(10_000);
    meanwhile()?;
    kit::network(true)?;
    reconnected("C13", claims)
}

/// For a few seconds, no TransactionEvent names `token`: the station did not authorize it.
/// A transaction the cable started may report meanwhile (part 6: MeterValues are allowed).
fn not_authorized(conn: &Connection, req: &str, token: &str, why: &str) -> Step {
    let names = |ev: &Value| at(ev, "/idToken/idToken") == token;
    kit::expect_none(conn, req, TX, 3_000, json!({}), &format!("no transaction authorized by {token}: {why}"), names)
}

/// TC_C_21_CS: offline, a token the list holds as Accepted starts a transaction, reported
/// with offline true once back (E12).
fn tc_c_21() -> Step {
    let conn = booted(300)?;
    let token = kit::valid_token();
    listed(&conn, vec![entry(&token, Some("Accepted"), None)])?;
    let again = offline(conn, || {
        kit::present_token(&token)?;
        kit::plug_in(kit::evse_id())
    })?;
    let ev = next_tx_event(&again, "C13", 10_000)?;
    kit::check(ev["eventType"] == "Started", "E12", "the transaction started offline to be reported first", || format!("TransactionEvent {}", ev["eventType"]))?;
    kit::check(ev["offline"] == true, "E12", "offline true on a message about the offline period", || format!("offline {}", ev["offline"]))?;
    kit::check(at(&ev, "/idToken/idToken") == token.as_str(), "C13", format!("authorized by {token} from the local list"), || ev["idToken"].to_string())
}

/// TC_C_22/23/24_CS: offline, with unknown tokens refused (OfflineTxForUnknownIdEnabled
/// false), a token the list holds with `status` authorizes no transaction (C13.FR.02). The EV
/// arrives offline (part 6 step 2; the cable, where a bench has no parking-bay sensor): a
/// station that starts transactions there reports it once back, with offline true (part 6
/// step 5, E04.FR.03), and without the token.
fn offline_not_accepted(status: &str) -> Step {
    let conn = booted(300)?;
    conn.claim(&[TX.into(), "Authorize".into()]);
    list_in_use(&conn)?;
    if_implemented(&conn, "AuthCtrlr", "OfflineTxForUnknownIdEnabled", "false")?;
    configure(&conn, "C13", LOCAL_AUTHORIZE_OFFLINE.0, LOCAL_AUTHORIZE_OFFLINE.1, "true")?;
    let token = kit::second_valid_token();
    listed(&conn, vec![entry(&token, Some(status), None)])?;
    let again = offline(conn, || {
        kit::plug_in(kit::evse_id())?;
        kit::present_token(&token)
    })?;
    let why = format!("{status} in the local list, presented offline");
    if TxStart::configured().started(true, false) {
        let ev = next_tx_event(&again, "E04.FR.03", 10_000)?;
        kit::check(ev["offline"] == true, "E04.FR.03", "offline true on the transaction started while offline", || format!("offline {}", ev["offline"]))?;
        kit::check(at(&ev, "/idToken/idToken") != token.as_str(), "C13.FR.02", format!("no transaction authorized by {token}: {why}"), || ev.to_string())?;
    }
    not_authorized(&again, "C13.FR.02", &token, &why)
}

fn tc_c_22() -> Step {
    offline_not_accepted("Invalid")
}

fn tc_c_23() -> Step {
    offline_not_accepted("Blocked")
}

fn tc_c_24() -> Step {
    offline_not_accepted("Expired")
}

/// TC_C_25_CS: the cache holds the token as Accepted, the list as Invalid; offline, with
/// unknown tokens allowed, the list decides (C13.FR.01): no transaction for it.
fn tc_c_25() -> Step {
    let conn = booted(300)?;
    conn.claim(&[TX.into(), "Authorize".into()]);
    list_in_use(&conn)?;
    prerequisite(&conn, "", "AuthCtrlr", "OfflineTxForUnknownIdEnabled", "true").setup("configuration state OfflineTxForUnknownIdEnabled")?;
    configure(&conn, "C13", LOCAL_AUTHORIZE_OFFLINE.0, LOCAL_AUTHORIZE_OFFLINE.1, "true")?;
    configure(&conn, "C13", "TxCtrlr", "StopTxOnInvalidId", "false")?;
    let token = kit::valid_token();
    cache_token(&conn, "", &token).setup("memory state IdTokenCached")?;
    listed(&conn, vec![entry(&token, Some("Invalid"), None)])?;
    // EVConnectedPreSession.
    let start = TxStart::configured();
    kit::plug_in(kit::evse_id())?;
    start.after_step(&conn, "", (false, false), (true, false), "CablePluggedIn").setup("reusable state EVConnectedPreSession")?;
    let again = offline(conn, || kit::present_token(&token))?;
    not_authorized(&again, "C13.FR.01", &token, "the list's Invalid comes before the cache's Accepted")
}

/// TC_C_27_CS: a token the list holds as Accepted starts charging without an Authorize
/// (C14.FR.02); part 6 step 1 validates the TransactionEvent that carries it.
fn tc_c_27() -> Step {
    let conn = booted(300)?;
    conn.claim(&[TX.into(), "Authorize".into()]);
    list_in_use(&conn)?;
    let token = kit::valid_token();
    listed(&conn, vec![entry(&token, Some("Accepted"), None)])?;
    let start = TxStart::configured();
    kit::present_token(&token)?;
    let ev = match start.after_step(&conn, "C14.FR.02", (false, false), (false, true), "Authorized")? {
        Some(ev) => ev,
        None => {
            kit::plug_in(kit::evse_id())?;
            start.after_step(&conn, "C14.FR.02", (false, true), (true, true), "CablePluggedIn")?.ok_or_else(|| start.none_with("a token and a cable"))?
        }
    };
    names_token(&ev, "C14.FR.02", &token)?;
    kit::expect_silence(&conn, "C14.FR.02", "Authorize", 500, "for a token the local list holds as Accepted")
}

/// The event carries the presented token, of its type (part 6's idToken validations).
fn names_token(ev: &Value, req: &str, token: &str) -> Step {
    let ok = at(ev, "/idToken/idToken") == token && at(ev, "/idToken/type") == kit::token_type().as_str();
    kit::check(ok, req, format!("idToken {token} ({})", kit::token_type()), || ev["idToken"].to_string())
}

/// TC_C_28/29/30_CS: a token the list holds with `status` is asked for online (C14.FR.03);
/// the CSMS answers the same status. `cable`: part 6's EVConnectedPreSession comes first.
fn online_not_accepted(status: &str, cable: bool) -> Step {
    let conn = booted(300)?;
    conn.claim(&[TX.into(), "Authorize".into()]);
    list_in_use(&conn)?;
    if_implemented(&conn, "LocalAuthListCtrlr", "DisablePostAuthorize", "false")?;
    let token = kit::second_valid_token();
    listed(&conn, vec![entry(&token, Some(status), None)])?;
    if cable {
        let start = TxStart::configured();
        kit::plug_in(kit::evse_id())?;
        start.after_step(&conn, "", (false, false), (true, false), "CablePluggedIn").setup("reusable state EVConnectedPreSession")?;
    }
    kit::present_token(&token)?;
    let asked = authorize(&conn, "C14.FR.03", status)?;
    names_token(&asked, "C14.FR.03", &token)
}

/// TC_C_58_CS: LocalAuthListCtrlr.DisablePostAuthorize true (part 6's prerequisite: a station
/// without it skips): the list's Invalid stands online — no Authorize (C14.FR.03 asks only
/// where post-authorization is on) and no transaction for the token.
fn tc_c_58() -> Step {
    let conn = booted(300)?;
    conn.claim(&[TX.into(), "Authorize".into()]);
    list_in_use(&conn)?;
    prerequisite(&conn, "C14.FR.03", "LocalAuthListCtrlr", "DisablePostAuthorize", "true")?;
    let token = kit::second_valid_token();
    listed(&conn, vec![entry(&token, Some("Invalid"), None)])?;
    kit::present_token(&token)?;
    kit::expect_silence(&conn, "C14.FR.03", "Authorize", 2_000, "with DisablePostAuthorize true for a token the list holds as Invalid")?;
    not_authorized(&conn, "C14.FR.03", &token, "the list holds it as Invalid")
}

fn tc_c_28() -> Step {
    online_not_accepted("Invalid", false)
}

/// Part 6 answers Restricted, which 2.0.1's AuthorizationStatusEnumType does not have: Blocked
/// (a declared deviation).
fn tc_c_29() -> Step {
    online_not_accepted("Blocked", true)
}

fn tc_c_30() -> Step {
    online_not_accepted("Expired", true)
}

/// TC_C_31_CS: Authorized (the list's Invalid asked for, the CSMS accepts), then
/// EVConnectedPreSession and EnergyTransferStarted: energy flows.
fn tc_c_31() -> Step {
    let conn = booted(300)?;
    conn.claim(&[TX.into(), "Authorize".into()]);
    list_in_use(&conn)?;
    if_implemented(&conn, "LocalAuthListCtrlr", "DisablePostAuthorize", "false")?;
    let token = kit::valid_token();
    listed(&conn, vec![entry(&token, Some("Invalid"), None)])?;
    let start = TxStart::configured();
    kit::present_token(&token)?;
    let asked = authorize(&conn, "C14.FR.03", "Accepted")?;
    names_token(&asked, "C14.FR.03", &token)?;
    start.after_step(&conn, "C14.FR.03", (false, false), (false, true), "Authorized")?;
    kit::plug_in(kit::evse_id())?;
    start.after_step(&conn, "C14.FR.03", (false, true), (true, true), "CablePluggedIn")?;
    charging(&conn, "C14.FR.03")
}

/// Part 6's EnergyTransferStarted: the EV asks for energy and the station reports Charging.
pub(super) fn charging(conn: &Connection, req: &str) -> Step {
    kit::pilot(kit::evse_id(), kit::PilotState::C)?;
    let charging = |ev: &Value| at(ev, "/transactionInfo/chargingState") == "Charging";
    super::tx_event_where(conn, req, "chargingState Charging once the EV draws energy (energy is transferred)", charging).map(drop)
}

/// TC_C_40/43_CS, steps 1-3: both tokens on the list with the configured group (the second
/// with `second_status`), EVConnectedPreSession, the first token authorizes (its event
/// answered with the group, part 6 step 2), EnergyTransferStarted. The second token.
fn group_charging(conn: &Connection, second_status: &str) -> Step<String> {
    conn.claim(&[TX.into(), "Authorize".into()]);
    list_in_use(conn)?;
    let (first, second, group) = (kit::valid_token(), kit::second_valid_token(), kit::group_id_token());
    listed(conn, vec![entry(&first, Some("Accepted"), Some(&group)), entry(&second, Some(second_status), Some(&group))])?;
    let start = TxStart::configured();
    kit::plug_in(kit::evse_id())?;
    start.after_step(conn, "", (false, false), (true, false), "CablePluggedIn").setup("reusable state EVConnectedPreSession")?;
    kit::present_token(&first)?;
    let answer = json!({"idTokenInfo": group_info("Accepted", &group)});
    let authorized = |ev: &Value| ev["triggerReason"] == "Authorized";
    let ev = kit::expect_until(conn, "C09.FR.02", TX, 10_000, answer, "TransactionEvent with triggerReason Authorized", authorized, |ev| {
        format!("{} {}", ev["eventType"], ev["triggerReason"])
    })?;
    names_token(&ev, "C09.FR.02", &first)?;
    charging(conn, "C09.FR.02").setup("reusable state EnergyTransferStarted")?;
    Ok(second)
}

/// TC_C_40_CS: the second token, Accepted on the list with the same group, ends the
/// authorization without asking (C09.FR.07): part 6's StopAuthorized.
fn tc_c_40() -> Step {
    let conn = booted(300)?;
    let second = group_charging(&conn, "Accepted")?;
    kit::present_token(&second)?;
    stop_authorized(&conn, "C09.FR.07", false, true)?;
    Ok(())
}

/// TC_C_43_CS: the second token is Invalid on the list: the station asks (C14.FR.03), the
/// CSMS answers Invalid with the group (part 6 step 5), and the transaction goes on (C09.FR.11).
fn tc_c_43() -> Step {
    let conn = booted(300)?;
    let second = group_charging(&conn, "Invalid")?;
    kit::present_token(&second)?;
    let answer = json!({"idTokenInfo": group_info("Invalid", &kit::group_id_token())});
    let asked = kit::expect_and_reply(&conn, "C14.FR.03", "Authorize", 10_000, answer)?;
    names_token(&asked, "C14.FR.03", &second)?;
    let stops = |ev: &Value| ev["triggerReason"] == "StopAuthorized" || ev["eventType"] == "Ended";
    kit::expect_none(&conn, "C09.FR.11", TX, 2_000, json!({}), "the transaction going on: a group member the CSMS rejected does not stop it", stops)
}

fn tc_d_01() -> Step {
    let conn = booted(300)?;
    updated(&conn, "D01", 5, "Full", vec![entry(&kit::valid_token(), Some("Accepted"), None)], "D02")
}

fn tc_d_02() -> Step {
    let conn = booted(300)?;
    sent_accepted(&conn, "D01", 1, "Full", vec![])?;
    updated(&conn, "D01", 2, "Differential", vec![entry(&kit::valid_token(), Some("Accepted"), None)], "D02")
}

/// An update at `version` is Accepted (`req`) and GetLocalListVersion then answers it (`read_req`).
fn updated(conn: &Connection, req: &str, version_sent: i64, update: &str, entries: Vec<Value>, read_req: &str) -> Step {
    sent_accepted(conn, req, version_sent, update, entries)?;
    let v = version(conn, read_req)?;
    kit::check(v == version_sent, read_req, format!("versionNumber {version_sent}, the version of the update"), || format!("versionNumber {v}"))
}

/// TC_D_03_CS: a differential update whose entry has no idTokenInfo removes the token.
fn tc_d_03() -> Step {
    let conn = booted(300)?;
    let token = kit::valid_token();
    let v = listed(&conn, vec![entry(&token, Some("Accepted"), None)])?;
    updated(&conn, "D01.FR.17", v + 1, "Differential", vec![entry(&token, None, None)], "D01.FR.02")
}

/// TC_D_04_CS: a full update without entries at the configured version empties the list.
fn tc_d_04() -> Step {
    let conn = booted(300)?;
    let v = listed(&conn, vec![entry(&kit::valid_token(), Some("Accepted"), None)])?;
    updated(&conn, "D01.FR.04", v, "Full", vec![], "D01.FR.02")
}

/// TC_D_05_CS: a differential update without entries changes only the version.
fn tc_d_05() -> Step {
    let conn = booted(300)?;
    let v = listed(&conn, vec![entry(&kit::valid_token(), Some("Accepted"), None)])?;
    updated(&conn, "D01.FR.05", v + 1, "Differential", vec![], "D01.FR.02")
}

fn tc_d_06() -> Step {
    let conn = booted(300)?;
    sent_accepted(&conn, "D01", 3, "Full", vec![])?;
    let status = send(&conn, "D01", 2, "Differential", vec![entry(&kit::valid_token(), Some("Accepted"), None)])?;
    kit::check(status == "VersionMismatch", "D01.FR.19", "VersionMismatch for a differential update older than the list", || format!("status {status}"))?;
    // Part 6 step 3: the list kept its version.
    let v = version(&conn, "D01.FR.19")?;
    kit::check(v == 3, "D01.FR.19", "versionNumber 3 still, after the refused update", || format!("versionNumber {v}"))
}

/// TC_D_07_CS: after a reboot the list's version reads back. D01.FR.10 only recommends keeping
/// the list: a station that lost it and says 0 (D02.FR.02) gets a compatibility warning; any
/// other version is not the version of the list it holds (D02.FR.01).
fn tc_d_07() -> Step {
    let conn = booted(300)?;
    let v = listed(&conn, vec![entry(&kit::valid_token(), Some("Accepted"), None)])?;
    drop(conn);
    let (again, _) = kit::reboot_station(&[]).setup("a reboot")?;
    let now = version(&again, "D02.FR.01")?;
    kit::should(now == v, "D01.FR.10", format!("the list of version {v} kept across the reboot"), || format!("versionNumber {now}"));
    kit::check(now == v || now == 0, "D02.FR.01", format!("versionNumber {v}, or 0 for a list lost"), || format!("versionNumber {now}"))
}

/// TC_D_08_CS: the version of the list held.
fn tc_d_08() -> Step {
    let conn = booted(300)?;
    let v = listed(&conn, vec![entry(&kit::valid_token(), Some("Accepted"), None)])?;
    let now = version(&conn, "D02.FR.01")?;
    kit::check(now == v, "D02.FR.01", format!("versionNumber {v}, the list's"), || format!("versionNumber {now}"))
}

/// TC_D_10_CS: with the list switched off there is no list: version 0, even though one was
/// held before (sent as preparation, so that a station still answering it is caught).
fn tc_d_10() -> Step {
    let conn = booted(300)?;
    listed(&conn, vec![entry(&kit::valid_token(), Some("Accepted"), None)])?;
    prerequisite(&conn, "", "LocalAuthListCtrlr", "Enabled", "false").setup("configuration state LocalAuthListEnabled false")?;
    let now = version(&conn, "D02.FR.03")?;
    kit::check(now == 0, "D02.FR.03", "versionNumber 0 while LocalAuthListCtrlr.Enabled is false", || format!("versionNumber {now}"))
}
