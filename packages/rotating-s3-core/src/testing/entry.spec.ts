/**
 * The core's main entry never reaches `@rotating-s3/core/testing` nor vitest (an optional peer): walks the
 * relative imports of src/index.ts and names the first file that does.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = dirname(dirname(fileURLToPath(import.meta.url)));
const IMPORT = /(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

function reachable(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    const specifiers = [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((m) => (m[1] ?? m[2])!);
    seen.set(file, specifiers);
    for (const s of specifiers) if (s.startsWith('.')) queue.push(resolve(dirname(file), s.replace(/\.js$/, '.ts')));
  }
  return seen;
}

describe('@rotating-s3/core main entry', () => {
  it('imports neither the testing entry nor vitest', () => {
    const graph = reachable(resolve(SRC, 'index.ts'));
    expect(graph.size).toBeGreaterThan(10);
    const offenders = [...graph].filter(([file, specs]) => file.includes('/testing/') || specs.some((s) => s === 'vitest' || s.startsWith('vitest/')));
    expect(offenders.map(([file]) => file)).toEqual([]);
  });
});
