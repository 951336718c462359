// One epoch's batches on the backend: the task's labels and task ids gathered once into the epoch's order, then
// cut into batches; its examples either gathered the same way (rows held as floats) or, where they are held as bytes
// (src/tensor/feature-rows.ts), read by each step's indices, which are cut from the epoch's order instead. On native
// TensorFlow the epoch is split into all its batches by one op (SplitV: rows of aligned width share the gathered
// buffer, nothing is copied), because a slice per step is a kernel plus two uploads of its bounds, for each of
// rows, labels and task ids. Elsewhere a batch is sliced when its step comes: a split there copies, and would hold
// a second copy of the epoch's rows at once. The cut batches live until the epoch ends: they share one buffer, so
// releasing each after its step would free nothing sooner.
import { tf } from '../tensor/tf.js';
import type { FeatureRows } from '../tensor/feature-rows.js';

/** The task's examples on the backend: its rows, [n] labels and task ids. */
export interface EpochRows {
  x: FeatureRows;
  y: tf.Tensor;
  ids: tf.Tensor;
}

/** The rows of one step. */
export interface BatchRows {
  x: tf.Tensor;
  labels: tf.Tensor;
  taskIds: tf.Tensor;
}

/** An epoch's tensors in training order: x the rows (held as floats) or the rows' indices (held as bytes). */
interface Ordered {
  x: tf.Tensor;
  y: tf.Tensor;
  ids: tf.Tensor;
}

export class EpochBatches {
  /** Elsewhere: the epoch's tensors in order, sliced per step. */
  private readonly ordered?: Ordered;
  /** Native TensorFlow: every batch of the epoch, cut once. */
  private readonly cut?: { x: tf.Tensor[]; y: tf.Tensor[]; ids: tf.Tensor[] };

  constructor(
    private readonly examples: EpochRows,
    order: Int32Array,
    private readonly batchSize: number,
  ) {
    const ordered = tf.tidy(() => {
      const idx = tf.tensor1d(order, 'int32');
      const x = examples.x.floats ? tf.gather(examples.x.floats, idx) : idx;
      return { x, y: tf.gather(examples.y, idx), ids: tf.gather(examples.ids, idx) };
    });
    const sizes = Array.from({ length: Math.ceil(order.length / batchSize) }, (_, s) =>
      Math.min(batchSize, order.length - s * batchSize),
    );
    if (tf.getBackend() !== 'tensorflow' || sizes.length < 2) {
      this.ordered = ordered;
      return;
    }
    this.cut = { x: tf.split(ordered.x, sizes), y: tf.split(ordered.y, sizes), ids: tf.split(ordered.ids, sizes) };
    tf.dispose([ordered.x, ordered.y, ordered.ids]);
  }

  /**
   * Step s's rows (0-based within the epoch), as new tensors of the caller's scope: cut batches are handed out as
   * clones, which share their data and run no kernel; rows held as bytes are decoded at their indices.
   */
  rows(s: number): BatchRows {
    const { x: rows } = this.examples;
    if (this.cut) {
      const x = rows.floats ? tf.clone(this.cut.x[s]) : rows.gather(this.cut.x[s]);
      return { x, labels: tf.clone(this.cut.y[s]), taskIds: tf.clone(this.cut.ids[s]) };
    }
    const { x, y, ids } = this.ordered!;
    const start = s * this.batchSize;
    const size = Math.min(this.batchSize, y.shape[0] - start);
    return {
      x: rows.floats ? tf.slice(x, [start, 0], [size, rows.width]) : rows.gather(tf.slice(x, [start], [size])),
      labels: tf.slice(y, [start], [size]),
      taskIds: tf.slice(ids, [start], [size]),
    };
  }

  dispose(): void {
    if (this.ordered) tf.dispose([this.ordered.x, this.ordered.y, this.ordered.ids]);
    if (this.cut) tf.dispose([...this.cut.x, ...this.cut.y, ...this.cut.ids]);
  }
}
