/**
 * The Python helper that pipelines use (python/rotating_s3.py): its unittest suite, run here so it is part
 * of `npm test`, against the same S3 server as every other suite and the merge stage's real bin. Then the
 * fetches it logged are checked in the daily object, with the payload text kept exactly.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestBucket, readObjectText, s3Env } from '@rotating-s3/test-harness';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PYTHON = process.env['ROTATING_S3_TEST_PYTHON'] || 'python3';
const tmp = mkdtempSync(join(tmpdir(), 'rs3-py-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('python/rotating_s3.py', () => {
  it('passes its unittest suite against the S3 test server through the merge stage bin', async () => {
    const bucket = await createTestBucket('python');
    const env = {
      PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`,
      ...s3Env(bucket),
      ROTATING_S3_PY_TEST_BIN: join(ROOT, 'packages', 'stages', 'merge', 'bin', 'merge_rotating_s3.js'),
      TMPDIR: tmp,
      PYTHONDONTWRITEBYTECODE: '1',
    };
    const r = spawnSync(PYTHON, ['-m', 'unittest', '-v', 'test_rotating_s3'], { cwd: join(ROOT, 'python'), env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Ran 7 tests/);
    expect(r.stderr).toMatch(/\nOK\n/);
    // What test_rotates_into_s3_after_fetch_limit_fetches uploaded.
    const daily = JSON.parse((await readObjectText(bucket, 'logs/merge/merge_json_log_2026-11-28.json'))!) as {
      uploads: Array<{ fetch_data: Array<{ fetch_id: string; records: number }> }>;
    };
    expect(daily.uploads.flatMap((u) => u.fetch_data.map((f) => [f.fetch_id, f.records]))).toEqual([
      ['rot-1', 1],
      ['rot-2', 1],
    ]);
    expect(readdirSync(tmp).filter((n) => n.startsWith('rotating-s3-'))).toEqual([]);
  }, 120_000);
});
