/**
 * Test support for the core's integration and end-to-end suites: a settable clock, a temporary stage
 * directory with its config file, and a runner for the real CLI as a separate process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { createTestBucket, getTestS3, readObjectText, s3Env } from '@rotating-s3/test-harness';
import { afterAll } from 'vitest';
import type { DailyObject, StageConfig } from '../src/index.js';

export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'rotating-s3.js');

/** A clock the test moves by hand (`set`): one definition, in the core's time/ module. */
export { SettableClock } from '../src/time/clock.js';

export interface TestStage {
  dir: string;
  bucket: string;
  configFile: string;
  config: StageConfig;
  /** Environment for a CLI child process: S3 endpoint, credentials, bucket. */
  env: Record<string, string>;
  client: S3Client;
  readDaily(date: string): Promise<DailyObject | undefined>;
}

/** Temp directories of this test file, removed after its last test (the module is loaded once per file). */
const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temporary directory (`rs3-<name>-…`) removed after the test file's last test. */
export function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `rs3-${name}-`));
  tempDirs.push(dir);
  return dir;
}

export async function createTestStage(overrides: Partial<StageConfig> = {}): Promise<TestStage> {
  const dir = tempDir('stage');
  const bucket = await createTestBucket('core');
  const config: StageConfig = {
    stage: 'merge',
    bucket,
    prefix: 'logs/merge',
    localDir: join(dir, 'local'),
    fetchLimit: 3,
    timezone: 'America/New_York',
    recordsPath: '/matches',
    recordIdField: 'match_id',
    forcePathStyle: true,
    payloadLayout: 'pretty',
    ...overrides,
  };
  const configFile = join(dir, 'stage.json');
  const { recordIdField, bucket: _b, ...fileFields } = config;
  writeFileSync(configFile, JSON.stringify({ ...fileFields, ...(recordIdField ? { recordIdField } : {}) }));
  const client = getTestS3().client();
  return {
    dir,
    bucket,
    configFile,
    config,
    env: s3Env(bucket),
    client,
    async readDaily(date) {
      const key = `${config.prefix ? `${config.prefix}/` : ''}${config.stage}_json_log_${date}.json`;
      const text = await readObjectText(bucket, key);
      return text === undefined ? undefined : (JSON.parse(text) as DailyObject);
    },
  };
}

export function payload(n: number, records = 2): string {
  return JSON.stringify({ run: n, matches: Array.from({ length: records }, (_, i) => ({ match_id: `m${n}-${i}`, score: i })) });
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  json: Record<string, any> | undefined;
}

/** Runs the real CLI (`bin/rotating-s3.js`) as a separate process (`nodeArgs`: options for Node itself). */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; input?: string | Buffer; cwd?: string; nodeArgs?: string[] } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], {
      cwd: options.cwd ?? tmpdir(),
      env: { PATH: process.env['PATH'] ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString();
      let json: Record<string, any> | undefined;
      try {
        json = stdout.trim() ? JSON.parse(stdout.trim().split('\n').at(-1)!) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ code, signal, stdout, stderr: Buffer.concat(err).toString(), json });
    });
  });
}

/** Writes a payload file in the stage dir and returns its path. */
export function writePayload(stage: TestStage, name: string, content: string | Buffer): string {
  const path = join(stage.dir, name);
  writeFileSync(path, content);
  return path;
}
