/**
 * The connection test (`doctor`, and each stage's `test_<stage>_s3_connection`): a checklist that tells
 * a user what works and, for each failure, how to fix it. Probes use a throwaway key under the stage's
 * prefix and delete it afterwards. Loads the AWS SDK (only called when the user asks for it).
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Clock } from '@js-joda/core';
import type { StageConfig } from '../config/schema.js';
import { describeError } from '../errors.js';
import { createS3Client } from '../s3/client.js';
import { classifyS3Error, httpStatusOf, isConditionFailure, toS3Error } from '../s3/errors.js';
import { systemClock } from '../time/clock.js';
import { formatTimestamp, localDateOf, resolveZone, startOfDay } from '../time/zone.js';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** How to fix it; present when `ok` is false. */
  fix?: string;
}

export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
}

export interface DoctorOptions {
  client?: S3Client;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
}

function maskKey(id: string): string {
  return id.length <= 4 ? '****' : `${id.slice(0, 4)}…${id.slice(-2)}`;
}

function credentialSource(env: NodeJS.ProcessEnv): string {
  if (env['AWS_ACCESS_KEY_ID']) return 'environment (AWS_ACCESS_KEY_ID)';
  if (env['AWS_PROFILE']) return `profile "${env['AWS_PROFILE']}"`;
  return 'AWS default chain (shared files, SSO, container or instance role)';
}

export async function runDoctor(config: StageConfig, options: DoctorOptions = {}): Promise<DoctorReport> {
  const env = options.env ?? process.env;
  const checks: DoctorCheck[] = [];
  const add = (name: string, ok: boolean, detail: string, fix?: string) => checks.push(ok ? { name, ok, detail } : { name, ok, detail, fix: fix ?? '' });

  // Timezone: resolving it already happened in config; show what midnight means here.
  const zone = resolveZone(config.timezone);
  const now = (options.clock ?? systemClock()).instant();
  const next = startOfDay(localDateOf(now, zone).plusDays(1), zone);
  add('timezone', true, `${config.timezone}: local time ${formatTimestamp(now, zone)}, next midnight ${formatTimestamp(next, zone)}`);

  // Local directory.
  try {
    await mkdir(config.localDir, { recursive: true, mode: 0o700 });
    const probe = join(config.localDir, `.doctor-${randomBytes(4).toString('hex')}`);
    await writeFile(probe, 'probe', { mode: 0o600 });
    await rm(probe);
    await access(config.localDir, constants.W_OK);
    add('local directory writable', true, config.localDir);
  } catch (error) {
    add('local directory writable', false, `${config.localDir}: ${describeError(error)}`, 'set ROTATING_S3_LOCAL_DIR (or "localDir") to a writable directory');
  }

  const bucket = config.bucket;
  if (!bucket) {
    add('bucket configured', false, 'no bucket', 'set ROTATING_S3_BUCKET or "bucket" in the stage config');
    return { ok: false, checks };
  }
  const endpoint = env['AWS_ENDPOINT_URL_S3'] ?? env['AWS_ENDPOINT_URL'] ?? 'AWS S3 (default endpoint)';
  const client = options.client ?? createS3Client(config, { maxAttempts: 1, connectionTimeoutMs: 3_000, requestTimeoutMs: 10_000 }, env);

  try {
    const creds = await client.config.credentials();
    add('credentials', true, `access key ${maskKey(creds.accessKeyId)} from ${credentialSource(env)}`);
  } catch (error) {
    add('credentials', false, describeError(error), 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run where an IAM role is available');
    return { ok: false, checks };
  }

  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    add('bucket reachable', true, `s3://${bucket} at ${endpoint}`);
  } catch (error) {
    // HeadBucket has no body, so a missing bucket arrives as a bare 404 "NotFound".
    const missing = httpStatusOf(error) === 404 || (error as { name?: string }).name === 'NotFound';
    const mapped = toS3Error(missing ? Object.assign(error as object, { name: 'NoSuchBucket' }) : error, 'HeadBucket', bucket);
    add('bucket reachable', false, `s3://${bucket} at ${endpoint}: ${mapped.code}`, mapped.message);
    return { ok: false, checks };
  }

  const key = `${config.prefix ? `${config.prefix}/` : ''}.rotating-s3-doctor-${randomBytes(6).toString('hex')}.json`;
  const body = JSON.stringify({ probe: true, stage: config.stage });
  let written = false;
  try {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json', IfNoneMatch: '*' }));
    written = true;
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = await got.Body?.transformToString('utf8');
    if (text !== body) throw new Error('read back different bytes than written');
    add('write / read probe object', true, `s3://${bucket}/${key}`);
  } catch (error) {
    add('write / read probe object', false, describeError(toS3Error(error, written ? 'GetObject' : 'PutObject', bucket, key)), 'grant s3:PutObject and s3:GetObject on the prefix');
  }

  if (written) {
    try {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, IfNoneMatch: '*' }));
      add('conditional writes enforced', false, 'the endpoint accepted If-None-Match: * on an existing object', 'this endpoint ignores conditional writes: run exactly one writer (one host) per stage, or use AWS S3, R2 or MinIO');
    } catch (error) {
      if (isConditionFailure(error)) add('conditional writes enforced', true, 'If-None-Match: * refused with 412 as S3 does');
      else add('conditional writes enforced', false, describeError(toS3Error(error, 'PutObject', bucket, key)), classifyS3Error(error) === 'E_S3_AUTH' ? 'grant s3:PutObject' : 'check the endpoint');
    }
    try {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      add('delete probe object', true, 'deleted');
    } catch (error) {
      add('delete probe object', false, describeError(toS3Error(error, 'DeleteObject', bucket, key)), `grant s3:DeleteObject, then delete s3://${bucket}/${key} by hand`);
    }
  }
  return { ok: checks.every((c) => c.ok), checks };
}
