/**
 * Validation of generator options, at the edge: one clear line naming the option, the value and the fix.
 * The rules are the runtime's (packages/rotating-s3-core/src/config/schema.ts); this package is CommonJS
 * (Nx loads generators with require) and cannot import the ESM core, so generator.spec.ts checks that
 * both agree.
 */
import { ZoneId, ZoneOffset } from '@js-joda/core';
import '@js-joda/timezone';

export const STAGE_NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
export const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
export const JSON_POINTER_PATTERN = /^(\/([^~]|~[01])*)*$/;

/**
 * A refusal of the generator's options: an expected error, so it carries no stack. Nx prints a thrown
 * error's message as one line and adds "Pass --verbose to see the stacktrace." only when the error has a
 * stack (`handleErrors`); without one the user sees exactly the message, which names the option and the fix.
 */
export class StageOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StageOptionError';
    delete (this as { stack?: string }).stack;
  }
}

export function assertValidStageOptions(options: {
  name: string;
  fetchLimit: number;
  timezone: string;
  recordsPath: string;
  bucket: string;
  prefix: string;
  recordType: string;
}): void {
  const fail = (message: string): never => {
    throw new StageOptionError(message);
  };
  if (!STAGE_NAME_PATTERN.test(options.name)) {
    fail(`--name ${JSON.stringify(options.name)} is not a valid stage name; use ^[a-z][a-z0-9_]{0,62}$ (e.g. merge, pretty_print)`);
  }
  if (!Number.isInteger(options.fetchLimit) || options.fetchLimit < 1) {
    fail(`--fetchLimit ${JSON.stringify(options.fetchLimit)} must be a whole number of at least 1`);
  }
  let zone: ZoneId | undefined;
  try {
    zone = ZoneId.of(options.timezone);
  } catch {
    fail(`--timezone ${JSON.stringify(options.timezone)} is not an IANA timezone; use e.g. America/New_York, Europe/Berlin or UTC`);
  }
  // As the runtime (core's time/zone.ts): offsets are not a place's midnight.
  if (zone instanceof ZoneOffset || /^(?:UTC|GMT|UT)[+-]/.test(zone?.id() ?? '')) {
    fail(`--timezone ${JSON.stringify(options.timezone)} is a fixed UTC offset, not an IANA timezone; use e.g. America/New_York (or Etc/GMT+5 if a fixed offset is really meant)`);
  }
  if (!JSON_POINTER_PATTERN.test(options.recordsPath)) {
    fail(`--recordsPath ${JSON.stringify(options.recordsPath)} is not a JSON Pointer; use e.g. /matches, or "" for the whole payload`);
  }
  if (!BUCKET_PATTERN.test(options.bucket)) {
    fail(`--bucket ${JSON.stringify(options.bucket)} is not a valid S3 bucket name (3-63 chars of a-z, 0-9, . and -)`);
  }
  if (options.prefix.split('/').some((s) => s === '..' || s === '.') || /[\u0000-\u001f]/.test(options.prefix)) {
    fail(`--prefix ${JSON.stringify(options.prefix)} must not contain "." or ".." segments or control characters`);
  }
  if (!STAGE_NAME_PATTERN.test(options.recordType)) {
    fail(`--recordType ${JSON.stringify(options.recordType)} must be a lowercase word such as match or incident`);
  }
}
