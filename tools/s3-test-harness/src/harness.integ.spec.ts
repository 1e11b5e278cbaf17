/**
 * Self-test of the harness against whatever server the global setup chose. The capability tests go
 * through itWithCapability, so a run on s3rver shows the printed skips (and strict mode the failures).
 */
import { CreateMultipartUploadCommand, PutObjectCommand, UploadPartCopyCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { capabilityGate, createTestBucket, getTestS3, itWithCapability, listKeys, readObjectText, s3Env } from './index.js';

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

describe('S3 test harness', () => {
  it('serves a real S3 API that round-trips an object', async () => {
    const bucket = await createTestBucket('_Harness Self_');
    expect(bucket).toMatch(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/);
    await getTestS3()
      .client()
      .send(new PutObjectCommand({ Bucket: bucket, Key: 'dir/a.json', Body: '{"a":1}' }));
    expect(await readObjectText(bucket, 'dir/a.json')).toBe('{"a":1}');
    expect(await readObjectText(bucket, 'missing')).toBeUndefined();
    expect(await listKeys(bucket, 'dir/')).toEqual(['dir/a.json']);
    expect(await listKeys(bucket)).toEqual(['dir/a.json']);
  });

  it('gives child processes the endpoint, credentials and bucket', () => {
    expect(s3Env('some-bucket')).toMatchObject({
      AWS_ENDPOINT_URL_S3: getTestS3().endpoint,
      AWS_ACCESS_KEY_ID: process.env['AWS_ACCESS_KEY_ID'],
      AWS_SECRET_ACCESS_KEY: process.env['AWS_SECRET_ACCESS_KEY'],
      AWS_REGION: process.env['AWS_REGION'],
      ROTATING_S3_BUCKET: 'some-bucket',
      ROTATING_S3_FORCE_PATH_STYLE: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
  });

  it('reports the capabilities the server really has (moto 5.2: conditional puts and part copies, not If-Match on Complete; s3rver: none)', () => {
    const { server, caps } = getTestS3();
    if (server === 'moto') {
      expect([...caps].sort()).toEqual(['conditional-put', 'upload-part-copy']);
      expect(caps.has('conditional-complete')).toBe(false);
    } else if (server === 's3rver') {
      expect([...caps]).toEqual([]);
    } else {
      expect(caps.has('conditional-put')).toBe(true);
    }
  });

  it('explains a missing capability', () => {
    const { server, caps } = getTestS3();
    const gate = capabilityGate('conditional-complete');
    expect(gate.ok).toBe(caps.has('conditional-complete'));
    if (!gate.ok) expect(gate.reason).toBe(`server ${server} lacks conditional-complete`);
  });

  itWithCapability('conditional-put', 'refuses an overwrite with If-None-Match: * (conditional-put)', async () => {
    const bucket = await createTestBucket('harness-cond');
    const client = getTestS3().client();
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'first' }));
    const error = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'second', IfNoneMatch: '*' })).catch((e: unknown) => e);
    expect(httpStatus(error)).toBe(412);
    expect(await readObjectText(bucket, 'k')).toBe('first');
  });

  itWithCapability('upload-part-copy', 'copies a byte range into a multipart part (upload-part-copy)', async () => {
    const bucket = await createTestBucket('harness-copy');
    const client = getTestS3().client();
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: '0123456789' }));
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'dst' }));
    const copy = await client.send(
      new UploadPartCopyCommand({ Bucket: bucket, Key: 'dst', UploadId, PartNumber: 1, CopySource: `${bucket}/src`, CopySourceRange: 'bytes=2-5' }),
    );
    expect(copy.CopyPartResult?.ETag).toBeTruthy();
  });
});
