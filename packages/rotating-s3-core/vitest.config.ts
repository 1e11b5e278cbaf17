import { defineConfig } from 'vitest/config';
import { testTiers } from '../../tools/s3-test-harness/src/tiers.js';

// Tiers unit / integ / e2e / soak (see tools/s3-test-harness/src/tiers.ts): `vitest run --project unit`.
export default defineConfig({
  test: {
    projects: testTiers(['src', 'test']),
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: keep CLI-spawning suites from starving each other.
    maxWorkers: 2,
  },
});
