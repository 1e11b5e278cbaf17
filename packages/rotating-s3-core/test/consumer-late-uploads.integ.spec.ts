/**
 * Late uploads into an older day's daily object: a writer that was idle for days uploads its old pending
 * fetches into the old date's object at its next log. A consumer that does not see the writer's local file
 * (another host, or a second writer host) must still find that object changed and deliver them once.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createConsumer, createStageLogger, type ConsumedRecord, type ConsumerOptions } from '../src/index.js';
import { silentOpsLog } from '../src/logger/ops-log.js';
import { SettableClock, createTestStage, type TestStage } from './support.js';

function matches(tag: string): Record<string, unknown> {
  return { matches: [{ match_id: tag }] };
}

function consumerOf(stage: TestStage, clock: SettableClock, options: Partial<ConsumerOptions>) {
  const stateDir = join(stage.dir, 'consumer-state');
  return async () => {
    const received: ConsumedRecord[] = [];
    await createConsumer({ config: stage.config, consumer: 'downstream', stateDir, clock, s3Client: stage.client, ...options }).run(
      (r) => void received.push(r),
    );
    return received.map((r) => r.record_id);
  };
}

/** Noon in New York on day `d` of December 2026. */
const noon = (d: number) => `2026-12-${String(d).padStart(2, '0')}T17:00:00Z`;

describe('consumer and late uploads into an older daily object', () => {
  it('delivers fetches uploaded days later into an older daily object, on a host without the local file', async () => {
    const stage = await createTestStage({ fetchLimit: 5 });
    const clock = new SettableClock(noon(10));
    const logger = createStageLogger(stage.config, { clock, s3Client: stage.client, opsLog: silentOpsLog });
    const consume = consumerOf(stage, clock, { readLocal: false });
    const delivered: string[] = [];

    for (let i = 1; i <= 7; i++) await logger.logFetch(matches(`dec10-${i}`)); // 5 uploaded, 2 pending
    delivered.push(...(await consume()));
    for (const day of [11, 12]) {
      clock.set(noon(day)); // the writer is idle
      delivered.push(...(await consume()));
    }
    clock.set(noon(13));
    const late = await logger.logFetch(matches('dec13-1')); // uploads the 2 pending into the Dec 10 object
    expect(late.uploads.map((u) => u.date)).toEqual(['2026-12-10']);
    delivered.push(...(await consume()));
    clock.set(noon(14));
    await logger.flush();
    delivered.push(...(await consume()));

    const logged = [...Array.from({ length: 7 }, (_, i) => `dec10-${i + 1}`), 'dec13-1'];
    expect([...delivered].sort()).toEqual([...logged].sort());
  });

  it("delivers a second writer host's late uploads to a consumer on the first host", async () => {
    const stage = await createTestStage({ fetchLimit: 5 });
    const hostB = { ...stage.config, localDir: join(stage.dir, 'host-b') };
    const clock = new SettableClock(noon(10));
    const writerA = createStageLogger(stage.config, { clock, s3Client: stage.client, opsLog: silentOpsLog });
    const writerB = createStageLogger(hostB, { clock, s3Client: stage.client, opsLog: silentOpsLog });
    const consume = consumerOf(stage, clock, {}); // reads host A's local file
    const delivered: string[] = [];

    for (let i = 1; i <= 7; i++) await writerB.logFetch(matches(`b-dec10-${i}`)); // 2 pending on host B
    await writerA.logFetch(matches('a-dec10-1'));
    delivered.push(...(await consume()));
    for (const day of [11, 12]) {
      clock.set(noon(day));
      await writerA.logFetch(matches(`a-dec${day}-1`));
      delivered.push(...(await consume()));
    }
    clock.set(noon(13));
    await writerB.logFetch(matches('b-dec13-1')); // host B uploads its 2 old pending fetches into Dec 10
    delivered.push(...(await consume()));
    clock.set(noon(14));
    await writerB.flush();
    delivered.push(...(await consume()));

    const logged = [...Array.from({ length: 7 }, (_, i) => `b-dec10-${i + 1}`), 'b-dec13-1', 'a-dec10-1', 'a-dec11-1', 'a-dec12-1'];
    expect([...delivered].sort()).toEqual([...logged].sort());
  });

  it('reads an older daily object only when its listed ETag changed since the last run', async () => {
    const stage = await createTestStage({ fetchLimit: 2 });
    const clock = new SettableClock(noon(10));
    const logger = createStageLogger(stage.config, { clock, s3Client: stage.client, opsLog: silentOpsLog });
    const consume = consumerOf(stage, clock, { readLocal: false });
    for (let i = 1; i <= 4; i++) await logger.logFetch(matches(`x-${i}`));
    expect(await consume()).toHaveLength(4);
    clock.set(noon(20));
    const summaries: string[][] = [];
    await createConsumer({
      config: stage.config,
      consumer: 'downstream',
      stateDir: join(stage.dir, 'consumer-state'),
      clock,
      s3Client: stage.client,
      readLocal: false,
    })
      .run(() => undefined)
      .then((s) => {
        summaries.push(s.daily_objects.map((o) => o.key));
      });
    // The Dec 10 object did not change: it is not fetched again, only listed.
    expect(summaries[0]!.some((k) => k.endsWith('2026-12-10.json'))).toBe(false);
  });
});
