/**
 * Reconcile: loads the state and brings it in line with the log before any call writes (local/state.ts).
 * Blocks appended after the last state write are adopted; torn bytes are moved to the quarantine file
 * (or, on a full disk, left where they are until uploads free the space). The decisions are pure
 * (plan-reconcile.ts); the writes are effects run by the executor. The caller holds the stage lock.
 */
import type { TornSegment } from '../local/bookended.js';
import { isDiskFull } from '../local/durable-fs.js';
import { fileIdentity, readLog, type LogFilePaths } from '../local/log-file.js';
import { emptyState, readState, type StageState } from '../local/state.js';
import { readUploaded } from '../local/uploaded-index.js';
import type { ZoneId } from '../time/zone.js';
import { localIo, type EffectExecutor } from './effects.js';
import type { OpsLog } from './ops-log.js';
import { raiseCounter } from './plan.js';
import { applyScan, reconcileDecision } from './plan-reconcile.js';
import { shiftPending } from './plan-upload.js';

export interface ReconcileContext {
  stage: string;
  zone: ZoneId;
  paths: LogFilePaths;
  statePath: string;
  indexPath: string;
  ops: OpsLog;
  exec: EffectExecutor;
  /** The current time as text, for the quarantine headers. */
  nowText: () => string;
  /** Torn segments a full disk kept in the log (moved after the next uploads); set here, read by the executor. */
  deferred: { torn: TornSegment[] };
}

/** The reconciled state; `ctx.deferred.torn` then holds the torn segments a full disk kept in the log. */
export async function reconcile(ctx: ReconcileContext): Promise<StageState> {
  const stored = await readState(ctx.statePath);
  const state = stored ?? emptyState(ctx.stage);
  const log = await fileIdentity(ctx.paths.log);
  const decision = reconcileDecision(stored, log);
  ctx.deferred.torn = [];
  switch (decision.kind) {
    case 'clean':
      return state;
    case 'log-missing':
      if (decision.lost.length > 0) ctx.ops.event('error', 'log_missing', { file: ctx.paths.log, pending_lost: decision.lost });
      state.pending = [];
      state.log = { size: 0, ino: 0 };
      if (decision.restoreCounter) await restoreCounterFromIndex(ctx.indexPath, state);
      return state;
    case 'scan': {
      const { blocks, torn } = await readLog(ctx.paths.log, decision.from);
      if (decision.restoreCounter) await restoreCounterFromIndex(ctx.indexPath, state);
      applyScan(state, blocks, decision.appendedOnly, ctx.zone);
      if (torn.length > 0) ctx.deferred.torn = await quarantine(ctx, torn, log!.size, state);
      ctx.ops.event('warn', 'repaired', { adopted_blocks: blocks.length, quarantined_segments: torn.length, full_rescan: !decision.appendedOnly });
      // The repaired state is also derivable from the log again; a failed checkpoint is only a warning.
      await ctx.exec.run({ kind: 'write-state', state, why: 'repaired', tolerate: 'any' });
      return state;
    }
  }
}

/** Without a state file, numbering continues from the uploaded index so a day never restarts at 1. */
async function restoreCounterFromIndex(indexPath: string, state: StageState): Promise<void> {
  for (const entry of await readUploaded(indexPath)) raiseCounter(state, entry.date, entry.fetch_number);
}

/** Moves torn bytes to the quarantine; returns the segments deferred by a full disk (none when moved). */
async function quarantine(ctx: ReconcileContext, torn: TornSegment[], logSize: number, state: StageState): Promise<TornSegment[]> {
  try {
    await ctx.exec.run({ kind: 'quarantine', torn, logSize, at: ctx.nowText() });
  } catch (cause) {
    if (ctx.exec.crashed !== undefined) throw cause;
    if (!isDiskFull(cause)) throw localIo(`cannot move torn bytes of ${ctx.paths.log} to ${ctx.paths.quarantine}`, cause);
    // A full disk: uploading the pending fetches frees the space that quarantining needs, so the torn
    // bytes stay where they are (readers skip them) until then (see the trim in rotation.ts).
    state.log.size = logSize;
    ctx.ops.event('warn', 'quarantine_deferred', {
      file: ctx.paths.quarantine,
      segments: torn.length,
      bytes: torn.reduce((n, s) => n + s.end - s.start, 0),
      reason: 'disk full; moved after the pending fetches are uploaded',
    });
    return torn;
  }
  // Removing middle segments shifts the blocks after them.
  if (!(torn.length === 1 && torn[0]!.end === logSize)) shiftPending(state.pending, torn);
  for (const segment of torn) {
    ctx.ops.event('warn', 'quarantined', { file: ctx.paths.quarantine, bytes: segment.end - segment.start, reason: segment.reason });
  }
  return [];
}
