/**
 * Local Nx plugin (registered in nx.json `plugins`): infers the targets the installed Nx plugins cannot.
 *
 * - `typecheck` for every project with a tsconfig.json: `tsc --noEmit` over the project's sources and tests
 *   (tsconfig.spec.json when the project has one, else tsconfig.json). @nx/js/typescript's typecheck needs a
 *   TypeScript "solution" layout (composite configs that emit declarations), which these packages, built
 *   with `tsc -b tsconfig.lib.json` and checked with noEmit configs, do not use.
 * - `test-<tier>` for every vitest config: one target per test tier (vitest `test.projects` named unit,
 *   integ, e2e, soak) running `vitest run --project <tier>`. A config that names no tiers is one tier as a
 *   whole: `test-e2e` (the generated stage suites run the stage's bins against a real S3 server).
 *   The `test` target itself (every tier) is inferred by @nx/vitest.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const TIERS = ['unit', 'integ', 'e2e', 'soak'];

const root = (file) => dirname(file);

/** Tiers a vitest config declares: the names of its inline `test.projects`. */
function tiersOf(text) {
  return TIERS.filter((tier) => new RegExp(`name:\\s*['"]${tier}['"]`).test(text));
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
          const declared = tiersOf(readFileSync(join(context.workspaceRoot, file), 'utf8'));
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
