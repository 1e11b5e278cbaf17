/**
 * One writer at a time per stage on a host: `log`, `flush` and repairs hold `<localDir>/<stage>.lock`
 * (a proper-lockfile directory lock, refreshed every second). A lock left by a killed process is taken
 * over once it is older than `STALE_MS`.
 *
 * Only real contention is waited for: proper-lockfile retries on ANY error, so it is called without
 * retries and this module retries only while another process holds the lock (ELOCKED). Any other error
 * (a read-only or unwritable directory, a missing one) is the disk's, not a holder's: it fails at once
 * with E_LOCAL_IO naming the directory and the cause.
 *
 * A lock can be lost while held (our refresh stalled past STALE_MS, e.g. an event loop blocked for
 * seconds, and another process took it over). This module never exits the process: the loss is recorded
 * on the release function (`lockLost`), the logger refuses every later call with E_LOCK_LOST, and only
 * the CLI turns that into exit code 1.
 */
import type * as fs from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalIoError } from '../errors.js';
import { loadLockfile } from '../runtime/lazy-packages.js';

const STALE_MS = 4_000;
const UPDATE_MS = 1_000;
/** Waiting up to ~2 minutes for another holder covers a slow rotation by another process. */
const WAIT = { attempts: 240, minMs: 20, maxMs: 500, factor: 1.3 };

export function lockPath(localDir: string, stage: string): string {
  return join(localDir, `${stage}.lock`);
}

/** The release function of a held lock; `lockLost()` says whether another process took it over. */
export type StageLockRelease = (() => Promise<void>) & { lockLost?: () => LocalIoError | undefined };

export interface StageLockOptions {
  /** File system proper-lockfile uses (tests inject failures). Default: node:fs (graceful-fs in proper-lockfile). */
  fs?: typeof fs;
  /** Attempts while another process holds the lock. Default: 240 (~2 minutes). */
  attempts?: number;
}

const DIRECTORY_FIX: Record<string, string> = {
  EROFS: 'the file system is read-only: set ROTATING_S3_LOCAL_DIR (or "localDir") to a writable directory',
  EACCES: 'this user may not write there: fix the permissions, or set ROTATING_S3_LOCAL_DIR (or "localDir") to a writable directory',
  EPERM: 'this user may not write there: fix the permissions, or set ROTATING_S3_LOCAL_DIR (or "localDir") to a writable directory',
  ENOENT: 'the directory does not exist (or was removed): create it, or set ROTATING_S3_LOCAL_DIR (or "localDir")',
  ENOTDIR: 'a part of the path is a file, not a directory: fix ROTATING_S3_LOCAL_DIR (or "localDir")',
  ENOSPC: 'the disk is full: free space on that file system',
  EDQUOT: 'the disk quota is exhausted: free space or raise the quota',
};

/** The local directory cannot hold the lock: no holder involved, so no waiting and no blame. */
function directoryError(localDir: string, path: string, cause: unknown): LocalIoError {
  const code = (cause as NodeJS.ErrnoException)?.code ?? 'error';
  const said = ((cause as Error)?.message ?? String(cause)).split('\n')[0];
  return new LocalIoError(
    `cannot create the stage lock ${path} in the local directory ${localDir}: ${said}; ${DIRECTORY_FIX[code] ?? 'check the local directory'}`,
    { cause, code: 'E_LOCAL_IO' },
  );
}

/**
 * Takes the stage lock and returns its release function. The refresh timer is unref'd and
 * proper-lockfile removes held locks when the process exits normally.
 */
export async function acquireStageLock(localDir: string, stage: string, options: StageLockOptions = {}): Promise<StageLockRelease> {
  const path = lockPath(localDir, stage);
  const lockfile = await loadLockfile();
  let lost: LocalIoError | undefined;
  const lockOptions = {
    lockfilePath: path,
    realpath: false,
    stale: STALE_MS,
    update: UPDATE_MS,
    retries: 0,
    ...(options.fs ? { fs: options.fs } : {}),
    onCompromised: (cause: Error) => {
      // Another process took the lock over (ours went stale): our writes could now interleave with its.
      lost = new LocalIoError(
        `the stage lock ${path} was taken over by another process while this one held it (${cause.message.split('\n')[0]}); this logger refuses further calls to keep the log consistent — create a new logger (or run the command again)`,
        { cause, code: 'E_LOCK_LOST' },
      );
    },
  };
  const attempts = options.attempts ?? WAIT.attempts;
  let delay = WAIT.minMs;
  for (let attempt = 1; ; attempt++) {
    try {
      const release: StageLockRelease = await lockfile.lock(localDir, lockOptions);
      release.lockLost = () => lost;
      return release;
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException)?.code !== 'ELOCKED') throw directoryError(localDir, path, cause);
      if (attempt >= attempts) {
        throw new LocalIoError(
          `cannot take the stage lock ${path}: another process held it for the whole wait (${attempts} attempts, about 2 minutes by default) — wait for it, or remove ${path} if no rotating-s3 process is running`,
          { cause, code: 'E_LOCK' },
        );
      }
      await sleep(delay * (0.5 + Math.random()));
      delay = Math.min(delay * WAIT.factor, WAIT.maxMs);
    }
  }
}
