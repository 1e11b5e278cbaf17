import { describe, expect, it } from 'vitest';
import { JsonText, JsonTextError, MAX_PAYLOAD_DEPTH, checkJson, compactJson, elementRanges, layoutJson, pointerRange } from './json-text.js';
import { resolvePointer } from './records.js';

/** A small deterministic PRNG, so a failure names the seed that reproduces it. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const SCALARS = [
  '0',
  '-0',
  '1.0',
  '1e400',
  '-1.5E-7',
  '9007199254740993',
  '12345678901234567890',
  'true',
  'false',
  'null',
  '""',
  '"a\\u00e9\\"\\\\"',
  '"é ☃ 𝄞"',
  '"\\n\\t\\/"',
  '"}],:{["',
];

/** Random JSON text with random whitespace between tokens (never recursing deeper than `depth`). */
function randomJson(next: () => number, depth: number): string {
  const ws = () => [' ', '', '\n', '\t', '\r\n  '][Math.floor(next() * 5)]!;
  const pick = next();
  if (depth <= 0 || pick < 0.4) return SCALARS[Math.floor(next() * SCALARS.length)]!;
  const n = Math.floor(next() * 4);
  if (pick < 0.7) return `[${ws()}${Array.from({ length: n }, () => `${ws()}${randomJson(next, depth - 1)}${ws()}`).join(',')}]`;
  const keys = ['a', 'b', 'a', 'x/y', 'm~n', '\\u0061'];
  return `{${ws()}${Array.from({ length: n }, () => `${ws()}"${keys[Math.floor(next() * keys.length)]}"${ws()}:${ws()}${randomJson(next, depth - 1)}`).join(',')}${ws()}}`;
}

/** The tokens of JSON text in order (what must survive any layout). */
function tokens(text: string): string[] {
  return text.match(/"(?:[^"\\]|\\.)*"|[{}[\]:,]|[^\s{}[\]:,"]+/g) ?? [];
}

describe('json-text', () => {
  it('keeps every token byte for byte in both layouts, and pretty matches JSON.stringify(value, null, 2) in shape', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const text = randomJson(random(seed), 5);
      const bytes = Buffer.from(text);
      expect(checkJson(bytes), `seed ${seed}`).toBeGreaterThanOrEqual(0);
      for (const layout of ['compact', 'pretty'] as const) {
        const out = layoutJson(bytes, layout).toString();
        expect(tokens(out), `seed ${seed} ${layout}`).toEqual(tokens(text));
        expect(JSON.parse(out)).toEqual(JSON.parse(text));
      }
      const plain = JSON.stringify(JSON.parse(text));
      expect(layoutJson(Buffer.from(plain), 'pretty').toString()).toBe(JSON.stringify(JSON.parse(text), null, 2));
      expect(compactJson(Buffer.from(JSON.stringify(JSON.parse(text), null, 2))).toString()).toBe(plain);
    }
  });

  it('accepts exactly what JSON.parse accepts, on valid text and on every cut and one-byte change of it', () => {
    const alphabet = ['', ' ', '"', '\\', '{', '}', '[', ']', ',', ':', '0', '-', '.', 'e', 'x', 'n', '\u0001'];
    for (let seed = 1; seed <= 150; seed++) {
      const next = random(seed);
      const text = randomJson(next, 3);
      const variants = [text, text.slice(0, Math.floor(next() * text.length))];
      for (let k = 0; k < 8; k++) {
        const at = Math.floor(next() * (text.length + 1));
        variants.push(text.slice(0, at) + alphabet[Math.floor(next() * alphabet.length)] + text.slice(at + 1));
      }
      for (const variant of variants) {
        let parses = true;
        try {
          JSON.parse(variant);
        } catch {
          parses = false;
        }
        let checks = true;
        try {
          checkJson(Buffer.from(variant));
        } catch (error) {
          expect(error).toBeInstanceOf(JsonTextError);
          checks = false;
        }
        expect(checks, `seed ${seed}: ${JSON.stringify(variant)}`).toBe(parses);
      }
    }
  });

  it('measures depth and refuses text deeper than the limit without recursing', () => {
    expect(checkJson(Buffer.from('1'))).toBe(0);
    expect(checkJson(Buffer.from('[{"a":[]}]'))).toBe(3);
    const deep = Buffer.from(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    expect(checkJson(deep)).toBe(200_000);
    expect(compactJson(deep).length).toBe(400_000);
    expect(() => checkJson(Buffer.from(`${'['.repeat(MAX_PAYLOAD_DEPTH + 1)}${']'.repeat(MAX_PAYLOAD_DEPTH + 1)}`), MAX_PAYLOAD_DEPTH)).toThrow(
      /deeper than 512/,
    );
  });

  it('finds the value at a JSON pointer like resolvePointer does (the last of duplicate names)', () => {
    const pointers = ['', '/a', '/b', '/a/0', '/a/1', '/x~1y', '/m~0n', '/a/a', '/0', '/a/01', '/b/a/2'];
    for (let seed = 1; seed <= 300; seed++) {
      const text = randomJson(random(seed), 4);
      const bytes = Buffer.from(text);
      for (const pointer of pointers) {
        const range = pointerRange(bytes, pointer);
        const expected = resolvePointer(JSON.parse(text), pointer);
        if (expected === undefined) expect(range, `seed ${seed} ${pointer}`).toBeUndefined();
        else expect(JSON.parse(bytes.toString('utf8', range![0], range![1])), `seed ${seed} ${pointer}`).toEqual(expected);
      }
    }
    expect(elementRanges(Buffer.from(' [ 1 , "a" ,[2]]'), 1)).toEqual([
      [3, 4],
      [7, 10],
      [12, 15],
    ]);
  });

  it('JsonText refuses JSON.stringify rather than turning raw JSON into a string', () => {
    expect(() => JSON.stringify({ data: new JsonText('1e400') })).toThrow(/raw JSON/);
  });
});
