/**
 * `doctor` as a new user meets it: against the test S3 server (every check passes, except what the server
 * lacks), a wrong endpoint, an unknown host, a missing bucket, no credentials, and — on a second moto that
 * enforces IAM — wrong credentials and the minimal IAM policy of docs/production.md.
 */
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTestS3, listKeys } from '@rotating-s3/test-harness';
import type { DoctorReport } from '../src/index.js';
import { createTestStage, runCli, type TestStage } from './support.js';
import { motoAvailable, startAuthMoto, type AuthMoto } from './ops-moto-auth.js';

const DOCS = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'docs');

function statuses(report: DoctorReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.name, c.status]));
}

async function doctor(stage: TestStage, env: Record<string, string> = stage.env, extra: string[] = []) {
  const text = await runCli(['doctor', '--config', stage.configFile, ...extra], { env });
  const json = await runCli(['doctor', '--json', '--config', stage.configFile, ...extra], { env });
  return { text, report: json.json as DoctorReport };
}

describe('doctor against the test S3 server', () => {
  it('passes every check, explains the append guard, and deletes every probe object', async () => {
    const stage = await createTestStage();
    const { caps } = getTestS3();
    const { text, report } = await doctor(stage);

    const expected: Record<string, string> = {
      timezone: 'pass',
      'local directory writable': 'pass',
      'local state': 'pass',
      'lock not stale': 'pass',
      runtime: 'info',
      credentials: 'pass',
      'bucket reachable': 'pass',
      'write / read probe object': 'pass',
      // No object settings here: each is reported as not set (object-settings.e2e.spec.ts sets them).
      'encryption (sse)': 'info',
      'storage class': 'info',
      'expected bucket owner': 'info',
      'conditional writes enforced': caps.has('conditional-put') ? 'pass' : 'fail',
      'checksum headers accepted': 'pass',
      'UploadPartCopy supported': caps.has('upload-part-copy') ? 'pass' : 'fail',
      ...(caps.has('upload-part-copy') ? { 'server-side append guard': 'info' } : {}),
      'delete probe object': 'pass',
    };
    expect(statuses(report)).toEqual(expected);
    const allPass = caps.has('conditional-put') && caps.has('upload-part-copy');
    expect(text.code).toBe(allPass ? 0 : 1);
    expect(report.ok).toBe(allPass);

    expect(text.stdout).toMatch(/^✓ timezone: America\/New_York: today is \d{4}-\d\d-\d\d .*next midnight .* in \d+h \d\dm$/m);
    expect(text.stdout).toMatch(/^✓ credentials: access key \*\*\*\* from environment variables \(AWS_ACCESS_KEY_ID \/ AWS_SECRET_ACCESS_KEY\)$/m);
    expect(text.stdout).toContain(`✓ bucket reachable: s3://${stage.bucket}/logs/merge/ at ${getTestS3().endpoint} (region us-east-1, path-style URLs)`);
    expect(text.stdout).toMatch(/^ℹ runtime: Node\.js v\d+.*@aws-sdk\/client-s3 \d+\.\d+\.\d+/m);
    if (caps.has('upload-part-copy') && !caps.has('conditional-complete')) {
      expect(text.stdout).toMatch(/^ℹ server-side append guard: If-Match on CompleteMultipartUpload is not enforced here .* lease object/m);
    }
    expect(text.stdout).toMatch(allPass ? /\nall checks passed\n$/ : /check\(s\) failed\n$/);
    expect(await listKeys(stage.bucket)).toEqual([]);
  });

  it('fails "bucket reachable" with E_S3_UNREACHABLE on a wrong endpoint, skips the probes and exits 1', async () => {
    const stage = await createTestStage();
    const { text, report } = await doctor(stage, { ...stage.env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' });
    expect(text.code).toBe(1);
    const bucket = report.checks.find((c) => c.name === 'bucket reachable')!;
    expect(bucket).toMatchObject({ status: 'fail', ok: false });
    expect(bucket.detail).toContain('at http://127.0.0.1:9');
    expect(bucket.detail).toContain('E_S3_UNREACHABLE');
    expect(bucket.fix).toMatch(/AWS_ENDPOINT_URL_S3/);
    for (const name of [
      'write / read probe object',
      'conditional writes enforced',
      'checksum headers accepted',
      'UploadPartCopy supported',
      'delete probe object',
    ]) {
      expect(statuses(report)[name], name).toBe('skip');
    }
    expect(text.stdout).toMatch(/✗ bucket reachable: .*E_S3_UNREACHABLE.*\n {4}fix: nothing answers at the endpoint/);
    expect(text.stdout).toMatch(/\n1 check\(s\) failed, 5 not run\n$/);
    expect(text.stderr).toBe('');
  });

  it('says when the endpoint host name does not resolve', async () => {
    const stage = await createTestStage();
    const { report } = await doctor(stage, { ...stage.env, AWS_ENDPOINT_URL_S3: 'http://rotating-s3-doctor.invalid:9000' });
    const bucket = report.checks.find((c) => c.name === 'bucket reachable')!;
    expect(bucket.status).toBe('fail');
    expect(bucket.fix).toMatch(/host name does not resolve/);
  });

  it('names a bucket that does not exist (E_S3_NO_BUCKET)', async () => {
    const stage = await createTestStage();
    const { text, report } = await doctor(stage, { ...stage.env, ROTATING_S3_BUCKET: 'rotating-s3-no-such-bucket' });
    expect(text.code).toBe(1);
    const bucket = report.checks.find((c) => c.name === 'bucket reachable')!;
    expect(bucket.detail).toContain('E_S3_NO_BUCKET');
    expect(bucket.fix).toMatch(/bucket "rotating-s3-no-such-bucket" does not exist/);
  });

  it('fails "credentials" with a fix when the default chain finds none', async () => {
    const stage = await createTestStage();
    const { AWS_ACCESS_KEY_ID: _k, AWS_SECRET_ACCESS_KEY: _s, ...env } = stage.env;
    const noCredentials = {
      ...env,
      AWS_SHARED_CREDENTIALS_FILE: join(stage.dir, 'none'),
      AWS_CONFIG_FILE: join(stage.dir, 'none'),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const { text, report } = await doctor(stage, noCredentials);
    expect(text.code).toBe(1);
    expect(report.checks.find((c) => c.name === 'credentials')).toMatchObject({ status: 'fail' });
    expect(report.checks.find((c) => c.name === 'credentials')!.fix).toMatch(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE/);
    expect(statuses(report)['bucket reachable']).toBe('skip');
  });

  it('warns about a lock left by a killed process without failing', async () => {
    const stage = await createTestStage();
    const lock = join(stage.config.localDir, 'merge.lock');
    mkdirSync(lock, { recursive: true });
    const old = new Date(Date.now() - 90_000);
    utimesSync(lock, old, old);
    const { text, report } = await doctor(stage, stage.env, ['--skip-copy-probe']);
    const check = report.checks.find((c) => c.name === 'lock not stale')!;
    expect(check).toMatchObject({ status: 'warn', ok: true });
    expect(check.detail).toMatch(/last refreshed 1m 3\ds ago: a rotating-s3 process was killed/);
    expect(text.stdout).toMatch(/^! lock not stale: .*\n {4}fix: harmless for the data/m);
    expect(text.stdout).toMatch(/1 warning/);
  });

  it('fails "local state" on a corrupt state file with the E_LOCAL_CORRUPT fix', async () => {
    const stage = await createTestStage();
    mkdirSync(stage.config.localDir, { recursive: true });
    writeFileSync(join(stage.config.localDir, 'merge_state.json'), '{"version":1');
    const { text, report } = await doctor(stage, stage.env, ['--skip-copy-probe']);
    expect(text.code).toBe(1);
    const check = report.checks.find((c) => c.name === 'local state')!;
    expect(check.detail).toMatch(/^E_LOCAL_CORRUPT: /);
    expect(check.fix).toMatch(/move .*merge_state\.json aside/);
  });
});

const IAM_POLICY = /<!-- iam-policy:writer -->\s*```json\n([\s\S]*?)\n```/;

function docsPolicy(bucket: string, prefix: string): unknown {
  const doc = readFileSync(join(DOCS, 'production.md'), 'utf8');
  const json = IAM_POLICY.exec(doc)?.[1];
  if (!json) throw new Error('docs/production.md has no <!-- iam-policy:writer --> JSON block');
  return JSON.parse(json.replaceAll('pipeline-logs', bucket).replaceAll('logs/merge', prefix));
}

if (!motoAvailable())
  process.stderr.write('[ops-doctor] skipped "doctor against an S3 server that enforces IAM": needs moto, and this run uses another server\n');
describe.skipIf(!motoAvailable())('doctor against an S3 server that enforces IAM (moto with authentication)', () => {
  let moto: AuthMoto;
  let stage: TestStage;
  const bucket = 'doctor-iam';

  beforeAll(async () => {
    const minimal = docsPolicy(bucket, 'logs/merge') as { Statement: Array<{ Action: string | string[] }> };
    const withoutDelete = {
      ...minimal,
      Statement: minimal.Statement.map((s) => ({ ...s, Action: ([] as string[]).concat(s.Action).filter((a) => a !== 's3:DeleteObject') })),
    };
    moto = await startAuthMoto(bucket, { writer: minimal, nodelete: withoutDelete });
    stage = await createTestStage();
  }, 60_000);
  afterAll(() => moto?.stop());

  const envFor = (user: { accessKeyId: string; secretAccessKey: string }) => ({
    ...stage.env,
    AWS_ENDPOINT_URL_S3: moto.endpoint,
    ROTATING_S3_BUCKET: bucket,
    AWS_ACCESS_KEY_ID: user.accessKeyId,
    AWS_SECRET_ACCESS_KEY: user.secretAccessKey,
  });

  it('the minimal IAM policy of docs/production.md passes every check', async () => {
    const { text, report } = await doctor(stage, envFor(moto.users['writer']!));
    expect(report.checks.filter((c) => c.status === 'fail' || c.status === 'skip')).toEqual([]);
    expect(text.code).toBe(0);
  });

  it('a wrong secret: SignatureDoesNotMatch, and the fix names AWS_SECRET_ACCESS_KEY; no secret is printed', async () => {
    const writer = moto.users['writer']!;
    const { text, report } = await doctor(stage, envFor({ ...writer, secretAccessKey: 'wrong-secret-value-123' }));
    expect(text.code).toBe(1);
    const bucketCheck = report.checks.find((c) => c.name === 'bucket reachable')!;
    expect(bucketCheck.detail).toMatch(/E_S3_AUTH SignatureDoesNotMatch \(HTTP 403\)$/);
    expect(bucketCheck.fix).toMatch(/secret key does not match the access key id: check AWS_SECRET_ACCESS_KEY/);
    for (const output of [text.stdout, text.stderr, JSON.stringify(report)]) {
      expect(output).not.toContain('wrong-secret-value-123');
      expect(output).not.toContain(writer.secretAccessKey);
      expect(output).not.toContain(writer.accessKeyId);
    }
  });

  it('an unknown access key: InvalidAccessKeyId, and the fix says which setting to check', async () => {
    const { report } = await doctor(stage, envFor({ accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'whatever-secret' }));
    const bucketCheck = report.checks.find((c) => c.name === 'bucket reachable')!;
    expect(bucketCheck.detail).toMatch(/E_S3_AUTH InvalidAccessKeyId \(HTTP 403\)$/);
    expect(bucketCheck.fix).toMatch(/access key id is unknown to this endpoint/);
  });

  it('a policy without s3:DeleteObject fails only "delete probe object" and names the objects left behind', async () => {
    const { text, report } = await doctor(stage, envFor(moto.users['nodelete']!), ['--skip-copy-probe']);
    expect(text.code).toBe(1);
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual(['delete probe object']);
    const check = report.checks.find((c) => c.name === 'delete probe object')!;
    expect(check.detail).toMatch(/E_S3_AUTH AccessDenied \(HTTP 403\); left behind: s3:\/\/doctor-iam\/logs\/merge\/\.rotating-s3-doctor-/);
    expect(check.fix).toContain(`grant s3:DeleteObject on arn:aws:s3:::${bucket}/logs/merge/*`);
  });
});
