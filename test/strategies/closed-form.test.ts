// The closed-form solves against independent float64 computations: the ridge
// weights against a least-squares solve of the augmented system by
// Householder QR (no normal equations, no Cholesky), λ's choice against a
// brute-force search, the class covariance against its definition.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/tensor/rng.js';
import {
  cholesky,
  classCovariance,
  RIDGE_CANDIDATES,
  ridgeSolve,
  selectRidge,
} from '../../src/strategies/closed-form.js';
import { leastSquares } from './least-squares.js';

function randomMatrix(rng: Rng, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.normal()));
}

/** HᵀH and HᵀY in float64, row-major. */
function moments(h: number[][], y: number[][]): { gram: Float64Array; q: Float64Array } {
  const m = h[0].length;
  const k = y[0].length;
  const gram = new Float64Array(m * m);
  const q = new Float64Array(m * k);
  for (let r = 0; r < h.length; r++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) gram[i * m + j] += h[r][i] * h[r][j];
      for (let c = 0; c < k; c++) q[i * k + c] += h[r][i] * y[r][c];
    }
  }
  return { gram, q };
}

const oneHot = (labels: number[], k: number) =>
  labels.map((l) => Array.from({ length: k }, (_, c) => (c === l ? 1 : 0)));

describe('cholesky', () => {
  it('factors a symmetric positive-definite matrix as L·Lᵀ with L lower triangular', () => {
    const a = new Float64Array([4, 12, -16, 12, 37, -43, -16, -43, 98]);
    // The textbook example: L = [[2, 0, 0], [6, 1, 0], [-8, 5, 3]].
    expect(Array.from(cholesky(a, 3))).toEqual([2, 0, 0, 6, 1, 0, -8, 5, 3]);
  });

  it('refuses a matrix that is not positive definite', () => {
    expect(() => cholesky(new Float64Array([1, 2, 2, 1]), 2)).toThrow(/not positive definite/);
  });
});

describe('ridgeSolve', () => {
  it('equals the least-squares solution of [H; √λ·I]·W = [Y; 0] computed by QR in float64', () => {
    const rng = new Rng(3);
    const m = 7;
    const k = 3;
    const h = randomMatrix(rng, 40, m);
    const labels = Array.from({ length: 40 }, () => rng.int(k));
    const y = oneHot(labels, k);
    const { gram, q } = moments(h, y);
    for (const ridge of [1e-6, 0.5, 30]) {
      const w = ridgeSolve({ gram, q, m, k }, ridge);
      const augmented = [
        ...h,
        ...Array.from({ length: m }, (_, i) => Array.from({ length: m }, (_, j) => (i === j ? Math.sqrt(ridge) : 0))),
      ];
      const expected = leastSquares(augmented, [
        ...y,
        ...Array.from({ length: m }, () => new Array<number>(k).fill(0)),
      ]);
      for (let i = 0; i < m; i++) for (let c = 0; c < k; c++) expect(w[i * k + c]).toBeCloseTo(expected[i][c], 10);
    }
  });
});

describe('selectRidge', () => {
  it("picks the candidate with the smallest held-out squared error, as a brute-force search over RanPAC's grid", () => {
    const rng = new Rng(5);
    const m = 6;
    const k = 4;
    // Noisy labels and few fitting rows: neither extreme of the grid wins.
    const fit = randomMatrix(rng, 12, m);
    const fitLabels = Array.from({ length: 12 }, () => rng.int(k));
    const held = randomMatrix(rng, 30, m);
    const heldLabels = Array.from({ length: 30 }, () => rng.int(k));
    const { gram, q } = moments(fit, oneHot(fitLabels, k));
    const heldOut = { h: Float64Array.from(held.flat()), labels: Int32Array.from(heldLabels), rows: 30 };
    const { ridge, losses } = selectRidge({ gram, q, m, k }, heldOut);
    const brute = RIDGE_CANDIDATES.map((r) => {
      const w = leastSquares(
        [
          ...fit,
          ...Array.from({ length: m }, (_, i) => Array.from({ length: m }, (_, j) => (i === j ? Math.sqrt(r) : 0))),
        ],
        [...oneHot(fitLabels, k), ...Array.from({ length: m }, () => new Array<number>(k).fill(0))],
      );
      let sum = 0;
      held.forEach((row, n) => {
        for (let c = 0; c < k; c++) {
          const out = row.reduce((s, v, i) => s + v * w[i][c], 0);
          sum += (out - (heldLabels[n] === c ? 1 : 0)) ** 2;
        }
      });
      return sum / (30 * k);
    });
    losses.forEach((l, i) => expect(l).toBeCloseTo(brute[i], 8));
    expect(ridge).toBe(RIDGE_CANDIDATES[brute.indexOf(Math.min(...brute))]);
  });

  it('picks the smallest λ when the features determine the labels, the largest when they say nothing', () => {
    const rng = new Rng(8);
    const m = 4;
    const k = 4;
    const labelsOf = (n: number) => Array.from({ length: n }, () => rng.int(k));
    // Features: the label's one-hot plus a little noise — an exact fit exists and every shrinkage costs.
    const informative = (labels: number[]) => oneHot(labels, k).map((r) => r.map((v) => v + 0.01 * rng.normal()));
    const fitLabels = labelsOf(60);
    const heldLabels = labelsOf(30);
    const good = moments(informative(fitLabels), oneHot(fitLabels, k));
    const heldGood = {
      h: Float64Array.from(informative(heldLabels).flat()),
      labels: Int32Array.from(heldLabels),
      rows: 30,
    };
    expect(selectRidge({ ...good, m, k }, heldGood).ridge).toBeLessThanOrEqual(1e-2);
    // Features independent of the labels: whatever is fitted is noise, and shrinking everything to 0 is best.
    const noiseFit = randomMatrix(rng, 8, m);
    const bad = moments(noiseFit, oneHot(labelsOf(8), k));
    const heldBad = {
      h: Float64Array.from(randomMatrix(rng, 30, m).flat()),
      labels: Int32Array.from(heldLabels),
      rows: 30,
    };
    expect(selectRidge({ ...bad, m, k }, heldBad).ridge).toBeGreaterThanOrEqual(1e2);
  });
});

describe('classCovariance', () => {
  it('is the unbiased sample covariance plus εI, and its factor reproduces it', () => {
    const rng = new Rng(11);
    const d = 3;
    const xs = randomMatrix(rng, 9, d).map((r) => [r[0] + 5, 2 * r[1] + r[0], r[2] - 1]);
    const mean = [0, 1, 2].map((j) => xs.reduce((s, r) => s + r[j], 0) / xs.length);
    const scatter = new Float64Array(d * d);
    for (const r of xs)
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) scatter[i * d + j] += (r[i] - mean[i]) * (r[j] - mean[j]);
    const { covariance, factor } = classCovariance(scatter, d, xs.length, 1e-4);
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) {
        const direct = xs.reduce((s, r) => s + (r[i] - mean[i]) * (r[j] - mean[j]), 0) / (xs.length - 1);
        expect(covariance[i * d + j]).toBeCloseTo(direct + (i === j ? 1e-4 : 0), 12);
        let llt = 0;
        for (let k = 0; k < d; k++) llt += factor[i * d + k] * factor[j * d + k];
        expect(llt).toBeCloseTo(covariance[i * d + j], 12);
      }
    expect(() => classCovariance(scatter, d, 1, 1e-4)).toThrow(/at least 2/);
  });
});
