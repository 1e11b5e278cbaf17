/**
 * The identity and time of one record (SPEC §6), read from the record's exact JSON text (records/json-text.ts):
 * `record_id` is the configured `recordIdField` when the record has it as a non-empty string (its decoded
 * value) or a number (its token exactly as written, so 9007199254740993 and 9007199254740992 differ),
 * else a hash of the record's text with the whitespace between tokens removed, so the same record reads the
 * same from the local file (pretty or compact) and from S3. Duplicate suppression stores a short digest of
 * the id (consumer/digest-set.ts), which keeps the processed-ID file small whatever the ids look like.
 * Nothing here recurses: any depth is fine.
 */
import { hash } from 'node:crypto';
import { compactJson, decodeString, memberRanges, skipSpace, type JsonRange } from './json-text.js';

/** Prefix of ids computed from the record's content, e.g. `sha256:3f1a…` (32 hex digits, 128 bits). */
export const CONTENT_HASH_PREFIX = 'sha256:';

export interface RecordIdentity {
  recordId: string;
  /** True when the id is a content hash because the record lacks `recordIdField` (or none is configured). */
  fromContent: boolean;
}

function bytesOf(record: string | Uint8Array): Buffer {
  return typeof record === 'string' ? Buffer.from(record, 'utf8') : Buffer.from(record.buffer, record.byteOffset, record.byteLength);
}

/** The range of member `field` (the last one, as JSON.parse keeps) when `record` is a JSON object. */
function fieldOf(record: Buffer, field: string): JsonRange | undefined {
  const at = skipSpace(record, 0);
  if (record[at] !== 0x7b) return undefined;
  return memberRanges(record, at).findLast((m) => m.name === field)?.value;
}

/** The record's id (see the module comment); `record` is its valid JSON text. */
export function recordIdOf(record: string | Uint8Array, idField: string | undefined): RecordIdentity {
  const bytes = bytesOf(record);
  const range = idField === undefined ? undefined : fieldOf(bytes, idField);
  if (range) {
    const [start, end] = range;
    const first = bytes[start]!;
    if (first === 0x22) {
      const value = decodeString(bytes, start, end);
      if (value !== '') return { recordId: value, fromContent: false };
    } else if (first === 0x2d || (first >= 0x30 && first <= 0x39)) {
      return { recordId: bytes.toString('utf8', start, end), fromContent: false };
    }
  }
  return { recordId: contentHashOf(bytes), fromContent: true };
}

/** `sha256:` + 32 hex digits of the record's JSON text without whitespace between tokens. */
export function contentHashOf(record: string | Uint8Array): string {
  return `${CONTENT_HASH_PREFIX}${hash('sha256', compactJson(bytesOf(record)), 'hex').slice(0, 32)}`;
}

/** The record's own timestamp: `record[field]` when it is a non-empty string, else undefined. */
export function recordTimestampOf(record: string | Uint8Array, field: string | undefined): string | undefined {
  if (field === undefined) return undefined;
  const bytes = bytesOf(record);
  const range = fieldOf(bytes, field);
  if (!range || bytes[range[0]] !== 0x22) return undefined;
  const value = decodeString(bytes, range[0], range[1]);
  return value === '' ? undefined : value;
}
