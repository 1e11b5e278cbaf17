/**
 * Builds the S3 client from the stage config and the AWS SDK's own environment (endpoint, region and
 * credentials via the default chain). Importing this module loads the AWS SDK, so the engine imports it
 * lazily, only when a command really talks to S3.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { StageConfig } from '../config/schema.js';
import { installObjectSettings, type ObjectSettings } from './object-settings.js';

export interface S3ClientOptions {
  /** Total attempts per request by the SDK's standard retry strategy (exponential backoff). Default: AWS_MAX_ATTEMPTS, else 4. */
  maxAttempts?: number;
  /** Milliseconds to establish a connection. Default: 5000. */
  connectionTimeoutMs?: number;
  /** Milliseconds of socket inactivity before a request fails. Default: 60000. */
  requestTimeoutMs?: number;
}

export function createS3Client(config: Pick<StageConfig, 'forcePathStyle'> & ObjectSettings, options: S3ClientOptions = {}, env = process.env): S3Client {
  const region = env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || (env['AWS_PROFILE'] ? undefined : 'us-east-1');
  // SSE, storage class and the expected bucket owner on every request that needs them (object-settings.ts).
  return installObjectSettings(
    new S3Client({
      ...(region ? { region } : {}),
      forcePathStyle: config.forcePathStyle,
      // S3-compatible servers (moto, MinIO, R2, Spaces) reject the SDK's default CRC32 headers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // The SDK's own AWS_MAX_ATTEMPTS (a positive integer) replaces the default of 4; an explicit option still wins.
      maxAttempts: options.maxAttempts ?? (Number(env['AWS_MAX_ATTEMPTS']) >= 1 ? Math.floor(Number(env['AWS_MAX_ATTEMPTS'])) : 4),
      requestHandler: {
        connectionTimeout: options.connectionTimeoutMs ?? 5_000,
        requestTimeout: options.requestTimeoutMs ?? 60_000,
      },
    }),
    config,
  );
}

export type { S3Client };
