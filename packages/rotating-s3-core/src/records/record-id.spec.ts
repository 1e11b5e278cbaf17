import { describe, expect, it } from 'vitest';
import { contentHashOf, recordIdOf, recordTimestampOf } from './record-id.js';

describe('record ids', () => {
  it('uses the configured id field when it is a string or a number', () => {
    expect(recordIdOf('{"match_id":"m1","x":1}', 'match_id')).toEqual({ recordId: 'm1', fromContent: false });
    expect(recordIdOf('{"match_id":42}', 'match_id')).toEqual({ recordId: '42', fromContent: false });
    expect(recordIdOf('{"match_id":"m\\u00e9"}', 'match_id')).toEqual({ recordId: 'mé', fromContent: false });
  });

  it('takes a number id from its exact token, so ids beyond double precision stay distinct', () => {
    expect(recordIdOf('{"match_id":9007199254740993}', 'match_id').recordId).toBe('9007199254740993');
    expect(recordIdOf('{"match_id":9007199254740992}', 'match_id').recordId).toBe('9007199254740992');
    expect(recordIdOf('{"match_id":1e400}', 'match_id').recordId).toBe('1e400');
  });

  it('falls back to a content hash when the id field is missing, empty, null or not a scalar', () => {
    for (const record of ['{"other":1}', '{"match_id":""}', '{"match_id":null}', '{"match_id":{"a":1}}', '"a string record"', '[1,2]']) {
      const id = recordIdOf(record, 'match_id');
      expect(id.fromContent).toBe(true);
      expect(id.recordId).toMatch(/^sha256:[0-9a-f]{32}$/);
    }
    expect(recordIdOf('{"match_id":"m1"}', undefined).fromContent).toBe(true);
  });

  it('hashes the exact text: whitespace does not matter, numbers and escapes as written do', () => {
    expect(contentHashOf('{ "a" : [1, {"d": "x"}] }')).toBe(contentHashOf('{"a":[1,{"d":"x"}]}'));
    expect(contentHashOf('{"a":9007199254740993}')).not.toBe(contentHashOf('{"a":9007199254740992}'));
    expect(contentHashOf('{"a":1.0}')).not.toBe(contentHashOf('{"a":1}'));
    expect(contentHashOf('[1,2]')).not.toBe(contentHashOf('[2,1]'));
  });

  it('reads ids of records nested far deeper than any recursion allows', () => {
    const deep = `{"v":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expect(recordIdOf(deep, undefined).recordId).toMatch(/^sha256:/);
  });

  it("takes the record's own timestamp only when it is a non-empty string", () => {
    expect(recordTimestampOf('{"timestamp":"2026-11-28T10:00:00Z"}', 'timestamp')).toBe('2026-11-28T10:00:00Z');
    expect(recordTimestampOf('{"timestamp":1764324000}', 'timestamp')).toBeUndefined();
    expect(recordTimestampOf('{"ts":"x"}', 'timestamp')).toBeUndefined();
  });
});
