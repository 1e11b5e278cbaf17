/**
 * The writer's remaining decisions as tables (fixed clock, no I/O): when rotation is due, what a logged
 * fetch and a day change do to the state, how reconcile reads the log against the state, how uploaded
 * blocks leave the log and what an upload's success or failure records.
 */
import { describe, expect, it } from 'vitest';
import type { ScannedBlock, TornSegment } from '../local/bookended.js';
import { emptyState, type PendingFetch, type StageState } from '../local/state.js';
import { parseInstant } from '../time/clock.js';
import { resolveZone } from '../time/zone.js';
import { applyLogged, applyMidnight, planFetch, rotationDue } from './plan.js';
import { applyScan, reconcileDecision } from './plan-reconcile.js';
import { applyIntent, applyTrim, applyUploadFailure, applyUploadResult, planTrim, uploadedEntries } from './plan-upload.js';

const NY = resolveZone('America/New_York');

function fetch(fetchId: string, date: string, start: number, size = 100, fetchNumber = 1): PendingFetch {
  return { fetchId, fetchNumber, date, timestamp: `${date}T12:00:00.000-05:00`, records: 2, start, end: start + size };
}

function stateWith(pending: PendingFetch[], over: Partial<StageState> = {}): StageState {
  const end = pending.at(-1)?.end ?? 0;
  return { ...emptyState('merge'), date: pending.at(-1)?.date ?? null, lastFetchNumber: pending.length, pending, log: { size: end, ino: 7 }, ...over };
}

describe('rotationDue: by count at fetchLimit, or by age', () => {
  const cases = [
    { name: 'one below fetchLimit is not due', pending: 24, limit: 25, age: undefined, due: false },
    { name: 'exactly fetchLimit is due', pending: 25, limit: 25, age: undefined, due: true },
    { name: 'above fetchLimit (a backlog after an outage) is due', pending: 80, limit: 25, age: undefined, due: true },
    { name: 'fetchLimit 1 rotates every fetch', pending: 1, limit: 1, age: undefined, due: true },
    { name: 'due by age although below fetchLimit', pending: 1, limit: 25, age: 0, due: true },
    { name: 'not yet due by age', pending: 1, limit: 25, age: 1, due: false },
  ];
  it.each(cases)('$name', ({ pending, limit, age, due }) => expect(rotationDue(pending, limit, age)).toBe(due));
});

describe('planFetch with fetches of an old day still pending', () => {
  it('after midnight uploads first only the pending fetches of earlier days', () => {
    const state = {
      date: '2026-11-28',
      lastFetchNumber: 5,
      pending: [fetch('old', '2026-11-27', 0), fetch('a', '2026-11-28', 100), fetch('b', '2026-11-28', 200)],
    };
    const plan = planFetch(state, parseInstant('2026-11-29T05:00:01Z'), NY);
    expect(plan).toMatchObject({ date: '2026-11-29', fetchNumber: 1, midnight: { from: '2026-11-28', to: '2026-11-29' } });
    expect(plan.uploadFirst.map((p) => p.fetchId)).toEqual(['old', 'a', 'b']);
  });

  it('leaves an old day pending (no second midnight) when the clock steps back before it', () => {
    const state = { date: '2026-11-29', lastFetchNumber: 1, pending: [fetch('old', '2026-11-28', 0), fetch('new', '2026-11-29', 100)] };
    const plan = planFetch(state, parseInstant('2026-11-29T04:59:00Z'), NY); // 23:58 on the 28th
    expect(plan).toMatchObject({ date: '2026-11-29', fetchNumber: 2, timestamp: '2026-11-29T00:00:00.000-05:00', uploadFirst: [] });
    expect(plan.midnight).toBeUndefined();
  });
});

describe('applyLogged and applyMidnight: the state once a block is durable, and at a day change', () => {
  it('adds the fetch at the end of the log and moves the counter to it', () => {
    const state = stateWith([fetch('a', '2026-11-28', 0)]);
    applyLogged(state, { fetchId: 'b', fetchNumber: 2, date: '2026-11-28', timestamp: '2026-11-28T13:00:00.000-05:00', records: 3 }, 50);
    expect(state.pending.at(-1)).toEqual({
      fetchId: 'b',
      fetchNumber: 2,
      date: '2026-11-28',
      timestamp: '2026-11-28T13:00:00.000-05:00',
      records: 3,
      start: 100,
      end: 150,
    });
    expect(state).toMatchObject({ date: '2026-11-28', lastFetchNumber: 2, lastTimestamp: '2026-11-28T13:00:00.000-05:00', log: { size: 150 } });
  });

  it('records the midnight and counts it', () => {
    const state = applyMidnight(stateWith([]), { from: '2026-11-28', to: '2026-11-29' }, '2026-11-29T00:00:01.000-05:00');
    expect(state.lastMidnight).toEqual({ at: '2026-11-29T00:00:01.000-05:00', from: '2026-11-28', to: '2026-11-29' });
    expect(state.counters.midnightTransitions).toBe(1);
  });
});

describe('reconcileDecision: the state against the log on disk', () => {
  const stored = stateWith([fetch('a', '2026-11-28', 0), fetch('b', '2026-11-28', 100)]); // log 200 bytes, inode 7
  const cases: Array<{ name: string; stored: StageState | undefined; log: { size: number; ino: number } | undefined; decision: unknown }> = [
    { name: 'same size and inode: nothing to repair', stored, log: { size: 200, ino: 7 }, decision: { kind: 'clean' } },
    {
      name: 'larger, same inode: adopt only the bytes appended after the state (a kill after append)',
      stored,
      log: { size: 260, ino: 7 },
      decision: { kind: 'scan', from: 200, appendedOnly: true, restoreCounter: false },
    },
    {
      name: 'another inode: the log was rewritten after the state (a kill after trim): rescan all',
      stored,
      log: { size: 100, ino: 8 },
      decision: { kind: 'scan', from: 0, appendedOnly: false, restoreCounter: false },
    },
    {
      name: 'smaller, same inode (a truncate after the state): rescan all',
      stored,
      log: { size: 0, ino: 7 },
      decision: { kind: 'scan', from: 0, appendedOnly: false, restoreCounter: false },
    },
    {
      name: 'inode 0 (torn bytes were left for later): rescan all',
      stored: { ...stored, log: { size: 200, ino: 0 } },
      log: { size: 200, ino: 7 },
      decision: { kind: 'scan', from: 0, appendedOnly: false, restoreCounter: false },
    },
    {
      name: 'no state: rescan and continue numbering from the uploaded index',
      stored: undefined,
      log: { size: 200, ino: 7 },
      decision: { kind: 'scan', from: 0, appendedOnly: false, restoreCounter: true },
    },
    {
      name: 'no log: its pending fetches are reported lost',
      stored,
      log: undefined,
      decision: { kind: 'log-missing', lost: ['a', 'b'], restoreCounter: false },
    },
    { name: 'neither: a first run', stored: undefined, log: undefined, decision: { kind: 'log-missing', lost: [], restoreCounter: true } },
  ];
  it.each(cases)('$name', ({ stored: s, log, decision }) => expect(reconcileDecision(s, log)).toEqual(decision));

  const block = (fetchId: string, fetchNumber: number, timestamp: string, start: number): ScannedBlock =>
    ({ fetchId, fetchNumber, timestamp, records: 1, start, end: start + 60, payload: Buffer.alloc(0) }) as unknown as ScannedBlock;

  it('adopts appended blocks after the pending ones, on their local dates, raising the counter across midnight', () => {
    const state = stateWith([fetch('a', '2026-11-28', 0, 100, 1)]);
    applyScan(state, [block('b', 2, '2026-11-28T23:59:59.000-05:00', 100), block('c', 1, '2026-11-29T00:00:01.000-05:00', 160)], true, NY);
    expect(state.pending.map((p) => [p.fetchId, p.date, p.start])).toEqual([
      ['a', '2026-11-28', 0],
      ['b', '2026-11-28', 100],
      ['c', '2026-11-29', 160],
    ]);
    expect(state).toMatchObject({ date: '2026-11-29', lastFetchNumber: 1, lastTimestamp: '2026-11-29T00:00:01.000-05:00' });
  });

  it('rebuilds the pending list from a full rescan, keeping a counter already ahead', () => {
    const state = stateWith([fetch('gone', '2026-11-28', 0, 100, 1)], { lastFetchNumber: 9 });
    applyScan(state, [block('x', 3, '2026-11-28T13:00:00.000-05:00', 0)], false, NY);
    expect(state.pending.map((p) => p.fetchId)).toEqual(['x']);
    expect(state.lastFetchNumber).toBe(9);
  });
});

describe('planTrim and applyTrim: uploaded blocks leave the log', () => {
  const torn: TornSegment = { start: 300, end: 340, reason: 'torn' } as TornSegment;
  const cases: Array<{
    name: string;
    pending: PendingFetch[];
    removed: string[];
    torn: TornSegment[];
    mode: string;
    remaining: Array<[string, number, number]>;
    tornAfter: Array<[number, number]>;
  }> = [
    {
      name: 'truncates when nothing else is pending',
      pending: [fetch('a', '2026-11-28', 0), fetch('b', '2026-11-28', 100)],
      removed: ['a', 'b'],
      torn: [],
      mode: 'truncate',
      remaining: [],
      tornAfter: [],
    },
    {
      name: 'rewrites without the uploaded ranges and shifts the blocks behind them',
      pending: [fetch('a', '2026-11-28', 0), fetch('b', '2026-11-28', 100), fetch('c', '2026-11-29', 200)],
      removed: ['a', 'b'],
      torn: [torn],
      mode: 'rewrite',
      remaining: [['c', 0, 100]],
      tornAfter: [[100, 140]],
    },
    {
      name: 'keeps an older day that failed to upload, shifting only what follows a removed block',
      pending: [fetch('old', '2026-11-27', 0), fetch('a', '2026-11-28', 100), fetch('b', '2026-11-28', 200)],
      removed: ['a'],
      torn: [],
      mode: 'rewrite',
      remaining: [
        ['old', 0, 100],
        ['b', 100, 200],
      ],
      tornAfter: [],
    },
    {
      name: 'empties the log into the quarantine when only torn bytes a full disk kept are left',
      pending: [fetch('a', '2026-11-28', 0)],
      removed: ['a'],
      torn: [torn],
      mode: 'empty-into-quarantine',
      remaining: [],
      tornAfter: [],
    },
  ];
  it.each(cases)('$name', ({ pending, removed, torn: deferred, mode, remaining, tornAfter }) => {
    const state = stateWith(pending.map((p) => ({ ...p })));
    const plan = planTrim(
      state.pending,
      state.pending.filter((p) => removed.includes(p.fetchId)),
      deferred,
    );
    expect(plan.mode).toBe(mode);
    const left = applyTrim(
      state,
      plan,
      123,
      deferred.map((t) => ({ ...t })),
    );
    expect(state.pending.map((p) => [p.fetchId, p.start, p.end])).toEqual(remaining);
    expect(state.log.size).toBe(123);
    expect(left.map((t) => [t.start, t.end])).toEqual(tornAfter);
  });
});

describe('applyIntent, applyUploadResult, applyUploadFailure: the bookkeeping of one upload', () => {
  const group = [fetch('a', '2026-11-28', 0, 100, 1), fetch('b', '2026-11-28', 100, 100, 2)];
  const outcome = { key: 'logs/merge_json_log_2026-11-28.json', uploadSequence: 3, uploadId: 'u1', applied: true, fetches: 2, records: 4, conflicts: 0 };

  it('writes the intent once per upload id (a retry of the same batch keeps it)', () => {
    const state = stateWith(group);
    expect(applyIntent(state, '2026-11-28', group, 'u1')).toBe(true);
    expect(state.inflight).toEqual({ uploadId: 'u1', date: '2026-11-28', fetchIds: ['a', 'b'] });
    expect(applyIntent(state, '2026-11-28', group, 'u1')).toBe(false);
    expect(applyIntent(state, '2026-11-28', group.slice(1), 'u2')).toBe(true);
  });

  it('records a success: last upload, no error, no intent, one more upload', () => {
    const state = stateWith(group, {
      inflight: { uploadId: 'u1', date: '2026-11-28', fetchIds: ['a', 'b'] },
      lastError: { at: 'x', code: 'E_S3', message: 'm' },
    });
    const report = applyUploadResult(state, { date: '2026-11-28', key: outcome.key, group, outcome, at: '2026-11-28T12:00:00.000-05:00' });
    expect(report).toEqual({ date: '2026-11-28', key: outcome.key, upload_sequence: 3, upload_id: 'u1', fetches: 2, records: 4, applied: true });
    expect(state).toMatchObject({ inflight: null, lastError: null, counters: { uploads: 1 }, lastUpload: { uploadSequence: 3, fetches: 2, records: 4 } });
  });

  it('reports a retried upload S3 already held as not applied, in the sequence that holds it', () => {
    const report = applyUploadResult(stateWith(group), {
      date: '2026-11-28',
      key: outcome.key,
      group,
      outcome: { ...outcome, applied: false, uploadId: undefined },
      at: 't',
    });
    expect(report).toMatchObject({ upload_sequence: 3, upload_id: null, applied: false });
  });

  it('records a failure and keeps the fetches and the intent for a same-id retry', () => {
    const state = stateWith(group, { inflight: { uploadId: 'u1', date: '2026-11-28', fetchIds: ['a', 'b'] } });
    applyUploadFailure(state, { code: 'E_S3_UNREACHABLE', message: 'down' }, 't');
    expect(state).toMatchObject({
      lastError: { at: 't', code: 'E_S3_UNREACHABLE', message: 'down' },
      counters: { uploadFailures: 1 },
      inflight: { uploadId: 'u1' },
    });
    expect(state.pending).toHaveLength(2);
  });

  it('indexes every fetch of the batch under the sequence that holds it', () => {
    expect(uploadedEntries(group, outcome)).toEqual([
      { fetch_id: 'a', fetch_number: 1, date: '2026-11-28', timestamp: '2026-11-28T12:00:00.000-05:00', records: 2, upload_sequence: 3 },
      { fetch_id: 'b', fetch_number: 2, date: '2026-11-28', timestamp: '2026-11-28T12:00:00.000-05:00', records: 2, upload_sequence: 3 },
    ]);
  });
});
