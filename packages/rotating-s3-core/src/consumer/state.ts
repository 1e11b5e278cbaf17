/**
 * The processed-ID file `<stateDir>/<stage>_processed_fetch_ids.json` (SPEC §2): what each consumer of a
 * stage has already processed. One file per stage and state directory; each consumer owns one entry of
 * `consumers`, keyed by its name, so several consumers may share a state directory and stay independent.
 *
 *   {
 *     "version": 1,
 *     "stage": "merge",
 *     "consumers": {
 *       "billing": {
 *         "scan_from": "2026-11-28",            // stage-zone date of the last complete run
 *         "last_run": "2026-11-28T14:03:11.512-05:00",
 *         "fetches": { "2026-11-28": ["<fetch_id>", …] },   // by the date they were processed
 *         "records": { "2026-11-28": "<16-char digest><16-char digest>…" },
 *         "objects": { "<daily object key>": { "date", "etag", "offset", "uploads", … } },
 *         "watch_from": "2026-10-21"             // every daily object of this date or later has a cursor
 *       }
 *     }
 *   }
 *
 * Invariants:
 * - Entries of `fetches` and `records` older than the retention window, and cursors older than the watch
 *   window (retention + late-upload days), are pruned at each commit, so the file is bounded by the
 *   windows, not by the history.
 * - The file is written only by `commitConsumerEntry`: under the file's update lock it re-reads the file,
 *   replaces this consumer's entry and writes atomically (temp → fsync → rename → fsync dir), so a crash
 *   leaves the old or the new file and a concurrent consumer's entry is never lost.
 * - A file that cannot be parsed or does not match this shape is refused with an error naming it; it is
 *   never reset, which would make every consumer reprocess everything.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as v from 'valibot';
import { assertStageName } from '../config/load.js';
import { InputError } from '../errors.js';
import type { DurableFs } from '../local/durable-fs.js';
import { ConsumerError } from './errors.js';
import { DIGEST_CHARS } from './digest-set.js';
import { loadLockfile } from '../runtime/lazy-packages.js';

/** A consumer name becomes part of a lock file name and a JSON key. */
export const CONSUMER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const DATE = v.pipe(v.string(), v.regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD'));

/** Where the consumer stopped reading one daily object (see consumer/s3-reader.ts). */
export const objectCursorSchema = v.strictObject({
  /** The object's local date (the `YYYY-MM-DD` of its key). */
  date: DATE,
  /** ETag of the version read; an unchanged ETag means nothing new (`If-None-Match` → 304). */
  etag: v.string(),
  /** Byte offset just past the closing `}` of the last upload processed. */
  offset: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** Uploads, fetches and records processed so far, checked against `daily_metadata` on the next read. */
  uploads: v.pipe(v.number(), v.integer(), v.minValue(0)),
  fetches: v.pipe(v.number(), v.integer(), v.minValue(0)),
  records: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** sha256 (hex) of the `tail_length` bytes before `offset`: proves the prefix is unchanged. */
  tail_sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex')),
  tail_length: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** Set when the object is not in the SPEC §4 shape: it is read in full (and reported) every run. */
  problem: v.optional(v.string()),
});
export type ObjectCursor = v.InferOutput<typeof objectCursorSchema>;

export const consumerEntrySchema = v.strictObject({
  scan_from: v.nullable(DATE),
  last_run: v.nullable(v.string()),
  fetches: v.record(DATE, v.array(v.pipe(v.string(), v.minLength(1, 'must not be empty')))),
  records: v.record(
    DATE,
    v.pipe(
      v.string(),
      v.check((s) => s.length % DIGEST_CHARS === 0 && /^[A-Za-z0-9_-]*$/.test(s), `must be ${DIGEST_CHARS}-character base64url digests`),
    ),
  ),
  objects: v.record(v.string(), objectCursorSchema),
  /**
   * Every daily object of this date or later that existed at the last run has a cursor in `objects`, so
   * one without a cursor is new. Absent in files of earlier versions (cursors were kept for the retention
   * window only): then `scan_from` minus the retention window.
   */
  watch_from: v.optional(DATE),
});
export type ConsumerEntry = v.InferOutput<typeof consumerEntrySchema>;

const stateFileSchema = v.strictObject({
  version: v.literal(1),
  stage: v.string(),
  consumers: v.record(v.pipe(v.string(), v.regex(CONSUMER_NAME_PATTERN, 'must be a valid consumer name')), consumerEntrySchema),
});
export type ConsumerStateFile = v.InferOutput<typeof stateFileSchema>;

export function emptyConsumerEntry(): ConsumerEntry {
  return { scan_from: null, last_run: null, fetches: {}, records: {}, objects: {} };
}

/** `<stateDir>/<stage>_processed_fetch_ids.json`. */
export function consumerStatePath(stateDir: string, stage: string): string {
  return join(stateDir, `${assertStageName(stage)}_processed_fetch_ids.json`);
}

export function assertConsumerName(name: string): string {
  if (!CONSUMER_NAME_PATTERN.test(name)) {
    throw new InputError(
      'E_USAGE',
      `--consumer ${JSON.stringify(name)} is not a valid consumer name; use 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit, e.g. "billing"`,
    );
  }
  return name;
}

const CORRUPT_FIX =
  'restore it from a backup, or move it aside to start this state directory over (every consumer in it then receives all data again); it was NOT reset';

/** Reads and validates the whole file; undefined when it does not exist yet. */
export async function readConsumerStateFile(path: string, stage: string): Promise<ConsumerStateFile | undefined> {
  return readValidated(path, stage, stateFileSchema);
}

/** The file's shape with the entries left unchecked (a commit checks all but the one it replaces). */
const stateFileOutlineSchema = v.strictObject({
  version: v.literal(1),
  stage: v.string(),
  consumers: v.record(v.pipe(v.string(), v.regex(CONSUMER_NAME_PATTERN, 'must be a valid consumer name')), v.unknown()),
});

async function readValidated<T extends { stage: string }>(path: string, stage: string, schema: v.GenericSchema<unknown, T>): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConsumerError(
      'E_CONSUMER_STATE',
      `cannot read the processed-ID file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}); check its permissions`,
      { cause: error },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ConsumerError(
      'E_CONSUMER_STATE',
      `processed-ID file ${path} is corrupt (not valid JSON: ${(cause as Error).message.split('\n')[0]}); ${CORRUPT_FIX}`,
      { cause },
    );
  }
  const parsed = v.safeParse(schema, json);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    throw new ConsumerError('E_CONSUMER_STATE', `processed-ID file ${path} is corrupt (${v.getDotPath(issue) || '(file)'}: ${issue.message}); ${CORRUPT_FIX}`, {
      cause: new v.ValiError(parsed.issues),
    });
  }
  if (parsed.output.stage !== stage) {
    throw new ConsumerError(
      'E_CONSUMER_STATE',
      `processed-ID file ${path} belongs to stage "${parsed.output.stage}", not "${stage}"; use the state directory of stage "${stage}"`,
    );
  }
  return parsed.output;
}

/** This consumer's entry (empty for a consumer that never committed). */
export async function readConsumerEntry(path: string, stage: string, consumer: string): Promise<ConsumerEntry> {
  const file = await readConsumerStateFile(path, stage);
  return file?.consumers[consumer] ?? emptyConsumerEntry();
}

/**
 * Drops ids older than `oldestDate` and cursors older than `oldestCursorDate` (ISO dates compare as
 * strings). Pure.
 */
export function pruneConsumerEntry(entry: ConsumerEntry, oldestDate: string, oldestCursorDate = oldestDate): ConsumerEntry {
  const keep = <T>(record: Record<string, T>) => Object.fromEntries(Object.entries(record).filter(([day]) => day >= oldestDate));
  return {
    ...entry,
    fetches: keep(entry.fetches),
    records: keep(entry.records),
    objects: Object.fromEntries(Object.entries(entry.objects).filter(([, cursor]) => cursor.date >= oldestCursorDate)),
  };
}

/** Replaces this consumer's entry in the file, atomically and under the file's update lock. */
export async function commitConsumerEntry(fs: DurableFs, path: string, stage: string, consumer: string, entry: ConsumerEntry): Promise<void> {
  await withLock(path, `${path}.lock`, 'the processed-ID file', async () => {
    // Re-read under the lock: another consumer may have committed since this run started.
    const file = (await readValidated(path, stage, stateFileOutlineSchema)) ?? { version: 1 as const, stage, consumers: {} };
    for (const [name, other] of Object.entries(file.consumers)) {
      if (name === consumer) continue; // replaced below: not worth validating (or copying) again
      const checked = v.safeParse(consumerEntrySchema, other);
      if (!checked.success) {
        const issue = checked.issues[0];
        const at = v.getDotPath(issue);
        const where = at ? `consumers.${name}.${at}` : `consumers.${name}`;
        throw new ConsumerError('E_CONSUMER_STATE', `processed-ID file ${path} is corrupt (${where}: ${issue.message}); ${CORRUPT_FIX}`, {
          cause: new v.ValiError(checked.issues),
        });
      }
    }
    file.consumers[consumer] = entry;
    await fs.writeAtomic(path, `${JSON.stringify(file)}\n`);
  });
}

/**
 * Runs `fn` while holding the run lock of one consumer, so two runs of the same consumer never overlap.
 * `fn` gets `assertHeld`, to call before each commit: it throws when another process took the lock over.
 */
export async function withConsumerRunLock<T>(stateDir: string, stage: string, consumer: string, fn: (assertHeld: () => void) => Promise<T>): Promise<T> {
  return withLock(stateDir, join(stateDir, `${stage}_${consumer}.consume.lock`), `consumer "${consumer}" of stage "${stage}"`, fn);
}

/** A lock left by a killed run is taken over once it has not been refreshed for this long. */
const STALE_MS = 4_000;

async function withLock<T>(target: string, lockfilePath: string, what: string, fn: (assertHeld: () => void) => Promise<T>): Promise<T> {
  let compromised: Error | undefined;
  let release: () => Promise<void>;
  try {
    const lockfile = await loadLockfile();
    release = await lockfile.lock(target, {
      lockfilePath,
      realpath: false,
      stale: STALE_MS,
      update: 1_000,
      // Waits up to ~15 s: long enough for a killed run's lock to go stale.
      retries: { retries: 60, minTimeout: 50, maxTimeout: 500, factor: 1.3, randomize: true },
      onCompromised: (error) => {
        compromised = error;
      },
    });
  } catch (cause) {
    throw new ConsumerError(
      'E_CONSUMER_LOCK',
      `cannot take the lock ${lockfilePath} of ${what} (${(cause as Error).message}); another run holds it — wait for it to finish, or remove the lock if no consume is running`,
      { cause },
    );
  }
  const assertHeld = () => {
    if (compromised)
      throw new ConsumerError(
        'E_CONSUMER_LOCK',
        `the lock ${lockfilePath} of ${what} was taken over by another process; nothing more is committed by this run`,
        { cause: compromised },
      );
  };
  try {
    return await fn(assertHeld);
  } finally {
    await release().catch(() => undefined);
  }
}
