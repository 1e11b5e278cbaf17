import { defineConfig } from 'vitest/config';

// The soak tier (`npx nx run rotating-s3-core:soak`): long load-and-chaos runs, outside `npm test`.
export default defineConfig({
  test: {
    include: ['test/**/*.soak.ts'],
    globalSetup: ['../../tools/s3-test-harness/src/global-setup.ts'],
    testTimeout: 3_600_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
