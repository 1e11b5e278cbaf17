/**
 * test_monitor_complete_logging: the monitor stage end to end against a real S3 server — the stage's
 * bin as a separate process with generated mock data: rotation, midnight, counts and formats.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestBucket, readObjectText, s3Env } from '@rotating-s3/test-harness';
import { describe, expect, it } from 'vitest';
import { logViaScript, mockMonitorPayload, scriptPath, stageConfig } from './index.js';

const FETCH_LIMIT = 3;

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'stage-monitor-'));
  const bucket = await createTestBucket('monitor');
  const env = { ...process.env, ...s3Env(bucket), ROTATING_S3_LOCAL_DIR: join(dir, 'local'), ROTATING_S3_FETCH_LIMIT: String(FETCH_LIMIT) };
  return { dir, bucket, env };
}

/** The first millisecond of the next local day in the stage's timezone (a minute scan with Intl). */
function nextLocalMidnight(fromMs: number): number {
  const day = (ms: number) => new Intl.DateTimeFormat('en-CA', { timeZone: stageConfig.timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
  const start = day(fromMs);
  let ms = fromMs;
  // Zone offsets are whole minutes, so from a whole minute this lands exactly on local midnight.
  while (day(ms) === start) ms += 60_000;
  return ms;
}

function dailyKey(date: string): string {
  const prefix = stageConfig.prefix ?? '';
  return `${prefix ? `${prefix}/` : ''}monitor_json_log_${date}.json`;
}

describe('monitor stage: complete logging', () => {
  it('rotates every fetchLimit fetches, restarts numbering at local midnight and keeps the counts', async () => {
    const { dir, bucket, env } = await setup();
    const midnight = nextLocalMidnight(Date.parse('2026-11-28T12:00:00Z'));
    const results = [];
    for (let i = 0; i <= 2 * FETCH_LIMIT; i++) {
      // 2 × fetchLimit fetches in the last minutes of the day, then one just after local midnight.
      const now = new Date(i < 2 * FETCH_LIMIT ? midnight - (2 * FETCH_LIMIT - i) * 60_000 : midnight + 1_000).toISOString();
      results.push(await logViaScript(mockMonitorPayload(i, 4), { now, env, fetchId: `monitor-${i}` }));
    }
    const dates = [...new Set(results.map((r) => r.date))];
    expect(dates).toHaveLength(2);
    expect(results.at(-1)).toMatchObject({ fetch_number: 1, midnight: { from: dates[0], to: dates[1] } });
    for (const date of dates) {
      const numbers = results.filter((r) => r.date === date).map((r) => r.fetch_number);
      expect(numbers).toEqual(numbers.map((_, i) => i + 1));
    }
    expect(results.every((r) => r.records === 4)).toBe(true);
    expect(results.some((r) => r.rotated)).toBe(true);

    const flush = spawnSync(process.execPath, [scriptPath, 'flush', '--now', '2026-11-30T12:00:00Z'], { env, encoding: 'utf8' });
    expect(flush.status, flush.stderr).toBe(0);
    let total = 0;
    for (const date of dates) {
      const object = JSON.parse((await readObjectText(bucket, dailyKey(date)))!);
      const fetches = object.uploads.flatMap((u: { fetch_data: unknown[] }) => u.fetch_data);
      expect(object.daily_metadata.date).toBe(date);
      expect(object.daily_metadata.total_records_today).toBe(fetches.length * 4);
      expect(object.uploads.map((u: { upload_sequence: number }) => u.upload_sequence)).toEqual(object.uploads.map((_: unknown, i: number) => i + 1));
      total += fetches.length;
    }
    expect(total).toBe(results.length);
    expect(readFileSync(join(dir, 'local', 'monitor_fetches.log'), 'utf8')).toBe('');
  });

  it('writes bookended blocks with fetch numbers and record counts to the local file', async () => {
    const { dir, env } = await setup();
    const file = join(dir, 'payload.json');
    writeFileSync(file, JSON.stringify(mockMonitorPayload('fmt', 2)));
    const run = spawnSync(process.execPath, [scriptPath, 'log', '--payload-file', file, '--fetch-id', 'fmt-1'], { env, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const log = readFileSync(join(dir, 'local', 'monitor_fetches.log'), 'utf8');
    expect(log).toMatch(/^=== FETCH START: fmt-1 \| \S+ \| fetch_number=1 ===\n/);
    expect(log).toMatch(/\n=== FETCH END: fmt-1 \| \S+ \| fetch_number=1 \| records=2 ===\n$/);
  });

  it('passes the connection test against the test server', async () => {
    const { env } = await setup();
    const check = spawnSync(process.execPath, [scriptPath.replace('monitor_rotating_s3.js', 'test_monitor_s3_connection.js')], { env, encoding: 'utf8' });
    expect(check.stdout).toMatch(/✓ bucket reachable/);
    expect(check.stdout).toMatch(/✓ write \/ read probe object/);
  });
});
