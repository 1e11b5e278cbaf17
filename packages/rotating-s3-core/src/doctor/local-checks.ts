/**
 * The checks of `doctor` that need no network: timezone, local directory, state file, stage lock, and
 * the Node.js / AWS SDK support window.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { Instant } from '@js-joda/core';
import type { StageConfig } from '../config/schema.js';
import { RotatingS3Error, describeError } from '../errors.js';
import { lockPath } from '../local/lock.js';
import { readState, statePath } from '../local/state.js';
import { formatTimestamp, localDateOf, resolveZone, startOfDay } from '../time/zone.js';
import type { DoctorCheck } from './types.js';
import { check, formatDuration } from './types.js';

/** A lock directory not refreshed for this long belongs to a dead process (local/lock.ts takes it over after 4 s). */
const LOCK_STALE_MS = 4_000;
/** Major Node.js version that AWS SDK v3 releases published after the first week of January 2027 require. */
const SDK_NEXT_NODE_MAJOR = 22;

export function checkTimezone(config: StageConfig, now: Instant): DoctorCheck {
  try {
    const zone = resolveZone(config.timezone);
    const today = localDateOf(now, zone);
    const next = startOfDay(today.plusDays(1), zone);
    const inSeconds = Math.round((next.toEpochMilli() - now.toEpochMilli()) / 1000);
    return check(
      'timezone',
      'pass',
      `${config.timezone}: today is ${today} (local time ${formatTimestamp(now, zone)}), next midnight ${formatTimestamp(next, zone)} in ${formatDuration(inSeconds)}`,
    );
  } catch (error) {
    return check(
      'timezone',
      'fail',
      `${config.timezone}: ${describeError(error)}`,
      'set ROTATING_S3_TIMEZONE or "timezone" to an IANA name such as America/New_York',
    );
  }
}

/**
 * Creates the directory if needed, writes and removes a probe file in it, and then removes the
 * directories it created (empty ones only, deepest first), so doctor leaves no trace whatever the
 * outcome: a failed first run must not leave an empty `logs/<stage>/` behind. The first `log` creates it.
 */
export async function checkLocalDirectory(config: StageConfig): Promise<DoctorCheck> {
  let created: string | undefined;
  try {
    created = await mkdir(config.localDir, { recursive: true, mode: 0o700 });
    const probe = join(config.localDir, `.doctor-${randomBytes(4).toString('hex')}`);
    await writeFile(probe, 'probe', { mode: 0o600 });
    await rm(probe);
    await access(config.localDir, constants.W_OK);
    return check('local directory writable', 'pass', created ? `${config.localDir} (does not exist yet; the first log creates it)` : config.localDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const fix =
      code === 'ENOSPC'
        ? 'free disk space on that file system'
        : 'set ROTATING_S3_LOCAL_DIR (or "localDir") to a directory this user can write, or fix its permissions';
    return check('local directory writable', 'fail', `${config.localDir}: E_LOCAL_IO ${code ?? describeError(error)}`, fix);
  } finally {
    if (created) await removeEmptyDirs(resolve(config.localDir), resolve(created));
  }
}

/** rmdir from `dir` up to and including `top`; stops at the first that is not empty (another process wrote there). */
async function removeEmptyDirs(dir: string, top: string): Promise<void> {
  for (let d = dir; ; d = dirname(d)) {
    if (
      !(await rmdir(d).then(
        () => true,
        () => false,
      )) ||
      d === top ||
      dirname(d) === d
    )
      return;
  }
}

export async function checkState(config: StageConfig): Promise<DoctorCheck> {
  const path = statePath(config.localDir, config.stage);
  try {
    const state = await readState(path);
    if (!state) return check('local state', 'pass', `${path} not created yet (no fetch logged)`);
    const pending = state.pending.length;
    return check(
      'local state',
      'pass',
      `${path}: day ${state.date ?? '-'}, fetch number ${state.lastFetchNumber}, ${pending} pending fetch${pending === 1 ? '' : 'es'}`,
    );
  } catch (error) {
    const code = error instanceof RotatingS3Error ? error.code : 'E_LOCAL_IO';
    return check(
      'local state',
      'fail',
      `${code}: ${describeError(error)}`,
      `move ${path} aside; the next log or flush rebuilds it from the log and <stage>_uploaded_ids.jsonl (docs/troubleshooting.md, ${code})`,
    );
  }
}

export async function checkLock(config: StageConfig, nowMs: number): Promise<DoctorCheck> {
  const path = lockPath(config.localDir, config.stage);
  const info = await stat(path).catch(() => undefined);
  if (!info) return check('lock not stale', 'pass', `${path} not held`);
  const age = nowMs - info.mtimeMs;
  if (age <= LOCK_STALE_MS)
    return check(
      'lock not stale',
      'pass',
      `${path} held by a running rotating-s3 process (refreshed ${formatDuration(Math.max(0, Math.round(age / 1000)))} ago)`,
    );
  // Not a failure: the next writer takes the lock over by itself. A warning, because a process died.
  return check(
    'lock not stale',
    'warn',
    `${path} was last refreshed ${formatDuration(Math.round(age / 1000))} ago: a rotating-s3 process was killed while holding it`,
    `harmless for the data (the next log or flush takes a lock older than 4 s over and repairs the log); find out why the process died (system log, ${config.stage}_events.jsonl), or remove the directory ${path} if no rotating-s3 process runs`,
  );
}

/** Informational: the AWS SDK's own support window for this Node.js version. */
export function checkRuntime(nodeVersion = process.version): DoctorCheck {
  let sdk = 'unknown';
  try {
    sdk = (createRequire(import.meta.url)('@aws-sdk/client-s3/package.json') as { version: string }).version;
  } catch {
    // The version is only shown; nothing depends on it.
  }
  const major = Number(/^v?(\d+)/.exec(nodeVersion)?.[1] ?? 0);
  const base = `Node.js ${nodeVersion}, @aws-sdk/client-s3 ${sdk}`;
  if (major >= SDK_NEXT_NODE_MAJOR) return check('runtime', 'info', `${base}: inside the AWS SDK's support window`);
  return check(
    'runtime',
    'info',
    `${base}: works today; AWS SDK v3 releases published after the first week of January 2027 require Node.js >= ${SDK_NEXT_NODE_MAJOR}, so plan the move to Node 22 LTS before then (the SDK's start-up warning about it is silenced and reported here instead)`,
  );
}
