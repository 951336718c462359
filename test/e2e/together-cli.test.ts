// End-to-end: `anchorage run --together K` as a user runs it — the plan's
// lines, the runs trained together recorded as such, the others alone, and
// a bad K refused before anything trains.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
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
      axes: {
        strategy: [{ name: 'naive' }, { name: 'ewc', lambda: 5, fisherSamples: 20 }, { name: 'agem', size: 20 }],
      },
      seeds: [0, 1],
    };
    const file = writeExperiment(dir, spec);
    const r = runCli(['run', file, '--out', join(dir, 'out'), '--together', '4', '--backend', backend], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^together: 4 of 6 runs in 1 group of up to 4 \(checkpoints off for them\)$/m);
    expect(r.stdout).toMatch(
      /^ {2}2 runs train alone: strategy agem replaces the gradients \(adamw-s\d-\w+, adamw-s\d-\w+\)$/m,
    );
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

  it(
    'with --workers 2, whole groups go to one worker: the 4 runs that can share a step train as one group, the 4 ' +
      'A-GEM runs on the other worker',
    () => {
      const dir = scratchDir('together-workers');
      const spec = {
        ...TINY_SPEC,
        name: 'together-workers',
        train: { steps: 6, batchSize: 16, logEvery: 3 },
        axes: {
          strategy: [
            { name: 'naive' },
            { name: 'ewc', lambda: 5, fisherSamples: 20 },
            { name: 'agem', size: 20 },
            { name: 'agem', size: 30 },
          ],
        },
        seeds: [0, 1],
      };
      const file = writeExperiment(dir, spec);
      const r = runCli(
        ['run', file, '--out', join(dir, 'out'), '--together', '4', '--workers', '2', '--backend', backend],
        { cwd: dir },
      );
      expect(r.code).toBe(0);
      // Dealt round-robin, each worker would get half of the group.
      expect(r.stdout).toMatch(/^\[worker 0\] shard 0\/2: 4 of 8 runs \(whole groups of runs trained together\)$/m);
      expect(r.stdout).toMatch(/^\[worker 1\] shard 1\/2: 4 of 8 runs \(whole groups of runs trained together\)$/m);
      // Each worker's plan for its share: the group on one, the runs alone (and why) on the other.
      expect(r.stdout).toMatch(/^\[worker \d\] together: 4 of 4 runs in 1 group of up to 4 /m);
      expect(r.stdout).toMatch(/^\[worker \d\] {3}4 runs train alone: strategy agem replaces the gradients/m);
      const runs = readdirSync(join(dir, 'out', 'together-workers')).filter((d) => d.startsWith('adamw-'));
      const records = runs.map((d) =>
        JSON.parse(readFileSync(join(dir, 'out', 'together-workers', d, 'run.json'), 'utf8')),
      );
      expect(records).toHaveLength(8);
      for (const rec of records) expect(rec.status).toBe('completed');
      const grouped = records.filter((rec) => rec.together);
      expect(grouped.map((rec) => rec.strategy).sort()).toEqual(['ewc', 'ewc', 'naive', 'naive']);
      for (const rec of grouped) expect([...rec.together].sort()).toEqual(grouped.map((g) => g.runId).sort());
    },
  );

  it('--only runs the subset a user names, and refuses a value no run has (exit 2) before training', () => {
    const dir = scratchDir('together-only');
    const spec = {
      ...TINY_SPEC,
      name: 'together-only',
      train: { steps: 4, batchSize: 16, logEvery: 2 },
      axes: { strategy: [{ name: 'naive' }, { name: 'ewc', lambda: 5, fisherSamples: 20 }] },
      seeds: [0, 1, 2],
    };
    const file = writeExperiment(dir, spec);
    const r = runCli(
      [
        'run',
        file,
        '--out',
        join(dir, 'out'),
        '--only',
        'strategy=ewc',
        '--only',
        'seed=0,2',
        '--together',
        '2',
        '--backend',
        backend,
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    const records = readdirSync(join(dir, 'out', 'together-only')).map((d) =>
      JSON.parse(readFileSync(join(dir, 'out', 'together-only', d, 'run.json'), 'utf8')),
    );
    expect(records.map((rec) => `${rec.strategy}/${rec.seed}`).sort()).toEqual(['ewc/0', 'ewc/2']);
    const bad = runCli(['run', file, '--out', join(dir, 'bad'), '--only', 'strategy=lwf'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--only strategy=…: no run has 'lwf'; its runs have ewc, naive/);
    expect(existsSync(join(dir, 'bad'))).toBe(false);
  });

  it('refuses a K that is not a positive integer (exit 2) before training', () => {
    for (const k of ['0', '1.5', 'two']) {
      const r = runCli(['run', 'experiments/split-mnist.ts', '--together', k, '--out', scratchDir('together-bad')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--together must be an integer >= 1/);
    }
  });
});
