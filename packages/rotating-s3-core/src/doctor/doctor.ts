/**
 * The connection test (`doctor`, and each stage's `test_<stage>_s3_connection`): a checklist that tells a
 * user what works and, for each failure, how to fix it. Local checks first (they need no network), then
 * the S3 checks in the order a rotation depends on them (s3-checks.ts). Probe objects use throwaway keys
 * under the stage's prefix and are deleted afterwards. Loads the AWS SDK (only called when asked for).
 *
 * @example
 * ```ts
 * const report = await runDoctor(resolveConfig({ stage: 'merge' }));
 * if (!report.ok) console.log(report.checks.filter((c) => c.status === 'fail').map((c) => c.fix));
 * ```
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Clock } from '@js-joda/core';
import type { StageConfig } from '../config/schema.js';
import { createS3Client } from '../s3/client.js';
import { systemClock, wallClockMs } from '../time/clock.js';
import { checkLocalDirectory, checkLock, checkRuntime, checkState, checkTimezone } from './local-checks.js';
import { runS3Checks } from './s3-checks.js';
import { check, type DoctorCheck, type DoctorReport } from './types.js';

export type { CheckStatus, DoctorCheck, DoctorReport } from './types.js';

export interface DoctorOptions {
  /** S3 client under test. Default: built from the stage config and the environment (one attempt, short timeouts). */
  client?: S3Client;
  /** Client for the checksum probe (the SDK default WHEN_SUPPORTED). Default: derived from `client`'s settings. */
  checksumClient?: S3Client;
  /** Source of "now" (the timezone line and the lock age). Default: the system clock. */
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  /** Node.js version to judge (tests). Default: `process.version`. */
  nodeVersion?: string;
  /** Skip the 5 MiB UploadPartCopy probe (metered links). Default: false. */
  skipCopyProbe?: boolean;
  /** Real time, epoch ms (lock age, credential expiry, capability-cache age), for tests. Default: the system's. */
  realNowMs?: number;
}

export async function runDoctor(config: StageConfig, options: DoctorOptions = {}): Promise<DoctorReport> {
  const env = options.env ?? process.env;
  const now = (options.clock ?? systemClock()).instant();
  const realNowMs = options.realNowMs ?? wallClockMs();
  const checks: DoctorCheck[] = [
    checkTimezone(config, now),
    await checkLocalDirectory(config),
    await checkState(config),
    // The lock's age is judged against the real clock: its mtime is real time even under --now.
    await checkLock(config, realNowMs),
    checkRuntime(options.nodeVersion),
  ];

  const bucket = config.bucket;
  if (!bucket) {
    checks.push(check('bucket configured', 'fail', 'no bucket', 'set ROTATING_S3_BUCKET or "bucket" in the stage config (stages.config.json or --config)'));
    return report(checks);
  }
  const client = options.client ?? createS3Client(config, { maxAttempts: 1, connectionTimeoutMs: 3_000, requestTimeoutMs: 15_000 }, env);
  checks.push(
    ...(await runS3Checks({
      config: { ...config, bucket },
      client,
      env,
      // Credential expiry is real time, whatever --now says.
      nowMs: realNowMs,
      ...(options.checksumClient ? { checksumClient: options.checksumClient } : {}),
      ...(options.skipCopyProbe ? { skipCopyProbe: true } : {}),
    })),
  );
  return report(checks);
}

function report(checks: DoctorCheck[]): DoctorReport {
  return { ok: checks.every((c) => c.ok), checks };
}
