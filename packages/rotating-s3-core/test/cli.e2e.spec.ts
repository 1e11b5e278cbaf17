/**
 * The CLI as a separate process against a real S3 server: the SPEC §7 contract (stdout JSON line, exit
 * codes, one-line errors), bad input refused with nothing written, large payloads, and the clock fixed
 * with --now to drive rotations across a midnight.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTestStage, payload, runCli, writePayload, type TestStage } from './support.js';

const logFile = (stage: TestStage) => join(stage.config.localDir, 'merge_fetches.log');
const digest = (stage: TestStage) =>
  existsSync(logFile(stage))
    ? createHash('sha256')
        .update(readFileSync(logFile(stage)))
        .digest('hex')
    : 'absent';

describe('rotating-s3 CLI', () => {
  it('starts from the bundled CLI and loads the AWS SDK only when a rotation is due', async () => {
    const stage = await createTestStage({ fetchLimit: 2 });
    const file = writePayload(stage, 'p.json', payload(1, 1));
    const hook = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'record-loaded-modules.cjs');
    const loaded = async (name: string) => {
      const record = join(stage.dir, name);
      const r = await runCli(['log', '--config', stage.configFile, '--payload-file', file], {
        env: { ...stage.env, NODE_OPTIONS: `--require=${hook}`, RECORD_LOADED_MODULES: record },
      });
      expect(r.code, r.stderr).toBe(0);
      return { rotated: r.json!['rotated'], modules: readFileSync(record, 'utf8').split('\n') };
    };
    const first = await loaded('first.txt');
    expect(first.rotated).toBe(false);
    expect(first.modules.some((m) => m.endsWith(join('dist', 'bundle', 'cli.cjs')))).toBe(true);
    // valibot and commander come inside the bundle, not as their own files.
    expect(first.modules.filter((m) => /node_modules[\\/](valibot|commander|@aws-sdk)[\\/]/.test(m))).toEqual([]);
    const second = await loaded('second.txt');
    expect(second.rotated).toBe(true);
    expect(second.modules.some((m) => m.includes(join('node_modules', '@aws-sdk', 'client-s3')))).toBe(true);
  });

  it('logs fetches as JSON lines, rotates every fetchLimit and numbers across a midnight', async () => {
    const stage = await createTestStage({ fetchLimit: 3 });
    const file = writePayload(stage, 'p.json', payload(1, 4));
    const log = (now: string) => runCli(['log', '--config', stage.configFile, '--payload-file', file, '--now', now], { env: stage.env });
    const results = [];
    for (let i = 0; i < 9; i++) results.push(await log(`2026-11-28T23:50:0${i}-05:00`));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(results.map((r) => r.json!['fetch_number'])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(results.map((r) => r.json!['rotated'])).toEqual([false, false, true, false, false, true, false, false, true]);
    expect(results[2]!.json).toMatchObject({ date: '2026-11-28', records: 4, pending: 0, upload_sequence: 1 });
    const next = await log('2026-11-29T00:00:00.001-05:00');
    expect(next.json).toMatchObject({ fetch_number: 1, date: '2026-11-29', pending: 1 });
    const day = await stage.readDaily('2026-11-28');
    expect(day!.daily_metadata).toMatchObject({ total_uploads_today: 3, total_records_today: 36 });

    const status = await runCli(['status', '--json', '--config', stage.configFile, '--now', '2026-11-29T00:01:00-05:00'], { env: stage.env });
    expect(status.code).toBe(0);
    expect(status.json).toMatchObject({
      date: '2026-11-29',
      fetch_number: 1,
      pending: 1,
      local_file: logFile(stage),
      daily_key: 'logs/merge/merge_json_log_2026-11-29.json',
    });

    const flush = await runCli(['flush', '--config', stage.configFile, '--now', '2026-11-29T00:02:00-05:00'], { env: stage.env });
    expect(flush.json).toMatchObject({ uploaded_fetches: 1, pending: 0 });
  });

  it('reads the payload from standard input with --payload-file -', async () => {
    const stage = await createTestStage();
    const r = await runCli(['log', '--config', stage.configFile, '--payload-file', '-'], { env: stage.env, input: payload(1, 5) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ fetch_number: 1, records: 5 });
  });

  it('logs a 60 MB payload passed by file and by standard input', async () => {
    const stage = await createTestStage({ fetchLimit: 2 });
    const big = JSON.stringify({ matches: Array.from({ length: 300_000 }, (_, i) => ({ match_id: `m${i}`, text: 'x'.repeat(180) })) });
    expect(big.length).toBeGreaterThan(60_000_000);
    const file = writePayload(stage, 'big.json', big);
    const byFile = await runCli(['log', '--config', stage.configFile, '--payload-file', file], { env: stage.env });
    expect(byFile.code, byFile.stderr).toBe(0);
    const byStdin = await runCli(['log', '--config', stage.configFile, '--payload-file', '-'], { env: stage.env, input: big });
    expect(byStdin.code, byStdin.stderr).toBe(0);
    expect(byStdin.json).toMatchObject({ fetch_number: 2, records: 300_000, rotated: true, pending: 0 });
  }, 180_000);

  it('exits 0 with upload_error when S3 is unreachable at rotation, keeping the fetch for the next flush', async () => {
    const stage = await createTestStage({ fetchLimit: 1 });
    const file = writePayload(stage, 'p.json', payload(1));
    const down = { ...stage.env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' };
    const r = await runCli(['log', '--config', stage.configFile, '--payload-file', file], { env: down });
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ fetch_number: 1, pending: 1, rotated: false, upload_error: { code: 'E_S3_UNREACHABLE' } });
    const retry = await runCli(['flush', '--config', stage.configFile], { env: stage.env });
    expect(retry.json).toMatchObject({ uploaded_fetches: 1, pending: 0 });
  });

  describe('refuses bad input with exit 2, one line on stderr and the local file untouched', () => {
    const cases: Array<[string, (s: TestStage) => { args: string[]; input?: string | Buffer; env?: Record<string, string> }, RegExp]> = [
      ['invalid JSON', (s) => ({ args: ['--payload-file', writePayload(s, 'bad.json', '{"matches": [1, 2')] }), /not valid JSON/],
      [
        'a payload that is not an object or array',
        (s) => ({ args: ['--payload-file', writePayload(s, 'n.json', '"just a string"')] }),
        /not an object or array/,
      ],
      ['an empty payload file', (s) => ({ args: ['--payload-file', writePayload(s, 'e.json', '')] }), /is empty/],
      ['a missing payload file', (s) => ({ args: ['--payload-file', join(s.dir, 'nope.json')] }), /does not exist/],
      ['binary garbage on standard input', () => ({ args: ['--payload-file', '-'], input: Buffer.from([0xff, 0xfe, 0x00, 0x81, 0x7b]) }), /not UTF-8/],
      [
        'a non-numeric fetch limit',
        (s) => ({ args: ['--payload-file', writePayload(s, 'p.json', payload(1))], env: { ROTATING_S3_FETCH_LIMIT: 'lots' } }),
        /ROTATING_S3_FETCH_LIMIT="lots"/,
      ],
      [
        'an unknown timezone',
        (s) => ({ args: ['--payload-file', writePayload(s, 'p.json', payload(1))], env: { ROTATING_S3_TIMEZONE: 'Atlantis/Capital' } }),
        /unknown timezone/,
      ],
      ['a fetch id with a path separator', (s) => ({ args: ['--payload-file', writePayload(s, 'p.json', payload(1)), '--fetch-id', '../x'] }), /--fetch-id/],
      ['a missing --payload-file', () => ({ args: [] }), /payload-file/],
    ];
    for (const [name, make, message] of cases) {
      it(name, async () => {
        const stage = await createTestStage();
        const seed = await runCli(['log', '--config', stage.configFile, '--payload-file', writePayload(stage, 'seed.json', payload(0))], { env: stage.env });
        expect(seed.code, seed.stderr).toBe(0);
        const before = digest(stage);
        const { args, input, env } = make(stage);
        const r = await runCli(['log', '--config', stage.configFile, ...args], { env: { ...stage.env, ...env }, ...(input === undefined ? {} : { input }) });
        expect(r.code).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(message);
        expect(r.stderr).not.toMatch(/\n\s+at /);
        expect(digest(stage)).toBe(before);
      });
    }

    it('a stage name with / or ..', async () => {
      for (const bad of ['a/b', '..', 'merge/../x']) {
        const r = await runCli(['status', '--stage', bad]);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/invalid stage name/);
      }
    });

    it('an unknown command', async () => {
      const r = await runCli(['rotate-now']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/unknown command 'rotate-now'/);
    });
  });

  it('prints help for every command with exit 0', async () => {
    for (const args of [['--help'], ['log', '--help'], ['flush', '--help'], ['status', '--help'], ['doctor', '--help']]) {
      const r = await runCli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: rotating-s3/);
    }
  });

  it('doctor passes every check against the test server and fails with a fix on a wrong endpoint', async () => {
    const stage = await createTestStage();
    const ok = await runCli(['doctor', '--config', stage.configFile], { env: stage.env });
    expect(ok.stdout).toMatch(/✓ bucket reachable/);
    expect(ok.stdout).toMatch(/✓ write \/ read probe object/);
    const bad = await runCli(['doctor', '--config', stage.configFile], {
      env: { ...stage.env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' },
    });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✗ bucket reachable[\s\S]*fix: .*endpoint/);
    expect(bad.stdout).not.toContain(stage.env['AWS_SECRET_ACCESS_KEY']!.length > 4 ? stage.env['AWS_SECRET_ACCESS_KEY']! : 'never-printed');
  });
});
