// WiSE-FT: after a run, the weight-space interpolations between the anchor
// (the model the run started from) and the final weights are evaluated on
// every eval set and recorded in evals.arrow with their α, apart from the
// run's own accuracy matrix.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { runEvents } from '../../src/engine/session.js';
import { evaluateInterpolations } from '../../src/engine/interpolate.js';
import { selectBackend, type BackendInfo } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import type { RunEvent } from '../../src/contracts/events.js';
import type { Model } from '../../src/contracts/model.js';
import { readRows, type EvalRow } from '../../src/results/tables.js';
import { ExperimentError } from '../../src/spec/validate.js';
import { runCli, scratchDir, tinyConfigs, writeExperiment } from '../helpers.js';

let backend: BackendInfo;
beforeAll(async () => {
  backend = await selectBackend('auto');
});

const SPEC = {
  name: 'wise',
  dataset: { name: 'synthetic', classes: 4, features: 16, trainPerClass: 40, testPerClass: 20, separation: 3 },
  stream: { name: 'split', tasksOf: 2 },
  model: { name: 'mlp', hidden: [16] },
  optimizer: { name: 'adamw', lr: 0.03 },
  train: { epochs: 2, batchSize: 16, logEvery: 4 },
  eval: { ood: [{ corruption: 'gaussian-noise', severity: 3 }], interpolate: [0, 0.5, 1] },
};

describe('WiSE-FT interpolation', () => {
  it(
    'α = 0 scores exactly as the model before training, α = 1 exactly as the final one, on every eval set; ' +
      'nothing leaks',
    async () => {
      const { configs, registry } = tinyConfigs(SPEC, [4]);
      const before = tf.memory().numTensors;
      const events: RunEvent[] = await lastValueFrom(runEvents(configs[0], registry, backend).pipe(toArray()));
      expect(events.at(-1)).toMatchObject({ type: 'run-end', status: 'completed' });
      expect(tf.memory().numTensors).toBe(before);
      const evals = events.filter((e): e is Extract<RunEvent, { type: 'eval' }> => e.type === 'eval');
      type Interpolated = Extract<RunEvent, { type: 'interpolation-eval' }>;
      const wise = events.filter((e): e is Interpolated => e.type === 'interpolation-eval');
      // 3 α × 2 eval sets × 2 tasks, after the last task.
      expect(wise).toHaveLength(12);
      const score = (e: { accuracy: number; loss: number }) => [e.accuracy, e.loss];
      for (const w of wise) {
        const own = evals.find(
          (e) => e.evalSet === w.evalSet && e.evalTask === w.evalTask && e.trainedTask === (w.alpha === 0 ? -1 : 1),
        )!;
        if (w.alpha === 0 || w.alpha === 1) expect(score(w)).toEqual(score(own));
      }
      // Halfway is neither end.
      const half = wise.filter((w) => w.alpha === 0.5 && w.evalSet === 'test').map(score);
      const end = evals.filter((e) => e.trainedTask === 1 && e.evalSet === 'test').map(score);
      expect(half).not.toEqual(end);
      const runEnd = events.at(-1) as Extract<RunEvent, { type: 'run-end' }>;
      expect(runEnd.interpolationSeconds).toBeGreaterThan(0);
    },
  );

  it(
    'a parameter without an anchor (a fresh head) keeps its ' + 'final value; the final weights come back bit for bit',
    async () => {
      const params = new Map([
        ['body.weight', tf.variable(tf.tensor([1, 2, 3]))],
        ['head.weight', tf.variable(tf.tensor([5, 6]))],
      ]);
      const model = { params, fresh: new Set(['head.weight']) } as unknown as Model;
      const anchor = { 'body.weight': tf.tensor([-1, 0, 7]), 'head.weight': tf.tensor([0, 0]) };
      const seen: Record<number, number[][]> = {};
      await evaluateInterpolations([0, 0.25, 1], model, anchor, async (alpha) => {
        seen[alpha] = [
          Array.from(params.get('body.weight')!.dataSync()),
          Array.from(params.get('head.weight')!.dataSync()),
        ];
      });
      expect(seen[0]).toEqual([
        [-1, 0, 7],
        [5, 6],
      ]);
      expect(seen[0.25]).toEqual([
        [-0.5, 0.5, 6],
        [5, 6],
      ]);
      expect(seen[1]).toEqual([
        [1, 2, 3],
        [5, 6],
      ]);
      expect(Array.from(params.get('body.weight')!.dataSync())).toEqual([1, 2, 3]);
      tf.dispose([...params.values(), ...Object.values(anchor)]);
    },
  );

  it('records α in evals.arrow apart from the accuracy matrix, and compare draws the ID–OOD curve', () => {
    const dir = scratchDir('wise');
    const out = join(dir, 'results');
    expect(runCli(['run', writeExperiment(dir, SPEC), '--out', out, '--quiet']).code).toBe(0);
    const [run] = readdirSync(join(out, 'wise'));
    const rows = readRows<EvalRow>(join(out, 'wise', run, 'evals.arrow'));
    // Before training and after each of 2 tasks, 2 sets, 2 tasks.
    expect(rows.filter((r) => r.alpha === null)).toHaveLength(3 * 2 * 2);
    expect([...new Set(rows.filter((r) => r.alpha !== null).map((r) => r.alpha))]).toEqual([0, 0.5, 1]);
    const record = JSON.parse(readFileSync(join(out, 'wise', run, 'run.json'), 'utf8'));
    const lastTest = rows
      .filter((r) => r.alpha === null && r.trained_task === 1 && r.eval_set === 'test')
      .map((r) => r.accuracy);
    expect(record.summary.acc).toBeCloseTo(lastTest.reduce((a, b) => a + b, 0) / 2, 12);
    expect(record.timings.interpolationSeconds).toBeGreaterThan(0);
    const r = runCli(['compare', join(out, 'wise'), '--by', 'optimizer']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/WiSE-FT α\s+ID\s+OOD mean/);
    expect(r.stdout).toMatch(/\n1\s+adamw\s+0\.5\s+\d+\.\d ± 0\.0\s+\d+\.\d ± 0\.0/);
    // The report's ID–OOD figure draws the interpolation path beside the groups' points.
    const report = runCli(['report', join(out, 'wise'), '--by', 'optimizer']);
    expect(report.code, report.stderr).toBe(0);
    const html = readFileSync(join(out, 'wise', 'report.html'), 'utf8');
    expect(html).toMatch(/Dashed: WiSE-FT, the weights interpolated from the pre-trained model/);
  });

  it('refuses α outside [0, 1], repeated, or an empty list, naming the field', () => {
    const problem = (interpolate: unknown) => {
      try {
        tinyConfigs({ ...SPEC, eval: { interpolate } });
        return '';
      } catch (e) {
        return (e as ExperimentError).message;
      }
    };
    expect(problem([0, 1.5])).toMatch(/eval\.interpolate\[1\]: must be a weight α in \[0, 1\], got 1\.5/);
    expect(problem([0.5, 0.5])).toMatch(/eval\.interpolate\[1\]: 0\.5 is listed twice/);
    expect(problem([])).toMatch(/eval\.interpolate: must be a non-empty array/);
    // Runs without it keep their ids.
    const { interpolate: _i, ...plainEval } = SPEC.eval;
    expect(tinyConfigs({ ...SPEC, eval: plainEval }).configs[0].eval).not.toHaveProperty('interpolate');
  });
});
