/**
 * The stage lock: a directory that cannot hold it fails at once (E_LOCAL_IO, naming the directory and the
 * cause, blaming no holder); only real contention is waited for; a lock lost while held ends the logger
 * with E_LOCK_LOST instead of exiting the process.
 */
import * as nodeFs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalIoError } from '../errors.js';
import { createStageLogger } from '../logger/stage-logger.js';
import { silentOpsLog } from '../logger/ops-log.js';
import { fixedClock } from '../time/clock.js';
import { acquireStageLock, lockPath, type StageLockRelease } from './lock.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rs3-lock-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** node:fs whose mkdir fails with `code` (as on a read-only mount), counting the attempts. */
function failingFs(code: string): { fs: typeof nodeFs; mkdirs: () => number } {
  let calls = 0;
  const fs = {
    ...nodeFs,
    mkdir: (path: string, callback: (error: NodeJS.ErrnoException) => void) => {
      calls++;
      callback(Object.assign(new Error(`${code}: injected, mkdir '${path}'`), { code }));
    },
  } as unknown as typeof nodeFs;
  return { fs, mkdirs: () => calls };
}

async function rejection(promise: Promise<unknown>): Promise<LocalIoError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as LocalIoError,
  );
}

describe('stage lock', () => {
  it.each(['EROFS', 'EACCES', 'ENOSPC'])(
    'a directory that cannot hold the lock (%s) fails on the first attempt with E_LOCAL_IO naming it, blaming no holder',
    async (code) => {
      const dir = tempDir();
      const { fs, mkdirs } = failingFs(code);
      const error = await rejection(acquireStageLock(dir, 'merge', { fs }));
      expect(error).toBeInstanceOf(LocalIoError);
      expect(error.code).toBe('E_LOCAL_IO');
      expect(error.message).toContain(`in the local directory ${dir}: ${code}: injected`);
      expect(error.message).not.toMatch(/another process/);
      expect(mkdirs()).toBe(1); // no retries: proper-lockfile alone would retry this 240 times (~2 minutes)
    },
  );

  it('a missing directory is named as missing', async () => {
    const dir = join(tempDir(), 'gone');
    const error = await rejection(acquireStageLock(dir, 'merge'));
    expect(error.code).toBe('E_LOCAL_IO');
    expect(error.message).toMatch(/ENOENT.*the directory does not exist/);
  });

  it('waits for a real holder, and takes the lock once it is released', async () => {
    const dir = tempDir();
    const held = await acquireStageLock(dir, 'merge');
    let attempts = 0;
    const counting = {
      ...nodeFs,
      mkdir: (...args: Parameters<typeof nodeFs.mkdir>) => {
        attempts++;
        // The holder lets go after the waiter's second attempt was refused.
        if (attempts === 3) void held();
        return (nodeFs.mkdir as (...a: unknown[]) => void)(...args);
      },
    } as unknown as typeof nodeFs;
    const release = await acquireStageLock(dir, 'merge', { fs: counting });
    expect(attempts).toBeGreaterThanOrEqual(3);
    await release();
  });

  it('gives up on a holder that keeps the lock with E_LOCK', async () => {
    const dir = tempDir();
    const held = await acquireStageLock(dir, 'merge');
    const error = await rejection(acquireStageLock(dir, 'merge', { attempts: 3 }));
    expect(error.code).toBe('E_LOCK');
    expect(error.message).toMatch(/another process held it for the whole wait/);
    await held();
  });

  it('records a lock taken away while held instead of exiting the process', async () => {
    const dir = tempDir();
    const exit = vi.spyOn(process, 'exit');
    const release = await acquireStageLock(dir, 'merge');
    expect(release.lockLost?.()).toBeUndefined();
    rmSync(lockPath(dir, 'merge'), { recursive: true }); // the next refresh (every second) finds it gone
    await vi.waitFor(() => expect(release.lockLost?.()).toBeDefined(), { timeout: 10_000, interval: 50 });
    expect(release.lockLost?.()?.code).toBe('E_LOCK_LOST');
    expect(exit).not.toHaveBeenCalled();
    exit.mockRestore();
  });

  it('a logger whose lock was lost refuses every later call with E_LOCK_LOST', async () => {
    const dir = tempDir();
    let lost: LocalIoError | undefined;
    const lock = async (): Promise<StageLockRelease> => Object.assign(async () => undefined, { lockLost: () => lost });
    const config = {
      stage: 'merge',
      bucket: 'never-contacted',
      prefix: '',
      localDir: dir,
      fetchLimit: 100,
      timezone: 'UTC',
      recordsPath: '',
      recordIdField: undefined,
      forcePathStyle: false,
    };
    const logger = createStageLogger(config, { clock: fixedClock('2026-11-28T12:00:00Z'), opsLog: silentOpsLog, lock, holdLockMs: 60_000 });
    expect((await logger.logFetch({ a: 1 })).fetch_number).toBe(1);
    lost = new LocalIoError('the stage lock was taken over', { code: 'E_LOCK_LOST' });
    await expect(logger.logFetch({ a: 2 })).rejects.toMatchObject({ code: 'E_LOCK_LOST' });
    lost = undefined; // even if the lock looked fine again, this logger stays stopped
    await expect(logger.logFetch({ a: 3 })).rejects.toMatchObject({ code: 'E_LOCK_LOST' });
    await logger.close();
  });
});
