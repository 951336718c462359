// Per-class Gaussian statistics of a backbone's features, as SLCA's classifier
// alignment keeps them (Zhang et al., ICCV 2023): after a task, each of its
// classes' mean μ and covariance Σ + 1e-4·I over its training examples'
// features, computed on the backend in two passes (means, then the centred
// scatter, never the cancellation-prone Σxxᵀ − nμμᵀ) and factored on the host
// in float64 (src/strategies/closed-form.ts); sampling is μ + z·Lᵀ with
// standard normal z from the caller's seeded generator.
import { tf } from '../tensor/tf.js';
import type { Rng } from '../tensor/rng.js';
import type { Snapshot } from '../contracts/snapshot.js';
import type { TrainingSet } from '../contracts/strategy.js';
import { classCovariance } from './closed-form.js';
import { sumOverRows, type Embedding } from './frozen-backbone.js';

/** SLCA's ε on the covariance's diagonal. */
export const COVARIANCE_EPSILON = 1e-4;

interface ClassStats {
  readonly mean: tf.Tensor1D;
  /** Cholesky factor L of Σ + εI, [d, d] lower triangular. */
  readonly factor: tf.Tensor2D;
}

export class ClassGaussians {
  private readonly stats = new Map<number, ClassStats>();

  constructor(private readonly outputs: number) {}

  /** The classes with statistics, in increasing order (a checkpoint restores the same order). */
  get classes(): number[] {
    return [...this.stats.keys()].sort((a, b) => a - b);
  }

  /** Computes (or replaces) the statistics of every class in `set` from `embed`'s features. */
  add(set: TrainingSet, embed: Embedding): void {
    const counts = new Float64Array(this.outputs);
    for (let i = 0; i < set.count; i++) counts[set.labels[i]] += 1;
    const classes = [...new Set(set.labels)].sort((a, b) => a - b);
    const [sums] = sumOverRows(set, (x, labels) => [tf.unsortedSegmentSum(embed(x), labels, this.outputs)]);
    const means = tf.tidy<tf.Tensor2D>(() =>
      tf.div(
        sums,
        tf.tensor2d(
          Array.from(counts, (n) => Math.max(n, 1)),
          [this.outputs, 1],
        ),
      ),
    );
    sums.dispose();
    const scatters = sumOverRows(set, (x, labels) => {
      const f = embed(x);
      return classes.map((c) => {
        const mask = tf.expandDims(tf.cast(tf.equal(labels, c), 'float32'), 1);
        const centred = tf.mul(tf.sub(f, tf.slice(means, [c, 0], [1, -1])), mask);
        return tf.matMul(centred, centred, true, false);
      });
    });
    const d = means.shape[1];
    const meanValues = means.arraySync();
    classes.forEach((c, i) => {
      const { factor } = classCovariance(Float64Array.from(scatters[i].dataSync()), d, counts[c], COVARIANCE_EPSILON);
      this.stats.get(c)?.mean.dispose();
      this.stats.get(c)?.factor.dispose();
      this.stats.set(c, { mean: tf.tensor1d(meanValues[c]), factor: tf.tensor2d(Float32Array.from(factor), [d, d]) });
    });
    tf.dispose([means, ...scatters]);
  }

  /**
   * `n` samples of class `c`'s Gaussian with its mean scaled by `meanScale` (SLCA's reference code shrinks older
   * tasks' means): [n, d], inside the caller's tidy.
   */
  sample(c: number, n: number, rng: Rng, meanScale = 1): tf.Tensor2D {
    const { mean, factor } = this.stats.get(c)!;
    const d = mean.shape[0];
    const z = tf.tensor2d(
      Float32Array.from({ length: n * d }, () => rng.normal()),
      [n, d],
    );
    return tf.add(tf.matMul(z, factor, false, true), tf.mul(mean, meanScale));
  }

  /** The mean and the covariance L·Lᵀ of class `c` (for tests and inspection), inside the caller's tidy. */
  moments(c: number): { mean: tf.Tensor1D; covariance: tf.Tensor2D } {
    const { mean, factor } = this.stats.get(c)!;
    return { mean, covariance: tf.matMul(factor, factor, false, true) };
  }

  snapshot(): Snapshot {
    return Object.fromEntries([...this.stats].map(([c, s]) => [String(c), { mean: s.mean, factor: s.factor }]));
  }

  restore(saved: Snapshot): void {
    this.dispose();
    for (const [c, s] of Object.entries(saved)) {
      const { mean, factor } = s as Snapshot;
      this.stats.set(Number(c), { mean: tf.clone(mean as tf.Tensor1D), factor: tf.clone(factor as tf.Tensor2D) });
    }
  }

  dispose(): void {
    for (const s of this.stats.values()) tf.dispose([s.mean, s.factor]);
    this.stats.clear();
  }
}
