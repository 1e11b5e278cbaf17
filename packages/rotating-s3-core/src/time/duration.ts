/**
 * Durations as users write them in config, environment and CLI: a whole number and a unit, `90s`, `15m`,
 * `2h`, `1d`. One parser for every place that takes one (`maxPendingAge`, `flush --if-older-than`).
 */

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^([1-9][0-9]{0,6})(s|m|h|d)$/;

/** Shortest and longest accepted duration: 1 s, 7 days (a day's fetches are uploaded at midnight anyway). */
export const MIN_DURATION_MS = 1_000;
export const MAX_DURATION_MS = 7 * 86_400_000;

/** Milliseconds of `text` (`15m` → 900000), or undefined when it is not a duration in range. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return ms >= MIN_DURATION_MS && ms <= MAX_DURATION_MS ? ms : undefined;
}

/** What an error about a bad duration suggests. */
export const DURATION_HINT = 'a whole number and a unit s, m, h or d, from 1s to 7d, e.g. "15m"';
