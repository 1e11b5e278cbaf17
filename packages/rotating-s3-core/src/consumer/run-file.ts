/**
 * One immutable run file of the processed-ID store (consumer/processed-store.ts): a sorted set of 12-byte
 * keys searched in place, so a lookup reads one 4 KiB block, never the whole file.
 *
 *   header  8 bytes          "RS3RUN" + u16 format version (1)
 *   keys    count × 12 bytes strictly ascending (unsigned, big-endian), in blocks of BLOCK_KEYS keys
 *   fence   blocks × 16      per block: its first key + the first 4 bytes of the sha256 of the block's bytes
 *   filter  4 + f bytes      the first 4 bytes of the sha256 of the filter, then a Bloom filter of the keys
 *                            (f ≥ 2 × count bytes, a power of two: 16+ bits a key, 4 probes, ≤ 0.3% false
 *                            positives)
 *   footer  48 bytes         u32 count, u32 blocks, u32 BLOCK_KEYS, u32 f, sha256 of every byte before it
 *
 * Opening reads the footer and the fence only (~1/256 of the file) and checks the size and the magic; each
 * block is checked against its fence hash when it is read, the filter against its own; a streaming read
 * (compaction) checks the whole-file hash. The footer hash is also the file's checksum in the manifest, so
 * a file replaced by another is refused too. A file is written to `<name>.tmp`, fsynced and renamed; the
 * caller fsyncs the directory before naming it in the manifest.
 *
 * A file probed for a few keys reads one block per key; once it is probed for more keys than its filter has
 * pages, the filter (1/6 of the file) is read instead and the blocks only for the keys it may hold.
 */
import { createHash, hash } from 'node:crypto';
import { endianness } from 'node:os';
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';

export const KEY_BYTES = 12;
/** Keys per block: 4,092 bytes, one page. */
export const BLOCK_KEYS = 341;
const BLOCK_BYTES = BLOCK_KEYS * KEY_BYTES;
const MAGIC = Buffer.from('RS3RUN\x00\x01', 'latin1');
const HEADER_BYTES = MAGIC.length;
const FENCE_ENTRY = 16;
const FOOTER_BYTES = 48;

/** A run file that is not what its footer or the manifest says (the store names the file and the fix). */
export class RunFileError extends Error {}

const LITTLE_ENDIAN = endianness() === 'LE';
const hash4 = (block: Buffer): Buffer => Buffer.from(hash('sha256', block, 'buffer').subarray(0, 4));

/** Writes one run file from keys given in ascending order (an equal key is written once). */
export class RunWriter {
  private readonly fd: number;
  private readonly tmp: string;
  private readonly sha = createHash('sha256');
  private readonly block = Buffer.allocUnsafe(BLOCK_BYTES);
  private inBlock = 0;
  private fence: Buffer[] = [];
  private count = 0;
  private last = [-1, -1, -1];
  private readonly filter: Uint8Array;

  /** `expectedKeys`: at least the number of keys that will be added (sizes the filter). */
  constructor(
    private readonly path: string,
    expectedKeys: number,
  ) {
    this.filter = new Uint8Array(filterBytesFor(expectedKeys));
    this.tmp = `${path}.tmp`;
    this.fd = openSync(this.tmp, 'w', 0o600);
    this.write(MAGIC);
  }

  /** Appends the key (a, b, c); keys must come in ascending order. */
  add(a: number, b: number, c: number): void {
    const [la, lb, lc] = this.last;
    if (a === la && b === lb && c === lc) return;
    if (a < la! || (a === la && (b < lb! || (b === lb && c < lc!)))) throw new RunFileError(`keys out of order writing ${this.path}`);
    this.last = [a, b, c];
    const at = this.inBlock * KEY_BYTES;
    this.block.writeUInt32BE(a, at);
    this.block.writeUInt32BE(b, at + 4);
    this.block.writeUInt32BE(c, at + 8);
    filterAdd(this.filter, b, c);
    this.count++;
    if (++this.inBlock === BLOCK_KEYS) this.flushBlock();
  }

  /** Writes fence and footer, fsyncs and renames into place; returns what the manifest records. */
  finish(): { count: number; sha256: string } {
    let sha: Buffer;
    try {
      if (this.inBlock > 0) this.flushBlock();
      this.write(Buffer.concat(this.fence));
      const filter = Buffer.from(this.filter.buffer, this.filter.byteOffset, this.filter.length);
      this.write(hash4(filter));
      this.write(filter);
      const footer = Buffer.alloc(16);
      footer.writeUInt32BE(this.count, 0);
      footer.writeUInt32BE(this.fence.length, 4);
      footer.writeUInt32BE(BLOCK_KEYS, 8);
      footer.writeUInt32BE(this.filter.length, 12);
      this.write(footer);
      sha = this.sha.digest();
      writeAll(this.fd, sha);
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
    }
    renameSync(this.tmp, this.path);
    return { count: this.count, sha256: sha.toString('hex') };
  }

  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
    try {
      unlinkSync(this.tmp);
    } catch {
      /* never created */
    }
  }

  private flushBlock(): void {
    const bytes = this.block.subarray(0, this.inBlock * KEY_BYTES);
    const entry = Buffer.allocUnsafe(FENCE_ENTRY);
    bytes.copy(entry, 0, 0, KEY_BYTES);
    hash4(bytes).copy(entry, KEY_BYTES);
    this.fence.push(entry);
    this.write(bytes);
    this.inBlock = 0;
  }

  private write(bytes: Buffer): void {
    this.sha.update(bytes);
    writeAll(this.fd, bytes);
  }
}

function writeAll(fd: number, bytes: Buffer): void {
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** Blocks read of every open run file, as native words, bounded in bytes (the oldest read goes first). */
export class BlockCache {
  private readonly blocks = new Map<number, Uint32Array>();
  private bytes = 0;
  constructor(private readonly limit = 4 * 2 ** 20) {}

  get(id: number): Uint32Array | undefined {
    return this.blocks.get(id);
  }

  set(id: number, block: Uint32Array): void {
    this.blocks.set(id, block);
    this.bytes += block.byteLength;
    for (const [old, dropped] of this.blocks) {
      if (this.bytes <= this.limit) break;
      this.blocks.delete(old);
      this.bytes -= dropped.byteLength;
    }
  }
}

/** Probes of a file beyond this many per block make it load a filter (it would read every block anyway). */
const BLOCKS_PER_FILTER_PAGE = 6;
const FILTER_PROBES = 4;

const filterBytesFor = (keys: number): number => 2 ** Math.max(6, Math.ceil(Math.log2(Math.max(1, 2 * keys))));

let nextReaderId = 1;

/** An open run file: its fence in memory, blocks read on demand. */
export class RunReader {
  readonly count: number;
  readonly sha256: string;
  private readonly blocks: number;
  private readonly fence: Buffer;
  /** The fence's first keys as native words, three per block. */
  private readonly fenceWords: Uint32Array;
  private readonly id = nextReaderId++ * 2 ** 21;
  private readonly filterBytes: number;
  private readonly filterAt: number;
  private probes = 0;
  /** The file's Bloom filter, read once the file is probed for more keys than the filter has pages. */
  private filter: Uint8Array | undefined;

  private constructor(
    private readonly fd: number,
    readonly path: string,
    private readonly cache: BlockCache,
  ) {
    const size = fstatSync(fd).size;
    if (size < HEADER_BYTES + FOOTER_BYTES) throw new RunFileError(`truncated (${size} bytes)`);
    const footer = readAt(fd, FOOTER_BYTES, size - FOOTER_BYTES);
    this.count = footer.readUInt32BE(0);
    this.blocks = footer.readUInt32BE(4);
    this.filterBytes = footer.readUInt32BE(12);
    this.sha256 = footer.subarray(16).toString('hex');
    this.filterAt = HEADER_BYTES + this.count * KEY_BYTES + this.blocks * FENCE_ENTRY;
    const expected = this.filterAt + 4 + this.filterBytes + FOOTER_BYTES;
    const shapeOk = footer.readUInt32BE(8) === BLOCK_KEYS && Math.ceil(this.count / BLOCK_KEYS) === this.blocks && this.filterBytes >= 2 * this.count;
    if (!shapeOk || (this.filterBytes & (this.filterBytes - 1)) !== 0 || size !== expected) {
      throw new RunFileError(`truncated or not a run file (${size} bytes, footer says ${this.count} keys)`);
    }
    if (!readAt(fd, HEADER_BYTES, 0).equals(MAGIC)) throw new RunFileError('not a run file of this format (bad magic)');
    this.fence = readAt(fd, this.blocks * FENCE_ENTRY, this.filterAt - this.blocks * FENCE_ENTRY);
    this.fenceWords = new Uint32Array(3 * this.blocks);
    for (let i = 0; i < this.blocks; i++) {
      for (let w = 0; w < 3; w++) this.fenceWords[3 * i + w] = this.fence.readUInt32BE(i * FENCE_ENTRY + 4 * w);
    }
  }

  /** Opens and checks the file; `sha256` (the manifest's) must match its footer. */
  static open(path: string, cache: BlockCache, sha256?: string): RunReader {
    const fd = openSync(path, 'r');
    try {
      const reader = new RunReader(fd, path, cache);
      if (sha256 !== undefined && reader.sha256 !== sha256)
        throw new RunFileError(`checksum ${reader.sha256.slice(0, 12)}… is not the manifest's ${sha256.slice(0, 12)}…`);
      return reader;
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  /** True when the key (a, b, c) is in the file. */
  has(a: number, b: number, c: number): boolean {
    if (this.filter === undefined && ++this.probes * BLOCKS_PER_FILTER_PAGE > this.blocks) this.loadFilter();
    if (this.filter !== undefined && !filterHas(this.filter, b, c)) return false;
    const fence = this.fenceWords;
    let lo = 0;
    let hi = this.blocks - 1;
    if (hi < 0 || compareWords(fence, 0, a, b, c) > 0) return false;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (compareWords(fence, 3 * mid, a, b, c) <= 0) lo = mid;
      else hi = mid - 1;
    }
    const block = this.block(lo);
    let l = 0;
    let h = block.length / 3 - 1;
    while (l <= h) {
      const mid = (l + h) >>> 1;
      const cmp = compareWords(block, 3 * mid, a, b, c);
      if (cmp === 0) return true;
      if (cmp < 0) l = mid + 1;
      else h = mid - 1;
    }
    return false;
  }

  private loadFilter(): void {
    const section = readAt(this.fd, 4 + this.filterBytes, this.filterAt);
    const filter = section.subarray(4);
    if (!hash4(filter).equals(section.subarray(0, 4))) throw new RunFileError('its filter does not match its checksum (the file is damaged)');
    this.filter = new Uint8Array(filter.buffer, filter.byteOffset, filter.length);
  }

  /** Every key in order, `chunkBlocks` blocks per read, checking block hashes and the whole-file hash. */
  *keys(chunkBlocks = 16): Generator<Buffer, void, undefined> {
    const sha = createHash('sha256');
    sha.update(readAt(this.fd, HEADER_BYTES, 0));
    for (let first = 0; first < this.blocks; first += chunkBlocks) {
      const last = Math.min(this.blocks, first + chunkBlocks);
      const keys = Math.min(this.count, last * BLOCK_KEYS) - first * BLOCK_KEYS;
      const chunk = readAt(this.fd, keys * KEY_BYTES, HEADER_BYTES + first * BLOCK_BYTES);
      for (let i = first; i < last; i++) this.checkBlock(i, chunk.subarray((i - first) * BLOCK_BYTES, (i - first + 1) * BLOCK_BYTES));
      sha.update(chunk);
      yield chunk;
    }
    sha.update(this.fence);
    sha.update(readAt(this.fd, 4 + this.filterBytes + 16, this.filterAt));
    if (sha.digest('hex') !== this.sha256) throw new RunFileError('checksum mismatch (the file changed after it was written)');
  }

  close(): void {
    closeSync(this.fd);
  }

  private block(index: number): Uint32Array {
    const id = this.id + index;
    const cached = this.cache.get(id);
    if (cached !== undefined) return cached;
    const keys = Math.min(BLOCK_KEYS, this.count - index * BLOCK_KEYS);
    // Read straight into the words' memory, checked, then made native in one call (not word by word).
    const block = new Uint32Array(3 * keys);
    const bytes = Buffer.from(block.buffer);
    readInto(this.fd, bytes, HEADER_BYTES + index * BLOCK_BYTES);
    this.checkBlock(index, bytes);
    if (LITTLE_ENDIAN) bytes.swap32();
    this.cache.set(id, block);
    return block;
  }

  private checkBlock(index: number, block: Buffer): void {
    const at = index * FENCE_ENTRY;
    if (!hash4(block).equals(this.fence.subarray(at + KEY_BYTES, at + FENCE_ENTRY)) || block.compare(this.fence, at, at + KEY_BYTES, 0, KEY_BYTES) !== 0) {
      throw new RunFileError(`block ${index} does not match its checksum (the file is damaged)`);
    }
  }
}

function readAt(fd: number, length: number, position: number): Buffer {
  return readInto(fd, Buffer.allocUnsafe(length), position);
}

function readInto(fd: number, buffer: Buffer, position: number): Buffer {
  for (let done = 0; done < buffer.length;) {
    const n = readSync(fd, buffer, done, buffer.length - done, position + done);
    if (n === 0) throw new RunFileError(`truncated at byte ${position + done}`);
    done += n;
  }
  return buffer;
}

/** Compares the key at `at` in `words` with (a, b, c): negative when it is smaller. */
function compareWords(words: Uint32Array, at: number, a: number, b: number, c: number): number {
  const x = words[at]!;
  if (x !== a) return x < a ? -1 : 1;
  const y = words[at + 1]!;
  if (y !== b) return y < b ? -1 : 1;
  const z = words[at + 2]!;
  return z === c ? 0 : z < c ? -1 : 1;
}

/** The filter's bit positions come from the key's last two words (uniform: they are sha256 bits). */
function filterAdd(filter: Uint8Array, b: number, c: number): void {
  const mask = filter.length * 8 - 1;
  for (let i = 0; i < FILTER_PROBES; i++) {
    const bit = (b + Math.imul(i, c | 1)) & mask;
    filter[bit >>> 3]! |= 1 << (bit & 7);
  }
}

function filterHas(filter: Uint8Array, b: number, c: number): boolean {
  const mask = filter.length * 8 - 1;
  for (let i = 0; i < FILTER_PROBES; i++) {
    const bit = (b + Math.imul(i, c | 1)) & mask;
    if ((filter[bit >>> 3]! & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}
