/**
 * Fetch ids name a fetch in the local file, the daily object and downstream state. They appear inside
 * marker lines and file-derived names, so they are restricted to a safe alphabet.
 */
import { randomFillSync } from 'node:crypto';
import { InputError } from '../errors.js';

export const FETCH_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$/;

export function assertFetchId(id: string): string {
  if (!FETCH_ID_PATTERN.test(id)) {
    const shown = id.length > 40 ? `${JSON.stringify(id.slice(0, 40))}… (${id.length} chars)` : JSON.stringify(id);
    throw new InputError('E_FETCH_ID', `--fetch-id ${shown} is not allowed; use 1-128 characters of A-Z a-z 0-9 . _ : @ + - starting with a letter or digit`);
  }
  return id;
}

/**
 * Random bytes drawn 4 at a time from a pool refilled 1024 fetch ids at a time: a crypto call per fetch
 * id was a tenth of the in-process logger's CPU per fetch.
 */
const pool = Buffer.alloc(4096);
let poolAt = pool.length; // starts empty: the first fetch id fills it

/** `20261128T140311512-9f2c4e1a`: local wall time for people, 32 random bits for uniqueness. */
export function generateFetchId(localTimestamp: string): string {
  const compact = localTimestamp.slice(0, 23).replace(/[-:]/g, '').replace('.', '');
  if (poolAt === pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  poolAt += 4;
  return `${compact}-${pool.toString('hex', poolAt - 4, poolAt)}`;
}
