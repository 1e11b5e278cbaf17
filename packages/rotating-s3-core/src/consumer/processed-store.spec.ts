import { mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { digestOf } from './digest-set.js';
import { ConsumerError } from './errors.js';
import { ProcessedStore, type RunRef } from './processed-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rs3-store-'));
  dirs.push(dir);
  return join(dir, 'merge_billing.processed');
}
const ids = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}-${i}`);

/** Remembers `records` (as record ids) and `fetches`, commits as of `today`; returns the new manifest. */
function commit(dir: string, runs: RunRef[], today: string, records: string[], fetches: string[] = [], oldestDay = '2000-01-01', spillKeys?: number): RunRef[] {
  const store = ProcessedStore.open(dir, runs, { writable: true, today, ...(spillKeys ? { spillKeys } : {}) });
  try {
    for (const id of records) store.rememberRecord(digestOf(id));
    for (const id of fetches) store.rememberFetch(id);
    const prepared = store.prepare(today, oldestDay);
    store.committed(prepared);
    return prepared.runs;
  } finally {
    store.close();
  }
}
const reader = (dir: string, runs: RunRef[]) => ProcessedStore.open(dir, runs, { writable: false, today: '2026-11-28' });

describe('ProcessedStore', () => {
  it('finds every committed record and fetch id across days and files, keeps the two kinds apart, and finds nothing else', () => {
    const dir = tempDir();
    let runs = commit(dir, [], '2026-11-26', ids('r', 5_000), ids('f', 300));
    runs = commit(dir, runs, '2026-11-27', ids('s', 20_000), ids('g', 10));
    runs = commit(dir, runs, '2026-11-28', ids('t', 3));
    const store = reader(dir, runs);
    for (const id of [...ids('r', 5_000), ...ids('s', 20_000), ...ids('t', 3)]) expect(store.hasRecord(digestOf(id)), id).toBe(true);
    for (const id of [...ids('f', 300), ...ids('g', 10)]) expect(store.hasFetch(id), id).toBe(true);
    // A fetch id is not a record id, even when the strings are equal.
    expect(store.hasFetch('r-1')).toBe(false);
    expect(store.hasRecord(digestOf('f-1'))).toBe(false);
    for (const id of ids('u', 5_000)) expect(store.hasRecord(digestOf(id))).toBe(false);
    store.close();
  });

  it("merges four of today's files of one size tier into one, and a past day's files into one, deleting the inputs", () => {
    const dir = tempDir();
    let runs: RunRef[] = [];
    [300, 400, 500, 10].forEach((n, i) => (runs = commit(dir, runs, '2026-11-27', ids(`d${i}`, n))));
    expect(runs.map((r) => r.count)).toEqual([300, 400, 500, 10]); // 10 is of another tier
    runs = commit(dir, runs, '2026-11-27', ids('d4', 600));
    expect(runs.map((r) => r.count)).toEqual([10, 1_800]);
    // A run that wrote its new keys out in four files of 2,000: 1,800 and three of them make a tier.
    runs = commit(dir, runs, '2026-11-27', ids('d5', 8_000), [], '2000-01-01', 2_000);
    expect(runs.map((r) => r.count)).toEqual([10, 2_000, 7_800]);
    expect(readdirSync(dir).sort()).toEqual(runs.map((r) => r.file).sort());
    // The next day the 27th is past: its files become one.
    runs = commit(dir, runs, '2026-11-28', ids('next', 5));
    expect(runs.map((r) => [r.day, r.count])).toEqual([
      ['2026-11-27', 9_810],
      ['2026-11-28', 5],
    ]);
    expect(readdirSync(dir).sort()).toEqual(runs.map((r) => r.file).sort());
    const store = reader(dir, runs);
    for (const [i, n] of [300, 400, 500, 10, 600, 8_000].entries()) for (const id of ids(`d${i}`, n)) expect(store.hasRecord(digestOf(id))).toBe(true);
    store.close();
  });

  it('drops the days before the window from the manifest and deletes their files', () => {
    const dir = tempDir();
    let runs = commit(dir, [], '2026-11-19', ids('old', 50));
    runs = commit(dir, runs, '2026-11-20', ids('kept', 50));
    runs = commit(dir, runs, '2026-11-28', ids('new', 50), [], '2026-11-20');
    expect(runs.map((r) => r.day)).toEqual(['2026-11-20', '2026-11-28']);
    expect(readdirSync(dir).sort()).toEqual(runs.map((r) => r.file).sort());
    const store = reader(dir, runs);
    expect(store.hasRecord(digestOf('old-1'))).toBe(false);
    expect(store.hasRecord(digestOf('kept-1'))).toBe(true);
    store.close();
  });

  it('writes new keys out as run files beyond the spill size and commits them all', () => {
    const dir = tempDir();
    const runs = commit(dir, [], '2026-11-28', ids('big', 2_500), [], '2000-01-01', 1_000);
    expect(runs.reduce((n, r) => n + r.count, 0)).toBe(2_500);
    const store = reader(dir, runs);
    for (const id of ids('big', 2_500)) expect(store.hasRecord(digestOf(id))).toBe(true);
    store.close();
  });

  it('deletes files the manifest does not name (a killed run) when it holds the lock, and only then', () => {
    const dir = tempDir();
    const runs = commit(dir, [], '2026-11-28', ids('a', 10));
    writeFileSync(join(dir, '2026-11-28-000099.run'), 'orphan');
    writeFileSync(join(dir, '2026-11-28-000100.run.tmp'), 'torn');
    reader(dir, runs).close();
    expect(readdirSync(dir)).toHaveLength(3);
    ProcessedStore.open(dir, runs, { writable: true, today: '2026-11-28' }).close();
    expect(readdirSync(dir)).toEqual([runs[0]!.file]);
  });

  it('nothing is visible before the manifest names it: a commit not followed by `committed` leaves the old manifest whole', () => {
    const dir = tempDir();
    const runs = commit(dir, [], '2026-11-27', ids('a', 10));
    const store = ProcessedStore.open(dir, runs, { writable: true, today: '2026-11-28' });
    store.rememberRecord(digestOf('b-0'));
    store.prepare('2026-11-28', '2000-01-01'); // then killed before the manifest is written
    store.close();
    const again = ProcessedStore.open(dir, runs, { writable: true, today: '2026-11-28' });
    expect(again.hasRecord(digestOf('a-1'))).toBe(true);
    expect(again.hasRecord(digestOf('b-0'))).toBe(false);
    again.close();
    expect(readdirSync(dir)).toEqual([runs[0]!.file]);
  });

  describe('refuses a damaged store with E_CONSUMER_STATE naming the file, and deletes nothing', () => {
    const damages: Array<[string, (path: string, runs: RunRef[]) => RunRef[], RegExp]> = [
      ['a missing file', (path, runs) => (unlinkSync(path), runs), /is missing/],
      ['a truncated file', (path, runs) => (truncateSync(path, 100), runs), /truncated/],
      [
        'a flipped byte in a block',
        (path, runs) => {
          const bytes = readFileSync(path);
          bytes[20] = bytes[20]! ^ 0xff;
          writeFileSync(path, bytes);
          return runs;
        },
        /does not match its checksum/,
      ],
      [
        'a flipped byte in its filter',
        (path, runs) => {
          const bytes = readFileSync(path);
          bytes[bytes.length - 49] = bytes[bytes.length - 49]! ^ 0xff; // the filter's last byte, just before the footer
          writeFileSync(path, bytes);
          return runs;
        },
        /filter does not match its checksum/,
      ],
      ['another file in its place', (_path, runs) => runs.map((r) => ({ ...r, sha256: 'a'.repeat(64) })), /not the manifest's/],
    ];
    for (const [what, damage, message] of damages) {
      it(what, () => {
        const dir = tempDir();
        const good = commit(dir, [], '2026-11-28', ids('a', 5_000));
        const path = join(dir, good[0]!.file);
        const runs = damage(path, good);
        const before = readdirSync(dir);
        let error: unknown;
        try {
          const store = ProcessedStore.open(dir, runs, { writable: true, today: '2026-11-28' });
          for (const id of ids('a', 5_000)) store.hasRecord(digestOf(id));
          store.close();
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(ConsumerError);
        expect(error).toMatchObject({ code: 'E_CONSUMER_STATE' });
        expect((error as Error).message).toContain(path);
        expect((error as Error).message).toMatch(message);
        expect((error as Error).message).toContain('nothing was reset');
        expect(readdirSync(dir)).toEqual(before);
      });
    }
  });
});
