/**
 * Errors a user can act on. Every error has a stable `code` (documented in docs/troubleshooting.md)
 * and a message that names the bad value and the fix. The CLI prints `message` on one line and never a
 * stack for these; anything that is not a RotatingS3Error is a bug and is printed with its stack.
 */
export type ErrorCode =
  | 'E_CONFIG'
  | 'E_STAGE_NAME'
  | 'E_PAYLOAD'
  | 'E_FETCH_ID'
  | 'E_USAGE'
  | 'E_LOCAL_IO'
  | 'E_LOCAL_CORRUPT'
  | 'E_LOCK'
  | 'E_LOCK_LOST'
  | 'E_S3_UNREACHABLE'
  | 'E_S3_AUTH'
  | 'E_S3_NO_BUCKET'
  | 'E_S3_CONFLICT'
  | 'E_S3_CORRUPT_OBJECT'
  | 'E_S3_NO_CONDITIONAL'
  | 'E_S3_OWNER'
  | 'E_S3'
  | 'E_CONSUMER_STATE'
  | 'E_CONSUMER_LOCK'
  | 'E_CONSUMER_OUTPUT'
  | 'E_DELEGATE';

export class RotatingS3Error extends Error {
  readonly code: ErrorCode;
  /** CLI exit code: 2 = bad usage or input (nothing was written), 1 = any other failure. */
  readonly exitCode: 1 | 2;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; exitCode?: 1 | 2 }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options?.exitCode ?? 1;
  }
}

/** A configuration value is missing or invalid. Nothing was written. */
export class ConfigError extends RotatingS3Error {
  constructor(message: string, options?: { cause?: unknown; code?: 'E_CONFIG' | 'E_STAGE_NAME' }) {
    super(options?.code ?? 'E_CONFIG', message, { cause: options?.cause, exitCode: 2 });
  }
}

/** The caller's input (payload, fetch id, arguments) is unusable. Nothing was written. */
export class InputError extends RotatingS3Error {
  constructor(code: 'E_PAYLOAD' | 'E_FETCH_ID' | 'E_USAGE', message: string, options?: { cause?: unknown }) {
    super(code, message, { cause: options?.cause, exitCode: 2 });
  }
}

/** Reading or writing the stage's local directory failed (disk full, read-only, permissions). */
export class LocalIoError extends RotatingS3Error {
  constructor(message: string, options?: { cause?: unknown; code?: 'E_LOCAL_IO' | 'E_LOCAL_CORRUPT' | 'E_LOCK' | 'E_LOCK_LOST' }) {
    super(options?.code ?? 'E_LOCAL_IO', message, { cause: options?.cause });
  }
}

export type S3ErrorCode =
  'E_S3_UNREACHABLE' | 'E_S3_AUTH' | 'E_S3_NO_BUCKET' | 'E_S3_CONFLICT' | 'E_S3_CORRUPT_OBJECT' | 'E_S3_NO_CONDITIONAL' | 'E_S3_OWNER' | 'E_S3';

/** An S3 request failed; `code` says whether it is the network, credentials, the bucket, a lost race or the object. */
export class S3Error extends RotatingS3Error {
  constructor(code: S3ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, { cause: options?.cause });
  }
}

/** Short, single-line description of any thrown value, safe for logs (no stack). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error);
}
