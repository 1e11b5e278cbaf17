/**
 * Where a payload's records are (SPEC §6). `recordsPath` is a JSON Pointer (RFC 6901):
 * - the pointed value is an array: each element is a record;
 * - it is missing or null: the payload has 0 records;
 * - it is any other value: that value is the payload's one record (a single-object payload with `""`).
 */
import { InputError } from '../errors.js';

/** A fetch's payload: only JSON objects and arrays are accepted (SPEC §6). */
export type Payload = Record<string, unknown> | unknown[];

function unescapeToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Resolves a JSON Pointer; `undefined` when any step is missing. */
export function resolvePointer(document: unknown, pointer: string): unknown {
  if (pointer === '') return document;
  let current: unknown = document;
  for (const raw of pointer.slice(1).split('/')) {
    const token = unescapeToken(raw);
    if (Array.isArray(current)) {
      if (!/^(0|[1-9]\d*)$/.test(token)) return undefined;
      current = current[Number(token)];
    } else if (current !== null && typeof current === 'object' && Object.hasOwn(current, token)) {
      current = (current as Record<string, unknown>)[token];
    } else {
      return undefined;
    }
  }
  return current;
}

/** The records of a payload, in order. */
export function extractRecords(payload: Payload, recordsPath: string): unknown[] {
  const value = resolvePointer(payload, recordsPath);
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** Number of records in a payload (see the module comment). */
export function countRecords(payload: Payload, recordsPath: string): number {
  const value = resolvePointer(payload, recordsPath);
  if (value === undefined || value === null) return 0;
  return Array.isArray(value) ? value.length : 1;
}

/**
 * Parses payload text into a Payload, refusing anything that is not a JSON object or array.
 * `source` names where the text came from, for the error message.
 */
export function parsePayload(text: string, source: string): Payload {
  if (text.trim() === '') {
    throw new InputError('E_PAYLOAD', `payload from ${source} is empty; pass a file holding one JSON object or array`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    const detail = (cause as Error).message.split('\n')[0];
    throw new InputError('E_PAYLOAD', `payload from ${source} is not valid JSON (${detail}); pass one complete JSON object or array`, { cause });
  }
  if (value === null || typeof value !== 'object') {
    throw new InputError('E_PAYLOAD', `payload from ${source} is a JSON ${value === null ? 'null' : typeof value}, not an object or array; wrap it, e.g. {"value": ...}`);
  }
  return value as Payload;
}
