// Node only: loads a built component (a .wasm of world weir:plugin/projection) so that
// tests can run it against TestHost, the same scenarios as the native tests. Uses the
// pinned jco from target/toolchains/js (guest-sdk/js/build-component.sh installs it) to
// transpile the component to core Wasm + JS, cached under target/plugins/.jco/.
//
//   const component = await loadComponent('target/plugins/order-summary-js.wasm');
//   const results = new TestHost().table(...).runComponent(component, events);
//
// One loaded component is one instance: it asks for the tables and topics once, so use
// it with hosts that declare the same ones (as one pipeline does).

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root. */
export const repo = resolve(here, '../../..');
const jcoBin = join(repo, 'target/toolchains/js/node_modules/.bin/jco');

// Every loaded instance calls whichever host `handle` was last called with.
const SHIM = `const h = () => globalThis.__weirComponentHost;
export const readModel = {
  get: (table, key) => h().get(table, key),
  upsert: (input, row) => h().upsert(input, row),
  delete: (input, row) => h().delete(input, row),
  // The component imports the whole interface; the JavaScript SDK never calls these.
  getPacked: () => { throw new Error('read-model.get-packed: not used by the JavaScript SDK'); },
  upsertPacked: () => { throw new Error('read-model.upsert-packed: not used by the JavaScript SDK'); },
};
export const topics = { emit: (input, outgoing) => h().emit(input, outgoing) };
export const context = {
  recordInfo: (origin) => h().recordInfo(origin),
  log: (level, message) => h().log(level, message),
  tables: () => h().tables(),
  topics: () => h().topics(),
  pipeline: () => 'test',
};
`;

let instances = 0;

/** Whether the toolchain to load components is installed. */
export const canLoadComponents = () => existsSync(jcoBin);

/** Loads the component at `wasmPath`; returns `{ handle(batch, host) }`. */
export async function loadComponent(wasmPath) {
  const bytes = readFileSync(wasmPath);
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  const name = basename(wasmPath, '.wasm');
  const out = join(repo, 'target/plugins/.jco', `${name}-${hash}`);
  if (!existsSync(join(out, `${name}.js`))) {
    mkdirSync(out, { recursive: true });
    execFileSync(jcoBin, ['transpile', wasmPath, '-o', out, '--name', name, '--no-typescript', '-q', '-M', 'weir:plugin/*=./weir-host.js#*'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  writeFileSync(join(out, 'weir-host.js'), SHIM);
  const module = await import(`${pathToFileURL(join(out, `${name}.js`))}?instance=${instances++}`);
  return {
    handle(batch, host) {
      globalThis.__weirComponentHost = host;
      return module.handle(batch);
    },
  };
}
