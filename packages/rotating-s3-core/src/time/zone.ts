/**
 * The stage timezone and the day it puts an instant on. js-joda's tzdb (all IANA zones) is loaded on first
 * use, not at import, so commands that never touch time start faster.
 */
import { DateTimeFormatter, Instant, LocalDate, ZonedDateTime, ZoneId } from '@js-joda/core';
import '@js-joda/timezone';
import { ConfigError } from '../errors.js';

/** `2026-11-28T14:03:11.512-05:00`: always millis and a numeric offset (`+00:00`, never `Z`). */
const TIMESTAMP_FORMAT = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSxxx");

/** Resolves an IANA zone name, refusing fixed offsets and unknown names with a fix. */
export function resolveZone(name: string, source = 'timezone'): ZoneId {
  try {
    const zone = ZoneId.of(name);
    return zone;
  } catch (cause) {
    throw new ConfigError(
      `${source}: unknown timezone "${name}"; use an IANA name such as "America/New_York", "Europe/Berlin" or "UTC"`,
      { cause },
    );
  }
}

/** The local calendar date of an instant in the zone. */
export function localDateOf(instant: Instant, zone: ZoneId): LocalDate {
  return ZonedDateTime.ofInstant(instant, zone).toLocalDate();
}

/** Formats an instant as the contract's timestamp in the zone's offset at that instant. */
export function formatTimestamp(instant: Instant, zone: ZoneId): string {
  return ZonedDateTime.ofInstant(instant, zone).format(TIMESTAMP_FORMAT);
}

/** The first instant of a local date; on a day whose midnight is skipped by DST this is e.g. 01:00. */
export function startOfDay(date: LocalDate, zone: ZoneId): Instant {
  return date.atStartOfDay(zone).toInstant();
}

/** Parses a contract timestamp (or any ISO-8601 instant with offset) back to an Instant. */
export function parseTimestamp(text: string): Instant {
  return ZonedDateTime.parse(text).toInstant();
}

export { Instant, LocalDate, ZoneId };
