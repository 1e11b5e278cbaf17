/**
 * The Prometheus textfile: written after log/flush/status when asked, parseable by a real parser, equal to
 * `status --json`'s `metrics`, replaced atomically, never failing the command; and the shipped alert rules
 * and dashboard only query metrics the file exports, in valid PromQL.
 */
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parser as promql } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { METRICS } from '../src/index.js';
import { parsePrometheusStrict, sampleValue } from './ops-prometheus.js';
import { createTestStage, payload, runCli, writePayload, type TestStage } from './support.js';

const DOCS = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'docs');

async function log(stage: TestStage, n: number, now: string, env: Record<string, string>) {
  const file = writePayload(stage, `p${n}.json`, payload(n));
  const r = await runCli(['log', '--config', stage.configFile, '--payload-file', file, '--now', now], { env });
  expect(r.code, r.stderr).toBe(0);
  return r;
}

describe('metrics file', () => {
  it('log and flush write a Prometheus textfile that a real parser reads, with the numbers of status --json', async () => {
    const stage = await createTestStage();
    const dir = join(stage.dir, 'textfile');
    mkdirSync(dir);
    const env = { ...stage.env, ROTATING_S3_METRICS_FILE: `${dir}/` };
    for (let i = 1; i <= 4; i++) await log(stage, i, `2026-11-28T14:0${i}:00-05:00`, env);
    const file = join(dir, 'rotating_s3_merge.prom');

    let samples = parsePrometheusStrict(readFileSync(file, 'utf8'));
    expect(sampleValue(samples, 'rotating_s3_pending_fetches', { stage: 'merge' })).toBe(1);
    expect(sampleValue(samples, 'rotating_s3_uploads_total', { stage: 'merge' })).toBe(1);
    expect(sampleValue(samples, 'rotating_s3_fetches_today', { stage: 'merge' })).toBe(4);
    expect(sampleValue(samples, 'rotating_s3_generated_timestamp_seconds', { stage: 'merge' })).toBe(Date.parse('2026-11-28T14:04:00-05:00') / 1000);

    const flush = await runCli(['flush', '--config', stage.configFile, '--now', '2026-11-28T14:05:00-05:00'], { env });
    expect(flush.code).toBe(0);
    samples = parsePrometheusStrict(readFileSync(file, 'utf8'));
    expect(sampleValue(samples, 'rotating_s3_pending_fetches', { stage: 'merge' })).toBe(0);
    expect(sampleValue(samples, 'rotating_s3_uploads_total', { stage: 'merge' })).toBe(2);
    expect(sampleValue(samples, 'rotating_s3_last_upload_sequence', { stage: 'merge' })).toBe(2);

    // Every metric of the file equals the same field of status --json at the same instant.
    const status = await runCli(['status', '--json', '--local', '--config', stage.configFile, '--now', '2026-11-28T14:05:00-05:00'], { env: stage.env });
    const metrics = status.json!['metrics'] as Record<string, number | Record<string, number>>;
    for (const d of METRICS) {
      const value = metrics[d.name];
      if (typeof value === 'number') expect(sampleValue(samples, `rotating_s3_${d.name}`, { stage: 'merge' }), d.name).toBe(value);
    }
    expect(sampleValue(samples, 'rotating_s3_info', { stage: 'merge', timezone: 'America/New_York' })).toBe(1);
  });

  it('is replaced atomically: mode 0644, no temporary files left beside it', async () => {
    const stage = await createTestStage();
    const dir = join(stage.dir, 'textfile');
    mkdirSync(dir);
    for (let i = 1; i <= 5; i++) await log(stage, i, `2026-11-28T15:0${i}:00-05:00`, { ...stage.env, ROTATING_S3_METRICS_FILE: dir });
    expect(readdirSync(dir)).toEqual(['rotating_s3_merge.prom']);
    expect(statSync(join(dir, 'rotating_s3_merge.prom')).mode & 0o777).toBe(0o644);
  });

  it('--metrics-file wins over the environment and accepts a {stage} placeholder', async () => {
    const stage = await createTestStage();
    const dir = join(stage.dir, 'textfile');
    mkdirSync(dir);
    const file = writePayload(stage, 'p.json', payload(1));
    const r = await runCli(['log', '--config', stage.configFile, '--payload-file', file, '--metrics-file', join(dir, 'rs3-{stage}.prom')], {
      env: { ...stage.env, ROTATING_S3_METRICS_FILE: join(stage.dir, 'unused.prom') },
    });
    expect(r.code).toBe(0);
    expect(readdirSync(dir)).toEqual(['rs3-merge.prom']);
    expect(readdirSync(stage.dir)).not.toContain('unused.prom');
  });

  it('a metrics file that cannot be written is a warning: the fetch is logged and log exits 0', async () => {
    const stage = await createTestStage();
    writeFileSync(join(stage.dir, 'not-a-dir'), '');
    const r = await log(stage, 1, '2026-11-28T14:00:00-05:00', { ...stage.env, ROTATING_S3_METRICS_FILE: join(stage.dir, 'not-a-dir', 'm.prom') });
    expect(r.json).toMatchObject({ fetch_number: 1, pending: 1 });
    expect(r.stderr).toMatch(
      /^rotating-s3: warning: cannot write the metrics file .*not-a-dir\/m\.prom \(ENOTDIR\); fix --metrics-file \/ ROTATING_S3_METRICS_FILE/,
    );
  });

  it('status --local --metrics-file refreshes the file of an idle stage (cron)', async () => {
    const stage = await createTestStage();
    await log(stage, 1, '2026-11-28T14:00:00-05:00', stage.env);
    const target = join(stage.dir, 'm.prom');
    const r = await runCli(['status', '--local', '--config', stage.configFile, '--metrics-file', target, '--now', '2026-11-28T14:30:00-05:00'], {
      env: stage.env,
    });
    expect(r.stdout).toContain(`metrics file     ${target}`);
    const samples = parsePrometheusStrict(readFileSync(target, 'utf8'));
    expect(sampleValue(samples, 'rotating_s3_oldest_pending_age_seconds', { stage: 'merge' })).toBe(1800);
  });
});

/** PromQL expressions of the rules file (single-line `expr:` values) and of the dashboard's targets. */
function shippedExpressions(): Array<{ where: string; expr: string }> {
  const rules = readFileSync(join(DOCS, 'alerts', 'rotating-s3.rules.yml'), 'utf8');
  const fromRules = [...rules.matchAll(/^\s+expr: (.+)$/gm)].map((m) => ({ where: 'rules', expr: m[1]! }));
  const dashboard = JSON.parse(readFileSync(join(DOCS, 'grafana', 'rotating-s3.json'), 'utf8')) as {
    panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
  };
  const fromDashboard = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `dashboard "${p.title}"`, expr: t.expr })));
  return [...fromRules, ...fromDashboard];
}

describe('alert rules and dashboard', () => {
  const exported = new Set(['rotating_s3_info', ...METRICS.map((d) => `rotating_s3_${d.name}`)]);
  const expressions = shippedExpressions();

  it('ship the expected alerts and panels', () => {
    const rules = readFileSync(join(DOCS, 'alerts', 'rotating-s3.rules.yml'), 'utf8');
    expect([...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1])).toEqual([
      'RotatingS3NoUpload',
      'RotatingS3PendingAboveLimit',
      'RotatingS3UploadFailures',
      'RotatingS3NoMidnightTransition',
      'RotatingS3MetricsStale',
      'RotatingS3Quarantine',
    ]);
    expect(expressions.filter((e) => e.where !== 'rules').length).toBeGreaterThanOrEqual(12);
  });

  it('are valid PromQL (parsed with the Prometheus grammar)', () => {
    for (const { where, expr } of expressions) {
      // Grafana's $variables are not PromQL; substitute what Grafana would.
      const query = expr.replaceAll('$__interval', '1d').replaceAll('$__range', '7d').replaceAll('$stage', '.*');
      const errors: number[] = [];
      promql.parse(query).iterate({
        enter(node) {
          if (node.type.isError) errors.push(node.from);
        },
      });
      expect(errors, `${where}: ${expr}`).toEqual([]);
    }
  });

  it('query only metrics that the metrics file exports', () => {
    for (const { where, expr } of expressions) {
      for (const name of expr.match(/rotating_s3_[a-z0-9_]+/g) ?? []) expect(exported.has(name), `${where} uses ${name}`).toBe(true);
    }
  });
});
