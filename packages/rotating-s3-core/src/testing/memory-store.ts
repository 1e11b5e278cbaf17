/**
 * An in-memory `DailyObjectStore` for unit tests of the writer: each daily object is kept as the exact
 * text S3 would hold, and every upload goes through the real pure functions of s3/daily-object.ts and
 * daily-object-read.ts (decode and check, `applyUpload`, serialise), so fetch-id and upload-id dedup behave as against S3.
 * It is a faithful fake at the store interface, not a mock of the S3 client.
 *
 * `failAfterApply` makes a call fail AFTER the object was updated (an ambiguous failure, like a timeout
 * on a request S3 did apply); `failBeforeApply` makes it fail with nothing written (S3 unreachable).
 */
import { S3Error } from '../errors.js';
import { applyUpload, serializeDailyObject, type DailyObject, type UploadBatch } from '../s3/daily-object.js';
import { decodeDailyObject } from '../s3/daily-object-read.js';
import type { AppendOutcome, DailyObjectStore } from '../s3/daily-store.js';

export interface MemoryDailyStore extends DailyObjectStore {
  /** The objects' text by key. */
  readonly objects: Map<string, string>;
  /** appendUpload calls so far (1-based numbering for the fault hooks). */
  calls: number;
  /** Return true to fail this call (its 1-based number) after the object was updated. */
  failAfterApply?: (call: number, key: string, batch: UploadBatch) => boolean;
  /** Return true to fail this call before anything is written. */
  failBeforeApply?: (call: number, key: string, batch: UploadBatch) => boolean;
}

export function createMemoryDailyStore(): MemoryDailyStore {
  const objects = new Map<string, string>();
  const read = (key: string, date: string): DailyObject | undefined => {
    const text = objects.get(key);
    if (text === undefined) return undefined;
    const decoded = decodeDailyObject(Buffer.from(text), date);
    if ('problem' in decoded) throw new S3Error('E_S3_CORRUPT_OBJECT', `daily object ${key} is not valid (${decoded.problem})`);
    return decoded.object;
  };
  const store: MemoryDailyStore = {
    objects,
    calls: 0,
    async readDailyObject(key, date) {
      return read(key, date);
    },
    async appendUpload(key, batch): Promise<AppendOutcome> {
      const call = ++store.calls;
      if (store.failBeforeApply?.(call, key, batch)) throw new S3Error('E_S3_UNREACHABLE', `S3 PutObject s3://memory/${key} failed: simulated outage; retry`);
      const result = applyUpload(read(key, batch.date), batch);
      if (result.upload) objects.set(key, serializeDailyObject(result.object));
      if (store.failAfterApply?.(call, key, batch))
        throw new S3Error('E_S3', `S3 PutObject s3://memory/${key} failed: simulated timeout after the write applied; retry`);
      return {
        key,
        uploadSequence: result.uploadSequence,
        uploadId: result.upload?.upload_id,
        applied: result.upload !== undefined,
        fetches: result.upload?.fetches_in_upload ?? 0,
        records: result.upload?.records_in_upload ?? 0,
        conflicts: 0,
      };
    },
  };
  return store;
}
