/**
 * `<localDir>/<stage>_uploaded_ids.jsonl`: one JSON line per fetch that S3 confirmed, appended (fsync)
 * after the upload and before the local blocks are removed. It answers "was this fetch id already logged?"
 * for `--fetch-id` retries after the fetch left the local file, and lets a lost state file be rebuilt.
 * Lines older than `RETENTION_DAYS` are pruned at the day change (atomic rewrite).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as v from 'valibot';
import { LocalIoError } from '../errors.js';
import { LocalDate } from '../time/zone.js';
import type { DurableFs } from './durable-fs.js';
import { unreadableLocalFile } from './io-errors.js';

/** How long uploaded fetch ids are remembered for idempotent retries. */
export const RETENTION_DAYS = 8;

/** A real calendar date `YYYY-MM-DD` of the years 1970–9999. */
export function isIsoDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || text < '1970') return false;
  try {
    LocalDate.parse(text);
    return true;
  } catch {
    return false;
  }
}

const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const uploadedFetchSchema = v.object({
  fetch_id: v.pipe(v.string(), v.minLength(1)),
  fetch_number: count,
  date: v.pipe(v.string(), v.check(isIsoDate, 'must be a date YYYY-MM-DD of the years 1970-9999')),
  timestamp: v.string(),
  records: count,
  upload_sequence: count,
});
export type UploadedFetch = v.InferOutput<typeof uploadedFetchSchema>;

export function uploadedIndexPath(localDir: string, stage: string): string {
  return join(localDir, `${stage}_uploaded_ids.jsonl`);
}

export async function appendUploaded(fs: DurableFs, path: string, fetches: UploadedFetch[]): Promise<void> {
  if (fetches.length === 0) return;
  await fs.append(path, fetches.map((f) => `${JSON.stringify(f)}\n`).join(''));
}

export async function readUploaded(path: string): Promise<UploadedFetch[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw unreadableLocalFile('the uploaded index', path, error);
  }
  const entries: UploadedFetch[] = [];
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      // Torn bytes from a crash mid-append (the next append may follow them on the same line): the upload
      // it described is re-checked against S3 anyway.
      continue;
    }
    const parsed = v.safeParse(uploadedFetchSchema, json);
    if (!parsed.success) {
      const issue = parsed.issues[0];
      const at = v.getDotPath(issue);
      throw new LocalIoError(
        `uploaded index ${path} line ${index + 1} is corrupt (${at ? `${at}: ` : ''}${issue.message}: ${line.length > 80 ? `${line.slice(0, 80)}…` : line}); delete that line, or move the file aside (then --fetch-id retries of fetches uploaded in the last ${RETENTION_DAYS} days are not recognised as duplicates)`,
        { code: 'E_LOCAL_CORRUPT', cause: new v.ValiError(parsed.issues) },
      );
    }
    entries.push(parsed.output);
  }
  return entries;
}

/** Keeps the entries whose date is on or after `oldestDate` (ISO dates compare as strings). */
export async function pruneUploaded(fs: DurableFs, path: string, oldestDate: string): Promise<void> {
  const entries = await readUploaded(path);
  const kept = entries.filter((e) => e.date >= oldestDate);
  if (kept.length === entries.length) return;
  await fs.writeAtomic(path, kept.map((e) => `${JSON.stringify(e)}\n`).join(''));
}
