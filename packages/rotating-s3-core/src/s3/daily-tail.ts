/**
 * The end of a daily object: its metadata and where it starts (the append point), read without downloading
 * the object. The writer's layout (daily-object.ts) puts `daily_metadata` last, after the marker
 * `\n],\n"daily_metadata":`, so a ranged GET of the last bytes holds it. Used by the server-side append
 * (append-store.ts) and by `status` (cli/s3-status.ts); a whole object is read by daily-object-read.ts.
 */
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3Error } from '../errors.js';
import { METADATA_MARKER, type DailyMetadata } from './daily-object.js';
import { isConditionFailure, isNotFound, toS3Error } from './errors.js';

/** A daily object as HeadObject sees it. */
export interface Found {
  size: number;
  etag: string;
}

/** HeadObject of a daily object: its size and ETag, or undefined when it does not exist. */
export async function headDailyObject(client: S3Client, bucket: string, key: string): Promise<Found | undefined> {
  try {
    const h = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { size: h.ContentLength ?? 0, etag: h.ETag ?? '' };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw toS3Error(error, 'HeadObject', bucket, key);
  }
}

/**
 * Where the metadata starts in `bytes` (the last bytes of an object) and the metadata, or undefined when the
 * real marker is not in view: the marker text can also occur inside a payload string.
 */
function metadataIn(bytes: Buffer): { at: number; metadata: DailyMetadata } | undefined {
  const at = bytes.lastIndexOf(METADATA_MARKER);
  if (at < 0) return undefined;
  try {
    return { at, metadata: JSON.parse(bytes.subarray(at + METADATA_MARKER.length, bytes.lastIndexOf('}')).toString('utf8')) as DailyMetadata };
  } catch {
    return undefined;
  }
}

/**
 * Reads only the end of a daily object: where its metadata starts (the append point) and the metadata
 * itself, so totals are known without downloading the object. `found` pins the read to a known version
 * (a changed object fails the read with a condition failure). Throws E_S3_CORRUPT_OBJECT when the object
 * does not end in the writer's layout.
 */
export async function readDailyTail(
  client: S3Client,
  bucket: string,
  key: string,
  found: Found,
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
    const seen = metadataIn(bytes);
    // Not in view yet: keep widening until the real marker is.
    if (seen) return { markerAt: start + seen.at, metadata: seen.metadata };
    if (start === 0) {
      throw new S3Error(
        'E_S3_CORRUPT_OBJECT',
        `daily object s3://${bucket}/${key} does not end with the rotating-s3 metadata; move it aside and run flush again — nothing was overwritten`,
      );
    }
  }
}

/**
 * The metadata from the last `tailBytes` of the object (widened as `readDailyTail` does), or undefined when
 * the tail is not in the writer's layout (another tool wrote the object): the caller then reads it whole.
 */
export async function readTailMetadata(client: S3Client, bucket: string, key: string, found: Found, tailBytes?: number): Promise<DailyMetadata | undefined> {
  try {
    const { metadata } = await readDailyTail(client, bucket, key, found, tailBytes);
    return typeof metadata.total_uploads_today === 'number' && typeof metadata.total_fetches_today === 'number' ? metadata : undefined;
  } catch (error) {
    if (error instanceof S3Error && error.code === 'E_S3_CORRUPT_OBJECT') return undefined;
    if (error instanceof S3Error) throw error;
    throw toS3Error(error, 'GetObject (tail)', bucket, key);
  }
}
