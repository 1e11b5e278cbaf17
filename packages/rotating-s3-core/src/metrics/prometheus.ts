/**
 * Prometheus text exposition format (version 0.0.4) for the node_exporter textfile collector:
 * `# HELP` and `# TYPE` once per metric family, then one sample per stage (and per label value).
 *
 * The file is replaced atomically (temp file in the same directory → rename), so the collector never
 * reads half a file; the temp name does not end in `.prom`, so the collector ignores it. No fsync: after
 * a crash the next command writes the file again.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { METRICS, type StageMetrics } from './metrics.js';
import { loadWriteFileAtomic } from '../runtime/lazy-packages.js';

export const METRIC_PREFIX = 'rotating_s3_';

/** Environment variable naming the metrics file (or directory) of `log`, `flush` and `status`. */
export const METRICS_FILE_ENV = 'ROTATING_S3_METRICS_FILE';

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labels(pairs: Array<[string, string]>): string {
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function value(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(n);
}

/** Renders the metrics of one or more stages as one exposition (families are not repeated per stage). */
export function renderPrometheus(stages: readonly StageMetrics[]): string {
  const lines: string[] = [];
  lines.push(`# HELP ${METRIC_PREFIX}info Stage settings as labels; the value is always 1.`, `# TYPE ${METRIC_PREFIX}info gauge`);
  for (const m of stages)
    lines.push(
      `${METRIC_PREFIX}info${labels([
        ['stage', m.stage],
        ['timezone', m.timezone],
      ])} 1`,
    );
  for (const d of METRICS) {
    const name = `${METRIC_PREFIX}${d.name}`;
    lines.push(`# HELP ${name} ${escapeHelp(d.help)}`, `# TYPE ${name} ${d.type}`);
    for (const m of stages) {
      const v = m[d.name];
      if (typeof v === 'number') {
        lines.push(`${name}${labels([['stage', m.stage]])} ${value(v)}`);
      } else {
        for (const [labelValue, n] of Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) {
          lines.push(
            `${name}${labels([
              ['stage', m.stage],
              [d.label ?? 'label', labelValue],
            ])} ${value(n)}`,
          );
        }
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Where the metrics of `stage` go: a directory (existing, or given with a trailing `/`) receives
 * `rotating_s3_<stage>.prom`, so one setting serves every stage of a host; `{stage}` in a file name is
 * replaced by the stage name; anything else is used as is.
 */
export async function metricsFilePath(target: string, stage: string): Promise<string> {
  if (target.endsWith('/')) return join(target, `${METRIC_PREFIX}${stage}.prom`);
  const info = await stat(target).catch(() => undefined);
  if (info?.isDirectory()) return join(target, `${METRIC_PREFIX}${stage}.prom`);
  return target.replaceAll('{stage}', stage);
}

/** Replaces the metrics file atomically (readable by node_exporter: mode 0644). Returns its path. */
export async function writeMetricsFile(target: string, metrics: StageMetrics): Promise<string> {
  const path = await metricsFilePath(target, metrics.stage);
  const writeFileAtomic = await loadWriteFileAtomic();
  await writeFileAtomic(path, renderPrometheus([metrics]), { fsync: false, mode: 0o644 });
  return path;
}
