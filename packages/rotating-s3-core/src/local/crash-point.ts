/**
 * TEST-ONLY hook: when `ROTATING_S3_TEST_CRASH_AT` names a step, the process kills itself with SIGKILL
 * there, so the reliability suite can prove that every step boundary is crash-safe. Unset in production;
 * the check is one string comparison.
 */
const target = process.env['ROTATING_S3_TEST_CRASH_AT'];

/** Named steps, in the order `log` and `flush` reach them. */
export type CrashStep =
  'log:before-append' | 'log:after-append' | 'log:after-state' | 'rotate:before-upload' | 'rotate:after-upload' | 'rotate:after-index' | 'rotate:after-trim';

export function crashPoint(step: CrashStep): void {
  if (target === step) process.kill(process.pid, 'SIGKILL');
}
