/**
 * Constant-cost appends to large daily objects. Below 5 MiB (S3's minimum part size) an upload
 * rewrites the object (daily-store.ts `rewriteOnce`). From `serverSideThreshold` on it is appended
 * server-side:
 *
 *   HeadObject (size, ETag)
 *   → ranged GET of the tail (If-Match ETag): find `\n],\n"daily_metadata":` and read the metadata
 *   → upload already listed in `daily_metadata.upload_ids`? done (a retry of an applied upload)
 *   → a fetch id of the batch maybe present (`fetch_id_digests`)? settle it on the full object: rewrite
 *   → CreateMultipartUpload; UploadPartCopy of bytes [0, marker) in ≤ 4 GiB parts (CopySourceIfMatch)
 *   → UploadPart of `,\n<new upload>\n],\n"daily_metadata":<new totals>}\n`; CompleteMultipartUpload.
 *
 * Bytes on the wire per rotation: the tail read plus the new upload, whatever the object's size; the
 * object is valid daily-object JSON before and after (S3 swaps it atomically on Complete).
 *
 * One guard for every writer, whatever size it saw. Every write of a daily object is conditional on the
 * ETag that was read: PutObject `If-Match` (rewrite) and CompleteMultipartUpload `If-Match` (append).
 * Where the endpoint does not enforce `If-Match` on Complete (probed, s3/capabilities.ts), EVERY write
 * of an object of 5 MiB or more — rewrite and server-side append alike — happens under the lease
 * (s3/lease.ts), and the appender checks, right before Complete, that it still holds the lease and that
 * the object's ETag is still the one it copied. A rewrite that sized the object below 5 MiB but read it
 * at 5 MiB or more starts over (`rewriteOnce`'s `below`), so it can never slip past the lease.
 * An endpoint without UploadPartCopy (s3rver) keeps rewriting.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { S3Error } from '../errors.js';
import type { DurableFs } from '../local/durable-fs.js';
import { systemClock } from '../time/clock.js';
import { copySource, createCapabilityCache, newProbeKey, probeConditionalPut, probeMultipart, type Capabilities } from './capabilities.js';
import { headDailyObject, readDailyTail, type Found } from './daily-tail.js';
import {
  batchUploadId,
  fetchIdDigest,
  knownFetchDigests,
  serializeAppendedTail,
  type DailyMetadata,
  type UploadBatch,
  type UploadEntry,
} from './daily-object.js';
import { readDailyObjectWithEtag, rewriteOnce, type AppendOutcome, type DailyObjectStore } from './daily-store.js';
import { httpStatusOf, isConditionFailure, toS3Error } from './errors.js';
import { acquireLease, type Lease } from './lease.js';
import { Raced, retryOnConflict } from './retry.js';

const MIB = 1024 * 1024;
/** S3's minimum part size: the smallest object a server-side append can copy, and where the guard starts. */
const MIN_PART = 5 * MIB;
const MAX_COPY_PART = 4 * 1024 * MIB;

export interface AppendStoreOptions {
  client: S3Client;
  bucket: string;
  /** Objects at least this large are appended server-side. Default and minimum: 5 MiB (smaller parts are refused by S3). */
  serverSideThreshold?: number;
  /** Bytes of the tail read to find the metadata. Default: 64 KiB (grown ×8 until the metadata fits). */
  tailBytes?: number;
  /** How a write of an object of 5 MiB or more is kept safe against a concurrent one. Default: probed per endpoint. */
  completeGuard?: 'if-match' | 'lease';
  /** Where probe results are cached; no caching when absent. */
  capabilitiesFile?: string;
  /** File operations for the capability cache. */
  fs?: DurableFs;
  /**
   * Declares that this stage has exactly one writer, so an endpoint that ignores conditional writes is
   * acceptable. Without it such an endpoint is refused (E_S3_NO_CONDITIONAL): with several writers it
   * would silently lose uploads. Default: false.
   */
  singleWriter?: boolean;
  maxConflictRetries?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Epoch milliseconds (lease expiry, probe ages, cache age). Default: the system clock. */
  now?: () => number;
}

export function createAppendStore(options: AppendStoreOptions): DailyObjectStore {
  const { client, bucket } = options;
  const threshold = Math.max(options.serverSideThreshold ?? MIN_PART, MIN_PART);
  const now = options.now ?? (() => systemClock().millis());
  const cache = createCapabilityCache({
    client,
    bucket,
    ...(options.capabilitiesFile ? { file: options.capabilitiesFile } : {}),
    ...(options.fs ? { fs: options.fs } : {}),
    now,
  });
  let conditionalChecked = options.singleWriter === true;
  let multipart: Required<Pick<Capabilities, 'uploadPartCopy' | 'conditionalComplete'>> | undefined;

  /** Refuses an endpoint that ignores If-None-Match/If-Match unless the stage declared a single writer. */
  async function assertConditionalWrites(key: string): Promise<void> {
    if (conditionalChecked) return;
    let enforced = (await cache.read()).conditionalPut;
    if (enforced === undefined) {
      enforced = await probeConditionalPut(client, bucket, await newProbeKey(client, bucket, key, now()));
      await cache.remember({ conditionalPut: enforced });
    }
    if (!enforced) {
      throw new S3Error(
        'E_S3_NO_CONDITIONAL',
        `the S3 endpoint ${cache.describe()} ignores conditional writes (If-None-Match/If-Match), so two writers of s3://${bucket}/${key} could overwrite each other's uploads; the fetches stay pending. Run one writer per stage and set ROTATING_S3_SINGLE_WRITER=true, or use an endpoint that enforces them (AWS S3, R2, MinIO)`,
      );
    }
    conditionalChecked = true;
  }

  async function multipartCapabilities(key: string): Promise<NonNullable<typeof multipart>> {
    if (multipart) return multipart;
    if (options.completeGuard) return (multipart = { uploadPartCopy: true, conditionalComplete: options.completeGuard === 'if-match' });
    const cached = await cache.read();
    if (cached.uploadPartCopy !== undefined && cached.conditionalComplete !== undefined) {
      return (multipart = { uploadPartCopy: cached.uploadPartCopy, conditionalComplete: cached.conditionalComplete });
    }
    const { uploadPartCopy, conditionalComplete } = await probeMultipart(client, bucket, await newProbeKey(client, bucket, key, now()));
    multipart = { uploadPartCopy, conditionalComplete };
    await cache.remember(multipart);
    return multipart;
  }

  const head = (key: string): Promise<Found | undefined> => headDailyObject(client, bucket, key);

  async function underLease<T>(key: string, fn: (lease: Lease) => Promise<T>): Promise<T> {
    const lease = await acquireLease(`${key}.lease`, { client, bucket, now });
    try {
      return await fn(lease);
    } finally {
      await lease.release();
    }
  }

  async function appendServerSide(key: string, batch: UploadBatch, found: Found, attempt: number, lease: Lease | undefined): Promise<AppendOutcome> {
    let tail: { markerAt: number; metadata: DailyMetadata };
    try {
      tail = await readDailyTail(client, bucket, key, found, options.tailBytes);
    } catch (error) {
      if (isConditionFailure(error)) throw new Raced('the daily object changed while its tail was read');
      throw error;
    }
    const { markerAt, metadata } = tail;
    if (metadata.date !== batch.date) {
      throw new S3Error(
        'E_S3_CORRUPT_OBJECT',
        `daily object s3://${bucket}/${key} says date ${metadata.date}, expected ${batch.date}; move it aside — nothing was overwritten`,
      );
    }
    const uploadId = batchUploadId(batch);
    const earlier = metadata.upload_ids?.indexOf(uploadId) ?? -1;
    if (earlier >= 0) return { key, uploadSequence: earlier + 1, uploadId, applied: false, fetches: 0, records: 0, conflicts: attempt };
    // The same fetch id may have been uploaded by another host: only the full object can tell exactly.
    const digests = knownFetchDigests(metadata);
    const seen = new Set(digests ?? []);
    if (!digests || batch.fetches.some((f) => seen.has(fetchIdDigest(f.fetch_id)))) return rewriteOnce(client, bucket, key, batch, attempt);

    const records = batch.fetches.reduce((n, f) => n + f.records, 0);
    const upload: UploadEntry = {
      upload_sequence: metadata.total_uploads_today + 1,
      upload_id: uploadId,
      upload_timestamp: batch.uploadTimestamp,
      records_in_upload: records,
      fetches_in_upload: batch.fetches.length,
      fetch_data: batch.fetches,
    };
    const next: DailyMetadata = {
      ...metadata,
      total_uploads_today: metadata.total_uploads_today + 1,
      total_records_today: metadata.total_records_today + records,
      total_fetches_today: metadata.total_fetches_today + batch.fetches.length,
      last_upload: batch.uploadTimestamp,
      fetch_id_digests: [...digests, ...batch.fetches.map((f) => fetchIdDigest(f.fetch_id))],
      ...(metadata.upload_ids && metadata.upload_ids.length === metadata.total_uploads_today ? { upload_ids: [...metadata.upload_ids, uploadId] } : {}),
    };
    const tailBytes = Buffer.from(serializeAppendedTail(upload, next));

    const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'application/json' })).catch((error) => {
      throw toS3Error(error, 'CreateMultipartUpload', bucket, key);
    });
    const mpu = created.UploadId!;
    try {
      const parts: Array<{ PartNumber: number; ETag: string | undefined }> = [];
      const count = Math.ceil(markerAt / MAX_COPY_PART);
      const size = Math.ceil(markerAt / count);
      for (let i = 0; i < count; i++) {
        const first = i * size;
        const last = Math.min(markerAt, first + size) - 1;
        const copied = await client.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: key,
            UploadId: mpu,
            PartNumber: i + 1,
            CopySource: copySource(bucket, key),
            CopySourceRange: `bytes=${first}-${last}`,
            CopySourceIfMatch: found.etag,
          }),
        );
        parts.push({ PartNumber: i + 1, ETag: copied.CopyPartResult?.ETag });
      }
      const sent = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: mpu, PartNumber: count + 1, Body: tailBytes }));
      parts.push({ PartNumber: count + 1, ETag: sent.ETag });
      if (lease) {
        // Complete is not conditional on this endpoint: make sure nothing moved under us first.
        lease.assertHeld();
        if ((await head(key))?.etag !== found.etag) throw new Raced('the daily object changed during the server-side append');
      }
      await client.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: mpu, MultipartUpload: { Parts: parts }, IfMatch: found.etag }),
      );
    } catch (error) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: mpu })).catch(() => undefined);
      if (error instanceof Raced) throw error;
      if (isConditionFailure(error)) throw new Raced('the daily object changed during the server-side append');
      if (httpStatusOf(error) === 501) throw Object.assign(new Error('UploadPartCopy not supported'), { notSupported: true });
      throw toS3Error(error, 'server-side append', bucket, key);
    }
    return { key, uploadSequence: upload.upload_sequence, uploadId, applied: true, fetches: upload.fetches_in_upload, records, conflicts: attempt };
  }

  async function attemptAppend(key: string, batch: UploadBatch, attempt: number): Promise<AppendOutcome> {
    const found = await head(key);
    await assertConditionalWrites(key);
    if (!found || found.size < MIN_PART) return rewriteOnce(client, bucket, key, batch, attempt, MIN_PART);
    const caps = await multipartCapabilities(key);
    const serverSide = caps.uploadPartCopy && found.size >= threshold;
    const write = (lease: Lease | undefined) =>
      serverSide ? appendServerSide(key, batch, found, attempt, lease) : rewriteOnce(client, bucket, key, batch, attempt);
    if (!caps.uploadPartCopy || caps.conditionalComplete) return write(undefined);
    return underLease(key, write);
  }

  return {
    async readDailyObject(key, date) {
      return (await readDailyObjectWithEtag(client, bucket, key, date))?.object;
    },
    appendUpload(key, batch) {
      return retryOnConflict(
        async (attempt) => {
          try {
            return await attemptAppend(key, batch, attempt);
          } catch (error) {
            if (!(error as { notSupported?: boolean }).notSupported) throw error;
            multipart = { uploadPartCopy: false, conditionalComplete: false };
            return rewriteOnce(client, bucket, key, batch, attempt);
          }
        },
        {
          what: `append to s3://${bucket}/${key}`,
          ...(options.maxConflictRetries === undefined ? {} : { maxRetries: options.maxConflictRetries }),
          ...(options.sleep ? { sleep: options.sleep } : {}),
        },
      );
    },
  };
}
