#!/usr/bin/env node
/**
 * npm run bench — every figure is a ratio or a size measured side by side in this one run, on this machine:
 *   startup    `log` (no rotation) through a stage bin and through the delegate, vs `node -e ''` and
 *              `python3 -c 'import boto3'`, on this machine's Node and Node 24 (startup.mjs)
 *   inprocess  logger.logFetch with fsync per fetch vs a raw append+fsync loop of the same bytes
 *   rotation   one rotating `log` against daily objects of 1, 10, 100, 500 MB (BENCH_SIZES): bytes on the
 *              wire through a counting proxy in front of moto, wall time, peak RSS of the process
 *   consumer   a consumer run finding 100 new fetches on top of a ~1 GB history (BENCH_CONSUMER_MIB) vs on none
 *   peers      10,000 fetches of 10 KB: rotating-s3 vs s3-streamlogger vs winston-s3-transport, throughput
 *              and what each loses when its process is killed with SIGKILL mid-run
 * Prints tables and writes docs/bench/results.json. Not part of the test run.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ListObjectsV2Command, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { applyUpload, createConsumer, createStageLogger, dailyObjectKey, fixedClock, serializeDailyObject } from '@rotating-s3/core';
import { benchStartup } from './startup.mjs';
import {
  CREDS,
  HISTORY,
  bucket,
  historyBatch,
  historyDays,
  median,
  mib,
  s3,
  startCountingProxy,
  startMoto,
  table,
  uploadsPerDay as historyUploadsPerDay,
} from './lib.mjs';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const BIN = join(root, 'packages', 'rotating-s3-core', 'bin', 'rotating-s3.js');
const sections = process.argv.slice(2).length ? process.argv.slice(2) : ['startup', 'inprocess', 'rotation', 'consumer', 'peers'];
const results = {
  machine: { cpus: cpus().length, model: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version },
  at: new Date().toISOString(),
};
const out = [];
const work = mkdtempSync(join(tmpdir(), 'rs3-bench-'));
const moto = await startMoto();
const client = s3(moto.endpoint);

function stageConfig(dir, bucketName, extra = {}) {
  const file = join(dir, 'stage.json');
  writeFileSync(
    file,
    JSON.stringify({
      stage: 'bench',
      bucket: bucketName,
      localDir: join(dir, 'local'),
      fetchLimit: 100000,
      timezone: 'America/New_York',
      recordsPath: '/matches',
      forcePathStyle: true,
      ...extra,
    }),
  );
  return file;
}

function payload(i, bytes) {
  const n = Math.max(1, Math.floor(bytes / 100));
  return { run: i, matches: Array.from({ length: n }, (_, k) => ({ match_id: `m${i}-${k}`, v: 'x'.repeat(70) })) };
}

try {
  if (sections.includes('startup')) {
    const startup = await benchStartup({ root, work, here });
    results.startup = startup.results;
    out.push(startup.out);
  }

  if (sections.includes('inprocess')) {
    // The disk of a virtual machine drifts by ±30% over seconds, so the writers take turns: ROUNDS rounds,
    // each running every writer for PER_ROUND fetches; a writer's figure is the median of its rounds.
    const dir = mkdtempSync(join(work, 'inproc-'));
    const ROUNDS = Number(process.env.BENCH_INPROC_ROUNDS ?? 15);
    const PER_ROUND = 200;
    const body = payload(0, 10_000);
    const config = (localDir) => ({
      stage: 'bench',
      bucket: 'unused-bucket',
      prefix: '',
      localDir: join(dir, localDir),
      fetchLimit: 1_000_000,
      timezone: 'America/New_York',
      recordsPath: '/matches',
      recordIdField: undefined,
      forcePathStyle: true,
    });
    const logger = createStageLogger(config('local'), { opsLog: { event() {} } });
    const grouped = createStageLogger(config('grouped'), { opsLog: { event() {} }, syncEveryMs: 50 });
    await logger.logFetch(body);
    await grouped.logFetch(body);
    // The same bytes per fetch as the logger's blocks.
    const block = Buffer.alloc(statSync(join(dir, 'local', 'bench_fetches.log')).size, 120);
    const rawFile = join(dir, 'raw.log');
    const heldFd = openSync(join(dir, 'raw-held.log'), 'a', 0o600);
    const writers = {
      // What "append + fsync" means without a library: open O_APPEND, write, fsync, close.
      raw_open_write_fsync_close: async () => {
        const fd = openSync(rawFile, 'a', 0o600);
        writeSync(fd, block);
        fsyncSync(fd);
        closeSync(fd);
      },
      // The floor: one file kept open, write + fdatasync, nothing else.
      raw_held_fd_write_fdatasync: async () => {
        writeSync(heldFd, block);
        fdatasyncSync(heldFd);
      },
      logger: () => logger.logFetch(body),
      logger_group_commit_50ms: () => grouped.logFetch(body),
    };
    const names = Object.keys(writers);
    const rates = Object.fromEntries(names.map((k) => [k, []]));
    // Round 0 warms the JIT up (a logging service runs long enough for that) and is not counted. Each
    // round starts with the next writer, so no writer always follows the same one.
    for (let round = 0; round <= ROUNDS; round++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(round + k) % names.length];
        const t = performance.now();
        for (let i = 0; i < PER_ROUND; i++) await writers[name]();
        if (round > 0) rates[name].push(PER_ROUND / ((performance.now() - t) / 1000));
        // Untimed: sync(1) writes back what this writer left dirty (group commit leaves up to 50 ms of fetches),
        // so the next writer's first fsyncs do not pay for it (ext4 data=ordered flushes it in their commit).
        spawnSync('sync');
      }
    }
    // A ratio is the median of the per-round ratios: each compares two runs a fraction of a second apart.
    const ratio = (name) => median(rates[name].map((r, i) => r / rates.raw_open_write_fsync_close[i]));
    closeSync(heldFd);
    await logger.close();
    await grouped.close();
    const m = Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, median(v)]));
    results.inprocess = {
      rounds: ROUNDS,
      fetches_per_round: PER_ROUND,
      fetch_bytes: block.length,
      per_s: m,
      ratio_vs_raw: ratio('logger'),
      held_fd_ratio_vs_raw: ratio('raw_held_fd_write_fdatasync'),
      group_commit_ratio_vs_raw: ratio('logger_group_commit_50ms'),
    };
    out.push(
      table(
        `in-process logging, ${(block.length / 1024).toFixed(1)} KiB fetches, fsync per fetch (${ROUNDS} interleaved rounds of ${PER_ROUND} after a warm-up round; medians)`,
        ['writer', 'fetches/s', 'ratio to raw'],
        [
          ['raw loop: open O_APPEND + write + fsync + close', m.raw_open_write_fsync_close.toFixed(0), '1.00'],
          ['raw loop: one open fd, write + fdatasync', m.raw_held_fd_write_fdatasync.toFixed(0), results.inprocess.held_fd_ratio_vs_raw.toFixed(2)],
          ['logger.logFetch (fdatasync before it resolves)', m.logger.toFixed(0), results.inprocess.ratio_vs_raw.toFixed(2)],
          ['logger.logFetch, group commit (syncEveryMs 50)', m.logger_group_commit_50ms.toFixed(0), results.inprocess.group_commit_ratio_vs_raw.toFixed(2)],
        ],
      ),
    );
  }

  if (sections.includes('rotation')) {
    const sizes = (process.env.BENCH_SIZES ?? '1,10,100,500').split(',').map(Number);
    const proxy = await startCountingProxy(moto.port);
    const rows = [];
    results.rotation = [];
    for (const size of sizes) {
      const name = await bucket(client, `rotation-${size}mb`);
      const date = '2026-11-28';
      const key = `bench_json_log_${date}.json`;
      // A valid daily object of about `size` MB: uploads of 25 fetches of ~10 KB.
      let object;
      let n = 0;
      const fetchData = (i) => ({
        fetch_id: `seed-${i}`,
        fetch_number: i + 1,
        timestamp: `${date}T08:00:00.000-05:00`,
        records: 100,
        data: payload(i, 10_000),
      });
      while (n * 10_400 < size * 1024 * 1024) {
        object = applyUpload(object, {
          stage: 'bench',
          timezone: 'America/New_York',
          date,
          uploadTimestamp: `${date}T08:00:00.000-05:00`,
          fetches: Array.from({ length: 25 }, (_, k) => fetchData(n + k)),
        }).object;
        n += 25;
      }
      let text = serializeDailyObject(object);
      object = undefined;
      await client.send(new PutObjectCommand({ Bucket: name, Key: key, Body: text }));
      const dailyBytes = text.length;
      text = undefined;
      const dir = mkdtempSync(join(work, `rot-${size}-`));
      const cfg = stageConfig(dir, name, { fetchLimit: 1 });
      const file = join(dir, 'p.json');
      writeFileSync(file, JSON.stringify(payload(1, 10_000)));
      const rssFile = join(dir, 'rss');
      proxy.reset();
      const t = performance.now();
      // Peak RSS through GNU time: a child forked from this (large) process would report this
      // process's pages in its own ru_maxrss; time is small, so what it reports is the CLI alone.
      const timed = existsSync('/usr/bin/time');
      const { stdout, stderr } = await run(
        timed ? '/usr/bin/time' : process.execPath,
        [...(timed ? ['-f', 'maxrss=%M', process.execPath] : []), BIN, 'log', '--config', cfg, '--payload-file', file, '--now', `${date}T12:00:00-05:00`],
        {
          env: {
            ...process.env,
            ...CREDS,
            AWS_ENDPOINT_URL_S3: proxy.endpoint,
            ROTATING_S3_COMPLETE_GUARD: 'lease',
            ...(timed ? {} : { NODE_OPTIONS: `--require=${join(here, 'maxrss.cjs')}`, BENCH_RSS_FILE: rssFile }),
          },
        },
      );
      if (timed) writeFileSync(rssFile, /maxrss=(\d+)/.exec(stderr)?.[1] ?? '0');
      const wall = performance.now() - t;
      const r = JSON.parse(stdout);
      if (!r.rotated) throw new Error(`no rotation at ${size} MB: ${stdout}`);
      const newData = readFileSync(file).length;
      const wire = proxy.counts.up + proxy.counts.down;
      const rss = Number(readFileSync(rssFile, 'utf8')) / 1024;
      const row = {
        daily_mb: Number(mib(dailyBytes)),
        new_data_bytes: newData,
        wire_bytes: wire,
        wire_over_new: wire / newData,
        budget_bytes: 1.3 * newData + 256 * 1024,
        wall_ms: wall,
        peak_rss_mb: rss,
        upload_sequence: r.upload_sequence,
      };
      results.rotation.push(row);
      rows.push([
        mib(dailyBytes),
        (newData / 1024).toFixed(1),
        (wire / 1024).toFixed(1),
        (row.budget_bytes / 1024).toFixed(0),
        wire <= row.budget_bytes ? 'yes' : 'NO',
        wall.toFixed(0),
        rss.toFixed(0),
      ]);
      await client.send(new PutObjectCommand({ Bucket: name, Key: key, Body: '' })).catch(() => undefined);
    }
    proxy.close();
    out.push(
      table(
        'one rotating `log` (10 KB fetch) by daily object size — bytes through a counting proxy in front of moto',
        ['daily MiB', 'new KiB', 'wire KiB', 'budget KiB (1.3×new+256)', 'within', 'wall ms', 'peak RSS MiB'],
        rows,
      ),
    );
  }

  if (sections.includes('consumer')) {
    // A consumer run that finds 100 new fetches, on top of a large history it already processed vs on a
    // stage with no history: the cost of a run should follow what is new, not what the day(s) hold.
    const HISTORY_MIB = Number(process.env.BENCH_CONSUMER_MIB ?? 1024);
    const { DAYS, FETCHES, LAST_DAY: lastDay } = HISTORY;
    const days = historyDays;
    const batch = historyBatch;
    const uploadsPerDay = historyUploadsPerDay(HISTORY_MIB);
    const stageOf = (name) => ({
      stage: 'bench',
      bucket: name,
      prefix: 'logs',
      localDir: join(work, `consumer-${name}-local`),
      fetchLimit: FETCHES,
      timezone: 'America/New_York',
      recordsPath: '/matches',
      recordIdField: 'match_id',
      forcePathStyle: true,
    });
    /** Uploads a daily object; returns its size. */
    const put = async (config, date, object) => {
      const body = serializeDailyObject(object);
      await client.send(new PutObjectCommand({ Bucket: config.bucket, Key: dailyObjectKey(config.prefix, config.stage, date), Body: body }));
      return Buffer.byteLength(body);
    };
    // The history stage is consumed as it grows, one run per day at the end of that day (steady state:
    // record ids are remembered by the day they were received, for the retention window).
    const setups = {};
    for (const [kind, uploads] of [
      ['history', uploadsPerDay],
      ['empty', 0],
    ]) {
      const config = stageOf(await bucket(client, `consumer-${kind}`));
      const stateDir = join(work, `consumer-${kind}-state`);
      const consumerOn = (date) => createConsumer({ config, consumer: 'bench', stateDir, clock: fixedClock(`${date}T23:00:00-05:00`), s3Client: client });
      const objects = new Map();
      let bytes = 0;
      let first = { ms: 0, s3_bytes: 0, records: 0 };
      for (const date of kind === 'history' ? days : []) {
        let object;
        for (let u = 0; u < uploads; u++) object = applyUpload(object, batch(date, u)).object;
        objects.set(date, object);
        bytes += await put(config, date, object);
        const daily = await timedConsumerRun(consumerOn(date));
        first = { ms: first.ms + daily.ms, s3_bytes: first.s3_bytes + daily.s3_bytes, records: first.records + daily.records };
      }
      setups[kind] = {
        config,
        objects,
        bytes,
        consumer: consumerOn(lastDay),
        stateDir,
        first,
        next: objects.get(lastDay) ? uploads : 0,
      };
    }
    // Three rounds: each appends 100 fetches (4 uploads of 25) to today's object of both stages.
    const runs = { history: [], empty: [] };
    for (let round = 0; round < 3; round++) {
      for (const kind of ['history', 'empty']) {
        const setup = setups[kind];
        let object = setup.objects.get(lastDay);
        for (let u = 0; u < 4; u++) object = applyUpload(object, batch(lastDay, setup.next++)).object;
        setup.objects.set(lastDay, object);
        await put(setup.config, lastDay, object);
        const run = await timedConsumerRun(setup.consumer);
        // The processed-ID state after the run: the JSON file plus the consumer's run files beside it.
        const store = join(setup.stateDir, 'bench_bench.processed');
        const runFiles = existsSync(store) ? readdirSync(store).reduce((n, f) => n + statSync(join(store, f)).size, 0) : 0;
        runs[kind].push({ ...run, state_bytes: statSync(join(setup.stateDir, 'bench_processed_fetch_ids.json')).size + runFiles });
      }
    }
    const pick = (kind) => {
      const m = median(runs[kind].map((r) => r.ms));
      return runs[kind].find((r) => r.ms === m);
    };
    const h = pick('history');
    const e = pick('empty');
    results.consumer = {
      history_mib: setups.history.bytes / 1024 / 1024,
      history_records: setups.history.first.records,
      daily_runs_total: setups.history.first,
      runs,
      ratio: h.ms / e.ms,
    };
    out.push(
      table(
        `consumer: one run that finds 100 new fetches (2000 records), median of 3 (history: ${mib(setups.history.bytes)} MiB in ${DAYS} daily objects, ${setups.history.first.records} records, consumed by one run a day, ${(setups.history.first.ms / 1000).toFixed(1)} s in all)`,
        ['history', 'wall ms', 'S3 bytes read', 'records', 'processed-ID state', 'ratio'],
        [
          [`${mib(setups.history.bytes)} MiB`, h.ms.toFixed(0), String(h.s3_bytes), String(h.records), `${mib(h.state_bytes)} MiB`, (h.ms / e.ms).toFixed(2)],
          ['none', e.ms.toFixed(0), String(e.s3_bytes), String(e.records), `${mib(e.state_bytes)} MiB`, '1.00'],
        ],
      ),
    );
  }

  if (sections.includes('peers')) {
    const N = Number(process.env.BENCH_PEER_FETCHES ?? 10_000);
    const rows = [];
    results.peers = [];
    for (const peer of ['rotating-s3', 's3-streamlogger', 'winston-s3-transport']) {
      const name = await bucket(client, `peer-${peer}`.replace(/[^a-z0-9-]/g, '-'));
      const dir = mkdtempSync(join(work, `peer-${peer}-`));
      const env = { ...process.env, ...CREDS, BENCH_ENDPOINT: moto.endpoint, BENCH_BUCKET: name, BENCH_DIR: dir, BENCH_N: String(N) };
      const t = performance.now();
      let crashed = '';
      await run(process.execPath, [join(here, 'peers', `${peer}.mjs`), 'throughput'], { env, maxBuffer: 64 * 1024 * 1024 }).catch((error) => {
        crashed =
          String(error.stderr ?? error.message)
            .trim()
            .split('\n')
            .find((l) => /Error/.test(l)) ?? 'exited non-zero';
      });
      // Done means: every fetch readable in S3 (peers upload in the background), or no progress for 30 s.
      let inS3 = await countIds(name);
      for (let last = -1, still = 0; inS3.size < N && still < 60; still = inS3.size === last ? still + 1 : 0) {
        last = inS3.size;
        await new Promise((r) => setTimeout(r, 500));
        inS3 = await countIds(name);
      }
      const wall = performance.now() - t;
      // Durability: kill -9 after ~1.5 s of logging, then count acknowledged fetches that survived.
      const killName = await bucket(client, `kill-${peer}`.replace(/[^a-z0-9-]/g, '-'));
      const acked = await runAndKill(
        join(here, 'peers', `${peer}.mjs`),
        { ...env, BENCH_BUCKET: killName, BENCH_DIR: mkdtempSync(join(work, `kill-${peer}-`)) },
        1500,
      );
      if (peer === 'rotating-s3')
        await run(process.execPath, [join(here, 'peers', `${peer}.mjs`), 'recover'], { env: { ...env, BENCH_BUCKET: killName, BENCH_DIR: acked.dir } });
      const survived = await countIds(killName);
      const lost = acked.ids.filter((id) => !survived.has(id)).length;
      const row = {
        peer,
        fetches: N,
        wall_s: wall / 1000,
        fetches_per_s: inS3.size / (wall / 1000),
        in_s3: inS3.size,
        kill_acked: acked.ids.length,
        kill_lost: lost,
        crashed,
      };
      results.peers.push(row);
      rows.push([
        peer,
        (wall / 1000).toFixed(1),
        row.fetches_per_s.toFixed(0),
        `${inS3.size}/${N}${crashed ? ` (crashed: ${crashed.slice(0, 60)})` : ''}`,
        `${lost} of ${acked.ids.length} acknowledged`,
      ]);
    }
    out.push(
      table(`peers: ${N} fetches of 10 KB into the same moto server`, ['logger', 'wall s', 'fetches/s in S3', 'in S3 after close', 'lost on kill -9'], rows),
    );
  }
} finally {
  moto.stop();
  rmSync(work, { recursive: true, force: true });
}

/** One consumer run, timed: wall ms, S3 bytes downloaded, records delivered. */
async function timedConsumerRun(consumer) {
  const started = performance.now();
  let records = 0;
  const summary = await consumer.run(() => {
    records++;
  });
  return { ms: performance.now() - started, s3_bytes: summary.s3_bytes, records };
}

console.log(out.join('\n'));
console.log(`\nmachine: ${results.machine.cpus} × ${results.machine.model}, ${results.machine.memory_gib} GiB, Node ${results.machine.node}`);
mkdirSync(join(root, 'docs', 'bench'), { recursive: true });
const jsonFile = join(root, 'docs', 'bench', 'results.json');
const previous = (() => {
  try {
    return JSON.parse(readFileSync(jsonFile, 'utf8'));
  } catch {
    return {};
  }
})();
writeFileSync(jsonFile, `${JSON.stringify({ ...previous, ...results }, null, 2)}\n`);
console.log(`written: ${jsonFile}`);

/** Every fetch id found in any object of the bucket (each peer's objects are JSON lines or daily objects). */
async function countIds(name) {
  const ids = new Set();
  let token;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: name, ContinuationToken: token }));
    for (const { Key } of page.Contents ?? []) {
      const text = await (await client.send(new GetObjectCommand({ Bucket: name, Key }))).Body.transformToString();
      for (const m of text.matchAll(/"(?:fetch_id|id)":"(f-\d+)"/g)) ids.add(m[1]);
    }
    token = page.NextContinuationToken;
  } while (token);
  return ids;
}

function runAndKill(script, env, ms) {
  return new Promise((resolveKill) => {
    const child = spawn(process.execPath, [script, 'durability'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const ids = [];
    let carry = '';
    child.stdout.on('data', (d) => {
      const lines = (carry + d).split('\n');
      carry = lines.pop();
      for (const l of lines) if (l.startsWith('ack ')) ids.push(l.slice(4));
    });
    setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('close', () => resolveKill({ ids, dir: env.BENCH_DIR }));
  });
}
