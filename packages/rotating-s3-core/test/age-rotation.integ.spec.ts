/**
 * Rotation by age (`maxPendingAge`) in-process: checked on every `logFetch`, and by a timer that the test
 * fires by hand (injected timers, a settable clock: no real date, no sleeping).
 */
import { describe, expect, it } from 'vitest';
import { createStageLogger, type Timers } from '../src/index.js';
import { silentOpsLog } from '../src/logger/ops-log.js';
import { SettableClock, createTestStage, payload } from './support.js';

/** Timers the test fires by hand: the armed one is `armed`, cancelled ones are dropped. */
function manualTimers() {
  const state: { armed: { fn: () => void; ms: number } | undefined; cancelled: number } = { armed: undefined, cancelled: 0 };
  const timers: Timers = {
    set(fn, ms) {
      // Firing disarms it, as a real timeout that ran.
      const entry = {
        fn: () => {
          if (state.armed === entry) state.armed = undefined;
          fn();
        },
        ms,
      };
      state.armed = entry;
      return {
        cancel() {
          if (state.armed === entry) state.armed = undefined;
          state.cancelled++;
        },
      };
    },
  };
  return { timers, state };
}

describe('rotation by age in-process', () => {
  it('uploads pending fetches below fetchLimit when a log finds the oldest older than maxPendingAge', async () => {
    const stage = await createTestStage({ fetchLimit: 25, maxPendingAge: '15m' });
    const clock = new SettableClock('2026-11-28T20:00:00Z');
    const { timers } = manualTimers();
    const logger = createStageLogger(stage.config, { clock, timers, s3Client: stage.client, opsLog: silentOpsLog });
    const first = await logger.logFetch(payload(1), { fetchId: 'age-1' });
    expect(first).toMatchObject({ pending: 1, rotated: false, age_rotation: { max_pending_age: '15m', due_in_ms: 900_000 } });
    clock.set('2026-11-28T20:10:00Z');
    expect(await logger.logFetch(payload(2), { fetchId: 'age-2' })).toMatchObject({ pending: 2, rotated: false, age_rotation: { due_in_ms: 300_000 } });
    clock.set('2026-11-28T20:15:00Z');
    const third = await logger.logFetch(payload(3), { fetchId: 'age-3' });
    expect(third).toMatchObject({ pending: 0, rotated: true, upload_sequence: 1 });
    expect(third.age_rotation).toBeUndefined();
    await logger.close();
    const day = await stage.readDaily('2026-11-28');
    expect(day!.uploads.map((u) => u.fetch_data.map((f) => f.fetch_id))).toEqual([['age-1', 'age-2', 'age-3']]);
  });

  it('uploads by timer when no further log comes, and close() cancels the timer', async () => {
    const stage = await createTestStage({ fetchLimit: 25, maxPendingAge: '15m' });
    const clock = new SettableClock('2026-11-28T20:00:00Z');
    const { timers, state } = manualTimers();
    const logger = createStageLogger(stage.config, { clock, timers, s3Client: stage.client, opsLog: silentOpsLog });
    await logger.logFetch(payload(1), { fetchId: 'timer-1' });
    clock.set('2026-11-28T20:05:00Z');
    await logger.logFetch(payload(2), { fetchId: 'timer-2' });
    // Armed for the oldest fetch: 10 minutes to go.
    expect(state.armed?.ms).toBe(600_000);

    clock.set('2026-11-28T20:15:00Z');
    state.armed!.fn();
    await logger.close(); // queued behind the timer's flush
    expect(state.armed).toBeUndefined();
    const day = await stage.readDaily('2026-11-28');
    expect(day!.uploads.flatMap((u) => u.fetch_data.map((f) => f.fetch_id))).toEqual(['timer-1', 'timer-2']);
    expect((await logger.status()).pending).toBe(0);

    await logger.logFetch(payload(3), { fetchId: 'timer-3' });
    expect(state.armed?.ms).toBe(900_000);
    await logger.close();
    expect(state.armed).toBeUndefined();
    expect((await logger.status()).pending).toBe(1);
  });

  it('arms no timer and never rotates by age when maxPendingAge is off', async () => {
    const stage = await createTestStage({ fetchLimit: 25 });
    const clock = new SettableClock('2026-11-28T20:00:00Z');
    const { timers, state } = manualTimers();
    const logger = createStageLogger(stage.config, { clock, timers, s3Client: stage.client, opsLog: silentOpsLog });
    await logger.logFetch(payload(1));
    clock.set('2026-11-28T23:00:00Z');
    const later = await logger.logFetch(payload(2));
    expect(later).toMatchObject({ pending: 2, rotated: false });
    expect(later.age_rotation).toBeUndefined();
    expect(state.armed).toBeUndefined();
    await logger.close();
  });

  it('flush with olderThanMs uploads only when the oldest pending fetch is that old', async () => {
    const stage = await createTestStage({ fetchLimit: 25 });
    const clock = new SettableClock('2026-11-28T20:00:00Z');
    const logger = createStageLogger(stage.config, { clock, s3Client: stage.client, opsLog: silentOpsLog });
    await logger.logFetch(payload(1));
    clock.set('2026-11-28T20:14:59Z');
    expect(await logger.flush({ olderThanMs: 900_000 })).toMatchObject({ due: false, uploaded_fetches: 0, pending: 1 });
    clock.set('2026-11-28T20:15:00Z');
    expect(await logger.flush({ olderThanMs: 900_000 })).toMatchObject({ due: true, uploaded_fetches: 1, pending: 0 });
    expect(await logger.flush({ olderThanMs: 900_000 })).toMatchObject({ due: false, uploaded_fetches: 0, pending: 0 });
    await logger.close();
  });
});
