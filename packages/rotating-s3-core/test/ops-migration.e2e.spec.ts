/**
 * docs/migration.md's promises: a daily object written by the Python `<stage>_rotating_s3.py` scripts
 * (SPEC §4 fields only, metadata first, indented) is appended to by rotating-s3 on a mid-day switch; a
 * local file with the Python scripts' old two-field markers is set aside in the quarantine file, never
 * uploaded or lost.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readObjectText } from '@rotating-s3/test-harness';
import { createTestStage, payload, runCli, writePayload } from './support.js';

describe('migration from the Python scripts', () => {
  it('appends to a daily object the Python script wrote earlier that day, keeping its uploads and totals consistent', async () => {
    const stage = await createTestStage(); // fetchLimit 3
    const python = {
      daily_metadata: {
        date: '2026-11-28',
        total_uploads_today: 1,
        total_records_today: 4,
        first_upload_today: '2026-11-28T08:00:00.123456-05:00',
        last_upload: '2026-11-28T08:00:00.123456-05:00',
      },
      uploads: [
        {
          upload_sequence: 1,
          upload_timestamp: '2026-11-28T08:00:00.123456-05:00',
          records_in_upload: 4,
          fetches_in_upload: 2,
          fetch_data: [
            {
              fetch_id: 'py-1',
              fetch_number: 1,
              timestamp: '2026-11-28T07:50:00.000000-05:00',
              records: 2,
              data: { matches: [{ match_id: 'p1' }, { match_id: 'p2' }] },
            },
            {
              fetch_id: 'py-2',
              fetch_number: 2,
              timestamp: '2026-11-28T07:55:00.000000-05:00',
              records: 2,
              data: { matches: [{ match_id: 'p3' }, { match_id: 'p4' }] },
            },
          ],
        },
      ],
    };
    const key = 'logs/merge/merge_json_log_2026-11-28.json';
    await stage.client.send(new PutObjectCommand({ Bucket: stage.bucket, Key: key, Body: JSON.stringify(python, null, 2) }));

    for (let i = 1; i <= 3; i++) {
      const file = writePayload(stage, `p${i}.json`, payload(i));
      expect(
        (await runCli(['log', '--config', stage.configFile, '--payload-file', file, '--now', `2026-11-28T09:0${i}:00-05:00`], { env: stage.env })).code,
      ).toBe(0);
    }
    const daily = (await stage.readDaily('2026-11-28'))!;
    expect(daily.uploads.map((u) => u.upload_sequence)).toEqual([1, 2]);
    expect(daily.uploads[0]!.fetch_data.map((f) => f.fetch_id)).toEqual(['py-1', 'py-2']);
    expect(daily.daily_metadata).toMatchObject({
      date: '2026-11-28',
      total_uploads_today: 2,
      total_records_today: 10,
      total_fetches_today: 5,
      first_upload_today: '2026-11-28T08:00:00.123456-05:00',
    });
    // Rewritten in rotating-s3's layout: one upload per line, metadata last.
    expect((await readObjectText(stage.bucket, key))!.split('\n')[0]).toBe('{"uploads":[');
  });

  it('sets a local file with the old two-field markers aside in the quarantine file instead of uploading it', async () => {
    const stage = await createTestStage();
    mkdirSync(stage.config.localDir, { recursive: true });
    const old = '=== FETCH START: py-9 | 2026-11-28T07:59:00-05:00 ===\n{"matches": []}\n=== FETCH END: py-9 | 2026-11-28T07:59:00-05:00 ===\n';
    writeFileSync(join(stage.config.localDir, 'merge_fetches.log'), old);
    const file = writePayload(stage, 'p.json', payload(1));
    const r = await runCli(['log', '--config', stage.configFile, '--payload-file', file, '--now', '2026-11-28T09:00:00-05:00'], { env: stage.env });
    expect(r.json).toMatchObject({ fetch_number: 1, pending: 1 });
    const quarantine = readFileSync(join(stage.config.localDir, 'merge_quarantine.log'), 'utf8');
    expect(quarantine).toContain(old);
    expect(readFileSync(join(stage.config.localDir, 'merge_fetches.log'), 'utf8')).not.toContain('py-9');
  });
});
