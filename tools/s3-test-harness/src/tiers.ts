/**
 * The test tiers of every package, as vitest `test.projects` (run one with `vitest run --project <tier>`;
 * Nx infers a `test-<tier>` target for each, see tools/nx-targets):
 *   unit   `*.spec.ts`        no S3 server, no child processes: the fast tier;
 *   integ  `*.integ.spec.ts`  the file system and a real S3 server;
 *   e2e    `*.e2e.spec.ts`    the bins as child processes, against a real S3 server;
 *   soak   `*.soak.spec.ts`   long fault-injection runs (S3 faults, kill -9), still part of `npm test`.
 * Only integ, e2e and soak start the S3 server (the harness globalSetup); every tier gets its own temp root.
 */
import { configDefaults, type TestProjectInlineConfiguration } from 'vitest/config';

type TierOptions = NonNullable<TestProjectInlineConfiguration['test']>;

export const TIERS = ['unit', 'integ', 'e2e', 'soak'] as const;
export type Tier = (typeof TIERS)[number];

const HERE = new URL('.', import.meta.url).pathname;
export const S3_GLOBAL_SETUP = `${HERE}global-setup.ts`;
export const TEMP_ROOT_SETUP = `${HERE}temp-root.ts`;

/** `dirs`: the folders holding the package's specs, e.g. ['src', 'test']; `extra`: more options per tier. */
export function testTiers(dirs: string[], extra: Partial<Record<Tier, TierOptions>> = {}): TestProjectInlineConfiguration[] {
  const files = (suffix: string) => dirs.map((dir) => `${dir}/**/*${suffix}`);
  const tier = (name: Tier, include: string[], s3: boolean, exclude: string[] = []): TestProjectInlineConfiguration => ({
    extends: true,
    test: {
      name,
      include,
      exclude: [...configDefaults.exclude, ...exclude],
      globalSetup: s3 ? [TEMP_ROOT_SETUP, S3_GLOBAL_SETUP] : [TEMP_ROOT_SETUP],
      ...extra[name],
      // Expected on Node 20 and said once by `doctor`; in tests it is noise (the S3 setup sets it too).
      env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...extra[name]?.env },
    },
  });
  return [
    tier('unit', files('.spec.ts'), false, files('.integ.spec.ts').concat(files('.e2e.spec.ts'), files('.soak.spec.ts'))),
    tier('integ', files('.integ.spec.ts'), true),
    tier('e2e', files('.e2e.spec.ts'), true),
    tier('soak', files('.soak.spec.ts'), true),
  ];
}
