/**
 * The upgrade from a version-1 entry (ids inline in the processed-ID file) to the processed-ID store: each
 * day's fetch ids and record digests become one run file of that day, then the entry is committed in
 * version 2 naming them. A crash before the commit leaves the version-1 entry (the files are orphans,
 * deleted by the next run, which migrates again); nothing is delivered again either way.
 */
import { join } from 'node:path';
import type { DurableFs } from '../local/durable-fs.js';
import { DigestSet } from './digest-set.js';
import { ProcessedStore, RECORD_WORD, fetchKey, syncDir, type RunRef } from './processed-store.js';
import { commitConsumerEntry, consumerStoreName, type ConsumerEntry, type LegacyConsumerEntry } from './state.js';

export interface MigrateInput {
  fs: DurableFs;
  stateFile: string;
  stateDir: string;
  stage: string;
  consumer: string;
  legacy: LegacyConsumerEntry;
  dedupDays: number;
  today: string;
}

/** Converts and commits the entry; returns the version-2 entry. */
export async function migrateLegacyEntry(input: MigrateInput): Promise<ConsumerEntry> {
  const { legacy } = input;
  const store = consumerStoreName(input.stage, input.consumer);
  const dir = join(input.stateDir, store);
  const writer = ProcessedStore.open(dir, [], { writable: true, today: input.today });
  const runs: RunRef[] = [];
  try {
    const days = [...new Set([...Object.keys(legacy.fetches), ...Object.keys(legacy.records)])].sort();
    for (const day of days) {
      const fetches = legacy.fetches[day] ?? [];
      const records = legacy.records[day] ?? '';
      if (fetches.length > 0 || records.length > 0) runs.push(writer.writeLegacyDay(day, fetches, records));
    }
  } finally {
    writer.close();
  }
  if (runs.length > 0) syncDir(dir);
  const entry: ConsumerEntry = {
    scan_from: legacy.scan_from,
    last_run: legacy.last_run,
    objects: legacy.objects,
    ...(legacy.watch_from === undefined ? {} : { watch_from: legacy.watch_from }),
    dedup_days: input.dedupDays,
    store,
    runs,
  };
  await commitConsumerEntry(input.fs, input.stateFile, input.stage, input.consumer, entry);
  return entry;
}

/** A version-1 entry's ids as store keys in memory (a dry run, which writes nothing, reads them so). */
export function legacyKeys(legacy: LegacyConsumerEntry): DigestSet {
  const keys = new DigestSet();
  for (const records of Object.values(legacy.records)) keys.addEncoded(records, RECORD_WORD);
  for (const ids of Object.values(legacy.fetches)) for (const id of ids) keys.remember(fetchKey(id));
  return keys;
}
