import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.spec.ts'],
    globalSetup: ['./src/global-setup.ts'],
    testTimeout: 30_000,
  },
});
