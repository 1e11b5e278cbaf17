/**
 * Build outputs are relocatable: no file under any dist/ of the workspace (the core's bundle and tzdb,
 * every package's .js, .d.ts, .map and tsbuildinfo) holds the workspace's absolute path, so a tree can be
 * copied, moved or restored from another clone's Nx cache (tools/clone-check proves the same on clones).
 */
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const workspace = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function distDirs(dir: string, depth = 0): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.name === 'dist') found.push(path);
    else if (depth < 3) found.push(...distDirs(path, depth + 1));
  }
  return found;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('build outputs', () => {
  it('name no absolute path of the workspace in any file under any dist/', () => {
    const dists = distDirs(workspace);
    // The core and every generated stage package are built before the tests run (test dependsOn build).
    expect(dists).toContain(join(workspace, 'packages', 'rotating-s3-core', 'dist'));
    expect(dists.filter((d) => d.includes(join('packages', 'stages'))).length).toBeGreaterThan(0);
    const roots = [...new Set([workspace, realpathSync(workspace)])];
    const needles = roots.flatMap((root) => [root, pathToFileURL(root).href]).map((text) => Buffer.from(text));
    const files = dists.flatMap(filesUnder);
    expect(files.some((f) => f.endsWith('.map'))).toBe(true);
    const offenders = files.filter((file) => {
      const bytes = readFileSync(file);
      return needles.some((needle) => bytes.includes(needle));
    });
    expect(offenders.map((f) => f.slice(workspace.length + 1))).toEqual([]);
  });
});
