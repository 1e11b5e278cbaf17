/**
 * The object settings of a stage (SPEC §8: `sse`, `sseKmsKeyId`, `storageClass`, `expectedBucketOwner`)
 * applied by ONE middleware on the S3 client, so that no write path can miss them:
 * - every command that creates an object (PutObject: daily objects, leases, probes;
 *   CreateMultipartUpload: server-side appends; CopyObject) gets the encryption and the storage class.
 *   UploadPart and UploadPartCopy get neither: a multipart object's encryption comes from
 *   CreateMultipartUpload, and S3 refuses SSE-KMS headers on parts.
 * - every command on a bucket gets `ExpectedBucketOwner`, reads included, and a copy gets
 *   `ExpectedSourceBucketOwner` (the source is the same bucket).
 * Values a caller set explicitly are kept. A 403 on a request that carried the owner is marked with it,
 * so s3/errors.ts can tell the owner check apart from a missing permission.
 */
import type { S3Client, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-s3';
// Types only: @smithy/types is the AWS SDK's own type package (a dependency of @aws-sdk/client-s3).
import type { InitializeMiddleware } from '@smithy/types';
import type { StageConfig } from '../config/schema.js';

export type ObjectSettings = Pick<StageConfig, 'sse' | 'sseKmsKeyId' | 'storageClass' | 'expectedBucketOwner'>;

/** Commands that create an object and take SSE and storage-class headers. */
export const OBJECT_WRITING_COMMANDS: readonly string[] = ['PutObjectCommand', 'CreateMultipartUploadCommand', 'CopyObjectCommand'];
/** Commands that read a source object of the same bucket. */
const COPY_COMMANDS: readonly string[] = ['UploadPartCopyCommand', 'CopyObjectCommand'];

export const OBJECT_SETTINGS_MIDDLEWARE = 'rotatingS3ObjectSettings';

/** Property set on a 403 error whose request carried `x-amz-expected-bucket-owner`. */
export const EXPECTED_OWNER_MARK = '$rotatingS3ExpectedBucketOwner';

export function hasObjectSettings(settings: ObjectSettings): boolean {
  return settings.sse !== undefined || settings.sseKmsKeyId !== undefined || settings.storageClass !== undefined || settings.expectedBucketOwner !== undefined;
}

/** The input fields `settings` add to a command `commandName` whose input is `input`. */
export function objectSettingsFor(commandName: string, input: Record<string, unknown>, settings: ObjectSettings): Record<string, unknown> {
  const add: Record<string, unknown> = {};
  if (OBJECT_WRITING_COMMANDS.includes(commandName)) {
    if (settings.sse !== undefined) add['ServerSideEncryption'] = settings.sse;
    if (settings.sseKmsKeyId !== undefined) add['SSEKMSKeyId'] = settings.sseKmsKeyId;
    if (settings.storageClass !== undefined) add['StorageClass'] = settings.storageClass;
  }
  if (settings.expectedBucketOwner !== undefined && typeof input['Bucket'] === 'string') {
    add['ExpectedBucketOwner'] = settings.expectedBucketOwner;
    if (COPY_COMMANDS.includes(commandName)) add['ExpectedSourceBucketOwner'] = settings.expectedBucketOwner;
  }
  for (const key of Object.keys(add)) if (input[key] !== undefined) delete add[key];
  return add;
}

/** Installs (or replaces) the object-settings middleware on `client`. A no-op without settings. */
export function installObjectSettings(client: S3Client, settings: ObjectSettings): S3Client {
  if (!hasObjectSettings(settings)) return client;
  const middleware: InitializeMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next, context) => async (args) => {
    const input = args.input as Record<string, unknown>;
    const add = objectSettingsFor(context.commandName ?? '', input, settings);
    try {
      return await next(Object.keys(add).length ? { ...args, input: { ...input, ...add } as ServiceInputTypes } : args);
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
      if (status === 403 && settings.expectedBucketOwner !== undefined && error && typeof error === 'object') {
        Object.defineProperty(error, EXPECTED_OWNER_MARK, { value: settings.expectedBucketOwner, enumerable: false, configurable: true });
      }
      throw error;
    }
  };
  client.middlewareStack.add(middleware, { step: 'initialize', name: OBJECT_SETTINGS_MIDDLEWARE, override: true });
  return client;
}
