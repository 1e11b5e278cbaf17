/** The result types of `doctor` and small helpers shared by its checks. */
import { maskUrlCredentials } from '../s3/endpoint-text.js';

/**
 * - `pass` ✓ and `fail` ✗ (with a fix): what `doctor` is for; any `fail` makes it exit 1.
 * - `warn` !: works, but something deserves attention (with a fix); does not fail `doctor`.
 * - `info` ℹ: context for the reader (runtime versions, which append guard the endpoint needs).
 * - `skip` -: not run because an earlier check failed (e.g. no probes without a reachable bucket).
 */
export type CheckStatus = 'pass' | 'fail' | 'warn' | 'info' | 'skip';

export interface DoctorCheck {
  name: string;
  /** False for `fail` and `skip`. */
  ok: boolean;
  status: CheckStatus;
  detail: string;
  /** How to fix it; present for `fail` and `warn`. */
  fix?: string;
}

export interface DoctorReport {
  /** True when no check failed or was skipped: `doctor` exits 0. */
  ok: boolean;
  checks: DoctorCheck[];
}

export function check(name: string, status: CheckStatus, detail: string, fix?: string): DoctorCheck {
  // Details quote endpoints and SDK messages: never print credentials from an endpoint URL.
  const result: DoctorCheck = { name, ok: status !== 'fail' && status !== 'skip', status, detail: maskUrlCredentials(detail) };
  if (fix !== undefined && (status === 'fail' || status === 'warn')) result.fix = maskUrlCredentials(fix);
  return result;
}

/** `45s`, `3m 12s`, `2h 05m`, `3d 4h`. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}
