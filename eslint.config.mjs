/**
 * ESLint 9 flat config for the whole workspace (`nx run-many -t lint`; Nx infers one `lint` target per
 * project from this file through @nx/eslint/plugin).
 *
 * Module boundaries (@nx/enforce-module-boundaries, over Nx's project graph):
 *   type:stage → type:core only (a stage never imports another stage, a tool or the generator);
 *   type:core  → type:core only;
 *   type:tool  → type:core and type:tool.
 * Tests may also use the S3 test harness (a type:tool project): see the second boundaries block.
 * Formatting is Prettier's job (eslint-config-prettier turns off the rules that would disagree).
 */
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const boundaries = (extraForTests) => [
  'error',
  {
    enforceBuildableLibDependency: false,
    allow: [],
    // Node packages import a library lazily for start-up time, not to split a browser bundle: a static
    // import of the same library elsewhere (a test) is fine.
    checkDynamicDependenciesExceptions: ['@rotating-s3/*'],
    depConstraints: [
      { sourceTag: 'type:stage', onlyDependOnLibsWithTags: ['type:core', ...extraForTests] },
      { sourceTag: 'type:core', onlyDependOnLibsWithTags: ['type:core', ...extraForTests] },
      { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:core', 'type:tool'] },
    ],
  },
];

const TEST_FILES = ['**/*.spec.ts', '**/test/**/*.ts', '**/test/**/*.mjs', '**/test/**/*.cjs'];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/coverage/**',
      '**/.nx/**',
      '**/logs/**',
      // EJS templates of the stage generator: not JavaScript until rendered (the rendered stages are linted).
      'generators/nx-plugin/src/stage/files/**',
    ],
  },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    files: ['**/*.ts', '**/*.mts', '**/*.cts', '**/*.js', '**/*.mjs', '**/*.cjs'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries([]),
    },
  },
  {
    files: TEST_FILES,
    rules: {
      '@nx/enforce-module-boundaries': boundaries(['type:tool']),
    },
  },
  {
    // Vitest configs are loaded by Node before any transform: they take the shared test tiers
    // (tools/s3-test-harness/src/tiers.ts) by path, as they take its globalSetup files.
    files: ['**/vitest.config.*'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    // The core's benchmarks (not shipped, not built) start moto through the bench tool's shared starter.
    files: ['packages/rotating-s3-core/bench/**'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    rules: {
      // House style: strict TS with noUncheckedIndexedAccess, where `!` states what the code already checked.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // A leading underscore marks a value left out on purpose (`const { a: _a, ...rest } = …`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // No-op implementations (a silent progress bar, a null ops log) are deliberate.
      '@typescript-eslint/no-empty-function': ['error', { allow: ['methods', 'arrowFunctions'] }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    // Refuses control characters in a prefix: the regular expression names them on purpose.
    files: ['generators/nx-plugin/src/stage/validate.ts'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    files: TEST_FILES,
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        __dirname: 'readonly',
        require: 'readonly',
        module: 'writable',
      },
    },
  },
  prettier,
);
