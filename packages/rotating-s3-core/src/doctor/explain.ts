/**
 * Turns an S3 failure seen by `doctor` into what a person needs: the error code of
 * docs/troubleshooting.md, what the service said, and the one fix that applies. More specific than the
 * engine's mapping (s3/errors.ts): doctor knows which probe failed, so "403" becomes "the secret key does
 * not match" or "the policy lacks s3:DeleteObject". Never includes credentials.
 */
import type { StageConfig } from '../config/schema.js';
import { classifyS3Error, expectedOwnerOf, httpStatusOf, isOwnerMismatch, kmsActionOf } from '../s3/errors.js';

export interface Explained {
  /** Error code (docs/troubleshooting.md). */
  code: string;
  /** What happened: the S3 error name and HTTP status, or the network error. */
  detail: string;
  fix: string;
}

interface SdkLikeError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string> };
}

/** The IAM action each doctor probe needs (docs/production.md has the whole policy). */
export type ProbeAction = 's3:ListBucket' | 's3:PutObject' | 's3:GetObject' | 's3:DeleteObject' | 's3:AbortMultipartUpload';

/** The settings that change what a 403 means: a KMS key to use, an owner to match. */
export type ExplainSettings = Pick<StageConfig, 'sse' | 'expectedBucketOwner'>;

/** `copy`: the action is the UploadPartCopy of a server-side append (it reads, so kms:Decrypt). */
export function explainS3Failure(error: unknown, action: ProbeAction, bucket: string, prefix = '', settings: ExplainSettings = {}, copy = false): Explained {
  const explained = explainPlain(error, action, bucket, prefix);
  if (isOwnerMismatch(error)) {
    return {
      code: 'E_S3_OWNER',
      detail: explained.detail,
      fix: `S3 refused a request carrying expected bucket owner ${expectedOwnerOf(error)}: if bucket "${bucket}" belongs to another account, fix ROTATING_S3_EXPECTED_BUCKET_OWNER (or ROTATING_S3_BUCKET, if the name is wrong); if it is that account's, ${explained.fix}`,
    };
  }
  const kms = settings.sse === 'aws:kms' || settings.sse === 'aws:kms:dsse';
  if (kms && explained.code === 'E_S3_AUTH' && action !== 's3:ListBucket' && action !== 's3:DeleteObject') {
    const needed = kmsActionOf(error) ?? (action === 's3:PutObject' && !copy ? 'kms:GenerateDataKey' : 'kms:Decrypt');
    const why = copy
      ? ' (UploadPartCopy decrypts the source object of a server-side append)'
      : action === 's3:PutObject'
        ? ' (S3 asks KMS for a data key to encrypt each object)'
        : ' (S3 decrypts each object it returns)';
    return { ...explained, fix: `with sse ${settings.sse}, also grant ${needed} on the KMS key${why}; ${explained.fix}` };
  }
  return explained;
}

function explainPlain(error: unknown, action: ProbeAction, bucket: string, prefix: string): Explained {
  const e = (error ?? {}) as SdkLikeError;
  const name = e.name && e.name !== 'Error' ? e.name : (e.code ?? 'Error');
  const status = httpStatusOf(error);
  const message = e.message?.split('\n')[0] ?? '';
  const said = status ? `${name} (HTTP ${status})` : message.includes(name) ? message : `${name}${message ? `: ${message}` : ''}`;
  const code = classifyS3Error(error);
  const region = e.$response?.headers?.['x-amz-bucket-region'];

  switch (name) {
    case 'InvalidAccessKeyId':
      return {
        code,
        detail: said,
        fix: 'the access key id is unknown to this endpoint: check AWS_ACCESS_KEY_ID / AWS_PROFILE, and that AWS_ENDPOINT_URL_S3 points at the provider that issued the key',
      };
    case 'SignatureDoesNotMatch':
      return {
        code,
        detail: said,
        fix: 'the secret key does not match the access key id: check AWS_SECRET_ACCESS_KEY (or the profile), and AWS_REGION for providers that sign per region',
      };
    case 'ExpiredToken':
    case 'InvalidToken':
    case 'TokenRefreshRequired':
      return {
        code,
        detail: said,
        fix: 'the session credentials expired: refresh them (aws sso login, a new role session) or unset a stale AWS_SESSION_TOKEN',
      };
    case 'RequestTimeTooSkewed':
      return { code, detail: said, fix: "this host's clock is off by more than 15 minutes: enable NTP (timedatectl set-ntp true)" };
    case 'AccessDenied':
    case 'AllAccessDisabled':
    case 'Forbidden':
      return {
        code,
        detail: said,
        fix: `the credentials are valid but may not do this: grant ${action} on ${action === 's3:ListBucket' ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${prefix ? `${prefix}/` : ''}*`} (docs/production.md has the minimal IAM policy)`,
      };
    case 'NoSuchBucket':
      return {
        code: 'E_S3_NO_BUCKET',
        detail: said,
        fix: `bucket "${bucket}" does not exist at this endpoint: create it, or fix ROTATING_S3_BUCKET / "bucket" (and AWS_ENDPOINT_URL_S3)`,
      };
    case 'PermanentRedirect':
    case 'AuthorizationHeaderMalformed':
    case 'IllegalLocationConstraintException':
      return {
        code,
        detail: said,
        fix: `the bucket lives in another region${region ? ` (${region})` : ''}: set AWS_REGION${region ? `=${region}` : " to the bucket's region"}`,
      };
    default:
      break;
  }
  if (status === 403 || status === 401) {
    // A HEAD or a body-less 403 does not say why: name every usual cause.
    return {
      code: 'E_S3_AUTH',
      detail: said,
      fix: `credentials rejected or not allowed ${action}: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) and the IAM policy in docs/production.md`,
    };
  }
  if (status === 301 || status === 307) {
    return {
      code,
      detail: said,
      fix: `the bucket is in another region${region ? ` (${region})` : ''} or needs path-style URLs: set AWS_REGION, or ROTATING_S3_FORCE_PATH_STYLE=true for S3-compatible servers`,
    };
  }
  if (code === 'E_S3_UNREACHABLE') {
    const dns = /ENOTFOUND|EAI_AGAIN|getaddrinfo/.test(`${e.code ?? ''} ${e.message ?? ''} ${name}`);
    return {
      code,
      detail: said,
      fix: dns
        ? 'the endpoint host name does not resolve: check AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL; with a custom endpoint and a bucket name in the host, set ROTATING_S3_FORCE_PATH_STYLE=true'
        : 'nothing answers at the endpoint: check AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (scheme, host, port), the network and any proxy; pending fetches stay local until it is back',
    };
  }
  if (status === 501 || name === 'NotImplemented') {
    return { code: 'E_S3', detail: said, fix: 'this endpoint does not implement the operation' };
  }
  return { code, detail: said, fix: 'see the S3 error name in docs/troubleshooting.md (E_S3); rerun with a working endpoint' };
}
