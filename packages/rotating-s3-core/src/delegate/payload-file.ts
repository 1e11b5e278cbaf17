/**
 * Handing a payload to another process without putting it on its command line: argument lists are
 * limited (E2BIG, "argument list too long", at a few MB on Linux) and visible to every user in `ps`.
 * The payload goes into a private temp file (directory 0700, file 0600) whose path is passed instead,
 * or through standard input; the file is removed in every outcome. No shell is involved.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PayloadRunOptions {
  /** Send the payload on standard input (`--payload-file -`) instead of through a temp file. Default: false. */
  stdin?: boolean;
  /** Environment of the child. Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Working directory of the child. Default: this process's. */
  cwd?: string;
  /** Kill the child after this many milliseconds. Default: none. */
  timeoutMs?: number;
  /** The option that names the payload file. Default: `--payload-file`. */
  payloadOption?: string;
}

export interface PayloadRunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Serialises a payload: strings and buffers are sent as they are, anything else as JSON. */
function toBytes(payload: unknown): string | Buffer {
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) return payload;
  return JSON.stringify(payload);
}

/**
 * Runs `command args… --payload-file <private temp file>` (or `--payload-file -` with the payload on
 * stdin) and returns its exit status and output. Use it to trigger any stage's command with a payload.
 */
export async function runWithPayloadFile(
  command: string,
  args: readonly string[],
  payload: unknown,
  options: PayloadRunOptions = {},
): Promise<PayloadRunResult> {
  const option = options.payloadOption ?? '--payload-file';
  const bytes = toBytes(payload);
  const dir = options.stdin ? undefined : await mkdtemp(join(tmpdir(), 'rotating-s3-payload-'));
  try {
    let file = '-';
    if (dir) {
      file = join(dir, 'payload.json');
      await writeFile(file, bytes, { mode: 0o600, flag: 'wx' });
    }
    return await new Promise<PayloadRunResult>((resolve, reject) => {
      const child = spawn(command, [...args, option, file], {
        env: options.env ?? process.env,
        ...(options.cwd ? { cwd: options.cwd } : {}),
        stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
        ...(options.timeoutMs ? { timeout: options.timeoutMs, killSignal: 'SIGKILL' as const } : {}),
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout!.on('data', (d: Buffer) => out.push(d));
      child.stderr!.on('data', (d: Buffer) => err.push(d));
      child.on('error', reject);
      if (options.stdin) {
        child.stdin!.on('error', () => undefined); // the child may exit before reading everything
        child.stdin!.end(bytes);
      }
      child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    });
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
