/**
 * The S3 checks of `doctor`, in the order a rotation depends on them: credentials → bucket → write /
 * read → conditional writes → checksums → UploadPartCopy and the append guard → delete. Every probe
 * object lives under the stage's prefix with a `.rotating-s3-doctor-<random>` name and is deleted at
 * the end; the UploadPartCopy probe needs a 5 MiB source (S3's minimum part size), and its multipart
 * upload is always completed or aborted.
 */
import { maskUrlCredentials } from '../s3/endpoint-text.js';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { StageConfig } from '../config/schema.js';
import { isConditionFailure } from '../s3/errors.js';
import { installObjectSettings } from '../s3/object-settings.js';
import { explainS3Failure as explainPlain, type ProbeAction } from './explain.js';
import { objectSettingChecks, type ProbeEcho } from './object-checks.js';
import { check, formatDuration, type DoctorCheck } from './types.js';
import { isoOfEpochMs } from '../time/clock.js';

const MIB = 1024 * 1024;

/** Where each credential provider of the AWS default chain reports itself (`credentials.$source`). */
const CREDENTIAL_SOURCES: Array<[string, (env: NodeJS.ProcessEnv) => string]> = [
  ['CREDENTIALS_ENV_VARS_STS_WEB_ID_TOKEN', () => 'web identity token from the environment (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, e.g. EKS IRSA)'],
  ['CREDENTIALS_ENV_VARS', () => 'environment variables (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)'],
  ['CREDENTIALS_PROFILE_SSO', (env) => `IAM Identity Center (SSO) session of profile "${env['AWS_PROFILE'] ?? 'default'}"`],
  ['CREDENTIALS_SSO', (env) => `IAM Identity Center (SSO) session of profile "${env['AWS_PROFILE'] ?? 'default'}"`],
  ['CREDENTIALS_PROFILE_PROCESS', (env) => `credential_process of profile "${env['AWS_PROFILE'] ?? 'default'}"`],
  ['CREDENTIALS_PROFILE_STS_WEB_ID_TOKEN', (env) => `web identity role of profile "${env['AWS_PROFILE'] ?? 'default'}"`],
  ['CREDENTIALS_PROFILE_SOURCE_PROFILE', (env) => `role assumed by profile "${env['AWS_PROFILE'] ?? 'default'}" (source_profile)`],
  ['CREDENTIALS_PROFILE_NAMED_PROVIDER', (env) => `role assumed by profile "${env['AWS_PROFILE'] ?? 'default'}" (credential_source)`],
  ['CREDENTIALS_PROFILE_LOGIN', (env) => `console login session of profile "${env['AWS_PROFILE'] ?? 'default'}"`],
  ['CREDENTIALS_PROFILE', (env) => `shared credentials/config file, profile "${env['AWS_PROFILE'] ?? 'default'}"`],
  ['CREDENTIALS_HTTP', () => 'container credentials endpoint (ECS task role or EKS Pod Identity)'],
  ['CREDENTIALS_IMDS', () => 'EC2 instance metadata (instance profile role)'],
  ['CREDENTIALS_PROCESS', () => 'credential_process'],
  ['CREDENTIALS_CODE', () => 'credentials passed in code'],
];

export function credentialSource(source: Record<string, unknown> | undefined, env: NodeJS.ProcessEnv): string {
  for (const [feature, describe] of CREDENTIAL_SOURCES) if (source?.[feature] !== undefined) return describe(env);
  if (env['AWS_ACCESS_KEY_ID']) return 'environment variables (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)';
  if (env['AWS_PROFILE']) return `profile "${env['AWS_PROFILE']}"`;
  return 'the AWS default credential chain';
}

export function maskKey(id: string): string {
  return id.length <= 8 ? '****' : `${id.slice(0, 4)}…${id.slice(-2)}`;
}

export interface S3CheckContext {
  config: StageConfig & { bucket: string };
  client: S3Client;
  env: NodeJS.ProcessEnv;
  nowMs: number;
  /** A client with the AWS SDK's default checksum behaviour (WHEN_SUPPORTED); built from `client` when absent. */
  checksumClient?: S3Client;
  /** Skip the 5 MiB UploadPartCopy probe. */
  skipCopyProbe?: boolean;
}

/** The stage's settings decide what a 403 means (a KMS key, an expected owner): see explain.ts. */
function explainS3Failure(config: StageConfig & { bucket: string }, error: unknown, action: ProbeAction, copy = false) {
  return explainPlain(error, action, config.bucket, config.prefix, config, copy);
}

export async function runS3Checks(ctx: S3CheckContext): Promise<DoctorCheck[]> {
  const { config, client, env } = ctx;
  const bucket = config.bucket;
  const checks: DoctorCheck[] = [];
  const skipRest = (reason: string, names: string[]) => names.forEach((n) => checks.push(check(n, 'skip', `not run: ${reason}`)));
  const probeNames = [
    'write / read probe object',
    'conditional writes enforced',
    'checksum headers accepted',
    'UploadPartCopy supported',
    'delete probe object',
  ];

  // Credentials: resolving them runs the default chain without any request to S3.
  try {
    const creds = await client.config.credentials();
    const expiry = creds.expiration ? `, expires in ${formatDuration((creds.expiration.getTime() - ctx.nowMs) / 1000)}` : '';
    checks.push(
      check(
        'credentials',
        'pass',
        `access key ${maskKey(creds.accessKeyId)} from ${credentialSource((creds as { $source?: Record<string, unknown> }).$source, env)}${expiry}`,
      ),
    );
  } catch (error) {
    const said = (error as Error)?.message?.split('\n')[0] ?? String(error);
    checks.push(
      check(
        'credentials',
        'fail',
        `E_S3_AUTH: no credentials found (${said})`,
        'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run where a role is available (instance profile, ECS/EKS task role); see docs/production.md',
      ),
    );
    skipRest('no credentials', ['bucket reachable', ...probeNames]);
    return checks;
  }

  const region = await client.config.region().catch(() => 'unknown');
  const endpoint = maskUrlCredentials(env['AWS_ENDPOINT_URL_S3'] ?? env['AWS_ENDPOINT_URL'] ?? `AWS S3 (${region})`);
  const where = `s3://${bucket}${config.prefix ? `/${config.prefix}/` : '/'} at ${endpoint} (region ${region}, ${config.forcePathStyle ? 'path-style' : 'virtual-hosted-style'} URLs)`;
  try {
    // ListObjectsV2 rather than HeadBucket: same permission (s3:ListBucket), but errors come with a name.
    try {
      await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1 }));
    } catch (error) {
      // A policy that allows listing only under the prefix (an s3:prefix condition) refuses the plain list.
      if ((error as { name?: string }).name !== 'AccessDenied' || !config.prefix) throw error;
      await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1, Prefix: `${config.prefix}/` }));
    }
    checks.push(check('bucket reachable', 'pass', where));
  } catch (error) {
    const why = explainS3Failure(config, error, 's3:ListBucket');
    checks.push(check('bucket reachable', 'fail', `${where}: ${why.code} ${why.detail}`, why.fix));
    skipRest('the bucket is not reachable', probeNames);
    checks.push(...objectSettingChecks(config, undefined, undefined, false));
    return checks;
  }

  const base = `${config.prefix ? `${config.prefix}/` : ''}.rotating-s3-doctor-${randomBytes(6).toString('hex')}`;
  const key = `${base}.json`;
  const body = JSON.stringify({ probe: 'rotating-s3 doctor', stage: config.stage, at: isoOfEpochMs(ctx.nowMs) });
  const written: string[] = [];

  // Write / read.
  let writeOk = false;
  let echoPut: ProbeEcho | undefined;
  let echoGet: ProbeEcho | undefined;
  try {
    echoPut = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json', IfNoneMatch: '*' }));
    written.push(key);
    try {
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      echoGet = got;
      const text = await got.Body?.transformToString('utf8');
      if (text !== body) throw Object.assign(new Error('read back different bytes than were written'), { name: 'ContentMismatch' });
      writeOk = true;
      checks.push(check('write / read probe object', 'pass', `s3://${bucket}/${key}`));
    } catch (error) {
      const why = explainS3Failure(config, error, 's3:GetObject');
      checks.push(check('write / read probe object', 'fail', `wrote s3://${bucket}/${key} but cannot read it back: ${why.code} ${why.detail}`, why.fix));
    }
  } catch (error) {
    const why = explainS3Failure(config, error, 's3:PutObject');
    checks.push(check('write / read probe object', 'fail', `cannot write s3://${bucket}/${key}: ${why.code} ${why.detail}`, why.fix));
  }

  // Conditional writes: the probe object exists now, so If-None-Match: * must be refused.
  let conditionalPut = false;
  if (written.includes(key)) {
    try {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, IfNoneMatch: '*' }));
      checks.push(
        check(
          'conditional writes enforced',
          'fail',
          'the endpoint accepted If-None-Match: * on an existing object (it ignores conditional writes)',
          "two writers of one stage could overwrite each other's uploads here: run exactly one writer (one host) per stage, or use an endpoint that enforces them (AWS S3, Cloudflare R2, MinIO)",
        ),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        conditionalPut = true;
        checks.push(check('conditional writes enforced', 'pass', 'If-None-Match: * refused with 412, as on AWS S3'));
      } else {
        const why = explainS3Failure(config, error, 's3:PutObject');
        checks.push(check('conditional writes enforced', 'fail', `${why.code} ${why.detail}`, why.fix));
      }
    }
  } else {
    skipRest('the probe object could not be written', ['conditional writes enforced']);
  }

  checks.push(...objectSettingChecks(config, echoPut, echoGet, true));
  checks.push(await checkChecksums(ctx, `${base}.checksum.json`, written, writeOk));
  if (ctx.skipCopyProbe) skipRest('skipped on request', ['UploadPartCopy supported']);
  else checks.push(...(await checkUploadPartCopy(ctx, `${base}.copy-probe`, written, conditionalPut)));

  // Delete every probe object.
  const left: string[] = [];
  let deleteError: unknown;
  for (const k of written) {
    try {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: k }));
    } catch (error) {
      left.push(k);
      deleteError ??= error;
    }
  }
  if (written.length === 0) skipRest('nothing was written', ['delete probe object']);
  else if (left.length === 0) checks.push(check('delete probe object', 'pass', `deleted ${written.length} probe object${written.length === 1 ? '' : 's'}`));
  else {
    const why = explainS3Failure(config, deleteError, 's3:DeleteObject');
    checks.push(
      check(
        'delete probe object',
        'fail',
        `${why.code} ${why.detail}; left behind: ${left.map((k) => `s3://${bucket}/${k}`).join(', ')}`,
        `${why.fix}; rotating-s3 deletes its lease objects during server-side appends, so it needs s3:DeleteObject; then delete the probe objects by hand`,
      ),
    );
  }
  return checks;
}

/** A PutObject and GetObject with the SDK's default checksum behaviour (CRC32 headers, WHEN_SUPPORTED). */
async function checkChecksums(ctx: S3CheckContext, key: string, written: string[], writeOk: boolean): Promise<DoctorCheck> {
  const name = 'checksum headers accepted';
  if (!writeOk) return check(name, 'skip', 'not run: the plain write / read probe failed');
  const client =
    ctx.checksumClient ??
    installObjectSettings(
      new S3Client({
        region: await ctx.client.config.region(),
        credentials: ctx.client.config.credentials,
        forcePathStyle: ctx.config.forcePathStyle,
        maxAttempts: 1,
        requestChecksumCalculation: 'WHEN_SUPPORTED',
        responseChecksumValidation: 'WHEN_SUPPORTED',
        requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 },
      }),
      ctx.config,
    );
  try {
    await client.send(new PutObjectCommand({ Bucket: ctx.config.bucket, Key: key, Body: Buffer.from('checksum probe\n'), ChecksumAlgorithm: 'CRC32' }));
    written.push(key);
    const got = await client.send(new GetObjectCommand({ Bucket: ctx.config.bucket, Key: key, ChecksumMode: 'ENABLED' }));
    await got.Body?.transformToString();
    return check(
      name,
      'pass',
      'PutObject/GetObject with the AWS SDK default checksums (CRC32, WHEN_SUPPORTED) work; rotating-s3 itself sends checksums only WHEN_REQUIRED',
    );
  } catch (error) {
    const why = explainS3Failure(ctx.config, error, 's3:PutObject');
    return check(
      name,
      'warn',
      `the endpoint rejects the AWS SDK's default checksum headers (WHEN_SUPPORTED): ${why.detail}`,
      'rotating-s3 is not affected (it uses requestChecksumCalculation/responseChecksumValidation WHEN_REQUIRED); configure any other AWS SDK client or tool on this endpoint the same way: AWS_REQUEST_CHECKSUM_CALCULATION=when_required and AWS_RESPONSE_CHECKSUM_VALIDATION=when_required',
    );
  }
}

interface CachedCaps {
  uploadPartCopy?: boolean;
  conditionalComplete?: boolean;
  probedAt?: string;
}

/**
 * UploadPartCopy with a byte range from a 5 MiB source (what a server-side append does), then whether
 * CompleteMultipartUpload enforces If-Match (which decides the append guard, see s3/append-store.ts).
 */
async function checkUploadPartCopy(ctx: S3CheckContext, key: string, written: string[], conditionalPut: boolean): Promise<DoctorCheck[]> {
  const { client, config } = ctx;
  const bucket = config.bucket;
  const out: DoctorCheck[] = [];
  let uploadId: string | undefined;
  let copyOk = false;
  let step: 'source' | 'copy' = 'source';
  let conditionalComplete: boolean | undefined;
  try {
    const source = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.alloc(5 * MIB, 32) }));
    written.push(key);
    uploadId = (await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))).UploadId;
    step = 'copy';
    const copied = await client.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: 1,
        CopySource: `${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`,
        CopySourceRange: `bytes=0-${5 * MIB - 1}`,
        CopySourceIfMatch: source.ETag,
      }),
    );
    copyOk = true;
    out.push(
      check(
        'UploadPartCopy supported',
        'pass',
        'ranged UploadPartCopy of a 5 MiB part works: daily objects of 5 MiB and more are appended server-side at constant cost',
      ),
    );
    const tail = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: 2, Body: 'x' }));
    try {
      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: copied.CopyPartResult?.ETag },
              { PartNumber: 2, ETag: tail.ETag },
            ],
          },
          IfMatch: '"00000000000000000000000000000000"',
        }),
      );
      uploadId = undefined; // completed: nothing to abort
      conditionalComplete = false;
    } catch (error) {
      conditionalComplete = isConditionFailure(error) ? true : undefined;
    }
  } catch (error) {
    if (!copyOk) {
      // The copy reads its source: with SSE-KMS that needs kms:Decrypt (and s3:GetObject).
      const why = step === 'copy' ? explainS3Failure(config, error, 's3:GetObject', true) : explainS3Failure(config, error, 's3:PutObject');
      out.push(
        check(
          'UploadPartCopy supported',
          'fail',
          `${why.code} ${why.detail}`,
          // A permission (or the owner check) is fixable; an endpoint without the operation is not.
          why.code === 'E_S3_AUTH' || why.code === 'E_S3_OWNER'
            ? why.fix
            : 'rotations still work, but a daily object of 5 MiB and more is then rewritten whole on every rotation (traffic and time grow through the day): prefer an endpoint with ranged UploadPartCopy (AWS S3, Cloudflare R2, MinIO), or keep daily objects under 5 MiB',
        ),
      );
    }
  } finally {
    if (uploadId) await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
  }
  if (copyOk) out.push(await describeGuard(ctx, conditionalComplete, conditionalPut));
  return out;
}

async function describeGuard(ctx: S3CheckContext, conditionalComplete: boolean | undefined, conditionalPut: boolean): Promise<DoctorCheck> {
  const name = 'server-side append guard';
  const forced = ctx.env['ROTATING_S3_COMPLETE_GUARD'];
  const capsFile = join(ctx.config.localDir, 's3-capabilities.json');
  const resolved = await ctx.client.config.endpoint?.().catch(() => undefined);
  const endpointKey = resolved ? `${resolved.hostname}:${resolved.port ?? ''}` : 'aws';
  const cached = await readFile(capsFile, 'utf8').then(
    (t) => (JSON.parse(t) as Record<string, CachedCaps>)[endpointKey],
    () => undefined,
  );

  if (conditionalComplete === undefined)
    return check(
      name,
      'info',
      'could not tell whether CompleteMultipartUpload enforces If-Match (the probe was refused for another reason); rotations probe it themselves',
    );
  if (forced === 'if-match' && !conditionalComplete) {
    return check(
      name,
      'fail',
      'ROTATING_S3_COMPLETE_GUARD=if-match, but this endpoint ignores If-Match on CompleteMultipartUpload',
      "unset ROTATING_S3_COMPLETE_GUARD (or set it to lease): with if-match here, concurrent writers could overwrite each other's server-side appends",
    );
  }
  if (cached && cached.conditionalComplete !== undefined && cached.conditionalComplete !== conditionalComplete && !forced) {
    return check(
      name,
      'warn',
      `${capsFile} says If-Match on CompleteMultipartUpload is ${cached.conditionalComplete ? '' : 'not '}enforced at ${endpointKey}, but it now is${conditionalComplete ? '' : ' not'}`,
      `delete ${capsFile}; the next rotation probes the endpoint again`,
    );
  }
  if (!conditionalComplete && !conditionalPut) {
    return check(
      name,
      'info',
      'If-Match on CompleteMultipartUpload is not enforced, and neither are conditional PutObjects (see above): server-side appends of two writers are not protected here — one writer per stage',
    );
  }
  return conditionalComplete
    ? check(
        name,
        'info',
        `If-Match on CompleteMultipartUpload is enforced: server-side appends are guarded by If-Match${forced ? ` (ROTATING_S3_COMPLETE_GUARD=${forced})` : ''}`,
      )
    : check(
        name,
        'info',
        `If-Match on CompleteMultipartUpload is not enforced here (as on moto and MinIO): server-side appends first take a lease object <daily key>.lease with If-None-Match, which this endpoint enforces — safe${forced ? ` (ROTATING_S3_COMPLETE_GUARD=${forced})` : ''}`,
      );
}
