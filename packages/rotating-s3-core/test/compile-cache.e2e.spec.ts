/**
 * Node's module compile cache (Node 22.8+): the bundled CLI turns it on, in Node's default place under
 * the temp directory, and never depends on it — a cache whose every file is garbage costs only time.
 * On a Node without module.enableCompileCache (Node 20) no cache is written and the CLI works the same.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestStage, payload, runCli, writePayload } from './support.js';

// Not in @types/node 20, which the workspace compiles against.
const supported = typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function';
const privateTmp = mkdtempSync(join(tmpdir(), 'rs3-compile-cache-'));
afterAll(() => rmSync(privateTmp, { recursive: true, force: true }));

function cacheFiles(): string[] {
  const dir = join(privateTmp, 'node-compile-cache');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('module compile cache', () => {
  it('is written where Node supports it, and a corrupt cache changes nothing but time', async () => {
    const stage = await createTestStage({ fetchLimit: 100 });
    const file = writePayload(stage, 'p.json', payload(1, 2));
    const env = { ...stage.env, TMPDIR: privateTmp };
    const first = await runCli(['log', '--config', stage.configFile, '--payload-file', file], { env });
    expect(first.code, first.stderr).toBe(0);
    const written = cacheFiles();
    if (supported) expect(written.length).toBeGreaterThan(0);
    else expect(written).toEqual([]);

    for (const path of written) writeFileSync(path, Buffer.alloc(64, 0xa5));
    const second = await runCli(['log', '--config', stage.configFile, '--payload-file', file], { env });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toBe('');
    expect([first.json?.['fetch_number'], second.json?.['fetch_number']]).toEqual([1, 2]);
  });
});
