/**
 * `<localDir>/<stage>_uploaded_ids.jsonl`: one JSON line per fetch that S3 confirmed, appended (fsync)
 * after the upload and before the local blocks are removed. It answers "was this fetch id already logged?"
 * for `--fetch-id` retries after the fetch left the local file, and lets a lost state file be rebuilt.
 * Lines older than `RETENTION_DAYS` are pruned at the day change (atomic rewrite).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DurableFs } from './durable-fs.js';

/** How long uploaded fetch ids are remembered for idempotent retries. */
export const RETENTION_DAYS = 8;

export interface UploadedFetch {
  fetch_id: string;
  fetch_number: number;
  date: string;
  timestamp: string;
  records: number;
  upload_sequence: number;
}

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
    throw error;
  }
  const entries: UploadedFetch[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      entries.push(JSON.parse(line) as UploadedFetch);
    } catch {
      // A torn last line from a crash mid-append: the upload it described is re-checked against S3 anyway.
    }
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
