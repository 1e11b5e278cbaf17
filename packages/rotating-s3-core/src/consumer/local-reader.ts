/**
 * The fetches still in the stage's local bookended file (SPEC §3), streamed block by block by the writer's
 * own reader (local/log-file.ts `scanLog`: one reused read buffer and one reused block buffer), so memory
 * is bounded by the largest block and a 1 GB file is read in well under 150 MB of RSS
 * (bench/consumer-local-rss.mjs).
 * The consumer only reads: it never takes the writer's lock, so a block being appended or a file being
 * trimmed while it reads shows up as a torn segment, which is skipped and reported (the fetch is read by
 * the next run, from the file or from its daily object).
 */
import { logFilePaths, scanLog } from '../local/log-file.js';
import { JsonTextError } from '../records/json-text.js';
import { recordsOfPayload } from '../records/records.js';
import type { TornSegment } from '../local/bookended.js';
import type { ConsumerWarning } from './types.js';

export interface LocalFetch {
  fetchId: string;
  fetchNumber: number;
  timestamp: string;
  /** Byte range of the block in the file. */
  start: number;
  end: number;
  /** Each record's exact JSON text, compact (records/records.ts), one at a time; valid only until the reader goes on. */
  records: Iterable<Buffer>;
}

export type LocalReadEvent = { kind: 'fetch'; fetch: LocalFetch } | { kind: 'warning'; warning: ConsumerWarning };

export function localLogPath(localDir: string, stage: string): string {
  return logFilePaths(localDir, stage).log;
}

/**
 * Yields each valid block of `path` as a fetch, and a warning for each torn segment or unreadable payload.
 * Consume a fetch's records before asking for the next event: they are read from a reused buffer.
 */
export async function* readLocalFetches(path: string, recordsPath: string): AsyncGenerator<LocalReadEvent> {
  for await (const event of scanLog(path)) {
    if (event.kind === 'torn') {
      yield { kind: 'warning', warning: tornWarning(path, event.segment) };
      continue;
    }
    const { block } = event;
    let records: Iterable<Buffer>;
    try {
      records = recordsOfPayload(block.payload, recordsPath).records;
    } catch (error) {
      if (!(error instanceof JsonTextError)) throw error;
      yield { kind: 'warning', warning: unreadable(path, block, error.message) };
      continue;
    }
    yield {
      kind: 'fetch',
      fetch: { fetchId: block.fetchId, fetchNumber: block.fetchNumber, timestamp: block.timestamp, start: block.start, end: block.end, records },
    };
  }
}

/** The warning for a block whose payload is not valid JSON. */
export function unreadable(path: string, block: { fetchId: string; start: number; end: number }, detail: string): ConsumerWarning {
  return {
    code: 'unreadable_local_fetch',
    message: `fetch ${block.fetchId} in ${path} (bytes ${block.start}-${block.end}) has a payload that is not valid JSON (${detail.split('\n')[0]}); skipped, not marked processed — see docs/troubleshooting.md`,
  };
}

function tornWarning(path: string, segment: TornSegment): ConsumerWarning {
  return {
    code: 'torn_local_block',
    message: `skipped bytes ${segment.start}-${segment.end} of ${path}: ${segment.reason} (a crash, or an append or trim in progress; a complete fetch there is read by the next run)`,
  };
}
