/**
 * One JSON value (or a member name) read across chunk boundaries, for the streaming daily-object scanner
 * (daily-object-scanner.ts): it finds where the value ends and, when asked, keeps its bytes. It does not
 * validate (the scanner's structure checks and the consumer's per-fetch `checkJson` do); it only has to
 * find the end of a string, of a nested object or array, or of a number or literal, whatever chunk the
 * end falls in. Nothing recurses: nesting is a depth counter.
 */
import { CLOSE_ARRAY, CLOSE_OBJECT, COLON, COMMA, OPEN_ARRAY, OPEN_OBJECT, QUOTE, BACKSLASH, SPACE } from '../records/json-tokens.js';

/** `backslashAt` when the rest of the chunk holds no backslash. */
const NONE_LEFT = -2;

/** Why a span could not be read: a separator where a value must start, or more bytes kept than allowed. */
export type SpanProblem = 'not-a-value' | 'too-large';

export class JsonSpan {
  private parts: Buffer[] = [];
  private length = 0;
  /** Where, in the current chunk, the unkept bytes of the span begin (0 for the chunks after its first). */
  private resume = 0;
  private keep = false;
  private limit = Number.POSITIVE_INFINITY;
  private depth = 0;
  private inString = false;
  private escapePending = false;
  private scalar = false;
  /** Position of the next backslash in the current chunk (a cache; see `stringEnd`). */
  private backslashAt = -1;

  /** `fail` throws the caller's error for a problem at index `at` of the current chunk. */
  constructor(private readonly fail: (problem: SpanProblem, at: number) => never) {}

  /** A new chunk begins: positions cached in the previous one no longer apply. */
  nextChunk(): void {
    this.backslashAt = -1;
  }

  /** Starts a value (or a member name, at its opening quote) at index `i`; `keep` collects its bytes, at most `limit`. */
  start(i: number, keep: boolean, limit = Number.POSITIVE_INFINITY): void {
    this.parts = [];
    this.length = 0;
    this.resume = i;
    this.keep = keep;
    this.limit = limit;
    this.depth = 0;
    this.inString = false;
    this.escapePending = false;
    this.scalar = false;
  }

  /**
   * Reads on from index `i`: returns the index just past the value's end in `chunk`, or -1 when the value
   * continues in the next chunk (the bytes read so far are kept, when keeping).
   */
  advance(chunk: Buffer, i: number): number {
    const n = chunk.length;
    while (i < n) {
      if (this.inString) {
        const end = this.stringEnd(chunk, i);
        if (end === -1) break;
        this.inString = false;
        i = end;
        if (this.depth === 0) return this.finish(chunk, i);
        continue;
      }
      const b = chunk[i]!;
      if (this.scalar) {
        if (b === COMMA || b === CLOSE_OBJECT || b === CLOSE_ARRAY || SPACE[b] === 1) return this.finish(chunk, i);
        i++;
        continue;
      }
      if (b === QUOTE) {
        this.inString = true;
        i++;
        continue;
      }
      if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
        this.depth++;
        i++;
        continue;
      }
      if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
        if (this.depth === 0) this.fail('not-a-value', i);
        this.depth--;
        i++;
        if (this.depth === 0) return this.finish(chunk, i);
        continue;
      }
      if (this.depth === 0) {
        if (b === COMMA || b === COLON) this.fail('not-a-value', i);
        this.scalar = true;
      }
      i++;
    }
    this.keepPart(chunk, this.resume, n);
    this.resume = 0;
    return -1;
  }

  /** The bytes of the value just ended (when keeping). */
  take(): Buffer {
    const bytes = Buffer.concat(this.parts, this.length);
    this.parts = [];
    return bytes;
  }

  private finish(chunk: Buffer, end: number): number {
    this.keepPart(chunk, this.resume, end);
    return end;
  }

  private keepPart(chunk: Buffer, from: number, to: number): void {
    if (!this.keep || to <= from) return;
    // Copy: a stream may reuse its chunk buffers, and a small slice must not pin a large chunk.
    this.parts.push(Buffer.from(chunk.subarray(from, to)));
    this.length += to - from;
    if (this.length > this.limit) this.fail('too-large', to);
  }

  /**
   * Finds the end of the string whose body continues at `i` (after its opening quote): the index just
   * past the closing quote, or -1 when the string runs past the end of the chunk.
   */
  private stringEnd(chunk: Buffer, i: number): number {
    const n = chunk.length;
    if (this.escapePending) {
      // The previous chunk ended with a backslash: this chunk's first byte is the escaped character.
      this.escapePending = false;
      i++;
    }
    while (i < n) {
      const quote = chunk.indexOf(QUOTE, i);
      // Backslashes are rare: find the next one once per chunk region instead of once per string.
      if (this.backslashAt !== NONE_LEFT && this.backslashAt < i) {
        const found = chunk.indexOf(BACKSLASH, i);
        this.backslashAt = found === -1 ? NONE_LEFT : found;
      }
      const slash = this.backslashAt;
      if (slash !== NONE_LEFT && (quote === -1 || slash < quote)) {
        if (slash + 1 >= n) {
          this.escapePending = true;
          return -1;
        }
        i = slash + 2;
        continue;
      }
      return quote === -1 ? -1 : quote + 1;
    }
    return -1;
  }
}
