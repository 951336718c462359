// The base loss on native TensorFlow (SparseSoftmaxCrossEntropyWithLogits)
// against tfjs's softmax cross-entropy on one-hot targets: the value and the
// gradient with respect to the logits, plain and row-weighted, with masked
// logits (−1e9) as task-IL and class-IL runs give them.
import { beforeEach, describe, expect, it } from 'vitest';
import { tf } from '../../../src/tensor/tf.js';
import { selectBackend } from '../../../src/tensor/backend.js';
import { nativeCrossEntropy } from '../../../src/tensor/kernels/native-cross-entropy.js';

const backend = await selectBackend((process.env.ANCHORAGE_BACKEND as 'auto' | undefined) ?? 'auto');

const CLASSES = 6;
const labels = tf.tensor1d([0, 5, 2, 2, 3, 1, 4, 0], 'int32');
/** Logits with the outputs of another task masked, and one confident row. */
const logits = tf.tidy(() =>
  tf.add(
    tf.mul(tf.randomNormal([8, CLASSES], 0, 1, 'float32', 3), 4),
    tf.tensor2d([
      [0, 0, 0, 0, -1e9, 0],
      ...Array.from({ length: 7 }, (_, i) => (i === 2 ? [0, 0, 30, 0, 0, 0] : Array(CLASSES).fill(0))),
    ]),
  ),
);
const weights = { values: tf.tensor1d([1, 0, 0.5, 2, 1, 1, 0, 1]), total: 6.5 };

/** tfjs's ops: mean, or Σ weight · loss / total, of −Σ onehot ⊙ logSoftmax. */
function reference(x: tf.Tensor, weighted: boolean): tf.Scalar {
  const perRow = tf.neg(tf.sum(tf.mul(tf.oneHot(labels, CLASSES), tf.logSoftmax(x)), 1));
  return weighted ? tf.div(tf.sum(tf.mul(perRow, weights.values)), weights.total) : tf.mean(perRow);
}

function valueAndGrad(f: (x: tf.Tensor) => tf.Scalar): [number, number[]] {
  const { value, grads } = tf.tidy(() => {
    const { value, grad } = tf.valueAndGrad(f)(logits);
    return { value, grads: grad };
  });
  const out: [number, number[]] = [value.dataSync()[0], Array.from(grads.dataSync())];
  tf.dispose([value, grads]);
  return out;
}

describe('native cross-entropy', () => {
  beforeEach((ctx) => {
    if (backend.name !== 'tensorflow')
      ctx.skip(`the native loss runs on native TensorFlow only; this run is on ${backend.name}`);
  });

  it.each([false, true])('value and logit gradient equal tfjs’s ops (row-weighted: %s)', (weighted) => {
    const before = tf.memory().numTensors;
    const [v, g] = valueAndGrad((x) => nativeCrossEntropy(labels, x, weighted ? weights : undefined));
    const [rv, rg] = valueAndGrad((x) => reference(x, weighted));
    expect(tf.memory().numTensors).toBe(before);
    expect(v).toBeGreaterThan(0.5);
    expect(Math.abs(v - rv) / rv).toBeLessThan(1e-6);
    g.forEach((gi, i) => expect(Math.abs(gi - rg[i])).toBeLessThan(1e-6));
    // Rows of weight 0 get no gradient.
    if (weighted) expect(g.slice(CLASSES, 2 * CLASSES).every((gi) => gi === 0)).toBe(true);
  });

  it('labels of another integer type are accepted (cast to int32)', () => {
    const asFloat = tf.cast(labels, 'float32');
    const v = tf.tidy(() => nativeCrossEntropy(asFloat, logits).dataSync()[0]);
    const rv = tf.tidy(() => reference(logits, false).dataSync()[0]);
    expect(Math.abs(v - rv) / rv).toBeLessThan(1e-6);
    asFloat.dispose();
  });
});
