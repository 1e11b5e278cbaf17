/**
 * Reconcile as pure decisions: how the stored state relates to the log on disk (local/state.ts) and what
 * the state becomes once the scanned blocks are adopted. The I/O (reading the state, the log, the
 * uploaded index) and the effects (quarantine, checkpoint) stay in logger/reconcile.ts.
 */
import type { ScannedBlock } from '../local/bookended.js';
import type { StageState } from '../local/state.js';
import { adoptBlock } from './plan.js';
import type { ZoneId } from '../time/zone.js';

export type ReconcileDecision =
  /** The state describes the log exactly: nothing to repair. */
  | { kind: 'clean' }
  /** No log: its pending fetches are gone (reported), numbering continues from the index without a state. */
  | { kind: 'log-missing'; lost: string[]; restoreCounter: boolean }
  /**
   * Scan the log from `from`: only the bytes appended after the last state write (same inode, larger),
   * or all of it (rewritten, shrunk, or no state) — then the pending list is rebuilt from the scan.
   */
  | { kind: 'scan'; from: number; appendedOnly: boolean; restoreCounter: boolean };

export function reconcileDecision(stored: StageState | undefined, log: { size: number; ino: number } | undefined): ReconcileDecision {
  if (!log) return { kind: 'log-missing', lost: (stored?.pending ?? []).map((p) => p.fetchId), restoreCounter: stored === undefined };
  if (stored && log.ino === stored.log.ino && log.size === stored.log.size) return { kind: 'clean' };
  const appendedOnly = stored !== undefined && log.ino === stored.log.ino && log.size > stored.log.size;
  return { kind: 'scan', from: appendedOnly ? stored.log.size : 0, appendedOnly, restoreCounter: stored === undefined };
}

/** The state after a scan: blocks adopted as pending (the pending list rebuilt unless `appendedOnly`). Updated in place. */
export function applyScan(state: StageState, blocks: readonly ScannedBlock[], appendedOnly: boolean, zone: ZoneId): StageState {
  if (!appendedOnly) state.pending = [];
  for (const block of blocks) adoptBlock(state, block, zone);
  return state;
}
