/**
 * The load-and-chaos scenario: W writers, each a separate process with its own local directory (a "host"),
 * on one stage, bucket and prefix, so every rotation is a compare-and-swap on the same daily object. Each
 * writer logs a fixed count of fetches as fast as it can (test/fixtures/soak-writer.mjs) with a small
 * fetchLimit, through the fault proxy (errors, resets, timeouts, applied-but-lost responses on a fixed
 * share of requests); writers are killed with SIGKILL at spread-out moments and restarted at once from their
 * first unacknowledged fetch id. Then every host flushes, and the oracle reads S3 directly:
 *   every acknowledged fetch exactly once; upload_sequence 1..n; daily totals = sums over uploads;
 *   each host's fetch numbers 1..N; no block left in any host's local file.
 * Used by soak.e2e.spec.ts (reduced) and soak.soak.ts (the full run behind the Nx `soak` target).
 * Figures are measured, never asserted on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createTestBucket, getTestS3, readObjectText, s3Env } from '@rotating-s3/test-harness';
import { readLog } from '../../src/index.js';
import type { DailyObject } from '../../src/index.js';
import { startFaultProxy, type Fault } from '../fault-proxy.js';
import { runCli } from '../support.js';

const WRITER = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'soak-writer.mjs');
/** The stage clock of every process: the scenario never reads the real date. */
export const SOAK_NOW = '2026-11-28T20:00:00Z';
const DATE = '2026-11-28';
const STAGE = 'soak';

export interface SoakOptions {
  writers: number;
  fetchesPerWriter: number;
  /** kill -9 of a random running writer, spread evenly over the run. */
  kills: number;
  fetchLimit?: number;
  /** Share of requests the proxy spoils (default 0.05). */
  faultRate?: number;
  seed?: number;
  /** Extra bytes per payload (default 0: ~170 bytes per fetch in the daily object). */
  payloadBytes?: number;
  /** Client timeout of the writers; the proxy's `slow` faults hold responses 500 ms longer. */
  requestTimeoutMs?: number;
}

export interface SoakReport {
  writers: number;
  fetchesPerWriter: number;
  acked: number;
  seconds: number;
  uploads: number;
  conditionalFailures: number;
  rotationLatencyMs: { p50: number; p99: number; count: number };
  kills: number;
  restartsAfterError: number;
  faults: number;
  faultsByKind: Record<string, number>;
  requests: number;
  uploadErrors: number;
  lost: number;
  duplicated: number;
  /** Oracle violations, one line each (empty when the run is correct). */
  violations: string[];
}

/** A deterministic PRNG, so a run's fault kinds and kill targets can be replayed. */
function prng(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Writes (mutating requests) get applied-but-lost responses more often: that is the ambiguous case. */
const WRITE_FAULTS: Fault[] = ['lost', 'lost', '500', '503', 'reset', 'slow'];
const READ_FAULTS: Fault[] = ['500', '503', 'reset', 'slow', 'lost'];

export async function runSoak(options: SoakOptions, dir: string): Promise<SoakReport> {
  const { writers, fetchesPerWriter } = options;
  const fetchLimit = options.fetchLimit ?? 5;
  const every = Math.round(1 / (options.faultRate ?? 0.05));
  const random = prng(options.seed ?? 17);
  const requestTimeoutMs = options.requestTimeoutMs ?? 3_000;
  const bucket = await createTestBucket('soak');
  const s3 = getTestS3();
  let n = 0;
  const proxy = await startFaultProxy(
    s3.endpoint,
    (req) => {
      if (++n % every !== 0) return 'ok';
      const kinds = req.method === 'GET' || req.method === 'HEAD' ? READ_FAULTS : WRITE_FAULTS;
      return kinds[Math.floor(random() * kinds.length)]!;
    },
    requestTimeoutMs + 500,
  );
  const env = {
    ...s3Env(bucket),
    AWS_ENDPOINT_URL_S3: proxy.endpoint,
    SOAK_REQUEST_TIMEOUT_MS: String(requestTimeoutMs),
    SOAK_PAD_BYTES: String(options.payloadBytes ?? 0),
  };

  const hosts = Array.from({ length: writers }, (_, w) => {
    const localDir = join(dir, `host-${w}`);
    mkdirSync(localDir, { recursive: true });
    const configFile = join(dir, `host-${w}.json`);
    writeFileSync(
      configFile,
      JSON.stringify({
        stage: STAGE,
        prefix: 'soak',
        localDir,
        fetchLimit,
        timezone: 'UTC',
        recordsPath: '/matches',
        recordIdField: 'match_id',
        forcePathStyle: true,
      }),
    );
    return { name: `w${w}`, localDir, configFile, next: 0, numbers: new Map<number, number>(), child: undefined as ChildProcess | undefined, done: false };
  });

  const latencies: number[] = [];
  let acked = 0;
  let uploadErrors = 0;
  let kills = 0;
  let restartsAfterError = 0;
  const total = writers * fetchesPerWriter;
  const killEvery = Math.max(1, Math.floor(total / (options.kills + 1)));
  let nextKillAt = killEvery;
  const violations: string[] = [];
  const started = performance.now();

  await new Promise<void>((resolveAll, rejectAll) => {
    const start = (host: (typeof hosts)[number]) => {
      const child = spawn(process.execPath, [WRITER, host.configFile, host.name, String(host.next), String(fetchesPerWriter), SOAK_NOW], {
        env: { PATH: process.env['PATH'] ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      host.child = child;
      let buffered = '';
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2_000)));
      child.stdout!.on('data', (d: Buffer) => {
        buffered += d.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) {
          if (line === 'done') {
            host.done = true;
            continue;
          }
          const [tag, i, number, applied, error, ms] = line.split(' ');
          if (tag !== 'ack') continue;
          // A retry after a kill acknowledges the same id again (a no-op returning its number): count it once.
          if (!host.numbers.has(Number(i))) acked++;
          host.numbers.set(Number(i), Number(number));
          host.next = Number(i) + 1;
          if (error !== '-') uploadErrors++;
          if (Number(applied) > 0) latencies.push(Number(ms));
          if (acked >= nextKillAt && kills < options.kills) {
            nextKillAt += killEvery;
            const running = hosts.filter((h) => h.child && !h.done);
            const victim = running[Math.floor(random() * running.length)];
            // A moment later, so kills land inside appends and uploads, not only between calls.
            if (victim) setTimeout(() => victim.child?.kill('SIGKILL'), Math.floor(random() * 40));
          }
        }
      });
      child.on('close', (code, signal) => {
        host.child = undefined;
        if (host.done && code === 0) {
          if (hosts.every((h) => h.done)) resolveAll();
          return;
        }
        if (signal === 'SIGKILL') kills++;
        else if (++restartsAfterError > 10 * writers)
          return rejectAll(new Error(`writer ${host.name} keeps failing (exit ${code}): ${stderr.trim().split('\n').at(-1)}`));
        else violations.push(`writer ${host.name} exited ${code ?? signal} without a kill: ${stderr.trim().split('\n').at(-1)}`);
        start(host); // at once, from the first unacknowledged fetch id
      });
    };
    hosts.forEach(start);
  });
  const seconds = (performance.now() - started) / 1000;

  // A final flush from every host, through the same faults; retried until nothing is pending.
  for (const host of hosts) {
    for (let attempt = 0; ; attempt++) {
      const r = await runCli(['flush', '--config', host.configFile, '--now', SOAK_NOW], { env });
      if (r.code === 0 && r.json?.['pending'] === 0) break;
      if (attempt === 20) {
        violations.push(`host ${host.name}: flush still failing after 20 attempts: ${r.stderr.trim() || JSON.stringify(r.json)}`);
        break;
      }
    }
  }
  await proxy.close();

  // The oracle, from S3 directly.
  const key = `soak/${STAGE}_json_log_${DATE}.json`;
  const text = await readObjectText(bucket, key);
  const day = text === undefined ? undefined : (JSON.parse(text) as DailyObject);
  const uploads = day?.uploads ?? [];
  if (!day) violations.push(`no daily object at s3://${bucket}/${key}`);
  const sequences = uploads.map((u) => u.upload_sequence);
  const gap = sequences.findIndex((s, i) => s !== i + 1);
  if (gap >= 0) violations.push(`upload_sequence not 1..${uploads.length}: position ${gap + 1} holds ${sequences[gap]}`);
  if (day) {
    const m = day.daily_metadata;
    const sums = {
      uploads: uploads.length,
      records: uploads.reduce((s, u) => s + u.records_in_upload, 0),
      fetches: uploads.reduce((s, u) => s + u.fetches_in_upload, 0),
    };
    if (m.total_uploads_today !== sums.uploads) violations.push(`total_uploads_today ${m.total_uploads_today} ≠ ${sums.uploads} uploads`);
    if (m.total_records_today !== sums.records) violations.push(`total_records_today ${m.total_records_today} ≠ ${sums.records} (sum of records_in_upload)`);
    if (m.total_fetches_today !== undefined && m.total_fetches_today !== sums.fetches)
      violations.push(`total_fetches_today ${m.total_fetches_today} ≠ ${sums.fetches}`);
    for (const u of uploads) {
      if (u.fetches_in_upload !== u.fetch_data.length)
        violations.push(`upload ${u.upload_sequence}: fetches_in_upload ${u.fetches_in_upload} ≠ ${u.fetch_data.length} entries`);
      const records = u.fetch_data.reduce((s, f) => s + f.records, 0);
      if (u.records_in_upload !== records) violations.push(`upload ${u.upload_sequence}: records_in_upload ${u.records_in_upload} ≠ ${records}`);
    }
  }
  const seen = new Map<string, Array<{ sequence: number; number: number }>>();
  for (const u of uploads)
    for (const f of u.fetch_data) seen.set(f.fetch_id, [...(seen.get(f.fetch_id) ?? []), { sequence: u.upload_sequence, number: f.fetch_number }]);
  let lost = 0;
  for (const host of hosts) {
    for (const [i, number] of host.numbers) {
      const id = `${host.name}-${i}`;
      const found = seen.get(id);
      if (!found) {
        lost++;
        if (lost <= 20) violations.push(`lost: ${id} (fetch_number ${number}) acknowledged but in no upload`);
      } else if (found[0]!.number !== number) violations.push(`${id}: acknowledged as fetch_number ${number}, in S3 as ${found[0]!.number}`);
    }
    const numbers = uploads
      .flatMap((u) => u.fetch_data)
      .filter((f) => f.fetch_id.startsWith(`${host.name}-`))
      .map((f) => f.fetch_number)
      .sort((a, b) => a - b);
    const firstGap = numbers.findIndex((x, i) => x !== i + 1);
    if (firstGap >= 0) violations.push(`host ${host.name}: fetch numbers in S3 not 1..${numbers.length}: position ${firstGap + 1} holds ${numbers[firstGap]}`);
    const { blocks, torn } = await readLog(join(host.localDir, `${STAGE}_fetches.log`));
    if (blocks.length > 0 || torn.length > 0)
      violations.push(`host ${host.name}: ${blocks.length} block(s) and ${torn.length} torn segment(s) left locally after the final flush`);
  }
  const doubled = [...seen].filter(([, at]) => at.length > 1);
  for (const [id, at] of doubled.slice(0, 20)) violations.push(`duplicated: ${id} in uploads ${at.map((a) => a.sequence).join(', ')}`);
  latencies.sort((a, b) => a - b);
  return {
    writers,
    fetchesPerWriter,
    acked,
    seconds,
    uploads: uploads.length,
    conditionalFailures: (proxy.responses[412] ?? 0) + (proxy.responses[409] ?? 0),
    rotationLatencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), count: latencies.length },
    kills,
    restartsAfterError,
    faults: proxy.total(),
    faultsByKind: { ...proxy.injected },
    requests: proxy.requests,
    uploadErrors,
    lost,
    duplicated: doubled.length,
    violations,
  };
}

/** The report as a Markdown table, one row per run. */
export function soakTable(reports: SoakReport[]): string {
  const header = [
    'W',
    'fetches / writer',
    'acked fetches',
    'acked/s',
    'rotations',
    'rotations/s',
    'cond. failures / upload',
    'rotation p50 ms',
    'rotation p99 ms',
    'kill -9 survived',
    'S3 faults injected',
    'S3 requests',
    'lost',
    'duplicated',
  ];
  const rows = reports.map((r) => [
    String(r.writers),
    String(r.fetchesPerWriter),
    String(r.acked),
    (r.acked / r.seconds).toFixed(1),
    String(r.uploads),
    (r.uploads / r.seconds).toFixed(2),
    (r.conditionalFailures / Math.max(1, r.uploads)).toFixed(2),
    r.rotationLatencyMs.p50.toFixed(0),
    r.rotationLatencyMs.p99.toFixed(0),
    String(r.kills),
    String(r.faults),
    String(r.requests),
    String(r.lost),
    String(r.duplicated),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
