// Hyper-parameters chosen on validation data: the hold-out (seeded, class-
// stratified, never trained on, evaluated as eval set 'validation'), the
// ranking `compare --select` does (on validation, never on test; on the
// first tasks only in the realistic protocol), what it records, and the
// mistakes it refuses before training.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { runEvents } from '../../src/engine/session.js';
import { selectBackend, type BackendInfo } from '../../src/tensor/backend.js';
import type { RunEvent } from '../../src/contracts/events.js';
import {
  selectConfiguration,
  validationScore,
  type SelectSettings,
  type SelectableRun,
} from '../../src/report/select.js';
import { readRows, type EvalRow } from '../../src/results/tables.js';
import { ExperimentError } from '../../src/spec/validate.js';
import { runCli, scratchDir, tinyConfigs, writeExperiment } from '../helpers.js';

let backend: BackendInfo;
beforeAll(async () => {
  backend = await selectBackend('auto');
});

const SPEC = {
  name: 'select',
  dataset: { name: 'synthetic', classes: 4, features: 16, trainPerClass: 30, testPerClass: 12, separation: 4 },
  stream: { name: 'split', tasksOf: 2 },
  model: { name: 'mlp', hidden: [16] },
  optimizer: { name: 'adamw', lr: 0.02 },
  axes: {
    strategy: [
      { name: 'ewc', lambda: 0.1, fisherSamples: 20 },
      { name: 'ewc', lambda: 50, fisherSamples: 20 },
    ],
  },
  train: { epochs: 2, batchSize: 16, logEvery: 4 },
  select: { validation: 0.2 },
};

describe('the validation hold-out', () => {
  it(
    'holds out a seeded, class-stratified fraction that is ' + 'never trained on and is evaluated after every task',
    async () => {
      const { configs, registry } = tinyConfigs(SPEC, [3]);
      const events: RunEvent[] = await lastValueFrom(runEvents(configs[0], registry, backend).pipe(toArray()));
      const start = events.find((e) => e.type === 'run-start') as Extract<RunEvent, { type: 'run-start' }>;
      // 2 classes of 30 per task: round(0.2 * 30) = 6 per class held out.
      for (const t of start.tasks) expect([t.trainExamples, t.validationExamples]).toEqual([48, 12]);
      const starts = events.filter((e): e is Extract<RunEvent, { type: 'task-start' }> => e.type === 'task-start');
      expect(starts.map((e) => e.examples)).toEqual([48, 48]);
      const validation = events.filter((e) => e.type === 'eval' && e.evalSet === 'validation') as Extract<
        RunEvent,
        { type: 'eval' }
      >[];
      // Before training, then after each of the 2 tasks, on each task's hold-out.
      expect(validation.map((e) => `${e.trainedTask}:${e.evalTask}:${e.examples}`)).toEqual([
        '-1:0:12',
        '-1:1:12',
        '0:0:12',
        '0:1:12',
        '1:0:12',
        '1:1:12',
      ]);

      // The same seed holds out the same examples: identical validation scores; another seed, other examples.
      const again: RunEvent[] = await lastValueFrom(runEvents(configs[0], registry, backend).pipe(toArray()));
      const scores = (ev: RunEvent[]) =>
        ev.flatMap((e) => (e.type === 'eval' && e.evalSet === 'validation' ? [e.accuracy, e.loss] : []));
      expect(scores(again)).toEqual(scores(events));
    },
  );

  it('changes the run id (it changes the training data) but leaves runs without `select` as they were', () => {
    const { select: _s, ...without } = SPEC;
    const a = tinyConfigs(SPEC, [1]).configs.map((c) => c.runId);
    const b = tinyConfigs(without, [1]).configs.map((c) => c.runId);
    expect(a.some((id) => b.includes(id))).toBe(false);
    expect(tinyConfigs(without, [1]).configs[0].select).toBeNull();
  });
});

/** Eval rows of a 3-task run from its test and validation accuracy matrices. */
function rows(test: number[][], validation: number[][]): EvalRow[] {
  const out: EvalRow[] = [];
  for (const [set, R] of [
    ['test', test],
    ['validation', validation],
  ] as const) {
    R.forEach((row, i) =>
      row.forEach((accuracy, j) =>
        out.push({
          run_id: 'r',
          trained_task: i,
          eval_task: j,
          eval_set: set,
          accuracy,
          loss: 0,
          examples: 10,
          alpha: null,
        }),
      ),
    );
  }
  return out;
}
const run = (
  runId: string,
  configId: string,
  lambda: number,
  evals: EvalRow[],
  select: SelectSettings = { validation: 0.1, metric: 'acc', tasks: 0 },
): SelectableRun => ({
  runId,
  seed: 1,
  configId,
  config: {
    components: { optimizer: { name: 'adamw', options: { lr: 0.001 } } },
    strategies: [{ name: 'ewc', options: { lambda } }],
  },
  select,
  evals,
});

describe('ranking configurations', () => {
  // A: better on test, worse on validation. B: the reverse.
  const A = rows(
    [
      [0.9, 0, 0],
      [0.9, 0.9, 0],
      [0.9, 0.9, 0.9],
    ],
    [
      [0.8, 0, 0],
      [0.5, 0.8, 0],
      [0.4, 0.4, 0.8],
    ],
  );
  const B = rows(
    [
      [0.9, 0, 0],
      [0.5, 0.9, 0],
      [0.4, 0.4, 0.9],
    ],
    [
      [0.8, 0, 0],
      [0.7, 0.8, 0],
      [0.7, 0.7, 0.8],
    ],
  );

  it('chooses on validation accuracy, never on test accuracy', () => {
    const s = selectConfiguration('ewc', [run('a', 'A', 1e3, A), run('b', 'B', 1e7, B)]);
    expect(s.chosen).toBe('B');
    expect(s.candidates.map((c) => [c.label, +c.validation.mean.toFixed(4)])).toEqual([
      ['strategies[0].lambda=1000', 0.5333],
      ['strategies[0].lambda=1e7', 0.7333],
    ]);
  });

  it('judges on the first tasks only in the realistic protocol, and minimises forgetting when asked', () => {
    // On the first 2 tasks, A's validation accuracy (0.65) is below B's (0.75); make A win there instead.
    const early = rows(
      [
        [0.9, 0, 0],
        [0.9, 0.9, 0],
        [0.1, 0.1, 0.9],
      ],
      [
        [0.8, 0, 0],
        [0.8, 0.8, 0],
        [0.1, 0.1, 0.8],
      ],
    );
    const firstTwo = { validation: 0.1, metric: 'acc' as const, tasks: 2 };
    expect(validationScore(early, firstTwo)).toBeCloseTo(0.8, 10);
    expect(
      selectConfiguration('ewc', [run('a', 'A', 1e3, early, firstTwo), run('b', 'B', 1e7, B, firstTwo)]).chosen,
    ).toBe('A');
    expect(selectConfiguration('ewc', [run('a', 'A', 1e3, early), run('b', 'B', 1e7, B)]).chosen).toBe('B');
    const forgetting = { validation: 0.1, metric: 'forgetting' as const, tasks: 0 };
    // Forgetting on validation: A (0.8-0.4 twice) 0.4, B 0.1: B.
    expect(
      selectConfiguration('ewc', [run('a', 'A', 1e3, A, forgetting), run('b', 'B', 1e7, B, forgetting)]).chosen,
    ).toBe('B');
  });

  it('refuses runs without a hold-out, or that select differently', () => {
    expect(() => selectConfiguration('ewc', [run('a', 'A', 1, A), { ...run('b', 'B', 2, B), select: null }])).toThrow(
      /run b has no validation hold-out/,
    );
    expect(() =>
      selectConfiguration('ewc', [
        run('a', 'A', 1, A),
        run('b', 'B', 2, B, { validation: 0.1, metric: 'forgetting', tasks: 0 }),
      ]),
    ).toThrow(/runs a and b select differently/);
  });
});

describe('compare --select from the command line', () => {
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
        /select\.validation: task .*: holding out 0\.2 of class \d's 1 training example leaves none to train on|select\.validation: task .*holds out none/,
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
