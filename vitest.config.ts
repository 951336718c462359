import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Inside the tests, `import 'anchorage'` is the sources under test (the CLI the end-to-end tests start runs dist/).
  resolve: { alias: [{ find: /^anchorage$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) }] },
  test: {
    globalSetup: ['test/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    // Each file gets its own process: tfjs keeps one engine and one backend per process.
    pool: 'forks',
    // A guard against a hang, not a speed limit: CI machines are shared and can be several
    // times slower than a developer's, and no test may fail for that alone.
    testTimeout: 900_000,
    hookTimeout: 900_000,
    // Two cores: more workers only make the CPU-bound training tests slower.
    maxWorkers: 2,
  },
});
