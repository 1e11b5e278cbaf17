/**
 * The crash matrix, generated: a scenario (fetches crossing fetchLimit, an S3 outage that leaves a
 * backlog and an upload in flight, local midnight, a flush) is run once to count the writer's effects
 * (logger/effects.ts); then, for every effect k, it is run again in a fresh directory with a kill
 * simulated right before effect k (the `beforeEffect` hook throws; nothing after it is written), and a
 * new logger replays the same fetch ids. Whatever k, every fetch must be in the store exactly once, on
 * its own day, and each day's numbering must be 1..n without a gap. The store is in memory but runs the
 * real daily-object code (testing/memory-store.ts); an upload is also made to fail after S3 applied it.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { appendFile, mkdtemp, open, rename, rm, truncate, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StageConfig } from '../config/schema.js';
import type { DurableFs } from '../local/durable-fs.js';
import { dailyObjectKey } from '../s3/daily-object.js';
import { decodeDailyObject } from '../s3/daily-object-read.js';
import { createMemoryDailyStore, type MemoryDailyStore } from '../testing/memory-store.js';
import { SettableClock } from '../time/clock.js';
import type { Effect } from './effects.js';
import { silentOpsLog } from './ops-log.js';
import { createStageLogger } from './stage-logger.js';
import type { StageLoggerOptions } from './types.js';

/** The real files without fsync: a simulated kill of the process (not of the machine) never needs it. */
const quickFs: DurableFs = {
  append: (path, data) => appendFile(path, data, { mode: 0o600 }),
  async writeAtomic(path, data) {
    await writeFile(`${path}.tmp`, data, { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  },
  truncate: (path, size) => truncate(path, size),
  ensureDir: async (path) => void (await mkdir(path, { recursive: true, mode: 0o700 })),
  async openAppender(path) {
    const handle = await open(path, 'a', 0o600);
    return {
      append: async (data) => void (await handle.appendFile(data)),
      write: async (data) => void (await handle.appendFile(data)),
      sync: async () => undefined,
      close: () => handle.close(),
    };
  },
};

const ZONE = 'America/New_York';
/** Seven fetches: 1–5 on Nov 28 (New York), 6–7 after local midnight; then a flush. */
const STEPS = [
  { id: 'f1', at: '2026-11-28T20:00:00Z' },
  { id: 'f2', at: '2026-11-28T20:01:00Z' },
  { id: 'f3', at: '2026-11-28T20:02:00Z' }, // fetchLimit reached; S3 is down for this first upload
  { id: 'f4', at: '2026-11-28T21:00:00Z' }, // backlog of 4: the upload in flight (f1–f3), then f4
  { id: 'f5', at: '2026-11-29T04:59:59Z' }, // 23:59:59 local
  { id: 'f6', at: '2026-11-29T05:00:01Z' }, // 00:00:01 local: f5 goes to the 28th first, numbering restarts
  { id: 'f7', at: '2026-11-29T05:01:00Z' },
];
const FLUSH_AT = '2026-11-29T05:02:00Z';
const DAYS: Record<string, string[]> = { '2026-11-28': ['f1', 'f2', 'f3', 'f4', 'f5'], '2026-11-29': ['f6', 'f7'] };

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

class SimulatedKill extends Error {}

interface World {
  config: StageConfig;
  store: MemoryDailyStore;
  clock: SettableClock;
}

async function newWorld(): Promise<World> {
  // A RAM disk where there is one: the matrix creates a few thousand small files, and opening files
  // on a journaled disk is most of its time.
  const dir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'rs3-matrix-'));
  dirs.push(dir);
  const config: StageConfig = {
    stage: 'matrix',
    bucket: 'memory',
    prefix: 'logs',
    localDir: dir,
    fetchLimit: 3,
    timezone: ZONE,
    recordsPath: '/matches',
    recordIdField: undefined,
    forcePathStyle: false,
    payloadLayout: 'compact',
  };
  const store = createMemoryDailyStore();
  // S3 is down for the first upload that holds f3 (nothing applied): a backlog and an upload in flight.
  let outage = true;
  store.failBeforeApply = (_call, _key, batch) => {
    if (!outage || !batch.fetches.some((f) => f.fetch_id === 'f3')) return false;
    outage = false;
    return true;
  };
  return { config, store, clock: new SettableClock('2026-11-28T20:00:00Z') };
}

function logger(world: World, mode: Mode, extra: StageLoggerOptions = {}) {
  return createStageLogger(world.config, {
    clock: world.clock,
    fs: quickFs,
    store: world.store,
    opsLog: silentOpsLog,
    lock: async () => async () => undefined, // an abandoned lock must not block the replay
    holdLockMs: mode.holdLockMs,
    ...extra,
  });
}

const payload = (id: string): string => JSON.stringify({ matches: [{ id: `${id}-a` }, { id: `${id}-b` }] });

interface Mode {
  name: string;
  holdLockMs: number;
}

/** Runs the scenario; stops at the first error (a simulated kill ends the process). Returns the kill, if any. */
async function runScenario(world: World, mode: Mode, options: StageLoggerOptions): Promise<unknown> {
  const log = logger(world, mode, options);
  try {
    for (const step of STEPS) {
      world.clock.set(step.at);
      await log.logFetch(payload(step.id), { fetchId: step.id });
    }
    world.clock.set(FLUSH_AT);
    await log.flush();
    await log.close();
    return undefined;
  } catch (error) {
    if (error instanceof SimulatedKill) return error;
    throw error;
  }
}

/**
 * A new process replays every fetch id and flushes; returns the numbers it was told. A fetch whose block
 * was appended before the kill exists: the replay must find it (`duplicate`), not log it again.
 */
async function replay(world: World, mode: Mode, appended: ReadonlySet<string>, label: string): Promise<Map<string, { date: string; fetch_number: number }>> {
  const log = logger(world, mode);
  const told = new Map<string, { date: string; fetch_number: number }>();
  for (const step of STEPS) {
    world.clock.set(step.at);
    const result = await log.logFetch(payload(step.id), { fetchId: step.id });
    expect(result.duplicate, `${label}: replayed ${step.id} found as already logged`).toBe(appended.has(step.id));
    told.set(step.id, { date: result.date, fetch_number: result.fetch_number });
  }
  world.clock.set(FLUSH_AT);
  const flushed = await log.flush();
  expect(flushed.upload_error).toBeUndefined();
  expect(flushed.pending).toBe(0);
  await log.close();
  return told;
}

/** Every fetch in the store exactly once, on its day, numbered 1..n per day; and as the replay was told. */
function expectExactlyOnce(world: World, told: Map<string, { date: string; fetch_number: number }>, label: string): void {
  const seen = new Set<string>();
  for (const [date, ids] of Object.entries(DAYS)) {
    const text = world.store.objects.get(dailyObjectKey(world.config.prefix, world.config.stage, date));
    expect(text, `${label}: object of ${date}`).toBeDefined();
    const decoded = decodeDailyObject(Buffer.from(text!), date);
    if ('problem' in decoded) throw new Error(`${label}: ${decoded.problem}`);
    const fetches = decoded.object.uploads.flatMap((u) => u.fetch_data);
    for (const f of fetches) {
      expect(seen.has(f.fetch_id), `${label}: ${f.fetch_id} twice`).toBe(false);
      seen.add(f.fetch_id);
      expect(told.get(f.fetch_id), `${label}: ${f.fetch_id}`).toEqual({ date, fetch_number: f.fetch_number });
    }
    expect(fetches.map((f) => f.fetch_id).sort(), `${label}: fetches of ${date}`).toEqual(ids);
    expect(
      fetches.map((f) => f.fetch_number).sort((a, b) => a - b),
      `${label}: numbering of ${date}`,
    ).toEqual(ids.map((_, i) => i + 1));
  }
}

/** Runs `run(0..count-1)`, several at a time: each case has its own directory and store, and waits on the disk. */
async function eachConcurrently(count: number, run: (i: number) => Promise<void>, width = 8): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      while (next < count) await run(next++);
    }),
  );
}

const MODES: Mode[] = [
  { name: 'CLI-like (lock released after every call)', holdLockMs: 0 },
  { name: 'in-process (lock held between calls)', holdLockMs: 60_000 },
];

describe.each(MODES)('crash matrix, $name', (mode) => {
  it('loses and doubles nothing when killed between any two effects, then replayed with the same fetch ids', async () => {
    const baseline = await newWorld();
    const effects: Effect['kind'][] = [];
    expect(await runScenario(baseline, mode, { beforeEffect: (effect) => void effects.push(effect.kind) })).toBeUndefined();
    const all = new Set(STEPS.map((s) => s.id));
    expectExactlyOnce(baseline, await replay(baseline, mode, all, 'no kill'), 'no kill');
    // The scenario reaches every kind of effect of the protocol (a changed protocol shows up here).
    expect(new Set(effects)).toEqual(new Set(['append', 'write-state', 'set-aside', 'upload', 'record-uploaded', 'trim', 'prune-index']));
    await eachConcurrently(effects.length + 1, async (k) => {
      const world = await newWorld();
      const kill = new SimulatedKill(`killed before effect ${k}`);
      const appended = new Set<string>();
      const killed = await runScenario(world, mode, {
        beforeEffect: (effect, index) => {
          if (index === k) throw kill;
          if (effect.kind === 'append') appended.add(effect.fetchId);
        },
      });
      expect(killed, `k=${k}`).toBe(k < effects.length ? kill : undefined);
      const label = `killed before effect ${k} (${effects[k] ?? 'none'})`;
      expectExactlyOnce(world, await replay(world, mode, appended, label), label);
    });
  });

  it('loses and doubles nothing when killed in the middle of an append (a torn block), then replayed', async () => {
    const kinds: Effect['kind'][] = [];
    await runScenario(await newWorld(), mode, { beforeEffect: (effect) => void kinds.push(effect.kind) });
    const appends = kinds.flatMap((kind, index) => (kind === 'append' ? [index] : []));
    expect(appends).toHaveLength(STEPS.length);
    await eachConcurrently(appends.length, async (i) => {
      const k = appends[i]!;
      const world = await newWorld();
      const appended = new Set<string>();
      const kill = new SimulatedKill(`killed while appending (effect ${k})`);
      const killed = await runScenario(world, mode, {
        beforeEffect: (effect, index) => {
          if (index === k && effect.kind === 'append') {
            // Half of the block reaches the file, then the process dies.
            appendFileSync(join(world.config.localDir, 'matrix_fetches.log'), effect.block.slice(0, effect.block.length >> 1));
            throw kill;
          }
          if (effect.kind === 'append') appended.add(effect.fetchId);
        },
      });
      expect(killed).toBe(kill);
      const label = `torn append at effect ${k}`;
      expectExactlyOnce(world, await replay(world, mode, appended, label), label);
    });
  });

  it('loses and doubles nothing when an upload fails after S3 applied it (an ambiguous failure)', async () => {
    const baseline = await newWorld();
    await runScenario(baseline, mode, {});
    await eachConcurrently(baseline.store.calls, async (i) => {
      const call = i + 1;
      const world = await newWorld();
      world.store.failAfterApply = (n) => n === call;
      expect(await runScenario(world, mode, {})).toBeUndefined();
      const label = `upload call ${call} failed after applying`;
      expectExactlyOnce(world, await replay(world, mode, new Set(STEPS.map((s) => s.id)), label), label);
    });
  });
});
