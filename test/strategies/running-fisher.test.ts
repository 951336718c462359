// EWC++'s running Fisher and RWalk's score, step by step against hand-worked values, the penalty they leave after a
// task, and the penalty's own gradient taken off the one the Fisher sees.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import { runningFisherStep, runningFisherStrategy } from '../../src/strategies/running-fisher.js';
import type { RunningFisherOptions } from '../../src/strategies/running-fisher.js';
import { linearModel } from '../plugins/strategies/fixture-linear.js';
import type { AfterStepContext, TaskContext } from '../../src/contracts/strategy.js';

beforeAll(async () => {
  await selectBackend('auto');
});

const values = (t: tf.Tensor) => Array.from(t.dataSync());
const f32 = (xs: number[]) => xs.map((v) => Math.fround(v));

describe('running Fisher (EWC++) and path-integral score (RWalk)', () => {
  it('updates F ← αg² + (1 − α)F each step and the score every Δt steps from the loss drop (hand-worked)', () => {
    tf.tidy(() => {
      const opts = { lambda: 1, alpha: 0.5, score: { epsilon: 0.01, interval: 2, normalize: true } };
      const zero = () => tf.tensor1d([0, 0]);
      const start = {
        'fisher/w': tf.tensor1d([1, 0]),
        'prev/w': zero(),
        'score/w': tf.tensor1d([0.5, 0.5]),
        'gain/w': zero(),
        'start/w': zero(),
      };
      // Step 1 of an interval of 2 moves w from (0, 0) to (−0.1, 0.2) against gradients (1, 1).
      const one = runningFisherStep(
        { step: 1, params: { w: tf.tensor1d([-0.1, 0.2]) }, grads: { w: tf.tensor1d([1, 1]) } },
        start,
        opts,
      );
      // F = 0.5·(1, 1) + 0.5·(1, 0) = (1, 0.5); the loss drop −g·Δθ = (0.1, −0.2); no score update yet.
      expect(values(one['fisher/w'])).toEqual([1, 0.5]);
      expect(values(one['gain/w'])).toEqual(f32([0.1, -0.2]));
      expect(values(one['score/w'])).toEqual([0.5, 0.5]);
      expect(values(one['start/w'])).toEqual([0, 0]);
      expect(values(one['prev/w'])).toEqual(f32([-0.1, 0.2]));
      // Step 2 moves w0 by −0.2 more; the optimizer's gradient (2, 0) holds a penalty gradient (1, 0): g = (1, 0).
      const two = runningFisherStep(
        { step: 2, params: { w: tf.tensor1d([-0.3, 0.2]) }, grads: { w: tf.tensor1d([2, 0]) } },
        one,
        opts,
        { w: tf.tensor1d([1, 0]) },
      );
      // F = 0.5·(1, 0) + 0.5·(1, 0.5) = (1, 0.25); the interval's drop (0.1 + 0.2, −0.2) = (0.3, −0.2).
      expect(values(two['fisher/w'])).toEqual([1, 0.25]);
      // Over the interval w moved (−0.3, 0.2): w0 gains 0.3 / (½·1·0.09 + 0.01); w1's loss rose: no score.
      const s = values(two['score/w']);
      expect(s[0]).toBeCloseTo(0.5 + 0.3 / 0.055, 4);
      expect(s[1]).toBeCloseTo(0.5, 6);
      // A new interval starts here.
      expect(values(two['gain/w'])).toEqual([0, 0]);
      expect(values(two['start/w'])).toEqual(f32([-0.3, 0.2]));
      // EWC++ keeps the Fisher and the weights before the step only.
      const plain = runningFisherStep(
        { step: 1, params: { w: tf.tensor1d([-0.1, 0.2]) }, grads: { w: tf.tensor1d([1, 1]) } },
        start,
        { lambda: 1, alpha: 0.5 },
      );
      expect(Object.keys(plain).sort()).toEqual(['fisher/w', 'prev/w']);
    });
  });

  it('after a task penalises (λ/2)·ΣF(θ − θ*)² (EWC++) or λ·Σ(F + s̄)(θ − θ*)², scaled or not (RWalk)', async () => {
    const rwalk = (normalize: boolean) => ({ epsilon: 0.01, interval: 10, normalize });
    const cases: [RunningFisherOptions, number][] = [
      // EWC++: (4/2)·3·1².
      [{ lambda: 4, alpha: 0.5 }, 2 * 3],
      // RWalk, F = (3, 1) scaled to (1, 1/3), no score yet: 4·1·1².
      [{ lambda: 4, alpha: 0.5, score: rwalk(true) }, 4 * 1],
      // RWalk as measured: 4·3·1².
      [{ lambda: 4, alpha: 0.5, score: rwalk(false) }, 4 * 3],
    ];
    for (const [opts, want] of cases) {
      const model = linearModel([[1, 2]]);
      const strategy = runningFisherStrategy('x', opts);
      const ctx = { model, state: {} } as unknown as TaskContext;
      const started = strategy.onTaskStart!(ctx) as { state: Record<string, tf.Tensor> };
      expect(values(started.state['fisher/w'])).toEqual([0, 0]);
      const state = { ...started.state, 'fisher/w': tf.tensor2d([[3, 1]]) };
      await strategy.onTaskEnd!({ ...ctx, state, trained: undefined } as never);
      // θ* = (1, 2); at θ = (2, 2) only the first weight moved, by 1.
      const term = tf.tidy(() => strategy.loss!({ params: { w: tf.tensor2d([[2, 2]]) } } as never)!);
      expect(values(term)[0]).toBeCloseTo(want, 5);
      tf.dispose([term, ...Object.values(state)]);
      strategy.dispose!();
      model.dispose();
    }
  });

  it("takes the penalty's own gradient off the optimizer's before the Fisher sees it", async () => {
    const model = linearModel([[1, 2]]);
    const strategy = runningFisherStrategy('ewcpp', { lambda: 4, alpha: 0.5 });
    const ctx = { model, state: {} } as unknown as TaskContext;
    const started = strategy.onTaskStart!(ctx) as { state: Record<string, tf.Tensor> };
    const state = { ...started.state, 'fisher/w': tf.tensor2d([[3, 1]]) };
    await strategy.onTaskEnd!({ ...ctx, state, trained: undefined } as never);
    tf.tidy(() => {
      // Before the step θ = (2, 2): the penalty's gradient is (λ/2)·2·F·(θ − θ*) = 2·2·(3, 1)·(1, 0) = (12, 0).
      const before = { ...state, 'prev/w': tf.tensor2d([[2, 2]]) };
      const step = (given: number[]) =>
        strategy.afterStep!({
          step: 1,
          params: { w: tf.tensor2d([[1.5, 2]]) },
          grads: { w: tf.tensor2d([given]) },
          state: before,
        } as unknown as AfterStepContext)!;
      // All of the optimizer's gradient was the penalty's: the task's gradient is 0, F decays by 1 − α.
      expect(values(step([12, 0])['fisher/w'])).toEqual([1.5, 0.5]);
      // With a task gradient (1, 2) besides it: F = 0.5·(1, 4) + 0.5·(3, 1).
      expect(values(step([13, 2])['fisher/w'])).toEqual([2, 2.5]);
    });
    tf.dispose(Object.values(state));
    strategy.dispose!();
    model.dispose();
  });
});
