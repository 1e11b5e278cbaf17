#!/usr/bin/env node
// Build step, after tsc and write-tzdb. Two products, both for start-up speed on Node 20 (which has no
// module compile cache); `npm run bench` ("start-up") measures them.
//
// 1. dist/bundle/*.cjs — the CLI (dist/cli/launch.js and everything it imports, valibot and commander
//    included) as CommonJS chunks, which the bins require(). Loading ~100 ES modules one by one was most
//    of a `log` call. Dynamic imports stay separate chunks, so the AWS SDK, doctor and consumer code load
//    only when a command needs them. Externals: the AWS SDK (from node_modules, on demand) and js-joda
//    (required at run time so the timezone plugin and the engine share one instance; src/time/joda.ts).
//
// 2. dist/snapshot/cli.blob — a V8 start-up snapshot of the same CLI with everything above already
//    loaded, built from a one-file bundle of dist/cli/snapshot-main.js (a snapshot takes one script that
//    may require only Node built-ins). There js-joda and its timezone plugin are bundled (src/time/joda.ts
//    is swapped for a module that requires them statically) and the AWS SDK is reached at run time
//    through a require() that snapshot-main.js installs. dist/snapshot/node.json records the Node that
//    built it: a blob only works with that exact binary, and the delegate checks before using it.
//    If the snapshot cannot be built, the build says so and goes on: scripts then start from dist/bundle.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { rolldown } from 'rolldown';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));

// Whitespace-only minification for both products: less source to scan at load and to parse when a
// function first runs (~4 ms of a `log` call); names are kept, so stack traces still say which function.
const SOURCE_ONLY_MINIFY = { mangle: false, compress: false, codegen: true };

// proper-lockfile's two load-time costs, ~10 ms of each CLI call, replaced in both products:
// - graceful-fs (~5 ms: it clones and patches fs) serves proper-lockfile's mkdir/stat/utimes/rmdir,
//   none of which can hit EMFILE in a CLI holding a few files open: node:fs takes its place.
// - signal-exit 3 (~5 ms with node:assert) removes held locks when the process exits on a signal:
//   write-file-atomic's signal-exit 4 (already loaded, in the snapshot too) does the same job, so
//   proper-lockfile registers its callback there through a two-line adapter (same onExit(cb) contract).
// The library entry (dist/index.js) loads the packages as published.
const require = createRequire(import.meta.url);
const signalExit4 = createRequire(require.resolve('write-file-atomic')).resolve('signal-exit');
const lockfileDependencies = {
  name: 'proper-lockfile-dependencies',
  resolveId(id, importer) {
    if (id === 'graceful-fs' && importer?.includes(`${sep}proper-lockfile${sep}`)) return '\0graceful-fs:node-fs';
    if (id === 'signal-exit' && importer?.includes(`${sep}proper-lockfile${sep}`)) return '\0signal-exit:3-on-4';
    return null;
  },
  load(id) {
    if (id === '\0graceful-fs:node-fs') return { code: "module.exports = require('node:fs');", moduleType: 'js' };
    if (id === '\0signal-exit:3-on-4') {
      return { code: `const { onExit } = require(${JSON.stringify(signalExit4)});\nmodule.exports = (callback, options) => onExit(callback, options);`, moduleType: 'js' };
    }
    return null;
  },
};

// 1. The CommonJS bundle. Chunks sit one level below dist/ like dist/time/zone.js, so
// `new URL('../tzdb.txt', import.meta.url)` still finds dist/tzdb.txt.
rmSync(`${dist}bundle`, { recursive: true, force: true });
const bundle = await rolldown({ input: { cli: `${dist}cli/launch.js` }, platform: 'node', external: [/^@aws-sdk\//, /^@js-joda\//], logLevel: 'warn', plugins: [lockfileDependencies] });
await bundle.write({ dir: `${dist}bundle`, format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: '[name]-[hash].cjs', minify: SOURCE_ONLY_MINIFY });
await bundle.close();

// 2. The start-up snapshot.
const snapshotDir = `${dist}snapshot/`;
rmSync(snapshotDir, { recursive: true, force: true });
mkdirSync(snapshotDir, { recursive: true });
const jodaModule = `${dist}time/joda.js`;
const jodaExports = Object.keys(await import(pathToFileURL(jodaModule).href)).filter((name) => name !== 'loadTimezonePlugin');
const RUNTIME = '\0runtime-require:';
const snapshotBundle = await rolldown({
  input: `${dist}cli/snapshot-main.js`,
  platform: 'node',
  logLevel: 'warn',
  plugins: [
    lockfileDependencies,
    {
      name: 'rotating-s3-snapshot',
      resolveId(id) {
        if (id.startsWith('@aws-sdk/')) return RUNTIME + id;
        return null;
      },
      load(id) {
        if (id.startsWith(RUNTIME)) {
          return { code: `module.exports = globalThis[Symbol.for('rotating-s3.runtime-require')](${JSON.stringify(id.slice(RUNTIME.length))});`, moduleType: 'js' };
        }
        if (id === jodaModule) {
          // Same exports as src/time/joda.ts; only the bundled (empty) timezone plugin is available.
          return {
            code: [
              "import { withoutSystemZoneLookup } from './intl-guard.js';",
              "const joda = require('@js-joda/core');",
              `export const { ${jodaExports.join(', ')} } = joda;`,
              'export function loadTimezonePlugin(which) {',
              "  if (which !== 'empty') throw new Error('dist/tzdb.txt is missing: rebuild @rotating-s3/core (npm run build)');",
              "  withoutSystemZoneLookup(() => require('@js-joda/timezone/dist/js-joda-timezone-empty.js'));",
              '}',
            ].join('\n'),
            moduleType: 'js',
          };
        }
        return null;
      },
    },
  ],
});
// strictExecutionOrder: modules behind a dynamic import are initialised when first imported (at run
// time), as with separate chunks, instead of when the bundle loads (while the snapshot is built).
await snapshotBundle.write({ file: `${snapshotDir}cli.cjs`, format: 'cjs', codeSplitting: false, strictExecutionOrder: true, minify: SOURCE_ONLY_MINIFY });
await snapshotBundle.close();

const built = spawnSync(process.execPath, ['--no-warnings', '--snapshot-blob', `${snapshotDir}cli.blob`, '--build-snapshot', `${snapshotDir}cli.cjs`], { encoding: 'utf8' });
if (built.status === 0) {
  writeFileSync(`${snapshotDir}node.json`, `${JSON.stringify({ node: process.version, execPath: process.execPath, arch: process.arch, platform: process.platform })}\n`);
} else {
  rmSync(`${snapshotDir}cli.blob`, { force: true });
  const reason = `${built.stderr ?? ''}${built.error?.message ?? ''}`.trim().split('\n').slice(0, 5).join('\n  ');
  process.stderr.write(`bundle-cli: the start-up snapshot was not built (stage scripts will start from dist/bundle):\n  ${reason}\n`);
}
