import { defineConfig } from 'vitest/config';
import { testTiers } from './src/tiers.js';

export default defineConfig({
  test: {
    projects: testTiers(['src']),
    testTimeout: 30_000,
  },
});
