/**
 * Counters the state file does not keep (conflicts, retries, uploaded fetches and records, failures by
 * code, repairs), folded from the operational log `<localDir>/<stage>_events.jsonl` (logger/ops-log.ts).
 *
 * The fold is incremental: `<localDir>/<stage>_metrics_cursor.json` caches the totals together with the
 * byte offset (and inode) of the events file they cover, so each call reads only the events appended
 * since. The cursor is a cache, never a source of truth:
 * - it is written atomically without fsync; a lost or unreadable cursor means one full re-read;
 * - the totals always belong to exactly the offset stored beside them, so two processes racing on the
 *   cursor can only leave an older consistent pair behind, never a double count;
 * - an events file that was rotated (other inode) or truncated (smaller than the offset, or different bytes
 *   before the offset: `copytruncate` and regrown) is read again from its start and added on top: the
 *   totals keep growing, like a Prometheus counter.
 * Only complete lines are consumed; a line still being appended is read on the next call.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { eventsPath } from '../logger/ops-log.js';
import { loadWriteFileAtomic } from '../runtime/lazy-packages.js';

/** Uploads, fetches and records of one local date, as uploaded by this host. */
export interface DayTally {
  uploads: number;
  fetches: number;
  records: number;
}

export interface EventTally {
  /** Conditional-write conflicts survived by uploads (each one re-read the daily object and tried again). */
  conflicts: number;
  /** Upload attempts for a date whose previous attempt had failed (successful or not). */
  retries: number;
  /** Uploads that found their fetches already in S3 (an earlier, ambiguous attempt had been applied). */
  alreadyApplied: number;
  /** Fetches and records appended to daily objects (`uploaded` events). */
  uploadedFetches: number;
  uploadedRecords: number;
  /** `upload_failed` events by error code (E_S3_UNREACHABLE, E_S3_AUTH, …). */
  failuresByCode: Record<string, number>;
  /** `repaired` events: the log had changed after the last state write (a crash). */
  repairs: number;
  /** Torn segments moved to the quarantine file, and their bytes. */
  quarantinedSegments: number;
  quarantinedBytes: number;
  /** Pending fetches moved to the dead-letter file (`dead_lettered` events). */
  deadLettered: number;
  /** Per local date (the most recent `KEPT_DATES` only). */
  byDate: Record<string, DayTally>;
  /** Dates whose last upload attempt failed: the next attempt for them counts as a retry. */
  failingDates: string[];
}

interface Cursor {
  version: 1;
  /** `tail`: the bytes just before `offset` (base64), to notice a file truncated and regrown past the offset. */
  events: { ino: number; offset: number; tail?: string };
  tally: EventTally;
}

const KEPT_DATES = 4;
const CHUNK = 1024 * 1024;
const TAIL = 64;

export function emptyTally(): EventTally {
  return {
    conflicts: 0,
    retries: 0,
    alreadyApplied: 0,
    uploadedFetches: 0,
    uploadedRecords: 0,
    failuresByCode: {},
    repairs: 0,
    quarantinedSegments: 0,
    quarantinedBytes: 0,
    deadLettered: 0,
    byDate: {},
    failingDates: [],
  };
}

export function metricsCursorPath(localDir: string, stage: string): string {
  return join(localDir, `${stage}_metrics_cursor.json`);
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** Adds one event (a parsed line of the events file) to `tally`. Pure apart from mutating `tally`. */
export function applyEvent(tally: EventTally, event: Record<string, unknown>): void {
  const date = typeof event['date'] === 'string' ? event['date'] : undefined;
  const wasFailing = date !== undefined && tally.failingDates.includes(date);
  switch (event['event']) {
    case 'uploaded':
    case 'upload_already_applied': {
      tally.conflicts += num(event['conflicts']);
      if (wasFailing) {
        tally.retries++;
        tally.failingDates = tally.failingDates.filter((d) => d !== date);
      }
      if (event['event'] === 'upload_already_applied') {
        tally.alreadyApplied++;
        break;
      }
      const fetches = num(event['fetches']);
      const records = num(event['records']);
      tally.uploadedFetches += fetches;
      tally.uploadedRecords += records;
      if (date !== undefined) {
        const day = (tally.byDate[date] ??= { uploads: 0, fetches: 0, records: 0 });
        day.uploads++;
        day.fetches += fetches;
        day.records += records;
        const dates = Object.keys(tally.byDate).sort();
        for (const old of dates.slice(0, Math.max(0, dates.length - KEPT_DATES))) delete tally.byDate[old];
      }
      break;
    }
    case 'upload_failed': {
      const code = typeof event['code'] === 'string' ? event['code'] : 'E_S3';
      tally.failuresByCode[code] = (tally.failuresByCode[code] ?? 0) + 1;
      if (wasFailing) tally.retries++;
      else if (date !== undefined) tally.failingDates.push(date);
      break;
    }
    case 'repaired':
      tally.repairs++;
      break;
    case 'dead_lettered':
      tally.deadLettered++;
      break;
    case 'quarantined':
      tally.quarantinedSegments++;
      tally.quarantinedBytes += num(event['bytes']);
      break;
    default:
      break;
  }
}

function parseCursor(text: string): Cursor | undefined {
  try {
    const value = JSON.parse(text) as Cursor;
    if (value?.version !== 1 || typeof value.events?.offset !== 'number' || typeof value.tally?.conflicts !== 'number') return undefined;
    return { ...value, tally: { ...emptyTally(), ...value.tally } };
  } catch {
    return undefined;
  }
}

export interface TallyOptions {
  /** Save the advanced cursor (the metrics writer does; a read-only `status` may too, errors ignored). Default: true. */
  saveCursor?: boolean;
}

/** Folds the events appended since the cached cursor and returns the up-to-date totals. */
export async function tallyEvents(localDir: string, stage: string, options: TallyOptions = {}): Promise<EventTally> {
  const cursorFile = metricsCursorPath(localDir, stage);
  const cached = parseCursor(await readFile(cursorFile, 'utf8').catch(() => ''));
  const tally = cached?.tally ?? emptyTally();
  const file = eventsPath(localDir, stage);
  const info = await stat(file).catch(() => undefined);
  if (!info) return tally;

  const handle = await open(file, 'r');
  let offset = 0;
  try {
    if (cached !== undefined && cached.events.ino === info.ino && cached.events.offset <= info.size) {
      const expected = Buffer.from(cached.events.tail ?? '', 'base64');
      const actual = Buffer.alloc(expected.length);
      await handle.read(actual, 0, expected.length, cached.events.offset - expected.length);
      if (actual.equals(expected)) offset = cached.events.offset;
    }
    if (offset === info.size) return tally;

    let carry = Buffer.alloc(0);
    let position = offset;
    while (position < info.size) {
      const chunk = Buffer.alloc(Math.min(CHUNK, info.size - position));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const bytes = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      const lastNewline = bytes.lastIndexOf(0x0a);
      if (lastNewline < 0) {
        carry = bytes;
        continue;
      }
      for (const line of bytes.subarray(0, lastNewline).toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        try {
          const event = JSON.parse(line) as unknown;
          if (event !== null && typeof event === 'object' && !Array.isArray(event)) applyEvent(tally, event as Record<string, unknown>);
        } catch {
          // A damaged line (e.g. a disk-full partial write) is skipped: the events file is diagnostics.
        }
      }
      // `bytes` ends at `position`: the first unconsumed byte is the one after the last newline.
      offset = position - (bytes.length - lastNewline - 1);
      carry = Buffer.from(bytes.subarray(lastNewline + 1));
    }
    if (options.saveCursor ?? true) {
      const tail = Buffer.alloc(Math.min(TAIL, offset));
      await handle.read(tail, 0, tail.length, offset - tail.length);
      await saveCursor(cursorFile, { version: 1, events: { ino: info.ino, offset, tail: tail.toString('base64') }, tally });
    }
  } finally {
    await handle.close();
  }
  return tally;
}

/** A cache: no fsync (a lost cursor costs one full re-read); readable by the owner only, like the events file. */
async function saveCursor(cursorFile: string, cursor: Cursor): Promise<void> {
  const writeFileAtomic = await loadWriteFileAtomic();
  await writeFileAtomic(cursorFile, `${JSON.stringify(cursor)}\n`, { fsync: false, mode: 0o600 }).catch(() => undefined);
}
