/**
 * Appends uploads to daily objects with optimistic concurrency (full-rewrite strategy):
 * read (GetObject, remember the ETag) → apply the upload in memory → PutObject with `If-Match: <etag>`
 * (or `If-None-Match: *` when the object does not exist yet). On 412/409 another writer won the race:
 * the attempt throws `Raced` and `retryOnConflict` re-reads, re-applies and retries. Because
 * `applyUpload` skips fetch ids that are already present, a retry after an ambiguous failure never
 * appends an upload twice.
 *
 * `DailyObjectStore` is the seam for other append strategies (server-side append of large objects,
 * append-store.ts, which calls `rewriteOnce` for objects below 5 MiB and for exact fetch-id dedup).
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3Error } from '../errors.js';
import { applyUpload, serializeDailyObject, type DailyObject, type UploadBatch } from './daily-object.js';
import { decodeDailyObject } from './daily-object-read.js';
import { isConditionFailure, isNotFound, toS3Error } from './errors.js';
import { Raced, retryOnConflict } from './retry.js';

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

/** Reads and validates a daily object with its ETag; undefined when it does not exist. */
export async function readDailyObjectWithEtag(
  client: S3Client,
  bucket: string,
  key: string,
  date: string,
): Promise<{ object: DailyObject; etag: string; bytes: number } | undefined> {
  let bytes: Buffer;
  let etag: string;
  try {
    const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    bytes = Buffer.from((await response.Body?.transformToByteArray()) ?? []);
    etag = response.ETag ?? '';
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw toS3Error(error, 'GetObject', bucket, key);
  }
  // Earlier fetches' payloads stay as their exact text through a rewrite (s3/daily-object-read.ts).
  const decoded = decodeDailyObject(bytes, date);
  if ('problem' in decoded) {
    throw new S3Error(
      'E_S3_CORRUPT_OBJECT',
      `daily object s3://${bucket}/${key} is not a valid rotating-s3 daily object (${decoded.problem}); move it aside and run flush again — nothing was overwritten`,
    );
  }
  return { object: decoded.object, etag, bytes: bytes.length };
}

/**
 * One read-apply-conditional-put attempt. Throws `Raced` when another writer changed the object first,
 * or when the object read is `below` bytes or larger (the caller then re-decides how to append).
 */
export async function rewriteOnce(
  client: S3Client,
  bucket: string,
  key: string,
  batch: UploadBatch,
  attempt: number,
  below = Infinity,
): Promise<AppendOutcome> {
  const current = await readDailyObjectWithEtag(client, bucket, key, batch.date);
  if (current && current.bytes >= below) throw new Raced(`the daily object grew to ${current.bytes} bytes since it was sized`);
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
  } catch (error) {
    if (isConditionFailure(error) || (current !== undefined && isNotFound(error))) throw new Raced('the daily object changed since it was read');
    throw toS3Error(error, 'PutObject', bucket, key);
  }
  const upload = result.upload;
  return {
    key,
    uploadSequence: upload.upload_sequence,
    uploadId: upload.upload_id,
    applied: true,
    fetches: upload.fetches_in_upload,
    records: upload.records_in_upload,
    conflicts: attempt,
  };
}

export function createRewriteStore(options: RewriteStoreOptions): DailyObjectStore {
  const { client, bucket } = options;
  return {
    async readDailyObject(key, date) {
      return (await readDailyObjectWithEtag(client, bucket, key, date))?.object;
    },
    appendUpload(key, batch) {
      return retryOnConflict((attempt) => rewriteOnce(client, bucket, key, batch, attempt), {
        what: `S3 PutObject s3://${bucket}/${key}`,
        ...(options.maxConflictRetries === undefined ? {} : { maxRetries: options.maxConflictRetries }),
        ...(options.sleep ? { sleep: options.sleep } : {}),
      });
    },
  };
}
