/**
 * The S3 daily object `<prefix>/<stage>_json_log_<YYYY-MM-DD>.json` (SPEC §4).
 *
 * Layout (key order is not part of the contract; this one is chosen so appends only touch the tail):
 *
 *   {"uploads":[
 *   {"upload_sequence":1,...,"fetch_data":[...]},
 *   {"upload_sequence":2,...}
 *   ],
 *   "daily_metadata":{...}}
 *
 * Invariants, checked by `validateDailyObject` (JavaScript values) and daily-object-read.ts (bytes), and
 * kept by `applyUpload`:
 * - `daily_metadata` totals equal the sums over `uploads`;
 * - `upload_sequence` is 1, 2, 3 … with no gap or repeat;
 * - every `fetch_id` appears once; a fetch already present is never appended again, and an upload whose
 *   `upload_id` is listed in `daily_metadata.upload_ids` is not appended again: a retried upload (after a
 *   timeout that S3 did apply, or a crash before the local trim) is a no-op.
 * - `daily_metadata.fetch_id_digests` lists `fetchIdDigest(fetch_id)` of every fetch in upload order, so
 *   a server-side append can tell from the tail alone that a fetch may already be present (the same
 *   fetch id logged on two hosts); a digest match is then settled exactly on the full object.
 * - the bytes before the final `\n],\n"daily_metadata":` never change when an upload is appended, so
 *   an append can copy them server-side (s3/append-store.ts) and readers can resume at a byte offset.
 * - `fetch_data[].data` is the payload's JSON text exactly as logged, compact (records/json-text.ts): it is
 *   held as a `JsonText` and inserted verbatim, never parsed and re-serialised, also when a later upload
 *   rewrites the object (`decodeDailyObject` keeps every earlier fetch's text), so numbers such as
 *   9007199254740993 or 1e400 and escapes such as \u00e9 stay as written.
 */
import { createHash } from 'node:crypto';
import { JsonText } from '../records/json-text.js';

export interface FetchEntry {
  fetch_id: string;
  fetch_number: number;
  timestamp: string;
  records: number;
  /** The payload's exact JSON text, compact. */
  data: JsonText;
}

export interface UploadEntry {
  upload_sequence: number;
  /** Hash of stage, date and the fetch ids: names the upload in logs and makes retries recognisable. */
  upload_id: string;
  upload_timestamp: string;
  records_in_upload: number;
  fetches_in_upload: number;
  fetch_data: FetchEntry[];
}

export interface DailyMetadata {
  date: string;
  stage: string;
  timezone: string;
  total_uploads_today: number;
  total_records_today: number;
  total_fetches_today: number;
  first_upload_today: string;
  last_upload: string;
  /** `upload_id` of each upload, in sequence order: lets an append recognise a retried upload from the tail alone. */
  upload_ids?: string[];
  /** `fetchIdDigest` of every fetch, in order: fetch-id dedup from the tail alone (see the invariants). */
  fetch_id_digests?: string[];
}

export interface DailyObject {
  uploads: UploadEntry[];
  daily_metadata: DailyMetadata;
}

/** Key of a stage's daily object; no leading `/` when the prefix is empty. */
export function dailyObjectKey(prefix: string, stage: string, date: string): string {
  const name = `${stage}_json_log_${date}.json`;
  return prefix === '' ? name : `${prefix}/${name}`;
}

/** 64 bits of SHA-256 of a fetch id: a match only means "maybe present", settled on the full object. */
export function fetchIdDigest(fetchId: string): string {
  return createHash('sha256').update(fetchId).digest('hex').slice(0, 16);
}

/** The metadata's digest list when it is complete for the object, else undefined (written by an older version). */
export function knownFetchDigests(meta: DailyMetadata): string[] | undefined {
  const digests = meta.fetch_id_digests;
  return Array.isArray(digests) && digests.length === meta.total_fetches_today ? digests : undefined;
}

export function uploadIdOf(stage: string, date: string, fetchIds: readonly string[]): string {
  return createHash('sha256')
    .update(`${stage}\n${date}\n${fetchIds.join('\n')}`)
    .digest('hex')
    .slice(0, 20);
}

/** The id a batch is uploaded under: the writer's (kept across retries), else derived from its fetch ids. */
export function batchUploadId(batch: Pick<UploadBatch, 'stage' | 'date' | 'fetches' | 'uploadId'>): string {
  return (
    batch.uploadId ??
    uploadIdOf(
      batch.stage,
      batch.date,
      batch.fetches.map((f) => f.fetch_id),
    )
  );
}

/** Returns a description of the first violated invariant, or undefined when the object is well formed. */
export function validateDailyObject(value: unknown, date: string): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const obj = value as Partial<DailyObject>;
  if (!Array.isArray(obj.uploads)) return '"uploads" is not an array';
  const meta = obj.daily_metadata;
  if (meta === null || typeof meta !== 'object') return '"daily_metadata" is missing';
  if (meta.date !== date) return `daily_metadata.date is ${JSON.stringify(meta.date)}, expected "${date}"`;
  let records = 0;
  let fetches = 0;
  for (const [i, upload] of obj.uploads.entries()) {
    if (upload?.upload_sequence !== i + 1) return `uploads[${i}].upload_sequence is ${upload?.upload_sequence}, expected ${i + 1}`;
    if (!Array.isArray(upload.fetch_data)) return `uploads[${i}].fetch_data is not an array`;
    records += upload.records_in_upload;
    fetches += upload.fetch_data.length;
  }
  return checkTotals(meta, date, { uploads: obj.uploads.length, records, fetches });
}

/**
 * Checks `daily_metadata` against what the uploads hold (counted by the caller): its date and totals.
 * `total_fetches_today` may be absent (objects of older versions). Returns the first problem.
 */
export function checkTotals(meta: unknown, date: string, counted: { uploads: number; records: number; fetches: number }): string | undefined {
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) return '"daily_metadata" is not a JSON object';
  const m = meta as Record<string, unknown>;
  if (m['date'] !== date) return `daily_metadata.date is ${JSON.stringify(m['date'])}, expected "${date}"`;
  if (m['total_uploads_today'] !== counted.uploads)
    return `daily_metadata.total_uploads_today is ${JSON.stringify(m['total_uploads_today'])}, but ${counted.uploads} uploads were counted`;
  if (m['total_records_today'] !== counted.records)
    return `daily_metadata.total_records_today is ${JSON.stringify(m['total_records_today'])}, but the uploads' records_in_upload add up to ${counted.records}`;
  if (m['total_fetches_today'] !== undefined && m['total_fetches_today'] !== counted.fetches)
    return `daily_metadata.total_fetches_today is ${JSON.stringify(m['total_fetches_today'])}, but ${counted.fetches} fetches were counted`;
  return undefined;
}

/** Fetches of the day: the metadata's total, or the sum over the uploads for objects of older versions. */
export function fetchesToday(obj: DailyObject): number {
  return obj.daily_metadata.total_fetches_today ?? obj.uploads.reduce((sum, u) => sum + u.fetches_in_upload, 0);
}

export interface UploadBatch {
  /** Names the upload; a retry of the same batch must reuse it. Default: derived from the fetch ids. */
  uploadId?: string;
  stage: string;
  timezone: string;
  date: string;
  uploadTimestamp: string;
  fetches: FetchEntry[];
}

export interface ApplyResult {
  object: DailyObject;
  /** The upload appended, or undefined when every fetch of the batch was already in the object. */
  upload: UploadEntry | undefined;
  /** Fetch ids of the batch that the object already held (a retried upload). */
  alreadyPresent: string[];
  /** Where the batch's fetches are: the new upload's sequence, else the sequence that holds them. */
  uploadSequence: number;
}

/** Appends the batch to `existing` (or a new object), skipping fetches already present. Pure. */
export function applyUpload(existing: DailyObject | undefined, batch: UploadBatch): ApplyResult {
  const present = new Map<string, number>();
  for (const upload of existing?.uploads ?? []) {
    for (const fetch of upload.fetch_data) present.set(fetch.fetch_id, upload.upload_sequence);
  }
  const uploadId = batchUploadId(batch);
  const earlier = existing?.daily_metadata.upload_ids?.indexOf(uploadId) ?? -1;
  const fresh = earlier >= 0 ? [] : batch.fetches.filter((f) => !present.has(f.fetch_id));
  const alreadyPresent = batch.fetches.filter((f) => earlier >= 0 || present.has(f.fetch_id)).map((f) => f.fetch_id);
  const base: DailyObject = existing ?? {
    uploads: [],
    daily_metadata: {
      date: batch.date,
      stage: batch.stage,
      timezone: batch.timezone,
      total_uploads_today: 0,
      total_records_today: 0,
      total_fetches_today: 0,
      first_upload_today: batch.uploadTimestamp,
      last_upload: batch.uploadTimestamp,
      upload_ids: [],
      fetch_id_digests: [],
    },
  };
  if (fresh.length === 0) {
    const seq = earlier >= 0 ? earlier + 1 : (present.get(batch.fetches[0]?.fetch_id ?? '') ?? base.uploads.length);
    return { object: base, upload: undefined, alreadyPresent, uploadSequence: seq };
  }
  const records = fresh.reduce((sum, f) => sum + f.records, 0);
  const upload: UploadEntry = {
    upload_sequence: base.uploads.length + 1,
    upload_id: uploadId,
    upload_timestamp: batch.uploadTimestamp,
    records_in_upload: records,
    fetches_in_upload: fresh.length,
    fetch_data: fresh,
  };
  const meta = base.daily_metadata;
  const object: DailyObject = {
    uploads: [...base.uploads, upload],
    daily_metadata: {
      ...meta,
      total_uploads_today: meta.total_uploads_today + 1,
      total_records_today: meta.total_records_today + records,
      total_fetches_today: fetchesToday(base) + fresh.length,
      first_upload_today: base.uploads.length === 0 ? batch.uploadTimestamp : meta.first_upload_today,
      last_upload: batch.uploadTimestamp,
      upload_ids: [...(meta.upload_ids ?? base.uploads.map((u) => u.upload_id)), uploadId],
      fetch_id_digests: [
        ...(knownFetchDigests(meta) ?? base.uploads.flatMap((u) => u.fetch_data.map((f) => fetchIdDigest(f.fetch_id)))),
        ...fresh.map((f) => fetchIdDigest(f.fetch_id)),
      ],
    },
  };
  return { object, upload, alreadyPresent, uploadSequence: upload.upload_sequence };
}

/** The marker between the last upload line and the metadata; its offset is the append point. */
export const METADATA_MARKER = '\n],\n"daily_metadata":';

/** The bytes that follow the existing uploads when `upload` is appended: `,\n<upload>\n],\n"daily_metadata":<meta>}\n`. */
export function serializeAppendedTail(upload: UploadEntry, metadata: DailyMetadata): string {
  return `,\n${serializeUpload(upload)}${METADATA_MARKER}${JSON.stringify(metadata)}}\n`;
}

/** Serialises with one upload per line and the metadata last (see the layout above). */
export function serializeDailyObject(obj: DailyObject): string {
  const uploads = obj.uploads.map(serializeUpload).join(',\n');
  return `{"uploads":[\n${uploads}${METADATA_MARKER}${JSON.stringify(obj.daily_metadata)}}\n`;
}

/** `head` (JSON.stringify of the other fields) with one more member appended whose value is raw text. */
function withRawMember(head: string, name: string, raw: string): string {
  return `${head.length > 2 ? `${head.slice(0, -1)},` : '{'}${JSON.stringify(name)}:${raw}}`;
}

/** One upload on one line; each fetch's `data` is inserted as its exact text (last in the fetch, as ever). */
function serializeUpload(upload: UploadEntry): string {
  const { fetch_data, ...fields } = upload;
  // A `data` that is not a JsonText was built in code (tests, tools): it is a JavaScript value already.
  const fetches = fetch_data.map(({ data, ...rest }) =>
    data === undefined ? JSON.stringify(rest) : withRawMember(JSON.stringify(rest), 'data', data instanceof JsonText ? data.text : JSON.stringify(data)),
  );
  return withRawMember(JSON.stringify(fields), 'fetch_data', `[${fetches.join(',')}]`);
}
