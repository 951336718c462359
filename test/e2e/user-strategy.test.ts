// The user strategy plugin of docs/strategies.md, taken from the page itself,
// runs through the CLI combined with a built-in strategy.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli, scratchDir } from '../helpers.js';

describe("a user's strategy plugin", () => {
  it('the example of docs/strategies.md (half-replay) trains alongside ewc and shows in the results', () => {
    const readme = readFileSync(join(ROOT, 'docs', 'strategies.md'), 'utf8');
    const code = /```ts\n(\/\/ half-replay\.ts\n[\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const dir = scratchDir('user-strategy');
    writeFileSync(join(dir, 'half-replay.ts'), code!);
    writeFileSync(
      join(dir, 'experiment.ts'),
      `import { defineExperiment, use } from 'anchorage';
import { halfReplay } from './half-replay.ts';
export default defineExperiment({
  name: 'user-strategy',
  plugins: ['./half-replay.ts'],
  dataset: { name: 'synthetic', classes: 4, features: 16, trainPerClass: 40, testPerClass: 20, separation: 6 },
  stream: { name: 'split', tasksOf: 2 },
  model: { name: 'mlp', hidden: [32] },
  optimizer: { name: 'adamw', lr: 0.02 },
  strategies: [use(halfReplay, { size: 40 }), { name: 'ewc', lambda: 10, fisherSamples: 20 }],
  train: { epochs: 3, batchSize: 16, logEvery: 5 },
});
`,
    );
    const out = join(dir, 'results');
    const r = runCli(['run', join(dir, 'experiment.ts'), '--out', out, '--quiet'], { timeout: 600_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(
      runCli(['compare', join(out, 'user-strategy'), '--by', 'strategy', '--format', 'json']).stdout,
    );
    expect(json.groups.map((g: { strategy: string }) => g.strategy)).toEqual(['half-replay(40)+ewc']);
  }, 600_000);
});
