/**
 * Reading a daily object (SPEC §4; the layout is in daily-object.ts): the one place that turns its bytes
 * into checked uploads, fetches and metadata. Everything goes through the streaming scanner
 * (daily-object-scanner.ts): the consumer feeds it chunk by chunk (consumer/s3-reader.ts, which adds its
 * cursors), a rewrite feeds it the whole object (`decodeDailyObject`), and both check the shape and the
 * totals with `DailyObjectReader`. Only the metadata at the end is read by the tail reader (daily-tail.ts).
 *
 * A fetch's payload is never parsed: `data` stays its exact text (records/json-text.ts), so numbers such
 * as 9007199254740993 or 1e400 and escapes such as \u00e9 reach a rewrite and a consumer as written.
 */
import { JsonText, checkJson, compactJson, memberRanges } from '../records/json-text.js';
import { DailyObjectScanner, DailyObjectShapeError, type DailyObjectEvent } from './daily-object-scanner.js';
import { checkTotals, type DailyMetadata, type DailyObject, type FetchEntry, type UploadEntry } from './daily-object.js';

/** An upload, fetch or metadata that is not in the SPEC §4 shape (the message names which one and why). */
export class DailyObjectContentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DailyObjectContentError';
  }
}

/** True for the errors that mean "not a daily object" (rather than a failed read). */
export function isDailyObjectProblem(error: unknown): error is DailyObjectShapeError | DailyObjectContentError {
  return error instanceof DailyObjectShapeError || error instanceof DailyObjectContentError;
}

/** One fetch entry: its small fields parsed, its payload as the exact bytes of `data` (undefined when absent). */
export interface ReadFetch {
  fetch_id: string;
  fetch_number: number;
  timestamp: string;
  records: number;
  /** Every field but `data`, parsed (also fields this version does not know, so a rewrite keeps them). */
  fields: Record<string, unknown>;
  data: Buffer | undefined;
}

export type ReadEvent =
  | { kind: 'fetch'; uploadIndex: number; fetchIndex: number; fetch: ReadFetch }
  /** `uploads[index]` is complete (its fetches came before); `end` is the offset just past its `}`. */
  | { kind: 'upload'; index: number; end: number; fields: Record<string, unknown> };

/** Defined, not assigned, so a member named "__proto__" stays data (as with JSON.parse). */
function put(target: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

/** Reads the fetch entry `raw` (the bytes of one `fetch_data[]` element); `where` names it in errors. */
export function readFetchEntry(raw: Buffer, where: string): ReadFetch {
  try {
    checkJson(raw);
  } catch {
    throw new DailyObjectContentError(`${where} is not valid JSON`);
  }
  if (raw[0] !== 0x7b) throw new DailyObjectContentError(`${where} is not a JSON object`);
  const fields: Record<string, unknown> = {};
  let data: Buffer | undefined;
  for (const { name, value } of memberRanges(raw, 0)) {
    if (name === 'data') data = raw.subarray(value[0], value[1]);
    else put(fields, name, JSON.parse(raw.toString('utf8', value[0], value[1])) as unknown);
  }
  const { fetch_id, fetch_number, timestamp, records } = fields;
  if (typeof fetch_id !== 'string' || fetch_id === '') throw new DailyObjectContentError(`${where}.fetch_id is missing`);
  if (typeof fetch_number !== 'number' || !Number.isInteger(fetch_number)) throw new DailyObjectContentError(`${where}.fetch_number is not a whole number`);
  if (typeof timestamp !== 'string') throw new DailyObjectContentError(`${where}.timestamp is not a string`);
  return { fetch_id, fetch_number, timestamp, records: typeof records === 'number' ? records : 0, fields, data };
}

/** Counts of what was read so far; where an incremental read starts. */
export interface ReadCounts {
  uploads: number;
  fetches: number;
  records: number;
}

/**
 * Checks scanner events against SPEC §4 as they come (uploads numbered 1, 2, 3 …, each with its
 * `records_in_upload`; every fetch with its id, number and timestamp) and counts them, so the metadata's
 * totals can be checked at the end. Throws DailyObjectContentError naming the first problem.
 */
export class DailyObjectReader {
  readonly counts: ReadCounts;
  private fields: Record<string, unknown> = {};
  private metadata: Buffer | undefined;

  constructor(
    private readonly date: string,
    start: ReadCounts = { uploads: 0, fetches: 0, records: 0 },
  ) {
    this.counts = { uploads: start.uploads, fetches: start.fetches, records: start.records };
  }

  accept(event: DailyObjectEvent): ReadEvent | undefined {
    switch (event.kind) {
      case 'upload-start':
        this.fields = {};
        return undefined;
      case 'upload-field': {
        let value: unknown;
        try {
          value = JSON.parse(event.raw.toString('utf8'));
        } catch {
          throw new DailyObjectContentError(`uploads[${event.index}].${event.key} is not valid JSON`);
        }
        if (event.key === 'upload_sequence' && value !== event.index + 1)
          throw new DailyObjectContentError(`uploads[${event.index}].upload_sequence is ${JSON.stringify(value)}, expected ${event.index + 1}`);
        if (event.key === 'records_in_upload' && (typeof value !== 'number' || !Number.isInteger(value) || value < 0))
          throw new DailyObjectContentError(`uploads[${event.index}].records_in_upload is ${JSON.stringify(value)}, not a count`);
        put(this.fields, event.key, value);
        return undefined;
      }
      case 'fetch': {
        const fetch = readFetchEntry(event.raw, `uploads[${event.uploadIndex}].fetch_data[${event.fetchIndex}]`);
        this.counts.fetches++;
        return { kind: 'fetch', uploadIndex: event.uploadIndex, fetchIndex: event.fetchIndex, fetch };
      }
      case 'upload-end': {
        if (this.fields['upload_sequence'] === undefined) throw new DailyObjectContentError(`uploads[${event.index}] has no upload_sequence`);
        if (this.fields['records_in_upload'] === undefined) throw new DailyObjectContentError(`uploads[${event.index}] has no records_in_upload`);
        this.counts.uploads = event.index + 1;
        this.counts.records += this.fields['records_in_upload'] as number;
        return { kind: 'upload', index: event.index, end: event.end, fields: this.fields };
      }
      case 'metadata':
        this.metadata = event.raw;
        return undefined;
      case 'end':
        return undefined;
    }
  }

  /** The metadata read (after the end), checked against the counts; throws DailyObjectContentError. */
  checkedMetadata(): DailyMetadata {
    if (this.metadata === undefined) throw new DailyObjectContentError('"daily_metadata" is missing after the uploads');
    let meta: unknown;
    try {
      meta = JSON.parse(this.metadata.toString('utf8'));
    } catch {
      throw new DailyObjectContentError('"daily_metadata" is not valid JSON');
    }
    const problem = checkTotals(meta, this.date, this.counts);
    if (problem) throw new DailyObjectContentError(problem);
    return meta as DailyMetadata;
  }
}

/**
 * Reads a whole daily object: every fetch's `data` becomes a `JsonText` of its exact text (compact), every
 * other value is parsed (they are the writer's own small fields). Returns the object, or the first reason
 * it is not a valid daily object of `date`.
 */
export function decodeDailyObject(bytes: Buffer, date: string): { object: DailyObject } | { problem: string } {
  const scanner = new DailyObjectScanner();
  const reader = new DailyObjectReader(date);
  const uploads: UploadEntry[] = [];
  let fetches: FetchEntry[] = [];
  try {
    for (const event of [...scanner.push(bytes), ...scanner.end()]) {
      const read = reader.accept(event);
      if (read?.kind === 'fetch') {
        const { fields, data } = read.fetch;
        const entry = { ...fields } as unknown as FetchEntry;
        if (data !== undefined) put(entry as unknown as Record<string, unknown>, 'data', new JsonText(compactJson(data).toString('utf8')));
        fetches.push(entry);
      } else if (read?.kind === 'upload') {
        put(read.fields, 'fetch_data', fetches);
        uploads.push(read.fields as unknown as UploadEntry);
        fetches = [];
      }
    }
    return { object: { uploads, daily_metadata: reader.checkedMetadata() } };
  } catch (error) {
    if (isDailyObjectProblem(error)) return { problem: error.message };
    throw error;
  }
}
