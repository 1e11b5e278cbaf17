/** Checks of one S3 daily object against SPEC §4: every required field, by name, and the totals. */
import { expect } from 'vitest';
import { countRecords, type Payload } from '../records/records.js';

export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:\d{2})$/;

interface FetchEntry {
  fetch_id: string;
  fetch_number: number;
  timestamp: string;
  records: number;
  data: unknown;
}
interface UploadEntry {
  upload_sequence: number;
  upload_timestamp: string;
  records_in_upload: number;
  fetches_in_upload: number;
  fetch_data: FetchEntry[];
}
export interface DailyObject {
  daily_metadata: { date: string; total_uploads_today: number; total_records_today: number; first_upload_today: string; last_upload: string };
  uploads: UploadEntry[];
}

/**
 * Asserts the daily object of `date`: the SPEC §4 fields, totals equal to the sums over uploads,
 * upload_sequence 1, 2, 3 … and every fetch in the object of its own local date, once (`seen` spans days).
 */
export function expectDailyObject(object: DailyObject, date: string, localDate: (ms: number) => string, recordsPath: string, seen: Set<string>): void {
  expect(Object.keys(object)).toEqual(expect.arrayContaining(['daily_metadata', 'uploads']));
  const meta = object.daily_metadata;
  expect(Object.keys(meta)).toEqual(expect.arrayContaining(['date', 'total_uploads_today', 'total_records_today', 'first_upload_today', 'last_upload']));
  const fetches = object.uploads.flatMap((u) => u.fetch_data);
  expect(meta).toMatchObject({ date, total_uploads_today: object.uploads.length, total_records_today: fetches.reduce((sum, f) => sum + f.records, 0) });
  expect(meta.first_upload_today).toMatch(TIMESTAMP);
  expect(meta.last_upload).toMatch(TIMESTAMP);
  expect(meta.first_upload_today <= meta.last_upload).toBe(true);
  expect(object.uploads.map((u) => u.upload_sequence)).toEqual(object.uploads.map((_, i) => i + 1));
  for (const upload of object.uploads) {
    expect(Object.keys(upload)).toEqual(
      expect.arrayContaining(['upload_sequence', 'upload_timestamp', 'records_in_upload', 'fetches_in_upload', 'fetch_data']),
    );
    expect(upload.upload_timestamp).toMatch(TIMESTAMP);
    expect(upload.fetches_in_upload).toBe(upload.fetch_data.length);
    expect(upload.records_in_upload).toBe(upload.fetch_data.reduce((sum, f) => sum + f.records, 0));
  }
  for (const fetch of fetches) {
    expect(Object.keys(fetch)).toEqual(expect.arrayContaining(['fetch_id', 'fetch_number', 'timestamp', 'records', 'data']));
    expect(fetch.timestamp).toMatch(TIMESTAMP);
    expect(localDate(Date.parse(fetch.timestamp))).toBe(date);
    expect(seen.has(fetch.fetch_id), `fetch_id ${fetch.fetch_id} twice`).toBe(false);
    seen.add(fetch.fetch_id);
    expect(countRecords(fetch.data as Payload, recordsPath)).toBe(fetch.records);
  }
}
