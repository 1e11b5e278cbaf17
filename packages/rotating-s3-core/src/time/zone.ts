/**
 * The stage timezone and the day it puts an instant on (js-joda + @js-joda/timezone).
 *
 * Start-up cost: unpacking every IANA zone takes ~150 ms, most of a CLI call. The build writes the packed
 * tzdb of the installed @js-joda/timezone to `dist/tzdb.json`; at run time only the zones asked for are
 * unpacked into js-joda's provider. Without that file (running from sources) the full tzdb is loaded.
 */
import { readFileSync } from 'node:fs';
import { DateTimeFormatter, Instant, LocalDate, loadTimezonePlugin, ZonedDateTime, ZoneId, ZoneRulesProvider } from './joda.js';
import { ConfigError } from '../errors.js';

interface PackedTzdb {
  version: string;
  zones: string[];
  links: string[];
}

let provider: 'none' | 'subset' | 'full' = 'none';
let packed: PackedTzdb | null | undefined;
const loadedZones = new Set<string>();

function readPacked(): PackedTzdb | null {
  try {
    return JSON.parse(readFileSync(new URL('../tzdb.json', import.meta.url), 'utf8')) as PackedTzdb;
  } catch {
    return null;
  }
}

/**
 * Loads the timezone plugin and reads the packed tzdb now rather than at the first zone lookup. The
 * start-up snapshot build calls it, so both are already in the heap a snapshot-started process begins with.
 */
export function preloadZoneData(): void {
  if (packed === undefined) packed = readPacked();
  if (packed !== null && provider === 'none') {
    loadTimezonePlugin('empty');
    provider = 'subset';
  }
}

/** Makes `name` resolvable by ZoneId.of, unpacking only that zone when the packed tzdb is available. */
function ensureZoneData(name: string): void {
  if (provider === 'full' || loadedZones.has(name)) return;
  preloadZoneData();
  const data = packed;
  if (!data) {
    loadTimezonePlugin('full');
    provider = 'full';
    return;
  }
  const link = data.links.find((l) => l.endsWith(`|${name}`));
  const target = link ? link.slice(0, link.indexOf('|')) : name;
  const zones = data.zones.filter((z) => z.startsWith(`${target}|`));
  // loadTzdbData adds to what is loaded; zones and links not named here stay packed.
  // loadTzdbData is installed on the provider by the timezone plugin; js-joda's typings do not declare it.
  const load = (ZoneRulesProvider as unknown as { loadTzdbData(data: PackedTzdb): void }).loadTzdbData;
  if (zones.length > 0) load({ version: data.version, zones, links: link ? [link] : [] });
  loadedZones.add(name);
}

/** `2026-11-28T14:03:11.512-05:00`: always millis and a numeric offset (`+00:00`, never `Z`). */
const TIMESTAMP_FORMAT = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSxxx");

/** Resolves an IANA zone name, refusing fixed offsets and unknown names with a fix. */
export function resolveZone(name: string, source = 'timezone'): ZoneId {
  try {
    ensureZoneData(name);
    return ZoneId.of(name);
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

/** The offset part of TIMESTAMP_FORMAT (`-05:00`), by total offset seconds; filled on first use. */
const OFFSET_FORMAT = DateTimeFormatter.ofPattern('xxx');
const offsetTexts = new Map<number, string>();

/**
 * The local date (`YYYY-MM-DD`) of an instant and its contract timestamp: the same text as
 * `localDateOf` and `formatTimestamp`, at a fraction of their cost, because the logger computes it for
 * every fetch. js-joda still decides the offset (a binary search in the zone's transitions); local time
 * is then UTC plus that offset by definition, so the fields come from Date arithmetic instead of a
 * ZonedDateTime and a formatter. zone.spec.ts compares both paths across DST transitions, half-hour and
 * 45-minute zones, a skipped day and historic offsets with seconds.
 */
export function localView(instant: Instant, zone: ZoneId): { date: string; timestamp: string } {
  const millis = instant.toEpochMilli();
  const offsetSeconds = zone.rules().offsetOfEpochMilli(millis).totalSeconds();
  // The UTC fields of the shifted instant are the local fields: `2026-11-28T14:03:11.512Z`.
  const fields = new Date(millis + offsetSeconds * 1000).toISOString();
  if (fields.length !== 24) {
    // Years outside 0000-9999 (`+010000-…`): left to js-joda.
    const timestamp = formatTimestamp(instant, zone);
    return { date: localDateOf(instant, zone).toString(), timestamp };
  }
  let offset = offsetTexts.get(offsetSeconds);
  if (offset === undefined) {
    offset = ZonedDateTime.ofInstant(instant, zone).format(OFFSET_FORMAT);
    offsetTexts.set(offsetSeconds, offset);
  }
  return { date: fields.slice(0, 10), timestamp: fields.slice(0, 23) + offset };
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
