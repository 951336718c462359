// A-GEM's projection against hand-worked cases.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/tensor/backend.js';
import { tf } from '../../../src/tensor/tf.js';
import { agemProject } from '../../../plugins/strategies/agem.js';

const values = (t: tf.Tensor) => Array.from(t.dataSync());

beforeAll(async () => {
  await selectBackend('auto');
});

describe('A-GEM projection', () => {
  it('leaves a gradient that agrees with the reference alone, projects one that conflicts (hand-worked)', () => {
    tf.tidy(() => {
      const ref = { w: tf.tensor1d([1, 0]), b: tf.tensor1d([0]) };
      const agree = agemProject({ w: tf.tensor1d([1, 2]), b: tf.tensor1d([3]) }, ref);
      expect(values(agree.w)).toEqual([1, 2]);
      expect(values(agree.b)).toEqual([3]);
      // g = (−2, 1 | 1), g·ref = −2, ref·ref = 1 → g − (−2)·ref = (0, 1 | 1): orthogonal to ref.
      const p = agemProject({ w: tf.tensor1d([-2, 1]), b: tf.tensor1d([1]) }, ref);
      expect(values(p.w)).toEqual([0, 1]);
      expect(values(p.b)).toEqual([1]);
    });
  });

  it('spreads the projection over every parameter tensor (g·ref summed across tensors)', () => {
    tf.tidy(() => {
      const ref = { a: tf.tensor1d([1]), c: tf.tensor1d([1]) };
      // g·ref = −3 + 1 = −2, ref·ref = 2 → g + ref = (−2 | 2); then g·ref = 0.
      const p = agemProject({ a: tf.tensor1d([-3]), c: tf.tensor1d([1]) }, ref);
      expect(values(p.a)[0]).toBeCloseTo(-2, 6);
      expect(values(p.c)[0]).toBeCloseTo(2, 6);
    });
  });
});
