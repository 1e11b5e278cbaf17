import { describe, expect, it } from 'vitest';
import { maskUrlCredentials } from './endpoint-text.js';

describe('maskUrlCredentials', () => {
  it.each([
    ['http://user:UrlPassCanary-1234@127.0.0.1:1', 'http://***@127.0.0.1:1'],
    ['at https://key@minio.local:9000/bucket and http://a:b@h/ too', 'at https://***@minio.local:9000/bucket and http://***@h/ too'],
    ['http://127.0.0.1:9000', 'http://127.0.0.1:9000'],
    ['AWS S3 (us-east-1)', 'AWS S3 (us-east-1)'],
    ['http://host/path?x=a@b', 'http://host/path?x=a@b'],
    ['{"a":"s3://b","c":"x@y"}', '{"a":"s3://b","c":"x@y"}'],
  ])('masks the userinfo of %s', (input, masked) => {
    expect(maskUrlCredentials(input)).toBe(masked);
  });
});
