#!/usr/bin/env node
// Build step: bundles the CLI (dist/cli/main.js and everything it imports, zod and commander included)
// into CommonJS chunks under dist/bundle/, which the bins require. Loading ~100 ES modules one by one is
// most of a `log` call's start-up on Node 20 (no module compile cache); one CommonJS file starts ~35%
// faster (npm run bench, "start-up"). Modules behind a dynamic import stay in their own chunks, so the
// AWS SDK, doctor and consumer code still load only when a command needs them. Externals: the AWS SDK
// (loaded on demand from node_modules) and js-joda (required at run time so the timezone plugin and the
// engine share one instance; see src/time/joda.ts).
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
rmSync(`${dist}bundle`, { recursive: true, force: true });
const bundle = await rolldown({
  input: { cli: `${dist}cli/main.js` },
  platform: 'node',
  external: [/^@aws-sdk\//, /^@js-joda\//],
  logLevel: 'warn',
});
// Chunks sit one level below dist/ like dist/time/zone.js, so `new URL('../tzdb.json', import.meta.url)`
// still finds dist/tzdb.json. Not minified: stack traces of internal errors stay readable.
await bundle.write({ dir: `${dist}bundle`, format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: '[name]-[hash].cjs' });
await bundle.close();
