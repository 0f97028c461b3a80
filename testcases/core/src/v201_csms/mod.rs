//! Cases where the harness is a charging station and the DUT is a CSMS.
use serde_json::{Value, json};

use crate::{
    Case,
    kit::{self, *},
};

mod authorization;
mod local_list;
mod monitoring;
mod display_message;
mod iso15118;
mod plug_and_charge;
mod reservation;
mod smart_charging;
mod station_certificate;

const STATION: Role = Role::ChargingStation;

pub(crate) fn cases() -> Vec<Case> {
    let mut cases = vec![
        Case {
            id: "TC_B_01_CSMS",
            title: "Cold boot: the CSMS accepts a station's BootNotification with a usable interval",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B01"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_b_01,
        },
        Case {
            id: "OH_G_01_CSMS",
            title: "The CSMS answers a Heartbeat with its current time",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["G02"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_g_01,
        },
        Case {
            id: "OH_C_01_CSMS",
            title: "Authorize of a known token is Accepted",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["C01"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_c_01,
        },
        Case {
            id: "OH_C_02_CSMS",
            title: "Authorize of an unknown token is not Accepted",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["C01"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_c_02,
        },
        Case {
            id: "OH_E_01_CSMS",
            title: "The CSMS accepts a transaction's Started and Ended events",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E01", "E06"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_e_01,
        },
        Case {
            id: "OH_RPC_01_CSMS",
            title: "A frame that is not JSON is answered with a CALLERROR naming a format problem",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["OCPP-J 4.3"],
            needs: &[],
            timeout_ms: 20_000,
            run: crate::rpc_csms::not_json,
        },
        Case {
            id: "OH_RPC_02_CSMS",
            title: "A BootNotification that breaks its schema is answered with a CALLERROR",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["OCPP-J 4.2.3"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_rpc_02,
        },
        Case {
            id: "TC_B_06_CSMS",
            title: "The CSMS can ask for one variable with GetVariables",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B06"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_b_06,
        },
        Case {
            id: "TC_B_07_CSMS",
            title: "The CSMS can ask for several variables in one GetVariables",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B06"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_b_07,
        },
        Case {
            id: "TC_B_09_CSMS",
            title: "The CSMS can set one variable with SetVariables",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B05"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_b_09,
        },
        Case {
            id: "TC_B_10_CSMS",
            title: "The CSMS can set several variables in one SetVariables",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B05"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_b_10,
        },
        Case {
            id: "TC_A_19_CSMS",
            title: "Upgrade Charging Station Security Profile - Accepted: the CSMS moves the station one profile up and refuses it below from then on",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["A05.FR.04", "A05.FR.07"],
            needs: &["csms-trigger"],
            timeout_ms: 40_000,
            run: tc_a_19,
        },
        Case {
            id: "TC_B_42_CSMS",
            title: "Set new NetworkConnectionProfile - Accepted: the CSMS sends the profile its operator set",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B09.FR.01"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_b_42,
        },
        Case {
            id: "TC_B_44_CSMS",
            title: "Set new NetworkConnectionProfile - Failed: the CSMS stays in step",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B09.FR.03"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_b_44,
        },
        Case {
            id: "TC_B_12_CSMS",
            title: "The CSMS asks for the ConfigurationInventory and takes every NotifyReport part",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B07"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_b_12,
        },
        Case {
            id: "TC_B_14_CSMS",
            title: "The CSMS asks for the SummaryInventory and takes every NotifyReport part",
            role: STATION,
            versions: V201,
            profile: "advanced-device-management",
            features: &[],
            requirements: &["B07", "B07.FR.09"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_b_14,
        },
        Case {
            id: "TC_B_13_CSMS",
            title: "The CSMS asks for the FullInventory and takes every NotifyReport part",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B07"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_b_13,
        },
        Case {
            id: "TC_B_20_CSMS",
            title: "Reset OnIdle without a transaction: the CSMS accepts the station's reboot",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B11", "B11.FR.04"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_b_20,
        },
        Case {
            id: "TC_B_21_CSMS",
            title: "Reset OnIdle during a transaction: Scheduled, then the transaction ends and the station reboots",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B12", "B12.FR.01", "B12.FR.03", "E07.FR.03"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_b_21,
        },
        Case {
            id: "TC_B_22_CSMS",
            title: "Reset Immediate during a transaction: the CSMS takes the ImmediateReset end and the reboot",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["B12"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_b_22,
        },
        Case {
            id: "TC_B_25_CSMS",
            title: "The CSMS can reset a single EVSE",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &["reset-per-evse"],
            requirements: &["B11"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_b_25,
        },
        Case {
            id: "TC_C_02_CSMS",
            title: "An Authorize of a token the CSMS does not know is Invalid or Unknown",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["C01.FR.07", "C04.FR.01", "C06.FR.04"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_c_02,
        },
        Case {
            id: "TC_C_08_CSMS",
            title: "Authorization through authorization cache - Accepted: a cached token authorizing a started session is Accepted",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["C12.FR.03"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_c_08,
        },
        Case {
            id: "TC_C_20_CSMS",
            title: "Authorization through authorization cache - Invalid: an unknown token authorizing a started session is Invalid or Unknown",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["C12.FR.03"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_c_20,
        },
        Case {
            id: "TC_C_37_CSMS",
            title: "The CSMS can clear the station's authorization cache",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["C11"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_c_37,
        },
        Case {
            id: "TC_C_38_CSMS",
            title: "A Rejected ClearCache leaves the CSMS in step with the station",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["C11"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_c_38,
        },
        Case {
            id: "TC_E_01_CSMS",
            title: "Start transaction options - PowerPathClosed: the CSMS takes a transaction that starts SuspendedEVSE",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E01.FR.05"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_01,
        },
        Case {
            id: "TC_E_02_CSMS",
            title: "Start transaction options - EnergyTransfer: the CSMS takes a transaction that starts Charging",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E01.FR.06"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_02,
        },
        Case {
            id: "TC_E_10_CSMS",
            title: "Start transaction options - Authorized - Local: Authorize, then a transaction started by the authorization",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E01.FR.03"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_10,
        },
        Case {
            id: "TC_E_11_CSMS",
            title: "Start transaction options - DataSigned: a transaction started with a signed meter value",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E01.FR.04"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_11,
        },
        Case {
            id: "TC_E_12_CSMS",
            title: "Start transaction options - ParkingBayOccupied: a transaction started by EVDetected",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E01.FR.01"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_12,
        },
        Case {
            id: "TC_E_15_CSMS",
            title: "Stop transaction options - StopAuthorized - Local: the CSMS takes the Ended event",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E06.FR.03"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_15,
        },
        Case {
            id: "TC_E_17_CSMS",
            title: "Stop transaction options - Deauthorized - EV side disconnect: the CSMS takes the Ended event",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E06.FR.04"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_17,
        },
        Case {
            id: "TC_E_19_CSMS",
            title: "Stop transaction options - ParkingBayUnoccupied: the CSMS takes the end when the EV leaves the bay",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E06.FR.01"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_19,
        },
        Case {
            id: "TC_E_22_CSMS",
            title: "Stop transaction options - EnergyTransfer stopped - SuspendedEV: the CSMS takes the end",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E06.FR.07"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_22,
        },
        Case {
            id: "TC_E_39_CSMS",
            title: "Stop transaction options - Deauthorized - timeout: no cable after the authorization ends the transaction",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E03.FR.04", "E03.FR.05", "E06.FR.04"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_39,
        },
        Case {
            id: "TC_E_38_CSMS",
            title: "Local start transaction - EV not ready: the CSMS takes SuspendedEV after the cable",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E03"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_38,
        },
        Case {
            id: "TC_E_08_CSMS",
            title: "Stop transaction options - EnergyTransfer stopped - StopAuthorized",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E06.FR.07"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_08,
        },
        Case {
            id: "TC_E_20_CSMS",
            title: "Stop transaction options - EVDisconnected - EV side (IEC 61851-1 EV)",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E06.FR.02"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_20,
        },
        Case {
            id: "TC_E_26_CSMS",
            title: "Disconnect cable on EV-side - Suspend transaction: the cable comes back and charging resumes",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E10.FR.01"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_26,
        },
        Case {
            id: "TC_E_03_CSMS",
            title: "Cable first, then token: the CSMS accepts the events and authorizes the token",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E02"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_03,
        },
        Case {
            id: "TC_E_04_CSMS",
            title: "Token first, then cable: the CSMS authorizes and accepts the events",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E03"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_04,
        },
        Case {
            id: "TC_E_07_CSMS",
            title: "A transaction stopped locally (StopAuthorized) is accepted",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E07", "E06.FR.06"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_07,
        },
        Case {
            id: "TC_E_09_CSMS",
            title: "The connector Occupied, then a transaction Started by the cable alone (EVConnected), accepted",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E01.FR.02"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_09,
        },
        Case {
            id: "TC_E_14_CSMS",
            title: "A transaction ended by an EVSE-side disconnect is accepted",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E10", "E06.FR.02"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_14,
        },
        Case {
            id: "TC_E_16_CSMS",
            title: "A transaction Started with a token the CSMS does not know gets Invalid or Unknown, and its Deauthorized end is answered",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E01.FR.11", "E01.FR.12", "E06.FR.04"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_16,
        },
        Case {
            id: "TC_E_21_CSMS",
            title: "The CSMS can stop a transaction remotely and accepts its end",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F03", "E06.FR.03"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_e_21,
        },
        Case {
            id: "TC_E_30_CSMS",
            title: "The CSMS can ask for the status of a transaction",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E14"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_e_30,
        },
        Case {
            id: "TC_E_34_CSMS",
            title: "The CSMS can ask whether transaction messages are queued, without a transaction id",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E14"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_e_34,
        },
        Case {
            id: "TC_E_53_CSMS",
            title: "The CSMS accepts seqNo 0 at the start of every transaction",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E01"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_e_53,
        },
        Case {
            id: "TC_F_01_CSMS",
            title: "Remote start on an EVSE whose cable started a transaction: the CSMS accepts the RemoteStart event",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F01"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_f_01,
        },
        Case {
            id: "TC_F_02_CSMS",
            title: "Remote start transaction - Remote start first - authorizeRemoteStart is true: Authorize, then the RemoteStart event",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F02.FR.01", "F01.FR.01"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_f_02,
        },
        Case {
            id: "TC_F_03_CSMS",
            title: "Remote start first: the CSMS sends RequestStartTransaction and accepts the started transaction",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F02", "F01.FR.02"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_f_03,
        },
        Case {
            id: "TC_F_04_CSMS",
            title: "Remote start transaction - Remote start first - Cable plugin timeout",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["E03.FR.04", "E03.FR.05"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_f_04,
        },
        Case {
            id: "TC_F_06_CSMS",
            title: "The CSMS can unlock a connector",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F05"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_f_06,
        },
        Case {
            id: "TC_F_11_CSMS",
            title: "The CSMS can trigger MeterValues for an EVSE and accepts them",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F06"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_f_11,
        },
        Case {
            id: "TC_F_20_CSMS",
            title: "The CSMS can trigger a Heartbeat and answers it",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F06"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_f_20,
        },
        Case {
            id: "TC_F_23_CSMS",
            title: "The CSMS can trigger a StatusNotification for an EVSE and accepts it",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F06"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_f_23,
        },
        Case {
            id: "TC_F_27_CSMS",
            title: "A trigger answered NotImplemented leaves the CSMS in step",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["F06"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_f_27,
        },
        Case {
            id: "TC_G_03_CSMS",
            title: "The CSMS can make an EVSE inoperative and accepts the Unavailable status",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["G03"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_g_03,
        },
        Case {
            id: "TC_G_04_CSMS",
            title: "The CSMS can make an EVSE operative again",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["G03"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_g_04,
        },
        Case {
            id: "TC_G_05_CSMS",
            title: "The CSMS can make the whole station inoperative",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["G04"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_g_05,
        },
        Case {
            id: "TC_G_06_CSMS",
            title: "Change Availability Charging Station - Inoperative to operative",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["G04"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_g_06,
        },
        Case {
            id: "TC_G_07_CSMS",
            title: "Change Availability Connector - Operative to inoperative",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["G03"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_g_07,
        },
        Case {
            id: "TC_G_08_CSMS",
            title: "Change Availability Connector - Inoperative to operative",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["G03"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_g_08,
        },
        Case {
            id: "TC_G_11_CSMS",
            title: "ChangeAvailability during a transaction answered Scheduled is followed through",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["G03"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_g_11,
        },
        Case {
            id: "TC_G_14_CSMS",
            title: "Change Availability Charging Station - With ongoing transaction: Scheduled, then Unavailable once it ends",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["G04"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_g_14,
        },
        Case {
            id: "TC_G_17_CSMS",
            title: "Change Availability Connector - With ongoing transaction: Scheduled, then Unavailable once it ends",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["G03"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_g_17,
        },
        Case {
            id: "TC_G_20_CSMS",
            title: "Connector status Notification - Lock Failure: the CSMS takes the ConnectorPlugRetentionLock problem",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["G05.FR.03"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_g_20,
        },
        Case {
            id: "TC_J_01_CSMS",
            title: "Clock-aligned MeterValues outside a transaction are accepted",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["J01"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_j_01,
        },
        Case {
            id: "TC_J_02_CSMS",
            title: "Clock-aligned Meter Values - Transaction ongoing: MeterValues for the idle EVSE 0 and MeterValueClock events",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["J01.FR.18"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_j_02,
        },
        Case {
            id: "TC_J_03_CSMS",
            title: "Clock-aligned Meter Values - EventType Ended: the CSMS takes the Ended event's clock-aligned values",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["J01.FR.18"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_j_03,
        },
        Case {
            id: "TC_J_04_CSMS",
            title: "Clock-aligned Meter Values - Signed: the CSMS takes signed clock-aligned values in the Ended event",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["J01.FR.21"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_j_04,
        },
        Case {
            id: "TC_J_07_CSMS",
            title: "Sampled Meter Values - EventType Started - EVSE known: Transaction.Begin in the Started event",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["J02.FR.19"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_j_07,
        },
        Case {
            id: "TC_J_08_CSMS",
            title: "Sampled Meter Values - Context Transaction.Begin - EVSE not known at the start",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["J02.FR.19"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_j_08,
        },
        Case {
            id: "TC_J_09_CSMS",
            title: "Sampled meter values in TransactionEvent Updated are accepted",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["J02"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_j_09,
        },
        Case {
            id: "TC_J_10_CSMS",
            title: "Meter values in TransactionEvent Ended are accepted",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["J02"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_j_10,
        },
        Case {
            id: "TC_J_11_CSMS",
            title: "Sampled Meter Values - Signed: the CSMS takes signed sampled values in the Ended event",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["J02.FR.21"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_j_11,
        },
        Case {
            id: "TC_P_02_CSMS",
            title: "DataTransfer with a vendor id the CSMS does not know is not Accepted",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["P02"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_p_02,
        },
        Case {
            id: "TC_P_03_CSMS",
            title: "CustomData - Receive custom data: the CSMS answers messages that carry customData",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["OCPP-J 9"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_p_03,
        },
        Case {
            id: "TC_L_01_CSMS",
            title: "Secure Firmware Update - Installation successful",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["L01.FR.01", "L01.FR.11", "L01.FR.15"],
            needs: &["csms-trigger"],
            timeout_ms: 30_000,
            run: tc_l_01,
        },
        Case {
            id: "TC_L_02_CSMS",
            title: "Secure Firmware Update - an installation scheduled for the operator's installDateTime",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["L01.FR.01", "L01.FR.11", "L01.FR.15"],
            needs: &["csms-trigger"],
            timeout_ms: 40_000,
            run: tc_l_02,
        },
        Case {
            id: "TC_L_04_CSMS",
            title: "Secure Firmware Update - RevokedCertificate",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["L01.FR.01"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_l_04,
        },
        Case {
            id: "TC_L_05_CSMS",
            title: "Secure Firmware Update - InvalidCertificate",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["L01.FR.01"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_l_05,
        },
        Case {
            id: "TC_L_06_CSMS",
            title: "Secure Firmware Update - InvalidSignature",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["L01.FR.01", "L01.FR.11"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_l_06,
        },
        Case {
            id: "TC_L_07_CSMS",
            title: "Secure Firmware Update - DownloadFailed",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["L01.FR.01", "L01.FR.11"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_l_07,
        },
        Case {
            id: "TC_L_08_CSMS",
            title: "Secure Firmware Update - InstallVerificationFailed",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["L01.FR.01", "L01.FR.11"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_l_08,
        },
        Case {
            id: "TC_L_09_CSMS",
            title: "Secure Firmware Update - InstallationFailed",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["L01.FR.01", "L01.FR.11"],
            needs: &["csms-trigger"],
            timeout_ms: 30_000,
            run: tc_l_09,
        },
        Case {
            id: "TC_L_10_CSMS",
            title: "Secure Firmware Update - AcceptedCanceled",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["L01.FR.01", "L01.FR.11", "L01.FR.24"],
            needs: &["csms-trigger"],
            timeout_ms: 30_000,
            run: tc_l_10,
        },
        Case {
            id: "TC_L_13_CSMS",
            title: "Secure Firmware Update - held while a transaction runs (AllowNewSessionsPendingFirmwareUpdate false)",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["L01.FR.01", "L01.FR.11"],
            needs: &["csms-trigger"],
            timeout_ms: 40_000,
            run: tc_l_13,
        },
        Case {
            id: "TC_L_11_CSMS",
            title: "Secure Firmware Update - Unable to cancel",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["L01.FR.01", "L01.FR.11", "L01.FR.27"],
            needs: &["csms-trigger"],
            timeout_ms: 30_000,
            run: tc_l_11,
        },
        Case {
            id: "TC_M_01_CSMS",
            title: "Install CA certificate - CSMSRootCertificate",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["M05.FR.01"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_m_01,
        },
        Case {
            id: "TC_M_02_CSMS",
            title: "Install CA certificate - ManufacturerRootCertificate",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["M05.FR.01"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_m_02,
        },
        Case {
            id: "TC_M_05_CSMS",
            title: "Install CA certificate - Failed: the CSMS stays in step",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["M05.FR.01", "M05.FR.03"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_m_05,
        },
        Case {
            id: "TC_M_13_CSMS",
            title: "Retrieve certificates from Charging Station - ManufacturerRootCertificate",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["M03.FR.01"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_m_13,
        },
        Case {
            id: "TC_M_18_CSMS",
            title: "Retrieve certificates from Charging Station - All certificateTypes",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["M03.FR.01"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_m_18,
        },
        Case {
            id: "TC_M_19_CSMS",
            title: "Retrieve certificates from Charging Station - No matching certificate found",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["M03.FR.01", "M03.FR.02"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_m_19,
        },
        Case {
            id: "TC_M_20_CSMS",
            title: "Delete a certificate from a Charging Station - Success",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["M04.FR.01", "M04.FR.07"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_m_20,
        },
        Case {
            id: "TC_M_21_CSMS",
            title: "Delete a certificate from a Charging Station - Failed",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["M04.FR.01", "M04.FR.07"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_m_21,
        },
        Case {
            id: "TC_N_25_CSMS",
            title: "The CSMS can ask for the diagnostics log and accepts the upload status notifications",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["N01"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_n_25,
        },
        Case {
            id: "TC_N_28_CSMS",
            title: "Get Customer Information - Accepted + no data",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["N09.FR.01", "N09.FR.04"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_n_28,
        },
        Case {
            id: "TC_N_29_CSMS",
            title: "Get Customer Information - Not Accepted",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["N09.FR.01", "N09.FR.04"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_n_29,
        },
        Case {
            id: "TC_N_30_CSMS",
            title: "Clear Customer Information - Clear and report + data",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["N10.FR.08"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_n_30,
        },
        Case {
            id: "TC_N_31_CSMS",
            title: "Clear Customer Information - Clear and report + no data",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["N10.FR.08"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_n_31,
        },
        Case {
            id: "TC_N_32_CSMS",
            title: "Clear Customer Information - Clear and no report",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["N10.FR.08"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_n_32,
        },
        Case {
            id: "TC_N_34_CSMS",
            title: "Retrieve Log Information - Rejected: the CSMS stays in step",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["N01"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_n_34,
        },
        Case {
            id: "TC_N_35_CSMS",
            title: "Retrieve Log Information - Security Log - Success",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["N01"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_n_35,
        },
        Case {
            id: "TC_N_36_CSMS",
            title: "Retrieve Log Information - Second Request: the first upload is canceled for the second",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["N01"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_n_36,
        },
        Case {
            id: "TC_N_27_CSMS",
            title: "The CSMS can ask for customer information and accepts the data",
            role: STATION,
            versions: V201,
            profile: "core",
            features: &[],
            requirements: &["N09"],
            needs: &["csms-trigger"],
            timeout_ms: 20_000,
            run: tc_n_27,
        },
    ];
    cases.extend(authorization::cases());
    cases.extend(reservation::cases());
    cases.extend(display_message::cases());
    cases.extend(monitoring::cases());
    cases.extend(smart_charging::cases());
    cases.extend(local_list::cases());
    cases.extend(station_certificate::cases());
    cases.extend(iso15118::cases());
    cases.extend(plug_and_charge::cases());
    cases
}

fn boot_payload() -> serde_json::Value {
    ocpp_case_sdk::msg::boot_notification(kit::OcppVersion::V201, "PowerUp")
}

/// The harness station, connected and registered (reusable state Booted).
/// A 2.0.1 case for a CSMS DUT that its operator drives (`csms-trigger`), with a 30 s limit.
fn operated_case(id: &'static str, title: &'static str, requirements: &'static [&'static str], run: fn() -> Step) -> Case {
    Case::new(id, title, STATION, V201, requirements, run).needs(&["csms-trigger"]).timeout_ms(30_000)
}

pub(crate) fn registered() -> Step<Connection> {
    kit::ready_csms("B01")
}

pub(crate) fn tc_b_01() -> Step {
    let conn = kit::connect_csms("B01")?;
    let r = kit::call(&conn, "B01", "BootNotification", boot_payload(), 10_000)?;
    kit::check(r["status"] == "Accepted", "B01", "registration status Accepted", || r.to_string())?;
    kit::check(r["interval"].as_i64().is_some_and(|i| i > 0), "B01", "a heartbeat interval above 0 s", || format!("interval {}", r["interval"]))?;
    let status = json!({"timestamp": now(), "connectorStatus": "Available", "evseId": 1, "connectorId": 1});
    kit::call(&conn, "B01", "StatusNotification", status, 10_000)?;
    Ok(())
}

fn oh_g_01() -> Step {
    let conn = registered()?;
    let r = kit::call(&conn, "G02", "Heartbeat", json!({}), 10_000)?;
    kit::check_clock("G02", "currentTime in the HeartbeatResponse", &r["currentTime"])
}

fn authorize(token: &str) -> Step<String> {
    let conn = registered()?;
    let r = kit::call(&conn, "C01", "Authorize", json!({"idToken": kit::id_token(token)}), 10_000)?;
    Ok(at(&r, "/idTokenInfo/status").as_str().unwrap_or_default().to_string())
}

fn oh_c_01() -> Step {
    let token = kit::valid_token();
    let status = authorize(&token)?;
    kit::check(status == "Accepted", "C01", format!("status Accepted for the known token {token}"), || format!("status {status}"))
}

fn oh_c_02() -> Step {
    let token = config::invalid_id_token();
    let status = authorize(&token)?;
    kit::check(status != "Accepted", "C01", format!("a status other than Accepted for the unknown token {token}"), || format!("status {status}"))
}

pub(crate) fn oh_e_01() -> Step {
    let conn = registered()?;
    let tx = new_tx_id("E01");
    let token = kit::valid_token();
    let started = json!({
        "eventType": "Started", "timestamp": now(), "triggerReason": "Authorized", "seqNo": 0,
        "transactionInfo": {"transactionId": tx, "chargingState": "Charging"},
        "evse": {"id": 1, "connectorId": 1}, "idToken": kit::id_token(&token)
    });
    let r = kit::call(&conn, "E01", "TransactionEvent", started, 10_000)?;
    if let Some(status) = at(&r, "/idTokenInfo/status").as_str() {
        kit::check(status == "Accepted", "E01", "the known token Accepted in the TransactionEvent answer", || format!("status {status}"))?;
    }
    let ended = json!({
        "eventType": "Ended", "timestamp": now(), "triggerReason": "StopAuthorized", "seqNo": 1,
        "transactionInfo": {"transactionId": tx, "stoppedReason": "Local"}
    });
    kit::call(&conn, "E06", "TransactionEvent", ended, 10_000)?;
    Ok(())
}

pub(crate) fn oh_rpc_02() -> Step {
    let conn = kit::connect_csms("OCPP-J 4.2.3")?;
    let answer = kit::raw_exchange(&conn, "OCPP-J 4.2.3", r#"[2,"oh-2","BootNotification",{"reason":"PowerUp"}]"#, 10_000)?;
    kit::check(answer[0] == 4 && answer[1] == "oh-2", "OCPP-J 4.2.3", "a CALLERROR with the CALL's message id", || answer.to_string())?;
    let code = answer[2].as_str().unwrap_or_default();
    let allowed = ["FormatViolation", "OccurrenceConstraintViolation", "ProtocolError", "TypeConstraintViolation"];
    kit::check(allowed.contains(&code), "OCPP-J 4.2.3", format!("one of {allowed:?}"), || format!("error code {code}"))
}

// ---- helpers for the cases below ----

const TX: &str = "TransactionEvent";

/// A transaction id no other case uses.
pub(crate) fn new_tx_id(tag: &str) -> String {
    kit::transaction_id(tag)
}

fn token_json(token: &str) -> Value {
    kit::id_token(token)
}

/// Send a TransactionEvent; `extra` fields are merged in (`transactionInfo` member-wise).
pub(crate) fn event(conn: &Connection, req: &str, event_type: &str, trigger: &str, seq: u64, tx: &str, extra: Value) -> Step<Value> {
    let mut p = json!({
        "eventType": event_type, "timestamp": now(), "triggerReason": trigger, "seqNo": seq,
        "transactionInfo": {"transactionId": tx}, "evse": {"id": 1, "connectorId": 1},
    });
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        if k == "transactionInfo" {
            for (ik, iv) in v.as_object().cloned().unwrap_or_default() {
                p["transactionInfo"][ik] = iv;
            }
        } else {
            p[k] = v;
        }
    }
    kit::call(conn, req, TX, p, 10_000)
}

/// An event carrying `token`; the CSMS must say what it thinks of the token.
pub(crate) fn event_with_token(
    conn: &Connection,
    req: &str,
    event_type: &str,
    trigger: &str,
    seq: u64,
    tx: &str,
    token: &str,
    mut extra: Value,
) -> Step<String> {
    extra["idToken"] = token_json(token);
    let r = event(conn, req, event_type, trigger, seq, tx, extra)?;
    let status = at(&r, "/idTokenInfo/status");
    kit::check(status.is_string(), req, format!("idTokenInfo for the token {token} in the TransactionEvent answer"), || r.to_string())?;
    Ok(status.as_str().unwrap_or_default().to_string())
}

fn status(conn: &Connection, req: &str, evse: u32, status: &str) -> Step {
    kit::call(conn, req, "StatusNotification", json!({"timestamp": now(), "connectorStatus": status, "evseId": evse, "connectorId": 1}), 10_000)
        .map(|_| ())
}

/// The connector reported Occupied, as preparation (part 6's EVConnectedPreSession): a CSMS
/// that does not take it leaves the case inconclusive.
pub(crate) fn occupied(conn: &Connection) -> Step {
    status(conn, "", 1, "Occupied").setup("the connector reported Occupied (EVConnectedPreSession)")
}

/// Have the CSMS send `action` (the operator's instructions are `hint`), take it, and answer it.
pub(super) fn triggered(conn: &Connection, req: &str, action: &str, hint: Value, reply: Value) -> Step<Value> {
    kit::csms_trigger(conn, action, hint)?;
    kit::expect_and_reply(conn, req, action, 15_000, reply)
}

/// Part 6's reusable state EnergyTransferStarted, as preparation: a started, authorized
/// transaction (transaction id, next seqNo). A CSMS that does not accept it leaves the case
/// inconclusive; the cases about starting a transaction check it themselves.
fn running(conn: &Connection) -> Step<(String, u64)> {
    let tx = new_tx_id("TX");
    started_by_valid_token(conn, &tx, json!({"transactionInfo": {"chargingState": "Charging"}}), "reusable state EnergyTransferStarted")?;
    Ok((tx, 1))
}

/// Transaction `tx` started at EVSE 1 by the valid token once the connector reported
/// Occupied, as preparation for `state`: a CSMS that does not accept it leaves the case
/// inconclusive. `extra` is merged into the Started event; an idToken in it (with
/// additionalInfo, say) is sent instead of the plain valid token.
pub(crate) fn started_by_valid_token(conn: &Connection, tx: &str, mut extra: Value, state: &str) -> Step {
    if extra.get("idToken").is_none() {
        extra["idToken"] = token_json(&kit::valid_token());
    }
    let start = || -> Step {
        occupied(conn)?;
        let r = event(conn, "", "Started", "Authorized", 0, tx, extra)?;
        let s = at(&r, "/idTokenInfo/status");
        kit::check(s == "Accepted", "", "the known token Accepted", || format!("status {s}"))
    };
    start().setup(state)
}

/// The CSMS still answers: a Heartbeat gets its CALLRESULT (`kit::call` fails otherwise).
fn still_in_step(conn: &Connection, req: &str) -> Step {
    kit::call(conn, req, "Heartbeat", json!({}), 10_000).map(|_| ())
}

fn sample(context: &str, wh: f64) -> Value {
    json!([{"timestamp": now(), "sampledValue": [{"value": wh, "context": context, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}}]}])
}

// ---- B ----

fn get_variables(n: usize) -> Step {
    let conn = registered()?;
    let vars = [("OCPPCommCtrlr", "HeartbeatInterval"), ("TxCtrlr", "EVConnectionTimeOut")];
    let data: Vec<Value> =
        vars[..n].iter().map(|(c, v)| json!({"component": {"name": c}, "variable": {"name": v}, "attributeType": "Actual"})).collect();
    kit::csms_trigger(&conn, "GetVariables", json!({"getVariableData": data}))?;
    let call = kit::expect(&conn, "B06", "GetVariables", 15_000)?;
    let asked = call.payload["getVariableData"].as_array().cloned().unwrap_or_default();
    kit::check(asked.len() == n, "B06", format!("{n} variable(s) asked for"), || call.payload.to_string())?;
    asked_as_operator("B06", &asked, &vars[..n].iter().map(|(c, v)| (*c, *v)).collect::<Vec<_>>())?;
    let results: Vec<Value> = asked
        .iter()
        .map(|d| json!({"attributeStatus": "Accepted", "attributeValue": "60", "component": d["component"], "variable": d["variable"]}))
        .collect();
    kit::reply(&conn, "B06", &call, "GetVariables", json!({"getVariableResult": results}))?;
    still_in_step(&conn, "B06")
}

/// The CSMS asks for exactly the variables the operator named, for their Actual value (an
/// absent attributeType means Actual).
fn asked_as_operator(req: &str, asked: &[Value], wanted: &[(&str, &str)]) -> Step {
    for (d, (component, variable)) in asked.iter().zip(wanted) {
        let named = d["component"]["name"] == *component && d["variable"]["name"] == *variable;
        kit::check(named, req, format!("{component}.{variable}, as the operator asked"), || d.to_string())?;
        let kind = d["attributeType"].as_str().unwrap_or("Actual");
        kit::check(kind == "Actual", req, format!("the Actual value of {component}.{variable}"), || format!("attributeType {kind}"))?;
    }
    Ok(())
}

/// The network profile the operator sets in TC_B_42/44_CSMS.
fn network_profile() -> Value {
    json!({"configurationSlot": 2, "connectionData": {
        "messageTimeout": 30, "ocppCsmsUrl": "wss://csms.example.org/ocpp", "ocppInterface": "Wired0",
        "ocppTransport": "JSON", "ocppVersion": "OCPP20", "securityProfile": 2
    }})
}

/// TC_B_42_CSMS (part 6 table 481): the request carries the slot and connection data the
/// operator set, over JSON and OCPP 2.0.
fn tc_b_42() -> Step {
    let req = "B09.FR.01";
    let conn = registered()?;
    let wanted = network_profile();
    let call = triggered(&conn, req, "SetNetworkProfile", wanted.clone(), json!({"status": "Accepted"}))?;
    kit::check(call["configurationSlot"] == wanted["configurationSlot"], req, "configurationSlot 2, as the operator set", || call.to_string())?;
    for field in ["messageTimeout", "ocppCsmsUrl", "ocppInterface", "ocppTransport", "ocppVersion", "securityProfile"] {
        let (got, want) = (&call["connectionData"][field], &wanted["connectionData"][field]);
        kit::check(got == want, req, format!("connectionData.{field} {want}"), || format!("{field} {got}"))?;
    }
    Ok(())
}

/// TC_A_19_CSMS (part 6): the operator has the CSMS set a connection profile one security
/// profile up (its URL for that profile: parameter `csms-url-profile-up`), put it first in
/// NetworkConfigurationPriority and reset the station; the station comes back there at that
/// profile and is registered, and is refused at the old profile from then on (A05.FR.07). The
/// move is for good: later cases of the run connect there.
fn tc_a_19() -> Step {
    let profile = kit::security_profiles(&[1, 2])?;
    let up = profile + 1;
    let Some(url) = kit::config::parameter("csms-url-profile-up") else {
        return Err(Verdict::Skip("no csms-url-profile-up parameter: the CSMS's URL for security profile one up".into()));
    };
    let conn = registered()?;
    let wanted = json!({"configurationSlot": 2, "connectionData": {
        "messageTimeout": 30, "ocppCsmsUrl": url, "ocppInterface": "Wired0", "ocppTransport": "JSON", "ocppVersion": "OCPP20", "securityProfile": up
    }});
    let call = triggered(&conn, "A05.FR.04", "SetNetworkProfile", wanted, json!({"status": "Accepted"}))?;
    let data = &call["connectionData"];
    for (field, want) in
        [("securityProfile", json!(up)), ("ocppCsmsUrl", json!(url)), ("ocppTransport", json!("JSON")), ("ocppVersion", json!("OCPP20"))]
    {
        kit::check(data[field] == want, "A05.FR.04", format!("connectionData.{field} {want}"), || format!("{field} {}", data[field]))?;
    }
    let slot = call["configurationSlot"].as_i64().unwrap_or(0);
    let priority = json!({"setVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "NetworkConfigurationPriority"}, "attributeValue": format!("{slot},1")}]});
    kit::csms_trigger(&conn, "SetVariables", priority)?;
    let set = kit::expect(&conn, "A05.FR.04", "SetVariables", 15_000)?;
    let data: Vec<Value> = set.payload["setVariableData"].as_array().cloned().unwrap_or_default();
    let results: Vec<Value> =
        data.iter().map(|d| json!({"attributeStatus": "Accepted", "component": d["component"], "variable": d["variable"]})).collect();
    kit::reply(&conn, "A05.FR.04", &set, "SetVariables", json!({"setVariableResult": results}))?;
    let names_slot = data.iter().any(|d| {
        d["variable"]["name"] == "NetworkConfigurationPriority"
            && d["attributeValue"].as_str().is_some_and(|v| v.split(',').any(|s| s.trim() == slot.to_string()))
    });
    kit::check(names_slot, "A05.FR.04", format!("NetworkConfigurationPriority with slot {slot}"), || set.payload.to_string())?;
    triggered(&conn, "A05.FR.04", "Reset", json!({"type": "OnIdle"}), json!({"status": "Accepted"}))?;
    conn.close();
    let raised = session::connect_csms_raised(&url, config::version(), &[]).map_err(|e| match e {
        SessionError::Usage(m) => Verdict::Skip(m),
        e => kit::fail(
            "A05.FR.04",
            format!("the CSMS to accept the station at security profile {up} on the connection profile it set"),
            format!("{e:?}"),
        ),
    })?;
    let r = kit::call(&raised, "A05.FR.04", "BootNotification", boot_payload(), 10_000)?;
    kit::check(r["status"] == "Accepted", "A05.FR.04", "registration status Accepted at the new profile", || r.to_string())?;
    raised.close();
    let lower = kit::connect_presenting(Credentials::Configured, Certificate::Configured)?;
    kit::expect_refused("A05.FR.07", &format!("the CSMS to refuse the station at security profile {profile} once it moved to {up}"), lower)
}

/// TC_B_44_CSMS (part 6 table 482): the station answers Failed; the CSMS goes on.
fn tc_b_44() -> Step {
    let conn = registered()?;
    triggered(&conn, "B09.FR.03", "SetNetworkProfile", network_profile(), json!({"status": "Failed"}))?;
    still_in_step(&conn, "B09.FR.03")
}

fn tc_b_06() -> Step {
    get_variables(1)
}

fn tc_b_07() -> Step {
    get_variables(2)
}

fn set_variables(n: usize) -> Step {
    let conn = registered()?;
    let vars = [("OCPPCommCtrlr", "HeartbeatInterval", "120"), ("TxCtrlr", "EVConnectionTimeOut", "45")];
    let data: Vec<Value> = vars[..n]
        .iter()
        .map(|(c, v, val)| json!({"component": {"name": c}, "variable": {"name": v}, "attributeValue": val, "attributeType": "Actual"}))
        .collect();
    kit::csms_trigger(&conn, "SetVariables", json!({"setVariableData": data}))?;
    let call = kit::expect(&conn, "B05", "SetVariables", 15_000)?;
    let asked = call.payload["setVariableData"].as_array().cloned().unwrap_or_default();
    kit::check(asked.len() == n, "B05", format!("{n} variable(s) to set"), || call.payload.to_string())?;
    asked_as_operator("B05", &asked, &vars[..n].iter().map(|(c, v, _)| (*c, *v)).collect::<Vec<_>>())?;
    for (d, (_, _, val)) in asked.iter().zip(&vars[..n]) {
        kit::check(d["attributeValue"] == *val, "B05", format!("the value {val} the operator set"), || d.to_string())?;
    }
    let results: Vec<Value> =
        asked.iter().map(|d| json!({"attributeStatus": "Accepted", "component": d["component"], "variable": d["variable"]})).collect();
    kit::reply(&conn, "B05", &call, "SetVariables", json!({"setVariableResult": results}))?;
    still_in_step(&conn, "B05")
}

fn tc_b_09() -> Step {
    set_variables(1)
}

fn tc_b_10() -> Step {
    set_variables(2)
}

fn base_report(base: &str) -> Step {
    let conn = registered()?;
    kit::csms_trigger(&conn, "GetBaseReport", json!({"requestId": 31, "reportBase": base}))?;
    // A CSMS may ask for a report of its own accord (many do right after a boot): one for
    // another base is declined and the wait goes on for the one the operator asked for.
    let call = loop {
        let call = kit::expect(&conn, "B07", "GetBaseReport", 15_000)?;
        if call.payload["reportBase"] == base {
            break call;
        }
        kit::info(format!("a GetBaseReport the case did not ask for ({}): declined", call.payload));
        kit::reply(&conn, "B07", &call, "GetBaseReport", json!({"status": "Rejected"}))?;
    };
    kit::reply(&conn, "B07", &call, "GetBaseReport", json!({"status": "Accepted"}))?;
    let request_id = call.payload["requestId"].clone();
    for (seq, last) in [(0, false), (1, true)] {
        let item = json!({"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}, "variableAttribute": [{"value": "300", "mutability": "ReadWrite"}]});
        let part = json!({"requestId": request_id, "generatedAt": now(), "seqNo": seq, "tbc": !last, "reportData": [item]});
        kit::call(&conn, "B07", "NotifyReport", part, 10_000)?;
    }
    Ok(())
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

/// The station reboots after a reset: it reconnects and boots with reason RemoteReset.
/// The station's reboot after a reset, as part 6's B11/B12 tables have it: a new connection,
/// BootNotification with `reason` (Accepted), then the state of its connector (`connector`:
/// Available, or Occupied where the EV stayed plugged in).
fn reboot_after_reset(conn: Connection, req: &str, reason: &str, connector: &str) -> Step {
    conn.close();
    drop(conn);
    let again = kit::reconnect(req)?;
    let r = kit::call(&again, req, "BootNotification", ocpp_case_sdk::msg::boot_notification(kit::OcppVersion::V201, reason), 10_000)?;
    kit::check(r["status"] == "Accepted", req, "the rebooted station Accepted", || r.to_string())?;
    status(&again, req, 1, connector)
}

fn tc_b_20() -> Step {
    let conn = registered()?;
    let call = triggered(&conn, "B11", "Reset", json!({"type": "OnIdle"}), json!({"status": "Accepted"}))?;
    kit::check(call["type"] == "OnIdle", "B11", "Reset type OnIdle", || call.to_string())?;
    reboot_after_reset(conn, "B11", "RemoteReset", "Available")
}

fn tc_b_21() -> Step {
    let conn = registered()?;
    let (tx, seq) = running(&conn)?;
    let call = triggered(&conn, "B12", "Reset", json!({"type": "OnIdle"}), json!({"status": "Scheduled"}))?;
    kit::check(call["type"] == "OnIdle", "B12", "Reset type OnIdle", || call.to_string())?;
    // Part 6 (TC_B_21_CSMS): the driver ends the transaction, the EV leaves, then the reboot.
    event_with_token(&conn, "B12", "Updated", "StopAuthorized", seq, &tx, &kit::valid_token(), json!({"transactionInfo": {"chargingState": "EVConnected"}}))?;
    event(&conn, "B12", "Ended", "EVCommunicationLost", seq + 1, &tx, json!({"transactionInfo": {"stoppedReason": "EVDisconnected", "chargingState": "Idle"}}))?;
    reboot_after_reset(conn, "B12", "ScheduledReset", "Available")
}

fn tc_b_22() -> Step {
    let conn = registered()?;
    let (tx, seq) = running(&conn)?;
    let call = triggered(&conn, "B12", "Reset", json!({"type": "Immediate"}), json!({"status": "Accepted"}))?;
    kit::check(call["type"] == "Immediate", "B12", "Reset type Immediate", || call.to_string())?;
    event(&conn, "B12", "Ended", "ResetCommand", seq, &tx, json!({"transactionInfo": {"stoppedReason": "ImmediateReset"}}))?;
    // The EV is still plugged in after the reboot (part 6 TC_B_22_CSMS step 7).
    reboot_after_reset(conn, "B12", "RemoteReset", "Occupied")
}

fn tc_b_25() -> Step {
    let conn = registered()?;
    let call = triggered(&conn, "B11", "Reset", json!({"type": "OnIdle", "evseId": 1}), json!({"status": "Accepted"}))?;
    kit::check(call["evseId"] == 1, "B11", "Reset for EVSE 1", || call.to_string())?;
    status(&conn, "B11", 1, "Unavailable")?;
    status(&conn, "B11", 1, "Available")
}

// ---- C ----

/// TC_C_02_CSMS (part 6): an Authorize of a token the CSMS does not know gets Invalid or
/// Unknown (C01.FR.07).
fn tc_c_02() -> Step {
    let conn = registered()?;
    let token = config::invalid_id_token();
    let r = kit::call(&conn, "C01.FR.07", "Authorize", json!({"idToken": token_json(&token)}), 10_000)?;
    let s = at(&r, "/idTokenInfo/status");
    kit::check(s == "Invalid" || s == "Unknown", "C01.FR.07", format!("the unknown token {token} Invalid or Unknown"), || format!("status {s}"))
}

fn tc_c_37() -> Step {
    let conn = registered()?;
    triggered(&conn, "C11", "ClearCache", json!({}), json!({"status": "Accepted"}))?;
    still_in_step(&conn, "C11")
}

fn tc_c_38() -> Step {
    let conn = registered()?;
    triggered(&conn, "C11", "ClearCache", json!({}), json!({"status": "Rejected"}))?;
    still_in_step(&conn, "C11")
}

// ---- E ----

fn tc_e_03() -> Step {
    let conn = registered()?;
    let tx = new_tx_id("E03");
    occupied(&conn)?;
    event(&conn, "E02", "Started", "CablePluggedIn", 0, &tx, json!({"transactionInfo": {"chargingState": "EVConnected"}}))?;
    let token = kit::valid_token();
    let r = kit::call(&conn, "C01", "Authorize", json!({"idToken": token_json(&token)}), 10_000)?;
    kit::check(at(&r, "/idTokenInfo/status") == "Accepted", "C01", "Authorize Accepted", || r.to_string())?;
    let s = event_with_token(&conn, "E02", "Updated", "Authorized", 1, &tx, &token, json!({}))?;
    kit::check(s == "Accepted", "E02", "the token Accepted in the transaction", || format!("status {s}"))?;
    event(&conn, "E02", "Updated", "ChargingStateChanged", 2, &tx, json!({"transactionInfo": {"chargingState": "Charging"}})).map(|_| ())
}

fn tc_e_04() -> Step {
    let conn = registered()?;
    let tx = new_tx_id("E04");
    let token = kit::valid_token();
    let r = kit::call(&conn, "C01", "Authorize", json!({"idToken": token_json(&token)}), 10_000)?;
    kit::check(at(&r, "/idTokenInfo/status") == "Accepted", "C01", "Authorize Accepted", || r.to_string())?;
    let s = event_with_token(&conn, "E03", "Started", "Authorized", 0, &tx, &token, json!({}))?;
    kit::check(s == "Accepted", "E03", "the token Accepted in the transaction", || format!("status {s}"))?;
    occupied(&conn)?;
    event(&conn, "E03", "Updated", "CablePluggedIn", 1, &tx, json!({"transactionInfo": {"chargingState": "EVConnected"}})).map(|_| ())
}

fn tc_e_07() -> Step {
    let conn = registered()?;
    let (tx, seq) = running(&conn)?;
    let s = event_with_token(
        &conn,
        "E07",
        "Ended",
        "StopAuthorized",
        seq,
        &tx,
        &kit::valid_token(),
        json!({"transactionInfo": {"stoppedReason": "Local"}}),
    )?;
    kit::check(s == "Accepted", "E07", "the stopping token Accepted", || format!("status {s}"))
}

/// TC_E_09_CSMS (part 6): the connector Occupied, then a transaction Started by the cable.
fn tc_e_09() -> Step {
    let conn = registered()?;
    let tx = new_tx_id("E09");
    status(&conn, "E01.FR.02", 1, "Occupied")?;
    event(&conn, "E01.FR.02", "Started", "CablePluggedIn", 0, &tx, json!({"transactionInfo": {"chargingState": "EVConnected"}}))?;
    event(&conn, "E02", "Ended", "EVCommunicationLost", 1, &tx, json!({"transactionInfo": {"stoppedReason": "EVDisconnected"}})).map(|_| ())
}

fn tc_e_14() -> Step {
    let conn = registered()?;
    let (tx, seq) = running(&conn)?;
    event(&conn, "E10", "Ended", "EVCommunicationLost", seq, &tx, json!({"transactionInfo": {"stoppedReason": "EVDisconnected"}}))?;
    status(&conn, "E10", 1, "Available")
}

/// TC_E_16_CSMS (part 6): a transaction Started with a token the CSMS does not know gets
/// Invalid or Unknown, and its end (Deauthorized) is answered.
fn tc_e_16() -> Step {
    let conn = registered()?;
    let tx = new_tx_id("E16");
    let token = config::invalid_id_token();
    let s = event_with_token(&conn, "E01.FR.11", "Started", "Authorized", 0, &tx, &token, json!({}))?;
    kit::check(s == "Invalid" || s == "Unknown", "E01.FR.11", format!("the unknown token {token} Invalid or Unknown"), || format!("status {s}"))?;
    event(&conn, "E06.FR.04", "Ended", "Deauthorized", 1, &tx, json!({"transactionInfo": {"stoppedReason": "DeAuthorized"}})).map(|_| ())
}

fn tc_e_21() -> Step {
    let conn = registered()?;
    let (tx, seq) = running(&conn)?;
    let call = triggered(&conn, "F03", "RequestStopTransaction", json!({"transactionId": tx}), json!({"status": "Accepted"}))?;
    kit::check(call["transactionId"] == tx.as_str(), "F03", format!("RequestStopTransaction for {tx}"), || call.to_string())?;
    event(&conn, "F03", "Ended", "RemoteStop", seq, &tx, json!({"transactionInfo": {"stoppedReason": "Remote"}})).map(|_| ())
}

fn tc_e_30() -> Step {
    let conn = registered()?;
    let (tx, _) = running(&conn)?;
    let call =
        triggered(&conn, "E14", "GetTransactionStatus", json!({"transactionId": tx}), json!({"ongoingIndicator": true, "messagesInQueue": false}))?;
    kit::check(call["transactionId"] == tx.as_str(), "E14", format!("GetTransactionStatus for {tx}"), || call.to_string())?;
    still_in_step(&conn, "E14")
}

fn tc_e_34() -> Step {
    let conn = registered()?;
    let call = triggered(&conn, "E14", "GetTransactionStatus", json!({}), json!({"messagesInQueue": false}))?;
    kit::check(call.get("transactionId").is_none(), "E14", "GetTransactionStatus without a transactionId", || call.to_string())?;
    still_in_step(&conn, "E14")
}

/// TC_E_01/02_CSMS (part 6 tables 505, 506): Authorize, the connector Occupied, then a
/// transaction that starts when the power path closes (SuspendedEVSE, then Charging) or when
/// energy flows (Charging); the token Accepted in Authorize and in the Started event.
fn start_option(req: &str, tag: &str, first_state: &str) -> Step {
    let conn = registered()?;
    let token = authorized(&conn, req)?;
    occupied(&conn)?;
    availability_event(&conn, req, "Occupied")?;
    let tx = new_tx_id(tag);
    started_with(&conn, req, &tx, &token, "ChargingStateChanged", json!({"transactionInfo": {"chargingState": first_state}}))?;
    if first_state != "Charging" {
        event(&conn, req, "Updated", "ChargingStateChanged", 1, &tx, json!({"transactionInfo": {"chargingState": "Charging"}}))?;
    }
    Ok(())
}

/// TC_E_10_CSMS (part 6): Authorize, then Started with triggerReason Authorized; the token
/// Accepted in both answers.
fn tc_e_10() -> Step {
    let req = "E01.FR.03";
    let conn = registered()?;
    let token = authorized(&conn, req)?;
    let tx = new_tx_id("E10");
    started_with(&conn, req, &tx, &token, "Authorized", json!({}))
}

/// TC_E_11_CSMS (part 6): as E01, started by SignedDataReceived with a signed Transaction.Begin
/// meter value.
fn tc_e_11() -> Step {
    let req = "E01.FR.04";
    let conn = registered()?;
    let token = authorized(&conn, req)?;
    occupied(&conn)?;
    availability_event(&conn, req, "Occupied")?;
    let tx = new_tx_id("E11");
    let signed = json!({"signedMeterData": "T0NQUC1IQVJORVNTLVNJR05FRA==", "signingMethod": "ECDSA-secp256r1-SHA256", "encodingMethod": "OCMF", "publicKey": ""});
    let meter = json!([{"timestamp": now(), "sampledValue": [{"value": 0.0, "context": "Transaction.Begin", "signedMeterValue": signed}]}]);
    started_with(&conn, req, &tx, &token, "SignedDataReceived", json!({"meterValue": meter}))?;
    event(&conn, req, "Updated", "ChargingStateChanged", 1, &tx, json!({"transactionInfo": {"chargingState": "Charging"}})).map(|_| ())
}

/// TC_E_12_CSMS (part 6): a transaction that starts when the bay's sensor sees an EV.
fn tc_e_12() -> Step {
    let conn = registered()?;
    event(&conn, "E01.FR.01", "Started", "EVDetected", 0, &new_tx_id("E12"), json!({})).map(|_| ())
}

/// TC_E_15_CSMS (part 6): from EnergyTransferStarted, stopped by the driver at the station.
fn tc_e_15() -> Step {
    let req = "E06.FR.03";
    let conn = registered()?;
    let (tx, seq) = running(&conn)?;
    event(&conn, req, "Ended", "StopAuthorized", seq, &tx, json!({"transactionInfo": {"stoppedReason": "Local"}})).map(|_| ())
}

/// TC_E_17_CSMS (part 6): from EnergyTransferSuspended, the EV goes away.
fn tc_e_17() -> Step {
    let req = "E06.FR.04";
    let conn = registered()?;
    let (tx, seq) = running(&conn)?;
    event(&conn, req, "Updated", "ChargingStateChanged", seq, &tx, json!({"transactionInfo": {"chargingState": "SuspendedEV"}}))?;
    let ended = json!({"transactionInfo": {"stoppedReason": "EVDisconnected", "chargingState": "Idle"}});
    event(&conn, req, "Ended", "EVCommunicationLost", seq + 1, &tx, ended).map(|_| ())
}

/// TC_E_19_CSMS (part 6): from EVDisconnected (the cable out, the transaction idle), the EV
/// leaves the parking bay.
fn tc_e_19() -> Step {
    let req = "E06.FR.01";
    let conn = registered()?;
    let (tx, seq) = running(&conn)?;
    event(&conn, req, "Updated", "EVCommunicationLost", seq, &tx, json!({"transactionInfo": {"chargingState": "Idle"}}))?;
    status(&conn, req, 1, "Available")?;
    event(&conn, req, "Ended", "EVDeparted", seq + 1, &tx, json!({"transactionInfo": {"stoppedReason": "Local"}})).map(|_| ())
}

/// TC_E_22_CSMS (part 6): from EnergyTransferStarted, the EV stops taking energy and the
/// transaction ends there (TxStopPoint EnergyTransfer).
fn tc_e_22() -> Step {
    let req = "E06.FR.07";
    let conn = registered()?;
    let (tx, seq) = running(&conn)?;
    let ended = json!({"transactionInfo": {"chargingState": "SuspendedEV", "stoppedReason": "StoppedByEV"}});
    event(&conn, req, "Ended", "ChargingStateChanged", seq, &tx, ended).map(|_| ())
}

/// TC_E_39_CSMS (part 6): from Authorized, no cable within the connection time-out.
fn tc_e_39() -> Step {
    let req = "E03.FR.05";
    let conn = registered()?;
    let token = authorized(&conn, req)?;
    let tx = new_tx_id("E39");
    started_with(&conn, req, &tx, &token, "Authorized", json!({}))?;
    event(&conn, "E06.FR.04", "Ended", "EVConnectTimeout", 1, &tx, json!({"transactionInfo": {"stoppedReason": "Timeout"}})).map(|_| ())
}

/// TC_C_08/20_CSMS (part 6): EVConnectedPreSession with the transaction started at the parking
/// bay (TxStartPoint ParkingBayOccupancy); the station then authorizes `token` from its cache
/// and reports it in an Updated event. The CSMS's verdict on the token is returned.
fn cached_authorization(tag: &str, token: &str) -> Step<String> {
    let req = "C12.FR.03";
    let conn = registered()?;
    occupied(&conn)?;
    let tx = new_tx_id(tag);
    event(&conn, req, "Started", "CablePluggedIn", 0, &tx, json!({"transactionInfo": {"chargingState": "EVConnected"}}))?;
    event_with_token(&conn, req, "Updated", "Authorized", 1, &tx, token, json!({}))
}

fn tc_c_08() -> Step {
    let token = kit::valid_token();
    let s = cached_authorization("C08", &token)?;
    kit::check(s == "Accepted", "C12.FR.03", format!("the cached token {token} Accepted"), || format!("status {s}"))
}

fn tc_c_20() -> Step {
    let token = config::invalid_id_token();
    let s = cached_authorization("C20", &token)?;
    kit::check(["Invalid", "Unknown"].contains(&s.as_str()), "C12.FR.03", format!("Invalid or Unknown for the unknown token {token}"), || {
        format!("status {s}")
    })
}

/// Authorize the first valid token: Accepted, or the case fails. Returns the token.
fn authorized(conn: &Connection, req: &str) -> Step<String> {
    let token = kit::valid_token();
    let r = kit::call(conn, req, "Authorize", json!({"idToken": token_json(&token)}), 10_000)?;
    kit::check(at(&r, "/idTokenInfo/status") == "Accepted", req, format!("Authorize Accepted for {token}"), || r.to_string())?;
    Ok(token)
}

/// A Started event for `token` (triggered by `trigger`), which the CSMS must accept.
fn started_with(conn: &Connection, req: &str, tx: &str, token: &str, trigger: &str, extra: Value) -> Step {
    let s = event_with_token(conn, req, "Started", trigger, 0, tx, token, extra)?;
    kit::check(s == "Accepted", req, format!("the token {token} Accepted in the Started event"), || format!("status {s}"))
}

/// TC_E_38_CSMS (part 6): from Authorized, the cable comes but the EV is not ready to charge.
fn tc_e_38() -> Step {
    let req = "E03";
    let conn = registered()?;
    let token = authorized(&conn, req)?;
    let tx = new_tx_id("E38");
    started_with(&conn, req, &tx, &token, "Authorized", json!({}))?;
    occupied(&conn)?;
    event(&conn, req, "Updated", "CablePluggedIn", 1, &tx, json!({"transactionInfo": {"chargingState": "EVConnected"}}))?;
    event(&conn, req, "Updated", "ChargingStateChanged", 2, &tx, json!({"transactionInfo": {"chargingState": "SuspendedEV"}})).map(|_| ())
}

// Part 6's reusable states for a CSMS DUT (§3.18, tables 704-707), played by the station.

/// EnergyTransferSuspended (table 704): the EV suspends the energy transfer.
fn energy_transfer_suspended(conn: &Connection, req: &str, tx: &str, seq: u64) -> Step<u64> {
    event(conn, req, "Updated", "ChargingStateChanged", seq, tx, json!({"transactionInfo": {"chargingState": "SuspendedEV"}}))?;
    Ok(seq + 1)
}

/// StopAuthorized (table 705): the driver presents the token to stop; the CSMS must accept it.
fn stop_authorized(conn: &Connection, req: &str, tx: &str, seq: u64) -> Step<u64> {
    let token = kit::valid_token();
    let s = event_with_token(conn, req, "Updated", "StopAuthorized", seq, tx, &token, json!({}))?;
    kit::check(s == "Accepted", req, format!("the token {token} Accepted to stop"), || format!("status {s}"))?;
    Ok(seq + 1)
}

/// EVDisconnected (table 707): the connector Available, then the transaction ends on the
/// lost EV.
fn ev_disconnected(conn: &Connection, req: &str, tx: &str, seq: u64) -> Step {
    status(conn, req, 1, "Available")?;
    availability_event(conn, req, "Available")?;
    let ended = json!({"transactionInfo": {"chargingState": "Idle", "stoppedReason": "EVDisconnected"}});
    event(conn, req, "Ended", "EVCommunicationLost", seq, tx, ended).map(|_| ())
}

/// TC_E_08_CSMS (part 6): from StopAuthorized, the transaction ends where the energy stops.
fn tc_e_08() -> Step {
    let req = "E06.FR.07";
    let conn = registered()?;
    let (tx, seq) = running(&conn)?;
    let seq = stop_authorized(&conn, req, &tx, seq)?;
    let ended = json!({"transactionInfo": {"chargingState": "EVConnected", "stoppedReason": "Local"}});
    event(&conn, req, "Ended", "ChargingStateChanged", seq, &tx, ended).map(|_| ())
}

/// TC_E_20_CSMS (part 6): from EnergyTransferSuspended, the EV side unplugs.
fn tc_e_20() -> Step {
    let req = "E06.FR.02";
    let conn = registered()?;
    let (tx, seq) = running(&conn)?;
    let seq = energy_transfer_suspended(&conn, req, &tx, seq)?;
    ev_disconnected(&conn, req, &tx, seq)
}

/// TC_E_26_CSMS (part 6): from EnergyTransferSuspended the cable goes on the EV side, the
/// transaction is suspended (not ended), the cable comes back and charging resumes.
fn tc_e_26() -> Step {
    let req = "E10.FR.01";
    let conn = registered()?;
    let (tx, seq) = running(&conn)?;
    let seq = energy_transfer_suspended(&conn, req, &tx, seq)?;
    event(&conn, req, "Updated", "EVCommunicationLost", seq, &tx, json!({"transactionInfo": {"chargingState": "Idle"}}))?;
    status(&conn, req, 1, "Available")?;
    availability_event(&conn, req, "Available")?;
    event(&conn, req, "Updated", "CablePluggedIn", seq + 1, &tx, json!({"transactionInfo": {"chargingState": "EVConnected"}}))?;
    event(&conn, req, "Updated", "ChargingStateChanged", seq + 2, &tx, json!({"transactionInfo": {"chargingState": "Charging"}})).map(|_| ())
}

fn tc_e_01() -> Step {
    start_option("E01.FR.05", "E01", "SuspendedEVSE")
}

fn tc_e_02() -> Step {
    start_option("E01.FR.06", "E02", "Charging")
}

fn tc_e_53() -> Step {
    let conn = registered()?;
    for _ in 0..2 {
        let (tx, seq) = running(&conn)?;
        event(&conn, "E01", "Ended", "StopAuthorized", seq, &tx, json!({"transactionInfo": {"stoppedReason": "Local"}}))?;
    }
    Ok(())
}

// ---- F ----

fn tc_f_01() -> Step {
    let conn = registered()?;
    let tx = new_tx_id("F01");
    event(&conn, "F01", "Started", "CablePluggedIn", 0, &tx, json!({"transactionInfo": {"chargingState": "EVConnected"}}))?;
    let token = kit::valid_token();
    let hint = json!({"idToken": token_json(&token), "remoteStartId": 11, "evseId": 1});
    let call = triggered(&conn, "F01", "RequestStartTransaction", hint, json!({"status": "Accepted", "transactionId": tx}))?;
    let remote_id = call["remoteStartId"].as_i64().unwrap_or_default();
    kit::check(at(&call, "/idToken/idToken") == token.as_str(), "F01", format!("idToken {token}"), || call.to_string())?;
    let s = event_with_token(&conn, "F01", "Updated", "RemoteStart", 1, &tx, &token, json!({"transactionInfo": {"remoteStartId": remote_id}}))?;
    kit::check(s == "Accepted", "F01", "the remote start token Accepted", || format!("status {s}"))
}

fn tc_f_03() -> Step {
    let conn = registered()?;
    let token = kit::valid_token();
    let hint = json!({"idToken": token_json(&token), "remoteStartId": 12, "evseId": 1});
    let call = triggered(&conn, "F02", "RequestStartTransaction", hint, json!({"status": "Accepted"}))?;
    kit::check(
        at(&call, "/idToken/idToken") == token.as_str() && call["evseId"] == 1,
        "F02",
        format!("idToken {token} on EVSE 1, as the operator asked"),
        || call.to_string(),
    )?;
    let tx = new_tx_id("F03");
    let s = event_with_token(
        &conn,
        "F02",
        "Started",
        "RemoteStart",
        0,
        &tx,
        &token,
        json!({"transactionInfo": {"remoteStartId": call["remoteStartId"]}}),
    )?;
    kit::check(s == "Accepted", "F02", "the remote start token Accepted", || format!("status {s}"))
}

/// TC_F_04_CSMS (part 6): the operator starts a transaction remotely; the station starts it
/// but no cable comes, and it reports EVConnectTimeout.
fn tc_f_04() -> Step {
    let req = "E03.FR.04";
    let conn = registered()?;
    let token = kit::valid_token();
    let hint = json!({"idToken": token_json(&token), "remoteStartId": 14, "evseId": 1});
    let call = triggered(&conn, req, "RequestStartTransaction", hint, json!({"status": "Accepted"}))?;
    let asked = &call["idToken"];
    kit::check(
        asked["idToken"] == token.as_str() && asked["type"] == kit::token_type().as_str(),
        req,
        format!("idToken {token} of type {}", kit::token_type()),
        || asked.to_string(),
    )?;
    let tx = new_tx_id("F04");
    event(&conn, req, "Started", "RemoteStart", 0, &tx, json!({"transactionInfo": {"remoteStartId": call["remoteStartId"]}}))?;
    event(&conn, "E03.FR.05", "Updated", "EVConnectTimeout", 1, &tx, json!({})).map(|_| ())
}

/// TC_F_02_CSMS (part 6): the operator starts a transaction remotely; the station authorizes
/// the token first (AuthorizeRemoteStart), then starts, then the energy flows.
fn tc_f_02() -> Step {
    let req = "F02.FR.01";
    let conn = registered()?;
    let token = kit::valid_token();
    let hint = json!({"idToken": token_json(&token), "remoteStartId": 22, "evseId": 1});
    let call = triggered(&conn, req, "RequestStartTransaction", hint, json!({"status": "Accepted"}))?;
    kit::check(at(&call, "/idToken/idToken") == token.as_str(), req, format!("idToken {token}, as the operator asked"), || call.to_string())?;
    authorized(&conn, "F01.FR.01")?;
    let tx = new_tx_id("F02");
    started_with(&conn, req, &tx, &token, "RemoteStart", json!({"transactionInfo": {"remoteStartId": call["remoteStartId"]}}))?;
    occupied(&conn)?;
    event(&conn, req, "Updated", "ChargingStateChanged", 1, &tx, json!({"transactionInfo": {"chargingState": "Charging"}})).map(|_| ())
}

fn tc_f_06() -> Step {
    let conn = registered()?;
    let call = triggered(&conn, "F05", "UnlockConnector", json!({"evseId": 1, "connectorId": 1}), json!({"status": "Unlocked"}))?;
    kit::check(call["evseId"] == 1 && call["connectorId"] == 1, "F05", "UnlockConnector for EVSE 1 connector 1", || call.to_string())
}

fn tc_f_11() -> Step {
    let conn = registered()?;
    let call =
        triggered(&conn, "F06", "TriggerMessage", json!({"requestedMessage": "MeterValues", "evse": {"id": 1}}), json!({"status": "Accepted"}))?;
    kit::check(call["requestedMessage"] == "MeterValues", "F06", "requestedMessage MeterValues", || call.to_string())?;
    kit::call(&conn, "F06", "MeterValues", json!({"evseId": 1, "meterValue": sample("Trigger", 1234.0)}), 10_000).map(|_| ())
}

fn tc_f_20() -> Step {
    let conn = registered()?;
    let call = triggered(&conn, "F06", "TriggerMessage", json!({"requestedMessage": "Heartbeat"}), json!({"status": "Accepted"}))?;
    kit::check(call["requestedMessage"] == "Heartbeat", "F06", "requestedMessage Heartbeat", || call.to_string())?;
    still_in_step(&conn, "F06")
}

fn tc_f_23() -> Step {
    let conn = registered()?;
    let call = triggered(
        &conn,
        "F06",
        "TriggerMessage",
        json!({"requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 1}}),
        json!({"status": "Accepted"}),
    )?;
    kit::check(call["requestedMessage"] == "StatusNotification", "F06", "requestedMessage StatusNotification", || call.to_string())?;
    status(&conn, "F06", 1, "Available")
}

fn tc_f_27() -> Step {
    let conn = registered()?;
    triggered(&conn, "F06", "TriggerMessage", json!({"requestedMessage": "SignV2GCertificate"}), json!({"status": "NotImplemented"}))?;
    still_in_step(&conn, "F06")
}

// ---- G ----

fn availability(hint: Value, reply: &str, req: &str) -> Step<(Connection, Value)> {
    let conn = registered()?;
    let call = triggered(&conn, req, "ChangeAvailability", hint.clone(), json!({"status": reply}))?;
    kit::check(call["operationalStatus"] == hint["operationalStatus"], req, format!("operationalStatus {}", hint["operationalStatus"]), || {
        call.to_string()
    })?;
    Ok((conn, call))
}

fn tc_g_03() -> Step {
    let (conn, call) = availability(json!({"operationalStatus": "Inoperative", "evse": {"id": 1}}), "Accepted", "G03")?;
    kit::check(call["evse"]["id"] == 1, "G03", "EVSE 1", || call.to_string())?;
    status(&conn, "G03", 1, "Unavailable")
}

fn tc_g_04() -> Step {
    let (conn, _) = availability(json!({"operationalStatus": "Operative", "evse": {"id": 1}}), "Accepted", "G03")?;
    status(&conn, "G03", 1, "Available")
}

fn tc_g_05() -> Step {
    let (conn, call) = availability(json!({"operationalStatus": "Inoperative"}), "Accepted", "G04")?;
    kit::check(call.get("evse").is_none(), "G04", "no evse: the whole station", || call.to_string())?;
    status(&conn, "G04", 1, "Unavailable")
}

/// A connector's AvailabilityState as the station reports it next to its StatusNotification
/// (part 6 gives both, StatusNotification and NotifyEvent, in the availability cases).
fn availability_event(conn: &Connection, req: &str, state: &str) -> Step {
    availability_event_at(conn, req, 1, state)
}

fn availability_event_at(conn: &Connection, req: &str, evse: u32, state: &str) -> Step {
    let event = json!({
        "generatedAt": now(), "seqNo": 0, "tbc": false,
        "eventData": [{
            "eventId": kit::unique_number(), "timestamp": now(), "trigger": "Delta", "actualValue": state,
            "eventNotificationType": "HardWiredNotification",
            "component": {"name": "Connector", "evse": {"id": evse, "connectorId": 1}},
            "variable": {"name": "AvailabilityState"}
        }]
    });
    kit::call(conn, req, "NotifyEvent", event, 10_000).map(|_| ())
}

/// TC_G_06_CSMS (part 6 table 550): from an Unavailable station, the operator makes it
/// Operative; the request names no EVSE or connector.
fn tc_g_06() -> Step {
    let conn = registered()?;
    status(&conn, "G04", 1, "Unavailable")?;
    let call = triggered(&conn, "G04", "ChangeAvailability", json!({"operationalStatus": "Operative"}), json!({"status": "Accepted"}))?;
    kit::check(call["operationalStatus"] == "Operative", "G04", "operationalStatus Operative", || call.to_string())?;
    kit::check(call.get("evse").is_none(), "G04", "no evse: the whole station", || call.to_string())?;
    status(&conn, "G04", 1, "Available")?;
    availability_event(&conn, "G04", "Available")
}

/// The connector-level request of TC_G_07/08_CSMS: EVSE 1, connector 1, `wanted`.
fn connector_availability(conn: &Connection, wanted: &str) -> Step {
    let hint = json!({"operationalStatus": wanted, "evse": {"id": 1, "connectorId": 1}});
    let call = triggered(conn, "G03", "ChangeAvailability", hint, json!({"status": "Accepted"}))?;
    kit::check(call["operationalStatus"] == wanted, "G03", format!("operationalStatus {wanted}"), || call.to_string())?;
    kit::check(call["evse"]["id"] == 1 && call["evse"]["connectorId"] == 1, "G03", "EVSE 1, connector 1", || call.to_string())
}

/// TC_G_07_CSMS (part 6 table 551).
fn tc_g_07() -> Step {
    let conn = registered()?;
    connector_availability(&conn, "Inoperative")?;
    status(&conn, "G03", 1, "Unavailable")?;
    availability_event(&conn, "G03", "Unavailable")
}

/// TC_G_08_CSMS (part 6 table 552): memory state, the connector Unavailable.
fn tc_g_08() -> Step {
    let conn = registered()?;
    status(&conn, "G03", 1, "Unavailable")?;
    connector_availability(&conn, "Operative")?;
    status(&conn, "G03", 1, "Available")?;
    availability_event(&conn, "G03", "Available")
}

/// TC_G_14/17_CSMS (part 6 tables 556, 559): EnergyTransferStarted; the operator makes the
/// station (`hint` without evse) or the connector inoperative; the station schedules it, the
/// transaction ends (StopAuthorized, the EV leaves) and the connector goes Unavailable.
fn inoperative_during_transaction(req: &str, hint: Value) -> Step {
    let conn = registered()?;
    let (tx, seq) = running(&conn)?;
    let call = triggered(&conn, req, "ChangeAvailability", hint.clone(), json!({"status": "Scheduled"}))?;
    kit::check(call["operationalStatus"] == "Inoperative", req, "operationalStatus Inoperative", || call.to_string())?;
    kit::check(call.get("evse") == hint.get("evse"), req, format!("evse {}", hint.get("evse").unwrap_or(&Value::Null)), || call.to_string())?;
    if hint.get("evse").is_none() {
        // Part 6 TC_G_14_CSMS step 3: the whole station goes Inoperative, so its other, idle
        // EVSE reports Unavailable at once (the wind-up sets it back to Available).
        status(&conn, req, 2, "Unavailable")?;
    }
    event(&conn, req, "Updated", "StopAuthorized", seq, &tx, json!({"transactionInfo": {"chargingState": "EVConnected"}}))?;
    event(
        &conn,
        req,
        "Ended",
        "EVCommunicationLost",
        seq + 1,
        &tx,
        json!({"transactionInfo": {"stoppedReason": "EVDisconnected", "chargingState": "Idle"}}),
    )?;
    status(&conn, req, 1, "Unavailable")
}

fn tc_g_14() -> Step {
    inoperative_during_transaction("G04", json!({"operationalStatus": "Inoperative"}))
}

fn tc_g_17() -> Step {
    inoperative_during_transaction("G03", json!({"operationalStatus": "Inoperative", "evse": {"id": 1, "connectorId": 1}}))
}

/// TC_G_20_CSMS (part 6): a connector's plug retention lock reports a problem.
fn tc_g_20() -> Step {
    let conn = registered()?;
    let event = json!({
        "generatedAt": now(), "seqNo": 0, "tbc": false,
        "eventData": [{
            "eventId": kit::unique_number(), "timestamp": now(), "trigger": "Delta", "actualValue": "true",
            "eventNotificationType": "HardWiredMonitor",
            "component": {"name": "ConnectorPlugRetentionLock", "evse": {"id": 1, "connectorId": 1}},
            "variable": {"name": "Problem"}
        }]
    });
    kit::call(&conn, "G05.FR.03", "NotifyEvent", event, 10_000).map(|_| ())
}

fn tc_g_11() -> Step {
    let conn = registered()?;
    let (tx, seq) = running(&conn)?;
    triggered(&conn, "G03", "ChangeAvailability", json!({"operationalStatus": "Inoperative", "evse": {"id": 1}}), json!({"status": "Scheduled"}))?;
    event(&conn, "G03", "Ended", "StopAuthorized", seq, &tx, json!({"transactionInfo": {"stoppedReason": "Local"}}))?;
    status(&conn, "G03", 1, "Unavailable")
}

// ---- J, P ----

fn tc_j_01() -> Step {
    let conn = registered()?;
    kit::call(&conn, "J01", "MeterValues", json!({"evseId": 1, "meterValue": sample("Sample.Clock", 1000.0)}), 10_000).map(|_| ())
}

/// TC_J_02_CSMS (part 6 table 569): during a transaction, the clock-aligned values go in
/// MeterValues for EVSE 0 (the station as a whole) and in MeterValueClock events for the EVSE
/// that charges, at two clock ticks.
fn tc_j_02() -> Step {
    let req = "J01.FR.18";
    let conn = registered()?;
    let (tx, seq) = running(&conn)?;
    for (i, wh) in [1200.0, 1450.0].into_iter().enumerate() {
        kit::call(&conn, req, "MeterValues", json!({"evseId": 0, "meterValue": sample("Sample.Clock", 5000.0 + wh)}), 10_000)?;
        event(&conn, req, "Updated", "MeterValueClock", seq + i as u64, &tx, json!({"meterValue": sample("Sample.Clock", wh)}))?;
    }
    Ok(())
}

fn tc_j_09() -> Step {
    let conn = registered()?;
    let (tx, seq) = running(&conn)?;
    event(&conn, "J02", "Updated", "MeterValuePeriodic", seq, &tx, json!({"meterValue": sample("Sample.Periodic", 1500.0)})).map(|_| ())
}

fn tc_j_10() -> Step {
    let conn = registered()?;
    let (tx, seq) = running(&conn)?;
    event(
        &conn,
        "J02",
        "Ended",
        "StopAuthorized",
        seq,
        &tx,
        json!({"transactionInfo": {"stoppedReason": "Local"}, "meterValue": sample("Transaction.End", 2000.0)}),
    )
    .map(|_| ())
}

/// TC_P_03_CSMS (part 6 table 697): customData (OCPP-J 9) on a message and inside a nested
/// object must not upset the CSMS.
/// Energy readings, oldest first, in `context` (the last one `last`), signed if asked.
fn readings(context: &str, last: &str, signed: bool) -> Value {
    let value = |wh: f64, ctx: &str| {
        let mut v = json!({"value": wh, "context": ctx, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}});
        if signed {
            v["signedMeterValue"] = json!({"signedMeterData": "T0NQUC1IQVJORVNTLVNJR05FRA==", "signingMethod": "ECDSA-secp256r1-SHA256", "encodingMethod": "OCMF", "publicKey": ""});
        }
        json!({"timestamp": now(), "sampledValue": [v]})
    };
    json!([value(1200.0, context), value(1450.0, context), value(1500.0, last)])
}

/// TC_J_03/04/11_CSMS (part 6): from EnergyTransferStarted the EV leaves (EVDisconnected) and
/// the Ended event carries the transaction's meter values, the last Transaction.End.
fn ended_with_values(req: &str, context: &str, signed: bool) -> Step {
    let conn = registered()?;
    let (tx, seq) = running(&conn)?;
    let ended = json!({"transactionInfo": {"stoppedReason": "EVDisconnected", "chargingState": "Idle"}, "meterValue": readings(context, "Transaction.End", signed)});
    event(&conn, req, "Ended", "EVCommunicationLost", seq, &tx, ended)?;
    status(&conn, req, 1, "Available")
}

fn tc_j_03() -> Step {
    ended_with_values("J01.FR.18", "Sample.Clock", false)
}

fn tc_j_04() -> Step {
    ended_with_values("J01.FR.21", "Sample.Clock", true)
}

fn tc_j_11() -> Step {
    ended_with_values("J02.FR.21", "Sample.Periodic", true)
}

/// TC_J_07_CSMS (part 6): EVConnectedPreSession, the Started event with a Transaction.Begin value.
fn tc_j_07() -> Step {
    let req = "J02.FR.19";
    let conn = registered()?;
    occupied(&conn)?;
    let begin = json!([{"timestamp": now(), "sampledValue": [{"value": 1000.0, "context": "Transaction.Begin", "measurand": "Energy.Active.Import.Register"}]}]);
    let started = json!({"transactionInfo": {"chargingState": "EVConnected"}, "meterValue": begin});
    event(&conn, req, "Started", "CablePluggedIn", 0, &new_tx_id("J07"), started).map(|_| ())
}

/// TC_J_08_CSMS (part 6): Authorized first (the EVSE not known yet: no evse in the Started
/// event), then the cable with the Transaction.Begin value, then EnergyTransferStarted.
fn tc_j_08() -> Step {
    let req = "J02.FR.19";
    let conn = registered()?;
    let token = kit::valid_token();
    let tx = new_tx_id("J08");
    let started = json!({"eventType": "Started", "timestamp": now(), "triggerReason": "Authorized", "seqNo": 0, "transactionInfo": {"transactionId": tx}, "idToken": token_json(&token)});
    let r = kit::call(&conn, req, TX, started, 10_000)?;
    kit::check(at(&r, "/idTokenInfo/status") == "Accepted", req, format!("the token {token} Accepted"), || r.to_string())?;
    occupied(&conn)?;
    let begin = json!([{"timestamp": now(), "sampledValue": [{"value": 1000.0, "context": "Transaction.Begin", "measurand": "Energy.Active.Import.Register"}]}]);
    event(&conn, req, "Updated", "CablePluggedIn", 1, &tx, json!({"transactionInfo": {"chargingState": "EVConnected"}, "meterValue": begin}))?;
    event(&conn, req, "Updated", "ChargingStateChanged", 2, &tx, json!({"transactionInfo": {"chargingState": "Charging"}})).map(|_| ())
}

fn tc_p_03() -> Step {
    let conn = registered()?;
    let custom = json!({"vendorId": "org.ocpp-harness", "note": "custom data from the harness"});
    let s = json!({"timestamp": now(), "connectorStatus": "Available", "evseId": 1, "connectorId": 1, "customData": custom});
    kit::call(&conn, "OCPP-J 9", "StatusNotification", s, 10_000)?;
    let tx = new_tx_id("P03");
    let ev = json!({
        "eventType": "Started", "timestamp": now(), "triggerReason": "CablePluggedIn", "seqNo": 0,
        "evse": {"id": 1, "connectorId": 1}, "customData": custom,
        "transactionInfo": {"transactionId": tx, "chargingState": "EVConnected", "customData": custom}
    });
    kit::call(&conn, "OCPP-J 9", TX, ev, 10_000).map(|_| ())
}

fn tc_p_02() -> Step {
    let conn = registered()?;
    let r = kit::call(&conn, "P02", "DataTransfer", json!({"vendorId": "org.example.nobody", "messageId": "ping"}), 10_000)?;
    let status = &r["status"];
    kit::check(
        ["Rejected", "UnknownVendorId", "UnknownMessageId"].iter().any(|s| status == s),
        "P02",
        "Rejected, UnknownVendorId or UnknownMessageId",
        || format!("status {status}"),
    )
}

// ---- N ----

/// The operator asks for log `kind` with request `id`; the station answers `answer`. The
/// request must be for that log and carry the operator's request id.
fn get_log(conn: &Connection, kind: &str, id: i64, answer: &str) -> Step<Value> {
    let hint = json!({"logType": kind, "requestId": id, "log": {"remoteLocation": "ftp://logs.example/upload"}});
    let call = triggered(conn, "N01", "GetLog", hint, json!({"status": answer, "filename": "station.log"}))?;
    kit::check(call["logType"] == kind && call["requestId"] == id, "N01", format!("logType {kind}, requestId {id}"), || call.to_string())?;
    Ok(call["requestId"].clone())
}

fn log_status(conn: &Connection, status: &str, id: &Value) -> Step {
    kit::call(conn, "N01", "LogStatusNotification", json!({"status": status, "requestId": id}), 10_000).map(|_| ())
}

/// TC_N_34_CSMS (part 6).
fn tc_n_34() -> Step {
    let conn = registered()?;
    get_log(&conn, "DiagnosticsLog", 34, "Rejected")?;
    still_in_step(&conn, "N01")
}

/// TC_N_35_CSMS (part 6): the security log, uploaded.
fn tc_n_35() -> Step {
    let conn = registered()?;
    let id = get_log(&conn, "SecurityLog", 35, "Accepted")?;
    log_status(&conn, "Uploading", &id)?;
    log_status(&conn, "Uploaded", &id)
}

/// TC_N_36_CSMS (part 6): a second request while the first uploads cancels the first.
fn tc_n_36() -> Step {
    let conn = registered()?;
    let first = get_log(&conn, "DiagnosticsLog", 36, "Accepted")?;
    log_status(&conn, "Uploading", &first)?;
    let second = get_log(&conn, "DiagnosticsLog", 37, "AcceptedCanceled")?;
    log_status(&conn, "AcceptedCanceled", &first)?;
    log_status(&conn, "Uploading", &second)?;
    log_status(&conn, "Uploaded", &second)
}

fn tc_n_25() -> Step {
    let conn = registered()?;
    let hint = json!({"logType": "DiagnosticsLog", "requestId": 25, "log": {"remoteLocation": "ftp://logs.example/upload"}});
    let call = triggered(&conn, "N01", "GetLog", hint, json!({"status": "Accepted", "filename": "diagnostics.log"}))?;
    kit::check(call["logType"] == "DiagnosticsLog", "N01", "logType DiagnosticsLog", || call.to_string())?;
    kit::check(at(&call, "/log/remoteLocation").as_str().is_some_and(|u| !u.is_empty()), "N01", "a remoteLocation to upload to", || {
        call.to_string()
    })?;
    for status in ["Uploading", "Uploaded"] {
        kit::call(&conn, "N01", "LogStatusNotification", json!({"status": status, "requestId": call["requestId"]}), 10_000)?;
    }
    Ok(())
}

/// TC_N_28..32_CSMS (part 6 tables 658-663): the operator asks about (and/or clears) the
/// data of the customer with the first valid token; the request carries the token and the
/// report/clear flags as asked. The station answers `answer` and, if it did accept, reports
/// `data` (empty: it holds none).
fn customer_information(req: &str, report: bool, clear: bool, answer: &str, data: &str) -> Step {
    customer_information_on(&registered()?, req, report, clear, answer, data)
}

/// `customer_information` on a connection the case has already used.
pub(super) fn customer_information_on(conn: &Connection, req: &str, report: bool, clear: bool, answer: &str, data: &str) -> Step {
    let token = kit::valid_token();
    let hint = json!({"requestId": 28, "report": report, "clear": clear, "idToken": token_json(&token)});
    let call = triggered(conn, req, "CustomerInformation", hint, json!({"status": answer}))?;
    kit::check(call["report"] == report && call["clear"] == clear, req, format!("report {report}, clear {clear}"), || call.to_string())?;
    let id = &call["idToken"];
    kit::check(id["idToken"] == token.as_str() && id["type"] == kit::token_type().as_str(), req, format!("the customer's idToken {token}"), || {
        id.to_string()
    })?;
    if answer != "Accepted" {
        return still_in_step(conn, req);
    }
    let notify = json!({"data": data, "seqNo": 0, "generatedAt": now(), "requestId": call["requestId"], "tbc": false});
    kit::call(conn, req, "NotifyCustomerInformation", notify, 10_000).map(|_| ())
}

fn tc_n_28() -> Step {
    customer_information("N09.FR.01", true, false, "Accepted", "")
}

fn tc_n_29() -> Step {
    customer_information("N09.FR.01", true, false, "Rejected", "")
}

fn tc_n_30() -> Step {
    customer_information("N10.FR.08", true, true, "Accepted", "token seen in 3 transactions; cleared")
}

fn tc_n_31() -> Step {
    customer_information("N10.FR.08", true, true, "Accepted", "")
}

fn tc_n_32() -> Step {
    customer_information("N10.FR.08", false, true, "Accepted", "")
}

// ---- L: secure firmware update ----

/// What the station does after the CSMS's UpdateFirmware, in part 6's order.
#[derive(Clone, Copy)]
enum Fw {
    /// FirmwareStatusNotification with this status (for the current request).
    Status(&'static str),
    /// SecurityEventNotification of this type.
    SecurityEvent(&'static str),
    /// The operator asks for a second update; the station answers this.
    Again(&'static str),
    /// The station reboots into the new firmware: reconnects, boots (FirmwareUpdate; the CSMS
    /// must accept) and reports its connector Available.
    Reboot,
}

/// The operator's firmware update `id`: the request must carry the operator's request id,
/// location, signing certificate and signature (part 6 table 609's tool validations).
fn update_firmware(conn: &Connection, req: &str, id: i64, answer: &str) -> Step<i64> {
    update_firmware_at(conn, req, id, answer, None)
}

/// [`update_firmware`], installed at `install` (the operator's installDateTime) if given.
fn update_firmware_at(conn: &Connection, req: &str, id: i64, answer: &str, install: Option<&str>) -> Step<i64> {
    let mut firmware = json!({"location": format!("https://firmware.example.org/fw-{id}.bin"), "retrieveDateTime": now(), "signingCertificate": CONFIGURED_CA, "signature": "c2lnbmF0dXJlIG9mIHRoZSBmaXJtd2FyZQ=="});
    if let Some(at) = install {
        firmware["installDateTime"] = json!(at);
    }
    let call = triggered(conn, req, "UpdateFirmware", json!({"requestId": id, "firmware": firmware}), json!({"status": answer}))?;
    kit::check(call["requestId"] == id, req, format!("requestId {id}, the operator's"), || format!("requestId {}", call["requestId"]))?;
    for field in ["location", "signature"] {
        kit::check(call["firmware"][field] == firmware[field], req, format!("firmware {field} {}", firmware[field]), || {
            format!("{field} {}", call["firmware"][field])
        })?;
    }
    let cert = call["firmware"]["signingCertificate"].as_str().unwrap_or_default();
    kit::check(cert.trim() == CONFIGURED_CA.trim(), req, "the configured signing certificate", || {
        format!("{} characters of other text", cert.len())
    })?;
    if let Some(at) = install {
        let sent = call["firmware"]["installDateTime"].as_str().and_then(kit::epoch_ms);
        kit::check(sent.is_some() && sent == kit::epoch_ms(at), req, format!("firmware installDateTime {at}, the operator's (in the future)"), || {
            format!("installDateTime {}", call["firmware"]["installDateTime"])
        })?;
    }
    Ok(id)
}

/// TC_L_*_CSMS: the operator updates the firmware; the station answers `answer` and goes
/// through `script`. Returns the connection it ends on.
fn firmware_update(req: &str, answer: &str, script: &[Fw]) -> Step<Connection> {
    let conn = registered()?;
    let request_id = update_firmware(&conn, req, 60, answer)?;
    firmware_steps(conn, req, request_id, script)
}

/// The station goes through `script` for the update `request_id`; the connection it ends on.
fn firmware_steps(mut conn: Connection, req: &str, mut request_id: i64, script: &[Fw]) -> Step<Connection> {
    for step in script {
        match step {
            Fw::Status(s) => {
                kit::call(&conn, req, "FirmwareStatusNotification", json!({"status": s, "requestId": request_id}), 10_000)?;
            }
            Fw::SecurityEvent(t) => {
                kit::call(&conn, req, "SecurityEventNotification", json!({"type": t, "timestamp": now()}), 10_000)?;
            }
            Fw::Again(a) => {
                let second = update_firmware(&conn, req, 61, a)?;
                if a.starts_with("Accepted") {
                    request_id = second;
                }
            }
            Fw::Reboot => {
                conn.close();
                conn = kit::reconnect(req)?;
                let mut boot = ocpp_case_sdk::msg::boot_notification(kit::OcppVersion::V201, "FirmwareUpdate");
                boot["chargingStation"]["firmwareVersion"] = json!("2.0");
                let r = kit::call(&conn, req, "BootNotification", boot, 10_000)?;
                kit::check(r["status"] == "Accepted", req, "the station, rebooted into its new firmware, Accepted", || r.to_string())?;
                status(&conn, req, 1, "Available")?;
                availability_event(&conn, req, "Available")?;
            }
        }
    }
    Ok(conn)
}

const INSTALLED: &[Fw] = &[
    Fw::Status("Downloading"),
    Fw::Status("Downloaded"),
    Fw::Status("SignatureVerified"),
    Fw::Status("Installing"),
    Fw::Status("InstallRebooting"),
    Fw::Reboot,
    Fw::Status("Installed"),
];

fn tc_l_01() -> Step {
    firmware_update("L01.FR.01", "Accepted", INSTALLED).map(|_| ())
}

/// How long after the operator's request the install is scheduled, in s (part 6: a
/// future installDateTime; the station waits for it before Installing).
const INSTALL_IN: i64 = 5;

/// TC_L_02_CSMS: an installDateTime in the future; the station reports InstallScheduled after
/// SignatureVerified and installs once that time has come.
fn tc_l_02() -> Step {
    let conn = registered()?;
    let at = kit::time_from_now(INSTALL_IN);
    let request_id = update_firmware_at(&conn, "L01.FR.01", 63, "Accepted", Some(&at))?;
    let scheduled = [Fw::Status("Downloading"), Fw::Status("Downloaded"), Fw::Status("SignatureVerified"), Fw::Status("InstallScheduled")];
    let conn = firmware_steps(conn, "L01.FR.01", request_id, &scheduled)?;
    let due = kit::epoch_ms(&at).unwrap_or_default();
    let now_ms = kit::epoch_ms(&now()).unwrap_or_default();
    kit::clock::sleep_ms(u32::try_from((due - now_ms).max(0)).unwrap_or(0));
    firmware_steps(conn, "L01.FR.01", request_id, &INSTALLED[3..]).map(drop)
}

fn tc_l_04() -> Step {
    let conn = firmware_update("L01.FR.01", "RevokedCertificate", &[])?;
    still_in_step(&conn, "L01.FR.01")
}

fn tc_l_05() -> Step {
    firmware_update("L01.FR.01", "InvalidCertificate", &[Fw::SecurityEvent("InvalidFirmwareSigningCertificate")]).map(|_| ())
}

fn tc_l_06() -> Step {
    firmware_update(
        "L01.FR.11",
        "Accepted",
        &[Fw::Status("Downloading"), Fw::Status("Downloaded"), Fw::Status("InvalidSignature"), Fw::SecurityEvent("InvalidFirmwareSignature")],
    )
    .map(|_| ())
}

fn tc_l_07() -> Step {
    firmware_update("L01.FR.11", "Accepted", &[Fw::Status("Downloading"), Fw::Status("DownloadFailed")]).map(|_| ())
}

fn tc_l_08() -> Step {
    let script = [
        Fw::Status("Downloading"),
        Fw::Status("Downloaded"),
        Fw::Status("SignatureVerified"),
        Fw::Status("Installing"),
        Fw::Status("InstallVerificationFailed"),
    ];
    firmware_update("L01.FR.11", "Accepted", &script).map(|_| ())
}

fn tc_l_09() -> Step {
    let mut script = INSTALLED.to_vec();
    *script.last_mut().expect("INSTALLED ends with a status") = Fw::Status("InstallationFailed");
    firmware_update("L01.FR.11", "Accepted", &script).map(|_| ())
}

fn tc_l_10() -> Step {
    let mut script = vec![Fw::Status("Downloading"), Fw::Again("AcceptedCanceled")];
    script.extend_from_slice(INSTALLED);
    firmware_update("L01.FR.24", "Accepted", &script).map(|_| ())
}

/// TC_L_13_CSMS (part 6): the update comes during a transaction and the station holds it
/// (AllowNewSessionsPendingFirmwareUpdate false): DownloadScheduled, the free EVSE 2 goes
/// Unavailable, the transaction ends (StopAuthorized, EVConnectedPostSession,
/// EVDisconnected), then the update runs and the station reboots into it.
fn tc_l_13() -> Step {
    let req = "L01.FR.11";
    let conn = registered()?;
    let (tx, seq) = running(&conn)?;
    let id = update_firmware(&conn, "L01.FR.01", 62, "Accepted")?;
    let conn = firmware_steps(conn, req, id, &[Fw::Status("DownloadScheduled")])?;
    status(&conn, req, 2, "Unavailable")?;
    availability_event_at(&conn, req, 2, "Unavailable")?;
    let seq = stop_authorized(&conn, req, &tx, seq)?;
    event(&conn, req, "Updated", "ChargingStateChanged", seq, &tx, json!({"transactionInfo": {"chargingState": "EVConnected"}}))?;
    ev_disconnected(&conn, req, &tx, seq + 1)?;
    firmware_steps(conn, req, id, INSTALLED).map(drop)
}

fn tc_l_11() -> Step {
    let mut script = vec![Fw::Status("Downloading"), Fw::Again("Rejected")];
    script.extend_from_slice(&INSTALLED[1..]);
    firmware_update("L01.FR.27", "Accepted", &script).map(|_| ())
}

// ---- M: certificates the CSMS manages on the station ----

/// The CA certificate the lab configured for the certificate cases (our test root).
const CONFIGURED_CA: &str = crate::v201_cs::certificates::CSMS_ROOT;

/// Part 6's reusable state CertificateInstalled (table 709): the operator has the CSMS install
/// the configured certificate as `kind`; the request must carry that type and that
/// certificate; the station answers `answer`.
pub(super) fn certificate_installed(conn: &Connection, req: &str, kind: &str, answer: &str) -> Step {
    use crate::v201_cs::certificates::{MO_ROOT, V2G_ROOT};
    // The configured certificate of each type: the test roots of the catalogue.
    let pem = match kind {
        "V2GRootCertificate" => V2G_ROOT,
        "MORootCertificate" => MO_ROOT,
        _ => CONFIGURED_CA,
    };
    let hint = json!({"certificateType": kind, "certificate": pem});
    let call = triggered(conn, req, "InstallCertificate", hint, json!({"status": answer}))?;
    kit::check(call["certificateType"] == kind, req, format!("certificateType {kind}"), || format!("certificateType {}", call["certificateType"]))?;
    let sent = call["certificate"].as_str().unwrap_or_default();
    kit::check(sent.trim() == pem.trim(), req, "the configured certificate", || format!("{} characters of other text", sent.len()))
}

fn tc_m_01() -> Step {
    certificate_installed(&registered()?, "M05.FR.01", "CSMSRootCertificate", "Accepted")
}

fn tc_m_02() -> Step {
    certificate_installed(&registered()?, "M05.FR.01", "ManufacturerRootCertificate", "Accepted")
}

fn tc_m_05() -> Step {
    let conn = registered()?;
    certificate_installed(&conn, "M05.FR.03", "CSMSRootCertificate", "Failed")?;
    still_in_step(&conn, "M05.FR.03")
}

/// The hash data the station reports for its `kind` certificate (made-up but well-formed); a
/// V2G chain has its two sub-CAs as children (M03.FR.05).
fn hash_data(kind: &str) -> Value {
    let hash = |serial: &str| json!({"hashAlgorithm": "SHA256", "issuerNameHash": "6c2b4e0a1f", "issuerKeyHash": "9d3e5f7a2b", "serialNumber": serial});
    let mut entry = json!({"certificateType": kind, "certificateHashData": hash("4f2a")});
    if kind == "V2GCertificateChain" {
        entry["childCertificateHashData"] = json!([hash("4f2b"), hash("4f2c")]);
    }
    entry
}

/// Part 6's reusable state GetInstalledCertificates (table 708): the operator asks for the
/// station's certificates of `kind` (all kinds if None); the station answers `status` with
/// its hash data. Returns what it reported.
pub(super) fn installed_certificates(conn: &Connection, req: &str, kind: Option<&str>, status: &str) -> Step<Value> {
    let hint = match kind {
        Some(k) => json!({"certificateType": [k]}),
        None => json!({}),
    };
    let chain = json!([hash_data(kind.unwrap_or("CSMSRootCertificate"))]);
    let reply = if status == "Accepted" { json!({"status": status, "certificateHashDataChain": chain}) } else { json!({"status": status}) };
    let call = triggered(conn, req, "GetInstalledCertificateIds", hint, reply)?;
    let asked = call["certificateType"].as_array().cloned().unwrap_or_default();
    match kind {
        Some(k) => kit::check(asked.len() == 1 && asked[0] == k, req, format!("certificateType [{k}]"), || call.to_string())?,
        None => kit::check(asked.is_empty(), req, "no certificateType: every kind", || call.to_string())?,
    }
    Ok(chain)
}

fn tc_m_13() -> Step {
    installed_certificates(&registered()?, "M03.FR.01", Some("ManufacturerRootCertificate"), "Accepted").map(|_| ())
}

fn tc_m_18() -> Step {
    installed_certificates(&registered()?, "M03.FR.01", None, "Accepted").map(|_| ())
}

fn tc_m_19() -> Step {
    let conn = registered()?;
    installed_certificates(&conn, "M03.FR.02", Some("ManufacturerRootCertificate"), "NotFound")?;
    still_in_step(&conn, "M03.FR.02")
}

/// TC_M_20/21_CSMS (part 6): the CSMS looks the certificate up, then asks to delete exactly
/// the one the station reported; the station answers `answer`.
fn delete_certificate(answer: &str) -> Step {
    let req = "M04.FR.01";
    let conn = registered()?;
    let chain = installed_certificates(&conn, req, Some("CSMSRootCertificate"), "Accepted")?;
    let reported = chain[0]["certificateHashData"].clone();
    let call = triggered(&conn, req, "DeleteCertificate", json!({"certificateHashData": reported}), json!({"status": answer}))?;
    kit::check(call["certificateHashData"] == reported, req, "the hash data of the certificate the station reported", || {
        call["certificateHashData"].to_string()
    })?;
    still_in_step(&conn, req)
}

fn tc_m_20() -> Step {
    delete_certificate("Accepted")
}

fn tc_m_21() -> Step {
    delete_certificate("Failed")
}

fn tc_n_27() -> Step {
    let conn = registered()?;
    let hint = json!({"requestId": 27, "report": true, "clear": false, "customerIdentifier": "customer-42"});
    let call = triggered(&conn, "N09", "CustomerInformation", hint, json!({"status": "Accepted"}))?;
    kit::check(call["report"] == true, "N09", "report true", || call.to_string())?;
    let data = json!({"data": "no stored data", "seqNo": 0, "generatedAt": now(), "requestId": call["requestId"], "tbc": false});
    kit::call(&conn, "N09", "NotifyCustomerInformation", data, 10_000).map(|_| ())
}
