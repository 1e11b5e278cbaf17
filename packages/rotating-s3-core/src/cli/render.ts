/** Human-readable renderings of `status` and `doctor` (the JSON forms carry the same data). */
import type { DoctorReport } from '../doctor/doctor.js';
import type { StageStatus } from '../logger/stage-logger.js';
import type { S3Status } from './s3-status.js';

function table(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n';
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

export function renderStatus(status: StageStatus & { s3?: S3Status }): string {
  const rows: Array<[string, string]> = [
    ['stage', `${status.stage} (${status.timezone})`],
    ['date', status.date],
    ['fetch number', String(status.fetch_number)],
    ['pending fetches', `${status.pending} of ${status.fetch_limit}${status.oldest_pending ? `, oldest ${status.oldest_pending}` : ''}${status.pending_dates.length > 1 ? ` (dates ${status.pending_dates.join(', ')})` : ''}`],
    ['local file', `${status.local_file} (${bytes(status.local_file_bytes)})`],
    ['daily object', status.bucket ? `s3://${status.bucket}/${status.daily_key}` : `${status.daily_key} (no bucket configured)`],
    ['last upload', status.last_upload ? `#${status.last_upload.uploadSequence} at ${status.last_upload.at} (${status.last_upload.fetches} fetches, ${status.last_upload.records} records) → ${status.last_upload.key}` : 'none yet'],
    ['last error', status.last_error ? `${status.last_error.code} at ${status.last_error.at}: ${status.last_error.message}` : 'none'],
    ['next midnight', status.next_midnight],
  ];
  if (status.last_midnight) rows.push(['last midnight', `${status.last_midnight.from} → ${status.last_midnight.to} at ${status.last_midnight.at}`]);
  if (status.quarantine_bytes > 0) rows.push(['quarantine', `${status.quarantine_file} (${bytes(status.quarantine_bytes)}) — torn blocks set aside, see docs/troubleshooting.md`]);
  if (status.needs_repair) rows.push(['repair', 'the log changed after the last state write (crash?); the next log or flush repairs it']);
  if (status.s3) {
    rows.push(
      status.s3.error
        ? ['s3 today', `unavailable: ${status.s3.error.code} ${status.s3.error.message}`]
        : ['s3 today', status.s3.daily_object_exists ? `${status.s3.total_uploads_today} uploads, ${status.s3.total_fetches_today} fetches, ${status.s3.total_records_today} records (last ${status.s3.last_upload})` : 'no daily object yet'],
    );
  }
  return table(rows);
}

export function renderDoctor(report: DoctorReport): string {
  const lines = report.checks.map((c) => (c.ok ? `✓ ${c.name}: ${c.detail}` : `✗ ${c.name}: ${c.detail}\n    fix: ${c.fix}`));
  lines.push(report.ok ? 'all checks passed' : `${report.checks.filter((c) => !c.ok).length} check(s) failed`);
  return `${lines.join('\n')}\n`;
}
