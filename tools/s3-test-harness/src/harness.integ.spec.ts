import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createTestBucket, getTestS3, listKeys, readObjectText, s3Env } from './index.js';

describe('S3 test harness', () => {
  it('serves a real S3 API that round-trips an object', async () => {
    const bucket = await createTestBucket('harness');
    await getTestS3().client().send(new PutObjectCommand({ Bucket: bucket, Key: 'dir/a.json', Body: '{"a":1}' }));
    expect(await readObjectText(bucket, 'dir/a.json')).toBe('{"a":1}');
    expect(await readObjectText(bucket, 'missing')).toBeUndefined();
    expect(await listKeys(bucket, 'dir/')).toEqual(['dir/a.json']);
  });

  it('gives child processes the endpoint, credentials and bucket', async () => {
    const env = s3Env('some-bucket');
    expect(env).toMatchObject({ AWS_ENDPOINT_URL_S3: getTestS3().endpoint, ROTATING_S3_BUCKET: 'some-bucket', ROTATING_S3_FORCE_PATH_STYLE: 'true' });
  });

  it('reports the capabilities the server really has (moto 5.2: conditional puts and part copies, not If-Match on Complete; s3rver: none)', () => {
    const { server, caps } = getTestS3();
    if (server === 'moto') expect([...caps].sort()).toEqual(['conditional-put', 'upload-part-copy']);
    else if (server === 's3rver') expect([...caps]).toEqual([]);
    else expect(caps.has('conditional-put')).toBe(true);
  });
});
