#!/usr/bin/env python3
"""Extract the facts `ocpp-harness fidelity` compares against from the OCA part 6 index
(shared/ocpp-docs/v201/part6-index.json): per test case, each step's side, message and the
field values it states, and the message and field names each tool validation checks. Only names and token-like values are kept (no prose: the OCA text is
CC BY-ND); placeholders such as "<Configured ...>" are dropped.

    scripts/part6-facts.py ../shared/ocpp-docs/v201/part6-index.json > harness/data/part6-steps.json

(the reusable states are read from part6-reusable-states.json next to the index, and the notes
that make a step conditional from the part-6 Markdown there, which the index cuts short)
"""
import json
import re
import sys

TOKEN = re.compile(r"[A-Za-z0-9_.:+-]+")
# Block O's ids come out of the PDF conversion with a zero for the letter (001_FR_12 for
# O01.FR.12): the letter is put back.
FR = re.compile(r"\b([A-Z0][0-9]{2})[._]FR[._]([0-9]{2})\b")


OPTIONAL = re.compile(r"Steps?\s+([0-9][0-9\s,&]*(?:and\s+[0-9]+)?)\s+(?:are|is)\s+optional(?!\s+after)")


def optional_steps(case):
    """Step numbers a note of the table calls optional ("Step 1, 2, 3, & 4 are optional")."""
    numbers = set()
    for note in case.get("notes") or []:
        for m in OPTIONAL.finditer(note):
            numbers.update(int(n) for n in re.findall(r"[0-9]+", m.group(1)))
    return numbers


# A step's own note that it happens only under a condition of the station's configuration or
# state ("This step needs to be executed when …", "This step will only …").
CONDITIONAL = re.compile(r"(\d+)\.\s[^0-9]{0,200}?Note\(s\):\s*-?\s*This step (?:needs to be executed|will only|only|is executed|will be executed)")

# A note that names the steps it makes conditional ("Steps 5, 6, 7, and 8 are only required
# when status in Step 2 is RebootRequired", TC_A_09_CS): group 1 lists them.
CONDITIONAL_LIST = re.compile(r"Steps ((?:\d+,?\s*(?:and\s*)?)+) are only required when")


# A step that says what must not happen ("1. The Charging Station does NOT send a …", "5. The
# OCTT does NOT send …", "3. If an AuthorizationRequest is received, the testcase will FAIL"):
# the index keeps its message as if it were sent.
NEGATED = re.compile(r"(\d+)\.\s*(?:The (?:Charging Station|CSMS|OCTT) does NOT send|If an? \w+ is received, the test ?case will FAIL)")


def tables(markdown):
    """(test case id, the table as plain text) for each test case table of part 6; the id from
    the caption before it ("Table 87. Test Case Id: TC_C_58_CS"), as the index has it: a table
    may name another id inside (TC_C_58_CS's says TC_C_28_CS)."""
    for m in re.finditer(r"Test Case Id:\s*(TC_[A-Z0-9_]+)\s*(<table>.*?</table>)", markdown, re.S):
        yield m.group(1), re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(2)))


def steps_saying(markdown, *patterns):
    """Per pattern (its group 1 a step number), per test case id, the steps whose text in the
    table matches it: CONDITIONAL ones are matched where they happened, as optional ones;
    NEGATED ones are no step to match (the case's own checks show the silence)."""
    found = [{} for _ in patterns]
    for tc, text in tables(markdown):
        for out, pattern in zip(found, patterns):
            for m in pattern.finditer(text):
                out.setdefault(tc, set()).update(int(n) for n in re.findall(r"\d+", m.group(1)))
    return found


GLUED = re.compile(r"([A-Z][A-Za-z0-9]*[a-z0-9])((?:transactionInfo|chargingProfile|idToken|evse|meterValue)[A-Za-z]*)")


def unglued(value):
    """An enumeration value without the field name the index glued to its end."""
    m = GLUED.fullmatch(value)
    return m.group(1) if m else value


def facts(case, states, conditional=frozenset(), negated=frozenset()):
    optional = optional_steps(case)
    # A conditional step's answer (the next step, a Response) is conditional with it.
    steps_by_n = {s.get("n"): s for s in case.get("steps", [])}
    for n in conditional:
        optional.add(n)
        if (steps_by_n.get(n + 1, {}).get("message") or "").endswith("Response"):
            optional.add(n + 1)
    steps = []
    # Unnumbered messages after "notifies the CSMS about the current state of all connectors"
    # are that step's two allowed forms (StatusNotification or NotifyEvent, TC_A_06_CSMS), not
    # steps of their own; the index gives them to the wrong side.
    forms_of_connector_state = False
    for s in case.get("steps", []):
        if s.get("n") is not None:
            # The step and its answer ("The CSMS responds accordingly.").
            forms_of_connector_state = "current state of" in (s.get("summary") or "") or (forms_of_connector_state and not s.get("message"))
        elif forms_of_connector_state:
            continue
        if not s.get("message") or s.get("by") not in ("SUT", "OCTT") or s.get("n") in negated:
            continue
        raw = s.get("fields") or {}
        # Values stated under a condition ("If … : Rejected … If …: Accepted") are one value
        # per branch the table does not split: none of them can be compared.
        conditional = any(isinstance(v, str) and (re.search(r"\bIf\b", v) or v.endswith(":")) for v in raw.values())
        fields = {} if conditional else {k: v for k, v in raw.items() if isinstance(v, str) and TOKEN.fullmatch(v) and TOKEN.fullmatch(k)}
        # "absent" (or "Omitted", "omit") is the harness's "omitted"; a lone "if" is the start of a condition the
        # index cut off (TC_K_13_CS): no value.
        fields = {k: ("omitted" if v.lower() in ("absent", "omitted", "omit") else v) for k, v in fields.items() if v.lower() != "if"}
        # A lone lower-case letter is a loop variable ("evseId i": one step per EVSE), not a
        # value; an enumeration value the index glued to the next field's name
        # ("RemoteStarttransactionInfo") is the value alone.
        fields = {k: unglued(v) for k, v in fields.items() if not re.fullmatch(r"[a-z]", v)}
        # "hashes from configured (V2G) certificate chain" wrapped so that the index read its
        # last words as a field `certificate` of value "chain" (TC_C_50/51_CSMS): no field.
        fields = {k: v for k, v in fields.items() if (k, v) != ("certificate", "chain")}
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
            uc = m.group(1)
            rid = f"{'O' + uc[1:] if uc[0] == '0' else uc}.FR.{m.group(2)}"
            if rid not in requirements:
                requirements.append(rid)
    return {"id": case["id"], "sut": case.get("sut"), "requirements": requirements, "steps": steps, "validations": validations(case, states)}


PATH = re.compile(r"[A-Za-z0-9_.\[\]]+")


def validations(case, states=None):
    """The tool validations as the message they are about and the field paths they check
    (names only, not the values or notes): the proof wants a case to fail when one of those
    fields is wrong. A table that validates nothing of its own but goes through reusable
    states (TC_B_01_CS is the state Booted) has theirs, marked with the state's name."""
    out = []
    if states is not None and not any(isinstance(v, dict) and v.get("message") for v in case.get("validations") or []):
        for s in case.get("steps", []):
            state = states.get((s.get("reusable_state"), case.get("sut")))
            for v in validations(state) if state else []:
                out.append(dict(v, state=s["reusable_state"]))
        if out:
            return out
    for v in (case.get("validations") or []) + (case.get("post_validations") or []):
        if not isinstance(v, dict) or not v.get("message") or not TOKEN.fullmatch(v["message"]):
            continue
        out.append({"step": v.get("step"), "message": v["message"], "fields": sorted(k for k in (v.get("checks") or {}) if PATH.fullmatch(k))})
    return out


def main():
    index = json.load(open(sys.argv[1]))
    # The reusable states sit next to the index (part6-reusable-states.json).
    states_file = sys.argv[1].replace("part6-index.json", "part6-reusable-states.json")
    states = {(s["name"], s.get("sut")): s for s in json.load(open(states_file))}
    markdown = sys.argv[1].replace("part6-index.json", "OCPP-2.0.1_edition3_part6-testcases.md")
    text = open(markdown).read()
    conditional, listed, negated = steps_saying(text, CONDITIONAL, CONDITIONAL_LIST, NEGATED)
    for tc, steps in listed.items():
        conditional.setdefault(tc, set()).update(steps)
    out = [facts(c, states, conditional.get(c["id"], frozenset()), negated.get(c["id"], frozenset())) for c in index if c.get("id", "").startswith("TC_")]
    out.sort(key=lambda c: c["id"])
    json.dump(out, sys.stdout, indent=None, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
