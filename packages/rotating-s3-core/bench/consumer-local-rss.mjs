#!/usr/bin/env node
/**
 * Benchmark (not a test): a consumer run over a 1 GiB local bookended file keeps its RSS under 150 MB.
 *
 *   node bench/consumer-local-rss.mjs [--size-mb 1024] [--keep]
 *
 * Writes a bookended file of ~1 MiB fetches (100 records of ~10 kB each, pretty-printed like the writer
 * does) into a temporary stage directory, then runs `createConsumer(...).run()` over it in a CHILD process
 * (so the figure is not inflated by the generator) with a stub S3 client that has no daily objects. The
 * child reports its peak RSS (`process.resourceUsage().maxRSS`) and its RSS sampled every 20 ms.
 * Needs the built package (`npm run build` at the root). Exits 1 when the peak reaches 150 MB.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIMIT_MB = 150;
const args = process.argv.slice(2);
const sizeMb = Number(args[args.indexOf('--size-mb') + 1] || 1024) || 1024;

if (process.env.ROTATING_S3_BENCH_CHILD) {
  await readAsChild(process.env.ROTATING_S3_BENCH_CHILD);
} else {
  await main();
}

async function main() {
  const { formatBlock } = await import('../dist/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'rs3-consumer-rss-'));
  const localDir = join(dir, 'local');
  mkdirSync(localDir, { recursive: true });
  const path = join(localDir, 'bench_fetches.log');
  const out = createWriteStream(path);
  const target = sizeMb * 1024 * 1024;
  let written = 0;
  let n = 0;
  const started = Date.now();
  while (written < target) {
    n++;
    const matches = Array.from({ length: 100 }, (_, i) => ({
      match_id: `f${n}-${i}`,
      timestamp: '2026-11-28T10:00:00-05:00',
      text: 'lorem ipsum dolor sit amet '.repeat(370),
    }));
    const minute = String(Math.floor(n / 60) % 60).padStart(2, '0');
    const second = String(n % 60).padStart(2, '0');
    const block = formatBlock(
      { fetchId: `bench-${n}`, timestamp: `2026-11-28T10:${minute}:${second}.000-05:00`, fetchNumber: n, records: matches.length },
      JSON.stringify({ matches }, null, 2),
    );
    written += Buffer.byteLength(block);
    if (!out.write(block)) await new Promise((resolve) => out.once('drain', resolve));
  }
  await new Promise((resolve) => out.end(resolve));
  const bytes = statSync(path).size;
  console.log(
    `generated ${(bytes / 1024 / 1024).toFixed(0)} MiB, ${n} fetches, ${n * 100} records in ${((Date.now() - started) / 1000).toFixed(1)} s: ${path}`,
  );

  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], {
    env: { ...process.env, ROTATING_S3_BENCH_CHILD: dir },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  if (child.status !== 0) {
    console.error(`the consumer run failed (exit ${child.status})`);
    process.exit(1);
  }
  const result = JSON.parse(child.stdout.trim().split('\n').at(-1));
  console.log(
    `consumer run over the local file: ${result.fetches} fetches, ${result.records} records in ${result.seconds.toFixed(1)} s (${(bytes / 1024 / 1024 / result.seconds).toFixed(0)} MiB/s)`,
  );
  console.log(
    `peak RSS ${result.peakRssMb.toFixed(1)} MB (sampled max ${result.sampledMaxMb.toFixed(1)} MB; ${result.baselineMb.toFixed(1)} MB before the first byte was read); limit ${LIMIT_MB} MB`,
  );
  console.log(
    JSON.stringify({
      bench: 'consumer-local-rss',
      file_mib: Math.round(bytes / 1024 / 1024),
      fetches: result.fetches,
      records: result.records,
      seconds: Number(result.seconds.toFixed(2)),
      baseline_rss_mb: Number(result.baselineMb.toFixed(1)),
      peak_rss_mb: Number(result.peakRssMb.toFixed(1)),
      limit_mb: LIMIT_MB,
      ok: result.peakRssMb < LIMIT_MB,
    }),
  );
  if (result.peakRssMb >= LIMIT_MB) process.exit(1);
}

async function readAsChild(dir) {
  const { createConsumer, fixedClock } = await import('../dist/index.js');
  let sampledMax = 0;
  const sampler = setInterval(() => {
    sampledMax = Math.max(sampledMax, process.memoryUsage().rss);
  }, 20);
  // No daily objects: every GET is a 404 and the bucket lists nothing, so the run reads the local file only.
  const notFound = () => Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
  const s3Client = {
    send: async (command) => (command.constructor.name === 'ListObjectsV2Command' ? { Contents: [], IsTruncated: false } : Promise.reject(notFound())),
  };
  const config = {
    stage: 'bench',
    bucket: 'bench-bucket',
    prefix: 'logs/bench',
    localDir: join(dir, 'local'),
    fetchLimit: 25,
    timezone: 'America/New_York',
    recordsPath: '/matches',
    recordIdField: 'match_id',
    forcePathStyle: true,
  };
  const consumer = createConsumer({ config, consumer: 'bench', stateDir: join(dir, 'state'), clock: fixedClock('2026-11-28T18:00:00Z'), s3Client });
  let bytes = 0;
  const baselineMb = process.memoryUsage().rss / 1e6;
  const started = process.hrtime.bigint();
  const summary = await consumer.run((record) => {
    bytes += record.record_id.length; // a handler that looks at each record and keeps nothing
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  sampledMax = Math.max(sampledMax, process.memoryUsage().rss);
  const peakRssMb = (process.resourceUsage().maxRSS * 1024) / 1e6;
  console.log(JSON.stringify({ fetches: summary.fetches, records: summary.records, seconds, peakRssMb, sampledMaxMb: sampledMax / 1e6, baselineMb, bytes }));
}
