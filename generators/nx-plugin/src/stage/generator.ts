/**
 * `nx g @rotating-s3/generators:stage --name <stage> …` — scaffolds `packages/stages/<stage>` from the
 * templates in `files/`, records the stage in `stages.config.json` and the build references. Running it
 * again with the same options rewrites identical files (no change); different options for an existing
 * stage are refused unless `--overwrite`. Bad options are refused before anything is written.
 */
import { addProjectConfiguration, generateFiles, installPackagesTask, joinPathFragments, updateJson, updateProjectConfiguration, type GeneratorCallback, type Tree } from '@nx/devkit';
import { readStages, runtimeConfigOf, upsertStage, type StageEntry } from './stages-config';
import { assertValidStageOptions } from './validate';
import type { StageGeneratorSchema } from './schema';

export const STAGES_DIR = 'packages/stages';

export function normalizeStageOptions(schema: StageGeneratorSchema): StageEntry {
  const entry: StageEntry = {
    stage: schema.name,
    recordType: schema.recordType ?? 'record',
    bucket: schema.bucket ?? 'pipeline-logs',
    prefix: (schema.prefix ?? `logs/${schema.name}`).replace(/^\/+|\/+$/g, ''),
    localDir: schema.localDir ?? `./logs/${schema.name}`,
    fetchLimit: Number(schema.fetchLimit ?? 25),
    timezone: schema.timezone ?? 'UTC',
    recordsPath: schema.recordsPath ?? '/records',
  };
  if (schema.recordIdField) entry.recordIdField = schema.recordIdField;
  if (schema.description) entry.description = schema.description;
  assertValidStageOptions({ name: entry.stage, fetchLimit: entry.fetchLimit, timezone: entry.timezone, recordsPath: entry.recordsPath, bucket: entry.bucket, prefix: entry.prefix, recordType: entry.recordType });
  return entry;
}

/** Writes (or rewrites) every file and setting of one stage. */
export function writeStage(tree: Tree, entry: StageEntry): void {
  const root = joinPathFragments(STAGES_DIR, entry.stage);
  const pascal = entry.stage.replace(/(^|_)([a-z0-9])/g, (_m, _u, c: string) => c.toUpperCase());
  generateFiles(tree, joinPathFragments(__dirname, '..', '..', 'src', 'stage', 'files'), root, {
    ...entry,
    name: entry.stage,
    pascal,
    recordIdField: entry.recordIdField ?? '',
    description: entry.description ?? `Logging package of the ${entry.stage} pipeline stage.`,
    tmpl: '',
  });
  tree.write(joinPathFragments(root, 'stage.config.json'), `${JSON.stringify(runtimeConfigOf(entry), null, 2)}\n`);

  const project = {
    root,
    projectType: 'library' as const,
    sourceRoot: joinPathFragments(root, 'src'),
    tags: ['type:stage', `stage:${entry.stage}`],
    targets: {
      build: { command: 'tsc -b tsconfig.lib.json', options: { cwd: '{projectRoot}' }, outputs: ['{projectRoot}/dist'], dependsOn: ['^build'] },
      lint: { command: 'tsc -p tsconfig.json --noEmit', options: { cwd: '{projectRoot}' }, dependsOn: ['^build'] },
      test: { command: 'vitest run', options: { cwd: '{projectRoot}' }, dependsOn: ['build', '^build'] },
    },
  };
  const name = `stage-${entry.stage}`;
  if (tree.exists(joinPathFragments(root, 'project.json'))) updateProjectConfiguration(tree, name, project);
  else addProjectConfiguration(tree, name, project);

  updateJson(tree, 'tsconfig.build.json', (json: { references?: Array<{ path: string }> }) => {
    const path = `./${root}/tsconfig.lib.json`;
    json.references ??= [];
    if (!json.references.some((r) => r.path === path)) json.references.push({ path });
    return json;
  });
  upsertStage(tree, entry);
}

function sameEntry(a: StageEntry, b: StageEntry): boolean {
  return JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
}

export async function stageGenerator(tree: Tree, schema: StageGeneratorSchema): Promise<GeneratorCallback | void> {
  const entry = normalizeStageOptions(schema);
  const existing = readStages(tree).find((s) => s.stage === entry.stage);
  const exists = existing !== undefined || tree.exists(joinPathFragments(STAGES_DIR, entry.stage, 'package.json'));
  if (exists && !schema.overwrite && !(existing && sameEntry(existing, entry))) {
    throw new Error(`stage "${entry.stage}" exists already with other options (see stages.config.json); pass --overwrite to replace it, or run with the same options`);
  }
  writeStage(tree, entry);
  if (!schema.skipInstall) return () => installPackagesTask(tree, true);
}

export default stageGenerator;
