// GEM's quadratic program against a float64 brute-force solution of its dual.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import { gemProject } from '../../plugins/strategies/gem.js';
import { subsets } from '../../src/strategies/gem-qp.js';
import { Rng } from '../../src/tensor/rng.js';

const values = (t: tf.Tensor) => Array.from(t.dataSync());

beforeAll(async () => {
  await selectBackend('auto');
});

/** The GEM dual in float64 by brute force over active sets (Gaussian elimination with pivoting). */
function gemReference(G: number[][], g: number[], margin: number, eps: number): number[] {
  const t = G.length;
  const P = G.map((a) => G.map((b) => a.reduce((s, x, i) => s + x * b[i], 0)));
  for (let i = 0; i < t; i++) P[i][i] += eps;
  const q = G.map((a) => a.reduce((s, x, i) => s + x * g[i], 0));
  if (q.every((x) => x >= 0)) return g;
  const c = q.map((qi, i) => qi + margin * P[i].reduce((s, x) => s + x, 0));
  let best: number[] | undefined;
  let bestObj = Infinity;
  for (let mask = 0; mask < 1 << t; mask++) {
    const S = [...Array(t).keys()].filter((i) => (mask >> i) & 1);
    const u = new Array(t).fill(0);
    if (S.length) {
      const A = S.map((i) => [...S.map((j) => P[i][j]), -c[i]]);
      for (let k = 0; k < S.length; k++) {
        let piv = k;
        for (let r = k + 1; r < S.length; r++) if (Math.abs(A[r][k]) > Math.abs(A[piv][k])) piv = r;
        [A[k], A[piv]] = [A[piv], A[k]];
        for (let r = 0; r < S.length; r++) {
          if (r === k) continue;
          const f = A[r][k] / A[k][k];
          for (let col = k; col <= S.length; col++) A[r][col] -= f * A[k][col];
        }
      }
      S.forEach((i, k) => (u[i] = A[k][S.length] / A[k][k]));
    }
    if (u.some((x) => x < -1e-12)) continue;
    const obj =
      0.5 * u.reduce((s, ui, i) => s + ui * P[i].reduce((a, p, j) => a + p * u[j], 0), 0) +
      u.reduce((s, ui, i) => s + ui * c[i], 0);
    if (obj < bestObj) {
      bestObj = obj;
      best = u;
    }
  }
  const v = best!.map((x) => x + margin);
  return g.map((gi, k) => gi + v.reduce((s, vi, i) => s + vi * G[i][k], 0));
}

describe('GEM quadratic program', () => {
  it('matches a float64 brute-force solution of the dual on random small cases (t = 1…4)', () => {
    const rng = new Rng(11);
    let checked = 0;
    for (let trial = 0; trial < 40; trial++) {
      const t = 1 + (trial % 4);
      const p = 6;
      const G = Array.from({ length: t }, () => Array.from({ length: p }, () => rng.normal()));
      const g = Array.from({ length: p }, () => rng.normal());
      const margin = trial % 2 ? 0.5 : 0;
      const expected = gemReference(G, g, margin, 1e-3);
      const got = tf.tidy(() => {
        const masks = tf.tensor2d(subsets(t), [1 << t, t]);
        const refs = G.map((row) => ({ w: tf.tensor1d(row.slice(0, 4)), b: tf.tensor1d(row.slice(4)) }));
        const out = gemProject(
          { w: tf.tensor1d(g.slice(0, 4)), b: tf.tensor1d(g.slice(4)) },
          refs,
          margin,
          1e-3,
          masks,
        );
        return [...values(out.w), ...values(out.b)];
      });
      const scale = Math.max(1, ...expected.map(Math.abs));
      for (let k = 0; k < p; k++) expect(Math.abs(got[k] - expected[k]) / scale).toBeLessThan(1e-3);
      checked += 1;
    }
    expect(checked).toBe(40);
  });

  it('the projected gradient no longer points against any memory gradient', () => {
    tf.tidy(() => {
      const masks = tf.tensor2d(subsets(2), [4, 2]);
      const refs = [{ w: tf.tensor1d([1, 0, 0]) }, { w: tf.tensor1d([0, 1, 0]) }];
      const out = gemProject({ w: tf.tensor1d([-1, -2, 3]) }, refs, 0, 0, masks);
      const w = values(out.w);
      // Hand-worked: the closest vector with w0 ≥ 0 and w1 ≥ 0 is (0, 0, 3).
      expect(w[0]).toBeCloseTo(0, 4);
      expect(w[1]).toBeCloseTo(0, 4);
      expect(w[2]).toBeCloseTo(3, 5);
    });
  });
});
