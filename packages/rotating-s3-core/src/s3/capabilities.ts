/**
 * What an S3 endpoint enforces, found by probing it once and cached per endpoint in
 * `<localDir>/s3-capabilities.json`:
 *
 *   { "<endpoint>|<bucket>|<credential scope>": { conditionalPut, uploadPartCopy, conditionalComplete, probedAt } }
 *
 * The cache key is the endpoint that requests really went to (captured from the first request of the
 * client, so an endpoint set through AWS_ENDPOINT_URL_S3 counts like one set in code), the bucket and a
 * hash of the access key id: a local directory that talks to another endpoint, bucket or account probes
 * again. An entry older than `CACHE_TTL_MS` is probed again too (a proxy may have been put in front).
 *
 * Probe objects live under `<prefix>/.rotating-s3-probes/<epoch ms>-<random>` (never beside the daily
 * objects, so readers listing `<stage>_json_log_` never see them) and are deleted after use. A probe
 * left by a writer killed mid-probe is deleted by the next probe once it is older than
 * `STALE_PROBE_MS`; a lifecycle rule on that prefix (docs/production.md) is the belt to those braces.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { DurableFs } from '../local/durable-fs.js';
import { isConditionFailure, toS3Error } from './errors.js';

const MIB = 1024 * 1024;
export const CACHE_TTL_MS = 24 * 3600_000;
export const STALE_PROBE_MS = 15 * 60_000;
export const PROBE_FOLDER = '.rotating-s3-probes/';
/** The cache's file name in the stage's local directory. */
export const CAPABILITIES_FILE = 's3-capabilities.json';

export interface Capabilities {
  /** `If-None-Match: *` and `If-Match` on PutObject are enforced (412). */
  conditionalPut?: boolean;
  /** Ranged UploadPartCopy works (server-side append possible). */
  uploadPartCopy?: boolean;
  /** `If-Match` on CompleteMultipartUpload is enforced. */
  conditionalComplete?: boolean;
  probedAt?: number;
}

/** Where the probes of a daily object's folder go, e.g. `logs/merge/.rotating-s3-probes/`. */
export function probeFolder(dailyKey: string): string {
  const slash = dailyKey.lastIndexOf('/');
  return `${slash >= 0 ? dailyKey.slice(0, slash + 1) : ''}${PROBE_FOLDER}`;
}

const captured = new WeakMap<S3Client, { endpoint?: string }>();

/**
 * The endpoint the client's requests really go to (`https://host:port`), known after its first request.
 * Installs a capturing middleware on the client once.
 */
export function endpointOf(client: S3Client): () => string | undefined {
  let slot = captured.get(client);
  if (!slot) {
    const state: { endpoint?: string } = {};
    slot = state;
    captured.set(client, state);
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { protocol?: string; hostname?: string; port?: number };
        if (request.hostname) state.endpoint = `${request.protocol ?? 'https:'}//${request.hostname}${request.port ? `:${request.port}` : ''}`;
        return next(args);
      },
      { step: 'finalizeRequest', name: 'rotatingS3CaptureEndpoint', override: true },
    );
  }
  return () => slot.endpoint;
}

export interface CapabilityCacheOptions {
  client: S3Client;
  bucket: string;
  /** The cache file; nothing is cached when absent. */
  file?: string;
  fs?: DurableFs;
  now: () => number;
}

export type CapabilityCache = ReturnType<typeof createCapabilityCache>;

/** Reads and writes one endpoint's entry of the capability cache (doctor only reads it). */
export function createCapabilityCache(options: CapabilityCacheOptions) {
  const endpoint = endpointOf(options.client);
  let scope: string | undefined;

  async function key(): Promise<string> {
    if (scope === undefined) {
      const id = await options.client.config.credentials().then(
        (c) => c.accessKeyId,
        () => '',
      );
      scope = createHash('sha256').update(id).digest('hex').slice(0, 12);
    }
    return `${endpoint() ?? 'unknown-endpoint'}|${options.bucket}|${scope}`;
  }

  function readAll(): Record<string, Capabilities> {
    if (!options.file) return {};
    try {
      const parsed = JSON.parse(readFileSync(options.file, 'utf8')) as unknown;
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, Capabilities>) : {};
    } catch {
      return {};
    }
  }

  return {
    /** This endpoint's fresh cached entry (empty when unknown or stale). Call after the client's first request. */
    async read(): Promise<Capabilities> {
      const entry = readAll()[await key()];
      return entry && typeof entry.probedAt === 'number' && options.now() - entry.probedAt < CACHE_TTL_MS ? entry : {};
    },
    async remember(found: Capabilities): Promise<void> {
      if (!options.file || !options.fs) return;
      const all = readAll();
      const k = await key();
      all[k] = { ...all[k], ...found, probedAt: options.now() };
      // A cache that cannot be written only costs a probe next time.
      await options.fs.writeAtomic(options.file, `${JSON.stringify(all, null, 2)}\n`).catch(() => undefined);
    },
    /** The endpoint, for messages. */
    describe: (): string => endpoint() ?? 'the S3 endpoint',
  };
}

/** A fresh probe key under the folder's probe prefix; stale probes of killed writers are removed first. */
export async function newProbeKey(client: S3Client, bucket: string, dailyKey: string, now: number): Promise<string> {
  const folder = probeFolder(dailyKey);
  try {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: folder, MaxKeys: 100 }));
    for (const object of listed.Contents ?? []) {
      const born = Number(/\/(\d+)-[0-9a-f]+$/.exec(object.Key ?? '')?.[1]);
      if (Number.isFinite(born) && now - born > STALE_PROBE_MS) {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key })).catch(() => undefined);
      }
    }
  } catch {
    // Listing needs s3:ListBucket; without it stale probes wait for the lifecycle rule.
  }
  return `${folder}${now}-${randomBytes(4).toString('hex')}`;
}

/**
 * Whether PutObject with `If-None-Match: *` on the existing `key` is refused (412), as S3 does: true when
 * enforced, false when the endpoint overwrote the object. Any other error is thrown as it came (doctor
 * explains it; the store wraps it).
 */
export async function refusesOverwrite(client: S3Client, bucket: string, key: string, body: string): Promise<boolean> {
  try {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, IfNoneMatch: '*' }));
    return false;
  } catch (error) {
    if (isConditionFailure(error)) return true;
    throw error;
  }
}

/** Whether the endpoint refuses `If-None-Match: *` on an existing key (412), as S3 does. */
export async function probeConditionalPut(client: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'probe' })).catch((error) => {
      throw toS3Error(error, 'PutObject (capability probe)', bucket, key);
    });
    return await refusesOverwrite(client, bucket, key, 'probe').catch((error) => {
      throw toS3Error(error, 'PutObject (capability probe)', bucket, key);
    });
  } finally {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
  }
}

/** A request of the multipart probe, in the order they are made. */
export type MultipartProbeCall = 'PutObject' | 'CreateMultipartUpload' | 'UploadPartCopy' | 'UploadPart' | 'CompleteMultipartUpload';

/**
 * How one request of the probe went: `done`, `precondition-failed` (412: what an enforced If-Match on
 * Complete answers) or `error` (anything else, kept in `error` for doctor to explain).
 */
export interface MultipartProbeStep {
  call: MultipartProbeCall;
  outcome: 'done' | 'precondition-failed' | 'error';
  error?: unknown;
}

export interface MultipartProbe {
  /** Ranged UploadPartCopy works (server-side append possible). */
  uploadPartCopy: boolean;
  /** `If-Match` on CompleteMultipartUpload is enforced (a wrong ETag was refused with 412). */
  conditionalComplete: boolean;
  /** Every request made, in order; the probe stops at the first `error` (but always aborts its upload). */
  steps: MultipartProbeStep[];
}

/** A Complete `If-Match` that matches no object: an endpoint that enforces it refuses the Complete with 412. */
const NO_SUCH_ETAG = '"00000000000000000000000000000000"';

/**
 * Whether the endpoint supports ranged UploadPartCopy and enforces If-Match on CompleteMultipartUpload
 * (a 5 MiB copy part is needed: smaller non-final parts are refused): PutObject of a 5 MiB source,
 * CreateMultipartUpload, UploadPartCopy of it, UploadPart of a tail, Complete with a wrong `If-Match`.
 * The upload is completed or aborted; the source is deleted unless `keepObject` (doctor deletes its
 * probe objects itself, to check s3:DeleteObject).
 */
export async function probeMultipart(client: S3Client, bucket: string, key: string, options: { keepObject?: boolean } = {}): Promise<MultipartProbe> {
  const probe: MultipartProbe = { uploadPartCopy: false, conditionalComplete: false, steps: [] };
  const step = async <T>(call: MultipartProbeCall, send: () => Promise<T>): Promise<T> => {
    try {
      const result = await send();
      probe.steps.push({ call, outcome: 'done' });
      return result;
    } catch (error) {
      probe.steps.push(isConditionFailure(error) ? { call, outcome: 'precondition-failed' } : { call, outcome: 'error', error });
      throw error;
    }
  };
  let mpu: string | undefined;
  try {
    const source = await step('PutObject', () => client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.alloc(5 * MIB, 32) })));
    mpu = (await step('CreateMultipartUpload', () => client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key })))).UploadId;
    const copied = await step('UploadPartCopy', () =>
      client.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: key,
          UploadId: mpu,
          PartNumber: 1,
          CopySource: copySource(bucket, key),
          CopySourceRange: `bytes=0-${5 * MIB - 1}`,
          CopySourceIfMatch: source.ETag,
        }),
      ),
    );
    probe.uploadPartCopy = true;
    const tail = await step('UploadPart', () => client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: mpu, PartNumber: 2, Body: 'x' })));
    const parts = [
      { PartNumber: 1, ETag: copied.CopyPartResult?.ETag },
      { PartNumber: 2, ETag: tail.ETag },
    ];
    await step('CompleteMultipartUpload', () =>
      client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: mpu, MultipartUpload: { Parts: parts }, IfMatch: NO_SUCH_ETAG })),
    );
    mpu = undefined; // completed: nothing to abort
  } catch (error) {
    if (isConditionFailure(error) && probe.steps.at(-1)?.call === 'CompleteMultipartUpload') probe.conditionalComplete = true;
    // Otherwise no UploadPartCopy (or no multipart at all): appends keep rewriting the object.
  } finally {
    if (mpu) await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: mpu })).catch(() => undefined);
    if (!options.keepObject) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
  }
  return probe;
}

/** `x-amz-copy-source` of a key: the bucket, then the key URL-encoded with its slashes kept. */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`;
}
