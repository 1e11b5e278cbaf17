/**
 * `nx g @rotating-s3/generators:remove-stage --name <stage>` — the inverse of `stage`: deletes the stage
 * package, its stages.config.json entry and its build reference, then runs `npm install` so the lock
 * forgets the package (skipped on --dry-run and with --skipInstall).
 */
import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { formatFiles, installPackagesTask, joinPathFragments, updateJson, type GeneratorCallback, type Tree } from '@nx/devkit';
import { STAGES_DIR } from '../stage/generator';
import { STAGES_FILE, readStages } from '../stage/stages-config';
import { STAGE_NAME_PATTERN, StageOptionError } from '../stage/validate';

export interface RemoveStageSchema {
  name: string;
  skipInstall?: boolean;
}

export async function removeStageGenerator(tree: Tree, schema: RemoveStageSchema): Promise<GeneratorCallback | void> {
  if (!STAGE_NAME_PATTERN.test(schema.name)) {
    throw new StageOptionError(`--name ${JSON.stringify(schema.name)} is not a valid stage name; use ^[a-z][a-z0-9_]{0,62}$`);
  }
  const root = joinPathFragments(STAGES_DIR, schema.name);
  const listed = readStages(tree).some((s) => s.stage === schema.name);
  if (!listed && !tree.exists(root)) {
    throw new StageOptionError(`stage "${schema.name}" is neither in stages.config.json nor in ${root}; nothing to remove`);
  }
  const manifest = tree.read(joinPathFragments(root, 'package.json'), 'utf-8');
  const bins = Object.keys((manifest ? (JSON.parse(manifest) as { bin?: Record<string, string> }).bin : undefined) ?? {});
  tree.delete(root);
  if (listed) {
    updateJson(tree, STAGES_FILE, (json: { stages: Array<{ stage: string }> }) => ({ ...json, stages: json.stages.filter((s) => s.stage !== schema.name) }));
  }
  if (tree.exists('tsconfig.build.json')) {
    updateJson(tree, 'tsconfig.build.json', (json: { references?: Array<{ path: string }> }) => {
      json.references = (json.references ?? []).filter((r) => r.path !== `./${root}/tsconfig.lib.json`);
      return json;
    });
  }
  await formatFiles(tree);
  if (schema.skipInstall) return;
  return () => {
    installPackagesTask(tree, true);
    // npm prunes the package but cannot see its bins once the folder is gone: drop the dangling links.
    for (const bin of bins) {
      const link = join(tree.root, 'node_modules', '.bin', bin);
      if (isDanglingLink(link)) unlinkSync(link);
    }
  };
}

function isDanglingLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink() && !existsSync(path);
  } catch {
    return false;
  }
}

export default removeStageGenerator;
