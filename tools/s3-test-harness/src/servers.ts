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
    : [
        ...new Set(
          (process.env['PATH'] ?? '')
            .split(delimiter)
            .filter(Boolean)
            .map((dir) => join(dir, 'python3')),
        ),
      ].filter((p) => existsSync(p));
  const tried: string[] = [];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import moto.server'], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) return { python, reason: '' };
    tried.push(python);
  }
  return { reason: tried.length ? `no moto in ${tried.join(', ')}` : 'no python3 found' };
}

/** Polls `url` until anything answers over HTTP; gives up early when `exited()` says the server died. */
async function waitForHttp(url: string, timeoutMs: number, exited: () => string | undefined, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1_000) });
      return;
    } catch {
      const gone = exited();
      // A crashed server (port taken, broken install) would otherwise cost the whole timeout.
      if (gone) throw new Error(`S3 test server for ${url} ${gone} before answering: ${describe()}`);
      if (Date.now() > deadline) throw new Error(`S3 test server at ${url} did not answer within ${timeoutMs} ms: ${describe()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Signals moto's whole process group (it was started detached, so its pid is the group id). */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/**
 * `python3 -m moto.server`, plus a watchdog thread: it reads stdin, a pipe held only by this process, and
 * kills moto's process group at EOF. So moto also dies when vitest is killed without running teardown
 * (SIGHUP, SIGKILL, OOM, a crashed nx), where a detached child would otherwise live on.
 */
const MOTO_WITH_WATCHDOG = [
  'import os, signal, sys, threading',
  'def orphaned():',
  '    sys.stdin.buffer.read()',
  '    os.killpg(0, signal.SIGKILL)',
  'threading.Thread(target=orphaned, daemon=True).start()',
  'from moto.server import main',
  'main(sys.argv[1:])',
].join('\n');

export async function startMoto(python: string): Promise<RunningServer> {
  const port = await freePort();
  // Own process group (detached), so teardown and the watchdog end anything moto forks too.
  const child = spawn(python, ['-c', MOTO_WITH_WATCHDOG, '-H', '127.0.0.1', '-p', String(port)], { detached: true, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  let exit: string | undefined;
  let spawnError: Error | undefined;
  child.on('error', (error) => {
    // Without a listener a failed spawn (ENOENT) would crash the vitest process instead of failing setup.
    spawnError = error;
  });
  child.stdin?.on('error', () => undefined); // EPIPE once moto is gone
  const exited = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exit = `exited (${signal ?? `code ${code}`})`;
      resolve();
    });
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2_000);
  });
  const stop = async (): Promise<void> => {
    if (!child.pid || exit) return;
    signalGroup(child.pid, 'SIGTERM');
    // Wait for it, so "no server left running" holds when teardown resolves; SIGKILL if it lingers.
    const lingering = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 5_000).unref())]);
    if (lingering) signalGroup(child.pid, 'SIGKILL');
  };
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(
      `${endpoint}/`,
      30_000,
      () => exit ?? (spawnError ? `failed to spawn (${spawnError.message})` : undefined),
      () => `moto (${python}) stderr: ${stderr.trim() || '(empty)'}`,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  // Keep draining stderr (a full pipe would block moto) but stop buffering it.
  child.stderr?.removeAllListeners('data');
  child.stderr?.resume();
  return { kind: 'moto', endpoint, stop };
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
