import { defineConfig } from 'vitest/config';
import { testTiers } from '../../tools/s3-test-harness/src/tiers.js';

export default defineConfig({
  test: {
    projects: testTiers(['src'], {
      // Nx's native layer reports the virtual tree of @nx/devkit/testing ("workspace root does not exist:
      // /virtual") on stderr; it is expected there, so the unit tier turns that logging off.
      unit: { env: { NX_NATIVE_LOGGING: 'off' } },
    }),
    testTimeout: 30_000,
  },
});
