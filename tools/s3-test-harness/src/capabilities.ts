/**
 * Probes what the running S3 server really enforces, with a throwaway bucket (removed afterwards, since
 * against an external endpoint it would otherwise be a real, billed bucket left behind on every run):
 * - `conditional-put`: PutObject If-None-Match: * on an existing key and If-Match with a wrong ETag fail with 412;
 * - `upload-part-copy`: UploadPartCopy with a byte range works, and the completed object has the ranged size;
 * - `conditional-complete`: CompleteMultipartUpload with a wrong If-Match is refused (moto 5.2 does not).
 * Servers are trusted for nothing they were not seen to do: a server that merely ignores a header fails.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';

export const CAPABILITIES = ['conditional-put', 'upload-part-copy', 'conditional-complete'] as const;
export type Capability = (typeof CAPABILITIES)[number];

function status(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** True when the request is refused as a failed precondition (412; 409 is AWS's "conditional conflict"). */
async function refused(send: () => Promise<unknown>): Promise<boolean> {
  try {
    await send();
    return false;
  } catch (error) {
    return status(error) === 412 || status(error) === 409;
  }
}

async function probeConditionalPut(client: S3Client, bucket: string): Promise<boolean> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'first' }));
  const noneMatch = await refused(() => client.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'x', IfNoneMatch: '*' })));
  const match = await refused(() => client.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'x', IfMatch: '"00000000000000000000000000000000"' })));
  return noneMatch && match;
}

/** Both multipart capabilities: one upload whose first part is a ranged copy, completed with a wrong If-Match. */
async function probeMultipart(client: S3Client, bucket: string): Promise<Capability[]> {
  const found: Capability[] = [];
  // Parts other than the last must be >= 5 MiB, or Complete fails for that reason instead of the condition.
  const partSize = 5 * 1024 * 1024;
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: Buffer.alloc(partSize + 10, 97) }));
  const uploadId = (await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'b' }))).UploadId;
  try {
    let copy;
    try {
      copy = await client.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: 'b',
          UploadId: uploadId,
          PartNumber: 1,
          CopySource: `${bucket}/big`,
          CopySourceRange: `bytes=0-${partSize - 1}`,
        }),
      );
    } catch {
      return found; // s3rver answers 501; without a copied part neither capability can be shown.
    }
    const tail = await client.send(new UploadPartCommand({ Bucket: bucket, Key: 'b', UploadId: uploadId, PartNumber: 2, Body: 'tail' }));
    const parts: CompletedPart[] = [
      { PartNumber: 1, ETag: copy.CopyPartResult?.ETag },
      { PartNumber: 2, ETag: tail.ETag },
    ];
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'b', Body: 'exists' }));
    const complete = (ifMatch?: string) =>
      client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'b', UploadId: uploadId, MultipartUpload: { Parts: parts }, IfMatch: ifMatch }));
    if (await refused(() => complete('"00000000000000000000000000000000"'))) {
      found.push('conditional-complete');
      await complete();
    }
    // Completed either way by now; a server that ignored the range would have copied the whole source.
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'b' }));
    if (head.ContentLength === partSize + 'tail'.length) found.push('upload-part-copy');
    return found;
  } finally {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'b', UploadId: uploadId })).catch(() => undefined);
  }
}

/** Best effort: empties and deletes the probe bucket; a leftover is harmless on a local server. */
async function removeBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    for (const object of listed.Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }));
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  } catch {
    // ignore: the probe result does not depend on cleanup
  }
}

export async function probeCapabilities(client: S3Client): Promise<Set<Capability>> {
  const caps = new Set<Capability>();
  const bucket = `s3-harness-probe-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  try {
    if (await probeConditionalPut(client, bucket)) caps.add('conditional-put');
    try {
      for (const cap of await probeMultipart(client, bucket)) caps.add(cap);
    } catch {
      // Any other multipart failure means the run cannot rely on these capabilities.
    }
  } finally {
    await removeBucket(client, bucket);
  }
  return caps;
}
