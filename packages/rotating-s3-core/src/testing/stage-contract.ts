/**
 * The stage contract: one stage package end to end against a real S3 server, with mock data built from
 * its `stage.config.json` (recordsPath, recordIdField). It covers rotation at fetchLimit, every SPEC §4
 * daily-object field, local midnight in the stage's zone (through --now), the bookended local file, the
 * in-process logger, the delegate (file and stdin), a refused payload (exit 2, nothing written) and the
 * connection test (`test_<stage>_s3_connection`, the doctor).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { DelegateError } from '../delegate/delegate.js';
import { countRecords } from '../records/records.js';
import { buildMockPayload } from '../records/mock-data.js';
import { defineStage, type StagePackage } from '../stage/define-stage.js';
import { expectDailyObject, TIMESTAMP, type DailyObject } from './daily-object.js';
import { isoOfEpochMs } from '../time/clock.js';

/** What the contract needs of the S3 test harness (`import * as s3 from '@rotating-s3/test-harness'`). */
export interface StageContractS3 {
  createTestBucket(prefix?: string): Promise<string>;
  s3Env(bucket: string): Record<string, string>;
  readObjectText(bucket: string, key: string): Promise<string | undefined>;
  getTestS3(): { client(): S3Client };
}

export interface StageContractOptions {
  /** The S3 test harness; its global setup must run (the stage's vitest.config.ts). */
  s3: StageContractS3;
  /** Fetch limit of the rotation checks (instead of the config's, to keep the run short). Default 3. */
  fetchLimit?: number;
}

const RECORDS_PER_FETCH = 4;

/** A mock payload of the stage: records at its `recordsPath`, each with a distinct `recordIdField`. */
export function mockStagePayload(
  stage: Pick<StagePackage['stageConfig'], 'recordsPath' | 'recordIdField'>,
  seed: number | string,
  records = 5,
): ReturnType<typeof buildMockPayload> {
  return buildMockPayload({ recordsPath: stage.recordsPath ?? '', ...(stage.recordIdField ? { recordIdField: stage.recordIdField } : {}), records, seed });
}

/** `stageDir`: the stage package's directory (e.g. `new URL('..', import.meta.url)` from its src/). */
export function describeStageContract(stageDir: URL | string, options: StageContractOptions): void {
  const root = typeof stageDir === 'string' ? pathToFileURL(stageDir.endsWith('/') ? stageDir : `${stageDir}/`) : stageDir;
  const name = (JSON.parse(readFileSync(new URL('stage.config.json', root), 'utf8')) as { stage: string }).stage;
  const { stageConfig, createLogger, scriptPath, logViaScript } = defineStage(root, `${name}_rotating_s3`);
  const { s3 } = options;
  const fetchLimit = options.fetchLimit ?? 3;
  const recordsPath = stageConfig.recordsPath ?? '';
  const mock = (seed: number | string, records: number) => mockStagePayload(stageConfig, seed, records);
  const localDate = (ms: number) =>
    new Intl.DateTimeFormat('en-CA', { timeZone: stageConfig.timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
  const dailyKey = (date: string) => `${stageConfig.prefix ? `${stageConfig.prefix}/` : ''}${name}_json_log_${date}.json`;
  const localFile = (dir: string) => join(dir, 'local', `${name}_fetches.log`);
  const readDaily = async (bucket: string, date: string) => JSON.parse((await s3.readObjectText(bucket, dailyKey(date)))!) as DailyObject;

  const scratchDirs: string[] = [];
  afterAll(() => {
    for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
  });
  async function setup(limit = fetchLimit) {
    const dir = mkdtempSync(join(tmpdir(), `rs3-stage-${name}-`));
    scratchDirs.push(dir);
    const bucket = await s3.createTestBucket(name.replace(/_/g, '-'));
    const env = { ...process.env, ...s3.s3Env(bucket), ROTATING_S3_LOCAL_DIR: join(dir, 'local'), ROTATING_S3_FETCH_LIMIT: String(limit) };
    return { dir, bucket, env };
  }
  /** The first millisecond of the next local day in the stage's zone (zone offsets are whole minutes). */
  function nextLocalMidnight(fromMs: number): number {
    const start = localDate(fromMs);
    let ms = fromMs;
    while (localDate(ms) === start) ms += 60_000;
    return ms;
  }
  const iso = isoOfEpochMs;

  describe(`${name} stage: complete logging (stage contract)`, () => {
    it('rotates every fetchLimit fetches into the daily object, restarts numbering at local midnight and keeps the counts', async () => {
      const { dir, bucket, env } = await setup();
      const midnight = nextLocalMidnight(Date.parse('2026-11-28T12:00:00Z'));
      const results = [];
      for (let i = 0; i <= 2 * fetchLimit; i++) {
        // 2 × fetchLimit fetches in the last minutes of the day, then one just after local midnight.
        const now = iso(i < 2 * fetchLimit ? midnight - (2 * fetchLimit - i) * 60_000 : midnight + 1_000);
        results.push(await logViaScript(mock(i, RECORDS_PER_FETCH), { now, env, fetchId: `${name}-${i}` }));
      }
      const dates = [...new Set(results.map((r) => r.date))];
      expect(dates).toEqual([localDate(midnight - 1), localDate(midnight)]);
      expect(results.at(-1)).toMatchObject({ fetch_number: 1, midnight: { from: dates[0], to: dates[1] } });
      for (const date of dates) {
        const numbers = results.filter((r) => r.date === date).map((r) => r.fetch_number);
        expect(numbers).toEqual(numbers.map((_, i) => i + 1));
      }
      expect(results.map((r) => r.records)).toEqual(results.map(() => RECORDS_PER_FETCH));
      // A rotation at every fetchLimit-th fetch of the day: uploads 1 and 2 of the first day.
      expect(results.filter((r) => r.rotated).map((r) => [r.fetch_number, r.upload_sequence])).toEqual([
        [fetchLimit, 1],
        [2 * fetchLimit, 2],
      ]);

      const flush = spawnSync(process.execPath, [scriptPath, 'flush', '--now', iso(midnight + 3_600_000)], { env, encoding: 'utf8' });
      expect(flush.status, flush.stderr).toBe(0);
      expect(JSON.parse(flush.stdout)).toMatchObject({ uploaded_fetches: 1, pending: 0 });

      const seen = new Set<string>();
      for (const date of dates) expectDailyObject(await readDaily(bucket, date), date, localDate, recordsPath, seen);
      expect(seen.size).toBe(results.length);
      expect(readFileSync(localFile(dir), 'utf8')).toBe('');
    });

    it('writes bookended blocks with fetch numbers and record counts to the local file', async () => {
      const { dir, env } = await setup();
      const file = join(dir, 'payload.json');
      writeFileSync(file, JSON.stringify(mock('fmt', 2)));
      const run = spawnSync(process.execPath, [scriptPath, 'log', '--payload-file', file, '--fetch-id', 'fmt-1'], { env, encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ fetch_id: 'fmt-1', fetch_number: 1, records: 2, pending: 1, rotated: false });
      const lines = readFileSync(localFile(dir), 'utf8').split('\n');
      expect(lines[0]).toMatch(/^=== FETCH START: fmt-1 \| \S+ \| fetch_number=1 ===$/);
      expect(lines.at(-2)).toMatch(/^=== FETCH END: fmt-1 \| \S+ \| fetch_number=1 \| records=2 ===$/);
      expect(lines[0]!.split(' | ')[1]).toMatch(TIMESTAMP);
      expect(JSON.parse(lines.slice(1, -2).join('\n'))).toEqual(mock('fmt', 2));
    });

    it("logs in-process with the stage's own settings and rotates at its fetch limit", async () => {
      const { bucket, env } = await setup(2);
      const logger = createLogger({ env, s3Client: s3.getTestS3().client() });
      try {
        expect(logger.config).toMatchObject({ stage: name, recordsPath: stageConfig.recordsPath, timezone: stageConfig.timezone, fetchLimit: 2, bucket });
        const first = await logger.logFetch(mock('inproc-1', 3));
        const second = await logger.logFetch(mock('inproc-2', 5));
        expect(first).toMatchObject({ fetch_number: 1, records: 3, rotated: false });
        expect(second).toMatchObject({ fetch_number: 2, records: 5, rotated: true, upload_sequence: 1, pending: 0 });
        expect((await readDaily(bucket, second.date)).daily_metadata).toMatchObject({ total_uploads_today: 1, total_records_today: 8 });
      } finally {
        await logger.close();
      }
    });

    it('delegates on stdin, and refuses a bad payload as a DelegateError with exit code 2, writing nothing and leaving no temp file', async () => {
      const { dir, env } = await setup();
      expect(await logViaScript(mock('stdin', 1), { stdin: true, env, fetchId: 'stdin-1' })).toMatchObject({ fetch_id: 'stdin-1', records: 1 });
      const before = readFileSync(localFile(dir), 'utf8');
      // A private TMPDIR for this call, so "no temp file left" is not disturbed by parallel suites.
      const privateTmp = mkdtempSync(join(tmpdir(), `rs3-stage-${name}-tmp-`));
      scratchDirs.push(privateTmp);
      const saved = process.env['TMPDIR'];
      process.env['TMPDIR'] = privateTmp;
      try {
        const error = await logViaScript('"a string is not a payload"', { env }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DelegateError);
        expect(error).toMatchObject({ scriptExitCode: 2, exitCode: 2 });
        expect(readdirSync(privateTmp)).toEqual([]);
      } finally {
        if (saved === undefined) delete process.env['TMPDIR'];
        else process.env['TMPDIR'] = saved;
      }
      // Nothing written: the local file holds the stdin fetch only.
      expect(readFileSync(localFile(dir), 'utf8')).toBe(before);
    });

    it(`builds mock payloads from the stage config: records at ${recordsPath || 'the root'}${stageConfig.recordIdField ? ` with distinct ${stageConfig.recordIdField}` : ''}`, () => {
      const payload = mock('ids', 6);
      expect(countRecords(payload, recordsPath)).toBe(6);
      const idField = stageConfig.recordIdField ?? 'id';
      const ids = JSON.stringify(payload).match(new RegExp(`"${idField}":"[^"]+"`, 'g')) ?? [];
      expect(new Set(ids).size).toBe(6);
    });

    it(`passes the connection test (test_${name}_s3_connection) against the test server`, async () => {
      const { env } = await setup();
      const bin = join(scriptPath, '..', `test_${name}_s3_connection.js`);
      expect(existsSync(bin), bin).toBe(true);
      const check = spawnSync(process.execPath, [bin], { env, encoding: 'utf8' });
      expect(check.stdout).toMatch(/✓ bucket reachable/);
      expect(check.stdout).toMatch(/✓ write \/ read probe object/);
      expect(check.status, check.stdout + check.stderr).toBe(0);
    });
  });
}
