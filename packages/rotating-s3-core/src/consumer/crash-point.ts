/**
 * TEST-ONLY hook of the consumer, like local/crash-point.ts for the writer: when
 * `ROTATING_S3_TEST_CRASH_AT` names a consumer step the process kills itself with SIGKILL there, so tests
 * can prove that a killed run loses and doubles nothing. `consume:after-emit:<n>` waits for the n-th
 * delivered record (default 1). Unset in production: the check is one comparison.
 */
export type ConsumerCrashStep = 'consume:after-emit' | 'consume:before-commit' | 'consume:after-commit';

/** Parsed at the first step after the variable changed, never at load (see local/crash-point.ts). */
let plan: { target: string | undefined; step: string | undefined; remaining: number } | undefined;

export function consumerCrashPoint(at: ConsumerCrashStep): void {
  const target = process.env['ROTATING_S3_TEST_CRASH_AT'];
  if (!plan || plan.target !== target) {
    const match = target === undefined ? null : /^(consume:[a-z-]+)(?::(\d+))?$/.exec(target);
    plan = { target, step: match?.[1], remaining: match?.[2] === undefined ? 1 : Number(match[2]) };
  }
  if (plan.step !== at) return;
  plan.remaining--;
  if (plan.remaining <= 0) process.kill(process.pid, 'SIGKILL');
}
