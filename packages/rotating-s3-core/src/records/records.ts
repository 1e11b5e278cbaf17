/**
 * Where a payload's records are (SPEC §6). `recordsPath` is a JSON Pointer (RFC 6901):
 * - the pointed value is an array: each element is a record;
 * - it is missing or null: the payload has 0 records;
 * - it is any other value: that value is the payload's one record (a single-object payload with `""`).
 */
import { InputError } from '../errors.js';
import {
  JsonTextError,
  MAX_PAYLOAD_DEPTH,
  checkJson,
  compactJson,
  elementRanges,
  pointerRange,
  pointerTokens,
  skipSpace,
  type JsonRange,
} from './json-text.js';

/** A fetch's payload: only JSON objects and arrays are accepted (SPEC §6). */
export type Payload = Record<string, unknown> | unknown[];

/** Resolves a JSON Pointer; `undefined` when any step is missing. */
export function resolvePointer(document: unknown, pointer: string): unknown {
  let current: unknown = document;
  for (const token of pointerTokens(pointer)) {
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
    throw new InputError(
      'E_PAYLOAD',
      `payload from ${source} is a JSON ${value === null ? 'null' : typeof value}, not an object or array; wrap it, e.g. {"value": ...}`,
    );
  }
  return value as Payload;
}

/** JSON text of an in-process payload object (its numbers are JavaScript numbers already). */
export function payloadTextOf(payload: Payload): string {
  if (payload === null || typeof payload !== 'object') {
    throw new InputError('E_PAYLOAD', `payload is a ${payload === null ? 'null' : typeof payload}, not a JSON object or array`);
  }
  try {
    return JSON.stringify(payload);
  } catch (cause) {
    // JSON.stringify recurses: a very deep object overflows the stack, a cyclic one never ends.
    const why =
      cause instanceof RangeError
        ? `is nested too deeply (more than ${MAX_PAYLOAD_DEPTH} arrays/objects allowed)`
        : `cannot be serialised as JSON (${(cause as Error).message})`;
    throw new InputError('E_PAYLOAD', `payload ${why}; pass a plain JSON object or array`, { cause });
  }
}

/**
 * Checks payload text (UTF-8 bytes, or a string) as `log` accepts it: one JSON object or array, nested at
 * most MAX_PAYLOAD_DEPTH deep. Nothing is parsed into JavaScript values, so the text is kept exactly.
 * Returns the bytes. `source` names where the text came from, for the error message.
 */
export function checkPayloadText(text: string | Uint8Array, source: string): Buffer {
  let bytes: Buffer;
  if (typeof text === 'string') {
    // A lone surrogate has no UTF-8 form: write it as the escape JSON.stringify would (only valid in a string).
    const lone = /\p{Cs}/gu;
    bytes = Buffer.from(lone.test(text) ? text.replace(lone, (c) => `\\u${c.charCodeAt(0).toString(16)}`) : text, 'utf8');
  } else {
    bytes = Buffer.isBuffer(text) ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength);
  }
  const first = skipSpace(bytes, 0);
  if (first >= bytes.length) {
    throw new InputError('E_PAYLOAD', `payload from ${source} is empty; pass a file holding one JSON object or array`);
  }
  try {
    checkJson(bytes, MAX_PAYLOAD_DEPTH);
  } catch (cause) {
    if (!(cause instanceof JsonTextError)) throw cause;
    if (cause.reason.startsWith('nesting deeper')) {
      throw new InputError(
        'E_PAYLOAD',
        `payload from ${source} is nested deeper than ${MAX_PAYLOAD_DEPTH} arrays/objects (at byte ${cause.offset}); flatten it or store the deep part as a string`,
        { cause },
      );
    }
    throw new InputError('E_PAYLOAD', `payload from ${source} is not valid JSON (${cause.message}); pass one complete JSON object or array`, { cause });
  }
  const kind = bytes[first];
  if (kind !== 0x7b && kind !== 0x5b) {
    const what = kind === 0x22 ? 'string' : kind === 0x6e ? 'null' : kind === 0x74 || kind === 0x66 ? 'boolean' : 'number';
    throw new InputError('E_PAYLOAD', `payload from ${source} is a JSON ${what}, not an object or array; wrap it, e.g. {"value": ...}`);
  }
  return bytes;
}

/** Byte ranges of the records (see the module comment) in the valid JSON text `bytes`. */
export function recordRanges(bytes: Uint8Array, recordsPath: string): JsonRange[] {
  const at = pointerRange(bytes, recordsPath);
  if (at === undefined || bytes[at[0]] === 0x6e /* null */) return [];
  return bytes[at[0]] === 0x5b ? elementRanges(bytes, at[0]) : [at];
}

/** Number of records in the valid JSON text `bytes`. */
export function countRecordsInText(bytes: Uint8Array, recordsPath: string): number {
  return recordRanges(bytes, recordsPath).length;
}

/**
 * The records of payload text, one at a time, each as its exact JSON text made compact (whitespace between
 * tokens removed). The whole text is validated first (JsonTextError when it is not one JSON value), then
 * the records are found structurally: nothing is parsed into JavaScript values.
 */
export function recordsOfPayload(bytes: Uint8Array, recordsPath: string): { count: number; records: Iterable<Buffer> } {
  checkJson(bytes);
  const ranges = recordRanges(bytes, recordsPath);
  return {
    count: ranges.length,
    records: (function* () {
      for (const [start, end] of ranges) yield compactJson(bytes.subarray(start, end));
    })(),
  };
}
