#!/usr/bin/env node
/**
 * Benchmark (not a test): does a consumer run cost what is new, whatever the dedup window holds?
 *
 *   node bench/consumer-window.mjs [--mib 1024] [--retention 8] [--long-retention 30] [--catch-up-only]
 *
 * Writes `mib` MiB of history (30 daily objects of uploads × 25 fetches × 20 records of ~500 bytes) into a
 * moto server it starts, then measures, side by side:
 *   daily      the history consumed one run a day (steady state) by two consumers, one with a dedup window
 *              of `retention` days and one of `long-retention` days, then three rounds that each append
 *              100 fetches (2000 records) to the last day: median wall ms of each, against the same on a
 *              stage with no history; the size of the processed-ID state (entry point + run files);
 *   catch-up   a new consumer reading the whole history in one run, in a child process: wall s and peak RSS.
 * Needs the built package (dist/).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startMoto } from '../../../tools/bench/lib.mjs';
import { applyUpload, createConsumer, dailyObjectKey, fixedClock, serializeDailyObject } from '../dist/index.js';

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const MIB = option('--mib', 1024);
const RETENTION = option('--retention', 8);
const LONG_RETENTION = option('--long-retention', 30);
const CATCH_UP_ONLY = args.includes('--catch-up-only');
const DAYS = 30;
const FETCHES = 25;
const RECORD = 'x'.repeat(440);
const lastDay = '2026-11-28';
const days = Array.from({ length: DAYS }, (_, d) => new Date(Date.parse(`${lastDay}T12:00:00Z`) - (DAYS - 1 - d) * 86_400_000).toISOString().slice(0, 10));
const batch = (date, u) => ({
  stage: 'bench',
  timezone: 'America/New_York',
  date,
  uploadTimestamp: `${date}T11:00:00.000-05:00`,
  fetches: Array.from({ length: FETCHES }, (_, f) => {
    const n = u * FETCHES + f + 1;
    return {
      fetch_id: `${date}-${n}`,
      fetch_number: n,
      timestamp: `${date}T10:00:00.000-05:00`,
      records: 20,
      data: { matches: Array.from({ length: 20 }, (_, r) => ({ match_id: `${date}-${n}-${r}`, note: RECORD })) },
    };
  }),
});
const uploadsPerDay = Math.max(1, Math.round((MIB * 1024 * 1024) / DAYS / Buffer.byteLength(JSON.stringify(batch(lastDay, 0)))));

const moto = await startMoto();
const client = new S3Client({
  endpoint: moto.endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
const work = mkdtempSync(join(tmpdir(), 'rs3-consumer-window-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Bytes of the processed-ID file and the run files beside it (locks aside). */
const dirBytes = (dir) =>
  readdirSync(dir, { withFileTypes: true })
    .filter((f) => !f.name.endsWith('.lock') && !f.name.endsWith('-lock'))
    .reduce((n, f) => n + (f.isDirectory() ? dirBytes(join(dir, f.name)) : statSync(join(dir, f.name)).size), 0);

try {
  const stages = {};
  for (const [kind, uploads] of [
    ['history', uploadsPerDay],
    ['empty', 0],
  ]) {
    const bucket = `window-${kind}-${Date.now().toString(36)}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const config = {
      stage: 'bench',
      bucket,
      prefix: 'logs',
      localDir: join(work, `${kind}-local`),
      fetchLimit: FETCHES,
      timezone: 'America/New_York',
      recordsPath: '/matches',
      recordIdField: 'match_id',
      forcePathStyle: true,
    };
    const stateDir = join(work, `${kind}-state`);
    const consumerOn = (date, days = RETENTION) =>
      createConsumer({
        config,
        consumer: `bench${days}`,
        stateDir: `${stateDir}-${days}`,
        clock: fixedClock(`${date}T23:00:00-05:00`),
        s3Client: client,
        retentionDays: days,
        readLocal: false,
      });
    const objects = new Map();
    let bytes = 0;
    for (const date of kind === 'history' ? days : []) {
      let object;
      for (let u = 0; u < uploads; u++) object = applyUpload(object, batch(date, u)).object;
      objects.set(date, object);
      const body = serializeDailyObject(object);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: dailyObjectKey(config.prefix, config.stage, date), Body: body }));
      bytes += Buffer.byteLength(body);
      if (CATCH_UP_ONLY) continue;
      await consumerOn(date).run(() => undefined);
      await consumerOn(date, LONG_RETENTION).run(() => undefined);
    }
    stages[kind] = { config, objects, bytes, consumerOn, stateDir, next: uploads };
  }
  const runs = { history: [], empty: [], long: [] };
  for (let round = 0; round < (CATCH_UP_ONLY ? 0 : 3); round++) {
    for (const kind of ['history', 'empty']) {
      const s = stages[kind];
      let object = s.objects.get(lastDay);
      for (let u = 0; u < 4; u++) object = applyUpload(object, batch(lastDay, s.next++)).object;
      s.objects.set(lastDay, object);
      await client.send(
        new PutObjectCommand({ Bucket: s.config.bucket, Key: dailyObjectKey(s.config.prefix, s.config.stage, lastDay), Body: serializeDailyObject(object) }),
      );
      const started = performance.now();
      let records = 0;
      await s.consumerOn(lastDay).run(() => void records++);
      runs[kind].push({ ms: performance.now() - started, records });
      if (kind === 'history') {
        const long = performance.now();
        await s.consumerOn(lastDay, LONG_RETENTION).run(() => undefined);
        runs.long.push({ ms: performance.now() - long });
      }
    }
  }
  if (!CATCH_UP_ONLY) report(runs, stages);
  // Catch-up: a new consumer reads the whole history in one run, in a child process (peak RSS).
  const rssFile = join(work, 'rss');
  const script = `
    import { createConsumer, fixedClock } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
    import { S3Client } from '@aws-sdk/client-s3';
    const client = new S3Client({ endpoint: ${JSON.stringify(moto.endpoint)}, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    const config = ${JSON.stringify({ ...stages.history.config, localDir: join(work, 'catchup-local') })};
    const started = performance.now();
    let records = 0;
    await createConsumer({ config, consumer: 'catchup', stateDir: ${JSON.stringify(join(work, 'catchup-state'))}, clock: fixedClock('${lastDay}T23:00:00-05:00'), s3Client: client, retentionDays: ${RETENTION}, readLocal: false }).run(() => void records++, { commitIntervalMs: Infinity });
    console.log(JSON.stringify({ ms: performance.now() - started, records }));`;
  const maxrss = fileURLToPath(new URL('../../../tools/bench/maxrss.cjs', import.meta.url));
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, NODE_OPTIONS: `--require=${maxrss}`, BENCH_RSS_FILE: rssFile },
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  const catchUp = JSON.parse(output.trim().split('\n').at(-1));
  const rss = Number(readFileSync(rssFile, 'utf8')) / 1024;
  console.log(
    `catch-up: ${catchUp.records} records in ${(catchUp.ms / 1000).toFixed(1)} s, peak RSS ${rss.toFixed(0)} MiB; state ${(dirBytes(join(work, 'catchup-state')) / 2 ** 20).toFixed(1)} MiB (${readdirSync(join(work, 'catchup-state'), { recursive: true }).join(' ')})`,
  );
  const next = performance.now();
  await createConsumer({
    config: stages.history.config,
    consumer: 'catchup',
    stateDir: join(work, 'catchup-state'),
    clock: fixedClock(`${lastDay}T23:30:00-05:00`),
    s3Client: client,
    retentionDays: RETENTION,
    readLocal: false,
  }).run(() => undefined);
  console.log(`after catch-up, a run with nothing new: ${(performance.now() - next).toFixed(0)} ms`);
} finally {
  moto.stop();
  rmSync(work, { recursive: true, force: true });
}

function report(runs, stages) {
  const h = median(runs.history.map((r) => r.ms));
  const e = median(runs.empty.map((r) => r.ms));
  const l = median(runs.long.map((r) => r.ms));
  const mib = (dir) => (dirBytes(dir) / 2 ** 20).toFixed(1);
  console.log(`history ${(stages.history.bytes / 2 ** 20).toFixed(0)} MiB, dedup windows ${RETENTION} and ${LONG_RETENTION} days`);
  console.log(
    `daily:    100 new fetches: ${h.toFixed(0)} ms on the history vs ${e.toFixed(0)} ms on none (${(h / e).toFixed(2)}x); runs ${runs.history.map((r) => r.ms.toFixed(0)).join('/')} vs ${runs.empty.map((r) => r.ms.toFixed(0)).join('/')} ms; state ${mib(`${stages.history.stateDir}-${RETENTION}`)} MiB`,
  );
  console.log(
    `daily, ${LONG_RETENTION}-day window: ${l.toFixed(0)} ms (${(l / e).toFixed(2)}x none); runs ${runs.long.map((r) => r.ms.toFixed(0)).join('/')} ms; state ${mib(`${stages.history.stateDir}-${LONG_RETENTION}`)} MiB`,
  );
}
