"""A small SDK for OCPP harness cases written in Python (componentize-py).

A case is a function decorated with `@case(...)`. It passes by returning, fails by raising
`Fail(requirement, expected, observed)` (`check` does it for you), skips with `Skip(reason)`
and is inconclusive with `Inconclusive(reason)`. Any other exception is a bug in the case: the
host reports it as an error with the traceback — so is a `usage` error from the host (an
unknown action, a payload that breaks its schema), never a failure of the DUT. The functions
mirror the Rust kit's, with the same arguments in the same order.
`Suite` is the export the host calls; an app module only has to import it.
"""
import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import bench, clock, config, log, session, types

_CASES = []

VERSIONS = {"1.6": types.OcppVersion.V16, "2.0.1": types.OcppVersion.V201, "2.1": types.OcppVersion.V21}
# The role the harness plays: "csms" (the DUT is a station) or "charging-station".
ROLES = {"csms": types.Role.CSMS, "charging-station": types.Role.CHARGING_STATION}


def case(id, title, role, versions=("2.0.1",), requirements=(), profile="core", features=(), needs=(), timeout_ms=20_000, deviations=()):
    """Register a case with its metadata (the host lints it like any other)."""

    def register(fn):
        meta = types.CaseMeta(
            id=id,
            title=title,
            versions=[VERSIONS[v] for v in versions],
            role=ROLES[role],
            profile=profile,
            features=list(features),
            requirements=list(requirements),
            needs=list(needs),
            timeout_ms=timeout_ms,
            deviations=list(deviations),
        )
        _CASES.append((meta, fn))
        return fn

    return register


class Fail(Exception):
    """The DUT did not conform: which requirement, what was expected, what was observed."""

    def __init__(self, requirement, expected, observed):
        super().__init__(f"[{requirement}] expected {expected}; observed {observed}")
        self.requirement, self.expected, self.observed = requirement, expected, observed


class Skip(Exception):
    """The case does not apply; the reason is reported."""


class Inconclusive(Exception):
    """The DUT could not be brought into the state the case needs: no conformance claim."""


class setup:
    """Preparation, not a check: `with setup("what it prepares"):` turns a failure inside into
    an inconclusive verdict citing no requirement. Only checks make claims; the mutation proof
    never counts a failed preparation as the case catching a broken DUT."""

    def __init__(self, what):
        self.what = what

    def __enter__(self):
        return self

    def __exit__(self, kind, err, tb):
        if isinstance(err, Fail):
            raise Inconclusive(f"preparation failed ({self.what}): expected {err.expected}; observed {err.observed}") from None
        return False


def prepare(conn, action, payload, timeout_ms=10_000):
    """A CALL made only to prepare the case: no answer, or a CALLERROR, is inconclusive."""
    with setup(action):
        return call(conn, "", action, payload, timeout_ms)


def check(ok, requirement, expected, observed):
    """Fail with `observed` (a string, or a function giving one) unless `ok`."""
    if not ok:
        raise Fail(requirement, expected, observed() if callable(observed) else observed)


def soft_check(ok, requirement, expected, observed):
    """A SHALL checked where the exchange can go on after it: unless `ok`, the deviation is
    reported and the case continues; its verdict is fail, with every deviation listed."""
    if not ok:
        seen = observed() if callable(observed) else observed
        log.deviation(requirement or None, str(expected), str(seen))


def should(ok, requirement, expected, observed):
    """A SHOULD: unless `ok`, a compatibility warning citing `requirement`; the case goes on."""
    if not ok:
        seen = observed() if callable(observed) else observed
        log.log(log.Level.WARN, f"[{requirement}] expected {expected}; observed {seen}")


def describe(err):
    """A session error as text: its kind and the host's message."""
    e = err.value if isinstance(err, Err) else err
    kind = type(e).__name__.split("_")[-1].lower()
    return f"{kind}: {e.value}"


class CaseBug(Exception):
    """The host refused a call as invalid (`usage`): a bug in the case, reported as an error."""


def _is_usage(err):
    return describe(err).startswith("usage:")


def _failure(requirement, expected, err):
    """A session error as the DUT's failure; `usage` is the case's own bug and raised as such."""
    if _is_usage(err):
        raise CaseBug(describe(err))
    return Fail(requirement, expected, describe(err))


def _unreached(what, err):
    if _is_usage(err):
        raise CaseBug(describe(err))
    return Inconclusive(f"could not reach {what}: {describe(err)}")


def info(message):
    log.log(log.Level.INFO, str(message))


def now():
    return clock.now_rfc3339()


def accept_station(requirement, timeout_ms=15_000, claim=()):
    """Harness as CSMS: wait for the station DUT; `claim` lists the actions the case answers."""
    try:
        return session.accept_station(timeout_ms, list(claim))
    except Err as e:
        raise _failure(requirement, "the charging station to connect", e)


def ready_station(claim=()):
    """Harness as CSMS, OCTT's general pre-conditions: the station's live connection,
    registered and idle (no new boot)."""
    try:
        return session.ready_station(list(claim))
    except Err as e:
        raise _unreached("the general pre-conditions", e)


STATES = {
    "EVConnectedPreSession": session.StationState.EV_CONNECTED_PRE_SESSION,
    "Authorized": session.StationState.AUTHORIZED,
    "EnergyTransferStarted": session.StationState.ENERGY_TRANSFER_STARTED,
    "EnergyTransferSuspended": session.StationState.ENERGY_TRANSFER_SUSPENDED,
    "StopAuthorized": session.StationState.STOP_AUTHORIZED,
    "EVConnectedPostSession": session.StationState.EV_CONNECTED_POST_SESSION,
    "EVDisconnected": session.StationState.EV_DISCONNECTED,
    "Unavailable": session.StationState.UNAVAILABLE,
}


def reach_station(state, evse=1, claim=()):
    """Harness as CSMS: an OCTT reusable state on `evse` (by its part 6 name, e.g.
    "EnergyTransferStarted"), reached by the host. Returns the connection, with `claim` held from
    then on, and the transaction id the state involves (or None)."""
    try:
        r = session.reach_station(STATES[state], evse, list(claim))
    except Err as e:
        raise _unreached(f"{state} on EVSE {evse}", e)
    return r.connection, r.transaction_id


def plug(evse, connected):
    """Bench capability `plug`: the cable in or out; a bench that cannot makes the case inconclusive."""
    _bench("plug the cable in" if connected else "pull the cable out", bench.plug, evse, connected)


BOOT_REASONS = {session.RebootMethod.RESET: "RemoteReset", session.RebootMethod.POWER_CYCLE: "PowerUp", session.RebootMethod.ALREADY_BOOTING: "PowerUp"}


def reboot_station(claim=()):
    """Harness as CSMS, OCTT's reusable state Booted: the station boots anew (bench power
    cycle, else OCPP Reset). Returns the new connection and the boot reason it must give."""
    try:
        r = session.reboot_station(list(claim))
    except Err as e:
        raise _unreached("a fresh boot of the station", e)
    info(f"rebooted by {r.method}")
    return r.connection, BOOT_REASONS[r.method]


def connect_csms(requirement, claim=()):
    """Harness as station: connect to the CSMS DUT at this run's version."""
    try:
        return session.connect_csms(config.version(), list(claim))
    except Err as e:
        raise _failure(requirement, "the CSMS to accept the WebSocket connection", e)


def call(conn, requirement, action, payload, timeout_ms=10_000):
    """Send a CALL; return the CALLRESULT payload as a dict. A CALLERROR fails the case."""
    try:
        out = conn.call(action, json.dumps(payload), timeout_ms)
    except Err as e:
        raise _failure(requirement, f"an answer to {action}", e)
    if isinstance(out, session.CallOutcome_Error):
        raise Fail(requirement, f"a {action} CALLRESULT", f"CALLERROR {out.value.code} {out.value.description!r}")
    return json.loads(out.value)


def expect_and_reply(conn, requirement, action, answer, timeout_ms=10_000):
    """Wait for the DUT's CALL of `action`, answer it with `answer`, return its payload."""
    incoming = expect(conn, requirement, action, timeout_ms)
    reply(conn, requirement, incoming, action, answer)
    return incoming.payload


class Incoming:
    """A CALL from the DUT: its message id and its payload as a dict."""

    def __init__(self, id, payload):
        self.id, self.payload = id, payload


def expect(conn, requirement, action, timeout_ms=10_000):
    """Wait for the DUT's next CALL of `action` (claim it first if it may come early)."""
    try:
        c = conn.expect_call(action, timeout_ms)
    except Err as e:
        raise _failure(requirement, f"a {action} request", e)
    return Incoming(c.message_id, json.loads(c.payload))


def reply(conn, requirement, incoming, action, payload):
    """Answer a CALL taken with `expect`."""
    try:
        conn.reply(incoming.id, json.dumps(payload))
    except Err as e:
        raise _failure(requirement, f"to answer {action}", e)


def reply_error(conn, requirement, incoming, code, description=""):
    """Answer a CALL taken with `expect` with a CALLERROR (a code the version defines)."""
    try:
        conn.reply_error(incoming.id, code, description)
    except Err as e:
        raise _failure(requirement, f"to answer with {code}", e)


def expect_silence(conn, requirement, action, ms, why):
    """Fail if the DUT sends `action` within `ms` (`why` says when it must not)."""
    try:
        c = conn.expect_call(action, ms)
    except Err as e:
        if describe(e).startswith("timeout:"):
            return
        raise _failure(requirement, f"no {action} {why}", e)
    raise Fail(requirement, f"no {action} {why}", f"{action} {c.payload}")


def raw_exchange(conn, requirement, text, timeout_ms=10_000):
    """Send `text` unframed and unvalidated; return the DUT's answer as parsed JSON."""
    try:
        conn.send_raw(text)
        answer = conn.expect_raw(timeout_ms).text
    except Err as e:
        raise _failure(requirement, "an answer to the raw frame", e)
    try:
        return json.loads(answer)
    except ValueError:
        raise Fail(requirement, "a JSON answer", answer)


def _bench(what, f, *args):
    try:
        f(*args)
    except Err as e:
        raise Inconclusive(f"could not {what}: {e.value.value}")


def present_token(token):
    """Bench capability `token-reader`: present an id token at the reader."""
    _bench("present the id token", bench.present_token, token)


def csms_trigger(conn, action, payload):
    """Bench capability `csms-trigger`: have the CSMS DUT send `action` to us; the action is
    claimed first, so the CALL is not answered by default before the case expects it."""
    conn.claim([action])
    _bench(f"make the CSMS send {action}", bench.csms_trigger, action, json.dumps(payload))


class Suite(exports.Suite):
    """The export: lists the registered cases and runs one by id."""

    def cases(self):
        return [meta for meta, _ in _CASES]

    def run(self, id):
        for meta, fn in _CASES:
            if meta.id == id:
                try:
                    fn()
                    return types.Verdict_Pass()
                except Fail as f:
                    return types.Verdict_Fail(types.Failure(requirement=f.requirement or None, expected=f.expected, observed=f.observed))
                except Skip as s:
                    return types.Verdict_Skip(str(s))
                except Inconclusive as i:
                    return types.Verdict_Inconclusive(str(i))
        return types.Verdict_Inconclusive(f"this suite has no case {id}")
