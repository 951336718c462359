// Runs trained together (`--together`): each run's tables are those it
// writes alone, to float32 round-off; a run that diverges stops alone; runs
// that cannot share a step are planned to train alone, with the reason.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { executeRuns } from '../../src/experiment/schedule.js';
import { planTogether } from '../../src/together/plan.js';
import { readRows } from '../../src/results/tables.js';
import { selectBackend, type BackendInfo } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import type { RunConfig } from '../../src/spec/spec.js';
import { definePlugin } from '../../src/plugin/define-plugin.js';
import { o } from '../../src/plugin/options.js';
import { PluginRegistry } from '../../src/plugin/registry.js';
import { validateExperiment } from '../../src/spec/validate.js';
import { builtinPlugins } from '../../plugins/index.js';
import { ROOT, scratchDir, tinyConfigs } from '../helpers.js';

let backend: BackendInfo;
beforeAll(async () => {
  backend = await selectBackend('auto');
});

const DATA = {
  name: 'synthetic',
  classes: 6,
  features: 12,
  trainPerClass: 40,
  testPerClass: 20,
  separation: 4,
} as const;
const UNEVEN = { name: 'mnist', trainLimit: 600, testLimit: 200 } as const;
const BASE = {
  name: 'together',
  dataset: DATA,
  stream: { name: 'split', tasksOf: 2 },
  model: { name: 'mlp', hidden: [24, 16] },
  optimizer: { name: 'adamw', lr: 0.02 },
  train: { steps: 14, batchSize: 16, logEvery: 4 },
};

/**
 * Float32 round-off: a batched matrix product sums in another order than K
 * separate ones, so losses may differ in the last bits, which a few steps of
 * Adam can grow to ~1e-5. 1e-4 (absolute, or relative above 1) is far below
 * any real difference (a wrong slice or a shared moment moves losses by 1e-2
 * and more); accuracies may move by one test example where a logit ties.
 */
const LOSS_TOLERANCE = 1e-4;

function table(out: string, c: RunConfig, name: string) {
  return readRows<Record<string, number | string>>(join(out, c.experiment, c.runId, name));
}

function expectSameTables(alone: string, together: string, configs: RunConfig[]) {
  for (const c of configs) {
    const stepsA = table(alone, c, 'steps.arrow');
    const stepsT = table(together, c, 'steps.arrow');
    expect(stepsT.map((r) => [r.task, r.step, r.learning_rate])).toEqual(
      stepsA.map((r) => [r.task, r.step, r.learning_rate]),
    );
    stepsA.forEach((r, i) => {
      const a = r.loss as number;
      expect(Math.abs((stepsT[i].loss as number) - a), `${c.runId} step ${r.step}`).toBeLessThanOrEqual(
        LOSS_TOLERANCE * Math.max(1, Math.abs(a)),
      );
    });
    const evalsA = table(alone, c, 'evals.arrow');
    const evalsT = table(together, c, 'evals.arrow');
    expect(evalsT.map((r) => [r.trained_task, r.eval_task, r.eval_set])).toEqual(
      evalsA.map((r) => [r.trained_task, r.eval_task, r.eval_set]),
    );
    evalsA.forEach((r, i) =>
      expect(Math.abs((evalsT[i].accuracy as number) - (r.accuracy as number))).toBeLessThanOrEqual(1 / 40 + 1e-9),
    );
    const runA = JSON.parse(readFileSync(join(alone, c.experiment, c.runId, 'run.json'), 'utf8'));
    const runT = JSON.parse(readFileSync(join(together, c.experiment, c.runId, 'run.json'), 'utf8'));
    expect(runT.status).toBe('completed');
    expect(runT.together).toContain(c.runId);
    expect(runA.together).toBeUndefined();
    expect(runT.timings.steps).toBe(runA.timings.steps);
  }
}

async function aloneAndTogether(spec: object, seeds: number[]) {
  const { configs, registry } = tinyConfigs(spec, seeds);
  const alone = scratchDir('alone');
  const together = scratchDir('together');
  await executeRuns(configs, registry, backend, { out: alone });
  const before = tf.memory().numTensors;
  const plan = await planTogether(configs, configs.length, registry, backend);
  expect(plan.groups.map((g) => g.length)).toEqual([configs.length]);
  const outcomes = await executeRuns(configs, registry, backend, { out: together, together: plan.groups });
  expect(tf.memory().numTensors).toBe(before);
  return { configs, alone, together, outcomes };
}

describe('runs trained together', () => {
  it(
    'naive, EWC and SI runs of two seeds trained as one MLP of six, and LwF runs as one of two, write the tables ' +
      'each writes alone',
    async () => {
      const spec = {
        ...BASE,
        axes: {
          strategy: [{ name: 'naive' }, { name: 'ewc', lambda: 5, fisherSamples: 30 }, { name: 'si', c: 0.5 }],
        },
      };
      const { configs, alone, together } = await aloneAndTogether(spec, [0, 1]);
      expect(configs).toHaveLength(6);
      expectSameTables(alone, together, configs);
      // LwF (a teacher's outputs on the run's own rows) with two seeds and different α.
      const lwf = await aloneAndTogether(
        {
          ...BASE,
          axes: {
            strategy: [
              { name: 'lwf', alpha: 1 },
              { name: 'lwf', alpha: 3 },
            ],
          },
        },
        [2],
      );
      expectSameTables(lwf.alone, lwf.together, lwf.configs);
    },
  );

  it(
    'CNN runs with SGD momentum and normalised inputs, and L2-SP runs with a validation hold-out, match their ' +
      'runs alone',
    async () => {
      const images = { ...DATA, features: 16, imageShape: [4, 4, 1] };
      // normalize is the model's input transform: the stacked pass applies it to the rows.
      const cnn = await aloneAndTogether(
        {
          ...BASE,
          dataset: images,
          model: { name: 'cnn', channels: [4], hidden: 8 },
          optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9 },
          augment: [{ name: 'normalize', mean: [0.5], std: [0.25] }],
        },
        [0, 1, 2],
      );
      expectSameTables(cnn.alone, cnn.together, cnn.configs);
      const l2sp = await aloneAndTogether(
        {
          ...BASE,
          optimizer: { name: 'l2sp', lr: 0.02, alpha: 0.1 },
          select: { validation: 0.2 },
          axes: {
            strategy: [
              { name: 'ewc', lambda: 1, fisherSamples: 20 },
              { name: 'ewc', lambda: 10, fisherSamples: 20 },
            ],
          },
        },
        [0, 1],
      );
      expectSameTables(l2sp.alone, l2sp.together, l2sp.configs);
      // constraints.arrow: each run's own distance from its own anchor.
      for (const c of l2sp.configs) {
        const a = table(l2sp.alone, c, 'constraints.arrow');
        const t = table(l2sp.together, c, 'constraints.arrow');
        expect(t.length).toBe(a.length);
        a.forEach((r, i) =>
          expect(Math.abs((t[i].distance as number) - (r.distance as number))).toBeLessThanOrEqual(
            LOSS_TOLERANCE * Math.max(1, r.distance as number),
          ),
        );
      }
    },
  );

  it(
    'FTP, PGD, SPD and TPGM runs (projections and learned radii kept per run) match their runs alone, each run ' +
      'with its own constraints',
    async () => {
      const runs = [
        // FTP re-anchored at each task (its γ starts afresh per task), on SGD with momentum; PGD with radii relative
        // to each run's anchor rows; SPD.
        { optimizer: { name: 'ftp', base: 'sgd', lr: 0.05, momentum: 0.9, anchor: 'task-start' }, seeds: [0, 1, 2] },
        { optimizer: { name: 'ftp', lr: 0.02, k: 0.5 }, seeds: [3, 4] },
        { optimizer: { name: 'pgd', lr: 0.02, radius: 0.05 }, seeds: [0, 1] },
        { optimizer: { name: 'spd', lr: 0.02, lambda: 0.5 }, seeds: [0, 1] },
        // TPGM: each run's radii learned on its own validation batches every 3 steps, re-anchored per task; SI reads
        // the parameters between the step and the projection, as alone.
        {
          optimizer: { name: 'tpgm', lr: 0.02, projEvery: 3, projLr: 0.05, anchor: 'task-start' },
          seeds: [0, 1, 2],
          strategy: { name: 'si', c: 0.5 },
        },
      ];
      for (const { optimizer, seeds, strategy } of runs) {
        const r = await aloneAndTogether(
          { ...BASE, optimizer, axes: { strategy: [strategy ?? { name: 'naive' }] } },
          seeds,
        );
        expectSameTables(r.alone, r.together, r.configs);
        const constraints = r.configs.map((c) => [
          table(r.alone, c, 'constraints.arrow'),
          table(r.together, c, 'constraints.arrow'),
        ]);
        for (const [a, t] of constraints) {
          expect(t.map((row) => [row.task, row.step, row.tensor])).toEqual(
            a.map((row) => [row.task, row.step, row.tensor]),
          );
          a.forEach((row, i) => {
            for (const col of ['constraint', 'distance'] as const) {
              const want = row[col] as number;
              if (Number.isNaN(want)) expect(t[i][col]).toBeNaN();
              else
                expect(
                  Math.abs((t[i][col] as number) - want),
                  `${optimizer.name} ${col} ${row.tensor} step ${row.step}`,
                ).toBeLessThanOrEqual(LOSS_TOLERANCE * Math.max(1, Math.abs(want)));
            }
          });
        }
        // Each run's constraints are its own: learned γ (FTP), relative radii (PGD) and learned radii (TPGM) differ
        // between runs of other seeds.
        if (optimizer.name !== 'spd') {
          const last = (rows: Record<string, number | string>[]) =>
            rows.filter((row) => row.step === rows.at(-1)!.step).map((row) => row.constraint);
          expect(last(constraints[0][1])).not.toEqual(last(constraints[1][1]));
        }
      }
    },
  );

  it(
    'runs with their own learning rates and weight decays (numbers or schedules) share a step and match their ' +
      'runs alone',
    async () => {
      const { optimizer: _optimizer, ...withoutOptimizer } = BASE;
      const cosine = { schedule: 'cosine', value: 0.03, warmup: 3, restart: 'task' };
      const adamw = await aloneAndTogether(
        {
          ...withoutOptimizer,
          axes: {
            optimizer: [
              { name: 'adamw', lr: 0.02, weightDecay: 0.01 },
              { name: 'adamw', lr: 0.05, weightDecay: 0.2 },
              { name: 'adamw', lr: cosine, weightDecay: 0 },
            ],
          },
        },
        [0],
      );
      expectSameTables(adamw.alone, adamw.together, adamw.configs);
      // Each run reports its own learning rate.
      const lrs = adamw.configs.map((c) => table(adamw.together, c, 'steps.arrow')[0].learning_rate);
      expect(new Set(lrs).size).toBe(3);
      // SGD's L2 decay before momentum, and FTP's projection after each run's own step size.
      const sgd = await aloneAndTogether(
        {
          ...withoutOptimizer,
          axes: {
            optimizer: [
              { name: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 0.01 },
              { name: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 0.001 },
            ],
          },
        },
        [1],
      );
      expectSameTables(sgd.alone, sgd.together, sgd.configs);
      const ftp = await aloneAndTogether(
        {
          ...withoutOptimizer,
          axes: {
            optimizer: [
              { name: 'ftp', lr: 0.01 },
              { name: 'ftp', lr: 0.04 },
            ],
          },
        },
        [2],
      );
      expectSameTables(ftp.alone, ftp.together, ftp.configs);
    },
  );

  it(
    'runs of different optimizers (AdamW, FTP, TPGM, L2-SP on SGD) and an LP-FT run with phases share one step ' +
      'and match their runs alone',
    async () => {
      const { optimizer: _optimizer, ...withoutOptimizer } = BASE;
      const spec = {
        ...withoutOptimizer,
        train: { steps: 12, batchSize: 16, logEvery: 4 },
        variants: [
          { optimizer: { name: 'adamw', lr: 0.02, beta1: 0.8 } },
          { optimizer: { name: 'ftp', lr: 0.03, anchor: 'task-start' } },
          { optimizer: { name: 'tpgm', lr: 0.02, projEvery: 3, valFraction: 0.25 } },
          { optimizer: { name: 'l2sp', base: 'sgd', lr: 0.05, momentum: 0.9, alpha: 0.1 } },
          {
            optimizer: { name: 'adamw', lr: 0.02 },
            phases: [
              { name: 'lp', steps: 4, train: ['head.*'] },
              { name: 'ft', steps: 8, optimizer: { name: 'ftp', lr: 0.02 } },
            ],
          },
        ],
      };
      const { configs, alone, together } = await aloneAndTogether(spec, [0]);
      expect(configs).toHaveLength(5);
      expectSameTables(alone, together, configs);
    },
  );

  it(
    'memory strategies (replay, DER++, ER-ACE) trained together, their extra rows in the shared step, match their ' +
      'runs alone; the plan keeps them apart from runs without',
    async () => {
      // Rows differ between runs (16 + 8 replayed, 16 + 16, 16 + 2 × 16 for DER++): the shorter ones are padded.
      const spec = {
        ...BASE,
        axes: {
          strategy: [
            { name: 'replay', size: 30, policy: 'class-balanced' },
            { name: 'replay', size: 20, batchSize: 8 },
            { name: 'derpp', size: 30, alpha: 0.3, beta: 0.5 },
            { name: 'er-ace', size: 30 },
          ],
        },
      };
      const { configs, alone, together } = await aloneAndTogether(spec, [0]);
      expectSameTables(alone, together, configs);
      const mixed = tinyConfigs(
        {
          ...BASE,
          axes: {
            strategy: [
              { name: 'replay', size: 20 },
              { name: 'naive' },
              { name: 'replay', size: 30 },
              { name: 'ewc', lambda: 1, fisherSamples: 10 },
            ],
          },
        },
        [0],
      );
      const plan = await planTogether(mixed.configs, 4, mixed.registry, backend);
      expect(plan.groups.map((g) => g.map((c) => c.strategies[0].name))).toEqual([
        ['replay', 'replay'],
        ['naive', 'ewc'],
      ]);
    },
  );

  it(
    'runs whose tasks differ in size (their own class orders) stay in step: ragged last batches are padded, not ' +
      'shared',
    async () => {
      // The first 600 MNIST images (digits 42 to 79 times each) in a seeded class order: tasks of different sizes per
      // seed, so different last batches.
      const spec = {
        ...BASE,
        dataset: UNEVEN,
        stream: { name: 'split', tasksOf: 2, classOrder: 'seeded' },
        model: { name: 'mlp', hidden: [16] },
      };
      const { configs, alone, together } = await aloneAndTogether(spec, [0, 1, 2]);
      expectSameTables(alone, together, configs);
    },
  );

  it('a run that diverges ends as diverged and the others of its group complete as they would alone', async () => {
    // Plain SGD follows EWC's gradient at λ 1e12 out of float32's range in the second task.
    const spec = {
      ...BASE,
      optimizer: { name: 'sgd', lr: 0.05 },
      axes: {
        strategy: [
          { name: 'ewc', lambda: 5, fisherSamples: 30 },
          { name: 'ewc', lambda: 1e12, fisherSamples: 30 },
          { name: 'naive' },
        ],
      },
    };
    const { configs, registry } = tinyConfigs(spec, [0]);
    const alone = scratchDir('alone');
    const together = scratchDir('together');
    await executeRuns(configs, registry, backend, { out: alone });
    const outcomes = await executeRuns(configs, registry, backend, { out: together, together: [configs] });
    expect(outcomes.map((o) => [o.config.runId, o.status]).sort()).toEqual(
      configs.map((c, i) => [c.runId, i === 1 ? 'diverged' : 'completed']).sort(),
    );
    expect(
      JSON.parse(readFileSync(join(together, configs[1].experiment, configs[1].runId, 'run.json'), 'utf8')).error,
    ).toMatch(/loss became (NaN|Infinity)/);
    expectSameTables(alone, together, [configs[0], configs[2]]);
  });

  it(
    'a run whose own loss throws fails with its error and leaks nothing, alone or in a group, whose other runs ' +
      'complete as they would alone',
    async () => {
      // A strategy with a bug that shows at one step: its loss term throws there.
      const faulty = definePlugin({
        kind: 'strategy',
        name: 'faulty',
        description: 'a loss term that throws at step `failAt` (0: never)',
        options: { failAt: o.integer({ description: 'the step that throws', default: 0, min: 0 }) },
        create: (opts) => ({
          name: 'faulty',
          loss: ({ step }) => {
            if (step === opts.failAt) throw new Error(`faulty strategy: step ${step}`);
            return undefined;
          },
        }),
      });
      const registry = new PluginRegistry([...builtinPlugins, faulty]);
      const spec = {
        ...BASE,
        axes: { strategy: [{ name: 'faulty' }, { name: 'faulty', failAt: 6 }, { name: 'naive' }] },
      };
      const configs = validateExperiment(spec, registry, join(ROOT, 'test', 'virtual-experiment.ts'), { seeds: [0] });
      const alone = scratchDir('alone');
      const together = scratchDir('together');
      // Alone: the tape tfjs abandons when the forward pass throws is freed too (src/tensor/grads.ts).
      const beforeAlone = tf.memory().numTensors;
      const aloneOutcomes = await executeRuns(configs, registry, backend, { out: alone });
      expect(tf.memory().numTensors).toBe(beforeAlone);
      expect(aloneOutcomes.map((r) => r.status)).toEqual(['completed', 'failed', 'completed']);
      expect(
        JSON.parse(readFileSync(join(alone, configs[1].experiment, configs[1].runId, 'run.json'), 'utf8')).error,
      ).toMatch(/faulty strategy: step 6/);
      const before = tf.memory().numTensors;
      const outcomes = await executeRuns(configs, registry, backend, { out: together, together: [configs] });
      expect(tf.memory().numTensors).toBe(before);
      expect(configs.map((c) => outcomes.find((r) => r.config.runId === c.runId)?.status)).toEqual([
        'completed',
        'failed',
        'completed',
      ]);
      expect(
        JSON.parse(readFileSync(join(together, configs[1].experiment, configs[1].runId, 'run.json'), 'utf8')).error,
      ).toMatch(/faulty strategy: step 6/);
      expectSameTables(alone, together, [configs[0], configs[2]]);
    },
  );

  it('the plan keeps runs that cannot share a step apart and says why, once per reason', async () => {
    const { model: _model, ...withoutModel } = BASE;
    const spec = {
      ...withoutModel,
      axes: {
        strategy: [{ name: 'naive' }, { name: 'agem', size: 20 }],
        model: [
          { name: 'mlp', hidden: [24, 16] },
          { name: 'mlp', hidden: [24], dropout: 0.5 },
        ],
      },
    };
    const { configs, registry } = tinyConfigs(spec, [0, 1, 2]);
    const plan = await planTogether(configs, 4, registry, backend);
    const naive = configs.filter(
      (c) => c.strategies[0].name === 'naive' && !(c.components.model.options as { dropout?: number }).dropout,
    );
    // Three runs, K = 4: one group of three.
    expect(plan.groups.map((g) => g.map((c) => c.runId))).toEqual([naive.map((c) => c.runId)]);
    expect(plan.notes.some((n) => /^3 runs train alone: strategy agem replaces the gradients \(/.test(n))).toBe(true);
    expect(
      plan.notes.some((n) =>
        /^6 runs train alone: its model cannot be stacked: its dropout \(drop1\) draws masks per model/.test(n),
      ),
    ).toBe(true);
    // Each run keeps its own optimizer: runs that differ in it (or in any of its settings) share a step.
    const { optimizer: _optimizer, ...withoutOptimizer } = BASE;
    const betas = tinyConfigs(
      {
        ...withoutOptimizer,
        axes: {
          optimizer: [
            { name: 'adamw', lr: 0.02 },
            { name: 'ftp', lr: 0.05 },
            { name: 'adamw', lr: 0.02, beta1: 0.8 },
          ],
        },
      },
      [0],
    );
    expect(
      (await planTogether(betas.configs, 3, betas.registry, backend)).groups.map((g) => g.map((c) => c.runId)),
    ).toEqual([betas.configs.map((c) => c.runId)]);
    // TPGM's runs train on what its validation hold-out leaves: 80 examples per task, 20 held out, 60 in batches of 16
    // make 4 steps (not 5).
    const tpgm = tinyConfigs(
      {
        ...withoutOptimizer,
        optimizer: { name: 'tpgm', lr: 0.02, valFraction: 0.25 },
        train: { epochs: 1, batchSize: 16 },
      },
      [0, 1],
    );
    const tpgmPlan = await planTogether(tpgm.configs, 2, tpgm.registry, backend);
    expect(tpgmPlan.groups).toHaveLength(1);
    expect(tpgmPlan.steps.get(tpgm.configs[0].runId)).toEqual([4, 4, 4]);
    // Groups are as even as K allows: five runs with K = 4 make 3 + 2.
    const five = tinyConfigs(BASE, [0, 1, 2, 3, 4]);
    expect((await planTogether(five.configs, 4, five.registry, backend)).groups.map((g) => g.length)).toEqual([3, 2]);
    // Epochs of batch 1 over tasks of different sizes (their own class orders): as many steps as examples, so runs
    // group only with runs of the same sizes.
    const byEpochs = tinyConfigs(
      {
        ...BASE,
        dataset: UNEVEN,
        stream: { name: 'split', tasksOf: 2, classOrder: 'seeded' },
        train: { epochs: 1, batchSize: 1 },
      },
      [0, 1, 2, 3, 4, 5],
    );
    const epochsPlan = await planTogether(byEpochs.configs, 6, byEpochs.registry, backend);
    const signature = (c: RunConfig) => JSON.stringify(epochsPlan.steps.get(c.runId));
    expect(new Set(byEpochs.configs.map(signature)).size).toBeGreaterThan(1);
    for (const g of epochsPlan.groups) expect(new Set(g.map(signature)).size).toBe(1);
    const grouped = new Set(epochsPlan.groups.flat().map(signature));
    for (const c of byEpochs.configs)
      if (!epochsPlan.groups.flat().includes(c)) expect(grouped.has(signature(c))).toBe(false);
  });
});
