import { defineConfig } from 'vitest/config';

// The end-to-end suite: the real server and headless Chromium (playwright-core), in e2e/.
export default defineConfig({
  test: {
    include: ['e2e/**/*.test.ts'],
    setupFiles: ['lib/setup.ts'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
  },
});
