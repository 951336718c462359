// What the methods that learn on a pre-trained backbone share (SimpleCIL,
// APER, RanPAC, SLCA): the check that the model has pre-trained weights and
// features, passes over a task's training examples that sum per-batch terms
// on the backend (one read-back per task, never in a step), and the class
// prototypes with their cosine classifier (SimpleCIL and APER, as LAMDA-PILOT
// builds them).
import { tf } from '../tensor/tf.js';
import type { Model } from '../contracts/model.js';
import type { Snapshot } from '../contracts/snapshot.js';
import type { TrainingSet } from '../contracts/strategy.js';
import { copyFeatures } from '../contracts/data.js';

/** Features of a batch of examples (the model's own, or a method's embedding of them). */
export type Embedding = (x: tf.Tensor) => tf.Tensor;

/** Batch size of the passes over a task's examples: their activations, not a step's, are what is alive. */
export const PASS_BATCH = 500;

/**
 * The model a pre-trained-model strategy works on: it must have pre-trained
 * weights (`model: { name: 'pretrained', … }`) and expose its features.
 */
export function pretrainedBackbone(
  model: Model,
  strategy: string,
): Model & { features: NonNullable<Model['features']> } {
  if (!model.pretrained)
    throw new Error(
      `strategy '${strategy}' learns on a pre-trained backbone, and the model has no pre-trained weights ` +
        `(${model.describe()}); use model 'pretrained' with the path of a saved model`,
    );
  if (!model.features) throw new Error(`strategy '${strategy}' needs a model that exposes its features`);
  return model as Model & { features: NonNullable<Model['features']> };
}

/**
 * Σ over a training set's rows of `terms(x, labels)`, in batches of `batch`
 * rows, each in its own tidy; the sums come back as tensors the caller owns.
 * `rows`: which rows, in this order (default all).
 */
export function sumOverRows(
  set: TrainingSet,
  terms: (x: tf.Tensor2D, labels: tf.Tensor1D) => tf.Tensor[],
  rows?: Int32Array,
  batch = PASS_BATCH,
): tf.Tensor[] {
  const size = set.features.length / Math.max(set.count, 1);
  const order = rows ?? Int32Array.from({ length: set.count }, (_, i) => i);
  let sums: tf.Tensor[] | undefined;
  for (let start = 0; start < order.length; start += batch) {
    const n = Math.min(batch, order.length - start);
    const x = new Float32Array(n * size);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const r = order[start + i];
      copyFeatures(set.features.subarray(r * size, (r + 1) * size), x, i * size);
      labels[i] = set.labels[r];
    }
    const next: tf.Tensor[] = tf.tidy(() => {
      const parts = terms(tf.tensor2d(x, [n, size]), tf.tensor1d(labels, 'int32'));
      return sums ? parts.map((p, i) => tf.add(sums![i], p)) : parts;
    });
    if (sums) tf.dispose(sums);
    sums = next;
  }
  if (!sums) throw new Error('no training examples to sum over');
  return sums;
}

/**
 * `f(x)` for the given rows of a training set (a [rows, dim] map), computed in
 * batches and read back: the held-out rows RanPAC scores its ridge
 * candidates on.
 */
export function readRows(
  set: TrainingSet,
  rows: Int32Array,
  f: (x: tf.Tensor2D) => tf.Tensor,
  batch = PASS_BATCH,
): { values: Float32Array; dim: number } {
  const size = set.features.length / Math.max(set.count, 1);
  const parts: Float32Array[] = [];
  let dim = 0;
  for (let start = 0; start < rows.length; start += batch) {
    const n = Math.min(batch, rows.length - start);
    const x = new Float32Array(n * size);
    for (let i = 0; i < n; i++)
      copyFeatures(set.features.subarray(rows[start + i] * size, (rows[start + i] + 1) * size), x, i * size);
    const out = tf.tidy(() => f(tf.tensor2d(x, [n, size])));
    dim = out.shape[1]!;
    parts.push(out.dataSync() as Float32Array);
    out.dispose();
  }
  const values = new Float32Array(rows.length * dim);
  let at = 0;
  for (const p of parts) {
    values.set(p, at);
    at += p.length;
  }
  return { values, dim };
}

/** −1e9 on the outputs of classes with no prototype or classifier row yet, 0 on the others. */
export function absentMask(present: ArrayLike<number>): tf.Tensor1D {
  return tf.tensor1d(Array.from(present, (n) => (n > 0 ? 0 : -1e9)));
}

/**
 * Class prototypes — the mean embedding of each class's training examples —
 * and the cosine classifier over them: score_c = cos(e(x), p_c), with −1e9
 * for classes not seen yet. A class met in several tasks averages over all
 * its examples.
 */
export class PrototypeClassifier {
  private sums?: tf.Tensor2D;
  private counts: Float64Array;
  private normalised?: tf.Tensor2D;
  private absent?: tf.Tensor1D;

  constructor(private readonly outputs: number) {
    this.counts = new Float64Array(outputs);
  }

  /** Adds a task's examples to their classes' prototypes. */
  add(set: TrainingSet, embed: Embedding): void {
    const [sums] = sumOverRows(set, (x, labels) => [tf.unsortedSegmentSum(embed(x), labels, this.outputs)]);
    for (let i = 0; i < set.count; i++) this.counts[set.labels[i]] += 1;
    const total = this.sums ? tf.tidy(() => tf.add(this.sums!, sums)) : sums;
    if (this.sums) {
      this.sums.dispose();
      sums.dispose();
    }
    this.sums = total as tf.Tensor2D;
    this.refresh();
  }

  private refresh(): void {
    tf.dispose([this.normalised!, this.absent!].filter(Boolean));
    const sums = this.sums!;
    // The mean's direction is the sum's: cosine scores need no division by the count.
    this.normalised = tf.tidy(() => tf.div(sums, tf.maximum(tf.norm(sums, 2, 1, true), 1e-12)));
    this.absent = absentMask(this.counts);
  }

  get ready(): boolean {
    return this.sums !== undefined;
  }

  /** [n, outputs] cosine scores of embeddings [n, dim]. */
  scores(embedding: tf.Tensor): tf.Tensor {
    const e = tf.div(embedding, tf.maximum(tf.norm(embedding, 2, 1, true), 1e-12));
    return tf.add(tf.matMul(e, this.normalised!, false, true), this.absent!);
  }

  /** The class means (for inspection and tests): [outputs, dim], zero rows for unseen classes. */
  means(): tf.Tensor2D {
    return tf.tidy(() =>
      tf.div(
        this.sums!,
        tf.tensor2d(
          Array.from(this.counts, (n) => Math.max(n, 1)),
          [this.outputs, 1],
        ),
      ),
    );
  }

  snapshot(): Snapshot {
    return this.sums ? { sums: this.sums, counts: Array.from(this.counts) } : {};
  }

  restore(saved: Snapshot): void {
    if (!saved.sums) return;
    this.sums?.dispose();
    this.sums = tf.keep(tf.clone(saved.sums as tf.Tensor2D));
    this.counts = Float64Array.from(saved.counts as number[]);
    this.refresh();
  }

  dispose(): void {
    tf.dispose([this.sums!, this.normalised!, this.absent!].filter(Boolean));
    this.sums = this.normalised = this.absent = undefined;
  }
}
