/**
 * The record ids a consumer already received, as 96-bit digests (the first 12 bytes of sha256 of the id) in
 * an open-addressing hash table of plain 32-bit words: ~24 bytes per id and no object per id, so a run
 * over millions of records neither bloats nor churns the JS heap. In the processed-ID file a digest is its
 * 12 bytes in base64url: exactly 16 characters, concatenated per day (consumer/state.ts).
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
  /** Digests added with `remember`, in order, as raw bytes (what a commit appends to the file). */
  private added = Buffer.allocUnsafe(DIGEST_BYTES * 256);
  private addedTotal = 0;

  /** How many digests `remember` added. */
  get addedCount(): number {
    return this.addedTotal;
  }

  get size(): number {
    return this.count + (this.hasZero ? 1 : 0);
  }

  /**
   * Makes room for `additional` more digests at once, so loading a large history rehashes the table
   * once instead of at every doubling (a consumer loads millions of digests at the start of each run).
   */
  reserve(additional: number): void {
    let mask = this.mask;
    while ((this.count + additional) * 2 > mask + 1) mask = mask * 2 + 1;
    if (mask !== this.mask) this.resize(mask);
  }

  /** Loads digests from the file's form (16 base64url characters each, concatenated), one string per day. */
  loadEncoded(...days: string[]): void {
    this.reserve(days.reduce((n, encoded) => n + Math.floor(encoded.length / DIGEST_CHARS), 0));
    for (const encoded of days) {
      const bytes = Buffer.from(encoded, 'base64url');
      for (let i = 0; i + DIGEST_BYTES <= bytes.length; i += DIGEST_BYTES)
        this.insert(bytes.readUInt32BE(i), bytes.readUInt32BE(i + 4), bytes.readUInt32BE(i + 8));
    }
  }

  /** True when the digest was received before (loaded, or remembered by this run). */
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

  /** Adds the digest and keeps it among this run's additions. */
  remember(digest: Digest): void {
    const [a, b, c] = digest;
    if (!this.insert(a, b, c)) return;
    if ((this.addedTotal + 1) * DIGEST_BYTES > this.added.length) {
      const grown = Buffer.allocUnsafe(this.added.length * 2);
      this.added.copy(grown, 0, 0, this.addedTotal * DIGEST_BYTES);
      this.added = grown;
    }
    const at = this.addedTotal * DIGEST_BYTES;
    this.added.writeUInt32BE(a, at);
    this.added.writeUInt32BE(b, at + 4);
    this.added.writeUInt32BE(c, at + 8);
    this.addedTotal++;
  }

  /** This run's additions in the file's form. */
  encodeAdded(): string {
    return this.added.toString('base64url', 0, this.addedTotal * DIGEST_BYTES);
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
