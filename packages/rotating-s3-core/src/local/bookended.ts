/**
 * The local bookended format (SPEC §3). One block per fetch:
 *
 *   === FETCH START: <fetch_id> | <timestamp> | fetch_number=<n> ===
 *   <payload as JSON, possibly many lines>
 *   === FETCH END: <fetch_id> | <timestamp> | fetch_number=<n> | records=<k> ===
 *
 * Invariants:
 * - A block is valid only when its END line repeats the START line's id, timestamp and number.
 * - Marker lines cannot occur inside a payload: the payload is serialised JSON, whose lines never begin
 *   with `=` (string contents cannot hold a raw newline). So any marker-shaped line is a block boundary.
 * - Anything else (a block cut short by a crash, stray bytes) is a torn segment: readers skip and report
 *   it; the writer moves it to the quarantine file before its next append (see log-file.ts).
 *
 * `BlockScanner` parses incrementally from byte chunks and allocates nothing per line: every line is copied
 * once into one growable buffer that is reused for every block, and a block's payload is handed out as a
 * VIEW of that buffer, valid until the generator returned by `push` or `end` is resumed (copy what must
 * outlive that). Memory is bounded by the largest block, also on gigabyte files.
 */

/** What the START and END lines of a block say. */
export interface BlockMeta {
  fetchId: string;
  /** ISO-8601 with the stage zone's offset, e.g. `2026-11-28T14:03:11.512-05:00`. */
  timestamp: string;
  fetchNumber: number;
  records: number;
}

/** A complete, valid block with its byte range in the file. */
export interface ScannedBlock extends BlockMeta {
  /** Byte offset of the START line. */
  start: number;
  /** Byte offset just past the END line's newline. */
  end: number;
  /** The payload's JSON bytes (without the trailing newline): a view, overwritten once the scanner goes on. */
  payload: Buffer;
}

/** Bytes that are not part of any valid block, with the reason. */
export interface TornSegment {
  start: number;
  end: number;
  reason: string;
}

export type ScanEvent = { kind: 'block'; block: ScannedBlock } | { kind: 'torn'; segment: TornSegment };

const START_RE = /^=== FETCH START: (\S+) \| (\S+) \| fetch_number=(\d+) ===$/;
const END_RE = /^=== FETCH END: (\S+) \| (\S+) \| fetch_number=(\d+) \| records=(\d+) ===$/;
const MARKER_PREFIX = Buffer.from('=== FETCH ');
const NEWLINE = 0x0a;

export function formatStartLine(meta: Omit<BlockMeta, 'records'>): string {
  return `=== FETCH START: ${meta.fetchId} | ${meta.timestamp} | fetch_number=${meta.fetchNumber} ===`;
}

export function formatEndLine(meta: BlockMeta): string {
  return `=== FETCH END: ${meta.fetchId} | ${meta.timestamp} | fetch_number=${meta.fetchNumber} | records=${meta.records} ===`;
}

/** The whole block, ready for one append. `payloadJson` must be serialised JSON (see invariants). */
export function formatBlock(meta: BlockMeta, payloadJson: string): string {
  return `${formatStartLine(meta)}\n${payloadJson}\n${formatEndLine(meta)}\n`;
}

interface OpenBlock {
  start: number;
  fetchId: string;
  timestamp: string;
  fetchNumber: number;
}

export class BlockScanner {
  /** The open block's payload lines (each followed by `\n`), then the line being read. */
  private buffer = Buffer.allocUnsafe(1 << 16);
  private length = 0;
  /** Where the line being read starts in `buffer`, and in the input. */
  private lineAt = 0;
  private lineOffset: number;
  private offset: number;
  private open: OpenBlock | undefined;
  private stray: TornSegment | undefined;

  constructor(baseOffset = 0) {
    this.offset = baseOffset;
    this.lineOffset = baseOffset;
  }

  /**
   * Scans `chunk` and yields the events completed in it, in order. Consume each event before asking for the
   * next (a block's payload view is reused). `chunk` may be reused by the caller once the generator is done.
   */
  *push(chunk: Buffer): Generator<ScanEvent> {
    let i = 0;
    const events: ScanEvent[] = [];
    while (i < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, i);
      const stop = nl === -1 ? chunk.length : nl;
      this.append(chunk, i, stop);
      if (nl === -1) break;
      this.onLine(this.offset + nl + 1, events);
      i = nl + 1;
      if (events.length > 0) {
        yield* events;
        events.length = 0;
        // The block's payload view was consumed: the buffer may be reused.
        if (this.open === undefined) this.reset();
      }
    }
    this.offset += chunk.length;
  }

  /** Flushes the end of input: an unfinished block or a final line without newline is torn. */
  *end(): Generator<ScanEvent> {
    const events: ScanEvent[] = [];
    const eof = this.offset;
    if (this.open) {
      this.flushStray(events);
      events.push({ kind: 'torn', segment: { start: this.open.start, end: eof, reason: `block of fetch ${this.open.fetchId} has no END line (cut short)` } });
      this.open = undefined;
    } else if (this.length > this.lineAt) {
      this.addStray(this.lineOffset, eof, 'incomplete line at end of file');
    }
    this.flushStray(events);
    this.length = 0;
    this.lineAt = 0;
    this.lineOffset = eof;
    yield* events;
  }

  /** The line in `buffer[lineAt, length)` is complete; `end` is the input offset just past its newline. */
  private onLine(end: number, events: ScanEvent[]): void {
    const start = this.lineOffset;
    const lineLength = this.length - this.lineAt;
    const isMarker =
      lineLength >= MARKER_PREFIX.length && this.buffer.compare(MARKER_PREFIX, 0, MARKER_PREFIX.length, this.lineAt, this.lineAt + MARKER_PREFIX.length) === 0;
    const text = isMarker ? this.buffer.toString('utf8', this.lineAt, this.length) : undefined;
    const startMatch = text === undefined ? null : START_RE.exec(text);
    const endMatch = startMatch || text === undefined ? null : END_RE.exec(text);
    this.lineOffset = end;

    if (startMatch) {
      this.flushStray(events);
      if (this.open) {
        events.push({
          kind: 'torn',
          segment: { start: this.open.start, end: start, reason: `block of fetch ${this.open.fetchId} has no END line before the next START` },
        });
      }
      this.open = { start, fetchId: startMatch[1]!, timestamp: startMatch[2]!, fetchNumber: Number(startMatch[3]) };
      this.reset();
      return;
    }
    if (this.open) {
      if (endMatch) {
        const block = this.open;
        this.open = undefined;
        if (endMatch[1] === block.fetchId && endMatch[2] === block.timestamp && Number(endMatch[3]) === block.fetchNumber) {
          // The payload is every line before this one, minus the newline after the last. The buffer is
          // reset only after the caller consumed the event (see push).
          const payload = this.buffer.subarray(0, Math.max(0, this.lineAt - 1));
          events.push({
            kind: 'block',
            block: {
              fetchId: block.fetchId,
              timestamp: block.timestamp,
              fetchNumber: block.fetchNumber,
              records: Number(endMatch[4]),
              start: block.start,
              end,
              payload,
            },
          });
          this.lineAt = this.length;
          return;
        }
        events.push({ kind: 'torn', segment: { start: block.start, end, reason: `END line does not match START of fetch ${block.fetchId}` } });
        this.reset();
        return;
      }
      // A payload line: keep it, with its newline, and start the next line after it.
      this.appendByte(NEWLINE);
      this.lineAt = this.length;
      return;
    }
    if (lineLength > 0) this.addStray(start, end, endMatch ? 'END line without a START line' : 'text outside any block');
    this.reset();
  }

  private reset(): void {
    this.length = 0;
    this.lineAt = 0;
  }

  private append(source: Buffer, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    this.reserve(n);
    source.copy(this.buffer, this.length, from, to);
    this.length += n;
  }

  private appendByte(byte: number): void {
    this.reserve(1);
    this.buffer[this.length++] = byte;
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < this.length + n) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity);
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  private addStray(start: number, end: number, reason: string): void {
    if (this.stray && this.stray.end === start) this.stray.end = end;
    else this.stray = { start, end, reason };
  }

  private flushStray(events: ScanEvent[]): void {
    if (!this.stray) return;
    events.push({ kind: 'torn', segment: this.stray });
    this.stray = undefined;
  }
}
