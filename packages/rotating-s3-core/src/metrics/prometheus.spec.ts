import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parsePrometheusStrict, sampleValue } from '../../test/ops-prometheus.js';
import { METRICS, type StageMetrics } from './metrics.js';
import { metricsFilePath, renderPrometheus } from './prometheus.js';

function metrics(stage: string, overrides: Partial<StageMetrics> = {}): StageMetrics {
  const base = Object.fromEntries(METRICS.map((d) => [d.name, d.label ? {} : 0])) as unknown as StageMetrics;
  return { ...base, stage, timezone: 'America/New_York', date: '2026-11-28', ...overrides };
}

describe('renderPrometheus', () => {
  it('renders every metric once with HELP and TYPE, one sample per stage, parseable by a real parser', () => {
    const text = renderPrometheus([metrics('merge', { pending_fetches: 7, uploads_total: 3 }), metrics('pretty_print', { pending_fetches: 1 })]);
    const samples = parsePrometheusStrict(text);
    for (const d of METRICS.filter((m) => !m.label)) {
      const family = samples.filter((s) => s.name === `rotating_s3_${d.name}`);
      expect(
        family.map((s) => s.labels['stage']),
        d.name,
      ).toEqual(['merge', 'pretty_print']);
      expect(family[0]!.type).toBe(d.type.toUpperCase());
    }
    expect(sampleValue(samples, 'rotating_s3_pending_fetches', { stage: 'merge' })).toBe(7);
    expect(sampleValue(samples, 'rotating_s3_pending_fetches', { stage: 'pretty_print' })).toBe(1);
    expect(sampleValue(samples, 'rotating_s3_info', { stage: 'merge', timezone: 'America/New_York' })).toBe(1);
  });

  it('names counters *_total and keeps metric names unique', () => {
    for (const d of METRICS) expect(d.name.endsWith('_total'), d.name).toBe(d.type === 'counter');
    expect(new Set(METRICS.map((d) => d.name)).size).toBe(METRICS.length);
  });

  it('breaks failures down by error code as a label', () => {
    const text = renderPrometheus([metrics('merge', { upload_failures_by_code_total: { E_S3_UNREACHABLE: 2, E_S3_AUTH: 1 } })]);
    const samples = parsePrometheusStrict(text).filter((s) => s.name === 'rotating_s3_upload_failures_by_code_total');
    expect(samples.map((s) => [s.labels['code'], s.value])).toEqual([
      ['E_S3_AUTH', 1],
      ['E_S3_UNREACHABLE', 2],
    ]);
  });

  it('escapes label values so quotes, backslashes and newlines survive a round trip', () => {
    const timezone = 'Odd\\"Zone\nX';
    const samples = parsePrometheusStrict(renderPrometheus([metrics('merge', { timezone })]));
    expect(samples.find((s) => s.name === 'rotating_s3_info')!.labels['timezone']).toBe(timezone);
  });
});

describe('metricsFilePath', () => {
  it('puts rotating_s3_<stage>.prom into a directory, replaces {stage}, and keeps a plain file name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rs3-prom-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    expect(await metricsFilePath(dir, 'merge')).toBe(join(dir, 'rotating_s3_merge.prom'));
    expect(await metricsFilePath('/nonexistent/dir/', 'merge')).toBe('/nonexistent/dir/rotating_s3_merge.prom');
    expect(await metricsFilePath(join(dir, 'rs3-{stage}.prom'), 'monitor')).toBe(join(dir, 'rs3-monitor.prom'));
    expect(await metricsFilePath(join(dir, 'all.prom'), 'merge')).toBe(join(dir, 'all.prom'));
  });
});
