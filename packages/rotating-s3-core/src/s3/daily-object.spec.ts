import { describe, expect, it } from 'vitest';
import { JsonText } from '../records/json-text.js';
import { applyUpload, dailyObjectKey, serializeDailyObject, validateDailyObject, type DailyObject, type FetchEntry } from './daily-object.js';
import { decodeDailyObject } from './daily-object-read.js';

const fetch = (n: number, records = 2): FetchEntry => ({
  fetch_id: `f${n}`,
  fetch_number: n,
  timestamp: `2026-11-28T10:00:0${n % 10}.000-05:00`,
  records,
  data: JsonText.fromValue({ n }),
});
const batch = (fetches: FetchEntry[], at = '2026-11-28T10:05:00.000-05:00') => ({
  stage: 'merge',
  timezone: 'America/New_York',
  date: '2026-11-28',
  uploadTimestamp: at,
  fetches,
});

describe('daily object', () => {
  it('names the key <prefix>/<stage>_json_log_<date>.json with no leading slash for an empty prefix', () => {
    expect(dailyObjectKey('logs/merge', 'merge', '2026-11-28')).toBe('logs/merge/merge_json_log_2026-11-28.json');
    expect(dailyObjectKey('', 'merge', '2026-11-28')).toBe('merge_json_log_2026-11-28.json');
  });

  it('numbers uploads 1, 2, 3 and keeps the daily totals equal to the sums', () => {
    let obj = applyUpload(undefined, batch([fetch(1), fetch(2, 5)], 'T1')).object;
    obj = applyUpload(obj, batch([fetch(3, 0)], 'T2')).object;
    obj = applyUpload(obj, batch([fetch(4, 1)], 'T3')).object;
    expect(obj.uploads.map((u) => u.upload_sequence)).toEqual([1, 2, 3]);
    expect(obj.daily_metadata).toMatchObject({
      total_uploads_today: 3,
      total_records_today: 8,
      total_fetches_today: 4,
      first_upload_today: 'T1',
      last_upload: 'T3',
    });
    expect(validateDailyObject(JSON.parse(serializeDailyObject(obj)), '2026-11-28')).toBeUndefined();
  });

  it('skips fetches already in the object, so a retried upload appends nothing', () => {
    const first = applyUpload(undefined, batch([fetch(1), fetch(2)]));
    const retry = applyUpload(first.object, batch([fetch(1), fetch(2)]));
    expect(retry.upload).toBeUndefined();
    expect(retry.uploadSequence).toBe(1);
    const mixed = applyUpload(first.object, batch([fetch(2), fetch(3)]));
    expect(mixed.upload?.fetch_data.map((f) => f.fetch_id)).toEqual(['f3']);
    expect(mixed.alreadyPresent).toEqual(['f2']);
  });

  it('keeps the serialised bytes of earlier uploads unchanged when one is appended', () => {
    const one = serializeDailyObject(applyUpload(undefined, batch([fetch(1)])).object);
    const two = serializeDailyObject(applyUpload(JSON.parse(one), batch([fetch(2)])).object);
    const prefix = one.slice(0, one.lastIndexOf('\n],\n'));
    expect(two.startsWith(prefix)).toBe(true);
  });

  it('reports objects that break the invariants', () => {
    expect(validateDailyObject({ uploads: [] }, '2026-11-28')).toMatch(/daily_metadata/);
    const obj = applyUpload(undefined, batch([fetch(1)])).object;
    expect(validateDailyObject({ ...obj, daily_metadata: { ...obj.daily_metadata, total_records_today: 99 } }, '2026-11-28')).toMatch(/total_records_today/);
    expect(validateDailyObject(obj, '2026-11-29')).toMatch(/expected "2026-11-29"/);
  });
});

describe('daily object text', () => {
  it("parses and re-serialises an object byte for byte, keeping each fetch's data as its exact text", () => {
    const data = '{"m":[{"id":9007199254740993,"r":1e400,"z":-0,"o":1.0,"s":"\\u00e9 é"}],"__proto__":{"x":1}}';
    const fetch = { fetch_id: 'f1', fetch_number: 1, timestamp: '2026-11-28T10:00:00.000-05:00', records: 1, data: new JsonText(data) };
    const batch = { stage: 'merge', timezone: 'UTC', date: '2026-11-28', uploadTimestamp: '2026-11-28T10:00:00.000-05:00', fetches: [fetch] };
    const text = serializeDailyObject(applyUpload(undefined, batch).object);
    expect(text).toContain(`"records":1,"data":${data}}`);
    const parsed = (decodeDailyObject(Buffer.from(text), '2026-11-28') as { object: DailyObject }).object;
    expect(validateDailyObject(parsed, '2026-11-28')).toBeUndefined();
    expect(serializeDailyObject(parsed)).toBe(text);
    // Whitespace inside a payload (another writer's layout) is dropped; every token stays.
    expect(decodeDailyObject(Buffer.from(text.replace(data, data.replace(/,/g, ' , '))), '2026-11-28')).toMatchObject({
      object: { uploads: [{ fetch_data: [{ data: { text: data } }] }] },
    });
    expect(decodeDailyObject(Buffer.from('{"uploads":[1,'), '2026-11-28')).toEqual({ problem: 'uploads[0] is not a JSON object at byte 12' });
    expect(decodeDailyObject(Buffer.from('{"uploads":[{"upload_sequence":1,"records_in_upload":0,"fetch_data":[]}'), '2026-11-28')).toMatchObject({
      problem: expect.stringMatching(/cut short/),
    });
    expect(decodeDailyObject(Buffer.from(text), '2026-11-29')).toEqual({ problem: 'daily_metadata.date is "2026-11-28", expected "2026-11-29"' });
  });

  it('keeps fields it does not know through a rewrite, and refuses a fetch without its id', () => {
    const fetch = { fetch_id: 'f1', fetch_number: 1, timestamp: '2026-11-28T10:00:00.000-05:00', records: 0, data: new JsonText('{}') };
    const batch = { stage: 'merge', timezone: 'UTC', date: '2026-11-28', uploadTimestamp: '2026-11-28T10:00:00.000-05:00', fetches: [fetch] };
    const text = serializeDailyObject(applyUpload(undefined, batch).object).replace('"records":0,', '"records":0,"host":"b",');
    const decoded = decodeDailyObject(Buffer.from(text), '2026-11-28') as { object: DailyObject };
    expect(serializeDailyObject(decoded.object)).toBe(text);
    expect(decodeDailyObject(Buffer.from(text.replace('"fetch_id":"f1",', '')), '2026-11-28')).toEqual({
      problem: 'uploads[0].fetch_data[0].fetch_id is missing',
    });
  });
});
