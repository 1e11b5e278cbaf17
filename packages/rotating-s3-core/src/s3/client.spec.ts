import { describe, expect, it } from 'vitest';
import { createS3Client } from './client.js';

const attempts = async (options: Parameters<typeof createS3Client>[1], env: Record<string, string>) => {
  const client = createS3Client({ forcePathStyle: true }, options, env);
  try {
    return await client.config.maxAttempts();
  } finally {
    client.destroy();
  }
};

describe('createS3Client attempts per request', () => {
  it("takes the SDK's AWS_MAX_ATTEMPTS over the default of 4, and an explicit option over both", async () => {
    expect(await attempts({}, {})).toBe(4);
    expect(await attempts({}, { AWS_MAX_ATTEMPTS: '1' })).toBe(1);
    expect(await attempts({}, { AWS_MAX_ATTEMPTS: 'many' })).toBe(4);
    expect(await attempts({ maxAttempts: 2 }, { AWS_MAX_ATTEMPTS: '1' })).toBe(2);
  });
});
