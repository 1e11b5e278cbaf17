import { describe, expect, it } from 'vitest';
import { countRecords, extractRecords, parsePayload, resolvePointer } from './records.js';

describe('records', () => {
  it('counts the array at the JSON pointer', () => {
    expect(countRecords({ matches: [1, 2, 3] }, '/matches')).toBe(3);
    expect(countRecords({ a: { 'b/c': [1] } }, '/a/b~1c')).toBe(1);
  });

  it('counts 0 records when the records field is missing or null', () => {
    expect(countRecords({ other: 1 }, '/matches')).toBe(0);
    expect(countRecords({ matches: null }, '/matches')).toBe(0);
  });

  it('treats a root array as its records and a non-array value as one record', () => {
    expect(extractRecords([{ a: 1 }, { a: 2 }], '')).toHaveLength(2);
    expect(extractRecords({ one: { a: 1 } }, '/one')).toEqual([{ a: 1 }]);
  });

  it('resolves array indexes and refuses non-numeric tokens on arrays', () => {
    expect(resolvePointer({ a: [10, 20] }, '/a/1')).toBe(20);
    expect(resolvePointer({ a: [10, 20] }, '/a/x')).toBeUndefined();
  });

  it('refuses payloads that are not a JSON object or array, naming the source', () => {
    expect(() => parsePayload('42', 'p.json')).toThrow(/p\.json is a JSON number, not an object or array/);
    expect(() => parsePayload('{"a":', 'p.json')).toThrow(/not valid JSON/);
    expect(() => parsePayload('  ', 'stdin')).toThrow(/is empty/);
    expect(parsePayload('[1]', 'x')).toEqual([1]);
  });
});
