// The validation batches an optimizer's periodic phase (TPGM) draws: each
// pass over the held-out examples gathers them in a fresh seeded order on
// the backend once; batches are then slices.
import { tf } from '../tensor/tf.js';
import type { Rng } from '../tensor/rng.js';
import type { TrainingSet } from '../contracts/strategy.js';
import { featureValues } from '../contracts/data.js';

export class ValidationBatches {
  private readonly x: tf.Tensor2D;
  private readonly y: tf.Tensor1D;
  private readonly ids: tf.Tensor1D;
  private xs?: tf.Tensor;
  private ys?: tf.Tensor;
  private is?: tf.Tensor;
  private cursor = 0;
  /** Batches drawn so far (what a checkpoint records, and a resume skips). */
  drawn = 0;

  constructor(
    private readonly data: TrainingSet,
    size: number,
    private readonly batchSize: number,
    private readonly rng: Rng,
  ) {
    this.x = tf.tensor2d(featureValues(data.features), [data.count, size]);
    this.y = tf.tensor1d(data.labels, 'int32');
    this.ids = tf.tensor1d(data.taskIds, 'int32');
    this.newPass();
  }

  private newPass(): void {
    tf.dispose([this.xs!, this.ys!, this.is!].filter(Boolean));
    const order = tf.tensor1d(this.rng.permutation(this.data.count), 'int32');
    this.xs = tf.keep(tf.gather(this.x, order));
    this.ys = tf.keep(tf.gather(this.y, order));
    this.is = tf.keep(tf.gather(this.ids, order));
    order.dispose();
    this.cursor = 0;
  }

  /** Passes over `batches` batches as `next` would draw them, without building them (resuming from a checkpoint). */
  skip(batches: number): void {
    if (batches <= 0) return;
    this.drawn += batches;
    let passes = 0;
    for (let k = 0; k < batches; k++) {
      if (this.cursor >= this.data.count) {
        passes += 1;
        this.cursor = 0;
      }
      this.cursor += Math.min(this.batchSize, this.data.count - this.cursor);
    }
    if (passes === 0) return;
    // Every pass but the last only advances the generator; the last is built as newPass would.
    for (let p = 1; p < passes; p++) this.rng.permutation(this.data.count);
    const cursor = this.cursor;
    this.newPass();
    this.cursor = cursor;
  }

  /** The next batch [x, labels, taskIds]; its tensors belong to the caller's tidy. */
  next(): [tf.Tensor, tf.Tensor, tf.Tensor] {
    if (this.cursor >= this.data.count) this.newPass();
    const size = Math.min(this.batchSize, this.data.count - this.cursor);
    const batch: [tf.Tensor, tf.Tensor, tf.Tensor] = [
      tf.slice(this.xs!, [this.cursor, 0], [size, -1]),
      tf.slice(this.ys!, [this.cursor], [size]),
      tf.slice(this.is!, [this.cursor], [size]),
    ];
    this.cursor += size;
    this.drawn += 1;
    return batch;
  }

  dispose(): void {
    tf.dispose([this.xs!, this.ys!, this.is!, this.x, this.y, this.ids].filter(Boolean));
  }
}
