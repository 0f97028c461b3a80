// Build this suite into a WASM component: `node build.mjs OUT.wasm` (componentize-js, the
// engine jco uses; called directly because `jco componentize` cannot read WIT paths here).
import { componentize } from '@bytecodealliance/componentize-js';
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = resolve(process.argv[2] ?? 'suite.wasm');
process.chdir(dirname(fileURLToPath(import.meta.url)));
const { component } = await componentize({
  sourcePath: 'suite.js',
  witPath: '../../wit',
  worldName: 'test-suite',
  // The host gives guests no network: leave the HTTP parts of the engine out.
  disableFeatures: ['http', 'fetch-event'],
});
await writeFile(out, component);
console.log(`wrote ${out} (${component.length} bytes)`);
