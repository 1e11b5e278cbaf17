#!/usr/bin/env node
/**
 * The demo: one stage (`merge`, America/New_York, fetchLimit 25) logs 60 fetches, one every 30 simulated
 * seconds from 23:45 local time, through the real `rotating-s3` CLI (a separate process per fetch, payload
 * in a temp file, clock fixed with --now). The S3 server is s3rver, embedded in this process. It shows the
 * rotations, the midnight transition (numbering restarts, old-day fetches land in the old day's object)
 * and where to look afterwards.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

// The SDK's Node-20 support notice is not what a demo viewer needs to see first.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, 'demo-output');
const bin = join(root, 'packages', 'rotating-s3-core', 'bin', 'rotating-s3.js');
const BUCKET = 'pipeline-logs';
const FETCHES = 60;

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
    srv.on('error', fail);
  });
}

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'daily-objects'), { recursive: true });
const port = await freePort();
const server = new S3rver({ port, address: '127.0.0.1', directory: join(out, 's3rver-data'), silent: true });
await server.run();
const endpoint = `http://127.0.0.1:${port}`;
const env = {
  ...process.env,
  AWS_ENDPOINT_URL_S3: endpoint,
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REGION: 'us-east-1',
  ROTATING_S3_FORCE_PATH_STYLE: 'true',
  // s3rver ignores conditional writes; the demo is the only writer of its stage, so it says so.
  ROTATING_S3_SINGLE_WRITER: 'true',
  ROTATING_S3_LOG_LEVEL: 'error',
};
const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));

const configFile = join(out, 'merge.config.json');
writeFileSync(
  configFile,
  JSON.stringify(
    {
      stage: 'merge',
      bucket: BUCKET,
      prefix: 'logs/merge',
      localDir: join(out, 'local'),
      fetchLimit: 25,
      timezone: 'America/New_York',
      recordsPath: '/matches',
      recordIdField: 'match_id',
    },
    null,
    2,
  ),
);
console.log(`embedded S3 (s3rver) at ${endpoint}, bucket ${BUCKET}; stage "merge", fetchLimit 25, America/New_York`);
console.log(`logging ${FETCHES} fetches from 23:45 local time, one every 30 s (simulated with --now)\n`);

const start = Date.parse('2026-11-28T23:45:00-05:00');
const payloadFile = join(out, 'payload.json');
try {
  for (let i = 0; i < FETCHES; i++) {
    const now = new Date(start + i * 30_000).toISOString();
    const matches = Array.from({ length: 1 + (i % 7) }, (_, k) => ({ match_id: `m-${i}-${k}`, home: `team${k}`, away: `team${k + 1}`, score: [k, i % 3] }));
    writeFileSync(payloadFile, JSON.stringify({ fetched_at: now, source: 'demo', matches }));
    const { stdout } = await run(process.execPath, [bin, 'log', '--config', configFile, '--payload-file', payloadFile, '--now', now], { env });
    const r = JSON.parse(stdout);
    const notes = [];
    if (r.midnight) notes.push(`midnight ${r.midnight.from} → ${r.midnight.to}`);
    for (const u of r.uploads) notes.push(`uploaded ${u.fetches} fetches as upload #${u.upload_sequence} of ${u.key}`);
    if (r.upload_error) notes.push(`upload failed: ${r.upload_error.message}`);
    if (notes.length > 0 || i % 10 === 0) {
      console.log(
        `${r.timestamp}  ${r.date} fetch #${String(r.fetch_number).padStart(2)}  records=${r.records}  pending=${r.pending}${notes.length ? `  ← ${notes.join('; ')}` : ''}`,
      );
    }
  }
  const last = new Date(start + FETCHES * 30_000).toISOString();
  console.log('\nstatus before the final flush:\n');
  console.log((await run(process.execPath, [bin, 'status', '--config', configFile, '--now', last], { env })).stdout);
  const flush = JSON.parse((await run(process.execPath, [bin, 'flush', '--config', configFile, '--now', last], { env })).stdout);
  console.log(`flush: uploaded ${flush.uploaded_fetches} pending fetches (${flush.uploads.map((u) => `${u.key} #${u.upload_sequence}`).join(', ')})\n`);

  console.log('daily objects in S3:');
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  for (const { Key } of listed.Contents ?? []) {
    const text = await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }))).Body.transformToString();
    const obj = JSON.parse(text);
    const m = obj.daily_metadata;
    const numbers = obj.uploads.flatMap((u) => u.fetch_data.map((f) => f.fetch_number));
    console.log(
      `  s3://${BUCKET}/${Key}: ${m.total_uploads_today} uploads, ${m.total_fetches_today} fetches (numbers ${numbers[0]}..${numbers.at(-1)}), ${m.total_records_today} records`,
    );
    writeFileSync(join(out, 'daily-objects', Key.split('/').pop()), JSON.stringify(obj, null, 2));
  }
  console.log(`\nwhere to look:
  local bookended file  ${relative(root, join(out, 'local', 'merge_fetches.log'))} (empty after the final flush; watch it live with tail -f while logging)
  events (midnight, uploads)  ${relative(root, join(out, 'local', 'merge_events.jsonl'))}
  daily objects (pretty)  ${relative(root, join(out, 'daily-objects'))}/
  stage config  ${relative(root, configFile)}`);
} finally {
  await server.close();
}
