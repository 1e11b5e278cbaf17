/**
 * Maps AWS SDK failures to typed S3Errors whose message says what failed and how to fix it.
 * Never includes credentials: only the operation, bucket, key, HTTP status and the service's error name.
 */
import { S3Error, type S3ErrorCode } from '../errors.js';
import { EXPECTED_OWNER_MARK } from './object-settings.js';

interface SdkLikeError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);
const AUTH_NAMES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'ExpiredToken',
  'InvalidToken',
  'CredentialsProviderError',
  'Forbidden',
  'AllAccessDisabled',
]);

export function httpStatusOf(error: unknown): number | undefined {
  const e = error as SdkLikeError;
  return e?.$metadata?.httpStatusCode ?? e?.$response?.statusCode;
}

/** True for a failed precondition (412) or a concurrent-write conflict (409): re-read and retry. */
export function isConditionFailure(error: unknown): boolean {
  const status = httpStatusOf(error);
  const name = (error as SdkLikeError)?.name;
  return status === 412 || status === 409 || name === 'PreconditionFailed' || name === 'ConditionalRequestConflict';
}

export function isNotFound(error: unknown): boolean {
  const name = (error as SdkLikeError)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || (httpStatusOf(error) === 404 && name !== 'NoSuchBucket');
}

/** The expected bucket owner a 403 request carried (set by s3/object-settings.ts), if any. */
export function expectedOwnerOf(error: unknown): string | undefined {
  const owner = (error as Record<string, unknown> | undefined)?.[EXPECTED_OWNER_MARK];
  return typeof owner === 'string' ? owner : undefined;
}

/** The KMS action a 403 names (`kms:GenerateDataKey`, `kms:Decrypt`, …), when the service said it. */
export function kmsActionOf(error: unknown): string | undefined {
  return /\b(kms:[A-Za-z]+)/.exec((error as SdkLikeError)?.message ?? '')?.[1];
}

/**
 * A 403 that S3 gives when the bucket belongs to another account than `x-amz-expected-bucket-owner`:
 * a bare "Access Denied" (no policy or KMS explanation, which AWS adds to permission denials) on a
 * request that carried the owner.
 */
export function isOwnerMismatch(error: unknown): boolean {
  if (httpStatusOf(error) !== 403 || expectedOwnerOf(error) === undefined) return false;
  const message = ((error as SdkLikeError)?.message ?? '').trim();
  return !/not authorized|kms|because|explicit deny|policy/i.test(message);
}

export function classifyS3Error(error: unknown): S3ErrorCode {
  const e = error as SdkLikeError;
  const name = e?.name ?? '';
  const status = httpStatusOf(error);
  if (name === 'NoSuchBucket') return 'E_S3_NO_BUCKET';
  if (isOwnerMismatch(error)) return 'E_S3_OWNER';
  if (AUTH_NAMES.has(name) || status === 403 || status === 401) return 'E_S3_AUTH';
  if (isConditionFailure(error)) return 'E_S3_CONFLICT';
  if (
    NETWORK_CODES.has(e?.code ?? '') ||
    NETWORK_CODES.has(name) ||
    name === 'TimeoutError' ||
    name === 'RequestTimeout' ||
    /socket hang up|connect ECONNREFUSED|getaddrinfo/.test(e?.message ?? '')
  ) {
    return 'E_S3_UNREACHABLE';
  }
  return 'E_S3';
}

const FIXES: Record<S3ErrorCode, string> = {
  E_S3_UNREACHABLE: 'check the endpoint (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL) and the network; pending fetches stay local and are retried',
  E_S3_AUTH: 'check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE) and that they may read and write the bucket',
  E_S3_NO_BUCKET: 'create the bucket or fix ROTATING_S3_BUCKET / "bucket" in the stage config',
  E_S3_CONFLICT: 'another writer kept changing the daily object; the fetches stay pending and the next log or flush retries',
  E_S3_CORRUPT_OBJECT: 'the daily object is not in the rotating-s3 format; move it aside in S3 and run flush again',
  E_S3_OWNER:
    'the request carried the expected bucket owner and S3 refused it: check that the bucket belongs to that 12-digit account (fix ROTATING_S3_EXPECTED_BUCKET_OWNER / "expectedBucketOwner", or ROTATING_S3_BUCKET if the bucket name is wrong); if it does, the credentials lack a permission (run doctor)',
  E_S3_NO_CONDITIONAL: 'the endpoint ignores conditional writes: run one writer per stage and set ROTATING_S3_SINGLE_WRITER=true',
  E_S3: 'see the S3 error name; pending fetches stay local and are retried by the next log or flush',
};

/** Wraps an SDK error for `operation` on `s3://bucket/key`. */
export function toS3Error(error: unknown, operation: string, bucket: string, key?: string): S3Error {
  if (error instanceof S3Error) return error;
  const e = error as SdkLikeError;
  const code = classifyS3Error(error);
  const status = httpStatusOf(error);
  // Responses without a body (HEAD) carry no S3 error name: the SDK says "Unknown" or "NotFound".
  const named = e?.name && !['Error', 'Unknown', 'UnknownError'].includes(e.name) ? e.name : undefined;
  const what = named ?? (status === 403 ? 'Forbidden (no error name on this response; run doctor for the cause)' : (e?.code ?? 'error'));
  const detail = status ? `${what} (HTTP ${status})` : `${what}${e?.message ? `: ${e.message.split('\n')[0]}` : ''}`;
  const target = `s3://${bucket}${key ? `/${key}` : ''}`;
  const owner = code === 'E_S3_OWNER' ? ` with expected bucket owner ${expectedOwnerOf(error)}` : '';
  const kms = code === 'E_S3_AUTH' ? kmsActionOf(error) : undefined;
  const fix = kms
    ? `the credentials may not use the bucket's KMS key: grant ${kms} on the key (docs/production.md, "Encryption and bucket ownership")`
    : FIXES[code];
  return new S3Error(code, `S3 ${operation} ${target}${owner} failed: ${detail}; ${fix}`, { cause: error });
}
