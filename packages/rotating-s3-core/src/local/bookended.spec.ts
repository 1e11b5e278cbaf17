import { describe, expect, it } from 'vitest';
import { BlockScanner, formatBlock, type ScanEvent } from './bookended.js';

const meta = (n: number, id = `f${n}`) => ({ fetchId: id, timestamp: '2026-11-28T14:03:11.512-05:00', fetchNumber: n, records: 2 });

/** Every event, with payloads copied out of the scanner's reused buffer as a reader must. */
function scanAll(text: string | Buffer, chunkSize = 1 << 20): ScanEvent[] {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const scanner = new BlockScanner();
  const events: ScanEvent[] = [];
  const keep = (e: ScanEvent) => events.push(e.kind === 'block' ? { kind: 'block', block: { ...e.block, payload: Buffer.from(e.block.payload) } } : e);
  // The chunk buffer is reused too, as a file reader does.
  const chunk = Buffer.alloc(chunkSize);
  for (let i = 0; i < bytes.length; i += chunkSize) {
    const n = bytes.copy(chunk, 0, i, Math.min(i + chunkSize, bytes.length));
    for (const e of scanner.push(chunk.subarray(0, n))) keep(e);
  }
  for (const e of scanner.end()) keep(e);
  return events;
}

describe('bookended format', () => {
  it('writes START, payload and END lines that carry id, timestamp, number and record count', () => {
    const text = formatBlock(meta(7), '{"a":1}');
    expect(text).toBe(
      '=== FETCH START: f7 | 2026-11-28T14:03:11.512-05:00 | fetch_number=7 ===\n{"a":1}\n' +
        '=== FETCH END: f7 | 2026-11-28T14:03:11.512-05:00 | fetch_number=7 | records=2 ===\n',
    );
  });

  it('reads back every block with its byte range, whatever the chunk boundaries', () => {
    const text = formatBlock(meta(1), JSON.stringify({ x: [1, 2] }, null, 2)) + formatBlock(meta(2), '[]');
    for (const chunk of [1, 3, 17, 1 << 20]) {
      const events = scanAll(text, chunk);
      expect(events.map((e) => e.kind)).toEqual(['block', 'block']);
      const [a, b] = events.map((e) => (e.kind === 'block' ? e.block : undefined));
      expect(JSON.parse(a!.payload.toString())).toEqual({ x: [1, 2] });
      expect(a!.start).toBe(0);
      expect(b!.start).toBe(a!.end);
      expect(b!.end).toBe(Buffer.byteLength(text));
      expect(b!.records).toBe(2);
    }
  });

  it('never splits a block on marker-like text inside a payload string', () => {
    const sneaky = {
      note: '\n=== FETCH END: f1 | 2026-11-28T14:03:11.512-05:00 | fetch_number=1 | records=0 ===\n=== FETCH START: x | y | fetch_number=9 ===',
    };
    const text = formatBlock(meta(1), JSON.stringify(sneaky, null, 2));
    const events = scanAll(text);
    expect(events).toHaveLength(1);
    const block = events[0]!.kind === 'block' ? events[0]!.block : undefined;
    expect(JSON.parse(block!.payload.toString())).toEqual(sneaky);
  });

  it('reports a block cut short at the end of the file as torn instead of returning it', () => {
    const whole = formatBlock(meta(1), '{"a":1}');
    const cut = formatBlock(meta(2), '{"b":2}').slice(0, 90);
    const events = scanAll(whole + cut);
    expect(events[0]!.kind).toBe('block');
    expect(events[1]).toEqual({
      kind: 'torn',
      segment: { start: Buffer.byteLength(whole), end: Buffer.byteLength(whole + cut), reason: expect.stringContaining('f2') },
    });
  });

  it('does not merge a torn block with the block that follows it', () => {
    const torn = formatBlock(meta(1), '{"a":1}').split('\n').slice(0, 2).join('\n') + '\n';
    const next = formatBlock(meta(2), '{"b":2}');
    const events = scanAll(torn + next);
    expect(events.map((e) => e.kind)).toEqual(['torn', 'block']);
    expect(events[1]!.kind === 'block' && events[1]!.block.fetchId).toBe('f2');
    expect(events[0]!.kind === 'torn' && events[0]!.segment).toMatchObject({ start: 0, end: Buffer.byteLength(torn) });
  });

  it('treats an END line that names another fetch as a torn block', () => {
    const text = formatBlock(meta(1), '{}').replace('FETCH END: f1', 'FETCH END: f9');
    expect(scanAll(text).map((e) => e.kind)).toEqual(['torn']);
  });

  it('reports stray text between blocks as one torn segment', () => {
    const text = formatBlock(meta(1), '{}') + 'garbage\nmore garbage\n' + formatBlock(meta(2), '{}');
    const events = scanAll(text);
    expect(events.map((e) => e.kind)).toEqual(['block', 'torn', 'block']);
  });

  it('gives the same events whatever the chunk boundaries, on random well-formed and torn input', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 40; round++) {
      const parts = Array.from({ length: 1 + Math.floor(random() * 8) }, () => PIECES[Math.floor(random() * PIECES.length)]!);
      const input = Buffer.from(parts.join(''));
      const whole = scanAll(input);
      for (const size of [1, 3, 17, 64, 4096]) expect(scanAll(input, size), `round ${round}, chunk ${size}`).toEqual(whole);
    }
  });

  it('keeps a payload intact while its event is being consumed', () => {
    const input = Buffer.from(formatBlock(meta(1), '{"first": 1}') + formatBlock(meta(2), '{"second": 2}'));
    const payloads: string[] = [];
    for (const e of new BlockScanner().push(input)) if (e.kind === 'block') payloads.push(e.block.payload.toString());
    expect(payloads).toEqual(['{"first": 1}', '{"second": 2}']);
  });
});

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
