/**
 * The stage's local bookended file `<localDir>/<stage>_fetches.log` and its quarantine
 * `<localDir>/<stage>_quarantine.log` (format: bookended.ts).
 *
 * Write order that keeps "nothing lost, nothing merged" across a crash:
 * - a fetch is one `append` (write + fsync) of a whole block;
 * - torn bytes are first appended (fsync) to the quarantine file with a header naming where they came
 *   from, and only then cut from the log (truncate for a tail, atomic rewrite otherwise);
 * - uploaded blocks are removed by an atomic rewrite that keeps every other byte range, in order.
 */
import { createReadStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { BlockScanner, type ScanEvent, type ScannedBlock, type TornSegment } from './bookended.js';
import type { DurableFs } from './durable-fs.js';
import { unreadableLocalFile } from './io-errors.js';

export interface LogFilePaths {
  log: string;
  quarantine: string;
}

export function logFilePaths(localDir: string, stage: string): LogFilePaths {
  return { log: join(localDir, `${stage}_fetches.log`), quarantine: join(localDir, `${stage}_quarantine.log`) };
}

/** Size and inode of a file, or undefined when it does not exist. */
export async function fileIdentity(path: string): Promise<{ size: number; ino: number } | undefined> {
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw Object.assign(new Error(`EISDIR: ${path} is a directory`), { code: 'EISDIR' });
    return { size: s.size, ino: s.ino };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unreadableLocalFile('the local file', path, error);
  }
}

/** Bytes read from the file at a time (one buffer, reused for the whole scan). */
const READ_SIZE = 1 << 20;

/**
 * Streams the scan events of `path` from byte `from` (a block boundary); nothing when it does not exist.
 * Memory is bounded by one block: one reused read buffer and the scanner's reused block buffer, so the
 * writer's reconcile and the consumer (consumer/local-reader.ts) read a 1 GB file in the same small RSS.
 * A block's `payload` is a view that the next event overwrites: copy it to keep it.
 */
export async function* scanLog(path: string, from = 0): AsyncGenerator<ScanEvent> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw unreadableLocalFile('the local file', path, error);
  }
  try {
    const scanner = new BlockScanner(from);
    const chunk = Buffer.allocUnsafe(READ_SIZE);
    for (let position = from; ;) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(chunk, 0, READ_SIZE, position));
      } catch (error) {
        throw unreadableLocalFile('the local file', path, error);
      }
      if (bytesRead === 0) break;
      position += bytesRead;
      // The scanner is done with `chunk` once its generator is: the next read may overwrite it.
      yield* scanner.push(chunk.subarray(0, bytesRead));
    }
    yield* scanner.end();
  } finally {
    await handle.close();
  }
}

/** All valid blocks and torn segments of `path` from `from`. */
export async function readLog(path: string, from = 0): Promise<{ blocks: ScannedBlock[]; torn: TornSegment[] }> {
  const blocks: ScannedBlock[] = [];
  const torn: TornSegment[] = [];
  for await (const event of scanLog(path, from)) {
    if (event.kind === 'block') blocks.push({ ...event.block, payload: Buffer.from(event.block.payload) });
    else torn.push(event.segment);
  }
  return { blocks, torn };
}

/** Reads bytes [start, end) of a file. */
export async function readRange(path: string, start: number, end: number): Promise<Buffer> {
  if (end <= start) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for await (const chunk of createReadStream(path, { start, end: end - 1 })) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/**
 * Copies each torn segment to the quarantine file (durably) and then removes them from the log.
 * Returns the new size of the log.
 */
export async function quarantineSegments(fs: DurableFs, paths: LogFilePaths, segments: TornSegment[], logSize: number, nowText: string): Promise<number> {
  if (segments.length === 0) return logSize;
  for (const segment of segments) await appendQuarantined(fs, paths, segment, await readRange(paths.log, segment.start, segment.end), nowText);
  const onlyTail = segments.length === 1 && segments[0]!.end === logSize;
  if (onlyTail) {
    await fs.truncate(paths.log, segments[0]!.start);
    return segments[0]!.start;
  }
  return removeRanges(fs, paths.log, segments, logSize);
}

/** Appends (durably) one torn segment's bytes to the quarantine file, under a header naming where they were. */
export async function appendQuarantined(fs: DurableFs, paths: LogFilePaths, segment: TornSegment, bytes: Buffer, nowText: string): Promise<void> {
  const header = `=== QUARANTINED ${nowText} | from ${paths.log} bytes ${segment.start}-${segment.end} | ${segment.reason} ===\n`;
  await fs.append(paths.quarantine, Buffer.concat([Buffer.from(header), bytes, Buffer.from(bytes.at(-1) === 0x0a ? '' : '\n')]));
}

/**
 * Quarantines `segments` when they are all that is left in the log but the disk was too full to copy them
 * first: read them, empty the log (which frees the space), then append them to the quarantine file. A crash
 * between the last two steps loses those bytes — never a logged fetch: torn bytes are a write that was not
 * acknowledged. Returns each segment with its size.
 */
export async function emptyLogIntoQuarantine(
  fs: DurableFs,
  paths: LogFilePaths,
  segments: TornSegment[],
  nowText: string,
): Promise<Array<{ segment: TornSegment; bytes: number }>> {
  const kept = await Promise.all(segments.map(async (segment) => ({ segment, bytes: await readRange(paths.log, segment.start, segment.end) })));
  await fs.truncate(paths.log, 0);
  for (const { segment, bytes } of kept) await appendQuarantined(fs, paths, segment, bytes, nowText);
  return kept.map(({ segment, bytes }) => ({ segment, bytes: bytes.length }));
}

/** Atomically rewrites `path` without the given byte ranges; returns the new size. */
export async function removeRanges(fs: DurableFs, path: string, ranges: Array<{ start: number; end: number }>, size: number): Promise<number> {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const keep: Buffer[] = [];
  let cursor = 0;
  for (const range of sorted) {
    if (range.start > cursor) keep.push(await readRange(path, cursor, range.start));
    cursor = Math.max(cursor, range.end);
  }
  if (cursor < size) keep.push(await readRange(path, cursor, size));
  const data = Buffer.concat(keep);
  await fs.writeAtomic(path, data);
  return data.length;
}
