/**
 * The `upload_error` a user reads when a rotation failed (`log`'s JSON line, `flush`, the events file).
 * The S3 layer names the request that failed, which may be an object the user never wrote (the
 * capability probe `<key>.probe-…`, a lease, a multipart part); the user's question is which daily
 * object did not get its upload, in which bucket, and what to do. So the message names the daily object
 * and says to run `doctor`, keeping the S3 error name and HTTP status for the details.
 */
import { RotatingS3Error, describeError } from '../errors.js';

/** `S3 <operation> [(<detail>)] s3://<bucket>/<key> failed: <S3 error> (HTTP n); <fix>` from s3/errors.ts. */
const S3_MESSAGE = /^S3 (\S+)(?: \([^)]*\))? s3:\/\/\S+ failed: (.*?); (.*)$/;

export function uploadErrorInfo(error: unknown, target: { bucket: string; key: string; stage: string; fetches: number }): { code: string; message: string } {
  const code = error instanceof RotatingS3Error ? error.code : 'E_S3';
  const text = describeError(error);
  const daily = `daily object ${target.key} in bucket ${target.bucket}`;
  const doctor = `run \`${target.stage}_rotating_s3 doctor\` to check the connection`;
  const kept = `${target.fetches === 1 ? 'the fetch stays' : `the ${target.fetches} fetches stay`} pending and the next log or flush retries`;
  const parts = S3_MESSAGE.exec(text);
  if (!parts) return { code, message: `upload to ${daily} failed: ${text}; ${kept}` };
  const [, operation, what, fix] = parts;
  return { code, message: `upload to ${daily} failed: S3 ${operation} answered ${what}; ${stripRetry(fix!)}, then ${doctor}; ${kept}` };
}

/** The S3 layer's fixes may already say that fetches are retried; say it once. */
function stripRetry(fix: string): string {
  return fix
    .replace(/;? ?(?:pending fetches stay local and are retried(?: by the next log or flush)?|the fetches stay pending and the next log or flush retries)$/, '')
    .trim();
}
