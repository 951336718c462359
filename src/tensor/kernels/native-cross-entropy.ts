// The base loss on native TensorFlow: softmax cross-entropy of logits [n, c]
// against integer labels [n] as TensorFlow's
// SparseSoftmaxCrossEntropyWithLogits, which returns every row's loss and its
// gradient in one op. tfjs's softmaxCrossEntropy takes about forty TensorFlow
// ops and uploads forward and backward (one-hot targets, log-sum-exp, the
// reduction, and the gradient of each); this takes four to six.
import { tf } from '../tf.js';
import { opsOf } from './native-ops.js';

/**
 * The mean over rows, or with `weights` Σ weight · loss / total; the gradient
 * is the op's per-row gradient times dy / n (or weight · dy / total).
 */
export function nativeCrossEntropy(
  labels: tf.Tensor,
  logits: tf.Tensor,
  weights?: { values: tf.Tensor; total: number },
): tf.Scalar {
  const ops = opsOf(tf.backend());
  const { TF_ATTR_TYPE, TF_INT32 } = ops.backend.binding;
  const n = logits.shape[0];
  const classes = labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
  const loss = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x] = args as tf.Tensor[];
    const save = args[1] as tf.GradSaveFunc;
    const [perRow, backprop] = ops.runMany('SparseSoftmaxCrossEntropyWithLogits', [x, classes], 2, [
      { name: 'Tlabels', type: TF_ATTR_TYPE, value: TF_INT32 },
    ]);
    save([backprop]);
    // TensorFlow's Mean directly: tfjs-node's Mean kernel adds a Cast of its input, one more kernel per step.
    const mean = () =>
      ops.run(
        'Mean',
        [perRow, tf.tensor1d([0], 'int32')],
        [ops.attr('keep_dims', 'bool', false), { name: 'Tidx', type: TF_ATTR_TYPE, value: TF_INT32 }],
      );
    return {
      value: weights ? tf.div(tf.sum(tf.mul(perRow, weights.values)), weights.total) : mean(),
      gradFunc: (dy: tf.Tensor, [rowGrads]: tf.Tensor[]) => {
        const scale = weights ? tf.reshape(tf.mul(weights.values, tf.div(dy, weights.total)), [n, 1]) : tf.div(dy, n);
        return [tf.mul(rowGrads, scale)];
      },
    };
  });
  return loss(logits) as tf.Scalar;
}
