import type { Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { stageGenerator } from '../stage/generator';
import { syncStagePackagesGenerator } from './generator';

describe('sync-stage-packages (Nx sync generator)', () => {
  let tree: Tree;
  let generated: string;
  beforeEach(async () => {
    tree = createTreeWithEmptyWorkspace();
    tree.delete('.oxfmtrc.json');
    tree.write('tsconfig.build.json', JSON.stringify({ files: [], references: [] }));
    await stageGenerator(tree, { name: 'merge', fetchLimit: 25, recordsPath: '/matches', skipInstall: true });
    generated = tree.read('packages/stages/merge/src/index.ts', 'utf-8')!;
  });

  it('restores a generated file edited by hand, and says how to sync', async () => {
    tree.write('packages/stages/merge/src/index.ts', '// edited by hand\n');
    const result = await syncStagePackagesGenerator(tree);
    expect(result?.outOfSyncMessage).toMatch(/stages\.config\.json.*packages\/stages\/merge\/src\/index\.ts.*npx nx sync/);
    expect(tree.read('packages/stages/merge/src/index.ts', 'utf-8')).toBe(generated);
  });

  it('deletes a file under packages/stages the generator does not produce, and leaves build output alone', async () => {
    tree.write('packages/stages/merge/src/extra.ts', 'export const x = 1;\n');
    tree.write('packages/stages/merge/dist/index.js', '// build output\n');
    await syncStagePackagesGenerator(tree);
    expect(tree.exists('packages/stages/merge/src/extra.ts')).toBe(false);
    expect(tree.exists('packages/stages/merge/dist/index.js')).toBe(true);
    expect(tree.exists('packages/stages/merge/src/index.ts')).toBe(true);
  });
});
