/**
 * Entry of the CLI's V8 start-up snapshot (built by scripts/bundle-cli.mjs with `node --build-snapshot`
 * from a one-file bundle of this module). The snapshot holds the engine, valibot, commander, js-joda and its
 * timezone plugin already loaded (zone data is read at run time, one zone, from dist/tzdb.txt), so a
 * process started with
 * `node --snapshot-blob dist/snapshot/cli.blob <bin> <args>` skips loading them. The delegate starts stage
 * scripts that way when the snapshot matches the running Node (delegate/snapshot.ts).
 *
 * What may run while the snapshot is built: module initialisation free of handles, timers and
 * environment reads; see runtime/lazy-packages.ts, and runtime/snapshot-restore.ts for state that
 * must be recomputed in each process.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startupSnapshot } from 'node:v8';
import { resolveConfig } from '../config/load.js';
import { nodeDurableFs } from '../local/durable-fs.js';
import { createStageLogger } from '../logger/stage-logger.js';
import { loadWriteFileAtomic } from '../runtime/lazy-packages.js';
import { preloadZoneData } from '../time/zone.js';
import { runCli, runScript } from './launch.js';

/** How the bundle reaches packages it leaves outside the snapshot (the AWS SDK): set at run time. */
const RUNTIME_REQUIRE = Symbol.for('rotating-s3.runtime-require');

/**
 * Runs a `log` call's code once — CLI parsing, config validation, and a logger appending one fetch to a
 * throwaway directory — so its functions are compiled into the snapshot rather than at every start.
 * Nothing here may leave a handle or timer, read the environment into module state, or draw randomness
 * into a pool: the warm-up names its fetch (fetch ids are generated only at run time), takes no
 * cross-process lock (proper-lockfile would install signal handlers) and writes its checkpoint without
 * write-file-atomic (signal-exit); the directory is removed before the snapshot is taken.
 */
async function warmUp(): Promise<void> {
  const quiet = { stdout: () => undefined, stderr: () => undefined };
  await runCli(['log', '--help'], quiet);
  // Loading is safe (signal-exit 4 installs its handlers only when a write registers one); writing is not.
  await loadWriteFileAtomic();
  const dir = await mkdtemp(join(tmpdir(), 'rotating-s3-snapshot-'));
  try {
    // Both ways a config arrives: a stage bin's own config, and --config next to a stages.config.json.
    resolveConfig({ stageConfig: { stage: 'warm_up', bucket: 'warm-up-bucket', timezone: 'UTC', recordsPath: '/items', fetchLimit: 10 }, env: {}, cwd: dir });
    await writeFile(join(dir, 'stages.config.json'), JSON.stringify({ stages: [{ stage: 'warm_up', bucket: 'warm-up-bucket', timezone: 'UTC', recordsPath: '/items', fetchLimit: 10 }] }));
    await writeFile(join(dir, 'warm-up.json'), JSON.stringify({ stage: 'warm_up', localDir: dir }));
    const config = resolveConfig({ configFile: 'warm-up.json', env: {}, cwd: dir });
    const fs = { ...nodeDurableFs, writeAtomic: (path: string, data: string | Buffer) => writeFile(path, data) };
    const logger = createStageLogger(config, { holdLockMs: 0, lock: async () => async () => undefined, fs, opsLog: { event: () => undefined } });
    await logger.logFetch('{"items": [1, 2]}', { fetchId: 'warm-up-1', source: 'warm-up' });
    await logger.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (!startupSnapshot.isBuildingSnapshot()) {
  throw new Error('cli/snapshot-main is the entry of `node --build-snapshot` (scripts/bundle-cli.mjs); run the CLI through bin/ instead');
}
preloadZoneData();
// The snapshot is taken once the event loop is empty, i.e. after the warm-up; a failure fails the build.
warmUp().catch((error: unknown) => {
  process.exitCode = 1;
  throw error;
});
startupSnapshot.setDeserializeMainFunction(() => {
  // Resolved from the regular bundle's place (dist/bundle/), as the bins' require() would.
  (globalThis as Record<symbol, unknown>)[RUNTIME_REQUIRE] = createRequire(new URL('../bundle/cli.cjs', import.meta.url));
  // argv[1] is the bin the snapshot stands in for: it decides the stage config and the program name.
  void runScript(process.argv[1] ?? 'rotating-s3', process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
});
