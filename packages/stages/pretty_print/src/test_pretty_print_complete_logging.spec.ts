/**
 * test_pretty_print_complete_logging: the pretty_print stage end to end against a real S3 server (the harness's
 * moto) with generated mock item data — the stage's bin as a separate process, its in-process
 * logger and its delegate: rotation, local midnight (through --now), counts and both formats.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countRecords, type Payload } from '@rotating-s3/core';
import { createTestBucket, getTestS3, readObjectText, s3Env } from '@rotating-s3/test-harness';
import { afterAll, describe, expect, it } from 'vitest';
import { DelegateError, createLogger, logViaScript, mockPrettyPrintPayload, scriptPath, stageConfig } from './index.js';

const FETCH_LIMIT = 3;
const RECORDS_PER_FETCH = 4;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:\d{2})$/;

const scratchDirs: string[] = [];
afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

async function setup(fetchLimit = FETCH_LIMIT) {
  const dir = mkdtempSync(join(tmpdir(), 'stage-pretty_print-'));
  scratchDirs.push(dir);
  const bucket = await createTestBucket('pretty-print');
  const env = { ...process.env, ...s3Env(bucket), ROTATING_S3_LOCAL_DIR: join(dir, 'local'), ROTATING_S3_FETCH_LIMIT: String(fetchLimit) };
  return { dir, bucket, env };
}

/** The first millisecond of the next local day in the stage's timezone (a minute scan with Intl). */
function nextLocalMidnight(fromMs: number): number {
  const start = localDate(fromMs);
  let ms = fromMs;
  // Zone offsets are whole minutes, so from a whole minute this lands exactly on local midnight.
  while (localDate(ms) === start) ms += 60_000;
  return ms;
}

function localDate(ms: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: stageConfig.timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
}

function dailyKey(date: string): string {
  const prefix = stageConfig.prefix ?? '';
  return `${prefix ? `${prefix}/` : ''}pretty_print_json_log_${date}.json`;
}

interface FetchEntry { fetch_id: string; fetch_number: number; timestamp: string; records: number; data: unknown }
interface UploadEntry { upload_sequence: number; upload_timestamp: string; records_in_upload: number; fetches_in_upload: number; fetch_data: FetchEntry[] }
interface DailyObject { daily_metadata: { date: string; total_uploads_today: number; total_records_today: number; first_upload_today: string; last_upload: string }; uploads: UploadEntry[] }

describe('pretty_print stage: complete logging', () => {
  it('rotates every fetchLimit fetches into the daily object, restarts numbering at local midnight and keeps the counts', async () => {
    const { dir, bucket, env } = await setup();
    const midnight = nextLocalMidnight(Date.parse('2026-11-28T12:00:00Z'));
    const results = [];
    for (let i = 0; i <= 2 * FETCH_LIMIT; i++) {
      // 2 × fetchLimit fetches in the last minutes of the day, then one just after local midnight.
      const now = new Date(i < 2 * FETCH_LIMIT ? midnight - (2 * FETCH_LIMIT - i) * 60_000 : midnight + 1_000).toISOString();
      results.push(await logViaScript(mockPrettyPrintPayload(i, RECORDS_PER_FETCH), { now, env, fetchId: `pretty_print-${i}` }));
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
    expect(results.filter((r) => r.rotated).map((r) => [r.fetch_number, r.upload_sequence])).toEqual([[FETCH_LIMIT, 1], [2 * FETCH_LIMIT, 2]]);

    const flush = spawnSync(process.execPath, [scriptPath, 'flush', '--now', new Date(midnight + 3_600_000).toISOString()], { env, encoding: 'utf8' });
    expect(flush.status, flush.stderr).toBe(0);
    expect(JSON.parse(flush.stdout)).toMatchObject({ uploaded_fetches: 1, pending: 0 });

    const seen = new Set<string>();
    for (const date of dates) {
      const object = JSON.parse((await readObjectText(bucket, dailyKey(date)))!) as DailyObject;
      const fetches = object.uploads.flatMap((u) => u.fetch_data);
      expect(object.daily_metadata).toMatchObject({ date, total_uploads_today: object.uploads.length, total_records_today: fetches.length * RECORDS_PER_FETCH });
      expect(object.daily_metadata.first_upload_today).toMatch(TIMESTAMP);
      expect(object.daily_metadata.last_upload).toMatch(TIMESTAMP);
      expect(object.uploads.map((u) => u.upload_sequence)).toEqual(object.uploads.map((_, i) => i + 1));
      for (const upload of object.uploads) {
        expect(upload.upload_timestamp).toMatch(TIMESTAMP);
        expect(upload.fetches_in_upload).toBe(upload.fetch_data.length);
        expect(upload.records_in_upload).toBe(upload.fetch_data.reduce((sum, f) => sum + f.records, 0));
      }
      for (const fetch of fetches) {
        // Every fetch sits in the object of its own local date, once, with its payload and record count.
        expect(fetch.timestamp).toMatch(TIMESTAMP);
        expect(localDate(Date.parse(fetch.timestamp))).toBe(date);
        expect(seen.has(fetch.fetch_id)).toBe(false);
        seen.add(fetch.fetch_id);
        expect(countRecords(fetch.data as Payload, stageConfig.recordsPath ?? '')).toBe(fetch.records);
      }
    }
    expect(seen.size).toBe(results.length);
    expect(readFileSync(join(dir, 'local', 'pretty_print_fetches.log'), 'utf8')).toBe('');
  });

  it('writes bookended blocks with fetch numbers and record counts to the local file', async () => {
    const { dir, env } = await setup();
    const file = join(dir, 'payload.json');
    writeFileSync(file, JSON.stringify(mockPrettyPrintPayload('fmt', 2)));
    const run = spawnSync(process.execPath, [scriptPath, 'log', '--payload-file', file, '--fetch-id', 'fmt-1'], { env, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ fetch_id: 'fmt-1', fetch_number: 1, records: 2, pending: 1, rotated: false });
    const log = readFileSync(join(dir, 'local', 'pretty_print_fetches.log'), 'utf8');
    const lines = log.split('\n');
    expect(lines[0]).toMatch(/^=== FETCH START: fmt-1 \| \S+ \| fetch_number=1 ===$/);
    expect(lines.at(-2)).toMatch(/^=== FETCH END: fmt-1 \| \S+ \| fetch_number=1 \| records=2 ===$/);
    expect(lines[0]!.split(' | ')[1]).toMatch(TIMESTAMP);
    expect(JSON.parse(lines.slice(1, -2).join('\n'))).toEqual(mockPrettyPrintPayload('fmt', 2));
  });

  it('logs in-process with the stage\'s own settings and rotates at its fetch limit', async () => {
    const { bucket, env } = await setup(2);
    const logger = createLogger({ env, s3Client: getTestS3().client() });
    try {
      expect(logger.config).toMatchObject({ stage: 'pretty_print', recordsPath: stageConfig.recordsPath, timezone: stageConfig.timezone, fetchLimit: 2, bucket });
      const first = await logger.logFetch(mockPrettyPrintPayload('inproc-1', 3));
      const second = await logger.logFetch(mockPrettyPrintPayload('inproc-2', 5));
      expect(first).toMatchObject({ fetch_number: 1, records: 3, rotated: false });
      expect(second).toMatchObject({ fetch_number: 2, records: 5, rotated: true, upload_sequence: 1, pending: 0 });
      const object = JSON.parse((await readObjectText(bucket, dailyKey(second.date)))!) as DailyObject;
      expect(object.daily_metadata).toMatchObject({ total_uploads_today: 1, total_records_today: 8 });
    } finally {
      await logger.close();
    }
  });

  it('delegates on stdin, and reports a refused payload as a DelegateError with exit code 2 and no temp file left', async () => {
    const { env } = await setup();
    const viaStdin = await logViaScript(mockPrettyPrintPayload('stdin', 1), { stdin: true, env, fetchId: 'stdin-1' });
    expect(viaStdin).toMatchObject({ fetch_id: 'stdin-1', records: 1 });

    // A private TMPDIR for this call, so "no temp file left" is not disturbed by parallel suites.
    const privateTmp = mkdtempSync(join(tmpdir(), 'stage-pretty_print-tmp-'));
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
      rmSync(privateTmp, { recursive: true, force: true });
    }
  });

  it('builds mock item payloads whose records sit at the stage\'s recordsPath with distinct item_id', () => {
    const payload = mockPrettyPrintPayload('ids', 6);
    expect(countRecords(payload, stageConfig.recordsPath ?? '')).toBe(6);
    const ids = JSON.stringify(payload).match(/"item_id":"[^"]+"/g) ?? [];
    expect(new Set(ids).size).toBe(6);
  });

  it('passes the connection test (test_pretty_print_s3_connection) against the test server', async () => {
    const { env } = await setup();
    const check = spawnSync(process.execPath, [scriptPath.replace('pretty_print_rotating_s3.js', 'test_pretty_print_s3_connection.js')], { env, encoding: 'utf8' });
    expect(check.stdout).toMatch(/✓ bucket reachable/);
    expect(check.stdout).toMatch(/✓ write \/ read probe object/);
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });
});
