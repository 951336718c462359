// RanPAC's classifier (McDonnell et al., NeurIPS 2023) over any embedding:
// a fixed random projection W [d, M] with N(0, 1) entries and a ReLU,
// h = relu(e(x)·W); each task adds its examples to G = Σhhᵀ and Q = Σhyᵀ
// (one-hot targets), and the weights are the ridge solution (G + λI)⁻¹Q with λ
// chosen per task as the paper's code does: fit on 80 % of the task's
// examples (its own G and Q, in a seeded order), score the other 20 %. The
// backend forms the products; src/strategies/closed-form.ts solves in float64.
import { tf } from '../tensor/tf.js';
import type { Rng } from '../tensor/rng.js';
import type { Snapshot } from '../contracts/snapshot.js';
import type { TrainingSet } from '../contracts/strategy.js';
import { ridgeSolve, selectRidge } from './closed-form.js';
import { absentMask, readRows, sumOverRows, type Embedding } from './frozen-backbone.js';

/** The part of each task's examples the λ candidates are fitted on; the rest scores them. */
export const RIDGE_FIT_FRACTION = 0.8;

export class RidgeClassifier {
  private readonly projection: tf.Tensor2D;
  private gram: Float64Array;
  private q: Float64Array;
  private counts: Float64Array;
  private readonly chosen: number[] = [];
  private weights?: tf.Tensor2D;
  private absent?: tf.Tensor1D;

  /**
   * `dim`: the embedding's width; `width`: M; `ridge`: a fixed λ, or 0 to choose it per task. `rng` draws the
   * projection now and each task's fitting order from a fork of its own, so a resumed run repeats both.
   */
  constructor(
    dim: number,
    private readonly width: number,
    private readonly outputs: number,
    private readonly ridge: number,
    private readonly rng: Rng,
  ) {
    const draw = rng.fork('projection');
    this.projection = tf.tensor2d(
      Float32Array.from({ length: dim * width }, () => draw.normal()),
      [dim, width],
    );
    this.gram = new Float64Array(width * width);
    this.q = new Float64Array(width * outputs);
    this.counts = new Float64Array(outputs);
  }

  /** h = relu(e·W) for embeddings e [n, d]. */
  project(embedding: tf.Tensor): tf.Tensor2D {
    return tf.relu(tf.matMul(embedding as tf.Tensor2D, this.projection)) as tf.Tensor2D;
  }

  /** The λ chosen (or given) at each task so far. */
  get ridges(): readonly number[] {
    return this.chosen;
  }

  get ready(): boolean {
    return this.weights !== undefined;
  }

  /** The classifier's weights [M, outputs] (owned here). */
  get weightTensor(): tf.Tensor2D | undefined {
    return this.weights;
  }

  /** Adds a task's examples and solves for the weights; `label` seeds the order of its fitting split. */
  add(set: TrainingSet, embed: Embedding, label: string): void {
    const m = this.width;
    const order = this.rng.fork(label).permutation(set.count);
    const cut = Math.floor(set.count * RIDGE_FIT_FRACTION);
    const fitRows = order.subarray(0, cut);
    const heldRows = order.subarray(cut);
    const fit = this.moments(set, embed, fitRows);
    const held = this.moments(set, embed, heldRows);
    for (let i = 0; i < this.gram.length; i++) this.gram[i] += fit.gram[i] + held.gram[i];
    for (let i = 0; i < this.q.length; i++) this.q[i] += fit.q[i] + held.q[i];
    for (let i = 0; i < set.count; i++) this.counts[set.labels[i]] += 1;
    if (this.ridge > 0) {
      this.chosen.push(this.ridge);
    } else {
      // The paper's code fits the candidates on the task's own examples, not on the accumulated G and Q.
      const h = readRows(set, heldRows, (x) => this.project(embed(x)));
      const labels = Int32Array.from(heldRows, (r) => set.labels[r]);
      const system = { gram: fit.gram, q: fit.q, m, k: this.outputs };
      this.chosen.push(selectRidge(system, { h: h.values, labels, rows: heldRows.length }).ridge);
    }
    this.solve();
  }

  /** [n, outputs] scores of embeddings [n, d]; −1e9 for classes no task has shown yet. */
  scores(embedding: tf.Tensor): tf.Tensor {
    return tf.add(tf.matMul(this.project(embedding), this.weights!), this.absent!);
  }

  /** HᵀH and HᵀY of some rows, read back in float64. */
  private moments(set: TrainingSet, embed: Embedding, rows: Int32Array): { gram: Float64Array; q: Float64Array } {
    const m = this.width;
    if (!rows.length) return { gram: new Float64Array(m * m), q: new Float64Array(m * this.outputs) };
    const sums = sumOverRows(
      set,
      (x, labels) => {
        const h = this.project(embed(x));
        return [tf.matMul(h, h, true, false), tf.matMul(h, tf.oneHot(labels, this.outputs), true, false)];
      },
      rows,
    );
    const [gram, q] = sums.map((t) => Float64Array.from(t.dataSync()));
    tf.dispose(sums);
    return { gram, q };
  }

  private solve(): void {
    tf.dispose([this.weights!, this.absent!].filter(Boolean));
    const w = ridgeSolve({ gram: this.gram, q: this.q, m: this.width, k: this.outputs }, this.chosen.at(-1)!);
    this.weights = tf.tensor2d(Float32Array.from(w), [this.width, this.outputs]);
    this.absent = absentMask(this.counts);
  }

  /** G and Q bit for bit (float64 as bytes), the counts and the λ so far; the projection comes from the seed. */
  snapshot(): Snapshot {
    return {
      gram: new Uint8Array(this.gram.buffer.slice(0)),
      q: new Uint8Array(this.q.buffer.slice(0)),
      counts: Array.from(this.counts),
      ridges: [...this.chosen],
    };
  }

  restore(saved: Snapshot): void {
    const float64 = (v: unknown) => new Float64Array(Uint8Array.from(v as Uint8Array).buffer);
    this.gram = float64(saved.gram);
    this.q = float64(saved.q);
    this.counts = Float64Array.from(saved.counts as number[]);
    this.chosen.splice(0, this.chosen.length, ...(saved.ridges as number[]));
    if (this.chosen.length) this.solve();
  }

  dispose(): void {
    tf.dispose([this.projection, this.weights!, this.absent!].filter(Boolean));
    this.weights = this.absent = undefined;
  }
}
