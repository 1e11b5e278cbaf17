/**
 * `nx g @rotating-s3/generators:sync-stages` — regenerates every stage listed in stages.config.json, so an
 * edit of that file (or of the templates) reaches every stage package. The sync generator
 * (sync-stage-packages) runs it for `nx sync:check`, which fails CI when the committed packages differ.
 */
import { formatFiles, installPackagesTask, type GeneratorCallback, type Tree } from '@nx/devkit';
import { normalizeStageOptions, writeStage } from '../stage/generator';
import { readStages } from '../stage/stages-config';

export async function syncStagesGenerator(tree: Tree, schema: { skipInstall?: boolean }): Promise<GeneratorCallback | void> {
  // Validate every entry before writing any, so a bad entry leaves the tree untouched.
  const entries = await Promise.all(readStages(tree).map(({ stage, ...rest }) => normalizeStageOptions({ name: stage, ...rest })));
  for (const entry of entries) writeStage(tree, entry);
  await formatFiles(tree);
  if (!schema.skipInstall) return () => installPackagesTask(tree, true);
}

export default syncStagesGenerator;
