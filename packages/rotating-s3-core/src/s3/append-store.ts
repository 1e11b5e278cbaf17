/**
 * Constant-cost appends to large daily objects. Below `serverSideThreshold` (5 MiB, S3's minimum part
 * size) an upload rewrites the object (daily-store.ts). From there on it is appended server-side:
 *
 *   HeadObject (size, ETag)
 *   → ranged GET of the tail (If-Match ETag): find `\n],\n"daily_metadata":` and read the metadata
 *   → upload already listed in `daily_metadata.upload_ids`? done (a retry of an applied upload)
 *   → CreateMultipartUpload; UploadPartCopy of bytes [0, marker) in ≤ 4 GiB parts (CopySourceIfMatch)
 *   → UploadPart of `,\n<new upload>\n],\n"daily_metadata":<new totals>}\n`; CompleteMultipartUpload.
 *
 * Bytes on the wire per rotation: the tail read plus the new upload, whatever the object's size; the
 * object is valid SPEC §4 JSON before and after (S3 swaps it atomically on Complete).
 *
 * Concurrent writers: the copy is pinned to the ETag that was read, but the swap is only safe when
 * Complete itself is conditional. AWS S3 enforces `If-Match` on CompleteMultipartUpload; moto 5.2 and
 * others ignore it. The first server-side append on an endpoint probes it (cached per endpoint in
 * `<localDir>/s3-capabilities.json`); where it is not enforced, writers serialise on a lease object
 * `<key>.lease` created with `If-None-Match: *` (which those endpoints do enforce). An endpoint without
 * UploadPartCopy (s3rver) keeps rewriting.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { S3Error } from '../errors.js';
import type { DurableFs } from '../local/durable-fs.js';
import { METADATA_MARKER, serializeAppendedTail, uploadIdOf, type DailyMetadata, type UploadBatch, type UploadEntry } from './daily-object.js';
import { createRewriteStore, type AppendOutcome, type DailyObjectStore } from './daily-store.js';
import { httpStatusOf, isConditionFailure, isNotFound, toS3Error } from './errors.js';

const MIB = 1024 * 1024;
const MAX_COPY_PART = 4 * 1024 * MIB;
const LEASE_TTL_MS = 5 * 60_000;

export interface AppendStoreOptions {
  client: S3Client;
  bucket: string;
  /** Objects at least this large are appended server-side. Default: 5 MiB (smaller parts are refused by S3). */
  serverSideThreshold?: number;
  /** Bytes of the tail read to find the metadata. Default: 64 KiB (grown to 4 MiB when the metadata is longer). */
  tailBytes?: number;
  /** How a server-side append is kept safe against a concurrent one. Default: probed per endpoint. */
  completeGuard?: 'if-match' | 'lease';
  /** Where the probe result is cached; no caching when absent. */
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
}

interface Capabilities {
  uploadPartCopy: boolean;
  conditionalComplete: boolean;
}

/** What the capability cache holds per endpoint (each probe fills its own fields). */
type CachedCapabilities = Partial<Capabilities> & { conditionalPut?: boolean; probedAt?: string };

class Raced extends Error {}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createAppendStore(options: AppendStoreOptions): DailyObjectStore {
  const { client, bucket } = options;
  const rewrite = createRewriteStore({ client, bucket, ...(options.maxConflictRetries === undefined ? {} : { maxConflictRetries: options.maxConflictRetries }), ...(options.sleep ? { sleep: options.sleep } : {}) });
  const threshold = Math.max(options.serverSideThreshold ?? 5 * MIB, 5 * MIB);
  const sleep = options.sleep ?? defaultSleep;
  const maxRetries = options.maxConflictRetries ?? 12;
  let capabilities: Capabilities | undefined;
  let conditionalChecked = options.singleWriter === true;

  async function endpointKey(): Promise<string> {
    const resolved = await client.config.endpoint?.();
    return resolved ? `${resolved.hostname}:${resolved.port ?? ''}` : 'aws';
  }

  async function remember(endpoint: string, found: CachedCapabilities): Promise<void> {
    if (!options.capabilitiesFile || !options.fs) return;
    const all = readCache(options.capabilitiesFile) ?? {};
    all[endpoint] = { ...all[endpoint], ...found, probedAt: new Date().toISOString() };
    await options.fs.writeAtomic(options.capabilitiesFile, `${JSON.stringify(all, null, 2)}\n`).catch(() => undefined);
  }

  /** Refuses an endpoint that ignores If-None-Match/If-Match unless the stage declared a single writer. */
  async function assertConditionalWrites(key: string): Promise<void> {
    if (conditionalChecked) return;
    const endpoint = await endpointKey();
    let enforced = readCache(options.capabilitiesFile)?.[endpoint]?.conditionalPut;
    if (enforced === undefined) {
      enforced = await probeConditionalPut(client, bucket, `${key}.probe-${randomBytes(4).toString('hex')}`);
      await remember(endpoint, { conditionalPut: enforced });
    }
    if (!enforced) {
      throw new S3Error(
        'E_S3_NO_CONDITIONAL',
        `the S3 endpoint ${endpoint} ignores conditional writes (If-None-Match/If-Match), so two writers of s3://${bucket}/${key} could overwrite each other's uploads; the fetches stay pending. Run one writer per stage and set ROTATING_S3_SINGLE_WRITER=true, or use an endpoint that enforces them (AWS S3, R2, MinIO)`,
      );
    }
    conditionalChecked = true;
  }

  async function head(key: string): Promise<{ size: number; etag: string } | undefined> {
    try {
      const h = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { size: h.ContentLength ?? 0, etag: h.ETag ?? '' };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw toS3Error(error, 'HeadObject', bucket, key);
    }
  }

  async function readTail(key: string, size: number, etag: string): Promise<{ markerAt: number; metadata: DailyMetadata }> {
    try {
      return await readDailyTail(client, bucket, key, { size, etag }, options.tailBytes);
    } catch (error) {
      if (isConditionFailure(error)) throw new Raced();
      throw error;
    }
  }

  async function probe(key: string): Promise<Capabilities> {
    if (capabilities) return capabilities;
    if (options.completeGuard) {
      capabilities = { uploadPartCopy: true, conditionalComplete: options.completeGuard === 'if-match' };
      return capabilities;
    }
    const endpoint = await endpointKey();
    const cached = readCache(options.capabilitiesFile)?.[endpoint];
    if (cached?.uploadPartCopy !== undefined && cached.conditionalComplete !== undefined) {
      return (capabilities = { uploadPartCopy: cached.uploadPartCopy, conditionalComplete: cached.conditionalComplete });
    }
    capabilities = await probeEndpoint(client, bucket, `${key}.probe-${randomBytes(4).toString('hex')}`);
    await remember(endpoint, capabilities);
    return capabilities;
  }

  async function withLease<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const leaseKey = `${key}.lease`;
    const body = JSON.stringify({ owner: randomBytes(8).toString('hex'), expires: Date.now() + LEASE_TTL_MS });
    try {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: leaseKey, Body: body, IfNoneMatch: '*' }));
    } catch (error) {
      if (!isConditionFailure(error)) throw toS3Error(error, 'PutObject (lease)', bucket, leaseKey);
      await takeOverExpiredLease(leaseKey, body);
    }
    try {
      return await fn();
    } finally {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: leaseKey })).catch(() => undefined);
    }
  }

  /** A lease left by a killed writer is taken over once expired (If-Match on the lease's ETag). */
  async function takeOverExpiredLease(leaseKey: string, body: string): Promise<void> {
    let current;
    try {
      current = await client.send(new GetObjectCommand({ Bucket: bucket, Key: leaseKey }));
    } catch (error) {
      if (isNotFound(error)) throw new Raced();
      throw toS3Error(error, 'GetObject (lease)', bucket, leaseKey);
    }
    const held = JSON.parse((await current.Body?.transformToString()) ?? '{}') as { expires?: number };
    if ((held.expires ?? 0) > Date.now()) throw new Raced();
    try {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: leaseKey, Body: body, IfMatch: current.ETag }));
    } catch (error) {
      if (isConditionFailure(error) || isNotFound(error)) throw new Raced();
      throw toS3Error(error, 'PutObject (lease)', bucket, leaseKey);
    }
  }

  async function appendServerSide(key: string, batch: UploadBatch, found: { size: number; etag: string }, conflicts: number): Promise<AppendOutcome> {
    const { markerAt, metadata } = await readTail(key, found.size, found.etag);
    if (metadata.date !== batch.date) {
      throw new S3Error('E_S3_CORRUPT_OBJECT', `daily object s3://${bucket}/${key} says date ${metadata.date}, expected ${batch.date}; move it aside — nothing was overwritten`);
    }
    const uploadId = batch.uploadId ?? uploadIdOf(batch.stage, batch.date, batch.fetches.map((f) => f.fetch_id));
    const earlier = metadata.upload_ids?.indexOf(uploadId) ?? -1;
    if (earlier >= 0) return { key, uploadSequence: earlier + 1, uploadId, applied: false, fetches: 0, records: 0, conflicts };

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
      total_fetches_today: (metadata.total_fetches_today ?? 0) + batch.fetches.length,
      last_upload: batch.uploadTimestamp,
      ...(metadata.upload_ids && metadata.upload_ids.length === metadata.total_uploads_today ? { upload_ids: [...metadata.upload_ids, uploadId] } : {}),
    };
    const tail = Buffer.from(serializeAppendedTail(upload, next));

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
          new UploadPartCopyCommand({ Bucket: bucket, Key: key, UploadId: mpu, PartNumber: i + 1, CopySource: `${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`, CopySourceRange: `bytes=${first}-${last}`, CopySourceIfMatch: found.etag }),
        );
        parts.push({ PartNumber: i + 1, ETag: copied.CopyPartResult?.ETag });
      }
      const sent = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: mpu, PartNumber: count + 1, Body: tail }));
      parts.push({ PartNumber: count + 1, ETag: sent.ETag });
      await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: mpu, MultipartUpload: { Parts: parts }, IfMatch: found.etag }));
    } catch (error) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: mpu })).catch(() => undefined);
      if (isConditionFailure(error)) throw new Raced();
      if (httpStatusOf(error) === 501) throw Object.assign(new Error('UploadPartCopy not supported'), { notSupported: true });
      throw toS3Error(error, 'server-side append', bucket, key);
    }
    return { key, uploadSequence: upload.upload_sequence, uploadId, applied: true, fetches: upload.fetches_in_upload, records, conflicts };
  }

  return {
    readDailyObject: rewrite.readDailyObject,
    async appendUpload(key, batch) {
      await assertConditionalWrites(key);
      for (let attempt = 0; ; attempt++) {
        const found = await head(key);
        if (!found || found.size < threshold) return rewrite.appendUpload(key, batch);
        const caps = await probe(key);
        if (!caps.uploadPartCopy) return rewrite.appendUpload(key, batch);
        try {
          const run = () => appendServerSide(key, batch, found, attempt);
          return caps.conditionalComplete ? await run() : await withLease(key, run);
        } catch (error) {
          if ((error as { notSupported?: boolean }).notSupported) {
            capabilities = { uploadPartCopy: false, conditionalComplete: false };
            return rewrite.appendUpload(key, batch);
          }
          if (!(error instanceof Raced)) throw error;
          if (attempt >= maxRetries) {
            throw new S3Error('E_S3_CONFLICT', `server-side append to s3://${bucket}/${key} lost ${attempt + 1} races in a row; the fetches stay pending and the next log or flush retries`);
          }
          await sleep(Math.floor(Math.random() * Math.min(2_000, 50 * 2 ** attempt)));
        }
      }
    },
  };
}

/**
 * Reads only the end of a daily object: where its metadata starts (the append point) and the metadata
 * itself, so totals are known without downloading the object. `found` pins the read to a known version.
 */
export async function readDailyTail(
  client: S3Client,
  bucket: string,
  key: string,
  found: { size: number; etag: string },
  tailBytes = 64 * 1024,
): Promise<{ markerAt: number; metadata: DailyMetadata }> {
  for (let span = tailBytes; ; span *= 8) {
    const start = Math.max(0, found.size - span);
    let bytes: Buffer;
    try {
      const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${found.size - 1}`, IfMatch: found.etag }));
      bytes = Buffer.from(await r.Body!.transformToByteArray());
    } catch (error) {
      if (isConditionFailure(error)) throw error;
      throw toS3Error(error, 'GetObject (tail)', bucket, key);
    }
    const at = bytes.lastIndexOf(METADATA_MARKER);
    if (at >= 0) {
      try {
        return { markerAt: start + at, metadata: JSON.parse(bytes.subarray(at + METADATA_MARKER.length, bytes.lastIndexOf('}')).toString('utf8')) as DailyMetadata };
      } catch {
        // not our layout: reported below
      }
    }
    if (start === 0 || span >= 4 * MIB) {
      throw new S3Error('E_S3_CORRUPT_OBJECT', `daily object s3://${bucket}/${key} does not end with the rotating-s3 metadata; move it aside and run flush again — nothing was overwritten`);
    }
  }
}

/** The metadata (totals) of a daily object from its tail, or undefined when it does not exist. */
export async function readDailyMetadata(client: S3Client, bucket: string, key: string): Promise<DailyMetadata | undefined> {
  let found;
  try {
    const h = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    found = { size: h.ContentLength ?? 0, etag: h.ETag ?? '' };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw toS3Error(error, 'HeadObject', bucket, key);
  }
  return (await readDailyTail(client, bucket, key, found)).metadata;
}

function readCache(path: string | undefined): Record<string, CachedCapabilities> | undefined {
  if (!path) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, CachedCapabilities>;
  } catch {
    return undefined;
  }
}

/** Whether the endpoint refuses `If-None-Match: *` on an existing key (412), as S3 does. */
export async function probeConditionalPut(client: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'probe' })).catch((error) => {
      throw toS3Error(error, 'PutObject (probe)', bucket, key);
    });
    try {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'probe', IfNoneMatch: '*' }));
      return false;
    } catch (error) {
      if (isConditionFailure(error)) return true;
      throw toS3Error(error, 'PutObject (probe)', bucket, key);
    }
  } finally {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
  }
}

/**
 * Finds out, with a throwaway key, whether the endpoint supports ranged UploadPartCopy and enforces
 * If-Match on CompleteMultipartUpload (a 5 MiB copy part is needed: smaller non-final parts are refused).
 */
export async function probeEndpoint(client: S3Client, bucket: string, key: string): Promise<Capabilities> {
  const caps: Capabilities = { uploadPartCopy: false, conditionalComplete: false };
  let mpu: string | undefined;
  try {
    const source = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.alloc(5 * MIB, 32) }));
    mpu = (await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))).UploadId;
    const copied = await client.send(new UploadPartCopyCommand({ Bucket: bucket, Key: key, UploadId: mpu, PartNumber: 1, CopySource: `${bucket}/${key}`, CopySourceRange: `bytes=0-${5 * MIB - 1}`, CopySourceIfMatch: source.ETag }));
    caps.uploadPartCopy = true;
    const tail = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: mpu, PartNumber: 2, Body: 'x' }));
    try {
      await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: mpu, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: copied.CopyPartResult?.ETag }, { PartNumber: 2, ETag: tail.ETag }] }, IfMatch: '"00000000000000000000000000000000"' }));
      mpu = undefined;
    } catch (error) {
      if (isConditionFailure(error)) caps.conditionalComplete = true;
    }
  } catch {
    // No UploadPartCopy (or no multipart at all): appends keep rewriting the object.
  } finally {
    if (mpu) await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: mpu })).catch(() => undefined);
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
  }
  return caps;
}
