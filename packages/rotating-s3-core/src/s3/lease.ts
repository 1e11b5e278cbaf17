/**
 * The lease object `<daily key>.lease` serialises writers of a daily object of 5 MiB or more on an
 * endpoint that does not enforce `If-Match` on CompleteMultipartUpload (moto, and others): there a
 * server-side append could silently replace an upload another writer had just made.
 *
 * Body: `{"owner":"<random id of this holder>","expires":<epoch ms>}`. It is created with
 * `If-None-Match: *`; a lease whose `expires` has passed (its holder was killed) is taken over with
 * `If-Match` on its ETag. A 412 on our own write — the SDK retrying a PUT whose response was lost after
 * S3 applied it — is recognised by reading the owner back: the lease is ours. A holder gives up (Raced)
 * rather than complete once it has held the lease for half its TTL, so a paused writer never acts on a
 * lease that may have passed to someone else.
 */
import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isConditionFailure, isNotFound, toS3Error } from './errors.js';
import { Raced } from './retry.js';

export const LEASE_TTL_MS = 5 * 60_000;

export interface LeaseOptions {
  client: S3Client;
  bucket: string;
  now: () => number;
  ttlMs?: number;
}

export interface Lease {
  /** Throws Raced when the lease has been held too long to be sure it is still ours. */
  assertHeld(): void;
  release(): Promise<void>;
}

export async function acquireLease(leaseKey: string, options: LeaseOptions): Promise<Lease> {
  const { client, bucket, now } = options;
  const ttl = options.ttlMs ?? LEASE_TTL_MS;
  const owner = randomBytes(8).toString('hex');
  const acquiredAt = now();
  const body = JSON.stringify({ owner, expires: acquiredAt + ttl });
  const put = (condition: { IfNoneMatch: string } | { IfMatch: string }) =>
    client.send(new PutObjectCommand({ Bucket: bucket, Key: leaseKey, Body: body, ContentType: 'application/json', ...condition }));

  let etag: string | undefined;
  try {
    etag = (await put({ IfNoneMatch: '*' })).ETag;
  } catch (error) {
    if (!isConditionFailure(error)) throw toS3Error(error, 'PutObject (lease)', bucket, leaseKey);
    const held = await readLease(options, leaseKey);
    if (held?.owner === owner) etag = held.etag;
    else {
      if (!held) throw new Raced('the lease was released while we asked for it');
      if (held.expires > now()) throw new Raced('another writer holds the lease');
      try {
        etag = (await put({ IfMatch: held.etag })).ETag;
      } catch (takeover) {
        if (!isConditionFailure(takeover) && !isNotFound(takeover)) throw toS3Error(takeover, 'PutObject (lease takeover)', bucket, leaseKey);
        const again = await readLease(options, leaseKey);
        if (again?.owner !== owner) throw new Raced('another writer took the expired lease first');
        etag = again.etag;
      }
    }
  }
  return {
    assertHeld() {
      if (now() - acquiredAt > ttl / 2) throw new Raced('held the lease for too long to be sure it is still ours');
    },
    async release() {
      // Conditional, so a lease that passed to another writer is never deleted; failures only delay others.
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: leaseKey, ...(etag ? { IfMatch: etag } : {}) })).catch(() => undefined);
    },
  };
}

async function readLease(options: LeaseOptions, leaseKey: string): Promise<{ owner: string; expires: number; etag: string } | undefined> {
  let text: string;
  let etag: string;
  try {
    const got = await options.client.send(new GetObjectCommand({ Bucket: options.bucket, Key: leaseKey }));
    text = (await got.Body?.transformToString()) ?? '';
    etag = got.ETag ?? '';
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw toS3Error(error, 'GetObject (lease)', options.bucket, leaseKey);
  }
  let held: { owner?: unknown; expires?: unknown } = {};
  try {
    held = JSON.parse(text) as typeof held;
  } catch {
    // An unreadable lease is treated as expired: it can only be taken over with If-Match on its ETag.
  }
  return { owner: typeof held.owner === 'string' ? held.owner : '', expires: typeof held.expires === 'number' ? held.expires : 0, etag };
}
