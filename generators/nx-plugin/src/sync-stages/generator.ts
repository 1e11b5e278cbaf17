/**
 * `nx g @rotating-s3/generators:sync-stages` — regenerates every stage listed in stages.config.json.
 * CI runs it and fails when git then shows a change: the committed packages drifted from the generator.
 */
import { installPackagesTask, type GeneratorCallback, type Tree } from '@nx/devkit';
import { normalizeStageOptions, writeStage } from '../stage/generator';
import { readStages } from '../stage/stages-config';

export async function syncStagesGenerator(tree: Tree, schema: { skipInstall?: boolean }): Promise<GeneratorCallback | void> {
  for (const entry of readStages(tree)) {
    const { stage, ...rest } = entry;
    writeStage(tree, normalizeStageOptions({ name: stage, ...rest }));
  }
  if (schema.skipInstall === false) return () => installPackagesTask(tree, true);
}

export default syncStagesGenerator;
