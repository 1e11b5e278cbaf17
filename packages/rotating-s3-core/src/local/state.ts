/**
 * The stage state `<localDir>/<stage>_state.json`: the daily counter, the pending fetches (an index into
 * the log) and upload bookkeeping. Written only with `writeAtomic` (temp → fsync → rename → fsync dir).
 *
 * The log is the source of truth for what was logged; the state is a summary written AFTER the log:
 * - `log.size`/`log.ino` record the log as of this state. A larger log means blocks were appended after
 *   the last state write (a crash between append and state write): they are adopted by scanning only the
 *   new bytes. A different inode or a smaller size means the log was rewritten (trim) after the state:
 *   the log is rescanned whole (it is small then) and the counter is the maximum of both.
 * - A fetch number is used once its block is durable in the log, so the counter never skips.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as v from 'valibot';
import { LocalIoError } from '../errors.js';
import type { DurableFs } from './durable-fs.js';
import { unreadableLocalFile } from './io-errors.js';
import { isIsoDate } from './uploaded-index.js';

/** A real calendar date of the years 1970–9999: a date that cannot be parsed would fail every later command. */
const DATE = v.pipe(v.string(), v.check(isIsoDate, 'must be a date YYYY-MM-DD of the years 1970-9999'));

export const pendingFetchSchema = v.object({
  fetchId: v.string(),
  fetchNumber: v.pipe(v.number(), v.integer()),
  /** Local date (stage zone) the fetch belongs to: its daily object. */
  date: DATE,
  timestamp: v.string(),
  records: v.pipe(v.number(), v.integer()),
  /** Byte range of the block in the log. */
  start: v.pipe(v.number(), v.integer()),
  end: v.pipe(v.number(), v.integer()),
});
export type PendingFetch = v.InferOutput<typeof pendingFetchSchema>;

const uploadSummarySchema = v.object({
  at: v.string(),
  date: v.string(),
  key: v.string(),
  uploadSequence: v.pipe(v.number(), v.integer()),
  uploadId: v.string(),
  fetches: v.pipe(v.number(), v.integer()),
  records: v.pipe(v.number(), v.integer()),
});
export type UploadSummary = v.InferOutput<typeof uploadSummarySchema>;

export const stateSchema = v.object({
  version: v.literal(1),
  stage: v.string(),
  /** The counter's day (`YYYY-MM-DD`, stage zone); never moves backwards. Null before the first fetch. */
  date: v.nullable(DATE),
  /** Last fetch number given out on `date` (0: none yet). */
  lastFetchNumber: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** Latest timestamp given out, so a clock stepping back cannot move a fetch onto an earlier day. */
  lastTimestamp: v.nullable(v.string()),
  log: v.object({ size: v.pipe(v.number(), v.integer()), ino: v.number() }),
  pending: v.array(pendingFetchSchema),
  lastUpload: v.nullable(uploadSummarySchema),
  lastError: v.nullable(v.object({ at: v.string(), code: v.string(), message: v.string() })),
  lastMidnight: v.nullable(v.object({ at: v.string(), from: v.string(), to: v.string() })),
  counters: v.object({
    uploads: v.pipe(v.number(), v.integer()),
    uploadFailures: v.pipe(v.number(), v.integer()),
    midnightTransitions: v.pipe(v.number(), v.integer()),
  }),
  /**
   * Intent record of the upload being sent, written before the S3 request: a retry after a crash or an
   * ambiguous failure re-sends exactly this batch under the same `uploadId`, which the daily object
   * recognises (daily_metadata.upload_ids), so it is never appended twice.
   */
  inflight: v.optional(v.nullable(v.object({ uploadId: v.string(), date: v.string(), fetchIds: v.array(v.string()) })), null),
});
export type StageState = v.InferOutput<typeof stateSchema>;

export function statePath(localDir: string, stage: string): string {
  return join(localDir, `${stage}_state.json`);
}

export function emptyState(stage: string): StageState {
  return {
    version: 1,
    stage,
    date: null,
    lastFetchNumber: 0,
    lastTimestamp: null,
    log: { size: 0, ino: 0 },
    pending: [],
    lastUpload: null,
    lastError: null,
    lastMidnight: null,
    counters: { uploads: 0, uploadFailures: 0, midnightTransitions: 0 },
    inflight: null,
  };
}

/** Reads the state; `undefined` when there is none yet. A corrupt file is refused, never silently reset. */
export async function readState(path: string): Promise<StageState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unreadableLocalFile('the state file', path, error);
  }
  let why: string;
  let cause: unknown;
  try {
    const parsed = v.safeParse(stateSchema, JSON.parse(text));
    if (parsed.success) return parsed.output;
    const issue = parsed.issues[0];
    why = `${v.getDotPath(issue) || '(file)'}: ${issue.message}`;
    cause = new v.ValiError(parsed.issues);
  } catch (error) {
    why = 'not valid JSON';
    cause = error;
  }
  throw new LocalIoError(
    `state file ${path} is corrupt (${why}); move it aside (the next command rebuilds it from the log and ${'<stage>_uploaded_ids.jsonl'}) after checking the log`,
    { cause, code: 'E_LOCAL_CORRUPT' },
  );
}

export async function writeState(fs: DurableFs, path: string, state: StageState): Promise<void> {
  await fs.writeAtomic(path, `${JSON.stringify(state, null, 2)}\n`);
}
