// A low-label sweep with OOD evaluation sets, through the CLI, sharded.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { runCli, scratchDir, writeExperiment, regex } from '../helpers.js';

const SPEC = {
  name: 'sweep',
  dataset: {
    name: 'synthetic',
    classes: 4,
    features: 64,
    trainPerClass: 40,
    testPerClass: 20,
    separation: 4,
    imageShape: [8, 8, 1],
  },
  stream: { name: 'split', tasks: [[0, 1, 2, 3]] },
  model: { name: 'mlp', hidden: [32] },
  axes: {
    sampler: [{ name: 'fraction', fraction: 0.1 }, { name: 'fraction', fraction: 0.5 }, { name: 'shuffled' }],
    optimizer: [
      { name: 'adamw', lr: 0.02 },
      { name: 'l2sp', lr: 0.02, alpha: 0.01 },
    ],
  },
  eval: {
    ood: [
      { corruption: 'gaussian-noise', severity: 2 },
      { corruption: 'blur', severity: 3 },
    ],
  },
  train: { epochs: 3, batchSize: 16, logEvery: 5 },
};

describe('low-label sweep with OOD sets', () => {
  it('records ood rows, prints the ID/OOD and low-label tables, and shards cover the sweep exactly', () => {
    const dir = scratchDir('sweep');
    const file = writeExperiment(dir, SPEC);
    const whole = join(dir, 'whole');
    const sharded = join(dir, 'sharded');
    expect(runCli(['run', file, '--out', whole, '--quiet', '--seeds', '0,1']).code).toBe(0);
    const s0 = runCli(['run', file, '--out', sharded, '--quiet', '--seeds', '0,1', '--shard', '0/2']);
    const s1 = runCli(['run', file, '--out', sharded, '--quiet', '--seeds', '0,1', '--shard', '1/2']);
    expect([s0.code, s1.code]).toEqual([0, 0]);
    expect(s0.stdout).toMatch(/shard 0\/2: 6 of 12 runs/);
    const ids = (root: string) => readdirSync(join(root, 'sweep')).sort();
    expect(ids(whole)).toHaveLength(12);
    expect(ids(sharded)).toEqual(ids(whole));
    // Same seeds, same backend: the sharded runs computed exactly what the whole sweep did.
    const acc = (root: string, id: string) =>
      tableFromIPC(readFileSync(join(root, 'sweep', id, 'evals.arrow')))
        .toArray()
        .map((r) => r.toJSON().accuracy);
    for (const id of ids(whole)) expect(acc(sharded, id)).toEqual(acc(whole, id));

    const evals = tableFromIPC(readFileSync(join(whole, 'sweep', ids(whole)[0], 'evals.arrow')))
      .toArray()
      .map((r) => r.toJSON());
    expect([...new Set(evals.map((e) => e.eval_set))].sort()).toEqual(['ood:blur-3', 'ood:gaussian-noise-2', 'test']);

    const table = runCli(['compare', join(whole, 'sweep'), '--by', 'optimizer,labels']).stdout;
    expect(table).toMatch(
      regex(
        /#\s+optimizer\s+labels\s+ID before\s+ID after\s+OOD mean /,
        /before\s+OOD mean after\s+blur-3 after\s+gaussian-noise-2 after/,
      ),
    );
    expect(table).toMatch(
      regex(/labels\s+adamw\s+l2sp\n[─ ]+\n\s*10%\s+\d+\.\d ± \d+\.\d \(2\)/, /[\s\S]*\n\s*50%[\s\S]*\nall/),
    );
  });

  it('rejects a bad OOD spec with field paths', () => {
    const dir = scratchDir('sweep-bad');
    const r = runCli([
      'run',
      writeExperiment(dir, { ...SPEC, eval: { ood: [{ corruption: 'fog', severity: 9 }] } }),
      '--out',
      join(dir, 'r'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/eval\.ood\[0\]\.corruption: must be one of "gaussian-noise"/);
    expect(r.stderr).toMatch(/eval\.ood\[0\]\.severity: must be an integer from 1 to 5, got 9/);
  });
});
