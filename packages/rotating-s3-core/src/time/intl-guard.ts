/**
 * Runs `load` (a require of the js-joda timezone plugin) with Intl.DateTimeFormat throwing. On load the
 * plugin asks Intl for the host's zone (starting ICU: ~13 ms of every CLI call) to back
 * `ZoneId.systemDefault()`, which rotating-s3 never calls — every stage names its zone. The plugin
 * catches the error and leaves js-joda's own systemDefault in place; Intl is restored afterwards.
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
