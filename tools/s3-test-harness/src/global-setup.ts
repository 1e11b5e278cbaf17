/**
 * Vitest globalSetup: starts the best available real S3 server for the whole run and publishes it to
 * the test workers through the environment (workers are forked after this runs):
 *   ROTATING_S3_TEST_ENDPOINT_RESOLVED, ROTATING_S3_TEST_SERVER (moto|s3rver|external), ROTATING_S3_TEST_CAPS.
 * Order: ROTATING_S3_TEST_ENDPOINT (external) > moto (ROTATING_S3_TEST_PYTHON, else the first python3 on
 * PATH that has it) > s3rver; ROTATING_S3_TEST_SERVER_PREFERENCE=s3rver
 * forces the fallback. ROTATING_S3_TEST_STRICT=1 (CI) refuses s3rver and turns capability skips into failures.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { probeCapabilities } from './capabilities.js';
import { findMotoPython, startMoto, startS3rver, type RunningServer } from './servers.js';

export default async function setup(): Promise<() => Promise<void>> {
  process.env['AWS_REGION'] ??= 'us-east-1';
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
  const strict = process.env['ROTATING_S3_TEST_STRICT'] === '1';
  const external = process.env['ROTATING_S3_TEST_ENDPOINT'];
  const preference = process.env['ROTATING_S3_TEST_SERVER_PREFERENCE'];

  let server: RunningServer;
  const moto = external || preference === 's3rver' ? { reason: 'not asked for' } : findMotoPython();
  if (external) {
    server = { kind: 'external', endpoint: external, stop: async () => undefined };
  } else if (moto.python) {
    // Suites that start a moto of their own (e.g. with authentication) use the same interpreter.
    process.env['ROTATING_S3_TEST_MOTO_PYTHON'] = moto.python;
    server = await startMoto(moto.python);
  } else {
    if (strict) throw new Error(`ROTATING_S3_TEST_STRICT=1 but moto is not available (${moto.reason}); CI must not fall back to s3rver`);
    process.stderr.write(`[s3-harness] moto unavailable (${moto.reason}); falling back to s3rver\n`);
    server = await startS3rver();
  }
  // s3rver accepts only its fixed key pair; moto accepts any.
  const defaultKey = server.kind === 's3rver' ? 'S3RVER' : 'test';
  if (server.kind !== 'external' || !process.env['AWS_ACCESS_KEY_ID']) {
    process.env['AWS_ACCESS_KEY_ID'] = defaultKey;
    process.env['AWS_SECRET_ACCESS_KEY'] = defaultKey;
  }
  try {
    await publish(server, strict);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return () => server.stop();
}

async function publish(server: RunningServer, strict: boolean): Promise<void> {
  const client = new S3Client({
    endpoint: server.endpoint,
    region: process.env['AWS_REGION'],
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const caps = await probeCapabilities(client);
  client.destroy();
  process.env['ROTATING_S3_TEST_ENDPOINT_RESOLVED'] = server.endpoint;
  process.env['ROTATING_S3_TEST_SERVER'] = server.kind;
  process.env['ROTATING_S3_TEST_CAPS'] = [...caps].join(',');
  process.stderr.write(`[s3-harness] ${server.kind} at ${server.endpoint}; capabilities: ${[...caps].join(', ') || 'none'}${strict ? ' (strict)' : ''}\n`);
}
