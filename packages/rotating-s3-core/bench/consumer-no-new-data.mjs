#!/usr/bin/env node
/**
 * Benchmark (not a test): the cost of a consumer run with nothing new, on a stage with a large history.
 *
 *   node bench/consumer-no-new-data.mjs [--days 30] [--uploads 40]
 *
 * Writes `days` daily objects of `uploads` uploads × 25 fetches × 20 records into a bucket (an S3 endpoint
 * from AWS_ENDPOINT_URL_S3, else a moto server it starts on a free local port), then times three consumer
 * runs: the first (reads the whole history), one with nothing new, and one after one more upload.
 * Prints each run's wall time, S3 bytes downloaded and records delivered. Needs the built package.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { LocalDate } from '@js-joda/core';
import { s3, startMoto } from '../../../tools/bench/lib.mjs';
import { applyUpload, createConsumer, dailyObjectKey, fixedClock, serializeDailyObject } from '../dist/index.js';

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const DAYS = option('--days', 30);
const UPLOADS = option('--uploads', 40);
const FETCHES = 25;
const RECORDS = 20;
const LAST_DAY = LocalDate.parse('2026-11-28');

const { endpoint, stop } = await s3Endpoint();
const client = s3(endpoint);
const dir = mkdtempSync(join(tmpdir(), 'rs3-consumer-history-'));
const bucket = `bench-history-${Date.now().toString(36)}`;
const config = {
  stage: 'bench',
  bucket,
  prefix: 'logs/bench',
  localDir: join(dir, 'local'),
  fetchLimit: FETCHES,
  timezone: 'America/New_York',
  recordsPath: '/matches',
  recordIdField: 'match_id',
  forcePathStyle: true,
};
try {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  let bytes = 0;
  const objects = new Map();
  for (let d = DAYS - 1; d >= 0; d--) {
    const date = LAST_DAY.minusDays(d).toString();
    let object;
    for (let u = 0; u < UPLOADS; u++) object = applyUpload(object, batch(date, u)).object;
    objects.set(date, object);
    const body = serializeDailyObject(object);
    bytes += Buffer.byteLength(body);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: dailyObjectKey(config.prefix, config.stage, date), Body: body }));
  }
  const total = DAYS * UPLOADS * FETCHES * RECORDS;
  console.log(`history: ${DAYS} daily objects, ${(bytes / 1024 / 1024).toFixed(1)} MiB, ${total} records (${endpoint})`);

  const clock = fixedClock(`${LAST_DAY}T20:00:00Z`);
  const consumer = createConsumer({ config, consumer: 'bench', stateDir: join(dir, 'state'), clock, s3Client: client });
  const figures = {};
  figures.first_run = await timed(consumer);
  figures.no_new_data = await timed(consumer);
  const today = LAST_DAY.toString();
  const grown = applyUpload(objects.get(today), batch(today, UPLOADS)).object;
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: dailyObjectKey(config.prefix, config.stage, today), Body: serializeDailyObject(grown) }));
  figures.one_new_upload = await timed(consumer);
  for (const [name, f] of Object.entries(figures))
    console.log(`${name.padEnd(15)} ${f.ms.toFixed(0).padStart(6)} ms  ${String(f.s3_bytes).padStart(10)} S3 bytes  ${String(f.records).padStart(7)} records`);
  console.log(JSON.stringify({ bench: 'consumer-no-new-data', days: DAYS, history_mib: Number((bytes / 1024 / 1024).toFixed(1)), records: total, ...figures }));
} finally {
  rmSync(dir, { recursive: true, force: true });
  await stop();
}

function batch(date, u) {
  const fetches = Array.from({ length: FETCHES }, (_, f) => {
    const n = u * FETCHES + f + 1;
    const matches = Array.from({ length: RECORDS }, (_, r) => ({ match_id: `${date}-${n}-${r}`, score: r, team: 'bench' }));
    return { fetch_id: `${date}-${n}`, fetch_number: n, timestamp: `${date}T10:00:00.000-05:00`, records: RECORDS, data: { matches } };
  });
  return { stage: 'bench', timezone: 'America/New_York', date, uploadTimestamp: `${date}T11:00:00.000-05:00`, fetches };
}

async function timed(consumer) {
  const started = process.hrtime.bigint();
  let records = 0;
  const summary = await consumer.run(() => {
    records++;
  });
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, s3_bytes: summary.s3_bytes, records, objects_read: summary.daily_objects.length };
}

async function s3Endpoint() {
  if (process.env.AWS_ENDPOINT_URL_S3) return { endpoint: process.env.AWS_ENDPOINT_URL_S3, stop: async () => undefined };
  // The benches' one moto starter: it finds a python3 that can import moto (under Nx the first python3
  // on PATH may not), which a plain `python3` here did not, so this bench failed to connect.
  return startMoto();
}
