/** Bench plumbing: a moto server, a byte-counting loopback proxy, timing and table helpers. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createServer, connect } from 'node:net';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
export const CREDS = { AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1' };

export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

/** The first python3 on PATH with moto (Nx puts node's directory, and maybe a python3 without moto, first). */
function motoPython() {
  if (process.env.ROTATING_S3_TEST_PYTHON) return process.env.ROTATING_S3_TEST_PYTHON;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const python = join(dir, 'python3');
    if (existsSync(python) && spawnSync(python, ['-c', 'import moto.server'], { stdio: 'ignore' }).status === 0) return python;
  }
  throw new Error('the benchmarks need moto: no python3 on PATH can import moto.server');
}

export async function startMoto() {
  const port = await freePort();
  const child = spawn(motoPython(), ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { detached: true, stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      await fetch(endpoint);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    endpoint,
    port,
    stop: () => {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {}
    },
  };
}

/** A TCP proxy in front of `targetPort` that counts bytes in each direction. */
export async function startCountingProxy(targetPort) {
  const counts = { up: 0, down: 0 };
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    client.on('data', (d) => {
      counts.up += d.length;
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      counts.down += d.length;
      client.write(d);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    reset() {
      counts.up = 0;
      counts.down = 0;
    },
    close: () => server.close(),
  };
}

export function s3(endpoint) {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export async function bucket(client, name) {
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const mib = (n) => (n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 2 : 1);

export function table(title, header, rows) {
  const all = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [`\n${title}\n`, line(all[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...all.slice(1).map(line)].join('\n');
}

/**
 * The consumer benches' history (consumer section of run.mjs, consumer-window.mjs): DAYS daily objects
 * ending on LAST_DAY, each upload FETCHES fetches of 20 records of ~500 bytes (~10 KB per fetch).
 * `uploadsPerDay(mib)` sizes the days so the whole history is ~`mib` MiB.
 */
export const HISTORY = { DAYS: 30, FETCHES: 25, LAST_DAY: '2026-11-28' };
const HISTORY_NOTE = 'x'.repeat(440);
export const historyDays = Array.from({ length: HISTORY.DAYS }, (_, d) =>
  new Date(Date.parse(`${HISTORY.LAST_DAY}T12:00:00Z`) - (HISTORY.DAYS - 1 - d) * 86_400_000).toISOString().slice(0, 10),
);
/** Upload `u` (0-based) of `date`, as an UploadBatch for applyUpload. */
export const historyBatch = (date, u) => ({
  stage: 'bench',
  timezone: 'America/New_York',
  date,
  uploadTimestamp: `${date}T11:00:00.000-05:00`,
  fetches: Array.from({ length: HISTORY.FETCHES }, (_, f) => {
    const n = u * HISTORY.FETCHES + f + 1;
    return {
      fetch_id: `${date}-${n}`,
      fetch_number: n,
      timestamp: `${date}T10:00:00.000-05:00`,
      records: 20,
      data: { matches: Array.from({ length: 20 }, (_, r) => ({ match_id: `${date}-${n}-${r}`, note: HISTORY_NOTE })) },
    };
  }),
});
export const uploadsPerDay = (mib) =>
  Math.max(1, Math.round((mib * 1024 * 1024) / HISTORY.DAYS / Buffer.byteLength(JSON.stringify(historyBatch(HISTORY.LAST_DAY, 0)))));
