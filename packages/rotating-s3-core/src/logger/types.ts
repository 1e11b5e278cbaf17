/**
 * The public types of the stage logger (logger/stage-logger.ts): its options, the results of its calls
 * and its interface. Every field is part of the `log`/`flush`/`status` JSON contract (docs/contract.md).
 */
import type { Clock } from '@js-joda/core';
import type { StageConfig } from '../config/schema.js';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DurableFs } from '../local/durable-fs.js';
import type { StageState } from '../local/state.js';
import type { Payload } from '../records/records.js';
import type { DailyObjectStore } from '../s3/daily-store.js';
import type { Timers } from '../time/timers.js';
import type { BeforeEffect } from './effects.js';
import type { OpsLog } from './ops-log.js';

export interface StageLoggerOptions {
  /** Source of the current instant. Default: the system clock. */
  clock?: Clock;
  /** Crash-safe file operations. Default: the real file system. */
  fs?: DurableFs;
  /** Where uploads go. Default: a conditional-rewrite store on an S3 client built from the environment. */
  store?: DailyObjectStore;
  /** S3 client for the default store (ignored when `store` is given); the config's object settings are installed on it. Default: built from the environment. */
  s3Client?: S3Client;
  /** Operational events. Default: `<localDir>/<stage>_events.jsonl` plus stderr at ROTATING_S3_LOG_LEVEL. */
  opsLog?: OpsLog;
  /**
   * Takes the stage lock and returns its release. Default: the cross-process lock of local/lock.ts.
   * For tests (e.g. a lock that reports itself lost); production always uses the default.
   */
  lock?: (localDir: string, stage: string) => Promise<() => Promise<void>>;
  /**
   * Milliseconds the stage lock is kept after a call, so a stream of in-process `logFetch` calls pays for
   * the lock and the state checkpoint once, not per fetch (each fetch is still appended and fsynced before
   * it resolves; the log, not the state file, is the record). Other processes wait for the lock meanwhile.
   * 0 releases after every call (what the CLI uses). Default: 200.
   */
  holdLockMs?: number;
  /**
   * Group commit, for in-process logging while the lock is held: when > 0, `logFetch` resolves once its
   * block is written to the OS (safe against a crash of the process) and the log is fdatasynced at most
   * this many milliseconds later, before any upload and on release. Trade-off: a power loss or kernel
   * crash can lose the fetches of the last window. Default: 0 (fdatasync before every `logFetch` resolves).
   */
  syncEveryMs?: number;
  /**
   * This stage has exactly one writer, so an S3 endpoint that ignores conditional writes (s3rver) may be
   * used; otherwise such an endpoint is refused with E_S3_NO_CONDITIONAL. Default: ROTATING_S3_SINGLE_WRITER=true.
   */
  singleWriter?: boolean;
  /**
   * Timers for rotation by age (`maxPendingAge`): when set, the logger arms one timer for the moment the
   * oldest pending fetch is due, and `close()` cancels it. Default: unref'd system timers.
   */
  timers?: Timers;
  /**
   * Test seam of the crash matrix: called before each write the logger makes (an effect of
   * logger/effects.ts, with its index). Throwing from it simulates a kill there: that effect and every
   * later one are refused, nothing is cleaned up. Production never sets it.
   */
  beforeEffect?: BeforeEffect;
}

export interface LogFetchOptions {
  /** Names the fetch; logging an id already logged is a no-op returning the original number. */
  fetchId?: string;
  /** Where a text payload came from, for error messages. Default: `"payload"`. */
  source?: string;
}

/** One upload made by a rotation or flush. */
export interface UploadReport {
  date: string;
  key: string;
  upload_sequence: number;
  upload_id: string | null;
  fetches: number;
  records: number;
  /** False when S3 already held these fetches (a retried upload): nothing was appended. */
  applied: boolean;
}

export interface UploadErrorInfo {
  code: string;
  message: string;
}

export interface LogResult {
  fetch_id: string;
  fetch_number: number;
  date: string;
  timestamp: string;
  records: number;
  /** True when the fetch id was already logged: nothing was written, the original number is returned. */
  duplicate: boolean;
  /** Fetches in the local file after this call. */
  pending: number;
  /** True when this call uploaded at least one batch. */
  rotated: boolean;
  /** Sequence of the last upload this call made in the fetch's daily object, else null. */
  upload_sequence: number | null;
  uploads: UploadReport[];
  midnight?: { from: string; to: string };
  upload_error?: UploadErrorInfo;
  /** With `maxPendingAge` and fetches pending: the setting and the milliseconds until they are due by age. */
  age_rotation?: { max_pending_age: string; due_in_ms: number };
}

export interface FlushResult {
  uploaded_fetches: number;
  uploaded_records: number;
  uploads: UploadReport[];
  pending: number;
  upload_error?: UploadErrorInfo;
  /** With `olderThanMs`: false when the oldest pending fetch was younger, so nothing was uploaded. */
  due?: boolean;
}

/** Options of `flush`. */
export interface FlushOptions {
  /** Upload only when the oldest pending fetch has waited at least this many milliseconds (cron). */
  olderThanMs?: number;
}

export interface StageStatus {
  stage: string;
  timezone: string;
  date: string;
  fetch_number: number;
  pending: number;
  oldest_pending: string | null;
  pending_dates: string[];
  fetch_limit: number;
  local_file: string;
  local_file_bytes: number;
  quarantine_file: string;
  quarantine_bytes: number;
  /** Fetches set aside because they can never be uploaded (local/dead-letter.ts); 0 bytes when none. */
  dead_letter_file: string;
  dead_letter_bytes: number;
  state_file: string;
  daily_key: string;
  bucket: string | null;
  last_upload: StageState['lastUpload'];
  last_error: StageState['lastError'];
  last_midnight: StageState['lastMidnight'];
  counters: StageState['counters'];
  next_midnight: string;
  /** True when the log changed after the last state write (a crash); the next log/flush repairs it. */
  needs_repair: boolean;
}

export interface StageLogger {
  readonly config: StageConfig;
  /** Appends one fetch durably; rotates when `fetchLimit` fetches are pending. */
  logFetch(payload: Payload | string | Uint8Array, options?: LogFetchOptions): Promise<LogResult>;
  /** Uploads every pending fetch now (one upload per local date); with `olderThanMs`, only when that old. */
  flush(options?: FlushOptions): Promise<FlushResult>;
  /** Local state of the stage, read without taking the lock. */
  status(): Promise<StageStatus>;
  /** Writes the state checkpoint and releases the stage lock now (also happens after `holdLockMs` idle). */
  close(): Promise<void>;
}

/** Creates the logger of one stage. Production defaults are one call away: `createStageLogger(config)`. */
