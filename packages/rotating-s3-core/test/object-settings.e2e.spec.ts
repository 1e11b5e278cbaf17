/**
 * The object settings (sse, sseKmsKeyId, storageClass, expectedBucketOwner) on every request the real
 * CLI sends, seen by a recording proxy in front of moto: the PutObject of a daily object below 5 MiB,
 * the server-side append above 5 MiB (CreateMultipartUpload, UploadPartCopy, UploadPart, Complete), its
 * lease object, the append store's capability probes and doctor's probes.
 */
import { rmSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getTestS3, itWithCapability } from '@rotating-s3/test-harness';
import { afterAll, describe, expect, it } from 'vitest';
import { createStageLogger } from '../src/index.js';
import { silentOpsLog } from '../src/logger/ops-log.js';
import { PROBE_FOLDER } from '../src/s3/capabilities.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { SettableClock, createTestStage, runCli, writePayload, type TestStage } from './support.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

const OWNER = '123456789012'; // moto's default account
const KEY_ID = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const SETTINGS = {
  ROTATING_S3_SSE: 'aws:kms',
  ROTATING_S3_SSE_KMS_KEY_ID: KEY_ID,
  ROTATING_S3_STORAGE_CLASS: 'STANDARD_IA',
  ROTATING_S3_EXPECTED_BUCKET_OWNER: OWNER,
};

/** What a request is, from its method and query (path-style URLs). */
function kind(r: Seen): string {
  const q = new URL(r.url, 'http://x').searchParams;
  if (r.method === 'PUT' && q.has('partNumber')) return r.headers['x-amz-copy-source'] ? 'UploadPartCopy' : 'UploadPart';
  if (r.method === 'PUT') return r.headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject';
  if (r.method === 'POST' && q.has('uploads')) return 'CreateMultipartUpload';
  if (r.method === 'POST' && q.has('uploadId')) return 'CompleteMultipartUpload';
  if (r.method === 'POST' && q.has('delete')) return 'DeleteObjects';
  if (r.method === 'DELETE') return q.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
  if (r.method === 'GET') return q.has('list-type') ? 'ListObjectsV2' : 'GetObject';
  return r.method === 'HEAD' ? 'HeadObject' : r.method;
}

let stage: TestStage | undefined;
let proxy: FaultProxy | undefined;
afterAll(async () => {
  await proxy?.close();
  if (stage) rmSync(stage.dir, { recursive: true, force: true });
});

describe('object settings on every request', () => {
  itWithCapability('upload-part-copy', 'every object write carries SSE-KMS and the storage class, and every request the expected bucket owner', async () => {
    stage = await createTestStage({ fetchLimit: 1 });
    const seen: Seen[] = [];
    proxy = await startFaultProxy(getTestS3().endpoint, (req) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      return 'ok';
    });
    const env = { ...stage.env, ...SETTINGS, AWS_ENDPOINT_URL_S3: proxy.endpoint };
    const now = '2026-11-28T15:00:00Z';
    const log = async (name: string, content: string) => {
      const result = await runCli(['log', '--config', stage!.configFile, '--payload-file', writePayload(stage!, name, content), '--now', now], { env });
      expect(result.code, result.stderr).toBe(0);
      expect(result.json?.['upload_error'], JSON.stringify(result.json)).toBeUndefined();
      return result.json!;
    };
    const big = JSON.stringify({ matches: [{ match_id: 'big', text: 'x'.repeat(5.5 * 1024 * 1024) }] });

    await log('small-1.json', JSON.stringify({ matches: [{ match_id: 'a' }] })); // a new daily object: PutObject
    await log('big.json', big); // rewritten whole (below 5 MiB before): PutObject of > 5 MiB
    await log('small-2.json', JSON.stringify({ matches: [{ match_id: 'b' }] })); // server-side append
    const doctor = await runCli(['doctor', '--config', stage.configFile, '--now', now], { env });
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);

    const kinds = seen.map(kind);
    // Every path the issue names was really exercised.
    for (const k of [
      'PutObject',
      'CreateMultipartUpload',
      'UploadPartCopy',
      'UploadPart',
      'CompleteMultipartUpload',
      'GetObject',
      'HeadObject',
      'ListObjectsV2',
      'DeleteObject',
    ]) {
      expect(kinds, k).toContain(k);
    }
    const puts = seen.filter((r) => kind(r) === 'PutObject');
    expect(
      puts.some((r) => r.url.includes('.lease')),
      'the lease object',
    ).toBe(true);
    expect(
      puts.some((r) => r.url.includes('.rotating-s3-doctor-')),
      "doctor's probes",
    ).toBe(true);
    expect(
      puts.some((r) => r.url.includes(`/logs/merge/${PROBE_FOLDER}`)),
      "the append store's capability probes",
    ).toBe(true);
    expect(
      puts.some((r) => Number(r.headers['content-length']) > 5 * 1024 * 1024),
      'a daily object above 5 MiB',
    ).toBe(true);

    for (const r of seen) {
      expect(r.headers['x-amz-expected-bucket-owner'], `${kind(r)} ${r.url}`).toBe(OWNER);
    }
    for (const r of seen.filter((x) => ['PutObject', 'CreateMultipartUpload'].includes(kind(x)))) {
      expect(r.headers['x-amz-server-side-encryption'], `${kind(r)} ${r.url}`).toBe('aws:kms');
      expect(r.headers['x-amz-server-side-encryption-aws-kms-key-id'], `${kind(r)} ${r.url}`).toBe(KEY_ID);
      expect(r.headers['x-amz-storage-class'], `${kind(r)} ${r.url}`).toBe('STANDARD_IA');
    }
    // Parts take no SSE-KMS headers (S3 refuses them); the copy checks its source's owner too.
    for (const r of seen.filter((x) => ['UploadPart', 'UploadPartCopy'].includes(kind(x)))) {
      expect(r.headers['x-amz-server-side-encryption'], `${kind(r)} ${r.url}`).toBeUndefined();
      expect(r.headers['x-amz-storage-class'], `${kind(r)} ${r.url}`).toBeUndefined();
    }
    for (const r of seen.filter((x) => kind(x) === 'UploadPartCopy')) expect(r.headers['x-amz-source-expected-bucket-owner']).toBe(OWNER);

    // moto kept what was asked for the appended daily object.
    const head = await stage.client.send(new HeadObjectCommand({ Bucket: stage.bucket, Key: 'logs/merge/merge_json_log_2026-11-28.json' }));
    expect(head).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY_ID, StorageClass: 'STANDARD_IA' });
    // doctor shows the key in use and confirms each setting.
    expect(doctor.stdout).toContain(`encryption (sse)`);
    expect(doctor.stdout).toContain(`aws:kms with key ${KEY_ID}`);
    expect(doctor.stdout).toMatch(/storage class.*STANDARD_IA/);
    expect(doctor.stdout).toMatch(new RegExp(`expected bucket owner.*account ${OWNER}`));
  });

  it("a library user's own S3 client gets the stage's settings too", async () => {
    const own = await createTestStage({ fetchLimit: 1, sse: 'AES256', storageClass: 'STANDARD_IA', expectedBucketOwner: OWNER });
    const seen: Seen[] = [];
    const recorder = await startFaultProxy(getTestS3().endpoint, (req) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      return 'ok';
    });
    try {
      const s3Client = new S3Client({
        endpoint: recorder.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      const logger = createStageLogger(own.config, { clock: new SettableClock('2026-11-28T15:00:00Z'), s3Client, opsLog: silentOpsLog, holdLockMs: 0 });
      expect(await logger.logFetch({ matches: [{ match_id: 'x' }] })).toMatchObject({ rotated: true });
      await logger.close();
    } finally {
      await recorder.close();
      rmSync(own.dir, { recursive: true, force: true });
    }
    const puts = seen.filter((r) => kind(r) === 'PutObject');
    expect(puts.length).toBeGreaterThan(0);
    for (const r of puts) expect(r.headers).toMatchObject({ 'x-amz-server-side-encryption': 'AES256', 'x-amz-storage-class': 'STANDARD_IA' });
    for (const r of seen) expect(r.headers['x-amz-expected-bucket-owner'], `${kind(r)} ${r.url}`).toBe(OWNER);
  });
});
