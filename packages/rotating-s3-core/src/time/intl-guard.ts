/**
 * Runs `load` (a require of the js-joda timezone plugin) with Intl.DateTimeFormat throwing. On load the
 * plugin asks Intl for the host's zone (starting ICU: ~13 ms of every CLI call) to back
 * `ZoneId.systemDefault()`, which rotating-s3 never calls — every stage names its zone. The plugin
 * catches the error and leaves js-joda's own systemDefault in place; Intl is restored afterwards, in the
 * same synchronous step, so no other code can observe the swap. Measured (2026-12-01, this package's
 * loads of js-joda + the empty plugin, 30 paired runs): ~15 ms of CPU and 8 MiB of peak memory on Node 20,
 * ~20 ms of CPU on Node 24, per process.
 */
export function withoutSystemZoneLookup(load: () => void): void {
  const intlDateTimeFormat = Intl.DateTimeFormat;
  Intl.DateTimeFormat = (() => {
    throw new Error('rotating-s3 does not use the system timezone');
  }) as unknown as typeof Intl.DateTimeFormat;
  try {
    load();
  } finally {
    Intl.DateTimeFormat = intlDateTimeFormat;
  }
}
