/**
 * Rotation by age (`maxPendingAge`): a quiet stage uploads its pending fetches once the oldest has waited
 * that long, instead of waiting for `fetchLimit` fetches. The decision is a pure function of the oldest
 * pending timestamp, the current instant and the setting; `log` checks it on every call, an in-process
 * logger also arms a timer for the moment it becomes due.
 */
import { parseDuration } from '../time/duration.js';
import type { TimerHandle, Timers } from '../time/timers.js';
import { parseTimestamp, type Instant } from '../time/zone.js';

/**
 * Milliseconds until the oldest pending fetch has waited `maxAgeMs` (0 or less: due now); undefined when
 * the setting is off or nothing is pending.
 */
export function ageRotationDueInMs(oldestTimestamp: string | undefined, now: Instant, maxAgeMs: number | undefined): number | undefined {
  if (maxAgeMs === undefined || oldestTimestamp === undefined) return undefined;
  return parseTimestamp(oldestTimestamp).toEpochMilli() + maxAgeMs - now.toEpochMilli();
}

/** After a failed upload of fetches due by age, the timer retries after this long (or maxPendingAge if shorter). */
const AGE_RETRY_MS = 60_000;

/**
 * The one timer of an in-process logger for rotation by age: armed for the moment the oldest pending
 * fetch is due, it calls `flush` (which re-checks and re-arms); `cancel` on close.
 */
export class AgeRotationTimer {
  private handle: TimerHandle | undefined;
  private readonly maxAgeMs: number | undefined;

  constructor(
    private readonly o: {
      /** The setting as written (`15m`) and in milliseconds; undefined: off. */
      maxPendingAge: string | undefined;
      now: () => Instant;
      timers: Timers;
      flush: (olderThanMs: number) => Promise<unknown>;
      onError: (error: unknown) => void;
    },
  ) {
    this.maxAgeMs = o.maxPendingAge === undefined ? undefined : parseDuration(o.maxPendingAge);
  }

  /** Milliseconds until `oldestTimestamp` is due (≤ 0: now); undefined when off or nothing is pending. */
  dueInMs(oldestTimestamp: string | undefined): number | undefined {
    return ageRotationDueInMs(oldestTimestamp, this.o.now(), this.maxAgeMs);
  }

  /** Re-arms for the current oldest pending fetch; returns what `log` reports as `age_rotation`. */
  arm(oldestTimestamp: string | undefined): { max_pending_age: string; due_in_ms: number } | undefined {
    this.cancel();
    const due = this.dueInMs(oldestTimestamp);
    if (due === undefined) return undefined;
    const setting = this.maxAgeMs!;
    // Already due yet still pending means the upload failed: retry later rather than in a tight loop.
    const delay = due > 0 ? due : Math.min(setting, AGE_RETRY_MS);
    this.handle = this.o.timers.set(() => {
      this.handle = undefined;
      this.o.flush(setting).catch(this.o.onError);
    }, delay);
    return { max_pending_age: this.o.maxPendingAge!, due_in_ms: Math.max(0, due) };
  }

  cancel(): void {
    this.handle?.cancel();
    this.handle = undefined;
  }
}
