// A small SDK for OCPP harness cases written in JavaScript (jco / componentize-js).
//
// A case is registered with `testCase(meta, fn)`. It passes by returning, fails by throwing
// `new Fail(requirement, expected, observed)` (`check` does it for you), skips with
// `new Skip(reason)` and is inconclusive with `new Inconclusive(reason)`. Any other exception
// is a bug in the case: the host reports an error — so is a `usage` error from the host (an
// unknown action, a payload that breaks its schema), never a failure of the DUT. The
// functions mirror the Rust kit's, with the same arguments in the same order.
import { acceptStation as hostAcceptStation, connectCsms as hostConnectCsms, reachStation as hostReachStation, readyStation as hostReadyStation, rebootStation as hostRebootStation } from 'ocpp:harness/session@0.1.0';
import { version } from 'ocpp:harness/config@0.1.0';
import { csmsTrigger as hostCsmsTrigger, plug as hostPlug, presentToken as hostPresentToken } from 'ocpp:harness/bench@0.1.0';
import { nowRfc3339 } from 'ocpp:harness/clock@0.1.0';
import { log, deviation } from 'ocpp:harness/log@0.1.0';

const CASES = [];
const VERSIONS = { '1.6': 'v16', '2.0.1': 'v201', '2.1': 'v21' };

/** Register a case; `role` is the role the harness plays: 'csms' or 'charging-station'. */
export function testCase({ id, title, role, versions = ['2.0.1'], requirements = [], profile = 'core', features = [], needs = [], timeoutMs = 20000, deviations = [] }, fn) {
  CASES.push({ meta: { id, title, versions: versions.map((v) => VERSIONS[v]), role, profile, features, requirements, needs, timeoutMs, deviations }, fn });
}

export class Fail extends Error {
  constructor(requirement, expected, observed) {
    super(`[${requirement}] expected ${expected}; observed ${observed}`);
    Object.assign(this, { requirement, expected, observed });
  }
}

export class Skip extends Error {}

/** The DUT could not be brought into the state the case needs: no conformance claim. */
export class Inconclusive extends Error {}

/**
 * Preparation, not a check: `setup('what it prepares', () => …)` turns a failure inside into an
 * inconclusive verdict citing no requirement. Only checks make claims; the mutation proof never
 * counts a failed preparation as the case catching a broken DUT.
 */
export function setup(what, fn) {
  try {
    return fn();
  } catch (e) {
    if (e instanceof Fail) throw new Inconclusive(`preparation failed (${what}): expected ${e.expected}; observed ${e.observed}`);
    throw e;
  }
}

/** A CALL made only to prepare the case: no answer, or a CALLERROR, is inconclusive. */
export function prepare(conn, action, payload, timeoutMs = 10000) {
  return setup(action, () => call(conn, '', action, payload, timeoutMs));
}

export function check(ok, requirement, expected, observed) {
  if (!ok) throw new Fail(requirement, expected, typeof observed === 'function' ? observed() : observed);
}

/**
 * A SHALL checked where the exchange can go on after it: unless `ok`, the deviation is
 * reported and the case continues; its verdict is fail, with every deviation listed.
 */
export function softCheck(ok, requirement, expected, observed) {
  if (!ok) deviation(requirement || undefined, String(expected), String(typeof observed === 'function' ? observed() : observed));
}

/** A SHOULD: unless `ok`, a compatibility warning citing `requirement`; the case goes on. */
export function should(ok, requirement, expected, observed) {
  if (!ok) log('warn', `[${requirement}] expected ${expected}; observed ${typeof observed === 'function' ? observed() : observed}`);
}

/** A session error (thrown by an import returning result<_, session-error>) as text. */
export function describe(e) {
  const err = e && e.payload !== undefined ? e.payload : e;
  return err && err.tag ? `${err.tag}: ${err.val}` : String(err);
}

/** The host refused a call as invalid (`usage`): a bug in the case, reported as an error. */
export class CaseBug extends Error {}

const isUsage = (e) => describe(e).startsWith('usage:');

/** A session error as the DUT's failure; `usage` is the case's own bug and thrown as such. */
function failure(requirement, expected, e) {
  if (isUsage(e)) return new CaseBug(describe(e));
  return new Fail(requirement, expected, describe(e));
}

function unreached(what, e) {
  if (isUsage(e)) return new CaseBug(describe(e));
  return new Inconclusive(`could not reach ${what}: ${describe(e)}`);
}

export const info = (message) => log('info', String(message));
export const now = () => nowRfc3339();

/** Harness as CSMS: wait for the station DUT; `claim` lists the actions the case answers. */
export function acceptStation(requirement, timeoutMs = 15000, claim = []) {
  try {
    return hostAcceptStation(timeoutMs, claim);
  } catch (e) {
    throw failure(requirement, 'the charging station to connect', e);
  }
}

/** Harness as CSMS, OCTT's general pre-conditions: the live, registered, idle station. */
export function readyStation(claim = []) {
  try {
    return hostReadyStation(claim);
  } catch (e) {
    throw unreached('the general pre-conditions', e);
  }
}

const STATES = {
  EVConnectedPreSession: 'ev-connected-pre-session',
  Authorized: 'authorized',
  EnergyTransferStarted: 'energy-transfer-started',
  EnergyTransferSuspended: 'energy-transfer-suspended',
  StopAuthorized: 'stop-authorized',
  EVConnectedPostSession: 'ev-connected-post-session',
  EVDisconnected: 'ev-disconnected',
  Unavailable: 'unavailable',
};

/** Harness as CSMS: an OCTT reusable state on `evse` (by its part 6 name), reached by the host.
 *  Returns [connection, transactionId or undefined]; `claim` is held from then on. */
export function reachStation(state, evse = 1, claim = []) {
  let r;
  try {
    r = hostReachStation(STATES[state], evse, claim);
  } catch (e) {
    throw unreached(`${state} on EVSE ${evse}`, e);
  }
  return [r.connection, r.transactionId];
}

/** Bench capability `plug`: the cable in or out; a bench that cannot makes the case inconclusive. */
export function plug(evse, connected) {
  benchStep(connected ? 'plug the cable in' : 'pull the cable out', () => hostPlug(evse, connected));
}

const BOOT_REASONS = { reset: 'RemoteReset', 'power-cycle': 'PowerUp', 'already-booting': 'PowerUp' };

/** Harness as CSMS, OCTT's reusable state Booted: the station boots anew (bench power cycle,
 *  else OCPP Reset). Returns the new connection and the boot reason it must give. */
export function rebootStation(claim = []) {
  let r;
  try {
    r = hostRebootStation(claim);
  } catch (e) {
    throw unreached('a fresh boot of the station', e);
  }
  info(`rebooted by ${r.method}`);
  return [r.connection, BOOT_REASONS[r.method]];
}

export function connectCsms(requirement, claim = []) {
  try {
    return hostConnectCsms(version(), claim);
  } catch (e) {
    throw failure(requirement, 'the CSMS to accept the WebSocket connection', e);
  }
}

/** Send a CALL; return the CALLRESULT payload. A CALLERROR fails the case. */
export function call(conn, requirement, action, payload, timeoutMs = 10000) {
  let out;
  try {
    out = conn.call(action, JSON.stringify(payload), timeoutMs);
  } catch (e) {
    throw failure(requirement, `an answer to ${action}`, e);
  }
  if (out.tag === 'error') throw new Fail(requirement, `a ${action} CALLRESULT`, `CALLERROR ${out.val.code} ${JSON.stringify(out.val.description)}`);
  return JSON.parse(out.val);
}

/** Wait for the DUT's CALL of `action`, answer it with `reply`, return its payload. */
export function expectAndReply(conn, requirement, action, answer, timeoutMs = 10000) {
  const incoming = expect(conn, requirement, action, timeoutMs);
  reply(conn, requirement, incoming, action, answer);
  return incoming.payload;
}

/** Wait for the DUT's next CALL of `action`: { id, payload } (claim it first if it may come early). */
export function expect(conn, requirement, action, timeoutMs = 10000) {
  try {
    const c = conn.expectCall(action, timeoutMs);
    return { id: c.messageId, payload: JSON.parse(c.payload) };
  } catch (e) {
    throw failure(requirement, `a ${action} request`, e);
  }
}

/** Answer a CALL taken with `expect`. */
export function reply(conn, requirement, incoming, action, payload) {
  try {
    conn.reply(incoming.id, JSON.stringify(payload));
  } catch (e) {
    throw failure(requirement, `to answer ${action}`, e);
  }
}

/** Answer a CALL taken with `expect` with a CALLERROR (a code the version defines). */
export function replyError(conn, requirement, incoming, code, description = '') {
  try {
    conn.replyError(incoming.id, code, description);
  } catch (e) {
    throw failure(requirement, `to answer with ${code}`, e);
  }
}

/** Fail if the DUT sends `action` within `ms` (`why` says when it must not). */
export function expectSilence(conn, requirement, action, ms, why) {
  let c;
  try {
    c = conn.expectCall(action, ms);
  } catch (e) {
    if (describe(e).startsWith('timeout:')) return;
    throw failure(requirement, `no ${action} ${why}`, e);
  }
  throw new Fail(requirement, `no ${action} ${why}`, `${action} ${c.payload}`);
}

/** Send `text` unframed and unvalidated; return the DUT's answer as parsed JSON. */
export function rawExchange(conn, requirement, text, timeoutMs = 10000) {
  let answer;
  try {
    conn.sendRaw(text);
    answer = conn.expectRaw(timeoutMs).text;
  } catch (e) {
    throw failure(requirement, 'an answer to the raw frame', e);
  }
  try {
    return JSON.parse(answer);
  } catch {
    throw new Fail(requirement, 'a JSON answer', answer);
  }
}

function benchStep(what, f) {
  try {
    f();
  } catch (e) {
    throw new Inconclusive(`could not ${what}: ${describe(e)}`);
  }
}

/** Bench capability `token-reader`: present an id token at the reader. */
export const presentToken = (token) => benchStep('present the id token', () => hostPresentToken(token));

/** Bench capability `csms-trigger`: have the CSMS DUT send `action` to us; the action is
 *  claimed first, so the CALL is not answered by default before the case expects it. */
export function csmsTrigger(conn, action, payload) {
  conn.claim([action]);
  benchStep(`make the CSMS send ${action}`, () => hostCsmsTrigger(action, JSON.stringify(payload)));
}

/** The export the host calls. */
export const suite = {
  cases() {
    return CASES.map((c) => c.meta);
  },
  run(id) {
    const c = CASES.find((x) => x.meta.id === id);
    if (!c) return { tag: 'inconclusive', val: `this suite has no case ${id}` };
    try {
      c.fn();
      return { tag: 'pass' };
    } catch (e) {
      if (e instanceof Fail) return { tag: 'fail', val: { requirement: e.requirement || undefined, expected: e.expected, observed: e.observed } };
      if (e instanceof Skip) return { tag: 'skip', val: e.message };
      if (e instanceof Inconclusive) return { tag: 'inconclusive', val: e.message };
      // Anything else is a bug in the case: the trap ends it as an error, and the host
      // reports the guest output's last lines, so the stack goes first and the reason last.
      if (e && e.stack) console.error(e.stack);
      console.error(`${id}: ${e instanceof CaseBug ? 'bug in the case' : 'uncaught exception'}: ${e && e.message ? e.message : e}`);
      throw e;
    }
  },
};
