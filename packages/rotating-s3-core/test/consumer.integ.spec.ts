/**
 * The downstream consumer in-process, against the real file system and a real S3 server: exactly-once
 * delivery across interleaved logging, rotations, midnights and runs; incremental reads of daily objects;
 * separate consumers; refusal of a corrupt processed-ID file; reports of malformed daily objects.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import {
  ConsumerError,
  JsonText,
  applyUpload,
  createConsumer,
  createStageLogger,
  serializeDailyObject,
  type ConsumedRecord,
  type ConsumerOptions,
  type RunOptions,
} from '../src/index.js';
import { silentOpsLog } from '../src/logger/ops-log.js';
import { SettableClock, createTestStage, type TestStage } from './support.js';

const key = (stage: TestStage, date: string) => `${stage.config.prefix}/${stage.config.stage}_json_log_${date}.json`;

/** A payload with `n` records whose ids are `<tag>-<i>`. */
function matches(tag: string, n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { matches: Array.from({ length: n }, (_, i) => ({ match_id: `${tag}-${i}`, score: i, ...extra })) };
}

function setup(stage: TestStage, clock: SettableClock, overrides: Partial<ConsumerOptions> = {}) {
  const logger = createStageLogger(stage.config, { clock, s3Client: stage.client, opsLog: silentOpsLog });
  const stateDir = join(stage.dir, 'consumer-state');
  const consumer = (name = 'downstream', more: Partial<ConsumerOptions> = {}) =>
    createConsumer({ config: stage.config, consumer: name, stateDir, clock, s3Client: stage.client, ...overrides, ...more });
  /** Runs a consumer and returns what its handler received. */
  const consume = async (name = 'downstream', options: RunOptions = {}) => {
    const received: ConsumedRecord[] = [];
    const summary = await consumer(name).run((r) => void received.push(r), options);
    return { received, summary };
  };
  return { logger, stateDir, consumer, consume, stateFile: join(stateDir, `${stage.config.stage}_processed_fetch_ids.json`) };
}

describe('downstream consumer against a real S3 server', () => {
  it('delivers every record exactly once across interleaved logging, rotations, a midnight and consumer runs', async () => {
    const stage = await createTestStage({ fetchLimit: 3 });
    const clock = new SettableClock('2026-11-28T22:00:00Z'); // 17:00 in New York
    const { logger, consume } = setup(stage, clock);
    const logged: string[] = [];
    const delivered: string[] = [];
    let seq = 0;
    // Fetch counts per step chosen so rotations happen before, between and during consumer runs.
    const plan = [2, 1, 4, 0, 3, 5, 1, 2, 7, 1];
    for (const [step, count] of plan.entries()) {
      for (let i = 0; i < count; i++) {
        const tag = `f${++seq}`;
        await logger.logFetch(matches(tag, (seq % 3) + 1));
        for (let r = 0; r < (seq % 3) + 1; r++) logged.push(`${tag}-${r}`);
      }
      if (step === 5) clock.set('2026-11-29T05:00:30Z'); // past local midnight: the next log uploads the old day
      if (step % 2 === 1) delivered.push(...(await consume()).received.map((r) => r.record_id));
    }
    await logger.flush();
    delivered.push(...(await consume()).received.map((r) => r.record_id));

    expect([...delivered].sort()).toEqual([...logged].sort());
    expect(new Set(delivered).size).toBe(delivered.length);
    expect((await consume()).received).toEqual([]);
  });

  it("reads yesterday's daily object after midnight for fetches uploaded and cleared since the last run", async () => {
    const stage = await createTestStage({ fetchLimit: 100 });
    const clock = new SettableClock('2026-11-29T04:50:00Z'); // 23:50 on the 28th in New York
    const { logger, consume } = setup(stage, clock);
    await logger.logFetch(matches('early', 1));
    expect((await consume()).received.map((r) => [r.record_id, r.source])).toEqual([['early-0', 'local']]);

    await logger.logFetch(matches('late', 2)); // 23:50, still pending locally
    clock.set('2026-11-29T05:10:00Z'); // 00:10 on the 29th
    const after = await logger.logFetch(matches('next-day', 1));
    expect(after.uploads.map((u) => u.date)).toEqual(['2026-11-28']); // 'early' and 'late' left the local file

    const { received } = await consume();
    expect(received.map((r) => [r.record_id, r.source, r.date, r.fetch_number])).toEqual([
      ['late-0', 's3', '2026-11-28', 2],
      ['late-1', 's3', '2026-11-28', 2],
      ['next-day-0', 'local', '2026-11-29', 1],
    ]);
  });

  it('prints nothing and downloads no daily-object bytes on a run with nothing new', async () => {
    const stage = await createTestStage({ fetchLimit: 2 });
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const { logger, consume } = setup(stage, clock);
    for (let i = 0; i < 5; i++) await logger.logFetch(matches(`n${i}`, 2));
    expect((await consume()).received).toHaveLength(10);
    const { received, summary } = await consume();
    expect(received).toEqual([]);
    expect(summary).toMatchObject({ records: 0, fetches: 0, s3_bytes: 0, committed: true });
    expect(summary.daily_objects.find((o) => o.key === key(stage, '2026-11-28'))).toMatchObject({ status: 'unchanged', bytes: 0 });
  });

  it('reads only the new uploads of a grown daily object (a ranged read past the cursor)', async () => {
    const stage = await createTestStage({ fetchLimit: 2 });
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const { logger, consume } = setup(stage, clock);
    const big = 'x'.repeat(20_000);
    for (let i = 0; i < 6; i++) await logger.logFetch(matches(`g${i}`, 1, { big }));
    const first = await consume();
    expect(first.summary.daily_objects.find((o) => o.key === key(stage, '2026-11-28'))).toMatchObject({ status: 'full' });
    const fullSize = first.summary.s3_bytes;
    expect(fullSize).toBeGreaterThan(6 * 20_000);

    for (let i = 6; i < 8; i++) await logger.logFetch(matches(`g${i}`, 1, { big }));
    const second = await consume();
    expect(second.received.map((r) => r.record_id)).toEqual(['g6-0', 'g7-0']);
    expect(second.summary.daily_objects.find((o) => o.key === key(stage, '2026-11-28'))).toMatchObject({ status: 'incremental' });
    // The new upload (2 fetches of ~20 kB) plus the verified tail and the metadata, not the 6 old fetches.
    expect(second.summary.s3_bytes).toBeLessThan(3 * 20_000);
  });

  it('reads only the new upload of a daily object over 5 MiB that the writer appended server-side', async () => {
    const stage = await createTestStage({ fetchLimit: 2 });
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const { logger, consume } = setup(stage, clock);
    const big = 'y'.repeat(1_100_000);
    for (let i = 0; i < 6; i++) await logger.logFetch(matches(`s${i}`, 1, { big }));
    const first = await consume();
    expect(first.received).toHaveLength(6);
    expect(first.summary.s3_bytes).toBeGreaterThan(5 * 1024 * 1024);

    await logger.logFetch(matches('s6', 1));
    const rotation = await logger.logFetch(matches('s7', 1));
    expect(rotation).toMatchObject({ rotated: true, upload_sequence: 4 });
    expect(rotation.upload_error).toBeUndefined();
    const second = await consume();
    expect(second.received.map((r) => r.record_id)).toEqual(['s6-0', 's7-0']);
    expect(second.summary.daily_objects.find((o) => o.key === key(stage, '2026-11-28'))).toMatchObject({ status: 'incremental' });
    expect(second.summary.s3_bytes).toBeLessThan(64 * 1024);
  });

  it('falls back to a full read when the bytes before the cursor changed, and delivers nothing twice', async () => {
    const stage = await createTestStage({ fetchLimit: 2 });
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const { logger, consume } = setup(stage, clock);
    for (let i = 0; i < 4; i++) await logger.logFetch(matches(`r${i}`, 1));
    expect((await consume()).received).toHaveLength(4);

    // Another tool edits an earlier upload (its bytes shift), then the writer appends to the object.
    const object = (await stage.readDaily('2026-11-28'))!;
    Object.assign(object.uploads[0]!, { note: 'annotated by another tool' });
    await stage.client.send(new PutObjectCommand({ Bucket: stage.bucket, Key: key(stage, '2026-11-28'), Body: serializeDailyObject(object) }));
    for (let i = 4; i < 6; i++) await logger.logFetch(matches(`r${i}`, 1));

    const warnings: string[] = [];
    const watched = setup(stage, clock, { onWarning: (w) => warnings.push(w.code) });
    expect((await watched.consume()).received.map((r) => r.record_id)).toEqual(['r4-0', 'r5-0']);
    expect(warnings).toEqual(['daily_object_reread']);
    warnings.length = 0;
    await logger.logFetch(matches('r6', 1));
    await logger.logFetch(matches('r7', 1));
    const next = await watched.consume();
    expect(next.received.map((r) => r.record_id)).toEqual(['r6-0', 'r7-0']);
    expect(next.summary.daily_objects.find((o) => o.key === key(stage, '2026-11-28'))).toMatchObject({ status: 'incremental' });
    expect(warnings).toEqual([]); // after the full read the new cursor is trusted again
  });

  it('keeps the progress of two consumers of one stage separate, in one processed-ID file', async () => {
    const stage = await createTestStage({ fetchLimit: 2 });
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const { logger, consume, stateFile } = setup(stage, clock);
    for (let i = 0; i < 3; i++) await logger.logFetch(matches(`c${i}`, 1));
    expect((await consume('alpha')).received.map((r) => r.record_id)).toEqual(['c0-0', 'c1-0', 'c2-0']);
    await logger.logFetch(matches('c3', 1));
    expect((await consume('alpha')).received.map((r) => r.record_id)).toEqual(['c3-0']);
    expect((await consume('beta')).received.map((r) => r.record_id)).toEqual(['c0-0', 'c1-0', 'c2-0', 'c3-0']);
    expect((await consume('alpha')).received).toEqual([]);
    expect((await consume('beta')).received).toEqual([]);
    const file = JSON.parse(readFileSync(stateFile, 'utf8'));
    expect(Object.keys(file.consumers).sort()).toEqual(['alpha', 'beta']);
  });

  it('refuses a corrupt processed-ID file with an error naming it, and never resets it', async () => {
    const stage = await createTestStage();
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const { logger, consume, stateFile } = setup(stage, clock);
    await logger.logFetch(matches('k', 1));
    await consume();
    for (const garbage of [
      '{"version":1,"stage":"merge","consumers":{"downstream":{"scan_from":"yesterday"',
      '{"version":1,"stage":"merge","consumers":{"downstream":{"fetches":[]}}}',
      'null',
    ]) {
      writeFileSync(stateFile, garbage);
      const error = await consume().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConsumerError);
      expect(error).toMatchObject({ code: 'E_CONSUMER_STATE', exitCode: 1 });
      expect((error as Error).message).toContain(stateFile);
      expect(readFileSync(stateFile, 'utf8')).toBe(garbage);
    }
  });

  it('falls back to a content hash for records without the id field, and says so once per run', async () => {
    const stage = await createTestStage();
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const warnings: string[] = [];
    const { logger, consume } = setup(stage, clock, { onWarning: (w) => warnings.push(w.code) });
    await logger.logFetch({ matches: [{ match_id: 'has-id' }, { score: 1, team: 'a' }, { score: 2 }] });
    await logger.logFetch({ matches: [{ score: 1, team: 'a' }, { score: 3 }] }); // the first is the same record text as before
    const { received, summary } = await consume();
    expect(received.map((r) => r.record_id.startsWith('sha256:'))).toEqual([false, true, true, true]);
    expect(received[0]!.record_id).toBe('has-id');
    expect(summary.duplicate_records).toBe(1);
    expect(warnings).toEqual(['record_id_fallback']);
  });

  it('does not deliver a record whose record_id this consumer already received, even from another fetch', async () => {
    const stage = await createTestStage();
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const { logger, consume } = setup(stage, clock);
    await logger.logFetch(matches('same', 2));
    expect((await consume()).received).toHaveLength(2);
    clock.set('2026-12-03T15:00:00Z'); // five days later, inside the retention window
    await logger.logFetch({ matches: [{ match_id: 'same-1' }, { match_id: 'fresh' }] });
    const { received, summary } = await consume();
    expect(received.map((r) => r.record_id)).toEqual(['fresh']);
    expect(summary.duplicate_records).toBe(1);
  });

  it("uses a record's own timestamp when it has one, else the fetch's", async () => {
    const stage = await createTestStage();
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const { logger, consume } = setup(stage, clock);
    const logged = await logger.logFetch({ matches: [{ match_id: 'a', timestamp: '2026-11-28T09:59:00-05:00' }, { match_id: 'b' }] });
    const { received } = await consume();
    expect(received.map((r) => r.timestamp)).toEqual(['2026-11-28T09:59:00-05:00', logged.timestamp]);
  });

  it('reports a daily object that is not in the SPEC §4 shape with its key, reads the others, and reports it again next run', async () => {
    const stage = await createTestStage({ fetchLimit: 1 });
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const warnings: string[] = [];
    const { logger, consume } = setup(stage, clock, { onWarning: (w) => warnings.push(`${w.code}: ${w.message}`) });
    await stage.client.send(
      new PutObjectCommand({
        Bucket: stage.bucket,
        Key: key(stage, '2026-11-27'),
        Body: '{"uploads":[{"upload_sequence":1,"records_in_upload":1,"fetch_data":[{"fetch_id":"y1","fetch_number":1,"timestamp":"2026-11-27T10:00:00.000-05:00","records":1,"data":{"matches":[{"match_id":"y1-0"}]}}]},{"upload_sequence":7,"records_in_upload":0,"fetch_data":[]}],"daily_metadata":{"date":"2026-11-27"}}',
      }),
    );
    await logger.logFetch(matches('today', 2));
    const { received } = await consume();
    expect(received.map((r) => r.record_id)).toEqual(['y1-0', 'today-0', 'today-1']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^corrupt_daily_object: s3:\/\/.*\/logs\/merge\/merge_json_log_2026-11-27\.json is not a valid rotating-s3 daily object \(uploads\[1\]\.upload_sequence is 7, expected 2\)/,
    );

    clock.set('2026-11-30T15:00:00Z'); // two days on, the broken object is still read and reported
    warnings.length = 0;
    expect((await consume()).received).toEqual([]);
    expect(warnings.map((w) => w.split(':')[0])).toEqual(['corrupt_daily_object']);
  });

  it('commits what the handler finished when it fails, and the next run delivers only the rest', async () => {
    const stage = await createTestStage({ fetchLimit: 2 });
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const { logger, consumer, consume } = setup(stage, clock);
    for (let i = 0; i < 3; i++) await logger.logFetch(matches(`h${i}`, 2));
    const seen: string[] = [];
    const failing = consumer().run(
      (r) => {
        if (r.record_id === 'h1-1') throw new Error('downstream database is down');
        seen.push(r.record_id);
      },
      { commitIntervalMs: 0 },
    );
    await expect(failing).rejects.toThrow('downstream database is down');
    expect(seen).toEqual(['h0-0', 'h0-1', 'h1-0']);
    expect((await consume()).received.map((r) => r.record_id)).toEqual(['h1-1', 'h2-0', 'h2-1']);
  });

  it('delivers the new records on a dry run but commits nothing', async () => {
    const stage = await createTestStage();
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const { logger, consume } = setup(stage, clock);
    await logger.logFetch(matches('d', 2));
    const dry = await consume('downstream', { dryRun: true });
    expect(dry.received).toHaveLength(2);
    expect(dry.summary).toMatchObject({ committed: false, dry_run: true });
    expect((await consume()).received).toHaveLength(2);
    expect((await consume()).received).toHaveLength(0);
  });

  it('forgets ids older than the retention window and cursors older than the watch window, so the processed-ID file stays bounded', async () => {
    const stage = await createTestStage({ fetchLimit: 1 });
    const clock = new SettableClock('2026-11-20T15:00:00Z');
    const { logger, consume, stateFile, stateDir } = setup(stage, clock);
    await logger.logFetch(matches('old', 3));
    await consume();
    clock.set('2026-11-29T15:00:00Z'); // 9 days later
    await logger.logFetch(matches('new', 1));
    await consume();
    const entry = JSON.parse(readFileSync(stateFile, 'utf8')).consumers.downstream;
    expect(entry.runs.map((r: { day: string }) => r.day)).toEqual(['2026-11-29']);
    // The expired day's run file is deleted, not just left out of the manifest.
    expect(readdirSync(join(stateDir, entry.store))).toEqual(entry.runs.map((r: { file: string }) => r.file));
    // Cursors are kept for the watch window (8 + 30 days), to find late uploads into older objects.
    const cursorDates = (e: { objects: Record<string, { date: string }> }) => Object.values(e.objects).map((o) => o.date);
    expect(cursorDates(entry)).toEqual(['2026-11-20', '2026-11-29']);
    clock.set('2026-12-29T15:00:00Z'); // 39 days after the first
    await consume();
    expect(cursorDates(JSON.parse(readFileSync(stateFile, 'utf8')).consumers.downstream)).toEqual(['2026-11-29']);
  });

  it('reads a daily object written with a different layout but the SPEC §4 shape', async () => {
    const stage = await createTestStage();
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const { consume } = setup(stage, clock);
    const { object } = applyUpload(undefined, {
      stage: 'merge',
      timezone: 'America/New_York',
      date: '2026-11-28',
      uploadTimestamp: '2026-11-28T10:00:00.000-05:00',
      fetches: [
        {
          fetch_id: 'other-tool',
          fetch_number: 1,
          timestamp: '2026-11-28T09:00:00.000-05:00',
          records: 1,
          data: JsonText.fromValue({ matches: [{ match_id: 'o-0' }] }),
        },
      ],
    });
    const plain = JSON.parse(serializeDailyObject(object)) as typeof object;
    const reordered = { daily_metadata: plain.daily_metadata, uploads: plain.uploads };
    expect(serializeDailyObject(object)).not.toBe(JSON.stringify(reordered, null, 2));
    await stage.client.send(new PutObjectCommand({ Bucket: stage.bucket, Key: key(stage, '2026-11-28'), Body: JSON.stringify(reordered, null, 2) }));
    expect((await consume()).received.map((r) => r.record_id)).toEqual(['o-0']);
  });
});
