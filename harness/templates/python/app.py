"""{{name}}: OCPP conformance cases for ocpp-harness, in Python.
Build: componentize-py -d wit -w test-suite componentize app -o {{crate}}.wasm
Run:   ocpp-harness run --suite {{crate}}.wasm
"""
from ocpp_kit import Suite, call, case, check, connect_csms, expect_and_reply, now, reboot_station  # noqa: F401 (Suite is the export)

BOOT = {"reason": "PowerUp", "chargingStation": {"model": "MyStation", "vendorName": "me"}}


@case("OH_{{prefix}}_B_01_CSMS", "The CSMS accepts a cold boot", role="charging-station", requirements=["B01.FR.02"])
def csms_accepts_boot():
    conn = connect_csms("B01")
    r = call(conn, "B01.FR.02", "BootNotification", BOOT)
    check(r["status"] == "Accepted", "B01.FR.02", "registration status Accepted", f"status {r['status']}")


@case("OH_{{prefix}}_B_01_CS", "After a reboot the station boots with the matching reason", role="csms", requirements=["B01.FR.01"])
def station_boots():
    conn, reason = reboot_station(claim=["BootNotification"])
    boot = expect_and_reply(conn, "B01.FR.01", "BootNotification", {"currentTime": now(), "interval": 300, "status": "Accepted"})
    check(boot.get("reason") == reason, "B01.FR.09", f"boot reason {reason}", f"reason {boot.get('reason')}")
