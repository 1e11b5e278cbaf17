/**
 * A second moto server that enforces authentication and IAM policies (INITIAL_NO_AUTH_ACTION_COUNT), so
 * `doctor` can meet real 403s: an unknown access key, a wrong secret, a user whose policy lacks a
 * permission. The harness's own server accepts any credentials. The first `setupActions` requests are
 * not authenticated (moto counts them); they create the bucket and the IAM users.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { motoPython } from '@rotating-s3/test-harness';
import { createServer } from 'node:net';

export interface IamUser {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface AuthMoto {
  endpoint: string;
  bucket: string;
  users: Record<string, IamUser>;
  stop(): void;
}

export function motoAvailable(): boolean {
  return motoPython() !== undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Requests routed to IAM by the credential scope of an (unchecked, during setup) Authorization header. */
async function iam(endpoint: string, params: Record<string, string>): Promise<string> {
  const response = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'AWS4-HMAC-SHA256 Credential=setup/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00',
    },
    body: new URLSearchParams({ ...params, Version: '2010-05-08' }).toString(),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`IAM ${params['Action']} failed: ${response.status} ${text.slice(0, 300)}`);
  return text;
}

/**
 * Starts the server with `bucket` and one IAM user per entry of `policies` (user name → policy document).
 * Setup takes 1 + 3 × users unauthenticated requests; everything after is checked.
 */
export async function startAuthMoto(bucket: string, policies: Record<string, unknown>): Promise<AuthMoto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const setupActions = 1 + 3 * Object.keys(policies).length;
  const child: ChildProcess = spawn(motoPython()!, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, INITIAL_NO_AUTH_ACTION_COUNT: String(setupActions) },
    stdio: 'ignore',
  });
  const stop = () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  };
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        // Not counted by moto: unknown paths answer without an action.
        await fetch(`${endpoint}/moto-api/`);
        break;
      } catch {
        if (Date.now() > deadline) throw new Error('moto with authentication did not start within 30 s');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const created = await fetch(`${endpoint}/${bucket}`, { method: 'PUT' });
    if (!created.ok) throw new Error(`CreateBucket failed: ${created.status}`);
    const users: Record<string, IamUser> = {};
    for (const [name, policy] of Object.entries(policies)) {
      await iam(endpoint, { Action: 'CreateUser', UserName: name });
      await iam(endpoint, { Action: 'PutUserPolicy', UserName: name, PolicyName: `${name}-policy`, PolicyDocument: JSON.stringify(policy) });
      const xml = await iam(endpoint, { Action: 'CreateAccessKey', UserName: name });
      const accessKeyId = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(xml)?.[1];
      const secretAccessKey = /<SecretAccessKey>([^<]+)<\/SecretAccessKey>/.exec(xml)?.[1];
      if (!accessKeyId || !secretAccessKey) throw new Error(`CreateAccessKey returned no key: ${xml.slice(0, 300)}`);
      users[name] = { accessKeyId, secretAccessKey };
    }
    return { endpoint, bucket, users, stop };
  } catch (error) {
    stop();
    throw error;
  }
}
