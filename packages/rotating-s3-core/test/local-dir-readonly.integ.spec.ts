/**
 * A local directory that cannot be created says why: on a read-only mount a recursive mkdir reports
 * ENOENT, which would send the user looking for a missing path; `ensureDir` names the real cause.
 * The read-only directory is a read-only tmpfs when this process may mount one (root, as in CI), else a
 * directory without write permission.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { nodeDurableFs } from '../src/index.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const clean of cleanups.splice(0)) clean();
});

function readOnlyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rs3-ro-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    cleanups.push(() => {
      execFileSync('umount', [dir], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    });
  } catch {
    chmodSync(dir, 0o555);
    cleanups.push(() => {
      chmodSync(dir, 0o755);
      rmSync(dir, { recursive: true, force: true });
    });
  }
  return dir;
}

it('ensureDir under a read-only directory fails with the real cause, not ENOENT', async () => {
  const dir = readOnlyDir();
  const error = (await nodeDurableFs.ensureDir(join(dir, 'stage', 'logs')).then(
    () => undefined,
    (e: unknown) => e,
  )) as NodeJS.ErrnoException | undefined;
  expect(error?.code).toMatch(/^(EROFS|EACCES)$/);
});
