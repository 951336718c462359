// Chains of transforms (Optax's guarantees): every transform keeps its own state, and named chains reject duplicate
// names.
import { beforeAll, describe, expect, it } from 'vitest';
import { runRule } from './rule-fixture.js';
import { selectBackend } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import { chain, namedChain, scaleByAdam, scaleByLearningRate, trace } from '../../src/optim/transforms.js';

beforeAll(async () => {
  await selectBackend('auto');
});

describe('chain', () => {
  it('gives each transform its own state: trace(0.9) then trace(0.5) makes 3.91 at the third step', () => {
    tf.tidy(() => {
      const { updates, slots } = runRule(chain(trace({ momentum: 0.9 }), trace({ momentum: 0.5 })), { w: [0] }, [
        [1],
        [1],
        [1],
      ]);
      // trace(0.9) of ones: 1, 1.9, 2.71; trace(0.5) of that: 1, 2.4, 3.91. A shared buffer gives 4.36.
      expect(updates.map((u) => u.w[0])).toEqual([1, expect.closeTo(2.4, 6), expect.closeTo(3.91, 6)]);
      expect(slots).toEqual(['0:momentum/momentum.buf/w', '1:momentum/momentum.buf/w']);
    });
  });

  it('two Adams in one chain keep separate moments', () => {
    tf.tidy(() => {
      const twice = runRule(
        chain(scaleByAdam({ beta1: 0.9, beta2: 0.999, eps: 1e-8 }), scaleByAdam({ beta1: 0.5, beta2: 0.9, eps: 1e-8 })),
        { w: [0] },
        [[2], [-1], [3]],
      );
      expect(twice.slots).toEqual(['0:adam/adam.m/w', '0:adam/adam.v/w', '1:adam/adam.m/w', '1:adam/adam.v/w']);
      // Reference: each Adam in float64, fed the previous one's output.
      const adam = (b1: number, b2: number) => {
        let m = 0;
        let v = 0;
        return (g: number, t: number) => {
          m = b1 * m + (1 - b1) * g;
          v = b2 * v + (1 - b2) * g * g;
          return m / (1 - b1 ** t) / (Math.sqrt(v) / Math.sqrt(1 - b2 ** t) + 1e-8);
        };
      };
      const [a, b] = [adam(0.9, 0.999), adam(0.5, 0.9)];
      [2, -1, 3].forEach((g, i) => expect(twice.updates[i].w[0]).toBeCloseTo(b(a(g, i + 1), i + 1), 5));
    });
  });

  it('named chains reject a name used twice, and keep state under each name', () => {
    expect(() => namedChain(['m', trace({ momentum: 0.9 })], ['m', trace({ momentum: 0.5 })])).toThrow(
      /the name 'm' is used twice/,
    );
    tf.tidy(() => {
      const { slots } = runRule(
        namedChain(['slow', trace({ momentum: 0.9 })], ['lr', scaleByLearningRate(0.1)]),
        { w: [0] },
        [[1]],
      );
      expect(slots).toEqual(['slow/momentum.buf/w']);
    });
  });
});
