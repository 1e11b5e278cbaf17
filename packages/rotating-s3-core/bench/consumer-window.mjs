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
 *              Also the time spent waiting on S3 (moto) in those runs, and the consumer's own time (wall − S3):
 *              moto serves a range of a large object more slowly than of a small one.
 *   catch-up   a new consumer reading the whole history in one run, in a child process: wall s and peak RSS,
 *              with the JS heap and array buffers at the sampled peak (BENCH_NODE_OPTIONS adds node options
 *              to that child, e.g. --max-old-space-size=48 to see how much of the RSS is uncollected garbage).
 * Needs the built package (dist/).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { HISTORY, historyBatch, historyDays, median, s3 as s3Client, startMoto, uploadsPerDay as historyUploadsPerDay } from '../../../tools/bench/lib.mjs';
import { applyUpload, createConsumer, dailyObjectKey, fixedClock, serializeDailyObject } from '../dist/index.js';

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const MIB = option('--mib', 1024);
const RETENTION = option('--retention', 8);
const LONG_RETENTION = option('--long-retention', 30);
const CATCH_UP_ONLY = args.includes('--catch-up-only');
const { FETCHES, LAST_DAY: lastDay } = HISTORY;
const days = historyDays;
const batch = historyBatch;
const uploadsPerDay = historyUploadsPerDay(MIB);

const moto = await startMoto();
const client = s3Client(moto.endpoint);
/**
 * Time spent in S3 calls during a timed run: `send` until the response body is fully received (a GET's
 * body is read into memory here, then handed to the consumer as a stream), so wall − S3 is the consumer's own time.
 */
const s3 = { ms: 0 };
const send = client.send.bind(client);
client.send = async (command, ...rest) => {
  const started = performance.now();
  try {
    const response = await send(command, ...rest);
    if (response.Body && typeof response.Body.transformToByteArray === 'function')
      response.Body = Readable.from([Buffer.from(await response.Body.transformToByteArray())]);
    return response;
  } finally {
    s3.ms += performance.now() - started;
  }
};
const work = mkdtempSync(join(tmpdir(), 'rs3-consumer-window-'));
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
      s3.ms = 0;
      const started = performance.now();
      let records = 0;
      await s.consumerOn(lastDay).run(() => void records++);
      runs[kind].push({ ms: performance.now() - started, s3: s3.ms, records });
      if (kind === 'history') {
        s3.ms = 0;
        const long = performance.now();
        await s.consumerOn(lastDay, LONG_RETENTION).run(() => undefined);
        runs.long.push({ ms: performance.now() - long, s3: s3.ms });
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
    const peak = { rss: 0 };
    const sampler = setInterval(() => { const m = process.memoryUsage(); if (m.rss > peak.rss) Object.assign(peak, m); }, 10);
    const started = performance.now();
    let records = 0;
    await createConsumer({ config, consumer: 'catchup', stateDir: ${JSON.stringify(join(work, 'catchup-state'))}, clock: fixedClock('${lastDay}T23:00:00-05:00'), s3Client: client, retentionDays: ${RETENTION}, readLocal: false }).run(() => void records++, { commitIntervalMs: Infinity });
    clearInterval(sampler);
    console.log(JSON.stringify({ ms: performance.now() - started, records, peak }));`;
  const maxrss = fileURLToPath(new URL('../../../tools/bench/maxrss.cjs', import.meta.url));
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, NODE_OPTIONS: `--require=${maxrss} ${process.env.BENCH_NODE_OPTIONS ?? ''}`, BENCH_RSS_FILE: rssFile },
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  const catchUp = JSON.parse(output.trim().split('\n').at(-1));
  const rss = Number(readFileSync(rssFile, 'utf8')) / 1024;
  const at = (bytes) => (bytes / 2 ** 20).toFixed(0);
  console.log(
    `catch-up: ${catchUp.records} records in ${(catchUp.ms / 1000).toFixed(1)} s, peak RSS ${rss.toFixed(0)} MiB (sampled peak: JS heap ${at(catchUp.peak.heapUsed)} of ${at(catchUp.peak.heapTotal)} MiB used, array buffers ${at(catchUp.peak.arrayBuffers)} MiB); state ${(dirBytes(join(work, 'catchup-state')) / 2 ** 20).toFixed(1)} MiB (${readdirSync(join(work, 'catchup-state'), { recursive: true }).join(' ')})`,
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
  // The consumer's own time: wall minus the time spent waiting on S3 (moto) in the same run.
  const own = (rs) => median(rs.map((r) => r.ms - r.s3));
  const [ho, eo, lo] = [own(runs.history), own(runs.empty), own(runs.long)];
  const s3ms = (rs) => median(rs.map((r) => r.s3)).toFixed(0);
  const mib = (dir) => (dirBytes(dir) / 2 ** 20).toFixed(1);
  console.log(`history ${(stages.history.bytes / 2 ** 20).toFixed(0)} MiB, dedup windows ${RETENTION} and ${LONG_RETENTION} days`);
  console.log(
    `daily:    100 new fetches: ${h.toFixed(0)} ms on the history vs ${e.toFixed(0)} ms on none (${(h / e).toFixed(2)}x); runs ${runs.history.map((r) => r.ms.toFixed(0)).join('/')} vs ${runs.empty.map((r) => r.ms.toFixed(0)).join('/')} ms; state ${mib(`${stages.history.stateDir}-${RETENTION}`)} MiB`,
  );
  console.log(
    `          of which S3 (moto) ${s3ms(runs.history)} vs ${s3ms(runs.empty)} ms; consumer's own time ${ho.toFixed(0)} vs ${eo.toFixed(0)} ms (${(ho / eo).toFixed(2)}x)`,
  );
  console.log(
    `daily, ${LONG_RETENTION}-day window: ${l.toFixed(0)} ms (${(l / e).toFixed(2)}x none), own time ${lo.toFixed(0)} ms (${(lo / eo).toFixed(2)}x); runs ${runs.long.map((r) => r.ms.toFixed(0)).join('/')} ms; state ${mib(`${stages.history.stateDir}-${LONG_RETENTION}`)} MiB`,
  );
}
