// A linear softmax model (logits = x·W, W [features, classes]) as the strategies that take gradients outside the step
// see a model: its parameters and how it runs with other values.
import { tf } from '../../../src/tensor/tf.js';
import type { Model } from '../../../src/contracts/model.js';

export function linearModel(weights: number[][]): Model {
  const w = tf.variable(tf.tensor2d(weights));
  const params = new Map([['w', w]]);
  return {
    params,
    rowAxis: { w: 1 },
    forward: (x) => tf.matMul(x, w),
    apply: (values, x) => tf.matMul(x, values.w),
    describe: () => 'linear',
    dispose: () => w.dispose(),
  };
}

/** Softmax cross-entropy of one row in float64: what the backend's float32 is checked against. */
export function crossEntropy64(logits: number[], label: number): number {
  const max = Math.max(...logits);
  const sum = logits.reduce((a, z) => a + Math.exp(z - max), 0);
  return Math.log(sum) + max - logits[label];
}
