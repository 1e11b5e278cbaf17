import { describe, expect, it } from 'vitest';
import { fixedClock, parseInstant } from './clock.js';
import { Instant } from './joda.js';
import { LocalDate, formatTimestamp, localDateOf, localView, parseTimestamp, resolveZone, startOfDay } from './zone.js';

describe('stage timezone', () => {
  it('leaves Intl.DateTimeFormat as it was after loading the timezone plugin without it', () => {
    const before = Intl.DateTimeFormat;
    resolveZone('Asia/Tokyo');
    expect(Intl.DateTimeFormat).toBe(before);
    expect(new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', year: 'numeric' }).format(new Date(0))).toBe('1970');
  });

  it('formats timestamps with millis and the zone offset of that instant', () => {
    const ny = resolveZone('America/New_York');
    expect(formatTimestamp(parseInstant('2026-11-28T19:03:11Z'), ny)).toBe('2026-11-28T14:03:11.000-05:00');
    expect(formatTimestamp(parseInstant('2026-07-01T12:00:00.5Z'), ny)).toBe('2026-07-01T08:00:00.500-04:00');
    expect(formatTimestamp(parseInstant('2026-07-01T12:00:00Z'), resolveZone('UTC'))).toBe('2026-07-01T12:00:00.000+00:00');
  });

  it('puts an instant on the local date of the stage zone, not of UTC', () => {
    const ny = resolveZone('America/New_York');
    expect(localDateOf(parseInstant('2026-11-29T04:59:59.999Z'), ny).toString()).toBe('2026-11-28');
    expect(localDateOf(parseInstant('2026-11-29T05:00:00Z'), ny).toString()).toBe('2026-11-29');
    const view = localView(parseInstant('2026-11-29T04:59:59.999Z'), ny);
    expect([view.date, view.timestamp]).toEqual(['2026-11-28', '2026-11-28T23:59:59.999-05:00']);
  });

  it('gives the same local date and timestamp on the per-fetch path as js-joda formatting, across transitions', () => {
    // localView computes the text from the offset with Date arithmetic; formatTimestamp/localDateOf build a
    // ZonedDateTime. Sweep every transition-prone pattern: DST both ways, negative DST (Dublin), half-hour
    // DST (Lord Howe), 45-minute offsets (Chatham), a skipped calendar day (Apia, 2011-12-30), an offset
    // with seconds (Amsterdam before 1937), and instants a millisecond around each hour boundary.
    const zones = [
      'America/New_York',
      'Europe/London',
      'Europe/Dublin',
      'Australia/Lord_Howe',
      'Pacific/Chatham',
      'Asia/Kolkata',
      'America/St_Johns',
      'Pacific/Apia',
      'Europe/Amsterdam',
      'America/Santiago',
      'UTC',
    ];
    const starts = [
      '1900-01-01T00:00:00Z',
      '1930-06-01T00:00:00Z',
      '2011-12-25T00:00:00Z',
      '2026-03-01T00:00:00Z',
      '2026-10-01T00:00:00Z',
      '2037-03-01T00:00:00Z',
    ];
    let compared = 0;
    for (const name of zones) {
      const zone = resolveZone(name);
      for (const start of starts) {
        const from = parseInstant(start).toEpochMilli();
        // 45 days of quarter hours, each at -1, 0 and +1 ms, catch every transition in the window.
        for (let t = from; t < from + 45 * 86_400_000; t += 15 * 60_000) {
          for (const ms of [t - 1, t, t + 1]) {
            const instant = Instant.ofEpochMilli(ms);
            const view = localView(instant, zone);
            if (view.timestamp !== formatTimestamp(instant, zone) || view.date !== localDateOf(instant, zone).toString()) {
              expect({ zone: name, instant: instant.toString(), ...view }).toEqual({
                zone: name,
                instant: instant.toString(),
                date: localDateOf(instant, zone).toString(),
                timestamp: formatTimestamp(instant, zone),
              });
            }
            compared++;
          }
        }
      }
    }
    expect(compared).toBe(zones.length * starts.length * 45 * 96 * 3);
  });

  it('finds the start of a day whose midnight is skipped by DST (Chile, 2026-09-06 starts at 01:00)', () => {
    const santiago = resolveZone('America/Santiago');
    const start = startOfDay(LocalDate.parse('2026-09-06'), santiago);
    expect(formatTimestamp(start, santiago)).toBe('2026-09-06T01:00:00.000-03:00');
    expect(localDateOf(start.minusMillis(1), santiago).toString()).toBe('2026-09-05');
  });

  it('keeps one date through a repeated hour (New York, 2026-11-01 01:00-02:00 twice)', () => {
    const ny = resolveZone('America/New_York');
    expect(localDateOf(parseInstant('2026-11-01T05:30:00Z'), ny).toString()).toBe('2026-11-01');
    expect(localDateOf(parseInstant('2026-11-01T06:30:00Z'), ny).toString()).toBe('2026-11-01');
  });

  it('round-trips a contract timestamp', () => {
    const ny = resolveZone('America/New_York');
    const instant = parseInstant('2026-03-08T07:30:00.123Z');
    expect(parseTimestamp(formatTimestamp(instant, ny)).equals(instant)).toBe(true);
  });

  it('refuses unknown zones and instants without an offset with a fix', () => {
    expect(() => resolveZone('Mars/Olympus')).toThrow(/unknown timezone "Mars\/Olympus".*IANA/);
    for (const offset of ['-05:00', '+00:00', 'Z', 'UTC+5', 'GMT-03:00', 'UT+01']) {
      expect(() => resolveZone(offset), offset).toThrow(new RegExp(`"${offset.replace('+', '\\+')}" is a fixed UTC offset, not an IANA timezone`));
    }
    // The tzdb's own names stay valid, fixed-offset ones included.
    for (const name of ['UTC', 'Etc/UTC', 'GMT', 'Etc/GMT+5']) expect(resolveZone(name).id()).toBe(name);
    expect(() => fixedClock('2026-11-28T10:00:00')).toThrow(/with an offset/);
    expect(fixedClock('2026-11-28T10:00:00-05:00').instant().toString()).toBe('2026-11-28T15:00:00Z');
  });

  it('refuses instants outside the years 1970-9999, which have no YYYY-MM-DD date for keys and files', () => {
    for (const iso of ['+010000-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '9999-12-31T23:00:00-05:00', '-000001-01-01T00:00:00Z']) {
      expect(() => fixedClock(iso), iso).toThrow(/outside the years 1970-9999; use an instant from 1970-01-01T00:00:00Z/);
    }
    expect(fixedClock('1970-01-01T00:00:00Z').instant().toString()).toBe('1970-01-01T00:00:00Z');
    expect(fixedClock('9999-12-31T23:59:59.999Z').instant().toString()).toBe('9999-12-31T23:59:59.999Z');
  });
});
