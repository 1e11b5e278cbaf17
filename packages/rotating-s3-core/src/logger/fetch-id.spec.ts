import { describe, expect, it } from 'vitest';
import { FETCH_ID_PATTERN, generateFetchId } from './fetch-id.js';

describe('generateFetchId', () => {
  it('keeps ids of one millisecond distinct across refills of its random pool', () => {
    // 3,000 ids span two refills of the 1,024-id pool; a slicing mistake would repeat or shorten a suffix.
    const ids = Array.from({ length: 3000 }, () => generateFetchId('2026-11-28T14:03:11.512-05:00'));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^20261128T140311512-[0-9a-f]{8}$/);
      expect(id).toMatch(FETCH_ID_PATTERN);
    }
  });
});
