/**
 * Configuration errors reach the user of the CLI as one line, exit code 2, before anything is written:
 * a bad endpoint, an empty variable, and each object setting.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'rs3-config-e2e-'));
const configFile = join(dir, 'merge.json');
const localDir = join(dir, 'local');
writeFileSync(configFile, JSON.stringify({ stage: 'merge', bucket: 'pipeline-logs', localDir, recordsPath: '/matches' }));
const payloadFile = join(dir, 'payload.json');
writeFileSync(payloadFile, JSON.stringify({ matches: [{ match_id: 'm1' }] }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' };

describe('configuration errors from the CLI', () => {
  it.each([
    [{ AWS_ENDPOINT_URL_S3: '127.0.0.1:9000' }, /E_CONFIG: AWS_ENDPOINT_URL_S3="127\.0\.0\.1:9000" is not an http\(s\) URL; write the scheme and host, e\.g\. http:\/\/127\.0\.0\.1:9000/],
    [{ ROTATING_S3_BUCKET: '' }, /E_CONFIG: ROTATING_S3_BUCKET is set but empty; unset it to use the "bucket" of the stage config, or give it a value/],
    [{ ROTATING_S3_SSE: 'kms' }, /E_CONFIG: ROTATING_S3_SSE="kms": must be one of AES256, aws:kms, aws:kms:dsse \(field "sse"\)/],
    [{ ROTATING_S3_SSE_KMS_KEY_ID: 'alias/logs' }, /E_CONFIG: ROTATING_S3_SSE_KMS_KEY_ID is set \("alias\/logs"\) but "sse" is unset/],
    [{ ROTATING_S3_STORAGE_CLASS: 'GLACIER' }, /E_CONFIG: ROTATING_S3_STORAGE_CLASS="GLACIER": must be one of STANDARD, /],
    [{ ROTATING_S3_EXPECTED_BUCKET_OWNER: '1111' }, /E_CONFIG: ROTATING_S3_EXPECTED_BUCKET_OWNER="1111": must be a 12-digit AWS account id/],
    [{ ROTATING_S3_SINGLE_WRITER: 'yes' }, /E_CONFIG: ROTATING_S3_SINGLE_WRITER="yes": must be "true" or "false"/],
  ])('log with %j exits 2 with one line and writes nothing', async (env, message) => {
    const result = await runCli(['log', '--config', configFile, '--payload-file', payloadFile], { env: { ...base, ...env } });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(existsSync(localDir)).toBe(false);
  });
});
