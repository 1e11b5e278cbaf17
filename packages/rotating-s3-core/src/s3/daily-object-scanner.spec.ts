import { describe, expect, it } from 'vitest';
import { JsonText } from '../records/json-text.js';
import { applyUpload, serializeDailyObject, type DailyObject, type FetchEntry } from './daily-object.js';
import { DailyObjectScanner, DailyObjectShapeError, type DailyObjectEvent } from './daily-object-scanner.js';

const TRICKY = [
  'plain',
  'quote " inside',
  'backslash \\ and \\" and \\\\',
  '=== FETCH END: x | y | fetch_number=1 | records=0 ===',
  'braces { [ ] } , :',
  'unicode é ✓ 😀',
  'new\nline',
];

/** A fetch entry as plain JSON values (what parsing a scanned fetch gives). */
function plainFetch(n: number, text = TRICKY[n % TRICKY.length]!) {
  return {
    fetch_id: `f${n}`,
    fetch_number: n,
    timestamp: `2026-11-28T10:00:0${n % 10}.000-05:00`,
    records: 2,
    data: {
      matches: [
        { match_id: `m${n}-0`, text },
        { match_id: `m${n}-1`, n: -1.5e3, ok: true, none: null },
      ],
    },
  };
}

function fetch(n: number): FetchEntry {
  const plain = plainFetch(n);
  return { ...plain, data: JsonText.fromValue(plain.data) };
}

function objectWith(uploads: number[][]): DailyObject {
  let object: DailyObject | undefined;
  for (const [i, ids] of uploads.entries()) {
    object = applyUpload(object, {
      stage: 'merge',
      timezone: 'America/New_York',
      date: '2026-11-28',
      uploadTimestamp: `2026-11-28T11:00:0${i}.000-05:00`,
      fetches: ids.map((n) => fetch(n)),
    }).object;
  }
  return object!;
}

/** Feeds `bytes` in chunks of `size` and returns every event. */
function scan(bytes: Buffer, size: number, scanner = new DailyObjectScanner()): DailyObjectEvent[] {
  const events: DailyObjectEvent[] = [];
  for (let i = 0; i < bytes.length; i += size) events.push(...scanner.push(bytes.subarray(i, i + size)));
  events.push(...scanner.end());
  return events;
}

function fetchesOf(events: DailyObjectEvent[]): unknown[] {
  return events.flatMap((e) => (e.kind === 'fetch' ? [JSON.parse(e.raw.toString('utf8'))] : []));
}

describe('DailyObjectScanner', () => {
  it('yields every fetch of the writer layout, whatever the chunk boundaries', () => {
    const object = objectWith([[1, 2, 3], [4, 5], [6]]);
    const bytes = Buffer.from(serializeDailyObject(object));
    const expected = object.uploads.flatMap((u) => u.fetch_data.map((f) => plainFetch(f.fetch_number)));
    for (const size of [1, 2, 3, 7, 64, 1000, bytes.length]) {
      const events = scan(bytes, size);
      expect(fetchesOf(events), `chunk size ${size}`).toEqual(expected);
      const meta = events.find((e) => e.kind === 'metadata');
      expect(JSON.parse((meta as { raw: Buffer }).raw.toString('utf8'))).toEqual(object.daily_metadata);
      expect(events.filter((e) => e.kind === 'upload-end').map((e) => (e as { index: number }).index)).toEqual([0, 1, 2]);
    }
  });

  it('reports upload fields and byte ranges that slice the original bytes exactly', () => {
    const object = objectWith([[1, 2], [3]]);
    const bytes = Buffer.from(serializeDailyObject(object));
    const events = scan(bytes, 5);
    for (const e of events) {
      if (e.kind === 'fetch') expect(bytes.subarray(e.start, e.end).equals(e.raw)).toBe(true);
    }
    const ends = events.filter((e): e is Extract<DailyObjectEvent, { kind: 'upload-end' }> => e.kind === 'upload-end');
    expect(bytes[ends[0]!.end - 1]).toBe(0x7d); // `}`
    expect(String.fromCharCode(bytes[ends[0]!.end]!)).toBe(',');
    const fields = events.filter((e) => e.kind === 'upload-field').map((e) => [(e as { key: string }).key, JSON.parse((e as { raw: Buffer }).raw.toString())]);
    expect(fields).toContainEqual(['upload_sequence', 2]);
    expect(fields).toContainEqual(['records_in_upload', 2]);
  });

  it('reads any key order and whitespace, skipping unknown fields', () => {
    const object = JSON.parse(serializeDailyObject(objectWith([[1], [2]]))) as { daily_metadata: unknown; uploads: Array<Record<string, unknown>> };
    const pretty = JSON.stringify(
      {
        extra: { nested: ['x', { y: '}' }] },
        daily_metadata: object.daily_metadata,
        uploads: object.uploads.map(({ fetch_data, ...rest }) => ({ fetch_data, ...rest })),
      },
      null,
      3,
    );
    expect(fetchesOf(scan(Buffer.from(pretty), 11))).toEqual([plainFetch(1), plainFetch(2)]);
  });

  it('resumes just past an upload and yields only the uploads appended after it', () => {
    const before = Buffer.from(serializeDailyObject(objectWith([[1, 2], [3]])));
    const lastEnd = scan(before, 64)
      .filter((e) => e.kind === 'upload-end')
      .at(-1) as { end: number };
    const after = Buffer.from(serializeDailyObject(objectWith([[1, 2], [3], [4, 5]])));
    expect(after.subarray(0, lastEnd.end).equals(before.subarray(0, lastEnd.end))).toBe(true);
    const events = scan(after.subarray(lastEnd.end), 3, DailyObjectScanner.resumeAfterUpload(lastEnd.end, 2));
    expect(fetchesOf(events)).toEqual([plainFetch(4), plainFetch(5)]);
    expect(events.find((e) => e.kind === 'upload-start')).toMatchObject({ index: 2 });
    expect(events.some((e) => e.kind === 'metadata')).toBe(true);
  });

  it('refuses what is not a daily object, naming the problem and the byte', () => {
    const bad = (text: string) => () => scan(Buffer.from(text), 4);
    expect(bad('[1,2]')).toThrow(/not a JSON object at byte 0/);
    expect(bad('{"uploads":{}}')).toThrow(/"uploads" is not an array/);
    expect(bad('{"uploads":[1]}')).toThrow(/uploads\[0\] is not a JSON object/);
    expect(bad('{"uploads":[{"fetch_data":{}}]}')).toThrow(/fetch_data is not an array/);
    expect(bad('{"uploads":[{"fetch_data":[{"a":1}]')).toThrow(/cut short/);
    expect(bad('{"uploads":[]} x')).toThrow(/after the end/);
    expect(bad('')).toThrow(DailyObjectShapeError);
  });
});
