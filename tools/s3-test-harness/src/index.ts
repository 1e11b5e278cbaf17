/**
 * Helpers for tests that run against the S3 server started by `global-setup.ts`.
 */
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { it } from 'vitest';
import { CAPABILITIES, type Capability } from './capabilities.js';

export { CAPABILITIES, type Capability };

export interface TestS3 {
  endpoint: string;
  server: 'moto' | 's3rver' | 'external';
  caps: ReadonlySet<string>;
  /** A client for the test server (path-style, checksums only when required). */
  client(): S3Client;
}

let shared: S3Client | undefined;

export function getTestS3(): TestS3 {
  const endpoint = process.env['ROTATING_S3_TEST_ENDPOINT_RESOLVED'];
  if (!endpoint) {
    throw new Error(
      `no S3 test server: the harness global setup did not run; add globalSetup: ['<relative path>/tools/s3-test-harness/src/global-setup.ts'] to this package's vitest.config.ts`,
    );
  }
  const server = (process.env['ROTATING_S3_TEST_SERVER'] ?? 'external') as TestS3['server'];
  const caps = new Set((process.env['ROTATING_S3_TEST_CAPS'] ?? '').split(',').filter(Boolean));
  return {
    endpoint,
    server,
    caps,
    client() {
      shared ??= new S3Client({
        endpoint,
        region: process.env['AWS_REGION'] ?? 'us-east-1',
        forcePathStyle: true,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      return shared;
    },
  };
}

/** The python3 that runs moto, when the run uses moto (for suites that start one of their own). */
export function motoPython(): string | undefined {
  return process.env['ROTATING_S3_TEST_MOTO_PYTHON'] || undefined;
}

let counter = 0;

/** Creates a bucket with a unique, DNS-valid name and returns the name. */
export async function createTestBucket(prefix = 'test'): Promise<string> {
  // Bucket names: 3-63 of [a-z0-9-], starting with a letter or digit; pid + time + counter make it unique.
  const clean =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 20) || 'test';
  const name = `${clean}-${process.pid}-${Date.now().toString(36)}-${(counter++).toString(36)}`.slice(0, 63);
  await getTestS3()
    .client()
    .send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

/** Environment for a child process (the CLI under test) that should use the test server and `bucket`. */
export function s3Env(bucket: string): Record<string, string> {
  const { endpoint } = getTestS3();
  return {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ACCESS_KEY_ID: process.env['AWS_ACCESS_KEY_ID'] ?? 'test',
    AWS_SECRET_ACCESS_KEY: process.env['AWS_SECRET_ACCESS_KEY'] ?? 'test',
    AWS_REGION: process.env['AWS_REGION'] ?? 'us-east-1',
    ROTATING_S3_BUCKET: bucket,
    ROTATING_S3_FORCE_PATH_STYLE: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // A server that ignores conditional writes (s3rver fallback) is only acceptable for a single writer.
    ...(getTestS3().caps.has('conditional-put') ? {} : { ROTATING_S3_SINGLE_WRITER: 'true' }),
  };
}

export function capabilityGate(cap: Capability): { ok: boolean; reason: string } {
  const s3 = getTestS3();
  return s3.caps.has(cap) ? { ok: true, reason: '' } : { ok: false, reason: `server ${s3.server} lacks ${cap}` };
}

/** `it` that runs only when the server has `cap`; skipped with a printed reason, or failing in strict mode. */
export function itWithCapability(cap: Capability, name: string, fn: () => Promise<void> | void, timeout?: number): void {
  const gate = capabilityGate(cap);
  if (gate.ok) {
    it(name, fn, timeout);
  } else if (process.env['ROTATING_S3_TEST_STRICT'] === '1') {
    // CI must never pass by skipping: the missing capability is itself the failure.
    it(name, () => {
      throw new Error(`[s3-harness] ROTATING_S3_TEST_STRICT=1: ${gate.reason}`);
    });
  } else {
    process.stderr.write(`[s3-harness] skipped "${name}": ${gate.reason}\n`);
    it.skip(`${name} (skipped: ${gate.reason})`, fn);
  }
}

export async function readObjectText(bucket: string, key: string): Promise<string | undefined> {
  try {
    const r = await getTestS3()
      .client()
      .send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await r.Body?.transformToString('utf8');
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

export async function listKeys(bucket: string, prefix?: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await getTestS3()
      .client()
      .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}
