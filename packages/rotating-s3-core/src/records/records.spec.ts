import { describe, expect, it } from 'vitest';
import { checkPayloadText, countRecords, countRecordsInText, extractRecords, parsePayload, recordsOfPayload, resolvePointer, type Payload } from './records.js';

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

describe('payload text', () => {
  it('refuses payloads that are not one JSON object or array, naming the source', () => {
    expect(() => checkPayloadText('42', 'p.json')).toThrow(/p\.json is a JSON number, not an object or array/);
    expect(() => checkPayloadText('{"a":', 'p.json')).toThrow(/not valid JSON/);
    expect(() => checkPayloadText('  ', 'stdin')).toThrow(/is empty/);
    expect(() => checkPayloadText(`${'['.repeat(513)}${']'.repeat(513)}`, 'p.json')).toThrow(/nested deeper than 512/);
    expect(checkPayloadText('[1e400]', 'x').toString()).toBe('[1e400]');
  });

  const documents = [
    '{"matches":[{"match_id":"a"},{"match_id":"b","s":"quote \\" and ]}, brace"}]}',
    '{\n  "matches": [\n    {\n      "match_id": "x"\n    }\n  ],\n  "other": {"matches": [1]}\n}',
    '{"matches":[]}',
    '{"matches":null}',
    '{"matches":{"single":true}}',
    '{"matches":"scalar"}',
    '{"matches":[1,2.5e3,-0,true,false,null,"s",[1,[2]],{"k":{}}]}',
    '{"matches":[1],"matches":[2,3]}',
    '{"a/b":{"c~d":[{"deep":1},{"deep":2}]}}',
    '{"list":[{"x":[10,11]},{"x":[20,21,22]}]}',
    '{"k\\u0065y":[1,2]}',
    '[{"r":1},{"r":2}]',
    '[]',
    '{"unicode":"é ✓ 😀","matches":[{"u":"😀"}]}',
  ];
  const pointers = ['', '/matches', '/missing', '/a~1b/c~0d', '/a~1b/c~0d/1', '/list/1/x', '/list/01/x', '/list/5', '/key', '/matches/0'];

  it('finds the same records as JSON.parse + extractRecords, each as its compact text', () => {
    for (const doc of documents) {
      for (const pointer of pointers) {
        const value = JSON.parse(doc) as Payload;
        const records = [...recordsOfPayload(Buffer.from(doc), pointer).records].map((r) => r.toString());
        expect(
          records.map((r) => JSON.parse(r) as unknown),
          `${doc} @ ${pointer}`,
        ).toEqual(extractRecords(value, pointer));
        expect(countRecordsInText(Buffer.from(doc), pointer)).toBe(countRecords(value, pointer));
        for (const r of records) expect(r).not.toMatch(/\n/);
      }
    }
    expect([...recordsOfPayload(Buffer.from('{"m":[ {"id": 9007199254740993, "s":"\\u00e9"} ]}'), '/m').records].map(String)).toEqual([
      '{"id":9007199254740993,"s":"\\u00e9"}',
    ]);
  });
});
