/**
 * The stage timezone and the day it puts an instant on (js-joda + @js-joda/timezone).
 *
 * Start-up cost: unpacking every IANA zone takes ~150 ms, most of a CLI call. The build writes the packed
 * tzdb of the installed @js-joda/timezone to `dist/tzdb.txt` (scripts/write-tzdb.mjs: one zone or link
 * per line); at run time the zones asked for are found by a string search and only they are unpacked
 * into js-joda's provider. Without that file (running from sources) the full tzdb is loaded.
 */
import { existsSync, readFileSync } from 'node:fs';
import { DateTimeFormatter, Instant, LocalDate, loadTimezonePlugin, ZonedDateTime, ZoneId, ZoneOffset, ZoneRulesProvider } from './joda.js';
import { ConfigError } from '../errors.js';

let provider: 'none' | 'subset' | 'full' = 'none';
const loadedZones = new Set<string>();
const TZDB = new URL('../tzdb.txt', import.meta.url);

function readPacked(): Buffer | null {
  try {
    return readFileSync(TZDB);
  } catch {
    return null;
  }
}

const L = 0x4c; // 'L', the first byte of a link line

/**
 * The packed zone `name` stands for, and the link line when `name` is an alias; undefined if unknown.
 * Searches the file's bytes and decodes only the lines found: a substring of one large decoded string
 * would keep all of it alive in js-joda's provider.
 */
function findPacked(tzdb: Buffer, name: string): { version: string; zone: string; link?: string } | undefined {
  if (name === '' || /[|\n]/.test(name)) return undefined; // not a zone name, and it would confuse the search
  const version = tzdb.toString('utf8', 0, tzdb.indexOf('\n'));
  let target = name;
  let link: string | undefined;
  // A link line is `L<target>|<name>`: find `|<name>` at a line end whose line starts with L.
  const alias = `|${name}\n`;
  for (let at = tzdb.indexOf(alias); at >= 0; at = tzdb.indexOf(alias, at + 1)) {
    const lineStart = tzdb.lastIndexOf('\n', at) + 1;
    if (tzdb[lineStart] === L) {
      target = tzdb.toString('utf8', lineStart + 1, at);
      link = `${target}|${name}`;
      break;
    }
  }
  const at = tzdb.indexOf(`\nZ${target}|`);
  if (at < 0) return undefined;
  const zone = tzdb.toString('utf8', at + 2, tzdb.indexOf('\n', at + 1));
  return link === undefined ? { version, zone } : { version, zone, link };
}

/**
 * True when the application already installed a tzdb into the js-joda we share (it imported
 * @js-joda/timezone itself): loading our plugin then would replace its provider, and every zone the
 * application had would be gone. Its tzdb is used instead.
 */
function tzdbInstalledByHost(): boolean {
  return ZoneRulesProvider.getAvailableZoneIds().length > 0;
}

/**
 * Chooses where zones come from (at the first zone lookup, or earlier when called): the application's
 * tzdb if it installed one, else ours one zone at a time, else (no dist/tzdb.txt, running from sources)
 * the full plugin.
 */
function preloadZoneData(): 'subset' | 'full' {
  if (provider !== 'none') return provider;
  if (tzdbInstalledByHost()) {
    provider = 'full';
  } else if (!existsSync(TZDB)) {
    loadTimezonePlugin('full');
    provider = 'full';
  } else {
    loadTimezonePlugin('empty');
    provider = 'subset';
  }
  return provider;
}

/** Makes `name` resolvable by ZoneId.of, unpacking only that zone when the packed tzdb is available. */
function ensureZoneData(name: string): void {
  if (provider === 'full' || loadedZones.has(name)) return;
  if (preloadZoneData() === 'full') return;
  const tzdb = readPacked();
  if (tzdb === null) {
    // dist/tzdb.txt went away after the plugin was chosen: the full tzdb still answers.
    loadTimezonePlugin('full');
    provider = 'full';
    return;
  }
  const found = findPacked(tzdb, name);
  // loadTzdbData adds to what is loaded; zones and links not named here stay packed.
  // loadTzdbData is installed on the provider by the timezone plugin; js-joda's typings do not declare it.
  const load = (ZoneRulesProvider as unknown as { loadTzdbData(data: { version: string; zones: string[]; links: string[] }): void }).loadTzdbData;
  if (found) load({ version: found.version, zones: [found.zone], links: found.link ? [found.link] : [] });
  loadedZones.add(name);
}

/** `2026-11-28T14:03:11.512-05:00`: always millis and a numeric offset (`+00:00`, never `Z`). */
const TIMESTAMP_FORMAT = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSxxx");

/** Resolves an IANA zone name, refusing fixed offsets and unknown names with a fix. */
export function resolveZone(name: string, source = 'timezone'): ZoneId {
  let zone: ZoneId;
  try {
    ensureZoneData(name);
    zone = ZoneId.of(name);
  } catch (cause) {
    throw new ConfigError(`${source}: unknown timezone "${name}"; use an IANA name such as "America/New_York", "Europe/Berlin" or "UTC"`, { cause });
  }
  // js-joda also takes offsets (`-05:00`, `Z`) and prefixed ones (`UTC+5`): a stage's day follows a
  // place's midnight, DST included, so those are refused (the tzdb's own Etc/GMT+5 stays allowed).
  if (zone instanceof ZoneOffset || /^(?:UTC|GMT|UT)[+-]/.test(zone.id())) {
    throw new ConfigError(
      `${source}: "${name}" is a fixed UTC offset, not an IANA timezone; use the zone of the place whose midnight starts the day, such as "America/New_York" (or "Etc/GMT+5" if a fixed offset is really meant)`,
    );
  }
  return zone;
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
    const zoned = ZonedDateTime.ofInstant(instant, zone);
    return { date: zoned.toLocalDate().toString(), timestamp: zoned.format(TIMESTAMP_FORMAT) };
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
