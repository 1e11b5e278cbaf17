/**
 * The writer's decisions as pure functions of state, input and time (no I/O): which day and number a
 * new fetch gets, what a day change must upload first, and how pending fetches are cut into uploads.
 * The stage logger performs what these return, in the order its header documents; these functions are
 * tested from tables in milliseconds (plan.spec.ts), DST and clocks stepping back included.
 */
import type { Instant } from '@js-joda/core';
import type { ScannedBlock } from '../local/bookended.js';
import type { PendingFetch, StageState } from '../local/state.js';
import { uploadIdOf } from '../s3/daily-object.js';
import { LocalDate, formatTimestamp, localDateOf, localView, parseTimestamp, startOfDay, type ZoneId } from '../time/zone.js';

export interface FetchPlan {
  /** Local date (stage zone) the fetch belongs to: its daily object and its counter's day. */
  date: string;
  fetchNumber: number;
  /** The fetch's timestamp, ISO-8601 with the zone's offset. */
  timestamp: string;
  /** Set when the counter's day changes with this fetch. */
  midnight?: { from: string; to: string };
  /** Pending fetches of earlier days: uploaded to their own days' objects before numbering restarts. */
  uploadFirst: PendingFetch[];
}

/**
 * Numbers a new fetch. The day is the local date of `now` in `zone`, except that it never moves
 * backwards: when the wall clock steps back across midnight the fetch stays on the later day, stamped
 * at that day's first instant (so its timestamp's local date is still its day).
 */
export function planFetch(state: Pick<StageState, 'date' | 'lastFetchNumber' | 'pending'>, now: Instant, zone: ZoneId): FetchPlan {
  const local = localView(now, zone);
  // ISO dates compare as strings, which spares parsing dates on every fetch.
  const behind = state.date !== null && state.date > local.date;
  const date = behind ? state.date! : local.date;
  const timestamp = behind ? formatTimestamp(startOfDay(LocalDate.parse(date), zone), zone) : local.timestamp;
  const sameDay = state.date === date;
  const plan: FetchPlan = { date, fetchNumber: (sameDay ? state.lastFetchNumber : 0) + 1, timestamp, uploadFirst: [] };
  if (state.date !== null && !sameDay) {
    plan.midnight = { from: state.date, to: date };
    plan.uploadFirst = state.pending.filter((p) => p.date < date);
  }
  return plan;
}

/** A backlog (after an outage) is sent in uploads of at most this many bytes of local blocks... */
export const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;

export interface PlannedUpload {
  date: string;
  fetches: PendingFetch[];
  uploadId: string;
}

/**
 * Cuts `which` into uploads: an upload left in flight by an earlier call goes first, as the same batch
 * under the same id (its intent record); then, per local date oldest first, batches of at most
 * `fetchLimit` fetches and `MAX_UPLOAD_BYTES` of blocks (a single larger fetch still goes alone), so
 * memory and request size stay bounded however long S3 was away. `inflightDone` says the in-flight
 * upload's fetches already left the log (that upload completed): its intent record is to be dropped.
 */
export function planRotation(
  state: Pick<StageState, 'pending' | 'inflight'>,
  which: readonly PendingFetch[],
  fetchLimit: number,
  stage: string,
  maxBytes = MAX_UPLOAD_BYTES,
): { uploads: PlannedUpload[]; inflightDone: boolean } {
  const uploads: PlannedUpload[] = [];
  let rest = which;
  let inflightDone = false;
  if (state.inflight) {
    const ids = new Set(state.inflight.fetchIds);
    const fetches = state.pending.filter((p) => ids.has(p.fetchId));
    if (fetches.length === ids.size) {
      uploads.push({ date: state.inflight.date, fetches, uploadId: state.inflight.uploadId });
      rest = which.filter((p) => !ids.has(p.fetchId));
    } else {
      inflightDone = true;
    }
  }
  for (const date of [...new Set(rest.map((p) => p.date))].sort()) {
    for (const fetches of chunk(
      rest.filter((p) => p.date === date),
      fetchLimit,
      maxBytes,
    )) {
      uploads.push({
        date,
        fetches,
        uploadId: uploadIdOf(
          stage,
          date,
          fetches.map((p) => p.fetchId),
        ),
      });
    }
  }
  return { uploads, inflightDone };
}

function chunk(fetches: PendingFetch[], fetchLimit: number, maxBytes: number): PendingFetch[][] {
  const chunks: PendingFetch[][] = [];
  let current: PendingFetch[] = [];
  let bytes = 0;
  for (const fetch of fetches) {
    const size = fetch.end - fetch.start;
    if (current.length > 0 && (current.length >= fetchLimit || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(fetch);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Moves the counter to `fetchNumber` on `date` when that is later: a later day replaces it, the same day keeps the larger number. */
export function raiseCounter(state: Pick<StageState, 'date' | 'lastFetchNumber'>, date: string, fetchNumber: number): void {
  if (state.date === null || date > state.date) {
    state.date = date;
    state.lastFetchNumber = fetchNumber;
  } else if (date === state.date) {
    state.lastFetchNumber = Math.max(state.lastFetchNumber, fetchNumber);
  }
}

/** Records a block found in the log (appended before a crash, or rediscovered on a rescan) as pending on its local date. */
export function adoptBlock(state: StageState, block: ScannedBlock, zone: ZoneId): void {
  const date = localDateOf(parseTimestamp(block.timestamp), zone).toString();
  state.pending.push({
    fetchId: block.fetchId,
    fetchNumber: block.fetchNumber,
    date,
    timestamp: block.timestamp,
    records: block.records,
    start: block.start,
    end: block.end,
  });
  raiseCounter(state, date, block.fetchNumber);
  if (state.lastTimestamp === null || block.timestamp > state.lastTimestamp) state.lastTimestamp = block.timestamp;
}

/** The state once a fetch's block is durable in the log: pending, and the counter moved to it. Updated in place. */
export function applyLogged(
  state: StageState,
  fetch: Pick<PendingFetch, 'fetchId' | 'fetchNumber' | 'date' | 'timestamp' | 'records'>,
  bytes: number,
): StageState {
  // In place on purpose: copying the pending list per fetch would cost O(fetchLimit) on every log.
  const start = state.log.size;
  state.pending.push({ ...fetch, start, end: start + bytes });
  state.date = fetch.date;
  state.lastFetchNumber = fetch.fetchNumber;
  state.lastTimestamp = fetch.timestamp;
  state.log.size = start + bytes;
  return state;
}

/** The state once a day change is noticed (before the old day's fetches are uploaded). Updated in place. */
export function applyMidnight(state: StageState, midnight: { from: string; to: string }, at: string): StageState {
  state.lastMidnight = { at, ...midnight };
  state.counters.midnightTransitions++;
  return state;
}

/** Rotation is due by count (`fetchLimit` pending) or by age (`ageDueInMs` ≤ 0; undefined: off or none pending). */
export function rotationDue(pendingCount: number, fetchLimit: number, ageDueInMs: number | undefined): boolean {
  return pendingCount >= fetchLimit || (ageDueInMs ?? 1) <= 0;
}
