import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.spec.ts'],
    // A real S3 server (moto, else s3rver, or ROTATING_S3_TEST_ENDPOINT) for the whole run.
    globalSetup: ['../../../tools/s3-test-harness/src/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
