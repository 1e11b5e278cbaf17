import { describe, expect, it } from 'vitest';
import { DigestSet, digestOf, encodedDigestOf, type Digest } from './digest-set.js';

const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => `record-${from + i}`);
const compare = (x: Digest, y: Digest) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2];

describe('DigestSet', () => {
  it('finds every digest added from the version-1 file form or remembered, across reserve and rehashes, and nothing else', () => {
    const set = new DigestSet();
    const dayOne = ids(0, 50_000);
    const dayTwo = ids(50_000, 30_000);
    set.reserve(10); // smaller than what follows: adding must still grow the table
    set.addEncoded(dayOne.map(encodedDigestOf).join(''));
    set.addEncoded(dayTwo.map(encodedDigestOf).join(''));
    // Adding the same day twice adds nothing.
    set.addEncoded(dayOne.slice(0, 1000).map(encodedDigestOf).join(''));
    expect(set.size).toBe(80_000);
    const fresh = ids(80_000, 40_000);
    for (const id of fresh) expect(set.remember(digestOf(id))).toBe(true);
    expect(set.remember(digestOf(dayOne[7]!))).toBe(false); // already there
    expect(set.size).toBe(120_000);
    for (const id of [...dayOne, ...dayTwo, ...fresh]) expect(set.has(digestOf(id)), id).toBe(true);
    for (const id of ids(200_000, 20_000)) expect(set.has(digestOf(id)), id).toBe(false);
  });

  it('maps the first word of digests read from the file form', () => {
    const set = new DigestSet();
    set.addEncoded(encodedDigestOf('x'), (a) => (a | 0x80000000) >>> 0);
    const [a, b, c] = digestOf('x');
    expect(set.has([(a | 0x80000000) >>> 0, b, c])).toBe(true);
  });

  it('lists its digests in ascending unsigned order, the all-zero and the top-bit ones included', () => {
    for (const n of [0, 1, 7, 5_000, 60_000]) {
      const set = new DigestSet();
      const all: Digest[] = ids(0, n).map(digestOf);
      if (n > 0) all.push([0, 0, 0], [0xffffffff, 0xffffffff, 0xffffffff], [0x80000000, 0, 1], [0x80000000, 0, 0]);
      for (const d of all) set.remember(d);
      const sorted = set.sorted();
      const got: Digest[] = [];
      for (let i = 0; i < sorted.length; i += 3) got.push([sorted[i]!, sorted[i + 1]!, sorted[i + 2]!]);
      expect(got).toEqual([...all].sort(compare));
    }
  });

  it('tracks the all-zero digest apart from empty slots', () => {
    const set = new DigestSet();
    expect(set.has([0, 0, 0])).toBe(false);
    set.remember([0, 0, 0]);
    set.remember([0, 0, 0]);
    expect(set.has([0, 0, 0])).toBe(true);
    expect(set.size).toBe(1);
  });
});
