/**
 * The stage logger: appends fetches to the local bookended file, numbers them through the local day and
 * rotates them into the S3 daily object. Every mutating call holds the stage lock (session.ts) and runs
 * this protocol, each step decided by a pure planning function (plan*.ts) and each write performed as
 * one effect by the one executor (effects.ts), in this order:
 *
 *   reconcile (reconcile.ts: adopt blocks appended after the last state write, quarantine torn bytes,
 *     write the state)
 *   → day change? (planFetch) upload the old day's pending fetches to the old day's object (rotation),
 *     prune the uploaded index, then restart numbering
 *   → append the block + fsync  (the fetch and its number now exist)
 *   → write the state atomically  (when the lock is released after each call; else on release)
 *   → rotation due? (rotation.ts) per batch: set aside unreadable blocks → write the intent → upload
 *     under the batch's id → record the ids in the uploaded index → trim the blocks from the log
 *     → write the state.
 *
 * A kill between any two effects leaves either the old or the new truth on disk, and the next call
 * repairs the gap (see local/state.ts); test/logger-crash-matrix.spec.ts kills at every effect. An upload
 * is idempotent per fetch id (s3/daily-object.ts), so a retry after an ambiguous failure never
 * duplicates a fetch in S3.
 */
import { join } from 'node:path';
import type { Clock } from '@js-joda/core';
import { writerSettings } from '../config/env.js';
import type { StageConfig } from '../config/schema.js';
import { ConfigError, describeError } from '../errors.js';
import type { TornSegment } from '../local/bookended.js';
import { formatBlock } from '../local/bookended.js';
import { deadLetterPath } from '../local/dead-letter.js';
import { nodeDurableFs, type DurableFs } from '../local/durable-fs.js';
import { fileIdentity, logFilePaths, type LogFilePaths } from '../local/log-file.js';
import { emptyState, readState, statePath, type StageState } from '../local/state.js';
import { RETENTION_DAYS, readUploaded, uploadedIndexPath } from '../local/uploaded-index.js';
import { layoutJson } from '../records/json-text.js';
import { checkPayloadText, countRecordsInText, payloadTextOf, type Payload } from '../records/records.js';
import type { DailyObjectStore } from '../s3/daily-store.js';
import { installObjectSettings } from '../s3/object-settings.js';
import { systemClock } from '../time/clock.js';
import { systemTimers } from '../time/timers.js';
import { LocalDate, formatTimestamp, resolveZone, type ZoneId } from '../time/zone.js';
import { AgeRotationTimer, ageRotationDueInMs } from './age-rotation.js';
import { EffectExecutor, localIo } from './effects.js';
import { assertFetchId, generateFetchId } from './fetch-id.js';
import { createOpsLog, type OpsLog } from './ops-log.js';
import { applyLogged, applyMidnight, planFetch, rotationDue } from './plan.js';
import { reconcile } from './reconcile.js';
import { rotate, type RotationContext } from './rotation.js';
import { StageSession } from './session.js';
import { describeStatus } from './status.js';
import type {
  FlushOptions,
  FlushResult,
  LogFetchOptions,
  LogResult,
  StageLogger,
  StageLoggerOptions,
  StageStatus,
  UploadErrorInfo,
  UploadReport,
} from './types.js';

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
  private readonly session: StageSession;
  private readonly exec: EffectExecutor;
  private readonly rotation: RotationContext;
  /**
   * Torn segments still in the log because the disk was too full to quarantine them (reconcile.ts):
   * moved once uploads have freed space. While there are any, the state is saved with inode 0, so a
   * later process rescans the log and finds them again.
   */
  private readonly deferred: { torn: TornSegment[] } = { torn: [] };
  /** Rotation by age (`maxPendingAge`): the due time and the timer armed for it. */
  private readonly age: AgeRotationTimer;

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
    this.age = new AgeRotationTimer({
      maxPendingAge: config.maxPendingAge,
      now: () => this.clock.instant(),
      timers: options.timers ?? systemTimers,
      flush: (olderThanMs) => this.flush({ olderThanMs }),
      onError: (error) => this.ops.event('error', 'age_rotation_failed', { message: describeError(error) }),
    });
    const nowText = (): string => formatTimestamp(this.clock.instant(), this.zone);
    this.exec = new EffectExecutor({
      fs: this.fs,
      paths: this.paths,
      statePath: this.statePath,
      indexPath: this.indexPath,
      deadLetterPath: deadLetterPath(config.localDir, config.stage),
      ops: this.ops,
      appendBlock: (block) => this.session.appendBlock(block),
      closeAppender: () => this.session.closeAppender(),
      deferredTorn: () => this.deferred.torn,
      getStore: () => this.getStore(),
      beforeEffect: options.beforeEffect,
    });
    this.session = new StageSession({
      localDir: config.localDir,
      stage: config.stage,
      logPath: this.paths.log,
      fs: this.fs,
      ops: this.ops,
      lock: options.lock,
      holdLockMs: this.holdLockMs,
      syncEveryMs: options.syncEveryMs ?? 0,
      reconcile: () =>
        reconcile({
          stage: config.stage,
          zone: this.zone,
          paths: this.paths,
          statePath: this.statePath,
          indexPath: this.indexPath,
          ops: this.ops,
          exec: this.exec,
          nowText,
          deferred: this.deferred,
        }),
      checkpoint: (state) => this.exec.run({ kind: 'write-state', state, why: 'release' }),
      crashed: () => this.exec.crashed !== undefined,
    });
    this.rotation = {
      config,
      exec: this.exec,
      ops: this.ops,
      indexPath: this.indexPath,
      nowText,
      deferred: this.deferred,
      closeAppender: () => this.session.closeAppender(),
    };
  }

  close(): Promise<void> {
    this.age.cancel();
    return this.session.enqueueEnd();
  }

  private requireBucket(): void {
    if (!this.config.bucket && !this.options.store) {
      throw new ConfigError(`stage "${this.config.stage}" has no bucket; set ROTATING_S3_BUCKET or "bucket" in the stage config`);
    }
  }

  async logFetch(payload: Payload | string | Uint8Array, options: LogFetchOptions = {}): Promise<LogResult> {
    this.requireBucket();
    // The payload's text is kept exactly (numbers, escapes, key order): it is checked and laid out, never
    // parsed into JavaScript values. Doing that to a large payload is the expensive part: before the lock.
    const source = options.source ?? 'payload';
    const bytes = checkPayloadText(typeof payload === 'string' || payload instanceof Uint8Array ? payload : payloadTextOf(payload), source);
    const fetchIdGiven = options.fetchId === undefined ? undefined : assertFetchId(options.fetchId);
    const payloadJson = layoutJson(bytes, this.config.payloadLayout ?? 'pretty').toString('utf8');
    const records = countRecordsInText(bytes, this.config.recordsPath);

    return this.session.run(async (state) => {
      if (fetchIdGiven !== undefined) {
        const earlier = await this.findLogged(state, fetchIdGiven);
        if (earlier) {
          // A retry after a crash may find a rotation still due: finish it, so retrying is always enough.
          const due = rotationDue(state.pending.length, this.config.fetchLimit, this.age.dueInMs(state.pending[0]?.timestamp));
          const outcome = due ? await rotate(this.rotation, state, state.pending) : { uploads: [], error: undefined };
          const result: LogResult = {
            ...earlier,
            duplicate: true,
            pending: state.pending.length,
            rotated: outcome.uploads.length > 0,
            upload_sequence: outcome.uploads.at(-1)?.upload_sequence ?? null,
            uploads: outcome.uploads,
          };
          if (outcome.error) result.upload_error = outcome.error;
          const age = this.age.arm(state.pending[0]?.timestamp);
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
        applyMidnight(state, midnight, formatTimestamp(now, this.zone));
        this.ops.event('info', 'midnight', { ...midnight, pending_from_previous_days: state.pending.length, last_fetch_number: state.lastFetchNumber });
        if (plan.uploadFirst.length > 0) {
          const outcome = await rotate(this.rotation, state, plan.uploadFirst);
          uploads.push(...outcome.uploads);
          uploadError = outcome.error;
        }
        await this.exec.run({ kind: 'prune-index', oldestDate: LocalDate.parse(dayText).minusDays(RETENTION_DAYS).toString() });
      }

      const fetchId = fetchIdGiven ?? generateFetchId(timestamp);
      // Written as a string: encoding straight into the write saves a 10 KB Buffer per fetch.
      const block = formatBlock({ fetchId, timestamp, fetchNumber, records }, payloadJson);
      const blockBytes = Buffer.byteLength(block);
      const sizeBefore = state.log.size;
      try {
        await this.exec.run({ kind: 'append', fetchId, block, bytes: blockBytes });
      } catch (cause) {
        if (this.exec.crashed !== undefined) throw cause;
        // Nothing of this fetch counts: the next call starts from a fresh reconcile rather than this
        // session's state. The partial block is cut off now (a full disk gets its space back at once);
        // if that fails too, the next call quarantines it.
        await this.session.abandon();
        const found = await fileIdentity(this.paths.log).catch(() => undefined);
        if (found && found.size > sizeBefore && found.size <= sizeBefore + blockBytes) {
          await this.exec.run({ kind: 'cut-partial', size: sizeBefore }).catch(() => undefined);
        }
        throw localIo(`cannot append to ${this.paths.log}; the fetch was NOT logged`, cause);
      }
      applyLogged(state, { fetchId, fetchNumber, date: dayText, timestamp, records }, blockBytes);
      if (this.holdLockMs <= 0) {
        // The fetch is logged (its block is durable); a failed checkpoint only means the next call
        // re-adopts the block from the log, so it must not turn a logged fetch into an error.
        await this.exec.run({ kind: 'write-state', state, why: 'logged', tolerate: 'any' });
      } else {
        this.session.markDirty(); // the block is the record; the checkpoint follows on release
      }

      // Due by count, or by age (`maxPendingAge`): then everything pending goes, in fetchLimit-sized uploads.
      if (uploadError === undefined && rotationDue(state.pending.length, this.config.fetchLimit, this.age.dueInMs(state.pending[0]?.timestamp))) {
        const outcome = await rotate(this.rotation, state, state.pending);
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
      const age = this.age.arm(state.pending[0]?.timestamp);
      if (age) result.age_rotation = age;
      return result;
    });
  }

  async flush(options: FlushOptions = {}): Promise<FlushResult> {
    this.requireBucket();
    return this.session.run(async (state) => {
      const due = options.olderThanMs === undefined || ageRotationDueInMs(state.pending[0]?.timestamp, this.clock.instant(), options.olderThanMs)! <= 0;
      const outcome = state.pending.length > 0 && due ? await rotate(this.rotation, state, state.pending) : { uploads: [], error: undefined };
      const result: FlushResult = {
        uploaded_fetches: outcome.uploads.reduce((n, u) => n + u.fetches, 0),
        uploaded_records: outcome.uploads.reduce((n, u) => n + u.records, 0),
        uploads: outcome.uploads,
        pending: state.pending.length,
      };
      if (outcome.error) result.upload_error = outcome.error;
      if (options.olderThanMs !== undefined) result.due = due && state.pending.length + result.uploaded_fetches > 0;
      this.age.arm(state.pending[0]?.timestamp);
      return result;
    });
  }

  async status(): Promise<StageStatus> {
    const state = this.session.state ?? (await readState(this.statePath)) ?? emptyState(this.config.stage);
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

  private async getStore(): Promise<DailyObjectStore> {
    if (!this.store) {
      const [{ createS3Client }, { createAppendStore }] = await Promise.all([import('../s3/client.js'), import('../s3/append-store.js')]);
      // A client given by the caller gets the stage's object settings too (SSE, owner: s3/object-settings.ts).
      const client = this.options.s3Client ? installObjectSettings(this.options.s3Client, this.config) : createS3Client(this.config);
      // The environment's say (validated like at config load), resolved once with the store.
      const env = writerSettings();
      this.store = createAppendStore({
        client,
        bucket: this.config.bucket!,
        fs: this.fs,
        capabilitiesFile: join(this.config.localDir, 's3-capabilities.json'),
        singleWriter: this.options.singleWriter ?? env.singleWriter,
        ...(env.completeGuard ? { completeGuard: env.completeGuard } : {}),
      });
    }
    return this.store;
  }
}
