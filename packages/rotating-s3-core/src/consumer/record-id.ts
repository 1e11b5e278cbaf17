/**
 * The identity and time of one record (SPEC §6): `record_id` is the configured `recordIdField` when the
 * record has it (a string or a finite number), else a content hash that does not depend on key order, so
 * the same record re-serialised elsewhere keeps its id. Duplicate suppression stores a short digest of the
 * id (digest-set.ts), which keeps the processed-ID file small whatever the ids look like.
 */
import { hash } from 'node:crypto';

/** Prefix of ids computed from the record's content, e.g. `sha256:3f1a…` (32 hex digits, 128 bits). */
export const CONTENT_HASH_PREFIX = 'sha256:';

export interface RecordIdentity {
  recordId: string;
  /** True when the id is a content hash because the record lacks `recordIdField` (or none is configured). */
  fromContent: boolean;
}

/** The record's id: `record[idField]` when usable, else the content hash. */
export function recordIdOf(record: unknown, idField: string | undefined): RecordIdentity {
  if (idField !== undefined && record !== null && typeof record === 'object' && !Array.isArray(record)) {
    const value = (record as Record<string, unknown>)[idField];
    if (typeof value === 'string' && value !== '') return { recordId: value, fromContent: false };
    if (typeof value === 'number' && Number.isFinite(value)) return { recordId: String(value), fromContent: false };
  }
  return { recordId: contentHashOf(record), fromContent: true };
}

/** `sha256:` + 32 hex digits of the record's canonical JSON (object keys sorted at every level). */
export function contentHashOf(record: unknown): string {
  return `${CONTENT_HASH_PREFIX}${hash('sha256', canonicalJson(record), 'hex').slice(0, 32)}`;
}

/** JSON with object keys in code-point order at every level; arrays keep their order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const keys = Object.keys(value).sort();
  const parts: string[] = [];
  for (const key of keys) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}

/** The record's own timestamp: `record[field]` when it is a non-empty string, else undefined. */
export function recordTimestampOf(record: unknown, field: string | undefined): string | undefined {
  if (field === undefined || record === null || typeof record !== 'object' || Array.isArray(record)) return undefined;
  const value = (record as Record<string, unknown>)[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
