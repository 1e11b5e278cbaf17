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
import { z } from 'zod';
import { LocalIoError } from '../errors.js';
import type { DurableFs } from './durable-fs.js';

export const pendingFetchSchema = z.object({
  fetchId: z.string(),
  fetchNumber: z.number().int(),
  /** Local date (stage zone) the fetch belongs to: its daily object. */
  date: z.string(),
  timestamp: z.string(),
  records: z.number().int(),
  /** Byte range of the block in the log. */
  start: z.number().int(),
  end: z.number().int(),
});
export type PendingFetch = z.infer<typeof pendingFetchSchema>;

const uploadSummarySchema = z.object({
  at: z.string(),
  date: z.string(),
  key: z.string(),
  uploadSequence: z.number().int(),
  uploadId: z.string(),
  fetches: z.number().int(),
  records: z.number().int(),
});
export type UploadSummary = z.infer<typeof uploadSummarySchema>;

export const stateSchema = z.object({
  version: z.literal(1),
  stage: z.string(),
  /** The counter's day (`YYYY-MM-DD`, stage zone); never moves backwards. Null before the first fetch. */
  date: z.string().nullable(),
  /** Last fetch number given out on `date` (0: none yet). */
  lastFetchNumber: z.number().int().min(0),
  /** Latest timestamp given out, so a clock stepping back cannot move a fetch onto an earlier day. */
  lastTimestamp: z.string().nullable(),
  log: z.object({ size: z.number().int(), ino: z.number() }),
  pending: z.array(pendingFetchSchema),
  lastUpload: uploadSummarySchema.nullable(),
  lastError: z.object({ at: z.string(), code: z.string(), message: z.string() }).nullable(),
  lastMidnight: z.object({ at: z.string(), from: z.string(), to: z.string() }).nullable(),
  counters: z.object({ uploads: z.number().int(), uploadFailures: z.number().int(), midnightTransitions: z.number().int() }),
  /**
   * Intent record of the upload being sent, written before the S3 request: a retry after a crash or an
   * ambiguous failure re-sends exactly this batch under the same `uploadId`, which the daily object
   * recognises (daily_metadata.upload_ids), so it is never appended twice.
   */
  inflight: z.object({ uploadId: z.string(), date: z.string(), fetchIds: z.array(z.string()) }).nullable().default(null),
});
export type StageState = z.infer<typeof stateSchema>;

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
    throw new LocalIoError(`cannot read state file ${path} (${(error as NodeJS.ErrnoException).code}); check permissions`, { cause: error });
  }
  try {
    return stateSchema.parse(JSON.parse(text));
  } catch (cause) {
    throw new LocalIoError(
      `state file ${path} is corrupt; move it aside (the next command rebuilds it from the log and ${'<stage>_uploaded_ids.jsonl'}) after checking the log`,
      { cause, code: 'E_LOCAL_CORRUPT' },
    );
  }
}

export async function writeState(fs: DurableFs, path: string, state: StageState): Promise<void> {
  await fs.writeAtomic(path, `${JSON.stringify(state, null, 2)}\n`);
}
