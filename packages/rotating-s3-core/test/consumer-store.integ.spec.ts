/**
 * The consumer's processed-ID store against the real file system and a real S3 server: the upgrade from a
 * version-1 processed-ID file without delivering anything again, consumers sharing a state directory,
 * a damaged store refused (never reset), and the dedup window as a setting.
 */
import { mkdirSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConsumerError, createConsumer, createStageLogger, type ConsumedRecord, type ConsumerOptions, type RunOptions } from '../src/index.js';
import { encodedDigestOf } from '../src/consumer/digest-set.js';
import { silentOpsLog } from '../src/logger/ops-log.js';
import { SettableClock, createTestStage, type TestStage } from './support.js';

function matches(tag: string, n: number): Record<string, unknown> {
  return { matches: Array.from({ length: n }, (_, i) => ({ match_id: `${tag}-${i}` })) };
}

function setup(stage: TestStage, clock: SettableClock) {
  const logger = createStageLogger(stage.config, { clock, s3Client: stage.client, opsLog: silentOpsLog });
  const stateDir = join(stage.dir, 'consumer-state');
  const stateFile = join(stateDir, `${stage.config.stage}_processed_fetch_ids.json`);
  const consume = async (name = 'downstream', options: RunOptions = {}, more: Partial<ConsumerOptions> = {}) => {
    const received: ConsumedRecord[] = [];
    const consumer = createConsumer({ config: stage.config, consumer: name, stateDir, clock, s3Client: stage.client, ...more });
    const summary = await consumer.run((r) => void received.push(r), options);
    return { received, summary, ids: received.map((r) => r.record_id) };
  };
  const entry = (name = 'downstream') => JSON.parse(readFileSync(stateFile, 'utf8')).consumers[name];
  return { logger, stateDir, stateFile, consume, entry };
}

describe('processed-ID store of the consumer', () => {
  it('upgrades a version-1 processed-ID file on the first run without delivering anything again, one consumer at a time', async () => {
    const stage = await createTestStage({ fetchLimit: 2 });
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const { logger, stateDir, stateFile, consume, entry } = setup(stage, clock);
    for (const tag of ['a', 'b', 'c']) await logger.logFetch(matches(tag, 2));
    await logger.flush();
    const dry = await consume('downstream', { dryRun: true });
    const fetchOf = (id: string) => dry.received.find((r) => r.record_id === id)!.fetch_id;
    // What the previous version wrote after processing a, b and c: fetch a by id, b's and c's records by
    // digest (as when b's and c's records were first received from other fetches), no cursors.
    const v1Entry = {
      scan_from: null,
      last_run: null,
      fetches: { '2026-11-27': [fetchOf('a-0')] },
      records: { '2026-11-27': ['b-0', 'b-1'].map(encodedDigestOf).join(''), '2026-11-28': ['c-0', 'c-1'].map(encodedDigestOf).join('') },
      objects: {},
    };
    const v1 = JSON.stringify({ version: 1, stage: stage.config.stage, consumers: { downstream: v1Entry, other: v1Entry } });
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(stateFile, v1);

    // A dry run reads the version-1 ids and writes nothing.
    expect((await consume('downstream', { dryRun: true })).ids).toEqual([]);
    expect(readFileSync(stateFile, 'utf8')).toBe(v1);

    const first = await consume();
    expect(first.ids).toEqual([]);
    expect(first.summary).toMatchObject({ skipped_fetches: 1, duplicate_records: 4, committed: true });
    const file = JSON.parse(readFileSync(stateFile, 'utf8'));
    expect(file.version).toBe(2);
    expect(file.consumers.other).toEqual(v1Entry); // migrated by its own first run
    // The converted days, plus today's file of the fetches b and c, now marked processed.
    expect(entry().runs.map((r: { day: string }) => r.day)).toEqual(['2026-11-27', '2026-11-28', '2026-11-28']);
    expect(readdirSync(join(stateDir, entry().store)).sort()).toEqual(
      entry()
        .runs.map((r: { file: string }) => r.file)
        .sort(),
    );

    await logger.logFetch(matches('d', 1));
    await logger.flush();
    expect((await consume()).ids).toEqual(['d-0']);
    expect((await consume('other')).ids).toEqual(['d-0']);
    expect(entry('other').runs.length).toBeGreaterThan(0);
  });

  it('keeps two consumers of one state directory independent, each with its own run files', async () => {
    const stage = await createTestStage({ fetchLimit: 2 });
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const { logger, stateDir, consume, entry } = setup(stage, clock);
    await logger.logFetch(matches('x', 2));
    expect((await consume('alpha')).ids).toEqual(['x-0', 'x-1']);
    await logger.logFetch(matches('y', 1));
    expect((await consume('beta')).ids).toEqual(['x-0', 'x-1', 'y-0']);
    expect(entry('alpha').store).not.toBe(entry('beta').store);
    // Damage alpha's store: beta goes on, alpha is refused.
    unlinkSync(join(stateDir, entry('alpha').store, entry('alpha').runs[0].file));
    await logger.logFetch(matches('z', 1));
    expect((await consume('beta')).ids).toEqual(['z-0']);
    await expect(consume('alpha')).rejects.toMatchObject({ code: 'E_CONSUMER_STATE' });
  });

  it('refuses a store whose run file is missing or damaged with E_CONSUMER_STATE naming the file, and changes nothing', async () => {
    const stage = await createTestStage({ fetchLimit: 2 });
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const { logger, stateDir, stateFile, consume, entry } = setup(stage, clock);
    await logger.logFetch(matches('k', 500));
    await consume();
    const runFile = join(stateDir, entry().store, entry().runs[0].file);
    const bytes = readFileSync(runFile);
    const damaged = Buffer.from(bytes);
    damaged[bytes.length - 1] = damaged[bytes.length - 1]! ^ 1; // the footer's checksum
    const state = readFileSync(stateFile, 'utf8');
    for (const damage of [() => writeFileSync(runFile, damaged), () => unlinkSync(runFile)]) {
      damage();
      const error = await consume().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConsumerError);
      expect(error).toMatchObject({ code: 'E_CONSUMER_STATE', exitCode: 1 });
      expect((error as Error).message).toContain(runFile);
      expect(readFileSync(stateFile, 'utf8')).toBe(state);
    }
    writeFileSync(runFile, bytes); // restored from a backup: the consumer goes on
    expect((await consume()).ids).toEqual([]);
    // An entry naming another consumer's directory is refused too (this one would delete its files).
    const good = readFileSync(stateFile, 'utf8');
    writeFileSync(stateFile, good.replace('"merge_downstream.processed"', '"merge_other.processed"'));
    await expect(consume()).rejects.toThrow(new RegExp(`${stateFile}.*consumers\\.downstream\\.store`));
  });

  it('remembers ids for the dedup window it is given (30 days), and forgets them after the default 8', async () => {
    const stage = await createTestStage({ fetchLimit: 1 });
    const clock = new SettableClock('2026-11-01T15:00:00Z');
    const { logger, consume, entry } = setup(stage, clock);
    await logger.logFetch(matches('same', 1));
    expect((await consume('long', {}, { dedupDays: 30 })).ids).toEqual(['same-0']);
    expect((await consume('short')).ids).toEqual(['same-0']);
    expect(entry('long').dedup_days).toBe(30);
    clock.set('2026-11-21T15:00:00Z'); // 20 days later the same record comes again
    await logger.logFetch(matches('same', 1));
    expect((await consume('long', {}, { dedupDays: 30 })).ids).toEqual([]);
    expect((await consume('short')).ids).toEqual(['same-0']);
    expect(() => createConsumer({ config: stage.config, consumer: 'x', dedupDays: 6 })).toThrow(/at least 7/);
  });
});
