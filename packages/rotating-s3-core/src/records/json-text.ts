/**
 * Raw JSON text, kept exactly as written (RFC 8259): the one entry to the modules that read payload text
 * (token boundaries and validation in json-tokens.ts; layout and `JsonText` here). A payload is
 * never parsed into JavaScript values and serialised again on its way from `log` to S3 and to consumers,
 * so numbers keep their digits (9007199254740993, 1e400, -0, 1.0), strings keep their escapes (`\u00e9`)
 * and objects keep their key order. Only whitespace between tokens changes (`compact`, `pretty`).
 *
 * Everything works on UTF-8 bytes: every structural character of JSON is ASCII, and no byte of a
 * multi-byte UTF-8 sequence is ASCII, so whitespace and separators can be found byte by byte.
 * Nothing here recurses: nesting is tracked with an explicit stack or a depth counter, so any depth is
 * read without exhausting the call stack (`log` still refuses payloads deeper than MAX_PAYLOAD_DEPTH).
 *
 * `checkJson` validates (the same grammar JSON.parse accepts); the other functions assume valid input
 * (checked once at the edge) and only find token boundaries or change whitespace.
 */
import { CLOSE_ARRAY, CLOSE_OBJECT, COLON, COMMA, DELIMITER, OPEN_ARRAY, OPEN_OBJECT, QUOTE, SPACE, stringEnd } from './json-tokens.js';

export {
  JsonTextError,
  checkJson,
  decodeString,
  elementRanges,
  memberRanges,
  pointerRange,
  pointerTokens,
  skipSpace,
  stringEnd,
  valueEnd,
} from './json-tokens.js';
export type { JsonRange } from './json-tokens.js';

/**
 * Deepest nesting of arrays and objects a payload may have (`[[1]]` is 2 deep). A daily object adds 5
 * levels above each payload; Python's `json` module stops near 1,000, so 512 keeps every daily object
 * readable by common JSON parsers.
 */
export const MAX_PAYLOAD_DEPTH = 512;

/** Layout of JSON text: `compact` (no whitespace) or `pretty` (JSON.stringify's 2-space indent). */
export type JsonLayout = 'compact' | 'pretty';

/** The valid JSON `bytes` re-laid-out: every token kept byte for byte, only whitespace changes. */
export function layoutJson(bytes: Uint8Array, layout: JsonLayout): Buffer {
  // Tight loops over local variables: this runs over every byte of every payload.
  const n = bytes.length;
  const pretty = layout === 'pretty';
  let out = Buffer.allocUnsafe(pretty ? n + (n >> 1) + 64 : n);
  let o = 0;
  let depth = 0;
  const ensure = (more: number): void => {
    if (o + more <= out.length) return;
    const grown = Buffer.allocUnsafe(Math.max(out.length * 2, o + more));
    out.copy(grown, 0, 0, o);
    out = grown;
  };
  const newline = (): void => {
    ensure(1 + 2 * depth);
    out[o++] = 0x0a;
    const spaces = 2 * depth;
    if (spaces > 32) {
      out.fill(0x20, o, o + spaces);
      o += spaces;
    } else for (let k = 0; k < spaces; k++) out[o++] = 0x20;
  };
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (SPACE[b] === 1) {
      i++;
      continue;
    }
    if (b === QUOTE) {
      const end = stringEnd(bytes, i);
      if (pretty) ensure(end - i);
      if (end - i > 24) {
        out.set(bytes.subarray(i, end), o);
        o += end - i;
        i = end;
      } else {
        // Short strings byte by byte: a subarray per string costs more than the copy.
        while (i < end) out[o++] = bytes[i++]!;
      }
      continue;
    }
    if (pretty) ensure(2);
    if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
      let next = i + 1;
      while (next < n && SPACE[bytes[next]!] === 1) next++;
      out[o++] = b;
      if (bytes[next] === b + 2 /* the matching close */) {
        out[o++] = b + 2;
        i = next + 1;
      } else {
        depth++;
        if (pretty) newline();
        i = next;
      }
    } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
      depth--;
      if (pretty) newline();
      out[o++] = b;
      i++;
    } else if (b === COMMA) {
      out[o++] = b;
      if (pretty) newline();
      i++;
    } else if (b === COLON) {
      out[o++] = b;
      if (pretty) out[o++] = 0x20;
      i++;
    } else {
      // A number or literal: up to the next delimiter.
      if (pretty) ensure(n - i);
      do out[o++] = bytes[i++]!;
      while (i < n && DELIMITER[bytes[i]!] !== 1);
    }
  }
  return out.subarray(0, o);
}

/** The valid JSON `bytes` without whitespace between tokens. */
export function compactJson(bytes: Uint8Array): Buffer {
  return layoutJson(bytes, 'compact');
}

/**
 * A JSON value held as its exact text (compact): what `fetch_data[].data` is in memory. Serialisers insert
 * `text` verbatim; JSON.stringify refuses it, since that would turn it into a string.
 */
export class JsonText {
  constructor(readonly text: string) {}
  /** The text of a JavaScript value (for values built in code; numbers are JavaScript numbers then). */
  static fromValue(value: unknown): JsonText {
    return new JsonText(JSON.stringify(value));
  }
  /** The value parsed by JSON.parse (numbers beyond double precision are rounded). */
  value(): unknown {
    return JSON.parse(this.text);
  }
  toJSON(): never {
    throw new TypeError('a JsonText is raw JSON: serialise it with s3/daily-object.ts, not JSON.stringify');
  }
}
