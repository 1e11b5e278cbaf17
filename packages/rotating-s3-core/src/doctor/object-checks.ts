/**
 * `doctor`'s lines for the object settings (SPEC §8, docs/production.md "Encryption and bucket
 * ownership"): what is configured, and whether the write probe shows it in effect. The probe objects
 * were written through the same client middleware as every rotation (s3/object-settings.ts), so what
 * S3 answered for them is what the daily objects get.
 */
import type { StageConfig } from '../config/schema.js';
import { check, type DoctorCheck } from './types.js';

/** What PutObject / GetObject answered for the probe object (the SDK's output fields). */
export interface ProbeEcho {
  ServerSideEncryption?: string | undefined;
  SSEKMSKeyId?: string | undefined;
  StorageClass?: string | undefined;
}

type Settings = Pick<StageConfig, 'sse' | 'sseKmsKeyId' | 'storageClass' | 'expectedBucketOwner'>;

/** The KMS action a denied probe lacks, by the S3 action it was doing. */
export function kmsActionFor(s3Action: string): string {
  return s3Action === 's3:PutObject' ? 'kms:GenerateDataKey' : 'kms:Decrypt';
}

/**
 * One line per setting. `written`: the probe's PutObject answer (undefined when the probe failed);
 * `read`: its GetObject answer; `bucketOk`: the bucket check (which carried the owner) passed.
 */
export function objectSettingChecks(settings: Settings, written: ProbeEcho | undefined, read: ProbeEcho | undefined, bucketOk: boolean): DoctorCheck[] {
  const out: DoctorCheck[] = [];
  const notRun = 'not run: the write probe failed';

  // Encryption.
  const name = 'encryption (sse)';
  if (settings.sse === undefined) {
    const seen = written?.ServerSideEncryption;
    out.push(
      check(
        name,
        'info',
        `not set: objects get the bucket's default encryption${seen ? ` (the probe got ${seen}${written?.SSEKMSKeyId ? ` with key ${written.SSEKMSKeyId}` : ''})` : ''}; set ROTATING_S3_SSE to require one`,
      ),
    );
  } else if (!written) {
    out.push(check(name, 'skip', `${settings.sse}${settings.sseKmsKeyId ? ` with key ${settings.sseKmsKeyId}` : ''}: ${notRun}`));
  } else if (written.ServerSideEncryption !== settings.sse) {
    out.push(
      check(
        name,
        'warn',
        `asked for ${settings.sse}, but the endpoint answered ${written.ServerSideEncryption ?? 'no x-amz-server-side-encryption header'}`,
        'this endpoint may not implement server-side encryption (many S3-compatible servers ignore it); check its documentation, or unset ROTATING_S3_SSE',
      ),
    );
  } else {
    const key = written.SSEKMSKeyId;
    const kms = settings.sse !== 'AES256';
    if (kms && settings.sseKmsKeyId && key && !key.includes(settings.sseKmsKeyId.replace(/^alias\//, ''))) {
      out.push(
        check(
          name,
          'warn',
          `${settings.sse}: asked for key ${settings.sseKmsKeyId}, S3 used ${key}`,
          'an alias resolves to its key ARN, which is fine; otherwise check ROTATING_S3_SSE_KMS_KEY_ID and the bucket policy',
        ),
      );
    } else {
      out.push(
        check(
          name,
          'pass',
          kms
            ? `${settings.sse} with key ${key ?? settings.sseKmsKeyId ?? "the account's aws/s3 key"} (x-amz-server-side-encryption-aws-kms-key-id of the probe)`
            : `${settings.sse} (x-amz-server-side-encryption of the probe)`,
        ),
      );
    }
  }

  // Storage class: S3 omits the header for STANDARD.
  const sc = 'storage class';
  if (settings.storageClass === undefined) out.push(check(sc, 'info', "not set: STANDARD (or the bucket's lifecycle rules)"));
  else if (!read) out.push(check(sc, 'skip', `${settings.storageClass}: not run: the probe could not be read back`));
  else {
    const got = read.StorageClass ?? 'STANDARD';
    out.push(
      got === settings.storageClass
        ? check(sc, 'pass', `${got} (x-amz-storage-class of the probe)`)
        : check(
            sc,
            'warn',
            `asked for ${settings.storageClass}, the probe is stored as ${got}`,
            'the endpoint may not implement storage classes; check its documentation, or unset ROTATING_S3_STORAGE_CLASS',
          ),
    );
  }

  // Expected owner: every request carried it, so a passing bucket check proves it.
  const owner = 'expected bucket owner';
  if (settings.expectedBucketOwner === undefined)
    out.push(
      check(
        owner,
        'info',
        "not set: requests do not check the bucket's account; set ROTATING_S3_EXPECTED_BUCKET_OWNER to the 12-digit account id to refuse a bucket of another account",
      ),
    );
  else if (bucketOk)
    out.push(check(owner, 'pass', `account ${settings.expectedBucketOwner}: sent on every request as x-amz-expected-bucket-owner, and the bucket accepted it`));
  else out.push(check(owner, 'skip', `account ${settings.expectedBucketOwner}: not confirmed, the bucket check failed (see above)`));
  return out;
}
