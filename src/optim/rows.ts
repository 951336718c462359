// Per-row reductions used by the projection methods (FTP, PGD, TPGM). A row
// is one output unit: the slice of a parameter at one index of its row axis.
// A 1-D parameter (a bias) is a single row, as in the FTP reference.
import { tf } from '../tensor/tf.js';

function reduceAxes(x: tf.Tensor, rowAxis: number): number[] {
  if (x.rank <= 1) return x.rank === 1 ? [0] : [];
  return Array.from({ length: x.rank }, (_, i) => i).filter((i) => i !== rowAxis);
}

/** Sum over each row, kept broadcastable against `x`. */
export function rowSum(x: tf.Tensor, rowAxis: number): tf.Tensor {
  const axes = reduceAxes(x, rowAxis);
  return axes.length ? tf.sum(x, axes, true) : x;
}

/** L1 norm of each row plus 1e-8 (the reference's guard against zero rows). */
export function rowL1(x: tf.Tensor, rowAxis: number): tf.Tensor {
  return tf.add(rowSum(tf.abs(x), rowAxis), 1e-8);
}

/** Row-wise projection onto L1 balls of radius `radius` around `anchor`: w = a + clamp(r/‖c‖₁, 0, 1)·c. */
export function projectRows(anchor: tf.Tensor, offset: tf.Tensor, norms: tf.Tensor, radius: tf.Tensor | number): tf.Tensor {
  return tf.add(anchor, tf.mul(tf.clipByValue(tf.div(radius, norms), 0, 1), offset));
}

/** ‖x‖₂ as sqrt(Σx²): tf.norm's pow(|x|, 2) path is several times slower on wasm. */
export function l2Norm(x: tf.Tensor): tf.Tensor {
  return tf.sqrt(tf.sum(tf.square(x)));
}
