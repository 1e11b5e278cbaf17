/**
 * The object-settings middleware through the real SDK stack (serialisation included), with a request
 * handler that records each HTTP request instead of sending it; and the 403 it marks for the error map.
 */
import {
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createS3Client } from './client.js';
import { toS3Error } from './errors.js';
import { OBJECT_SETTINGS_MIDDLEWARE, installObjectSettings, type ObjectSettings } from './object-settings.js';

const SETTINGS: ObjectSettings = { sse: 'aws:kms', sseKmsKeyId: 'alias/logs', storageClass: 'STANDARD_IA', expectedBucketOwner: '111122223333' };

interface Recorded {
  method: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string>;
}

/** A client whose requests end in `seen`; each is answered `status` with `body`. */
function recordingClient(settings: ObjectSettings, status = 200, body = ''): { client: S3Client; seen: Recorded[] } {
  const seen: Recorded[] = [];
  const client = new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIAUNITTEST00000000', secretAccessKey: 'unit-test-secret' },
    forcePathStyle: true,
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      async handle(request: { method: string; path: string; query: Record<string, unknown>; headers: Record<string, string> }) {
        seen.push({ method: request.method, path: request.path, query: request.query, headers: request.headers });
        const { Readable } = await import('node:stream');
        return {
          response: {
            statusCode: status,
            headers: { 'content-type': 'application/xml', etag: '"e"' },
            body: Readable.from([
              Buffer.from(body || (status === 200 ? '<InitiateMultipartUploadResult><UploadId>u</UploadId></InitiateMultipartUploadResult>' : '')),
            ]),
          },
        };
      },
    } as never,
  });
  installObjectSettings(client, settings);
  return { client, seen };
}

const B = { Bucket: 'pipeline-logs', Key: 'logs/merge/merge_json_log_2026-11-28.json' };

describe('object settings middleware', () => {
  it('adds encryption and storage class to object writes only, and the owner to every bucket request', async () => {
    const { client, seen } = recordingClient(SETTINGS);
    await client.send(new PutObjectCommand({ ...B, Body: '{}' }));
    await client.send(new CreateMultipartUploadCommand(B));
    await client.send(new UploadPartCommand({ ...B, UploadId: 'u', PartNumber: 2, Body: 'x' })).catch(() => undefined);
    await client.send(new UploadPartCopyCommand({ ...B, UploadId: 'u', PartNumber: 1, CopySource: `pipeline-logs/${B.Key}` })).catch(() => undefined);
    await client.send(new GetObjectCommand(B)).catch(() => undefined);
    await client.send(new HeadObjectCommand(B)).catch(() => undefined);
    await client.send(new ListObjectsV2Command({ Bucket: B.Bucket })).catch(() => undefined);
    expect(seen).toHaveLength(7);
    const [put, create, part, copy, ...reads] = seen;
    for (const write of [put!, create!]) {
      expect(write.headers).toMatchObject({
        'x-amz-server-side-encryption': 'aws:kms',
        'x-amz-server-side-encryption-aws-kms-key-id': 'alias/logs',
        'x-amz-storage-class': 'STANDARD_IA',
        'x-amz-expected-bucket-owner': '111122223333',
      });
    }
    for (const r of [part!, copy!, ...reads]) {
      expect(r.headers['x-amz-server-side-encryption']).toBeUndefined();
      expect(r.headers['x-amz-server-side-encryption-aws-kms-key-id']).toBeUndefined();
      expect(r.headers['x-amz-storage-class']).toBeUndefined();
      expect(r.headers['x-amz-expected-bucket-owner']).toBe('111122223333');
    }
    expect(copy!.headers['x-amz-source-expected-bucket-owner']).toBe('111122223333');
  });

  it('keeps a value the caller set and adds nothing without settings', async () => {
    const { client, seen } = recordingClient({ sse: 'AES256' });
    await client.send(new PutObjectCommand({ ...B, Body: '{}', ServerSideEncryption: 'aws:kms' }));
    expect(seen[0]!.headers['x-amz-server-side-encryption']).toBe('aws:kms');
    expect(seen[0]!.headers['x-amz-expected-bucket-owner']).toBeUndefined();
    const bare = recordingClient({});
    await bare.client.send(new PutObjectCommand({ ...B, Body: '{}' }));
    expect(Object.keys(bare.seen[0]!.headers).filter((h) => /server-side|storage-class|expected/.test(h))).toEqual([]);
  });

  it('createS3Client installs it from the config', () => {
    const client = createS3Client({ forcePathStyle: true, expectedBucketOwner: '111122223333' }, {}, {});
    expect(client.middlewareStack.identify().join(' ')).toContain(OBJECT_SETTINGS_MIDDLEWARE);
    expect(createS3Client({ forcePathStyle: true }, {}, {}).middlewareStack.identify().join(' ')).not.toContain(OBJECT_SETTINGS_MIDDLEWARE);
  });

  it('a bare 403 on a request that carried the owner is E_S3_OWNER; a KMS denial stays E_S3_AUTH and names the action', async () => {
    const denied = '<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';
    const { client } = recordingClient(SETTINGS, 403, denied);
    const owner = await client.send(new PutObjectCommand({ ...B, Body: '{}' })).catch((e: unknown) => toS3Error(e, 'PutObject', B.Bucket, B.Key));
    expect(owner).toMatchObject({ code: 'E_S3_OWNER' });
    expect((owner as Error).message).toMatch(/with expected bucket owner 111122223333 failed: AccessDenied \(HTTP 403\);.*ROTATING_S3_EXPECTED_BUCKET_OWNER/);

    const kms =
      '<Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::111122223333:user/w is not authorized to perform: kms:GenerateDataKey on resource: arn:aws:kms:us-east-1:111122223333:key/k</Message></Error>';
    const k = recordingClient(SETTINGS, 403, kms);
    const auth = await k.client.send(new PutObjectCommand({ ...B, Body: '{}' })).catch((e: unknown) => toS3Error(e, 'PutObject', B.Bucket, B.Key));
    expect(auth).toMatchObject({ code: 'E_S3_AUTH' });
    expect((auth as Error).message).toMatch(/grant kms:GenerateDataKey on the key/);

    // Without an expected owner, a 403 is a permission problem, as before.
    const plain = recordingClient({ sse: 'AES256' }, 403, denied);
    const e = await plain.client.send(new PutObjectCommand({ ...B, Body: '{}' })).catch((x: unknown) => toS3Error(x, 'PutObject', B.Bucket, B.Key));
    expect(e).toMatchObject({ code: 'E_S3_AUTH' });
  });
});
