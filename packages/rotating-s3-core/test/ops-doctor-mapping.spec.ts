/**
 * Error mapping of `doctor` for S3 answers a local server cannot give (expired token, wrong region, a
 * listing allowed only under the prefix, a checksum rejection, a 501 on UploadPartCopy). The S3 client is
 * mocked with aws-sdk-client-mock — only here; every other doctor test runs against a real S3 server.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { runDoctor } from '../src/doctor/doctor.js';
import { EXPECTED_OWNER_MARK } from '../src/s3/object-settings.js';
import type { DoctorReport, StageConfig } from '../src/index.js';

const SECRET = 'secret-never-printed-0123456789';

function s3Error(name: string, status: number, extra: Record<string, unknown> = {}): S3ServiceException {
  return Object.assign(
    new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message: `${name} from the mock` }),
    extra,
  );
}

function newClient(): S3Client {
  return new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'AKIAMOCKEDKEY0000001', secretAccessKey: SECRET }, maxAttempts: 1 });
}

/** A fully working endpoint: conditional PutObject, UploadPartCopy, If-Match enforced on Complete. */
function happy(mock: AwsClientStub<S3Client>): void {
  const stored = new Map<string, string>();
  mock.on(ListObjectsV2Command).resolves({ KeyCount: 0 });
  mock.on(PutObjectCommand).callsFake((input: { Key: string; Body: unknown; IfNoneMatch?: string }) => {
    if (input.IfNoneMatch === '*' && stored.has(input.Key)) throw s3Error('PreconditionFailed', 412);
    stored.set(input.Key, typeof input.Body === 'string' ? input.Body : 'binary');
    return { ETag: '"etag"' };
  });
  mock.on(GetObjectCommand).callsFake((input: { Key: string }) => ({ Body: { transformToString: async () => stored.get(input.Key) ?? '' } }));
  mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'mpu-1' });
  mock.on(UploadPartCopyCommand).resolves({ CopyPartResult: { ETag: '"p1"' } });
  mock.on(UploadPartCommand).resolves({ ETag: '"p2"' });
  mock.on(CompleteMultipartUploadCommand).rejects(s3Error('PreconditionFailed', 412));
  mock.on(AbortMultipartUploadCommand).resolves({});
  mock.on(DeleteObjectCommand).resolves({});
}

describe('doctor error mapping (mocked S3 client)', () => {
  let client: S3Client;
  let mock: AwsClientStub<S3Client>;
  let checksumClient: S3Client;
  let checksumMock: AwsClientStub<S3Client>;
  let config: StageConfig;

  beforeEach(() => {
    client = newClient();
    mock = mockClient(client);
    checksumClient = newClient();
    checksumMock = mockClient(checksumClient);
    happy(mock);
    happy(checksumMock);
    const tempDir = mkdtempSync(join(tmpdir(), 'rs3-doctor-mock-'));
    onTestFinished(() => rmSync(tempDir, { recursive: true, force: true }));
    config = {
      stage: 'merge',
      bucket: 'pipeline-logs',
      prefix: 'logs/merge',
      localDir: join(tempDir, 'local'),
      fetchLimit: 25,
      timezone: 'Europe/Berlin',
      recordsPath: '',
      recordIdField: undefined,
      forcePathStyle: false,
      payloadLayout: 'pretty',
    };
  });

  const run = (): Promise<DoctorReport> => runDoctor(config, { client, checksumClient, env: {}, nodeVersion: 'v22.12.0' });
  const find = (report: DoctorReport, name: string) => report.checks.find((c) => c.name === name)!;

  it('passes on a fully capable endpoint and says If-Match guards server-side appends; aborts the probe upload', async () => {
    const report = await run();
    expect(report.ok).toBe(true);
    expect(find(report, 'server-side append guard').detail).toMatch(/^If-Match on CompleteMultipartUpload is enforced/);
    expect(find(report, 'runtime').detail).toMatch(/v22\.12\.0.*inside the AWS SDK's support window/);
    expect(mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
    expect(JSON.stringify(report)).not.toContain(SECRET);
  });

  it('an expired session token: refresh the credentials', async () => {
    mock.on(ListObjectsV2Command).rejects(s3Error('ExpiredToken', 400));
    const check = find(await run(), 'bucket reachable');
    expect(check.detail).toMatch(/E_S3_AUTH ExpiredToken \(HTTP 400\)$/);
    expect(check.fix).toMatch(/session credentials expired: refresh them/);
  });

  it('a bare 403 with an expected bucket owner: E_S3_OWNER, fix the owner or the bucket name', async () => {
    config = { ...config, expectedBucketOwner: '111122223333' };
    mock.on(ListObjectsV2Command).rejects(s3Error('AccessDenied', 403, { message: 'Access Denied', [EXPECTED_OWNER_MARK]: '111122223333' }));
    const report = await run();
    expect(find(report, 'bucket reachable').detail).toMatch(/: E_S3_OWNER AccessDenied \(HTTP 403\)$/);
    expect(find(report, 'bucket reachable').fix).toMatch(
      /expected bucket owner 111122223333: if bucket "pipeline-logs" belongs to another account, fix ROTATING_S3_EXPECTED_BUCKET_OWNER/,
    );
    expect(find(report, 'expected bucket owner').status).toBe('skip');
  });

  it('with sse aws:kms: the write probe shows the key in use; a denied write names kms:GenerateDataKey, a denied copy kms:Decrypt', async () => {
    const key = 'arn:aws:kms:eu-central-1:111122223333:key/0000-1111';
    config = { ...config, sse: 'aws:kms', sseKmsKeyId: key, expectedBucketOwner: '111122223333' };
    mock.on(PutObjectCommand).resolves({ ETag: '"e"', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key });
    const good = await run();
    expect(find(good, 'encryption (sse)')).toMatchObject({
      status: 'pass',
      detail: `aws:kms with key ${key} (x-amz-server-side-encryption-aws-kms-key-id of the probe)`,
    });
    expect(find(good, 'expected bucket owner').status).toBe('pass');

    mock.on(PutObjectCommand).rejects(s3Error('AccessDenied', 403));
    const write = find(await run(), 'write / read probe object');
    expect(write.fix).toMatch(/^with sse aws:kms, also grant kms:GenerateDataKey on the KMS key/);

    happy(mock);
    mock.on(UploadPartCopyCommand).rejects(s3Error('AccessDenied', 403));
    const copy = find(await run(), 'UploadPartCopy supported');
    expect(copy.detail).toMatch(/^E_S3_AUTH AccessDenied/);
    expect(copy.fix).toMatch(/kms:Decrypt on the KMS key \(UploadPartCopy decrypts the source object of a server-side append\)/);
  });

  it('AccessDenied on the listing: grant s3:ListBucket on the bucket ARN', async () => {
    mock.on(ListObjectsV2Command).rejects(s3Error('AccessDenied', 403));
    const check = find(await run(), 'bucket reachable');
    expect(check.fix).toContain('grant s3:ListBucket on arn:aws:s3:::pipeline-logs');
  });

  it('a policy that allows listing only under the prefix still passes', async () => {
    mock.on(ListObjectsV2Command).callsFake((input: { Prefix?: string }) => {
      if (input.Prefix !== 'logs/merge/') throw s3Error('AccessDenied', 403);
      return { KeyCount: 0 };
    });
    expect(find(await run(), 'bucket reachable').status).toBe('pass');
  });

  it('a bucket in another region: the fix names the region S3 reported', async () => {
    mock.on(ListObjectsV2Command).rejects(s3Error('PermanentRedirect', 301, { $response: { headers: { 'x-amz-bucket-region': 'eu-west-1' } } }));
    const check = find(await run(), 'bucket reachable');
    expect(check.fix).toBe('the bucket lives in another region (eu-west-1): set AWS_REGION=eu-west-1');
  });

  it('a clock off by more than 15 minutes: enable NTP', async () => {
    mock.on(ListObjectsV2Command).rejects(s3Error('RequestTimeTooSkewed', 403));
    expect(find(await run(), 'bucket reachable').fix).toMatch(/clock is off by more than 15 minutes/);
  });

  it('an endpoint that rejects the SDK default checksums is a warning with the WHEN_REQUIRED advice, not a failure', async () => {
    checksumMock.on(PutObjectCommand).rejects(s3Error('InvalidArgument', 400));
    const report = await run();
    const check = find(report, 'checksum headers accepted');
    expect(check).toMatchObject({ status: 'warn', ok: true });
    expect(check.detail).toMatch(/rejects the AWS SDK's default checksum headers \(WHEN_SUPPORTED\): InvalidArgument \(HTTP 400\)/);
    expect(check.fix).toMatch(/AWS_REQUEST_CHECKSUM_CALCULATION=when_required and AWS_RESPONSE_CHECKSUM_VALIDATION=when_required/);
    expect(report.ok).toBe(true);
  });

  it('UploadPartCopy answered with 501: a failure that explains the cost, and the multipart upload is aborted', async () => {
    mock.on(UploadPartCopyCommand).rejects(s3Error('NotImplemented', 501));
    const report = await run();
    const check = find(report, 'UploadPartCopy supported');
    expect(check.status).toBe('fail');
    expect(check.detail).toBe('E_S3 NotImplemented (HTTP 501)');
    expect(check.fix).toMatch(/rewritten whole on every rotation/);
    expect(report.checks.some((c) => c.name === 'server-side append guard')).toBe(false);
    expect(mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
    expect(find(report, 'delete probe object').detail).toBe('deleted 3 probe objects');
  });

  it('warns when the capability cache the store wrote disagrees with what the endpoint does now', async () => {
    const nowMs = Date.UTC(2026, 10, 28, 12);
    const scope = createHash('sha256').update('AKIAMOCKEDKEY0000001').digest('hex').slice(0, 12);
    mkdirSync(config.localDir, { recursive: true });
    // The entry as s3/capabilities.ts writes it (a mocked client never reveals its endpoint).
    const entry = { uploadPartCopy: true, conditionalComplete: false, probedAt: nowMs - 60_000 };
    writeFileSync(join(config.localDir, 's3-capabilities.json'), JSON.stringify({ [`unknown-endpoint|pipeline-logs|${scope}`]: entry }));
    const check = find(await runDoctor(config, { client, checksumClient, env: {}, realNowMs: nowMs }), 'server-side append guard');
    expect(check.status).toBe('warn');
    expect(check.detail).toMatch(/s3-capabilities\.json says If-Match on CompleteMultipartUpload is not enforced at the S3 endpoint, but it now is$/);
  });

  it('names the refused request when the probe cannot tell whether Complete enforces If-Match', async () => {
    mock.on(UploadPartCommand).rejects(s3Error('AccessDenied', 403));
    const check = find(await run(), 'server-side append guard');
    expect(check.status).toBe('info');
    expect(check.detail).toMatch(/refused for another reason \(UploadPart: AccessDenied \(HTTP 403\)\)/);
    expect(mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
  });

  it('ROTATING_S3_COMPLETE_GUARD=if-match on an endpoint that ignores If-Match on Complete is a failure', async () => {
    mock.on(CompleteMultipartUploadCommand).resolves({});
    const report = await runDoctor(config, { client, checksumClient, env: { ROTATING_S3_COMPLETE_GUARD: 'if-match' } });
    const check = find(report, 'server-side append guard');
    expect(check.status).toBe('fail');
    expect(check.fix).toMatch(/unset ROTATING_S3_COMPLETE_GUARD/);
  });

  it('no credentials from the default chain: one failure, the S3 checks are not run', async () => {
    const bare = new S3Client({
      region: 'us-east-1',
      credentials: async () => {
        throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
      },
    });
    const report = await runDoctor(config, { client: bare, env: {} });
    expect(find(report, 'credentials')).toMatchObject({
      status: 'fail',
      detail: 'E_S3_AUTH: no credentials found (Could not load credentials from any providers)',
    });
    expect(report.checks.filter((c) => c.status === 'skip').map((c) => c.name)).toEqual([
      'bucket reachable',
      'write / read probe object',
      'conditional writes enforced',
      'checksum headers accepted',
      'UploadPartCopy supported',
      'delete probe object',
    ]);
  });
});
