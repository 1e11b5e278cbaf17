/**
 * Progress bars: drawn on a terminal only, never in a pipe, cron or CI; `flush` of a backlog advances the
 * bar to the number of uploaded fetches.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress, withFlushProgress } from '../src/cli/progress.js';
import { createStageLogger, fixedClock } from '../src/index.js';
import { createTestStage, payload, runCli, writePayload } from './support.js';

/** A stream that says it is a terminal, recording what is drawn. */
function fakeTerminal(): PassThrough & { isTTY: boolean; columns: number; text(): string } {
  const stream = new PassThrough() as PassThrough & { isTTY: boolean; columns: number; text(): string };
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.isTTY = true;
  stream.columns = 100;
  stream.text = () => Buffer.concat(chunks).toString();
  return stream;
}

describe('createProgress', () => {
  it('is a silent no-op when stderr is not a terminal', () => {
    const stream = new PassThrough();
    let written = '';
    stream.on('data', (c: Buffer) => (written += c.toString()));
    const bar = createProgress(10, 'consume merge', { stream, env: {} });
    bar.increment(5);
    bar.stop();
    expect(bar.active).toBe(false);
    expect(written).toBe('');
  });

  it('draws label, count and percentage on a terminal', () => {
    const stream = fakeTerminal();
    const bar = createProgress(10, 'consume merge', { stream, env: {} });
    bar.update(3);
    bar.increment(2);
    bar.stop();
    expect(bar.active).toBe(true);
    expect(stream.text()).toMatch(/consume merge \[[█░]+\] 50% \| 5\/10/);
  });

  it('stays off in CI and with ROTATING_S3_PROGRESS=0, and ROTATING_S3_PROGRESS=1 forces it on a terminal', () => {
    expect(createProgress(10, 'x', { stream: fakeTerminal(), env: { CI: 'true' } }).active).toBe(false);
    expect(createProgress(10, 'x', { stream: fakeTerminal(), env: { ROTATING_S3_PROGRESS: '0' } }).active).toBe(false);
    const forced = createProgress(10, 'x', { stream: fakeTerminal(), env: { CI: 'true', ROTATING_S3_PROGRESS: '1' } });
    expect(forced.active).toBe(true);
    forced.stop();
  });
});

describe('flush progress', () => {
  it('catching up a backlog of two days on a terminal advances the bar to every uploaded fetch', async () => {
    const stage = await createTestStage({ fetchLimit: 100 });
    const env = stage.env;
    for (const [i, now] of [
      '2026-11-27T10:00:00-05:00',
      '2026-11-27T11:00:00-05:00',
      '2026-11-28T10:00:00-05:00',
      '2026-11-28T10:01:00-05:00',
      '2026-11-28T10:02:00-05:00',
    ].entries()) {
      // Logged while S3 is down: the fetches stay pending (the first fetch of 11-28 tries the 11-27 upload).
      const file = writePayload(stage, `p${i}.json`, payload(i));
      expect(
        (
          await runCli(['log', '--config', stage.configFile, '--payload-file', file, '--now', now], {
            env: { ...env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' },
          })
        ).code,
      ).toBe(0);
    }
    // A bar is drawn for a backlog (more than fetchLimit pending): flush with the stage's limit set to 2.
    const logger = createStageLogger(
      { ...stage.config, fetchLimit: 2 },
      { clock: fixedClock('2026-11-28T10:05:00-05:00'), holdLockMs: 0, s3Client: stage.client },
    );
    const stream = fakeTerminal();
    const result = await withFlushProgress(logger, () => logger.flush(), { stream, env: {}, intervalMs: 10 });
    expect(result.uploaded_fetches).toBe(5);
    // A backlog goes up in uploads of at most fetchLimit (2) fetches: 11-27 in one, 11-28 in two.
    expect(result.uploads.map((u) => [u.date, u.fetches])).toEqual([
      ['2026-11-27', 2],
      ['2026-11-28', 2],
      ['2026-11-28', 1],
    ]);
    expect(stream.text()).toMatch(/flush merge: uploading 5 fetches of 2 date\(s\) \[[█░]+\] 100% \| 5\/5/);
  });

  it('prints nothing but the JSON result when stderr is not a terminal', async () => {
    const stage = await createTestStage({ fetchLimit: 2 });
    for (let i = 0; i < 4; i++) {
      const file = writePayload(stage, `p${i}.json`, payload(i));
      await runCli(['log', '--config', stage.configFile, '--payload-file', file, '--now', `2026-11-28T10:0${i}:00-05:00`], {
        env: { ...stage.env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' },
      });
    }
    const flush = await runCli(['flush', '--config', stage.configFile, '--now', '2026-11-28T10:05:00-05:00'], { env: stage.env });
    expect(flush.code).toBe(0);
    expect(flush.json).toMatchObject({ uploaded_fetches: 4, pending: 0 });
    expect(flush.stderr).toBe('');
  });
});
