/**
 * Vitest globalSetup for every tier: one temporary folder per run (`rs3-run-*` under the system temp
 * folder), made the temp folder of the run (TMPDIR/TMP/TEMP, inherited by the workers and by child
 * processes that keep the environment) and removed at the end, whatever the tests left in it.
 * Tests still remove their own directories; this is what makes "a run leaves nothing behind" hold when a
 * test fails half-way or a child process is killed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'rs3-run-'));
  const saved = { TMPDIR: process.env['TMPDIR'], TMP: process.env['TMP'], TEMP: process.env['TEMP'] };
  process.env['TMPDIR'] = process.env['TMP'] = process.env['TEMP'] = root;
  return () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    rmSync(root, { recursive: true, force: true });
  };
}
