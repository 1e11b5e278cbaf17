/**
 * The built zone module (dist/time/zone.js) with the packed tzdb of the build (dist/tzdb.txt): zones are
 * found by a string search in that file and only the zones asked for are unpacked. From sources
 * (src/time/zone.spec.ts) the full tzdb is loaded instead, so this path is tested here, in its own
 * process (one js-joda provider per process).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const zone = (await import(join(dist, 'time', 'zone.js'))) as typeof import('../src/time/zone.js');
const joda = (await import(join(dist, 'time', 'joda.js'))) as typeof import('../src/time/joda.js');
const at = (iso: string) => joda.Instant.parse(iso);

describe('zones from the packed tzdb of the build', () => {
  it('unpacks only the zones asked for, aliases included, with the same rules as the full tzdb', () => {
    const ny = zone.resolveZone('America/New_York');
    expect(zone.formatTimestamp(at('2026-07-01T12:00:00Z'), ny)).toBe('2026-07-01T08:00:00.000-04:00');
    expect(zone.formatTimestamp(at('2026-11-28T19:03:11Z'), ny)).toBe('2026-11-28T14:03:11.000-05:00');
    // Links: another name for a zone, kept as its own id.
    const eastern = zone.resolveZone('US/Eastern');
    expect(eastern.id()).toBe('US/Eastern');
    expect(zone.formatTimestamp(at('2026-07-01T12:00:00Z'), eastern)).toBe('2026-07-01T08:00:00.000-04:00');
    expect(zone.formatTimestamp(at('2026-07-01T12:00:00Z'), zone.resolveZone('Asia/Calcutta'))).toBe('2026-07-01T17:30:00.000+05:30');
    expect(zone.formatTimestamp(at('2026-04-05T15:59:59.999Z'), zone.resolveZone('Australia/Lord_Howe'))).toBe('2026-04-06T02:29:59.999+10:30');
    // Only what was asked for is in js-joda's provider (the full tzdb has ~600 names).
    const available = joda.ZoneRulesProvider.getAvailableZoneIds();
    expect(available.length).toBeLessThan(10);
    expect(available).toEqual(expect.arrayContaining(['America/New_York', 'US/Eastern', 'Asia/Calcutta', 'Australia/Lord_Howe']));
  });

  it('refuses names that are not in the tzdb, including ones that could confuse a line search', () => {
    for (const bad of [
      '',
      'Mars/Olympus',
      'america/new_york',
      'America/New_York|US/Eastern',
      'US/Eastern\nZEurope/Paris',
      'Europe/Paris\n',
      'New_York',
      'Zurich',
    ]) {
      expect(() => zone.resolveZone(bad), JSON.stringify(bad)).toThrow(/unknown timezone/);
    }
  });
});
