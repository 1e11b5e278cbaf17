/**
 * `status` as an operator reads it: the table and `--json` against the test S3 server, after a failed
 * upload and its retry, across a midnight, with a large daily object, and against a wrong endpoint.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { serializeDailyObject, type DailyObject } from '../src/index.js';
import { createTestStage, payload, runCli, writePayload, type TestStage } from './support.js';

async function log(stage: TestStage, n: number, now: string, env: Record<string, string> = stage.env, records = 2) {
  const file = writePayload(stage, `p${n}.json`, payload(n, records));
  const r = await runCli(['log', '--config', stage.configFile, '--payload-file', file, '--now', now], { env });
  expect(r.code, r.stderr).toBe(0);
  return r.json!;
}

const epoch = (iso: string) => Date.parse(iso) / 1000;

describe('status', () => {
  it('shows date, fetch number, pending and the oldest age, file size, last upload, S3 totals, last error and the time to midnight', async () => {
    const stage = await createTestStage(); // fetchLimit 3, America/New_York
    await log(stage, 1, '2026-11-28T14:00:00-05:00');
    await log(stage, 2, '2026-11-28T14:01:00-05:00');
    await log(stage, 3, '2026-11-28T14:02:00-05:00'); // rotation #1
    await log(stage, 4, '2026-11-28T14:03:00-05:00');

    const table = await runCli(['status', '--config', stage.configFile, '--now', '2026-11-28T14:05:00-05:00'], { env: stage.env });
    expect(table.code).toBe(0);
    const rows = Object.fromEntries(
      table.stdout
        .trimEnd()
        .split('\n')
        .map((l) => [l.slice(0, 15).trim(), l.slice(17)]),
    );
    expect(rows).toMatchObject({
      stage: 'merge (America/New_York)',
      date: '2026-11-28 (local day of America/New_York)',
      'fetch number': '4 (fetches logged today; the next is 5)',
      'pending fetches': '1 of 3 before the next rotation; oldest 2m 00s ago (2026-11-28T14:03:00.000-05:00)',
      'daily object': `s3://${stage.bucket}/logs/merge/merge_json_log_2026-11-28.json`,
      'last upload': '#1 of 2026-11-28, 3m 00s ago (2026-11-28T14:02:00.000-05:00): 3 fetches, 6 records',
      'last error': 'none',
      'next midnight': '2026-11-29T00:00:00.000-05:00 (in 9h 55m)',
      totals: '1 upload, 0 failed upload attempts, 0 retries, 0 write conflicts, 0 midnight transitions',
    });
    expect(rows['local file']).toMatch(/merge_fetches\.log \(\d+ B\)$/);
    expect(rows['s3 today']).toMatch(/^1 upload, 3 fetches, 6 records in \d+(\.\d)? (B|KiB); last upload 2026-11-28T14:02:00\.000-05:00$/);

    const json = (await runCli(['status', '--json', '--config', stage.configFile, '--now', '2026-11-28T14:05:00-05:00'], { env: stage.env })).json!;
    expect(json).toMatchObject({ date: '2026-11-28', fetch_number: 4, pending: 1, daily_key: 'logs/merge/merge_json_log_2026-11-28.json' });
    expect(json['s3']).toMatchObject({
      key: 'logs/merge/merge_json_log_2026-11-28.json',
      daily_object_exists: true,
      total_uploads_today: 1,
      total_fetches_today: 3,
      total_records_today: 6,
    });
    expect(json['s3'].size_bytes).toBeGreaterThan(0);
    expect(json['metrics']).toMatchObject({
      generated_timestamp_seconds: epoch('2026-11-28T14:05:00-05:00'),
      pending_fetches: 1,
      fetch_limit: 3,
      oldest_pending_age_seconds: 120,
      oldest_pending_timestamp_seconds: epoch('2026-11-28T14:03:00-05:00'),
      fetches_today: 4,
      records_today: 8,
      uploads_today: 1,
      uploaded_fetches_today: 3,
      uploaded_records_today: 6,
      uploads_total: 1,
      upload_failures_total: 0,
      last_upload_timestamp_seconds: epoch('2026-11-28T14:02:00-05:00'),
      last_upload_sequence: 1,
      last_error_timestamp_seconds: 0,
      day_start_timestamp_seconds: epoch('2026-11-28T00:00:00-05:00'),
      next_midnight_timestamp_seconds: epoch('2026-11-29T00:00:00-05:00'),
    });
  });

  it('shows a failed upload as the last error with its age, and counts the retry that fixed it', async () => {
    const stage = await createTestStage();
    const down = { ...stage.env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' };
    await log(stage, 1, '2026-11-28T09:00:00-05:00', down);
    await log(stage, 2, '2026-11-28T09:01:00-05:00', down);
    const third = await log(stage, 3, '2026-11-28T09:02:00-05:00', down);
    expect(third['upload_error'].code).toBe('E_S3_UNREACHABLE');

    const failing = await runCli(['status', '--config', stage.configFile, '--now', '2026-11-28T09:12:00-05:00'], { env: down });
    expect(failing.code).toBe(0);
    expect(failing.stdout).toMatch(
      /^pending fetches {2}3, fetchLimit 3: a rotation is overdue \(see last error; the next log or flush retries\); oldest 12m 00s ago/m,
    );
    expect(failing.stdout).toMatch(
      /^last error {7}E_S3_UNREACHABLE, \d+[smhd].* ago \(.*\): upload to daily object \S+ in bucket \S+ failed: S3 \w+ answered .*ECONNREFUSED/m,
    );
    expect(failing.stdout).toMatch(/^s3 today {9}unavailable: E_S3_UNREACHABLE /m);
    expect(failing.stdout).toMatch(/^totals {11}0 uploads, 1 failed upload attempt, 0 retries/m);

    const flush = await runCli(['flush', '--config', stage.configFile, '--now', '2026-11-28T09:13:00-05:00'], { env: stage.env });
    expect(flush.code).toBe(0);
    const json = (await runCli(['status', '--json', '--local', '--config', stage.configFile, '--now', '2026-11-28T09:14:00-05:00'], { env: stage.env })).json!;
    expect(json['last_error']).toBeNull();
    expect(json['s3']).toBeUndefined();
    expect(json['metrics']).toMatchObject({
      uploads_total: 1,
      upload_failures_total: 1,
      upload_retries_total: 1,
      upload_failures_by_code_total: { E_S3_UNREACHABLE: 1 },
      pending_fetches: 0,
      oldest_pending_age_seconds: 0,
    });
  });

  it('after local midnight shows the transition, fetch number 1 and the old day uploaded into its own object', async () => {
    const stage = await createTestStage();
    await log(stage, 1, '2026-11-28T23:58:00-05:00');
    await log(stage, 2, '2026-11-29T00:01:00-05:00');
    const r = await runCli(['status', '--config', stage.configFile, '--now', '2026-11-29T00:02:00-05:00'], { env: stage.env });
    expect(r.stdout).toMatch(/^date {13}2026-11-29 /m);
    expect(r.stdout).toMatch(/^fetch number {5}1 \(fetches logged today; the next is 2\)$/m);
    expect(r.stdout).toMatch(/^last upload {6}#1 of 2026-11-28, 1m 00s ago/m);
    expect(r.stdout).toMatch(/^last midnight {4}2026-11-28 → 2026-11-29, 1m 00s ago/m);
    expect(r.stdout).toMatch(/^s3 today {9}no daily object yet/m);
    expect(r.stdout).toMatch(/^next midnight {4}2026-11-30T00:00:00\.000-05:00 \(in 23h 58m\)$/m);
    const json = (await runCli(['status', '--json', '--local', '--config', stage.configFile, '--now', '2026-11-29T00:02:00-05:00'], { env: stage.env })).json!;
    expect(json['metrics']).toMatchObject({
      midnight_transitions_total: 1,
      last_midnight_timestamp_seconds: epoch('2026-11-29T00:01:00-05:00'),
      day_start_timestamp_seconds: epoch('2026-11-29T00:00:00-05:00'),
      fetches_today: 1,
      records_today: 2,
    });
    expect((await stage.readDaily('2026-11-28'))?.daily_metadata.total_fetches_today).toBe(1);
  });

  it('reads the totals of a large daily object from its tail, and of one in another layout in full', async () => {
    const stage = await createTestStage();
    const big = 'x'.repeat(120_000);
    for (let i = 1; i <= 3; i++) {
      const file = writePayload(stage, `big${i}.json`, JSON.stringify({ matches: [{ match_id: `b${i}`, blob: big }] }));
      expect(
        (await runCli(['log', '--config', stage.configFile, '--payload-file', file, '--now', `2026-11-28T10:0${i}:00-05:00`], { env: stage.env })).code,
      ).toBe(0);
    }
    const tail = (await runCli(['status', '--json', '--config', stage.configFile, '--now', '2026-11-28T10:05:00-05:00'], { env: stage.env })).json!;
    expect(tail['s3']).toMatchObject({ daily_object_exists: true, total_uploads_today: 1, total_fetches_today: 3, total_records_today: 3 });
    expect(tail['s3'].size_bytes).toBeGreaterThan(256 * 1024);

    // The same object pretty-printed with the metadata first (as another tool might write it).
    const object: DailyObject = (await stage.readDaily('2026-11-28'))!;
    const foreign = JSON.stringify({ daily_metadata: object.daily_metadata, uploads: object.uploads }, null, 2);
    expect(serializeDailyObject(object)).not.toBe(foreign);
    await stage.client.send(new PutObjectCommand({ Bucket: stage.bucket, Key: 'logs/merge/merge_json_log_2026-11-28.json', Body: foreign }));
    const full = (await runCli(['status', '--json', '--config', stage.configFile, '--now', '2026-11-28T10:05:00-05:00'], { env: stage.env })).json!;
    expect(full['s3']).toMatchObject({ total_uploads_today: 1, total_fetches_today: 3, total_records_today: 3, size_bytes: Buffer.byteLength(foreign) });
  });

  it('against a wrong endpoint still prints the local state and says why S3 is unavailable (exit 0)', async () => {
    const stage = await createTestStage();
    await log(stage, 1, '2026-11-28T14:00:00-05:00');
    const r = await runCli(['status', '--config', stage.configFile, '--now', '2026-11-28T14:01:00-05:00'], {
      env: { ...stage.env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^pending fetches {2}1 of 3 before the next rotation; oldest 1m 00s ago/m);
    expect(r.stdout).toMatch(/^s3 today {9}unavailable: E_S3_UNREACHABLE S3 HeadObject s3:\/\/.* failed: .*ECONNREFUSED.*; check the endpoint/m);
    expect(r.stderr).toBe('');
  });
});
