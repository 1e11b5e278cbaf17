/**
 * js-joda, loaded with require(). An ESM `import` of this large CommonJS bundle makes Node scan it for
 * named exports (cjs-module-lexer) at every start, ~35 ms of each CLI call; require() skips that scan.
 * The rest of the engine takes js-joda from here, and the timezone plugin is loaded here too, so both
 * share this one js-joda instance.
 */
import { createRequire } from 'node:module';
import type * as Joda from '@js-joda/core';
import { withoutSystemZoneLookup } from './intl-guard.js';

const require = createRequire(import.meta.url);
const joda = require('@js-joda/core') as typeof Joda;

export const { Clock, DateTimeFormatter, Instant, LocalDate, ZonedDateTime, ZoneId, ZoneOffset, ZoneRulesProvider } = joda;
export type Clock = Joda.Clock;
export type Instant = Joda.Instant;
export type LocalDate = Joda.LocalDate;
export type ZoneId = Joda.ZoneId;

/** Loads @js-joda/timezone: 'empty' (zone rules are then added with loadTzdbData) or 'full' (every zone). */
export function loadTimezonePlugin(which: 'empty' | 'full'): void {
  withoutSystemZoneLookup(() => require(which === 'full' ? '@js-joda/timezone' : '@js-joda/timezone/dist/js-joda-timezone-empty.js'));
}
