#!/usr/bin/env python3
"""Extract part 6's configuration states (the "Before" row of each test case table) that set a
device-model variable to a literal value, for the harness to apply before the case
(`harness/src/configuration.rs`). Names are checked against part 2's device model
(dm_components_vars.csv): a line that names no variable there, or whose value is a
"<Configured …>" placeholder or a condition ("contains …"), is left to the case itself. Only
names and values are kept (the OCA text is CC BY-ND).

    scripts/part6-configuration.py ../shared/ocpp-docs/v201 > harness/data/part6-configuration.json
"""
import csv
import json
import re
import sys

# Part 6 writes some names as part 2's prose does; the device model's names.
ALIASES = {
    "AuthEnabled": ("AuthCtrlr", "Enabled"),
    "AuthCacheEnabled": ("AuthCacheCtrlr", "Enabled"),
    "LocalAuthListEnabled": ("LocalAuthListCtrlr", "Enabled"),
    "ReservationEnabled": ("ReservationCtrlr", "Enabled"),
    "LocalAuthorizationOffline": ("AuthCtrlr", "LocalAuthorizeOffline"),
    "LocalPreAuthorization": ("AuthCtrlr", "LocalPreAuthorize"),
}
LINE = re.compile(r"^\s*(?:(?P<component>[A-Za-z0-9]+)\.)?(?P<variable>[A-Za-z0-9]+)\s*=\s*(?P<value>true|false|-?[0-9]+(?:\.[0-9]+)?)\s*(?P<rest>.*)$")


def device_model(docs):
    variables = {}
    with open(f"{docs}/Appendices_CSV_v1.4/dm_components_vars.csv", newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f, delimiter=";"):
            component = row["Specific Component"]
            if component.startswith("<") or row["Instance"]:
                continue
            variables.setdefault(row["Variable"], {})[component] = row["Required?"].strip() == "yes"
    return variables


def setting(line, model):
    m = LINE.match(line)
    if not m:
        return None
    component, variable, rest = m["component"], m["variable"], m["rest"]
    if variable in ALIASES:
        component, variable = ALIASES[variable]
    if component and component.endswith("Ctrl"):
        component += "r"
    owners = model.get(variable, {})
    if component is None and len(owners) == 1:
        component = next(iter(owners))
    if component not in owners:
        return None
    return {
        "component": component,
        "variable": variable,
        "value": m["value"],
        "required": owners[component],
        "if_implemented": "implemented" in rest,
        "if_writable": "ReadWrite" in rest,
    }


def main():
    docs = sys.argv[1]
    model = device_model(docs)
    index = json.load(open(f"{docs}/part6-index.json"))
    out = {}
    for case in index:
        if not case.get("id", "").startswith("TC_") or case.get("sut") != "CS":
            continue
        settings = [s for s in (setting(l, model) for l in case.get("configuration_state") or []) if s]
        if settings:
            out[case["id"]] = settings
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
