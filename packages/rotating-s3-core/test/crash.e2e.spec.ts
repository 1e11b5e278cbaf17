/**
 * kill -9 of `log` and `flush` at every named step and at random moments, then retries with the same
 * fetch ids: every fetch ends up in S3 exactly once and the numbering of the day is gap-free.
 * Named steps use the TEST-ONLY hook ROTATING_S3_TEST_CRASH_AT (src/local/crash-point.ts).
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BIN, createTestStage, payload, runCli, writePayload, type TestStage } from './support.js';

// Every CLI run and the in-process writer see this instant (--now / NOW), never the real date.
const NOW = '2026-11-28T17:00:00Z';
const TODAY = '2026-11-28'; // NOW in America/New_York, the test stage's zone
const at = (args: string[]) => [...args, '--now', NOW];

const STEPS = [
  'log:before-append',
  'log:after-append',
  'log:after-state',
  'rotate:before-upload',
  'rotate:after-upload',
  'rotate:after-index',
  'rotate:after-trim',
];

/** Runs the CLI and SIGKILLs it after `ms` milliseconds (if it is still running). */
function runAndKill(args: string[], env: Record<string, string>, ms: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...at(args)], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

async function logUntilDone(stage: TestStage, file: string, id: string): Promise<number> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = await runCli(at(['log', '--config', stage.configFile, '--payload-file', file, '--fetch-id', id]), { env: stage.env });
    if (r.code === 0) return r.json!['fetch_number'] as number;
  }
  throw new Error(`log of ${id} never succeeded`);
}

async function assertExactlyOnce(stage: TestStage, ids: string[]): Promise<void> {
  const flush = await runCli(at(['flush', '--config', stage.configFile]), { env: stage.env });
  expect(flush.code, flush.stderr).toBe(0);
  expect(flush.json!['pending']).toBe(0);
  const day = await stage.readDaily(TODAY);
  const fetches = day!.uploads.flatMap((u) => u.fetch_data);
  expect(fetches.map((f) => f.fetch_id).sort()).toEqual([...ids].sort());
  expect(fetches.map((f) => f.fetch_number).sort((a, b) => a - b)).toEqual(ids.map((_, i) => i + 1));
  expect(day!.uploads.map((u) => u.upload_sequence)).toEqual(day!.uploads.map((_, i) => i + 1));
  expect(day!.daily_metadata.total_records_today).toBe(fetches.reduce((n, f) => n + f.records, 0));
}

describe('crash safety of the CLI', () => {
  it('loses and doubles nothing when log is killed at each named step and retried with the same fetch id', async () => {
    const stage = await createTestStage({ fetchLimit: 2 });
    const file = writePayload(stage, 'p.json', payload(1, 3));
    const ids: string[] = [];
    for (const [i, step] of STEPS.entries()) {
      // Two fetches per step so the rotate:* steps are reached on the second one.
      for (const j of [0, 1]) {
        const id = `step${i}-${j}`;
        ids.push(id);
        const killed = await runCli(at(['log', '--config', stage.configFile, '--payload-file', file, '--fetch-id', id]), {
          env: { ...stage.env, ROTATING_S3_TEST_CRASH_AT: step },
        });
        // log:* steps are reached by every call; rotate:* steps only by the second fetch of a pair.
        expect(killed.signal).toBe(step.startsWith('log:') || j === 1 ? 'SIGKILL' : null);
        await logUntilDone(stage, file, id);
      }
    }
    await assertExactlyOnce(stage, ids);
  }, 240_000);

  it('loses and doubles nothing when flush is killed during the upload steps', async () => {
    const stage = await createTestStage({ fetchLimit: 100 });
    const file = writePayload(stage, 'p.json', payload(1));
    const ids: string[] = [];
    for (const step of ['rotate:before-upload', 'rotate:after-upload', 'rotate:after-index', 'rotate:after-trim']) {
      const id = `flush-${step.replace(/\W/g, '-')}`;
      ids.push(id);
      await logUntilDone(stage, file, id);
      const killed = await runCli(at(['flush', '--config', stage.configFile]), { env: { ...stage.env, ROTATING_S3_TEST_CRASH_AT: step } });
      expect(killed.signal).toBe('SIGKILL');
    }
    await assertExactlyOnce(stage, ids);
  }, 240_000);

  it('loses and doubles nothing when log and flush are killed at random moments', async () => {
    const stage = await createTestStage({ fetchLimit: 3 });
    const file = writePayload(stage, 'p.json', payload(1, 2));
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const id = `random-${i}`;
      ids.push(id);
      const args = i % 4 === 3 ? ['flush', '--config', stage.configFile] : ['log', '--config', stage.configFile, '--payload-file', file, '--fetch-id', id];
      await runAndKill(args, stage.env, 60 + Math.floor(Math.random() * 400));
      await logUntilDone(stage, file, id);
    }
    await assertExactlyOnce(stage, ids);
  }, 300_000);

  it.each([
    ['fdatasync per fetch', '0'],
    ['group commit every 50 ms', '50'],
  ])(
    'keeps every acknowledged fetch of an in-process logger (held lock, %s) killed mid-stream',
    async (_mode, syncEveryMs) => {
      const stage = await createTestStage({ fetchLimit: 7 });
      const writer = spawn(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'inprocess-writer.mjs'), stage.configFile], {
        env: { PATH: process.env['PATH'] ?? '', ...stage.env, SYNC_EVERY_MS: syncEveryMs, NOW },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const acked: string[] = [];
      // Killed after a random number of acknowledgements past the first rotation (fetchLimit 7), not after a fixed time.
      const killAfter = 11 + Math.floor(Math.random() * 20);
      const closed = new Promise((r) => writer.on('close', r));
      await new Promise<void>((resolve) => {
        let partial = '';
        writer.stdout.on('data', (d: Buffer) => {
          const lines = (partial + d.toString()).split('\n');
          partial = lines.pop() ?? '';
          acked.push(...lines.filter((l) => l.startsWith('ack ')).map((l) => l.slice(4)));
          if (acked.length >= killAfter) resolve();
        });
        void closed.then(() => resolve());
      });
      writer.kill('SIGKILL');
      await closed;
      expect(acked.length).toBeGreaterThanOrEqual(killAfter);
      // A fetch may be durable without its ack having been read before the kill: retrying it is a no-op.
      const file = writePayload(stage, 'p.json', payload(1));
      const ids = [...acked];
      for (let i = acked.length; ; i++) {
        const r = await runCli(at(['log', '--config', stage.configFile, '--payload-file', file, '--fetch-id', `inproc-${i}`]), { env: stage.env });
        expect(r.code, r.stderr).toBe(0);
        ids.push(`inproc-${i}`);
        if (r.json!['duplicate'] === false) break;
      }
      await assertExactlyOnce(stage, ids);
    },
    120_000,
  );
});
