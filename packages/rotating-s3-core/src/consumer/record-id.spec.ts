import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHashOf, recordIdOf, recordTimestampOf } from './record-id.js';

describe('record ids', () => {
  it('uses the configured id field when it is a string or a number', () => {
    expect(recordIdOf({ match_id: 'm1', x: 1 }, 'match_id')).toEqual({ recordId: 'm1', fromContent: false });
    expect(recordIdOf({ match_id: 42 }, 'match_id')).toEqual({ recordId: '42', fromContent: false });
  });

  it('falls back to a content hash when the id field is missing, empty, null or not a scalar', () => {
    for (const record of [{ other: 1 }, { match_id: '' }, { match_id: null }, { match_id: { a: 1 } }, 'a string record', [1, 2]]) {
      const id = recordIdOf(record, 'match_id');
      expect(id.fromContent).toBe(true);
      expect(id.recordId).toMatch(/^sha256:[0-9a-f]{32}$/);
    }
    expect(recordIdOf({ match_id: 'm1' }, undefined).fromContent).toBe(true);
  });

  it('gives the same content hash whatever the key order, and different hashes for different content', () => {
    expect(contentHashOf({ a: 1, b: { c: [1, { d: 'x', e: null }] } })).toBe(contentHashOf({ b: { c: [1, { e: null, d: 'x' }] }, a: 1 }));
    expect(contentHashOf({ a: 1 })).not.toBe(contentHashOf({ a: 2 }));
    expect(contentHashOf([1, 2])).not.toBe(contentHashOf([2, 1]));
    expect(canonicalJson({ b: 1, a: 'é' })).toBe('{"a":"é","b":1}');
  });

  it("takes the record's own timestamp only when it is a non-empty string", () => {
    expect(recordTimestampOf({ timestamp: '2026-11-28T10:00:00Z' }, 'timestamp')).toBe('2026-11-28T10:00:00Z');
    expect(recordTimestampOf({ timestamp: 1764324000 }, 'timestamp')).toBeUndefined();
    expect(recordTimestampOf({ ts: 'x' }, 'timestamp')).toBeUndefined();
  });
});
