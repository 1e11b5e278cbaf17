/**
 * One consumer run (consumer/consumer.ts creates it), in this order — the order is what makes "no fetch is
 * missed" hold while the writer runs:
 *   1. list the stage's daily objects of the watch window (a first run: every daily object in the
 *      bucket) and read each one whose ETag differs from its cursor's, or that has no cursor, from its
 *      cursor on (consumer/s3-reader.ts);
 *   2. the local bookended file (fetches not uploaded yet);
 *   3. list again and read what changed since step 1 — nearly always nothing: this catches fetches that
 *      the writer uploaded and removed from the local file between steps 1 and 2.
 * A fetch logged before step 2 is in the local file at step 2 or in a daily object at step 3, whatever its
 * date: a writer idle for days uploads its old pending fetches into their own (older) date's object, which
 * the listing shows as changed. The watch window is `dedupDays + lateUploadDays` days: cursors are kept
 * that long, and `watch_from` says from which date every object that existed has one.
 *
 * Exactly once: a fetch id already processed is skipped (the same fetch is read locally first and from S3
 * after its upload); a record whose record_id this consumer already received is not delivered again. Both
 * are remembered for `dedupDays` in the processed-ID store (consumer/processed-store.ts). Progress is
 * committed only for records the handler returned from: a crash redoes at most what was not committed,
 * and records handled before it are not delivered again.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { performance } from 'node:perf_hooks';
import { describeError } from '../errors.js';
import { recordsOfPayload } from '../records/records.js';
import { dailyObjectKey } from '../s3/daily-object.js';
import { formatTimestamp, localDateOf, parseTimestamp, type LocalDate } from '../time/zone.js';
import { commitDue, initialWatchFrom, planCommit } from './commit-policy.js';
import type { ConsumerSettings } from './consumer.js';
import { consumerCrashPoint } from './crash-point.js';
import { digestOf } from './digest-set.js';
import { ConsumerError } from './errors.js';
import { localLogPath, readLocalFetches, unreadable } from './local-reader.js';
import type { ProcessedStore } from './processed-store.js';
import { recordIdOf, recordTimestampOf } from '../records/record-id.js';
import type { ObjectReadOutcome } from './s3-reader.js';
import { commitConsumerEntry, type ConsumerEntry, type ObjectCursor } from './state.js';
import { consumedRecord, type FetchToDeliver } from './delivery.js';
import type { ConsumerWarning, RecordHandler, RunOptions, RunSummary } from './types.js';

/** Default milliseconds between progress commits of `run`. */
export const DEFAULT_COMMIT_INTERVAL_MS = 1_000;

/** One run: the working state between the committed entry and the next commit. */
export class Run {
  private readonly todayText: string;
  private readonly cursors: Map<string, ObjectCursor>;
  private readonly summary: RunSummary;
  private readonly progressive: boolean;
  /** Every daily object of this date or later that existed at the last run has a cursor (undefined: list all). */
  private readonly watchFrom: string | undefined;
  private lastCommit = performance.now();
  private warnedIdFallback = false;

  constructor(
    private readonly s: ConsumerSettings,
    /** The entry as last committed (replaced by each commit). */
    private entry: ConsumerEntry,
    private readonly store: ProcessedStore,
    private readonly today: LocalDate,
    private readonly handler: RecordHandler,
    private readonly options: RunOptions,
    private readonly assertHeld: () => void,
    private readonly client: S3Client,
  ) {
    this.todayText = today.toString();
    this.cursors = new Map(Object.entries(entry.objects));
    this.watchFrom = initialWatchFrom(entry);
    const interval = options.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS;
    this.progressive = !options.dryRun && Number.isFinite(interval);
    this.summary = {
      consumer: this.s.name,
      stage: this.s.config.stage,
      fetches: 0,
      records: 0,
      duplicate_records: 0,
      skipped_fetches: 0,
      daily_objects: [],
      s3_bytes: 0,
      local_fetches: 0,
      committed: false,
      dry_run: options.dryRun ?? false,
      warnings: [],
      state_file: this.s.stateFile,
    };
  }

  async execute(): Promise<RunSummary> {
    try {
      const problems = await this.readObjects(await this.changedDates(), new Set());
      if (this.s.readLocal) await this.readLocal();
      await this.readObjects(await this.changedDates(), problems);
      await this.options.beforeCommit?.();
      if (!this.options.dryRun) {
        consumerCrashPoint('consume:before-commit');
        await this.commit(true);
        consumerCrashPoint('consume:after-commit');
      }
      return this.summary;
    } catch (error) {
      // Keep what the handler finished, so the next run redoes only the rest.
      if (this.progressive && !(error instanceof ConsumerError)) await this.commit(false).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Dates whose daily objects changed since they were last read, ascending: listed with an ETag other than
   * their cursor's, listed without a cursor (new), or with a cursor but no longer listed (to report them
   * missing), and objects with a problem (read and reported until fixed). Listed objects not read are
   * reported `unchanged` when they are of yesterday or later.
   */
  private async changedDates(): Promise<string[]> {
    const { listDailyObjects } = await import('./s3-reader.js');
    const { bucket, prefix, stage } = this.s.config;
    // Cursors older than watchFrom (a file of an earlier version) are watched too.
    let listFrom = this.watchFrom;
    for (const cursor of this.cursors.values()) if (listFrom !== undefined && cursor.date < listFrom) listFrom = cursor.date;
    const listed = await listDailyObjects(this.client, bucket!, prefix, stage, listFrom);
    const dates = new Set<string>();
    const seen = new Set<string>();
    const yesterday = this.today.minusDays(1).toString();
    for (const object of listed) {
      const key = dailyObjectKey(prefix, stage, object.date);
      seen.add(key);
      const cursor = this.cursors.get(key);
      // Without a cursor, an object is new only from watchFrom on (older ones were read and forgotten).
      const isNew = cursor === undefined && (this.watchFrom === undefined || object.date >= this.watchFrom);
      if (isNew || (cursor !== undefined && (cursor.etag !== object.etag || cursor.problem !== undefined))) dates.add(object.date);
      else if (object.date >= yesterday) this.report({ key, status: 'unchanged', bytes: 0 });
    }
    for (const [key, cursor] of this.cursors) {
      if (cursor.problem !== undefined || !seen.has(key)) dates.add(cursor.date);
    }
    return [...dates].filter((d) => this.s.since === undefined || d >= this.s.since).sort();
  }

  /** Reads each date's daily object from its cursor; returns the keys found not in the SPEC §4 shape. */
  private async readObjects(dates: string[], skip: Set<string>): Promise<Set<string>> {
    const { readDailyObjectFetches } = await import('./s3-reader.js');
    const problems = new Set<string>();
    for (const date of dates) {
      const key = dailyObjectKey(this.s.config.prefix, this.s.config.stage, date);
      if (skip.has(key)) continue;
      const where = `s3://${this.s.config.bucket}/${key}`;
      const had = this.cursors.get(key);
      const reads = readDailyObjectFetches({ client: this.client, bucket: this.s.config.bucket!, key, date, cursor: had });
      let outcome: ObjectReadOutcome | undefined;
      try {
        while (outcome === undefined) {
          const step = await reads.next();
          if (step.done) {
            outcome = step.value;
            break;
          }
          const event = step.value;
          if (event.kind === 'fetch') {
            const f = event.fetch;
            const records = f.data === undefined ? [] : recordsOfPayload(f.data, this.s.config.recordsPath).records;
            await this.deliver({
              fetchId: f.fetchId,
              fetchNumber: f.fetchNumber,
              timestamp: f.timestamp,
              date,
              source: 's3',
              records,
              unreadable: (detail) => ({ code: 'corrupt_daily_object', message: `${where}: fetch ${f.fetchId}: ${detail}` }),
            });
          } else if (event.kind === 'cursor') {
            // Every fetch of the upload is handled: the cursor may be committed.
            this.cursors.set(key, event.cursor);
          } else {
            this.warn({ code: 'daily_object_reread', message: `${where}: reading it in full (${event.reason}); fetches already processed are skipped` });
          }
        }
      } finally {
        await reads.return(undefined as never).catch(() => undefined);
      }
      this.summary.s3_bytes += outcome.bytes;
      const report: RunSummary['daily_objects'][number] = { key, status: outcome.status, bytes: outcome.bytes };
      if (outcome.cursor) this.cursors.set(key, outcome.cursor);
      else this.cursors.delete(key);
      if (outcome.status === 'missing' && had !== undefined) {
        this.warn({ code: 'daily_object_missing', message: `${where} was read before but no longer exists; nothing more to read from it` });
      }
      if (outcome.problem !== undefined) {
        report.problem = outcome.problem;
        problems.add(key);
        this.warn({
          code: 'corrupt_daily_object',
          message: `${where} is not a valid rotating-s3 daily object (${outcome.problem}); fetches before the problem were read, the rest of it is skipped and it is read again next run — fix or move it aside; other daily objects are read as usual`,
        });
      }
      this.report(report);
    }
    return problems;
  }

  /** One line per object in the summary: the second look (step 3) only counts when it read something. */
  private report(read: RunSummary['daily_objects'][number]): void {
    const earlier = this.summary.daily_objects.find((r) => r.key === read.key);
    if (!earlier) {
      this.summary.daily_objects.push(read);
    } else if (read.status === 'incremental' || read.status === 'full') {
      earlier.status = earlier.status === 'full' ? 'full' : read.status;
      earlier.bytes += read.bytes;
    }
  }

  private async readLocal(): Promise<void> {
    const path = localLogPath(this.s.config.localDir, this.s.config.stage);
    for await (const event of readLocalFetches(path, this.s.config.recordsPath)) {
      if (event.kind === 'warning') {
        this.warn(event.warning);
        continue;
      }
      const f = event.fetch;
      this.summary.local_fetches++;
      let date: string;
      try {
        date = localDateOf(parseTimestamp(f.timestamp), this.s.zone).toString();
      } catch {
        this.warn({
          code: 'unreadable_local_fetch',
          message: `fetch ${f.fetchId} in ${path} has an unreadable timestamp ${JSON.stringify(f.timestamp)}; skipped`,
        });
        continue;
      }
      await this.deliver({
        fetchId: f.fetchId,
        fetchNumber: f.fetchNumber,
        timestamp: f.timestamp,
        date,
        source: 'local',
        records: f.records,
        unreadable: (detail) => unreadable(path, f, detail),
      });
    }
  }

  /** Hands the fetch's new records to the handler, one by one, then marks the fetch processed. */
  private async deliver(fetch: FetchToDeliver): Promise<void> {
    if (this.s.since !== undefined && fetch.date < this.s.since) return;
    if (this.store.hasFetch(fetch.fetchId)) {
      this.summary.skipped_fetches++;
      return;
    }
    const iterator = fetch.records[Symbol.iterator]();
    for (let index = 0; ; index++) {
      let step: IteratorResult<Buffer>;
      try {
        step = iterator.next();
      } catch (error) {
        // Records handled so far are remembered; the fetch is not marked processed.
        this.warn(fetch.unreadable(describeError(error)));
        return;
      }
      if (step.done) break;
      const record = step.value;
      const { recordId, fromContent } = recordIdOf(record, this.s.config.recordIdField);
      const recordJson = record.toString('utf8');
      if (fromContent && !this.warnedIdFallback) this.warnIdFallback(fetch.fetchId, index);
      const digest = digestOf(recordId);
      if (this.store.hasRecord(digest)) {
        this.summary.duplicate_records++;
        continue;
      }
      const handled = this.handler(
        consumedRecord(recordJson, {
          record_id: recordId,
          fetch_id: fetch.fetchId,
          fetch_number: fetch.fetchNumber,
          record_index: index,
          timestamp: recordTimestampOf(record, this.s.timestampField) ?? fetch.timestamp,
          date: fetch.date,
          source: fetch.source,
        }),
      );
      // A synchronous handler is not awaited: no promise per record.
      if (handled !== undefined) await handled;
      this.store.rememberRecord(digest);
      this.summary.records++;
      consumerCrashPoint('consume:after-emit');
    }
    this.store.rememberFetch(fetch.fetchId);
    this.summary.fetches++;
    if (commitDue(this.progressive, performance.now() - this.lastCommit, this.options.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS)) await this.commit(false);
  }

  private warnIdFallback(fetchId: string, index: number): void {
    this.warnedIdFallback = true;
    const field = this.s.config.recordIdField;
    this.warn({
      code: 'record_id_fallback',
      message:
        field === undefined
          ? `stage "${this.s.config.stage}" has no recordIdField: record ids are content hashes (sha256 of the record's exact JSON text); set recordIdField to use a field of the record`
          : `records without a string or number "${field}" get a content hash as record_id (first: fetch ${fetchId}, record ${index}); said once per run`,
    });
  }

  private warn(warning: ConsumerWarning): void {
    this.summary.warnings.push(warning);
    this.s.onWarning?.(warning);
  }

  /**
   * Writes this run's new ids as run files (fsynced), then the entry naming them (atomically): a crash
   * between the two leaves the old entry, and the files are orphans the next run deletes. `complete` also
   * moves `scan_from` to today.
   */
  private async commit(complete: boolean): Promise<void> {
    this.assertHeld();
    const plan = planCommit({
      committed: this.entry,
      complete,
      today: this.todayText,
      now: formatTimestamp(this.s.clock.instant(), this.s.zone),
      cursors: this.cursors,
      watchFrom: this.watchFrom,
      pending: this.store.pendingCount,
      dedupDays: this.s.dedupDays,
      watchDays: this.s.watchDays,
    });
    if (plan.write) {
      try {
        const prepared = this.store.prepare(this.todayText, plan.oldestDay);
        consumerCrashPoint('consume:after-run-files');
        const next = { ...plan.entry, runs: prepared.runs };
        await commitConsumerEntry(this.s.fs, this.s.stateFile, this.s.config.stage, this.s.name, next);
        this.store.committed(prepared);
        this.entry = next;
      } catch (cause) {
        if (cause instanceof ConsumerError) throw cause;
        const code = (cause as NodeJS.ErrnoException).code ?? 'error';
        throw new ConsumerError(
          'E_CONSUMER_STATE',
          `cannot write the processed-ID file ${this.s.stateFile} or its run files (${code}); nothing of this run was committed since the last commit — check the state directory`,
          { cause },
        );
      }
    }
    this.lastCommit = performance.now();
    this.summary.committed = true;
  }
}
