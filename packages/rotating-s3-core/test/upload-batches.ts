/**
 * Fetches and upload batches of one daily object (the merge stage on 2026-11-28), for tests that drive
 * the append store directly.
 */
import { JsonText } from '../src/records/json-text.js';
import type { FetchEntry, UploadBatch } from '../src/s3/daily-object.js';

export const DATE = '2026-11-28';
export const KEY = `logs/merge/merge_json_log_${DATE}.json`;

/** `n` fetches `<prefix>-<i>` of one record each, padded to about `bytes` bytes. */
export function fetches(prefix: string, n: number, bytes = 100): FetchEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    fetch_id: `${prefix}-${i}`,
    fetch_number: i + 1,
    timestamp: `${DATE}T10:00:00.000-05:00`,
    records: 1,
    data: JsonText.fromValue({ matches: [{ match_id: `${prefix}-${i}`, pad: 'x'.repeat(bytes) }] }),
  }));
}

/** One upload of `f`, named `uploadId` when given (else derived from the fetch ids). */
export const batch = (f: FetchEntry[], uploadId?: string): UploadBatch => ({
  ...(uploadId ? { uploadId } : {}),
  stage: 'merge',
  timezone: 'America/New_York',
  date: DATE,
  uploadTimestamp: `${DATE}T10:05:00.000-05:00`,
  fetches: f,
});
