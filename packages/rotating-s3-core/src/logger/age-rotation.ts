/**
 * Rotation by age (`maxPendingAge`): a quiet stage uploads its pending fetches once the oldest has waited
 * that long, instead of waiting for `fetchLimit` fetches. The decision is a pure function of the oldest
 * pending timestamp, the current instant and the setting; `log` checks it on every call, an in-process
 * logger also arms a timer for the moment it becomes due.
 */
import { parseTimestamp, type Instant } from '../time/zone.js';

/**
 * Milliseconds until the oldest pending fetch has waited `maxAgeMs` (0 or less: due now); undefined when
 * the setting is off or nothing is pending.
 */
export function ageRotationDueInMs(oldestTimestamp: string | undefined, now: Instant, maxAgeMs: number | undefined): number | undefined {
  if (maxAgeMs === undefined || oldestTimestamp === undefined) return undefined;
  return parseTimestamp(oldestTimestamp).toEpochMilli() + maxAgeMs - now.toEpochMilli();
}
