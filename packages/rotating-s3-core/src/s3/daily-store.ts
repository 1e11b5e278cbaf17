/**
 * Appends uploads to daily objects with optimistic concurrency (full-rewrite strategy):
 * read (GetObject, remember the ETag) → apply the upload in memory → PutObject with `If-Match: <etag>`
 * (or `If-None-Match: *` when the object does not exist yet). On 412/409 another writer won the race:
 * re-read, re-apply, retry after a jittered backoff. Because `applyUpload` skips fetch ids that are
 * already present, a retry after an ambiguous failure never appends an upload twice.
 *
 * `DailyObjectStore` is the seam for other append strategies (server-side append of large objects).
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3Error } from '../errors.js';
import {
  applyUpload,
  serializeDailyObject,
  validateDailyObject,
  type DailyObject,
  type UploadBatch,
} from './daily-object.js';
import { isConditionFailure, isNotFound, toS3Error } from './errors.js';

export interface AppendOutcome {
  key: string;
  /** Sequence of the upload that now holds the batch's fetches. */
  uploadSequence: number;
  uploadId: string | undefined;
  /** False when every fetch was already in the object (an earlier attempt had applied it). */
  applied: boolean;
  fetches: number;
  records: number;
  /** Conditional-write conflicts survived on the way. */
  conflicts: number;
}

export interface DailyObjectStore {
  /** Appends `batch` as one upload to the daily object at `key`, creating the object when missing. */
  appendUpload(key: string, batch: UploadBatch): Promise<AppendOutcome>;
  /** Reads and validates a daily object; undefined when it does not exist. */
  readDailyObject(key: string, date: string): Promise<DailyObject | undefined>;
}

export interface RewriteStoreOptions {
  client: S3Client;
  bucket: string;
  /** Attempts after conditional-write conflicts before giving up with E_S3_CONFLICT. Default: 12. */
  maxConflictRetries?: number;
  /** Sleep, injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Full decorrelated jitter: spreads racing writers apart without a thundering herd. */
function backoffMs(attempt: number): number {
  return Math.floor(Math.random() * Math.min(2_000, 50 * 2 ** attempt));
}

export function createRewriteStore(options: RewriteStoreOptions): DailyObjectStore {
  const { client, bucket } = options;
  const sleep = options.sleep ?? defaultSleep;
  const maxRetries = options.maxConflictRetries ?? 12;

  async function read(key: string, date: string): Promise<{ object: DailyObject; etag: string } | undefined> {
    let text: string;
    let etag: string;
    try {
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      text = (await response.Body?.transformToString('utf8')) ?? '';
      etag = response.ETag ?? '';
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw toS3Error(error, 'GetObject', bucket, key);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const problem = validateDailyObject(parsed, date);
    if (problem) {
      throw new S3Error('E_S3_CORRUPT_OBJECT', `daily object s3://${bucket}/${key} is not a valid rotating-s3 daily object (${problem}); move it aside and run flush again — nothing was overwritten`);
    }
    return { object: parsed as DailyObject, etag };
  }

  return {
    async readDailyObject(key, date) {
      return (await read(key, date))?.object;
    },
    async appendUpload(key, batch) {
      for (let attempt = 0; ; attempt++) {
        const current = await read(key, batch.date);
        const result = applyUpload(current?.object, batch);
        if (!result.upload) {
          return { key, uploadSequence: result.uploadSequence, uploadId: undefined, applied: false, fetches: 0, records: 0, conflicts: attempt };
        }
        try {
          await client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: serializeDailyObject(result.object),
              ContentType: 'application/json',
              ...(current ? { IfMatch: current.etag } : { IfNoneMatch: '*' }),
            }),
          );
          const upload = result.upload;
          return { key, uploadSequence: upload.upload_sequence, uploadId: upload.upload_id, applied: true, fetches: upload.fetches_in_upload, records: upload.records_in_upload, conflicts: attempt };
        } catch (error) {
          const raced = isConditionFailure(error) || (current !== undefined && isNotFound(error));
          if (!raced) throw toS3Error(error, 'PutObject', bucket, key);
          if (attempt >= maxRetries) {
            throw new S3Error('E_S3_CONFLICT', `S3 PutObject s3://${bucket}/${key} lost ${attempt + 1} conditional-write races in a row; the fetches stay pending and the next log or flush retries`, { cause: error });
          }
          await sleep(backoffMs(attempt));
        }
      }
    },
  };
}
