// Steps a fused projection and its reference side by side (the tests of
// ftp-native.ts and pgd-native.ts).
import { expect } from 'vitest';
import type { NamedTensors, OptimizerState, Projection, StepContext } from '../../../src/contracts/optimizer.js';
import { tf } from '../../../src/tensor/tf.js';

/** Largest |a − b| relative to the largest |b| (1 when b is all zeros). */
function gap(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / Math.max(1, tf.max(tf.abs(b)).dataSync()[0]));
}

/**
 * Steps the fused and the reference projection side by side from the same
 * anchor and updates: a drift away from the anchor plus noise, so that rows
 * get clipped (and FTP's γ moves both ways). Returns how often rows were clipped and the final states.
 */
export function compareOverSteps(
  make: () => { fused: Projection; reference: Projection },
  steps = 30,
): { clipped: number; state: OptimizerState } {
  const shapes: Record<string, number[]> = { w1: [20, 16], b1: [16], w2: [16, 4] };
  const rowAxis = { w1: 1, w2: 1, b1: 0 };
  const anchor: NamedTensors = Object.fromEntries(
    Object.entries(shapes).map(([n, s], i) => [n, tf.randomNormal(s, 0, 1, 'float32', 10 + i)]),
  );
  const { fused, reference } = make();
  const params = { fused: anchor, reference: anchor };
  const state = { fused: fused.init(anchor, rowAxis), reference: reference.init(anchor, rowAxis) };
  let clipped = 0;
  for (let step = 1; step <= steps; step++) {
    const grads: NamedTensors = Object.fromEntries(
      Object.entries(shapes).map(([n, s], i) => [n, tf.randomNormal(s, 0.05, 0.3, 'float32', step * 7 + i)]),
    );
    const updates: NamedTensors = Object.fromEntries(Object.entries(grads).map(([n, g]) => [n, tf.mul(g, -0.1)]));
    const ctx = (p: NamedTensors): StepContext => ({
      step,
      taskStep: step,
      taskSteps: steps,
      anchorStep: step,
      params: p,
      rawGrads: grads,
      anchor,
      rowAxis,
    });
    const tentative = Object.fromEntries(Object.entries(params.reference).map(([n, w]) => [n, tf.add(w, updates[n])]));
    const r = {
      fused: fused.projectStep!(updates, state.fused, ctx(params.fused)),
      reference: reference.project(tentative, state.reference, ctx(params.reference)),
    };
    clipped += gap(r.reference.params.w1, tentative.w1) > 1e-4 ? 1 : 0;
    for (const path of ['fused', 'reference'] as const) {
      params[path] = r[path].params;
      state[path] = r[path].state;
    }
    for (const n of Object.keys(shapes))
      expect(gap(params.fused[n], params.reference[n]), `step ${step}, ${n}`).toBeLessThan(1e-5);
    for (const [key, slots] of Object.entries(state.reference)) {
      for (const [slot, value] of Object.entries(slots))
        expect(gap(state.fused[key][slot], value), `step ${step}, ${key}/${slot}`).toBeLessThan(1e-5);
    }
  }
  return { clipped, state: state.fused };
}
