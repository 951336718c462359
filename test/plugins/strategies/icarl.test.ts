// iCaRL's nearest-mean-of-exemplars classifier against a hand-worked case.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/tensor/backend.js';
import { tf } from '../../../src/tensor/tf.js';
import { nmeScores } from '../../../plugins/strategies/icarl.js';

const values = (t: tf.Tensor) => Array.from(t.dataSync());

beforeAll(async () => {
  await selectBackend('auto');
});

describe('iCaRL nearest mean of exemplars', () => {
  it('scores −‖φ(x) − μ‖² up to a constant and never picks a class without exemplars (hand-worked)', () => {
    tf.tidy(() => {
      const means = tf.tensor2d([1, 0, 0, 1, 0.6, 0.8], [3, 2]);
      const absent = tf.tensor1d([0, 0, -1e9]);
      // x = (3, 4) → φ = (0.6, 0.8): nearest mean is class 2, but it has no exemplars; then class 1 (0.4 vs 0.8
      // away).
      const s = values(nmeScores(tf.tensor2d([3, 4, 10, 1], [2, 2]), means, absent));
      const phi = [0.6, 0.8];
      expect(s[0]).toBeCloseTo(-((phi[0] - 1) ** 2 + phi[1] ** 2) + 1, 5);
      expect(s[1]).toBeCloseTo(-(phi[0] ** 2 + (phi[1] - 1) ** 2) + 1, 5);
      expect(s[1]).toBeGreaterThan(s[0]);
      const pred = values(tf.argMax(nmeScores(tf.tensor2d([3, 4, 10, 1], [2, 2]), means, absent), 1));
      expect(pred).toEqual([1, 0]);
    });
  });
});
