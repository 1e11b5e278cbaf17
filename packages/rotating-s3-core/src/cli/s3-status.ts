/**
 * Today's totals from the S3 daily object, for `status`. Loads the AWS SDK.
 *
 * Reads only what it needs: HeadObject for the size, then the tail (the metadata is the last line of a
 * rotating-s3 daily object, read by s3/daily-tail.ts), so `status` costs the same on a 500 MiB day as on
 * an empty one. A small object (under 256 KiB), or one whose tail is not in that layout (written by
 * another tool), is read whole and validated.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { StageConfig } from '../config/schema.js';
import { RotatingS3Error, describeError } from '../errors.js';
import { createS3Client } from '../s3/client.js';
import { fetchesToday, type DailyMetadata } from '../s3/daily-object.js';
import { readDailyObjectWithEtag } from '../s3/daily-store.js';
import { headDailyObject, readTailMetadata } from '../s3/daily-tail.js';

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
    const found = await headDailyObject(client, bucket, key);
    if (!found) return empty;
    const size = found.size;
    const meta = size >= WHOLE_BELOW ? await readTailMetadata(client, bucket, key, found, TAIL_BYTES) : undefined;
    if (meta) return fromMetadata(empty, size, meta);

    const object = (await readDailyObjectWithEtag(client, bucket, key, date))?.object;
    if (!object) return empty;
    return fromMetadata(empty, size, { ...object.daily_metadata, total_fetches_today: fetchesToday(object) });
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
