// SI's path-integral importance against a hand-worked case.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/tensor/backend.js';
import { tf } from '../../../src/tensor/tf.js';
import si from '../../../plugins/strategies/si.js';
import { linearModel, pluginCtx, taskCtx } from './importance-fixtures.js';

const values = (t: tf.Tensor) => Array.from(t.dataSync());

beforeAll(async () => {
  await selectBackend('auto');
});

describe('SI importance (path integral)', () => {
  it('accumulates ω = −Σ g·Δθ over steps and gives c·Σ ω/(Δ² + ξ)·(θ − θ*)² (hand-worked)', async () => {
    const model = linearModel([0, 0, 0, 0]);
    const s = await si.create({ c: 2, xi: 0.5 }, pluginCtx);
    let state = (await s.onTaskStart!(taskCtx(model, {})))!.state! as Record<string, tf.Tensor>;
    // Two steps: θ 0 → 1 → 3 on the first weight with gradients −1 and −0.5; others stay.
    const steps = [
      { theta: [1, 0, 0, 0], g: [-1, 0, 0, 0] },
      { theta: [3, 0, 0, 0], g: [-0.5, 0, 0, 0] },
    ];
    for (const { theta, g } of steps) {
      model.w.assign(tf.tensor2d(theta, [2, 2]));
      const next = tf.tidy(() =>
        s.afterStep!({
          step: 1,
          params: { w: model.w },
          grads: { w: tf.tensor2d(g, [2, 2]) },
          batch: {} as never,
          state,
        })!,
      );
      tf.dispose(Object.values(state).filter((t) => !Object.values(next).includes(t)));
      state = next;
    }
    // ω = −(−1·1 + −0.5·2) = 2; Δ = 3 → Ω = 2 / (9 + 0.5).
    expect(values(state['omega/w'])[0]).toBeCloseTo(2, 6);
    await s.onTaskEnd!(taskCtx(model, state));
    const term = tf.tidy(
      () => values(s.loss!({ params: { w: tf.tensor2d([4, 0, 0, 0], [2, 2]) }, state: {} } as never)!)[0],
    );
    // c·Ω·(θ − θ*)² = 2 · (2/9.5) · (4 − 3)².
    expect(term).toBeCloseTo((2 * 2) / 9.5, 5);
    tf.dispose(Object.values(state));
    s.dispose!();
    model.dispose();
  });
});
