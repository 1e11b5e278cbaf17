import { describe, expect, it } from 'vitest';
import { extractRecords, type Payload } from '../records/records.js';
import { PayloadShapeError, recordsOfPayload } from './record-extractor.js';

function viaExtractor(text: string, pointer: string): unknown[] {
  return [...recordsOfPayload(Buffer.from(text), pointer).records];
}

function viaParse(text: string, pointer: string): unknown[] {
  const value = JSON.parse(text) as unknown;
  return value !== null && typeof value === 'object' ? extractRecords(value as Payload, pointer) : [];
}

describe('recordsOfPayload', () => {
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
    '{"text":"backslash at end \\\\","matches":[{"t":"\\\\\\""}]}',
    '{"unicode":"é ✓ 😀","matches":[{"u":"😀"}]}',
  ];
  const pointers = ['', '/matches', '/missing', '/a~1b/c~0d', '/a~1b/c~0d/1', '/list/1/x', '/list/01/x', '/list/5', '/key', '/matches/0', '/text/0'];

  it('gives the same records as JSON.parse + extractRecords for every document and pointer', () => {
    for (const doc of documents) {
      for (const pointer of pointers) {
        expect(viaExtractor(doc, pointer), `${doc} @ ${JSON.stringify(pointer)}`).toEqual(viaParse(doc, pointer));
      }
    }
  });

  it('counts records before parsing any, and parses each only when reached', () => {
    const { count, records } = recordsOfPayload(Buffer.from('{"matches":[{"ok":1},{"bad":tru},{"ok":3}]}'), '/matches');
    expect(count).toBe(3);
    const iterator = records[Symbol.iterator]();
    expect(iterator.next().value).toEqual({ ok: 1 });
    expect(() => iterator.next()).toThrow(SyntaxError);
  });

  it('refuses what it cannot read structurally, so callers fall back to JSON.parse', () => {
    for (const bad of ['', '{"matches":[1,2}', '{"a":"unterminated', '{"a" 1}', '{"a":1} trailing', '{"matches":[1 2]}']) {
      expect(() => recordsOfPayload(Buffer.from(bad), '/matches'), bad).toThrow(PayloadShapeError);
    }
  });
});
