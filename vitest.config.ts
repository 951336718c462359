import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The tests outside the fast tier: the command line run as a user runs it (test/e2e), and the suites that train whole
 * runs. Everything else is pure logic or small tensors, `npm run test:unit`; `npm test` runs both tiers.
 */
const WHOLE_RUNS = [
  'test/e2e/**/*.test.ts',
  'test/engine/session.*.test.ts',
  'test/engine/checkpointing.resume*.test.ts',
  'test/engine/interpolate.test.ts',
  'test/engine/phases.test.ts',
  'test/engine/pipeline.in-run.test.ts',
  'test/engine/task-examples.test.ts',
  'test/together/group.equals-alone.test.ts',
  'test/native/cache.test.ts',
];

export default defineConfig({
  // Inside the tests, `import 'anchorage'` is the sources under test (the CLI the end-to-end tests start runs dist/).
  resolve: { alias: [{ find: /^anchorage$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) }] },
  test: {
    // Each file gets its own process: tfjs keeps one engine and one backend per process.
    pool: 'forks',
    // A guard against a hang, not a speed limit: CI machines are shared and can be several
    // times slower than a developer's, and no test may fail for that alone.
    testTimeout: 900_000,
    hookTimeout: 900_000,
    // Two cores: more workers only make the CPU-bound training tests slower.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: WHOLE_RUNS } },
      // The runs start the CLI from the compiled package: it is brought up to date once, before they start.
      { extends: true, test: { name: 'runs', include: WHOLE_RUNS, globalSetup: ['test/global-setup.ts'] } },
    ],
  },
});
