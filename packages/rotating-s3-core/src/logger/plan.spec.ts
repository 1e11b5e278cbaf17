import { describe, expect, it } from 'vitest';
import { emptyState, type PendingFetch, type StageState } from '../local/state.js';
import { uploadIdOf } from '../s3/daily-object.js';
import { parseInstant } from '../time/clock.js';
import { resolveZone } from '../time/zone.js';
import { adoptBlock, planFetch, planRotation, raiseCounter } from './plan.js';

function pending(fetchId: string, date: string, start = 0, size = 100): PendingFetch {
  return { fetchId, fetchNumber: 1, date, timestamp: `${date}T12:00:00.000-05:00`, records: 1, start, end: start + size };
}

type Counter = Pick<StageState, 'date' | 'lastFetchNumber' | 'pending'>;
const counter = (date: string | null, lastFetchNumber: number, pendingDates: string[] = []): Counter => ({
  date,
  lastFetchNumber,
  pending: pendingDates.map((d, i) => pending(`p${i}`, d)),
});

describe('planFetch: the day and number of a new fetch', () => {
  const cases: Array<{
    name: string;
    zone: string;
    state: Counter;
    now: string;
    date: string;
    fetchNumber: number;
    timestamp: string;
    midnight?: { from: string; to: string };
    uploadFirst?: string[];
  }> = [
    {
      name: 'numbers the first fetch ever 1',
      zone: 'America/New_York',
      state: counter(null, 0),
      now: '2026-11-28T19:03:11.512Z',
      date: '2026-11-28',
      fetchNumber: 1,
      timestamp: '2026-11-28T14:03:11.512-05:00',
    },
    {
      name: 'continues the day across rotations and restarts',
      zone: 'America/New_York',
      state: counter('2026-11-28', 41),
      now: '2026-11-29T04:59:59.999Z',
      date: '2026-11-28',
      fetchNumber: 42,
      timestamp: '2026-11-28T23:59:59.999-05:00',
    },
    {
      name: 'restarts at 1 at local midnight and uploads the old day first',
      zone: 'America/New_York',
      state: counter('2026-11-28', 7, ['2026-11-28', '2026-11-28']),
      now: '2026-11-29T05:00:00Z',
      date: '2026-11-29',
      fetchNumber: 1,
      timestamp: '2026-11-29T00:00:00.000-05:00',
      midnight: { from: '2026-11-28', to: '2026-11-29' },
      uploadFirst: ['p0', 'p1'],
    },
    {
      name: 'uses the stage zone, not UTC, for the day (UTC is already on the next date)',
      zone: 'America/New_York',
      state: counter('2026-11-28', 3),
      now: '2026-11-29T02:00:00Z',
      date: '2026-11-28',
      fetchNumber: 4,
      timestamp: '2026-11-28T21:00:00.000-05:00',
    },
    {
      name: 'keeps numbering through the spring-forward gap',
      zone: 'America/New_York',
      state: counter('2026-03-08', 5),
      now: '2026-03-08T07:00:00Z',
      date: '2026-03-08',
      fetchNumber: 6,
      timestamp: '2026-03-08T03:00:00.000-04:00',
    },
    {
      name: 'keeps numbering through the repeated fall-back hour, with the second offset',
      zone: 'America/New_York',
      state: counter('2026-11-01', 9),
      now: '2026-11-01T06:30:00Z',
      date: '2026-11-01',
      fetchNumber: 10,
      timestamp: '2026-11-01T01:30:00.000-05:00',
    },
    {
      name: 'changes the day where local midnight does not exist (Santiago, 24:00 → 01:00)',
      zone: 'America/Santiago',
      state: counter('2026-09-05', 12, ['2026-09-05']),
      now: '2026-09-06T04:00:00Z',
      date: '2026-09-06',
      fetchNumber: 1,
      timestamp: '2026-09-06T01:00:00.000-03:00',
      midnight: { from: '2026-09-05', to: '2026-09-06' },
      uploadFirst: ['p0'],
    },
    {
      name: 'stays on the day while 23:00 repeats (Santiago fall-back at 24:00)',
      zone: 'America/Santiago',
      state: counter('2026-04-04', 20),
      now: '2026-04-05T03:00:00Z',
      date: '2026-04-04',
      fetchNumber: 21,
      timestamp: '2026-04-04T23:00:00.000-04:00',
    },
    {
      name: 'changes the day at a midnight skipped by DST (Havana, 00:00 → 01:00)',
      zone: 'America/Havana',
      state: counter('2026-03-07', 2),
      now: '2026-03-08T05:00:00Z',
      date: '2026-03-08',
      fetchNumber: 1,
      timestamp: '2026-03-08T01:00:00.000-04:00',
      midnight: { from: '2026-03-07', to: '2026-03-08' },
    },
    {
      name: 'never moves the day backwards when the clock steps back across midnight',
      zone: 'America/New_York',
      state: counter('2026-11-29', 3, ['2026-11-29']),
      now: '2026-11-29T04:59:00Z',
      date: '2026-11-29',
      fetchNumber: 4,
      timestamp: '2026-11-29T00:00:00.000-05:00',
    },
    {
      name: 'goes straight to the new day after idle days, uploading every older pending fetch',
      zone: 'Europe/Berlin',
      state: counter('2026-12-10', 7, ['2026-12-09', '2026-12-10']),
      now: '2026-12-13T08:00:00Z',
      date: '2026-12-13',
      fetchNumber: 1,
      timestamp: '2026-12-13T09:00:00.000+01:00',
      midnight: { from: '2026-12-10', to: '2026-12-13' },
      uploadFirst: ['p0', 'p1'],
    },
  ];

  it.each(cases)('$name', (c) => {
    const plan = planFetch(c.state, parseInstant(c.now), resolveZone(c.zone));
    expect({ date: plan.date, fetchNumber: plan.fetchNumber, timestamp: plan.timestamp }).toEqual({
      date: c.date,
      fetchNumber: c.fetchNumber,
      timestamp: c.timestamp,
    });
    expect(plan.midnight).toEqual(c.midnight);
    expect(plan.uploadFirst.map((p) => p.fetchId)).toEqual(c.uploadFirst ?? []);
  });
});

describe('planRotation: how pending fetches become uploads', () => {
  const ids = (r: ReturnType<typeof planRotation>) => r.uploads.map((u) => [u.date, u.fetches.map((p) => p.fetchId).join(',')]);
  const many = (n: number, date: string, size = 100) => Array.from({ length: n }, (_, i) => pending(`${date.slice(-2)}-${i}`, date, i * size, size));

  it('cuts a backlog into uploads of at most fetchLimit fetches', () => {
    const all = many(7, '2026-11-28');
    expect(ids(planRotation({ pending: all, inflight: null }, all, 3, 'merge'))).toEqual([
      ['2026-11-28', '28-0,28-1,28-2'],
      ['2026-11-28', '28-3,28-4,28-5'],
      ['2026-11-28', '28-6'],
    ]);
  });

  it('uploads exactly fetchLimit fetches as one upload', () => {
    const all = many(3, '2026-11-28');
    expect(ids(planRotation({ pending: all, inflight: null }, all, 3, 'merge'))).toEqual([['2026-11-28', '28-0,28-1,28-2']]);
  });

  it('keeps each local date in its own upload, oldest date first', () => {
    const all = [...many(2, '2026-11-29'), ...many(1, '2026-11-28')];
    expect(ids(planRotation({ pending: all, inflight: null }, all, 25, 'merge'))).toEqual([
      ['2026-11-28', '28-0'],
      ['2026-11-29', '29-0,29-1'],
    ]);
  });

  it('caps an upload by bytes, and sends a fetch larger than the cap alone', () => {
    const all = [...many(3, '2026-11-28', 40), pending('huge', '2026-11-28', 120, 500), pending('after', '2026-11-28', 620, 10)];
    expect(ids(planRotation({ pending: all, inflight: null }, all, 25, 'merge', 100))).toEqual([
      ['2026-11-28', '28-0,28-1'],
      ['2026-11-28', '28-2'],
      ['2026-11-28', 'huge'],
      ['2026-11-28', 'after'],
    ]);
  });

  it('names an upload by its stage, date and fetch ids, so a retry reuses the name', () => {
    const all = many(2, '2026-11-28');
    const [upload] = planRotation({ pending: all, inflight: null }, all, 25, 'merge').uploads;
    expect(upload!.uploadId).toBe(uploadIdOf('merge', '2026-11-28', ['28-0', '28-1']));
  });

  it('sends an upload left in flight first, as the same batch under the same id', () => {
    const all = many(4, '2026-11-28');
    const inflight = { uploadId: 'intent-1', date: '2026-11-28', fetchIds: ['28-1', '28-2'] };
    const planned = planRotation({ pending: all, inflight }, all, 25, 'merge');
    expect(planned.uploads[0]).toMatchObject({ uploadId: 'intent-1', date: '2026-11-28' });
    expect(ids(planned)).toEqual([
      ['2026-11-28', '28-1,28-2'],
      ['2026-11-28', '28-0,28-3'],
    ]);
    expect(planned.inflightDone).toBe(false);
  });

  it('drops an in-flight record whose fetches already left the log (that upload completed)', () => {
    const all = many(2, '2026-11-28');
    const planned = planRotation({ pending: all, inflight: { uploadId: 'gone', date: '2026-11-28', fetchIds: ['old-1'] } }, all, 25, 'merge');
    expect(planned.inflightDone).toBe(true);
    expect(ids(planned)).toEqual([['2026-11-28', '28-0,28-1']]);
  });
});

describe('raiseCounter and adoptBlock: the counter rebuilt from the log and the uploaded index', () => {
  it.each([
    { name: 'starts the counter on the first date seen', from: [null, 0] as const, seen: ['2026-11-28', 4] as const, to: ['2026-11-28', 4] },
    { name: 'keeps the larger number of the same day', from: ['2026-11-28', 9] as const, seen: ['2026-11-28', 4] as const, to: ['2026-11-28', 9] },
    { name: 'moves to a later day, whatever its number', from: ['2026-11-28', 9] as const, seen: ['2026-11-29', 2] as const, to: ['2026-11-29', 2] },
    { name: 'ignores an earlier day', from: ['2026-11-29', 2] as const, seen: ['2026-11-28', 30] as const, to: ['2026-11-29', 2] },
  ])('$name', ({ from, seen, to }) => {
    const state = { date: from[0] as string | null, lastFetchNumber: from[1] };
    raiseCounter(state, seen[0], seen[1]);
    expect([state.date, state.lastFetchNumber]).toEqual(to);
  });

  it('adopts a block as pending on the local date of its timestamp in the stage zone', () => {
    const state = { ...emptyState('merge'), date: '2026-11-28', lastFetchNumber: 6 };
    adoptBlock(
      state,
      { fetchId: 'late', fetchNumber: 7, timestamp: '2026-11-28T23:59:59.000-05:00', records: 2, start: 10, end: 90, payload: Buffer.from('{}') },
      resolveZone('America/New_York'),
    );
    expect(state.pending).toEqual([
      { fetchId: 'late', fetchNumber: 7, date: '2026-11-28', timestamp: '2026-11-28T23:59:59.000-05:00', records: 2, start: 10, end: 90 },
    ]);
    expect([state.date, state.lastFetchNumber, state.lastTimestamp]).toEqual(['2026-11-28', 7, '2026-11-28T23:59:59.000-05:00']);
  });
});
