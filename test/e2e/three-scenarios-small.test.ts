// A small version of experiments/three-scenarios.ts (fewer examples,
// iterations and units) through the CLI: the qualitative facts of van de Ven
// & Tolias (2019) must hold on real MNIST.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runCli, scratchDir, writeExperiment } from '../helpers.js';

describe('three scenarios on Split MNIST (small)', () => {
  it('class-IL naive forgets, replay beats it widely, task-IL beats class-IL', () => {
    const dir = scratchDir('3s');
    const spec = {
      name: 'three-scenarios-small',
      dataset: { name: 'mnist', trainLimit: 6000, testLimit: 2000 },
      stream: { name: 'split', tasksOf: 2 },
      model: { name: 'mlp', hidden: [100, 100] },
      optimizer: { name: 'adamw', lr: 1e-3, weightDecay: 0 },
      axes: {
        scenario: ['task-il', 'class-il'],
        strategy: [{ name: 'naive' }, { name: 'replay', size: 500, policy: 'class-balanced' }],
      },
      train: { steps: 60, batchSize: 64, logEvery: 30 },
    };
    const out = join(dir, 'results');
    const r = runCli(['run', writeExperiment(dir, spec), '--out', out, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(
      runCli(['compare', join(out, 'three-scenarios-small'), '--by', 'scenario,strategy', '--format', 'json']).stdout,
    );
    const acc = (scenario: string, strategy: string) =>
      json.groups.find(
        (g: { scenario: string; strategy: string }) => g.scenario === scenario && g.strategy === strategy,
      ).ACC.mean;
    expect(acc('class-il', 'naive')).toBeLessThan(0.35);
    expect(acc('class-il', 'replay(500)')).toBeGreaterThan(acc('class-il', 'naive') + 0.3);
    expect(acc('task-il', 'naive')).toBeGreaterThan(acc('class-il', 'naive') + 0.3);
  });
});
