import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['1s', 1_000],
    ['90s', 90_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['7d', 604_800_000],
    [' 15m ', 900_000],
  ])('reads %j as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '15', 'm', '15min', '1.5h', '-5m', '0s', '015m', '15M', 'PT15M', '8d', '1000000s', '15m30s'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
