/**
 * The numbers an operator watches, one object per stage. The same object is printed under `metrics` by
 * `status --json` and rendered as Prometheus text by `prometheus.ts`: each field `x` is the metric
 * `rotating_s3_x{stage="…"}`, so a dashboard, an alert and a shell script read the same values.
 *
 * Sources, cheapest first: the stage's `status()` (state file and file sizes), the state file itself
 * (records of the pending fetches) and the events file, folded incrementally (events-tally.ts) for the
 * counters the state file does not keep. Nothing here contacts S3, so it can run after every `log`.
 * Timestamps are Unix seconds; a timestamp that never happened yet is 0 (documented per metric), so a
 * rule `time() - x > N` also fires for a stage that never did x.
 */
import type { Instant } from '@js-joda/core';
import type { StageConfig } from '../config/schema.js';
import { readState, statePath } from '../local/state.js';
import type { StageStatus } from '../logger/types.js';
import { LocalDate, resolveZone, startOfDay } from '../time/zone.js';
import { tallyEvents, type TallyOptions } from './events-tally.js';

export interface StageMetrics {
  stage: string;
  timezone: string;
  /** Local date (stage zone) the numbers of the `_today` fields belong to. */
  date: string;
  generated_timestamp_seconds: number;
  pending_fetches: number;
  fetch_limit: number;
  /** Local dates with pending fetches (more than 1: an old day's fetches still wait for upload). */
  pending_dates: number;
  oldest_pending_timestamp_seconds: number;
  oldest_pending_age_seconds: number;
  last_fetch_timestamp_seconds: number;
  fetches_today: number;
  records_today: number;
  uploads_today: number;
  uploaded_fetches_today: number;
  uploaded_records_today: number;
  uploads_total: number;
  upload_failures_total: number;
  upload_conflicts_total: number;
  upload_retries_total: number;
  uploads_already_applied_total: number;
  uploaded_fetches_total: number;
  uploaded_records_total: number;
  upload_failures_by_code_total: Record<string, number>;
  last_upload_timestamp_seconds: number;
  last_upload_sequence: number;
  last_error_timestamp_seconds: number;
  midnight_transitions_total: number;
  last_midnight_timestamp_seconds: number;
  day_start_timestamp_seconds: number;
  next_midnight_timestamp_seconds: number;
  local_file_bytes: number;
  quarantine_bytes: number;
  needs_repair: number;
  repairs_total: number;
  quarantined_segments_total: number;
  dead_letter_bytes: number;
  dead_lettered_fetches_total: number;
}

export type MetricName = Exclude<keyof StageMetrics, 'stage' | 'timezone' | 'date'>;

export interface MetricDescriptor {
  name: MetricName;
  type: 'gauge' | 'counter';
  help: string;
  /** Label of the breakdown when the value is a `Record<label value, number>`. */
  label?: string;
}

const FROM_EVENTS = 'counted from <stage>_events.jsonl: the state file has no such counter';

/** Every metric, in output order. HELP texts are one line (Prometheus text format). */
export const METRICS: readonly MetricDescriptor[] = [
  {
    name: 'generated_timestamp_seconds',
    type: 'gauge',
    help: 'When these numbers were computed (after a log, flush or status): alert on staleness with time() - this.',
  },
  { name: 'pending_fetches', type: 'gauge', help: 'Fetches in the local file waiting for upload.' },
  { name: 'fetch_limit', type: 'gauge', help: 'Fetches per rotation (fetchLimit): a rotation is due when pending_fetches reaches it.' },
  { name: 'pending_dates', type: 'gauge', help: 'Local dates among the pending fetches; above 1 an earlier day still waits for its upload.' },
  { name: 'oldest_pending_timestamp_seconds', type: 'gauge', help: 'Timestamp of the oldest pending fetch; 0 when nothing is pending.' },
  { name: 'oldest_pending_age_seconds', type: 'gauge', help: 'Age of the oldest pending fetch when the numbers were computed; 0 when nothing is pending.' },
  { name: 'last_fetch_timestamp_seconds', type: 'gauge', help: 'Timestamp of the latest fetch logged; 0 before the first.' },
  { name: 'fetches_today', type: 'gauge', help: 'Fetches logged on the current local day (the daily fetch number); resets at local midnight.' },
  {
    name: 'records_today',
    type: 'gauge',
    help: 'Records of the fetches of the current local day, uploaded (by this host) or pending; resets at local midnight.',
  },
  { name: 'uploads_today', type: 'gauge', help: `Uploads this host appended to the current day's daily object (${FROM_EVENTS}).` },
  { name: 'uploaded_fetches_today', type: 'gauge', help: `Fetches this host uploaded into the current day's daily object (${FROM_EVENTS}).` },
  { name: 'uploaded_records_today', type: 'gauge', help: `Records this host uploaded into the current day's daily object (${FROM_EVENTS}).` },
  { name: 'uploads_total', type: 'counter', help: 'Successful uploads (rotations and flushes) since the state file was created.' },
  { name: 'upload_failures_total', type: 'counter', help: 'Failed upload attempts; the fetches stayed local and are retried by the next log or flush.' },
  {
    name: 'upload_conflicts_total',
    type: 'counter',
    help: `Conditional-write conflicts survived by uploads (another writer changed the daily object; ${FROM_EVENTS}).`,
  },
  { name: 'upload_retries_total', type: 'counter', help: `Upload attempts for a date whose previous attempt had failed (${FROM_EVENTS}).` },
  {
    name: 'uploads_already_applied_total',
    type: 'counter',
    help: `Uploads that found their fetches already in S3 after an ambiguous failure (${FROM_EVENTS}).`,
  },
  { name: 'uploaded_fetches_total', type: 'counter', help: `Fetches appended to daily objects by this host (${FROM_EVENTS}).` },
  { name: 'uploaded_records_total', type: 'counter', help: `Records appended to daily objects by this host (${FROM_EVENTS}).` },
  {
    name: 'upload_failures_by_code_total',
    type: 'counter',
    help: `Failed upload attempts by error code, see docs/troubleshooting.md (${FROM_EVENTS}).`,
    label: 'code',
  },
  { name: 'last_upload_timestamp_seconds', type: 'gauge', help: 'Time of the last successful upload; 0 before the first.' },
  { name: 'last_upload_sequence', type: 'gauge', help: 'upload_sequence of the last successful upload in its daily object; 0 before the first.' },
  {
    name: 'last_error_timestamp_seconds',
    type: 'gauge',
    help: 'Time of the last upload error still unresolved (cleared by the next successful upload); 0 when none.',
  },
  { name: 'midnight_transitions_total', type: 'counter', help: 'Local midnights the stage crossed (numbering restarted at 1).' },
  {
    name: 'last_midnight_timestamp_seconds',
    type: 'gauge',
    help: 'Time of the last midnight transition (the first fetch of a new local day); 0 before the first.',
  },
  {
    name: 'day_start_timestamp_seconds',
    type: 'gauge',
    help: 'Start of the local day the fetch counter is on: more than ~25 h ago means no midnight transition happened.',
  },
  { name: 'next_midnight_timestamp_seconds', type: 'gauge', help: 'Next local midnight of the stage timezone.' },
  { name: 'local_file_bytes', type: 'gauge', help: 'Size of the local bookended file.' },
  { name: 'quarantine_bytes', type: 'gauge', help: 'Size of the quarantine file (torn blocks set aside after a crash); inspect and delete it.' },
  { name: 'needs_repair', type: 'gauge', help: '1 when the log changed after the last state write (a crash); the next log or flush repairs it.' },
  { name: 'repairs_total', type: 'counter', help: `Repairs of the local state after a crash (${FROM_EVENTS}).` },
  { name: 'quarantined_segments_total', type: 'counter', help: `Torn segments moved to the quarantine file (${FROM_EVENTS}).` },
  { name: 'dead_letter_bytes', type: 'gauge', help: 'Size of the dead-letter file (fetches that can never be uploaded, set aside); inspect and delete it.' },
  {
    name: 'dead_lettered_fetches_total',
    type: 'counter',
    help: `Pending fetches moved to the dead-letter file because they can never be uploaded (${FROM_EVENTS}).`,
  },
];

function seconds(timestamp: string | null | undefined): number {
  if (!timestamp) return 0;
  const ms = Date.parse(timestamp);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

/**
 * Computes the metrics of one stage from its status (as returned by `StageLogger.status()`), its state
 * file and its events file, at the instant `now`.
 */
export async function collectStageMetrics(config: StageConfig, status: StageStatus, now: Instant, options: TallyOptions = {}): Promise<StageMetrics> {
  const nowSeconds = Math.floor(now.toEpochMilli() / 1000);
  // status() does not carry per-fetch records; the state file does (it is read without the lock, like status()).
  const state = await readState(statePath(config.localDir, config.stage)).catch(() => undefined);
  const tally = await tallyEvents(config.localDir, config.stage, options);
  const today = tally.byDate[status.date] ?? { uploads: 0, fetches: 0, records: 0 };
  const pendingToday = (state?.pending ?? []).filter((p) => p.date === status.date).reduce((n, p) => n + p.records, 0);
  const oldest = seconds(status.oldest_pending);
  const zone = resolveZone(config.timezone);
  const counterDay = state?.date ?? status.date;

  return {
    stage: status.stage,
    timezone: status.timezone,
    date: status.date,
    generated_timestamp_seconds: nowSeconds,
    pending_fetches: status.pending,
    fetch_limit: status.fetch_limit,
    pending_dates: status.pending_dates.length,
    oldest_pending_timestamp_seconds: oldest,
    oldest_pending_age_seconds: oldest === 0 ? 0 : Math.max(0, nowSeconds - oldest),
    last_fetch_timestamp_seconds: seconds(state?.lastTimestamp),
    fetches_today: status.fetch_number,
    records_today: today.records + pendingToday,
    uploads_today: today.uploads,
    uploaded_fetches_today: today.fetches,
    uploaded_records_today: today.records,
    uploads_total: status.counters.uploads,
    upload_failures_total: status.counters.uploadFailures,
    upload_conflicts_total: tally.conflicts,
    upload_retries_total: tally.retries,
    uploads_already_applied_total: tally.alreadyApplied,
    uploaded_fetches_total: tally.uploadedFetches,
    uploaded_records_total: tally.uploadedRecords,
    upload_failures_by_code_total: { ...tally.failuresByCode },
    last_upload_timestamp_seconds: seconds(status.last_upload?.at),
    last_upload_sequence: status.last_upload?.uploadSequence ?? 0,
    last_error_timestamp_seconds: seconds(status.last_error?.at),
    midnight_transitions_total: status.counters.midnightTransitions,
    last_midnight_timestamp_seconds: seconds(status.last_midnight?.at),
    day_start_timestamp_seconds: Math.floor(startOfDay(LocalDate.parse(counterDay), zone).toEpochMilli() / 1000),
    next_midnight_timestamp_seconds: seconds(status.next_midnight),
    local_file_bytes: status.local_file_bytes,
    quarantine_bytes: status.quarantine_bytes,
    needs_repair: status.needs_repair ? 1 : 0,
    repairs_total: tally.repairs,
    quarantined_segments_total: tally.quarantinedSegments,
    dead_letter_bytes: status.dead_letter_bytes,
    dead_lettered_fetches_total: tally.deadLettered,
  };
}
