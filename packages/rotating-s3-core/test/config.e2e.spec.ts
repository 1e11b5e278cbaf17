/**
 * Configuration errors reach the user of the CLI as one line, exit code 2, before anything is written:
 * a bad endpoint, an empty variable, and each object setting.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
    [
      { AWS_ENDPOINT_URL_S3: '127.0.0.1:9000' },
      /E_CONFIG: AWS_ENDPOINT_URL_S3="127\.0\.0\.1:9000" is not an http\(s\) URL; write the scheme and host, e\.g\. http:\/\/127\.0\.0\.1:9000/,
    ],
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

  it('a misspelt ROTATING_S3_ variable is named with the variable it most likely meant, and the command still runs', async () => {
    const result = await runCli(['status', '--config', configFile, '--local', '--json'], { env: { ...base, ROTATING_S3_BUKET: 'other-bucket' } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe(
      'rotating-s3: warning W_ENV_UNKNOWN: ROTATING_S3_BUKET is not a rotating-s3 variable; did you mean ROTATING_S3_BUCKET? it is ignored (docs/configuration.md lists them)\n',
    );
  });

  it("a stage package's own stage.config.json is validated: its bin refuses a hand-edited file, naming it", () => {
    const pkg = join(dir, 'stage-demo');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(
      join(pkg, 'stage.config.json'),
      JSON.stringify({ stage: 'demo', fetchLimit: '3', bogus: 1, recordsPath: 'matches', localDir: join(pkg, 'logs') }),
    );
    // What the generated bin does (bin/<stage>_rotating_s3.js → runStageCli of the bundled CLI).
    const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bundle', 'cli.cjs');
    const script = `require(${JSON.stringify(cli)}).runStageCli(${JSON.stringify(pkg)}, ['status', '--local', '--json']).then((c) => { process.exitCode = c; })`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
    expect(run.status, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    const file = join(pkg, 'stage.config.json');
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      `demo_rotating_s3: error E_CONFIG: ${file}: "fetchLimit" must be a number (got "3"); ${file}: "recordsPath" must be a JSON Pointer such as "/matches" (RFC 6901), or "" for the whole payload (got "matches"); ${file}: unknown field(s) "bogus"; allowed: stage, bucket, `,
    );
    expect(existsSync(join(pkg, 'logs'))).toBe(false);
  });
});
