/**
 * Human-readable renderings of `status` and `doctor`. The JSON forms (`--json`) carry the same data;
 * these only arrange it for a person: ages and countdowns next to absolute times, sizes in KiB/MiB.
 */
import type { DoctorCheck, DoctorReport } from '../doctor/types.js';
import { formatDuration } from '../doctor/types.js';
import type { StageStatus } from '../logger/types.js';
import type { StageMetrics } from '../metrics/metrics.js';
import type { S3Status } from './s3-status.js';
import { wallClockMs } from '../time/clock.js';

export type StatusView = StageStatus & { s3?: S3Status; metrics?: StageMetrics; metrics_file?: string };

function table(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n';
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** Seconds from `now` back to an ISO timestamp, or undefined when unknown. */
function ageOf(timestamp: string | null | undefined, nowSeconds: number): number | undefined {
  if (!timestamp) return undefined;
  const ms = Date.parse(timestamp);
  return Number.isNaN(ms) ? undefined : nowSeconds - ms / 1000;
}

function ago(timestamp: string, nowSeconds: number): string {
  const age = ageOf(timestamp, nowSeconds);
  if (age === undefined) return timestamp;
  return age >= 0 ? `${formatDuration(age)} ago (${timestamp})` : `${timestamp}, ${formatDuration(-age)} after now`;
}

export function renderStatus(status: StatusView): string {
  const now = status.metrics?.generated_timestamp_seconds ?? wallClockMs() / 1000;
  const toMidnight = -(ageOf(status.next_midnight, now) ?? 0);
  const pendingOld = status.pending_dates.filter((d) => d < status.date);
  const rows: Array<[string, string]> = [
    ['stage', `${status.stage} (${status.timezone})`],
    ['date', `${status.date} (local day of ${status.timezone})`],
    [
      'fetch number',
      status.fetch_number === 0 ? '0 (no fetch logged today yet)' : `${status.fetch_number} (fetches logged today; the next is ${status.fetch_number + 1})`,
    ],
    [
      'pending fetches',
      status.pending === 0
        ? `0 of ${status.fetch_limit} (nothing waiting for upload)`
        : (status.pending < status.fetch_limit
            ? `${status.pending} of ${status.fetch_limit} before the next rotation`
            : `${status.pending}, fetchLimit ${status.fetch_limit}: a rotation is overdue (see last error; the next log or flush retries)`) +
          `; oldest ${ago(status.oldest_pending!, now)}` +
          (pendingOld.length > 0 ? `; includes earlier day(s) ${pendingOld.join(', ')} — the next log or flush uploads them first` : ''),
    ],
    ['local file', `${status.local_file} (${formatBytes(status.local_file_bytes)})`],
    ['daily object', status.bucket ? `s3://${status.bucket}/${status.daily_key}` : `${status.daily_key} (no bucket configured)`],
    [
      'last upload',
      status.last_upload
        ? `#${status.last_upload.uploadSequence} of ${status.last_upload.date}, ${ago(status.last_upload.at, now)}: ${plural(status.last_upload.fetches, 'fetch', 'fetches')}, ${plural(status.last_upload.records, 'record')}`
        : 'none yet',
    ],
  ];
  if (status.s3) {
    const s3 = status.s3;
    rows.push([
      's3 today',
      s3.error
        ? `unavailable: ${s3.error.code} ${s3.error.message}`
        : s3.daily_object_exists
          ? `${plural(s3.total_uploads_today, 'upload')}, ${plural(s3.total_fetches_today, 'fetch', 'fetches')}, ${plural(s3.total_records_today, 'record')} in ${formatBytes(s3.size_bytes)}; last upload ${s3.last_upload ?? '-'}`
          : 'no daily object yet (created by the first upload of the day)',
    ]);
  } else if (status.bucket) {
    rows.push(['s3 today', 'not read (--local)']);
  }
  rows.push(['last error', status.last_error ? `${status.last_error.code}, ${ago(status.last_error.at, now)}: ${status.last_error.message}` : 'none']);
  rows.push(['next midnight', `${status.next_midnight} (in ${formatDuration(toMidnight)})`]);
  if (status.last_midnight) rows.push(['last midnight', `${status.last_midnight.from} → ${status.last_midnight.to}, ${ago(status.last_midnight.at, now)}`]);
  const m = status.metrics;
  rows.push([
    'totals',
    `${plural(status.counters.uploads, 'upload')}, ${plural(status.counters.uploadFailures, 'failed upload attempt')}${m ? `, ${plural(m.upload_retries_total, 'retry', 'retries')}, ${plural(m.upload_conflicts_total, 'write conflict')}` : ''}, ${plural(status.counters.midnightTransitions, 'midnight transition')}`,
  ]);
  if (status.quarantine_bytes > 0)
    rows.push([
      'quarantine',
      `${status.quarantine_file} (${formatBytes(status.quarantine_bytes)}): torn blocks set aside after a crash; inspect, then delete (docs/troubleshooting.md)`,
    ]);
  if (status.dead_letter_bytes > 0)
    rows.push([
      'dead letter',
      `${status.dead_letter_file} (${formatBytes(status.dead_letter_bytes)}): fetches that can never be uploaded, set aside so the others could go; inspect, then delete (docs/troubleshooting.md)`,
    ]);
  if (status.needs_repair) rows.push(['repair', 'the log changed after the last state write (a crash?); the next log or flush repairs it']);
  if (status.metrics_file) rows.push(['metrics file', status.metrics_file]);
  return table(rows);
}

const MARK: Record<DoctorCheck['status'], string> = { pass: '✓', fail: '✗', warn: '!', info: 'ℹ', skip: '-' };

export function renderDoctor(report: DoctorReport): string {
  const lines = report.checks.map((c) => `${MARK[c.status]} ${c.name}: ${c.detail}${c.fix ? `\n    fix: ${c.fix}` : ''}`);
  const count = (s: DoctorCheck['status']) => report.checks.filter((c) => c.status === s).length;
  const failed = count('fail');
  const extras = [count('warn') ? plural(count('warn'), 'warning') : '', count('skip') ? `${count('skip')} not run` : ''].filter(Boolean).join(', ');
  lines.push(failed === 0 && report.ok ? `all checks passed${extras ? ` (${extras})` : ''}` : `${failed} check(s) failed${extras ? `, ${extras}` : ''}`);
  return `${lines.join('\n')}\n`;
}
