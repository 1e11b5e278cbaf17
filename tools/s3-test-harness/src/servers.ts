/**
 * Starting an S3 server for a test run: an endpoint from the environment, else moto (python3 -m
 * moto.server), else s3rver in-process. Each returns its endpoint and a stop function.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export type ServerKind = 'moto' | 's3rver' | 'external';

export interface RunningServer {
  kind: ServerKind;
  endpoint: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
    server.on('error', reject);
  });
}

/**
 * The first python3 that has moto: `ROTATING_S3_TEST_PYTHON`, else each python3 on PATH in order (Nx puts
 * the directory of `node` first, which can hide the python3 that has moto behind the system one).
 */
export function findMotoPython(): { python?: string; reason: string } {
  const explicit = process.env['ROTATING_S3_TEST_PYTHON'];
  const candidates = explicit
    ? [explicit]
    : [...new Set((process.env['PATH'] ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'python3')))].filter((p) => existsSync(p));
  const tried: string[] = [];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import moto.server'], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) return { python, reason: '' };
    tried.push(python);
  }
  return { reason: tried.length ? `no moto in ${tried.join(', ')}` : 'no python3 found' };
}

async function waitForHttp(url: string, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1_000) });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`S3 test server at ${url} did not answer within ${timeoutMs} ms: ${describe()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function startMoto(python: string): Promise<RunningServer> {
  const port = await freePort();
  // Own process group, so teardown also ends moto's werkzeug children.
  const child = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2_000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  await waitForHttp(`${endpoint}/`, 30_000, () => `moto stderr: ${stderr || '(empty)'}`);
  child.stderr?.removeAllListeners('data');
  child.stderr?.resume();
  return {
    kind: 'moto',
    endpoint,
    async stop() {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    },
  };
}

export async function startS3rver(): Promise<RunningServer> {
  const { default: S3rver } = await import('s3rver');
  const port = await freePort();
  const directory = mkdtempSync(join(tmpdir(), 's3rver-'));
  const server = new S3rver({ port, address: '127.0.0.1', directory, silent: true });
  await server.run();
  return {
    kind: 's3rver',
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
