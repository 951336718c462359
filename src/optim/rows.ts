// Per-row reductions used by the projection methods (FTP, PGD, TPGM, SPD). A
// row is one output unit: the slice of a parameter at one index of its row
// axis. A 1-D parameter (a bias) is a single row, as in the FTP reference.
import { tf } from '../tensor/tf.js';

/** The axes a row sum keeps: the row axis, for tensors of rank 2 and up. */
function keptAxes(rank: number, rowAxis: number): number[] {
  return rank <= 1 ? [] : [rowAxis];
}

function reduceAxes(x: tf.Tensor, rowAxis: number): number[] {
  const kept = keptAxes(x.rank, rowAxis);
  return Array.from({ length: x.rank }, (_, i) => i).filter((i) => !kept.includes(i));
}

/** A parameter's row axis: its entry in `rowAxis`, else the first axis. */
export function rowAxisOf(rowAxis: Readonly<Record<string, number>>, name: string): number {
  return rowAxis[name] ?? 0;
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
export function projectRows(
  anchor: tf.Tensor,
  offset: tf.Tensor,
  norms: tf.Tensor,
  radius: tf.Tensor | number,
): tf.Tensor {
  return tf.add(anchor, tf.mul(tf.clipByValue(tf.div(radius, norms), 0, 1), offset));
}

/** ‖x‖₂ as sqrt(Σx²): tf.norm's pow(|x|, 2) path is several times slower on wasm. */
export function l2Norm(x: tf.Tensor): tf.Tensor {
  return tf.sqrt(tf.sum(tf.square(x)));
}

/**
 * The rows of several tensors laid end to end in one vector, so that the
 * small per-row arithmetic of a projection method runs once for all tensors
 * instead of once per tensor (each op has a fixed cost on native TensorFlow).
 * A "part" is what gets one constraint: a tensor.
 */
export interface RowLayout {
  readonly names: readonly string[];
  /** Rows of each tensor in the joint vector. */
  readonly rows: readonly number[];
  /** Axes each tensor's row sums reduce. */
  readonly reduce: readonly number[][];
  /** The shape a tensor's row vector takes to broadcast against it (undefined: [rows] broadcasts as it is). */
  readonly broadcast: readonly (number[] | undefined)[];
  /** For each row of the joint vector, the index of its part. */
  readonly rowTensor: Int32Array;
  /**
   * Shape [parts, most rows]: each part's row indices, padded with its own first row (so a max over them is the
   * part's max).
   */
  readonly tensorRows: Int32Array;
  /** Rows of each part. */
  readonly partRows: readonly number[];
  readonly mostRows: number;
}

export function rowLayout(
  shapes: Readonly<Record<string, readonly number[]>>,
  rowAxis: Readonly<Record<string, number>>,
): RowLayout {
  const names = Object.keys(shapes);
  const rows: number[] = [];
  const reduce: number[][] = [];
  const broadcast: (number[] | undefined)[] = [];
  for (const name of names) {
    const shape = shapes[name];
    const kept = keptAxes(shape.length, rowAxisOf(rowAxis, name));
    rows.push(kept.length === 0 ? 1 : shape[kept[0]]);
    reduce.push(shape.map((_, i) => i).filter((i) => !kept.includes(i)));
    // Row sums come out with the kept axes only; they broadcast as they are when those are the trailing axes.
    const trailing = kept.length === 0 || kept.every((a, j) => a === shape.length - kept.length + j);
    // A scalar's one-row vector [1] must become a scalar again, or the projected parameter would come back as [1].
    broadcast.push(
      shape.length === 0
        ? []
        : trailing && kept.length <= 1
          ? undefined
          : shape.map((d, i) => (kept.includes(i) ? d : 1)),
    );
  }
  const partRows = rows;
  const total = rows.reduce((a, b) => a + b, 0);
  const mostRows = Math.max(1, ...rows);
  const rowTensor = new Int32Array(total);
  const tensorRows = new Int32Array(partRows.length * mostRows);
  let start = 0;
  partRows.forEach((r, p) => {
    rowTensor.fill(p, start, start + r);
    for (let j = 0; j < mostRows; j++) tensorRows[p * mostRows + j] = start + (j < r ? j : 0);
    start += r;
  });
  return { names, rows, reduce, broadcast, rowTensor, tensorRows, partRows, mostRows };
}

/** Each tensor's row sums as one vector of its rows (a 1-D tensor is one row: its sum, as [1]). */
export function rowSums(x: tf.Tensor, layout: RowLayout, i: number): tf.Tensor {
  const axes = layout.reduce[i];
  if (x.rank === 0) return tf.reshape(x, [1]);
  const sums = axes.length ? tf.sum(x, axes, x.rank === 1) : x;
  return sums.rank > 1 ? tf.reshape(sums, [-1]) : sums;
}
