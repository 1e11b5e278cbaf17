/**
 * `consume` as a separate process against a real S3 server: the SPEC §7 output, exit codes, kill -9 at the
 * named consumer steps (TEST-ONLY hook ROTATING_S3_TEST_CRASH_AT, src/consumer/crash-point.ts) and at a
 * random moment mid-stream, separate consumers, a corrupt processed-ID file, and `log` running in parallel.
 *
 * The contract these tests hold `consume` to: the output of a run that exited 0 is final; a run that did
 * not exit 0 committed nothing, so its records are printed again by the next run.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createStageLogger } from '../src/index.js';
import { silentOpsLog } from '../src/logger/ops-log.js';
import { BIN, SettableClock, createTestStage, runCli, writePayload, type RunResult, type TestStage } from './support.js';

const NOW = '2026-11-28T15:00:00-05:00';

function consume(stage: TestStage, args: string[] = [], env: Record<string, string> = {}): Promise<RunResult> {
  return runCli(['consume', '--config', stage.configFile, '--now', NOW, '--state-dir', join(stage.dir, 'state'), ...args], { env: { ...stage.env, ...env } });
}

function lines(stdout: string): Array<Record<string, any>> {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, any>);
}

function ids(stdout: string): string[] {
  return lines(stdout).map((l) => l['record_id'] as string);
}

/** Logs `fetches` fetches of `records` records in-process (fast), returning every record id. */
async function logMany(stage: TestStage, fetches: number, records: number, tag = 'f'): Promise<string[]> {
  const logger = createStageLogger(stage.config, { clock: new SettableClock(NOW), s3Client: stage.client, opsLog: silentOpsLog });
  const all: string[] = [];
  for (let f = 0; f < fetches; f++) {
    const matches = Array.from({ length: records }, (_, r) => ({ match_id: `${tag}${f}-${r}`, text: 'lorem ipsum '.repeat(4) }));
    await logger.logFetch({ matches });
    all.push(...matches.map((m) => m.match_id));
  }
  return all;
}

/** Spawns `consume` and SIGKILLs it as soon as it has printed something. */
function consumeAndKillMidStream(stage: TestStage): Promise<{ signal: NodeJS.Signals | null; code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [BIN, 'consume', '--config', stage.configFile, '--now', NOW, '--state-dir', join(stage.dir, 'state'), '--consumer', 'downstream'],
      {
        env: { PATH: process.env['PATH'] ?? '', ...stage.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const out: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => {
      out.push(d);
      child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out).toString() }));
  });
}

describe('rotating-s3 consume', () => {
  it('prints one JSON line per new record with the SPEC §7 fields, and nothing on a rerun', async () => {
    const stage = await createTestStage({ fetchLimit: 3 });
    const file = writePayload(stage, 'p.json', JSON.stringify({ matches: [{ match_id: 'a' }, { match_id: 'b', timestamp: '2026-11-28T09:00:00-05:00' }] }));
    for (const [i, now] of ['15:00:01', '15:00:02', '15:00:03', '15:00:04'].entries()) {
      const r = await runCli(
        ['log', '--config', stage.configFile, '--payload-file', file, '--fetch-id', `fetch-${i + 1}`, '--now', `2026-11-28T${now}-05:00`],
        { env: stage.env },
      );
      expect(r.code, r.stderr).toBe(0);
    }
    // Fetches 1-3 are in the daily object now, fetch 4 only in the local file; both record ids repeat
    // across fetches, so only the first fetch's records are new.
    const first = await consume(stage, ['--consumer', 'reports']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toBe('');
    expect(lines(first.stdout)).toEqual([
      {
        fetch_id: 'fetch-1',
        fetch_number: 1,
        record_id: 'a',
        record_index: 0,
        timestamp: '2026-11-28T15:00:01.000-05:00',
        date: '2026-11-28',
        source: 's3',
        record: { match_id: 'a' },
      },
      {
        fetch_id: 'fetch-1',
        fetch_number: 1,
        record_id: 'b',
        record_index: 1,
        timestamp: '2026-11-28T09:00:00-05:00',
        date: '2026-11-28',
        source: 's3',
        record: { match_id: 'b', timestamp: '2026-11-28T09:00:00-05:00' },
      },
    ]);
    const again = await consume(stage, ['--consumer', 'reports']);
    expect(again).toMatchObject({ code: 0, stdout: '' });
  });

  it('redoes a run killed after printing records but before its commit, losing and doubling nothing', async () => {
    const stage = await createTestStage({ fetchLimit: 4 });
    const all = await logMany(stage, 10, 3);
    const killed = await consume(stage, ['--consumer', 'downstream'], { ROTATING_S3_TEST_CRASH_AT: 'consume:after-emit:7' });
    expect(killed.signal).toBe('SIGKILL');
    const rerun = await consume(stage, ['--consumer', 'downstream']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(ids(rerun.stdout)).toEqual(all);
    expect((await consume(stage, ['--consumer', 'downstream'])).stdout).toBe('');
  });

  it('redoes a run killed after writing its run files but before naming them in the processed-ID file, and deletes the orphans', async () => {
    const stage = await createTestStage({ fetchLimit: 4 });
    const first = await logMany(stage, 3, 2, 'a');
    expect((await consume(stage, ['--consumer', 'downstream'])).code).toBe(0);
    const stateFile = join(stage.dir, 'state', 'merge_processed_fetch_ids.json');
    const before = readFileSync(stateFile, 'utf8');
    const store = join(stage.dir, 'state', 'merge_downstream.processed');
    const committedFiles = readdirSync(store);
    const all = await logMany(stage, 5, 2, 'b');
    const killed = await consume(stage, ['--consumer', 'downstream'], { ROTATING_S3_TEST_CRASH_AT: 'consume:after-run-files' });
    expect(killed.signal).toBe('SIGKILL');
    expect(readFileSync(stateFile, 'utf8')).toBe(before);
    expect(readdirSync(store).length).toBeGreaterThan(committedFiles.length); // the new run file, named by no manifest
    const rerun = await consume(stage, ['--consumer', 'downstream']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(ids(rerun.stdout)).toEqual(all);
    expect(ids(rerun.stdout)).not.toContain(first[0]);
    const runs = (JSON.parse(readFileSync(stateFile, 'utf8')).consumers.downstream.runs as Array<{ file: string }>).map((r) => r.file);
    expect(readdirSync(store).sort()).toEqual(runs.sort());
    expect((await consume(stage, ['--consumer', 'downstream'])).stdout).toBe('');
  });

  it('leaves nothing to redo after a run killed just after its commit', async () => {
    const stage = await createTestStage({ fetchLimit: 4 });
    const all = await logMany(stage, 6, 2);
    const killed = await consume(stage, ['--consumer', 'downstream'], { ROTATING_S3_TEST_CRASH_AT: 'consume:after-commit' });
    expect(killed.signal).toBe('SIGKILL');
    expect(ids(killed.stdout)).toEqual(all);
    expect((await consume(stage, ['--consumer', 'downstream'])).stdout).toBe('');
  });

  it('loses and doubles nothing when consume is killed with kill -9 mid-stream and rerun', async () => {
    const stage = await createTestStage({ fetchLimit: 5 });
    const all = await logMany(stage, 40, 400);
    const killed = await consumeAndKillMidStream(stage);
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.stdout.length).toBeGreaterThan(0);
    const rerun = await consume(stage, ['--consumer', 'downstream']);
    expect(rerun.code, rerun.stderr).toBe(0);
    const got = ids(rerun.stdout);
    expect(got.length).toBe(all.length);
    expect(got).toEqual(all);
    expect((await consume(stage, ['--consumer', 'downstream'])).stdout).toBe('');
  }, 120_000);

  it('keeps two consumers independent', async () => {
    const stage = await createTestStage({ fetchLimit: 2 });
    const all = await logMany(stage, 3, 2);
    const a = await consume(stage, ['--consumer', 'alpha']);
    expect(ids(a.stdout)).toEqual(all);
    const more = await logMany(stage, 1, 2, 'g');
    expect(ids((await consume(stage, ['--consumer', 'alpha'])).stdout)).toEqual(more);
    expect(ids((await consume(stage, ['--consumer', 'beta'])).stdout)).toEqual([...all, ...more]);
    expect((await consume(stage, ['--consumer', 'alpha'])).stdout).toBe('');
    expect((await consume(stage, ['--consumer', 'beta'])).stdout).toBe('');
  });

  it('prints the new records on --dry-run and commits nothing', async () => {
    const stage = await createTestStage();
    const all = await logMany(stage, 2, 2);
    expect(ids((await consume(stage, ['--consumer', 'd', '--dry-run'])).stdout)).toEqual(all);
    expect(ids((await consume(stage, ['--consumer', 'd', '--dry-run'])).stdout)).toEqual(all);
    expect(ids((await consume(stage, ['--consumer', 'd'])).stdout)).toEqual(all);
    expect((await consume(stage, ['--consumer', 'd'])).stdout).toBe('');
  });

  it('refuses a corrupt processed-ID file: exit 1, one stderr line naming the file, the file untouched', async () => {
    const stage = await createTestStage();
    await logMany(stage, 1, 1);
    expect((await consume(stage, ['--consumer', 'c'])).code).toBe(0);
    const stateFile = join(stage.dir, 'state', 'merge_processed_fetch_ids.json');
    writeFileSync(stateFile, '{"version":1,"stage":"merge","consu');
    const r = await consume(stage, ['--consumer', 'c']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('E_CONSUMER_STATE');
    expect(r.stderr).toContain(stateFile);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(stateFile, 'utf8')).toBe('{"version":1,"stage":"merge","consu');
  });

  it('treats a missing or invalid --consumer as bad usage (exit 2)', async () => {
    const stage = await createTestStage();
    expect((await consume(stage, [])).code).toBe(2);
    const bad = await consume(stage, ['--consumer', '../etc']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--consumer "../etc"');
  });

  it('says once per run on stderr when records fall back to a content hash', async () => {
    const stage = await createTestStage();
    const file = writePayload(stage, 'p.json', JSON.stringify({ matches: [{ score: 1 }, { score: 2 }, { match_id: 'x' }] }));
    await runCli(['log', '--config', stage.configFile, '--payload-file', file, '--now', NOW], { env: stage.env });
    const r = await consume(stage, ['--consumer', 'h']);
    expect(r.code).toBe(0);
    expect(ids(r.stdout).map((id) => id.replace(/^sha256:[0-9a-f]{32}$/, 'hash'))).toEqual(['hash', 'hash', 'x']);
    expect(r.stderr.match(/warning record_id_fallback/g)).toHaveLength(1);
  });

  it('delivers every record exactly once while log processes rotate in parallel with consume runs', async () => {
    const stage = await createTestStage({ fetchLimit: 2 });
    const logged: string[] = [];
    const outputs: string[] = [];
    let logging = true;
    const writer = (async () => {
      for (let i = 0; i < 14; i++) {
        const file = writePayload(stage, `p${i}.json`, JSON.stringify({ matches: [{ match_id: `p${i}-0` }, { match_id: `p${i}-1` }] }));
        const r = await runCli(['log', '--config', stage.configFile, '--payload-file', file, '--now', NOW], { env: stage.env });
        expect(r.code, r.stderr).toBe(0);
        logged.push(`p${i}-0`, `p${i}-1`);
      }
      logging = false;
    })();
    const reader = (async () => {
      while (logging) {
        const r = await consume(stage, ['--consumer', 'live']);
        expect(r.code, r.stderr).toBe(0);
        outputs.push(r.stdout);
      }
    })();
    await Promise.all([writer, reader]);
    expect((await runCli(['flush', '--config', stage.configFile, '--now', NOW], { env: stage.env })).code).toBe(0);
    outputs.push((await consume(stage, ['--consumer', 'live'])).stdout);
    const delivered = outputs.flatMap(ids);
    expect([...delivered].sort()).toEqual([...logged].sort());
    expect(new Set(delivered).size).toBe(delivered.length);
  }, 120_000);
});
