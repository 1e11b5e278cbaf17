/**
 * An application that uses js-joda with @js-joda/timezone itself shares its js-joda with the built engine
 * (same package instance): the engine must not replace the application's tzdb with its own one-zone-at-a
 * -time provider, which would make every zone the application relied on unknown. Own process (one
 * js-joda provider per process), built module as an application gets it.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type * as Joda from '@js-joda/core';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
// The application: js-joda and the full timezone plugin, loaded the way the engine loads js-joda.
const require = createRequire(join(dist, 'time', 'joda.js'));
const appJoda = require('@js-joda/core') as typeof Joda;
require('@js-joda/timezone');

describe('an application with its own @js-joda/timezone', () => {
  it('keeps every zone of the application after the engine resolves its stage zone, and serves the stage zone from it', async () => {
    const zone = (await import(join(dist, 'time', 'zone.js'))) as typeof import('../src/time/zone.js');
    const before = appJoda.ZoneRulesProvider.getAvailableZoneIds().length;
    expect(before).toBeGreaterThan(500);
    const ny = zone.resolveZone('America/New_York');
    expect(zone.formatTimestamp(appJoda.Instant.parse('2026-07-01T12:00:00Z'), ny)).toBe('2026-07-01T08:00:00.000-04:00');
    expect(appJoda.ZoneRulesProvider.getAvailableZoneIds().length).toBe(before);
    expect(appJoda.ZonedDateTime.ofInstant(appJoda.Instant.parse('2026-07-01T12:00:00Z'), appJoda.ZoneId.of('Europe/Paris')).hour()).toBe(14);
  });
});
