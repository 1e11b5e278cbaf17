/**
 * The stage logger: appends fetches to the local bookended file, numbers them through the local day and
 * rotates them into the S3 daily object. Every mutating call holds the stage lock and follows this order:
 *
 *   reconcile (adopt blocks appended after the last state write, quarantine torn bytes)
 *   → day change? upload the old day's pending fetches to the old day's object, then restart numbering
 *   → append the block + fsync  (the fetch and its number now exist)
 *   → write the state atomically
 *   → rotation due? per local date: upload → record ids in the uploaded index → remove the blocks
 *     from the log → write the state.
 *
 * A kill at any point leaves either the old or the new truth on disk, and the next call repairs the gap
 * (see local/state.ts). An upload is idempotent per fetch id (s3/daily-object.ts), so a retry after an
 * ambiguous failure never duplicates a fetch in S3.
 */
import { join } from 'node:path';
import type { Clock } from '@js-joda/core';
import type { StageConfig } from '../config/schema.js';
import { writerSettings } from '../config/env.js';
import { ConfigError, LocalIoError, describeError } from '../errors.js';
import { formatBlock, type TornSegment } from '../local/bookended.js';
import { crashPoint } from '../local/crash-point.js';
import { isDiskFull, nodeDurableFs, type DurableAppender, type DurableFs } from '../local/durable-fs.js';
import { acquireStageLock, type StageLockRelease } from '../local/lock.js';
import { installObjectSettings } from '../s3/object-settings.js';
import { emptyLogIntoQuarantine, fileIdentity, logFilePaths, quarantineSegments, readLog, removeRanges, type LogFilePaths } from '../local/log-file.js';
import { emptyState, readState, statePath, writeState, type PendingFetch, type StageState } from '../local/state.js';
import { RETENTION_DAYS, appendUploaded, pruneUploaded, readUploaded, uploadedIndexPath } from '../local/uploaded-index.js';
import { checkPayloadText, countRecordsInText, payloadTextOf, type Payload } from '../records/records.js';
import { layoutJson } from '../records/json-text.js';
import { deadLetterPath, readUploadable } from '../local/dead-letter.js';
import { dailyObjectKey, uploadIdOf } from '../s3/daily-object.js';
import type { DailyObjectStore } from '../s3/daily-store.js';
import { systemClock } from '../time/clock.js';
import { LocalDate, formatTimestamp, resolveZone, type ZoneId } from '../time/zone.js';
import { parseDuration } from '../time/duration.js';
import { systemTimers, type TimerHandle } from '../time/timers.js';
import { assertFetchId, generateFetchId } from './fetch-id.js';
import { createOpsLog, type OpsLog } from './ops-log.js';
import type {
  StageLoggerOptions,
  LogFetchOptions,
  UploadReport,
  UploadErrorInfo,
  LogResult,
  FlushResult,
  FlushOptions,
  StageStatus,
  StageLogger,
} from './types.js';
import { ageRotationDueInMs } from './age-rotation.js';
import { adoptBlock, planFetch, planRotation, raiseCounter } from './plan.js';
import { describeStatus } from './status.js';
import { uploadErrorInfo } from './upload-error.js';

export function createStageLogger(config: StageConfig, options: StageLoggerOptions = {}): StageLogger {
  return new DefaultStageLogger(config, options);
}

class DefaultStageLogger implements StageLogger {
  readonly config: StageConfig;
  private readonly clock: Clock;
  private readonly fs: DurableFs;
  private readonly zone: ZoneId;
  private readonly paths: LogFilePaths;
  private readonly statePath: string;
  private readonly indexPath: string;
  private readonly ops: OpsLog;
  private store: DailyObjectStore | undefined;
  private readonly holdLockMs: number;
  /** Set once the stage lock was taken over while held: every later call is refused with it. */
  private lockLost: Error | undefined;
  /** The lock and the in-memory state while this logger holds the stage (see `holdLockMs`). */
  private session:
    | { state: StageState; release: () => Promise<void>; dirty: boolean; timer?: NodeJS.Timeout; appender?: DurableAppender; syncTimer?: NodeJS.Timeout }
    | undefined;
  /** Serialises calls within this process. */
  private queue: Promise<unknown> = Promise.resolve();
  /** `maxPendingAge` in milliseconds (undefined: off) and the timer armed for it. */
  private readonly maxPendingAgeMs: number | undefined;
  private ageTimer: TimerHandle | undefined;
  /**
   * Torn segments still in the log because the disk was too full to quarantine them (see `quarantine`):
   * moved once uploads have freed space. While there are any, the state is saved with inode 0, so a
   * later process rescans the log and finds them again.
   */
  private deferredTorn: TornSegment[] = [];

  constructor(
    config: StageConfig,
    private readonly options: StageLoggerOptions,
  ) {
    this.config = config;
    this.clock = options.clock ?? systemClock();
    this.fs = options.fs ?? nodeDurableFs;
    this.zone = resolveZone(config.timezone);
    this.paths = logFilePaths(config.localDir, config.stage);
    this.statePath = statePath(config.localDir, config.stage);
    this.indexPath = uploadedIndexPath(config.localDir, config.stage);
    this.ops = options.opsLog ?? createOpsLog(config.localDir, config.stage);
    this.store = options.store;
    this.holdLockMs = options.holdLockMs ?? 200;
    this.maxPendingAgeMs = config.maxPendingAge === undefined ? undefined : parseDuration(config.maxPendingAge);
  }

  /** Runs `fn` holding the stage lock with a reconciled state, one call at a time. */
  private withStage<T>(fn: (state: StageState) => Promise<T>): Promise<T> {
    const next = this.queue.then(async () => {
      // A lock lost while held (another process took it over) ends this logger: see local/lock.ts.
      if (this.lockLost) throw this.lockLost;
      const lost = (this.session?.release as StageLockRelease | undefined)?.lockLost?.();
      if (lost) {
        this.lockLost = lost;
        await this.abandonSession();
        throw lost;
      }
      if (!this.session) {
        await this.fs.ensureDir(this.config.localDir).catch((cause) => {
          throw localIo(`cannot create the local directory ${this.config.localDir}`, cause);
        });
        const release = await (this.options.lock ?? acquireStageLock)(this.config.localDir, this.config.stage);
        try {
          this.session = { state: await this.reconcile(), release, dirty: false };
        } catch (error) {
          await release().catch(() => undefined);
          throw error;
        }
      }
      const session = this.session;
      // The idle timer keeps running: if it fires during a long call, the session ends after this call
      // (the end is queued behind it), and `refresh()` below is then harmless.
      try {
        return await fn(session.state);
      } catch (error) {
        // The in-memory state may be half-updated: drop it; the next call reconciles from the log.
        await this.abandonSession();
        throw error;
      } finally {
        if (this.holdLockMs <= 0) await this.endSession();
        else if (this.session === session) {
          // One timer per session, pushed back by each call (refresh() costs less than a new timer).
          if (session.timer) session.timer.refresh();
          else {
            session.timer = setTimeout(() => void this.enqueueEnd(), this.holdLockMs);
            session.timer.unref();
          }
        }
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private enqueueEnd(): Promise<void> {
    const next = this.queue.then(() => this.endSession());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async endSession(): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    clearTimeout(session.timer);
    try {
      if (session.appender) await flushAndClose(session, session.appender);
      if (session.dirty) await this.saveState(session.state);
    } finally {
      await session.release().catch(() => undefined);
    }
  }

  close(): Promise<void> {
    this.ageTimer?.cancel();
    this.ageTimer = undefined;
    return this.enqueueEnd();
  }

  /** Milliseconds until the pending fetches are due by age (≤ 0: now); undefined when off or none pending. */
  private ageDueInMs(state: StageState): number | undefined {
    return ageRotationDueInMs(state.pending[0]?.timestamp, this.clock.instant(), this.maxPendingAgeMs);
  }

  /** Re-arms the age timer for the current oldest pending fetch; its flush re-checks and re-arms. */
  private armAgeTimer(state: StageState): LogResult['age_rotation'] {
    this.ageTimer?.cancel();
    this.ageTimer = undefined;
    const due = this.ageDueInMs(state);
    if (due === undefined) return undefined;
    const setting = this.maxPendingAgeMs!;
    // Already due yet still pending means the upload failed: retry later rather than in a tight loop.
    const delay = due > 0 ? due : Math.min(setting, AGE_RETRY_MS);
    this.ageTimer = (this.options.timers ?? systemTimers).set(() => {
      this.ageTimer = undefined;
      this.flush({ olderThanMs: setting }).catch((error: unknown) => this.ops.event('error', 'age_rotation_failed', { message: describeError(error) }));
    }, delay);
    return { max_pending_age: this.config.maxPendingAge!, due_in_ms: Math.max(0, due) };
  }

  /** Drops the session without a checkpoint (after a failed append); the next call reconciles from disk. */
  private async abandonSession(): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    clearTimeout(session.timer);
    if (session.appender) await flushAndClose(session, session.appender);
    await session.release().catch(() => undefined);
  }

  /** Appends a block: through the session's open file when holding the stage, else open-append-close. */
  private async appendBlock(block: string): Promise<void> {
    const session = this.session;
    if (this.holdLockMs > 0 && session && this.fs.openAppender) {
      session.appender ??= await this.fs.openAppender(this.paths.log);
      const every = this.options.syncEveryMs ?? 0;
      if (every <= 0) {
        await session.appender.append(block);
        return;
      }
      await session.appender.write(block);
      if (!session.syncTimer) {
        const appender = session.appender;
        session.syncTimer = setTimeout(() => {
          session.syncTimer = undefined;
          appender.sync().catch((error: unknown) => this.ops.event('error', 'sync_failed', { file: this.paths.log, message: describeError(error) }));
        }, every);
        session.syncTimer.unref();
      }
    } else {
      await this.fs.append(this.paths.log, block);
    }
  }

  /** Called before the log is truncated or replaced: an open handle would keep writing to the old file. */
  private async closeAppender(): Promise<void> {
    const session = this.session;
    const appender = session?.appender;
    if (!session || !appender) return;
    session.appender = undefined;
    await flushAndClose(session, appender);
  }

  async logFetch(payload: Payload | string | Uint8Array, options: LogFetchOptions = {}): Promise<LogResult> {
    if (!this.config.bucket && !this.options.store) {
      throw new ConfigError(`stage "${this.config.stage}" has no bucket; set ROTATING_S3_BUCKET or "bucket" in the stage config`);
    }
    // The payload's text is kept exactly (numbers, escapes, key order): it is checked and laid out, never
    // parsed into JavaScript values. Doing that to a large payload is the expensive part: before the lock.
    const source = options.source ?? 'payload';
    const bytes = checkPayloadText(typeof payload === 'string' || payload instanceof Uint8Array ? payload : payloadTextOf(payload), source);
    const fetchIdGiven = options.fetchId === undefined ? undefined : assertFetchId(options.fetchId);
    const payloadJson = layoutJson(bytes, this.config.payloadLayout ?? 'pretty').toString('utf8');
    const records = countRecordsInText(bytes, this.config.recordsPath);

    return this.withStage(async (state) => {
      if (fetchIdGiven !== undefined) {
        const earlier = await this.findLogged(state, fetchIdGiven);
        if (earlier) {
          // A retry after a crash may find a rotation still due: finish it, so retrying is always enough.
          const due = state.pending.length >= this.config.fetchLimit || (this.ageDueInMs(state) ?? 1) <= 0;
          const outcome = due ? await this.rotate(state, state.pending) : { uploads: [], error: undefined };
          const result: LogResult = {
            ...earlier,
            duplicate: true,
            pending: state.pending.length,
            rotated: outcome.uploads.length > 0,
            upload_sequence: outcome.uploads.at(-1)?.upload_sequence ?? null,
            uploads: outcome.uploads,
          };
          if (outcome.error) result.upload_error = outcome.error;
          const age = this.armAgeTimer(state);
          if (age) result.age_rotation = age;
          return result;
        }
      }

      const now = this.clock.instant();
      const plan = planFetch(state, now, this.zone);
      const { date: dayText, fetchNumber, timestamp, midnight } = plan;

      const uploads: UploadReport[] = [];
      let uploadError: UploadErrorInfo | undefined;
      if (midnight) {
        state.lastMidnight = { at: formatTimestamp(now, this.zone), ...midnight };
        state.counters.midnightTransitions++;
        this.ops.event('info', 'midnight', { ...midnight, pending_from_previous_days: state.pending.length, last_fetch_number: state.lastFetchNumber });
        if (plan.uploadFirst.length > 0) {
          const outcome = await this.rotate(state, plan.uploadFirst);
          uploads.push(...outcome.uploads);
          uploadError = outcome.error;
        }
        await pruneUploaded(this.fs, this.indexPath, LocalDate.parse(dayText).minusDays(RETENTION_DAYS).toString()).catch(() => undefined);
      }

      const fetchId = fetchIdGiven ?? generateFetchId(timestamp);
      // Written as a string: encoding straight into the write saves a 10 KB Buffer per fetch.
      const block = formatBlock({ fetchId, timestamp, fetchNumber, records }, payloadJson);
      const blockBytes = Buffer.byteLength(block);

      crashPoint('log:before-append');
      const sizeBefore = state.log.size;
      try {
        await this.appendBlock(block);
      } catch (cause) {
        // Nothing of this fetch counts: the next call starts from a fresh reconcile rather than this
        // session's state. The partial block is cut off now (a full disk gets its space back at once);
        // if that fails too, the next call quarantines it.
        await this.abandonSession();
        const now = await fileIdentity(this.paths.log).catch(() => undefined);
        if (now && now.size > sizeBefore && now.size <= sizeBefore + blockBytes) await this.fs.truncate(this.paths.log, sizeBefore).catch(() => undefined);
        throw localIo(`cannot append to ${this.paths.log}; the fetch was NOT logged`, cause);
      }
      crashPoint('log:after-append');
      const start = state.log.size;
      state.pending.push({ fetchId, fetchNumber, date: dayText, timestamp, records, start, end: start + blockBytes });
      state.date = dayText;
      state.lastFetchNumber = fetchNumber;
      state.lastTimestamp = timestamp;
      state.log.size += blockBytes;
      if (this.holdLockMs <= 0) {
        // The fetch is logged (its block is durable); a failed checkpoint only means the next call
        // re-adopts the block from the log, so it must not turn a logged fetch into an error.
        await this.saveState(state).catch((error: unknown) =>
          this.ops.event('warn', 'checkpoint_failed', { file: this.statePath, message: describeError(error) }),
        );
      } else {
        this.session!.dirty = true; // the block is the record; the checkpoint follows on release
      }
      crashPoint('log:after-state');

      // Due by count, or by age (`maxPendingAge`): then everything pending goes, in fetchLimit-sized uploads.
      if (uploadError === undefined && (state.pending.length >= this.config.fetchLimit || (this.ageDueInMs(state) ?? 1) <= 0)) {
        const outcome = await this.rotate(state, state.pending);
        uploads.push(...outcome.uploads);
        uploadError = outcome.error;
      }
      const own = uploads.filter((u) => u.date === dayText).at(-1);
      const result: LogResult = {
        fetch_id: fetchId,
        fetch_number: fetchNumber,
        date: dayText,
        timestamp,
        records,
        duplicate: false,
        pending: state.pending.length,
        rotated: uploads.length > 0,
        upload_sequence: own?.upload_sequence ?? uploads.at(-1)?.upload_sequence ?? null,
        uploads,
      };
      if (midnight) result.midnight = midnight;
      if (uploadError) result.upload_error = uploadError;
      const age = this.armAgeTimer(state);
      if (age) result.age_rotation = age;
      return result;
    });
  }

  async flush(options: FlushOptions = {}): Promise<FlushResult> {
    if (!this.config.bucket && !this.options.store) {
      throw new ConfigError(`stage "${this.config.stage}" has no bucket; set ROTATING_S3_BUCKET or "bucket" in the stage config`);
    }
    return this.withStage(async (state) => {
      const due = options.olderThanMs === undefined || ageRotationDueInMs(state.pending[0]?.timestamp, this.clock.instant(), options.olderThanMs)! <= 0;
      const outcome = state.pending.length > 0 && due ? await this.rotate(state, state.pending) : { uploads: [], error: undefined };
      const result: FlushResult = {
        uploaded_fetches: outcome.uploads.reduce((n, u) => n + u.fetches, 0),
        uploaded_records: outcome.uploads.reduce((n, u) => n + u.records, 0),
        uploads: outcome.uploads,
        pending: state.pending.length,
      };
      if (outcome.error) result.upload_error = outcome.error;
      if (options.olderThanMs !== undefined) result.due = due && state.pending.length + result.uploaded_fetches > 0;
      this.armAgeTimer(state);
      return result;
    });
  }

  async status(): Promise<StageStatus> {
    const state = this.session?.state ?? (await readState(this.statePath)) ?? emptyState(this.config.stage);
    const deadLetterFile = deadLetterPath(this.config.localDir, this.config.stage);
    const [log, quarantine, deadLetter] = await Promise.all([fileIdentity(this.paths.log), fileIdentity(this.paths.quarantine), fileIdentity(deadLetterFile)]);
    return describeStatus({
      config: this.config,
      state,
      now: this.clock.instant(),
      zone: this.zone,
      files: { log: this.paths.log, quarantine: this.paths.quarantine, deadLetter: deadLetterFile, state: this.statePath },
      found: { log, quarantineBytes: quarantine?.size ?? 0, deadLetterBytes: deadLetter?.size ?? 0 },
    });
  }

  /** Loads the state and brings it in line with the log (see local/state.ts). Caller holds the lock. */
  private async reconcile(): Promise<StageState> {
    const stored = await readState(this.statePath);
    const state = stored ?? emptyState(this.config.stage);
    const log = await fileIdentity(this.paths.log);
    if (!log) {
      if (state.pending.length > 0) {
        this.ops.event('error', 'log_missing', { file: this.paths.log, pending_lost: state.pending.map((p) => p.fetchId) });
        state.pending = [];
      }
      state.log = { size: 0, ino: 0 };
      if (!stored) await this.restoreCounterFromIndex(state);
      return state;
    }
    if (stored && log.ino === state.log.ino && log.size === state.log.size) return state;

    const appendedOnly = stored !== undefined && log.ino === state.log.ino && log.size > state.log.size;
    const from = appendedOnly ? state.log.size : 0;
    const { blocks, torn } = await readLog(this.paths.log, from);
    if (!appendedOnly) {
      state.pending = [];
      if (!stored) await this.restoreCounterFromIndex(state);
    }
    for (const block of blocks) adoptBlock(state, block, this.zone);
    this.deferredTorn = [];
    if (torn.length > 0) await this.quarantine(torn, log.size, state);
    this.ops.event('warn', 'repaired', { adopted_blocks: blocks.length, quarantined_segments: torn.length, full_rescan: !appendedOnly });
    // The repaired state is also derivable from the log again; a failed checkpoint is only a warning.
    await this.saveState(state).catch((error: unknown) => this.ops.event('warn', 'checkpoint_failed', { file: this.statePath, message: describeError(error) }));
    return state;
  }

  /** Without a state file, numbering continues from the uploaded index so a day never restarts at 1. */
  private async restoreCounterFromIndex(state: StageState): Promise<void> {
    for (const entry of await readUploaded(this.indexPath)) raiseCounter(state, entry.date, entry.fetch_number);
  }

  private async quarantine(torn: TornSegment[], logSize: number, state: StageState): Promise<void> {
    const nowText = formatTimestamp(this.clock.instant(), this.zone);
    try {
      await quarantineSegments(this.fs, this.paths, torn, logSize, nowText);
    } catch (cause) {
      if (!isDiskFull(cause)) throw localIo(`cannot move torn bytes of ${this.paths.log} to ${this.paths.quarantine}`, cause);
      // A full disk: uploading the pending fetches frees the space that quarantining needs, so the torn
      // bytes stay where they are (readers skip them) until then (see removeFromLog).
      this.deferredTorn = torn;
      state.log.size = logSize;
      this.ops.event('warn', 'quarantine_deferred', {
        file: this.paths.quarantine,
        segments: torn.length,
        bytes: torn.reduce((n, s) => n + s.end - s.start, 0),
        reason: 'disk full; moved after the pending fetches are uploaded',
      });
      return;
    }
    // Removing middle segments shifts the blocks after them.
    if (!(torn.length === 1 && torn[0]!.end === logSize)) shiftPending(state.pending, torn);
    for (const segment of torn) {
      this.ops.event('warn', 'quarantined', { file: this.paths.quarantine, bytes: segment.end - segment.start, reason: segment.reason });
    }
  }

  /** Is `fetchId` already logged (pending or uploaded within the retention window)? */
  private async findLogged(
    state: StageState,
    fetchId: string,
  ): Promise<Omit<LogResult, 'pending' | 'rotated' | 'upload_sequence' | 'uploads' | 'duplicate'> | undefined> {
    const pending = state.pending.find((p) => p.fetchId === fetchId);
    if (pending) return { fetch_id: fetchId, fetch_number: pending.fetchNumber, date: pending.date, timestamp: pending.timestamp, records: pending.records };
    const uploaded = (await readUploaded(this.indexPath)).find((u) => u.fetch_id === fetchId);
    if (uploaded)
      return { fetch_id: fetchId, fetch_number: uploaded.fetch_number, date: uploaded.date, timestamp: uploaded.timestamp, records: uploaded.records };
    return undefined;
  }

  /**
   * Uploads `which` (one upload per local date, oldest first); stops at the first failure. An upload
   * left in flight by an earlier call goes first, as the same batch under the same id.
   */
  private async rotate(state: StageState, which: PendingFetch[]): Promise<{ uploads: UploadReport[]; error: UploadErrorInfo | undefined }> {
    await this.closeAppender();
    const uploads: UploadReport[] = [];
    const planned = planRotation(state, which, this.config.fetchLimit, this.config.stage);
    if (planned.inflightDone) state.inflight = null; // its fetches already left the log: that upload completed
    const groups = planned.uploads.map((u) => ({ date: u.date, group: u.fetches, uploadId: u.uploadId }));
    for (const { date, group, uploadId } of groups) {
      try {
        const report = await this.uploadGroup(state, date, group, uploadId);
        if (report) uploads.push(report);
      } catch (error) {
        const info = uploadErrorInfo(error, {
          bucket: this.config.bucket ?? '',
          key: dailyObjectKey(this.config.prefix, this.config.stage, date),
          stage: this.config.stage,
          fetches: group.length,
        });
        state.lastError = { at: formatTimestamp(this.clock.instant(), this.zone), ...info };
        state.counters.uploadFailures++;
        this.ops.event('error', 'upload_failed', { date, fetches: group.length, ...info });
        await this.saveState(state).catch(() => undefined);
        // The fetches are safe locally whatever failed: report it and let the next log/flush retry.
        return { uploads, error: info };
      }
    }
    return { uploads, error: undefined };
  }

  private async uploadGroup(state: StageState, date: string, group: PendingFetch[], uploadId: string): Promise<UploadReport | undefined> {
    // A fetch that can never be uploaded is set aside so it does not block the fetches behind it.
    const { fetches, dead } = await readUploadable(group, {
      fs: this.fs,
      log: this.paths.log,
      deadLetter: deadLetterPath(this.config.localDir, this.config.stage),
      at: formatTimestamp(this.clock.instant(), this.zone),
      onDeadLetter: (fields) => this.ops.event('error', 'dead_lettered', { ...fields, date }),
    }).catch((cause: unknown) => {
      throw localIo(`cannot set an unreadable fetch aside in ${deadLetterPath(this.config.localDir, this.config.stage)}`, cause);
    });
    if (dead.length > 0) {
      await this.removeFromLog(state, dead);
      group = group.filter((p) => !dead.includes(p));
      if (group.length === 0) {
        state.inflight = null;
        await this.saveState(state);
        return undefined;
      }
      uploadId = uploadIdOf(
        this.config.stage,
        date,
        group.map((p) => p.fetchId),
      );
    }
    const key = dailyObjectKey(this.config.prefix, this.config.stage, date);
    const uploadTimestamp = formatTimestamp(this.clock.instant(), this.zone);
    if (state.inflight?.uploadId !== uploadId) {
      state.inflight = { uploadId, date, fetchIds: group.map((p) => p.fetchId) };
      // On a full disk the upload goes ahead without its intent record: it is what frees the space, and
      // a retry without the record is still safe (the daily object skips fetch ids it already holds).
      await this.saveState(state).catch((error: unknown) => {
        if (!isDiskFull(error)) throw error;
        this.ops.event('warn', 'checkpoint_failed', { file: this.statePath, message: describeError(error) });
      });
    }
    crashPoint('rotate:before-upload');
    const store = await this.getStore();
    const outcome = await store.appendUpload(key, { uploadId, stage: this.config.stage, timezone: this.config.timezone, date, uploadTimestamp, fetches });
    crashPoint('rotate:after-upload');
    const records = group.reduce((n, p) => n + p.records, 0);
    this.ops.event('info', outcome.applied ? 'uploaded' : 'upload_already_applied', {
      key,
      date,
      upload_sequence: outcome.uploadSequence,
      upload_id: outcome.uploadId,
      fetches: group.length,
      records,
      conflicts: outcome.conflicts,
    });

    const entries = group.map((p) => ({
      fetch_id: p.fetchId,
      fetch_number: p.fetchNumber,
      date: p.date,
      timestamp: p.timestamp,
      records: p.records,
      upload_sequence: outcome.uploadSequence,
    }));
    let trimmed = false;
    await appendUploaded(this.fs, this.indexPath, entries).catch(async (cause: unknown) => {
      if (!isDiskFull(cause)) throw localIo(`uploaded to ${key} but cannot record it in ${this.indexPath}`, cause);
      // A full disk: free the uploaded blocks' space first, then record them (a crash in between only
      // loses the index entries: a retried --fetch-id is then logged again, and S3 skips it by fetch id).
      await this.removeFromLog(state, group);
      trimmed = true;
      await appendUploaded(this.fs, this.indexPath, entries).catch((again: unknown) => {
        throw localIo(`uploaded to ${key} but cannot record it in ${this.indexPath}`, again);
      });
    });
    crashPoint('rotate:after-index');
    if (!trimmed) await this.removeFromLog(state, group);
    crashPoint('rotate:after-trim');
    state.lastUpload = {
      at: uploadTimestamp,
      date,
      key,
      uploadSequence: outcome.uploadSequence,
      uploadId: outcome.uploadId ?? '',
      fetches: group.length,
      records,
    };
    state.lastError = null;
    state.inflight = null;
    state.counters.uploads++;
    await this.saveState(state);
    return {
      date,
      key,
      upload_sequence: outcome.uploadSequence,
      upload_id: outcome.uploadId ?? null,
      fetches: group.length,
      records,
      applied: outcome.applied,
    };
  }

  /** Removes uploaded blocks: truncate when nothing else is pending (keeps `tail -f` on the same file). */
  private async removeFromLog(state: StageState, uploaded: PendingFetch[]): Promise<void> {
    const gone = new Set(uploaded.map((p) => p.fetchId));
    const remaining = state.pending.filter((p) => !gone.has(p.fetchId));
    try {
      if (remaining.length === 0 && this.deferredTorn.length > 0) {
        // Every pending fetch is uploaded; only torn bytes a full disk kept from the quarantine are left.
        for (const { segment, bytes } of await emptyLogIntoQuarantine(
          this.fs,
          this.paths,
          this.deferredTorn,
          formatTimestamp(this.clock.instant(), this.zone),
        )) {
          this.ops.event('warn', 'quarantined', { file: this.paths.quarantine, bytes, reason: segment.reason });
        }
        this.deferredTorn = [];
        state.log.size = 0;
      } else if (remaining.length === 0) {
        await this.fs.truncate(this.paths.log, 0);
        state.log.size = 0;
      } else {
        state.log.size = await removeRanges(this.fs, this.paths.log, uploaded, state.log.size);
        shiftPending(remaining, uploaded);
        shiftPending(this.deferredTorn, uploaded);
      }
    } catch (cause) {
      throw localIo(`uploaded, but cannot remove the uploaded fetches from ${this.paths.log} (they are skipped as duplicates on the next upload)`, cause);
    }
    state.pending = remaining;
  }

  /** Writes the state with the log's current identity (the caller holds the lock, so nothing else appends). */
  private async saveState(state: StageState): Promise<void> {
    const log = await fileIdentity(this.paths.log);
    // Inode 0 while torn bytes wait for the quarantine: the next process then rescans the log.
    state.log = { size: log?.size ?? 0, ino: this.deferredTorn.length > 0 ? 0 : (log?.ino ?? 0) };
    try {
      await writeState(this.fs, this.statePath, state);
    } catch (cause) {
      throw localIo(`cannot write the state file ${this.statePath}`, cause);
    }
  }

  private async getStore(): Promise<DailyObjectStore> {
    if (!this.store) {
      const [{ createS3Client }, { createAppendStore }] = await Promise.all([import('../s3/client.js'), import('../s3/append-store.js')]);
      // A client given by the caller gets the stage's object settings too (SSE, owner: s3/object-settings.ts).
      const client = this.options.s3Client ? installObjectSettings(this.options.s3Client, this.config) : createS3Client(this.config);
      const env = writerSettings();
      const singleWriter = this.options.singleWriter ?? env.singleWriter;
      const guard = env.completeGuard;
      this.store = createAppendStore({
        client,
        bucket: this.config.bucket!,
        fs: this.fs,
        capabilitiesFile: join(this.config.localDir, 's3-capabilities.json'),
        singleWriter,
        ...(guard ? { completeGuard: guard } : {}),
      });
    }
    return this.store;
  }
}

/** Makes group-committed writes durable (a pending sync runs now), then closes the handle. */
async function flushAndClose(session: { syncTimer?: NodeJS.Timeout }, appender: DurableAppender): Promise<void> {
  if (session.syncTimer) {
    clearTimeout(session.syncTimer);
    session.syncTimer = undefined;
  }
  await appender.sync().catch(() => undefined);
  await appender.close().catch(() => undefined);
}

/** After a failed upload of fetches due by age, the timer retries after this long (or maxPendingAge if shorter). */
const AGE_RETRY_MS = 60_000;

/** Moves each pending block's byte range down by the bytes removed before it. */
function shiftPending(pending: Array<{ start: number; end: number }>, removed: Array<{ start: number; end: number }>): void {
  for (const p of pending) {
    const shift = removed.filter((r) => r.end <= p.start).reduce((n, r) => n + (r.end - r.start), 0);
    p.start -= shift;
    p.end -= shift;
  }
}

function localIo(what: string, cause: unknown): LocalIoError {
  const code = (cause as NodeJS.ErrnoException)?.code;
  const fix =
    code === 'ENOSPC'
      ? 'free disk space'
      : code === 'EROFS' || code === 'EACCES' || code === 'EPERM'
        ? 'make the local directory writable (ROTATING_S3_LOCAL_DIR)'
        : 'check the local directory';
  return new LocalIoError(`${what}: ${code ?? describeError(cause)}; ${fix}`, { cause });
}
