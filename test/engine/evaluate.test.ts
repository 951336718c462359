// The evaluator's forward passes: eval.batchSize rows each for a model whose
// activations are small, fewer for one whose activations for that many rows
// would pass EVAL_PASS_BYTES — with the same accuracy and loss either way.
import { describe, expect, it } from 'vitest';
import { tf } from '../../src/tensor/tf.js';
import { selectBackend } from '../../src/tensor/backend.js';
import { EVAL_PASS_BYTES, Evaluator } from '../../src/engine/evaluate.js';
import type { Model } from '../../src/contracts/model.js';
import type { ScenarioView } from '../../src/contracts/scenario.js';
import type { Task, TaskStream } from '../../src/contracts/stream.js';
import type { RunConfig } from '../../src/contracts/run-config.js';

await selectBackend((process.env.ANCHORAGE_BACKEND as 'auto' | undefined) ?? 'auto');

const ROWS = 300;
const FEATURES = 4;
const features = Float32Array.from({ length: ROWS * FEATURES }, (_, i) => Math.sin(i));
const labels = Int32Array.from({ length: ROWS }, (_, i) => i % 2);
const task: Task = {
  index: 0,
  name: 't0',
  classes: [0, 1],
  train: { features, labels, count: ROWS },
  test: { features, labels, count: ROWS },
};
const stream: TaskStream = { name: 'one', featureShape: [FEATURES], numClasses: 2, tasks: [task] };
const scenario: ScenarioView = {
  scenario: 'class-il',
  outputs: 2,
  labels: () => labels,
  allowedOutputs: () => null,
};

/** A linear model that keeps `activation` floats per row alive while it runs, and records each pass's rows. */
function model(activation: number, passes: number[]): Model {
  const w = tf.variable(tf.tensor2d([1, -1, 0.5, 0.2, -0.3, 0.4, 0.1, -0.2], [FEATURES, 2]));
  return {
    params: new Map([['w', w]]),
    rowAxis: { w: 1 },
    forward: (x) => {
      passes.push(x.shape[0]);
      tf.zeros([x.shape[0], activation]); // an activation the pass holds until its tidy ends
      return tf.matMul(x, w);
    },
    apply: (params, x) => tf.matMul(x, params.w),
    describe: () => 'linear',
    dispose: () => w.dispose(),
  };
}

async function evaluate(activation: number) {
  const passes: number[] = [];
  const m = model(activation, passes);
  const config = { eval: { batchSize: 100, ood: [] } } as unknown as RunConfig;
  const evaluator = new Evaluator(config, scenario, m, stream);
  const result = await evaluator.evaluate(task);
  evaluator.dispose();
  m.dispose();
  return { result, passes };
}

describe('evaluation passes', () => {
  it('takes eval.batchSize rows per pass when the activations are small', async () => {
    const { passes } = await evaluate(10);
    // The probe of 8 rows, then 100, 100, 100.
    expect(passes).toEqual([8, 100, 100, 100]);
  });

  it('takes fewer rows per pass where eval.batchSize rows would pass the memory budget; same results', async () => {
    // 4 MiB of activations per row: 64 rows fit the 256 MiB budget.
    const perRow = (4 * 2 ** 20) / 4;
    const big = await evaluate(perRow);
    const small = await evaluate(10);
    const rows = Math.floor(EVAL_PASS_BYTES / (4 * 2 ** 20));
    expect(big.passes[0]).toBe(8);
    expect(Math.max(...big.passes.slice(1))).toBeLessThanOrEqual(rows);
    expect(Math.max(...big.passes.slice(1))).toBeGreaterThan(rows / 2);
    expect(big.passes.slice(1).reduce((a, b) => a + b, 0)).toBe(ROWS);
    expect(big.result.accuracy).toBe(small.result.accuracy);
    expect(big.result.loss).toBeCloseTo(small.result.loss, 5);
  });
});
