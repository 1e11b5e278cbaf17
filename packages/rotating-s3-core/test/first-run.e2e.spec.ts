/**
 * A first-time user's mistakes, as separate processes against a real S3 server: the first `log` against
 * a bucket that does not exist, and `doctor` failing in a fresh directory. What they see must name their
 * own objects and the next step, on one line each, and leave nothing behind that they did not ask for.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { s3Env } from '@rotating-s3/test-harness';
import { payload } from './support.js';

/** The merge stage's own bin, as a user runs it: settings from its stage.config.json and the environment. */
const STAGE_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'stages', 'merge', 'bin', 'merge_rotating_s3.js');
function runStageBin(args: string[], options: { cwd: string; env: Record<string, string> }) {
  const r = spawnSync(process.execPath, [STAGE_BIN, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env['PATH'] ?? '', ...options.env },
    encoding: 'utf8',
    input: '',
  });
  const json = () => JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, any>;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rs3-first-'));
  dirs.push(dir);
  return dir;
}

describe('a first run against a bucket that does not exist', () => {
  it('log reports an upload_error naming the daily object, the bucket and doctor, and prints it on stderr as one line, not JSON', () => {
    const cwd = freshDir();
    writeFileSync(join(cwd, 'p.json'), payload(1));
    const env = { ...s3Env('no-such-bucket-first-run'), ROTATING_S3_FETCH_LIMIT: '1' };
    const r = runStageBin(['log', '--payload-file', 'p.json', '--now', '2026-11-28T12:00:00Z'], { cwd, env });
    expect(r.code, r.stderr).toBe(0);
    const message = r.json()['upload_error']['message'] as string;
    expect(r.json()['upload_error']['code']).toBe('E_S3_NO_BUCKET');
    expect(message).toMatch(/^upload to daily object logs\/merge\/merge_json_log_2026-11-28\.json in bucket no-such-bucket-first-run failed: /);
    expect(message).toMatch(/run `merge_rotating_s3 doctor`/);
    expect(message).not.toMatch(/probe|lease/);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([`merge_rotating_s3: error upload_failed E_S3_NO_BUCKET: ${message}`]);
    // The JSON form of the event is in the events file.
    const events = readFileSync(join(cwd, 'logs', 'merge', 'merge_events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.at(-1)).toMatchObject({ level: 'error', event: 'upload_failed', code: 'E_S3_NO_BUCKET', message });
  });

  it('doctor fails and leaves no logs/<stage>/ directory behind', () => {
    const cwd = freshDir();
    const r = runStageBin(['doctor', '--skip-copy-probe'], { cwd, env: s3Env('no-such-bucket-first-run') });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ bucket reachable/);
    expect(r.stdout).toMatch(/✓ local directory writable/);
    expect(existsSync(join(cwd, 'logs'))).toBe(false);
  });
});
