import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each file gets its own process: tfjs keeps one engine and one backend per process.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: more workers only make the CPU-bound training tests slower.
    maxWorkers: 2,
  },
});
