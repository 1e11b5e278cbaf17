/**
 * A full disk must not wedge the stage once S3 is reachable: after an append that hit ENOSPC, and with torn
 * bytes left at the end of the log (a crash during an append on a full disk), `flush` uploads the pending
 * fetches first — which frees the space — and only then quarantines the torn bytes.
 *
 * The local directory is a small tmpfs when this process may mount one (root, as in CI), else a
 * DurableFs that enforces the same byte quota (the seam the logger takes its file operations through).
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createStageLogger, nodeDurableFs, type DurableFs } from '../src/index.js';
import { silentOpsLog } from '../src/logger/ops-log.js';
import { SettableClock, createTestStage } from './support.js';

const QUOTA = 256 * 1024;
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const clean of cleanups.splice(0)) clean();
});

/** A directory that holds at most QUOTA bytes: a tmpfs when it can be mounted. */
function smallDisk(): { dir: string; fs: DurableFs; kind: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rs3-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${QUOTA}`, 'tmpfs', dir], { stdio: 'ignore' });
    cleanups.push(() => {
      execFileSync('umount', [dir], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    });
    return { dir, fs: nodeDurableFs, kind: 'tmpfs' };
  } catch {
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return { dir, fs: quotaFs(dir), kind: 'quota seam' };
  }
}

function used(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
}

/** nodeDurableFs, but appends and atomic writes past QUOTA bytes in `dir` fail like a full disk. */
function quotaFs(dir: string): DurableFs {
  return {
    ensureDir: (path) => nodeDurableFs.ensureDir(path),
    truncate: (path, size) => nodeDurableFs.truncate(path, size),
    async append(path, data) {
      const bytes = Buffer.from(data);
      const room = QUOTA - used(dir);
      if (room >= bytes.length) return nodeDurableFs.append(path, bytes);
      if (room > 0) await nodeDurableFs.append(path, bytes.subarray(0, room));
      throw enospc();
    },
    async writeAtomic(path, data) {
      if (used(dir) + Buffer.byteLength(data) > QUOTA) throw enospc();
      return nodeDurableFs.writeAtomic(path, data);
    },
  };
}

/** Appends as much of `text` as fits, as a crash mid-append on a full disk leaves it. */
function fillWith(path: string, text: string, fs: DurableFs, dir: string): void {
  if (fs === nodeDurableFs) {
    const fd = openSync(path, 'a');
    try {
      writeSync(fd, text);
    } catch {
      // ENOSPC once the disk is full: what was written stays.
    } finally {
      closeSync(fd);
    }
  } else {
    appendFileSync(path, Buffer.from(text).subarray(0, Math.max(0, QUOTA - used(dir))));
  }
}

describe('a full disk', () => {
  it('lets flush upload the pending fetches before it needs space to quarantine torn bytes', async () => {
    const disk = smallDisk();
    const localDir = join(disk.dir, 'merge');
    mkdirSync(localDir);
    const stage = await createTestStage({ localDir, fetchLimit: 1000 });
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const logger = () => createStageLogger(stage.config, { clock, fs: disk.fs, s3Client: stage.client, opsLog: silentOpsLog, holdLockMs: 0 });

    let acknowledged = 0;
    let failure: unknown;
    for (let i = 0; i < 100 && failure === undefined; i++) {
      try {
        await logger().logFetch({ matches: [{ match_id: `m${i}`, pad: 'x'.repeat(20_000) }] });
        acknowledged++;
      } catch (error) {
        failure = error;
      }
    }
    expect(failure, disk.kind).toMatchObject({ code: 'E_LOCAL_IO', message: expect.stringMatching(/ENOSPC.*free disk space|NOT logged.*ENOSPC/) });
    expect(acknowledged).toBeGreaterThan(5);

    // A crash in the middle of an append on the full disk leaves torn bytes at the end of the log.
    const log = join(localDir, 'merge_fetches.log');
    fillWith(
      log,
      `=== FETCH START: torn-1 | 2026-11-28T10:00:00.000-05:00 | fetch_number=${acknowledged + 1} ===\n{\n  "matches": [${'"y",'.repeat(50_000)}`,
      disk.fs,
      disk.dir,
    );

    const flushed = await logger().flush();
    expect(flushed, disk.kind).toMatchObject({ uploaded_fetches: acknowledged, pending: 0 });
    expect(flushed.upload_error).toBeUndefined();
    const day = await stage.readDaily('2026-11-28');
    expect(day!.uploads.flatMap((u) => u.fetch_data.map((f) => f.fetch_number))).toEqual(Array.from({ length: acknowledged }, (_, i) => i + 1));
    expect(readFileSync(join(localDir, 'merge_quarantine.log'), 'utf8')).toMatch(/^=== QUARANTINED .* block of fetch torn-1 has no END line/);
    expect(readFileSync(log, 'utf8')).toBe('');

    const next = await logger().logFetch({ matches: [{ match_id: 'after' }] });
    expect(next).toMatchObject({ fetch_number: acknowledged + 1, pending: 1 });
  }, 120_000);
});
