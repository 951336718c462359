// `compare --select` from the command line: what it ranks and records, and the mistakes it refuses before training.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend } from '../../src/tensor/backend.js';
import { readRows } from '../../src/results/tables.js';
import { ExperimentError } from '../../src/spec/validate.js';
import { SELECT_SPEC as SPEC, runCli, scratchDir, tinyConfigs, writeExperiment, regex } from '../helpers.js';

beforeAll(async () => {
  await selectBackend('auto');
});

describe('compare --select from the command line', () => {
  it('prints its table even where selection.arrow cannot be written, with a warning', () => {
    const dir = scratchDir('select-unwritable');
    const out = join(dir, 'results');
    expect(runCli(['run', writeExperiment(dir, { ...SPEC, seeds: [1] }), '--out', out, '--quiet']).code).toBe(0);
    // A folder where the table would go: it cannot be written, as in a results folder one may only read.
    mkdirSync(join(out, 'select', 'selection.arrow'));
    const r = runCli(['compare', join(out, 'select'), '--select']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: the selection is not recorded: \S+selection\.arrow is a folder/);
    expect(r.stdout).toMatch(/ewc/);
  });

  it(
    'reports the chosen configuration with its test metrics ' + 'only, and records every candidate in selection.arrow',
    () => {
      const dir = scratchDir('select-cli');
      const out = join(dir, 'results');
      const file = writeExperiment(dir, {
        ...SPEC,
        axes: { strategy: [...SPEC.axes.strategy, { name: 'naive' }] },
        seeds: [1, 2],
      });
      expect(runCli(['run', file, '--out', out, '--quiet']).code).toBe(0);
      const r = runCli(['compare', join(out, 'select'), '--select', '--format', 'json']);
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout) as {
        by: string[];
        groups: {
          strategy: string;
          runs: string[];
          selection?: { chosen: string; candidates: { configId: string; runIds: string[] }[] };
        }[];
      };
      expect(report.by).toEqual(['experiment', 'strategy']);
      const ewc = report.groups.find((g) => g.strategy === 'ewc')!;
      expect(ewc.selection!.candidates).toHaveLength(2);
      const chosen = ewc.selection!.candidates.find((c) => c.configId === ewc.selection!.chosen)!;
      // The group's metrics are the chosen configuration's runs, both seeds, and no other's.
      expect(ewc.runs.sort()).toEqual(chosen.runIds.sort());
      expect(ewc.runs).toHaveLength(2);
      const recorded = readRows<{
        group: string;
        chosen: number;
        settings: string;
        seeds: number;
        validation_mean: number;
        test_acc_mean: number;
      }>(join(out, 'select', 'selection.arrow'));
      expect(recorded).toHaveLength(3);
      expect(
        recorded
          .filter((x) => x.chosen === 1)
          .map((x) => x.group)
          .sort(),
      ).toEqual(['experiment=select, strategy=ewc', 'experiment=select, strategy=naive']);
      expect(recorded.map((x) => x.settings).sort()).toEqual([
        'its only configuration',
        'strategies[0].lambda=0.1',
        'strategies[0].lambda=50',
      ]);
      expect(recorded.every((x) => x.seeds === 2 && x.validation_mean >= 0 && x.validation_mean <= 1)).toBe(true);

      // Grouping by config would leave nothing to choose between.
      const byConfig = runCli(['compare', join(out, 'select'), '--select', '--by', 'strategy,config']);
      expect(byConfig.code).toBe(2);
      expect(byConfig.stderr).toMatch(/leave 'config' out of --by/);
    },
  );

  it('refuses --select over runs that held nothing out, naming them', () => {
    const dir = scratchDir('select-none');
    const out = join(dir, 'results');
    const { select: _s, ...without } = SPEC;
    expect(runCli(['run', writeExperiment(dir, { ...without, name: 'plain' }), '--out', out, '--quiet']).code).toBe(0);
    const r = runCli(['compare', join(out, 'plain'), '--select']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--select: .*runs? .* no validation hold-out \(the experiment has no `select`\)/);
    expect(existsSync(join(out, 'plain', 'selection.arrow'))).toBe(false);
  });
});

describe('select: bad input, before training', () => {
  it('nothing to choose between, a fraction out of range, unknown fields: errors with their field paths', () => {
    const cases: [object, RegExp][] = [
      [{ ...SPEC, axes: undefined, strategy: { name: 'naive' } }, /select: there is nothing to choose between/],
      [{ ...SPEC, select: { validation: 1.5 } }, /select\.validation: must be a fraction/],
      [{ ...SPEC, select: { validation: 0.1, metric: 'loss' } }, /select\.metric: must be "acc" \| "forgetting"/],
      [{ ...SPEC, select: { validation: 0.1, by: 'x' } }, /select\.by: unknown field/],
    ];
    for (const [spec, message] of cases) {
      let error: unknown;
      try {
        tinyConfigs(spec);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ExperimentError);
      expect((error as Error).message).toMatch(message);
    }
  });

  it(
    'a fraction that leaves a class without training examples, or more tasks to judge on than the stream has: ' +
      'exit 2, nothing trained',
    () => {
      const dir = scratchDir('select-bad');
      const out = join(dir, 'results');
      const tiny = { ...SPEC, sampler: { name: 'per-class', k: 1 } };
      const r = runCli(['run', writeExperiment(dir, tiny, 'tiny.ts'), '--out', out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        regex(
          /select\.validation: task .*: holding out 0\.2 of class \d's 1 training /,
          /example leaves none to train on|select\.validation: task .*holds out none/,
        ),
      );
      const tasks = runCli([
        'run',
        writeExperiment(dir, { ...SPEC, select: { validation: 0.2, tasks: 3 } }, 'tasks.ts'),
        '--out',
        out,
      ]);
      expect(tasks.code).toBe(2);
      expect(tasks.stderr).toMatch(/select\.tasks: 3 tasks to judge on, but the stream has 2/);
      expect(existsSync(out)).toBe(false);
    },
  );
});
