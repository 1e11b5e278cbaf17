/**
 * What an upload's outcome does to the stage state, as pure functions (no I/O): the index entries S3
 * confirmed, how the uploaded blocks leave the log, and the bookkeeping of a success or a failure. The
 * rotation (logger/rotation.ts) runs the effects in between through the executor (logger/effects.ts).
 */
import type { TornSegment } from '../local/bookended.js';
import type { PendingFetch, StageState } from '../local/state.js';
import type { UploadedFetch } from '../local/uploaded-index.js';
import type { AppendOutcome } from '../s3/daily-store.js';
import type { UploadErrorInfo, UploadReport } from './types.js';

/** The uploaded-index lines of a batch that S3 now holds (in the upload `outcome.uploadSequence`). */
export function uploadedEntries(group: readonly PendingFetch[], outcome: Pick<AppendOutcome, 'uploadSequence'>): UploadedFetch[] {
  return group.map((p) => ({
    fetch_id: p.fetchId,
    fetch_number: p.fetchNumber,
    date: p.date,
    timestamp: p.timestamp,
    records: p.records,
    upload_sequence: outcome.uploadSequence,
  }));
}

/**
 * How uploaded (or dead-lettered) blocks leave the log: `truncate` when nothing else is pending (keeps
 * `tail -f` on the same file), `empty-into-quarantine` when only torn bytes a full disk kept from the
 * quarantine are left, else `rewrite` without their byte ranges.
 */
export interface TrimPlan {
  mode: 'truncate' | 'empty-into-quarantine' | 'rewrite';
  removed: PendingFetch[];
  /** Pending fetches after the trim, in order (byte ranges not yet shifted: see `applyTrim`). */
  remaining: PendingFetch[];
}

export function planTrim(pending: readonly PendingFetch[], removed: readonly PendingFetch[], deferredTorn: readonly TornSegment[]): TrimPlan {
  const gone = new Set(removed.map((p) => p.fetchId));
  const remaining = pending.filter((p) => !gone.has(p.fetchId));
  const mode = remaining.length > 0 ? 'rewrite' : deferredTorn.length > 0 ? 'empty-into-quarantine' : 'truncate';
  return { mode, removed: [...removed], remaining };
}

/**
 * The state once the trim is on disk (`logSize`: the log's new size). Updated in place; returns the torn
 * segments still waiting for the quarantine (their ranges shifted like the pending blocks').
 */
export function applyTrim(state: StageState, plan: TrimPlan, logSize: number, deferredTorn: TornSegment[]): TornSegment[] {
  let torn = deferredTorn;
  if (plan.mode === 'rewrite') {
    shiftPending(plan.remaining, plan.removed);
    shiftPending(torn, plan.removed);
  } else if (plan.mode === 'empty-into-quarantine') {
    torn = [];
  }
  state.pending = plan.remaining;
  state.log.size = logSize;
  return torn;
}

/** Moves each block's byte range down by the bytes removed before it. */
export function shiftPending(pending: Array<{ start: number; end: number }>, removed: ReadonlyArray<{ start: number; end: number }>): void {
  for (const p of pending) {
    const shift = removed.filter((r) => r.end <= p.start).reduce((n, r) => n + (r.end - r.start), 0);
    p.start -= shift;
    p.end -= shift;
  }
}

/** The intent record of an upload about to be sent; false when the state already carries it (a retry). */
export function applyIntent(state: StageState, date: string, group: readonly PendingFetch[], uploadId: string): boolean {
  if (state.inflight?.uploadId === uploadId) return false;
  state.inflight = { uploadId, date, fetchIds: group.map((p) => p.fetchId) };
  return true;
}

/** The state and the report once an upload is in S3 and its blocks left the log. Updated in place. */
export function applyUploadResult(
  state: StageState,
  upload: { date: string; key: string; group: readonly PendingFetch[]; outcome: AppendOutcome; at: string },
): UploadReport {
  const { date, key, group, outcome, at } = upload;
  const records = group.reduce((n, p) => n + p.records, 0);
  state.lastUpload = { at, date, key, uploadSequence: outcome.uploadSequence, uploadId: outcome.uploadId ?? '', fetches: group.length, records };
  state.lastError = null;
  state.inflight = null;
  state.counters.uploads++;
  return { date, key, upload_sequence: outcome.uploadSequence, upload_id: outcome.uploadId ?? null, fetches: group.length, records, applied: outcome.applied };
}

/** The state after a failed upload: the fetches stay pending (and the intent record, for a same-id retry). */
export function applyUploadFailure(state: StageState, info: UploadErrorInfo, at: string): StageState {
  state.lastError = { at, ...info };
  state.counters.uploadFailures++;
  return state;
}
