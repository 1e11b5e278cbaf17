/**
 * Local Nx plugin (registered in nx.json `plugins`): infers the targets the installed Nx plugins cannot.
 *
 * - `typecheck` for every project with a tsconfig.json: `tsc --noEmit` over the project's sources and tests
 *   (tsconfig.spec.json when the project has one, else tsconfig.json). @nx/js/typescript's typecheck needs a
 *   TypeScript "solution" layout (composite configs that emit declarations), which these packages, built
 *   with `tsc -b tsconfig.lib.json` and checked with noEmit configs, do not use.
 * - `test-<tier>` for every vitest config: one target per test tier the project holds specs of (the vitest
 *   `test.projects` unit, integ, e2e, soak made by tools/s3-test-harness/src/tiers.ts), running
 *   `vitest run --project <tier>`. A config without tiers is one tier as a whole: `test-e2e` (the
 *   generated stage suites run the stage's bins against a real S3 server).
 *   The `test` target itself (every tier) is inferred by @nx/vitest.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const TIERS = ['unit', 'integ', 'e2e', 'soak'];

const root = (file) => dirname(file);

const SUFFIX = { unit: '.spec.ts', integ: '.integ.spec.ts', e2e: '.e2e.spec.ts', soak: '.soak.spec.ts' };

/** Spec file names under a project (without node_modules, dist and generator templates). */
function specFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return ['node_modules', 'dist', 'files', 'logs'].includes(entry.name) ? [] : specFiles(join(dir, entry.name));
    return entry.name.endsWith('.spec.ts') ? [entry.name] : [];
  });
}

/** The tiers a vitest config declares (through testTiers()) and holds at least one spec of. */
function tiersOf(configText, projectDir) {
  if (!/\btestTiers\(/.test(configText)) return [];
  const specs = specFiles(projectDir);
  const tierOf = (name) => TIERS.slice(1).find((tier) => name.endsWith(SUFFIX[tier])) ?? 'unit';
  return TIERS.filter((tier) => specs.some((name) => tierOf(name) === tier));
}

export const createNodesV2 = [
  '**/{tsconfig.json,vitest.config.ts,vitest.config.mts}',
  async (files, _options, context) =>
    files
      .filter((file) => !file.startsWith('node_modules/') && existsSync(join(context.workspaceRoot, root(file), 'package.json')))
      .map((file) => {
        const projectRoot = root(file);
        const targets = {};
        if (file.endsWith('tsconfig.json')) {
          const config = existsSync(join(context.workspaceRoot, projectRoot, 'tsconfig.spec.json')) ? 'tsconfig.spec.json' : 'tsconfig.json';
          targets.typecheck = {
            command: `tsc -p ${config} --noEmit`,
            options: { cwd: '{projectRoot}' },
            cache: true,
            inputs: ['default', '^production', { externalDependencies: ['typescript'] }],
            outputs: [],
            dependsOn: ['^build'],
            metadata: { description: `Type-checks sources and tests (${config}) without emitting` },
          };
        } else {
          const declared = tiersOf(readFileSync(join(context.workspaceRoot, file), 'utf8'), join(context.workspaceRoot, projectRoot));
          for (const tier of declared.length ? declared : ['e2e']) {
            targets[`test-${tier}`] = {
              command: declared.length ? `vitest run --project ${tier}` : 'vitest run',
              options: { cwd: '{projectRoot}' },
              cache: false,
              dependsOn: ['build', '^build'],
              metadata: { description: `The ${tier} tier of this project's tests` },
            };
          }
        }
        return [file, { projects: { [projectRoot]: { targets } } }];
      }),
];
