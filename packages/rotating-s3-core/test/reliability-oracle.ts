/**
 * The oracle of the reliability suites (reliability.integ.spec.ts, s3-faults.soak.spec.ts): after a final
 * clean flush, every acknowledged fetch is in S3 exactly once, each writer's numbers of a day are gap-free
 * and the daily totals equal the sums. Each scenario adds a row to the summary table printed after the file.
 */
import { afterAll, expect } from 'vitest';
import { createStageLogger, type StageConfig } from '../src/index.js';
import { silentOpsLog } from '../src/logger/ops-log.js';
import type { TestStage } from './support.js';

interface Row {
  scenario: string;
  faults: number;
  fetches: number;
  lost: number;
  duplicated: number;
}
const summary: Row[] = [];

afterAll(() => {
  const header = ['scenario', 'faults injected', 'fetches', 'lost', 'duplicated'];
  const rows = [...summary.map((r) => [r.scenario, String(r.faults), String(r.fetches), String(r.lost), String(r.duplicated)])];
  rows.push([
    'total',
    String(summary.reduce((n, r) => n + r.faults, 0)),
    String(summary.reduce((n, r) => n + r.fetches, 0)),
    String(summary.reduce((n, r) => n + r.lost, 0)),
    String(summary.reduce((n, r) => n + r.duplicated, 0)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`\nreliability summary\n${line(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.map(line).join('\n')}\n`);
});

/** Flushes what is pending (no faults), then checks conservation, numbering and totals in S3. */
export async function oracle(
  stage: TestStage,
  scenario: string,
  faults: number,
  acked: Array<{ id: string; number: number; date: string; writer?: string }>,
  configs: StageConfig[] = [stage.config],
): Promise<void> {
  for (const config of configs) {
    const flushed = await createStageLogger(config, { s3Client: stage.client, opsLog: silentOpsLog }).flush();
    expect(flushed.upload_error, JSON.stringify(flushed.upload_error)).toBeUndefined();
    expect(flushed.pending).toBe(0);
  }
  const seen = new Map<string, number>();
  for (const date of new Set(acked.map((a) => a.date))) {
    const day = await stage.readDaily(date);
    expect(day, `daily object of ${date}`).toBeDefined();
    expect(day!.uploads.map((u) => u.upload_sequence)).toEqual(day!.uploads.map((_, i) => i + 1));
    const fetches = day!.uploads.flatMap((u) => u.fetch_data);
    expect(day!.daily_metadata.total_records_today).toBe(fetches.reduce((n, f) => n + f.records, 0));
    expect(day!.daily_metadata.total_uploads_today).toBe(day!.uploads.length);
    for (const f of fetches) seen.set(f.fetch_id, (seen.get(f.fetch_id) ?? 0) + 1);
  }
  const lost = acked.filter((a) => !seen.has(a.id)).length;
  const duplicated = [...seen.values()].filter((n) => n > 1).length;
  summary.push({ scenario, faults, fetches: acked.length, lost, duplicated });
  expect({ lost, duplicated }).toEqual({ lost: 0, duplicated: 0 });
  for (const writer of new Set(acked.map((a) => a.writer ?? ''))) {
    for (const date of new Set(acked.map((a) => a.date))) {
      const numbers = acked
        .filter((a) => (a.writer ?? '') === writer && a.date === date)
        .map((a) => a.number)
        .sort((a, b) => a - b);
      expect(numbers, `numbers of ${writer || 'the writer'} on ${date}`).toEqual(numbers.map((_, i) => i + 1));
    }
  }
}

/** A deterministic PRNG, so a failing scenario can be replayed. */
export function prng(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}
