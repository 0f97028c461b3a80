// {{name}}: OCPP conformance cases for ocpp-harness, in JavaScript.
// Build: npm install && node build.mjs {{crate}}.wasm
// Run:   ocpp-harness run --suite {{crate}}.wasm
import { call, check, connectCsms, expectAndReply, now, rebootStation, testCase } from './kit.js';

export { suite } from './kit.js';

const BOOT = { reason: 'PowerUp', chargingStation: { model: 'MyStation', vendorName: 'me' } };

testCase({ id: 'OH_{{prefix}}_B_01_CSMS', title: 'The CSMS accepts a cold boot', role: 'charging-station', requirements: ['B01.FR.02'] }, () => {
  const conn = connectCsms('B01');
  const r = call(conn, 'B01.FR.02', 'BootNotification', BOOT);
  check(r.status === 'Accepted', 'B01.FR.02', 'registration status Accepted', `status ${r.status}`);
});

testCase({ id: 'OH_{{prefix}}_B_01_CS', title: 'After a reboot the station boots with the matching reason', role: 'csms', requirements: ['B01.FR.01'] }, () => {
  const [conn, reason] = rebootStation(['BootNotification']);
  const boot = expectAndReply(conn, 'B01.FR.01', 'BootNotification', { currentTime: now(), interval: 300, status: 'Accepted' });
  check(boot.reason === reason, 'B01.FR.09', `boot reason ${reason}`, `reason ${boot.reason}`);
});
