import { describe, expect, it } from 'vitest';
import { commitDue, initialWatchFrom, nextScanFrom, planCommit, type CommitInput } from './commit-policy.js';
import type { ConsumerEntry, ObjectCursor } from './state.js';

const cursor = (date: string, extra: Partial<ObjectCursor> = {}): ObjectCursor => ({
  date,
  etag: `"${date}"`,
  offset: 10,
  uploads: 1,
  fetches: 1,
  records: 1,
  tail_sha256: '0'.repeat(64),
  tail_length: 0,
  ...extra,
});
const run = (day: string) => ({ file: `${day}-000001.run`, day, count: 1, sha256: 'a'.repeat(64) });
const committed: ConsumerEntry = {
  scan_from: '2026-11-28',
  last_run: '2026-11-28T09:00:00.000-05:00',
  objects: { a: cursor('2026-11-27') },
  watch_from: '2026-10-21',
  dedup_days: 8,
  store: 'merge_billing.processed',
  runs: [run('2026-11-27')],
};
const base: CommitInput = {
  committed,
  complete: true,
  today: '2026-11-28',
  now: '2026-11-28T12:00:00.000-05:00',
  cursors: new Map(Object.entries(committed.objects)),
  watchFrom: '2026-10-21',
  pending: 0,
  dedupDays: 8,
  watchDays: 38,
};

describe('commit policy', () => {
  it.each([
    [true, 999, 1_000, false],
    [true, 1_000, 1_000, true],
    [true, 5, 0, true],
    [false, 5_000, 1_000, false],
    [true, 1e12, Number.POSITIVE_INFINITY, false],
  ])('commitDue(progressive %s, %i ms since the last, every %s ms) is %s', (progressive, since, interval, due) => {
    expect(commitDue(progressive, since, interval)).toBe(due);
  });

  it.each([
    ['a watch_from is kept', { watch_from: '2026-10-01', scan_from: '2026-11-27' }, '2026-10-01'],
    ['a file of an earlier version: scan_from - 1', { scan_from: '2026-11-27' }, '2026-11-26'],
    ['a first run: every object', { scan_from: null }, undefined],
  ])('initialWatchFrom: %s', (_what, entry, expected) => {
    expect(initialWatchFrom(entry as Pick<ConsumerEntry, 'watch_from' | 'scan_from'>)).toBe(expected);
  });

  it.each([
    ['no problem: today', [cursor('2026-11-20')], '2026-11-28'],
    ['an older object with a problem keeps its date', [cursor('2026-11-20', { problem: 'bad' }), cursor('2026-11-25', { problem: 'bad' })], '2026-11-20'],
  ])('nextScanFrom: %s', (_what, cursors, expected) => {
    expect(nextScanFrom('2026-11-28', cursors)).toBe(expected);
  });

  const cases: Array<
    [string, Partial<CommitInput>, { write: boolean; scan_from?: string | null; watch_from?: string; objects?: string[]; oldestDay?: string }]
  > = [
    ['nothing new, nothing to forget: not written', {}, { write: false }],
    ['new ids: written', { pending: 3 }, { write: true, scan_from: '2026-11-28' }],
    ['a new day moves scan_from', { today: '2026-11-29' }, { write: true, scan_from: '2026-11-29' }],
    ['a progressive commit keeps scan_from and last_run', { today: '2026-11-29', pending: 3, complete: false }, { write: true, scan_from: '2026-11-28' }],
    ['a moved cursor: written', { cursors: new Map([['a', cursor('2026-11-27', { offset: 99 })]]) }, { write: true }],
    ['a run day before the window: written, to drop it', { today: '2026-12-06' }, { write: true, oldestDay: '2026-11-28' }],
    ['a changed window: written', { dedupDays: 30, watchDays: 60 }, { write: true, oldestDay: '2026-10-29' }],
    [
      'cursors older than the watch window are dropped; watch_from moves to its start',
      {
        today: '2027-01-10',
        cursors: new Map([
          ['a', cursor('2026-11-27')],
          ['b', cursor('2027-01-09')],
        ]),
      },
      { write: true, objects: ['b'], watch_from: '2026-12-03', scan_from: '2027-01-10' },
    ],
    ['a complete run without watch_from watches from the window start', { watchFrom: undefined, pending: 1 }, { write: true, watch_from: '2026-10-21' }],
    ['an incomplete run never moves watch_from', { watchFrom: undefined, complete: false, pending: 1 }, { write: true, watch_from: undefined }],
    [
      'a complete run with a problem object keeps scan_from at it',
      { cursors: new Map([['a', cursor('2026-11-25', { problem: 'bad' })]]) },
      { write: true, scan_from: '2026-11-25' },
    ],
  ];
  it.each(cases)('planCommit: %s', (_what, input, expected) => {
    const plan = planCommit({ ...base, ...input });
    expect(plan.write).toBe(expected.write);
    if ('scan_from' in expected) expect(plan.entry.scan_from).toBe(expected.scan_from);
    if ('watch_from' in expected) expect(plan.entry.watch_from).toBe(expected.watch_from);
    if (expected.objects) expect(Object.keys(plan.entry.objects)).toEqual(expected.objects);
    if (expected.oldestDay) expect(plan.oldestDay).toBe(expected.oldestDay);
    expect(plan.entry.runs).toBe(committed.runs);
    expect(plan.entry.last_run).toBe(input.complete === false ? committed.last_run : base.now);
  });
});
