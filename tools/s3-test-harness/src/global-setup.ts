/**
 * Vitest globalSetup: starts the best available real S3 server for the whole run and publishes it to
 * the test workers through process.env (globalSetup runs in the main process before any worker starts,
 * and workers inherit its environment in every vitest 4 pool: forks, threads, vmForks, vmThreads):
 *   ROTATING_S3_TEST_ENDPOINT_RESOLVED, ROTATING_S3_TEST_SERVER (moto|s3rver|external), ROTATING_S3_TEST_CAPS.
 * Order: ROTATING_S3_TEST_ENDPOINT (external) > moto (ROTATING_S3_TEST_PYTHON, else the first python3 on
 * PATH that has it) > s3rver. ROTATING_S3_TEST_SERVER_PREFERENCE=s3rver forces the fallback, =moto
 * insists on moto. ROTATING_S3_TEST_STRICT=1 (CI) refuses s3rver and turns capability skips into failures.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { CAPABILITIES, probeCapabilities } from './capabilities.js';
import { findMotoPython, startMoto, startS3rver, type RunningServer } from './servers.js';

const PREFERENCES = ['', 'moto', 's3rver'];

export default async function setup(): Promise<() => Promise<void>> {
  const started = Date.now();
  process.env['AWS_REGION'] ??= 'us-east-1';
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
  const strict = process.env['ROTATING_S3_TEST_STRICT'] === '1';
  const external = process.env['ROTATING_S3_TEST_ENDPOINT'];
  const preference = process.env['ROTATING_S3_TEST_SERVER_PREFERENCE'] ?? '';
  if (!PREFERENCES.includes(preference)) {
    throw new Error(`ROTATING_S3_TEST_SERVER_PREFERENCE=${preference} is not one of moto, s3rver (or unset)`);
  }

  const server = await start(external, preference, strict);
  // s3rver accepts only its fixed key pair; moto accepts any. For local servers the keys are always
  // replaced, so a developer's real AWS keys never reach the CLI under test; an external endpoint
  // keeps what the environment gives it.
  if (server.kind === 'external') {
    process.env['AWS_ACCESS_KEY_ID'] ??= 'test';
    process.env['AWS_SECRET_ACCESS_KEY'] ??= 'test';
  } else {
    const key = server.kind === 's3rver' ? 'S3RVER' : 'test';
    process.env['AWS_ACCESS_KEY_ID'] = key;
    process.env['AWS_SECRET_ACCESS_KEY'] = key;
    delete process.env['AWS_SESSION_TOKEN'];
  }
  try {
    await publish(server, strict, started);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return () => server.stop();
}

async function start(external: string | undefined, preference: string, strict: boolean): Promise<RunningServer> {
  if (external) return { kind: 'external', endpoint: external, stop: async () => undefined };
  const moto = preference === 's3rver' ? { reason: 'skipped: ROTATING_S3_TEST_SERVER_PREFERENCE=s3rver' } : findMotoPython();
  if (moto.python) {
    // Suites that start a moto of their own (e.g. with authentication) use the same interpreter.
    process.env['ROTATING_S3_TEST_MOTO_PYTHON'] = moto.python;
    return startMoto(moto.python);
  }
  if (strict)
    throw new Error(`ROTATING_S3_TEST_STRICT=1 but moto is not available (${moto.reason}); CI must run against moto or ROTATING_S3_TEST_ENDPOINT, not s3rver`);
  if (preference === 'moto') throw new Error(`ROTATING_S3_TEST_SERVER_PREFERENCE=moto but moto is not available (${moto.reason})`);
  process.stderr.write(`[s3-harness] moto not used (${moto.reason}); falling back to s3rver\n`);
  return startS3rver();
}

async function publish(server: RunningServer, strict: boolean, started: number): Promise<void> {
  const client = new S3Client({
    endpoint: server.endpoint,
    region: process.env['AWS_REGION'],
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  let caps;
  try {
    caps = await probeCapabilities(client);
  } catch (error) {
    throw new Error(`[s3-harness] probing ${server.kind} at ${server.endpoint} failed: ${(error as Error).message}`, { cause: error });
  } finally {
    client.destroy();
  }
  const names = CAPABILITIES.filter((cap) => caps.has(cap));
  process.env['ROTATING_S3_TEST_ENDPOINT_RESOLVED'] = server.endpoint;
  process.env['ROTATING_S3_TEST_SERVER'] = server.kind;
  process.env['ROTATING_S3_TEST_CAPS'] = names.join(',');
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stderr.write(
    `[s3-harness] ${server.kind} at ${server.endpoint}; capabilities: ${names.join(', ') || 'none'}${strict ? ' (strict)' : ''}; ready in ${seconds} s\n`,
  );
}
