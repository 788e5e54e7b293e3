import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 90_000,
    pool: 'forks',
    // Two cores: integration files start real servers; more workers only add contention.
    maxWorkers: 2,
    fileParallelism: true,
    reporters: ['default'],
  },
});
