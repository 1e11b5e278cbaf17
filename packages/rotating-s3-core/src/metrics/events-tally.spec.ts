import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { applyEvent, emptyTally, metricsCursorPath, tallyEvents } from './events-tally.js';

const line = (event: Record<string, unknown>) => `${JSON.stringify({ time: '2026-11-28T20:00:00.000Z', level: 'info', stage: 'merge', ...event })}\n`;
const uploaded = (date: string, fetches: number, records: number, conflicts = 0) => line({ event: 'uploaded', date, fetches, records, conflicts });
const failed = (date: string, code: string) => line({ level: 'error', event: 'upload_failed', date, fetches: 3, code, message: 'x' });

function stageDir(): { dir: string; events: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rs3-tally-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, events: join(dir, 'merge_events.jsonl') };
}

describe('applyEvent', () => {
  it('counts a retry for every attempt after a failed one of the same date, until one succeeds', () => {
    const t = emptyTally();
    applyEvent(t, { event: 'upload_failed', date: '2026-11-28', code: 'E_S3_UNREACHABLE' });
    applyEvent(t, { event: 'upload_failed', date: '2026-11-28', code: 'E_S3_UNREACHABLE' });
    applyEvent(t, { event: 'uploaded', date: '2026-11-28', fetches: 6, records: 12, conflicts: 2 });
    applyEvent(t, { event: 'uploaded', date: '2026-11-28', fetches: 3, records: 3, conflicts: 0 });
    expect(t.retries).toBe(2);
    expect(t.failuresByCode).toEqual({ E_S3_UNREACHABLE: 2 });
    expect(t.conflicts).toBe(2);
    expect(t.byDate['2026-11-28']).toEqual({ uploads: 2, fetches: 9, records: 15 });
    expect(t.failingDates).toEqual([]);
  });

  it('counts an upload found already applied as a retry of the failed attempt, not as an upload', () => {
    const t = emptyTally();
    applyEvent(t, { event: 'upload_failed', date: '2026-11-28', code: 'E_S3_UNREACHABLE' });
    applyEvent(t, { event: 'upload_already_applied', date: '2026-11-28', fetches: 3, records: 3, conflicts: 0 });
    expect([t.retries, t.alreadyApplied, t.uploadedFetches]).toEqual([1, 1, 0]);
  });

  it('keeps the per-date totals of the most recent 4 dates only', () => {
    const t = emptyTally();
    for (const d of ['2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28'])
      applyEvent(t, { event: 'uploaded', date: d, fetches: 1, records: 1 });
    expect(Object.keys(t.byDate).sort()).toEqual(['2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28']);
    expect(t.uploadedFetches).toBe(5);
  });
});

describe('tallyEvents', () => {
  it('reads only the events appended since the cursor and never a line still being written', async () => {
    const { dir, events } = stageDir();
    writeFileSync(events, uploaded('2026-11-28', 3, 6) + uploaded('2026-11-28', 3, 4, 1));
    expect((await tallyEvents(dir, 'merge')).uploadedRecords).toBe(10);
    // A half-written line is left for the next call.
    const next = uploaded('2026-11-28', 3, 5);
    appendFileSync(events, next.slice(0, 20));
    expect((await tallyEvents(dir, 'merge')).uploadedRecords).toBe(10);
    appendFileSync(events, next.slice(20));
    const t = await tallyEvents(dir, 'merge');
    expect([t.uploadedRecords, t.conflicts, t.byDate['2026-11-28']!.uploads]).toEqual([15, 1, 3]);
    const cursor = JSON.parse(readFileSync(metricsCursorPath(dir, 'merge'), 'utf8')) as { events: { offset: number } };
    expect(cursor.events.offset).toBe(readFileSync(events).length);
  });

  it('keeps counting across a rotated or truncated events file (a counter never goes back)', async () => {
    const { dir, events } = stageDir();
    writeFileSync(events, failed('2026-11-28', 'E_S3_AUTH') + uploaded('2026-11-28', 3, 3));
    await tallyEvents(dir, 'merge');
    renameSync(events, `${events}.1`); // logrotate: move + new file
    writeFileSync(events, uploaded('2026-11-28', 2, 2));
    let t = await tallyEvents(dir, 'merge');
    expect([t.uploadedFetches, t.retries, t.failuresByCode['E_S3_AUTH']]).toEqual([5, 1, 1]);
    writeFileSync(events, ''); // copytruncate
    appendFileSync(events, uploaded('2026-11-29', 1, 1));
    t = await tallyEvents(dir, 'merge');
    expect(t.uploadedFetches).toBe(6);
  });

  it('rebuilds from the whole events file when the cursor is lost or unreadable, and skips damaged lines', async () => {
    const { dir, events } = stageDir();
    writeFileSync(
      events,
      uploaded('2026-11-28', 3, 3) + '{"not json\n' + line({ event: 'repaired', adopted_blocks: 1 }) + line({ event: 'quarantined', bytes: 94 }),
    );
    await tallyEvents(dir, 'merge');
    writeFileSync(metricsCursorPath(dir, 'merge'), 'garbage');
    const t = await tallyEvents(dir, 'merge');
    expect([t.uploadedFetches, t.repairs, t.quarantinedSegments, t.quarantinedBytes]).toEqual([3, 1, 1, 94]);
  });

  it('does not write the cursor when asked not to (a read-only status)', async () => {
    const { dir, events } = stageDir();
    writeFileSync(events, uploaded('2026-11-28', 3, 3));
    await tallyEvents(dir, 'merge', { saveCursor: false });
    expect(() => readFileSync(metricsCursorPath(dir, 'merge'))).toThrow();
  });
});
