// Gradients of a model's loss with respect to its parameters, outside the
// step's own tape: what MIR's virtual update and GSS's per-example gradient
// similarities need. All inside the caller's tidy; nothing is read back.
import { tf } from '../tensor/tf.js';
import type { Model } from '../contracts/model.js';

/** The model's parameters as plain tensors, in a fixed order, and how to call the model with other values. */
export interface ParameterList {
  readonly names: readonly string[];
  readonly values: readonly tf.Tensor[];
  /** Raw outputs for `x` with these parameter values (evaluation mode: no dropout, batch norm's running statistics). */
  outputs(values: readonly tf.Tensor[], x: tf.Tensor): tf.Tensor;
}

export function parameterList(model: Model): ParameterList {
  if (!model.apply)
    throw new Error('this strategy needs a model that can run with other parameter values (Model.apply)');
  const names = [...model.params.keys()];
  const apply = model.apply.bind(model);
  return {
    names,
    values: names.map((n) => model.params.get(n)!),
    outputs: (values, x) => apply(Object.fromEntries(names.map((n, i) => [n, values[i]])), x, false),
  };
}

/** Cross-entropy of each row: [rows]. */
export function rowCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  const onehot = tf.oneHot(labels, logits.shape[1]!);
  return tf.losses.softmaxCrossEntropy(onehot, logits, undefined, undefined, tf.Reduction.NONE);
}

/** Gradients of the mean cross-entropy on (x, labels) at `at` (default: the current values), one per parameter. */
export function crossEntropyGradients(
  p: ParameterList,
  x: tf.Tensor,
  labels: tf.Tensor,
  at: readonly tf.Tensor[] = p.values,
): tf.Tensor[] {
  const f = (...values: tf.Tensor[]) => tf.mean(rowCrossEntropy(p.outputs(values, x), labels));
  return tf.grads(f)([...at]);
}

/** Each row's gradient of its own cross-entropy, flattened and concatenated over parameters: [rows, parameters]. */
export function exampleGradients(p: ParameterList, x: tf.Tensor, labels: tf.Tensor): tf.Tensor2D {
  const n = x.shape[0];
  const rows: tf.Tensor[] = [];
  for (let i = 0; i < n; i++) {
    const xi = tf.slice(x, [i, 0], [1, -1]);
    const yi = tf.slice(labels, [i], [1]);
    rows.push(tf.concat(crossEntropyGradients(p, xi, yi).map((g) => tf.reshape(g, [-1]))));
  }
  return tf.stack(rows) as tf.Tensor2D;
}

/** Cosine similarity of every row of `a` with every row of `b`: [rows of a, rows of b]. */
export function cosineSimilarities(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const unit = (m: tf.Tensor2D) => tf.div(m, tf.maximum(tf.norm(m, 'euclidean', 1, true), 1e-12));
  return tf.matMul(unit(a), unit(b), false, true);
}
