/**
 * The processed-ID file `<stateDir>/<stage>_processed_fetch_ids.json` (SPEC §2): what each consumer of a
 * stage has already processed. One file per stage and state directory; each consumer owns one entry of
 * `consumers`, keyed by its name, so several consumers may share a state directory and stay independent.
 * It is small: the ids themselves are in each consumer's run files (consumer/processed-store.ts), which
 * its entry names.
 *
 *   {
 *     "version": 2,
 *     "stage": "merge",
 *     "consumers": {
 *       "billing": {
 *         "scan_from": "2026-11-28",            // stage-zone date of the last complete run
 *         "last_run": "2026-11-28T14:03:11.512-05:00",
 *         "objects": { "<daily object key>": { "date", "etag", "offset", "uploads", … } },
 *         "watch_from": "2026-10-21",            // every daily object of this date or later has a cursor
 *         "dedup_days": 8,                       // the window the ids are kept for
 *         "store": "merge_billing.processed",    // the directory of the run files, beside this file
 *         "runs": [{ "file": "2026-11-28-000007.run", "day": "2026-11-28", "count": 2000, "sha256": "…" }]
 *       }
 *     }
 *   }
 *
 * Version 1 (before the store) kept the ids inline: `"fetches": { "<day>": ["<fetch_id>", …] }` and
 * `"records": { "<day>": "<16-char base64url digest>…" }`. Such an entry is read as a legacy entry; the
 * consumer's first run converts it into run files (consumer/migrate.ts) and writes its entry in version 2,
 * leaving the other consumers' entries as they are.
 *
 * Invariants:
 * - Runs older than the dedup window, and cursors older than the watch window (dedup + late-upload days),
 *   are pruned at each commit, so the file is bounded by the windows, not by the history.
 * - The file is written only by `commitConsumerEntry`: under the file's update lock it re-reads the file,
 *   replaces this consumer's entry and writes atomically (temp → fsync → rename → fsync dir), so a crash
 *   leaves the old or the new file and a concurrent consumer's entry is never lost. The run files it names
 *   are written and fsynced before.
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

const runRefSchema = v.strictObject({
  file: v.pipe(v.string(), v.regex(/^\d{4}-\d{2}-\d{2}-\d{6,}\.run$/, 'must be a run file name <day>-<gen>.run')),
  day: DATE,
  count: v.pipe(v.number(), v.integer(), v.minValue(0)),
  sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex')),
});

export const consumerEntrySchema = v.strictObject({
  scan_from: v.nullable(DATE),
  last_run: v.nullable(v.string()),
  objects: v.record(v.string(), objectCursorSchema),
  watch_from: v.optional(DATE),
  dedup_days: v.pipe(v.number(), v.integer(), v.minValue(1)),
  store: v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]+\.processed$/, 'must be a directory name <stage>_<consumer>.processed')),
  runs: v.array(runRefSchema),
});
export type ConsumerEntry = v.InferOutput<typeof consumerEntrySchema>;

/** An entry of a version-1 file (ids inline), converted by the consumer's next run. */
export const legacyEntrySchema = v.strictObject({
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
export type LegacyConsumerEntry = v.InferOutput<typeof legacyEntrySchema>;

export type StoredEntry = { legacy: false; entry: ConsumerEntry } | { legacy: true; entry: LegacyConsumerEntry };

/** An entry is legacy (version 1) when it holds its ids inline. */
const entrySchemaOf = (value: unknown) =>
  typeof value === 'object' && value !== null && ('records' in value || 'fetches' in value) ? legacyEntrySchema : consumerEntrySchema;

export function emptyConsumerEntry(stage: string, consumer: string, dedupDays: number): ConsumerEntry {
  return { scan_from: null, last_run: null, objects: {}, dedup_days: dedupDays, store: consumerStoreName(stage, consumer), runs: [] };
}

/** The directory of a consumer's run files, beside the processed-ID file: `<stage>_<consumer>.processed`. */
export function consumerStoreName(stage: string, consumer: string): string {
  return `${stage}_${consumer}.processed`;
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

/** The file's shape with the entries left unchecked (each is checked against its version's schema). */
const stateFileOutlineSchema = v.strictObject({
  version: v.union([v.literal(1), v.literal(2)], 'must be 1 or 2 (a newer file needs a newer rotating-s3)'),
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

/** Checks one consumer's entry against the schema of its version. */
function checkEntry(path: string, name: string, value: unknown): StoredEntry {
  const schema = entrySchemaOf(value);
  const checked = v.safeParse(schema, value);
  if (!checked.success) {
    const issue = checked.issues[0];
    const at = v.getDotPath(issue);
    const where = at ? `consumers.${name}.${at}` : `consumers.${name}`;
    throw new ConsumerError('E_CONSUMER_STATE', `processed-ID file ${path} is corrupt (${where}: ${issue.message}); ${CORRUPT_FIX}`, {
      cause: new v.ValiError(checked.issues),
    });
  }
  return schema === legacyEntrySchema
    ? { legacy: true, entry: checked.output as LegacyConsumerEntry }
    : { legacy: false, entry: checked.output as ConsumerEntry };
}

/** This consumer's entry (undefined for a consumer that never committed). */
export async function readConsumerEntry(path: string, stage: string, consumer: string): Promise<StoredEntry | undefined> {
  const file = await readValidated(path, stage, stateFileOutlineSchema);
  const value = file?.consumers[consumer];
  if (value === undefined) return undefined;
  const stored = checkEntry(path, consumer, value);
  // A store named otherwise could be another consumer's, whose files this one would then delete.
  if (!stored.legacy && stored.entry.store !== consumerStoreName(stage, consumer)) {
    throw new ConsumerError(
      'E_CONSUMER_STATE',
      `processed-ID file ${path} is corrupt (consumers.${consumer}.store: ${JSON.stringify(stored.entry.store)} is not ${JSON.stringify(consumerStoreName(stage, consumer))}); ${CORRUPT_FIX}`,
    );
  }
  return stored;
}

/** Replaces this consumer's entry in the file, atomically and under the file's update lock. */
export async function commitConsumerEntry(fs: DurableFs, path: string, stage: string, consumer: string, entry: ConsumerEntry): Promise<void> {
  await withLock(path, `${path}.lock`, 'the processed-ID file', async () => {
    // Re-read under the lock: another consumer may have committed since this run started.
    const file = (await readValidated(path, stage, stateFileOutlineSchema)) ?? { version: 2 as const, stage, consumers: {} };
    for (const [name, other] of Object.entries(file.consumers)) {
      if (name !== consumer) checkEntry(path, name, other); // this one is replaced below: not worth checking again
    }
    file.consumers[consumer] = entry;
    await fs.writeAtomic(path, `${JSON.stringify({ ...file, version: 2 })}\n`);
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
