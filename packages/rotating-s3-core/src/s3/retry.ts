/**
 * The one retry-on-conflict policy of the S3 writers: an attempt that lost a conditional-write race
 * (another writer changed the daily object, or holds its lease) throws `Raced`; the loop re-runs the
 * whole attempt — re-reading the object — after a full-jitter backoff, and gives up with
 * E_S3_CONFLICT after `maxRetries` lost races. Any other error ends the loop at once.
 */
import { S3Error } from '../errors.js';

/** Thrown by an attempt that must start again from a fresh read. */
export class Raced extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'Raced';
  }
}

export interface RetryOptions {
  /** Attempts after lost races before giving up with E_S3_CONFLICT. Default: 12. */
  maxRetries?: number;
  /** Sleep, injectable for tests. Default: a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** What failed, for the E_S3_CONFLICT message, e.g. `append to s3://b/k`. */
  what: string;
}

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Full jitter, capped at 2 s: spreads racing writers apart without a thundering herd. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(2_000, 50 * 2 ** attempt));
}

/** Runs `attempt(n)` until it returns, retrying only `Raced` (attempt numbers start at 0). */
export async function retryOnConflict<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const maxRetries = options.maxRetries ?? 12;
  const sleep = options.sleep ?? defaultSleep;
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (!(error instanceof Raced)) throw error;
      if (n >= maxRetries) {
        throw new S3Error(
          'E_S3_CONFLICT',
          `${options.what} lost ${n + 1} conditional-write races in a row (last: ${error.message}); the fetches stay pending and the next log or flush retries`,
          { cause: error },
        );
      }
      await sleep(backoffMs(n));
    }
  }
}
