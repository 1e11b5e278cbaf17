/**
 * Time comes in through a js-joda Clock: production uses the system clock, tests and `--now` a fixed one.
 * Nothing in the engine calls `Date.now()` directly.
 */
import { Clock, Instant, ZoneOffset } from './joda.js';
import { InputError } from '../errors.js';

export { Clock };

/** The instants accepted: years 1970–9999 (UTC). Dates outside them have no `YYYY-MM-DD` form for keys and files. */
const MIN_MS = Date.UTC(1970, 0, 1);
const MAX_MS = Date.UTC(10000, 0, 1) - 1;

/** The system clock (UTC; the stage zone is applied where a local date is needed). */
export function systemClock(): Clock {
  return Clock.systemUTC();
}

/**
 * A clock stopped at the given ISO-8601 instant (`--now`), e.g. `2026-11-28T23:59:30-05:00` or `…Z`;
 * refuses instants outside the years 1970–9999 (UTC).
 */
export function fixedClock(iso: string): Clock {
  const instant = parseInstant(iso);
  const ms = instant.toEpochMilli();
  if (ms < MIN_MS || ms > MAX_MS) {
    throw new InputError(
      'E_USAGE',
      `--now "${iso}" is outside the years 1970-9999; use an instant from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z, e.g. 2026-11-29T04:59:30Z`,
    );
  }
  return Clock.fixed(instant, ZoneOffset.UTC);
}

/** Parses an ISO-8601 instant with an offset or `Z`; refuses local date-times, whose instant would be a guess. */
export function parseInstant(iso: string): Instant {
  const ms = /[zZ]$|[+-]\d\d:?\d\d$/.test(iso) ? Date.parse(iso) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new InputError('E_USAGE', `--now "${iso}" is not an ISO-8601 instant with an offset; use e.g. 2026-11-28T23:59:30-05:00 or 2026-11-29T04:59:30Z`);
  }
  return Instant.ofEpochMilli(ms);
}

/**
 * The wall clock in epoch milliseconds, for what is real time whatever `--now` says: a lock file's age
 * (its mtime is real), credential expiry, the time of an operational event. Everything that decides a
 * day or a number takes a `Clock` instead.
 */
export function wallClockMs(): number {
  return Date.now();
}

/** Epoch milliseconds as ISO-8601 UTC (`2026-11-28T19:03:11.512Z`). */
export function isoOfEpochMs(ms: number): string {
  return new Date(ms).toISOString();
}

/** `wallClockMs()` as ISO-8601 UTC, e.g. for event lines. */
export function wallClockIso(): string {
  return isoOfEpochMs(wallClockMs());
}

/**
 * A clock a test moves by hand (`set`), standing in for the wall clock, including backwards steps. Takes
 * the same instants as `--now` (an offset or `Z` is required).
 */
export class SettableClock extends Clock {
  private now: Instant;
  constructor(iso: string) {
    super();
    this.now = parseInstant(iso);
  }
  set(iso: string): this {
    this.now = parseInstant(iso);
    return this;
  }
  override instant(): Instant {
    return this.now;
  }
  override millis(): number {
    return this.now.toEpochMilli();
  }
  override zone() {
    return ZoneOffset.UTC;
  }
  override withZone(): Clock {
    return this;
  }
  override equals(other: unknown): boolean {
    return other === this;
  }
}
