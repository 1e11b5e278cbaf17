import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import * as v from 'valibot';
import { resolveConfig } from './load.js';
import { DEFAULTS, configFileSchema } from './schema.js';

function dirWith(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rs3-config-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

const stagesFile = {
  stages: [{ stage: 'merge', bucket: 'stage-bucket', fetchLimit: 25, timezone: 'America/New_York', recordsPath: '/matches', recordType: 'match' }],
};

describe('resolveConfig', () => {
  it('applies defaults < stage config < --config < environment', () => {
    const cwd = dirWith({ 'stages.config.json': stagesFile, 'c.json': { stage: 'merge', fetchLimit: 10, prefix: '/logs/merge/' } });
    const config = resolveConfig({ stage: 'merge', configFile: 'c.json', cwd, env: { ROTATING_S3_FETCH_LIMIT: '7' } });
    expect(config).toMatchObject({
      stage: 'merge',
      bucket: 'stage-bucket',
      fetchLimit: 7,
      prefix: 'logs/merge',
      timezone: 'America/New_York',
      recordsPath: '/matches',
      forcePathStyle: false,
    });
    expect(config.localDir).toBe(join(cwd, 'logs', 'merge'));
  });

  it('reads payloadLayout from a config file and ROTATING_S3_PAYLOAD_LAYOUT, pretty by default, and refuses other values', () => {
    const cwd = dirWith({
      'c.json': { stage: 'solo', payloadLayout: 'compact' },
      'bad.json': { stage: 'solo', payloadLayout: 'tiny' },
      'plain.json': { stage: 'solo' },
    });
    expect(resolveConfig({ configFile: 'plain.json', cwd, env: {} }).payloadLayout).toBe('pretty');
    expect(resolveConfig({ configFile: 'c.json', cwd, env: {} }).payloadLayout).toBe('compact');
    expect(resolveConfig({ configFile: 'c.json', cwd, env: { ROTATING_S3_PAYLOAD_LAYOUT: 'pretty' } }).payloadLayout).toBe('pretty');
    expect(() => resolveConfig({ configFile: 'bad.json', cwd, env: {} })).toThrow(/"payloadLayout" must be "pretty" or "compact" \(got "tiny"\)/);
    expect(() => resolveConfig({ configFile: 'plain.json', cwd, env: { ROTATING_S3_PAYLOAD_LAYOUT: 'one-line' } })).toThrow(
      /ROTATING_S3_PAYLOAD_LAYOUT="one-line": must be "pretty" or "compact" \(field "payloadLayout"\)/,
    );
  });

  it('takes the stage from a --config file alone', () => {
    const cwd = dirWith({ 'c.json': { stage: 'solo', bucket: 'b-solo' } });
    expect(resolveConfig({ configFile: 'c.json', cwd, env: {} })).toMatchObject({ stage: 'solo', bucket: 'b-solo', fetchLimit: 25, timezone: 'UTC' });
  });

  it('refuses unknown fields in a config file, naming every one and the allowed fields', () => {
    const cwd = dirWith({ 'c.json': { stage: 'merge', bukket: 'x', fetchlimit: 3 } });
    expect(() => resolveConfig({ configFile: 'c.json', cwd, env: {} })).toThrow(
      /unknown field\(s\) "bukket", "fetchlimit"; allowed: stage, bucket, prefix, localDir, fetchLimit,/,
    );
    const stages = dirWith({ 'stages.config.json': { stages: [], version: 2 } });
    expect(() => resolveConfig({ stage: 'merge', cwd: stages, env: {} })).toThrow(/unknown field\(s\) "version"; allowed: stages$/);
  });

  it('reports every wrong field of a config file with its path, one message each', () => {
    const cwd = dirWith({ 'c.json': { stage: 'merge', fetchLimit: '10', forcePathStyle: 'yes', prefix: 'a/../b' } });
    const error = (() => {
      try {
        resolveConfig({ configFile: 'c.json', cwd, env: {} });
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(error.split('; ')).toEqual([
      `config file ${join(cwd, 'c.json')}: "prefix" must not contain "." or ".." segments (got "a/../b")`,
      `config file ${join(cwd, 'c.json')}: "fetchLimit" must be a number (got "10")`,
      `config file ${join(cwd, 'c.json')}: "forcePathStyle" must be true or false (got "yes")`,
    ]);
  });

  it('refuses a config file without a stage or that is not an object, saying so', () => {
    const cwd = dirWith({ 'none.json': { bucket: 'abc' }, 'array.json': [], 'text.json': '"merge"' });
    expect(() => resolveConfig({ configFile: 'none.json', cwd, env: {} })).toThrow(/none\.json: "stage" is required$/);
    expect(() => resolveConfig({ configFile: 'array.json', cwd, env: {} })).toThrow(
      /array\.json: must be a JSON object such as \{"stage": "merge", \.\.\.\} \(got an array\)$/,
    );
    expect(() => resolveConfig({ configFile: 'text.json', cwd, env: {} })).toThrow(/text\.json: must be a JSON object .* \(got "merge"\)$/);
  });

  it('names the variable and value of a bad environment override', () => {
    const cwd = dirWith({ 'stages.config.json': stagesFile });
    expect(() => resolveConfig({ stage: 'merge', cwd, env: { ROTATING_S3_FETCH_LIMIT: 'ten' } })).toThrow(
      /ROTATING_S3_FETCH_LIMIT="ten" is not a whole number/,
    );
    expect(() => resolveConfig({ stage: 'merge', cwd, env: { ROTATING_S3_FETCH_LIMIT: '0' } })).toThrow(
      /^ROTATING_S3_FETCH_LIMIT="0": must be at least 1 \(field "fetchLimit"\)$/,
    );
    expect(() => resolveConfig({ stage: 'merge', cwd, env: { ROTATING_S3_FETCH_LIMIT: '200000' } })).toThrow(
      /^ROTATING_S3_FETCH_LIMIT="200000": must be at most 100000/,
    );
    expect(() => resolveConfig({ stage: 'merge', cwd, env: { ROTATING_S3_TIMEZONE: 'Nowhere/Land' } })).toThrow(
      /^ROTATING_S3_TIMEZONE: unknown timezone "Nowhere\/Land"/,
    );
    expect(() => resolveConfig({ stage: 'merge', cwd, env: { ROTATING_S3_BUCKET: 'Not_A_Bucket' } })).toThrow(
      /^ROTATING_S3_BUCKET="Not_A_Bucket": must be a valid S3 bucket name/,
    );
    expect(() => resolveConfig({ stage: 'merge', cwd, env: { ROTATING_S3_FORCE_PATH_STYLE: 'yes' } })).toThrow(/must be "true" or "false"/);
  });

  it('refuses stage names that could escape a path or key', () => {
    for (const bad of ['../etc', 'a/b', 'Merge', '1abc', '', 'a'.repeat(64)]) {
      expect(() => resolveConfig({ stage: bad, env: {} })).toThrow(/invalid stage name/);
    }
  });

  it('refuses a malformed recordsPath and a prefix with dot segments', () => {
    const cwd = dirWith({ 'a.json': { stage: 'm', recordsPath: 'matches' }, 'b.json': { stage: 'm', prefix: 'logs/../x' } });
    expect(() => resolveConfig({ configFile: 'a.json', cwd, env: {} })).toThrow(/JSON Pointer/);
    expect(() => resolveConfig({ configFile: 'b.json', cwd, env: {} })).toThrow(/"\." or "\.\." segments/);
  });

  it('explains how to configure a stage that is nowhere configured', () => {
    const cwd = dirWith({ 'stages.config.json': stagesFile });
    expect(() => resolveConfig({ stage: 'ghost', cwd, env: {} })).toThrow(/stage "ghost" is not configured.*generate:stage/);
  });

  it("validates a stage package's own stage.config.json like every other layer", () => {
    const cwd = dirWith({});
    const stageConfig = { stage: 'merge', fetchLimit: '3', bogus: 1, recordsPath: 'matches' } as never;
    expect(() => resolveConfig({ stageConfig, stageConfigSource: '/pkg/stage.config.json', cwd, env: {} })).toThrow(
      /^\/pkg\/stage\.config\.json: "fetchLimit" must be a number \(got "3"\); .*"recordsPath" must be a JSON Pointer.*; \/pkg\/stage\.config\.json: unknown field\(s\) "bogus"; allowed: /,
    );
    const typed = { stage: 'merge', fetchLimit: '3', recordsPath: 'matches' } as never;
    expect(() => resolveConfig({ stageConfig: typed, cwd, env: {} })).toThrow(
      /^stage\.config\.json: "fetchLimit" must be a number \(got "3"\); stage\.config\.json: "recordsPath" must be a JSON Pointer/,
    );
  });

  it('refuses an empty environment variable instead of falling back to a lower layer; an empty prefix means the bucket root', () => {
    const cwd = dirWith({ 'stages.config.json': stagesFile });
    expect(() => resolveConfig({ stage: 'merge', cwd, env: { ROTATING_S3_BUCKET: '' } })).toThrow(
      /^ROTATING_S3_BUCKET is set but empty; unset it to use the "bucket" of the stage config, or give it a value$/,
    );
    expect(() => resolveConfig({ stage: 'merge', cwd, env: { ROTATING_S3_SINGLE_WRITER: '' } })).toThrow(/^ROTATING_S3_SINGLE_WRITER is set but empty/);
    expect(() => resolveConfig({ stage: 'merge', cwd, env: { AWS_ENDPOINT_URL_S3: '' } })).toThrow(/^AWS_ENDPOINT_URL_S3 is set but empty/);
    expect(resolveConfig({ stage: 'merge', cwd, env: { ROTATING_S3_PREFIX: '' } }).prefix).toBe('');
  });

  it('refuses a misspelt value of every operational variable, naming it', () => {
    const cwd = dirWith({ 'stages.config.json': stagesFile });
    const bad: Record<string, RegExp> = {
      ROTATING_S3_SINGLE_WRITER: /^ROTATING_S3_SINGLE_WRITER="yes": must be "true" or "false"$/,
      ROTATING_S3_COMPLETE_GUARD: /^ROTATING_S3_COMPLETE_GUARD="yes": must be "if-match" or "lease"$/,
      ROTATING_S3_LOG_LEVEL: /^ROTATING_S3_LOG_LEVEL="yes": must be one of debug, info, warn, error$/,
      ROTATING_S3_PROGRESS: /^ROTATING_S3_PROGRESS="yes": must be "0"/,
    };
    for (const [name, message] of Object.entries(bad)) expect(() => resolveConfig({ stage: 'merge', cwd, env: { [name]: 'yes' } }), name).toThrow(message);
    expect(
      resolveConfig({
        stage: 'merge',
        cwd,
        env: { ROTATING_S3_SINGLE_WRITER: 'true', ROTATING_S3_LOG_LEVEL: 'debug', ROTATING_S3_PROGRESS: '0' },
      }).stage,
    ).toBe('merge');
  });

  it('refuses an endpoint that is not an http(s) URL at configuration time', () => {
    const cwd = dirWith({ 'stages.config.json': stagesFile });
    for (const endpoint of ['127.0.0.1:9000', 'localhost:9000', 'ftp://host', 'http://']) {
      expect(() => resolveConfig({ stage: 'merge', cwd, env: { AWS_ENDPOINT_URL_S3: endpoint } }), endpoint).toThrow(
        /^AWS_ENDPOINT_URL_S3=".*" is not an http\(s\) URL; write the scheme and host, e\.g\. http:\/\/127\.0\.0\.1:9000/,
      );
    }
    expect(() => resolveConfig({ stage: 'merge', cwd, env: { AWS_ENDPOINT_URL: 'minio:9000' } })).toThrow(
      /^AWS_ENDPOINT_URL="minio:9000" is not an http\(s\) URL/,
    );
    expect(
      resolveConfig({ stage: 'merge', cwd, env: { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000', AWS_ENDPOINT_URL: 'https://s3.eu-central-1.amazonaws.com' } })
        .stage,
    ).toBe('merge');
  });

  it('takes the object settings from any layer and validates each, naming the field or variable', () => {
    const cwd = dirWith({
      'stages.config.json': stagesFile,
      'kms.json': { stage: 'merge', sse: 'aws:kms', sseKmsKeyId: 'alias/logs', storageClass: 'STANDARD_IA', expectedBucketOwner: '111122223333' },
      'key-only.json': { stage: 'merge', sseKmsKeyId: 'alias/logs' },
      'bad.json': { stage: 'merge', sse: 'kms', storageClass: 'GLACIER', expectedBucketOwner: 1111 },
    });
    expect(resolveConfig({ stage: 'merge', configFile: 'kms.json', cwd, env: {} })).toMatchObject({
      sse: 'aws:kms',
      sseKmsKeyId: 'alias/logs',
      storageClass: 'STANDARD_IA',
      expectedBucketOwner: '111122223333',
    });
    expect(
      resolveConfig({
        stage: 'merge',
        cwd,
        env: {
          ROTATING_S3_SSE: 'aws:kms:dsse',
          ROTATING_S3_SSE_KMS_KEY_ID: 'arn:aws:kms:us-east-1:111122223333:key/k',
          ROTATING_S3_STORAGE_CLASS: 'INTELLIGENT_TIERING',
          ROTATING_S3_EXPECTED_BUCKET_OWNER: '111122223333',
        },
      }),
    ).toMatchObject({ sse: 'aws:kms:dsse', storageClass: 'INTELLIGENT_TIERING' });
    expect(resolveConfig({ stage: 'merge', cwd, env: {} })).not.toHaveProperty('sse');
    // A key id without a KMS sse, from a file or the environment.
    expect(() => resolveConfig({ stage: 'merge', configFile: 'key-only.json', cwd, env: {} })).toThrow(
      /^"sseKmsKeyId" is set \("alias\/logs"\) but "sse" is unset; a KMS key applies only with "sse": "aws:kms" or "aws:kms:dsse"/,
    );
    expect(() => resolveConfig({ stage: 'merge', cwd, env: { ROTATING_S3_SSE: 'AES256', ROTATING_S3_SSE_KMS_KEY_ID: 'alias/logs' } })).toThrow(
      /^ROTATING_S3_SSE_KMS_KEY_ID is set \("alias\/logs"\) but "sse" is "AES256"/,
    );
    expect(() => resolveConfig({ stage: 'merge', configFile: 'bad.json', cwd, env: {} })).toThrow(
      /"sse" must be one of AES256, aws:kms, aws:kms:dsse \(got "kms"\).*"storageClass" must be one of STANDARD,.*\(got "GLACIER"\).*"expectedBucketOwner" must be a string/,
    );
    expect(() => resolveConfig({ stage: 'merge', cwd, env: { ROTATING_S3_EXPECTED_BUCKET_OWNER: '1111-2222-3333' } })).toThrow(
      /^ROTATING_S3_EXPECTED_BUCKET_OWNER="1111-2222-3333": must be a 12-digit AWS account id/,
    );
    expect(() => resolveConfig({ stage: 'merge', cwd, env: { ROTATING_S3_SSE: 'aws:kms', ROTATING_S3_SSE_KMS_KEY_ID: 'key with spaces' } })).toThrow(
      /^ROTATING_S3_SSE_KMS_KEY_ID="key with spaces": must be a KMS key id/,
    );
  });

  it('the built-in defaults are a valid layer of the same schema', () => {
    expect(v.safeParse(configFileSchema, { stage: 'merge', ...DEFAULTS }).success).toBe(true);
  });
});
