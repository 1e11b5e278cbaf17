/**
 * The processed-ID store of one consumer: every fetch id and record id it processed within its dedup
 * window, as 12-byte keys in per-day sorted run files (consumer/run-file.ts) in
 * `<stateDir>/<stage>_<consumer>.processed/`, named by the manifest (`runs`) of its entry in the
 * processed-ID file (consumer/state.ts). A run's cost follows its new data:
 * - a lookup asks the run's own new keys (in memory, a DigestSet) then each live run file, reading one
 *   4 KiB block of it (fence index in memory, recent blocks cached);
 * - a commit writes the run's new keys as one more run file of today; a day with several files is merged
 *   (streaming, a few blocks per file in memory): past days into one file, today's files of one size tier
 *   once there are four, so every key is rewritten O(log n) times; days older than the window leave the
 *   manifest.
 * Keys: a record id's digest (first 12 bytes of its sha256) with its top bit cleared, a fetch id's with it
 * set, so the two never collide.
 * Files are immutable and named `<day>-<gen>.run`; the manifest is the truth: a file it does not name is an
 * orphan of a killed run (or a merged or expired file) and is deleted when the next run opens the store.
 */
import { mkdirSync, readdirSync, unlinkSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { DigestSet, digestOf, type Digest } from './digest-set.js';
import { ConsumerError } from './errors.js';
import { BlockCache, RunFileError, RunReader, RunWriter } from './run-file.js';

/** One live run file, as the manifest names it. */
export interface RunRef {
  file: string;
  day: string;
  count: number;
  sha256: string;
}

/** New keys kept in memory before they are written out as a run file of today (bounds a catch-up's memory). */
export const SPILL_KEYS = 131_072;
const FETCH_BIT = 0x80000000;
/** Files of one size tier of today merged into one. */
const TODAY_FILES = 4;

/** Today's files of the first size tier (count within a factor 4) that holds TODAY_FILES files. */
function fullTier(runs: RunRef[]): RunRef[] | undefined {
  const tiers = new Map<number, RunRef[]>();
  for (const run of runs) {
    const tier = Math.floor(Math.log2(Math.max(1, run.count)) / 2);
    const group = [...(tiers.get(tier) ?? []), run];
    if (group.length >= TODAY_FILES) return group;
    tiers.set(tier, group);
  }
  return undefined;
}

export const recordKey = (digest: Digest): Digest => [(digest[0] & ~FETCH_BIT) >>> 0, digest[1], digest[2]];
export const fetchKey = (fetchId: string): Digest => {
  const [a, b, c] = digestOf(fetchId);
  return [(a | FETCH_BIT) >>> 0, b, c];
};
export const RECORD_WORD = (a: number): number => (a & ~FETCH_BIT) >>> 0;

const CORRUPT_FIX =
  'restore the state directory from a backup, or move the processed-ID file and this directory aside to start the consumer over (it then receives all data again); nothing was reset';

/** The run files of a commit, before the manifest names them. */
export interface PreparedCommit {
  runs: RunRef[];
  /** Files the new manifest no longer names (merged or expired): deleted once it is written. */
  obsolete: string[];
  /** Files written for it: opened for lookups once the manifest names them. */
  written: RunRef[];
}

export class ProcessedStore {
  private readonly cache = new BlockCache();
  private readonly readers = new Map<string, RunReader>();
  private fresh = new DigestSet();
  /** Run files of new keys written during the run, not named by a manifest yet. */
  private spilled: RunRef[] = [];
  private nextGen: number;
  private freshKeys = 0;

  private constructor(
    readonly dir: string,
    private runs: RunRef[],
    private readonly writable: boolean,
    private readonly today: string,
    private readonly spillKeys: number,
  ) {
    this.nextGen = 1 + runs.reduce((max, run) => Math.max(max, genOf(run.file)), 0);
  }

  /**
   * Opens the files the manifest names (refusing a missing or damaged one) and, when `writable` (the run
   * holds the consumer's lock), deletes files it does not name. `base`: keys that are not in files (a
   * dry run over a version-1 file). `oldestDay`: the first day of the dedup window.
   */
  static open(
    dir: string,
    runs: RunRef[],
    options: { writable: boolean; today: string; base?: DigestSet; spillKeys?: number; oldestDay?: string },
  ): ProcessedStore {
    const store = new ProcessedStore(dir, runs, options.writable, options.today, options.spillKeys ?? SPILL_KEYS);
    if (options.base) store.fresh = options.base;
    if (options.writable) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const named = new Set(runs.map((run) => run.file));
      for (const name of readdirSync(dir)) if (!named.has(name)) unlinkSync(join(dir, name));
    }
    // Days before the window are not looked up (the next commit drops them).
    for (const run of runs) if (run.day >= (options.oldestDay ?? '')) store.readers.set(run.file, store.openRun(run));
    return store;
  }

  /** Keys added since the last commit. */
  get pendingCount(): number {
    return this.freshKeys;
  }

  hasFetch(fetchId: string): boolean {
    return this.has(fetchKey(fetchId));
  }

  hasRecord(digest: Digest): boolean {
    return this.has(recordKey(digest));
  }

  rememberFetch(fetchId: string): void {
    this.remember(fetchKey(fetchId));
  }

  rememberRecord(digest: Digest): void {
    this.remember(recordKey(digest));
  }

  /**
   * Writes this run's new keys as a run file of today, merges days with several files, and leaves days
   * before `oldestDay` out. Nothing is visible until the caller writes the manifest and calls `committed`.
   */
  prepare(today: string, oldestDay: string): PreparedCommit {
    if (this.fresh.size > 0) this.spill();
    const written: RunRef[] = [];
    const byDay = new Map<string, RunRef[]>();
    for (const run of [...this.runs.filter((r) => r.day >= oldestDay), ...this.spilled]) byDay.set(run.day, [...(byDay.get(run.day) ?? []), run]);
    for (const [day, files] of byDay) {
      let merged = files;
      if (day < today && files.length > 1) {
        merged = [this.merge(day, files)];
        written.push(...merged);
      }
      // Today: size tiers (files within a factor 4 of each other); a tier of TODAY_FILES files becomes
      // one, so a key is rewritten once per tier it climbs (O(log n) times) and a day keeps few files.
      for (let group = fullTier(merged); group !== undefined; group = fullTier(merged)) {
        const out = this.merge(day, group);
        written.push(out);
        merged = [...merged.filter((run) => !group!.includes(run)), out];
      }
      byDay.set(day, merged);
    }
    const runs = [...byDay.values()].flat().sort((x, y) => (x.day === y.day ? genOf(x.file) - genOf(y.file) : x.day < y.day ? -1 : 1));
    const live = new Set(runs.map((run) => run.file));
    const obsolete = [...this.runs, ...this.spilled, ...written].map((run) => run.file).filter((file) => !live.has(file));
    if (this.spilled.length > 0 || written.length > 0) syncDir(this.dir);
    return { runs, obsolete, written: written.filter((run) => live.has(run.file)) };
  }

  /** The manifest of `prepared` is written: its files are the store now. */
  committed(prepared: PreparedCommit): void {
    for (const run of prepared.written) this.readers.set(run.file, this.openRun(run));
    for (const file of prepared.obsolete) {
      this.readers.get(file)?.close();
      this.readers.delete(file);
      try {
        unlinkSync(join(this.dir, file));
      } catch {
        /* deleted as an orphan by the next run */
      }
    }
    this.runs = prepared.runs;
    this.spilled = [];
    this.freshKeys = 0;
  }

  close(): void {
    for (const reader of this.readers.values()) reader.close();
    this.readers.clear();
  }

  /** Writes a version-1 entry's ids of one day as a run file (the migration); the caller commits it. */
  writeLegacyDay(day: string, fetchIds: readonly string[], records: string): RunRef {
    const keys = new DigestSet();
    keys.addEncoded(records, RECORD_WORD);
    for (const id of fetchIds) keys.remember(fetchKey(id));
    return this.writeSorted(day, keys.sorted());
  }

  private has(key: Digest): boolean {
    if (this.fresh.has(key)) return true;
    for (const reader of this.readers.values()) {
      try {
        if (reader.has(key[0], key[1], key[2])) return true;
      } catch (error) {
        throw this.corrupt(reader.path, error);
      }
    }
    return false;
  }

  private remember(key: Digest): void {
    if (!this.fresh.remember(key)) return;
    this.freshKeys++;
    // Bounded memory: the new keys so far become a run file of today, looked up in place.
    if (this.writable && this.fresh.size >= this.spillKeys) this.spill();
  }

  /** Writes the new keys in memory as a run file of today (named by the next manifest). */
  private spill(): void {
    const keys = this.fresh.sorted();
    this.fresh = new DigestSet();
    const run = this.writeSorted(this.today, keys);
    this.spilled.push(run);
    this.readers.set(run.file, this.openRun(run));
  }

  private writeSorted(day: string, keys: Uint32Array): RunRef {
    const file = `${day}-${String(this.nextGen++).padStart(6, '0')}.run`;
    const writer = new RunWriter(join(this.dir, file), keys.length / 3);
    try {
      for (let at = 0; at < keys.length; at += 3) writer.add(keys[at]!, keys[at + 1]!, keys[at + 2]!);
      return { file, day, ...writer.finish() };
    } catch (error) {
      writer.abort();
      throw error;
    }
  }

  /** Streams a k-way merge of `files` (all of `day`) into one new file. */
  private merge(day: string, files: RunRef[]): RunRef {
    const file = `${day}-${String(this.nextGen++).padStart(6, '0')}.run`;
    const writer = new RunWriter(
      join(this.dir, file),
      files.reduce((n, run) => n + run.count, 0),
    );
    const opened: RunReader[] = [];
    const readerOf = (run: RunRef) => this.readers.get(run.file) ?? opened[opened.push(this.openRun(run)) - 1]!;
    try {
      const cursors = files.map((run) => new KeyCursor(readerOf(run), (path, e) => this.corrupt(path, e)));
      for (;;) {
        let min: KeyCursor | undefined;
        for (const cursor of cursors) if (!cursor.done && (min === undefined || cursor.before(min))) min = cursor;
        if (min === undefined) break;
        writer.add(min.a, min.b, min.c);
        min.next();
      }
      return { file, day, ...writer.finish() };
    } catch (error) {
      writer.abort();
      throw error;
    } finally {
      for (const reader of opened) reader.close();
    }
  }

  private openRun(run: RunRef): RunReader {
    try {
      return RunReader.open(join(this.dir, run.file), this.cache, run.sha256);
    } catch (error) {
      throw this.corrupt(join(this.dir, run.file), error);
    }
  }

  private corrupt(path: string, error: unknown): ConsumerError {
    if (error instanceof ConsumerError) return error;
    const code = (error as NodeJS.ErrnoException).code;
    const what =
      code === 'ENOENT' ? 'is missing' : error instanceof RunFileError ? `is corrupt (${error.message})` : `cannot be read (${code ?? String(error)})`;
    return new ConsumerError('E_CONSUMER_STATE', `processed-ID run file ${path}, named by the consumer's manifest, ${what}; ${CORRUPT_FIX}`, { cause: error });
  }
}

/** Reads one run file's keys in order, a chunk of blocks at a time. */
class KeyCursor {
  a = 0;
  b = 0;
  c = 0;
  done = false;
  private chunk: Buffer = Buffer.alloc(0);
  private at = 0;
  private readonly chunks: Generator<Buffer, void, undefined>;

  constructor(
    private readonly reader: RunReader,
    private readonly corrupt: (path: string, error: unknown) => Error,
  ) {
    this.chunks = reader.keys();
    this.next();
  }

  before(other: KeyCursor): boolean {
    return this.a !== other.a ? this.a < other.a : this.b !== other.b ? this.b < other.b : this.c < other.c;
  }

  next(): void {
    if (this.at >= this.chunk.length) {
      let step: IteratorResult<Buffer, void>;
      try {
        step = this.chunks.next();
      } catch (error) {
        throw this.corrupt(this.reader.path, error);
      }
      if (step.done) {
        this.done = true;
        return;
      }
      this.chunk = step.value;
      this.at = 0;
    }
    this.a = this.chunk.readUInt32BE(this.at);
    this.b = this.chunk.readUInt32BE(this.at + 4);
    this.c = this.chunk.readUInt32BE(this.at + 8);
    this.at += 12;
  }
}

function genOf(file: string): number {
  return Number(/-(\d+)\.run$/.exec(file)?.[1] ?? 0);
}

/** fsyncs a directory, so the files renamed into it survive a crash. */
export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
