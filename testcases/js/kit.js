// A small SDK for OCPP harness cases written in JavaScript (jco / componentize-js).
//
// A case is registered with `testCase(meta, fn)`. It passes by returning, fails by throwing
// `new Fail(requirement, expected, observed)` (`check` does it for you) and skips with
// `new Skip(reason)`. Any other exception is a bug in the case: the host reports an error.
import { acceptStation as hostAcceptStation, connectCsms as hostConnectCsms, reachStation as hostReachStation, readyStation as hostReadyStation, rebootStation as hostRebootStation } from 'ocpp:harness/session@0.1.0';
import { version } from 'ocpp:harness/config@0.1.0';
import { plug as hostPlug } from 'ocpp:harness/bench@0.1.0';
import { nowRfc3339 } from 'ocpp:harness/clock@0.1.0';
import { log } from 'ocpp:harness/log@0.1.0';

const CASES = [];
const VERSIONS = { '1.6': 'v16', '2.0.1': 'v201', '2.1': 'v21' };

/** Register a case; `role` is the role the harness plays: 'csms' or 'charging-station'. */
export function testCase({ id, title, role, versions = ['2.0.1'], requirements = [], profile = 'core', features = [], needs = [], timeoutMs = 20000 }, fn) {
  CASES.push({ meta: { id, title, versions: versions.map((v) => VERSIONS[v]), role, profile, features, requirements, needs, timeoutMs }, fn });
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

export function check(ok, requirement, expected, observed) {
  if (!ok) throw new Fail(requirement, expected, typeof observed === 'function' ? observed() : observed);
}

/** A session error (thrown by an import returning result<_, session-error>) as text. */
export function describe(e) {
  const err = e && e.payload !== undefined ? e.payload : e;
  return err && err.tag ? `${err.tag}: ${err.val}` : String(err);
}

export const info = (message) => log('info', String(message));
export const now = () => nowRfc3339();

export function acceptStation(requirement, claim = [], timeoutMs = 15000) {
  try {
    return hostAcceptStation(timeoutMs, claim);
  } catch (e) {
    throw new Fail(requirement, 'the charging station to connect', describe(e));
  }
}

/** Harness as CSMS, OCTT's general pre-conditions: the live, registered, idle station. */
export function readyStation(claim = []) {
  try {
    return hostReadyStation(claim);
  } catch (e) {
    throw new Inconclusive(`could not reach the general pre-conditions: ${describe(e)}`);
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
    throw new Inconclusive(`could not reach ${state} on EVSE ${evse}: ${describe(e)}`);
  }
  return [r.connection, r.transactionId];
}

/** Bench capability `plug`: the cable in or out; a bench that cannot makes the case inconclusive. */
export function plug(evse, connected) {
  try {
    hostPlug(evse, connected);
  } catch (e) {
    throw new Inconclusive(`could not ${connected ? 'plug the cable in' : 'pull the cable out'}: ${describe(e)}`);
  }
}

const BOOT_REASONS = { reset: 'RemoteReset', 'power-cycle': 'PowerUp', 'already-booting': 'PowerUp' };

/** Harness as CSMS, OCTT's reusable state Booted: the station boots anew (bench power cycle,
 *  else OCPP Reset). Returns the new connection and the boot reason it must give. */
export function rebootStation(claim = []) {
  let r;
  try {
    r = hostRebootStation(claim);
  } catch (e) {
    throw new Inconclusive(`could not reach a fresh boot of the station: ${describe(e)}`);
  }
  info(`rebooted by ${r.method}`);
  return [r.connection, BOOT_REASONS[r.method]];
}

export function connectCsms(requirement, claim = []) {
  try {
    return hostConnectCsms(version(), claim);
  } catch (e) {
    throw new Fail(requirement, 'the CSMS to accept the WebSocket connection', describe(e));
  }
}

/** Send a CALL; return the CALLRESULT payload. A CALLERROR fails the case. */
export function call(conn, requirement, action, payload, timeoutMs = 10000) {
  let out;
  try {
    out = conn.call(action, JSON.stringify(payload), timeoutMs);
  } catch (e) {
    throw new Fail(requirement, `an answer to ${action}`, describe(e));
  }
  if (out.tag === 'error') throw new Fail(requirement, `a ${action} CALLRESULT`, `CALLERROR ${out.val.code} ${JSON.stringify(out.val.description)}`);
  return JSON.parse(out.val);
}

/** Wait for the DUT's CALL of `action`, answer it with `reply`, return its payload. */
export function expectAndReply(conn, requirement, action, reply, timeoutMs = 10000) {
  try {
    const incoming = conn.expectCall(action, timeoutMs);
    conn.reply(incoming.messageId, JSON.stringify(reply));
    return JSON.parse(incoming.payload);
  } catch (e) {
    throw new Fail(requirement, `a ${action} request`, describe(e));
  }
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
      throw e;
    }
  },
};
