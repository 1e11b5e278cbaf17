/**
 * The seams of the append store, against a real S3 server: the 5 MiB crossing between the rewrite and
 * the server-side append with several writers, fetch-id dedup on both paths, a lease whose response
 * was lost, the capability cache keyed by the endpoint really used, and probes left by killed writers.
 * Interleavings are forced with gates on the clients' middleware (no sleeps): a request waits until
 * another writer has reached a named point.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createTestBucket, getTestS3, itWithCapability, listKeys } from '@rotating-s3/test-harness';
import { afterEach, describe, expect } from 'vitest';
import { nodeDurableFs } from '../src/local/durable-fs.js';
import { createAppendStore } from '../src/s3/append-store.js';
import { STALE_PROBE_MS } from '../src/s3/capabilities.js';
import { validateDailyObject, type DailyObject } from '../src/s3/daily-object.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';

import { DATE, KEY, batch, fetches } from './upload-batches.js';

/** Named points that writers reach; `wait` resolves once the point has been reached. */
function points() {
  const reached = new Map<string, () => void>();
  const waits = new Map<string, Promise<void>>();
  const slot = (name: string) => {
    if (!waits.has(name)) waits.set(name, new Promise<void>((resolve) => reached.set(name, resolve)));
    return waits.get(name)!;
  };
  return { reach: (name: string) => (slot(name), reached.get(name)!()), wait: (name: string) => slot(name) };
}

/** A client of its own whose commands can wait before they are sent and report when they are answered. */
function gatedClient(
  endpoint: string,
  hooks: {
    before?: (command: string, input: Record<string, unknown>) => Promise<void> | void;
    after?: (command: string, input: Record<string, unknown>) => void;
  },
): S3Client {
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      await hooks.before?.(context.commandName ?? '', input);
      try {
        return await next(args);
      } finally {
        hooks.after?.(context.commandName ?? '', input);
      }
    },
    { step: 'initialize', name: 'testGate' },
  );
  return client;
}

async function readObject(bucket: string): Promise<DailyObject> {
  const text = await (
    await getTestS3()
      .client()
      .send(new GetObjectCommand({ Bucket: bucket, Key: KEY }))
  ).Body!.transformToString();
  return JSON.parse(text) as DailyObject;
}

const fetchIds = (object: DailyObject) => object.uploads.flatMap((u) => u.fetch_data.map((f) => f.fetch_id));

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0)) await clean();
});

describe('append store at the 5 MiB crossing', () => {
  itWithCapability(
    'upload-part-copy',
    'keeps both uploads when a rewrite that sized the object below 5 MiB meets a server-side append above it',
    async () => {
      const bucket = await createTestBucket('crossing');
      const { endpoint } = getTestS3();
      const at = points();
      let rGotObject = false;
      // R sizes the object below 5 MiB, then its full read waits until A has copied the grown object.
      const rClient = gatedClient(endpoint, {
        before: (command, input) => (command === 'GetObjectCommand' && input['Key'] === KEY && !input['Range'] ? at.wait('A copied') : undefined),
        after: (command, input) => {
          if (command === 'HeadObjectCommand' && input['Key'] === KEY) at.reach('R sized');
          if (rGotObject) at.reach('R moved on');
          if (command === 'GetObjectCommand' && input['Key'] === KEY && !input['Range']) rGotObject = true;
        },
      });
      // A's unconditional Complete (moto ignores If-Match there) waits until R has made its next move.
      const aClient = gatedClient(endpoint, {
        before: (command) => (command === 'CompleteMultipartUploadCommand' ? at.wait('R moved on') : undefined),
        after: (command) => command === 'UploadPartCopyCommand' && at.reach('A copied'),
      });
      const setup = createAppendStore({ client: getTestS3().client(), bucket, completeGuard: 'lease' });
      await setup.appendUpload(KEY, batch(fetches('base', 49, 100_000)));
      const r = createAppendStore({ client: rClient, bucket, completeGuard: 'lease' });
      const a = createAppendStore({ client: aClient, bucket, completeGuard: 'lease' });

      const rDone = r.appendUpload(KEY, batch(fetches('r', 1)));
      await at.wait('R sized');
      await setup.appendUpload(KEY, batch(fetches('x', 1, 400_000)));
      const [rOutcome, aOutcome] = await Promise.all([rDone, a.appendUpload(KEY, batch(fetches('a', 1)))]);

      const object = await readObject(bucket);
      expect(validateDailyObject(object, DATE)).toBeUndefined();
      expect(object.uploads.map((u) => u.upload_sequence)).toEqual([1, 2, 3, 4]);
      expect(
        fetchIds(object)
          .filter((id) => !id.startsWith('base'))
          .sort(),
      ).toEqual(['a-0', 'r-0', 'x-0']);
      expect(rOutcome.uploadSequence).not.toBe(aOutcome.uploadSequence);
      expect(object.uploads[rOutcome.uploadSequence - 1]!.fetch_data[0]!.fetch_id).toBe('r-0');
      expect(object.uploads[aOutcome.uploadSequence - 1]!.fetch_data[0]!.fetch_id).toBe('a-0');
    },
    120_000,
  );

  itWithCapability(
    'upload-part-copy',
    'uploads a fetch id once when two hosts upload it to an object above 5 MiB',
    async () => {
      const bucket = await createTestBucket('dedup-big');
      const client = getTestS3().client();
      const hostA = createAppendStore({ client, bucket, completeGuard: 'lease' });
      const hostB = createAppendStore({ client, bucket, completeGuard: 'lease' });
      await hostA.appendUpload(KEY, batch(fetches('base', 60, 100_000)));
      const [f] = fetches('job-42', 1);
      const [g] = fetches('job-43', 1);
      const first = await hostA.appendUpload(KEY, batch([f!], 'upload-on-host-a'));
      const again = await hostB.appendUpload(KEY, batch([f!], 'upload-on-host-b'));
      const mixed = await hostB.appendUpload(KEY, batch([f!, g!], 'upload-on-host-b-2'));

      expect(first).toMatchObject({ applied: true, uploadSequence: 2 });
      expect(again).toMatchObject({ applied: false, uploadSequence: 2 });
      expect(mixed).toMatchObject({ applied: true, uploadSequence: 3, fetches: 1 });
      const object = await readObject(bucket);
      expect(validateDailyObject(object, DATE)).toBeUndefined();
      expect(fetchIds(object).filter((id) => id.startsWith('job'))).toEqual(['job-42-0', 'job-43-0']);
      expect(object.daily_metadata.total_fetches_today).toBe(62);
    },
    120_000,
  );
});

describe('append store leases and probes', () => {
  itWithCapability(
    'upload-part-copy',
    'recognises its own lease when the response to the lease write was lost',
    async () => {
      const bucket = await createTestBucket('lease-lost');
      await createAppendStore({ client: getTestS3().client(), bucket, completeGuard: 'lease' }).appendUpload(KEY, batch(fetches('base', 60, 100_000)));
      let lostOnce = false;
      const proxy: FaultProxy = await startFaultProxy(getTestS3().endpoint, (req) => {
        if (!lostOnce && req.method === 'PUT' && req.url?.split('?')[0]?.endsWith('.lease')) return ((lostOnce = true), 'lost');
        return 'ok';
      });
      cleanups.push(() => proxy.close());
      const client = new S3Client({
        endpoint: proxy.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        maxAttempts: 3,
      });
      const store = createAppendStore({ client, bucket, completeGuard: 'lease', maxConflictRetries: 2, sleep: async () => undefined });

      const outcome = await store.appendUpload(KEY, batch(fetches('after-lost', 1)));
      expect(proxy.injected.lost).toBe(1);
      expect(outcome).toMatchObject({ applied: true, uploadSequence: 2 });
      expect(await listKeys(bucket, `${KEY}.lease`)).toEqual([]);
    },
    120_000,
  );

  itWithCapability('conditional-put', 'probes again when the same local directory talks to another endpoint given in the environment', async () => {
    const bucket = await createTestBucket('cache-key');
    const dir = await mkdtemp(join(tmpdir(), 'rs3-capcache-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const proxy = await startFaultProxy(getTestS3().endpoint, () => 'ok', 3_000, ['if-match', 'if-none-match']);
    cleanups.push(() => proxy.close());
    const capabilitiesFile = join(dir, 's3-capabilities.json');
    const saved = process.env['AWS_ENDPOINT_URL_S3'];
    cleanups.push(async () => {
      if (saved === undefined) delete process.env['AWS_ENDPOINT_URL_S3'];
      else process.env['AWS_ENDPOINT_URL_S3'] = saved;
    });
    // Both clients take their endpoint from the environment, as the CLI's do.
    const viaEnvironment = (endpoint: string) => {
      process.env['AWS_ENDPOINT_URL_S3'] = endpoint;
      return new S3Client({ region: 'us-east-1', forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    };
    const enforcing = createAppendStore({ client: viaEnvironment(getTestS3().endpoint), bucket, capabilitiesFile, fs: nodeDurableFs });
    await enforcing.appendUpload(KEY, batch(fetches('one', 1)));

    const ignoring = createAppendStore({ client: viaEnvironment(proxy.endpoint), bucket, capabilitiesFile, fs: nodeDurableFs });
    await expect(ignoring.appendUpload(KEY, batch(fetches('two', 1)))).rejects.toMatchObject({ code: 'E_S3_NO_CONDITIONAL' });
    await expect(ignoring.appendUpload(KEY, batch(fetches('two', 1)))).rejects.toThrow(proxy.endpoint);
    expect(fetchIds(await readObject(bucket))).toEqual(['one-0']);
  });

  itWithCapability('conditional-put', 'deletes capability probes left by killed writers and leaves none of its own', async () => {
    const bucket = await createTestBucket('probes');
    const client = getTestS3().client();
    const now = Date.parse(`${DATE}T15:00:00Z`);
    const folder = 'logs/merge/.rotating-s3-probes/';
    const stale = `${folder}${now - STALE_PROBE_MS - 1}-0badc0de`;
    const fresh = `${folder}${now - 1_000}-0000beef`;
    for (const key of [stale, fresh]) await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'probe' }));

    await createAppendStore({ client, bucket, now: () => now }).appendUpload(KEY, batch(fetches('one', 1)));
    expect(await listKeys(bucket, folder)).toEqual([fresh]);
    expect((await listKeys(bucket)).filter((k) => k.includes('probe') && !k.startsWith(folder))).toEqual([]);
    expect((await client.send(new HeadObjectCommand({ Bucket: bucket, Key: KEY }))).ContentLength).toBeGreaterThan(0);
  });
});
