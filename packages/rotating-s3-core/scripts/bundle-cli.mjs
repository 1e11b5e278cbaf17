#!/usr/bin/env node
// Build step, after tsc and write-tzdb: dist/bundle/, the CLI as CommonJS, which the bins require()
// (`@rotating-s3/core/cli`). `npm run bench` ("start-up") measures what it saves.
//
// - dist/bundle/main.cjs (+ chunks): dist/cli/launch.js and everything it imports, valibot, commander
//   and proper-lockfile included. Loading ~100 ES modules one by one was most of a `log` call. Dynamic
//   imports stay separate chunks, so the AWS SDK, doctor and consumer code load only when a command needs
//   them. Externals: the AWS SDK (from node_modules, on demand) and js-joda (required at run time so the
//   timezone plugin and the engine share one instance; src/time/joda.ts).
// - dist/bundle/cli.cjs: the entry. On Node 22.8+ it first turns on Node's module compile cache, so
//   later starts skip compiling the bundle; a missing, stale or broken cache only costs time (Node checks
//   it and compiles as usual), and NODE_DISABLE_COMPILE_CACHE=1 turns it off.
//
// Relocatable: chunks name each other by relative require(), `import.meta.url` becomes __filename, and
// no path of this machine is written (tools/clone-check and test/build-output.spec.ts check it).
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));

// Whitespace-only minification: less source to scan at load and to parse when a function first runs;
// names are kept, so stack traces still say which function.
const SOURCE_ONLY_MINIFY = { mangle: false, compress: false, codegen: true };

// Chunks sit one level below dist/ like dist/time/zone.js, so `new URL('../tzdb.txt', import.meta.url)`
// still finds dist/tzdb.txt.
rmSync(`${dist}bundle`, { recursive: true, force: true });
// The start-up snapshot of earlier versions lived here; a tree built by one of them must not keep it.
rmSync(`${dist}snapshot`, { recursive: true, force: true });
const bundle = await rolldown({ input: { main: `${dist}cli/launch.js` }, platform: 'node', external: [/^@aws-sdk\//, /^@js-joda\//], logLevel: 'warn' });
await bundle.write({ dir: `${dist}bundle`, format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: '[name]-[hash].cjs', minify: SOURCE_ONLY_MINIFY });
await bundle.close();

writeFileSync(
  `${dist}bundle/cli.cjs`,
  [
    "'use strict';",
    '// Entry of the bundled CLI (scripts/bundle-cli.mjs). The compile cache is an optimisation only.',
    "const { enableCompileCache } = require('node:module');",
    "if (typeof enableCompileCache === 'function') {",
    '  try {',
    '    enableCompileCache();',
    '  } catch {',
    '    // no cache: Node compiles as usual',
    '  }',
    '}',
    "module.exports = require('./main.cjs');",
    '',
  ].join('\n'),
);
