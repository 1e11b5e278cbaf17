/**
 * Streaming reader of a daily object (SPEC §4) for consumers: it never parses the whole object. Bytes go in
 * chunk by chunk (`push`, then `end`); out come one event per fetch of `uploads[i].fetch_data`, the other
 * fields of each upload, the byte offset where each upload ends, and `daily_metadata`. Memory is bounded
 * by the largest single fetch (plus the small upload fields and the metadata), whatever the object's size.
 *
 * The scanner is a structural JSON tokenizer, so any key order and any whitespace is read; the layout the
 * writer uses (one upload per line, metadata last, see s3/daily-object.ts) is merely the one that makes
 * incremental reads possible: `resumeAfterUpload(offset, n)` starts mid-object, just past the `}` of the
 * n-th upload, where the next byte is `,` (more uploads follow) or `]` (end of uploads).
 *
 * Anything that is not a JSON object with an `uploads` array of objects throws a `DailyObjectShapeError`
 * naming the byte offset; what was emitted before it stays valid. Where a key or value ends is found by
 * json-span.ts, across chunk boundaries.
 */
import { QUOTE, SPACE } from '../records/json-tokens.js';
import { JsonSpan } from './json-span.js';

export type DailyObjectEvent =
  | { kind: 'upload-start'; index: number; start: number }
  /** A field of `uploads[index]` other than `fetch_data` (small scalars: sequence, id, counts). */
  | { kind: 'upload-field'; index: number; key: string; raw: Buffer }
  /** One element of `uploads[uploadIndex].fetch_data`, as raw JSON bytes at [start, end). */
  | { kind: 'fetch'; uploadIndex: number; fetchIndex: number; raw: Buffer; start: number; end: number }
  /** `uploads[index]` is complete; `end` is the offset just past its closing `}`. */
  | { kind: 'upload-end'; index: number; end: number }
  | { kind: 'metadata'; raw: Buffer }
  /** The root object closed. */
  | { kind: 'end'; end: number };

export class DailyObjectShapeError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset}`);
    this.name = 'DailyObjectShapeError';
  }
}

/** Largest upload field accepted (they are scalars; this stops a runaway capture). */
const MAX_SMALL_VALUE = 1 << 20;
/** Largest `daily_metadata` accepted: it lists every upload id of the day (~23 bytes per upload). */
const MAX_METADATA = 64 << 20;

const enum Role {
  Root,
  Uploads,
  Upload,
  FetchData,
}

const enum Expect {
  /** Object: after `{`, a key or `}`. Array: after `[`, a value or `]`. */
  FirstOrClose,
  /** After `,` in an object: a key. In an array: a value. */
  Next,
  Colon,
  Value,
  CommaOrClose,
}

interface Frame {
  role: Role;
  isArray: boolean;
  expect: Expect;
  key: string | undefined;
  /** Elements completed so far (arrays). */
  count: number;
}

/** What happens to the value being read by `readValue`. */
const enum Sink {
  Skip,
  Fetch,
  UploadField,
  Metadata,
}

const enum Mode {
  /** Between tokens of the frames on the stack. */
  Struct,
  /** Inside a key string. */
  Key,
  /** Inside a value that is skipped or captured (see `sink`). */
  Value,
  /** The root closed: only whitespace may follow. */
  Done,
}

function isSpace(b: number): boolean {
  return SPACE[b] === 1;
}

export class DailyObjectScanner {
  private stack: Frame[] = [];
  private mode: Mode = Mode.Struct;
  private offset: number;
  private seenRoot = false;

  // The key or value being read (`mode` says which) and, for a value, what happens to it.
  private readonly span = new JsonSpan((problem, i) => {
    throw new DailyObjectShapeError(problem === 'not-a-value' ? `expected a value in ${this.where()}` : this.tooLarge(), this.offset + i);
  });
  private sink: Sink = Sink.Skip;
  private sinkKey = '';
  private valueStart = 0;

  /** Starts reading at the first byte of the object. */
  constructor() {
    this.offset = 0;
  }

  /**
   * A scanner positioned just past the closing `}` of the `completedUploads`-th upload, at byte `offset`
   * (the state an earlier full or incremental read ended an upload in).
   */
  static resumeAfterUpload(offset: number, completedUploads: number): DailyObjectScanner {
    const scanner = new DailyObjectScanner();
    scanner.offset = offset;
    scanner.seenRoot = true;
    scanner.stack = [
      { role: Role.Root, isArray: false, expect: Expect.Value, key: 'uploads', count: 0 },
      { role: Role.Uploads, isArray: true, expect: Expect.CommaOrClose, key: undefined, count: completedUploads },
    ];
    return scanner;
  }

  /** Scans one chunk; returns the events completed in it, in order. */
  push(chunk: Buffer): DailyObjectEvent[] {
    const events: DailyObjectEvent[] = [];
    this.span.nextChunk();
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.mode) {
        case Mode.Struct:
          i = this.struct(chunk, i, events);
          break;
        case Mode.Key:
          i = this.key(chunk, i);
          break;
        case Mode.Value:
          i = this.value(chunk, i, events);
          break;
        case Mode.Done:
          for (; i < n; i++) {
            if (!isSpace(chunk[i]!)) throw new DailyObjectShapeError('unexpected bytes after the end of the object', this.offset + i);
          }
          break;
      }
    }
    this.offset += n;
    return events;
  }

  /** Ends the input: throws when the object is cut short. */
  end(): DailyObjectEvent[] {
    if (this.mode !== Mode.Done) {
      throw new DailyObjectShapeError(this.seenRoot ? 'the object is cut short (truncated JSON)' : 'the object is empty', this.offset);
    }
    return [];
  }

  private struct(chunk: Buffer, i: number, events: DailyObjectEvent[]): number {
    const b = chunk[i]!;
    if (isSpace(b)) return i + 1;
    const at = this.offset + i;
    const frame = this.stack.at(-1);
    if (!frame) {
      if (this.seenRoot) throw new DailyObjectShapeError('unexpected bytes after the end of the object', at);
      if (b !== 0x7b) throw new DailyObjectShapeError('the daily object is not a JSON object', at);
      this.seenRoot = true;
      this.stack.push({ role: Role.Root, isArray: false, expect: Expect.FirstOrClose, key: undefined, count: 0 });
      return i + 1;
    }
    if (frame.isArray) {
      if (frame.expect === Expect.CommaOrClose) {
        if (b === 0x2c) {
          frame.expect = Expect.Next;
          return i + 1;
        }
        if (b === 0x5d) return this.close(i, events);
        throw new DailyObjectShapeError(`expected "," or "]" in ${this.where()}`, at);
      }
      if (b === 0x5d && frame.expect === Expect.FirstOrClose) return this.close(i, events);
      return this.startValue(chunk, i, frame, events);
    }
    switch (frame.expect) {
      case Expect.FirstOrClose:
      case Expect.Next:
        if (b === 0x7d && frame.expect === Expect.FirstOrClose) return this.close(i, events);
        if (b !== QUOTE) throw new DailyObjectShapeError(`expected a key in ${this.where()}`, at);
        this.mode = Mode.Key;
        this.span.start(i, true, MAX_SMALL_VALUE); // the key's raw bytes keep their quotes, for JSON.parse
        return this.key(chunk, i);
      case Expect.Colon:
        if (b !== 0x3a) throw new DailyObjectShapeError(`expected ":" after key ${JSON.stringify(frame.key)} in ${this.where()}`, at);
        frame.expect = Expect.Value;
        return i + 1;
      case Expect.Value:
        return this.startValue(chunk, i, frame, events);
      case Expect.CommaOrClose:
        if (b === 0x2c) {
          frame.expect = Expect.Next;
          return i + 1;
        }
        if (b === 0x7d) return this.close(i, events);
        throw new DailyObjectShapeError(`expected "," or "}" in ${this.where()}`, at);
    }
  }

  /** Decides, from the frame and key, whether the value starting at `i` is descended into, captured or skipped. */
  private startValue(chunk: Buffer, i: number, frame: Frame, events: DailyObjectEvent[]): number {
    const b = chunk[i]!;
    const at = this.offset + i;
    if (frame.role === Role.Root && frame.key === 'uploads') {
      if (b !== 0x5b) throw new DailyObjectShapeError('"uploads" is not an array', at);
      this.stack.push({ role: Role.Uploads, isArray: true, expect: Expect.FirstOrClose, key: undefined, count: 0 });
      return i + 1;
    }
    if (frame.role === Role.Uploads) {
      if (b !== 0x7b) throw new DailyObjectShapeError(`uploads[${frame.count}] is not a JSON object`, at);
      events.push({ kind: 'upload-start', index: frame.count, start: at });
      this.stack.push({ role: Role.Upload, isArray: false, expect: Expect.FirstOrClose, key: undefined, count: 0 });
      return i + 1;
    }
    if (frame.role === Role.Upload && frame.key === 'fetch_data') {
      if (b !== 0x5b) throw new DailyObjectShapeError(`uploads[${this.uploadIndex()}].fetch_data is not an array`, at);
      this.stack.push({ role: Role.FetchData, isArray: true, expect: Expect.FirstOrClose, key: undefined, count: 0 });
      return i + 1;
    }
    if (frame.role === Role.FetchData) this.sink = Sink.Fetch;
    else if (frame.role === Role.Upload) this.sink = Sink.UploadField;
    else if (frame.key === 'daily_metadata') this.sink = Sink.Metadata;
    else this.sink = Sink.Skip;
    this.sinkKey = frame.key ?? '';
    this.mode = Mode.Value;
    this.valueStart = at;
    const limit = this.sink === Sink.Metadata ? MAX_METADATA : this.sink === Sink.UploadField ? MAX_SMALL_VALUE : Number.POSITIVE_INFINITY;
    this.span.start(i, this.sink !== Sink.Skip, limit);
    return this.value(chunk, i, events);
  }

  /** Closes the innermost frame at byte `i` (its `}` or `]`). */
  private close(i: number, events: DailyObjectEvent[]): number {
    const frame = this.stack.pop()!;
    const at = this.offset + i;
    if (frame.role === Role.Upload) events.push({ kind: 'upload-end', index: this.stack.at(-1)!.count, end: at + 1 });
    if (frame.role === Role.Root) {
      this.mode = Mode.Done;
      events.push({ kind: 'end', end: at + 1 });
      return i + 1;
    }
    this.completeValue();
    return i + 1;
  }

  /** The value in the current top frame is complete. */
  private completeValue(): void {
    const parent = this.stack.at(-1)!;
    parent.expect = Expect.CommaOrClose;
    if (parent.isArray) parent.count++;
  }

  private key(chunk: Buffer, i: number): number {
    const end = this.span.advance(chunk, i);
    if (end === -1) return chunk.length;
    const raw = this.span.take();
    const frame = this.stack.at(-1)!;
    try {
      frame.key = JSON.parse(raw.toString('utf8')) as string;
    } catch {
      throw new DailyObjectShapeError(`unreadable key in ${this.where()}`, this.offset + i);
    }
    frame.expect = Expect.Colon;
    this.mode = Mode.Struct;
    return end;
  }

  /** Reads (skips or captures) the value that continues at `i`; returns where scanning goes on. */
  private value(chunk: Buffer, i: number, events: DailyObjectEvent[]): number {
    const end = this.span.advance(chunk, i);
    return end === -1 ? chunk.length : this.finishValue(end, events);
  }

  /** The value ended just before `end` (exclusive) in this chunk. */
  private finishValue(end: number, events: DailyObjectEvent[]): number {
    this.mode = Mode.Struct;
    if (this.sink !== Sink.Skip) {
      const raw = this.span.take();
      const endOffset = this.offset + end;
      const parent = this.stack.at(-1)!;
      if (this.sink === Sink.Fetch) {
        events.push({ kind: 'fetch', uploadIndex: this.uploadIndex(), fetchIndex: parent.count, raw, start: this.valueStart, end: endOffset });
      } else if (this.sink === Sink.UploadField) {
        events.push({ kind: 'upload-field', index: this.uploadIndex(), key: this.sinkKey, raw });
      } else {
        events.push({ kind: 'metadata', raw });
      }
    }
    this.completeValue();
    return end;
  }

  /** What was too large: the key or value being read. */
  private tooLarge(): string {
    if (this.mode === Mode.Key) return `a key longer than ${MAX_SMALL_VALUE} bytes in ${this.where()}`;
    return this.sink === Sink.Metadata
      ? `"daily_metadata" is larger than ${MAX_METADATA} bytes`
      : `upload field ${JSON.stringify(this.sinkKey)} is larger than ${MAX_SMALL_VALUE} bytes`;
  }

  private uploadIndex(): number {
    for (let d = this.stack.length - 1; d >= 0; d--) {
      if (this.stack[d]!.role === Role.Uploads) return this.stack[d]!.count;
    }
    return -1;
  }

  private where(): string {
    const frame = this.stack.at(-1);
    switch (frame?.role) {
      case Role.Root:
        return 'the daily object';
      case Role.Uploads:
        return '"uploads"';
      case Role.Upload:
        return `uploads[${this.uploadIndex()}]`;
      case Role.FetchData:
        return `uploads[${this.uploadIndex()}].fetch_data`;
      default:
        return 'the daily object';
    }
  }
}
