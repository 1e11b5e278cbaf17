import { describe, expect, it } from 'vitest';
import { BlockScanner, formatBlock, type ScanEvent } from '../local/bookended.js';
import { ReusableBlockScanner, type ReusableScanEvent } from './reusable-block-scanner.js';

/** Both scanners' events in one comparable form. */
function viaBlockScanner(input: Buffer, size: number): unknown[] {
  const scanner = new BlockScanner();
  const events: ScanEvent[] = [];
  for (let i = 0; i < input.length; i += size) events.push(...scanner.push(input.subarray(i, i + size)));
  events.push(...scanner.end());
  return events.map((e) => (e.kind === 'block' ? { ...e.block, payload: e.block.payload.toString('utf8') } : e));
}

function viaReusable(input: Buffer, size: number): unknown[] {
  const scanner = new ReusableBlockScanner();
  const out: unknown[] = [];
  // The chunk buffer is reused, like the consumer's file reader does.
  const chunk = Buffer.alloc(size);
  const take = (e: ReusableScanEvent) => out.push(e.kind === 'block' ? { ...e.block, payload: e.block.payload.toString('utf8') } : e);
  for (let i = 0; i < input.length; i += size) {
    const n = input.copy(chunk, 0, i, Math.min(i + size, input.length));
    for (const e of scanner.push(chunk.subarray(0, n))) take(e);
  }
  for (const e of scanner.end()) take(e);
  return out;
}

function block(n: number, payload: string): string {
  return formatBlock({ fetchId: `f${n}`, timestamp: `2026-11-28T10:00:0${n % 10}.000-05:00`, fetchNumber: n, records: 1 }, payload);
}

const PIECES = [
  block(1, '{\n  "matches": [\n    {"text": "=== FETCH END: f1 | x | fetch_number=1 | records=1 ==="}\n  ]\n}'),
  block(2, '[]'),
  block(3, ''),
  block(4, '{"a":"\\n=== FETCH START: f9 | t | fetch_number=9 ==="}'),
  '=== FETCH START: torn | 2026-11-28T10:00:01.000-05:00 | fetch_number=5 ===\n{"cut": ',
  'stray text\n',
  '\n',
  '=== FETCH END: lonely | 2026-11-28T10:00:01.000-05:00 | fetch_number=6 | records=0 ===\n',
  block(7, '{"crlf": true}\r').replace('fetch_number=7 | records', 'fetch_number=8 | records'),
  block(9, '{"é": "✓ 😀"}'),
  '=== FETCH START: half | 2026-11-28T10:00:01.000-05:00 | fetch_number=10 ===\n{"x": 1}\n=== FETCH',
];

describe('ReusableBlockScanner', () => {
  it('yields exactly what BlockScanner yields, for every chunk size, on well-formed and torn input', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 40; round++) {
      const parts = Array.from({ length: 1 + Math.floor(random() * 8) }, () => PIECES[Math.floor(random() * PIECES.length)]!);
      const input = Buffer.from(parts.join(''));
      for (const size of [1, 3, 17, 64, 4096]) {
        expect(viaReusable(input, size), `round ${round}, chunk ${size}`).toEqual(viaBlockScanner(input, size));
      }
    }
  });

  it('keeps a payload intact while its event is being consumed, then reuses the buffer', () => {
    const input = Buffer.from(block(1, '{"first": 1}') + block(2, '{"second": 2}'));
    const scanner = new ReusableBlockScanner();
    const payloads: string[] = [];
    for (const e of scanner.push(input)) if (e.kind === 'block') payloads.push(e.block.payload.toString());
    expect(payloads).toEqual(['{"first": 1}', '{"second": 2}']);
  });
});
