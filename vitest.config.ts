import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // ORT sessions use 2 threads each; more than two workers only thrash the 2-core CI machine.
    maxWorkers: 2,
  },
});
