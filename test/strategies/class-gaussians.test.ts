// SLCA's class statistics against float64 computations on the same features, and its samples against them.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import { Rng } from '../../src/tensor/rng.js';
import { ClassGaussians, COVARIANCE_EPSILON } from '../../src/strategies/class-gaussians.js';
import type { TrainingSet } from '../../src/contracts/strategy.js';

beforeAll(async () => {
  await selectBackend('auto');
});

/** Correlated 3-d features around class-dependent means far from the origin (cancellation would show). */
function features(rng: Rng, count: number): TrainingSet {
  const values = new Float32Array(count * 3);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 2 === 0 ? 1 : 3;
    const [a, b, c] = [rng.normal(), rng.normal(), rng.normal()];
    values.set([100 * labels[i] + a, 50 + a + 0.5 * b, -20 + 2 * c], i * 3);
  }
  return { features: values, labels, taskIds: new Int32Array(count), count };
}

function direct(set: TrainingSet, label: number): { mean: number[]; covariance: number[][] } {
  const rows: number[][] = [];
  for (let i = 0; i < set.count; i++)
    if (set.labels[i] === label) rows.push(Array.from(set.features.subarray(i * 3, i * 3 + 3)));
  const mean = [0, 1, 2].map((j) => rows.reduce((s, r) => s + r[j], 0) / rows.length);
  const covariance = [0, 1, 2].map((i) =>
    [0, 1, 2].map(
      (j) =>
        rows.reduce((s, r) => s + (r[i] - mean[i]) * (r[j] - mean[j]), 0) / (rows.length - 1) +
        (i === j ? COVARIANCE_EPSILON : 0),
    ),
  );
  return { mean, covariance };
}

describe('ClassGaussians', () => {
  it('keeps each class mean and covariance + εI as float64 computes them from the features', () => {
    const set = features(new Rng(1), 400);
    const g = new ClassGaussians(4);
    g.add(set, (x) => x);
    expect(g.classes).toEqual([1, 3]);
    for (const c of [1, 3]) {
      const expected = direct(set, c);
      const { mean, covariance } = tf.tidy(() => {
        const m = g.moments(c);
        return { mean: Array.from(m.mean.dataSync()), covariance: m.covariance.arraySync() };
      });
      mean.forEach((v, j) => expect(v).toBeCloseTo(expected.mean[j], 3));
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 3; j++) expect(covariance[i][j]).toBeCloseTo(expected.covariance[i][j], 3);
    }
    g.dispose();
  });

  it('samples with the class mean (scaled as asked) and covariance, the same from the same generator state', () => {
    const set = features(new Rng(2), 400);
    const g = new ClassGaussians(4);
    g.add(set, (x) => x);
    const expected = direct(set, 3);
    const n = 20000;
    const samples = tf.tidy(() => g.sample(3, n, new Rng(5), 0.9).arraySync());
    const mean = [0, 1, 2].map((j) => samples.reduce((s, r) => s + r[j], 0) / n);
    mean.forEach((v, j) =>
      expect(Math.abs(v - 0.9 * expected.mean[j])).toBeLessThan(0.05 * Math.sqrt(expected.covariance[j][j]) + 1e-3),
    );
    const cov01 = samples.reduce((s, r) => s + (r[0] - mean[0]) * (r[1] - mean[1]), 0) / (n - 1);
    expect(cov01).toBeCloseTo(expected.covariance[0][1], 1);
    const again = tf.tidy(() => g.sample(3, 5, new Rng(5), 0.9).arraySync());
    expect(again).toEqual(samples.slice(0, 5));
    const restored = new ClassGaussians(4);
    restored.restore(g.snapshot());
    expect(restored.classes).toEqual([1, 3]);
    expect(tf.tidy(() => restored.sample(3, 5, new Rng(5), 0.9).arraySync())).toEqual(samples.slice(0, 5));
    g.dispose();
    restored.dispose();
  });
});
