/**
 * The dead-letter file `<localDir>/<stage>_dead_letter.log`: where a pending fetch goes when it can never be
 * uploaded, so it does not block the fetches behind it (a payload that is no longer valid JSON after a
 * disk or editing accident, or one nested deeper than MAX_PAYLOAD_DEPTH, written by a version that did not
 * refuse it). Each entry is one header line and the fetch's block exactly as it was in the log:
 *
 *   === DEAD LETTER <time> | fetch <fetch_id> | <reason> ===
 *   === FETCH START: … ===
 *   <payload>
 *   === FETCH END: … ===
 *
 * Write order: the entry is appended (fsync) before the block is removed from the log, so a crash in
 * between leaves the fetch in both places (and it is set aside again by the next upload), never in neither.
 */
import { join } from 'node:path';
import { JsonText, JsonTextError, MAX_PAYLOAD_DEPTH, checkJson, compactJson } from '../records/json-text.js';
import type { FetchEntry } from '../s3/daily-object.js';
import type { DurableFs } from './durable-fs.js';
import { readRange } from './log-file.js';

export function deadLetterPath(localDir: string, stage: string): string {
  return join(localDir, `${stage}_dead_letter.log`);
}

/**
 * The payload of a whole block read back from the log, compact, as it goes into the daily object; or,
 * when it can never be uploaded, the reason.
 */
export function payloadOfBlock(block: Buffer): JsonText | { unreadable: string } {
  const first = block.indexOf(0x0a);
  const last = block.lastIndexOf(0x0a, block.length - 2);
  const payload = block.subarray(first + 1, Math.max(first + 1, last));
  try {
    checkJson(payload, MAX_PAYLOAD_DEPTH);
  } catch (error) {
    if (!(error instanceof JsonTextError)) throw error;
    return {
      unreadable: error.reason.startsWith('nesting deeper')
        ? `payload nested deeper than ${MAX_PAYLOAD_DEPTH} arrays/objects`
        : `payload is not valid JSON (${error.message})`,
    };
  }
  return new JsonText(compactJson(payload).toString('utf8'));
}

/**
 * Reads the blocks of `group` from the log as daily-object entries; a block that can never be uploaded is
 * appended to the dead-letter file instead (the caller then removes it from the log) and reported.
 */
export async function readUploadable<P extends { fetchId: string; fetchNumber: number; timestamp: string; records: number; start: number; end: number }>(
  group: P[],
  where: {
    fs: DurableFs;
    log: string;
    deadLetter: string;
    at: string;
    onDeadLetter: (fields: { fetch_id: string; file: string; reason: string; bytes: number }) => void;
  },
): Promise<{ fetches: FetchEntry[]; dead: P[] }> {
  const fetches: FetchEntry[] = [];
  const dead: P[] = [];
  for (const p of group) {
    const block = await readRange(where.log, p.start, p.end);
    const data = payloadOfBlock(block);
    if (data instanceof JsonText) {
      fetches.push({ fetch_id: p.fetchId, fetch_number: p.fetchNumber, timestamp: p.timestamp, records: p.records, data });
      continue;
    }
    await appendDeadLetter(where.fs, where.deadLetter, { at: where.at, fetchId: p.fetchId, reason: data.unreadable, block });
    where.onDeadLetter({ fetch_id: p.fetchId, file: where.deadLetter, reason: data.unreadable, bytes: block.length });
    dead.push(p);
  }
  return { fetches, dead };
}

/** Appends one dead-letter entry (durably). */
export async function appendDeadLetter(fs: DurableFs, path: string, entry: { at: string; fetchId: string; reason: string; block: Buffer }): Promise<void> {
  const header = `=== DEAD LETTER ${entry.at} | fetch ${entry.fetchId} | ${entry.reason.replace(/[\r\n]+/g, ' ')} ===\n`;
  await fs.append(path, Buffer.concat([Buffer.from(header), entry.block, Buffer.from(entry.block.at(-1) === 0x0a ? '' : '\n')]));
}
