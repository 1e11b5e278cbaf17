/**
 * What `status` reports, as a pure function of the stage state, the clock and what the local files
 * look like: the counter's day never moves backwards (like `planFetch`), so before the first fetch of a
 * day the number shown is 0.
 */
import type { Instant } from '@js-joda/core';
import type { StageConfig } from '../config/schema.js';
import type { StageState } from '../local/state.js';
import { dailyObjectKey } from '../s3/daily-object.js';
import { LocalDate, formatTimestamp, localDateOf, startOfDay, type ZoneId } from '../time/zone.js';
import type { StageStatus } from './types.js';

export interface StatusInput {
  config: StageConfig;
  state: StageState;
  now: Instant;
  zone: ZoneId;
  /** Paths of the stage's local files. */
  files: { log: string; quarantine: string; deadLetter: string; state: string };
  /** The log's identity (undefined when missing) and the sizes of the side files. */
  found: { log: { size: number; ino: number } | undefined; quarantineBytes: number; deadLetterBytes: number };
}

export function describeStatus({ config, state, now, zone, files, found }: StatusInput): StageStatus {
  const today = localDateOf(now, zone).toString();
  const date = state.date !== null && state.date > today ? state.date : today;
  const log = found.log;
  return {
    stage: config.stage,
    timezone: config.timezone,
    date,
    fetch_number: state.date === date ? state.lastFetchNumber : 0,
    pending: state.pending.length,
    oldest_pending: state.pending[0]?.timestamp ?? null,
    pending_dates: [...new Set(state.pending.map((p) => p.date))],
    fetch_limit: config.fetchLimit,
    local_file: files.log,
    local_file_bytes: log?.size ?? 0,
    quarantine_file: files.quarantine,
    quarantine_bytes: found.quarantineBytes,
    dead_letter_file: files.deadLetter,
    dead_letter_bytes: found.deadLetterBytes,
    state_file: files.state,
    daily_key: dailyObjectKey(config.prefix, config.stage, date),
    bucket: config.bucket ?? null,
    last_upload: state.lastUpload,
    last_error: state.lastError,
    last_midnight: state.lastMidnight,
    counters: state.counters,
    next_midnight: formatTimestamp(startOfDay(LocalDate.parse(date).plusDays(1), zone), zone),
    needs_repair: (log?.size ?? 0) !== state.log.size || (log !== undefined && state.log.ino !== 0 && log.ino !== state.log.ino),
  };
}
