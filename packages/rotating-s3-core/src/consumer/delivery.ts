/** What the run hands over per fetch and per record (consumer/run.ts). */
import type { ConsumedRecord, ConsumerWarning } from './types.js';

/** One fetch to deliver, read from the local file or a daily object. */
export interface FetchToDeliver {
  fetchId: string;
  fetchNumber: number;
  timestamp: string;
  date: string;
  source: 'local' | 's3';
  /** Its records' exact JSON text (compact), in order; iterating may throw when one is unreadable (the fetch is then skipped). */
  records: Iterable<Buffer>;
  /** The warning for an unreadable record. */
  unreadable: (detail: string) => ConsumerWarning;
}

/** A delivered record: `record_json` is its exact text; `record` parses it on first use (most callers never do). */
export function consumedRecord(recordJson: string, fields: Omit<ConsumedRecord, 'record' | 'record_json'>): ConsumedRecord {
  let parsed: { value: unknown } | undefined;
  return {
    ...fields,
    record_json: recordJson,
    get record(): unknown {
      parsed ??= { value: JSON.parse(recordJson) as unknown };
      return parsed.value;
    },
  };
}
