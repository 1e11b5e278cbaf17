/**
 * Token boundaries of raw JSON text (RFC 8259), on UTF-8 bytes: `checkJson` validates (the same grammar
 * JSON.parse accepts); the other functions assume valid input (checked once at the edge) and only find
 * where strings, values, members and elements start and end. Every structural character of JSON is
 * ASCII, and no byte of a multi-byte UTF-8 sequence is ASCII, so tokens can be found byte by byte.
 * Nothing here recurses: nesting is tracked with an explicit stack or a depth counter.
 *
 * Import from json-text.ts, the public entry of the JSON text modules.
 */

/** Text that is not one valid JSON value; `offset` is the byte where reading stopped. */
export class JsonTextError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`${reason} at byte ${offset}`);
    this.name = 'JsonTextError';
  }
}

/** A byte range [start, end) of a JSON value inside some text. */
export type JsonRange = readonly [start: number, end: number];

export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const OPEN_OBJECT = 0x7b;
export const CLOSE_OBJECT = 0x7d;
export const OPEN_ARRAY = 0x5b;
export const CLOSE_ARRAY = 0x5d;
export const COMMA = 0x2c;
export const COLON = 0x3a;
const MINUS = 0x2d;

/** 1 for JSON whitespace. */
export const SPACE = new Uint8Array(256);
for (const b of [0x20, 0x0a, 0x0d, 0x09]) SPACE[b] = 1;
/** 1 for bytes that end a number or literal. */
export const DELIMITER = new Uint8Array(256);
for (const b of [0x20, 0x0a, 0x0d, 0x09, 0x2c, 0x7d, 0x5d, 0x3a, 0x22, 0x7b, 0x5b]) DELIMITER[b] = 1;
/** 1 for bytes that need a look inside a string: the quote, the backslash and control characters. */
const STRING_SPECIAL = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) STRING_SPECIAL[b] = 1;
STRING_SPECIAL[0x22] = 1;
STRING_SPECIAL[0x5c] = 1;

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x39;
}

function isHex(b: number | undefined): boolean {
  return b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));
}

export function skipSpace(bytes: Uint8Array, i: number): number {
  const n = bytes.length;
  while (i < n && SPACE[bytes[i]!] === 1) i++;
  return i;
}

/**
 * Checks that `bytes` hold exactly one JSON value (whitespace around it allowed) nested at most
 * `maxDepth` deep; returns its depth. Throws JsonTextError naming the first problem.
 */
export function checkJson(bytes: Uint8Array, maxDepth = Number.POSITIVE_INFINITY): number {
  const stack: number[] = [];
  let deepest = 0;
  let i = skipSpace(bytes, 0);
  if (i >= bytes.length) throw new JsonTextError('no JSON value', i);
  value: for (;;) {
    const b = bytes[i];
    if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
      stack.push(b);
      if (stack.length > maxDepth) throw new JsonTextError(`nesting deeper than ${maxDepth} arrays/objects`, i);
      if (stack.length > deepest) deepest = stack.length;
      i = skipSpace(bytes, i + 1);
      const close = b === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY;
      if (bytes[i] === close) {
        stack.pop();
        i++;
      } else if (b === OPEN_OBJECT) {
        i = checkMemberName(bytes, i);
        continue value;
      } else {
        continue value;
      }
    } else if (b === QUOTE) {
      i = checkString(bytes, i);
    } else if (b === MINUS || isDigit(b)) {
      i = checkNumber(bytes, i);
    } else {
      i = checkLiteral(bytes, i);
    }
    // A value ended at i: close containers or find the next value.
    for (;;) {
      i = skipSpace(bytes, i);
      const top = stack.at(-1);
      if (top === undefined) {
        if (i !== bytes.length) throw new JsonTextError('unexpected text after the JSON value', i);
        return deepest;
      }
      const c = bytes[i];
      if (c === COMMA) {
        i = skipSpace(bytes, i + 1);
        if (top === OPEN_OBJECT) i = checkMemberName(bytes, i);
        continue value;
      }
      if ((top === OPEN_OBJECT && c === CLOSE_OBJECT) || (top === OPEN_ARRAY && c === CLOSE_ARRAY)) {
        stack.pop();
        i++;
        continue;
      }
      if (i >= bytes.length) throw new JsonTextError('the JSON text is cut short', i);
      throw new JsonTextError(top === OPEN_OBJECT ? 'expected "," or "}"' : 'expected "," or "]"', i);
    }
  }
}

/** Checks `"name" :` at i; returns where the member's value starts. */
function checkMemberName(bytes: Uint8Array, i: number): number {
  if (bytes[i] !== QUOTE) throw new JsonTextError(i >= bytes.length ? 'the JSON text is cut short' : 'expected a member name in double quotes', i);
  i = skipSpace(bytes, checkString(bytes, i));
  if (bytes[i] !== COLON) throw new JsonTextError('expected ":"', i);
  i = skipSpace(bytes, i + 1);
  if (i >= bytes.length) throw new JsonTextError('the JSON text is cut short', i);
  return i;
}

function checkString(bytes: Uint8Array, i: number): number {
  const n = bytes.length;
  for (let j = i + 1; j < n; j++) {
    const b = bytes[j]!;
    if (STRING_SPECIAL[b] !== 1) continue;
    if (b === QUOTE) return j + 1;
    if (b < 0x20) throw new JsonTextError('control character in a string (escape it)', j);
    if (b === BACKSLASH) {
      const e = bytes[++j];
      if (e === 0x75 /* u */) {
        if (!(isHex(bytes[j + 1]) && isHex(bytes[j + 2]) && isHex(bytes[j + 3]) && isHex(bytes[j + 4]))) throw new JsonTextError('bad \\u escape', j - 1);
        j += 4;
      } else if (e !== QUOTE && e !== BACKSLASH && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) {
        throw new JsonTextError('bad escape in a string', j - 1);
      }
    }
  }
  throw new JsonTextError('unterminated string', i);
}

function checkNumber(bytes: Uint8Array, i: number): number {
  const start = i;
  if (bytes[i] === MINUS) i++;
  if (bytes[i] === 0x30) i++;
  else if (isDigit(bytes[i])) while (isDigit(bytes[i])) i++;
  else throw new JsonTextError('bad number', start);
  if (bytes[i] === 0x2e /* . */) {
    i++;
    if (!isDigit(bytes[i])) throw new JsonTextError('bad number', start);
    while (isDigit(bytes[i])) i++;
  }
  if (bytes[i] === 0x65 || bytes[i] === 0x45 /* e E */) {
    i++;
    if (bytes[i] === 0x2b || bytes[i] === MINUS) i++;
    if (!isDigit(bytes[i])) throw new JsonTextError('bad number', start);
    while (isDigit(bytes[i])) i++;
  }
  return i;
}

const LITERALS = [Buffer.from('true'), Buffer.from('false'), Buffer.from('null')];

function checkLiteral(bytes: Uint8Array, i: number): number {
  for (const literal of LITERALS) {
    if (bytes[i] === literal[0] && literal.every((c, k) => bytes[i + k] === c)) return i + literal.length;
  }
  throw new JsonTextError(i >= bytes.length ? 'the JSON text is cut short' : 'unexpected character', i);
}

/** Index just past the string whose opening quote is at `i` (valid input). */
export function stringEnd(bytes: Uint8Array, i: number): number {
  // The next quote (a native search) closes the string unless an odd number of backslashes precedes it.
  for (let j = i + 1; ;) {
    const quote = bytes.indexOf(QUOTE, j);
    if (quote === -1) throw new JsonTextError('unterminated string', i);
    let slashes = 0;
    for (let k = quote - 1; k > i && bytes[k] === BACKSLASH; k--) slashes++;
    if (slashes % 2 === 0) return quote + 1;
    j = quote + 1;
  }
}

/** Index just past the value that starts at `i` (valid input; no recursion). */
export function valueEnd(bytes: Uint8Array, i: number): number {
  const first = bytes[i];
  if (first === QUOTE) return stringEnd(bytes, i);
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) {
    let j = i;
    while (j < bytes.length && DELIMITER[bytes[j]!] !== 1) j++;
    if (j === i) throw new JsonTextError('expected a value', i);
    return j;
  }
  let depth = 0;
  for (let j = i; j < bytes.length; j++) {
    const b = bytes[j];
    if (b === QUOTE) j = stringEnd(bytes, j) - 1;
    else if (b === OPEN_OBJECT || b === OPEN_ARRAY) depth++;
    else if ((b === CLOSE_OBJECT || b === CLOSE_ARRAY) && --depth === 0) return j + 1;
  }
  throw new JsonTextError('the JSON text is cut short', bytes.length);
}

/** The members of the object at `at`, in order: name (decoded) and the value's range. */
export function memberRanges(bytes: Uint8Array, at: number): Array<{ name: string; value: JsonRange }> {
  const members: Array<{ name: string; value: JsonRange }> = [];
  let i = skipSpace(bytes, at + 1);
  if (bytes[i] === CLOSE_OBJECT) return members;
  for (;;) {
    const nameEnd = stringEnd(bytes, i);
    const name = decodeString(bytes, i, nameEnd);
    i = skipSpace(bytes, skipSpace(bytes, nameEnd) + 1);
    const end = valueEnd(bytes, i);
    members.push({ name, value: [i, end] });
    i = skipSpace(bytes, end);
    if (bytes[i] !== COMMA) return members;
    i = skipSpace(bytes, i + 1);
  }
}

/** The element ranges of the array at `at`, in order. */
export function elementRanges(bytes: Uint8Array, at: number): JsonRange[] {
  const ranges: JsonRange[] = [];
  let i = skipSpace(bytes, at + 1);
  if (bytes[i] === CLOSE_ARRAY) return ranges;
  for (;;) {
    const end = valueEnd(bytes, i);
    ranges.push([i, end]);
    i = skipSpace(bytes, end);
    if (bytes[i] !== COMMA) return ranges;
    i = skipSpace(bytes, i + 1);
  }
}

/** The decoded text of the string token [start, end). */
export function decodeString(bytes: Uint8Array, start: number, end: number): string {
  const raw = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start);
  return raw.includes(BACKSLASH) ? (JSON.parse(raw.toString('utf8')) as string) : raw.toString('utf8', 1, raw.length - 1);
}

/** The reference tokens of a JSON Pointer (RFC 6901), unescaped (`~1` is `/`, `~0` is `~`); none for `""`. */
export function pointerTokens(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * The range of the value at JSON Pointer `pointer` (RFC 6901) in the valid JSON `bytes`, or undefined when
 * a step is missing. Like JSON.parse, a name that appears twice in an object counts with its last value.
 */
export function pointerRange(bytes: Uint8Array, pointer: string): JsonRange | undefined {
  let at = skipSpace(bytes, 0);
  let range: JsonRange = [at, valueEnd(bytes, at)];
  for (const token of pointerTokens(pointer)) {
    let next: JsonRange | undefined;
    if (bytes[at] === OPEN_OBJECT) {
      next = memberRanges(bytes, at).findLast((m) => m.name === token)?.value;
    } else if (bytes[at] === OPEN_ARRAY && /^(0|[1-9]\d*)$/.test(token)) {
      next = elementRanges(bytes, at)[Number(token)];
    }
    if (next === undefined) return undefined;
    range = next;
    at = next[0];
  }
  return range;
}
