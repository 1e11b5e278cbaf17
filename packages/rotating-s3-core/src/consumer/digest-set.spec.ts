import { describe, expect, it } from 'vitest';
import { DigestSet, digestOf, encodedDigestOf } from './digest-set.js';

const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => `record-${from + i}`);

describe('DigestSet', () => {
  it('finds every digest loaded from the file form or remembered, across reserve and rehashes, and nothing else', () => {
    const set = new DigestSet();
    const dayOne = ids(0, 50_000);
    const dayTwo = ids(50_000, 30_000);
    set.reserve(10); // smaller than what follows: loading must still grow the table
    set.loadEncoded(dayOne.map(encodedDigestOf).join(''));
    set.reserve(dayTwo.length);
    set.loadEncoded(dayTwo.map(encodedDigestOf).join(''));
    // Loading the same day twice adds nothing.
    set.loadEncoded(dayOne.slice(0, 1000).map(encodedDigestOf).join(''));
    expect(set.size).toBe(80_000);
    const fresh = ids(80_000, 40_000);
    for (const id of fresh) set.remember(digestOf(id));
    set.remember(digestOf(dayOne[7]!)); // already there: not an addition
    expect(set.size).toBe(120_000);
    expect(set.addedCount).toBe(40_000);
    for (const id of [...dayOne, ...dayTwo, ...fresh]) expect(set.has(digestOf(id)), id).toBe(true);
    for (const id of ids(200_000, 20_000)) expect(set.has(digestOf(id)), id).toBe(false);
    // What a commit appends is exactly this run's additions, in the file form.
    expect(set.encodeAdded()).toBe(fresh.map(encodedDigestOf).join(''));
  });

  it('tracks the all-zero digest apart from empty slots', () => {
    const set = new DigestSet();
    expect(set.has([0, 0, 0])).toBe(false);
    set.remember([0, 0, 0]);
    set.remember([0, 0, 0]);
    expect(set.has([0, 0, 0])).toBe(true);
    expect([set.size, set.addedCount]).toEqual([1, 1]);
  });
});
