/**
 * When a consumer run commits and what its entry then says (pure functions; the run writes the files,
 * consumer/run.ts). Dates are stage-zone ISO dates, which compare as strings.
 */
import { LocalDate } from '../time/zone.js';
import type { ConsumerEntry, ObjectCursor } from './state.js';

/** A progressive run commits once `intervalMs` passed since its last commit (never when not progressive). */
export function commitDue(progressive: boolean, msSinceLastCommit: number, intervalMs: number): boolean {
  return progressive && msSinceLastCommit >= intervalMs;
}

/**
 * The date from which every daily object that existed at the last run has a cursor (undefined: none, list
 * every object). A file of an earlier version kept cursors for the dedup window only: its runs read from
 * `scan_from` - 1.
 */
export function initialWatchFrom(entry: Pick<ConsumerEntry, 'watch_from' | 'scan_from'>): string | undefined {
  return entry.watch_from ?? (entry.scan_from === null ? undefined : LocalDate.parse(entry.scan_from).minusDays(1).toString());
}

/** Today, unless an object with a problem is older: it stays in range so it is reported until fixed. */
export function nextScanFrom(today: string, cursors: Iterable<ObjectCursor>): string {
  let from = today;
  for (const cursor of cursors) if (cursor.problem !== undefined && cursor.date < from) from = cursor.date;
  return from;
}

export interface CommitInput {
  /** The entry as last committed (at the start of the run, or by its last progressive commit). */
  committed: ConsumerEntry;
  /** The run read every changed object and the local file (its final commit). */
  complete: boolean;
  today: string;
  /** The time of this commit (`last_run` of a complete one). */
  now: string;
  cursors: ReadonlyMap<string, ObjectCursor>;
  /** The run's watch-from (initialWatchFrom of the entry it started with). */
  watchFrom: string | undefined;
  /** Ids processed since the last commit. */
  pending: number;
  dedupDays: number;
  /** dedup + late-upload days: how long cursors are kept. */
  watchDays: number;
}

export interface CommitPlan {
  /** The next entry, but for `runs` (the store's, once its files are written). */
  entry: ConsumerEntry;
  /** Run files of days before this one leave the store. */
  oldestDay: string;
  /** False when the file would say nothing new (last_run aside): not rewritten. */
  write: boolean;
}

/** What a commit writes, and whether it writes at all. */
export function planCommit(input: CommitInput): CommitPlan {
  const { committed, complete, today } = input;
  const todayDate = LocalDate.parse(today);
  const oldestCursor = todayDate.minusDays(input.watchDays).toString();
  const oldestDay = todayDate.minusDays(input.dedupDays).toString();
  // Only a complete run has read every changed object: then all from the window's start have cursors.
  const watchFrom = complete ? (input.watchFrom !== undefined && input.watchFrom > oldestCursor ? input.watchFrom : oldestCursor) : input.watchFrom;
  const objects = Object.fromEntries([...input.cursors].filter(([, cursor]) => cursor.date >= oldestCursor));
  const entry: ConsumerEntry = {
    scan_from: complete ? nextScanFrom(today, input.cursors.values()) : committed.scan_from,
    last_run: complete ? input.now : committed.last_run,
    objects,
    dedup_days: input.dedupDays,
    store: committed.store,
    runs: committed.runs,
  };
  if (watchFrom !== undefined) entry.watch_from = watchFrom;
  const write =
    input.pending > 0 ||
    entry.scan_from !== committed.scan_from ||
    entry.watch_from !== committed.watch_from ||
    entry.dedup_days !== committed.dedup_days ||
    committed.runs.some((run) => run.day < oldestDay) ||
    JSON.stringify(objects) !== JSON.stringify(committed.objects);
  return { entry, oldestDay, write };
}
