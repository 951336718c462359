// The strategy pipeline on its own, with hand-made strategies and no model:
// how it composes a step's rows, weights and masks, sums loss terms, chains
// gradient stages, and owns step state (keeps what a hook returns, frees
// what it replaces), and how it checkpoints and restores.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import type { StepBatch, Strategy } from '../../src/contracts/strategy.js';
import { StrategyPipeline } from '../../src/engine/pipeline.js';

const batch = (): StepBatch => ({
  step: 1,
  size: 2,
  x: tf.tensor2d([
    [1, 1],
    [2, 2],
  ]),
  labels: tf.tensor1d([0, 1], 'int32'),
  taskIds: tf.tensor1d([0, 0], 'int32'),
});

/** A strategy that adds `n` rows of value `v` with a weight, and a loss term. */
function adder(name: string, n: number, v: number, weight = 1, term = 0): Strategy {
  return {
    name,
    composeBatch: () => ({
      rows: { x: tf.fill([n, 2], v), labels: tf.zeros([n], 'int32'), taskIds: tf.ones([n], 'int32'), weight },
    }),
    loss: ({ own }) => (term ? tf.mul(tf.scalar(term), own[0].count) : undefined),
  };
}

beforeAll(async () => {
  await selectBackend((process.env.ANCHORAGE_BACKEND as 'auto' | undefined) ?? 'auto');
});

describe('StrategyPipeline', () => {
  it(
    'composes the sampled rows first, then each strategy’s rows in order, with per-row weights and the replayed ' +
      'flag',
    () => {
      tf.tidy(() => {
        const pipeline = new StrategyPipeline([adder('a', 1, 7, 0.5, 1), adder('b', 2, 9, 1, 2)]);
        const composed = pipeline.compose(batch(), 3);
        expect(composed.x.arraySync()).toEqual([
          [1, 1],
          [2, 2],
          [7, 7],
          [9, 9],
          [9, 9],
        ]);
        expect(composed.taskIds.arraySync()).toEqual([0, 0, 1, 1, 1]);
        expect(composed.own.map((slices) => slices.map((s) => [s.start, s.count]))).toEqual([[[2, 1]], [[3, 2]]]);
        expect(composed.replayed!.arraySync()).toEqual([0, 0, 1, 1, 1]);
        expect(composed.weights!.values.arraySync()).toEqual([1, 1, 0.5, 1, 1]);
        expect(composed.weights!.total).toBe(4.5);
        // Loss terms: each strategy's, summed (a: 1 × its 1 row; b: 2 × its 2 rows).
        const ctx = {
          step: 1,
          params: {},
          x: composed.x,
          rawLogits: tf.zeros([5, 3]),
          logits: tf.zeros([5, 3]),
          labels: composed.labels,
          taskIds: composed.taskIds,
          replayed: composed.replayed!,
          sampled: 2,
        };
        expect(pipeline.lossTerms(ctx, composed.own)!.arraySync()).toBe(5);
        pipeline.dispose();
      });
    },
  );

  it(
    'masks the sampled rows and weighs them (ER-ACE, iCaRL), ' +
      'and builds no weights or masks when none is asked for',
    () => {
      tf.tidy(() => {
        const plain = new StrategyPipeline([{ name: 'naive' }]);
        const composed = plain.compose(batch(), 3);
        expect(composed.weights).toBeUndefined();
        expect(composed.mask).toBeUndefined();
        expect(composed.replayed).toBeUndefined();
        const masking = new StrategyPipeline([
          { name: 'mask', composeBatch: () => ({ currentMask: tf.tensor1d([0, -1e9, 0]), currentWeight: 0 }) },
        ]);
        const m = masking.compose(batch(), 3);
        expect(m.mask!.arraySync()).toEqual([
          [0, -1e9, 0],
          [0, -1e9, 0],
        ]);
        expect(m.weights!.total).toBe(0);
        masking.dispose();
      });
    },
  );

  it('chains gradient stages in order, each seeing the last one’s gradients', () => {
    tf.tidy(() => {
      const double: Strategy = { name: 'double', gradients: ({ grads }) => ({ w: tf.mul(grads.w, 2) }) };
      const plusOne: Strategy = { name: 'plus', gradients: ({ grads }) => ({ w: tf.add(grads.w, 1) }) };
      const pipeline = new StrategyPipeline([double, plusOne]);
      const out = pipeline.gradients({ step: 1, params: {}, grads: { w: tf.scalar(3) }, gradientsOf: () => ({}) });
      expect(out.w.arraySync()).toBe(7);
    });
  });

  it('keeps the step state an after-step hook returns, frees what it replaces, checkpoints and restores it', () => {
    const counter: Strategy = {
      name: 'counter',
      onTaskStart: () => ({ state: { n: tf.scalar(0) } }),
      afterStep: ({ state }) => ({ n: tf.add(state.n, 1) }),
      checkpoint: () => ({ mine: 1 }),
      restore: () => {},
    };
    const before = tf.memory().numTensors;
    const pipeline = new StrategyPipeline([counter]);
    return (async () => {
      await pipeline.onTaskStart({} as never);
      for (let i = 0; i < 3; i++)
        pipeline.commit(tf.tidy(() => pipeline.afterStep({ step: i + 1, params: {}, grads: {}, batch: {} as never })));
      // One tensor held: the latest count; the earlier ones were freed.
      expect(tf.memory().numTensors).toBe(before + 1);
      const saved = pipeline.checkpoint();
      expect((saved.steps as Record<string, tf.Tensor>[])[0].n.dataSync()[0]).toBe(3);
      const other = new StrategyPipeline([{ ...counter }]);
      other.restore({ steps: [{ n: tf.scalar(3) }], strategies: [{ mine: 1 }] });
      expect((other.stepStates()[0].n as tf.Tensor).dataSync()[0]).toBe(3);
      expect(() => other.restore({ steps: [], strategies: [] })).toThrow(
        /checkpoint holds 0 strategies; this run has 1/,
      );
      other.dispose();
      pipeline.dispose();
      expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 1);
    })();
  });

  it('names the strategies that cannot checkpoint, and the one that replaces prediction', () => {
    const pipeline = new StrategyPipeline([
      { name: 'plain' },
      { name: 'icarl', predict: () => undefined, checkpoint: () => ({}), restore: () => {} },
    ]);
    expect(pipeline.notCheckpointable).toEqual(['plain']);
    expect(pipeline.predictor).toBeDefined();
    expect(pipeline.hasGradientStage).toBe(false);
  });
});
