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

/** The local date of an instant and its contract timestamp, from one zone conversion. */
export function localView(instant: Instant, zone: ZoneId): { date: LocalDate; timestamp: string } {
  const zoned = ZonedDateTime.ofInstant(instant, zone);
  return { date: zoned.toLocalDate(), timestamp: zoned.format(TIMESTAMP_FORMAT) };
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
