/**
 * The downstream consumer: delivers every record of every fetch of a stage that this consumer has not
 * processed yet, one record at a time (consumer/run.ts), and remembers what it processed: its cursors in
 * the processed-ID file (consumer/state.ts) and its ids in the processed-ID store beside it
 * (consumer/processed-store.ts), whose per-run cost follows the new data, whatever the dedup window holds.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Clock } from '@js-joda/core';
import { join } from 'node:path';
import { assertStageName } from '../config/load.js';
import type { StageConfig } from '../config/schema.js';
import { ConfigError, InputError } from '../errors.js';
import { nodeDurableFs, type DurableFs } from '../local/durable-fs.js';
import { installObjectSettings } from '../s3/object-settings.js';
import { systemClock } from '../time/clock.js';
import { LocalDate, localDateOf, resolveZone, type ZoneId } from '../time/zone.js';
import { ConsumerError } from './errors.js';
import { legacyKeys, migrateLegacyEntry } from './migrate.js';
import { ProcessedStore } from './processed-store.js';
import { Run } from './run.js';
import { assertConsumerName, consumerStatePath, emptyConsumerEntry, readConsumerEntry, withConsumerRunLock, type ConsumerEntry } from './state.js';
import type { Consumer, ConsumerOptions, RecordHandler, RunOptions, RunSummary } from './types.js';

export { DEFAULT_COMMIT_INTERVAL_MS } from './run.js';

/** Default dedup window: days a processed fetch id and a record id are remembered. */
export const CONSUMER_RETENTION_DAYS = 8;
/** The shortest dedup window accepted (SPEC §7: at least 7 days). */
export const MIN_RETENTION_DAYS = 7;
/** Default days after its date that a daily object may still receive late uploads (and is watched). */
export const DEFAULT_LATE_UPLOAD_DAYS = 30;

/**
 * Creates the consumer `options.consumer` of one stage.
 *
 * @example
 * ```ts
 * const consumer = createConsumer({ config: resolveConfig({ stage: 'merge' }), consumer: 'billing' });
 * const summary = await consumer.run(async (r) => { await save(r.record_id, r.record); });
 * ```
 */
export function createConsumer(options: ConsumerOptions): Consumer {
  return new DefaultConsumer(options);
}

/** `--state-dir`, else `ROTATING_S3_CONSUMER_STATE_DIR`, else `<localDir>/consumers`. */
export function defaultConsumerStateDir(config: Pick<StageConfig, 'localDir'>, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['ROTATING_S3_CONSUMER_STATE_DIR'];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(config.localDir, 'consumers');
}

/** What a run needs of its consumer. */
export interface ConsumerSettings {
  config: StageConfig;
  name: string;
  clock: Clock;
  zone: ZoneId;
  fs: DurableFs;
  dedupDays: number;
  /** dedup + late-upload days: how long daily objects are watched and their cursors kept. */
  watchDays: number;
  stateFile: string;
  timestampField: string;
  readLocal: boolean;
  since: string | undefined;
  onWarning: ConsumerOptions['onWarning'];
}

class DefaultConsumer implements Consumer {
  readonly stateFile: string;
  private readonly config: StageConfig;
  private readonly name: string;
  private readonly stateDir: string;
  private readonly clock: Clock;
  private readonly zone: ZoneId;
  private readonly fs: DurableFs;
  private readonly dedupDays: number;
  private readonly lateUploadDays: number;
  private client: S3Client | undefined;

  constructor(private readonly options: ConsumerOptions) {
    this.config = options.config;
    assertStageName(this.config.stage);
    this.name = assertConsumerName(options.consumer);
    if (!this.config.bucket) {
      throw new ConfigError(`stage "${this.config.stage}" has no bucket to consume from; set ROTATING_S3_BUCKET or "bucket" in the stage config`);
    }
    this.dedupDays = options.dedupDays ?? options.retentionDays ?? CONSUMER_RETENTION_DAYS;
    if (!Number.isInteger(this.dedupDays) || this.dedupDays < MIN_RETENTION_DAYS) {
      throw new ConfigError(`dedup window ${this.dedupDays} days is too short; use a whole number of days, at least ${MIN_RETENTION_DAYS} (--dedup-days)`);
    }
    this.lateUploadDays = options.lateUploadDays ?? DEFAULT_LATE_UPLOAD_DAYS;
    if (!Number.isInteger(this.lateUploadDays) || this.lateUploadDays < 1) {
      throw new ConfigError(`lateUploadDays ${options.lateUploadDays} is not a whole number of days of at least 1; use e.g. ${DEFAULT_LATE_UPLOAD_DAYS}`);
    }
    if (options.since !== undefined && !isDate(options.since)) {
      throw new InputError('E_USAGE', `--since ${JSON.stringify(options.since)} is not a date; use YYYY-MM-DD, e.g. 2026-11-28`);
    }
    this.stateDir = options.stateDir ?? defaultConsumerStateDir(this.config);
    this.stateFile = consumerStatePath(this.stateDir, this.config.stage);
    this.clock = options.clock ?? systemClock();
    this.zone = resolveZone(this.config.timezone);
    this.fs = options.fs ?? nodeDurableFs;
    // A client given by the caller sends the stage's expected bucket owner too (s3/object-settings.ts).
    this.client = options.s3Client ? installObjectSettings(options.s3Client, this.config) : undefined;
  }

  async run(handler: RecordHandler, options: RunOptions = {}): Promise<RunSummary> {
    if (options.dryRun) return this.runUnlocked(handler, options, () => undefined);
    await this.fs.ensureDir(this.stateDir).catch((cause) => {
      throw new ConsumerError(
        'E_CONSUMER_STATE',
        `cannot create the consumer state directory ${this.stateDir} (${(cause as NodeJS.ErrnoException).code ?? 'error'}); pass a writable --state-dir`,
        { cause },
      );
    });
    return withConsumerRunLock(this.stateDir, this.config.stage, this.name, (assertHeld) => this.runUnlocked(handler, options, assertHeld));
  }

  private async runUnlocked(handler: RecordHandler, options: RunOptions, assertHeld: () => void): Promise<RunSummary> {
    const today = localDateOf(this.clock.instant(), this.zone);
    const { entry, store } = await this.openStore(today.toString(), options.dryRun ?? false);
    try {
      const client = await this.getClient();
      return await new Run(this.settings, entry, store, today, handler, options, assertHeld, client).execute();
    } finally {
      store.close();
    }
  }

  /**
   * This consumer's entry and its store; a version-1 entry is migrated first (a dry run, which writes
   * nothing, reads its ids into memory instead).
   */
  private async openStore(today: string, dryRun: boolean): Promise<{ entry: ConsumerEntry; store: ProcessedStore }> {
    const { stage } = this.config;
    const stored = await readConsumerEntry(this.stateFile, stage, this.name);
    let entry = stored?.legacy === false ? stored.entry : emptyConsumerEntry(stage, this.name, this.dedupDays);
    const dir = () => join(this.stateDir, entry.store);
    try {
      if (stored?.legacy && dryRun) {
        const { fetches: _f, records: _r, ...cursors } = stored.entry;
        entry = { ...entry, ...cursors };
        return { entry, store: ProcessedStore.open(dir(), [], { writable: false, today, base: legacyKeys(stored.entry) }) };
      }
      if (stored?.legacy) {
        const migrate = { fs: this.fs, stateFile: this.stateFile, stateDir: this.stateDir, stage, consumer: this.name, dedupDays: this.dedupDays, today };
        entry = await migrateLegacyEntry({ ...migrate, legacy: stored.entry });
      }
      const oldestDay = LocalDate.parse(today).minusDays(this.dedupDays).toString();
      return { entry, store: ProcessedStore.open(dir(), entry.runs, { writable: !dryRun, today, oldestDay }) };
    } catch (cause) {
      if (cause instanceof ConsumerError) throw cause;
      throw new ConsumerError(
        'E_CONSUMER_STATE',
        `cannot open the processed-ID store ${dir()} (${(cause as NodeJS.ErrnoException).code ?? String(cause)}); check the state directory's permissions and free space`,
        { cause },
      );
    }
  }

  private async getClient(): Promise<S3Client> {
    if (!this.client) {
      const { createS3Client } = await import('../s3/client.js');
      this.client = createS3Client(this.config);
    }
    return this.client;
  }

  /** What a Run needs of its consumer (kept in one place rather than passed piecemeal). */
  get settings(): ConsumerSettings {
    return {
      config: this.config,
      name: this.name,
      clock: this.clock,
      zone: this.zone,
      fs: this.fs,
      dedupDays: this.dedupDays,
      watchDays: this.dedupDays + this.lateUploadDays,
      stateFile: this.stateFile,
      timestampField: this.options.recordTimestampField ?? 'timestamp',
      readLocal: this.options.readLocal ?? true,
      since: this.options.since,
      onWarning: this.options.onWarning,
    };
  }
}

function isDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  try {
    LocalDate.parse(text);
    return true;
  } catch {
    return false;
  }
}
