/**
 * Errors of the downstream consumer a user can act on (codes are listed in docs/consumer.md):
 * - E_CONSUMER_STATE: the processed-ID file is unreadable or corrupt (never silently reset);
 * - E_CONSUMER_LOCK: another run of the same consumer holds its lock;
 * - E_CONSUMER_OUTPUT: the consumer's output (stdout of `consume`) could not be written.
 * Nothing is committed when a run ends with one of these.
 */
import { RotatingS3Error } from '../errors.js';

export type ConsumerErrorCode = 'E_CONSUMER_STATE' | 'E_CONSUMER_LOCK' | 'E_CONSUMER_OUTPUT';

export class ConsumerError extends RotatingS3Error {
  constructor(code: ConsumerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, { cause: options?.cause });
  }
}
