// End-to-end: `anchorage run --together K` as a user runs it — the plan's
// lines, the runs trained together recorded as such, the others alone, and
// a bad K refused before anything trains.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TINY_SPEC, runCli, scratchDir, writeExperiment } from '../helpers.js';

const backend = process.env.ANCHORAGE_BACKEND ?? 'auto';

describe('anchorage run --together', () => {
  it('trains the runs that can share a step as one group, the others alone, and says which and why', () => {
    const dir = scratchDir('together-cli');
    const spec = {
      ...TINY_SPEC,
      name: 'together-cli',
      train: { steps: 8, batchSize: 16, logEvery: 4 },
      axes: { strategy: [{ name: 'naive' }, { name: 'ewc', lambda: 5, fisherSamples: 20 }, { name: 'agem', size: 20 }] },
      seeds: [0, 1],
    };
    const file = writeExperiment(dir, spec);
    const r = runCli(['run', file, '--out', join(dir, 'out'), '--together', '4', '--backend', backend], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^together: 4 of 6 runs in 1 group of up to 4 \(checkpoints off for them\)$/m);
    expect(r.stdout).toMatch(/^ {2}2 runs train alone: strategy agem replaces the gradients \(adamw-s\d-\w+, adamw-s\d-\w+\)$/m);
    // Lines of runs training at once name their run.
    expect(r.stdout).toMatch(/^ {2}\[adamw-s\d-\w+\] task 1\/2 /m);
    const runs = readdirSync(join(dir, 'out', 'together-cli')).filter((d) => d.startsWith('adamw-'));
    expect(runs).toHaveLength(6);
    const records = runs.map((d) => JSON.parse(readFileSync(join(dir, 'out', 'together-cli', d, 'run.json'), 'utf8')));
    for (const rec of records) expect(rec.status).toBe('completed');
    const grouped = records.filter((rec) => rec.together);
    expect(grouped.map((rec) => rec.strategy).sort()).toEqual(['ewc', 'ewc', 'naive', 'naive']);
    for (const rec of grouped) expect([...rec.together].sort()).toEqual(grouped.map((g) => g.runId).sort());
    expect(records.filter((rec) => !rec.together).every((rec) => rec.strategy.startsWith('agem'))).toBe(true);
  });

  it('refuses a K that is not a positive integer (exit 2) before training', () => {
    for (const k of ['0', '1.5', 'two']) {
      const r = runCli(['run', 'experiments/split-mnist.ts', '--together', k, '--out', scratchDir('together-bad')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--together must be an integer >= 1/);
    }
  });
});
