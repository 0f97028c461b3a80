//! Cases where the harness is the CSMS and the DUT is a charging station.
use serde_json::{Value, json};

use crate::{
    Case,
    kit::{self, *},
};

mod availability;
pub(crate) mod certificates;
mod custom_report;
mod diagnostics;
mod ev15118;
mod display_message;
pub(crate) mod firmware;
mod hardware;
mod iso15118;
pub(super) mod local_list;
mod meter_values;
mod monitoring;
mod provisioning;
mod reservation;
pub(super) mod smart_charging;
mod station_certificate;
mod transactions;
mod trigger;

const CSMS: Role = Role::Csms;

/// The bench a charging session needs: a cable and a token reader.
pub(crate) const SESSION: &[&str] = &["plug", "token-reader"];

/// A mandatory 2.0.1 case for a charging-station DUT with a 30 s limit.
pub(super) fn station_case(
    id: &'static str,
    title: &'static str,
    requirements: &'static [&'static str],
    needs: &'static [&'static str],
    run: fn() -> Step,
) -> Case {
    Case::new(id, title, CSMS, V201, requirements, run).needs(needs).timeout_ms(30_000)
}

pub(crate) fn cases() -> Vec<Case> {
    let mut cases = vec![
        Case {
            id: "TC_B_01_CS",
            title: "Cold boot: the station registers, is accepted and reports its connectors",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B01"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_b_01,
        },
        Case {
            id: "TC_B_02_CS",
            title: "Cold boot answered Pending: configured and asked while Pending, a remote start refused, then a triggered boot accepted",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B02", "F06.FR.17"],
            needs: &[],
            timeout_ms: 45_000,
            run: tc_b_02,
        },
        Case {
            id: "TC_B_03_CS",
            title: "Cold boot answered Rejected: the station waits the interval before its next boot",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B03"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_b_03,
        },
        Case {
            id: "TC_B_06_CS",
            title: "GetVariables of OfflineThreshold, configured to 300, answers Accepted, Actual, 300",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B06.FR.01", "B06.FR.02", "B06.FR.03", "B06.FR.04", "B06.FR.10", "B06.FR.11"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_b_06,
        },
        Case {
            id: "TC_B_09_CS",
            title: "SetVariables of OfflineThreshold is Accepted, echoing component, variable and attributeType",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B05.FR.01", "B05.FR.02", "B05.FR.03", "B05.FR.10", "B05.FR.12"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_b_09,
        },
        Case {
            id: "TC_B_20_CS",
            title: "Reset OnIdle with no transaction: the station accepts, reconnects and boots with RemoteReset",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B11", "B01.FR.03"],
            needs: &[],
            timeout_ms: 30_000,
            run: tc_b_20,
        },
        Case {
            id: "TC_B_32_CS",
            title: "GetVariables of an unknown component answers UnknownComponent",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B06.FR.06"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_b_32,
        },
        Case {
            id: "OH_G_01_CS",
            title: "Heartbeats follow the interval granted at boot",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["G02"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_g_01,
        },
        Case {
            id: "OH_F_01_CS",
            title: "Remote start is accepted and the transaction is reported with the remoteStartId",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F01"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_f_01,
        },
        Case {
            id: "OH_F_02_CS",
            title: "Remote stop ends the transaction with stoppedReason Remote",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F03"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_f_02,
        },
        Case {
            id: "OH_F_03_CS",
            title: "Two remote-started transactions get different transaction ids",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E01"],
            needs: &[],
            timeout_ms: 30_000,
            run: oh_f_03,
        },
        Case {
            id: "OH_RPC_01_CS",
            title: "A CALL with an unknown action is answered with CALLERROR NotImplemented",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["OCPP-J 4.2.3"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_rpc_01,
        },
        Case {
            id: "OH_RPC_02_CS",
            title: "A frame that is not JSON is answered with a CALLERROR",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["OCPP-J 4.2.3"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_rpc_02,
        },
        Case {
            id: "TC_B_07_CS",
            title: "GetVariables of OfflineThreshold and LocalAuthorizeOffline answers each with its configured value, in one response",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B06.FR.01", "B06.FR.02", "B06.FR.03", "B06.FR.04", "B06.FR.10"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_b_07,
        },
        Case {
            id: "TC_B_10_CS",
            title: "SetVariables of OfflineThreshold and LocalAuthorizeOffline in one request accepts each",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B05.FR.01", "B05.FR.02", "B05.FR.03", "B05.FR.10", "B05.FR.12"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_b_10,
        },
        Case {
            id: "TC_B_11_CS",
            title: "SetVariables with values of the wrong type (OfflineThreshold and, where present, LimitChangeSignificance, AuthorizeRemoteStart, NextTimeOffsetTransitionDateTime) is Rejected",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B05.FR.07", "B05.FR.02", "B05.FR.10", "B05.FR.12"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_b_11,
        },
        Case {
            id: "TC_B_12_CS",
            title: "GetBaseReport ConfigurationInventory is Accepted and followed by NotifyReport parts ending with tbc false",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B07"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_b_12,
        },
        Case {
            id: "TC_B_21_CS",
            title: "Reset OnIdle during a transaction is Scheduled and happens once the transaction ends",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B11", "B12"],
            needs: &["plug", "token-reader"],
            timeout_ms: 60_000,
            run: tc_b_21,
        },
        Case {
            id: "TC_B_22_CS",
            title: "Reset Immediate during a transaction ends it with ImmediateReset and reboots",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B12", "E07.FR.03", "B01.FR.03"],
            needs: &["plug", "token-reader"],
            timeout_ms: 60_000,
            run: tc_b_22,
        },
        Case {
            id: "TC_B_33_CS",
            title: "GetVariables of an unknown variable of a known component answers UnknownVariable",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B06"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_b_33,
        },
        Case {
            id: "TC_B_35_CS",
            title: "SetVariables of an unknown component answers UnknownComponent",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B05.FR.04"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_b_35,
        },
        Case {
            id: "TC_B_36_CS",
            title: "SetVariables of an unknown variable answers UnknownVariable",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B05"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_b_36,
        },
        Case {
            id: "TC_B_39_CS",
            title: "SetVariables of a read-only variable is Rejected",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B05"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_b_39,
        },
        Case {
            id: "TC_B_57_CS",
            title: "After losing its connection the station reconnects without booting again",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B04"],
            needs: &["network"],
            timeout_ms: 30_000,
            run: tc_b_57,
        },
        Case {
            id: "TC_C_02_CS",
            title: "A token the CSMS reports Invalid starts no transaction",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["C01", "C06.FR.02"],
            needs: &["token-reader"],
            timeout_ms: 20_000,
            run: tc_c_02,
        },
        Case {
            id: "TC_C_08_CS",
            title: "With local pre-authorization, a cached Accepted token starts a transaction without Authorize",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &["auth-cache"],
            requirements: &["C10", "C12.FR.02", "C12.FR.04"],
            needs: &["plug", "token-reader"],
            timeout_ms: 30_000,
            run: tc_c_08,
        },
        Case {
            id: "TC_C_37_CS",
            title: "ClearCache is Accepted",
            role: CSMS,
            versions: V201,
            profile: "core",
            // Part 5 C-49: only a station with an authorization cache.
            features: &["auth-cache"],
            requirements: &["C11"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_c_37,
        },
        Case {
            id: "TC_E_03_CS",
            title: "Cable first, then token: the transaction starts on the cable and the token joins it",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E02", "E01.FR.16", "C01.FR.02", "C02.FR.01", "C06.FR.02"],
            needs: &["plug", "token-reader", "pilot"],
            timeout_ms: 30_000,
            run: tc_e_03,
        },
        Case {
            id: "TC_E_04_CS",
            title: "Token first, then cable: the transaction starts on authorization and reports the cable",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E03", "E01.FR.16", "C01.FR.02", "C02.FR.01", "C06.FR.02"],
            needs: &["plug", "token-reader"],
            timeout_ms: 30_000,
            run: tc_e_04,
        },
        Case {
            id: "TC_E_05_CS",
            title: "Token first and no cable within EVConnectionTimeOut: the authorization lapses (Ended with Timeout, Updated if TxStopPoint lacks Authorized)",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E03", "C01.FR.02", "C02.FR.01", "C06.FR.02"],
            needs: &["token-reader"],
            timeout_ms: 30_000,
            run: tc_e_05,
        },
        Case {
            id: "TC_E_06_CS",
            title: "Presenting the same token again stops the transaction locally",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E07", "E06.FR.15", "C01.FR.03"],
            needs: &["plug", "token-reader"],
            timeout_ms: 30_000,
            run: tc_e_06,
        },
        Case {
            id: "OH_E_50_CS",
            title: "An RCD trip while charging ends the transaction with GroundFault and the connector is Faulted until reset",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E06", "G01"],
            needs: &["plug", "token-reader", "ev-fault"],
            timeout_ms: 30_000,
            run: oh_e_50,
        },
        Case {
            id: "OH_E_51_CS",
            title: "A diode fault on an idle connector reports it Faulted, and Available once cleared",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["G01"],
            needs: &["ev-fault"],
            timeout_ms: 30_000,
            run: oh_e_51,
        },
        Case {
            id: "TC_E_20_CS",
            title: "Pulling the cable out ends the transaction with EVDisconnected",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E10", "E06.FR.02", "E06.FR.15"],
            needs: &["plug", "token-reader", "pilot"],
            timeout_ms: 30_000,
            run: tc_e_20,
        },
        Case {
            id: "TC_E_28_CS",
            title: "GetTransactionStatus of an unknown transaction: not ongoing, nothing queued",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E14"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_28,
        },
        Case {
            id: "TC_E_30_CS",
            title: "GetTransactionStatus of an ongoing transaction with nothing queued",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E14"],
            needs: &["plug", "token-reader"],
            timeout_ms: 30_000,
            run: tc_e_30,
        },
        Case {
            id: "TC_E_40_CS",
            title: "A transaction that ends while offline is reported, marked offline, after reconnecting",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E12", "E11.FR.01", "E11.FR.02", "E11.FR.06"],
            needs: &["plug", "token-reader", "network"],
            timeout_ms: 30_000,
            run: tc_e_40,
        },
        Case {
            id: "TC_F_01_CS",
            title: "Remote start with the cable already in joins the cable's transaction with the remoteStartId",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F01", "F02.FR.01"],
            needs: &["plug"],
            timeout_ms: 30_000,
            run: tc_f_01,
        },
        Case {
            id: "TC_F_04_CS",
            title: "Remote start and no cable within EVConnectionTimeOut: the transaction ends with Timeout",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F02", "E03.FR.01", "E03.FR.05"],
            needs: &[],
            timeout_ms: 30_000,
            run: tc_f_04,
        },
        Case {
            id: "TC_F_06_CS",
            title: "UnlockConnector without a transaction answers Unlocked",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F05"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_f_06,
        },
        Case {
            id: "TC_F_09_CS",
            title: "RequestStopTransaction of an unknown transaction is Rejected",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F03"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_f_09,
        },
        Case {
            id: "TC_F_10_CS",
            title: "UnlockConnector of an unknown EVSE answers UnknownConnector",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F05.FR.03"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_f_10,
        },
        Case {
            id: "TC_F_11_CS",
            title: "TriggerMessage MeterValues for an EVSE is Accepted and a MeterValues follows",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F06"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_f_11,
        },
        Case {
            id: "TC_F_20_CS",
            title: "TriggerMessage Heartbeat is Accepted and a Heartbeat follows",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F06"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_f_20,
        },
        Case {
            id: "TC_F_23_CS",
            title: "TriggerMessage StatusNotification for an idle EVSE reports Available",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F06"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_f_23,
        },
        Case {
            id: "TC_G_01_CS",
            title: "Plugging the cable in turns the connector from Available to Occupied",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["G01", "N07.FR.19"],
            needs: &["plug"],
            timeout_ms: 20_000,
            run: tc_g_01,
        },
        Case {
            id: "TC_G_02_CS",
            title: "Pulling the cable out turns the connector back to Available",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["G01", "N07.FR.19"],
            needs: &["plug"],
            timeout_ms: 20_000,
            run: tc_g_02,
        },
        Case {
            id: "TC_G_03_CS",
            title: "ChangeAvailability Inoperative for an idle EVSE is Accepted and reports Unavailable",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["G03"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_g_03,
        },
        Case {
            id: "TC_G_04_CS",
            title: "ChangeAvailability Operative brings an inoperative EVSE back to Available",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["G03"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_g_04,
        },
        Case {
            id: "TC_G_11_CS",
            title: "ChangeAvailability Inoperative during a transaction is Scheduled and applied when it ends",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["G03"],
            needs: &["plug", "token-reader"],
            timeout_ms: 30_000,
            run: tc_g_11,
        },
        Case {
            id: "TC_J_09_CS",
            title: "With TxUpdatedInterval set, charging reports periodic meter values that do not decrease",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["J02", "E02.FR.10", "E02.FR.11", "E03.FR.08", "E03.FR.09", "E04.FR.06", "E04.FR.09", "E11.FR.03", "E11.FR.06", "E12.FR.03", "E12.FR.06"],
            needs: &["plug", "token-reader", "pilot"],
            timeout_ms: 30_000,
            run: tc_j_09,
        },
        Case {
            id: "OH_E_01_CS",
            title: "A power cycle during a transaction ends it with PowerLoss, reported after the new boot",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E06", "B01"],
            needs: &["plug", "token-reader", "power-cycle"],
            timeout_ms: 30_000,
            run: oh_e_01,
        },
        Case {
            id: "OH_P_01_CS",
            title: "DataTransfer with a vendor id the station does not know answers UnknownVendorId",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["P01"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_p_01,
        },
        Case {
            id: "TC_B_13_CS",
            title: "GetBaseReport FullInventory is Accepted and the report ends with tbc false",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B07"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_b_13,
        },
        Case {
            id: "TC_B_14_CS",
            title: "GetBaseReport SummaryInventory is Accepted and the report ends with tbc false",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B07"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_b_14,
        },
        Case {
            id: "TC_C_04_CS",
            title: "A different token during a transaction does not stop it",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["C01", "E07"],
            needs: &["plug", "token-reader"],
            timeout_ms: 30_000,
            run: tc_c_04,
        },
        Case {
            id: "TC_F_02_CS",
            title: "Remote start with AuthorizeRemoteStart true: the station authorizes the token before starting",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F02", "F01.FR.01"],
            needs: &["plug"],
            timeout_ms: 30_000,
            run: tc_f_02,
        },
        Case {
            id: "TC_F_03_CS",
            title: "Remote start with AuthorizeRemoteStart false: the transaction starts without an Authorize",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F02", "F01.FR.02"],
            needs: &["plug"],
            timeout_ms: 30_000,
            run: tc_f_03,
        },
        Case {
            id: "TC_F_05_CS",
            title: "UnlockConnector during an authorized transaction answers OngoingAuthorizedTransaction",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F05"],
            needs: &["plug", "token-reader"],
            timeout_ms: 30_000,
            run: tc_f_05,
        },
        Case {
            id: "TC_F_13_CS",
            title: "TriggerMessage TransactionEvent for an EVSE with a transaction sends one with triggerReason Trigger",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F06"],
            needs: &["plug"],
            timeout_ms: 30_000,
            run: tc_f_13,
        },
        Case {
            id: "TC_F_24_CS",
            title: "TriggerMessage StatusNotification for an EVSE with a cable in reports Occupied",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F06"],
            needs: &["plug"],
            timeout_ms: 20_000,
            run: tc_f_24,
        },
        Case {
            id: "TC_G_05_CS",
            title: "ChangeAvailability Inoperative for the whole station makes every EVSE Unavailable",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["G04"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_g_05,
        },
        Case {
            id: "OH_RPC_03_CS",
            title: "While its CALL is unanswered the station sends no other CALL",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["OCPP-J 4.1.1"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_rpc_03,
        },
        Case {
            id: "OH_RPC_04_CS",
            title: "The answer to a CALL carries its message id exactly, even at the 36-character maximum",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["OCPP-J 4.1.3"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_rpc_04,
        },
        Case {
            id: "OH_RPC_05_CS",
            title: "A CALL whose payload breaks its schema is answered with a constraint or format CALLERROR",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["OCPP-J 4.2.3"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_rpc_05,
        },
        Case {
            id: "TC_F_15_CS",
            title: "TriggerMessage LogStatusNotification with no upload going on reports Idle",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F06", "N01"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_f_15,
        },
        Case {
            id: "TC_N_25_CS",
            title: "GetLog of the diagnostics log is Accepted with a file name, then Uploading and Uploaded are reported",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["N01"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_n_25,
        },
        Case {
            id: "TC_N_27_CS",
            title: "CustomerInformation with report is Accepted and the data follow in NotifyCustomerInformation",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["N09"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_n_27,
        },
        Case {
            id: "OH_J_01_CS",
            title: "The energy the station reports at the end of a transaction matches the bench meter",
            role: CSMS,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["J02", "E06"],
            needs: &["plug", "token-reader", "pilot", "meter"],
            timeout_ms: 30_000,
            run: oh_j_01,
        },
    ];
    cases.extend(certificates::cases());
    cases.extend(availability::cases());
    cases.extend(provisioning::cases());
    cases.extend(diagnostics::cases());
    cases.extend(transactions::cases());
    cases.extend(meter_values::cases());
    cases.extend(firmware::cases());
    cases.extend(trigger::cases());
    cases.extend(hardware::cases());
    cases.extend(reservation::cases());
    cases.extend(local_list::cases());
    cases.extend(station_certificate::cases());
    cases.extend(iso15118::cases());
    cases.extend(ev15118::cases());
    cases.extend(smart_charging::cases());
    cases.extend(display_message::cases());
    cases.extend(custom_report::cases());
    cases.extend(monitoring::cases());
    cases
}

/// The general pre-conditions on the live connection; a heartbeat interval other than the
/// station's own is set through the device model (the baseline sets it back afterwards).
pub(crate) fn booted(interval: u64) -> Step<Connection> {
    // A case about heartbeats sees every one from the start.
    let conn = kit::ready_station(if interval != 300 { &["Heartbeat"] } else { &[] })?;
    if interval != 300 {
        configure(&conn, "B05", "OCPPCommCtrlr", "HeartbeatInterval", &interval.to_string())?;
    }
    Ok(conn)
}

/// A fresh boot (reusable state Booted) with the BootNotification held for the case; the boot
/// reason the station must give follows from how the harness rebooted it.
pub(crate) fn rebooted(claim: &[&str]) -> Step<(Connection, &'static str)> {
    let (conn, method) = kit::reboot_station(claim)?;
    kit::info(format!("rebooted by {method:?}"));
    Ok((conn, kit::boot_reason(method)))
}

pub(crate) fn tc_b_01() -> Step {
    let (conn, reason) = rebooted(&["BootNotification", "StatusNotification", "NotifyEvent"])?;
    let boot = kit::expect_and_reply(&conn, "B01", "BootNotification", 10_000, json!({"currentTime": now(), "interval": 300, "status": "Accepted"}))?;
    kit::check(at(&boot, "/reason") == reason, "B01.FR.09", format!("boot reason {reason} after the reboot the harness made"), || {
        format!("reason {}", at(&boot, "/reason"))
    })?;
    // Part 6 reusable state Booted: StatusNotification or NotifyEvent, Available — and
    // B01.FR.05 a report for each connector, so one at least from every EVSE.
    let n = u64::from(kit::evses());
    let (evse, connector) = (u64::from(kit::evse_id()), u64::from(kit::connector_id()));
    let (mut seen, mut under_test) = (std::collections::BTreeMap::<u64, Vec<String>>::new(), None);
    let deadline = clock::now_ms() + 10_000;
    while clock::now_ms() < deadline && (under_test.is_none() || (1..=n).any(|e| !seen.contains_key(&e))) {
        for action in REPORTS {
            let Ok(call) = kit::expect(&conn, "B01.FR.05", action, 150) else { continue };
            kit::reply(&conn, "B01.FR.05", &call, action, json!({}))?;
            for (e, c, status) in statuses_in(action, &call.payload) {
                if e == evse && c.is_none_or(|c| c == connector) && under_test.is_none() {
                    under_test = Some(status.clone());
                }
                seen.entry(e).or_default().push(format!("connector {} {status}", c.map_or("?".into(), |c| c.to_string())));
            }
        }
    }
    let said = || format!("reports after the boot: {}", if seen.is_empty() { "none within 10 s".into() } else { seen.iter().map(|(e, r)| format!("EVSE {e}: {}", r.join(", "))).collect::<Vec<_>>().join("; ") });
    kit::check(under_test.as_deref() == Some("Available"), "B01.FR.05", format!("the connector under test (EVSE {evse} connector {connector}) reported Available after the boot"), said)?;
    let silent: Vec<u64> = (1..=n).filter(|e| !seen.contains_key(e)).collect();
    kit::check(silent.is_empty(), "B01.FR.05", format!("a status for the connectors of each of the {n} EVSE(s)"), || format!("none from EVSE {silent:?}; {}", said()))
}

/// Part 6 TC_B_02_CS: Pending, and meanwhile the CSMS reads and sets the configuration and
/// asks for a report (B02.FR.01), a remote start is refused (B02.FR.05), then a triggered
/// boot (F06.FR.17) — or, where TriggerMessage BootNotification is not implemented, the boot
/// after the interval (B02.FR.08) — is accepted.
fn tc_b_02() -> Step {
    // Long enough for the steps before the next boot the station owes (B02.FR.04/08).
    const PENDING_INTERVAL_S: u32 = 20;
    let (conn, _) = rebooted(&["BootNotification", "StatusNotification", "NotifyEvent", "TransactionEvent", "Heartbeat", "NotifyReport"])?;
    kit::expect_and_reply(&conn, "B02", "BootNotification", 10_000, json!({"currentTime": now(), "interval": PENDING_INTERVAL_S, "status": "Pending"}))?;
    let r = set_variable(&conn, "B02.FR.01", OFFLINE_THRESHOLD.0, OFFLINE_THRESHOLD.1, "300")?;
    kit::check(r["attributeStatus"] == "Accepted", "B02.FR.01", "SetVariables OfflineThreshold = 300 Accepted while Pending", || r.to_string())?;
    let r = get_variable(&conn, "B02.FR.01", OFFLINE_THRESHOLD.0, OFFLINE_THRESHOLD.1)?;
    kit::check(r["attributeStatus"] == "Accepted", "B02.FR.01", "GetVariables OfflineThreshold Accepted while Pending", || r.to_string())?;
    let r = kit::call(&conn, "B02.FR.01", "GetBaseReport", json!({"requestId": 202, "reportBase": "FullInventory"}), 10_000)?;
    kit::check(r["status"] == "Accepted", "B02.FR.01", "GetBaseReport FullInventory Accepted while Pending", || r.to_string())?;
    // The report it was asked for may be sent while Pending (B02.FR.02), in parts.
    for _ in 0..MAX_REPORT_PARTS {
        let part = kit::expect_and_reply(&conn, "B02.FR.01", "NotifyReport", 10_000, json!({}))?;
        if part["tbc"] != true {
            break;
        }
    }
    let start = json!({"idToken": {"idToken": kit::valid_token(), "type": kit::token_type()}, "remoteStartId": 202, "evseId": kit::evse_id()});
    let r = kit::call(&conn, "B02.FR.05", "RequestStartTransaction", start, 10_000)?;
    kit::check(r["status"] == "Rejected", "B02.FR.05", "RequestStartTransaction Rejected while Pending", || r.to_string())?;
    // Nothing else from it while Pending (B02.FR.02): what it sent meanwhile is queued here.
    for action in REPORTS.iter().chain(&["TransactionEvent", "Heartbeat"]) {
        kit::expect_silence(&conn, "B02.FR.02", action, 100, "while the registration is Pending")?;
    }
    let r = kit::call(&conn, "F06.FR.17", "TriggerMessage", json!({"requestedMessage": "BootNotification"}), 10_000)?;
    let triggered = r["status"] == "Accepted";
    kit::check(triggered || r["status"] == "NotImplemented", "F06.FR.17", "TriggerMessage BootNotification Accepted (or NotImplemented) while Pending", || r.to_string())?;
    let wait = if triggered { 10_000 } else { PENDING_INTERVAL_S * 1_000 + kit::config::lab_timing().tolerance_ms };
    let boot = kit::expect_and_reply(&conn, "B02.FR.08", "BootNotification", wait, json!({"currentTime": now(), "interval": 300, "status": "Accepted"}))?;
    if triggered {
        kit::check(at(&boot, "/reason") == "Triggered", "F06.FR.17", "boot reason Triggered", || format!("reason {}", at(&boot, "/reason")))?;
    }
    connector_is(&conn, "B02", "Available")
}

/// NotifyReport parts a full report may take before a case gives up on its end.
const MAX_REPORT_PARTS: usize = 50;

fn tc_b_03() -> Step {
    let interval_ms: u32 = 2_000;
    let (conn, _) = rebooted(&["BootNotification", REPORTS[0], REPORTS[1]])?;
    kit::expect_and_reply(
        &conn,
        "B03",
        "BootNotification",
        10_000,
        json!({"currentTime": now(), "interval": interval_ms / 1000, "status": "Rejected"}),
    )?;
    let t0 = clock::now_ms();
    kit::expect_silence(&conn, "B03", "StatusNotification", 500, "while the registration is Rejected")?;
    kit::mandated("the Rejected interval", || {
        kit::expect_and_reply(&conn, "B03", "BootNotification", 10_000, json!({"currentTime": now(), "interval": 300, "status": "Accepted"}))
    })?;
    let waited = clock::now_ms() - t0;
    // Allow 10% for clock granularity on both sides.
    kit::check(waited * 10 >= u64::from(interval_ms) * 9, "B03", format!("the next BootNotification no earlier than {interval_ms} ms"), || {
        format!("it came after {waited} ms")
    })?;
    // Part 6 step 5: once Accepted, the connector reports Available.
    connector_is(&conn, "B03", "Available")
}

/// A variable of the station as its configuration, read at the start of the run, has it (or
/// the lab's description overrides it); where the run did not read it, asked now (a
/// preparation). None where the station has no value for it.
pub(super) fn station_value(conn: &Connection, component: &str, variable: &str) -> Step<Option<String>> {
    let name = format!("{component}.{variable}");
    if let Some(v) = config::parameter(&name) {
        return Ok(Some(v));
    }
    let r = get_variable(conn, "", component, variable).setup(&format!("{name} read"))?;
    Ok(r["attributeValue"].as_str().map(str::to_string))
}

fn get_variable(conn: &Connection, req: &str, component: &str, variable: &str) -> Step<Value> {
    let r = kit::call(
        conn,
        req,
        "GetVariables",
        json!({"getVariableData": [{"component": {"name": component}, "variable": {"name": variable}}]}),
        10_000,
    )?;
    let results = at(&r, "/getVariableResult").as_array().cloned().unwrap_or_default();
    kit::check(results.len() == 1, req, "one getVariableResult per requested variable", || format!("{} results", results.len()))?;
    Ok(results[0].clone())
}

/// The variables part 6's B cases read and write: OfflineThreshold (required of every
/// station), and AuthCtrlr's offline authorization switch, which part 6 and part 2's prose call
/// LocalAuthorizationOffline and the device model (part 2 appendix, dm_components_vars.csv)
/// LocalAuthorizeOffline — the device model's name is the one a station has.
const OFFLINE_THRESHOLD: (&str, &str) = ("OCPPCommCtrlr", "OfflineThreshold");
pub(super) const LOCAL_AUTHORIZE_OFFLINE: (&str, &str) = ("AuthCtrlr", "LocalAuthorizeOffline");

/// Read `vars` (attributeType Actual) in one GetVariables: each result Accepted, echoing the
/// component, variable and attributeType asked for, with the value expected (B06.FR.01-04).
fn read_back(conn: &Connection, vars: &[((&str, &str), &str)]) -> Step {
    let data: Vec<Value> = vars.iter().map(|((c, v), _)| json!({"component": {"name": c}, "variable": {"name": v}, "attributeType": "Actual"})).collect();
    let r = kit::call(conn, "B06.FR.01", "GetVariables", json!({"getVariableData": data}), 10_000)?;
    let results = at(&r, "/getVariableResult").as_array().cloned().unwrap_or_default();
    kit::check(results.len() == vars.len(), "B06.FR.01", format!("one result per requested variable ({})", vars.len()), || format!("{} results", results.len()))?;
    for ((c, v), value) in vars {
        let found = results.iter().find(|x| x["component"]["name"] == *c && x["variable"]["name"] == *v);
        let found = found.ok_or_else(|| kit::fail("B06.FR.02", format!("a result for {c}.{v}"), r.to_string()))?;
        kit::check(found["attributeStatus"] == "Accepted", "B06.FR.04", format!("{c}.{v} Accepted"), || found.to_string())?;
        kit::check(found["attributeType"] == "Actual", "B06.FR.03", format!("{c}.{v} with attributeType Actual, as asked"), || found.to_string())?;
        kit::check(found["attributeValue"] == *value, "B06.FR.04", format!("{c}.{v} = {value} (as configured before the case)"), || found.to_string())?;
    }
    Ok(())
}

/// TC_B_06_CS (part 6): configuration state OfflineThreshold = 300, read back.
fn tc_b_06() -> Step {
    let conn = booted(300)?;
    configure(&conn, "B06", OFFLINE_THRESHOLD.0, OFFLINE_THRESHOLD.1, "300")?;
    read_back(&conn, &[(OFFLINE_THRESHOLD, "300")])
}

/// Set `vars` (attributeType Actual) in one SetVariables: each result Accepted, echoing the
/// component, variable and attributeType (B05.FR.01-03).
fn set_all(conn: &Connection, vars: &[((&str, &str), &str)]) -> Step {
    let data: Vec<Value> = vars.iter().map(|((c, v), value)| json!({"component": {"name": c}, "variable": {"name": v}, "attributeValue": value, "attributeType": "Actual"})).collect();
    let r = kit::call(conn, "B05.FR.01", "SetVariables", json!({"setVariableData": data}), 10_000)?;
    let results = at(&r, "/setVariableResult").as_array().cloned().unwrap_or_default();
    kit::check(results.len() == vars.len(), "B05.FR.01", format!("one result per variable set ({})", vars.len()), || format!("{} results", results.len()))?;
    for ((c, v), value) in vars {
        let found = results.iter().find(|x| x["component"]["name"] == *c && x["variable"]["name"] == *v);
        let found = found.ok_or_else(|| kit::fail("B05.FR.02", format!("a result for {c}.{v}"), r.to_string()))?;
        kit::check(found["attributeType"] == "Actual", "B05.FR.03", format!("{c}.{v} with attributeType Actual, as sent"), || found.to_string())?;
        kit::check(found["attributeStatus"] == "Accepted", "B05.FR.10", format!("{c}.{v} = {value} Accepted"), || found.to_string())?;
    }
    Ok(())
}

/// TC_B_09_CS (part 6): OfflineThreshold set to 300.
fn tc_b_09() -> Step {
    let conn = booted(300)?;
    set_all(&conn, &[(OFFLINE_THRESHOLD, "300")])
}

fn tc_b_20() -> Step {
    let conn = booted(300)?;
    let r = kit::call(&conn, "B11", "Reset", json!({"type": "OnIdle"}), 10_000)?;
    kit::check(r["status"] == "Accepted", "B11", "Reset status Accepted with no transaction ongoing", || r.to_string())?;
    rebooted_by_reset(&conn, "B11").map(|_| ())
}

fn tc_b_32() -> Step {
    let conn = booted(300)?;
    // Part 6 TC_B_32_CS: a known variable's name on an unknown component.
    let r = get_variable(&conn, "B06.FR.06", "NoSuchComponentXyz", "OfflineThreshold")?;
    kit::check(r["attributeStatus"] == "UnknownComponent", "B06.FR.06", "attributeStatus UnknownComponent", || r.to_string())
}

fn oh_g_01() -> Step {
    let conn = booted(1)?;
    // The first heartbeat may come any time within the interval; measure the next one.
    kit::expect_and_reply(&conn, "G02", "Heartbeat", 3_000, json!({"currentTime": now()}))?;
    let t0 = clock::now_ms();
    kit::mandated("the heartbeat interval", || kit::expect_and_reply(&conn, "G02", "Heartbeat", 3_000, json!({"currentTime": now()})))?;
    let gap = clock::now_ms() - t0;
    kit::check((500..=2_000).contains(&gap), "G02", "heartbeats about 1 s apart (interval 1 s)", || format!("{gap} ms between heartbeats"))
}

/// Remote start on the EVSE under test; returns the transaction id the station reported.
/// A remote start (reusable state Authorized, remote): the transaction's Started event, at
/// once where TxStartPoint has Authorized, else once the cable is in (`cable`: it is already).
/// Its transaction id.
fn remote_start(conn: &Connection, remote_start_id: i64, cable: bool) -> Step<String> {
    conn.claim(&["TransactionEvent".into()]);
    let token = kit::valid_token();
    let req = json!({"idToken": {"idToken": token, "type": "ISO14443"}, "remoteStartId": remote_start_id, "evseId": kit::evse_id()});
    let r = kit::call(conn, "F01", "RequestStartTransaction", req, 10_000)?;
    kit::check(r["status"] == "Accepted", "F01", "RequestStartTransaction status Accepted", || r.to_string())?;
    if !TxStart::configured().started(cable, true) {
        kit::plug_in(kit::evse_id())?;
    }
    let ev = kit::expect_and_reply(conn, "F01", "TransactionEvent", 10_000, json!({"idTokenInfo": {"status": "Accepted"}}))?;
    kit::check(ev["eventType"] == "Started", "F01", "a TransactionEvent Started", || format!("eventType {}", ev["eventType"]))?;
    kit::check(
        at(&ev, "/transactionInfo/remoteStartId") == remote_start_id,
        "F01",
        format!("transactionInfo.remoteStartId {remote_start_id}"),
        || format!("transactionInfo {}", ev["transactionInfo"]),
    )?;
    Ok(at(&ev, "/transactionInfo/transactionId").as_str().unwrap_or_default().to_string())
}

fn oh_f_01() -> Step {
    let conn = booted(300)?;
    remote_start(&conn, 4711, false).map(|_| ())
}

/// Stop `tx`, started by `remote_start` asked for no cable, remotely: the cable is in only
/// where the station's TxStartPoint needed it for the start.
fn remote_stop(conn: &Connection, tx: &str) -> Step {
    let r = kit::call(conn, "F03", "RequestStopTransaction", json!({"transactionId": tx}), 10_000)?;
    kit::check(r["status"] == "Accepted", "F03", "RequestStopTransaction status Accepted for the running transaction", || r.to_string())?;
    let ev = stop_authorized(conn, "F03", true, !TxStart::configured().started(false, true))?;
    kit::check(at(&ev, "/transactionInfo/transactionId") == tx, "F03", format!("the transaction {tx} to end"), || {
        format!("transactionInfo {}", ev["transactionInfo"])
    })
}

pub(crate) fn oh_f_02() -> Step {
    let conn = booted(300)?;
    let tx = remote_start(&conn, 1, false)?;
    remote_stop(&conn, &tx)
}

fn oh_f_03() -> Step {
    let conn = booted(300)?;
    let start = TxStart::configured();
    let first = remote_start(&conn, 1, false)?;
    remote_stop(&conn, &first)?;
    // A cable plugged in for the first stays in, unless the EV leaving was what ended it.
    let second = remote_start(&conn, 2, !start.started(false, true) && authorization_ends_tx())?;
    kit::check(first != second, "E01", "a new transactionId for every transaction", || format!("{first:?} twice"))
}

fn oh_rpc_01() -> Step {
    let conn = booted(300)?;
    let answer = kit::raw_exchange(&conn, "OCPP-J 4.2.3", r#"[2,"oh-rpc-01","NoSuchActionXyz",{}]"#, 10_000)?;
    kit::check(answer[0] == 4 && answer[1] == "oh-rpc-01", "OCPP-J 4.2.3", "a CALLERROR with the CALL's message id", || answer.to_string())?;
    kit::check(answer[2] == "NotImplemented", "OCPP-J 4.2.3", "error code NotImplemented", || format!("error code {}", answer[2]))
}

fn oh_rpc_02() -> Step {
    let conn = booted(300)?;
    let answer = kit::raw_exchange(&conn, "OCPP-J 4.2.3", r#"[2,"oh-rpc-02","Heartbeat",{"#, 10_000)?;
    kit::check(answer[0] == 4, "OCPP-J 4.2.3", "a CALLERROR", || answer.to_string())?;
    let code = answer[2].as_str().unwrap_or_default();
    kit::check(
        ["RpcFrameworkError", "FormatViolation"].contains(&code),
        "OCPP-J 4.2.3",
        "error code RpcFrameworkError or FormatViolation (OCPP-J 4.3)",
        || format!("error code {code}"),
    )
}

// ---- helpers for the cases below ----

pub(crate) const TX: &str = "TransactionEvent";

/// The next TransactionEvent, answered with Accepted for the token it carries.
pub(crate) fn next_tx_event(conn: &Connection, req: &str, timeout_ms: u32) -> Step<Value> {
    let call = kit::expect(conn, req, TX, timeout_ms)?;
    let reply = if call.payload.get("idToken").is_some() { json!({"idTokenInfo": {"status": "Accepted"}}) } else { json!({}) };
    kit::reply(conn, req, &call, TX, reply)?;
    Ok(call.payload)
}

/// `seconds` more of the session, then reusable state ParkingBayUnoccupied: the driver stops
/// with the token and unplugs. The Ended event (other events on the way are answered).
pub(crate) fn session_ended(conn: &Connection, req: &str, seconds: u32) -> Step<Value> {
    kit::mandated("the configured transaction duration", || clock::sleep_ms(seconds * 1_000));
    kit::present_token(&kit::valid_token())?;
    kit::unplug(kit::evse_id())?;
    for _ in 0..8 {
        let ev = next_tx_event(conn, req, 10_000)?;
        if ev["eventType"] == "Ended" {
            return Ok(ev);
        }
    }
    Err(Verdict::Inconclusive("the transaction did not end".into()))
}

/// Part 6's prerequisite of the UnlockConnector cases (TC_F_05..07_CS; part 5 AQ-2).
pub(super) const LOCK: &str = "a connector lock";

/// Where the station starts a transaction: its `TxCtrlr.TxStartPoint`, as read before the
/// first case (or given by the DUT description), the reference station's when unknown. Part
/// 6's reusable states EVConnectedPreSession and Authorized send TransactionEvent Started at
/// the step that completes a start point, and Updated for the later steps.
pub(super) struct TxStart(String);

impl TxStart {
    pub(super) fn configured() -> TxStart {
        TxStart(config::parameter("TxCtrlr.TxStartPoint").unwrap_or_else(|| "EVConnected,Authorized".into()))
    }

    /// The case cannot go on: the start points name no transaction for what it did (`with`).
    pub(super) fn none_with(&self, with: &str) -> Verdict {
        Verdict::Inconclusive(format!("TxStartPoint {} starts no transaction with {with}", self.0))
    }

    fn has(&self, point: &str) -> bool {
        lists(&self.0, point)
    }

    /// Whether a transaction runs once the cable is in (`cable`) and a token authorized
    /// (`token`). PowerPathClosed and EnergyTransfer need both (the EV may still have to ask
    /// for energy: `started_by` accepts ChargingStateChanged for them).
    pub(super) fn started(&self, cable: bool, token: bool) -> bool {
        (cable && (self.has("EVConnected") || self.has("ParkingBayOccupancy")))
            || (token && self.has("Authorized"))
            || (cable && token && (self.has("PowerPathClosed") || self.has("EnergyTransfer")))
    }

    /// The TransactionEvent a step makes the station send: `before` and `after` are (cable,
    /// token) around the step, `trigger` its triggerReason. Started when the step completes a
    /// start point, Updated when a transaction runs already, none when none has started.
    pub(super) fn after_step(&self, conn: &Connection, req: &str, before: (bool, bool), after: (bool, bool), trigger: &str) -> Step<Option<Value>> {
        match (self.started(before.0, before.1), self.started(after.0, after.1)) {
            (true, _) => expect_event(conn, req, "Updated", trigger).map(Some),
            (false, true) => self.started_by(conn, req, trigger).map(Some),
            (false, false) => Ok(None),
        }
    }

    /// TransactionEvent Started for the step `trigger`. With a power-path start point the
    /// power path closes once cable and authorization are both there, and OCPP does not pin
    /// which of them (or ChargingStateChanged) the station names.
    fn started_by(&self, conn: &Connection, req: &str, trigger: &str) -> Step<Value> {
        let power_path = self.has("PowerPathClosed") || self.has("EnergyTransfer");
        let ev = next_tx_event(conn, req, 10_000)?;
        let reason = ev["triggerReason"].as_str().unwrap_or_default();
        let either = ["CablePluggedIn", "Authorized", "RemoteStart", "ChargingStateChanged", "EVDetected"];
        let ok = ev["eventType"] == "Started" && (reason == trigger || (power_path && either.contains(&reason)));
        kit::check(ok, req, format!("TransactionEvent Started with triggerReason {trigger} (TxStartPoint {})", self.0), || format!("TransactionEvent {} with triggerReason {reason}", ev["eventType"]))?;
        Ok(ev)
    }
}

/// Whether a TxStartPoint/TxStopPoint value (a comma-separated MemberList) names `point`.
pub(super) fn lists(points: &str, point: &str) -> bool {
    points.split(',').any(|p| p.trim() == point)
}

/// The next TransactionEvent must be `event_type` for `trigger`.
/// The next TransactionEvent, of `event_type` (what follows depends on it), with `trigger`
/// (a soft check: a wrong triggerReason is reported and the case goes on).
pub(super) fn expect_event(conn: &Connection, req: &str, event_type: &str, trigger: &str) -> Step<Value> {
    let ev = next_tx_event(conn, req, 10_000)?;
    kit::check(ev["eventType"] == event_type, req, format!("TransactionEvent {event_type} with triggerReason {trigger}"), || {
        format!("TransactionEvent {} with triggerReason {}", ev["eventType"], ev["triggerReason"])
    })?;
    kit::soft_check(ev["triggerReason"] == trigger, req, format!("TransactionEvent {event_type} with triggerReason {trigger}"), || {
        format!("TransactionEvent {event_type} with triggerReason {}", ev["triggerReason"])
    });
    Ok(ev)
}

pub(super) fn expect_ended(conn: &Connection, req: &str, trigger: &str, stopped_reason: &str) -> Step<Value> {
    let ev = expect_event(conn, req, "Ended", trigger)?;
    stopped_for(&ev, req, stopped_reason)?;
    Ok(ev)
}

/// The Ended event `ev` gives `reason` as its stoppedReason, which may be left out when it
/// is Local (E06.FR.09).
/// A soft check: the case goes on after a wrong or missing stoppedReason.
fn stopped_for(ev: &Value, req: &str, reason: &str) -> Step {
    let given = at(ev, "/transactionInfo/stoppedReason");
    let omitted_local = reason == "Local" && given.is_null();
    kit::soft_check(given == reason || omitted_local, req, format!("stoppedReason {reason}{}", if reason == "Local" { " (or none, E06.FR.09)" } else { "" }), || format!("stoppedReason {given}"));
    Ok(())
}

/// Whether the end of an authorization ends the transaction at this station: its TxStopPoint
/// (from its configuration; the usual EVConnected,Authorized when unknown) has Authorized, or
/// PowerPathClosed or EnergyTransfer, which end with it (E06.FR.03/06/07, F03.FR.03).
pub(super) fn authorization_ends_tx() -> bool {
    let points = config::parameter("TxCtrlr.TxStopPoint").unwrap_or_else(|| "EVConnected,Authorized".into());
    ["Authorized", "PowerPathClosed", "EnergyTransfer"].iter().any(|p| lists(&points, p))
}

/// Part 6 StopAuthorized, once the driver presented the token again (`remote` false) or the
/// station accepted a RequestStopTransaction (`remote` true): the transaction's Ended event.
/// Where the station's TxStopPoint ends the transaction with the authorization, or no EV is
/// connected to hold it (`ev_connected` false), that event ends it (`req`); otherwise an
/// Updated event says the energy stopped (F03.FR.02) and the EV leaving ends the transaction
/// (E06.FR.02, F04.FR.03): the case unplugs the cable, as part 6's EVDisconnected does.
pub(super) fn stop_authorized(conn: &Connection, req: &str, remote: bool, ev_connected: bool) -> Step<Value> {
    let (trigger, reason) = if remote { ("RemoteStop", "Remote") } else { ("StopAuthorized", "Local") };
    if authorization_ends_tx() || !ev_connected {
        return expect_ended(conn, req, trigger, reason);
    }
    let stop = if remote { "F03.FR.02" } else { "E06.FR.02" };
    let ev = expect_event(conn, stop, "Updated", trigger)?;
    let state = at(&ev, "/transactionInfo/chargingState");
    kit::check(state != "Charging", stop, "the energy stopped (chargingState EVConnected or SuspendedEVSE)", || format!("chargingState {state}"))?;
    kit::unplug(kit::evse_id())?;
    let ended = expect_event(conn, "E06.FR.02", "Ended", "EVCommunicationLost")?;
    stopped_for(&ended, if remote { "F04.FR.03" } else { "E06.FR.09" }, reason)?;
    Ok(ended)
}

/// The first of the next four TransactionEvents that `wanted` accepts (`expected` says what it
/// is), answering each: a station may report other things first (a cable, a token).
pub(super) fn tx_event_where(conn: &Connection, req: &str, expected: &str, wanted: impl Fn(&Value) -> bool) -> Step<Value> {
    let mut seen = Vec::new();
    for _ in 0..4 {
        let ev = next_tx_event(conn, req, 10_000)?;
        if wanted(&ev) {
            return Ok(ev);
        }
        seen.push(format!("{} {}", ev["eventType"], ev["triggerReason"]));
    }
    Err(kit::fail(req, expected, format!("four events without it: {seen:?}")))
}

/// The Ended event of `tx` after a reconnect: events of the transaction whose answer the
/// station never saw may come again first, and are answered and skipped.
fn ended_after_reconnect(conn: &Connection, req: &str, tx: &str) -> Step<Value> {
    for _ in 0..4 {
        let ev = next_tx_event(conn, req, 10_000)?;
        if ev["eventType"] == "Ended" || tx_id(&ev) != tx {
            return Ok(ev);
        }
        kit::info(format!("TransactionEvent {} (seqNo {}) sent again after the reconnect", ev["eventType"], ev["seqNo"]));
    }
    Err(kit::fail(req, format!("TransactionEvent Ended for {tx}"), "only repeated events of the transaction"))
}

pub(super) fn tx_id(ev: &Value) -> String {
    at(ev, "/transactionInfo/transactionId").as_str().unwrap_or_default().to_string()
}

pub(super) fn authorize(conn: &Connection, req: &str, status: &str) -> Step<Value> {
    kit::expect_and_reply(conn, req, "Authorize", 10_000, json!({"idTokenInfo": {"status": status}}))
}

pub(super) fn set_variable(conn: &Connection, req: &str, component: &str, variable: &str, value: &str) -> Step<Value> {
    let r = kit::call(
        conn,
        req,
        "SetVariables",
        json!({"setVariableData": [{"component": {"name": component}, "variable": {"name": variable}, "attributeValue": value}]}),
        10_000,
    )?;
    Ok(at(&r, "/setVariableResult/0").clone())
}

pub(super) fn configure(conn: &Connection, req: &str, component: &str, variable: &str, value: &str) -> Step {
    let r = set_variable(conn, req, component, variable, value)?;
    let status = r["attributeStatus"].as_str().unwrap_or_default();
    if matches!(status, "UnknownComponent" | "UnknownVariable") {
        let name = format!("{component}.{variable}");
        // Part 2's appendix says which variables a station must have; the others are its choice.
        return Err(if REQUIRED_VARIABLES.contains(&name.as_str()) {
            kit::fail("part 2 appendix (Required: yes)", format!("the required variable {name}"), format!("SetVariables answered {status}"))
        } else {
            Verdict::Skip(format!("the station does not have {name} ({status}), which part 2 leaves optional and this case needs"))
        });
    }
    kit::check(status == "Accepted", req, format!("{component}.{variable} = {value} to be Accepted (prerequisite)"), || r.to_string())
        .map_err(|_| Verdict::Inconclusive(format!("the station did not accept {component}.{variable} = {value}: {r}")))
}

/// Variables cases set that part 2's appendix marks "Required: yes" (for a station with the
/// functional block): missing, they fail the case rather than make it skip.
const REQUIRED_VARIABLES: [&str; 12] = [
    "TxCtrlr.EVConnectionTimeOut",
    "TxCtrlr.TxStartPoint",
    "TxCtrlr.TxStopPoint",
    "TxCtrlr.StopTxOnInvalidId",
    "TxCtrlr.StopTxOnEVSideDisconnect",
    "OCPPCommCtrlr.OfflineThreshold",
    "OCPPCommCtrlr.MessageAttempts",
    "OCPPCommCtrlr.MessageAttemptInterval",
    "SampledDataCtrlr.TxUpdatedInterval",
    "SampledDataCtrlr.TxUpdatedMeasurands",
    "AlignedDataCtrlr.Interval",
    "AuthCtrlr.AuthorizeRemoteStart",
];

/// Part 6's configuration state or prerequisite `component.variable = value`: a station that
/// does not take it does not meet the case's prerequisite (a skip with its answer), unlike
/// `configure`'s settings, which every station must take.
pub(super) fn prerequisite(conn: &Connection, req: &str, component: &str, variable: &str, value: &str) -> Step {
    let r = set_variable(conn, req, component, variable, value)?;
    if r["attributeStatus"] == "Accepted" {
        return Ok(());
    }
    Err(Verdict::Skip(format!("the station does not take {component}.{variable} = {value} ({}): part 6's prerequisite of this case", r["attributeStatus"])))
}

/// Boot, plug the cable in and authorize the valid token: a transaction with a driver, its
/// events as the station's TxStartPoint has them (part 6 EVConnectedPreSession, Authorized).
/// Preparation: a station that does not get there leaves the case inconclusive; the cases
/// about starting a transaction check it themselves.
pub(super) fn local_tx() -> Step<(Connection, String)> {
    local_tx_checked("").setup("reusable states EVConnectedPreSession, Authorized")
}

fn local_tx_checked(req: &str) -> Step<(Connection, String)> {
    let conn = booted(300)?;
    conn.claim(&[TX.into(), "Authorize".into()]);
    let start = TxStart::configured();
    kit::plug_in(kit::evse_id())?;
    let at_cable = start.after_step(&conn, req, (false, false), (true, false), "CablePluggedIn")?;
    kit::present_token(&kit::valid_token())?;
    authorize(&conn, req, "Accepted")?;
    let at_token = start.after_step(&conn, req, (true, false), (true, true), "Authorized")?;
    let Some(started) = at_cable.as_ref().or(at_token.as_ref()) else {
        return Err(start.none_with("a cable and a token"));
    };
    if let (Some(first), Some(then)) = (&at_cable, &at_token) {
        kit::check(tx_id(then) == tx_id(first), req, "the token to join the transaction the cable started", || format!("{} then {}", tx_id(first), tx_id(then)))?;
    }
    Ok((conn, tx_id(started)))
}

/// How a station reports a connector's availability: StatusNotification, or NotifyEvent of
/// the Connector's AvailabilityState (part 2 G01; part 6's Booted and Unavailable states
/// accept either). A case that watches availability claims both.
pub(super) const REPORTS: [&str; 2] = ["StatusNotification", "NotifyEvent"];

/// The connector statuses a report carries: (evse, connector, status); a NotifyEvent may
/// carry several, or none (events about other variables). A Connector component without a
/// connectorId speaks for every connector of its EVSE (None).
fn statuses_in(action: &str, p: &Value) -> Vec<(u64, Option<u64>, String)> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    if action == "StatusNotification" {
        return vec![(p["evseId"].as_u64().unwrap_or(0), p["connectorId"].as_u64(), text(&p["connectorStatus"]))];
    }
    let events = p["eventData"].as_array().map(Vec::as_slice).unwrap_or_default();
    events
        .iter()
        .filter(|d| at(d, "/variable/name") == "AvailabilityState" && at(d, "/component/name") == "Connector")
        .map(|d| (at(d, "/component/evse/id").as_u64().unwrap_or(0), at(d, "/component/evse/connectorId").as_u64(), text(&d["actualValue"])))
        .collect()
}

/// The next status the connector under test reports within `ms`, by either message; reports
/// about other connectors and other events are answered and passed over. None if none came.
pub(super) fn next_report(conn: &Connection, req: &str, ms: u32) -> Step<Option<String>> {
    next_report_noting(conn, req, ms, &mut vec![])
}

/// `next_report`, noting the reports about other connectors in `others` ("EVSE e connector c
/// status"): a failure names them.
pub(super) fn next_report_noting(conn: &Connection, req: &str, ms: u32, others: &mut Vec<String>) -> Step<Option<String>> {
    let (evse, connector) = (u64::from(kit::evse_id()), u64::from(kit::connector_id()));
    let deadline = clock::now_ms() + u64::from(ms);
    while clock::now_ms() < deadline {
        for action in REPORTS {
            let Ok(call) = kit::expect(conn, req, action, 150) else { continue };
            kit::reply(conn, req, &call, action, json!({}))?;
            for (e, c, status) in statuses_in(action, &call.payload) {
                if e == evse && c.is_none_or(|c| c == connector) {
                    return Ok(Some(status));
                }
                others.push(format!("EVSE {e} connector {} {status}", c.map_or("?".to_string(), |c| c.to_string())));
            }
        }
    }
    Ok(None)
}

/// The connector under test reports `expected` within 10 s. Other statuses on the way (a
/// report from before, the baseline making it Available again) are passed over; the failure
/// names them.
pub(super) fn connector_is(conn: &Connection, req: &str, expected: &str) -> Step {
    let deadline = clock::now_ms() + 10_000;
    let (mut seen, mut others) = (vec![], vec![]);
    loop {
        let left = deadline.saturating_sub(clock::now_ms()) as u32;
        match next_report_noting(conn, req, left, &mut others)? {
            Some(s) if s == expected => return Ok(()),
            Some(s) => seen.push(s),
            None => return Err(not_reported(req, expected, &seen, &others)),
        }
    }
}

/// The failure of a wait for the connector under test to report `expected`: what it reported
/// instead (`seen`), and what other connectors did.
pub(super) fn not_reported(req: &str, expected: &str, seen: &[String], others: &[String]) -> Verdict {
    let what = format!("EVSE {} connector {} reported {expected} (StatusNotification or NotifyEvent AvailabilityState)", kit::evse_id(), kit::connector_id());
    let mut observed = if seen.is_empty() { "no report about it within 10 s".to_string() } else { format!("it reported only {} within 10 s", seen.join(", ")) };
    if !others.is_empty() {
        observed += &format!("; about others: {}", others.join(", "));
    }
    kit::fail(req, what, observed)
}

/// No availability report about the connector under test within `ms`.
pub(super) fn no_report(conn: &Connection, req: &str, ms: u32, why: &str) -> Step {
    match next_report(conn, req, ms)? {
        None => Ok(()),
        Some(s) => Err(kit::fail(req, format!("no change of the connector's status {why}"), format!("it reported {s}"))),
    }
}

pub(super) fn reconnected(req: &str, claim: &[&str]) -> Step<Connection> {
    kit::accept_station(req, 15_000, claim)
}

/// After a reset: the old connection goes, a new one boots with reason RemoteReset.
fn rebooted_by_reset(conn: &Connection, req: &str) -> Step<Connection> {
    rebooted_for(conn, req, &["RemoteReset"])
}

/// The station back after a reset, booting with one of `reasons`; the connection it is back on.
fn rebooted_for(conn: &Connection, req: &str, reasons: &[&str]) -> Step<Connection> {
    rebooted_claiming(conn, req, reasons, &[])
}

/// `rebooted_for`, the case also taking the CALLs of `claim` on the new connection from its
/// first message on (a case that watches the statuses after the boot).
pub(super) fn rebooted_claiming(conn: &Connection, req: &str, reasons: &[&str], claim: &[&str]) -> Step<Connection> {
    let _ = conn.expect_close(15_000);
    let claims: Vec<&str> = ["BootNotification", "SecurityEventNotification"].into_iter().chain(claim.iter().copied()).collect();
    let again = reconnected(req, &claims)?;
    let boot = kit::expect_and_reply(&again, req, "BootNotification", 10_000, json!({"currentTime": now(), "interval": 300, "status": "Accepted"}))?;
    kit::check(reasons.iter().any(|r| at(&boot, "/reason") == *r), req, format!("boot reason {} after a reset by the CSMS", reasons.join(" or ")), || {
        format!("reason {}", at(&boot, "/reason"))
    })?;
    Ok(again)
}

/// After a boot, the critical security event it is (part 2 appendix: StartupOfTheDevice, or
/// ResetOrReboot), which the station must send (A04.FR.01); part 6 checks it after a reboot.
/// The caller claimed SecurityEventNotification before the boot.
pub(super) fn startup_event(conn: &Connection) -> Step {
    let ev = kit::expect_and_reply(conn, "A04.FR.01", "SecurityEventNotification", 10_000, json!({}))?;
    let kind = at(&ev, "/type");
    kit::check(kind == "StartupOfTheDevice" || kind == "ResetOrReboot", "A04.FR.01", "a SecurityEventNotification StartupOfTheDevice or ResetOrReboot after the boot", || format!("type {kind}"))
}

// ---- B: provisioning ----

/// TC_B_07_CS (part 6): configuration state OfflineThreshold = 300 and offline local
/// authorization on, both read in one request.
fn tc_b_07() -> Step {
    let conn = booted(300)?;
    configure(&conn, "B06", OFFLINE_THRESHOLD.0, OFFLINE_THRESHOLD.1, "300")?;
    configure(&conn, "B06", LOCAL_AUTHORIZE_OFFLINE.0, LOCAL_AUTHORIZE_OFFLINE.1, "true")?;
    read_back(&conn, &[(OFFLINE_THRESHOLD, "300"), (LOCAL_AUTHORIZE_OFFLINE, "true")])
}

/// TC_B_10_CS (part 6): OfflineThreshold and offline local authorization set in one request.
fn tc_b_10() -> Step {
    let conn = booted(300)?;
    set_all(&conn, &[(OFFLINE_THRESHOLD, "300"), (LOCAL_AUTHORIZE_OFFLINE, "true")])
}

/// TC_B_11_CS (part 6 table 32): five values — the configured OfflineThreshold, that plus
/// ".1", `true`, the current time, "abc" — each set to OfflineThreshold (an integer) and, where
/// the station has them, SmartChargingCtrlr.LimitChangeSignificance (decimal),
/// AuthCtrlr.AuthorizeRemoteStart (boolean, where writable) and
/// ClockCtrlr.NextTimeOffsetTransitionDateTime (dateTime). A value not of the variable's type
/// SHALL be Rejected (B05.FR.07); one of its type may still be Rejected for its range or as
/// read-only (B05.FR.08/09), so only OfflineThreshold's own value must be Accepted. Each
/// result names the variable asked for (B05.FR.02) with attributeType Actual (B05.FR.12).
fn tc_b_11() -> Step {
    let conn = booted(300)?;
    let (c, v) = OFFLINE_THRESHOLD;
    let configured = get_variable(&conn, "B06", c, v)?;
    let configured = configured["attributeValue"].as_str().unwrap_or_default().to_string();
    let values = [configured.clone(), format!("{configured}.1"), "true".into(), now(), "abc".into()];
    // (component, variable, data type, whether every station has it)
    let variables = [
        (c, v, "integer", true),
        ("SmartChargingCtrlr", "LimitChangeSignificance", "decimal", false),
        ("AuthCtrlr", "AuthorizeRemoteStart", "boolean", false),
        ("ClockCtrlr", "NextTimeOffsetTransitionDateTime", "dateTime", false),
    ];
    let mut absent: Vec<&str> = vec![];
    for value in &values {
        for (component, variable, data_type, required) in variables {
            if absent.contains(&variable) {
                continue;
            }
            let r = set_variable(&conn, "B05.FR.07", component, variable, value)?;
            let status = r["attributeStatus"].as_str().unwrap_or_default();
            if !required && matches!(status, "UnknownComponent" | "UnknownVariable") {
                absent.push(variable); // part 6: those steps only where the station has it
                continue;
            }
            let name = format!("{component}.{variable}");
            kit::check(r["component"]["name"] == component && r["variable"]["name"] == variable, "B05.FR.02", format!("a result for {name}"), || r.to_string())?;
            kit::check(r["attributeType"] == "Actual", "B05.FR.12", format!("{name} with attributeType Actual (none was sent)"), || r.to_string())?;
            if !of_type(value, data_type) {
                kit::check(status == "Rejected", "B05.FR.07", format!("{name} = {value:?} (not a {data_type}) Rejected"), || r.to_string())?;
            } else if required && *value == configured {
                kit::check(status == "Accepted", "B05.FR.10", format!("{name} = {value} (its own value) Accepted"), || r.to_string())?;
            }
        }
    }
    let after = get_variable(&conn, "B05.FR.07", c, v)?;
    kit::check(after["attributeValue"] == configured.as_str(), "B05.FR.07", format!("{c}.{v} still {configured}"), || after.to_string())
}

/// Whether `value` is of the device model's `data_type` (part 2 appendix: decimal, integer,
/// boolean, dateTime as RFC 3339).
fn of_type(value: &str, data_type: &str) -> bool {
    match data_type {
        "integer" => value.parse::<i64>().is_ok(),
        "decimal" => value.parse::<f64>().is_ok_and(f64::is_finite),
        "boolean" => value == "true" || value == "false",
        "dateTime" => kit::epoch_ms(value).is_some(),
        _ => true,
    }
}

fn tc_b_12() -> Step {
    base_report("ConfigurationInventory")
}

fn tc_b_13() -> Step {
    base_report("FullInventory")
}

fn tc_b_14() -> Step {
    base_report("SummaryInventory")
}

fn base_report(base: &str) -> Step {
    let conn = booted(300)?;
    let report = kit::PagedReport { request: "GetBaseReport", notify: "NotifyReport", items: "reportData", answered: "B07", part: "B07", same_request: "B07", numbered: Some("B07") };
    let (status, _) = kit::paged_report(&conn, &report, json!({"reportBase": base}))?;
    kit::check(status == "Accepted", "B07", "GetBaseReport status Accepted", || format!("status {status}"))
}

fn tc_b_21() -> Step {
    let (conn, tx) = local_tx()?;
    let r = kit::call(&conn, "B12", "Reset", json!({"type": "OnIdle"}), 10_000)?;
    kit::check(r["status"] == "Scheduled", "B12", "Reset OnIdle during a transaction Scheduled", || r.to_string())?;
    kit::expect_silence(&conn, "B12", "BootNotification", 1_000, "while the transaction goes on")?;
    kit::unplug(kit::evse_id())?;
    let ev = expect_ended(&conn, "B12", "EVCommunicationLost", "EVDisconnected")?;
    kit::check(tx_id(&ev) == tx, "B12", format!("transaction {tx} ended"), || tx_id(&ev))?;
    // Part 6 wants ScheduledReset; part 2 leaves RemoteReset as fitting for a reset the CSMS
    // asked for and the station scheduled.
    let again = rebooted_for(&conn, "B12", &["ScheduledReset", "RemoteReset"])?;
    startup_event(&again)
}

fn tc_b_22() -> Step {
    let (conn, tx) = local_tx()?;
    let r = kit::call(&conn, "B12", "Reset", json!({"type": "Immediate"}), 10_000)?;
    kit::check(r["status"] == "Accepted", "B12", "Reset Immediate Accepted", || r.to_string())?;
    let ev = expect_ended(&conn, "B12", "ResetCommand", "ImmediateReset")?;
    kit::check(tx_id(&ev) == tx, "B12", format!("transaction {tx} ended"), || tx_id(&ev))?;
    rebooted_by_reset(&conn, "B12").map(|_| ())
}

fn tc_b_33() -> Step {
    let conn = booted(300)?;
    let r = get_variable(&conn, "B06", "OCPPCommCtrlr", "NoSuchVariableXyz")?;
    kit::check(r["attributeStatus"] == "UnknownVariable", "B06", "attributeStatus UnknownVariable", || r.to_string())
}

fn tc_b_35() -> Step {
    let conn = booted(300)?;
    // Part 6 TC_B_35_CS: a known variable's name on an unknown component.
    let r = set_variable(&conn, "B05.FR.04", "NoSuchComponentXyz", "OfflineThreshold", "300")?;
    kit::check(r["attributeStatus"] == "UnknownComponent", "B05.FR.04", "attributeStatus UnknownComponent", || r.to_string())
}

fn tc_b_36() -> Step {
    let conn = booted(300)?;
    let r = set_variable(&conn, "B05", "OCPPCommCtrlr", "NoSuchVariableXyz", "10")?;
    kit::check(r["attributeStatus"] == "UnknownVariable", "B05", "attributeStatus UnknownVariable", || r.to_string())
}

fn tc_b_39() -> Step {
    let conn = booted(300)?;
    // Which variable is read-only is the DUT's business; its description may say.
    let target = config::parameter("read-only-variable").unwrap_or_else(|| "ChargingStation.AvailabilityState".into());
    let (c, v) = target.split_once('.').unwrap_or((&target, ""));
    let r = set_variable(&conn, "B05", c, v, "x")?;
    kit::check(r["attributeStatus"] == "Rejected", "B05", format!("attributeStatus Rejected for the read-only {target}"), || r.to_string())
}

fn tc_b_57() -> Step {
    let conn = booted(300)?;
    kit::network(false)?;
    let _ = conn.expect_close(10_000);
    kit::network(true)?;
    let again = reconnected("B04", &["BootNotification"])?;
    kit::expect_silence(&again, "B04", "BootNotification", 1_500, "after a reconnect without a reboot")?;
    let r = kit::call(&again, "B04", "TriggerMessage", json!({"requestedMessage": "Heartbeat"}), 10_000)?;
    kit::check(r["status"] == "Accepted", "B04", "the reconnected station to answer requests", || r.to_string())
}

// ---- C, D: authorization and the local list ----

fn tc_c_02() -> Step {
    let conn = booted(300)?;
    conn.claim(&[TX.into(), "Authorize".into()]);
    let token = config::invalid_id_token();
    kit::present_token(&token)?;
    let asked = authorize(&conn, "C01", "Invalid")?;
    // Part 6 step 1: the Authorize names the token presented, of its type.
    kit::check(at(&asked, "/idToken/idToken") == token.as_str() && at(&asked, "/idToken/type") == kit::token_type().as_str(), "C01", format!("an Authorize for the presented token {token} ({})", kit::token_type()), || {
        asked["idToken"].to_string()
    })?;
    kit::expect_silence(&conn, "C01", TX, 1_500, "for a token the CSMS reported Invalid")
}

fn tc_c_08() -> Step {
    let conn = booted(300)?;
    configure(&conn, "C10", "AuthCtrlr", "LocalPreAuthorize", "true")?;
    conn.claim(&[TX.into(), "Authorize".into()]);
    let token = kit::valid_token();
    let start = TxStart::configured();
    cache_token(&conn, "C10", &token)?;
    // Second use: the cache answers, so the transaction starts without asking.
    kit::present_token(&token)?;
    let ev = match start.after_step(&conn, "C10", (false, false), (false, true), "Authorized")? {
        Some(ev) => ev,
        None => {
            kit::plug_in(kit::evse_id())?;
            start.after_step(&conn, "C10", (false, true), (true, true), "CablePluggedIn")?.ok_or_else(|| start.none_with("a token and a cable"))?
        }
    };
    kit::check(at(&ev, "/idToken/idToken") == token.as_str(), "C10", format!("idToken {token}"), || ev["idToken"].to_string())?;
    kit::expect_silence(&conn, "C10", "Authorize", 500, "for a token the cache holds as Accepted")
}

/// First use of `token` after an emptied cache: asked online, and the answer goes into the
/// cache (C10.FR.04). A station whose transaction does not start at the token alone gets the
/// cable too; the transaction is stopped and the cable taken out again.
pub(super) fn cache_token(conn: &Connection, req: &str, token: &str) -> Step {
    // An empty cache first, whatever earlier cases put in it.
    let r = kit::call(conn, "C11", "ClearCache", json!({}), 10_000)?;
    kit::check(r["status"] == "Accepted", "C11", "ClearCache Accepted (preparation)", || r.to_string())
        .map_err(|_| Verdict::Inconclusive(format!("the station did not clear its cache: {r}")))?;
    let start = TxStart::configured();
    kit::present_token(token)?;
    authorize(conn, req, "Accepted")?;
    let cable = match start.after_step(conn, req, (false, false), (false, true), "Authorized")? {
        Some(_) => false,
        None => {
            kit::plug_in(kit::evse_id())?;
            start.after_step(conn, req, (false, true), (true, true), "CablePluggedIn")?;
            true
        }
    };
    kit::present_token(token)?;
    stop_authorized(conn, req, false, cable)?;
    if cable {
        kit::unplug(kit::evse_id())?;
    }
    Ok(())
}

/// Part 6 TC_C_37_CS: the cache is cleared, so the token it held is asked for again. The
/// token is put in the cache first, with LocalPreAuthorize on, so that a cache left as it was
/// would start the transaction without asking (TC_C_08_CS's preparation).
fn tc_c_37() -> Step {
    let conn = booted(300)?;
    configure(&conn, "C10", "AuthCtrlr", "LocalPreAuthorize", "true")?;
    conn.claim(&[TX.into(), "Authorize".into()]);
    let token = kit::valid_token();
    cache_token(&conn, "C10", &token)?;
    let r = kit::call(&conn, "C11.FR.02", "ClearCache", json!({}), 10_000)?;
    kit::check(r["status"] == "Accepted", "C11.FR.02", "ClearCache status Accepted", || r.to_string())?;
    // EVConnectedPreSession, then the token the cache held.
    let start = TxStart::configured();
    kit::plug_in(kit::evse_id())?;
    start.after_step(&conn, "C11", (false, false), (true, false), "CablePluggedIn")?;
    kit::present_token(&token)?;
    // The cache was cleared: the station must ask.
    let asked = kit::expect(&conn, "C11.FR.03", "Authorize", 10_000)?;
    kit::check(at(&asked.payload, "/idToken/idToken") == token.as_str(), "C11.FR.03", format!("Authorize for {token}"), || asked.payload["idToken"].to_string())?;
    kit::reply(&conn, "C11.FR.03", &asked, "Authorize", json!({"idTokenInfo": {"status": "Accepted"}}))?;
    start.after_step(&conn, "C11", (true, false), (true, true), "Authorized")?;
    Ok(())
}

// ---- E: transactions ----

pub(crate) fn tc_e_03() -> Step {
    // The start itself is this case's claim (E02), not preparation.
    let (conn, _) = local_tx_checked("E02")?;
    kit::pilot(kit::evse_id(), PilotState::C)?;
    let ev = expect_event(&conn, "E02", "Updated", "ChargingStateChanged")?;
    let state = at(&ev, "/transactionInfo/chargingState");
    kit::check(state == "Charging", "E02", "chargingState Charging once the EV draws energy", || format!("chargingState {state}"))
}

/// Token first, then the cable: the transaction starts where TxStartPoint says (at the token
/// with Authorized in it), and the cable joins it.
fn tc_e_04() -> Step {
    let conn = booted(300)?;
    conn.claim(&[TX.into(), "Authorize".into()]);
    let start = TxStart::configured();
    kit::present_token(&kit::valid_token())?;
    authorize(&conn, "E03", "Accepted")?;
    let at_token = start.after_step(&conn, "E03", (false, false), (false, true), "Authorized")?;
    kit::plug_in(kit::evse_id())?;
    let at_cable = start.after_step(&conn, "E03", (false, true), (true, true), "CablePluggedIn")?;
    match (&at_token, &at_cable) {
        (Some(first), Some(then)) => kit::check(tx_id(then) == tx_id(first), "E03", "the cable event in the same transaction", || format!("{} then {}", tx_id(first), tx_id(then))),
        _ => Ok(()),
    }
}

fn tc_e_05() -> Step {
    let conn = booted(300)?;
    configure(&conn, "E03", "TxCtrlr", "EVConnectionTimeOut", "2")?;
    conn.claim(&[TX.into(), "Authorize".into()]);
    kit::present_token(&kit::valid_token())?;
    authorize(&conn, "E03", "Accepted")?;
    let start = TxStart::configured();
    if start.after_step(&conn, "E03", (false, false), (false, true), "Authorized")?.is_none() {
        // No transaction before the EV: the authorization lapses with nothing to end.
        let quiet = 2_000 + kit::config::lab_timing().tolerance_ms;
        return kit::mandated("EVConnectionTimeOut", || kit::expect_silence(&conn, "E03", TX, quiet, &format!("with TxStartPoint {}, which starts no transaction at the token", start.0)));
    }
    let t0 = clock::now_ms();
    // Part 6 TC_E_05_CS step 1: Ended (stoppedReason Timeout) when the station's TxStopPoint
    // contains Authorized — the authorization that lapsed was a stop point — else Updated.
    let stop_points = config::parameter("TxCtrlr.TxStopPoint").unwrap_or_else(|| "EVConnected,Authorized".into());
    if lists(&stop_points, "Authorized") {
        kit::mandated("EVConnectionTimeOut", || expect_ended(&conn, "E03", "EVConnectTimeout", "Timeout"))?;
    } else {
        // Ending it anyway is what E03.FR.05 recommends (a SHOULD, for any TxStopPoint
        // without ParkingBayOccupancy): no reason to fail a station.
        let ev = kit::mandated("EVConnectionTimeOut", || next_tx_event(&conn, "E03", 10_000))?;
        kit::check(
            ev["triggerReason"] == "EVConnectTimeout" && (ev["eventType"] == "Updated" || ev["eventType"] == "Ended" && at(&ev, "/transactionInfo/stoppedReason") == "Timeout"),
            "E03",
            format!("TransactionEvent Updated with triggerReason EVConnectTimeout (TxStopPoint {stop_points}), or Ended with stoppedReason Timeout (E03.FR.05)"),
            || format!("TransactionEvent {} with triggerReason {}, transactionInfo {}", ev["eventType"], ev["triggerReason"], ev["transactionInfo"]),
        )?;
    }
    let waited = clock::now_ms() - t0;
    kit::check(waited >= 1_500, "E03", "the transaction kept for the 2 s EVConnectionTimeOut", || format!("it ended after {waited} ms"))
}

fn tc_e_06() -> Step {
    let (conn, tx) = local_tx()?;
    kit::present_token(&kit::valid_token())?;
    let ev = stop_authorized(&conn, "E07", false, true)?;
    kit::check(tx_id(&ev) == tx, "E07", format!("transaction {tx} ended"), || tx_id(&ev))
}

fn tc_e_20() -> Step {
    // Reusable state EnergyTransferStarted, then the cable goes.
    let (conn, tx) = kit::reach_station(kit::StationState::EnergyTransferStarted, kit::evse_id(), &[TX])?;
    kit::unplug(kit::evse_id())?;
    let ev = expect_ended(&conn, "E10", "EVCommunicationLost", "EVDisconnected")?;
    let tx = tx.unwrap_or_default();
    kit::check(tx_id(&ev) == tx, "E10", format!("transaction {tx} ended"), || tx_id(&ev))
}

fn oh_e_50() -> Step {
    let (conn, tx) = local_tx()?;
    conn.claim(&REPORTS.map(String::from));
    kit::ev_fault(kit::evse_id(), kit::CircuitFault::RcdTrip)?;
    let ev = expect_ended(&conn, "E06", "AbnormalCondition", "GroundFault")?;
    kit::check(tx_id(&ev) == tx, "E06", format!("transaction {tx} ended"), || tx_id(&ev))?;
    connector_is(&conn, "G01", "Faulted")?;
    kit::ev_fault(kit::evse_id(), kit::CircuitFault::Cleared)?;
    // The cable is still in.
    connector_is(&conn, "G01", "Occupied")
}

fn oh_e_51() -> Step {
    let conn = booted(300)?;
    conn.claim(&REPORTS.map(String::from));
    kit::ev_fault(kit::evse_id(), kit::CircuitFault::DiodeFault)?;
    connector_is(&conn, "G01", "Faulted")?;
    kit::ev_fault(kit::evse_id(), kit::CircuitFault::Cleared)?;
    connector_is(&conn, "G01", "Available")
}

fn tc_e_28() -> Step {
    let conn = booted(300)?;
    let r = kit::call(&conn, "E14", "GetTransactionStatus", json!({"transactionId": "no-such-transaction"}), 10_000)?;
    kit::check(r["ongoingIndicator"] == false, "E14", "ongoingIndicator false for an unknown transaction", || r.to_string())?;
    kit::check(r["messagesInQueue"] == false, "E14", "messagesInQueue false", || r.to_string())
}

fn tc_e_30() -> Step {
    let (conn, tx) = local_tx()?;
    let r = kit::call(&conn, "E14", "GetTransactionStatus", json!({"transactionId": tx}), 10_000)?;
    kit::check(r["ongoingIndicator"] == true, "E14", "ongoingIndicator true for the ongoing transaction", || r.to_string())?;
    kit::check(r["messagesInQueue"] == false, "E14", "messagesInQueue false: every message was answered", || r.to_string())
}

fn tc_e_40() -> Step {
    let (conn, tx) = local_tx()?;
    kit::network(false)?;
    let _ = conn.expect_close(10_000);
    kit::unplug(kit::evse_id())?;
    kit::network(true)?;
    let again = reconnected("E12", &[TX])?;
    let ev = ended_after_reconnect(&again, "E12", &tx)?;
    kit::check(
        ev["eventType"] == "Ended" && ev["triggerReason"] == "EVCommunicationLost",
        "E12",
        "TransactionEvent Ended with triggerReason EVCommunicationLost",
        || ev.to_string(),
    )?;
    let reason = at(&ev, "/transactionInfo/stoppedReason");
    kit::check(reason == "EVDisconnected", "E12", "stoppedReason EVDisconnected", || format!("stoppedReason {reason}"))?;
    kit::check(tx_id(&ev) == tx, "E12", format!("transaction {tx} ended"), || tx_id(&ev))?;
    kit::check(ev["offline"] == true, "E12", "offline true: the event happened while offline", || format!("offline {}", ev["offline"]))
}

fn oh_e_01() -> Step {
    let (conn, tx) = local_tx()?;
    kit::power_cycle()?;
    let _ = conn.expect_close(10_000);
    let again = reconnected("B01", &["BootNotification", TX])?;
    let boot =
        kit::expect_and_reply(&again, "B01", "BootNotification", 10_000, json!({"currentTime": now(), "interval": 300, "status": "Accepted"}))?;
    kit::check(at(&boot, "/reason") == "PowerUp", "B01", "boot reason PowerUp after a power cycle", || format!("reason {}", at(&boot, "/reason")))?;
    let ev = ended_after_reconnect(&again, "E06", &tx)?;
    kit::check(ev["eventType"] == "Ended" && tx_id(&ev) == tx, "E06", format!("TransactionEvent Ended for {tx}"), || ev.to_string())?;
    let reason = at(&ev, "/transactionInfo/stoppedReason");
    kit::check(reason == "PowerLoss", "E06", "stoppedReason PowerLoss", || format!("stoppedReason {reason}"))
}

// ---- F: remote control ----

/// TC_F_01_CS: the cable first (EVConnectedPreSession), then the remote start: it joins the
/// transaction the cable started, or starts one, as TxStartPoint has it.
fn tc_f_01() -> Step {
    let conn = booted(300)?;
    conn.claim(&[TX.into()]);
    let start = TxStart::configured();
    kit::plug_in(kit::evse_id())?;
    let at_cable = start.after_step(&conn, "F01", (false, false), (true, false), "CablePluggedIn")?;
    let req = json!({"idToken": {"idToken": kit::valid_token(), "type": "ISO14443"}, "remoteStartId": 77, "evseId": kit::evse_id()});
    let r = kit::call(&conn, "F01", "RequestStartTransaction", req, 10_000)?;
    kit::check(r["status"] == "Accepted", "F01", "RequestStartTransaction Accepted", || r.to_string())?;
    if let Some(started) = &at_cable {
        kit::check(
            r["transactionId"] == tx_id(started).as_str(),
            "F01.FR.16",
            format!("transactionId {} of the transaction the cable started", tx_id(started)),
            || r.to_string(),
        )?;
    }
    let ev = start.after_step(&conn, "F01", (true, false), (true, true), "RemoteStart")?;
    let ev = ev.ok_or_else(|| start.none_with("a cable and a remote start"))?;
    kit::check(at(&ev, "/transactionInfo/remoteStartId") == 77, "F01", "remoteStartId 77", || ev["transactionInfo"].to_string())
}

/// TC_F_04_CS: part 6's configuration state wants TxStartPoint ParkingBayOccupancy or
/// Authorized (the transaction must start before the EV comes); a station that cannot be so
/// configured does not meet the case's prerequisite.
fn tc_f_04() -> Step {
    let conn = booted(300)?;
    if !TxStart::configured().started(false, true) {
        prerequisite(&conn, "F02", "TxCtrlr", "TxStartPoint", "Authorized")?;
    }
    configure(&conn, "F02", "TxCtrlr", "EVConnectionTimeOut", "2")?;
    conn.claim(&[TX.into()]);
    let req = json!({"idToken": {"idToken": kit::valid_token(), "type": "ISO14443"}, "remoteStartId": 78, "evseId": kit::evse_id()});
    let r = kit::call(&conn, "F02", "RequestStartTransaction", req, 10_000)?;
    kit::check(r["status"] == "Accepted", "F02", "RequestStartTransaction Accepted", || r.to_string())?;
    expect_event(&conn, "F02", "Started", "RemoteStart")?;
    kit::mandated("EVConnectionTimeOut", || expect_ended(&conn, "F02", "EVConnectTimeout", "Timeout")).map(|_| ())
}

fn tc_f_06() -> Step {
    let conn = booted(300)?;
    let r = kit::call_optional(&conn, "F05", "UnlockConnector", json!({"evseId": kit::evse_id(), "connectorId": kit::connector_id()}), LOCK)?;
    kit::check(r["status"] == "Unlocked", "F05", "UnlockConnector status Unlocked", || r.to_string())
}

fn tc_f_09() -> Step {
    let conn = booted(300)?;
    let r = kit::call(&conn, "F03", "RequestStopTransaction", json!({"transactionId": "no-such-transaction"}), 10_000)?;
    kit::check(r["status"] == "Rejected", "F03", "RequestStopTransaction Rejected for an unknown transaction", || r.to_string())
}

fn tc_f_10() -> Step {
    let conn = booted(300)?;
    // Part 6 TC_F_10_CS: connector 999 of the EVSE under test, which has no such connector.
    let r = kit::call_optional(&conn, "F05.FR.03", "UnlockConnector", json!({"evseId": kit::evse_id(), "connectorId": 999}), LOCK)?;
    kit::check(r["status"] == "UnknownConnector", "F05.FR.03", format!("UnlockConnector status UnknownConnector for connector 999 of EVSE {}", kit::evse_id()), || r.to_string())
}

fn tc_f_11() -> Step {
    let conn = booted(300)?;
    conn.claim(&["MeterValues".into()]);
    triggered(&conn, "F06", json!({"requestedMessage": "MeterValues", "evse": {"id": kit::evse_id()}}), "C-29.1")?;
    let m = kit::expect_and_reply(&conn, "F06", "MeterValues", 10_000, json!({}))?;
    kit::check(m["evseId"] == kit::evse_id(), "F06", format!("MeterValues for EVSE {}", kit::evse_id()), || format!("evseId {}", m["evseId"]))
}

/// TriggerMessage for `payload` must be Accepted. A station that answers NotImplemented
/// lacks the optional trigger (part 5 `pics`, e.g. C-29.1 for MeterValues; F06.FR.08): the
/// case's prerequisite is unmet, a skip with the reason, not a failure.
pub(super) fn triggered(conn: &Connection, req: &str, payload: Value, pics: &str) -> Step {
    let message = payload["requestedMessage"].as_str().unwrap_or_default().to_string();
    let r = kit::call(conn, req, "TriggerMessage", payload, 10_000)?;
    if r["status"] == "NotImplemented" {
        return Err(Verdict::Skip(format!(
            "the station answers TriggerMessage {message} NotImplemented: it does not support part 5 {pics}, this case's condition"
        )));
    }
    kit::check(r["status"] == "Accepted", req, format!("TriggerMessage {message} Accepted"), || r.to_string())
}

fn tc_f_20() -> Step {
    let conn = booted(300)?;
    conn.claim(&["Heartbeat".into()]);
    let r = kit::call(&conn, "F06", "TriggerMessage", json!({"requestedMessage": "Heartbeat"}), 10_000)?;
    kit::check(r["status"] == "Accepted", "F06", "TriggerMessage Heartbeat Accepted", || r.to_string())?;
    kit::expect_and_reply(&conn, "F06", "Heartbeat", 5_000, json!({"currentTime": now()})).map(|_| ())
}

fn tc_f_23() -> Step {
    let conn = booted(300)?;
    conn.claim(&REPORTS.map(String::from));
    status_triggered(&conn, "Available")
}

/// TriggerMessage StatusNotification for the connector under test (C-29.5): it reports
/// `expected`.
fn status_triggered(conn: &Connection, expected: &str) -> Step {
    let connector = json!({"id": kit::evse_id(), "connectorId": kit::connector_id()});
    triggered(conn, "F06", json!({"requestedMessage": "StatusNotification", "evse": connector}), "C-29.5")?;
    connector_is(conn, "F06", expected)
}

// ---- G: availability ----

fn tc_g_01() -> Step {
    let conn = booted(300)?;
    conn.claim(&REPORTS.map(String::from));
    kit::plug_in(kit::evse_id())?;
    connector_is(&conn, "G01", "Occupied")
}

fn tc_g_02() -> Step {
    let conn = booted(300)?;
    conn.claim(&REPORTS.map(String::from));
    kit::plug_in(kit::evse_id())?;
    connector_is(&conn, "G01", "Occupied")?;
    kit::unplug(kit::evse_id())?;
    connector_is(&conn, "G01", "Available")
}

fn change_availability(conn: &Connection, req: &str, status: &str, expected: &str) -> Step {
    let r = kit::call(conn, req, "ChangeAvailability", json!({"operationalStatus": status, "evse": {"id": kit::evse_id()}}), 10_000)?;
    kit::check(r["status"] == expected, req, format!("ChangeAvailability {status} answered {expected}"), || r.to_string())
}

fn tc_g_03() -> Step {
    let conn = booted(300)?;
    conn.claim(&REPORTS.map(String::from));
    change_availability(&conn, "G03", "Inoperative", "Accepted")?;
    connector_is(&conn, "G03", "Unavailable")
}

fn tc_g_04() -> Step {
    let conn = booted(300)?;
    conn.claim(&REPORTS.map(String::from));
    change_availability(&conn, "G03", "Inoperative", "Accepted")?;
    connector_is(&conn, "G03", "Unavailable")?;
    change_availability(&conn, "G03", "Operative", "Accepted")?;
    connector_is(&conn, "G03", "Available")
}

fn tc_g_11() -> Step {
    let (conn, _) = local_tx()?;
    conn.claim(&REPORTS.map(String::from));
    change_availability(&conn, "G03", "Inoperative", "Scheduled")?;
    no_report(&conn, "G03", 1_000, "while the transaction goes on")?;
    kit::unplug(kit::evse_id())?;
    expect_event(&conn, "G03", "Ended", "EVCommunicationLost")?;
    connector_is(&conn, "G03", "Unavailable")
}

// ---- J, P ----

fn tc_j_09() -> Step {
    let (conn, _) = local_tx()?;
    configure(&conn, "J02", "SampledDataCtrlr", "TxUpdatedInterval", "1")?;
    kit::pilot(kit::evse_id(), PilotState::C)?;
    expect_event(&conn, "J02", "Updated", "ChargingStateChanged")?;
    let energy = |ev: &Value| -> Option<f64> {
        let sv = at(ev, "/meterValue/0/sampledValue/0");
        (sv["measurand"] == "Energy.Active.Import.Register").then(|| sv["value"].as_f64()).flatten()
    };
    let (first, second) = kit::mandated("TxUpdatedInterval", || -> Step<(Value, Value)> {
        Ok((expect_event(&conn, "J02", "Updated", "MeterValuePeriodic")?, expect_event(&conn, "J02", "Updated", "MeterValuePeriodic")?))
    })?;
    let (Some(a), Some(b)) = (energy(&first), energy(&second)) else {
        return Err(kit::fail(
            "J02",
            "an Energy.Active.Import.Register sample in each periodic event",
            format!("{} / {}", first["meterValue"], second["meterValue"]),
        ));
    };
    kit::check(b >= a, "J02", "an energy register that does not decrease", || format!("{a} Wh then {b} Wh"))
}

fn oh_p_01() -> Step {
    let conn = booted(300)?;
    let r = kit::call(&conn, "P01", "DataTransfer", json!({"vendorId": "org.example.nobody", "messageId": "ping"}), 10_000)?;
    kit::check(r["status"] == "UnknownVendorId", "P01", "DataTransfer status UnknownVendorId", || r.to_string())
}

fn tc_c_04() -> Step {
    let (conn, _) = local_tx()?;
    let other = kit::second_valid_token();
    kit::present_token(&other)?;
    authorize(&conn, "C01", "Accepted")?;
    kit::expect_silence(&conn, "E07", TX, 1_500, &format!("for {other}, which did not start the transaction"))
}

/// TC_F_02/03_CS (part 6): reusable state Authorized by a remote start, then
/// EnergyTransferStarted (the cable follows). Part 6 sets AuthorizeRemoteStart only where it
/// is writable: a station that keeps the other value does not meet the case's prerequisite.
fn remote_start_first(authorize_remote: bool) -> Step {
    let conn = booted(300)?;
    prerequisite(&conn, "F02", "AuthCtrlr", "AuthorizeRemoteStart", if authorize_remote { "true" } else { "false" })?;
    conn.claim(&[TX.into(), "Authorize".into()]);
    let start = TxStart::configured();
    let token = kit::valid_token();
    let r = kit::call(
        &conn,
        "F02",
        "RequestStartTransaction",
        json!({"idToken": {"idToken": token, "type": "ISO14443"}, "remoteStartId": 55, "evseId": kit::evse_id()}),
        10_000,
    )?;
    kit::check(r["status"] == "Accepted", "F02", "RequestStartTransaction Accepted", || r.to_string())?;
    if authorize_remote {
        let a = authorize(&conn, "F02", "Accepted")?;
        kit::check(at(&a, "/idToken/idToken") == token.as_str(), "F02", format!("Authorize for {token}"), || a.to_string())?;
    }
    let at_remote = start.after_step(&conn, "F02", (false, false), (false, true), "RemoteStart")?;
    kit::plug_in(kit::evse_id())?;
    let at_cable = start.after_step(&conn, "F02", (false, true), (true, true), "CablePluggedIn")?;
    let Some(started) = at_remote.as_ref().or(at_cable.as_ref()) else {
        return Err(start.none_with("a remote start and a cable"));
    };
    kit::check(at(started, "/transactionInfo/remoteStartId") == 55, "F02.FR.01", "remoteStartId 55 in the Started event", || started["transactionInfo"].to_string())?;
    if !authorize_remote {
        kit::expect_silence(&conn, "F02", "Authorize", 500, "with AuthorizeRemoteStart false")?;
    }
    Ok(())
}

fn tc_f_02() -> Step {
    remote_start_first(true)
}

fn tc_f_03() -> Step {
    remote_start_first(false)
}

fn tc_f_05() -> Step {
    let (conn, _) = local_tx()?;
    let r = kit::call_optional(&conn, "F05", "UnlockConnector", json!({"evseId": kit::evse_id(), "connectorId": kit::connector_id()}), LOCK)?;
    kit::check(r["status"] == "OngoingAuthorizedTransaction", "F05", "UnlockConnector OngoingAuthorizedTransaction", || r.to_string())
}

/// TC_F_13_CS: during a transaction (started by the cable, or by cable and token as
/// TxStartPoint has it), TriggerMessage TransactionEvent reports it.
fn tc_f_13() -> Step {
    let conn = booted(300)?;
    conn.claim(&[TX.into(), "Authorize".into()]);
    let start = TxStart::configured();
    kit::plug_in(kit::evse_id())?;
    let started = match start.after_step(&conn, "F06", (false, false), (true, false), "CablePluggedIn")? {
        Some(ev) => ev,
        None => {
            kit::present_token(&kit::valid_token())?;
            authorize(&conn, "F06", "Accepted")?;
            start.after_step(&conn, "F06", (true, false), (true, true), "Authorized")?.ok_or_else(|| start.none_with("a cable and a token"))?
        }
    };
    triggered(&conn, "F06", json!({"requestedMessage": "TransactionEvent", "evse": {"id": kit::evse_id()}}), "C-29.2")?;
    let ev = expect_event(&conn, "F06", "Updated", "Trigger")?;
    kit::check(tx_id(&ev) == tx_id(&started), "F06", "the ongoing transaction reported", || format!("{} vs {}", tx_id(&ev), tx_id(&started)))
}

fn tc_f_24() -> Step {
    let conn = booted(300)?;
    conn.claim(&REPORTS.map(String::from));
    kit::plug_in(kit::evse_id())?;
    connector_is(&conn, "G01", "Occupied")?;
    status_triggered(&conn, "Occupied")
}

fn tc_g_05() -> Step {
    let conn = booted(300)?;
    conn.claim(&REPORTS.map(String::from));
    let r = kit::call(&conn, "G04", "ChangeAvailability", json!({"operationalStatus": "Inoperative"}), 10_000)?;
    kit::check(r["status"] == "Accepted", "G04", "ChangeAvailability Accepted for an idle station", || r.to_string())?;
    connector_is(&conn, "G04", "Unavailable")
}

fn oh_rpc_03() -> Step {
    let req = "OCPP-J 4.1.1";
    let conn = booted(300)?;
    conn.claim(&["Heartbeat".into(), "StatusNotification".into(), "NotifyEvent".into()]);
    let r = kit::call(&conn, req, "TriggerMessage", json!({"requestedMessage": "Heartbeat"}), 10_000)?;
    kit::check(r["status"] == "Accepted", req, "TriggerMessage Heartbeat Accepted", || r.to_string())?;
    // Hold the Heartbeat unanswered: nothing else may come meanwhile.
    let hb = kit::expect(&conn, req, "Heartbeat", 5_000)?;
    // Give the station a reason to send: a second trigger, sent raw (a CALL of ours in
    // flight would make the host answer a crossing CALL, see wit/README.md).
    let trigger = json!([2, "oh-rpc-03", "TriggerMessage", {"requestedMessage": "StatusNotification", "evse": {"id": kit::evse_id(), "connectorId": kit::connector_id()}}]);
    let answer = kit::raw_exchange(&conn, req, &trigger.to_string(), 10_000)?;
    kit::check(answer[0] == 3 && at(&answer, "/2/status") == "Accepted", req, "TriggerMessage StatusNotification Accepted", || answer.to_string())?;
    kit::expect_silence(&conn, req, "StatusNotification", 1_500, "while the station's Heartbeat is unanswered")?;
    kit::reply(&conn, req, &hb, "Heartbeat", json!({"currentTime": now()}))?;
    connector_is(&conn, req, "Available")
}

fn oh_rpc_04() -> Step {
    let req = "OCPP-J 4.1.3";
    let conn = booted(300)?;
    let id = "oh-rpc-04-0123456789-abcdefghijklmno";
    debug_assert_eq!(id.len(), 36);
    // A variable every station has (part 2 appendix, Required: yes): the subject is the id.
    let call =
        json!([2, id, "GetVariables", {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}}]}]);
    let answer = kit::raw_exchange(&conn, req, &call.to_string(), 10_000)?;
    kit::check(answer[0] == 3, req, "a CALLRESULT", || answer.to_string())?;
    kit::check(answer[1] == id, req, format!("message id {id:?}"), || format!("message id {}", answer[1]))?;
    let status = at(&answer, "/2/getVariableResult/0/attributeStatus");
    kit::check(status == "Accepted", req, "the variable read (Accepted)", || answer.to_string())
}

fn oh_rpc_05() -> Step {
    let req = "OCPP-J 4.2.3";
    let conn = booted(300)?;
    let answer = kit::raw_exchange(&conn, req, r#"[2,"oh-rpc-05","Reset",{"type":"Sometimes"}]"#, 10_000)?;
    kit::check(answer[0] == 4 && answer[1] == "oh-rpc-05", req, "a CALLERROR with the CALL's message id", || answer.to_string())?;
    let code = answer[2].as_str().unwrap_or_default();
    let allowed = ["FormatViolation", "PropertyConstraintViolation", "OccurrenceConstraintViolation", "TypeConstraintViolation"];
    kit::check(allowed.contains(&code), req, format!("one of {allowed:?}"), || format!("error code {code}"))
}

fn tc_f_15() -> Step {
    let conn = booted(300)?;
    conn.claim(&["LogStatusNotification".into()]);
    triggered(&conn, "F06", json!({"requestedMessage": "LogStatusNotification"}), "C-29.3")?;
    let n = kit::expect_and_reply(&conn, "N01", "LogStatusNotification", 10_000, json!({}))?;
    kit::check(n["status"] == "Idle", "N01", "status Idle: no upload is going on", || n.to_string())
}

fn tc_n_25() -> Step {
    let conn = booted(300)?;
    conn.claim(&["LogStatusNotification".into()]);
    let req = json!({"logType": "DiagnosticsLog", "requestId": 25, "log": {"remoteLocation": diagnostics::location("log-location", "ftp://logs.example/upload")}});
    let r = kit::call(&conn, "N01", "GetLog", req, 10_000)?;
    kit::check(r["status"] == "Accepted", "N01", "GetLog Accepted", || r.to_string())?;
    kit::check(r["filename"].as_str().is_some_and(|f| !f.is_empty()), "N01", "the name of the file it uploads", || r.to_string())?;
    for status in ["Uploading", "Uploaded"] {
        let n = kit::expect_and_reply(&conn, "N01", "LogStatusNotification", 10_000, json!({}))?;
        kit::check(n["status"] == status && n["requestId"] == 25, "N01", format!("LogStatusNotification {status} for request 25"), || n.to_string())?;
    }
    Ok(())
}

fn tc_n_27() -> Step {
    let conn = booted(300)?;
    conn.claim(&["NotifyCustomerInformation".into()]);
    let req = json!({"requestId": 27, "report": true, "clear": false, "customerIdentifier": "customer-42"});
    let r = kit::call(&conn, "N09", "CustomerInformation", req, 10_000)?;
    kit::check(r["status"] == "Accepted", "N09", "CustomerInformation Accepted", || r.to_string())?;
    let n = kit::expect_and_reply(&conn, "N09", "NotifyCustomerInformation", 10_000, json!({}))?;
    kit::check(n["requestId"] == 27 && n["tbc"] != true, "N09", "one NotifyCustomerInformation for request 27, the last one (tbc false)", || {
        n.to_string()
    })
}

fn oh_j_01() -> Step {
    // How far the station's register may be from the bench meter, from the DUT description.
    let tolerance: f64 = config::parameter("meter-tolerance-wh").and_then(|t| t.parse().ok()).unwrap_or(10.0);
    let (conn, tx) = local_tx()?;
    kit::pilot(kit::evse_id(), PilotState::C)?;
    expect_event(&conn, "J02", "Updated", "ChargingStateChanged")?;
    clock::sleep_ms(1_500);
    kit::unplug(kit::evse_id())?;
    let ev = expect_ended(&conn, "E10", "EVCommunicationLost", "EVDisconnected")?;
    kit::check(tx_id(&ev) == tx, "E10", format!("transaction {tx} ended"), || tx_id(&ev))?;
    let sample = at(&ev, "/meterValue/0/sampledValue/0");
    let Some(reported) = sample["value"].as_f64().filter(|_| sample["measurand"] == "Energy.Active.Import.Register") else {
        return Err(kit::fail("J02", "the energy register in the Ended event", ev["meterValue"].to_string()));
    };
    let measured = kit::meter_read("energy-import")?;
    kit::check(
        (reported - measured).abs() <= tolerance,
        "J02",
        format!("the reported energy within {tolerance} Wh of the bench meter ({measured:.1} Wh)"),
        || format!("{reported:.1} Wh"),
    )
}
