"""Cases written in Python: the same contract as the Rust suite, one module per suite."""
from ocpp_kit import Suite, call, case, prepare, check, connect_csms, csms_trigger, expect, expect_and_reply, expect_silence, info, now, plug, raw_exchange, reach_station, reboot_station, reply  # noqa: F401 (Suite is the export)

from wit_world.imports import config

BOOT = {"reason": "PowerUp", "chargingStation": {"model": "PyStation", "vendorName": "ocpp-harness"}}


@case("OH_PY_B_01_CSMS", "Python: the CSMS accepts a cold boot with a positive heartbeat interval", role="charging-station", requirements=["B01.FR.02"])
def boot_accepted():
    conn = connect_csms("B01")
    r = call(conn, "B01.FR.02", "BootNotification", BOOT)
    check(r["status"] == "Accepted", "B01.FR.02", "registration status Accepted", f"status {r['status']}")
    check(r["interval"] > 0, "B01.FR.02", "a heartbeat interval above 0 s", f"interval {r['interval']}")


@case("OH_PY_C_01_CSMS", "Python: a token the CSMS knows is Accepted, an unknown one is not", role="charging-station", requirements=["C01"])
def authorize():
    conn = connect_csms("C01")
    prepare(conn, "BootNotification", BOOT)
    good = config.valid_id_tokens()[0]
    r = call(conn, "C01", "Authorize", {"idToken": {"idToken": good, "type": "ISO14443"}})
    check(r["idTokenInfo"]["status"] == "Accepted", "C01", f"Accepted for the known token {good}", lambda: str(r["idTokenInfo"]))
    bad = config.invalid_id_token()
    r = call(conn, "C01", "Authorize", {"idToken": {"idToken": bad, "type": "ISO14443"}})
    check(r["idTokenInfo"]["status"] != "Accepted", "C01", f"a status other than Accepted for the unknown token {bad}", lambda: str(r["idTokenInfo"]))


@case("OH_PY_B_01_CS", "Python: after a reboot the station boots with the matching reason and reports a connector Available", role="csms", requirements=["B01.FR.01"])
def station_boots():
    conn, reason = reboot_station(claim=["BootNotification", "StatusNotification"])
    boot = expect_and_reply(conn, "B01.FR.01", "BootNotification", {"currentTime": now(), "interval": 300, "status": "Accepted"})
    check(boot.get("reason") == reason, "B01.FR.09", f"boot reason {reason}", f"reason {boot.get('reason')}")
    status = expect_and_reply(conn, "B01.FR.05", "StatusNotification", {})
    check(status.get("connectorStatus") == "Available", "B01.FR.05", "the first connector status Available", str(status))


@case("OH_PY_E_01_CS", "Python: from EnergyTransferStarted, pulling the cable ends the transaction with EVDisconnected", role="csms", requirements=["E10"], needs=["plug", "token-reader", "pilot"])
def cable_out_ends_transaction():
    conn, tx = reach_station("EnergyTransferStarted", 1, claim=["TransactionEvent"])
    plug(1, False)
    ev = expect_and_reply(conn, "E10", "TransactionEvent", {})
    tx_info = ev.get("transactionInfo", {})
    check(ev.get("eventType") == "Ended", "E10", "TransactionEvent Ended", f"eventType {ev.get('eventType')}")
    check(tx_info.get("transactionId") == tx, "E10", f"transaction {tx} ended", str(tx_info.get("transactionId")))
    check(tx_info.get("stoppedReason") == "EVDisconnected", "E10", "stoppedReason EVDisconnected", str(tx_info.get("stoppedReason")))


@case("OH_PY_RPC_01_CSMS", "Python: an unknown action is answered NotImplemented with the CALL's message id", role="charging-station", requirements=["OCPP-J 4.3"])
def unknown_action():
    conn = connect_csms("OCPP-J 4.3")
    prepare(conn, "BootNotification", BOOT)
    answer = raw_exchange(conn, "OCPP-J 4.3", '[2,"py-rpc-1","OhNoSuchAction",{}]')
    check(answer[0] == 4 and answer[1] == "py-rpc-1", "OCPP-J 4.3", "a CALLERROR with the CALL's message id", str(answer))
    check(answer[2] == "NotImplemented", "OCPP-J 4.3", "error code NotImplemented", f"error code {answer[2]}")


@case("OH_PY_F_06_CSMS", "Python: the CSMS sends the UnlockConnector its operator asks for, once", role="charging-station", requirements=["F05"], needs=["csms-trigger"])
def unlock_connector():
    conn = connect_csms("F05")
    prepare(conn, "BootNotification", BOOT)
    csms_trigger(conn, "UnlockConnector", {"evseId": 1, "connectorId": 1})
    c = expect(conn, "F05", "UnlockConnector")
    check(c.payload.get("evseId") == 1 and c.payload.get("connectorId") == 1, "F05", "EVSE 1, connector 1, as the operator asked", str(c.payload))
    reply(conn, "F05", c, "UnlockConnector", {"status": "Unlocked"})
    expect_silence(conn, "F05", "UnlockConnector", 500, "after it was answered")
