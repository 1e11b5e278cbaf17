/**
 * TEST-ONLY hook of the consumer, like local/crash-point.ts for the writer: when
 * `ROTATING_S3_TEST_CRASH_AT` names a consumer step the process kills itself with SIGKILL there, so tests
 * can prove that a killed run loses and doubles nothing. `consume:after-emit:<n>` waits for the n-th
 * delivered record (default 1). Unset in production: the check is one comparison.
 */
export type ConsumerCrashStep = 'consume:after-emit' | 'consume:after-run-files' | 'consume:before-commit' | 'consume:after-commit';

const match = /^(consume:[a-z-]+)(?::(\d+))?$/.exec(process.env['ROTATING_S3_TEST_CRASH_AT'] ?? '');
const step = match?.[1];
let remaining = match?.[2] === undefined ? 1 : Number(match[2]);

export function consumerCrashPoint(at: ConsumerCrashStep): void {
  if (step !== at) return;
  remaining--;
  if (remaining <= 0) process.kill(process.pid, 'SIGKILL');
}
