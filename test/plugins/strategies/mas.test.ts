// MAS's importance against a hand-worked case.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/tensor/backend.js';
import { tf } from '../../../src/tensor/tf.js';
import mas from '../../../plugins/strategies/mas.js';
import { linearModel, pluginCtx, taskCtx } from './importance-fixtures.js';

const values = (t: tf.Tensor) => Array.from(t.dataSync());

beforeAll(async () => {
  await selectBackend('auto');
});

describe('MAS importance', () => {
  it('is the mean of |∂‖xW‖²/∂W| = |2·xᵀ(xW)| over examples (hand-worked)', async () => {
    const model = linearModel([1, 0, 0, 1]);
    const s = await mas.create({ lambda: 1, samples: 2, batchSize: 1, decay: 1 }, pluginCtx);
    // x1 = (1, 0): xW = (1, 0); grad = 2·x1ᵀ(1,0) = [[2,0],[0,0]]. x2 = (0, −1): xW = (0, −1); grad =
    // 2·x2ᵀ(0,−1) = [[0,0],[0,2]].
    await s.onTaskEnd!(taskCtx(model, {}, { features: [1, 0, 0, -1], labels: [0, 1] }));
    // Ω = ([[2,0],[0,0]] + [[0,0],[0,2]]) / 2 = I. Penalty at W* + 1 everywhere: Σ Ω·1 = 2.
    const term = tf.tidy(
      () => values(s.loss!({ params: { w: tf.tensor2d([2, 1, 1, 2], [2, 2]) }, state: {} } as never)!)[0],
    );
    expect(term).toBeCloseTo(2, 5);
    s.dispose!();
    model.dispose();
  });
});
