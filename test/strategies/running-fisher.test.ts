// EWC++'s running Fisher and RWalk's score, one step at a time against hand-worked values, and the penalty they
// leave after a task.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import { runningFisherStep, runningFisherStrategy } from '../../src/strategies/running-fisher.js';
import { linearModel } from '../plugins/strategies/fixture-linear.js';
import type { TaskContext } from '../../src/contracts/strategy.js';

beforeAll(async () => {
  await selectBackend('auto');
});

const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe('running Fisher (EWC++) and path-integral score (RWalk)', () => {
  it('updates F ← αF + (1 − α)g² and s += max(0, −gΔθ / (½FΔθ² + ε)) (hand-worked)', () => {
    tf.tidy(() => {
      const state = {
        'fisher/w': tf.tensor1d([1, 0]),
        'score/w': tf.tensor1d([0.5, 0.5]),
        'prev/w': tf.tensor1d([0, 0]),
      };
      // The step moved w from (0, 0) to (−0.1, 0.2) against gradients (1, 1).
      const params = { w: tf.tensor1d([-0.1, 0.2]) };
      const grads = { w: tf.tensor1d([1, 1]) };
      const next = runningFisherStep(params, grads, state, { lambda: 1, alpha: 0.5, score: { epsilon: 0.01 } });
      // F = 0.5·(1, 0) + 0.5·(1, 1) = (1, 0.5).
      expect(values(next['fisher/w'])).toEqual([1, 0.5]);
      // w0: −1·(−0.1) = 0.1 over ½·1·0.01 + 0.01 = 0.015 → +6.667; w1: −0.2 (the loss rose) → +0.
      const s = values(next['score/w']);
      expect(s[0]).toBeCloseTo(0.5 + 0.1 / 0.015, 4);
      expect(s[1]).toBeCloseTo(0.5, 6);
      expect(values(next['prev/w'])).toEqual([-0.1, 0.2].map((v) => Math.fround(v)));
      // EWC++ keeps no score and no path.
      const plain = runningFisherStep(params, grads, state, { lambda: 1, alpha: 0.5 });
      expect(Object.keys(plain)).toEqual(['fisher/w']);
    });
  });

  it('after a task, penalises (λ/2)·ΣF(θ − θ*)² (EWC++) or λ·Σ(F + s̄)(θ − θ*)² (RWalk) around it', async () => {
    for (const [opts, factor] of [
      [{ lambda: 4, alpha: 0.5 }, 2],
      [{ lambda: 4, alpha: 0.5, score: { epsilon: 0.01 } }, 4],
    ] as const) {
      const model = linearModel([[1, 2]]);
      const strategy = runningFisherStrategy('x', opts);
      const ctx = { model, state: {} } as unknown as TaskContext;
      const started = strategy.onTaskStart!(ctx) as { state: Record<string, tf.Tensor> };
      const fisher = values(started.state['fisher/w']);
      expect(fisher).toEqual([0, 0]);
      const state = { ...started.state, 'fisher/w': tf.tensor2d([[3, 1]]) };
      await strategy.onTaskEnd!({ ...ctx, state, trained: undefined } as never);
      // θ* = (1, 2); at θ = (2, 2) only the first weight moved, by 1: the penalty is factor·Ω₀ with Ω₀ = F₀ + s̄₀ = 3.
      const term = tf.tidy(() => strategy.loss!({ params: { w: tf.tensor2d([[2, 2]]) } } as never)!);
      expect(values(term)[0]).toBeCloseTo(factor * 3, 5);
      tf.dispose([term, ...Object.values(state)]);
      strategy.dispose!();
      model.dispose();
    }
  });
});
