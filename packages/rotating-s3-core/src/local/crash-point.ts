/**
 * TEST-ONLY hook: when `ROTATING_S3_TEST_CRASH_AT` names a step, the process kills itself with SIGKILL
 * there, so the reliability suite can prove that every step boundary is crash-safe. Unset in production;
 * the check is one environment lookup. It is read at every step, never kept: the start-up snapshot's
 * warm-up runs these steps while the snapshot is built, and a kept value would be the build's.
 */

/** Named steps, in the order `log` and `flush` reach them. */
export type CrashStep =
  | 'log:before-append'
  | 'log:after-append'
  | 'log:after-state'
  | 'rotate:before-upload'
  | 'rotate:after-upload'
  | 'rotate:after-index'
  | 'rotate:after-trim';

export function crashPoint(step: CrashStep): void {
  if (process.env['ROTATING_S3_TEST_CRASH_AT'] === step) process.kill(process.pid, 'SIGKILL');
}
