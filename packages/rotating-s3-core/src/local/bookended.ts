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
 * `BlockScanner` parses incrementally from byte chunks, so memory is bounded by the largest block.
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
  /** The payload's JSON text (without the trailing newline). */
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
  lines: Buffer[];
}

/**
 * Incremental parser. Feed chunks in file order with `push`, then call `end`; events come back in order.
 * `baseOffset` is the file offset of the first byte fed (scanning can start mid-file at a block boundary).
 */
export class BlockScanner {
  private carry: Buffer = Buffer.alloc(0);
  private offset: number;
  private open: OpenBlock | undefined;
  private stray: TornSegment | undefined;

  constructor(baseOffset = 0) {
    this.offset = baseOffset;
  }

  /** Parses every complete line in `chunk` (plus what was carried over) and returns the events found. */
  push(chunk: Buffer): ScanEvent[] {
    const events: ScanEvent[] = [];
    const data = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    let lineStart = 0;
    for (let nl = data.indexOf(NEWLINE); nl !== -1; nl = data.indexOf(NEWLINE, lineStart)) {
      this.onLine(data.subarray(lineStart, nl), this.offset + lineStart, this.offset + nl + 1, events);
      lineStart = nl + 1;
    }
    this.offset += lineStart;
    this.carry = Buffer.from(data.subarray(lineStart));
    return events;
  }

  /** Flushes the end of input: an unfinished block or a final line without newline is torn. */
  end(): ScanEvent[] {
    const events: ScanEvent[] = [];
    const eof = this.offset + this.carry.length;
    if (this.open) {
      events.push(...this.flushStray());
      events.push({ kind: 'torn', segment: { start: this.open.start, end: eof, reason: `block of fetch ${this.open.fetchId} has no END line (cut short)` } });
      this.open = undefined;
    } else if (this.carry.length > 0) {
      this.addStray(this.offset, eof, 'incomplete line at end of file');
    }
    events.push(...this.flushStray());
    this.carry = Buffer.alloc(0);
    this.offset = eof;
    return events;
  }

  private onLine(line: Buffer, start: number, end: number, events: ScanEvent[]): void {
    const text = line.subarray(0, MARKER_PREFIX.length).equals(MARKER_PREFIX) ? line.toString('utf8') : undefined;
    const startMatch = text === undefined ? null : START_RE.exec(text);
    if (startMatch) {
      events.push(...this.flushStray());
      if (this.open) {
        events.push({ kind: 'torn', segment: { start: this.open.start, end: start, reason: `block of fetch ${this.open.fetchId} has no END line before the next START` } });
      }
      this.open = { start, fetchId: startMatch[1]!, timestamp: startMatch[2]!, fetchNumber: Number(startMatch[3]), lines: [] };
      return;
    }
    const endMatch = text === undefined ? null : END_RE.exec(text);
    if (this.open) {
      if (endMatch) {
        const block = this.open;
        this.open = undefined;
        if (endMatch[1] === block.fetchId && endMatch[2] === block.timestamp && Number(endMatch[3]) === block.fetchNumber) {
          const payload = Buffer.concat(block.lines.flatMap((l, i) => (i === 0 ? [l] : [Buffer.from('\n'), l])));
          events.push({
            kind: 'block',
            block: { fetchId: block.fetchId, timestamp: block.timestamp, fetchNumber: block.fetchNumber, records: Number(endMatch[4]), start: block.start, end, payload },
          });
        } else {
          events.push({ kind: 'torn', segment: { start: block.start, end, reason: `END line does not match START of fetch ${block.fetchId}` } });
        }
        return;
      }
      this.open.lines.push(Buffer.from(line));
      return;
    }
    if (line.length === 0) return; // blank lines between blocks are harmless
    this.addStray(start, end, endMatch ? 'END line without a START line' : 'text outside any block');
  }

  private addStray(start: number, end: number, reason: string): void {
    if (this.stray && this.stray.end === start) this.stray.end = end;
    else this.stray = { start, end, reason };
  }

  private flushStray(): ScanEvent[] {
    if (!this.stray) return [];
    const segment = this.stray;
    this.stray = undefined;
    return [{ kind: 'torn', segment }];
  }
}
