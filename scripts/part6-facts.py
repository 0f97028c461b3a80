#!/usr/bin/env python3
"""Extract the facts `ocpp-harness fidelity` compares against from the OCA part 6 index
(shared/ocpp-docs/v201/part6-index.json): per test case, each step's side, message and the
field values it states. Only names and token-like values are kept (no prose: the OCA text is
CC BY-ND); placeholders such as "<Configured ...>" are dropped.

    scripts/part6-facts.py ../shared/ocpp-docs/v201/part6-index.json > harness/data/part6-steps.json
"""
import json
import re
import sys

TOKEN = re.compile(r"[A-Za-z0-9_.:+-]+")
FR = re.compile(r"\b([A-Z][0-9]{2})[._]FR[._]([0-9]{2})\b")


OPTIONAL = re.compile(r"Steps?\s+([0-9][0-9\s,&]*(?:and\s+[0-9]+)?)\s+(?:are|is)\s+optional(?!\s+after)")


def optional_steps(case):
    """Step numbers a note of the table calls optional ("Step 1, 2, 3, & 4 are optional")."""
    numbers = set()
    for note in case.get("notes") or []:
        for m in OPTIONAL.finditer(note):
            numbers.update(int(n) for n in re.findall(r"[0-9]+", m.group(1)))
    return numbers


def facts(case):
    optional = optional_steps(case)
    steps = []
    for s in case.get("steps", []):
        if not s.get("message") or s.get("by") not in ("SUT", "OCTT"):
            continue
        raw = s.get("fields") or {}
        # Values stated under a condition ("If … : Rejected … If …: Accepted") are one value
        # per branch the table does not split: none of them can be compared.
        conditional = any(isinstance(v, str) and (re.search(r"\bIf\b", v) or v.endswith(":")) for v in raw.values())
        fields = {} if conditional else {k: v for k, v in raw.items() if isinstance(v, str) and TOKEN.fullmatch(v) and TOKEN.fullmatch(k)}
        step = {"n": s.get("n"), "by": s["by"], "message": s["message"], "fields": fields}
        if s.get("branch"):
            step["branch"] = s["branch"]
        if s.get("n") in optional:
            step["optional"] = True
        steps.append(step)
    # The FR ids the table cites, in part 2's spelling (the index has some as C12_FR_02).
    requirements = []
    for r in case.get("requirements") or []:
        for m in FR.finditer(r):
            rid = f"{m.group(1)}.FR.{m.group(2)}"
            if rid not in requirements:
                requirements.append(rid)
    return {"id": case["id"], "sut": case.get("sut"), "requirements": requirements, "steps": steps}


def main():
    index = json.load(open(sys.argv[1]))
    out = [facts(c) for c in index if c.get("id", "").startswith("TC_")]
    out.sort(key=lambda c: c["id"])
    json.dump(out, sys.stdout, indent=None, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
