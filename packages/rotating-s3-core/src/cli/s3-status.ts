/**
 * Today's totals from the S3 daily object, for `status`. Loads the AWS SDK.
 *
 * Reads only what it needs: HeadObject for the size, then the tail (the metadata is the last line of a
 * rotating-s3 daily object, see s3/daily-object.ts), so `status` costs the same on a 500 MiB day as on
 * an empty one. A small object (under 256 KiB), or one whose tail is not in that layout (written by
 * another tool), is read whole and validated.
 */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { StageConfig } from '../config/schema.js';
import { RotatingS3Error, S3Error, describeError } from '../errors.js';
import { createS3Client } from '../s3/client.js';
import { readDailyTail } from '../s3/append-store.js';
import type { DailyMetadata } from '../s3/daily-object.js';
import { createRewriteStore } from '../s3/daily-store.js';
import { isNotFound, toS3Error } from '../s3/errors.js';

export interface S3Status {
  key: string;
  daily_object_exists: boolean;
  /** Size of the daily object in bytes (0 when it does not exist). */
  size_bytes: number;
  total_uploads_today: number;
  total_fetches_today: number;
  total_records_today: number;
  first_upload: string | null;
  last_upload: string | null;
  /** Present when S3 could not be read: the code (docs/troubleshooting.md) and the one-line message. */
  error?: { code: string; message: string };
}

const WHOLE_BELOW = 256 * 1024;
const TAIL_BYTES = 64 * 1024;

export interface ReadS3StatusOptions {
  /** Default: a client from the environment with short timeouts (status must answer quickly). */
  client?: S3Client;
}

export async function readS3Status(config: StageConfig, key: string, date: string, options: ReadS3StatusOptions = {}): Promise<S3Status> {
  const empty: S3Status = {
    key,
    daily_object_exists: false,
    size_bytes: 0,
    total_uploads_today: 0,
    total_fetches_today: 0,
    total_records_today: 0,
    first_upload: null,
    last_upload: null,
  };
  const bucket = config.bucket!;
  try {
    const client = options.client ?? createS3Client(config, { maxAttempts: 2, connectionTimeoutMs: 3_000, requestTimeoutMs: 15_000 });
    let found: { size: number; etag: string };
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      found = { size: head.ContentLength ?? 0, etag: head.ETag ?? '' };
    } catch (error) {
      if (isNotFound(error)) return empty;
      throw toS3Error(error, 'HeadObject', bucket, key);
    }
    const size = found.size;
    const meta = size >= WHOLE_BELOW ? await readTailMetadata(client, bucket, key, found) : undefined;
    if (meta) return fromMetadata(empty, size, meta);

    const object = await createRewriteStore({ client, bucket }).readDailyObject(key, date);
    if (!object) return empty;
    return fromMetadata(empty, size, {
      ...object.daily_metadata,
      total_fetches_today: object.daily_metadata.total_fetches_today ?? object.uploads.reduce((n, u) => n + u.fetches_in_upload, 0),
    });
  } catch (error) {
    return { ...empty, error: { code: error instanceof RotatingS3Error ? error.code : 'E_S3', message: describeError(error) } };
  }
}

function fromMetadata(empty: S3Status, size: number, meta: DailyMetadata): S3Status {
  return {
    ...empty,
    daily_object_exists: true,
    size_bytes: size,
    total_uploads_today: meta.total_uploads_today,
    total_fetches_today: meta.total_fetches_today,
    total_records_today: meta.total_records_today,
    first_upload: meta.first_upload_today ?? null,
    last_upload: meta.last_upload ?? null,
  };
}

/**
 * The metadata from the last bytes of the object (s3/append-store.ts reads it the same way before a
 * server-side append), or undefined when the tail is not in the rotating-s3 layout.
 */
async function readTailMetadata(client: S3Client, bucket: string, key: string, found: { size: number; etag: string }): Promise<DailyMetadata | undefined> {
  try {
    const { metadata } = await readDailyTail(client, bucket, key, found, TAIL_BYTES);
    return typeof metadata.total_uploads_today === 'number' && typeof metadata.total_fetches_today === 'number' ? metadata : undefined;
  } catch (error) {
    if (error instanceof S3Error && error.code === 'E_S3_CORRUPT_OBJECT') return undefined;
    if (error instanceof S3Error) throw error;
    throw toS3Error(error, 'GetObject (tail)', bucket, key);
  }
}
