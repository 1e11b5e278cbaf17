/**
 * Nx sync generator (nx.json `sync.globalGenerators`): keeps packages/stages/* equal to what the `stage`
 * generator makes of stages.config.json. `nx sync` applies it; `nx sync:check` (CI) fails and names every
 * file that differs: the files the generator would create or change, and every file under packages/stages
 * it does not produce (a hand-made file, a leftover of a removed stage), which it deletes.
 * `npm run check:stages` is `nx sync:check`.
 */
import { joinPathFragments, type Tree } from '@nx/devkit';
import { STAGES_DIR } from '../stage/generator';
import { syncStagesGenerator } from '../sync-stages/generator';

/** Not source: build output, installs, local logs of a stage run by hand. */
const NOT_SOURCE = new Set(['node_modules', 'dist', 'logs', 'coverage']);

/** The files under `dir` that belong in the repository. */
function sourceFiles(tree: Tree, dir: string): string[] {
  return tree.children(dir).flatMap((name) => {
    const path = joinPathFragments(dir, name);
    if (tree.isFile(path)) return name.endsWith('.tsbuildinfo') ? [] : [path];
    return NOT_SOURCE.has(name) ? [] : sourceFiles(tree, path);
  });
}

/** The tree as the generators see it, recording every path they write. */
function recordingWrites(tree: Tree, written: Set<string>): Tree {
  return new Proxy(tree, {
    get(target, property) {
      if (property === 'write') {
        return (path: string, content: Buffer | string, options?: Parameters<Tree['write']>[2]) => {
          written.add(joinPathFragments(path));
          return target.write(path, content, options);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export async function syncStagePackagesGenerator(tree: Tree): Promise<{ outOfSyncMessage: string } | void> {
  const written = new Set<string>();
  await syncStagesGenerator(recordingWrites(tree, written), { skipInstall: true });
  for (const file of sourceFiles(tree, STAGES_DIR)) {
    if (!written.has(file)) tree.delete(file);
  }
  const changes = tree.listChanges();
  if (changes.length === 0) return;
  const files = changes.map((c) => `${c.type === 'CREATE' ? 'missing' : c.type === 'DELETE' ? 'not generated' : 'differs'}: ${c.path}`);
  return {
    outOfSyncMessage: `The stage packages differ from what the stage generator makes of stages.config.json (${files.join('; ')}). Edit stages.config.json or the templates (generators/nx-plugin/src/stage/files), then run \`npx nx sync\`.`,
  };
}

export default syncStagePackagesGenerator;
