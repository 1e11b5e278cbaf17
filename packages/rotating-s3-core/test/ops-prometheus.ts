/**
 * Test helper: parses Prometheus text with an independent parser (parse-prometheus-text-format) and adds
 * the strictness it lacks (it accepts garbage lines as untyped samples), so a test fails on anything
 * node_exporter would reject.
 */
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export interface StrictSample {
  name: string;
  type: ParsedFamily['type'];
  labels: Record<string, string>;
  value: number;
}

export function parsePrometheusStrict(text: string): StrictSample[] {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = parsePrometheusTextFormat(text);
  const seen = new Set<string>();
  const samples: StrictSample[] = [];
  for (const f of families) {
    if (!NAME.test(f.name)) throw new Error(`bad metric name ${f.name}`);
    if (seen.has(f.name)) throw new Error(`family ${f.name} appears twice`);
    seen.add(f.name);
    if (f.type === 'UNTYPED') throw new Error(`family ${f.name} has no # TYPE line`);
    if (!f.help) throw new Error(`family ${f.name} has no # HELP line`);
    for (const m of f.metrics) {
      if (m.timestamp_ms !== undefined) throw new Error(`${f.name}: unexpected timestamp ${m.timestamp_ms} (garbage after the value?)`);
      if (m.value.trim() === '' || Number.isNaN(Number(m.value))) throw new Error(`${f.name}: value ${JSON.stringify(m.value)} is not a number`);
      for (const k of Object.keys(m.labels ?? {})) if (!LABEL.test(k)) throw new Error(`${f.name}: bad label name ${k}`);
      samples.push({ name: f.name, type: f.type, labels: m.labels ?? {}, value: Number(m.value) });
    }
  }
  const sampleLines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  if (sampleLines !== samples.length) throw new Error(`${sampleLines} sample lines but ${samples.length} parsed samples`);
  return samples;
}

export function sampleValue(samples: StrictSample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
