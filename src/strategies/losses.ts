// Loss pieces strategies build their terms from (inside the gradient tape).
import { tf } from '../tensor/tf.js';
import type { RowSlice } from '../contracts/strategy.js';

/** Mean cross-entropy of logits (masks already added) against int labels. */
export function meanCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, logits.shape[1]!), logits);
}

/** The rows of a [rows, …] tensor that one of a strategy's row sets occupies. */
export function rowsOf(t: tf.Tensor, slice: RowSlice): tf.Tensor {
  return t.rank === 1 ? tf.slice(t, [slice.start], [slice.count]) : tf.slice(t, [slice.start, 0], [slice.count, -1]);
}

/** Mean over rows and outputs of the squared difference (DER's logit matching: PyTorch's MSELoss, mean reduction). */
export function meanSquaredError(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.mean(tf.square(tf.sub(a, b)));
}

/** Σ_names ⟨a, b⟩ over named tensors (a scalar tensor). */
export function dot(a: Readonly<Record<string, tf.Tensor>>, b: Readonly<Record<string, tf.Tensor>>): tf.Tensor {
  let total: tf.Tensor = tf.scalar(0);
  for (const n of Object.keys(a)) total = tf.add(total, tf.sum(tf.mul(a[n], b[n])));
  return total;
}
