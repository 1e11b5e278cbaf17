/**
 * The stage logger in-process, against the real file system and a real S3 server: numbering, rotation,
 * midnight, idempotent fetch ids, torn-tail repair and outages.
 */
import { appendFileSync, existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createStageLogger, formatBlock, logFilePaths } from '../src/index.js';
import { silentOpsLog as silentOpsLogForTests } from '../src/logger/ops-log.js';
import { getTestS3 } from '@rotating-s3/test-harness';
import { SettableClock, createTestStage, payload } from './support.js';

/** An S3 client whose endpoint refuses connections, tried once: S3 down. */
const unreachableS3 = () =>
  new S3Client({
    endpoint: 'http://127.0.0.1:9',
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });

describe('stage logger against a real S3 server', () => {
  it('numbers fetches continuously across three rotations and restarts at 1 after local midnight', async () => {
    const stage = await createTestStage({ fetchLimit: 3 });
    const clock = new SettableClock('2026-11-28T20:00:00Z'); // 15:00 in New York
    const logger = createStageLogger(stage.config, { clock, s3Client: stage.client, opsLog: silentOpsLogForTests });
    const numbers: number[] = [];
    for (let i = 1; i <= 10; i++) numbers.push((await logger.logFetch(payload(i))).fetch_number);
    expect(numbers).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    clock.set('2026-11-29T05:00:01Z'); // 00:00:01 on the 29th in New York
    const afterMidnight = await logger.logFetch(payload(11));
    expect(afterMidnight).toMatchObject({ fetch_number: 1, date: '2026-11-29', midnight: { from: '2026-11-28', to: '2026-11-29' } });

    const day = await stage.readDaily('2026-11-28');
    expect(day!.uploads.map((u) => u.upload_sequence)).toEqual([1, 2, 3, 4]);
    expect(day!.uploads.flatMap((u) => u.fetch_data.map((f) => f.fetch_number))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(day!.daily_metadata).toMatchObject({ date: '2026-11-28', total_uploads_today: 4, total_records_today: 20, total_fetches_today: 10 });
    expect(await stage.readDaily('2026-11-29')).toBeUndefined();
  });

  it("uploads pending fetches of the old day to the old day's object before numbering restarts", async () => {
    const stage = await createTestStage({ fetchLimit: 100 });
    const clock = new SettableClock('2026-11-28T23:00:00Z');
    const logger = createStageLogger(stage.config, { clock, s3Client: stage.client, opsLog: silentOpsLogForTests });
    await logger.logFetch(payload(1));
    await logger.logFetch(payload(2));
    clock.set('2026-11-29T06:00:00Z');
    const result = await logger.logFetch(payload(3));
    expect(result).toMatchObject({ fetch_number: 1, rotated: true, pending: 1 });
    expect(result.uploads).toEqual([expect.objectContaining({ date: '2026-11-28', fetches: 2, upload_sequence: 1 })]);
    const old = await stage.readDaily('2026-11-28');
    expect(old!.uploads[0]!.fetch_data.map((f) => f.timestamp.slice(0, 10))).toEqual(['2026-11-28', '2026-11-28']);
  });

  it('splits a rotation by local date when pending fetches span midnight', async () => {
    const stage = await createTestStage({ fetchLimit: 4 });
    const clock = new SettableClock('2026-11-29T04:59:58Z');
    // An unreachable S3 at midnight keeps the old day's fetch pending; the next rotation splits by date.
    const down = unreachableS3();
    const offline = createStageLogger(stage.config, { clock, s3Client: down, opsLog: silentOpsLogForTests });
    await offline.logFetch(payload(1));
    clock.set('2026-11-29T05:00:02Z');
    const r = await offline.logFetch(payload(2));
    expect(r.upload_error?.code).toBe('E_S3_UNREACHABLE');
    expect(r).toMatchObject({ fetch_number: 1, date: '2026-11-29', pending: 2 });

    const online = createStageLogger(stage.config, { clock, s3Client: stage.client, opsLog: silentOpsLogForTests });
    const flushed = await online.flush();
    expect(flushed.uploads.map((u) => [u.date, u.fetches])).toEqual([
      ['2026-11-28', 1],
      ['2026-11-29', 1],
    ]);
    expect((await stage.readDaily('2026-11-28'))!.uploads[0]!.fetch_data[0]!.fetch_number).toBe(1);
    expect((await stage.readDaily('2026-11-29'))!.uploads[0]!.fetch_data[0]!.fetch_number).toBe(1);
  });

  it('keeps the fetch and reports upload_error when S3 is unreachable, then the next flush uploads it', async () => {
    const stage = await createTestStage({ fetchLimit: 1 });
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const down = unreachableS3();
    const r = await createStageLogger(stage.config, { clock, s3Client: down, opsLog: silentOpsLogForTests }).logFetch(payload(1));
    expect(r).toMatchObject({ fetch_number: 1, pending: 1, rotated: false, upload_error: { code: 'E_S3_UNREACHABLE' } });
    expect(readFileSync(logFilePaths(stage.config.localDir, 'merge').log, 'utf8')).toContain('fetch_number=1');
    const f = await createStageLogger(stage.config, { clock, s3Client: stage.client, opsLog: silentOpsLogForTests }).flush();
    expect(f).toMatchObject({ uploaded_fetches: 1, pending: 0 });
    expect(readFileSync(logFilePaths(stage.config.localDir, 'merge').log, 'utf8')).toBe('');
  });

  it('treats a fetch id that is already logged, pending or uploaded, as a no-op returning its number', async () => {
    const stage = await createTestStage({ fetchLimit: 2 });
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const logger = createStageLogger(stage.config, { clock, s3Client: stage.client, opsLog: silentOpsLogForTests });
    expect((await logger.logFetch(payload(1), { fetchId: 'run-1' })).fetch_number).toBe(1);
    expect(await logger.logFetch(payload(1), { fetchId: 'run-1' })).toMatchObject({ fetch_number: 1, duplicate: true, pending: 1 });
    await logger.logFetch(payload(2), { fetchId: 'run-2' }); // rotates: both uploaded and cleared
    expect(await logger.logFetch(payload(1), { fetchId: 'run-1' })).toMatchObject({ fetch_number: 1, duplicate: true, pending: 0 });
    expect((await logger.logFetch(payload(3), { fetchId: 'run-3' })).fetch_number).toBe(3);
    const day = await stage.readDaily('2026-11-28');
    expect(day!.uploads.flatMap((u) => u.fetch_data.map((f) => f.fetch_id))).toEqual(['run-1', 'run-2']);
  });

  it('quarantines a torn tail left by a crash and keeps numbering gap-free', async () => {
    const stage = await createTestStage({ fetchLimit: 10 });
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const logger = createStageLogger(stage.config, { clock, s3Client: stage.client, opsLog: silentOpsLogForTests });
    await logger.logFetch(payload(1));
    await logger.close(); // the process that crashed mid-append had released nothing else
    const paths = logFilePaths(stage.config.localDir, 'merge');
    appendFileSync(paths.log, '=== FETCH START: torn | 2026-11-28T10:00:01.000-05:00 | fetch_number=2 ===\n{"matches": [');
    const next = await logger.logFetch(payload(2));
    expect(next.fetch_number).toBe(2);
    expect(readFileSync(paths.quarantine, 'utf8')).toMatch(/QUARANTINED.*no END line[\s\S]*FETCH START: torn/);
    const log = readFileSync(paths.log, 'utf8');
    expect(log).not.toContain('torn');
    expect(log.match(/FETCH END/g)).toHaveLength(2);
  });

  it('adopts a block appended just before a crash that skipped the state write', async () => {
    const stage = await createTestStage({ fetchLimit: 10 });
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const logger = createStageLogger(stage.config, { clock, s3Client: stage.client, opsLog: silentOpsLogForTests });
    await logger.logFetch(payload(1));
    await logger.close();
    const paths = logFilePaths(stage.config.localDir, 'merge');
    appendFileSync(paths.log, formatBlock({ fetchId: 'crashed', timestamp: '2026-11-28T10:00:01.000-05:00', fetchNumber: 2, records: 0 }, '{}'));
    expect((await logger.logFetch(payload(3))).fetch_number).toBe(3);
    expect((await logger.status()).pending).toBe(3);
  });

  it('never moves the day backwards when the wall clock steps back across midnight', async () => {
    const stage = await createTestStage({ fetchLimit: 100 });
    const clock = new SettableClock('2026-11-29T05:10:00Z'); // 00:10 on the 29th
    const logger = createStageLogger(stage.config, { clock, s3Client: stage.client, opsLog: silentOpsLogForTests });
    expect(await logger.logFetch(payload(1))).toMatchObject({ date: '2026-11-29', fetch_number: 1 });
    clock.set('2026-11-29T04:40:00Z'); // stepped back to 23:40 on the 28th
    const back = await logger.logFetch(payload(2));
    expect(back).toMatchObject({ date: '2026-11-29', fetch_number: 2, timestamp: '2026-11-29T00:00:00.000-05:00' });
  });

  it('restarts numbering on a day whose local midnight does not exist (America/Santiago)', async () => {
    const stage = await createTestStage({ fetchLimit: 100, timezone: 'America/Santiago' });
    const clock = new SettableClock('2026-09-06T03:59:00Z'); // 23:59 on Sep 5 (-04:00)
    const logger = createStageLogger(stage.config, { clock, s3Client: stage.client, opsLog: silentOpsLogForTests });
    expect(await logger.logFetch(payload(1))).toMatchObject({ date: '2026-09-05', fetch_number: 1 });
    clock.set('2026-09-06T04:00:30Z'); // clocks jumped from 00:00 to 01:00: 01:00:30 (-03:00)
    const next = await logger.logFetch(payload(2));
    expect(next).toMatchObject({ date: '2026-09-06', fetch_number: 1, timestamp: '2026-09-06T01:00:30.000-03:00' });
    expect((await stage.readDaily('2026-09-05'))!.uploads[0]!.fetch_data[0]!.fetch_number).toBe(1);
  });

  it('counts one day through a DST spring-forward in New York (no reset at 02:00)', async () => {
    const stage = await createTestStage({ fetchLimit: 100 });
    const clock = new SettableClock('2026-03-08T06:59:00Z'); // 01:59 EST
    const logger = createStageLogger(stage.config, { clock, s3Client: stage.client, opsLog: silentOpsLogForTests });
    await logger.logFetch(payload(1));
    clock.set('2026-03-08T07:01:00Z'); // 03:01 EDT
    expect(await logger.logFetch(payload(2))).toMatchObject({ date: '2026-03-08', fetch_number: 2, timestamp: '2026-03-08T03:01:00.000-04:00' });
  });

  it('switches to server-side appends once the daily object passes 5 MiB, probing the endpoint once', async () => {
    const stage = await createTestStage({ fetchLimit: 2 });
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const logger = createStageLogger(stage.config, { clock, s3Client: stage.client, opsLog: silentOpsLogForTests });
    const big = JSON.stringify({ matches: Array.from({ length: 30 }, (_, i) => ({ match_id: `b${i}`, pad: 'y'.repeat(100_000) })) });
    await logger.logFetch(big);
    await logger.logFetch(big); // first upload: ~6 MB, written whole
    for (let i = 3; i <= 6; i++) await logger.logFetch(payload(i));
    const day = await stage.readDaily('2026-11-28');
    expect(day!.uploads.map((u) => u.upload_sequence)).toEqual([1, 2, 3]);
    expect(day!.daily_metadata).toMatchObject({ total_fetches_today: 6, total_uploads_today: 3, total_records_today: 68 });
    const caps = JSON.parse(readFileSync(`${stage.config.localDir}/s3-capabilities.json`, 'utf8'));
    const probed = Object.values(caps)[0] as { uploadPartCopy: boolean; conditionalComplete: boolean };
    expect(probed.uploadPartCopy).toBe(getTestS3().caps.has('upload-part-copy'));
    expect(probed.conditionalComplete).toBe(getTestS3().caps.has('conditional-complete'));
  }, 120_000);

  it('releases the stage lock and closes the log file on close()', async () => {
    const stage = await createTestStage({ fetchLimit: 100 });
    const logger = createStageLogger(stage.config, { clock: new SettableClock('2026-11-28T15:00:00Z'), s3Client: stage.client, opsLog: silentOpsLogForTests });
    const openLogs = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          // Only this test's log: loggers of earlier tests may still hold theirs for holdLockMs.
          return readlinkSync(`/proc/self/fd/${fd}`) === `${stage.config.localDir}/merge_fetches.log`;
        } catch {
          return false;
        }
      }).length;
    for (let i = 1; i <= 3; i++) await logger.logFetch(payload(i));
    expect(openLogs()).toBe(1);
    expect(existsSync(`${stage.config.localDir}/merge.lock`)).toBe(true);
    await logger.close();
    expect(openLogs()).toBe(0);
    expect(existsSync(`${stage.config.localDir}/merge.lock`)).toBe(false);
    expect(JSON.parse(readFileSync(`${stage.config.localDir}/merge_state.json`, 'utf8'))).toMatchObject({ lastFetchNumber: 3 });
  });

  it('sends a backlog left by an outage as uploads of at most fetchLimit fetches', async () => {
    const stage = await createTestStage({ fetchLimit: 3 });
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const down = unreachableS3();
    const offline = createStageLogger(stage.config, { clock, s3Client: down, opsLog: silentOpsLogForTests, holdLockMs: 0 });
    for (let i = 1; i <= 8; i++) await offline.logFetch(payload(i));
    const flushed = await createStageLogger(stage.config, { clock, s3Client: stage.client, opsLog: silentOpsLogForTests }).flush();
    expect(flushed.uploads.map((u) => u.fetches)).toEqual([3, 3, 2]);
    const day = await stage.readDaily('2026-11-28');
    expect(day!.uploads.map((u) => u.fetch_data.map((f) => f.fetch_number))).toEqual([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8],
    ]);
  });
});
