// Cases written in JavaScript: the same contract as the Rust suite.
import { validIdTokens } from 'ocpp:harness/config@0.1.0';
import { call, check, prepare, connectCsms, csmsTrigger, expect, expectAndReply, expectSilence, now, plug, rawExchange, reachStation, rebootStation, reply, testCase } from './kit.js';

export { suite } from './kit.js';

const BOOT = { reason: 'PowerUp', chargingStation: { model: 'JsStation', vendorName: 'ocpp-harness' } };

testCase({ id: 'OH_JS_B_01_CSMS', title: 'JavaScript: the CSMS accepts a cold boot with a positive heartbeat interval', role: 'charging-station', requirements: ['B01.FR.02'] }, () => {
  const conn = connectCsms('B01');
  const r = call(conn, 'B01.FR.02', 'BootNotification', BOOT);
  check(r.status === 'Accepted', 'B01.FR.02', 'registration status Accepted', `status ${r.status}`);
  check(r.interval > 0, 'B01.FR.02', 'a heartbeat interval above 0 s', `interval ${r.interval}`);
});

testCase({ id: 'OH_JS_G_01_CSMS', title: 'JavaScript: a Heartbeat is answered with the current time', role: 'charging-station', requirements: ['G02'] }, () => {
  const conn = connectCsms('G02');
  prepare(conn, 'BootNotification', BOOT);
  const r = call(conn, 'G02', 'Heartbeat', {});
  check(typeof r.currentTime === 'string' && !Number.isNaN(Date.parse(r.currentTime)), 'G02', 'currentTime as a date-time', JSON.stringify(r));
});

testCase({ id: 'OH_JS_C_01_CSMS', title: 'JavaScript: a token the CSMS knows is Accepted', role: 'charging-station', requirements: ['C01'] }, () => {
  const conn = connectCsms('C01');
  prepare(conn, 'BootNotification', BOOT);
  const token = validIdTokens()[0];
  const r = call(conn, 'C01', 'Authorize', { idToken: { idToken: token, type: 'ISO14443' } });
  check(r.idTokenInfo.status === 'Accepted', 'C01', `Accepted for the known token ${token}`, JSON.stringify(r.idTokenInfo));
});

testCase({ id: 'OH_JS_B_01_CS', title: 'JavaScript: after a reboot the station boots with the matching reason and reports a connector Available', role: 'csms', requirements: ['B01.FR.01'] }, () => {
  const [conn, reason] = rebootStation(['BootNotification', 'StatusNotification']);
  const boot = expectAndReply(conn, 'B01.FR.01', 'BootNotification', { currentTime: now(), interval: 300, status: 'Accepted' });
  check(boot.reason === reason, 'B01.FR.09', `boot reason ${reason}`, `reason ${boot.reason}`);
  const status = expectAndReply(conn, 'B01.FR.05', 'StatusNotification', {});
  check(status.connectorStatus === 'Available', 'B01.FR.05', 'the first connector status Available', JSON.stringify(status));
});

testCase({ id: 'OH_JS_E_01_CS', title: 'JavaScript: from EnergyTransferStarted, pulling the cable ends the transaction with EVDisconnected', role: 'csms', requirements: ['E10'], needs: ['plug', 'token-reader', 'pilot'] }, () => {
  const [conn, tx] = reachStation('EnergyTransferStarted', 1, ['TransactionEvent']);
  plug(1, false);
  const ev = expectAndReply(conn, 'E10', 'TransactionEvent', {});
  const info = ev.transactionInfo || {};
  check(ev.eventType === 'Ended', 'E10', 'TransactionEvent Ended', `eventType ${ev.eventType}`);
  check(info.transactionId === tx, 'E10', `transaction ${tx} ended`, String(info.transactionId));
  check(info.stoppedReason === 'EVDisconnected', 'E10', 'stoppedReason EVDisconnected', String(info.stoppedReason));
});

testCase({ id: 'OH_JS_RPC_01_CSMS', title: "JavaScript: an unknown action is answered NotImplemented with the CALL's message id", role: 'charging-station', requirements: ['OCPP-J 4.3'] }, () => {
  const conn = connectCsms('OCPP-J 4.3');
  prepare(conn, 'BootNotification', BOOT);
  const answer = rawExchange(conn, 'OCPP-J 4.3', '[2,"js-rpc-1","OhNoSuchAction",{}]');
  check(answer[0] === 4 && answer[1] === 'js-rpc-1', 'OCPP-J 4.3', "a CALLERROR with the CALL's message id", JSON.stringify(answer));
  check(answer[2] === 'NotImplemented', 'OCPP-J 4.3', 'error code NotImplemented', `error code ${answer[2]}`);
});

testCase({ id: 'OH_JS_F_06_CSMS', title: 'JavaScript: the CSMS sends the UnlockConnector its operator asks for, once', role: 'charging-station', requirements: ['F05'], needs: ['csms-trigger'] }, () => {
  const conn = connectCsms('F05');
  prepare(conn, 'BootNotification', BOOT);
  csmsTrigger(conn, 'UnlockConnector', { evseId: 1, connectorId: 1 });
  const c = expect(conn, 'F05', 'UnlockConnector');
  check(c.payload.evseId === 1 && c.payload.connectorId === 1, 'F05', 'EVSE 1, connector 1, as the operator asked', JSON.stringify(c.payload));
  reply(conn, 'F05', c, 'UnlockConnector', { status: 'Unlocked' });
  expectSilence(conn, 'F05', 'UnlockConnector', 500, 'after it was answered');
});
