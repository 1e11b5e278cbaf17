/**
 * The ids a consumer run added (consumer/processed-store.ts), as 96-bit digests (the first 12 bytes of
 * sha256 of the id) in an open-addressing hash table of plain 32-bit words: ~24 bytes per id and no object
 * per id, so a run over millions of records neither bloats nor churns the JS heap. A version-1
 * processed-ID file held a digest as its 12 bytes in base64url: exactly 16 characters, concatenated per
 * day (read once, by the migration).
 */
import { hash } from 'node:crypto';

/** Characters of one digest in the processed-ID file. */
export const DIGEST_CHARS = 16;
const DIGEST_BYTES = 12;

export class DigestSet {
  /** Three words per slot; an all-zero slot is empty (the all-zero digest is tracked apart). */
  private slots = new Uint32Array(3 * 1024);
  private mask = 1023;
  private count = 0;
  private hasZero = false;

  get size(): number {
    return this.count + (this.hasZero ? 1 : 0);
  }

  /**
   * Makes room for `additional` more digests at once, so loading a large set rehashes the table once
   * instead of at every doubling.
   */
  reserve(additional: number): void {
    let mask = this.mask;
    while ((this.count + additional) * 2 > mask + 1) mask = mask * 2 + 1;
    if (mask !== this.mask) this.resize(mask);
  }

  /** Adds the digests of the file form (16 base64url characters each, concatenated). */
  addEncoded(encoded: string, mapFirstWord: (a: number) => number = (a) => a): void {
    const bytes = Buffer.from(encoded, 'base64url');
    this.reserve(Math.floor(bytes.length / DIGEST_BYTES));
    for (let i = 0; i + DIGEST_BYTES <= bytes.length; i += DIGEST_BYTES)
      this.insert(mapFirstWord(bytes.readUInt32BE(i)), bytes.readUInt32BE(i + 4), bytes.readUInt32BE(i + 8));
  }

  /** True when the digest is in the set. */
  has(digest: Digest): boolean {
    const [a, b, c] = digest;
    if (a === 0 && b === 0 && c === 0) return this.hasZero;
    for (let slot = a & this.mask; ; slot = (slot + 1) & this.mask) {
      const at = slot * 3;
      const sa = this.slots[at]!;
      const sb = this.slots[at + 1]!;
      const sc = this.slots[at + 2]!;
      if (sa === 0 && sb === 0 && sc === 0) return false;
      if (sa === a && sb === b && sc === c) return true;
    }
  }

  /** Adds the digest; false when it was already there. */
  remember(digest: Digest): boolean {
    return this.insert(digest[0], digest[1], digest[2]);
  }

  /**
   * Every digest, ascending (unsigned, word by word), as three words each: a counting sort on the top
   * bits of the first word then an insertion sort of each (tiny, digests being uniform) bucket.
   */
  sorted(): Uint32Array {
    const n = this.size;
    const bits = Math.max(1, Math.min(20, Math.ceil(Math.log2(n + 1))));
    const shift = 32 - bits;
    const starts = new Uint32Array((1 << bits) + 1);
    const each = (fn: (a: number, b: number, c: number) => void) => {
      if (this.hasZero) fn(0, 0, 0);
      for (let at = 0; at < this.slots.length; at += 3) {
        const a = this.slots[at]!;
        const b = this.slots[at + 1]!;
        const c = this.slots[at + 2]!;
        if (a !== 0 || b !== 0 || c !== 0) fn(a, b, c);
      }
    };
    each((a) => starts[(a >>> shift) + 1]!++);
    for (let i = 1; i < starts.length; i++) starts[i]! += starts[i - 1]!;
    const next = starts.slice(0, -1);
    const out = new Uint32Array(3 * n);
    each((a, b, c) => {
      const at = 3 * next[a >>> shift]!++;
      out[at] = a;
      out[at + 1] = b;
      out[at + 2] = c;
    });
    for (let bucket = 0; bucket < starts.length - 1; bucket++) {
      for (let i = starts[bucket]! + 1; i < starts[bucket + 1]!; i++) {
        const a = out[3 * i]!;
        const b = out[3 * i + 1]!;
        const c = out[3 * i + 2]!;
        let j = i - 1;
        for (; j >= starts[bucket]!; j--) {
          const x = out[3 * j]!;
          const y = out[3 * j + 1]!;
          if (x < a || (x === a && (y < b || (y === b && out[3 * j + 2]! < c)))) break;
          out[3 * j + 3] = x;
          out[3 * j + 4] = y;
          out[3 * j + 5] = out[3 * j + 2]!;
        }
        out[3 * j + 3] = a;
        out[3 * j + 4] = b;
        out[3 * j + 5] = c;
      }
    }
    return out;
  }

  /** Returns false when the digest was already there. */
  private insert(a: number, b: number, c: number): boolean {
    if (a === 0 && b === 0 && c === 0) {
      const fresh = !this.hasZero;
      this.hasZero = true;
      return fresh;
    }
    if ((this.count + 1) * 2 > this.mask + 1) this.resize(this.mask * 2 + 1);
    for (let slot = a & this.mask; ; slot = (slot + 1) & this.mask) {
      const at = slot * 3;
      const sa = this.slots[at]!;
      const sb = this.slots[at + 1]!;
      const sc = this.slots[at + 2]!;
      if (sa === a && sb === b && sc === c) return false;
      if (sa === 0 && sb === 0 && sc === 0) {
        this.slots[at] = a;
        this.slots[at + 1] = b;
        this.slots[at + 2] = c;
        this.count++;
        return true;
      }
    }
  }

  /** Rehashes into a table of `mask + 1` slots (a power of two). */
  private resize(mask: number): void {
    const old = this.slots;
    this.mask = mask;
    this.slots = new Uint32Array(3 * (this.mask + 1));
    this.count = 0;
    for (let at = 0; at < old.length; at += 3) {
      const a = old[at]!;
      const b = old[at + 1]!;
      const c = old[at + 2]!;
      if (a !== 0 || b !== 0 || c !== 0) this.insert(a, b, c);
    }
  }
}

/** A record id's digest: the first 12 bytes of its sha256, as three big-endian words. */
export type Digest = readonly [number, number, number];

/** One-shot hash (no Hash object per record: this runs for every record of every run). */
export function digestOf(recordId: string): Digest {
  const hex = hash('sha256', recordId, 'hex');
  return [parseInt(hex.slice(0, 8), 16), parseInt(hex.slice(8, 16), 16), parseInt(hex.slice(16, 24), 16)];
}

/** The file form of one record id's digest (16 base64url characters). */
export function encodedDigestOf(recordId: string): string {
  return hash('sha256', recordId, 'base64url').slice(0, DIGEST_CHARS);
}
