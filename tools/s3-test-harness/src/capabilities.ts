/**
 * Probes what the running S3 server really enforces, with a throwaway bucket:
 * - `conditional-put`: PutObject If-None-Match: * on an existing key and If-Match with a wrong ETag fail with 412;
 * - `upload-part-copy`: UploadPartCopy with a byte range works;
 * - `conditional-complete`: CompleteMultipartUpload with a wrong If-Match is refused (moto 5.2 does not).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

export type Capability = 'conditional-put' | 'upload-part-copy' | 'conditional-complete';

function status(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

async function refused(send: () => Promise<unknown>): Promise<boolean> {
  try {
    await send();
    return false;
  } catch (error) {
    return status(error) === 412 || status(error) === 409;
  }
}

export async function probeCapabilities(client: S3Client): Promise<Set<Capability>> {
  const caps = new Set<Capability>();
  const bucket = `probe-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'first' }));
  const noneMatch = await refused(() => client.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'x', IfNoneMatch: '*' })));
  const match = await refused(() => client.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'x', IfMatch: '"0000"' })));
  if (noneMatch && match) caps.add('conditional-put');

  let uploadId: string | undefined;
  try {
    // Parts other than the last must be >= 5 MiB, or Complete fails for that reason instead of the condition.
    const partSize = 5 * 1024 * 1024;
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: Buffer.alloc(partSize + 10, 97) }));
    uploadId = (await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'b' }))).UploadId;
    const copy = await client.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'b', UploadId: uploadId, PartNumber: 1, CopySource: `${bucket}/big`, CopySourceRange: `bytes=0-${partSize - 1}` }));
    caps.add('upload-part-copy');
    const part2 = await client.send(new UploadPartCommand({ Bucket: bucket, Key: 'b', UploadId: uploadId, PartNumber: 2, Body: 'tail' }));
    const parts = [{ PartNumber: 1, ETag: copy.CopyPartResult?.ETag }, { PartNumber: 2, ETag: part2.ETag }];
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'b', Body: 'exists' }));
    if (await refused(() => client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'b', UploadId: uploadId, MultipartUpload: { Parts: parts }, IfMatch: '"0000"' })))) {
      caps.add('conditional-complete');
    }
  } catch {
    // A server without UploadPartCopy (s3rver answers 501) lacks both multipart capabilities.
  } finally {
    if (uploadId) await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'b', UploadId: uploadId })).catch(() => undefined);
  }
  return caps;
}
