/** Today's totals from the S3 daily object, for `status`. Loads the AWS SDK. */
import type { StageConfig } from '../config/schema.js';
import { RotatingS3Error, describeError } from '../errors.js';
import { createS3Client } from '../s3/client.js';
import { createRewriteStore } from '../s3/daily-store.js';

export interface S3Status {
  daily_object_exists: boolean;
  total_uploads_today: number;
  total_fetches_today: number;
  total_records_today: number;
  last_upload: string | null;
  error?: { code: string; message: string };
}

export async function readS3Status(config: StageConfig, key: string, date: string): Promise<S3Status> {
  const empty: S3Status = { daily_object_exists: false, total_uploads_today: 0, total_fetches_today: 0, total_records_today: 0, last_upload: null };
  try {
    const client = createS3Client(config, { maxAttempts: 2, connectionTimeoutMs: 3_000, requestTimeoutMs: 15_000 });
    const object = await createRewriteStore({ client, bucket: config.bucket! }).readDailyObject(key, date);
    if (!object) return empty;
    const meta = object.daily_metadata;
    return {
      daily_object_exists: true,
      total_uploads_today: meta.total_uploads_today,
      total_fetches_today: meta.total_fetches_today ?? object.uploads.reduce((n, u) => n + u.fetches_in_upload, 0),
      total_records_today: meta.total_records_today,
      last_upload: meta.last_upload,
    };
  } catch (error) {
    return { ...empty, error: { code: error instanceof RotatingS3Error ? error.code : 'E_S3', message: describeError(error) } };
  }
}
