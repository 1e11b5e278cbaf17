/**
 * `nx g @rotating-s3/generators:stage --name <stage> …` — scaffolds `packages/stages/<stage>` from the
 * templates in `files/`, records the stage in `stages.config.json` and the build references. Running it
 * again with the same options rewrites identical files (no change); different options for an existing
 * stage are refused unless `--overwrite`. Bad options are refused before anything is written.
 */
import {
  addProjectConfiguration,
  formatFiles,
  generateFiles,
  installPackagesTask,
  joinPathFragments,
  updateJson,
  updateProjectConfiguration,
  type GeneratorCallback,
  type Tree,
} from '@nx/devkit';
import { readStages, runtimeConfigOf, upsertStage, type StageEntry } from './stages-config';
import { StageOptionError, assertValidStageOptions } from './validate';
import type { StageGeneratorSchema } from './schema';

export const STAGES_DIR = 'packages/stages';

/** Nx project name of a stage package. */
export function stageProjectName(stage: string): string {
  return `stage-${stage}`;
}

/** Applies the defaults and validates with the core's rules; throws a StageOptionError (one line) on a bad option. */
export async function normalizeStageOptions(schema: StageGeneratorSchema): Promise<StageEntry> {
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
  if (schema.forcePathStyle !== undefined) entry.forcePathStyle = schema.forcePathStyle;
  if (schema.sse !== undefined) entry.sse = schema.sse;
  if (schema.sseKmsKeyId !== undefined) entry.sseKmsKeyId = schema.sseKmsKeyId;
  if (schema.storageClass !== undefined) entry.storageClass = schema.storageClass;
  if (schema.expectedBucketOwner !== undefined) entry.expectedBucketOwner = String(schema.expectedBucketOwner);
  if (schema.maxPendingAge !== undefined) entry.maxPendingAge = schema.maxPendingAge;
  if (schema.payloadLayout !== undefined) entry.payloadLayout = schema.payloadLayout;
  if (schema.description) entry.description = schema.description;
  await assertValidStageOptions({ ...entry });
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
  // The bins are run directly too (./bin/…), not only through npm's links, which set the mode themselves.
  for (const bin of [`${entry.stage}_rotating_s3.js`, `test_${entry.stage}_s3_connection.js`]) {
    const path = joinPathFragments(root, 'bin', bin);
    tree.write(path, tree.read(path)!, { mode: 0o755 });
  }

  const project = {
    root,
    projectType: 'library' as const,
    sourceRoot: joinPathFragments(root, 'src'),
    // type:stage may depend only on type:core (plus the test harness in tests): eslint.config.mjs enforces it.
    tags: ['type:stage', `stage:${entry.stage}`],
    // lint, typecheck, test and test-<tier> are inferred (nx.json plugins); only the build is the stage's own.
    targets: {
      build: { command: 'tsc -b tsconfig.lib.json', options: { cwd: '{projectRoot}' }, outputs: ['{projectRoot}/dist'], dependsOn: ['^build'] },
    },
  };
  const name = stageProjectName(entry.stage);
  if (tree.exists(joinPathFragments(root, 'project.json'))) updateProjectConfiguration(tree, name, project);
  else addProjectConfiguration(tree, name, project);

  // `npm run build` (tsc -b tsconfig.build.json, also run by npm ci) builds every stage through this list.
  if (tree.exists('tsconfig.build.json')) {
    updateJson(tree, 'tsconfig.build.json', (json: { references?: Array<{ path: string }> }) => {
      const path = `./${root}/tsconfig.lib.json`;
      json.references ??= [];
      if (!json.references.some((r) => r.path === path)) json.references.push({ path });
      return json;
    });
  }
  upsertStage(tree, entry);
}

/** The options in which `asked` differs from the stage's entry, as `fetchLimit 25 → 10`. */
function differences(existing: StageEntry, asked: StageEntry): string[] {
  const keys = [...new Set([...Object.keys(existing), ...Object.keys(asked)])] as Array<keyof StageEntry>;
  const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v));
  return keys.filter((k) => existing[k] !== asked[k]).map((k) => `${k} ${show(existing[k])} → ${show(asked[k])}`);
}

export async function stageGenerator(tree: Tree, schema: StageGeneratorSchema): Promise<GeneratorCallback | void> {
  const entry = await normalizeStageOptions(schema);
  const existing = readStages(tree).find((s) => s.stage === entry.stage);
  if (!schema.overwrite) {
    if (existing) {
      const changed = differences(existing, entry);
      if (changed.length) {
        throw new StageOptionError(
          `stage "${entry.stage}" exists already (stages.config.json) and these options differ: ${changed.join(', ')}; pass --overwrite to replace it, or repeat its options`,
        );
      }
    } else if (tree.exists(joinPathFragments(STAGES_DIR, entry.stage))) {
      throw new StageOptionError(
        `${STAGES_DIR}/${entry.stage} exists already but is not in stages.config.json; pass --overwrite to replace it, or pick another --name`,
      );
    }
  }
  writeStage(tree, entry);
  // Prettier skips packages/stages (.prettierignore): the templates alone decide the layout there.
  if (!schema.skipFormat) await formatFiles(tree);
  if (!schema.skipInstall) return () => installPackagesTask(tree, true);
}

export default stageGenerator;
