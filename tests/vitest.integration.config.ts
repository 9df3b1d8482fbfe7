import { defineConfig } from 'vitest/config';

// The integration suite: the real server binary on 127.0.0.1. Files run one after another
// (reliable on 2 cores); every test and hook has a bounded timeout.
export default defineConfig({
  test: {
    include: ['integration/**/*.test.ts'],
    setupFiles: ['lib/setup.ts'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 15_000,
    hookTimeout: 20_000,
    teardownTimeout: 10_000,
    reporters: ['default'],
  },
});
