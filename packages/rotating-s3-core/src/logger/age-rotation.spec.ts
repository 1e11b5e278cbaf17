import { Instant } from '@js-joda/core';
import { describe, expect, it } from 'vitest';
import { ageRotationDueInMs } from './age-rotation.js';

const now = Instant.parse('2026-11-28T20:00:00Z');
const FIFTEEN_MINUTES = 15 * 60_000;

describe('rotation by age', () => {
  it.each([
    ['off: no setting', '2026-11-28T14:00:00.000-05:00', undefined, undefined],
    ['nothing pending', undefined, FIFTEEN_MINUTES, undefined],
    ['oldest logged just now: the full age to go', '2026-11-28T15:00:00.000-05:00', FIFTEEN_MINUTES, FIFTEEN_MINUTES],
    ['oldest 10 minutes old: 5 minutes to go', '2026-11-28T14:50:00.000-05:00', FIFTEEN_MINUTES, 5 * 60_000],
    ['oldest exactly 15 minutes old: due', '2026-11-28T14:45:00.000-05:00', FIFTEEN_MINUTES, 0],
    ['oldest a day old: overdue', '2026-11-27T15:00:00.000-05:00', FIFTEEN_MINUTES, -(86_400_000 - FIFTEEN_MINUTES)],
    ['offsets do not matter, instants do', '2026-11-28T20:50:00.000+01:00', FIFTEEN_MINUTES, 5 * 60_000],
  ])('%s', (_name, oldest, maxAgeMs, expected) => {
    expect(ageRotationDueInMs(oldest, now, maxAgeMs)).toBe(expected);
  });
});
