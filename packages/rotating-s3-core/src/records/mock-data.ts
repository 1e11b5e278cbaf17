/**
 * Mock payloads for tests, demos and the generated `test_<stage>_complete_logging` suites: a payload whose
 * records sit at the stage's `recordsPath` and carry its `recordIdField`, so counting, record ids and
 * dedup are exercised exactly as with real data.
 */
import { pointerTokens } from './json-text.js';

export interface MockPayloadOptions {
  /** JSON Pointer of the records array (SPEC §8 `recordsPath`). `""` makes the payload the array itself. */
  recordsPath: string;
  /** Field that identifies a record; default `id`. */
  recordIdField?: string;
  /** What a record is (e.g. `match`); names the ids and a `type` field. Default `record`. */
  recordType?: string;
  /** Number of records. */
  records: number;
  /** Makes ids unique across payloads (e.g. the run number). */
  seed: number | string;
  /** Extra bytes of text per record, to build large payloads. Default 0. */
  padding?: number;
}

export function buildMockPayload(options: MockPayloadOptions): Record<string, unknown> | unknown[] {
  const type = options.recordType ?? 'record';
  const idField = options.recordIdField ?? 'id';
  const records = Array.from({ length: options.records }, (_, i) => ({
    [idField]: `${type}-${options.seed}-${i}`,
    type,
    index: i,
    value: (Number(String(options.seed).replace(/\D/g, '') || 0) * 31 + i * 7) % 1000,
    ...(options.padding ? { text: 'x'.repeat(options.padding) } : {}),
  }));
  if (options.recordsPath === '') return records;
  // Build the nesting the pointer names: "/data/matches" → { data: { matches: [...] } }.
  const tokens = pointerTokens(options.recordsPath);
  const root: Record<string, unknown> = { source: 'mock', generated_for: type };
  let node = root;
  tokens.forEach((token, i) => {
    if (i === tokens.length - 1) node[token] = records;
    else node = (node[token] = {}) as Record<string, unknown>;
  });
  return root;
}
