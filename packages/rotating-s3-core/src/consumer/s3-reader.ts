/**
 * Reads the fetches of one daily object that come after a consumer's cursor, streaming (memory bounded by
 * the largest fetch, see s3/daily-object-scanner.ts). A run's cost grows with the NEW data:
 *
 * - unchanged object: `GET` with `If-None-Match: <etag>` → 304, no body;
 * - grown object: `GET Range: bytes=<offset - tail>-` → the last `tail_length` bytes before the cursor are
 *   compared with their remembered sha256, then the scanner resumes just past the last upload read. The
 *   writer only ever appends uploads before `]`, leaving every earlier byte as it was (s3/daily-object.ts).
 * - The incremental read is accepted only when the tail proves it: the remembered bytes match, the uploads
 *   continue the sequence, and the `daily_metadata` after them has totals equal to the cursor's counts plus
 *   the new uploads. Otherwise (rewritten, shrunk or re-laid-out object) the object is read in full; fetch
 *   ids already processed are skipped by the consumer, so nothing is delivered twice.
 * - An object that is not in the SPEC §4 shape is reported with its key; the fetches before the problem are
 *   delivered, the cursor keeps a `problem` mark so the next run reads it in full again (and reports again
 *   until it is fixed), and the other objects are read as usual.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { dailyObjectKey } from '../s3/daily-object.js';
import { httpStatusOf, isNotFound, toS3Error } from '../s3/errors.js';
import { DailyObjectScanner } from '../s3/daily-object-scanner.js';
import { DailyObjectReader, isDailyObjectProblem } from '../s3/daily-object-read.js';
import type { ObjectCursor } from './state.js';

/** Bytes before the cursor re-read and compared on an incremental read. */
export const CURSOR_TAIL_BYTES = 256;

/** One fetch of a daily object (SPEC §4 `fetch_data[]` entry). */
export interface S3Fetch {
  fetchId: string;
  fetchNumber: number;
  timestamp: string;
  records: number;
  /** The payload's exact JSON text (a view of the fetch's bytes); undefined when the entry has no `data`. */
  data: Buffer | undefined;
  uploadSequence: number;
}

export type ObjectReadEvent =
  | { kind: 'fetch'; fetch: S3Fetch }
  /** Every fetch of one more upload was yielded (and handled): the cursor now stands past it. */
  | { kind: 'cursor'; cursor: ObjectCursor }
  | { kind: 'reread'; reason: string };

export interface ObjectReadOutcome {
  status: 'unchanged' | 'incremental' | 'full' | 'missing';
  bytes: number;
  /** The cursor to remember (undefined when the object does not exist). */
  cursor: ObjectCursor | undefined;
  /** Why the object is not in the SPEC §4 shape, when it is not. */
  problem?: string;
}

export interface ReadObjectInput {
  client: S3Client;
  bucket: string;
  key: string;
  date: string;
  cursor: ObjectCursor | undefined;
}

/** The incremental read is not proven: read the object in full. */
class FallBack extends Error {}

/** A daily object as listed: its date and the ETag of its current version. */
export interface ListedDailyObject {
  date: string;
  etag: string;
}

/**
 * The stage's daily objects in the bucket, ascending by date; with `fromDate`, only those of that date or
 * later (the listing starts after the key of the day before: keys sort by date).
 */
export async function listDailyObjects(client: S3Client, bucket: string, prefix: string, stage: string, fromDate?: string): Promise<ListedDailyObject[]> {
  const keyPrefix = dailyObjectKey(prefix, stage, '').replace(/\.json$/, '');
  const startAfter = fromDate === undefined ? undefined : `${keyPrefix}${fromDate}`;
  const objects: ListedDailyObject[] = [];
  let token: string | undefined;
  do {
    let page;
    try {
      page = await client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: keyPrefix,
          ...(token ? { ContinuationToken: token } : startAfter ? { StartAfter: startAfter } : {}),
        }),
      );
    } catch (error) {
      throw toS3Error(error, 'ListObjectsV2', bucket, keyPrefix);
    }
    for (const object of page.Contents ?? []) {
      const date = object.Key?.slice(keyPrefix.length, -'.json'.length) ?? '';
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || object.Key !== dailyObjectKey(prefix, stage, date)) continue;
      if (fromDate === undefined || date >= fromDate) objects.push({ date, etag: object.ETag ?? '' });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

/** Yields the fetches after the cursor; returns how the object was read and the new cursor. */
export async function* readDailyObjectFetches(input: ReadObjectInput): AsyncGenerator<ObjectReadEvent, ObjectReadOutcome> {
  const { cursor } = input;
  let bytes = 0;
  if (cursor && cursor.problem === undefined && cursor.uploads > 0) {
    const tail = yield* readTail(input, cursor);
    if (tail.kind === 'done') return tail.outcome;
    bytes += tail.bytes;
    yield { kind: 'reread', reason: tail.reason };
  }
  const full = yield* readFull(input);
  full.bytes += bytes;
  return full;
}

type TailResult = { kind: 'done'; outcome: ObjectReadOutcome } | { kind: 'fallback'; reason: string; bytes: number };

async function* readTail(input: ReadObjectInput, cursor: ObjectCursor): AsyncGenerator<ObjectReadEvent, TailResult> {
  const rangeStart = cursor.offset - cursor.tail_length;
  let body: Readable;
  let etag: string;
  try {
    const response = await input.client.send(
      new GetObjectCommand({ Bucket: input.bucket, Key: input.key, Range: `bytes=${rangeStart}-`, IfNoneMatch: cursor.etag }),
    );
    if (response.$metadata.httpStatusCode !== 206) {
      (response.Body as Readable | undefined)?.destroy();
      return { kind: 'fallback', reason: `the server ignored the byte range (HTTP ${response.$metadata.httpStatusCode})`, bytes: 0 };
    }
    body = response.Body as Readable;
    etag = response.ETag ?? '';
  } catch (error) {
    const status = httpStatusOf(error);
    if (status === 304) return { kind: 'done', outcome: { status: 'unchanged', bytes: 0, cursor } };
    if (status === 416) return { kind: 'fallback', reason: `the object is now shorter than byte ${cursor.offset} read before`, bytes: 0 };
    if (isNotFound(error)) return { kind: 'done', outcome: { status: 'missing', bytes: 0, cursor: undefined } };
    throw toS3Error(error, 'GetObject', input.bucket, input.key);
  }

  const reader = new ObjectEventReader(input.date, etag, cursor, DailyObjectScanner.resumeAfterUpload(cursor.offset, cursor.uploads));
  let bytes = 0;
  let prefix: Buffer[] = [];
  let prefixLength = 0;
  try {
    for await (const raw of body) {
      let chunk = raw as Buffer;
      bytes += chunk.length;
      if (prefixLength < cursor.tail_length) {
        // The first `tail_length` bytes must be the ones remembered before the cursor.
        const take = Math.min(cursor.tail_length - prefixLength, chunk.length);
        prefix.push(chunk.subarray(0, take));
        prefixLength += take;
        chunk = chunk.subarray(take);
        if (prefixLength < cursor.tail_length) continue;
        const seen = Buffer.concat(prefix);
        if (sha256(seen) !== cursor.tail_sha256) throw new FallBack(`the bytes before offset ${cursor.offset} changed since the last read`);
        reader.seed(seen);
        prefix = [];
      }
      if (chunk.length > 0) yield* reader.push(chunk);
    }
    if (prefixLength < cursor.tail_length) throw new FallBack(`the object is now shorter than byte ${cursor.offset} read before`);
    yield* reader.end();
    const problem = reader.verifyTotals();
    if (problem) throw new FallBack(problem);
  } catch (error) {
    if (error instanceof FallBack || isDailyObjectProblem(error)) return { kind: 'fallback', reason: error.message, bytes };
    throw toS3Error(error, 'GetObject', input.bucket, input.key);
  } finally {
    // Also when the consumer stops early (its handler failed): release the connection.
    body.destroy();
  }
  return { kind: 'done', outcome: { status: 'incremental', bytes, cursor: reader.cursor } };
}

async function* readFull(input: ReadObjectInput): AsyncGenerator<ObjectReadEvent, ObjectReadOutcome> {
  let body: Readable;
  let etag: string;
  try {
    const response = await input.client.send(new GetObjectCommand({ Bucket: input.bucket, Key: input.key }));
    body = response.Body as Readable;
    etag = response.ETag ?? '';
  } catch (error) {
    if (isNotFound(error)) return { status: 'missing', bytes: 0, cursor: undefined };
    throw toS3Error(error, 'GetObject', input.bucket, input.key);
  }
  const reader = new ObjectEventReader(input.date, etag, undefined, new DailyObjectScanner());
  let bytes = 0;
  let problem: string | undefined;
  try {
    for await (const chunk of body) {
      bytes += (chunk as Buffer).length;
      yield* reader.push(chunk as Buffer);
    }
    yield* reader.end();
    problem = reader.verifyTotals();
  } catch (error) {
    if (!isDailyObjectProblem(error)) throw toS3Error(error, 'GetObject', input.bucket, input.key);
    problem = error.message;
  } finally {
    body.destroy();
  }
  const cursor = reader.cursor ?? emptyCursor(input.date, etag);
  const outcome: ObjectReadOutcome = { status: 'full', bytes, cursor: problem === undefined ? cursor : { ...cursor, problem } };
  if (problem !== undefined) outcome.problem = problem;
  return outcome;
}

function emptyCursor(date: string, etag: string): ObjectCursor {
  return { date, etag, offset: 0, uploads: 0, fetches: 0, records: 0, tail_sha256: sha256(Buffer.alloc(0)), tail_length: 0 };
}

/** Turns scanner events into fetches and cursors; the shape and totals are checked by s3/daily-object-read.ts. */
class ObjectEventReader {
  cursor: ObjectCursor | undefined;
  private readonly reader: DailyObjectReader;
  /** The last bytes before the current chunk, for the cursor's tail hash. */
  private recent: Buffer = Buffer.alloc(0);
  private chunkStart: number;

  constructor(
    private readonly date: string,
    private readonly etag: string,
    start: ObjectCursor | undefined,
    private readonly scanner: DailyObjectScanner,
  ) {
    this.cursor = start === undefined ? undefined : { ...start, etag };
    this.reader = new DailyObjectReader(date, start);
    this.chunkStart = start?.offset ?? 0;
  }

  /** The bytes just before the scanner's start (an incremental read's verified prefix). */
  seed(bytes: Buffer): void {
    this.recent = Buffer.from(bytes.subarray(-CURSOR_TAIL_BYTES));
  }

  *push(chunk: Buffer): Generator<ObjectReadEvent> {
    for (const event of this.scanner.push(chunk)) yield* this.onEvent(this.reader.accept(event), chunk);
    this.chunkStart += chunk.length;
    this.recent =
      chunk.length >= CURSOR_TAIL_BYTES ? Buffer.from(chunk.subarray(-CURSOR_TAIL_BYTES)) : Buffer.concat([this.recent, chunk]).subarray(-CURSOR_TAIL_BYTES);
  }

  *end(): Generator<ObjectReadEvent> {
    for (const event of this.scanner.end()) yield* this.onEvent(this.reader.accept(event), Buffer.alloc(0));
  }

  /** Checks `daily_metadata` against what was read; returns the problem, if any. */
  verifyTotals(): string | undefined {
    try {
      this.reader.checkedMetadata();
      return undefined;
    } catch (error) {
      if (isDailyObjectProblem(error)) return error.message;
      throw error;
    }
  }

  private *onEvent(event: ReturnType<DailyObjectReader['accept']>, chunk: Buffer): Generator<ObjectReadEvent> {
    if (event?.kind === 'fetch') {
      const { fetch_id, fetch_number, timestamp, records, data } = event.fetch;
      yield { kind: 'fetch', fetch: { fetchId: fetch_id, fetchNumber: fetch_number, timestamp, records, data, uploadSequence: event.uploadIndex + 1 } };
    } else if (event?.kind === 'upload') {
      const tail = this.tailBefore(event.end, chunk);
      const { uploads, fetches, records } = this.reader.counts;
      this.cursor = { date: this.date, etag: this.etag, offset: event.end, uploads, fetches, records, tail_sha256: sha256(tail), tail_length: tail.length };
      yield { kind: 'cursor', cursor: this.cursor };
    }
  }

  /** Up to CURSOR_TAIL_BYTES bytes ending at absolute offset `end`, which lies in `chunk`. */
  private tailBefore(end: number, chunk: Buffer): Buffer {
    const inChunk = end - this.chunkStart;
    const upTo = chunk.subarray(0, inChunk);
    if (upTo.length >= CURSOR_TAIL_BYTES) return Buffer.from(upTo.subarray(-CURSOR_TAIL_BYTES));
    return Buffer.concat([this.recent, upTo]).subarray(-CURSOR_TAIL_BYTES);
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
