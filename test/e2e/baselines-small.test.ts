// Small versions of experiments/baselines*.ts through the CLI, on real MNIST:
// the qualitative facts the papers report must hold, and bad strategy input
// must stop before training with the field named. Sized for wasm on a busy
// machine: the time limits are generous, the work small.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runCli, scratchDir, writeExperiment } from '../helpers.js';

type Group = { strategy: string; scenario: string; ACC: { mean: number } };

function compare(out: string, name: string): Group[] {
  return JSON.parse(runCli(['compare', join(out, name), '--by', 'scenario,strategy', '--format', 'json']).stdout)
    .groups;
}

describe('baselines on MNIST (small)', () => {
  it('class-IL: DER++ and iCaRL far above naive; several strategies combine in one run', () => {
    const dir = scratchDir('baselines');
    const spec = {
      name: 'baselines-small',
      dataset: { name: 'mnist', trainLimit: 6000, testLimit: 2000 },
      stream: { name: 'split', tasksOf: 2 },
      model: { name: 'mlp', hidden: [100, 100] },
      variants: [
        { strategies: [{ name: 'naive' }], optimizer: { name: 'sgd', lr: 0.03 } },
        {
          strategies: [{ name: 'derpp', size: 200, alpha: 0.2, beta: 1, batchSize: 32 }],
          optimizer: { name: 'sgd', lr: 0.03 },
        },
        // iCaRL's sigmoid loss learns more slowly: the reference's learning rate for it is 0.1.
        { strategies: [{ name: 'icarl', size: 200 }], optimizer: { name: 'sgd', lr: 0.1 } },
        {
          strategies: [
            { name: 'replay', size: 200, batchSize: 10 },
            { name: 'ewc', lambda: 10, fisherSamples: 50 },
          ],
          optimizer: { name: 'sgd', lr: 0.03 },
        },
      ],
      train: { epochs: 1, batchSize: 10, logEvery: 100 },
    };
    const out = join(dir, 'results');
    const r = runCli(['run', writeExperiment(dir, spec), '--out', out, '--quiet'], { timeout: 900_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const groups = compare(out, 'baselines-small');
    const acc = (s: string) => groups.find((g) => g.strategy === s)!.ACC.mean;
    expect(acc('naive')).toBeLessThan(0.35);
    expect(acc('derpp(200)')).toBeGreaterThan(acc('naive') + 0.3);
    expect(acc('icarl(200)')).toBeGreaterThan(acc('naive') + 0.3);
    expect(acc('replay(200)+ewc')).toBeGreaterThan(acc('naive') + 0.2);
  }, 900_000);

  it('domain-IL (permuted): A-GEM above naive', () => {
    const dir = scratchDir('baselines-perm');
    const spec = {
      name: 'baselines-permuted-small',
      dataset: { name: 'mnist', trainLimit: 6000, testLimit: 1000 },
      stream: { name: 'permuted', tasks: 4, permuteFirst: true },
      scenario: 'domain-il',
      model: { name: 'mlp', hidden: [100, 100] },
      optimizer: { name: 'sgd', lr: 0.2 },
      axes: { strategy: [{ name: 'naive' }, { name: 'agem', size: 200, refBatchSize: 128 }] },
      train: { epochs: 1, batchSize: 32, logEvery: 100 },
    };
    const out = join(dir, 'results');
    const r = runCli(['run', writeExperiment(dir, spec), '--out', out, '--quiet'], { timeout: 900_000 });
    expect(r.code).toBe(0);
    const groups = compare(out, 'baselines-permuted-small');
    const acc = (s: string) => groups.find((g) => g.strategy === s)!.ACC.mean;
    const forgetting = (s: string) =>
      (groups.find((g) => g.strategy === s) as unknown as { forgetting_best_minus_final: { mean: number } })
        .forgetting_best_minus_final.mean;
    expect(acc('agem(200)')).toBeGreaterThan(acc('naive'));
    expect(forgetting('agem(200)')).toBeLessThan(forgetting('naive'));
  }, 900_000);

  it(
    'rejects strategies that cannot combine, options out of ' +
      'range and too small a memory, before training (exit 2)',
    () => {
      const dir = scratchDir('baselines-bad');
      const base = {
        name: 'bad',
        dataset: { name: 'synthetic', classes: 4, features: 8, trainPerClass: 10, testPerClass: 5 },
        stream: { name: 'split', tasksOf: 2 },
        model: { name: 'mlp', hidden: [8] },
        optimizer: { name: 'sgd' },
      };
      const conflict = runCli([
        'run',
        writeExperiment(
          dir,
          {
            ...base,
            strategies: [
              { name: 'icarl', size: 20 },
              { name: 'gdumb', size: 20 },
            ],
          },
          'a.ts',
        ),
        '--out',
        join(dir, 'r'),
      ]);
      expect(conflict.code).toBe(2);
      expect(conflict.stderr).toMatch(
        /strategies\[1\]: 'gdumb' and 'icarl' \(strategies\[0\]\) both decide the task's training set/,
      );
      const range = runCli([
        'run',
        writeExperiment(dir, { ...base, strategies: [{ name: 'replay' }, { name: 'der', alpha: -1 }] }, 'b.ts'),
        '--out',
        join(dir, 'r'),
      ]);
      expect(range.code).toBe(2);
      expect(range.stderr).toMatch(/strategies\[1\]\.alpha: must be >= 0, got -1/);
      const small = runCli([
        'run',
        writeExperiment(
          dir,
          { ...base, strategies: [{ name: 'ewc' }, { name: 'replay', size: 3, policy: 'class-balanced' }] },
          'c.ts',
        ),
        '--out',
        join(dir, 'r'),
      ]);
      expect(small.code).toBe(2);
      expect(small.stderr).toMatch(
        /strategies\[1\]\.size: a class-balanced memory of 3 cannot hold one example of each of the 4 classes/,
      );
      expect(small.stdout).not.toMatch(/task 0/);
    },
  );
});
