/** Public types of the downstream consumer (see consumer.ts for the behaviour and docs/consumer.md). */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Clock } from '@js-joda/core';
import type { StageConfig } from '../config/schema.js';
import type { DurableFs } from '../local/durable-fs.js';

export interface ConsumerOptions {
  /** The stage's resolved configuration (`resolveConfig`): bucket, prefix, localDir, timezone, recordsPath, recordIdField. */
  config: StageConfig;
  /** Name of this consumer, `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`. Consumers with different names keep separate progress. Required. */
  consumer: string;
  /**
   * Directory of the processed-ID file `<stage>_processed_fetch_ids.json` (one entry per consumer inside)
   * and of each consumer's run files `<stage>_<consumer>.processed/`.
   * Default: `ROTATING_S3_CONSUMER_STATE_DIR`, else `<localDir>/consumers`.
   */
  stateDir?: string;
  /** Source of "today" (which daily objects to read) and of the commit dates. Default: the system clock. */
  clock?: Clock;
  /** S3 client for reading daily objects. Default: built from the environment like the writer's (`createS3Client`). */
  s3Client?: S3Client;
  /** Crash-safe writes of the processed-ID file. Default: the real file system. */
  fs?: DurableFs;
  /**
   * The dedup window: days a processed fetch id and a received record id are remembered, counted from the
   * stage-zone date they were processed on (cursors are kept this long plus `lateUploadDays`). A run's
   * cost does not grow with it. Minimum 7. Default: 8. (`consume --dedup-days`.)
   */
  dedupDays?: number;
  /** Former name of `dedupDays` (used when `dedupDays` is not given). */
  retentionDays?: number;
  /**
   * Days after its date that a daily object may still receive late uploads (a writer idle that long with
   * pending fetches uploads them into their own date's object at its next log or flush). Daily objects are
   * watched for changes for `dedupDays + lateUploadDays` days. Minimum 1. Default: 30.
   */
  lateUploadDays?: number;
  /** Field of a record holding its own timestamp (a string); absent: the fetch's timestamp is used. Default: `"timestamp"`. */
  recordTimestampField?: string;
  /** Read the stage's local bookended file too (false on a host without the writer). Default: true. */
  readLocal?: boolean;
  /**
   * Ignore fetches of local dates before this `YYYY-MM-DD` (both sources). Useful for the first run of a new
   * consumer on a long history. Default: none (a first run reads every daily object of the stage).
   */
  since?: string;
  /** Receives problems that do not stop the run (torn local blocks, malformed daily objects, id fallback). Default: ignored. */
  onWarning?: (warning: ConsumerWarning) => void;
}

/** One record delivered to the handler (and one JSON line of `consume`). */
export interface ConsumedRecord {
  /** `record[recordIdField]`, else a content hash `sha256:<32 hex>` of the record (key order does not matter). */
  record_id: string;
  fetch_id: string;
  fetch_number: number;
  /** Position of the record in its fetch's records array (0-based). */
  record_index: number;
  /** The record's own timestamp field when it has one, else the fetch's timestamp. */
  timestamp: string;
  /** The fetch's local date in the stage zone: the daily object it belongs to. */
  date: string;
  /** Where this run read the fetch: the local bookended file, or the daily object in S3. */
  source: 'local' | 's3';
  /**
   * The record's exact JSON text as logged, whitespace between tokens removed: numbers, string escapes and
   * key order as written (what `consume` prints).
   */
  record_json: string;
  /** `JSON.parse(record_json)`, parsed on first access; numbers beyond double precision are rounded here. */
  readonly record: unknown;
}

export type RecordHandler = (record: ConsumedRecord) => void | Promise<void>;

export interface RunOptions {
  /** Deliver everything new but commit nothing. Default: false. */
  dryRun?: boolean;
  /**
   * Milliseconds between progress commits during the run (each commit follows fully handled records).
   * `Infinity`: commit once, at the end of a successful run (what `consume` does). Default: 1000.
   */
  commitIntervalMs?: number;
  /**
   * Called after every record was handled and before the final commit (the CLI flushes stdout here).
   * When it throws, nothing more is committed.
   */
  beforeCommit?: () => Promise<void>;
}

export type ConsumerWarningCode =
  'torn_local_block' | 'unreadable_local_fetch' | 'corrupt_daily_object' | 'daily_object_reread' | 'daily_object_missing' | 'record_id_fallback';

export interface ConsumerWarning {
  code: ConsumerWarningCode;
  /** One line naming the problem, where it is (file or `s3://bucket/key`) and what happens next. */
  message: string;
}

export interface RunSummary {
  consumer: string;
  stage: string;
  /** Fetches newly processed (their records were delivered or were all duplicates). */
  fetches: number;
  /** Records delivered to the handler. */
  records: number;
  /** Records not delivered because this consumer had already received their record_id. */
  duplicate_records: number;
  /** Fetches seen again (already processed) and skipped. */
  skipped_fetches: number;
  /** Daily objects looked at, and how: unchanged (304), read incrementally, read in full, missing. */
  daily_objects: { key: string; status: 'unchanged' | 'incremental' | 'full' | 'missing'; bytes: number; problem?: string }[];
  /** Bytes received from S3. */
  s3_bytes: number;
  /** Local blocks scanned. */
  local_fetches: number;
  committed: boolean;
  dry_run: boolean;
  warnings: ConsumerWarning[];
  /** The processed-ID file. */
  state_file: string;
}

export interface Consumer {
  /** The processed-ID file this consumer commits to. */
  readonly stateFile: string;
  /**
   * Delivers every record of every fetch this consumer has not processed, one at a time, then commits.
   * A handler that throws ends the run: what was handled before is committed (unless
   * `commitIntervalMs` is Infinity or `dryRun`), the rest is delivered again by the next run.
   */
  run(handler: RecordHandler, options?: RunOptions): Promise<RunSummary>;
}
