/**
 * One writer at a time per stage on a host: `log`, `flush` and repairs hold `<localDir>/<stage>.lock`
 * (a proper-lockfile directory lock, refreshed every second). A lock left by a killed process is taken
 * over once it is older than `STALE_MS`.
 */
import { join } from 'node:path';
import { LocalIoError } from '../errors.js';
import { loadLockfile } from '../runtime/lazy-packages.js';

const STALE_MS = 4_000;
const UPDATE_MS = 1_000;
/** Waiting up to ~2 minutes covers a slow rotation by another process. */
const RETRIES = { retries: 240, minTimeout: 20, maxTimeout: 500, factor: 1.3, randomize: true };

export function lockPath(localDir: string, stage: string): string {
  return join(localDir, `${stage}.lock`);
}

/**
 * Takes the stage lock and returns its release function. The refresh timer is unref'd and
 * proper-lockfile removes held locks when the process exits normally.
 */
export async function acquireStageLock(localDir: string, stage: string): Promise<() => Promise<void>> {
  const path = lockPath(localDir, stage);
  try {
    const lockfile = await loadLockfile();
    return await lockfile.lock(localDir, {
      lockfilePath: path,
      realpath: false,
      stale: STALE_MS,
      update: UPDATE_MS,
      retries: RETRIES,
      onCompromised: () => {
        // Another process took the lock over (ours went stale): our writes could now interleave, so stop.
        process.stderr.write(`rotating-s3: lock ${path} was taken over by another process while held; aborting to keep the log consistent\n`);
        process.exit(1);
      },
    });
  } catch (cause) {
    throw new LocalIoError(`cannot take the stage lock ${path} (${(cause as Error).message}); another process holds it — wait, or remove it if no rotating-s3 process is running`, { cause, code: 'E_LOCK' });
  }
}
