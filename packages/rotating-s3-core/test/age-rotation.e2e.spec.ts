/**
 * Rotation by age through the bins: `log` checks maxPendingAge on every call, `flush --if-older-than` is
 * there for cron, and the delegate flushes through the script when its timer fires (fired by hand here).
 */
import { describe, expect, it } from 'vitest';
import { createDelegate, type Timers } from '../src/index.js';
import { BIN, createTestStage, payload, runCli, writePayload } from './support.js';

describe('rotation by age through the CLI', () => {
  it('log uploads pending fetches once the oldest is older than ROTATING_S3_MAX_PENDING_AGE', async () => {
    const stage = await createTestStage({ fetchLimit: 25 });
    const file = writePayload(stage, 'p.json', payload(1));
    const env = { ...stage.env, ROTATING_S3_MAX_PENDING_AGE: '15m' };
    const log = (now: string, id: string) => runCli(['log', '--config', stage.configFile, '--payload-file', file, '--fetch-id', id, '--now', now], { env });
    const first = await log('2026-11-28T20:00:00Z', 'cli-age-1');
    expect(first.json).toMatchObject({ pending: 1, rotated: false, age_rotation: { max_pending_age: '15m', due_in_ms: 900_000 } });
    expect((await log('2026-11-28T20:14:00Z', 'cli-age-2')).json).toMatchObject({ pending: 2, rotated: false });
    expect((await log('2026-11-28T20:16:00Z', 'cli-age-3')).json).toMatchObject({ pending: 0, rotated: true, upload_sequence: 1 });
    const day = await stage.readDaily('2026-11-28');
    expect(day!.uploads[0]!.fetch_data.map((f) => f.fetch_id)).toEqual(['cli-age-1', 'cli-age-2', 'cli-age-3']);
  });

  it('flush --if-older-than uploads only when the oldest pending fetch is that old, and refuses a bad duration', async () => {
    const stage = await createTestStage({ fetchLimit: 25 });
    const file = writePayload(stage, 'p.json', payload(1));
    const log = await runCli(['log', '--config', stage.configFile, '--payload-file', file, '--now', '2026-11-28T20:00:00Z'], { env: stage.env });
    expect(log.code, log.stderr).toBe(0);
    const flush = (now: string, age = '15m') => runCli(['flush', '--config', stage.configFile, '--if-older-than', age, '--now', now], { env: stage.env });
    const early = await flush('2026-11-28T20:10:00Z');
    expect(early.code, early.stderr).toBe(0);
    expect(early.json).toMatchObject({ due: false, uploaded_fetches: 0, pending: 1 });
    const bad = await flush('2026-11-28T20:10:00Z', '15 minutes');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^rotating-s3: error E_USAGE: --if-older-than "15 minutes" is not a duration; use .*"15m"\n$/);
    const due = await flush('2026-11-28T20:15:00Z');
    expect(due.json).toMatchObject({ due: true, uploaded_fetches: 1, pending: 0 });
    expect((await stage.readDaily('2026-11-28'))!.daily_metadata.total_uploads_today).toBe(1);
  });

  it('the delegate flushes through the script when its age timer fires', async () => {
    const stage = await createTestStage({ fetchLimit: 25 });
    let armed: { fn: () => void; ms: number } | undefined;
    const timers: Timers = {
      set(fn, ms) {
        armed = { fn, ms };
        return { cancel: () => (armed = undefined) };
      },
    };
    const log = createDelegate({ script: BIN, args: ['--config', stage.configFile], timers });
    const env = { ...process.env, ...stage.env, ROTATING_S3_MAX_PENDING_AGE: '15m' };
    const result = await log(JSON.parse(payload(1)), { env, fetchId: 'delegate-age-1', now: '2026-11-28T20:00:00Z' });
    expect(result).toMatchObject({ pending: 1, rotated: false });
    expect(armed?.ms).toBe(900_000);
    expect(await stage.readDaily('2026-11-28')).toBeUndefined();
    const fire = armed!.fn;
    fire();
    await log.close(); // waits for the flush the timer started
    const day = await stage.readDaily('2026-11-28');
    expect(day!.uploads.flatMap((u) => u.fetch_data.map((f) => f.fetch_id))).toEqual(['delegate-age-1']);
  });
});
