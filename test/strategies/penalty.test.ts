// The quadratic importance penalty (EWC, SI, MAS) against a float64 reference.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import { Rng } from '../../src/tensor/rng.js';
import type { Model } from '../../src/contracts/model.js';
import { ImportancePenalty } from '../../src/strategies/penalty.js';

beforeAll(async () => {
  await selectBackend('auto');
});

describe('quadratic importance penalty', () => {
  it("sums tasks' terms as one (value and gradient of the term-by-term sum), the gradient also in closed form", () => {
    const rng = new Rng(7);
    const shape = [5, 3];
    const n = 15;
    const draw = (f: () => number) => Float64Array.from({ length: n }, f);
    // Four tasks' importances (some entries 0 in every task) and anchors, and the current weights.
    const omegas = Array.from({ length: 4 }, (_, k) =>
      draw(() => (rng.uniform(0, 1) < 0.2 ? 0 : rng.uniform(0, 1) * 10 ** (k - 3))),
    );
    for (const o of omegas) o[0] = 0;
    const anchors = Array.from({ length: 4 }, () => draw(() => rng.normal()));
    const theta = draw(() => rng.normal());
    const penalty = new ImportancePenalty();
    for (let k = 0; k < 4; k++) {
      const params = new Map([['w', tf.variable(tf.tensor(Float32Array.from(anchors[k]), shape))]]);
      penalty.consolidate({ w: tf.tensor(Float32Array.from(omegas[k]), shape) }, { params } as unknown as Model, false);
      params.get('w')!.dispose();
    }
    let want = 0;
    const wantGrad = new Float64Array(n);
    for (let k = 0; k < 4; k++) {
      for (let i = 0; i < n; i++) {
        const d = Math.fround(theta[i]) - Math.fround(anchors[k][i]);
        want += Math.fround(omegas[k][i]) * d * d;
        wantGrad[i] += 2 * Math.fround(omegas[k][i]) * d;
      }
    }
    tf.tidy(() => {
      const w = tf.tensor(Float32Array.from(theta), shape);
      const combined = tf.valueAndGrad((x: tf.Tensor) => penalty.term({ w: x }) as tf.Scalar)(w);
      const byTerm = tf.valueAndGrad((x: tf.Tensor) => penalty.termByTerm({ w: x }) as tf.Scalar)(w);
      for (const r of [combined, byTerm]) {
        expect(Math.abs(r.value.dataSync()[0] - want)).toBeLessThan(1e-5 * want);
        const g = r.grad.dataSync();
        for (let i = 0; i < n; i++)
          expect(Math.abs(g[i] - wantGrad[i])).toBeLessThan(1e-5 * Math.max(1e-3, Math.abs(wantGrad[i])));
      }
      // The closed-form gradient (what RWalk and EWC++ subtract) matches the same reference.
      for (const scale of [1, 0.25]) {
        const closed = penalty.gradient({ w }, scale)!.w.dataSync();
        for (let i = 0; i < n; i++)
          expect(Math.abs(closed[i] - scale * wantGrad[i])).toBeLessThan(
            1e-5 * Math.max(1e-3, Math.abs(scale * wantGrad[i])),
          );
      }
    });
    penalty.dispose();
  });
});
