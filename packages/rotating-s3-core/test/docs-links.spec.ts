/**
 * The repository is self-contained: every relative Markdown link of every document resolves to a file
 * inside the repository, and no file points at a place outside it (a contract in a sibling directory, a
 * path of the machine the repository was written on).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SKIP = new Set(['node_modules', 'dist', '.git', '.nx', 'demo-output', 'coverage', 'logs']);
const TEXT = /\.(md|ts|mts|mjs|js|json|py|yml|yaml|sh)$|^(run|README)$/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return TEXT.test(name) ? [path] : [];
  });
}

describe('the repository links only to itself', () => {
  const all = files(ROOT);

  it('every relative Markdown link resolves to a file inside the repository', () => {
    const markdown = all.filter((f) => f.endsWith('.md'));
    expect(markdown.length).toBeGreaterThan(10);
    const broken: string[] = [];
    for (const file of markdown) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!.split('#')[0]!;
        if (target === '' || /^[a-z]+:/i.test(target)) continue;
        const path = resolve(dirname(file), decodeURI(target));
        if (relative(ROOT, path).startsWith('..') || !existsSync(path)) broken.push(`${relative(ROOT, file)}: ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('no file names a place outside the repository', () => {
    // Spelt in pieces, so that this file does not match itself.
    const pattern = new RegExp(['\\.\\./', '/work/'].map((p) => `${p}${'shared'}\\b`).join('|'));
    const outside = all.filter((f) => pattern.test(readFileSync(f, 'utf8'))).map((f) => relative(ROOT, f));
    expect(outside).toEqual([]);
  });
});
