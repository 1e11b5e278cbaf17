/**
 * Server-side append of large daily objects against a real S3 server: constant bytes on the wire,
 * a valid SPEC §4 object after every append, retries recognised by upload id, concurrent writers safe.
 */
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createTestBucket, getTestS3, itWithCapability } from '@rotating-s3/test-harness';
import { describe, expect } from 'vitest';
import { createAppendStore } from '../src/s3/append-store.js';
import { validateDailyObject, type DailyObject } from '../src/s3/daily-object.js';

import { DATE, KEY, batch, fetches } from './upload-batches.js';

/** Counts bytes sent in request bodies, and received as response bodies, by one client. */
function countingClient(): { client: S3Client; sent: () => number; received: () => number } {
  const client = getTestS3().client();
  let sent = 0;
  let received = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      const body = (args.request as { body?: unknown }).body;
      if (typeof body === 'string') sent += Buffer.byteLength(body);
      else if (body instanceof Uint8Array) sent += body.byteLength;
      const result = await next(args);
      // A HEAD response's content-length is the object's size, not bytes on the wire.
      const isHead = (args.request as { method?: string }).method === 'HEAD';
      const length = isHead ? 0 : Number((result.response as { headers?: Record<string, string> }).headers?.['content-length'] ?? 0);
      received += Number.isFinite(length) ? length : 0;
      return result;
    },
    { step: 'finalizeRequest', name: 'countBytes', override: true },
  );
  return { client, sent: () => sent, received: () => received };
}

async function readObject(client: S3Client, bucket: string): Promise<{ text: string; object: DailyObject }> {
  const text = await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: KEY }))).Body!.transformToString();
  return { text, object: JSON.parse(text) as DailyObject };
}

describe('server-side append of large daily objects', () => {
  itWithCapability('upload-part-copy', 'appends to a 6 MB daily object without re-sending it, keeping it valid and its prefix unchanged', async () => {
    const bucket = await createTestBucket('append');
    const { client, sent, received } = countingClient();
    const store = createAppendStore({ client, bucket, completeGuard: 'lease' });
    await store.appendUpload(KEY, batch(fetches('big', 60, 100_000)));
    const before = await readObject(client, bucket);
    expect(before.text.length).toBeGreaterThan(6_000_000);

    const sentBefore = sent();
    const receivedBefore = received();
    const outcome = await store.appendUpload(KEY, batch(fetches('small', 3)));
    expect(outcome).toMatchObject({ applied: true, uploadSequence: 2, fetches: 3 });
    expect(sent() - sentBefore).toBeLessThan(64 * 1024);
    expect(received() - receivedBefore).toBeLessThan(128 * 1024);

    const after = await readObject(client, bucket);
    expect(validateDailyObject(after.object, DATE)).toBeUndefined();
    expect(after.object.daily_metadata).toMatchObject({ total_uploads_today: 2, total_fetches_today: 63, total_records_today: 63 });
    const prefix = before.text.slice(0, before.text.lastIndexOf('\n],\n'));
    expect(after.text.startsWith(prefix)).toBe(true);
  });

  itWithCapability('upload-part-copy', 'recognises a retried upload by its id and appends nothing', async () => {
    const bucket = await createTestBucket('append-retry');
    const client = getTestS3().client();
    const store = createAppendStore({ client, bucket, completeGuard: 'lease' });
    await store.appendUpload(KEY, batch(fetches('big', 60, 100_000)));
    const first = await store.appendUpload(KEY, batch(fetches('r', 2), 'upload-r'));
    const etag = (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: KEY }))).ETag;
    const retry = await store.appendUpload(KEY, batch(fetches('r', 2), 'upload-r'));
    expect(retry).toMatchObject({ applied: false, uploadSequence: first.uploadSequence });
    expect((await client.send(new HeadObjectCommand({ Bucket: bucket, Key: KEY }))).ETag).toBe(etag);
  });

  itWithCapability(
    'conditional-put',
    'keeps every upload when two writers append to one large object at once',
    async () => {
      if (!getTestS3().caps.has('upload-part-copy')) throw new Error('needs upload-part-copy too');
      const bucket = await createTestBucket('append-race');
      const client = getTestS3().client();
      const a = createAppendStore({ client, bucket, completeGuard: 'lease', sleep: (ms) => new Promise((r) => setTimeout(r, ms / 4)) });
      const b = createAppendStore({ client, bucket, completeGuard: 'lease', sleep: (ms) => new Promise((r) => setTimeout(r, ms / 4)) });
      await a.appendUpload(KEY, batch(fetches('big', 60, 100_000)));
      await Promise.all([
        (async () => {
          for (let i = 0; i < 4; i++) await a.appendUpload(KEY, batch(fetches(`a${i}`, 1)));
        })(),
        (async () => {
          for (let i = 0; i < 4; i++) await b.appendUpload(KEY, batch(fetches(`b${i}`, 1)));
        })(),
      ]);
      const { object } = await readObject(client, bucket);
      expect(validateDailyObject(object, DATE)).toBeUndefined();
      expect(object.uploads.map((u) => u.upload_sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const ids = object.uploads.flatMap((u) => u.fetch_data.map((f) => f.fetch_id));
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.filter((id) => !id.startsWith('big')).sort()).toEqual(['a0-0', 'a1-0', 'a2-0', 'a3-0', 'b0-0', 'b1-0', 'b2-0', 'b3-0']);
    },
    120_000,
  );
});
