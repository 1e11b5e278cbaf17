/**
 * The S3 checks of `doctor`, in the order a rotation depends on them: credentials → bucket → write /
 * read → conditional writes → checksums → UploadPartCopy and the append guard → delete. Every probe
 * object lives under the stage's prefix with a `.rotating-s3-doctor-<random>` name and is deleted at
 * the end; the UploadPartCopy probe needs a 5 MiB source (S3's minimum part size), and its multipart
 * upload is always completed or aborted.
 */
import { maskUrlCredentials } from '../s3/endpoint-text.js';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { StageConfig } from '../config/schema.js';
import {
  CAPABILITIES_FILE,
  createCapabilityCache,
  probeMultipart,
  refusesOverwrite,
  type CapabilityCache,
  type MultipartProbeStep,
} from '../s3/capabilities.js';
import { installObjectSettings } from '../s3/object-settings.js';
import { explainS3Failure as explainPlain, type ProbeAction } from './explain.js';
import { objectSettingChecks, type ProbeEcho } from './object-checks.js';
import { credentialSource, maskKey } from './credentials.js';
import { check, formatDuration, type DoctorCheck } from './types.js';
import { isoOfEpochMs } from '../time/clock.js';

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

  // Before the first request: the cache is keyed by the endpoint requests really reach (s3/capabilities.ts).
  const cache = createCapabilityCache({ client, bucket, file: join(config.localDir, CAPABILITIES_FILE), now: () => ctx.nowMs });
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
      conditionalPut = await refusesOverwrite(client, bucket, key, body);
      checks.push(
        conditionalPut
          ? check('conditional writes enforced', 'pass', 'If-None-Match: * refused with 412, as on AWS S3')
          : check(
              'conditional writes enforced',
              'fail',
              'the endpoint accepted If-None-Match: * on an existing object (it ignores conditional writes)',
              "two writers of one stage could overwrite each other's uploads here: run exactly one writer (one host) per stage, or use an endpoint that enforces them (AWS S3, Cloudflare R2, MinIO)",
            ),
      );
    } catch (error) {
      const why = explainS3Failure(config, error, 's3:PutObject');
      checks.push(check('conditional writes enforced', 'fail', `${why.code} ${why.detail}`, why.fix));
    }
  } else {
    skipRest('the probe object could not be written', ['conditional writes enforced']);
  }

  checks.push(...objectSettingChecks(config, echoPut, echoGet, true));
  checks.push(await checkChecksums(ctx, `${base}.checksum.json`, written, writeOk));
  if (ctx.skipCopyProbe) skipRest('skipped on request', ['UploadPartCopy supported']);
  else checks.push(...(await checkUploadPartCopy(ctx, `${base}.copy-probe`, written, conditionalPut, cache)));

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

/** The IAM action a refused request of the multipart probe needs; UploadPartCopy reads its source (kms:Decrypt with SSE-KMS). */
function explainStep(config: StageConfig & { bucket: string }, step: MultipartProbeStep) {
  const why =
    step.call === 'UploadPartCopy' ? explainS3Failure(config, step.error, 's3:GetObject', true) : explainS3Failure(config, step.error, 's3:PutObject');
  return { ...why, fix: `${step.call} was refused: ${why.fix}` };
}

/**
 * UploadPartCopy with a byte range from a 5 MiB source (what a server-side append does), then whether
 * CompleteMultipartUpload enforces If-Match (which decides the append guard, see s3/append-store.ts): the
 * store's own probe (s3/capabilities.ts), each refused request explained.
 */
async function checkUploadPartCopy(
  ctx: S3CheckContext,
  key: string,
  written: string[],
  conditionalPut: boolean,
  cache: CapabilityCache,
): Promise<DoctorCheck[]> {
  const probe = await probeMultipart(ctx.client, ctx.config.bucket, key, { keepObject: true });
  if (probe.steps[0]?.outcome === 'done') written.push(key);
  const failed = probe.steps.find((s) => s.outcome === 'error');
  if (!probe.uploadPartCopy) {
    const why = failed
      ? explainStep(ctx.config, failed)
      : { code: 'E_S3', detail: 'the probe stopped without an answer', fix: 'see docs/troubleshooting.md (E_S3)' };
    // A permission (or the owner check) is fixable; an endpoint without the operation is not.
    const fixable = why.code === 'E_S3_AUTH' || why.code === 'E_S3_OWNER';
    return [
      check(
        'UploadPartCopy supported',
        'fail',
        `${why.code} ${why.detail}`,
        fixable
          ? why.fix
          : `${failed?.call ?? 'UploadPartCopy'} was refused: rotations still work, but a daily object of 5 MiB and more is then rewritten whole on every rotation (traffic and time grow through the day): prefer an endpoint with ranged UploadPartCopy (AWS S3, Cloudflare R2, MinIO), or keep daily objects under 5 MiB`,
      ),
    ];
  }
  const complete = probe.steps.find((s) => s.call === 'CompleteMultipartUpload');
  const conditionalComplete = complete?.outcome === 'precondition-failed' ? true : complete?.outcome === 'done' ? false : undefined;
  return [
    check(
      'UploadPartCopy supported',
      'pass',
      'ranged UploadPartCopy of a 5 MiB part works: daily objects of 5 MiB and more are appended server-side at constant cost',
    ),
    await describeGuard(ctx, conditionalComplete, conditionalPut, cache, failed),
  ];
}

async function describeGuard(
  ctx: S3CheckContext,
  conditionalComplete: boolean | undefined,
  conditionalPut: boolean,
  cache: CapabilityCache,
  failed: MultipartProbeStep | undefined,
): Promise<DoctorCheck> {
  const name = 'server-side append guard';
  const forced = ctx.env['ROTATING_S3_COMPLETE_GUARD'];
  const capsFile = join(ctx.config.localDir, CAPABILITIES_FILE);
  const cached = await cache.read();

  if (conditionalComplete === undefined) {
    const refused = failed ? ` (${failed.call}: ${explainStep(ctx.config, failed).detail})` : '';
    return check(
      name,
      'info',
      `could not tell whether CompleteMultipartUpload enforces If-Match (the probe was refused for another reason${refused}); rotations probe it themselves`,
    );
  }
  if (forced === 'if-match' && !conditionalComplete) {
    return check(
      name,
      'fail',
      'ROTATING_S3_COMPLETE_GUARD=if-match, but this endpoint ignores If-Match on CompleteMultipartUpload',
      "unset ROTATING_S3_COMPLETE_GUARD (or set it to lease): with if-match here, concurrent writers could overwrite each other's server-side appends",
    );
  }
  if (cached.conditionalComplete !== undefined && cached.conditionalComplete !== conditionalComplete && !forced) {
    return check(
      name,
      'warn',
      `${capsFile} says If-Match on CompleteMultipartUpload is ${cached.conditionalComplete ? '' : 'not '}enforced at ${cache.describe()}, but it now is${conditionalComplete ? '' : ' not'}`,
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
