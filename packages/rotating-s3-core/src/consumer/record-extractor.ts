/**
 * The records of a payload straight from its JSON bytes, one at a time (SPEC §6, same result as
 * `JSON.parse` + records/records.ts `extractRecords`): a structural pass finds the byte range of each
 * record at `recordsPath`, then each record is parsed on its own when the caller asks for it. The whole
 * payload is never turned into one string or one object tree, so a consumer's garbage per fetch is its
 * records, and memory is bounded by the largest record plus the payload's bytes.
 *
 * Like JSON.parse, a key that appears twice in an object counts with its last value. Bytes outside the
 * records are only scanned for their structure (nesting, strings, separators); each record is parsed in
 * full when it is reached, so a syntax error inside a record surfaces as JSON.parse's SyntaxError then.
 * Anything the structural pass does not understand throws `PayloadShapeError` — callers then fall back to
 * parsing the whole payload, which reports real syntax errors with JSON.parse's own message.
 */

export class PayloadShapeError extends Error {}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

type Range = readonly [start: number, end: number];

/**
 * Yields the records of the payload in `bytes`. The structural pass runs first (and throws
 * `PayloadShapeError` before anything is yielded); each record's JSON.parse runs when it is reached.
 * `bytes` must stay unchanged until the generator is done.
 */
export function recordsOfPayload(bytes: Buffer, recordsPath: string): { count: number; records: Iterable<unknown> } {
  const ranges = recordRanges(bytes, recordsPath);
  return {
    count: ranges.length,
    records: (function* () {
      for (const [start, end] of ranges) yield JSON.parse(bytes.toString('utf8', start, end));
    })(),
  };
}

/** Byte ranges of the records at `recordsPath` (RFC 6901) in the payload `bytes`. */
export function recordRanges(bytes: Buffer, recordsPath: string): Range[] {
  const tokens = recordsPath === '' ? [] : recordsPath.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  const root = skipSpace(bytes, 0);
  if (root >= bytes.length) throw new PayloadShapeError('empty payload');
  const rootEnd = valueEnd(bytes, root);
  if (skipSpace(bytes, rootEnd) !== bytes.length) throw new PayloadShapeError('bytes after the payload');
  // SPEC §6: a payload that is not an object or array has no records here (the writer refuses those).
  if (bytes[root] !== OPEN_OBJECT && bytes[root] !== OPEN_ARRAY) return [];

  let at = root;
  for (const token of tokens) {
    const next = bytes[at] === OPEN_OBJECT ? memberValue(bytes, at, token) : bytes[at] === OPEN_ARRAY ? elementAt(bytes, at, token) : undefined;
    if (next === undefined) return [];
    at = next;
  }
  const first = bytes[at];
  if (first === OPEN_ARRAY) return elements(bytes, at);
  if (first === 0x6e /* n: null */) return [];
  return [[at, valueEnd(bytes, at)]];
}

/** Start of the value of the LAST member named `key` of the object at `at` (JSON.parse keeps the last). */
function memberValue(bytes: Buffer, at: number, key: string): number | undefined {
  let found: number | undefined;
  let i = skipSpace(bytes, at + 1);
  if (bytes[i] === CLOSE_OBJECT) return undefined;
  for (;;) {
    if (bytes[i] !== QUOTE) throw new PayloadShapeError(`expected a key at byte ${i}`);
    const keyEnd = stringEnd(bytes, i);
    const name = JSON.parse(bytes.toString('utf8', i, keyEnd)) as string;
    i = skipSpace(bytes, keyEnd);
    if (bytes[i] !== COLON) throw new PayloadShapeError(`expected ":" at byte ${i}`);
    const valueStart = skipSpace(bytes, i + 1);
    if (name === key) found = valueStart;
    i = skipSpace(bytes, valueEnd(bytes, valueStart));
    if (bytes[i] === COMMA) {
      i = skipSpace(bytes, i + 1);
      continue;
    }
    if (bytes[i] === CLOSE_OBJECT) return found;
    throw new PayloadShapeError(`expected "," or "}" at byte ${i}`);
  }
}

/** Start of element `token` (a canonical index, as resolvePointer requires) of the array at `at`. */
function elementAt(bytes: Buffer, at: number, token: string): number | undefined {
  if (!/^(0|[1-9]\d*)$/.test(token)) return undefined;
  const wanted = Number(token);
  const all = elements(bytes, at);
  return all[wanted]?.[0];
}

/** Byte ranges of the elements of the array at `at`. */
function elements(bytes: Buffer, at: number): Range[] {
  const ranges: Range[] = [];
  let i = skipSpace(bytes, at + 1);
  if (bytes[i] === CLOSE_ARRAY) return ranges;
  for (;;) {
    const end = valueEnd(bytes, i);
    ranges.push([i, end]);
    i = skipSpace(bytes, end);
    if (bytes[i] === COMMA) {
      i = skipSpace(bytes, i + 1);
      continue;
    }
    if (bytes[i] === CLOSE_ARRAY) return ranges;
    throw new PayloadShapeError(`expected "," or "]" at byte ${i}`);
  }
}

/** Index just past the value that starts at `i`. */
function valueEnd(bytes: Buffer, i: number): number {
  const first = bytes[i];
  if (first === undefined) throw new PayloadShapeError('payload cut short');
  if (first === QUOTE) return stringEnd(bytes, i);
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) {
    // A number or literal: up to the next separator.
    let j = i;
    while (j < bytes.length) {
      const b = bytes[j]!;
      if (b === COMMA || b === CLOSE_OBJECT || b === CLOSE_ARRAY || b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) break;
      if (b === OPEN_OBJECT || b === OPEN_ARRAY || b === QUOTE || b === COLON) throw new PayloadShapeError(`unexpected byte at ${j}`);
      j++;
    }
    if (j === i) throw new PayloadShapeError(`expected a value at byte ${i}`);
    return j;
  }
  let depth = 0;
  let j = i;
  while (j < bytes.length) {
    const b = bytes[j]!;
    if (b === QUOTE) {
      j = stringEnd(bytes, j);
      continue;
    }
    if (b === OPEN_OBJECT || b === OPEN_ARRAY) depth++;
    else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
      depth--;
      if (depth === 0) return j + 1;
    }
    j++;
  }
  throw new PayloadShapeError('payload cut short');
}

/** Index just past the string whose opening quote is at `i`. */
function stringEnd(bytes: Buffer, i: number): number {
  let j = i + 1;
  for (;;) {
    const quote = bytes.indexOf(QUOTE, j);
    if (quote === -1) throw new PayloadShapeError('unterminated string');
    // The quote closes the string unless an odd number of backslashes precedes it.
    let slashes = 0;
    for (let k = quote - 1; k > i && bytes[k] === BACKSLASH; k--) slashes++;
    if (slashes % 2 === 0) return quote + 1;
    j = quote + 1;
  }
}

function skipSpace(bytes: Buffer, i: number): number {
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return i;
    i++;
  }
  return i;
}
